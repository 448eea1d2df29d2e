#!/usr/bin/python3
"""layers.py - includes point down only (docs/architecture.md, "Layers").

Reads every #include line of src/**/*.c and *.h and fails, naming
file:line, on an include the table below does not allow. Part of
`make lint`. Standard library only.

A file's layer is its folder under src/ (src/api/x.c is api,
src/store/sqlite/x.c is store); the files at the top of src/ are the
server's, where the layers are wired together, except config.c/.h, the
settings table. A quoted include's layer is that of the file it names.
"""
import os
import re
import sys

# Which layers each layer may include, besides its own. "*" is any.
ALLOWED = {
    "server": "*",  # src/main.c, src/server*.c/.h: wires the layers together
    "config": {"core", "lib"},  # src/config.c/.h: the settings table
    # client commands: talk HTTP, never to the store; `api proxy` runs
    # net's loopback proxy (net/proxy.h holds no h2o type)
    "cli": {"net", "core", "lib"},
    # src/cli/operator*.c: operator commands act in-process on a data dir,
    # as the server does (root token, audit verify/export, notices, cleanup).
    "operator": {"server", "config", "jobs", "svc", "store", "core", "lib"},
    "jobs": {"svc", "config", "core", "lib"},  # background work reads its settings
    "net": {"core", "lib"},
    "api": {"svc", "core", "lib"},
    "svc": {"store", "core", "lib"},
    "store": {"core", "lib"},
    "core": {"lib"},
    "lib": set(),
}

# Top-level files of src/ that are not the server's.
TOP_LEVEL = {"config.c": "config", "config.h": "config"}

# Files whose layer is not their folder's: the command table is the
# program's entry (it dispatches to the server and to every command).
FILES = {"cli/commands.c": "server", "cli/cli.h": "server"}
FILE_PREFIXES = {"cli/operator": "operator"}

# System headers only some layers may see: HTTP stays above svc, SQL in the store.
LIBRARIES = {
    "h2o.h": {"server", "net", "api"},
    "sqlite3.h": {"store"},
    "libpq-fe.h": {"store"},
}

# Known breaches, (file, included header): why. Each is debt: a new one
# needs a reason here; one that no longer occurs is reported so it goes.
EXCEPTIONS = {
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')


def layer_of(rel):
    """The layer of a path relative to src/, or None."""
    if rel in FILES:
        return FILES[rel]
    for prefix, layer in FILE_PREFIXES.items():
        if rel.startswith(prefix):
            return layer
    parts = rel.split("/")
    if len(parts) == 1:
        return TOP_LEVEL.get(parts[0], "server")
    return parts[0] if parts[0] in ALLOWED else None


def target_layer(src, rel, name):
    """The layer of the file a quoted include names, or None if it is not in src/."""
    if os.path.exists(os.path.join(src, name)):
        return layer_of(name)
    here = os.path.join(os.path.dirname(rel), name)
    if os.path.exists(os.path.join(src, here)):
        return layer_of(os.path.normpath(here))
    return None


def allowed(frm, to):
    rule = ALLOWED[frm]
    return frm == to or rule == "*" or to in rule


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = os.path.join(root, "src")
    errors, seen, checked = [], set(), 0
    for dirpath, _, files in os.walk(src):
        for fn in sorted(files):
            if not fn.endswith((".c", ".h")):
                continue
            rel = os.path.relpath(os.path.join(dirpath, fn), src)
            shown = "src/" + rel
            frm = layer_of(rel)
            if frm is None:
                errors.append(f"{shown}: folder {rel.split('/')[0]}/ is no layer: add it to ALLOWED in {sys.argv[0]}")
                continue
            with open(os.path.join(src, rel), encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if m is None:
                        continue
                    kind, name = m.groups()
                    if kind == "<":
                        who = LIBRARIES.get(name)
                        if who is not None and frm not in who:
                            errors.append(f"{shown}:{lineno}: {frm} may not include <{name}> (only {', '.join(sorted(who))})")
                        continue
                    to = target_layer(src, rel, name)
                    if to is None:
                        continue  # generated, or not ours
                    checked += 1
                    if allowed(frm, to):
                        continue
                    if (shown, name) in EXCEPTIONS:
                        seen.add((shown, name))
                        continue
                    rule = ALLOWED[frm]
                    errors.append(
                        f"{shown}:{lineno}: {frm} may not include \"{name}\" ({to}): "
                        f"{frm} includes only {', '.join(sorted(rule)) if rule else 'nothing'} besides its own"
                    )
    for stale in sorted(set(EXCEPTIONS) - seen):
        print(f"layers.py: note: the exception {stale[0]} -> {stale[1]} no longer occurs; remove it", file=sys.stderr)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        print(f"layers.py: {len(errors)} include(s) point the wrong way (table: ALLOWED in scripts/layers.py)",
              file=sys.stderr)
        return 1
    print(f"layers.py: {checked} includes point down ({len(seen)} known exception(s) in scripts/layers.py)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
