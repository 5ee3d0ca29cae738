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
});
