// The server's Idempotency-Key facility and JSON body checks, through a real idempotent
// route (an agency partner sending a violation in over mutual TLS).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startServer, request, randomHex } from './lib/harness.mjs';
import { setupIdentity, randomPlate } from './lib/identity.mjs';
import { violationBody } from './lib/fixtures.mjs';

const violation = (o = {}) => violationBody({ plate: '浙A·D1234', ...o });

describe('Idempotency-Key', () => {
  let server;
  let id;
  const send = (body, headers = {}, type = 'agency') => request(`${server.httpsUrl}/v1/violations`, {
    method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers }, ...id.partnerTls(type),
  });

  before(async () => {
    server = await startServer({ prefix: 'idem', overrides: { 'jobs.enabled': 0 } });
    id = await setupIdentity(server, { citizens: 1 });
  });
  after(async () => { if (server) await server.stop(); });

  test('missing on a route that requires it: 400 naming the header, nothing stored', async () => {
    const v = violation();
    const r = await send(v);
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'idempotency_key_required');
    assert.equal(r.json.field, 'Idempotency-Key');
    assert.equal(server.sql(`SELECT COUNT(*) FROM violations WHERE decision_no = '${v.decision_no}'`)[0][0], '0');
  });

  test('malformed keys are refused', async () => {
    for (const key of ['has space', 'x'.repeat(256), 'tab\tkey']) {
      const r = await send(violation(), { 'Idempotency-Key': key });
      assert.equal(r.status, 400, key);
      assert.equal(r.json.code, 'idempotency_key_invalid');
    }
  });

  test('the same key and body replay the stored response without a second effect', async () => {
    const v = violation();
    const key = randomHex(16);
    const first = await send(v, { 'Idempotency-Key': key });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const again = await send(v, { 'Idempotency-Key': key });
    assert.equal(again.status, first.status);
    assert.equal(again.text, first.text);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(server.sql(`SELECT COUNT(*) FROM violations WHERE decision_no = '${v.decision_no}'`)[0][0], '1');
    const stored = server.sql(`SELECT state, status FROM idempotency_keys WHERE idem_key = '${key}'`);
    assert.deepEqual(stored, [['done', '201']]);
  });

  test('concurrent duplicates: one effect, every answer is the stored one or 409 in flight', async () => {
    const v = violation();
    const key = randomHex(16);
    const rs = await Promise.all(Array.from({ length: 10 }, () => send(v, { 'Idempotency-Key': key })));
    const statuses = rs.map((r) => r.status);
    assert.ok(statuses.includes(201), statuses.join(','));
    for (const r of rs) {
      assert.ok(r.status === 201 || (r.status === 409 && r.json.code === 'idempotency_key_in_flight'), r.text);
    }
    assert.equal(server.sql(`SELECT COUNT(*) FROM violations WHERE decision_no = '${v.decision_no}'`)[0][0], '1');
  });

  test('the same key with a different request is 422', async () => {
    const key = randomHex(16);
    const a = await send(violation(), { 'Idempotency-Key': key });
    assert.equal(a.status, 201);
    const b = await send(violation(), { 'Idempotency-Key': key });
    assert.equal(b.status, 422);
    assert.equal(b.json.code, 'idempotency_key_reused');
  });

  test('a key still in flight is 409; an abandoned one is taken over after the stale limit', async () => {
    const v = violation();
    const body = JSON.stringify(v);
    const key = randomHex(16);
    const fp = crypto.createHash('sha256').update(`2\n/v1/violations\n${body}`).digest('hex');
    const scope = `3:${id.partners.agency.id}`;
    server.sqlExec("INSERT INTO idempotency_keys (principal, idem_key, fingerprint, state, created_at, updated_at) " +
      `VALUES ('${scope}', '${key}', '${fp}', 'in_flight', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`);
    const busy = await send(body, { 'Idempotency-Key': key });
    assert.equal(busy.status, 409, busy.text);
    assert.equal(busy.json.code, 'idempotency_key_in_flight');
    assert.equal(busy.headers['retry-after'], '1');
    server.sqlExec(`UPDATE idempotency_keys SET updated_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE idem_key = '${key}'`);
    const taken = await send(body, { 'Idempotency-Key': key });
    assert.equal(taken.status, 201, taken.text);
    assert.deepEqual(server.sql(`SELECT state FROM idempotency_keys WHERE idem_key = '${key}'`), [['done']]);
  });

  test('a claim of another live server is 409; of a stopped or silent one, taken over at once', async () => {
    const v = violation();
    const body = JSON.stringify(v);
    const fp = crypto.createHash('sha256').update(`2\n/v1/violations\n${body}`).digest('hex');
    const scope = `3:${id.partners.agency.id}`;
    const other = randomHex(16);
    // Another onetripd over the same database (e.g. behind HAProxy), alive: its heartbeat is fresh.
    server.sqlExec('INSERT INTO server_incarnations (id, host, boot_id, pid, proc_start, started_at, heartbeat_at) ' +
      `VALUES ('${other}', 'other-host', 'boot', 1, 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`);
    const claim = (key) => server.sqlExec('INSERT INTO idempotency_keys (principal, idem_key, fingerprint, state, owner, ' +
      `created_at, updated_at) VALUES ('${scope}', '${key}', '${fp}', 'in_flight', '${other}', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`);
    const key = randomHex(16);
    claim(key);
    const busy = await send(body, { 'Idempotency-Key': key });
    assert.equal(busy.status, 409, busy.text);
    assert.equal(busy.json.code, 'idempotency_key_in_flight');
    // Its heartbeat stops (a crash on another machine): after idempotency.orphan_s the key is free.
    server.sqlExec(`UPDATE server_incarnations SET heartbeat_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE id = '${other}'`);
    const taken = await send(body, { 'Idempotency-Key': key });
    assert.equal(taken.status, 201, taken.text);
    assert.deepEqual(server.sql(`SELECT state, claim_no FROM idempotency_keys WHERE idem_key = '${key}'`), [['done', '1']]);
    // A stopped one (or one whose row is gone): at once.
    server.sqlExec(`UPDATE server_incarnations SET heartbeat_at = UTC_TIMESTAMP(3), stopped_at = UTC_TIMESTAMP(3) WHERE id = '${other}'`);
    const key2 = randomHex(16);
    const v2 = JSON.stringify(violation());
    const fp2 = crypto.createHash('sha256').update(`2\n/v1/violations\n${v2}`).digest('hex');
    server.sqlExec('INSERT INTO idempotency_keys (principal, idem_key, fingerprint, state, owner, created_at, updated_at) ' +
      `VALUES ('${scope}', '${key2}', '${fp2}', 'in_flight', '${other}', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))`);
    const r2 = await send(v2, { 'Idempotency-Key': key2 });
    assert.equal(r2.status, 201, r2.text);
    // This server's own incarnation is registered and beating.
    assert.equal(server.sql('SELECT COUNT(*) FROM server_incarnations WHERE stopped_at IS NULL ' +
      'AND heartbeat_at > UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE')[0][0], '1');
  });

  test('keys are scoped to the caller: another citizen may use the same key and body', async () => {
    const owner = await id.addCitizen({ name: '车主甲' });
    const plate = randomPlate();
    await id.addVehicle(owner, { plate });
    const a = await id.addCitizen({ name: '代办乙' });
    const b = await id.addCitizen({ name: '代办丙' });
    const key = randomHex(16);
    const bind = (c) => request(`${server.httpsUrl}/v1/me/bindings`, {
      method: 'POST', json: { plate }, headers: { 'Idempotency-Key': key, ...id.citizenHeaders(c) },
    });
    const ra = await bind(a);
    assert.ok(ra.status === 201 || ra.status === 200, ra.text);
    const rb = await bind(b);
    assert.equal(rb.status, ra.status, rb.text);
    assert.equal(rb.headers['idempotent-replayed'], undefined);
    assert.notEqual(rb.json.id, ra.json.id);
    assert.equal(server.sql(`SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = '${key}'`)[0][0], '2');
    const again = await bind(a);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json.id, ra.json.id);
  });

  test('a failed request (4xx) is stored too, so a retry gets the same answer', async () => {
    const key = randomHex(16);
    const bad = violation({ fine_fen: -5 });
    const a = await send(bad, { 'Idempotency-Key': key });
    assert.equal(a.status, 400);
    const b = await send(bad, { 'Idempotency-Key': key });
    assert.equal(b.status, 400);
    assert.equal(b.text, a.text);
    assert.equal(b.headers['idempotent-replayed'], 'true');
  });
});

describe('JSON bodies', () => {
  let server;
  let id;
  const post = (body, type = 'application/json') => request(`${server.httpsUrl}/v1/violations`, {
    method: 'POST', body, headers: { 'content-type': type, 'Idempotency-Key': randomHex(12) }, ...id.partnerTls('agency'),
  });

  before(async () => {
    server = await startServer({ prefix: 'json', overrides: { 'jobs.enabled': 0 } });
    id = await setupIdentity(server, { citizens: 1, hmac: false });
  });
  after(async () => { if (server) await server.stop(); });

  test('a body that is not JSON where JSON is expected is 415', async () => {
    const r = await post('decision_no=1', 'application/x-www-form-urlencoded');
    assert.equal(r.status, 415);
    assert.equal(r.json.code, 'unsupported_media_type');
    const none = await request(`${server.httpsUrl}/v1/violations`, {
      method: 'POST', body: '{}', headers: { 'Idempotency-Key': randomHex(12), 'content-type': '' }, ...id.partnerTls('agency'),
    });
    assert.equal(none.status, 415);
  });

  test('malformed JSON is 400 malformed_json with the position', async () => {
    const r = await post('{"decision_no": ');
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'malformed_json');
    assert.match(r.json.detail, /line 1/);
    assert.ok(r.json.request_id);
  });

  test('duplicate members are refused', async () => {
    const r = await post('{"points": 1, "points": 2}');
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'malformed_json');
  });

  test('a JSON value that is not an object is 400', async () => {
    for (const body of ['[1,2]', '"text"', '42']) {
      const r = await post(body);
      assert.equal(r.status, 400, body);
      assert.equal(r.json.code, 'body_not_object');
    }
  });

  test('unknown, missing and wrongly typed fields are 400 naming the field', async () => {
    const unknown = await post(JSON.stringify({ ...violation(), surprise: 1 }));
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'unknown_field');
    assert.equal(unknown.json.field, 'surprise');
    const v = violation();
    delete v.plate;
    const missing = await post(JSON.stringify(v));
    assert.equal(missing.status, 400);
    assert.equal(missing.json.code, 'missing_field');
    assert.equal(missing.json.field, 'plate');
    const wrong = await post(JSON.stringify(violation({ fine_fen: '200' })));
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.code, 'wrong_type');
    assert.equal(wrong.json.field, 'fine_fen');
  });

  test('an empty body on a JSON POST is 400 body_required', async () => {
    const r = await post('');
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'body_required');
  });
});
