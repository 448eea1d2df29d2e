#!/usr/bin/python3
"""Turn the REST contract, api/openapi.yaml, into the JSON the server
serves at GET /v1/openapi.json (embedded by scripts/embed_assets.py).

    openapi_json.py INPUT.yaml OUTPUT.json

The JSON is the YAML as PyYAML's safe loader reads it (anchors and aliases
expanded), written compactly in UTF-8 with the keys in the YAML's order.
Anything JSON cannot say the same way is refused rather than converted: a
mapping key that is not a string (an unquoted 200 would turn into "200" in
JSON but stay 200 in the YAML), a date or timestamp, a float that is not
finite. So the served document always equals the YAML parsed, which
tests/blackbox/test_docs.py checks. Debian's python3-yaml only."""
import json
import math
import sys

import yaml


def check(node, where="$"):
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                sys.exit("openapi_json.py: %s: key %r is not a string (quote it in the YAML)" % (where, k))
            check(v, "%s.%s" % (where, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            check(v, "%s[%d]" % (where, i))
    elif isinstance(node, float):
        if not math.isfinite(node):
            sys.exit("openapi_json.py: %s: %r has no JSON form" % (where, node))
    elif node is not None and not isinstance(node, (str, bool, int)):
        sys.exit("openapi_json.py: %s: %r (a %s) has no JSON form; quote it in the YAML"
                 % (where, node, type(node).__name__))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: openapi_json.py INPUT.yaml OUTPUT.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    if not isinstance(spec, dict) or "openapi" not in spec:
        sys.exit("openapi_json.py: %s is not an OpenAPI document" % sys.argv[1])
    check(spec)
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
