"""`latchkey token create|list|show|rotate|revoke` (issue 22; docs/cli.md)
against a real server: the secret printed once with its warning, the
table, --quiet and JSON, rotation with a grace period, revocation, the
narrowing of a new token to the caller's own permissions, and the exit
codes."""
import json

import pytest

from cli_harness import cli, home, rows  # noqa: F401 (home is a fixture)
from helpers import create_org, create_user, remember_secret, token_for


@pytest.fixture
def ann(server, home):
    """A CLI logged in as acme's member ann, with a token narrowed to the token permissions."""
    create_org(server, "acme")
    create_user(server, "acme", "ann")
    tok = token_for(server, "acme", "ann", expires="P60D", policies=["tokens.manage", "tokens.view"])
    r = cli(home, "login", server.url, "--token-stdin", stdin=tok + "\n")
    assert r.returncode == 0, r.stderr
    return tok


def created(r):
    assert r.returncode == 0, r.stderr
    assert "only time the token is shown" in r.stderr
    shown = rows(r.stdout)
    remember_secret(shown["token"])
    assert shown["token"].startswith(shown["id"] + "_")
    return shown


def test_create_list_show_rotate_revoke(server, home, ann):
    made = created(cli(home, "token", "create", "--description", "ci job", "--expires", "P30D"))
    assert made["expires"] in ("in 29 days", "in 30 days")
    # The new token works, and is no wider than its maker.
    who = json.loads(cli(home, "whoami", "-o", "json", LATCHKEY_TOKEN=made["token"]).stdout)
    assert who["principal"]["name"] == "ann" and set(who["permissions"]) <= {"tokens.manage", "tokens.view"}
    # list: a table on a terminal, ids with --quiet, the server's JSON with -o json.
    r = cli(home, "token", "list")
    assert r.returncode == 0, r.stderr
    header, *lines = r.stdout.splitlines()
    assert header.split()[:3] == ["ID", "DESCRIPTION", "STATUS"]
    mine = [line for line in lines if line.startswith(made["id"] + " ")]
    assert len(mine) == 1 and "ci job" in mine[0] and ("in 29 days" in mine[0] or "in 30 days" in mine[0])
    ids = cli(home, "token", "list", "--quiet").stdout.split()
    assert made["id"] in ids and len(ids) == 2
    listed = json.loads(cli(home, "token", "list", "-o", "json").stdout)
    assert {t["id"] for t in listed} == set(ids) and all("token" not in t for t in listed)
    assert made["token"] not in r.stdout
    shown = rows(cli(home, "token", "show", made["id"]).stdout)
    assert shown["description"] == "ci job" and shown["status"] == "active" and shown["last used"] == "just now"
    # rotate: a new secret once; the old one lives out its grace.
    new = created(cli(home, "token", "rotate", made["id"], "--grace", "60"))
    assert new["id"] != made["id"]
    assert server.get("/v1/auth/whoami", token=made["token"]).status_code == 200
    assert rows(cli(home, "token", "show", made["id"]).stdout)["replaced by"] == new["id"]
    # revoke
    r = cli(home, "token", "revoke", new["id"])
    assert r.returncode == 0 and r.stdout.strip() == "Revoked %s" % new["id"]
    assert server.get("/v1/auth/whoami", token=new["token"]).status_code == 401


def test_a_policy_it_does_not_hold_is_left_out_and_said(server, home, ann):
    r = cli(home, "token", "create", "--policy", "tokens.view", "--policy", "users.manage", "-o", "json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    remember_secret(body["token"])
    assert body["policies"] == ["tokens.view"] and body["dropped_policies"] == ["users.manage"]
    assert "left out (you do not hold them): users.manage" in r.stderr


def test_errors_and_exit_codes(server, home, ann):
    r = cli(home, "token", "show", "lk_user_AAAAAAAAAAAA")
    assert r.returncode == 4 and r.stderr.startswith("latchkey: ")
    r = cli(home, "token", "show", "../../v1/orgs")
    assert r.returncode == 2 and "not a token id" in r.stderr
    assert cli(home, "token", "frob").returncode == 2
    assert cli(home, "token").returncode == 2
    r = cli(home, "token", "rotate", "lk_user_AAAAAAAAAAAA", "--grace", "soon")
    assert r.returncode == 2
    r = cli(home, "token", "--help")
    assert r.returncode == 0 and "example:" in r.stdout
    r = cli(home, "token", "create", "--expires", "P99Y")
    assert r.returncode == 1 and r.stderr.startswith("latchkey: ")
    r = cli(home, "token", "list", LATCHKEY_TOKEN="lk_user_AAAAAAAAAAAA_nope")
    assert r.returncode == 3
