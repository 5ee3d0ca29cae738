/* app.h - the contract between server/ and modules/.
 *
 * A module describes itself with one app_module (routes, permissions,
 * migrations and their version range, jobs, commands, configuration);
 * server/modules.c lists every module, one line each, and checks the
 * descriptors at start-up (modules_check).
 *
 * Handlers run on a WORKER thread, never on an event loop: they may block on
 * the database through r->db. They never see evhttp objects: the request is
 * copied into an app_req and the response is built in it; the loop thread
 * sends it afterwards.
 *
 * Memory: everything reachable from app_req is owned by the framework and
 * freed after the reply is sent. Handlers set the response only through the
 * app_reply_* / app_problem functions below (they take ownership of what
 * they are given, as documented).
 */
#ifndef ONETRIP_APP_H
#define ONETRIP_APP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../db/db.h"
#include "../db/migrate.h"
#include "../db/seed.h"

/* ---- callers ---------------------------------------------------------- */

typedef enum app_caller_kind {
    CALLER_ANON = 0,
    CALLER_CITIZEN,  /* a citizen, through a registered app backend (JWT) */
    CALLER_OPERATOR, /* bureau staff, logged in with a password (JWT) */
    CALLER_PARTNER,  /* an outlet terminal (mTLS or HMAC) */
    CALLER_SYSTEM    /* jobs and CLI commands */
} app_caller_kind;

/* Bit masks for permission tables. */
#define KIND_ANON (1u << CALLER_ANON)
#define KIND_CITIZEN (1u << CALLER_CITIZEN)
#define KIND_OPERATOR (1u << CALLER_OPERATOR)
#define KIND_PARTNER (1u << CALLER_PARTNER)
#define KIND_SYSTEM (1u << CALLER_SYSTEM)

/* Operator roles (bit mask). */
#define ROLE_WINDOW (1u << 0)     /* window clerk */
#define ROLE_SUPERVISOR (1u << 1) /* supervision center */
#define ROLE_REVIEWER (1u << 2)   /* second reviewer for key business */
#define ROLE_AUDITOR (1u << 3)    /* read-only audit */
#define ROLE_ADMIN (1u << 4)      /* catalog, operators, configuration */
#define ROLE_INSPECTOR (1u << 5)  /* inspection station staff */
#define ROLE_ALL 0xffffffffu

/* Partner types (bit mask). */
#define PARTNER_POST (1u << 0)
#define PARTNER_INSURER (1u << 1)
#define PARTNER_HOSPITAL (1u << 2)
#define PARTNER_COURT (1u << 3)
#define PARTNER_DEALER (1u << 4)
#define PARTNER_AGENCY (1u << 5) /* violation-issuing agencies */
#define PARTNER_STATION (1u << 6) /* inspection stations */
#define PARTNER_ALL 0xffffffffu

typedef struct app_principal {
    app_caller_kind kind;
    int64_t id;          /* citizen id / operator id / partner id; 0 if anon */
    int64_t client_id;   /* app backend for citizens; 0 otherwise */
    int64_t outlet_id;   /* operator's or partner's outlet; 0 if none */
    unsigned roles;      /* ROLE_* for operators */
    unsigned partner_type; /* PARTNER_* for partners */
    char name[64];       /* short display id for logs: "op:12", "cit:7" */
} app_principal;

/* ---- requests --------------------------------------------------------- */

typedef enum app_method {
    M_GET = 1, M_POST = 2, M_PUT = 4, M_PATCH = 8, M_DELETE = 16, M_HEAD = 32, M_OPTIONS = 64
} app_method;

typedef struct app_kv {
    char *key;
    char *val;
} app_kv;

#define APP_MAX_PARAMS 8

typedef struct app_req app_req;
typedef void (*app_handler)(app_req *r);

struct app_req {
    /* request, read-only for handlers */
    app_method method;
    const char *path;                    /* decoded path, no query */
    const char *params[APP_MAX_PARAMS];  /* path parameters in pattern order */
    int64_t param_ints[APP_MAX_PARAMS];  /* {name:int} parameters, parsed (0 for others) */
    int nparams;
    app_kv *query; int nquery;           /* decoded query parameters */
    app_kv *headers; int nheaders;       /* request headers as received */
    const char *body; size_t body_len;   /* raw body (NUL-terminated copy) */
    json_t *json;                        /* parsed body for JSON routes, else NULL */
    char request_id[64];
    char peer[64];                       /* client address */
    char tls_cert_sha256[65];            /* verified client certificate, hex; "" if none */
    app_principal who;
    const struct app_route *route;
    db_conn *db;                         /* this worker's connection */

    /* response, set through app_reply_* / app_problem */
    int status;
    char *resp_body; size_t resp_len;
    const char *resp_type;               /* static string */
    app_kv *resp_headers; int nresp_headers;

    /* framework-private */
    struct app_req_private *priv;
};

/* Lookups; return NULL when absent. Header names are case-insensitive. */
const char *app_header(const app_req *r, const char *name);
const char *app_query(const app_req *r, const char *name);
const char *app_param(const app_req *r, int i);
/* A {name:int} path parameter (pattern order, like app_param): the
 * dispatcher parsed it before the handler ran, so it is a positive int64.
 * 0 for a parameter that is not typed int. */
int64_t app_path_int(const app_req *r, int i);
/* A declared JF_INT query key (checked before the handler ran): its value,
 * or dflt when absent. */
int64_t app_query_int(const app_req *r, const char *name, int64_t dflt);
/* The route's user data (app_route.data), NULL if none. */
const void *app_route_data(const app_req *r);
/* The one way to read a whole number from text: ASCII digits only (no
 * sign, blank, "0x" or exponent; leading zeros allowed: "007" is 7), no
 * overflow, within [min, max]. 0 with *out set, or -1 (*out untouched). */
int app_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* ---- responses -------------------------------------------------------- */

/* Reply with JSON; steals the reference to body. */
void app_reply_json(app_req *r, int status, json_t *body);
/* Reply with bytes (copied). type is a static string. */
void app_reply_bytes(app_req *r, int status, const char *type, const void *data, size_t len);
void app_reply_empty(app_req *r, int status);
/* Reply values every module builds: a string or null, a value only when
 * present (has) or null, and stored JSON text as an array (an empty array
 * when absent, malformed or not an array). The caller owns the result. */
static inline json_t *app_json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}
static inline json_t *app_json_str_if(bool has, const char *s)
{
    return has && s ? json_string(s) : json_null();
}
static inline json_t *app_json_int_if(bool has, int64_t v)
{
    return has ? json_integer(v) : json_null();
}
/* One page of a list: {"items": items, "next_before": the last id when the
 * page (n rows of at most limit) is full, else null}. Steals items. */
static inline json_t *app_json_page(json_t *items, int n, int64_t limit, int64_t last_id)
{
    return json_pack("{soso}", "items", items, "next_before",
                     n == limit && n > 0 ? json_integer(last_id) : json_null());
}
static inline json_t *app_json_array_text(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_array(v)) {
        json_decref(v);
        return json_array();
    }
    return v;
}
/* Add a response header (both copied). */
void app_add_header(app_req *r, const char *name, const char *val);

/* RFC 9457 problem: status, stable machine code ("vin_check_digit"),
 * short title, optional detail and optional offending field (JSON path).
 * Never put SQL, stack traces or secrets in these strings. */
void app_problem(app_req *r, int status, const char *code, const char *title,
                 const char *detail, const char *field);
/* Problem with extra members (object stolen, merged into the body). */
void app_problem_ext(app_req *r, int status, const char *code, const char *title,
                     const char *detail, const char *field, json_t *extra);
/* Answer for the current db error of r->db: 503 (retry later) or 500. */
void app_problem_db(app_req *r);

/* The problem named by code in a module's error table (app_module.errors):
 * its status and title, detail (NULL: the table's default detail, if any)
 * and offending field (NULL: none). A code no table lists answers 500
 * `internal` and is logged (tests/structure/fail_codes.mjs checks the
 * literals at build time). app_fail_ext adds members (object stolen). */
void app_fail(app_req *r, const char *code, const char *detail, const char *field);
void app_fail_ext(app_req *r, const char *code, const char *detail, const char *field,
                  json_t *extra);

/* ---- business functions: (db, caller, input) -> a result or a refusal ----
 * They know no HTTP: 0, or -1 with an app_refusal set (a code of the
 * module's error table) or, code NULL, a database error left in the
 * connection. The handler answers the refusal with app_fail_refusal. */

/* Who acts, for the audit records a business function writes
 * (audit_write_sys_id(c, a->who, a->request_id, a->peer, ...)).
 * APP_ACTOR(r): the request's caller (pointers into r). */
typedef struct app_actor {
    const app_principal *who; /* NULL = the system */
    const char *request_id, *peer;
} app_actor;
#define APP_ACTOR(r) ((app_actor){&(r)->who, (r)->request_id, (r)->peer})

/* A refusal: the code, its detail ("" = the table's), the offending field,
 * extra members (owned), and whether the refusal is itself a decision to
 * commit (its audit record: the transaction commits with the problem). */
typedef struct app_refusal {
    const char *code;  /* NULL: not refused */
    const char *field;
    json_t *extra;
    bool recorded;
    char detail[160];
} app_refusal;
/* Sets f (detail copied, may be NULL; extra stolen, may be NULL); -1. */
int app_refuse(app_refusal *f, const char *code, const char *detail, const char *field,
               json_t *extra);
void app_refusal_clear(app_refusal *f);
/* Answers f with app_fail_ext when refused (hands extra over) and returns
 * what an app_tx function returns: 0 for a recorded refusal (commit), -1
 * otherwise (roll back; no code: the database error left in r->db). */
int app_fail_refusal(app_req *r, app_refusal *f);

/* Charges one token of the route's rate limit to the caller's address (for
 * failures_only limits: a failed attempt). No-op when the route declares no
 * limit. Never blocks. */
void app_rate_charge(app_req *r);

/* ---- transactions ----------------------------------------------------- */

/* Run fn inside one database transaction (see db_tx), retried on deadlocks.
 * fn returns 0 to commit (having set the success response) or -1 to roll
 * back (having set a problem response, or leaving a db error in r->db).
 * When the route honours Idempotency-Key, the response is stored in the
 * same transaction as fn's effects. On a database failure the response is
 * set to the matching problem (503/500) unless fn set one.
 * Returns 0 when committed. */
typedef int (*app_tx_fn)(app_req *r, void *arg);
int app_tx(app_req *r, app_tx_fn fn, void *arg);
/* After app_tx committed, a handler that did more work outside the
 * transaction (a channel call) and changed its answer calls this so that a
 * replay under the same Idempotency-Key returns the final answer. No-op
 * without a key or for a 5xx answer; on a database error the answer
 * committed with the effect stays (logged). Blocks (database). */
void app_idem_refresh(app_req *r);

/* ---- declared inputs ---------------------------------------------------- */

/* One input field: a body member, a query key or a path parameter. Only
 * name, type and required are needed; the rest (designated initializers)
 * narrow what is accepted:
 *   JF_STRING  max_len bytes (0 = 256), min_len, pattern
 *   JF_INT     JSON integer; query/path: ASCII digits only (app_parse_int).
 *              min..max inclusive; both 0 = any (query/path: 0..INT64_MAX)
 *   JF_BOOL    JSON true/false; query: "true" or "false"
 *   JF_DATE    a string "YYYY-MM-DD" that is a real day (date_parse)
 *   JF_ENUM    a string among choices (NULL-terminated)
 *   JF_OBJECT, JF_ARRAY (min_len/max_len: element count; max 0 = any), JF_ANY
 * pattern: POSIX extended regex the value must match (anchor it: "^...$"),
 * compiled once at start-up (modules_init).
 *
 * What a bad value answers (always 400 problem+json naming the field):
 *   body: unknown member `unknown_field`, missing `missing_field`, wrong JSON
 *         type `wrong_type`, string over max_len `too_long`, NUL `bad_string`;
 *   then (and for every failure of a query key) the field's code: a code of
 *   the module's error table (its status and title; detail = the field's
 *   detail, else the table's, else a generated sentence), or, when code is
 *   NULL, `bad_<name>` 400 "Invalid value".
 *   path: see app_input.path_code. */
typedef enum { JF_STRING = 1, JF_INT, JF_BOOL, JF_OBJECT, JF_ARRAY, JF_ANY, JF_DATE, JF_ENUM } app_jtype;
typedef struct app_jfield {
    const char *name;
    app_jtype type;
    bool required;
    size_t max_len;   /* strings: max bytes; 0 = 256. arrays: max elements; 0 = any */
    size_t min_len;   /* strings: min bytes (1 refuses ""); arrays: min elements */
    int64_t min, max; /* JF_INT: inclusive range; both 0 = no range */
    const char *pattern;          /* optional POSIX ERE */
    const char *const *choices;   /* JF_ENUM: NULL-terminated */
    const char *code;             /* problem code for a bad value (error table) */
    const char *detail;           /* optional detail for that problem */
} app_jfield;

/* What a route declares about its input (app_route.in). The dispatcher
 * checks it before the handler runs, after authentication, permission and
 * the Idempotency-Key claim (so a refusal is replayed like any answer):
 *   path   every {name:int} parameter must be a positive int64 (digits
 *          only, no sign, no overflow), every path field (matched to the
 *          pattern's parameters by name) must pass its checks; otherwise
 *          the problem path_code (a code of the module's error table,
 *          usually the route's 404: "case_not_found"; NULL: 404 not_found),
 *          with no field, so a malformed id looks like an unknown one.
 *   query  declared keys are checked; keys not declared are IGNORED (a
 *          client may add cache-busters; nothing reads them).
 *   body   ROUTE_JSON routes: app_json_check(body); members not declared
 *          are refused (unknown_field). body_optional: an empty body is
 *          accepted (r->json stays NULL). */
typedef struct app_input {
    const char *path_code;
    const app_jfield *path; int npath;
    const app_jfield *query; int nquery;
    const app_jfield *body; int nbody;
    bool body_optional;
} app_input;
/* The query keys of a paged list, answered by core's bad_limit and
 * bad_cursor: limit (1..top) and before (the next_before of the previous
 * page). top: the largest page. Read them with app_query_int; reply with
 * app_json_page. */
#define APP_IN_PAGE_KEYS(top)                                                     \
    {"limit", JF_INT, false, .min = 1, .max = (top), .code = "bad_limit"},        \
    {"before", JF_INT, false, .min = 1, .max = INT64_MAX, .code = "bad_cursor"}
#define APP_IN_PATH(a) .path = (a), .npath = APP_LEN(a)
#define APP_IN_QUERY(a) .query = (a), .nquery = APP_LEN(a)
#define APP_IN_BODY(a) .body = (a), .nbody = APP_LEN(a)

/* Checks r->json against the field list (the rules above): not an object,
 * unknown member, missing required member, wrong type, a bad value each set
 * a 400 problem naming the field and return -1. Returns 0 when valid.
 * Routes that declare .in get this from the dispatcher; call it yourself
 * only for a body checked by hand. */
int app_json_check(app_req *r, const app_jfield *fields, int nfields);
const char *app_json_str(const app_req *r, const char *name); /* NULL if absent */
int64_t app_json_int(const app_req *r, const char *name, int64_t dflt);
bool app_json_bool(const app_req *r, const char *name, bool dflt);

/* A module's problems: code -> status, title and optional default detail.
 * Declared once in the module descriptor (.errors), answered with
 * app_fail, which looks in the route's own module first, then in every
 * module (core's `internal`). modules_check refuses a code listed twice in
 * one module with another status or title; two modules may differ (a 422
 * application check here, a 400 field check there). */
typedef struct app_error {
    const char *code;    /* snake_case, stable */
    int status;          /* 400..599 */
    const char *title;
    const char *detail;  /* optional default detail */
} app_error;

/* ---- module descriptor ----------------------------------------------- */

#define ROUTE_PUBLIC 0x01     /* no authentication needed */
#define ROUTE_JSON 0x02       /* body must be a JSON object (415/400 otherwise) */
#define ROUTE_IDEMPOTENT 0x04 /* requires Idempotency-Key, replays stored response */
#define ROUTE_INLINE 0x08     /* runs on the loop thread: no db, must not block */
#define ROUTE_RAW_BODY 0x10   /* body passed raw (forms, channel callbacks) */
/* Honours Idempotency-Key when one is sent (replay, 409 in flight, 422
 * reused), like ROUTE_IDEMPOTENT, but also runs without one. Every mutating
 * route carries one of the two unless tests/unit/check_routes.c lists it
 * with the reason it cannot. */
#define ROUTE_IDEM_OPTIONAL 0x20

/* A per-address rate limit that routes declare (token buckets in a fixed
 * table, server/ratelimit.h). Routes naming the same limit share its
 * buckets. A refused request is answered on the loop thread, before any
 * worker or database work: 429 problem+json `rate_limited` with
 * Retry-After. The table is built at start-up from the two config keys. */
typedef struct app_rate_limit {
    const char *name;        /* for logs: "payments.notify" */
    const int64_t *per_min;  /* bound integer config field: tokens added per minute */
    const int64_t *burst;    /* bound integer config field: bucket size */
    bool failures_only;      /* requests pass while the bucket holds a token and
                                only app_rate_charge() takes one (a failure);
                                otherwise every request takes one */
    int slots;               /* addresses remembered; 0 = 4096 */
} app_rate_limit;

typedef struct app_route {
    app_method method;
    const char *pattern;   /* "/v1/cases/{number}": {name} matches one segment (a
                              string); {name:int} a positive int64 (app_path_int) */
    app_handler handler;
    const char *perm;      /* permission name from some module's table */
    unsigned flags;
    const app_rate_limit *limit; /* optional per-address rate limit */
    const app_input *in;   /* optional declared inputs (checked before the handler) */
    const void *data;      /* optional user data for the handler (app_route_data):
                              two routes differing by one value share one handler */
} app_route;

typedef struct app_perm {
    const char *name;      /* "cases.read_own" */
    unsigned kinds;        /* KIND_* allowed */
    unsigned roles;        /* for operators: ROLE_* allowed (any of) */
    unsigned partner_types;/* for partners: PARTNER_* allowed (any of) */
    const char *desc;
} app_perm;

/* Migrations: see db/migrate.h. A module's files live in
 * modules/<name>/migrations/NNNN_what.sql and are embedded by CMake into
 * <name>_migrations[] (generated, NULL-terminated), which the descriptor
 * points at. */
typedef db_migration app_migration;

/* A job: returns 0 on success, -1 on failure; *count is what it processed. */
typedef struct app_job_ctx {
    db_conn *db;
    const char *name;
    int64_t now_unix;      /* fixed at start of run */
} app_job_ctx;
typedef int (*app_job_fn)(app_job_ctx *ctx, int64_t *count);
typedef struct app_job {
    const char *name;
    int interval_s;
    app_job_fn fn;
} app_job;

/* A CLI subcommand: onetripd <name> args... ; db already connected. */
typedef int (*app_cmd_fn)(db_conn *db, int argc, char **argv);
typedef struct app_cmd {
    const char *name;      /* "client" -> onetripd client add ... */
    const char *usage;
    app_cmd_fn fn;
} app_cmd;

/* A configuration key, bound to the typed field its value is stored in
 * (server/config.h). Key names are "section.key", e.g.
 * "payments.order_ttl_s"; env ONETRIP_SECTION_KEY. A module declares its
 * keys with the APP_CONF_* macros, pointing at the fields of its own
 * settings struct, which code reads directly: the value is parsed, bounded
 * and validated once, when the configuration loads. */
typedef int (*app_conf_check)(const char *value, char *why, size_t whylen);
typedef struct app_conf {
    const char *name;
    bool is_int;
    const char *dflt;
    int64_t min, max;      /* for integers */
    bool secret;           /* never printed */
    const char *help;
    int64_t *ival;         /* integers: where the value goes */
    const char **sval;     /* strings: where the value goes (never NULL once bound) */
    app_conf_check check;  /* optional: 0 accepts; -1 refuses, why completes
                              "<key> ..." in the one-line error */
} app_conf;

#define APP_CONF_INT(key, field, dflt, lo, hi, help) \
    {key, true, dflt, lo, hi, false, help, &(field), NULL, NULL}
#define APP_CONF_STR(key, field, dflt, help) {key, false, dflt, 0, 0, false, help, NULL, &(field), NULL}
#define APP_CONF_STR_CHECK(key, field, dflt, check, help) \
    {key, false, dflt, 0, 0, false, help, NULL, &(field), check}
#define APP_CONF_SECRET(key, field, help) {key, false, "", 0, 0, true, help, NULL, &(field), NULL}
#define APP_CONF_SECRET_CHECK(key, field, check, help) \
    {key, false, "", 0, 0, true, help, NULL, &(field), check}

/* ---- event consumers (server/events.h) ---------------------------------- */

/* One committed event of the outbox, as a consumer sees it. */
typedef struct app_event {
    int64_t id;
    char type[257];          /* "violations.handled" */
    char subject_kind[129];  /* "licence" */
    int64_t subject_id;
    char actor_kind[65];     /* "operator", "citizen", "partner", "system" */
    int64_t actor_id;        /* 0 for the system */
    int64_t outlet_id;       /* the actor's outlet; 0 if none */
    char *payload;           /* JSON object text */
    char created_at[21];     /* "YYYY-MM-DDTHH:MM:SSZ" */
} app_event;
/* Handles one event inside the consumer's transaction (c): 0 to go on, -1
 * to roll the batch back (the cursor with it; retried later). Writes only
 * the module's own tables. */
typedef int (*app_consumer_fn)(db_conn *c, const app_event *ev);
typedef struct app_consumer {
    const char *name;        /* the cursor's name: "supervision.rules" */
    app_consumer_fn fn;
} app_consumer;

/* ---- authentication lookups -------------------------------------------- */

/* server/auth.c holds the authentication mechanism (token and signature
 * checks); the credentials live in module tables, so the owning modules
 * register the lookups it needs here (identity: keys, sessions, partners,
 * replay caches; people: citizens). Each function is provided by exactly one
 * module (checked at start-up). All run on a worker thread with the
 * request's connection and return 0, or -1 on a database error left in c.
 * Rows are filled by the callee and owned by the caller (see the _clear). */
typedef struct app_auth_app_key {
    int64_t client_id;
    char alg[65];
    char *public_pem;   /* heap */
    char *client_name;  /* heap: the token's expected iss */
} app_auth_app_key;

typedef struct app_auth_operator {
    char status[33];    /* "active" or "disabled" */
    int64_t roles;
    int64_t outlet_id;
    bool revoked;       /* the session was ended */
    bool live;          /* the session has not expired */
} app_auth_operator;

typedef struct app_auth_partner {
    int64_t id;
    char type[33];                 /* "post", "insurer", ... */
    int64_t outlet_id;
    char status[33];               /* the partner's: "active" or "disabled" */
    char cert_status[33];          /* by certificate only: "active" or "revoked" */
    unsigned char *hmac_secret_enc; /* by HMAC key only: sealed secret (heap), or NULL */
    size_t hmac_secret_enc_len;
} app_auth_partner;

typedef struct app_authenticator {
    /* The active key kid of an active app client; *found false if none. */
    int (*app_key)(db_conn *c, const char *kid, app_auth_app_key *out, bool *found);
    void (*app_key_clear)(app_auth_app_key *k);
    /* Records a token id until expires_unix; *replayed true if already seen. */
    int (*record_jti)(db_conn *c, int64_t client_id, const char *jti, int64_t expires_unix,
                      bool *replayed);
    /* A citizen by pii_hash(PII_ID_NUMBER, ...) of the ID number. */
    int (*citizen_by_id_hash)(db_conn *c, const unsigned char hash[32], int64_t *id, bool *found);
    /* Operator op's session sid (and the operator's state). */
    int (*operator_session)(db_conn *c, int64_t op, int64_t sid, app_auth_operator *out,
                            bool *found);
    /* A partner by its client certificate's SHA-256 (hex) or its HMAC key id. */
    int (*partner_by_cert)(db_conn *c, const char *sha256_hex, app_auth_partner *out, bool *found);
    int (*partner_by_hmac_key)(db_conn *c, const char *key_id, app_auth_partner *out, bool *found);
    void (*partner_clear)(app_auth_partner *p);
    /* Records a partner's nonce for ttl_s; *replayed true if already seen. */
    int (*record_nonce)(db_conn *c, int64_t partner_id, const char *nonce, int64_t ttl_s,
                        bool *replayed);
} app_authenticator;

/* ---- demo data (onetripd seed) ---------------------------------------- */

/* A module that owns demo data generates it (db/seed.h has the contract,
 * the random streams and the batched loader). `onetripd seed` runs every
 * module's check, then every module's load, in ONETRIP_MODULES order
 * (server/modules.c), so a module's rows may refer to those of the modules
 * listed before it. Both run on the command's thread and may block. */
typedef seed_ctx app_seed_ctx;
/* { check: refuses options the module cannot honour (0, or -1 with err);
 *   load: loads the module's rows, adding what it inserted to *loaded }. */
typedef seed_hook app_seeder;

typedef struct app_module {
    const char *name;
    const app_route *routes; int nroutes;
    const app_perm *perms; int nperms;
    const app_migration *const *migrations; /* NULL-terminated (generated) */
    int migrations_from, migrations_to; /* the module's version range (inclusive):
                                           every migration's version lies in it,
                                           and no two modules' ranges overlap */
    const app_job *jobs; int njobs;
    const app_cmd *cmds; int ncmds;
    const app_conf *conf; int nconf;
    int (*init)(void);     /* optional: reads config; -1 stops start-up */
    const app_authenticator *auth; /* optional: lookups for server/auth.c (above) */
    const app_seeder *seed;        /* optional: demo data for `onetripd seed` (above) */
    const app_error *errors; int nerrors; /* problems answered with app_fail */
    const app_consumer *consumers; int nconsumers; /* outbox consumers (server/events.h) */
} app_module;

#define APP_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))
/* A descriptor's array and its count: APP_LIST(routes, routes) is
 * `.routes = routes, .nroutes = APP_LEN(routes)` (routes, perms, jobs, cmds,
 * conf, errors). */
#define APP_LIST(member, array) .member = (array), .n##member = APP_LEN(array)

/* ---- shared services --------------------------------------------------- */

/* Logging: one key=value line. level: 0 error 1 warn 2 info 3 debug.
 * Never log tokens, passwords, keys or personal identifiers. */
void app_log(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that aborts on out-of-memory. */
void *app_malloc(size_t n);
void *app_calloc(size_t n, size_t m);
char *app_strdup(const char *s);
char *app_strndup(const char *s, size_t n);

#endif
