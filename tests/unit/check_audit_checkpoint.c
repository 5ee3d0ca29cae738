/* check_audit_checkpoint.c - Ed25519 (server/crypto_ed25519.c) and signed
 * audit checkpoints (server/audit_checkpoint.c): signing, parsing,
 * verification and the checkpoint file. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "server/audit_checkpoint.h"
#include "server/crypto.h"
#include "server/crypto_ed25519.h"
#include "tests/unit/check_util.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEAD_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEAD_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* RFC 8032 section 7.1, TEST 1 (empty message). */
static const char *RFC_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *RFC_PUB = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char *RFC_SIG = "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8"
                             "821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

static void seed_of(const char *hex, unsigned char out[32])
{
    ck_assert_int_eq(crypto_unhex(hex, out, 32), 32);
}

static void key_of(const unsigned char seed[32], audit_cp_key *k)
{
    ck_assert_int_eq(crypto_ed25519_public(seed, k->pub), 0);
    audit_cp_key_id(k->pub, k->key_id);
}

START_TEST(ed25519_rfc8032_vector)
{
    unsigned char seed[32], pub[32], sig[64];
    char hex[129];
    seed_of(RFC_SEED, seed);
    ck_assert_int_eq(crypto_ed25519_public(seed, pub), 0);
    crypto_hex(pub, 32, hex);
    ck_assert_str_eq(hex, RFC_PUB);
    ck_assert_int_eq(crypto_ed25519_sign(seed, NULL, 0, sig), 0);
    crypto_hex(sig, 64, hex);
    ck_assert_str_eq(hex, RFC_SIG);
    ck_assert_int_eq(crypto_ed25519_verify(pub, NULL, 0, sig, 64), 1);
    sig[0] ^= 1;
    ck_assert_int_eq(crypto_ed25519_verify(pub, NULL, 0, sig, 64), 0);
    ck_assert_int_eq(crypto_ed25519_verify(pub, NULL, 0, sig, 63), 0);
    ck_assert_int_eq(crypto_ed25519_verify(pub, NULL, 0, NULL, 0), 0);
}
END_TEST

/* The key id is the first 16 bytes of SHA-256 of the raw public key
 * (computed independently with Python hashlib); the PEM form round-trips. */
START_TEST(key_id_and_pem)
{
    unsigned char seed[32];
    audit_cp_key k, back;
    char *pem;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    ck_assert_str_eq(k.key_id, "21fe31dfa154a261626bf854046fd227");
    pem = crypto_ed25519_public_pem(k.pub);
    ck_assert_ptr_nonnull(pem);
    ck_assert_ptr_nonnull(strstr(pem, "-----BEGIN PUBLIC KEY-----"));
    ck_assert_int_eq(audit_cp_key_from_pem(pem, &back), 0);
    ck_assert_mem_eq(back.pub, k.pub, 32);
    ck_assert_str_eq(back.key_id, k.key_id);
    free(pem);
    ck_assert_int_eq(audit_cp_key_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", &back), -1);
    ck_assert_int_eq(audit_cp_key_from_pem("not a key", &back), -1);
}
END_TEST

/* A checkpoint whose shards are all empty. */
static void cp_empty(audit_cp *cp, const char *at)
{
    memset(cp, 0, sizeof *cp);
    for (int k = 0; k < AUDIT_SHARDS; k++)
        snprintf(cp->chains[k].head, sizeof cp->chains[k].head, "%s", ZERO64);
    snprintf(cp->issued_at, sizeof cp->issued_at, "%s", at);
}

static void cp_set(audit_cp *cp, int shard, int64_t count, const char *head)
{
    cp->chains[shard].count = count;
    snprintf(cp->chains[shard].head, sizeof cp->chains[shard].head, "%s", head);
}

/* Signs a checkpoint of shard 0 (main) only. */
static char *sign_cp(const unsigned char seed[32], int64_t count, const char *head, const char *at)
{
    audit_cp cp;
    char *line;
    cp_empty(&cp, at);
    cp_set(&cp, 0, count, head);
    line = audit_cp_sign(seed, &cp);
    ck_assert_ptr_nonnull(line);
    return line;
}

START_TEST(sign_then_parse)
{
    unsigned char seed[32];
    audit_cp_key k;
    audit_cp cp;
    char why[160] = "", *line;
    json_t *l, *p;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    line = sign_cp(seed, 42, HEAD_A, "2026-01-02T03:04:05.678Z");
    ck_assert_int_eq(audit_cp_parse(line, &k, 1, &cp, why, sizeof why), 0);
    ck_assert_int_eq(cp.chains[0].count, 42);
    ck_assert_str_eq(cp.chains[0].head, HEAD_A);
    /* the shards it does not name were empty */
    for (int sh = 1; sh < AUDIT_SHARDS; sh++) {
        ck_assert_int_eq(cp.chains[sh].count, 0);
        ck_assert_str_eq(cp.chains[sh].head, ZERO64);
    }
    ck_assert_str_eq(cp.issued_at, "2026-01-02T03:04:05.678Z");
    ck_assert_str_eq(cp.key_id, k.key_id);
    /* The documented layout: the line's members and the payload's, sorted. */
    l = json_loads(line, 0, NULL);
    ck_assert_str_eq(json_string_value(json_object_get(l, "algorithm")), "Ed25519");
    ck_assert_str_eq(json_string_value(json_object_get(l, "key_id")), k.key_id);
    ck_assert_str_eq(json_string_value(json_object_get(l, "payload")),
                     "{\"chains\":[{\"chain\":\"main\",\"count\":42,\"head\":\"" HEAD_A "\"}],"
                     "\"issued_at\":\"2026-01-02T03:04:05.678Z\",\"key_id\":\"21fe31dfa154a261626bf854046fd227\","
                     "\"type\":\"onetrip.audit.checkpoint\",\"version\":1}");
    p = json_loads(json_string_value(json_object_get(l, "payload")), 0, NULL);
    ck_assert_ptr_nonnull(p);
    json_decref(p);
    json_decref(l);
    free(line);
    /* A bad head or count is not signed, in any shard. */
    {
        audit_cp bad;
        cp_empty(&bad, "2026-01-02T03:04:05.678Z");
        cp_set(&bad, 0, -1, HEAD_A);
        ck_assert_ptr_null(audit_cp_sign(seed, &bad));
        cp_set(&bad, 0, 1, "XYZ");
        ck_assert_ptr_null(audit_cp_sign(seed, &bad));
        cp_set(&bad, 0, 1, HEAD_A);
        cp_set(&bad, 9, -3, HEAD_B);
        ck_assert_ptr_null(audit_cp_sign(seed, &bad));
        cp_set(&bad, 9, 0, HEAD_B); /* an empty shard has no head */
        ck_assert_ptr_null(audit_cp_sign(seed, &bad));
        cp_set(&bad, 9, 2, HEAD_B);
        line = audit_cp_sign(seed, &bad);
        ck_assert_ptr_nonnull(line);
        free(line);
    }
}
END_TEST

/* Replaces the first occurrence of from in s by to (same length). */
static void patch(char *s, const char *from, const char *to)
{
    char *at = strstr(s, from);
    ck_assert_ptr_nonnull(at);
    ck_assert_uint_eq(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
}

START_TEST(tampered_lines_are_refused)
{
    unsigned char seed[32], other_seed[32];
    audit_cp_key k, other;
    audit_cp cp;
    char why[160], *line, *copy;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    memset(other_seed, 7, 32);
    key_of(other_seed, &other);
    line = sign_cp(seed, 42, HEAD_A, "2026-01-02T03:04:05.678Z");

    /* a changed count, head or time inside the payload */
    copy = strdup(line);
    patch(copy, "\\\"count\\\":42", "\\\"count\\\":41");
    ck_assert_int_eq(audit_cp_parse(copy, &k, 1, &cp, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad signature");
    free(copy);
    copy = strdup(line);
    patch(copy, "aaaa", "bbbb");
    ck_assert_int_eq(audit_cp_parse(copy, &k, 1, &cp, why, sizeof why), -1);
    free(copy);
    copy = strdup(line);
    patch(copy, "03:04:05", "03:04:06");
    ck_assert_int_eq(audit_cp_parse(copy, &k, 1, &cp, why, sizeof why), -1);
    free(copy);
    /* a changed signature */
    copy = strdup(line);
    {
        char *sig = strstr(copy, "\"signature\":\"") + 13;
        sig[3] = sig[3] == 'A' ? 'B' : 'A';
    }
    ck_assert_int_eq(audit_cp_parse(copy, &k, 1, &cp, why, sizeof why), -1);
    ck_assert_str_eq(why, "bad signature");
    free(copy);
    /* another key's checkpoint, or ours checked only against another key */
    ck_assert_int_eq(audit_cp_parse(line, &other, 1, &cp, why, sizeof why), -1);
    ck_assert_ptr_nonnull(strstr(why, "not a key given"));
    {
        audit_cp_key both[2] = {other, k};
        ck_assert_int_eq(audit_cp_parse(line, both, 2, &cp, why, sizeof why), 0);
    }
    /* the key id of the line swapped for a known key's: the signature fails */
    copy = strdup(line);
    patch(copy, "\"key_id\":\"21fe31dfa154a261626bf854046fd227\"", "\"key_id\":\"21fe31dfa154a261626bf854046fd228\"");
    {
        audit_cp_key fake = k;
        snprintf(fake.key_id, sizeof fake.key_id, "21fe31dfa154a261626bf854046fd228");
        memcpy(fake.pub, other.pub, 32);
        ck_assert_int_eq(audit_cp_parse(copy, &fake, 1, &cp, why, sizeof why), -1);
    }
    free(copy);
    /* another algorithm, junk */
    copy = strdup(line);
    patch(copy, "Ed25519", "Ed25518");
    ck_assert_int_eq(audit_cp_parse(copy, &k, 1, &cp, why, sizeof why), -1);
    free(copy);
    ck_assert_int_eq(audit_cp_parse("", &k, 1, &cp, why, sizeof why), -1);
    ck_assert_int_eq(audit_cp_parse("{\"algorithm\":\"Ed25519\"}", &k, 1, &cp, why, sizeof why), -1);
    ck_assert_int_eq(audit_cp_parse("[1,2]", &k, 1, &cp, why, sizeof why), -1);
    free(line);
}
END_TEST

/* A line whose signature verifies but whose payload (the i-th of what) is
 * malformed: parsing refuses it for that reason, not the signature. */
static void signed_payload_refused(const unsigned char seed[32], const audit_cp_key *k,
                                   const char *payload, const char *what, size_t i)
{
    unsigned char sig[64];
    audit_cp cp;
    char why[160], *sig64, *line;
    json_t *l;

    ck_assert_int_eq(crypto_ed25519_sign(seed, payload, strlen(payload), sig), 0);
    sig64 = crypto_b64url_encode(sig, 64);
    l = json_pack("{ssssssss}", "algorithm", "Ed25519", "key_id", k->key_id, "payload", payload,
                  "signature", sig64);
    line = json_dumps(l, JSON_COMPACT);
    ck_assert_msg(audit_cp_parse(line, k, 1, &cp, why, sizeof why) == -1, "%s %zu accepted", what, i);
    ck_assert_str_ne(why, "bad signature");
    free(line);
    free(sig64);
    json_decref(l);
}

/* A correctly signed payload that is not a well-formed checkpoint. */
START_TEST(signed_but_malformed_payloads)
{
    static const char *payloads[] = {
        "[]",
        "{\"chains\":[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"}],\"issued_at\":\"t\","
        "\"key_id\":\"21fe31dfa154a261626bf854046fd227\",\"type\":\"other\",\"version\":1}",
        "{\"chains\":[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"}],\"issued_at\":\"t\","
        "\"key_id\":\"21fe31dfa154a261626bf854046fd227\",\"type\":\"onetrip.audit.checkpoint\",\"version\":2}",
        "{\"chains\":[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"}],\"issued_at\":\"t\","
        "\"key_id\":\"00000000000000000000000000000000\",\"type\":\"onetrip.audit.checkpoint\",\"version\":1}",
        "{\"chains\":[{\"chain\":\"main\",\"count\":-1,\"head\":\"" HEAD_A "\"}],\"issued_at\":\"t\","
        "\"key_id\":\"21fe31dfa154a261626bf854046fd227\",\"type\":\"onetrip.audit.checkpoint\",\"version\":1}",
        "{\"chains\":[{\"chain\":\"main\",\"count\":1,\"head\":\"ABC\"}],\"issued_at\":\"t\","
        "\"key_id\":\"21fe31dfa154a261626bf854046fd227\",\"type\":\"onetrip.audit.checkpoint\",\"version\":1}",
        "{\"chains\":[{\"chain\":\"shard7\",\"count\":1,\"head\":\"" HEAD_A "\"}],\"issued_at\":\"t\","
        "\"key_id\":\"21fe31dfa154a261626bf854046fd227\",\"type\":\"onetrip.audit.checkpoint\",\"version\":1}",
    };
    unsigned char seed[32];
    audit_cp_key k;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        signed_payload_refused(seed, &k, payloads[i], "payload", i);
}
END_TEST

static char *write_file(const char *text)
{
    char *path = strdup("/tmp/onetrip-cp-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* A file holding text does not load; err names the reason (want). */
static void load_refused(const audit_cp_key *k, const char *text, const char *want)
{
    audit_cp *cps = NULL;
    int n = 0;
    char err[512], *path = write_file(text);

    ck_assert_int_eq(audit_cp_load(path, k, 1, &cps, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "error \"%s\", want \"%s\"", err, want);
    unlink(path);
    free(path);
}

START_TEST(load_file)
{
    unsigned char seed[32];
    audit_cp_key k;
    audit_cp *cps = NULL;
    audit_anchor *a;
    int n = 0, na = 0;
    char err[512], text[4096], *path;
    char *l0, *l1, *l2;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    l0 = sign_cp(seed, 0, ZERO64, "2026-01-02T00:00:00.000Z");
    l1 = sign_cp(seed, 5, HEAD_A, "2026-01-02T00:05:00.000Z");
    l2 = sign_cp(seed, 9, HEAD_B, "2026-01-02T00:10:00.000Z");

    snprintf(text, sizeof text, "%s\n%s\n\n%s\n", l0, l1, l2);
    path = write_file(text);
    ck_assert_int_eq(audit_cp_load(path, &k, 1, &cps, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(cps[2].chains[0].count, 9);
    ck_assert_int_eq(cps[2].line, 4);
    a = audit_cp_anchors(cps, n, &na);
    ck_assert_int_eq(na, 3); /* main only: the other shards were empty */
    ck_assert_int_eq(a[1].shard, 0);
    ck_assert_int_eq(a[1].count, 5);
    ck_assert_str_eq(a[1].head, HEAD_A);
    ck_assert_ptr_nonnull(strstr(a[1].what, "2026-01-02T00:05:00.000Z"));
    free(a);
    free(cps);
    unlink(path);
    free(path);

    /* a later checkpoint with fewer records: the chain went back */
    snprintf(text, sizeof text, "%s\n%s\n", l2, l1);
    load_refused(&k, text, ":2: 5 records in chain main, fewer than the 9 of line 1");

    /* a line that does not verify names its line */
    snprintf(text, sizeof text, "%s\n%s\n", l0, l1);
    patch(text + strlen(l0) + 1, "aaaa", "aaab");
    load_refused(&k, text, ":2: bad signature");

    ck_assert_int_eq(audit_cp_load("/nonexistent/cp.jsonl", &k, 1, &cps, &n, err, sizeof err), -1);
    free(l0);
    free(l1);
    free(l2);
}
END_TEST

/* One checkpoint covers every shard's head: each signed, each parsed back,
 * absent shards empty; names are "main" and "shard<k>". */
START_TEST(checkpoint_covers_every_shard)
{
    unsigned char seed[32];
    audit_cp_key k;
    audit_cp cp, back;
    char why[160] = "", *line, name[16];
    json_t *l, *p, *chains;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    cp_empty(&cp, "2026-01-02T03:04:05.678Z");
    cp_set(&cp, 0, 42, HEAD_A);
    cp_set(&cp, 3, 7, HEAD_B);
    cp_set(&cp, AUDIT_SHARDS - 1, 1, HEAD_A);
    line = audit_cp_sign(seed, &cp);
    ck_assert_ptr_nonnull(line);
    ck_assert_int_eq(audit_cp_parse(line, &k, 1, &back, why, sizeof why), 0);
    for (int s = 0; s < AUDIT_SHARDS; s++) {
        ck_assert_int_eq(back.chains[s].count, cp.chains[s].count);
        ck_assert_str_eq(back.chains[s].head, cp.chains[s].head);
    }
    l = json_loads(line, 0, NULL);
    p = json_loads(json_string_value(json_object_get(l, "payload")), 0, NULL);
    chains = json_object_get(p, "chains");
    ck_assert_int_eq(json_array_size(chains), 3);
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(chains, 0), "chain")), "main");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(chains, 1), "chain")), "shard3");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(chains, 2), "chain")), "shard15");
    json_decref(p);
    json_decref(l);
    /* a shard's count changed inside the signed payload: the signature fails */
    {
        char *copy = strdup(line), *at = strstr(copy, "shard3");
        ck_assert_ptr_nonnull(at);
        at = strstr(at, "\\\"count\\\":7");
        ck_assert_ptr_nonnull(at);
        at[strlen("\\\"count\\\":")] = '6';
        ck_assert_int_eq(audit_cp_parse(copy, &k, 1, &back, why, sizeof why), -1);
        ck_assert_str_eq(why, "bad signature");
        free(copy);
    }
    free(line);
    audit_cp_chain_name(0, name);
    ck_assert_str_eq(name, "main");
    audit_cp_chain_name(12, name);
    ck_assert_str_eq(name, "shard12");
}
END_TEST

/* Signed payloads whose shard entries are malformed are refused. */
START_TEST(malformed_shard_entries)
{
    static const char *chains[] = {
        /* a shard twice */
        "[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"},"
        "{\"chain\":\"shard2\",\"count\":1,\"head\":\"" HEAD_A "\"},"
        "{\"chain\":\"shard2\",\"count\":2,\"head\":\"" HEAD_B "\"}]",
        /* a shard that does not exist */
        "[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"},"
        "{\"chain\":\"shard16\",\"count\":1,\"head\":\"" HEAD_A "\"}]",
        "[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"},"
        "{\"chain\":\"shard02\",\"count\":1,\"head\":\"" HEAD_A "\"}]",
        /* an empty shard with a head, a negative count */
        "[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"},"
        "{\"chain\":\"shard4\",\"count\":0,\"head\":\"" HEAD_A "\"}]",
        "[{\"chain\":\"main\",\"count\":1,\"head\":\"" HEAD_A "\"},"
        "{\"chain\":\"shard4\",\"count\":-2,\"head\":\"" HEAD_A "\"}]",
        /* main missing */
        "[{\"chain\":\"shard4\",\"count\":2,\"head\":\"" HEAD_A "\"}]",
    };
    unsigned char seed[32];
    audit_cp_key k;
    char payload[2048];
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
        snprintf(payload, sizeof payload, "{\"chains\":%s,\"issued_at\":\"t\",\"key_id\":\"%s\","
                 "\"type\":\"onetrip.audit.checkpoint\",\"version\":1}", chains[i], k.key_id);
        signed_payload_refused(seed, &k, payload, "chains", i);
    }
}
END_TEST

/* In a file, no shard may go back, even while the others grow; anchors
 * are one per shard holding records, in file order. */
START_TEST(load_file_every_shard)
{
    unsigned char seed[32];
    audit_cp_key k;
    audit_cp c0, c1, *cps = NULL;
    audit_anchor *a;
    int n = 0, na = 0;
    char err[512], text[8192], *path, *l0, *l1;
    seed_of(RFC_SEED, seed);
    key_of(seed, &k);
    cp_empty(&c0, "2026-01-02T00:00:00.000Z");
    cp_set(&c0, 0, 5, HEAD_A);
    cp_set(&c0, 6, 3, HEAD_B);
    cp_empty(&c1, "2026-01-02T00:05:00.000Z");
    cp_set(&c1, 0, 9, HEAD_B);
    cp_set(&c1, 6, 4, HEAD_A);
    cp_set(&c1, 7, 1, HEAD_A);
    l0 = audit_cp_sign(seed, &c0);
    l1 = audit_cp_sign(seed, &c1);
    ck_assert_ptr_nonnull(l0);
    ck_assert_ptr_nonnull(l1);
    snprintf(text, sizeof text, "%s\n%s\n", l0, l1);
    path = write_file(text);
    ck_assert_int_eq(audit_cp_load(path, &k, 1, &cps, &n, err, sizeof err), 0);
    ck_assert_int_eq(n, 2);
    a = audit_cp_anchors(cps, n, &na);
    ck_assert_int_eq(na, 5);
    ck_assert_int_eq(a[0].shard, 0);
    ck_assert_int_eq(a[1].shard, 6);
    ck_assert_int_eq(a[1].count, 3);
    ck_assert_str_eq(a[1].head, HEAD_B);
    ck_assert_int_eq(a[4].shard, 7);
    ck_assert_ptr_nonnull(strstr(a[4].what, "2026-01-02T00:05:00.000Z"));
    free(a);
    free(cps);
    unlink(path);
    free(path);
    free(l1);

    /* shard 6 went back from 3 to 2 while main grew */
    cp_set(&c1, 6, 2, HEAD_A);
    l1 = audit_cp_sign(seed, &c1);
    snprintf(text, sizeof text, "%s\n%s\n", l0, l1);
    load_refused(&k, text, ":2: 2 records in chain shard6, fewer than the 3 of line 1");
    free(l1);

    /* a shard that disappears from a later checkpoint went back to 0 */
    cp_set(&c1, 6, 0, ZERO64);
    l1 = audit_cp_sign(seed, &c1);
    snprintf(text, sizeof text, "%s\n%s\n", l0, l1);
    load_refused(&k, text, ":2: 0 records in chain shard6");
    free(l1);
    free(l0);
}
END_TEST

Suite *audit_checkpoint_suite(void)
{
    Suite *s = suite_create("audit_checkpoint");
    check_tcase(s, "checkpoint", CHECK_TESTS(ed25519_rfc8032_vector, key_id_and_pem,
                      sign_then_parse, tampered_lines_are_refused, signed_but_malformed_payloads,
                      load_file, checkpoint_covers_every_shard, malformed_shard_entries,
                      load_file_every_shard));
    return s;
}
