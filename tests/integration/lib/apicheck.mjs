// Checks every answer an integration test receives from onetripd against the API description
// (the merged gen/openapi.yaml of the build under test), so the description and the server
// cannot drift apart. The harness calls apiCheckResponse() for each response from a server it
// started; a mismatch is printed at once and makes the test process exit non-zero at the end,
// listing every mismatch (the test file then fails in CTest).
//
// What is checked, for responses of a server started by startServer():
// - the path and method are described (a 404/405 for an undescribed path or method is fine:
//   tests probe those on purpose);
// - the status is described for that operation (explicitly, as 4XX/5XX, or as default);
// - a JSON body (application/json or application/problem+json) has its media type described
//   and validates against the schema; objects described with `properties` may not carry
//   fields the description does not name.
// Set ONETRIP_API_CHECK=0 to switch the check off while debugging.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats').default;
const YAML = require('yaml');

const origins = new Set();
const mismatches = [];
let state = null; // {spec, ajv, routes, validators}

export function apiCheckEnabled() {
  return process.env.ONETRIP_API_CHECK !== '0';
}

/** Register a server origin (e.g. "https://127.0.0.1:40123") whose answers are checked. */
export function apiCheckOrigin(url) {
  if (url) origins.add(new URL(url).origin);
}

/** Where the build under test keeps its merged description. */
export function specPath() {
  if (process.env.ONETRIP_API_SPEC) return process.env.ONETRIP_API_SPEC;
  const bin = process.env.ONETRIPD;
  if (!bin) return null;
  return path.join(path.dirname(bin), 'gen', 'openapi.yaml');
}

export function loadSpec(file = specPath()) {
  return YAML.parse(fs.readFileSync(file, 'utf8'));
}

// Objects that name their properties are closed: a field the description does not name is a
// drift. Members of allOf/anyOf/oneOf are left open (closing them would refuse their
// siblings' fields); the composing schema is closed instead.
function closeObjects(node, inComposition = false) {
  if (Array.isArray(node)) {
    for (const n of node) closeObjects(n, inComposition);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') closeObjects(v, true);
    else if (k === 'properties' && v && typeof v === 'object' && !Array.isArray(v)) {
      for (const p of Object.values(v)) closeObjects(p, false);
    } else if (k !== 'example' && k !== 'examples') closeObjects(v, false);
  }
  const composes = node.allOf || node.anyOf || node.oneOf;
  const named = node.properties && typeof node.properties === 'object';
  if (!inComposition && (named || (composes && node.type === 'object'))
      && node.additionalProperties === undefined && node.unevaluatedProperties === undefined) {
    node.unevaluatedProperties = false;
  }
}

function templateRegex(tpl) {
  const parts = tpl.split('/').map((seg) => (/^\{[^}]+\}$/.test(seg)
    ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/')}$`);
}

function init() {
  if (state) return state;
  const file = specPath();
  if (!file || !fs.existsSync(file)) {
    state = { disabled: `no API description at ${file}` };
    return state;
  }
  const spec = loadSpec(file);
  const closed = JSON.parse(JSON.stringify(spec));
  for (const item of Object.values(closed.paths || {})) {
    for (const op of Object.values(item)) {
      if (op && op.requestBody) delete op.requestBody; // requests are not checked here
    }
  }
  closeObjects(closed);
  closed.$id = 'onetrip-api';
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(closed);
  // Literal segments win over parameters: /v1/cases/figures before /v1/cases/{n}.
  const routes = Object.keys(spec.paths || {}).map((tpl) => ({
    tpl, re: templateRegex(tpl), params: (tpl.match(/\{/g) || []).length,
  })).sort((a, b) => a.params - b.params || b.tpl.length - a.tpl.length);
  state = { spec, ajv, routes, validators: new Map() };
  return state;
}

function pointer(...parts) {
  return parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Follows local $refs (#/a/b) from obj; what it lands on (undefined if dangling). */
export function resolveRef(spec, obj) {
  let o = obj;
  for (let i = 0; o && o.$ref && i < 10; i++) {
    const segs = o.$ref.replace(/^#\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    o = segs.reduce((acc, s) => (acc ? acc[s] : undefined), spec);
  }
  return o;
}

function note(msg) {
  mismatches.push(msg);
  process.stderr.write(`API description mismatch: ${msg}\n`);
}

/**
 * Match one answer against the description. Returns a list of mismatch strings (also
 * recorded for the exit report). Responses from origins not registered are ignored.
 */
export function apiCheckResponse({ method, url, status, headers, text, json }) {
  if (!apiCheckEnabled()) return [];
  const u = new URL(url);
  if (!origins.has(u.origin)) return [];
  const st = init();
  if (st.disabled) return [];
  // Plain HTTP serves only the probes; everything else is refused before routing, by design
  // (described in the description's introduction, not per operation).
  if (u.protocol === 'http:' && status === 403 && json && json.code === 'https_required') return [];
  const before = mismatches.length;
  const m = method.toUpperCase();
  const route = st.routes.find((r) => r.re.test(u.pathname));
  const where = `${m} ${u.pathname} -> ${status}`;
  if (!route) {
    if (status !== 404 && status !== 405 && status !== 400 && status !== 403) {
      note(`${where}: path not described`);
    }
    return mismatches.slice(before);
  }
  const item = st.spec.paths[route.tpl];
  const op = item[m.toLowerCase()] || (m === 'HEAD' ? item.get : undefined);
  const s = String(status);
  const common = st.spec['x-common-responses'] || {};
  if (!op) {
    if (status !== 405 && status !== 404 && !common[s]) {
      note(`${where}: method not described for ${route.tpl}`);
    }
    return mismatches.slice(before);
  }
  let key = [s, `${s[0]}XX`, 'default'].find((k) => op.responses && op.responses[k]);
  let respObj = key ? op.responses[key] : undefined;
  let base = ['paths', route.tpl, m === 'HEAD' ? 'get' : m.toLowerCase(), 'responses', key];
  if (!key && common[s]) {
    key = `common ${s}`;
    respObj = common[s];
    base = ['x-common-responses', s];
  }
  if (!key) {
    note(`${where}: status not described for ${m} ${route.tpl}`);
    return mismatches.slice(before);
  }
  const resp = resolveRef(st.spec, respObj);
  const ct = String(headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  if (m === 'HEAD' || status === 204 || status === 304 || !/json/.test(ct)) {
    return mismatches.slice(before);
  }
  const content = resp && resp.content;
  if (!content || !content[ct]) {
    note(`${where}: media type ${ct} not described for ${m} ${route.tpl} ${key}`);
    return mismatches.slice(before);
  }
  if (json === null || json === undefined) {
    note(`${where}: ${ct} body is not JSON (${String(text).slice(0, 80)})`);
    return mismatches.slice(before);
  }
  const schema = content[ct].schema;
  if (!schema) return mismatches.slice(before);
  // Follow a response given by $ref to where its schema lives, for the validator's pointer.
  const target = respObj.$ref
    ? `onetrip-api${respObj.$ref}/${pointer('content', ct, 'schema')}`
    : `onetrip-api#/${pointer(...base, 'content', ct, 'schema')}`;
  let validate = st.validators.get(target);
  if (!validate) {
    validate = st.ajv.compile({ $ref: target });
    st.validators.set(target, validate);
  }
  if (!validate(json)) {
    const errs = validate.errors.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${
      e.params && e.params.unevaluatedProperty ? ` (${e.params.unevaluatedProperty})` : ''}`);
    note(`${where}: body does not match ${m} ${route.tpl} ${key}: ${errs.join('; ')}`);
  }
  return mismatches.slice(before);
}

export function apiCheckMismatches() {
  return mismatches.slice();
}

process.on('exit', () => {
  if (mismatches.length === 0) return;
  const uniq = [...new Set(mismatches)];
  process.stderr.write(`\n${uniq.length} answer(s) differ from the API description `
    + '(tests/integration/lib/apicheck.mjs):\n');
  for (const msg of uniq) process.stderr.write(`  ${msg}\n`);
  process.exitCode = 1;
});
