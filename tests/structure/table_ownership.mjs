// Each table belongs to one module: its migrations create it, and only its
// code writes it. Other modules go through its public header <module>.h.
//
// Reads the sources (no build, no database) and fails when
//  - a module's C string literals (adjacent literals joined, so multi-line
//    SQL counts) or its migrations write a table another module owns:
//    INSERT [IGNORE] INTO, REPLACE INTO, UPDATE, DELETE FROM;
//  - a file includes another module's header other than its public
//    modules/<m>/<m>.h (e.g. *_internal.h, *_sql.h, *_http.h);
//  - a file outside db/ reads untyped rows (db_query, db_cell*) instead of
//    binding them to a struct with db/rows.h;
//  - a table is written that no migration creates (a typo, or a table
//    created outside the migrations), or is created by two modules.
//
// "core" is server/, db/ and jobs/ (migrations in db/migrations).
//
// Usage: node tests/structure/table_ownership.mjs [SOURCE_ROOT]
//        node tests/structure/table_ownership.mjs --self-test
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

// Tables created by applied core migrations (db/migrations/0001_base.sql)
// that belong to a module. Applied migrations cannot be edited (their
// checksums are enforced), so ownership is recorded here instead of moving
// the SQL.
const CORE_CREATED_OWNERS = {
  citizens: 'people',
  licences: 'people',
  vehicles: 'people',
  operators: 'identity',
  outlets: 'people',
};

// Table accesses and includes that cross a module boundary and are not moved
// yet. Each entry: [module or file, table or header, why]. Keep this short:
// every entry is a debt; remove it with the move that pays it.
const ALLOWED_TABLES = [
];
const ALLOWED_INCLUDES = [
];

// ---------------------------------------------------------------------------

const WRITE_RE = /\b(?:INSERT\s+(?:IGNORE\s+)?INTO|REPLACE(?:\s+INTO)?|DELETE\s+FROM|UPDATE)\s+`?([A-Za-z_][A-Za-z0-9_]*)`?/g;

// Tables written by one SQL text. "ON DUPLICATE KEY UPDATE col" and
// "FOR UPDATE" are not writes of a table named after UPDATE; SQL keywords
// are upper case in this code base, so lower-case prose does not match.
// Triggers ("BEFORE UPDATE ON t") are not writes either.
export function writtenTables(sql) {
  const out = [];
  for (const m of sql.matchAll(WRITE_RE)) {
    const before = sql.slice(Math.max(0, m.index - 12), m.index);
    if (/\b(KEY|FOR|BEFORE|AFTER)\s+$/.test(before)) continue; // upsert, lock, trigger
    out.push(m[1]);
  }
  return out;
}

// The string literals of a C source, adjacent literals joined ("a" "b"
// across lines is one string), with comments and char literals skipped and
// #include lines left out.
export function cStrings(src) {
  const out = [];
  let cur = null; // the literal being joined, or null
  let i = 0;
  const n = src.length;
  let lineStart = true;
  while (i < n) {
    const c = src[i];
    if (lineStart && /[ \t]/.test(c)) { i++; continue; }
    if (lineStart && c === '#' && /^#\s*include\b/.test(src.slice(i, i + 20))) {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    lineStart = false;
    if (c === '\n') { lineStart = true; i++; continue; }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\'') {
      i++;
      while (i < n && src[i] !== '\'') i += src[i] === '\\' ? 2 : 1;
      i++;
      if (cur !== null) { out.push(cur); cur = null; }
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      while (i < n && src[i] !== '"') {
        if (src[i] === '\\') {
          const e = src[i + 1];
          s += e === 'n' || e === 't' ? ' ' : e;
          i += 2;
        } else s += src[i++];
      }
      i++;
      cur = cur === null ? s : cur + s;
      continue;
    }
    if (/\s/.test(c) || c === '\\') { i++; continue; } // whitespace and line splices keep joining
    if (cur !== null) { out.push(cur); cur = null; }
    i++;
  }
  if (cur !== null) out.push(cur);
  return out;
}

// Tables a SQL text reads (FROM / JOIN), for the rule that server/, db/ and
// jobs/ hold no module's SQL at all.
export function readTables(sql) {
  return [...sql.matchAll(/\b(?:FROM|JOIN)\s+`?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
}

const CREATE_RE = /\bCREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([A-Za-z_][A-Za-z0-9_]*)/gi;

export function includes(src) {
  return [...src.matchAll(/^[ \t]*#\s*include\s+"([^"]+)"/gm)].map((m) => m[1]);
}

function walk(dir, pred, acc = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, pred, acc);
    else if (pred(p)) acc.push(p);
  }
  return acc;
}

// Module of a source path relative to the root, or null when not checked.
export function moduleOf(rel) {
  const parts = rel.split(/[\\/]/);
  if (parts[0] === 'modules' && parts.length > 2) return parts[1];
  if (['server', 'db', 'jobs'].includes(parts[0])) return 'core';
  return null;
}

// A header another module may include: modules/<m>/<m>.h only.
export function includeProblem(fromModule, inc) {
  const parts = inc.split('/');
  if (parts[0] !== 'modules' || parts.length !== 3) return null;
  const owner = parts[1];
  if (owner === fromModule) return null;
  if (parts[2] === `${owner}.h`) return null;
  return `includes ${inc}: only modules/${owner}/${owner}.h is public`;
}

function stripSqlComments(sql) {
  return sql.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/--[^\n]*/g, ' ');
}

export function check(root) {
  const problems = [];
  const owner = new Map(); // table -> module

  const migFiles = walk(root, (p) => {
    const rel = relative(root, p).split(sep).join('/');
    return /^(db|modules\/[^/]+)\/migrations\/[^/]+\.sql$/.test(rel);
  });
  const migSql = [];
  for (const p of migFiles) {
    const rel = relative(root, p).split(sep).join('/');
    const mod = moduleOf(rel);
    const sql = stripSqlComments(readFileSync(p, 'utf8'));
    migSql.push({ rel, mod, sql });
    for (const m of sql.matchAll(CREATE_RE)) {
      const t = m[1];
      const o = mod === 'core' && CORE_CREATED_OWNERS[t] ? CORE_CREATED_OWNERS[t] : mod;
      if (owner.has(t) && owner.get(t) !== o)
        problems.push(`${rel}: creates ${t}, already created by ${owner.get(t)}`);
      owner.set(t, o);
    }
  }
  for (const t of Object.keys(CORE_CREATED_OWNERS))
    if (!owner.has(t)) problems.push(`ownership map names ${t}, which no migration creates`);

  // An entry that no longer matches anything is reported too, so the list
  // only shrinks when a move lands.
  const used = new Set();
  const allowed = (list, mod, file, x) => {
    const e = list.find(([who, y]) => y === x && (who === mod || who === file));
    if (e) used.add(e);
    return !!e;
  };
  const allowedWrite = (mod, file, t) => allowed(ALLOWED_TABLES, mod, file, t);
  const allowedInclude = (mod, file, inc) => allowed(ALLOWED_INCLUDES, mod, file, inc);

  const report = (rel, mod, t) => {
    if (!owner.has(t)) {
      problems.push(`${rel}: writes ${t}, which no migration creates`);
    } else if (owner.get(t) !== mod && !allowedWrite(mod, rel, t)) {
      problems.push(`${rel}: module ${mod} writes ${t}, owned by ${owner.get(t)}`);
    }
  };
  for (const { rel, mod, sql } of migSql)
    for (const t of writtenTables(sql)) report(rel, mod, t);

  const srcFiles = walk(root, (p) => /\.[ch]$/.test(p))
    .map((p) => ({ rel: relative(root, p).split(sep).join('/'), p }))
    .filter(({ rel }) => moduleOf(rel))
    .map(({ rel, p }) => ({ rel, mod: moduleOf(rel), src: readFileSync(p, 'utf8') }));
  // Tables the C code creates itself (the migrations' own bookkeeping).
  for (const { rel, mod, src } of srcFiles)
    for (const s of cStrings(src))
      for (const m of s.matchAll(CREATE_RE)) {
        if (owner.has(m[1]) && owner.get(m[1]) !== mod)
          problems.push(`${rel}: creates ${m[1]}, already created by ${owner.get(m[1])}`);
        owner.set(m[1], mod);
      }
  let nFiles = 0;
  for (const { rel, mod, src } of srcFiles) {
    nFiles++;
    for (const s of cStrings(src)) {
      for (const t of writtenTables(s)) report(rel, mod, t);
      if (mod !== 'core') continue;
      for (const t of readTables(s))
        if (owner.has(t) && owner.get(t) !== 'core' && !allowedWrite(mod, rel, t))
          problems.push(`${rel}: core reads ${t}, owned by ${owner.get(t)}: server/, db/ and jobs/ hold no module's SQL`);
    }
    // Rows are typed outside db/ (db/rows.h): no cell read by column number.
    if (!rel.startsWith('db/') && /\bdb_(cell\w*|query)\s*\(/.test(src))
      problems.push(`${rel}: reads untyped rows (db_query/db_cell): bind the columns with db/rows.h`);
    for (const inc of includes(src)) {
      const why = includeProblem(mod, inc);
      if (why && !allowedInclude(mod, rel, inc)) problems.push(`${rel}: ${why}`);
    }
  }
  for (const e of [...ALLOWED_TABLES, ...ALLOWED_INCLUDES])
    if (!used.has(e)) problems.push(`allow-list entry [${e[0]}, ${e[1]}] is no longer needed: remove it`);
  return { problems, owner, nFiles };
}

function selfTest() {
  const eq = (a, b, what) => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      throw new Error(`${what}: got ${JSON.stringify(a)}, want ${JSON.stringify(b)}`);
  };
  eq(writtenTables('INSERT INTO a (x) VALUES (?) ON DUPLICATE KEY UPDATE x = 1'), ['a'], 'upsert');
  eq(writtenTables('SELECT * FROM t WHERE id = ? FOR UPDATE'), [], 'for update');
  eq(writtenTables('UPDATE `b` SET x = 1'), ['b'], 'update');
  eq(writtenTables('DELETE FROM c WHERE 1; REPLACE INTO d VALUES (1); INSERT IGNORE INTO e SELECT 1'),
    ['c', 'd', 'e'], 'delete/replace/ignore');
  eq(writtenTables('please update the record'), [], 'prose');
  eq(writtenTables('CREATE TRIGGER x BEFORE UPDATE ON audit_log FOR EACH ROW'), [], 'trigger');
  eq(readTables('SELECT a FROM t1 x JOIN t2 y ON 1'), ['t1', 't2'], 'reads');
  eq(cStrings('static const char Q[] =\n  "UPDATE v"\n  "iolations SET x = 1"; /* "INSERT INTO z" */\n'),
    ['UPDATE violations SET x = 1'], 'joined literals');
  eq(cStrings("#include \"a.h\"\nchar c = '\"'; const char *s = \"x\\\"y\";\n"), ['x"y'], 'escapes');
  eq(cStrings('#define Q "UPDATE t " \\\n  "SET a = 1"\n'), ['UPDATE t SET a = 1'], 'macro splice');
  eq(includeProblem('payments', 'modules/violations/violations.h'), null, 'public header');
  eq(includeProblem('payments', 'modules/payments/payments_sql.h'), null, 'own header');
  eq(includeProblem('payments', 'modules/violations/violations_sql.h') !== null, true, 'sql header');
  eq(includeProblem('core', 'modules/registration/vin.h') !== null, true, 'core includes module');
  eq(moduleOf('server/auth.c'), 'core', 'core');
  eq(moduleOf('modules/cases/cases.c'), 'cases', 'module');
  // A whole tree: b writes a's table, includes a's SQL header, core reads b's table.
  const root = mkdtempSync(join(tmpdir(), 'ownership-'));
  try {
    const put = (rel, text) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    };
    put('modules/a/migrations/0100_a.sql', 'CREATE TABLE IF NOT EXISTS a_things (id INT);\n');
    put('modules/b/migrations/0200_b.sql', 'CREATE TABLE IF NOT EXISTS b_things (id INT);\n');
    put('modules/a/a_sql.c', 'static const char Q[] = "UPDATE a_things SET id = 1";\n');
    put('modules/b/b.c', '#include "modules/a/a.h"\n#include "modules/a/a_sql.h"\n' +
      'static const char Q[] =\n    "DELETE FROM "\n    "a_things WHERE id = ?";\n');
    put('server/x.c', 'static const char Q[] = "SELECT id FROM b_things";\n');
    put('modules/b/b_seed.c', 'n = db_cell_i64(r, 0, 0);\n');
    put('db/rows.c', 'n = db_cell_i64(r, 0, 0);\n');
    const got = check(root).problems.filter((p) => !p.startsWith('allow-list') && !p.startsWith('ownership map'));
    eq(got.sort(), [
      'modules/b/b.c: includes modules/a/a_sql.h: only modules/a/a.h is public',
      'modules/b/b.c: module b writes a_things, owned by a',
      'modules/b/b_seed.c: reads untyped rows (db_query/db_cell): bind the columns with db/rows.h',
      "server/x.c: core reads b_things, owned by b: server/, db/ and jobs/ hold no module's SQL",
    ], 'tree');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  console.log('self-test ok');
}

const arg = process.argv[2];
if (arg === '--self-test') {
  selfTest();
} else if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split(sep).pop())) {
  const root = arg || new URL('../..', import.meta.url).pathname;
  const { problems, owner, nFiles } = check(root);
  if (problems.length) {
    for (const p of problems) console.error(`table ownership: ${p}`);
    console.error(`${problems.length} problem(s); see tests/structure/table_ownership.mjs`);
    process.exit(1);
  }
  console.log(`table ownership ok: ${owner.size} tables, ${nFiles} source files`);
}
