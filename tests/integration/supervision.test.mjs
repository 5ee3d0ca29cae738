// Supervision (issue 14): an alert appears within a bounded wait after the triggering call
// (outbox -> consumer), a close scenario raises none, repeated triggers fold, the workflow
// refuses wrong roles and invalid steps, and rule changes are audited and versioned.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, sql, randomHex, waitFor } from './lib/harness.mjs';
import { setupIdentity, randomPlate, randomVin } from './lib/identity.mjs';
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

// ---- the other near-real-time rules: each a trigger and a close scenario that must not ----

/** Waits until the rules consumer has evaluated every event written so far. */
async function settled() {
  const [[max]] = sql(db, 'SELECT COALESCE(MAX(id), 0) FROM app_events');
  await waitFor(() => {
    const row = sql(db, "SELECT last_id FROM app_event_cursors WHERE consumer = 'supervision.rules'")[0];
    return row && Number(row[0]) >= Number(max);
  }, { what: 'the rules consumer to pass every event', timeoutMs: 30000 });
}

async function ruleOf(code) {
  const r = await get('/v1/supervision/rules');
  assert.equal(r.status, 200, r.text);
  return r.json.items.find((x) => x.code === code);
}

/**
 * Runs fn(rule) with the rule changed by patch (through the API, as a supervisor would), then
 * puts back what it changed once every event of fn was evaluated (rules are read at evaluation).
 */
async function withRule(code, patch, fn) {
  const before = await ruleOf(code);
  let r = await send('PATCH', `/v1/supervision/rules/${before.id}`, { ...patch, note: 'test scenario' });
  assert.equal(r.status, 200, r.text);
  try {
    await fn(r.json);
  } finally {
    await settled();
    const back = Object.fromEntries(Object.keys(patch).map((k) => [k, before[k]]));
    r = await send('PATCH', `/v1/supervision/rules/${before.id}`, { ...back, note: 'test scenario over' });
    assert.equal(r.status, 200, r.text);
  }
}

async function alertsOf(rule, kind, subject) {
  const r = await get(`/v1/supervision/alerts?rule_id=${rule.id}&subject_kind=${kind}&subject_id=${subject}`);
  assert.equal(r.status, 200, r.text);
  return r.json.items;
}

const hitsOf = (items) => items.reduce((n, a) => n + a.hits, 0);

/** A violation of d's own car handled at a window by the operator of role (a case filed there). */
async function windowHandleOwn(d, role, documents) {
  const v = await recordOk({ plate: d.plate, points: 1 });
  const json = { licence_id: d.licenceId };
  if (documents) json.documents = documents;
  const r = await request(`${server.httpsUrl}/v1/violations/${v.id}/handle-at-window`, {
    method: 'POST', json, headers: { ...(await id.operatorHeaders(role)), ...idem() },
  });
  assert.equal(r.status, 200, r.text);
  return v;
}

/** A violation of vehicle owner's car taken at a window by licence taker (on the owner's documents). */
async function windowTake(owner, taker) {
  const v = await recordOk({ plate: owner.plate, points: 1 });
  const r = await request(`${server.httpsUrl}/v1/violations/${v.id}/handle-at-window`, {
    method: 'POST', json: { licence_id: taker.licenceId, documents: ['vehicle_licence', 'owner_id'] },
    headers: { ...(await id.operatorHeaders('window')), ...idem() },
  });
  assert.equal(r.status, 200, r.text);
  return v;
}

test('intermediary: one outlet filing for a third distinct applicant in a day raises an alert; two applicants do not', async () => {
  await withRule('intermediary', { threshold: 3, window_s: 86400 }, async (rule) => {
    const outlet = id.operators.window2.outletId;
    const [a, b, c] = [await driver(), await driver(), await driver()];
    const before = hitsOf(await alertsOf(rule, 'outlet', outlet));
    // close: three filings at the outlet, but for two distinct applicants
    for (const d of [a, b, a]) await windowHandleOwn(d, 'window2');
    await settled();
    assert.equal(hitsOf(await alertsOf(rule, 'outlet', outlet)), before, 'two applicants are no intermediary');
    // a third applicant the same day crosses the threshold
    await windowHandleOwn(c, 'window2');
    const al = await waitAlert(`rule_id=${rule.id}&subject_kind=outlet&subject_id=${outlet}`, (x) => x.hits > before);
    assert.ok(al, 'intermediary alert raised');
    assert.equal(al.rule_code, 'intermediary');
    assert.equal(al.outlet_id, outlet);
    const d = await get(`/v1/supervision/alerts/${al.id}`);
    const ev = d.json.evidence.at(-1);
    assert.equal(ev.event_type, 'cases.filed');
    assert.equal(ev.detail.applicant_id, c.c.id);
    assert.equal(ev.detail.outlet_id, outlet);
    // the citizens themselves filed nothing for others: no alert names them
    for (const x of [a, b, c]) assert.deepEqual(await alertsOf(rule, 'citizen', x.c.id), []);
  });
});

test('points_many_licences: one vehicle\'s violations taken by a third licence raise an alert; two licences do not', async () => {
  await withRule('points_many_licences', { threshold: 3, window_s: 2592000 }, async (rule) => {
    const [owner, x, y] = [await driver(), await driver(), await driver()];
    // close: three violations of the car, taken by two licences (the owner twice)
    assert.equal((await handle(owner.c, (await recordOk({ plate: owner.plate, points: 1 })).id)).status, 200);
    await windowTake(owner, x);
    assert.equal((await handle(owner.c, (await recordOk({ plate: owner.plate, points: 1 })).id)).status, 200);
    // and x's own car, taken by x alone, is no subject either
    await windowHandleOwn(x, 'window');
    await settled();
    assert.deepEqual(await alertsOf(rule, 'vehicle', owner.vehicleId), []);
    assert.deepEqual(await alertsOf(rule, 'vehicle', x.vehicleId), []);
    // a third licence takes points of the same car
    const v = await windowTake(owner, y);
    const al = await waitAlert(`rule_id=${rule.id}&subject_kind=vehicle&subject_id=${owner.vehicleId}`);
    assert.ok(al, 'points_many_licences alert raised');
    assert.equal(al.rule_code, 'points_many_licences');
    assert.equal(al.hits, 1);
    assert.equal(al.severity, rule.severity);
    const d = await get(`/v1/supervision/alerts/${al.id}`);
    assert.equal(d.json.evidence.length, 1);
    assert.equal(d.json.evidence[0].event_type, 'violations.handled');
    assert.equal(d.json.evidence[0].detail.violation_id, v.id);
    assert.equal(d.json.evidence[0].detail.vehicle_id, owner.vehicleId);
  });
});

test('off_hours: an operator action outside the configured hours raises an alert; inside them, or a citizen\'s, none', async () => {
  const op = id.operators.window2.id;
  const rule = await ruleOf('off_hours');
  // The hours come from the rule's params (Asia/Shanghai), so the scenarios do not depend on the
  // time of day the test runs at: 0-24 is all day at work, 0-0 never.
  await withRule('off_hours', { params: { start_hour: 0, end_hour: 24 } }, async () => {
    const before = hitsOf(await alertsOf(rule, 'operator', op));
    await windowHandleOwn(await driver(), 'window2');
    await settled();
    assert.equal(hitsOf(await alertsOf(rule, 'operator', op)), before, 'inside working hours');
  });
  await withRule('off_hours', { params: { start_hour: 0, end_hour: 0 } }, async () => {
    const citizen = await driver();
    const before = hitsOf(await alertsOf(rule, 'operator', op));
    // a citizen acting at any hour is not an operator off duty
    assert.equal((await handle(citizen.c, (await recordOk({ plate: citizen.plate, points: 1 })).id)).status, 200);
    await settled();
    assert.equal(hitsOf(await alertsOf(rule, 'operator', op)), before);
    assert.deepEqual(await alertsOf(rule, 'citizen', citizen.c.id), []);
    const v = await windowHandleOwn(await driver(), 'window2');
    const al = await waitAlert(`rule_id=${rule.id}&subject_kind=operator&subject_id=${op}`, (x) => x.hits > before);
    assert.ok(al, 'off_hours alert raised');
    assert.equal(al.rule_code, 'off_hours');
    assert.equal(al.outlet_id, id.operators.window2.outletId);
    const d = await get(`/v1/supervision/alerts/${al.id}`);
    assert.ok(d.json.evidence.some((e) => e.event_type === 'violations.handled' && e.detail.violation_id === v.id),
      JSON.stringify(d.json.evidence));
  });
});

let plateSeq = 0;
/** Loads one fresh number into the plate pool (admin) and returns it. */
async function freshNumber() {
  const L = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
  const k = plateSeq++;
  const n = `${L[(k + 3) % 24]}${L[(k * 7 + 5) % 24]}${String(k % 1000).padStart(3, '0')}`;
  const r = await request(`${server.httpsUrl}/v1/plates/pool`, {
    method: 'POST', json: { prefix: '浙A', numbers: [n] }, headers: await id.operatorHeaders('admin'),
  });
  assert.equal(r.status, 201, r.text);
  return n;
}

/** A submitted registration application of citizen c. */
async function registration(c) {
  const r = await request(`${server.httpsUrl}/v1/registrations`, {
    method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() },
    json: {
      vehicle_type: 'K33', use_type: 'private', brand: '大众', model: '朗逸', vin: randomVin(),
      engine_no: `E${randomHex(5).toUpperCase()}`, invoice_no: `INV${randomHex(4)}`, invoice_amount_fen: 12990000,
      insurance_policy_no: `PDZA${randomHex(6)}`, delivery: 'mail', mail_address: '浙江省杭州市西湖区文三路 1 号',
      materials: ['conformity_certificate', 'purchase_invoice', 'insurance_policy', 'purchase_tax'], submit: true,
    },
  });
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}

/** c reserves a fresh number for application app and gives it up again. */
async function reserveAndRelease(c, app) {
  const number = await freshNumber();
  let r = await request(`${server.httpsUrl}/v1/registrations/${app}/plate`, {
    method: 'POST', json: { number, source: 'custom' }, headers: { ...id.citizenHeaders(c), ...idem() },
  });
  assert.equal(r.status, 200, r.text);
  r = await request(`${server.httpsUrl}/v1/registrations/${app}/plate`, {
    method: 'DELETE', headers: { ...id.citizenHeaders(c), ...idem() },
  });
  assert.equal(r.status, 200, r.text);
}

test('plate_hoarding: a third plate given up by one citizen raises an alert; two, or three by two people, do not', async () => {
  await withRule('plate_hoarding', { threshold: 3, window_s: 2592000 }, async (rule) => {
    const c = await id.addCitizen();
    const other = await id.addCitizen();
    const app = await registration(c);
    const otherApp = await registration(other);
    // close: three releases, but two by c and one by another person
    await reserveAndRelease(c, app);
    await reserveAndRelease(other, otherApp);
    await reserveAndRelease(c, app);
    await settled();
    assert.deepEqual(await alertsOf(rule, 'citizen', c.id), []);
    assert.deepEqual(await alertsOf(rule, 'citizen', other.id), []);
    // c's third release
    await reserveAndRelease(c, app);
    const al = await waitAlert(`rule_id=${rule.id}&subject_kind=citizen&subject_id=${c.id}`);
    assert.ok(al, 'plate_hoarding alert raised');
    assert.equal(al.rule_code, 'plate_hoarding');
    assert.equal(al.hits, 1);
    const d = await get(`/v1/supervision/alerts/${al.id}`);
    assert.equal(d.json.evidence[0].event_type, 'registration.plate_released');
    assert.equal(d.json.evidence[0].detail.application_id, app);
    assert.deepEqual(await alertsOf(rule, 'citizen', other.id), []);
  });
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
  // every version, newest first (the scenarios above changed it too)
  assert.deepEqual(r.json.items.map((x) => x.version), Array.from({ length: rule.version + 1 }, (_, i) => rule.version + 1 - i));
  assert.equal(r.json.items[0].note, 'tighter');
  const [[n]] = sql(db, `SELECT COUNT(*) FROM audit_log WHERE action = 'supervision.rule_update' AND target_id = '${rule.id}'`);
  assert.equal(Number(n), rule.version, 'one audit record per change after the initial version');
  assert.equal((await send('PATCH', '/v1/supervision/rules/999', { note: 'x' })).status, 404);
});
