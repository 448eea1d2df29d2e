"""Expiry notices delivered to everyone who should get them: one outbox row
per e-mail recipient (a relay that refuses one address with 550 silences
nobody else), channels that never wait for each other (a relay that hangs
does not hold up the webhook), a test clock that can never make the running
server send twice, and tokens born inside the final window (the org's
notify_short_lived_tokens). Real SMTP servers (aiosmtpd) and raw sockets
play the relays; the real binary runs against real SQLite."""
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller

from helpers import (SANITIZED, assert_error, create_org, create_team, create_user, db, remember_secret, rewind,
                     token_for)
from notice_harness import DAY, Mailbox, epoch, free_port, hooks_of, mails_of, notice_flags, run_pass


class PickyMailbox(Mailbox):
    """A relay that answers RCPT TO for the addresses in `refuse` with the
    reply given there ("550 no such user", "450 mailbox busy")."""

    def __init__(self, refuse):
        super().__init__()
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def picky():
    """Start a PickyMailbox: picky({"x@y": "550 ..."}) -> the box, with .port."""
    started = []

    def start(refuse):
        box = PickyMailbox(refuse)
        c = Controller(box, hostname="127.0.0.1", port=free_port())
        c.start()
        box.port = c.port
        started.append(c)
        return box

    yield start
    for c in started:
        c.stop()


class HungRelay:
    """Accepts connections and never says a word: a relay that hangs."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.accepted = 0
        self.done = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            self.accepted += 1

    def close(self):
        self.done.set()
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def hung():
    relay = HungRelay()
    yield relay
    relay.close()


def team_with_owners(server, admin, owners, team="payments"):
    """A team owned by each of `owners` (new users) with a service account
    `deployer`; returns the path of the account's tokens."""
    create_team(server, "acme", team, token=admin)
    for u in owners:
        create_user(server, "acme", u)
        r = server.request("PUT", "/v1/orgs/acme/teams/%s/members/%s" % (team, u), token=admin,
                           json={"role": "owner"})
        assert r.status_code == 200, r.text
    base = "/v1/orgs/acme/teams/%s/service-accounts" % team
    assert server.post(base, token=admin, json={"name": "deployer"}).status_code == 200
    return base + "/deployer/tokens"


def new_token(server, path, admin, expires):
    r = server.post(path, token=admin, json={"expires": expires})
    assert r.status_code == 200, r.text
    t = r.json()
    remember_secret(t["token"])
    return t


def rows_of(server, admin, token_id):
    items = server.get("/v1/orgs/acme/notices?limit=200", token=admin).json()["items"]
    return [n for n in items if n["token_id"] == token_id]


@pytest.fixture
def admin(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    return token_for(server, "acme", "alice", expires="P365D")


# --- one bad address never silences the others ------------------------------------

def test_a_recipient_refused_with_550_fails_alone_and_is_named(server, admin, picky):
    path = team_with_owners(server, admin, ["olive", "oscar", "otto"])
    box = picky({"oscar@example.com": "550 no such user"})
    t = new_token(server, path, admin, "P8D")
    at = epoch(t["created_at"]) + DAY + 60
    run_pass(server, at, smtp_port=box.port)
    # The two good addresses got their message, each its own.
    assert mails_of(box) == [(("olive@example.com",), t["id"], 7), (("otto@example.com",), t["id"], 7)]
    rows = {n["recipient"]: n for n in rows_of(server, admin, t["id"])}
    assert set(rows) == {"olive@example.com", "oscar@example.com", "otto@example.com"}
    assert rows["olive@example.com"]["status"] == rows["otto@example.com"]["status"] == "delivered"
    bad = rows["oscar@example.com"]
    # A 550 is for good: failed at once, not retried, and the address named.
    assert bad["status"] == "failed" and bad["attempts"] == 1, bad
    assert "oscar@example.com" in bad["last_error"] and "550" in bad["last_error"], bad["last_error"]
    assert "no such user" not in bad["last_error"]  # never the relay's own words
    run_pass(server, at + 7200, smtp_port=box.port)
    assert len(box.messages) == 2
    assert rows_of(server, admin, t["id"]) and all(
        n["attempts"] == 1 for n in rows_of(server, admin, t["id"]) if n["days_before"] == 7)
    # The listing can be filtered down to the failure.
    failed = server.get("/v1/orgs/acme/notices?status=failed", token=admin).json()["items"]
    assert [n["recipient"] for n in failed] == ["oscar@example.com"]


def test_a_recipient_refused_for_now_is_retried_alone(server, admin, picky):
    path = team_with_owners(server, admin, ["olive", "oscar"])
    busy = picky({"oscar@example.com": "450 mailbox busy"})
    t = new_token(server, path, admin, "P8D")
    at = epoch(t["created_at"]) + DAY + 60
    run_pass(server, at, smtp_port=busy.port)
    assert mails_of(busy) == [(("olive@example.com",), t["id"], 7)]
    rows = {n["recipient"]: n for n in rows_of(server, admin, t["id"])}
    retry = rows["oscar@example.com"]
    assert retry["status"] == "pending" and retry["attempts"] == 1
    assert "oscar@example.com" in retry["last_error"] and "450" in retry["last_error"]
    assert epoch(retry["next_attempt_at"]) == at + 60
    # The mailbox frees up: the retry reaches oscar, and olive is not written to again.
    ok = picky({})
    run_pass(server, at + 61, smtp_port=ok.port)
    assert mails_of(ok) == [(("oscar@example.com",), t["id"], 7)]
    assert {n["recipient"]: n["status"] for n in rows_of(server, admin, t["id"])} == {
        "olive@example.com": "delivered", "oscar@example.com": "delivered"}


# --- channels never wait for each other ----------------------------------------------

def test_a_hung_relay_costs_one_timeout_and_never_delays_the_webhook(server, admin, hung, webhook):
    path = team_with_owners(server, admin, ["olive"])
    tokens = [new_token(server, path, admin, "P8D") for _ in range(3)]
    at = max(epoch(t["created_at"]) for t in tokens) + DAY + 60
    started = time.monotonic()
    run_pass(server, at, smtp_port=hung.port, hook_url=webhook.url, extra=["--notice-timeout", "2"])
    took = time.monotonic() - started
    # Every webhook went out although the relay never answered ...
    assert hooks_of(webhook) == sorted((t["id"], 7) for t in tokens)
    # ... and the pass waited out one 2-second timeout, not one per message
    # (three would be 6 seconds; sanitized builds only get more room).
    assert took < (5.5 if not SANITIZED else 12), took
    email = [n for t in tokens for n in rows_of(server, admin, t["id"]) if n["channel"] == "email"]
    assert sorted(n["attempts"] for n in email) == [0, 0, 1]
    tried = [n for n in email if n["attempts"] == 1][0]
    assert tried["status"] == "pending" and "olive@example.com" in tried["last_error"]
    assert "SMTP" in tried["last_error"]
    assert all(n["status"] == "pending" and n["last_error"] is None for n in email if n["attempts"] == 0)


def test_the_server_sends_webhooks_while_its_relay_hangs(make_server, hung, webhook):
    # The relay's timeout is longer than the wait for each webhook below.
    server = make_server(extra=["--notice-interval", "1", "--notice-timeout", "4" if not SANITIZED else "30"]
                         + notice_flags(hung.port, webhook.url),
                         env={"LATCHKEY_NOTICE_WEBHOOK_SECRET": "whsec-delivery-test-51c9"})
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    admin = token_for(server, "acme", "alice", expires="P365D")
    assert server.request("PATCH", "/v1/orgs/acme/settings", token=admin,
                          json={"notify_short_lived_tokens": True}).status_code == 200
    ids = []
    for _ in range(2):
        t = server.post("/v1/orgs/acme/users/alice/tokens", token=admin, json={"expiry_hours": 20}).json()
        remember_secret(t["token"])
        ids.append(t["id"])
        started = time.monotonic()
        while time.monotonic() - started < (3.5 if not SANITIZED else 20) and \
                t["id"] not in [x[0] for x in hooks_of(webhook)]:
            time.sleep(0.05)
        # Well inside the relay's 4-second timeout: the webhook did not wait for it.
        assert t["id"] in [x[0] for x in hooks_of(webhook)], "no webhook while the relay hangs"
    assert hung.accepted >= 1  # the e-mail worker is stuck on the relay meanwhile
    assert server.stop() == 0


# --- the test clock never costs the running server a notice ----------------------------

def test_a_pass_months_ahead_purges_nothing_the_real_clock_needs(server, admin, smtp):
    t = new_token(server, "/v1/orgs/acme/users/alice/tokens", admin, "P8D")
    created = epoch(t["created_at"])
    run_pass(server, created + DAY + 60, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("alice@example.com",), t["id"], 7)]
    before = rows_of(server, admin, t["id"])
    # Three months after the expiry on the test clock: on the real one the
    # token has not even expired, so its delivered notice must stay.
    run_pass(server, created + 8 * DAY + 91 * DAY, smtp_port=smtp.port)
    assert rows_of(server, admin, t["id"]) == before
    # The real clock goes on (the 7-day mark again): nothing is sent twice.
    run_pass(server, created + DAY + 120, smtp_port=smtp.port)
    assert len(smtp.messages) == 1


def test_a_pass_past_the_expiry_on_the_test_clock_cancels_nothing_yet(server, admin, smtp):
    t = new_token(server, "/v1/orgs/acme/users/alice/tokens", admin, "P8D")
    created = epoch(t["created_at"])
    down = free_port()
    run_pass(server, created + DAY + 60, smtp_port=down)  # the relay is down: pending, retried later
    [n] = rows_of(server, admin, t["id"])
    assert n["status"] == "pending"
    # Past the expiry on the test clock only: the real server still has days to send it.
    run_pass(server, created + 9 * DAY, smtp_port=down)
    [after] = rows_of(server, admin, t["id"])
    assert after["status"] == "pending" and after["attempts"] == n["attempts"], after
    run_pass(server, created + DAY + 2 * 3600, smtp_port=smtp.port)
    assert mails_of(smtp) == [(("alice@example.com",), t["id"], 7)]


# --- tokens born inside the final window ---------------------------------------------

def test_short_lived_tokens_get_no_notice_unless_the_org_asks(server, admin, smtp, webhook):
    settings = server.get("/v1/orgs/acme/settings", token=admin).json()
    assert settings["notify_short_lived_tokens"] is False
    ci = new_token(server, "/v1/orgs/acme/users/alice/tokens", admin, "PT1H")
    created = epoch(ci["created_at"])
    args = dict(smtp_port=smtp.port, hook_url=webhook.url)
    run_pass(server, created + 60, **args)
    run_pass(server, created + 3000, **args)
    assert smtp.messages == [] and webhook.calls == [] and rows_of(server, admin, ci["id"]) == []
    # A token that outlives the final offset is not affected: its 1-day notice comes.
    day2 = new_token(server, "/v1/orgs/acme/users/alice/tokens", admin, "PT30H")
    run_pass(server, epoch(day2["created_at"]) + 6 * 3600 + 60, **args)
    assert mails_of(smtp) == [(("alice@example.com",), day2["id"], 1)]

    r = server.request("PATCH", "/v1/orgs/acme/settings", token=admin, json={"notify_short_lived_tokens": True})
    assert r.status_code == 200 and r.json()["notify_short_lived_tokens"] is True
    assert server.get("/v1/orgs/acme", token=admin).json()["settings"]["notify_short_lived_tokens"] is True
    ci2 = new_token(server, "/v1/orgs/acme/users/alice/tokens", admin, "PT1H")
    run_pass(server, epoch(ci2["created_at"]) + 60, **args)
    assert (("alice@example.com",), ci2["id"], 1) in mails_of(smtp)
    assert (ci2["id"], 1) in hooks_of(webhook)
    # Not a boolean, or a member: refused, and nothing changes.
    assert_error(server.request("PATCH", "/v1/orgs/acme/settings", token=admin,
                                json={"notify_short_lived_tokens": "yes"}), 400, "notify_short_lived_tokens")
    create_user(server, "acme", "bob")
    member = token_for(server, "acme", "bob", expires="P30D")
    assert server.request("PATCH", "/v1/orgs/acme/settings", token=member,
                          json={"notify_short_lived_tokens": False}).status_code == 401
    assert server.get("/v1/orgs/acme/settings", token=admin).json()["notify_short_lived_tokens"] is True


# --- migration 0015 ----------------------------------------------------------------

def test_migration_0015_splits_a_notice_into_a_row_per_recipient(server, admin):
    t = new_token(server, "/v1/orgs/acme/users/alice/tokens", admin, "P8D")
    assert server.stop() == 0
    con = db(server)
    try:
        rewind(con, 15)
        org_id = con.execute("SELECT id FROM orgs WHERE name = 'acme'").fetchone()[0]
        cols = ("id, token_id, org_id, owner_type, owner_id, channel, days_before, expires_at, recipients, status, "
                "attempts, last_error, next_attempt_at, created_at, updated_at, delivered_at")
        rows = [("ntc_aaaaaaaaaaaaaaaaaaaaaaaa", "email", '["a@example.com","b@example.com","c@example.com"]',
                 "delivered", 1, 1000),
                ("ntc_bbbbbbbbbbbbbbbbbbbbbbbb", "webhook", "[]", "pending", 0, None)]
        for nid, channel, rcpt, status, attempts, delivered in rows:
            con.execute("INSERT INTO notices (%s) VALUES (?, ?, ?, 'user', 'usr_x', ?, 7, 2000000000, ?, ?, ?, '', "
                        "900, 900, 900, ?)" % cols, (nid, t["id"], org_id, channel, rcpt, status, attempts, delivered))
        con.commit()
    finally:
        con.close()
    server.start()
    got = sorted((n["id"], n["channel"], n["recipient"], n["status"], n["attempts"])
                 for n in rows_of(server, admin, t["id"]))
    assert got == [
        ("ntc_aaaaaaaaaaaaaaaaaaaaaaaa", "email", "a@example.com", "delivered", 1),
        ("ntc_aaaaaaaaaaaaaaaaaaaaaaaa001", "email", "b@example.com", "delivered", 1),
        ("ntc_aaaaaaaaaaaaaaaaaaaaaaaa002", "email", "c@example.com", "delivered", 1),
        ("ntc_bbbbbbbbbbbbbbbbbbbbbbbb", "webhook", None, "pending", 0),
    ]
    assert server.get("/v1/orgs/acme/settings", token=admin).json()["notify_short_lived_tokens"] is False
