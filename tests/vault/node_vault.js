// Drives latchkey's Vault-compatible door with node-vault 0.12.0 (pinned in
// package-lock.json), unchanged. Reads VAULT_ADDR, ADMIN_TOKEN (an org
// admin's token), MEMBER_TOKEN (an org member's) and ALICE_PASSWORD from the
// environment; prints one JSON object {step: "ok" | "<what went wrong>"} and
// exits 0. tests/blackbox/test_vault_clients.py runs it and checks each step.
'use strict';

const nodeVault = require('node-vault');

const results = {};

async function step(name, fn) {
  try {
    await fn();
    results[name] = 'ok';
  } catch (e) {
    results[name] = String((e && e.message) || e);
  }
}

function expect(cond, what) {
  if (!cond) throw new Error(what);
}

async function refused(promise, status) {
  try {
    await promise;
  } catch (e) {
    expect(e.response && e.response.statusCode === status, 'want ' + status + ', got ' + (e.response && e.response.statusCode) + ' ' + e.message);
    return;
  }
  throw new Error('want ' + status + ', the call succeeded');
}

async function main() {
  const endpoint = process.env.VAULT_ADDR;
  const admin = nodeVault({ endpoint, token: process.env.ADMIN_TOKEN });
  const member = nodeVault({ endpoint, token: process.env.MEMBER_TOKEN });
  const anon = nodeVault({ endpoint });

  await step('health', async () => {
    const h = await anon.health();
    expect(h.initialized === true && h.sealed === false, JSON.stringify(h));
  });
  await step('initialized', async () => {
    const r = await anon.initialized();
    expect(r.initialized === true, JSON.stringify(r));
  });
  await step('status', async () => {
    const r = await anon.status();
    expect(r.sealed === false && r.type === 'shamir', JSON.stringify(r));
  });
  await step('unseal while unsealed', async () => {
    const r = await anon.unseal({ key: '00' + 'ab'.repeat(32) });
    expect(r.sealed === false, JSON.stringify(r));
  });
  await step('kv write', async () => {
    const r = await admin.write('secret/node/db', { password: 'canary-node-1', ttl: '30m' });
    expect(r === '' || r === undefined, JSON.stringify(r));
  });
  await step('kv read', async () => {
    const r = await admin.read('secret/node/db');
    expect(r.data.password === 'canary-node-1' && r.lease_duration === 1800, JSON.stringify(r));
  });
  await step('kv list', async () => {
    await admin.write('secret/node/api', { key: 'k' });
    const r = await admin.list('secret/node/');
    expect(JSON.stringify(r.data.keys) === JSON.stringify(['api', 'db']), JSON.stringify(r));
  });
  await step('kv read missing', () => refused(admin.read('secret/node/none'), 404));
  await step('kv delete', async () => {
    await admin.delete('secret/node/api');
    await refused(admin.read('secret/node/api'), 404);
  });
  await step('permission denied', () => refused(member.read('secret/node/db'), 403));
  await step('bad token', () => refused(nodeVault({ endpoint, token: 'lk_user_nope' }).read('secret/node/db'), 403));
  await step('help', async () => {
    const r = await admin.help('secret');
    expect(typeof r.help === 'string' && r.help.length > 0, JSON.stringify(r));
  });
  const policy = 'path "secret/node/*" {\n  capabilities = ["read"]\n}\n';
  await step('policy write', async () => {
    await admin.addPolicy({ name: 'node-read', rules: policy });
  });
  await step('policy read', async () => {
    const r = await admin.getPolicy({ name: 'node-read' });
    expect(r.rules === policy && r.data.rules === policy, JSON.stringify(r));
  });
  await step('policy list', async () => {
    const r = await admin.policies();
    expect(JSON.stringify(r.policies) === JSON.stringify(['default', 'node-read', 'root']), JSON.stringify(r));
  });
  await step('policy write refused', () => refused(member.addPolicy({ name: 'mine', rules: policy }), 403));
  await step('policy delete', async () => {
    await admin.removePolicy({ name: 'node-read' });
    await refused(admin.getPolicy({ name: 'node-read' }), 404);
  });
  await step('token create, lookup, renew, revoke', async () => {
    await admin.addPolicy({ name: 'node-read', rules: policy });
    const parent = nodeVault({ endpoint, token: process.env.ADMIN_TOKEN });
    const r = await parent.tokenCreate({ policies: ['node-read'], ttl: '1h', meta: { app: 'node' } });
    const tok = r.auth.client_token;
    expect(parent.token === tok, 'node-vault switches to the child it made');
    expect(r.auth.lease_duration === 3600 && r.auth.policies.includes('node-read'), JSON.stringify(r.auth.policies));
    const me = await parent.tokenLookupSelf();
    expect(me.data.accessor === r.auth.accessor && me.data.meta.app === 'node', JSON.stringify(me.data.meta));
    const got = await parent.read('secret/node/db');
    expect(got.data.password === 'canary-node-1', 'the child reads what its policy grants');
    await refused(parent.write('secret/node/db', { password: 'mine' }), 403);
    const renewed = await parent.tokenRenewSelf({ increment: '20m' });
    expect(renewed.auth.lease_duration === 1200, JSON.stringify(renewed.auth));
    await admin.tokenRevoke({ token: tok });
    await refused(parent.read('secret/node/db'), 403);
    await admin.removePolicy({ name: 'node-read' });
  });
  await step('userpass login', async () => {
    const c = nodeVault({ endpoint });
    const r = await c.userpassLogin({ username: 'alice', password: process.env.ALICE_PASSWORD });
    expect(r.auth && c.token === r.auth.client_token, JSON.stringify(r.auth && Object.keys(r.auth)));
    const got = await c.read('secret/node/db');
    expect(got.data.password === 'canary-node-1', 'read after login');
  });
  await step('userpass login refused', () => refused(nodeVault({ endpoint }).userpassLogin({ username: 'alice', password: 'wrong' }), 400));

  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify(Object.assign(results, { main: String(e) })) + '\n');
});
