"""Token routes under concurrent load: what many requests racing for one
token can end up holding. A rotation replaces a token once: racing
rotations used to each receive a new secret from the same old token."""
import threading
from collections import Counter

import requests

from helpers import remember_secret

N = 16


def race(server, token, method, path, body):
    """Sends N identical requests at once; returns their (status, json) pairs."""
    out, gate = [], threading.Barrier(N)

    def one():
        gate.wait()
        r = requests.request(method, server.url + path, headers={"Authorization": "Bearer " + token}, json=body,
                             timeout=30)
        j = r.json() if r.content else None
        if isinstance(j, dict) and isinstance(j.get("token"), str):
            remember_secret(j["token"])
        out.append((r.status_code, j))

    threads = [threading.Thread(target=one) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_racing_rotations_of_one_token_yield_one_new_secret(server):
    root = server.root_token
    for grace in (0, 60):
        old = server.post("/v1/tokens", token=root, json={"description": "racing"}).json()
        remember_secret(old["token"])
        res = race(server, root, "POST", "/v1/tokens/%s/rotate" % old["id"], {"grace_seconds": grace})
        codes = Counter(c for c, _ in res)
        assert codes[200] == 1, (grace, codes, [j for c, j in res if c != 200][:3])
        assert set(codes) <= {200, 404, 409}, codes
        new = [j for c, j in res if c == 200][0]
        ids = [t["id"] for t in server.get("/v1/tokens?limit=200", token=root).json()["items"]]
        assert new["id"] in ids
        assert len(ids) == len(set(ids))
        if grace:
            listed = server.get("/v1/tokens/" + old["id"], token=root).json()
            assert listed["replaced_by"] == new["id"]
            # Rotating it again, later, is refused, naming its replacement.
            r = server.post("/v1/tokens/%s/rotate" % old["id"], token=root, json={})
            assert r.status_code == 409 and new["id"] in r.json()["errors"][0]
        assert server.get("/v1/auth/whoami", token=new["token"]).status_code == 200


def test_a_rotation_racing_a_revocation_leaves_no_live_replacement_of_a_revoked_token(server):
    root = server.root_token
    for _ in range(5):
        old = server.post("/v1/tokens", token=root, json={}).json()
        remember_secret(old["token"])
        out = []
        gate = threading.Barrier(2)

        def rotate():
            gate.wait()
            r = requests.post(server.url + "/v1/tokens/%s/rotate" % old["id"],
                              headers={"Authorization": "Bearer " + root}, json={"grace_seconds": 30}, timeout=30)
            if r.status_code == 200:
                remember_secret(r.json()["token"])
            out.append(("rotate", r.status_code, r.json() if r.content else None))

        def revoke():
            gate.wait()
            r = requests.delete(server.url + "/v1/tokens/" + old["id"], headers={"Authorization": "Bearer " + root},
                                timeout=30)
            out.append(("delete", r.status_code, None))

        ts = [threading.Thread(target=rotate), threading.Thread(target=revoke)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        got = {k: (c, j) for k, c, j in out}
        # Whatever the order, the old token is gone; a replacement exists only
        # if the rotation committed first (then it was asked for).
        assert server.get("/v1/auth/whoami", token=old["token"]).status_code == 401
        assert got["delete"][0] in (204, 404) and got["rotate"][0] in (200, 404, 409)
        assert got["delete"][0] == 204 or got["rotate"][0] == 200
