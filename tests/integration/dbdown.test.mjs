// The database going away and coming back, on a private MariaDB this file starts and
// stops, plus the start-up durability check.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  startServer, startMariadb, stopMariadb, startMariadbAsync, stopMariadbAsync, request, sqlExec,
  env, waitFor, sleep,
} from './lib/harness.mjs';

/** onetrip_db_errors_total from /metrics. */
async function dbErrors(server) {
  const m = await request(`${server.httpUrl}/metrics`);
  const hit = /^onetrip_db_errors_total (\d+)$/m.exec(m.text);
  assert.ok(hit, 'no onetrip_db_errors_total in /metrics');
  return Number(hit[1]);
}

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
      // Answered, not left hanging (the request times out after 10 s); how fast is a figure
      // of tests/bench/dbdown.bench.mjs, not something a loaded machine can promise.
      const r = await request(`${server.httpUrl}/readyz`, { timeoutMs: 10000 });
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.code, 'db_unavailable');
      assert.equal(r.headers['retry-after'], '1');
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

  // Regression: after a restart, a request could land on a worker whose session was dead or
  // whose reconnect was still held off, and got 503 although the database was back.
  test('restarted several times under load: from the first 200 of /readyz on, no request gets 503', async () => {
    const db = path.join(dir, 'db');
    const LOADERS = 8;
    const CYCLES = 3;
    const paths = ['/readyz', '/v1/catalog/items'];
    // okSince: when the first 200 of /readyz of this cycle arrived; null while the database is
    // (being) stopped or not yet confirmed back. A request started while it is set must get 200.
    let okSince = null;
    let stop = false;
    const done = Array(LOADERS).fill(0); // requests started after okSince, per loader
    const bad = [];
    const unexpected = [];
    const loader = async (n) => {
      for (let i = 0; !stop; i++) {
        const since = okSince;
        const p = paths[(n + i) % paths.length];
        // the API is served over HTTPS only; the probes on plain HTTP
        const url = `${p.startsWith('/v1/') ? server.httpsUrl : server.httpUrl}${p}`;
        let r;
        try {
          r = await request(url, { timeoutMs: 30000 });
        } catch (e) {
          unexpected.push(`${url}: ${e.code || e.message}`);
          await sleep(20);
          continue;
        }
        if (r.status !== 200 && !(r.status === 503 && r.json?.code === 'db_unavailable')) {
          unexpected.push(`${url}: ${r.status} ${r.text.slice(0, 200)}`);
        }
        // Counted only if okSince was set when the request started and still is now: a stop
        // begun meanwhile may rightly fail it.
        if (since !== null && okSince === since) {
          if (r.status !== 200) bad.push(`${url}: ${r.status} ${r.json?.code ?? r.text.slice(0, 100)}`);
          done[n]++;
        }
        if (r.status !== 200) await sleep(5);
      }
    };
    const loaders = Array.from({ length: LOADERS }, (_, n) => loader(n));
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        okSince = null;
        const errors0 = await dbErrors(server);
        await stopMariadbAsync(db);
        // Down long enough that every worker has failed (and is holding its reconnects off):
        // the loaders keep all of them busy, each failure counts in onetrip_db_errors_total.
        await waitFor(async () => (await dbErrors(server)) >= errors0 + 4 * LOADERS,
          { timeoutMs: 60000, what: 'requests failing while MariaDB is down' });
        const starting = startMariadbAsync(db); // the loaders keep going while it starts
        const first = await waitFor(async () => {
          const r = await request(`${server.httpUrl}/readyz`, { timeoutMs: 30000 });
          return r.status === 200 ? r : null;
        }, { timeoutMs: 60000, intervalMs: 10, what: `readyz after restart ${cycle + 1}` });
        assert.equal(first.json.status, 'ready');
        okSince = Date.now();
        done.fill(0);
        await starting;
        // Every loader (so every worker, many times over) gets its turn before the next stop.
        await waitFor(() => done.every((k) => k >= 10),
          { timeoutMs: 120000, what: `10 requests per loader after restart ${cycle + 1}` });
      }
    } finally {
      stop = true;
      await Promise.all(loaders);
    }
    assert.deepEqual(bad, [], `requests failed after /readyz answered 200`);
    assert.deepEqual(unexpected, [], 'only 200 and db_unavailable are expected');
    assert.equal(server.proc.exitInfo, null, 'server must survive the restarts');
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
