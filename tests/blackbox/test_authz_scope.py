"""Authorization scope: org members hold viewer rights org-wide (and their
own tokens); team-member and team-owner rights apply inside their teams
only; a team viewer has viewer rights in that team. Before, every non-admin
org user held the team-member set org-wide (secrets.read everywhere, once
secrets exist), and a team viewer started from that set too."""
import pytest

from helpers import assert_error, create_org, create_team, create_user, expect, set_member, token_for

T = "/v1/orgs/acme/teams/payments"
VIEWER = {"orgs.view", "settings.view", "users.view", "teams.view", "groups.view", "roles.view",
          "service_accounts.view", "tokens.view", "permissions.view", "workloads.view"}


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "admin", role="admin")
    for u in ["olive", "mark", "vera", "nina"]:
        create_user(server, "acme", u)
    t = {u: token_for(server, "acme", u, expires="never") for u in ["admin", "olive", "mark", "vera", "nina"]}
    for team in ["payments", "other"]:
        create_team(server, "acme", team, token=t["admin"])
    for u, role in [("olive", "owner"), ("mark", "member"), ("vera", "viewer")]:
        set_member(server, "acme", "payments", u, role, token=t["admin"])
    return t


def mint(server, token, policies):
    return expect(server.post("/v1/tokens", token=token, json={"policies": policies}))


def test_an_org_member_holds_viewer_rights_and_own_tokens_org_wide(server, acme):
    for u in ["olive", "mark", "vera", "nina"]:
        perms = set(server.get("/v1/auth/whoami", token=acme[u]).json()["permissions"])
        assert perms == VIEWER | {"tokens.manage"}, (u, perms)
        assert "secrets.read" not in perms


def test_a_member_outside_any_team_cannot_mint_team_rights(server, acme):
    t = mint(server, acme["nina"], ["secrets.read", "teams.manage", "users.view"])
    assert t["policies"] == ["users.view"]
    assert sorted(t["dropped_policies"]) == ["secrets.read", "teams.manage"]


def test_team_member_rights_are_the_members_only_inside_the_team(server, acme):
    # mark may make a token carrying secrets.read: he holds it in payments ...
    assert "secrets.read" in mint(server, acme["mark"], ["secrets.read"])["policies"]
    # ... and vera, a viewer there, may not.
    t = mint(server, acme["vera"], ["secrets.read", "teams.view"])
    assert t["dropped_policies"] == ["secrets.read"]


def test_a_team_viewer_has_viewer_rights_in_that_team(server, acme):
    assert server.get(T + "/members", token=acme["vera"]).status_code == 200
    assert server.get(T + "/service-accounts", token=acme["vera"]).status_code == 200
    assert_error(server.request("PATCH", T, token=acme["vera"], json={"description": "x"}), 401, "teams.manage")
    assert_error(server.post(T + "/service-accounts", token=acme["vera"], json={"name": "x"}), 401,
                 "service_accounts.manage")


def test_team_owner_rights_stop_at_the_teams_edge(server, acme):
    assert server.request("PATCH", T, token=acme["olive"], json={"description": "mine"}).status_code == 200
    assert_error(server.request("PATCH", "/v1/orgs/acme/teams/other", token=acme["olive"],
                                json={"description": "not mine"}), 401, "teams.manage")
    assert_error(server.post("/v1/orgs/acme/teams/other/service-accounts", token=acme["olive"], json={"name": "x"}),
                 401, "service_accounts.manage")
    # Team rights do not leak into org-wide rights either.
    assert_error(server.post("/v1/orgs/acme/teams", token=acme["olive"], json={"name": "new"}), 401, "teams.manage")
