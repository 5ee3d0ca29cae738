// HTTPS: TLS 1.2+, the server certificate, optional client certificates checked against
// the configured CA.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import fs from 'node:fs';

import { startServer, request, tlsPaths } from './lib/harness.mjs';

function handshake(port, opts) {
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(tlsPaths.ca), servername: 'localhost', ...opts });
    s.once('secureConnect', () => { const v = s.getProtocol(); s.destroy(); resolve({ ok: true, version: v }); });
    s.once('error', (e) => resolve({ ok: false, code: e.code, message: e.message }));
  });
}

describe('https', () => {
  let server;
  before(async () => { server = await startServer({ prefix: 'tls', overrides: { 'jobs.enabled': 0 } }); });
  after(async () => { if (server) await server.stop(); });

  test('serves over TLS with the configured certificate', async () => {
    const r = await request(`${server.httpsUrl}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
  });

  test('TLS 1.2 and 1.3 are accepted, TLS 1.1 is refused', async () => {
    const v12 = await handshake(server.httpsPort, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    assert.ok(v12.ok, v12.message);
    assert.equal(v12.version, 'TLSv1.2');
    const v13 = await handshake(server.httpsPort, { minVersion: 'TLSv1.3' });
    assert.ok(v13.ok, v13.message);
    const v11 = await handshake(server.httpsPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    assert.equal(v11.ok, false);
  });

  test('a client certificate is optional', async () => {
    const r = await request(`${server.httpsUrl}/readyz`);
    assert.equal(r.status, 200);
  });

  test('a client certificate from the configured CA is accepted by the handshake', async () => {
    const r = await request(`${server.httpsUrl}/healthz`, tlsPaths.partner('post'));
    assert.equal(r.status, 200);
  });

  test('a client certificate from an unknown CA fails the handshake', async () => {
    const h = await handshake(server.httpsPort, {
      cert: fs.readFileSync(tlsPaths.rogue.cert), key: fs.readFileSync(tlsPaths.rogue.key),
    });
    // Under TLS 1.3 the client learns of the rejection on its first read.
    if (h.ok) {
      await assert.rejects(request(`${server.httpsUrl}/healthz`, tlsPaths.rogue));
    } else {
      assert.equal(h.ok, false);
    }
  });

  test('plain HTTP spoken to the TLS port does not get a response', async () => {
    await assert.rejects(request(`http://127.0.0.1:${server.httpsPort}/healthz`, { timeoutMs: 3000 }));
  });
});
