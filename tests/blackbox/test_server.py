"""The server process: dev mode, restarts, the operator root-token command,
configuration precedence, TLS, plain-HTTP refusal, graceful shutdown, rate
limits, and that no secret reaches the data dir or the logs."""
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests

from helpers import BIN, Server, assert_error, remember_secret, run_cli, SEEN_SECRETS


@pytest.mark.sqlite_only
def test_dev_start_prints_root_token_and_url(server):
    out = server.stdout()
    assert out.count("Root token: ") == 1
    assert "listening on http://127.0.0.1:" in out
    assert os.path.isfile(os.path.join(server.data_dir, "latchkey.db"))
    assert oct(os.stat(server.data_dir).st_mode & 0o777) == "0o700"
    assert oct(os.stat(os.path.join(server.data_dir, "latchkey.db")).st_mode & 0o777) == "0o600"


def test_restart_keeps_data_and_prints_no_new_root_token(server):
    t = server.create_token(description="survives restarts", expires="P30D")
    remember_secret(t["token"])
    root = server.root_token
    server.restart()
    assert server.stdout().count("Root token: ") == 1  # only from the first start
    assert server.get("/v1/auth/whoami", token=root).status_code == 200
    assert server.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    g = server.get("/v1/tokens/" + t["id"], token=root).json()
    assert g["description"] == "survives restarts" and g["expires_at"] == t["expires_at"]


def test_last_used_survives_a_restart(server):
    t = server.create_token()
    remember_secret(t["token"])
    server.get("/v1/auth/whoami", token=t["token"])
    server.restart()  # the final flush at shutdown writes it
    g = server.get("/v1/tokens/" + t["id"], token=server.root_token).json()
    assert g["last_used_at"] is not None


def test_operator_root_token_revokes_the_old_one(server):
    old = server.root_token
    r = run_cli("operator", "root-token", "--data-dir", server.data_dir)
    assert r.returncode == 0, r.stderr
    new = remember_secret(r.stdout.split("Root token: ")[1].split()[0])
    assert "Revoked 1 previous root token" in r.stdout
    assert server.get("/v1/auth/whoami", token=new).status_code == 200
    server.restart()  # a fresh process has no cached copy of the old token
    assert_error(server.get("/v1/auth/whoami", token=old), 401, "revoked")
    assert server.get("/v1/auth/whoami", token=new).status_code == 200


def test_operator_root_token_is_seen_by_a_running_server_within_the_cache_ttl(make_server):
    s = make_server(extra=["--cache-ttl", "1"])
    old = s.root_token
    assert s.get("/v1/auth/whoami", token=old).status_code == 200
    r = run_cli("operator", "root-token", "--data-dir", s.data_dir)
    assert r.returncode == 0, r.stderr
    remember_secret(r.stdout.split("Root token: ")[1].split()[0])
    time.sleep(1.5)
    assert_error(s.get("/v1/auth/whoami", token=old), 401, "revoked")


def test_operator_init_then_server_without_dev(tmp_path):
    data = str(tmp_path / "data")
    r = run_cli("operator", "init", "--data-dir", data)
    assert r.returncode == 0, r.stderr
    root = remember_secret(r.stdout.split("Root token: ")[1].split()[0])
    again = run_cli("operator", "init", "--data-dir", data)
    assert again.returncode != 0 and "already initialised" in again.stderr
    keys = re.findall(r"^Unseal key \d+: ([0-9a-f]+)$", r.stdout, re.M)
    assert len(keys) == 5 and "any 3 of them" in r.stdout  # Vault's defaults
    s = Server(str(tmp_path), dev=False, data_dir=data).start()
    try:
        assert "Root token" not in s.stdout() and "Unseal key" not in s.stdout()
        assert s.get("/v1/auth/whoami", token=root).status_code == 503  # sealed until 3 shares are given
        for k in keys[:3]:
            s.request("PUT", "/v1/sys/unseal", json={"key": k}, headers={"Content-Type": "application/json"})
        assert s.get("/v1/auth/whoami", token=root).status_code == 200
    finally:
        assert s.stop() == 0


@pytest.mark.sqlite_only
def test_server_without_dev_refuses_a_missing_data_dir(tmp_path):
    r = subprocess.run([BIN, "server", "--data-dir", str(tmp_path / "nope"), "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "does not exist" in r.stderr


@pytest.mark.parametrize("args,msg", [
    (["--listen", "nonsense"], "expected HOST:PORT"),
    (["--threads", "0"], "threads"),
    (["--max-body", "abc"], "max-body"),
    (["--rate-limit-token", "5"], "rate-limit-token"),
    (["--no-such-flag"], "unknown flag"),
    (["--tls-cert", "/nonexistent"], "together"),
    (["--identity-min-ttl", "4s"], "identity-min-ttl: expected a duration from 5s to 5m"),
    (["--identity-min-ttl", "6m"], "identity-min-ttl: expected a duration from 5s to 5m"),
    (["--identity-min-ttl", "soon"], "identity-min-ttl: expected a duration"),
])
def test_bad_configuration_is_refused_with_a_reason(tmp_path, args, msg):
    r = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d")] + args,
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2
    assert msg in r.stderr


@pytest.mark.sqlite_only
@pytest.mark.parametrize("source", ["flag", "env", "file"])
def test_short_identity_tokens_are_refused_without_dev(tmp_path, source):
    """--identity-min-ttl below 5 minutes is a test setting: without --dev
    the server refuses to start, from any source, and says why; 5m (the
    default) is accepted anywhere."""
    data = tmp_path / "d"
    args = [BIN, "server", "--data-dir", str(data), "--listen", "127.0.0.1:0"]
    env = dict(os.environ)
    if source == "flag":
        args += ["--identity-min-ttl", "10s"]
    elif source == "env":
        env["LATCHKEY_IDENTITY_MIN_TTL"] = "10s"
    else:
        (tmp_path / "c.json").write_text(json.dumps({"identity-min-ttl": "PT10S"}))
        args += ["--config", str(tmp_path / "c.json")]
    r = subprocess.run(args, capture_output=True, text=True, timeout=20, env=env)
    assert r.returncode == 2, r.stderr
    assert "identity-min-ttl: below 5 minutes is refused without --dev" in r.stderr
    assert not data.exists()
    # The production minimum itself passes the check (and the start then
    # stops at the missing data dir, as without the flag).
    r = subprocess.run(args[:6] + ["--identity-min-ttl", "5m"], capture_output=True, text=True, timeout=20)
    assert r.returncode != 2 and "does not exist" in r.stderr, r.stderr


@pytest.mark.sqlite_only
@pytest.mark.parametrize("source", ["flag", "env", "file"])
def test_store_dsn_puts_the_store_where_it_says_and_no_data_dir_is_made(tmp_path, source):
    db = tmp_path / "elsewhere" / "lk.db"
    db.parent.mkdir()
    dsn = "sqlite:" + str(db)
    extra, env = [], {}
    if source == "flag":
        extra = ["--store", dsn]
    elif source == "env":
        env = {"LATCHKEY_STORE": dsn}
    else:
        cfg = tmp_path / "latchkey.json"
        cfg.write_text(json.dumps({"store": dsn}))
        extra = ["--config", str(cfg)]
    s = Server(str(tmp_path), extra=extra, env=env).start()  # --dev, with a --data-dir it does not use
    try:
        root = remember_secret(s.root_token)
        assert root and "(2 threads, store given by --store)" in s.stdout()
        assert "--store DSN" in s.stdout() and dsn not in s.stdout() + s.stderr()
        assert not os.path.exists(s.data_dir)
        assert oct(os.stat(db).st_mode & 0o777) == "0o600"
        t = s.create_token(description="kept in lk.db")
        remember_secret(t["token"])
        s.restart()
        assert s.stdout().count("Root token: ") == 1  # the same store: no new root token
        assert s.get("/v1/tokens/" + t["id"], token=root).json()["description"] == "kept in lk.db"
    finally:
        assert s.stop() == 0
    # Operator commands take it too, as a flag or from the environment.
    r = run_cli("operator", "root-token", "--store", dsn)
    assert r.returncode == 0, r.stderr
    remember_secret(r.stdout.split("Root token: ")[1].split()[0])
    r = run_cli("operator", "audit", "verify", env={"LATCHKEY_STORE": dsn})
    assert r.returncode == 0 and "audit chain intact" in r.stdout, r.stderr
    assert not os.path.exists(s.data_dir)


@pytest.mark.parametrize("dsn,msg", [
    ("mysql://db.example/latchkey", r'this build has no \"mysql\" store'),  # the log line is JSON
    # A server that is not there: refused at start, its DSN never echoed.
    ("postgres://db.example:1/latchkey?connect_timeout=2", "cannot open the store given by --store"),
    ("nonsense", "expected SCHEME:LOCATION"),
    ("sqlite:", "expected SCHEME:LOCATION"),
])
def test_a_store_this_build_cannot_open_is_refused_at_start(tmp_path, dsn, msg):
    data = tmp_path / "d"
    r = subprocess.run([BIN, "server", "--dev", "--data-dir", str(data), "--listen", "127.0.0.1:0",
                        "--store", dsn], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert msg in r.stderr and "cannot open the store given by --store" in r.stderr
    assert "db.example" not in r.stderr + r.stdout  # the DSN itself is never echoed
    assert "listening" not in r.stdout and not data.exists()


def test_configuration_precedence_flag_over_env_over_file(tmp_path):
    cfg = tmp_path / "latchkey.json"
    cfg.write_text(json.dumps({"max-body": 3000, "rate-limit-token": "7/60", "request-timeout": 9}))
    s = Server(str(tmp_path), extra=["--config", str(cfg), "--max-body", "5000"],
               env={"LATCHKEY_MAX_BODY": "4000", "LATCHKEY_RATE_LIMIT_TOKEN": "8/60"})
    s.start()
    remember_secret(s.root_token)
    try:
        body = json.dumps({"description": "x" * 4500})
        # flag (5000) beats env (4000) beats file (3000): a 4.5 kB body is accepted by size...
        r = s.post("/v1/tokens", token=s.root_token, data=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "description" in r.text  # ...and refused for its content
        # env (8/60) beats file (7/60)
        r = s.get("/v1/auth/whoami", token=s.root_token)
        assert r.headers["RateLimit-Policy"] == '"token";q=8;w=60'
    finally:
        assert s.stop() == 0


def test_plain_http_on_a_non_loopback_address_is_refused(tmp_path):
    r = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d"), "--listen", "0.0.0.0:0"],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "refusing plain HTTP" in r.stderr


def test_plain_http_allowed_explicitly_warns_loudly(tmp_path):
    s = Server(str(tmp_path), extra=["--allow-plain-http"])
    s.argv_orig = s.argv
    s.argv = lambda: [a if a != "127.0.0.1:0" else "0.0.0.0:0" for a in s.argv_orig()]
    s.start()
    remember_secret(s.root_token)
    try:
        assert "PLAIN HTTP" in s.stderr()
        port = s.url.rsplit(":", 1)[1]
        assert requests.get("http://127.0.0.1:%s/v1/sys/health" % port, timeout=5).status_code == 200
    finally:
        assert s.stop() == 0


def test_tls(tmp_path, tls_files):
    cert, key = tls_files
    s = Server(str(tmp_path), extra=["--tls-cert", cert, "--tls-key", key]).start()
    remember_secret(s.root_token)
    try:
        assert s.url.startswith("https://")
        r = requests.get(s.url + "/v1/auth/whoami", headers={"Authorization": "Bearer " + s.root_token},
                         verify=cert, timeout=5)
        assert r.status_code == 200
        # TLS 1.1 and older are refused.
        host, port = s.url.split("//")[1].split(":")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
            with socket.create_connection((host, int(port)), timeout=5) as raw:
                with ctx.wrap_socket(raw) as tls:
                    tls.do_handshake()
    finally:
        assert s.stop() == 0


def test_tls_with_a_bad_key_is_refused(tmp_path, tls_files):
    cert, _ = tls_files
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    r = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
                        "--tls-cert", cert, "--tls-key", str(bad)], capture_output=True, text=True, timeout=20)
    assert r.returncode != 0 and "tls-key" in r.stderr


def test_sigterm_finishes_in_flight_requests(server):
    # A request whose body is still arriving when SIGTERM lands completes.
    host, port = server.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    body = json.dumps({"description": "in flight"}).encode()
    head = ("POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (server.root_token, len(body))).encode()
    sock.sendall(head + body[:5])
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    sock.sendall(body[5:])
    sock.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    rc = server.proc.wait(timeout=20)
    server.proc = None
    assert rc == 0
    # New connections are refused once it is gone.
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2)


def test_sigint_stops_cleanly(server):
    assert server.stop(sig=signal.SIGINT) == 0
    assert "stopped cleanly" in server.stderr()


def test_rate_limit_per_token(make_server):
    s = make_server(extra=["--rate-limit-token", "5/60"])
    other = s.create_token(description="own budget")  # uses one of root's five
    remember_secret(other["token"])
    codes = [s.get("/v1/auth/whoami", token=s.root_token) for _ in range(5)]
    assert [r.status_code for r in codes[:4]] == [200] * 4
    r = codes[4]
    body = assert_error(r, 429, "rate limit exceeded")
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["RateLimit-Policy"] == '"token";q=5;w=60'
    assert r.headers["RateLimit"].startswith('"token";r=0;t=')
    assert "token" in body["errors"][0]
    # Successful answers carry the remaining quota too.
    assert codes[0].headers["RateLimit"].startswith('"token";r=3;')
    # Another token has its own budget.
    assert s.get("/v1/auth/whoami", token=other["token"]).status_code == 200


def test_rate_limit_per_client_address(make_server):
    s = make_server(extra=["--rate-limit-ip", "3/60"])
    codes = [s.get("/v1/sys/health").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = s.get("/v1/sys/health")
    assert_error(r, 429, "client address")
    assert r.headers["RateLimit-Policy"] == '"ip";q=3;w=60'
    assert "Retry-After" in r.headers


def test_rate_limit_refills(make_server):
    s = make_server(extra=["--rate-limit-token", "2/1"])
    assert [s.get("/v1/auth/whoami", token=s.root_token).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.1)
    assert s.get("/v1/auth/whoami", token=s.root_token).status_code == 200


def test_concurrent_requests_are_served(server):
    errors = []

    def worker():
        try:
            with requests.Session() as sess:
                for _ in range(50):
                    r = sess.get(server.url + "/v1/auth/whoami",
                                 headers={"Authorization": "Bearer " + server.root_token}, timeout=10)
                    if r.status_code != 200:
                        errors.append(r.status_code)
        except Exception as e:  # noqa: BLE001 - report any failure
            errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_access_log_is_json_and_has_no_credentials(server):
    t = server.create_token(description="logged")
    tok = remember_secret(t["token"])
    server.get("/v1/auth/whoami", token=tok)
    server.get("/v1/auth/whoami", headers={"Cookie": "token=" + tok})
    server.get("/v1/tokens/" + tok, token=server.root_token)  # a token pasted into a URL
    server.get("/v1/auth/whoami?token=" + tok)
    server.restart()  # flushes the log buffers
    lines = [json.loads(l) for l in server.stderr().splitlines() if l.strip()]
    access = [l for l in lines if l.get("type") == "access"]
    assert len(access) >= 5
    for l in access:
        assert {"time", "request_id", "method", "path", "status", "duration_us"} <= set(l), l
    assert any(l.get("token_id") == t["id"] for l in access)
    text = server.stderr()
    assert tok not in text and tok[len(t["id"]) + 1:] not in text
    assert server.root_token not in text


def test_no_secret_in_the_data_dir_or_logs_after_the_suite(server):
    """Runs last in this module: every secret any test saw must be absent from
    this server's files (the db is scanned as raw bytes, WAL included)."""
    t = server.create_token(description="scan me")
    remember_secret(t["token"])
    server.get("/v1/auth/whoami", token=t["token"])
    server.restart()
    blobs = []
    for root, _, files in os.walk(server.tmp):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                blobs.append((f, fh.read()))
    secrets = {s for s in SEEN_SECRETS | {t["token"], server.root_token} if s.startswith("lk_") and "_" in s[3:]}
    for s in secrets:
        secret_part = s.rsplit("_", 1)[1][:32].encode()
        for name, data in blobs:
            if name.startswith("stdout."):
                continue  # dev mode prints the root token once on stdout, by design
            assert s.encode() not in data, name
            assert secret_part not in data, name


def _cpu_list(text):
    """'0-2,5' -> {0, 1, 2, 5}"""
    cpus = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def _threads_cpus(pid):
    """{thread name: set of CPUs it may run on} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            name = f.read().strip()
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            line = next(l for l in f if l.startswith("Cpus_allowed_list:"))
        out.setdefault(name, set()).update(_cpu_list(line.split(":", 1)[1]))
    return out


def _started_within(cpus, make_server, **kw):
    """A server started while this process may run only on cpus (it inherits them)."""
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        return make_server(**kw)
    finally:
        os.sched_setaffinity(0, mine)


def test_cpu_affinity_pins_each_worker_to_one_allowed_cpu_in_turn(make_server):
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    two = set(allowed[:2])
    s = _started_within(two, make_server, extra=["--threads", "3", "--cpu-affinity"])
    cpus = _threads_cpus(s.proc.pid)
    # Round robin over the CPUs the process was given, in order; the audit
    # threads stay free to run on any of them.
    assert cpus["lk-worker-0"] == {allowed[0]}
    assert cpus["lk-worker-1"] == {allowed[1]}
    assert cpus["lk-worker-2"] == {allowed[0]}
    assert cpus["lk-audit"] == two and cpus["lk-checkpoint"] == two
    r = s.get("/v1/auth/whoami", token=s.root_token)
    assert r.status_code == 200, r.text

    # Default off: every worker may run anywhere it was allowed to.
    s = _started_within(two, make_server, extra=["--threads", "3"])
    cpus = _threads_cpus(s.proc.pid)
    assert all(cpus["lk-worker-%d" % i] == two for i in range(3)), cpus


def test_cpu_affinity_narrowed_to_one_cpu_puts_every_worker_there(make_server):
    one = min(os.sched_getaffinity(0))
    s = _started_within({one}, make_server, extra=["--threads", "2"], env={"LATCHKEY_CPU_AFFINITY": "true"})
    cpus = _threads_cpus(s.proc.pid)
    assert cpus["lk-worker-0"] == {one} and cpus["lk-worker-1"] == {one}
    assert s.get("/v1/auth/whoami", token=s.root_token).status_code == 200


def test_audit_cpu_pins_the_writer_and_a_cpu_not_allowed_is_logged(make_server):
    allowed = sorted(os.sched_getaffinity(0))
    last = allowed[-1]
    s = make_server(extra=["--audit-cpu", str(last)])
    cpus = _threads_cpus(s.proc.pid)
    assert cpus["lk-audit"] == {last}
    # Only the writer: the workers and the checkpointer run where they like.
    assert cpus["lk-worker-0"] == set(allowed) and cpus["lk-checkpoint"] == set(allowed)
    remember_secret(s.create_token(description="pinned-writer")["token"])

    # A CPU outside the process's mask: logged, the writer runs unpinned,
    # and mutations are still recorded durably.
    one = allowed[0]
    s = _started_within({one}, make_server, env={"LATCHKEY_AUDIT_CPU": str(last + 1)})
    assert _threads_cpus(s.proc.pid)["lk-audit"] == {one}
    assert "audit-cpu: cannot pin the audit writer to CPU %d" % (last + 1) in s.stderr()
    remember_secret(s.create_token(description="unpinned-writer")["token"])
    assert any(i["action"] == "token.create" and i["status"] == 200
               for i in s.get("/v1/audit", token=s.root_token).json()["items"])


def test_audit_cpu_out_of_range_is_refused_at_start(tmp_path):
    p = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
                        "--audit-cpu", "5000"], capture_output=True, text=True, timeout=30)
    assert p.returncode != 0
    assert "audit-cpu: expected an integer from 0 to 1023" in p.stderr


def test_with_every_read_durable_the_workers_leave_the_writers_cpu_to_it(make_server):
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        pytest.skip("needs two CPUs")
    a, b = allowed[0], allowed[1]
    flags = ["--threads", "2", "--cpu-affinity", "--audit-cpu", str(b)]
    s = _started_within({a, b}, make_server, extra=flags + ["--audit-sync-reads"])
    cpus = _threads_cpus(s.proc.pid)
    assert cpus["lk-audit"] == {b}
    assert cpus["lk-worker-0"] == {a} and cpus["lk-worker-1"] == {a}
    assert s.get("/v1/auth/whoami", token=s.root_token).status_code == 200

    # Reads not waiting: the writer needs little, the workers take every CPU.
    s = _started_within({a, b}, make_server, extra=flags)
    cpus = _threads_cpus(s.proc.pid)
    assert cpus["lk-audit"] == {b}
    assert cpus["lk-worker-0"] == {a} and cpus["lk-worker-1"] == {b}

    # The writer's CPU the only one: the workers share it rather than not run.
    s = _started_within({b}, make_server, extra=flags + ["--audit-sync-reads"])
    cpus = _threads_cpus(s.proc.pid)
    assert cpus["lk-worker-0"] == {b} and cpus["lk-worker-1"] == {b} and cpus["lk-audit"] == {b}
