"""api/openapi.yaml and the server describe the same routes: every route the
binary serves is in the spec with the same method, and every operation in the
spec is served (and answers ?help=1). The same holds for the description the
server itself serves at /v1/openapi.json (test_docs.py checks that it is the
YAML, parsed)."""
import os
import re
import subprocess

import yaml

from helpers import BIN, ROOT

METHODS = {"get", "post", "put", "patch", "delete"}


def spec_operations(spec=None):
    if spec is None:
        with open(os.path.join(ROOT, "api", "openapi.yaml")) as f:
            spec = yaml.safe_load(f)
    ops = set()
    for path, item in spec["paths"].items():
        for method in item:
            if method in METHODS:
                ops.add((method.upper(), path))
                # Vault's LIST method, which OpenAPI cannot name, is marked on the GET.
                if method == "get" and item[method].get("x-list-method"):
                    ops.add(("LIST", path))
    return spec, ops


def served_operations():
    out = subprocess.run([BIN, "routes"], capture_output=True, text=True, check=True).stdout
    # The router's "{name...}" takes the rest of the path, slashes and all; an
    # OpenAPI path template cannot say that, so the spec writes "{name}" and
    # describes the parameter as spanning segments.
    return {(line.split()[0], re.sub(r"\{([a-z]+)\.\.\.\}", r"{\1}", line.split()[1]))
            for line in out.splitlines() if line.strip()}


def test_spec_and_server_list_the_same_routes():
    _, spec = spec_operations()
    served = served_operations()
    assert served - spec == set(), "served but not in api/openapi.yaml"
    assert spec - served == set(), "in api/openapi.yaml but not served"


def test_the_served_description_and_the_server_list_the_same_routes(server):
    r = server.get("/v1/openapi.json")
    assert r.status_code == 200, r.text
    _, spec = spec_operations(r.json())
    served = served_operations()
    assert served - spec == set(), "served but not in /v1/openapi.json"
    assert spec - served == set(), "in /v1/openapi.json but not served"


def test_every_operation_documents_errors_and_help():
    spec, _ = spec_operations()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            refs = [p.get("$ref", "") for p in op.get("parameters", [])]
            assert "#/components/parameters/help" in refs, (method, path)
            assert "429" in op["responses"], (method, path)
            if op.get("security", None) != []:
                # The Vault door refuses with Vault's 403; the native API with 401.
                refused = "403" if "vault" in op.get("tags", []) else "401"
                assert refused in op["responses"], (method, path)


def test_every_operation_answers_help(server):
    _, ops = spec_operations()
    for method, path in sorted(ops):
        concrete = re.sub(r"\{[a-z]+\}", "x", path)
        r = server.request(method, concrete + "?help=1", token=server.root_token)
        assert r.status_code == 200, (method, path, r.text)
        assert r.json()["help"]
