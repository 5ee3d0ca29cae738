// Vehicle bindings over HTTP: a citizen asks to handle the violations of a vehicle owned by
// someone else, the owner consents (or refuses) and may withdraw at any time; at most three
// active bindings per holder, race-safe.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, sql, randomHex } from './lib/harness.mjs';
import { setupIdentity, randomPlate } from './lib/identity.mjs';
import { ensureHandlingItem, assertProblem } from './lib/fixtures.mjs';

let server;
let id;
let db;

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const idem = () => ({ 'Idempotency-Key': `k-${randomHex(12)}` });

function shanghaiDay(n = 0) {
  return new Date(Date.now() + 8 * 3600 * 1000 + n * 86400e3).toISOString().slice(0, 10);
}

async function ask(holder, plate, headers = idem()) {
  return request(`${server.httpsUrl}/v1/me/bindings`, {
    method: 'POST', json: { plate }, headers: { ...id.citizenHeaders(holder), ...headers },
  });
}
async function consent(owner, bindingId, headers = idem()) {
  return request(`${server.httpsUrl}/v1/me/binding-requests/${bindingId}/consent`, {
    method: 'POST', headers: { ...id.citizenHeaders(owner), ...headers },
  });
}
async function end(who, bindingId, headers = idem()) {
  return request(`${server.httpsUrl}/v1/me/bindings/${bindingId}`, {
    method: 'DELETE', headers: { ...id.citizenHeaders(who), ...headers },
  });
}
async function list(who, path) {
  const r = await request(`${server.httpsUrl}${path}`, { headers: id.citizenHeaders(who) });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

/** An owner with a car. */
async function owner() {
  const c = await id.addCitizen();
  const plate = randomPlate();
  const vehicleId = await id.addVehicle(c, { plate });
  return { c, plate, vehicleId };
}

async function holder() {
  const c = await id.addCitizen();
  const licenceId = await id.addLicence(c, {});
  return { c, licenceId };
}

/** Holder asks, owner consents: an active binding. */
async function bind(h, o) {
  const a = await ask(h.c, o.plate);
  assert.equal(a.status, 201, a.text);
  const k = await consent(o.c, a.json.id);
  assert.equal(k.status, 200, k.text);
  return a.json.id;
}

function addViolation(plate, vehicleId, points = 2) {
  const dec = `JD-${randomHex(6).toUpperCase()}`;
  sql(db, 'INSERT INTO violations (decision_no, plate, vehicle_type, vehicle_id, occurred_at, place, code, description, ' +
    'fine_fen, points, agency, source, served_date, state, created_at) VALUES ' +
    `(${q(dec)}, ${q(plate)}, 'K33', ${vehicleId}, UTC_TIMESTAMP(3) - INTERVAL 2 DAY, '杭州', '1625', '闯红灯', ` +
    `10000, ${points}, 'traffic', 'camera', ${q(shanghaiDay(-1))}, 'recorded', UTC_TIMESTAMP(3))`);
  return Number(sql(db, `SELECT id FROM violations WHERE decision_no = ${q(dec)}`)[0][0]);
}

async function handle(citizen, vid) {
  return request(`${server.httpsUrl}/v1/violations/${vid}/handle`, {
    method: 'POST', json: {}, headers: { ...id.citizenHeaders(citizen), ...idem() },
  });
}

function state(bindingId) {
  return sql(db, `SELECT state FROM violation_bindings WHERE id = ${Number(bindingId)}`)[0][0];
}

before(async () => {
  server = await startServer({ prefix: 'vio_bind' });
  db = server.db.name;
  id = await setupIdentity(server, { partners: [] });
  ensureHandlingItem(db);
});

after(async () => {
  if (server) await server.stop();
});

describe('binding with consent', () => {
  test('request, owner sees it masked, consent, then the holder sees and handles the violations', async () => {
    const o = await owner();
    const h = await holder();
    const vid = addViolation(o.plate, o.vehicleId, 3);

    const a = await ask(h.c, `${o.plate.slice(0, 2)}·${o.plate.slice(2)}`);
    assert.equal(a.status, 201, a.text);
    assert.equal(a.json.state, 'pending');
    assert.equal(a.json.plate, o.plate);
    assert.equal(sql(db, `SELECT holder_citizen_id, owner_citizen_id, vehicle_id FROM violation_bindings WHERE id = ${a.json.id}`)[0].join(','),
      `${h.c.id},${o.c.id},${o.vehicleId}`);

    const reqs = await list(o.c, '/v1/me/binding-requests');
    const mine = reqs.items.find((x) => x.id === a.json.id);
    assert.ok(mine, 'owner sees the request');
    assert.equal(mine.state, 'pending');
    assert.notEqual(mine.holder.name, h.c.name, 'holder name is masked');
    assert.ok(mine.holder.name.startsWith(h.c.name[0]));

    // pending: nothing visible or handleable yet
    assert.equal((await list(h.c, '/v1/me/violations')).items.find((x) => x.id === vid), undefined);
    assert.equal((await handle(h.c, vid)).status, 404);

    const k = await consent(o.c, a.json.id);
    assert.equal(k.status, 200, k.text);
    assert.equal(k.json.state, 'active');
    assert.equal(state(a.json.id), 'active');

    const held = await list(h.c, '/v1/me/bindings');
    assert.equal(held.limit, 3);
    assert.equal(held.items.find((x) => x.id === a.json.id).state, 'active');
    const item = (await list(h.c, '/v1/me/violations')).items.find((x) => x.id === vid);
    assert.ok(item, 'bound vehicle violations are listed');
    assert.equal(item.relation, 'bound');

    const r = await handle(h.c, vid);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.licence.points, 3);
    assert.equal(Number(sql(db, `SELECT COUNT(*) FROM audit_log WHERE action = 'violations.handle_unrelated' AND target_id = ${q(vid)}`)[0][0]), 0,
      'a bound vehicle is not unrelated');
    assert.equal(Number(sql(db, `SELECT COUNT(*) FROM audit_log WHERE action = 'violations.binding_consent' AND target_id = ${q(a.json.id)}`)[0][0]), 1);
  });

  test('the owner withdraws consent at any time: the holder loses sight and access', async () => {
    const o = await owner();
    const h = await holder();
    const bid = await bind(h, o);
    const vid = addViolation(o.plate, o.vehicleId);
    assert.ok((await list(h.c, '/v1/me/violations')).items.find((x) => x.id === vid));
    const w = await end(o.c, bid);
    assert.equal(w.status, 200, w.text);
    assert.equal(w.json.state, 'withdrawn');
    assert.equal(sql(db, `SELECT state, ended_by FROM violation_bindings WHERE id = ${bid}`)[0].join(','), `withdrawn,${o.c.id}`);
    assert.equal((await list(h.c, '/v1/me/violations')).items.find((x) => x.id === vid), undefined);
    const r = await handle(h.c, vid);
    assert.equal(r.status, 404);
    const again = await end(o.c, bid);
    assertProblem(again, 409, 'binding_ended');
    // a new request after withdrawal is possible
    const a = await ask(h.c, o.plate);
    assert.equal(a.status, 201, a.text);
  });

  test('the holder can withdraw too; an owner refusing a pending request refuses it', async () => {
    const o = await owner();
    const h = await holder();
    const bid = await bind(h, o);
    const w = await end(h.c, bid);
    assert.equal(w.status, 200);
    assert.equal(w.json.state, 'withdrawn');
    const a = await ask(h.c, o.plate);
    const r = await end(o.c, a.json.id);
    assert.equal(r.status, 200);
    assert.equal(r.json.state, 'refused');
    const k = await consent(o.c, a.json.id);
    assertProblem(k, 409, 'binding_not_pending');
    assert.equal(k.json.state, 'refused');
  });
});

describe('binding limit', () => {
  test('a fourth active binding is refused with binding_limit at request time', async () => {
    const h = await holder();
    for (let i = 0; i < 3; i++) await bind(h, await owner());
    const fourth = await owner();
    const r = await ask(h.c, fourth.plate);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'binding_limit');
    assert.equal(r.json.reason, 'binding_limit');
    assert.equal(r.json.active, 3);
    assert.equal(Number(sql(db, `SELECT COUNT(*) FROM violation_bindings WHERE holder_citizen_id = ${h.c.id}`)[0][0]), 3);
  });

  test('a consent that would make a fourth is refused; after a withdrawal it passes', async () => {
    const h = await holder();
    const owners = [];
    const pending = [];
    for (let i = 0; i < 4; i++) {
      const o = await owner();
      owners.push(o);
      const a = await ask(h.c, o.plate);
      assert.equal(a.status, 201);
      pending.push(a.json.id);
    }
    for (let i = 0; i < 3; i++) assert.equal((await consent(owners[i].c, pending[i])).status, 200);
    const r = await consent(owners[3].c, pending[3]);
    assertProblem(r, 409, 'binding_limit');
    assert.equal(state(pending[3]), 'pending');
    assert.equal((await end(owners[0].c, pending[0])).status, 200);
    const ok = await consent(owners[3].c, pending[3]);
    assert.equal(ok.status, 200, ok.text);
  });

  test('concurrent consents for the last slot: exactly one wins', async () => {
    const h = await holder();
    for (let i = 0; i < 2; i++) await bind(h, await owner());
    const contenders = [];
    for (let i = 0; i < 3; i++) {
      const o = await owner();
      const a = await ask(h.c, o.plate);
      assert.equal(a.status, 201);
      contenders.push([o, a.json.id]);
    }
    const rs = await Promise.all(contenders.map(([o, bid]) => consent(o.c, bid)));
    const statuses = rs.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409, 409], rs.map((r) => r.text).join('\n'));
    for (const r of rs.filter((x) => x.status === 409)) assert.equal(r.json.code, 'binding_limit');
    assert.equal(Number(sql(db, `SELECT COUNT(*) FROM violation_bindings WHERE holder_citizen_id = ${h.c.id} AND state = 'active'`)[0][0]), 3);
  });
});

describe('binding refusals', () => {
  test('own vehicle, unknown plate, bad plate, duplicate request', async () => {
    const o = await owner();
    let r = await ask(o.c, o.plate);
    assertProblem(r, 409, 'own_vehicle');
    const h = await holder();
    r = await ask(h.c, randomPlate());
    assertProblem(r, 404, 'vehicle_not_found');
    r = await ask(h.c, 'ABC');
    assert.equal(r.status, 400);
    assert.equal(r.json.field, 'plate');
    const a = await ask(h.c, o.plate);
    assert.equal(a.status, 201);
    r = await ask(h.c, o.plate);
    assertProblem(r, 409, 'binding_exists');
  });

  test('only the owner consents; strangers see 404; Idempotency-Key required', async () => {
    const o = await owner();
    const h = await holder();
    const stranger = await holder();
    const a = await ask(h.c, o.plate);
    let r = await consent(h.c, a.json.id);
    assert.equal(r.status, 404, 'the holder cannot consent to their own request');
    r = await consent(stranger.c, a.json.id);
    assert.equal(r.status, 404);
    r = await end(stranger.c, a.json.id);
    assert.equal(r.status, 404);
    r = await consent(o.c, 99999999);
    assert.equal(r.status, 404);
    r = await request(`${server.httpsUrl}/v1/me/binding-requests/${a.json.id}/consent`, {
      method: 'POST', headers: id.citizenHeaders(o.c),
    });
    assertProblem(r, 400, 'idempotency_key_required');
    r = await request(`${server.httpsUrl}/v1/me/bindings`, {
      method: 'POST', json: { plate: o.plate }, headers: await id.operatorHeaders('window'),
    });
    assert.equal(r.status, 403);
    assert.equal(state(a.json.id), 'pending');
    // lists are per citizen
    assert.equal((await list(stranger.c, '/v1/me/binding-requests')).items.length, 0);
    assert.equal((await list(stranger.c, '/v1/me/bindings')).items.length, 0);
  });

  // issue 11: binding ids are parsed one way (digits only): "+5" once slipped through elsewhere
  test('a binding id with a sign, blank or letters is 404 not_found', async () => {
    const o = await owner();
    const h = await holder();
    const a = await ask(h.c, o.plate);
    for (const bad of [`+${a.json.id}`, `%20${a.json.id}`, `${a.json.id}a`, '0', '99999999999999999999']) {
      let r = await consent(o.c, bad);
      assert.equal(r.status, 404, `${bad}: ${r.text}`);
      assert.equal(r.json.code, 'not_found');
      r = await end(h.c, bad);
      assert.equal(r.status, 404, `${bad}: ${r.text}`);
      assert.equal(r.json.code, 'not_found');
    }
    assert.equal(state(a.json.id), 'pending');
  });

  test('a vehicle sold after the request cannot be lent by its former owner', async () => {
    const o = await owner();
    const buyer = await owner();
    const h = await holder();
    const a = await ask(h.c, o.plate);
    sql(db, `UPDATE vehicles SET owner_citizen_id = ${buyer.c.id} WHERE id = ${o.vehicleId}`);
    const r = await consent(o.c, a.json.id);
    assertProblem(r, 409, 'owner_changed');
  });

  test('a vehicle sold after consent: the binding no longer reaches the new owner\'s violations', async () => {
    const o = await owner();
    const buyer = await owner();
    const h = await holder();
    await bind(h, o);
    const vid = addViolation(o.plate, o.vehicleId);
    assert.ok((await list(h.c, '/v1/me/violations')).items.find((x) => x.id === vid));
    sql(db, `UPDATE vehicles SET owner_citizen_id = ${buyer.c.id} WHERE id = ${o.vehicleId}`);
    assert.equal((await list(h.c, '/v1/me/violations')).items.find((x) => x.id === vid), undefined,
      'the former owner\'s consent does not lend the buyer\'s vehicle');
    const r = await handle(h.c, vid);
    assert.equal(r.status, 404, r.text);
    assert.equal(sql(db, `SELECT state FROM violations WHERE id = ${vid}`)[0][0], 'recorded');
    // the buyer still sees it as owner
    assert.equal((await list(buyer.c, '/v1/me/violations')).items.find((x) => x.id === vid).relation, 'owner');
  });
});
