#!/usr/bin/python3
"""The black-box tests on PostgreSQL (LATCHKEY_TEST_PG: the DSN of a
database the tests may create schemas in, e.g. scripts/pgtmp.sh's).

Each data dir gets a schema of its own in that database (making a schema
takes a millisecond, a database a hundred), and its servers a DSN whose
search_path is that schema, so every table latchkey makes and uses is
there. Run as a program, this stands in for the latchkey binary: every
command given --data-dir DIR (a server, an operator command) gets --store
for DIR's schema as well, made on first use, so a restart or an operator
command finds the same store; then it becomes the real binary
(PGSTORE_REAL_BIN; PGSTORE_ADMIN_DSN is LATCHKEY_TEST_PG, under names the
CLI tests do not strip) by exec, keeping its process id. Any test that runs
the binary thus runs it on PostgreSQL, unchanged. Standard library only."""
import hashlib
import os
import subprocess
import sys


def schema_of(data_dir):
    """The name of data_dir's schema."""
    return "lk_" + hashlib.sha1(os.path.abspath(data_dir).encode()).hexdigest()[:24]


def psql_dsn(dsn):
    """dsn as psql and pg_dump take it (they know "postgresql://")."""
    return dsn.replace("postgres://", "postgresql://", 1)


def dsn_of(admin, schema):
    """admin's DSN with search_path set to schema."""
    return admin + ("&" if "?" in admin else "?") + "options=-csearch_path%3D" + schema


def store_dsn(admin, data_dir):
    """The --store DSN of data_dir's schema, made if new."""
    schema = schema_of(data_dir)
    subprocess.run(["psql", psql_dsn(admin), "-qc", "CREATE SCHEMA IF NOT EXISTS %s" % schema],
                   capture_output=True, text=True, check=True)
    return dsn_of(admin, schema)


def main():
    args = sys.argv[1:]
    if "--data-dir" in args and "--store" not in args:
        i = args.index("--data-dir")
        if i + 1 < len(args):
            # The data dir still holds what is not the store (an audit file
            # sink, ...); with --store the server does not make it.
            os.makedirs(args[i + 1], mode=0o700, exist_ok=True)
            args = args + ["--store", store_dsn(os.environ["PGSTORE_ADMIN_DSN"], args[i + 1])]
    real = os.environ["PGSTORE_REAL_BIN"]
    os.execv(real, [real] + args)


if __name__ == "__main__":
    main()
