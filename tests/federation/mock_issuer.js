// mock_issuer.js - a foreign token issuer for the federation tests
// (tests/blackbox/test_federation.py), with npm `jose` (pinned in
// package.json). Listens on 127.0.0.1 (port 0: any) and prints one JSON
// line {"issuer", "port"} when ready. The issuer is http://127.0.0.1:PORT,
// which latchkey accepts only under --dev.
//
//   GET  /jwks   the published key set: ES256 "es-1" and RS256 "rs-1";
//                every request is counted
//   GET  /count  {"jwks": number of /jwks requests so far}
//   POST /sign   {"claims": {...}, "key": "es"|"rs"|"other"|"none",
//                 "kid": override}  ->  the compact JWT, as text.
//                "other" is an unpublished ES256 key that claims kid
//                "es-1" (a forged signature); "none" is alg none with a
//                non-empty signature.
'use strict';
const http = require('node:http');
const jose = require('jose');

async function main() {
  const es = await jose.generateKeyPair('ES256', { extractable: true });
  const rs = await jose.generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
  const other = await jose.generateKeyPair('ES256', { extractable: true });
  const pub = async (k, kid, alg) => ({ ...(await jose.exportJWK(k.publicKey)), kid, alg, use: 'sig' });
  const jwks = { keys: [await pub(es, 'es-1', 'ES256'), await pub(rs, 'rs-1', 'RS256')] };
  let jwksCount = 0;
  let issuer = '';

  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  async function sign(req) {
    const claims = { iss: issuer, iat: Math.floor(Date.now() / 1000), ...req.claims };
    for (const k of Object.keys(claims)) if (claims[k] === null) delete claims[k];
    const which = req.key || 'es';
    if (which === 'none') {
      return `${b64({ alg: 'none', kid: req.kid || 'es-1', typ: 'JWT' })}.${b64(claims)}.AAAA`;
    }
    const [key, alg, kid] = which === 'rs' ? [rs, 'RS256', 'rs-1'] : which === 'other' ? [other, 'ES256', 'es-1'] : [es, 'ES256', 'es-1'];
    return new jose.SignJWT(claims).setProtectedHeader({ alg, kid: req.kid || kid, typ: 'JWT' }).sign(key.privateKey);
  }

  const server = http.createServer((req, res) => {
    const send = (status, type, body) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/jwks') {
      jwksCount++;
      return send(200, 'application/json', JSON.stringify(jwks));
    }
    // The same key set after a delay: a slow issuer, for the tests that
    // the server's loops keep answering while it fetches.
    const slow = /^\/slow-jwks\?ms=(\d+)$/.exec(req.url || '');
    if (req.method === 'GET' && slow) {
      jwksCount++;
      setTimeout(() => send(200, 'application/json', JSON.stringify(jwks)), Number(slow[1]));
      return undefined;
    }
    if (req.method === 'GET' && req.url === '/count') return send(200, 'application/json', JSON.stringify({ jwks: jwksCount }));
    if (req.method === 'POST' && req.url === '/sign') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        sign(JSON.parse(body || '{}')).then((t) => send(200, 'text/plain', t), (e) => send(500, 'text/plain', String(e)));
      });
      return undefined;
    }
    return send(404, 'text/plain', 'not found');
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    issuer = `http://127.0.0.1:${port}`;
    process.stdout.write(JSON.stringify({ issuer, port }) + '\n');
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
