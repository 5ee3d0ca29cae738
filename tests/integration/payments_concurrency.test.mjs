// Payments under concurrency (issue 12): order creations and channel notifications for the
// same and for different violations at once must neither deadlock nor change the end state.
// The server runs with db.tx_attempts=1, so a deadlock is not hidden by a retry: it would
// surface as a 503 here. Before the fix, a locking read of an absent key of
// uq_payment_items_open (order creation) or of ix_payments_order (notification) took a gap
// lock that the next insert of a concurrent transaction deadlocked on.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, randomHex, simTls, tlsPaths } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';
import { startSim } from '../sim/channel-sim.mjs';

let server;
let sim;
let id;
let seq = 0;

const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const count = (query) => Number(server.sql(query)[0][0]);

const licences = new Map();
async function handled(citizen, fine = 20000) {
  if (!licences.has(citizen.id)) licences.set(citizen.id, await id.addLicence(citizen));
  seq += 1;
  const decision = `C${Date.now()}${seq}${randomHex(2)}`.slice(0, 32);
  const rows = server.sql(
    'INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, occurred_at, place, code, ' +
    'description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES (' +
    `${q(decision)}, ${q(`浙C${String(seq).padStart(5, '0')}`)}, 'K33', ${licences.get(citizen.id)}, ${citizen.id}, ` +
    `UTC_TIMESTAMP(3), 'somewhere', '1345', 'speeding', ${fine}, 3, 'traffic', 'camera', ` +
    "DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR), 'handled', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();");
  return Number(rows[0][0]);
}

const createOrder = (citizen, ids, channel = 'alipay') => request(`${server.httpsUrl}/v1/payments/orders`, {
  method: 'POST',
  headers: { ...id.citizenHeaders(citizen), 'Idempotency-Key': randomHex(12) },
  json: { violation_ids: ids, channel },
});

/** n violations per citizen, all handled. */
async function violations(n) {
  const out = [];
  for (const c of id.citizens) for (let i = 0; i < n; i++) out.push({ c, v: await handled(c) });
  return out;
}

before(async () => {
  sim = await startSim({ ca: tlsPaths.ca, tls: simTls() });
  server = await startServer({
    prefix: 'payconc',
    overrides: { ...sim.overrides(), 'jobs.enabled': 0, 'workers.count': 16, 'db.tx_attempts': 1 },
  });
  sim.onetripUrl = server.httpsUrl;
  id = await setupIdentity(server, { partners: [] });
});

after(async () => {
  if (server) await server.stop();
  if (sim) await sim.stop();
});

describe('concurrent orders and notifications (issue 12)', () => {
  test('48 orders for different violations at once: all created, no 5xx', async () => {
    for (let round = 0; round < 3; round++) {
      const vs = await violations(12);
      const rs = await Promise.all(vs.map(({ c, v }) => createOrder(c, [v])));
      for (const r of rs) assert.equal(r.status, 201, r.text);
      const list = vs.map(({ v }) => v).join(',');
      assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE open_violation_id IN (${list})`), vs.length);
    }
  });

  test('8 orders racing for each of 12 violations: exactly one each, the rest 409, no 5xx', async () => {
    const vs = await violations(3);
    const rs = await Promise.all(vs.flatMap(({ c, v }) => Array.from({ length: 8 }, (_, k) =>
      createOrder(c, [v], k % 2 ? 'wechatpay' : 'alipay').then((r) => ({ v, r })))));
    for (const { r } of rs) assert.ok(r.status === 201 || r.status === 409, `${r.status} ${r.text}`);
    for (const { v } of vs) {
      const mine = rs.filter((x) => x.v === v);
      assert.equal(mine.filter((x) => x.r.status === 201).length, 1, `violation ${v}`);
      for (const x of mine.filter((y) => y.r.status === 409)) assert.equal(x.r.json.code, 'violation_in_open_order');
      assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE open_violation_id = ${v}`), 1);
    }
  });

  test('notifications for 48 orders at once, each sent twice: every order paid once, no 5xx', async () => {
    const vs = await violations(12);
    const orders = [];
    for (const { c, v } of vs) {
      const r = await createOrder(c, [v]);
      assert.equal(r.status, 201, r.text);
      orders.push({ v, o: r.json, t: sim.pay('alipay', r.json.order_no, r.json.amount_fen) });
    }
    const rs = await Promise.all(orders.flatMap(({ t }) => [sim.notify(t), sim.notify(t)]));
    for (const r of rs) assert.equal(r.status, 200, r.text);
    for (const { v, o } of orders) {
      assert.equal(server.sql(`SELECT state FROM payment_orders WHERE order_no = ${q(o.order_no)}`)[0][0], 'paid');
      assert.equal(server.sql(`SELECT state FROM violations WHERE id = ${v}`)[0][0], 'paid');
      assert.equal(count('SELECT COUNT(*) FROM payments p JOIN payment_orders o ON o.id = p.order_id ' +
        `WHERE o.order_no = ${q(o.order_no)}`), 1);
      assert.equal(count('SELECT COUNT(*) FROM receipts r JOIN payment_orders o ON o.id = r.order_id ' +
        `WHERE o.order_no = ${q(o.order_no)}`), 1);
    }
  });

  test('order creations and notifications at once: no 5xx, new orders open, paid orders paid', async () => {
    const toPay = [];
    for (const { c, v } of await violations(6)) {
      const r = await createOrder(c, [v], 'policeapp');
      assert.equal(r.status, 201, r.text);
      toPay.push({ v, o: r.json, t: sim.pay('policeapp', r.json.order_no, r.json.amount_fen) });
    }
    const fresh = await violations(6);
    const [notes, created] = await Promise.all([
      Promise.all(toPay.map(({ t }) => sim.notify(t))),
      Promise.all(fresh.map(({ c, v }) => createOrder(c, [v]))),
    ]);
    for (const r of notes) assert.equal(r.status, 200, r.text);
    for (const r of created) assert.equal(r.status, 201, r.text);
    for (const { v } of toPay) assert.equal(server.sql(`SELECT state FROM violations WHERE id = ${v}`)[0][0], 'paid');
    const list = fresh.map(({ v }) => v).join(',');
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE open_violation_id IN (${list})`), fresh.length);
  });
});
