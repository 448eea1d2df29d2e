"""The CLI's noun-verb commands over the REST API (issue 22; docs/cli.md,
src/cli/resources.c's table) against a real server: an org admin builds a
team with a member and a service account with a token, as people would,
and each answer shows as rows, a table, names (--quiet) or the server's
JSON; the org defaults to the caller's own; names are checked before they
reach a path; the server's refusals keep their exit codes."""
import json

import pytest

from cli_harness import cli, home, rows  # noqa: F401 (home is a fixture)
from helpers import create_org, create_user, remember_secret, signup, token_for


@pytest.fixture
def admin(server, home):
    """A CLI logged in as acme's admin ada."""
    create_org(server, "acme")
    create_org(server, "umbrella")
    create_user(server, "acme", "ada", role="admin")
    create_user(server, "acme", "bob")
    tok = token_for(server, "acme", "ada", expires="P30D")
    assert cli(home, "login", server.url, "--token-stdin", stdin=tok + "\n").returncode == 0
    return tok


def ok(r):
    assert r.returncode == 0, (r.args, r.stdout, r.stderr)
    return r.stdout


def test_a_team_with_a_member_and_a_service_account(server, home, admin):
    team = rows(ok(cli(home, "team", "create", "payments", "--description", "Payments team")))
    assert team["name"] == "payments" and team["org"] == "acme" and team["created_at"] == "just now"
    ok(cli(home, "team", "add-member", "payments", "bob", "--role", "member"))
    members = ok(cli(home, "team", "members", "payments")).splitlines()
    assert members[0].split() == ["USERNAME", "ROLE", "SINCE"] and members[1].split()[:2] == ["bob", "member"]
    assert json.loads(ok(cli(home, "team", "members", "payments", "-o", "json"))) == [
        {"username": "bob", "role": "member", "since": json.loads(ok(cli(home, "team", "members", "payments",
                                                                          "-o", "json")))[0]["since"]}]
    sa = rows(ok(cli(home, "sa", "create", "payments", "deployer", "--roles", "viewer")))
    assert sa["name"] == "deployer" and sa["roles"] == "viewer"
    assert ok(cli(home, "sa", "grant", "payments", "deployer", "team-member")).strip() == "Done: sa grant"
    assert ok(cli(home, "sa", "list", "payments", "--quiet")).split() == ["deployer"]
    r = cli(home, "sa", "token", "payments", "deployer", "--expires", "P1D", "--description", "deploys")
    shown = rows(ok(r))
    remember_secret(shown["token"])
    assert "only time the token is shown" in r.stderr
    who = server.get("/v1/auth/whoami", token=shown["token"]).json()
    assert who["principal"]["name"] == "deployer" and who["principal"]["team"] == "payments"
    assert ok(cli(home, "team", "list", "-q")).split() == ["payments"]
    # The org's record of it all, newest first, with the actor's name.
    audit = ok(cli(home, "audit", "list")).splitlines()
    assert audit[0].split()[:3] == ["SEQ", "TIME", "ACTOR"]
    assert any("sa.token.create" in line and " ada " in line for line in audit[1:10])
    # Removing undoes it; a removed team is 4.
    ok(cli(home, "team", "remove-member", "payments", "bob"))
    assert ok(cli(home, "team", "members", "payments", "-q")) == ""
    ok(cli(home, "team", "delete", "payments"))
    r = cli(home, "team", "show", "payments")
    assert r.returncode == 4 and "latchkey: no team payments" in r.stderr


def test_org_settings_show_and_change(server, home, admin):
    before = rows(ok(cli(home, "org", "settings", "acme")))
    assert before["allow_non_expiring_tokens"] == "no" and before["token_expiry_hours"] != "48"
    changed = rows(ok(cli(home, "org", "settings", "acme", "--token-expiry-hours", "48",
                          "--allow-non-expiring-tokens")))
    assert changed["token_expiry_hours"] == "48" and changed["allow_non_expiring_tokens"] == "yes"
    assert rows(ok(cli(home, "org", "show", "acme")))["token_expiry_hours"] == "48"
    r = cli(home, "org", "settings", "acme", "--token-expiry-hours", "soon")
    assert r.returncode == 2 and "whole number" in r.stderr


def test_users_and_roles(server, home, admin):
    made = rows(ok(cli(home, "user", "create", "cy", "--email", "cy@example.com", "--role", "member")))
    assert made["username"] == "cy" and made["has_password"] == "no"
    assert rows(ok(cli(home, "user", "update", "cy", "--role", "admin")))["role"] == "admin"
    assert sorted(ok(cli(home, "user", "list", "-q")).split()) == ["ada", "bob", "cy"]
    ok(cli(home, "user", "delete", "cy"))
    assert cli(home, "user", "show", "cy").returncode == 4
    ok(cli(home, "role", "create", "reader", "--permissions", "teams.view,users.view"))
    roles = json.loads(ok(cli(home, "role", "list", "-o", "json")))
    reader = [r for r in roles if r["name"] == "reader"]
    assert len(reader) == 1 and reader[0]["builtin"] is False
    assert set(reader[0]["permissions"]) == {"users.view", "teams.view"}


def test_the_org_defaults_to_the_callers_and_another_is_like_missing(server, home, admin):
    ok(cli(home, "team", "create", "web"))
    assert ok(cli(home, "team", "list", "--org", "acme", "-q")).split() == ["web"]
    assert ok(cli(home, "team", "list", "-q", LATCHKEY_ORG="acme")).split() == ["web"]
    theirs = cli(home, "team", "list", "--org", "umbrella")
    missing = cli(home, "team", "list", "--org", "nowhere")
    assert theirs.returncode == missing.returncode == 4
    assert theirs.stderr.replace("umbrella", "X") == missing.stderr.replace("nowhere", "X")
    # The partner admin belongs to no org: it must say which.
    r = cli(home, "team", "list", LATCHKEY_TOKEN=server.root_token)
    assert r.returncode == 2 and "--org" in r.stderr


def test_usage_and_names(server, home, admin):
    r = cli(home, "team", "--help")
    assert r.returncode == 0 and "latchkey team add-member TEAM USER" in r.stdout and "example:" in r.stdout
    assert cli(home, "team").returncode == 2
    assert cli(home, "team", "frob").returncode == 2
    r = cli(home, "team", "show")
    assert r.returncode == 2 and r.stderr.strip() == "usage: latchkey team show TEAM"
    r = cli(home, "team", "show", "../../orgs")
    assert r.returncode == 2 and "is not a name" in r.stderr
    r = cli(home, "team", "list", "--org", "a/b")
    assert r.returncode == 2
    r = cli(home, "team", "create", "x", "--colour", "red")
    assert r.returncode == 2 and "unknown flag --colour" in r.stderr


def test_audit_tail_follows_new_records(server, home, admin):
    """The last records first, then each new one as it is written: none
    skipped, none twice, in order."""
    import subprocess
    import time

    from helpers import BIN

    ok(cli(home, "team", "create", "before"))
    p = subprocess.Popen([BIN, "audit", "tail", "--lines", "3", "--interval", "1", "-o", "json"], env=home,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        first = json.loads(p.stdout.readline())
        seen.append(first)
        for i in range(3):
            ok(cli(home, "team", "create", "t%d" % i))
        deadline = time.time() + 20
        while time.time() < deadline and sum(r["action"] == "team.create" and r["resource"].endswith("/teams")
                                             for r in seen) < 4:
            seen.append(json.loads(p.stdout.readline()))
    finally:
        p.terminate()
        p.wait(timeout=10)
    seqs = [r["seq"] for r in seen]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs
    creates = [r for r in seen if r["action"] == "team.create"]
    assert len(creates) == 4 and all(r["actor"]["name"] == "ada" for r in creates)
    r = cli(home, "audit", "tail", "--lines", "500")
    assert r.returncode == 2 and "--lines takes a number from 0 to 200" in r.stderr


def test_the_org_lifecycle_as_the_partner_admin(server, home):
    env = dict(home, LATCHKEY_URL=server.url, LATCHKEY_TOKEN=server.root_token)
    org = rows(ok(cli(env, "org", "create", "initech", "--display-name", "Initech")))
    assert org["name"] == "initech" and org["display_name"] == "Initech" and org["status"] == "active"
    # A sign-up waits for the partner: approve, deactivate, activate again.
    assert signup(server, "globex").status_code in (200, 201, 202)
    assert json.loads(ok(cli(env, "org", "show", "globex", "-o", "json")))["status"] == "pending"
    assert rows(ok(cli(env, "org", "approve", "globex")))["status"] == "active"
    listed = ok(cli(env, "org", "list")).splitlines()
    assert listed[0].split()[0] == "NAME"
    assert {"initech", "globex"} <= {line.split()[0] for line in listed[1:]}
    assert rows(ok(cli(env, "org", "deactivate", "globex")))["status"] == "deactivated"
    assert json.loads(ok(cli(env, "org", "show", "globex", "-o", "json")))["status"] == "deactivated"
    assert rows(ok(cli(env, "org", "activate", "globex")))["status"] == "active"
    # The lifecycle's own rules are the server's: an active org is not approved again.
    r = cli(env, "org", "approve", "initech")
    assert r.returncode == 1 and "pending" in r.stderr
    assert {"initech", "globex"} <= set(ok(cli(env, "org", "list", "-q")).split())


def test_groups_roles_workloads_and_bindings(server, home, admin):
    ok(cli(home, "role", "create", "reader", "--permissions", "teams.view,users.view"))
    ok(cli(home, "group", "create", "ops", "--roles", "reader", "--description", "on call"))
    ok(cli(home, "group", "add-member", "ops", "bob"))
    groups = json.loads(ok(cli(home, "group", "list", "-o", "json")))
    ops = [g for g in (groups["items"] if isinstance(groups, dict) else groups) if g["name"] == "ops"][0]
    assert ops["roles"] == ["reader"] and "bob" in json.dumps(ops["members"])
    assert ok(cli(home, "group", "remove-member", "ops", "bob")).strip() == "Done: group remove-member"
    groups = json.loads(ok(cli(home, "group", "list", "-o", "json")))
    ops = [g for g in (groups["items"] if isinstance(groups, dict) else groups) if g["name"] == "ops"][0]
    assert "bob" not in json.dumps(ops["members"])
    r = cli(home, "role", "delete", "admin")  # a built-in role: the server refuses
    assert r.returncode != 0 and r.stderr.startswith("latchkey: ")
    ok(cli(home, "role", "create", "spare", "--permissions", "teams.view"))
    assert ok(cli(home, "role", "delete", "spare")).strip() == "Done: role delete"
    assert "spare" not in ok(cli(home, "role", "list", "-q")).split()

    ok(cli(home, "team", "create", "payments"))
    ok(cli(home, "sa", "create", "payments", "deployer", "--roles", "viewer"))
    assert rows(ok(cli(home, "sa", "show", "payments", "deployer")))["name"] == "deployer"
    ok(cli(home, "sa", "grant", "payments", "deployer", "team-member"))
    ok(cli(home, "sa", "revoke", "payments", "deployer", "team-member"))
    assert "team-member" not in rows(ok(cli(home, "sa", "show", "payments", "deployer")))["roles"]
    ok(cli(home, "workload", "create", "payments", "api", "--description", "the API"))
    assert ok(cli(home, "workload", "list", "payments", "-q")).split() == ["api"]
    assert ok(cli(home, "binding", "add", "payments", "api", "deployer")).strip() == "Done: binding add"
    bound = ok(cli(home, "binding", "list", "payments", "api")).splitlines()
    assert bound[0].startswith("SERVICE ACCOUNT") and bound[1].split()[0] == "deployer"
    ok(cli(home, "binding", "remove", "payments", "api", "deployer"))
    assert len(ok(cli(home, "binding", "list", "payments", "api")).splitlines()) <= 1
    ok(cli(home, "workload", "delete", "payments", "api"))
    assert ok(cli(home, "workload", "list", "payments", "-q")) == ""
    ok(cli(home, "sa", "delete", "payments", "deployer"))
    assert cli(home, "sa", "show", "payments", "deployer").returncode == 4
