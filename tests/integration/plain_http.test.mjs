// Plain HTTP serves only /healthz, /readyz, /metrics and /openapi.yaml: passwords and bearer
// tokens sent there are refused with a problem (403 https_required) and never read. The API
// itself is served over HTTPS; http.allow_api = 1 serves it on plain HTTP too (behind a
// TLS-terminating proxy), with a warning at start-up.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, randomHex, waitFor } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';

function assertRefused(r, what) {
  assert.equal(r.status, 403, `${what}: ${r.status} ${r.text}`);
  assert.match(r.headers['content-type'], /^application\/problem\+json/, what);
  assert.equal(r.json.code, 'https_required', what);
  assert.equal(r.json.status, 403, what);
  assert.ok(r.json.request_id, `${what}: request_id`);
}

describe('plain HTTP by default', () => {
  let server;
  let id;
  before(async () => {
    server = await startServer({ prefix: 'plain', overrides: { 'jobs.enabled': 0, 'auth.max_failed_logins': 3 } });
    id = await setupIdentity(server, { partners: [], citizens: 1 });
  });
  after(async () => { if (server) assert.equal((await server.stop()).code, 0); });

  test('the probes and the API description are served', async () => {
    for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.yaml']) {
      const r = await request(`${server.httpUrl}${p}`);
      assert.equal(r.status, 200, p);
    }
    const head = await request(`${server.httpUrl}/healthz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('a password login is refused and its body is never read', async () => {
    const op = id.operators.window;
    // More wrong passwords than lock an account: none of them reaches the login handler.
    for (let i = 0; i < 5; i++) {
      const bad = await request(`${server.httpUrl}/v1/auth/login`, {
        method: 'POST', json: { username: op.username, password: `wrong-${i}` },
      });
      assertRefused(bad, `wrong password ${i}`);
    }
    const right = await request(`${server.httpUrl}/v1/auth/login`, {
      method: 'POST', json: { username: op.username, password: op.password },
    });
    assertRefused(right, 'right password');
    assert.doesNotMatch(right.text, /access_token/);
    const [[failed, locked]] = server.sql(
      `SELECT failed_logins, locked_until IS NOT NULL FROM operators WHERE id = ${op.id}`);
    assert.equal(failed, '0');
    assert.equal(locked, '0');
    const https = await request(`${server.httpsUrl}/v1/auth/login`, {
      method: 'POST', json: { username: op.username, password: op.password },
    });
    assert.equal(https.status, 200, https.text);
    assert.ok(https.json.access_token);
  });

  test('a valid bearer token is refused on every API route, known or not', async () => {
    const citizen = id.citizenHeaders(id.citizens[0]);
    const ok = await request(`${server.httpsUrl}/v1/me`, { headers: citizen });
    assert.equal(ok.status, 200, ok.text);
    assertRefused(await request(`${server.httpUrl}/v1/me`, { headers: id.citizenHeaders(id.citizens[0]) }), '/v1/me');
    assertRefused(await request(`${server.httpUrl}/v1/me/violations`, { headers: await id.operatorHeaders('window') }),
      '/v1/me/violations');
    assertRefused(await request(`${server.httpUrl}/v1/catalog/items`), 'public catalog');
    assertRefused(await request(`${server.httpUrl}/v1/no/such/route`), 'unknown route');
    assertRefused(await request(`${server.httpUrl}/`), 'root');
    assertRefused(await request(`${server.httpUrl}/healthz/`), 'a near miss of an allowed path');
  });

  test('credentials sent to an allowed path are ignored, not checked', async () => {
    // Over HTTPS a bad token on /readyz is a 401: credentials are checked wherever they are sent.
    const tls = await request(`${server.httpsUrl}/readyz`, { headers: { Authorization: 'Bearer not.a.token' } });
    assert.equal(tls.status, 401);
    const plain = await request(`${server.httpUrl}/readyz`, {
      headers: { Authorization: 'Bearer not.a.token', 'X-Onetrip-Key': 'k', 'X-Request-Id': 'plain-readyz' },
    });
    assert.equal(plain.status, 200, plain.text);
    const line = await waitFor(() => server.log().split('\n').find((l) => l.includes('"plain-readyz"')),
      { what: 'access log line' });
    assert.equal(JSON.parse(line).principal, 'anonymous');
  });

  test('the refusals are logged without the token', async () => {
    const token = id.citizenHeaders(id.citizens[0]).Authorization;
    const rid = `plain-${randomHex(4)}`;
    const r = await request(`${server.httpUrl}/v1/me`, { headers: { Authorization: token, 'X-Request-Id': rid } });
    assertRefused(r, '/v1/me');
    const line = await waitFor(() => server.log().split('\n').find((l) => l.includes(`"${rid}"`)),
      { what: 'access log line' });
    const rec = JSON.parse(line);
    assert.equal(rec.status, 403);
    assert.equal(rec.principal, 'anonymous');
    assert.ok(!server.log().includes(token.slice('Bearer '.length)), 'token in the log');
  });
});

describe('http.allow_api = 1', () => {
  let server;
  let id;
  before(async () => {
    server = await startServer({ prefix: 'plainapi', overrides: { 'jobs.enabled': 0, 'http.allow_api': 1 } });
    id = await setupIdentity(server, { partners: [], citizens: 1 });
  });
  after(async () => { if (server) assert.equal((await server.stop()).code, 0); });

  test('warns at start-up', async () => {
    await waitFor(() => /level=warn .*http\.allow_api=1/.test(server.log()), { what: 'the start-up warning' });
  });

  test('serves the whole API on plain HTTP, credentials included', async () => {
    const me = await request(`${server.httpUrl}/v1/me`, { headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(me.status, 200, me.text);
    const op = id.operators.window;
    const login = await request(`${server.httpUrl}/v1/auth/login`, {
      method: 'POST', json: { username: op.username, password: op.password },
    });
    assert.equal(login.status, 200, login.text);
    const none = await request(`${server.httpUrl}/v1/no/such/route`);
    assert.equal(none.status, 404);
    const bad = await request(`${server.httpUrl}/readyz`, { headers: { Authorization: 'Bearer not.a.token' } });
    assert.equal(bad.status, 401);
  });
});
