// Limits: body size, header size and count, the whole-request deadline, idle keep-alive,
// and the total and per-address connection caps onetripd adds on top of evhttp 2.1.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';

import { startServer, request, sleep, waitFor } from './lib/harness.mjs';

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

/** A counter or gauge of /metrics, asked from localAddress (the caps count per address);
 *  null when that connection is refused. */
async function metricFrom(port, localAddress, name) {
  const s = await connect(port, localAddress);
  s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await closedWithin(s, 30000);
  s.destroy();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(responseText(s));
  return m ? Number(m[1]) : null;
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
        'http.idle_timeout_s': 1,
        'http.max_connections': 12,
        'http.max_connections_per_ip': 6,
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

  test('a request head over http.max_headers_size gets an error status or a closed connection', async () => {
    let status = null;
    try {
      const r = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Big': 'y'.repeat(8000) } });
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
    const timedOut = () => metricFrom(server.httpPort, '127.0.0.1', 'onetrip_connections_timed_out_total');
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

  test('connections from one address beyond the per-address cap are closed at once', async () => {
    const held = [];
    for (let i = 0; i < 6; i++) held.push(await connect(server.httpPort));
    await sleep(200);
    held.forEach((s, i) => assert.equal(s.closedAt, null, `held connection ${i} was closed`));
    const extra = await connect(server.httpPort);
    extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    // Connections are accepted in order: the extra one is over the cap however late the
    // server gets to them. Served, it would answer 200 (and close 1 s later, idle).
    assert.ok(await closedWithin(extra, 30000), 'connection over the per-address cap was served');
    assert.doesNotMatch(responseText(extra), /^HTTP\/1\.1 200/);
    // Another loopback address still gets in: the cap is per address.
    const other = await connect(server.httpPort, '127.0.0.2');
    other.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closedWithin(other, 30000);
    assert.match(responseText(other), /^HTTP\/1\.1 200/);
    for (const s of held) s.destroy();
    // The sweeper releases closed connections (every 100 ms, when the machine lets it).
    await waitFor(async () => await metricFrom(server.httpPort, '127.0.0.3', 'onetrip_open_connections') === 1,
      { timeoutMs: 30000, what: 'the held connections to be released' });
    const after1 = await request(`${server.httpUrl}/healthz`);
    assert.equal(after1.status, 200);
  });

  test('connections beyond the total cap are closed at once, and service resumes', async () => {
    const held = [];
    for (let i = 0; i < 12; i++) held.push(await connect(server.httpPort, `127.0.0.${10 + (i % 3)}`));
    await sleep(200);
    const extra = await connect(server.httpPort, '127.0.0.20');
    extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.ok(await closedWithin(extra, 30000), 'connection over the total cap was served');
    assert.doesNotMatch(responseText(extra), /^HTTP\/1\.1 200/);
    for (const s of held) s.destroy();
    await waitFor(async () => await metricFrom(server.httpPort, '127.0.0.30', 'onetrip_open_connections') === 1,
      { timeoutMs: 30000, what: 'the held connections to be released' });
    const r = await request(`${server.httpUrl}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.text, /onetrip_connections_rejected_total [1-9]/);
    assert.match(r.text, /onetrip_connections_timed_out_total [1-9]/);
  });
});
