// The benchmark suite of issue 12, run by ops/bench (which builds, starts MariaDB with
// production durability and sets the environment of tests/integration/lib/harness.mjs):
//
//   node tests/bench/suite.bench.mjs --bench-dir B --out FILE [--small] [--seconds S]
//        [--only fio,load,http,read,memory]
//
// Loads the population with `onetripd seed` (progress on stderr), then measures with wrk
// (tests/bench/bench.lua, app tokens minted ahead of the run) and the C clients of
// tests/bench (built into $ONETRIP_BENCH_BIN). Every figure is the median of 3 runs, each run
// of the subject followed by its baseline, so each ratio compares figures of the same run.
// Prints a table and writes it as JSON with the machine's description.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { env, startServer, sql, sleep } from '../integration/lib/harness.mjs';
import { setupIdentity } from '../integration/lib/identity.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const SMALL = argv.includes('--small');
const BENCH_DIR = opt('bench-dir', env.testRoot);
const OUT = opt('out', path.join(process.cwd(), 'bench.json'));
const SECS = Number(opt('seconds', SMALL ? 5 : 10));
const ONLY = opt('only', '') ? new Set(opt('only', '').split(',')) : null;
const want = (s) => !ONLY || ONLY.has(s);
const BIN = process.env.ONETRIP_BENCH_BIN || path.join(path.dirname(env.onetripd), 'tests/bench');
const LUA = path.join(HERE, 'bench.lua');
const RUNS = 3;
const CONNS = 64;
const IDLE_CONNS = 10000;

const SIZES = {
  small: { people: 100000, vehicles: 100000, violations: 300000, cases: 100000, plates: 20000 },
  full: { people: 1000000, vehicles: 1000000, violations: 3000000, cases: 1000000, plates: 200000 },
};

const log = (...a) => console.error('bench:', ...a);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ---- processes ------------------------------------------------------------------------------
const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

/** Run a command without blocking the loop (servers' log pipes must keep draining). */
function run(cmd, args, { input, timeoutMs = 600000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(p);
    let out = '';
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      children.delete(p);
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      else resolve(out);
    });
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
  });
}

async function wrk(url, { conns = CONNS, threads = 2, secs = SECS, args = [] } = {}) {
  const out = await run('wrk', ['-t', String(threads), '-c', String(conns), '-d', `${secs}s`, '--timeout', '10s',
    '-s', LUA, url, '--', ...args]);
  const m = /^BENCH (.*)$/m.exec(out);
  if (!m) throw new Error(`wrk printed no figures:\n${out}`);
  return JSON.parse(m[1]);
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : null;
}

/** runs x (subject, baseline): medians of each and the ratio of the medians. */
async function paired(subjectFn, baselineFn, key = 'rps') {
  const s = [];
  const b = [];
  for (let i = 0; i < RUNS; i++) {
    s.push(await subjectFn(i));
    if (baselineFn) b.push(await baselineFn(i));
  }
  const med = (rs) => {
    if (rs.length === 0) return null;
    const o = {};
    for (const k of Object.keys(rs[0])) if (typeof rs[0][k] === 'number') o[k] = median(rs.map((r) => r[k]));
    o.runs = rs.map((r) => r[key]);
    return o;
  };
  const sm = med(s);
  const bm = med(b);
  return { subject: sm, baseline: bm, ratio: bm ? sm[key] / bm[key] : null };
}

// ---- machine --------------------------------------------------------------------------------
function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) || [])[1] || os.cpus()[0]?.model;
  let commit = null;
  let dirty = false;
  try {
    commit = execFileSync('git', ['-C', env.repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['-C', env.repo, 'status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
  } catch { /* not a git checkout */ }
  const mariadb = sql('mysql', 'SELECT VERSION()', { socket: env.dbSocket })[0][0];
  return {
    cores: os.cpus().length, memory_mb: Math.round(os.totalmem() / 1048576), kernel: os.release(),
    cpu_model: cpu, mariadb, git_commit: commit, git_dirty: dirty, load_average_at_start: os.loadavg(),
    node: process.version, date: new Date().toISOString(),
  };
}

// ---- fio --------------------------------------------------------------------------------------
async function fio() {
  const dir = path.join(BENCH_DIR, 'fio');
  fs.mkdirSync(dir, { recursive: true });
  const out = await run('fio', ['--name=fsync', `--directory=${dir}`, '--rw=write', '--bs=4k', '--size=4m',
    '--fsync=1', '--ioengine=sync', '--output-format=json']);
  fs.rmSync(dir, { recursive: true, force: true });
  const j = JSON.parse(out.slice(out.indexOf('{')));
  const s = j.jobs[0].sync;
  const p = s.lat_ns.percentile || {};
  return {
    fsyncs: s.total_ios ?? null, mean_ms: s.lat_ns.mean / 1e6,
    p50_ms: (p['50.000000'] ?? NaN) / 1e6, p99_ms: (p['99.000000'] ?? NaN) / 1e6,
  };
}

// ---- population -------------------------------------------------------------------------------
const SERVER_OVERRIDES = {
  // The API on plain HTTP, as behind a TLS-terminating proxy (nginx runs without TLS too).
  'http.allow_api': 1, 'jobs.enabled': 0, 'log.access': 0,
  // onetripd's own defaults for loop threads and workers (the harness sets 4 workers).
  'workers.count': null,
  // 10,000 idle keep-alive connections from one address, kept for the whole memory figure.
  'http.max_connections': 20000, 'http.max_connections_per_ip': 20000, 'http.idle_timeout_s': 600,
};

async function population(name, sizes) {
  log(`loading the ${name} population: ${sizes.people} people, ${sizes.vehicles} vehicles, ` +
    `${sizes.violations} violations, ${sizes.cases} cases, ${sizes.plates} pool plates`);
  const t0 = Date.now();
  const server = await startServer({
    prefix: `bench_${name}`, overrides: SERVER_OVERRIDES,
    seed: ['--people', String(sizes.people), '--vehicles', String(sizes.vehicles), '--violations',
      String(sizes.violations), '--cases', String(sizes.cases), '--seed', '1', '--progress'],
    seedTimeoutMs: 4 * 3600e3, seedStdio: ['ignore', 'pipe', 'inherit'], readyTimeoutMs: 300000,
  });
  const seedS = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const pl = server.cli(['plates', 'load', '--prefix', '浙B', '--count', String(sizes.plates)], { timeoutMs: 3600e3 });
  if (pl.code !== 0) throw new Error(`plates load failed: ${pl.stderr}`);
  const platesS = (Date.now() - t1) / 1000;
  const counts = server.sql('SELECT (SELECT COUNT(*) FROM citizens), (SELECT COUNT(*) FROM vehicles), ' +
    '(SELECT COUNT(*) FROM violations), (SELECT COUNT(*) FROM cases), (SELECT COUNT(*) FROM plate_numbers)')[0].map(Number);
  const rows = counts.reduce((a, b) => a + b, 0);
  log(`loaded ${rows} rows in ${(seedS + platesS).toFixed(1)} s (seed ${seedS.toFixed(1)} s, plate pool ${platesS.toFixed(1)} s)`);
  const id = await setupIdentity(server, { citizens: 1 });
  // The demo city's ID numbers: citizen index i is row i + 1 of this fresh database.
  const ids = server.cli(['citizen', 'seed-ids', '--seed', '1', '--count', String(sizes.people)], { timeoutMs: 600000 });
  if (ids.code !== 0) throw new Error(`citizen seed-ids failed: ${ids.stderr}`);
  const idNumbers = ids.stdout.trim().split('\n');
  return {
    name, sizes, server, id, idNumbers,
    load: { seconds: seedS + platesS, seed_seconds: seedS, plates_seconds: platesS, rows,
      citizens: counts[0], vehicles: counts[1], violations: counts[2], cases: counts[3], plates: counts[4] },
  };
}

/** 2,000 citizens spread over the population: tokens for wrk, (citizen, licence) for C. */
function sample(pop, n = 2000) {
  const step = Math.max(1, Math.floor(pop.idNumbers.length / n));
  const picked = [];
  for (let i = 0; i < pop.idNumbers.length && picked.length < n; i += step) picked.push(i);
  const citizenIds = picked.map((i) => i + 1);
  const lic = new Map(sql(pop.server.db.name,
    `SELECT citizen_id, id FROM licences WHERE citizen_id IN (${citizenIds.join(',')})`).map(([c, l]) => [Number(c), Number(l)]));
  const pairs = citizenIds.map((c) => `${c} ${lic.get(c) ?? 0}`).join('\n') + '\n';
  return { picked, pairs };
}

function mintTokens(pop, picked, file) {
  const lines = picked.map((i) => pop.id.appToken({ idNumber: pop.idNumbers[i] }));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

// ---- figures ------------------------------------------------------------------------------------
async function readPath(pop) {
  const { picked, pairs } = sample(pop);
  const dir = path.join(BENCH_DIR, 'read');
  fs.mkdirSync(dir, { recursive: true });
  const tokens = path.join(dir, `tokens-${pop.name}`);
  const pairsFile = path.join(dir, `pairs-${pop.name}`);
  fs.writeFileSync(pairsFile, pairs);
  const url = `${pop.server.httpUrl}/v1/me/violations`;
  // Tokens live 300 s at most: fresh ones for every run. One warm-up run fills the caches.
  mintTokens(pop, picked, tokens);
  await wrk(url, { secs: 2, args: ['/v1/me/violations', tokens] });
  let rssUnderLoad = 0;
  const r = await paired(async () => {
    mintTokens(pop, picked, tokens);
    const sampler = setInterval(() => { rssUnderLoad = Math.max(rssUnderLoad, rssKb(pop.server.proc.pid) || 0); }, 500);
    try {
      return await wrk(url, { args: ['/v1/me/violations', tokens] });
    } finally {
      clearInterval(sampler);
    }
  }, async () => JSON.parse(await run(path.join(BIN, 'bench_select'), [env.dbSocket, pop.server.db.user,
    pop.server.db.password, pop.server.db.name, String(CONNS), String(SECS), pairsFile])));
  r.rss_under_load_kb = rssUnderLoad;
  return r;
}

async function nginxStart() {
  const dir = path.join(BENCH_DIR, 'nginx');
  fs.mkdirSync(dir, { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const body = '{"status":"ok"}';
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes ${os.cpus().length};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /healthz { default_type application/json; return 200 '${body}'; }
  }
}
`);
  const p = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
    { stdio: 'ignore' });
  children.add(p);
  const exited = new Promise((resolve) => p.on('close', () => { children.delete(p); resolve(); }));
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.status === 200) break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  return {
    url: `http://127.0.0.1:${port}/healthz`,
    async stop() { p.kill('SIGQUIT'); await exited; },
  };
}

async function httpCeiling(pop, nginx) {
  const url = `${pop.server.httpUrl}/healthz`;
  await wrk(url, { secs: 2, args: ['/healthz'] });
  return paired(() => wrk(url, { args: ['/healthz'] }), () => wrk(nginx.url, { args: ['/healthz'] }));
}

async function memory(pop, ceilingRps) {
  const pid = pop.server.proc.pid;
  const idle = rssKb(pid);
  const p = spawn(path.join(BIN, 'bench_idle'), [String(pop.server.httpPort), String(IDLE_CONNS)],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(p);
  const opened = await new Promise((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
      const m = /open (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    p.on('close', (code) => reject(new Error(`bench_idle exited ${code} before opening its connections`)));
  });
  await sleep(1000);
  const withIdle = rssKb(pid);
  const url = `${pop.server.httpUrl}/healthz`;
  const r = await paired(() => wrk(url, { args: ['/healthz'] }), null);
  p.stdin.end();
  await new Promise((resolve) => { if (p.exitCode !== null) resolve(); else p.on('close', resolve); });
  children.delete(p);
  return {
    rss_idle_kb: idle, idle_connections: opened, rss_with_idle_kb: withIdle,
    kb_per_idle_connection: opened > 0 ? (withIdle - idle) / opened : null,
    healthz_with_idle: r.subject, healthz_with_idle_ratio: ceilingRps ? r.subject.rps / ceilingRps : null,
  };
}

// ---- main -----------------------------------------------------------------------------------------
const result = { machine: machine(), mode: SMALL ? 'small' : 'full', seconds_per_run: SECS, runs: RUNS,
  connections: CONNS, figures: {} };
const F = result.figures;
let nginx = null;
const pops = [];
try {
  if (want('fio')) {
    log('fio --fsync=1 on the data directory\'s disk');
    F.fsync = await fio();
  }
  pops.push(await population('100k', SIZES.small));
  F.load_100k = pops[0].load;
  if (want('read')) {
    log('read path at 100,000');
    F.read_100k = await readPath(pops[0]);
  }
  if (!SMALL) {
    await pops[0].server.stop();
    pops.push(await population('full', SIZES.full));
    F.load_full = pops[1].load;
    if (want('read')) {
      log('read path at the default population');
      F.read_full = await readPath(pops[1]);
      F.read_scale_ratio = F.read_full.subject.rps / F.read_100k.subject.rps;
    }
  }
  const pop = pops[pops.length - 1];
  if (want('http')) {
    log('HTTP ceiling: /healthz vs nginx');
    nginx = await nginxStart();
    F.http_ceiling = await httpCeiling(pop, nginx);
  }
  if (want('memory')) {
    log(`memory: ${IDLE_CONNS} idle keep-alive connections`);
    F.memory = await memory(pop, F.http_ceiling?.subject?.rps);
  }
} finally {
  if (nginx) await nginx.stop();
  for (const p of pops) {
    if (p.server.proc && !p.server.proc.exitInfo) await p.server.stop();
  }
}

// ---- report ------------------------------------------------------------------------------------------
const rows = [];
const f1 = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : Number(x).toFixed(d));
const lat = (s) => (s ? `p50 ${f1(s.p50_ms, 2)} / p99 ${f1(s.p99_ms, 2)} / p99.9 ${f1(s.p999_ms, 2)} ms` : '');
if (F.fsync) rows.push(['fio --fsync=1 (4 KiB writes)', `${f1(F.fsync.p50_ms, 2)} ms p50`, `${f1(F.fsync.p99_ms, 2)} ms p99`, '', '']);
for (const [k, l] of [['load_100k', 'load (100k population)'], ['load_full', 'load (default population)']]) {
  if (F[k]) rows.push([l, `${F[k].rows} rows`, `${f1(F[k].seconds)} s`, `${f1(F[k].rows / F[k].seconds, 0)} rows/s`, '']);
}
if (F.http_ceiling) {
  rows.push(['/healthz req/s (nginx return 200)', f1(F.http_ceiling.subject.rps, 0), f1(F.http_ceiling.baseline.rps, 0),
    f1(F.http_ceiling.ratio, 2), '>= 0.9']);
}
for (const [k, l] of [['read_100k', 'citizen violation list, 100k (direct SELECT)'], ['read_full', 'citizen violation list, full (direct SELECT)']]) {
  if (F[k]) {
    rows.push([`${l} req/s`, f1(F[k].subject.rps, 0), f1(F[k].baseline.rps, 0), f1(F[k].ratio, 2), '>= 0.8']);
    rows.push([`  latency`, lat(F[k].subject), lat(F[k].baseline), '', 'p99 < 20 ms']);
  }
}
if (F.read_scale_ratio !== undefined) rows.push(['read req/s full / 100k', '', '', f1(F.read_scale_ratio, 2), '>= 0.9']);
if (F.memory) {
  const m = F.memory;
  rows.push(['RSS idle / with idle conns (KiB)', String(m.rss_idle_kb), String(m.rss_with_idle_kb), `${f1(m.kb_per_idle_connection, 2)} KiB/conn`, '<= 4 KiB']);
  rows.push([`/healthz req/s with ${m.idle_connections} idle (without)`, f1(m.healthz_with_idle.rps, 0),
    f1(F.http_ceiling?.subject?.rps, 0), f1(m.healthz_with_idle_ratio, 2), '>= 0.9']);
}
const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...[['figure', 'onetripd', 'baseline', 'ratio', 'target'], ...rows].map((r) => String(r[c]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join(' | ');
console.log(`\nops/bench (${result.mode}): median of ${RUNS} runs of ${SECS} s, ${CONNS} connections; ` +
  `${result.machine.cores} cores, ${result.machine.cpu_model}, MariaDB ${result.machine.mariadb}, commit ${String(result.machine.git_commit).slice(0, 10)}${result.machine.git_dirty ? '+' : ''}`);
console.log(line(['figure', 'onetripd', 'baseline', 'ratio', 'target']));
console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of rows) console.log(line(r));
result.table = rows;
fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
console.log(`\nwritten to ${OUT}`);
