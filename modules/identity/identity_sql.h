/* identity_sql.h - the identity module's statements (operators, sessions,
 * replay caches). All block on the database; worker threads, jobs and CLI.
 * Return 0 (or 1 = no such row where stated), -1 with the error in c. */
#ifndef ONETRIP_IDENTITY_SQL_H
#define ONETRIP_IDENTITY_SQL_H

#include <stdint.h>
#include "db/db.h"

typedef struct identity_operator {
    int64_t id;
    char username[65];
    char display_name[65];
    char *password_hash;   /* malloc'd; identity_operator_clear frees */
    unsigned roles;
    int64_t outlet_id;
    int active;            /* status = 'active' */
    int locked;            /* locked_until in the future */
} identity_operator;

void identity_operator_clear(identity_operator *o);
/* 1 when there is no such operator. */
int identity_operator_by_username(db_conn *c, const char *username, identity_operator *o);
int identity_operator_by_id(db_conn *c, int64_t id, identity_operator *o);
/* Counts a failed login; locks for lock_s seconds at the max-th failure
 * (and starts counting again). *locked_now = 1 when this call locked it. */
int identity_login_failed(db_conn *c, int64_t id, int max, int lock_s, int *locked_now);
int identity_login_succeeded(db_conn *c, int64_t id);

int identity_session_create(db_conn *c, int64_t operator_id, const unsigned char hash[32], int ttl_s,
                            int64_t *session_id);
typedef struct identity_session {
    int64_t id, operator_id;
    int revoked, live;     /* live: expires_at in the future */
} identity_session;
/* Locks the session row (FOR UPDATE). 1 when no session has this hash. */
int identity_session_by_refresh(db_conn *c, const unsigned char hash[32], identity_session *s);
/* Replaces the refresh hash, remembering the old one as used. */
int identity_session_rotate(db_conn *c, int64_t session_id, const unsigned char old_hash[32],
                            const unsigned char new_hash[32]);
/* The session an already-rotated refresh token belonged to; 1 if none. */
int identity_refresh_used(db_conn *c, const unsigned char hash[32], int64_t *session_id);
int identity_session_revoke(db_conn *c, int64_t session_id);

/* Deletes expired rows (at most 1000 per call); *n = rows deleted. */
int identity_prune_jwt_seen(db_conn *c, uint64_t *n);
int identity_prune_nonces(db_conn *c, uint64_t *n);
int identity_prune_sessions(db_conn *c, uint64_t *n);
int identity_prune_refresh_used(db_conn *c, uint64_t *n);

#endif
