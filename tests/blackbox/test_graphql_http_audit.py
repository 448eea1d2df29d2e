"""/graphql against the GraphQL over HTTP specification, as graphql-http's
own server audits read it (tests/graphql/audit.mjs, npm graphql-http
pinned): every MUST passes; the SHOULD and MAY audits that do not are
printed (pytest -s, or the report's captured output), not failed."""
import json
import os
import subprocess

from helpers import ROOT

AUDIT = os.path.join(ROOT, "tests", "graphql", "audit.mjs")


def run_audits(server):
    env = dict(os.environ, LATCHKEY_URL=server.url, LATCHKEY_TOKEN=server.root_token)
    r = subprocess.run(["node", AUDIT], capture_output=True, text=True, env=env, timeout=180, cwd=ROOT)
    assert r.stdout.strip(), r.stderr[-3000:]
    out = json.loads(r.stdout)
    assert r.returncode == 0, json.dumps(out, indent=1)[-6000:]
    return out


def describe(a):
    """One failed audit: what was sent and what came back."""
    lines = ["%s %s [%s]: %s" % (a["status"].upper(), a["id"], a["name"], a.get("reason"))]
    for req in a.get("requests", []):
        lines.append("  sent: %s %s %s %s" % (req["method"], req["url"], json.dumps(req["headers"], sort_keys=True),
                                                 req["body"] if req["body"] is not None else ""))
    res = a.get("response")
    if res is not None:
        lines.append("  got:  %s %s" % (res["status"], json.dumps(res["headers"], sort_keys=True)))
        lines.append("        %s" % json.dumps(res["body"])[:1500])
    return "\n".join(lines)


def test_graphql_http_server_audits(make_server):
    # Rate limits off: the audits send some seventy requests in a burst and
    # judge the protocol, not the limiter.
    server = make_server(extra=["--rate-limit-token", "0", "--rate-limit-ip", "0"])
    out = run_audits(server)
    audits = out["audits"]
    assert out["total"] == len(audits) and len(audits) >= 50, out["counts"]
    assert all(a["name"].split()[0] in ("MUST", "SHOULD", "MAY") for a in audits)
    must = [a for a in audits if a["name"].startswith("MUST")]
    assert must, "no MUST audit ran"
    failed = [a for a in must if a["status"] != "ok"]
    others = [a for a in audits if not a["name"].startswith("MUST") and a["status"] != "ok"]
    print("\ngraphql-http %s audits: %s" % (len(audits), json.dumps(out["counts"], sort_keys=True)))
    for a in others:
        print(describe(a))
    assert failed == [], "%d MUST audit(s) failed:\n%s" % (len(failed), "\n".join(describe(a) for a in failed))
