"""Authentication: credential locations, and each 401 with its own message."""
import re
import time

import pytest

from helpers import Server, assert_error, remember_secret

TOKEN_RE = re.compile(r"^lk_(root|user|sa|sess|wl)_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$")


def flip(token, pos):
    c = token[pos]
    return token[:pos] + ("A" if c != "A" else "B") + token[pos + 1:]


def test_root_token_has_the_documented_format(server):
    assert TOKEN_RE.match(server.root_token), server.root_token


def test_whoami_with_root(server):
    r = server.get("/v1/auth/whoami", token=server.root_token)
    assert r.status_code == 200
    body = r.json()
    assert body["principal"] == {"type": "root", "name": "root", "org": None, "team": None}
    assert server.root_token.startswith(body["token"]["id"] + "_")
    assert body["token"]["expires_at"] is None
    assert body["permissions"] == ["*"]
    assert server.root_token not in r.text


@pytest.mark.parametrize("how", ["bearer", "header", "cookie", "bearer-lowercase"])
def test_credential_locations(server, how):
    t = server.root_token
    headers = {
        "bearer": {"Authorization": "Bearer " + t},
        "bearer-lowercase": {"Authorization": "bearer " + t},
        "header": {"X-Latchkey-Token": t},
        "cookie": {"Cookie": "theme=dark; token=" + t + "; other=1"},
    }[how]
    r = server.get("/v1/auth/whoami", headers=headers)
    assert r.status_code == 200, r.text


def test_missing_credentials(server):
    assert_error(server.get("/v1/auth/whoami"), 401, "missing credentials")


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Token abc"])
def test_malformed_authorization_header(server, value):
    r = server.get("/v1/auth/whoami", headers={"Authorization": value})
    assert r.status_code == 401
    assert_error(r, 401, "malformed")


@pytest.mark.parametrize("bad", [
    "garbage", "lk_user_", "lk_xx_AAAAAAAAAAAA_" + "A" * 38, "Bearer-ish", "lk_root_" + "A" * 51,
])
def test_malformed_tokens(server, bad):
    assert_error(server.get("/v1/auth/whoami", token=bad), 401, "malformed token")


def test_any_single_character_change_is_caught_by_the_checksum(server):
    t = server.root_token
    prefix = len("lk_root_")
    for pos in range(prefix, len(t)):
        if t[pos] == "_":
            continue
        r = server.get("/v1/auth/whoami", token=flip(t, pos))
        assert r.status_code == 401, pos
        assert "malformed token" in r.json()["errors"][0], (pos, r.text)


def test_unknown_token_with_a_valid_checksum(server, tmp_path):
    # A token from another server has a valid format and checksum but is unknown here.
    d = tmp_path / "other"
    d.mkdir()
    o = Server(str(d)).start()
    try:
        foreign = remember_secret(o.root_token)
    finally:
        assert o.stop() == 0
    body = assert_error(server.get("/v1/auth/whoami", token=foreign), 401, "unknown or has been revoked")
    assert foreign not in body["errors"][0]
    assert foreign.rsplit("_", 1)[0] in body["errors"][0]  # the public id is named


def test_revoked_token_fails_on_the_very_next_request(server):
    t = server.create_token(description="short-lived")
    tok = remember_secret(t["token"])
    assert server.get("/v1/auth/whoami", token=tok).status_code == 200
    assert server.delete("/v1/tokens/" + t["id"], token=server.root_token).status_code == 204
    assert_error(server.get("/v1/auth/whoami", token=tok), 401, "unknown or has been revoked")


def test_expired_token_says_it_expired_and_when(server):
    # Expiry has whole-second resolution: 2 s leaves at least 1 s of validity.
    t = server.create_token(description="expires soon", expires="PT2S")
    tok = remember_secret(t["token"])
    assert server.get("/v1/auth/whoami", token=tok).status_code == 200
    time.sleep(2.1)
    body = assert_error(server.get("/v1/auth/whoami", token=tok), 401, "expired at")
    msg = body["errors"][0]
    assert msg == "token %s expired at %s" % (t["id"], t["expires_at"]), msg


def test_wrong_secret_for_a_known_id_looks_like_revoked(server):
    # Same public id, another secret, and a correct CRC recomputed here: only
    # the hash comparison can reject it.
    import binascii
    t = server.root_token
    head, tail = t.rsplit("_", 1)
    secret = "B" * 32 if tail[:32] != "B" * 32 else "C" * 32
    body = head + "_" + secret
    crc = binascii.crc32(body.encode()) & 0xFFFFFFFF
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    digits = ""
    for _ in range(6):
        digits = alphabet[crc % 62] + digits
        crc //= 62
    forged = body + digits
    assert_error(server.get("/v1/auth/whoami", token=forged), 401, "unknown or has been revoked")


def test_error_messages_never_contain_the_token(server):
    t = server.create_token(expires="PT1S")
    tok = remember_secret(t["token"])
    time.sleep(1.5)
    for r in [server.get("/v1/auth/whoami", token=tok), server.get("/v1/auth/whoami", token=tok[:-1] + "x")]:
        assert tok not in r.text
        assert tok[len(t["id"]) + 1:] not in r.text
