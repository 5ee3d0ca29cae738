// Payments, issue 10 items 9 and 11: money received twice for the same obligation is refunded
// automatically (same order on the same channel, or another order on another channel for the
// same violation), retried until the channel answers and reconciled; a malformed statement line
// no longer blocks a channel's day; operators start reconciliations and read reports and alerts
// over the API. Everything over HTTPS, notifications included.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { startServer, request, randomHex, tlsPaths, dropDatabase, simTls } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';
import { startSim, shanghaiDay } from '../sim/channel-sim.mjs';

let server;
let sim;
let id;
let base;
let seq = 0;

const idem = () => ({ 'Idempotency-Key': randomHex(12) });
const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const count = (query) => Number(server.sql(query)[0][0]);
const ostate = (no) => server.sql(`SELECT state, state_reason FROM payment_orders WHERE order_no = ${q(no)}`)[0];
const vversion = (vid) => count(`SELECT version FROM violations WHERE id = ${vid}`);
const lastNotification = (no) => server.sql(
  `SELECT outcome, reason FROM payment_notifications WHERE order_no = ${q(no)} ORDER BY id DESC LIMIT 1`)[0];
const paymentsOf = (no) => server.sql(
  `SELECT p.trade_no, p.kind, p.amount_fen FROM payments p JOIN payment_orders o ON o.id = p.order_id ` +
  `WHERE o.order_no = ${q(no)} ORDER BY p.id`);
const refundsOf = (no) => server.sql(
  'SELECT f.id, p.trade_no, f.kind, f.state, f.amount_fen, f.requested_by, f.approved_by, f.channel_refund_no, ' +
  'f.attempts, f.last_error FROM refunds f JOIN payments p ON p.id = f.payment_id ' +
  `JOIN payment_orders o ON o.id = f.order_id WHERE o.order_no = ${q(no)} ORDER BY f.id`);
// every refund call the simulator received for that trade, whatever the channel's protocol
const simRefundCalls = (tradeNo) => sim.requests.filter((r) => r.refundTradeNo === tradeNo).length;

/** A handled violation on the citizen's licence (served today: no late fee). */
const licences = new Map();
async function handled(citizen, fine) {
  if (!licences.has(citizen.id)) licences.set(citizen.id, await id.addLicence(citizen));
  seq += 1;
  const decision = `M${Date.now()}${seq}${randomHex(2)}`.slice(0, 32);
  const rows = server.sql(
    'INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, occurred_at, place, code, ' +
    'description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES (' +
    `${q(decision)}, ${q(`浙B${String(seq).padStart(5, '0')}`)}, 'K33', ${licences.get(citizen.id)}, ${citizen.id}, ` +
    `UTC_TIMESTAMP(3), 'somewhere', '1345', 'speeding', ${fine}, 3, 'traffic', 'camera', ` +
    "DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR), 'handled', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();");
  return Number(rows[0][0]);
}

async function createOrder(citizen, violationIds, channel) {
  const r = await request(`${base}/v1/payments/orders`, {
    method: 'POST', headers: { ...id.citizenHeaders(citizen), ...idem() }, json: { violation_ids: violationIds, channel },
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

// Commands and jobs run without blocking this process (the channel simulator lives in it).
const cliAsync = (args) => server.cliAsync(args);
const job = (name) => server.runJob(name);

/** An order paid once (applied) and then paid again with another trade on the same channel. */
async function paidTwice(channel, fine) {
  const c = id.citizens[0];
  const v = await handled(c, fine);
  const o = await createOrder(c, [v], channel);
  const t1 = sim.pay(channel, o.order_no, o.amount_fen);
  assert.equal((await sim.notify(t1)).status, 200);
  const t2 = sim.pay(channel, o.order_no, o.amount_fen);
  assert.equal((await sim.notify(t2)).status, 200);
  return { c, v, o, t1, t2 };
}

before(async () => {
  sim = await startSim({ ca: fs.readFileSync(tlsPaths.ca), tls: simTls() });
  server = await startServer({
    prefix: 'paymoney',
    overrides: { ...sim.overrides(), 'payments.policeapp_statement_url': '', 'jobs.enabled': 0, 'workers.count': 8 },
  });
  base = server.httpsUrl;
  sim.onetripUrl = base;
  id = await setupIdentity(server, { partners: ['post'] });
});

after(async () => {
  if (server) {
    assert.deepEqual(await server.stop(), { code: 0, signal: null });
    dropDatabase(server.db.name);
  }
  if (sim) await sim.stop();
});

describe('money received twice is refunded automatically', () => {
  test('same order paid twice on the same channel: the second trade is recorded and refunded once', async () => {
    const { c, v, o, t1, t2 } = await paidTwice('alipay', 23400);
    assert.deepEqual(lastNotification(o.order_no), ['duplicate_payment', 'second_trade_for_order']);
    // the order keeps its first payment; the second is surplus money on record
    assert.deepEqual(ostate(o.order_no), ['paid', null]);
    assert.deepEqual(paymentsOf(o.order_no), [[t1.tradeNo, 'applied', '23400'], [t2.tradeNo, 'duplicate', '23400']]);
    assert.equal(vversion(v), 1, 'the violation was paid once');
    assert.equal(count(`SELECT COUNT(*) FROM receipts r JOIN payment_orders o ON o.id = r.order_id WHERE o.order_no = ${q(o.order_no)}`), 1);
    // an automatic refund of the second trade, approved by no one: the money was never owed
    let f = refundsOf(o.order_no);
    assert.equal(f.length, 1);
    assert.deepEqual(f[0].slice(1, 7), [t2.tradeNo, 'duplicate_payment', 'approved', '23400', null, null]);
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'duplicate_payment' AND order_no = ${q(o.order_no)}`), 1);
    const audit = server.sql(`SELECT outcome, detail FROM audit_log WHERE action = 'payments.duplicate_payment' ` +
      `AND target_id = (SELECT id FROM payment_orders WHERE order_no = ${q(o.order_no)})`);
    assert.equal(audit.length, 1);
    assert.equal(audit[0][0], 'refund_created');
    assert.equal(JSON.parse(audit[0][1]).trade_no, t2.tradeNo);
    // resends of either trade change nothing
    for (const t of [t1, t2, t2]) assert.equal((await sim.notify(t)).text, 'success');
    assert.deepEqual(lastNotification(o.order_no), ['duplicate', null]);
    assert.equal(refundsOf(o.order_no).length, 1);
    assert.equal(paymentsOf(o.order_no).length, 2);
    // the refunds job gives the second trade back through the channel, once
    await job('payments_refunds');
    f = refundsOf(o.order_no);
    assert.equal(f[0][3], 'succeeded');
    assert.ok(f[0][7], 'channel refund number recorded');
    assert.equal(simRefundCalls(t2.tradeNo), 1);
    assert.equal(simRefundCalls(t1.tradeNo), 0);
    assert.deepEqual(sim.refunds.filter((x) => x.trade_no === t2.tradeNo).map((x) => [x.amount_fen, x.status]), [[23400, 'SUCCESS']]);
    await job('payments_refunds');
    assert.equal(simRefundCalls(t2.tradeNo), 1, 'a finished refund is not sent again');
    // the payer still sees one paid order
    const g = await request(`${base}/v1/payments/orders/${o.order_no}`, { headers: id.citizenHeaders(c) });
    assert.equal(g.json.state, 'paid');
    assert.equal(g.json.trade_no, t1.tradeNo);
    // what an operator may still refund is the applied payment, untouched by the surplus refund
    const win = await id.operatorHeaders('window');
    const r = await request(`${base}/v1/refunds`, {
      method: 'POST', headers: { ...win, ...idem() }, json: { order_no: o.order_no, amount_fen: 23400, reason: 'fine annulled' },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(count(`SELECT COUNT(*) FROM refunds f JOIN payments p ON p.id = f.payment_id WHERE f.id = ${r.json.id} AND p.kind = 'applied'`), 1);
    const over = await request(`${base}/v1/refunds`, {
      method: 'POST', headers: { ...win, ...idem() }, json: { order_no: o.order_no, amount_fen: 1, reason: 'one more' },
    });
    assert.equal(over.status, 409);
    assert.equal(over.json.code, 'refund_exceeds_payment');
  });

  test('a violation paid on alipay, then through another order on wechatpay: the wechatpay payment is refunded', async () => {
    const c = id.citizens[1];
    const v = await handled(c, 8800);
    const a = await createOrder(c, [v], 'alipay');
    server.sqlExec(`UPDATE payment_orders SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE WHERE order_no = ${q(a.order_no)}`);
    await job('payments_expire');
    const b = await createOrder(c, [v], 'wechatpay');
    // the payer pays both: alipay first (the order it had abandoned), then wechatpay
    const ta = sim.pay('alipay', a.order_no, a.amount_fen);
    assert.equal((await sim.notify(ta)).text, 'success');
    assert.deepEqual(ostate(a.order_no), ['paid', null]);
    assert.deepEqual(ostate(b.order_no), ['closed', 'paid_by_other_order']);
    const tb = sim.pay('wechatpay', b.order_no, b.amount_fen);
    const r = await sim.notify(tb);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), { code: 'SUCCESS' }, 'the channel must stop resending');
    assert.deepEqual(lastNotification(b.order_no), ['duplicate_payment', 'violations_already_paid']);
    assert.deepEqual(ostate(b.order_no), ['closed', 'duplicate_payment']);
    assert.deepEqual(paymentsOf(b.order_no), [[tb.tradeNo, 'duplicate', '8800']]);
    assert.equal(vversion(v), 1);
    assert.deepEqual(refundsOf(a.order_no), []);
    await job('payments_refunds');
    const f = refundsOf(b.order_no);
    assert.equal(f.length, 1);
    assert.deepEqual(f[0].slice(1, 5), [tb.tradeNo, 'duplicate_payment', 'succeeded', '8800']);
    assert.equal(simRefundCalls(tb.tradeNo), 1);
    assert.equal(sim.refunds.filter((x) => x.channel === 'wechatpay' && x.trade_no === tb.tradeNo).length, 1);
    assert.equal(simRefundCalls(ta.tradeNo), 0);
  });

  test('concurrent notifications of two trades for one order: one applied payment, the other refunded once', async () => {
    const c = id.citizens[2];
    const v = await handled(c, 5100);
    const o = await createOrder(c, [v], 'wechatpay');
    const t1 = sim.pay('wechatpay', o.order_no, o.amount_fen);
    const t2 = sim.pay('wechatpay', o.order_no, o.amount_fen);
    const sends = [];
    for (let i = 0; i < 20; i++) sends.push(sim.notify(t1), sim.notify(t2));
    const rs = await Promise.all(sends);
    for (const r of rs) assert.equal(r.status, 200, r.text);
    const p = paymentsOf(o.order_no);
    assert.equal(p.length, 2);
    assert.deepEqual(p.map((x) => x[1]).sort(), ['applied', 'duplicate']);
    assert.deepEqual(p.map((x) => x[0]).sort(), [t1.tradeNo, t2.tradeNo].sort());
    const surplus = p.find((x) => x[1] === 'duplicate')[0];
    const f = refundsOf(o.order_no);
    assert.equal(f.length, 1);
    assert.equal(f[0][1], surplus);
    assert.equal(vversion(v), 1);
    assert.equal(count(`SELECT COUNT(*) FROM receipts r JOIN payment_orders o ON o.id = r.order_id WHERE o.order_no = ${q(o.order_no)}`), 1);
    const outcomes = server.sql(`SELECT outcome, COUNT(*) FROM payment_notifications WHERE order_no = ${q(o.order_no)} GROUP BY outcome ORDER BY outcome`);
    assert.deepEqual(outcomes, [['applied', '1'], ['duplicate', '38'], ['duplicate_payment', '1']]);
    await job('payments_refunds');
    assert.equal(refundsOf(o.order_no)[0][3], 'succeeded');
    assert.equal(simRefundCalls(surplus), 1);
  });

  test('a refund the channel cannot take now is retried later, with the reason kept; an exhausted one is alerted', async () => {
    const { o, t2 } = await paidTwice('alipay', 3100);
    sim.failRefunds(1);
    await job('payments_refunds');
    let f = refundsOf(o.order_no)[0];
    // Alipay says it is busy in its signed envelope: code 20000 (isp.unknow-error)
    assert.deepEqual([f[3], f[8], f[9]], ['approved', '1', 'channel_code_20000']);
    assert.equal(count(`SELECT next_attempt_at > UTC_TIMESTAMP(3) FROM refunds WHERE id = ${f[0]}`), 1, 'next attempt scheduled later');
    await job('payments_refunds');
    assert.equal(simRefundCalls(t2.tradeNo), 1, 'not retried before its time');
    server.sqlExec(`UPDATE refunds SET next_attempt_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE id = ${f[0]}`);
    await job('payments_refunds');
    f = refundsOf(o.order_no)[0];
    assert.deepEqual([f[3], f[8]], ['succeeded', '2']);
    assert.equal(sim.refunds.filter((x) => x.trade_no === t2.tradeNo && x.status === 'SUCCESS').length, 1);

    // the last allowed attempt fails: an operator is told, and the job stops trying
    const second = await paidTwice('alipay', 3200);
    const rid = refundsOf(second.o.order_no)[0][0];
    server.sqlExec(`UPDATE refunds SET attempts = 19 WHERE id = ${rid}`);
    sim.failRefunds(1);
    await job('payments_refunds');
    assert.equal(refundsOf(second.o.order_no)[0][3], 'approved');
    const stuck = server.sql(`SELECT channel, order_no, detail FROM payment_alerts WHERE kind = 'refund_stuck' AND ref_id = ${rid}`);
    assert.equal(stuck.length, 1);
    assert.deepEqual(stuck[0].slice(0, 2), ['alipay', second.o.order_no]);
    assert.match(stuck[0][2], /20 attempts: channel_code_20000/);
    server.sqlExec(`UPDATE refunds SET next_attempt_at = NULL WHERE id = ${rid}`);
    await job('payments_refunds');
    assert.equal(simRefundCalls(second.t2.tradeNo), 1, 'no attempt beyond the limit');
  });

  test("reconciliation of the day: each surplus payment and its refund match; nothing unexplained", async () => {
    const day = shanghaiDay();
    const sup = await id.operatorHeaders('supervisor');
    for (const channel of ['alipay', 'wechatpay']) {
      const r = await request(`${base}/v1/reconciliation/reports`, { method: 'POST', headers: { ...sup, ...idem() }, json: { channel, date: day } });
      assert.equal(r.status, 201, r.text);
      const rep = r.json;
      assert.deepEqual([rep.not_recorded, rep.not_in_statement, rep.amount_mismatch, rep.malformed, rep.balanced],
        [0, 0, 0, 0, true], `${channel}: ${JSON.stringify(rep.lines.filter((l) => l.kind !== 'matched'))}`);
      assert.equal(rep.statement_lines, rep.matched);
      assert.equal(rep.statement_total_fen, rep.ledger_total_fen);
      // every surplus payment of the channel is there, explained, with its refund when it went out
      const surplus = server.sql(`SELECT p.trade_no, f.channel_refund_no FROM payments p JOIN refunds f ON f.payment_id = p.id ` +
        `WHERE p.kind = 'duplicate' AND p.channel = ${q(channel)}`);
      assert.ok(surplus.length >= 1);
      for (const [trade, refundNo] of surplus) {
        const pl = rep.lines.find((l) => l.trade_no === trade);
        assert.deepEqual([pl.kind, pl.entry_type, pl.reason], ['matched', 'payment', 'surplus_payment']);
        assert.ok(pl.line_no >= 2);
        if (refundNo === null) continue; // the exhausted one never reached the channel
        const rl = rep.lines.find((l) => l.trade_no === refundNo);
        assert.deepEqual([rl.kind, rl.entry_type, rl.reason], ['matched', 'refund', 'automatic_refund']);
      }
    }
  });
});

describe('reconciliation with a malformed statement line', () => {
  test('the good lines are reconciled, the bad one is reported with its line number and alerted', async () => {
    const day = shanghaiDay();
    const c = id.citizens[3];
    const trades = [];
    for (const fine of [1500, 2500]) {
      const o = await createOrder(c, [await handled(c, fine)], 'govportal');
      const t = sim.pay('govportal', o.order_no, fine);
      assert.equal((await sim.notify(t)).status, 200);
      trades.push(t);
    }
    // line 1 is the header, line 2 the first payment: the broken line sits between the two
    sim.statement.insert('govportal', 3, 'payment,P20990101BROKEN,GP-BROKEN-1');
    const alertsBefore = count("SELECT COUNT(*) FROM payment_alerts WHERE kind = 'statement_malformed'");
    // the daily job's path (the CLI): before the fix it stopped with "statement_malformed"
    const out = await cliAsync(['payments-reconcile', 'govportal', day]);
    assert.equal(out.code, 0, out.stderr);
    const sup = await id.operatorHeaders('supervisor');
    const list = await request(`${base}/v1/reconciliation/reports?date=${day}&channel=govportal`, { headers: sup });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json.items.length, 1);
    assert.equal(list.json.next_before, null);
    const sum = list.json.items[0];
    assert.deepEqual([sum.matched, sum.malformed, sum.not_recorded, sum.not_in_statement, sum.amount_mismatch, sum.statement_lines, sum.balanced],
      [2, 1, 0, 0, 0, 3, false]);
    assert.equal(sum.lines, undefined, 'the list carries no lines');
    const d = await request(`${base}/v1/reconciliation/reports/${sum.id}`, { headers: await id.operatorHeaders('auditor') });
    assert.equal(d.status, 200, d.text);
    const bad = d.json.lines.filter((l) => l.kind === 'malformed');
    assert.deepEqual(bad, [{
      kind: 'malformed', entry_type: null, line_no: 3, order_no: null, trade_no: null, ledger_fen: null,
      statement_fen: null, reason: 'field_count', text: 'payment,P20990101BROKEN,GP-BROKEN-1',
    }]);
    const byTrade = (t) => d.json.lines.find((l) => l.trade_no === t.tradeNo);
    assert.deepEqual([byTrade(trades[0]).kind, byTrade(trades[0]).line_no], ['matched', 2]);
    assert.deepEqual([byTrade(trades[1]).kind, byTrade(trades[1]).line_no], ['matched', 4]);
    // one alert for the statement, naming the line
    const alerts = server.sql("SELECT channel, ref_id, detail FROM payment_alerts WHERE kind = 'statement_malformed' ORDER BY id DESC LIMIT 1");
    assert.equal(count("SELECT COUNT(*) FROM payment_alerts WHERE kind = 'statement_malformed'"), alertsBefore + 1);
    assert.deepEqual(alerts[0].slice(0, 2), ['govportal', String(sum.id)]);
    assert.match(alerts[0][2], /1 malformed statement line \(line 3\)/);
    // the CSV carries line numbers and reasons
    const csv = await request(`${base}/v1/reconciliation/reports/${sum.id}/csv`, { headers: sup });
    assert.equal(csv.status, 200);
    assert.match(csv.text, /^channel,date,kind,entry_type,order_no,trade_no,ledger_fen,statement_fen,line_no,reason,text\r\n/);
    assert.ok(csv.text.includes(`govportal,${day},malformed,,,,,,3,field_count,"payment,P20990101BROKEN,GP-BROKEN-1"\r\n`), csv.text);
    assert.ok(csv.text.includes(`govportal,${day},matched,payment,`));
  });
});

describe('reconciliation and alerts over the API', () => {
  test('a supervisor starts a reconciliation; Idempotency-Key replays it; bad input is refused', async () => {
    const day = shanghaiDay();
    const sup = await id.operatorHeaders('supervisor');
    const url = `${base}/v1/reconciliation/reports`;
    const key = idem();
    const first = await request(url, { method: 'POST', headers: { ...sup, ...key }, json: { channel: 'govportal', date: day } });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.channel, 'govportal');
    assert.equal(first.json.date, day);
    assert.ok(Array.isArray(first.json.lines));
    const replay = await request(url, { method: 'POST', headers: { ...sup, ...key }, json: { channel: 'govportal', date: day } });
    assert.equal(replay.status, 201);
    assert.equal(replay.json.id, first.json.id);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const reused = await request(url, { method: 'POST', headers: { ...sup, ...key }, json: { channel: 'alipay', date: day } });
    assert.equal(reused.status, 422);
    assert.equal(reused.json.code, 'idempotency_key_reused');
    const audit = server.sql(`SELECT caller_kind, caller_id, outcome FROM audit_log WHERE action = 'payments.reconcile' AND target_id = ${q(first.json.id)}`);
    assert.deepEqual(audit, [['operator', String(id.operators.supervisor.id), 'mismatch']]);
    // a new run replaces the day's report
    const again = await request(url, { method: 'POST', headers: { ...sup, ...idem() }, json: { channel: 'govportal', date: day } });
    assert.equal(again.status, 201);
    assert.notEqual(again.json.id, first.json.id);
    assert.equal((await request(`${url}/${first.json.id}`, { headers: sup })).status, 404);

    const bad = [
      [{ channel: 'paypal', date: day }, 400, 'unknown_channel'],
      [{ channel: 'alipay', date: '2025-02-30' }, 400, 'bad_date'],
      [{ channel: 'alipay', date: '2999-01-01' }, 400, 'date_in_future'],
      [{ channel: 'alipay' }, 400, null],
      [{ channel: 'alipay', date: day, extra: 1 }, 400, null],
      [{ channel: 'policeapp', date: day }, 409, 'no_statement_url'],
    ];
    for (const [body, status, code] of bad) {
      const r = await request(url, { method: 'POST', headers: { ...sup, ...idem() }, json: body });
      assert.equal(r.status, status, JSON.stringify(body));
      if (code) assert.equal(r.json.code, code, JSON.stringify(body));
    }
    const noKey = await request(url, { method: 'POST', headers: sup, json: { channel: 'alipay', date: day } });
    assert.equal(noKey.status, 400);
    assert.equal(noKey.json.code, 'idempotency_key_required');

    // one 503 is retried (a statement download is idempotent): the call succeeds
    const calls = () => sim.requests.filter((q) => q.path === '/alipay/bill/download').length;
    sim.failStatements(1);
    let before = calls();
    const once = await request(url, { method: 'POST', headers: { ...sup, ...idem() }, json: { channel: 'alipay', date: day } });
    assert.equal(once.status, 201, once.text);
    assert.equal(calls() - before, 2);
    // the channel does not deliver on any attempt (1 + payments.http_retries = 3): 502, an
    // alert, and the key is free for a retry
    sim.failStatements(3);
    const k2 = idem();
    before = calls();
    const down = await request(url, { method: 'POST', headers: { ...sup, ...k2 }, json: { channel: 'alipay', date: day } });
    assert.equal(down.status, 502, down.text);
    assert.equal(calls() - before, 3);
    assert.equal(down.json.code, 'statement_unavailable');
    assert.equal(count("SELECT COUNT(*) FROM payment_alerts WHERE kind = 'reconciliation_failed' AND channel = 'alipay'"), 1);
    const retry = await request(url, { method: 'POST', headers: { ...sup, ...k2 }, json: { channel: 'alipay', date: day } });
    assert.equal(retry.status, 201, retry.text);
  });

  test('reports and alerts: list with filters and cursor, detail, 404s, bad parameters', async () => {
    const day = shanghaiDay();
    const aud = await id.operatorHeaders('auditor');
    // reports: one page at a time
    let r = await request(`${base}/v1/reconciliation/reports?limit=1`, { headers: aud });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.items.length, 1);
    assert.ok(r.json.next_before);
    const seen = [r.json.items[0].id];
    for (let next = r.json.next_before, guard = 0; next !== null && guard < 20; guard++) {
      r = await request(`${base}/v1/reconciliation/reports?limit=1&before=${next}`, { headers: aud });
      assert.equal(r.status, 200);
      seen.push(...r.json.items.map((x) => x.id));
      next = r.json.next_before;
    }
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'newest first, no repeats');
    const all = count('SELECT COUNT(*) FROM reconciliation_reports');
    assert.equal(new Set(seen).size, all);
    r = await request(`${base}/v1/reconciliation/reports?channel=alipay&date=${day}`, { headers: aud });
    assert.deepEqual(r.json.items.map((x) => [x.channel, x.date]), [['alipay', day]]);
    r = await request(`${base}/v1/reconciliation/reports?date=2001-01-01`, { headers: aud });
    assert.deepEqual(r.json, { items: [], next_before: null });
    for (const qs of ['limit=0', 'limit=101', 'limit=x', 'before=0', 'before=-1', 'date=2025-13-01', 'channel=paypal']) {
      r = await request(`${base}/v1/reconciliation/reports?${qs}`, { headers: aud });
      assert.equal(r.status, 400, qs);
    }
    for (const p of ['999999', '0', 'abc']) {
      r = await request(`${base}/v1/reconciliation/reports/${p}`, { headers: aud });
      assert.equal(r.status, 404, p);
      assert.equal(r.json.code, 'report_not_found');
    }

    // alerts
    r = await request(`${base}/v1/payments/alerts?channel=govportal&kind=statement_malformed`, { headers: aud });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.items.length >= 1);
    for (const a of r.json.items) assert.deepEqual([a.channel, a.kind], ['govportal', 'statement_malformed']);
    const one = r.json.items[0];
    assert.deepEqual(Object.keys(one).sort(), ['channel', 'created_at', 'detail', 'id', 'kind', 'order_no', 'ref_id']);
    assert.match(one.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    r = await request(`${base}/v1/payments/alerts/${one.id}`, { headers: await id.operatorHeaders('supervisor') });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, one);
    r = await request(`${base}/v1/payments/alerts?date=${day}&kind=duplicate_payment&limit=2`, { headers: aud });
    assert.equal(r.json.items.length, 2);
    const dupTotal = count("SELECT COUNT(*) FROM payment_alerts WHERE kind = 'duplicate_payment'");
    const ids = r.json.items.map((x) => x.id);
    for (let next = r.json.next_before, guard = 0; next !== null && guard < 20; guard++) {
      r = await request(`${base}/v1/payments/alerts?date=${day}&kind=duplicate_payment&limit=2&before=${next}`, { headers: aud });
      ids.push(...r.json.items.map((x) => x.id));
      next = r.json.next_before;
    }
    assert.equal(ids.length, dupTotal);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    r = await request(`${base}/v1/payments/alerts?date=2001-01-01`, { headers: aud });
    assert.deepEqual(r.json, { items: [], next_before: null });
    for (const qs of ['limit=0', 'before=x', 'date=yesterday', 'channel=paypal', 'kind=']) {
      r = await request(`${base}/v1/payments/alerts?${qs}`, { headers: aud });
      assert.equal(r.status, 400, qs);
    }
    r = await request(`${base}/v1/payments/alerts/99999999`, { headers: aud });
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'alert_not_found');
  });

  test('permissions: citizens, partners and operators without the role are refused (403), anonymous 401', async () => {
    const day = shanghaiDay();
    const rep = count('SELECT MAX(id) FROM reconciliation_reports');
    const alert = count('SELECT MAX(id) FROM payment_alerts');
    const reads = [
      `/v1/reconciliation/reports`, `/v1/reconciliation/reports/${rep}`, `/v1/reconciliation/reports/${rep}/csv`,
      `/v1/payments/alerts`, `/v1/payments/alerts/${alert}`,
    ];
    const post = (headers, extra = {}) => request(`${base}/v1/reconciliation/reports`, {
      method: 'POST', headers: { ...headers, ...idem() }, json: { channel: 'govportal', date: day }, ...extra,
    });
    // each call gets its caller's headers afresh (an app token's jti is good once)
    const callers = {
      citizen: async () => ({ headers: id.citizenHeaders(id.citizens[0]) }),
      partner: async () => ({ headers: {}, ...id.partnerTls('post') }),
      window: async () => ({ headers: await id.operatorHeaders('window') }),
      reviewer: async () => ({ headers: await id.operatorHeaders('reviewer') }),
      inspector: async () => ({ headers: await id.operatorHeaders('inspector') }),
    };
    for (const [who, caller] of Object.entries(callers)) {
      for (const path of reads) {
        const c = await caller();
        const r = await request(`${base}${path}`, { headers: c.headers, cert: c.cert, key: c.key });
        assert.equal(r.status, 403, `${who} GET ${path}: ${r.text}`);
      }
      const c = await caller();
      const r = await post(c.headers, { cert: c.cert, key: c.key });
      assert.equal(r.status, 403, `${who} POST: ${r.text}`);
    }
    // auditors and admins read but do not start reconciliations
    for (const role of ['auditor', 'admin']) {
      const h = await id.operatorHeaders(role);
      for (const path of reads) assert.equal((await request(`${base}${path}`, { headers: h })).status, 200, `${role} GET ${path}`);
      assert.equal((await post(h)).status, 403, `${role} POST`);
    }
    for (const path of reads) assert.equal((await request(`${base}${path}`)).status, 401, `anonymous GET ${path}`);
    assert.equal((await post({})).status, 401);
    // refusals are audited
    assert.ok(count("SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND target_id = 'payments.reconciliation_run'") >= 7);
    assert.ok(count("SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND target_id = 'payments.alerts_read'") >= 10);
  });
});
