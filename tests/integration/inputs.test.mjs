// Declared inputs through the real server (server/input.c, issue 11): malformed path
// parameters answer the route's own problem, query keys and body fields are refused with
// the one problem shape naming the field, before the handler runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { startServer, request } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';

let server;
let id;
const url = (p) => `${server.httpsUrl}${p}`;

before(async () => {
  server = await startServer({ prefix: 'inputs', overrides: { 'jobs.enabled': 0 } });
  id = await setupIdentity(server);
});
after(async () => { if (server) await server.stop(); });

function problem(r, status, code, field) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers['content-type'], /application\/problem\+json/);
  assert.equal(r.json.code, code, r.text);
  assert.equal(r.json.field, field, r.text);
}

test('{id:int}: only a positive int64 of digits reaches the handler; anything else is the route\'s 404', async () => {
  const h = { ...(await id.operatorHeaders('supervisor')) };
  for (const bad of ['+5', '-1', '0', 'abc', '5a', '1e3', '%205', '99999999999999999999', '9223372036854775808']) {
    const r = await request(url(`/v1/rectifications/${bad}/answer`), {
      method: 'POST', json: { answer: 'ok' }, headers: h,
    });
    problem(r, 404, 'rectification_not_found', undefined);
  }
  // well-formed but unknown: the handler's own 404, the same answer
  const r = await request(url('/v1/rectifications/9223372036854775807/answer'), {
    method: 'POST', json: { answer: 'ok' }, headers: h,
  });
  problem(r, 404, 'rectification_not_found', undefined);
});

test('a path string failing its pattern answers like an unknown resource', async () => {
  problem(await request(url('/v1/catalog/items/bad%20code')), 404, 'item_not_found', undefined);
  problem(await request(url(`/v1/catalog/items/${'A'.repeat(33)}/notice`)), 404, 'item_not_found', undefined);
  problem(await request(url('/v1/cases/C12/progress?code=ABCDEFGH')), 404, 'case_not_found', undefined);
  const r = await request(url('/v1/catalog/items/lower-case'), {
    method: 'PUT', json: {}, headers: await id.operatorHeaders('admin'),
  });
  problem(r, 400, 'bad_code', undefined);
});

test('query keys: type, range, date, choice and required are checked; undeclared keys are ignored', async () => {
  const h = await id.operatorHeaders('supervisor');
  problem(await request(url('/v1/figures?from=2026-02-30&to=2026-03-01'), { headers: h }), 400, 'bad_date', 'from');
  problem(await request(url('/v1/figures?from=2026-02-01'), { headers: h }), 400, 'bad_date', 'to');
  problem(await request(url('/v1/figures?from=2026-02-01&to=2026-02-02&group=planet'), { headers: h }), 400, 'bad_group', 'group');
  problem(await request(url('/v1/rectifications?state=closed'), { headers: h }), 400, 'bad_state', 'state');
  problem(await request(url('/v1/cases/alerts?limit=+5'), { headers: h }), 400, 'bad_limit', 'limit');
  problem(await request(url('/v1/catalog/items?channel=fax')), 400, 'bad_channel', 'channel');
  const r = await request(url('/v1/catalog/items?category=permit&nocache=1'));
  assert.equal(r.status, 200, r.text);
});

test('body fields: range, choice, length and unknown members are refused naming the field', async () => {
  // a citizen token is used once: a fresh one per request
  const rate = (json) => request(url('/v1/cases/C000000000000000/rating'), {
    method: 'POST', json, headers: { ...id.citizenHeaders(id.citizens[0]), 'Idempotency-Key': randomUUID() },
  });
  problem(await rate({ score: 9 }), 400, 'bad_score', 'score');
  problem(await rate({ score: '5' }), 400, 'wrong_type', 'score');
  problem(await rate({ score: 5, comment: 'x'.repeat(501) }), 400, 'too_long', 'comment');
  problem(await rate({ score: 5, extra: 1 }), 400, 'unknown_field', 'extra');
  // valid input reaches the handler: the case does not exist
  problem(await rate({ score: 5 }), 404, 'case_not_found', undefined);
  const op = await id.operatorHeaders('window');
  const r = await request(url('/v1/cases/C000000000000000/transitions'), {
    method: 'POST', json: { to: 'submitted' }, headers: op,
  });
  problem(r, 400, 'bad_state', 'to');
  const s = await request(url('/v1/cases/C000000000000000/supplements'), {
    method: 'POST', json: { materials: [] }, headers: op,
  });
  problem(s, 400, 'materials_required', 'materials');
});
