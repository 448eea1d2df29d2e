"""Token expiry notices (e-mail 7 days and 1 day before expiry):
a REAL local SMTP server (Debian's aiosmtpd) and a local webhook receiver
check exactly which notices arrive, to whom, signed how, and that none
arrives twice, across retries, restarts and a kill -9 mid-delivery.

Time is driven with `latchkey operator notices --as-of` (test-only clock,
allowed by LATCHKEY_TEST_CLOCK); one test uses the server's own thread on
the real clock."""
import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from helpers import (BIN, assert_error, create_org, create_user, db, remember_secret, rewind, schema_triggers, store_dump,
                     token_for)
from notice_harness import (CLOCK_ENV, DAY, WEBHOOK_SECRET, Mailbox, check_signature, epoch, free_port, hooks_of,
                            mails_of, no_secret_in, notice_flags, rfc3339, run_pass)


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    create_user(server, "acme", "bob", role="member")
    # Long-lived tokens for the callers, far outside any notice window in these tests.
    return {"admin": token_for(server, "acme", "alice", expires="P365D"),
            "member": token_for(server, "acme", "bob", expires="P365D")}


def test_user_token_gets_the_7_and_1_day_notices_once_each(server, acme, smtp, webhook):
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(t["token"])
    created = epoch(t["created_at"])
    args = dict(smtp_port=smtp.port, hook_url=webhook.url)
    run_pass(server, created, **args)
    run_pass(server, created + DAY - 60, **args)
    assert smtp.messages == [] and webhook.calls == []
    run_pass(server, created + DAY + 60, **args)
    assert mails_of(smtp) == [(("bob@example.com",), t["id"], 7)]
    assert hooks_of(webhook) == [(t["id"], 7)]
    run_pass(server, created + DAY + 120, **args)
    run_pass(server, created + 6 * DAY, **args)
    assert len(smtp.messages) == 1 and len(webhook.calls) == 1
    run_pass(server, created + 7 * DAY + 60, **args)
    want = sorted([(("bob@example.com",), t["id"], 7), (("bob@example.com",), t["id"], 1)])
    assert mails_of(smtp) == want
    assert hooks_of(webhook) == sorted([(t["id"], 7), (t["id"], 1)])
    # Twice more, and after expiry: nothing, ever.
    run_pass(server, created + 7 * DAY + 120, **args)
    run_pass(server, created + 8 * DAY - 1, **args)
    run_pass(server, created + 9 * DAY, **args)
    assert mails_of(smtp) == want and len(webhook.calls) == 2

    m = smtp.messages[0]["msg"]
    # The time left at each pass, rounded down: a minute past each notice's moment.
    assert m["Subject"] == "latchkey: API token %s expires in 6 days and 23 hours" % t["id"]
    assert smtp.messages[1]["msg"]["Subject"] == "latchkey: API token %s expires in 23 hours" % t["id"]
    assert m["From"] == "latchkey <latchkey@example.org>" and smtp.messages[0]["from"] == "latchkey@example.org"
    for c in webhook.calls:
        check_signature(c)
        body = json.loads(c["body"])
        assert body["owner"]["type"] == "user" and body["owner"]["name"] == "bob"
        assert body["org"] == "acme" and body["expires_at"] == t["expires_at"]
        assert body["type"] == "token.expiring" and body["notice_id"].startswith("ntc_")
    # A stable Message-ID derived from the notice id, for receivers to deduplicate on.
    listing = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    by_key = {(n["channel"], n["days_before"]): n for n in listing}
    assert set(by_key) == {("email", 7), ("email", 1), ("webhook", 7), ("webhook", 1)}
    assert all(n["status"] == "delivered" and n["attempts"] == 1 and n["token_id"] == t["id"] for n in listing), listing
    assert m["Message-ID"] == "<%s@latchkey.notice>" % by_key[("email", 7)]["id"]
    assert by_key[("email", 7)]["recipient"] == "bob@example.com"
    assert by_key[("webhook", 7)]["recipient"] is None
    secrets = [t["token"], acme["admin"], acme["member"], server.root_token, WEBHOOK_SECRET]
    no_secret_in([x["raw"] for x in smtp.messages] + [c["body"].decode() + json.dumps(c["headers"])
                                                      for c in webhook.calls], secrets)
    no_secret_in([json.dumps(listing), server.stderr()], secrets)
    dump = store_dump(server)
    no_secret_in([dump], [WEBHOOK_SECRET])


def test_token_created_with_3_days_left_gets_only_the_1_day_notice(server, acme, smtp):
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P3D"}).json()
    remember_secret(t["token"])
    created = epoch(t["created_at"])
    for at in (created, created + 60, created + DAY, created + 2 * DAY - 60):
        run_pass(server, at, smtp_port=smtp.port)
    assert smtp.messages == []
    for at in (created + 2 * DAY + 60, created + 2 * DAY + 3600, created + 3 * DAY - 1):
        run_pass(server, at, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("bob@example.com",), t["id"], 1)]
    statuses = {(n["days_before"], n["status"])
                for n in server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]}
    assert statuses == {(1, "delivered")}


def test_service_account_token_notices_go_to_the_team_owners(server, acme, smtp):
    create_user(server, "acme", "olive")
    create_user(server, "acme", "oscar")
    create_user(server, "acme", "mark")
    assert server.post("/v1/orgs/acme/teams", token=acme["admin"], json={"name": "payments"}).status_code == 200
    for user, role in [("olive", "owner"), ("oscar", "owner"), ("mark", "member")]:
        assert server.request("PUT", "/v1/orgs/acme/teams/payments/members/" + user, token=acme["admin"],
                              json={"role": role}).status_code == 200
    base = "/v1/orgs/acme/teams/payments/service-accounts"
    assert server.post(base, token=acme["admin"], json={"name": "deployer"}).status_code == 200
    r = server.post(base + "/deployer/tokens", token=acme["admin"], json={"expires": "P8D"})
    assert r.status_code == 200, r.text
    t = r.json()
    remember_secret(t["token"])
    created = epoch(t["created_at"])
    run_pass(server, created + DAY + 60, smtp_port=smtp.port)
    run_pass(server, created + DAY + 120, smtp_port=smtp.port)
    # One message per owner, each tracked on its own.
    assert mails_of(smtp) == [(("olive@example.com",), t["id"], 7), (("oscar@example.com",), t["id"], 7)]
    assert all("service account deployer" in m["raw"] for m in smtp.messages)
    rows = [n for n in server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
            if n["token_id"] == t["id"]]
    assert sorted(n["recipient"] for n in rows) == ["olive@example.com", "oscar@example.com"]
    assert len({n["id"] for n in rows}) == 2 and all(n["status"] == "delivered" for n in rows)


def test_deleted_or_rotated_tokens_get_no_notice(server, acme, smtp, webhook):
    gone = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    old = server.post("/v1/tokens", token=acme["member"], json={"expires": "P8D"}).json()
    for x in (gone, old):
        remember_secret(x["token"])
    created = epoch(gone["created_at"])
    # The owner deletes one before any notice is due ...
    bob_tok = token_for(server, "acme", "bob", expires="P365D")
    assert server.delete("/v1/tokens/" + gone["id"], token=bob_tok).status_code == 204
    assert server.get("/v1/tokens/" + gone["id"], token=bob_tok).status_code == 404
    # ... and rotates the other away (the old one keeps working for two hours).
    r = server.post("/v1/tokens/%s/rotate" % old["id"], token=acme["member"], json={"grace_seconds": 7200})
    assert r.status_code == 200, r.text
    new = r.json()
    remember_secret(new["token"])
    assert new["expires_at"] == old["expires_at"]
    run_pass(server, created + DAY + 60, smtp_port=smtp.port, hook_url=webhook.url)
    run_pass(server, created + 7 * DAY + 60, smtp_port=smtp.port, hook_url=webhook.url)
    assert mails_of(smtp) == sorted([(("bob@example.com",), new["id"], 7), (("bob@example.com",), new["id"], 1)])
    assert hooks_of(webhook) == sorted([(new["id"], 7), (new["id"], 1)])


def test_a_notice_scheduled_then_its_token_deleted_is_cancelled(server, acme, smtp):
    port = free_port()  # nothing listens: the first attempt fails and the notice stays pending
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(t["token"])
    created = epoch(t["created_at"])
    run_pass(server, created + DAY + 60, smtp_port=port)
    bob_tok = token_for(server, "acme", "bob", expires="P365D")
    assert server.delete("/v1/tokens/" + t["id"], token=bob_tok).status_code == 204
    run_pass(server, created + DAY + 3600, smtp_port=smtp.port)
    assert smtp.messages == []
    items = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert [(n["token_id"], n["status"], n["last_error"]) for n in items] == [(t["id"], "cancelled", "token deleted")]


def test_the_clean_up_cancels_a_pending_notice_at_its_own_clock(server, acme):
    """Deleting a token cancels its pending notices as of the deleting use
    case's time, so the test clock moves it too: the clean-up run --as-of a
    day 91 days after the expiry records that day (migration 0006's trigger
    wrote SQLite's wall clock)."""
    port = free_port()  # nothing listens: the notice stays pending
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(t["token"])
    run_pass(server, epoch(t["created_at"]) + DAY + 60, smtp_port=port)
    assert [n["status"] for n in server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]] == [
        "pending"]
    at = epoch(t["expires_at"]) + 91 * DAY
    r = subprocess.run([BIN, "operator", "cleanup", "--data-dir", server.data_dir, "--as-of", rfc3339(at)],
                       capture_output=True, text=True, env=dict(os.environ, **CLOCK_ENV))
    assert r.returncode == 0 and "deleted 1 token(s)" in r.stdout, r.stdout + r.stderr
    items = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert [(n["token_id"], n["status"], n["last_error"], n["updated_at"]) for n in items] == [
        (t["id"], "cancelled", "token deleted", rfc3339(at))]


def test_migration_0014_keeps_retirements_and_drops_the_triggers(server, acme, smtp):
    """A store from before 0014 (the notice rules as triggers) migrates
    with its retirements kept: a token rotated away before the upgrade
    still gets no notice after it, and the triggers are gone."""
    old = server.post("/v1/tokens", token=acme["member"], json={"expires": "P8D"}).json()
    remember_secret(old["token"])
    assert server.stop() == 0
    con = db(server)
    try:
        rewind(con, 14)
        # Rotated by the old release: its trigger retired the token.
        con.execute("UPDATE tokens SET expires_at = expires_at - 3600 WHERE id = ?", (old["id"],))
        con.commit()
        assert con.execute("SELECT COUNT(*) FROM notice_retired_tokens WHERE token_id = ?",
                           (old["id"],)).fetchone()[0] == 1
    finally:
        con.close()
    server.start()
    assert schema_triggers(server, "tokens") == []
    run_pass(server, epoch(old["created_at"]) + 7 * DAY + 60, smtp_port=smtp.port)
    assert smtp.messages == []
    assert server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"] == []


def test_smtp_down_then_up_delivers_exactly_once(server, acme):
    port = free_port()
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(t["token"])
    created = epoch(t["created_at"])
    at = created + DAY + 60
    run_pass(server, at, smtp_port=port)
    items = server.get("/v1/orgs/acme/notices?status=pending", token=acme["admin"]).json()["items"]
    assert len(items) == 1
    n = items[0]
    assert n["attempts"] == 1 and n["channel"] == "email" and n["days_before"] == 7
    assert "SMTP" in n["last_error"] and "onnect" in n["last_error"], n["last_error"]
    assert epoch(n["next_attempt_at"]) == at + 60  # the first backoff step
    # Before the backoff has passed nothing is retried, even with the relay up.
    box = Mailbox()
    c = Controller(box, hostname="127.0.0.1", port=port)
    c.start()
    try:
        run_pass(server, at + 30, smtp_port=port)
        assert box.messages == []
        run_pass(server, at + 61, smtp_port=port)
        run_pass(server, at + 600, smtp_port=port)
        run_pass(server, at + 7200, smtp_port=port)
    finally:
        c.stop()
    assert mails_of(box) == [(("bob@example.com",), t["id"], 7)]
    items = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert [(x["status"], x["attempts"], x["last_error"]) for x in items] == [("delivered", 2, None)]
    assert server.get("/v1/orgs/acme/notices?status=pending", token=acme["admin"]).json()["items"] == []
    assert_error(server.get("/v1/orgs/acme/notices?status=nope", token=acme["admin"]), 400, "status")


def test_kill_9_in_the_middle_of_delivery_loses_and_duplicates_nothing(server, acme):
    users = ["carol", "dave", "erin"]
    ids = {}
    for u in users:
        create_user(server, "acme", u)
        t = server.post("/v1/orgs/acme/users/%s/tokens" % u, token=acme["admin"], json={"expires": "P8D"}).json()
        remember_secret(t["token"])
        ids[u] = t["id"]
        created = epoch(t["created_at"])
    at = created + DAY + 60
    box = Mailbox(block_on=2)
    c = Controller(box, hostname="127.0.0.1", port=free_port())
    c.start()
    try:
        env = dict(os.environ)
        env.update(CLOCK_ENV)
        p = subprocess.Popen([BIN, "operator", "notices", "--data-dir", server.data_dir, "--as-of", rfc3339(at)]
                             + notice_flags(c.port), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert box.blocked.wait(30), "the second message never arrived"
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        p.stdout.close()
        p.stderr.close()
        assert len(box.messages) == 1  # the first was accepted and committed; the second is not accepted
        box.release()
        # Restart at the same moment: the interrupted one is leased (counted as an attempt), the third goes out.
        run_pass(server, at, smtp_port=c.port)
        assert len(box.messages) == 2
        run_pass(server, at + 61, smtp_port=c.port)
        run_pass(server, at + 3600, smtp_port=c.port)
    finally:
        box.release()
        c.stop()
    want = sorted(((u + "@example.com",), ids[u], 7) for u in users)
    assert mails_of(box) == want
    items = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert sorted(x["status"] for x in items) == ["delivered"] * 3
    assert sorted(x["attempts"] for x in items) == [1, 1, 2]


def test_the_server_thread_delivers_the_1_day_notice_by_itself(make_server, smtp, webhook):
    server = make_server(extra=["--notice-interval", "1"] + notice_flags(smtp.port, webhook.url),
                         env={"LATCHKEY_NOTICE_WEBHOOK_SECRET": WEBHOOK_SECRET})
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    admin = token_for(server, "acme", "alice", expires="P365D")
    # A 20-hour token is born inside the final (1-day) window: the org asks for its notice.
    assert server.request("PATCH", "/v1/orgs/acme/settings", token=admin,
                          json={"notify_short_lived_tokens": True}).status_code == 200
    t = server.post("/v1/orgs/acme/users/alice/tokens", token=admin, json={"expiry_hours": 20}).json()
    remember_secret(t["token"])
    deadline = time.time() + 20
    while time.time() < deadline and (len(smtp.messages) < 1 or len(webhook.calls) < 1):
        time.sleep(0.1)
    time.sleep(2.5)  # a few more passes: still exactly one of each
    assert mails_of(smtp) == [(("alice@example.com",), t["id"], 1)]
    assert hooks_of(webhook) == [(t["id"], 1)]
    check_signature(webhook.calls[0])
    assert WEBHOOK_SECRET not in server.stderr() and t["token"] not in server.stderr()
    assert server.stop() == 0  # orderly at SIGTERM with the notifier running
    server.start()
    time.sleep(2.5)
    assert len(smtp.messages) == 1 and len(webhook.calls) == 1


def test_as_of_needs_the_test_clock_variable(server):
    env = dict(os.environ)
    env.pop("LATCHKEY_TEST_CLOCK", None)
    for verb in ("notices", "cleanup"):
        r = subprocess.run([BIN, "operator", verb, "--data-dir", server.data_dir, "--as-of", "2030-01-01T00:00:00Z"],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "LATCHKEY_TEST_CLOCK" in r.stderr and "test-only" in r.stderr
        env2 = dict(env, LATCHKEY_TEST_CLOCK="yes")
        r = subprocess.run([BIN, "operator", verb, "--data-dir", server.data_dir, "--as-of", "2030-01-01T00:00:00Z"],
                           capture_output=True, text=True, env=env2)
        assert r.returncode == 2
    r = subprocess.run([BIN, "operator", "cleanup", "--data-dir", server.data_dir, "--as-of", "2030-01-01T00:00:00Z"],
                       capture_output=True, text=True, env=dict(env, **CLOCK_ENV))
    assert r.returncode == 0, r.stderr
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--as-of", "yesterday"],
                       capture_output=True, text=True, env=dict(env, **CLOCK_ENV))
    assert r.returncode == 2 and "RFC 3339" in r.stderr


def test_secrets_come_from_files_or_the_environment_never_flags(server, tmp_path, webhook):
    # A webhook without a signing secret is refused.
    env = dict(os.environ)
    env.pop("LATCHKEY_NOTICE_WEBHOOK_SECRET", None)
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--notice-webhook-url",
                        webhook.url], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "signing secret" in r.stderr
    # There is no flag for a secret value.
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--smtp-password", "x"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "unknown flag" in r.stderr
    # A password in the URL is refused without echoing it.
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--smtp-url",
                        "smtp://u:hunter2secret@127.0.0.1:25", "--smtp-from", "a@example.org"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "hunter2secret" not in r.stderr + r.stdout
    f = tmp_path / "hook-secret"
    f.write_text(WEBHOOK_SECRET + "\n")
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--notice-webhook-url",
                        webhook.url, "--notice-webhook-secret-file", str(f)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


def test_root_tokens_notify_by_webhook_only_and_partner_lists_every_org(server, acme, smtp, webhook):
    t = server.create_token(expires="P8D")
    remember_secret(t["token"])
    u = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(u["token"])
    created = epoch(t["created_at"])
    run_pass(server, created + DAY + 60, smtp_port=smtp.port, hook_url=webhook.url)
    assert mails_of(smtp) == [(("bob@example.com",), u["id"], 7)]
    assert hooks_of(webhook) == sorted([(t["id"], 7), (u["id"], 7)])
    root_hook = [json.loads(c["body"]) for c in webhook.calls if json.loads(c["body"])["token_id"] == t["id"]][0]
    assert root_hook["org"] is None and root_hook["owner"]["type"] == "root"
    every = server.get("/v1/notices", token=server.root_token).json()
    assert every["next_cursor"] is None
    assert sorted((n["token_id"], n["channel"]) for n in every["items"]) == sorted(
        [(t["id"], "webhook"), (u["id"], "webhook"), (u["id"], "email")])
    org_only = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert sorted(n["token_id"] for n in org_only) == [u["id"], u["id"]]
    # Paging.
    p1 = server.get("/v1/notices?limit=2", token=server.root_token).json()
    assert len(p1["items"]) == 2 and p1["next_cursor"]
    p2 = server.get("/v1/notices?limit=2&cursor=" + p1["next_cursor"], token=server.root_token).json()
    assert len(p2["items"]) == 1 and p2["next_cursor"] is None


def test_notices_only_for_active_orgs(server, acme, smtp):
    u = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(u["token"])
    created = epoch(u["created_at"])
    assert server.post("/v1/orgs/acme/deactivate", token=server.root_token).status_code == 200
    run_pass(server, created + DAY + 60, smtp_port=smtp.port)
    assert smtp.messages == []
    assert server.post("/v1/orgs/acme/activate", token=server.root_token).status_code == 200
    run_pass(server, created + DAY + 120, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("bob@example.com",), u["id"], 7)]


def test_notice_listing_authorization(server, acme):
    create_org(server, "globex")
    create_user(server, "globex", "gina", role="admin")
    gina = token_for(server, "globex", "gina", expires="P365D")
    r = server.get("/v1/orgs/acme/notices", token=acme["member"])
    assert r.status_code in (401, 404)
    assert_error(r, r.status_code)
    assert_error(server.get("/v1/orgs/acme/notices", token=gina), 404, "no organisation acme")
    assert_error(server.get("/v1/orgs/nosuch/notices", token=gina), 404, "no organisation nosuch")
    assert_error(server.get("/v1/notices", token=acme["admin"]), 401)
    assert_error(server.get("/v1/notices", token=gina), 401)
    assert_error(server.get("/v1/orgs/acme/notices"), 401)
    assert server.get("/v1/orgs/acme/notices", token=acme["admin"]).json() == {"items": [], "next_cursor": None}
    assert server.get("/v1/orgs/acme/notices", token=server.root_token).status_code == 200
    h = server.get("/v1/orgs/acme/notices?help=1", token=acme["admin"]).json()
    assert "notices" in h["help"]


def test_after_downtime_only_the_most_imminent_notice_goes_out(server, acme, smtp):
    """The server was down from before the 7-day mark until after the 1-day
    mark: only the 1-day notice is sent; the 7-day one is recorded as skipped.
    And nothing is ever sent once the token has expired."""
    late = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    gone = server.post("/v1/orgs/acme/users/alice/tokens", token=acme["admin"], json={"expires": "P2D"}).json()
    for x in (late, gone):
        remember_secret(x["token"])
    created = epoch(late["created_at"])
    run_pass(server, created + 7 * DAY + 3600, smtp_port=smtp.port)
    run_pass(server, created + 7 * DAY + 7200, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("bob@example.com",), late["id"], 1)]
    rows = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert sorted((n["token_id"], n["days_before"], n["status"]) for n in rows) == sorted(
        [(late["id"], 7, "skipped"), (late["id"], 1, "delivered")])
    skipped = [n for n in rows if n["status"] == "skipped"][0]
    assert "more imminent" in skipped["last_error"] and skipped["attempts"] == 0


def test_a_failing_relay_is_given_up_after_the_maximum_attempts(server, acme):
    port = free_port()
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(t["token"])
    at = epoch(t["created_at"]) + DAY + 60
    waits = []
    for attempt in range(1, 9):
        run_pass(server, at, smtp_port=port)
        n = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"][0]
        assert n["attempts"] == attempt, n
        if attempt < 8:
            assert n["status"] == "pending"
            waits.append(epoch(n["next_attempt_at"]) - at)
            at = epoch(n["next_attempt_at"])
    assert waits == [60, 120, 240, 480, 960, 1920, 3600]
    assert n["status"] == "failed" and n["next_attempt_at"] is None and "SMTP" in n["last_error"]
    run_pass(server, at + 86400, smtp_port=port)
    assert server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"][0]["attempts"] == 8
    assert server.get("/v1/notices?status=failed", token=server.root_token).json()["items"][0]["id"] == n["id"]


def test_sigterm_aborts_a_delivery_in_flight_and_stops_cleanly(make_server):
    box = Mailbox(block_on=1)
    c = Controller(box, hostname="127.0.0.1", port=free_port())
    c.start()
    try:
        server = make_server(extra=["--notice-interval", "1"] + notice_flags(c.port))
        create_org(server, "acme")
        create_user(server, "acme", "alice", role="admin")
        admin = token_for(server, "acme", "alice", expires="P365D")
        # A 20-hour token is born inside the final (1-day) window: the org asks for its notice.
        assert server.request("PATCH", "/v1/orgs/acme/settings", token=admin,
                              json={"notify_short_lived_tokens": True}).status_code == 200
        t = server.post("/v1/orgs/acme/users/alice/tokens", token=admin, json={"expiry_hours": 20}).json()
        remember_secret(t["token"])
        assert box.blocked.wait(20), "the notice never reached the SMTP server"
        started = time.time()
        assert server.stop() == 0
        assert time.time() - started < 10, "shutdown waited for the blocked SMTP transfer"
        box.release()
        server.extra = []  # no channel: the notice must stay as it was left
        server.start()
        n = server.get("/v1/orgs/acme/notices", token=admin).json()["items"]
        assert [(x["status"], x["attempts"]) for x in n] == [("pending", 1)]
        assert "shutdown" in n[0]["last_error"], n[0]["last_error"]
        assert box.messages == []
    finally:
        box.release()
        c.stop()


def test_smtp_password_never_goes_out_in_the_clear_nor_into_logs(server, acme, smtp, tmp_path):
    """With a user name set, STARTTLS is required: against a relay without TLS
    the attempt fails (nothing is sent, no AUTH in the clear), and the
    password read from its file appears nowhere."""
    password = "smtp-pw-0f3c9a81d2"
    f = tmp_path / "smtp-pass"
    f.write_text(password + "\n")
    t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
    remember_secret(t["token"])
    r = run_pass(server, epoch(t["created_at"]) + DAY + 60, smtp_port=smtp.port,
                 extra=["--smtp-username", "latchkey", "--smtp-password-file", str(f)])
    assert smtp.messages == []
    n = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
    assert [(x["status"], x["attempts"]) for x in n] == [("pending", 1)]
    assert "SSL" in n[0]["last_error"] or "TLS" in n[0]["last_error"], n[0]["last_error"]
    dump = store_dump(server)
    no_secret_in([dump, json.dumps(n), r.stdout, r.stderr, server.stderr()], [password])
    # A password without a user name is refused at start.
    env = dict(os.environ, LATCHKEY_SMTP_PASSWORD=password)
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir]
                       + notice_flags(smtp.port), capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "smtp-username" in r.stderr and password not in r.stderr


def test_cleanup_as_of_drives_the_90_day_clean_up(server):
    """operator cleanup --as-of uses the same test clock: a P1D token is kept
    89 days after its expiry and deleted 91 days after."""
    t = server.create_token(expires="P1D")
    keep = server.create_token(expires="P30D")
    for x in (t, keep):
        remember_secret(x["token"])
    exp = epoch(t["expires_at"])
    env = dict(os.environ, **CLOCK_ENV)
    for days, want in ((89, "deleted 0 token(s)"), (91, "deleted 1 token(s)")):
        r = subprocess.run([BIN, "operator", "cleanup", "--data-dir", server.data_dir, "--as-of",
                            rfc3339(exp + days * DAY)], capture_output=True, text=True, env=env)
        assert r.returncode == 0 and want in r.stdout, r.stdout + r.stderr
    server.restart()
    assert server.get("/v1/tokens/" + t["id"], token=server.root_token).status_code == 404
    assert server.get("/v1/tokens/" + keep["id"], token=server.root_token).status_code == 200


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory):
    """A throw-away CA and a certificate it signed for 127.0.0.1 (Debian's openssl)."""
    d = tmp_path_factory.mktemp("ca")

    def ossl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, capture_output=True)

    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=latchkey test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem",
         "-days", "2", "-extfile", "ext.cnf")
    return {"ca": str(d / "ca.pem"), "cert": str(d / "srv.pem"), "key": str(d / "srv.key")}


def test_a_relay_and_a_webhook_behind_a_private_ca_need_notice_ca_file(server, acme, private_ca):
    """Certificates are always checked: a relay (STARTTLS required) and an
    https webhook whose certificates a private CA signed fail until that CA
    is given with --notice-ca-file, and then get each notice once."""
    import ssl
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(private_ca["cert"], private_ca["key"])
    box = Mailbox()
    c = Controller(box, hostname="127.0.0.1", port=free_port(), tls_context=ctx, require_starttls=True)
    c.start()
    calls = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            calls.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    hook.socket = ctx.wrap_socket(hook.socket, server_side=True)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = "https://127.0.0.1:%d/hook" % hook.server_address[1]
    try:
        t = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"expires": "P8D"}).json()
        remember_secret(t["token"])
        at = epoch(t["created_at"]) + DAY + 60
        run_pass(server, at, smtp_port=c.port, hook_url=url)
        assert box.messages == [] and calls == []
        items = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
        assert sorted((n["channel"], n["status"], n["attempts"]) for n in items) == \
            [("email", "pending", 1), ("webhook", "pending", 1)]
        for n in items:
            assert "certificate" in n["last_error"].lower() or "SSL" in n["last_error"], n["last_error"]
        run_pass(server, at + 61, smtp_port=c.port, hook_url=url, extra=["--notice-ca-file", private_ca["ca"]])
        assert mails_of(box) == [(("bob@example.com",), t["id"], 7)]
        assert [json.loads(b)["token_id"] for b in calls] == [t["id"]]
        items = server.get("/v1/orgs/acme/notices", token=acme["admin"]).json()["items"]
        assert sorted((n["channel"], n["status"], n["attempts"]) for n in items) == \
            [("email", "delivered", 2), ("webhook", "delivered", 2)]
    finally:
        c.stop()
        hook.shutdown()
        hook.server_close()
    # A CA file that cannot be read is refused at start, by name.
    env = dict(os.environ, LATCHKEY_NOTICE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--notice-ca-file",
                        "/nonexistent/ca.pem"] + notice_flags(c.port), capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "notice-ca-file" in r.stderr, r.stderr


def test_sighup_rereads_a_rotated_webhook_secret(make_server, webhook, tmp_path):
    """A secret that comes from a file is re-read on SIGHUP, by the notifier
    before its next pass; a file that cannot be read keeps the secret in use."""
    f = tmp_path / "hook-secret"
    old, new = "whsec-old-5b2e91c0", "whsec-new-8d71f4aa"
    f.write_text(old + "\n")
    server = make_server(extra=["--notice-interval", "1", "--notice-webhook-url", webhook.url,
                                "--notice-webhook-secret-file", str(f)])
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    admin = token_for(server, "acme", "alice", expires="P365D")

    def notice_for_a_new_token():
        before = len(webhook.calls)
        # A 20-hour token is born inside the final (1-day) window: the org asks for its notice.
        assert server.request("PATCH", "/v1/orgs/acme/settings", token=admin,
                              json={"notify_short_lived_tokens": True}).status_code == 200
        t = server.post("/v1/orgs/acme/users/alice/tokens", token=admin, json={"expiry_hours": 20}).json()
        remember_secret(t["token"])
        deadline = time.time() + 20
        while time.time() < deadline and len(webhook.calls) == before:
            time.sleep(0.05)
        assert len(webhook.calls) == before + 1, "no webhook for the new token"
        return webhook.calls[-1]

    def signed_with(call, secret):
        parts = dict(p.split("=", 1) for p in call["headers"]["X-Latchkey-Signature"].split(","))
        want = hmac.new(secret.encode(), parts["t"].encode() + b"." + call["body"], hashlib.sha256).hexdigest()
        return hmac.compare_digest(parts["v1"], want)

    assert signed_with(notice_for_a_new_token(), old)
    f.write_text(new + "\n")
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "notice secrets re-read" not in server.stderr() and time.time() < deadline:
        time.sleep(0.05)
    call = notice_for_a_new_token()
    assert signed_with(call, new) and not signed_with(call, old)
    # An empty file: refused, the secret in use stays.
    f.write_text("")
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while "the secrets in use stay" not in server.stderr() and time.time() < deadline:
        time.sleep(0.05)
    assert "notice-webhook-secret-file" in server.stderr()
    assert signed_with(notice_for_a_new_token(), new)
    assert old not in server.stderr() and new not in server.stderr()
