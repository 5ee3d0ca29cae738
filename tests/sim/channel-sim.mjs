#!/usr/bin/env node
// Payment channel simulator for onetrip: plays Alipay, WeChat Pay (API v3), the police app
// wallet and the government portal with test keys generated at start (or loaded from --keys).
//
// As a library (integration tests):
//   const sim = await startSim({ onetripUrl, dir, ca, tls });
//                                                            // HTTPS server on 127.0.0.1:<random>
//                                                            // with tls = {cert, key, ca} (PEM
//                                                            // paths; onetripd trusts tls.ca for
//                                                            // its channel calls, as with the real
//                                                            // gateways); ca (PEM path or buffer)
//                                                            // is trusted for notifications to
//                                                            // onetripd (https://)
//   server overrides: sim.overrides()                        // payments.* keys for onetripd
//   const t = sim.pay('alipay', orderNo, amountFen)          // the payer pays: a trade is recorded
//                                                            // (paying an order again is another
//                                                            // trade; sim.trades keeps the latest
//                                                            // per order, sim.allTrades every one)
//   await sim.notify(t)                                      // signed notification -> onetripd
//   sim.notification(t, {totalAmount: '1e2', tamper: {total_amount: '1.00'}}) // build only
//   sim.statement.drop(tradeNo) / .extra(channel, line) / .amount(tradeNo, fen)
//   sim.statement.insert(channel, lineNo, text)              // a raw line at that line number
//   sim.failRefunds(n) / sim.failStatements(n)              // the next n such calls answer 503
//   await sim.stop()
//
// Endpoints served (the channel side that onetripd calls):
//   GET  /<channel>/query?order_no=P...     the trade as a signed notice (same format as the
//                                           notification), 404 when the channel has no trade
//   POST /<channel>/refund                  {out_refund_no, order_no, trade_no, amount_fen}
//                                           -> {refund_no, status: SUCCESS|FAILED, reason?}
//   GET  /<channel>/statement?date=Y-M-D    CSV "type,order_no,trade_no,amount" (Alipay amounts
//                                           in yuan, the others in fen)
//   POST /control/pay                       {channel, order_no, amount_fen, notify?: true}
//                                           (for the demo tour / CLI)
//
// CLI:
//   node tests/sim/channel-sim.mjs serve [--port 9100] [--dir DIR] [--onetrip https://127.0.0.1:8443]
//        [--ca var/tls/ca.crt] --cert var/tls/server.crt --key var/tls/server.key
//        prints the onetrip.conf [payments] lines, then serves until killed; notifications go to
//        --onetrip (onetripd serves its API over HTTPS only), trusting --ca
//   node tests/sim/channel-sim.mjs pay --sim http://127.0.0.1:9100 --channel alipay
//        --order P2025... --amount-fen 20000           pays and delivers the notification
//
// Signing rules (what onetripd checks, modules/payments/channel.h):
//   alipay     form body; RSA2 (SHA256withRSA, base64) over the parameters except sign and
//              sign_type, sorted by key, "k=v" joined with '&' (values unencoded)
//   wechatpay  JSON; Wechatpay-Signature = base64 RSA-SHA256 over "ts\nnonce\nbody\n";
//              resource = AEAD_AES_256_GCM(API v3 key) of the transaction, base64(ct||tag)
//   policeapp / govportal
//              JSON; X-Pay-Timestamp, X-Pay-Signature = hex HMAC-SHA256(secret, ts + "\n" + body)

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const CHANNELS = ['alipay', 'wechatpay', 'policeapp', 'govportal'];

const rnd = (n) => crypto.randomBytes(n).toString('hex');
const alnum = (n) => {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (const b of crypto.randomBytes(n)) s += abc[b % abc.length];
  return s;
};

/** fen -> "100.10" */
export function yuan(fen) {
  const f = BigInt(fen);
  return `${f / 100n}.${String(f % 100n).padStart(2, '0')}`;
}

/** Bureau day (Asia/Shanghai) of a Date, YYYY-MM-DD. */
export function shanghaiDay(d = new Date()) {
  return new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** Alipay content to sign: every key but sign/sign_type, sorted, k=v joined by '&'. */
export function alipaySignContent(params) {
  return Object.keys(params).filter((k) => k !== 'sign' && k !== 'sign_type').sort()
    .map((k) => `${k}=${params[k]}`).join('&');
}

function loadOrMakeKeys(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const f = (n) => path.join(dir, n);
  if (!fs.existsSync(f('keys.json'))) {
    const ali = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wx = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(f('alipay_private.pem'), ali.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(f('alipay_public.pem'), ali.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(f('wechat_private.pem'), wx.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    fs.writeFileSync(f('wechat_public.pem'), wx.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(f('keys.json'), JSON.stringify({
      alipayAppId: `2021${String(crypto.randomInt(1e9)).padStart(12, '0')}`,
      wechatMchid: String(1900000000 + crypto.randomInt(99999)),
      wechatSerial: `PUB_KEY_ID_${rnd(16).toUpperCase()}`,
      wechatApiV3Key: alnum(32),
      policeappSecret: rnd(32),
      govportalSecret: rnd(32),
    }, null, 2), { mode: 0o600 });
  }
  const k = JSON.parse(fs.readFileSync(f('keys.json'), 'utf8'));
  return {
    ...k,
    dir,
    alipayPrivate: fs.readFileSync(f('alipay_private.pem'), 'utf8'),
    alipayPublicFile: f('alipay_public.pem'),
    alipayPublic: fs.readFileSync(f('alipay_public.pem'), 'utf8'),
    wechatPrivate: fs.readFileSync(f('wechat_private.pem'), 'utf8'),
    wechatPublicFile: f('wechat_public.pem'),
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** POST body to url (http or https, trusting ca); resolves {status, text, headers}. */
function post(url, headers, body, ca = null) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const opts = { method: 'POST', agent: false, headers: { ...headers, 'content-length': Buffer.byteLength(body) } };
    if (u.protocol === 'https:' && ca) opts.ca = Buffer.isBuffer(ca) ? ca : fs.readFileSync(ca);
    const req = mod.request(u, opts, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function startSim({ onetripUrl = null, dir = null, port = 0, host = '127.0.0.1', ca = null, tls = null } = {}) {
  if (!tls?.cert || !tls?.key || !tls?.ca) throw new Error('startSim: tls {cert, key, ca} is required (onetripd calls channels over HTTPS only)');
  const keys = loadOrMakeKeys(dir || fs.mkdtempSync(path.join(os.tmpdir(), 'channel-sim-')));
  const trades = new Map(); // key channel/order_no -> the latest trade of that order
  const allTrades = []; // every trade, in the order they were made
  const refunds = [];
  const stmt = { dropped: new Set(), extra: [], amounts: new Map(), inserted: [] };
  const sim = { keys, trades, allTrades, refunds, onetripUrl, ca, requests: [], refundFailures: 0, statementFailures: 0 };

  // ---- notices ---------------------------------------------------------------------------
  function alipayParams(t, o = {}) {
    const now = new Date(t.paidAt).toISOString().replace('T', ' ').slice(0, 19);
    const p = {
      notify_time: now, notify_type: 'trade_status_sync', notify_id: t.notifyId, app_id: o.appId ?? keys.alipayAppId,
      charset: 'utf-8', version: '1.0', sign_type: 'RSA2', trade_no: t.tradeNo, out_trade_no: t.orderNo,
      trade_status: o.status ?? t.alipayStatus, total_amount: o.totalAmount ?? yuan(t.amountFen),
      receipt_amount: yuan(t.amountFen), buyer_pay_amount: yuan(t.amountFen), subject: '交通违法罚款 fine',
      gmt_create: now, gmt_payment: now,
    };
    if (o.currency) p.trans_currency = o.currency;
    p.sign = crypto.createSign('RSA-SHA256').update(alipaySignContent(p), 'utf8').sign(keys.alipayPrivate, 'base64');
    for (const [k, v] of Object.entries(o.tamper || {})) p[k] = v;
    return p;
  }

  function wechatNotice(t, o = {}) {
    const inner = {
      mchid: o.mchid ?? keys.wechatMchid, appid: 'wx0000000000000000', out_trade_no: t.orderNo,
      transaction_id: t.tradeNo, trade_type: 'NATIVE', trade_state: o.status ?? t.wechatStatus,
      trade_state_desc: '', bank_type: 'OTHERS', attach: '', success_time: new Date(t.paidAt).toISOString(),
      payer: { openid: 'o' + rnd(8) },
      amount: { total: o.amountFen ?? t.amountFen, payer_total: o.amountFen ?? t.amountFen, currency: o.currency ?? 'CNY', payer_currency: 'CNY' },
    };
    const nonce = alnum(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(o.apiKey ?? keys.wechatApiV3Key), Buffer.from(nonce));
    cipher.setAAD(Buffer.from('transaction'));
    const ct = Buffer.concat([cipher.update(JSON.stringify(inner), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    const body = JSON.stringify({
      id: t.notifyId, create_time: new Date().toISOString(), resource_type: 'encrypt-resource',
      event_type: 'TRANSACTION.SUCCESS', summary: '支付成功',
      resource: { original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', ciphertext: ct.toString('base64'), associated_data: 'transaction', nonce },
    });
    const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const hn = alnum(32);
    const sig = crypto.createSign('RSA-SHA256').update(`${ts}\n${hn}\n${body}\n`).sign(keys.wechatPrivate, 'base64');
    return {
      body: o.tamperBody ? o.tamperBody(body) : body,
      headers: {
        'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': hn,
        'wechatpay-signature': sig, 'wechatpay-serial': o.serial ?? keys.wechatSerial,
        'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
      },
    };
  }

  function hmacNotice(t, o = {}) {
    const secret = o.secret ?? (t.channel === 'policeapp' ? keys.policeappSecret : keys.govportalSecret);
    const body = JSON.stringify({
      notify_id: t.notifyId, order_no: t.orderNo, trade_no: t.tradeNo, amount_fen: o.amountFen ?? t.amountFen,
      currency: o.currency ?? 'CNY', status: o.status ?? t.hmacStatus, paid_at: new Date(t.paidAt).toISOString(),
    });
    const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const sig = crypto.createHmac('sha256', secret).update(`${ts}\n${body}`).digest('hex');
    return {
      body: o.tamperBody ? o.tamperBody(body) : body,
      headers: { 'content-type': 'application/json', 'x-pay-timestamp': ts, 'x-pay-signature': sig },
    };
  }

  /** Build the signed notification of trade t: {channel, path, headers, body, params?}. */
  sim.notification = function notification(t, o = {}) {
    if (t.channel === 'alipay') {
      const params = alipayParams(t, o);
      return {
        channel: t.channel, path: '/v1/payments/notify/alipay', params,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams(params).toString(),
      };
    }
    const n = t.channel === 'wechatpay' ? wechatNotice(t, o) : hmacNotice(t, o);
    return { channel: t.channel, path: `/v1/payments/notify/${t.channel}`, ...n };
  };

  /** The payer pays orderNo: the channel records a trade (not yet notified). */
  sim.pay = function pay(channel, orderNo, amountFen, o = {}) {
    if (!CHANNELS.includes(channel)) throw new Error(`unknown channel ${channel}`);
    const t = {
      channel, orderNo, amountFen: Number(amountFen),
      tradeNo: o.tradeNo ?? `${channel.slice(0, 2).toUpperCase()}${Date.now()}${rnd(4)}`,
      notifyId: o.notifyId ?? rnd(16), paidAt: o.paidAt ?? Date.now(),
      alipayStatus: 'TRADE_SUCCESS', wechatStatus: 'SUCCESS', hmacStatus: 'SUCCESS',
    };
    if (o.closed) { t.alipayStatus = 'TRADE_CLOSED'; t.wechatStatus = 'CLOSED'; t.hmacStatus = 'CLOSED'; }
    trades.set(`${channel}/${orderNo}`, t);
    allTrades.push(t);
    return t;
  };

  /** Send the notification of trade t to onetripd; resolves {status, text, headers}. */
  sim.notify = async function notify(t, o = {}) {
    const n = sim.notification(t, o);
    return post(`${o.onetripUrl ?? sim.onetripUrl}${n.path}`, n.headers, n.body, o.ca ?? sim.ca);
  };

  sim.statement = {
    drop(tradeNo) { stmt.dropped.add(tradeNo); },
    extra(channel, line) { stmt.extra.push({ channel, ...line }); },
    amount(tradeNo, fen) { stmt.amounts.set(tradeNo, fen); },
    insert(channel, lineNo, text, date = null) { stmt.inserted.push({ channel, lineNo, text, date }); },
  };

  /** The next n refund calls answer 503 (a channel outage). */
  sim.failRefunds = function failRefunds(n) { sim.refundFailures = n; };
  /** The next n statement requests answer 503. */
  sim.failStatements = function failStatements(n) { sim.statementFailures = n; };

  function statementCsv(channel, date) {
    const fmt = (fen) => (channel === 'alipay' ? yuan(fen) : String(fen));
    const lines = ['type,order_no,trade_no,amount'];
    for (const t of allTrades) {
      if (t.channel !== channel || t.closed || shanghaiDay(new Date(t.paidAt)) !== date || stmt.dropped.has(t.tradeNo)) continue;
      if (t.alipayStatus !== 'TRADE_SUCCESS') continue;
      lines.push(`payment,${t.orderNo},${t.tradeNo},${fmt(stmt.amounts.get(t.tradeNo) ?? t.amountFen)}`);
    }
    for (const r of refunds) {
      if (r.channel !== channel || r.status !== 'SUCCESS' || r.date !== date) continue;
      lines.push(`refund,${r.order_no},${r.refund_no},${fmt(r.amount_fen)}`);
    }
    for (const e of stmt.extra) {
      if (e.channel === channel && (e.date ?? date) === date) lines.push(`${e.type ?? 'payment'},${e.orderNo},${e.tradeNo},${fmt(e.amountFen)}`);
    }
    const raw = stmt.inserted.filter((e) => e.channel === channel && (e.date ?? date) === date)
      .sort((a, b) => a.lineNo - b.lineNo);
    for (const e of raw) lines.splice(Math.max(0, Math.min(lines.length, e.lineNo - 1)), 0, e.text);
    return lines.join('\n') + '\n';
  }

  // ---- HTTP server -------------------------------------------------------------------------
  const server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, async (req, res) => {
    const u = new URL(req.url, 'http://sim');
    const parts = u.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    sim.requests.push({ method: req.method, path: u.pathname, query: u.search, body });
    const send = (status, type, text, headers = {}) => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(text);
    };
    try {
      if (parts[0] === 'control' && parts[1] === 'pay' && req.method === 'POST') {
        const j = JSON.parse(body);
        const t = sim.pay(j.channel, j.order_no, j.amount_fen);
        let delivered = null;
        if (j.notify !== false) delivered = await sim.notify(t);
        return send(200, 'application/json', JSON.stringify({ trade_no: t.tradeNo, notify_status: delivered?.status ?? null, notify_reply: delivered?.text ?? null }));
      }
      const channel = parts[0];
      if (!CHANNELS.includes(channel)) return send(404, 'application/json', '{"error":"unknown channel"}');
      if (parts[1] === 'query' && req.method === 'GET') {
        const t = trades.get(`${channel}/${u.searchParams.get('order_no')}`);
        if (!t) return send(404, 'application/json', '{"code":"TRADE_NOT_EXIST"}');
        const n = sim.notification(t);
        return send(200, n.headers['content-type'], n.body, n.headers);
      }
      if (parts[1] === 'refund' && req.method === 'POST') {
        if (sim.refundFailures > 0) {
          sim.refundFailures -= 1;
          return send(503, 'application/json', JSON.stringify({ status: 'UNKNOWN', reason: 'system_busy' }));
        }
        const j = JSON.parse(body);
        const t = allTrades.find((x) => x.channel === channel && x.tradeNo === j.trade_no);
        const done = refunds.filter((r) => r.channel === channel && r.trade_no === j.trade_no && r.status === 'SUCCESS')
          .reduce((a, r) => a + r.amount_fen, 0);
        const prior = refunds.find((r) => r.out_refund_no === j.out_refund_no);
        if (prior) return send(200, 'application/json', JSON.stringify(prior)); // idempotent on out_refund_no
        if (!t) return send(400, 'application/json', JSON.stringify({ status: 'FAILED', reason: 'trade_not_found' }));
        if (done + j.amount_fen > t.amountFen) return send(400, 'application/json', JSON.stringify({ status: 'FAILED', reason: 'refund_exceeds_trade' }));
        const r = { ...j, channel, refund_no: `RN${Date.now()}${rnd(3)}`, status: 'SUCCESS', date: shanghaiDay() };
        refunds.push(r);
        return send(200, 'application/json', JSON.stringify(r));
      }
      if (parts[1] === 'statement' && req.method === 'GET') {
        if (sim.statementFailures > 0) {
          sim.statementFailures -= 1;
          return send(503, 'text/plain', 'statement not ready');
        }
        return send(200, 'text/csv; charset=utf-8', statementCsv(channel, u.searchParams.get('date') || shanghaiDay()));
      }
      return send(404, 'application/json', '{"error":"not found"}');
    } catch (e) {
      return send(500, 'application/json', JSON.stringify({ error: String(e.message || e) }));
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  sim.port = server.address().port;
  sim.url = `https://${host}:${sim.port}`;

  /** payments.* configuration keys for onetripd (harness overrides format). */
  sim.overrides = function overrides() {
    const o = {
      'payments.alipay_app_id': keys.alipayAppId,
      'payments.alipay_public_key_file': keys.alipayPublicFile,
      'payments.wechat_mchid': keys.wechatMchid,
      'payments.wechat_platform_cert_file': keys.wechatPublicFile,
      'payments.wechat_serial': keys.wechatSerial,
      'payments.wechat_apiv3_key': keys.wechatApiV3Key,
      'payments.policeapp_secret': keys.policeappSecret,
      'payments.govportal_secret': keys.govportalSecret,
      'payments.http_ca_file': path.resolve(tls.ca),
    };
    for (const c of CHANNELS) {
      o[`payments.${c}_query_url`] = `${sim.url}/${c}/query`;
      o[`payments.${c}_refund_url`] = `${sim.url}/${c}/refund`;
      o[`payments.${c}_statement_url`] = `${sim.url}/${c}/statement`;
    }
    return o;
  };

  sim.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return sim;
}

// ---- CLI ---------------------------------------------------------------------------------
function args(argv) {
  const o = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) o[argv[i].slice(2)] = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true;
    else o._.push(argv[i]);
  }
  return o;
}

async function main() {
  const a = args(process.argv.slice(2));
  const cmd = a._[0];
  if (cmd === 'serve') {
    const sim = await startSim({ port: Number(a.port ?? 9100), dir: a.dir ?? null,
      onetripUrl: a.onetrip ?? 'https://127.0.0.1:8443', ca: a.ca ?? null,
      tls: { cert: a.cert, key: a.key, ca: a['tls-ca'] ?? a.ca } });
    const lines = ['[payments]'];
    for (const [k, v] of Object.entries(sim.overrides())) lines.push(`${k.slice('payments.'.length)} = ${v}`);
    process.stdout.write(`${lines.join('\n')}\n# channel simulator listening on ${sim.url} (keys in ${sim.keys.dir})\n`);
    return;
  }
  if (cmd === 'pay') {
    const r = await post(`${a.sim ?? 'https://127.0.0.1:9100'}/control/pay`, { 'content-type': 'application/json' },
      JSON.stringify({ channel: a.channel, order_no: a.order, amount_fen: Number(a['amount-fen']), notify: a['no-notify'] ? false : true }),
      a.ca ?? null);
    process.stdout.write(`${r.text}\n`);
    process.exitCode = r.status === 200 ? 0 : 1;
    return;
  }
  process.stderr.write('usage: channel-sim.mjs serve [--port 9100] [--dir DIR] [--onetrip URL] [--ca FILE] --cert FILE --key FILE\n' +
    '       channel-sim.mjs pay --sim URL [--ca FILE] --channel alipay|wechatpay|policeapp|govportal --order NO --amount-fen N [--no-notify]\n');
  process.exitCode = 2;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { process.stderr.write(`${e.stack || e}\n`); process.exitCode = 1; });
}
