"""GraphiQL at /graphiql/ (docs/api-docs.md, "GraphiQL"): served from the
binary with its content types, strong ETags and 304s, HEAD, a strict
Content-Security-Policy, 404 for any other name and no way out of its
table; the files are the pinned npm packages' own; and a real browser
(Debian's chromium, driven by npm's playwright-core) runs { me { name } }
against /graphql with a token in GraphiQL's Headers editor, and again with
the session cookie of a password login, and once more behind a proxy that
mounts latchkey under a path prefix."""
import json
import os
import re
import shutil
import subprocess
import time

import pytest
import requests

from helpers import (PASSWORD, ROOT, assert_error, create_org, create_user, dev_unseal_key, raw_exchange, token_for,
                     unseal, wait_for)
from notice_harness import free_port

NODE_MODULES = os.path.join(ROOT, "node_modules")
STRONG_ETAG = re.compile(r'^"[A-Za-z0-9_-]{22}"$')
GZIP = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# Every file /graphiql/ serves, with its Content-Type; index.html is the page.
GRAPHIQL_FILES = {
    "index.html": "text/html; charset=utf-8",
    "graphiql-init.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "graphiql.min.js": "text/javascript; charset=utf-8",
    "graphiql.min.css": "text/css; charset=utf-8",
    "react.production.min.js": "text/javascript; charset=utf-8",
    "react-dom.production.min.js": "text/javascript; charset=utf-8",
    "LICENSE-graphiql.txt": "text/plain; charset=utf-8",
    "LICENSE-react.txt": "text/plain; charset=utf-8",
    "LICENSE-react-dom.txt": "text/plain; charset=utf-8",
}

# Served name -> (npm package, file in it): the bytes must be the package's.
PINNED = {
    "graphiql.min.js": ("graphiql", "graphiql.min.js"),
    "graphiql.min.css": ("graphiql", "graphiql.min.css"),
    "react.production.min.js": ("react", "umd/react.production.min.js"),
    "react-dom.production.min.js": ("react-dom", "umd/react-dom.production.min.js"),
    "LICENSE-graphiql.txt": ("graphiql", "LICENSE"),
    "LICENSE-react.txt": ("react", "LICENSE"),
    "LICENSE-react-dom.txt": ("react-dom", "LICENSE"),
}


def get(server, path, headers=None, **kw):
    return requests.get(server.url + path, headers=headers or {}, timeout=10, **kw)


def policy(header):
    return {d.split()[0]: d.split()[1:] for d in header.split("; ")}


def test_graphiql_redirects_to_the_page(server):
    r = get(server, "/graphiql", allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"] == "graphiql/" and r.content == b""
    r = get(server, "/graphiql")
    assert r.status_code == 200 and r.url == server.url + "/graphiql/"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"


def test_the_page_has_a_strict_policy_and_no_inline_script(server):
    r = get(server, "/graphiql/")
    assert r.status_code == 200
    csp = policy(r.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    for d in ("script-src", "style-src", "connect-src"):
        assert csp[d] == ["'self'"], d
    # GraphiQL's style sheet embeds its fonts and a few images as data: URLs.
    assert csp["font-src"] == ["'self'", "data:"] and csp["img-src"] == ["'self'", "data:"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'none'"]
    assert "unsafe" not in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    page = r.text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="' in attrs and body.strip() == "" for attrs, body in scripts), scripts
    assert "style=" not in page and "<style" not in page and "on" + "load=" not in page
    # Everything it loads is one of ours, relative, and served (the icon is
    # an empty data: URL, so the browser asks for no /favicon.ico).
    refs = [ref for ref in re.findall(r'(?:src|href)="([^"]+)"', page) if ref != "data:,"]
    assert refs and all("//" not in ref for ref in refs), refs
    for ref in refs:
        if ref == "../graphql":  # the <noscript> pointer to the endpoint
            continue
        assert get(server, "/graphiql/" + ref).status_code == 200, ref
    # React before ReactDOM before GraphiQL (its UMD build takes both as
    # globals) before our starter.
    srcs = [re.search(r'src="([^"]+)"', attrs).group(1) for attrs, _ in scripts]
    assert srcs == ["react.production.min.js", "react-dom.production.min.js", "graphiql.min.js", "graphiql-init.js"]


def test_the_starter_talks_to_this_origins_graphql_only(server):
    js = get(server, "/graphiql/graphiql-init.js").text
    # Relative to the page, so a path prefix in front of latchkey holds.
    assert 'new URL("../graphql", document.baseURI)' in js
    assert 'credentials: "same-origin"' in js and 'method: "POST"' in js
    assert "shouldPersistHeaders: false" in js and "storage: storage" in js
    assert "http://" not in js and "https://" not in js


def test_every_file_has_its_type_etag_and_policy(server):
    csp = get(server, "/graphiql/").headers["Content-Security-Policy"]
    for name, ctype in GRAPHIQL_FILES.items():
        for enc in (GZIP, PLAIN):
            r = get(server, "/graphiql/" + name, enc)
            assert r.status_code == 200, (name, r.text)
            assert r.headers["Content-Type"] == ctype, name
            assert STRONG_ETAG.match(r.headers["ETag"]), (name, r.headers["ETag"])
            assert r.headers["Cache-Control"] == "no-cache"
            assert r.headers["X-Content-Type-Options"] == "nosniff"
            assert r.headers["Content-Security-Policy"] == csp
            again = get(server, "/graphiql/" + name, dict(enc, **{"If-None-Match": r.headers["ETag"]}))
            assert again.status_code == 304 and again.content == b"", name
            assert again.headers["ETag"] == r.headers["ETag"] and again.headers["Cache-Control"] == "no-cache"
            for inm in ("W/" + r.headers["ETag"], '"other", ' + r.headers["ETag"], "*"):
                assert get(server, "/graphiql/" + name, dict(enc, **{"If-None-Match": inm})).status_code == 304
            assert get(server, "/graphiql/" + name, dict(enc, **{"If-None-Match": '"other"'})).status_code == 200


def test_head_has_the_headers_of_get_and_no_body(server):
    for path in ("/graphiql/", "/graphiql/graphiql.min.js", "/graphiql/page.css"):
        for enc in (GZIP, PLAIN):
            g = requests.get(server.url + path, headers=enc, timeout=10, stream=True)
            body = g.raw.read(decode_content=False)
            h = requests.head(server.url + path, headers=enc, timeout=10)
            assert h.status_code == 200 and h.content == b""
            for k in ("Content-Type", "Content-Length", "ETag", "Cache-Control", "Content-Security-Policy"):
                assert h.headers[k] == g.headers[k], (path, k)
            assert h.headers.get("Content-Encoding") == g.headers.get("Content-Encoding"), path
            assert int(h.headers["Content-Length"]) == len(body)


def test_the_files_are_the_pinned_packages_unchanged(server):
    with open(os.path.join(ROOT, "package.json")) as f:
        pins = json.load(f)["devDependencies"]
    for pkg in ("graphiql", "react", "react-dom"):
        with open(os.path.join(NODE_MODULES, pkg, "package.json")) as f:
            assert json.load(f)["version"] == pins[pkg], pkg
    assert pins["graphiql"].startswith("4.") and pins["react"].startswith("18.") and pins["react-dom"] == pins["react"]
    for name, (pkg, source) in PINNED.items():
        with open(os.path.join(NODE_MODULES, pkg, source), "rb") as f:
            want = f.read()
        for enc in (GZIP, PLAIN):
            r = get(server, "/graphiql/" + name, enc)
            assert r.content == want, (name, enc)
        # Large text goes out gzipped to a client that takes it.
        if len(want) > 100000:
            z = requests.get(server.url + "/graphiql/" + name, headers=GZIP, timeout=10, stream=True)
            raw = z.raw.read(decode_content=False)
            assert z.headers["Content-Encoding"] == "gzip" and z.headers["Vary"] == "Accept-Encoding", name
            assert len(raw) < len(want) * 9 // 10, name
            assert z.headers["ETag"] != get(server, "/graphiql/" + name, PLAIN).headers["ETag"], name
    # Ours, from web/graphiql, byte for byte.
    for name in ("index.html", "graphiql-init.js", "page.css"):
        with open(os.path.join(ROOT, "web", "graphiql", name), "rb") as f:
            assert get(server, "/graphiql/" + name).content == f.read(), name


def test_unknown_names_answer_404_in_the_errors_shape(server):
    for name in ("nope.js", "graphiql.min.js.map", "graphiql.js", "dist/index.umd.js", "LICENSE", "index.css",
                 "react.development.js", "swagger-ui-bundle.js", "docs.js", "meson.build", "INDEX.HTML",
                 "index.html.gz", "%20index.html", "page.css%20", "x/index.html"):
        r = get(server, "/graphiql/" + name)
        assert_error(r, 404, "no file /graphiql/")
        assert "ETag" not in r.headers and r.headers["Cache-Control"] == "no-store"
    # The mounts do not share files: Swagger UI's are not here, nor these there.
    assert_error(get(server, "/docs/graphiql.min.js"), 404, "no file /docs/")
    # Only GET (and HEAD) are served.
    for method in ("POST", "PUT", "DELETE"):
        r = requests.request(method, server.url + "/graphiql/graphiql-init.js", timeout=10)
        assert_error(r, 405)
        assert r.headers["Allow"] == "GET"


def test_no_path_leaves_the_table(server):
    """Sent raw, so no client library tidies the path first: dot-segments
    and their encodings are refused before routing (400); other names are
    simply not in the table (404)."""
    refused = ["/graphiql/../v1/sys/health", "/graphiql/./index.html", "/graphiql/%2e%2e/meson.build",
               "/graphiql/..%2f..%2fetc%2fpasswd", "/graphiql/%252e%252e/meson.build", "/graphiql/page.css%00.js",
               "/graphiql/%c0%ae%c0%ae/meson.build"]
    unknown = ["/graphiql/..%5cmeson.build", "/graphiql//etc/passwd", "/graphiql//index.html"]
    for path, want in [(p, 400) for p in refused] + [(p, 404) for p in unknown]:
        status, headers, body = raw_exchange(
            server, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        assert int(status.split()[1]) == want, (path, status, body)
        assert headers.get("Content-Type") == "application/json", (path, headers)
        assert json.loads(body)["errors"], (path, body)


def test_the_page_answers_while_sealed_and_is_audited(server):
    root = server.root_token
    assert server.request("PUT", "/v1/sys/seal", token=root).status_code == 204
    try:
        for path in ("/graphiql/", "/graphiql/graphiql-init.js", "/graphiql/graphiql.min.js"):
            assert get(server, path).status_code == 200, path
    finally:
        assert unseal(server, dev_unseal_key(server)).status_code == 200
    r = get(server, "/graphiql/page.css")
    rec = wait_for(server, r.headers["X-Request-Id"])
    assert (rec["action"], rec["method"], rec["resource"], rec["status"]) == ("docs.graphiql.file", "GET",
                                                                              "/graphiql/page.css", 200)
    r = get(server, "/graphiql/", {"If-None-Match": "*"})
    assert r.status_code == 304
    rec = wait_for(server, r.headers["X-Request-Id"])
    assert (rec["action"], rec["status"], rec["outcome"]) == ("docs.graphiql", 304, "success")


def run_browser(server, tmp_path, name, url=None, **env):
    if not shutil.which(CHROMIUM):
        pytest.skip("no Chromium at %s (scripts/deps.sh installs Debian's chromium)" % CHROMIUM)
    env = dict(os.environ, LATCHKEY_URL=url or server.url, SCREENSHOT=str(tmp_path / ("graphiql-%s.png" % name)),
               **env)
    script = os.path.join(ROOT, "tests", "docs", "graphiql.mjs")
    r = subprocess.run(["node", script], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert r.stdout.strip(), r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["problems"] == [], "problems: %s\nall: %s" % (out["problems"], out)
    assert out["page_status"] == 200 and out["title"] == "latchkey GraphiQL" and out["logo"] == "latchkey GraphiQL"
    assert "Bearer lk_..." in out["help_shown"] and "/v1/auth/login" in out["help_shown"]
    # The schema, read by introspection with the same credential, and the
    # query's answer in the result pane.
    assert out["docs_root_types"][:1] == ["query"], out["docs_root_types"]
    assert out["body_sent"] == {"query": "{ me { name } }"}
    assert out["content_type_sent"] == "application/json"
    assert out["status"] == 200
    assert out["result_shown"] == {"data": {"me": {"name": env["EXPECT_NAME"]}}}, out["result_shown"]
    # Everything went to this origin, under the policy, which refused
    # nothing but the dialog's scroll lock (an inline <style>) and our probe.
    assert out["csp_refused"] == [] and out["inline_script_ran"] is False
    assert out["csp_refused_probe"] == ["script-src-elem inline"]
    assert out["dialog_opened"] is True
    assert set(out["csp_refused_dialog"]) <= {"style-src-elem inline"}, out["csp_refused_dialog"]
    assert all("Content Security Policy directive 'style-src 'self''" in m for m in out["console_dialog"]), out
    assert all(p.split()[1].startswith(("/graphiql/", "/graphql")) for p in out["requests"]), out["requests"]
    assert "POST /graphql" in out["requests"]
    assert out["token_stored"] is False
    return out


def test_graphiql_runs_a_query_with_a_token_in_its_headers(server, tmp_path):
    create_org(server, "acme")
    create_user(server, "acme", "bob")
    tok = token_for(server, "acme", "bob")
    out = run_browser(server, tmp_path, "token", LATCHKEY_TOKEN=tok, EXPECT_NAME="bob")
    assert out["mode"] == "token" and out["headers_editor"] is True
    assert out["introspection_status"] == 200
    assert out["authorization_sent"] == "Bearer <the token>" and out["cookie_sent"] is False


def test_graphiql_runs_a_query_with_the_session_cookie(server, tmp_path):
    create_org(server, "acme")
    create_user(server, "acme", "alice", password=PASSWORD)
    login = json.dumps({"org": "acme", "username": "alice", "password": PASSWORD})
    out = run_browser(server, tmp_path, "cookie", LATCHKEY_LOGIN=login, EXPECT_NAME="alice")
    assert out["mode"] == "cookie" and out["login_status"] == 200 and out["session_cookie"] is True
    assert out["authorization_sent"] == "none" and out["cookie_sent"] is True
    # The CSRF check passes: the request names this server as its origin.
    assert out["origin_sent"] == server.url


@pytest.fixture
def prefixed(server, tmp_path):
    """nginx in front of the server, mounting it under /lk/ (Host passed on,
    so latchkey's own origin is the proxy's): the proxy's URL, prefix
    included."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        pytest.skip("no nginx (scripts/deps.sh installs it for make bench)")
    d = tmp_path / "nginx"
    d.mkdir()
    port = free_port()
    (d / "nginx.conf").write_text("""
worker_processes 1;
daemon off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %(d)s;
  proxy_temp_path %(d)s;
  fastcgi_temp_path %(d)s;
  uwsgi_temp_path %(d)s;
  scgi_temp_path %(d)s;
  server {
    listen 127.0.0.1:%(port)d;
    location /lk/ {
      proxy_pass %(upstream)s/;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
    }
  }
}
""" % {"d": d, "port": port, "upstream": server.url})
    proc = subprocess.Popen([nginx, "-c", str(d / "nginx.conf"), "-e", str(d / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = "http://127.0.0.1:%d/lk" % port
    try:
        deadline = time.time() + 10
        while True:
            try:
                if requests.get(url + "/v1/sys/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.time() < deadline, proc.stderr.read()
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_graphiql_works_behind_a_path_prefix(server, prefixed, tmp_path):
    """The redirect and every URL the page uses are relative: under /lk/ it
    loads its files and runs its query through the proxy, never asking for
    a path outside the prefix."""
    r = requests.get(prefixed + "/graphiql", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "graphiql/"
    r = requests.get(prefixed + "/graphiql", timeout=10)
    assert r.status_code == 200 and r.url == prefixed + "/graphiql/"
    out = run_browser(server, tmp_path, "prefix", url=prefixed, LATCHKEY_TOKEN=server.root_token,
                      EXPECT_NAME="root")
    assert out["authorization_sent"] == "Bearer <the token>" and out["introspection_status"] == 200
