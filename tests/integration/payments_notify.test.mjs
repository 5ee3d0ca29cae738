// Unauthenticated payment notifications (issue 10, item 2): anyone can POST to
// /v1/payments/notify/{channel}. A notification whose signature does not verify keeps only a
// digest (size, SHA-256, first bytes); repeated failures from one address fold into one alert;
// failures are rate-limited per address (429). The channels' own messages are never limited
// and still pay exactly once. Each client address is a different loopback address
// (127.0.0.x), so the tests do not share rate-limit buckets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startServer, request, randomHex, dropDatabase, simTls } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';
import { startSim } from '../sim/channel-sim.mjs';

const BURST = 60;
const KEEP = 256;
const DIGESTS = 20;
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

let server;
let sim;
let id;

before(async () => {
  sim = await startSim({ tls: simTls() });
  server = await startServer({
    prefix: 'paynotify',
    overrides: {
      ...sim.overrides(), 'jobs.enabled': 0,
      'payments.notify_failures_burst': BURST, 'payments.notify_failures_per_min': 1,
      'payments.unverified_keep_bytes': KEEP, 'payments.unverified_digests_per_alert': DIGESTS,
    },
  });
  id = await setupIdentity(server, { citizens: 1, partners: [] });
});

after(async () => {
  if (sim) await sim.stop();
  if (!server) return;
  // Under the sanitizer build a leak or UB report makes the server exit non-zero.
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  dropDatabase(server.db.name);
});

const count = (sql) => Number(server.sql(sql)[0][0]);

function notify(channel, body, { from, headers = {} } = {}) {
  return request(`${server.httpsUrl}/v1/payments/notify/${channel}`, {
    method: 'POST', body, localAddress: from, timeoutMs: 60000,
    headers: { 'content-type': channel === 'alipay' ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
  });
}

/** A channel's signed notification (built by the simulator), sent from address `from`. */
function deliver(t, from, o = {}) {
  const n = sim.notification(t, o);
  return request(`${server.httpsUrl}${n.path}`, { method: 'POST', body: n.body, headers: n.headers, localAddress: from });
}

/** Sends bad notifications from `from` until one is refused with 429; returns how many were
 * answered 400 before that (bounded). */
async function failUntilLimited(channel, from, max = 200) {
  for (let n = 0; n < max; n++) {
    const r = await notify(channel, `{"bad":${n}}`, { from });
    if (r.status === 429) return { n, r };
    assert.equal(r.status, 400, r.text);
  }
  throw new Error(`${from} was never rate-limited`);
}

/** Tokens refilled since `t0` at payments.notify_failures_per_min = 1 (plus one for rounding):
 * on a slow machine a test may run past a minute, and the bounds below allow for it. */
const refilledSince = (t0) => Math.ceil((Date.now() - t0) / 60000) + 1;

const alertOf = (from, channel) => server.sql(
  'SELECT id, kind, occurrences, last_seen_at >= created_at, order_no IS NULL, detail FROM payment_alerts ' +
  `WHERE source = ${q(from)} AND channel = ${q(channel)}`);

describe('unauthenticated notifications', () => {
  let t2; // when 127.0.0.2 started failing
  test('50 unsigned 256 KiB bodies: capped digests, one alert counting 50, one audit record', async () => {
    const from = '127.0.0.2';
    t2 = Date.now();
    const auditsBefore = count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.notification_unverified'");
    const bodies = Array.from({ length: 50 }, (_, i) => (i % 2
      ? `out_trade_no=P${i}&total_amount=1.00&sign_type=RSA2&sign=${'A'.repeat(256 * 1024)}` // bad signature
      : `x=${i}&${'B'.repeat(256 * 1024)}`)); // not even a form
    const sent = new Map(bodies.map((b) => [sha256(b), b]));
    for (let i = 0; i < 50; i += 10) {
      const rs = await Promise.all(bodies.slice(i, i + 10).map((b) => notify('alipay', b, { from })));
      for (const r of rs) {
        assert.equal(r.status, 400, r.text);
        assert.equal(r.text, 'fail');
      }
    }
    // one alert for this source and channel, folded
    const a = alertOf(from, 'alipay');
    assert.equal(a.length, 1, JSON.stringify(a));
    assert.deepEqual(a[0].slice(1, 5), ['notification_unverified', '50', '1', '1']);
    assert.match(a[0][5], /unauthenticated notifications from 127\.0\.0\.2; last reason: (bad_signature|malformed_notification)/);
    // audited once (when the alert opened), not per request
    assert.equal(count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.notification_unverified'"), auditsBefore + 1);
    assert.equal(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'payments.notification_unverified' AND target_type = 'payment_alert' AND target_id = ${q(a[0][0])}`), 1);
    assert.equal(count("SELECT COUNT(*) FROM audit_log WHERE action = 'payments.notification_rejected'"), 0);
    // digests only, and only the first DIGESTS of them
    const rows = server.sql(`SELECT verified, outcome, reason, body_size, body_sha256, HEX(raw_body), LENGTH(raw_body) FROM payment_notifications WHERE peer = ${q(from)}`);
    assert.equal(rows.length, DIGESTS);
    let stored = 0;
    for (const [verified, outcome, reason, size, hash, hex, len] of rows) {
      assert.deepEqual([verified, outcome], ['0', 'rejected']);
      assert.ok(['bad_signature', 'malformed_notification'].includes(reason), reason);
      assert.ok(sent.has(hash), 'the digest hashes the whole body');
      const body = Buffer.from(sent.get(hash));
      assert.equal(Number(size), body.length);
      assert.equal(Number(len), KEEP);
      assert.equal(hex, body.subarray(0, KEEP).toString('hex').toUpperCase(), 'the first bytes are kept');
      stored += Number(len);
    }
    assert.ok(stored <= DIGESTS * KEEP, `${stored} bytes stored for 50 x 256 KiB`);
    assert.equal(count('SELECT COUNT(*) FROM payment_notifications WHERE LENGTH(raw_body) > 4096'), 0);
  });

  test('an address whose failures are spent gets 429 with Retry-After on every channel; others do not', async () => {
    const from = '127.0.0.2'; // 50 failures spent in the test above
    let { n, r } = await failUntilLimited('alipay', from);
    const failed = 50 + n;
    assert.ok(failed >= BURST && failed <= BURST + refilledSince(t2), `${failed} failures before 429`);
    const rowsBefore = count(`SELECT COUNT(*) FROM payment_notifications WHERE peer = ${q(from)}`);
    assert.equal(rowsBefore, DIGESTS);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(r.json.code, 'rate_limited');
    assert.equal(r.json.status, 429);
    const retry = Number(r.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, r.headers['retry-after']);
    assert.equal(r.json.retry_after_s, retry);
    assert.ok(r.json.request_id);
    // the limit is per address, across channels
    r = await notify('wechatpay', '{}', { from });
    assert.equal(r.status, 429);
    r = await notify('paypal', 'x=1', { from });
    assert.equal(r.status, 429);
    // refused requests store nothing and do not count
    assert.equal(count(`SELECT COUNT(*) FROM payment_notifications WHERE peer = ${q(from)}`), rowsBefore);
    assert.equal(alertOf(from, 'alipay')[0][2], String(failed));
    assert.equal(alertOf(from, 'wechatpay').length, 0);
    // another address is not affected
    r = await notify('alipay', 'bad=other', { from: '127.0.0.3' });
    assert.equal(r.status, 400);
    assert.equal(r.text, 'fail');
    assert.equal(alertOf('127.0.0.3', 'alipay')[0][2], '1');
  });

  test("a channel's own messages cost no token and still pay exactly once", async () => {
    const from = '127.0.0.4';
    const t4 = Date.now();
    for (let i = 0; i < BURST - 1; i++) assert.equal((await notify('policeapp', `{"n":${i}}`, { from })).status, 400);
    // signed by the channel: an unknown order and a wrong app_id are refused, never limited
    const ghost = sim.pay('alipay', `P20990101${randomHex(8).toUpperCase()}`, 100);
    for (let i = 0; i < 20; i++) {
      const r = await deliver(ghost, from);
      assert.equal(r.status, 400);
      assert.equal(r.text, 'fail');
    }
    assert.equal((await deliver(ghost, from, { appId: '2021999999999999' })).status, 400);
    assert.deepEqual(server.sql(`SELECT outcome, reason, verified FROM payment_notifications WHERE order_no = ${q(ghost.orderNo)} ORDER BY id DESC LIMIT 1`)[0],
      ['rejected', 'wrong_app_id', '0']);
    assert.equal(count(`SELECT COUNT(*) FROM payment_alerts WHERE kind = 'notification_rejected' AND order_no = ${q(ghost.orderNo)}`), 21,
      'authentic rejections keep one alert each, as before');
    assert.ok(count(`SELECT MIN(body_size = LENGTH(raw_body)) FROM payment_notifications WHERE order_no = ${q(ghost.orderNo)}`) === 1,
      'authentic messages are kept whole');
    // a real payment from the same address goes through, once
    const c = id.citizens[0];
    const lic = await id.addLicence(c);
    const vid = Number(server.sql(
      'INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, occurred_at, place, code, ' +
      'description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES (' +
      `${q(`D${randomHex(8)}`)}, '浙A·N0001', 'K33', ${lic}, ${c.id}, UTC_TIMESTAMP(3), 'somewhere', '1345', ` +
      "'speeding', 5000, 3, 'traffic', 'camera', DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR), 'handled', UTC_TIMESTAMP(3), " +
      'UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();')[0][0]);
    const o = await request(`${server.httpsUrl}/v1/payments/orders`, {
      method: 'POST', headers: { ...id.citizenHeaders(c), 'Idempotency-Key': randomHex(12) },
      json: { violation_ids: [vid], channel: 'policeapp' },
    });
    assert.equal(o.status, 201, o.text);
    const t = sim.pay('policeapp', o.json.order_no, o.json.amount_fen);
    const rs = await Promise.all(Array.from({ length: 10 }, () => deliver(t, from)));
    for (const r of rs) assert.deepEqual([r.status, r.text], [200, '{"result":"success"}']);
    assert.equal(server.sql(`SELECT state FROM payment_orders WHERE order_no = ${q(o.json.order_no)}`)[0][0], 'paid');
    assert.equal(count(`SELECT COUNT(*) FROM payments p JOIN payment_orders o ON o.id = p.order_id WHERE o.order_no = ${q(o.json.order_no)}`), 1);
    assert.equal(count(`SELECT COUNT(*) FROM payment_notifications WHERE order_no = ${q(o.json.order_no)} AND outcome = 'applied'`), 1);
    // the 31 signed messages took nothing: one failure was left (plus what refilled meanwhile)
    const { n } = await failUntilLimited('policeapp', from);
    assert.ok(n >= 1 && n <= refilledSince(t4), `${n} failures left`);
    assert.equal(alertOf(from, 'policeapp')[0][2], String(BURST - 1 + n));
  });

  test('empty and degenerate bodies on every channel: answered, recorded as digests', async () => {
    const from = '127.0.0.5';
    const fails = { alipay: 'fail', wechatpay: '{"code":"FAIL","message":"rejected"}', policeapp: '{"result":"fail"}', govportal: '{"result":"fail"}' };
    for (const ch of Object.keys(fails)) {
      for (const body of ['', '&', '=', '%', 'a=%00', '{}', 'null']) {
        const r = await notify(ch, body, { from });
        assert.equal(r.status, 400, `${ch} ${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.text, fails[ch]);
      }
      assert.equal(alertOf(from, ch)[0][2], '7');
    }
    const empty = server.sql(`SELECT channel, body_size, body_sha256, LENGTH(raw_body) FROM payment_notifications WHERE peer = ${q(from)} AND body_size = 0 ORDER BY channel`);
    assert.deepEqual(empty.map((r) => r[0]), ['alipay', 'govportal', 'policeapp', 'wechatpay']);
    for (const r of empty) assert.deepEqual(r.slice(1), ['0', sha256(''), '0']);
  });

  test('signature headers of an unauthenticated notification are capped at 64 bytes each', async () => {
    const from = '127.0.0.6';
    const r = await notify('wechatpay', '{"resource":{}}', {
      from,
      headers: {
        'Wechatpay-Serial': 'S'.repeat(1000), 'Wechatpay-Signature': 'Z'.repeat(4000),
        'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)), 'Wechatpay-Nonce': 'n'.repeat(300),
      },
    });
    assert.equal(r.status, 400);
    const [headers, reason] = server.sql(`SELECT headers, reason FROM payment_notifications WHERE peer = ${q(from)}`)[0];
    assert.equal(reason, 'unknown_serial');
    const h = JSON.parse(headers);
    assert.equal(h['Wechatpay-Serial'], 'S'.repeat(64));
    assert.equal(h['Wechatpay-Signature'], 'Z'.repeat(64));
    assert.equal(h['Wechatpay-Nonce'], 'n'.repeat(64));
  });
});
