"""Identity tokens (issue 20, docs/identity.md): a service account (or a
workload bound to it) obtains a signed JWT that anyone verifies offline with
the published keys; latchkey accepts it back as a Bearer credential with the
account's rights. Checked here with an independent verifier (Python's
cryptography), not latchkey's own code: signature by the JWKS key named by
kid, the claims, the SPIFFE subject; the refusals (tampered, expired by
tampering, other issuer's key, alg none, HS256 keyed with the public key,
unknown kid, wrong audience); rotation; unbinding; sealing."""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import time

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from helpers import ROOT, assert_error, create_team, dev_unseal_key, expect, org_with_users, remember_secret, unseal

T = "/v1/orgs/acme/teams/payments"
SA = T + "/service-accounts/deployer"


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def parts(tok):
    h, p, s = tok.split(".")
    return json.loads(b64d(h)), json.loads(b64d(p)), b64d(s)


def verify_offline(tok, jwks):
    """Verifies an ES256 JWS against a JWK set the way any outside verifier
    would; returns the claims or raises."""
    header, claims, sig = parts(tok)
    assert header["alg"] == "ES256" and header["typ"] == "JWT"
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256"
    pub = ec.EllipticCurvePublicNumbers(int.from_bytes(b64d(key["x"]), "big"), int.from_bytes(b64d(key["y"]), "big"),
                                        ec.SECP256R1()).public_key()
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    signing_input = tok.rsplit(".", 1)[0].encode()
    pub.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
    return claims


def es256_sign(key, header, claims):
    si = b64e(json.dumps(header).encode()) + "." + b64e(json.dumps(claims).encode())
    r, s = decode_dss_signature(key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))
    return si + "." + b64e(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@pytest.fixture
def acme(server):
    tokens = org_with_users(server, "acme", [("admin", "admin"), ("olive", "member")])
    create_team(server, "acme", "payments", token=tokens["admin"])
    expect(server.request("PUT", T + "/members/olive", token=tokens["admin"], json={"role": "owner"}))
    expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": "deployer",
                                                                            "roles": ["team-member"]}))
    expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": "other"}))
    tokens["sa"] = expect(server.post(SA + "/tokens", token=tokens["admin"], json={}))["token"]
    tokens["other"] = expect(server.post(T + "/service-accounts/other/tokens", token=tokens["admin"], json={}))["token"]
    expect(server.request("PUT", T + "/secrets/app/db", token=tokens["admin"], json={"password": "s3cret"}))
    return tokens


def issue(server, token, path=SA, status=200, **body):
    r = server.post(path + "/identity-token", token=token, json=body)
    if status != 200:
        return r
    out = expect(r)
    return out


def test_issue_and_verify_offline(server, acme):
    out = issue(server, acme["sa"])
    assert out["token_type"] == "Bearer"
    assert out["spiffe_id"] == "spiffe://latchkey.local/org/acme/team/payments/sa/deployer"
    disc = expect(server.get("/.well-known/openid-configuration"))
    assert disc["issuer"] == server.url and disc["jwks_uri"] == server.url + "/v1/oidc/jwks"
    assert disc["id_token_signing_alg_values_supported"] == ["ES256"]
    assert "id_token" in disc["response_types_supported"] and "sub" in disc["claims_supported"]
    r = server.get("/v1/oidc/jwks")
    assert r.headers["Cache-Control"].startswith("public, max-age=")
    jwks = r.json()
    claims = verify_offline(out["token"], jwks)
    assert claims["iss"] == server.url and claims["aud"] == server.url
    assert claims["sub"] == out["spiffe_id"]
    assert (claims["org"], claims["team"], claims["sa"]) == ("acme", "payments", "deployer")
    assert "workload" not in claims
    assert claims["jti"].startswith("jwt_") and claims["jti"] == out["jti"]
    assert claims["nbf"] == claims["iat"] and claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    # The SPIFFE bundle carries the same keys for jwt-svid.
    bundle = expect(server.get("/v1/oidc/spiffe-bundle"))
    assert [k["kid"] for k in bundle["keys"]] == [k["kid"] for k in jwks["keys"]]
    assert all(k["use"] == "jwt-svid" for k in bundle["keys"])
    assert bundle["spiffe_refresh_hint"] > 0 and bundle["spiffe_sequence"] >= 1
    # Audited: the account and the jti, never the token.
    recs = [x for x in expect(server.get("/v1/orgs/acme/audit", token=acme["admin"],
                                         params={"action": "sa.identity_token"}))["items"]]
    assert recs and "deployer" in recs[0]["resource"] and out["jti"] in recs[0]["resource"]
    assert out["token"] not in json.dumps(recs)


def test_audience_and_ttl(server, acme):
    out = issue(server, acme["sa"], audience="https://vault.example", ttl="PT10M")
    c = verify_offline(out["token"], expect(server.get("/v1/oidc/jwks")))
    assert c["aud"] == "https://vault.example" and c["exp"] - c["iat"] == 600
    c = parts(issue(server, acme["sa"], ttl="24h")["token"])[1]
    assert c["exp"] - c["iat"] == 86400
    assert_error(issue(server, acme["sa"], status=400, ttl="4m"), 400, "ttl")
    assert_error(issue(server, acme["sa"], status=400, ttl="25h"), 400, "ttl")
    assert_error(issue(server, acme["sa"], status=400, ttl="soon"), 400, "ttl: expected a duration such as")
    assert_error(issue(server, acme["sa"], status=400, ttl="0s"), 400, "ttl: expected a duration longer than zero")
    assert_error(issue(server, acme["sa"], status=400, audience=""), 400, "audience")
    assert_error(issue(server, acme["sa"], status=400, colour="red"), 400, "colour")

    # The floor is 5 minutes unless the server was started with a lower one.
    assert_error(issue(server, acme["sa"], status=400, ttl="10s"), 400, "outside 5 minutes .. 24 hours")


def test_a_dev_server_may_lower_the_shortest_ttl(make_server):
    """--identity-min-ttl (with --dev) lets tests ask for 10-second tokens;
    below the value given is still refused, and the token is as good as any."""
    server = make_server(extra=["--identity-min-ttl", "10s"])
    admin = org_with_users(server, "acme", [("admin", "admin")])["admin"]
    create_team(server, "acme", "payments", token=admin)
    expect(server.post(T + "/service-accounts", token=admin, json={"name": "deployer"}))
    sa = expect(server.post(SA + "/tokens", token=admin, json={}))["token"]
    out = issue(server, sa, ttl="10s")
    c = verify_offline(out["token"], expect(server.get("/v1/oidc/jwks")))
    assert c["exp"] - c["iat"] == 10
    assert expect(server.get("/v1/auth/whoami", token=out["token"]))["principal"]["name"] == "deployer"
    assert_error(issue(server, sa, status=400, ttl="9s"), 400, "ttl: 9 seconds is outside 10 seconds .. 24 hours")
    assert_error(issue(server, sa, status=400, ttl="25h"), 400, "outside 10 seconds")


def test_bearer_use_with_the_accounts_rights(server, acme):
    tok = issue(server, acme["sa"])["token"]
    who = expect(server.get("/v1/auth/whoami", token=tok))
    assert who["principal"] == {"type": "service_account", "name": "deployer", "org": "acme", "team": "payments"}
    assert who["token"]["id"].startswith("jwt_")
    # team-member lets it read the team's secrets; the other account may not.
    assert expect(server.get(T + "/secrets/app/db", token=tok))["data"] == {"password": "s3cret"}
    other = issue(server, acme["other"], path=T + "/service-accounts/other")["token"]
    assert server.get(T + "/secrets/app/db", token=other).status_code == 401
    # Deleting the account stops its identity tokens at once.
    assert server.delete(T + "/service-accounts/other", token=acme["admin"]).status_code == 204
    assert_error(server.get("/v1/auth/whoami", token=other), 401, "no longer exists")


def test_refusals(server, acme):
    tok = issue(server, acme["sa"])["token"]
    h, c, sig = parts(tok)
    hs, cs, _ = tok.split(".")
    # Tampered payload (a later exp): the signature no longer matches.
    later = dict(c, exp=c["exp"] + 86400)
    assert_error(server.get("/v1/auth/whoami", token=hs + "." + b64e(json.dumps(later).encode()) + "." + tok.split(".")[2]),
                 401, "signature")
    # Expired (by tampering exp into the past): the signature fails first.
    past = dict(c, exp=c["iat"] - 10)
    assert_error(server.get("/v1/auth/whoami", token=hs + "." + b64e(json.dumps(past).encode()) + "." + tok.split(".")[2]),
                 401, "identity token refused")
    # Signed by another issuer's key under latchkey's kid.
    mine = ec.generate_private_key(ec.SECP256R1())
    assert_error(server.get("/v1/auth/whoami", token=es256_sign(mine, h, c)), 401, "signature")
    # alg none.
    none = b64e(json.dumps({"alg": "none", "kid": h["kid"], "typ": "JWT"}).encode()) + "." + cs + ".AA"
    assert_error(server.get("/v1/auth/whoami", token=none), 401, "identity token refused")
    # HS256 keyed with the public JWK's bytes.
    jwk = next(k for k in expect(server.get("/v1/oidc/jwks"))["keys"] if k["kid"] == h["kid"])
    hh = b64e(json.dumps({"alg": "HS256", "kid": h["kid"], "typ": "JWT"}).encode())
    mac = hmac.new(json.dumps(jwk).encode(), (hh + "." + cs).encode(), hashlib.sha256).digest()
    assert_error(server.get("/v1/auth/whoami", token=hh + "." + cs + "." + b64e(mac)), 401, "HS256")
    # Unknown kid.
    assert_error(server.get("/v1/auth/whoami", token=es256_sign(mine, dict(h, kid="nope"), c)), 401, "unknown kid")
    # A token for another audience is not a credential here.
    aud = issue(server, acme["sa"], audience="https://elsewhere.example")["token"]
    verify_offline(aud, expect(server.get("/v1/oidc/jwks")))
    assert_error(server.get("/v1/auth/whoami", token=aud), 401, "audience")
    # No message echoes the token.
    r = server.get("/v1/auth/whoami", token=es256_sign(mine, h, c))
    assert cs not in r.text


def test_refusals_after_the_token_was_verified_and_cached(server, acme):
    """A token verified once is accepted again without its signature being
    checked (a digest of the token and the issuer is compared instead, as an
    API token's hash is): every variant of it that was never verified, and
    the same token presented to another issuer, is still verified in full
    and refused."""
    tok = issue(server, acme["sa"])["token"]
    me = {"type": "service_account", "name": "deployer", "org": "acme", "team": "payments"}
    for _ in range(3):
        assert expect(server.get("/v1/auth/whoami", token=tok))["principal"] == me
    hs, cs, ss = tok.split(".")
    h, c, sig = parts(tok)
    # Same jti, other claims; the same claims encoded otherwise; another signature.
    later = b64e(json.dumps(dict(c, exp=c["exp"] + 86400)).encode())
    spaced = b64e(json.dumps(c, indent=1).encode())
    flipped = b64e(sig[:-1] + bytes([sig[-1] ^ 1]))
    for variant in (hs + "." + later + "." + ss, hs + "." + spaced + "." + ss, hs + "." + cs + "." + flipped,
                    es256_sign(ec.generate_private_key(ec.SECP256R1()), h, c)):
        assert_error(server.get("/v1/auth/whoami", token=variant), 401, "signature")
    # The issuer is the server's URL as the client names it: under another
    # Host the same bytes are another issuer's token.
    assert_error(server.get("/v1/auth/whoami", token=tok, headers={"Host": "elsewhere.example:8200"}), 401, "iss")
    # And the token itself still works.
    assert expect(server.get("/v1/auth/whoami", token=tok))["principal"] == me


def test_who_may_obtain_one(server, acme):
    # Not the team owner, not the org admin, not another account, not root.
    for who in ["olive", "admin", "other"]:
        assert_error(issue(server, acme[who], status=401), 401, "only service account deployer itself")
    assert_error(issue(server, server.root_token, status=401), 401, "only service account deployer itself")
    # A narrowed API token of the account may not get all of its rights.
    narrow = expect(server.post(SA + "/tokens", token=acme["admin"], json={"policies": ["teams.view"]}))["token"]
    assert_error(issue(server, narrow, status=401), 401, "narrowed")
    # Another org's account is out of sight.
    gl = org_with_users(server, "globex", [("gadmin", "admin")])
    create_team(server, "globex", "ops", token=gl["gadmin"])
    expect(server.post("/v1/orgs/globex/teams/ops/service-accounts", token=gl["gadmin"], json={"name": "bot"}))
    assert_error(issue(server, acme["sa"], path="/v1/orgs/globex/teams/ops/service-accounts/bot", status=404), 404)
    assert_error(issue(server, acme["sa"], path=T + "/service-accounts/nobody", status=404), 404)


def test_workload_refresh_and_unbinding(server, acme):
    expect(server.post(T + "/workloads", token=acme["olive"], json={"name": "web"}))
    assert server.request("PUT", T + "/workloads/web/bindings/deployer", token=acme["olive"]).status_code == 204
    expect(server.post(T + "/workloads", token=acme["olive"], json={"name": "batch"}))
    # The account's API token bootstraps a workload's first token...
    first = issue(server, acme["sa"], workload="web")["token"]
    assert parts(first)[1]["workload"] == "web"
    assert_error(issue(server, acme["sa"], status=401, workload="batch"), 401, "not bound")
    # ...which acts as the workload (audited as one) and refreshes itself.
    who = expect(server.get("/v1/auth/whoami", token=first))
    assert who["principal"]["type"] == "workload" and who["principal"]["name"] == "web"
    again = issue(server, first, ttl="10m")
    c = verify_offline(again["token"], expect(server.get("/v1/oidc/jwks")))
    assert c["workload"] == "web" and c["sa"] == "deployer" and c["exp"] - c["iat"] == 600
    assert_error(issue(server, first, status=401, workload="batch"), 401, "for itself only")
    recs = expect(server.get("/v1/orgs/acme/audit", token=acme["admin"], params={"action": "sa.identity_token"}))
    mine = [x for x in recs["items"] if x["actor"]["type"] == "workload"]
    assert mine and mine[0]["actor"]["token_id"] == parts(first)[1]["jti"]
    # Unbinding stops the workload's refresh at once.
    assert server.delete(T + "/workloads/web/bindings/deployer", token=acme["olive"]).status_code == 204
    assert_error(issue(server, again["token"], status=401), 401, "bound")


def test_rotation(server, acme):
    old = issue(server, acme["sa"])["token"]
    old_kid = parts(old)[0]["kid"]
    kid = expect(server.post("/v1/sys/oidc/rotate", token=server.root_token))["kid"]
    assert kid != old_kid
    assert_error(server.post("/v1/sys/oidc/rotate", token=acme["admin"]), 401)
    new = issue(server, acme["sa"])["token"]
    assert parts(new)[0]["kid"] == kid
    jwks = expect(server.get("/v1/oidc/jwks"))
    assert {k["kid"] for k in jwks["keys"]} >= {old_kid, kid}
    verify_offline(old, jwks)
    verify_offline(new, jwks)
    expect(server.get("/v1/auth/whoami", token=old))
    expect(server.get("/v1/auth/whoami", token=new))


def test_sealed_server_answers_503(server, acme):
    tok = issue(server, acme["sa"])["token"]
    assert server.request("PUT", "/v1/sys/seal", token=server.root_token).status_code == 204
    for path in ["/.well-known/openid-configuration", "/v1/oidc/jwks", "/v1/oidc/spiffe-bundle"]:
        assert_error(server.get(path), 503, "sealed")
    assert_error(server.get("/v1/auth/whoami", token=tok), 503, "sealed")
    assert unseal(server, dev_unseal_key(server)).json()["sealed"] is False
    expect(server.get("/v1/auth/whoami", token=tok))
    remember_secret(tok)


def test_an_identity_token_never_becomes_a_lasting_credential(server, acme):
    """The chain a stolen identity token would try: mint an API token (native
    or through the Vault door) that outlives it, its binding and its key."""
    expect(server.post(T + "/service-accounts", token=acme["admin"], json={"name": "minter",
                                                                          "roles": ["team-owner"]}))
    api = expect(server.post(T + "/service-accounts/minter/tokens", token=acme["admin"], json={}))["token"]
    # The account's API token may make its own tokens ...
    made = server.post("/v1/tokens", token=api, json={"expires": "P1D"})
    assert made.status_code == 200, made.text
    # ... its identity token may not, by either door.
    jwt = issue(server, api, path=T + "/service-accounts/minter")["token"]
    assert_error(server.post("/v1/tokens", token=jwt, json={"expires": "PT1H"}), 401, "identity token")
    r = requests.post(server.url + "/v1/auth/token/create", headers={"X-Vault-Token": jwt}, json={"ttl": "1h"},
                      timeout=10)
    assert_error(r, 403, "identity token")
    assert_error(server.post(T + "/service-accounts/minter/tokens", token=jwt, json={}), 401)


def test_third_party_libraries_verify_issued_tokens_unchanged(server, acme):
    """npm jose and openid-client (pinned), as a service verifying latchkey's
    tokens would use them: discovery, the JWKS it names, offline
    verification; tampering, another audience or issuer refused."""
    tok = issue(server, acme["sa"], audience="https://orders.example")["token"]
    env = dict(os.environ, ISSUER=server.url, TOKEN=tok, AUDIENCE="https://orders.example")
    script = os.path.join(ROOT, "tests", "identity", "verify_with_jose.mjs")
    r = subprocess.run(["node", script], capture_output=True, text=True, env=env, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    claims = out.pop("claims", None)
    assert out == {"openid-client discovery": "ok", "jose verifies from the JWKS": "ok",
                   "a tampered payload is refused": "ok", "another audience is refused": "ok",
                   "another issuer is refused": "ok"}, out
    assert claims["sub"] == "spiffe://latchkey.local/org/acme/team/payments/sa/deployer"
    assert claims["aud"] == "https://orders.example" and claims["iss"] == server.url
