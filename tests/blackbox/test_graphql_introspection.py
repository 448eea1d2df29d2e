"""The schema /graphql serves is api/schema.graphql: introspected with
graphql-js's standard query (descriptions included) and with the October
2021 specification's full one (schema description, specifiedByURL,
isRepeatable), read back with buildClientSchema and compared with
buildSchema of the file (tests/graphql/introspection.mjs): the printed,
sorted schemas are equal and neither has a breaking or dangerous change
against the other. On a mismatch the line diff is printed."""
import json
import os
import subprocess

import pytest

from helpers import ROOT, SERVER_DIRS, Server, remember_secret

SCRIPT = os.path.join(ROOT, "tests", "graphql", "introspection.mjs")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    # One server and one run for both tests (each query's result is
    # judged apart): a module-scoped server of its own, since the
    # make_server fixture lives per test.
    d = tmp_path_factory.mktemp("introspection")
    SERVER_DIRS.append(str(d))
    s = Server(str(d))
    s.start()
    remember_secret(s.root_token)
    try:
        env = dict(os.environ, LATCHKEY_URL=s.url, LATCHKEY_TOKEN=s.root_token)
        r = subprocess.run(["node", SCRIPT], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    finally:
        assert s.stop() == 0, s.stderr()[-4000:]
    assert r.stdout.strip(), r.stderr[-3000:]
    return json.loads(r.stdout)


def judge(result):
    assert "failure" not in result, "introspection failed: %s (errors: %s)" % (result["failure"],
                                                                              result.get("errors"))
    assert result["status"] == 200 and "errors" not in result, result.get("errors")
    problems = []
    if not result["equal"]:
        problems.append("printSchema differs (- api/schema.graphql, + served):\n" + "\n".join(result["diff"]))
    for kind in ("breaking", "dangerous"):
        for way, found in result[kind].items():
            if found:
                problems.append("%s changes %s:\n  %s" % (kind, way.replace("_", " "), "\n  ".join(found)))
    assert not problems, "\n\n".join(problems)
    assert result["types"] > 20


def test_the_standard_introspection_is_the_schema_file(compared):
    judge(compared["standard"])


def test_the_full_introspection_is_the_schema_file(compared):
    judge(compared["full"])
