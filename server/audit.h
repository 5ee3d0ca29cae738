/* audit.h - append-only, keyed hash-chained audit trail.
 *
 * audit_write runs inside the caller's transaction: the record commits or
 * rolls back with the effect it describes. The trail is AUDIT_SHARDS chains
 * (shards): a connection writes to shard db_conn_slot() % AUDIT_SHARDS (a
 * worker its pool slot, the scheduler the last shard, the CLI shard 0), so
 * unrelated transactions lock different head rows and commit in parallel.
 * A record takes its number from the sequence audit_seq (one order over
 * all shards, with gaps where a transaction rolled back) while it holds its
 * shard's head row FOR UPDATE, and stores prev_seq and a hash over the
 * shard's previous hash and its own content (shard and prev_seq included),
 * so each shard is chained in commit order. Shard 0 continues the single
 * chain of earlier versions; its records without prev_seq ("v1", before
 * migration 0004) are hashed over 14 fields and numbered without gaps.
 *
 * The hash is HMAC-SHA256 with the chain key (audit.chain_key), which lives
 * in the configuration, never in the database: someone who can rewrite the
 * database (a DBA, a stolen backup restored) cannot re-hash an edited chain
 * so that it verifies. Records written before the chain was keyed (plain
 * SHA-256, "legacy") stay as they were; `onetripd migrate` seals them once
 * with a keyed record (action AUDIT_SEAL_ACTION) that links to their last
 * hash, and every record from the seal on is keyed. What the key cannot
 * show, a cut tail with the head moved back, signed checkpoints show (see
 * audit_checkpoint.h); audit_verify compares the chain with them.
 *
 * Blocks (database); worker threads and CLI only. */
#ifndef ONETRIP_AUDIT_H
#define ONETRIP_AUDIT_H

#include <jansson.h>
#include "server/app.h"

#define AUDIT_SEAL_ACTION "audit.chain_keyed"
/* Fixed: migration 0004 creates one audit_head row per shard. */
#define AUDIT_SHARDS 16

/* A shard's head: its last record's number and hash, and how many records
 * it holds (0 and 64 zeros when empty). */
typedef struct audit_head {
    int64_t seq;
    int64_t records;
    char hash[65];
} audit_head;

/* Reads audit.chain_key (64 hex = 32 bytes) into process memory. Call once
 * at start-up, before threads and before any audit_write or audit_verify.
 * Returns 0, or -1 with a one-line reason naming the key. */
int audit_init(char *err, size_t errlen);
void audit_cleanup(void);

/* Who/where come from r (principal, peer, request id). target_* may be
 * NULL. detail (borrowed, may be NULL) must hold no personal identifiers
 * in clear. Returns 0, or -1 with the db error left in r->db. */
int audit_write(app_req *r, const char *action, const char *target_type, const char *target_id,
                const char *outcome, json_t *detail);
/* audit_write that takes ownership of detail (json_pack(...) can be passed
 * straight in); outcome "ok". */
int audit_write_owned(app_req *r, const char *action, const char *target_type,
                      const char *target_id, json_t *detail);
/* The one form for a numeric target (modules no longer wrap audit_write
 * each in their own helper): target_id is id in decimal, or NULL when id
 * is 0; takes ownership of detail (json_pack(...) straight in, may be
 * NULL). audit_write_sys_id is the same for jobs and CLI commands. */
int audit_write_id(app_req *r, const char *action, const char *target_type, int64_t id,
                   const char *outcome, json_t *detail);
int audit_write_sys_id(db_conn *c, const app_principal *who, const char *request_id,
                       const char *peer, const char *action, const char *target_type, int64_t id,
                       const char *outcome, json_t *detail);
/* Same for jobs and CLI commands (principal may be NULL = system). */
int audit_write_sys(db_conn *c, const app_principal *who, const char *request_id,
                    const char *peer, const char *action, const char *target_type,
                    const char *target_id, const char *outcome, json_t *detail);
/* Records a denied request in its own short transaction. */
void audit_denied(app_req *r, const char *perm, const char *reason);

/* Seals the legacy records once (migrate): in one transaction, walks them
 * (plain SHA-256) and appends the keyed seal record, whose detail holds
 * legacy_count, legacy_head and legacy_intact (with legacy_problem when the
 * walk found a break: the seal is written anyway, since refusing would
 * block every upgrade, and audit_verify keeps reporting the break).
 * Returns 1 sealed now, 0 already sealed, -1 database error; msg says what
 * happened. */
int audit_seal(db_conn *c, char *msg, size_t cap);
/* 1 when the chain has its seal, 0 when not, -1 on a database error. */
int audit_is_sealed(db_conn *c);
/* Every shard's head as it stands (a plain read, no lock), heads[k] for
 * shard k. 0, 1 when a shard's head row is missing (msg says which), -1 on
 * a database error. */
int audit_heads_read(db_conn *c, audit_head heads[AUDIT_SHARDS], char *msg, size_t cap);

/* A point a shard's chain must pass through, from a signed checkpoint:
 * after count records of the shard its hash is head. what names it. */
typedef struct audit_anchor {
    int shard;
    int64_t count;
    char head[65];
    char what[128];
} audit_anchor;

/* Walks every shard's chain in one snapshot: returns 0 intact, 1 broken
 * (first problem described in msg), -1 database error. Checks every link
 * (prev_seq and prev_hash) and hash (keyed from the seal on; records with
 * prev_seq always keyed), that each head row matches its shard's end, that
 * no record lies outside the shards, that the chain is sealed, and that
 * each shard passes through its anchors (for each shard in count order; a
 * count beyond the shard's end means records were removed from the end). */
int audit_verify(db_conn *c, const audit_anchor *anchors, int nanchors, char *msg, size_t cap,
                 int64_t *checked);

/* Pure: the canonical content of a record's n fields (NULL allowed), as
 * hashed; malloc'd. */
char *audit_canonical(const char *const *fields, int n);
/* Pure: a legacy record's hash, hex SHA-256(prev_hex "\n" canonical). */
void audit_hash(const char *prev_hex, const char *canonical, char out_hex[65]);
/* Pure: a keyed record's hash, hex HMAC-SHA256(key, prev_hex "\n" canonical). */
void audit_mac(const unsigned char key[32], const char *prev_hex, const char *canonical,
               char out_hex[65]);

#endif
