// WeChat Pay details (issue 19): refund callbacks (REFUND.SUCCESS / ABNORMAL / CLOSED) at
// payments.wechat_refund_notify_url, checked like payment callbacks and applied once; a refund
// answered PROCESSING is read through the refund query API by the refunds job, not sent again;
// signature probes (WECHATPAY/SIGNTEST/) are refused without an alert or a row each.
// Everything over HTTPS against the channel simulator.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

import { startServer, request, randomHex, tlsPaths, dropDatabase, simTls } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';
import { startSim } from '../sim/channel-sim.mjs';

// wechatpay-node-v3 (a maintained WeChat Pay API v3 SDK; CommonJS)
const WxPay = createRequire(import.meta.url)('wechatpay-node-v3');

let server;
let sim;
let id;
let base;
let seq = 0;

const idem = () => ({ 'Idempotency-Key': randomHex(12) });
const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const count = (query) => Number(server.sql(query)[0][0]);
const job = (name) => server.runJob(name);
/** [id, state, channel_refund_no, failure_reason, attempts, last_error, out_refund_no] of an order's refund. */
const refundOf = (no) => server.sql(
  'SELECT f.id, f.state, f.channel_refund_no, f.failure_reason, f.attempts, f.last_error, f.out_refund_no ' +
  `FROM refunds f JOIN payment_orders o ON o.id = f.order_id WHERE o.order_no = ${q(no)} ORDER BY f.id`)[0];
const refundCalls = (outNo) => sim.requests.filter((r) => r.method === 'POST' && r.path === '/v3/refund/domestic/refunds' &&
  JSON.parse(r.body).out_refund_no === outNo).length;
const refundQueries = (outNo) => sim.requests.filter((r) => r.refundQuery === outNo).length;
const licences = new Map();
async function handled(citizen, fine) {
  if (!licences.has(citizen.id)) licences.set(citizen.id, await id.addLicence(citizen));
  seq += 1;
  const decision = `W${Date.now()}${seq}${randomHex(2)}`.slice(0, 32);
  const rows = server.sql(
    'INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, occurred_at, place, code, ' +
    'description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES (' +
    `${q(decision)}, ${q(`浙W${String(seq).padStart(5, '0')}`)}, 'K33', ${licences.get(citizen.id)}, ${citizen.id}, ` +
    `UTC_TIMESTAMP(3), 'somewhere', '1345', 'speeding', ${fine}, 3, 'traffic', 'camera', ` +
    "DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR), 'handled', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();");
  return Number(rows[0][0]);
}

async function createOrder(citizen, violationIds, channel = 'wechatpay', extra = {}) {
  const r = await request(`${base}/v1/payments/orders`, {
    method: 'POST', headers: { ...id.citizenHeaders(citizen), ...idem() }, json: { violation_ids: violationIds, channel, ...extra },
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

/** An order paid twice on WeChat Pay: the second trade gets an automatic refund (approved). */
async function paidTwice(fine) {
  const c = id.citizens[0];
  const o = await createOrder(c, [await handled(c, fine)]);
  const t1 = sim.pay('wechatpay', o.order_no, o.amount_fen);
  assert.equal((await sim.notify(t1)).status, 200);
  const t2 = sim.pay('wechatpay', o.order_no, o.amount_fen);
  assert.equal((await sim.notify(t2)).status, 200);
  const f = refundOf(o.order_no);
  assert.equal(f[1], 'approved');
  return { o, t1, t2, outNo: f[6] };
}

/** A refund the refunds job sent and WeChat answered PROCESSING. */
async function processing(fine) {
  const p = await paidTwice(fine);
  sim.processRefunds(1);
  await job('payments_refunds');
  const f = refundOf(p.o.order_no);
  assert.deepEqual([f[1], f[5]], ['approved', 'channel_processing']);
  assert.equal(refundCalls(p.outNo), 1);
  return { ...p, r: sim.refunds.find((x) => x.out_refund_no === p.outNo), rid: f[0] };
}

/** r's refund callback, sent where onetripd told WeChat to send it (payments.wechat_refund_notify_url
 * names the test server's address before its port is known: the path is what counts). */
function notifyRefund(r, o = {}) {
  return sim.notifyRefund(r, { ...o, url: `${base}${new URL(r.notify_url).pathname}` });
}

function deliverRefund(r, o = {}) {
  const n = sim.refundNotification(r, o);
  return request(`${base}${n.path}`, { method: 'POST', body: n.body, headers: n.headers, localAddress: o.from });
}

before(async () => {
  sim = await startSim({ ca: fs.readFileSync(tlsPaths.ca), tls: simTls() });
  server = await startServer({
    prefix: 'paywechat',
    overrides: { ...sim.overrides(), 'jobs.enabled': 0 },
  });
  base = server.httpsUrl;
  sim.onetripUrl = base;
  id = await setupIdentity(server, { citizens: 1, partners: [] });
});

after(async () => {
  if (sim) await sim.stop();
  if (!server) return;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  dropDatabase(server.db.name);
});

describe('WeChat Pay refund callbacks', () => {
  test('a PROCESSING refund ends with REFUND.SUCCESS at the refund notify URL; resends change nothing', async () => {
    const { o, r, rid, outNo } = await processing(4100);
    // onetripd told WeChat where to notify: the route that serves it
    assert.match(r.notify_url, /^https:\/\/[^/]+\/v1\/payments\/notify\/wechatpay\/refund$/);
    sim.finishRefund(outNo, 'SUCCESS');
    const res = await notifyRefund(r);
    assert.equal(res.status, 204, res.text);
    assert.equal(res.text, '');
    let f = refundOf(o.order_no);
    assert.deepEqual([f[1], f[2]], ['succeeded', r.refund_no]);
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'payments.refund_sent' AND target_id = ${q(rid)} AND outcome = 'succeeded'`), 1);
    // WeChat resends (duplicates can come a second apart): answered the same, applied once
    const again = await Promise.all([notifyRefund(r), notifyRefund(r)]);
    assert.deepEqual(again.map((x) => x.status), [204, 204]);
    f = refundOf(o.order_no);
    assert.deepEqual([f[1], f[2]], ['succeeded', r.refund_no]);
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'payments.refund_sent' AND target_id = ${q(rid)}`), 1);
    const rows = server.sql("SELECT outcome, verified, trade_status, order_no, trade_no, amount_fen FROM payment_notifications " +
      `WHERE source = 'refund_notify' AND notify_id = ${q(r.notify_id)} ORDER BY id`);
    assert.deepEqual(rows.map((x) => x[0]).sort(), ['applied', 'duplicate', 'duplicate']);
    for (const x of rows) assert.deepEqual(x.slice(1), ['1', 'SUCCESS', o.order_no, r.refund_no, String(r.amount_fen)]);
    // the refunds job no longer touches it
    await job('payments_refunds');
    assert.equal(refundCalls(outNo) + refundQueries(outNo), 1);
  });

  test('REFUND.ABNORMAL and REFUND.CLOSED fail the refund and alert an operator', async () => {
    for (const status of ['ABNORMAL', 'CLOSED']) {
      const { o, r, rid, outNo } = await processing(4200);
      sim.finishRefund(outNo, status);
      const res = await notifyRefund(r);
      assert.equal(res.status, 204, res.text);
      const f = refundOf(o.order_no);
      assert.deepEqual([f[1], f[2], f[3]], ['failed', null, status]);
      assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'refund_failed' AND ref_id = ${rid}`), 1);
      assert.equal((await notifyRefund(r)).status, 204);
      assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'refund_failed' AND ref_id = ${rid}`), 1);
    }
  });

  test('refused callbacks are answered 4xx with {code, message} so WeChat resends; the refund is untouched', async () => {
    const { o, r, outNo } = await processing(4300);
    sim.finishRefund(outNo, 'SUCCESS');
    const cases = [
      [{ timestamp: Math.floor(Date.now() / 1000) - 3600 }, 'stale_timestamp'],
      [{ serial: 'PUB_KEY_ID_UNKNOWN' }, 'unknown_serial'],
      [{ tamperBody: (b) => b.replace('"REFUND.SUCCESS"', '"REFUND.SUCCESS" ') }, 'bad_signature'],
      [{ apiKey: 'K'.repeat(32) }, 'decrypt_failed'], // signed, but the GCM tag does not check
      [{ eventType: 'REFUND.CLOSED' }, 'event_status_mismatch'],
      [{ amountFen: r.amount_fen + 1 }, 'amount_mismatch'],
      [{ mchid: '1900000001' }, 'wrong_app_id'],
    ];
    for (const [o2, reason] of cases) {
      const notifyId = `refused-${reason}-${randomHex(4)}`;
      const res = await deliverRefund(r, { ...o2, notifyId });
      assert.ok(res.status >= 400 && res.status < 600, `${reason}: ${res.status}`);
      const j = JSON.parse(res.text);
      assert.equal(j.code, 'FAIL', reason);
      assert.equal(typeof j.message, 'string');
      assert.equal(refundOf(o.order_no)[1], 'approved', reason);
      const row = server.sql(`SELECT outcome, reason FROM payment_notifications WHERE source = 'refund_notify' ORDER BY id DESC LIMIT 1`)[0];
      assert.deepEqual(row, ['rejected', reason]);
    }
    // an unknown refund number, authentic: refused and alerted
    const ghost = { ...r, out_refund_no: `RF${randomHex(8).toUpperCase()}` };
    const res = await deliverRefund(ghost);
    assert.equal(res.status, 400);
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'notification_rejected' AND detail LIKE '%unknown_refund%'`), 1);
    // the genuine one still goes through afterwards
    assert.equal((await notifyRefund(r)).status, 204);
    assert.equal(refundOf(o.order_no)[1], 'succeeded');
  });

  test('the refunds job reads a PROCESSING refund with the refund query API instead of sending it again', async () => {
    const { o, r, outNo, rid } = await processing(4400);
    // still processing: asked, not resent, and still approved
    server.sqlExec(`UPDATE refunds SET next_attempt_at = NULL WHERE id = ${rid}`);
    await job('payments_refunds');
    let f = refundOf(o.order_no);
    assert.deepEqual([f[1], f[5]], ['approved', 'channel_processing']);
    assert.equal(refundQueries(outNo), 1);
    assert.equal(refundCalls(outNo), 1, 'not sent again');
    // WeChat finished it (no callback reached us): the next query says so
    sim.finishRefund(outNo, 'SUCCESS');
    server.sqlExec(`UPDATE refunds SET next_attempt_at = NULL WHERE id = ${rid}`);
    await job('payments_refunds');
    f = refundOf(o.order_no);
    assert.deepEqual([f[1], f[2]], ['succeeded', r.refund_no]);
    assert.equal(refundQueries(outNo), 2);
    assert.equal(refundCalls(outNo), 1);
    // the late callback is then a duplicate
    assert.equal((await notifyRefund(r)).status, 204);
    assert.equal(server.sql(`SELECT outcome FROM payment_notifications WHERE source = 'refund_notify' AND notify_id = ${q(r.notify_id)}`)[0][0], 'duplicate');
  });
});

describe('WeChat Pay signature probes', () => {
  test('WECHATPAY/SIGNTEST/ notifications are refused as a failed signature, with no alert and no row each', async () => {
    const from = '127.0.0.9';
    const c = id.citizens[0];
    const o = await createOrder(c, [await handled(c, 4500)]);
    const t = sim.pay('wechatpay', o.order_no, o.amount_fen);
    const { r } = await processing(4600);
    const auditAfterSetup = count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'payments.%'");
    const alertsAfterSetup = count('SELECT COUNT(*) FROM payment_alerts');
    const rowsAfterSetup = count('SELECT COUNT(*) FROM payment_notifications');
    for (let i = 0; i < 3; i++) {
      const n = sim.notification(t, { signtest: true });
      assert.match(n.headers['wechatpay-signature'], /^WECHATPAY\/SIGNTEST\//);
      const res = await request(`${base}${n.path}`, { method: 'POST', body: n.body, headers: n.headers, localAddress: from });
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.text), { code: 'FAIL', message: 'rejected' });
      const rr = await deliverRefund(r, { signtest: true, from });
      assert.equal(rr.status, 400);
      assert.equal(JSON.parse(rr.text).code, 'FAIL');
    }
    assert.equal(count('SELECT COUNT(*) FROM payment_alerts'), alertsAfterSetup, 'no alert');
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE source = ${q(from)}`), 0);
    assert.equal(count('SELECT COUNT(*) FROM payment_notifications'), rowsAfterSetup, 'no notification row');
    assert.equal(count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'payments.%'"), auditAfterSetup, 'no audit record');
    assert.equal(server.sql(`SELECT state FROM payment_orders WHERE order_no = ${q(o.order_no)}`)[0][0], 'open');
    // a plain bad signature from the same address still opens its alert, as before
    const bad = sim.notification(t, { tamperBody: (b) => `${b} ` });
    assert.equal((await request(`${base}${bad.path}`, { method: 'POST', body: bad.body, headers: bad.headers, localAddress: from })).status, 400);
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'notification_unverified' AND source = ${q(from)}`), 1);
    // the genuine notification is then applied
    assert.equal((await sim.notify(t)).status, 200);
  });
});

// ---- the channel's own SDK ---------------------------------------------------------------
describe('WeChat Pay v3 SDK (wechatpay-node-v3) agrees with onetripd and the simulator', () => {
  let wx;
  before(() => {
    // The SDK takes the merchant's X.509 certificate (it reads serial_no from it): one for the
    // simulator's merchant key, made here with openssl, its serial the configured merchant serial.
    const certFile = path.join(sim.keys.dir, 'wechat_merchant_cert.pem');
    execFileSync('openssl', ['req', '-new', '-x509', '-key', sim.keys.wechatMerchantPrivateFile, '-out', certFile,
      '-days', '2', '-subj', `/CN=${sim.keys.wechatMchid}/O=onetrip test merchant`, '-set_serial', `0x${sim.keys.wechatMerchantSerial}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    wx = new WxPay({ appid: sim.keys.wechatAppid, mchid: sim.keys.wechatMchid, publicKey: fs.readFileSync(certFile),
      privateKey: fs.readFileSync(sim.keys.wechatMerchantPrivateFile), key: sim.keys.wechatApiV3Key });
    assert.equal(wx.serial_no.toUpperCase().replace(/^(00)+/, ''), sim.keys.wechatMerchantSerial.replace(/^(00)+/, ''),
      'the SDK reads the merchant serial from the certificate');
    // @fidm/x509 gives the DER integer in lower case (with a 00 sign byte when the top bit is
    // set); merchant serials are written in upper case without it, as the configuration has it
    wx.serial_no = sim.keys.wechatMerchantSerial;
    // the platform key by serial, as the SDK would have downloaded it (no network here)
    WxPay.certificates[sim.keys.wechatSerial] = fs.readFileSync(sim.keys.wechatPublicFile, 'utf8');
  });

  /** Authorization fields of a recorded request. */
  const authFields = (h) => Object.fromEntries([...h.replace(/^WECHATPAY2-SHA256-RSA2048 /, '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));

  test("the app launch parameters' sign is the SDK's sign of appid, timestamp, noncestr, prepayid", async () => {
    const c = id.citizens[0];
    const o = await createOrder(c, [await handled(c, 5100)]);
    const a = o.launch.app;
    assert.equal(a.sign, wx.sign([a.appid, a.timestamp, a.noncestr, a.prepayid, ''].join('\n')));
    assert.notEqual(a.sign, wx.sign([a.appid, a.timestamp, a.noncestr, `${a.prepayid}x`, ''].join('\n')));
    assert.deepEqual([a.appid, a.partnerid, a.package], [wx.appid, wx.mchid, 'Sign=WXPay']);
  });

  test("onetripd's outbound Authorization headers are exactly the SDK's (POST prepay, POST refund, GET query)", async () => {
    const c = id.citizens[0];
    const before = sim.requests.length;
    await paidTwice(5200); // a prepay
    await job('payments_refunds'); // a refund
    const o2 = await createOrder(c, [await handled(c, 5300)]);
    await request(`${base}/v1/payments/orders/${o2.order_no}/returned`, { method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: {} });
    await job('payments_query'); // a GET trade query
    const calls = sim.requests.slice(before).filter((x) => x.path.startsWith('/v3/'));
    const seen = new Set();
    for (const call of calls) {
      const f = authFields(call.headers.authorization);
      const pathQuery = `${call.path}${call.query}`;
      const sig = wx.getSignature(call.method, f.nonce_str, f.timestamp, pathQuery, call.method === 'GET' ? undefined : call.body);
      // the same scheme and fields (the order of the fields is free: WeChat's own example puts
      // signature before timestamp, as onetripd does, and the SDK after serial_no)
      assert.deepEqual(authFields(call.headers.authorization), authFields(wx.getAuthorization(f.nonce_str, f.timestamp, sig)), `${call.method} ${pathQuery}`);
      assert.match(call.headers.authorization, /^WECHATPAY2-SHA256-RSA2048 /);
      seen.add(`${call.method} ${call.path.replace(/\/[A-Z0-9]{20,}$/, '/{no}')}`);
    }
    for (const k of ['POST /v3/pay/transactions/app', 'POST /v3/refund/domestic/refunds', 'GET /v3/pay/transactions/out-trade-no/{no}']) {
      assert.ok(seen.has(k), `${k} among ${[...seen]}`);
    }
  });

  test('JSAPI (in-app browser): payer_openid makes a /v3/pay/transactions/jsapi prepay; paySign is the SDK\'s sign', async () => {
    const c = id.citizens[0];
    const openid = `oUpF8uMuAJO_M2pxb1Q9zNjW${randomHex(2)}`;
    const o = await createOrder(c, [await handled(c, 5600)], 'wechatpay', { payer_openid: openid });
    const pre = sim.prepays.get(o.order_no);
    assert.equal(pre.request.payer.openid, openid);
    const call = sim.requests.filter((x) => x.path === '/v3/pay/transactions/jsapi').at(-1);
    assert.equal(JSON.parse(call.body).out_trade_no, o.order_no);
    assert.deepEqual(Object.keys(o.launch).sort(), ['channel', 'jsapi', 'prepay_id']);
    const j = o.launch.jsapi;
    assert.deepEqual([j.appId, j.package, j.signType, o.launch.prepay_id], [wx.appid, `prepay_id=${pre.prepay_id}`, 'RSA', pre.prepay_id]);
    assert.ok(Math.abs(Number(j.timeStamp) - Date.now() / 1000) < 300);
    assert.match(j.nonceStr, /^[A-Za-z0-9]{16,32}$/);
    assert.equal(j.paySign, wx.sign([j.appId, j.timeStamp, j.nonceStr, j.package, ''].join('\n')));
    // the request's Authorization is the SDK's too
    const f = authFields(call.headers.authorization);
    assert.deepEqual(f, authFields(wx.getAuthorization(f.nonce_str, f.timestamp, wx.getSignature('POST', f.nonce_str, f.timestamp, call.path, call.body))));
    // without payer_openid: the app prepay, as before
    const app = await createOrder(c, [await handled(c, 5700)]);
    assert.deepEqual(Object.keys(app.launch).sort(), ['app', 'channel', 'prepay_id']);
  });

  test('payer_openid is checked: its pattern and length, and only with wechatpay', async () => {
    const c = id.citizens[0];
    const v = await handled(c, 5800);
    for (const [body, why, code = 'bad_payer_openid'] of [
      [{ channel: 'wechatpay', payer_openid: 'o bad openid' }, 'pattern'],
      [{ channel: 'wechatpay', payer_openid: 'oUpF8uMuAJO/M2pxb1Q9' }, 'pattern'],
      [{ channel: 'wechatpay', payer_openid: '' }, 'empty'],
      [{ channel: 'wechatpay', payer_openid: 'o'.repeat(129) }, 'too long', 'too_long'], // the dispatcher's own code for any field
      [{ channel: 'wechatpay', payer_openid: 42 }, 'not a string', 'wrong_type'],
      [{ channel: 'alipay', payer_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' }, 'another channel'],
    ]) {
      const r = await request(`${base}/v1/payments/orders`, {
        method: 'POST', headers: { ...id.citizenHeaders(c), ...idem() }, json: { violation_ids: [v], ...body },
      });
      assert.equal(r.status, 400, `${why}: ${r.text}`);
      assert.equal(r.json.code, code, why);
      assert.equal(r.json.field, 'payer_openid', why);
    }
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE violation_id = ${v}`), 0, 'no order was opened');
  });

  test("the simulator's callbacks verify with the SDK; their resource decrypts with it, and the GCM tag checks", async () => {
    const c = id.citizens[0];
    const o = await createOrder(c, [await handled(c, 5400)]);
    const t = sim.pay('wechatpay', o.order_no, o.amount_fen);
    const { r } = await processing(5500);
    sim.finishRefund(r.out_refund_no, 'SUCCESS');
    for (const n of [sim.notification(t), sim.refundNotification(r)]) {
      const h = n.headers;
      assert.equal(await wx.verifySign({ timestamp: h['wechatpay-timestamp'], nonce: h['wechatpay-nonce'], body: n.body,
        serial: h['wechatpay-serial'], signature: h['wechatpay-signature'] }), true);
      assert.equal(await wx.verifySign({ timestamp: h['wechatpay-timestamp'], nonce: h['wechatpay-nonce'], body: `${n.body} `,
        serial: h['wechatpay-serial'], signature: h['wechatpay-signature'] }), false);
      const res = JSON.parse(n.body).resource;
      const inner = wx.decipher_gcm(res.ciphertext, res.associated_data, res.nonce, sim.keys.wechatApiV3Key);
      // the SDK never calls decipher.final(), so it does not check the tag: check it here
      const ct = Buffer.from(res.ciphertext, 'base64');
      const open = (buf) => {
        const d = crypto.createDecipheriv('aes-256-gcm', Buffer.from(sim.keys.wechatApiV3Key), Buffer.from(res.nonce));
        d.setAAD(Buffer.from(res.associated_data));
        d.setAuthTag(buf.subarray(buf.length - 16));
        return JSON.parse(Buffer.concat([d.update(buf.subarray(0, buf.length - 16)), d.final()]).toString('utf8'));
      };
      assert.deepEqual(open(ct), inner);
      const badTag = Buffer.from(ct);
      badTag[badTag.length - 1] ^= 1;
      assert.throws(() => open(badTag), /authenticate/);
      assert.deepEqual(wx.decipher_gcm(badTag.toString('base64'), res.associated_data, res.nonce, sim.keys.wechatApiV3Key), inner,
        'the SDK alone would accept a wrong tag');
      if (res.original_type === 'transaction') {
        assert.deepEqual([inner.out_trade_no, inner.transaction_id, inner.amount.total, inner.mchid], [o.order_no, t.tradeNo, o.amount_fen, wx.mchid]);
        assert.match(inner.transaction_id, /^\d{28}$/);
        assert.match(inner.success_time, /\+08:00$/);
      } else {
        assert.equal(JSON.parse(n.body).event_type, 'REFUND.SUCCESS');
        assert.deepEqual([inner.out_refund_no, inner.refund_id, inner.refund_status, inner.amount.refund], [r.out_refund_no, r.refund_no, 'SUCCESS', r.amount_fen]);
      }
    }
  });
});

// ---- outbound HTTPS: the host name is checked ------------------------------------------------
describe('channel calls check the gateway host name', () => {
  test('a gateway presenting a certificate for another host name (signed by the configured CA) fails the call clearly', async () => {
    // a certificate for wrong.example only, signed by the CA onetripd trusts for channel calls
    const dir = fs.mkdtempSync(path.join(sim.keys.dir, 'wrong-host-'));
    const f = (n) => path.join(dir, n);
    fs.writeFileSync(f('ext.cnf'), 'subjectAltName = DNS:wrong.example\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n');
    const run = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    run(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('wrong.key'), '-subj', '/CN=wrong.example', '-out', f('wrong.csr')]);
    run(['x509', '-req', '-in', f('wrong.csr'), '-CA', tlsPaths.ca, '-CAkey', tlsPaths.caKey, '-set_serial', `0x${randomHex(8)}`,
      '-days', '2', '-extfile', f('ext.cnf'), '-out', f('wrong.crt')]);
    const wrong = await startSim({ dir: path.join(dir, 'keys'), tls: { cert: f('wrong.crt'), key: f('wrong.key'), ca: tlsPaths.ca } });
    try {
      const day = '2020-01-03';
      const url = (s) => `${s.url}/govportal/statement`;
      const bad = await server.cliAsync(['payments-reconcile', 'govportal', day], { env: { ONETRIP_PAYMENTS_GOVPORTAL_STATEMENT_URL: url(wrong) } });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /statement_unavailable/);
      assert.match(bad.stderr, /msg="statement fetch failed" channel=govportal .*error="SSL: no alternative certificate subject name matches target host name '127\.0\.0\.1'"/);
      assert.equal(wrong.requests.length, 0, 'nothing was sent to it');
      // the same CA and the right name (the usual simulator, 127.0.0.1 in its certificate) pass
      const good = await server.cliAsync(['payments-reconcile', 'govportal', day], { env: { ONETRIP_PAYMENTS_GOVPORTAL_STATEMENT_URL: url(sim) } });
      assert.equal(good.code, 0, good.stderr);
    } finally {
      await wrong.stop();
    }
  });
});
