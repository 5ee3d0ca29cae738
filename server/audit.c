/* audit.c - the keyed hash-chained audit trail (see audit.h).
 *
 * A writer locks only its shard's head row FOR UPDATE, so records of one
 * shard are numbered and chained in commit order while other shards commit
 * in parallel. The head row is written last in each transaction to keep the
 * lock short. */
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
/* Fields hashed: v1 records (no prev_seq) 14, v2 records 16 (+ shard, prev_seq). */
#define FIELDS_V1 14
#define FIELDS_V2 16

/* The chain key: set once by audit_init before any thread starts, read-only
 * afterwards. */
static unsigned char chain_key[32];
static bool chain_key_set;

static const char SQL_HEAD[] =
    "SELECT seq, records, hash FROM audit_head WHERE shard = ? FOR UPDATE";
/* Taken while the shard's head is locked: within a shard, numbers grow in
 * commit order. */
static const char SQL_NEXT_SEQ[] = "SELECT NEXT VALUE FOR audit_seq AS seq";
static const char SQL_INSERT[] =
    "INSERT INTO audit_log (seq, shard, prev_seq, at, caller_kind, caller_id, client_id, outlet_id, "
    "roles, action, target_type, target_id, outcome, peer, request_id, detail, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_HEAD_SET[] =
    "UPDATE audit_head SET seq = ?, records = ?, hash = ? WHERE shard = ?";
static const char SQL_WALK[] =
    "SELECT seq, prev_seq, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f') AS at, caller_kind, caller_id, "
    "client_id, outlet_id, roles, action, target_type, target_id, outcome, peer, request_id, detail, "
    "prev_hash, hash FROM audit_log WHERE shard = ? AND seq > ? ORDER BY seq LIMIT 1000";
static const char SQL_HEADS[] = "SELECT shard, seq, records, hash FROM audit_head ORDER BY shard";
/* A record no shard's walk meets (ix_audit_shard). */
static const char SQL_STRAY[] =
    "SELECT seq, shard FROM audit_log WHERE shard >= ? ORDER BY shard, seq LIMIT 1";
static const char SQL_SEAL_FIND[] =
    "SELECT seq FROM audit_log WHERE action = ? ORDER BY seq LIMIT 1";

/* Hashes are read into buffers that hold any CHAR(64) utf8mb4 value, so a
 * tampered row is reported as altered, not as a read error. */
typedef struct head_row {
    int64_t seq;
    int64_t records;
    char hash[257];
} head_row;
static const db_col HEAD_COLS[] = {DBR_I64(head_row, seq), DBR_I64(head_row, records),
                                   DBR_CHARS(head_row, hash)};
static const db_row_spec HEAD_ROW = DB_ROW_SPEC(head_row, HEAD_COLS);

typedef struct heads_row {
    int64_t shard;
    int64_t seq;
    int64_t records;
    char hash[257];
} heads_row;
static const db_col HEADS_COLS[] = {DBR_I64(heads_row, shard), DBR_I64(heads_row, seq),
                                    DBR_I64(heads_row, records), DBR_CHARS(heads_row, hash)};
static const db_row_spec HEADS_ROW = DB_ROW_SPEC(heads_row, HEADS_COLS);

typedef struct stray_row {
    int64_t seq;
    int64_t shard;
} stray_row;
static const db_col STRAY_COLS[] = {DBR_I64(stray_row, seq), DBR_I64(stray_row, shard)};
static const db_row_spec STRAY_ROW = DB_ROW_SPEC(stray_row, STRAY_COLS);

typedef struct seq_row {
    int64_t seq;
} seq_row;
static const db_col SEQ_COLS[] = {DBR_I64(seq_row, seq)};
static const db_row_spec SEQ_ROW = DB_ROW_SPEC(seq_row, SEQ_COLS);

/* A record as the chain hashes it: every field as its stored text (integers
 * in decimal, at to the microsecond). */
typedef struct walk_row {
    int64_t seq;
    int64_t prev_seq;
    bool has_prev_seq;              /* false: a v1 record */
    char *at, *caller_kind, *caller_id, *client_id, *outlet_id, *roles, *action;
    char *target_type, *target_id;  /* NULL when NULL */
    char *outcome, *peer, *request_id;
    char *detail;                   /* NULL when NULL */
    char prev_hash[257], hash[257];
} walk_row;
static const db_col WALK_COLS[] = {
    DBR_I64(walk_row, seq),
    DBR_I64_NULL(walk_row, prev_seq, has_prev_seq),
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

/* Shard k's head row, locked until the transaction ends; *found false when
 * it is missing. */
static int head_lock(db_conn *c, int shard, head_row *head, bool *found)
{
    return db_query_one(c, SQL_HEAD, DBP(DB_I64(shard)), &HEAD_ROW, head, found);
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

/* Appends one record to shard's chain, inside the caller's transaction. */
static int write_record(db_conn *c, int shard, const app_principal *who, const char *request_id,
                        const char *peer, const char *action, const char *target_type,
                        const char *target_id, const char *outcome, json_t *detail)
{
    static const app_principal sys = {.kind = CALLER_SYSTEM, .name = "system"};
    head_row head;
    seq_row next;
    bool found = false;
    char at[40], seqs[24], ids[4][24], shards[12], prevs[24], prev[65], hash[65];
    char *det = NULL, *canon = NULL;
    const char *fields[FIELDS_V2];
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
    if (head_lock(c, shard, &head, &found) != 0)
        goto fail;
    if (!found) {
        app_log(LOG_ERROR, "audit", "msg=\"audit_head row missing\" shard=%d", shard);
        goto fail;
    }
    if (db_query_one(c, SQL_NEXT_SEQ, DBP0, &SEQ_ROW, &next, &found) != 0)
        goto fail;
    seq = next.seq;
    if (!found || seq <= head.seq) {
        /* The sequence was set back: chaining it would break the shard's order. */
        app_log(LOG_ERROR, "audit", "msg=\"audit_seq is behind the shard head\" shard=%d next=%lld "
                "head=%lld", shard, (long long)seq, (long long)head.seq);
        goto fail;
    }
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
    snprintf(shards, sizeof shards, "%d", shard);
    snprintf(prevs, sizeof prevs, "%lld", (long long)head.seq);
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
    fields[14] = shards;
    fields[15] = prevs;
    canon = audit_canonical(fields, FIELDS_V2);
    audit_mac(chain_key, prev, canon, hash);
    if (db_exec(c, SQL_INSERT,
                DBP(DB_I64(seq), DB_I64(shard), DB_I64(head.seq), DB_STR(at), DB_STR(fields[2]),
                    DB_I64(who->id), DB_I64(who->client_id), DB_I64(who->outlet_id),
                    DB_I64(who->roles), DB_STR(action), DB_STR(target_type), DB_STR(target_id),
                    DB_STR(outcome), DB_STR(fields[11]), DB_STR(fields[12]), DB_STR(det),
                    DB_STR(prev), DB_STR(hash)),
                NULL, NULL) != 0)
        goto fail;
    if (db_exec(c, SQL_HEAD_SET, DBP(DB_I64(seq), DB_I64(head.records + 1), DB_STR(hash),
                                     DB_I64(shard)), NULL, NULL) != 0)
        goto fail;
    rc = 0;
fail:
    free(det);
    free(canon);
    return rc;
}

int audit_write_sys(db_conn *c, const app_principal *who, const char *request_id, const char *peer,
                    const char *action, const char *target_type, const char *target_id,
                    const char *outcome, json_t *detail)
{
    return write_record(c, db_conn_slot(c) % AUDIT_SHARDS, who, request_id, peer, action,
                        target_type, target_id, outcome, detail);
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
    int64_t n;          /* records that verified, every shard */
    int64_t keyed_from; /* seq of the seal record; 0 when none was met */
    int64_t legacy;     /* records verified by plain SHA-256 (before the seal) */
    int shards_used;    /* shards holding records */
} walk_result;

/* The first anchor of shard at index from or after; na when none. */
static int next_anchor(const audit_anchor *a, int na, int shard, int from)
{
    while (from < na && a[from].shard != shard)
        from++;
    return from;
}

/* Walks one shard's records in seq order, checking each link (prev_seq and
 * prev_hash; v1 records are numbered without gaps instead) and hash: v2
 * records are always keyed, v1 records (shard 0 only, before any v2) plain
 * SHA-256 before the seal, keyed from the seal on (the first record whose
 * action is the seal's; a forged seal fails its keyed hash). Checks the
 * shard's anchors (in count order) as it passes them, then its head row.
 * Returns 0 / 1 broken (msg) / -1 db error. */
static int walk_shard(db_conn *c, int shard, const audit_head *head, const audit_anchor *a, int na,
                      walk_result *res, char *msg, size_t cap)
{
    void *all = NULL;
    walk_row *rows = NULL;
    int nrows = 0, ai, rc = -1;
    char prev[65] = ZERO64;
    char hash[65];
    int64_t last = 0, n = 0;
    bool keyed = false, v2 = false;

    for (ai = next_anchor(a, na, shard, 0); ai < na && a[ai].count == 0;
         ai = next_anchor(a, na, shard, ai + 1))
        if (strcmp(a[ai].head, ZERO64) != 0) {
            snprintf(msg, cap, "%s says shard %d was empty with head %.16s...", a[ai].what, shard,
                     a[ai].head);
            rc = 1;
            goto done;
        }
    for (;;) {
        db_row_array_free(&WALK_ROW, rows, nrows);
        rows = NULL;
        nrows = 0;
        if (db_query_all(c, SQL_WALK, DBP(DB_I64(shard), DB_I64(last)), &WALK_ROW, &all, &nrows) != 0)
            goto done;
        rows = all;
        if (nrows == 0)
            break;
        for (int i = 0; i < nrows; i++) {
            const walk_row *w = &rows[i];
            char seqs[24], shards[12], prevs[24];
            char *canon;
            bool mac;
            if (!w->has_prev_seq) {
                if (shard != 0 || v2) {
                    snprintf(msg, cap, "record %lld has no prev_seq: only shard 0's records written "
                             "before the shards may lack it", (long long)w->seq);
                    rc = 1;
                    goto done;
                }
                if (w->seq != last + 1) {
                    snprintf(msg, cap, "record %lld is missing (next present is %lld)",
                             (long long)last + 1, (long long)w->seq);
                    rc = 1;
                    goto done;
                }
            } else {
                v2 = true;
                if (w->prev_seq != last && w->prev_seq > last && w->prev_seq < w->seq) {
                    snprintf(msg, cap, "record %lld is missing (record %lld of shard %d links to it)",
                             (long long)w->prev_seq, (long long)w->seq, shard);
                    rc = 1;
                    goto done;
                }
            }
            if ((w->has_prev_seq && w->prev_seq != last) || strcmp(w->prev_hash, prev) != 0) {
                snprintf(msg, cap, "record %lld does not link to record %lld (reordered or replaced)",
                         (long long)w->seq, (long long)last);
                rc = 1;
                goto done;
            }
            if (shard == 0 && res->keyed_from == 0 && strcmp(w->action, AUDIT_SEAL_ACTION) == 0) {
                keyed = true;
                res->keyed_from = w->seq;
            }
            mac = keyed || w->has_prev_seq;
            snprintf(seqs, sizeof seqs, "%lld", (long long)w->seq);
            snprintf(shards, sizeof shards, "%d", shard);
            snprintf(prevs, sizeof prevs, "%lld", (long long)w->prev_seq);
            /* NOT NULL columns: the empty string when the writer had "". */
            canon = audit_canonical((const char *[]){seqs, w->at, w->caller_kind, w->caller_id,
                                                     w->client_id, w->outlet_id, w->roles, w->action,
                                                     w->target_type, w->target_id, w->outcome, w->peer,
                                                     w->request_id, w->detail, shards, prevs},
                                    w->has_prev_seq ? FIELDS_V2 : FIELDS_V1);
            if (mac)
                audit_mac(chain_key, prev, canon, hash);
            else
                audit_hash(prev, canon, hash);
            free(canon);
            if (strcmp(hash, w->hash) != 0) {
                snprintf(msg, cap, "record %lld was altered (content does not match its %s)",
                         (long long)w->seq, mac ? "keyed hash" : "hash");
                rc = 1;
                goto done;
            }
            if (!mac)
                res->legacy++;
            snprintf(prev, sizeof prev, "%s", hash);
            last = w->seq;
            n++;
            res->n++;
            for (; ai < na && a[ai].count == n; ai = next_anchor(a, na, shard, ai + 1))
                if (strcmp(a[ai].head, hash) != 0) {
                    snprintf(msg, cap, "record %lld differs from %s (shard %d's chain up to it was "
                             "rewritten)", (long long)w->seq, a[ai].what, shard);
                    rc = 1;
                    goto done;
                }
        }
    }
    if (head->seq != last || head->records != n || strcmp(head->hash, prev) != 0) {
        snprintf(msg, cap, "the chain of shard %d ends at record %lld (%lld records) but its head says "
                 "record %lld (%lld records) (records removed from the end)", shard, (long long)last,
                 (long long)n, (long long)head->seq, (long long)head->records);
        rc = 1;
        goto done;
    }
    if (ai < na) {
        snprintf(msg, cap, "the chain of shard %d ends at record %lld (%lld records) but %s saw %lld "
                 "records (records removed from the end, the head moved back)", shard,
                 (long long)last, (long long)n, a[ai].what, (long long)a[ai].count);
        rc = 1;
        goto done;
    }
    if (n > 0)
        res->shards_used++;
    rc = 0;
done:
    db_row_array_free(&WALK_ROW, rows, nrows);
    return rc;
}

/* Walks shards 0 .. nshards-1 (all of them, or shard 0 alone for the seal)
 * against the heads read in the same snapshot; with every shard, also
 * checks no record lies outside them. require_seal: records without a seal
 * are broken (verify); off for the walk before sealing. */
static int walk(db_conn *c, const audit_anchor *a, int na, int nshards, bool require_seal,
                walk_result *res, char *msg, size_t cap)
{
    audit_head heads[AUDIT_SHARDS];
    stray_row stray;
    bool found = false;
    int h;

    memset(res, 0, sizeof *res);
    if ((h = audit_heads_read(c, heads, msg, cap)) != 0)
        return h;
    for (int s = 0; s < nshards; s++)
        if ((h = walk_shard(c, s, &heads[s], a, na, res, msg, cap)) != 0)
            return h;
    if (nshards == AUDIT_SHARDS) {
        if (db_query_one(c, SQL_STRAY, DBP(DB_I64(AUDIT_SHARDS)), &STRAY_ROW, &stray, &found) != 0)
            return -1;
        if (found) {
            snprintf(msg, cap, "record %lld is in shard %lld, which has no chain (moved out of its "
                     "shard)", (long long)stray.seq, (long long)stray.shard);
            return 1;
        }
        for (int i = 0; i < na; i++)
            if (a[i].shard < 0 || a[i].shard >= AUDIT_SHARDS) {
                snprintf(msg, cap, "%s names shard %d, which does not exist", a[i].what, a[i].shard);
                return 1;
            }
    }
    if (require_seal && res->n > 0 && res->keyed_from == 0) {
        snprintf(msg, cap, "no record is keyed: the chain has no %s seal (re-hashed without the key, "
                 "or onetripd migrate has not sealed it)", AUDIT_SEAL_ACTION);
        return 1;
    }
    return 0;
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
    v->result = walk(c, v->anchors, v->nanchors, AUDIT_SHARDS, true, &v->res, v->msg, v->cap);
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
        if (v.res.legacy > 0)
            snprintf(msg, cap, "audit chain intact: %lld records (%lld legacy SHA-256 records sealed "
                     "by record %lld, keyed from there); %d of %d shards in use", (long long)v.res.n,
                     (long long)v.res.legacy, (long long)v.res.keyed_from,
                     v.res.shards_used, AUDIT_SHARDS);
        else
            snprintf(msg, cap, "audit chain intact: %lld records, all keyed; %d of %d shards in use",
                     (long long)v.res.n, v.res.shards_used, AUDIT_SHARDS);
    }
    return v.result;
}

int audit_heads_read(db_conn *c, audit_head heads[AUDIT_SHARDS], char *msg, size_t cap)
{
    void *all = NULL;
    heads_row *rows;
    int n = 0, rc = 1;
    bool seen[AUDIT_SHARDS] = {false};

    memset(heads, 0, sizeof(audit_head) * AUDIT_SHARDS);
    if (db_query_all(c, SQL_HEADS, DBP0, &HEADS_ROW, &all, &n) != 0)
        return -1;
    rows = all;
    for (int i = 0; i < n; i++) {
        if (rows[i].shard < 0 || rows[i].shard >= AUDIT_SHARDS) {
            snprintf(msg, cap, "audit_head has a row for shard %lld, which does not exist",
                     (long long)rows[i].shard);
            goto done;
        }
        seen[rows[i].shard] = true;
        heads[rows[i].shard].seq = rows[i].seq;
        heads[rows[i].shard].records = rows[i].records;
        snprintf(heads[rows[i].shard].hash, sizeof heads[0].hash, "%.64s", rows[i].hash);
    }
    for (int k = 0; k < AUDIT_SHARDS; k++)
        if (!seen[k]) {
            snprintf(msg, cap, "the head row of shard %d is missing (audit_head)", k);
            goto done;
        }
    rc = 0;
done:
    db_row_array_free(&HEADS_ROW, rows, n);
    return rc;
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

    /* Shard 0's head lock keeps its writers out until the seal commits:
     * the legacy records are shard 0's, and the seal goes there. */
    if (head_lock(c, 0, &head, &found) != 0)
        goto done;
    if (!found) {
        snprintf(s->msg, s->cap, "audit_head row of shard 0 missing");
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
    if ((w = walk(c, NULL, 0, 1, false, &res, why, sizeof why)) < 0)
        goto done;
    detail = json_pack("{sIsssb}", "legacy_count", (json_int_t)head.records, "legacy_head",
                       head.hash, "legacy_intact", w == 0);
    if (w != 0)
        json_object_set_new(detail, "legacy_problem", json_string(why));
    if (write_record(c, 0, NULL, "migrate", "", AUDIT_SEAL_ACTION, "audit_log", NULL, "ok", detail) != 0)
        goto done;
    if (w == 0)
        snprintf(s->msg, s->cap, "audit chain keyed: %lld earlier records verified and sealed",
                 (long long)head.records);
    else
        snprintf(s->msg, s->cap, "audit chain keyed, but the %lld earlier records are broken: %s "
                 "(sealed as found; audit verify keeps reporting it)",
                 (long long)head.records, why);
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
