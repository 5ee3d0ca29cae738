/* audit.h - append-only, hash-chained audit trail.
 *
 * audit_write runs inside the caller's transaction: the record commits or
 * rolls back with the effect it describes. Each record stores the SHA-256
 * of the previous record's hash and its own content; the chain head is a
 * single row locked FOR UPDATE, so records are chained in commit order.
 * Blocks (database); worker threads and CLI only. */
#ifndef ONETRIP_AUDIT_H
#define ONETRIP_AUDIT_H

#include <jansson.h>
#include "server/app.h"

/* Who/where come from r (principal, peer, request id). target_* may be
 * NULL. detail (borrowed, may be NULL) must hold no personal identifiers
 * in clear. Returns 0, or -1 with the db error left in r->db. */
int audit_write(app_req *r, const char *action, const char *target_type, const char *target_id,
                const char *outcome, json_t *detail);
/* audit_write that takes ownership of detail (json_pack(...) can be passed
 * straight in); outcome "ok". */
int audit_write_owned(app_req *r, const char *action, const char *target_type,
                      const char *target_id, json_t *detail);
/* Same for jobs and CLI commands (principal may be NULL = system). */
int audit_write_sys(db_conn *c, const app_principal *who, const char *request_id,
                    const char *peer, const char *action, const char *target_type,
                    const char *target_id, const char *outcome, json_t *detail);
/* Records a denied request in its own short transaction. */
void audit_denied(app_req *r, const char *perm, const char *reason);

/* Walks the chain: returns 0 intact, 1 broken (first bad record described
 * in msg), -1 database error. */
int audit_verify(db_conn *c, char *msg, size_t cap, int64_t *checked);

/* Pure: the canonical content of a record's n fields (NULL allowed), as
 * hashed; malloc'd. */
char *audit_canonical(const char *const *fields, int n);
/* Pure: the hash of one record from its canonical content, for tests. */
void audit_hash(const char *prev_hex, const char *canonical, char out_hex[65]);

#endif
