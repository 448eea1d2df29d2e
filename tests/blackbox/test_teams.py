"""Teams and their members: org admins create and delete teams, team owners
manage their team's members, and a team of another org answers like a
missing one."""
import pytest

from helpers import assert_error, create_org, create_team, create_user, org_with_users, set_member, token_for


@pytest.fixture
def org(server):
    tokens = org_with_users(server, "acme", [("admin", "admin"), ("olive", "member"), ("mark", "member"),
                                             ("vera", "member"), ("outsider", "member")])
    create_team(server, "acme", "payments", token=tokens["admin"], description="Pay")
    for user, role in [("olive", "owner"), ("mark", "member"), ("vera", "viewer")]:
        set_member(server, "acme", "payments", user, role, token=tokens["admin"])
    return tokens


def test_team_crud_by_org_admin(server, org):
    t = server.get("/v1/orgs/acme/teams/payments", token=org["admin"]).json()
    assert t["name"] == "payments" and t["description"] == "Pay" and t["id"].startswith("team_")
    assert_error(server.post("/v1/orgs/acme/teams", token=org["admin"], json={"name": "payments"}), 409,
                 "already exists")
    assert_error(server.post("/v1/orgs/acme/teams", token=org["admin"], json={"name": "Bad Name"}), 400, "name")
    names = [x["name"] for x in server.get("/v1/orgs/acme/teams", token=org["outsider"]).json()["items"]]
    assert names == ["payments"]


def test_members_listing(server, org):
    members = server.get("/v1/orgs/acme/teams/payments/members", token=org["vera"]).json()["items"]
    assert [(m["username"], m["role"]) for m in members] == [("mark", "member"), ("olive", "owner"),
                                                              ("vera", "viewer")]


def test_team_owner_manages_members_others_cannot(server, org):
    put = lambda tok, user, role: server.request("PUT", "/v1/orgs/acme/teams/payments/members/" + user,
                                                 token=tok, json={"role": role})
    assert put(org["olive"], "outsider", "member").status_code == 200
    assert_error(put(org["mark"], "outsider", "owner"), 401, "teams.manage")
    assert_error(put(org["vera"], "outsider", "owner"), 401, "teams.manage")
    assert_error(put(org["olive"], "nobody", "member"), 404, "no user nobody")
    assert_error(put(org["olive"], "outsider", "boss"), 400, "role")
    assert server.delete("/v1/orgs/acme/teams/payments/members/outsider", token=org["olive"]).status_code == 204
    assert_error(server.delete("/v1/orgs/acme/teams/payments/members/outsider", token=org["olive"]), 404,
                 "not a member")


def test_team_owner_updates_but_cannot_delete_the_team(server, org):
    r = server.request("PATCH", "/v1/orgs/acme/teams/payments", token=org["olive"], json={"description": "New"})
    assert r.status_code == 200 and r.json()["description"] == "New"
    assert_error(server.request("PATCH", "/v1/orgs/acme/teams/payments", token=org["mark"],
                                json={"description": "x"}), 401, "teams.manage")
    assert_error(server.delete("/v1/orgs/acme/teams/payments", token=org["olive"]), 401, "teams.manage")
    assert server.delete("/v1/orgs/acme/teams/payments", token=org["admin"]).status_code == 204
    assert_error(server.get("/v1/orgs/acme/teams/payments", token=org["admin"]), 404, "no team payments")


def test_another_orgs_team_answers_like_a_missing_one(server, org):
    create_org(server, "globex")
    create_user(server, "globex", "gadmin", role="admin")
    g = token_for(server, "globex", "gadmin")
    assert server.post("/v1/orgs/globex/teams", token=g, json={"name": "secret-team"}).status_code == 200
    for path in ["/v1/orgs/globex/teams/secret-team", "/v1/orgs/globex/teams/secret-team/members"]:
        hidden = server.get(path, token=org["admin"])
        missing = server.get(path.replace("secret-team", "no-team"), token=org["admin"])
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["errors"][0].replace("secret-team", "X") == \
            missing.json()["errors"][0].replace("no-team", "X")
    # And a team name that exists in another org is still "no team" in yours.
    assert_error(server.get("/v1/orgs/acme/teams/secret-team", token=org["admin"]), 404, "no team secret-team")


def test_deleting_a_user_removes_their_memberships(server, org):
    assert server.delete("/v1/orgs/acme/users/mark", token=org["admin"]).status_code == 204
    members = server.get("/v1/orgs/acme/teams/payments/members", token=org["admin"]).json()["items"]
    assert "mark" not in [m["username"] for m in members]
