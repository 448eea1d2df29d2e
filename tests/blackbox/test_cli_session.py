"""The client CLI's first commands (issue 22; docs/cli.md): `latchkey
login` (the password asked on a terminal, driven through a
pseudo-terminal by pexpect, or a token on standard input), the profile's
config file and its mode, profiles and the LATCHKEY_* overrides,
`latchkey whoami` as a table and as JSON, `latchkey logout` revoking on
the server, and the exit codes."""
import json
import os
import stat

import pexpect
import pytest

from cli_harness import cli, config, home, rows  # noqa: F401 (home is a fixture)
from helpers import BIN, PASSWORD, create_org, create_user, remember_secret, token_for


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "ann", role="admin", password=PASSWORD)
    return server


def test_login_with_a_password_on_a_terminal_keeps_a_session(acme, home):
    child = pexpect.spawn(BIN, ["login", acme.url], env=home, encoding="utf-8", timeout=20)
    child.expect("Organisation: ")
    child.sendline("acme")
    child.expect("Username: ")
    child.sendline("ann")
    child.expect("Password: ")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    out = child.before
    child.close()
    assert child.exitstatus == 0, out
    assert PASSWORD not in out  # not echoed
    assert "Logged in to %s as ann of acme (profile default)" % acme.url in out
    path, cfg = config(home)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert cfg["current"] == "default"
    token = cfg["profiles"]["default"]["token"]
    remember_secret(token)  # the session's scan looks for it in the server's files
    assert token.startswith("lk_sess_") and cfg["profiles"]["default"]["url"] == acme.url
    # The session works, and whoami shows it.
    r = cli(home, "whoami")
    assert r.returncode == 0, r.stderr
    shown = rows(r.stdout)
    assert shown["name"] == "ann" and shown["org"] == "acme" and shown["type"] == "user"
    assert token.startswith(shown["token"] + "_")
    assert token not in r.stdout and token not in r.stderr
    # logout ends the session on the server and forgets the profile.
    r = cli(home, "logout")
    assert r.returncode == 0 and "Logged out" in r.stdout, r.stderr
    assert "default" not in config(home)[1]["profiles"]
    assert acme.get("/v1/auth/whoami", token=token).status_code == 401
    r = cli(home, "whoami")
    assert r.returncode == 3 and "latchkey login" in r.stderr


def test_a_wrong_password_is_exit_3_and_keeps_nothing(acme, home):
    child = pexpect.spawn(BIN, ["login", acme.url, "--org", "acme", "--username", "ann"], env=home,
                          encoding="utf-8", timeout=20)
    child.expect("Password: ")
    child.sendline("not the password")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    assert "login failed" in child.before
    assert not os.path.exists(os.path.join(home["XDG_CONFIG_HOME"], "latchkey", "config.json"))


def test_token_stdin_profiles_and_overrides(acme, home):
    ann = token_for(acme, "acme", "ann", expires="P7D")
    r = cli(home, "login", acme.url, "--token-stdin", "--profile", "ci", stdin=ann + "\n")
    assert r.returncode == 0, r.stderr
    assert "as ann of acme (profile ci)" in r.stdout
    r = cli(home, "login", acme.url, "--token-stdin", stdin=acme.root_token + "\n")
    assert r.returncode == 0, r.stderr
    _, cfg = config(home)
    assert set(cfg["profiles"]) == {"ci", "default"} and cfg["current"] == "default"
    # --profile, LATCHKEY_PROFILE, LATCHKEY_TOKEN and LATCHKEY_URL pick who asks.
    name = lambda r: json.loads(r.stdout)["principal"]["name"]  # noqa: E731
    assert name(cli(home, "whoami", "-o", "json")) == "root"
    assert name(cli(home, "whoami", "-o", "json", "--profile", "ci")) == "ann"
    assert name(cli(home, "whoami", "-o", "json", LATCHKEY_PROFILE="ci")) == "ann"
    assert name(cli(home, "whoami", "-o", "json", LATCHKEY_TOKEN=ann)) == "ann"
    r = cli(home, "whoami", LATCHKEY_URL="http://127.0.0.1:1")
    assert r.returncode == 1 and "cannot reach" in r.stderr
    # The relative expiry on a terminal's table, RFC 3339 in JSON.
    assert rows(cli(home, "whoami", "--profile", "ci").stdout)["expires"] in ("in 6 days", "in 7 days")
    assert json.loads(cli(home, "whoami", "-o", "json", "--profile", "ci").stdout)["token"]["expires_at"].endswith("Z")
    # logout of an API token's profile revokes the token.
    r = cli(home, "logout", "--profile", "ci")
    assert r.returncode == 0, r.stderr
    assert acme.get("/v1/auth/whoami", token=ann).status_code == 401
    assert name(cli(home, "whoami", "-o", "json")) == "root"


def test_a_config_file_others_can_read_is_refused(acme, home):
    r = cli(home, "login", acme.url, "--token-stdin", stdin=acme.root_token + "\n")
    assert r.returncode == 0
    path, _ = config(home)
    os.chmod(path, 0o644)
    r = cli(home, "whoami")
    assert r.returncode == 1 and "may be read by others (mode 644)" in r.stderr
    assert acme.root_token not in r.stderr
    os.chmod(path, 0o600)
    assert cli(home, "whoami").returncode == 0


def test_exit_codes_and_usage(acme, home):
    assert cli(home, "whoami").returncode == 3  # no server, no token
    r = cli(home, "whoami", "extra")
    assert r.returncode == 2 and r.stderr.startswith("usage: latchkey whoami")
    r = cli(home, "login", "--help")
    assert r.returncode == 0 and "example:" in r.stdout and "--token-stdin" in r.stdout
    r = cli(home, "login", acme.url, "--token-stdin", stdin="")
    assert r.returncode == 2 and "no token" in r.stderr
    r = cli(home, "login", "ftp://example.com", "--token-stdin", stdin="x\n")
    assert r.returncode == 2
    r = cli(home, "whoami", "-o", "yaml")
    assert r.returncode == 2
    # A token the server does not know: 3, with the server's words.
    r = cli(home, "whoami", LATCHKEY_URL=acme.url, LATCHKEY_TOKEN="lk_user_AAAAAAAAAAAA_nope")
    assert r.returncode == 3 and r.stderr.startswith("latchkey: ")
    # Without a terminal, login asks for --token-stdin rather than hanging.
    r = cli(home, "login", acme.url)
    assert r.returncode == 2 and "--token-stdin" in r.stderr


def test_plain_http_to_another_host_is_warned_about(home):
    r = cli(home, "login", "http://192.0.2.1:9", "--token-stdin", stdin="lk_root_x\n")
    assert "plain http" in r.stderr and r.returncode == 1


def test_a_downloaded_cli_config_logs_in(acme, home, tmp_path_factory):
    """GET /v1/auth/cli-config gives a file with a new token of the caller's
    own, shown once; `latchkey login --config-file` uses it."""
    ann = token_for(acme, "acme", "ann", expires="P60D", policies=["tokens.manage", "tokens.view", "teams.view"])
    r = acme.get("/v1/auth/cli-config", token=ann)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Disposition"] == 'attachment; filename="latchkey-cli.json"'
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    remember_secret(body["token"])
    assert body["url"] == acme.url and body["org"] == "acme" and body["profile"] == "acme"
    assert body["token"].startswith(body["token_id"] + "_")
    # Its token is the caller's own, no wider than the token that asked.
    listed = {t["id"]: t for t in acme.get("/v1/tokens", token=ann).json()["items"]}
    assert set(listed[body["token_id"]]["policies"]) <= {"tokens.manage", "tokens.view", "teams.view"}
    assert listed[body["token_id"]]["description"] == "latchkey CLI (downloaded configuration)"
    f = tmp_path_factory.mktemp("download") / "latchkey-cli.json"
    f.write_text(r.text)
    r = cli(home, "login", "--config-file", str(f), "--profile", "acme")
    assert r.returncode == 0, r.stderr
    assert "as ann of acme (profile acme)" in r.stdout
    who = json.loads(cli(home, "whoami", "-o", "json").stdout)
    assert who["token"]["id"] == body["token_id"]
    # A file that is not one: said, and nothing kept.
    f.write_text('{"url": "x"}')
    r = cli(home, "login", "--config-file", str(f), "--profile", "other")
    assert r.returncode == 1 and "not a latchkey CLI config file" in r.stderr
    assert set(config(home)[1]["profiles"]) == {"acme"}


def test_the_cli_config_from_a_cookie_needs_the_same_origin(acme):
    cookie = acme.post("/v1/auth/login", json={"org": "acme", "username": "ann", "password": PASSWORD}).json()["token"]
    remember_secret(cookie)
    before = len(acme.get("/v1/orgs/acme/users/ann/tokens", token=acme.root_token).json()["items"])
    r = acme.get("/v1/auth/cli-config", headers={"Cookie": "token=" + cookie, "Origin": "https://evil.example"})
    assert r.status_code == 400
    r = acme.get("/v1/auth/cli-config", headers={"Cookie": "token=" + cookie, "Origin": acme.url,
                                                 "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])
    after = len(acme.get("/v1/orgs/acme/users/ann/tokens", token=acme.root_token).json()["items"])
    assert after == before + 1
