// Benchmark: audited writes from several callers at once (issue 12, "no single hot row for all
// writes"). Each request is refused with 403 and writes its access.denied audit record in its
// own durable transaction (server/audit.c), from two modules' routes (people, violations; an admin may read neither), so
// every request is one audited commit and nothing else. Before the shards every such commit
// locked the one audit_head row; now each worker writes its own shard. Prints audited
// commits/s, p50 and p99 at 1, 16 and 64 connections, the same-run baseline (/readyz: a worker
// and a MariaDB round trip, no write), and checks the trail still verifies afterwards.
//
//   node tests/bench/audit.bench.mjs [--seconds 5]
// Compare two binaries by running it twice with ONETRIPD set to each.
import http from 'node:http';

import { startServer } from '../integration/lib/harness.mjs';
import { setupIdentity } from '../integration/lib/identity.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 5);

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function load(conc, urls, headers, want) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: conc });
  const lat = [];
  let errors = 0;
  let k = 0;
  const end = Date.now() + SECONDS * 1000;
  const one = () => new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(urls[k++ % urls.length], { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== want) errors++;
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
  });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (Date.now() < end) await one();
  }));
  const secs = (Date.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99), errors };
}

const server = await startServer({ prefix: 'bench_audit', overrides: {
  'jobs.enabled': 0, 'log.access': 0, 'workers.count': 16, 'http.allow_api': 1,
  'http.max_connections_per_ip': 4096, 'http.max_connections': 4096,
} });
try {
  const id = await setupIdentity(server, { citizens: 1, hmac: false });
  const headers = await id.operatorHeaders('admin');
  const denied = [`${server.httpUrl}/v1/citizens/${id.citizens[0].id}`, `${server.httpUrl}/v1/violations?plate=x`];
  const before = Number(server.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied'")[0][0]);
  console.log(`audit benchmark: ${SECONDS} s each, keep-alive connections, 16 workers (${process.env.ONETRIPD || 'default onetripd'})`);
  const base = await load(16, [`${server.httpUrl}/readyz`], {}, 200);
  console.log(`  GET /readyz, 16 connections (baseline)   ${base.rps.toFixed(0).padStart(6)} req/s  p50 ${base.p50.toFixed(2)} ms  p99 ${base.p99.toFixed(2)} ms`);
  for (const conc of [1, 16, 64]) {
    const r = await load(conc, denied, headers, 403);
    console.log(`  audited 403s, ${String(conc).padStart(2)} connections           ${r.rps.toFixed(0).padStart(6)} commits/s  ` +
      `p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  (${(r.rps / base.rps).toFixed(3)}x baseline)`);
  }
  const after = Number(server.sql("SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied'")[0][0]);
  let shards = 'one chain';
  try {
    shards = `${server.sql('SELECT COUNT(*) FROM audit_head WHERE records > 0')[0][0]} shards in use`;
  } catch { /* before the shards: audit_head has no records column */ }
  const v = server.cli(['audit', 'verify']);
  console.log(`  ${after - before} access.denied records written; ${shards}; audit verify: ${v.code === 0 ? 'intact' : 'BROKEN'} (${v.stdout.trim()})`);
} finally {
  await server.stop();
}
