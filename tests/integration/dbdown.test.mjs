// The database going away and coming back, on a private MariaDB this file starts and
// stops, plus the start-up durability check.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { startServer, startMariadb, stopMariadb, request, sqlExec, env, waitFor } from './lib/harness.mjs';

describe('database down and back', () => {
  let dir;
  let sock;
  let server;
  before(async () => {
    dir = fs.mkdtempSync(path.join(env.testRoot, 'mdb-'));
    sock = startMariadb(path.join(dir, 'db'));
    server = await startServer({
      prefix: 'dbdown',
      overrides: { 'db.socket': sock, 'db.connect_timeout_s': 2, 'jobs.enabled': 1 },
    });
  });
  after(async () => {
    if (server) await server.stop();
    try { stopMariadb(path.join(dir, 'db')); } catch { /* already stopped */ }
  });

  test('requests get 503 quickly while MariaDB is down, and service resumes by itself', async () => {
    const up = await request(`${server.httpUrl}/readyz`);
    assert.equal(up.status, 200);

    stopMariadb(path.join(dir, 'db'));
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const r = await request(`${server.httpUrl}/readyz`, { timeoutMs: 10000 });
      const took = Date.now() - t0;
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.code, 'db_unavailable');
      assert.equal(r.headers['retry-after'], '1');
      assert.ok(took < 3000, `503 took ${took} ms`);
      assert.doesNotMatch(r.text, /socket|mysql|maria|errno/i);
    }
    // Health is about the process, not the database.
    const health = await request(`${server.httpUrl}/healthz`);
    assert.equal(health.status, 200);
    const m = await request(`${server.httpUrl}/metrics`);
    assert.match(m.text, /onetrip_db_errors_total [1-9]/);

    startMariadb(path.join(dir, 'db'));
    const back = await waitFor(async () => {
      const r = await request(`${server.httpUrl}/readyz`, { timeoutMs: 10000 });
      return r.status === 200 ? r : null;
    }, { timeoutMs: 20000, what: 'readyz after restart' });
    assert.equal(back.json.status, 'ready');
    // Every worker reconnects, not just one: several requests in a row succeed.
    for (let i = 0; i < 8; i++) {
      const r = await request(`${server.httpUrl}/readyz`);
      assert.equal(r.status, 200);
    }
    assert.equal(server.proc.exitInfo, null, 'server must survive the outage');
  });

  test('start-up refuses a database without durable commits unless overridden', async () => {
    sqlExec('mysql', 'SET GLOBAL innodb_flush_log_at_trx_commit = 2', { socket: sock });
    try {
      await assert.rejects(
        startServer({ prefix: 'nondurable', overrides: { 'db.socket': sock } }),
        /innodb_flush_log_at_trx_commit/);
      const dev = await startServer({
        prefix: 'nondurable_ok', overrides: { 'db.socket': sock, 'db.allow_non_durable': 1 },
      });
      try {
        const r = await request(`${dev.httpUrl}/healthz`);
        assert.equal(r.status, 200);
        assert.match(dev.log(), /not durable/);
      } finally {
        await dev.stop();
      }
    } finally {
      sqlExec('mysql', 'SET GLOBAL innodb_flush_log_at_trx_commit = 1', { socket: sock });
    }
  });
});
