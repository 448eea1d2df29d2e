"""The seal: `operator init` splits the root key into shares, a server
starts sealed and answers 503 everywhere but health, seal status, init and
unseal; unsealing takes T shares with progress and reset and never says
which share was wrong; root can seal a running server; --unseal-key-file
and dev mode unseal at start. The real binary, real SQLite, no mocks."""
import os
import re

from helpers import Server, assert_error, create_org, create_user, db, remember_secret, run_cli, token_for

JSON = {"Content-Type": "application/json"}


def init(data, shares=3, threshold=2):
    r = run_cli("operator", "init", "--data-dir", data, "--key-shares", str(shares), "--key-threshold", str(threshold))
    assert r.returncode == 0, r.stderr
    keys = re.findall(r"^Unseal key \d+: ([0-9a-f]+)$", r.stdout, re.M)
    assert len(keys) == shares, r.stdout
    root = remember_secret(re.search(r"^Root token: (\S+)$", r.stdout, re.M).group(1))
    return keys, root


def unseal(s, key, **extra):
    body = dict(extra)
    if key is not None:
        body["key"] = key
    return s.request("PUT", "/v1/sys/unseal", json=body, headers=JSON)


def sealed_server(tmp_path, shares=3, threshold=2, extra=None):
    data = str(tmp_path / "data")
    keys, root = init(data, shares, threshold)
    s = Server(str(tmp_path), dev=False, data_dir=data, extra=extra).start()
    return s, keys, root


def unsealed_with_admin(s, keys, root):
    """Unseals s with keys, makes org acme with admin alice; her token."""
    for k in keys:
        unseal(s, k)
    create_org(s, "acme", token=root)
    create_user(s, "acme", "alice", role="admin", token=root)
    return token_for(s, "acme", "alice", token=root, expires="P1D")


def test_a_server_starts_sealed_and_answers_503_but_for_the_seal_routes(tmp_path):
    s, keys, root = sealed_server(tmp_path)
    try:
        for method, path in [("GET", "/v1/auth/whoami"), ("GET", "/v1/orgs"), ("POST", "/v1/tokens"),
                             ("GET", "/v1/permissions"), ("GET", "/v1/nope")]:
            r = s.request(method, path, token=root, json={} if method == "POST" else None)
            if path == "/v1/nope":
                assert r.status_code == 404  # routing comes first: an unknown path is not the seal's
                continue
            assert_error(r, 503, "latchkey is sealed")
            assert "2 of its 3" in r.json()["errors"][0]
        health = s.get("/v1/sys/health")
        assert health.status_code == 503
        assert health.json()["sealed"] is True and health.json()["initialized"] is True
        st = s.get("/v1/sys/seal-status").json()
        assert (st["type"], st["sealed"], st["t"], st["n"], st["progress"]) == ("shamir", True, 2, 3, 0)
        assert s.get("/v1/sys/init").json() == {"initialized": True}
        assert s.get("/v1/sys/seal-status?help=1").status_code == 200
    finally:
        assert s.stop() == 0


def test_unseal_progress_reset_bad_and_wrong_shares(tmp_path):
    s, keys, root = sealed_server(tmp_path, 5, 3)
    other_keys, _ = init(str(tmp_path / "other"), 5, 3)
    try:
        # Not hex or base64: 400 in Vault's words, no progress.
        assert_error(unseal(s, "zz" * 33), 400, "'key' must be a valid hex or base64 string")
        assert_error(unseal(s, keys[0][:-2]), 400, "valid hex or base64")
        st = unseal(s, keys[0]).json()
        assert (st["sealed"], st["progress"]) == (True, 1) and st["nonce"]
        nonce = st["nonce"]
        # The same share twice is refused, and counts once.
        assert_error(unseal(s, keys[0]), 400, "already given")
        assert unseal(s, None, reset=True).json()["progress"] == 0
        assert s.get("/v1/sys/seal-status").json()["nonce"] == ""
        # Three shares that do not belong together: 400 naming none of them, and the progress starts over.
        assert unseal(s, keys[0]).json()["progress"] == 1
        assert unseal(s, other_keys[1]).json()["progress"] == 2
        r = unseal(s, keys[2])
        assert_error(r, 400, "do not rebuild the root key")
        for k in keys + other_keys:
            assert k not in r.text
        st = s.get("/v1/sys/seal-status").json()
        assert (st["sealed"], st["progress"]) == (True, 0) and st["nonce"] != nonce
        assert_error(s.get("/v1/auth/whoami", token=root), 503)
        # Any three real ones unseal, one of them as base64.
        import base64
        assert unseal(s, keys[4]).json()["progress"] == 1
        assert unseal(s, base64.b64encode(bytes.fromhex(keys[1])).decode()).json()["progress"] == 2
        st = unseal(s, keys[3]).json()
        assert (st["sealed"], st["progress"]) == (False, 0)
        assert s.get("/v1/auth/whoami", token=root).status_code == 200
        assert s.get("/v1/sys/health").json()["sealed"] is False
        # Unsealed already: a share is taken and nothing changes.
        assert unseal(s, keys[0]).json()["sealed"] is False
    finally:
        assert s.stop() == 0
    # No share reached the logs.
    text = s.stderr() + s.stdout()
    for k in keys + other_keys:
        assert k not in text


def test_root_seals_a_running_server_and_only_root(tmp_path):
    s, keys, root = sealed_server(tmp_path)
    try:
        admin = unsealed_with_admin(s, keys[:2], root)
        # Vault's shapes: anyone but root, and no token at all, get Vault's 403.
        assert_error(s.request("PUT", "/v1/sys/seal", token=admin), 403, "partner admin")
        assert s.get("/v1/auth/whoami", token=admin).status_code == 200  # still unsealed
        assert_error(s.request("PUT", "/v1/sys/seal"), 403, "missing client token")
        # A root token narrowed by its policies is held to them, as on every root-only route.
        narrow = s.post("/v1/tokens", token=root, json={"policies": ["orgs.view"], "expires": "P1D"}).json()
        remember_secret(narrow["token"])
        assert_error(s.request("PUT", "/v1/sys/seal", token=narrow["token"]), 403, "orgs.manage")
        assert_error(s.post("/v1/sys/rotate", token=narrow["token"]), 401, "orgs.manage")
        assert s.get("/v1/sys/seal-status").json()["sealed"] is False
        assert s.request("PUT", "/v1/sys/seal", token=root).status_code == 204
        assert_error(s.get("/v1/auth/whoami", token=admin), 503, "sealed")
        assert s.get("/v1/sys/seal-status").json()["sealed"] is True
        # It stays sealed across a restart, and unseals again with shares.
        s.restart()
        assert_error(s.get("/v1/auth/whoami", token=admin), 503)
        for k in keys[1:]:
            unseal(s, k)
        assert s.get("/v1/auth/whoami", token=admin).status_code == 200
    finally:
        assert s.stop() == 0


def test_unseal_key_file_unseals_at_start_and_must_be_private(tmp_path):
    data = str(tmp_path / "data")
    keys, root = init(data, 3, 2)
    key_file = tmp_path / "unseal.keys"
    key_file.write_text("# two of the three\n%s\n\n%s\n" % (keys[2], keys[0]))
    os.chmod(key_file, 0o600)
    s = Server(str(tmp_path), dev=False, data_dir=data, extra=["--unseal-key-file", str(key_file)]).start()
    try:
        assert s.get("/v1/auth/whoami", token=root).status_code == 200
    finally:
        assert s.stop() == 0
    # Readable by others: refused, and the server does not start.
    os.chmod(key_file, 0o644)
    bad = Server(str(tmp_path), dev=False, data_dir=data, extra=["--unseal-key-file", str(key_file)])
    try:
        bad.start()
        assert False, "started with a key file others can read"
    except RuntimeError as e:
        assert "only its owner can read" in str(e)
    # Shares that do not unseal: refused too.
    os.chmod(key_file, 0o600)
    key_file.write_text(keys[0] + "\n")
    short = Server(str(tmp_path), dev=False, data_dir=data, extra=["--unseal-key-file", str(key_file)])
    try:
        short.start()
        assert False, "started sealed from a key file"
    except RuntimeError as e:
        assert "1 of the 2 key shares" in str(e) or "stays sealed" in str(e)


def test_dev_mode_initialises_with_one_share_and_unseals_itself(make_server):
    s = make_server()
    out = s.stdout()
    key = re.search(r"^Unseal key: ([0-9a-f]{66})$", out, re.M).group(1)
    con = db(s)
    try:  # kept in the store itself (dev only), not in a file beside it
        kept = con.execute("SELECT value FROM meta WHERE key = 'seal.dev_share'").fetchone()[0]
    finally:
        con.close()
    assert kept == key
    st = s.get("/v1/sys/seal-status").json()
    assert (st["sealed"], st["t"], st["n"]) == (False, 1, 1)
    s.restart()
    assert s.stdout().count("Unseal key:") == 1  # printed once, when it was made
    assert s.get("/v1/auth/whoami", token=s.root_token).status_code == 200
    assert key not in s.stderr()


def test_an_uninitialised_store_is_initialised_through_the_api_once(tmp_path):
    data = str(tmp_path / "data")
    init(data, 1, 1)
    con = db(type("S", (), {"data_dir": data})())
    try:
        # A store from before the seal: a root token, no seal yet.
        con.execute("DELETE FROM meta WHERE key LIKE 'seal.%'")
        con.commit()
    finally:
        con.close()
    s = Server(str(tmp_path), dev=False, data_dir=data).start()
    try:
        assert_error(s.get("/v1/orgs"), 503, "not initialized")
        assert s.get("/v1/sys/health").status_code == 501
        assert s.get("/v1/sys/init").json() == {"initialized": False}
        assert_error(s.request("PUT", "/v1/sys/init", json={"secret_shares": 2, "secret_threshold": 3},
                               headers=JSON), 400, "threshold")
        assert_error(s.request("PUT", "/v1/sys/init", json={"secret_shares": 2, "secret_threshold": 2,
                                                            "pgp_keys": ["a", "b"]}, headers=JSON), 400, "PGP")
        r = s.request("PUT", "/v1/sys/init", json={"secret_shares": 2, "secret_threshold": 2,
                                                  "root_token_pgp_key": None}, headers=JSON)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["keys"]) == 2 and len(body["keys_base64"]) == 2
        assert body["root_token"] is None  # the store had one already
        assert_error(s.request("PUT", "/v1/sys/init", json={"secret_shares": 1, "secret_threshold": 1},
                               headers=JSON), 400, "already initialized")
        for k in body["keys"]:
            unseal(s, k)
        assert s.get("/v1/sys/seal-status").json()["sealed"] is False
    finally:
        assert s.stop() == 0


def test_rotation_adds_a_key_version_and_old_values_stay_readable(tmp_path):
    s, keys, root = sealed_server(tmp_path)
    try:
        admin = unsealed_with_admin(s, keys[:2], root)
        assert s.request("PUT", "/v1/orgs/acme/secrets/old", token=admin, json={"v": "before"}).status_code == 200
        assert s.post("/v1/sys/rotate", token=admin).status_code in (401, 403)
        r = s.post("/v1/sys/rotate", token=root)
        assert r.status_code == 200 and r.json() == {"term": 2}, r.text
        assert s.request("PUT", "/v1/orgs/acme/secrets/new", token=admin, json={"v": "after"}).status_code == 200
        con = db(s)
        try:  # the envelope names its key version in bytes 1..4, big-endian
            versions = {p: int.from_bytes(bytes(v)[1:5], "big")
                        for p, v in con.execute("SELECT path, value FROM secrets")}
        finally:
            con.close()
        assert versions == {"old": 1, "new": 2}
        # Rewrap: the old value moves to the new key, each still bound to its row.
        assert s.post("/v1/sys/rewrap", token=admin).status_code == 401
        assert s.post("/v1/sys/rewrap", token=root).json() == {"rewrapped": 1, "current": 1}
        assert s.post("/v1/sys/rewrap", token=root).json() == {"rewrapped": 0, "current": 2}
        con = db(s)
        try:
            versions = {p: int.from_bytes(bytes(v)[1:5], "big")
                        for p, v in con.execute("SELECT path, value FROM secrets")}
        finally:
            con.close()
        assert versions == {"old": 2, "new": 2}
        # The rotated keyring is stored: after a restart and an unseal both still open.
        s.restart()
        for k in keys[1:]:
            unseal(s, k)
        assert s.get("/v1/orgs/acme/secrets/old", token=admin).json()["data"] == {"v": "before"}
        assert s.get("/v1/orgs/acme/secrets/new", token=admin).json()["data"] == {"v": "after"}
        assert s.post("/v1/sys/rotate", token=root).json() == {"term": 3}
    finally:
        assert s.stop() == 0


def test_rekey_issues_new_shares_without_touching_the_data(tmp_path):
    s, keys, root = sealed_server(tmp_path, 3, 2)
    data = s.data_dir
    try:
        admin = unsealed_with_admin(s, keys[:2], root)
        s.request("PUT", "/v1/orgs/acme/secrets/kept", token=admin, json={"v": "kept"})
        # Too few old shares: refused, nothing changes.
        bad = run_cli_input("\n".join(keys[:1]) + "\n", "operator", "rekey", "--data-dir", data)
        assert bad.returncode != 0 and "do not rebuild" in bad.stderr
        r = run_cli_input("\n".join(keys[1:]) + "\n", "operator", "rekey", "--data-dir", data, "--key-shares", "4",
                          "--key-threshold", "3")
        assert r.returncode == 0, r.stderr
        new = re.findall(r"^Unseal key \d+: ([0-9a-f]+)$", r.stdout, re.M)
        assert len(new) == 4 and not set(new) & set(keys)
        # The running server keeps serving, but may not rotate under its old root key.
        assert s.get("/v1/orgs/acme/secrets/kept", token=admin).status_code == 200
        assert_error(s.post("/v1/sys/rotate", token=root), 409, "rekey")
        assert s.request("PUT", "/v1/sys/seal", token=root).status_code == 204
        for k in keys[:2]:
            unseal(s, k)
        assert s.get("/v1/sys/seal-status").json()["sealed"] is True  # the old shares no longer unseal
        assert s.get("/v1/sys/seal-status").json()["t"] == 3
        unseal(s, None, reset=True)
        for k in new[1:]:
            st = unseal(s, k).json()
        assert st["sealed"] is False
        assert s.get("/v1/orgs/acme/secrets/kept", token=admin).json()["data"] == {"v": "kept"}
        assert s.post("/v1/sys/rotate", token=root).status_code == 200
    finally:
        assert s.stop() == 0
    for k in keys + new:
        assert k not in s.stderr()


def run_cli_input(text, *args):
    """The binary with text on its standard input (shares are never arguments)."""
    import subprocess
    from helpers import BIN
    return subprocess.run([BIN] + list(args), input=text, capture_output=True, text=True, timeout=30)
