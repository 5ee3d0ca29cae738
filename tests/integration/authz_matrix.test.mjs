// Authorization matrix (issue 16, "Bad input"): generated from the server's own tables,
// `onetripd routes --json` (every route with its permission) and `onetripd permissions --json`
// (which caller kinds, operator roles and partner types hold each permission), and checked
// against the expectations written below by hand, so that neither a new route nor a widened
// permission slips in unreviewed:
// - every route is listed in ROUTES with its permission, and every permission in PERMS with
//   its holders; a route or permission missing here, or different, fails the test;
// - for every route and every caller (anonymous, a citizen through the app backend, each
//   operator role, each partner type over mutual TLS and over HMAC) that does not hold the
//   route's permission, a request is refused: 401 `unauthenticated` without credentials,
//   403 `forbidden` otherwise, and each 403 leaves an `access.denied` audit record (request
//   id, caller, permission). Invalid credentials (a malformed bearer token, a bad HMAC
//   signature) get 401 on every route that is not public;
// - every caller that holds the permission is not refused (no 401, no 403 `forbidden`, no
//   5xx): the dummy input may well get 400/404/409/422.
// Object-level checks (one caller's objects tried by another of the same kind) are at the end.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

import { env, randomHex, request, startServer, dropDatabase } from './lib/harness.mjs';
import { randomPlate, randomVin, setupIdentity } from './lib/identity.mjs';

// ---------------------------------------------------------------------------------------
// Expectations. Holders: 'anyone' (no credentials needed) or a list of 'citizen',
// 'operator:<role>|*', 'partner:<type>|*'. A change to the server's tables must change these.

const PERMS = {
  public: 'anyone',
  'identity.me': 'citizen operator:* partner:*',
  'identity.logout': 'operator:*',
  'identity.login_sources_read': 'operator:auditor,admin',
  'people.read_own': 'citizen',
  'people.vehicle_read': 'citizen operator:window,supervisor,reviewer,auditor,inspector',
  'people.citizen_read': 'operator:window,supervisor,reviewer,auditor',
  'catalog.admin': 'operator:admin',
  'cases.read_own': 'citizen',
  'cases.read': 'citizen operator:*',
  'cases.checkin': 'operator:window,supervisor,inspector partner:post,insurer,hospital,court,dealer,station',
  'cases.handle': 'operator:window,supervisor,reviewer',
  'cases.rate': 'citizen operator:window,inspector partner:post,insurer,hospital,court,dealer,station',
  'cases.alerts': 'operator:window,supervisor,reviewer,auditor,inspector',
  'cases.supervise': 'operator:supervisor',
  'cases.figures': 'operator:supervisor,auditor,admin',
  'violations.intake': 'partner:agency',
  'violations.record_window': 'operator:window',
  'violations.search': 'operator:window,supervisor,reviewer,auditor',
  'violations.handle': 'citizen',
  'violations.handle_window': 'operator:window',
  'violations.cancel': 'operator:window,supervisor',
  'violations.read_own': 'citizen',
  'violations.bindings': 'citizen',
  'payments.order_own': 'citizen',
  'payments.order_read': 'citizen operator:window,supervisor,auditor',
  'payments.refund_request': 'operator:window,supervisor',
  'payments.refund_approve': 'operator:reviewer',
  'payments.refund_read': 'operator:window,supervisor,reviewer,auditor',
  'payments.reconciliation_read': 'operator:supervisor,auditor,admin',
  'payments.reconciliation_run': 'operator:supervisor',
  'payments.alerts_read': 'operator:supervisor,auditor,admin',
  'registration.apply': 'citizen partner:dealer',
  'registration.read': 'citizen operator:* partner:dealer',
  'registration.book': 'citizen operator:window partner:dealer',
  'registration.inspect': 'operator:inspector partner:station',
  'registration.station_appointments': 'operator:supervisor,admin,inspector partner:station',
  'registration.insurance_confirm': 'partner:insurer',
  'registration.complete': 'operator:window',
  'registration.plates_manage': 'operator:window,admin',
  'registration.plates_read': 'operator:window,supervisor,admin',
  'registration.slots_publish': 'operator:admin,inspector',
  'registration.stations_read': 'citizen operator:* partner:dealer,station',
  'registration.mailing': 'operator:window partner:post',
  'supervision.read': 'operator:supervisor,auditor',
  'supervision.alerts_handle': 'operator:supervisor',
  'supervision.rules_manage': 'operator:supervisor',
};

const ROUTES = {
  'GET /healthz': 'public',
  'GET /metrics': 'public',
  'GET /openapi.yaml': 'public',
  'GET /readyz': 'public',
  'GET /v1/audit/checkpoint': 'public',
  'GET /v1/audit/checkpoint-key': 'public',
  'POST /v1/auth/login': 'public',
  'POST /v1/auth/refresh': 'public',
  'POST /v1/auth/logout': 'identity.logout',
  'GET /v1/me': 'identity.me',
  'GET /v1/auth/login-sources': 'identity.login_sources_read',
  'GET /v1/me/licence': 'people.read_own',
  'GET /v1/me/vehicles': 'people.read_own',
  'GET /v1/vehicles/{id}': 'people.vehicle_read',
  'GET /v1/citizens/{id}': 'people.citizen_read',
  'POST /v1/citizens/lookup': 'people.citizen_read',
  'GET /v1/catalog/items': 'public',
  'GET /v1/catalog/items/{code}': 'public',
  'GET /v1/catalog/items/{code}/notice': 'public',
  'PUT /v1/catalog/items/{code}': 'catalog.admin',
  'GET /v1/me/cases': 'cases.read_own',
  'GET /v1/cases/alerts': 'cases.alerts',
  'GET /v1/cases/{number}': 'cases.read',
  'GET /v1/cases/{number}/progress': 'public',
  'POST /v1/cases/{number}/trips': 'cases.checkin',
  'POST /v1/cases/{number}/transitions': 'cases.handle',
  'POST /v1/cases/{number}/supplements': 'cases.handle',
  'POST /v1/cases/{number}/rating': 'cases.rate',
  'GET /v1/rectifications': 'cases.supervise',
  'POST /v1/rectifications/{id}/answer': 'cases.supervise',
  'GET /v1/figures': 'cases.figures',
  'POST /v1/violations': 'violations.intake',
  'POST /v1/violations/window': 'violations.record_window',
  'GET /v1/violations': 'violations.search',
  'POST /v1/violations/{id}/handle': 'violations.handle',
  'POST /v1/violations/{id}/handle-at-window': 'violations.handle_window',
  'POST /v1/violations/{id}/cancel': 'violations.cancel',
  'GET /v1/me/violations': 'violations.read_own',
  'POST /v1/me/bindings': 'violations.bindings',
  'GET /v1/me/bindings': 'violations.bindings',
  'DELETE /v1/me/bindings/{id}': 'violations.bindings',
  'GET /v1/me/binding-requests': 'violations.bindings',
  'POST /v1/me/binding-requests/{id}/consent': 'violations.bindings',
  'POST /v1/payments/orders': 'payments.order_own',
  'GET /v1/payments/orders/{no}': 'payments.order_read',
  'POST /v1/payments/orders/{no}/returned': 'payments.order_own',
  'POST /v1/payments/notify/{channel}': 'public',
  'POST /v1/payments/notify/wechatpay/refund': 'public',
  'GET /v1/receipts/{number}': 'public',
  'POST /v1/refunds': 'payments.refund_request',
  'POST /v1/refunds/{id}/approve': 'payments.refund_approve',
  'GET /v1/refunds/{id}': 'payments.refund_read',
  'GET /v1/reconciliation/reports': 'payments.reconciliation_read',
  'POST /v1/reconciliation/reports': 'payments.reconciliation_run',
  'GET /v1/reconciliation/reports/{id}': 'payments.reconciliation_read',
  'GET /v1/reconciliation/reports/{id}/csv': 'payments.reconciliation_read',
  'GET /v1/payments/alerts': 'payments.alerts_read',
  'GET /v1/payments/alerts/{id}': 'payments.alerts_read',
  'POST /v1/registrations': 'registration.apply',
  'GET /v1/registrations': 'registration.read',
  'GET /v1/registrations/{id}': 'registration.read',
  'PATCH /v1/registrations/{id}': 'registration.apply',
  'POST /v1/registrations/{id}/submit': 'registration.apply',
  'POST /v1/registrations/{id}/cancel': 'registration.apply',
  'GET /v1/registrations/{id}/plate-offer': 'registration.apply',
  'POST /v1/registrations/{id}/plate-offer': 'registration.apply',
  'POST /v1/registrations/{id}/plate': 'registration.apply',
  'DELETE /v1/registrations/{id}/plate': 'registration.apply',
  'POST /v1/registrations/{id}/appointment': 'registration.book',
  'DELETE /v1/registrations/{id}/appointment': 'registration.book',
  'POST /v1/registrations/{id}/inspection': 'registration.inspect',
  'POST /v1/registrations/{id}/complete': 'registration.complete',
  'POST /v1/registrations/{id}/collected': 'registration.complete',
  'POST /v1/plates/pool': 'registration.plates_manage',
  'GET /v1/plates/pool': 'registration.plates_read',
  'POST /v1/plates/block': 'registration.plates_manage',
  'POST /v1/plates/unblock': 'registration.plates_manage',
  'GET /v1/stations': 'registration.stations_read',
  'POST /v1/stations/{id}/slots': 'registration.slots_publish',
  'GET /v1/stations/{id}/slots': 'registration.stations_read',
  'GET /v1/stations/{id}/appointments': 'registration.station_appointments',
  'POST /v1/insurance-policies': 'registration.insurance_confirm',
  'GET /v1/mailing-orders': 'registration.mailing',
  'POST /v1/mailing-orders/{id}/dispatch': 'registration.mailing',
  'GET /v1/supervision/rules': 'supervision.read',
  'PATCH /v1/supervision/rules/{id}': 'supervision.rules_manage',
  'GET /v1/supervision/rules/{id}/versions': 'supervision.read',
  'GET /v1/supervision/alerts': 'supervision.read',
  'GET /v1/supervision/alerts.csv': 'supervision.read',
  'GET /v1/supervision/alerts/{id}': 'supervision.read',
  'POST /v1/supervision/alerts/{id}/steps': 'supervision.alerts_handle',
};

// ---------------------------------------------------------------------------------------
// The server's tables

const onetripd = (args) => JSON.parse(execFileSync(env.onetripd, args, { encoding: 'utf8' }));
const TABLE = onetripd(['permissions', '--json']);
const SERVER_ROUTES = onetripd(['routes', '--json']);
const ROLES = TABLE.roles;          // window supervisor reviewer auditor admin inspector
const PTYPES = TABLE.partner_types; // post insurer hospital court dealer agency station

/** The holders of a permission of the server's table, in the notation of PERMS. */
function holdersOf(p) {
  if (p.kinds.includes('anon')) return 'anyone';
  const out = [];
  if (p.kinds.includes('citizen')) out.push('citizen');
  const list = (all, got) => (got.length === all.length ? '*' : all.filter((x) => got.includes(x)).join(','));
  if (p.kinds.includes('operator') && p.roles.length) out.push(`operator:${list(ROLES, p.roles)}`);
  if (p.kinds.includes('partner') && p.partner_types.length) out.push(`partner:${list(PTYPES, p.partner_types)}`);
  return out.join(' ');
}

/** Every caller the matrix tries: {name, kind, role?, type?, via?}. */
const CALLERS = [
  { name: 'anonymous', kind: 'anon' },
  { name: 'citizen', kind: 'citizen' },
  ...ROLES.map((role) => ({ name: `operator:${role}`, kind: 'operator', role })),
  ...PTYPES.flatMap((type) => ['tls', 'hmac'].map((via) => ({ name: `partner:${type}:${via}`, kind: 'partner', type, via }))),
];

function holds(perm, c) {
  const p = TABLE.permissions.find((x) => x.name === perm);
  if (!p || !p.kinds.includes(c.kind)) return false;
  if (c.kind === 'operator') return p.roles.includes(c.role);
  if (c.kind === 'partner') return p.partner_types.includes(c.type);
  return true;
}

// ---------------------------------------------------------------------------------------
// Requests

let server;
let id;
const url = (p) => `${server.httpsUrl}${p}`;

/** A concrete path for a route: ids that exist nowhere, strings of the right shape. */
const STRING_PARAMS = { number: 'C209901010000001', no: 'P20990101000000000001', code: 'NO-SUCH-ITEM', channel: 'alipay' };
function concretePath(r) {
  let p = r.path;
  for (const pp of r.path_params) {
    const v = pp.type === 'int' ? '2147483000' : (STRING_PARAMS[pp.name] ?? 'x');
    p = p.replace(`{${pp.name}}`, encodeURIComponent(v));
  }
  return p;
}

/** Headers (and TLS options) that authenticate caller c for one request. */
const logoutTokens = {};
async function authFor(c, method, path, body, { logout = false } = {}) {
  if (c.kind === 'citizen') return { headers: id.citizenHeaders(id.citizens[0]) };
  if (c.kind === 'operator' && logout) return { headers: logoutTokens[c.role] };
  if (c.kind === 'operator') return { headers: await id.operatorHeaders(c.role) };
  if (c.kind === 'partner' && c.via === 'tls') return { ...id.partnerTls(c.type), headers: {} };
  if (c.kind === 'partner') return { headers: id.partnerHmacHeaders(c.type, method, path, body ?? '') };
  return { headers: {} };
}

/** One dummy request of route r as caller c (c = null: as given by `auth`). */
async function send(r, c, auth) {
  const path = concretePath(r);
  const hasBody = r.method !== 'GET' && r.method !== 'DELETE';
  const body = hasBody ? (r.raw_body ? '' : '{}') : undefined;
  // Logging out ends the session: never with the token the other requests share.
  const a = auth ?? await authFor(c, r.method, path, body, { logout: r.path === '/v1/auth/logout' });
  const headers = { ...a.headers };
  if (hasBody && !r.raw_body) headers['Content-Type'] = 'application/json';
  if (r.idempotency !== 'none') headers['Idempotency-Key'] = randomHex(10);
  const res = await request(url(path), { method: r.method, headers, body, cert: a.cert, key: a.key });
  return { ...res, where: `${r.method} ${r.path} as ${c ? c.name : a.name}` };
}

/** Runs fn over items, `width` at a time. */
async function inBatches(items, width, fn) {
  const out = [];
  for (let i = 0; i < items.length; i += width) {
    out.push(...await Promise.all(items.slice(i, i + width).map(fn)));
  }
  return out;
}

/** access.denied records of these request ids: Map request_id -> [caller_kind, caller_id, perm]. */
function deniedRecords(requestIds) {
  const found = new Map();
  for (let i = 0; i < requestIds.length; i += 200) {
    const ids = requestIds.slice(i, i + 200).map((x) => `'${x.replace(/[^0-9A-Za-z_-]/g, '')}'`).join(',');
    for (const [rid, kind, cid, perm] of server.sql(`SELECT request_id, caller_kind, caller_id, target_id FROM audit_log ` +
      `WHERE action = 'access.denied' AND outcome = 'denied' AND request_id IN (${ids})`)) {
      found.set(rid, [kind, cid, perm]);
    }
  }
  return found;
}

function callerId(c) {
  if (c.kind === 'citizen') return String(id.citizens[0].id);
  if (c.kind === 'operator') return String(id.operators[c.role].id);
  return String(id.partners[c.type].id);
}

before(async () => {
  server = await startServer({ prefix: 'authz', overrides: { 'jobs.enabled': 0 } });
  id = await setupIdentity(server, { citizens: 3 });
  // One login at a time (concurrent logins are refused with 503 login_busy): a shared token
  // per role, and one more per role for logging out.
  for (const role of ROLES) {
    await id.operatorHeaders(role);
    logoutTokens[role] = { Authorization: `Bearer ${(await id.operatorLogin(role)).access_token}` };
  }
});

after(async () => {
  if (!server) return;
  assert.deepEqual(await server.stop(), { code: 0, signal: null });
  dropDatabase(server.db.name);
});

// ---------------------------------------------------------------------------------------

describe('the tables', () => {
  test('every route of the server is expected, with the permission it names', () => {
    const got = Object.fromEntries(SERVER_ROUTES.map((r) => [`${r.method} ${r.path}`, r.perm]));
    const unexpected = Object.keys(got).filter((k) => !(k in ROUTES));
    assert.deepEqual(unexpected, [], 'routes without an entry in the matrix: add them to ROUTES');
    const gone = Object.keys(ROUTES).filter((k) => !(k in got));
    assert.deepEqual(gone, [], 'routes in the matrix that the server no longer has');
    for (const [k, perm] of Object.entries(got)) assert.equal(perm, ROUTES[k], `${k}: permission`);
  });

  test('every permission is expected, held by exactly the callers listed', () => {
    const names = TABLE.permissions.map((p) => p.name);
    assert.deepEqual(names.filter((n) => !(n in PERMS)), [], 'permissions without an entry in PERMS');
    assert.deepEqual(Object.keys(PERMS).filter((n) => !names.includes(n)), [], 'permissions in PERMS the server lacks');
    for (const p of TABLE.permissions) assert.equal(holdersOf(p), PERMS[p.name], `${p.name}: holders`);
  });

  test('public routes, and only they, use the public permission', () => {
    for (const r of SERVER_ROUTES) assert.equal(r.public, r.perm === 'public', `${r.method} ${r.path}`);
  });

  test('the matrix knows every caller kind, role and partner type', () => {
    assert.deepEqual(TABLE.kinds, ['anon', 'citizen', 'operator', 'partner', 'system']);
    assert.deepEqual(ROLES, ['window', 'supervisor', 'reviewer', 'auditor', 'admin', 'inspector']);
    assert.deepEqual(PTYPES, ['post', 'insurer', 'hospital', 'court', 'dealer', 'agency', 'station']);
    assert.equal(CALLERS.length, 1 + 1 + ROLES.length + 2 * PTYPES.length);
  });
});

describe('every route against every caller', () => {
  test('callers without the permission are refused (401 anonymous, 403 forbidden, audited)', async () => {
    const cases = [];
    for (const r of SERVER_ROUTES) for (const c of CALLERS) if (!holds(r.perm, c)) cases.push([r, c]);
    const results = await inBatches(cases, 8, async ([r, c]) => ({ r, c, res: await send(r, c) }));
    const wrong = [];
    const denied = [];
    for (const { c, res } of results) {
      if (c.kind === 'anon') {
        if (res.status !== 401 || res.json?.code !== 'unauthenticated') wrong.push(`${res.where}: ${res.status} ${res.text}`);
      } else if (res.status !== 403 || res.json?.code !== 'forbidden') {
        wrong.push(`${res.where}: ${res.status} ${res.text}`);
      } else {
        denied.push({ c, res });
      }
    }
    assert.deepEqual(wrong, [], 'reachable by callers without the permission');
    const audited = deniedRecords(denied.map((d) => d.res.json.request_id));
    const missing = [];
    for (const { r, c, res } of results.filter((x) => x.c.kind !== 'anon')) {
      const rec = audited.get(res.json.request_id);
      const want = [c.kind, callerId(c), r.perm];
      if (!rec || rec.join() !== want.join()) missing.push(`${res.where}: audit ${JSON.stringify(rec)} want ${JSON.stringify(want)}`);
    }
    assert.deepEqual(missing, [], 'refusals without their access.denied record');
    assert.ok(cases.length > 500, `only ${cases.length} refusals tried`);
    process.stdout.write(`# refusals tried: ${cases.length} (${denied.length} with 403, audited)\n`);
  });

  test('callers holding the permission are not refused', async () => {
    const cases = [];
    for (const r of SERVER_ROUTES) for (const c of CALLERS) if (holds(r.perm, c)) cases.push([r, c]);
    const results = await inBatches(cases, 8, async ([r, c]) => send(r, c));
    const wrong = results.filter((res) => res.status === 401 || (res.status === 403 && res.json?.code === 'forbidden')
      || res.status >= 500).map((res) => `${res.where}: ${res.status} ${res.text}`);
    assert.deepEqual(wrong, []);
    process.stdout.write(`# allowed requests tried: ${cases.length}\n`);
  });

  test('invalid credentials get 401 on every route that is not public', async () => {
    const bad = [
      { name: 'malformed bearer', headers: { Authorization: 'Bearer not.a.token' } },
      { name: 'bearer of an unknown key', headers: { Authorization: `Bearer ${id.appToken(id.citizens[0], {}, { kid: 'nobody' })}` } },
      { name: 'expired app token', headers: null },
      { name: 'bad HMAC signature', headers: null },
    ];
    const cases = [];
    for (const r of SERVER_ROUTES.filter((x) => !x.public)) for (const b of bad) cases.push([r, b]);
    const results = await inBatches(cases, 8, async ([r, b]) => {
      let headers = b.headers;
      if (b.name === 'expired app token') {
        const now = Math.floor(Date.now() / 1000);
        headers = id.citizenHeaders(id.citizens[0], { iat: now - 4000, nbf: now - 4000, exp: now - 3700 });
      } else if (b.name === 'bad HMAC signature') {
        headers = { ...id.partnerHmacHeaders('agency', r.method, concretePath(r), ''), 'X-Onetrip-Signature': '0'.repeat(64) };
      }
      return { b, res: await send(r, null, { name: b.name, headers }) };
    });
    const wrong = results.filter(({ res }) => res.status !== 401).map(({ res }) => `${res.where}: ${res.status} ${res.text}`);
    assert.deepEqual(wrong, []);
    const uncoded = results.filter(({ res }) => typeof res.json?.code !== 'string').map(({ res }) => res.where);
    assert.deepEqual(uncoded, [], 'a 401 without a problem code');
  });
});

// ---------------------------------------------------------------------------------------
// Object level: every route that takes the id of one caller's object, tried by another
// caller of the same kind who holds the route's permission. Citizens' and partners' foreign
// objects answer 404 as if they did not exist (README, "Ownership": ids cannot be probed);
// an operator of another outlet acting on a case gets 403 `other_outlet` (staff see case
// numbers on paper anyway), never a success.

/** A body that passes a route's declared inputs, so that the handler's own check is reached. */
function validBody(r) {
  if (r.raw_body || r.method === 'GET' || r.method === 'DELETE') return undefined;
  const o = {};
  for (const f of r.body || []) {
    if (!f.required) continue;
    if (f.enum) o[f.name] = f.enum[0];
    else if (f.type === 'int') o[f.name] = Math.max(f.min ?? 1, 1);
    else if (f.type === 'bool') o[f.name] = true;
    else if (f.type === 'array') o[f.name] = Array.from({ length: Math.max(f.min_items ?? 0, 1) }, () => 'x');
    else if (f.type === 'date') o[f.name] = '2030-01-01';
    else o[f.name] = 'x'.repeat(Math.max(f.min_length ?? 1, 1));
  }
  return JSON.stringify(o);
}

/** Every route under `prefix` taking one path parameter, with its parameter set to value. */
function objectRoutes(prefix, value) {
  return SERVER_ROUTES.filter((r) => r.path.startsWith(prefix) && r.path_params.length === 1
    && r.path.slice(prefix.length).startsWith(`{${r.path_params[0].name}}`))
    .map((r) => ({ r, path: r.path.replace(`{${r.path_params[0].name}}`, encodeURIComponent(String(value))) }));
}

/** Sends route r on path as an authenticated caller: {headers, cert?, key?} or a partner HMAC signer. */
async function sendAs(who, r, path) {
  const body = validBody(r);
  const a = typeof who === 'function' ? who(r.method, path, body) : who();
  const headers = { ...a.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (r.idempotency !== 'none') headers['Idempotency-Key'] = randomHex(10);
  const res = await request(url(path), { method: r.method, headers, body, cert: a.cert, key: a.key });
  return { ...res, where: `${r.method} ${path}` };
}

describe('object level', () => {
  const cit = (c) => () => ({ headers: id.citizenHeaders(c) });
  let A;
  let B;

  before(async () => {
    A = id.citizens[1];
    B = id.citizens[2];
  });

  /** Tries every route of prefix with value as `other` (who holds each permission); expects 404. */
  async function expectInvisible(prefix, value, other, otherCaller, { except = [] } = {}) {
    const routes = objectRoutes(prefix, value).filter(({ r }) => holds(r.perm, otherCaller) && !except.includes(`${r.method} ${r.path}`));
    assert.ok(routes.length > 0, `${prefix}: no route to try`);
    const results = await inBatches(routes, 6, ({ r, path }) => sendAs(other, r, path));
    const wrong = results.filter((res) => res.status !== 404).map((res) => `${res.where}: ${res.status} ${res.text}`);
    assert.deepEqual(wrong, [], `${prefix}${value}: visible to another ${otherCaller.name}`);
    return results.length;
  }

  test("a citizen's cases are 404 to another citizen", async () => {
    const r = server.cli(['cases-file', 'VEH-TRANSFER', String(A.id), 'app']);
    assert.equal(r.code, 0, r.stderr);
    const [number] = r.stdout.trim().split(' ');
    const own = await request(url(`/v1/cases/${number}`), { headers: id.citizenHeaders(A) });
    assert.equal(own.status, 200, own.text);
    await expectInvisible('/v1/cases/', number, cit(B), { name: 'citizen', kind: 'citizen' });
    const list = await request(url('/v1/me/cases'), { headers: id.citizenHeaders(B) });
    assert.equal(list.status, 200, list.text);
    assert.ok(!list.json.items.some((x) => x.number === number));
  });

  test("a citizen's payment orders and violations are 404 to another citizen", async () => {
    // (receipts are verified publicly by number and code; a foreign order never shows one)
    const lic = await id.addLicence(A);
    const q = (x) => `'${String(x).replace(/'/g, "''")}'`;
    const vid = (state) => Number(server.sql('INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, ' +
      'occurred_at, place, code, description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES (' +
      `${q(`AZ${randomHex(8)}`)}, '浙A00001', 'K33', ${lic}, ${A.id}, UTC_TIMESTAMP(3), 'somewhere', '1345', 'speeding', 20000, 3, ` +
      `'traffic', 'camera', DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR) - INTERVAL 1 DAY, ${q(state)}, ` +
      `IF(${q(state)} = 'handled', UTC_TIMESTAMP(3), NULL), UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();`)[0][0]);
    const handled = vid('handled');
    // The order as the payments module writes it (no channel simulator in this file).
    const no = `P${Date.now()}${randomHex(4)}`.slice(0, 32);
    server.sql('INSERT INTO payment_orders (order_no, citizen_id, amount_fen, fine_fen, late_fee_fen, channel, expires_at, created_at) ' +
      `VALUES (${q(no)}, ${A.id}, 20000, 20000, 0, 'alipay', UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, UTC_TIMESTAMP(3))`);
    const own = await request(url(`/v1/payments/orders/${no}`), { headers: id.citizenHeaders(A) });
    assert.equal(own.status, 200, own.text);
    await expectInvisible('/v1/payments/orders/', no, cit(B), { name: 'citizen', kind: 'citizen' });
    const recorded = vid('recorded');
    await expectInvisible('/v1/violations/', recorded, cit(B), { name: 'citizen', kind: 'citizen' });
    const list = await request(url('/v1/me/violations'), { headers: id.citizenHeaders(B) });
    assert.equal(list.status, 200, list.text);
    assert.ok(!list.json.items.some((x) => x.id === recorded || x.id === handled));
  });

  test("a citizen's bindings and binding requests are 404 to a third citizen", async () => {
    const owner = await id.addCitizen();
    const plate = randomPlate();
    await id.addVehicle(owner, { plate });
    const a = await request(url('/v1/me/bindings'), {
      method: 'POST', json: { plate }, headers: { ...id.citizenHeaders(A), 'Idempotency-Key': randomHex(10) },
    });
    assert.equal(a.status, 201, a.text);
    const n = await expectInvisible('/v1/me/bindings/', a.json.id, cit(B), { name: 'citizen', kind: 'citizen' })
      + await expectInvisible('/v1/me/binding-requests/', a.json.id, cit(B), { name: 'citizen', kind: 'citizen' });
    assert.ok(n >= 2);
    const state = server.sql(`SELECT state FROM violation_bindings WHERE id = ${Number(a.json.id)}`);
    assert.deepEqual(state, [['pending']]);
  });

  test("a citizen's and a dealer's registrations are 404 to another citizen and another dealer", async () => {
    const fields = () => ({
      vehicle_type: 'K33', use_type: 'private', brand: '大众', model: '朗逸', vin: randomVin(),
      delivery: 'mail', mail_address: '浙江省杭州市西湖区文三路 1 号',
    });
    const mine = await request(url('/v1/registrations'), {
      method: 'POST', json: fields(), headers: { ...id.citizenHeaders(A), 'Idempotency-Key': randomHex(10) },
    });
    assert.equal(mine.status, 201, mine.text);
    await expectInvisible('/v1/registrations/', mine.json.id, cit(B), { name: 'citizen', kind: 'citizen' });
    // the dealer did not sell it: invisible to the dealer too
    const dealer = { name: 'partner:dealer', kind: 'partner', type: 'dealer' };
    await expectInvisible('/v1/registrations/', mine.json.id, () => ({ ...id.partnerTls('dealer'), headers: {} }), dealer);
    // a second dealer (own outlet, HMAC) against the first dealer's sale
    const tag = randomHex(3);
    const run = (args) => {
      const r = server.cli(args);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim();
    };
    run(['outlet', 'add', '--code', `AZ${tag}`, '--name', 'Dealer two', '--type', 'dealer', '--city', '杭州']);
    run(['partner', 'add', `az-dealer2-${tag}`, '--type', 'dealer', '--outlet', `AZ${tag}`]);
    const m = /key_id=(\S+) secret=([0-9a-f]{64})/.exec(run(['partner', 'hmac', `az-dealer2-${tag}`]));
    assert.ok(m);
    const sold = await request(url('/v1/registrations'), {
      method: 'POST', json: { ...fields(), id_number: A.idNumber }, ...id.partnerTls('dealer'),
      headers: { 'Idempotency-Key': randomHex(10) },
    });
    assert.equal(sold.status, 201, sold.text);
    const dealer2 = (method, path, body) => ({
      headers: id.partnerHmacHeaders('dealer', method, path, body ?? '', { keyId: m[1], secret: m[2] }),
    });
    await expectInvisible('/v1/registrations/', sold.json.id, dealer2, dealer);
    const list = await request(url('/v1/registrations'), dealer2('GET', '/v1/registrations'));
    assert.equal(list.status, 200, list.text);
    assert.ok(!list.json.items.some((x) => x.id === sold.json.id || x.id === mine.json.id));
  });

  test("an outlet's cases: another outlet's operator or partner is refused (403 other/not_your_outlet or 404)", async () => {
    const file = (channel, outlet) => {
      const r = server.cli(['cases-file', 'VEH-REG-NEW', String(A.id), channel, String(outlet)]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split(' ')[0];
    };
    const tries = [
      [file('window', id.outlets.windowA), { name: 'operator:window', kind: 'operator', role: 'window' },
        async () => ({ headers: await id.operatorHeaders('window2') })],
      [file('dealer', id.outlets.dealer), { name: 'partner:post', kind: 'partner', type: 'post' },
        () => ({ ...id.partnerTls('post'), headers: {} })],
      [file('dealer', id.outlets.dealer), { name: 'partner:insurer', kind: 'partner', type: 'insurer' },
        (method, path, body) => ({ headers: id.partnerHmacHeaders('insurer', method, path, body ?? '') })],
    ];
    const wrong = [];
    for (const [number, caller, auth] of tries) {
      const before = server.sql(`SELECT trips, state FROM cases WHERE number = '${number}'`);
      // operators may read any case (cases.read, audited): only the outlet's actions are tried
      const routes = objectRoutes('/v1/cases/', number).filter(({ r }) => holds(r.perm, caller) && r.perm !== 'cases.read' && !r.public);
      assert.ok(routes.length > 0, caller.name);
      for (const { r, path } of routes) {
        const a = await auth(r.method, path, validBody(r));
        const res = await sendAs(() => a, r, path);
        // other_outlet (trips, transitions, supplements) and not_your_outlet (rating)
        if (!((res.status === 403 && ['other_outlet', 'not_your_outlet'].includes(res.json?.code)) || res.status === 404)) {
          wrong.push(`${caller.name} ${res.where}: ${res.status} ${res.text}`);
        }
      }
      assert.deepEqual(server.sql(`SELECT trips, state FROM cases WHERE number = '${number}'`), before, caller.name);
    }
    assert.deepEqual(wrong, []);
  });
});
