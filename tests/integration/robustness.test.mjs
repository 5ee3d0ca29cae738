// Malformed traffic: garbage request lines, bad methods and versions, broken chunked
// bodies, half-closed and reset connections, junk TLS. The server must answer or close,
// never crash or leak (the sanitizer build fails the final graceful stop otherwise), and
// keep serving.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';

import { startServer, request, waitFor } from './lib/harness.mjs';

// until(textSoFar): stop as soon as it is true, not only at close or after waitMs.
function exchange(port, payload, { endAfterWrite = true, waitMs = 1500, reset = false, until = null } = {}) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const chunks = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(finish, waitMs);
    s.on('data', (d) => {
      chunks.push(d);
      if (until && until(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    s.on('close', finish);
    s.on('error', finish);
    s.on('connect', () => {
      s.write(payload);
      if (reset) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
      else if (endAfterWrite) s.end();
    });
  });
}

const CASES = [
  'GARBAGE\r\n\r\n',
  'GET\r\n\r\n',
  'GET / HTTP/9.9\r\n\r\n',
  'BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n',
  'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
  'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{"a":\r\n',
  'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Length: 20\r\n\r\n0123456789',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n',
  `GET /${'a/'.repeat(3000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
  'GET /v1/cases/%00 HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /v1/cases/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /readyz?%%%=&&==%zz HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: \u00ff\u00fe\r\n\r\n',
  'GET /healthz HTTP/1.0\r\n\r\n',
  '\r\n\r\n\r\n',
  'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /readyz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n',
];

describe('malformed traffic', () => {
  let server;
  before(async () => {
    server = await startServer({ prefix: 'robust', overrides: { 'jobs.enabled': 0, 'http.request_timeout_s': 3 } });
  });
  after(async () => {
    if (server) {
      const exit = await server.stop();
      assert.equal(exit.code, 0);
    }
  });

  test('each malformed request is answered with an error or the connection is closed', async () => {
    for (const c of CASES) {
      const out = await exchange(server.httpPort, c);
      // Either nothing (closed) or an HTTP response; never a 2xx for garbage lines.
      if (out.length > 0) assert.match(out, /^HTTP\/1\.[01] \d{3}/, JSON.stringify(c.slice(0, 60)));
      if (/^(GARBAGE|GET\r|BREW|TRACE)/.test(c)) assert.doesNotMatch(out, /^HTTP\/1\.[01] 2/);
    }
    const r = await request(`${server.httpUrl}/healthz`);
    assert.equal(r.status, 200);
  });

  test('random bytes, resets mid-request and junk on the TLS port leave the server serving', async () => {
    for (let i = 0; i < 40; i++) {
      const junk = crypto.randomBytes(1 + crypto.randomInt(2048));
      await exchange(i % 2 ? server.httpPort : server.httpsPort, junk, { waitMs: 300 });
    }
    for (let i = 0; i < 10; i++) {
      await exchange(server.httpPort, 'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"user',
        { reset: true, waitMs: 100 });
      await exchange(server.httpPort, 'GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n', { reset: true, waitMs: 100 });
    }
    const rs = await Promise.all([
      request(`${server.httpUrl}/healthz`), request(`${server.httpsUrl}/readyz`), request(`${server.httpUrl}/metrics`),
    ]);
    assert.deepEqual(rs.map((r) => r.status), [200, 200, 200]);
    // Every connection of the storm is released (the sweeper runs every 100 ms, when the
    // machine lets it): nothing leaks.
    let open = null;
    await waitFor(async () => {
      const m = (await request(`${server.httpUrl}/metrics`)).text.match(/^onetrip_open_connections (\d+)$/m);
      open = m && Number(m[1]);
      return open !== null && open <= 3;
    }, { timeoutMs: 30000, what: 'the storm\'s connections to be released' }).catch(() => {});
    assert.ok(open !== null && open <= 3, `open connections after the storm: ${open}`);
  });

  test('pipelined requests on one connection are answered in order', async () => {
    const out = await exchange(server.httpPort, CASES[CASES.length - 1], {
      endAfterWrite: false, waitMs: 60000, until: (text) => /HTTP\/1\.1 404 [\s\S]*\}$/.test(text),
    });
    // Bodies end without a newline, so the next status line follows them directly.
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3}) [A-Z]/g)].map((m) => m[1]);
    // The third, GET /nope, is refused like any path but the probes on plain HTTP (https_required).
    assert.deepEqual(statuses, ['200', '200', '403']);
  });
});
