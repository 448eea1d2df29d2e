// Verifies a latchkey identity token the way a third-party service would,
// with npm `jose` and `openid-client` (both pinned in package-lock.json),
// unchanged: discover the issuer, fetch its JWKS from the discovery
// document, verify the token offline. Reads ISSUER, TOKEN and AUDIENCE
// from the environment; prints one JSON object {step: "ok" | what went
// wrong, "claims": {...}} and exits 0. tests/blackbox/test_identity_tokens.py
// runs it and checks each step.
import * as jose from 'jose';
import { discovery, allowInsecureRequests } from 'openid-client';

const results = {};
const { ISSUER, TOKEN, AUDIENCE } = process.env;

async function step(name, fn) {
  try {
    await fn();
    results[name] = 'ok';
  } catch (e) {
    results[name] = String((e && e.message) || e);
  }
}

async function refused(name, fn) {
  try {
    await fn();
    results[name] = 'accepted';
  } catch (e) {
    results[name] = 'ok';
  }
}

let jwksUri;
await step('openid-client discovery', async () => {
  // The test server speaks plain http on loopback; a real deployment is https.
  const config = await discovery(new URL(ISSUER), 'any-client', undefined, undefined, { execute: [allowInsecureRequests] });
  const meta = config.serverMetadata();
  if (meta.issuer !== ISSUER) throw new Error('issuer ' + meta.issuer + ' is not ' + ISSUER);
  if (!meta.jwks_uri) throw new Error('no jwks_uri');
  jwksUri = meta.jwks_uri;
});

const keys = jose.createRemoteJWKSet(new URL(jwksUri || ISSUER + '/v1/oidc/jwks'));
await step('jose verifies from the JWKS', async () => {
  const { payload, protectedHeader } = await jose.jwtVerify(TOKEN, keys, {
    issuer: ISSUER,
    audience: AUDIENCE,
    algorithms: ['ES256'],
  });
  if (protectedHeader.alg !== 'ES256' || !protectedHeader.kid) throw new Error(JSON.stringify(protectedHeader));
  results.claims = payload;
});
const [h, p, s] = TOKEN.split('.');
let claims = {};
try {
  claims = JSON.parse(Buffer.from(p || '', 'base64url').toString());
} catch (e) {
  results.parse = 'the token\'s payload is not JSON';
}
const forged = h + '.' + Buffer.from(JSON.stringify({ ...claims, sa: 'someone-else' })).toString('base64url') + '.' + s;
await refused('a tampered payload is refused', () => jose.jwtVerify(forged, keys, { issuer: ISSUER, audience: AUDIENCE }));
await refused('another audience is refused', () => jose.jwtVerify(TOKEN, keys, { issuer: ISSUER, audience: 'https://elsewhere.example' }));
await refused('another issuer is refused', () => jose.jwtVerify(TOKEN, keys, { issuer: 'https://evil.example', audience: AUDIENCE }));

process.stdout.write(JSON.stringify(results) + '\n');
