// Supervision (issue 14): an alert appears within a bounded wait after the triggering call
// (outbox -> consumer), a close scenario raises none, repeated triggers fold, the workflow
// refuses wrong roles and invalid steps, and rule changes are audited and versioned.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, sql, randomHex } from './lib/harness.mjs';
import { setupIdentity, randomPlate } from './lib/identity.mjs';
import { ensureHandlingItem, violationBody } from './lib/fixtures.mjs';

let server;
let id;
let db;

const idem = () => ({ 'Idempotency-Key': `k-${randomHex(12)}` });

before(async () => {
  server = await startServer({ prefix: 'supervision' });
  db = server.db.name;
  id = await setupIdentity(server);
  ensureHandlingItem(db);
});

after(async () => {
  if (server) await server.stop();
});

async function recordOk(o = {}) {
  const r = await request(`${server.httpsUrl}/v1/violations`, {
    method: 'POST', json: violationBody(o), headers: idem(), ...id.partnerTls('agency'),
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function handle(citizen, vid, json = {}) {
  return request(`${server.httpsUrl}/v1/violations/${vid}/handle`, {
    method: 'POST', json, headers: { ...id.citizenHeaders(citizen), ...idem() },
  });
}

async function driver() {
  const c = await id.addCitizen();
  const licenceId = await id.addLicence(c, {});
  const plate = randomPlate();
  const vehicleId = await id.addVehicle(c, { plate });
  return { c, licenceId, plate, vehicleId };
}

async function get(path, role = 'supervisor') {
  return request(`${server.httpsUrl}${path}`, { headers: await id.operatorHeaders(role) });
}

async function send(method, path, json, role = 'supervisor') {
  return request(`${server.httpsUrl}${path}`, { method, json, headers: await id.operatorHeaders(role) });
}

/** Polls the alert list until pred holds on some alert (events are handled after commit). */
async function waitAlert(query, pred = () => true, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await get(`/v1/supervision/alerts?${query}`);
    assert.equal(r.status, 200, r.text);
    const a = r.json.items.find(pred);
    if (a) return a;
    if (Date.now() > end) return null;
    await new Promise((res) => setTimeout(res, 100));
  }
}

test('points trading: a stranger trying the decision number raises an alert, folded on repeat', async () => {
  const owner = await driver();
  const other = await driver();
  const v = await recordOk({ plate: owner.plate, points: 3 });
  const t0 = Date.now();
  let r = await handle(other.c, v.id, { decision_no: v.decision_no });
  assert.equal(r.status, 403, r.text);
  const q = `subject_kind=licence&subject_id=${other.licenceId}`;
  const a = await waitAlert(q, (x) => x.rule_code === 'points_unrelated');
  assert.ok(a, 'alert raised');
  assert.ok(Date.now() - t0 < 10000);
  assert.equal(a.state, 'open');
  assert.equal(a.hits, 1);
  assert.equal(a.severity, 'high');
  // the same rule for the same licence folds into the open alert
  r = await handle(other.c, v.id, { decision_no: v.decision_no });
  assert.equal(r.status, 403);
  const b = await waitAlert(q, (x) => x.id === a.id && x.hits === 2);
  assert.ok(b, 'folded');
  const d = await get(`/v1/supervision/alerts/${a.id}`);
  assert.equal(d.status, 200, d.text);
  assert.equal(d.json.evidence.length, 2);
  assert.equal(d.json.evidence[0].event_type, 'violations.handle_refused');
  assert.equal(d.json.evidence[0].detail.violation_id, v.id);
});

test('the owner handling their own violation raises no points-trading alert', async () => {
  const owner = await driver();
  const v = await recordOk({ plate: owner.plate, points: 2 });
  const r = await handle(owner.c, v.id);
  assert.equal(r.status, 200, r.text);
  // a later trigger proves the consumer has passed the owner's event
  const other = await driver();
  const v2 = await recordOk({ plate: owner.plate, points: 1 });
  assert.equal((await handle(other.c, v2.id, { decision_no: v2.decision_no })).status, 403);
  assert.ok(await waitAlert(`subject_kind=licence&subject_id=${other.licenceId}`));
  const none = await get(`/v1/supervision/alerts?subject_kind=licence&subject_id=${owner.licenceId}`);
  assert.deepEqual(none.json.items, []);
});

test('workflow: wrong role 403, invalid step 409, outcome required, then closed with steps', async () => {
  const owner = await driver();
  const other = await driver();
  const v = await recordOk({ plate: owner.plate, points: 3 });
  assert.equal((await handle(other.c, v.id, { decision_no: v.decision_no })).status, 403);
  const a = await waitAlert(`subject_kind=licence&subject_id=${other.licenceId}`);
  assert.ok(a);
  const p = `/v1/supervision/alerts/${a.id}/steps`;
  let r = await send('POST', p, { to: 'acknowledged', note: 'seen' }, 'auditor');
  assert.equal(r.status, 403);
  r = await send('POST', p, { to: 'acknowledged', note: 'seen' }, 'window');
  assert.equal(r.status, 403);
  r = await send('POST', p, { to: 'investigating', note: 'skip' });
  assert.equal(r.status, 409);
  assert.equal(r.json.code, 'bad_transition');
  assert.equal(r.json.state, 'open');
  r = await send('POST', p, { to: 'acknowledged', note: 'seen', outcome: 'confirmed' });
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'bad_outcome');
  r = await send('POST', p, { to: 'acknowledged', note: 'seen' });
  assert.equal(r.status, 200, r.text);
  r = await send('POST', p, { to: 'investigating', note: 'calling the owner' });
  assert.equal(r.json.state, 'investigating');
  r = await send('POST', p, { to: 'closed', note: 'no outcome' });
  assert.equal(r.json.code, 'bad_outcome');
  r = await send('POST', p, { to: 'closed', outcome: 'confirmed', note: 'bought points' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.state, 'closed');
  assert.equal(r.json.outcome, 'confirmed');
  const d = await get(`/v1/supervision/alerts/${a.id}`);
  assert.deepEqual(d.json.steps.map((s) => s.to), ['acknowledged', 'investigating', 'closed']);
  // audited
  const [[n]] = sql(db, `SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.alert_step' AND target_id = '${a.id}'`);
  assert.equal(Number(n), 3);
  // a later trigger opens a new alert rather than reopening the closed one
  assert.equal((await handle(other.c, v.id, { decision_no: v.decision_no })).status, 403);
  const b = await waitAlert(`subject_kind=licence&subject_id=${other.licenceId}&state=open`);
  assert.ok(b && b.id !== a.id);
  // the CSV lists both
  const csv = await get(`/v1/supervision/alerts.csv?subject_kind=licence&subject_id=${other.licenceId}`);
  assert.equal(csv.status, 200);
  assert.match(csv.text, /^id,rule_code,severity/);
  assert.equal(csv.text.trim().split('\r\n').length, 3);
  // unknown alert, bad filter
  assert.equal((await get('/v1/supervision/alerts/99999999')).status, 404);
  assert.equal((await get('/v1/supervision/alerts?state=nope')).json.code, 'bad_state');
});

test('rule change: audited, versioned, and only by a supervisor', async () => {
  let r = await get('/v1/supervision/rules');
  assert.equal(r.status, 200);
  const rule = r.json.items.find((x) => x.code === 'plate_hoarding');
  r = await send('PATCH', `/v1/supervision/rules/${rule.id}`, { threshold: 4, note: 'x' }, 'auditor');
  assert.equal(r.status, 403);
  r = await send('PATCH', `/v1/supervision/rules/${rule.id}`, { threshold: 0, note: 'x' });
  assert.equal(r.json.code, 'bad_threshold');
  r = await send('PATCH', `/v1/supervision/rules/${rule.id}`, { threshold: 4, severity: 'high', note: 'tighter' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, rule.version + 1);
  assert.equal(r.json.threshold, 4);
  r = await get(`/v1/supervision/rules/${rule.id}/versions`);
  assert.deepEqual(r.json.items.map((x) => x.version), [rule.version + 1, rule.version]);
  assert.equal(r.json.items[0].note, 'tighter');
  const [[n]] = sql(db, `SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.rule_update' AND target_id = '${rule.id}'`);
  assert.equal(Number(n), 1);
  assert.equal((await send('PATCH', '/v1/supervision/rules/999', { note: 'x' })).status, 404);
});
