/* identity_sql.h - the identity module's statements (operators, sessions,
 * replay caches). All block on the database; worker threads, jobs and CLI.
 * Return 0 (or 1 = no such row where stated), -1 with the error in c. */
#ifndef ONETRIP_IDENTITY_SQL_H
#define ONETRIP_IDENTITY_SQL_H

#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"
#include "modules/identity/login_policy.h"

/* Rows come back as structs (db/rows.h); text buffers hold the column's
 * longest value (utf8mb4: four bytes a character). */
typedef struct identity_operator {
    int64_t id;
    char username[257];    /* VARCHAR(64) */
    char display_name[257];
    char *password_hash;   /* malloc'd; identity_operator_clear frees */
    int64_t roles;         /* role bits */
    int64_t outlet_id;
    bool active;           /* status = 'active' */
} identity_operator;

void identity_operator_clear(identity_operator *o);
/* 1 when there is no such operator. */
int identity_operator_by_username(db_conn *c, const char *username, identity_operator *o);
int identity_operator_by_id(db_conn *c, int64_t id, identity_operator *o);

/* ---- login sources (login_policy.h; table login_sources) ---- */

typedef struct identity_login_check {
    identity_login_block block; /* NONE: the attempt may go ahead */
    int address_scope;          /* 1: the address is blocked, 0: the username at it */
    int64_t retry_s;            /* seconds until the block ends (>= 1 when blocked) */
} identity_login_check;
/* Whether an attempt for username from address may go ahead now: the
 * longest block in force on the address or on the username at it. A plain
 * read (no lock, no write): refusals cost the database nothing durable. */
int identity_login_blocked(db_conn *c, const char *address, const char *username, identity_login_check *out);
/* Inside a transaction: locks the source's row, counts one failure under
 * policy p and saves it. scope "address" (username "") or "username".
 * *s is the source afterwards; *lockout = 1 when this failure locked it out. */
int identity_login_source_failed(db_conn *c, const char *scope, const char *address, const char *username,
                                 const identity_login_policy *p, identity_login_source *s, int *lockout);
/* A successful login forgets the username's failures at that address (the
 * address's own count stays: a valid account must not wash it). */
int identity_login_source_forget(db_conn *c, const char *address, const char *username);
/* Forgets the username's failures at every address (operator unlock). */
int identity_login_sources_forget_user(db_conn *c, const char *username, uint64_t *n);
/* "lockout", "backoff", or NULL for none. */
const char *identity_login_block_name(identity_login_block b);

typedef struct identity_login_source_row {
    int address_scope;              /* 1: the whole address; 0: username at address */
    char address[IDENTITY_LOGIN_SOURCE_LEN + 1];
    char username[257];             /* "" for the whole address */
    int64_t operator_id;            /* the operator with that username; 0 if none */
    int failures, lockouts;
    identity_login_block block;     /* in force now; NONE when not blocked */
    char blocked_until[32];         /* RFC 3339 UTC; "" when not blocked */
    char first_failed_at[32], last_failed_at[32];
} identity_login_source_row;
/* Sources newest failure first, at most limit: those of one operator's
 * username (operator_id > 0, optionally at one address), of one address
 * (operator_id 0, address set), or all. *out is the caller's: free with
 * identity_login_sources_free. Returns 1 when operator_id names no operator. */
int identity_login_sources_list(db_conn *c, int64_t operator_id, const char *address, int limit,
                                identity_login_source_row **out, int *n);
void identity_login_sources_free(identity_login_source_row *rows);

int identity_session_create(db_conn *c, int64_t operator_id, const unsigned char hash[32], int ttl_s,
                            int64_t *session_id);
typedef struct identity_session {
    int64_t id, operator_id;
    bool revoked, live;    /* live: expires_at in the future */
} identity_session;
/* Locks the session row (FOR UPDATE). 1 when no session has this hash. */
int identity_session_by_refresh(db_conn *c, const unsigned char hash[32], identity_session *s);
/* Replaces the refresh hash, remembering the old one as used. */
int identity_session_rotate(db_conn *c, int64_t session_id, const unsigned char old_hash[32],
                            const unsigned char new_hash[32]);
/* The session an already-rotated refresh token belonged to; 1 if none. */
int identity_refresh_used(db_conn *c, const unsigned char hash[32], int64_t *session_id);
int identity_session_revoke(db_conn *c, int64_t session_id);

/* ---- GET /v1/me: the caller's own record ---- */

/* A citizen; the personal identifiers stay sealed (server/pii.h).
 * identity_citizen_row_clear frees the strings and blobs. */
typedef struct identity_citizen_row {
    char *name;
    unsigned char *id_number_enc;
    size_t id_number_enc_len;
    unsigned char *phone_enc;       /* NULL: no phone */
    size_t phone_enc_len;
    char birth_date[11];            /* YYYY-MM-DD */
    bool disabled;
} identity_citizen_row;
int identity_citizen(db_conn *c, int64_t citizen_id, identity_citizen_row *out, bool *found);
void identity_citizen_row_clear(identity_citizen_row *r);

/* A partner and the code of its outlet. */
typedef struct identity_partner_row {
    char name[257];                 /* VARCHAR(64) */
    char type[16];                  /* ENUM */
    int64_t outlet_id;
    char outlet_code[129];          /* VARCHAR(32) */
} identity_partner_row;
int identity_partner(db_conn *c, int64_t partner_id, identity_partner_row *out, bool *found);

/* The code of an outlet; "" when there is no such outlet. */
int identity_outlet_code(db_conn *c, int64_t outlet_id, char code[129]);

/* Deletes expired rows (at most 1000 per call); *n = rows deleted. */
int identity_prune_jwt_seen(db_conn *c, uint64_t *n);
int identity_prune_nonces(db_conn *c, uint64_t *n);
int identity_prune_sessions(db_conn *c, uint64_t *n);
int identity_prune_refresh_used(db_conn *c, uint64_t *n);
int identity_prune_login_sources(db_conn *c, uint64_t *n);

#endif
