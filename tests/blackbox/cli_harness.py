"""What the CLI tests share: a config home of each test's own (outside the
servers' directories: the CLI's config file holds tokens by design, mode
0600, and the session's no-secret scan reads every file of the servers'
directories), a run of the built binary in it, and the config file."""
import json
import os
import re
import subprocess

import pytest

from helpers import BIN


@pytest.fixture
def home(tmp_path_factory):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LATCHKEY_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("clihome") / "cfg")
    env["NO_COLOR"] = "1"
    return env


def cli(env, *args, stdin=None, **extra):
    e = dict(env)
    e.update(extra)
    return subprocess.run([BIN] + list(args), input=stdin, capture_output=True, text=True, env=e, timeout=30)


def config(env):
    path = os.path.join(env["XDG_CONFIG_HOME"], "latchkey", "config.json")
    return path, json.load(open(path))


def rows(out):
    """`key  value` lines as a dict (keys may hold one space: "last used")."""
    return dict(re.split(r"  +", line, maxsplit=1) for line in out.splitlines())
