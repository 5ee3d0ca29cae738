// Prints how much of the HTTP handler code (module files with functions of
// an app_req) is boilerplate: problem replies
// (app_problem*, app_fail, app_problem_db and their continuation lines) and
// cleanup (goto lines, and the lines after a cleanup label up to the end of
// the function). A figure for the structure work, not a test.
//
// Usage: node tests/structure/handler_stats.mjs [SOURCE_ROOT]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] || new URL('../..', import.meta.url).pathname;
const PROBLEM = /\b(app_problem(_ext|_db)?|app_fail\w*|reply_db|not_found)\s*\(/;
const LABEL = /^(done|fail|out|cleanup|end):\s*$/;

function stats(src) {
  const lines = src.split('\n');
  let code = 0, boiler = 0, inCleanup = false, contProblem = false;
  for (const raw of lines) {
    const l = raw.trim();
    if (l === '' || l.startsWith('/*') || l.startsWith('*') || l.startsWith('//') || l.startsWith('#')) continue;
    code++;
    if (raw.startsWith('}')) { if (inCleanup) boiler++; inCleanup = false; contProblem = false; continue; }
    if (LABEL.test(l)) { inCleanup = true; boiler++; continue; }
    if (inCleanup) { boiler++; continue; }
    if (contProblem) { boiler++; contProblem = !/;\s*$/.test(l); continue; }
    if (PROBLEM.test(l)) { boiler++; contProblem = !/;\s*$/.test(l); continue; }
    if (/^goto \w+;$/.test(l) || /^return( -1)?;$/.test(l)) { boiler++; continue; }
  }
  return { code, boiler };
}

let tc = 0, tb = 0;
const rows = [];
for (const m of readdirSync(join(root, 'modules'), { withFileTypes: true })) {
  if (!m.isDirectory()) continue;
  let c = 0, b = 0;
  for (const f of readdirSync(join(root, 'modules', m.name))) {
    if (!/\.c$/.test(f)) continue;
    const src = readFileSync(join(root, 'modules', m.name, f), 'utf8');
    if (!/\(app_req \*r[,)]/.test(src)) continue; // files with no handler code
    const s = stats(src);
    c += s.code; b += s.boiler;
  }
  if (c) rows.push([m.name, c, b]);
  tc += c; tb += b;
}
for (const [n, c, b] of rows) console.log(`${n.padEnd(14)} ${String(c).padStart(6)} lines  ${String(b).padStart(5)} boilerplate  ${(100 * b / c).toFixed(1)}%`);
console.log(`${'all'.padEnd(14)} ${String(tc).padStart(6)} lines  ${String(tb).padStart(5)} boilerplate  ${(100 * tb / tc).toFixed(1)}%`);
