"""Black-box harness: starts the real latchkey binary on a free loopback port
with a temporary data dir, and talks HTTP to it. No mocks: the store is the
real embedded SQLite file."""
import os
import re
import signal
import subprocess
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("LATCHKEY_BIN", os.path.join(ROOT, "build", "latchkey"))
SANITIZED = os.environ.get("LATCHKEY_SANITIZED") == "1"
LISTEN_RE = re.compile(r"listening on (https?)://([^:\s]+|\[[^\]]+\]):(\d+)")


class Server:
    """One latchkey process. Logs go to files under tmp (outside the data dir)
    so tests can scan them for secrets."""

    def __init__(self, tmp, dev=True, extra=None, env=None, data_dir=None):
        self.tmp = tmp
        self.data_dir = data_dir or os.path.join(tmp, "data")
        self.dev = dev
        self.extra = list(extra or [])
        self.env = dict(env or {})
        self.proc = None
        self.url = None
        self.root_token = None
        self.starts = 0
        self.stdout_path = None
        self.stderr_path = None

    def argv(self):
        args = [BIN, "server", "--listen", "127.0.0.1:0", "--data-dir", self.data_dir, "--threads", "2"]
        if self.dev:
            args.append("--dev")
        return args + self.extra

    def start(self, timeout=20):
        self.starts += 1
        self.stdout_path = os.path.join(self.tmp, "stdout.%d.log" % self.starts)
        self.stderr_path = os.path.join(self.tmp, "stderr.%d.log" % self.starts)
        env = dict(os.environ)
        env.update(self.env)
        out = open(self.stdout_path, "w")
        err = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.argv(), stdout=out, stderr=err, env=env, cwd=self.tmp)
        out.close()
        err.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = open(self.stdout_path).read()
            m = LISTEN_RE.search(text)
            if m:
                tok = re.search(r"^Root token: (\S+)$", text, re.M)
                if tok:
                    self.root_token = tok.group(1)
                self.url = "%s://%s:%s" % (m.group(1), m.group(2), m.group(3))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("latchkey exited with %s during start:\n%s\n%s" % (
                    self.proc.returncode, text, open(self.stderr_path).read()))
            time.sleep(0.05)
        self.proc.kill()
        raise RuntimeError("latchkey did not report its address within %ss" % timeout)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the server and returns its exit status (0 for a clean stop)."""
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self.proc = None
        return rc

    def restart(self):
        rc = self.stop()
        assert rc == 0, "server exited with %s:\n%s" % (rc, self.stderr())
        return self.start()

    def stderr(self):
        return "".join(open(os.path.join(self.tmp, f)).read()
                       for f in sorted(os.listdir(self.tmp)) if f.startswith("stderr."))

    def stdout(self):
        return "".join(open(os.path.join(self.tmp, f)).read()
                       for f in sorted(os.listdir(self.tmp)) if f.startswith("stdout."))

    # --- HTTP helpers -------------------------------------------------------
    def request(self, method, path, token=None, headers=None, **kw):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        kw.setdefault("timeout", 10)
        remember_passwords(kw.get("json"))
        r = requests.request(method, self.url + path, headers=h, **kw)
        # Every secret the server hands out is remembered for the final scan.
        if r.headers.get("Content-Type") == "application/json":
            try:
                body = r.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and isinstance(body.get("token"), str):
                remember_secret(body["token"])
        return r

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, token=None, **kw):
        return self.request("POST", path, token=token, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, token=token, **kw)

    def create_token(self, token=None, **body):
        r = self.post("/v1/tokens", token=token or self.root_token, json=body)
        assert r.status_code == 200, r.text
        return r.json()


def run_cli(*args, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN] + list(args), capture_output=True, text=True, env=e, timeout=timeout)


# Every secret a test saw, so the session-end scan (test_zz_secret_scan.py)
# can look for them: tokens, and passwords sent in any JSON body.
SEEN_SECRETS = set()
SEEN_PASSWORDS = set()
# Every directory a test server (and its audit file) lived in this session.
SERVER_DIRS = []


def remember_secret(s):
    if s:
        SEEN_SECRETS.add(s)
    return s


def remember_passwords(obj):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "password" and isinstance(v, str) and len(v) >= 8:
                SEEN_PASSWORDS.add(v)
            else:
                remember_passwords(v)
    elif isinstance(obj, list):
        for v in obj:
            remember_passwords(v)


@pytest.fixture
def make_server(tmp_path):
    """Factory: make_server(**kw) starts a server in its own temp dir."""
    servers = []

    if str(tmp_path) not in SERVER_DIRS:
        SERVER_DIRS.append(str(tmp_path))

    def make(**kw):
        d = tmp_path / ("srv%d" % len(servers))
        d.mkdir()
        s = Server(str(d), **kw)
        servers.append(s)
        s.start()
        if s.root_token:
            remember_secret(s.root_token)
        return s

    yield make
    for s in servers:
        if s.proc is not None:
            rc = s.stop()
            assert rc == 0, "server exited with %s; stderr:\n%s" % (rc, s.stderr()[-4000:])


@pytest.fixture
def tls_files(tmp_path):
    """A self-signed certificate for 127.0.0.1 and its key: (cert, key) paths."""
    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    return cert, key


@pytest.fixture
def server(make_server):
    return make_server()


def expect(r, status=200):
    """Asserts the status; returns the JSON body of a 200 (remembering any
    token it hands out for the final secret scan), None otherwise."""
    assert r.status_code == status, r.text
    if status != 200:
        return None
    body = r.json()
    if isinstance(body.get("token"), str):
        remember_secret(body["token"])
    return body


def assert_error(r, status, contains=None):
    """Every status >= 400 carries {"errors": [...]} with Content-Type application/json."""
    assert r.status_code == status, "expected %d, got %d: %s" % (status, r.status_code, r.text)
    assert r.headers.get("Content-Type") == "application/json", r.headers
    body = r.json()
    assert isinstance(body.get("errors"), list) and body["errors"], body
    assert all(isinstance(m, str) and m for m in body["errors"]), body
    if contains is not None:
        joined = " ".join(body["errors"])
        assert contains in joined, "%r not in %r" % (contains, joined)
    return body
