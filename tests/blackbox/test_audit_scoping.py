"""Audit scoping (docs/audit.md, "Which org a record is filed under"): a
record is filed under an org only when its caller belongs to that org or
is the partner admin, and by the org's id, so that a stranger or an
anonymous caller cannot write into another org's trail (its actor, source
address and user agent in front of that org's admins and team owners),
and an org deleted and re-created under the same name starts with an
empty trail. Each test is named after the attack it closes."""
import re
import sqlite3

import pytest

from helpers import (AUDIT_IMMUTABILITY, all_records, assert_error, audit_verify, create_org, create_team,
                     create_user, db, raw_exchange, remember_secret, rewind, run_cli, run_verify_script, set_member,
                     token_for, wait_for)

PROBE_UA = "probe/1.0 (not acme)"
PASSWORD = "an audited passphrase"


def view(server, org, token):
    return all_records(server, "/v1/orgs/%s/audit" % org, token=token)


def ids(records):
    return {r["request_id"] for r in records}


def rid(resp):
    return resp.headers["X-Request-Id"]


def recorded(server, *responses):
    """Waits until every response's record is in the store (reads are
    written just after their answer); returns their request ids."""
    for r in responses:
        wait_for(server, rid(r))
    return {rid(r) for r in responses}


def two_orgs(server):
    """acme (alice: admin; olga: owner of team payments) and globex (gina:
    admin; mallory: a member who probes acme; otto: owner of globex's own
    team payments; oscar: owner of team ops), each user with a token."""
    t = {"acme_id": create_org(server, "acme")["id"], "globex_id": create_org(server, "globex")["id"]}
    for org, user, role in [("acme", "alice", "admin"), ("acme", "olga", "member"), ("globex", "gina", "admin"),
                            ("globex", "mallory", "member"), ("globex", "otto", "member"),
                            ("globex", "oscar", "member")]:
        extra = {"password": PASSWORD} if role == "admin" else {}
        create_user(server, org, user, role=role, **extra)
        t[user] = token_for(server, org, user)
    for org, team, owner in [("acme", "payments", "olga"), ("globex", "payments", "otto"), ("globex", "ops", "oscar")]:
        create_team(server, org, team)
        set_member(server, org, team, owner, "owner")
    return t


def assert_not_in_acmes_trail(server, t, probe_ids):
    """Neither acme's admin nor its payments team's owner sees any of them,
    nor any trace of the prober's user agent."""
    admin = view(server, "acme", t["alice"])
    owner = view(server, "acme", t["olga"])
    assert admin and owner, "acme's views are not empty, so their emptiness of the probes means something"
    for seen in (admin, owner):
        assert not probe_ids & ids(seen), [r for r in seen if r["request_id"] in probe_ids]
        assert not [r for r in seen if r["user_agent"] == PROBE_UA]
    assert all(r["org_id"] == t["acme_id"] for r in admin)


def test_a_stranger_probing_acmes_team_members_is_in_its_own_orgs_trail_not_acmes(server):
    t = two_orgs(server)
    h = {"User-Agent": PROBE_UA}
    base = "/v1/orgs/acme/teams/payments"
    probes = [
        server.get(base + "/members", token=t["mallory"], headers=h),
        server.request("PUT", base + "/members/mallory", token=t["mallory"], headers=h, json={"role": "owner"}),
        server.get(base + "/service-accounts", token=t["mallory"], headers=h),
        server.get("/v1/orgs/acme/audit", token=t["mallory"], headers=h),
        server.get("/v1/orgs/acme/users/alice", token=t["mallory"], headers=h),
        server.request("DELETE", "/v1/orgs/acme", token=t["mallory"], headers=h),
        server.get(base + "/members", token=t["mallory"], headers=h, params={"help": "1"}),
    ]
    assert [p.status_code for p in probes] == [404, 404, 404, 404, 404, 404, 200], [p.text for p in probes]
    probe_ids = recorded(server, *probes)
    assert_not_in_acmes_trail(server, t, probe_ids)

    # Globex's admins see their member probing acme: their org, not acme,
    # and no team (acme's team name means nothing in globex).
    mine = [r for r in view(server, "globex", t["gina"]) if r["request_id"] in probe_ids]
    assert ids(mine) == probe_ids
    for r in mine:
        assert (r["org"], r["org_id"], r["team"]) == ("globex", t["globex_id"], None), r
        assert (r["actor"]["name"], r["actor"]["org"], r["user_agent"]) == ("mallory", "globex", PROBE_UA), r
        assert r["resource"].startswith("/v1/orgs/acme"), r
    # ... and so globex's own "payments" team owner does not get them either.
    assert not probe_ids & ids(view(server, "globex", t["otto"]))
    # The partner admin sees everything.
    assert probe_ids <= ids(all_records(server))


def test_no_route_naming_acme_lets_a_stranger_or_anonymous_caller_into_its_trail(server):
    """The class, not one route: every route with {org} in its path, called
    on acme by globex's member and by nobody, every method it takes."""
    t = two_orgs(server)
    routes = [line.split()[:2] for line in run_cli("routes").stdout.splitlines() if "/{org}" in line]
    assert len(routes) >= 30
    values = {"org": "acme", "team": "payments", "user": "alice"}
    h = {"User-Agent": PROBE_UA}
    probes = []
    for method, pattern in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), pattern)
        body = {} if method in ("POST", "PUT", "PATCH") else None
        stranger = server.request(method, path, token=t["mallory"], headers=h, json=body)
        nobody = server.request(method, path, headers=h, json=body)
        assert stranger.status_code in (400, 401, 404), (method, path, stranger.status_code, stranger.text)
        assert nobody.status_code == 401, (method, path, nobody.status_code, nobody.text)
        probes += [stranger, nobody]
    probe_ids = recorded(server, *probes)
    assert_not_in_acmes_trail(server, t, probe_ids)
    # Globex has its member's half of them, and nothing of the anonymous half.
    assert ids(view(server, "globex", t["gina"])) & probe_ids == {rid(p) for p in probes[0::2]}


def test_a_strangers_service_account_probe_is_filed_under_its_own_team(server):
    t = two_orgs(server)
    r = server.post("/v1/orgs/globex/teams/ops/service-accounts", token=t["oscar"], json={"name": "bot"})
    assert r.status_code == 200, r.text
    r = server.post("/v1/orgs/globex/teams/ops/service-accounts/bot/tokens", token=t["oscar"], json={})
    assert r.status_code == 200, r.text
    bot = remember_secret(r.json()["token"])
    probe = server.get("/v1/orgs/acme/teams/payments/members", token=bot, headers={"User-Agent": PROBE_UA})
    assert_error(probe, 404)
    probe_ids = recorded(server, probe)
    assert_not_in_acmes_trail(server, t, probe_ids)
    # Its own team's owner sees it under the team, not under acme's team's name.
    ops = [r for r in view(server, "globex", t["oscar"]) if r["request_id"] in probe_ids]
    assert [(r["org"], r["org_id"], r["team"], r["actor"]["type"]) for r in ops] == \
        [("globex", t["globex_id"], "ops", "service_account")]
    assert not probe_ids & ids(view(server, "globex", t["otto"]))


def test_an_anonymous_probe_is_not_in_acmes_trail(make_server):
    """No credential, a broken one, a revoked one, a body over the limit, a
    wrong method, a path no route has: none of it is acme's."""
    server = make_server(extra=["--max-body", "2048"])
    t = two_orgs(server)
    h = {"User-Agent": PROBE_UA}
    revoked = token_for(server, "acme", "olga")
    assert server.delete("/v1/tokens/" + revoked.rsplit("_", 1)[0], token=revoked).status_code == 204
    base = "/v1/orgs/acme/teams/payments/members"
    probes = [
        server.get(base, headers=h),
        server.get(base, token="lk_user_garbage", headers=h),
        server.get(base, token=revoked, headers=h),
        server.get(base, headers=h, params={"help": "1"}),
        server.request("PUT", base + "/eve", headers=h, json={"role": "owner"}),
        server.post("/v1/orgs/acme/users", headers=dict(h, **{"Content-Type": "application/json"}),
                    data='{"username": "%s"}' % ("x" * 4000)),
        server.request("PATCH", base, token=t["alice"], headers=h),
        server.get("/v1/orgs/acme/no-such-thing", headers=h),
    ]
    assert [p.status_code for p in probes] == [401, 401, 401, 401, 401, 413, 405, 404], [p.text for p in probes]
    probe_ids = recorded(server, *probes)
    # One h2o refuses itself (a declared length far over the limit).
    status, headers, _ = raw_exchange(server, b"POST /v1/orgs/acme/users HTTP/1.1\r\nHost: x\r\nUser-Agent: " +
                                      PROBE_UA.encode() + b"\r\nContent-Type: application/json\r\n"
                                      b"Content-Length: 3145728\r\n\r\n")
    assert status.startswith("HTTP/1.1 413"), status
    wait_for(server, headers["X-Request-Id"])
    probe_ids.add(headers["X-Request-Id"])
    assert_not_in_acmes_trail(server, t, probe_ids)
    assert not probe_ids & ids(view(server, "globex", t["gina"]))
    # The partner admin has them, under no org.
    everything = {r["request_id"]: r for r in all_records(server)}
    for i in probe_ids:
        assert (everything[i]["org"], everything[i]["org_id"], everything[i]["team"]) == (None, None, None)
        assert everything[i]["actor"]["type"] == "anonymous" and everything[i]["user_agent"] == PROBE_UA


def test_an_anonymous_caller_cannot_write_into_acmes_trail_through_sign_up_or_login(make_server):
    """Sign-up and login name an org in their body. Only what the caller
    became part of is filed there: a sign-up's new org, a login's org; a
    refused login is acme's only when the account is real (guessing at
    alice's password shows in acme's trail, at most as often as the
    per-account limit lets it), never for a made-up name, nor once the
    limit refuses."""
    server = make_server(extra=["--rate-limit-login-account", "3/300"])
    t = two_orgs(server)
    h = {"User-Agent": PROBE_UA}
    taken = server.post("/v1/orgs/signup", headers=h, json={
        "name": "acme", "admin": {"username": "eve", "email": "e@example.com", "password": PASSWORD}})
    assert_error(taken, 409)
    made_up = server.post("/v1/auth/login", headers=h,
                          json={"org": "acme", "username": "you-have-been-hacked", "password": "x" * 12})
    assert_error(made_up, 401)
    guesses = [server.post("/v1/auth/login", headers={"User-Agent": "guesser/1.0"},
                           json={"org": "acme", "username": "alice", "password": "guess %d" % i}) for i in range(4)]
    assert [g.status_code for g in guesses] == [401, 401, 401, 429]
    outside = recorded(server, taken, made_up, guesses[3])
    assert_not_in_acmes_trail(server, t, outside)
    # The guesses the limit let through are acme's to see: they name its real account.
    acme = {r["request_id"]: r for r in view(server, "acme", t["alice"])}
    for g in guesses[:3]:
        r = acme[rid(g)]
        assert (r["actor"]["type"], r["actor"]["name"], r["outcome"], r["org_id"]) == \
            ("anonymous", "alice", "denied", t["acme_id"]), r
    # A login that works is the org's too (globex's account: acme's limit is spent).
    ok = server.post("/v1/auth/login", json={"org": "globex", "username": "gina", "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    remember_secret(ok.json()["token"])
    r = {x["request_id"]: x for x in view(server, "globex", t["gina"])}[rid(ok)]
    assert (r["actor"]["type"], r["actor"]["name"], r["org"], r["org_id"]) == ("user", "gina", "globex", t["globex_id"])
    # A sign-up that works is the new org's: its admin reads it once approved.
    made = server.post("/v1/orgs/signup", json={
        "name": "initech", "admin": {"username": "peter", "email": "p@example.com", "password": PASSWORD}})
    assert made.status_code == 200, made.text
    assert server.post("/v1/orgs/initech/approve", token=server.root_token).status_code == 200
    peter = token_for(server, "initech", "peter")
    r = {x["request_id"]: x for x in view(server, "initech", peter)}[rid(made)]
    assert (r["action"], r["org"], r["org_id"]) == ("org.signup", "initech", made.json()["id"])
    # The partner admin sees what was tried where, under no org.
    everything = {x["request_id"]: x for x in all_records(server)}
    assert (everything[rid(taken)]["org"], everything[rid(taken)]["actor"]["org"]) == (None, "acme")
    assert everything[rid(made_up)]["actor"]["name"] == "you-have-been-hacked"


def test_the_partner_admin_files_under_the_org_it_addresses(server):
    """The partner admin belongs to every org: its requests go to the org it
    names, by that org's id; a name no org holds (any more) is kept for it
    to read, under no org."""
    root = server.root_token
    created = server.post("/v1/orgs", token=root, json={"name": "hooli", "display_name": "Hooli"})
    assert created.status_code == 200
    hooli_id = created.json()["id"]
    create_user(server, "hooli", "gavin", role="admin")
    gavin = token_for(server, "hooli", "gavin")
    read = server.get("/v1/orgs/hooli/users", token=root)
    missing = server.get("/v1/orgs/nosuch/users", token=root)
    assert missing.status_code == 404
    recorded(server, read, missing)
    hooli = {r["request_id"]: r for r in view(server, "hooli", gavin)}
    for resp, action in ((created, "org.create"), (read, "user.list")):
        r = hooli[rid(resp)]
        assert (r["action"], r["actor"]["type"], r["org"], r["org_id"]) == (action, "root", "hooli", hooli_id), r
    r = {x["request_id"]: x for x in all_records(server)}[rid(missing)]
    assert (r["org"], r["org_id"]) == ("nosuch", None)


def test_an_org_deleted_and_recreated_under_its_name_sees_none_of_the_old_records(server):
    """Records carry the id of the org they are filed under; a new org of
    the same name has another id, so its admins and team owners see none
    of the old org's records. The deletion's record names the id it had."""
    root = server.root_token
    old = create_org(server, "reuse")
    for user, role in (("alice", "admin"), ("olga", "member")):
        create_user(server, "reuse", user, role=role)
    old_alice, old_olga = token_for(server, "reuse", "alice"), token_for(server, "reuse", "olga")
    assert server.post("/v1/orgs/reuse/teams", token=old_alice, json={"name": "web"}).status_code == 200
    assert server.request("PUT", "/v1/orgs/reuse/teams/web/members/olga", token=old_alice,
                          json={"role": "owner"}).status_code == 200
    secret = server.get("/v1/orgs/reuse/teams/web/members", token=old_olga, headers={"User-Agent": "old holder"})
    assert secret.status_code == 200
    recorded(server, secret)
    old_trail = view(server, "reuse", old_alice)
    assert rid(secret) in ids(old_trail) and {r["org_id"] for r in old_trail} == {old["id"]}
    gone = server.delete("/v1/orgs/reuse", token=root)
    assert gone.status_code == 204

    new = create_org(server, "reuse")
    assert new["id"] != old["id"]
    for user, role in (("alice", "admin"), ("olga", "member")):
        create_user(server, "reuse", user, role=role)
    new_alice, new_olga = token_for(server, "reuse", "alice"), token_for(server, "reuse", "olga")
    assert server.post("/v1/orgs/reuse/teams", token=new_alice, json={"name": "web"}).status_code == 200
    assert server.request("PUT", "/v1/orgs/reuse/teams/web/members/olga", token=new_alice,
                          json={"role": "owner"}).status_code == 200
    # The old holder's clients still calling with their (now deleted) tokens
    # are nobody's to see but the partner admin's.
    stale = server.get("/v1/orgs/reuse/teams/web/members", token=old_olga, headers={"User-Agent": "old holder"})
    assert_error(stale, 401)
    recorded(server, stale)
    admin = view(server, "reuse", new_alice)
    owner = view(server, "reuse", new_olga)
    assert admin and owner
    for seen in (admin, owner):
        assert not (ids(old_trail) | {rid(stale)}) & ids(seen)
        assert {r["org_id"] for r in seen} == {new["id"]}
        assert not [r for r in seen if r["user_agent"] == "old holder"]
    assert all(r["team"] == "web" for r in owner)
    # The partner admin sees both holders, told apart by id, and the deletion.
    everything = {r["request_id"]: r for r in all_records(server)}
    assert ids(old_trail) <= set(everything)
    assert (everything[rid(gone)]["org"], everything[rid(gone)]["org_id"]) == ("reuse", old["id"])
    assert everything[rid(gone)]["action"] == "org.delete"


PATH_SCOPE = re.compile(r"^/v1/orgs/([a-z0-9][a-z0-9-]*)(?:/teams/([a-z0-9][a-z0-9-]*))?(?:/|$)")


def to_before_org_ids(server):
    """Makes the stopped server's store look like one written before
    migration 0013: no org_id column (every record re-sealed without one,
    as the old binary sealed them), org-scoped blocks by name, and a record
    of a request that named an org (and team) in its path filed under
    them, whoever made it, as the old binary filed it."""
    con = db(server)
    con.row_factory = sqlite3.Row
    try:
        recs = [dict(r) for r in con.execute("SELECT * FROM audit ORDER BY seq")]
        prev = "0" * 64
        con.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
        rewind(con, 13)
        for r in recs:
            r["org_id"] = ""
            m = PATH_SCOPE.match(r["resource"])
            if m and r["action"] != "request.unrouted":
                r["org"], r["team"] = m.group(1), m.group(2) or r["team"]
            r["hash"] = audit_verify.record_hash(r, prev)
            prev = r["hash"]
            con.execute("UPDATE audit SET org = ?, team = ?, hash = ? WHERE seq = ?",
                        (r["org"], r["team"], bytes.fromhex(r["hash"]), r["seq"]))
        # The blocks again, of the records as the old binary filed them.
        con.executescript("""
            DELETE FROM audit_org_blocks;
            INSERT OR IGNORE INTO audit_org_blocks SELECT DISTINCT org, seq >> 12 FROM audit WHERE org != '';
        """ + AUDIT_IMMUTABILITY)
        con.commit()
    finally:
        con.close()


def test_records_from_before_org_ids_are_filed_by_who_made_them(server, tmp_path):
    """A data dir from before org ids holds strangers' probes and anonymous
    records filed under the org their path named. Upgrading keeps every
    record and its hash, and files the old ones by what they recorded: a
    member's under its own org, the partner admin's under the org it
    named, an anonymous one under none."""
    t = two_orgs(server)
    h = {"User-Agent": PROBE_UA}
    probe = server.get("/v1/orgs/acme/teams/payments/members", token=t["mallory"], headers=h)
    anon = server.get("/v1/orgs/acme/teams/payments/members", headers=h)
    guess = server.post("/v1/auth/login", headers=h, json={"org": "acme", "username": "alice", "password": "nope" * 3})
    own = server.get("/v1/orgs/acme/teams/payments/members", token=t["olga"])
    by_root = server.get("/v1/orgs/acme/users", token=server.root_token)
    assert [r.status_code for r in (probe, anon, guess, own, by_root)] == [404, 401, 401, 200, 200]
    recorded(server, probe, anon, guess, own, by_root)
    assert server.stop() == 0
    to_before_org_ids(server)
    con = db(server)
    try:
        old = con.execute("SELECT org, team FROM audit WHERE request_id = ?", (rid(probe),)).fetchone()
    finally:
        con.close()
    assert old == ("acme", "payments")  # where the old binary put it
    assert run_cli("operator", "audit", "verify", "--data-dir", server.data_dir).returncode == 0
    server.start()

    admin = ids(view(server, "acme", t["alice"]))
    assert {rid(own), rid(by_root)} <= admin
    assert not {rid(probe), rid(anon), rid(guess)} & admin
    assert rid(own) in ids(view(server, "acme", t["olga"]))
    assert not {rid(probe), rid(anon)} & ids(view(server, "acme", t["olga"]))
    assert rid(probe) in ids(view(server, "globex", t["gina"]))
    assert not {rid(probe), rid(anon)} & ids(view(server, "globex", t["otto"]))
    # A record made now carries its org's id and chains on from the old ones.
    after = server.get("/v1/orgs/acme/users", token=t["alice"])
    recorded(server, after)
    r = {x["request_id"]: x for x in view(server, "acme", t["alice"])}[rid(after)]
    assert r["org_id"] == t["acme_id"]
    assert server.stop() == 0
    r = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
    export = run_cli("operator", "audit", "export", "--data-dir", server.data_dir)
    (tmp_path / "trail.jsonl").write_text(export.stdout)
    v = run_verify_script(str(tmp_path / "trail.jsonl"))
    assert v.returncode == 0, v.stdout + v.stderr
    assert '"org_id":null' in export.stdout and '"org_id":"%s"' % t["acme_id"] in export.stdout


@pytest.mark.parametrize("field", ["org_id", "org"])
def test_moving_a_record_to_another_org_breaks_the_chain(server, field):
    """The org a record is filed under is part of what its hash covers:
    someone with the file who moves a record into another org's trail (or
    out of every org's) is named by verify."""
    t = two_orgs(server)
    r = server.get("/v1/orgs/acme/users", token=t["alice"])
    recorded(server, r)
    assert server.stop() == 0
    con = db(server)
    try:
        con.execute("DROP TRIGGER audit_no_update")
        seq = con.execute("SELECT seq FROM audit WHERE request_id = ?", (rid(r),)).fetchone()[0]
        con.execute("UPDATE audit SET %s = ? WHERE seq = ?" % field, (t["globex_id"] if field == "org_id" else "globex",
                                                                     seq))
        con.commit()
    finally:
        con.close()
    v = run_cli("operator", "audit", "verify", "--data-dir", server.data_dir)
    assert v.returncode == 1 and "BROKEN at record %d" % seq in v.stdout, v.stdout
