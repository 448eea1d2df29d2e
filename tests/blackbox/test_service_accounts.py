"""Service accounts: owned by a team, managed only by its owners
(and org admins), read-everything-but-secrets by default, extra roles only
within the granter's own permissions, tokens revoked with the account."""
import pytest

from helpers import (assert_error, create_org, create_team, create_user, expect, org_with_users, set_member,
                     token_for)

BASE = "/v1/orgs/acme/teams/payments/service-accounts"


@pytest.fixture
def team(server):
    tokens = org_with_users(server, "acme", [("admin", "admin"), ("olive", "member"), ("mark", "member")])
    create_team(server, "acme", "payments", token=tokens["admin"])
    for user, role in [("olive", "owner"), ("mark", "member")]:
        set_member(server, "acme", "payments", user, role, token=tokens["admin"])
    return tokens


def sa_token(server, owner_token, sa, **body):
    return expect(server.post(BASE + "/" + sa + "/tokens", token=owner_token, json=body))["token"]


def test_only_team_owners_create_service_accounts(server, team):
    r = server.post(BASE, token=team["olive"], json={"name": "deployer", "description": "Deploys payments"})
    assert r.status_code == 200, r.text
    a = r.json()
    assert a["name"] == "deployer" and a["team"] == "payments" and a["roles"] == [] and a["id"].startswith("sa_")
    assert_error(server.post(BASE, token=team["mark"], json={"name": "mine"}), 401, "service_accounts.manage")
    assert_error(server.post(BASE, token=team["olive"], json={"name": "deployer"}), 409, "already exists")
    assert_error(server.post(BASE, token=team["olive"], json={"name": "Not A Slug"}), 400, "name")
    names = [x["name"] for x in server.get(BASE, token=team["mark"]).json()["items"]]
    assert names == ["deployer"]


def test_service_account_token_and_default_permissions(server, team):
    server.post(BASE, token=team["olive"], json={"name": "reader"})
    # P7D: olive's own token (the org default, 30 days) bounds what it makes.
    tok = sa_token(server, team["olive"], "reader", description="ci", expires="P7D")
    assert tok.startswith("lk_sa_")
    who = server.get("/v1/auth/whoami", token=tok).json()
    assert who["principal"] == {"type": "service_account", "name": "reader", "org": "acme", "team": "payments"}
    perms = set(who["permissions"])
    assert "users.view" in perms and "teams.view" in perms
    assert not any(p.startswith("secrets.") for p in perms)
    assert not any(p.endswith(".manage") for p in perms)
    # It reads what a member may read, and cannot change anything.
    assert server.get("/v1/orgs/acme/users", token=tok).status_code == 200
    assert_error(server.post("/v1/orgs/acme/teams", token=tok, json={"name": "x"}), 401, "teams.manage")


def test_members_cannot_make_tokens_for_service_accounts(server, team):
    server.post(BASE, token=team["olive"], json={"name": "bot"})
    assert_error(server.post(BASE + "/bot/tokens", token=team["mark"], json={}), 401, "tokens.create_for_others")


def test_roles_follow_the_subset_rule(server, team):
    server.post(BASE, token=team["olive"], json={"name": "ops"})
    # A team owner may grant team-member (which they hold) ...
    r = server.request("PUT", BASE + "/ops/roles/team-member", token=team["olive"])
    assert r.status_code == 200 and r.json()["roles"] == ["team-member"]
    # ... but not org-admin, which carries permissions they do not have.
    assert_error(server.request("PUT", BASE + "/ops/roles/org-admin", token=team["olive"]), 401,
                 "which you do not hold")
    assert_error(server.post(BASE, token=team["olive"], json={"name": "boss", "roles": ["org-admin"]}), 401,
                 "which you do not hold")
    # The org admin holds everything and may.
    assert server.request("PUT", BASE + "/ops/roles/org-admin", token=team["admin"]).status_code == 200
    assert_error(server.request("PUT", BASE + "/ops/roles/wizard", token=team["admin"]), 400, "unknown role")


def test_taking_a_role_narrows_tokens_at_once(server, team):
    server.post(BASE, token=team["admin"], json={"name": "granted", "roles": ["org-admin"]})
    tok = sa_token(server, team["admin"], "granted")
    assert server.post("/v1/orgs/acme/teams", token=tok, json={"name": "made-by-sa"}).status_code == 200
    assert server.request("DELETE", BASE + "/granted/roles/org-admin", token=team["admin"]).status_code == 200
    assert_error(server.post("/v1/orgs/acme/teams", token=tok, json={"name": "again"}), 401, "teams.manage")


def test_deleting_a_service_account_revokes_its_tokens(server, team):
    server.post(BASE, token=team["olive"], json={"name": "temp"})
    tok = sa_token(server, team["olive"], "temp")
    assert server.get("/v1/auth/whoami", token=tok).status_code == 200
    assert server.delete(BASE + "/temp", token=team["olive"]).status_code == 204
    assert_error(server.get("/v1/auth/whoami", token=tok), 401, "revoked")
    assert_error(server.get(BASE + "/temp", token=team["olive"]), 404, "no service account temp")


def test_deleting_the_team_revokes_its_service_accounts_tokens(server, team):
    server.post(BASE, token=team["olive"], json={"name": "doomed"})
    tok = sa_token(server, team["olive"], "doomed")
    assert server.get("/v1/auth/whoami", token=tok).status_code == 200
    assert server.delete("/v1/orgs/acme/teams/payments", token=team["admin"]).status_code == 204
    assert_error(server.get("/v1/auth/whoami", token=tok), 401, "revoked")


def test_service_accounts_of_another_org_answer_like_missing_ones(server, team):
    create_org(server, "globex")
    create_user(server, "globex", "g", role="admin")
    g = token_for(server, "globex", "g")
    server.post("/v1/orgs/globex/teams", token=g, json={"name": "t"})
    server.post("/v1/orgs/globex/teams/t/service-accounts", token=g, json={"name": "hidden"})
    hidden = server.get("/v1/orgs/globex/teams/t/service-accounts/hidden", token=team["admin"])
    missing = server.get("/v1/orgs/nosuch/teams/t/service-accounts/hidden", token=team["admin"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["errors"][0].replace("globex", "X") == missing.json()["errors"][0].replace("nosuch", "X")


def test_team_roles_granted_to_a_service_account_apply_in_its_team_only(server, team):
    server.post("/v1/orgs/acme/teams", token=team["admin"], json={"name": "other"})
    server.post(BASE, token=team["olive"], json={"name": "helper", "roles": ["team-owner"]})
    tok = sa_token(server, team["olive"], "helper")
    # In its own team it may manage service accounts ...
    assert server.post(BASE, token=tok, json={"name": "made-by-helper"}).status_code == 200
    # ... but not in another team, and not org-wide.
    assert_error(server.post("/v1/orgs/acme/teams/other/service-accounts", token=tok, json={"name": "x"}), 401,
                 "service_accounts.manage")
    assert_error(server.post("/v1/orgs/acme/users/mark/tokens", token=tok, json={}), 401, "tokens.create_for_others")
