"""Canonical input: what a client sends means one thing only.

- A path segment that decodes to '/', NUL or a control character, a dot
  segment, a second layer of percent-encoding or bytes that are not UTF-8
  answers 400 before routing: "acme%2fusers" and "acme%00x" no longer reach
  acme, and "%2e%2e" no longer reaches another resource.
- A token wrapped in any number of layers of percent-encoding is never
  written down: not in the access log, not in the audit trail.
- No answer and no log line carries bytes that are not UTF-8, and what is
  echoed is cut between characters.
- Every integer a request carries is range-checked before arithmetic: a
  cursor at INT64_MAX no longer wraps round."""
import http.client
import json
import os
import socket

import pytest

from helpers import assert_error, audit_rows, create_org, create_user, remember_secret


def raw_get(server, path, token=None, method="GET", headers=None):
    """Sends path exactly as given (no client-side normalisation); returns
    (status, body bytes, headers)."""
    con = http.client.HTTPConnection(*server.address(), timeout=10)
    try:
        con.putrequest(method, path, skip_accept_encoding=True)
        if token is not None:
            con.putheader("Authorization", "Bearer " + token)
        for k, v in (headers or {}).items():
            con.putheader(k, v)
        con.endheaders()
        r = con.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        con.close()


def raw_bytes(server, data):
    """Sends data on a connection of its own and returns the first answer's
    (status, body bytes)."""
    with socket.create_connection(server.address(), timeout=10) as sock:
        sock.sendall(data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        n = int([l.split(b":", 1)[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
        while len(rest) < n:
            rest += sock.recv(65536)
    return int(head.split(b" ")[1]), rest[:n]


def errors_of(body):
    """The errors of an answer that must be UTF-8 JSON (raises otherwise)."""
    text = body.decode("utf-8")  # strict: a raw 0xE9 fails here
    return json.loads(text)["errors"]


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin", email="alice@acme.example")
    return server


# --- paths ------------------------------------------------------------------

@pytest.mark.parametrize("path,want", [
    # An encoded '/': "acme%2fusers" decoded to acme's user list.
    ("/v1/orgs/acme%2fusers", "segment 3 holds an encoded '/'"),
    ("/v1/orgs/acme%2Fusers/alice", "encoded '/'"),
    # An encoded NUL cut the name short: "acme%00x" read acme.
    ("/v1/orgs/acme%00x", "segment 3 holds a control character"),
    ("/v1/orgs/acme%0a", "control character"),
    ("/v1/orgs/acme%1b%5b2J", "control character"),
    ("/v1/orgs/acme%7f", "control character"),
    # Dot segments, encoded or not, named another resource.
    ("/v1/orgs/%2e%2e/tokens", "segment 3 is '.' or '..'"),
    ("/v1/orgs/acme/users/..", "'.' or '..'"),
    ("/v1/orgs/acme/../../tokens", "'.' or '..'"),
    ("/v1/orgs/./acme", "'.' or '..'"),
    # A second layer of encoding, and escapes that are not escapes.
    ("/v1/orgs/acm%2565", "percent-encoded twice"),
    ("/v1/orgs/ac%zzme", "not followed by two hex digits"),
    # Bytes that are not UTF-8.
    ("/v1/orgs/ac%FFme", "segment 3 is not valid UTF-8"),
    ("/v%E91/orgs", "segment 1 is not valid UTF-8"),
])
def test_non_canonical_path_does_not_reach_a_resource(acme, path, want):
    status, body, _ = raw_get(acme, path, token=acme.root_token)
    assert status == 400, (status, body)
    errors = errors_of(body)
    assert any(want in e for e in errors), errors


def test_encoded_slash_and_nul_no_longer_read_acme(acme):
    """The two the issue names, against what they used to answer."""
    status, body, _ = raw_get(acme, "/v1/orgs/acme%00x", token=acme.root_token)
    assert status == 400 and b"org_" not in body, body
    status, body, _ = raw_get(acme, "/v1/orgs/acme%2fusers", token=acme.root_token)
    assert status == 400 and b"alice" not in body, body
    # The canonical spellings still work, one layer of encoding included.
    assert raw_get(acme, "/v1/orgs/acme", token=acme.root_token)[0] == 200
    assert raw_get(acme, "/v1/orgs/%61cme/users/alice", token=acme.root_token)[0] == 200


def test_raw_high_bytes_in_a_path_are_refused(acme):
    status, body = raw_bytes(acme, b"GET /v1/orgs/ac\xffme HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                   + acme.root_token.encode() + b"\r\n\r\n")
    assert status == 400 and "not valid UTF-8" in errors_of(body)[0]


# --- tokens under layers of encoding ---------------------------------------

def encode_underscores(tok, layers):
    enc = "%5F"
    for _ in range(layers - 1):
        enc = enc.replace("%", "%25")
    return tok.replace("_", enc)


@pytest.mark.parametrize("layers", [2, 3, 5])
def test_token_encoded_several_times_in_a_path_is_never_written_down(server, layers):
    t = server.create_token(description="wrapped")
    tok, pubid = remember_secret(t["token"]), t["id"]
    secret = tok[len(pubid) + 1:]
    wrapped = encode_underscores(tok, layers)
    status, body, headers = raw_get(server, "/v1/tokens/" + wrapped, token=server.root_token)
    assert status == 400 and "percent-encoded twice" in errors_of(body)[0], body
    assert secret.encode() not in body
    rid = headers["X-Request-Id"]
    # Also where nothing decodes it: a User-Agent.
    r = server.get("/v1/auth/whoami", token=server.root_token, headers={"User-Agent": "tool/1 " + wrapped})
    assert r.status_code == 200
    ua_rid = r.headers["X-Request-Id"]
    assert server.stop() == 0
    log = server.stderr()
    rec = audit_rows(server, "request_id = ?", (rid,))
    ua = audit_rows(server, "request_id = ?", (ua_rid,))
    assert len(rec) == 1 and rec[0]["status"] == 400
    assert rec[0]["resource"] == "/v1/tokens/%s_[redacted]" % pubid, rec[0]["resource"]
    assert ua[0]["user_agent"] == "tool/1 %s_[redacted]" % pubid, ua[0]["user_agent"]
    assert "/v1/tokens/%s_[redacted]" % pubid in log
    everything = log + json.dumps(audit_rows(server), default=str)
    assert secret not in everything and wrapped not in everything
    for name in os.listdir(server.data_dir):
        if name.startswith("latchkey.db"):
            with open(os.path.join(server.data_dir, name), "rb") as f:
                assert secret.encode() not in f.read(), name


# --- no raw bytes in answers or logs ---------------------------------------

def all_log_lines_are_utf8_json(server):
    assert server.stop() == 0
    for name in sorted(os.listdir(server.tmp)):
        if not name.startswith("stderr."):
            continue
        with open(os.path.join(server.tmp, name), "rb") as f:
            for line in f:
                json.loads(line.decode("utf-8"))


def test_no_route_answer_never_carries_raw_bytes(server):
    # A path byte that is not UTF-8 used to come back raw: "no route GET /v<0xE9>1/orgs".
    status, body, _ = raw_get(server, "/v%E91/orgs")
    assert status == 400
    errors_of(body)
    # A method byte: h2o takes any byte above 0x7F in a method.
    status, body = raw_bytes(server, b"G\xe9T /v1/tokens HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 405, body
    assert errors_of(body) == ["method G\\xe9T is not allowed on /v1/tokens; allowed: GET, POST"]
    # A C1 control (CSI) is valid UTF-8 but acts on terminals: shown as bytes.
    status, body = raw_bytes(server, b"G\xc2\x9b2JT /v1/tokens HTTP/1.1\r\nHost: x\r\n\r\n")
    assert errors_of(body)[0].startswith("method G\\xc2\\x9b2JT is not allowed")
    all_log_lines_are_utf8_json(server)


def test_unknown_field_echo_is_cut_between_characters(server):
    """The name used to be cut at 64 bytes, inside the 32nd 'é' here, and
    the answer was not UTF-8 (so not JSON)."""
    key = "a" + "é" * 40
    r = server.post("/v1/tokens", token=server.root_token, data=json.dumps({key: 1}, ensure_ascii=False).encode(),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert errors_of(r.content) == ['unknown field "a%s..."' % ("é" * 31)]
    all_log_lines_are_utf8_json(server)


def test_not_found_echo_is_cut_between_characters(acme):
    name = "a" + "é" * 40
    path = "/v1/orgs/" + "".join("%%%02X" % b for b in name.encode())
    status, body, _ = raw_get(acme, path, token=acme.root_token)
    assert status == 404
    assert errors_of(body) == ["no organisation a%s..." % ("é" * 31)]
    status, body, _ = raw_get(acme, "/v1/orgs/acme/teams/" + path.rsplit("/", 1)[1], token=acme.root_token)
    assert status == 404
    assert errors_of(body) == ["no team a%s... in organisation acme" % ("é" * 31)]


# --- integers ---------------------------------------------------------------

@pytest.mark.parametrize("path", [
    # Used to wrap: seq > INT64_MAX + 1 read from the start of the trail.
    "/v1/audit?cursor=s9223372036854775807&order=asc",
    "/v1/orgs/acme/audit?cursor=s9223372036854775807&order=asc",
    "/v1/audit?cursor=s9223372036854775807",
    "/v1/audit?cursor=s4611686018427387905",
    "/v1/audit?cursor=s99999999999999999999",
    "/v1/audit?cursor=s-1",
    "/v1/tokens?cursor=s9223372036854775807",
    "/v1/orgs?cursor=s9223372036854775807",
    "/v1/orgs/acme/users?cursor=s9223372036854775807",
])
def test_cursor_past_its_range_is_refused_not_wrapped(acme, path):
    r = acme.get(path, token=acme.root_token)
    assert_error(r, 400, "cursor")


@pytest.mark.parametrize("path", [
    "/v1/audit?limit=9223372036854775807",
    "/v1/audit?limit=-1",
    "/v1/tokens?limit=4294967297",
])
def test_limit_past_its_range_is_refused(acme, path):
    assert_error(acme.get(path, token=acme.root_token), 400, "limit")


@pytest.mark.parametrize("route,body,field", [
    ("/v1/tokens", {"expiry_hours": 9223372036854775807}, "expiry_hours"),
    ("/v1/tokens", {"expiry_hours": -9223372036854775808}, "expiry_hours"),
    ("/v1/tokens", {"expiry_hours": 2562047788015215}, "expiry_hours"),  # * 3600 would pass INT64_MAX
    ("/v1/orgs/acme/settings", {"token_expiry_hours": 9223372036854775807}, "token_expiry_hours"),
    ("/v1/orgs/acme/users/alice", {"token_expiry_hours": 9223372036854775807}, "token_expiry_hours"),
])
def test_request_integers_past_their_range_are_refused(acme, route, body, field):
    """Range-checked before any arithmetic (these were already; kept here
    so the class stays closed)."""
    method = "POST" if route == "/v1/tokens" else "PATCH"
    r = acme.request(method, route, token=acme.root_token, json=body)
    assert_error(r, 400, field)


def test_rotation_grace_past_its_range_is_refused(acme):
    t = acme.create_token(description="rotate")
    remember_secret(t["token"])
    for grace in (9223372036854775807, -9223372036854775808, -1):
        r = acme.post("/v1/tokens/%s/rotate" % t["id"], token=acme.root_token, json={"grace_seconds": grace})
        assert_error(r, 400, "grace_seconds")
