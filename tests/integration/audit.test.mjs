// The keyed audit chain and its signed checkpoints (server/audit.c, server/audit_checkpoint.c),
// attacked the way a database administrator could: as root over SQL, with the append-only
// triggers dropped. Each attack must make `onetripd audit verify` fail.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import {
  startServer, request, dropDatabase, createDatabase, writeConfig, cli, env, waitFor, randomHex,
} from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';

const ZERO = '0'.repeat(64);
const COLS = 'seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash';
const TRIGGERS = [
  "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'",
  "CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'",
];

// A record's canonical content in SQL, as server/audit.c builds it (byte length ':' bytes, NULL
// as '~', joined by ','): what an administrator needs to re-hash rows with SHA2().
const field = (c) => `IF(${c} IS NULL, '~', CONCAT(LENGTH(${c}), ':', ${c}))`;
const CANON14 = `CONCAT_WS(',', ${['seq', "DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f')", 'caller_kind', 'caller_id',
  'client_id', 'outlet_id', 'roles', 'action', 'target_type', 'target_id', 'outcome', 'peer', 'request_id',
  'detail'].map(field).join(', ')})`;
// Records of the shards (prev_seq set) also hash their shard and prev_seq; older records 14 fields.
const CANON = `IF(prev_seq IS NULL, ${CANON14}, CONCAT(${CANON14}, ',', ${field('shard')}, ',', ${field('prev_seq')}))`;
// Re-hash every record, shard by shard in order, as plain SHA-256 chains, and move each shard's
// head to its end.
const REHASH_ALL = `SET @p = REPEAT('0', 64), @s = -1;
UPDATE audit_log SET prev_hash = IF(shard = @s, @p, CONCAT(LEFT(@s := shard, 0), REPEAT('0', 64))),
  hash = (@p := SHA2(CONCAT(prev_hash, CHAR(10), ${CANON}), 256)) ORDER BY shard, seq;
UPDATE audit_head h SET seq = COALESCE((SELECT MAX(l.seq) FROM audit_log l WHERE l.shard = h.shard), 0),
  records = (SELECT COUNT(*) FROM audit_log l WHERE l.shard = h.shard),
  hash = COALESCE((SELECT l.hash FROM audit_log l WHERE l.shard = h.shard ORDER BY l.seq DESC LIMIT 1), REPEAT('0', 64));`;

function readIni(file) {
  const out = {};
  let section = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const s = line.match(/^\[(.+)\]$/);
    if (s) { section = s[1]; continue; }
    const kv = line.match(/^([^#=][^=]*?)\s*=\s*(.*)$/);
    if (kv) out[`${section}.${kv[1]}`] = kv[2];
  }
  return out;
}

// The public key (PEM) of an Ed25519 seed, with node's crypto only.
function publicPemOfSeed(seedHex) {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seedHex, 'hex')]);
  const priv = crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return crypto.createPublicKey(priv).export({ type: 'spki', format: 'pem' });
}

function keyIdOfPem(pem) {
  const raw = crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' }).subarray(-32);
  return crypto.createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

let server;
let cpFile;
let keys;
after(async () => {
  if (!server) return;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  dropDatabase(server.db.name);
});

describe('keyed audit chain and signed checkpoints', () => {
  const verify = (...args) => server.cli(['audit', 'verify', ...args]);
  const out = (r) => r.stdout + r.stderr;
  const maxSeq = () => Number(server.sql('SELECT MAX(seq) FROM audit_log')[0][0]);
  let n;

  function backup() {
    server.sqlExec('DROP TABLE IF EXISTS audit_backup, audit_head_backup; ' +
      'CREATE TABLE audit_backup AS SELECT * FROM audit_log; CREATE TABLE audit_head_backup AS SELECT * FROM audit_head');
  }
  function restore() {
    server.sqlExec('DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM audit_backup; ' +
      'DELETE FROM audit_head; INSERT INTO audit_head SELECT * FROM audit_head_backup');
    const r = verify();
    assert.equal(r.code, 0, `restored chain must verify: ${out(r)}`);
  }
  // attack(sql): with the triggers dropped as root, run sql; verify must fail with re.
  function attack(sql, re, args = []) {
    server.sqlExec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete');
    try {
      server.sqlExec(sql);
      const r = verify(...args);
      assert.equal(r.code, 1, `verify passed after: ${sql}\n${out(r)}`);
      assert.match(out(r), re);
      return r;
    } finally {
      restore();
      server.sqlExec(TRIGGERS.join('; '));
    }
  }

  before(async () => {
    server = await startServer({ prefix: 'audit' });
    keys = readIni(server.configPath);
    cpFile = path.join(keys['audit.checkpoint_dir'], 'audit-checkpoints.jsonl');
    // the scheduler publishes a first checkpoint at start-up
    await waitFor(async () => (await request(`${server.httpsUrl}/v1/audit/checkpoint`)).status === 200,
      { timeoutMs: 20000, what: 'first checkpoint' });
    for (let i = 0; i < 12; i++) {
      const r = server.cli(['client', 'add', `audit-client-${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    // a checkpoint of the current head (the server's own job is not due again for 5 minutes)
    const j = server.cli(['job', 'run', 'audit_checkpoint']);
    assert.equal(j.code, 0, out(j));
    n = maxSeq();
    assert.ok(n >= 13);
    backup();
  });
  after(() => { if (server) server.sqlExec('DROP TABLE IF EXISTS audit_backup, audit_head_backup'); });

  test('the chain is keyed from its first record, with keys the database does not hold', () => {
    const r = verify();
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /audit chain intact: \d+ records, all keyed/);
    assert.match(r.stdout, /matches [2-9]\d* checkpoints of .*audit-checkpoints\.jsonl/);
    const [[action, detail]] = server.sql('SELECT action, detail FROM audit_log WHERE seq = 1');
    assert.equal(action, 'audit.chain_keyed');
    assert.deepEqual(JSON.parse(detail), { legacy_count: 0, legacy_head: ZERO, legacy_intact: true });
    // no column of any table holds either key
    const dump = execFileSync('mariadb-dump', ['--no-defaults', '-S', env.dbSocket, '-uroot', '--skip-comments', server.db.name],
      { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.ok(dump.includes('audit.chain_keyed'));
    for (const k of ['audit.chain_key', 'audit.checkpoint_key']) {
      assert.match(keys[k], /^[0-9a-f]{64}$/);
      assert.ok(!dump.toLowerCase().includes(keys[k]), `${k} found in the database`);
    }
    // a record's hash is not the plain SHA-256 of its content
    const [[plain, stored]] = server.sql(`SELECT SHA2(CONCAT(prev_hash, CHAR(10), ${CANON}), 256), hash FROM audit_log WHERE seq = 2`);
    assert.notEqual(plain, stored);
  });

  test('the endpoint serves a checkpoint that verifies with the published key', async () => {
    const k = await request(`${server.httpsUrl}/v1/audit/checkpoint-key`);
    assert.equal(k.status, 200, k.text);
    assert.equal(k.json.algorithm, 'Ed25519');
    // it is the configured key, and key_id is what the description says
    assert.equal(k.json.public_key_pem, publicPemOfSeed(keys['audit.checkpoint_key']));
    assert.equal(k.json.key_id, keyIdOfPem(k.json.public_key_pem));

    const c = await request(`${server.httpsUrl}/v1/audit/checkpoint`);
    assert.equal(c.status, 200, c.text);
    assert.equal(c.headers['cache-control'], 'no-store'); // a stale copy would hide a rollback
    assert.deepEqual(Object.keys(c.json).sort(), ['algorithm', 'key_id', 'payload', 'signature']);
    assert.equal(c.json.algorithm, 'Ed25519');
    assert.equal(c.json.key_id, k.json.key_id);
    const pub = crypto.createPublicKey(k.json.public_key_pem);
    const sig = Buffer.from(c.json.signature, 'base64url');
    assert.equal(sig.length, 64);
    assert.ok(crypto.verify(null, Buffer.from(c.json.payload, 'utf8'), pub, sig), 'signature verifies');
    assert.ok(!crypto.verify(null, Buffer.from(c.json.payload.replace(/"count":\d+/, '"count":1'), 'utf8'), pub, sig),
      'a changed payload does not verify');
    const p = JSON.parse(c.json.payload);
    assert.equal(p.type, 'onetrip.audit.checkpoint');
    assert.equal(p.version, 1);
    assert.equal(p.key_id, k.json.key_id);
    assert.ok(!Number.isNaN(Date.parse(p.issued_at)));
    // one entry per shard holding records, main (shard 0) always, each its head row
    const heads = server.sql('SELECT shard, records, hash FROM audit_head WHERE shard = 0 OR records > 0 ORDER BY shard');
    assert.deepEqual(p.chains, heads.map(([k, count, head]) => ({ chain: k === '0' ? 'main' : `shard${k}`, count: Number(count), head })));
    assert.equal(p.chains[0].chain, 'main');
    const main = server.sql('SELECT COUNT(*), MAX(seq) FROM audit_log WHERE shard = 0')[0];
    assert.equal(p.chains[0].count, Number(main[0]));
    assert.equal(p.chains[0].head, server.sql(`SELECT hash FROM audit_log WHERE seq = ${main[1]}`)[0][0]);
    // the same checkpoint is the last line of the file outside the database
    const lines = fs.readFileSync(cpFile, 'utf8').trim().split('\n');
    assert.ok(lines.length >= 2);
    assert.deepEqual(JSON.parse(lines.at(-1)), c.json);
  });

  test('an edited record is detected', () => {
    attack("UPDATE audit_log SET outcome = 'denied' WHERE seq = 5", /record 5 was altered \(content does not match its keyed hash\)/);
    // ...also when the attacker re-hashes it with SHA2(): the next record no longer links
    attack(`UPDATE audit_log SET outcome = 'denied', hash = SHA2(CONCAT(prev_hash, CHAR(10), ${CANON}), 256) WHERE seq = 5`,
      /record 5 was altered/);
  });

  test('a deleted record is detected', () => {
    attack('DELETE FROM audit_log WHERE seq = 7', /record 7 is missing/);
  });

  test('reordered records are detected', () => {
    const set = COLS.split(', ').filter((c) => c !== 'seq').map((c) => `a.${c} = b.${c}`).join(', ');
    attack(`UPDATE audit_log a JOIN audit_backup b ON b.seq = IF(a.seq = 3, 4, 3) SET ${set} WHERE a.seq IN (3, 4)`,
      /record 3 does not link/);
    attack('UPDATE audit_log SET seq = -1 WHERE seq = 8; UPDATE audit_log SET seq = 8 WHERE seq = 9; UPDATE audit_log SET seq = 9 WHERE seq = -1',
      /record 8/);
  });

  test('a truncated tail with the head moved back is detected by the checkpoints, and not signed', () => {
    // shard 0's last three records cut, its head moved back to the fourth last
    const main = server.sql('SELECT seq FROM audit_log WHERE shard = 0 ORDER BY seq').map((r) => Number(r[0]));
    const keep = main.at(-4);
    const truncate = `DELETE FROM audit_log WHERE shard = 0 AND seq > ${keep};
      UPDATE audit_head SET seq = ${keep}, records = ${main.length - 3}, hash = (SELECT hash FROM audit_log WHERE seq = ${keep}) WHERE shard = 0`;
    // what remains is a valid keyed chain: without a checkpoint nothing shows the loss
    const empty = path.join(server.dir, 'no-checkpoints.jsonl');
    fs.writeFileSync(empty, '');
    server.sqlExec('DROP TRIGGER IF EXISTS audit_log_no_delete');
    try {
      server.sqlExec(truncate);
      const blind = verify('--checkpoints', empty);
      assert.equal(blind.code, 0, out(blind));
      // the checkpoint job refuses to sign the rolled-back head
      const before = fs.readFileSync(cpFile, 'utf8');
      const j = server.cli(['job', 'run', 'audit_checkpoint']);
      assert.equal(j.code, 1, out(j));
      assert.match(j.stderr, /audit head went back/);
      assert.equal(fs.readFileSync(cpFile, 'utf8'), before);
    } finally {
      restore();
      server.sqlExec(TRIGGERS.join('; '));
    }
    const r = attack(truncate, new RegExp(`the chain of shard 0 ends at record ${keep} \\(${main.length - 3} records\\) but the checkpoint of \\S+ \\(line \\d+\\) saw ${main.length} records`));
    assert.match(out(r), /records removed from the end/);
    attack(truncate, /saw \d+ records/, ['--checkpoints', cpFile]);
  });

  test('re-hashing the whole chain with SHA2() is detected', () => {
    attack(REHASH_ALL, /record 1 was altered \(content does not match its keyed hash\)/);
    // ...also when the seal is renamed so that every record passes as a legacy SHA-256 record:
    // the walk then accepts every record (the SHA2() chain is well formed), and the key and the
    // checkpoints still expose it
    // (records of the shards are always keyed: they are made pre-shard records of shard 0 too)
    const downgrade = `UPDATE audit_log SET action = 'audit.nothing' WHERE seq = 1;
      UPDATE audit_log SET shard = 0, prev_seq = NULL; ${REHASH_ALL}`;
    const empty = path.join(server.dir, 'no-checkpoints.jsonl');
    fs.writeFileSync(empty, '');
    attack(downgrade, /no record is keyed/, ['--checkpoints', empty]);
    attack(downgrade, /record \d+ differs from the checkpoint of \S+ \(line \d+\)/);
  });

  test('a checkpoint file changed, or signed by another key, is refused', () => {
    const lines = fs.readFileSync(cpFile, 'utf8').trim().split('\n');
    const forged = path.join(server.dir, 'forged.jsonl');
    const l = JSON.parse(lines.at(-1));
    l.payload = l.payload.replace(/"count":\d+/, '"count":5');
    fs.writeFileSync(forged, `${lines[0]}\n${JSON.stringify(l)}\n`);
    let r = verify('--checkpoints', forged);
    assert.equal(r.code, 1);
    assert.match(out(r), /forged\.jsonl:2: bad signature/);
    // an auditor holding only the published key verifies the real file; another key refuses it
    const pem = path.join(server.dir, 'published.pem');
    fs.writeFileSync(pem, publicPemOfSeed(keys['audit.checkpoint_key']));
    const other = path.join(server.dir, 'other.pem');
    fs.writeFileSync(other, publicPemOfSeed(randomHex(32)));
    const auditor = { env: { ONETRIP_AUDIT_CHECKPOINT_KEY: '' } };
    r = server.cli(['audit', 'verify', '--checkpoints', cpFile, '--public-key', pem], auditor);
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /matches [2-9]\d* checkpoints/);
    r = server.cli(['audit', 'verify', '--checkpoints', cpFile, '--public-key', other], auditor);
    assert.equal(r.code, 1);
    assert.match(out(r), /:1: signed by key [0-9a-f]{32}, not a key given/);
    r = server.cli(['audit', 'verify', '--checkpoints', cpFile], auditor);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --public-key/);
    r = verify('--checkpoints', path.join(server.dir, 'absent.jsonl'));
    assert.equal(r.code, 1);
    assert.match(out(r), /absent\.jsonl: No such file/);
  });

  // A root session that holds shard 0's head row locked until release() (no timing: it says
  // when it holds the lock).
  async function holdShard(k) {
    const p = spawn('mariadb', ['--no-defaults', '-n', '-S', env.dbSocket, '-uroot', '-N', '-B', '-D', server.db.name],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    const exited = new Promise((resolve) => p.on('exit', resolve));
    p.stdin.write(`START TRANSACTION; SELECT seq FROM audit_head WHERE shard = ${k} FOR UPDATE; SELECT 'locked';\n`);
    await waitFor(() => out.includes('locked'), { timeoutMs: 30000, what: `shard ${k} locked (${out})` });
    return async () => { p.stdin.end('COMMIT;\n'); await exited; };
  }

  test('audited transactions on other shards commit while one shard\'s head is held', async () => {
    const id = await setupIdentity(server, { citizens: 1, hmac: false });
    const headers = await id.operatorHeaders('admin');
    const url = `${server.httpsUrl}/v1/citizens/${id.citizens[0].id}`; // 403 + access.denied record
    const release = await holdShard(0);
    const done = [];
    let pending;
    try {
      // four workers, each writing its own shard (worker i: shard i): at most one request waits
      // for shard 0, the others commit meanwhile
      pending = Array.from({ length: 4 }, () => request(url, { headers }).then((r) => { done.push(r.status); return r; }));
      await waitFor(() => done.length >= 3, { timeoutMs: 60000, what: 'three audited requests beside the held shard' });
      assert.deepEqual(done.slice(0, 3), [403, 403, 403]);
    } finally {
      await release();
    }
    for (const r of await Promise.all(pending)) assert.ok([403, 503].includes(r.status), r.text);
    const shards = server.sql("SELECT DISTINCT shard FROM audit_log WHERE action = 'access.denied'").map((r) => Number(r[0]));
    assert.ok(shards.some((k) => k !== 0), `denials written in shards ${shards}`);
    const r = verify();
    assert.equal(r.code, 0, out(r));
    assert.match(r.stdout, /all keyed; [2-9] of 16 shards in use/);
  });

  test('tampering across shards is detected, and checkpoints cover every shard\'s head', () => {
    const j = server.cli(['job', 'run', 'audit_checkpoint']);
    assert.equal(j.code, 0, out(j));
    n = maxSeq();
    backup();
    const rows = server.sql('SELECT shard, seq FROM audit_log ORDER BY shard, seq').map(([k, q]) => [Number(k), Number(q)]);
    const other = rows.find(([k]) => k !== 0);
    const [k] = other;
    const mainRec = rows.find(([s, q], i) => s === 0 && q > 1 && rows[i + 1] && rows[i + 1][0] === 0);
    const lastOfK = rows.filter(([s]) => s === k).at(-1)[1];
    // the checkpoint names shard k with its head
    const p = JSON.parse(JSON.parse(fs.readFileSync(cpFile, 'utf8').trim().split('\n').at(-1)).payload);
    const [[records, head]] = server.sql(`SELECT records, hash FROM audit_head WHERE shard = ${k}`);
    assert.deepEqual(p.chains.find((c) => c.chain === `shard${k}`), { chain: `shard${k}`, count: Number(records), head });
    // a record moved into another shard: its own shard's next record names it missing
    attack(`UPDATE audit_log SET shard = ${k} WHERE seq = ${mainRec[1]}`, new RegExp(`record ${mainRec[1]} is missing`));
    // records of two shards swap their contents, seq kept: shard 0 (walked first) lost one
    const set = COLS.split(', ').filter((c) => c !== 'seq').concat(['shard', 'prev_seq']).map((c) => `a.${c} = b.${c}`).join(', ');
    attack(`UPDATE audit_log a JOIN audit_backup b ON b.seq = IF(a.seq = ${mainRec[1]}, ${other[1]}, ${mainRec[1]}) SET ${set} WHERE a.seq IN (${mainRec[1]}, ${other[1]})`,
      new RegExp(`record ${mainRec[1]} is missing \\(record \\d+ of shard 0 links to it\\)`));
    // ... and the same without the shard columns: each record's content no longer matches its number
    const setContent = COLS.split(', ').filter((c) => c !== 'seq').map((c) => `a.${c} = b.${c}`).join(', ');
    attack(`UPDATE audit_log a JOIN audit_backup b ON b.seq = IF(a.seq = ${mainRec[1]}, ${other[1]}, ${mainRec[1]}) SET ${setContent} WHERE a.seq IN (${mainRec[1]}, ${other[1]})`,
      new RegExp(`record ${mainRec[1]} (was altered|does not link)`));
    // records of two shards exchange their numbers (reordered): shard 0's chain lost its record
    attack(`UPDATE audit_log SET seq = -1 WHERE seq = ${mainRec[1]}; UPDATE audit_log SET seq = ${mainRec[1]} WHERE seq = ${other[1]}; UPDATE audit_log SET seq = ${other[1]} WHERE seq = -1`,
      new RegExp(`record ${mainRec[1]} is missing`));
    // shard k's last record deleted: its head says more
    attack(`DELETE FROM audit_log WHERE seq = ${lastOfK}`, new RegExp(`the chain of shard ${k} ends at record`));
    // ... and its head moved back too: only the checkpoint shows it, and the job will not sign
    const cut = `DELETE FROM audit_log WHERE seq = ${lastOfK};
      UPDATE audit_head SET records = records - 1, seq = COALESCE((SELECT MAX(seq) FROM audit_log WHERE shard = ${k}), 0),
        hash = COALESCE((SELECT hash FROM audit_log WHERE shard = ${k} ORDER BY seq DESC LIMIT 1), REPEAT('0', 64)) WHERE shard = ${k}`;
    server.sqlExec('DROP TRIGGER IF EXISTS audit_log_no_delete');
    try {
      server.sqlExec(cut);
      const before = fs.readFileSync(cpFile, 'utf8');
      const jr = server.cli(['job', 'run', 'audit_checkpoint']);
      assert.equal(jr.code, 1, out(jr));
      assert.match(jr.stderr, new RegExp(`audit head went back in shard ${k}`));
      assert.equal(fs.readFileSync(cpFile, 'utf8'), before);
    } finally {
      restore();
      server.sqlExec(TRIGGERS.join('; '));
    }
    attack(cut, new RegExp(`the chain of shard ${k} ends at record \\d+ \\(\\d+ records\\) but the checkpoint of \\S+ \\(line \\d+\\) saw ${records} records`));
  });

  test('the chain still verifies after the attacks were undone', () => {
    assert.equal(maxSeq(), n);
    assert.equal(verify().code, 0);
  });
});

describe('configuration and legacy records', () => {
  test('serve refuses to start without the chain key, the checkpoint key or the checkpoint directory', () => {
    const dir = fs.mkdtempSync(path.join(env.testRoot, 'auditconf-'));
    for (const [key, re] of [['audit.chain_key', /audit\.chain_key: required/], ['audit.checkpoint_key', /audit\.checkpoint_key: required/],
      ['audit.checkpoint_dir', /audit\.checkpoint_dir: required/]]) {
      const r = cli(writeConfig(dir, createDatabase('auditconf'), { [key]: null }), ['serve']);
      assert.equal(r.code, 2, `${key}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    const bad = cli(writeConfig(dir, createDatabase('auditconf'), { 'audit.chain_key': 'abcd' }), ['migrate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /audit\.chain_key/);
  });

  test('records written before the chain was keyed are verified and sealed by migrate', () => {
    const dir = fs.mkdtempSync(path.join(env.testRoot, 'auditlegacy-'));
    const db = createDatabase('auditlegacy');
    const conf = writeConfig(dir, db, {});
    const q = (s) => execFileSync('mariadb', ['--no-defaults', '-S', env.dbSocket, '-uroot', '-N', '-B', '-D', db.name, '-e', s],
      { encoding: 'utf8' });
    try {
      let r = cli(conf, ['migrate']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /audit chain keyed: 0 earlier records verified and sealed/);
      // a database as the previous version left it: three plain SHA-256 records, no seal
      q(`DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log; ${TRIGGERS[1]};
         INSERT INTO audit_log (seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash) VALUES
         (1, '2025-01-01 00:00:01', 'system', 0, 0, 0, 0, 'legacy.one', NULL, NULL, 'ok', '', 'cli', NULL, '', ''),
         (2, '2025-01-01 00:00:02', 'operator', 3, 0, 1, 1, 'legacy.two', 'case', '7', 'ok', '127.0.0.1', 'r2', '{"a":1}', '', ''),
         (3, '2025-01-01 00:00:03', 'citizen', 4, 2, 0, 0, 'legacy.three', 'case', '8', 'denied', '127.0.0.1', 'r3', NULL, '', '');
         DROP TRIGGER audit_log_no_update; ${REHASH_ALL} ${TRIGGERS[0]};
         DO SETVAL(audit_seq, 3);`); // as migration 0004 leaves it: numbers go on after the last record
      r = cli(conf, ['migrate']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /audit chain keyed: 3 earlier records verified and sealed/);
      assert.equal(cli(conf, ['migrate']).stdout.includes('audit chain keyed'), false, 'sealed once');
      const [[action, detail, prev]] = q('SELECT action, detail, prev_hash FROM audit_log WHERE seq = 4').trim().split('\n').map((l) => l.split('\t'));
      assert.equal(action, 'audit.chain_keyed');
      const d = JSON.parse(detail);
      assert.equal(d.legacy_count, 3);
      assert.equal(d.legacy_intact, true);
      assert.equal(d.legacy_head, prev);
      r = cli(conf, ['audit', 'verify']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /intact: 4 records \(3 legacy SHA-256 records sealed by record 4, keyed from there\)/);
      // the sealed legacy records cannot be rewritten either: re-hashed with SHA2(), they no
      // longer lead to the seal
      q(`DROP TRIGGER audit_log_no_update; UPDATE audit_log SET outcome = 'ok' WHERE seq = 3;
         SET @p = REPEAT('0', 64);
         UPDATE audit_log SET prev_hash = @p, hash = (@p := SHA2(CONCAT(@p, CHAR(10), ${CANON}), 256)) WHERE seq <= 3 ORDER BY seq;
         ${TRIGGERS[0]}`);
      r = cli(conf, ['audit', 'verify']);
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stdout, /record 4 does not link to record 3/);
    } finally {
      dropDatabase(db.name);
    }
  });

  test('a broken legacy chain is sealed as found, and verify keeps reporting it', () => {
    const dir = fs.mkdtempSync(path.join(env.testRoot, 'auditbroken-'));
    const db = createDatabase('auditbroken');
    const conf = writeConfig(dir, db, {});
    const q = (s) => execFileSync('mariadb', ['--no-defaults', '-S', env.dbSocket, '-uroot', '-N', '-B', '-D', db.name, '-e', s],
      { encoding: 'utf8' });
    try {
      assert.equal(cli(conf, ['migrate']).code, 0);
      q(`DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log; ${TRIGGERS[1]};
         INSERT INTO audit_log (seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash) VALUES
         (1, '2025-01-01 00:00:01', 'system', 0, 0, 0, 0, 'legacy.one', NULL, NULL, 'ok', '', 'cli', NULL, '', ''),
         (2, '2025-01-01 00:00:02', 'system', 0, 0, 0, 0, 'legacy.two', NULL, NULL, 'ok', '', 'cli', NULL, '', '');
         DROP TRIGGER audit_log_no_update; ${REHASH_ALL} UPDATE audit_log SET outcome = 'edited' WHERE seq = 2; ${TRIGGERS[0]};
         DO SETVAL(audit_seq, 2);`);
      const r = cli(conf, ['migrate']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /audit chain keyed, but the 2 earlier records are broken: record 2 was altered/);
      const d = JSON.parse(q('SELECT detail FROM audit_log WHERE seq = 3').trim());
      assert.equal(d.legacy_intact, false);
      assert.match(d.legacy_problem, /record 2 was altered/);
      const v = cli(conf, ['audit', 'verify']);
      assert.equal(v.code, 1);
      assert.match(v.stdout, /record 2 was altered \(content does not match its hash\)/);
    } finally {
      dropDatabase(db.name);
    }
  });
});
