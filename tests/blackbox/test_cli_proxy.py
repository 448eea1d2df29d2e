"""`latchkey api proxy` (issue 22, item 5; docs/cli.md, src/net/proxy.c)
against a real server: whatever reaches the proxy on 127.0.0.1 acts as the
profile's principal without holding its token; a request a web page of
another origin could send (foreign Origin, cross-site Sec-Fetch-Site, a
rebound DNS name in Host) is refused before it reaches the server; the
proxy listens on loopback only; GET / opens the GraphQL playground, which
works in a real browser through it; it stops cleanly on SIGINT."""
import json
import os
import shutil
import signal
import subprocess

import pytest
import requests

from cli_harness import cli, home  # noqa: F401 (home is a fixture)
from helpers import BIN, PASSWORD, create_org, create_user, login, remember_secret, token_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


class Proxy:
    def __init__(self, env, *args):
        self.proc = subprocess.Popen([BIN, "api", "proxy", "--port", "0"] + list(args), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        assert first.startswith("latchkey api proxy: http://127.0.0.1:"), (first, self.proc.stderr.read())
        self.banner = first + self.proc.stdout.readline()
        self.port = int(first.split("http://127.0.0.1:")[1].split("/")[0])
        self.url = "http://127.0.0.1:%d" % self.port

    def get(self, path, **kw):
        return requests.get(self.url + path, timeout=10, allow_redirects=False, **kw)

    def post(self, path, **kw):
        return requests.post(self.url + path, timeout=10, allow_redirects=False, **kw)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=10)
        return self.proc.returncode, err


@pytest.fixture
def ada(server, home):
    """acme's admin ada logged in with an API token; bob a member with a password."""
    create_org(server, "acme")
    create_user(server, "acme", "ada", role="admin")
    create_user(server, "acme", "bob", password=PASSWORD)
    tok = token_for(server, "acme", "ada", expires="P30D")
    assert cli(home, "login", server.url, "--token-stdin", stdin=tok + "\n").returncode == 0
    return tok


@pytest.fixture
def proxy(ada, home):
    p = Proxy(home)
    yield p
    if p.proc.poll() is None:
        rc, err = p.stop()
        assert rc == 0, err


def test_requests_through_the_proxy_act_as_the_profile(server, proxy, ada):
    assert "as ada@acme (profile default)" in proxy.banner and server.url in proxy.banner
    who = proxy.get("/v1/auth/whoami")
    assert who.status_code == 200, who.text
    assert who.json()["principal"] == {"type": "user", "name": "ada", "org": "acme", "team": None}
    assert who.json()["token"]["id"] == ada[:ada.index("_", 8)]
    # A write goes through with its body, and is ada's.
    made = proxy.post("/v1/tokens", json={"description": "through the proxy", "expires": "P1D"})
    assert made.status_code == 200, made.text
    remember_secret(made.json()["token"])
    assert server.get("/v1/auth/whoami", token=made.json()["token"]).json()["principal"]["name"] == "ada"
    listed = server.get("/v1/tokens", token=ada).json()["items"]
    assert any(t["description"] == "through the proxy" for t in listed)
    # GraphQL, as the playground sends it.
    g = proxy.post("/graphql", json={"query": "{ me { name org } }"})
    assert g.json() == {"data": {"me": {"name": "ada", "org": "acme"}}}
    # The server's answers and errors pass through as they are.
    missing = proxy.get("/v1/orgs/acme/teams/nope")
    assert missing.status_code == 404 and missing.json()["errors"]
    # The server recorded ada, from this machine, with her token.
    rec = [r for r in server.get("/v1/orgs/acme/audit", token=ada).json()["items"] if r["action"] == "token.create"]
    assert rec and rec[0]["actor"]["name"] == "ada" and rec[0]["source_ip"] == "127.0.0.1"


def test_a_request_with_its_own_credential_keeps_it_and_cookies_are_dropped(server, proxy):
    r = proxy.get("/v1/auth/whoami", headers={"Authorization": "Bearer " + server.root_token})
    assert r.json()["principal"]["name"] == "root"
    # bob's session cookie never stands in for the proxy's credential.
    session = login(server, "bob")
    assert server.get("/v1/auth/whoami", headers={"Cookie": "token=" + session}).json()["principal"]["name"] == "bob"
    r = proxy.get("/v1/auth/whoami", headers={"Cookie": "token=" + session})
    assert r.json()["principal"]["name"] == "ada"


@pytest.mark.parametrize("headers,refused", [
    ({"Origin": "http://evil.example"}, "another origin"),
    ({"Origin": "null"}, "another origin"),
    ({"Origin": "http://127.0.0.1:1"}, "another origin"),
    ({"Origin": "https://127.0.0.1:{port}"}, "another origin"),
    ({"Sec-Fetch-Site": "cross-site"}, "another site"),
    ({"Sec-Fetch-Site": "same-site"}, "another site"),
    ({"Host": "evil.example:{port}"}, "Host header"),
    ({"Host": "127.0.0.1"}, "Host header"),
    ({"Origin": "http://127.0.0.1:{port}"}, None),
    ({"Origin": "http://localhost:{port}", "Host": "localhost:{port}"}, None),
    ({"Sec-Fetch-Site": "same-origin"}, None),
    ({"Sec-Fetch-Site": "none"}, None),
])
def test_what_a_web_page_could_send_is_refused_before_the_server(server, proxy, ada, headers, refused):
    h = {k: v.replace("{port}", str(proxy.port)) for k, v in headers.items()}
    before = len(server.get("/v1/tokens", token=ada).json()["items"])
    r = proxy.post("/v1/tokens", json={"description": "from a page", "expires": "P1D"}, headers=h)
    after = server.get("/v1/tokens", token=ada).json()["items"]
    if refused is None:
        assert r.status_code == 200, r.text
        remember_secret(r.json()["token"])
        assert len(after) == before + 1
        return
    assert r.status_code == 403 and r.headers["Content-Type"] == "application/json"
    assert refused in r.json()["errors"][0] and "latchkey api proxy" in r.json()["errors"][0]
    assert len(after) == before  # nothing reached the server
    # A GET (what an <img> or a link sends) is refused as well.
    assert proxy.get("/v1/auth/whoami", headers=h).status_code == 403
    rc, err = proxy.stop()
    assert rc == 0
    assert "refused POST /v1/tokens: " in err and "refused GET /v1/auth/whoami: " in err
    assert ada not in err


def test_it_listens_on_loopback_only(proxy):
    port_hex = "%04X" % proxy.port
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if local.endswith(":" + port_hex) and state == "0A":
                    listening.append((table, local.split(":")[0]))
    assert listening == [("/proc/net/tcp", "0100007F")]


def test_the_root_opens_the_playground(proxy):
    r = proxy.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/graphiql/"
    page = proxy.get("/graphiql/")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "latchkey GraphiQL" in page.text


def test_the_playground_works_in_a_browser_through_the_proxy(server, proxy, tmp_path):
    if not shutil.which(CHROMIUM):
        pytest.skip("no Chromium at %s (scripts/deps.sh installs Debian's chromium)" % CHROMIUM)
    env = dict(os.environ, LATCHKEY_URL=proxy.url, START_PATH="/", EXPECT_NAME="ada",
               SCREENSHOT=str(tmp_path / "proxy-graphiql.png"))
    env.pop("LATCHKEY_TOKEN", None)
    r = subprocess.run(["node", os.path.join(ROOT, "tests", "docs", "graphiql.mjs")], capture_output=True, text=True,
                       env=env, timeout=120, cwd=ROOT)
    assert r.stdout.strip(), r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["problems"] == [], out
    assert out["page_status"] == 200 and out["title"] == "latchkey GraphiQL"
    # The page holds no credential: the proxy added ada's to the schema's
    # introspection and to the query.
    assert out["docs_root_types"][:1] == ["query"]
    assert out["authorization_sent"] == "none" and out["cookie_sent"] is False
    assert out["origin_sent"] == proxy.url
    assert out["result_shown"] == {"data": {"me": {"name": "ada"}}}, out["result_shown"]
    assert out["token_stored"] is False and out["csp_refused"] == []


def test_it_refuses_to_start_without_a_working_credential(server, home):
    r = cli(home, "api", "proxy", "--port", "0")
    assert r.returncode == 3 and "no server" in r.stderr
    r = cli(home, "api", "proxy", "--port", "0", LATCHKEY_URL=server.url, LATCHKEY_TOKEN="lk_user_nope_nope")
    assert r.returncode == 3
    r = cli(home, "api", "proxy", "--port", "70000")
    assert r.returncode == 2 and "--port" in r.stderr
    r = cli(home, "api", "proxy", "--nonsense")
    assert r.returncode == 2 and r.stderr.startswith("usage: latchkey api proxy")
    r = cli(home, "api")
    assert r.returncode == 2 and "api proxy" in r.stderr
    assert cli(home, "api", "proxy", "--help").returncode == 0


def test_a_port_already_taken_is_an_error(ada, home, proxy):
    r = cli(home, "api", "proxy", "--port", str(proxy.port))
    assert r.returncode == 1 and "cannot listen on 127.0.0.1:%d" % proxy.port in r.stderr


def test_an_https_server_is_verified_with_the_ca_file(make_server, home, tls_files):
    cert, key = tls_files
    s = make_server(extra=["--tls-cert", cert, "--tls-key", key])
    url = s.url.replace("127.0.0.1", "localhost")
    # Without the CA the proxy's own check refuses the server's certificate.
    assert cli(home, "login", url, "--token-stdin", "--ca-file", cert, stdin=s.root_token + "\n").returncode == 0
    p = Proxy(home)
    try:
        r = p.get("/v1/auth/whoami")
        assert r.status_code == 200 and r.json()["principal"]["name"] == "root"
    finally:
        assert p.stop()[0] == 0
    # A CA that did not sign the certificate: no answer from the server.
    other = os.path.join(os.path.dirname(cert), "other.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", other + ".key", "-out", other, "-days", "1", "-subj", "/CN=localhost"], check=True,
                   capture_output=True)
    env = dict(home, LATCHKEY_URL=url, LATCHKEY_TOKEN=s.root_token)
    r = cli(env, "api", "proxy", "--port", "0", "--ca-file", other)
    assert r.returncode == 1 and "cannot reach" in r.stderr
    # By address the proxy could not check the name: it says so at once.
    env = dict(home, LATCHKEY_URL=s.url, LATCHKEY_TOKEN=s.root_token)
    r = cli(env, "api", "proxy", "--port", "0", "--ca-file", cert)
    assert r.returncode == 1 and "by its DNS name" in r.stderr


def test_many_clients_at_once(server, proxy):
    from concurrent.futures import ThreadPoolExecutor

    def client(i):
        s = requests.Session()
        names = []
        for _ in range(15):
            if i % 2:
                names.append(s.get(proxy.url + "/v1/auth/whoami", timeout=10).json()["principal"]["name"])
            else:
                r = s.post(proxy.url + "/graphql", json={"query": "{ me { name } }"}, timeout=10)
                names.append(r.json()["data"]["me"]["name"])
        return names

    with ThreadPoolExecutor(16) as pool:
        got = [n for names in pool.map(client, range(16)) for n in names]
    assert got == ["ada"] * 240
