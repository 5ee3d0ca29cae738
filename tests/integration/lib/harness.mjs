// Integration-test harness for onetripd: node builtins only (node 18+).
//
// Environment (set by ops/test and CTest; see tests/integration/README.md):
//   ONETRIPD                path to the onetripd binary (CTest sets it per build)
//   ONETRIP_TEST_ROOT       scratch directory of this ops/test run (servers get dirs under it)
//   ONETRIP_TEST_DB_SOCKET  socket of the shared private MariaDB (root over unix_socket)
//   ONETRIP_TLS_DIR         output of ops/lib/tls.sh tls_generate
//   ONETRIP_REPO            repository root (defaults to this file's location)
//
// Every test file should use its own database: startServer() makes a fresh one each time.

import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiCheckOrigin, apiCheckResponse } from './apicheck.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------
// environment

function requireEnv(name) {
  const v = process.env[name];
  if (!v) {
    throw new Error(`${name} is not set: run the integration tests through ops/test ` +
      '(or set ONETRIPD, ONETRIP_TEST_ROOT, ONETRIP_TEST_DB_SOCKET, ONETRIP_TLS_DIR)');
  }
  return v;
}

/** Read lazily, so a script may set process.env before first use. */
export const env = {
  get onetripd() { return requireEnv('ONETRIPD'); },
  get testRoot() { return requireEnv('ONETRIP_TEST_ROOT'); },
  get dbSocket() { return requireEnv('ONETRIP_TEST_DB_SOCKET'); },
  get tlsDir() { return requireEnv('ONETRIP_TLS_DIR'); },
  get repo() { return process.env.ONETRIP_REPO || path.resolve(HERE, '../../..'); },
};

// ---------------------------------------------------------------------------------------
// small helpers

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** n random bytes as 2n lower-case hex characters (like `openssl rand -hex n`). */
export function randomHex(n) {
  return crypto.randomBytes(n).toString('hex');
}

/** Poll fn() (sync or async) until it returns a truthy value; throw after timeoutMs. */
export async function waitFor(fn, { timeoutMs = 30000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

function tail(text, lines = 60) {
  const all = String(text).split('\n');
  return all.slice(Math.max(0, all.length - lines)).join('\n');
}

// ---------------------------------------------------------------------------------------
// SQL through the mariadb client, as root over the socket

function mariadb(dbName, query, socket) {
  const args = ['--no-defaults', '-S', socket || env.dbSocket, '-uroot', '-N', '-B', '--raw'];
  if (dbName) args.push('-D', dbName);
  args.push('-e', query);
  try {
    return execFileSync('mariadb', args, {
      encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    // The client echoes the failing statement between dashed lines: keep the ERROR line(s).
    const stderr = String(e.stderr || '');
    const errLines = stderr.split('\n').filter((l) => /^ERROR /.test(l));
    const msg = errLines.length ? errLines.join('\n') : (stderr.trim() || e.message);
    const err = new Error(`SQL failed${dbName ? ` in ${dbName}` : ''}: ${msg}\n  query: ${query}`);
    err.stderr = e.stderr;
    throw err;
  }
}

/**
 * Run a query; return its rows as arrays of strings, NULL as null.
 * Batch/raw output: a value containing a tab or newline cannot be told apart, and the string
 * 'NULL' reads as null; select HEX(col) or JSON for such values.
 */
export function sql(dbName, query, { socket } = {}) {
  const out = mariadb(dbName, query, socket);
  if (out === '') return [];
  const lines = out.endsWith('\n') ? out.slice(0, -1).split('\n') : out.split('\n');
  return lines.map((line) => line.split('\t').map((v) => (v === 'NULL' ? null : v)));
}

/** Run statements whose output does not matter. */
export function sqlExec(dbName, query, { socket } = {}) {
  mariadb(dbName, query, socket);
}

/** Single value of the first row (or null). */
export function sqlValue(dbName, query, opts) {
  const rows = sql(dbName, query, opts);
  return rows.length ? rows[0][0] : null;
}

// ---------------------------------------------------------------------------------------
// databases

const IDENT = /^[a-z0-9_]{1,64}$/;
const dbUsers = new Map(); // database name -> app user name

/**
 * Pick a unique database name it_<prefix>_<random> and an app user u_<random8> with a random
 * password. Nothing is created: `onetripd migrate` creates the database, user and grants.
 */
export function createDatabase(prefix = 't') {
  const clean = String(prefix).toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 't';
  const rnd = randomHex(4);
  const name = `it_${clean.slice(0, 64 - 4 - rnd.length)}_${rnd}`;
  const user = `u_${randomHex(4)}`;
  const password = randomHex(16);
  dbUsers.set(name, user);
  return { name, user, password };
}

/** Drop the database (and the app user that createDatabase picked for it, at every host). */
export function dropDatabase(name, { socket } = {}) {
  if (!IDENT.test(name)) throw new Error(`refusing to drop odd database name ${JSON.stringify(name)}`);
  sqlExec(null, `DROP DATABASE IF EXISTS \`${name}\``, { socket });
  const user = dbUsers.get(name);
  if (user && IDENT.test(user)) {
    for (const [host] of sql(null, `SELECT Host FROM mysql.user WHERE User = '${user}'`, { socket })) {
      sqlExec(null, `DROP USER IF EXISTS '${user}'@'${host.replace(/'/g, "''")}'`, { socket });
    }
    dbUsers.delete(name);
  }
}

// ---------------------------------------------------------------------------------------
// TLS material (ops/lib/tls.sh)

export const PARTNERS = ['post', 'insurer', 'hospital', 'court', 'dealer', 'agency', 'station'];

const tlsFile = (f) => path.join(env.tlsDir, f);

/** Paths of the generated TLS files (resolved when read). */
export const tlsPaths = {
  get dir() { return env.tlsDir; },
  get ca() { return tlsFile('ca.crt'); },
  get caKey() { return tlsFile('ca.key'); },
  get serverCert() { return tlsFile('server.crt'); },
  get serverKey() { return tlsFile('server.key'); },
  get rogueCa() { return tlsFile('rogue-ca.crt'); },
  /** signed by the untrusted rogue CA; its CN is "onetrip-partner-post" on purpose */
  get rogue() { return { cert: tlsFile('rogue.crt'), key: tlsFile('rogue.key') }; },
  get fingerprints() { return tlsFile('fingerprints.txt'); },
  /** { post: {cert, key}, insurer: {...}, ... } */
  get partners() {
    return Object.fromEntries(PARTNERS.map((n) => [n, this.partner(n)]));
  },
  partner(name) {
    return { cert: tlsFile(`partner-${name}.crt`), key: tlsFile(`partner-${name}.key`) };
  },
};

/** TLS of the payment-channel simulator (tests/sim): the server certificate (localhost,
 * 127.0.0.1), and the CA onetripd trusts for its channel calls. */
export function simTls() {
  return { cert: tlsPaths.serverCert, key: tlsPaths.serverKey, ca: tlsPaths.ca };
}

/** SHA-256 of the partner certificate's DER, lower-case hex (from fingerprints.txt). */
export function partnerFingerprint(name) {
  const text = fs.readFileSync(tlsPaths.fingerprints, 'utf8');
  for (const line of text.split('\n')) {
    const [n, fp] = line.trim().split(/\s+/);
    if (n === name) return fp;
  }
  throw new Error(`no fingerprint for partner ${name} in ${tlsPaths.fingerprints}`);
}

/** SHA-256 of any PEM certificate's DER, lower-case hex. */
export function certFingerprint(pemPath) {
  return new crypto.X509Certificate(fs.readFileSync(pemPath)).fingerprint256.replace(/:/g, '').toLowerCase();
}

// ---------------------------------------------------------------------------------------
// configuration and CLI

/**
 * Write <dir>/onetrip.conf for db ({name, user, password}); return its path.
 * overrides: {"http.max_body": 1024, "https.listen": ""} replaces or adds keys; a value of
 * null or undefined removes the key.
 */
export function writeConfig(dir, db, overrides = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const conf = {
    server: { ready_file: path.join(dir, 'ready') },
    http: { listen: '127.0.0.1:0' },
    https: {
      listen: '127.0.0.1:0',
      cert: tlsPaths.serverCert,
      key: tlsPaths.serverKey,
      client_ca: tlsPaths.ca,
    },
    workers: { count: 4 },
    db: {
      socket: env.dbSocket,
      name: db.name,
      user: db.user,
      password: db.password,
      admin_user: 'root',
    },
    log: { level: 'info' },
    pii: { keys: `1:${randomHex(32)}`, active_key: 1, lookup_key: randomHex(32) },
    auth: { operator_token_key: randomHex(32) },
    // the audit chain's HMAC key and the checkpoint signing key (an Ed25519 seed): outside the DB
    audit: { chain_key: randomHex(32), checkpoint_key: randomHex(32), checkpoint_dir: path.join(dir, 'audit') },
  };
  for (const [k, v] of Object.entries(overrides || {})) {
    const dot = k.indexOf('.');
    if (dot <= 0 || dot === k.length - 1) throw new Error(`override key must be section.key: ${k}`);
    const section = k.slice(0, dot);
    const key = k.slice(dot + 1);
    conf[section] ??= {};
    if (v === null || v === undefined) delete conf[section][key];
    else conf[section][key] = v;
  }
  let text = '# written by tests/integration/lib/harness.mjs\n';
  for (const [section, keys] of Object.entries(conf)) {
    text += `\n[${section}]\n`;
    for (const [k, v] of Object.entries(keys)) {
      const s = String(v);
      if (/[\r\n]/.test(s)) throw new Error(`config value of ${section}.${k} contains a newline`);
      text += s === '' ? `${k} =\n` : `${k} = ${s}\n`;
    }
  }
  const file = path.join(dir, 'onetrip.conf');
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return file;
}

// ONETRIP_<SECTION>_<KEY> variables override the config in onetripd: keep the caller's shell
// from leaking any into the servers under test (tests pass their own through opts.env).
const CONFIG_ENV = /^ONETRIP_(SERVER|HTTP|HTTPS|WORKERS|DB|LOG|PII|AUTH|AUDIT|JOBS|IDEMPOTENCY|PAYMENTS|CASES|REGISTRATION|VIOLATIONS)_/;

function childEnv(extra) {
  const e = {};
  for (const [k, v] of Object.entries(process.env)) if (!CONFIG_ENV.test(k)) e[k] = v;
  return { ...e, ...(extra || {}) };
}

function cliArgs(configPath, args) {
  if (!configPath || args.length === 0) return [...args];
  return [args[0], '--config', configPath, ...args.slice(1)];
}

/**
 * Run `onetripd <args[0]> --config <configPath> <args[1..]>` (configPath may be null).
 * Returns {code, signal, stdout, stderr}. opts: {env, timeoutMs=120000, input, stdio}
 * (stdio: spawnSync's, e.g. ['pipe', 'pipe', 'inherit'] to show a long command's progress).
 */
export function cli(configPath, args = [], opts = {}) {
  const r = spawnSync(env.onetripd, cliArgs(configPath, args), {
    env: childEnv(opts.env),
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120000,
    killSignal: 'SIGKILL',
    maxBuffer: 256 * 1024 * 1024,
    input: opts.input,
    stdio: opts.stdio,
  });
  if (r.error && r.error.code !== 'ETIMEDOUT') throw r.error;
  return {
    code: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    timedOut: r.error?.code === 'ETIMEDOUT',
  };
}

/**
 * cli() without blocking this process: a synchronous child would freeze the event loop and
 * with it anything the command talks to in this process (a channel simulator). Same result.
 */
export function cliAsync(configPath, args = [], opts = {}) {
  return new Promise((resolve) => {
    execFile(env.onetripd, cliArgs(configPath, args),
      { env: childEnv(opts.env), timeout: opts.timeoutMs ?? 120000, killSignal: 'SIGKILL', maxBuffer: 256 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({
        code: err ? (typeof err.code === 'number' ? err.code : 1) : 0,
        signal: err?.signal ?? null, stdout: stdout ?? '', stderr: stderr ?? '', timedOut: !!err?.killed,
      }));
  });
}

// ---------------------------------------------------------------------------------------
// servers

const liveProcs = new Set(); // child processes to kill if the test process goes away
const liveMariadbs = new Set(); // directories of MariaDB instances started by startMariadb

function killAll() {
  for (const p of liveProcs) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
  liveProcs.clear();
  for (const dir of liveMariadbs) {
    try { runMariadbLib('mdb_stop "$2"', dir); } catch { /* best effort */ }
  }
  liveMariadbs.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig); // default action now that our handler is gone
  });
}

function parseReady(text) {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(https?)=(.+):(\d+)\s*$/.exec(line.trim());
    if (m) out[m[1]] = { host: m[2], port: Number(m[3]) };
  }
  return out;
}

/**
 * Start `onetripd serve` on a fresh database.
 * opts: {prefix='t', overrides={}, seed (array of extra args for `seed`, or true), env,
 *        readyTimeoutMs=60000, seedTimeoutMs=120000, seedStdio (cli's stdio, for progress)}
 * Returns {httpUrl, httpsUrl, httpPort, httpsPort, configPath, db, dir, proc,
 *          log(), stop(signal='SIGTERM', timeoutMs=60000), restart(), cli(args, opts),
 *          sql(query), sqlExec(query)}.
 */
export async function startServer(opts = {}) {
  const { prefix = 't', overrides = {}, seed, env: extraEnv, readyTimeoutMs = 60000 } = opts;
  const { seedTimeoutMs = 120000, seedStdio } = opts;
  const root = env.testRoot;
  fs.mkdirSync(root, { recursive: true });
  const cleanPrefix = String(prefix).replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40);
  const dir = fs.mkdtempSync(path.join(root, `srv-${cleanPrefix}-`));
  const db = createDatabase(prefix);
  const configPath = writeConfig(dir, db, overrides);

  const mig = cli(configPath, ['migrate'], { env: extraEnv });
  if (mig.code !== 0) {
    throw new Error(`onetripd migrate failed (code ${mig.code}, signal ${mig.signal}):\n${tail(mig.stderr || mig.stdout)}`);
  }
  if (seed) {
    const seedArgs = Array.isArray(seed) ? seed : [];
    const s = cli(configPath, ['seed', ...seedArgs], { env: extraEnv, timeoutMs: seedTimeoutMs, stdio: seedStdio });
    if (s.code !== 0) {
      throw new Error(`onetripd seed failed (code ${s.code}, signal ${s.signal}):\n${tail(s.stderr || s.stdout)}`);
    }
  }

  const readyFile = path.join(dir, 'ready');
  const logFile = path.join(dir, 'server.log');
  const server = {
    configPath, db, dir, proc: null,
    httpUrl: null, httpsUrl: null, httpPort: null, httpsPort: null,
    _chunks: [],
    log() { return this._chunks.join(''); },
    cli(args, o) { return cli(configPath, args, { ...o, env: { ...extraEnv, ...(o?.env || {}) } }); },
    cliAsync(args, o) { return cliAsync(configPath, args, { ...o, env: { ...extraEnv, ...(o?.env || {}) } }); },
    /** Runs a job now (`onetripd job run <name>`), without blocking; its stdout, or throws. */
    async runJob(name) {
      const r = await this.cliAsync(['job', 'run', name]);
      if (r.code !== 0) throw new Error(`job ${name} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    sql(query) { return sql(db.name, query); },
    sqlExec(query) { return sqlExec(db.name, query); },
  };

  async function launch() {
    fs.rmSync(readyFile, { force: true });
    const logStream = fs.createWriteStream(logFile, { flags: 'a' });
    const proc = spawn(env.onetripd, ['serve', '--config', configPath], {
      env: childEnv(extraEnv), stdio: ['ignore', 'pipe', 'pipe'],
    });
    liveProcs.add(proc);
    server.proc = proc;
    const exited = new Promise((resolve) => {
      proc.on('close', (code, signal) => {
        liveProcs.delete(proc);
        logStream.end();
        resolve({ code, signal });
      });
    });
    proc.exitInfo = null;
    exited.then((info) => { proc.exitInfo = info; });
    proc.exited = exited;
    let spawnError = null;
    proc.on('error', (e) => { spawnError = e; });
    for (const stream of [proc.stdout, proc.stderr]) {
      stream.setEncoding('utf8');
      stream.on('data', (d) => { server._chunks.push(d); logStream.write(d); });
    }

    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (spawnError) throw new Error(`cannot start ${env.onetripd}: ${spawnError.message}`);
      let text = null;
      try { text = fs.readFileSync(readyFile, 'utf8'); } catch { /* not yet */ }
      if (text !== null) {
        const r = parseReady(text);
        server.httpPort = r.http?.port ?? null;
        server.httpsPort = r.https?.port ?? null;
        server.httpUrl = r.http ? `http://${r.http.host}:${r.http.port}` : null;
        server.httpsUrl = r.https ? `https://${r.https.host}:${r.https.port}` : null;
        apiCheckOrigin(server.httpUrl);
        apiCheckOrigin(server.httpsUrl);
        return;
      }
      if (proc.exitInfo) {
        throw new Error(`onetripd serve exited before it was ready (code ${proc.exitInfo.code}, ` +
          `signal ${proc.exitInfo.signal}); log:\n${tail(server.log())}`);
      }
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        await exited;
        throw new Error(`onetripd serve did not write ${readyFile} within ${readyTimeoutMs} ms; log:\n${tail(server.log())}`);
      }
      await sleep(25);
    }
  }

  /** Send signal; resolve {code, signal}. After timeoutMs: SIGKILL, then throw. */
  server.stop = async function stop(signal = 'SIGTERM', timeoutMs = 60000) {
    const proc = server.proc;
    if (!proc) return { code: null, signal: null };
    if (proc.exitInfo) return proc.exitInfo;
    try { proc.kill(signal); } catch { /* exited meanwhile */ }
    let timer;
    const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const r = await Promise.race([proc.exited, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      proc.kill('SIGKILL');
      await proc.exited;
      throw new Error(`onetripd did not exit within ${timeoutMs} ms of ${signal}; log:\n${tail(server.log())}`);
    }
    // A graceful stop must exit 0: under the sanitizer build a leak or an
    // undefined-behaviour report turns into a non-zero exit, failing the test.
    if ((signal === 'SIGTERM' || signal === 'SIGINT') && r.code !== 0) {
      throw new Error(`onetripd exited with code ${r.code} (signal ${r.signal}) after ${signal}; log:\n${tail(server.log())}`);
    }
    return r;
  };

  /** Stop (SIGTERM) if running, then serve again with the same config and database. */
  server.restart = async function restart() {
    await server.stop();
    await launch();
    return server;
  };

  try {
    await launch();
  } catch (e) {
    if (server.proc && !server.proc.exitInfo) {
      server.proc.kill('SIGKILL');
      await server.proc.exited;
    }
    throw e;
  }
  return server;
}

// ---------------------------------------------------------------------------------------
// HTTP(S) client: one new connection per request

function readMaybe(x) {
  if (x === undefined || x === null) return undefined;
  if (Buffer.isBuffer(x) || x instanceof Uint8Array) return x;
  return fs.readFileSync(x);
}

/**
 * request(url, {method='GET', headers={}, body, json, cert, key, ca, timeoutMs=60000,
 *               rejectUnauthorized=true, servername})
 *   -> Promise<{status, headers, text, json, body}>
 * json: sent as the body with content-type application/json. For https, ca defaults to
 * ONETRIP_TLS_DIR/ca.crt; cert/key/ca are file paths or buffers. The response's json is
 * parsed when its content-type contains "json" (else null; jsonError holds a parse error).
 * Resolves for every HTTP status; rejects on network/TLS errors (err.code is kept).
 */
export function request(url, opts = {}) {
  const {
    method = 'GET', headers = {}, json, cert, key, ca, timeoutMs = 60000,
    rejectUnauthorized = true, servername, localAddress,
  } = opts;
  let { body } = opts;
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const hdrs = { ...headers };
  const has = (name) => Object.keys(hdrs).some((h) => h.toLowerCase() === name);
  if (json !== undefined) {
    body = JSON.stringify(json);
    if (!has('content-type')) hdrs['content-type'] = 'application/json';
  }
  if (body !== undefined && body !== null && !has('content-length') && !has('transfer-encoding')) {
    hdrs['content-length'] = Buffer.byteLength(body);
  }
  const options = { method, headers: hdrs, agent: false };
  // Another loopback source address (127.0.0.2, ...): on Linux all of 127/8 is local, so the
  // server sees a different peer (per-address limits) without trusting any header.
  if (localAddress) options.localAddress = localAddress;
  if (isHttps) {
    options.ca = readMaybe(ca) ?? fs.readFileSync(tlsPaths.ca);
    if (cert !== undefined) options.cert = readMaybe(cert);
    if (key !== undefined) options.key = readMaybe(key);
    options.rejectUnauthorized = rejectUnauthorized;
    if (servername) options.servername = servername;
  }
  const lib = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const e = new Error(`${method} ${url} failed: ${err.code || 'ERROR'} ${err.message}`);
      e.code = err.code;
      e.cause = err;
      reject(e);
    };
    const req = lib.request(u, options, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let parsed = null;
        let jsonError = null;
        if (/json/i.test(res.headers['content-type'] || '')) {
          try { parsed = JSON.parse(text); } catch (e) { jsonError = e; }
        }
        apiCheckResponse({ method, url, status: res.statusCode, headers: res.headers, text, json: parsed });
        resolve({ status: res.statusCode, headers: res.headers, text, json: parsed, jsonError, body: buf });
      });
    });
    const timer = setTimeout(() => {
      const e = new Error(`no complete response within ${timeoutMs} ms`);
      e.code = 'ETIMEDOUT';
      req.destroy(e);
      fail(e);
    }, timeoutMs);
    req.on('error', fail);
    if (body !== undefined && body !== null) req.write(body);
    req.end();
  });
}

// ---------------------------------------------------------------------------------------
// private MariaDB instances (ops/lib/mariadb.sh)

function runMariadbLib(script, dir) {
  return execFileSync('bash', ['-c', `set -euo pipefail; source "$1/ops/lib/mariadb.sh"; ${script}`,
    'harness', env.repo, path.resolve(dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Start (or reuse) a MariaDB in dir; return its socket path. Stopped on exit if left running. */
export function startMariadb(dir) {
  try {
    const sock = runMariadbLib('mdb_start "$2" >&2; mdb_sock "$2"', dir).trim();
    liveMariadbs.add(path.resolve(dir));
    return sock;
  } catch (e) {
    throw new Error(`mdb_start ${dir} failed:\n${e.stderr || e.message}`);
  }
}

export function stopMariadb(dir) {
  try {
    runMariadbLib('mdb_stop "$2" >&2', dir);
    liveMariadbs.delete(path.resolve(dir));
  } catch (e) {
    throw new Error(`mdb_stop ${dir} failed:\n${e.stderr || e.message}`);
  }
}

function runMariadbLibAsync(script, dir) {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', `set -euo pipefail; source "$1/ops/lib/mariadb.sh"; ${script}`,
      'harness', env.repo, path.resolve(dir)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(Object.assign(new Error(`exit ${code ?? signal}`), { stderr: err }));
    });
  });
}

/** startMariadb without blocking the event loop: requests in flight keep going meanwhile. */
export async function startMariadbAsync(dir) {
  liveMariadbs.add(path.resolve(dir)); // stopped on exit even if this is interrupted
  try {
    return (await runMariadbLibAsync('mdb_start "$2" >&2; mdb_sock "$2"', dir)).trim();
  } catch (e) {
    throw new Error(`mdb_start ${dir} failed:\n${e.stderr || e.message}`);
  }
}

/** stopMariadb without blocking the event loop. */
export async function stopMariadbAsync(dir) {
  try {
    await runMariadbLibAsync('mdb_stop "$2" >&2', dir);
    liveMariadbs.delete(path.resolve(dir));
  } catch (e) {
    throw new Error(`mdb_stop ${dir} failed:\n${e.stderr || e.message}`);
  }
}
