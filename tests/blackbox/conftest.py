"""Black-box harness: starts the real latchkey binary on a free loopback port
with a temporary data dir, and talks HTTP to it. No mocks: the store is the
real embedded SQLite file.

This file holds the fixtures and the session hooks; what tests share
besides fixtures (Server, expect, create_org, ...) is in helpers.py, which
test modules import. Once the session is over, the no-secret scan
(secret_scan.py) reads every test server's files and fails the session if
any holds a secret a test saw."""
import subprocess

import pytest

import http.server
import threading

import secret_scan
from aiosmtpd.controller import Controller
from federation_harness import Mock
from helpers import PG, SEEN_PASSWORDS, SEEN_SECRETS, SERVER_DIRS, Server, remember_secret
from notice_harness import Hooks, Mailbox, free_port


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


# --- the no-secret scan, once the session is over ---------------------------

SCAN_SECTION = "no-secret scan"
SCAN_KEY = pytest.StashKey[secret_scan.Result]()


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: checks the SQLite file or the data dir that holds it (its "
                            "mode, its DSN, a missing dir); skipped when the suite runs on PostgreSQL "
                            "(LATCHKEY_TEST_PG, where tests/blackbox/pgstore.py makes the data dir)")


def pytest_collection_modifyitems(config, items):
    if not PG:
        return
    skip = pytest.mark.skip(reason="checks the SQLite file or its data dir; the suite runs on PostgreSQL")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session, exitstatus):
    """Scans every server directory of the session, whichever tests ran and
    in whatever order. trylast: after pytest's own session finish, which
    tears down fixtures a stopped run (-x, ^C) left up, so every server has
    stopped and flushed its logs. A finding, or a file that could not be
    read, makes the exit status 1; the report, in pytest_terminal_summary
    below, names files and kinds of secret, never a secret."""
    if not SERVER_DIRS:
        return
    result = secret_scan.scan(SERVER_DIRS, SEEN_SECRETS, SEEN_PASSWORDS)
    session.config.stash[SCAN_KEY] = result
    if result.findings or result.unreadable:
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            # An entry of its own in the last line ("3 passed, 1 found by
            # the no-secret scan"), so that line does not read as success.
            reporter.stats.setdefault("found by the %s" % SCAN_SECTION, []).extend(
                result.findings + result.unreadable)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    result = config.stash.get(SCAN_KEY, None)
    if result is None:
        return
    counts = "tokens seen: %d, passwords seen: %d, files read: %d, audit records read: %d" % (
        len(SEEN_SECRETS), len(SEEN_PASSWORDS), result.files, result.audit_rows)
    if not (result.findings or result.unreadable):
        terminalreporter.write_line("%s: clean (%s)" % (SCAN_SECTION, counts))
        return
    terminalreporter.write_sep("=", SCAN_SECTION + " failed", red=True, bold=True)
    for finding in result.findings:
        terminalreporter.write_line(secret_scan.describe(*finding), red=True)
    for path, reason in result.unreadable:
        terminalreporter.write_line("could not scan %s: %s" % (path, reason), red=True)
    terminalreporter.write_line("(scanned %s; the session fails)" % counts)


@pytest.fixture
def smtp():
    """A running SMTP server on a free loopback port."""
    box = Mailbox()
    c = Controller(box, hostname="127.0.0.1", port=free_port())
    c.start()
    box.port = c.port
    box.controller = c
    yield box
    box.release()
    c.stop()


@pytest.fixture
def webhook():
    hooks = Hooks()

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            hooks.calls.append({"headers": dict(self.headers), "body": body})
            self.send_response(hooks.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    hooks.url = "http://127.0.0.1:%d/hook" % srv.server_address[1]
    yield hooks
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def mock():
    """The mock foreign token issuer (federation_harness.Mock), one per test module."""
    m = Mock()
    yield m
    m.close()
