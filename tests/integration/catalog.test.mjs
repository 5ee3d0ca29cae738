// Catalog: public reading, filters, the one-time notice, versioned administrator changes
// (a case keeps the version it was filed under), and the reform's figures against a small
// hand-computed data set (GET /v1/figures, JSON and CSV, rollup job and live today).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, request } from './lib/harness.mjs';
import { setupIdentity } from './lib/identity.mjs';

let server;
let id;
const url = (p) => `${server.httpsUrl}${p}`;

before(async () => {
  server = await startServer({ prefix: 'catalog', overrides: { 'jobs.enabled': 0 } });
  id = await setupIdentity(server);
});
after(async () => { if (server) await server.stop(); });

// Each of these anonymous GETs answers status.
async function expectStatus(status, ...paths) {
  for (const p of paths) assert.equal((await request(url(p))).status, status, p);
}

describe('public catalog', () => {
  test('about eighty items with the codes other modules use', async () => {
    const r = await request(url('/v1/catalog/items'));
    assert.equal(r.status, 200);
    assert.ok(r.json.items.length >= 75, `only ${r.json.items.length} items`);
    const by = Object.fromEntries(r.json.items.map((x) => [x.code, x]));
    assert.deepEqual(by['VEH-REG-NEW'].channels, ['app', 'window', 'dealer']);
    assert.equal(by['VEH-REG-NEW'].trips, 1);
    assert.deepEqual(by['VIO-HANDLE'].channels, ['app', 'window', 'post']);
    assert.equal(by['VIO-PAY'].trips, 0);
    assert.deepEqual(by['DRV-MEDICAL'].channels, ['app', 'hospital']);
    assert.deepEqual(by['VEH-SEIZE'].channels, ['court']);
    for (const cat of ['vehicle', 'driver', 'violation', 'permit']) assert.ok(r.json.items.some((x) => x.category === cat));
  });

  test('filters by category and channel; bad filters 400', async () => {
    const r = await request(url('/v1/catalog/items?category=violation&channel=post'));
    assert.equal(r.status, 200);
    assert.ok(r.json.items.length > 0);
    assert.ok(r.json.items.every((x) => x.category === 'violation' && x.channels.includes('post')));
    await expectStatus(400, '/v1/catalog/items?category=boats', '/v1/catalog/items?channel=fax');
  });

  test('one item with its full guide; unknown code 404', async () => {
    const r = await request(url('/v1/catalog/items/VEH-REG-NEW'));
    assert.equal(r.status, 200);
    assert.ok(r.json.materials.some((m) => m.key === true));
    assert.ok(r.json.materials.some((m) => m.key === false));
    assert.ok(r.json.fees.every((f) => Number.isInteger(f.fen)));
    assert.ok(r.json.steps.length > 0 && r.json.legal_basis.length > 0);
    await expectStatus(404, '/v1/catalog/items/NOPE-NOPE', '/v1/catalog/items/bad%20code');
  });

  test('the printable notice is one UTF-8 HTML page with materials, fees and limits', async () => {
    const r = await request(url('/v1/catalog/items/VEH-REG-NEW/notice'));
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /text\/html; charset=utf-8/);
    for (const s of ['注册登记（新车上牌）', '购车发票', '号牌工本费', '100.00', '承诺时限 1 个工作日', '最多跑一次']) {
      assert.ok(r.text.includes(s), `notice lacks ${s}`);
    }
    assert.equal((await request(url('/v1/catalog/items/NOPE-NOPE/notice'))).status, 404);
  });
});

describe('administrator changes', () => {
  const body = {
    name: '测试事项<script>', category: 'permit', channels: ['app', 'window'], trips: 0,
    statutory_days: 5, promised_days: 2, materials: [{ name: '申请书', key: true }, { name: '照片', key: false }],
    fees: [{ name: '工本费', fen: 1050 }], steps: ['网上申请', '审核'], legal_basis: '测试依据',
  };
  test('PUT creates then versions an item; old cases keep their version', async () => {
    const h = await id.operatorHeaders('admin');
    let r = await request(url('/v1/catalog/items/TST-ITEM'), { method: 'PUT', json: body, headers: h });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.version, 1);
    const f = server.cli(['cases-file', 'TST-ITEM', String(id.citizens[0].id), 'app']);
    assert.equal(f.code, 0, f.stderr);
    const number = f.stdout.split(' ')[0];
    r = await request(url('/v1/catalog/items/TST-ITEM'), { method: 'PUT', json: { ...body, promised_days: 4 }, headers: h });
    assert.equal(r.status, 200);
    assert.equal(r.json.version, 2);
    assert.equal(r.json.promised_days, 4);
    const c = await request(url(`/v1/cases/${number}`), { headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(c.json.item.version, 1);
    assert.equal(c.json.promised_days, 2);
    const n = await request(url('/v1/catalog/items/TST-ITEM/notice'));
    assert.ok(n.text.includes('&lt;script&gt;') && !n.text.includes('<script>'));
    assert.ok(n.text.includes('10.50'));
  });

  test('invalid items, wrong roles and anonymous callers are refused', async () => {
    const h = await id.operatorHeaders('admin');
    const bad = [
      [{ ...body, category: 'boats' }, 'category'],
      [{ ...body, channels: ['app', 'app'] }, 'channels'],
      [{ ...body, trips: 2 }, 'trips'],
      [{ ...body, promised_days: 9 }, 'promised_days'],
      [{ ...body, materials: [{ name: 'x' }] }, 'materials'],
      [{ ...body, fees: [{ name: 'x', fen: -1 }] }, 'fees'],
      [{ ...body, fees: [{ name: 'x', fen: 1e13 }, { name: 'y', fen: 1e13 }] }, 'fees'],
      [{ ...body, materials: [{ name: 'x', key: true, note: 7 }] }, 'materials'],
      [{ ...body, steps: ['s'.repeat(70000)] }, 'steps'],
      [{ ...body, steps: [] }, 'steps'],
      [{ ...body, extra: 1 }, 'extra'],
    ];
    for (const [b, field] of bad) {
      const r = await request(url('/v1/catalog/items/TST-BAD'), { method: 'PUT', json: b, headers: h });
      assert.equal(r.status, 400, `${field}: ${r.text}`);
      assert.equal(r.json.field, field);
    }
    let r = await request(url('/v1/catalog/items/TST-BAD'), { method: 'PUT', json: body, headers: await id.operatorHeaders('window') });
    assert.equal(r.status, 403);
    r = await request(url('/v1/catalog/items/TST-BAD'), { method: 'PUT', json: body });
    assert.equal(r.status, 401);
  });
});

describe('figures', () => {
  // Hand-computed set, completed yesterday (rollup) and today (live):
  //  #  category  channel  outlet   trips  on time  rating
  //  1  vehicle   app      -        0      yes      5
  //  2  vehicle   window   windowA  1      yes      4
  //  3  vehicle   window   windowA  2      no       1
  //  4  driver    post     post     0      yes      -
  //  5  driver    app      -        0      no       3
  //  6  violation dealer   dealer   1      yes      5
  // completed 6; one-trip 5 (0.8333); zero-trip 3 (0.5000); online 2 (0.3333); on time 4
  // (0.6667); rated 5, satisfied 3 (0.6000); offline 4, at partner 2 (0.5000).
  let yesterday;
  let todayS;
  before(() => {
    const now = Date.now() + 8 * 3600e3;
    todayS = new Date(now).toISOString().slice(0, 10);
    yesterday = new Date(now - 86400e3).toISOString().slice(0, 10);
    const cit = id.citizens[0].id;
    const ver = server.sql("SELECT id FROM catalog_versions WHERE item_code = 'VIO-HANDLE' AND version = 1")[0][0];
    const rows = [
      ['vehicle', 'app', 'NULL', 0, 1, 5, yesterday],
      ['vehicle', 'window', id.outlets.windowA, 1, 1, 4, yesterday],
      ['vehicle', 'window', id.outlets.windowA, 2, 0, 1, yesterday],
      ['driver', 'post', id.outlets.post, 0, 1, null, todayS],
      ['driver', 'app', 'NULL', 0, 0, 3, todayS],
      ['violation', 'dealer', id.outlets.dealer, 1, 1, 5, todayS],
    ];
    rows.forEach(([cat, ch, outlet, trips, onTime, score, day], i) => {
      const num = `CFIG${String(i).padStart(12, '0')}`;
      server.sqlExec(`INSERT INTO cases (number, query_code, item_code, catalog_version_id, category, applicant_id, channel, outlet_id,
        state, submitted_at, submitted_day, promised_days, deadline, completed_at, completed_day, trips, updated_at)
        VALUES ('${num}', 'ABCDEFGH', 'VIO-HANDLE', ${ver}, '${cat}', ${cit}, '${ch}', ${outlet}, 'completed', UTC_TIMESTAMP(3),
        DATE_SUB('${day}', INTERVAL 5 DAY), 1, ${onTime ? `'${day}'` : `DATE_SUB('${day}', INTERVAL 1 DAY)`}, UTC_TIMESTAMP(3), '${day}', ${trips}, UTC_TIMESTAMP(3))`);
      if (score) server.sqlExec(`INSERT INTO case_ratings (case_id, applicant_id, score, created_at) SELECT id, ${cit}, ${score}, UTC_TIMESTAMP(3) FROM cases WHERE number = '${num}'`);
    });
    // other tests in this file create no completed cases; the rollup job covers yesterday
    const r = server.cli(['job', 'run', 'cases_rollup']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('totals and rates match the hand computation', async () => {
    const r = await request(url(`/v1/figures?from=${yesterday}&to=${todayS}&group=category`), { headers: await id.operatorHeaders('supervisor') });
    assert.equal(r.status, 200, r.text);
    const t = r.json.total;
    assert.deepEqual(
      [t.completed, t.one_trip, t.zero_trip, t.online, t.on_time, t.rated, t.satisfied, t.offline, t.at_partner],
      [6, 5, 3, 2, 4, 5, 3, 4, 2]);
    assert.equal(t.one_trip_rate, '0.8333');
    assert.equal(t.zero_trip_rate, '0.5000');
    assert.equal(t.online_rate, '0.3333');
    assert.equal(t.on_time_rate, '0.6667');
    assert.equal(t.satisfaction_rate, '0.6000');
    assert.equal(t.partner_share, '0.5000');
    const veh = r.json.groups.find((g) => g.key === 'vehicle');
    assert.equal(veh.completed, 3);
    assert.equal(veh.one_trip_rate, '0.6667');
    assert.equal(veh.satisfaction_rate, '0.6667');
  });

  test('yesterday alone comes from the rollup; channel and outlet groupings', async () => {
    const h = await id.operatorHeaders('auditor');
    let r = await request(url(`/v1/figures?from=${yesterday}&to=${yesterday}&group=channel`), { headers: h });
    assert.equal(r.status, 200);
    assert.equal(r.json.total.completed, 3);
    assert.deepEqual(r.json.groups.map((g) => [g.key, g.completed]), [['app', 1], ['window', 2]]);
    r = await request(url(`/v1/figures?from=${yesterday}&to=${todayS}&group=outlet`), { headers: h });
    const w = r.json.groups.find((g) => g.key === String(id.outlets.windowA));
    assert.equal(w.completed, 2);
    assert.equal(w.on_time_rate, '0.5000');
  });

  test('CSV export', async () => {
    const r = await request(url(`/v1/figures?from=${yesterday}&to=${todayS}&group=category&format=csv`), { headers: await id.operatorHeaders('admin') });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'], /^text\/csv/);
    const lines = r.text.trim().split('\r\n');
    assert.ok(lines[0].startsWith('key,label,one_trip_rate'));
    assert.equal(lines[lines.length - 1], 'total,合计,0.8333,0.5000,0.3333,0.6667,0.6000,0.5000,6,5,3,2,4,4,2,5,3');
    const a = await request(url(`/v1/figures?from=${yesterday}&to=${todayS}`), { headers: { ...(await id.operatorHeaders('admin')), Accept: 'text/csv' } });
    assert.match(a.headers['content-type'], /^text\/csv/);
  });

  test('bad parameters and roles are refused', async () => {
    const h = await id.operatorHeaders('supervisor');
    for (const q of ['from=2026-13-01&to=2026-01-02', `from=${todayS}`, `from=${todayS}&to=${yesterday}`, `from=${yesterday}&to=${todayS}&group=planet`, `from=${yesterday}&to=${todayS}&format=xml`]) {
      const r = await request(url(`/v1/figures?${q}`), { headers: h });
      assert.equal(r.status, 400, q);
    }
    let r = await request(url(`/v1/figures?from=${yesterday}&to=${todayS}`), { headers: await id.operatorHeaders('window') });
    assert.equal(r.status, 403);
    r = await request(url(`/v1/figures?from=${yesterday}&to=${todayS}`));
    assert.equal(r.status, 401);
  });
});

describe('figures over many outlets (review)', () => {
  test('more than 256 outlets: every group is listed and the total counts every case', async () => {
    const day = '2021-05-03';
    const n = 300;
    const cit = id.citizens[0].id;
    const ver = server.sql("SELECT id FROM catalog_versions WHERE item_code = 'VIO-HANDLE' AND version = 1")[0][0];
    const values = Array.from({ length: n }, (_, i) => `('CGRP${String(i).padStart(12, '0')}', 'ABCDEFGH', 'VIO-HANDLE', ${ver}, 'violation', ${cit},
      'window', ${900000 + i}, 'completed', UTC_TIMESTAMP(3), '${day}', 1, '${day}', UTC_TIMESTAMP(3), '${day}', ${i % 2}, UTC_TIMESTAMP(3))`);
    server.sqlExec(`INSERT INTO cases (number, query_code, item_code, catalog_version_id, category, applicant_id, channel, outlet_id,
      state, submitted_at, submitted_day, promised_days, deadline, completed_at, completed_day, trips, updated_at) VALUES ${values.join(',')}`);
    assert.equal(server.cli(['cases-rollup', day, day]).code, 0);
    const r = await request(url(`/v1/figures?from=${day}&to=${day}&group=outlet`), { headers: await id.operatorHeaders('supervisor') });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.groups.length, n);
    assert.equal(r.json.total.completed, n);
    assert.equal(r.json.total.zero_trip, n / 2);
    assert.equal(r.json.total.zero_trip_rate, '0.5000');
  });
});
