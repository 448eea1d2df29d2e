"""What only the PostgreSQL store has (docs/scaling.md; run by `make
test-postgres`, skipped on SQLite): a server whose connections the database
cut (a restart, a failover) carries on once it is back; two servers on one
database share tokens, revocations and one audit chain, also when both
write at once, and when one is killed (kill -9) in the middle of writes:
the other keeps serving and nothing either acknowledged is lost."""
import os
import subprocess
import threading
import time

import pytest
import requests

from helpers import PG, Server, create_org, create_user, remember_secret, token_for
from notice_harness import WEBHOOK_SECRET, hooks_of, mails_of, notice_flags

pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL only (LATCHKEY_TEST_PG; make test-postgres)")


def psql(sql):
    import pgstore
    r = subprocess.run(["psql", pgstore.psql_dsn(PG), "-qtAc", sql], capture_output=True, text=True, check=True)
    return r.stdout.strip()


def shared_store(tmp_path):
    import pgstore
    return pgstore.store_dsn(PG, str(tmp_path / "shared"))


def test_a_server_carries_on_after_the_database_cut_its_connections(server):
    t = server.create_token(description="before the cut")
    remember_secret(t["token"])
    cut = psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
               "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    assert int(cut) >= 1
    # Each connection finds out at its next statement outside a transaction
    # (or at the first of one), is made again and runs it once more: no
    # request sees the cut.
    r = server.get("/v1/auth/whoami", token=t["token"])
    assert r.status_code == 200 and r.json()["token"]["id"] == t["id"]
    made = server.post("/v1/tokens", token=server.root_token, json={"description": "after the cut", "expires": "P1D"})
    assert made.status_code == 200, made.text
    remember_secret(made.json()["token"])
    for _ in range(10):
        assert server.get("/v1/auth/whoami", token=made.json()["token"]).status_code == 200
    # And again, with every connection in use by then cut once more.
    psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    for _ in range(10):
        assert server.get("/v1/auth/whoami", token=made.json()["token"]).status_code == 200
        assert server.post("/v1/tokens", token=server.root_token,
                           json={"description": "again", "expires": "P1D"}).status_code == 200
    assert server.proc.poll() is None
    # Nothing acknowledged was lost, and the trail still verifies.
    server.restart()
    assert server.get("/v1/auth/whoami", token=made.json()["token"]).status_code == 200
    v = server.get("/v1/audit/verify", token=server.root_token).json()
    assert v["chain"]["broken_at"] is None, v


def start_nodes(tmp_path, extra=(), env=None):
    """Two servers, each with its own data dir, on one database (the second
    finds it made: no new root token), caches short as a deployment of
    several nodes would set them."""
    dsn = shared_store(tmp_path)
    flags = ["--store", dsn, "--cache-ttl", "1", "--read-cache-ms", "200"] + list(extra)
    nodes = []
    for name in ("a", "b"):
        n = Server(str(tmp_path / name), extra=flags, env=env)
        os.makedirs(n.tmp, exist_ok=True)
        n.start()
        nodes.append(n)
    remember_secret(nodes[0].root_token)
    return nodes


def stop_nodes(nodes):
    for s in nodes:
        if s.proc is not None:
            assert s.stop() == 0, s.stderr()[-3000:]


@pytest.fixture
def two_nodes(tmp_path):
    nodes = start_nodes(tmp_path)
    yield nodes
    stop_nodes(nodes)


def test_two_nodes_share_tokens_and_revocations(two_nodes):
    a, b = two_nodes
    root = a.root_token
    assert b.get("/v1/auth/whoami", token=root).status_code == 200
    t = a.create_token(token=root, description="made on a", expires="P1D")
    remember_secret(t["token"])
    assert b.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    assert b.delete("/v1/tokens/" + t["id"], token=root).status_code in (200, 204)
    # Refused on b at once (its own change), and on a once its cache
    # entry's second is up.
    assert b.get("/v1/auth/whoami", token=t["token"]).status_code == 401
    deadline = time.time() + 3
    while a.get("/v1/auth/whoami", token=t["token"]).status_code != 401:
        assert time.time() < deadline, "a still accepts a token b revoked"
        time.sleep(0.05)


def test_two_nodes_writing_at_once_keep_one_audit_chain(two_nodes):
    a, b = two_nodes
    root = a.root_token
    made, errors = [], []

    def writer(node, n):
        for i in range(n):
            r = node.post("/v1/tokens", token=root, json={"description": "w%d" % i, "expires": "P1D"})
            if r.status_code != 200:
                errors.append(r.text)
            else:
                made.append(r.json())

    threads = [threading.Thread(target=writer, args=(node, 40)) for node in (a, b, a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for t in made:
        remember_secret(t["token"])
    assert errors == [] and len(made) == 160
    # Every token works on both nodes; the records of both are one chain,
    # as each node reads it.
    for t in made[::16]:
        assert a.get("/v1/auth/whoami", token=t["token"]).status_code == 200
        assert b.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    for node in (a, b):
        v = node.get("/v1/audit/verify", token=root).json()
        assert v["chain"]["broken_at"] is None and v["chain"]["records"] >= 160, v
    seqs = [r["seq"] for r in node.get("/v1/audit?limit=200&action=token.create", token=root).json()["items"]]
    assert len(seqs) == len(set(seqs)) == 160


def test_killing_one_node_mid_writes_loses_nothing_acknowledged(two_nodes):
    a, b = two_nodes
    root = a.root_token
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def writer(node):
        s = requests.Session()
        while not stop.is_set():
            try:
                r = s.post(node.url + "/v1/tokens", headers={"Authorization": "Bearer " + root},
                           json={"description": "kill", "expires": "P1D"}, timeout=10)
            except requests.RequestException:
                if node is b:
                    return  # b is gone
                raise
            if r.status_code == 200:
                with lock:
                    acked.append(r.json())

    threads = [threading.Thread(target=writer, args=(n,)) for n in (a, a, b, b)]
    for th in threads:
        th.start()
    time.sleep(1.0)
    b.proc.kill()  # kill -9, in the middle of writes
    b.proc.wait()
    b.proc = None
    time.sleep(1.0)
    stop.set()
    for th in threads:
        th.join()
    for t in acked:
        remember_secret(t["token"])
    assert len(acked) > 20
    # Every creation either node acknowledged is there, and a kept serving.
    listed, cursor = set(), None
    while True:
        page = a.get("/v1/tokens", token=root, params=dict(limit=200, **({"cursor": cursor} if cursor else {}))).json()
        listed |= {t["id"] for t in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert {t["id"] for t in acked} <= listed
    v = a.get("/v1/audit/verify", token=root).json()
    assert v["chain"]["broken_at"] is None, v
    # b comes back on the same store and carries on the one chain.
    b.start()
    t = b.create_token(token=root, description="after the kill", expires="P1D")
    remember_secret(t["token"])
    assert a.get("/v1/auth/whoami", token=t["token"]).status_code == 200
    assert b.get("/v1/audit/verify", token=root).json()["chain"]["broken_at"] is None


def test_two_nodes_send_each_notice_once(tmp_path, smtp, webhook):
    """Both nodes run the notifier on the one outbox: every notice goes out
    once, by e-mail and by webhook, whichever node schedules or sends it."""
    nodes = start_nodes(tmp_path, ["--notice-interval", "1"] + notice_flags(smtp.port, webhook.url),
                        env={"LATCHKEY_NOTICE_WEBHOOK_SECRET": WEBHOOK_SECRET})
    try:
        a, b = nodes
        root = a.root_token
        create_org(a, "acme", token=root)
        create_user(a, "acme", "alice", role="admin", token=root)
        admin = token_for(b, "acme", "alice", token=root, expires="P365D")
        # Tokens born inside the final (1-day) window: the org asks for their notice.
        assert b.request("PATCH", "/v1/orgs/acme/settings", token=admin,
                         json={"notify_short_lived_tokens": True}).status_code == 200
        made = []
        for i in range(6):
            node = nodes[i % 2]
            t = node.post("/v1/orgs/acme/users/alice/tokens", token=admin, json={"expiry_hours": 20}).json()
            remember_secret(t["token"])
            made.append(t["id"])
        deadline = time.time() + 30
        while time.time() < deadline and (len(smtp.messages) < 6 or len(webhook.calls) < 6):
            time.sleep(0.1)
        time.sleep(3)  # several more passes on both nodes: still once each
        assert sorted(mails_of(smtp)) == sorted((("alice@example.com",), t, 1) for t in made)
        assert hooks_of(webhook) == sorted((t, 1) for t in made)
    finally:
        stop_nodes(nodes)
