// The API description's parameters and request bodies against the routes' declared inputs
// (`onetripd routes --json`, from each route's app_input in its module), so what the server
// checks and what the description promises cannot drift apart:
// - path parameters: {name:int} <-> integer, strings <-> string, the same pattern;
// - query parameters: the same names, required, type, enum, minimum/maximum,
//   minLength/maxLength, pattern;
// - request bodies: the same property names and required list, whether the body is
//   required, and for each property the type, enum, minimum/maximum, minLength/maxLength,
//   minItems/maxItems, pattern.
// Routes without a declaration (modules not converted yet) are counted and skipped.
// A self-test feeds a deliberately wrong description and expects each kind of drift found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { env } from './lib/harness.mjs';
import { loadSpec, resolveRef, specPath } from './lib/apicheck.mjs';

const NO_MAX = 2 ** 63 - 4096; // INT64_MAX does not survive JSON numbers: "no maximum"

const resolve = resolveRef;

const TYPES = { string: 'string', int: 'integer', bool: 'boolean', object: 'object', array: 'array',
  date: 'string', enum: 'string' };

function baseType(schema) {
  const t = schema.type;
  return Array.isArray(t) ? t.filter((x) => x !== 'null')[0] : t;
}

// Differences between one declared field and its schema, as strings.
function compareField(where, d, s) {
  const out = [];
  if (!s) return [`${where}: not described`];
  if (d.type === 'any') return out;
  const want = TYPES[d.type];
  if (baseType(s) !== want) out.push(`${where}: type ${baseType(s)} but declared ${d.type}`);
  if (d.type === 'date' && s.format !== 'date') out.push(`${where}: declared a date, described without format: date`);
  const denum = d.enum ? [...d.enum].sort() : null;
  const senum = s.enum ? s.enum.filter((x) => x !== null).sort() : null;
  if (JSON.stringify(denum) !== JSON.stringify(senum)) {
    out.push(`${where}: enum ${JSON.stringify(senum)} but declared ${JSON.stringify(denum)}`);
  }
  if (d.type === 'int') {
    const dmin = d.min === undefined || (d.min === 0 && d.max === undefined) ? undefined : d.min;
    if (s.minimum !== undefined ? s.minimum !== (d.min ?? 0) : dmin !== undefined && dmin !== 0) {
      out.push(`${where}: minimum ${s.minimum} but declared ${d.min}`);
    }
    const dmax = d.max === undefined || d.max >= NO_MAX ? undefined : d.max;
    if (s.maximum !== dmax) out.push(`${where}: maximum ${s.maximum} but declared ${dmax}`);
  }
  const pairs = [['maxLength', 'max_length'], ['minLength', 'min_length'], ['minItems', 'min_items'],
    ['maxItems', 'max_items'], ['pattern', 'pattern']];
  for (const [sk, dk] of pairs) {
    if (s[sk] !== d[dk]) out.push(`${where}: ${sk} ${s[sk]} but declared ${d[dk]}`);
  }
  return out;
}

function paramsOf(spec, item, op) {
  const all = new Map();
  for (const p of [...(item.parameters || []), ...(op.parameters || [])].map((x) => resolve(spec, x))) {
    if (p) all.set(`${p.in} ${p.name}`, p);
  }
  return [...all.values()];
}

/** Every difference between the declared inputs of one route and the description. */
export function compareRoute(spec, r) {
  const where = `${r.method} ${r.path}`;
  const item = spec.paths?.[r.path];
  const op = item?.[r.method.toLowerCase()];
  if (!op) return [`${where}: not described`];
  const out = [];
  const params = paramsOf(spec, item, op);
  for (const p of r.path_params) {
    const sp = params.find((x) => x.in === 'path' && x.name === p.name);
    if (!sp) {
      out.push(`${where}: path parameter ${p.name} not described`);
      continue;
    }
    const s = resolve(spec, sp.schema) || {};
    if (baseType(s) !== TYPES[p.type]) out.push(`${where}: path ${p.name}: type ${baseType(s)} but declared ${p.type}`);
    if (s.pattern !== p.pattern) out.push(`${where}: path ${p.name}: pattern ${s.pattern} but declared ${p.pattern}`);
  }
  const query = params.filter((x) => x.in === 'query');
  const dq = new Map((r.query || []).map((f) => [f.name, f]));
  for (const sp of query) if (!dq.has(sp.name)) out.push(`${where}: query ${sp.name} described but not declared`);
  for (const f of dq.values()) {
    const sp = query.find((x) => x.name === f.name);
    if (!sp) {
      out.push(`${where}: query ${f.name} declared but not described`);
      continue;
    }
    if (Boolean(sp.required) !== f.required) out.push(`${where}: query ${f.name}: required ${Boolean(sp.required)} but declared ${f.required}`);
    out.push(...compareField(`${where}: query ${f.name}`, f, resolve(spec, sp.schema)));
  }
  const rb = resolve(spec, op.requestBody);
  if (!r.body) {
    // A raw body (a form, a channel's callback) is read by the handler, not declared.
    if (rb && r.method !== 'GET' && !r.raw_body) out.push(`${where}: request body described but none declared`);
    return out;
  }
  if (!rb) return [...out, `${where}: body declared but no request body described`];
  if (Boolean(rb.required) !== !r.body_optional) out.push(`${where}: requestBody.required ${Boolean(rb.required)} but declared body_optional ${r.body_optional}`);
  const schema = resolve(spec, rb.content?.['application/json']?.schema) || {};
  const props = schema.properties || {};
  const dnames = new Set(r.body.map((f) => f.name));
  for (const n of Object.keys(props)) if (!dnames.has(n)) out.push(`${where}: body ${n} described but not declared`);
  const sreq = new Set(schema.required || []);
  for (const f of r.body) {
    if (!props[f.name]) {
      out.push(`${where}: body ${f.name} declared but not described`);
      continue;
    }
    if (sreq.has(f.name) !== f.required) out.push(`${where}: body ${f.name}: required ${sreq.has(f.name)} but declared ${f.required}`);
    out.push(...compareField(`${where}: body ${f.name}`, f, resolve(spec, props[f.name])));
  }
  return out;
}

test('the description agrees with every declared route input', () => {
  const routes = JSON.parse(execFileSync(env.onetripd, ['routes', '--json'], { encoding: 'utf8' }));
  const spec = loadSpec(specPath());
  const declared = routes.filter((r) => r.declared);
  const problems = declared.flatMap((r) => compareRoute(spec, r));
  // Routes without parameters are counted as declared: nothing to declare.
  const open = routes.filter((r) => !r.declared && r.path_params.length > 0);
  process.stdout.write(`# routes: ${routes.length}; with declared inputs: ${declared.length}; `
    + `not declared yet: ${routes.length - declared.length} (of which ${open.length} have path parameters)\n`);
  assert.ok(declared.length > 0, 'no route declares its inputs');
  assert.deepEqual(problems, []);
});

test('self-test: a description that disagrees with a declaration is caught', () => {
  const route = {
    method: 'POST', path: '/v1/things/{id}', declared: true, body_optional: false,
    path_params: [{ name: 'id', type: 'int', required: true, min: 1 }],
    query: [{ name: 'limit', type: 'int', required: false, min: 1, max: 100 },
      { name: 'state', type: 'enum', required: false, enum: ['open', 'answered'] }],
    body: [{ name: 'score', type: 'int', required: true, min: 1, max: 5 },
      { name: 'comment', type: 'string', required: false, max_length: 500 },
      { name: 'day', type: 'date', required: false }],
  };
  const good = {
    paths: {
      '/v1/things/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        post: {
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
            { name: 'state', in: 'query', schema: { type: 'string', enum: ['open', 'answered'] } }],
          requestBody: { required: true, content: { 'application/json': { schema: {
            type: 'object', required: ['score'],
            properties: { score: { type: 'integer', minimum: 1, maximum: 5 },
              comment: { type: 'string', maxLength: 500 }, day: { type: 'string', format: 'date' } } } } } },
        },
      },
    },
  };
  assert.deepEqual(compareRoute(good, route), []);
  const wrong = JSON.parse(JSON.stringify(good));
  const item = wrong.paths['/v1/things/{id}'];
  item.parameters[0].schema.type = 'string';
  item.post.parameters[0].schema.maximum = 50;
  item.post.parameters[1].schema.enum = ['open'];
  item.post.parameters.push({ name: 'extra', in: 'query', schema: { type: 'string' } });
  const body = item.post.requestBody.content['application/json'].schema;
  body.required = [];
  body.properties.comment.maxLength = 100;
  body.properties.day = { type: 'string' };
  body.properties.surplus = { type: 'string' };
  const found = compareRoute(wrong, route);
  for (const want of [/path id: type string but declared int/, /query limit: maximum 50/,
    /query state: enum/, /query extra described but not declared/, /body score: required false/,
    /body comment: maxLength 100/, /body day: declared a date/, /body surplus described/]) {
    assert.ok(found.some((m) => want.test(m)), `not caught: ${want} in ${JSON.stringify(found)}`);
  }
});
