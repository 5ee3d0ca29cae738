// The API description against the server's own route and permission tables (`onetripd
// permissions`), so neither can drift: every route is described with the security its
// permission admits, nothing is described that the server does not route, and every success
// answer has a schema that names its fields. (Real answers are checked against the same
// description by lib/apicheck.mjs in every other integration test.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { env } from './lib/harness.mjs';
import { loadSpec, resolveRef, specPath } from './lib/apicheck.mjs';

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];

function serverTables() {
  const out = execFileSync(env.onetripd, ['permissions'], { encoding: 'utf8' });
  const [permPart, routePart] = out.split(/\nRoutes:\n/);
  const perms = new Map();
  for (const line of permPart.split('\n').slice(1)) {
    const m = line.match(/^(\S+)\s+(\S+)\s/);
    if (m) perms.set(m[1], m[2].split(','));
  }
  const routes = [];
  for (const line of routePart.split('\n')) {
    const m = line.match(/^\s+(\S+)\s+(\S+)\s+(\S+)/);
    if (m) routes.push({ method: m[1].toLowerCase(), path: m[2], perm: m[3] });
  }
  return { perms, routes };
}

// The security schemes a caller kind authenticates with.
const SCHEMES = {
  citizen: ['appToken'],
  operator: ['operatorToken'],
  partner: ['partnerCert', 'partnerHmac'],
};

const resolve = resolveRef;

// A schema "names its fields" when every object in it (through refs, allOf, arrays) has
// properties, additionalProperties with a schema, or is composed of such objects.
function bareObjects(spec, schema, where, out, depth = 0) {
  const s = resolve(spec, schema);
  if (!s || depth > 12) return;
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    if (Array.isArray(s[k])) s[k].forEach((m, i) => bareObjects(spec, m, `${where}/${k}/${i}`, out, depth + 1));
  }
  const types = Array.isArray(s.type) ? s.type : [s.type];
  if (types.includes('object') && !s.properties && !s.allOf && !s.anyOf && !s.oneOf
      && !(s.additionalProperties && typeof s.additionalProperties === 'object')) {
    out.push(where);
  }
  if (s.properties) {
    for (const [k, v] of Object.entries(s.properties)) bareObjects(spec, v, `${where}.${k}`, out, depth + 1);
  }
  if (s.items) bareObjects(spec, s.items, `${where}[]`, out, depth + 1);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    bareObjects(spec, s.additionalProperties, `${where}{}`, out, depth + 1);
  }
}

const spec = loadSpec(specPath());
const { perms, routes } = serverTables();

test('every route of the server is described, with the security its permission admits', () => {
  const problems = [];
  for (const r of routes) {
    const op = spec.paths?.[r.path]?.[r.method];
    if (!op) {
      problems.push(`${r.method.toUpperCase()} ${r.path}: not described`);
      continue;
    }
    const kinds = perms.get(r.perm);
    if (!kinds) {
      problems.push(`${r.method.toUpperCase()} ${r.path}: permission ${r.perm} not in the table`);
      continue;
    }
    if (!Array.isArray(op.security)) {
      problems.push(`${r.method.toUpperCase()} ${r.path}: no security declared (permission ${r.perm})`);
      continue;
    }
    const declared = new Set(op.security.length === 0 ? ['anonymous'] : op.security.flatMap((req) => {
      const names = Object.keys(req);
      return names.length === 0 ? ['anonymous'] : names;
    }));
    const want = new Set(kinds.includes('anon') ? ['anonymous']
      : kinds.flatMap((k) => SCHEMES[k] || []));
    const missing = [...want].filter((x) => !declared.has(x));
    const extra = [...declared].filter((x) => !want.has(x) && !(want.has('anonymous')));
    if (missing.length || extra.length) {
      problems.push(`${r.method.toUpperCase()} ${r.path}: security ${[...declared].join(',')} but ` +
        `permission ${r.perm} admits ${[...want].join(',')}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('nothing is described that the server does not route', () => {
  const routed = new Set(routes.map((r) => `${r.method} ${r.path}`));
  const problems = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      if (item[m] && !routed.has(`${m} ${p}`)) problems.push(`${m.toUpperCase()} ${p}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every success answer has a schema that names its fields', () => {
  const problems = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const ok = Object.entries(op.responses || {}).filter(([code]) => /^2/.test(code));
      if (ok.length === 0) problems.push(`${m.toUpperCase()} ${p}: no success response`);
      for (const [code, r0] of ok) {
        const r = resolve(spec, r0);
        for (const [ct, media] of Object.entries(r.content || {})) {
          if (!/json/.test(ct)) continue;
          if (!media.schema) {
            problems.push(`${m.toUpperCase()} ${p} ${code} ${ct}: no schema`);
            continue;
          }
          const bare = [];
          bareObjects(spec, media.schema, '', bare);
          for (const w of bare) problems.push(`${m.toUpperCase()} ${p} ${code}: object without fields at '${w || '/'}'`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('error answers are problem details', () => {
  const problems = [];
  for (const [p, item] of Object.entries(spec.paths || {})) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      for (const [code, r0] of Object.entries(op.responses || {})) {
        if (!/^[45]/.test(code)) continue;
        const r = resolve(spec, r0);
        const cts = Object.keys(r.content || {});
        // A payment channel's notification endpoint answers in the channel's own protocol
        // (Alipay reads a bare `fail`, WeChat Pay a {code, message} object).
        if (/^\/v1\/payments\/notify\//.test(p)) continue;
        if (cts.length && !cts.includes('application/problem+json')) {
          problems.push(`${m.toUpperCase()} ${p} ${code}: ${cts.join(',')}`);
        }
      }
    }
  }
  assert.deepEqual(problems, []);
});
