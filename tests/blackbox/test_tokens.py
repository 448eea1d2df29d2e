"""Token routes: create (shown once), list, get, delete; expiry input forms."""
import datetime
import time

import pytest

from helpers import BIN, assert_error, now, parse_time, remember_secret, store_exec


def test_create_returns_the_secret_once(server):
    t = server.create_token(description="deploy bot", policies=["tokens.view"])
    remember_secret(t["token"])
    assert t["token"].startswith(t["id"] + "_")
    assert t["description"] == "deploy bot"
    assert t["policies"] == ["tokens.view"]
    assert t["dropped_policies"] == []
    assert t["expires_at"] is None
    assert t["status"] == "active"
    assert t["owner"] == {"type": "root", "id": "root"}
    assert abs((parse_time(t["created_at"]) - now()).total_seconds()) < 5
    # Never again: not in get, not in list.
    g = server.get("/v1/tokens/" + t["id"], token=server.root_token)
    assert g.status_code == 200 and "token" not in g.json()
    assert t["token"] not in g.text
    lst = server.get("/v1/tokens", token=server.root_token)
    assert t["token"] not in lst.text
    # And the new token works.
    w = server.get("/v1/auth/whoami", token=t["token"]).json()
    assert w["token"]["id"] == t["id"] and w["token"]["policies"] == ["tokens.view"]


def test_create_with_empty_body_uses_defaults(server):
    r = server.post("/v1/tokens", token=server.root_token)
    assert r.status_code == 200, r.text
    remember_secret(r.json()["token"])
    assert r.json()["policies"] == ["*"]


@pytest.mark.parametrize("body,seconds", [
    ({"expires": "PT5S"}, 5),
    ({"expires": "PT12H"}, 12 * 3600),
    ({"expires": "P30D"}, 30 * 86400),
    ({"expires": "P2W"}, 14 * 86400),
    ({"expires": "P1DT1H1M1S"}, 86400 + 3661),
    ({"expiry_hours": 24}, 24 * 3600),
    ({"expiry_hours": 1}, 3600),
])
def test_expiry_forms(server, body, seconds):
    t = server.create_token(**body)
    remember_secret(t["token"])
    delta = (parse_time(t["expires_at"]) - parse_time(t["created_at"])).total_seconds()
    assert abs(delta - seconds) <= 1, (t, delta)


def test_expiry_as_rfc3339_time(server):
    when = (now() + datetime.timedelta(days=3)).replace(microsecond=0)
    t = server.create_token(expires=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    remember_secret(t["token"])
    assert parse_time(t["expires_at"]) == when
    # A time with an offset is converted to UTC.
    local = when.astimezone(datetime.timezone(datetime.timedelta(hours=5, minutes=30)))
    t2 = server.create_token(expires=local.isoformat())
    remember_secret(t2["token"])
    assert parse_time(t2["expires_at"]) == when


def test_expiring_soon_is_listed_as_expiring(server):
    t = server.create_token(expires="P3D")
    remember_secret(t["token"])
    assert t["status"] == "expiring"


@pytest.mark.parametrize("body,msg", [
    ({"expires": "P0D"}, "expires:"),
    ({"expires": "PT0S"}, "expires:"),
    ({"expires": "P-1D"}, "expires:"),
    ({"expires": "P"}, "expires:"),
    ({"expires": "PT"}, "expires:"),
    ({"expires": "1D"}, "expires:"),
    ({"expires": "P1.5D"}, "expires:"),
    ({"expires": "soon"}, "expires:"),
    ({"expires": ""}, "expires:"),
    ({"expires": "2020-01-01T00:00:00Z"}, "not in the future"),
    ({"expires": "2027-02-30T00:00:00Z"}, "expires:"),
    ({"expiry_hours": 0}, "expiry_hours"),
    ({"expiry_hours": -5}, "expiry_hours"),
    ({"expires": "P1D", "expiry_hours": 24}, "not both"),
    ({"description": "x" * 300}, "description"),
    ({"policies": ["Bad Policy!"]}, "policies[0]"),
    ({"policies": ["p%d" % i for i in range(100)]}, "policies"),
])
def test_invalid_create_requests_are_400_and_store_nothing(server, body, msg):
    before = server.get("/v1/tokens", token=server.root_token).json()["items"]
    r = server.post("/v1/tokens", token=server.root_token, json=body)
    assert_error(r, 400, msg)
    after = server.get("/v1/tokens", token=server.root_token).json()["items"]
    assert [t["id"] for t in after] == [t["id"] for t in before]


def test_list_paginates_with_a_cursor(server):
    created = [server.create_token(description="t%d" % i) for i in range(5)]
    for t in created:
        remember_secret(t["token"])
    seen = []
    cursor = None
    pages = 0
    while True:
        q = "/v1/tokens?limit=2" + ("&cursor=" + cursor if cursor else "")
        r = server.get(q, token=server.root_token)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # The root token itself plus the five created, each exactly once, in creation order.
    assert len(seen) == 6 and len(set(seen)) == 6
    assert seen[1:] == [t["id"] for t in created]
    assert pages == 3


@pytest.mark.parametrize("q,msg", [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                                   ("cursor=bogus", "cursor")])
def test_bad_paging_is_400(server, q, msg):
    assert_error(server.get("/v1/tokens?" + q, token=server.root_token), 400, msg)


def test_list_entries_have_the_documented_fields(server):
    t = server.create_token(description="fields", expires="P30D")
    remember_secret(t["token"])
    items = server.get("/v1/tokens", token=server.root_token).json()["items"]
    entry = [i for i in items if i["id"] == t["id"]][0]
    for field in ["id", "description", "owner", "created_at", "expires_at", "last_used_at", "status", "policies"]:
        assert field in entry, field
    assert entry["last_used_at"] is None
    assert "token" not in entry


def test_last_used_is_recorded(server):
    t = server.create_token(description="used")
    remember_secret(t["token"])
    assert server.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    g = server.get("/v1/tokens/" + t["id"], token=server.root_token).json()
    assert g["last_used_at"] is not None
    assert abs((parse_time(g["last_used_at"]) - now()).total_seconds()) < 5


def test_get_and_delete_unknown_ids_are_404(server):
    for path in ["/v1/tokens/lk_user_AAAAAAAAAAAA", "/v1/tokens/whatever"]:
        assert_error(server.get(path, token=server.root_token), 404)
        assert_error(server.delete(path, token=server.root_token), 404)


def test_deleting_twice(server):
    t = server.create_token()
    remember_secret(t["token"])
    assert server.delete("/v1/tokens/" + t["id"], token=server.root_token).status_code == 204
    assert_error(server.delete("/v1/tokens/" + t["id"], token=server.root_token), 404)


def test_rotate_without_grace_retires_the_old_secret_at_once(server):
    old = server.create_token(description="rotate me", expires="P10D", policies=["tokens.view"])
    remember_secret(old["token"])
    r = server.post("/v1/tokens/%s/rotate" % old["id"], token=server.root_token)
    assert r.status_code == 200, r.text
    new = r.json()
    remember_secret(new["token"])
    assert new["id"] != old["id"] and new["rotated_from"] == old["id"]
    assert new["policies"] == old["policies"] and new["description"] == "rotate me"
    assert new["expires_at"] == old["expires_at"]
    assert_error(server.get("/v1/auth/whoami", token=old["token"]), 401, "revoked")
    assert server.get("/v1/auth/whoami", token=new["token"]).status_code == 200


def test_rotate_with_grace_keeps_the_old_secret_for_a_while(server):
    old = server.create_token(description="graceful")
    remember_secret(old["token"])
    r = server.post("/v1/tokens/%s/rotate" % old["id"], token=server.root_token, json={"grace_seconds": 2})
    remember_secret(r.json()["token"])
    assert server.get("/v1/auth/whoami", token=old["token"]).status_code == 200
    g = server.get("/v1/tokens/" + old["id"], token=server.root_token).json()
    assert g["expires_at"] is not None  # a non-expiring token now ends with its grace
    time.sleep(3.1)
    assert_error(server.get("/v1/auth/whoami", token=old["token"]), 401, "expired at")
    assert server.get("/v1/auth/whoami", token=r.json()["token"]).status_code == 200


def test_grace_never_extends_past_the_old_expiry(server):
    old = server.create_token(expires="PT2S")
    remember_secret(old["token"])
    r = server.post("/v1/tokens/%s/rotate" % old["id"], token=server.root_token, json={"grace_seconds": 3600})
    remember_secret(r.json()["token"])
    g = server.get("/v1/tokens/" + old["id"], token=server.root_token).json()
    assert g["expires_at"] == old["expires_at"]


@pytest.mark.parametrize("body,status,msg", [({"grace_seconds": -1}, 400, "grace_seconds"),
                                              ({"grace_seconds": 10 ** 9}, 400, "grace_seconds"),
                                              ({"grace_seconds": "5"}, 400, "expected an integer"),
                                              ({"nope": 1}, 400, "unknown field")])
def test_rotate_validation(server, body, status, msg):
    t = server.create_token()
    remember_secret(t["token"])
    assert_error(server.post("/v1/tokens/%s/rotate" % t["id"], token=server.root_token, json=body), status, msg)
    assert_error(server.post("/v1/tokens/lk_user_AAAAAAAAAAAA/rotate", token=server.root_token), 404)


def test_tokens_expired_for_more_than_90_days_are_deleted(server):
    """Expired keys stay listed (marked) until deleted; 90 days after
    expiry they are deleted automatically. Age two tokens directly in the real
    store (the SQLite file or the PostgreSQL database), then run one clean-up
    pass."""
    import subprocess
    old = server.create_token(description="long gone", expires="P1D")
    recent = server.create_token(description="recently expired", expires="P1D")
    live = server.create_token(description="live", expires="P1D")
    for t in (old, recent, live):
        remember_secret(t["token"])
    now = int(time.time())
    store_exec(server, "UPDATE tokens SET expires_at = ? WHERE id = ?", (now - 91 * 86400, old["id"]))
    store_exec(server, "UPDATE tokens SET expires_at = ? WHERE id = ?", (now - 89 * 86400, recent["id"]))
    r = subprocess.run([BIN, "operator", "cleanup", "--data-dir", server.data_dir], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "deleted 1 token(s)" in r.stdout
    server.restart()  # a fresh cache: the listing and lookups read the store
    ids = [t["id"] for t in server.get("/v1/tokens?limit=200", token=server.root_token).json()["items"]]
    assert old["id"] not in ids
    assert recent["id"] in ids and live["id"] in ids
    listed = server.get("/v1/tokens/" + recent["id"], token=server.root_token).json()
    assert listed["status"] == "expired"
