// Violations over HTTP: agency intake (idempotent on decision_no), window recording, field
// validation, the citizen's list with the amount due today (late fee computed on read),
// operator search (audited), online handling and each refusal, concurrent handling, window
// handling up to full score, cancellation.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, sql, randomHex } from './lib/harness.mjs';
import { setupIdentity, randomPlate } from './lib/identity.mjs';
import { ensureHandlingItem, instantAgo, shanghaiDayOffset, violationBody, withDot, assertProblem } from './lib/fixtures.mjs';

let server;
let id;
let db;

const shanghaiDay = shanghaiDayOffset;
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const decisionNo = () => violationBody().decision_no;
const body = violationBody;

function idem() {
  return { 'Idempotency-Key': `k-${randomHex(12)}` };
}

async function intake(json, { type = 'agency', headers = idem() } = {}) {
  return request(`${server.httpsUrl}/v1/violations`, {
    method: 'POST', json, headers, ...id.partnerTls(type),
  });
}

async function recordOk(o = {}) {
  const r = await intake(body(o));
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function handle(citizen, vid, json = {}, headers = idem()) {
  return request(`${server.httpsUrl}/v1/violations/${vid}/handle`, {
    method: 'POST', json, headers: { ...id.citizenHeaders(citizen), ...headers },
  });
}

async function windowHandle(vid, licenceId, role = 'window') {
  return request(`${server.httpsUrl}/v1/violations/${vid}/handle-at-window`, {
    method: 'POST', json: { licence_id: licenceId }, headers: await id.operatorHeaders(role),
  });
}

// Over HTTPS (plain HTTP is for health endpoints only).
async function handleS(citizen, vid, json = {}, headers = idem()) {
  return request(`${server.httpsUrl}/v1/violations/${vid}/handle`, {
    method: 'POST', json, headers: { ...id.citizenHeaders(citizen), ...headers },
  });
}
async function windowHandleS(vid, licenceId, documents, role = 'window') {
  const json = { licence_id: licenceId };
  if (documents !== undefined) json.documents = documents;
  return request(`${server.httpsUrl}/v1/violations/${vid}/handle-at-window`, {
    method: 'POST', json, headers: await id.operatorHeaders(role),
  });
}
/** holder asks to handle the violations of owner's car; withConsent: the owner agrees. */
async function bindS(holder, owner, withConsent = true) {
  const a = await request(`${server.httpsUrl}/v1/me/bindings`, {
    method: 'POST', json: { plate: owner.plate }, headers: { ...id.citizenHeaders(holder.c), ...idem() },
  });
  assert.equal(a.status, 201, a.text);
  if (withConsent) {
    const k = await request(`${server.httpsUrl}/v1/me/binding-requests/${a.json.id}/consent`, {
      method: 'POST', headers: { ...id.citizenHeaders(owner.c), ...idem() },
    });
    assert.equal(k.status, 200, k.text);
  }
  return a.json.id;
}
/** The recorded tie of a violation's handling (violation_handlings), or undefined. */
function handlingRow(vid) {
  const [row] = sql(db, 'SELECT licence_id, citizen_id, vehicle_id, owner_citizen_id, tie, binding_id, documents, channel, ' +
    `operator_id, outlet_id, points FROM violation_handlings WHERE violation_id = ${Number(vid)}`);
  if (!row) return undefined;
  const n = (x) => (x === null ? null : Number(x));
  return {
    licence_id: n(row[0]), citizen_id: n(row[1]), vehicle_id: n(row[2]), owner_citizen_id: n(row[3]), tie: row[4],
    binding_id: n(row[5]), documents: row[6] === null ? null : JSON.parse(row[6]), channel: row[7],
    operator_id: n(row[8]), outlet_id: n(row[9]), points: n(row[10]),
  };
}

async function myViolations(citizen) {
  const r = await request(`${server.httpsUrl}/v1/me/violations`, { headers: id.citizenHeaders(citizen) });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** A citizen with a licence and a registered car. */
async function driver({ licence = {}, vehicle = {} } = {}) {
  const c = await id.addCitizen();
  const licenceId = await id.addLicence(c, licence);
  const plate = vehicle.plate || randomPlate();
  const vehicleId = await id.addVehicle(c, { plate, ...vehicle });
  return { c, licenceId, plate, vehicleId };
}

function licenceRow(licenceId) {
  const [row] = sql(db, `SELECT points, status, full_score_study FROM licences WHERE id = ${Number(licenceId)}`);
  return { points: Number(row[0]), status: row[1], study: Number(row[2]) };
}

function auditCount(action, targetId) {
  return Number(sql(db, `SELECT COUNT(*) FROM audit_log WHERE action = ${q(action)}` +
    (targetId === undefined ? '' : ` AND target_id = ${q(String(targetId))}`))[0][0]);
}

before(async () => {
  server = await startServer({ prefix: 'violations' });
  db = server.db.name;
  id = await setupIdentity(server);
  ensureHandlingItem(db);
});

after(async () => {
  if (server) await server.stop();
});

describe('agency intake', () => {
  test('records a violation and links the registered vehicle by plate', async () => {
    const d = await driver();
    const b = body({ plate: withDot(d.plate) });
    const r = await intake(b);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.decision_no, b.decision_no);
    assert.equal(r.json.plate, d.plate, 'stored without the middle dot, as vehicles.plate');
    assert.equal(r.json.vehicle_id, d.vehicleId);
    assert.equal(r.json.state, 'recorded');
    assert.equal(r.json.fine_fen, 20000);
    assert.equal(r.json.points, 6);
    assert.equal(r.json.occurred_at, b.occurred_at);
    assert.equal(r.json.served_date, b.served_date);
    assert.equal(r.json.amount_due_today, 20000);
    const [row] = sql(db, `SELECT vehicle_id, state, recorded_by_kind, agency FROM violations WHERE id = ${r.json.id}`);
    assert.deepEqual(row, [String(d.vehicleId), 'recorded', 'partner', 'traffic']);
    assert.equal(auditCount('violations.record', r.json.id), 1);
  });

  test('an unregistered plate is recorded without a vehicle', async () => {
    const v = await recordOk({ plate: withDot(randomPlate()), vehicle_type: 'H11' });
    assert.equal(v.vehicle_id, null);
  });

  test('same decision_no and content under a new key answers 200 with the same record', async () => {
    const b = body();
    const first = await intake(b);
    assert.equal(first.status, 201, first.text);
    const again = await intake({ ...b, plate: b.plate.replace('·', '') });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.id, first.json.id);
    assert.equal(Number(sql(db, `SELECT COUNT(*) FROM violations WHERE decision_no = ${q(b.decision_no)}`)[0][0]), 1);
  });

  test('same decision_no with different content is a 409 decision_conflict', async () => {
    const b = body();
    const first = await intake(b);
    assert.equal(first.status, 201);
    for (const change of [{ fine_fen: 20100 }, { points: 3 }, { occurred_at: instantAgo(4) }, { code: '1626' }]) {
      const r = await intake({ ...b, ...change });
      assert.equal(r.status, 409, `${JSON.stringify(change)}: ${r.text}`);
      assert.equal(r.json.code, 'decision_conflict');
      assert.equal(r.json.id, first.json.id);
    }
    const [row] = sql(db, `SELECT fine_fen, points FROM violations WHERE id = ${first.json.id}`);
    assert.deepEqual(row, ['20000', '6']);
  });

  test('concurrent sends of one decision create one row', async () => {
    const b = body();
    const rs = await Promise.all([1, 2, 3, 4, 5].map(() => intake(b)));
    const statuses = rs.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 201], rs.map((r) => r.text).join('\n'));
    assert.equal(new Set(rs.map((r) => r.json.id)).size, 1);
  });

  test('the same Idempotency-Key replays the stored response', async () => {
    const b = body();
    const headers = idem();
    const a = await intake(b, { headers });
    const r = await intake(b, { headers });
    assert.equal(a.status, 201);
    assert.equal(r.status, 201);
    assert.equal(r.json.id, a.json.id);
    assert.equal(r.headers['idempotent-replayed'], 'true');
  });

  test('Idempotency-Key is required', async () => {
    const r = await intake(body(), { headers: {} });
    assertProblem(r, 400, 'idempotency_key_required');
  });

  test('HMAC-authenticated agency can send too', async () => {
    const text = JSON.stringify(body());
    const r = await request(`${server.httpsUrl}/v1/violations`, {
      method: 'POST', body: text,
      headers: { 'content-type': 'application/json', ...idem(), ...id.partnerHmacHeaders('agency', 'POST', '/v1/violations', text) },
    });
    assert.equal(r.status, 201, r.text);
  });

  test('a partner that is not an agency gets 403, a citizen 403, nobody 401', async () => {
    const b = body();
    const post = await intake(b, { type: 'post' });
    assert.equal(post.status, 403, post.text);
    const insurer = await intake(b, { type: 'insurer' });
    assert.equal(insurer.status, 403);
    const cit = await request(`${server.httpsUrl}/v1/violations`, {
      method: 'POST', json: b, headers: { ...idem(), ...id.citizenHeaders(id.citizens[0]) },
    });
    assert.equal(cit.status, 403);
    const anon = await request(`${server.httpsUrl}/v1/violations`, { method: 'POST', json: b, headers: idem() });
    assert.equal(anon.status, 401);
    assert.equal(Number(sql(db, `SELECT COUNT(*) FROM violations WHERE decision_no = ${q(b.decision_no)}`)[0][0]), 0);
  });

  const invalid = [
    ['decision_no', { decision_no: 'jd-1' }, 'decision_no_format'],
    ['decision_no', { decision_no: 'JD 12345' }, 'decision_no_format'],
    ['plate', { plate: '浙' }, 'plate_format'],
    ['plate', { plate: 'XY12·12345' }, 'plate_prefix'],
    ['plate', { plate: '浙I·12345' }, 'plate_prefix'],
    ['plate', { plate: '浙A·1234' }, 'plate_length'],
    ['plate', { plate: '浙A·12O45' }, 'plate_forbidden_letter'],
    ['plate', { plate: '浙A·12a45' }, 'plate_character'],
    ['vehicle_type', { vehicle_type: 'k33' }, 'vehicle_type_format'],
    ['vehicle_type', { vehicle_type: 'Z99' }, 'vehicle_type_unknown'],
    ['occurred_at', { occurred_at: '2026-03-01 08:00:00' }, 'occurred_at_format'],
    ['occurred_at', { occurred_at: '2026-02-30T08:00:00Z' }, 'occurred_at_format'],
    ['occurred_at', { occurred_at: new Date(Date.now() + 3600e3).toISOString().replace(/\.\d{3}Z$/, 'Z') }, 'occurred_at_future'],
    ['place', { place: '   ' }, 'place_invalid'],
    ['place', { place: 'a\u0001b' }, 'place_invalid'],
    ['code', { code: '16' }, 'code_format'],
    ['code', { code: '16A5' }, 'code_format'],
    ['description', { description: '' }, 'description_invalid'],
    ['fine_fen', { fine_fen: -1 }, 'fine_invalid'],
    ['points', { points: 13 }, 'points_invalid'],
    ['points', { points: -1 }, 'points_invalid'],
    ['agency', { agency: 'police' }, 'agency_invalid'],
    ['source', { source: 'drone' }, 'source_invalid'],
    ['served_date', { served_date: '2026-1-05' }, 'served_date_format'],
    ['served_date', { served_date: shanghaiDay(2) }, 'served_date_future'],
    ['served_date', { occurred_at: instantAgo(3), served_date: shanghaiDay(-10) }, 'served_before_violation'],
  ];
  for (const [field, change, code] of invalid) {
    test(`rejects ${field} ${JSON.stringify(change[field])} with 400 ${code}`, async () => {
      const r = await intake(body(change));
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.code, code);
      assert.equal(r.json.field, field);
    });
  }

  test('rejects wrong types, missing and unknown fields naming the field', async () => {
    const missing = body();
    delete missing.served_date;
    let r = await intake(missing);
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'served_date');
    r = await intake(body({ fine_fen: '200' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'fine_fen');
    r = await intake({ ...body(), extra: 1 });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'extra');
  });
});

describe('window recording', () => {
  test('a window operator records a violation; other roles may not', async () => {
    const d = await driver();
    const b = body({ plate: d.plate, source: 'officer', agency: 'highway' });
    const r = await request(`${server.httpsUrl}/v1/violations/window`, {
      method: 'POST', json: b, headers: await id.operatorHeaders('window'),
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.vehicle_id, d.vehicleId);
    assert.equal(r.json.agency, 'highway');
    assert.equal(sql(db, `SELECT recorded_by_kind, recorded_by_id FROM violations WHERE id = ${r.json.id}`)[0].join(','),
      `operator,${id.operators.window.id}`);
    const bad = await request(`${server.httpsUrl}/v1/violations/window`, {
      method: 'POST', json: body({ points: 20 }), headers: await id.operatorHeaders('window'),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, 'points');
    const sup = await request(`${server.httpsUrl}/v1/violations/window`, {
      method: 'POST', json: body(), headers: await id.operatorHeaders('supervisor'),
    });
    assert.equal(sup.status, 403);
  });
});

describe('citizen list and amount due today', () => {
  // The list merges one lookup per source (own plates, bound plates, licence): a violation
  // reached by two sources is listed once, under the first of owner, bound, licence.
  test('a violation reached by plate and licence is listed once as owner; by licence only, as licence', async () => {
    const d = await driver();
    const both = await recordOk({ plate: withDot(d.plate), occurred_at: instantAgo(5) });
    const lic = await recordOk({ plate: withDot(randomPlate()), occurred_at: instantAgo(4) });
    sql(db, `UPDATE violations SET licence_id = ${Number(d.licenceId)} WHERE id IN (${both.id}, ${lic.id})`);
    const mine = await myViolations(d.c);
    assert.deepEqual(mine.items.filter((x) => x.id === both.id || x.id === lic.id).map((x) => [x.id, x.relation]),
      [[lic.id, 'licence'], [both.id, 'owner']], 'each once, newest first');
    assert.equal(new Set(mine.items.map((x) => x.id)).size, mine.items.length, 'no row twice');
  });

  test('the owner sees their vehicle\'s violations; another citizen does not', async () => {
    const d = await driver();
    const v = await recordOk({ plate: withDot(d.plate) });
    const mine = await myViolations(d.c);
    const item = mine.items.find((x) => x.id === v.id);
    assert.ok(item, 'listed for the owner');
    assert.equal(item.relation, 'owner');
    assert.equal(item.amount_due_today, 20000);
    assert.equal(item.late_fee_fen, 0);
    assert.equal(item.as_of, shanghaiDay(0));
    assert.equal(mine.as_of, shanghaiDay(0));
    assert.equal(item.licence_id, undefined, 'no internal links in the citizen view');
    const other = await myViolations(id.citizens[1]);
    assert.equal(other.items.find((x) => x.id === v.id), undefined);
  });

  test('late fee is computed on read from served_date in Asia/Shanghai', async () => {
    const d = await driver();
    const cases = [
      [15, 0], // deadline day: no fee
      [16, 600], // late day 1: 3%
      [20, 3000], // late day 5: 15%
      [48, 19800], // late day 33: 99%
      [49, 20000], // capped at the fine
      [80, 20000],
    ];
    const ids = {};
    for (const [ago] of cases) {
      const dec = decisionNo();
      sql(db, 'INSERT INTO violations (decision_no, plate, vehicle_type, vehicle_id, occurred_at, place, code, description, ' +
        'fine_fen, points, agency, source, served_date, state, created_at) VALUES ' +
        `(${q(dec)}, ${q(d.plate)}, 'K33', ${d.vehicleId}, UTC_TIMESTAMP(3) - INTERVAL ${ago + 2} DAY, '杭州', '1625', '闯红灯', ` +
        `20000, 3, 'traffic', 'camera', ${q(shanghaiDay(-ago))}, 'recorded', UTC_TIMESTAMP(3))`);
      ids[ago] = Number(sql(db, `SELECT id FROM violations WHERE decision_no = ${q(dec)}`)[0][0]);
    }
    const mine = await myViolations(d.c);
    for (const [ago, fee] of cases) {
      const item = mine.items.find((x) => x.id === ids[ago]);
      assert.ok(item, `served ${ago} days ago is listed`);
      assert.equal(item.late_fee_fen, fee, `served ${ago} days ago`);
      assert.equal(item.amount_due_today, 20000 + fee, `served ${ago} days ago`);
      assert.equal(item.payment_deadline, shanghaiDay(-ago + 15));
    }
    // rows are never rewritten: the fine stays as recorded
    assert.equal(sql(db, `SELECT fine_fen FROM violations WHERE id = ${ids[20]}`)[0][0], '20000');
  });

  test('paid and cancelled violations owe nothing', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate });
    sql(db, `UPDATE violations SET state = 'paid', paid_at = UTC_TIMESTAMP(3), served_date = ${q(shanghaiDay(-30))} WHERE id = ${v.id}`);
    const item = (await myViolations(d.c)).items.find((x) => x.id === v.id);
    assert.equal(item.state, 'paid');
    assert.equal(item.amount_due_today, 0);
    assert.equal(item.late_fee_fen, 0);
  });

  test('operators cannot use the citizen list', async () => {
    const r = await request(`${server.httpsUrl}/v1/me/violations`, { headers: await id.operatorHeaders('window') });
    assert.equal(r.status, 403);
  });
});

describe('operator search', () => {
  test('by plate, decision number and licence, each audited', async () => {
    const d = await driver();
    const v = await recordOk({ plate: withDot(d.plate) });
    const h = await id.operatorHeaders('window');
    const before = auditCount('violations.search');
    let r = await request(`${server.httpsUrl}/v1/violations?plate=${encodeURIComponent(withDot(d.plate))}`, { headers: h });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.items.map((x) => x.id), [v.id]);
    assert.equal(r.json.items[0].vehicle_id, d.vehicleId);
    r = await request(`${server.httpsUrl}/v1/violations?decision_no=${v.decision_no}`, { headers: await id.operatorHeaders('auditor') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((x) => x.id), [v.id]);
    const hd = await handle(d.c, v.id);
    assert.equal(hd.status, 200, hd.text);
    r = await request(`${server.httpsUrl}/v1/violations?licence_id=${d.licenceId}`, { headers: await id.operatorHeaders('supervisor') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.items.map((x) => x.id), [v.id]);
    assert.equal(r.json.items[0].licence_id, d.licenceId);
    assert.equal(auditCount('violations.search'), before + 3);
    const [row] = sql(db, "SELECT caller_kind, caller_id, target_type FROM audit_log WHERE action = 'violations.search' ORDER BY seq LIMIT 1");
    assert.deepEqual(row, ['operator', String(id.operators.window.id), 'plate']);
  });

  test('exactly one valid search key, operators only', async () => {
    const h = await id.operatorHeaders('window');
    let r = await request(`${server.httpsUrl}/v1/violations`, { headers: h });
    assertProblem(r, 400, 'search_key_required');
    r = await request(`${server.httpsUrl}/v1/violations?plate=${encodeURIComponent('浙A12345')}&licence_id=1`, { headers: h });
    assert.equal(r.status, 400);
    r = await request(`${server.httpsUrl}/v1/violations?plate=bad`, { headers: h });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'plate');
    r = await request(`${server.httpsUrl}/v1/violations?licence_id=x1`, { headers: h });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'licence_id');
    r = await request(`${server.httpsUrl}/v1/violations?licence_id=1`, { headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(r.status, 403);
    r = await request(`${server.httpsUrl}/v1/violations?licence_id=1`, { headers: await id.operatorHeaders('inspector') });
    assert.equal(r.status, 403);
  });
});

describe('online handling', () => {
  test('handles a violation of the own vehicle: points, case, audit', async () => {
    const d = await driver({ licence: { points: 2 } });
    const v = await recordOk({ plate: d.plate, points: 3 });
    const r = await handle(d.c, v.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'handled');
    assert.equal(r.json.licence.points, 5);
    assert.equal(r.json.licence.status, 'valid');
    assert.ok(r.json.case.number, 'a case number');
    assert.deepEqual(licenceRow(d.licenceId), { points: 5, status: 'valid', study: 0 });
    const [row] = sql(db, `SELECT state, licence_id, citizen_id, handled_channel, case_id IS NOT NULL FROM violations WHERE id = ${v.id}`);
    assert.deepEqual(row, ['handled', String(d.licenceId), String(d.c.id), 'app', '1']);
    const [cs] = sql(db, `SELECT item_code, channel, applicant_id, ref_type, ref_id, state, trips FROM cases WHERE number = ${q(r.json.case.number)}`);
    // decided on the spot, online: a completed case with zero trips
    assert.deepEqual(cs, ['VIO-HANDLE', 'app', String(d.c.id), 'violation', String(v.id), 'completed', '0']);
    assert.equal(auditCount('violations.handle', v.id), 1);
    assert.equal(auditCount('violations.handle_unrelated', v.id), 0);
    // still owed: handled, not yet paid
    const item = (await myViolations(d.c)).items.find((x) => x.id === v.id);
    assert.equal(item.state, 'handled');
    assert.equal(item.amount_due_today, 20000);
  });

  test('handling twice is a 409 already_handled with the current state', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate, points: 1 });
    assert.equal((await handle(d.c, v.id)).status, 200);
    const r = await handle(d.c, v.id);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'already_handled');
    assert.equal(r.json.reason, 'already_handled');
    assert.equal(r.json.state, 'handled');
    assert.equal(licenceRow(d.licenceId).points, 1, 'points counted once');
  });

  test('the same Idempotency-Key replays the success without a second effect', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate, points: 2 });
    const headers = idem();
    const a = await handle(d.c, v.id, {}, headers);
    const b = await handle(d.c, v.id, {}, headers);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    assert.equal(licenceRow(d.licenceId).points, 2);
  });

  test('two concurrent handle requests: exactly one succeeds', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate, points: 3 });
    const rs = await Promise.all([handle(d.c, v.id), handle(d.c, v.id), handle(d.c, v.id)]);
    const ok = rs.filter((r) => r.status === 200);
    const conflict = rs.filter((r) => r.status === 409);
    assert.equal(ok.length, 1, rs.map((r) => `${r.status} ${r.text}`).join('\n'));
    assert.equal(conflict.length, 2);
    for (const r of conflict) assert.equal(r.json.code, 'already_handled');
    assert.equal(licenceRow(d.licenceId).points, 3);
    assert.equal(auditCount('violations.handle', v.id), 1);
  });

  test('two citizens racing for one violation: exactly one licence gets the points', async () => {
    const a = await driver();
    const b = await driver();
    await bindS(b, a); // both tied to the car: the owner and a driver bound with consent
    const v = await recordOk({ plate: a.plate, points: 2 });
    const rs = await Promise.all([handle(a.c, v.id), handle(b.c, v.id, { decision_no: v.decision_no })]);
    assert.deepEqual(rs.map((r) => r.status).sort(), [200, 409], rs.map((r) => r.text).join('\n'));
    assert.equal(licenceRow(a.licenceId).points + licenceRow(b.licenceId).points, 2);
  });

  const refusals = [
    ['licence_expired', { licence: { validUntil: '2020-01-01' } }, {}],
    ['licence_not_valid', { licence: { status: 'suspended' } }, {}],
    ['licence_not_valid', { licence: { status: 'revoked' } }, {}],
    ['licence_full_score', { licence: { status: 'full_score', points: 12 } }, { points: 0 }],
    ['points_would_reach_12', { licence: { points: 6 } }, { points: 6 }],
    ['points_would_reach_12', { licence: { points: 0 } }, { points: 12 }],
    ['class_not_covered', { licence: { classes: 'C2' } }, {}],
    ['class_not_covered', { licence: { classes: 'C1' }, vehicle: { vehicleType: 'H11', classRequired: 'B2' } }, { vehicle_type: 'H11' }],
  ];
  for (const [reason, setup, change] of refusals) {
    test(`refused with ${reason} (${JSON.stringify(setup)})`, async () => {
      const d = await driver(setup);
      const before = licenceRow(d.licenceId);
      const v = await recordOk({ plate: d.plate, points: 6, ...change });
      const r = await handle(d.c, v.id);
      assert.equal(r.status, 409, r.text);
      assert.equal(r.json.code, reason);
      assert.equal(r.json.reason, reason);
      assert.deepEqual(licenceRow(d.licenceId), before, 'licence untouched');
      assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${v.id}`)[0][0], 'recorded');
    });
  }

  test('11 points is still fine online; the 12th point is refused', async () => {
    const d = await driver({ licence: { points: 8 } });
    const v3 = await recordOk({ plate: d.plate, points: 3 });
    const ok = await handle(d.c, v3.id);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.licence.points, 11);
    const v1 = await recordOk({ plate: d.plate, points: 1 });
    const r = await handle(d.c, v1.id);
    assertProblem(r, 409, 'points_would_reach_12');
    assert.equal(r.json.licence_points, 11);
  });

  test('a finished scoring cycle starts afresh: old points below 12 lapse', async () => {
    const d = await driver({ licence: { points: 10, cycleStart: shanghaiDay(-800) } });
    const v = await recordOk({ plate: d.plate, points: 3 });
    const r = await handle(d.c, v.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.licence.points, 3);
    const [row] = sql(db, `SELECT points, cycle_start FROM licences WHERE id = ${d.licenceId}`);
    assert.equal(row[0], '3');
    assert.ok(row[1] > shanghaiDay(-366) && row[1] <= shanghaiDay(0), `new cycle start ${row[1]}`);
  });

  test('class from the vehicle-type table when the plate is not registered here', async () => {
    const c = await id.addCitizen();
    const l1 = await id.addLicence(c, { classes: 'C1' });
    const truck = await recordOk({ plate: withDot(randomPlate()), vehicle_type: 'H11' });
    // nobody is tied to a vehicle registered elsewhere: not online (issue 10 item 12) ...
    let r = await handleS(c, truck.id, { decision_no: truck.decision_no });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'no_tie_to_vehicle');
    // ... but at a window, on the owner's documents, with the class of its type
    const docs = ['vehicle_licence', 'owner_authorization'];
    r = await windowHandleS(truck.id, l1, docs);
    assertProblem(r, 409, 'class_not_covered');
    assert.equal(r.json.class_required, 'B2');
    const c2 = await id.addCitizen();
    const l2 = await id.addLicence(c2, { classes: 'A2' });
    r = await windowHandleS(truck.id, l2, docs);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.tie, 'window_documents');
    assert.deepEqual(handlingRow(truck.id), {
      licence_id: l2, citizen_id: c2.id, vehicle_id: null, owner_citizen_id: null, tie: 'window_documents',
      binding_id: null, documents: docs, channel: 'window', operator_id: id.operators.window.id,
      outlet_id: id.operators.window.outletId, points: 6,
    });
  });

  test('a citizen without a licence is refused with no_licence', async () => {
    const c = await id.addCitizen();
    const plate = randomPlate();
    await id.addVehicle(c, { plate });
    const v = await recordOk({ plate });
    const r = await handle(c, v.id);
    assertProblem(r, 409, 'no_licence');
  });

  test('another citizen\'s violation is 404; unknown and malformed ids too', async () => {
    const owner = await driver();
    const other = await driver();
    const v = await recordOk({ plate: owner.plate });
    let r = await handle(other.c, v.id);
    assert.equal(r.status, 404, r.text);
    r = await handle(other.c, v.id, { decision_no: 'JD-WRONG1' });
    assert.equal(r.status, 404);
    r = await handle(other.c, 99999999);
    assert.equal(r.status, 404);
    r = await handle(other.c, 'abc');
    assert.equal(r.status, 404);
    assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${v.id}`)[0][0], 'recorded');
  });

  test('the decision number alone takes no points: a stranger is refused 403 no_tie_to_vehicle, audited', async () => {
    // issue 10 item 12: anyone who knew a decision number could take the points
    const owner = await driver();
    const other = await driver();
    const v = await recordOk({ plate: owner.plate, points: 2 });
    const headers = idem();
    let r = await handleS(other.c, v.id, { decision_no: v.decision_no }, headers);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'no_tie_to_vehicle');
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(licenceRow(other.licenceId).points, 0);
    assert.equal(licenceRow(owner.licenceId).points, 0);
    assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${v.id}`)[0][0], 'recorded');
    assert.equal(handlingRow(v.id), undefined);
    assert.equal(auditCount('violations.handle_unrelated', v.id), 0);
    const [row] = sql(db, `SELECT caller_kind, caller_id, outcome, detail FROM audit_log WHERE action = 'violations.handle' AND target_id = ${q(v.id)}`);
    assert.deepEqual(row.slice(0, 3), ['citizen', String(other.c.id), 'refused']);
    assert.equal(JSON.parse(row[3]).reason, 'no_tie_to_vehicle');
    assert.equal(JSON.parse(row[3]).licence_id, other.licenceId);
    // the same key replays the refusal; nothing more happens
    r = await handleS(other.c, v.id, { decision_no: v.decision_no }, headers);
    assert.equal(r.status, 403);
    assert.equal(r.headers['idempotent-replayed'], 'true');
    // a stranger without a licence is told the same
    const nobody = await id.addCitizen();
    r = await handleS(nobody, v.id, { decision_no: v.decision_no });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'no_tie_to_vehicle');
    // the owner still handles it
    r = await handleS(owner.c, v.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(licenceRow(owner.licenceId).points, 2);
  });

  test('handle body: unknown fields are rejected; operators cannot use the citizen route', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate });
    let r = await handle(d.c, v.id, { licence_id: 1 });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'licence_id');
    r = await request(`${server.httpsUrl}/v1/violations/${v.id}/handle`, {
      method: 'POST', json: {}, headers: { ...idem(), ...(await id.operatorHeaders('window')) },
    });
    assert.equal(r.status, 403);
    r = await request(`${server.httpsUrl}/v1/violations/${v.id}/handle`, {
      method: 'POST', json: {}, headers: id.citizenHeaders(d.c),
    });
    assertProblem(r, 400, 'idempotency_key_required');
  });
});

describe('window handling and full score', () => {
  test('reaching 12 at a window marks full score and stops online handling', async () => {
    const d = await driver({ licence: { points: 6 } });
    const v = await recordOk({ plate: d.plate, points: 6 });
    const online = await handle(d.c, v.id);
    assertProblem(online, 409, 'points_would_reach_12');
    const r = await windowHandle(v.id, d.licenceId);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.licence.points, 12);
    assert.equal(r.json.licence.status, 'full_score');
    assert.equal(r.json.licence.full_score_study, true);
    assert.deepEqual(licenceRow(d.licenceId), { points: 12, status: 'full_score', study: 1 });
    const [row] = sql(db, `SELECT handled_channel, c.channel, c.outlet_id, (SELECT COUNT(*) FROM case_trips t WHERE t.case_id = c.id) ` +
      `FROM violations v JOIN cases c ON c.id = v.case_id WHERE v.id = ${v.id}`);
    assert.deepEqual(row, ['window', 'window', String(id.operators.window.outletId), '1']);
    assert.equal(auditCount('violations.full_score', d.licenceId), 1);
    // online handling is now suspended, even for a 0-point violation
    const next = await recordOk({ plate: d.plate, points: 0 });
    const again = await handle(d.c, next.id);
    assertProblem(again, 409, 'licence_full_score');
    // a window still can
    const w = await windowHandle(next.id, d.licenceId);
    assert.equal(w.status, 200, w.text);
  });

  test('window handling keeps the licence and class rules and its own errors', async () => {
    const d = await driver({ licence: { classes: 'C2' } });
    const v = await recordOk({ plate: d.plate });
    let r = await windowHandle(v.id, d.licenceId);
    assertProblem(r, 409, 'class_not_covered');
    const e = await driver({ licence: { validUntil: '2021-01-01' } });
    const ve = await recordOk({ plate: e.plate });
    r = await windowHandle(ve.id, e.licenceId);
    assertProblem(r, 409, 'licence_expired');
    r = await windowHandle(v.id, 99999999);
    assertProblem(r, 404, 'licence_not_found');
    r = await windowHandle(99999999, d.licenceId);
    assert.equal(r.status, 404);
    r = await windowHandle(v.id, d.licenceId, 'supervisor');
    assert.equal(r.status, 403);
    r = await request(`${server.httpsUrl}/v1/violations/${v.id}/handle-at-window`, {
      method: 'POST', json: { licence_id: 'x' }, headers: await id.operatorHeaders('window'),
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'licence_id');
  });

  test('an unrelated licence at a window needs the owner\'s documents and is audited as handle_unrelated', async () => {
    const owner = await driver();
    const other = await driver();
    const v = await recordOk({ plate: owner.plate, points: 1 });
    // issue 10 item 12: the window records what let this driver take another's points
    for (const docs of [undefined, [], ['vehicle_licence'], ['owner_id'], ['decision', 'owner_authorization']]) {
      const r = await windowHandleS(v.id, other.licenceId, docs);
      assert.equal(r.status, 422, `${JSON.stringify(docs)}: ${r.text}`);
      assert.equal(r.json.code, 'documents_required');
      assert.equal(r.json.field, 'documents');
    }
    for (const docs of [['vehicle_licence', 'passport'], ['vehicle_licence', 'vehicle_licence'], [1]]) {
      const r = await windowHandleS(v.id, other.licenceId, docs);
      assert.equal(r.status, 400, `${JSON.stringify(docs)}: ${r.text}`);
      assert.equal(r.json.field, 'documents');
    }
    assert.equal(licenceRow(other.licenceId).points, 0);
    const r = await windowHandleS(v.id, other.licenceId, ['vehicle_licence', 'owner_id']);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.tie, 'window_documents');
    assert.equal(auditCount('violations.handle_unrelated', v.id), 1);
    const [detail] = sql(db, `SELECT detail FROM audit_log WHERE action = 'violations.handle_unrelated' AND target_id = ${q(v.id)}`)[0];
    assert.deepEqual(JSON.parse(detail).documents, ['vehicle_licence', 'owner_id']);
    assert.deepEqual(handlingRow(v.id), {
      licence_id: other.licenceId, citizen_id: other.c.id, vehicle_id: owner.vehicleId, owner_citizen_id: owner.c.id,
      tie: 'window_documents', binding_id: null, documents: ['vehicle_licence', 'owner_id'], channel: 'window',
      operator_id: id.operators.window.id, outlet_id: id.operators.window.outletId, points: 1,
    });
  });
});

describe('cancellation', () => {
  async function cancel(vid, json, role = 'window') {
    return request(`${server.httpsUrl}/v1/violations/${vid}/cancel`, {
      method: 'POST', json, headers: await id.operatorHeaders(role),
    });
  }

  test('cancelling a handled violation returns its points; a second cancel is 409', async () => {
    const d = await driver({ licence: { points: 1 } });
    const v = await recordOk({ plate: d.plate, points: 3 });
    assert.equal((await handle(d.c, v.id)).status, 200);
    assert.equal(licenceRow(d.licenceId).points, 4);
    const r = await cancel(v.id, { reason: '当事人提出异议，经核实非本车' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'cancelled');
    assert.equal(r.json.amount_due_today, 0);
    assert.equal(licenceRow(d.licenceId).points, 1);
    assert.equal(sql(db, `SELECT cancel_reason FROM violations WHERE id = ${v.id}`)[0][0], '当事人提出异议，经核实非本车');
    assert.equal(auditCount('violations.cancel', v.id), 1);
    const again = await cancel(v.id, { reason: 'again' }, 'supervisor');
    assertProblem(again, 409, 'not_cancellable');
    assert.equal(again.json.state, 'cancelled');
    // a cancelled violation cannot be handled
    const h = await handle(d.c, v.id);
    assertProblem(h, 409, 'violation_cancelled');
  });

  test('a violation handled before the licence\'s cycle rolled over gives no points back', async () => {
    // cycle 2025-06-30 .. 2026-06-29, then the new cycle started on the licence (2026-06-30)
    const d = await driver({ licence: { points: 2, cycleStart: '2026-06-30' } });
    const v = await recordOk({ plate: d.plate, points: 3, occurred_at: '2026-01-08T02:00:00Z', served_date: '2026-01-09' });
    // handled in the old cycle: its 3 points lapsed with it
    sql(db, `UPDATE violations SET state = 'handled', licence_id = ${d.licenceId}, citizen_id = ${d.c.id}, ` +
      `handled_channel = 'app', handled_at = '2026-01-10 02:00:00.000' WHERE id = ${v.id}`);
    const r = await cancel(v.id, { reason: '复核撤销' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'cancelled');
    // the new cycle's 2 points stay (not 2 - 3 = 0)
    assert.deepEqual(licenceRow(d.licenceId), { points: 2, status: 'valid', study: 0 });
    const [detail] = sql(db, `SELECT detail FROM audit_log WHERE action = 'violations.cancel' AND target_id = ${q(v.id)}`)[0];
    assert.equal(JSON.parse(detail).points_returned, 0);
    // the cycle boundary is the Shanghai day: 2026-06-29T16:00Z is 2026-06-30 in Shanghai (this cycle)
    const w = await recordOk({ plate: d.plate, points: 1, occurred_at: '2026-06-29T10:00:00Z', served_date: '2026-06-30' });
    sql(db, `UPDATE violations SET state = 'handled', licence_id = ${d.licenceId}, citizen_id = ${d.c.id}, ` +
      `handled_channel = 'app', handled_at = '2026-06-29 16:00:00.000' WHERE id = ${w.id}`);
    assert.equal((await cancel(w.id, { reason: '复核撤销' })).status, 200);
    assert.equal(licenceRow(d.licenceId).points, 1);
  });

  test('cancelling the violation that reached 12 lifts the full score it caused', async () => {
    const d = await driver({ licence: { points: 6 } });
    const v = await recordOk({ plate: d.plate, points: 6 });
    assert.equal((await windowHandle(v.id, d.licenceId)).status, 200);
    assert.deepEqual(licenceRow(d.licenceId), { points: 12, status: 'full_score', study: 1 });
    const r = await cancel(v.id, { reason: '经复核非本人驾驶' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(licenceRow(d.licenceId), { points: 6, status: 'valid', study: 0 });
    assert.equal(auditCount('violations.full_score_lifted', d.licenceId), 1);
    // online handling works again
    const next = await recordOk({ plate: d.plate, points: 1 });
    assert.equal((await handle(d.c, next.id)).status, 200);
    assert.equal(licenceRow(d.licenceId).points, 7);
  });

  test('a full score that stays at 12 or more, or one not reached by points, is kept', async () => {
    const d = await driver({ licence: { points: 6 } });
    const a = await recordOk({ plate: d.plate, points: 6 });
    const b = await recordOk({ plate: d.plate, points: 3 });
    assert.equal((await windowHandle(a.id, d.licenceId)).status, 200);
    assert.equal((await windowHandle(b.id, d.licenceId)).status, 200);
    assert.deepEqual(licenceRow(d.licenceId), { points: 15, status: 'full_score', study: 1 });
    assert.equal((await cancel(b.id, { reason: '撤销' })).status, 200);
    assert.deepEqual(licenceRow(d.licenceId), { points: 12, status: 'full_score', study: 1 });
    // full score set by other means (below 12 points): a cancel never lifts it
    const e = await driver({ licence: { points: 3, status: 'full_score' } });
    sql(db, `UPDATE licences SET full_score_study = 1 WHERE id = ${e.licenceId}`);
    const c = await recordOk({ plate: e.plate, points: 2 });
    assert.equal((await windowHandle(c.id, e.licenceId)).status, 200);
    assert.equal((await cancel(c.id, { reason: '撤销' })).status, 200);
    assert.deepEqual(licenceRow(e.licenceId), { points: 3, status: 'full_score', study: 1 });
    assert.equal(auditCount('violations.full_score_lifted', e.licenceId), 0);
  });

  test('a supervisor cancels a recorded violation; paid ones are not cancellable', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate });
    const r = await cancel(v.id, { reason: '重复录入' }, 'supervisor');
    assert.equal(r.status, 200, r.text);
    const p = await recordOk({ plate: d.plate });
    sql(db, `UPDATE violations SET state = 'paid', paid_at = UTC_TIMESTAMP(3) WHERE id = ${p.id}`);
    const pr = await cancel(p.id, { reason: 'x' });
    assert.equal(pr.status, 409);
    assert.equal(pr.json.state, 'paid');
  });

  test('cancel needs a reason, an existing violation and a window or supervisor role', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate });
    let r = await cancel(v.id, {});
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'reason');
    r = await cancel(v.id, { reason: '  ' });
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'reason');
    r = await cancel(99999999, { reason: 'x' });
    assert.equal(r.status, 404);
    r = await cancel(v.id, { reason: 'x' }, 'auditor');
    assert.equal(r.status, 403);
    r = await request(`${server.httpsUrl}/v1/violations/${v.id}/cancel`, {
      method: 'POST', json: { reason: 'x' }, headers: { ...idem(), ...id.citizenHeaders(d.c) },
    });
    assert.equal(r.status, 403);
    assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${v.id}`)[0][0], 'recorded');
  });
});

describe('every handling records its tie (issue 10 item 12)', () => {
  test('the owner online: tie owner', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate, points: 3 });
    const r = await handleS(d.c, v.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.tie, 'owner');
    assert.deepEqual(handlingRow(v.id), {
      licence_id: d.licenceId, citizen_id: d.c.id, vehicle_id: d.vehicleId, owner_citizen_id: d.c.id, tie: 'owner',
      binding_id: null, documents: null, channel: 'app', operator_id: null, outlet_id: null, points: 3,
    });
    const [detail] = sql(db, `SELECT detail FROM audit_log WHERE action = 'violations.handle' AND target_id = ${q(v.id)}`)[0];
    assert.equal(JSON.parse(detail).tie, 'owner');
  });

  test('a driver the owner bound with consent: tie bound, with the binding', async () => {
    const o = await driver();
    const h = await driver();
    const bindingId = await bindS(h, o);
    const v = await recordOk({ plate: o.plate, points: 2 });
    const r = await handleS(h.c, v.id);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.tie, 'bound');
    assert.equal(licenceRow(h.licenceId).points, 2);
    assert.equal(licenceRow(o.licenceId).points, 0);
    assert.deepEqual(handlingRow(v.id), {
      licence_id: h.licenceId, citizen_id: h.c.id, vehicle_id: o.vehicleId, owner_citizen_id: o.c.id, tie: 'bound',
      binding_id: bindingId, documents: null, channel: 'app', operator_id: null, outlet_id: null, points: 2,
    });
  });

  test('a binding without consent, or withdrawn, is no tie', async () => {
    const o = await driver();
    const h = await driver();
    await bindS(h, o, false); // asked, never consented
    const v = await recordOk({ plate: o.plate, points: 2 });
    let r = await handleS(h.c, v.id);
    assert.equal(r.status, 404, r.text);
    r = await handleS(h.c, v.id, { decision_no: v.decision_no });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'no_tie_to_vehicle');
    const h2 = await driver();
    const b2 = await bindS(h2, o);
    const end = await request(`${server.httpsUrl}/v1/me/bindings/${b2}`, {
      method: 'DELETE', headers: { ...id.citizenHeaders(o.c), ...idem() },
    });
    assert.equal(end.status, 200, end.text);
    r = await handleS(h2.c, v.id, { decision_no: v.decision_no });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'no_tie_to_vehicle');
    assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${v.id}`)[0][0], 'recorded');
  });

  test('at a window the owner and a bound driver need no documents; documents given are kept', async () => {
    const o = await driver();
    const v1 = await recordOk({ plate: o.plate, points: 1 });
    let r = await windowHandleS(v1.id, o.licenceId);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.tie, 'owner');
    assert.equal(handlingRow(v1.id).tie, 'owner');
    assert.equal(handlingRow(v1.id).documents, null);
    const h = await driver();
    const bindingId = await bindS(h, o);
    const v2 = await recordOk({ plate: o.plate, points: 1 });
    r = await windowHandleS(v2.id, h.licenceId, ['decision']);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.tie, 'bound');
    const row = handlingRow(v2.id);
    assert.deepEqual([row.tie, row.binding_id, row.documents, row.channel], ['bound', bindingId, ['decision'], 'window']);
  });
});

describe('path and query ids', () => {
  // issue 11: ids are parsed one way (digits only); "+5" or " 5" once slipped through elsewhere
  test('a violation id with a sign, blank, letters or overflow is 404 not_found; leading zeros are the id', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate, points: 1 });
    const h = await id.operatorHeaders('window');
    for (const bad of [`+${v.id}`, `-${v.id}`, `%20${v.id}`, `${v.id}x`, '0', '99999999999999999999']) {
      let r = await request(`${server.httpsUrl}/v1/violations/${bad}/cancel`, {
        method: 'POST', json: { reason: 'test' }, headers: h,
      });
      assert.equal(r.status, 404, `${bad}: ${r.text}`);
      assert.equal(r.json.code, 'not_found');
      r = await handleS(d.c, bad);
      assert.equal(r.status, 404, `${bad}: ${r.text}`);
      assert.equal(r.json.code, 'not_found');
      r = await request(`${server.httpsUrl}/v1/violations/${bad}/handle-at-window`, {
        method: 'POST', json: { licence_id: d.licenceId }, headers: h,
      });
      assert.equal(r.status, 404, `${bad}: ${r.text}`);
    }
    assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${v.id}`)[0][0], 'recorded');
    const r = await handleS(d.c, `00${v.id}`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, v.id);
  });

  test('a searched licence_id is digits only: "+5" and "5.0" are refused', async () => {
    const h = await id.operatorHeaders('window');
    for (const bad of ['%2B5', '5.0', '-5', '0']) {
      const r = await request(`${server.httpsUrl}/v1/violations?licence_id=${bad}`, { headers: h });
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
      assert.equal(r.json.code, 'licence_id_invalid');
      assert.equal(r.json.field, 'licence_id');
    }
  });

  test('a window licence_id below 1 is licence_id_invalid', async () => {
    const d = await driver();
    const v = await recordOk({ plate: d.plate });
    const r = await windowHandle(v.id, 0);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.code, 'licence_id_invalid');
    assert.equal(r.json.field, 'licence_id');
  });
});
