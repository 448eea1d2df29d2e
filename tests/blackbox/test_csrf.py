"""Cross-site request forgery: a page on another site makes the victim's
browser send a request, and the browser attaches the victim's `token`
cookie by itself. Each attack below is performed the way a browser would
send it (a form post, a typeless fetch body, a sandboxed frame) and must
change nothing. Requests carrying a header credential are not affected:
no page on another site can set those headers without a CORS preflight."""
import json

import pytest

from helpers import BIN, PASSWORD, assert_error, create_user, login, remember_secret
EVIL = "https://wiki.corp.example"


def admin_session(server, org="acme", user="alice"):
    """An org admin logged in with a password: the cookie a browser would hold."""
    assert server.post("/v1/orgs", token=server.root_token, json={"name": org}).status_code == 200
    create_user(server, org, user, role="admin", password=PASSWORD)
    return login(server, user, org=org)


def cookie(tok):
    return {"Cookie": "token=" + tok}


def user_exists(server, org, user):
    return server.get("/v1/orgs/%s/users/%s" % (org, user), token=server.root_token).status_code == 200


def test_cross_site_post_without_content_type_cannot_create_an_admin(server):
    """A script on wiki.corp.example sends fetch(url, {method: "POST", mode:
    "no-cors", credentials: "include", body: new Blob([json])}): no
    Content-Type header, no preflight, and the admin's cookie attached."""
    sess = admin_session(server)
    body = json.dumps({"username": "mallory", "email": "m@evil.example", "role": "admin", "password": PASSWORD})
    h = dict(cookie(sess), Origin=EVIL)
    r = server.post("/v1/orgs/acme/users", headers=h, data=body.encode())
    assert_error(r, 400, "Content-Type must be application/json")
    assert not user_exists(server, "acme", "mallory")
    # The same without an Origin (an old browser, or one that strips it).
    r = server.post("/v1/orgs/acme/users", headers=cookie(sess), data=body.encode())
    assert_error(r, 400, "Content-Type")
    assert not user_exists(server, "acme", "mallory")


@pytest.mark.parametrize("ctype", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_a_form_on_another_site_cannot_create_an_admin(server, ctype):
    """<form enctype=text/plain> can smuggle a JSON-looking body; the other
    two are what every form sends."""
    sess = admin_session(server)
    body = '{"username":"mallory","email":"m@evil.example","role":"admin","x":"=x"}'
    r = server.post("/v1/orgs/acme/users", headers=dict(cookie(sess), Origin=EVIL, **{"Content-Type": ctype}),
                    data=body.encode())
    assert_error(r, 400, "Content-Type")
    assert not user_exists(server, "acme", "mallory")


def test_an_empty_form_post_cannot_rotate_a_token(server):
    """<form method=post action=".../rotate"> with no fields: an empty body
    with a form's Content-Type, the cookie attached."""
    sess = admin_session(server)
    t = server.create_token(token=sess, description="ci")
    before = [x["id"] for x in server.get("/v1/tokens", token=sess).json()["items"]]
    for h in ({"Content-Type": "application/x-www-form-urlencoded", "Origin": EVIL}, {"Origin": EVIL}, {}):
        r = server.post("/v1/tokens/%s/rotate" % t["id"], headers=dict(cookie(sess), **h), data=b"")
        assert_error(r, 400, "Content-Type must be application/json")
    # The token still works and no new one was made.
    assert server.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    assert [x["id"] for x in server.get("/v1/tokens", token=sess).json()["items"]] == before


def test_json_from_another_origin_cannot_create_an_admin(server):
    """Even a JSON request (a browser bug, a CORS mistake in front of us) is
    refused when its Origin is not ours."""
    sess = admin_session(server)
    for origin in (EVIL, "http://127.0.0.1:1", server.url.replace("http://", "https://"), server.url + "/", "null",
                   "file://", "javascript:alert(1)", server.url + "@evil.example"):
        r = server.post("/v1/orgs/acme/users", headers=dict(cookie(sess), Origin=origin),
                        json={"username": "mallory", "email": "m@evil.example", "role": "admin"})
        assert_error(r, 400, "cross-site request refused")
        assert not user_exists(server, "acme", "mallory"), origin


def test_a_sandboxed_frame_origin_null_is_refused(server):
    sess = admin_session(server)
    r = server.request("DELETE", "/v1/orgs/acme/users/alice",
                       headers=dict(cookie(sess), Origin="null", **{"Content-Type": "application/json"}))
    assert_error(r, 400, "Origin null")
    assert user_exists(server, "acme", "alice")


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_fetch_metadata_cross_site_without_origin_is_refused(server, site):
    sess = admin_session(server)
    r = server.post("/v1/orgs/acme/users", headers=dict(cookie(sess), **{"Sec-Fetch-Site": site}),
                    json={"username": "mallory", "email": "m@evil.example", "role": "admin"})
    assert_error(r, 400, "Sec-Fetch-Site: " + site)
    assert not user_exists(server, "acme", "mallory")


def test_cookie_deletes_and_logout_need_json_too(server):
    """A bodiless DELETE or logout is a change as well (logout CSRF)."""
    sess = admin_session(server)
    t = server.create_token(token=sess, description="keep")
    assert_error(server.delete("/v1/tokens/" + t["id"], headers=dict(cookie(sess), Origin=EVIL)), 400, "Content-Type")
    assert server.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    assert_error(server.post("/v1/auth/logout", headers=dict(cookie(sess), Origin=EVIL)), 400, "Content-Type")
    assert server.get("/v1/auth/whoami", token=sess).status_code == 200


def test_cross_site_login_cannot_plant_a_session(server):
    """Login CSRF: a page logs the victim's browser into the attacker's
    account, so what the victim then does lands there."""
    admin_session(server, org="evilco", user="mallory")
    body = json.dumps({"org": "evilco", "username": "mallory", "password": PASSWORD}).encode()
    r = server.post("/v1/auth/login", headers={"Origin": EVIL}, data=body)
    assert_error(r, 400, "Content-Type")
    assert "Set-Cookie" not in r.headers
    r = server.post("/v1/auth/login", headers={"Origin": EVIL, "Content-Type": "text/plain"}, data=body)
    assert_error(r, 400, "Content-Type")
    r = server.post("/v1/auth/login", headers={"Origin": EVIL}, json=json.loads(body))
    assert_error(r, 400, "cross-site request refused")
    assert "Set-Cookie" not in r.headers


def test_cross_site_signup_is_refused(server):
    body = {"name": "csrfco", "admin": {"username": "a", "email": "a@b.example", "password": PASSWORD}}
    assert_error(server.post("/v1/orgs/signup", headers={"Origin": EVIL}, data=json.dumps(body).encode()), 400,
                 "Content-Type")
    assert_error(server.post("/v1/orgs/signup", headers={"Origin": EVIL}, json=body), 400, "cross-site")
    assert server.get("/v1/orgs/csrfco", token=server.root_token).status_code == 404


def test_the_servers_own_pages_and_programs_still_work(server):
    """Same-origin JSON with the cookie (the console), and a program holding
    the cookie that sends no Origin at all."""
    sess = admin_session(server)
    for i, h in enumerate(({"Origin": server.url}, {"Origin": server.url, "Sec-Fetch-Site": "same-origin"}, {},
                           {"Sec-Fetch-Site": "none"})):
        r = server.post("/v1/orgs/acme/users", headers=dict(cookie(sess), **h),
                        json={"username": "u%d" % i, "email": "u@example.com", "role": "member"})
        assert r.status_code == 200, (h, r.text)
    # A JSON rotate with an empty body from our own origin.
    t = server.create_token(token=sess, description="rot")
    r = server.post("/v1/tokens/%s/rotate" % t["id"], headers=dict(cookie(sess), Origin=server.url,
                                                                      **{"Content-Type": "application/json"}))
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])
    # Reads need nothing of this.
    assert server.get("/v1/auth/whoami", headers=dict(cookie(sess), Origin=EVIL)).status_code == 200


def test_header_credentials_are_unaffected(server):
    """No page on another site can set Authorization or X-Latchkey-Token
    without a preflight, so those requests keep working as before, even
    with a foreign Origin and an empty body."""
    t = server.create_token(description="rot")
    for h in ({"Authorization": "Bearer " + server.root_token}, {"X-Latchkey-Token": server.root_token}):
        r = server.post("/v1/tokens/%s/rotate" % t["id"], headers=dict(h, Origin=EVIL, **{"Sec-Fetch-Site": "cross-site"}))
        assert r.status_code == 200, r.text
        t = {"id": r.json()["id"]}
        remember_secret(r.json()["token"])
    # A header credential wins over a cookie, and then the cookie rules do not apply.
    r = server.post("/v1/tokens", headers={"Authorization": "Bearer " + server.root_token, "Origin": EVIL,
                                           "Cookie": "token=" + server.root_token}, json={"description": "x"})
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])


def test_a_body_without_content_type_is_refused_unless_a_header_credential_came_with_it(server):
    """No page can add a header credential cross-site, so header-authenticated
    clients that send no Content-Type keep working; a cookie or no credential
    at all must say application/json."""
    body = json.dumps({"description": "x"}).encode()
    r = server.post("/v1/tokens", token=server.root_token, data=body)
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])
    r = server.post("/v1/tokens", headers={"Cookie": "token=" + server.root_token}, data=body)
    assert_error(r, 400, "Content-Type")
    r = server.post("/v1/auth/login", data=json.dumps({"org": "a", "username": "b", "password": "c"}).encode())
    assert_error(r, 400, "Content-Type")
    # A wrong type is refused whoever sends it.
    r = server.post("/v1/tokens", token=server.root_token, data=body, headers={"Content-Type": "text/plain"})
    assert_error(r, 400, "Content-Type must be application/json")


def test_allowed_origins_from_flag_env_and_file(make_server, tmp_path):
    cfg = tmp_path / "lk.json"
    cfg.write_text(json.dumps({"allowed-origins": ["https://FILE.example", "https://file2.example:8443"]}))
    s = make_server(extra=["--config", str(cfg)])
    sess = admin_session(s)

    def try_origin(srv, origin, name):
        return srv.post("/v1/orgs/acme/users", headers=dict(cookie(sess), Origin=origin),
                        json={"username": name, "email": "u@example.com", "role": "member"})

    assert try_origin(s, "https://file.example", "f1").status_code == 200
    assert try_origin(s, "https://file2.example:8443", "f2").status_code == 200
    assert_error(try_origin(s, "https://file2.example", "f3"), 400, "cross-site")  # the port is part of it
    assert_error(try_origin(s, "http://file.example", "f4"), 400, "cross-site")  # and the scheme
    assert_error(try_origin(s, "https://sub.file.example", "f5"), 400, "cross-site")  # no suffix matching
    s.env["LATCHKEY_ALLOWED_ORIGINS"] = "https://env.example, https://env2.example"
    s.restart()
    assert try_origin(s, "https://env2.example", "e1").status_code == 200
    assert_error(try_origin(s, "https://file.example", "e2"), 400, "cross-site")  # env replaces the file
    s.extra += ["--allowed-origins", "https://flag.example", "--allowed-origins", "https://flag2.example:443"]
    s.restart()
    assert try_origin(s, "https://flag.example", "g1").status_code == 200
    assert try_origin(s, "https://flag2.example", "g2").status_code == 200  # :443 is the default port
    assert_error(try_origin(s, "https://env.example", "g3"), 400, "cross-site")  # flags replace the env


@pytest.mark.parametrize("value,msg", [
    ("null", "cannot be allowed"),
    ("*", "wildcards"),
    ("https://*.corp.example", "wildcards"),
    ("https://console.example/", "is not an origin"),
    ("console.example", "is not an origin"),
    ("ftp://console.example", "is not an origin"),
    ("https://user@console.example", "is not an origin"),
    ("https://console.example:0", "is not an origin"),
    ("https://console.example:99999", "is not an origin"),
    ("https://a.example,", "is not an origin"),
])
def test_a_bad_allowed_origin_is_refused_at_start(tmp_path, value, msg):
    import subprocess
    r = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d"), "--allowed-origins", value],
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 2, r.stderr
    assert "allowed-origins" in r.stderr and msg in r.stderr, r.stderr


def test_the_vault_door_takes_a_cookie_only_under_the_same_rule(make_server):
    """The Vault-compatible door reads the `token` cookie too (after
    X-Vault-Token and the headers), so a page on another site could reach
    it with the victim's session. The same rule holds there: a cookie
    brings a change only with a JSON body from the server's own origin.
    A form post writing a secret or minting a token changes nothing."""
    s = make_server(extra=["--vault-default-org", "acme"])
    sess = admin_session(s)
    for ctype in ("text/plain", "application/x-www-form-urlencoded"):
        h = dict(cookie(sess), Origin=EVIL, **{"Content-Type": ctype})
        r = s.request("PUT", "/v1/secret/planted", headers=h, data=b'{"k":"v"}')
        assert r.status_code in (400, 403), r.text
        assert "Content-Type" in r.text, r.text
        r = s.post("/v1/auth/token/create", headers=h, data=b'{"policies":["default"]}')
        assert r.status_code in (400, 403) and "client_token" not in r.text, r.text
    # JSON from another origin is refused as on the native API.
    r = s.request("PUT", "/v1/secret/planted", headers=dict(cookie(sess), Origin=EVIL), json={"k": "v"})
    assert r.status_code in (400, 403) and "origin" in r.text.lower(), r.text
    assert s.get("/v1/secret/planted", headers={"X-Vault-Token": sess}).status_code == 404
    # The session's own header use of the door still works.
    assert s.request("PUT", "/v1/secret/mine", headers={"X-Vault-Token": sess}, json={"k": "v"}).status_code == 204
