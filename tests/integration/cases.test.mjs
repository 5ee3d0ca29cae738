// Cases: filing (through the real cases_create via `onetripd cases-file`), the applicant's
// view, the public progress query, trips, transitions (normal, missing materials,
// commitment, rejection), time-limit and supply jobs, alerts per outlet, ratings and
// rectification tickets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, randomHex } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';

let server;
let id;

function fileCase(item, citizen, channel, outletId) {
  const args = ['cases-file', item, String(citizen.id), channel];
  if (outletId) args.push(String(outletId));
  const r = server.cli(args);
  assert.equal(r.code, 0, r.stderr);
  const [number, code] = r.stdout.trim().split(' ');
  return { number, code };
}

const url = (p) => `${server.httpsUrl}${p}`;
const idem = () => ({ 'Idempotency-Key': randomHex(8) });

async function op(role, method, path, json, extra = {}) {
  return request(url(path), { method, json, headers: { ...(await id.operatorHeaders(role)), ...extra } });
}

// Over HTTPS (plain HTTP is for health endpoints only).
const surl = (p) => `${server.httpsUrl}${p}`;
async function sop(role, method, path, json, extra = {}) {
  return request(surl(path), { method, json, headers: { ...(await id.operatorHeaders(role)), ...extra } });
}
/** POST /v1/cases/{n}/trips from an operator role or a partner type (`partner:post`). */
async function checkIn(who, number, json, headers = idem()) {
  const path = `/v1/cases/${number}/trips`;
  if (who.startsWith('partner:')) {
    return request(surl(path), { method: 'POST', json, headers, ...id.partnerTls(who.slice(8)) });
  }
  return sop(who, 'POST', path, json, headers);
}
const tripsOf = (number) => Number(server.sql(`SELECT trips FROM cases WHERE number = '${number}'`)[0][0]);
const refusedTrips = (number) => server.sql(`SELECT detail FROM audit_log WHERE action = 'cases.trip' ` +
  `AND outcome = 'refused' AND target_id = '${number}' ORDER BY seq`).map(([d]) => JSON.parse(d));

function today() {
  // Shanghai calendar day
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);
}

before(async () => {
  server = await startServer({ prefix: 'cases', overrides: { 'jobs.enabled': 0 } });
  id = await setupIdentity(server);
});

after(async () => {
  if (server) await server.stop();
});

describe('filing', () => {
  test('case number, query code, deadline and catalog version are set', () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    assert.match(c.number, /^C\d{15}$/);
    assert.equal(c.number.slice(1, 9), today().replace(/-/g, ''));
    assert.match(c.code, /^[A-HJ-NP-Z2-9]{8}$/);
    const [row] = server.sql(`SELECT c.state, c.promised_days, c.deadline > c.submitted_day, v.item_code, v.version, c.trips
      FROM cases c JOIN catalog_versions v ON v.id = c.catalog_version_id WHERE c.number = '${c.number}'`);
    assert.deepEqual(row, ['submitted', '1', '1', 'VEH-REG-NEW', '1', '0']);
  });

  test('unknown item and channel not offered are refused', () => {
    let r = server.cli(['cases-file', 'NO-SUCH', String(id.citizens[0].id), 'app']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown_item/);
    r = server.cli(['cases-file', 'VEH-SEIZE', String(id.citizens[0].id), 'app']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /channel_not_offered/);
  });
});

describe('applicant view and progress', () => {
  let c;
  before(() => { c = fileCase('DRV-RENEW', id.citizens[1], 'app'); });

  test('the applicant lists and reads their case', async () => {
    let r = await request(url('/v1/me/cases'), { headers: id.citizenHeaders(id.citizens[1]) });
    assert.equal(r.status, 200);
    assert.ok(r.json.items.some((x) => x.number === c.number));
    r = await request(url(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[1]) });
    assert.equal(r.status, 200);
    assert.equal(r.json.item.code, 'DRV-RENEW');
    assert.equal(r.json.query_code, c.code);
    assert.equal(r.json.state, 'submitted');
    assert.equal(r.json.history[0].kind, 'submitted');
  });

  test("another citizen's case answers 404", async () => {
    const r = await request(url(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[2]) });
    assert.equal(r.status, 404);
    const l = await request(url('/v1/me/cases'), { headers: id.citizenHeaders(id.citizens[2]) });
    assert.ok(!l.json.items.some((x) => x.number === c.number));
  });

  test('progress with the query code shows state and next step, no personal data', async () => {
    const r = await request(url(`/v1/cases/${c.number}/progress?code=${c.code}`));
    assert.equal(r.status, 200);
    assert.equal(r.json.state, 'submitted');
    assert.ok(r.json.next_step.code);
    const text = r.text;
    for (const secret of [id.citizens[1].name, id.citizens[1].idNumber, id.citizens[1].phone, c.code]) {
      assert.ok(!text.includes(secret), `progress leaks ${secret}`);
    }
    assert.equal(r.json.applicant_id, undefined);
  });

  test('progress with a wrong code or number answers 404', async () => {
    let r = await request(url(`/v1/cases/${c.number}/progress?code=AAAAAAAA`));
    assert.equal(r.status, 404);
    r = await request(url(`/v1/cases/${c.number}/progress`));
    assert.equal(r.status, 404);
    r = await request(url(`/v1/cases/C000000000000000/progress?code=${c.code}`));
    assert.equal(r.status, 404);
  });
});

describe('trips', () => {
  test('window and partner check-ins are counted at the outlet that serves the case only', async () => {
    // issue 10 item 1: a window and a post office used to add trips to a dealer's case
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'dealer', id.outlets.dealer);
    let r = await checkIn('window', c.number);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'other_outlet');
    r = await checkIn('partner:post', c.number);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'other_outlet');
    r = await checkIn('partner:dealer', c.number);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.trips, 1);
    assert.equal(r.json.outlet_id, id.outlets.dealer);
    assert.equal(r.json.counted, true);
    const w = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    r = await checkIn('window', w.number);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.outlet_id, id.outlets.windowA);
    const rows = server.sql(`SELECT t.outlet_id FROM case_trips t JOIN cases c ON c.id = t.case_id WHERE c.number IN ('${c.number}', '${w.number}') ORDER BY t.id`);
    assert.deepEqual(rows.map((x) => Number(x[0])), [id.outlets.dealer, id.outlets.windowA]);
    assert.equal(tripsOf(c.number), 1);
    assert.equal(tripsOf(w.number), 1);
  });

  test('a replayed check-in is counted once', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    const h = idem();
    const a = await op('window', 'POST', `/v1/cases/${c.number}/trips`, undefined, h);
    const b = await op('window', 'POST', `/v1/cases/${c.number}/trips`, undefined, h);
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(server.sql(`SELECT trips FROM cases WHERE number = '${c.number}'`)[0][0], '1');
  });

  test('check-in needs an Idempotency-Key, a known case and a check-in role', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/trips`);
    assert.equal(r.status, 400);
    r = await op('window', 'POST', '/v1/cases/C209901010000001/trips', undefined, idem());
    assert.equal(r.status, 404);
    r = await op('auditor', 'POST', `/v1/cases/${c.number}/trips`, undefined, idem());
    assert.equal(r.status, 403);
    r = await request(url(`/v1/cases/${c.number}/trips`), { method: 'POST', headers: { ...id.citizenHeaders(id.citizens[0]), ...idem() } });
    assert.equal(r.status, 403);
  });
});

describe('transitions', () => {
  test('normal path: accept, complete; history kept; bad moves 409', async () => {
    const c = fileCase('VEH-TRANSFER', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'accepted');
    assert.ok(r.json.accepted_at);
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200);
    assert.equal(r.json.state, 'completed');
    assert.equal(server.sql(`SELECT completed_day FROM cases WHERE number = '${c.number}'`)[0][0], today());
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted' });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'bad_transition');
    const h = await request(url(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[0]) });
    assert.deepEqual(h.json.history.filter((e) => e.kind === 'state').map((e) => e.to), ['accepted', 'completed']);
  });

  test('rejection needs a reason; unknown state 400; other outlet 403; supervisor may act', async () => {
    const c = fileCase('VEH-TRANSFER', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'rejected' });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'reason_required');
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'flying' });
    assert.equal(r.status, 400);
    r = await op('window2', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted' });
    assert.equal(r.status, 403);
    r = await op('supervisor', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'rejected', reason: '材料不实' });
    assert.equal(r.status, 200);
    assert.equal(r.json.state_reason, '材料不实');
  });

  test('acceptance with missing non-key materials and a commitment', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    // a key material cannot be missing
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing: ['购车发票'] });
    assert.equal(r.status, 422);
    assert.equal(r.json.code, 'key_material_missing');
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing: ['不存在的材料'] });
    assert.equal(r.status, 422);
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', commitment: ['购车发票'] });
    assert.equal(r.status, 422);
    assert.equal(r.json.code, 'commitment_not_allowed');
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, {
      to: 'accepted', missing: ['代理人授权委托书及身份证明'], commitment: ['交通事故责任强制保险凭证'],
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.missing_materials, ['代理人授权委托书及身份证明']);
    assert.deepEqual(r.json.commitment_materials, ['交通事故责任强制保险凭证']);
    assert.equal(r.json.supply_state, 'pending');
    assert.ok(r.json.supply_due > today());
    assert.equal(r.json.next_step.code, 'supply_materials');
    // supplying something not outstanding fails; supplying the missing one closes it
    r = await op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: ['购车发票'] });
    assert.equal(r.status, 422);
    r = await op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: ['代理人授权委托书及身份证明'] });
    assert.equal(r.status, 200);
    assert.equal(r.json.supply_state, 'supplied');
    r = await op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: ['代理人授权委托书及身份证明'] });
    assert.equal(r.status, 409);
  });

  test('items without commitment refuse it', async () => {
    const c = fileCase('VEH-CHANGE-COLOR', id.citizens[0], 'window', id.outlets.windowA);
    const r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', commitment: [VL] });
    assert.equal(r.status, 422);
  });
});
const VL = '机动车行驶证';

describe('jobs and alerts', () => {
  test('overdue (back-dated) and 80% cases raise alerts; only own outlet visible to a window', async () => {
    const a = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    const b = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowB);
    const w = fileCase('PMT-EVENT', id.citizens[0], 'window', id.outlets.windowA); // 7 working days
    server.sqlExec(`UPDATE cases SET submitted_day = '2020-01-06', deadline = '2020-01-07' WHERE number IN ('${a.number}', '${b.number}')`);
    // 6 of 7 working days used (86%): Monday 2020-01-06 -> today is set back so that elapsed is 6 working days
    server.sqlExec(`UPDATE cases SET submitted_day = DATE_SUB(CURDATE(), INTERVAL 14 DAY), deadline = DATE_ADD(CURDATE(), INTERVAL 3 DAY), promised_days = 12 WHERE number = '${w.number}'`);
    const r = server.cli(['job', 'run', 'cases_time_limits']);
    assert.equal(r.code, 0, r.stderr);
    const kinds = server.sql(`SELECT c.number, a.kind FROM case_alerts a JOIN cases c ON c.id = a.case_id`);
    const byNumber = Object.fromEntries(kinds.map(([n, k]) => [n, k]));
    assert.equal(byNumber[a.number], 'overdue');
    assert.equal(byNumber[b.number], 'overdue');
    assert.equal(byNumber[w.number], 'time_warning');
    assert.equal(server.sql(`SELECT overdue, warned FROM cases WHERE number = '${a.number}'`)[0].join(), '1,1');
    // idempotent
    assert.equal(server.cli(['job', 'run', 'cases_time_limits']).code, 0);
    assert.equal(server.sql(`SELECT COUNT(*) FROM case_alerts a JOIN cases c ON c.id = a.case_id WHERE c.number = '${a.number}'`)[0][0], '1');

    let v = await op('window', 'GET', '/v1/cases/alerts');
    assert.equal(v.status, 200);
    const seenA = v.json.items.map((x) => x.case_number);
    assert.ok(seenA.includes(a.number));
    assert.ok(!seenA.includes(b.number), 'window A must not see window B alerts');
    v = await op('window2', 'GET', '/v1/cases/alerts');
    assert.ok(v.json.items.map((x) => x.case_number).includes(b.number));
    assert.ok(!v.json.items.map((x) => x.case_number).includes(a.number));
    v = await op('supervisor', 'GET', '/v1/cases/alerts');
    const all = v.json.items.map((x) => x.case_number);
    assert.ok(all.includes(a.number) && all.includes(b.number));
    v = await request(url('/v1/cases/alerts'), { headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(v.status, 403);
  });

  test('supply job reminds, then escalates', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing: ['代理人授权委托书及身份证明'] });
    assert.equal(r.status, 200);
    server.sqlExec(`UPDATE cases SET supply_due = CURDATE() WHERE number = '${c.number}'`);
    assert.equal(server.cli(['job', 'run', 'cases_supply']).code, 0);
    assert.equal(server.sql(`SELECT supply_state FROM cases WHERE number = '${c.number}'`)[0][0], 'reminded');
    r = await request(url(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[0]) });
    assert.ok(r.json.history.some((e) => e.kind === 'supply_reminder'));
    server.sqlExec(`UPDATE cases SET supply_due = '2020-01-06' WHERE number = '${c.number}'`);
    assert.equal(server.cli(['job', 'run', 'cases_supply']).code, 0);
    assert.equal(server.sql(`SELECT supply_state FROM cases WHERE number = '${c.number}'`)[0][0], 'escalated');
    const kinds = server.sql(`SELECT a.kind FROM case_alerts a JOIN cases c ON c.id = a.case_id WHERE c.number = '${c.number}' `).map((x) => x[0]).sort();
    assert.deepEqual(kinds, ['supply_escalated', 'supply_reminder']);
  });
});

describe('ratings and rectification', () => {
  async function completed(citizen) {
    const c = fileCase('VIO-HANDLE', citizen, 'app');
    const r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    return c;
  }
  const rate = (citizen, number, json, headers = idem()) => request(url(`/v1/cases/${number}/rating`), {
    method: 'POST', json, headers: { ...id.citizenHeaders(citizen), ...headers },
  });

  test('rated from any channel: at the window or partner outlet that handled it, once', async () => {
    // a window case of outlet windowA, completed there
    const w = fileCase('VIO-HANDLE', id.citizens[2], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${w.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    // a window clerk of another outlet may not
    r = await op('window2', 'POST', `/v1/cases/${w.number}/rating`, { score: 4 }, idem());
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'not_your_outlet');
    // the outlet's own terminal submits the applicant's score
    r = await op('window', 'POST', `/v1/cases/${w.number}/rating`, { score: 2, comment: '排队太久' }, idem());
    assert.equal(r.status, 201, r.text);
    assert.ok(r.json.rectification, 'a low score opens a rectification ticket');
    const [row] = server.sql(`SELECT channel, assisted_kind, applicant_id FROM case_ratings WHERE case_id = ` +
      `(SELECT id FROM cases WHERE number = '${w.number}')`);
    assert.deepEqual(row, ['window', 'operator', String(id.citizens[2].id)]);
    // still once per case, whichever channel comes second
    r = await rate(id.citizens[2], w.number, { score: 5 });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'already_rated');
    // an online case has no outlet: staff cannot rate it
    const online = await completed(id.citizens[2]);
    r = await op('window', 'POST', `/v1/cases/${online.number}/rating`, { score: 5 }, idem());
    assert.equal(r.status, 403);
    // a post-office terminal rates a case handled at the post office
    const p = fileCase('VIO-HANDLE', id.citizens[3], 'post', id.outlets.post);
    r = await op('supervisor', 'POST', `/v1/cases/${p.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    r = await request(`${server.httpsUrl}/v1/cases/${p.number}/rating`, {
      method: 'POST', json: { score: 5 }, headers: idem(), ...id.partnerTls('post'),
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(server.sql(`SELECT channel FROM case_ratings WHERE case_id = (SELECT id FROM cases WHERE number = '${p.number}')`)[0][0], 'post');
    // another partner type's terminal elsewhere may not
    r = await request(`${server.httpsUrl}/v1/cases/${w.number}/rating`, {
      method: 'POST', json: { score: 5 }, headers: idem(), ...id.partnerTls('hospital'),
    });
    assert.equal(r.status, 403);
  });

  test('one rating per completed case; not before completion; not by others', async () => {
    const open = fileCase('VIO-HANDLE', id.citizens[0], 'app');
    let r = await rate(id.citizens[0], open.number, { score: 5 });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'case_not_completed');
    const c = await completed(id.citizens[0]);
    r = await rate(id.citizens[1], c.number, { score: 5 });
    assert.equal(r.status, 404);
    r = await rate(id.citizens[0], c.number, { score: 6 });
    assert.equal(r.status, 400);
    r = await rate(id.citizens[0], c.number, { score: 5, comment: '很方便' });
    assert.equal(r.status, 201);
    assert.equal(r.json.rectification, null);
    r = await rate(id.citizens[0], c.number, { score: 4 });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'already_rated');
    r = await request(url(`/v1/cases/${c.number}/rating`), { method: 'POST', json: { score: 3 }, headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(r.status, 400); // Idempotency-Key required
  });

  test('a rating of 1 opens a ticket; the supervisor answers; the applicant sees it', async () => {
    const c = await completed(id.citizens[3]);
    let r = await rate(id.citizens[3], c.number, { score: 1, comment: '等了很久' });
    assert.equal(r.status, 201);
    const ticket = r.json.rectification.id;
    assert.ok(ticket > 0);
    r = await op('supervisor', 'GET', '/v1/rectifications?state=open');
    assert.ok(r.json.items.some((t) => t.id === ticket && t.case_number === c.number));
    r = await op('window', 'POST', `/v1/rectifications/${ticket}/answer`, { answer: 'x' });
    assert.equal(r.status, 403);
    r = await op('supervisor', 'POST', `/v1/rectifications/${ticket}/answer`, { answer: '已约谈窗口并优化排队流程' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'answered');
    r = await op('supervisor', 'POST', `/v1/rectifications/${ticket}/answer`, { answer: 'again' });
    assert.equal(r.status, 409);
    r = await op('supervisor', 'POST', '/v1/rectifications/999999/answer', { answer: 'x' });
    assert.equal(r.status, 404);
    r = await request(url(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[3]) });
    assert.equal(r.json.rating.score, 1);
    assert.equal(r.json.rectification.state, 'answered');
    assert.equal(r.json.rectification.answer, '已约谈窗口并优化排队流程');
  });

  test('an unanswered ticket past its time raises an alert', async () => {
    const c = await completed(id.citizens[2]);
    const r = await rate(id.citizens[2], c.number, { score: 2 });
    assert.equal(r.status, 201);
    server.sqlExec(`UPDATE rectifications SET due_at = '2020-01-01 00:00:00' WHERE id = ${r.json.rectification.id}`);
    assert.equal(server.cli(['job', 'run', 'cases_time_limits']).code, 0);
    const k = server.sql(`SELECT a.kind FROM case_alerts a JOIN cases c ON c.id = a.case_id WHERE c.number = '${c.number}'`);
    assert.deepEqual(k, [['rectification_overdue']]);
  });
});

describe('concurrency and late trips (review)', () => {
  test('concurrent supplements of different materials lose none of them', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    const missing = ['车辆购置税完税证明或免税凭证', '交通事故责任强制保险凭证', '代理人授权委托书及身份证明'];
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing });
    assert.equal(r.status, 200, r.text);
    const all = await Promise.all(missing.map((m) => op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: [m] })));
    for (const x of all) assert.equal(x.status, 200, x.text);
    const [row] = server.sql(`SELECT missing_materials, supply_state FROM cases WHERE number = '${c.number}'`);
    assert.deepEqual(JSON.parse(row[0]), []);
    assert.equal(row[1], 'supplied');
  });

  test('concurrent check-ins of one visit count one trip (issue 10 item 1)', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    const all = await Promise.all(Array.from({ length: 6 }, () => checkIn('window', c.number)));
    const counted = all.filter((x) => x.status === 201);
    assert.equal(counted.length, 1, all.map((x) => `${x.status} ${x.text}`).join('\n'));
    for (const x of all) {
      assert.ok(x.status === 201 || x.status === 200, x.text);
      assert.equal(x.json.trips, 1);
      assert.equal(x.json.counted, x.status === 201);
    }
    assert.equal(tripsOf(c.number), 1);
    assert.equal(server.sql(`SELECT COUNT(*) FROM case_trips t JOIN cases c ON c.id = t.case_id WHERE c.number = '${c.number}'`)[0][0], '1');
  });

  test('concurrent ratings of one case: one 201, the others 409 (never 500)', async () => {
    const who = await id.addCitizen({ name: '并发评价' });
    const c = fileCase('VIO-HANDLE', who, 'app');
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => request(url(`/v1/cases/${c.number}/rating`), {
      method: 'POST', json: { score: 1 + (i % 5) }, headers: { ...id.citizenHeaders(who), ...idem() },
    })));
    const statuses = all.map((x) => x.status).sort();
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(all.map((x) => x.json)));
    assert.ok(statuses.every((s) => s === 201 || s === 409), String(statuses));
    assert.ok(all.filter((x) => x.status === 409).every((x) => x.json.code === 'already_rated'));
  });

  test('a trip after completion is refused and the completion day keeps its figures (issue 10 item 1)', async () => {
    const day = '2021-04-06';
    const c = fileCase('VIO-HANDLE', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    server.sqlExec(`UPDATE cases SET completed_day = '${day}' WHERE number = '${c.number}'`);
    assert.equal(server.cli(['cases-rollup', day, day]).code, 0);
    const fig = async () => (await sop('supervisor', 'GET', `/v1/figures?from=${day}&to=${day}`)).json.total;
    assert.equal((await fig()).zero_trip, 1);
    // even the outlet that served it adds nothing once the case is closed
    r = await checkIn('window', c.number);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'case_closed');
    assert.equal(r.json.state, 'completed');
    assert.equal(server.cli(['job', 'run', 'cases_rollup']).code, 0);
    const t = await fig();
    assert.equal(t.completed, 1);
    assert.equal(t.zero_trip, 1);
    assert.equal(tripsOf(c.number), 0);
  });
});

describe('closed cases and strict list parameters (review)', () => {
  test('supplying materials to a cancelled, rejected or completed case is 409 case_closed with its state', async () => {
    const missing = ['代理人授权委托书及身份证明'];
    for (const [to, extra] of [['cancelled', {}], ['rejected', { reason: '材料不实' }]]) {
      const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
      let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing });
      assert.equal(r.status, 200, r.text);
      r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to, ...extra });
      assert.equal(r.status, 200, `${to}: ${r.text}`);
      const events = server.sql(`SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = '${c.number}'`)[0][0];
      r = await op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: missing });
      assert.equal(r.status, 409, `${to}: ${r.text}`);
      assert.equal(r.json.code, 'case_closed');
      assert.equal(r.json.state, to);
      const [row] = server.sql(`SELECT missing_materials, supply_state FROM cases WHERE number = '${c.number}'`);
      assert.deepEqual(JSON.parse(row[0]), missing, to);
      assert.equal(row[1], 'pending', to);
      assert.equal(server.sql(`SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.number = '${c.number}'`)[0][0], events);
    }
    {
      // a completed case: completion needs the missing material committed to (issue 10 item 13)
      const committable = ['交通事故责任强制保险凭证'];
      const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
      let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing: committable });
      assert.equal(r.status, 200, r.text);
      r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', commitment: committable });
      assert.equal(r.status, 200, r.text);
      r = await op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: committable });
      assert.equal(r.status, 409, r.text);
      assert.equal(r.json.code, 'case_closed');
      assert.equal(r.json.state, 'completed');
    }
    // an open case still takes them
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing });
    assert.equal(r.status, 200, r.text);
    r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'in_progress' });
    assert.equal(r.status, 200, r.text);
    r = await op('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: missing });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.supply_state, 'supplied');
  });

  test('/v1/me/cases refuses malformed or out-of-range limit and before with 400 naming the parameter', async () => {
    const get = (q) => request(url(`/v1/me/cases?${q}`), { headers: id.citizenHeaders(id.citizens[1]) });
    for (const q of ['limit=10abc', 'limit=abc', 'limit=', 'limit=0', 'limit=101', 'limit=-1', 'limit=+5', 'limit=%2010', 'limit=1e1', 'limit=99999999999999999999']) {
      const r = await get(q);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.code, 'bad_limit', q);
      assert.equal(r.json.field, 'limit', q);
    }
    for (const q of ['before=10abc', 'before=abc', 'before=', 'before=0', 'before=-5', 'before=12.5', 'before=99999999999999999999']) {
      const r = await get(q);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.code, 'bad_cursor', q);
      assert.equal(r.json.field, 'before', q);
    }
    // well-formed values page through the citizen's cases
    fileCase('DRV-RENEW', id.citizens[1], 'app');
    fileCase('DRV-RENEW', id.citizens[1], 'app');
    let r = await get('limit=1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 1);
    assert.ok(Number.isInteger(r.json.next_before));
    const first = r.json.items[0].number;
    r = await get(`limit=100&before=${r.json.next_before}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length >= 1);
    assert.ok(!r.json.items.some((x) => x.number === first));
  });

  test('/v1/cases/alerts refuses malformed or out-of-range limit and before with 400 naming the parameter', async () => {
    const get = async (q) => op('supervisor', 'GET', `/v1/cases/alerts?${q}`);
    for (const q of ['limit=10abc', 'limit=0', 'limit=101', 'limit=']) {
      const r = await get(q);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.code, 'bad_limit', q);
      assert.equal(r.json.field, 'limit', q);
    }
    for (const q of ['before=10abc', 'before=0x10', 'before=0', 'before=-1', 'before=']) {
      const r = await get(q);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      assert.equal(r.json.code, 'bad_cursor', q);
      assert.equal(r.json.field, 'before', q);
    }
    // the alerts of the earlier test page with limit and next_before
    let r = await get('limit=1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 1);
    assert.equal(r.json.next_before, r.json.items[0].id);
    const cursor = r.json.next_before;
    r = await get(`before=${cursor}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length >= 1);
    assert.ok(r.json.items.every((x) => x.id < cursor), JSON.stringify(r.json.items.map((x) => x.id)));
    assert.equal(r.json.next_before, null);
  });
});

describe('trips cannot be forged (issue 10 item 1)', () => {
  test('another outlet, a partner elsewhere and a station are refused with 403, audited', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    for (const who of ['window2', 'inspector', 'partner:post', 'partner:hospital', 'partner:dealer']) {
      const r = await checkIn(who, c.number);
      assert.equal(r.status, 403, `${who}: ${r.text}`);
      assert.equal(r.json.code, 'other_outlet', who);
      assert.match(r.headers['content-type'], /^application\/problem\+json/);
    }
    assert.equal(tripsOf(c.number), 0);
    const audited = refusedTrips(c.number);
    assert.equal(audited.length, 5);
    assert.ok(audited.every((d) => d.reason === 'other_outlet'));
    assert.deepEqual(audited.map((d) => d.outlet_id).sort(), [id.outlets.windowB, id.outlets.station, id.outlets.post,
      id.outlets.hospital, id.outlets.dealer].sort());
  });

  test('a completed, cancelled or rejected case takes no trip: 409 case_closed, audited', async () => {
    for (const [to, extra] of [['completed', {}], ['cancelled', {}], ['rejected', { reason: '材料不实' }]]) {
      const c = fileCase('VEH-TRANSFER', id.citizens[1], 'window', id.outlets.windowA);
      let r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to, ...extra });
      assert.equal(r.status, 200, r.text);
      r = await checkIn('window', c.number);
      assert.equal(r.status, 409, `${to}: ${r.text}`);
      assert.equal(r.json.code, 'case_closed');
      assert.equal(r.json.state, to);
      assert.equal(tripsOf(c.number), 0, to);
      assert.deepEqual(refusedTrips(c.number).map((d) => d.reason), ['case_closed'], to);
    }
  });

  test('an online-only business never takes a trip, even with the query code', async () => {
    const c = fileCase('DRV-EXAM-BOOK', id.citizens[1], 'app'); // offered in the app only
    for (const who of ['window', 'partner:post']) {
      const r = await checkIn(who, c.number, { query_code: c.code });
      assert.equal(r.status, 409, `${who}: ${r.text}`);
      assert.equal(r.json.code, 'online_only');
    }
    assert.equal(tripsOf(c.number), 0);
    assert.equal(server.sql(`SELECT outlet_id FROM cases WHERE number = '${c.number}'`)[0][0], null);
    assert.equal(refusedTrips(c.number).length, 2);
  });

  test('a completed online case cannot be given trips by every outlet in turn; its figures stay zero-trip', async () => {
    // the reported attack: one online case got 14 trips from 13 outlets
    const c = fileCase('VIO-HANDLE', id.citizens[2], 'app');
    let r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    const before = (await sop('supervisor', 'GET', `/v1/figures?from=${today()}&to=${today()}`)).json.total;
    const callers = ['window', 'window2', 'supervisor', 'inspector',
      'partner:post', 'partner:insurer', 'partner:hospital', 'partner:court', 'partner:dealer', 'partner:station'];
    for (const who of callers) {
      for (const json of [undefined, { query_code: c.code }]) {
        r = await checkIn(who, c.number, json);
        assert.ok(r.status === 403 || r.status === 409, `${who}: ${r.status} ${r.text}`);
      }
    }
    assert.equal(tripsOf(c.number), 0);
    assert.equal(server.sql(`SELECT COUNT(*) FROM case_trips t JOIN cases c ON c.id = t.case_id WHERE c.number = '${c.number}'`)[0][0], '0');
    const after = (await sop('supervisor', 'GET', `/v1/figures?from=${today()}&to=${today()}`)).json.total;
    assert.equal(after.zero_trip, before.zero_trip);
    assert.equal(after.one_trip, before.one_trip);
    assert.equal(refusedTrips(c.number).length, callers.length * 2);
  });

  test('the first visit of an online case needs the applicant\'s query code and assigns the outlet', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[3], 'app'); // needs one visit, no outlet yet
    let r = await checkIn('window', c.number);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'query_code_required');
    r = await checkIn('window', c.number, { query_code: c.code === 'AAAAAAAA' ? 'BBBBBBBB' : 'AAAAAAAA' });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'query_code_mismatch');
    // a hospital does not offer vehicle registration
    r = await checkIn('partner:hospital', c.number, { query_code: c.code });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'channel_not_offered');
    assert.equal(tripsOf(c.number), 0);
    assert.equal(server.sql(`SELECT outlet_id FROM cases WHERE number = '${c.number}'`)[0][0], null);
    // the applicant shows the code at window A: one trip, and window A serves the case from now on
    r = await checkIn('window', c.number, { query_code: c.code });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual({ trips: r.json.trips, outlet_id: r.json.outlet_id, counted: r.json.counted, visit_day: r.json.visit_day },
      { trips: 1, outlet_id: id.outlets.windowA, counted: true, visit_day: today() });
    r = await request(surl(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[3]) });
    assert.equal(r.json.outlet_id, id.outlets.windowA);
    assert.ok(r.json.history.some((e) => e.kind === 'outlet_assigned'));
    assert.deepEqual(r.json.visits.map((v) => v.outlet_id), [id.outlets.windowA]);
    // the code does not open the case to another outlet afterwards
    r = await checkIn('window2', c.number, { query_code: c.code });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'other_outlet');
    r = await checkIn('partner:dealer', c.number, { query_code: c.code });
    assert.equal(r.status, 403, r.text);
    assert.equal(tripsOf(c.number), 1);
    // the code never reaches the audit trail
    const trail = server.sql(`SELECT detail FROM audit_log WHERE target_id = '${c.number}'`).map(([d]) => d).join('\n');
    assert.ok(!trail.includes(c.code), 'query code in the audit trail');
  });

  test('once per visit: the same day at the same outlet is one trip; another day is another trip', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    let r = await checkIn('window', c.number);
    assert.equal(r.status, 201, r.text);
    // another terminal of the same outlet, a new key: the same visit, answered and not counted
    r = await checkIn('window', c.number);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.counted, false);
    assert.equal(r.json.trips, 1);
    assert.equal(tripsOf(c.number), 1);
    // the applicant came back on another day: that visit counts
    server.sqlExec(`UPDATE case_trips SET visit_day = DATE_SUB(visit_day, INTERVAL 1 DAY) ` +
      `WHERE case_id = (SELECT id FROM cases WHERE number = '${c.number}')`);
    r = await checkIn('window', c.number);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.trips, 2);
    assert.equal(tripsOf(c.number), 2);
    const audited = server.sql(`SELECT outcome, detail FROM audit_log WHERE action = 'cases.trip' AND target_id = '${c.number}' ORDER BY seq`);
    assert.deepEqual(audited.map(([o, d]) => [o, JSON.parse(d).counted]), [['ok', true], ['ok', false], ['ok', true]]);
  });

  test('the check-in body is optional, and when sent it is checked', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    let r = await checkIn('window', c.number, { query_code: c.code, outlet_id: 9 });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.field, 'outlet_id');
    r = await checkIn('window', c.number, { query_code: 7 });
    assert.equal(r.status, 400, r.text);
    r = await request(surl(`/v1/cases/${c.number}/trips`), {
      method: 'POST', body: 'query_code=x', headers: { 'Content-Type': 'text/plain', ...idem(), ...(await id.operatorHeaders('window')) },
    });
    assert.equal(r.status, 415, r.text);
    r = await request(surl(`/v1/cases/${c.number}/trips`), {
      method: 'POST', body: '[1]', headers: { 'Content-Type': 'application/json', ...idem(), ...(await id.operatorHeaders('window')) },
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(tripsOf(c.number), 0);
    // the serving outlet may send the code too
    r = await checkIn('window', c.number, { query_code: c.code });
    assert.equal(r.status, 201, r.text);
  });
});

describe('completion and next steps (issue 10 item 13)', () => {
  async function accepted(item, missing, citizen = id.citizens[1]) {
    const c = fileCase(item, citizen, 'window', id.outlets.windowA);
    const r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'accepted', missing });
    assert.equal(r.status, 200, r.text);
    return c;
  }
  const caseRow = (number) => {
    const [row] = server.sql(`SELECT state, missing_materials, supply_state, commitment_materials FROM cases WHERE number = '${number}'`);
    return { state: row[0], missing: JSON.parse(row[1] ?? '[]'), supply: row[2], commitment: JSON.parse(row[3] ?? '[]') };
  };

  test('completion with materials missing is 409 with the list; supplied, the case completes', async () => {
    const missing = ['代理人授权委托书及身份证明', '交通事故责任强制保险凭证'];
    const c = await accepted('VEH-REG-NEW', missing);
    let r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'materials_missing');
    assert.deepEqual(r.json.missing, missing);
    // only the insurance proof may be replaced by a commitment
    assert.deepEqual(r.json.commitment_possible, ['交通事故责任强制保险凭证']);
    assert.deepEqual(caseRow(c.number), { state: 'accepted', missing, supply: 'pending', commitment: [] });
    // a supervisor cannot force it either
    r = await sop('supervisor', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 409, r.text);
    // still open: the materials can be supplied, then it completes
    r = await sop('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: missing });
    assert.equal(r.status, 200, r.text);
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'completed');
    assert.equal(r.json.supply_state, 'supplied');
  });

  test('a commitment recorded at completion replaces what the item allows, and only that', async () => {
    const c = await accepted('VEH-REG-NEW', ['代理人授权委托书及身份证明', '交通事故责任强制保险凭证']);
    // this material cannot be replaced by a commitment
    let r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, {
      to: 'completed', commitment: ['代理人授权委托书及身份证明', '交通事故责任强制保险凭证'],
    });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.code, 'commitment_not_allowed');
    // a commitment for part of them leaves the rest missing: refused, nothing recorded
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', commitment: ['交通事故责任强制保险凭证'] });
    assert.equal(r.status, 409, r.text);
    assert.deepEqual(r.json.missing, ['代理人授权委托书及身份证明']);
    assert.equal(caseRow(c.number).supply, 'pending');
    assert.deepEqual(caseRow(c.number).commitment, []);
    // a material that is not missing cannot be committed to
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', commitment: ['车辆购置税完税证明或免税凭证'] });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.code, 'not_missing');
    r = await sop('window', 'POST', `/v1/cases/${c.number}/supplements`, { materials: ['代理人授权委托书及身份证明'] });
    assert.equal(r.status, 200, r.text);
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', commitment: ['交通事故责任强制保险凭证'] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'completed');
    assert.equal(r.json.supply_state, 'committed');
    assert.deepEqual(r.json.missing_materials, []);
    assert.deepEqual(r.json.commitment_materials, ['交通事故责任强制保险凭证']);
    assert.deepEqual(caseRow(c.number), { state: 'completed', missing: [], supply: 'committed', commitment: ['交通事故责任强制保险凭证'] });
    const h = await request(surl(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(id.citizens[1]) });
    assert.ok(h.json.history.some((e) => e.kind === 'committed'));
    const [detail] = server.sql(`SELECT detail FROM audit_log WHERE action = 'cases.transition' AND target_id = '${c.number}' ORDER BY seq DESC LIMIT 1`)[0];
    assert.equal(JSON.parse(detail).committed, true);
  });

  test('an item without commitment completes only once everything is supplied', async () => {
    const c = await accepted('VEH-TRANSFER-OUT', ['机动车行驶证']); // allow_commitment = 0
    let r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'materials_missing');
    assert.deepEqual(r.json.commitment_possible, []);
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', commitment: ['机动车行驶证'] });
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.code, 'commitment_not_allowed');
    assert.equal(caseRow(c.number).state, 'accepted');
  });

  test('a commitment needs something missing and goes with acceptance or completion only', async () => {
    const c = await accepted('VEH-REG-NEW', undefined);
    let r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', commitment: ['交通事故责任强制保险凭证'] });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'nothing_missing');
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'in_progress', commitment: ['交通事故责任强制保险凭证'] });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.code, 'materials_only_on_accept');
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed', missing: ['交通事故责任强制保险凭证'] });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.code, 'materials_only_on_accept');
    r = await sop('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
  });

  test('closed cases are never reminded or escalated for materials', async () => {
    const missing = ['代理人授权委托书及身份证明'];
    const x = await accepted('VEH-REG-NEW', missing);
    const r = await sop('window', 'POST', `/v1/cases/${x.number}/transitions`, { to: 'cancelled' });
    assert.equal(r.status, 200, r.text);
    const open = await accepted('VEH-REG-NEW', missing);
    server.sqlExec(`UPDATE cases SET supply_due = '2020-01-06' WHERE number IN ('${x.number}', '${open.number}')`);
    assert.equal(server.cli(['job', 'run', 'cases_supply']).code, 0);
    assert.equal(caseRow(x.number).supply, 'pending');
    assert.equal(caseRow(open.number).supply, 'escalated');
    const alerts = (n) => server.sql(`SELECT COUNT(*) FROM case_alerts a JOIN cases c ON c.id = a.case_id WHERE c.number = '${n}'`)[0][0];
    assert.equal(alerts(x.number), '0');
    assert.equal(alerts(open.number), '1');
  });

  test('next_step is true in every state, and no longer says rate after the rating', async () => {
    const who = id.citizens[2];
    const next = async (c) => {
      const a = await request(surl(`/v1/cases/${c.number}`), { headers: id.citizenHeaders(who) });
      const b = await request(surl(`/v1/cases/${c.number}/progress?code=${c.code}`));
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(b.json.next_step, a.json.next_step, 'progress and case agree');
      const l = await request(surl('/v1/me/cases?limit=100'), { headers: id.citizenHeaders(who) });
      assert.deepEqual(l.json.items.find((i) => i.number === c.number).next_step, a.json.next_step, 'list agrees');
      return a.json.next_step.code;
    };
    // an online registration: one visit due, even once accepted
    const reg = fileCase('VEH-REG-NEW', who, 'app');
    assert.equal(await next(reg), 'visit_once');
    let r = await sop('window', 'POST', `/v1/cases/${reg.number}/transitions`, { to: 'accepted', missing: ['代理人授权委托书及身份证明'] });
    assert.equal(r.status, 200, r.text);
    assert.equal(await next(reg), 'supply_materials');
    r = await sop('window', 'POST', `/v1/cases/${reg.number}/supplements`, { materials: ['代理人授权委托书及身份证明'] });
    assert.equal(r.status, 200, r.text);
    assert.equal(await next(reg), 'visit_once');
    r = await checkIn('window', reg.number, { query_code: reg.code });
    assert.equal(r.status, 201, r.text);
    assert.equal(await next(reg), 'await_completion');
    r = await sop('window', 'POST', `/v1/cases/${reg.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    assert.equal(await next(reg), 'rate');
    r = await request(surl(`/v1/cases/${reg.number}/rating`), { method: 'POST', json: { score: 5 }, headers: { ...id.citizenHeaders(who), ...idem() } });
    assert.equal(r.status, 201, r.text);
    assert.equal(await next(reg), 'done');
    // submitted without a visit due, rejected, cancelled
    const renew = fileCase('DRV-RENEW', who, 'app');
    assert.equal(await next(renew), 'await_acceptance');
    r = await sop('window', 'POST', `/v1/cases/${renew.number}/transitions`, { to: 'rejected', reason: '照片不合格' });
    assert.equal(r.status, 200, r.text);
    assert.equal(await next(renew), 'see_reason');
    const gone = fileCase('DRV-RENEW', who, 'app');
    r = await sop('window', 'POST', `/v1/cases/${gone.number}/transitions`, { to: 'cancelled' });
    assert.equal(r.status, 200, r.text);
    assert.equal(await next(gone), 'none');
  });
});
