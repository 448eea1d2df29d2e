"""`latchkey secret list|get|put|delete|versions` (issue 22; docs/cli.md)
against a real server: values from the command line, a file and standard
input, one field printed as it is, a team's secrets with --team, versions,
a deleted secret, and paths checked before they are sent."""
import json

import pytest

from cli_harness import cli, home  # noqa: F401 (home is a fixture)
from helpers import create_org, create_team, create_user, set_member, token_for


@pytest.fixture
def dev(server, home):
    """A CLI logged in as bob, a member of acme's team payments (members read
    the team's secrets; owners write them), with ada, its owner, at hand."""
    create_org(server, "acme")
    create_user(server, "acme", "ada")
    create_user(server, "acme", "bob")
    create_team(server, "acme", "payments")
    set_member(server, "acme", "payments", "ada", "owner")
    set_member(server, "acme", "payments", "bob", "member")
    ada = token_for(server, "acme", "ada", expires="P1D")
    bob = token_for(server, "acme", "bob", expires="P1D")
    assert cli(home, "login", server.url, "--token-stdin", stdin=bob + "\n").returncode == 0
    return {"ada": ada, "bob": bob}


def test_put_get_versions_delete(server, home, dev, tmp_path_factory):
    f = tmp_path_factory.mktemp("values") / "pw.txt"
    f.write_text("s3cr3t value\n")
    as_ada = {"LATCHKEY_TOKEN": dev["ada"]}
    r = cli(home, "secret", "put", "app/db", "user=app", "password=@" + str(f), "--team", "payments", **as_ada)
    assert r.returncode == 0 and r.stdout.strip() == "Wrote app/db, version 1", r.stderr
    r = cli(home, "secret", "put", "app/db", "user=app2", "password=-", "--team", "payments", stdin="from stdin\n",
            **as_ada)
    assert r.returncode == 0 and "version 2" in r.stdout, r.stderr
    # bob, a member, reads: every key, one field as it is, JSON, an older version.
    r = cli(home, "secret", "get", "app/db", "--team", "payments")
    assert r.returncode == 0 and r.stdout.splitlines() == ["user      app2", "password  from stdin"]
    assert cli(home, "secret", "get", "app/db", "--field", "password", "--team", "payments").stdout == "from stdin\n"
    old = json.loads(cli(home, "secret", "get", "app/db", "--version", "1", "-o", "json", "--team", "payments").stdout)
    assert old["data"] == {"user": "app", "password": "s3cr3t value"} and old["version"] == 1
    assert cli(home, "secret", "list", "--team", "payments").stdout.split() == ["app/"]
    assert cli(home, "secret", "list", "app", "--team", "payments").stdout.split() == ["db"]
    table = cli(home, "secret", "versions", "app/db", "--team", "payments").stdout.splitlines()
    assert table[0].split() == ["VERSION", "CREATED", "BY", "DELETED"] and len(table) == 3
    # bob may not write (members read; owners write): the server's refusal, exit 3.
    r = cli(home, "secret", "put", "app/db", "user=bob", "--team", "payments")
    assert r.returncode in (3, 4) and r.stderr.startswith("latchkey: ")
    r = cli(home, "secret", "delete", "app/db", "--team", "payments", **as_ada)
    assert r.returncode == 0, r.stderr
    r = cli(home, "secret", "get", "app/db", "--team", "payments")
    assert r.returncode == 4 and "deleted" in r.stderr
    r = cli(home, "secret", "get", "app/db", "--field", "nope", "--version", "2", "--team", "payments")
    assert r.returncode == 4 and "no key nope" in r.stderr


def test_paths_and_usage(server, home, dev):
    for bad in ("../x", "a//b", "/abs", "a/./b", "a b"):
        r = cli(home, "secret", "get", bad, "--team", "payments")
        assert r.returncode == 2 and "not a secret path" in r.stderr, bad
    assert cli(home, "secret", "put", "app/x", "novalue", "--team", "payments").returncode == 2
    assert cli(home, "secret", "put", "app/x", "--team", "payments").returncode == 2
    assert cli(home, "secret", "put", "app/x", "a=-", "b=-", "--team", "payments", stdin="x").returncode == 2
    assert cli(home, "secret", "frob").returncode == 2
    r = cli(home, "secret", "--help")
    assert r.returncode == 0 and "KEY=@FILE" in r.stdout and "example:" in r.stdout
    r = cli(home, "secret", "get", "app/db", "--version", "two", "--team", "payments")
    assert r.returncode == 2
