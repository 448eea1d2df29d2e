"""GraphQL at /graphql (docs/graphql.md): GraphQL over HTTP, fields that
resolve through the same REST routes (so the same authorization), the
chains a narrowed credential might try through it, a mutation that is all
or nothing, one audit record per operation, and the limits.

The graphql-http audit, the schema-versus-introspection comparison and the
browser tests are in test_graphql_http_audit.py and test_graphiql.py.
"""
import json
import threading
import urllib.parse

import pytest

from helpers import (PASSWORD, assert_error, create_org, create_team, create_user, expect, login, remember_secret, set_member,
                     token_for, wait_for)

GR = "application/graphql-response+json; charset=utf-8"


def gql(s, query, variables=None, token=None, operation=None, accept=GR, status=200, **kw):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    if operation is not None:
        body["operationName"] = operation
    headers = {"Accept": accept} if accept else {}
    r = s.post("/graphql", token=token or s.root_token, json=body, headers=headers, **kw)
    assert r.status_code == status, r.text
    out = r.json()
    # Every token handed out here joins the session's secret scan.
    for v in (out.get("data") or {}).values():
        if isinstance(v, dict) and isinstance(v.get("secret"), str):
            remember_secret(v["secret"])
    return r, out


def data(s, query, variables=None, token=None):
    r, out = gql(s, query, variables, token=token)
    assert "errors" not in out, out
    assert r.headers["Content-Type"] == GR
    return out["data"]


def codes(out):
    return [e.get("extensions", {}).get("code") for e in out.get("errors", [])]


@pytest.fixture
def acme(server):
    create_org(server, "acme")
    create_user(server, "acme", "ann", role="admin", password=PASSWORD)
    create_user(server, "acme", "bob")
    create_team(server, "acme", "web")
    set_member(server, "acme", "web", "bob", "member")
    create_org(server, "umbrella")
    create_team(server, "umbrella", "labs")
    return server


def test_me_over_post_and_get(server):
    assert data(server, "{ me { name type } }") == {"me": {"name": "root", "type": "ROOT"}}
    q = urllib.parse.urlencode({"query": "query Who { me { name } }", "operationName": "Who"})
    r = server.get("/graphql?" + q, token=server.root_token, headers={"Accept": GR})
    assert r.status_code == 200 and r.headers["Content-Type"] == GR
    assert r.json() == {"data": {"me": {"name": "root"}}}


def test_me_is_whoami(acme):
    """Me is GET /v1/auth/whoami's answer, field by field, for a user's token."""
    bob = token_for(acme, "acme", "bob", expires="P1D", policies=["teams.view"])
    who = expect(acme.get("/v1/auth/whoami", token=bob))
    me = data(acme, "{ me { type name org team token { id expiresAt policies } permissions } }", token=bob)["me"]
    assert me == {"type": who["principal"]["type"].upper(), "name": who["principal"]["name"],
                  "org": who["principal"]["org"], "team": who["principal"]["team"],
                  "token": {"id": who["token"]["id"], "expiresAt": who["token"]["expires_at"],
                            "policies": who["token"]["policies"]},
                  "permissions": who["permissions"]}
    assert me["name"] == "bob" and me["permissions"] == ["teams.view"]


def test_a_credential_is_required(server):
    r = server.post("/graphql", json={"query": "{ me { name } }"})
    assert_error(r, 401, "missing credentials")


def test_media_types_and_status_codes(server):
    # Only application/json accepted: that type, and a document that does
    # not parse is still 200 (the legacy type's rule); under
    # graphql-response+json it is 400.
    r, out = gql(server, "{ me { name }", accept="application/json")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert out["errors"][0]["message"].startswith("Syntax Error")
    assert out["errors"][0]["locations"] == [{"line": 1, "column": 14}]
    assert "data" not in out
    r, out = gql(server, "{ me { name }", status=400)
    assert r.headers["Content-Type"] == GR and "data" not in out
    # A wildcard, or no Accept at all: application/json, as the
    # specification asks while legacy clients are about.
    for accept in ("*/*", "application/*", None):
        r, out = gql(server, "{ me { name } }", accept=accept)
        assert r.headers["Content-Type"] == "application/json; charset=utf-8", accept
        assert out == {"data": {"me": {"name": "root"}}}
    # Both named: the GraphQL type, unless json is preferred.
    r, _ = gql(server, "{ me { name } }", accept="application/json, " + GR)
    assert r.headers["Content-Type"] == GR
    r, _ = gql(server, "{ me { name } }", accept="application/json, application/graphql-response+json;q=0.5")
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    # Neither type acceptable: 406.
    r = server.post("/graphql", token=server.root_token, json={"query": "{ me { name } }"},
                    headers={"Accept": "text/html"})
    assert_error(r, 406)
    # A body that is not application/json: 415; not JSON at all: 400.
    r = server.post("/graphql", token=server.root_token, data="{ me { name } }",
                    headers={"Content-Type": "application/graphql"})
    assert_error(r, 415)
    r = server.post("/graphql", token=server.root_token, data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "errors" in r.json()
    r = server.post("/graphql", token=server.root_token, json={"query": 7})
    assert r.status_code == 400 and "query" in r.json()["errors"][0]["message"]
    r = server.post("/graphql", token=server.root_token, json={"variables": {}})
    assert r.status_code == 400


def test_a_mutation_over_get_is_405(acme):
    q = urllib.parse.urlencode({"query": 'mutation { deleteTeam(org: "acme", name: "web") { deleted } }'})
    r = acme.get("/graphql?" + q, token=acme.root_token)
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    expect(acme.get("/v1/orgs/acme/teams/web", token=acme.root_token))


def test_variables_are_coerced_and_checked(acme):
    q = "query Q($org: String!, $n: Int) { organization(name: $org) { teams(first: $n) { nodes { name } } } }"
    assert data(acme, q, {"org": "acme", "n": 5}) == {"organization": {"teams": {"nodes": [{"name": "web"}]}}}
    _, out = gql(acme, q, {"org": "acme", "n": "five"}, status=400)
    assert "Int cannot represent" in out["errors"][0]["message"] and "data" not in out
    _, out = gql(acme, q, {}, status=400)
    assert 'Variable "$org" of required type "String!" was not provided.' == out["errors"][0]["message"]


def test_a_tree_of_the_org_resolves_like_rest(acme):
    d = data(acme, """{ organization(name: "acme") { name status settings { tokenExpiryHours }
        users { nodes { username role } pageInfo { hasNextPage } }
        teams { edges { cursor node { name members { username role } } } } } }""")
    org = d["organization"]
    assert org["name"] == "acme" and org["status"] == "ACTIVE"
    assert sorted(u["username"] for u in org["users"]["nodes"]) == ["ann", "bob"]
    team = org["teams"]["edges"][0]
    assert team["cursor"].startswith("s") and team["node"]["members"] == [{"username": "bob", "role": "MEMBER"}]
    rest = expect(acme.get("/v1/orgs/acme/teams", token=acme.root_token))
    assert [t["name"] for t in rest["items"]] == [e["node"]["name"] for e in org["teams"]["edges"]]


def test_paging_with_first_and_after(acme):
    for i in range(3):
        create_team(acme, "acme", "t%d" % i)
    seen, after = [], None
    while True:
        d = data(acme, "query($a: String) { organization(name: \"acme\") { teams(first: 2, after: $a) "
                       "{ nodes { name } pageInfo { hasNextPage endCursor } } } }", {"a": after})
        page = d["organization"]["teams"]
        seen += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == ["t0", "t1", "t2", "web"]


def test_another_orgs_things_answer_like_missing_ones(acme):
    bob = token_for(acme, "acme", "bob", expires="P1D")
    _, theirs = gql(acme, '{ organization(name: "umbrella") { name } }', token=bob)
    _, missing = gql(acme, '{ organization(name: "nowhere") { name } }', token=bob)
    assert theirs["data"] == missing["data"] == {"organization": None}
    assert codes(theirs) == codes(missing) == ["NOT_FOUND"]
    assert theirs["errors"][0]["message"].replace("umbrella", "X") == missing["errors"][0]["message"].replace(
        "nowhere", "X")


def test_names_cannot_reach_another_route(acme):
    _, out = gql(acme, '{ organization(name: "acme/users") { name } }')
    assert out["data"] == {"organization": None} and codes(out) == ["BAD_REQUEST"]
    _, out = gql(acme, '{ organization(name: "acme") { secretMetadata(path: "../../teams") { path } } }')
    assert codes(out) == ["BAD_REQUEST"]


def test_a_narrowed_token_mints_nothing_wider_through_graphql(acme):
    """The chain the adversarial review found, tried through GraphQL: a
    token narrowed to tokens.manage asks for a token with everything."""
    ann = token_for(acme, "acme", "ann", expires="P1D", policies=["tokens.manage", "tokens.view"])
    _, out = gql(acme, 'mutation { createToken(input: {description: "wide", policies: ["*"]}) '
                       '{ id secret policies droppedPolicies } }', token=ann)
    assert "errors" not in out, out
    made = out["data"]["createToken"]
    assert "*" not in made["policies"]
    assert set(made["policies"]) <= {"tokens.manage", "tokens.view"}
    # The new token can do no more than its maker.
    _, out = gql(acme, 'mutation { createUser(input: {org: "acme", username: "eve", email: "e@x.io", role: ADMIN}) '
                       '{ username } }', token=made["secret"])
    assert out["data"] is None and codes(out)[0] in ("FORBIDDEN", "UNAUTHENTICATED", "NOT_FOUND")
    # And a member cannot mint one for a service account of a team they do not own.
    bob = token_for(acme, "acme", "bob", expires="P1D")
    expect(acme.post("/v1/orgs/acme/teams/web/service-accounts", token=acme.root_token, json={"name": "ci"}))
    _, out = gql(acme, 'mutation { createToken(input: {org: "acme", team: "web", serviceAccount: "ci"}) { secret } }',
                 token=bob)
    assert out["data"] is None and out["errors"]
    assert expect(acme.get("/v1/orgs/acme/teams/web/service-accounts/ci/tokens", token=acme.root_token))["items"] == []


def test_a_failed_mutation_leaves_nothing(acme):
    _, out = gql(acme, """mutation { a: createTeam(input: {org: "acme", name: "ops"}) { name }
                                      b: createTeam(input: {org: "acme", name: "web"}) { name }
                                      c: createTeam(input: {org: "acme", name: "late"}) { name } }""")
    assert out["data"] is None
    assert [e["path"] for e in out["errors"]] == [["b"]] and codes(out) == ["CONFLICT"]
    assert_error(acme.get("/v1/orgs/acme/teams/ops", token=acme.root_token), 404)
    assert_error(acme.get("/v1/orgs/acme/teams/late", token=acme.root_token), 404)
    # The same operation without the clash does it all.
    _, out = gql(acme, 'mutation { a: createTeam(input: {org: "acme", name: "ops"}) { name } '
                       'b: setTeamMember(org: "acme", team: "ops", username: "ann", role: OWNER) { role } }')
    assert out == {"data": {"a": {"name": "ops"}, "b": {"role": "OWNER"}}}
    expect(acme.get("/v1/orgs/acme/teams/ops", token=acme.root_token))


def test_each_operation_is_audited_once_with_its_name(acme):
    before = len(expect(acme.get("/v1/audit?limit=200", token=acme.root_token))["items"])
    r, out = gql(acme, "query TeamsOfAcme { organization(name: \"acme\") { teams { nodes { name members "
                       "{ username } } } } }")
    wait_for(acme, r.headers["X-Request-Id"])
    r2, _ = gql(acme, 'mutation AddOps { createTeam(input: {org: "acme", name: "ops"}) { name } }')
    wait_for(acme, r2.headers["X-Request-Id"])
    items = expect(acme.get("/v1/audit?limit=200", token=acme.root_token))["items"]
    mine = [i for i in items if i["request_id"] in (r.headers["X-Request-Id"], r2.headers["X-Request-Id"])]
    assert sorted((i["action"], i["resource"], i["outcome"]) for i in mine) == [
        ("graphql.mutation", "/graphql#AddOps", "success"), ("graphql.query", "/graphql#TeamsOfAcme", "success")]
    assert len(items) >= before + 2


def test_a_refused_field_is_recorded_as_denied(acme):
    bob = token_for(acme, "acme", "bob", expires="P1D")
    r, out = gql(acme, 'mutation Sneaky { createUser(input: {org: "acme", username: "eve", email: "e@x.io"}) '
                       '{ username } }', token=bob)
    assert out["data"] is None
    rec = wait_for(acme, r.headers["X-Request-Id"])
    assert rec["action"] == "graphql.mutation" and rec["resource"] == "/graphql#Sneaky"
    assert rec["outcome"] in ("denied", "error") and rec["status"] == 200
    assert_error(acme.get("/v1/orgs/acme/users/eve", token=acme.root_token), 404)


def test_a_new_tokens_secret_is_shown_once(acme):
    d = data(acme, 'mutation { createToken(input: {description: "ci", expires: "P7D"}) { id secret status } }')
    made = d["createToken"]
    assert made["secret"].startswith(made["id"] + "_")
    listed = data(acme, "{ tokens { nodes { id } } }")["tokens"]["nodes"]
    assert made["id"] in [t["id"] for t in listed]
    # No field shows it again.
    intro = data(acme, '{ __type(name: "Token") { fields { name } } }')
    assert "secret" not in [f["name"] for f in intro["__type"]["fields"]]
    assert data(acme, "{ me { name } }", token=made["secret"]) == {"me": {"name": "root"}}


def test_secret_values_are_never_readable(acme):
    expect(acme.request("PUT", "/v1/orgs/acme/secrets/app/db", token=acme.root_token, json={"password": "hunter2"}))
    d = data(acme, '{ organization(name: "acme") { secretKeys(folder: "app/") secretMetadata(path: "app/db") '
                   '{ currentVersion versions { version } } } }')
    assert d["organization"]["secretKeys"] == ["db"]
    assert d["organization"]["secretMetadata"]["currentVersion"] == 1
    assert "hunter2" not in json.dumps(d)


def test_introspection(server):
    d = data(server, "{ __schema { queryType { name } mutationType { name } subscriptionType { name } "
                     "types { name kind } directives { name } } }")
    s = d["__schema"]
    assert s["queryType"] == {"name": "Query"} and s["mutationType"] == {"name": "Mutation"}
    assert s["subscriptionType"] is None
    names = {t["name"]: t["kind"] for t in s["types"]}
    assert names["Organization"] == "OBJECT" and names["OrgRole"] == "ENUM" and names["__Type"] == "OBJECT"
    assert names["CreateTokenInput"] == "INPUT_OBJECT" and names["Time"] == "SCALAR"
    assert {"skip", "include", "deprecated", "specifiedBy"} <= {x["name"] for x in s["directives"]}
    d = data(server, '{ __type(name: "Me") { fields { name type { kind ofType { name } } } } }')
    f = {x["name"]: x["type"] for x in d["__type"]["fields"]}
    assert f["name"] == {"kind": "NON_NULL", "ofType": {"name": "String"}}
    assert data(server, "{ __typename me { __typename } }") == {"__typename": "Query", "me": {"__typename": "Me"}}


def test_skip_include_fragments_and_aliases(acme):
    d = data(acme, """query($yes: Boolean!) { a: me { ...Who } b: me @skip(if: $yes) { name }
                      c: me @include(if: $yes) { ... on Me { type } } }
                      fragment Who on Me { name }""", {"yes": True})
    assert d == {"a": {"name": "root"}, "c": {"type": "ROOT"}}


def test_validation_errors_are_400_with_locations(server):
    _, out = gql(server, "{ me { nope } }", status=400)
    assert out["errors"][0]["message"] == 'Cannot query field "nope" on type "Me".'
    assert out["errors"][0]["locations"] == [{"line": 1, "column": 8}]
    _, out = gql(server, "type Foo { a: Int }", status=400)
    assert "errors" in out and "data" not in out


def test_limits_are_clear_errors(acme):
    deep = "{ organization(name: \"acme\") { teams { nodes { serviceAccounts { nodes { tokens { nodes { owner " \
           "{ type } } } } } } } } }"
    assert "errors" not in gql(acme, deep)[1]
    many_aliases = "{ " + " ".join("a%d: me { name }" % i for i in range(40)) + " }"
    _, out = gql(acme, many_aliases, status=400)
    assert "alias" in out["errors"][0]["message"].lower()
    nested = "{ __schema { types { " + "fields { type { " * 8 + "name" + " } }" * 8 + " } } }"
    _, out = gql(acme, nested, status=400)
    assert "deep" in out["errors"][0]["message"]
    big = "{ me { " + "name " * 30000 + "} }"
    r = acme.post("/graphql", token=acme.root_token, json={"query": big}, headers={"Accept": GR})
    assert r.status_code == 400 and "errors" in r.json()


def test_a_fan_out_past_the_route_budget_is_refused(acme):
    for i in range(12):
        create_team(acme, "acme", "f%02d" % i)
    q = "{ organization(name: \"acme\") { teams(first: 100) { nodes { " + " ".join(
        "m%d: members { username }" % i for i in range(9)) + " } } } }"
    _, out = gql(acme, q)
    assert "TOO_COMPLEX" in codes(out)


def test_a_session_cookie_needs_the_same_origin(acme):
    cookie = login(acme, "ann")
    q = {"query": 'mutation { createTeam(input: {org: "acme", name: "csrf"}) { name } }'}
    r = acme.post("/graphql", json=q, headers={"Cookie": "token=" + cookie, "Origin": "https://evil.example",
                                                "Accept": GR})
    assert_error(r, 400)
    assert_error(acme.get("/v1/orgs/acme/teams/csrf", token=acme.root_token), 404)
    r = acme.post("/graphql", json=q, headers={"Cookie": "token=" + cookie, "Origin": acme.url, "Accept": GR})
    assert r.status_code == 200 and r.json() == {"data": {"createTeam": {"name": "csrf"}}}


def test_documents_kept_by_a_worker_answer_as_fresh_ones(acme):
    """Each worker keeps the documents it validated (64 slots by a hash of
    the text): the same text again, texts that share a slot, two
    operations of one document chosen by name, and an invalid document
    sent twice all answer as the first time."""
    two = "query A { me { name } } query B { organization(name: \"acme\") { name } }"
    for _ in range(3):
        assert data_op(acme, two, "A") == {"me": {"name": "root"}}
        assert data_op(acme, two, "B") == {"organization": {"name": "acme"}}
    # 150 texts over 64 slots, twice round: every answer names its own alias.
    for _ in range(2):
        for i in range(150):
            assert data(acme, "{ a%d: me { name } }" % i) == {"a%d" % i: {"name": "root"}}
    for _ in range(2):
        _, out = gql(acme, "{ me { nope } }", status=400)
        assert out["errors"][0]["message"] == 'Cannot query field "nope" on type "Me".'
    # A kept document runs with each request's own variables and credential.
    q = "query($o: String!) { organization(name: $o) { name } }"
    assert data(acme, q, {"o": "acme"}) == {"organization": {"name": "acme"}}
    bob = token_for(acme, "acme", "bob", expires="P1D")
    _, out = gql(acme, q, {"o": "umbrella"}, token=bob)
    assert out["data"] == {"organization": None} and codes(out) == ["NOT_FOUND"]


def data_op(s, query, operation):
    _, out = gql(s, query, operation=operation)
    assert "errors" not in out, out
    return out["data"]


def test_racing_rotations_through_graphql_make_one_new_token(acme):
    """Eight clients rotate one token through GraphQL at once: one gets a
    new secret, the others what REST answers them (409 naming the
    replacement or that another request just rotated it, or 404 once the
    old token is gone), and nothing of a
    refused rotation stays (its mutation is rolled back whole)."""
    made = data(acme, 'mutation { createToken(input: {description: "r", expires: "P1D"}) { id secret } }')
    tid = made["createToken"]["id"]
    gate, out = threading.Barrier(8), []

    def rotate():
        gate.wait()
        _, o = gql(acme, 'mutation R { rotateToken(id: "%s") { id secret } }' % tid)
        out.append(o)

    ts = [threading.Thread(target=rotate) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    won = [o["data"]["rotateToken"] for o in out if o.get("data")]
    lost = [o for o in out if not o.get("data")]
    assert len(won) == 1 and len(lost) == 7, out
    assert all(codes(o) in (["CONFLICT"], ["NOT_FOUND"]) for o in lost), lost
    assert all(o["errors"][0]["message"].startswith(("no token", "token " + tid)) for o in lost), lost
    listed = [t["id"] for t in data(acme, "{ tokens(first: 100) { nodes { id } } }")["tokens"]["nodes"]]
    assert listed.count(won[0]["id"]) == 1
    # The root's own, one replacement, and the original while its grace lasts: no other.
    assert len(listed) - (tid in listed) == 2, listed


def test_queries_and_mutations_from_many_clients_at_once(acme):
    """Workers run documents from their own caches and routes in-process
    while others change the same org: every answer is whole and right."""
    errors = []

    def reader(n):
        for i in range(30):
            q = "{ r%d: organization(name: \"acme\") { name teams(first: 100) { nodes { name } } } }" % (i % 5)
            _, o = gql(acme, q)
            if "errors" in o or o["data"]["r%d" % (i % 5)]["name"] != "acme":
                errors.append(o)

    def writer(n):
        for i in range(10):
            _, o = gql(acme, 'mutation { createTeam(input: {org: "acme", name: "w%d-%d"}) { name } }' % (n, i))
            if o != {"data": {"createTeam": {"name": "w%d-%d" % (n, i)}}}:
                errors.append(o)

    ts = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
    ts += [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert errors == []
    names = [n["name"] for n in data(acme, '{ organization(name: "acme") { teams(first: 100) { nodes { name } } } }')
             ["organization"]["teams"]["nodes"]]
    assert sorted(n for n in names if n.startswith("w") and "-" in n) == sorted("w%d-%d" % (n, i) for n in range(2)
                                                                  for i in range(10))
