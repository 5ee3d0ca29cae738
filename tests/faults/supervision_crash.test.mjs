// Faults (issue 14): no supervision alert is lost when onetripd dies between a business commit
// and the rules' evaluation. The server runs with its event consumers off (events.enabled = 0),
// so the triggering events are certainly committed and certainly not evaluated; it is killed
// with SIGKILL, restarted with the consumers on, and the alert appears, counting each event
// exactly once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { startServer, request, randomHex, sleep, waitFor } from '../integration/lib/harness.mjs';
import { setupIdentity, randomPlate } from '../integration/lib/identity.mjs';
import { ensureHandlingItem, violationBody } from '../integration/lib/fixtures.mjs';

let server;
let id;

const idem = () => ({ 'Idempotency-Key': `k-${randomHex(12)}` });
const count = (query) => Number(server.sql(query)[0][0]);

before(async () => {
  server = await startServer({ prefix: 'faults_sup', overrides: { 'jobs.enabled': 0, 'events.enabled': 0 } });
  id = await setupIdentity(server, { partners: ['agency'] });
  ensureHandlingItem(server.db.name);
});

after(async () => {
  if (server) await server.stop();
});

async function driver() {
  const c = await id.addCitizen();
  const licenceId = await id.addLicence(c, {});
  const plate = randomPlate();
  await id.addVehicle(c, { plate });
  return { c, licenceId, plate };
}

test('an alert whose events committed before a kill -9 appears after the restart, each event counted once', async () => {
  const owner = await driver();
  const other = await driver();
  const r = await request(`${server.httpsUrl}/v1/violations`, {
    method: 'POST', json: violationBody({ plate: owner.plate, points: 3 }), headers: idem(), ...id.partnerTls('agency'),
  });
  assert.equal(r.status, 201, r.text);
  const v = r.json;
  // Two attempts by a stranger: both refused, both committed with their outbox events.
  for (let i = 0; i < 2; i++) {
    const h = await request(`${server.httpsUrl}/v1/violations/${v.id}/handle`, {
      method: 'POST', json: { decision_no: v.decision_no }, headers: { ...id.citizenHeaders(other.c), ...idem() },
    });
    assert.equal(h.status, 403, h.text);
  }
  const events = server.sql("SELECT id FROM app_events WHERE type = 'violations.handle_refused' " +
    `AND subject_id = ${other.licenceId} ORDER BY id`).map((x) => Number(x[0]));
  assert.equal(events.length, 2);
  // With the consumers off nothing evaluates them (several poll intervals pass).
  await sleep(1000);
  assert.equal(count("SELECT COUNT(*) FROM app_event_cursors WHERE consumer = 'supervision.rules' " +
    `AND last_id >= ${events[0]}`), 0);
  assert.equal(count('SELECT COUNT(*) FROM sup_alerts'), 0);

  server.proc.kill('SIGKILL');
  const dead = await server.proc.exited;
  assert.equal(dead.signal, 'SIGKILL');
  // Restart normally: the consumers on.
  const conf = fs.readFileSync(server.configPath, 'utf8');
  const on = conf.replace(/(\[events\]\n(?:[^[]*\n)?)enabled = 0\n/, '$1enabled = 1\n');
  assert.notEqual(on, conf, 'the config names events.enabled');
  fs.writeFileSync(server.configPath, on);
  await server.restart();

  const headers = await id.operatorHeaders('supervisor');
  const q = `subject_kind=licence&subject_id=${other.licenceId}`;
  const alert = await waitFor(async () => {
    const a = await request(`${server.httpsUrl}/v1/supervision/alerts?${q}`, { headers });
    assert.equal(a.status, 200, a.text);
    return a.json.items.find((x) => x.rule_code === 'points_unrelated' && x.hits >= 2);
  }, { timeoutMs: 60000, intervalMs: 100, what: 'the alert after the restart' });
  assert.equal(alert.hits, 2);
  assert.equal(alert.state, 'open');
  const d = await request(`${server.httpsUrl}/v1/supervision/alerts/${alert.id}`, { headers });
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.json.evidence.map((e) => e.event_id), events);
  assert.ok(d.json.evidence.every((e) => e.detail.violation_id === v.id));
  // Handled once: the cursor passed both events and one alert holds them.
  await waitFor(() => count("SELECT COUNT(*) FROM app_event_cursors WHERE consumer = 'supervision.rules' " +
    `AND last_id >= ${events[1]}`) === 1, { what: 'the cursor to pass the events' });
  assert.equal(count(`SELECT COUNT(*) FROM sup_alerts WHERE subject_kind = 'licence' AND subject_id = ${other.licenceId}`), 1);
});
