// Faults (issue 16): kill -9 of onetripd under load. Many clients create violations (agency
// partner over mutual TLS) and payment orders (citizens) with Idempotency-Keys; the server
// is killed mid-load with at least one request certainly in flight (held on a row lock),
// restarted, and every client retries its keys. Afterwards every action is applied exactly
// once, nothing is half-applied, the audit chain verifies, and the keys in flight at the
// crash are answered within seconds of the restart instead of after idempotency.stale_s.
// Also: a live process's in-flight key is not taken over, even past idempotency.orphan_s.
//
// Size: ONETRIP_FAULTS_CLIENTS (16) clients, ONETRIP_FAULTS_ROUNDS (1) crash rounds;
// ops/faults runs more of both.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request, randomHex, waitFor, simTls, tlsPaths } from '../integration/lib/harness.mjs';
import { setupIdentity } from '../integration/lib/identity.mjs';
import { violationBody } from '../integration/lib/fixtures.mjs';
import { startSim } from '../sim/channel-sim.mjs';
import { holdRowLock } from './lib.mjs';

const CLIENTS = Math.max(2, Number(process.env.ONETRIP_FAULTS_CLIENTS || 16));
const ROUNDS = Math.max(1, Number(process.env.ONETRIP_FAULTS_ROUNDS || 1));
const OPS_PER_CLIENT = 40;
// Generous: only a hang or the old 300 s stale window breaks it, not a slow machine.
const RETRY_BOUND_MS = 60000;
const ORPHAN_S = 5;

let server;
let sim;
let id;
const holders = [];
let seq = 0;

const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const count = (query) => Number(server.sql(query)[0][0]);

before(async () => {
  // The channel simulator makes the payment channels available to orders.
  sim = await startSim({ ca: tlsPaths.ca, tls: simTls() });
  server = await startServer({
    prefix: 'faults',
    overrides: { ...sim.overrides(), 'jobs.enabled': 0, 'workers.count': 8, 'idempotency.orphan_s': ORPHAN_S },
  });
  sim.onetripUrl = server.httpsUrl;
  id = await setupIdentity(server, { citizens: Math.min(8, Math.ceil(CLIENTS / 2)), partners: ['agency'] });
  for (const c of id.citizens) c.licence = await id.addLicence(c);
});

after(async () => {
  for (const h of holders) await h.release().catch(() => {});
  if (server) await server.stop();
  if (sim) await sim.stop();
});

/** n handled violations of citizen c, inserted directly; their ids. */
function handledViolations(c, n) {
  const tag = `F${randomHex(5)}`;
  const rows = [];
  for (let i = 0; i < n; i++) {
    seq += 1;
    rows.push(`(${q(`${tag}-${i}`)}, ${q(`浙A${String(seq % 100000).padStart(5, '0')}`)}, 'K33', ${c.licence}, ${c.id}, ` +
      "UTC_TIMESTAMP(3), 'somewhere', '1345', 'speeding', 20000, 3, 'traffic', 'camera', " +
      "DATE(UTC_TIMESTAMP() + INTERVAL 8 HOUR) - INTERVAL 1 DAY, 'handled', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))");
  }
  server.sqlExec('INSERT INTO violations (decision_no, plate, vehicle_type, licence_id, citizen_id, occurred_at, place, ' +
    'code, description, fine_fen, points, agency, source, served_date, state, handled_at, created_at) VALUES ' +
    `${rows.join(', ')}`);
  return server.sql(`SELECT id FROM violations WHERE decision_no LIKE '${tag}-%' ORDER BY id`).map((r) => Number(r[0]));
}

/** One mutating action with its key; send() may be repeated (a retry). */
function violationOp() {
  const body = JSON.stringify(violationBody());
  const op = { kind: 'violation', key: randomHex(16), body, decision: JSON.parse(body).decision_no };
  op.send = () => request(`${server.httpsUrl}/v1/violations`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'Idempotency-Key': op.key },
    ...id.partnerTls('agency'), timeoutMs: 120000,
  });
  return op;
}
function orderOp(citizen, violationId) {
  const op = { kind: 'order', key: randomHex(16), citizen, violationId };
  op.send = () => request(`${server.httpsUrl}/v1/payments/orders`, {
    method: 'POST', headers: { ...id.citizenHeaders(citizen), 'Idempotency-Key': op.key },
    json: { violation_ids: [violationId], channel: 'alipay' }, timeoutMs: 120000,
  });
  return op;
}

const inFlight = (r) => r && r.status === 409 && r.json?.code === 'idempotency_key_in_flight';
/** An answer a client must retry: no answer, the server busy or down, or the key in flight. */
const mustRetry = (r) => !r || r.status === 503 || inFlight(r);

async function attempt(op) {
  try { return await op.send(); } catch (e) { return { error: e.code || e.message }; }
}

/** Retry op until it gets a final answer; bounded. Returns {answer, ms}. */
async function retryUntilAnswered(op) {
  const t0 = Date.now();
  for (;;) {
    const r = await attempt(op);
    if (!r.error && !mustRetry(r)) return { answer: r, ms: Date.now() - t0 };
    if (Date.now() - t0 > RETRY_BOUND_MS) {
      throw new Error(`${op.kind} key ${op.key} still unanswered after ${RETRY_BOUND_MS} ms: ` +
        `${r.error || `${r.status} ${r.text}`}`);
    }
    await new Promise((res) => setTimeout(res, r.headers?.['retry-after'] ? 250 : 100));
  }
}

describe('kill -9 under load', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    test(`round ${round}: every action applied exactly once; orphaned keys answered at once`, async (t) => {
      // Load: half the clients send violations, half create orders on their own violations.
      const clients = [];
      for (let k = 0; k < CLIENTS; k++) {
        const citizen = k % 2 ? id.citizens[Math.floor(k / 2) % id.citizens.length] : null;
        const vids = citizen ? handledViolations(citizen, OPS_PER_CLIENT) : [];
        clients.push({ citizen, vids, ops: [] });
      }
      // The sentinel: an order creation certainly in flight at the crash (claim committed,
      // its transaction waiting for a row lock held from outside).
      const sc = id.citizens[0];
      const [sv] = handledViolations(sc, 1);
      const hold = await holdRowLock(server.db.name, `SELECT id FROM violations WHERE id = ${sv}`);
      holders.push(hold);
      const sentinel = orderOp(sc, sv);
      let sentinelDone = false;
      const sentinelFirst = attempt(sentinel).then((r) => { sentinelDone = true; return r; });
      await waitFor(() => count(`SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = '${sentinel.key}' ` +
        "AND state = 'in_flight'") === 1, { what: 'the sentinel claim' });

      let killed = false;
      let acked = 0;
      const loops = clients.map(async (cl) => {
        for (let i = 0; i < OPS_PER_CLIENT && !killed; i++) {
          const op = cl.citizen ? orderOp(cl.citizen, cl.vids[i]) : violationOp();
          cl.ops.push(op);
          op.first = await attempt(op);
          if (op.first.status === 201) acked += 1;
          if (op.first.error) break; // the server is gone
        }
      });
      await waitFor(() => acked >= CLIENTS * 2 || clients.every((cl) => cl.ops.length >= OPS_PER_CLIENT),
        { timeoutMs: 300000, intervalMs: 20, what: 'load to be acknowledged' });
      assert.equal(sentinelDone, false, 'the sentinel must still be in flight at the crash');
      server.proc.kill('SIGKILL');
      killed = true;
      await server.proc.exited;
      await Promise.all(loops);
      const first = await sentinelFirst;
      assert.ok(first.error || first.status >= 500, `sentinel answered before the crash: ${first.status}`);
      // The claim survives the crash, owned by a dead process.
      assert.equal(count(`SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = '${sentinel.key}' AND state = 'in_flight'`), 1);
      await hold.release();

      await server.restart();
      // Keys in flight at the crash are answered within seconds, not after the stale window.
      const { answer: sa, ms } = await retryUntilAnswered(sentinel);
      assert.equal(sa.status, 201, sa.text);
      assert.ok(ms < RETRY_BOUND_MS, `sentinel answered after ${ms} ms`);

      const ops = clients.flatMap((cl) => cl.ops);
      const results = await Promise.all(ops.map((op) => retryUntilAnswered(op)));
      let replays = 0;
      for (const [i, op] of ops.entries()) {
        const { answer } = results[i];
        assert.equal(answer.status, 201, `${op.kind} ${op.key}: ${answer.status} ${answer.text}`);
        if (op.first.status === 201) {
          // An acknowledged action: the retry is its stored answer, not a second effect.
          assert.equal(answer.headers['idempotent-replayed'], 'true');
          assert.equal(answer.text, op.first.text);
          replays += 1;
        }
      }
      assert.ok(replays >= CLIENTS, `only ${replays} acknowledged before the crash`);
      t.diagnostic(`${ops.length} actions, ${replays} acknowledged before the crash, ` +
        `${ops.length - replays} retried to completion; the sentinel answered ${ms} ms after the restart`);

      // Exactly once, nothing half-applied.
      const decisions = ops.filter((o) => o.kind === 'violation').map((o) => q(o.decision));
      if (decisions.length) {
        assert.equal(count(`SELECT COUNT(*) FROM violations WHERE decision_no IN (${decisions.join(',')})`), decisions.length);
        assert.equal(count(`SELECT COUNT(DISTINCT decision_no) FROM violations WHERE decision_no IN (${decisions.join(',')})`), decisions.length);
      }
      const vids = [...ops.filter((o) => o.kind === 'order').map((o) => o.violationId), sv];
      assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE violation_id IN (${vids.join(',')})`), vids.length);
      assert.equal(count(`SELECT COUNT(DISTINCT violation_id) FROM payment_order_items WHERE violation_id IN (${vids.join(',')})`), vids.length);
      assert.equal(count('SELECT COUNT(*) FROM payment_orders o WHERE NOT EXISTS ' +
        '(SELECT 1 FROM payment_order_items i WHERE i.order_id = o.id)'), 0, 'an order without items');
      assert.equal(count("SELECT COUNT(*) FROM idempotency_keys WHERE state = 'in_flight'"), 0);
      const keys = [...ops.map((o) => q(o.key)), q(sentinel.key)];
      assert.equal(count(`SELECT COUNT(*) FROM idempotency_keys WHERE state = 'done' AND status = 201 ` +
        `AND idem_key IN (${keys.join(',')})`), keys.length);
      const verify = server.cli(['audit', 'verify']);
      assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
    });
  }
});

describe('a live process keeps its claims', () => {
  test('a duplicate while the first is in flight is 409, even past the orphan limit', async () => {
    const c = id.citizens[0];
    const [v] = handledViolations(c, 1);
    const hold = await holdRowLock(server.db.name, `SELECT id FROM violations WHERE id = ${v}`);
    holders.push(hold);
    const op = orderOp(c, v);
    const first = attempt(op);
    await waitFor(() => count(`SELECT COUNT(*) FROM idempotency_keys WHERE idem_key = '${op.key}' ` +
      "AND state = 'in_flight'") === 1, { what: 'the claim' });
    // Older than the orphan limit: only a dead process's claim may go now.
    await waitFor(() => count(`SELECT TIMESTAMPDIFF(SECOND, updated_at, UTC_TIMESTAMP(3)) > ${ORPHAN_S} ` +
      `FROM idempotency_keys WHERE idem_key = '${op.key}'`) === 1, { what: 'the claim to age', intervalMs: 250 });
    const dup = await attempt(op);
    assert.equal(dup.status, 409, dup.text);
    assert.equal(dup.json.code, 'idempotency_key_in_flight');
    assert.equal(dup.headers['retry-after'], '1');
    await hold.release();
    const r = await first;
    assert.equal(r.status, 201, r.text);
    const again = await attempt(op);
    assert.equal(again.status, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.text, r.text);
    assert.equal(count(`SELECT COUNT(*) FROM payment_order_items WHERE violation_id = ${v}`), 1);
  });
});
