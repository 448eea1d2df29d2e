"""Workloads (issue 20): a team's named workloads, bound to service
accounts of the same team. Team owners and org admins manage them; whoever
sees the team sees them; another org's or team's workload (or service
account) answers like a missing one; bindings go with the workload, the
service account or the team; binding and unbinding are idempotent."""
import pytest

from helpers import (assert_error, create_org, create_team, create_user, db, expect, org_with_users, set_member,
                     token_for, wait_for)

T = "/v1/orgs/acme/teams/payments"
W = T + "/workloads"


@pytest.fixture
def team(server):
    tokens = org_with_users(server, "acme", [("admin", "admin"), ("olive", "member"), ("mark", "member"),
                                             ("vera", "member"), ("nina", "member")])
    create_team(server, "acme", "payments", token=tokens["admin"])
    create_team(server, "acme", "other", token=tokens["admin"])
    for user, role in [("olive", "owner"), ("mark", "member"), ("vera", "viewer")]:
        set_member(server, "acme", "payments", user, role, token=tokens["admin"])
    set_member(server, "acme", "other", "nina", "owner", token=tokens["admin"])
    for name in ["deployer", "reader"]:
        expect(server.post(T + "/service-accounts", token=tokens["admin"], json={"name": name}))
    expect(server.post("/v1/orgs/acme/teams/other/service-accounts", token=tokens["admin"], json={"name": "elsewhere"}))
    return tokens


def bindings(server, token, workload="web"):
    return [b["service_account"] for b in expect(server.get(W + "/" + workload + "/bindings", token=token))["items"]]


def test_create_read_list_update_delete(server, team):
    w = expect(server.post(W, token=team["olive"], json={"name": "web", "description": "The storefront"}))
    assert w["name"] == "web" and w["team"] == "payments" and w["org"] == "acme"
    assert w["description"] == "The storefront" and w["id"].startswith("wl_")
    assert w["created_at"] and w["updated_at"] and w["created_by"].startswith("user:")
    assert expect(server.get(W + "/web", token=team["mark"])) == w
    expect(server.post(W, token=team["admin"], json={"name": "batch"}))
    assert [x["name"] for x in expect(server.get(W, token=team["vera"]))["items"]] == ["web", "batch"]
    changed = expect(server.request("PATCH", W + "/web", token=team["olive"], json={"description": "New"}))
    assert changed["description"] == "New" and changed["name"] == "web"
    assert expect(server.get(W + "/web", token=team["olive"]))["description"] == "New"
    assert server.delete(W + "/web", token=team["olive"]).status_code == 204
    assert_error(server.get(W + "/web", token=team["olive"]), 404, "no workload web in team payments")
    assert_error(server.delete(W + "/web", token=team["olive"]), 404, "no workload web in team payments")


def test_listing_pages(server, team):
    for i in range(5):
        expect(server.post(W, token=team["olive"], json={"name": "w%d" % i}))
    page = expect(server.get(W, token=team["mark"], params={"limit": 2}))
    assert [x["name"] for x in page["items"]] == ["w0", "w1"] and page["next_cursor"]
    seen = [x["name"] for x in page["items"]]
    while page["next_cursor"]:
        page = expect(server.get(W, token=team["mark"], params={"limit": 2, "cursor": page["next_cursor"]}))
        seen += [x["name"] for x in page["items"]]
    assert seen == ["w0", "w1", "w2", "w3", "w4"]
    assert_error(server.get(W, token=team["mark"], params={"limit": "lots"}), 400, "limit")


def test_validation_errors_say_what_is_wrong(server, team):
    assert_error(server.post(W, token=team["olive"], json={}), 400, "name")
    assert_error(server.post(W, token=team["olive"], json={"name": "Not A Slug"}), 400, "name")
    assert_error(server.post(W, token=team["olive"], json={"name": "x" * 64}), 400, "name")
    assert_error(server.post(W, token=team["olive"], json={"name": 7}), 400, "name")
    assert_error(server.post(W, token=team["olive"], json={"name": "ok", "description": "d" * 512}), 400,
                 "description: at most 511 bytes")
    assert_error(server.post(W, token=team["olive"], json={"name": "ok", "colour": "red"}), 400, "colour")
    assert_error(server.post(W, token=team["olive"], data="{not json", headers={"Content-Type": "application/json"}),
                 400)
    expect(server.post(W, token=team["olive"], json={"name": "web"}))
    assert_error(server.post(W, token=team["olive"], json={"name": "web"}), 409,
                 "a workload named web already exists in team payments")
    assert_error(server.request("PATCH", W + "/web", token=team["olive"], json={"description": "d" * 600}), 400, "description")
    assert_error(server.request("PATCH", W + "/web", token=team["olive"], json={"name": "renamed"}), 400, "name")
    # The same name in another team is another workload.
    expect(server.post("/v1/orgs/acme/teams/other/workloads", token=team["nina"], json={"name": "web"}))


def test_only_team_owners_and_org_admins_manage(server, team):
    for who in ["olive", "admin"]:
        expect(server.post(W, token=team[who], json={"name": "by-" + who}))
    for who in ["mark", "vera", "nina"]:
        assert_error(server.post(W, token=team[who], json={"name": "by-" + who}), 401, "workloads.manage")
        assert_error(server.request("PATCH", W + "/by-olive", token=team[who], json={"description": "x"}), 401,
                     "workloads.manage")
        assert_error(server.delete(W + "/by-olive", token=team[who]), 401, "workloads.manage")
        assert_error(server.request("PUT", W + "/by-olive/bindings/deployer", token=team[who]), 401,
                     "workloads.manage")
        assert_error(server.request("DELETE", W + "/by-olive/bindings/deployer", token=team[who]), 401,
                     "workloads.manage")
    # Members, viewers (and any org member) read them.
    for who in ["mark", "vera", "nina"]:
        assert expect(server.get(W + "/by-olive", token=team[who]))["name"] == "by-olive"
        assert bindings(server, team[who], "by-olive") == []
    assert_error(server.get(W), 401)


def test_bind_and_unbind_are_idempotent(server, team):
    expect(server.post(W, token=team["olive"], json={"name": "web"}))
    for _ in range(2):
        r = server.request("PUT", W + "/web/bindings/deployer", token=team["olive"])
        assert r.status_code == 204 and r.text == "", r.text
    assert server.request("PUT", W + "/web/bindings/reader", token=team["admin"]).status_code == 204
    items = expect(server.get(W + "/web/bindings", token=team["mark"]))["items"]
    assert [b["service_account"] for b in items] == ["deployer", "reader"]
    assert items[0]["workload"] == "web" and items[0]["service_account_id"].startswith("sa_")
    assert items[0]["created_by"].startswith("user:") and items[0]["created_at"]
    for _ in range(2):
        assert server.request("DELETE", W + "/web/bindings/deployer", token=team["olive"]).status_code == 204
    assert bindings(server, team["olive"]) == ["reader"]
    page = expect(server.get(W + "/web/bindings", token=team["olive"], params={"limit": 1}))
    assert len(page["items"]) == 1 and page["next_cursor"] is None


def test_binding_needs_a_service_account_of_the_same_team(server, team):
    expect(server.post(W, token=team["olive"], json={"name": "web"}))
    other = server.request("PUT", W + "/web/bindings/elsewhere", token=team["admin"])
    missing = server.request("PUT", W + "/web/bindings/nobody", token=team["admin"])
    assert_error(other, 404, "no service account elsewhere in team payments")
    assert_error(missing, 404, "no service account nobody in team payments")
    assert other.json()["errors"][0].replace("elsewhere", "X") == missing.json()["errors"][0].replace("nobody", "X")
    assert_error(server.request("DELETE", W + "/web/bindings/elsewhere", token=team["admin"]), 404,
                 "no service account elsewhere in team payments")
    assert_error(server.request("PUT", W + "/nothing/bindings/deployer", token=team["admin"]), 404,
                 "no workload nothing in team payments")
    assert bindings(server, team["admin"]) == []


def test_binding_follows_the_subset_rule(server, team):
    # An account granted org-admin (by an org admin) holds what a team owner does not.
    expect(server.post(T + "/service-accounts", token=team["admin"], json={"name": "boss", "roles": ["org-admin"]}))
    expect(server.post(W, token=team["olive"], json={"name": "web"}))
    assert_error(server.request("PUT", W + "/web/bindings/boss", token=team["olive"]), 401,
                 "which you do not hold")
    assert server.request("PUT", W + "/web/bindings/boss", token=team["admin"]).status_code == 204
    # A token narrowed to workloads.manage does not carry what the account reads.
    narrow = expect(server.post("/v1/tokens", token=team["olive"], json={"policies": ["workloads.manage"]}))["token"]
    assert_error(server.request("PUT", W + "/web/bindings/deployer", token=narrow), 401, "which you do not hold")


def test_another_orgs_or_teams_workloads_answer_like_missing_ones(server, team):
    create_org(server, "globex")
    create_user(server, "globex", "g", role="admin")
    g = token_for(server, "globex", "g")
    expect(server.post("/v1/orgs/globex/teams", token=g, json={"name": "t"}))
    expect(server.post("/v1/orgs/globex/teams/t/workloads", token=g, json={"name": "hidden"}))
    hidden = server.get("/v1/orgs/globex/teams/t/workloads/hidden", token=team["admin"])
    missing = server.get("/v1/orgs/nosuch/teams/t/workloads/hidden", token=team["admin"])
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["errors"][0].replace("globex", "X") == missing.json()["errors"][0].replace("nosuch", "X")
    for method in ["PUT", "DELETE"]:
        r = server.request(method, "/v1/orgs/globex/teams/t/workloads/hidden/bindings/x", token=team["admin"])
        assert_error(r, 404, "no team t in organisation globex")
    # A workload of team other, asked for under payments, is missing there.
    expect(server.post("/v1/orgs/acme/teams/other/workloads", token=team["nina"], json={"name": "theirs"}))
    assert_error(server.get(W + "/theirs", token=team["admin"]), 404, "no workload theirs in team payments")


def test_deleting_the_service_account_or_the_workload_takes_the_bindings(server, team):
    for name in ["web", "batch"]:
        expect(server.post(W, token=team["olive"], json={"name": name}))
        for sa in ["deployer", "reader"]:
            assert server.request("PUT", W + "/%s/bindings/%s" % (name, sa), token=team["olive"]).status_code == 204
    assert server.delete(T + "/service-accounts/deployer", token=team["olive"]).status_code == 204
    assert bindings(server, team["olive"], "web") == ["reader"]
    assert bindings(server, team["olive"], "batch") == ["reader"]
    assert server.delete(W + "/web", token=team["olive"]).status_code == 204
    con = db(server)
    try:
        rows = con.execute("SELECT w.name FROM workload_bindings b JOIN workloads w ON w.id = b.workload_id").fetchall()
    finally:
        con.close()
    assert rows == [("batch",)]
    # A new account of the old name is another account: nothing is bound to it.
    expect(server.post(T + "/service-accounts", token=team["olive"], json={"name": "deployer"}))
    assert bindings(server, team["olive"], "batch") == ["reader"]


def test_deleting_the_team_takes_its_workloads_and_bindings(server, team):
    expect(server.post(W, token=team["olive"], json={"name": "web"}))
    assert server.request("PUT", W + "/web/bindings/deployer", token=team["olive"]).status_code == 204
    assert server.delete(T, token=team["admin"]).status_code == 204
    con = db(server)
    try:
        counts = [con.execute("SELECT count(*) FROM %s" % t).fetchone()[0] for t in ["workloads", "workload_bindings"]]
    finally:
        con.close()
    assert counts == [0, 0]
    create_team(server, "acme", "payments", token=team["admin"])
    assert expect(server.get(W, token=team["admin"]))["items"] == []
    assert_error(server.get(W + "/web", token=team["admin"]), 404, "no workload web in team payments")


def test_unbinding_is_seen_at_once_and_audited(server, team):
    expect(server.post(W, token=team["olive"], json={"name": "web"}))
    r = server.request("PUT", W + "/web/bindings/deployer", token=team["olive"])
    assert r.status_code == 204
    put = wait_for(server, r.headers["X-Request-Id"])
    r = server.request("DELETE", W + "/web/bindings/deployer", token=team["olive"])
    assert r.status_code == 204
    # The very next request (and the store) no longer sees the binding.
    assert bindings(server, team["mark"]) == []
    con = db(server)
    try:
        assert con.execute("SELECT count(*) FROM workload_bindings").fetchone()[0] == 0
    finally:
        con.close()
    gone = wait_for(server, r.headers["X-Request-Id"])
    assert put["action"] == "workload.binding.put" and gone["action"] == "workload.binding.delete"
    assert put["outcome"] == gone["outcome"] == "success"
