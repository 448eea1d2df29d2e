"""What the expiry-notice tests share: a real SMTP server's handler
(Debian's aiosmtpd) and a webhook receiver's record (their fixtures, smtp
and webhook, are in conftest.py), the operator pass under the test clock,
and readers of what arrived. Imported by test modules, as helpers.py is."""
import datetime
import email
import email.policy
import hashlib
import hmac
import json
import os
import socket
import subprocess
import threading
import time

from helpers import BIN

CLOCK_ENV = {"LATCHKEY_TEST_CLOCK": "i-know-this-is-not-production"}
WEBHOOK_SECRET = "whsec-notice-test-6c1f0e9b2a7d"
DAY = 86400


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def epoch(s):
    """An RFC 3339 UTC time as the server writes it, as Unix seconds."""
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Mailbox:
    """aiosmtpd handler: records every accepted message. block_on=N makes the
    N-th DATA wait (unaccepted) until release() and then answer 451."""

    def __init__(self, block_on=None):
        self.messages = []
        self.block_on = block_on
        self.data_count = 0
        self.blocked = threading.Event()
        self.released = threading.Event()
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_count += 1
            n = self.data_count
        if self.block_on is not None and n == self.block_on:
            self.blocked.set()
            # Block this SMTP server's loop: the client waits for our reply.
            self.released.wait(60)
            return "451 try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"rcpt": sorted(envelope.rcpt_tos), "from": envelope.mail_from, "msg": msg,
                                  "raw": envelope.content.decode("utf-8", "replace")})
        return "250 OK"

    def release(self):
        self.released.set()


class Hooks:
    def __init__(self):
        self.calls = []
        self.status = 200


def notice_flags(smtp_port=None, hook_url=None):
    flags = []
    if smtp_port is not None:
        flags += ["--smtp-url", "smtp://127.0.0.1:%d" % smtp_port, "--smtp-from", "latchkey@example.org"]
    if hook_url is not None:
        flags += ["--notice-webhook-url", hook_url]
    return flags


def run_pass(server, as_of, smtp_port=None, hook_url=None, extra=None):
    env = dict(os.environ)
    env.update(CLOCK_ENV)
    env["LATCHKEY_NOTICE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    r = subprocess.run([BIN, "operator", "notices", "--data-dir", server.data_dir, "--as-of", rfc3339(as_of)]
                       + notice_flags(smtp_port, hook_url) + list(extra or []),
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def mails_of(box):
    """Each received mail as (recipients, token id, days): the id from its
    subject, the offset it was scheduled at from X-Latchkey-Notice-Days
    (the subject states the time left instead)."""
    out = []
    for m in box.messages:
        msg = m["msg"]
        # "latchkey: API token <id> expires in <time left>[ ("<description>")]"
        out.append((tuple(m["rcpt"]), msg["Subject"].split()[3], int(msg["X-Latchkey-Notice-Days"])))
    return sorted(out)


def hooks_of(hooks):
    return sorted((json.loads(c["body"])["token_id"], json.loads(c["body"])["days_before"]) for c in hooks.calls)


def check_signature(call):
    sig = call["headers"]["X-Latchkey-Signature"]
    parts = dict(p.split("=", 1) for p in sig.split(","))
    assert set(parts) == {"t", "v1"}, sig
    want = hmac.new(WEBHOOK_SECRET.encode(), parts["t"].encode() + b"." + call["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], want), "signature does not verify"
    assert abs(int(parts["t"]) - time.time()) < 300
    body = json.loads(call["body"])
    assert call["headers"]["X-Latchkey-Delivery"] == body["notice_id"]
    assert call["headers"]["Content-Type"] == "application/json"


def no_secret_in(texts, secrets):
    for t in texts:
        for s in secrets:
            assert s not in t, "a secret leaked into a notice"
