/* audit_checkpoint.h - signed checkpoints of the audit chain's head.
 *
 * The chain key shows an edited chain, but not a chain cut short with its
 * head moved back: what remains still verifies. A checkpoint says "after
 * count records each shard's hash was head, at issued_at", signed with
 * Ed25519 (audit.checkpoint_key, outside the database). The core module's
 * job publishes one every few minutes outside the database: one line
 * appended (and fsync'd) to <audit.checkpoint_dir>/audit-checkpoints.jsonl,
 * and GET /v1/audit/checkpoint serves the latest, with the public key at
 * GET /v1/audit/checkpoint-key, for auditors to fetch and keep. `onetripd
 * audit verify` then checks the chain passes through every checkpoint of a
 * file. The job refuses to sign if any shard's head went back.
 *
 * One checkpoint is one JSON line, the same as the endpoint's body:
 *   {"algorithm":"Ed25519","key_id":K,"payload":P,"signature":S}
 * S = base64url(Ed25519 over the bytes of P); K = first 16 bytes of
 * SHA-256(raw public key), hex. P is compact JSON, keys sorted:
 *   {"chains":[{"chain":"main","count":N,"head":H}],"issued_at":T,
 *    "key_id":K,"type":"onetrip.audit.checkpoint","version":1}
 * Only what is inside P is signed. "chains" holds one entry per shard:
 * "main" (shard 0, always present) and "shard<k>" for each other shard
 * holding records; a shard absent from it had none. Checkpoints from
 * before the shards hold "main" only, which is still what they mean.
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

/* One shard's point: count records, the last one's hash head (zeros when
 * count is 0). */
typedef struct audit_cp_chain {
    int64_t count;
    char head[65];
} audit_cp_chain;

typedef struct audit_cp {
    audit_cp_chain chains[AUDIT_SHARDS]; /* [k] for shard k */
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
 * as audit_cp_parse does, and in file order no shard's count may go down
 * (a chain never shrinks). Returns 0 with *out (malloc'd, file order, which is
 * also count order; free it) and *n, or -1 with "path:line: reason". */
int audit_cp_load(const char *path, const audit_cp_key *keys, int nkeys, audit_cp **out, int *n,
                  char *err, size_t cap);
/* The anchors audit_verify checks, from loaded checkpoints (malloc'd, *na
 * of them): one per shard of each checkpoint, for shard 0 and each shard
 * holding records, in file order. */
audit_anchor *audit_cp_anchors(const audit_cp *cps, int n, int *na);
/* The name of shard k's chain in a checkpoint: "main" or "shard<k>". */
void audit_cp_chain_name(int shard, char out[16]);

/* The publishing job (core module, "audit_checkpoint"), and the routes. */
int audit_cp_job(app_job_ctx *ctx, int64_t *count);
void audit_cp_on_latest(app_req *r); /* GET /v1/audit/checkpoint */
void audit_cp_on_key(app_req *r);    /* GET /v1/audit/checkpoint-key (inline) */

#endif
