"""Behind a reverse proxy every connection comes from the proxy. Without
--trusted-proxy all clients share one address (one client's guessing
locks everyone out; the audit trail names the proxy), and believing
X-Forwarded-For from anyone would let each client pick its own address.
With --trusted-proxy CIDR, X-Forwarded-For (rightmost address not itself a
trusted proxy) and X-Forwarded-Proto are believed from those peers only:
for the rate limits, the audit trail's source_ip, the access log and the
session cookie's Secure flag. The tests' own connections come from
127.0.0.1, which plays the proxy."""
import json
import subprocess

import pytest

from helpers import BIN, PASSWORD, assert_error, remember_secret


def login_attempt(s, user, headers=None):
    return s.post("/v1/auth/login", headers=headers,
                  json={"org": "o", "username": user, "password": "wrong password!!"})


def audit_source(s, r):
    """source_ip of the audit record of answer r (a mutation: durable before it was answered)."""
    rid = r.headers["X-Request-Id"]
    got = s.get("/v1/audit", token=s.root_token, params={"limit": 200}).json()["items"]
    recs = [x for x in got if x["request_id"] == rid]
    assert len(recs) == 1, (rid, got[:3])
    return recs[0]["source_ip"]


def audit_source_of_raw(s, headers):
    """A failed login sent with exactly these header lines; its audit source_ip."""
    import http.client
    c = http.client.HTTPConnection(*s.address(), timeout=10)
    body = json.dumps({"org": "o", "username": "raw", "password": "wrong password!!"})
    c.putrequest("POST", "/v1/auth/login")
    for k, v in headers + [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]:
        c.putheader(k, v)
    c.endheaders(body.encode())
    resp = c.getresponse()
    resp.read()
    assert resp.status == 401
    rid = resp.getheader("X-Request-Id")
    c.close()
    recs = [x for x in s.get("/v1/audit", token=s.root_token, params={"limit": 200}).json()["items"]
            if x["request_id"] == rid]
    assert len(recs) == 1
    return recs[0]["source_ip"]


def xff(a):
    return {"X-Forwarded-For": a}


def test_behind_a_proxy_one_client_cannot_lock_out_the_others(make_server):
    """Client A exhausts the per-address login limit; client B, behind the
    same proxy, can still log in."""
    s = make_server(extra=["--trusted-proxy", "127.0.0.1/32", "--rate-limit-login-ip", "2/60"])
    for i in range(2):
        assert login_attempt(s, "a%d" % i, xff("198.51.100.1")).status_code == 401
    assert_error(login_attempt(s, "a9", xff("198.51.100.1")), 429, "client address")
    r = login_attempt(s, "b0", xff("198.51.100.2"))
    assert r.status_code == 401, r.text


def test_the_audit_trail_and_access_log_name_the_client_not_the_proxy(make_server):
    s = make_server(extra=["--trusted-proxy", "127.0.0.1"])
    r = login_attempt(s, "someone", xff("203.0.113.77"))
    assert r.status_code == 401
    assert audit_source(s, r) == "203.0.113.77"
    assert s.stop() == 0
    line = [x for x in s.stderr().splitlines() if r.headers["X-Request-Id"] in x and '"type":"access"' in x]
    assert len(line) == 1 and json.loads(line[0])["remote"] == "203.0.113.77", line


def test_a_client_cannot_spoof_its_address_through_the_proxy(make_server):
    """The client's own X-Forwarded-For arrives at the left of what our proxy
    appends; only the rightmost untrusted entry is believed."""
    s = make_server(extra=["--trusted-proxy", "127.0.0.1", "--rate-limit-login-ip", "2/60"])
    for i in range(2):
        r = login_attempt(s, "a%d" % i, xff("10.%d.0.1, 198.51.100.1" % i))
        assert r.status_code == 401
    assert audit_source(s, r) == "198.51.100.1"
    assert_error(login_attempt(s, "a9", xff("6.6.6.6, 198.51.100.1")), 429, "client address")


def test_without_trusted_proxy_forwarded_headers_are_ignored(make_server):
    """Anyone can send X-Forwarded-For: believed from anyone, it would dodge
    every per-address limit and forge the audit trail."""
    s = make_server(extra=["--rate-limit-login-ip", "2/60"])
    for i in range(2):
        assert login_attempt(s, "a%d" % i, xff("198.51.100.%d" % i)).status_code == 401
    r = login_attempt(s, "a9", xff("198.51.100.99"))
    assert_error(r, 429, "client address")
    assert audit_source(s, r) == "127.0.0.1"


def test_an_untrusted_peer_cannot_spoof_even_when_proxies_are_configured(make_server):
    s = make_server(extra=["--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "fd00::/8",
                           "--rate-limit-login-ip", "1/60"])
    r = login_attempt(s, "a", xff("198.51.100.1"))
    assert r.status_code == 401 and audit_source(s, r) == "127.0.0.1"
    assert_error(login_attempt(s, "b", xff("198.51.100.2")), 429, "client address")


def test_a_chain_of_trusted_proxies_is_walked_right_to_left(make_server):
    s = make_server(extra=["--trusted-proxy", "127.0.0.1,10.0.0.0/8"])
    r = login_attempt(s, "a", {"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.1.2.3"})
    assert audit_source(s, r) == "198.51.100.7"
    # Several headers are one list (requests folds repeated headers: http.client does not).
    assert audit_source_of_raw(s, [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.8, 10.1.1.1"),
                                   ("X-Forwarded-For", "10.9.9.9")]) == "198.51.100.8"
    # Every entry trusted: the leftmost is the client.
    r = login_attempt(s, "c", xff("10.0.0.5, 10.0.0.6"))
    assert audit_source(s, r) == "10.0.0.5"
    # Entries with ports, and IPv6.
    r = login_attempt(s, "d", xff("[2001:db8::7]:51234, 10.0.0.6"))
    assert audit_source(s, r) == "2001:db8::7"
    # Garbage the proxy passed on ends the walk: the last trusted hop is what we know.
    r = login_attempt(s, "e", xff("198.51.100.9, unknown, 10.0.0.6"))
    assert audit_source(s, r) == "10.0.0.6"
    r = login_attempt(s, "f", xff("garbage"))
    assert audit_source(s, r) == "127.0.0.1"


def test_x_forwarded_proto_decides_the_secure_cookie_only_from_a_trusted_proxy(make_server):
    """TLS ends at the proxy: the session cookie must still be Secure, or a
    browser lured to http:// would send it in clear."""
    for extra, headers, secure in [
        (["--trusted-proxy", "127.0.0.1"], {"X-Forwarded-Proto": "https"}, True),
        (["--trusted-proxy", "127.0.0.1"], {"X-Forwarded-Proto": "HTTPS, http"}, True),
        (["--trusted-proxy", "127.0.0.1"], {"X-Forwarded-Proto": "http"}, False),
        (["--trusted-proxy", "127.0.0.1"], {}, False),
        ([], {"X-Forwarded-Proto": "https"}, False),
        (["--trusted-proxy", "10.0.0.0/8"], {"X-Forwarded-Proto": "https"}, False),
    ]:
        s = make_server(extra=extra)
        assert s.post("/v1/orgs", token=s.root_token, json={"name": "acme"}).status_code == 200
        assert s.post("/v1/orgs/acme/users", token=s.root_token,
                      json={"username": "alice", "email": "a@example.com", "role": "admin",
                            "password": PASSWORD}).status_code == 200
        r = s.post("/v1/auth/login", headers=headers, json={"org": "acme", "username": "alice", "password": PASSWORD})
        assert r.status_code == 200, r.text
        remember_secret(r.json()["token"])
        assert ("; Secure" in r.headers["Set-Cookie"]) == secure, (extra, headers, r.headers["Set-Cookie"])
        assert s.stop() == 0


def test_the_proxys_public_origin_is_the_servers_own(make_server):
    """A browser on https://<host> behind a TLS-terminating proxy sends
    Origin https://<host>; a trusted X-Forwarded-Proto makes that ours."""
    s = make_server(extra=["--trusted-proxy", "127.0.0.1"])
    host = s.url[len("http://"):]
    h = {"Cookie": "token=" + s.root_token, "Origin": "https://" + host, "X-Forwarded-Proto": "https"}
    r = s.post("/v1/tokens", headers=h, json={"description": "x"})
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])
    # Without the proxy's word, https://<host> is another origin.
    h.pop("X-Forwarded-Proto")
    assert_error(s.post("/v1/tokens", headers=h, json={"description": "x"}), 400, "cross-site")


def test_trusted_proxies_from_env_and_config_file(make_server, tmp_path):
    cfg = tmp_path / "lk.json"
    cfg.write_text(json.dumps({"trusted-proxy": ["10.0.0.0/8", "127.0.0.0/8"]}))
    s = make_server(extra=["--config", str(cfg)])
    r = login_attempt(s, "a", xff("198.51.100.3"))
    assert audit_source(s, r) == "198.51.100.3"
    s.env["LATCHKEY_TRUSTED_PROXY"] = "10.0.0.0/8"  # replaces the file's list: loopback no longer trusted
    s.restart()
    r = login_attempt(s, "b", xff("198.51.100.4"))
    assert audit_source(s, r) == "127.0.0.1"


@pytest.mark.parametrize("how", ["flag", "env", "file"])
@pytest.mark.parametrize("value", ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "nonsense", "fe80::1%eth0",
                                   "fd00::1/8", "10.0.0.0/8,", "300.0.0.0/8", "[::1]"])
def test_a_bad_trusted_proxy_is_refused_at_start(tmp_path, how, value):
    args = [BIN, "server", "--dev", "--data-dir", str(tmp_path / "d")]
    env = None
    if how == "flag":
        args += ["--trusted-proxy", value]
    elif how == "env":
        import os
        env = dict(os.environ, LATCHKEY_TRUSTED_PROXY=value)
    else:
        cfg = tmp_path / "lk.json"
        cfg.write_text(json.dumps({"trusted-proxy": value}))
        args += ["--config", str(cfg)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=20, env=env)
    assert r.returncode == 2, r.stderr
    assert "trusted-proxy" in r.stderr and "is not an address range" in r.stderr, r.stderr


def test_trusting_everyone_is_warned_about(make_server):
    s = make_server(extra=["--trusted-proxy", "0.0.0.0/0"])
    assert "every peer is trusted" in s.stderr()
