// `onetripd seed`: the demo city is a pure function of the seed and the sizes. Checksums of
// every clear column of the seeded tables are pinned to the values the generator made before
// it moved from db/seed.c into the modules' seed hooks: a change of any row is a change of
// the demo data (ops/run, the README tour) and must be deliberate. Sealed and keyed columns
// (ID numbers, phones and their lookup hashes) depend on the PII keys, which differ per
// server; tests/unit/check_seed.c pins the ID numbers themselves.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/harness.mjs';

// One MD5 per table over all its clear columns, rows in id order (NULL as '-').
const col = (c) => `COALESCE(${c}, '-')`;
const digest = (table, cols) =>
  `(SELECT CONCAT(COUNT(*), ':', COALESCE(MD5(GROUP_CONCAT(CONCAT_WS('|', ${cols.map(col).join(', ')}) ` +
  `ORDER BY id SEPARATOR '\\n')), '-')) FROM ${table})`;
const TABLES = {
  outlets: ['id', 'code', 'name', 'type', 'city', 'address', 'created_at'],
  citizens: ['id', 'name', 'birth_date', 'disabled', 'address', 'created_at'],
  licences: ['id', 'citizen_id', 'file_no', 'classes', 'points', 'cycle_start', 'status', 'valid_from',
    'valid_until', 'next_medical_date', 'created_at'],
  vehicles: ['id', 'plate', 'vin', 'engine_no', 'vehicle_type', 'class_required', 'use_type', 'brand',
    'model', 'owner_citizen_id', 'status', 'next_inspection_date', 'registered_at'],
};
const CHECKSUMS = `SELECT ${Object.entries(TABLES).map(([t, c]) => digest(t, c)).join(', ')}, ` +
  '(SELECT CONCAT(seed, \':\', people, \':\', vehicles) FROM demo_seed)';

function checksums(server) {
  const [row] = server.sql(`SET SESSION group_concat_max_len = 1073741824; ${CHECKSUMS}`);
  const names = [...Object.keys(TABLES), 'demo_seed'];
  return Object.fromEntries(names.map((n, i) => [n, row[i]]));
}

// Made by the generator in db/seed.c (commit 59193a8), before the move.
const CITY_300_5 = {
  outlets: '42:3a2afbac93675514e3e9322b8598158f',
  citizens: '300:70efc43f005854ed986235816fdabe7f',
  licences: '300:7c3175c6937700a9f8abeb58498db373',
  vehicles: '360:a90e01056275d4c7ca4b8a9b9f382ffa',
  demo_seed: '5:300:360',
};
const CITY_40_9_SU = {
  outlets: '42:b727c5e2259f5b4f6a4d502e8a457e63',
  citizens: '40:9974b9db028183fbf6db19b211a4d2fd',
  licences: '40:a16afc982d51bbaecc1937fcf2765128',
  vehicles: '100:9b0735ff24533cf594cbbc591ea115e6',
  demo_seed: '9:40:100',
};

describe('seed', () => {
  test('the same seed and sizes make the same city, row for row; a second run loads nothing', async () => {
    const s = await startServer({ prefix: 'seed_golden', overrides: { 'jobs.enabled': 0 } });
    try {
      const first = s.cli(['seed', '--people', '300', '--seed', '5']);
      assert.equal(first.code, 0, first.stderr);
      const loaded = Number(/loaded (\d+) rows/.exec(first.stdout)?.[1]);
      const sums = checksums(s);
      assert.deepEqual(sums, CITY_300_5);
      const rows = Object.keys(TABLES).reduce((n, t) => n + Number(sums[t].split(':')[0]), 0);
      assert.equal(loaded, rows, 'every generated row was loaded');
      const again = s.cli(['seed', '--people', '300', '--seed', '5']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /nothing loaded/);
      assert.deepEqual(checksums(s), CITY_300_5);
    } finally {
      await s.stop();
    }
  });

  test('--vehicles and --plate-prefix; a run that died midway is completed with the same rows', async () => {
    const s = await startServer({ prefix: 'seed_opts', overrides: { 'jobs.enabled': 0 } });
    const args = ['seed', '--people', '40', '--vehicles', '100', '--seed', '9', '--plate-prefix', '苏E'];
    try {
      const first = s.cli(args);
      assert.equal(first.code, 0, first.stderr);
      const sums = checksums(s);
      assert.deepEqual(sums, CITY_40_9_SU);
      for (const [p] of s.sql('SELECT plate FROM vehicles')) assert.match(p, /^苏E[0-9A-HJ-NP-Z]{5}$/);
      // As if the run had died after the first vehicles: no marker, rows missing.
      s.sql('DELETE FROM demo_seed; DELETE FROM vehicles WHERE id > 30');
      const resumed = s.cli(args);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /loaded 70 rows/);
      assert.deepEqual(checksums(s), CITY_40_9_SU);
    } finally {
      await s.stop();
    }
  });

  test('options the generators cannot honour are refused before anything is written', async () => {
    const s = await startServer({ prefix: 'seed_bad', overrides: { 'jobs.enabled': 0 } });
    try {
      const prefix = s.cli(['seed', '--people', '10', '--plate-prefix', 'XA']);
      assert.equal(prefix.code, 1);
      assert.match(prefix.stderr, /plate prefix XA/);
      const plates = s.cli(['seed', '--people', '10', '--vehicles', '7060001']);
      assert.equal(plates.code, 1);
      assert.match(plates.stderr, /vehicles: at most 7060000/);
      const unknown = s.cli(['seed', '--people', '10', '--colour', 'red']);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown option --colour/);
      assert.deepEqual(s.sql('SELECT (SELECT COUNT(*) FROM citizens), (SELECT COUNT(*) FROM demo_seed)')[0],
        ['0', '0']);
    } finally {
      await s.stop();
    }
  });
  // ops/bench's population: violations and cases made by MariaDB from (seed, index).
  test('--violations and --cases: deterministic rows tied to the seeded vehicles, licences and citizens', async () => {
    const args = ['seed', '--people', '200', '--vehicles', '150', '--violations', '1000', '--cases', '300',
      '--seed', '4', '--progress'];
    const VCOLS = ['id', 'decision_no', 'plate', 'vehicle_type', 'vehicle_id', 'licence_id', 'citizen_id', 'occurred_at',
      'place', 'code', 'description', 'fine_fen', 'points', 'agency', 'source', 'served_date', 'state', 'handled_at',
      'paid_at', 'created_at'];
    const CCOLS = ['id', 'number', 'query_code', 'item_code', 'catalog_version_id', 'category', 'applicant_id', 'channel',
      'state', 'submitted_at', 'submitted_day', 'promised_days', 'deadline', 'completed_at', 'completed_day', 'trips'];
    const sums = `SET SESSION group_concat_max_len = 1073741824; SELECT ${digest('violations', VCOLS)}, ${digest('cases', CCOLS)}`;
    const a = await startServer({ prefix: 'seed_bench_a', overrides: { 'jobs.enabled': 0 } });
    const b = await startServer({ prefix: 'seed_bench_b', overrides: { 'jobs.enabled': 0 } });
    try {
      const ra = a.cli(args);
      assert.equal(ra.code, 0, ra.stderr);
      assert.match(ra.stderr, /violations\s+1000\/1000 rows/, '--progress shows progress without a terminal');
      assert.match(ra.stderr, /cases\s+300\/300 rows/);
      const rb = b.cli(args);
      assert.equal(rb.code, 0, rb.stderr);
      const [va, ca] = a.sql(sums)[0];
      assert.deepEqual(b.sql(sums)[0], [va, ca], 'the same seed and sizes make the same violations and cases');
      assert.match(va, /^1000:/);
      assert.match(ca, /^300:/);

      // Every violation is of a seeded vehicle; handled and paid ones on its owner's licence.
      const bad = a.sql(`SELECT
          (SELECT COUNT(*) FROM violations v JOIN vehicles ve ON ve.id = v.vehicle_id
            WHERE v.plate <> ve.plate OR v.vehicle_type <> ve.vehicle_type),
          (SELECT COUNT(*) FROM violations v JOIN vehicles ve ON ve.id = v.vehicle_id
            LEFT JOIN licences l ON l.citizen_id = ve.owner_citizen_id
            WHERE v.state IN ('handled', 'paid') AND (v.licence_id <> l.id OR v.citizen_id <> ve.owner_citizen_id
              OR v.handled_at IS NULL OR v.licence_id IS NULL)),
          (SELECT COUNT(*) FROM violations WHERE state = 'recorded' AND (licence_id IS NOT NULL OR citizen_id IS NOT NULL)),
          (SELECT COUNT(*) FROM violations WHERE (state = 'paid') <> (paid_at IS NOT NULL)),
          (SELECT COUNT(*) FROM violations WHERE vehicle_id IS NULL OR fine_fen <= 0 OR code = '')`)[0];
      assert.deepEqual(bad, ['0', '0', '0', '0', '0']);
      const spread = a.sql(`SELECT COUNT(DISTINCT agency), COUNT(DISTINCT state), COUNT(DISTINCT vehicle_id),
          SUM(state = 'paid') > SUM(state = 'recorded') FROM violations`)[0].map(Number);
      assert.ok(spread[0] >= 4, `agencies: ${spread[0]}`);
      assert.equal(spread[1], 3, 'paid, handled and recorded violations');
      assert.ok(spread[2] > 100, `violations over most vehicles: ${spread[2]}`);
      assert.equal(spread[3], 1, 'most violations paid');

      // Cases: completed, of seeded citizens, numbers the routes accept.
      const cases = a.sql(`SELECT
          (SELECT COUNT(*) FROM cases c LEFT JOIN citizens z ON z.id = c.applicant_id
            LEFT JOIN catalog_versions cv ON cv.id = c.catalog_version_id
            WHERE z.id IS NULL OR cv.id IS NULL OR cv.item_code <> c.item_code OR c.state <> 'completed'
              OR c.completed_day < c.submitted_day OR c.number NOT REGEXP '^C0[0-9]{14}$'),
          (SELECT COUNT(DISTINCT channel) FROM cases)`)[0].map(Number);
      assert.equal(cases[0], 0);
      assert.ok(cases[1] >= 4);

      // citizen seed-ids: the ID numbers of the seeded citizens, in row order.
      const ids = a.cli(['citizen', 'seed-ids', '--seed', '4', '--count', '3']);
      assert.equal(ids.code, 0, ids.stderr);
      const lines = ids.stdout.trim().split('\n');
      assert.equal(lines.length, 3);
      for (const [i, idn] of lines.entries()) {
        const birth = `${idn.slice(6, 10)}-${idn.slice(10, 12)}-${idn.slice(12, 14)}`;
        const r = a.cli(['citizen', 'add', '--name', '重复', '--id-number', idn, '--birth', birth]);
        assert.equal(r.code, 3, `${idn} is a seeded citizen's number: ${r.stderr}`);
        assert.equal(r.stdout.trim(), String(i + 1), 'citizen index i is row i + 1');
      }
      assert.equal(a.cli(['citizen', 'seed-ids', '--seed', '4']).code, 2);
      assert.equal(a.cli(['citizen', 'seed-ids', '--seed', '4', '--count', '-1']).code, 2);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('--violations and --cases refuse what they cannot make; 0 (the default) makes none', async () => {
    const s = await startServer({ prefix: 'seed_bench_bad', overrides: { 'jobs.enabled': 0 } });
    try {
      const neg = s.cli(['seed', '--people', '10', '--violations', '-1']);
      assert.equal(neg.code, 2);
      assert.match(neg.stderr, /--violations and --cases must be between 0 and 1000000000/);
      const noVehicles = s.cli(['seed', '--people', '10', '--vehicles', '0', '--violations', '5']);
      assert.equal(noVehicles.code, 1);
      assert.match(noVehicles.stderr, /violations: need at least one vehicle/);
      assert.equal(s.sql('SELECT COUNT(*) FROM citizens')[0][0], '0', 'refused before anything was written');
      const plain = s.cli(['seed', '--people', '10']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.deepEqual(s.sql('SELECT (SELECT COUNT(*) FROM violations), (SELECT COUNT(*) FROM cases)')[0], ['0', '0']);
    } finally {
      await s.stop();
    }
  });
});
