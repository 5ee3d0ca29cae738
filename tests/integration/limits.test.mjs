// Limits: body size, header size and count, the whole-request deadline, idle keep-alive,
// the first-byte deadline, and the total and per-address connection caps onetripd adds on top
// of evhttp 2.1 (at a cap an idle connection makes room: newcomers are never locked out).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

import { startServer, request, sleep, waitFor, tlsPaths } from './lib/harness.mjs';

/** Open a raw TCP connection; resolves once connected. */
function connect(port, localAddress) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    s.setNoDelay(true);
    s.chunks = [];
    s.closedAt = null;
    s.on('data', (d) => s.chunks.push(d));
    s.on('close', () => { s.closedAt = Date.now(); });
    s.on('error', () => { /* a reset counts as closed */ });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with the time the socket closed, or null if still open after ms. */
async function closedWithin(s, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (s.closedAt) return s.closedAt;
    await sleep(25);
  }
  return s.closedAt;
}

function responseText(s) {
  return Buffer.concat(s.chunks).toString('utf8');
}

/** A counter or gauge from /metrics (asked from its own loopback address). */
async function metric(server, name, localAddress = '127.0.0.99') {
  const r = await new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: server.httpPort, localAddress });
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
    s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r);
  assert.ok(m, `no ${name} in /metrics`);
  return Number(m[1]);
}

/** Open n silent connections from localAddress. */
async function hold(port, n, localAddress) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await connect(port, localAddress));
  return out;
}

/** Destroy sockets and wait until the server has released them (only the probe is open). */
async function releaseAll(server, sockets) {
  for (const s of sockets) s.destroy();
  await waitFor(async () => (await metric(server, 'onetrip_open_connections')) === 1,
    { timeoutMs: 10000, what: 'the server to release closed connections' });
}

describe('request limits', () => {
  let server;
  before(async () => {
    server = await startServer({
      prefix: 'limits',
      overrides: {
        'http.max_body': 2048,
        'http.max_headers_size': 4096,
        'http.max_header_count': 20,
        'http.request_timeout_s': 2,
        'http.first_byte_timeout_s': 1,
        'http.idle_timeout_s': 3,
        'jobs.enabled': 0,
      },
    });
  });
  after(async () => { if (server) await server.stop(); });

  test('a body over http.max_body is refused with 413', async () => {
    const r = await request(`${server.httpUrl}/healthz`, { method: 'POST', body: 'x'.repeat(4096) });
    assert.equal(r.status, 413);
  });

  test('a body within the limit reaches routing', async () => {
    const r = await request(`${server.httpUrl}/healthz`, { method: 'POST', body: 'x'.repeat(1000) });
    assert.equal(r.status, 405);
  });

  test('a request head over http.max_headers_size is a 431 problem', async () => {
    const r = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Big': 'y'.repeat(8000) } });
    assert.equal(r.status, 431);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(r.json.code, 'headers_too_large');
    assert.equal(r.json.max_bytes, 4096);
    const ok = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Fits': 'y'.repeat(3000) } });
    assert.equal(ok.status, 200);
  });

  test('a request head over http.max_headers_read gets evhttp\'s own error or a closed connection', async () => {
    let status = null;
    try {
      const r = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Huge': 'y'.repeat(200 * 1024) } });
      status = r.status;
    } catch (e) {
      status = e.code; // evhttp may just close the connection
    }
    assert.ok([400, 413, 431, 'ECONNRESET', 'EPIPE'].includes(status), `got ${status}`);
    const ok = await request(`${server.httpUrl}/healthz`);
    assert.equal(ok.status, 200);
  });

  test('more header lines than http.max_header_count is a 431 problem', async () => {
    const headers = {};
    for (let i = 0; i < 30; i++) headers[`X-H${i}`] = 'v';
    const r = await request(`${server.httpUrl}/healthz`, { headers });
    assert.equal(r.status, 431);
    assert.equal(r.json.code, 'too_many_headers');
  });

  test('a client trickling a request is cut off at the request deadline', async () => {
    const timedOut = () => metric(server, 'onetrip_connections_timed_out_total', '127.0.0.1');
    const before0 = await timedOut();
    const s = await connect(server.httpPort);
    const started = Date.now();
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    // One byte every 100 ms keeps evhttp's own (idle, 1 s) timer from firing.
    const timer = setInterval(() => { if (!s.closedAt) s.write('X'); }, 100);
    const closedAt = await closedWithin(s, 30000);
    clearInterval(timer);
    s.destroy();
    assert.ok(closedAt, 'connection still open after 30 s');
    // The deadline (2 s) closed it, not evhttp's idle timer, and not before it was due. How
    // soon after is the machine's business: the sweeper runs every 100 ms when it can.
    assert.ok(await timedOut() > before0, 'onetrip_connections_timed_out_total did not move');
    const took = closedAt - started;
    assert.ok(took >= 1500, `closed after ${took} ms, before the deadline`);
  });

  test('an idle keep-alive connection is closed after http.idle_timeout_s', async () => {
    const s = await connect(server.httpPort);
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => /^HTTP\/1\.1 200/.test(responseText(s)) || s.closedAt,
      { timeoutMs: 30000, intervalMs: 10, what: 'the response' });
    assert.match(responseText(s), /^HTTP\/1\.1 200/);
    const closedAt = await closedWithin(s, 30000);
    s.destroy();
    assert.ok(closedAt, 'idle connection still open after 30 s');
  });

  test('a new connection that sends nothing is closed at the first-byte deadline', async () => {
    const s = await connect(server.httpPort);
    const started = Date.now();
    const closedAt = await closedWithin(s, 10000);
    s.destroy();
    assert.ok(closedAt, 'silent connection still open after 10 s');
    // http.first_byte_timeout_s = 1: never before it (the idle timeout would take 3 s).
    const took = closedAt - started;
    assert.ok(took >= 900 && took < 2900, `closed after ${took} ms`);
    assert.ok(await metric(server, 'onetrip_connections_silent_closed_total') >= 1);
  });

  test('the first-byte deadline also closes a TLS connection that never starts or never asks', async () => {
    const raw = await connect(server.httpsPort); // no ClientHello
    const hs = await new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: server.httpsPort, ca: fs.readFileSync(tlsPaths.ca) });
      s.closedAt = null;
      s.on('close', () => { s.closedAt = Date.now(); });
      s.on('error', () => { /* a reset counts as closed */ });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    });
    assert.ok(await closedWithin(raw, 10000), 'TCP connection without a handshake still open');
    assert.ok(await closedWithin(hs, 10000), 'TLS connection without a request still open');
    raw.destroy();
    hs.destroy();
  });

  test('a connection that sends its request in time is served', async () => {
    const s = await connect(server.httpPort);
    await sleep(300); // well inside the 1 s deadline
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closedWithin(s, 5000);
    assert.match(responseText(s), /^HTTP\/1\.1 200/);
  });
});

// The caps with silent (and reconnecting) connections, as an attacker holds them: newcomers
// are still served, and the heaviest address pays. The first-byte deadline is long here so
// that only the caps make room.
describe('connection caps admit newcomers', () => {
  let server;
  before(async () => {
    server = await startServer({
      prefix: 'caps',
      overrides: {
        'http.max_connections': 20,
        'http.max_connections_per_ip': 12,
        'http.first_byte_timeout_s': 120,
        'http.request_timeout_s': 120,
        'http.idle_timeout_s': 120,
        'jobs.enabled': 0,
      },
    });
  });
  after(async () => { if (server) assert.equal((await server.stop()).code, 0); });

  // Held connections and the newcomer use the same listener, whose accept queue is first in,
  // first out: the held ones are admitted before the newcomer arrives.
  for (const scheme of ['http', 'https']) {
    test(`at the total cap a new ${scheme} client is served; the heaviest address loses its oldest idle connection`, async () => {
      const port = scheme === 'http' ? server.httpPort : server.httpsPort;
      const url = scheme === 'http' ? server.httpUrl : server.httpsUrl;
      const heavy = await hold(port, 12, '127.0.0.31');
      const light = await hold(port, 8, '127.0.0.32');
      // 20 silent connections: the cap. A new client gets in, with an API call...
      const api = await request(`${url}/${scheme === 'http' ? 'healthz' : 'v1/catalog/items'}`);
      assert.equal(api.status, 200);
      if (scheme === 'https') assert.ok(Array.isArray(api.json.items), 'catalog items');
      // ...because the oldest connection of the address holding the most was closed for it.
      await waitFor(() => heavy[0].closedAt, { timeoutMs: 5000, what: 'the oldest heavy connection to close' });
      heavy.slice(1).forEach((s, i) => assert.equal(s.closedAt, null, `heavy connection ${i + 1} was closed`));
      light.forEach((s, i) => assert.equal(s.closedAt, null, `connection ${i} of the lighter address was closed`));
      assert.ok(await metric(server, 'onetrip_connections_evicted_total') >= 1);
      assert.equal(await metric(server, 'onetrip_connections_rejected_total'), 0);
      await releaseAll(server, [...heavy, ...light]);
    });
  }

  test('an attacker that keeps the cap full from five addresses and reconnects does not lock others out', async () => {
    const rejectedBefore = await metric(server, 'onetrip_connections_rejected_total');
    const addrs = ['127.0.0.41', '127.0.0.42', '127.0.0.43', '127.0.0.44', '127.0.0.45'];
    const live = new Set();
    let stopping = false;
    let reconnects = 0;
    const open = async (addr) => {
      const s = await connect(server.httpPort, addr);
      if (stopping) { s.destroy(); return; }
      live.add(s);
      s.on('close', () => {
        live.delete(s);
        if (!stopping) { reconnects++; open(addr).catch(() => {}); }
      });
    };
    for (let i = 0; i < 20; i++) await open(addrs[i % addrs.length]);
    try {
      // The first request shares the attacker's listener (first in, first out): it meets a full cap.
      for (let i = 0; i < 5; i++) {
        const h = await request(`${server.httpUrl}/healthz`);
        assert.equal(h.status, 200, `healthz ${i}`);
        const c = await request(`${server.httpsUrl}/v1/catalog/items`);
        assert.equal(c.status, 200, `catalog ${i}`);
      }
      await waitFor(() => reconnects >= 1, { timeoutMs: 5000, what: 'the attacker to lose a connection' });
      // Every connection but the one being answered is idle: nobody is ever refused (a
      // connection accepted in the same batch as later ones is not counted against them).
      assert.equal(await metric(server, 'onetrip_connections_rejected_total'), rejectedBefore);
    } finally {
      stopping = true;
      await releaseAll(server, [...live]);
    }
  });

  test('a 100 KB bearer token gets a 431 problem, not evhttp\'s HTML (default head limits)', async () => {
    const r = await request(`${server.httpsUrl}/v1/me`, { headers: { Authorization: `Bearer ${'a'.repeat(100 * 1024)}` } });
    assert.equal(r.status, 431);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(r.json.code, 'headers_too_large');
    assert.equal(r.json.max_bytes, 16384);
    assert.ok(r.json.request_id, 'request_id');
  });

  test('at the per-address cap a newcomer from that address replaces its oldest idle connection', async () => {
    const mine = await hold(server.httpPort, 12, '127.0.0.51');
    const other = await hold(server.httpPort, 3, '127.0.0.52');
    const s = await connect(server.httpPort, '127.0.0.51');
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closedWithin(s, 5000);
    assert.match(responseText(s), /^HTTP\/1\.1 200/);
    await waitFor(() => mine[0].closedAt, { timeoutMs: 5000, what: 'the oldest connection of the address to close' });
    mine.slice(1).forEach((c, i) => assert.equal(c.closedAt, null, `connection ${i + 1} was closed`));
    other.forEach((c, i) => assert.equal(c.closedAt, null, `other address's connection ${i} was closed`));
    await releaseAll(server, [...mine, ...other]);
  });
});

// Issue 12: several loop threads (http.threads, one per core by default) share the caps. Each
// loop accepts its own connections (SO_REUSEPORT spreads them by hash), so a newcomer and the
// connection that should make room for it are usually on different loops; the room must still
// come from the oldest idle connection of all loops, not from the newcomer's loop alone (which
// would close the wrong one, or refuse the newcomer while another loop holds idle ones). With
// four loops, each round has three chances in four to cross loops.
describe('connection caps span loop threads', () => {
  for (const cap of ['total', 'per-address']) {
    test(`with 4 loop threads, at the ${cap} cap each newcomer is served and the oldest idle connection of any loop makes room`, async () => {
      const server = await startServer({
        prefix: 'capsloops',
        overrides: {
          'http.threads': 4,
          'http.max_connections': cap === 'total' ? 4 : 100,
          'http.max_connections_per_ip': cap === 'total' ? 100 : 4,
          'http.first_byte_timeout_s': 120,
          'http.request_timeout_s': 120,
          'http.idle_timeout_s': 120,
          'jobs.enabled': 0,
        },
      });
      try {
        const open = [];
        for (let i = 0; i < 16; i++) {
          const s = await connect(server.httpPort, '127.0.0.61');
          s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
          await waitFor(() => /"status":"ok"/.test(responseText(s)) || s.closedAt,
            { timeoutMs: 10000, what: `newcomer ${i} to be answered` });
          assert.match(responseText(s), /^HTTP\/1\.1 200/, `newcomer ${i} was served`);
          open.push(s);
          if (i >= 4) {
            // The oldest idle connection (whatever its loop) was closed for this one...
            await waitFor(() => open[i - 4].closedAt, { timeoutMs: 10000, what: `connection ${i - 4} to close` });
          }
          // ...and no other.
          open.slice(Math.max(0, i - 3)).forEach((c, j) =>
            assert.equal(c.closedAt, null, `connection ${Math.max(0, i - 3) + j} was closed at round ${i}`));
        }
        open.forEach((s) => s.destroy());
        assert.equal(await metric(server, 'onetrip_connections_rejected_total'), 0);
        assert.ok(await metric(server, 'onetrip_connections_evicted_total') >= 12);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
    });
  }
});
