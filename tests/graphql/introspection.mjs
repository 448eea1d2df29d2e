// Compares the schema a running latchkey serves at /graphql, as
// introspection shows it, with api/schema.graphql (graphql-js, npm graphql
// pinned in package-lock.json).
//
// Env: LATCHKEY_URL (the server), LATCHKEY_TOKEN (sent as "Authorization:
// Bearer <token>"), SCHEMA (the SDL file; default api/schema.graphql).
//
// Two introspection queries go to the server, each a POST of
// graphql-js's getIntrospectionQuery():
//   "standard": its defaults, descriptions included;
//   "full": also the October 2021 specification's schema description,
//           specifiedByURL and isRepeatable.
// For each, the answer is read back with buildClientSchema and compared
// with buildSchema(SCHEMA) seen through the same query (introspected
// locally with introspectionFromSchema, so a field that query does not ask
// for differs in neither): printSchema(lexicographicSortSchema(...)) must
// be equal, and findBreakingChanges and findDangerousChanges empty in both
// directions. Prints one JSON object:
//   {"standard": {"equal", "diff", "breaking", "dangerous", ...}, "full": {...}}
// with "diff" the differing lines (a unified-style line diff of the sorted
// SDL, "-" for the file, "+" for the server) and "errors" when the server
// answered some. Exits 0 when both comparisons ran (whatever they found;
// the pytest wrapper judges), 2 when one could not.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  buildClientSchema,
  buildSchema,
  findBreakingChanges,
  findDangerousChanges,
  getIntrospectionQuery,
  introspectionFromSchema,
  lexicographicSortSchema,
  printSchema,
} from "graphql";

const base = process.env.LATCHKEY_URL;
const token = process.env.LATCHKEY_TOKEN;
const schemaPath = process.env.SCHEMA || fileURLToPath(new URL("../../api/schema.graphql", import.meta.url));
if (!base || !token) {
  process.stderr.write("introspection.mjs: set LATCHKEY_URL and LATCHKEY_TOKEN\n");
  process.exit(2);
}

// Every option spelled out: getIntrospectionQuery leaves the later ones
// off by default, introspectionFromSchema turns them on.
const OFF = {
  descriptions: true,
  schemaDescription: false,
  specifiedByUrl: false,
  directiveIsRepeatable: false,
  inputValueDeprecation: false,
  oneOf: false,
};
const QUERIES = {
  standard: OFF,
  full: { ...OFF, schemaDescription: true, specifiedByUrl: true, directiveIsRepeatable: true },
};

// The lines of a and b that differ, in order, as "-line" (only in a) and
// "+line" (only in b), with up to two lines of context ("  line") around
// each run of changes and "@@ line N" where a run starts. A plain LCS:
// schemas are hundreds of lines.
function lineDiff(a, b) {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push([" ", x[i], i]);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push(["+", y[j], i]);
      j++;
    } else {
      ops.push(["-", x[i], i]);
      i++;
    }
  }
  const out = [];
  let last = -1;
  ops.forEach((op, k) => {
    if (op[0] === " ") return;
    const from = Math.max(k - 2, last + 1);
    if (from > last + 1 || last < 0) out.push("@@ line " + (ops[from][2] + 1));
    for (let c = from; c < k; c++) out.push("  " + ops[c][1]);
    out.push(op[0] + op[1]);
    last = k;
    // context after: added when the next change is not close
    const next = ops.findIndex((o, q) => q > k && o[0] !== " ");
    if (next < 0 || next > k + 4) {
      for (let c = k + 1; c <= Math.min(k + 2, ops.length - 1); c++) out.push("  " + ops[c][1]);
      last = Math.min(k + 2, ops.length - 1);
    }
  });
  return out;
}

// Differences that are graphql-js's, not the server's: graphql-js 16's
// built-ins go past the October 2021 edition the server follows (@oneOf,
// @deprecated on directive definitions), and its buildSchema leaves out
// standard scalars no field refers to (Float here), which the server lists.
const NOT_OURS = [
  /^DIRECTIVE_REMOVED: oneOf was removed\.$/,
  /^DIRECTIVE_LOCATION_REMOVED: DIRECTIVE_DEFINITION was removed from deprecated\.$/,
  /^TYPE_REMOVED: Standard scalar \w+ was removed because it is not referenced anymore\.$/,
];

function changes(list) {
  return list.map((c) => c.type + ": " + c.description).filter((c) => !NOT_OURS.some((re) => re.test(c)));
}

async function introspect(options) {
  const res = await fetch(new URL("/graphql", base), {
    method: "POST",
    headers: {
      Authorization: "Bearer " + token,
      "Content-Type": "application/json",
      Accept: "application/graphql-response+json, application/json",
    },
    body: JSON.stringify({ query: getIntrospectionQuery(options), operationName: "IntrospectionQuery" }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Error("HTTP " + res.status + ", not JSON: " + text.slice(0, 500));
  }
  return { status: res.status, contentType: res.headers.get("content-type"), body };
}

const local = buildSchema(readFileSync(schemaPath, "utf8"));
const out = { schema: schemaPath };
let failed = false;
for (const [name, options] of Object.entries(QUERIES)) {
  const r = { options };
  out[name] = r;
  try {
    const answer = await introspect(options);
    r.status = answer.status;
    r.content_type = answer.contentType;
    if (answer.body.errors) r.errors = answer.body.errors;
    if (!answer.body.data) throw new Error("no data in the answer: " + JSON.stringify(answer.body).slice(0, 1000));
    const served = buildClientSchema(answer.body.data);
    const expected = buildClientSchema(introspectionFromSchema(local, options));
    const a = printSchema(lexicographicSortSchema(expected));
    const b = printSchema(lexicographicSortSchema(served));
    r.equal = a === b;
    r.diff = r.equal ? [] : lineDiff(a, b);
    r.breaking = {
      file_to_server: changes(findBreakingChanges(expected, served)),
      server_to_file: changes(findBreakingChanges(served, expected)),
    };
    r.dangerous = {
      file_to_server: changes(findDangerousChanges(expected, served)),
      server_to_file: changes(findDangerousChanges(served, expected)),
    };
    r.types = Object.keys(served.getTypeMap()).length;
  } catch (e) {
    failed = true;
    r.failure = e && e.message ? e.message : String(e);
  }
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
process.exit(failed ? 2 : 0);
