// Every problem code a module names in its C sources is listed in some error table
// (app_module.errors, server/app.h): app_fail(r, "code", ...), app_fail_ext(r, "code", ...)
// (and a module's own fail(r, "code", ...) wrapper of app_fail, first argument named r),
// and the .code / .path_code of input declarations. At run time an unlisted code answers
// 500 `internal`; this finds it at build time. Codes chosen at run time (a variable) are
// not seen here: the server's start-up checks cover declarations, and a reason returned by
// a business function must be listed too (see modules/README.md).
//
// Usage: node tests/structure/fail_codes.mjs [SOURCE_ROOT]
//        node tests/structure/fail_codes.mjs --self-test
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

function cFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...cFiles(p));
    else if (e.name.endsWith('.c')) out.push(p);
  }
  return out;
}

// Comments out, so a commented-out call does not count.
const stripComments = (s) => s.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');

/** Codes listed by the error tables in one source text. */
export function tableCodes(src) {
  const out = [];
  for (const m of stripComments(src).matchAll(/\bapp_error\s+\w+\s*\[\s*\]\s*=\s*\{([\s\S]*?)\n\};/g)) {
    for (const row of m[1].matchAll(/\{\s*"([^"]+)"\s*,\s*\d{3}\s*,/g)) out.push(row[1]);
  }
  return out;
}

/** [code, line] pairs a source text names as a problem. */
export function usedCodes(src) {
  const text = stripComments(src);
  const out = [];
  const re = /(?:\bapp_fail(?:_ext)?\s*\(\s*[^,()]+|\bfail\s*\(\s*r)\s*,\s*"([^"]*)"|\.(?:path_)?code\s*=\s*"([^"]*)"/g;
  for (const m of text.matchAll(re)) {
    out.push([m[1] ?? m[2], text.slice(0, m.index).split('\n').length]);
  }
  return out;
}

export function check(root) {
  const files = [...cFiles(join(root, 'modules')), ...cFiles(join(root, 'server'))];
  const known = new Set();
  const uses = [];
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    for (const c of tableCodes(src)) known.add(c);
    for (const [c, line] of usedCodes(src)) uses.push([relative(root, f), line, c]);
  }
  const problems = uses.filter(([, , c]) => !known.has(c))
    .map(([f, line, c]) => `${f}:${line}: problem code '${c}' is in no error table`);
  return { problems, known: known.size, uses: uses.length };
}

function selfTest() {
  const dir = mkdtempSync(join(tmpdir(), 'fail-codes-'));
  try {
    mkdirSync(join(dir, 'modules', 'm'), { recursive: true });
    mkdirSync(join(dir, 'server'));
    writeFileSync(join(dir, 'modules', 'm', 'm_module.c'),
      'static const app_error errors[] = {\n    {"thing_not_found", 404, "Thing not found", NULL},\n};\n'
      + 'static const app_jfield F[] = {{"n", JF_INT, false, .code = "bad_n"}};\n');
    writeFileSync(join(dir, 'modules', 'm', 'm_http.c'),
      'void h(app_req *r)\n{\n    app_fail(r, "thing_not_found", NULL, NULL);\n'
      + '    /* app_fail(r, "commented_out", NULL, NULL); */\n'
      + '    app_fail_ext(r, "thing_gone", NULL, NULL, NULL);\n}\n');
    const { problems } = check(dir);
    const want = ["modules/m/m_module.c:4: problem code 'bad_n' is in no error table",
      "modules/m/m_http.c:5: problem code 'thing_gone' is in no error table"];
    if (JSON.stringify(problems.sort()) !== JSON.stringify(want.sort())) {
      console.error(`self-test failed:\n  got ${JSON.stringify(problems)}\n  want ${JSON.stringify(want)}`);
      process.exit(1);
    }
    console.log('self-test ok: unlisted codes are found, listed and commented-out ones are not');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--self-test') {
  selfTest();
} else {
  const root = process.argv[2] || join(import.meta.dirname ?? '.', '..', '..');
  const { problems, known, uses } = check(root);
  console.log(`${uses} problem codes named in the sources, ${known} codes in error tables`);
  if (problems.length) {
    for (const p of problems) console.error(p);
    process.exit(1);
  }
}
