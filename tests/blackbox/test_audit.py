"""The audit trail (immutable, maintained centrally for all actions
performed via the API): every request is recorded
with the fields the API documents (api/openapi.yaml), records are hash-chained and verifiable, durable
before a mutation is answered, fail-closed, queryable with filters, and
never hold a secret. Everything runs against the real binary and its real
SQLite file."""
import hashlib
import json
import os
import re
import signal
import sqlite3
import time

import pytest

from helpers import (AUDIT_IMMUTABILITY, all_records, assert_error, audit_rows, audit_verify, create_user, db,
                     remember_secret, rewind, run_cli, run_verify_script, schema_triggers, token_for, wait_for)

UA = "latchkey-audit-test/1.0"
PASSWORD = "an audited passphrase"


def tamper(server, sql, args=()):
    """What someone with the file could do: lift the immutability triggers
    and run sql on the stopped server's store."""
    con = db(server)
    try:
        con.execute("DROP TRIGGER IF EXISTS audit_no_update")
        con.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        con.execute(sql, args)
        con.commit()
    finally:
        con.close()


def setup_org(server, name="acme"):
    root = server.root_token
    assert server.post("/v1/orgs", token=root, json={"name": name, "display_name": name}).status_code == 200
    for user, role in (("alice", "admin"), ("bob", "member"), ("olga", "member")):
        create_user(server, name, user, role=role)
    return {user: token_for(server, name, user) for user in ("alice", "bob", "olga")}


def test_every_kind_of_request_is_recorded_with_its_fields(make_server):
    server = make_server(extra=["--rate-limit-token", "2/60"])
    root = server.root_token
    h = {"User-Agent": UA}

    ok = server.post("/v1/tokens", token=root, headers=h, json={"description": "ci", "expires": "P1D"})
    assert ok.status_code == 200
    remember_secret(ok.json()["token"])
    read = server.get("/v1/auth/whoami", token=root, headers=h)
    bad = server.get("/v1/auth/whoami", headers=dict(h, Authorization="Bearer lk_user_garbage"))
    none = server.get("/v1/tokens", headers=h)
    missing = server.get("/v1/nothing/here", headers=h)
    wrong = server.request("PUT", "/v1/tokens", token=root, headers=h)
    limited = server.get("/v1/auth/whoami", token=root, headers=h)
    assert limited.status_code == 429

    expect = [
        (ok, "token.create", "success", 200, "root", "POST"),
        (read, "auth.whoami", "success", 200, "root", "GET"),
        (bad, "auth.whoami", "denied", 401, "anonymous", "GET"),
        (none, "token.list", "denied", 401, "anonymous", "GET"),
        (missing, "request.unrouted", "error", 404, "anonymous", "GET"),
        (wrong, "request.unrouted", "error", 405, "anonymous", "PUT"),
        (limited, "auth.whoami", "rate_limited", 429, "root", "GET"),
    ]
    for resp, action, outcome, status, actor, method in expect:
        rid = resp.headers["X-Request-Id"]
        rec = wait_for(server, rid)
        assert rec["action"] == action, rec
        assert rec["outcome"] == outcome, rec
        assert rec["status"] == status == resp.status_code, rec
        assert rec["actor_type"] == actor, rec
        assert rec["method"] == method, rec
        assert rec["source_ip"] == "127.0.0.1", rec
        assert rec["user_agent"] == UA, rec
        # Stored: the hash's 32 bytes, and no prev_hash (that is the hash of the record before).
        assert re.fullmatch("[0-9a-f]{64}", rec["hash"]) and "prev_hash" not in rec, rec
    # The root's records name its token by public id, never by secret.
    rec = wait_for(server, ok.headers["X-Request-Id"])
    assert rec["token_id"] == root.rsplit("_", 1)[0] and rec["token_id"].startswith("lk_root_")
    assert rec["resource"] == "/v1/tokens"


def test_failed_credentials_are_correlatable_but_never_recorded(server):
    tok = server.create_token(description="soon revoked")
    remember_secret(tok["token"])
    assert server.delete("/v1/tokens/" + tok["id"], token=server.root_token).status_code == 204
    a = server.get("/v1/auth/whoami", token=tok["token"])
    b = server.get("/v1/auth/whoami", token=tok["token"])
    c = server.get("/v1/auth/whoami", token="lk_user_not-a-token-at-all")
    for r in (a, b, c):
        assert r.status_code == 401
    ra, rb, rc = (wait_for(server, r.headers["X-Request-Id"]) for r in (a, b, c))
    # The same presented secret gives the same HMAC; another gives another.
    assert ra["credential_hmac"] == rb["credential_hmac"] != rc["credential_hmac"]
    assert len(ra["credential_hmac"]) == 64
    # Keyed: not a plain hash anyone could compute from a guessed token.
    assert ra["credential_hmac"] != hashlib.sha256(tok["token"].encode()).hexdigest()
    # The well-formed one is named by its public id; its secret is nowhere.
    assert ra["token_id"] == tok["id"]
    assert rc["token_id"] == ""
    for r in (ra, rb, rc):
        blob = json.dumps(r)
        assert tok["token"] not in blob and tok["token"].rsplit("_", 1)[1][:32] not in blob


def test_logins_name_the_account_never_the_password(server):
    root = server.root_token
    server.post("/v1/orgs", token=root, json={"name": "acme", "display_name": "Acme"})
    server.post("/v1/orgs/acme/users", token=root,
                json={"username": "carol", "email": "c@example.com", "password": remember_secret(PASSWORD)})
    good = server.post("/v1/auth/login", json={"org": "acme", "username": "carol", "password": PASSWORD})
    assert good.status_code == 200
    remember_secret(good.json()["token"])
    wrong = server.post("/v1/auth/login", json={"org": "acme", "username": "carol", "password": "not it at all"})
    assert wrong.status_code == 401
    g = wait_for(server, good.headers["X-Request-Id"])
    w = wait_for(server, wrong.headers["X-Request-Id"])
    assert (g["actor_type"], g["actor_name"], g["actor_org"], g["action"], g["outcome"]) == \
        ("user", "carol", "acme", "auth.login", "success")
    assert (w["actor_type"], w["actor_name"], w["outcome"], w["status"]) == ("anonymous", "carol", "denied", 401)
    for r in (g, w):
        blob = json.dumps(r)
        assert PASSWORD not in blob and "not it at all" not in blob
        assert good.json()["token"] not in blob


def test_a_token_pasted_anywhere_a_client_writes_is_cut_to_its_public_id(server):
    """A client may paste a whole token into a path (mid-segment too, or
    percent-encoded), its User-Agent or a login name: the access log, the
    trail and error answers keep only its public id, in every one of those
    places."""
    t = server.create_token(description="pasted")
    tok, pubid = remember_secret(t["token"]), t["id"]
    secret = tok[len(pubid) + 1:]
    mid = server.get("/v1/tokens/by-token=" + tok, token=server.root_token)
    ua = server.get("/v1/auth/whoami", token=server.root_token, headers={"User-Agent": "curl/8 " + tok})
    login = server.post("/v1/auth/login", json={"org": "acme", "username": tok, "password": "x"})
    assert login.status_code in (400, 401), login.text
    # Percent-encoded: the router decodes it, so the records must too.
    encoded = tok.replace("_", "%5F")
    enc = server.get("/v1/tokens/" + encoded + "%20x", token=server.root_token)
    assert enc.status_code == 404, enc.text
    # ... and in a User-Agent or a login name, where nothing decodes it.
    enc_ua = server.get("/v1/auth/whoami", token=server.root_token, headers={"User-Agent": "tool/1 " + encoded})
    enc_login = server.post("/v1/auth/login", json={"org": "acme", "username": encoded, "password": "x"})
    assert enc_login.status_code in (400, 401), enc_login.text
    # Nor does an error that names the id the client sent carry the secret.
    direct = server.get("/v1/tokens/" + tok, token=server.root_token)
    assert direct.status_code == 404
    assert direct.json()["errors"] == ["no token %s_[redacted]" % pubid]
    for r in (mid, enc, direct):
        assert secret not in r.text and secret[:32] not in r.text, r.text
    recs = [wait_for(server, r.headers["X-Request-Id"]) for r in (mid, ua, login, enc, enc_ua, enc_login)]
    assert recs[0]["resource"] == "/v1/tokens/by-token=%s_[redacted]" % pubid
    assert recs[1]["user_agent"] == "curl/8 %s_[redacted]" % pubid
    assert recs[3]["resource"] == "/v1/tokens/%s_[redacted] x" % pubid
    assert recs[4]["user_agent"] == "tool/1 %s_[redacted]" % pubid
    assert recs[5]["actor_name"] == "%s_[redacted]" % pubid, recs[5]  # the name tried, decoded and cut
    server.restart()  # flushes the access log
    text = server.stderr()
    assert "/v1/tokens/by-token=%s_[redacted]" % pubid in text
    assert "/v1/tokens/%s_[redacted] x" % pubid in text
    for blob in [json.dumps(r) for r in recs] + [text]:
        assert tok not in blob and secret not in blob and secret[:32] not in blob and encoded not in blob


def test_org_trail_is_scoped_to_who_may_see_it(server):
    toks = setup_org(server, "acme")
    setup_org(server, "globex")
    root = server.root_token
    # olga owns team "web"; bob is only a member of it.
    assert server.post("/v1/orgs/acme/teams", token=root, json={"name": "web"}).status_code == 200
    assert server.post("/v1/orgs/acme/teams", token=root, json={"name": "db"}).status_code == 200
    assert server.request("PUT", "/v1/orgs/acme/teams/web/members/olga", token=root,
                          json={"role": "owner"}).status_code == 200
    assert server.request("PUT", "/v1/orgs/acme/teams/web/members/bob", token=root,
                          json={"role": "member"}).status_code == 200
    web = server.request("PATCH", "/v1/orgs/acme/teams/web", token=toks["olga"], json={"description": "front"})
    dbt = server.request("PATCH", "/v1/orgs/acme/teams/db", token=root, json={"description": "data"})
    assert web.status_code == 200 and dbt.status_code == 200

    admin_view = all_records(server, "/v1/orgs/acme/audit", token=toks["alice"])
    assert admin_view and all(r["org"] == "acme" for r in admin_view)
    assert any(r["request_id"] == dbt.headers["X-Request-Id"] for r in admin_view)

    owner_view = all_records(server, "/v1/orgs/acme/audit", token=toks["olga"])
    assert owner_view and all(r["team"] == "web" for r in owner_view)
    assert any(r["request_id"] == web.headers["X-Request-Id"] for r in owner_view)
    assert not any(r["request_id"] == dbt.headers["X-Request-Id"] for r in owner_view)

    assert_error(server.get("/v1/orgs/acme/audit", token=toks["bob"]), 401, "audit.view")
    # Another org's admin: exactly like an org that does not exist.
    other = server.post("/v1/orgs/globex/users/alice/tokens", token=root, json={}).json()["token"]
    remember_secret(other)
    r1 = server.get("/v1/orgs/acme/audit", token=other)
    r2 = server.get("/v1/orgs/nosuchorg/audit", token=other)
    assert_error(r1, 404)
    assert r1.json() == {"errors": ["no organisation acme"]} and r2.json() == {"errors": ["no organisation nosuchorg"]}
    # The partner-wide trail is the partner admin's alone.
    assert_error(server.get("/v1/audit", token=toks["alice"]), 401)
    everything = all_records(server)
    assert {r["org"] for r in everything} >= {"acme", "globex"}


def test_a_reused_org_or_team_name_does_not_inherit_the_old_trail(server):
    """Records name orgs and teams by name; a name taken again after its
    holder was deleted starts a new trail, so the new holder's admins and
    owners see none of the old one's records."""
    root = server.root_token
    old = setup_org(server, "reuse")
    assert server.post("/v1/orgs/reuse/teams", token=root, json={"name": "web"}).status_code == 200
    assert server.request("PUT", "/v1/orgs/reuse/teams/web/members/olga", token=root,
                          json={"role": "owner"}).status_code == 200
    secret = server.request("PATCH", "/v1/orgs/reuse/teams/web", token=old["olga"],
                            json={"description": "old holder's team"})
    assert secret.status_code == 200
    old_ids = {r["request_id"] for r in all_records(server, "/v1/orgs/reuse/audit", token=old["alice"])}
    assert secret.headers["X-Request-Id"] in old_ids

    # Only the team goes first: a new team "web" in the same org.
    assert server.request("DELETE", "/v1/orgs/reuse/teams/web", token=root).status_code == 204
    assert server.post("/v1/orgs/reuse/teams", token=root, json={"name": "web"}).status_code == 200
    assert server.request("PUT", "/v1/orgs/reuse/teams/web/members/bob", token=root,
                          json={"role": "owner"}).status_code == 200
    new_team = server.request("PATCH", "/v1/orgs/reuse/teams/web", token=old["bob"], json={"description": "new"})
    assert new_team.status_code == 200
    bob_view = all_records(server, "/v1/orgs/reuse/audit", token=old["bob"])
    assert [r["request_id"] for r in bob_view if r["action"] == "team.update"] == [new_team.headers["X-Request-Id"]]
    assert all(r["team"] == "web" for r in bob_view)

    # Then the whole org, and somebody else takes its name.
    r = server.request("DELETE", "/v1/orgs/reuse", token=root)
    assert r.status_code == 204, r.text
    assert server.post("/v1/orgs", token=root, json={"name": "reuse", "display_name": "Someone else"}).status_code == 200
    r = server.post("/v1/orgs/reuse/users", token=root,
                    json={"username": "mallory", "email": "m@example.com", "role": "admin"})
    assert r.status_code == 200, r.text
    mallory = remember_secret(server.post("/v1/orgs/reuse/users/mallory/tokens", token=root, json={}).json()["token"])
    view = all_records(server, "/v1/orgs/reuse/audit", token=mallory)
    assert view, "the new org's own records are its trail"
    assert not {r["request_id"] for r in view} & old_ids
    assert all(r["seq"] > max(o["seq"] for o in all_records(server, action="org.delete")) for r in view)
    assert {r["action"] for r in view} >= {"user.create", "user.token.create"}
    # Filters cannot reach past the start either.
    assert all_records(server, "/v1/orgs/reuse/audit", token=mallory, action="team.update") == []
    early = all_records(server, "/v1/orgs/reuse/audit", token=mallory, since="2000-01-01T00:00:00Z")
    assert early[:len(view)] == view  # and then the listings since
    # The partner admin still sees both holders' records.
    assert old_ids <= {r["request_id"] for r in all_records(server)}


def test_migration_bounds_orgs_and_teams_that_already_reused_a_name(make_server):
    """Migration 0008 gives orgs and teams made before it their start in the
    chain: after the last deletion of their name; 0009 then drops the
    trail's secondary indexes."""
    server = make_server()
    root = server.root_token
    for _ in range(2):
        assert server.post("/v1/orgs", token=root, json={"name": "mig", "display_name": "m"}).status_code == 200
        assert server.post("/v1/orgs/mig/teams", token=root, json={"name": "web"}).status_code == 200
        assert server.request("DELETE", "/v1/orgs/mig/teams/web", token=root).status_code == 204
        assert server.post("/v1/orgs/mig/teams", token=root, json={"name": "web"}).status_code == 200
        if _ == 0:
            assert server.request("DELETE", "/v1/orgs/mig", token=root).status_code == 204
    org_del = audit_rows(server, "action = 'org.delete' AND outcome = 'success'")[-1]["seq"]
    team_del = audit_rows(server, "action = 'team.delete' AND outcome = 'success'")[-1]["seq"]
    assert server.stop() == 0
    # Back to the schema before 0008, as a data dir from an older release has it.
    con = db(server)
    rewind(con, 8)
    con.executescript("ALTER TABLE orgs DROP COLUMN audit_after; ALTER TABLE teams DROP COLUMN audit_after; "
                      "CREATE INDEX audit_org ON audit (org, seq); CREATE INDEX audit_time ON audit (time_ms); "
                      "DROP TABLE audit_org_blocks;")
    con.commit()
    con.close()
    assert schema_triggers(server, "tokens") == ["notices_token_deleted", "notices_token_shortened"]
    server.start()
    # 0014 takes the notice rules out of the schema again.
    assert schema_triggers(server, "tokens") == []
    con = db(server)
    try:
        assert con.execute("SELECT audit_after FROM orgs WHERE name = 'mig'").fetchone()[0] == org_del
        assert con.execute("SELECT t.audit_after FROM teams t JOIN orgs o ON o.id = t.org_id "
                           "WHERE o.name = 'mig' AND t.name = 'web'").fetchone()[0] == team_del
        # 0009 then leaves the trail with its primary key only.
        assert con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit' "
                           "AND sql IS NOT NULL").fetchall() == []
    finally:
        con.close()


def to_pre_0010_layout(server, damage=None):
    """Puts the stopped server's trail back as migration 0007 laid it out
    (both hashes as 64 hex characters, prev_hash stored), as a data dir
    from an older release has it; damage, if given, is SQL run on it."""
    con = db(server)
    try:
        rewind(con, 10)
        con.executescript("""
            CREATE TABLE audit_0007 (seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, request_id TEXT NOT NULL,
                actor_type TEXT NOT NULL, actor_name TEXT NOT NULL, actor_org TEXT NOT NULL, token_id TEXT NOT NULL,
                credential_hmac TEXT NOT NULL, org TEXT NOT NULL, team TEXT NOT NULL, action TEXT NOT NULL,
                method TEXT NOT NULL, resource TEXT NOT NULL, outcome TEXT NOT NULL, status INTEGER NOT NULL,
                source_ip TEXT NOT NULL, user_agent TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
            INSERT INTO audit_0007 SELECT seq, time_ms, request_id, actor_type, actor_name, actor_org, token_id,
                credential_hmac, org, team, action, method, resource, outcome, status, source_ip, user_agent,
                COALESCE((SELECT lower(hex(p.hash)) FROM audit p WHERE p.seq = audit.seq - 1), printf('%064d', 0)),
                lower(hex(hash)) FROM audit;
            DROP TABLE audit;
            ALTER TABLE audit_0007 RENAME TO audit;
            DROP TABLE audit_org_blocks;
        """)
        if damage:
            con.execute(damage)
        con.executescript(AUDIT_IMMUTABILITY)
        con.commit()
    finally:
        con.close()


def test_migration_0010_keeps_every_record_and_its_chain(server):
    """0010 stores the hash as bytes and drops prev_hash: the trail reads
    back exactly as before it, verifies, stays immutable and chains on."""
    root = server.root_token
    for i in range(5):
        assert server.post("/v1/tokens", token=root, json={"description": "m%d" % i}).status_code == 200
    before = all_records(server)
    assert server.stop() == 0
    to_pre_0010_layout(server)
    con = db(server)
    old = con.execute("SELECT typeof(hash), length(hash), prev_hash FROM audit WHERE seq = 2").fetchone()
    con.close()
    assert old == ("text", 64, before[0]["hash"])
    server.start()
    assert all_records(server)[:len(before)] == before
    con = db(server)
    try:
        cols = [c[1] for c in con.execute("PRAGMA table_info(audit)")]
        assert "prev_hash" not in cols and cols[-2:] == ["hash", "org_id"]  # 0013 adds org_id after it
        assert con.execute("SELECT DISTINCT typeof(hash), length(hash) FROM audit").fetchall() == [("blob", 32)]
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            con.execute("UPDATE audit SET status = 200 WHERE seq = 1")
    finally:
        con.close()
    assert server.post("/v1/tokens", token=root, json={"description": "after"}).status_code == 200
    assert server.stop() == 0
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr


def test_migration_0010_keeps_a_damaged_record_for_verify_to_name(server):
    """A record already tampered with (a hash that is not hex) does not stop
    the migration or the server; verify names it afterwards."""
    root = server.root_token
    for i in range(3):
        server.post("/v1/tokens", token=root, json={"description": "d%d" % i})
    assert server.stop() == 0
    to_pre_0010_layout(server, damage="UPDATE audit SET hash = 'not a hash' WHERE seq = 2")
    server.start()
    assert [r["seq"] for r in all_records(server)][:3] == [1, 2, 3]
    assert server.stop() == 0
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 1 and "BROKEN at record 2" in r.stdout, r.stdout + r.stderr


def test_every_listing_links_each_record_to_the_one_before(server):
    """prev_hash is not stored; every listing, filtered or not, either way
    and across page boundaries, gives the hash of record seq - 1."""
    root = server.root_token
    for i in range(6):
        assert server.post("/v1/tokens", token=root, json={"description": "l%d" % i}).status_code == 200
        server.get("/v1/auth/whoami", token=root)
        server.get("/v1/auth/whoami", token="lk_root_notatoken_%d" % i)
    wait_for(server, server.get("/v1/auth/whoami", token=root).headers["X-Request-Id"])
    stored = {r["seq"]: r["hash"] for r in audit_rows(server)}
    stored[0] = "0" * 64
    seen = 0
    for params in ({}, {"action": "token.create"}, {"outcome": "denied"}):
        for order in ("asc", "desc"):
            cursor = None
            while True:
                q = dict(params, order=order, limit=4, **({"cursor": cursor} if cursor else {}))
                body = server.get("/v1/audit", token=root, params=q).json()
                for rec in body["items"]:
                    if rec["seq"] in stored:
                        assert rec["prev_hash"] == stored[rec["seq"] - 1], (params, order, rec)
                        assert rec["hash"] == stored[rec["seq"]]
                        seen += 1
                cursor = body["next_cursor"]
                if not cursor:
                    break
    assert seen >= 2 * (len(stored) - 1) + 2 * 6 + 2 * 6


def test_filters_order_and_cursors(server):
    root = server.root_token
    for i in range(7):
        assert server.post("/v1/tokens", token=root, json={"description": "t%d" % i}).status_code == 200
    server.get("/v1/tokens/lk_root_doesnotexist1", token=root)
    creates = all_records(server, action="token.create")
    assert len(creates) == 7 and all(r["action"] == "token.create" for r in creates)
    # The documented shape (api/openapi.yaml), and the same content as the stored row.
    s = creates[0]
    assert set(s) >= {"seq", "time", "request_id", "actor", "org", "team", "action", "resource", "outcome",
                      "status", "source_ip", "user_agent", "prev_hash", "hash"}
    stored = audit_rows(server, "seq = ?", (s["seq"],))[0]
    assert s["actor"] == {"type": "root", "name": "root", "org": None, "token_id": stored["token_id"]}
    # prev_hash is the hash of the record before (the genesis link, 64 zeros, for the first).
    before = audit_rows(server, "seq = ?", (s["seq"] - 1,))[0]["hash"] if s["seq"] > 1 else "0" * 64
    assert (s["hash"], s["prev_hash"], s["request_id"]) == (stored["hash"], before, stored["request_id"])
    later = creates[-1]
    assert later["prev_hash"] == audit_rows(server, "seq = ?", (later["seq"] - 1,))[0]["hash"]
    assert s["time"] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stored["time_ms"] // 1000)) + \
        ".%03dZ" % (stored["time_ms"] % 1000)
    seqs = [r["seq"] for r in creates]
    assert seqs == sorted(seqs)
    # Pages of 3, newest first, with no gaps or repeats.
    got, cursor = [], None
    while True:
        params = {"action": "token.create", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        body = server.get("/v1/audit", token=root, params=params).json()
        assert len(body["items"]) <= 3
        got += [r["seq"] for r in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert got == sorted(seqs, reverse=True)
    errors = all_records(server, outcome="error")
    assert errors and all(r["outcome"] == "error" for r in errors)
    assert all(r["actor"]["name"] == "root" for r in all_records(server, actor="root"))
    assert all_records(server, actor="nobody") == []
    # Time window: everything so far is before "until=now+1h", nothing after "since=now+1h".
    later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert all_records(server, since=later) == []
    assert len(all_records(server, until=later, action="token.create")) == 7
    for params, msg in (({"since": "yesterday"}, "since"), ({"outcome": "meh"}, "outcome"),
                        ({"order": "up"}, "order"), ({"limit": "0"}, "limit"), ({"cursor": "x1"}, "cursor"),
                        ({"actor": "a" * 100}, "actor")):
        assert_error(server.get("/v1/audit", token=root, params=params), 400, msg)


def test_a_small_orgs_trail_skips_the_stretches_of_other_orgs(server):
    """An org's view reads only the stretches of the trail that hold its
    records (audit_org_blocks, filled for existing records by migrations
    0011 and 0013): a small org in a trail of 40000 other records is one
    page, both ways."""
    root = server.root_token
    assert server.post("/v1/orgs", token=root, json={"name": "tiny", "display_name": "Tiny"}).status_code == 200
    wait_for(server, server.get("/v1/orgs/tiny", token=root).headers["X-Request-Id"])
    assert server.stop() == 0
    con = db(server)
    try:
        # As a data dir from before 0011 has it: no org ids (0013) nor replaced_by (0012) either.
        rewind(con, 11)
        base = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
        now_ms = int(time.time() * 1000) + 10000
        rows_ = []
        for i in range(1, 40001):
            org = "tiny" if i in (5000, 39000) else "other"
            rows_.append((base + i, now_ms + i, "filler-%d" % i, "user", "x", org, "", "", org, "",
                          "auth.whoami", "GET", "/v1/auth/whoami", "success", 200, "127.0.0.1", "filler", bytes(32)))
        con.executemany("INSERT INTO audit VALUES (%s)" % ", ".join("?" * 18), rows_)
        # As a data dir from before 0011 has it: records, no blocks.
        con.execute("DROP TABLE audit_org_blocks")
        con.commit()
    finally:
        con.close()
    server.start()
    for order in ("asc", "desc"):
        body = server.get("/v1/orgs/tiny/audit", token=root, params={"order": order, "limit": 200}).json()
        seqs = [r["seq"] for r in body["items"] if r["request_id"].startswith("filler-")]
        assert seqs == ([base + 5000, base + 39000] if order == "asc" else [base + 39000, base + 5000]), body
        assert body["next_cursor"] is None, body
    # Records written from now on note their stretch as they go.
    r = server.post("/v1/orgs/tiny/teams", token=root, json={"name": "late"})
    assert r.status_code == 200, r.text
    body = server.get("/v1/orgs/tiny/audit", token=root, params={"limit": 5}).json()
    assert any(x["request_id"] == r.headers["X-Request-Id"] for x in body["items"]), body


def test_a_query_that_matches_little_answers_in_bounded_pages(server):
    """However large the trail, one page examines a bounded part of it
    (16384 records): a filter that matches little gets the records found so
    far and a cursor, and following cursors finds every match, both ways."""
    wait_for(server, server.get("/v1/auth/whoami", token=server.root_token).headers["X-Request-Id"])
    assert server.stop() == 0
    con = db(server)
    try:
        base = con.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
        rows_ = []
        for i in range(1, 40001):
            actor = "needle" if i in (100, 39000) else "straw"
            rows_.append((base + i, 1700000000000 + i, "filler-%d" % i, "user", actor, "", "", "", "", "",
                          "auth.whoami", "GET", "/v1/auth/whoami", "success", 200, "127.0.0.1", "filler", bytes(32), ""))
        con.executemany("INSERT INTO audit VALUES (%s)" % ", ".join("?" * 19), rows_)
        con.commit()
    finally:
        con.close()
    server.start()
    want = [base + 100, base + 39000]
    for order in ("asc", "desc"):
        found, pages, cursor = [], [], None
        while True:
            params = {"actor": "needle", "order": order, "limit": 200}
            if cursor:
                params["cursor"] = cursor
            r = server.get("/v1/audit", token=server.root_token, params=params)
            assert r.status_code == 200, r.text
            body = r.json()
            pages.append(len(body["items"]))
            found += [item["seq"] for item in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
            assert len(pages) < 20, pages
        assert found == (want if order == "asc" else want[::-1]), (order, found)
        # 40000 records and more: at least three pages, one of them empty but with a cursor.
        assert len(pages) >= 3 and 0 in pages[:-1], (order, pages)
    # A filter that matches plenty still fills its page.
    r = server.get("/v1/audit", token=server.root_token, params={"actor": "straw", "limit": 200})
    assert len(r.json()["items"]) == 200 and r.json()["next_cursor"]


def test_no_route_changes_or_deletes_records(server):
    root = server.root_token
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = server.request(method, "/v1/audit", token=root)
        assert_error(r, 405)
        assert r.headers["Allow"] == "GET"
    # And the store itself refuses: the table has immutability triggers.
    con = db(server)
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        con.execute("UPDATE audit SET status = 200")
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        con.execute("DELETE FROM audit")
    con.close()


def test_verify_names_the_first_changed_or_missing_record(server):
    root = server.root_token
    for i in range(5):
        server.post("/v1/tokens", token=root, json={"description": "v%d" % i})
    assert server.stop() == 0
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    n = len(audit_rows(server))
    assert "intact: %d record(s)" % n in r.stdout

    tamper(server, "UPDATE audit SET status = 201 WHERE seq = 3")
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 1
    assert "BROKEN at record 3" in r.stdout and "changed" in r.stdout

    tamper(server, "UPDATE audit SET status = 200 WHERE seq = 3")
    assert run_cli("operator", "audit", "verify", "--data-dir", server.data_dir).returncode == 0
    # A record taken out breaks the chain at the one after it.
    tamper(server, "DELETE FROM audit WHERE seq = 2")
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 1 and "BROKEN at record 3" in r.stdout and "missing" in r.stdout


@pytest.mark.parametrize("forged", [bytes.fromhex("ab" * 32), "ab" * 32, b"short", "~" * 100, 7],
                         ids=["hash-bytes", "hash-as-text", "wrong-length", "long-text", "integer"])
def test_a_rewritten_hash_breaks_the_chain_at_its_record(server, forged):
    """A hash replaced in the file, in the stored form (32 bytes) or any
    other, is named by verify; the server still reads the trail."""
    root = server.root_token
    for i in range(3):
        server.post("/v1/tokens", token=root, json={"description": "h%d" % i})
    assert server.stop() == 0
    tamper(server, "UPDATE audit SET hash = ? WHERE seq = 2", (forged,))
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 1 and "BROKEN at record 2" in r.stdout, r.stdout + r.stderr
    server.start()
    listed = all_records(server)
    assert [x["seq"] for x in listed[:3]] == [1, 2, 3]


@pytest.mark.parametrize("change", ["resource = printf('%.1000c', '~')", "status = 5000",
                                    "user_agent = CAST(X'61006263' AS TEXT)", "actor_name = 12345"],
                         ids=["too-long", "status-out-of-range", "nul-inside", "integer"])
def test_a_field_latchkey_could_not_have_written_is_named_by_verify(server, change):
    """A field changed in the file to something latchkey never writes still
    breaks the chain at its record; listings keep working."""
    root = server.root_token
    for i in range(3):
        server.post("/v1/tokens", token=root, json={"description": "f%d" % i})
    assert server.stop() == 0
    tamper(server, "UPDATE audit SET %s WHERE seq = 2" % change)
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 1 and "BROKEN at record 2" in r.stdout, r.stdout + r.stderr
    server.start()
    assert [x["seq"] for x in all_records(server)][:3] == [1, 2, 3]


def test_an_export_verifies_without_latchkey(server, tmp_path):
    """scripts/audit-verify.py checks `operator audit export` with SHA-256
    alone: the whole varied trail is intact; a changed, removed or repeated
    line, or a cut-back trail against an anchor, is named."""
    root = server.root_token
    setup_org(server, "exp")
    server.get("/v1/auth/whoami", token="lk_root_notavalidtoken", headers={"User-Agent": 'ua "quoted" \\ \u00e9'})
    server.get("/v1/nowhere", token=root)
    server.post("/v1/orgs/exp/teams", token=root, json={"name": "web"})
    assert server.stop() == 0
    export = run_cli("operator", "audit", "export", "--data-dir", server.data_dir)
    assert export.returncode == 0, export.stderr
    lines = export.stdout.splitlines()
    assert len(lines) >= 10
    path = tmp_path / "trail.jsonl"
    path.write_text(export.stdout)
    r = run_verify_script(str(path))
    assert r.returncode == 0 and "intact: %d record(s)" % len(lines) in r.stdout, r.stdout + r.stderr
    head = run_cli("operator", "audit", "head", "--data-dir", server.data_dir).stdout.strip()
    assert run_verify_script(str(path), "--anchor", head).returncode == 0

    def broken(changed, why):
        r = run_verify_script("-", stdin="\n".join(changed) + "\n")
        assert r.returncode == 1 and why in r.stdout, (why, r.stdout, r.stderr)

    third = json.loads(lines[2])
    broken(lines[:2] + [json.dumps(dict(third, status=third["status"] + 1))] + lines[3:],
           "BROKEN at record 3: its content does not match its hash")
    broken(lines[:2] + lines[3:], "BROKEN at record 4: expected seq 3 after 2")
    broken(lines[:3] + [lines[2]] + lines[3:], "BROKEN at record 3: expected seq 4 after 3")  # a record twice
    # Lines out of seq order (the file sink writes in commit order) are put back in order.
    swapped = run_verify_script("-", stdin="\n".join(lines[:2] + [lines[3], lines[2]] + lines[4:]) + "\n")
    assert swapped.returncode == 0, swapped.stdout
    r = run_verify_script("-", "--anchor", head, stdin="\n".join(lines[:-1]) + "\n")
    assert r.returncode == 1 and "cut back" in r.stdout, r.stdout
    r = run_verify_script("-", stdin="not json\n")
    assert r.returncode == 2 and "line 1" in r.stderr, r.stderr


def test_a_record_resealed_after_a_change_breaks_the_chain_at_the_next(server):
    """Someone who changes a record and recomputes its hash gets past that
    record, not past the one after it: its hash covers the old link."""
    root = server.root_token
    for i in range(4):
        server.post("/v1/tokens", token=root, json={"description": "r%d" % i})
    assert server.stop() == 0
    stored = audit_rows(server)
    prev = "0" * 64
    for rec in stored:  # the script's encoding is the one in force: every stored hash is its own
        assert audit_verify.record_hash(rec, prev) == rec["hash"], rec
        prev = rec["hash"]
    changed = dict(stored[1], status=404, outcome="error")
    tamper(server, "UPDATE audit SET status = 404, outcome = 'error', hash = ? WHERE seq = 2",
           (bytes.fromhex(audit_verify.record_hash(changed, stored[0]["hash"])),))
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 1, r.stdout
    assert "BROKEN at record 3" in r.stdout and "record 2 was and its hash recomputed" in r.stdout, r.stdout


def test_a_mutation_is_refused_and_not_applied_when_its_record_cannot_be_written(server):
    root = server.root_token
    con = db(server)
    con.execute("CREATE TRIGGER audit_block BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'blocked'); END")
    con.commit()
    r = server.post("/v1/orgs", token=root, json={"name": "ghost", "display_name": "Ghost"})
    assert_error(r, 503, "audit trail")
    t = server.post("/v1/tokens", token=root, json={"description": "ghost token"})
    assert_error(t, 503, "not applied")
    # Health says so, for readiness probes and load balancers.
    assert_error(server.get("/v1/sys/health"), 503, "audit records could not be written")
    con.execute("DROP TRIGGER audit_block")
    con.commit()
    con.close()
    # Once a record goes in again (the health checks' own), it is ready again.
    deadline = time.time() + 5
    while server.get("/v1/sys/health").status_code != 200:
        assert time.time() < deadline, "health stayed 503 after the trail was writable again"
        time.sleep(0.02)
    assert server.get("/v1/sys/health").json()["status"] == "ok"
    # Nothing of either change exists.
    assert_error(server.get("/v1/orgs/ghost", token=root), 404)
    listed = server.get("/v1/tokens?limit=200", token=root).json()["items"]
    assert not any(x["description"] == "ghost token" for x in listed)
    assert audit_rows(server, "action = 'org.create'") == []
    # And once the trail is writable again, the same request works and is recorded.
    ok = server.post("/v1/orgs", token=root, json={"name": "ghost", "display_name": "Ghost"})
    assert ok.status_code == 200
    assert audit_rows(server, "request_id = ?", (ok.headers["X-Request-Id"],))
    assert server.get("/v1/orgs/ghost", token=root).status_code == 200


def test_a_failed_mutation_leaves_nothing_half_written(server):
    """A request either commits all its writes with its record, or none."""
    root = server.root_token
    server.post("/v1/orgs", token=root, json={"name": "acme", "display_name": "Acme"})
    r = server.post("/v1/orgs/acme/users", token=root, json={"username": "dup", "email": "d@example.com"})
    assert r.status_code == 200
    again = server.post("/v1/orgs/acme/users", token=root, json={"username": "dup", "email": "other@example.com"})
    assert_error(again, 409)
    u = server.get("/v1/orgs/acme/users/dup", token=root).json()
    assert u["email"] == "d@example.com"
    rec = audit_rows(server, "request_id = ?", (again.headers["X-Request-Id"],))
    assert rec and rec[0]["status"] == 409 and rec[0]["outcome"] == "error"


def test_mutation_records_are_in_the_store_when_the_answer_arrives(server):
    root = server.root_token
    for i in range(20):
        r = server.post("/v1/tokens", token=root, json={"description": "d%d" % i})
        assert r.status_code == 200
        remember_secret(r.json()["token"])
        # No waiting: the record was committed (and synced) before the reply.
        assert audit_rows(server, "request_id = ?", (r.headers["X-Request-Id"],)), i


def test_sync_reads_are_recorded_before_the_answer(make_server):
    server = make_server(extra=["--audit-sync-reads"])
    for i in range(20):
        r = server.get("/v1/auth/whoami", token=server.root_token)
        assert r.status_code == 200
        assert audit_rows(server, "request_id = ?", (r.headers["X-Request-Id"],)), i


def test_file_sink_gets_every_record_and_reopens_on_sighup(make_server, tmp_path):
    path = str(tmp_path / "audit.jsonl")
    server = make_server(extra=["--audit-file", path])
    root = server.root_token
    a = server.post("/v1/tokens", token=root, json={"description": "sink"})
    remember_secret(a.json()["token"])
    b = server.get("/v1/auth/whoami", token=root)
    wait_for(server, b.headers["X-Request-Id"])
    deadline = time.time() + 5
    while time.time() < deadline and len(open(path).read().splitlines()) < 2:
        time.sleep(0.02)
    lines = [json.loads(x) for x in open(path).read().splitlines()]
    ids = {x["request_id"] for x in lines}
    assert {a.headers["X-Request-Id"], b.headers["X-Request-Id"]} <= ids
    # The lines are the records the API shows.
    api = {r["request_id"]: r for r in all_records(server)}
    for x in lines:
        assert api[x["request_id"]] == x
    os.rename(path, path + ".1")
    server.proc.send_signal(signal.SIGHUP)
    time.sleep(0.2)
    c = server.get("/v1/auth/whoami", token=root)
    deadline = time.time() + 5
    while time.time() < deadline and not os.path.exists(path):
        time.sleep(0.02)
    deadline = time.time() + 5
    while time.time() < deadline and c.headers["X-Request-Id"] not in open(path).read():
        time.sleep(0.02)
    assert c.headers["X-Request-Id"] in open(path).read()
    assert c.headers["X-Request-Id"] not in open(path + ".1").read()


def test_the_servers_clean_up_is_recorded_in_the_store_and_the_file_sink(make_server, tmp_path):
    """The hourly clean-up inside the server goes through the writer like
    every record of the process, so the file sink has it too; the sink is a
    whole chain that scripts/audit-verify.py checks."""
    path = str(tmp_path / "audit.jsonl")
    server = make_server(extra=["--audit-file", path, "--touch-interval", "1"])
    old = server.create_token(description="long gone", expires="P1D")
    remember_secret(old["token"])
    assert server.stop() == 0
    con = db(server)
    con.execute("UPDATE tokens SET expires_at = ? WHERE id = ?", (int(time.time()) - 91 * 86400, old["id"]))
    con.commit()
    con.close()
    server.start()  # the first pass runs within a touch interval
    deadline = time.time() + 10
    while not audit_rows(server, "action = 'token.cleanup'"):
        assert time.time() < deadline, "no clean-up record"
        time.sleep(0.05)
    rec = audit_rows(server, "action = 'token.cleanup'")[0]
    assert (rec["actor_type"], rec["actor_name"], rec["method"]) == ("system", "cleanup", "JOB")
    server.get("/v1/auth/whoami", token=server.root_token)
    assert server.stop() == 0
    sink = [json.loads(x) for x in open(path).read().splitlines()]
    assert rec["request_id"] in {x["request_id"] for x in sink if x["action"] == "token.cleanup"}
    assert sorted(x["seq"] for x in sink) == [r["seq"] for r in audit_rows(server)]
    r = run_verify_script(path)
    assert r.returncode == 0 and "intact: %d record(s)" % len(sink) in r.stdout, r.stdout + r.stderr


def test_a_file_sink_written_under_concurrent_mutations_and_reads_verifies(make_server, tmp_path):
    """The sink is in commit order, a batch or so off seq order when
    mutations and reads race; the checker puts it back and finds the whole
    chain."""
    import threading
    path = str(tmp_path / "audit.jsonl")
    server = make_server(extra=["--audit-file", path, "--rate-limit-token", "0", "--rate-limit-ip", "0"])
    root = server.root_token

    def creates():
        for i in range(25):
            remember_secret(server.post("/v1/tokens", token=root, json={"description": "race"}).json()["token"])

    def reads():
        for _ in range(150):
            server.get("/v1/auth/whoami", token=root)
    threads = [threading.Thread(target=f) for f in (creates, creates, reads, reads, reads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.stop() == 0
    n = len(audit_rows(server))
    r = run_verify_script(path)
    assert r.returncode == 0 and "intact: %d record(s)" % n in r.stdout, r.stdout + r.stderr


def test_export_prints_the_trail_as_json_lines(server):
    root = server.root_token
    server.post("/v1/orgs", token=root, json={"name": "acme", "display_name": "Acme"})
    server.get("/v1/orgs/acme", token=root)
    time.sleep(0.2)
    assert server.stop() == 0
    r = run_cli("operator", "audit", "export", "--data-dir", server.data_dir)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))
    assert {"org.create", "org.read"} <= {x["action"] for x in lines}
    only = run_cli("operator", "audit", "export", "--data-dir", server.data_dir, "--org", "acme")
    assert only.returncode == 0
    assert all(json.loads(x)["org"] == "acme" for x in only.stdout.splitlines())
    assert run_cli("operator", "audit", "export", "--data-dir", server.data_dir, "--since", "x").returncode == 2
    assert run_cli("operator", "audit", "nope", "--data-dir", server.data_dir).returncode == 2


def test_records_outlive_what_they_describe_and_clean_up_never_touches_them(server):
    root = server.root_token
    server.post("/v1/orgs", token=root, json={"name": "acme", "display_name": "Acme"})
    assert server.delete("/v1/orgs/acme", token=root).status_code == 204
    before = len(audit_rows(server))
    r = run_cli("operator", "cleanup", "--data-dir", server.data_dir)
    assert r.returncode == 0
    after = audit_rows(server)
    assert len(after) == before + 1  # the clean-up itself is recorded
    assert after[-1]["action"] == "token.cleanup" and after[-1]["actor_type"] == "operator"
    assert {x["action"] for x in audit_rows(server, "org = 'acme'")} >= {"org.create", "org.delete"}


def test_operator_root_token_is_recorded(server):
    assert server.stop() == 0
    r = run_cli("operator", "root-token", "--data-dir", server.data_dir)
    assert r.returncode == 0
    remember_secret(r.stdout.split("Root token: ")[1].split()[0])
    last = audit_rows(server)[-1]
    assert (last["action"], last["actor_type"], last["method"]) == ("operator.root_token", "operator", "CLI")
    assert last["resource"].startswith("lk_root_")
    assert r.stdout.split("Root token: ")[1].split()[0] not in json.dumps(last)
    assert run_cli("operator", "audit", "verify", "--data-dir", server.data_dir).returncode == 0


def test_chain_continues_across_restarts_and_concurrent_writers(server):
    import concurrent.futures
    root = server.root_token

    def work(i):
        if i % 2:
            return server.post("/v1/tokens", token=root, json={"description": "c%d" % i}).status_code
        return server.get("/v1/auth/whoami", token=root).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert set(ex.map(work, range(200))) == {200}
    server.restart()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        assert set(ex.map(work, range(100))) == {200}
    assert server.stop() == 0
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 0, r.stdout
    assert len(audit_rows(server)) >= 300
    seqs = [x["seq"] for x in audit_rows(server)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_every_route_records_its_action(make_server):
    """Each route of `latchkey routes` (asked with ?help=1, so nothing
    changes) leaves a record naming that route's action, method and path."""
    server = make_server(extra=["--rate-limit-ip", "100000/60"])
    out = run_cli("routes").stdout.split("\n")
    routes = [line.split() for line in out if line.strip()]
    assert len(routes) > 30
    sent = []
    for method, pattern, action in routes:
        # Each {name} becomes a segment "xname", whatever the resource.
        path = re.sub(r"\{(\w+)(?:\.\.\.)?\}", r"x\1", pattern)
        r = server.request(method, path + "?help=1", token=server.root_token)
        assert r.status_code in (200, 401), (method, path, r.status_code, r.text)
        sent.append((r.headers["X-Request-Id"], method, path, action))
    for rid, method, path, action in sent:
        rec = wait_for(server, rid)
        # Reading a route's help is recorded as such, not as doing it.
        assert (rec["action"], rec["method"], rec["resource"]) == (action + ".help", method, path), rec


def test_rate_limited_before_routing_still_names_the_route(make_server):
    server = make_server(extra=["--rate-limit-ip", "2/60"])
    got = [server.get("/v1/auth/whoami", token=server.root_token) for _ in range(3)]
    assert [r.status_code for r in got] == [200, 200, 429]
    rec = wait_for(server, got[2].headers["X-Request-Id"])
    assert (rec["action"], rec["outcome"], rec["status"]) == ("auth.whoami", "rate_limited", 429)


def test_refused_mutations_are_recorded_before_the_answer(server):
    """A mutating request refused before it ran (bad credentials, no route)
    is recorded durably before its answer, like every mutation."""
    for i in range(10):
        r = server.post("/v1/tokens", headers={"Authorization": "Bearer lk_user_nope"}, json={})
        assert r.status_code == 401
        assert audit_rows(server, "request_id = ?", (r.headers["X-Request-Id"],)), i
        r = server.request("DELETE", "/v1/no/such/route", token=server.root_token)
        assert r.status_code == 404
        assert audit_rows(server, "request_id = ?", (r.headers["X-Request-Id"],)), i


def test_an_anchor_kept_elsewhere_shows_the_trail_was_cut_back(server):
    """The chain cannot show its newest records were removed; an anchor
    (`audit head`, kept outside the store) can."""
    root = server.root_token
    for i in range(4):
        server.post("/v1/tokens", token=root, json={"description": "a%d" % i})
    assert server.stop() == 0
    head = run_cli("operator", "audit", "head", "--data-dir", server.data_dir)
    assert head.returncode == 0
    anchor = head.stdout.strip()
    seq, digest = anchor.split(":")
    last = audit_rows(server)[-1]
    assert (int(seq), digest) == (last["seq"], last["hash"])
    ok = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir, "--anchor", anchor)
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stdout + ok.stderr
    # The newest two records are removed: the rest is still a valid chain...
    tamper(server, "DELETE FROM audit WHERE seq > ?", (int(seq) - 2,))
    assert run_cli("operator", "audit", "verify", "--data-dir", server.data_dir).returncode == 0
    # ...but not what the anchor says it was.
    cut = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir, "--anchor", anchor)
    assert cut.returncode == 1 and "cut back" in cut.stdout, cut.stdout
    wrong = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir, "--anchor", "1:" + "0" * 64)
    assert wrong.returncode == 1 and "another hash" in wrong.stdout
    for bad in ("x", "0:abc", "12"):
        assert run_cli("operator", "audit", "verify", "--data-dir", server.data_dir, "--anchor", bad).returncode == 2


def anchors(server):
    """The "audit anchor SEQ:HASH" lines of the server's log, oldest first."""
    out = []
    for line in server.stderr().splitlines():
        try:
            msg = json.loads(line).get("msg", "")
        except ValueError:
            continue
        m = re.match(r"audit anchor (\d+):([0-9a-f]{64}) \((periodic|at stop)\)$", msg)
        if m:
            out.append((int(m.group(1)), m.group(2), m.group(3)))
    return out


def test_the_server_logs_durable_anchors_while_the_trail_grows_and_at_stop(make_server):
    server = make_server(extra=["--audit-anchor-interval", "1"])
    root = server.root_token
    server.post("/v1/tokens", token=root, json={"description": "a"})
    deadline = time.time() + 10
    while not anchors(server) and time.time() < deadline:
        time.sleep(0.1)
    first = anchors(server)
    assert first and first[0][2] == "periodic", server.stderr()
    # Nothing new: no new anchor, however long the server idles.
    time.sleep(1.5)
    assert len(anchors(server)) == len(first)
    for i in range(3):
        server.post("/v1/tokens", token=root, json={"description": "b%d" % i})
    assert server.stop() == 0
    logged = anchors(server)
    seq, digest, when = logged[-1]
    assert when == "at stop"
    # Each anchor names a record exactly as stored; the last is the head.
    stored = {r["seq"]: r["hash"] for r in audit_rows(server)}
    assert all(stored[s] == h for s, h, _ in logged)
    head = run_cli("operator", "audit", "head", "--data-dir", server.data_dir).stdout.strip()
    assert head == "%d:%s" % (seq, digest)
    assert [s for s, _, _ in logged] == sorted(s for s, _, _ in logged)
    # The logged anchor is what shows a cut-back trail.
    tamper(server, "DELETE FROM audit WHERE seq = ?", (seq,))
    assert run_cli("operator", "audit", "verify", "--data-dir", server.data_dir).returncode == 0
    cut = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir, "--anchor", "%d:%s" % (seq, digest))
    assert cut.returncode == 1 and "cut back" in cut.stdout


def test_anchor_interval_zero_logs_only_at_stop(make_server):
    server = make_server(extra=["--audit-anchor-interval", "0"])
    for i in range(3):
        server.post("/v1/tokens", token=server.root_token, json={"description": "z%d" % i})
    time.sleep(1.2)
    assert anchors(server) == []
    assert server.stop() == 0
    assert [w for _, _, w in anchors(server)] == ["at stop"]


def test_the_writer_reports_where_durable_answers_waited(make_server):
    """At stop the writer logs its figures (docs/performance.md reads them):
    records, batches, syncs, how long answers waited to be durable, and the
    checkpoints run beside it."""
    server = make_server(extra=["--audit-sync-reads"])
    for _ in range(5):
        assert server.get("/v1/auth/whoami", token=server.root_token).status_code == 200
    assert server.stop() == 0
    msgs = [json.loads(l)["msg"] for l in server.stderr().splitlines()
            if l.startswith("{") and "audit writer:" in l]
    assert len(msgs) == 1, msgs
    m = re.match(r"audit writer: (\d+) record\(s\) written, 0 failed, in (\d+) batch\(es\) \(commit (\d+) us avg\) "
                 r"with (\d+) sync\(s\) \((\d+) us avg, (\d+) max\); (\d+) answer\(s\) waited for durability "
                 r"\((\d+) us avg, (\d+) max\); (\d+) checkpoint\(s\) beside it \((\d+) us avg\)$", msgs[0])
    assert m, msgs[0]
    written, batches, _, syncs, sync_avg, sync_max, waited, wait_avg, wait_max, _, _ = map(int, m.groups())
    assert 5 <= written <= len(audit_rows(server))
    # The writer syncs each batch somebody waits on, itself.
    assert 1 <= batches <= written and 1 <= syncs <= batches
    assert waited >= 5 and sync_max >= sync_avg and wait_max >= wait_avg > 0


def test_ipv6_clients_are_recorded_by_their_address(make_server):
    import socket
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = make_server(extra=["--listen", "[::1]:0"])
    r = server.get("/v1/auth/whoami", token=server.root_token)
    assert r.status_code == 200
    assert server.stop() == 0  # a read's record may still be on its way to the store
    rec = [x for x in audit_rows(server) if x["request_id"] == r.headers["X-Request-Id"]]
    assert len(rec) == 1 and rec[0]["source_ip"] == "::1", rec
    assert '"remote":"::1"' in server.stderr()
