// Payments (issue 6): orders, channel notifications (alipay, wechatpay, policeapp, govportal)
// through the channel simulator, exactly-once application, receipts, refunds with a second
// approver, the awaiting-confirmation query job and reconciliation.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import { AlipaySdk } from 'alipay-sdk';

import { startServer, request, randomHex, tlsPaths, simTls } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';
import { startSim, shanghaiDay } from '../sim/channel-sim.mjs';

let server;
let sim;
let id;
let seq = 0;

const idem = () => ({ 'Idempotency-Key': randomHex(12) });

function q(s) {
  return `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** Insert a handled violation on the citizen's licence; served `servedDaysAgo` bureau days ago. */
function addHandled(citizen, licenceId, { fine = 20000, servedDaysAgo = 1, state = 'handled' } = {}) {
  seq += 1;
  const decision = `D${Date.now()}${seq}${randomHex(2)}`.slice(0, 32);
  const rows = server.sql(
    'INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, occurred_at, place, code, ' +
    'description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES (' +
    `${q(decision)}, ${q(`浙A${String(seq).padStart(5, '0')}`)}, 'K33', ${licenceId}, ${citizen.id}, UTC_TIMESTAMP(3), 'somewhere', '1345', ` +
    `'speeding', ${fine}, 3, 'traffic', 'camera', DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR) - INTERVAL ${servedDaysAgo} DAY, ` +
    `${q(state)}, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();`);
  return Number(rows[0][0]);
}

const licences = new Map();
async function licenceOf(citizen) {
  if (!licences.has(citizen.id)) licences.set(citizen.id, await id.addLicence(citizen));
  return licences.get(citizen.id);
}

async function handled(citizen, o) {
  return addHandled(citizen, await licenceOf(citizen), o);
}

async function createOrder(citizen, violationIds, channel = 'alipay', headers = idem()) {
  return request(`${server.httpsUrl}/v1/payments/orders`, {
    method: 'POST', headers: { ...id.citizenHeaders(citizen), ...headers },
    json: { violation_ids: violationIds, channel },
  });
}

async function getOrder(citizen, no) {
  return request(`${server.httpsUrl}/v1/payments/orders/${no}`, { headers: id.citizenHeaders(citizen) });
}

const vstate = (vid) => server.sql(`SELECT state FROM violations WHERE id = ${vid}`)[0][0];
const ostate = (no) => server.sql(`SELECT state FROM payment_orders WHERE order_no = ${q(no)}`)[0][0];
const count = (query) => Number(server.sql(query)[0][0]);
const lastNotification = (no) => server.sql(
  `SELECT outcome, reason, verified FROM payment_notifications WHERE order_no = ${q(no)} ORDER BY id DESC LIMIT 1`)[0];

// Commands and jobs run without blocking this process (the channel simulator lives in it).
const cliAsync = (args, opts) => server.cliAsync(args, opts);
const job = (name) => server.runJob(name);

before(async () => {
  sim = await startSim({ ca: tlsPaths.ca, tls: simTls() });
  server = await startServer({ prefix: 'payments', overrides: { ...sim.overrides(), 'jobs.enabled': 0, 'workers.count': 8 } });
  sim.onetripUrl = server.httpsUrl;
  id = await setupIdentity(server, { partners: [] });
});

after(async () => {
  if (server) await server.stop();
  if (sim) await sim.stop();
});

describe('orders', () => {
  test('amount = fines + late fees as of today, fixed at creation; idempotent; own only', async () => {
    const c = id.citizens[0];
    const v1 = await handled(c, { fine: 20000, servedDaysAgo: 20 }); // 5 late days: 15 %
    const v2 = await handled(c, { fine: 5000, servedDaysAgo: 3 });
    const key = idem();
    const r = await createOrder(c, [v2, v1], 'alipay', key);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.fine_fen, 25000);
    assert.equal(r.json.late_fee_fen, 3000);
    assert.equal(r.json.amount_fen, 28000);
    assert.equal(r.json.amount, '280.00');
    assert.equal(r.json.state, 'open');
    assert.equal(r.json.items.length, 2);
    assert.match(r.json.order_no, /^P\d{8}[0-9A-F]{16}$/);
    const ttl = Date.parse(r.json.expires_at) - Date.parse(r.json.created_at);
    assert.ok(ttl > 1790e3 && ttl <= 1800e3, `ttl ${ttl}`);
    const again = await createOrder(c, [v2, v1], 'alipay', key);
    assert.equal(again.status, 201);
    assert.equal(again.json.order_no, r.json.order_no);
    assert.equal(count(`SELECT COUNT(*) FROM payment_orders WHERE citizen_id = ${c.id}`), 1);
    const mine = await getOrder(c, r.json.order_no);
    assert.equal(mine.status, 200);
    assert.equal(mine.json.amount_fen, 28000);
    const theirs = await getOrder(id.citizens[1], r.json.order_no);
    assert.equal(theirs.status, 404);
    // the amount stays fixed even if the stored fine changes later
    server.sqlExec(`UPDATE violations SET fine_fen = 1 WHERE id = ${v1}`);
    assert.equal((await getOrder(c, r.json.order_no)).json.amount_fen, 28000);
  });

  test('rejections: foreign, not handled, paid, unknown channel, bad ids, no Idempotency-Key', async () => {
    const c = id.citizens[1];
    const foreign = await handled(id.citizens[2]);
    let r = await createOrder(c, [foreign]);
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'violation_not_found');
    const recorded = await handled(c, { state: 'recorded' });
    r = await createOrder(c, [recorded]);
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'violation_not_handled');
    const paid = await handled(c, { state: 'paid' });
    r = await createOrder(c, [paid]);
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'violation_already_paid');
    const ok = await handled(c);
    r = await createOrder(c, [ok], 'paypal');
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'unknown_channel');
    for (const ids of [[], [ok, ok], ['1'], [-3]]) {
      r = await createOrder(c, ids);
      assert.equal(r.status, 400, JSON.stringify(ids));
      assert.equal(r.json.code, 'bad_violation_ids');
    }
    r = await createOrder(c, [ok], 'alipay', {});
    assert.equal(r.status, 400);
    r = await request(`${server.httpsUrl}/v1/payments/orders`, { method: 'POST', headers: idem(), json: { violation_ids: [ok], channel: 'alipay' } });
    assert.equal(r.status, 401);
    assert.equal(count(`SELECT COUNT(*) FROM payment_orders WHERE citizen_id = ${c.id}`), 0);
  });

  test('two orders racing for the same violation: one 201, one 409', async () => {
    const c = id.citizens[1];
    const v = await handled(c);
    const rs = await Promise.all([createOrder(c, [v]), createOrder(c, [v], 'wechatpay')]);
    const statuses = rs.map((x) => x.status).sort();
    assert.deepEqual(statuses, [201, 409]);
    assert.equal(rs.find((x) => x.status === 409).json.code, 'violation_in_open_order');
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE open_violation_id = ${v}`), 1);
  });

  test('an order past its expiry no longer blocks a new one', async () => {
    const c = id.citizens[1];
    const v = await handled(c);
    const a = await createOrder(c, [v]);
    assert.equal(a.status, 201);
    assert.equal((await createOrder(c, [v])).status, 409);
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE order_no = ${q(a.json.order_no)}`);
    const b = await createOrder(c, [v]);
    assert.equal(b.status, 201, b.text);
    assert.equal(ostate(a.json.order_no), 'expired');
  });
});

describe('notifications', () => {
  test('100 concurrent duplicate notifications -> one payment, violations paid once, receipt', async () => {
    const c = id.citizens[0];
    const v = await handled(c, { fine: 15000 });
    const o = (await createOrder(c, [v])).json;
    const t = sim.pay('alipay', o.order_no, o.amount_fen);
    const rs = await Promise.all(Array.from({ length: 100 }, () => sim.notify(t)));
    for (const r of rs) {
      assert.equal(r.status, 200);
      assert.equal(r.text, 'success');
    }
    assert.equal(count(`SELECT COUNT(*) FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE o.order_no = ${q(o.order_no)}`), 1);
    assert.equal(count(`SELECT COUNT(*) FROM payment_notifications WHERE order_no = ${q(o.order_no)} AND outcome = 'applied'`), 1);
    assert.equal(count(`SELECT COUNT(*) FROM payment_notifications WHERE order_no = ${q(o.order_no)} AND outcome = 'duplicate'`), 99);
    assert.equal(count(`SELECT COUNT(*) FROM receipts r JOIN payment_orders o ON o.id = r.order_id WHERE o.order_no = ${q(o.order_no)}`), 1);
    assert.equal(vstate(v), 'paid');
    assert.equal(count(`SELECT version FROM violations WHERE id = ${v}`), 1, 'violation updated exactly once');
    const g = await getOrder(c, o.order_no);
    assert.equal(g.json.state, 'paid');
    assert.equal(g.json.trade_no, t.tradeNo);
    assert.ok(g.json.receipt.number);

    // receipt verification: right code, wrong code, no code
    const { number, verification_code: code } = g.json.receipt;
    let r = await request(`${server.httpsUrl}/v1/receipts/${number}?code=${code}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.valid, true);
    assert.equal(r.json.amount_fen, 15000);
    assert.equal(r.json.amount, '150.00');
    assert.equal(r.json.items[0].violation_id, v);
    assert.ok(!r.text.includes(c.name) || c.name.length < 2, 'payer name is masked');
    r = await request(`${server.httpsUrl}/v1/receipts/${number}?code=${code === '00000000' ? '11111111' : '00000000'}`);
    assert.equal(r.status, 404);
    r = await request(`${server.httpsUrl}/v1/receipts/${number}`);
    assert.equal(r.status, 400);
    r = await request(`${server.httpsUrl}/v1/receipts/RNOPE?code=${code}`);
    assert.equal(r.status, 404);
  });

  test('yuan amounts from Alipay: "100.1", "100.10", "0.01" are exact', async () => {
    const c = id.citizens[2];
    for (const [fine, text] of [[10010, '100.1'], [10010, '100.10'], [1, '0.01']]) {
      const v = await handled(c, { fine, servedDaysAgo: 0 });
      const o = (await createOrder(c, [v])).json;
      assert.equal(o.amount_fen, fine);
      const t = sim.pay('alipay', o.order_no, fine);
      const r = await sim.notify(t, { totalAmount: text });
      assert.equal(r.text, 'success', `${text}: ${r.text}`);
      assert.equal(ostate(o.order_no), 'paid', text);
      assert.equal(count(`SELECT p.amount_fen FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE o.order_no = ${q(o.order_no)}`), fine);
    }
  });

  test('malformed yuan amounts are rejected, recorded, alerted, never paid', async () => {
    const c = id.citizens[2];
    const v = await handled(c, { fine: 10000, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v])).json;
    const t = sim.pay('alipay', o.order_no, 10000);
    for (const [text, why] of [['1e2', 'money_character'], ['-0.01', 'money_sign'], ['100.101', 'money_fraction'], [' 100', 'money_character']]) {
      const before = count(`SELECT COUNT(*) FROM payment_alerts WHERE order_no = ${q(o.order_no)}`);
      const r = await sim.notify(t, { totalAmount: text });
      assert.notEqual(r.text, 'success', text);
      const n = lastNotification(o.order_no);
      assert.deepEqual(n, ['rejected', why, '0'], text);
      assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE order_no = ${q(o.order_no)}`), before + 1);
      assert.equal(ostate(o.order_no), 'open');
      assert.equal(vstate(v), 'handled');
    }
  });

  test('rejection paths: bad signature, tampered amount, unknown order, amount mismatch, app_id, currency', async () => {
    const c = id.citizens[3];
    const v = await handled(c, { fine: 30000, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v])).json;
    const t = sim.pay('alipay', o.order_no, 30000);
    const cases = [
      [{ tamper: { total_amount: '0.01' } }, 'bad_signature'],
      [{ tamper: { sign: Buffer.alloc(256, 1).toString('base64') } }, 'bad_signature'],
      [{ tamper: { sign: '' } }, 'signature_missing'],
      [{ totalAmount: '299.99' }, 'amount_mismatch'],
      [{ appId: '2021999999999999' }, 'wrong_app_id'],
      [{ currency: 'USD' }, 'currency_mismatch'],
    ];
    for (const [opts, why] of cases) {
      const r = await sim.notify(t, opts);
      assert.equal(r.status, 400, why);
      assert.equal(r.text, 'fail');
      assert.deepEqual(lastNotification(o.order_no).slice(0, 2), ['rejected', why]);
    }
    const ghost = sim.pay('alipay', 'P20990101DEADBEEFDEADBEEF', 100);
    let r = await sim.notify(ghost);
    assert.equal(r.text, 'fail');
    assert.deepEqual(lastNotification('P20990101DEADBEEFDEADBEEF').slice(0, 2), ['rejected', 'unknown_order']);
    // an order of another channel
    r = await sim.notify(sim.pay('policeapp', o.order_no, 30000));
    assert.equal(r.status, 400);
    assert.deepEqual(lastNotification(o.order_no).slice(0, 2), ['rejected', 'channel_mismatch']);
    r = await request(`${server.httpsUrl}/v1/payments/notify/paypal`, { method: 'POST', body: 'x=1' });
    assert.equal(r.status, 404);
    assert.equal(ostate(o.order_no), 'open');
    assert.equal(vstate(v), 'handled');
    assert.equal(count(`SELECT COUNT(*) FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE o.order_no = ${q(o.order_no)}`), 0);
    // The channel's own (signed) rejections alert one by one: amount, app_id, currency, channel.
    // The three unsigned ones fold into their source's alert (payments_notify.test.mjs).
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'notification_rejected' AND order_no = ${q(o.order_no)}`), 4);
    assert.ok(count("SELECT occurrences FROM payment_alerts WHERE kind = 'notification_unverified' AND channel = 'alipay' AND source = '127.0.0.1'") >= 3);
    // the genuine notification still pays it afterwards
    r = await sim.notify(t);
    assert.equal(r.text, 'success');
    assert.equal(ostate(o.order_no), 'paid');
  });

  test('wechatpay: v3 callback pays; wrong serial, stale timestamp, tampered body, wrong key, currency rejected', async () => {
    const c = id.citizens[3];
    const v = await handled(c, { fine: 12345, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v], 'wechatpay')).json;
    const t = sim.pay('wechatpay', o.order_no, 12345);
    const bad = [
      [{ serial: 'PUB_KEY_ID_OTHER' }, 'unknown_serial'],
      [{ timestamp: Math.floor(Date.now() / 1000) - 400 }, 'stale_timestamp'],
      [{ tamperBody: (b) => b.replace('"id":"', '"id":"x') }, 'bad_signature'],
      [{ apiKey: 'k'.repeat(32) }, 'decrypt_failed'],
      [{ currency: 'USD' }, 'currency_mismatch'],
      [{ amountFen: 12344 }, 'amount_mismatch'],
    ];
    for (const [opts, why] of bad) {
      const r = await sim.notify(t, opts);
      assert.ok(r.status >= 400, why);
      assert.equal(JSON.parse(r.text).code, 'FAIL');
      assert.deepEqual(lastNotification(why === 'unknown_serial' || why === 'stale_timestamp' || why === 'bad_signature' || why === 'decrypt_failed' ? '' : o.order_no)?.slice(0, 2) ?? null,
        why === 'unknown_serial' || why === 'stale_timestamp' || why === 'bad_signature' || why === 'decrypt_failed' ? null : ['rejected', why]);
    }
    assert.ok(count(`SELECT COUNT(*) FROM payment_notifications WHERE channel = 'wechatpay' AND outcome = 'rejected'`) >= 6);
    assert.equal(ostate(o.order_no), 'open');
    const r = await sim.notify(t);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { code: 'SUCCESS' });
    assert.equal(ostate(o.order_no), 'paid');
    assert.equal(vstate(v), 'paid');
  });

  test('policeapp and govportal: HMAC notifications pay; wrong secret and stale timestamp rejected', async () => {
    const c = id.citizens[3];
    for (const ch of ['policeapp', 'govportal']) {
      const v = await handled(c, { fine: 8000, servedDaysAgo: 0 });
      const o = (await createOrder(c, [v], ch)).json;
      const t = sim.pay(ch, o.order_no, 8000);
      let r = await sim.notify(t, { secret: 'wrong' });
      assert.equal(r.status, 400);
      assert.deepEqual(JSON.parse(r.text), { result: 'fail' });
      r = await sim.notify(t, { timestamp: Math.floor(Date.now() / 1000) + 600 });
      assert.equal(r.status, 400);
      r = await sim.notify(t, { currency: 'HKD' });
      assert.deepEqual(lastNotification(o.order_no).slice(0, 2), ['rejected', 'currency_mismatch']);
      assert.equal(ostate(o.order_no), 'open');
      r = await sim.notify(t);
      assert.equal(r.status, 200);
      assert.deepEqual(JSON.parse(r.text), { result: 'success' });
      assert.equal(ostate(o.order_no), 'paid');
    }
  });

  test('a closed trade fails the order and releases its violations', async () => {
    const c = id.citizens[3];
    const v = await handled(c, { fine: 700, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v], 'govportal')).json;
    const r = await sim.notify(sim.pay('govportal', o.order_no, 700, { closed: true }));
    assert.equal(r.status, 200);
    assert.equal(ostate(o.order_no), 'failed');
    assert.equal((await createOrder(c, [v], 'govportal')).status, 201);
  });

  test('expired order then a success: honoured while its violations are unpaid', async () => {
    const c = id.citizens[2];
    const v = await handled(c, { fine: 6000 });
    const o = (await createOrder(c, [v])).json;
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE order_no = ${q(o.order_no)}`);
    await job('payments_expire');
    assert.equal(ostate(o.order_no), 'expired');
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE open_violation_id = ${v}`), 0);
    const r = await sim.notify(sim.pay('alipay', o.order_no, o.amount_fen));
    assert.equal(r.text, 'success');
    assert.equal(ostate(o.order_no), 'paid');
    assert.equal(vstate(v), 'paid');
  });

  test('expired order paid while a newer open order holds the violation: newer order closed', async () => {
    const c = id.citizens[2];
    const v = await handled(c, { fine: 6100 });
    const a = (await createOrder(c, [v])).json;
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE order_no = ${q(a.order_no)}`);
    await job('payments_expire');
    const b = (await createOrder(c, [v])).json;
    assert.equal(b.state, 'open');
    assert.equal((await sim.notify(sim.pay('alipay', a.order_no, a.amount_fen))).text, 'success');
    assert.equal(ostate(a.order_no), 'paid');
    assert.equal(ostate(b.order_no), 'closed');
  });

  test('violations already paid by another order: duplicate payment recorded and refunded', async () => {
    const c = id.citizens[2];
    const v = await handled(c, { fine: 4200 });
    const a = (await createOrder(c, [v])).json;
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE order_no = ${q(a.order_no)}`);
    await job('payments_expire');
    const b = (await createOrder(c, [v], 'policeapp')).json;
    assert.equal((await sim.notify(sim.pay('policeapp', b.order_no, b.amount_fen))).status, 200);
    assert.equal(ostate(b.order_no), 'paid');
    const ta = sim.pay('alipay', a.order_no, a.amount_fen);
    const r = await sim.notify(ta);
    assert.equal(r.text, 'success', 'the channel must stop resending');
    assert.deepEqual(lastNotification(a.order_no).slice(0, 2), ['duplicate_payment', 'violations_already_paid']);
    assert.deepEqual(server.sql(`SELECT p.kind, o.state, o.state_reason FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE o.order_no = ${q(a.order_no)}`)[0],
      ['duplicate', 'closed', 'duplicate_payment']);
    const ref = server.sql(`SELECT f.id, f.kind, f.state, f.amount_fen FROM refunds f JOIN payment_orders o ON o.id = f.order_id WHERE o.order_no = ${q(a.order_no)}`);
    assert.equal(ref.length, 1);
    assert.deepEqual(ref[0].slice(1), ['duplicate_payment', 'approved', String(a.amount_fen)]);
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'duplicate_payment' AND order_no = ${q(a.order_no)}`), 1);
    assert.equal(count(`SELECT version FROM violations WHERE id = ${v}`), 1, 'paid once');
    // a resend of the duplicate changes nothing more
    assert.equal((await sim.notify(ta)).text, 'success');
    assert.equal(count(`SELECT COUNT(*) FROM refunds f JOIN payment_orders o ON o.id = f.order_id WHERE o.order_no = ${q(a.order_no)}`), 1);
    // the refunds job sends it to the channel
    await job('payments_refunds');
    const done = server.sql(`SELECT state, channel_refund_no FROM refunds WHERE id = ${ref[0][0]}`)[0];
    assert.equal(done[0], 'succeeded');
    assert.ok(done[1]);
    assert.equal(sim.refunds.filter((x) => x.order_no === a.order_no).length, 1);
  });
});

describe('awaiting confirmation', () => {
  test('returned from the channel -> paid, awaiting confirmation; blocks a second order; late notification confirms', async () => {
    const c = id.citizens[0];
    const v = await handled(c, { fine: 9900 });
    const o = (await createOrder(c, [v])).json;
    let r = await request(`${server.httpsUrl}/v1/payments/orders/${o.order_no}/returned`, {
      method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: { trade_no: 'ALI-LATE-1' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'awaiting_confirmation');
    assert.equal(r.json.display_state, 'paid_awaiting_confirmation');
    assert.equal(r.json.trade_no, 'ALI-LATE-1');
    // no second order, and the amount does not grow while waiting
    r = await createOrder(c, [v]);
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'violation_in_open_order');
    // the citizen's list shows it paid, awaiting confirmation, with nothing more due
    const mine = await request(`${server.httpsUrl}/v1/me/violations`, { headers: id.citizenHeaders(c) });
    assert.equal(mine.status, 200, mine.text);
    const item = mine.json.items.find((x) => x.id === v);
    assert.ok(item, 'violation listed');
    assert.equal(item.payment_state, 'paid_awaiting_confirmation');
    assert.equal(item.amount_due_today, 0);
    assert.equal(item.amount_paid_pending_fen, o.amount_fen);
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE order_no = ${q(o.order_no)}`);
    await job('payments_expire');
    assert.equal(ostate(o.order_no), 'awaiting_confirmation', 'not expired while awaiting confirmation');
    // another citizen cannot report someone else's order
    r = await request(`${server.httpsUrl}/v1/payments/orders/${o.order_no}/returned`, {
      method: 'POST', headers: { ...id.citizenHeaders(id.citizens[1]), ...idem() }, json: {},
    });
    assert.equal(r.status, 404);
    r = await sim.notify(sim.pay('alipay', o.order_no, o.amount_fen, { tradeNo: 'ALI-LATE-1' }));
    assert.equal(r.text, 'success');
    const g = await getOrder(c, o.order_no);
    assert.equal(g.json.state, 'paid');
    assert.equal(g.json.display_state, 'paid');
    assert.equal(vstate(v), 'paid');
    // paying a fine is a case of its own: completed at once, zero trips
    assert.deepEqual(server.sql(`SELECT item_code, state, trips, channel, applicant_id FROM cases ` +
      `WHERE ref_type = 'payment_order' AND ref_id = ${q(o.order_no)}`), [['VIO-PAY', 'completed', '0', 'app', String(c.id)]]);
  });

  test('the query job confirms an awaiting order through the channel trade query', async () => {
    const c = id.citizens[0];
    const v = await handled(c, { fine: 3300 });
    const o = (await createOrder(c, [v], 'wechatpay')).json;
    const r = await request(`${server.httpsUrl}/v1/payments/orders/${o.order_no}/returned`, {
      method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: {},
    });
    assert.equal(r.json.state, 'awaiting_confirmation');
    await job('payments_query'); // the channel has no trade yet: still waiting
    assert.equal(ostate(o.order_no), 'awaiting_confirmation');
    sim.pay('wechatpay', o.order_no, o.amount_fen); // paid, but the notification is lost
    await job('payments_query');
    assert.equal(ostate(o.order_no), 'paid');
    assert.equal(vstate(v), 'paid');
    assert.deepEqual(server.sql(`SELECT source, outcome FROM payment_notifications WHERE order_no = ${q(o.order_no)} AND outcome = 'applied'`)[0], ['query', 'applied']);
    // a late notification after that is a duplicate
    const late = await sim.notify(sim.trades.get(`wechatpay/${o.order_no}`));
    assert.equal(late.status, 200);
    assert.equal(lastNotification(o.order_no)[0], 'duplicate');
  });

  test('returned on an expired order is refused', async () => {
    const c = id.citizens[0];
    const v = await handled(c, { fine: 100 });
    const o = (await createOrder(c, [v])).json;
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE order_no = ${q(o.order_no)}`);
    await job('payments_expire');
    const r = await request(`${server.httpsUrl}/v1/payments/orders/${o.order_no}/returned`, {
      method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: {},
    });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'order_not_open');
  });
});

describe('cancelled violations', () => {
  async function cancel(vid, reason = '复核撤销') {
    return request(`${server.httpsUrl}/v1/violations/${vid}/cancel`, {
      method: 'POST', json: { reason }, headers: await id.operatorHeaders('window'),
    });
  }
  const orderRow = (no) => server.sql(`SELECT id, state, state_reason FROM payment_orders WHERE order_no = ${q(no)}`)[0];

  test('cancelling a violation in an open order closes the order; a late payment is refunded', async () => {
    const c = await id.addCitizen();
    const v1 = await handled(c, { fine: 1200, servedDaysAgo: 0 });
    const v2 = await handled(c, { fine: 800, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v1, v2], 'govportal')).json;
    assert.equal(o.state, 'open');
    const r = await cancel(v1);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'cancelled');
    const [oid, state, reason] = orderRow(o.order_no);
    assert.deepEqual([state, reason], ['closed', 'violation_cancelled']);
    // every violation of the order is released: the rest can go into a new order
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE order_id = ${oid} AND open_violation_id IS NOT NULL`), 0);
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'payments.order_end' AND target_id = ${q(oid)} AND outcome = 'closed'`), 1);
    const [detail] = server.sql(`SELECT detail FROM audit_log WHERE action = 'violations.cancel' AND target_id = ${q(v1)}`)[0];
    assert.equal(JSON.parse(detail).order_closed, o.order_no);
    assert.equal((await getOrder(c, o.order_no)).json.state, 'closed');
    let n = await createOrder(c, [v1], 'govportal');
    assert.equal(n.status, 409);
    assert.equal(n.json.code, 'violation_not_handled');
    n = await createOrder(c, [v2], 'govportal');
    assert.equal(n.status, 201, n.text);
    assert.equal(n.json.amount_fen, 800);
    // money that still arrives for the closed order is not applied to the void violation
    assert.equal((await sim.notify(sim.pay('govportal', o.order_no, o.amount_fen))).status, 200);
    assert.equal(vstate(v1), 'cancelled');
    assert.equal(vstate(v2), 'handled');
    assert.deepEqual(lastNotification(o.order_no).slice(0, 2), ['duplicate_payment', 'violations_already_paid']);
    assert.equal(count(`SELECT COUNT(*) FROM refunds WHERE order_id = ${oid} AND kind = 'duplicate_payment'`), 1);
  });

  test('a violation whose payment awaits confirmation is not cancelled: 409 payment_pending, audited', async () => {
    const c = await id.addCitizen();
    const v = await handled(c, { fine: 1500, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v], 'govportal')).json;
    let r = await request(`${server.httpsUrl}/v1/payments/orders/${o.order_no}/returned`, {
      method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: {},
    });
    assert.equal(r.json.state, 'awaiting_confirmation');
    r = await cancel(v);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.code, 'payment_pending');
    assert.equal(r.json.order_no, o.order_no);
    assert.equal(vstate(v), 'handled');
    assert.equal(ostate(o.order_no), 'awaiting_confirmation');
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE open_violation_id = ${v}`), 1);
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'violations.cancel' AND target_id = ${q(v)} AND outcome = 'refused'`), 1);
    // the payment settles; the violation is paid and no longer cancellable
    assert.equal((await sim.notify(sim.pay('govportal', o.order_no, o.amount_fen))).status, 200);
    assert.equal(vstate(v), 'paid');
    r = await cancel(v);
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'not_cancellable');
  });
});

describe('refunds', () => {
  let paidOrder;
  before(async () => {
    const c = id.citizens[1];
    const v = await handled(c, { fine: 50000, servedDaysAgo: 0 });
    paidOrder = (await createOrder(c, [v], 'govportal')).json;
    await sim.notify(sim.pay('govportal', paidOrder.order_no, paidOrder.amount_fen));
    assert.equal(ostate(paidOrder.order_no), 'paid');
  });

  test('requested by a window operator, approved by a different reviewer, sent to the channel', async () => {
    const win = await id.operatorHeaders('window');
    let r = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...win, ...idem() }, json: { order_no: paidOrder.order_no, amount_fen: 20000, reason: 'fine reduced on review' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.state, 'requested');
    const rid = r.json.id;
    // the requester cannot approve (lacks the reviewer role)
    r = await request(`${server.httpsUrl}/v1/refunds/${rid}/approve`, { method: 'POST', headers: win });
    assert.equal(r.status, 403);
    assert.equal(server.sql(`SELECT state FROM refunds WHERE id = ${rid}`)[0][0], 'requested');
    r = await request(`${server.httpsUrl}/v1/refunds/${rid}/approve`, { method: 'POST', headers: await id.operatorHeaders('reviewer') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.state, 'succeeded');
    assert.equal(r.json.approved_by, id.operators.reviewer.id);
    assert.ok(r.json.channel_refund_no);
    r = await request(`${server.httpsUrl}/v1/refunds/${rid}/approve`, { method: 'POST', headers: await id.operatorHeaders('reviewer') });
    assert.equal(r.status, 409);
    r = await request(`${server.httpsUrl}/v1/refunds/${rid}`, { headers: await id.operatorHeaders('auditor') });
    assert.equal(r.status, 200);
    assert.equal(r.json.state, 'succeeded');
  });

  test('the same operator cannot request and approve; over-refund, unpaid order, citizen refused', async () => {
    server.sqlExec(`UPDATE operators SET roles = roles | 1 WHERE id = ${id.operators.reviewer.id}`); // reviewer + window
    const rev = await id.operatorHeaders('reviewer', { fresh: true });
    let r = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...rev, ...idem() }, json: { order_no: paidOrder.order_no, amount_fen: 100, reason: 'own test' } });
    assert.equal(r.status, 201, r.text);
    r = await request(`${server.httpsUrl}/v1/refunds/${r.json.id}/approve`, { method: 'POST', headers: rev });
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'same_operator');
    server.sqlExec(`UPDATE operators SET roles = 4 WHERE id = ${id.operators.reviewer.id}`);
    const win = await id.operatorHeaders('window');
    r = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...win, ...idem() }, json: { order_no: paidOrder.order_no, amount_fen: 30000, reason: 'too much' } });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'refund_exceeds_payment');
    const c = id.citizens[1];
    const v = await handled(c, { fine: 100 });
    const open = (await createOrder(c, [v])).json;
    r = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...win, ...idem() }, json: { order_no: open.order_no, amount_fen: 100, reason: 'nothing paid' } });
    assert.equal(r.status, 409);
    assert.equal(r.json.code, 'order_not_paid');
    r = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...win, ...idem() }, json: { order_no: paidOrder.order_no, amount_fen: 0, reason: 'zero' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'bad_amount');
    r = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: id.citizenHeaders(c), json: { order_no: paidOrder.order_no, amount_fen: 1, reason: 'me' } });
    assert.equal(r.status, 403);
  });
});

describe('declared inputs (issue 11)', () => {
  test('path ids are digits only: "+5", " 5", "5x" answer 404 like an unknown id; leading zeros are the id', async () => {
    const c = id.citizens[1];
    const v = await handled(c, { fine: 700, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v], 'govportal')).json;
    await sim.notify(sim.pay('govportal', o.order_no, o.amount_fen));
    assert.equal(ostate(o.order_no), 'paid');
    const win = await id.operatorHeaders('window');
    const rf = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...win, ...idem() }, json: { order_no: o.order_no, amount_fen: 100, reason: 'path ids' } });
    assert.equal(rf.status, 201, rf.text);
    const rid = rf.json.id;
    const aud = await id.operatorHeaders('auditor');
    for (const p of [`+${rid}`, `%2B${rid}`, `%20${rid}`, `${rid}x`, `-${rid}`, '0', '99999999999999999999']) {
      const r = await request(`${server.httpsUrl}/v1/refunds/${p}`, { headers: aud });
      assert.equal(r.status, 404, p);
      assert.equal(r.json.code, 'refund_not_found', p);
      const a = await request(`${server.httpsUrl}/v1/refunds/${p}/approve`, { method: 'POST', headers: await id.operatorHeaders('reviewer') });
      assert.equal(a.status, 404, `approve ${p}`);
      assert.equal(a.json.code, 'refund_not_found', `approve ${p}`);
    }
    assert.equal(server.sql(`SELECT state FROM refunds WHERE id = ${rid}`)[0][0], 'requested', 'not approved through a malformed id');
    const r = await request(`${server.httpsUrl}/v1/refunds/00${rid}`, { headers: aud });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, rid);
    for (const p of [`+1`, '1.0', 'abc']) {
      const a = await request(`${server.httpsUrl}/v1/payments/alerts/${p}`, { headers: aud });
      assert.equal(a.status, 404, p);
      assert.equal(a.json.code, 'alert_not_found', p);
    }
  });

  test('declared bodies and queries: refund amount range and reason, receipt code length, order id count', async () => {
    const win = await id.operatorHeaders('window');
    const refund = (json) => request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...win, ...idem() }, json });
    for (const [body, code] of [
      [{ order_no: 'P1', amount_fen: -1, reason: 'negative' }, 'bad_amount'],
      [{ order_no: 'P1', amount_fen: 10000000000001, reason: 'too much' }, 'bad_amount'],
      [{ order_no: 'P1', amount_fen: 100, reason: 'x' }, 'reason_required'],
      [{ order_no: 'P1', amount_fen: 100, reason: '' }, 'reason_required'],
      [{ order_no: 'P1', amount_fen: '100', reason: 'as text' }, 'wrong_type'],
    ]) {
      const r = await refund(body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.json.code, code, JSON.stringify(body));
    }
    // a well-formed refund of an unknown order reaches the handler
    const r = await refund({ order_no: 'PNOPE', amount_fen: 100, reason: 'unknown order' });
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'order_not_found');

    for (const qs of ['', '?code=', `?code=${'0'.repeat(17)}`]) {
      const x = await request(`${server.httpsUrl}/v1/receipts/RNOPE${qs}`);
      assert.equal(x.status, 400, qs);
      assert.equal(x.json.code, 'code_required', qs);
    }
    const c = id.citizens[1];
    const ids = Array.from({ length: 21 }, (_, i) => i + 1);
    const o = await createOrder(c, ids);
    assert.equal(o.status, 400);
    assert.equal(o.json.code, 'bad_violation_ids');
    const n = await request(`${server.httpsUrl}/v1/payments/notify/paypal`, { method: 'POST', body: 'x=1' });
    assert.equal(n.status, 404);
    assert.equal(n.json.code, 'channel_not_found');
  });
});

describe('refund idempotency (issue 10)', () => {
  let paid;
  before(async () => {
    const c = id.citizens[2];
    const v = await handled(c, { fine: 30000, servedDaysAgo: 0 });
    paid = (await createOrder(c, [v], 'govportal')).json;
    await sim.notify(sim.pay('govportal', paid.order_no, paid.amount_fen));
    assert.equal(ostate(paid.order_no), 'paid');
  });
  const refunds = () => count(`SELECT COUNT(*) FROM refunds f JOIN payment_orders o ON o.id = f.order_id WHERE o.order_no = ${q(paid.order_no)}`);
  const post = async (path, { key, json, who = 'window' } = {}) => request(`${server.httpsUrl}${path}`, {
    method: 'POST', json, headers: { ...await id.operatorHeaders(who), ...(key ? { 'Idempotency-Key': key } : {}) },
  });

  test('POST /v1/refunds: the same key and body make one refund request and replay its answer', async () => {
    const body = { order_no: paid.order_no, amount_fen: 1000, reason: 'fee charged twice' };
    const key = randomHex(16);
    const first = await post('/v1/refunds', { key, json: body });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const again = await Promise.all([1, 2, 3].map(() => post('/v1/refunds', { key, json: body })));
    for (const r of again) {
      assert.equal(r.status, 201, r.text);
      assert.equal(r.text, first.text);
      assert.equal(r.headers['idempotent-replayed'], 'true');
    }
    assert.equal(refunds(), 1);
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'payments.refund_request' AND target_id = ${q(first.json.id)}`), 1);
    // the same key with another body is refused; no key at all is refused: nothing more created
    let r = await post('/v1/refunds', { key, json: { ...body, amount_fen: 999 } });
    assert.equal(r.status, 422);
    assert.equal(r.json.code, 'idempotency_key_reused');
    r = await post('/v1/refunds', { json: body });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'idempotency_key_required');
    assert.equal(refunds(), 1);
    // a new key is a new request
    r = await post('/v1/refunds', { key: randomHex(16), json: body });
    assert.equal(r.status, 201, r.text);
    assert.equal(refunds(), 2);
  });

  test('approving with a key: a retry replays the final answer instead of 409', async () => {
    const rf = await post('/v1/refunds', { key: randomHex(16), json: { order_no: paid.order_no, amount_fen: 500, reason: 'over-collected' } });
    assert.equal(rf.status, 201, rf.text);
    const key = randomHex(16);
    const first = await post(`/v1/refunds/${rf.json.id}/approve`, { key, who: 'reviewer' });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.state, 'succeeded');
    const again = await post(`/v1/refunds/${rf.json.id}/approve`, { key, who: 'reviewer' });
    assert.equal(again.status, 200);
    assert.equal(again.text, first.text);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(sim.refunds.filter((x) => x.out_refund_no === rf.json.out_refund_no).length, 1, 'sent to the channel once');
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'payments.refund_approve' AND target_id = ${q(rf.json.id)}`), 1);
    // without a key the state machine answers as before
    const plain = await post(`/v1/refunds/${rf.json.id}/approve`, { who: 'reviewer' });
    assert.equal(plain.status, 409);
    assert.equal(plain.json.code, 'refund_not_pending');
  });
});

describe('reconciliation', () => {
  // The day's report of a channel with its lines: the list gives summaries, the detail the lines.
  async function report(day, channel, headers) {
    const l = await request(`${server.httpsUrl}/v1/reconciliation/reports?date=${day}&channel=${channel}`, { headers });
    assert.equal(l.status, 200, l.text);
    assert.equal(l.json.items.length, 1);
    const d = await request(`${server.httpsUrl}/v1/reconciliation/reports/${l.json.items[0].id}`, { headers });
    assert.equal(d.status, 200, d.text);
    return d.json;
  }

  test('finds matched, not recorded, not in statement and amount mismatches; API and CSV; alerts', async () => {
    const c = id.citizens[3];
    const mk = async (fine) => {
      const v = await handled(c, { fine, servedDaysAgo: 0 });
      const o = (await createOrder(c, [v], 'policeapp')).json;
      const t = sim.pay('policeapp', o.order_no, fine);
      assert.equal((await sim.notify(t)).status, 200);
      return t;
    };
    const matched = await mk(1111);
    const mismatch = await mk(2222);
    const missing = await mk(3333);
    sim.statement.amount(mismatch.tradeNo, 2200);
    sim.statement.drop(missing.tradeNo);
    sim.statement.extra('policeapp', { orderNo: 'P20990101UNKNOWN00000000', tradeNo: 'PO-GHOST-1', amountFen: 999 });
    const day = shanghaiDay();
    const alertsBefore = count("SELECT COUNT(*) FROM payment_alerts WHERE kind = 'reconciliation_mismatch'");
    const out = await cliAsync(['payments-reconcile', 'policeapp', day]);
    assert.equal(out.code, 0, out.stderr);
    const sup = await id.operatorHeaders('supervisor');
    const rep = await report(day, 'policeapp', sup);
    let r;
    // the ghost line, plus any policeapp trade the channel took that onetripd refused (an
    // earlier test pays an alipay order through policeapp: rejected, so never recorded)
    const refused = [...sim.trades.values()].filter((t) => t.channel === 'policeapp' && t.hmacStatus === 'SUCCESS' &&
      count(`SELECT COUNT(*) FROM payments WHERE channel = 'policeapp' AND trade_no = ${q(t.tradeNo)}`) === 0).length;
    assert.equal(rep.not_recorded, 1 + refused);
    assert.equal(rep.not_in_statement, 1);
    assert.equal(rep.amount_mismatch, 1);
    assert.ok(rep.matched >= 1);
    const kindOf = (trade) => rep.lines.find((l) => l.trade_no === trade)?.kind;
    assert.equal(kindOf(matched.tradeNo), 'matched');
    assert.equal(kindOf(mismatch.tradeNo), 'amount_mismatch');
    assert.equal(kindOf(missing.tradeNo), 'not_in_statement');
    assert.equal(kindOf('PO-GHOST-1'), 'not_recorded');
    const mm = rep.lines.find((l) => l.trade_no === mismatch.tradeNo);
    assert.equal(mm.ledger_fen, 2222);
    assert.equal(mm.statement_fen, 2200);
    assert.equal(count("SELECT COUNT(*) FROM payment_alerts WHERE kind = 'reconciliation_mismatch'") - alertsBefore, 3 + refused);
    r = await request(`${server.httpsUrl}/v1/reconciliation/reports/${rep.id}/csv`, { headers: await id.operatorHeaders('auditor') });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /text\/csv/);
    assert.match(r.text, /^channel,date,kind,entry_type,order_no,trade_no,ledger_fen,statement_fen,line_no,reason,text\r\n/);
    assert.match(r.text, new RegExp(`policeapp,${day},amount_mismatch,payment,[^,]+,${mismatch.tradeNo},2222,2200,\\d+,,\r\n`));
    // re-running replaces the day's report
    assert.equal((await cliAsync(['payments-reconcile', 'policeapp', day])).code, 0);
    r = await request(`${server.httpsUrl}/v1/reconciliation/reports?date=${day}&channel=policeapp`, { headers: sup });
    assert.equal(r.json.items.length, 1);
    r = await request(`${server.httpsUrl}/v1/reconciliation/reports?date=${day}`, { headers: await id.operatorHeaders('window') });
    assert.equal(r.status, 403);
    r = await request(`${server.httpsUrl}/v1/reconciliation/reports?date=2025-13-01`, { headers: sup });
    assert.equal(r.status, 400);
  });

  test('channel calls verify the gateway certificate: a wrong CA fails with a clear error, the right CA passes', async () => {
    const day = '2020-01-02';
    // the simulator's certificate is signed by the test CA, not by the rogue one
    const bad = await cliAsync(['payments-reconcile', 'govportal', day], { env: { ONETRIP_PAYMENTS_HTTP_CA_FILE: tlsPaths.rogueCa } });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /statement_unavailable/);
    assert.match(bad.stderr, /msg="statement fetch failed" channel=govportal .*error="SSL certificate problem: unable to get local issuer certificate"/);
    // the system trust store does not know the test CA either
    const sys = await cliAsync(['payments-reconcile', 'govportal', day], { env: { ONETRIP_PAYMENTS_HTTP_CA_FILE: '' } });
    assert.notEqual(sys.code, 0);
    assert.match(sys.stderr, /SSL certificate problem/);
    const good = await cliAsync(['payments-reconcile', 'govportal', day]);
    assert.equal(good.code, 0, good.stderr);
    const port = new URL(sim.url).port;
    // only https:// is accepted for a channel
    const plain = await cliAsync(['payments-reconcile', 'govportal', day],
      { env: { ONETRIP_PAYMENTS_GOVPORTAL_STATEMENT_URL: `http://127.0.0.1:${port}/govportal/statement` } });
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /payments\.govportal_statement_url must be an https:\/\/ URL/);
  });

  test('alipay statement in yuan; refunds reconcile too', async () => {
    const day = shanghaiDay();
    const c = id.citizens[3];
    const v = await handled(c, { fine: 10010, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v])).json;
    const t = sim.pay('alipay', o.order_no, 10010);
    assert.equal((await sim.notify(t)).text, 'success');
    let rr = await request(`${server.httpsUrl}/v1/refunds`, { method: 'POST', headers: { ...await id.operatorHeaders('window'), ...idem() }, json: { order_no: o.order_no, amount_fen: 10, reason: 'rounding' } });
    assert.equal(rr.status, 201, rr.text);
    rr = await request(`${server.httpsUrl}/v1/refunds/${rr.json.id}/approve`, { method: 'POST', headers: await id.operatorHeaders('reviewer') });
    assert.equal(rr.json.state, 'succeeded');
    assert.equal((await cliAsync(['payments-reconcile', 'alipay', day])).code, 0);
    const sup = await id.operatorHeaders('supervisor');
    const rep = await report(day, 'alipay', sup);
    assert.ok(rep.matched >= 2, JSON.stringify(rep));
    assert.equal(rep.amount_mismatch, 0);
    const line = (trade) => rep.lines.find((l) => l.trade_no === trade);
    assert.deepEqual([line(t.tradeNo).kind, line(t.tradeNo).statement_fen], ['matched', 10010]); // "100.10" in the CSV
    assert.deepEqual([line(rr.json.channel_refund_no).kind, line(rr.json.channel_refund_no).entry_type], ['matched', 'refund']);
  });

  test('statement numbers are cleaned and the CSV is RFC 4180 with the formula guard', async () => {
    const day = shanghaiDay();
    // a hostile statement line: formula starts, a quote, a bare CR and non-ASCII (no comma:
    // the statement's own format splits on it)
    sim.statement.extra('govportal', { orderNo: '=HACK"\r订', tradeNo: '@GP-GHOST"1', amountFen: 5 });
    const out = await cliAsync(['payments-reconcile', 'govportal', day]);
    assert.equal(out.code, 0, out.stderr);
    const sup = await id.operatorHeaders('supervisor');
    const rep = await report(day, 'govportal', sup);
    let r;
    const ghost = rep.lines.find((l) => l.trade_no === '@GP-GHOST"1');
    assert.ok(ghost, JSON.stringify(rep.lines));
    assert.equal(ghost.kind, 'not_recorded');
    assert.equal(ghost.order_no, '=HACK"????'); // CR and the three UTF-8 bytes cleaned
    r = await request(`${server.httpsUrl}/v1/reconciliation/reports/${rep.id}/csv`, { headers: await id.operatorHeaders('auditor') });
    assert.equal(r.status, 200);
    // RFC 4180: parse quoted fields; every record has the header's 11 fields
    const records = [];
    let rec = [], field = '', i = 0, quoted = false;
    const t = r.text;
    while (i < t.length) {
      const ch = t[i];
      if (quoted) {
        if (ch === '"' && t[i + 1] === '"') { field += '"'; i += 2; continue; }
        if (ch === '"') { quoted = false; i++; continue; }
        field += ch; i++; continue;
      }
      if (ch === '"' && field === '') { quoted = true; i++; continue; }
      assert.notEqual(ch, '"', `bare quote in an unquoted field at ${i}`);
      if (ch === ',') { rec.push(field); field = ''; i++; continue; }
      if (ch === '\r' && t[i + 1] === '\n') { rec.push(field); records.push(rec); rec = []; field = ''; i += 2; continue; }
      assert.ok(ch !== '\r' && ch !== '\n', `bare line break in a field at ${i}`);
      field += ch; i++;
    }
    assert.equal(field, '');
    assert.deepEqual(records[0], ['channel', 'date', 'kind', 'entry_type', 'order_no', 'trade_no', 'ledger_fen', 'statement_fen',
      'line_no', 'reason', 'text']);
    for (const x of records) assert.equal(x.length, 11, JSON.stringify(x));
    const row = records.find((x) => x[5] === `'@GP-GHOST"1`);
    assert.ok(row, r.text);
    assert.ok(ghost.line_no >= 2);
    assert.deepEqual(row, ['govportal', day, 'not_recorded', 'payment', `'=HACK"????`, `'@GP-GHOST"1`, '', '5', String(ghost.line_no), '', '']);
    assert.ok(r.text.includes(`"'=HACK""????","'@GP-GHOST""1",,5,${ghost.line_no},,\r\n`));
  });
});

describe('Alipay SDK cross-check', () => {
  test('alipay-sdk accepts what the simulator signs, and onetripd accepts what the SDK accepts', async () => {
    const sdk = new AlipaySdk({ appId: sim.keys.alipayAppId, privateKey: sim.keys.alipayPrivate, keyType: 'PKCS8', alipayPublicKey: sim.keys.alipayPublic });
    const c = id.citizens[0];
    const v = await handled(c, { fine: 4321, servedDaysAgo: 0 });
    const o = (await createOrder(c, [v])).json;
    const t = sim.pay('alipay', o.order_no, 4321);
    const n = sim.notification(t);
    // the SDK reads the form as the web framework would: decoded values
    const parsed = Object.fromEntries(new URLSearchParams(n.body));
    assert.equal(sdk.checkNotifySign(parsed), true);
    assert.equal(sdk.checkNotifySignV2(parsed), true);
    const tampered = sim.notification(t, { tamper: { total_amount: '0.01' } });
    const tp = Object.fromEntries(new URLSearchParams(tampered.body));
    assert.equal(sdk.checkNotifySign(tp), false);
    assert.equal(sdk.checkNotifySignV2(tp), false);
    // onetripd agrees with the SDK in both cases
    let r = await request(`${server.httpsUrl}${tampered.path}`, { method: 'POST', headers: tampered.headers, body: tampered.body });
    assert.equal(r.text, 'fail');
    // a notification signed by the SDK's own signing routine (over the same content) verifies
    const sdkSigned = { ...parsed };
    delete sdkSigned.sign;
    const content = Object.keys(sdkSigned).filter((k) => k !== 'sign_type').sort().map((k) => `${k}=${sdkSigned[k]}`).join('&');
    sdkSigned.sign = crypto.createSign('RSA-SHA256').update(content, 'utf8').sign(sim.keys.alipayPrivate, 'base64');
    assert.equal(sdk.checkNotifySignV2(sdkSigned), true);
    r = await request(`${server.httpsUrl}/v1/payments/notify/alipay`, { method: 'POST', headers: n.headers, body: new URLSearchParams(sdkSigned).toString() });
    assert.equal(r.text, 'success');
    assert.equal(ostate(o.order_no), 'paid');
  });
});

describe('launch parameters and outbound signatures (issue 19)', () => {
  const params = (form) => Object.fromEntries(new URLSearchParams(form));

  test('alipay: the app order string and the page/wap URLs verify with alipay-sdk; total_amount and timeout_express match the order', async () => {
    // alipay-sdk checks a signature with the key it is given: here the merchant's app public key
    const appSdk = new AlipaySdk({ appId: sim.keys.alipayAppId, privateKey: sim.keys.alipayAppPrivate, keyType: 'PKCS8', alipayPublicKey: sim.keys.alipayAppPublic });
    const c = id.citizens[0];
    const v = await handled(c, { fine: 12345 });
    const r = await createOrder(c, [v], 'alipay');
    assert.equal(r.status, 201, r.text);
    const l = r.json.launch;
    assert.equal(l.channel, 'alipay');
    const p = params(l.order_string);
    assert.equal(appSdk.checkNotifySignV2(p), true, 'order string signature');
    assert.equal(p.method, 'alipay.trade.app.pay');
    assert.equal(p.app_id, sim.keys.alipayAppId);
    assert.equal(p.sign_type, 'RSA2');
    assert.match(p.notify_url, /^https:\/\/.+\/v1\/payments\/notify\/alipay$/);
    const biz = JSON.parse(p.biz_content);
    assert.equal(biz.out_trade_no, r.json.order_no);
    assert.equal(biz.total_amount, (r.json.amount_fen / 100).toFixed(2));
    assert.equal(biz.total_amount, r.json.amount);
    assert.equal(biz.product_code, 'QUICK_MSECURITY_PAY');
    const left = Math.floor((Date.parse(r.json.expires_at) - Date.now()) / 60000);
    assert.ok([`${left}m`, `${left + 1}m`, `${left - 1}m`].includes(biz.timeout_express), `${biz.timeout_express} vs ${left} minutes`);
    for (const [k, method] of [['page_url', 'alipay.trade.page.pay'], ['wap_url', 'alipay.trade.wap.pay']]) {
      assert.ok(l[k].startsWith(`${sim.url}/gateway.do?`), l[k]);
      const q = params(l[k].slice(l[k].indexOf('?') + 1));
      assert.equal(q.method, method);
      assert.equal(appSdk.checkNotifySignV2(q), true, `${k} signature`);
    }
    // tampering breaks it
    assert.equal(appSdk.checkNotifySignV2({ ...p, biz_content: p.biz_content.replace(biz.total_amount, '0.01') }), false);
  });

  test("alipay: onetripd's gateway requests verify with alipay-sdk, and its answers' envelopes are what alipay-sdk accepts", async () => {
    const appSdk = new AlipaySdk({ appId: sim.keys.alipayAppId, privateKey: sim.keys.alipayAppPrivate, keyType: 'PKCS8', alipayPublicKey: sim.keys.alipayAppPublic });
    const aliSdk = new AlipaySdk({ appId: sim.keys.alipayAppId, privateKey: sim.keys.alipayAppPrivate, keyType: 'PKCS8', alipayPublicKey: sim.keys.alipayPublic });
    const c = id.citizens[0];
    const v = await handled(c, { fine: 4321 });
    const o = (await createOrder(c, [v], 'alipay')).json;
    const ret = await request(`${server.httpsUrl}/v1/payments/orders/${o.order_no}/returned`, {
      method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: {},
    });
    assert.equal(ret.json.state, 'awaiting_confirmation');
    const before = sim.requests.length;
    sim.pay('alipay', o.order_no, o.amount_fen); // paid; the notification is lost
    await job('payments_query');
    assert.equal(ostate(o.order_no), 'paid', 'confirmed by alipay.trade.query');
    const calls = sim.requests.slice(before).filter((x) => x.path === '/gateway.do');
    assert.ok(calls.length >= 1);
    for (const call of calls) assert.equal(appSdk.checkNotifySignV2(params(call.body)), true, 'request signed with the app key');
    const queried = calls.map((x) => params(x.body)).find((x) => x.method === 'alipay.trade.query' && JSON.parse(x.biz_content).out_trade_no === o.order_no);
    assert.ok(queried, 'an alipay.trade.query for the order');
    // alipay-sdk's own response check accepts the simulator's envelope (the same text onetripd verifies)
    const sim2 = await new Promise((resolve, reject) => {
      const body = new URLSearchParams(params(calls[0].body)).toString();
      const u = new URL(`${sim.url}/gateway.do`);
      const rq = https.request(u, { method: 'POST', ca: fs.readFileSync(tlsPaths.ca), headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
        let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve(t));
      });
      rq.on('error', reject);
      rq.end(body);
    });
    const env = JSON.parse(sim2);
    const key = 'alipay_trade_query_response';
    const raw = sim2.slice(sim2.indexOf(`"${key}":`) + key.length + 3, sim2.lastIndexOf(',"sign"'));
    assert.doesNotThrow(() => aliSdk.checkResponseSign(sim2, key, env.sign, 'trace'));
    assert.equal(JSON.parse(raw).out_trade_no, o.order_no);
    assert.match(JSON.parse(raw).send_pay_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(JSON.parse(raw).trade_no, /^\d{28}$/);
  });

  test('wechatpay: a prepay through POST /v3/pay/transactions/app, then app SDK parameters signed with the merchant key', async () => {
    const c = id.citizens[0];
    const v = await handled(c, { fine: 9900 });
    const r = await createOrder(c, [v], 'wechatpay');
    assert.equal(r.status, 201, r.text);
    const l = r.json.launch;
    assert.equal(l.channel, 'wechatpay');
    const pre = sim.prepays.get(r.json.order_no);
    assert.ok(pre, 'the simulator saw the prepay');
    assert.equal(l.prepay_id, pre.prepay_id);
    assert.equal(pre.request.amount.total, r.json.amount_fen);
    assert.equal(pre.request.mchid, sim.keys.wechatMchid);
    assert.equal(Date.parse(pre.request.time_expire), Math.floor(Date.parse(r.json.expires_at) / 1000) * 1000, 'time_expire is the order expiry');
    assert.match(pre.request.time_expire, /\+08:00$/);
    const a = l.app;
    assert.deepEqual([a.appid, a.partnerid, a.prepayid, a.package], [sim.keys.wechatAppid, sim.keys.wechatMchid, pre.prepay_id, 'Sign=WXPay']);
    assert.ok(Math.abs(Number(a.timestamp) - Date.now() / 1000) < 300);
    const ok = crypto.createVerify('RSA-SHA256').update(`${a.appid}\n${a.timestamp}\n${a.noncestr}\n${a.prepayid}\n`).verify(sim.keys.wechatMerchantPublic, a.sign, 'base64');
    assert.equal(ok, true);
    // the prepay request itself carried a valid WECHATPAY2-SHA256-RSA2048 Authorization
    const call = sim.requests.filter((x) => x.path === '/v3/pay/transactions/app').at(-1);
    assert.doesNotThrow(() => sim.wechatVerifyRequest('POST', call.path, call.headers.authorization, call.body));
    assert.throws(() => sim.wechatVerifyRequest('POST', call.path, call.headers.authorization, call.body.replace(String(r.json.amount_fen), '1')));
  });

  test('HMAC channels: launch fields signed with the channel secret', async () => {
    const c = id.citizens[0];
    const v = await handled(c, { fine: 500 });
    const r = await createOrder(c, [v], 'govportal');
    const l = r.json.launch;
    const mac = crypto.createHmac('sha256', sim.keys.govportalSecret).update(`${l.order_no}\n${l.amount_fen}\n${l.expires}\n${l.timestamp}\n${l.nonce}`).digest('hex');
    assert.equal(l.signature, mac);
    assert.equal(l.expires, Math.floor(Date.parse(r.json.expires_at) / 1000));
    assert.equal(l.amount_fen, r.json.amount_fen);
  });
});
