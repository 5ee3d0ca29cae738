/* audit.c - the keyed hash-chained audit trail (see audit.h).
 *
 * The chain head (audit_head, one row) is locked FOR UPDATE by every writer,
 * so records are numbered and chained in commit order. That serialises the
 * tail of every state-changing transaction; it is written last in each
 * transaction to keep the lock short. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "db/rows.h"
#include "server/audit.h"
#include "server/config.h"
#include "server/crypto.h"
#include "server/log.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"

/* The chain key: set once by audit_init before any thread starts, read-only
 * afterwards. */
static unsigned char chain_key[32];
static bool chain_key_set;

static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char SQL_INSERT[] =
    "INSERT INTO audit_log (seq, at, caller_kind, caller_id, client_id, outlet_id, roles, action, "
    "target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_HEAD_SET[] = "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1";
static const char SQL_WALK[] =
    "SELECT seq, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f') AS at, caller_kind, caller_id, client_id, "
    "outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, "
    "prev_hash, hash FROM audit_log WHERE seq > ? ORDER BY seq LIMIT 1000";
static const char SQL_HEAD_READ[] = "SELECT seq, hash FROM audit_head WHERE id = 1";
static const char SQL_SEAL_FIND[] =
    "SELECT seq FROM audit_log WHERE action = ? ORDER BY seq LIMIT 1";

/* Hashes are read into buffers that hold any CHAR(64) utf8mb4 value, so a
 * tampered row is reported as altered, not as a read error. */
typedef struct head_row {
    int64_t seq;
    char hash[257];
} head_row;
static const db_col HEAD_COLS[] = {DBR_I64(head_row, seq), DBR_CHARS(head_row, hash)};
static const db_row_spec HEAD_ROW = DB_ROW_SPEC(head_row, HEAD_COLS);

typedef struct seq_row {
    int64_t seq;
} seq_row;
static const db_col SEQ_COLS[] = {DBR_I64(seq_row, seq)};
static const db_row_spec SEQ_ROW = DB_ROW_SPEC(seq_row, SEQ_COLS);

/* A record as the chain hashes it: every field as its stored text (integers
 * in decimal, at to the microsecond). */
typedef struct walk_row {
    int64_t seq;
    char *at, *caller_kind, *caller_id, *client_id, *outlet_id, *roles, *action;
    char *target_type, *target_id;  /* NULL when NULL */
    char *outcome, *peer, *request_id;
    char *detail;                   /* NULL when NULL */
    char prev_hash[257], hash[257];
} walk_row;
static const db_col WALK_COLS[] = {
    DBR_I64(walk_row, seq),
    DBR_STR(walk_row, at),
    DBR_STR(walk_row, caller_kind),
    DBR_STR(walk_row, caller_id),
    DBR_STR(walk_row, client_id),
    DBR_STR(walk_row, outlet_id),
    DBR_STR(walk_row, roles),
    DBR_STR(walk_row, action),
    DBR_STR_NULL(walk_row, target_type),
    DBR_STR_NULL(walk_row, target_id),
    DBR_STR(walk_row, outcome),
    DBR_STR(walk_row, peer),
    DBR_STR(walk_row, request_id),
    DBR_STR_NULL(walk_row, detail),
    DBR_CHARS(walk_row, prev_hash),
    DBR_CHARS(walk_row, hash),
};
static const db_row_spec WALK_ROW = DB_ROW_SPEC(walk_row, WALK_COLS);

/* The audit_head row; *found false when it is missing. head may be locked
 * (SQL_HEAD) or read (SQL_HEAD_READ). */
static int head_get(db_conn *c, const char *sql, head_row *head, bool *found)
{
    return db_query_one(c, sql, DBP0, &HEAD_ROW, head, found);
}

int audit_init(char *err, size_t errlen)
{
    const char *hex = server_conf.audit.chain_key;
    if (strlen(hex) != 64 || crypto_unhex(hex, chain_key, sizeof chain_key) != 32) {
        snprintf(err, errlen, "audit.chain_key: required, 64 hex characters (the audit chain's "
                 "HMAC key; keep it outside the database)");
        return -1;
    }
    chain_key_set = true;
    return 0;
}

void audit_cleanup(void)
{
    OPENSSL_cleanse(chain_key, sizeof chain_key);
    chain_key_set = false;
}

static const char *kind_name(app_caller_kind k)
{
    static const char *names[] = {"anon", "citizen", "operator", "partner", "system"};
    return (k >= CALLER_ANON && k <= CALLER_SYSTEM) ? names[k] : "unknown";
}

/* prev_hex "\n" canonical, the input of both hashes; malloc'd. */
static char *hash_input(const char *prev_hex, const char *canonical, size_t *len)
{
    size_t pl = strlen(prev_hex), cl = strlen(canonical);
    char *buf = app_malloc(pl + cl + 2);
    memcpy(buf, prev_hex, pl);
    buf[pl] = '\n';
    memcpy(buf + pl + 1, canonical, cl + 1);
    *len = pl + 1 + cl;
    return buf;
}

void audit_hash(const char *prev_hex, const char *canonical, char out_hex[65])
{
    size_t len;
    char *buf = hash_input(prev_hex, canonical, &len);
    crypto_sha256_hex(buf, len, out_hex);
    free(buf);
}

void audit_mac(const unsigned char key[32], const char *prev_hex, const char *canonical,
               char out_hex[65])
{
    size_t len;
    unsigned char mac[32];
    char *buf = hash_input(prev_hex, canonical, &len);
    crypto_hmac_sha256(key, 32, buf, len, mac);
    crypto_hex(mac, sizeof mac, out_hex);
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
    head_row head;
    bool found = false;
    char at[40], seqs[24], ids[4][24], prev[65], hash[65];
    char *det = NULL, *canon = NULL;
    const char *fields[14];
    struct timespec ts;
    struct tm tm;
    int64_t seq;
    int rc = -1;

    if (who == NULL)
        who = &sys;
    if (!chain_key_set) {
        app_log(LOG_ERROR, "audit", "msg=\"audit record refused: no chain key (audit_init)\"");
        goto fail;
    }
    if (head_get(c, SQL_HEAD, &head, &found) != 0)
        goto fail;
    if (!found) {
        app_log(LOG_ERROR, "audit", "msg=\"audit_head row missing\"");
        goto fail;
    }
    seq = head.seq + 1;
    snprintf(prev, sizeof prev, "%.64s", head.hash);
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
    audit_mac(chain_key, prev, canon, hash);
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

int audit_write_sys_id(db_conn *c, const app_principal *who, const char *request_id,
                       const char *peer, const char *action, const char *target_type, int64_t id,
                       const char *outcome, json_t *detail)
{
    char ids[24];
    int rc;

    snprintf(ids, sizeof ids, "%lld", (long long)id);
    rc = audit_write_sys(c, who, request_id, peer, action, target_type, id ? ids : NULL, outcome,
                         detail);
    json_decref(detail);
    return rc;
}

int audit_write_id(app_req *r, const char *action, const char *target_type, int64_t id,
                   const char *outcome, json_t *detail)
{
    return audit_write_sys_id(r->db, &r->who, r->request_id, r->peer, action, target_type, id,
                              outcome, detail);
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

/* What a walk found. */
typedef struct walk_result {
    int64_t n;          /* records that verified */
    int64_t keyed_from; /* seq of the seal record; 0 when none was met */
    int64_t head_seq;   /* the head row's seq */
    char head[65];      /* the head row's hash */
} walk_result;

/* Walks every record in seq order, checking seq, link and hash: plain
 * SHA-256 before the seal, keyed from the seal on (the first record whose
 * action is the seal's; a forged seal fails its keyed hash). Checks each
 * anchor (sorted by count) as the walk passes it, then the head row.
 * require_seal: a non-empty chain without a seal is broken (verify); off
 * for the walk before sealing. Returns 0 / 1 broken (msg) / -1 db error. */
static int walk(db_conn *c, const audit_anchor *a, int na, bool require_seal, walk_result *res,
                char *msg, size_t cap)
{
    void *all = NULL;
    walk_row *rows = NULL;
    int nrows = 0, h;
    char prev[65] = ZERO64;
    char hash[65];
    int64_t expect = 1;
    int ai = 0, rc = -1;
    bool keyed = false;

    memset(res, 0, sizeof *res);
    for (; ai < na && a[ai].count == 0; ai++)
        if (strcmp(a[ai].head, ZERO64) != 0) {
            snprintf(msg, cap, "%s says an empty chain has head %.16s...", a[ai].what, a[ai].head);
            rc = 1;
            goto done;
        }
    for (;;) {
        db_row_array_free(&WALK_ROW, rows, nrows);
        rows = NULL;
        nrows = 0;
        if (db_query_all(c, SQL_WALK, DBP(DB_I64(expect - 1)), &WALK_ROW, &all, &nrows) != 0)
            goto done;
        rows = all;
        if (nrows == 0)
            break;
        for (int i = 0; i < nrows; i++) {
            const walk_row *w = &rows[i];
            char seqs[24];
            char *canon;
            if (w->seq != expect) {
                snprintf(msg, cap, "record %lld is missing (next present is %lld)", (long long)expect,
                         (long long)w->seq);
                rc = 1;
                goto done;
            }
            if (strcmp(w->prev_hash, prev) != 0) {
                snprintf(msg, cap, "record %lld does not link to record %lld (reordered or replaced)",
                         (long long)w->seq, (long long)w->seq - 1);
                rc = 1;
                goto done;
            }
            snprintf(seqs, sizeof seqs, "%lld", (long long)w->seq);
            if (!keyed && strcmp(w->action, AUDIT_SEAL_ACTION) == 0) {
                keyed = true;
                res->keyed_from = w->seq;
            }
            /* NOT NULL columns: the empty string when the writer had "". */
            canon = audit_canonical((const char *[]){seqs, w->at, w->caller_kind, w->caller_id, w->client_id,
                                                     w->outlet_id, w->roles, w->action, w->target_type,
                                                     w->target_id, w->outcome, w->peer, w->request_id,
                                                     w->detail},
                                    14);
            if (keyed)
                audit_mac(chain_key, prev, canon, hash);
            else
                audit_hash(prev, canon, hash);
            free(canon);
            if (strcmp(hash, w->hash) != 0) {
                snprintf(msg, cap, "record %lld was altered (content does not match its %s)",
                         (long long)w->seq, keyed ? "keyed hash" : "hash");
                rc = 1;
                goto done;
            }
            snprintf(prev, sizeof prev, "%s", hash);
            for (; ai < na && a[ai].count == w->seq; ai++)
                if (strcmp(a[ai].head, hash) != 0) {
                    snprintf(msg, cap, "record %lld differs from %s (the chain up to it was rewritten)",
                             (long long)w->seq, a[ai].what);
                    rc = 1;
                    goto done;
                }
            expect++;
            res->n++;
        }
    }
    if ((h = audit_head_read(c, &res->head_seq, res->head)) < 0)
        goto done;
    if (h == 1 || res->head_seq != expect - 1 || strcmp(res->head, prev) != 0) {
        snprintf(msg, cap, "the chain ends at record %lld but the head says %lld (records removed "
                 "from the end)", (long long)expect - 1, h == 0 ? (long long)res->head_seq : -1LL);
        rc = 1;
        goto done;
    }
    if (ai < na) {
        snprintf(msg, cap, "the chain ends at record %lld but %s saw %lld records (records removed "
                 "from the end, the head moved back)", (long long)expect - 1, a[ai].what,
                 (long long)a[ai].count);
        rc = 1;
        goto done;
    }
    if (require_seal && res->n > 0 && !keyed) {
        snprintf(msg, cap, "no record is keyed: the chain has no %s seal (re-hashed without the key, "
                 "or onetripd migrate has not sealed it)", AUDIT_SEAL_ACTION);
        rc = 1;
        goto done;
    }
    rc = 0;
done:
    db_row_array_free(&WALK_ROW, rows, nrows);
    return rc;
}

typedef struct verify_arg {
    const audit_anchor *anchors;
    int nanchors;
    char *msg;
    size_t cap;
    walk_result res;
    int result;
} verify_arg;

/* The walk and the head read share one REPEATABLE READ snapshot: a record
 * committed meanwhile on a live server is neither half-seen nor taken for
 * a truncated chain. Nothing is written; the transaction just ends. */
static int verify_tx(db_conn *c, void *arg)
{
    verify_arg *v = arg;
    v->result = walk(c, v->anchors, v->nanchors, true, &v->res, v->msg, v->cap);
    return v->result < 0 ? -1 : 0;
}

int audit_verify(db_conn *c, const audit_anchor *anchors, int nanchors, char *msg, size_t cap,
                 int64_t *checked)
{
    verify_arg v = {.anchors = anchors, .nanchors = nanchors, .msg = msg, .cap = cap, .result = -1};
    if (!chain_key_set) {
        snprintf(msg, cap, "no chain key (audit.chain_key)");
        return -1;
    }
    if (db_tx(c, verify_tx, &v, 3, NULL) != 0)
        return -1;
    if (checked)
        *checked = v.res.n;
    if (v.result == 0) {
        if (v.res.keyed_from > 1)
            snprintf(msg, cap, "audit chain intact: %lld records (%lld legacy SHA-256 records sealed "
                     "by record %lld, keyed from there)", (long long)v.res.n,
                     (long long)v.res.keyed_from - 1, (long long)v.res.keyed_from);
        else
            snprintf(msg, cap, "audit chain intact: %lld records, all keyed", (long long)v.res.n);
    }
    return v.result;
}

int audit_head_read(db_conn *c, int64_t *count, char head[65])
{
    head_row row;
    bool found = false;

    *count = 0;
    head[0] = '\0';
    if (head_get(c, SQL_HEAD_READ, &row, &found) != 0)
        return -1;
    if (!found)
        return 1;
    *count = row.seq;
    snprintf(head, 65, "%.64s", row.hash);
    return 0;
}

int audit_is_sealed(db_conn *c)
{
    seq_row row;
    bool found = false;

    if (db_query_one(c, SQL_SEAL_FIND, DBP(DB_STR(AUDIT_SEAL_ACTION)), &SEQ_ROW, &row, &found) != 0)
        return -1;
    return found;
}

typedef struct seal_arg {
    char *msg;
    size_t cap;
    int result;
} seal_arg;

static int seal_tx(db_conn *c, void *arg)
{
    seal_arg *s = arg;
    head_row head;
    bool found = false;
    walk_result res;
    char why[256] = "";
    json_t *detail = NULL;
    int sealed, w, rc = -1;

    /* The head lock keeps writers out until the seal commits. */
    if (head_get(c, SQL_HEAD, &head, &found) != 0)
        goto done;
    if (!found) {
        snprintf(s->msg, s->cap, "audit_head row missing");
        goto done;
    }
    if ((sealed = audit_is_sealed(c)) < 0)
        goto done;
    if (sealed) {
        snprintf(s->msg, s->cap, "audit chain already keyed");
        s->result = 0;
        rc = 0;
        goto done;
    }
    if ((w = walk(c, NULL, 0, false, &res, why, sizeof why)) < 0)
        goto done;
    detail = json_pack("{sIsssb}", "legacy_count", (json_int_t)head.seq, "legacy_head",
                       head.hash, "legacy_intact", w == 0);
    if (w != 0)
        json_object_set_new(detail, "legacy_problem", json_string(why));
    if (audit_write_sys(c, NULL, "migrate", "", AUDIT_SEAL_ACTION, "audit_log", NULL, "ok", detail) != 0)
        goto done;
    if (w == 0)
        snprintf(s->msg, s->cap, "audit chain keyed: %lld earlier records verified and sealed",
                 (long long)head.seq);
    else
        snprintf(s->msg, s->cap, "audit chain keyed, but the %lld earlier records are broken: %s "
                 "(sealed as found; audit verify keeps reporting it)",
                 (long long)head.seq, why);
    s->result = 1;
    rc = 0;
done:
    json_decref(detail);
    return rc;
}

int audit_seal(db_conn *c, char *msg, size_t cap)
{
    seal_arg s = {msg, cap, -1};
    if (!chain_key_set) {
        snprintf(msg, cap, "no chain key (audit.chain_key)");
        return -1;
    }
    msg[0] = '\0';
    if (db_tx(c, seal_tx, &s, 3, NULL) != 0) {
        if (db_error(c) != DB_OK || msg[0] == '\0')
            snprintf(msg, cap, "cannot seal the audit chain: %s", db_errmsg(c));
        return -1;
    }
    return s.result;
}
