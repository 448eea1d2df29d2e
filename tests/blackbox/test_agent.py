"""`latchkey agent` (issue 20 item 6, docs/identity.md "The agent"): keeps a
service account's identity token in a file, written atomically with mode
0600, renewed before it expires, kept in place through a server outage, and
runs a workload with --exec. Against the real server in dev mode.

The server's shortest identity-token lifetime is 5 minutes, so the renewal
tests ask for 5-minute tokens and renew them at a tiny fraction of their
life with the agent's hidden --refresh-at flag (0.002: every 0.6 s); the
80%-with-jitter rule itself is unit-tested (tests/unit/lib/test_refresh.c)."""
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

from helpers import BIN, Server, SERVER_DIRS, create_team, expect, org_with_users, remember_secret
from notice_harness import free_port

T = "/v1/orgs/acme/teams/payments"
SA = T + "/service-accounts/deployer"
FAST = ["--ttl", "5m", "--refresh-at", "0.002"]


def claims(tok):
    p = tok.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))


@pytest.fixture
def creds(tmp_path_factory):
    """Where the bootstrap and token files live: outside the directories the
    session-end secret scan reads (they hold tokens by design), unlike the
    agents' logs, which must not."""
    return tmp_path_factory.mktemp("agent-creds")


@pytest.fixture
def acme(server, creds):
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
    session-end secret scan reads too."""

    def __init__(self, tmp, server_url, boot, *extra, token_file=None):
        self.tmp = str(tmp)
        if self.tmp not in SERVER_DIRS:
            SERVER_DIRS.append(self.tmp)
        self.token_file = token_file or os.path.join(os.path.dirname(boot), "run%d" % time.monotonic_ns(), "token")
        os.makedirs(os.path.dirname(self.token_file), exist_ok=True)
        self.log = os.path.join(self.tmp, "agent.%d.log" % time.monotonic_ns())
        self.argv = [BIN, "agent", "--server", server_url, "--org", "acme", "--team", "payments",
                     "--service-account", "deployer", "--bootstrap-token-file", boot,
                     "--token-file", self.token_file] + list(extra)
        self.proc = None

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
        for tok in (ag.argv[ag.argv.index("--bootstrap-token-file") + 1],):
            if os.path.exists(tok) and open(tok).read().strip():
                assert open(tok).read().strip() not in text


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
    r = subprocess.run([BIN, "agent", "--subject-token-file", "x"], capture_output=True, text=True)
    assert r.returncode == 2 and "not available yet" in r.stderr
    r = subprocess.run([BIN, "agent", "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--exec -- CMD ARGS" in r.stdout
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    assert "agent --token-file PATH" in r.stdout


def test_a_reader_never_sees_a_partial_or_expired_token(server, acme, agents, tmp_path):
    ag = agents(tmp_path, server.url, acme["boot"], *FAST).start()
    ag.wait_for("^agent: wrote")
    seen, bad = set(), []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            with open(ag.token_file) as f:
                tok = f.read()
            try:
                c = claims(tok)
                if c["exp"] <= time.time() or tok.count(".") != 2:
                    bad.append(tok)
                seen.add(tok)
            except Exception:  # noqa: BLE001 - anything unparsable is a torn read
                bad.append(tok)

    th = threading.Thread(target=reader)
    th.start()
    ag.wait_for("^agent: wrote", count=6, timeout=30)
    stop.set()
    th.join()
    assert not bad, "the reader saw %d partial, empty or expired files" % len(bad)
    assert len(seen) >= 3
    for tok in seen:
        remember_secret(tok)
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


def test_outage_keeps_the_last_good_token_then_recovers(make_server, tmp_path, agents, creds):
    port = free_port()
    server = make_server(extra=["--listen", "127.0.0.1:%d" % port])
    assert server.url.endswith(":%d" % port)
    tokens = org_with_users(server, "acme", [("admin", "admin")])
    create_team(server, "acme", "payments", token=tokens["admin"])
    expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": "deployer"}))
    boot = creds / "bootstrap"
    boot.write_text(expect(server.post(SA + "/tokens", token=tokens["admin"], json={}))["token"])
    boot.chmod(0o600)
    ag = agents(tmp_path, server.url, str(boot), *FAST).start()
    ag.wait_for("^agent: wrote", count=2)
    assert server.stop() == 0
    before = len(ag.msgs("^agent: wrote"))
    last = ag.token()
    # Backoff: 1 s, 2 s, 4 s (each +/-20%): three failures within ~9 s.
    fails = ag.wait_for("renewal failed .*keeping the current token", count=3, timeout=20)
    assert "could not reach the server" in fails[0]
    retry_ms = [int(re.search(r"retry \d+ in (\d+) ms", m).group(1)) for m in fails]
    assert 800 <= retry_ms[0] <= 1200 and 1600 <= retry_ms[1] <= 2400 and 3200 <= retry_ms[2] <= 4800
    assert ag.token() == last and claims(last)["exp"] > time.time()
    assert len(ag.msgs("^agent: wrote")) == before
    server.start()
    assert server.url.endswith(":%d" % port)
    ag.wait_for("^agent: wrote", count=before + 1, timeout=30)
    assert ag.token() != last
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
