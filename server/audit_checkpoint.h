/* audit_checkpoint.h - signed checkpoints of the audit chain's head.
 *
 * The chain key shows an edited chain, but not a chain cut short with its
 * head moved back: what remains still verifies. A checkpoint says "after
 * count records the chain's hash was head, at issued_at", signed with
 * Ed25519 (audit.checkpoint_key, outside the database). The core module's
 * job publishes one every few minutes outside the database: one line
 * appended (and fsync'd) to <audit.checkpoint_dir>/audit-checkpoints.jsonl,
 * and GET /v1/audit/checkpoint serves the latest, with the public key at
 * GET /v1/audit/checkpoint-key, for auditors to fetch and keep. `onetripd
 * audit verify` then checks the chain passes through every checkpoint of a
 * file. The job refuses to sign a head that went back.
 *
 * One checkpoint is one JSON line, the same as the endpoint's body:
 *   {"algorithm":"Ed25519","key_id":K,"payload":P,"signature":S}
 * S = base64url(Ed25519 over the bytes of P); K = first 16 bytes of
 * SHA-256(raw public key), hex. P is compact JSON, keys sorted:
 *   {"chains":[{"chain":"main","count":N,"head":H}],"issued_at":T,
 *    "key_id":K,"type":"onetrip.audit.checkpoint","version":1}
 * Only what is inside P is signed. "chains" is a list so that one
 * checkpoint can cover several chains later (one per shard or module);
 * today there is one, "main".
 */
#ifndef ONETRIP_AUDIT_CHECKPOINT_H
#define ONETRIP_AUDIT_CHECKPOINT_H

#include <stdint.h>

#include "server/app.h"
#include "server/audit.h"

#define AUDIT_CP_FILE "audit-checkpoints.jsonl"
#define AUDIT_CP_ALG "Ed25519"
#define AUDIT_CP_TYPE "onetrip.audit.checkpoint"
#define AUDIT_CP_CHAIN "main"
#define AUDIT_CP_MAX_LINE 65536

typedef struct audit_cp_key {
    unsigned char pub[32];
    char key_id[33];
} audit_cp_key;

typedef struct audit_cp {
    int64_t count;
    char head[65];
    char issued_at[32];
    char key_id[33];
    int line; /* line in its file (audit_cp_load), else 0 */
} audit_cp;

/* Reads audit.checkpoint_key when set (64 hex, an Ed25519 private key
 * seed) into process memory. Call once at start-up before threads; -1 with
 * a one-line reason when the value is malformed. */
int audit_cp_init(char *err, size_t errlen);
void audit_cp_cleanup(void);
/* What serve needs to publish checkpoints: the signing key and
 * audit.checkpoint_dir. -1 with a one-line reason naming the key. */
int audit_cp_ready(char *err, size_t errlen);
/* This process's public key, or NULL without audit.checkpoint_key. */
const audit_cp_key *audit_cp_own_key(void);

/* Pure helpers (unit-tested). */
void audit_cp_key_id(const unsigned char pub[32], char out[33]);
/* A key from a PEM "PUBLIC KEY" block; -1 unless Ed25519. */
int audit_cp_key_from_pem(const char *pem, audit_cp_key *out);
/* The signed line for cp (cp->key_id is ignored: the seed's is used);
 * malloc'd, no newline; NULL on failure. */
char *audit_cp_sign(const unsigned char seed[32], const audit_cp *cp);
/* Parses one line and checks its signature with the key its key_id names
 * among keys. 0 and *out filled, or -1 with the reason in why. */
int audit_cp_parse(const char *line, const audit_cp_key *keys, int nkeys, audit_cp *out, char *why,
                   size_t cap);
/* Reads every line of a checkpoint file (blank lines skipped), each checked
 * as audit_cp_parse does, and in file order counts must not go down (the
 * chain never shrinks). Returns 0 with *out (malloc'd, file order, which is
 * also count order; free it) and *n, or -1 with "path:line: reason". */
int audit_cp_load(const char *path, const audit_cp_key *keys, int nkeys, audit_cp **out, int *n,
                  char *err, size_t cap);
/* The anchors audit_verify checks, from loaded checkpoints (malloc'd). */
audit_anchor *audit_cp_anchors(const audit_cp *cps, int n);

/* The publishing job (core module, "audit_checkpoint"), and the routes. */
int audit_cp_job(app_job_ctx *ctx, int64_t *count);
void audit_cp_on_latest(app_req *r); /* GET /v1/audit/checkpoint */
void audit_cp_on_key(app_req *r);    /* GET /v1/audit/checkpoint-key (inline) */

#endif
