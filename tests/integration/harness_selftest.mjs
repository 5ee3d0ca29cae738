// Self-test of tests/integration/lib/harness.mjs. Not part of CTest (not named *.test.mjs).
//
//   node tests/integration/harness_selftest.mjs
//
// Without ONETRIP_TEST_DB_SOCKET / ONETRIP_TLS_DIR it starts its own MariaDB and TLS material
// in a temporary directory (removed afterwards). Without ONETRIPD it uses a fake onetripd
// (this file, run with --fake-onetripd) that implements just enough of the contract:
// migrate (database, user, grants), seed, and serve (HTTP + HTTPS, ready file, SIGTERM).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const REPO = path.resolve(path.dirname(SELF), '../..');

if (process.argv[2] === '--fake-onetripd') {
  await fakeOnetripd(process.argv.slice(3));
} else {
  await selfTest();
}

// ---------------------------------------------------------------------------------------

function parseIni(text) {
  const conf = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^\[(\w+)\]$/.exec(line);
    if (m) { section = m[1]; conf[section] ??= {}; continue; }
    const eq = line.indexOf('=');
    conf[section][line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return conf;
}

async function fakeOnetripd(argv) {
  const cmd = argv[0];
  if (!['migrate', 'seed', 'serve'].includes(cmd)) { console.error(`fake: unknown command ${cmd}`); process.exit(2); }
  const cfgPath = argv[argv.indexOf('--config') + 1];
  const c = parseIni(fs.readFileSync(cfgPath, 'utf8'));
  const root = (q, db) => execFileSync('mariadb', ['--no-defaults', '-S', c.db.socket, '-uroot',
    ...(db ? ['-D', db] : []), '-e', q], { encoding: 'utf8' });
  if (cmd === 'migrate') {
    if (process.env.FAKE_MIGRATE_FAIL) { console.error('fake: migration 0003 failed: boom'); process.exit(3); }
    root(`CREATE DATABASE IF NOT EXISTS \`${c.db.name}\`;
          CREATE USER IF NOT EXISTS '${c.db.user}'@'localhost' IDENTIFIED BY '${c.db.password}';
          GRANT ALL ON \`${c.db.name}\`.* TO '${c.db.user}'@'localhost';
          CREATE TABLE IF NOT EXISTS \`${c.db.name}\`.people (id INT PRIMARY KEY, name VARCHAR(40));`);
    console.log('fake: migrated');
    process.exit(0);
  }
  if (cmd === 'seed') {
    const n = Number(argv[argv.indexOf('--people') + 1] || 10);
    const values = Array.from({ length: n }, (_, i) => `(${i + 1}, 'p${i + 1}')`).join(',');
    root(`INSERT IGNORE INTO people VALUES ${values}`, c.db.name);
    process.exit(0);
  }
  if (process.env.FAKE_DIE_EARLY) { console.error('fake: cannot bind'); process.exit(1); }

  const handler = (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const sock = req.socket;
      const out = {
        method: req.method, url: req.url, headers: req.headers, body,
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('ONETRIP_'))),
      };
      if (sock.encrypted) {
        const peer = sock.getPeerCertificate();
        out.authorized = sock.authorized;
        out.peerCN = peer?.subject?.CN ?? null;
        out.fingerprint = peer?.fingerprint256 ? peer.fingerprint256.replace(/:/g, '').toLowerCase() : null;
      }
      if (req.url === '/text') { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('nope'); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    });
  };
  const listen = (srv, addr) => new Promise((resolve) => {
    const i = addr.lastIndexOf(':');
    srv.listen(Number(addr.slice(i + 1)), addr.slice(0, i), () => resolve(srv.address().port));
  });
  const servers = [];
  const lines = [];
  if (c.http?.listen) {
    const s = http.createServer(handler);
    servers.push(s);
    lines.push(`http=127.0.0.1:${await listen(s, c.http.listen)}`);
  }
  if (c.https?.listen) {
    const s = https.createServer({
      cert: fs.readFileSync(c.https.cert), key: fs.readFileSync(c.https.key),
      ca: fs.readFileSync(c.https.client_ca), requestCert: true, rejectUnauthorized: false,
    }, handler);
    servers.push(s);
    lines.push(`https=127.0.0.1:${await listen(s, c.https.listen)}`);
  }
  const shutdown = () => {
    if (process.env.FAKE_IGNORE_TERM) { console.log('fake: ignoring SIGTERM'); return; }
    console.log('fake: graceful stop');
    for (const s of servers) { s.close(); s.closeAllConnections?.(); }
    setTimeout(() => process.exit(0), 10).unref();
  };
  // Like onetripd: signal handling is in place before the ready file says we are up.
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  const rf = c.server.ready_file;
  fs.writeFileSync(`${rf}.tmp`, `${lines.join('\n')}\n`);
  fs.renameSync(`${rf}.tmp`, rf);
  console.log(`fake: serving ${lines.join(' ')}`);
}

// ---------------------------------------------------------------------------------------

async function selfTest() {
  const { test, after } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;

  let ownRoot = null;
  let ownDb = null;
  if (!process.env.ONETRIP_TEST_ROOT) {
    ownRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'onetrip-selftest.'));
    process.env.ONETRIP_TEST_ROOT = ownRoot;
  }
  const H = await import('./lib/harness.mjs');
  if (!process.env.ONETRIP_TEST_DB_SOCKET) {
    ownDb = path.join(process.env.ONETRIP_TEST_ROOT, 'mariadb');
    process.env.ONETRIP_TEST_DB_SOCKET = H.startMariadb(ownDb);
  }
  if (!process.env.ONETRIP_TLS_DIR) {
    const tls = path.join(process.env.ONETRIP_TEST_ROOT, 'tls');
    execFileSync('bash', ['-c', 'source "$1/ops/lib/tls.sh"; tls_generate "$2"', 'x', REPO, tls],
      { stdio: ['ignore', 'ignore', 'inherit'] });
    process.env.ONETRIP_TLS_DIR = tls;
  }
  if (!process.env.ONETRIPD) {
    const fake = path.join(process.env.ONETRIP_TEST_ROOT, 'fake-onetripd');
    fs.writeFileSync(fake, `#!/bin/sh\nexec "${process.execPath}" "${SELF}" --fake-onetripd "$@"\n`, { mode: 0o755 });
    process.env.ONETRIPD = fake;
  }
  // A config override in the caller's environment must not reach servers under test.
  process.env.ONETRIP_HTTP_LISTEN = '127.0.0.1:1';

  after(() => {
    if (ownDb) H.stopMariadb(ownDb);
    if (ownRoot) fs.rmSync(ownRoot, { recursive: true, force: true });
  });

  test('randomHex and sleep', async () => {
    assert.match(H.randomHex(32), /^[0-9a-f]{64}$/);
    const t0 = Date.now();
    await H.sleep(30);
    assert.ok(Date.now() - t0 >= 25);
  });

  test('sql returns rows of strings with NULL as null; errors carry the server message', () => {
    assert.deepEqual(H.sql(null, 'SELECT 1, NULL, "a b"'), [['1', null, 'a b']]);
    assert.deepEqual(H.sql(null, 'SELECT 1 FROM DUAL WHERE 0'), []);
    assert.deepEqual(H.sql(null, 'SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3'), [['1'], ['2'], ['3']]);
    assert.equal(H.sqlValue(null, 'SELECT 40 + 2'), '42');
    assert.throws(() => H.sql(null, 'SELEC 1'), /SQL failed: ERROR 1064/);
  });

  test('createDatabase picks valid unique names; sqlExec/sql/dropDatabase work on it', () => {
    const a = H.createDatabase('Some Prefix-with.Odd/chars');
    const b = H.createDatabase('x'.repeat(100));
    assert.match(a.name, /^it_some_prefix_with_odd_chars_[0-9a-f]{8}$/);
    assert.ok(b.name.length <= 64 && /^[a-z0-9_]+$/.test(b.name), b.name);
    assert.match(a.user, /^u_[0-9a-f]{8}$/);
    assert.match(a.password, /^[0-9a-f]{32}$/);
    assert.notEqual(a.name, H.createDatabase('Some Prefix-with.Odd/chars').name);
    H.sqlExec(null, `CREATE DATABASE ${a.name}`);
    H.sqlExec(a.name, 'CREATE TABLE t (id INT, v TEXT); INSERT INTO t VALUES (1, "x"), (2, NULL)');
    assert.deepEqual(H.sql(a.name, 'SELECT id, v FROM t ORDER BY id'), [['1', 'x'], ['2', null]]);
    H.dropDatabase(a.name);
    assert.deepEqual(H.sql(null, `SHOW DATABASES LIKE '${a.name}'`), []);
    assert.throws(() => H.dropDatabase('x; DROP DATABASE mysql'), /refusing/);
  });

  test('writeConfig writes defaults, applies overrides, mode 600', () => {
    const dir = path.join(process.env.ONETRIP_TEST_ROOT, 'cfg');
    const db = H.createDatabase('cfg');
    const file = H.writeConfig(dir, db, { 'http.max_body': 1024, 'https.listen': '', 'log.access': null, 'payments.x': 'y' });
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const c = parseIni(fs.readFileSync(file, 'utf8'));
    assert.equal(c.http.listen, '127.0.0.1:0');
    assert.equal(c.http.max_body, '1024');
    assert.equal(c.https.listen, '');
    assert.equal(c.https.client_ca, H.tlsPaths.ca);
    assert.equal(c.server.ready_file, path.join(dir, 'ready'));
    assert.equal(c.db.name, db.name);
    assert.equal(c.db.socket, process.env.ONETRIP_TEST_DB_SOCKET);
    assert.equal(c.db.admin_user, 'root');
    assert.equal(c.workers.count, '4');
    assert.match(c.pii.keys, /^1:[0-9a-f]{64}$/);
    assert.match(c.pii.lookup_key, /^[0-9a-f]{64}$/);
    assert.match(c.auth.operator_token_key, /^[0-9a-f]{64}$/);
    assert.match(c.audit.chain_key, /^[0-9a-f]{64}$/);
    assert.match(c.audit.checkpoint_key, /^[0-9a-f]{64}$/);
    assert.equal(c.audit.checkpoint_dir, path.join(dir, 'audit'));
    assert.equal(c.payments.x, 'y');
    assert.throws(() => H.writeConfig(dir, db, { nosection: 1 }), /section\.key/);
  });

  test('tlsPaths and partnerFingerprint', () => {
    for (const n of H.PARTNERS) {
      assert.ok(fs.existsSync(H.tlsPaths.partner(n).cert), n);
      assert.equal(H.partnerFingerprint(n), H.certFingerprint(H.tlsPaths.partners[n].cert));
    }
    assert.ok(fs.existsSync(H.tlsPaths.rogue.key));
    assert.throws(() => H.partnerFingerprint('nobody'), /no fingerprint/);
  });

  test('request over plain HTTP: statuses, json, bodies, errors', async () => {
    const srv = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        if (req.url === '/slow') return; // never answers
        if (req.url === '/text') { res.writeHead(418, { 'content-type': 'text/plain' }); res.end('teapot'); return; }
        if (req.url === '/badjson') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{'); return; }
        res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'application/json; charset=utf-8', 'x-conn': req.headers.connection ?? '' });
        res.end(JSON.stringify({ method: req.method, ct: req.headers['content-type'] ?? null, len: req.headers['content-length'] ?? null, body, h: req.headers['x-test'] ?? null }));
      });
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${srv.address().port}`;
    try {
      let r = await H.request(`${base}/x`, { headers: { 'X-Test': 'v' } });
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { method: 'GET', ct: null, len: null, body: '', h: 'v' });
      r = await H.request(`${base}/missing`);
      assert.equal(r.status, 404);
      r = await H.request(`${base}/x`, { method: 'POST', json: { a: 'ü' } });
      assert.equal(r.json.ct, 'application/json');
      assert.equal(r.json.body, '{"a":"ü"}');
      assert.equal(r.json.len, String(Buffer.byteLength('{"a":"ü"}')));
      r = await H.request(`${base}/x`, { method: 'PUT', body: 'raw', headers: { 'content-type': 'text/plain' } });
      assert.equal(r.json.body, 'raw');
      assert.equal(r.json.ct, 'text/plain');
      r = await H.request(`${base}/text`);
      assert.equal(r.status, 418);
      assert.equal(r.text, 'teapot');
      assert.equal(r.json, null);
      r = await H.request(`${base}/badjson`);
      assert.equal(r.json, null);
      assert.ok(r.jsonError);
      await assert.rejects(H.request(`${base}/slow`, { timeoutMs: 200 }), (e) => e.code === 'ETIMEDOUT');
    } finally {
      srv.closeAllConnections?.();
      await new Promise((r) => srv.close(r));
    }
    await assert.rejects(H.request(base), (e) => e.code === 'ECONNREFUSED' && /ECONNREFUSED/.test(e.message));
  });

  test('request over HTTPS with client certificates', async () => {
    const srv = https.createServer({
      cert: fs.readFileSync(H.tlsPaths.serverCert), key: fs.readFileSync(H.tlsPaths.serverKey),
      ca: fs.readFileSync(H.tlsPaths.ca), requestCert: true, rejectUnauthorized: false,
    }, (req, res) => {
      const peer = req.socket.getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ authorized: req.socket.authorized, cn: peer?.subject?.CN ?? null,
        fp: peer?.fingerprint256?.replace(/:/g, '').toLowerCase() ?? null }));
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${srv.address().port}/`;
    try {
      const p = H.tlsPaths.partner('court');
      let r = await H.request(url, { cert: p.cert, key: p.key });
      assert.deepEqual(r.json, { authorized: true, cn: 'onetrip-partner-court', fp: H.partnerFingerprint('court') });
      r = await H.request(url, { cert: fs.readFileSync(p.cert), key: fs.readFileSync(p.key) });
      assert.equal(r.json.authorized, true);
      r = await H.request(url, { cert: H.tlsPaths.rogue.cert, key: H.tlsPaths.rogue.key });
      assert.equal(r.json.authorized, false);
      assert.equal(r.json.cn, 'onetrip-partner-post');
      r = await H.request(url);
      assert.equal(r.json.authorized, false);
      // the client checks the server against the dev CA: the rogue CA must not do
      await assert.rejects(H.request(url, { ca: H.tlsPaths.rogueCa }), (e) => /UNABLE_TO_VERIFY|SELF_SIGNED|unable to verify/i.test(`${e.code} ${e.message}`));
      r = await H.request(url.replace('127.0.0.1', 'localhost'));
      assert.equal(r.status, 200);
    } finally {
      srv.closeAllConnections?.();
      await new Promise((r) => srv.close(r));
    }
  });

  test('startServer: migrate, seed, ready file, requests, env, restart, stop', async () => {
    const s = await H.startServer({ prefix: 'selftest', seed: ['--people', '5'], env: { ONETRIP_LOG_LEVEL: 'debug' } });
    try {
      assert.match(s.httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(s.httpsUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(s.httpPort > 0 && s.httpsPort > 0);
      assert.ok(s.dir.startsWith(process.env.ONETRIP_TEST_ROOT));
      assert.deepEqual(H.sql(s.db.name, 'SELECT COUNT(*) FROM people'), [['5']]);
      assert.deepEqual(s.sql('SELECT name FROM people WHERE id = 5'), [['p5']]);
      assert.equal(H.sql(null, `SELECT COUNT(*) FROM mysql.user WHERE User = '${s.db.user}'`)[0][0], '1');
      let r = await H.request(`${s.httpUrl}/x`);
      assert.equal(r.status, 200);
      assert.equal(r.json.env.ONETRIP_HTTP_LISTEN, undefined, 'config override leaked from the caller');
      assert.equal(r.json.env.ONETRIP_LOG_LEVEL, 'debug');
      assert.equal(r.json.env.ONETRIP_TLS_DIR, process.env.ONETRIP_TLS_DIR);
      const p = H.tlsPaths.partner('post');
      r = await H.request(`${s.httpsUrl}/y`, { cert: p.cert, key: p.key });
      assert.equal(r.json.authorized, true);
      assert.match(s.log(), /fake: serving http=/);
      const oldPort = s.httpPort;
      const oldPid = s.proc.pid;
      await s.restart();
      assert.notEqual(s.proc.pid, oldPid);
      assert.ok(s.httpPort > 0);
      r = await H.request(`${s.httpUrl}/x`);
      assert.equal(r.status, 200);
      if (s.httpPort !== oldPort) {
        await assert.rejects(H.request(`http://127.0.0.1:${oldPort}/`), (e) => e.code === 'ECONNREFUSED');
      }
      assert.deepEqual(await s.stop(), { code: 0, signal: null });
      assert.deepEqual(await s.stop(), { code: 0, signal: null }, 'stop is idempotent');
      assert.match(fs.readFileSync(path.join(s.dir, 'server.log'), 'utf8'), /graceful stop[\s\S]*fake: serving[\s\S]*graceful stop/);
      assert.equal(s.cli(['migrate']).code, 0);
    } finally {
      await s.stop('SIGKILL').catch(() => {});
      H.dropDatabase(s.db.name);
    }
    assert.deepEqual(H.sql(null, `SELECT COUNT(*) FROM mysql.user WHERE User = '${s.db.user}'`), [['0']]);
  });

  test('startServer failures: migrate error, early exit; stop timeout kills', async () => {
    await assert.rejects(H.startServer({ prefix: 'fail', env: { FAKE_MIGRATE_FAIL: '1' } }), /migrate failed \(code 3[\s\S]*migration 0003 failed: boom/);
    await assert.rejects(H.startServer({ prefix: 'early', env: { FAKE_DIE_EARLY: '1' } }), /exited before it was ready[\s\S]*cannot bind/);
    const s = await H.startServer({ prefix: 'stubborn', env: { FAKE_IGNORE_TERM: '1' }, overrides: { 'https.listen': '' } });
    assert.equal(s.httpsUrl, null);
    assert.equal(s.httpsPort, null);
    const pid = s.proc.pid;
    const stopRes = await s.stop('SIGTERM', 500).then((v) => JSON.stringify(v), (e) => e);
    assert.match(String(stopRes), /did not exit within 500 ms/, `${stopRes}\n${s.log()}`);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
    H.dropDatabase(s.db.name);
  });

  test('cli passes --config after the subcommand and reports exit codes', () => {
    const r = H.cli(null, ['bogus']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command bogus/);
  });

  test('startMariadb / stopMariadb: a second private server', () => {
    const dir = path.join(process.env.ONETRIP_TEST_ROOT, 'db2');
    const sock = H.startMariadb(dir);
    assert.equal(sock, path.join(dir, 'mysqld.sock'));
    assert.equal(H.startMariadb(dir), sock, 'reuses the running instance');
    assert.deepEqual(H.sql(null, 'SELECT 7', { socket: sock }), [['7']]);
    H.stopMariadb(dir);
    assert.ok(!fs.existsSync(path.join(dir, 'mysqld.pid')));
  });
}
