"""Custom roles and groups: a group's roles apply to every member, within the
org, from the next request; nobody grants what they do not hold."""
import pytest

from helpers import assert_error, org_with_users


@pytest.fixture
def org(server):
    return org_with_users(server, "acme", [("admin", "admin"), ("carol", "member"), ("dave", "member")])


def test_roles_listing_has_builtins(server, org):
    items = server.get("/v1/orgs/acme/roles", token=org["carol"]).json()["items"]
    assert {r["name"] for r in items if r["builtin"]} == {"org-admin", "team-owner", "team-member", "viewer"}


def test_custom_role_lifecycle(server, org):
    r = server.post("/v1/orgs/acme/roles", token=org["admin"], json={"name": "auditor", "permissions": ["audit.view",
                                                                                                     "users.view"]})
    assert r.status_code == 200, r.text
    assert set(r.json()["permissions"]) == {"audit.view", "users.view"}
    names = [x["name"] for x in server.get("/v1/orgs/acme/roles", token=org["admin"]).json()["items"]]
    assert "auditor" in names
    assert_error(server.post("/v1/orgs/acme/roles", token=org["admin"], json={"name": "auditor"}), 409, "already")
    assert_error(server.post("/v1/orgs/acme/roles", token=org["admin"], json={"name": "viewer"}), 409, "built-in")
    assert_error(server.post("/v1/orgs/acme/roles", token=org["admin"],
                             json={"name": "x", "permissions": ["tokens.fly"]}), 400, "unknown permission")
    assert_error(server.post("/v1/orgs/acme/roles", token=org["carol"], json={"name": "y"}), 401, "roles.manage")
    assert_error(server.delete("/v1/orgs/acme/roles/viewer", token=org["admin"]), 400, "built-in")
    assert server.delete("/v1/orgs/acme/roles/auditor", token=org["admin"]).status_code == 204
    assert_error(server.delete("/v1/orgs/acme/roles/auditor", token=org["admin"]), 404)


def test_group_roles_apply_to_members_at_once(server, org):
    assert server.post("/v1/orgs/acme/roles", token=org["admin"],
                       json={"name": "people-admin", "permissions": ["users.manage"]}).status_code == 200
    r = server.post("/v1/orgs/acme/groups", token=org["admin"], json={"name": "hr", "roles": ["people-admin"]})
    assert r.status_code == 200, r.text
    body = {"username": "newbie", "email": "n@x.example"}
    assert_error(server.post("/v1/orgs/acme/users", token=org["carol"], json=body), 401, "users.manage")
    assert server.request("PUT", "/v1/orgs/acme/groups/hr/members/carol", token=org["admin"]).status_code == 204
    assert server.post("/v1/orgs/acme/users", token=org["carol"], json=body).status_code == 200
    groups = server.get("/v1/orgs/acme/groups", token=org["dave"]).json()["items"]
    assert groups[0]["members"] == ["carol"] and groups[0]["roles"] == ["people-admin"]
    # Leaving the group takes the grant away on the next request.
    assert server.delete("/v1/orgs/acme/groups/hr/members/carol", token=org["admin"]).status_code == 204
    assert_error(server.post("/v1/orgs/acme/users", token=org["carol"],
                             json={"username": "newbie2", "email": "n2@x.example"}), 401, "users.manage")
    assert_error(server.delete("/v1/orgs/acme/groups/hr/members/carol", token=org["admin"]), 404, "not a member")


def test_groups_follow_the_subset_rule(server, org):
    # An org admin may delegate groups.manage ...
    server.post("/v1/orgs/acme/roles", token=org["admin"], json={"name": "group-admin",
                                                                 "permissions": ["groups.manage"]})
    server.post("/v1/orgs/acme/groups", token=org["admin"], json={"name": "gm", "roles": ["group-admin"]})
    server.request("PUT", "/v1/orgs/acme/groups/gm/members/dave", token=org["admin"])
    # ... but the delegate still cannot hand out more than they hold.
    assert_error(server.post("/v1/orgs/acme/groups", token=org["dave"], json={"name": "power", "roles": ["org-admin"]}),
                 401, "which you do not hold")
    assert server.post("/v1/orgs/acme/groups", token=org["dave"], json={"name": "readers",
                                                                        "roles": ["viewer"]}).status_code == 200
    assert_error(server.post("/v1/orgs/acme/groups", token=org["admin"], json={"name": "bad", "roles": ["nope"]}),
                 400, "no role nope")
    assert_error(server.request("PUT", "/v1/orgs/acme/groups/nosuch/members/dave", token=org["admin"]), 404,
                 "no group nosuch")
