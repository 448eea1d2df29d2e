// Drives GraphiQL at /graphiql/ in Debian's Chromium through npm's
// playwright-core (both pinned: scripts/deps.sh, package-lock.json), as a
// person would: open the page, give it a credential, type a query, run it
// and read the answer in the result pane.
//
// Run by tests/blackbox/test_graphiql.py with LATCHKEY_URL (the server),
// EXPECT_NAME (the principal's name the answer must show) and one of:
//   LATCHKEY_TOKEN  pasted into GraphiQL's Headers editor as
//                   {"Authorization": "Bearer <token>"};
//   LATCHKEY_LOGIN  a JSON body for POST /v1/auth/login, sent before the
//                   page opens from the browser's own context, so the
//                   session cookie it sets is the page's credential.
// LATCHKEY_URL may end in a path, a proxy's prefix in front of latchkey.
// CHROMIUM may name another browser binary, SCREENSHOT a PNG to write at
// the end, QUERY another query (default "{ me { name } }"), START_PATH the
// path opened first (default "/graphiql/"; "/" through `latchkey api proxy`). Besides the
// query it opens the documentation explorer (the schema, from introspection
// with the same credential) and the Settings dialog. Prints one JSON
// object: what it saw; every problem it met in "problems" (a page error, an
// error on the console, a request to another origin); what the page's
// Content-Security-Policy refused while it worked ("csp_refused"), while
// the dialog was open ("csp_refused_dialog", with the console's errors in
// "console_dialog": GraphiQL's scroll lock, an inline <style>, is refused)
// and when an inline script was added at the end ("csp_refused_probe");
// whether the token ended up in localStorage ("token_stored"). Exits 0
// when every step ran, 1 otherwise.
import { chromium } from "playwright-core";

const base = process.env.LATCHKEY_URL;
const token = process.env.LATCHKEY_TOKEN || "";
const login = process.env.LATCHKEY_LOGIN || "";
const expectName = process.env.EXPECT_NAME;
const query = process.env.QUERY || "{ me { name } }";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP_MS = 20000;

const origin = new URL(base).origin;
// A path in LATCHKEY_URL is a proxy's prefix in front of latchkey: the page
// must find /graphql under it too, and ask for nothing outside it. Paths in
// "requests" are without it.
const prefix = new URL(base).pathname.replace(/\/$/, "");
const path = (u) => (u.pathname.startsWith(prefix + "/") ? u.pathname.slice(prefix.length) : u.pathname);
const out = { mode: login ? "cookie" : "token", problems: [], requests: [] };
const args = ["--disable-dev-shm-usage", "--disable-gpu"];
// Chromium's sandbox cannot start as root (containers, CI).
if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--no-sandbox");

// The text of the CodeMirror editor inside locator (GraphiQL 4's editors
// are CodeMirror 5, which hangs its instance on its wrapper element).
async function editorText(locator) {
  return locator.locator(".CodeMirror:visible").first().evaluate((el) => el.CodeMirror.getValue());
}

// Replaces the text of the CodeMirror editor inside locator as a paste
// would: focus, select all, insert. Typed key by key, the editor's
// auto-closing brackets would add a "}" to each "{".
async function pasteInto(page, locator, text) {
  await locator.locator(".CodeMirror:visible").first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.insertText(text);
}

const browser = await chromium.launch({ executablePath, args, headless: true, timeout: STEP_MS });
let ok = false;
let page = null;
// Where the console's errors go: problems, or, while a step that expects
// them runs, that step's own list ("dialog"), or nowhere (our own "probe").
let consoleTo = "problems";
// In token mode GraphiQL introspects as soon as it opens, before a token is
// in its Headers: those requests are refused (401), and the browser says so
// on the console. Expected until the token is pasted; a problem after.
let tokenGiven = !!login;
try {
  const context = await browser.newContext();
  if (login) {
    // The browser context's own request client: the cookie it receives is
    // stored where the page's requests will find it.
    const r = await context.request.post(base + "/v1/auth/login", { data: JSON.parse(login) });
    out.login_status = r.status();
    const cookies = await context.cookies(base);
    out.session_cookie = cookies.some((c) => c.name === "token" && c.httpOnly);
  }
  page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => out.problems.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() !== "error" || consoleTo === "probe") return;
    if (consoleTo === "dialog") out.console_dialog.push(m.text().split(".")[0]);
    else if (!tokenGiven && m.text().includes("status of 401")) out.refused_before_token = true;
    else out.problems.push("console: " + m.text());
  });
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.origin !== origin) out.problems.push("request to another origin: " + r.url());
    if (u.protocol === "data:") return;
    out.requests.push(r.method() + " " + path(u));
    if (prefix && !u.pathname.startsWith(prefix + "/")) out.problems.push("request outside the prefix: " + u.pathname);
  });
  // Refusals by the page's policy, as the page itself hears of them.
  await page.addInitScript(() => {
    window.__cspRefused = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspRefused.push(e.violatedDirective + " " + e.blockedURI);
    });
  });

  const resp = await page.goto(base + (process.env.START_PATH || "/graphiql/"));
  out.page_status = resp.status();
  out.csp = resp.headers()["content-security-policy"] || null;
  out.title = await page.title();
  const queryEditor = page.locator(".graphiql-query-editor");
  await queryEditor.locator(".CodeMirror").waitFor();
  out.logo = (await page.locator(".graphiql-logo").innerText()).trim();
  out.help_shown = (await page.locator(".graphiql-footer .lk-help").innerText()).trim();

  // The schema's introspection, which GraphiQL runs on opening, goes out
  // with the page's cookies but no header yet: with a token only, it is
  // refused, so once the token is in Headers the schema is fetched again.
  if (token) {
    await page.locator('button[data-name="headers"]').click();
    const headers = page.locator('.graphiql-editor-tool[aria-label="Headers"]');
    await pasteInto(page, headers, JSON.stringify({ Authorization: "Bearer " + token }));
    tokenGiven = true;
    out.headers_editor = (await editorText(headers)) === JSON.stringify({ Authorization: "Bearer " + token });
    const again = page.waitForRequest(
      (r) => new URL(r.url()).pathname === prefix + "/graphql" && (r.postData() || "").includes("IntrospectionQuery")
    );
    await page.locator('[aria-label="Re-fetch GraphQL schema"]').click();
    const res = await (await again).response();
    out.introspection_status = res ? res.status() : null;
  }
  // The schema as GraphiQL read it: its documentation explorer lists the
  // root types.
  await page.locator('[aria-label="Show Documentation Explorer"]').click();
  const docs = page.locator(".graphiql-doc-explorer");
  await docs.getByText("Root Types").waitFor();
  out.docs_root_types = (await docs.locator(".graphiql-doc-explorer-root-type").allInnerTexts()).map((t) => t.trim());

  await pasteInto(page, queryEditor, query);
  out.query_editor = await editorText(queryEditor);

  const sent = page.waitForRequest((r) => {
    if (new URL(r.url()).pathname !== prefix + "/graphql" || r.method() !== "POST") return false;
    try {
      return JSON.parse(r.postData() || "{}").query === query;
    } catch (e) {
      return false;
    }
  });
  await page.locator(".graphiql-execute-button").click();
  const req = await sent;
  const h = await req.allHeaders();
  const auth = h["authorization"] || "";
  out.authorization_sent = auth === "Bearer " + token && token ? "Bearer <the token>" : auth ? "something else" : "none";
  out.cookie_sent = /(^|;\s*)token=/.test(h["cookie"] || "");
  out.origin_sent = h["origin"] || null;
  out.content_type_sent = h["content-type"] || null;
  out.body_sent = JSON.parse(req.postData());
  const res = await req.response();
  out.status = res ? res.status() : null;
  out.response_type = res ? res.headers()["content-type"] || null : null;

  // The result pane: wait for the answer, then read it as GraphiQL shows it.
  const result = page.locator(".result-window");
  await page.waitForFunction(
    () => {
      const el = document.querySelector(".result-window .CodeMirror");
      const text = el && el.CodeMirror ? el.CodeMirror.getValue() : "";
      return text.includes('"data"') || text.includes('"errors"');
    },
    null,
    { timeout: STEP_MS }
  );
  const shown = await editorText(result);
  try {
    out.result_shown = JSON.parse(shown);
  } catch (e) {
    out.problems.push("the result pane does not hold JSON: " + shown.slice(0, 300));
  }

  // A dialog (Settings) opens and closes. Its scroll lock is the one
  // <style> element GraphiQL adds, which the policy refuses (style-src
  // 'self'; src/api/routes_docs.c): recorded apart, with the console's word
  // on it, and nothing else may be refused.
  const before = await page.evaluate(() => window.__cspRefused.length);
  out.console_dialog = [];
  consoleTo = "dialog";
  await page.locator('[aria-label="Open settings dialog"]').click();
  await page.locator(".graphiql-dialog").getByText("Theme").waitFor();
  out.dialog_opened = true;
  await page.keyboard.press("Escape");
  await page.locator(".graphiql-dialog").waitFor({ state: "detached" });
  // Refusals are reported as events after the fact: let them arrive.
  await page.waitForFunction((n) => window.__cspRefused.length > n, before, { timeout: 5000 }).catch(() => {});
  await page.waitForTimeout(500);
  consoleTo = "problems";
  out.csp_refused_dialog = await page.evaluate((n) => window.__cspRefused.slice(n), before);

  // Nothing the page did was refused; then one inline script of our own
  // is, which shows both that the policy holds and that a refusal would
  // have been seen.
  out.csp_refused = await page.evaluate((n) => window.__cspRefused.slice(0, n), before);
  const seen = await page.evaluate(() => window.__cspRefused.length);
  consoleTo = "probe";
  out.inline_script_ran = await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__inlineRan = true;";
    document.body.appendChild(s);
    return window.__inlineRan === true;
  });
  await page.waitForFunction((n) => window.__cspRefused.length > n, seen, { timeout: 5000 });
  out.csp_refused_probe = await page.evaluate((n) => window.__cspRefused.slice(n), seen);
  // What GraphiQL keeps in localStorage must not hold the token.
  out.token_stored = token ? await page.evaluate((t) => JSON.stringify(localStorage).includes(t), token) : false;
  ok = true;
} catch (e) {
  out.problems.push("step failed: " + (e && e.message ? e.message.split("\n").slice(0, process.env.DEBUG ? 30 : 1).join("\n") : String(e)));
} finally {
  if (process.env.SCREENSHOT && page !== null) await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => {});
  await browser.close();
}
out.expected_name = expectName;
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(ok ? 0 : 1);
