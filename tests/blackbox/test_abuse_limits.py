"""Abuse of the doors anyone may knock on: a sign-up flood from one address,
probing which organisation names are taken at the price of a password hash
each, and clients hammering a limit without being told when to come back.
Every 429, whichever limit answers it, says when to retry (Retry-After) and
names its policy (RateLimit, RateLimit-Policy)."""
import json
import re
import subprocess
import time

import pytest

from helpers import BIN, PASSWORD, assert_error, signup


def assert_limited(r, policy, quota, window, contains):
    """A 429 that says when to retry and which policy refused it."""
    assert_error(r, 429, contains)
    retry = r.headers.get("Retry-After")
    assert retry is not None and re.fullmatch(r"[1-9][0-9]*", retry), r.headers
    assert int(retry) <= window, r.headers
    assert r.headers.get("RateLimit-Policy") == '"%s";q=%d;w=%d' % (policy, quota, window), r.headers
    m = re.fullmatch(r'"%s";r=0;t=([0-9]+)' % re.escape(policy), r.headers.get("RateLimit", ""))
    assert m and int(m.group(1)) >= 1, r.headers
    assert ("retry in %s seconds" % retry) in r.text, r.text


def test_a_signup_flood_from_one_address_is_stopped(server):
    """Sign-up needs no credential: without its own limit one address can
    fill the review queue with pending orgs, each costing a password hash.
    The default is 10 an hour per address; every attempt counts."""
    for i in range(3):
        assert signup(server, "flood%d" % i).status_code == 200
    for i in range(7):  # taken names and bad input count as well
        r = signup(server, "flood0") if i % 2 == 0 else signup(server, "Not A Slug")
        assert r.status_code in (400, 409), r.text
    r = signup(server, "flood-more")
    assert_limited(r, "signup", 10, 3600, "client address")
    assert server.get("/v1/orgs/flood-more", token=server.root_token).status_code == 404
    # Other doors are not closed by it: login and the API still answer.
    assert server.get("/v1/auth/whoami", token=server.root_token).status_code == 200
    assert server.post("/v1/auth/login", json={"org": "flood0", "username": "owner",
                                               "password": "wrong password!!"}).status_code == 401


def test_signup_limit_is_configurable(make_server, tmp_path):
    s = make_server(extra=["--rate-limit-signup", "2/60"])
    assert signup(s, "one").status_code == 200
    assert signup(s, "one").status_code == 409
    assert_limited(signup(s, "two"), "signup", 2, 60, "client address")
    # Off: 0.
    s.extra += ["--rate-limit-signup", "0"]
    s.restart()
    for i in range(4):
        assert signup(s, "one").status_code == 409
    # From the environment and the config file, too.
    cfg = tmp_path / "lk.json"
    cfg.write_text(json.dumps({"rate-limit-signup": "1/60"}))
    s.extra = ["--config", str(cfg)]
    s.restart()
    assert signup(s, "one").status_code == 409
    assert signup(s, "one").status_code == 429


def test_a_taken_name_is_refused_before_the_password_hash(server):
    """Probing which org names exist must not cost the server a scrypt
    (32 MiB, tens of milliseconds) per guess: a taken name answers 409 at
    the price of a lookup. Compared with a sign-up that does hash, the
    fastest of a few tries each, so a busy machine cannot fake it."""
    assert signup(server, "taken").status_code == 200
    fresh, taken = [], []
    for i in range(4):
        t0 = time.monotonic()
        r = signup(server, "taken")
        taken.append(time.monotonic() - t0)
        assert_error(r, 409, "already exists")
        t0 = time.monotonic()
        r = signup(server, "fresh%d" % i)
        fresh.append(time.monotonic() - t0)
        assert r.status_code == 200, r.text
    assert min(taken) * 3 < min(fresh), (taken, fresh)


def test_a_login_lockout_says_when_to_retry(make_server):
    """The per-account limit (someone guessing one user's password) used to
    answer 429 with no Retry-After: clients could only guess when to retry."""
    s = make_server(extra=["--rate-limit-login-account", "2/300"])
    assert signup(s, "locked").status_code == 200
    assert s.post("/v1/orgs/locked/approve", token=s.root_token).status_code == 200
    for _ in range(2):
        assert s.post("/v1/auth/login", json={"org": "locked", "username": "owner",
                                              "password": "wrong password!!"}).status_code == 401
    r = s.post("/v1/auth/login", json={"org": "locked", "username": "owner", "password": PASSWORD})
    assert_limited(r, "login-account", 2, 300, "too many login attempts for this account")
    # An unknown account is limited alike, so the lockout reveals nothing.
    for _ in range(2):
        s.post("/v1/auth/login", json={"org": "locked", "username": "ghost", "password": "wrong password!!"})
    r = s.post("/v1/auth/login", json={"org": "locked", "username": "ghost", "password": PASSWORD})
    assert_limited(r, "login-account", 2, 300, "too many login attempts for this account")


@pytest.mark.parametrize("kind", ["ip", "token", "login", "login-account", "signup"])
def test_every_429_says_when_to_retry(make_server, kind):
    """Each limit that can answer 429, driven over its quota."""
    flags = {"ip": ["--rate-limit-ip", "3/60"], "token": ["--rate-limit-token", "2/60"],
             "login": ["--rate-limit-login-ip", "2/60"], "login-account": ["--rate-limit-login-account", "2/60"],
             "signup": ["--rate-limit-signup", "2/60"]}[kind]
    s = make_server(extra=flags)
    quota = int(flags[1].split("/")[0])
    if kind == "ip":
        rs = [s.get("/v1/sys/health") for _ in range(quota + 1)]
        assert_limited(rs[-1], "ip", quota, 60, "client address")
    elif kind == "token":
        rs = [s.get("/v1/auth/whoami", token=s.root_token) for _ in range(quota + 1)]
        assert_limited(rs[-1], "token", quota, 60, "this token")
    elif kind == "login":
        rs = [s.post("/v1/auth/login", json={"org": "o", "username": "u%d" % i, "password": "x" * 12})
              for i in range(quota + 1)]
        assert_limited(rs[-1], "login", quota, 60, "client address")
    elif kind == "login-account":
        rs = [s.post("/v1/auth/login", json={"org": "o", "username": "u", "password": "x" * 12})
              for _ in range(quota + 1)]
        assert_limited(rs[-1], "login-account", quota, 60, "this account")
    else:
        rs = [signup(s, "taken-%d" % i) for i in range(quota + 1)]
        assert_limited(rs[-1], "signup", quota, 60, "client address")
    assert [r.status_code for r in rs[:-1]].count(429) == 0


def test_rotating_ipv6_addresses_within_one_64_does_not_reset_the_limits(make_server):
    """Anyone with an IPv6 connection has a /64 of addresses to walk
    through; per-address limits count such a client as its /64."""
    s = make_server(extra=["--trusted-proxy", "127.0.0.1", "--rate-limit-signup", "2/3600"])
    via = lambda a: {"X-Forwarded-For": a}
    assert signup(s, "v6a", headers=via("2001:db8:1:2::1")).status_code == 200
    assert signup(s, "v6b", headers=via("2001:db8:1:2::2")).status_code == 200
    assert_limited(signup(s, "v6c", headers=via("2001:db8:1:2:ffff:ffff:ffff:ffff")), "signup", 2, 3600,
                   "client address")
    # The neighbouring /64 is someone else.
    assert signup(s, "v6d", headers=via("2001:db8:1:3::1")).status_code == 200


@pytest.mark.parametrize("value", ["10", "10/0", "x/60", "-1/60", "10/86401"])
def test_a_bad_signup_limit_is_refused_at_start(tmp_path, value):
    r = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d"), "--rate-limit-signup", value],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2, r.stderr
    assert "rate-limit-signup: expected REQUESTS/SECONDS" in r.stderr, r.stderr
