"""Runs last (files run in name order): after the whole black-box suite, no
token secret and no password any test used may appear in any server's audit
records, store files (raw bytes, WAL included), audit file sinks or logs.
Dev-mode stdout is skipped: it prints the root token once, by design."""
import os
import sqlite3

from conftest import SEEN_PASSWORDS, SEEN_SECRETS, SERVER_DIRS


def token_parts(tok):
    # lk_<kind>_<id12>_<secret32><crc6>: the whole token and its secret part.
    yield tok.encode()
    if tok.startswith("lk_") and tok.count("_") >= 3:
        yield tok.rsplit("_", 1)[1][:32].encode()


def test_no_secret_anywhere_after_the_suite(make_server):
    # Something of our own to find, so the scan is never vacuous.
    s = make_server()
    t = s.create_token(description="scan")
    s.post("/v1/orgs", token=s.root_token, json={"name": "scan", "display_name": "Scan"})
    s.post("/v1/orgs/scan/users", token=s.root_token,
           json={"username": "u1", "email": "u1@example.com", "password": "scanned passphrase one"})
    s.post("/v1/auth/login", json={"org": "scan", "username": "u1", "password": "scanned passphrase one"})
    s.get("/v1/auth/whoami", token=t["token"])
    s.restart()
    assert t["token"] in SEEN_SECRETS and "scanned passphrase one" in SEEN_PASSWORDS

    needles = [(p, "token") for tok in SEEN_SECRETS for p in token_parts(tok)]
    needles += [(pw.encode(), "password") for pw in SEEN_PASSWORDS]
    files = audit_rows = 0
    for top in SERVER_DIRS:
        for root, _, names in os.walk(top):
            for name in names:
                path = os.path.join(root, name)
                if name.startswith("stdout.") or not os.path.isfile(path):
                    continue
                data = open(path, "rb").read()
                files += 1
                for needle, kind in needles:
                    assert needle not in data, "a %s appears in %s" % (kind, path)
                if name == "latchkey.db":
                    con = sqlite3.connect(path)
                    try:
                        dump = "\n".join(repr(r) for r in con.execute("SELECT * FROM audit")).encode()
                        audit_rows += con.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
                    finally:
                        con.close()
                    for needle, kind in needles:
                        assert needle not in dump, "a %s appears in the audit records of %s" % (kind, path)
    print("secret scan: %d tokens, %d passwords, %d files, %d audit records" % (len(SEEN_SECRETS), len(SEEN_PASSWORDS), files, audit_rows))
    assert files > 0 and audit_rows > 0
