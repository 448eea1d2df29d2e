"""Federation (issue 20 item 7, docs/federation.md): an org trusts a foreign
token issuer (tests/federation/mock_issuer.js, npm jose; the mock fixture
and its helpers are in conftest.py and federation_harness.py) and maps its
tokens' claims to a service account; POST /v1/oauth/token (RFC 8693)
exchanges such a token for a latchkey identity token. Checked: the exchange
for a matching rule (the token works as the account's Bearer credential),
every refusal naming its check, inline and fetched key sets (a fetched set
is cached), the OAuth wire format, CRUD and its authorization."""
import json
import time

import pytest
import requests

from federation_harness import AUD, GRANT, JWT_TYPE, TI, exchange, rules, trust
from helpers import Server, assert_error, create_org, create_team, expect, init_data_dir, org_with_users, \
    remember_secret, unseal

T = "/v1/orgs/acme/teams/payments"


@pytest.fixture
def acme(server):
    tokens = org_with_users(server, "acme", [("admin", "admin"), ("olive", "member")])
    create_team(server, "acme", "payments", token=tokens["admin"])
    expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": "deployer",
                                                                            "roles": ["team-member"]}))
    expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": "reader"}))
    return tokens


def refused(r, check, error="invalid_grant", status=400):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert check in body["error_description"], body
    assert body["errors"] == [body["error_description"]]
    assert r.headers.get("Cache-Control") == "no-store"
    return body


def test_exchange_for_a_matching_rule(server, acme, mock):
    expect(trust(server, mock, acme["admin"]))
    r = exchange(server, mock.sign())
    out = expect(r)
    remember_secret(out["access_token"])
    assert out["issued_token_type"] == JWT_TYPE and out["token_type"] == "Bearer"
    assert 3590 <= out["expires_in"] <= 3600
    assert r.headers.get("Cache-Control") == "no-store"
    # A latchkey identity token for the account: it acts as the account.
    who = expect(server.get("/v1/auth/whoami", token=out["access_token"]))
    assert who["principal"] == {"type": "service_account", "name": "deployer", "org": "acme", "team": "payments"}
    # The second rule maps another subject to another account.
    out = expect(exchange(server, mock.sign(sub="repo:acme/api:pull_request")))
    remember_secret(out["access_token"])
    who = expect(server.get("/v1/auth/whoami", token=out["access_token"]))
    assert who["principal"]["name"] == "reader"
    # A requested audience is the new token's (then it is not for latchkey).
    out = expect(exchange(server, mock.sign(), audience="https://vault.example"))
    remember_secret(out["access_token"])
    assert out["token_type"] == "N_A"
    assert_error(server.get("/v1/auth/whoami", token=out["access_token"]), 401, "audience")
    # RS256 keys of the issuer work as well.
    out = expect(exchange(server, mock.sign(key="rs")))
    remember_secret(out["access_token"])
    # Audited, filed under the org, naming the account and the jti; no token.
    recs = expect(server.get("/v1/orgs/acme/audit", token=acme["admin"],
                             params={"action": "oauth.token_exchange"}))["items"]
    assert recs and any("sa=payments/deployer" in x["resource"] and "issuer=ci" in x["resource"] for x in recs)
    assert out["access_token"] not in json.dumps(recs)


def test_every_refusal_names_its_check(server, acme, mock):
    expect(trust(server, mock, acme["admin"]))
    now = int(time.time())
    refused(exchange(server, mock.sign(aud="https://someone.else")), "audience")
    refused(exchange(server, mock.sign(exp=now - 3600)), "expired")
    refused(exchange(server, mock.sign(key="other")), "signature")
    refused(exchange(server, mock.sign(kid="no-such-key")), "unknown kid")
    refused(exchange(server, mock.sign(key="none")), "algorithm none not allowed")
    refused(exchange(server, mock.sign(sub="repo:acme/api:ref:refs/heads/evil")), "no rule matched")
    refused(exchange(server, mock.sign(nbf=now + 3600)), "not yet valid")
    refused(exchange(server, mock.sign(iss="https://token.actions.githubusercontent.com")), "issuer not trusted")
    # The issuer is acme's: another org (existing or not) does not trust it.
    create_org(server, "globex")
    refused(exchange(server, mock.sign(), org="globex"), "issuer not trusted")
    refused(exchange(server, mock.sign(), org="nosuch"), "issuer not trusted")
    # Tampering with the payload breaks the signature.
    h, p, s = mock.sign().split(".")
    import base64
    claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    claims["sub"] = "repo:acme/api:pull_request"
    p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused(exchange(server, h + "." + p2 + "." + s), "signature")
    refused(exchange(server, "not-a-jwt"), "malformed token")
    # A rule whose account was deleted matches, and says so.
    assert server.delete(T + "/service-accounts/deployer", token=acme["admin"]).status_code == 204
    refused(exchange(server, mock.sign()), "service account")


def test_oauth_request_errors(server, acme, mock):
    expect(trust(server, mock, acme["admin"]))
    tok = mock.sign()
    refused(exchange(server, tok, grant_type="client_credentials"), "grant_type", "unsupported_grant_type")
    refused(exchange(server, None), "subject_token: required", "invalid_request")
    refused(exchange(server, tok, org=None), "org: required", "invalid_request")
    refused(exchange(server, tok, subject_token_type="urn:ietf:params:oauth:token-type:saml2"),
            "subject_token_type", "invalid_request")
    refused(exchange(server, tok, colour="red"), "unknown parameter", "invalid_request")
    refused(exchange(server, tok, scope="admin"), "scope", "invalid_target")
    # JSON is not OAuth's format.
    r = requests.post(server.url + "/v1/oauth/token", json={"grant_type": GRANT}, timeout=10)
    refused(r, "x-www-form-urlencoded", "invalid_request")
    # A parameter given twice is refused (RFC 6749 section 3.2).
    body = "grant_type=%s&org=acme&org=globex&subject_token=%s&subject_token_type=%s" % (GRANT, tok, JWT_TYPE)
    r = requests.post(server.url + "/v1/oauth/token", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    refused(r, "given more than once", "invalid_request")
    r = requests.post(server.url + "/v1/oauth/token", data="grant_type=%zz",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    refused(r, "percent-encoding", "invalid_request")
    # Percent-encoded values decode (a client encoding ':' in the grant type).
    body = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&org=acme&subject_token=" + tok + \
        "&subject_token_type=urn%3aietf%3aparams%3aoauth%3atoken-type%3ajwt"
    r = requests.post(server.url + "/v1/oauth/token", data=body,
                      headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, timeout=10)
    remember_secret(expect(r)["access_token"])
    # No CSRF refusal: the credential is in the body, no cookie is read,
    # and a cross-site Origin gains nothing (docs/federation.md).
    r = exchange(server, tok, headers={"Origin": "https://evil.example", "Cookie": "token=" + acme["admin"]})
    remember_secret(expect(r)["access_token"])


def test_fetched_jwks_is_cached(server, acme, mock):
    expect(trust(server, mock, acme["admin"], inline=False))
    before = mock.count()
    for _ in range(3):
        remember_secret(expect(exchange(server, mock.sign()))["access_token"])
    assert mock.count() == before + 1
    refused(exchange(server, mock.sign(key="other")), "signature")
    assert mock.count() == before + 1
    # An unknown kid refetches only once the copy is 30 s old: not now.
    refused(exchange(server, mock.sign(kid="rotated")), "unknown kid")
    assert mock.count() == before + 1
    got = expect(server.get(TI + "/ci", token=acme["admin"]))
    assert got["jwks"] is None and got["jwks_uri"] == mock.issuer + "/jwks"


def test_unreachable_jwks_uri(server, acme, mock):
    expect(trust(server, mock, acme["admin"], inline=False, jwks_uri="http://127.0.0.1:9/jwks"))
    refused(exchange(server, mock.sign()), "jwks_uri", "temporarily_unavailable", 503)


def test_crud_and_validation(server, acme, mock):
    out = expect(trust(server, mock, acme["admin"]))
    assert out["name"] == "ci" and out["issuer"] == mock.issuer and out["audience"] == AUD
    assert out["jwks"]["keys"] and out["jwks_uri"] is None and out["rules"] == rules()
    assert out["id"].startswith("ti_") and out["created_by"].startswith("user:")
    assert_error(trust(server, mock, acme["admin"]), 409, "already")
    assert_error(trust(server, mock, acme["admin"], name="ci2"), 409, "trusts it already")
    lst = expect(server.get(TI, token=acme["admin"]))
    assert [x["name"] for x in lst["items"]] == ["ci"]
    # Validation.
    bad = [({"issuer": "http://issuer.example"}, "issuer"), ({"issuer": "ftp://x"}, "issuer"),
           ({"jwks_uri": "https://x.example/jwks"}, "exactly one"), ({"jwks": {"keys": []}}, "jwks"),
           ({"audience": ""}, "audience"), ({"rules": []}, "rules"),
           ({"rules": [{"claims": {}, "team": "payments", "service_account": "deployer"}]}, "rules[0].claims"),
           ({"rules": [{"claims": {"sub": 1}, "team": "payments", "service_account": "deployer"}]}, "exactly"),
           ({"rules": [{"claims": {"sub": "x"}, "team": "payments", "service_account": "ghost"}]}, "no service account"),
           ({"rules": [{"claims": {"sub": "x"}, "team": "payments", "service_account": "deployer", "x": 1}]}, "unknown")]
    for over, msg in bad:
        assert_error(trust(server, mock, acme["admin"], name="bad", **over), 400, msg)
    # PATCH: the audience changes; exchanges follow at once.
    expect(server.request("PATCH", TI + "/ci", token=acme["admin"], json={"audience": "other-aud"}))
    refused(exchange(server, mock.sign()), "audience")
    remember_secret(expect(exchange(server, mock.sign(aud="other-aud")))["access_token"])
    # Switching to a fetched set clears the inline one.
    got = expect(server.request("PATCH", TI + "/ci", token=acme["admin"],
                                json={"jwks_uri": mock.issuer + "/jwks"}))
    assert got["jwks"] is None and got["jwks_uri"] == mock.issuer + "/jwks"
    # DELETE: no longer trusted.
    assert server.delete(TI + "/ci", token=acme["admin"]).status_code == 204
    refused(exchange(server, mock.sign(aud="other-aud")), "issuer not trusted")
    assert_error(server.get(TI + "/ci", token=acme["admin"]), 404, "no trusted issuer")


def test_authorization(server, acme, mock):
    # Members (and service accounts) may neither see nor change them.
    assert_error(trust(server, mock, acme["olive"]), 401, "federation.manage")
    expect(trust(server, mock, acme["admin"]))
    assert_error(server.get(TI, token=acme["olive"]), 401, "federation.view")
    assert_error(server.get(TI + "/ci", token=acme["olive"]), 401, "federation.view")
    assert_error(server.delete(TI + "/ci", token=acme["olive"]), 401, "federation.manage")
    # Another org's admin: as if it did not exist.
    g = org_with_users(server, "globex", [("gadmin", "admin")])
    assert_error(server.get(TI + "/ci", token=g["gadmin"]), 404)
    assert_error(server.get(TI, token=g["gadmin"]), 404)
    assert_error(trust(server, mock, g["gadmin"], name="x"), 404)
    # The partner admin: any org.
    assert expect(server.get(TI + "/ci", token=server.root_token))["name"] == "ci"
    expect(trust(server, mock, server.root_token, name="ci-root", issuer=mock.issuer + "/other"))
    # Rules naming another org's account: not found in this org.
    create_team(server, "globex", "ops", token=g["gadmin"])
    expect(server.post("/v1/orgs/globex/teams/ops/service-accounts", token=g["gadmin"], json={"name": "bot"}))
    assert_error(trust(server, mock, acme["admin"], name="x", issuer=mock.issuer + "/x",
                       rules=[{"claims": {"sub": "x"}, "team": "ops", "service_account": "bot"}]), 400,
                 "no service account")


def test_https_only_outside_dev(tmp_path, mock):
    """Without --dev, neither the issuer nor jwks_uri may be http, loopback or not."""
    data = str(tmp_path / "data")
    keys, root = init_data_dir(data)
    s = Server(str(tmp_path), dev=False, data_dir=data).start()
    try:
        assert unseal(s, keys[0]).status_code == 200
        create_org(s, "acme", token=root)
        create_team(s, "acme", "payments", token=root)
        expect(s.post(T + "/service-accounts", token=root, json={"name": "deployer"}))
        body = {"name": "ci", "issuer": mock.issuer, "jwks": mock.jwks(), "audience": AUD, "rules": rules()[:1]}
        assert_error(s.post(TI, token=root, json=body), 400, "issuer: expected an https:// URL")
        body.update(issuer="https://issuer.example", jwks=None, jwks_uri=mock.issuer + "/jwks")
        assert_error(s.post(TI, token=root, json=body), 400, "jwks_uri: expected an https:// URL")
        body.update(jwks=mock.jwks(), jwks_uri=None)
        expect(s.post(TI, token=root, json=body))
        # An https jwks_uri on the server's own network is never fetched: the address is
        # checked where libcurl connects (a metadata service, an admin port, loopback).
        for i, where in enumerate(("https://127.0.0.1:9/jwks", "https://169.254.169.254/jwks",
                                   "https://[::1]:9/jwks", "https://10.0.0.1:9/jwks")):
            name = "meta%d" % i
            expect(s.post(TI, token=root, json=dict(body, name=name, issuer="https://" + name + ".example",
                                                    jwks=None, jwks_uri=where)))
            subject = mock.sign(iss="https://" + name + ".example")
            r = s.post("/v1/oauth/token", data={"grant_type": GRANT, "subject_token": subject,
                                                 "subject_token_type": JWT_TYPE, "org": "acme"})
            assert r.status_code == 503 and "not public" in r.json()["error_description"], (where, r.text)
    finally:
        s.stop()


def test_trusting_follows_the_subset_rule(server, acme, mock):
    """A trusted issuer hands its rules' accounts to matching tokens: the
    writer must hold everything each account holds."""
    narrow = expect(server.post("/v1/tokens", token=acme["admin"], json={"policies": ["federation.manage"]}))["token"]
    assert_error(trust(server, mock, narrow), 401, "which you do not hold")
    # Also on a change that adds such a rule.
    expect(trust(server, mock, acme["admin"], rules=[{"claims": {"sub": "x"}, "team": "payments",
                                                      "service_account": "reader"}]))
    r = server.request("PATCH", TI + "/ci", token=narrow, json={"rules": rules()})
    assert_error(r, 401, "which you do not hold")


def test_concurrent_exchanges_share_the_key_set_cache(server, acme, mock):
    """Many exchanges at once on a cold cache (both workers, several
    connections each): all succeed, and the key set is fetched a few times
    at most, not once per exchange. Run under ThreadSanitizer by make test-tsan."""
    from concurrent.futures import ThreadPoolExecutor
    expect(trust(server, mock, acme["admin"], inline=False))
    subjects = [mock.sign() for _ in range(24)]
    before = mock.count()
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda t: exchange(server, t), subjects))
    for r in answers:
        remember_secret(expect(r)["access_token"])
    # One fetch: every exchange waiting on the same key set joins it.
    assert mock.count() - before == 1


def test_a_slow_key_set_never_holds_up_the_loop(make_server, mock):
    """The house rule: an event loop never waits on the network. With one
    worker (one loop), an exchange whose issuer's key set takes 1.5 s to
    arrive waits off the loop: requests sent meanwhile are answered at
    once, and the exchange succeeds when the keys are in."""
    import threading
    s = make_server(extra=["--threads", "1"])
    tokens = org_with_users(s, "acme", [("admin", "admin")])
    create_team(s, "acme", "payments", token=tokens["admin"])
    for sa in ("deployer", "reader"):
        expect(s.post(T + "/service-accounts", token=tokens["admin"], json={"name": sa}))
    expect(trust(s, mock, tokens["admin"], inline=False, jwks_uri=mock.issuer + "/slow-jwks?ms=1500"))
    subject = mock.sign()
    out = {}
    t = threading.Thread(target=lambda: out.update(r=exchange(s, subject)))
    t0 = time.monotonic()
    t.start()
    time.sleep(0.3)
    waits = []
    while t.is_alive() and time.monotonic() - t0 < 1.2:
        a = time.monotonic()
        assert s.get("/v1/auth/whoami", token=s.root_token).status_code == 200
        waits.append(time.monotonic() - a)
    t.join(10)
    assert waits, "the exchange ended before the other requests were sent"
    assert max(waits) < 0.5, "a request waited %.2fs while the key set was fetched" % max(waits)
    assert time.monotonic() - t0 >= 1.4
    remember_secret(expect(out["r"])["access_token"])


def test_stopping_while_a_key_set_is_fetched_is_clean(make_server, mock):
    """SIGTERM while an exchange waits on a slow key set: the server ends
    the fetch at once, answers the waiting exchange 503 during its drain
    and exits 0 (under ASan, with nothing leaked)."""
    import threading
    s = make_server(extra=["--threads", "1", "--request-timeout", "1"])
    tokens = org_with_users(s, "acme", [("admin", "admin")])
    create_team(s, "acme", "payments", token=tokens["admin"])
    for sa in ("deployer", "reader"):
        expect(s.post(T + "/service-accounts", token=tokens["admin"], json={"name": sa}))
    expect(trust(s, mock, tokens["admin"], inline=False, jwks_uri=mock.issuer + "/slow-jwks?ms=2500"))
    subject = mock.sign()
    out = {}
    t = threading.Thread(target=lambda: out.update(r=exchange(s, subject)))
    t.start()
    time.sleep(0.4)
    t0 = time.monotonic()
    rc = s.stop()
    assert rc == 0, s.stderr()[-4000:]
    assert time.monotonic() - t0 < 2, "the stop waited for the fetch"
    t.join(10)
    assert out["r"].status_code == 503 and out["r"].json()["error"] == "temporarily_unavailable", out["r"].text

