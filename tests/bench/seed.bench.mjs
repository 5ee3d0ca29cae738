// Benchmark: the demo-city generator (issue: "a million vehicles in minutes"). Prints rows
// per second of `onetripd seed` and, as a baseline measured in the same run, MariaDB's own
// bulk speed for rows of a similar width (INSERT ... SELECT from the sequence engine).
//
//   node tests/bench/seed.bench.mjs [--people 800000] [--vehicles 1000000]
import { startServer, sqlExec } from '../integration/lib/harness.mjs';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const people = arg('people', 800000);
const vehicles = arg('vehicles', 1000000);

const server = await startServer({ prefix: 'bench_seed', overrides: { 'jobs.enabled': 0 } });
try {
  const t0 = Date.now();
  const r = server.cli(['seed', '--people', String(people), '--vehicles', String(vehicles), '--seed', '11'],
    { timeoutMs: 3600000 });
  if (r.code !== 0) throw new Error(`seed failed: ${r.stderr}`);
  const seedS = (Date.now() - t0) / 1000;
  const rows = Number(/loaded (\d+) rows/.exec(r.stdout)[1]);

  const n = 500000;
  sqlExec(server.db.name, 'CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, a VARCHAR(64), b VARBINARY(96), ' +
    'c BINARY(32), d DATE, e VARCHAR(32), f INT) ENGINE=InnoDB');
  const t1 = Date.now();
  sqlExec(server.db.name, `INSERT INTO bench_rows SELECT seq, CONCAT('name-', seq), RANDOM_BYTES(60), ` +
    `UNHEX(SHA2(seq, 256)), '2000-01-01' + INTERVAL (seq % 9000) DAY, CONCAT('plate', seq), seq % 12 FROM seq_1_to_${n}`);
  const baseS = (Date.now() - t1) / 1000;

  const seedRate = rows / seedS;
  const baseRate = n / baseS;
  console.log(`seed benchmark: ${people} people, ${vehicles} vehicles -> ${rows} rows in ${seedS.toFixed(1)} s`);
  console.log(`  onetripd seed            ${Math.round(seedRate)} rows/s`);
  console.log(`  baseline INSERT..SELECT  ${Math.round(baseRate)} rows/s (server-side only; seed/baseline = ${(seedRate / baseRate).toFixed(2)}x)`);
  console.log(`  goal: 1,000,000 vehicles in minutes -> ${seedS < 600 ? 'met' : 'NOT met'} (${(seedS / 60).toFixed(1)} min)`);
} finally {
  await server.stop();
}
