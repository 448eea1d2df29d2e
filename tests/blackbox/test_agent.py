"""`latchkey agent` (issue 20 items 6 and 8, docs/identity.md "The agent"):
keeps a service account's identity token in a file, written atomically with
mode 0600, renewed before it expires, kept in place through a server outage,
and runs a workload with --exec. Against the real server in dev mode.

The reader and outage tests use 10-second tokens on a server started with
--identity-min-ttl 10s (a --dev-only setting; production's floor is 5
minutes), renewed on the agent's real schedule (80% of the lifetime, +/-5%).
Other tests that need several renewals quickly ask for 5-minute tokens and
renew them at a tiny fraction of their life with the agent's hidden
--refresh-at flag (0.002: every 0.6 s); the 80%-with-jitter rule itself is
unit-tested too (tests/unit/lib/test_refresh.c)."""
import base64
import json
import os
import re
import signal
import stat
import subprocess
import threading
import time

import pytest

from federation_harness import PR_SUB, trust
from helpers import BIN, SERVER_DIRS, create_team, expect, org_with_users, remember_secret
from notice_harness import free_port

T = "/v1/orgs/acme/teams/payments"
SA = T + "/service-accounts/deployer"
FAST = ["--ttl", "5m", "--refresh-at", "0.002"]
SHORT = ["--identity-min-ttl", "10s"]  # the server flag that allows 10-second tokens (with --dev)
JWT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def b64d(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def claims(tok):
    return json.loads(b64d(tok.split(".")[1]))


def whole_jwt(tok):
    """True if tok is one whole ES256 JWT: three base64url parts, a JSON
    header and payload, a 64-byte signature (a torn read fails one of these)."""
    if not JWT_RE.fullmatch(tok):
        return False
    try:
        h, p, sig = tok.split(".")
        return json.loads(b64d(h))["alg"] == "ES256" and isinstance(json.loads(b64d(p))["exp"], int) and \
            len(b64d(sig)) == 64
    except (ValueError, KeyError, TypeError):
        return False


class Reader(threading.Thread):
    """A workload that re-reads the token file every couple of milliseconds.
    Counts the reads that were not a whole JWT (torn) and those of a token
    already expired by the clock (expired; expired_tokens: which ones), and
    keeps the tokens in the order they appeared (seen: [[first read, last
    read, token]]). Counts, so a failing assertion prints no token."""

    def __init__(self, path):
        super().__init__(daemon=True)
        self.path, self.halt = path, threading.Event()
        self.reads, self.torn, self.expired, self.expired_tokens, self.seen = 0, 0, 0, set(), []

    def run(self):
        while not self.halt.is_set():
            with open(self.path) as f:
                tok = f.read()
            now = time.time()
            self.reads += 1
            if not whole_jwt(tok):
                self.torn += 1
            else:
                remember_secret(tok)
                if claims(tok)["exp"] <= now:
                    self.expired += 1
                    self.expired_tokens.add(tok)
                if self.seen and self.seen[-1][2] == tok:
                    self.seen[-1][1] = now
                else:
                    self.seen.append([now, now, tok])
            time.sleep(0.002)

    def stop(self):
        self.halt.set()
        self.join(10)
        return self


@pytest.fixture
def creds(tmp_path_factory):
    """Where the bootstrap and token files live: outside the directories the
    session-end secret scan reads (they hold tokens by design), unlike the
    agents' logs, which must not."""
    return tmp_path_factory.mktemp("agent-creds")


@pytest.fixture
def acme(server, creds):
    return make_acme(server, creds)


def make_acme(server, creds):
    """Org acme, team payments, service account deployer and a bootstrap
    file (mode 0600) holding one of its API tokens."""
    tokens = org_with_users(server, "acme", [("admin", "admin")])
    create_team(server, "acme", "payments", token=tokens["admin"])
    expect(server.post(T + "/service-accounts", token=tokens["admin"],
                       json={"name": "deployer", "roles": ["team-member"]}))
    out = expect(server.post(SA + "/tokens", token=tokens["admin"], json={}))
    tokens["sa"], tokens["sa_id"] = out["token"], out["id"]
    boot = creds / "bootstrap"
    boot.write_text(out["token"] + "\n")
    boot.chmod(0o600)
    tokens["boot"] = str(boot)
    return tokens


class Agent:
    """One `latchkey agent` process; its log (stderr) goes to a file that the
    session-end secret scan reads too. cred is the bootstrap token file (for
    acme's payments/deployer), or with federated=True the subject token file
    (and then no --team or --service-account unless extra gives them)."""

    def __init__(self, tmp, server_url, cred, *extra, token_file=None, federated=False):
        self.tmp = str(tmp)
        if self.tmp not in SERVER_DIRS:
            SERVER_DIRS.append(self.tmp)
        self.cred = cred
        self.token_file = token_file or os.path.join(os.path.dirname(cred), "run%d" % time.monotonic_ns(), "token")
        os.makedirs(os.path.dirname(self.token_file), exist_ok=True)
        self.log = os.path.join(self.tmp, "agent.%d.log" % time.monotonic_ns())
        account = [] if federated else ["--team", "payments", "--service-account", "deployer"]
        self.argv = [BIN, "agent", "--server", server_url, "--org", "acme"] + account + [
            "--subject-token-file" if federated else "--bootstrap-token-file", cred,
            "--token-file", self.token_file] + list(extra)
        self.proc = None
        self.secrets = []  # credentials it read before, which its log must not hold either

    def start(self):
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=err, text=True)
        return self

    def run(self, timeout=30):
        with open(self.log, "w") as err:
            r = subprocess.run(self.argv, stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout)
        return r.returncode

    def lines(self):
        out = []
        for line in open(self.log).read().splitlines():
            out.append(json.loads(line))  # every log line is one JSON object
        return out

    def msgs(self, pattern):
        return [x["msg"] for x in self.lines() if re.search(pattern, x["msg"])]

    def wait_for(self, pattern, count=1, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.msgs(pattern)) >= count:
                return self.msgs(pattern)
            time.sleep(0.05)
        raise AssertionError("no %d log lines matching %r in:\n%s" % (count, pattern, open(self.log).read()))

    def token(self):
        with open(self.token_file) as f:
            return remember_secret(f.read())

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


@pytest.fixture
def agents():
    started = []

    def make(*a, **kw):
        ag = Agent(*a, **kw)
        started.append(ag)
        return ag

    yield make
    for ag in started:
        if ag.proc is not None and ag.proc.poll() is None:
            ag.proc.kill()
            ag.proc.wait()
        # No line of the agent's log holds a credential it handled.
        text = open(ag.log).read() if os.path.exists(ag.log) else ""
        if os.path.exists(ag.token_file):
            assert ag.token() not in text
        if os.path.exists(ag.cred) and open(ag.cred).read().strip():
            assert open(ag.cred).read().strip() not in text
        for secret in ag.secrets:
            assert secret not in text


def test_once_writes_a_0600_token_the_server_accepts(server, acme, agents, tmp_path):
    ag = agents(tmp_path, server.url, acme["boot"], "--once")
    assert ag.run() == 0
    st = os.stat(ag.token_file)
    assert stat.S_IMODE(st.st_mode) == 0o600
    tok = ag.token()
    assert not tok.endswith("\n") and tok.count(".") == 2
    c = claims(tok)
    assert (c["org"], c["team"], c["sa"]) == ("acme", "payments", "deployer")
    assert c["exp"] - c["iat"] == 3600 and c["exp"] > time.time()
    who = expect(server.get("/v1/auth/whoami", token=tok))
    assert who["principal"]["name"] == "deployer"
    # No temporary file is left next to it; one JSON log line says what happened.
    assert os.listdir(os.path.dirname(ag.token_file)) == ["token"]
    assert len(ag.msgs(r"^agent: wrote the identity token")) == 1


def test_audience_and_ttl_are_passed_on(server, acme, agents, tmp_path):
    ag = agents(tmp_path, server.url, acme["boot"], "--once", "--audience", "https://vault.example", "--ttl", "10m")
    assert ag.run() == 0
    c = claims(ag.token())
    assert c["aud"] == "https://vault.example" and c["exp"] - c["iat"] == 600


def test_bootstrap_file_readable_by_others_is_refused(server, acme, agents, tmp_path):
    os.chmod(acme["boot"], 0o644)
    ag = agents(tmp_path, server.url, acme["boot"], "--once")
    assert ag.run() == 1
    assert ag.msgs("only its owner can read")
    assert not os.path.exists(ag.token_file)


def test_revoked_bootstrap_token_is_a_clear_error(server, acme, agents, tmp_path):
    assert server.delete(SA + "/tokens/" + acme["sa_id"], token=acme["admin"]).status_code == 204
    ag = agents(tmp_path, server.url, acme["boot"], "--once")
    assert ag.run() == 1
    [msg] = ag.msgs("no identity token")
    assert "401" in msg and "revoked" in msg
    assert not os.path.exists(ag.token_file)


def test_flags_are_checked(tmp_path):
    r = subprocess.run([BIN, "agent", "--server", "http://127.0.0.1:1", "--org", "acme"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "--team is required" in r.stderr
    base = [BIN, "agent", "--server", "http://127.0.0.1:1", "--org", "acme", "--token-file", str(tmp_path / "t")]
    # Exactly one bootstrap credential.
    r = subprocess.run(base + ["--team", "payments", "--service-account", "deployer"], capture_output=True, text=True)
    assert r.returncode == 2 and "--bootstrap-token-file (or --subject-token-file) is required" in r.stderr
    r = subprocess.run(base + ["--bootstrap-token-file", "b", "--subject-token-file", "s"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "give one of --bootstrap-token-file" in r.stderr
    # The exchange picks the account and the lifetime: no --workload, no --ttl.
    for flag in (["--workload", "web"], ["--ttl", "10m"]):
        r = subprocess.run(base + ["--subject-token-file", "s"] + flag, capture_output=True, text=True)
        assert r.returncode == 2 and "%s cannot be used with --subject-token-file" % flag[0] in r.stderr
    # --team and --service-account are optional then; the file is checked at start.
    r = subprocess.run(base + ["--subject-token-file", str(tmp_path / "none"), "--once"], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "subject token file %s: No such file" % (tmp_path / "none") in r.stderr
    assert not os.path.exists(tmp_path / "t")
    r = subprocess.run([BIN, "agent", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--exec -- CMD ARGS" in r.stdout
    assert "--subject-token-file FILE" in r.stdout and "/v1/oauth/token (RFC 8693)" in r.stdout
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert "agent --token-file PATH" in r.stdout


def test_a_reader_never_sees_a_partial_or_expired_10_second_token(make_server, creds, agents, tmp_path):
    """Tokens living 10 s, renewed on the agent's own schedule: a workload
    re-reading the file hundreds of times a second through two renewals
    always reads one whole JWT, never an expired one."""
    server = make_server(extra=SHORT)
    acme = make_acme(server, creds)
    ag = agents(tmp_path, server.url, acme["boot"], "--ttl", "10s").start()
    ag.wait_for("^agent: wrote")
    rd = Reader(ag.token_file)
    rd.start()
    began = time.time()
    ag.wait_for("^agent: wrote", count=3, timeout=25)
    # The agent logs a write once the file is in place; the reader, polling
    # every few ms, sees it just after (on a loaded host, later): wait for it.
    deadline = time.time() + 3
    while len(rd.seen) < 3 and time.time() < deadline:
        time.sleep(0.01)
    rd.stop()
    assert rd.reads >= 50 * (time.time() - began), rd.reads
    assert rd.torn == 0, "%d of %d reads were not a whole JWT" % (rd.torn, rd.reads)
    assert rd.expired == 0, "%d of %d reads were of an expired token" % (rd.expired, rd.reads)
    tokens = [t for _, _, t in rd.seen]
    assert len(tokens) >= 3 and len(set(tokens)) == len(tokens)
    for tok in tokens:
        c = claims(tok)
        assert c["exp"] - c["iat"] == 10 and c["sa"] == "deployer"
    # Each was replaced before it expired, at 80% of its life +/-5% (7.5 to
    # 8.5 s after it arrived; iat is whole seconds, so 7 to 10 apart).
    # The first token was written before the reader started, so only the
    # later ones were seen as they arrived: the interval's lower bound holds
    # from the second on (the first is timed by its iat). The agent renews
    # 7.5 to 8.5 s after a token arrived; the reader, polling, may see one
    # late on a loaded machine (by 0.55 s once in CI), so it allows a second.
    for i, (old, new) in enumerate(zip(rd.seen, rd.seen[1:])):
        assert new[0] < claims(old[2])["exp"]
        assert 7 <= claims(new[2])["iat"] - claims(old[2])["iat"] <= 10
        assert new[0] - old[0] <= 9.5, new[0] - old[0]
        if i > 0:
            assert 6.5 <= new[0] - old[0], new[0] - old[0]
    assert stat.S_IMODE(os.stat(ag.token_file).st_mode) == 0o600
    assert os.listdir(os.path.dirname(ag.token_file)) == ["token"]
    assert ag.stop() == 0


def test_exec_runs_the_workload_forwards_sigterm_and_exits_with_its_status(server, acme, agents, tmp_path, creds):
    env_out = creds / "env.txt"
    script = ('echo "$LATCHKEY_SERVICE_ACCOUNT_TOKEN_PATH $NAIS_SERVICE_ACCOUNT_TOKEN_PATH" > %s; '
              'test -s "$LATCHKEY_SERVICE_ACCOUNT_TOKEN_PATH" && echo present >> %s; '
              'trap "echo term >> %s; exit 7" TERM; while :; do sleep 0.1; done') % (env_out, env_out, env_out)
    ag = agents(tmp_path, server.url, acme["boot"], "--exec", "--", "sh", "-c", script).start()
    ag.wait_for("^agent: started sh")
    deadline = time.time() + 10
    while time.time() < deadline and "present" not in (env_out.read_text() if env_out.exists() else ""):
        time.sleep(0.05)
    lines = env_out.read_text().splitlines()
    assert lines[0] == "%s %s" % (ag.token_file, ag.token_file)
    assert lines[1] == "present"
    assert ag.stop(signal.SIGTERM) == 7
    assert env_out.read_text().splitlines()[2] == "term"
    ag.wait_for("exited with status 7")


def test_exec_status_of_a_killed_workload_and_of_a_plain_exit(server, acme, agents, tmp_path):
    ag = agents(tmp_path, server.url, acme["boot"], "--exec", "--", "sh", "-c", "kill -KILL $$")
    assert ag.run() == 128 + 9
    ag = agents(tmp_path, server.url, acme["boot"], "--exec", "sh", "-c", "exit 3")
    assert ag.run() == 3
    ag = agents(tmp_path, server.url, acme["boot"], "--exec", "--", "/nonexistent/command")
    assert ag.run() == 127


def test_an_outage_keeps_the_last_good_token_until_it_expires_then_recovers(make_server, tmp_path, agents, creds):
    """The server dies (SIGKILL: a graceful stop would go on serving the
    agent's open connection for a while) right after the agent wrote a
    10-second token. The renewal at ~8 s fails and is retried with backoff
    (1 s, 2 s, 4 s, each +/-20%); the file keeps that token, whole and
    unchanged, past its expiry (nothing better exists), and the agent says
    it expired. Once the server is back on the same port and data dir, the
    next retry writes a fresh one."""
    port = free_port()
    server = make_server(extra=["--listen", "127.0.0.1:%d" % port] + SHORT)
    assert server.url.endswith(":%d" % port)
    acme = make_acme(server, creds)
    ag = agents(tmp_path, server.url, acme["boot"], "--ttl", "10s").start()
    ag.wait_for("^agent: wrote")
    last = ag.token()
    rd = Reader(ag.token_file)
    rd.start()
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    ag.wait_for(r"^agent: renewal failed .*expired at", timeout=20)
    ag.wait_for(r"^agent: renewal failed", count=3, timeout=10)
    assert time.time() > claims(last)["exp"]
    assert rd.torn == 0, "%d of %d reads were not a whole JWT" % (rd.torn, rd.reads)
    unchanged = len(rd.seen) == 1 and rd.seen[0][2] == last
    assert unchanged, "the file changed while the server was down"
    server.start()
    assert server.url.endswith(":%d" % port)
    ag.wait_for("^agent: wrote", count=2, timeout=20)
    time.sleep(0.1)
    rd.stop()
    assert rd.torn == 0, "%d of %d reads were not a whole JWT" % (rd.torn, rd.reads)
    assert len(rd.seen) == 2, "expected the last good token, then a fresh one; saw %d tokens" % len(rd.seen)
    [(_, kept_until, old), (fresh_from, _, fresh)] = rd.seen
    in_order = old == last and fresh != last
    assert in_order, "not the last good token, then a fresh one"
    # The old token stayed until it had expired and was then read as such;
    # the fresh one came only after that, and is valid.
    assert kept_until >= claims(last)["exp"] and fresh_from > kept_until
    only_last = rd.expired_tokens == {last}
    assert rd.expired > 0 and only_last, "expired reads of another token than the last good one"
    assert claims(fresh)["exp"] > time.time() and claims(fresh)["iat"] > claims(last)["iat"]
    assert expect(server.get("/v1/auth/whoami", token=fresh))["principal"]["name"] == "deployer"
    # Retried with backoff: the first failures wait 1 s, 2 s, 4 s (+/-20%).
    fails = ag.msgs("^agent: renewal failed")
    assert len(fails) >= 3 and "could not reach the server" in fails[0]
    retry_ms = [int(re.search(r"retry \d+ in (\d+) ms", m).group(1)) for m in fails]
    assert 800 <= retry_ms[0] <= 1200 and 1600 <= retry_ms[1] <= 2400 and 3200 <= retry_ms[2] <= 4800, retry_ms
    assert "keeping the current token" in fails[0]
    assert ag.stop() == 0


def test_workload_renews_with_its_own_identity_token(server, acme, agents, tmp_path, creds):
    expect(server.post(T + "/workloads", token=acme["admin"], json={"name": "web"}))
    assert server.request("PUT", T + "/workloads/web/bindings/deployer", token=acme["admin"]).status_code == 204
    ag = agents(tmp_path, server.url, acme["boot"], "--workload", "web", *FAST).start()
    ag.wait_for("^agent: wrote", count=3)
    msgs = ag.msgs("^agent: wrote")
    assert "via the bootstrap token" in msgs[0]
    assert all("via the identity token" in m for m in msgs[1:])
    assert claims(ag.token())["workload"] == "web"
    assert ag.stop() == 0
    # An unbound workload gets no token at all.
    assert server.delete(T + "/workloads/web/bindings/deployer", token=acme["admin"]).status_code == 204
    ag = agents(tmp_path, server.url, acme["boot"], "--workload", "web", "--once",
                token_file=str(creds / "other" / "token"))
    assert ag.run() == 1
    assert ag.msgs("not bound")


# --- a foreign token as the bootstrap credential (federation, RFC 8693) ------

@pytest.fixture
def fed(server, creds, mock):
    """acme trusts the mock issuer (federation_harness.trust: SUB maps to
    payments/deployer, PR_SUB to payments/reader); the subject file (mode
    0600) holds a token of the mock's for SUB."""
    tokens = make_acme(server, creds)
    expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": "reader"}))
    expect(trust(server, mock, tokens["admin"]))
    subject = creds / "subject"
    write_subject(subject, mock.sign())
    tokens["subject"] = str(subject)
    return tokens


def write_subject(path, tok):
    """Puts tok in the subject file as a platform rotating it would: a new
    file renamed over the old one, mode 0600."""
    tmp = str(path) + ".new"
    with open(tmp, "w") as f:
        f.write(tok + "\n")
    os.chmod(tmp, 0o600)
    os.rename(tmp, str(path))


def test_a_subject_token_is_exchanged_for_an_identity_token(server, fed, agents, tmp_path):
    ag = agents(tmp_path, server.url, fed["subject"], "--once", federated=True)
    assert ag.run() == 0
    assert stat.S_IMODE(os.stat(ag.token_file).st_mode) == 0o600
    tok = ag.token()
    assert whole_jwt(tok) and not tok.endswith("\n")
    c = claims(tok)
    # The trusted issuer's first rule chose the account; the exchange's tokens live an hour.
    assert (c["org"], c["team"], c["sa"], c["aud"]) == ("acme", "payments", "deployer", server.url)
    assert c["exp"] - c["iat"] == 3600 and "workload" not in c
    assert expect(server.get("/v1/auth/whoami", token=tok))["principal"]["name"] == "deployer"
    [msg] = ag.msgs("^agent: wrote")
    assert "via the token exchange" in msg
    assert os.listdir(os.path.dirname(ag.token_file)) == ["token"]
    recs = expect(server.get("/v1/orgs/acme/audit", token=fed["admin"], params={"action": "oauth.token_exchange"}))
    assert any(c["jti"] in r["resource"] and "sa=payments/deployer" in r["resource"] for r in recs["items"])
    # --audience is passed on; --team/--service-account, when given, are checked and pass.
    ag = agents(tmp_path, server.url, fed["subject"], "--once", "--audience", "https://vault.example", "--team",
                "payments", "--service-account", "deployer", federated=True)
    assert ag.run() == 0
    c = claims(ag.token())
    assert c["aud"] == "https://vault.example" and c["sa"] == "deployer"


def test_a_refused_exchange_is_reported_and_nothing_is_written(server, fed, agents, tmp_path, mock):
    # No rule matches: the server's OAuth error and its description, exit 1, no file.
    write_subject(fed["subject"], mock.sign(sub="repo:acme/api:ref:refs/heads/evil"))
    ag = agents(tmp_path, server.url, fed["subject"], "--once", federated=True)
    assert ag.run() == 1
    [msg] = ag.msgs("^agent: no identity token")
    assert "the server answered 400: invalid_grant: no rule matched" in msg
    assert not os.path.exists(ag.token_file)
    # A rule maps the token to another account than --service-account names: not written.
    write_subject(fed["subject"], mock.sign(sub=PR_SUB))
    ag = agents(tmp_path, server.url, fed["subject"], "--once", "--team", "payments", "--service-account", "deployer",
                federated=True)
    assert ag.run() == 1
    [msg] = ag.msgs("^agent: no identity token")
    assert "service account reader of team payments, not the one --team/--service-account name" in msg
    assert not os.path.exists(ag.token_file)
    # A subject file others can read is refused before anything is asked.
    write_subject(fed["subject"], mock.sign())
    os.chmod(fed["subject"], 0o644)
    ag = agents(tmp_path, server.url, fed["subject"], "--once", federated=True)
    assert ag.run() == 1
    assert ag.msgs("subject token file .* only its owner can read")
    assert not os.path.exists(ag.token_file)


def test_the_subject_token_is_reread_at_each_renewal_and_refusals_are_retried(server, fed, agents, tmp_path, mock):
    """The platform rotates the subject token in place; each renewal reads
    it afresh. A rotated token the server refuses (no rule matches) is
    logged with the OAuth error and retried with backoff while the last good
    token stays; once the file holds a good token again, a fresh identity
    token is written. Renewal at 0.1% of the hour (~3.6 s) via --refresh-at."""
    ag = agents(tmp_path, server.url, fed["subject"], "--refresh-at", "0.001", federated=True).start()
    ag.wait_for("^agent: wrote")
    first = ag.token()
    ag.secrets.append(open(fed["subject"]).read().strip())
    write_subject(fed["subject"], mock.sign(sub="repo:acme/api:ref:refs/heads/evil"))
    ag.secrets.append(open(fed["subject"]).read().strip())
    fails = ag.wait_for("^agent: renewal failed", count=2, timeout=15)
    assert all("the server answered 400: invalid_grant: no rule matched" in m for m in fails)
    assert all("keeping the current token" in m for m in fails)
    retry_ms = [int(re.search(r"retry \d+ in (\d+) ms", m).group(1)) for m in fails]
    assert 800 <= retry_ms[0] <= 1200 and 1600 <= retry_ms[1] <= 2400, retry_ms
    same = ag.token() == first
    assert same, "the last good token was replaced during the refusals"
    write_subject(fed["subject"], mock.sign())
    ag.wait_for("^agent: wrote", count=2, timeout=15)
    fresh = ag.token()
    assert fresh != first and claims(fresh)["sa"] == "deployer" and claims(fresh)["iat"] >= claims(first)["iat"]
    assert all("via the token exchange" in m for m in ag.msgs("^agent: wrote"))
    assert ag.stop() == 0
