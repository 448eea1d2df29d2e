"""What an expiry notice says (docs/notices.md, "What a notice says"):
the time left when it is sent, never the offset it was scheduled at; the
token named as its owner knows it; why the reader gets it; what to do,
with absolute links under --public-url; and, in the webhook body, the same
as JSON. Real SMTP server, real webhook receiver, the operator pass under
the test clock."""
import json
import os
import re
import subprocess
import time

import pytest

from helpers import BIN, create_org, create_team, create_user, expect, remember_secret, set_member, token_for
from notice_harness import CLOCK_ENV, DAY, WEBHOOK_SECRET, epoch, mails_of, no_secret_in, notice_flags, run_pass

HOUR = 3600
PUBLIC = "https://latchkey.example.com"
SA_PATH = "/v1/orgs/acme/teams/payments/service-accounts/deployer/tokens"
SA_CONSOLE = "/ui/orgs/acme/teams/payments/service-accounts/deployer"


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    create_user(server, "acme", "bob")
    # Callers' own tokens, far outside any notice window of these tests.
    return {"admin": token_for(server, "acme", "alice", expires="P365D")}


@pytest.fixture
def payments(server, acme):
    """Team payments (owners olive and oscar, member mark) and its service account deployer."""
    for user in ("olive", "oscar", "mark"):
        create_user(server, "acme", user)
    create_team(server, "acme", "payments", token=acme["admin"])
    for user, role in [("olive", "owner"), ("oscar", "owner"), ("mark", "member")]:
        set_member(server, "acme", "payments", user, role, token=acme["admin"])
    expect(server.post("/v1/orgs/acme/teams/payments/service-accounts", token=acme["admin"],
                       json={"name": "deployer"}))
    return acme


def user_token(server, acme, **body):
    return expect(server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json=body))


def sa_token(server, acme, **body):
    return expect(server.post(SA_PATH, token=acme["admin"], json=body))


def body_of(mail):
    """The mail's text with its lines joined by single spaces, for phrases that wrap."""
    return " ".join(mail["msg"].get_content().split())


def mails_about(smtp, token_id):
    return [m for m in smtp.messages if m["msg"]["Subject"].split()[3] == token_id]


def hook_about(webhook, token_id):
    bodies = [json.loads(c["body"]) for c in webhook.calls if json.loads(c["body"])["token_id"] == token_id]
    assert len(bodies) == 1, bodies
    return bodies[0]


def everything_sent(smtp, webhook):
    return [m["raw"] for m in smtp.messages] + [c["body"].decode() + json.dumps(c["headers"]) for c in webhook.calls]


# --- the time left ------------------------------------------------------------

def test_a_7_day_notice_states_the_time_left_on_time_and_late(server, acme, smtp, webhook):
    on_time = user_token(server, acme, expires="P8D", description="nightly backup")
    late = user_token(server, acme, expires="P10D", description="report export")
    exp_on_time, exp_late = epoch(on_time["expires_at"]), epoch(late["expires_at"])
    args = dict(smtp_port=smtp.port, hook_url=webhook.url)

    run_pass(server, exp_on_time - 7 * DAY, **args)  # exactly at the 7-day mark
    run_pass(server, exp_on_time - 7 * DAY + 60, **args)  # a minute later: nothing more
    [m] = mails_about(smtp, on_time["id"])
    assert m["msg"]["Subject"] == 'latchkey: API token %s expires in 7 days ("nightly backup")' % on_time["id"]
    assert "expires in 7 days, at %s (UTC)." % on_time["expires_at"] in body_of(m)
    assert m["msg"]["X-Latchkey-Notice-Days"] == "7"
    hook = hook_about(webhook, on_time["id"])
    assert (hook["expires_in"], hook["expires_in_seconds"], hook["days_before"]) == ("7 days", 7 * DAY, 7)

    # The 10-day token's 7-day notice goes out two days late: it says 5 days, not 7.
    run_pass(server, exp_late - 5 * DAY, **args)
    [m] = mails_about(smtp, late["id"])
    assert m["msg"]["Subject"] == 'latchkey: API token %s expires in 5 days ("report export")' % late["id"]
    text = body_of(m)
    assert "expires in 5 days, at %s (UTC)." % late["expires_at"] in text
    assert "7 days" not in m["raw"]
    assert "A last notice follows 1 day before the expiry" in text
    hook = hook_about(webhook, late["id"])
    assert (hook["expires_in"], hook["expires_in_seconds"], hook["days_before"]) == ("5 days", 5 * DAY, 7)
    assert mails_of(smtp) == sorted([(("bob@example.com",), on_time["id"], 7), (("bob@example.com",), late["id"], 7)])

    # A minute short of a whole day or hour is never rounded up.
    run_pass(server, exp_late - DAY + 60, **args)
    [_, last] = mails_about(smtp, late["id"])
    assert last["msg"]["Subject"] == 'latchkey: API token %s expires in 23 hours ("report export")' % late["id"]
    assert "This is the last notice about this token." in body_of(last)


def test_a_6_day_token_under_60_and_30_day_offsets_is_never_told_30_days(server, acme, smtp, webhook):
    """Born inside the final (30-day) window: its org asks for short-lived
    tokens' notices, so it gets that final notice at once, stating the six
    days it has; the 60-day one never applies."""
    expect(server.request("PATCH", "/v1/orgs/acme/settings", token=acme["admin"],
                          json={"notify_short_lived_tokens": True}))
    t = user_token(server, acme, expires="P6D")
    exp = epoch(t["expires_at"])
    args = dict(smtp_port=smtp.port, hook_url=webhook.url, extra=["--notice-days", "60,30"])
    run_pass(server, exp - 6 * DAY + 60, **args)
    run_pass(server, exp - 3 * DAY, **args)
    run_pass(server, exp - HOUR, **args)
    assert mails_of(smtp) == [(("bob@example.com",), t["id"], 30)]
    [m] = smtp.messages
    assert m["msg"]["Subject"] == "latchkey: API token %s expires in 5 days and 23 hours" % t["id"]
    assert "30 days" not in m["raw"] and "30 day" not in m["raw"]
    assert "This is the last notice about this token." in body_of(m)
    hook = hook_about(webhook, t["id"])
    assert hook["days_before"] == 30 and hook["expires_in"] == "5 days and 23 hours"
    assert hook["expires_in_seconds"] == 6 * DAY - 60


def test_a_30_hour_token_is_told_hours(server, acme, smtp):
    t = user_token(server, acme, expires="PT30H")
    exp = epoch(t["expires_at"])
    run_pass(server, exp - 25 * HOUR, smtp_port=smtp.port)
    assert smtp.messages == []  # its 1-day notice is not due before 24 hours are left
    run_pass(server, exp - DAY + 30 * 60, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("bob@example.com",), t["id"], 1)]
    assert smtp.messages[0]["msg"]["Subject"] == "latchkey: API token %s expires in 23 hours" % t["id"]
    assert "expires in 23 hours, at %s (UTC)." % t["expires_at"] in body_of(smtp.messages[0])


# --- who and why ---------------------------------------------------------------

def test_a_service_account_mail_names_the_token_and_tells_each_owner_why(server, payments, smtp):
    t = sa_token(server, payments, expires="P8D", description="CI deploys")
    run_pass(server, epoch(t["expires_at"]) - 7 * DAY + HOUR, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("olive@example.com",), t["id"], 7), (("oscar@example.com",), t["id"], 7)]
    for m in smtp.messages:
        assert m["msg"]["Subject"] == 'latchkey: API token %s expires in 6 days and 23 hours ("CI deploys")' % t["id"]
        lines = m["msg"].get_content().splitlines()
        for want in ("Token:         %s (the public id; the secret is never sent)" % t["id"],
                     "Description:   CI deploys", "Owner:         service account deployer",
                     "Team:          payments", "Organisation:  acme"):
            assert want in lines, (want, lines)
        text = body_of(m)
        assert ("You receive this because you are an owner of team payments, which owns the service account "
                "deployer.") in text
        assert "POST %s" % SA_PATH in text and "DELETE %s/%s" % (SA_PATH, t["id"]) in text
        assert '{"description": "<what it is for>", "expires": "P30D"}' in text
        assert "Console: %s" % SA_CONSOLE in text
        assert "/v1/tokens/%s/rotate" % t["id"] in text and "same expiry" in text
        assert "latchkey token create" not in text


def test_a_user_mail_says_you_own_it_and_how_to_replace_it(server, acme, smtp):
    t = user_token(server, acme, expires="P8D", description="laptop")
    run_pass(server, epoch(t["expires_at"]) - 7 * DAY, smtp_port=smtp.port)
    [m] = smtp.messages
    lines = m["msg"].get_content().splitlines()
    assert "Owner:         user bob" in lines and "Organisation:  acme" in lines
    assert not any(line.startswith("Team:") for line in lines)
    text = body_of(m)
    assert "You receive this because you own this token." in text
    assert "Create a new token, as bob: POST /v1/tokens" in text
    assert "or, as an org admin, for bob (the same body): POST /v1/orgs/acme/users/bob/tokens" in text
    assert "DELETE /v1/tokens/%s" % t["id"] in text
    assert "Console: /ui/tokens/%s" % t["id"] in text
    assert ("Rotating it does not extend its life: rotation (POST /v1/tokens/%s/rotate) gives a new secret with "
            "the same expiry." % t["id"]) in text
    assert "latchkey token create" not in text


# --- the webhook body ----------------------------------------------------------

def test_the_webhook_body_carries_every_new_key(server, payments, webhook):
    sa = sa_token(server, payments, expires="P8D", description="CI deploys")
    user = user_token(server, payments, expires="P8D", description="laptop")
    root = server.create_token(expires="P8D", description="partner sync")
    remember_secret(root["token"])
    run_pass(server, epoch(root["expires_at"]) - 7 * DAY + 2 * HOUR, hook_url=webhook.url)
    assert len(webhook.calls) == 3

    hook = hook_about(webhook, sa["id"])
    left = epoch(sa["expires_at"]) - (epoch(root["expires_at"]) - 7 * DAY + 2 * HOUR)
    assert hook["owner"]["type"] == "service_account" and hook["owner"]["name"] == "deployer"
    assert hook["owner"]["id"].startswith("sa_")
    del hook["notice_id"], hook["owner"]["id"]
    assert hook == {
        "type": "token.expiring", "token_id": sa["id"], "owner": {"type": "service_account", "name": "deployer"},
        "org": "acme", "expires_at": sa["expires_at"], "days_before": 7,
        "token": {"id": sa["id"], "description": "CI deploys"},
        "team": "payments", "service_account": "deployer",
        "expires_in_seconds": left, "expires_in": "6 days and %d hours" % ((left % DAY) // HOUR),
        "recipients_rule": "team_owners",
        "actions": {"create": {"command": None, "method": "POST", "path": SA_PATH},
                    "revoke": {"method": "DELETE", "path": "%s/%s" % (SA_PATH, sa["id"])},
                    "rotate_keeps_expiry": True},
        "console_url": None}

    hook = hook_about(webhook, user["id"])
    assert (hook["owner"]["type"], hook["owner"]["name"], hook["org"]) == ("user", "bob", "acme")
    assert hook["token"] == {"id": user["id"], "description": "laptop"}
    assert (hook["team"], hook["service_account"], hook["recipients_rule"]) == (None, None, "owner")
    assert hook["actions"] == {"create": {"command": None, "method": "POST", "path": "/v1/tokens"},
                               "revoke": {"method": "DELETE", "path": "/v1/tokens/" + user["id"]},
                               "rotate_keeps_expiry": True}

    hook = hook_about(webhook, root["id"])
    assert (hook["owner"]["type"], hook["org"], hook["team"], hook["service_account"]) == ("root", None, None, None)
    assert hook["token"] == {"id": root["id"], "description": "partner sync"}
    assert hook["recipients_rule"] == "none"
    assert hook["actions"]["create"] == {"command": "latchkey operator root-token --data-dir DIR", "method": None,
                                         "path": None}
    assert hook["actions"]["revoke"] == {"method": "DELETE", "path": "/v1/tokens/" + root["id"]}
    assert hook["expires_in_seconds"] == 7 * DAY - 2 * HOUR and hook["expires_in"] == "6 days and 22 hours"

    for c in webhook.calls:
        # Compact, keys sorted: the body is exactly what json.dumps makes of itself so.
        body = c["body"].decode()
        assert body == json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    no_secret_in([c["body"].decode() + json.dumps(c["headers"]) for c in webhook.calls],
                 [sa["token"], user["token"], root["token"], payments["admin"], server.root_token, WEBHOOK_SECRET])


# --- links ---------------------------------------------------------------------

def test_public_url_makes_absolute_links(server, payments, smtp, webhook):
    sa = sa_token(server, payments, expires="P8D")
    user = user_token(server, payments, expires="P8D")
    run_pass(server, epoch(user["expires_at"]) - 7 * DAY + HOUR, smtp_port=smtp.port, hook_url=webhook.url,
             extra=["--public-url", PUBLIC + "/"])  # one trailing '/' is dropped
    [sa_mail, _] = mails_about(smtp, sa["id"])
    text = body_of(sa_mail)
    assert "POST %s%s" % (PUBLIC, SA_PATH) in text
    assert "DELETE %s%s/%s" % (PUBLIC, SA_PATH, sa["id"]) in text
    assert "Console: %s%s" % (PUBLIC, SA_CONSOLE) in text
    assert PUBLIC + "//" not in sa_mail["raw"]
    [user_mail] = mails_about(smtp, user["id"])
    text = body_of(user_mail)
    assert "POST %s/v1/tokens" % PUBLIC in text and "Console: %s/ui/tokens/%s" % (PUBLIC, user["id"]) in text
    assert hook_about(webhook, sa["id"])["console_url"] == PUBLIC + SA_CONSOLE
    assert hook_about(webhook, user["id"])["console_url"] == "%s/ui/tokens/%s" % (PUBLIC, user["id"])
    # Paths stay paths in the webhook's actions, whatever the public URL.
    assert hook_about(webhook, sa["id"])["actions"]["create"]["path"] == SA_PATH


def test_without_public_url_no_scheme_or_host_appears(server, payments, smtp, webhook):
    sa = sa_token(server, payments, expires="P8D")
    run_pass(server, epoch(sa["expires_at"]) - 7 * DAY + HOUR, smtp_port=smtp.port, hook_url=webhook.url)
    assert len(smtp.messages) == 2 and len(webhook.calls) == 1
    for m in smtp.messages:
        assert not re.search(r"https?://", m["raw"]), m["raw"]
        assert "Console: %s" % SA_CONSOLE in body_of(m)
        assert "Paths are relative to the address of your latchkey server" in body_of(m)
    body = webhook.calls[0]["body"].decode()
    assert not re.search(r"https?://", body) and json.loads(body)["console_url"] is None


def test_the_server_thread_takes_public_url_too(make_server, smtp, webhook):
    flags = ["--notice-interval", "1", "--public-url", PUBLIC] + notice_flags(smtp.port, webhook.url)
    server = make_server(extra=flags,
                         env={"LATCHKEY_NOTICE_WEBHOOK_SECRET": WEBHOOK_SECRET})
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    admin = token_for(server, "acme", "alice", expires="P365D")
    # Born inside the final (1-day) window: the org asks for its notice, sent on the real clock.
    expect(server.request("PATCH", "/v1/orgs/acme/settings", token=admin, json={"notify_short_lived_tokens": True}))
    t = expect(server.post("/v1/orgs/acme/users/alice/tokens", token=admin, json={"expiry_hours": 20}))
    deadline = time.time() + 20
    while time.time() < deadline and (len(smtp.messages) < 1 or len(webhook.calls) < 1):
        time.sleep(0.1)
    [m] = smtp.messages
    assert m["msg"]["Subject"] in ["latchkey: API token %s expires in %d hours" % (t["id"], h) for h in (19, 20)]
    assert "Console: %s/ui/tokens/%s" % (PUBLIC, t["id"]) in body_of(m)
    assert hook_about(webhook, t["id"])["console_url"] == "%s/ui/tokens/%s" % (PUBLIC, t["id"])


@pytest.mark.parametrize("url", ["ftp://latchkey.example.com", "https://", "https://u:pw@latchkey.example.com",
                                 "https://latchkey.example.com/a b", "https://latchkey.example.com/?x=1",
                                 "https://latchkey.example.com/#top", "latchkey.example.com",
                                 "https://latchkey.example.com/\x01"])
def test_a_bad_public_url_is_refused(server, url):
    env = dict(os.environ, **CLOCK_ENV)
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--public-url", url],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "public-url" in r.stderr, r.stdout + r.stderr
    assert "pw@" not in r.stderr
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir],
                       capture_output=True, text=True, env=dict(env, LATCHKEY_PUBLIC_URL=url))
    assert r.returncode == 2 and "public-url" in r.stderr, r.stdout + r.stderr


# --- a description is user text -------------------------------------------------

def test_a_description_never_breaks_the_subject(server, acme, smtp, webhook):
    crlf = "deploy key\r\nBcc: mallory@example.com\r\n\r\nfake body"
    accented = "clé de déploiement ✓"
    long = "quarterly report export for the finance team, runs every night at 02:00 UTC"
    tokens = {d: user_token(server, acme, expires="P8D", description=d) for d in (crlf, accented, long)}
    run_pass(server, epoch(tokens[long]["expires_at"]) - 7 * DAY + HOUR, smtp_port=smtp.port, hook_url=webhook.url)
    assert len(smtp.messages) == 3
    for m in smtp.messages:
        assert m["rcpt"] == ["bob@example.com"] and m["msg"]["Bcc"] is None
        assert not any(line.startswith(("Bcc:", "fake body")) for line in m["raw"].splitlines())
        head = m["raw"].split("\r\n\r\n", 1)[0]
        subjects = [line for line in head.split("\r\n") if line.startswith("Subject:")]
        assert len(subjects) == 1 and subjects[0].isascii(), subjects

    [m] = mails_about(smtp, tokens[crlf]["id"])
    # Control characters become one space in the Subject, and escapes in the body.
    assert m["msg"]["Subject"].endswith('("deploy key Bcc: mallory@example.com fake body")')
    assert "Description:   deploy key\\x0d\\x0aBcc: mallory@example.com\\x0d\\x0a\\x0d\\x0afake body" \
        in m["msg"].get_content().splitlines()

    [m] = mails_about(smtp, tokens[accented]["id"])
    assert m["msg"]["Subject"] == "latchkey: API token %s expires in 6 days and 23 hours" % tokens[accented]["id"]
    assert "Description:   " + accented in m["msg"].get_content().splitlines()

    [m] = mails_about(smtp, tokens[long]["id"])
    assert len(long) > 60 and m["msg"]["Subject"].endswith('("%s...")' % long[:60].rstrip())
    assert "Description:   " + long in m["msg"].get_content().splitlines()

    for d, t in tokens.items():
        assert hook_about(webhook, t["id"])["token"] == {"id": t["id"], "description": d}
    no_secret_in(everything_sent(smtp, webhook), [t["token"] for t in tokens.values()] + [acme["admin"]])
