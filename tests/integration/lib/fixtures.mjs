// Test data shared by several suites (violations from an agency, the handling item).
import assert from 'node:assert/strict';

import { randomHex, sql } from './harness.mjs';
import { randomPlate } from './identity.mjs';

const DAY = 86400 * 1000;

/** A plate as agencies write it, with the middle dot: 浙A·12345. */
export const withDot = (plate) => `${plate.slice(0, 2)}·${plate.slice(2)}`;

/** Today (plus n days) in Asia/Shanghai, YYYY-MM-DD. */
export function shanghaiDayOffset(n = 0) {
  return new Date(Date.now() + 8 * 3600e3 + n * DAY).toISOString().slice(0, 10);
}

/** An instant `days` ago, RFC 3339 in UTC without fractions. */
export function instantAgo(days) {
  return new Date(Date.now() - days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A violation as an agency sends it in (POST /v1/violations); o overrides fields. */
export function violationBody(o = {}) {
  return {
    decision_no: `JD-${randomHex(6).toUpperCase()}`,
    plate: withDot(randomPlate()),
    vehicle_type: 'K33',
    occurred_at: instantAgo(3),
    place: '杭州市文一西路与古墩路口',
    code: '1625',
    description: '驾驶机动车违反道路交通信号灯通行',
    fine_fen: 20000,
    points: 6,
    agency: 'traffic',
    source: 'camera',
    served_date: shanghaiDayOffset(0),
    ...o,
  };
}

/** The violation-handling service item, in case the catalog was not seeded with it. */
export function ensureHandlingItem(db) {
  sql(db, "INSERT IGNORE INTO catalog_items (code, category, current_version, created_at, updated_at) " +
    "VALUES ('VIO-HANDLE', 'violation', 1, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))");
  if (Number(sql(db, "SELECT COUNT(*) FROM catalog_versions WHERE item_code = 'VIO-HANDLE'")[0][0]) === 0) {
    sql(db, 'INSERT INTO catalog_versions (item_code, version, name, category, channels, trips, statutory_days, ' +
      'promised_days, fees, materials, legal_basis, steps, sample_form, allow_missing, allow_commitment, created_at) ' +
      "VALUES ('VIO-HANDLE', 1, '交通违法处理', 'violation', 'app,window', 0, 1, 1, '[]', '[]', " +
      "'《道路交通安全法》', '[]', '', 1, 0, UTC_TIMESTAMP(3))");
  }
}

/** r is a problem reply with this status and code. */
export function assertProblem(r, status, code) {
  assert.equal(r.status, status, `status ${r.status} (code ${r.json?.code}), want ${status} ${code}`);
  assert.equal(r.json.code, code);
}
