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
//   sim.processRefunds(n)                                    // the next n WeChat refunds answer PROCESSING
//   sim.finishRefund(outRefundNo, 'SUCCESS'|'ABNORMAL'|'CLOSED') // ... until this ends one
//   await sim.notifyRefund(r, o)                             // its signed refund callback -> the
//                                                            // notify_url onetripd sent (REFUND.*)
//   sim.refundNotification(r, {signtest: true, ...})         // build only
//   await sim.stop()
//
// Endpoints served over HTTPS (the channel side that onetripd calls), in each gateway's real
// protocol; requests whose merchant signature does not verify are refused as the gateway would:
//   POST /gateway.do                        Alipay open API (form signed RSA2 with the merchant's
//                                           app key; answers {"<method>_response":{...},"sign"}
//                                           signed with Alipay's key): alipay.trade.query,
//                                           alipay.trade.refund, alipay.trade.fastpay.refund.query,
//                                           alipay.data.dataservice.bill.downloadurl.query
//   GET  /alipay/bill/download?token=       the bill: a zip with the detail CSV (+ summary)
//   GET  /v3/pay/transactions/out-trade-no/{no}?mchid=   WeChat Pay API v3 (Authorization
//   POST /v3/pay/transactions/app|jsapi                   (prepay: {prepay_id})
//   POST /v3/refund/domestic/refunds                      WECHATPAY2-SHA256-RSA2048 checked with
//   GET  /v3/refund/domestic/refunds/{out_refund_no}      (refund query)
//   GET  /v3/bill/tradebill?bill_date=&bill_type=ALL      the merchant key; answers signed with
//   GET  /v3/billdownload/file?token=                     the platform key, the bill by SHA1)
//   GET  /<policeapp|govportal>/query?order_no=P...   the trade as a signed notice, 404 when none
//   POST /<policeapp|govportal>/refund      {out_refund_no, order_no, trade_no, amount_fen}
//                                           -> {refund_no, status: SUCCESS|FAILED, reason?}
//   GET  /<policeapp|govportal>/statement?date=Y-M-D  CSV "type,order_no,trade_no,amount" in fen
//   POST /control/pay                       {channel, order_no, amount_fen, notify?: true}
//                                           (for the demo tour / CLI)
// Values are realistic: Beijing times (+08:00), 28-digit trade numbers, Alipay's envelope.
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
import zlib from 'node:zlib';

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

const digits = (n) => Array.from(crypto.randomBytes(n), (b) => String(b % 10)).join('');

/** Beijing time of a Date: "YYYY-MM-DD HH:mm:ss" (Alipay) or RFC 3339 with +08:00 (WeChat Pay). */
export function beijing(d = new Date(), rfc3339 = false) {
  const s = new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 19);
  return rfc3339 ? `${s}+08:00` : s.replace('T', ' ');
}

/** A channel's trade number as the gateway writes it: Alipay 28 digits (date + 22001 + ...),
 * WeChat Pay transaction_id 28 digits (4200 + ...), the HMAC channels their own. */
function tradeNumber(channel) {
  const day = shanghaiDay().replace(/-/g, '');
  if (channel === 'alipay') return `${day}22001${digits(15)}`;
  if (channel === 'wechatpay') return `4200${digits(4)}${day}${digits(16)}`.slice(0, 28);
  return `${channel.slice(0, 2).toUpperCase()}${Date.now()}${rnd(4)}`;
}

/** "100.10" -> 10010n (canonical yuan, at most two decimals); throws otherwise. */
export function parseYuan(s) {
  const m = /^(0|[1-9]\d*)(?:\.(\d{1,2}))?$/.exec(String(s));
  if (!m) throw new Error(`not a yuan amount: ${s}`);
  return BigInt(m[1]) * 100n + BigInt((m[2] ?? '0').padEnd(2, '0'));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip archive of [name, Buffer] entries, deflated (as Alipay's bill downloads are). */
export function zip(entries) {
  const locals = []; const centrals = []; let off = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name, 'utf8');
    const comp = zlib.deflateRawSync(data);
    const crc = crc32(data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0x0800, 6); lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(n.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(0x0800, 8); ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(n.length, 28);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, n, comp);
    centrals.push(ch, n);
    off += 30 + n.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, end]);
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
    // the merchant's own keys (onetripd signs its requests with them)
    for (const n of ['alipay_app', 'wechat_merchant']) {
      const k = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      fs.writeFileSync(f(`${n}_private.pem`), k.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      fs.writeFileSync(f(`${n}_public.pem`), k.publicKey.export({ type: 'spki', format: 'pem' }));
    }
    fs.writeFileSync(f('keys.json'), JSON.stringify({
      alipayAppId: `2021${String(crypto.randomInt(1e9)).padStart(12, '0')}`,
      wechatMchid: String(1900000000 + crypto.randomInt(99999)),
      wechatSerial: `PUB_KEY_ID_${rnd(16).toUpperCase()}`,
      wechatMerchantSerial: rnd(20).toUpperCase(),
      wechatAppid: `wx${rnd(8)}`,
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
    alipayAppPrivateFile: f('alipay_app_private.pem'),
    alipayAppPublic: fs.readFileSync(f('alipay_app_public.pem'), 'utf8'),
    alipayAppPrivate: fs.readFileSync(f('alipay_app_private.pem'), 'utf8'),
    wechatMerchantPrivateFile: f('wechat_merchant_private.pem'),
    wechatMerchantPrivate: fs.readFileSync(f('wechat_merchant_private.pem'), 'utf8'),
    wechatMerchantPublic: fs.readFileSync(f('wechat_merchant_public.pem'), 'utf8'),
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
  const sim = { keys, trades, allTrades, refunds, onetripUrl, ca, requests: [], refundFailures: 0, refundsProcessing: 0, statementFailures: 0, prepays: new Map() };

  // ---- notices ---------------------------------------------------------------------------
  function alipayParams(t, o = {}) {
    const now = beijing(new Date(t.paidAt));
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

  /** A signed WeChat Pay API v3 callback: resource = AEAD_AES_256_GCM(API v3 key) of inner. */
  function wechatCallback(id, eventType, summary, originalType, inner, o = {}) {
    const nonce = alnum(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(o.apiKey ?? keys.wechatApiV3Key), Buffer.from(nonce));
    cipher.setAAD(Buffer.from(originalType));
    const ct = Buffer.concat([cipher.update(JSON.stringify(inner), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    const body = JSON.stringify({
      id, create_time: beijing(new Date(), true), resource_type: 'encrypt-resource', event_type: eventType, summary,
      resource: { original_type: originalType, algorithm: 'AEAD_AES_256_GCM', ciphertext: ct.toString('base64'), associated_data: originalType, nonce },
    });
    const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const hn = alnum(32);
    // WeChat Pay's signature probes carry a deliberately wrong signature with this prefix
    const sig = o.signtest ? `WECHATPAY/SIGNTEST/${crypto.randomBytes(256).toString('base64')}`
      : crypto.createSign('RSA-SHA256').update(`${ts}\n${hn}\n${body}\n`).sign(keys.wechatPrivate, 'base64');
    return {
      body: o.tamperBody ? o.tamperBody(body) : body,
      headers: {
        'content-type': 'application/json', 'wechatpay-timestamp': ts, 'wechatpay-nonce': hn,
        'wechatpay-signature': sig, 'wechatpay-serial': o.serial ?? keys.wechatSerial,
        'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
      },
    };
  }

  function wechatNotice(t, o = {}) {
    const inner = {
      mchid: o.mchid ?? keys.wechatMchid, appid: keys.wechatAppid, out_trade_no: t.orderNo,
      transaction_id: t.tradeNo, trade_type: 'APP', trade_state: o.status ?? t.wechatStatus,
      trade_state_desc: '支付成功', bank_type: 'OTHERS', attach: '', success_time: beijing(new Date(t.paidAt), true),
      payer: { openid: 'o' + rnd(8) },
      amount: { total: o.amountFen ?? t.amountFen, payer_total: o.amountFen ?? t.amountFen, currency: o.currency ?? 'CNY', payer_currency: 'CNY' },
    };
    return wechatCallback(t.notifyId, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', inner, o);
  }

  const REFUND_EVENTS = { SUCCESS: ['REFUND.SUCCESS', '退款成功'], ABNORMAL: ['REFUND.ABNORMAL', '退款异常'], CLOSED: ['REFUND.CLOSED', '退款关闭'] };
  /** The signed refund callback of WeChat refund r (a sim.refunds entry): {path, headers, body}.
   * o.status / o.eventType / o.amountFen / o.mchid override what it says. */
  sim.refundNotification = function refundNotification(r, o = {}) {
    const status = o.status ?? r.status;
    const [ev, summary] = REFUND_EVENTS[status] ?? [`REFUND.${status}`, status];
    const inner = {
      mchid: o.mchid ?? keys.wechatMchid, out_trade_no: r.order_no, transaction_id: r.trade_no, out_refund_no: r.out_refund_no,
      refund_id: r.refund_no, refund_status: status, user_received_account: '支付用户零钱',
      amount: { total: r.total, refund: o.amountFen ?? r.amount_fen, payer_total: r.total, payer_refund: o.amountFen ?? r.amount_fen },
    };
    if (status === 'SUCCESS') inner.success_time = beijing(new Date(r.at), true);
    const n = wechatCallback(o.notifyId ?? r.notify_id, o.eventType ?? ev, summary, 'refund', inner, o);
    return { path: '/v1/payments/notify/wechatpay/refund', ...n };
  };
  /** Sends r's refund callback to the notify_url onetripd gave with the refund (or o.url). */
  sim.notifyRefund = async function notifyRefund(r, o = {}) {
    const n = sim.refundNotification(r, o);
    return post(o.url ?? r.notify_url ?? `${sim.onetripUrl}${n.path}`, n.headers, n.body, o.ca ?? sim.ca);
  };
  /** A WeChat refund answered PROCESSING ends: status SUCCESS | ABNORMAL | CLOSED (no callback sent). */
  sim.finishRefund = function finishRefund(outRefundNo, status = 'SUCCESS') {
    const r = refunds.find((x) => x.channel === 'wechatpay' && x.out_refund_no === outRefundNo);
    if (!r) throw new Error(`no refund ${outRefundNo}`);
    r.status = status;
    r.at = Date.now();
    r.date = shanghaiDay();
    return r;
  };
  /** The next n new WeChat refunds are answered PROCESSING (they end with sim.finishRefund). */
  sim.processRefunds = function processRefunds(n) { sim.refundsProcessing = n; };

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
      tradeNo: o.tradeNo ?? tradeNumber(channel),
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

  /** Entries of a bureau day's statement (after the test's tweaks), in order. */
  function statementEntries(channel, date) {
    const out = [];
    for (const t of allTrades) {
      if (t.channel !== channel || t.closed || shanghaiDay(new Date(t.paidAt)) !== date || stmt.dropped.has(t.tradeNo)) continue;
      if (t.alipayStatus !== 'TRADE_SUCCESS') continue;
      out.push({ type: 'payment', orderNo: t.orderNo, tradeNo: t.tradeNo, amountFen: stmt.amounts.get(t.tradeNo) ?? t.amountFen, at: t.paidAt });
    }
    for (const r of refunds) {
      if (r.channel !== channel || r.status !== 'SUCCESS' || r.date !== date) continue;
      out.push({ type: 'refund', orderNo: r.order_no, tradeNo: r.refund_no, amountFen: r.amount_fen, refundOf: r.trade_no, outRefundNo: r.out_refund_no, at: r.at });
    }
    for (const e of stmt.extra) {
      if (e.channel === channel && (e.date ?? date) === date) out.push({ type: e.type ?? 'payment', orderNo: e.orderNo, tradeNo: e.tradeNo, amountFen: e.amountFen, at: Date.now() });
    }
    return out;
  }

  function withInserted(channel, date, lines) {
    const raw = stmt.inserted.filter((e) => e.channel === channel && (e.date ?? date) === date)
      .sort((x, y) => x.lineNo - y.lineNo);
    for (const e of raw) lines.splice(Math.max(0, Math.min(lines.length, e.lineNo - 1)), 0, e.text);
    return lines;
  }

  /** HMAC channels: CSV "type,order_no,trade_no,amount" in fen. */
  function statementCsv(channel, date) {
    const lines = ['type,order_no,trade_no,amount'];
    for (const e of statementEntries(channel, date)) lines.push(`${e.type},${e.orderNo},${e.tradeNo},${e.amountFen}`);
    return withInserted(channel, date, lines).join('\n') + '\n';
  }

  /** WeChat Pay trade bill (bill_type=ALL): titles, '`'-prefixed rows, then the summary. */
  function wechatBill(date) {
    const titles = '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
    const lines = [titles];
    let n = 0; let paid = 0n; let back = 0n;
    for (const e of statementEntries('wechatpay', date)) {
      const y = yuan(e.amountFen);
      const f = e.type === 'refund'
        ? [beijing(new Date(e.at)), keys.wechatAppid, keys.wechatMchid, '0', '', e.refundOf ?? '', e.orderNo, 'o' + rnd(8), 'APP', 'REFUND', 'OTHERS', 'CNY', '0.00', '0.00', e.tradeNo, e.outRefundNo ?? '', y, '0.00', 'ORIGINAL', 'SUCCESS', '交通违法罚款', '', '0.00', '0.60%', '0.00', y, '']
        : [beijing(new Date(e.at)), keys.wechatAppid, keys.wechatMchid, '0', '', e.tradeNo, e.orderNo, 'o' + rnd(8), 'APP', 'SUCCESS', 'OTHERS', 'CNY', y, '0.00', '0', '0', '0.00', '0.00', '', '', '交通违法罚款', '', '0.00', '0.60%', y, '0.00', ''];
      lines.push(f.map((v) => '`' + v).join(','));
      n += 1;
      if (e.type === 'refund') back += BigInt(e.amountFen); else paid += BigInt(e.amountFen);
    }
    withInserted('wechatpay', date, lines);
    lines.push('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额');
    lines.push(['' + n, yuan(paid), yuan(back), '0.00', '0.00', yuan(paid), yuan(back)].map((v) => '`' + v).join(','));
    return lines.join('\r\n') + '\r\n';
  }

  /** Alipay trade bill detail CSV (Alipay writes it in GBK; the simulator in UTF-8, which
   * onetripd reads alike: it takes columns by position). */
  function alipayBillCsv(date) {
    const d = date.replace(/-/g, '');
    const lines = ['#支付宝业务明细查询', `#账号：[2088${digits(12)}0156]`,
      `#起始日期：[${date.slice(0, 4)}年${date.slice(5, 7)}月${date.slice(8, 10)}日 00:00:00]   终止日期：[${date.slice(0, 4)}年${date.slice(5, 7)}月${date.slice(8, 10)}日 23:59:59]`,
      '#-----------------------------------------业务明细列表----------------------------------------',
      '支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注'];
    let paid = 0; let back = 0;
    for (const e of statementEntries('alipay', date)) {
      const t = beijing(new Date(e.at));
      const neg = e.type === 'refund' ? '-' : '';
      const y = neg + yuan(e.amountFen);
      lines.push([`${e.type === 'refund' ? e.refundOf ?? '' : e.tradeNo}\t`, `${e.orderNo}\t`, e.type === 'refund' ? '退款' : '交易',
        '交通违法罚款', t, t, '', '', '', '', '159****5620', y, y, '0.00', '0.00', '0.00', '0.00', '0.00', '', '0.00', '0.00',
        e.type === 'refund' ? e.tradeNo : '', '0.00', '0.00', ''].join(','));
      if (e.type === 'refund') back += 1; else paid += 1;
    }
    withInserted('alipay', date, lines);
    lines.push('#-----------------------------------------业务明细列表结束------------------------------------');
    lines.push(`#交易合计：${paid}笔，商家实收共：0.00元，商家优惠共：0.00元`, `#退款合计：${back}笔`, `#导出时间：[${beijing()}]`);
    return lines.join('\r\n') + '\r\n';
  }

  // ---- the gateways' real protocols -----------------------------------------------------
  // Alipay open API: POST /gateway.do, a form signed RSA2 with the merchant's app key;
  // answers {"<method>_response": {...}, "sign": "..."} signed with Alipay's key.
  function alipayAnswer(method, obj) {
    const key = `${method.replace(/\./g, '_')}_response`;
    const text = JSON.stringify(obj);
    const sign = crypto.createSign('RSA-SHA256').update(text, 'utf8').sign(keys.alipayPrivate, 'base64');
    return `{"${key}":${text},"sign":"${sign}"}`;
  }

  /** Verifies an Alipay request form the way the gateway does; returns the params or throws. */
  sim.alipayVerifyRequest = function alipayVerifyRequest(form) {
    const p = Object.fromEntries(new URLSearchParams(form));
    const content = Object.keys(p).filter((k) => k !== 'sign').sort().map((k) => `${k}=${p[k]}`).join('&');
    const ok = p.sign && crypto.createVerify('RSA-SHA256').update(content, 'utf8').verify(keys.alipayAppPublic, p.sign, 'base64');
    if (!ok) throw Object.assign(new Error('isv.invalid-signature'), { alipay: true });
    if (p.app_id !== keys.alipayAppId) throw Object.assign(new Error('isv.invalid-app-id'), { alipay: true });
    if (p.sign_type !== 'RSA2' || p.charset !== 'utf-8' || p.version !== '1.0' || !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(p.timestamp)) {
      throw Object.assign(new Error('isv.missing-signature-type'), { alipay: true });
    }
    return p;
  };

  const alipayBills = new Map(); // token -> date
  function alipayGateway(form) {
    let p;
    try {
      p = sim.alipayVerifyRequest(form);
    } catch (e) {
      return alipayAnswer('error', { code: '40002', msg: 'Invalid Arguments', sub_code: e.message, sub_msg: '验签出错' });
    }
    const biz = JSON.parse(p.biz_content || '{}');
    const m = p.method;
    const ok = { code: '10000', msg: 'Success' };
    const trade = () => (biz.trade_no ? allTrades.find((x) => x.channel === 'alipay' && x.tradeNo === biz.trade_no) : trades.get(`alipay/${biz.out_trade_no}`));
    if (m === 'alipay.trade.query') {
      const t = trade();
      if (!t) return alipayAnswer(m, { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在', out_trade_no: biz.out_trade_no });
      return alipayAnswer(m, { ...ok, trade_no: t.tradeNo, out_trade_no: t.orderNo, buyer_logon_id: '159****5620', trade_status: t.alipayStatus,
        total_amount: yuan(t.amountFen), buyer_pay_amount: yuan(t.amountFen), receipt_amount: yuan(t.amountFen), send_pay_date: beijing(new Date(t.paidAt)), buyer_user_id: `2088${digits(12)}` });
    }
    if (m === 'alipay.trade.refund') {
      sim.requests[sim.requests.length - 1].refundTradeNo = biz.trade_no ?? trade()?.tradeNo;
      if (sim.refundFailures > 0) {
        sim.refundFailures -= 1;
        return alipayAnswer(m, { code: '20000', msg: 'Service Currently Unavailable', sub_code: 'isp.unknow-error', sub_msg: '系统繁忙' });
      }
      const t = trade();
      const prior = refunds.find((r) => r.channel === 'alipay' && r.out_refund_no === biz.out_request_no);
      if (prior) return alipayAnswer(m, { ...ok, trade_no: prior.trade_no, out_trade_no: prior.order_no, buyer_logon_id: '159****5620', fund_change: 'N', refund_fee: yuan(prior.amount_fen) });
      if (!t) return alipayAnswer(m, { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.TRADE_NOT_EXIST', sub_msg: '交易不存在' });
      let fen;
      try { fen = Number(parseYuan(biz.refund_amount)); } catch { return alipayAnswer(m, { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-parameter' }); }
      const done = refunds.filter((r) => r.channel === 'alipay' && r.trade_no === t.tradeNo && r.status === 'SUCCESS').reduce((x, r) => x + r.amount_fen, 0);
      if (done + fen > t.amountFen) return alipayAnswer(m, { code: '40004', msg: 'Business Failed', sub_code: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', sub_msg: '退款金额超限' });
      // Alipay's refund has no number of its own: the merchant's out_request_no names it
      const r = { channel: 'alipay', out_refund_no: biz.out_request_no, order_no: t.orderNo, trade_no: t.tradeNo, amount_fen: fen,
        refund_no: biz.out_request_no, status: 'SUCCESS', date: shanghaiDay(), at: Date.now() };
      refunds.push(r);
      return alipayAnswer(m, { ...ok, trade_no: t.tradeNo, out_trade_no: t.orderNo, buyer_logon_id: '159****5620', fund_change: 'Y', refund_fee: biz.refund_amount, gmt_refund_pay: beijing() });
    }
    if (m === 'alipay.trade.fastpay.refund.query') {
      const r = refunds.find((x) => x.channel === 'alipay' && x.out_refund_no === biz.out_request_no);
      if (!r) return alipayAnswer(m, { ...ok, out_request_no: biz.out_request_no });
      return alipayAnswer(m, { ...ok, trade_no: r.trade_no, out_trade_no: r.order_no, out_request_no: r.out_refund_no, refund_amount: yuan(r.amount_fen), total_amount: yuan(r.amount_fen), refund_status: 'REFUND_SUCCESS' });
    }
    if (m === 'alipay.data.dataservice.bill.downloadurl.query') {
      if (!/^\d{4}-\d\d-\d\d$/.test(biz.bill_date || '') || biz.bill_type !== 'trade') return alipayAnswer(m, { code: '40004', msg: 'Business Failed', sub_code: 'isp.bill_not_exist', sub_msg: '账单不存在' });
      const token = rnd(16);
      alipayBills.set(token, biz.bill_date);
      return alipayAnswer(m, { ...ok, bill_download_url: `${sim.url}/alipay/bill/download?token=${token}&bizType=trade&fileType=csv.zip` });
    }
    return alipayAnswer(m ?? 'error', { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-method' });
  }

  // WeChat Pay API v3: requests carry WECHATPAY2-SHA256-RSA2048 (merchant key), answers are
  // signed with the platform key (Wechatpay-Timestamp/Nonce/Signature/Serial).
  /** Checks an API v3 Authorization header; returns the parsed fields or throws. */
  sim.wechatVerifyRequest = function wechatVerifyRequest(method, urlPathQuery, auth, body) {
    const m = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(auth || '');
    if (!m) throw new Error('no Authorization');
    const f = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (f.mchid !== keys.wechatMchid || f.serial_no !== keys.wechatMerchantSerial) throw new Error('wrong mchid or serial_no');
    if (Math.abs(Number(f.timestamp) - Date.now() / 1000) > 300) throw new Error('stale timestamp');
    const msg = `${method}\n${urlPathQuery}\n${f.timestamp}\n${f.nonce_str}\n${body}\n`;
    if (!crypto.createVerify('RSA-SHA256').update(msg).verify(keys.wechatMerchantPublic, f.signature, 'base64')) throw new Error('signature');
    return f;
  };

  function wechatSigned(status, obj) {
    const body = obj === null ? '' : JSON.stringify(obj);
    const ts = String(Math.floor(Date.now() / 1000));
    const nonce = alnum(32);
    const sig = crypto.createSign('RSA-SHA256').update(`${ts}\n${nonce}\n${body}\n`).sign(keys.wechatPrivate, 'base64');
    return { status, type: 'application/json', body, headers: {
      'wechatpay-timestamp': ts, 'wechatpay-nonce': nonce, 'wechatpay-signature': sig, 'wechatpay-serial': keys.wechatSerial,
      'request-id': `08${digits(16)}` } };
  }

  /** WeChat's answer about a refund (the refund call and the refund query). */
  function refundAnswer(r) {
    const body = { refund_id: r.refund_no, out_refund_no: r.out_refund_no, transaction_id: r.trade_no, out_trade_no: r.order_no,
      channel: 'ORIGINAL', user_received_account: '支付用户零钱', create_time: beijing(new Date(r.at), true),
      status: r.status, funds_account: 'AVAILABLE', amount: { total: r.total, refund: r.amount_fen, payer_total: r.total, payer_refund: r.amount_fen,
        settlement_refund: r.amount_fen, settlement_total: r.total, discount_refund: 0, currency: 'CNY' } };
    if (r.status === 'SUCCESS') body.success_time = beijing(new Date(r.at), true);
    return wechatSigned(200, body);
  }

  const wechatBills = new Map(); // token -> date
  function wechatApi(req, u, body) {
    try {
      sim.wechatVerifyRequest(req.method, req.url, req.headers.authorization, body);
    } catch (e) {
      return wechatSigned(401, { code: 'SIGN_ERROR', message: `签名错误 ${e.message}` });
    }
    const parts = u.pathname.split('/').filter(Boolean);
    if (req.method === 'GET' && parts[1] === 'pay' && parts[2] === 'transactions' && parts[3] === 'out-trade-no') {
      if (u.searchParams.get('mchid') !== keys.wechatMchid) return wechatSigned(400, { code: 'PARAM_ERROR', message: 'mchid' });
      const t = trades.get(`wechatpay/${decodeURIComponent(parts[4])}`);
      if (!t) return wechatSigned(404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' });
      return wechatSigned(200, { appid: keys.wechatAppid, mchid: keys.wechatMchid, out_trade_no: t.orderNo, transaction_id: t.tradeNo,
        trade_type: 'APP', trade_state: t.wechatStatus, trade_state_desc: t.wechatStatus === 'SUCCESS' ? '支付成功' : '订单已关闭',
        bank_type: 'OTHERS', attach: '', success_time: beijing(new Date(t.paidAt), true), payer: { openid: 'o' + rnd(8) },
        amount: { total: t.amountFen, payer_total: t.amountFen, currency: 'CNY', payer_currency: 'CNY' } });
    }
    if (req.method === 'POST' && (u.pathname === '/v3/pay/transactions/app' || u.pathname === '/v3/pay/transactions/jsapi')) {
      const j = JSON.parse(body);
      if (j.mchid !== keys.wechatMchid || j.appid !== keys.wechatAppid) return wechatSigned(400, { code: 'PARAM_ERROR', message: 'appid和mch_id不匹配' });
      const jsapi = u.pathname.endsWith('/jsapi');
      // JSAPI pays from WeChat's in-app browser: the payer's openid is required there, and only there
      if (jsapi !== (typeof j.payer?.openid === 'string' && j.payer.openid.length > 0)) return wechatSigned(400, { code: 'PARAM_ERROR', message: '缺少参数 payer.openid' });
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/.test(j.time_expire ?? '') || !Number.isInteger(j.amount?.total) || !j.notify_url?.startsWith('https://')) {
        return wechatSigned(400, { code: 'PARAM_ERROR', message: '参数错误' });
      }
      const prior = sim.prepays.get(j.out_trade_no);
      const prepay = prior ?? { prepay_id: `wx${beijing().replace(/\D/g, '').slice(2)}${rnd(10)}${digits(4)}`, request: j };
      sim.prepays.set(j.out_trade_no, prepay);
      return wechatSigned(200, { prepay_id: prepay.prepay_id });
    }
    if (req.method === 'POST' && u.pathname === '/v3/refund/domestic/refunds') {
      const j = JSON.parse(body);
      const t = j.transaction_id ? allTrades.find((x) => x.channel === 'wechatpay' && x.tradeNo === j.transaction_id) : trades.get(`wechatpay/${j.out_trade_no}`);
      sim.requests[sim.requests.length - 1].refundTradeNo = j.transaction_id ?? t?.tradeNo;
      if (sim.refundFailures > 0) {
        sim.refundFailures -= 1;
        return wechatSigned(500, { code: 'SYSTEM_ERROR', message: '系统繁忙，请稍后重试' });
      }
      const answer = refundAnswer;
      const prior = refunds.find((r) => r.channel === 'wechatpay' && r.out_refund_no === j.out_refund_no);
      if (prior) return answer(prior); // idempotent on out_refund_no
      if (!t) return wechatSigned(404, { code: 'RESOURCE_NOT_EXISTS', message: '订单不存在' });
      if (!Number.isInteger(j.amount?.refund) || j.amount.total !== t.amountFen) return wechatSigned(400, { code: 'PARAM_ERROR', message: '订单金额或退款金额与之前请求不一致' });
      const done = refunds.filter((r) => r.channel === 'wechatpay' && r.trade_no === t.tradeNo && r.status === 'SUCCESS').reduce((x, r) => x + r.amount_fen, 0);
      if (done + j.amount.refund > t.amountFen) return wechatSigned(400, { code: 'INVALID_REQUEST', message: '申请退款金额超过订单可退金额' });
      const processing = sim.refundsProcessing > 0;
      if (processing) sim.refundsProcessing -= 1;
      const r = { channel: 'wechatpay', out_refund_no: j.out_refund_no, order_no: t.orderNo, trade_no: t.tradeNo, amount_fen: j.amount.refund,
        total: t.amountFen, refund_no: `50${digits(27)}`, status: processing ? 'PROCESSING' : 'SUCCESS', date: shanghaiDay(), at: Date.now(),
        notify_url: j.notify_url ?? null, notify_id: crypto.randomUUID() };
      refunds.push(r);
      return answer(r);
    }
    if (req.method === 'GET' && parts[1] === 'refund' && parts[2] === 'domestic' && parts[3] === 'refunds' && parts[4]) {
      sim.requests[sim.requests.length - 1].refundQuery = decodeURIComponent(parts[4]);
      const r = refunds.find((x) => x.channel === 'wechatpay' && x.out_refund_no === decodeURIComponent(parts[4]));
      if (!r) return wechatSigned(404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
      return refundAnswer(r);
    }
    if (req.method === 'GET' && u.pathname === '/v3/bill/tradebill') {
      const date = u.searchParams.get('bill_date');
      if (!/^\d{4}-\d\d-\d\d$/.test(date || '')) return wechatSigned(400, { code: 'PARAM_ERROR', message: 'bill_date' });
      const token = rnd(16);
      const text = wechatBill(date);
      wechatBills.set(token, text);
      return wechatSigned(200, { hash_type: 'SHA1', hash_value: crypto.createHash('sha1').update(text).digest('hex'),
        download_url: `${sim.url}/v3/billdownload/file?token=${token}` });
    }
    if (req.method === 'GET' && u.pathname === '/v3/billdownload/file') {
      if (sim.statementFailures > 0) {
        sim.statementFailures -= 1;
        return { status: 503, type: 'text/plain', body: 'busy', headers: {} };
      }
      const text = wechatBills.get(u.searchParams.get('token'));
      if (!text) return wechatSigned(404, { code: 'RESOURCE_NOT_EXISTS', message: '账单文件不存在' });
      return { status: 200, type: 'text/plain;charset=utf-8', body: text, headers: {} }; // not signed: hash_value checks it
    }
    return wechatSigned(404, { code: 'NOT_FOUND', message: 'no such API' });
  }

  // ---- HTTPS server ------------------------------------------------------------------------
  const server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, async (req, res) => {
    const u = new URL(req.url, 'https://sim');
    const parts = u.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    sim.requests.push({ method: req.method, path: u.pathname, query: u.search, headers: req.headers, body });
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
      if (u.pathname === '/gateway.do' && req.method === 'POST') {
        return send(200, 'application/json;charset=utf-8', alipayGateway(body));
      }
      if (u.pathname === '/alipay/bill/download' && req.method === 'GET') {
        if (sim.statementFailures > 0) {
          sim.statementFailures -= 1;
          return send(503, 'text/plain', 'busy');
        }
        const date = alipayBills.get(u.searchParams.get('token'));
        if (!date) return send(404, 'text/plain', 'expired');
        const d = date.replace(/-/g, '');
        return send(200, 'application/zip', zip([
          [`20886${digits(11)}_${d}_业务明细.csv`, Buffer.from(alipayBillCsv(date), 'utf8')],
          [`20886${digits(11)}_${d}_业务明细(汇总).csv`, Buffer.from('#支付宝业务汇总查询\r\n', 'utf8')],
        ]));
      }
      if (parts[0] === 'v3') {
        const a = wechatApi(req, u, body);
        return send(a.status, a.type, a.body, a.headers);
      }
      const channel = parts[0];
      if (channel !== 'policeapp' && channel !== 'govportal') return send(404, 'application/json', '{"error":"unknown channel"}');
      if (parts[1] === 'query' && req.method === 'GET') {
        const t = trades.get(`${channel}/${u.searchParams.get('order_no')}`);
        if (!t) return send(404, 'application/json', '{"code":"TRADE_NOT_EXIST"}');
        const n = sim.notification(t);
        return send(200, n.headers['content-type'], n.body, n.headers);
      }
      if (parts[1] === 'refund' && req.method === 'POST') {
        const j = JSON.parse(body);
        sim.requests[sim.requests.length - 1].refundTradeNo = j.trade_no;
        if (sim.refundFailures > 0) {
          sim.refundFailures -= 1;
          return send(503, 'application/json', JSON.stringify({ status: 'UNKNOWN', reason: 'system_busy' }));
        }
        const t = allTrades.find((x) => x.channel === channel && x.tradeNo === j.trade_no);
        const done = refunds.filter((r) => r.channel === channel && r.trade_no === j.trade_no && r.status === 'SUCCESS')
          .reduce((a, r) => a + r.amount_fen, 0);
        const prior = refunds.find((r) => r.out_refund_no === j.out_refund_no);
        if (prior) return send(200, 'application/json', JSON.stringify(prior)); // idempotent on out_refund_no
        if (!t) return send(400, 'application/json', JSON.stringify({ status: 'FAILED', reason: 'trade_not_found' }));
        if (done + j.amount_fen > t.amountFen) return send(400, 'application/json', JSON.stringify({ status: 'FAILED', reason: 'refund_exceeds_trade' }));
        const r = { ...j, channel, refund_no: `RN${Date.now()}${rnd(3)}`, status: 'SUCCESS', date: shanghaiDay(), at: Date.now() };
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
      'payments.alipay_private_key_file': keys.alipayAppPrivateFile,
      'payments.alipay_gateway_url': `${sim.url}/gateway.do`,
      'payments.wechat_mchid': keys.wechatMchid,
      'payments.wechat_appid': keys.wechatAppid,
      'payments.wechat_platform_cert_file': keys.wechatPublicFile,
      'payments.wechat_serial': keys.wechatSerial,
      'payments.wechat_apiv3_key': keys.wechatApiV3Key,
      'payments.wechat_private_key_file': keys.wechatMerchantPrivateFile,
      'payments.wechat_merchant_serial': keys.wechatMerchantSerial,
      'payments.wechatpay_base_url': sim.url,
      'payments.alipay_notify_url': `${sim.onetripUrl ?? 'https://127.0.0.1:8443'}/v1/payments/notify/alipay`,
      'payments.wechat_notify_url': `${sim.onetripUrl ?? 'https://127.0.0.1:8443'}/v1/payments/notify/wechatpay`,
      'payments.wechat_refund_notify_url': `${sim.onetripUrl ?? 'https://127.0.0.1:8443'}/v1/payments/notify/wechatpay/refund`,
      'payments.policeapp_secret': keys.policeappSecret,
      'payments.govportal_secret': keys.govportalSecret,
      'payments.http_ca_file': path.resolve(tls.ca),
    };
    for (const c of ['policeapp', 'govportal']) {
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
