// The README tour works, and works again: its shell block, taken from README.md as written,
// runs twice in a row against a server of its own (with the demo identities ops/run registers
// and the channel simulator ops/run starts), each step checked (bash -e, curl
// --fail-with-body, jq -e), and the day's reconciliation of what it paid comes out clean.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { startServer, dropDatabase, env, tlsPaths, simTls } from './lib/harness.mjs';
import { startSim, shanghaiDay } from '../sim/channel-sim.mjs';

let server;
let sim;
let varDir;

/** The first ```sh block under "## A short tour" in README.md. */
function tourScript() {
  const readme = fs.readFileSync(path.join(env.repo, 'README.md'), 'utf8');
  const section = readme.split(/^## A short tour$/m)[1];
  assert.ok(section, 'README.md has no "## A short tour" section');
  const m = /^```sh\n([\s\S]*?)^```$/m.exec(section);
  assert.ok(m, 'the tour has no ```sh block');
  return m[1];
}

/** Run bash with args; resolves {code, signal, stdout, stderr}. */
function bash(args, { cwd, extraEnv, timeoutMs = 180000 }) {
  return new Promise((resolve) => {
    const p = spawn('bash', args, { cwd, env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stdout, stderr }); });
  });
}

before(async () => {
  sim = await startSim({ ca: tlsPaths.ca, tls: simTls() });
  server = await startServer({ prefix: 'tour', overrides: { ...sim.overrides(), 'jobs.enabled': 0 } });
  sim.onetripUrl = server.httpsUrl;
  // What ops/run does after migrate: the demo identities, registered by ops/lib/demo.sh from
  // VAR/tls (here the test run's TLS material) into VAR/demo/credentials.txt.
  varDir = fs.mkdtempSync(path.join(server.dir, 'var-'));
  fs.symlinkSync(tlsPaths.dir, path.join(varDir, 'tls'));
  const demo = await bash(['ops/lib/demo.sh', varDir, server.configPath], {
    cwd: env.repo,
    extraEnv: { ONETRIPD: env.onetripd, DEMO_DB_SOCKET: env.dbSocket, DEMO_DB_NAME: server.db.name },
  });
  assert.equal(demo.code, 0, `ops/lib/demo.sh failed:\n${demo.stderr}`);
});

after(async () => {
  if (server) {
    assert.equal((await server.stop()).code, 0);
    dropDatabase(server.db.name);
  }
  if (sim) await sim.stop();
});

test('the README tour runs twice in a row, every step succeeding', async () => {
  const script = tourScript();
  const tourEnv = {
    TOUR_HTTP: server.httpUrl,
    TOUR_HTTPS: server.httpsUrl,
    TOUR_CA: tlsPaths.ca,
    TOUR_SIM: sim.url,
    ONETRIP_DEMO_DIR: path.join(varDir, 'demo'),
  };
  for (const run of [1, 2]) {
    // -x: the trace on stderr shows the failing step
    const r = await bash(['-c', `set -eo pipefail\nset -x\n${script}`], { cwd: env.repo, extraEnv: tourEnv });
    assert.equal(r.code, 0, `tour run ${run} failed (code ${r.code}, signal ${r.signal}):\n` +
      `--- stdout\n${r.stdout}\n--- stderr (last lines)\n${r.stderr.split('\n').slice(-40).join('\n')}`);
    assert.match(r.stdout, /"state":"paid"/, `run ${run} paid nothing:\n${r.stdout}`);
  }
  // Two violations recorded and paid, nothing else.
  const [[violations, paid]] = server.sql(
    "SELECT COUNT(*), SUM(state = 'paid') FROM violations WHERE decision_no LIKE 'T%'");
  assert.equal(violations, '2');
  assert.equal(paid, '2');
  assert.equal(server.sql("SELECT COUNT(*) FROM payment_orders WHERE state = 'paid'")[0][0], '2');
  // The day's reconciliation of the channel the tour paid through finds both, and nothing odd.
  const day = shanghaiDay();
  // (not server.cli: a synchronous child would block the simulator serving the statement)
  const rec = await bash(['-c', '"$0" payments-reconcile --config "$1" alipay "$2"', env.onetripd, server.configPath, day],
    { cwd: env.repo, extraEnv: {} });
  assert.equal(rec.code, 0, rec.stderr);
  const [[matched, notRecorded, notInStatement, mismatch]] = server.sql(
    `SELECT matched, not_recorded, not_in_statement, amount_mismatch FROM reconciliation_reports WHERE channel = 'alipay' AND stmt_date = '${day}'`);
  assert.deepEqual([matched, notRecorded, notInStatement, mismatch], ['2', '0', '0', '0']);
});
