// Identities for integration tests: outlets, an app backend (client + ES256 key), operators of
// every role, partners of every type (mTLS certificates and HMAC keys) and citizens, all
// registered through the real `onetripd` CLI on a server started by harness.startServer().
//
//   const id = await setupIdentity(server);
//   await request(`${server.httpsUrl}/v1/me`, { headers: id.citizenHeaders(id.citizens[0]) });
//   await request(url, { headers: await id.operatorHeaders('window') });
//   await request(`${server.httpsUrl}/v1/me`, { ...id.partnerTls('post') });
//   await request(url, { method: 'POST', body, headers: id.partnerHmacHeaders('post', 'POST', '/v1/x?a=1', body) });
//
// API (stable; other test files depend on it):
//   id.citizens[i] -> {id, idNumber, name, phone, birthDate}     (4 citizens)
//   await id.addCitizen({name, idNumber, phone, birthDate, disabled}) -> citizen (all optional)
//   id.citizenHeaders(citizen, claimOverrides={}) -> {Authorization: 'Bearer <ES256 app token>'}
//       (claimOverrides: a value of undefined removes that claim)
//   await id.operatorHeaders(role, {fresh}) -> {Authorization}    roles: window, window2,
//       supervisor, reviewer, auditor, admin, inspector (tokens are cached per role unless fresh)
//   id.operators[role] -> {id, username, password, outletId}
//   id.outlets -> {windowA, windowB, post, insurer, hospital, court, dealer, agency, station} (ids)
//   id.partners[type] -> {id, name, outletId, keyId, secret}
//   id.partnerTls(type) -> {cert, key}           (file paths for request() over server.httpsUrl)
//   id.partnerHmacHeaders(type, method, pathWithQuery, bodyString, {ts, nonce, secret, keyId})
//   await id.addLicence(citizen, {classes, points, status, validUntil, nextMedicalDate}) -> id
//   await id.addVehicle(citizen, {plate, vin, engineNo, vehicleType, classRequired, status}) -> id
// Extras for the identity tests themselves:
//   id.client -> {id, name, kid, alg, privateKey, publicPem}
//   await id.addClientKey({alg: 'ES256'|'RS256', kid}) -> {kid, alg, privateKey, publicPem}
//   id.appToken(citizen, claimOverrides, {header, key, kid, alg}) -> compact JWS string
//   await id.joseToken(citizen, claimOverrides) -> the same token made by the `jose` library
//   signJws(header, payload, key) (exported): ES256 / RS256 / HS256 (key = secret) / none
//   idNumberCheckChar(first17), randomIdNumber({birthDate}), randomPhone(), vinCheckDigit(vin)

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { SignJWT } from 'jose';

import { PARTNERS, randomHex, request, sql, tlsPaths } from './harness.mjs';

export const ROLES = ['window', 'window2', 'supervisor', 'reviewer', 'auditor', 'admin', 'inspector'];
export const AUDIENCE = 'onetrip';

// ---------------------------------------------------------------------------------------
// pure helpers

/** GB 11643 check character of 17 digits. */
export function idNumberCheckChar(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * w[i];
  return '10X98765432'[sum % 11];
}

function randInt(lo, hi) {
  return lo + crypto.randomInt(hi - lo + 1);
}

/** A valid random ID number (region 330111, unused by `onetripd seed`), birth 1960-2000 by default. */
export function randomIdNumber({ birthDate } = {}) {
  const b = birthDate || `${randInt(1960, 2000)}-${String(randInt(1, 12)).padStart(2, '0')}-${String(randInt(1, 28)).padStart(2, '0')}`;
  const first17 = `330111${b.replace(/-/g, '')}${String(randInt(0, 999)).padStart(3, '0')}`;
  return first17 + idNumberCheckChar(first17);
}

export function birthOf(idNumber) {
  return `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`;
}

export function randomPhone() {
  return `13${randInt(0, 9)}${String(randInt(0, 99999999)).padStart(8, '0')}`;
}

const VIN_CHARS = '0123456789ABCDEFGHJKLMNPRSTUVWXYZ';
/** ISO 3779 check digit (position 9) of a 17-character VIN. */
export function vinCheckDigit(vin) {
  const val = (c) => {
    if (/[0-9]/.test(c)) return Number(c);
    return { A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9, S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9 }[c];
  };
  const w = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += val(vin[i]) * w[i];
  const r = sum % 11;
  return r === 10 ? 'X' : String(r);
}

export function randomVin() {
  let v = 'LSV';
  for (let i = 3; i < 17; i++) v += VIN_CHARS[crypto.randomInt(VIN_CHARS.length)];
  return v.slice(0, 8) + vinCheckDigit(v) + v.slice(9);
}

const PLATE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
// Each test file has its own database, so plates need only be unique within this process:
// the space is 240,000 plates and a file may draw hundreds, so never hand one out twice.
const issuedPlates = new Set();
export function randomPlate() {
  for (;;) {
    let p = '浙A';
    p += PLATE_LETTERS[crypto.randomInt(PLATE_LETTERS.length)];
    for (let i = 0; i < 4; i++) p += String(crypto.randomInt(10));
    if (!issuedPlates.has(p)) {
      issuedPlates.add(p);
      return p;
    }
  }
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/**
 * Compact JWS. key: a KeyObject / PEM for ES256 and RS256, a string or Buffer secret for HS*,
 * ignored for 'none' (any capitalisation: the signature part is then empty).
 */
export function signJws(header, payload, key) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  // chosen case-insensitively, as an attacker's signer would: {alg: 'hs256'} signs HS256
  const alg = String(header.alg).toUpperCase();
  let sig;
  if (alg === 'NONE') sig = Buffer.alloc(0);
  else if (alg === 'ES256') sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), key);
  else if (/^HS(256|384|512)$/.test(alg)) sig = crypto.createHmac(`sha${alg.slice(2)}`, key).update(input).digest();
  else throw new Error(`signJws: unsupported alg ${alg}`);
  return `${input}.${b64url(sig)}`;
}

function q(s) {
  return `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------
// CLI wrapper

function run(server, args, opts = {}) {
  const r = server.cli(args, opts);
  if (r.code !== 0) {
    // Never echo secrets: the CLI prints none on failure, and args hold no secret.
    throw new Error(`onetripd ${args.slice(0, 3).join(' ')} failed (code ${r.code}): ${r.stderr.trim()}`);
  }
  return r.stdout.trim();
}

function lastLine(text) {
  const lines = text.split('\n').filter(Boolean);
  return lines[lines.length - 1];
}

// ---------------------------------------------------------------------------------------

/**
 * Register identities on a started server (see the header comment for the returned API).
 * opts: {citizens=4, partners=PARTNERS (types to create), hmac=true}
 */
export async function setupIdentity(server, opts = {}) {
  const { citizens: nCitizens = 4, partners: partnerTypes = PARTNERS, hmac = true } = opts;
  const tag = randomHex(3);
  const keyDir = fs.mkdtempSync(path.join(server.dir, 'identity-'));
  const id = {
    server, tag, keyDir,
    outlets: {}, operators: {}, partners: {}, citizens: [], client: null,
    _tokens: new Map(),
  };

  // outlets ------------------------------------------------------------------------------
  const outletDefs = {
    windowA: 'window', windowB: 'window', post: 'post', insurer: 'insurer', hospital: 'hospital',
    court: 'court', dealer: 'dealer', agency: 'agency', station: 'station',
  };
  for (const [key, type] of Object.entries(outletDefs)) {
    const code = `T${tag}-${key}`.slice(0, 32);
    id.outlets[key] = Number(lastLine(run(server, ['outlet', 'add', '--code', code, '--name', `Test ${key}`, '--type', type, '--city', '杭州'])));
  }

  // app backend: client + ES256 key ----------------------------------------------------------
  const clientName = `test-app-${tag}`;
  const clientId = Number(lastLine(run(server, ['client', 'add', clientName])));
  id.client = { id: clientId, name: clientName };

  id.addClientKey = async function addClientKey({ alg = 'ES256', kid } = {}) {
    const k = kid || `k-${alg.toLowerCase()}-${randomHex(4)}`;
    const pair = alg === 'ES256'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
    const file = path.join(keyDir, `${k}.pub.pem`);
    fs.writeFileSync(file, publicPem);
    run(server, ['client', 'key', 'add', clientName, '--kid', k, '--alg', alg, '--pem', file]);
    return { kid: k, alg, privateKey: pair.privateKey, publicKey: pair.publicKey, publicPem };
  };
  Object.assign(id.client, await id.addClientKey({ alg: 'ES256' }));

  /** Compact app token for citizen; overrides: claims (undefined removes), header, key. */
  id.appToken = function appToken(citizen, claimOverrides = {}, { header = {}, key, kid, alg } = {}) {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: clientName, aud: AUDIENCE, sub: citizen.idNumber, iat: now, nbf: now, exp: now + 300,
      jti: randomHex(16),
    };
    for (const [k, v] of Object.entries(claimOverrides)) {
      if (v === undefined) delete claims[k];
      else claims[k] = v;
    }
    const h = { alg: alg || id.client.alg, typ: 'JWT', kid: kid || id.client.kid, ...header };
    return signJws(h, claims, key || id.client.privateKey);
  };
  /** The same claims, signed by the mainstream `jose` library (what app backends would use). */
  id.joseToken = async function joseToken(citizen, claimOverrides = {}) {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: clientName, aud: AUDIENCE, sub: citizen.idNumber, iat: now, nbf: now, exp: now + 300,
      jti: randomHex(16), ...claimOverrides,
    };
    return new SignJWT(claims).setProtectedHeader({ alg: id.client.alg, kid: id.client.kid, typ: 'JWT' })
      .sign(id.client.privateKey);
  };
  id.citizenHeaders = function citizenHeaders(citizen, claimOverrides = {}) {
    return { Authorization: `Bearer ${id.appToken(citizen, claimOverrides)}` };
  };

  // citizens -----------------------------------------------------------------------------
  id.addCitizen = async function addCitizen(c = {}) {
    const idNumber = c.idNumber || randomIdNumber({ birthDate: c.birthDate });
    const citizen = {
      idNumber,
      name: c.name || `测试${randomHex(2)}`,
      phone: c.phone === undefined ? randomPhone() : c.phone,
      birthDate: c.birthDate || birthOf(idNumber),
    };
    const args = ['citizen', 'add', '--name', citizen.name, '--id-number', idNumber, '--birth', citizen.birthDate];
    if (citizen.phone) args.push('--phone', citizen.phone);
    if (c.disabled) args.push('--disabled');
    citizen.id = Number(lastLine(run(server, args)));
    citizen.disabled = Boolean(c.disabled);
    return citizen;
  };
  const names = ['王伟', '李娜', '张敏', '陈静', '刘洋', '杨勇'];
  for (let i = 0; i < nCitizens; i++) {
    id.citizens.push(await id.addCitizen({ name: names[i % names.length] }));
  }

  // operators ----------------------------------------------------------------------------
  const roleDefs = {
    window: ['window', 'windowA'], window2: ['window', 'windowB'], supervisor: ['supervisor', 'windowA'],
    reviewer: ['reviewer', 'windowA'], auditor: ['auditor', 'windowA'], admin: ['admin', 'windowA'],
    inspector: ['inspector', 'station'],
  };
  for (const [role, [roles, outletKey]] of Object.entries(roleDefs)) {
    const username = `t${tag}-${role}`;
    const password = randomHex(12);
    const code = `T${tag}-${outletKey}`.slice(0, 32);
    const opId = Number(lastLine(run(server, ['operator', 'add', username, '--name', `Test ${role}`, '--roles', roles, '--outlet', code],
      { env: { ONETRIP_OPERATOR_PASSWORD: password } })));
    id.operators[role] = { id: opId, username, password, outletId: id.outlets[outletKey], role: roles };
  }

  /** POST /v1/auth/login for role; returns the parsed response (throws on non-200). */
  id.operatorLogin = async function operatorLogin(role) {
    const op = id.operators[role];
    if (!op) throw new Error(`no operator role ${role}`);
    const r = await request(`${server.httpsUrl}/v1/auth/login`, {
      method: 'POST', json: { username: op.username, password: op.password },
    });
    if (r.status !== 200) throw new Error(`login as ${role} failed: ${r.status} ${r.text}`);
    return r.json;
  };
  id.operatorHeaders = async function operatorHeaders(role, { fresh = false } = {}) {
    const cached = id._tokens.get(role);
    if (!fresh && cached && cached.until > Date.now()) return { Authorization: `Bearer ${cached.token}` };
    const j = await id.operatorLogin(role);
    id._tokens.set(role, { token: j.access_token, until: Date.now() + (j.expires_in - 30) * 1000 });
    return { Authorization: `Bearer ${j.access_token}` };
  };

  // partners -----------------------------------------------------------------------------
  for (const type of partnerTypes) {
    const name = `t${tag}-${type}`;
    const code = `T${tag}-${type}`.slice(0, 32);
    const pid = Number(lastLine(run(server, ['partner', 'add', name, '--type', type, '--outlet', code])));
    run(server, ['partner', 'cert', 'add', name, '--cert', tlsPaths.partner(type).cert]);
    const p = { id: pid, name, type, outletId: id.outlets[type], keyId: null, secret: null };
    if (hmac) {
      const out = run(server, ['partner', 'hmac', name]);
      const m = /key_id=(\S+) secret=([0-9a-f]{64})/.exec(out);
      if (!m) throw new Error('partner hmac printed no key');
      p.keyId = m[1];
      p.secret = m[2];
    }
    id.partners[type] = p;
  }
  id.partnerTls = function partnerTls(type) {
    return { ...tlsPaths.partner(type) };
  };
  /**
   * HMAC headers: signature over METHOD\npathWithQuery\ntimestamp\nnonce\nhex(sha256(body)),
   * keyed with the secret string (its 64 hex characters as bytes).
   */
  id.partnerHmacHeaders = function partnerHmacHeaders(type, method, pathWithQuery, body = '', o = {}) {
    const p = id.partners[type];
    const ts = String(o.ts ?? Math.floor(Date.now() / 1000));
    const nonce = o.nonce ?? randomHex(16);
    const digest = crypto.createHash('sha256').update(body ?? '').digest('hex');
    const msg = `${method.toUpperCase()}\n${pathWithQuery}\n${ts}\n${nonce}\n${digest}`;
    const sig = crypto.createHmac('sha256', o.secret ?? p.secret).update(msg).digest('hex');
    return {
      'X-Onetrip-Key': o.keyId ?? p.keyId, 'X-Onetrip-Timestamp': ts, 'X-Onetrip-Nonce': nonce,
      'X-Onetrip-Signature': sig,
    };
  };

  // licences and vehicles (SQL: these belong to other modules' workflows) -------------------
  id.addLicence = async function addLicence(citizen, o = {}) {
    const {
      classes = 'C1', points = 0, status = 'valid', validUntil = '2032-06-30', nextMedicalDate = null,
      validFrom = '2020-06-30', cycleStart = '2026-06-30',
    } = o;
    const fileNo = String(randInt(100000, 999999)) + String(randInt(100000, 999999));
    const rows = sql(server.db.name,
      'INSERT INTO licences (citizen_id, file_no, classes, points, cycle_start, status, valid_from, valid_until, next_medical_date, created_at) ' +
      `VALUES (${Number(citizen.id)}, ${q(fileNo)}, ${q(classes)}, ${Number(points)}, ${q(cycleStart)}, ${q(status)}, ${q(validFrom)}, ${q(validUntil)}, ` +
      `${nextMedicalDate ? q(nextMedicalDate) : 'NULL'}, UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();`);
    return Number(rows[rows.length - 1][0]);
  };
  id.addVehicle = async function addVehicle(citizen, o = {}) {
    const {
      plate = randomPlate(), vin = randomVin(), engineNo = `E${randomHex(5).toUpperCase()}`,
      vehicleType = 'K33', classRequired = 'C1', status = 'normal', nextInspectionDate = null,
      brand = '大众', model = '朗逸',
    } = o;
    const rows = sql(server.db.name,
      'INSERT INTO vehicles (plate, vin, engine_no, vehicle_type, class_required, brand, model, owner_citizen_id, status, next_inspection_date, registered_at) ' +
      `VALUES (${q(plate)}, ${q(vin)}, ${q(engineNo)}, ${q(vehicleType)}, ${q(classRequired)}, ${q(brand)}, ${q(model)}, ${Number(citizen.id)}, ${q(status)}, ` +
      `${nextInspectionDate ? q(nextInspectionDate) : 'NULL'}, UTC_TIMESTAMP(3)); SELECT LAST_INSERT_ID();`);
    return Number(rows[rows.length - 1][0]);
  };

  return id;
}
