"""The expiry rules: an org-wide default (hours), an optional per-user
setting, requests capped at the higher of the two (400 naming the limit), no
request meaning that higher value, org admins free to set any expiry, and
non-expiring tokens only where the org allows them."""
import pytest

from helpers import assert_error, create_org, create_user, hours_left, remember_secret, token_for


@pytest.fixture
def org(server):
    create_org(server, "acme")
    create_user(server, "acme", "admin", role="admin")
    create_user(server, "acme", "mia", role="member")
    # Non-expiring (the partner admin may): a token never outlives the token
    # that made it, and these tests are about the org's rules, not that one.
    t = {"admin": token_for(server, "acme", "admin", expires="never"),
         "mia": token_for(server, "acme", "mia", expires="never")}
    r = server.request("PATCH", "/v1/orgs/acme/settings", token=t["admin"], json={"token_expiry_hours": 48})
    assert r.status_code == 200
    return t


def create(server, token, **body):
    r = server.post("/v1/tokens", token=token, json=body)
    if r.status_code == 200:
        remember_secret(r.json()["token"])
    return r


def test_no_request_means_the_org_default(server, org):
    t = create(server, org["mia"]).json()
    assert 47.9 < hours_left(t) <= 48


def test_requests_up_to_the_cap_are_granted(server, org):
    assert 23.9 < hours_left(create(server, org["mia"], expires="PT24H").json()) <= 24
    assert 47.9 < hours_left(create(server, org["mia"], expiry_hours=48).json()) <= 48


@pytest.mark.parametrize("body,asked", [({"expires": "P3D"}, "P3D"), ({"expiry_hours": 49}, "49 hours")])
def test_requests_past_the_cap_are_refused_naming_the_limit(server, org, body, asked):
    body["description"] = "too long"
    r = create(server, org["mia"], **body)
    assert_error(r, 400, "expires: %s exceeds the maximum of 48 hours for this user" % asked)


def test_the_higher_of_org_and_user_setting_applies(server, org):
    server.request("PATCH", "/v1/orgs/acme/users/mia", token=org["admin"], json={"token_expiry_hours": 100})
    assert 99.9 < hours_left(create(server, org["mia"]).json()) <= 100
    assert create(server, org["mia"], expiry_hours=100).status_code == 200
    assert_error(create(server, org["mia"], expiry_hours=101), 400, "maximum of 100 hours")
    # A per-user value below the org's does not lower the cap: the higher one wins.
    server.request("PATCH", "/v1/orgs/acme/users/mia", token=org["admin"], json={"token_expiry_hours": 2})
    assert 47.9 < hours_left(create(server, org["mia"]).json()) <= 48


def test_org_admins_may_set_any_expiry_for_themselves_and_others(server, org):
    assert hours_left(create(server, org["admin"], expires="P1Y").json()) > 24 * 360
    r = server.post("/v1/orgs/acme/users/mia/tokens", token=org["admin"], json={"expires": "P2Y"})
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])
    assert hours_left(r.json()) > 24 * 700


def test_non_expiring_tokens_need_the_org_setting(server, org):
    assert_error(create(server, org["mia"], expires="never"), 400, "non-expiring tokens are not allowed")
    server.request("PATCH", "/v1/orgs/acme/settings", token=org["admin"], json={"allow_non_expiring_tokens": True})
    t = create(server, org["mia"], expires="never").json()
    assert t["expires_at"] is None
    assert create(server, org["admin"], expires="never").status_code == 200
