"""Signed audit checkpoints (docs/audit.md, "Checkpoints"): the server
stores a checkpoint of the durable head at each anchor, signed with the
audit key the seal keeps, while unsealed; `operator audit verify` with the
unseal keys checks them, and GET /v1/audit/verify does on a running server.
Someone holding the data files but not the unseal keys can rewrite the
chain so that it verifies, but not the checkpoints. The real binary, real
SQLite, no mocks."""
import hashlib
import hmac
import os
import re
import secrets
import signal
import time

from helpers import (Server, assert_error, audit_head, audit_rows, checkpoint_rows, create_org, create_user, db,
                     dev_unseal_key, init_data_dir, lift_audit_guards, rewind, rewrite_without, run_cli,
                     run_cli_input, token_for, unseal, wait_for)

EVERY_SECOND = ["--audit-anchor-interval", "1"]


def verify(server, key=None, *extra):
    """`operator audit verify` of the server's data dir, with the share on
    standard input when key is given."""
    args = ["operator", "audit", "verify", "--data-dir", server.data_dir] + list(extra)
    if key is None:
        return run_cli(*args)
    return run_cli_input(key + "\n", *(args + ["--shares-stdin"]))


def wait_for_checkpoint(server, at_least, timeout=10):
    """The stored checkpoints once one covers record at_least."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        rows = checkpoint_rows(server)
        if rows and rows[-1]["seq"] >= at_least:
            return rows
        time.sleep(0.05)
    raise AssertionError("no checkpoint at or after record %d: %s\n%s" % (at_least, checkpoint_rows(server),
                                                                         server.stderr()[-2000:]))


def busy(server, n, token=None):
    """n recorded requests; the newest record's seq once they are stored."""
    for _ in range(n):
        server.get("/v1/auth/whoami", token=token or server.root_token)
    deadline = time.time() + 5
    want = None
    while time.time() < deadline:
        seq, _ = audit_head(server)
        if want is not None and seq == want:
            return seq
        want = seq
        time.sleep(0.1)
    return want


def test_a_server_signs_checkpoints_and_verify_checks_them_with_the_shares(make_server):
    s = make_server(extra=EVERY_SECOND)
    key = dev_unseal_key(s)
    head = busy(s, 5)
    rows = wait_for_checkpoint(s, head)
    # Each vouches for a record exactly as stored, with a MAC of 64 hex.
    stored = {r["seq"]: r["hash"] for r in audit_rows(s)}
    for cp in rows:
        assert stored[cp["seq"]] == cp["hash"], cp
        assert re.fullmatch("[0-9a-f]{64}", cp["mac"]), cp
    # The key is kept sealed by the barrier: an envelope, not 32 bytes of hex.
    con = db(s)
    try:
        kept = con.execute("SELECT value FROM meta WHERE key = 'seal.audit_key'").fetchone()[0]
    finally:
        con.close()
    assert re.fullmatch("[0-9a-f]+", kept) and len(kept) > 64

    # On the running server: root only.
    rep = s.get("/v1/audit/verify", token=s.root_token)
    assert rep.status_code == 200, rep.text
    body = rep.json()
    assert body["ok"] is True, body
    assert body["chain"]["broken_at"] is None and body["chain"]["verified_to"] >= head
    ck = body["checkpoints"]
    assert ck["checked"] is True and ck["failed"] is None and ck["reason"] is None, ck
    assert ck["newest_valid"] >= head and ck["count"] >= 1 and ck["oldest"] == rows[0]["seq"], ck
    assert ck["uncovered"] == body["chain"]["verified_to"] - ck["newest_valid"]
    create_org(s, "acme")
    create_user(s, "acme", "alice", role="admin")
    admin = token_for(s, "acme", "alice")
    assert_error(s.get("/v1/audit/verify", token=admin), 401, "only the partner admin")
    assert_error(s.get("/v1/audit/verify"), 401)
    assert s.get("/v1/audit/verify?help=1", token=s.root_token).json()["help"]

    assert s.stop() == 0
    # At stop the head was signed too: every record is covered.
    head, _ = audit_head(s)
    assert checkpoint_rows(s)[-1]["seq"] == head
    plain = verify(s)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "audit chain intact: %d record(s)" % head in plain.stdout
    assert "checkpoints: not checked" in plain.stdout and "proves nothing" in plain.stdout
    full = verify(s, key)
    assert full.returncode == 0, full.stdout + full.stderr
    n = len(checkpoint_rows(s))
    assert "audit checkpoints: %d checked, all valid" % n in full.stdout, full.stdout
    assert "records 1..%d are authenticated by the audit key" % head in full.stdout, full.stdout
    assert "not covered" not in full.stdout
    # Verify reads only: no record of its own, no checkpoint.
    assert audit_head(s)[0] == head and len(checkpoint_rows(s)) == n
    for out in (full.stdout, full.stderr, s.stdout().replace(key, "", 1), s.stderr()):
        assert key not in out


def test_rewriting_history_passes_the_chain_but_not_the_checkpoints(make_server):
    s = make_server(extra=EVERY_SECOND)
    key = dev_unseal_key(s)
    for _ in range(3):  # several checkpoints along the trail
        wait_for_checkpoint(s, busy(s, 3))
    assert s.stop() == 0
    assert verify(s, key).returncode == 0
    before = checkpoint_rows(s)
    assert len(before) >= 3

    # Record 4 goes; every later one moves down and is rehashed.
    gone = 4
    new_head = rewrite_without(s, gone)
    chain_only = verify(s)
    assert chain_only.returncode == 0, chain_only.stdout  # the old weakness: the chain alone passes
    assert "audit chain intact: %d record(s)" % new_head in chain_only.stdout
    first_hit = min(cp["seq"] for cp in before if cp["seq"] >= gone)
    last_kept = max([cp["seq"] for cp in before if cp["seq"] < gone] or [0])
    caught = verify(s, key)
    assert caught.returncode == 1, caught.stdout
    assert "audit chain intact" in caught.stdout
    assert "audit checkpoint FAILED at record %d" % first_hit in caught.stdout, caught.stdout
    if last_kept:
        assert "newest valid checkpoint before it is at record %d" % last_kept in caught.stdout

    # Re-signing the checkpoints takes the audit key: a guessed one fails.
    wrong = secrets.token_bytes(32)
    stored = {r["seq"]: r["hash"] for r in audit_rows(s)}
    con = db(s)
    try:
        lift_audit_guards(con)
        con.execute("DELETE FROM audit_checkpoints WHERE seq > ?", (new_head,))
        for cp in before:
            if gone <= cp["seq"] <= new_head:
                h = stored[cp["seq"]]
                mac = hmac.new(wrong, ("%d:%s" % (cp["seq"], h)).encode(), hashlib.sha256).hexdigest()
                con.execute("UPDATE audit_checkpoints SET hash = ?, mac = ? WHERE seq = ?", (h, mac, cp["seq"]))
        if not any(gone <= cp["seq"] <= new_head for cp in before):  # at least one to forge
            h = stored[new_head]
            mac = hmac.new(wrong, ("%d:%s" % (new_head, h)).encode(), hashlib.sha256).hexdigest()
            con.execute("INSERT INTO audit_checkpoints VALUES (?, ?, ?, 0)", (new_head, h, mac))
        con.commit()
    finally:
        con.close()
    forged = verify(s, key)
    assert forged.returncode == 1, forged.stdout
    assert re.search(r"audit checkpoint FAILED at record \d+: its MAC does not verify", forged.stdout), forged.stdout
    # A checkpoint altered into something the server never writes is named too.
    con = db(s)
    try:
        con.execute("UPDATE audit_checkpoints SET mac = 'x' WHERE seq = ?", (before[0]["seq"],))
        con.commit()
    finally:
        con.close()
    bent = verify(s, key)
    assert bent.returncode == 1
    assert "audit checkpoint FAILED at record %d: its MAC" % before[0]["seq"] in bent.stdout, bent.stdout


def test_a_trail_cut_back_below_a_checkpoint_fails(make_server):
    s = make_server(extra=EVERY_SECOND)
    key = dev_unseal_key(s)
    busy(s, 4)
    assert s.stop() == 0
    head, _ = audit_head(s)
    assert checkpoint_rows(s)[-1]["seq"] == head
    con = db(s)
    try:
        lift_audit_guards(con)
        con.execute("DELETE FROM audit WHERE seq > ?", (head - 2,))
        con.commit()
    finally:
        con.close()
    assert verify(s).returncode == 0
    cut = verify(s, key)
    assert cut.returncode == 1
    assert "audit checkpoint FAILED at record %d: the trail no longer holds" % head in cut.stdout, cut.stdout


def test_records_after_the_newest_checkpoint_are_reported_uncovered(make_server):
    s = make_server(extra=["--audit-anchor-interval", "0"])  # checkpoints only at stop
    key = dev_unseal_key(s)
    busy(s, 3)
    body = s.get("/v1/audit/verify", token=s.root_token).json()
    assert body["ok"] is True and body["checkpoints"]["newest_valid"] is None, body
    assert body["checkpoints"]["uncovered"] == body["chain"]["verified_to"] > 0
    assert s.stop() == 0
    covered, _ = audit_head(s)
    s.start()
    busy(s, 3)
    assert s.stop(sig=signal.SIGKILL) != 0  # no checkpoint at this stop
    head, _ = audit_head(s)
    assert head > covered
    r = verify(s, key)
    assert r.returncode == 0, r.stdout
    assert "the newest at record %d" % covered in r.stdout
    assert "records %d..%d are not covered by a checkpoint yet" % (covered + 1, head) in r.stdout, r.stdout


def test_while_sealed_no_checkpoint_is_written_and_the_next_covers_the_gap(tmp_path):
    data = str(tmp_path / "data")
    keys, root = init_data_dir(data)
    s = Server(str(tmp_path), dev=False, data_dir=data, extra=EVERY_SECOND).start()
    try:
        assert unseal(s, keys[0]).json()["sealed"] is False
        wait_for_checkpoint(s, busy(s, 3, token=root))
        assert s.request("PUT", "/v1/sys/seal", token=root).status_code == 204
        n_sealed = len(checkpoint_rows(s))
        for _ in range(4):  # refused while sealed, and recorded and chained all the same
            assert s.get("/v1/auth/whoami", token=root).status_code == 503
        sealed_head = busy(s, 0)
        time.sleep(2.5)  # two anchor intervals
        assert len(checkpoint_rows(s)) == n_sealed
        assert checkpoint_rows(s)[-1]["seq"] < sealed_head
        assert_error(s.get("/v1/audit/verify", token=root), 503, "sealed")
        assert unseal(s, keys[0]).json()["sealed"] is False
        rows = wait_for_checkpoint(s, sealed_head)
        assert len(rows) > n_sealed
        body = s.get("/v1/audit/verify", token=root).json()
        assert body["ok"] is True and body["checkpoints"]["newest_valid"] >= sealed_head, body
    finally:
        assert s.stop() == 0
    # The server's key file, by the server's rules.
    key_file = tmp_path / "unseal.keys"
    key_file.write_text("# the one share\n%s\n" % keys[0])
    os.chmod(key_file, 0o600)
    r = run_cli("operator", "audit", "verify", "--data-dir", data, "--unseal-key-file", str(key_file))
    assert r.returncode == 0 and "all valid" in r.stdout, r.stdout + r.stderr
    os.chmod(key_file, 0o640)
    r = run_cli("operator", "audit", "verify", "--data-dir", data, "--unseal-key-file", str(key_file))
    assert r.returncode == 1 and "only its owner can read" in r.stderr, r.stderr
    # Shares that do not unseal, or both ways at once, are refused.
    r = run_cli_input("00" * 33 + "\n", "operator", "audit", "verify", "--data-dir", data, "--shares-stdin")
    assert r.returncode == 1 and "could not unseal" in r.stderr, r.stderr
    r = run_cli_input(keys[0] + "\n", "operator", "audit", "verify", "--data-dir", data, "--shares-stdin",
                      "--unseal-key-file", str(key_file))
    assert r.returncode == 2
    for out in (s.stdout(), s.stderr()):
        assert keys[0] not in out


def test_a_store_from_before_checkpoints_gets_its_key_at_the_first_unseal(make_server):
    s = make_server(extra=EVERY_SECOND)
    key = dev_unseal_key(s)
    busy(s, 3)
    assert s.stop() == 0
    con = db(s)
    try:  # back to 0016: no checkpoints, no audit key
        rewind(con, 17)
        con.execute("DELETE FROM meta WHERE key = 'seal.audit_key'")
        con.commit()
    finally:
        con.close()
    old_head, _ = audit_head(s)
    s.start()
    wait_for_checkpoint(s, busy(s, 2))
    assert s.stop() == 0
    r = verify(s, key)
    assert r.returncode == 0, r.stdout
    assert "records 1..%d are authenticated" % audit_head(s)[0] in r.stdout
    assert checkpoint_rows(s)[0]["seq"] > old_head  # records before it: the first checkpoint covers them


def test_a_removed_or_altered_audit_key_fails_verify(make_server):
    s = make_server(extra=EVERY_SECOND)
    key = dev_unseal_key(s)
    busy(s, 2)
    assert s.stop() == 0
    first = checkpoint_rows(s)[0]["seq"]
    con = db(s)
    try:
        kept = con.execute("SELECT value FROM meta WHERE key = 'seal.audit_key'").fetchone()[0]
        con.execute("DELETE FROM meta WHERE key = 'seal.audit_key'")
        con.commit()
    finally:
        con.close()
    r = verify(s, key)
    assert r.returncode == 1
    assert "audit checkpoint FAILED at record %d: no audit key is stored" % first in r.stdout, r.stdout
    # Altered: it does not open, and the server does not replace it.
    bent = kept[:-1] + ("0" if kept[-1] != "0" else "1")
    con = db(s)
    try:
        con.execute("INSERT INTO meta (key, value) VALUES ('seal.audit_key', ?)", (bent,))
        con.commit()
    finally:
        con.close()
    r = verify(s, key)
    assert r.returncode == 1 and "the stored audit key does not open" in r.stdout, r.stdout
    s.start()
    busy(s, 2)
    assert s.stop() == 0
    assert "the stored audit checkpoint key does not open" in s.stderr()
    con = db(s)
    try:
        assert con.execute("SELECT value FROM meta WHERE key = 'seal.audit_key'").fetchone()[0] == bent
    finally:
        con.close()


def test_the_credential_hmac_key_is_kept_behind_the_seal(tmp_path):
    """The key of the HMAC a record keeps of a failed credential is sealed
    like the checkpoint key. A store from before the seal kept it in the
    clear: `operator init` seals those same bytes (old records' HMACs still
    match) and deletes the clear copy, from the files too."""
    data = str(tmp_path / "data")
    (tmp_path / "before").mkdir()
    os.makedirs(data)
    before = Server(str(tmp_path / "before"), dev=False, data_dir=data).start()  # makes the store; uninitialised
    assert before.stop() == 0
    old = secrets.token_bytes(32)
    con = db(before)
    with con:
        con.execute("INSERT INTO meta (key, value) VALUES ('audit_hmac_key', ?)", (old.hex(),))
    con.close()
    keys, root = init_data_dir(data)
    s = Server(str(tmp_path), dev=False, data_dir=data).start()
    try:
        con = db(s)
        try:
            assert con.execute("SELECT value FROM meta WHERE key = 'audit_hmac_key'").fetchone() is None
            sealed_key = con.execute("SELECT value FROM meta WHERE key = 'seal.credential_key'").fetchone()[0]
        finally:
            con.close()
        assert old.hex() not in sealed_key and len(sealed_key) > 64
        assert unseal(s, keys[0]).status_code == 200
        tried = "lk_user_%s_%s" % (secrets.token_hex(6), secrets.token_urlsafe(24))
        r = s.get("/v1/auth/whoami", token=tried)
        assert r.status_code == 401
        rec = wait_for(s, r.headers["X-Request-Id"])
        assert rec["credential_hmac"] == hmac.new(old, tried.encode(), hashlib.sha256).hexdigest()
        # Sealed: nothing is tried, and no record carries an HMAC.
        assert s.request("PUT", "/v1/sys/seal", token=root).status_code == 204
        r = s.get("/v1/auth/whoami", token=tried)
        assert r.status_code == 503
        assert wait_for(s, r.headers["X-Request-Id"])["credential_hmac"] == ""
    finally:
        assert s.stop() == 0
    # The clear copy's bytes are in no file of the store.
    for name in os.listdir(data):
        with open(os.path.join(data, name), "rb") as f:
            blob = f.read()
        assert old not in blob and old.hex().encode() not in blob, name
