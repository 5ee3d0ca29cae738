// Benchmark: how fast requests are refused while MariaDB is down (the README's "503 within a
// few milliseconds": failed connects are held off, so a request does not wait for a connect
// of its own), and how soon service is back after MariaDB answers again. The integration
// test (tests/integration/dbdown.test.mjs) checks the behaviour; the figures live here,
// because a loaded machine cannot promise them.
//
//   node tests/bench/dbdown.bench.mjs [--requests 400] [--concurrency 8] [--cycles 3]
//
// Prints, per cycle: p50 / p99 of the 503s while down beside /healthz in the same state (the
// loop-only baseline), and the time from MariaDB answering to the first 200 of /readyz.
import fs from 'node:fs';
import path from 'node:path';

import {
  startServer, startMariadb, stopMariadb, request, env,
} from '../integration/lib/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg('requests', 400);
const CONC = arg('concurrency', 8);
const CYCLES = arg('cycles', 3);

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function timed(url, want) {
  const lat = [];
  let other = 0;
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next++ < REQUESTS) {
      const t0 = process.hrtime.bigint();
      const r = await request(url, { timeoutMs: 30000 });
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== want) other++;
    }
  }));
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), other };
}

const dir = fs.mkdtempSync(path.join(env.testRoot, 'bdd-'));
const db = path.join(dir, 'db');
const sock = startMariadb(db);
const server = await startServer({
  prefix: 'bench_dbdown', overrides: { 'db.socket': sock, 'log.access': 0, 'jobs.enabled': 0 },
});
const f = (x) => x.toFixed(2).padStart(8);
try {
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    stopMariadb(db);
    const down = await timed(`${server.httpUrl}/readyz`, 503);
    const health = await timed(`${server.httpUrl}/healthz`, 200);
    startMariadb(db); // returns once MariaDB answers
    const t0 = process.hrtime.bigint();
    let r;
    do r = await request(`${server.httpUrl}/readyz`, { timeoutMs: 30000 }); while (r.status !== 200);
    const backMs = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`cycle ${cycle}: 503 while down p50 ${f(down.p50)} ms p99 ${f(down.p99)} ms` +
      ` (not 503: ${down.other}); /healthz p50 ${f(health.p50)} ms p99 ${f(health.p99)} ms;` +
      ` first 200 ${f(backMs)} ms after MariaDB answered`);
  }
} finally {
  await server.stop();
  stopMariadb(db);
}
