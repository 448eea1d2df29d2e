"""Organisations and the partner API, users, and tokens made on a
user's behalf: lifecycle, visibility (another org answers like a missing
one), and the 401s of pending and deactivated orgs."""
import os

import pytest

from helpers import PASSWORD, assert_error, create_org, create_user, remember_secret, signup, token_for


@pytest.fixture
def acme(server):
    """An active org with an admin and a member, each with an API token."""
    create_org(server, "acme")
    create_user(server, "acme", "alice", role="admin")
    create_user(server, "acme", "bob", role="member")
    return {"admin": token_for(server, "acme", "alice"), "member": token_for(server, "acme", "bob")}


def test_root_creates_an_active_org(server):
    o = create_org(server, "globex")
    assert o["name"] == "globex" and o["status"] == "active" and o["id"].startswith("org_")
    assert o["settings"]["token_expiry_hours"] >= 1
    assert server.get("/v1/orgs/globex", token=server.root_token).json()["id"] == o["id"]


@pytest.mark.parametrize("name", ["", "Acme", "-acme", "a_b", "a" * 64, "acme corp"])
def test_org_names_are_slugs(server, name):
    assert_error(server.post("/v1/orgs", token=server.root_token, json={"name": name}), 400, "name")


def test_duplicate_org_name_is_409(server):
    create_org(server, "dup")
    assert_error(server.post("/v1/orgs", token=server.root_token, json={"name": "dup"}), 409, "already exists")


def test_signup_lands_pending_and_its_users_cannot_authenticate_until_approved(server):
    r = server.post("/v1/orgs/signup", json={"name": "initech", "display_name": "Initech",
                                             "admin": {"username": "peter", "email": "peter@initech.example",
                                                       "password": PASSWORD}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "pending"
    assert body["admin"]["username"] == "peter" and body["admin"]["role"] == "admin"
    assert body["admin"]["has_password"] is True
    assert PASSWORD not in r.text and "scrypt" not in r.text
    # The partner admin generates an API key for the org's admin.
    tok = token_for(server, "initech", "peter")
    assert_error(server.get("/v1/auth/whoami", token=tok), 401, "pending approval")
    r = server.post("/v1/orgs/initech/approve", token=server.root_token)
    assert r.status_code == 200 and r.json()["status"] == "active"
    who = server.get("/v1/auth/whoami", token=tok)
    assert who.status_code == 200, who.text
    assert who.json()["principal"] == {"type": "user", "name": "peter", "org": "initech", "team": None}


def test_deactivate_and_activate_without_reissuing(server, acme):
    assert server.get("/v1/auth/whoami", token=acme["admin"]).status_code == 200
    assert server.post("/v1/orgs/acme/deactivate", token=server.root_token).json()["status"] == "deactivated"
    assert_error(server.get("/v1/auth/whoami", token=acme["admin"]), 401, "deactivated")
    assert_error(server.get("/v1/auth/whoami", token=acme["member"]), 401, "deactivated")
    assert server.post("/v1/orgs/acme/activate", token=server.root_token).json()["status"] == "active"
    assert server.get("/v1/auth/whoami", token=acme["admin"]).status_code == 200


def test_lifecycle_rules(server):
    create_org(server, "cyc")
    assert_error(server.post("/v1/orgs/cyc/approve", token=server.root_token), 400, "not pending")
    server.post("/v1/orgs/signup", json={"name": "pend", "admin": {"username": "a", "email": "a@b.example",
                                                                  "password": PASSWORD}})
    assert_error(server.post("/v1/orgs/pend/activate", token=server.root_token), 400, "approve it instead")
    # Deactivating is idempotent.
    for _ in range(2):
        assert server.post("/v1/orgs/cyc/deactivate", token=server.root_token).json()["status"] == "deactivated"


def test_only_the_partner_admin_runs_the_partner_api(server, acme):
    admin = acme["admin"]
    assert_error(server.post("/v1/orgs", token=admin, json={"name": "mine"}), 401, "partner admin")
    assert_error(server.post("/v1/orgs/acme/deactivate", token=admin), 401, "partner admin")
    assert_error(server.delete("/v1/orgs/acme", token=admin), 401, "partner admin")


def test_another_org_answers_exactly_like_a_missing_one(server, acme):
    create_org(server, "other")
    admin = acme["admin"]
    for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/deactivate"), ("GET", "/settings"),
                           ("GET", "/users"), ("POST", "/users"), ("GET", "/users/alice"),
                           ("GET", "/users/alice/tokens")]:
        body = {"username": "x", "email": "x@y.example"} if suffix == "/users" and method == "POST" else None
        hidden = server.request(method, "/v1/orgs/other" + suffix, token=admin, json=body)
        missing = server.request(method, "/v1/orgs/nosuch" + suffix, token=admin, json=body)
        assert hidden.status_code == missing.status_code == 404, (method, suffix, hidden.text, missing.text)
        assert hidden.json()["errors"][0].replace("other", "X") == missing.json()["errors"][0].replace("nosuch", "X")


def test_org_listing_is_scoped(server, acme):
    create_org(server, "zeta")
    root_names = [o["name"] for o in server.get("/v1/orgs", token=server.root_token).json()["items"]]
    assert {"acme", "zeta"} <= set(root_names)
    mine = server.get("/v1/orgs", token=acme["member"]).json()
    assert [o["name"] for o in mine["items"]] == ["acme"] and mine["next_cursor"] is None


def test_org_admin_manages_users_and_members_cannot(server, acme):
    u = create_user(server, "acme", "carol", token=acme["admin"])
    assert u["role"] == "member" and u["has_password"] is False
    r = server.post("/v1/orgs/acme/users", token=acme["member"], json={"username": "dave", "email": "d@x.example"})
    assert_error(r, 401, "users.manage")
    assert_error(server.post("/v1/orgs/acme/users", token=acme["admin"],
                             json={"username": "carol", "email": "c2@x.example"}), 409, "already taken")
    users = server.get("/v1/orgs/acme/users", token=acme["admin"]).json()["items"]
    assert [x["username"] for x in users] == ["alice", "bob", "carol"]
    for x in users:
        assert "password" not in x and "password_hash" not in x


@pytest.mark.parametrize("body,msg", [
    ({"username": "p", "email": "p@x.example", "password": PASSWORD, "programmatic_only": True}, "programmatic-only"),
    ({"username": "p", "email": "p@x.example", "password": "short"}, "at least 12"),
    ({"username": "p", "email": "not-an-email"}, "email"),
    ({"username": "P!", "email": "p@x.example"}, "username"),
    ({"username": "p", "email": "p@x.example", "role": "owner"}, "role"),
    ({"email": "p@x.example"}, "username: required"),
    ({"username": "p", "email": "p@x.example", "programmatic_only": "yes"}, "programmatic_only"),
])
def test_user_validation(server, acme, body, msg):
    assert_error(server.post("/v1/orgs/acme/users", token=acme["admin"], json=body), 400, msg)


def test_programmatic_only_user_uses_api_keys(server, acme):
    u = create_user(server, "acme", "ci-bot", token=acme["admin"], programmatic_only=True)
    assert u["programmatic_only"] is True and u["has_password"] is False
    tok = token_for(server, "acme", "ci-bot", token=acme["admin"], description="ci")
    w = server.get("/v1/auth/whoami", token=tok).json()
    assert w["principal"]["name"] == "ci-bot" and w["principal"]["org"] == "acme"


def test_tokens_on_behalf_record_who_made_them(server, acme):
    r = server.post("/v1/orgs/acme/users/bob/tokens", token=acme["admin"], json={"description": "for bob"})
    assert r.status_code == 200
    t = r.json()
    remember_secret(t["token"])
    assert t["owner"]["type"] == "user" and t["created_by"].startswith("user:")
    listed = server.get("/v1/orgs/acme/users/bob/tokens", token=acme["admin"]).json()["items"]
    assert t["id"] in [x["id"] for x in listed]
    # Bob sees it among his own tokens too.
    mine = server.get("/v1/tokens", token=acme["member"]).json()["items"]
    assert t["id"] in [x["id"] for x in mine]
    # A member may not make tokens for others.
    assert_error(server.post("/v1/orgs/acme/users/alice/tokens", token=acme["member"], json={}), 401,
                 "tokens.create_for_others")


def test_deleting_a_user_revokes_their_tokens_at_once(server, acme):
    assert server.get("/v1/auth/whoami", token=acme["member"]).status_code == 200
    assert server.delete("/v1/orgs/acme/users/bob", token=acme["admin"]).status_code == 204
    assert_error(server.get("/v1/auth/whoami", token=acme["member"]), 401, "revoked")
    assert_error(server.get("/v1/orgs/acme/users/bob", token=acme["admin"]), 404)


def test_deleting_an_org_removes_users_and_tokens(server, acme):
    assert server.delete("/v1/orgs/acme", token=server.root_token).status_code == 204
    for t in acme.values():
        assert_error(server.get("/v1/auth/whoami", token=t), 401, "revoked")
    assert_error(server.get("/v1/orgs/acme", token=server.root_token), 404)
    # The name is free again.
    create_org(server, "acme")


def test_settings(server, acme):
    s = server.get("/v1/orgs/acme/settings", token=acme["admin"]).json()
    assert s["token_expiry_hours"] >= 1 and s["allow_non_expiring_tokens"] is False
    r = server.request("PATCH", "/v1/orgs/acme/settings", token=acme["admin"],
                       json={"token_expiry_hours": 48, "allow_non_expiring_tokens": True})
    assert r.status_code == 200, r.text
    assert r.json()["token_expiry_hours"] == 48 and r.json()["allow_non_expiring_tokens"] is True
    for bad, msg in [({"token_expiry_hours": 0}, "token_expiry_hours"), ({"token_expiry_hours": "1"}, "expected an integer"),
                     ({"allow_non_expiring_tokens": 1}, "true or false"), ({"nope": 1}, "unknown field")]:
        assert_error(server.request("PATCH", "/v1/orgs/acme/settings", token=acme["admin"], json=bad), 400, msg)
    assert_error(server.request("PATCH", "/v1/orgs/acme/settings", token=acme["member"],
                                json={"token_expiry_hours": 1}), 401, "settings.manage")


def test_passwords_never_stored_or_logged_in_plain(server):
    server.post("/v1/orgs/signup", json={"name": "pwscan", "admin": {"username": "a", "email": "a@b.example",
                                                                    "password": PASSWORD}})
    server.restart()
    for root, _, files in os.walk(server.tmp):
        for f in files:
            with open(os.path.join(root, f), "rb") as fh:
                assert PASSWORD.encode() not in fh.read(), f


def signup_active(server, name, username="owner"):
    signup(server, name, username=username)
    assert server.post("/v1/orgs/%s/approve" % name, token=server.root_token).status_code == 200


def test_login_returns_a_session_token_and_cookie(server):
    signup_active(server, "logco")
    r = server.post("/v1/auth/login", json={"org": "logco", "username": "owner", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    tok = remember_secret(body["token"])
    assert tok.startswith("lk_sess_") and body["expires_at"]
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("token=" + tok + ";")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP here
    # The cookie alone authenticates.
    w = server.get("/v1/auth/whoami", headers={"Cookie": "token=" + tok})
    assert w.status_code == 200 and w.json()["principal"]["name"] == "owner"
    # Logout revokes it and clears the cookie.
    out = server.post("/v1/auth/logout", token=tok)
    assert out.status_code == 204
    assert "Max-Age=0" in out.headers["Set-Cookie"]
    assert_error(server.get("/v1/auth/whoami", token=tok), 401, "revoked")


def test_failed_logins_never_reveal_whether_the_user_exists(server):
    signup_active(server, "secretive")
    create_user(server, "secretive", "robot", programmatic_only=True)
    answers = []
    for body in [{"org": "secretive", "username": "owner", "password": "wrong password!!"},
                 {"org": "secretive", "username": "nobody", "password": PASSWORD},
                 {"org": "nosuchorg", "username": "owner", "password": PASSWORD},
                 {"org": "secretive", "username": "robot", "password": PASSWORD}]:
        r = server.post("/v1/auth/login", json=body)
        answers.append((r.status_code, r.json()))
    assert all(a == answers[0] for a in answers), answers
    assert answers[0][0] == 401


def test_logins_are_limited_per_account(make_server):
    s = make_server(extra=["--rate-limit-login-account", "3/300"])
    signup_active(s, "limited")
    for _ in range(3):
        assert s.post("/v1/auth/login", json={"org": "limited", "username": "owner",
                                               "password": "wrong password!!"}).status_code == 401
    # Even the right password is refused now: the account is being guessed at.
    r = s.post("/v1/auth/login", json={"org": "limited", "username": "owner", "password": PASSWORD})
    assert_error(r, 429, "too many login attempts")


def test_logins_are_limited_per_address(make_server):
    s = make_server(extra=["--rate-limit-login-ip", "2/60"])
    for i in range(2):
        s.post("/v1/auth/login", json={"org": "o", "username": "u%d" % i, "password": "x" * 12})
    r = s.post("/v1/auth/login", json={"org": "o", "username": "u9", "password": "x" * 12})
    assert_error(r, 429, "client address")
    assert r.headers["RateLimit-Policy"] == '"login";q=2;w=60'


def test_logout_with_an_api_token_is_refused(server):
    assert_error(server.post("/v1/auth/logout", token=server.root_token), 400, "logout ends login sessions")


def test_users_of_a_pending_org_cannot_log_in(server):
    server.post("/v1/orgs/signup", json={"name": "notyet", "admin": {"username": "owner", "email": "o@x.example",
                                                                    "password": PASSWORD}})
    r = server.post("/v1/auth/login", json={"org": "notyet", "username": "owner", "password": PASSWORD})
    assert_error(r, 401, "pending approval")


def test_permission_catalogue(server, acme):
    r = server.get("/v1/permissions", token=acme["member"])
    assert r.status_code == 200, r.text
    body = r.json()
    by_name = {p["name"]: p for p in body["items"]}
    for name, p in by_name.items():
        assert p["description"]
        if name.endswith(".manage"):
            assert name[:-len(".manage")] + ".view" in p["implies"], name
    assert "secrets.view" in by_name["secrets.manage"]["implies"]  # transitive
    roles = {r["name"]: set(r["permissions"]) for r in body["builtin_roles"]}
    assert set(roles) == {"org-admin", "team-owner", "team-member", "viewer"}
    assert roles["viewer"] <= roles["team-member"] <= roles["team-owner"] <= roles["org-admin"]
    assert not any(p.startswith("secrets.") for p in roles["viewer"])
    assert_error(server.get("/v1/permissions"), 401, "missing credentials")


def test_member_and_admin_whoami_permissions_follow_their_role(server, acme):
    # whoami lists the token's policies; the org role decides what the principal may do.
    assert server.get("/v1/orgs/acme/users", token=acme["member"]).status_code == 200  # users.view
    assert server.get("/v1/orgs/acme/settings", token=acme["member"]).status_code == 200  # settings.view


def test_whoami_permissions_are_role_narrowed_to_token_policies(server, acme):
    admin = set(server.get("/v1/auth/whoami", token=acme["admin"]).json()["permissions"])
    member = set(server.get("/v1/auth/whoami", token=acme["member"]).json()["permissions"])
    assert "users.manage" in admin and "users.manage" not in member
    assert "users.view" in member and member < admin
    narrow = token_for(server, "acme", "alice", policies=["users.view", "tokens.view"])
    assert set(server.get("/v1/auth/whoami", token=narrow).json()["permissions"]) == {"users.view", "tokens.view"}


def test_a_token_does_only_what_its_policies_allow(server, acme):
    narrow = token_for(server, "acme", "alice", policies=["users.view"])
    assert server.get("/v1/orgs/acme/users", token=narrow).status_code == 200
    assert_error(server.post("/v1/orgs/acme/users", token=narrow, json={"username": "zed", "email": "z@x.example"}),
                 401, "users.manage")
    root_narrow = server.create_token(policies=["orgs.view"])
    remember_secret(root_narrow["token"])
    assert_error(server.post("/v1/orgs", token=root_narrow["token"], json={"name": "nope"}), 401, "orgs.manage")


def test_patch_user(server, acme):
    r = server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["admin"],
                       json={"email": "bob@new.example", "token_expiry_hours": 48})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "bob@new.example" and r.json()["token_expiry_hours"] == 48
    r = server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["admin"], json={"token_expiry_hours": None})
    assert r.json()["token_expiry_hours"] is None
    # Promotion applies from bob's next request.
    assert_error(server.post("/v1/orgs/acme/users", token=acme["member"], json={"username": "x", "email": "x@y.example"}),
                 401, "users.manage")
    assert server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["admin"], json={"role": "admin"}).status_code == 200
    assert server.post("/v1/orgs/acme/users", token=acme["member"],
                       json={"username": "x", "email": "x@y.example"}).status_code == 200
    for bad, msg in [({"role": "god"}, "role"), ({"token_expiry_hours": 0}, "token_expiry_hours"),
                     ({"email": "nope"}, "email"), ({"password": "short"}, "at least 12"), ({"id": "x"}, "unknown field")]:
        assert_error(server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["admin"], json=bad), 400, msg)
    # Members cannot change users.
    assert_error(server.request("PATCH", "/v1/orgs/acme/users/alice", token=token_for(server, "acme", "x"),
                                json={"role": "member"}), 401, "users.manage")


def test_password_set_later_enables_login(server, acme):
    assert_error(server.post("/v1/auth/login", json={"org": "acme", "username": "bob", "password": PASSWORD}), 401)
    assert server.request("PATCH", "/v1/orgs/acme/users/bob", token=acme["admin"],
                          json={"password": PASSWORD}).json()["has_password"] is True
    r = server.post("/v1/auth/login", json={"org": "acme", "username": "bob", "password": PASSWORD})
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])


def test_token_policies_never_exceed_the_creator(server, acme):
    """Requested policies the creator lacks are dropped and listed; the token is still created."""
    r = server.post("/v1/tokens", token=acme["member"],
                    json={"description": "api", "policies": ["users.view", "users.manage", "deleteNamespace"]})
    assert r.status_code == 200, r.text
    t = r.json()
    remember_secret(t["token"])
    assert t["policies"] == ["users.view"]
    assert t["dropped_policies"] == ["users.manage", "deleteNamespace"]
    w = server.get("/v1/auth/whoami", token=t["token"]).json()
    assert w["permissions"] == ["users.view"]
    # Roles expand to their permissions (implications applied).
    r = server.post("/v1/tokens", token=acme["admin"], json={"policies": ["viewer"]})
    remember_secret(r.json()["token"])
    assert "users.view" in r.json()["policies"] and "users.manage" not in r.json()["policies"]
    assert r.json()["dropped_policies"] == []
    # manage implies view: asking for a held manage grants both.
    r = server.post("/v1/tokens", token=acme["admin"], json={"policies": ["users.manage"]})
    remember_secret(r.json()["token"])
    assert set(r.json()["policies"]) == {"users.manage", "users.view"}
    # A narrowed token cannot mint a broader one.
    narrow = remember_secret(server.post("/v1/tokens", token=acme["admin"],
                                         json={"policies": ["tokens.manage"]}).json()["token"])
    r = server.post("/v1/tokens", token=narrow, json={"policies": ["users.manage", "tokens.view"]})
    remember_secret(r.json()["token"])
    assert r.json()["policies"] == ["tokens.view"] and r.json()["dropped_policies"] == ["users.manage"]
