"""The API describing itself (docs/api-docs.md): GET /v1/openapi.json is
api/openapi.yaml, parsed; Swagger UI at /docs/ is served from the binary
with its content types, strong ETags and 304s, a strict
Content-Security-Policy, 404 for any other name and no way out of its
table; and a real browser (Debian's chromium, driven by npm's
playwright-core) authorizes with a token and runs "Try it out"."""
import gzip
import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

import requests
import yaml

from helpers import (ROOT, assert_error, create_org, create_user, dev_unseal_key, raw_exchange, token_for,
                     unseal, wait_for)

SWAGGER_UI = os.path.join(ROOT, "node_modules", "swagger-ui-dist")
STRONG_ETAG = re.compile(r'^"[A-Za-z0-9_-]{22}"$')
GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}

# Every file /docs/ serves, with its Content-Type; index.html is the page.
DOCS_FILES = {
    "index.html": "text/html; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "docs.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-16x16.png": "image/png",
    "favicon-32x32.png": "image/png",
    "LICENSE.txt": "text/plain; charset=utf-8",
    "NOTICE.txt": "text/plain; charset=utf-8",
    "swagger-ui-bundle.js.LICENSE.txt": "text/plain; charset=utf-8",
}


def get(server, path, headers=None, **kw):
    return requests.get(server.url + path, headers=headers or {}, timeout=10, **kw)


def spec_yaml():
    with open(os.path.join(ROOT, "api", "openapi.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_the_served_description_is_the_yaml_parsed(server):
    want = spec_yaml()
    for headers in (GZIP, PLAIN, {}):
        r = get(server, "/v1/openapi.json", headers)
        assert r.status_code == 200, r.text
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == want, headers
        assert r.headers["Cache-Control"] == "no-cache"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert STRONG_ETAG.match(r.headers["ETag"]), r.headers["ETag"]
    # Gzipped when asked for, plain otherwise; each form has its own ETag.
    z = requests.get(server.url + "/v1/openapi.json", headers=GZIP, timeout=10, stream=True)
    raw = z.raw.read(decode_content=False)
    assert z.headers["Content-Encoding"] == "gzip" and z.headers["Vary"] == "Accept-Encoding"
    assert int(z.headers["Content-Length"]) == len(raw)
    p = get(server, "/v1/openapi.json", PLAIN)
    assert "Content-Encoding" not in p.headers and int(p.headers["Content-Length"]) == len(p.content)
    assert gzip.decompress(raw) == p.content
    assert z.headers["ETag"] != p.headers["ETag"]
    # A request without Accept-Encoding (a plain curl) gets the plain form.
    status, headers, body = raw_exchange(server, b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == "HTTP/1.1 200 OK" and "Content-Encoding" not in headers
    assert body == p.content and headers["ETag"] == p.headers["ETag"]


def test_the_description_answers_304_to_its_etag(server):
    for enc in (GZIP, PLAIN):
        etag = get(server, "/v1/openapi.json", enc).headers["ETag"]
        for inm in (etag, "W/" + etag, '"other", ' + etag, "*"):
            r = get(server, "/v1/openapi.json", dict(enc, **{"If-None-Match": inm}))
            assert r.status_code == 304, (enc, inm, r.status_code)
            assert r.content == b"" and r.headers["ETag"] == etag and r.headers["Cache-Control"] == "no-cache"
            assert "Content-Type" not in r.headers and r.headers["X-Request-Id"]
        r = get(server, "/v1/openapi.json", dict(enc, **{"If-None-Match": '"other"'}))
        assert r.status_code == 200 and r.json()["openapi"].startswith("3.")
    # The other form's ETag is not this one's.
    gz = get(server, "/v1/openapi.json", GZIP).headers["ETag"]
    assert get(server, "/v1/openapi.json", dict(PLAIN, **{"If-None-Match": gz})).status_code == 200


def test_head_has_the_headers_of_get_and_no_body(server):
    for path in ("/v1/openapi.json", "/docs/", "/docs/swagger-ui.css"):
        g = get(server, path, PLAIN)
        h = requests.head(server.url + path, headers=PLAIN, timeout=10)
        assert h.status_code == 200 and h.content == b""
        for k in ("Content-Type", "Content-Length", "ETag", "Cache-Control"):
            assert h.headers[k] == g.headers[k], (path, k)
        assert int(h.headers["Content-Length"]) == len(g.content)


def test_docs_redirects_to_the_page(server):
    r = get(server, "/docs", allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"] == "docs/" and r.content == b""
    r = get(server, "/docs")
    assert r.status_code == 200 and r.url == server.url + "/docs/"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"


def test_the_page_has_a_strict_policy_and_no_inline_script(server):
    r = get(server, "/docs/")
    assert r.status_code == 200
    csp = {d.split()[0]: d.split()[1:] for d in r.headers["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'none'"]
    for d in ("script-src", "style-src", "connect-src"):
        assert csp[d] == ["'self'"], d
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert "unsafe" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    page = r.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs and body.strip() == "" for attrs, body in scripts), scripts
    assert "style=" not in page and "<style" not in page and "on" + "load=" not in page
    # Everything it loads is one of ours, relative, and served.
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and all("//" not in ref for ref in refs), refs
    for ref in refs:
        assert get(server, "/docs/" + ref).status_code == 200, ref
    # Swagger UI reads our document and nothing else (no outside validator,
    # no ?url= from the query string).
    js = get(server, "/docs/docs.js").text
    assert 'url: "../v1/openapi.json"' in js and "validatorUrl: null" in js and "queryConfigEnabled: false" in js


def test_every_file_has_its_type_etag_and_policy(server):
    csp = get(server, "/docs/").headers["Content-Security-Policy"]
    for name, ctype in DOCS_FILES.items():
        for enc in (GZIP, PLAIN):
            r = get(server, "/docs/" + name, enc)
            assert r.status_code == 200, (name, r.text)
            assert r.headers["Content-Type"] == ctype, name
            assert STRONG_ETAG.match(r.headers["ETag"]), (name, r.headers["ETag"])
            assert r.headers["Cache-Control"] == "no-cache"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Content-Security-Policy"] == csp
            again = get(server, "/docs/" + name, dict(enc, **{"If-None-Match": r.headers["ETag"]}))
            assert again.status_code == 304 and again.content == b"", name
            assert again.headers["ETag"] == r.headers["ETag"]


def test_swagger_ui_is_the_pinned_package_unchanged(server):
    with open(os.path.join(SWAGGER_UI, "package.json")) as f:
        pinned = json.load(f)["version"]
    with open(os.path.join(ROOT, "package.json")) as f:
        assert json.load(f)["devDependencies"]["swagger-ui-dist"] == pinned
    for name, source in [("swagger-ui-bundle.js", "swagger-ui-bundle.js"), ("swagger-ui.css", "swagger-ui.css"),
                         ("LICENSE.txt", "LICENSE"), ("favicon-32x32.png", "favicon-32x32.png")]:
        with open(os.path.join(SWAGGER_UI, source), "rb") as f:
            want = f.read()
        for enc in (GZIP, PLAIN):
            r = get(server, "/docs/" + name, enc)
            assert r.content == want, (name, enc)
        # Large text goes out gzipped to a client that takes it.
        if len(want) > 100000:
            z = requests.get(server.url + "/docs/" + name, headers=GZIP, timeout=10, stream=True)
            raw = z.raw.read(decode_content=False)
            assert z.headers["Content-Encoding"] == "gzip" and len(raw) < len(want) // 2, name


def test_plain_copies_are_made_once_under_concurrent_requests(server):
    """Clients that refuse gzip, all at once on a fresh server: both workers
    may inflate the same file at the same time; each answer is the file."""
    names = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE.txt"]
    want = {}
    for name, source in zip(names, ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"]):
        with open(os.path.join(SWAGGER_UI, source), "rb") as f:
            want[name] = f.read()

    def fetch(i):
        name = names[i % len(names)]
        r = requests.get(server.url + "/docs/" + name, headers=PLAIN, timeout=30)
        return name, r.status_code, r.headers.get("Content-Encoding"), r.content

    with ThreadPoolExecutor(12) as ex:
        for name, status, enc, body in ex.map(fetch, range(36)):
            assert (status, enc) == (200, None), name
            assert body == want[name], name


def test_unknown_names_answer_404_in_the_errors_shape(server):
    for name in ("nope.js", "swagger-ui-bundle.js.map", "swagger-ui-standalone-preset.js", "oauth2-redirect.html",
                 "index.css", "LICENSE", "meson.build", "api/openapi.yaml", "x/index.html", "INDEX.HTML",
                 "index.html.gz", "%20index.html", "swagger-ui.css%20"):
        r = get(server, "/docs/" + name)
        assert_error(r, 404, "no file /docs/")
        assert "ETag" not in r.headers and r.headers["Cache-Control"] == "no-store"
    # Only GET (and HEAD) are served.
    r = requests.post(server.url + "/docs/docs.js", timeout=10)
    assert_error(r, 405)
    assert r.headers["Allow"] == "GET"


def test_no_path_leaves_the_table(server):
    """Sent raw, so no client library tidies the path first. Every answer is
    an error in the usual shape: the dot-segments and their encodings are
    refused before routing (400), anything else is a name not in the table
    (404); none is a file."""
    refused = [  # 400: dot-segments, encoded '/', NUL, double encoding, overlong UTF-8
        "/docs/../v1/sys/health", "/docs/./index.html", "/docs/../../etc/passwd", "/docs/%2e%2e/api/openapi.yaml",
        "/docs/%2E%2E/%2E%2E/etc/passwd", "/docs/..%2f..%2fetc%2fpasswd", "/docs/%2e%2e%2fmeson.build",
        "/docs/%252e%252e/meson.build", "/docs/swagger-ui.css%00.js", "/docs/%c0%ae%c0%ae/meson.build",
        "/docs/index.html/..", "/docs/.%2e/meson.build",
    ]
    unknown = [  # 404: names that are simply not in the table
        "/docs/..%5c..%5cmeson.build", "/docs/..\\..\\meson.build", "/docs//etc/passwd", "/docs//index.html",
    ]
    for path, want in [(p, 400) for p in refused] + [(p, 404) for p in unknown]:
        status, headers, body = raw_exchange(
            server, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        assert int(status.split()[1]) == want, (path, status, body)
        assert headers.get("Content-Type") == "application/json", (path, headers)
        assert json.loads(body)["errors"], (path, body)


def test_the_docs_answer_while_sealed(server):
    root = server.root_token
    assert server.request("PUT", "/v1/sys/seal", token=root).status_code == 204
    try:
        assert get(server, "/v1/openapi.json").json() == spec_yaml()
        for path in ("/docs/", "/docs/docs.js", "/docs/swagger-ui-bundle.js"):
            assert get(server, path).status_code == 200, path
        assert_error(server.get("/v1/auth/whoami", token=root), 503, "sealed")
    finally:
        assert unseal(server, dev_unseal_key(server)).status_code == 200


def test_each_file_served_is_audited(server):
    r = get(server, "/docs/swagger-ui.css")
    rec = wait_for(server, r.headers["X-Request-Id"])
    assert (rec["action"], rec["method"], rec["resource"], rec["status"]) == ("docs.file", "GET",
                                                                              "/docs/swagger-ui.css", 200)
    r = get(server, "/v1/openapi.json", {"If-None-Match": "*"})
    assert r.status_code == 304
    rec = wait_for(server, r.headers["X-Request-Id"])
    assert (rec["action"], rec["status"], rec["outcome"]) == ("docs.openapi", 304, "success")


def test_swagger_ui_tries_whoami_with_a_token_in_a_browser(server, tmp_path):
    """Chromium opens /docs/, authorizes with a user's token ("bearer"),
    runs "Try it out" on GET /v1/auth/whoami and shows the 200 answer with
    the user in it; the page loads nothing from elsewhere, and its policy
    refuses nothing it does (but does refuse an inline script added after)."""
    create_org(server, "acme")
    create_user(server, "acme", "alice")
    tok = token_for(server, "acme", "alice")
    env = dict(os.environ, LATCHKEY_URL=server.url, LATCHKEY_TOKEN=tok, EXPECT_NAME="alice",
               SCREENSHOT=str(tmp_path / "swagger-ui.png"))
    script = os.path.join(ROOT, "tests", "docs", "swagger_ui.mjs")
    r = subprocess.run(["node", script], capture_output=True, text=True, env=env, timeout=90, cwd=ROOT)
    assert r.stdout.strip(), r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["problems"] == [], out
    assert out["page_status"] == 200 and out["title"].startswith("latchkey")
    assert out["authorization_sent"] == "Bearer <the token>"
    assert out["status_shown"] == "200"
    assert out["principal_shown"] == {"type": "user", "name": "alice", "org": "acme", "team": None}
    assert out["csp_refused"] == [] and out["inline_script_ran"] is False
    assert out["csp_refused_probe"] == ["script-src-elem inline"]
    assert "GET /v1/openapi.json" in out["requests"] and "GET /v1/auth/whoami" in out["requests"]
    assert all(p.split()[1].startswith(("/docs/", "/v1/")) for p in out["requests"]), out["requests"]
