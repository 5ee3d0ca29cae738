// Identity, access control, audit trail and personal data (issue 4): every caller kind, every
// rejection path, the audit chain, least privilege and what ends up in the database and logs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SignJWT, importPKCS8 } from 'jose';

import {
  startServer, request, env, tlsPaths, randomHex, partnerFingerprint, dropDatabase,
} from './lib/harness.mjs';
import { setupIdentity, signJws, randomIdNumber } from './lib/identity.mjs';

let server;
let id;
let base;
const secrets = []; // everything that must never appear in the server log

const now = () => Math.floor(Date.now() / 1000);

async function me(headers, opts = {}) {
  return request(`${base}/v1/me`, { headers, ...opts });
}

function bearer(token) {
  return { Authorization: `Bearer ${token}` };
}

function expect401(r, code) {
  assert.equal(r.status, 401, r.text);
  assert.equal(r.json.code, code, r.text);
  assert.match(r.headers['content-type'], /problem\+json/);
}

// A refused login: 429 problem+json whose Retry-After (also retry_after_s) lies in [min, max].
function expect429(r, code, scope, min, max) {
  assert.equal(r.status, 429, r.text);
  assert.match(r.headers['content-type'], /problem\+json/);
  assert.equal(r.json.code, code, r.text);
  assert.equal(r.json.scope, scope, r.text);
  const after = Number(r.headers['retry-after']);
  assert.ok(Number.isInteger(after) && after >= min && after <= max, `Retry-After ${r.headers['retry-after']} not in [${min}, ${max}]`);
  assert.equal(r.json.retry_after_s, after);
}

// Over HTTPS (plain HTTP is for health and metrics only), from another loopback address
// when `from` is given: the server sees it as the client address. A password check is
// ~0.3 s of CPU on purpose; on a loaded machine it can take many seconds: wait generously.
function tlsLogin(username, password, from) {
  return request(`${server.httpsUrl}/v1/auth/login`, {
    method: 'POST', json: { username, password }, localAddress: from, timeoutMs: 120000,
  });
}

function meTls(headers) {
  return request(`${server.httpsUrl}/v1/me`, { headers });
}

// A citizen's write (binding a plate): it records the token's jti, whatever it answers
// after authentication (an unknown plate is fine: only 401 matters here).
function bind(headers, key = randomHex(8)) {
  return request(`${base}/v1/me/bindings`, {
    method: 'POST', json: { plate: '浙A00000' }, headers: { ...headers, 'Idempotency-Key': key },
  });
}

// Ends the blocks of a source at once, as if its wait had passed.
function endBlocks(address) {
  server.sqlExec(`UPDATE login_sources SET blocked_until = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE address = '${address}' AND blocked_until IS NOT NULL`);
}

// A second server with configuration overrides, holding the same app client, key and
// citizen c as the main one (no operators): fn(citizenOnIt, tlsMe(token)) runs against it.
async function withAppServer(prefix, overrides, c, fn) {
  const srv = await startServer({ prefix, overrides: { ...overrides, 'jobs.enabled': 0 } });
  try {
    const cliOk = (args) => {
      const r = srv.cli(args);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout.trim().split('\n').pop();
    };
    cliOk(['client', 'add', id.client.name]);
    const pem = path.join(srv.dir, 'app.pub.pem');
    fs.writeFileSync(pem, id.client.publicPem);
    cliOk(['client', 'key', 'add', id.client.name, '--kid', id.client.kid, '--alg', 'ES256', '--pem', pem]);
    const sc = { ...c, id: Number(cliOk(['citizen', 'add', '--name', c.name, '--id-number', c.idNumber, '--birth', c.birthDate])) };
    await fn(sc, (t) => request(`${srv.httpsUrl}/v1/me`, { headers: bearer(t) }));
  } finally {
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
    dropDatabase(srv.db.name);
  }
}

const P256_N = BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551');
// S of an ES256 token and its twin: the same token with S replaced by n - S (verifies too).
function sOf(token) {
  return BigInt(`0x${Buffer.from(token.split('.')[2], 'base64url').subarray(32).toString('hex')}`);
}
function sTwin(token) {
  const [h, p, sig] = token.split('.');
  const raw = Buffer.from(sig, 'base64url');
  const twin = P256_N - sOf(token);
  raw.set(Buffer.from(twin.toString(16).padStart(64, '0'), 'hex'), 32);
  return `${h}.${p}.${raw.toString('base64url')}`;
}

before(async () => {
  server = await startServer({
    prefix: 'identity',
    // back-offs long enough that no test depends on the machine's speed: tests end a
    // block by moving it into the past in the database instead of waiting it out
    overrides: {
      'auth.max_failed_logins': 3, 'auth.lock_s': 3600, 'auth.login_backoff_s': 30,
      'auth.max_failed_logins_per_address': 8,
    },
  });
  base = server.httpsUrl;
  id = await setupIdentity(server);
  for (const c of id.citizens) secrets.push(c.idNumber, c.phone);
  for (const op of Object.values(id.operators)) secrets.push(op.password);
  for (const p of Object.values(id.partners)) secrets.push(p.secret);
});

after(async () => {
  await server?.stop();
});

// ---------------------------------------------------------------------------------------
describe('app backends (citizens)', () => {
  test('an ES256 token of the registered client identifies the citizen; PII masked', async () => {
    const c = id.citizens[0];
    const r = await me(id.citizenHeaders(c));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.kind, 'citizen');
    assert.equal(r.json.id, c.id);
    assert.equal(r.json.id_number, `${c.idNumber.slice(0, 6)}********${c.idNumber.slice(14)}`);
    assert.equal(r.json.phone, `${c.phone.slice(0, 3)}****${c.phone.slice(7)}`);
    assert.ok(!r.text.includes(c.idNumber));
    assert.ok(!r.text.includes(c.phone));
    assert.notEqual(r.json.name, c.name);
    assert.equal(r.json.name[0], c.name[0]);
  });

  test('tokens signed by jose verify: ES256 and RS256', async () => {
    const c = id.citizens[1];
    const es = await new SignJWT({ jti: randomHex(12) })
      .setProtectedHeader({ alg: 'ES256', kid: id.client.kid, typ: 'JWT' })
      .setIssuer(id.client.name).setAudience('onetrip').setSubject(c.idNumber)
      .setIssuedAt().setNotBefore(now()).setExpirationTime('5m')
      .sign(id.client.privateKey);
    let r = await me(bearer(es));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, c.id);
    r = await me(bearer(await id.joseToken(c)));
    assert.equal(r.status, 200, r.text);

    const rsa = await id.addClientKey({ alg: 'RS256' });
    // through PKCS#8 PEM, as a backend in another language would hold its key
    const pkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' });
    const rsKey = await importPKCS8(pkcs8, 'RS256');
    const rs = await new SignJWT({ jti: randomHex(12) })
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
      .setIssuer(id.client.name).setAudience(['other', 'onetrip']).setSubject(c.idNumber)
      .setIssuedAt().setNotBefore(now()).setExpirationTime('4m')
      .sign(rsKey);
    r = await me(bearer(rs));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, c.id);
  });

  test('expired token (beyond the 60 s skew) is rejected; within the skew accepted', async () => {
    const c = id.citizens[0];
    const t = now();
    expect401(await me(id.citizenHeaders(c, { iat: t - 380, nbf: t - 380, exp: t - 90 })), 'token_expired');
    const r = await me(id.citizenHeaders(c, { iat: t - 300, nbf: t - 300, exp: t - 30 }));
    assert.equal(r.status, 200, r.text);
  });

  test('not-yet-valid token is rejected', async () => {
    const t = now();
    expect401(await me(id.citizenHeaders(id.citizens[0], { iat: t, nbf: t + 120, exp: t + 300 })),
      'token_not_yet_valid');
    expect401(await me(id.citizenHeaders(id.citizens[0], { iat: t + 120, nbf: t, exp: t + 300 })),
      'token_issued_in_future');
  });

  test('wrong audience and wrong issuer are rejected', async () => {
    expect401(await me(id.citizenHeaders(id.citizens[0], { aud: 'someone-else' })), 'wrong_audience');
    expect401(await me(id.citizenHeaders(id.citizens[0], { aud: undefined })), 'wrong_audience');
    expect401(await me(id.citizenHeaders(id.citizens[0], { iss: 'other-app' })), 'wrong_issuer');
    expect401(await me(id.citizenHeaders(id.citizens[0], { iss: undefined })), 'wrong_issuer');
  });

  test('missing exp / jti / sub are rejected', async () => {
    for (const claim of ['exp', 'jti', 'sub']) {
      const r = await me(id.citizenHeaders(id.citizens[0], { [claim]: undefined }));
      expect401(r, 'missing_claim');
    }
    // claims of the wrong type count as missing (libjwt would read "nbf": "x" as 0)
    expect401(await me(id.citizenHeaders(id.citizens[0], { exp: String(now() + 300) })), 'missing_claim');
    expect401(await me(id.citizenHeaders(id.citizens[0], { nbf: String(now() + 200) })), 'missing_claim');
    expect401(await me(id.citizenHeaders(id.citizens[0], { iat: now() + 0.5 })), 'missing_claim');
  });

  // Issue 10 item 15: RFC 7519 makes nbf and iat optional; they are checked when present.
  test('nbf and iat are optional, and checked when present', async () => {
    const c = id.citizens[1];
    for (const omit of [['nbf'], ['iat'], ['nbf', 'iat']]) {
      const r = await meTls(id.citizenHeaders(c, Object.fromEntries(omit.map((k) => [k, undefined]))));
      assert.equal(r.status, 200, `without ${omit}: ${r.text}`);
    }
    const t = now();
    expect401(await meTls(id.citizenHeaders(c, { nbf: undefined, iat: t + 120 })), 'token_issued_in_future');
    expect401(await meTls(id.citizenHeaders(c, { iat: undefined, nbf: t + 120 })), 'token_not_yet_valid');
    // without iat the 300 s lifetime (auth.app_token_max_ttl_s) is measured from our clock
    // (plus the 60 s skew)
    expect401(await meTls(id.citizenHeaders(c, { iat: undefined, exp: t + 420 })), 'token_lifetime_too_long');
    assert.equal((await meTls(id.citizenHeaders(c, { iat: undefined, exp: t + 290 }))).status, 200);
  });

  test('a token as jose\'s SignJWT makes it by default (iss, sub, aud, iat, exp, jti, no nbf) is accepted', async () => {
    const c = id.citizens[1];
    const mint = () => new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: id.client.kid })
      .setIssuer(id.client.name).setSubject(c.idNumber).setAudience('onetrip')
      .setIssuedAt().setExpirationTime('5m').setJti(randomHex(12))
      .sign(id.client.privateKey);
    const tok = await mint();
    const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString());
    assert.deepEqual(Object.keys(claims).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
    const r = await meTls(bearer(tok));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, c.id);
    // OpenSSL-based signers (jose in Node among them) give a high S about half the time:
    // both halves are accepted by default (see the high-S test below)
    const seen = new Set();
    for (let i = 0; i < 64 && seen.size < 2; i++) {
      const t2 = await mint();
      const high = sOf(t2) > P256_N / 2n;
      if (seen.has(high)) continue;
      const r2 = await meTls(bearer(t2));
      assert.equal(r2.status, 200, `${high ? 'high' : 'low'}-S token: ${r2.text}`);
      seen.add(high);
    }
    assert.equal(seen.size, 2);
  });

  // Issue 10 item 7: libjwt 1.10 decodes base64url leniently; the compact form is checked first.
  test('a valid token with trailing garbage or a non-canonical last character is rejected', async () => {
    const c = id.citizens[1];
    const tok = id.appToken(c);
    expect401(await meTls(bearer(`${tok}!!!`)), 'malformed_token');
    expect401(await meTls(bearer(`${tok}=`)), 'malformed_token');
    expect401(await meTls(bearer(`${tok}.`)), 'malformed_token');
    // 64 signature bytes take 86 characters; the last one carries 4 unused bits
    const [h, p, sig] = tok.split('.');
    assert.equal(sig.length, 86);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig[85]);
    assert.equal(last & 0x0f, 0);
    const odd = `${h}.${p}.${sig.slice(0, 85)}${alphabet[last | 0x01]}`;
    assert.deepEqual(Buffer.from(odd.split('.')[2], 'base64url'), Buffer.from(sig, 'base64url'), 'decodes to the same bytes');
    expect401(await meTls(bearer(odd)), 'malformed_token');
    // the payload segment too: a stray low bit in its last character, or a length no
    // encoding has (4n + 1)
    const p2 = p.length % 4 === 0 ? `${p}A` : p.slice(0, -1) + alphabet[alphabet.indexOf(p.at(-1)) | 0x01];
    expect401(await meTls(bearer(`${h}.${p2}.${sig}`)), 'malformed_token');
    // none of these used up the token: the canonical form still works, for a write once
    // (reads do not use a token up: see 'a token is reusable for reads ...')
    assert.notEqual((await bind(bearer(tok))).status, 401);
    expect401(await bind(bearer(tok)), 'token_replayed');
  });

  test('the high-S twin of a signature cannot replay a write; with auth.es256_require_low_s it is refused', async () => {
    const c = id.citizens[1];
    // default: either twin may come first, the other is a replay of the same jti (a write
    // records the jti; a read reuses a token anyway, so a twin gains nothing there)
    const tok = id.appToken(c);
    assert.notEqual((await bind(bearer(sTwin(tok)))).status, 401);
    expect401(await bind(bearer(tok)), 'token_replayed');
    assert.equal((await meTls(bearer(tok))).status, 200);

    await withAppServer('lows', { 'auth.es256_require_low_s': 1 }, c, async (sc, tlsMe) => {
      let t = id.appToken(sc);
      if (sOf(t) > P256_N / 2n) t = sTwin(t); // start from the low one
      const high = sTwin(t);
      assert.ok(sOf(high) > P256_N / 2n);
      const r = await tlsMe(high);
      expect401(r, 'high_s_signature');
      const ok = await tlsMe(t);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.id, sc.id);
    });
  });

  // Issue 12: a read token is reusable until exp, so its lifetime is capped short
  // (auth.app_token_max_ttl_s, 300 s by default; one second more for signers such as jose
  // that read the clock separately for iat and exp).
  test('lifetime over auth.app_token_max_ttl_s (300 s) is rejected', async () => {
    const t = now();
    for (const life of [302, 600, 3600]) {
      const r = await me(id.citizenHeaders(id.citizens[0], { iat: t, nbf: t, exp: t + life }));
      expect401(r, 'token_lifetime_too_long');
      assert.match(r.json.detail, /300 seconds/);
    }
    for (const life of [300, 301]) {
      const ok = await me(id.citizenHeaders(id.citizens[0], { iat: t, nbf: t, exp: t + life }));
      assert.equal(ok.status, 200, ok.text);
    }
  });

  test('auth.app_token_max_ttl_s sets the cap', async () => {
    const c = id.citizens[3];
    await withAppServer('ttl', { 'auth.app_token_max_ttl_s': 60 }, c, async (sc, tlsMe) => {
      const t = now();
      const long = await tlsMe(id.appToken(sc, { iat: t, exp: t + 62 }));
      expect401(long, 'token_lifetime_too_long');
      assert.match(long.json.detail, /60 seconds/);
      expect401(await tlsMe(id.appToken(sc, { iat: undefined, exp: t + 180 })), 'token_lifetime_too_long');
      const ok = await tlsMe(id.appToken(sc, { iat: t, exp: t + 60 }));
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.id, sc.id);
    });
  });

  test('unknown kid and missing kid are rejected', async () => {
    const tok = id.appToken(id.citizens[0], {}, { kid: 'no-such-kid' });
    expect401(await me(bearer(tok)), 'unknown_key');
    const noKid = signJws({ alg: 'ES256' }, { sub: id.citizens[0].idNumber }, id.client.privateKey);
    expect401(await me(bearer(noKid)), 'unknown_key');
  });

  test('alg none in any capitalisation is rejected', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const tok = id.appToken(id.citizens[0], {}, { alg });
      assert.ok(tok.endsWith('.'), 'unsigned token');
      expect401(await me(bearer(tok)), 'algorithm_not_allowed');
    }
    // lower-case variants of a registered algorithm are not the registered algorithm either
    const es = id.appToken(id.citizens[0], {}, { header: { alg: 'es256' } });
    expect401(await me(bearer(es)), 'algorithm_not_allowed');
  });

  test('algorithm swapped (RS256 token for an ES256 key and the reverse) is rejected', async () => {
    const rsaPair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const swapped = id.appToken(id.citizens[0], {}, { alg: 'RS256', key: rsaPair.privateKey });
    expect401(await me(bearer(swapped)), 'algorithm_not_allowed');
    const rsa = await id.addClientKey({ alg: 'RS256' });
    const ecPair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rev = id.appToken(id.citizens[0], {}, { alg: 'ES256', kid: rsa.kid, key: ecPair.privateKey });
    expect401(await me(bearer(rev)), 'algorithm_not_allowed');
  });

  test('HS256 signed with the public key PEM as the secret is rejected', async () => {
    for (const pem of [id.client.publicPem, id.client.publicPem.trim()]) {
      const tok = id.appToken(id.citizens[0], {}, { alg: 'HS256', key: pem });
      expect401(await me(bearer(tok)), 'algorithm_not_allowed');
    }
  });

  test('altered signature or altered payload is rejected', async () => {
    const tok = id.appToken(id.citizens[0]);
    const [h, p, s] = tok.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[5] ^= 0x01;
    expect401(await me(bearer(`${h}.${p}.${sig.toString('base64url')}`)), 'bad_signature');
    // payload of another citizen under the first one's signature
    const other = JSON.parse(Buffer.from(p, 'base64url').toString());
    other.sub = id.citizens[1].idNumber;
    const p2 = Buffer.from(JSON.stringify(other)).toString('base64url');
    expect401(await me(bearer(`${h}.${p2}.${s}`)), 'bad_signature');
    // signed by a key the client never registered
    const stranger = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect401(await me(bearer(id.appToken(id.citizens[0], {}, { key: stranger.privateKey }))), 'bad_signature');
  });

  // Issue 12: before, every request (reads too) used its token up; now only state-changing
  // ones do, with or without an Idempotency-Key, so a captured token can never write.
  test('a replayed jti is rejected on a write', async () => {
    const headers = id.citizenHeaders(id.citizens[2]);
    assert.notEqual((await bind(headers)).status, 401);
    expect401(await bind(headers), 'token_replayed');
    // the same jti in a different, freshly signed token is a replay too
    const jti = randomHex(8);
    assert.notEqual((await bind(id.citizenHeaders(id.citizens[2], { jti }))).status, 401);
    expect401(await bind(id.citizenHeaders(id.citizens[2], { jti })), 'token_replayed');
    // every method but GET and HEAD records it, and without an Idempotency-Key too
    // (authentication comes before the permission check: a refused write uses its token up too)
    const writes = {
      POST: '/v1/me/bindings', DELETE: '/v1/me/bindings/999999999', PUT: '/v1/catalog/items/X1',
      PATCH: '/v1/registrations/999999999',
    };
    for (const [method, p] of Object.entries(writes)) {
      const h = id.citizenHeaders(id.citizens[2]);
      const url = `${base}${p}`;
      const first = await request(url, { method, headers: h, json: method === 'DELETE' ? undefined : {} });
      assert.notEqual(first.status, 401, `${method}: ${first.text}`);
      expect401(await request(url, { method, headers: { ...h, 'Idempotency-Key': randomHex(8) } }), 'token_replayed');
    }
  });

  test('a token is reusable for reads until exp, and they record no jti', async () => {
    const c = id.citizens[2];
    const jti = `reads-${randomHex(8)}`;
    const headers = id.citizenHeaders(c, { jti });
    const seen = () => Number(server.sql(`SELECT COUNT(*) FROM jwt_seen WHERE jti = '${jti}'`)[0][0]);
    for (let i = 0; i < 3; i++) {
      const r = await me(headers);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.id, c.id);
    }
    assert.equal((await me(headers, { method: 'HEAD' })).status, 200);
    assert.equal((await request(`${base}/v1/me/bindings`, { headers })).status, 200);
    assert.equal(seen(), 0, 'a read writes no jwt_seen row');
    // a token made by jose with its defaults (5 minutes, iat, no nbf) too
    const jose = bearer(await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: id.client.kid })
      .setIssuer(id.client.name).setSubject(c.idNumber).setAudience('onetrip')
      .setIssuedAt().setExpirationTime('5m').setJti(randomHex(12))
      .sign(id.client.privateKey));
    assert.equal((await meTls(jose)).status, 200);
    assert.equal((await meTls(jose)).status, 200);
    // the first write records the jti and goes through; a second write is a replay, with a
    // fresh Idempotency-Key as with the same; reads still work until exp
    const w = await bind(headers, 'k1');
    assert.notEqual(w.status, 401, w.text);
    assert.equal(seen(), 1);
    expect401(await bind(headers, 'k1'), 'token_replayed');
    expect401(await bind(headers, 'k2'), 'token_replayed');
    assert.equal((await me(headers)).status, 200);
    assert.equal(seen(), 1);
    // every other check still applies to reads: an expired token stays refused however
    // often it comes
    const t = now();
    const old = id.citizenHeaders(c, { iat: t - 380, nbf: t - 380, exp: t - 90 });
    expect401(await me(old), 'token_expired');
    expect401(await me(old), 'token_expired');
  });

  test('an oversized token (> 4 KiB) is rejected before decoding', async () => {
    const tok = id.appToken(id.citizens[0], { pad: 'x'.repeat(3200) });
    assert.ok(tok.length > 4096);
    expect401(await me(bearer(tok)), 'token_too_large');
  });

  test('malformed tokens and authorization headers are rejected', async () => {
    expect401(await me(bearer('abc.def')), 'malformed_token');
    expect401(await me(bearer('a.b.c.d')), 'malformed_token');
    expect401(await me({ Authorization: 'Basic dXNlcjpwYXNz' }), 'bad_authorization');
  });

  test('an unknown subject is rejected', async () => {
    expect401(await me(id.citizenHeaders({ idNumber: randomIdNumber() })), 'unknown_subject');
  });

  test('a revoked key and a disabled client stop working', async () => {
    const k = await id.addClientKey({ alg: 'ES256' });
    const tokFor = () => id.appToken(id.citizens[0], {}, { kid: k.kid, key: k.privateKey });
    assert.equal((await me(bearer(tokFor()))).status, 200);
    assert.equal(server.cli(['client', 'key', 'revoke', k.kid]).code, 0);
    expect401(await me(bearer(tokFor())), 'unknown_key');

    // a second client with its own key: works until the client is disabled
    const name = `dis-${randomHex(3)}`;
    assert.equal(server.cli(['client', 'add', name]).code, 0);
    const pair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pemFile = path.join(server.dir, `${name}.pem`);
    fs.writeFileSync(pemFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const kid = `kid-${name}`;
    const add = server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'ES256', '--pem', pemFile]);
    assert.equal(add.code, 0, add.stderr);
    const tok2 = () => id.appToken(id.citizens[0], { iss: name }, { kid, key: pair.privateKey });
    assert.equal((await me(bearer(tok2()))).status, 200);
    // its key cannot speak for the first client
    expect401(await me(bearer(id.appToken(id.citizens[0], {}, { kid, key: pair.privateKey }))), 'wrong_issuer');
    assert.equal(server.cli(['client', 'disable', name]).code, 0);
    expect401(await me(bearer(tok2())), 'unknown_key');
  });

  test('anonymous callers get 401 on protected routes', async () => {
    const r = await me({});
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'unauthenticated');
  });
});

// ---------------------------------------------------------------------------------------
describe('operators', () => {
  test('login issues tokens; /v1/me shows roles and outlet', async () => {
    const j = await id.operatorLogin('window');
    secrets.push(j.access_token, j.refresh_token);
    assert.equal(j.token_type, 'Bearer');
    assert.equal(j.expires_in, 900);
    assert.match(j.refresh_token, /^[0-9a-f]{64}$/);
    assert.deepEqual(j.operator.roles, ['window']);
    assert.equal(j.operator.outlet_id, id.outlets.windowA);
    const r = await me(bearer(j.access_token));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.kind, 'operator');
    assert.equal(r.json.id, id.operators.window.id);
    assert.equal(r.json.outlet_id, id.outlets.windowA);
    // the session row stores only a hash of the refresh token
    const hex = server.sql(`SELECT HEX(refresh_hash) FROM operator_sessions WHERE operator_id = ${id.operators.window.id}`);
    assert.ok(hex.length >= 1);
    const want = crypto.createHash('sha256').update(j.refresh_token).digest('hex').toUpperCase();
    assert.ok(hex.some((row) => row[0] === want));
    assert.ok(!hex.some((row) => row[0] === j.refresh_token.toUpperCase()));
  });

  test('unknown user and wrong password answer the same, after the same work', async () => {
    // The server's CPU time, not wall time: it does not grow when the machine is busy.
    const cpuTicks = () => {
      const stat = fs.readFileSync(`/proc/${server.proc.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime of all its threads
    };
    const t0 = cpuTicks();
    const a = await request(`${base}/v1/auth/login`, { method: 'POST', json: { username: id.operators.auditor.username, password: 'wrong-password' } });
    const wrongCpu = cpuTicks() - t0;
    const t1 = cpuTicks();
    const b = await request(`${base}/v1/auth/login`, { method: 'POST', json: { username: `nobody-${randomHex(3)}`, password: 'wrong-password' } });
    const unknownCpu = cpuTicks() - t1;
    expect401(a, 'invalid_credentials');
    expect401(b, 'invalid_credentials');
    assert.equal(a.json.detail, b.json.detail);
    assert.equal(a.json.title, b.json.title);
    // PBKDF2 (600,000 iterations, a good tenth of a CPU second) runs for the unknown user too
    assert.ok(wrongCpu >= 5, `a wrong password cost only ${wrongCpu} CPU ticks`);
    assert.ok(unknownCpu > wrongCpu * 0.4, `unknown ${unknownCpu} vs wrong ${wrongCpu} CPU ticks`);
    // reset the auditor's failure counter
    assert.equal(server.cli(['operator', 'unlock', id.operators.auditor.username]).code, 0);
  });

  test('login body is validated', async () => {
    const r = await request(`${base}/v1/auth/login`, { method: 'POST', json: { username: 'x' } });
    assert.equal(r.status, 400);
    const r2 = await request(`${base}/v1/auth/login`, { method: 'POST', json: { username: 'x', password: 'y', extra: 1 } });
    assert.equal(r2.status, 400);
  });

  // Issue 10 item 4: failures lock out their source (the address, and the username at it),
  // never the account. The reviewer is attacked from 127.0.0.2 and works from elsewhere.
  describe('failed logins lock out their source', () => {
    const attacker = '127.0.0.2';

    test('back-off, then lockout of the username at the attacking address', async () => {
      const op = id.operators.reviewer;
      expect401(await tlsLogin(op.username, 'bad-0-pw', attacker), 'invalid_credentials');
      // back-off: refused before any password check, even the right password
      expect429(await tlsLogin(op.username, op.password, attacker), 'login_backoff', 'username', 1, 30);
      expect429(await tlsLogin(op.username, 'bad-x-pw', attacker), 'login_backoff', 'username', 1, 30);
      endBlocks(attacker);
      expect401(await tlsLogin(op.username, 'bad-1-pw', attacker), 'invalid_credentials');
      // each failure doubles the wait
      expect429(await tlsLogin(op.username, 'bad-x-pw', attacker), 'login_backoff', 'username', 31, 60);
      endBlocks(attacker);
      // the third failure (auth.max_failed_logins) locks the source for auth.lock_s
      expect401(await tlsLogin(op.username, 'bad-2-pw', attacker), 'invalid_credentials');
      expect429(await tlsLogin(op.username, op.password, attacker), 'source_locked', 'username', 3500, 3600);
    });

    test('the right password still works from any other address', async () => {
      const op = id.operators.reviewer;
      const ok = await tlsLogin(op.username, op.password, '127.0.0.3');
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.operator.id, op.id);
      const ok2 = await tlsLogin(op.username, op.password);
      assert.equal(ok2.status, 200, ok2.text);
      // the attacker stays locked out, and other usernames from there are still tried
      expect429(await tlsLogin(op.username, op.password, attacker), 'source_locked', 'username', 3500, 3600);
      const other = id.operators.supervisor;
      const r = await tlsLogin(other.username, other.password, attacker);
      assert.equal(r.status, 200, r.text);
    });

    test('each failure and the lockout are audited with the source; refusals are not written', () => {
      const op = id.operators.reviewer;
      const rows = server.sql(`SELECT action, outcome, peer, detail FROM audit_log WHERE target_type = 'operator' AND target_id = '${op.id}' AND action IN ('auth.login', 'auth.source_locked', 'auth.account_locked') ORDER BY seq`);
      const failed = rows.filter(([a, o]) => a === 'auth.login' && o === 'failed');
      assert.equal(failed.length, 3);
      for (const [, , peer, detail] of failed) {
        assert.match(peer, /127\.0\.0\.2/);
        assert.equal(JSON.parse(detail).reason, 'wrong_password');
      }
      const locked = rows.filter(([a]) => a === 'auth.source_locked');
      assert.equal(locked.length, 1);
      assert.match(locked[0][2], /127\.0\.0\.2/);
      assert.deepEqual(JSON.parse(locked[0][3]), { scope: 'username', address: attacker, lockouts: 1, locked_s: 3600 });
      assert.ok(!rows.some(([a]) => a === 'auth.account_locked'));
      // the two logins from clean addresses
      assert.equal(rows.filter(([a, o]) => a === 'auth.login' && o === 'ok').length, 2);
    });

    test('admins and auditors see the sources of failed logins; others may not', async () => {
      const op = id.operators.reviewer;
      const url = (q) => `${server.httpsUrl}/v1/auth/login-sources${q}`;
      const admin = await id.operatorHeaders('admin');
      const r = await request(url(`?operator_id=${op.id}`), { headers: admin });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.items.length, 1, r.text);
      const [src] = r.json.items;
      assert.equal(src.scope, 'username');
      assert.equal(src.address, attacker);
      assert.equal(src.username, op.username);
      assert.equal(src.operator_id, op.id);
      assert.equal(src.failures, 0); // counting restarts after a lockout
      assert.equal(src.lockouts, 1);
      assert.equal(src.blocked, true);
      assert.equal(src.block, 'lockout');
      const until = Date.parse(src.blocked_until);
      assert.ok(until > Date.now() + 3000 * 1000 && until <= Date.now() + 3601 * 1000, src.blocked_until);
      assert.match(src.first_failed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(src.last_failed_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // by address: the address as a whole (3 failures, not locked) and the username at it
      const byAddr = await request(url(`?address=${attacker}`), { headers: await id.operatorHeaders('auditor') });
      assert.equal(byAddr.status, 200, byAddr.text);
      const whole = byAddr.json.items.find((x) => x.scope === 'address');
      assert.deepEqual({ ...whole, first_failed_at: 0, last_failed_at: 0 }, {
        scope: 'address', address: attacker, username: null, operator_id: null, failures: 3, lockouts: 0,
        blocked: false, block: null, blocked_until: null, first_failed_at: 0, last_failed_at: 0,
      });
      assert.ok(byAddr.json.items.some((x) => x.scope === 'username' && x.username === op.username));
      const all = await request(url('?limit=200'), { headers: admin });
      assert.equal(all.status, 200);
      assert.ok(all.json.items.length >= 2);
      // other roles, other callers, bad queries
      assert.equal((await request(url(''), { headers: await id.operatorHeaders('window') })).status, 403);
      assert.equal((await request(url(''), { headers: id.citizenHeaders(id.citizens[0]) })).status, 403);
      assert.equal((await request(url(''))).status, 401);
      for (const q of ['?limit=0', '?limit=201', '?limit=x', '?operator_id=-1', '?operator_id=1e3', '?address=nowhere']) {
        const bad = await request(url(q), { headers: admin });
        assert.equal(bad.status, 400, `${q}: ${bad.text}`);
        assert.equal(bad.json.code, 'bad_query');
      }
      const none = await request(url('?operator_id=999999999'), { headers: admin });
      assert.equal(none.status, 404, none.text);
      // a whole number is read one way: digits only, no sign, no overflow
      for (const q of ['?operator_id=%2B5', '?operator_id=+5', '?operator_id=%205', '?limit=%2B5',
        '?operator_id=9223372036854775808', '?limit=']) {
        const bad = await request(url(q), { headers: admin });
        assert.equal(bad.status, 400, `${q}: ${bad.text}`);
        assert.equal(bad.json.code, 'bad_query', q);
        assert.equal(bad.json.field, q.slice(1).split('=')[0], q);
      }
      assert.equal((await request(url('?limit=007'), { headers: admin })).status, 200);
    });

    test('each further lockout lasts twice as long', async () => {
      const op = id.operators.reviewer;
      endBlocks(attacker);
      for (let i = 0; i < 3; i++) {
        expect401(await tlsLogin(op.username, `bad-${i}-again`, attacker), 'invalid_credentials');
        if (i < 2) {
          expect429(await tlsLogin(op.username, op.password, attacker), 'login_backoff', 'username', 1, 30 << i);
          endBlocks(attacker);
        }
      }
      expect429(await tlsLogin(op.username, op.password, attacker), 'source_locked', 'username', 7100, 7200);
    });

    test('onetripd operator unlock forgets the username\'s failures at every address', async () => {
      const op = id.operators.reviewer;
      const r = server.cli(['operator', 'unlock', op.username]);
      assert.equal(r.code, 0, r.stderr);
      const ok = await tlsLogin(op.username, op.password, attacker);
      assert.equal(ok.status, 200, ok.text);
      const audit = server.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'operator.unlock' AND target_id = '${op.id}'`);
      assert.equal(audit[0][0], '1');
    });

    test('a success forgets the username\'s failures at that address, not the address\'s', async () => {
      const op = id.operators.inspector;
      const from = '127.0.0.6';
      expect401(await tlsLogin(op.username, 'bad-pw-123', from), 'invalid_credentials');
      endBlocks(from);
      assert.equal((await tlsLogin(op.username, op.password, from)).status, 200);
      assert.equal(server.sql(`SELECT COUNT(*) FROM login_sources WHERE scope = 'username' AND address = '${from}'`)[0][0], '0');
      assert.deepEqual(server.sql(`SELECT failures FROM login_sources WHERE scope = 'address' AND address = '${from}'`), [['1']]);
      // no back-off left: a typo right after is just a 401
      expect401(await tlsLogin(op.username, 'bad-pw-456', from), 'invalid_credentials');
    });

    test('an address trying many usernames is locked out as a whole', async () => {
      const from = '127.0.0.4';
      // auth.max_failed_logins_per_address = 8, any usernames, known or not
      for (let i = 0; i < 8; i++) {
        const name = i === 0 ? id.operators.window2.username : `nobody-${i}-${randomHex(2)}`;
        expect401(await tlsLogin(name, `guess-${i}-pw`, from), 'invalid_credentials');
      }
      const op = id.operators.window2;
      expect429(await tlsLogin(op.username, op.password, from), 'source_locked', 'address', 3500, 3600);
      expect429(await tlsLogin(`nobody-${randomHex(3)}`, 'guess-pw', from), 'source_locked', 'address', 3500, 3600);
      // the accounts are not locked
      const ok = await tlsLogin(op.username, op.password, '127.0.0.5');
      assert.equal(ok.status, 200, ok.text);
      const rows = server.sql(`SELECT target_type, target_id, peer, detail FROM audit_log WHERE action = 'auth.source_locked' AND target_type = 'login_source' AND target_id = '${from}'`);
      assert.equal(rows.length, 1);
      assert.deepEqual(JSON.parse(rows[0][3]), { scope: 'address', address: from, lockouts: 1, locked_s: 3600 });
      // unknown usernames are counted by what was typed, like known ones: no difference shows
      assert.equal(server.sql(`SELECT COUNT(*) FROM login_sources WHERE scope = 'username' AND address = '${from}'`)[0][0], '8');
    });
  });

  test('refresh rotates the token; reusing a rotated one ends the session', async () => {
    const first = await id.operatorLogin('supervisor');
    const r1 = await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: first.refresh_token } });
    assert.equal(r1.status, 200, r1.text);
    assert.notEqual(r1.json.refresh_token, first.refresh_token);
    assert.equal((await me(bearer(r1.json.access_token))).status, 200);
    // the old refresh token is spent: presenting it again revokes the whole session
    const reuse = await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: first.refresh_token } });
    expect401(reuse, 'refresh_token_reused');
    expect401(await me(bearer(r1.json.access_token)), 'token_revoked');
    const r2 = await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: r1.json.refresh_token } });
    expect401(r2, 'invalid_refresh_token');
    expect401(await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: randomHex(32) } }), 'invalid_refresh_token');
    expect401(await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: 'short' } }), 'invalid_refresh_token');
  });

  test('logout revokes the access token and the refresh token', async () => {
    const j = await id.operatorLogin('window2');
    assert.equal((await me(bearer(j.access_token))).status, 200);
    const out = await request(`${base}/v1/auth/logout`, { method: 'POST', headers: bearer(j.access_token) });
    assert.equal(out.status, 204, out.text);
    expect401(await me(bearer(j.access_token)), 'token_revoked');
    expect401(await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: j.refresh_token } }), 'invalid_refresh_token');
    // citizens cannot call logout
    const c = await request(`${base}/v1/auth/logout`, { method: 'POST', headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(c.status, 403);
  });

  test('disabling an operator revokes their tokens and blocks login', async () => {
    const username = `tmp-${randomHex(3)}`;
    const password = randomHex(10);
    const add = server.cli(['operator', 'add', username, '--name', 'Temp', '--roles', 'window', '--outlet', `T${id.tag}-windowA`],
      { env: { ONETRIP_OPERATOR_PASSWORD: password } });
    assert.equal(add.code, 0, add.stderr);
    secrets.push(password);
    const login = await request(`${base}/v1/auth/login`, { method: 'POST', json: { username, password } });
    assert.equal(login.status, 200);
    assert.equal((await me(bearer(login.json.access_token))).status, 200);
    assert.equal(server.cli(['operator', 'disable', username]).code, 0);
    expect401(await me(bearer(login.json.access_token)), 'operator_disabled');
    // re-enabling does not bring the ended sessions back
    assert.equal(server.cli(['operator', 'enable', username]).code, 0);
    expect401(await me(bearer(login.json.access_token)), 'token_revoked');
    assert.equal(server.cli(['operator', 'disable', username]).code, 0);
    expect401(await request(`${base}/v1/auth/login`, { method: 'POST', json: { username, password } }), 'operator_disabled');
    // a wrong password for a disabled account says nothing about the account
    expect401(await request(`${base}/v1/auth/login`, { method: 'POST', json: { username, password: 'nope-nope' } }), 'invalid_credentials');
    expect401(await request(`${base}/v1/auth/refresh`, { method: 'POST', json: { refresh_token: login.json.refresh_token } }), 'invalid_refresh_token');
  });

  test('forged operator tokens are rejected', async () => {
    const t = now();
    const claims = { iss: 'onetrip', aud: 'onetrip-operators', sub: `op:${id.operators.admin.id}`, iat: t, nbf: t, exp: t + 300, sid: 1, jti: randomHex(8) };
    expect401(await me(bearer(signJws({ alg: 'HS256', kid: 'op1' }, claims, crypto.randomBytes(32)))), 'bad_signature');
    expect401(await me(bearer(signJws({ alg: 'none', kid: 'op1' }, claims))), 'algorithm_not_allowed');
    expect401(await me(bearer(signJws({ alg: 'hs256', kid: 'op1' }, claims, crypto.randomBytes(32)))), 'algorithm_not_allowed');
  });

  test('a wrong role gets 403 and an access.denied audit record', async () => {
    const headers = await id.operatorHeaders('admin');
    const r = await request(`${base}/v1/citizens/${id.citizens[0].id}`, { headers });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.code, 'forbidden');
    const rows = server.sql(`SELECT caller_kind, caller_id, outcome, target_id FROM audit_log WHERE action = 'access.denied' AND caller_id = ${id.operators.admin.id}`);
    assert.ok(rows.length >= 1);
    assert.deepEqual(rows[rows.length - 1], ['operator', String(id.operators.admin.id), 'denied', 'people.citizen_read']);
    // a citizen on an operator route: 403 and audited as well
    const c = await request(`${base}/v1/citizens/${id.citizens[0].id}`, { headers: id.citizenHeaders(id.citizens[0]) });
    assert.equal(c.status, 403);
    const crow = server.sql(`SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND caller_kind = 'citizen' AND caller_id = ${id.citizens[0].id}`);
    assert.ok(Number(crow[0][0]) >= 1);
  });
});

// ---------------------------------------------------------------------------------------
describe('partners', () => {
  test('a registered client certificate identifies the partner and its outlet', async () => {
    for (const type of ['post', 'insurer', 'station']) {
      const r = await request(`${server.httpsUrl}/v1/me`, { ...id.partnerTls(type) });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.kind, 'partner');
      assert.equal(r.json.type, type);
      assert.equal(r.json.id, id.partners[type].id);
      assert.equal(r.json.outlet_id, id.outlets[type]);
      assert.equal(r.json.auth, 'certificate');
    }
  });

  test('an unregistered certificate from the trusted CA gets 401', async () => {
    const dir = fs.mkdtempSync(path.join(server.dir, 'cert-'));
    const key = path.join(dir, 'u.key');
    const csr = path.join(dir, 'u.csr');
    const crt = path.join(dir, 'u.crt');
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', csr, '-subj', '/CN=onetrip-partner-unregistered'], { stdio: 'ignore' });
    const ext = path.join(dir, 'ext.cnf');
    fs.writeFileSync(ext, 'extendedKeyUsage=clientAuth\n');
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', tlsPaths.ca, '-CAkey', tlsPaths.caKey,
      '-CAcreateserial', '-out', crt, '-days', '2', '-extfile', ext], { stdio: 'ignore' });
    const r = await request(`${server.httpsUrl}/v1/me`, { cert: crt, key });
    expect401(r, 'unknown_certificate');
  });

  test('a certificate from an untrusted CA fails the handshake or gets 401', async () => {
    let r = null;
    try {
      r = await request(`${server.httpsUrl}/v1/me`, { ...tlsPaths.rogue });
    } catch (e) {
      assert.ok(e.code, `TLS failure expected, got ${e.message}`);
      return;
    }
    assert.equal(r.status, 401, r.text);
  });

  test('a revoked certificate gets 401', async () => {
    const fp = server.sql(`SELECT sha256 FROM partner_certs WHERE partner_id = ${id.partners.court.id}`)[0][0];
    assert.equal((await request(`${server.httpsUrl}/v1/me`, { ...id.partnerTls('court') })).status, 200);
    const rv = server.cli(['partner', 'cert', 'revoke', fp]);
    assert.equal(rv.code, 0, rv.stderr);
    expect401(await request(`${server.httpsUrl}/v1/me`, { ...id.partnerTls('court') }), 'certificate_revoked');
  });

  test('an HMAC-signed request identifies the partner', async () => {
    const r = await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', ''));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.kind, 'partner');
    assert.equal(r.json.type, 'dealer');
    assert.equal(r.json.auth, 'hmac');
  });

  test('bad HMAC signature, wrong body, stale timestamp, replayed nonce and unknown key are rejected', async () => {
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { secret: randomHex(32) })), 'bad_signature');
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me?x=1', '')), 'bad_signature');
    const t = now();
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { ts: t - 301 - 5 })), 'stale_timestamp');
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { ts: t + 400 })), 'stale_timestamp');
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { ts: '99999999999999999999999' })), 'stale_timestamp');
    const nonce = randomHex(12);
    assert.equal((await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { nonce }))).status, 200);
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { nonce })), 'nonce_replayed');
    expect401(await me(id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '', { keyId: 'pk_0000000000000000' })), 'unknown_key');
    const h = id.partnerHmacHeaders('dealer', 'GET', '/v1/me', '');
    delete h['X-Onetrip-Nonce'];
    expect401(await me(h), 'signature_incomplete');
    // the body is signed: the same headers with another body fail
    const body = JSON.stringify({ id_number: id.citizens[0].idNumber });
    const signed = id.partnerHmacHeaders('dealer', 'POST', '/v1/citizens/lookup', body);
    const tampered = await request(`${base}/v1/citizens/lookup`, {
      method: 'POST', headers: { ...signed, 'content-type': 'application/json' }, body: `${body} `,
    });
    expect401(tampered, 'bad_signature');
    // correctly signed, but partners may not look up citizens: 403
    const signed2 = id.partnerHmacHeaders('dealer', 'POST', '/v1/citizens/lookup', body);
    const denied = await request(`${base}/v1/citizens/lookup`, {
      method: 'POST', headers: { ...signed2, 'content-type': 'application/json' }, body,
    });
    assert.equal(denied.status, 403, denied.text);
  });
});

// ---------------------------------------------------------------------------------------
describe('permissions', () => {
  test('onetripd permissions prints every permission and route', () => {
    const r = server.cli(['permissions']);
    assert.equal(r.code, 0, r.stderr);
    for (const p of ['public', 'identity.me', 'identity.logout', 'people.read_own', 'people.vehicle_read', 'people.citizen_read']) {
      assert.match(r.stdout, new RegExp(`^${p.replace('.', '\\.')}\\s`, 'm'), p);
    }
    for (const route of ['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/me', '/v1/me/licence', '/v1/me/vehicles', '/v1/vehicles/{id}', '/v1/citizens/{id}', '/v1/citizens/lookup']) {
      assert.ok(r.stdout.includes(route), route);
    }
  });
});

// ---------------------------------------------------------------------------------------
describe('audit trail', () => {
  const cols = 'shard, prev_seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash';
  // Pairs of records that follow each other in one shard's chain, [earlier seq, later seq].
  function chainPairs() {
    const rows = server.sql('SELECT shard, seq FROM audit_log ORDER BY shard, seq').map(([k, q]) => [Number(k), Number(q)]);
    return rows.slice(1).map((r, i) => [rows[i], r]).filter(([a, b]) => a[0] === b[0]).map(([a, b]) => [a[1], b[1]]);
  }

  function verify() {
    return server.cli(['audit', 'verify']);
  }
  function backup() {
    server.sqlExec('DROP TABLE IF EXISTS audit_backup; CREATE TABLE audit_backup AS SELECT * FROM audit_log');
  }
  function restore() {
    server.sqlExec('DELETE FROM audit_log; INSERT INTO audit_log SELECT * FROM audit_backup');
    const r = verify();
    assert.equal(r.code, 0, `restored chain must verify: ${r.stdout}${r.stderr}`);
  }

  test('the chain verifies and the triggers refuse UPDATE and DELETE even for root', () => {
    const r = verify();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /intact: \d+ records/);
    assert.throws(() => server.sqlExec("UPDATE audit_log SET outcome = 'x' WHERE seq = 1"), /append-only/);
    assert.throws(() => server.sqlExec('DELETE FROM audit_log WHERE seq = 1'), /append-only/);
  });

  test('tampering is detected: edited, deleted, reordered and truncated records', () => {
    const n = Number(server.sql('SELECT MAX(seq) FROM audit_log')[0][0]);
    assert.ok(n >= 10);
    server.sqlExec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete');
    try {
      backup();
      // records of one shard's chain (numbers have gaps where a transaction rolled back)
      const pairs = chainPairs();
      assert.ok(pairs.length >= 6, `${pairs.length} linked pairs`);
      // (a) an edited row
      const [edited] = pairs[0];
      server.sqlExec(`UPDATE audit_log SET outcome = 'denied' WHERE seq = ${edited}`);
      let r = verify();
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, new RegExp(`record ${edited} was altered`));
      restore();
      // an edited row whose own hash was recomputed by the attacker still breaks the next link
      const [rehashed] = pairs[1];
      server.sqlExec(`UPDATE audit_log SET hash = REPEAT('a', 64) WHERE seq = ${rehashed}`);
      r = verify();
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, new RegExp(`record ${rehashed}`));
      restore();
      // (b) a deleted middle row: the next record of its shard names it
      const [del] = pairs[2];
      server.sqlExec(`DELETE FROM audit_log WHERE seq = ${del}`);
      r = verify();
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, new RegExp(`record ${del} is missing`));
      restore();
      // (c) two rows' contents swapped (reordered), seq kept
      const [x, y] = pairs[3];
      const set = cols.split(', ').map((c) => `a.${c} = b.${c}`).join(', ');
      server.sqlExec(`UPDATE audit_log a JOIN audit_backup b ON b.seq = IF(a.seq = ${x}, ${y}, ${x}) SET ${set} WHERE a.seq IN (${x}, ${y})`);
      r = verify();
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, new RegExp(`record ${x} does not link`));
      restore();
      // (c') renumbered: two rows exchange their seq
      const [u, v] = pairs[4];
      server.sqlExec(`UPDATE audit_log SET seq = -1 WHERE seq = ${u}; UPDATE audit_log SET seq = ${u} WHERE seq = ${v}; UPDATE audit_log SET seq = ${v} WHERE seq = -1`);
      r = verify();
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, new RegExp(`record ${u}`));
      restore();
      // (d) the newest record removed: its shard's head says more
      server.sqlExec(`DELETE FROM audit_log WHERE seq = ${n}`);
      r = verify();
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /the chain of shard \d+ ends at record/);
      restore();
    } finally {
      server.sqlExec('DROP TABLE IF EXISTS audit_backup');
      server.sqlExec("CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'");
      server.sqlExec("CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_log is append-only'");
    }
    assert.equal(verify().code, 0);
  });

  test('the app database user may insert audit records but not update or delete them', () => {
    const { user, password, name } = server.db;
    const asApp = (q) => execFileSync('mariadb', ['--no-defaults', '-S', env.dbSocket, '-u', user, `-p${password}`, '-D', name, '-N', '-B', '-e', q],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const denied = (q) => assert.throws(() => asApp(q), (e) => /command denied/i.test(String(e.stderr)), q);
    denied("UPDATE audit_log SET outcome = 'x' WHERE seq = 1");
    denied('DELETE FROM audit_log WHERE seq = 1');
    denied('TRUNCATE TABLE audit_log');
    denied('DROP TRIGGER audit_log_no_update');
    denied('ALTER TABLE audit_log ADD COLUMN x INT');
    denied('DROP TABLE citizens');
    // INSERT is granted (rolled back so the chain stays intact)
    const out = asApp("START TRANSACTION; INSERT INTO audit_log (seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, outcome, peer, request_id, prev_hash, hash) VALUES (999999, UTC_TIMESTAMP(), 'system', 0, 0, 0, 0, 'probe', 'ok', '', '', REPEAT('0', 64), REPEAT('0', 64)); SELECT ROW_COUNT(); ROLLBACK;");
    assert.equal(out.trim(), '1');
    assert.ok(Number(asApp('SELECT COUNT(*) FROM audit_log').trim()) > 0);
    // the numbers of the shards' records come from audit_seq: the app may take them, not reset them
    assert.match(asApp('SELECT NEXT VALUE FOR audit_seq').trim(), /^\d+$/);
    denied('ALTER SEQUENCE audit_seq RESTART WITH 1');
    denied('DROP SEQUENCE audit_seq');
    assert.equal(verify().code, 0);
  });

  test('records say who, what, when, from where and the outcome', () => {
    const rows = server.sql(`SELECT caller_kind, caller_id, outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, at FROM audit_log WHERE action = 'auth.login' AND outcome = 'ok' AND caller_id = ${id.operators.window.id} ORDER BY seq DESC LIMIT 1`);
    assert.equal(rows.length, 1);
    const [kind, callerId, outletId, roles, action, ttype, tid, outcome, peer, reqId, at] = rows[0];
    assert.equal(kind, 'operator');
    assert.equal(callerId, String(id.operators.window.id));
    assert.equal(outletId, String(id.outlets.windowA));
    assert.equal(roles, '1');
    assert.equal(action, 'auth.login');
    assert.equal(ttype, 'operator');
    assert.equal(tid, String(id.operators.window.id));
    assert.equal(outcome, 'ok');
    assert.match(peer, /127\.0\.0\.1/);
    assert.match(reqId, /^[0-9a-f]{8,}/);
    assert.match(at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  });
});

// ---------------------------------------------------------------------------------------
describe('personal data', () => {
  test('citizens hold ciphertext with a key id, never the plaintext', () => {
    for (const c of id.citizens) {
      const [row] = server.sql(`SELECT HEX(id_number_enc), HEX(phone_enc), HEX(id_number_hash), HEX(phone_hash), HEX(CONCAT_WS('|', name, id_number_enc, id_number_hash, IFNULL(phone_enc, ''), IFNULL(phone_hash, ''), birth_date, address)) FROM citizens WHERE id = ${c.id}`);
      const hexOf = (s) => Buffer.from(s).toString('hex').toUpperCase();
      for (const cell of row) {
        assert.ok(!cell.includes(hexOf(c.idNumber)), 'ID number in clear');
        assert.ok(!cell.includes(hexOf(c.phone)), 'phone in clear');
        assert.ok(!cell.includes(hexOf(c.idNumber.slice(0, 14))), 'ID number prefix in clear');
      }
      assert.ok(row[0].startsWith('01'), 'key id 1 leads the sealed value');
      assert.equal(row[0].length, 2 * (1 + 12 + 18 + 16));
      assert.equal(row[2].length, 64);
      // nothing else in the database holds it either (audit details included)
      const audit = server.sql(`SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%${c.idNumber}%' OR detail LIKE '%${c.phone}%'`);
      assert.equal(audit[0][0], '0');
    }
  });
});

// ---------------------------------------------------------------------------------------
describe('identity commands', () => {
  test('client commands: duplicates exit 3, bad keys exit 2, unknown names exit 1', () => {
    const dir = fs.mkdtempSync(path.join(server.dir, 'cli-'));
    const ec = path.join(dir, 'ec.pem');
    const rsa = path.join(dir, 'rsa.pem');
    const priv = path.join(dir, 'priv.pem');
    const ecPair = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fs.writeFileSync(ec, ecPair.publicKey.export({ type: 'spki', format: 'pem' }));
    fs.writeFileSync(priv, ecPair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    fs.writeFileSync(rsa, crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
    const name = `cli-${randomHex(3)}`;
    assert.equal(server.cli(['client', 'add', name]).code, 0);
    const dup = server.cli(['client', 'add', name]);
    assert.equal(dup.code, 3);
    assert.match(dup.stderr, /already exists/);
    assert.equal(server.cli(['client', 'add', 'bad name']).code, 2);
    const kid = `kid-${randomHex(3)}`;
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'RS256', '--pem', ec]).code, 2);
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'ES256', '--pem', rsa]).code, 2);
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'ES256', '--pem', priv]).code, 2);
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'HS256', '--pem', ec]).code, 2);
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', 'op1', '--alg', 'ES256', '--pem', ec]).code, 2);
    assert.equal(server.cli(['client', 'key', 'add', `no-${name}`, '--kid', kid, '--alg', 'ES256', '--pem', ec]).code, 1);
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'ES256', '--pem', ec]).code, 0);
    assert.equal(server.cli(['client', 'key', 'add', name, '--kid', kid, '--alg', 'ES256', '--pem', ec]).code, 3);
    assert.equal(server.cli(['client', 'key', 'revoke', `no-${kid}`]).code, 1);
    assert.equal(server.cli(['client', 'disable', `no-${name}`]).code, 1);
    assert.equal(server.cli(['client', 'frobnicate']).code, 2);
    // what the registry holds is the public key only
    const stored = server.sql(`SELECT public_pem FROM app_client_keys WHERE kid = '${kid}'`)[0][0];
    assert.match(stored, /BEGIN PUBLIC KEY/);
  });

  test('operator add: password only from the environment or a file, never argv', () => {
    const base0 = ['operator', 'add', `op-${randomHex(3)}`, '--name', 'N', '--roles', 'window', '--outlet', `T${id.tag}-windowA`];
    assert.equal(server.cli(base0).code, 2, 'no password given');
    assert.equal(server.cli([...base0, '--password', 'abcdefghij']).code, 2, '--password is not an option');
    assert.equal(server.cli(base0, { env: { ONETRIP_OPERATOR_PASSWORD: 'short' } }).code, 2);
    const file = path.join(server.dir, 'pw.txt');
    const pw = randomHex(8);
    fs.writeFileSync(file, `${pw}\n`, { mode: 0o600 });
    const ok = server.cli([...base0, '--password-file', file]);
    assert.equal(ok.code, 0, ok.stderr);
    const row = server.sql(`SELECT password_hash FROM operators WHERE id = ${Number(ok.stdout.trim())}`)[0][0];
    assert.match(row, /^pbkdf2-sha256\$600000\$/);
    assert.ok(!row.includes(pw));
    assert.equal(server.cli([...base0.slice(0, 2), `op-${randomHex(3)}`, '--name', 'N', '--roles', 'window,boss', '--outlet', `T${id.tag}-windowA`], { env: { ONETRIP_OPERATOR_PASSWORD: pw } }).code, 2);
    assert.equal(server.cli([...base0.slice(0, 2), `op-${randomHex(3)}`, '--name', 'N', '--roles', 'window', '--outlet', 'NO-SUCH'], { env: { ONETRIP_OPERATOR_PASSWORD: pw } }).code, 1);
    assert.equal(server.cli(['operator', 'disable', 'no-such-user']).code, 1);
  });

  test('partner commands: hmac keys are not replaced without --rotate; certificates are unique', () => {
    const name = `p-${randomHex(3)}`;
    assert.equal(server.cli(['partner', 'add', name, '--type', 'hospital', '--outlet', `T${id.tag}-hospital`]).code, 0);
    assert.equal(server.cli(['partner', 'add', name, '--type', 'hospital', '--outlet', `T${id.tag}-hospital`]).code, 3);
    assert.equal(server.cli(['partner', 'add', `x${name}`, '--type', 'bank', '--outlet', `T${id.tag}-hospital`]).code, 2);
    const first = server.cli(['partner', 'hmac', name]);
    assert.equal(first.code, 0);
    assert.match(first.stdout, /^key_id=pk_[0-9a-f]{16} secret=[0-9a-f]{64}\n$/);
    const again = server.cli(['partner', 'hmac', name]);
    assert.equal(again.code, 3);
    assert.equal(again.stdout, '');
    const rotated = server.cli(['partner', 'hmac', name, '--rotate']);
    assert.equal(rotated.code, 0);
    assert.notEqual(rotated.stdout, first.stdout);
    // the secret is stored sealed
    const secret = /secret=([0-9a-f]{64})/.exec(rotated.stdout)[1];
    const hex = server.sql(`SELECT HEX(hmac_secret_enc) FROM partners WHERE name = '${name}'`)[0][0];
    assert.ok(!hex.includes(Buffer.from(secret).toString('hex').toUpperCase()));
    // a certificate already registered (to the hospital partner) cannot be registered again
    assert.equal(server.cli(['partner', 'cert', 'add', name, '--cert', tlsPaths.partner('hospital').cert]).code, 3);
    assert.equal(server.cli(['partner', 'cert', 'add', name, '--cert', tlsPaths.partner('hospital').key]).code, 2);
    assert.equal(server.cli(['partner', 'cert', 'revoke', 'f'.repeat(64)]).code, 1);
  });

  test('the prune job removes expired replay-cache rows and ended sessions', () => {
    server.sqlExec(`INSERT INTO jwt_seen (client_id, jti, expires_at) VALUES (${id.client.id}, 'old-${randomHex(4)}', UTC_TIMESTAMP(3) - INTERVAL 1 HOUR), (${id.client.id}, 'new-${randomHex(4)}', UTC_TIMESTAMP(3) + INTERVAL 1 HOUR)`);
    server.sqlExec(`INSERT INTO partner_nonces (partner_id, nonce, expires_at) VALUES (${id.partners.post.id}, 'old-${randomHex(4)}', UTC_TIMESTAMP(3) - INTERVAL 1 HOUR)`);
    server.sqlExec(`INSERT INTO operator_sessions (operator_id, refresh_hash, expires_at, revoked, created_at) VALUES (${id.operators.window.id}, UNHEX(SHA2('${randomHex(8)}', 256)), UTC_TIMESTAMP(3) - INTERVAL 2 DAY, 0, UTC_TIMESTAMP(3) - INTERVAL 3 DAY)`);
    const r = server.cli(['job', 'run', 'identity_prune']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.sql("SELECT COUNT(*) FROM jwt_seen WHERE expires_at < UTC_TIMESTAMP(3)")[0][0], '0');
    assert.ok(Number(server.sql("SELECT COUNT(*) FROM jwt_seen WHERE jti LIKE 'new-%'")[0][0]) >= 1);
    assert.equal(server.sql('SELECT COUNT(*) FROM partner_nonces WHERE expires_at < UTC_TIMESTAMP(3)')[0][0], '0');
    assert.equal(server.sql('SELECT COUNT(*) FROM operator_sessions WHERE expires_at < UTC_TIMESTAMP(3) - INTERVAL 1 DAY')[0][0], '0');
  });
});

// ---------------------------------------------------------------------------------------
describe('demo identities (ops/lib/demo.sh)', () => {
  test('registers one of each kind, keeps secrets in a 600 file, and can be re-run', async () => {
    const varDir = fs.mkdtempSync(path.join(server.dir, 'var-'));
    fs.symlinkSync(env.tlsDir, path.join(varDir, 'tls'));
    const script = path.join(env.repo, 'ops/lib/demo.sh');
    const run = () => execFileSync('bash', [script, varDir, server.configPath], {
      cwd: env.repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ONETRIPD: env.onetripd },
    });
    run();
    const credsFile = path.join(varDir, 'demo', 'credentials.txt');
    assert.equal(fs.statSync(credsFile).mode & 0o777, 0o600);
    const read = () => Object.fromEntries(fs.readFileSync(credsFile, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const creds = read();
    for (const k of ['operator.window1', 'operator.supervisor1', 'operator.reviewer1', 'operator.admin1', 'partner.post.hmac_secret', 'app.kid']) {
      assert.ok(creds[k], k);
    }
    // the demo operator logs in, the demo partner signs, the demo app speaks for a demo citizen
    const login = await request(`${base}/v1/auth/login`, { method: 'POST', json: { username: 'window1', password: creds['operator.window1'] } });
    assert.equal(login.status, 200, login.text);
    secrets.push(creds['operator.window1'], creds['partner.post.hmac_secret']);
    const ts = String(now());
    const nonce = randomHex(8);
    const msg = `GET\n/v1/me\n${ts}\n${nonce}\n${crypto.createHash('sha256').update('').digest('hex')}`;
    const sig = crypto.createHmac('sha256', creds['partner.post.hmac_secret']).update(msg).digest('hex');
    const p = await me({ 'X-Onetrip-Key': creds['partner.post.hmac_key_id'], 'X-Onetrip-Timestamp': ts, 'X-Onetrip-Nonce': nonce, 'X-Onetrip-Signature': sig });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.name, 'demo-post');
    const fp = server.sql("SELECT c.sha256 FROM partner_certs c JOIN partners p ON p.id = c.partner_id WHERE p.name = 'demo-post'");
    assert.deepEqual(fp, []); // the post certificate already belongs to the test partner: kept there
    assert.equal(server.sql(`SELECT COUNT(*) FROM partner_certs WHERE sha256 = '${partnerFingerprint('post')}'`)[0][0], '1');
    const key = crypto.createPrivateKey(fs.readFileSync(creds['app.private_key']));
    const t = now();
    const tok = signJws({ alg: 'ES256', kid: creds['app.kid'] }, { iss: 'demo-app', aud: 'onetrip', sub: '330111198503150017', iat: t, nbf: t, exp: t + 300, jti: randomHex(8) }, key);
    const c = await me(bearer(tok));
    assert.equal(c.status, 200, c.text);
    assert.equal(c.json.id_number, '330111********0017');
    // re-running changes nothing and keeps the secrets
    run();
    assert.deepEqual(read(), creds);
    assert.equal(server.sql("SELECT COUNT(*) FROM operators WHERE username IN ('window1','supervisor1','reviewer1','admin1')")[0][0], '4');
    assert.equal(server.sql("SELECT COUNT(*) FROM partners WHERE name LIKE 'demo-%'")[0][0], '7');
    assert.equal(server.cli(['audit', 'verify']).code, 0);
  });
});

// ---------------------------------------------------------------------------------------
// last: every secret used by the tests above is known by now
describe('logs', () => {
  test('no log line holds an ID number, phone, password, token or secret', async () => {
    // one more round of traffic carrying each of them, including failures
    await me(id.citizenHeaders(id.citizens[3]));
    await request(`${base}/v1/auth/login`, { method: 'POST', json: { username: id.operators.window.username, password: 'wrong-password-123' } });
    secrets.push('wrong-password-123');
    const tok = id.appToken(id.citizens[3]);
    secrets.push(tok.split('.')[2]);
    await me(bearer(tok));
    await me(bearer(tok));
    const log = server.log();
    assert.ok(log.length > 0);
    for (const s of secrets) {
      assert.ok(s && !log.includes(s), `secret found in the server log: ${String(s).slice(0, 4)}…`);
    }
    for (const c of id.citizens) assert.ok(!log.includes(c.idNumber.slice(0, 14)));
    assert.ok(!/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/.test(log), 'a JWT in the log');
  });
});

describe('login load', () => {
  test('at most half the workers check passwords at once; the rest get 503 login_busy', async () => {
    const server = await startServer({ prefix: 'loginload', overrides: { 'workers.count': 2, 'jobs.enabled': 0 } });
    try {
      const id = await setupIdentity(server, { citizens: 1, hmac: false });
      const op = id.operators.window;
      const rs = await Promise.all(Array.from({ length: 6 }, () => request(`${server.httpsUrl}/v1/auth/login`, {
        method: 'POST', json: { username: op.username, password: op.password }, timeoutMs: 30000,
      })));
      const statuses = rs.map((r) => r.status);
      assert.ok(statuses.includes(200), statuses.join(','));
      const busy = rs.filter((r) => r.status === 503);
      assert.ok(busy.length >= 1, statuses.join(','));
      for (const r of busy) {
        assert.equal(r.json.code, 'login_busy');
        assert.equal(r.headers['retry-after'], '1');
      }
      // other requests are still served while logins hash
      const ready = await request(`${server.httpUrl}/readyz`);
      assert.equal(ready.status, 200);
    } finally {
      await server.stop();
    }
  });
});
