"""The no-secret scan itself (secret_scan.py; conftest.py runs it over every
test server once the session is over, whichever tests ran): it finds what it
looks for, and it reads a real server's files and audit records."""
from helpers import SEEN_PASSWORDS, SEEN_SECRETS
from secret_scan import Needles, scan, secret_part


def test_the_scan_finds_secrets_and_reads_a_servers_files_and_audit_records(make_server):
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
    assert s.stop() == 0
    result = scan([s.tmp], SEEN_SECRETS, SEEN_PASSWORDS)
    assert result.findings == [] and result.unreadable == [], (result.findings, result.unreadable)
    assert result.files > 0 and result.audit_rows > 0, (result.files, result.audit_rows)
