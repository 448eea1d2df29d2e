// Runs graphql-http's server audits (the GraphQL over HTTP specification's
// checks, npm graphql-http pinned in package-lock.json) against a running
// latchkey's /graphql, one after another.
//
// Env: LATCHKEY_URL (the server), LATCHKEY_TOKEN (sent as
// "Authorization: Bearer <token>" with every request the audits make: like
// every /v1 route, /graphql answers nothing without a credential).
// Prints one JSON object:
//   {"url": ..., "total": n, "counts": {"ok": n, "warn": n, "error": n, ...},
//    "audits": [{"id", "name", "status": "ok" | "notice" | "warn" | "error",
//                "reason"?, "requests"?, "response"?}, ...]}
// where a failed audit carries the reason graphql-http gives, the requests
// it sent (the token replaced by "<token>") and the response it judged
// (status, headers, body). graphql-http marks a failed MUST "error", a
// failed SHOULD "warn", a failed MAY "notice". Exits 0 once every audit
// ran, whatever the results (tests/blackbox/test_graphql_http_audit.py
// judges them), 2 when an audit could not run at all.
import { serverAudits } from "graphql-http";

const base = process.env.LATCHKEY_URL;
const token = process.env.LATCHKEY_TOKEN;
if (!base || !token) {
  process.stderr.write("audit.mjs: set LATCHKEY_URL and LATCHKEY_TOKEN\n");
  process.exit(2);
}
const url = new URL("/graphql", base).href;
const BODY_MAX = 2000;

// The requests of the audit running now, as sent (but for the token).
let sent = [];

async function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
  headers.set("Authorization", "Bearer " + token);
  const shown = {};
  for (const [k, v] of headers.entries()) shown[k] = k === "authorization" ? "Bearer <token>" : v;
  // Node's fetch cannot send a request without Accept: it adds "*/*".
  if (!headers.has("accept")) shown.accept = "*/* (added by Node's fetch: the audit set none)";
  const target = input instanceof Request ? input.url : String(input);
  const body = typeof init.body === "string" ? init.body : init.body == null ? null : "(" + typeof init.body + ")";
  sent.push({ method: init.method || "GET", url: target.replace(base, ""), headers: shown, body });
  return fetch(input, { ...init, headers });
}

// A failed audit's response as it was: status, headers, body (as JSON
// when it is JSON). The audit may have read the body already.
async function describe(res) {
  if (!res) return null;
  const headers = {};
  for (const [k, v] of res.headers.entries()) if (k !== "date") headers[k] = v;
  let body;
  try {
    const text = await res.text();
    try {
      body = JSON.parse(text);
    } catch (e) {
      body = text.length > BODY_MAX ? text.slice(0, BODY_MAX) + "..." : text;
    }
  } catch (e) {
    body = "(read by the audit already)";
  }
  return { status: res.status, headers, body };
}

const out = { url, total: 0, counts: {}, audits: [] };
let fatal = null;
for (const audit of serverAudits({ url, fetchFn })) {
  sent = [];
  let result;
  try {
    result = await audit.fn();
  } catch (e) {
    // graphql-http throws only when an audit cannot run (the server is
    // unreachable, say): reported as an error of that audit.
    fatal = fatal || audit.id;
    result = { id: audit.id, name: audit.name, status: "error", reason: "could not run: " + (e && e.message) };
  }
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== "ok") {
    entry.reason = result.reason;
    entry.requests = sent;
    entry.response = await describe(result.response);
  }
  out.audits.push(entry);
  out.total += 1;
  out.counts[result.status] = (out.counts[result.status] || 0) + 1;
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
process.exit(fatal ? 2 : 0);
