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
  test('window and partner check-ins are counted with their outlet', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'dealer', id.outlets.dealer);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/trips`, undefined, idem());
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.trips, 1);
    assert.equal(r.json.outlet_id, id.outlets.windowA);
    r = await request(`${server.httpsUrl}/v1/cases/${c.number}/trips`, { method: 'POST', headers: idem(), ...id.partnerTls('post') });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.trips, 2);
    const rows = server.sql(`SELECT t.outlet_id FROM case_trips t JOIN cases c ON c.id = t.case_id WHERE c.number = '${c.number}' ORDER BY t.id`);
    assert.deepEqual(rows.map((x) => Number(x[0])), [id.outlets.windowA, id.outlets.post]);
    assert.equal(server.sql(`SELECT trips FROM cases WHERE number = '${c.number}'`)[0][0], '2');
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

  test('concurrent check-ins each report their own count', async () => {
    const c = fileCase('VEH-REG-NEW', id.citizens[0], 'window', id.outlets.windowA);
    const all = await Promise.all(Array.from({ length: 6 }, () => op('window', 'POST', `/v1/cases/${c.number}/trips`, undefined, idem())));
    for (const x of all) assert.equal(x.status, 201, x.text);
    assert.deepEqual(all.map((x) => x.json.trips).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
    assert.equal(server.sql(`SELECT trips FROM cases WHERE number = '${c.number}'`)[0][0], '6');
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

  test('a trip after completion updates that completion day in the figures', async () => {
    const day = '2021-04-06';
    const c = fileCase('VIO-HANDLE', id.citizens[0], 'window', id.outlets.windowA);
    let r = await op('window', 'POST', `/v1/cases/${c.number}/transitions`, { to: 'completed' });
    assert.equal(r.status, 200, r.text);
    server.sqlExec(`UPDATE cases SET completed_day = '${day}' WHERE number = '${c.number}'`);
    assert.equal(server.cli(['cases-rollup', day, day]).code, 0);
    const fig = async () => (await op('supervisor', 'GET', `/v1/figures?from=${day}&to=${day}`)).json.total;
    assert.equal((await fig()).zero_trip, 1);
    // documents collected at a window after completion: one physical visit
    r = await op('window', 'POST', `/v1/cases/${c.number}/trips`, undefined, idem());
    assert.equal(r.status, 201, r.text);
    assert.equal(server.cli(['job', 'run', 'cases_rollup']).code, 0);
    const t = await fig();
    assert.equal(t.completed, 1);
    assert.equal(t.zero_trip, 0);
    assert.equal(t.one_trip, 1);
  });
});

describe('closed cases and strict list parameters (review)', () => {
  test('supplying materials to a cancelled, rejected or completed case is 409 case_closed with its state', async () => {
    const missing = ['代理人授权委托书及身份证明'];
    for (const [to, extra] of [['cancelled', {}], ['rejected', { reason: '材料不实' }], ['completed', {}]]) {
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
