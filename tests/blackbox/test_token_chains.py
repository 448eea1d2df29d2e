"""A token never creates, rotates or deletes a credential broader than itself.

Each test performs an attack an adversarial review found (or a sibling of
one) as the attacker would: take the weakest credential that reaches a
route that issues, rotates or widens something, and see what it can end up
holding. Before the fix each of these ended with a wider credential."""
import pytest

from helpers import (PASSWORD, assert_error, create_org, create_team, create_user, expect as ok, hours_left,
                     set_member, token_for)

T = "/v1/orgs/acme/teams/payments"


def narrowed(server, token, policies, **body):
    """A token made by token with the given policies; returns (secret, answer)."""
    body["policies"] = policies
    t = ok(server.post("/v1/tokens", token=token, json=body))
    return t["token"], t


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin", password=PASSWORD)
    create_user(server, "acme", "bob", role="member", password=PASSWORD)
    create_user(server, "acme", "olive", role="member")
    create_user(server, "acme", "carol", role="admin")
    t = {u: token_for(server, "acme", u, expires="never") for u in ["alice", "bob", "olive", "carol"]}
    create_team(server, "acme", "payments", token=t["alice"])
    set_member(server, "acme", "payments", "olive", "owner", token=t["alice"])
    return t


def test_an_admin_token_narrowed_to_users_view_cannot_mint_a_token(server, acme):
    weak, _ = narrowed(server, acme["alice"], ["users.view"])
    # The attack: POST /v1/tokens with no policies used to answer a "*" token.
    assert_error(server.post("/v1/tokens", token=weak, json={}), 401, "tokens.manage")
    assert_error(server.post("/v1/tokens", token=weak, json={"policies": ["*"]}), 401, "tokens.manage")
    # Nor list, rotate or delete its owner's tokens.
    assert_error(server.get("/v1/tokens", token=weak), 401, "tokens.view")


def test_an_admin_token_narrowed_with_tokens_manage_mints_only_its_own_set(server, acme):
    weak, _ = narrowed(server, acme["alice"], ["users.view", "tokens.manage"])
    for body in [{}, {"policies": ["*"]}, {"policies": ["*", "users.manage"]}]:
        t = ok(server.post("/v1/tokens", token=weak, json=body))
        assert set(t["policies"]) == {"users.view", "tokens.manage", "tokens.view"}, t
        assert "*" not in t["policies"]
        # The minted token cannot create an admin (or anyone).
        r = server.post("/v1/orgs/acme/users", token=t["token"],
                        json={"username": "mallory", "email": "m@x.example", "role": "admin"})
        assert_error(r, 401, "users.manage")
    t = ok(server.post("/v1/tokens", token=weak, json={"policies": ["users.manage", "users.view"]}))
    assert t["policies"] == ["users.view"] and t["dropped_policies"] == ["users.manage"]
    # What it mints mints nothing wider either: the chain stays bounded.
    t = ok(server.post("/v1/tokens", token=weak, json={"policies": ["tokens.manage"]}))
    t2 = ok(server.post("/v1/tokens", token=t["token"], json={"policies": ["*", "users.view"]}))
    assert set(t2["policies"]) == {"tokens.manage", "tokens.view"} and t2["dropped_policies"] == ["users.view"]
    assert_error(server.get("/v1/orgs/acme/users", token=t2["token"]), 401, "users.view")


def test_a_narrowed_root_token_cannot_mint_an_unrestricted_one(server):
    root = server.root_token
    weak, _ = narrowed(server, root, ["audit.view", "orgs.view"])
    assert_error(server.post("/v1/tokens", token=weak, json={}), 401, "tokens.manage")
    weak2, _ = narrowed(server, root, ["audit.view", "orgs.view", "tokens.manage"])
    t = ok(server.post("/v1/tokens", token=weak2, json={"expires": "never"}))
    assert "*" not in t["policies"] and set(t["policies"]) == {"audit.view", "orgs.view", "tokens.manage",
                                                                 "tokens.view"}
    # The minted token creates and deactivates no org.
    assert_error(server.post("/v1/orgs", token=t["token"], json={"name": "evil"}), 401, "orgs.manage")
    create_org(server, "victim")
    assert_error(server.post("/v1/orgs/victim/deactivate", token=t["token"]), 401, "orgs.manage")
    assert server.get("/v1/orgs/victim", token=root).json()["status"] == "active"


def test_a_narrowed_token_cannot_rotate_or_delete_its_owners_full_token(server, acme):
    full = ok(server.post("/v1/tokens", token=acme["alice"], json={"description": "full"}))
    weak, _ = narrowed(server, acme["alice"], ["tokens.manage"])
    # The attack: rotate the full token and receive its new secret.
    r = server.post("/v1/tokens/%s/rotate" % full["id"], token=weak, json={})
    assert_error(r, 401, "which you do not hold")
    assert "token" not in r.json()
    assert_error(server.delete("/v1/tokens/" + full["id"], token=weak), 401, "which you do not hold")
    # The full token is untouched and still works.
    assert server.get("/v1/auth/whoami", token=full["token"]).status_code == 200
    # A sibling within the narrowed token's set may be rotated and deleted.
    small = ok(server.post("/v1/tokens", token=weak, json={"description": "small"}))
    rot = ok(server.post("/v1/tokens/%s/rotate" % small["id"], token=weak, json={}))
    assert set(rot["policies"]) == {"tokens.manage", "tokens.view"}
    ok(server.delete("/v1/tokens/" + rot["id"], token=weak), 204)
    # The full token may rotate anything of its owner's.
    ok(server.post("/v1/tokens/%s/rotate" % full["id"], token=acme["alice"], json={}))


def test_a_short_lived_service_account_token_cannot_mint_itself_a_long_one(server, acme):
    ok(server.post(T + "/service-accounts", token=acme["olive"], json={"name": "deployer"}))
    # team-member carries tokens.manage: the account may make its own tokens.
    ok(server.request("PUT", T + "/service-accounts/deployer/roles/team-member", token=acme["olive"]))
    short = ok(server.post(T + "/service-accounts/deployer/tokens", token=acme["olive"], json={"expires": "PT1H"}))
    # The attack: the PT1H token mints itself a P30D one.
    assert_error(server.post("/v1/tokens", token=short["token"], json={"expires": "P30D"}), 400,
                 "never outlives the token that created it")
    assert_error(server.post("/v1/tokens", token=short["token"], json={"expiry_hours": 2}), 400, "outlive")
    assert_error(server.post("/v1/tokens", token=short["token"], json={"expires": "never"}), 400)
    # Asking for nothing gives at most what is left of the creator's life.
    t = ok(server.post("/v1/tokens", token=short["token"], json={}))
    assert 0 < hours_left(t) <= 1.0
    assert t["expires_at"] <= short["expires_at"]
    ok(server.post("/v1/tokens", token=short["token"], json={"expires": "PT30M"}))
    # Rotation keeps the old expiry: a short token cannot rotate a long sibling.
    long = ok(server.post(T + "/service-accounts/deployer/tokens", token=acme["olive"], json={"expires": "P30D"}))
    assert_error(server.post("/v1/tokens/%s/rotate" % long["id"], token=short["token"], json={}), 401,
                 "outlives the token making this request")
    assert server.get("/v1/auth/whoami", token=long["token"]).status_code == 200


def test_an_api_token_cannot_outlive_itself_but_a_login_session_may(server, acme):
    server.request("PATCH", "/v1/orgs/acme/settings", token=acme["alice"], json={"token_expiry_hours": 24 * 90})
    week = token_for(server, "acme", "bob", expires="P7D")
    assert_error(server.post("/v1/tokens", token=week, json={"expires": "P30D"}), 400, "outlive")
    # A person logged in at a keyboard may make tokens up to the org's policy.
    s = ok(server.post("/v1/auth/login", json={"org": "acme", "username": "bob", "password": PASSWORD}))
    t = ok(server.post("/v1/tokens", token=s["token"], json={"expires": "P30D"}))
    assert hours_left(t) > 24 * 29
    # An admin's API token is bound the same way when it makes tokens for others.
    admin_week = token_for(server, "acme", "alice", expires="P7D")
    assert_error(server.post("/v1/orgs/acme/users/bob/tokens", token=admin_week, json={"expires": "P1Y"}), 400,
                 "outlive")
    t = ok(server.post("/v1/orgs/acme/users/bob/tokens", token=admin_week, json={}))
    assert hours_left(t) <= 24 * 7


def test_a_narrowed_admin_token_mints_users_tokens_only_within_itself(server, acme):
    weak, _ = narrowed(server, acme["alice"], ["tokens.create_for_others", "users.view"])
    # On behalf of carol, another admin: the token is bounded by the caller, not by carol.
    t = ok(server.post("/v1/orgs/acme/users/carol/tokens", token=weak, json={}))
    assert "*" not in t["policies"]
    assert "users.manage" not in t["policies"] and "orgs.manage" not in t["policies"]
    assert_error(server.post("/v1/orgs/acme/users", token=t["token"],
                             json={"username": "mallory", "email": "m@x.example", "role": "admin"}), 401)
    t = ok(server.post("/v1/orgs/acme/users/carol/tokens", token=weak, json={"policies": ["users.manage"]}))
    assert t["dropped_policies"] == ["users.manage"]


def test_a_team_owner_cannot_mint_tokens_for_an_org_admin_service_account(server, acme):
    ok(server.post(T + "/service-accounts", token=acme["olive"], json={"name": "robot"}))
    # An org admin grants the account org-admin ...
    ok(server.request("PUT", T + "/service-accounts/robot/roles/org-admin", token=acme["alice"]))
    # ... and the team owner, who is no admin, tries to mint its tokens to become one.
    assert_error(server.post(T + "/service-accounts/robot/tokens", token=acme["olive"], json={}), 401,
                 "which you do not hold")
    # The org admin may.
    t = ok(server.post(T + "/service-accounts/robot/tokens", token=acme["alice"], json={}))
    assert t["policies"] == ["*"]


def test_a_team_owners_service_account_token_lies_within_the_owner(server, acme):
    ok(server.post(T + "/service-accounts", token=acme["olive"], json={"name": "worker",
                                                                       "roles": ["team-owner"]}))
    weak, _ = narrowed(server, acme["olive"], ["tokens.create_for_others", "teams.view"])
    t = ok(server.post(T + "/service-accounts/worker/tokens", token=weak, json={}))
    assert "*" not in t["policies"] and "service_accounts.manage" not in t["policies"]
    assert_error(server.post(T + "/service-accounts", token=t["token"], json={"name": "spawn"}), 401,
                 "service_accounts.manage")
    # An owner's full token gives the account no more than the owner holds in the team.
    t = ok(server.post(T + "/service-accounts/worker/tokens", token=acme["olive"], json={}))
    assert "*" not in t["policies"] and "users.manage" not in t["policies"]
    assert "service_accounts.manage" in t["policies"]


def test_a_narrowed_admin_token_cannot_take_over_an_admin_by_password(server, acme):
    weak, _ = narrowed(server, acme["alice"], ["users.manage", "tokens.manage"])
    # Setting carol's password would let the holder log in as a full admin.
    assert_error(server.request("PATCH", "/v1/orgs/acme/users/carol", token=weak, json={"password": PASSWORD}), 401,
                 "which you do not hold")
    assert_error(server.post("/v1/orgs/acme/users", token=weak,
                             json={"username": "mallory", "email": "m@x.example", "role": "admin",
                                   "password": PASSWORD}), 401, "which you do not hold")
    assert_error(server.request("PATCH", "/v1/orgs/acme/users/bob", token=weak, json={"role": "admin"}), 401,
                 "which you do not hold")
    assert_error(server.delete("/v1/orgs/acme/users/carol", token=weak), 401, "which you do not hold")
    assert server.get("/v1/orgs/acme/users/carol", token=acme["alice"]).status_code == 200
    assert server.post("/v1/auth/login", json={"org": "acme", "username": "carol",
                                               "password": PASSWORD}).status_code == 401
    # A full admin token may do all of it.
    ok(server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["alice"], json={"role": "admin"}))


def test_a_narrowed_token_cannot_put_users_into_groups_or_teams_wider_than_itself(server, acme):
    ok(server.post("/v1/orgs/acme/groups", token=acme["alice"], json={"name": "admins", "roles": ["org-admin"]}))
    weak, _ = narrowed(server, acme["alice"], ["groups.manage", "teams.manage", "users.view"])
    assert_error(server.request("PUT", "/v1/orgs/acme/groups/admins/members/bob", token=weak), 401,
                 "which you do not hold")
    assert_error(server.request("PUT", T + "/members/bob", token=weak, json={"role": "owner"}), 401,
                 "which you do not hold")
    who = server.get("/v1/auth/whoami", token=acme["bob"]).json()
    assert "users.manage" not in who["permissions"]
    # A team owner's narrowed token cannot make new owners either.
    oweak, _ = narrowed(server, acme["olive"], ["teams.manage", "tokens.manage"])
    assert_error(server.request("PUT", T + "/members/bob", token=oweak, json={"role": "owner"}), 401,
                 "which you do not hold")
    ok(server.request("PUT", T + "/members/bob", token=acme["olive"], json={"role": "owner"}))
