// Drives Swagger UI at /docs/ in Debian's Chromium through npm's
// playwright-core (both pinned: scripts/deps.sh, package-lock.json), as a
// person would: open the page, "Authorize" with a token, "Try it out" on
// GET /v1/auth/whoami, "Execute", and read the answer on the page.
//
// Run by tests/blackbox/test_docs.py with LATCHKEY_URL (the server),
// LATCHKEY_TOKEN and EXPECT_NAME (the token's principal); CHROMIUM may name
// another browser binary, SCREENSHOT a PNG to write at the end. Prints one
// JSON object: what it saw; every problem it met in "problems" (a page
// error, an error on the console, a request to another origin); what the
// page's Content-Security-Policy refused while it worked ("csp_refused") and
// when an inline script was added at the end ("csp_refused_probe"). Exits
// 0 when every step ran, 1 otherwise.
import { chromium } from "playwright-core";

const base = process.env.LATCHKEY_URL;
const token = process.env.LATCHKEY_TOKEN;
const expectName = process.env.EXPECT_NAME;
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP_MS = 15000;

const origin = new URL(base).origin;
const out = { problems: [], requests: [] };
const args = ["--disable-dev-shm-usage", "--disable-gpu"];
// Chromium's sandbox cannot start as root (containers, CI).
if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--no-sandbox");

const browser = await chromium.launch({ executablePath, args, headless: true, timeout: STEP_MS });
let ok = false;
let page = null;
let probing = false; // the console's word on our own probe is expected
try {
  const context = await browser.newContext();
  page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => out.problems.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !probing) out.problems.push("console: " + m.text());
  });
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.protocol !== "data:" && u.origin !== origin) out.problems.push("request to another origin: " + r.url());
    out.requests.push(r.method() + " " + u.pathname);
  });
  // Refusals by the page's policy, as the page itself hears of them.
  await page.addInitScript(() => {
    window.__cspRefused = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspRefused.push(e.violatedDirective + " " + e.blockedURI);
    });
  });

  const resp = await page.goto(base + "/docs/");
  out.page_status = resp.status();
  out.csp = resp.headers()["content-security-policy"] || null;
  await page.locator(".swagger-ui .info .title").filter({ hasText: "latchkey" }).waitFor();
  out.title = (await page.locator(".swagger-ui .info .title").innerText()).trim();

  // Authorize: the bearer scheme's value, then close the dialog.
  await page.locator(".swagger-ui .auth-wrapper button.authorize").click();
  const dialog = page.locator(".swagger-ui .modal-ux");
  await dialog.waitFor();
  const bearer = dialog.locator(".auth-container").filter({ has: page.locator("h4", { hasText: /^bearer\b/ }) });
  await bearer.locator("#auth-bearer-value").fill(token);
  await bearer.locator("button.authorize").click();
  // Authorized: the value is hidden and the button logs out.
  await bearer.locator("button", { hasText: "Logout" }).waitFor();
  await bearer.locator("button.btn-done").click();
  await dialog.waitFor({ state: "detached" });

  // GET /v1/auth/whoami: open, "Try it out", "Execute".
  const op = page.locator("#operations-system-whoami");
  await op.locator(".opblock-summary-control").click();
  await op.locator("button.try-out__btn").click();
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname === "/v1/auth/whoami");
  await op.locator("button.execute").click();
  const req = await sent;
  const auth = req.headers()["authorization"] || "";
  out.authorization_sent = auth === "Bearer " + token ? "Bearer <the token>" : auth ? "something else" : "none";

  const live = op.locator(".live-responses-table .response");
  await live.locator(".response-col_status").waitFor();
  out.status_shown = (await live.locator(".response-col_status").first().innerText()).trim();
  const body = (await live.locator(".response-col_description pre").first().innerText()).trim();
  try {
    const who = JSON.parse(body);
    out.principal_shown = who.principal;
  } catch (e) {
    out.problems.push("the answer shown is not JSON: " + body.slice(0, 200));
  }
  // Nothing the page did was refused; then one inline script of our own
  // is, which shows both that the policy holds and that a refusal would
  // have been seen.
  out.csp_refused = await page.evaluate(() => window.__cspRefused.slice());
  probing = true;
  out.inline_script_ran = await page.evaluate(() => {
    const s = document.createElement("script");
    s.textContent = "window.__inlineRan = true;";
    document.body.appendChild(s);
    return window.__inlineRan === true;
  });
  await page.waitForFunction((n) => window.__cspRefused.length > n, out.csp_refused.length, { timeout: 5000 });
  out.csp_refused_probe = await page.evaluate((n) => window.__cspRefused.slice(n), out.csp_refused.length);
  ok = true;
} catch (e) {
  out.problems.push("step failed: " + (e && e.message ? e.message.split("\n")[0] : String(e)));
} finally {
  if (process.env.SCREENSHOT && page !== null) await page.screenshot({ path: process.env.SCREENSHOT }).catch(() => {});
  await browser.close();
}
out.expected_name = expectName;
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(ok ? 0 : 1);
