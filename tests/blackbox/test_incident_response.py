"""Incident response: an org admin revokes any single token of a user of
the org, a team owner any single token of the team's service accounts, and
a change to who a person is (password, programmatic-only, demotion,
removal) ends their login sessions at once."""
import pytest

from helpers import (PASSWORD, assert_error, create_org, create_team, create_user, expect as ok, login,
                     set_member, token_for)

NEW_PASSWORD = "another long passphrase"
T = "/v1/orgs/acme/teams/payments"


def works(server, token):
    return server.get("/v1/auth/whoami", token=token).status_code == 200


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_org(server, "globex")
    create_user(server, "acme", "alice", role="admin", password=PASSWORD)
    create_user(server, "acme", "bob", role="member", password=PASSWORD)
    create_user(server, "acme", "olive", role="member", password=PASSWORD)
    create_user(server, "acme", "otto", role="member")
    create_user(server, "globex", "gina", role="admin")
    t = {u: token_for(server, "acme", u, expires="never") for u in ["alice", "bob", "olive", "otto"]}
    t["gina"] = token_for(server, "globex", "gina", expires="never")
    create_team(server, "acme", "payments", token=t["alice"])
    create_team(server, "acme", "other", token=t["alice"])
    set_member(server, "acme", "payments", "olive", "owner", token=t["alice"])
    set_member(server, "acme", "other", "otto", "owner", token=t["alice"])
    ok(server.post(T + "/service-accounts", token=t["olive"], json={"name": "deployer"}))
    return t


def test_an_org_admin_revokes_one_token_of_a_user(server, acme):
    leaked = ok(server.post("/v1/tokens", token=acme["bob"], json={"description": "leaked in a paste"}))
    path = "/v1/orgs/acme/users/bob/tokens/" + leaked["id"]
    # Neither the member himself through this route, nor another org's admin.
    assert_error(server.delete(path, token=acme["olive"]), 401, "tokens.create_for_others")
    assert_error(server.delete(path, token=acme["gina"]), 404, "no organisation acme")
    assert works(server, leaked["token"])
    ok(server.delete(path, token=acme["alice"]), 204)
    assert_error(server.get("/v1/auth/whoami", token=leaked["token"]), 401, "revoked")
    assert works(server, acme["bob"])  # only that one
    # Gone now; and an id of someone else's token answers like a missing one.
    assert_error(server.delete(path, token=acme["alice"]), 404, "no token")
    other = ok(server.post("/v1/tokens", token=acme["olive"], json={}))
    assert_error(server.delete("/v1/orgs/acme/users/bob/tokens/" + other["id"], token=acme["alice"]), 404,
                 "no token " + other["id"])
    assert works(server, other["token"])
    # A session is a token too: the admin can end one.
    sess = login(server, "bob")
    sid = server.get("/v1/auth/whoami", token=sess).json()["token"]["id"]
    ok(server.delete("/v1/orgs/acme/users/bob/tokens/" + sid, token=acme["alice"]), 204)
    assert not works(server, sess)
    # The partner admin may too.
    t = ok(server.post("/v1/tokens", token=acme["bob"], json={}))
    ok(server.delete("/v1/orgs/acme/users/bob/tokens/" + t["id"], token=server.root_token), 204)
    assert not works(server, t["token"])


def test_a_team_owner_revokes_one_token_of_a_service_account(server, acme):
    a = ok(server.post(T + "/service-accounts/deployer/tokens", token=acme["olive"], json={}))
    b = ok(server.post(T + "/service-accounts/deployer/tokens", token=acme["olive"], json={}))
    path = T + "/service-accounts/deployer/tokens/" + a["id"]
    assert_error(server.delete(path, token=acme["bob"]), 401, "tokens.create_for_others")
    assert_error(server.delete(path, token=acme["otto"]), 401, "tokens.create_for_others")  # owner elsewhere
    assert_error(server.delete(path, token=acme["gina"]), 404)
    assert works(server, a["token"])
    ok(server.delete(path, token=acme["olive"]), 204)
    assert not works(server, a["token"]) and works(server, b["token"])
    # A user's token is not the account's.
    u = ok(server.post("/v1/tokens", token=acme["olive"], json={}))
    assert_error(server.delete(T + "/service-accounts/deployer/tokens/" + u["id"], token=acme["olive"]), 404,
                 "no token")
    assert works(server, u["token"])
    ok(server.delete(T + "/service-accounts/deployer/tokens/" + b["id"], token=acme["alice"]), 204)
    assert not works(server, b["token"])


def test_a_new_password_ends_the_users_sessions(server, acme):
    sess = login(server, "bob")
    assert works(server, sess)
    ok(server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["alice"], json={"password": NEW_PASSWORD}))
    assert_error(server.get("/v1/auth/whoami", token=sess), 401, "revoked")
    assert works(server, acme["bob"])  # API tokens are not sessions: revoke those one by one
    assert works(server, login(server, "bob", NEW_PASSWORD))


def test_making_a_user_programmatic_only_ends_their_sessions(server, acme):
    sess = login(server, "bob")
    ok(server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["alice"], json={"programmatic_only": True}))
    assert not works(server, sess)
    assert server.post("/v1/auth/login", json={"org": "acme", "username": "bob",
                                               "password": PASSWORD}).status_code == 401


def test_demoting_an_admin_ends_their_sessions(server, acme):
    create_user(server, "acme", "carol", role="admin", password=PASSWORD)
    sess = login(server, "carol")
    other = login(server, "bob")
    ok(server.request("PATCH", "/v1/orgs/acme/users/carol", token=acme["alice"], json={"role": "member"}))
    assert not works(server, sess)
    assert works(server, other)
    # A change that takes nothing away leaves sessions alone.
    sess = login(server, "carol")
    ok(server.request("PATCH", "/v1/orgs/acme/users/carol", token=acme["alice"], json={"email": "c@x.example"}))
    assert works(server, sess)


def test_removing_a_user_ends_their_sessions(server, acme):
    sess = login(server, "bob")
    ok(server.delete("/v1/orgs/acme/users/bob", token=acme["alice"]), 204)
    assert not works(server, sess) and not works(server, acme["bob"])


def test_a_cross_site_page_cannot_revoke_tokens_with_an_admins_cookie(server, acme):
    """The incident-response routes take the session cookie too: a page on
    another site must not be able to revoke (or, chained, lock people out)."""
    victim = ok(server.post("/v1/tokens", token=acme["bob"], json={"description": "in use"}))
    sa = ok(server.post(T + "/service-accounts/deployer/tokens", token=acme["olive"], json={}))
    admin = login(server, "alice")
    owner = login(server, "olive")
    evil = "https://wiki.corp.example"
    for sess, path in [(admin, "/v1/orgs/acme/users/bob/tokens/" + victim["id"]),
                       (owner, T + "/service-accounts/deployer/tokens/" + sa["id"])]:
        for headers in [{"Origin": evil}, {"Sec-Fetch-Site": "cross-site"}, {}]:
            r = server.request("DELETE", path, headers=dict(headers, Cookie="token=" + sess))
            assert_error(r, 400)
    assert server.get("/v1/auth/whoami", token=victim["token"]).status_code == 200
    assert server.get("/v1/auth/whoami", token=sa["token"]).status_code == 200
    # The same session from the server's own page (JSON, same origin) may.
    own = server.url
    r = server.request("DELETE", "/v1/orgs/acme/users/bob/tokens/" + victim["id"],
                       headers={"Cookie": "token=" + admin, "Origin": own, "Content-Type": "application/json"})
    assert r.status_code == 204, r.text
