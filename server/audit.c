/* audit.c - the hash-chained audit trail (see audit.h).
 *
 * The chain head (audit_head, one row) is locked FOR UPDATE by every writer,
 * so records are numbered and chained in commit order. That serialises the
 * tail of every state-changing transaction; it is written last in each
 * transaction to keep the lock short. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/audit.h"
#include "server/crypto.h"
#include "server/log.h"

static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char SQL_INSERT[] =
    "INSERT INTO audit_log (seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, "
    "target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_HEAD_SET[] = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1";
static const char SQL_WALK[] =
    "SELECT seq, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), caller_kind, caller_id, client_id, "
    "outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, "
    "prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000";
static const char SQL_HEAD_READ[] = "SELECT seq, hash FROM audit_head WHERE id = 1";

static const char *kind_name(app_caller_kind k)
{
    static const char *names[] = {"anon", "citizen", "operator", "partner", "system"};
    return (k >= CALLER_ANON && k <= CALLER_SYSTEM) ? names[k] : "unknown";
}

void audit_hash(const char *prev_hex, const char *canonical, char out_hex[65])
{
    size_t pl = strlen(prev_hex), cl = strlen(canonical);
    char *buf = app_malloc(pl + cl + 2);
    memcpy(buf, prev_hex, pl);
    buf[pl] = '\n';
    memcpy(buf + pl + 1, canonical, cl + 1);
    crypto_sha256_hex(buf, pl + 1 + cl, out_hex);
    free(buf);
}

/* Canonical content of a record: every field as <byte length>':'<bytes>,
 * NULL as '~', joined by ','. The length prefix makes the encoding
 * unambiguous whatever bytes a field holds: no edit can move content from
 * one field to its neighbour (e.g. "a" + "\x1fb" vs "a\x1f" + "b") and keep
 * the same hash, and NULL differs from the empty string. */
char *audit_canonical(const char *const *f, int n)
{
    size_t len = 1;
    char *out, *p;
    for (int i = 0; i < n; i++)
        len += (f[i] ? strlen(f[i]) + 21 : 1) + 1;
    out = p = app_malloc(len);
    for (int i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        if (f[i] == NULL) {
            *p++ = '~';
        } else {
            size_t l = strlen(f[i]);
            p += sprintf(p, "%zu:", l);
            memcpy(p, f[i], l);
            p += l;
        }
    }
    *p = '\0';
    return out;
}

int audit_write_sys(db_conn *c, const app_principal *who, const char *request_id, const char *peer,
                    const char *action, const char *target_type, const char *target_id,
                    const char *outcome, json_t *detail)
{
    static const app_principal sys = {.kind = CALLER_SYSTEM, .name = "system"};
    db_rows *head = NULL;
    char at[40], seqs[24], ids[4][24], prev[65], hash[65];
    char *det = NULL, *canon = NULL;
    const char *fields[14];
    struct timespec ts;
    struct tm tm;
    int64_t seq;
    int rc = -1;

    if (who == NULL)
        who = &sys;
    if (db_query(c, SQL_HEAD, DBP0, &head) != 0)
        goto fail;
    if (head->nrows != 1) {
        app_log(LOG_ERROR, "audit", "msg=\"audit_head row missing\"");
        goto fail;
    }
    seq = db_cell_i64(head, 0, 0) + 1;
    snprintf(prev, sizeof prev, "%s", db_cell(head, 0, 1));
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(at, sizeof at, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(at + strlen(at), sizeof at - strlen(at), ".%06ld", ts.tv_nsec / 1000);
    snprintf(seqs, sizeof seqs, "%lld", (long long)seq);
    snprintf(ids[0], sizeof ids[0], "%lld", (long long)who->id);
    snprintf(ids[1], sizeof ids[1], "%lld", (long long)who->client_id);
    snprintf(ids[2], sizeof ids[2], "%lld", (long long)who->outlet_id);
    snprintf(ids[3], sizeof ids[3], "%u", who->roles);
    det = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    fields[0] = seqs;
    fields[1] = at;
    fields[2] = kind_name(who->kind);
    fields[3] = ids[0];
    fields[4] = ids[1];
    fields[5] = ids[2];
    fields[6] = ids[3];
    fields[7] = action;
    fields[8] = target_type;
    fields[9] = target_id;
    fields[10] = outcome;
    fields[11] = peer ? peer : "";
    fields[12] = request_id ? request_id : "";
    fields[13] = det;
    canon = audit_canonical(fields, 14);
    audit_hash(prev, canon, hash);
    if (db_exec(c, SQL_INSERT,
                DBP(DB_I64(seq), DB_STR(at), DB_STR(fields[2]), DB_I64(who->id), DB_I64(who->client_id),
                    DB_I64(who->outlet_id), DB_I64(who->roles), DB_STR(action), DB_STR(target_type),
                    DB_STR(target_id), DB_STR(outcome), DB_STR(fields[11]), DB_STR(fields[12]),
                    DB_STR(det), DB_STR(prev), DB_STR(hash)),
                NULL, NULL) != 0)
        goto fail;
    if (db_exec(c, SQL_HEAD_SET, DBP(DB_I64(seq), DB_STR(hash)), NULL, NULL) != 0)
        goto fail;
    rc = 0;
fail:
    free(det);
    free(canon);
    db_rows_free(head);
    return rc;
}

int audit_write(app_req *r, const char *action, const char *target_type, const char *target_id,
                const char *outcome, json_t *detail)
{
    return audit_write_sys(r->db, &r->who, r->request_id, r->peer, action, target_type, target_id,
                           outcome, detail);
}

int audit_write_owned(app_req *r, const char *action, const char *target_type,
                      const char *target_id, json_t *detail)
{
    int rc = audit_write(r, action, target_type, target_id, "ok", detail);
    json_decref(detail);
    return rc;
}

typedef struct denied_arg {
    app_req *r;
    const char *perm;
    const char *reason;
} denied_arg;

static int denied_tx(db_conn *c, void *arg)
{
    denied_arg *d = arg;
    json_t *det = json_pack("{ssss}", "reason", d->reason, "path", d->r->path);
    int rc = audit_write(d->r, "access.denied", "permission", d->perm, "denied", det);
    json_decref(det);
    return rc;
}

void audit_denied(app_req *r, const char *perm, const char *reason)
{
    denied_arg d = {r, perm, reason};
    if (db_tx(r->db, denied_tx, &d, 3, NULL) != 0)
        app_log(LOG_WARN, "audit", "request_id=%s msg=\"cannot record denial\"", r->request_id);
}

static int verify_walk(db_conn *c, char *msg, size_t cap, int64_t *checked)
{
    db_rows *rows = NULL, *head = NULL;
    char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000";
    char hash[65];
    int64_t expect = 1, n = 0;
    int rc = -1;

    for (;;) {
        db_rows_free(rows);
        rows = NULL;
        if (db_query(c, SQL_WALK, DBP(DB_I64(expect - 1)), &rows) != 0)
            goto done;
        if (rows->nrows == 0)
            break;
        for (int i = 0; i < rows->nrows; i++) {
            const char *f[14];
            char *canon;
            int64_t seq = db_cell_i64(rows, i, 0);
            if (seq != expect) {
                snprintf(msg, cap, "record %lld is missing (next present is %lld)", (long long)expect,
                         (long long)seq);
                rc = 1;
                goto done;
            }
            if (strcmp(db_cell(rows, i, 14), prev) != 0) {
                snprintf(msg, cap, "record %lld does not link to record %lld (reordered or replaced)",
                         (long long)seq, (long long)seq - 1);
                rc = 1;
                goto done;
            }
            for (int k = 0; k < 14; k++)
                f[k] = db_cell(rows, i, k);
            /* NOT NULL columns: the empty string when the writer had "". */
            canon = audit_canonical(f, 14);
            audit_hash(prev, canon, hash);
            free(canon);
            if (strcmp(hash, db_cell(rows, i, 15)) != 0) {
                snprintf(msg, cap, "record %lld was altered (content does not match its hash)",
                         (long long)seq);
                rc = 1;
                goto done;
            }
            snprintf(prev, sizeof prev, "%s", hash);
            expect++;
            n++;
        }
    }
    if (db_query(c, SQL_HEAD_READ, DBP0, &head) != 0)
        goto done;
    if (head->nrows != 1 || db_cell_i64(head, 0, 0) != expect - 1 ||
        strcmp(db_cell(head, 0, 1), prev) != 0) {
        snprintf(msg, cap, "the chain ends at record %lld but the head says %lld (records removed "
                 "from the end)", (long long)expect - 1, head->nrows ? (long long)db_cell_i64(head, 0, 0) : -1LL);
        rc = 1;
        goto done;
    }
    snprintf(msg, cap, "audit chain intact: %lld records", (long long)n);
    rc = 0;
done:
    if (checked)
        *checked = n;
    db_rows_free(rows);
    db_rows_free(head);
    return rc;
}

typedef struct verify_arg {
    char *msg;
    size_t cap;
    int64_t *checked;
    int result;
} verify_arg;

/* The walk and the head read share one REPEATABLE READ snapshot: a record
 * committed meanwhile on a live server is neither half-seen nor taken for
 * a truncated chain. Nothing is written; the transaction just ends. */
static int verify_tx(db_conn *c, void *arg)
{
    verify_arg *v = arg;
    v->result = verify_walk(c, v->msg, v->cap, v->checked);
    return v->result < 0 ? -1 : 0;
}

int audit_verify(db_conn *c, char *msg, size_t cap, int64_t *checked)
{
    verify_arg v = {msg, cap, checked, -1};
    if (db_tx(c, verify_tx, &v, 3, NULL) != 0)
        return -1;
    return v.result;
}
