// Foundation: the process, its endpoints, problems, request ids, metrics, the API
// description, configuration errors, jobs and leases, migrations, graceful shutdown.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  startServer, request, cli, env, waitFor, writeConfig, createDatabase, randomHex, sqlValue,
  sqlExec,
} from './lib/harness.mjs';

async function lockTable(server, table) {
  // A root session holding a write lock makes every reader of the table wait:
  // a deterministic "slow request" without test-only code in the server. Resolves once the
  // lock is held; it is held until release() (or 120 s), however slow the machine.
  const tag = `locker_${randomHex(4)}`;
  const p = spawn('mariadb', ['-S', env.dbSocket, '-uroot', '-D', server.db.name, '-e',
    `LOCK TABLES ${table} WRITE; SELECT SLEEP(120) AS ${tag}; UNLOCK TABLES;`], { stdio: 'ignore' });
  p.done = new Promise((resolve) => p.on('close', resolve));
  const id = await waitFor(() => sqlValue(null, 'SELECT ID FROM information_schema.PROCESSLIST ' +
    `WHERE INFO LIKE 'SELECT SLEEP(120) AS ${tag}%'`), { timeoutMs: 60000, what: 'the table lock' });
  p.release = async () => {
    try { sqlExec(null, `KILL QUERY ${id}`); } catch { /* already over */ }
    await p.done;
  };
  return p;
}

// `onetripd job run idempotency_prune` while table is renamed away (put back however the
// run ends): the run's result.
function runPruneWithout(server, table) {
  server.sqlExec(`RENAME TABLE ${table} TO ${table}_away`);
  try {
    return server.cli(['job', 'run', 'idempotency_prune']);
  } finally {
    server.sqlExec(`RENAME TABLE ${table}_away TO ${table}`);
  }
}

describe('foundation', () => {
  let server;
  before(async () => { server = await startServer({ prefix: 'foundation' }); });
  after(async () => { if (server) await server.stop(); });

  test('healthz answers 200 JSON with a request id', async () => {
    const r = await request(`${server.httpUrl}/healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
    assert.match(r.headers['x-request-id'], /^[0-9a-f]{24}$/);
  });

  test('readyz says ready when the database answers and migrations are current', async () => {
    const r = await request(`${server.httpUrl}/readyz`);
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ready');
    assert.ok(r.json.migrations >= 2);
  });

  test('a well-formed X-Request-Id is kept, a malformed one replaced', async () => {
    const ok = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Request-Id': 'abc-123.X_y' } });
    assert.equal(ok.headers['x-request-id'], 'abc-123.X_y');
    const bad = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Request-Id': 'bad id<script>' } });
    assert.notEqual(bad.headers['x-request-id'], 'bad id<script>');
    assert.match(bad.headers['x-request-id'], /^[0-9a-f]{24}$/);
    const long = await request(`${server.httpUrl}/healthz`, { headers: { 'X-Request-Id': 'a'.repeat(200) } });
    assert.notEqual(long.headers['x-request-id'], 'a'.repeat(200));
  });

  test('unknown path is a 404 problem carrying the request id', async () => {
    const r = await request(`${server.httpsUrl}/no/such/thing`, { headers: { 'X-Request-Id': 'rid-404' } });
    assert.equal(r.status, 404);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(r.json.status, 404);
    assert.equal(r.json.code, 'not_found');
    assert.equal(r.json.request_id, 'rid-404');
  });

  test('known path with the wrong method is 405 with Allow', async () => {
    const r = await request(`${server.httpUrl}/healthz`, { method: 'DELETE' });
    assert.equal(r.status, 405);
    assert.equal(r.json.code, 'method_not_allowed');
    assert.equal(r.headers.allow, 'GET, HEAD');
  });

  test('HEAD on a GET route answers without a body', async () => {
    const r = await request(`${server.httpUrl}/healthz`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
  });

  test('a malformed query string is a 400 problem', async () => {
    const r = await request(`${server.httpUrl}/readyz?a=%zz`);
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'bad_query');
  });

  test('error bodies hold no SQL or internals', async () => {
    const r = await request(`${server.httpsUrl}/v1/%27%20OR%201=1`);
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.text, /SELECT|INSERT|mysql|maria|\.c:/i);
  });

  test('metrics are Prometheus text accepted by promtool, counting requests by route and status', async () => {
    await request(`${server.httpUrl}/healthz`);
    await request(`${server.httpsUrl}/nowhere`);
    const r = await request(`${server.httpUrl}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /onetrip_http_requests_total\{route="GET \/healthz",status="200"\} \d+/);
    assert.match(r.text, /onetrip_http_requests_total\{route="unmatched",status="404"\} \d+/);
    assert.match(r.text, /onetrip_http_request_duration_seconds_bucket\{le="\+Inf"\} \d+/);
    for (const name of ['onetrip_queue_depth', 'onetrip_workers_busy', 'onetrip_db_errors_total',
      'onetrip_open_connections']) {
      assert.match(r.text, new RegExp(`^${name} \\d+$`, 'm'), name);
    }
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
    if (promtool.error) throw new Error(`promtool is required (ops/test installs it): ${promtool.error.message}`);
    assert.equal(promtool.status, 0, `promtool: ${promtool.stdout}${promtool.stderr}`);
  });

  test('the API description is served and describes the core endpoints', async () => {
    const r = await request(`${server.httpUrl}/openapi.yaml`);
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /yaml/);
    assert.match(r.text, /^openapi: 3\.1\.0/);
    for (const p of ['/healthz:', '/readyz:', '/metrics:', '/openapi.yaml:']) assert.ok(r.text.includes(p), p);
  });

  test('one JSON access-log line per request, with principal and request id', async () => {
    await request(`${server.httpUrl}/healthz`, { headers: { 'X-Request-Id': 'access-log-probe' } });
    const line = await waitFor(() => server.log().split('\n').find((l) => l.includes('"access-log-probe"')),
      { what: 'access log line' });
    const rec = JSON.parse(line);
    assert.equal(rec.type, 'access');
    assert.equal(rec.method, 'GET');
    assert.equal(rec.path, '/healthz');
    assert.equal(rec.status, 200);
    assert.equal(rec.principal, 'anonymous');
    assert.equal(typeof rec.duration_ms, 'number');
    assert.equal(typeof rec.bytes, 'number');
  });

  test('a job runs once from the CLI, is recorded, and respects a lease held elsewhere', async () => {
    const ok = server.cli(['job', 'run', 'idempotency_prune']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /job idempotency_prune: ok/);
    const runs = server.sql("SELECT outcome FROM job_runs WHERE name = 'idempotency_prune' AND owner LIKE 'cli:%'");
    assert.ok(runs.some((row) => row[0] === 'ok'));
    server.sqlExec("UPDATE job_leases SET owner = 'other-node:1', expires_at = UTC_TIMESTAMP(3) + INTERVAL 1 HOUR " +
      "WHERE name = 'idempotency_prune'");
    const held = server.cli(['job', 'run', 'idempotency_prune']);
    assert.equal(held.code, 1);
    assert.match(held.stderr, /running elsewhere/);
    server.sqlExec("UPDATE job_leases SET owner = NULL, expires_at = NULL WHERE name = 'idempotency_prune'");
    const unknown = server.cli(['job', 'run', 'no_such_job']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no job named no_such_job/);
  });

  test('a failed job run releases its lease and is due again soon, not a whole interval later', async () => {
    // idempotency_prune runs hourly; with its table gone it fails.
    const r = runPruneWithout(server, 'idempotency_keys');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /idempotency_prune failed/);
    const [[owner, wait]] = server.sql("SELECT COALESCE(owner, '-'), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(3), next_run_at) " +
      "FROM job_leases WHERE name = 'idempotency_prune'");
    assert.equal(owner, '-');
    assert.ok(Number(wait) <= 30, `a failed hourly job is due again in ${wait} s`);
    const failed = server.sql("SELECT outcome FROM job_runs WHERE name = 'idempotency_prune' AND owner LIKE 'cli:%' " +
      'ORDER BY id DESC LIMIT 1');
    assert.equal(failed[0][0], 'failed');
    const again = server.cli(['job', 'run', 'idempotency_prune']);
    assert.equal(again.code, 0, again.stderr);
  });

  test('a run that cannot even be recorded gives its lease back', async () => {
    const r = runPruneWithout(server, 'job_runs');
    assert.equal(r.code, 1);
    const [[owner]] = server.sql("SELECT COALESCE(owner, '-') FROM job_leases WHERE name = 'idempotency_prune'");
    assert.equal(owner, '-', 'lease still held after a failed start');
    const again = server.cli(['job', 'run', 'idempotency_prune']);
    assert.equal(again.code, 0, again.stderr);
  });

  test('the scheduler inside serve ran the jobs and /metrics shows them', async () => {
    const r = await waitFor(async () => {
      const m = await request(`${server.httpUrl}/metrics`);
      return /onetrip_job_runs_total\{job="idempotency_prune",outcome="ok"\} [1-9]/.test(m.text) ? m : null;
    }, { what: 'job metrics' });
    assert.match(r.text, /onetrip_job_last_duration_seconds\{job="idempotency_prune"\}/);
  });

  test('the idempotency pruner deletes keys older than the retention only', async () => {
    server.sqlExec("INSERT INTO idempotency_keys (principal, idem_key, fingerprint, state, created_at, updated_at) VALUES " +
      "('t', 'old', REPEAT('a',64), 'done', UTC_TIMESTAMP(3) - INTERVAL 2 DAY, UTC_TIMESTAMP(3) - INTERVAL 2 DAY)," +
      "('t', 'new', REPEAT('a',64), 'done', UTC_TIMESTAMP(3) - INTERVAL 1 HOUR, UTC_TIMESTAMP(3))");
    const r = server.cli(['job', 'run', 'idempotency_prune']);
    assert.equal(r.code, 0, r.stderr);
    const left = server.sql("SELECT idem_key FROM idempotency_keys WHERE principal = 't' ORDER BY idem_key").map((x) => x[0]);
    assert.deepEqual(left, ['new']);
  });
});

describe('configuration', () => {
  test('--help documents every key', () => {
    const r = cli(null, ['--help']);
    assert.equal(r.code, 0);
    for (const key of ['http.listen', 'http.max_body', 'http.max_connections_per_ip', 'http.request_timeout_s',
      'https.client_ca', 'workers.queue', 'db.allow_non_durable', 'pii.keys', 'auth.operator_token_key']) {
      assert.ok(r.stdout.includes(key), key);
    }
  });

  test('bad configuration stops start-up with one line naming the key', () => {
    const dir = fs.mkdtempSync(path.join(env.testRoot, 'badconf-'));
    const cases = [
      [{ 'http.max_body': 'lots' }, /http\.max_body must be an integer/],
      [{ 'workers.count': '0' }, /workers\.count must be between 1 and 256/],
      [{ 'log.level': 'chatty' }, /log\.level/],
      [{ 'http.nonsense': '1' }, /unknown configuration key 'http\.nonsense'/],
      [{ 'https.cert': '' }, /https\.cert and https\.key are required/],
    ];
    for (const [ov, re] of cases) {
      const conf = writeConfig(dir, createDatabase('badconf'), ov);
      const r = cli(conf, ['serve']);
      assert.equal(r.code, 2, `${JSON.stringify(ov)}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  test('environment overrides the file', () => {
    const dir = fs.mkdtempSync(path.join(env.testRoot, 'envconf-'));
    const conf = writeConfig(dir, createDatabase('envconf'), {});
    const r = cli(conf, ['serve'], { env: { ONETRIP_WORKERS_COUNT: 'many' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ONETRIP_WORKERS_COUNT: workers\.count must be an integer/);
  });

  test('an unknown command is refused', () => {
    const r = cli(null, ['frobnicate']);
    assert.notEqual(r.code, 0);
  });
});

describe('migrations', () => {
  let server;
  before(async () => { server = await startServer({ prefix: 'migrations' }); });
  after(async () => { if (server) await server.stop(); });

  test('migrate is idempotent', () => {
    const r = server.cli(['migrate']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /migrate: 0 applied/);
  });

  test('a changed applied migration is refused and readyz reports not ready', async () => {
    server.sqlExec("UPDATE schema_migrations SET checksum = REPEAT('0', 64) WHERE version = 1");
    const r = server.cli(['migrate']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /0001_base\.sql/);
    assert.match(r.stderr, /changed|checksum/);
    const ready = await request(`${server.httpUrl}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(ready.json.code, 'migrations_pending');
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM finishes the in-flight request, refuses new connections and exits 0', async () => {
    const server = await startServer({ prefix: 'sigterm' });
    const locker = await lockTable(server, 'schema_migrations');
    const inflight = request(`${server.httpUrl}/readyz`, { timeoutMs: 120000 });
    // In flight: on a worker, waiting for the lock (/metrics is answered on the loop).
    await waitFor(async () => /^onetrip_workers_busy [1-9]/m.test((await request(`${server.httpUrl}/metrics`)).text),
      { timeoutMs: 60000, what: 'the request to reach a worker' });
    const stopping = server.stop('SIGTERM', 120000);
    await waitFor(() => /stopping: no new connections/.test(server.log()),
      { timeoutMs: 60000, what: 'the server to take the signal' });
    await assert.rejects(request(`${server.httpUrl}/healthz`, { timeoutMs: 3000 }));
    await locker.release();
    const r = await inflight;
    assert.equal(r.status, 200, r.text);
    const exit = await stopping;
    assert.equal(exit.code, 0);
    assert.match(server.log(), /stopped cleanly/);
  });
});

describe('worker queue', () => {
  test('a full queue answers 503 with Retry-After at once', async () => {
    const server = await startServer({ prefix: 'queue', overrides: { 'workers.count': 1, 'workers.queue': 1, 'jobs.enabled': 0 } });
    try {
      const locker = await lockTable(server, 'schema_migrations');
      let answered = 0;
      const pending = Array.from({ length: 8 }, () =>
        request(`${server.httpUrl}/readyz`, { timeoutMs: 120000 }).then((r) => { answered++; return r; }));
      // At once: the six that found the worker and the queue taken are answered while the
      // worker is still blocked (the lock is held until released here).
      // Only two fit (the worker, the queue): at least six are refused.
      await waitFor(() => answered >= 6, { timeoutMs: 60000, what: 'the requests over the queue' });
      await locker.release();
      const rs = await Promise.all(pending);
      const busy = rs.filter((r) => r.status === 503 && r.json?.code === 'overloaded');
      assert.ok(busy.length >= 5, `statuses: ${rs.map((r) => r.status)}`);
      for (const r of busy) assert.equal(r.headers['retry-after'], '1');
      assert.ok(rs.filter((r) => r.status === 200).length >= 1);
      const m = await request(`${server.httpUrl}/metrics`);
      assert.match(m.text, /onetrip_queue_full_total [1-9]/);
    } finally {
      await server.stop();
    }
  });
});

describe('several event loops', () => {
  test('http.threads=3 serves concurrent requests on every loop and stops cleanly', async () => {
    const server = await startServer({ prefix: 'loops', overrides: { 'http.threads': 3, 'jobs.enabled': 0 } });
    try {
      const rs = await Promise.all(Array.from({ length: 60 }, (_, i) =>
        request(`${i % 2 ? server.httpUrl : server.httpsUrl}/${i % 3 ? 'readyz' : 'healthz'}`)));
      assert.deepEqual([...new Set(rs.map((r) => r.status))], [200]);
      assert.match(server.log(), /loops=3/);
    } finally {
      const exit = await server.stop();
      assert.equal(exit.code, 0);
    }
  });
});

describe('buffered access log', () => {
  // Issue 12: each loop buffers its access-log lines and writes them on a timer (here far
  // longer than the test), when its buffer fills, and at shutdown: a clean stop loses none.
  test('every request\'s line, from every loop, is written by a clean stop', async () => {
    const server = await startServer({ prefix: 'alog', overrides: {
      'http.threads': 2, 'jobs.enabled': 0, 'log.access_flush_ms': 10000,
    } });
    let exit;
    const ids = Array.from({ length: 400 }, (_, i) => `alog-${i}-${randomHex(4)}`);
    try {
      for (let i = 0; i < ids.length; i += 40) {
        const rs = await Promise.all(ids.slice(i, i + 40).map((id, j) =>
          request(`${j % 2 ? server.httpUrl : server.httpsUrl}/${j % 3 ? 'healthz' : 'readyz'}`,
            { headers: { 'X-Request-Id': id } })));
        assert.deepEqual([...new Set(rs.map((r) => r.status))], [200]);
      }
    } finally {
      exit = await server.stop();
    }
    assert.equal(exit.code, 0);
    const lines = server.log().split('\n').filter((l) => l.startsWith('{"type":"access"'));
    const seen = new Set(lines.map((l) => JSON.parse(l).request_id)); // every line whole JSON
    for (const id of ids) assert.ok(seen.has(id), `no access-log line for ${id}`);
  });
});

describe('demo data', () => {
  test('seed makes the same city for the same seed, loads nothing twice, and seals personal data', async () => {
    const a = await startServer({ prefix: 'seed_a', overrides: { 'jobs.enabled': 0 } });
    const b = await startServer({ prefix: 'seed_b', overrides: { 'jobs.enabled': 0 } });
    try {
      // The same PII keys are not needed for the same rows: compare the clear columns.
      const first = a.cli(['seed', '--people', '300', '--seed', '5']);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /loaded \d+ rows/);
      const again = a.cli(['seed', '--people', '300', '--seed', '5']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /nothing loaded/);
      const other = b.cli(['seed', '--people', '300', '--seed', '5']);
      assert.equal(other.code, 0, other.stderr);
      const q = 'SELECT (SELECT COUNT(*) FROM citizens), (SELECT COUNT(*) FROM vehicles), ' +
        '(SELECT MD5(GROUP_CONCAT(plate, vin ORDER BY id)) FROM vehicles), ' +
        '(SELECT MD5(GROUP_CONCAT(name, birth_date ORDER BY id)) FROM citizens)';
      const ra = a.sql(q)[0];
      assert.deepEqual(b.sql(q)[0], ra);
      assert.equal(ra[0], '300');
      assert.equal(ra[1], '360');
      const plates = a.sql('SELECT plate FROM vehicles LIMIT 20').map((r) => r[0]);
      for (const p of plates) assert.match(p, /^浙A[0-9A-HJ-NP-Z]{5}$/);
      // ID numbers are stored sealed: 18 digits never appear in the row.
      const hex = a.sql('SELECT HEX(id_number_enc) FROM citizens LIMIT 5').map((r) => r[0]);
      for (const h of hex) assert.doesNotMatch(Buffer.from(h, 'hex').toString('latin1'), /\d{17}[\dX]/);
      const bad = a.cli(['seed', '--people', 'many']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--people/);
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
