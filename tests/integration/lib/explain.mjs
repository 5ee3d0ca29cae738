// The statements of the C sources, and what EXPLAIN says about them (tests/integration/explain.test.mjs).
//
// Every SQL statement of the server is a named constant (`static const char NAME[] = "..." MACRO "...";`,
// see STYLE.md): this reads them all from modules/, server/ and db/, expanding the string macros they
// use, so a new statement is checked without anyone listing it. A string literal that starts like a
// statement but is not such a constant is reported, so SQL cannot hide from the check in a call.
import fs from 'node:fs';
import path from 'node:path';

// The tables that grow with the population or the traffic: a full scan of one is a bug.
export const LARGE_TABLES = [
  'violations', 'violation_handlings', 'violation_bindings', 'cases', 'payment_orders',
  'payment_order_items', 'payments', 'audit_log', 'citizens', 'vehicles', 'licences',
  'registration_applications',
];

const SQL_START = /^\s*(SELECT|UPDATE|DELETE|INSERT|REPLACE|WITH)\b/i;

/** C tokens of interest: strings, identifiers, punctuation; comments dropped; #define lines kept whole. */
function tokenize(src) {
  const out = [];
  let i = 0;
  let lineStart = true;
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') { lineStart = true; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (src.startsWith('/*', i)) { const e = src.indexOf('*/', i + 2); i = e < 0 ? src.length : e + 2; continue; }
    if (src.startsWith('//', i)) { const e = src.indexOf('\n', i); i = e < 0 ? src.length : e; continue; }
    if (c === '#' && lineStart) {
      let e = i;
      for (;;) {
        const nl = src.indexOf('\n', e);
        if (nl < 0) { e = src.length; break; }
        if (src[nl - 1] === '\\') { e = nl + 1; continue; }
        e = nl;
        break;
      }
      out.push({ t: 'pp', v: src.slice(i, e).replace(/\\\n/g, ' ') });
      i = e;
      continue;
    }
    lineStart = false;
    if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const n = src[j + 1];
          v += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          j += 2;
        } else v += src[j++];
      }
      out.push({ t: c === '"' ? 'str' : 'chr', v });
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i, i + 128));
    if (m) { out.push({ t: 'id', v: m[0] }); i += m[0].length; continue; }
    out.push({ t: 'p', v: c });
    i++;
  }
  return out;
}

/** The string value of a token run (strings and string macros only), or null. */
function stringOf(tokens, macros, seen = new Set()) {
  let s = '';
  for (const tk of tokens) {
    if (tk.t === 'str') s += tk.v;
    else if (tk.t === 'id' && macros.has(tk.v) && !seen.has(tk.v)) {
      const inner = stringOf(macros.get(tk.v), macros, new Set([...seen, tk.v]));
      if (inner === null) return null;
      s += inner;
    } else return null;
  }
  return s;
}

/**
 * Every SQL statement constant of the C files under root/{modules,server,db}:
 * [{name: 'modules/x/x_sql.c:SQL_Y', sql}], and `stray`: statement-like literals outside constants.
 */
export function extractStatements(root) {
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c')) files.push(p);
    }
  };
  for (const d of ['modules', 'server', 'db']) walk(path.join(root, d));
  files.sort();
  const statements = [];
  const stray = [];
  for (const f of files) {
    const rel = path.relative(root, f);
    const toks = tokenize(fs.readFileSync(f, 'utf8'));
    const macros = new Map();
    for (const tk of toks) {
      if (tk.t !== 'pp') continue;
      const m = /^#\s*define\s+([A-Za-z_]\w*)(\(?)/.exec(tk.v);
      if (!m || m[2] === '(') continue; // function-like: not a statement piece
      const body = tokenize(tk.v.slice(m[0].length));
      if (body.length && stringOf(body, new Map()) !== null) macros.set(m[1], body);
      else if (body.length && body.every((b) => b.t === 'str' || b.t === 'id')) macros.set(m[1], body);
    }
    const used = new Set();
    for (let i = 0; i < toks.length; i++) {
      // static const char NAME[] = ... ;
      if (toks[i].v === 'char' && toks[i + 1]?.t === 'id' && toks[i + 2]?.v === '[' &&
          toks[i + 3]?.v === ']' && toks[i + 4]?.v === '=') {
        let j = i + 5;
        const init = [];
        while (j < toks.length && toks[j].v !== ';' && toks[j].v !== ',') init.push(toks[j++]);
        const s = stringOf(init, macros);
        if (s !== null && SQL_START.test(s)) statements.push({ name: `${rel}:${toks[i + 1].v}`, sql: s.trim() });
        for (let k = i + 5; k < j; k++) used.add(k);
      }
    }
    toks.forEach((tk, k) => {
      if (tk.t === 'str' && !used.has(k) && /^\s*(SELECT|UPDATE|DELETE FROM|INSERT INTO|REPLACE INTO) \w/.test(tk.v)) {
        // A piece of a #define is fine (it reaches a constant through the macro); a bare literal is not.
        stray.push(`${rel}: "${tk.v.slice(0, 60)}"`);
      }
    });
  }
  return { statements, stray };
}

const KEYWORDS = new Set(['WHERE', 'JOIN', 'ON', 'LEFT', 'RIGHT', 'INNER', 'OUTER', 'CROSS', 'SET', 'ORDER',
  'GROUP', 'LIMIT', 'FOR', 'USING', 'UNION', 'LOCK', 'HAVING', 'NATURAL', 'STRAIGHT_JOIN', 'VALUES',
  'SELECT', 'AND', 'OR', 'USE', 'FORCE', 'IGNORE', 'PARTITION', 'WINDOW', 'INTO']);

/** alias -> table for every table a statement names after FROM, JOIN, UPDATE or a comma in FROM. */
export function aliases(sql) {
  const map = new Map();
  const re = /\b(?:FROM|JOIN|UPDATE)\s+([A-Za-z_]\w*)(?:\s+(?:AS\s+)?([A-Za-z_]\w*))?/gi;
  let m;
  while ((m = re.exec(sql))) {
    map.set(m[1], m[1]);
    if (m[2] && !KEYWORDS.has(m[2].toUpperCase())) map.set(m[2], m[1]);
  }
  return map;
}

/** The large tables a statement reads (FROM, JOIN, UPDATE, DELETE FROM). */
export function largeTablesRead(sql) {
  return [...new Set(aliases(sql).values())].filter((t) => LARGE_TABLES.includes(t));
}

/**
 * The statement with each `?` replaced by a sample value, chosen from the words before it:
 * numbers after LIMIT, OFFSET, INTERVAL and arithmetic; a time for *_at/date/until columns;
 * otherwise the string '1' (compared with a number column, MariaDB still uses its index,
 * which a number compared with a string column would not). `params` overrides by position.
 */
export function withSamples(sql, params = []) {
  let n = 0;
  return sql.replace(/\?/g, (q, off) => {
    const k = n++;
    if (k < params.length) return params[k];
    const before = sql.slice(Math.max(0, off - 60), off);
    if (/(LIMIT|OFFSET|INTERVAL|[-+*\/])\s*(\w+\s*,\s*)?$/i.test(before)) return '10';
    if (/(_at|date|until|_day|time|since|_from|_to)\)?\s*(=|<=?|>=?|BETWEEN|AND)\s*$/i.test(before)) return "'2024-06-01 00:00:00'";
    return "'1'";
  });
}

// Access types that find rows through a key with a bound.
const BOUNDED = new Set(['system', 'const', 'eq_ref', 'ref', 'ref_or_null', 'range', 'index_merge',
  'unique_subquery', 'index_subquery', 'fulltext']);

/**
 * Problems of one EXPLAIN (rows as objects with the column names of EXPLAIN): a full scan
 * (type ALL) or a whole-index scan (type index) of a large table. `allowIndex`: the statement
 * may walk an index from one end because it stops at its LIMIT (listed with a reason by the caller).
 */
export function planProblems(sql, rows, { allowIndex = false } = {}) {
  const map = aliases(sql);
  const problems = [];
  for (const r of rows) {
    // A plain "Impossible WHERE" says the sample values contradict the statement, which then
    // shows no plan at all; "... noticed after reading const tables" is a unique-key lookup.
    if (/^Impossible WHERE$/.test(r.Extra || '')) problems.push('no plan: the sample values make the WHERE impossible (give values)');
    if (!r.table || r.table.startsWith('<')) continue; // derived, union, subquery result: in memory
    const table = map.get(r.table);
    if (!table) { problems.push(`EXPLAIN names table ${r.table} that the statement does not`); continue; }
    if (!LARGE_TABLES.includes(table)) continue;
    if (r.type === 'index' && allowIndex) continue;
    if (!BOUNDED.has(r.type)) {
      problems.push(`${r.type === 'ALL' ? 'full scan' : `type ${r.type}`} of ${table}` +
        `${r.table !== table ? ` (${r.table})` : ''}: rows ${r.rows}, key ${r.key}, extra ${r.Extra}`);
    }
  }
  return problems;
}
