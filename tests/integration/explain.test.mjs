// EXPLAIN of every statement that reads a large table, against tables filled with enough rows
// that MariaDB prefers an index whenever one fits: a full scan (type ALL) or a whole-index walk
// (type index) of a large table fails the test. The statements come from the C sources
// (lib/explain.mjs reads every `static const char NAME[] = "SELECT ..."`), so a new statement
// is checked without being listed here; only the exceptions below are listed, each with why.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startServer, env } from './lib/harness.mjs';
import { LARGE_TABLES, extractStatements, largeTablesRead, withSamples, planProblems } from './lib/explain.mjs';

const ROWS = 20000; // per large table: enough for the optimizer to weigh a scan as costly

// Statements whose sample values the rule of lib/explain.mjs gets wrong: name -> values by position.
const PARAMS = {};

// Statements that may walk an index from one end: they stop at their LIMIT (name -> why).
const INDEX_WALK = {};

// Statements that scan a large table on purpose (name -> why). Keep this short.
const FULL_SCAN = {
  'modules/cases/cases_seed.c:SQL_CITIZENS': 'seed --cases only, once before loading: counts the citizens it draws from',
  'modules/violations/violations_seed.c:SQL_VEHICLES': 'seed --violations only, once before loading: counts the vehicles it draws from',
};

/** Rows of `ROWS` per large table, each column filled by its type from seq_1_to_N (unique values). */
function fill(s, table, n) {
  const cols = s.sql(
    `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, EXTRA FROM information_schema.COLUMNS ` +
    `WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`);
  const names = [];
  const values = [];
  for (const [name, type, ctype, maxLen, extra] of cols) {
    if (/auto_increment|VIRTUAL|STORED|PERSISTENT/i.test(extra)) continue;
    let v;
    if (/int$/.test(type)) v = ctype.startsWith('tinyint(1)') ? 'seq % 2' : type === 'tinyint' ? 'seq % 100' : 'seq';
    else if (/decimal|float|double/.test(type)) v = 'seq';
    else if (type === 'enum') {
      const opts = ctype.slice(5, -1);
      v = `ELT(1 + seq % ${opts.split(',').length}, ${opts})`;
    } else if (type === 'set') v = "''";
    else if (type === 'date') v = "DATE('2024-01-01') + INTERVAL seq % 3000 DAY";
    else if (/datetime|timestamp/.test(type)) v = "TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE";
    else if (type === 'time') v = "'10:00:00'";
    else if (/json|longtext/.test(type) && /json/i.test(ctype + name)) v = "'{}'";
    else if (/char|text|binary|blob/.test(type)) {
      const len = Math.min(Number(maxLen) || 64, 64);
      v = `LEFT(CONCAT('${name.slice(0, 2)}', seq), ${len})`;
    } else v = "'1'";
    names.push(`\`${name}\``);
    values.push(v);
  }
  s.sqlExec(`SET SESSION foreign_key_checks = 0, SESSION check_constraint_checks = 0; ` +
    `INSERT IGNORE INTO ${table} (${names.join(', ')}) SELECT ${values.join(', ')} FROM seq_1_to_${n}; ` +
    `ANALYZE TABLE ${table} PERSISTENT FOR ALL`);
}

/** EXPLAIN rows as objects, NULL as null. */
function explain(s, sql) {
  const rows = s.sql(`EXPLAIN ${sql}`);
  const head = ['id', 'select_type', 'table', 'type', 'possible_keys', 'key', 'key_len', 'ref', 'rows', 'Extra'];
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i]])));
}

function check(s, st) {
  if (FULL_SCAN[st.name]) return [];
  const sql = withSamples(st.sql, PARAMS[st.name]);
  let rows;
  try {
    rows = explain(s, sql);
  } catch (e) {
    return [`EXPLAIN failed: ${e.message.split('\n')[0]}`];
  }
  return planProblems(sql, rows.filter((r) => r.select_type !== 'INSERT'), { allowIndex: Boolean(INDEX_WALK[st.name]) });
}

describe('explain', () => {
  let s;
  const { statements, stray } = extractStatements(env.repo);
  const checked = statements.filter((st) => largeTablesRead(st.sql).length);

  before(async () => {
    s = await startServer({ prefix: 'explain', overrides: { 'jobs.enabled': 0 } });
    for (const t of LARGE_TABLES) fill(s, t, ROWS);
  });
  after(async () => { await s?.stop(); });

  test('the sources hold their SQL in named constants, and the check sees the large-table statements', () => {
    assert.deepEqual(stray, [], 'statement literals outside a named constant cannot be checked');
    assert.ok(checked.length > 50, `only ${checked.length} statements read a large table: is the reader broken?`);
    for (const name of [...Object.keys(PARAMS), ...Object.keys(INDEX_WALK), ...Object.keys(FULL_SCAN)]) {
      assert.ok(statements.some((st) => st.name === name), `${name} is listed here but no longer exists`);
    }
    for (const t of ['violations', 'citizens', 'cases']) {
      assert.ok(Number(s.sql(`SELECT COUNT(*) FROM ${t}`)[0][0]) >= ROWS / 2, `${t} was filled`);
    }
  });

  test('the citizen violation list reads each source through an index', () => {
    const st = statements.find((x) => x.name.endsWith('violations_sql.c:SQL_LIST_CITIZEN'));
    assert.ok(st);
    assert.deepEqual(check(s, st), []);
  });

  test('no statement scans a large table from end to end', () => {
    const failures = [];
    for (const st of checked) {
      const problems = check(s, st);
      if (problems.length) failures.push(`${st.name}\n    ${problems.join('\n    ')}\n    ${st.sql}`);
    }
    assert.equal(failures.length, 0, `${failures.length} of ${checked.length} statements:\n${failures.join('\n')}`);
  });

  test('self-check: an unindexed lookup, a whole-index walk and the old citizen list are caught', () => {
    const scan = "SELECT id FROM violations v WHERE v.description = 'x'";
    assert.match(planProblems(scan, explain(s, scan)).join(), /full scan of violations \(v\)/);
    const walk = 'SELECT id FROM violations ORDER BY plate';
    assert.match(planProblems(walk, explain(s, walk)).join(), /type index of violations|full scan of violations/);
    const old = withSamples(
      "SELECT v.id FROM violations v WHERE v.plate IN (SELECT o.plate FROM vehicles o WHERE o.owner_citizen_id = ?) " +
      "OR v.plate IN (SELECT bv.plate FROM violation_bindings b JOIN vehicles bv ON bv.id = b.vehicle_id " +
      "WHERE b.holder_citizen_id = ?) OR v.licence_id = ? ORDER BY v.occurred_at DESC, v.id DESC LIMIT 500");
    assert.match(planProblems(old, explain(s, old)).join(), /full scan of violations/);
    const impossible = "SELECT id FROM violations WHERE id = 1 AND id = 2";
    assert.match(planProblems(impossible, explain(s, impossible)).join(), /no plan/);
  });

  test('self-check: the reader expands macros, and reports a statement it cannot name', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'explain-'));
    try {
      fs.mkdirSync(path.join(root, 'modules/m'), { recursive: true });
      for (const d of ['server', 'db']) fs.mkdirSync(path.join(root, d));
      fs.writeFileSync(path.join(root, 'modules/m/m_sql.c'), [
        '#define COLS "id, " \\', '    "plate"',
        '/* "SELECT in a comment" */',
        'static const char SQL_A[] = "SELECT " COLS " FROM violations v "',
        '    "WHERE v.plate = ?";',
        'int f(db_conn *c) { return db_exec(c, "DELETE FROM cases WHERE state = ?", NULL, NULL, NULL); }',
      ].join('\n'));
      const got = extractStatements(root);
      assert.deepEqual(got.statements, [{ name: 'modules/m/m_sql.c:SQL_A', sql: 'SELECT id, plate FROM violations v WHERE v.plate = ?' }]);
      assert.deepEqual(largeTablesRead(got.statements[0].sql), ['violations']);
      assert.equal(got.stray.length, 1);
      assert.match(got.stray[0], /DELETE FROM cases/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
