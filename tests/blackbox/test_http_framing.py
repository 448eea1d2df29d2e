"""HTTP/1 request smuggling: a request whose body could be framed two ways
(Content-Length and Transfer-Encoding together, either of them twice, a
Transfer-Encoding other than "chunked", folded or bare-LF header lines, two
Host headers) answers 400 naming the fault, and its connection is closed, so
what the client sent after it on that connection is never served as a
request of its own. Spoken over raw sockets, since no HTTP library sends
these; each attack carries a second, smuggled request to a path of its own,
and the tests show it gets no answer, no access-log line and no audit
record."""
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import uuid

import pytest

from helpers import BIN, db, remember_secret

READ_TIMEOUT = 3


def connect(server):
    return socket.create_connection(server.address(), timeout=READ_TIMEOUT)


def read_answers(sock):
    """Every answer the server sends on sock, until it closes the connection
    or stays silent for READ_TIMEOUT seconds: (answers, closed), each answer
    (status, lower-case headers, body bytes)."""
    buf, closed = b"", False
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            buf += chunk
    except socket.timeout:
        pass
    except (ssl.SSLError, ConnectionResetError):
        closed = True  # a TLS peer may close without close_notify
    answers = []
    while b"\r\n\r\n" in buf:
        head, rest = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        answers.append((int(lines[0].split(" ")[1]), headers, rest[:n]))
        buf = rest[n:]
    return answers, closed


def exchange(server, data):
    with connect(server) as sock:
        sock.sendall(data)
        return read_answers(sock)


def smuggled():
    """A request to a path of its own, to look for in the log and the trail."""
    marker = "smuggled-" + uuid.uuid4().hex[:12]
    return marker, ("GET /v1/orgs/%s HTTP/1.1\r\nHost: x\r\n\r\n" % marker).encode()


def audit_resources(server):
    con = db(server)
    try:
        return [r[0] for r in con.execute("SELECT resource FROM audit")]
    finally:
        con.close()


def assert_refused_alone(server, data, marker, want):
    """data gets exactly one answer, a 400 naming want with the connection
    closed after it; the smuggled request (marker) leaves no trace."""
    answers, closed = exchange(server, data)
    assert len(answers) == 1, "expected one answer, got %d: %r" % (len(answers), answers)
    status, headers, body = answers[0]
    assert status == 400, (status, body)
    assert headers["content-type"] == "application/json" and headers.get("x-request-id")
    errors = json.loads(body)["errors"]
    assert any(want in e for e in errors), errors
    assert headers.get("connection") == "close", headers
    assert closed, "the connection stayed open after a badly framed request"
    return headers["x-request-id"]


def assert_never_served(server, marker, refused_ids):
    """Stops the server (flushing its access log), then looks for marker."""
    assert server.stop() == 0
    log = server.stderr()
    assert marker not in log, "the smuggled request reached the access log"
    for rid in refused_ids:
        assert '"request_id":"%s"' % rid in log
    resources = audit_resources(server)
    assert not any(marker in r for r in resources), "the smuggled request reached the audit trail"


def test_content_length_with_transfer_encoding_smuggles_nothing(make_server):
    """CL.TE / TE.CL: h2o frames by Transfer-Encoding, a proxy in front may
    frame by Content-Length; the body "0\\r\\n\\r\\nGET ..." is then one
    request for the proxy and two for latchkey."""
    s = make_server()
    marker, inner = smuggled()
    body = b"0\r\n\r\n" + inner
    ids = []
    for head in [
        b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(body),
        b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body),
        # The header names in any case are the same headers.
        b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\ncontent-LENGTH: %d\r\ntransfer-encoding: chunked\r\n\r\n"
        % len(body),
    ]:
        ids.append(assert_refused_alone(s, head + body, marker, "both Content-Length and Transfer-Encoding"))
    assert_never_served(s, marker, ids)


def test_duplicate_content_length_smuggles_nothing(make_server):
    """h2o frames by the first Content-Length; a proxy may take the last."""
    s = make_server()
    marker, inner = smuggled()
    ids = [
        assert_refused_alone(s, b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(inner) + inner,
                             marker, "Content-Length appears 2 times"),
        # Even equal values: there is no reason to send it twice.
        assert_refused_alone(s, b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                b"Content-Length: 2\r\n\r\n{}" + inner,
                             marker, "Content-Length appears 2 times"),
    ]
    assert_never_served(s, marker, ids)


@pytest.mark.parametrize("headers,want", [
    # h2o frames by the last of two; a proxy may take the first.
    (b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", "Transfer-Encoding appears 2 times"),
    # Folded: h2o sees "chunked", a proxy that unfolds "chunked identity".
    (b"Transfer-Encoding: chunked\r\n identity\r\n", "obsolete line folding"),
    (b"X-Pad: y\r\n\tTransfer-Encoding: chunked\r\n", "obsolete line folding"),
    (b"Transfer-Encoding: Chunked\r\n", 'Transfer-Encoding "Chunked" is not supported'),
    (b"Transfer-Encoding: chunked, identity\r\n", 'Transfer-Encoding "chunked, identity" is not supported'),
    (b"Transfer-Encoding: identity\r\n", 'Transfer-Encoding "identity" is not supported'),
    (b"Transfer-Encoding: chunked \r\n", 'Transfer-Encoding "chunked " is not supported'),
])
def test_transfer_encoding_other_than_chunked_smuggles_nothing(make_server, headers, want):
    s = make_server()
    marker, inner = smuggled()
    data = b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n0\r\n\r\n" + inner
    rid = assert_refused_alone(s, data, marker, want)
    assert_never_served(s, marker, [rid])


def test_transfer_encoding_on_http_1_0_smuggles_nothing(make_server):
    """HTTP/1.0 has no chunked coding; a 1.0 proxy reads to the end."""
    s = make_server()
    marker, inner = smuggled()
    data = (b"POST /v1/orgs/signup HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\n" + inner)
    rid = assert_refused_alone(s, data, marker, "not allowed in an HTTP/1.0 request")
    assert_never_served(s, marker, [rid])


def test_bare_lf_header_lines_smuggle_nothing(make_server):
    """h2o takes a lone LF as a line end; a proxy that wants CRLF sees one
    header "X: y\\nTransfer-Encoding: chunked" and no body framing."""
    s = make_server()
    marker, inner = smuggled()
    data = b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\nX: y\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + inner
    rid = assert_refused_alone(s, data, marker, "LF without CR")
    assert_never_served(s, marker, [rid])


def test_duplicate_or_missing_host_is_refused(make_server):
    """Two Host headers: h2o keeps the last, a proxy may route by the first."""
    s = make_server()
    marker, inner = smuggled()
    ids = [
        assert_refused_alone(s, b"GET /v1/sys/health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + inner, marker,
                             "Host appears 2 times"),
        assert_refused_alone(s, b"GET /v1/sys/health HTTP/1.1\r\n\r\n" + inner, marker, "needs a Host header"),
    ]
    assert_never_served(s, marker, ids)


def route_list():
    out = subprocess.run([BIN, "routes"], capture_output=True, text=True, check=True).stdout
    routes = []
    for line in out.splitlines():
        method, pattern, _ = line.split(" ")
        path = pattern
        while "{" in path:
            a, b = path.index("{"), path.index("}")
            path = path[:a] + "x" + path[b + 1:]
        routes.append((method, path))
    return routes


def test_every_route_refuses_a_smuggling_head_before_it_runs(make_server):
    """The check runs before routing, credentials and rate limits: no route
    answers such a request, whatever it is."""
    s = make_server()
    marker, inner = smuggled()
    ids = []
    body = b"0\r\n\r\n" + inner
    for method, path in route_list():
        data = ("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
                % (method, path, s.root_token, len(body))).encode() + body
        ids.append(assert_refused_alone(s, data, marker, "both Content-Length and Transfer-Encoding"))
    assert_never_served(s, marker, ids)


def test_h2o_own_refusal_names_the_framing_fault(make_server):
    """h2o refuses an unknown Transfer-Encoding itself, before any handler;
    that answer too names the framing fault, closes, and is recorded."""
    s = make_server()
    marker, inner = smuggled()
    data = b"POST /v1/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\n\r\n" + inner
    rid = assert_refused_alone(s, data, marker, "both Content-Length and Transfer-Encoding")
    assert_never_served(s, marker, [rid])
    con = sqlite3.connect(os.path.join(s.data_dir, "latchkey.db"), timeout=10)
    try:
        rows = con.execute("SELECT action, status FROM audit WHERE request_id = ?", (rid,)).fetchall()
    finally:
        con.close()
    assert rows == [("token.create", 400)]


def test_sound_framing_still_pipelines(server):
    """What is framed one way only keeps working: a chunked body, then a
    second request on the same connection; HTTP/1.0 without Host; one empty
    line before a request."""
    with connect(server) as sock:
        sock.sendall(b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
                     b"\r\nGET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers, closed = read_answers(sock)
    assert [a[0] for a in answers] == [400, 200], answers
    assert b"name" in answers[0][2]  # the body arrived: the handler complained about its content
    answers, _ = exchange(server, b"GET /v1/sys/health HTTP/1.0\r\n\r\n")
    assert [a[0] for a in answers] == [200]


def test_cleartext_h2c_upgrade_is_not_taken(server):
    """h2c would hand an HTTP/1 request, framed by HTTP/1 rules, to an
    HTTP/2 connection, past the framing check: cleartext stays HTTP/1.1."""
    r = subprocess.run(["curl", "-s", "--http2", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                        server.url + "/v1/sys/health"], capture_output=True, text=True, timeout=20)
    assert r.stdout == "1.1 200", r.stdout + r.stderr
    answers, closed = exchange(server, b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings"
                                       b"\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
    assert [a[0] for a in answers] == [200], answers


def test_http2_over_tls_still_carries_bodies(make_server, tls_files):
    """HTTP/2 frames bodies by its own frames: it is not checked, and works."""
    cert, key = tls_files
    s = make_server(extra=["--tls-cert", cert, "--tls-key", key])
    r = subprocess.run(["curl", "-s", "--http2", "--cacert", cert, "-H", "Authorization: Bearer " + s.root_token,
                        "-H", "Content-Type: application/json", "-d", '{"description":"over h2"}',
                        "-w", "\n%{http_version} %{http_code}", s.url + "/v1/tokens"],
                       capture_output=True, text=True, timeout=20)
    body, _, tail = r.stdout.rpartition("\n")
    assert tail == "2 200", r.stdout + r.stderr
    remember_secret(json.loads(body)["token"])
    # HTTP/1.1 over TLS is checked like cleartext.
    host, port = s.url.rsplit("/", 1)[1].rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=cert)
    ctx.set_alpn_protocols(["http/1.1"])
    marker, inner = smuggled()
    with socket.create_connection((host, int(port)), timeout=READ_TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            body = b"0\r\n\r\n" + inner
            tls.sendall(b"POST /v1/orgs/signup HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n" % len(body) + body)
            answers, closed = read_answers(tls)
    assert [a[0] for a in answers] == [400] and closed, answers
    assert_never_served(s, marker, [answers[0][1]["x-request-id"]])
