"""What the black-box tests share: the latchkey process they talk to
(Server), the secrets they remember for the session-end scan
(secret_scan.py), answer checks, the org/user/team building blocks the
fixtures are made of, raw HTTP, and direct reads of a server's store.

conftest.py holds the fixtures and hooks and imports from here; test modules
import from here too, and never from each other or from conftest (pytest
does not collect this module: its name does not start with test_)."""
import datetime
import importlib.util
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time

import pytest
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("LATCHKEY_BIN", os.path.join(ROOT, "build", "latchkey"))
SANITIZED = os.environ.get("LATCHKEY_SANITIZED") == "1"
LISTEN_RE = re.compile(r"listening on (https?)://([^:\s]+|\[[^\]]+\]):(\d+)")

# With LATCHKEY_TEST_PG, every server and operator command stores in
# PostgreSQL: BIN is then pgstore.py, which adds --store for each --data-dir
# and becomes the real binary.
PG = os.environ.get("LATCHKEY_TEST_PG")
if PG:
    os.environ["PGSTORE_REAL_BIN"] = BIN
    os.environ["PGSTORE_ADMIN_DSN"] = PG
    BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pgstore.py")


# The password the tests give the users they make (and log in with).
PASSWORD = "correct horse battery staple"


# --- secrets the session has seen -------------------------------------------

# Every secret a test saw, so the session-end scan (secret_scan.py, run from
# conftest.py's pytest_sessionfinish) can look for them: tokens, and
# passwords sent in any JSON body.
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


# --- the server -------------------------------------------------------------

class Server:
    """One latchkey process. Logs go to files under tmp (outside the data dir)
    so tests can scan them for secrets."""

    def __init__(self, tmp, dev=True, extra=None, env=None, data_dir=None):
        self.tmp = tmp
        self.data_dir = data_dir or os.path.join(tmp, "data")
        # Every server's logs and store are scanned for secrets at the end of
        # the session (conftest.py), however the server was made.
        for d in (tmp, self.data_dir):
            d = os.path.abspath(d)
            if not any(d == k or d.startswith(k.rstrip(os.sep) + os.sep) for k in SERVER_DIRS):
                SERVER_DIRS.append(d)
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

    def address(self):
        """(host, port) the server listens on, for raw sockets."""
        host, port = self.url.rsplit("/", 1)[1].rsplit(":", 1)
        return host, int(port)

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
            # The Vault door hands tokens out in its envelope's auth.
            auth = body.get("auth") if isinstance(body, dict) else None
            if isinstance(auth, dict) and isinstance(auth.get("client_token"), str):
                remember_secret(auth["client_token"])
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


# --- answers ----------------------------------------------------------------

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


# --- orgs, users, teams, sessions -------------------------------------------

def create_org(s, name, token=None):
    """An active org (made by the partner admin unless token says otherwise)."""
    return expect(s.post("/v1/orgs", token=token or s.root_token, json={"name": name, "display_name": name.title()}))


def create_user(s, org, username, role="member", token=None, **extra):
    body = {"username": username, "email": username + "@example.com", "role": role}
    body.update(extra)
    return expect(s.post("/v1/orgs/%s/users" % org, token=token or s.root_token, json=body))


def token_for(s, org, username, token=None, **body):
    """The secret of a new API token of username, made on their behalf."""
    return expect(s.post("/v1/orgs/%s/users/%s/tokens" % (org, username), token=token or s.root_token,
                         json=body))["token"]


def org_with_users(s, org, users, **token_body):
    """A new org with users [(name, role)], each made and given an API token
    (token_body) in turn; returns {name: token}."""
    create_org(s, org)
    tokens = {}
    for name, role in users:
        create_user(s, org, name, role=role)
        tokens[name] = token_for(s, org, name, **token_body)
    return tokens


def create_team(s, org, team, token=None, **body):
    return expect(s.post("/v1/orgs/%s/teams" % org, token=token or s.root_token, json=dict(body, name=team)))


def set_member(s, org, team, username, role, token=None):
    """Adds username to the team with role (or changes their role)."""
    return expect(s.request("PUT", "/v1/orgs/%s/teams/%s/members/%s" % (org, team, username),
                            token=token or s.root_token, json={"role": role}))


def signup(s, name, headers=None, username="owner"):
    """A self-service sign-up (the org lands pending); the answer, unchecked."""
    return s.post("/v1/orgs/signup", headers=headers,
                  json={"name": name, "admin": {"username": username, "email": username + "@example.com",
                                                "password": PASSWORD}})


def login(s, user, password=PASSWORD, org="acme"):
    """The session token of a successful password login."""
    return expect(s.post("/v1/auth/login", json={"org": org, "username": user, "password": password}))["token"]


# --- time -------------------------------------------------------------------

def parse_time(s):
    """An RFC 3339 UTC time as the server writes it, as an aware datetime."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def hours_left(t):
    """Hours until token answer t expires."""
    return (parse_time(t["expires_at"]) - now()).total_seconds() / 3600


# --- raw HTTP ---------------------------------------------------------------

def raw_exchange(server, data):
    """Sends raw bytes and returns (status line, headers dict, body) of the answer."""
    with socket.create_connection(server.address(), timeout=10) as sock:
        sock.sendall(data)
        buf = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip()] = v.strip()
    return lines[0], headers, body


# --- the store and the audit trail, read directly ---------------------------

# The export checker an auditor runs without latchkey; its encoder is the
# one the audit tests recompute hashes with.
VERIFY_SCRIPT = os.path.join(ROOT, "scripts", "audit-verify.py")
_spec = importlib.util.spec_from_file_location("audit_verify", VERIFY_SCRIPT)
audit_verify = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(audit_verify)

# What makes the audit table immutable (migrations create the same); a
# test that rewrites a stopped server's trail puts it back with this.
AUDIT_IMMUTABILITY = """
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit records are immutable'); END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'audit records are immutable'); END;
"""

# How to undo each migration that later ones stack on (0012 and newer), for
# tests that put a stopped server's store back to an older release's layout
# and restart it so the migrations replay: rewind() runs these. Each step
# undoes exactly its migration (src/store/sqlite/migrations/00NN_*.sql). A
# new migration adds its undo step here (one that only creates new tables
# adds a DROP TABLE); rewind() refuses a store that has a migration from
# 0012 on without one. Migrations before 0012 are undone by hand, by each
# test that goes back past them, in the way that test needs its data.
UNDO = {
    # 0022: no trusted issuers.
    22: "DROP TABLE trusted_issuers;",
    # 0021: no identity-token signing keys.
    21: "DROP TABLE oidc_keys;",
    # 0020: no workloads (the bindings first: they reference both tables).
    20: "DROP TABLE workload_bindings; DROP TABLE workloads; DROP INDEX service_accounts_team_id;",
    # 0019: no Vault token attributes.
    19: "DROP TABLE vault_tokens;",
    # 0018: no Vault ACL policies.
    18: "DROP TABLE vault_policies;",
    # 0017: no audit checkpoints (their triggers go with the table).
    17: "DROP TABLE audit_checkpoints;",
    # 0016: no secrets store.
    16: "DROP TABLE secrets;",
    # 0015: a notice's e-mail recipients back in one row's JSON list (the
    # first row of each (token, days, channel) keeps its seq, id and state),
    # and orgs without notify_short_lived_tokens.
    15: """
        CREATE TABLE notices_0014 (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, token_id TEXT NOT NULL,
            org_id TEXT NOT NULL DEFAULT '', owner_type TEXT NOT NULL, owner_id TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
            days_before INTEGER NOT NULL CHECK (days_before >= 1), expires_at INTEGER NOT NULL,
            recipients TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'skipped', 'cancelled')),
            attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
            next_attempt_at INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
            delivered_at INTEGER, UNIQUE (token_id, days_before, channel));
        INSERT INTO notices_0014
            SELECT n.seq, n.id, n.token_id, n.org_id, n.owner_type, n.owner_id, n.channel, n.days_before,
                   n.expires_at,
                   (SELECT json_group_array(m.recipient) FROM
                       (SELECT recipient FROM notices x WHERE x.token_id = n.token_id
                           AND x.days_before = n.days_before AND x.channel = n.channel AND x.recipient != ''
                         ORDER BY x.seq) m),
                   n.status, n.attempts, n.last_error, n.next_attempt_at, n.created_at, n.updated_at,
                   n.delivered_at
              FROM notices n
             WHERE n.seq = (SELECT MIN(y.seq) FROM notices y WHERE y.token_id = n.token_id
                               AND y.days_before = n.days_before AND y.channel = n.channel);
        DROP TABLE notices;
        ALTER TABLE notices_0014 RENAME TO notices;
        CREATE INDEX notices_due ON notices (status, next_attempt_at);
        CREATE INDEX notices_org ON notices (org_id, seq);
        ALTER TABLE orgs DROP COLUMN notify_short_lived_tokens;
    """,
    # 0014: the expiry-notice rules go back into the schema as the triggers
    # 0006 made, and the retirements lose 0014's foreign key.
    14: """
        CREATE TABLE notice_retired_tokens_0006 (token_id TEXT PRIMARY KEY, retired_at INTEGER NOT NULL);
        INSERT INTO notice_retired_tokens_0006 SELECT token_id, retired_at FROM notice_retired_tokens;
        DROP TABLE notice_retired_tokens;
        ALTER TABLE notice_retired_tokens_0006 RENAME TO notice_retired_tokens;
        CREATE TRIGGER notices_token_shortened AFTER UPDATE OF expires_at ON tokens
        WHEN NEW.expires_at IS NOT NULL AND (OLD.expires_at IS NULL OR NEW.expires_at <= OLD.expires_at)
        BEGIN
            INSERT OR IGNORE INTO notice_retired_tokens (token_id, retired_at)
                VALUES (NEW.id, CAST(strftime('%s', 'now') AS INTEGER));
            UPDATE notices SET status = 'cancelled', last_error = 'token rotated or its expiry shortened',
                               updated_at = CAST(strftime('%s', 'now') AS INTEGER)
             WHERE token_id = NEW.id AND status = 'pending';
        END;
        CREATE TRIGGER notices_token_deleted AFTER DELETE ON tokens
        BEGIN
            UPDATE notices SET status = 'cancelled', last_error = 'token deleted',
                               updated_at = CAST(strftime('%s', 'now') AS INTEGER)
             WHERE token_id = OLD.id AND status = 'pending';
            DELETE FROM notice_retired_tokens WHERE token_id = OLD.id;
        END;
    """,
    # 0013: no org ids on records (nor where they begin), and the stretches
    # of the trail keyed by org name again, as 0011 filled them.
    13: """
        DROP TABLE audit_org_blocks;
        CREATE TABLE audit_org_blocks (org TEXT NOT NULL, block INTEGER NOT NULL, PRIMARY KEY (org, block))
            WITHOUT ROWID;
        INSERT OR IGNORE INTO audit_org_blocks (org, block) SELECT DISTINCT org, seq >> 12 FROM audit WHERE org != '';
        DELETE FROM meta WHERE key = 'audit_org_ids_from';
        ALTER TABLE audit DROP COLUMN org_id;
    """,
    # 0012: tokens do not say what a rotation replaced them with.
    12: """
        ALTER TABLE tokens DROP COLUMN replaced_by;
    """,
}


def rewind(con, version):
    """Undoes, on con (a stopped server's store), every migration from
    version on that the store records in schema_version, newest first, with
    its step in UNDO, and deletes those schema_version rows, so the server
    replays them at its next start. A new migration adds its undo step to
    UNDO (one that only creates new tables adds a DROP TABLE). Migrations
    before UNDO's oldest (0012) are left to the caller, which undoes them
    after this, by hand, in the way its test needs; the caller commits."""
    done = [v for (v,) in con.execute("SELECT version FROM schema_version WHERE version >= ? ORDER BY version DESC",
                                      (version,))]
    missing = [v for v in done if v >= min(UNDO) and v not in UNDO]
    assert not missing, "migration(s) %s have no undo step in helpers.UNDO" % missing
    for v in done:
        if v in UNDO:
            con.executescript(UNDO[v])
    con.execute("DELETE FROM schema_version WHERE version >= ?", (version,))


def schema_triggers(server, table):
    """The names of the triggers on table in the server's store, sorted."""
    con = db(server)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?", (table,)))
    finally:
        con.close()


def store_exec(server, sql, params=()):
    """Runs one statement (? parameters: ints or strings) on the server's
    store, SQLite file or PostgreSQL database alike: for tests that age a
    row as time would."""
    if not PG:
        con = sqlite3.connect(os.path.join(server.data_dir, "latchkey.db"), timeout=10)
        try:
            con.execute(sql, params)
            con.commit()
        finally:
            con.close()
        return
    import pgstore
    parts = sql.split("?")
    assert len(parts) == len(params) + 1
    lit = [str(v) if isinstance(v, int) else "'%s'" % str(v).replace("'", "''") for v in params]
    text = parts[0] + "".join(v + rest for v, rest in zip(lit, parts[1:]))
    dsn = pgstore.psql_dsn(pgstore.dsn_of(PG, pgstore.schema_of(server.data_dir)))
    subprocess.run(["psql", dsn, "-qc", text], capture_output=True, text=True, check=True)


def store_dump(server):
    """The server's whole store as text (SQLite's dump, or pg_dump of its
    PostgreSQL schema), for tests that look for a secret in it."""
    if not PG:
        con = sqlite3.connect("file:%s?mode=ro" % os.path.join(server.data_dir, "latchkey.db"), uri=True)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()
    import pgstore
    return subprocess.run(["pg_dump", "--data-only", "--no-owner", "-n", pgstore.schema_of(server.data_dir),
                           pgstore.psql_dsn(PG)], capture_output=True, text=True, check=True).stdout


def db(server):
    """A connection to the server's SQLite store; the caller closes it. On
    PostgreSQL (LATCHKEY_TEST_PG) the test is skipped: it reads the file."""
    if PG:
        pytest.skip("reads the SQLite file directly")
    return sqlite3.connect(os.path.join(server.data_dir, "latchkey.db"), timeout=10)


def audit_rows(server, where="1=1", args=()):
    """Stored audit records as they are, oldest first, the hash (32 bytes)
    shown as hex."""
    con = db(server)
    con.row_factory = sqlite3.Row
    try:
        return [{k: (v.hex() if isinstance(v, bytes) else v) for k, v in dict(r).items()}
                for r in con.execute("SELECT * FROM audit WHERE %s ORDER BY seq" % where, args)]
    finally:
        con.close()


def all_records(server, path="/v1/audit", token=None, **params):
    """Every record the route shows, oldest first, following cursors."""
    out, cursor = [], None
    params = dict(params, order="asc", limit=200)
    while True:
        if cursor:
            params["cursor"] = cursor
        r = server.get(path, token=token or server.root_token, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        out += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return out


def wait_for(server, request_id, timeout=5):
    """The stored record of request_id. Reads are recorded by the writer
    thread just after they are answered, so this waits up to timeout."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = audit_rows(server, "request_id = ?", (request_id,))
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError("no audit record for request %s" % request_id)


def run_verify_script(*args, stdin=None):
    return subprocess.run(["/usr/bin/python3", VERIFY_SCRIPT] + list(args), input=stdin, capture_output=True,
                          text=True, timeout=60)


# --- the seal and the audit checkpoints ---------------------------------------

def run_cli_input(text, *args, timeout=30):
    """The binary with text on its standard input (shares are never arguments)."""
    return subprocess.run([BIN] + list(args), input=text, capture_output=True, text=True, timeout=timeout)


def init_data_dir(data, shares=1, threshold=1):
    """`operator init` of a new data dir: (unseal key shares as hex, root token)."""
    r = run_cli("operator", "init", "--data-dir", data, "--key-shares", str(shares), "--key-threshold",
                str(threshold))
    assert r.returncode == 0, r.stderr
    keys = re.findall(r"^Unseal key \d+: ([0-9a-f]+)$", r.stdout, re.M)
    assert len(keys) == shares, r.stdout
    root = remember_secret(re.search(r"^Root token: (\S+)$", r.stdout, re.M).group(1))
    return keys, root


def unseal(server, key):
    """PUT /v1/sys/unseal with one share; the answer, unchecked."""
    return server.request("PUT", "/v1/sys/unseal", json={"key": key}, headers={"Content-Type": "application/json"})


def dev_unseal_key(server):
    """The one share a dev server printed when it initialised its seal."""
    return re.search(r"^Unseal key: ([0-9a-f]{66})$", server.stdout(), re.M).group(1)


def checkpoint_rows(server):
    """Stored audit checkpoints, oldest first: [{seq, hash, mac, created_at}]."""
    con = db(server)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM audit_checkpoints ORDER BY seq")]
    finally:
        con.close()


def audit_head(server):
    """(seq, hash) of the newest stored record; (0, None) when there is none."""
    rows = audit_rows(server, "seq = (SELECT MAX(seq) FROM audit)")
    return (rows[0]["seq"], rows[0]["hash"]) if rows else (0, None)


def lift_audit_guards(con):
    """What someone with the file does first: drop the triggers that make
    the trail and its checkpoints refuse UPDATE and DELETE."""
    for t in ("audit_no_update", "audit_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"):
        con.execute("DROP TRIGGER IF EXISTS %s" % t)


def rewrite_without(server, gone):
    """Rewrites a stopped server's trail as an attacker holding the files
    would: deletes record gone, moves every later record down one seq and
    recomputes every hash from there with the server's own encoding (the
    one scripts/audit-verify.py checks), so the chain is whole again.
    Returns the new head's seq."""
    con = db(server)
    con.row_factory = sqlite3.Row
    try:
        lift_audit_guards(con)
        con.execute("DELETE FROM audit WHERE seq = ?", (gone,))
        for (seq,) in con.execute("SELECT seq FROM audit WHERE seq > ? ORDER BY seq", (gone,)).fetchall():
            con.execute("UPDATE audit SET seq = ? WHERE seq = ?", (seq - 1, seq))
        prev = "0" * 64
        rows = [dict(r) for r in con.execute("SELECT * FROM audit ORDER BY seq")]
        for r in rows:
            digest = audit_verify.record_hash(r, prev)
            if r["seq"] >= gone:
                con.execute("UPDATE audit SET hash = ? WHERE seq = ?", (bytes.fromhex(digest), r["seq"]))
            prev = digest
        con.commit()
        return rows[-1]["seq"]
    finally:
        con.close()


class Conn:
    """One HTTP/1.1 keep-alive connection; answers carry Content-Length. A
    bare socket: requests costs about a millisecond of Python per call, and
    the race needs verifications to be frequent."""

    def __init__(self, addr):
        self.sock = socket.create_connection(addr, timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.body = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        self.buf += data

    def exchange(self, request):
        """Sends request and returns the answer's status; its body is in
        self.body until the next exchange."""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(self.buf) < length:
            self._fill()
        self.body, self.buf = self.buf[:length], self.buf[length:]
        return status

    def close(self):
        self.sock.close()
