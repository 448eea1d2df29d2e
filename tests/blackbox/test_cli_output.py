"""How the CLI behaves on a terminal and off one (issue 22, item 3;
docs/cli.md): colour only on a terminal and never with NO_COLOR (or
TERM=dumb); `audit export` writes every record up to its start as JSON
lines, with a progress line on a terminal only; a password goes in on
standard input (--password-stdin), never as an argument."""
import json
import os
import re
import stat

import pexpect
import pytest

from cli_harness import cli, home  # noqa: F401 (home is a fixture)
from helpers import BIN, PASSWORD, create_org, create_user, remember_secret, token_for

ESC = "\x1b["


@pytest.fixture
def ada(server, home):
    create_org(server, "acme")
    create_user(server, "acme", "ada", role="admin")
    create_user(server, "acme", "bob")
    tok = token_for(server, "acme", "ada", expires="P30D")
    assert cli(home, "login", server.url, "--token-stdin", stdin=tok + "\n").returncode == 0
    return tok


def on_terminal(env, *args, **extra):
    """Runs the CLI on a pseudo-terminal: everything it printed, and its exit status."""
    e = dict(env)
    e.pop("NO_COLOR", None)
    e.setdefault("TERM", "xterm")
    e.update(extra)
    child = pexpect.spawn(BIN, list(args), env=e, encoding="utf-8", timeout=30)
    child.expect(pexpect.EOF)
    child.close()
    return child.before, child.exitstatus


def test_colour_on_a_terminal_only_and_never_with_no_color(ada, home):
    out, rc = on_terminal(home, "user", "list")
    assert rc == 0 and ESC + "1mUSERNAME" in out and ESC + "0m" in out
    # The columns still line up: the escapes surround the header, not its cells.
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out).splitlines()
    assert plain[0].split() == ["USERNAME", "ROLE", "EMAIL", "CREATED", "AT"]
    assert plain[0].index("ROLE") == plain[1].index("admin")
    out, rc = on_terminal(home, "user", "show", "nobody")
    assert rc == 4 and ESC + "31mlatchkey:" in out
    out, rc = on_terminal(home, "token", "create", "--description", "t", "--expires", "P1D")
    remember_secret(re.search(r"lk_user_\w+_\w+", out).group(0))
    assert rc == 0 and ESC + "33mlatchkey: warning:" + ESC + "0m this is the only time" in out
    for extra in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
        out, rc = on_terminal(home, "user", "list", **extra)
        assert rc == 0 and ESC not in out and "USERNAME" in out
        out, rc = on_terminal(home, "user", "show", "nobody", **extra)
        assert rc == 4 and ESC not in out and "latchkey: " in out
    # Not a terminal: no escape anywhere, even without NO_COLOR.
    env = {k: v for k, v in home.items() if k != "NO_COLOR"}
    r = cli(env, "user", "list", TERM="xterm")
    assert r.returncode == 0 and ESC not in r.stdout + r.stderr
    r = cli(env, "user", "show", "nobody", TERM="xterm")
    assert r.returncode == 4 and r.stderr.startswith("latchkey: ") and ESC not in r.stderr


def make_records(server, token, n):
    for i in range(n):
        r = server.post("/v1/orgs/acme/teams", token=token, json={"name": "t%03d" % i})
        assert r.status_code in (200, 201), r.text


def all_records(server, token):
    every, cursor = [], None
    while True:
        page = server.get("/v1/orgs/acme/audit", token=token,
                          params=dict(order="asc", limit=200, **({"cursor": cursor} if cursor else {}))).json()
        every += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return every


def test_audit_export_writes_every_record_with_a_progress_line(server, ada, home, tmp_path):
    make_records(server, ada, 450)
    before = all_records(server, ada)
    out_file = tmp_path / "audit.jsonl"
    out, rc = on_terminal(home, "audit", "export", "--output", str(out_file))
    assert rc == 0, out
    lines = [json.loads(x) for x in out_file.read_text().splitlines()]
    after = all_records(server, ada)
    # Every record there was when it began, oldest first, each whole (the
    # reads that listed them just before among them); none of those it
    # caused itself: the record after its last is its own first request.
    assert len(lines) >= len(before) and lines == after[:len(lines)]
    assert all(r["action"] == "audit.list" for r in lines[len(before):])
    own = after[len(lines)]
    assert own["action"] in ("auth.whoami", "audit.list") and own["user_agent"] == "latchkey-cli" and own["actor"]["name"] == "ada"
    assert stat.S_IMODE(os.stat(out_file).st_mode) == 0o600
    # The progress line counted pages as they came, then said where it all went.
    assert "\rexporting audit records: 200" in out and "\rexporting audit records: 400" in out
    assert "exported %d records to %s" % (len(lines), out_file) in out
    # Off a terminal: the lines on standard output and nothing else.
    r = cli(home, "audit", "export", "--action", "team.create")
    assert r.returncode == 0 and r.stderr == ""
    got = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(got) == 450 and {x["action"] for x in got} == {"team.create"}
    assert [x["resource"] for x in got[:2]] == ["/v1/orgs/acme/teams", "/v1/orgs/acme/teams"]
    # --since: only what came after.
    mid = before[len(before) // 2]["time"]
    r = cli(home, "audit", "export", "--since", mid)
    assert r.returncode == 0
    assert all(json.loads(x)["time"] >= mid[:19] for x in r.stdout.splitlines())
    # Refusals: bad flags are usage, a member may not read the org's trail.
    assert cli(home, "audit", "export", "--since", "yesterday").returncode == 2
    assert cli(home, "audit", "export", "--action", "a b").returncode == 2
    assert cli(home, "audit", "export", "--all", "--org", "acme").returncode == 2
    bob = token_for(server, "acme", "bob", expires="P1D")
    r = cli(home, "audit", "export", LATCHKEY_TOKEN=bob)
    assert r.returncode == 3 and r.stdout == ""


def test_audit_export_all_for_a_partner_admin(server, ada, home):
    env = dict(home, LATCHKEY_TOKEN=server.root_token)
    r = cli(env, "audit", "export", "--all")
    assert r.returncode == 0
    got = [json.loads(x) for x in r.stdout.splitlines()]
    assert "acme" in {x["org"] for x in got} and len(got) >= 4
    assert [x["seq"] for x in got] == sorted(x["seq"] for x in got)
    # An org admin may not.
    assert cli(home, "audit", "export", "--all").returncode == 3


def test_a_password_goes_in_on_standard_input(server, ada, home):
    r = cli(home, "user", "create", "carol", "--email", "carol@example.com", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    ok = server.post("/v1/auth/login", json={"org": "acme", "username": "carol", "password": PASSWORD})
    assert ok.status_code == 200
    remember_secret(ok.json()["token"])
    # A new one through update; the old one stops working.
    r = cli(home, "user", "update", "carol", "--password-stdin", stdin="another " + PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    old = server.post("/v1/auth/login", json={"org": "acme", "username": "carol", "password": PASSWORD})
    assert old.status_code == 401
    new = server.post("/v1/auth/login", json={"org": "acme", "username": "carol", "password": "another " + PASSWORD})
    assert new.status_code == 200
    remember_secret(new.json()["token"])
    # Nothing on standard input: a usage error, and no user made.
    r = cli(home, "user", "create", "dave", "--email", "d@example.com", "--password-stdin", stdin="")
    assert r.returncode == 2 and "--password-stdin" in r.stderr
    assert server.get("/v1/orgs/acme/users/dave", token=ada).status_code == 404
    # The server's own rules still apply (a short password is refused).
    r = cli(home, "user", "create", "erin", "--email", "e@example.com", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and r.stderr.startswith("latchkey: ")
    # There is no way to give it as an argument.
    r = cli(home, "user", "create", "frank", "--password", PASSWORD)
    assert r.returncode == 2 and PASSWORD not in r.stderr
