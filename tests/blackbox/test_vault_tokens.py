"""Vault's token endpoints (/v1/auth/token/...) against the real binary:
the envelope shapes the clients read, and the chains an attacker would try
(a narrowed token minting a wider child, a child outliving its parent,
renewing past the maximum, a limited-use token making children, revoking
someone else's token by accessor, a revoked parent's children still
working), with num_uses and subtree revocation under concurrency."""
import concurrent.futures
import threading
import time

import pytest
import requests

from helpers import assert_error, create_org, create_user, expect, remember_secret, token_for

# What hvac sends with every create.
HVAC = {"no_parent": False, "no_default_policy": False, "renewable": True, "display_name": "token", "num_uses": 0}
AUTH_KEYS = {"client_token", "accessor", "policies", "token_policies", "metadata", "lease_duration", "renewable",
             "entity_id", "token_type", "orphan", "mfa_requirement", "num_uses"}
LOOKUP_KEYS = {"accessor", "creation_time", "creation_ttl", "display_name", "entity_id", "expire_time",
               "explicit_max_ttl", "id", "issue_time", "meta", "num_uses", "orphan", "path", "policies", "renewable",
               "ttl", "type"}
ENVELOPE_KEYS = {"request_id", "lease_id", "renewable", "lease_duration", "data", "wrap_info", "warnings", "auth"}


def vt(s, method, op, tok, body=None):
    return s.request(method, "/v1/auth/token/" + op, headers={"X-Vault-Token": tok}, json=body)


def create(s, tok, **body):
    r = vt(s, "POST", "create", tok, dict(HVAC, **body))
    assert r.status_code == 200, r.text
    return r.json()["auth"]


def works(s, tok):
    return vt(s, "GET", "lookup-self", tok).status_code == 200


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    for name, role in [("alice", "member"), ("bob", "member"), ("ada", "admin")]:
        create_user(server, "acme", name, role=role)
    return {n: token_for(server, "acme", n) for n in ("alice", "bob", "ada")}


# --- shapes --------------------------------------------------------------------------


def test_create_answers_vaults_envelope_with_auth(server, acme):
    r = vt(server, "POST", "create", acme["alice"],
           dict(HVAC, policies=["P1"], meta={"user": "x"}, ttl="1h", display_name="app"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == ENVELOPE_KEYS
    assert body["data"] is None and body["wrap_info"] is None and body["lease_id"] == ""
    assert body["warnings"] == ['Policy "p1" does not exist']
    auth = body["auth"]
    assert set(auth) == AUTH_KEYS
    assert auth["policies"] == auth["token_policies"] == ["default", "p1"]
    assert auth["metadata"] == {"user": "x"} and auth["lease_duration"] == 3600 and auth["renewable"] is True
    assert auth["entity_id"] == "" and auth["token_type"] == "service" and auth["orphan"] is False
    assert auth["mfa_requirement"] is None and auth["num_uses"] == 0
    assert auth["client_token"].startswith(auth["accessor"] + "_")
    # It is a latchkey token: the native API knows it as alice's.
    mine = expect(server.get("/v1/tokens", token=acme["alice"]))["items"]
    assert auth["accessor"] in [t["id"] for t in mine]


def test_lookup_self_shape_and_node_vault_style_requests(server, acme):
    # node-vault: ttl as a string, renew-self with no body.
    auth = create(server, acme["alice"], ttl="90m", display_name="my app!", meta={"k": "v"})
    tok = auth["client_token"]
    for method in ("GET", "POST", "PUT"):
        r = vt(server, method, "lookup-self", tok)
        assert r.status_code == 200, r.text
        d = r.json()["data"]
        assert set(d) == LOOKUP_KEYS
        assert d["id"] == tok and d["accessor"] == auth["accessor"] and d["display_name"] == "token-my-app"
        assert d["path"] == "auth/token/create" and d["type"] == "service" and d["orphan"] is False
        assert d["meta"] == {"k": "v"} and d["creation_ttl"] == 5400 and 0 < d["ttl"] <= 5400
        assert d["expire_time"].endswith("Z") and d["policies"] == ["default"]
    r = server.request("POST", "/v1/auth/token/renew-self", headers={"X-Vault-Token": tok})
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["client_token"] == tok and r.json()["auth"]["lease_duration"] == 5400
    d = vt(server, "GET", "lookup-self", tok).json()["data"]
    assert d["last_renewal_time"] >= d["creation_time"]


def test_native_tokens_show_defaults_and_are_not_renewable(server, acme):
    d = vt(server, "GET", "lookup-self", server.root_token).json()["data"]
    assert d["policies"] == ["root"] and d["expire_time"] is None and d["ttl"] == 0 and d["orphan"] is True
    d = vt(server, "GET", "lookup-self", acme["alice"]).json()["data"]
    assert d["policies"] == ["default"] and d["renewable"] is False and d["meta"] is None
    assert_error(vt(server, "POST", "renew-self", server.root_token, {}), 400, "lease is not renewable")
    assert_error(vt(server, "POST", "renew-self", acme["alice"], {}), 400, "lease is not renewable")
    child = create(server, acme["alice"], renewable=False)["client_token"]
    assert_error(vt(server, "POST", "renew-self", child, {"increment": "1h"}), 400, "lease is not renewable")


def test_lookup_and_accessor_lookup(server, acme):
    auth = create(server, acme["alice"])
    d = expect(vt(server, "POST", "lookup", acme["alice"], {"token": auth["client_token"]}))["data"]
    assert d["id"] == auth["client_token"]
    d = expect(vt(server, "POST", "lookup-accessor", acme["alice"], {"accessor": auth["accessor"]}))["data"]
    assert d["id"] == "" and d["accessor"] == auth["accessor"]
    tok = auth["client_token"]
    assert_error(vt(server, "POST", "lookup", acme["alice"], {"token": tok[:-1] + ("y" if tok[-1] == "x" else "x")}),
                 403, "bad token")
    assert_error(vt(server, "POST", "lookup-accessor", acme["alice"], {"accessor": "lk_user_AAAAAAAAAAAA"}), 400,
                 "invalid accessor")
    assert_error(vt(server, "POST", "lookup-accessor", acme["alice"], {}), 400, "missing accessor")


# --- the rules -------------------------------------------------------------------------


def test_child_policies_must_be_within_the_parents(server, acme):
    # A token held to Vault policies needs one that lets it create tokens (as in Vault).
    bare = create(server, acme["alice"], policies=["p0"])["client_token"]
    assert_error(vt(server, "POST", "create", bare, dict(HVAC)), 403, "auth/token/create")
    r = requests.put(server.url + "/v1/sys/policy/p1", headers={"X-Vault-Token": acme["ada"]}, timeout=10,
                     json={"policy": 'path "auth/token/create" { capabilities = ["update"] }'})
    assert r.status_code == 204, r.text
    child = create(server, acme["alice"], policies=["p1"])["client_token"]
    assert_error(vt(server, "POST", "create", child, dict(HVAC, policies=["p2"])), 400,
                 "child policies must be subset of parent")
    assert_error(vt(server, "POST", "create", child, dict(HVAC, policies=["root"])), 400,
                 "child policies must be subset of parent")
    assert create(server, child, policies=["p1"])["policies"] == ["default", "p1"]
    assert create(server, child)["policies"] == ["default", "p1"]  # inherited
    assert create(server, child, no_default_policy=True)["policies"] == ["p1"]
    # Only root (the partner admin) hands out root, period and orphans.
    assert_error(vt(server, "POST", "create", acme["alice"], dict(HVAC, policies=["root"])), 400, "subset of parent")
    assert_error(vt(server, "POST", "create", acme["alice"], dict(HVAC, period="1h")), 400,
                 "root or sudo privileges required to create periodic token")
    assert_error(vt(server, "POST", "create", acme["alice"], dict(HVAC, no_parent=True)), 400,
                 "root or sudo privileges required to create orphan token")
    assert_error(vt(server, "POST", "create-orphan", acme["alice"], {}), 400, "orphan token")
    assert_error(vt(server, "POST", "create", acme["alice"], dict(HVAC, id="my-token")), 400, "own token ids")
    orphan = create(server, server.root_token, no_parent=True, policies=["root"], period="2h")
    assert orphan["orphan"] is True and orphan["policies"] == ["root"] and orphan["lease_duration"] == 7200


def test_a_narrowed_token_never_mints_a_wider_child(server, acme):
    narrow = expect(server.post("/v1/tokens", token=acme["ada"],
                                json={"policies": ["tokens.manage"]}))["token"]
    assert_error(server.get("/v1/orgs/acme/users", token=narrow), 401)
    # Vault policies do not widen anything: the child's latchkey rights are the parent's at most.
    child = create(server, narrow, policies=["admin", "anything"])["client_token"]
    assert_error(server.get("/v1/orgs/acme/users", token=child), 401)
    expect(server.get("/v1/orgs/acme/users", token=acme["ada"]))


def test_a_child_never_outlives_its_parent(server, acme):
    parent = expect(server.post("/v1/tokens", token=acme["alice"], json={"expires": "PT2H"}))["token"]
    auth = create(server, parent, ttl="24h")
    assert 7100 <= auth["lease_duration"] <= 7200
    r = vt(server, "POST", "renew-self", auth["client_token"], {"increment": "48h"})
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["lease_duration"] <= 7200
    assert "TTL value is capped accordingly" in r.json()["warnings"][0]


def test_renewing_never_passes_the_maximum(server, acme):
    auth = create(server, acme["alice"], ttl="1h", explicit_max_ttl="2h")
    r = vt(server, "POST", "renew-self", auth["client_token"], {"increment": "10h"})
    assert r.status_code == 200, r.text
    assert 7100 <= r.json()["auth"]["lease_duration"] <= 7200
    assert r.json()["warnings"] == [
        'TTL of "10h0m0s" exceeded the effective max_ttl of "%s"; TTL value is capped accordingly'
        % r.json()["warnings"][0].split('max_ttl of "')[1].split('"')[0]]
    # Renewal by the parent, by accessor, is capped the same way.
    r = vt(server, "POST", "renew-accessor", acme["alice"], {"accessor": auth["accessor"], "increment": 7200 * 10})
    assert r.status_code == 200, r.text
    assert r.json()["auth"]["lease_duration"] <= 7200 and r.json()["auth"]["client_token"] == ""
    # The org's expiry rule caps too (720 hours by default; Vault's maximum is 768).
    long = create(server, acme["alice"], ttl="768h")
    assert long["lease_duration"] <= 720 * 3600


def test_a_limited_use_token_makes_no_children_and_is_spent(server, acme):
    auth = create(server, acme["alice"], num_uses=3)
    tok = auth["client_token"]
    assert auth["num_uses"] == 3
    assert_error(vt(server, "POST", "create", tok, HVAC), 400, "restricted use token cannot generate child tokens")
    # That refusal was a use; so is a native request.
    expect(server.get("/v1/auth/whoami", token=tok))
    d = expect(vt(server, "GET", "lookup-self", tok))["data"]
    assert d["num_uses"] == 0
    assert_error(vt(server, "GET", "lookup-self", tok), 403)
    assert_error(server.get("/v1/auth/whoami", token=tok), 401)
    # Revoked once spent: gone from the owner's tokens.
    assert auth["accessor"] not in [t["id"] for t in expect(server.get("/v1/tokens", token=acme["alice"]))["items"]]
    assert_error(vt(server, "POST", "lookup-accessor", acme["alice"], {"accessor": auth["accessor"]}), 400)


def test_num_uses_holds_under_concurrency(server, acme):
    tok = create(server, acme["alice"], num_uses=3)["client_token"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda _: server.get("/v1/auth/whoami", token=tok).status_code, range(24)))
    assert sorted(codes).count(200) == 3, codes
    assert set(codes) == {200, 401}, codes


def test_nobody_looks_up_renews_or_revokes_someone_elses_token(server, acme):
    auth = create(server, acme["alice"])
    tok, acc = auth["client_token"], auth["accessor"]
    bob = acme["bob"]
    assert_error(vt(server, "POST", "revoke-accessor", bob, {"accessor": acc}), 400, "invalid accessor")
    assert_error(vt(server, "POST", "lookup-accessor", bob, {"accessor": acc}), 400, "invalid accessor")
    assert_error(vt(server, "POST", "renew-accessor", bob, {"accessor": acc}), 400, "invalid accessor")
    assert_error(vt(server, "POST", "lookup", bob, {"token": tok}), 403, "bad token")
    assert_error(vt(server, "POST", "revoke", bob, {"token": tok}), 403)
    assert_error(vt(server, "POST", "revoke-orphan", bob, {"token": tok}), 400, "root or sudo")
    assert works(server, tok)
    # Another org's admin neither.
    create_org(server, "globex")
    create_user(server, "globex", "gina", role="admin")
    gina = token_for(server, "globex", "gina")
    assert_error(vt(server, "POST", "revoke-accessor", gina, {"accessor": acc}), 400, "invalid accessor")
    assert works(server, tok)
    # alice's org admin may, as natively; and an unknown token is done already.
    assert vt(server, "POST", "revoke-accessor", acme["ada"], {"accessor": acc}).status_code == 204
    assert not works(server, tok)
    assert vt(server, "POST", "revoke", bob, {"token": tok}).status_code == 204


def test_revoking_a_parent_revokes_its_subtree_at_once(server, acme):
    a = create(server, acme["alice"])["client_token"]
    b = create(server, a)["client_token"]
    c = create(server, b)["client_token"]
    sibling = create(server, acme["alice"])["client_token"]
    for t in (a, b, c):
        assert works(server, t)  # cached
    assert vt(server, "POST", "revoke-self", a, {}).status_code == 204
    assert [works(server, t) for t in (a, b, c, sibling)] == [False, False, False, True]


def test_a_native_delete_takes_the_subtree_too(server, acme):
    parent = expect(server.post("/v1/tokens", token=acme["alice"], json={}))
    child = create(server, parent["token"])["client_token"]
    assert works(server, child)
    assert server.delete("/v1/tokens/" + parent["id"], token=acme["alice"]).status_code == 204
    assert not works(server, child)


def test_revoke_orphan_keeps_the_children(server, acme):
    root = server.root_token
    mid = create(server, root)
    kid = create(server, mid["client_token"])["client_token"]
    assert vt(server, "POST", "revoke-orphan", root, {"token": mid["client_token"]}).status_code == 204
    assert not works(server, mid["client_token"])
    d = expect(vt(server, "GET", "lookup-self", kid))["data"]
    assert d["orphan"] is True


def test_subtree_revocation_races_child_creation(server, acme):
    """Children made while their ancestor is revoked either exist before the
    revocation (and go with it) or are refused: none survives."""
    top = create(server, acme["alice"])["client_token"]
    mids = [create(server, top)["client_token"] for _ in range(4)]
    made, lock, stop = [], threading.Lock(), threading.Event()

    def spawn(parent):
        while not stop.is_set():
            r = vt(server, "POST", "create", parent, HVAC)
            if r.status_code != 200:
                return
            with lock:
                made.append(remember_secret(r.json()["auth"]["client_token"]))

    threads = [threading.Thread(target=spawn, args=(m,)) for m in mids]
    for t in threads:
        t.start()
    time.sleep(0.3)
    assert vt(server, "POST", "revoke-self", top, {}).status_code == 204
    stop.set()
    for t in threads:
        t.join()
    assert made, "no child was made before the revocation"
    alive = [t for t in mids + made if works(server, t)]
    assert alive == []


def test_door_acl_holds_tokens_to_their_vault_policies(server, acme):
    ns = {"X-Vault-Namespace": "acme"}
    assert server.request("PUT", "/v1/secret/app", headers=dict(ns, **{"X-Vault-Token": acme["ada"]}),
                          json={"k": "v"}).status_code == 204
    # Org-wide secrets are the org admins': ada's children.
    inherited = create(server, acme["ada"])["client_token"]
    named = create(server, acme["ada"], policies=["p1"])["client_token"]
    assert server.get("/v1/secret/app", headers={"X-Vault-Token": inherited}).status_code == 200
    # "p1" does not exist (yet): it grants nothing, as in Vault.
    r = server.get("/v1/secret/app", headers={"X-Vault-Token": named})
    assert_error(r, 403, "permission denied")
    # The root policy allows what latchkey rights allow.
    assert server.get("/v1/secret/app", headers={"X-Vault-Token": create(server, server.root_token,
                                                                         policies=["root"])["client_token"],
                                                 **ns}).status_code == 200


def test_logging_out_revokes_the_sessions_children(server, acme):
    from helpers import PASSWORD
    expect(server.request("PATCH", "/v1/orgs/acme/users/bob", token=server.root_token, json={"password": PASSWORD}))
    r = server.post("/v1/auth/login", json={"org": "acme", "username": "bob", "password": PASSWORD})
    sess = expect(r)["token"]
    child = create(server, sess)["client_token"]
    assert works(server, child)
    assert server.post("/v1/auth/logout", token=sess).status_code in (200, 204)
    assert not works(server, child)
