// People module: a citizen's own licence and vehicles, operators' audited reads of a person's
// data, lookups by ID number, and the `outlet add` / `citizen add` commands.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, randomHex } from './lib/harness.mjs';
import { setupIdentity, randomIdNumber, idNumberCheckChar } from './lib/identity.mjs';

let server;
let id;
let base;
let alice; // citizens[0]: licence and two vehicles
let bob;   // citizens[1]: licence and one vehicle
let carol; // citizens[2]: nothing
const ids = { aliceLicence: 0, aliceVehicles: [], bobLicence: 0, bobVehicles: [] };

const get = (p, headers) => request(`${base}${p}`, { headers });

function auditRows(where) {
  return server.sql(`SELECT caller_kind, caller_id, action, target_type, target_id, outcome FROM audit_log WHERE ${where} ORDER BY seq`);
}

before(async () => {
  server = await startServer({ prefix: 'people' });
  base = server.httpsUrl;
  id = await setupIdentity(server);
  [alice, bob, carol] = id.citizens;
  ids.aliceLicence = await id.addLicence(alice, { classes: 'C1', points: 3, nextMedicalDate: '2030-01-01' });
  ids.aliceVehicles.push(await id.addVehicle(alice), await id.addVehicle(alice, { vehicleType: 'K32' }));
  ids.bobLicence = await id.addLicence(bob, { classes: 'A1', status: 'suspended' });
  ids.bobVehicles.push(await id.addVehicle(bob, { nextInspectionDate: '2027-05-01' }));
});

after(async () => {
  await server?.stop();
});

describe('citizen self-service', () => {
  test('GET /v1/me/licence returns the own licence', async () => {
    const r = await get('/v1/me/licence', id.citizenHeaders(alice));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, ids.aliceLicence);
    assert.equal(r.json.classes, 'C1');
    assert.equal(r.json.points, 3);
    assert.equal(r.json.status, 'valid');
    assert.equal(r.json.next_medical_date, '2030-01-01');
    const b = await get('/v1/me/licence', id.citizenHeaders(bob));
    assert.equal(b.json.id, ids.bobLicence);
    assert.equal(b.json.status, 'suspended');
  });

  test('a citizen without a licence gets 404', async () => {
    const r = await get('/v1/me/licence', id.citizenHeaders(carol));
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'not_found');
  });

  test('GET /v1/me/vehicles lists exactly the own vehicles', async () => {
    const r = await get('/v1/me/vehicles', id.citizenHeaders(alice));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.items.map((v) => v.id).sort(), [...ids.aliceVehicles].sort());
    for (const v of r.json.items) assert.equal(v.owner_citizen_id, alice.id);
    const c = await get('/v1/me/vehicles', id.citizenHeaders(carol));
    assert.deepEqual(c.json.items, []);
  });

  test('GET /v1/vehicles/{id}: own vehicle 200', async () => {
    const r = await get(`/v1/vehicles/${ids.aliceVehicles[1]}`, id.citizenHeaders(alice));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.vehicle_type, 'K32');
    assert.match(r.json.vin, /^[A-HJ-NPR-Z0-9]{17}$/);
  });

  test("every object id of one citizen tried as another answers 404, like a missing one", async () => {
    const missing = await get('/v1/vehicles/999999', id.citizenHeaders(bob));
    assert.equal(missing.status, 404);
    for (const vid of ids.aliceVehicles) {
      const r = await get(`/v1/vehicles/${vid}`, id.citizenHeaders(bob));
      assert.equal(r.status, 404, `vehicle ${vid}`);
      assert.equal(r.json.code, missing.json.code);
      assert.equal(r.json.detail, missing.json.detail);
      const c = await get(`/v1/vehicles/${vid}`, id.citizenHeaders(carol));
      assert.equal(c.status, 404);
    }
    for (const vid of ids.bobVehicles) {
      assert.equal((await get(`/v1/vehicles/${vid}`, id.citizenHeaders(alice))).status, 404);
    }
    // a citizen's licence is only reachable through /v1/me/licence: bob sees his own
    const b = await get('/v1/me/licence', id.citizenHeaders(bob));
    assert.notEqual(b.json.id, ids.aliceLicence);
    // the operator-only citizen route is closed to citizens, even for their own id
    assert.equal((await get(`/v1/citizens/${alice.id}`, id.citizenHeaders(bob))).status, 403);
    assert.equal((await get(`/v1/citizens/${bob.id}`, id.citizenHeaders(bob))).status, 403);
  });

  test('malformed ids answer 404', async () => {
    for (const p of ['0', '-1', 'abc', '01', '1e3', '99999999999999999999']) {
      const r = await get(`/v1/vehicles/${p}`, id.citizenHeaders(alice));
      assert.equal(r.status, 404, p);
    }
  });

  test('an id is read one way: a sign, a blank, leading zeros or 19+ digits answer 404 like a missing id', async () => {
    const [vid] = ids.aliceVehicles;
    const missing = await get('/v1/vehicles/999999', id.citizenHeaders(alice));
    for (const p of [`+${vid}`, `%2B${vid}`, `%20${vid}`, `${vid}%20`, `0${vid}`, `00${vid}`, '9223372036854775808']) {
      const r = await get(`/v1/vehicles/${p}`, id.citizenHeaders(alice));
      assert.equal(r.status, 404, `${p}: ${r.text}`);
      assert.equal(r.json.code, missing.json.code, p);
    }
    assert.equal((await get(`/v1/vehicles/${vid}`, id.citizenHeaders(alice))).status, 200);
    // carol: the audited reads of alice are counted below
    const headers = await id.operatorHeaders('window');
    for (const p of [`+${carol.id}`, `%2B${carol.id}`, `0${carol.id}`, '-1', 'x']) {
      const r = await get(`/v1/citizens/${p}`, headers);
      assert.equal(r.status, 404, `${p}: ${r.text}`);
      assert.equal(r.json.code, 'not_found', p);
    }
    assert.equal((await get(`/v1/citizens/${carol.id}`, headers)).status, 200);
  });

  test('operators and partners cannot use the citizen self-service routes', async () => {
    assert.equal((await get('/v1/me/licence', await id.operatorHeaders('window'))).status, 403);
    const p = await request(`${server.httpsUrl}/v1/me/vehicles`, { ...id.partnerTls('post') });
    assert.equal(p.status, 403);
    assert.equal((await get('/v1/me/licence', {})).status, 401);
  });
});

describe('operator reads (audited)', () => {
  test('an operator reads any vehicle; the read is audited', async () => {
    const vid = ids.bobVehicles[0];
    const r = await get(`/v1/vehicles/${vid}`, await id.operatorHeaders('window'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.owner_citizen_id, bob.id);
    assert.equal(r.json.next_inspection_date, '2027-05-01');
    const rows = auditRows(`action = 'people.vehicle_read' AND target_id = '${vid}'`);
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0], ['operator', String(id.operators.window.id), 'people.vehicle_read', 'vehicle', String(vid), 'ok']);
    // inspectors read vehicles too (inspection stations)
    assert.equal((await get(`/v1/vehicles/${vid}`, await id.operatorHeaders('inspector'))).status, 200);
    // citizens' own reads are not operator reads: not audited
    await get(`/v1/vehicles/${ids.aliceVehicles[0]}`, id.citizenHeaders(alice));
    assert.equal(auditRows(`action = 'people.vehicle_read' AND target_id = '${ids.aliceVehicles[0]}'`).length, 0);
  });

  test('GET /v1/citizens/{id} shows masked ID number and phone, and is audited', async () => {
    const r = await get(`/v1/citizens/${alice.id}`, await id.operatorHeaders('window2'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, alice.id);
    assert.equal(r.json.name, alice.name);
    assert.equal(r.json.id_number, `${alice.idNumber.slice(0, 6)}********${alice.idNumber.slice(14)}`);
    assert.equal(r.json.phone, `${alice.phone.slice(0, 3)}****${alice.phone.slice(7)}`);
    assert.equal(r.json.birth_date, alice.birthDate);
    assert.ok(!r.text.includes(alice.idNumber));
    assert.ok(!r.text.includes(alice.phone));
    const rows = auditRows(`action = 'people.citizen_read' AND target_id = '${alice.id}'`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0][1], String(id.operators.window2.id));
    assert.equal((await get('/v1/citizens/999999', await id.operatorHeaders('window'))).status, 404);
  });

  test('roles without the permission get 403 and an access.denied record', async () => {
    for (const role of ['admin', 'inspector']) {
      const before = auditRows(`action = 'access.denied' AND caller_id = ${id.operators[role].id}`).length;
      const r = await get(`/v1/citizens/${alice.id}`, await id.operatorHeaders(role));
      assert.equal(r.status, 403, role);
      assert.equal(r.json.code, 'forbidden');
      const after = auditRows(`action = 'access.denied' AND caller_id = ${id.operators[role].id}`);
      assert.equal(after.length, before + 1);
      assert.equal(after[after.length - 1][4], 'people.citizen_read');
    }
    // supervisors, reviewers and auditors may read
    for (const role of ['supervisor', 'reviewer', 'auditor']) {
      assert.equal((await get(`/v1/citizens/${bob.id}`, await id.operatorHeaders(role))).status, 200, role);
    }
    // the admin may not read vehicles either
    assert.equal((await get(`/v1/vehicles/${ids.bobVehicles[0]}`, await id.operatorHeaders('admin'))).status, 403);
  });

  test('partners cannot read citizens or vehicles', async () => {
    const r = await request(`${server.httpsUrl}/v1/citizens/${alice.id}`, { ...id.partnerTls('insurer') });
    assert.equal(r.status, 403);
    const v = await request(`${server.httpsUrl}/v1/vehicles/${ids.aliceVehicles[0]}`, { ...id.partnerTls('insurer') });
    assert.equal(v.status, 403);
  });

  test('POST /v1/citizens/lookup finds by exact ID number (any letter case), audited', async () => {
    const headers = await id.operatorHeaders('window');
    const lookup = (idNumber, h = headers) => request(`${base}/v1/citizens/lookup`, { method: 'POST', headers: h, json: { id_number: idNumber } });
    const r = await lookup(bob.idNumber);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, bob.id);
    assert.ok(!r.text.includes(bob.idNumber));
    const rows = auditRows(`action = 'people.citizen_lookup' AND target_id = '${bob.id}'`);
    assert.equal(rows.length, 1);
    // an X check character matches in lower case too
    let first17;
    let x;
    do {
      x = randomIdNumber();
      first17 = x.slice(0, 17);
    } while (idNumberCheckChar(first17) !== 'X');
    const dave = await id.addCitizen({ idNumber: x });
    const low = await lookup(x.toLowerCase());
    assert.equal(low.status, 200, low.text);
    assert.equal(low.json.id, dave.id);
    // unknown but valid: 404, and the search itself is audited
    const before = auditRows("action = 'people.citizen_lookup' AND outcome = 'not_found'").length;
    const nf = await lookup(randomIdNumber());
    assert.equal(nf.status, 404);
    assert.equal(auditRows("action = 'people.citizen_lookup' AND outcome = 'not_found'").length, before + 1);
  });

  test('lookup rejects malformed ID numbers and bodies', async () => {
    const headers = await id.operatorHeaders('window');
    const lookup = (json) => request(`${base}/v1/citizens/lookup`, { method: 'POST', headers, json });
    const good = alice.idNumber;
    const wrongDigit = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    let r = await lookup({ id_number: wrongDigit });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'id_number_check_digit');
    assert.equal(r.json.field, 'id_number');
    r = await lookup({ id_number: good.slice(0, 17) });
    assert.equal(r.json.code, 'id_number_format');
    r = await lookup({ id_number: '330106199902300000' });
    assert.equal(r.json.code, 'id_number_birth_date');
    r = await lookup({ id: good });
    assert.equal(r.status, 400);
    r = await lookup({ id_number: 12345 });
    assert.equal(r.status, 400);
    // citizens may not look anyone up
    const c = await request(`${base}/v1/citizens/lookup`, { method: 'POST', headers: id.citizenHeaders(alice), json: { id_number: bob.idNumber } });
    assert.equal(c.status, 403);
  });

  test('the ID numbers searched for appear nowhere in the server log', () => {
    const log = server.log();
    for (const c of id.citizens) {
      assert.ok(!log.includes(c.idNumber), 'ID number in log');
      assert.ok(!log.includes(c.idNumber.toLowerCase()));
      assert.ok(!log.includes(c.phone), 'phone in log');
    }
  });
});

describe('outlet and citizen commands', () => {
  test('outlet add prints the id; a duplicate code exits 3 with the existing id', () => {
    const code = `O-${randomHex(3)}`;
    const a = server.cli(['outlet', 'add', '--code', code, '--name', '测试窗口', '--type', 'window', '--city', '杭州']);
    assert.equal(a.code, 0, a.stderr);
    const oid = Number(a.stdout.trim());
    assert.ok(oid > 0);
    const row = server.sql(`SELECT code, name, type, city FROM outlets WHERE id = ${oid}`)[0];
    assert.deepEqual(row, [code, '测试窗口', 'window', '杭州']);
    const again = server.cli(['outlet', 'add', '--code', code, '--name', 'x', '--type', 'window']);
    assert.equal(again.code, 3);
    assert.match(again.stderr, /already exists/);
    assert.equal(Number(again.stdout.trim()), oid);
    assert.equal(server.cli(['outlet', 'add', '--code', `O-${randomHex(3)}`, '--name', 'x', '--type', 'shop']).code, 2);
    assert.equal(server.cli(['outlet', 'add', '--name', 'x', '--type', 'window']).code, 2);
    assert.equal(server.cli(['outlet', 'remove', '--code', 'x']).code, 2);
    assert.equal(auditRows(`action = 'outlet.add' AND target_id = '${oid}'`).length, 1);
  });

  test('citizen add validates the ID number, birth date and phone; duplicates exit 3', () => {
    const idn = randomIdNumber({ birthDate: '1988-08-08' });
    const a = server.cli(['citizen', 'add', '--name', '赵六', '--id-number', idn, '--birth', '1988-08-08', '--phone', '13900001111', '--disabled']);
    assert.equal(a.code, 0, a.stderr);
    const cid = Number(a.stdout.trim());
    assert.deepEqual(server.sql(`SELECT name, birth_date, disabled FROM citizens WHERE id = ${cid}`)[0], ['赵六', '1988-08-08', '1']);
    const dup = server.cli(['citizen', 'add', '--name', '赵六', '--id-number', idn, '--birth', '1988-08-08']);
    assert.equal(dup.code, 3);
    assert.equal(Number(dup.stdout.trim()), cid);
    const bad = (args) => server.cli(['citizen', 'add', '--name', 'x', ...args]);
    const wrongDigit = idn.slice(0, 17) + (idn[17] === '0' ? '1' : '0');
    let r = bad(['--id-number', wrongDigit, '--birth', '1988-08-08']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /check_digit/);
    assert.ok(!r.stderr.includes(wrongDigit), 'the number is not echoed');
    assert.equal(bad(['--id-number', randomIdNumber({ birthDate: '1988-08-08' }), '--birth', '1988-08-09']).code, 2);
    assert.equal(bad(['--id-number', randomIdNumber(), '--birth', 'yesterday']).code, 2);
    const ok2 = randomIdNumber({ birthDate: '1990-01-01' });
    assert.equal(bad(['--id-number', ok2, '--birth', '1990-01-01', '--phone', '1234']).code, 2);
    assert.equal(bad(['--id-number', ok2]).code, 2);
    assert.equal(server.cli(['citizen', 'add', '--id-number', ok2, '--birth', '1990-01-01']).code, 2);
  });
});
