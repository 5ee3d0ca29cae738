// Benchmark: request throughput and latency through the event loop alone (/healthz, the
// baseline), through a worker and MariaDB (/readyz), and an authenticated citizen read
// (JWT verification, then a query), with a fresh token per request and with one token reused
// for its lifetime (issue 12: reads record no jti, so neither costs a durable write; before,
// every request inserted its jti and a reused token was refused). Keep-alive connections, fixed
// concurrency, fixed duration; prints requests/s, p50 and p99, and each ratio to the
// baseline measured in the same run.
//
//   node tests/bench/http.bench.mjs [--seconds 5] [--concurrency 32] [--threads 1]
import http from 'node:http';

import { startServer } from '../integration/lib/harness.mjs';
import { setupIdentity } from '../integration/lib/identity.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg('seconds', 5);
const CONC = arg('concurrency', 32);
const THREADS = arg('threads', 1);

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function load(url, headersFn) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const lat = [];
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
  const one = () => new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(url, { agent, headers: headersFn ? headersFn() : {} }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
        resolve();
      });
    });
    req.on('error', () => { errors++; resolve(); });
  });
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (Date.now() < end) await one();
  }));
  const secs = (Date.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secs, p50: pct(lat, 0.5), p99: pct(lat, 0.99), errors, n: lat.length };
}

// Plain HTTP with the API allowed (as behind a TLS-terminating proxy): the loop without TLS.
const server = await startServer({ prefix: 'bench_http', overrides: {
  'jobs.enabled': 0, 'log.access': 0, 'http.threads': THREADS, 'workers.count': 8, 'http.allow_api': 1,
  'http.max_connections_per_ip': 4096, 'http.max_connections': 4096,
} });
try {
  const id = await setupIdentity(server, { citizens: 1, hmac: false });
  const citizen = id.citizens[0];
  const base = await load(`${server.httpUrl}/healthz`);
  const ready = await load(`${server.httpUrl}/readyz`);
  const me = await load(`${server.httpUrl}/v1/me`, () => id.citizenHeaders(citizen));
  const one = id.citizenHeaders(citizen);
  const meReused = await load(`${server.httpUrl}/v1/me`, () => one);
  const line = (name, r) => console.log(`  ${name.padEnd(34)} ${r.rps.toFixed(0).padStart(7)} req/s  ` +
    `p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  errors ${r.errors}  ` +
    `(${(r.rps / base.rps).toFixed(3)}x baseline)`);
  console.log(`http benchmark: ${SECONDS} s each, ${CONC} keep-alive connections, ${THREADS} loop thread(s)`);
  line('GET /healthz (loop only, baseline)', base);
  line('GET /readyz (worker + MariaDB)', ready);
  line('GET /v1/me (fresh JWT each + query)', me);
  line('GET /v1/me (one JWT reused + query)', meReused);
} finally {
  await server.stop();
}
