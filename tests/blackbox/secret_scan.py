"""The no-secret scan: no token secret and no password any test used may
appear in any test server's audit records, store files (raw bytes, WAL
included), audit file sinks or logs. Dev-mode stdout is skipped: it prints
the root token once, by design.

conftest.py runs scan() once the session is over (pytest_sessionfinish), so
it covers whatever ran, under -k and in any order, and fails the session
when it finds something. A finding names the file and the kind of secret,
never the secret. test_secret_scan.py checks that the scan finds what it
looks for."""
import os
import re
import sqlite3
import subprocess

import pgstore

SECRET_CHARS = 32  # lk_<kind>_<id12>_<secret32><crc6>, base62
ALNUM_RUN = re.compile(rb"[0-9A-Za-z]{%d,}" % SECRET_CHARS)


def secret_part(tok):
    if tok.startswith("lk_") and tok.count("_") >= 3:
        part = tok.rsplit("_", 1)[1][:SECRET_CHARS]
        if len(part) == SECRET_CHARS and part.isalnum():
            return part.encode()
    return None


class Needles:
    """Every token secret and password the suite saw. A token's 32-character
    secret (and so the whole token, which contains it) is looked up in a set
    for every 32-character window of every alphanumeric run in the data, so
    a scan costs one pass per file however many tokens the suite made;
    passwords and anything not shaped like a token are searched for as they
    are."""

    def __init__(self, secrets, passwords):
        self.secrets = set()
        self.plain = [(pw.encode(), "password") for pw in passwords]
        for tok in secrets:
            part = secret_part(tok)
            if part is not None:
                self.secrets.add(part)
            else:
                self.plain.append((tok.encode(), "token"))

    def find(self, data):
        """What kind of secret appears in data, or None."""
        for run in ALNUM_RUN.finditer(data):
            r = run.group()
            for i in range(len(r) - SECRET_CHARS + 1):
                if r[i:i + SECRET_CHARS] in self.secrets:
                    return "token"
        for needle, kind in self.plain:
            if needle in data:
                return kind
        return None


class Result:
    """What one scan read and found. findings: (kind, where, path) with kind
    "token" or "password" and where "file" (its raw bytes) or "audit
    records" (the rows of the store's audit table); unreadable: (path,
    reason) of what could not be read, so could not be cleared."""

    def __init__(self):
        self.findings = []
        self.unreadable = []
        self.files = 0
        self.audit_rows = 0


def audit_dump(path):
    """Every audit record of the store at path as one text (bytes), and how
    many there are."""
    con = sqlite3.connect(path)
    try:
        dump = "\n".join(repr(r) for r in con.execute("SELECT * FROM audit")).encode()
        return dump, con.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    finally:
        con.close()


def pg_stores(admin):
    """Every schema of the PostgreSQL database admin names (pgstore.py: one
    per data dir) as {schema: (its rows as text, its audit records)}, from
    one dump of the whole database."""
    dsn = pgstore.psql_dsn(admin)
    names = subprocess.run(["psql", dsn, "-qtAc", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lk\\_%'"],
                           capture_output=True, text=True, check=True).stdout.split()
    # pg_dump locks every table it dumps in one transaction: a hundred
    # schemas at a time stay within the server's lock table.
    dump = b""
    for i in range(0, len(names), 100):
        args = [a for n in names[i:i + 100] for a in ("-n", n)]
        dump += subprocess.run(["pg_dump", "--data-only", "--no-owner"] + args + [dsn], capture_output=True,
                               check=True).stdout
    stores = {}
    schema, table, rows = None, None, []
    for line in dump.split(b"\n"):
        if schema is None:
            m = re.match(rb"COPY (lk_[0-9a-f]+)\.(\w+) ", line)
            if m:
                schema, table, rows = m.group(1).decode(), m.group(2).decode(), []
            continue
        if line == b"\\.":
            text, n = stores.get(schema, (b"", 0))
            stores[schema] = (text + b"\n".join(rows) + b"\n", n + (len(rows) if table == "audit" else 0))
            schema = None
            continue
        rows.append(line)
    return stores


def scan(dirs, secrets, passwords):
    """Reads every file under dirs (but dev-mode stdout) for the given
    secrets, and the audit table of every latchkey.db among them; on
    PostgreSQL (LATCHKEY_TEST_PG), the whole database of every data dir
    among them too. Returns a Result."""
    needles = Needles(secrets, passwords)
    result = Result()
    admin = os.environ.get("LATCHKEY_TEST_PG")
    stores = {}
    if admin:
        try:
            stores = pg_stores(admin)
        except subprocess.CalledProcessError as e:
            result.unreadable.append((admin.split("?")[0], "pg_dump: %s" % e))
    for top in dirs:
        for root, _, names in os.walk(top):
            store = stores.pop(pgstore.schema_of(root), None)
            if store is not None:
                result.files += 1
                result.audit_rows += store[1]
                kind = needles.find(store[0])
                if kind is not None:
                    result.findings.append((kind, "store", root))
            for name in sorted(names):
                path = os.path.join(root, name)
                if name.startswith("stdout.") or not os.path.isfile(path):
                    continue
                try:
                    with open(path, "rb") as f:
                        data = f.read()
                except OSError as e:
                    result.unreadable.append((path, e.strerror or str(e)))
                    continue
                result.files += 1
                kind = needles.find(data)
                if kind is not None:
                    result.findings.append((kind, "file", path))
                if name == "latchkey.db":
                    try:
                        dump, n = audit_dump(path)
                    except sqlite3.Error as e:
                        result.unreadable.append((path, "audit records: %s" % e))
                        continue
                    result.audit_rows += n
                    kind = needles.find(dump)
                    if kind is not None:
                        result.findings.append((kind, "audit records", path))
    return result


def describe(kind, where, path):
    """One finding in words, without the secret."""
    if where == "file":
        return "a %s appears in %s" % (kind, path)
    if where == "store":
        return "a %s appears in the PostgreSQL store of %s" % (kind, path)
    return "a %s appears in the audit records of %s" % (kind, path)
