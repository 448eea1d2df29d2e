"""The Vault-compatible door's wire conventions and its KV v1, seal and
userpass routes (docs/vault-compatibility.md), driven with plain HTTP the
way Vault's clients send it: X-Vault-Token, PUT as POST, LIST and
?list=<Go bool>, absent or null bodies, the envelope, 403 for any refusal,
404 {"errors":[]} for nothing there, Vault's help shape, HEAD on health.
The real binary, real SQLite, no mocks (test_vault_clients.py drives the
real client libraries)."""
import requests

from helpers import (PASSWORD, Server, assert_error, create_org, create_team, create_user, remember_secret,
                     set_member, token_for)

JSON = {"Content-Type": "application/json"}


def vault(s, method, path, tok=None, body=None, headers=None, raw=None):
    """A request the way a Vault client sends it: the token in X-Vault-Token."""
    h = dict(headers or {})
    if tok is not None:
        h["X-Vault-Token"] = tok
    if body is not None or raw is not None:
        h.setdefault("Content-Type", "application/json")
    return requests.request(method, s.url + path, headers=h, json=body, data=raw, timeout=10)


def world(s):
    """acme with admin alice, member bob and viewer vic in team payments; their tokens."""
    create_org(s, "acme")
    create_user(s, "acme", "alice", role="admin", password=PASSWORD)
    create_user(s, "acme", "bob")
    create_user(s, "acme", "vic")
    create_team(s, "acme", "payments")
    set_member(s, "acme", "payments", "bob", "member")
    set_member(s, "acme", "payments", "vic", "viewer")
    return {u: token_for(s, "acme", u, expires="P1D") for u in ("alice", "bob", "vic")}


def assert_envelope(r, status=200):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings",
                         "auth"}, body
    assert body["lease_id"] == "" and body["wrap_info"] is None
    return body


def assert_vault_404(r):
    assert r.status_code == 404, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"errors": []}


def test_kv_v1_round_trip_in_vaults_shapes(server):
    t = world(server)["alice"]
    # Write: POST and PUT alike, 204 with no body.
    r = vault(server, "POST", "/v1/secret/app/db", t, {"password": "hunter2-canary", "ttl": "1h"})
    assert r.status_code == 204 and r.content == b"", r.text
    assert vault(server, "PUT", "/v1/secret/app/api", t, {"key": "k"}).status_code == 204
    # Read: the value as data, the secret's own ttl as the lease.
    body = assert_envelope(vault(server, "GET", "/v1/secret/app/db", t))
    assert body["data"] == {"password": "hunter2-canary", "ttl": "1h"}
    assert body["lease_duration"] == 3600 and body["renewable"] is False and body["auth"] is None
    # Without a ttl: Vault's 768 hours.
    assert assert_envelope(vault(server, "GET", "/v1/secret/app/api", t))["lease_duration"] == 2764800
    # List: LIST, ?list= with Go's booleans, with and without the trailing slash.
    for method, path in [("LIST", "/v1/secret/app"), ("LIST", "/v1/secret/app/"), ("GET", "/v1/secret/app?list=1"),
                         ("GET", "/v1/secret/app?list=True"), ("GET", "/v1/secret/app/?list=t")]:
        assert assert_envelope(vault(server, method, path, t))["data"] == {"keys": ["api", "db"]}, (method, path)
    assert assert_envelope(vault(server, "LIST", "/v1/secret", t))["data"] == {"keys": ["app/"]}
    assert assert_envelope(vault(server, "GET", "/v1/secret?list=true", t))["data"] == {"keys": ["app/"]}
    # ?list=false is a read; a word Go does not parse is 400.
    assert_vault_404(vault(server, "GET", "/v1/secret/app?list=false", t))
    assert_error(vault(server, "GET", "/v1/secret/app?list=yes", t), 400, "not a boolean")
    # Nothing there: 404 {"errors": []}, for a read and for an empty folder.
    assert_vault_404(vault(server, "GET", "/v1/secret/app/none", t))
    assert_vault_404(vault(server, "LIST", "/v1/secret/empty", t))
    assert_vault_404(vault(server, "GET", "/v1/secret", t))
    # Delete: 204, and 204 again for what is not there.
    assert vault(server, "DELETE", "/v1/secret/app/db", t).status_code == 204
    assert vault(server, "DELETE", "/v1/secret/app/db", t).status_code == 204
    assert_vault_404(vault(server, "GET", "/v1/secret/app/db", t))
    # The native API sees the same secrets.
    native = server.get("/v1/orgs/acme/secrets/app/api", token=t)
    assert native.status_code == 200 and native.json()["data"] == {"key": "k"}


def test_bodies_absent_null_or_with_null_members(server):
    t = world(server)["alice"]
    for raw in (None, "", "null", " null\n", "{}"):
        r = vault(server, "PUT", "/v1/secret/empty", t, raw=raw if raw is not None else None,
                  headers=JSON if raw is not None else None)
        assert_error(r, 400, "missing data fields")
    # A member set to null is one not sent.
    assert vault(server, "PUT", "/v1/secret/nulls", t, {"a": "1", "b": None}).status_code == 204
    assert assert_envelope(vault(server, "GET", "/v1/secret/nulls", t))["data"] == {"a": "1"}
    # Not JSON, or not an object: 400 saying so; nothing written.
    assert_error(vault(server, "PUT", "/v1/secret/bad", t, raw="{nope"), 400, "not valid JSON")
    assert_error(vault(server, "PUT", "/v1/secret/bad", t, raw="[1]"), 400, "JSON object")
    assert_error(vault(server, "PUT", "/v1/secret/bad", t, {"n": 5}), 400, "string values")
    assert_vault_404(vault(server, "GET", "/v1/secret/bad", t))


def test_every_refusal_is_403_and_never_says_whether_the_path_exists(server):
    toks = world(server)
    alice, bob, vic = toks["alice"], toks["bob"], toks["vic"]
    assert vault(server, "PUT", "/v1/secret/org-only", alice, {"k": "v"}).status_code == 204
    assert vault(server, "PUT", "/v1/secret/teams/payments/app", alice, {"k": "v"}).status_code == 204
    # No token, a malformed one, an unknown one: 403 (the native API says 401).
    assert_error(vault(server, "GET", "/v1/secret/org-only"), 403, "missing client token")
    assert_error(vault(server, "GET", "/v1/secret/org-only", "garbage"), 403)
    fake = "lk_user_AAAAAAAAAAAA_" + "A" * 43
    assert_error(vault(server, "GET", "/v1/secret/org-only", fake), 403)
    assert server.get("/v1/orgs/acme/secrets/org-only").status_code == 401
    # A member may not read org-wide secrets: 403 whether the path exists or not.
    a = vault(server, "GET", "/v1/secret/org-only", bob)
    b = vault(server, "GET", "/v1/secret/no-such-thing", bob)
    assert a.status_code == b.status_code == 403 and a.json() == b.json()
    # Team secrets: members read, viewers list, strangers' and missing teams alike are 403.
    assert assert_envelope(vault(server, "GET", "/v1/secret/teams/payments/app", bob))["data"] == {"k": "v"}
    assert_error(vault(server, "GET", "/v1/secret/teams/payments/app", vic), 403, "secrets.read")
    assert assert_envelope(vault(server, "LIST", "/v1/secret/teams/payments", vic))["data"] == {"keys": ["app"]}
    create_team(server, "acme", "other")
    x = vault(server, "GET", "/v1/secret/teams/other/app", bob)
    y = vault(server, "GET", "/v1/secret/teams/nonexistent/app", bob)
    assert x.status_code == y.status_code == 403 and x.json() == y.json()
    assert_error(vault(server, "PUT", "/v1/secret/teams/payments/app", bob, {"k": "w"}), 403, "secrets.manage")
    # Bearer works in the door too; X-Vault-Token wins over it.
    r = requests.get(server.url + "/v1/secret/org-only", headers={"Authorization": "Bearer " + alice}, timeout=10)
    assert assert_envelope(r)["data"] == {"k": "v"}
    r = requests.get(server.url + "/v1/secret/org-only", timeout=10,
                     headers={"Authorization": "Bearer " + alice, "X-Vault-Token": bob})
    assert r.status_code == 403
    # X-Vault-Token is the door's: the native API does not read it.
    assert server.get("/v1/auth/whoami", headers={"X-Vault-Token": alice}).status_code == 401


def test_the_org_comes_from_the_token_or_the_namespace(make_server):
    s = make_server(extra=["--vault-default-org", "acme"])
    t = world(s)["alice"]
    assert vault(s, "PUT", "/v1/secret/x", t, {"k": "v"}).status_code == 204
    # A user may name only their own org.
    assert vault(s, "GET", "/v1/secret/x", t, headers={"X-Vault-Namespace": "acme/"}).status_code == 200
    assert_error(vault(s, "GET", "/v1/secret/x", t, headers={"X-Vault-Namespace": "globex"}), 403, "own")
    # The partner admin acts in the default org, or the one it names; a malformed name is 400.
    create_org(s, "globex")
    assert assert_envelope(vault(s, "GET", "/v1/secret/x", s.root_token))["data"] == {"k": "v"}
    assert_vault_404(vault(s, "GET", "/v1/secret/x", s.root_token, headers={"X-Vault-Namespace": "globex"}))
    assert_error(vault(s, "GET", "/v1/secret/x", s.root_token, headers={"X-Vault-Namespace": "Bad Name"}), 400)


def test_the_partner_admin_without_an_org_is_told_how_to_name_one(server):
    world(server)
    assert_error(vault(server, "GET", "/v1/secret/x", server.root_token), 400, "X-Vault-Namespace")


def test_help_has_vaults_shape_and_needs_a_token(server):
    t = world(server)["alice"]
    r = vault(server, "GET", "/v1/secret/app?help=1", t)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"help", "see_also", "openapi"} and "KV" in body["help"] and body["see_also"] == []
    assert_error(vault(server, "GET", "/v1/secret/app?help=1"), 403)


def test_health_head_and_vaults_status_code_parameters(tmp_path):
    from helpers import init_data_dir, unseal
    data = str(tmp_path / "data")
    keys, root = init_data_dir(data)
    s = Server(str(tmp_path), dev=False, data_dir=data).start()
    try:
        r = requests.head(s.url + "/v1/sys/health", timeout=10)
        assert r.status_code == 503 and r.content == b""
        assert requests.get(s.url + "/v1/sys/health?sealedcode=200", timeout=10).status_code == 200
        r = requests.head(s.url + "/v1/sys/health?sealedcode=299", timeout=10)
        assert r.status_code == 299
        assert_error(requests.get(s.url + "/v1/sys/health?sealedcode=abc", timeout=10), 400, "sealedcode")
        assert unseal(s, keys[0]).json()["sealed"] is False
        body = requests.get(s.url + "/v1/sys/health?standbyok=true", timeout=10).json()
        assert body["initialized"] is True and body["sealed"] is False and body["standby"] is False
        assert body["status"] == "ok" and "version" in body
        assert requests.get(s.url + "/v1/sys/health?activecode=204", timeout=10).status_code == 204
        assert requests.head(s.url + "/v1/sys/health", timeout=10).status_code == 200
    finally:
        assert s.stop() == 0


def test_userpass_login_is_the_native_login_in_vaults_shape(make_server):
    s = make_server(extra=["--vault-default-org", "acme"])
    world(s)
    r = vault(s, "POST", "/v1/auth/userpass/login/alice", body={"password": PASSWORD})
    body = assert_envelope(r)
    auth = body["auth"]
    remember_secret(auth["client_token"])
    assert auth["metadata"]["username"] == "alice" and auth["orphan"] is True
    assert auth["policies"] == ["default"] and 0 < auth["lease_duration"] <= 12 * 3600
    assert auth["accessor"] and auth["accessor"] in auth["client_token"]
    # The session token works in the door and natively.
    assert vault(s, "PUT", "/v1/secret/from-login", auth["client_token"], {"k": "v"}).status_code == 204
    assert s.get("/v1/auth/whoami", token=auth["client_token"]).json()["principal"]["name"] == "alice"
    # The namespace header names the org; PUT works as POST.
    assert vault(s, "PUT", "/v1/auth/userpass/login/alice", body={"password": PASSWORD},
                 headers={"X-Vault-Namespace": "acme"}).status_code == 200
    # Refused: Vault's 400, the same for a wrong password and a user nobody is.
    a = vault(s, "POST", "/v1/auth/userpass/login/alice", body={"password": "wrong"})
    b = vault(s, "POST", "/v1/auth/userpass/login/nobody", body={"password": "wrong"})
    assert a.status_code == b.status_code == 400 and a.json() == b.json()
    assert_error(vault(s, "POST", "/v1/auth/userpass/login/alice", body={}), 400, "password")
    assert_error(vault(s, "POST", "/v1/auth/userpass/login/alice", body={"password": PASSWORD},
                       headers={"X-Vault-Namespace": "globex"}), 400)
    # The password is in no log (the session's no-secret scan checks the rest).
    assert PASSWORD not in s.stderr()


def test_userpass_login_without_an_org_says_how_to_name_one(server):
    world(server)
    assert_error(vault(server, "POST", "/v1/auth/userpass/login/alice", body={"password": PASSWORD}), 400,
                 "X-Vault-Namespace")


POLICY = 'path "secret/app/*" {\n  capabilities = ["read", "list"]\n}\n'


def test_policies_written_read_listed_and_deleted_in_vaults_shapes(server):
    import base64
    toks = world(server)
    alice, bob = toks["alice"], toks["bob"]
    # Write: {"policy"} answers 204; the name is lowercased.
    r = vault(server, "PUT", "/v1/sys/policy/App-Read", alice, {"policy": POLICY})
    assert r.status_code == 204, r.text
    # The deprecated "rules" answers 200 with Vault's warning; base64 is taken too.
    body = assert_envelope(vault(server, "POST", "/v1/sys/policy/legacy", alice, {"name": "legacy", "rules": POLICY}))
    assert body["warnings"] == ["'rules' is deprecated, please use 'policy' instead"]
    enc = base64.b64encode(POLICY.encode()).decode()
    assert vault(server, "PUT", "/v1/sys/policy/encoded", alice, {"policy": enc}).status_code == 204
    # List: keys and policies, in data and at the top level, the built-ins included.
    body = vault(server, "GET", "/v1/sys/policy", alice).json()
    want = ["app-read", "default", "encoded", "legacy", "root"]
    assert body["data"]["keys"] == body["data"]["policies"] == body["keys"] == body["policies"] == want
    assert vault(server, "LIST", "/v1/sys/policies/acl", alice).json()["data"]["keys"] == want
    # Read: name and rules, in data and at the top; the newer path says "policy".
    body = vault(server, "GET", "/v1/sys/policy/app-read", alice).json()
    assert body["data"] == {"name": "app-read", "rules": POLICY} and body["rules"] == POLICY
    assert vault(server, "GET", "/v1/sys/policy/encoded", alice).json()["rules"] == POLICY
    assert vault(server, "GET", "/v1/sys/policies/acl/app-read", alice).json()["data"]["policy"] == POLICY
    assert_vault_404(vault(server, "GET", "/v1/sys/policy/none", alice))
    # A member reads (roles.view) but may not write or delete: 403.
    assert vault(server, "GET", "/v1/sys/policy/app-read", bob).status_code == 200
    assert_error(vault(server, "PUT", "/v1/sys/policy/mine", bob, {"policy": POLICY}), 403, "roles.manage")
    assert_error(vault(server, "DELETE", "/v1/sys/policy/app-read", bob), 403, "roles.manage")
    # Bad policies: 400 with line and column; root cannot be written, built-ins not deleted.
    r = vault(server, "PUT", "/v1/sys/policy/bad", alice, {"policy": 'path "secret/*" {\n  capabilities = ["fly"]\n}'})
    assert_error(r, 400, "line 2")
    assert_error(vault(server, "PUT", "/v1/sys/policy/bad", alice, {}), 400, "'policy'")
    assert_error(vault(server, "PUT", "/v1/sys/policy/root", alice, {"policy": POLICY}), 400, "root")
    assert_error(vault(server, "DELETE", "/v1/sys/policy/default", alice), 400, "default")
    assert_vault_404(vault(server, "GET", "/v1/sys/policy/bad", alice))
    # Delete: 204, and 204 again.
    assert vault(server, "DELETE", "/v1/sys/policy/legacy", alice).status_code == 204
    assert vault(server, "DELETE", "/v1/sys/policy/legacy", alice).status_code == 204
    assert_vault_404(vault(server, "GET", "/v1/sys/policy/legacy", alice))


def test_another_orgs_policies_are_out_of_reach(server):
    alice = world(server)["alice"]
    assert vault(server, "PUT", "/v1/sys/policy/secret-one", alice, {"policy": POLICY}).status_code == 204
    create_org(server, "globex")
    create_user(server, "globex", "gina", role="admin")
    gina = token_for(server, "globex", "gina", expires="P1D")
    # Gina's own org has no such policy; she cannot name acme's.
    assert_vault_404(vault(server, "GET", "/v1/sys/policy/secret-one", gina))
    assert vault(server, "GET", "/v1/sys/policy", gina).json()["data"]["keys"] == ["default", "root"]
    assert_error(vault(server, "GET", "/v1/sys/policy/secret-one", gina, headers={"X-Vault-Namespace": "acme"}), 403)
    # The partner admin names the org.
    r = vault(server, "GET", "/v1/sys/policy/secret-one", server.root_token, headers={"X-Vault-Namespace": "acme"})
    assert r.status_code == 200 and r.json()["rules"] == POLICY


def test_a_childs_vault_policies_hold_on_secret_paths_on_top_of_its_owners_rights(server):
    toks = world(server)
    alice, bob = toks["alice"], toks["bob"]
    assert vault(server, "PUT", "/v1/secret/app/db", alice, {"k": "v"}).status_code == 204
    assert vault(server, "PUT", "/v1/secret/teams/payments/svc", alice, {"k": "team"}).status_code == 204
    writer = ('path "secret/app/new-*" { capabilities = ["create"] }\n'
              'path "secret/app/db" { capabilities = ["update", "read"] }\n'
              'path "secret/teams/+/svc" { capabilities = ["read"] }\n'
              'path "secret/*" { capabilities = ["read"] }\n'
              'path "secret/app/hidden" { capabilities = ["deny"] }\n')
    assert vault(server, "PUT", "/v1/sys/policy/writer", alice, {"policy": writer}).status_code == 204

    def child(parent, policies):
        r = vault(server, "POST", "/v1/auth/token/create", parent, {"policies": policies, "ttl": "1h"})
        assert r.status_code == 200, r.text
        return r.json()["auth"]["client_token"]

    c = child(alice, ["writer"])
    # create where nothing is, update where something is: each only where granted.
    assert vault(server, "PUT", "/v1/secret/app/new-1", c, {"k": "v"}).status_code == 204
    assert_error(vault(server, "PUT", "/v1/secret/app/new-1", c, {"k": "w"}), 403, "update")
    assert vault(server, "PUT", "/v1/secret/app/db", c, {"k": "w"}).status_code == 204
    assert_error(vault(server, "PUT", "/v1/secret/app/other", c, {"k": "v"}), 403, "create")
    assert_error(vault(server, "DELETE", "/v1/secret/app/db", c), 403, "delete")
    assert_error(vault(server, "GET", "/v1/secret/app/hidden", c), 403)
    assert assert_envelope(vault(server, "GET", "/v1/secret/teams/payments/svc", c))["data"] == {"k": "team"}
    # No list capability anywhere: listing is refused.
    assert_error(vault(server, "LIST", "/v1/secret/app", c), 403, "list")
    # On top of the owner's rights: bob's child with the same policy reads no org-wide secret.
    b = child(bob, ["writer"])
    assert_error(vault(server, "GET", "/v1/secret/app/db", b), 403, "secrets.read")
    assert assert_envelope(vault(server, "GET", "/v1/secret/teams/payments/svc", b))["data"] == {"k": "team"}
    # The chains around it are closed: it cannot widen the policy it holds (sys/policy needs
    # update there), make a token, or reach the same secrets through the native API.
    wider = 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }'
    assert_error(vault(server, "PUT", "/v1/sys/policy/writer", c, {"policy": wider}), 403, "sys/policy/writer")
    assert_error(vault(server, "POST", "/v1/auth/token/create", c, {"policies": ["writer"]}), 403, "auth/token/create")
    assert_error(server.get("/v1/orgs/acme/secrets/app/db", token=c), 401, "Vault-compatible door")
    assert_error(server.get("/v1/auth/whoami", token=c), 401, "door's paths only")
    # Its own lookup is the default policy's, as in Vault.
    assert vault(server, "GET", "/v1/auth/token/lookup-self", c).status_code == 200
    # A policy changed takes effect on the next request; deleted, it grants nothing.
    assert vault(server, "DELETE", "/v1/sys/policy/writer", alice).status_code == 204
    assert_error(vault(server, "GET", "/v1/secret/teams/payments/svc", c), 403)
    # The parent (no Vault policies of its own) keeps its latchkey rights.
    assert vault(server, "GET", "/v1/secret/app/db", alice).status_code == 200
