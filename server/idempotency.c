/* idempotency.c - Idempotency-Key (IETF httpapi draft semantics).
 *
 * A key is scoped to the authenticated caller. The first request claims the
 * key with an in-flight row (autocommit), the handler's transaction stores
 * the response in that row before COMMIT (app_tx), so effect and stored
 * response commit together. Replays get the stored response; a different
 * request under the same key gets 422; a duplicate while the first is in
 * flight gets 409.
 *
 * A claim names the incarnation (server/incarnation.h) of the process that
 * made it and carries a claim number. A claim whose process is gone (its
 * incarnation stopped, pruned or silent for idempotency.orphan_s) is taken
 * over at once by the next retry; a claim of a live process is taken over
 * only once older than idempotency.stale_s (a stuck request). A takeover
 * bumps claim_no, and storing or releasing a claim requires the claim
 * number it was made with: a claimant that lost its claim cannot store its
 * answer (its transaction rolls back) nor delete the new claim. Whatever
 * happens, state moves from in_flight to done once, inside the business
 * transaction: nothing is applied twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/rows.h"
#include "server/config.h"
#include "server/crypto.h"
#include "server/http_internal.h"
#include "server/incarnation.h"
#include "server/log.h"

static const char SQL_CLAIM[] =
    "INSERT INTO idempotency_keys (principal, idem_key, fingerprint, state, owner, claim_no, created_at, "
    "updated_at) VALUES (?, ?, ?, 'in_flight', ?, 0, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";
/* The key with what is known of its claimant's process. */
static const char SQL_GET[] =
    "SELECT k.id, k.fingerprint, k.state, k.status, k.content_type, k.body, k.headers, "
    "TIMESTAMPDIFF(SECOND, k.updated_at, UTC_TIMESTAMP(3)) AS age_s, k.claim_no, "
    "k.owner IS NOT NULL AS has_owner, i.id IS NOT NULL AS owner_known, "
    "i.stopped_at IS NOT NULL AS owner_stopped, "
    "TIMESTAMPDIFF(SECOND, i.heartbeat_at, UTC_TIMESTAMP(3)) AS owner_silent_s "
    "FROM idempotency_keys k LEFT JOIN server_incarnations i ON i.id = k.owner "
    "WHERE k.principal = ? AND k.idem_key = ?";
/* Compare-and-set on the claim number: of two retries taking over the same
 * orphan, one wins. */
static const char SQL_TAKEOVER[] =
    "UPDATE idempotency_keys SET owner = ?, claim_no = claim_no + 1, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND state = 'in_flight' AND claim_no = ?";
static const char SQL_STORE[] =
    "UPDATE idempotency_keys SET state = 'done', status = ?, content_type = ?, body = ?, headers = ?, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'in_flight' AND claim_no = ?";
static const char SQL_RELEASE[] =
    "DELETE FROM idempotency_keys WHERE id = ? AND state = 'in_flight' AND claim_no = ?";

/* A claimed key (SQL_GET); the stored response is set once state is done. */
typedef struct idem_row {
    int64_t id;
    char fingerprint[257];          /* CHAR(64) utf8mb4 */
    char state[16];                 /* ENUM */
    int32_t status;                 /* 0 while in flight */
    bool has_status;
    char *content_type;             /* NULL: no body */
    unsigned char *body;
    size_t body_len;
    char *headers;                  /* JSON [[name, value], ...] */
    int64_t age_s;                  /* seconds since its last update */
    int64_t claim_no;
    bool has_owner;                 /* false: claimed before incarnations existed */
    bool owner_known;               /* the owner's incarnation row exists */
    bool owner_stopped;
    int64_t owner_silent_s;         /* seconds since the owner's heartbeat */
    bool has_owner_silent;
} idem_row;
static const db_col IDEM_COLS[] = {
    DBR_I64(idem_row, id),
    DBR_CHARS(idem_row, fingerprint),
    DBR_CHARS(idem_row, state),
    DBR_I32_NULL(idem_row, status, has_status),
    DBR_STR_NULL(idem_row, content_type),
    DBR_BLOB_NULL(idem_row, body, body_len),
    DBR_STR_NULL(idem_row, headers),
    DBR_I64(idem_row, age_s),
    DBR_I64(idem_row, claim_no),
    DBR_BOOL(idem_row, has_owner),
    DBR_BOOL(idem_row, owner_known),
    DBR_BOOL(idem_row, owner_stopped),
    DBR_I64_NULL(idem_row, owner_silent_s, has_owner_silent),
};
static const db_row_spec IDEM_ROW = DB_ROW_SPEC(idem_row, IDEM_COLS);

static void scope_of(const app_req *r, char *out, size_t cap)
{
    /* A citizen's keys are scoped per app backend acting for them (two apps
     * may pick the same key); operators and partners are one caller each. */
    if (r->who.kind == CALLER_ANON)
        snprintf(out, cap, "anon");
    else if (r->who.kind == CALLER_CITIZEN)
        snprintf(out, cap, "%d:%lld:%lld", (int)r->who.kind, (long long)r->who.id,
                 (long long)r->who.client_id);
    else
        snprintf(out, cap, "%d:%lld", (int)r->who.kind, (long long)r->who.id);
}

static int key_ok(const char *k)
{
    size_t n = 0;
    for (; k[n]; n++)
        if ((unsigned char)k[n] < 0x21 || (unsigned char)k[n] > 0x7e)
            return 0;
    return n >= 1 && n <= 255;
}

static void fingerprint(const app_req *r, char out[65])
{
    size_t plen = strlen(r->path), n = plen + r->body_len + 16;
    char *buf = app_malloc(n);
    size_t len = (size_t)snprintf(buf, n, "%d\n%s\n", (int)r->method, r->path);
    if (r->body_len)
        memcpy(buf + len, r->body, r->body_len);
    crypto_sha256_hex(buf, len + r->body_len, out);
    free(buf);
}

static char *headers_json(const app_req *r)
{
    json_t *a = json_array();
    char *s;
    for (int i = 0; i < r->nresp_headers; i++)
        json_array_append_new(a, json_pack("[ss]", r->resp_headers[i].key, r->resp_headers[i].val));
    s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static void replay(app_req *r, const idem_row *row)
{
    const char *type = row->content_type;
    json_t *a = row->headers ? json_loads(row->headers, 0, NULL) : NULL;
    size_t i;
    json_t *h;

    /* Stored content types are one of a few static strings. */
    if (type == NULL)
        type = NULL;
    else if (strcmp(type, "application/json") == 0)
        type = "application/json";
    else if (strcmp(type, "application/problem+json") == 0)
        type = "application/problem+json";
    else if (strcmp(type, "text/csv; charset=utf-8") == 0)
        type = "text/csv; charset=utf-8";
    else
        type = "application/octet-stream";
    if (type)
        app_reply_bytes(r, row->status, type, row->body ? (const void *)row->body : "", row->body_len);
    else
        app_reply_empty(r, row->status);
    json_array_foreach(a, i, h)
        app_add_header(r, json_string_value(json_array_get(h, 0)), json_string_value(json_array_get(h, 1)));
    json_decref(a);
    app_add_header(r, "Idempotent-Replayed", "true");
}

idem_verdict idem_decide(const idem_seen *k, int64_t stale_s, int64_t orphan_s)
{
    bool owner_dead;
    if (!k->same_request)
        return IDEM_REUSED;
    if (k->done)
        return IDEM_REPLAY;
    /* A process that stopped, whose row was pruned, or that has not renewed
     * its heartbeat within orphan_s will never finish its claim. A claim
     * without owner predates incarnations: only the stale window applies. */
    owner_dead = k->has_owner &&
                 (!k->owner_known || k->owner_stopped || k->owner_silent_s >= orphan_s);
    if (owner_dead || k->age_s >= stale_s)
        return IDEM_TAKE_OVER;
    return IDEM_IN_FLIGHT;
}

int idem_begin(app_req *r)
{
    const char *key = app_header(r, "Idempotency-Key");
    char scope[96], fp[65];
    uint64_t id = 0, affected = 0;
    idem_row row = {0};
    idem_seen seen;
    bool found = false;
    int rc = 0;

    if (key == NULL && !(r->route->flags & ROUTE_IDEMPOTENT))
        return 1; /* ROUTE_IDEM_OPTIONAL: without a key the request runs as usual */
    if (key == NULL) {
        app_problem(r, 400, "idempotency_key_required", "Idempotency-Key required",
                    "This request changes state; send an Idempotency-Key header so a retry is safe.",
                    "Idempotency-Key");
        return 0;
    }
    if (!key_ok(key)) {
        app_problem(r, 400, "idempotency_key_invalid", "Invalid Idempotency-Key",
                    "Use 1 to 255 visible ASCII characters.", "Idempotency-Key");
        return 0;
    }
    scope_of(r, scope, sizeof scope);
    fingerprint(r, fp);
    if (db_exec(r->db, SQL_CLAIM, DBP(DB_STR(scope), DB_STR(key), DB_STR(fp), DB_STR(incarnation_id())),
                NULL, &id) == 0) {
        r->priv->idem_claimed = true;
        r->priv->idem_row = (int64_t)id;
        r->priv->idem_claim_no = 0;
        return 1;
    }
    if (db_error(r->db) != DB_ERR_DUP)
        goto dberr;
    if (db_query_one(r->db, SQL_GET, DBP(DB_STR(scope), DB_STR(key)), &IDEM_ROW, &row, &found) != 0)
        goto dberr;
    if (!found) {
        app_add_header(r, "Retry-After", "1");
        app_problem(r, 409, "idempotency_key_in_flight", "Request in progress",
                    "A request with this Idempotency-Key is being processed.", "Idempotency-Key");
        goto done;
    }
    seen = (idem_seen){
        .same_request = strcmp(row.fingerprint, fp) == 0,
        .done = strcmp(row.state, "done") == 0,
        .age_s = row.age_s,
        .has_owner = row.has_owner,
        .owner_known = row.owner_known,
        .owner_stopped = row.owner_stopped,
        .owner_silent_s = row.has_owner_silent ? row.owner_silent_s : 0,
    };
    switch (idem_decide(&seen, server_conf.idempotency.stale_s, server_conf.idempotency.orphan_s)) {
    case IDEM_REUSED:
        app_problem(r, 422, "idempotency_key_reused", "Idempotency-Key reused",
                    "This Idempotency-Key was used with a different request.", "Idempotency-Key");
        goto done;
    case IDEM_REPLAY:
        replay(r, &row);
        goto done;
    case IDEM_TAKE_OVER:
        if (db_exec(r->db, SQL_TAKEOVER, DBP(DB_STR(incarnation_id()), DB_I64(row.id), DB_I64(row.claim_no)),
                    &affected, NULL) != 0)
            goto dberr;
        if (affected == 1) {
            app_log(LOG_INFO, "idempotency", "request_id=%s msg=\"took over an orphaned key\" age_s=%lld",
                    r->request_id, (long long)row.age_s);
            r->priv->idem_claimed = true;
            r->priv->idem_row = row.id;
            r->priv->idem_claim_no = row.claim_no + 1;
            rc = 1;
            goto done;
        }
        break; /* another retry took it first */
    case IDEM_IN_FLIGHT:
        break;
    }
    app_add_header(r, "Retry-After", "1");
    app_problem(r, 409, "idempotency_key_in_flight", "Request in progress",
                "A request with this Idempotency-Key is being processed.", "Idempotency-Key");
    goto done;
dberr:
    app_problem_db(r);
done:
    db_row_clear(&IDEM_ROW, &row);
    return rc;
}

static int store(app_req *r, uint64_t *affected)
{
    char *hdrs = headers_json(r);
    int rc = db_exec(r->db, SQL_STORE,
                     DBP(DB_I64(r->status), DB_STR(r->resp_type),
                         DB_BLOB(r->resp_body ? r->resp_body : "", r->resp_len), DB_STR(hdrs),
                         DB_I64(r->priv->idem_row), DB_I64(r->priv->idem_claim_no)),
                     affected, NULL);
    free(hdrs);
    return rc;
}

int idem_store_in_tx(app_req *r)
{
    uint64_t affected = 0;
    if (!r->priv->idem_claimed)
        return 0;
    if (store(r, &affected) != 0)
        return -1;
    if (affected != 1) {
        /* Another request took our claim over (stale, or our process was
         * thought dead): its answer wins, ours rolls back. */
        app_add_header(r, "Retry-After", "1");
        app_problem(r, 409, "idempotency_key_in_flight", "Request in progress",
                    "A request with this Idempotency-Key is being processed.", "Idempotency-Key");
        return -1;
    }
    return 0;
}

static const char SQL_RESTORE[] =
    "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?, headers = ?, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'done'";

void app_idem_refresh(app_req *r)
{
    char *hdrs;
    if (!r->priv->idem_claimed || !r->priv->idem_stored || r->status == 0 || r->status >= 500)
        return;
    hdrs = headers_json(r);
    if (db_exec(r->db, SQL_RESTORE,
                DBP(DB_I64(r->status), DB_STR(r->resp_type),
                    DB_BLOB(r->resp_body ? r->resp_body : "", r->resp_len), DB_STR(hdrs),
                    DB_I64(r->priv->idem_row)),
                NULL, NULL) != 0)
        app_log(LOG_WARN, "idempotency", "request_id=%s msg=\"cannot refresh stored response\"",
                r->request_id);
    free(hdrs);
}

void idem_finish(app_req *r)
{
    uint64_t affected = 0;
    if (!r->priv->idem_claimed || r->priv->idem_stored)
        return;
    if (r->status == 0 || r->status >= 500) {
        /* Nothing happened (or we cannot tell): let the client retry. */
        if (db_exec(r->db, SQL_RELEASE, DBP(DB_I64(r->priv->idem_row), DB_I64(r->priv->idem_claim_no)),
                    NULL, NULL) != 0)
            app_log(LOG_WARN, "idempotency", "request_id=%s msg=\"cannot release key\"", r->request_id);
        return;
    }
    if (store(r, &affected) != 0)
        app_log(LOG_WARN, "idempotency", "request_id=%s msg=\"cannot store response\"", r->request_id);
}

/* ---- app_tx ---- */

typedef struct tx_call {
    app_req *r;
    app_tx_fn fn;
    void *arg;
} tx_call;

static void reset_response(app_req *r)
{
    if (!r->priv->resp_static)
        free(r->resp_body);
    r->priv->resp_static = false;
    r->resp_body = NULL;
    r->resp_len = 0;
    r->resp_type = NULL;
    r->status = 0;
    for (int i = 0; i < r->nresp_headers; i++) {
        free(r->resp_headers[i].key);
        free(r->resp_headers[i].val);
    }
    free(r->resp_headers);
    r->resp_headers = NULL;
    r->nresp_headers = 0;
}

static int tx_body(db_conn *c, void *arg)
{
    tx_call *t = arg;
    reset_response(t->r); /* a retried attempt starts clean */
    if (t->fn(t->r, t->arg) != 0)
        return -1;
    if (t->r->status == 0)
        app_problem(t->r, 500, "internal", "Internal error", NULL, NULL);
    return idem_store_in_tx(t->r);
}

int app_tx(app_req *r, app_tx_fn fn, void *arg)
{
    tx_call t = {r, fn, arg};
    if (db_tx(r->db, tx_body, &t, (int)server_conf.db.tx_attempts, NULL) == 0) {
        if (r->priv->idem_claimed)
            r->priv->idem_stored = true;
        return 0;
    }
    if (db_error(r->db) != DB_OK) {
        reset_response(r);
        app_problem_db(r);
    } else if (r->status == 0) {
        app_problem(r, 500, "internal", "Internal error", NULL, NULL);
    }
    return -1;
}
