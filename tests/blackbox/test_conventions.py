"""API conventions on every route: /v1/ prefix, the errors envelope, status
codes, ?help=1, X-Request-Id, body limits, content type."""
import json
import socket
import time

import pytest

from helpers import Server, assert_error, db, raw_exchange, remember_secret

ROUTES = [
    ("GET", "/v1/sys/health", False),
    ("GET", "/v1/auth/whoami", True),
    ("POST", "/v1/tokens", True),
    ("GET", "/v1/tokens", True),
    ("GET", "/v1/tokens/lk_user_AAAAAAAAAAAA", True),
    ("DELETE", "/v1/tokens/lk_user_AAAAAAAAAAAA", True),
]


def test_health_needs_no_credentials(server):
    r = server.get("/v1/sys/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert body["status"] == "ok" and body["version"]


def test_every_response_has_a_unique_request_id(server):
    ids = set()
    for path in ["/v1/sys/health", "/v1/nope", "/v1/auth/whoami"]:
        r = server.get(path)
        rid = r.headers.get("X-Request-Id")
        assert rid, path
        ids.add(rid)
    assert len(ids) == 3


@pytest.mark.parametrize("path", ["/", "/v1", "/v1/", "/v1/nope", "/v2/sys/health", "/v1/tokens/a/b/c",
                                  "/v1/sys/health/extra", "/favicon.ico"])
def test_unknown_routes_answer_404_with_errors(server, path):
    r = server.get(path, token=server.root_token)
    assert_error(r, 404, "no route")


@pytest.mark.parametrize("method,path,allow", [
    ("PUT", "/v1/tokens", "GET, POST"),
    ("PATCH", "/v1/tokens/lk_user_AAAAAAAAAAAA", "GET, DELETE"),
    ("POST", "/v1/sys/health", "GET"),
    ("DELETE", "/v1/auth/whoami", "GET"),
    ("OPTIONS", "/v1/tokens", "GET, POST"),
])
def test_wrong_method_answers_405_with_allow(server, method, path, allow):
    r = server.request(method, path, token=server.root_token)
    assert_error(r, 405, "not allowed")
    assert r.headers["Allow"] == allow


def test_trailing_slash_names_the_same_route(server):
    assert server.get("/v1/sys/health/").status_code == 200


@pytest.mark.parametrize("method,path,auth", ROUTES)
def test_help_on_every_route(server, method, path, auth):
    r = server.request(method, path + "?help=1", token=server.root_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body["help"], str) and len(body["help"]) > 20


@pytest.mark.parametrize("method,path,auth", [r for r in ROUTES if r[2]])
def test_help_needs_the_same_credentials_as_the_route(server, method, path, auth):
    r = server.request(method, path + "?help=1")
    assert_error(r, 401, "missing credentials")


def test_help_on_unknown_route_is_404(server):
    assert_error(server.get("/v1/nope?help=1", token=server.root_token), 404)


@pytest.mark.parametrize("body,msg", [
    (b"{", "not valid JSON"),
    (b"{\"description\": }", "not valid JSON"),
    (b"[1,2]", "must be a JSON object"),
    (b"\"str\"", "must be a JSON object"),
    (b"{\"a\":1,\"a\":2}", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
])
def test_malformed_json_is_400(server, body, msg):
    r = server.post("/v1/tokens", token=server.root_token, data=body,
                    headers={"Content-Type": "application/json"})
    assert_error(r, 400, msg)


@pytest.mark.parametrize("field,value,msg", [
    ("description", 5, "description: expected a string"),
    ("expires", 30, "expires: expected a string"),
    ("expiry_hours", "24", "expiry_hours: expected an integer"),
    ("expiry_hours", 1.5, "expiry_hours: expected an integer"),
    ("policies", "tokens.view", "policies: expected an array"),
    ("policies", [1], "policies[0]: expected a string"),
    ("nonsense", 1, "unknown field \"nonsense\""),
])
def test_wrong_field_types_are_400_naming_the_field(server, field, value, msg):
    r = server.post("/v1/tokens", token=server.root_token, json={field: value})
    assert_error(r, 400, msg)


def test_no_body_field_keeps_a_pasted_token(server):
    """A whole token in any string field of a body (a description, a display
    name, a login name) is refused: it would be kept in plain text and shown
    to others. The error names the field and the token's public id only."""
    t = server.create_token(description="the pasted one")
    tok, pubid = remember_secret(t["token"]), t["id"]
    root = server.root_token
    attempts = [
        ("POST", "/v1/tokens", {"description": "ci token " + tok}, "description"),
        ("POST", "/v1/orgs", {"name": "pasty", "display_name": "Pasty " + tok}, "display_name"),
        ("POST", "/v1/auth/login", {"org": "pasty", "username": tok, "password": "whatever it is"}, "username"),
    ]
    for method, path, body, field in attempts:
        r = server.request(method, path, token=root if path != "/v1/auth/login" else None, json=body)
        assert_error(r, 400, field)
        assert pubid + "_..." in r.text and tok not in r.text and tok[len(pubid) + 1:] not in r.text
    listed = server.get("/v1/tokens", token=root).text
    assert tok not in listed and server.get("/v1/orgs/pasty", token=root).status_code == 404
    # A typo in the checksum leaves the secret in it: refused as well.
    typo = tok[:-1] + ("A" if tok[-1] != "A" else "B")
    assert_error(server.post("/v1/tokens", token=root, json={"description": typo}), 400, "description")
    # A public id is ordinary text.
    r = server.post("/v1/tokens", token=root, json={"description": "replaces " + pubid})
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])


def test_wrong_content_type_is_400(server):
    r = server.post("/v1/tokens", token=server.root_token, data="description=x",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert_error(r, 400, "Content-Type")


def test_body_over_the_limit_is_413(make_server):
    s = make_server(extra=["--max-body", "2048"])
    big = json.dumps({"description": "x" * 4000})
    r = s.post("/v1/tokens", token=s.root_token, data=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413, "exceeds the limit of 2048 bytes")
    # The server is still up and the limit is about size, not content.
    assert s.get("/v1/sys/health").status_code == 200
    assert s.post("/v1/tokens", token=s.root_token, json={"description": "ok"}).status_code == 200


def recorded_as(server, request_id):
    """(action, method, status, outcome) of each audit record of request_id."""
    con = db(server)
    try:
        return con.execute("SELECT action, method, status, outcome FROM audit WHERE request_id = ?",
                           (request_id,)).fetchall()
    finally:
        con.close()


def test_far_oversize_and_badly_framed_bodies_get_the_envelope_and_a_record(make_server):
    """h2o refuses these itself, before any handler runs and before buffering
    the body (a declared length far over --max-body, broken framing); they
    still answer like every other refusal (errors envelope, exact
    Content-Type, X-Request-Id, access log) and leave an audit record."""
    s = make_server(extra=["--max-body", "2048"])
    # Declared 3 MiB (over the limit plus h2o's 1 MiB of slack): refused on
    # the header alone.
    status, headers, body = raw_exchange(s, b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                            b"Content-Length: 3145728\r\n\r\n")
    assert status.startswith("HTTP/1.1 413"), status
    assert headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    assert json.loads(body) == {"errors": ["request body exceeds the limit of 2048 bytes"]}
    far_id = headers["X-Request-Id"]
    # Broken framing.
    status, headers, body = raw_exchange(s, b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                            b"Content-Type: application/json\r\n\r\nzz\r\n\r\n")
    assert status.startswith("HTTP/1.1 400"), status
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"errors": ["invalid request: broken chunked-encoding"]}
    chunk_id = headers["X-Request-Id"]
    status, headers, body = raw_exchange(s, b"POST /v1/orgs HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n")
    assert status.startswith("HTTP/1.1 400") and json.loads(body)["errors"][0].startswith("invalid request:")
    len_id = headers["X-Request-Id"]
    assert len({far_id, chunk_id, len_id}) == 3
    # The server is still up, and every one of them is in the trail and the access log.
    assert s.get("/v1/sys/health").status_code == 200
    assert s.stop() == 0
    assert recorded_as(s, far_id) == [("token.create", "POST", 413, "error")]
    assert recorded_as(s, chunk_id) == [("token.create", "POST", 400, "error")]
    assert recorded_as(s, len_id) == [("org.create", "POST", 400, "error")]
    log = s.stderr()
    assert all('"request_id":"%s"' % i in log for i in (far_id, chunk_id, len_id))


def test_default_body_limit_is_one_mebibyte(server):
    big = b"{\"description\": \"" + b"x" * (1 << 20) + b"\"}"
    r = server.post("/v1/tokens", token=server.root_token, data=big, headers={"Content-Type": "application/json"})
    assert_error(r, 413)


def test_slow_client_is_cut_off(make_server):
    s = make_server(extra=["--request-timeout", "1"])
    host, port = s.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n")  # never finishes the headers
    sock.settimeout(5)
    t0 = time.time()
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pytest.fail("server kept a half-sent request open for 5s with a 1s timeout")
    assert time.time() - t0 < 4.5
    sock.close()
    assert s.get("/v1/sys/health").status_code == 200


def test_content_type_is_exactly_application_json(server):
    for r in [server.get("/v1/sys/health"), server.get("/v1/nope"),
              server.get("/v1/auth/whoami", token=server.root_token)]:
        assert r.headers["Content-Type"] == "application/json"


def test_responses_are_not_cacheable(server):
    r = server.get("/v1/auth/whoami", token=server.root_token)
    assert r.headers["Cache-Control"] == "no-store"


def test_idle_keepalive_connection_is_closed(make_server):
    s = make_server(extra=["--request-timeout", "1"])
    host, port = s.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    first = sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200")
    t0 = time.time()
    try:
        rest = sock.recv(65536)  # the server closes the idle connection
    except socket.timeout:
        pytest.fail("idle keep-alive connection still open after 5s with a 1s timeout")
    assert rest == b""
    assert time.time() - t0 < 4.5
    sock.close()


def test_http2_over_tls_is_offered(tmp_path, tls_files):
    import subprocess
    cert, key = tls_files
    s = Server(str(tmp_path), extra=["--tls-cert", cert, "--tls-key", key]).start()
    try:
        r = subprocess.run(["curl", "-s", "--http2", "--cacert", cert, "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                            s.url + "/v1/sys/health"], capture_output=True, text=True, timeout=10)
        assert r.stdout == "2 200", r.stdout + r.stderr
    finally:
        assert s.stop() == 0
