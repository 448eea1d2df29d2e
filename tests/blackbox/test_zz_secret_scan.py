"""Runs last (files run in name order): after the whole black-box suite, no
token secret and no password any test used may appear in any server's audit
records, store files (raw bytes, WAL included), audit file sinks or logs.
Dev-mode stdout is skipped: it prints the root token once, by design."""
import os
import re
import sqlite3

from conftest import SEEN_PASSWORDS, SEEN_SECRETS, SERVER_DIRS

SECRET_CHARS = 32  # lk_<kind>_<id12>_<secret32><crc6>, base62
ALNUM_RUN = re.compile(rb"[0-9A-Za-z]{%d,}" % SECRET_CHARS)


def secret_part(tok):
    if tok.startswith("lk_") and tok.count("_") >= 3:
        part = tok.rsplit("_", 1)[1][:SECRET_CHARS]
        if len(part) == SECRET_CHARS and part.isalnum():
            return part.encode()
    return None


class Needles:
    """Every token secret and password the suite saw. A token's 32-character
    secret (and so the whole token, which contains it) is looked up in a set
    for every 32-character window of every alphanumeric run in the data, so
    a scan costs one pass per file however many tokens the suite made;
    passwords and anything not shaped like a token are searched for as they
    are."""

    def __init__(self, secrets, passwords):
        self.secrets = set()
        self.plain = [(pw.encode(), "password") for pw in passwords]
        for tok in secrets:
            part = secret_part(tok)
            if part is not None:
                self.secrets.add(part)
            else:
                self.plain.append((tok.encode(), "token"))

    def find(self, data):
        """What kind of secret appears in data, or None."""
        for run in ALNUM_RUN.finditer(data):
            r = run.group()
            for i in range(len(r) - SECRET_CHARS + 1):
                if r[i:i + SECRET_CHARS] in self.secrets:
                    return "token"
        for needle, kind in self.plain:
            if needle in data:
                return kind
        return None


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

    needles = Needles(SEEN_SECRETS, SEEN_PASSWORDS)
    # The scan must find what it looks for: a token pasted amid other text.
    assert needles.find(b"x=" + t["token"].encode() + b"&y") == "token"
    assert needles.find(b"abc" + secret_part(t["token"]) + b"def") == "token"
    assert needles.find(b"scanned passphrase one") == "password"
    assert needles.find(b"nothing to see " + b"a" * 64) is None
    files = audit_rows = 0
    for top in SERVER_DIRS:
        for root, _, names in os.walk(top):
            for name in names:
                path = os.path.join(root, name)
                if name.startswith("stdout.") or not os.path.isfile(path):
                    continue
                data = open(path, "rb").read()
                files += 1
                kind = needles.find(data)
                assert kind is None, "a %s appears in %s" % (kind, path)
                if name == "latchkey.db":
                    con = sqlite3.connect(path)
                    try:
                        dump = "\n".join(repr(r) for r in con.execute("SELECT * FROM audit")).encode()
                        audit_rows += con.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
                    finally:
                        con.close()
                    kind = needles.find(dump)
                    assert kind is None, "a %s appears in the audit records of %s" % (kind, path)
    print("secret scan: %d tokens, %d passwords, %d files, %d audit records" % (len(SEEN_SECRETS), len(SEEN_PASSWORDS), files, audit_rows))
    assert files > 0 and audit_rows > 0
