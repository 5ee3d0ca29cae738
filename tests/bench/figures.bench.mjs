// Benchmark: the reform's figures over a million cases (issue: "answers in well under a
// second"). Prints the figures endpoint's latency and, as baselines measured in the same
// run, a trivial database round trip through the server (/readyz) and the raw SQL that
// counts the same cases without the rollup.
//
//   node tests/bench/figures.bench.mjs [--cases 1000000]
// Needs the same environment as the integration tests (see tests/bench/README.md).
import { startServer, request, sqlExec, sql } from '../integration/lib/harness.mjs';
import { setupIdentity } from '../integration/lib/identity.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('cases', 1000000);
const RUNS = 15;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

const server = await startServer({ prefix: 'bench_figures', seed: ['--people', '1000', '--seed', '3'],
  overrides: { 'jobs.enabled': 0, 'log.access': 0, 'http.allow_api': 1 } }); // the API on plain HTTP, as behind a proxy
try {
  const id = await setupIdentity(server, { citizens: 1 });
  const db = server.db.name;
  const version = sql(db, "SELECT id FROM catalog_versions ORDER BY id LIMIT 1")[0][0];
  const t0 = Date.now();
  // Completed cases spread over the last 90 days, across categories and channels; every
  // third took one trip, a few none on time.
  sqlExec(db, `INSERT INTO cases (number, query_code, item_code, catalog_version_id, category, applicant_id,
      channel, outlet_id, state, submitted_at, submitted_day, promised_days, deadline, accepted_at, completed_at,
      completed_day, trips, updated_at)
    SELECT CONCAT('B', seq), 'BENCHMRK', 'VIO-HANDLE', ${version},
      ELT(1 + seq % 4, 'vehicle', 'driver', 'violation', 'permit'), 1 + seq % 1000,
      ELT(1 + seq % 5, 'app', 'window', 'post', 'dealer', 'insurer'), NULL, 'completed',
      UTC_TIMESTAMP(3) - INTERVAL (seq % 90) DAY, UTC_DATE() - INTERVAL (seq % 90) DAY, 5,
      UTC_DATE() - INTERVAL (seq % 90) DAY + INTERVAL 7 DAY, UTC_TIMESTAMP(3) - INTERVAL (seq % 90) DAY,
      UTC_TIMESTAMP(3) - INTERVAL (seq % 90) DAY, UTC_DATE() - INTERVAL (seq % 90) DAY + INTERVAL (seq % 11) DAY,
      IF(seq % 3 = 0, 1, 0), UTC_TIMESTAMP(3)
    FROM seq_1_to_${N}`);
  const loadS = (Date.now() - t0) / 1000;
  const from = new Date(Date.now() - 100 * 86400e3).toISOString().slice(0, 10);
  const to = new Date(Date.now() - 86400e3).toISOString().slice(0, 10);
  const t1 = Date.now();
  const roll = server.cli(['cases-rollup', from, new Date().toISOString().slice(0, 10)], { timeoutMs: 600000 });
  if (roll.code !== 0) throw new Error(`cases-rollup failed: ${roll.stderr}`);
  const rollupS = (Date.now() - t1) / 1000;

  const auth = await id.operatorHeaders('supervisor');
  const figures = async (group) => {
    const r = await request(`${server.httpUrl}/v1/figures?from=${from}&to=${to}&group=${group}`, { headers: auth, timeoutMs: 60000 });
    if (r.status !== 200) throw new Error(`figures: ${r.status} ${r.text}`);
  };
  const fig = await timeIt(() => figures('category'));
  const figChannel = await timeIt(() => figures('channel'));
  const ready = await timeIt(async () => { await request(`${server.httpUrl}/readyz`); });
  const rawSql = await timeIt(async () => {
    sql(db, `SELECT category, COUNT(*), SUM(trips <= 1), SUM(trips = 0), SUM(completed_day <= deadline)
             FROM cases WHERE completed_day BETWEEN '${from}' AND '${to}' GROUP BY category`);
  });

  console.log(`figures benchmark: ${N} completed cases (loaded in ${loadS.toFixed(1)} s, rollup ${rollupS.toFixed(1)} s)`);
  console.log(`  GET /v1/figures group=category   median ${fig.toFixed(1)} ms over ${RUNS} runs`);
  console.log(`  GET /v1/figures group=channel    median ${figChannel.toFixed(1)} ms`);
  console.log(`  baseline GET /readyz             median ${ready.toFixed(1)} ms  (figures/readyz = ${(fig / ready).toFixed(1)}x)`);
  console.log(`  baseline raw SQL scan (mariadb)  median ${rawSql.toFixed(1)} ms  (figures/raw scan = ${(fig / rawSql).toFixed(3)}x)`);
  console.log(`  goal: well under 1000 ms -> ${fig < 1000 ? 'met' : 'NOT met'}`);
} finally {
  await server.stop();
}
