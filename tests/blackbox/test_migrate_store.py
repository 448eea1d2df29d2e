"""`latchkey operator migrate-store` (issue 23, item 5; docs/scaling.md):
a server's SQLite store copied into a new PostgreSQL database while it is
stopped; a server on the copy then has every org, token and secret, the
same audit trail (record for record, hash for hash) that verifies and goes
on; a destination that is not new is refused and left alone. Needs
PostgreSQL: runs in `make test-postgres`."""
import os
import re
import subprocess

import pytest

from helpers import BIN, PG, Server, remember_secret

pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL only (LATCHKEY_TEST_PG; make test-postgres)")


def all_records(server, root):
    out, cursor = [], None
    while True:
        page = server.get("/v1/audit", token=root,
                          params=dict(order="asc", limit=200, **({"cursor": cursor} if cursor else {}))).json()
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def test_a_sqlite_store_moves_to_postgresql_whole(tmp_path):
    import pgstore
    db = tmp_path / "sqlite-data" / "latchkey.db"
    os.makedirs(db.parent, mode=0o700)
    a = Server(str(tmp_path / "a"), extra=["--store", "sqlite:" + str(db)])
    os.makedirs(a.tmp, exist_ok=True)
    a.start()
    root = a.root_token
    remember_secret(root)
    assert a.post("/v1/orgs", token=root, json={"name": "acme"}).status_code == 200
    assert a.post("/v1/orgs/acme/users", token=root, json={"username": "ann", "email": "ann@example.com",
                                                          "role": "admin"}).status_code == 200
    assert a.post("/v1/orgs/acme/teams", token=root, json={"name": "pay"}).status_code == 200
    ann = a.post("/v1/orgs/acme/users/ann/tokens", token=root, json={"description": "ann", "expires": "P1D"}).json()
    remember_secret(ann["token"])
    assert a.request("PUT", "/v1/orgs/acme/secrets/app/db", token=ann["token"],
                     json={"password": "moved-intact"}).status_code in (200, 201)
    for i in range(30):
        t = a.create_token(token=root, description="t%d" % i, expires="P1D")
        remember_secret(t["token"])
    before = all_records(a, root)
    assert a.stop() == 0

    dest = pgstore.store_dsn(PG, str(tmp_path / "pg-data"))
    r = subprocess.run([BIN, "operator", "migrate-store", "--from", "sqlite:" + str(db), "--to", dest],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "copied" in r.stdout and "rows of tokens" in r.stdout.replace("row(s)", "rows")
    # Every record, those of the listing just above among them.
    done = re.search(r"done: the audit trail's (\d+) record\(s\) verify", r.stdout)
    assert done and int(done.group(1)) >= len(before), r.stdout
    assert "search_path" not in r.stdout + r.stderr  # the DSN is never echoed

    b = Server(str(tmp_path / "b"), extra=["--store", dest])
    os.makedirs(b.tmp, exist_ok=True)
    b.start()
    try:
        assert b.root_token is None  # not a new store
        who = b.get("/v1/auth/whoami", token=ann["token"]).json()
        assert who["principal"]["name"] == "ann" and who["principal"]["org"] == "acme"
        assert b.get("/v1/orgs/acme/teams/pay", token=root).status_code == 200
        got = b.get("/v1/orgs/acme/secrets/app/db", token=ann["token"]).json()
        assert got["data"]["password"] == "moved-intact", got
        # The same records, hash for hash, then new ones on the same chain.
        assert all_records(b, root)[:len(before)] == before
        t = b.create_token(token=root, description="after the move", expires="P1D")
        remember_secret(t["token"])
        assert b.get("/v1/auth/whoami", token=t["token"]).status_code == 200
        v = b.get("/v1/audit/verify", token=root).json()
        assert v["chain"]["broken_at"] is None and v["chain"]["records"] > len(before), v
        listed = b.get("/v1/tokens?limit=200", token=root).json()["items"]
        assert len({x["id"] for x in listed}) == len(listed) >= 32
    finally:
        assert b.stop() == 0

    # A destination that is not new: refused, and left as it was.
    r = subprocess.run([BIN, "operator", "migrate-store", "--from", "sqlite:" + str(db), "--to", dest],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "not new" in r.stderr
    # Usage and an unreachable destination.
    r = subprocess.run([BIN, "operator", "migrate-store", "--from", "sqlite:" + str(db)], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "usage: latchkey operator migrate-store" in r.stderr
    r = subprocess.run([BIN, "operator", "migrate-store", "--from", "sqlite:" + str(db), "--to",
                        "postgres://nobody:hunter2@db.example:1/x?connect_timeout=2"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1 and "cannot open the destination store" in r.stderr and "hunter2" not in r.stderr
