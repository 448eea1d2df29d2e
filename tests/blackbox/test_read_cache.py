"""The store's read cache (docs/architecture.md, "Read cache") changes no
answer: a change made through the server is seen by the next request on
every worker, also under load, however long the cache's TTL.

The cache keeps the org, team, team-role and secret rows a secret read
starts with. The servers here trust entries for a minute
(--read-cache-ms 60000), so only the change epoch can make a change
visible in time: a request sent after the changing request's answer
arrived must see the change. One sent earlier may not: it ran
concurrently. Timing as in test_revocation_race.py: each client notes
time.monotonic() before it sends and after its answer is read, the
changer after its answer arrived, all in this one process, so client-side
delays can only make the check more lenient.
"""
import json
import os
import subprocess
import threading
import time

from helpers import BIN, Conn, assert_error, create_org, create_team, create_user, expect, set_member, token_for

TRIALS = int(os.environ.get("LATCHKEY_RACE_TRIALS", "30"))
CLIENTS = 6
SERVER_FLAGS = ["--read-cache-ms", "60000", "--threads", "4", "--rate-limit-token", "0", "--rate-limit-ip", "0",
                "--access-log", "false"]
SECRET = "/v1/orgs/acme/teams/payments/secrets/app/key"


def world(s):
    """acme with team payments, its member mia, a team secret; mia's token."""
    create_org(s, "acme")
    create_user(s, "acme", "mia")
    create_team(s, "acme", "payments")
    set_member(s, "acme", "payments", "mia", "member")
    expect(s.request("PUT", SECRET, token=s.root_token, json={"v": "0"}))
    return token_for(s, "acme", "mia", expires="P1D")


class Readers:
    """CLIENTS threads reading the secret with token until stopped. Each
    result is (monotonic start, monotonic end, status, version or None)."""

    def __init__(self, server, token):
        self.addr = server.address()
        self.request = ("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n"
                        % (SECRET, self.addr[0], token)).encode()
        self.stop_flag = threading.Event()
        self.results = [[] for _ in range(CLIENTS)]
        self.failures = []
        self.threads = [threading.Thread(target=self.client, args=(i,)) for i in range(CLIENTS)]

    def client(self, n):
        out = self.results[n]
        try:
            conn = Conn(self.addr)
            while not self.stop_flag.is_set():
                t0 = time.monotonic()
                status = conn.exchange(self.request)
                version = json.loads(conn.body)["version"] if status == 200 else None
                out.append((t0, time.monotonic(), status, version))
            conn.close()
        except Exception as e:  # noqa: BLE001 - reported by the test's thread
            self.failures.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        for t in self.threads:
            t.join()
        assert not self.failures, self.failures[:3]

    def all(self):
        return [x for rs in self.results for x in rs]


def test_leaving_the_team_ends_reading_its_secrets_at_once_under_load(make_server):
    """The member's role is a cached row: removing them must end their reads
    with the removal's answer, on every worker."""
    server = make_server(extra=SERVER_FLAGS)
    token = world(server)
    member = "/v1/orgs/acme/teams/payments/members/mia"
    windows = []  # (removal answered, re-adding sent)
    with Readers(server, token) as load:
        for _ in range(TRIALS):
            time.sleep(0.05)
            r = server.delete(member, token=server.root_token)
            done = time.monotonic()
            assert r.status_code in (200, 204), r.text
            time.sleep(0.1)
            again = time.monotonic()
            set_member(server, "acme", "payments", "mia", "member")
            windows.append((done, again))
    results = load.all()
    assert {st for _, _, st, _ in results} <= {200, 401}, sorted({st for _, _, st, _ in results})
    leaks, observed = [], 0
    for trial, (done, again) in enumerate(windows):
        inside = [st for t0, t1, st, _ in results if t0 > done and t1 < again]
        observed += bool(inside)
        if 200 in inside:
            leaks.append("removal %d: %d read(s) sent after it was answered still read the secret"
                         % (trial, inside.count(200)))
    assert sum(st == 200 for _, _, st, _ in results) > TRIALS
    assert observed * 2 >= TRIALS, "only %d of %d removals saw a read" % (observed, TRIALS)
    assert not leaks, "\n".join(leaks)


def test_every_read_after_a_write_sees_it_under_load(make_server):
    """The secret's row is cached: a read sent after a write's answer never
    answers an older version, on any worker."""
    server = make_server(extra=SERVER_FLAGS)
    token = world(server)
    written = []  # (write answered, version)
    with Readers(server, token) as load:
        for i in range(TRIALS * 3):
            time.sleep(0.01)
            r = server.request("PUT", SECRET, token=server.root_token, json={"v": str(i + 1)})
            done = time.monotonic()
            assert r.status_code == 200, r.text
            written.append((done, r.json()["version"]))
    results = load.all()
    assert all(st == 200 for _, _, st, _ in results), sorted({st for _, _, st, _ in results})
    stale = []
    for t0, _, _, version in results:
        due = max((v for done, v in written if done < t0), default=1)
        if version < due:
            stale.append("a read sent %.4fs after version %d was answered got version %d"
                         % (t0 - max(d for d, v in written if v == due), due, version))
    assert len(results) > len(written), "the readers hardly ran"
    assert not stale, "%d stale reads, e.g.\n%s" % (len(stale), "\n".join(stale[:5]))


def test_an_org_deactivated_and_a_team_deleted_are_seen_at_once(make_server):
    """The org and team rows are cached too: what the org admin's next
    request names answers as it is now."""
    server = make_server(extra=SERVER_FLAGS)
    world(server)
    create_user(server, "acme", "ann", role="admin")
    admin = token_for(server, "acme", "ann", expires="P1D")
    for _ in range(3):
        assert server.get(SECRET, token=admin).status_code == 200
    expect(server.post("/v1/orgs/acme/deactivate", token=server.root_token))
    assert server.get(SECRET, token=admin).status_code == 401
    expect(server.post("/v1/orgs/acme/activate", token=server.root_token))
    assert server.get(SECRET, token=admin).status_code == 200
    r = server.delete("/v1/orgs/acme/teams/payments", token=server.root_token)
    assert r.status_code in (200, 204), r.text
    assert_error(server.get(SECRET, token=admin), 404, "no team payments in organisation acme")
    create_team(server, "acme", "payments")
    assert_error(server.get(SECRET, token=admin), 404, "no secret at app/key")


def test_read_cache_flags(make_server, tmp_path):
    """--read-cache-ms 0 turns it off and answers the same; out-of-range
    settings are refused at start."""
    server = make_server(extra=["--read-cache-ms", "0"])
    token = world(server)
    assert server.get(SECRET, token=token).json()["data"] == {"v": "0"}
    expect(server.request("PUT", SECRET, token=server.root_token, json={"v": "1"}))
    assert server.get(SECRET, token=token).json()["data"] == {"v": "1"}
    for flag, value in (("--read-cache-ms", "60001"), ("--read-cache-mb", "0")):
        p = subprocess.run([BIN, "server", "--dev", "--data-dir", str(tmp_path / "d"), "--listen", "127.0.0.1:0",
                            flag, value], capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and flag[2:] in p.stderr, p.stderr
