"""Secrets: versioned key/value secrets per organisation and per team,
encrypted at rest under the unsealed keyring and bound to their row. CRUD,
versions and deletion, folders, who may do what (members read, owners
manage, viewers see metadata, service accounts nothing unless granted,
token policies narrow), bad paths and values, canaries that never appear
in the clear, tampering, and the seal."""
import os
import re
import subprocess

import pytest

from helpers import (BIN, assert_error, create_org, create_team, create_user, db, remember_secret, set_member,
                     token_for)

CANARY = "canary-3f9c1b7e-value-never-in-the-clear"


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    for u in ("olive", "mia", "vic", "nina"):
        create_user(server, "acme", u)
    create_team(server, "acme", "payments")
    set_member(server, "acme", "payments", "olive", "owner")
    set_member(server, "acme", "payments", "mia", "member")
    set_member(server, "acme", "payments", "vic", "viewer")
    tok = {u: token_for(server, "acme", u, expires="P30D") for u in ("alice", "olive", "mia", "vic", "nina")}
    return tok


ORG = "/v1/orgs/acme/secrets/"
TEAM = "/v1/orgs/acme/teams/payments/secrets/"


def test_write_read_versions_delete_and_list(server, acme):
    admin = acme["alice"]
    r = server.request("PUT", ORG + "db/primary", token=admin, json={"user": "app", "password": CANARY})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.json()["metadata"]["created_by"] == "user:alice"
    assert server.post(ORG + "db/primary", token=admin, json={"user": "app", "password": "v2"}).json()["version"] == 2
    got = server.get(ORG + "db/primary", token=admin).json()
    assert got["data"] == {"user": "app", "password": "v2"} and got["version"] == 2
    assert server.get(ORG + "db/primary?version=1", token=admin).json()["data"]["password"] == CANARY
    for p in ("db/replica", "api/key", "top"):
        assert server.request("PUT", ORG + p, token=admin, json={"v": "x"}).status_code == 200
    assert server.get("/v1/orgs/acme/secrets", token=admin).json() == {"keys": ["api/", "db/", "top"]}
    assert server.get(ORG + "db?list=true", token=admin).json() == {"keys": ["primary", "replica"]}
    assert server.get(ORG + "db/?list=true", token=admin).json() == {"keys": ["primary", "replica"]}
    # Delete: a new version that is a deletion; older ones stay readable.
    assert server.delete(ORG + "db/primary", token=admin).status_code == 204
    assert_error(server.get(ORG + "db/primary", token=admin), 404, "deleted")
    assert server.get(ORG + "db/primary?version=2", token=admin).json()["data"]["password"] == "v2"
    meta = server.get(ORG + "db/primary?metadata=true", token=admin).json()["metadata"]
    assert (meta["current_version"], meta["deleted"], meta["oldest_version"]) == (3, True, 1)
    assert [v["deleted"] for v in meta["versions"]] == [True, False, False]
    assert server.get(ORG + "db?list=true", token=admin).json() == {"keys": ["replica"]}
    assert_error(server.delete(ORG + "db/primary", token=admin), 404)
    # Written again after the deletion: version 4.
    assert server.request("PUT", ORG + "db/primary", token=admin, json={"p": "back"}).json()["version"] == 4
    assert_error(server.get(ORG + "nope", token=admin), 404, "no secret")
    assert_error(server.get(ORG + "db/primary?version=99", token=admin), 404)
    assert_error(server.get(ORG + "db/primary?version=0", token=admin), 400, "version")


def test_the_last_ten_versions_are_kept(server, acme):
    admin = acme["alice"]
    for i in range(1, 13):
        assert server.request("PUT", ORG + "rot", token=admin, json={"n": str(i)}).json()["version"] == i
    meta = server.get(ORG + "rot?metadata=true", token=admin).json()["metadata"]
    assert (meta["oldest_version"], meta["current_version"], len(meta["versions"])) == (3, 12, 10)
    assert_error(server.get(ORG + "rot?version=2", token=admin), 404)
    assert server.get(ORG + "rot?version=3", token=admin).json()["data"] == {"n": "3"}


def test_bad_paths_and_values_are_400_naming_the_rule(server, acme):
    admin = acme["alice"]
    # ("a/../b" never reaches the secrets: HTTP path normalisation makes it "b".)
    for p in ("a//b", "sp ace", "a%2Fb", "/".join(["d"] * 17), "q" * 600, "a/b$", "a/b:c"):
        r = server.request("PUT", ORG + p, token=admin, json={"v": "x"})
        assert r.status_code in (400, 404), (p, r.status_code, r.text)  # 404: the router refused it first
        if r.status_code == 400:
            assert "path" in r.text or "segment" in r.text, r.text
    assert server.request("PUT", ORG + "/".join(["d"] * 16), token=admin, json={"v": "x"}).status_code == 200
    for body in ([1, 2], {"n": 1}, {"n": {"x": "y"}}, {}, "text"):
        assert_error(server.request("PUT", ORG + "val", token=admin, json=body), 400, "JSON object")
    assert_error(server.request("PUT", ORG + "val", token=admin, data=b'{"k": "v", "k": "w"}',
                                headers={"Content-Type": "application/json"}), 400)
    assert_error(server.request("PUT", ORG + "val", token=admin, data=b'{"k": "v"}',
                                headers={"Content-Type": "text/plain"}), 400, "Content-Type")
    assert_error(server.request("PUT", ORG + "val", token=admin, data=b"{not json",
                                headers={"Content-Type": "application/json"}), 400)
    big = {"v": "x" * (64 * 1024)}
    assert server.request("PUT", ORG + "val", token=admin, json=big).status_code in (400, 413)
    assert_error(server.get(ORG + "val", token=admin), 404)  # nothing was written


def test_who_may_do_what(server, acme):
    t = acme
    assert server.request("PUT", TEAM + "ci/deploy", token=t["olive"], json={"key": CANARY}).status_code == 200
    # Members read, and only read.
    assert server.get(TEAM + "ci/deploy", token=t["mia"]).json()["data"] == {"key": CANARY}
    assert server.request("PUT", TEAM + "ci/deploy", token=t["mia"], json={"k": "v"}).status_code == 401
    assert server.delete(TEAM + "ci/deploy", token=t["mia"]).status_code == 401
    # Viewers list and see metadata, never values.
    assert server.get(TEAM + "ci?list=true", token=t["vic"]).json() == {"keys": ["deploy"]}
    assert server.get(TEAM + "ci/deploy?metadata=true", token=t["vic"]).status_code == 200
    r = server.get(TEAM + "ci/deploy", token=t["vic"])
    assert r.status_code == 401 and CANARY not in r.text
    # Outside the team: nothing, and org-wide secrets are the admins'.
    assert server.get(TEAM + "ci/deploy", token=t["nina"]).status_code in (401, 404)
    assert server.request("PUT", ORG + "x", token=t["olive"], json={"k": "v"}).status_code == 401
    assert server.get("/v1/orgs/acme/secrets", token=t["mia"]).status_code == 401
    # Org admins manage team secrets too.
    assert server.get(TEAM + "ci/deploy", token=t["alice"]).status_code == 200
    # A token narrowed to secrets.view lists but cannot read.
    narrow = server.post("/v1/tokens", token=t["mia"], json={"policies": ["secrets.view"], "expires": "P1D"}).json()
    remember_secret(narrow["token"])
    assert server.get(TEAM + "ci?list=true", token=narrow["token"]).status_code == 200
    assert server.get(TEAM + "ci/deploy", token=narrow["token"]).status_code == 401
    # Another org's admin: the team and its secrets answer as missing.
    create_org(server, "globex")
    create_user(server, "globex", "gus", role="admin")
    gus = token_for(server, "globex", "gus", expires="P1D")
    assert server.get(TEAM + "ci/deploy", token=gus).status_code == 404
    assert server.get("/v1/orgs/globex/teams/payments/secrets/ci/deploy", token=gus).status_code == 404


def test_service_accounts_get_no_secrets_unless_granted(server, acme):
    t = acme
    base = "/v1/orgs/acme/teams/payments/service-accounts"
    assert server.post(base, token=t["olive"], json={"name": "deployer"}).status_code == 200
    sa = server.post(base + "/deployer/tokens", token=t["olive"], json={"expires": "P1D"}).json()
    remember_secret(sa["token"])
    server.request("PUT", TEAM + "ci/deploy", token=t["olive"], json={"key": "v"})
    assert server.get(TEAM + "ci/deploy", token=sa["token"]).status_code == 401
    assert server.get(TEAM + "ci?list=true", token=sa["token"]).status_code == 401
    r = server.request("PUT", base + "/deployer/roles/team-member", token=t["olive"])
    assert r.status_code in (200, 204), r.text
    sa2 = server.post(base + "/deployer/tokens", token=t["olive"], json={"expires": "P1D"}).json()
    remember_secret(sa2["token"])
    assert server.get(TEAM + "ci/deploy", token=sa2["token"]).json()["data"] == {"key": "v"}
    assert server.request("PUT", TEAM + "ci/deploy", token=sa2["token"], json={"k": "v"}).status_code == 401


def test_canaries_never_reach_the_disk_logs_or_audit_in_the_clear(server, acme):
    admin = acme["alice"]
    for i in range(5):
        server.request("PUT", ORG + "canary/%d" % i, token=admin, json={"secret": "%s-%d" % (CANARY, i)})
        server.get(ORG + "canary/%d" % i, token=admin)
    server.delete(ORG + "canary/0", token=admin)
    blobs = []
    for name in os.listdir(server.data_dir):
        with open(os.path.join(server.data_dir, name), "rb") as f:
            blobs.append((name, f.read()))
    for name, data in blobs:
        assert CANARY.encode() not in data, name
    assert CANARY not in server.stderr() and CANARY not in server.stdout()
    out = subprocess.run([BIN, "operator", "audit", "export", "--data-dir", server.data_dir], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "canary/1" in out.stdout and CANARY not in out.stdout


def test_a_tampered_or_moved_value_fails_its_integrity_check(server, acme):
    admin = acme["alice"]
    server.request("PUT", ORG + "a", token=admin, json={"v": "alpha"})
    server.request("PUT", ORG + "b", token=admin, json={"v": "bravo"})
    con = db(server)
    try:
        # b's value copied into a's row: both valid ciphertexts, in the wrong row.
        con.execute("UPDATE secrets SET value = (SELECT value FROM secrets WHERE path = 'b') WHERE path = 'a'")
        con.commit()
    finally:
        con.close()
    r = server.get(ORG + "a", token=admin)
    assert_error(r, 500, "integrity")
    assert "bravo" not in r.text
    con = db(server)
    try:
        v = bytearray(con.execute("SELECT value FROM secrets WHERE path = 'b'").fetchone()[0])
        v[len(v) // 2] ^= 1
        con.execute("UPDATE secrets SET value = ? WHERE path = 'b'", (bytes(v),))
        con.commit()
    finally:
        con.close()
    assert_error(server.get(ORG + "b", token=admin), 500, "integrity")
    assert server.get("/v1/sys/health").status_code == 200  # and the server is fine


def test_sealed_secrets_answer_503(server, acme):
    admin = acme["alice"]
    server.request("PUT", ORG + "s", token=admin, json={"v": "x"})
    assert server.request("PUT", "/v1/sys/seal", token=server.root_token).status_code == 204
    assert_error(server.get(ORG + "s", token=admin), 503, "sealed")
    key = re.search(r"^Unseal key: ([0-9a-f]+)$", server.stdout(), re.M).group(1)
    assert server.request("PUT", "/v1/sys/unseal", json={"key": key},
                          headers={"Content-Type": "application/json"}).json()["sealed"] is False
    assert server.get(ORG + "s", token=admin).json()["data"] == {"v": "x"}


def test_the_kept_window_is_configurable(make_server):
    s = make_server(extra=["--secret-versions", "3"])
    create_org(s, "acme")
    for i in range(1, 6):
        assert s.request("PUT", ORG + "w", token=s.root_token, json={"n": str(i)}).json()["version"] == i
    meta = s.get(ORG + "w?metadata=true", token=s.root_token).json()["metadata"]
    assert (meta["oldest_version"], meta["current_version"]) == (3, 5)
    assert_error(s.get(ORG + "w?version=2", token=s.root_token), 404)
