"""Vault's own client libraries, unchanged, against the real binary: Debian's
python3-hvac (0.11.2) in this process, and node-vault (0.12.0, pinned in
package-lock.json) in a Node script (tests/vault/node_vault.js). No client
code is patched: what a client can see of a difference from Vault is a bug
(docs/vault-compatibility.md)."""
import json
import os
import subprocess

import hvac
import hvac.exceptions
import pytest

from helpers import PASSWORD, ROOT, Server, create_org, create_user, remember_secret, token_for

NODE_SCRIPT = os.path.join(ROOT, "tests", "vault", "node_vault.js")


def fresh_server(tmp_path, extra=None):
    """A server on an empty data dir: uninitialised, as Vault before `init`."""
    data = tmp_path / "data"
    data.mkdir()
    return Server(str(tmp_path), dev=False, data_dir=str(data), extra=extra).start()


def test_hvac_init_unseal_seal_and_health(tmp_path):
    s = fresh_server(tmp_path)
    try:
        c = hvac.Client(url=s.url)
        assert c.sys.is_initialized() is False
        # hvac reads health with HEAD and never raises there.
        assert c.sys.read_health_status().status_code == 501
        init = c.sys.initialize(secret_shares=3, secret_threshold=2)
        remember_secret(init["root_token"])
        assert len(init["keys"]) == 3 and len(init["keys_base64"]) == 3
        assert c.sys.is_initialized() is True
        with pytest.raises(hvac.exceptions.InvalidRequest):
            c.sys.initialize(secret_shares=1, secret_threshold=1)
        assert c.sys.is_sealed() is True
        sealed = c.sys.read_health_status(method="GET")  # not 200: hvac hands back the response
        assert sealed.status_code == 503 and sealed.json()["sealed"] is True
        # One share: progress; a reset starts over; then two shares unseal (base64 ones too).
        st = c.sys.submit_unseal_key(init["keys"][0])
        assert st["sealed"] is True and st["progress"] == 1 and st["t"] == 2 and st["n"] == 3
        st = c.sys.submit_unseal_key(reset=True)
        assert st["progress"] == 0
        with pytest.raises(hvac.exceptions.InvalidRequest):
            c.sys.submit_unseal_key("not a key")
        st = c.sys.submit_unseal_keys([init["keys_base64"][1], init["keys"][2]])
        assert st["sealed"] is False
        assert c.sys.read_seal_status()["sealed"] is False
        health = c.sys.read_health_status(method="GET")
        assert health["initialized"] is True and health["sealed"] is False and health["standby"] is False
        # Sealing: root only; anyone else is Forbidden; a sealed server is VaultDown.
        root = hvac.Client(url=s.url, token=init["root_token"])
        create_org(s, "acme", token=init["root_token"])
        create_user(s, "acme", "alice", role="admin", token=init["root_token"])
        alice = hvac.Client(url=s.url, token=token_for(s, "acme", "alice", token=init["root_token"], expires="P1D"))
        with pytest.raises(hvac.exceptions.Forbidden):
            alice.sys.seal()
        root.sys.seal()
        assert c.sys.is_sealed() is True
        with pytest.raises(hvac.exceptions.VaultDown):
            alice.secrets.kv.v1.read_secret("anything")
    finally:
        assert s.stop() == 0


def test_hvac_kv_v1_and_a_permission_denied(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin", password=PASSWORD)
    create_user(server, "acme", "bob")
    alice = hvac.Client(url=server.url, token=token_for(server, "acme", "alice", expires="P1D"))
    bob = hvac.Client(url=server.url, token=token_for(server, "acme", "bob", expires="P1D"))
    kv = alice.secrets.kv.v1
    # hvac's create_or_update reads first: a 404 leads to POST, a 200 to PUT.
    kv.create_or_update_secret("app/db", {"user": "orders", "password": "canary-hvac-1"})
    kv.create_or_update_secret("app/db", {"user": "orders", "password": "canary-hvac-2", "ttl": "2h"})
    kv.create_or_update_secret("app/cache", {"url": "redis://cache"})
    got = kv.read_secret("app/db")
    assert got["data"] == {"user": "orders", "password": "canary-hvac-2", "ttl": "2h"}
    assert got["lease_duration"] == 7200
    assert kv.read_secret("app/cache")["lease_duration"] == 2764800
    assert kv.list_secrets("app")["data"]["keys"] == ["cache", "db"]
    assert alice.list("secret")["data"]["keys"] == ["app/"]  # GET ?list=True
    assert alice.read("secret/app/nothing") is None  # 404 {"errors": []}
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret("app/nothing")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.list_secrets("empty")
    kv.delete_secret("app/cache")
    with pytest.raises(hvac.exceptions.InvalidPath):
        kv.read_secret("app/cache")
    # A member may not touch org-wide secrets: Forbidden, existing or not.
    with pytest.raises(hvac.exceptions.Forbidden):
        bob.secrets.kv.v1.read_secret("app/db")
    with pytest.raises(hvac.exceptions.Forbidden):
        bob.secrets.kv.v1.read_secret("app/none")
    with pytest.raises(hvac.exceptions.Forbidden):
        bob.secrets.kv.v1.create_or_update_secret("app/db", {"password": "mine"})
    # A token that is no token: Forbidden.
    with pytest.raises(hvac.exceptions.Forbidden):
        hvac.Client(url=server.url, token="lk_user_nope").secrets.kv.v1.read_secret("app/db")
    assert kv.read_secret("app/db")["data"]["password"] == "canary-hvac-2"


POLICY = 'path "secret/app/*" {\n  capabilities = ["read", "list"]\n}\n'


def test_hvac_policies(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    create_user(server, "acme", "bob")
    alice = hvac.Client(url=server.url, token=token_for(server, "acme", "alice", expires="P1D"))
    bob = hvac.Client(url=server.url, token=token_for(server, "acme", "bob", expires="P1D"))
    alice.sys.create_or_update_policy("app-read", POLICY)
    assert alice.sys.read_policy("app-read")["rules"] == POLICY
    assert alice.sys.read_policy("app-read")["data"]["rules"] == POLICY
    assert alice.sys.list_policies()["data"]["policies"] == ["app-read", "default", "root"]
    assert alice.sys.list_policies()["policies"] == ["app-read", "default", "root"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        alice.sys.create_or_update_policy("bad", 'path "x" { capabilities = ["fly"] }')
    with pytest.raises(hvac.exceptions.Forbidden):
        bob.sys.create_or_update_policy("mine", POLICY)
    alice.sys.delete_policy("app-read")
    with pytest.raises(hvac.exceptions.InvalidPath):
        alice.sys.read_policy("app-read")
    assert alice.sys.list_policies()["data"]["policies"] == ["default", "root"]


def test_hvac_tokens_and_the_policies_they_are_held_to(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    alice = hvac.Client(url=server.url, token=token_for(server, "acme", "alice", expires="P7D"))
    assert alice.is_authenticated() is True  # lookup-self
    alice.secrets.kv.v1.create_or_update_secret("app/db", {"password": "canary-hvac-3"})
    alice.secrets.kv.v1.create_or_update_secret("ops/key", {"k": "v"})
    alice.sys.create_or_update_policy("app-read", POLICY)
    # A child with a policy, a ttl and meta: the envelope's auth.
    created = alice.auth.token.create(policies=["app-read"], ttl="1h", meta={"team": "orders"},
                                      display_name="orders-app")
    auth = created["auth"]
    remember_secret(auth["client_token"])
    assert auth["policies"] == ["app-read", "default"] and auth["token_policies"] == ["app-read", "default"]
    assert auth["metadata"] == {"team": "orders"} and auth["lease_duration"] == 3600 and auth["renewable"] is True
    assert auth["accessor"] and auth["orphan"] is False
    child = hvac.Client(url=server.url, token=auth["client_token"])
    me = child.auth.token.lookup_self()["data"]
    assert me["accessor"] == auth["accessor"] and me["display_name"] == "token-orders-app"
    assert me["policies"] == ["app-read", "default"] and me["meta"] == {"team": "orders"}
    assert 3500 < me["ttl"] <= 3600 and me["renewable"] is True
    # Held to its policy: reads under secret/app/, nothing else, no writes.
    assert child.secrets.kv.v1.read_secret("app/db")["data"]["password"] == "canary-hvac-3"
    assert child.secrets.kv.v1.list_secrets("app")["data"]["keys"] == ["db"]
    with pytest.raises(hvac.exceptions.Forbidden):
        child.secrets.kv.v1.read_secret("ops/key")
    with pytest.raises(hvac.exceptions.Forbidden):
        child.secrets.kv.v1.create_or_update_secret("app/db", {"password": "mine"})
    # Its policy does not let it make tokens; native routes are not its either.
    with pytest.raises(hvac.exceptions.Forbidden):
        child.auth.token.create(policies=["app-read"])
    assert server.get("/v1/orgs/acme/secrets/ops/key", token=auth["client_token"]).status_code == 401
    # renew-self: a new ttl; the parent looks the child up by accessor.
    renewed = child.auth.token.renew_self(increment="30m")
    assert renewed["auth"]["client_token"] == auth["client_token"] and renewed["auth"]["lease_duration"] == 1800
    assert alice.auth.token.lookup_accessor(auth["accessor"])["data"]["id"] == ""
    # Revoking the child ends it at once: Forbidden on its next call.
    alice.auth.token.revoke(auth["client_token"])
    with pytest.raises(hvac.exceptions.Forbidden):
        child.secrets.kv.v1.read_secret("app/db")
    assert child.is_authenticated() is False


def test_hvac_userpass_login(make_server):
    s = make_server(extra=["--vault-default-org", "acme"])
    create_org(s, "acme")
    create_user(s, "acme", "alice", role="admin", password=PASSWORD)
    c = hvac.Client(url=s.url)
    auth = c.auth.userpass.login("alice", PASSWORD)
    remember_secret(auth["auth"]["client_token"])
    assert c.token == auth["auth"]["client_token"]  # hvac switches to the login's token
    c.secrets.kv.v1.create_or_update_secret("from-login", {"k": "v"})
    assert c.secrets.kv.v1.read_secret("from-login")["data"] == {"k": "v"}
    with pytest.raises(hvac.exceptions.InvalidRequest):
        hvac.Client(url=s.url).auth.userpass.login("alice", "wrong")


def test_node_vault_unchanged(make_server):
    s = make_server(extra=["--vault-default-org", "acme"])
    create_org(s, "acme")
    create_user(s, "acme", "alice", role="admin", password=PASSWORD)
    create_user(s, "acme", "bob")
    env = dict(os.environ, VAULT_ADDR=s.url, ADMIN_TOKEN=token_for(s, "acme", "alice", expires="P1D"),
               MEMBER_TOKEN=token_for(s, "acme", "bob", expires="P1D"), ALICE_PASSWORD=PASSWORD,
               NODE_PATH=os.path.join(ROOT, "node_modules"))
    r = subprocess.run(["node", NODE_SCRIPT], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    results = json.loads(r.stdout)
    for step, outcome in results.items():
        assert outcome == "ok", (step, outcome, results)
    assert len(results) >= 10, results
