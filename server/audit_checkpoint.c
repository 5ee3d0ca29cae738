/* audit_checkpoint.c - signed checkpoints of the audit chain's head (see
 * audit_checkpoint.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "db/rows.h"
#include "server/audit_checkpoint.h"
#include "server/config.h"
#include "server/crypto.h"
#include "server/crypto_ed25519.h"
#include "server/log.h"

/* Set once by audit_cp_init before threads start, read-only afterwards. */
static unsigned char sign_seed[32];
static audit_cp_key own_key;
static char *own_pem;
static bool have_key;

static const char SQL_CP_LATEST[] =
    "SELECT key_id, payload, signature FROM audit_checkpoints ORDER BY id DESC LIMIT 1";
/* record_count and head are only a summary (all shards' records, shard 0's
 * head); the signed payload holds every shard's. */
static const char SQL_CP_INSERT[] =
    "INSERT INTO audit_checkpoints (issued_at, record_count, head, key_id, payload, signature) "
    "VALUES (?, ?, ?, ?, ?, ?)";

/* The latest published checkpoint; db_row_clear frees payload and signature. */
typedef struct cp_row {
    char key_id[129];               /* CHAR(32) */
    char *payload, *signature;
} cp_row;
static const db_col CP_COLS[] = {
    DBR_CHARS(cp_row, key_id),
    DBR_STR(cp_row, payload),
    DBR_STR(cp_row, signature),
};
static const db_row_spec CP_ROW = DB_ROW_SPEC(cp_row, CP_COLS);

/* The checkpoint line of a row, as the file holds it (new reference). */
static json_t *cp_line(const cp_row *row)
{
    return json_pack("{ssssssss}", "algorithm", AUDIT_CP_ALG, "key_id", row->key_id, "payload",
                     row->payload, "signature", row->signature);
}

int audit_cp_init(char *err, size_t errlen)
{
    const char *hex = server_conf.audit.checkpoint_key;
    if (hex[0] == '\0')
        return 0; /* serve checks it is set (audit_cp_ready); verify can take --public-key */
    if (strlen(hex) != 64 || crypto_unhex(hex, sign_seed, sizeof sign_seed) != 32 ||
        crypto_ed25519_public(sign_seed, own_key.pub) != 0 ||
        (own_pem = crypto_ed25519_public_pem(own_key.pub)) == NULL) {
        snprintf(err, errlen, "audit.checkpoint_key: must be 64 hex characters (an Ed25519 private "
                 "key seed)");
        OPENSSL_cleanse(sign_seed, sizeof sign_seed);
        return -1;
    }
    audit_cp_key_id(own_key.pub, own_key.key_id);
    have_key = true;
    return 0;
}

void audit_cp_cleanup(void)
{
    OPENSSL_cleanse(sign_seed, sizeof sign_seed);
    free(own_pem);
    own_pem = NULL;
    have_key = false;
}

int audit_cp_ready(char *err, size_t errlen)
{
    if (!have_key) {
        snprintf(err, errlen, "audit.checkpoint_key: required for serve, 64 hex characters (an "
                 "Ed25519 private key seed signing audit checkpoints; keep it outside the database)");
        return -1;
    }
    if (server_conf.audit.checkpoint_dir[0] == '\0') {
        snprintf(err, errlen, "audit.checkpoint_dir: required for serve (where audit checkpoints "
                 "are appended, outside the database)");
        return -1;
    }
    return 0;
}

const audit_cp_key *audit_cp_own_key(void)
{
    return have_key ? &own_key : NULL;
}

void audit_cp_key_id(const unsigned char pub[32], char out[33])
{
    unsigned char d[32];
    crypto_sha256(pub, 32, d);
    crypto_hex(d, 16, out);
}

int audit_cp_key_from_pem(const char *pem, audit_cp_key *out)
{
    if (crypto_ed25519_public_from_pem(pem, out->pub) != 0)
        return -1;
    audit_cp_key_id(out->pub, out->key_id);
    return 0;
}

#define ZERO_HEAD "0000000000000000000000000000000000000000000000000000000000000000"

static bool is_hex64(const char *s)
{
    if (s == NULL || strlen(s) != 64)
        return false;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

void audit_cp_chain_name(int shard, char out[16])
{
    if (shard == 0)
        snprintf(out, 16, "%s", AUDIT_CP_CHAIN);
    else
        snprintf(out, 16, "shard%d", shard);
}

/* The shard a chain name denotes; -1 when it names no shard. */
static int chain_shard(const char *name)
{
    char want[16];
    for (int k = 0; k < AUDIT_SHARDS; k++) {
        audit_cp_chain_name(k, want);
        if (strcmp(name, want) == 0)
            return k;
    }
    return -1;
}

char *audit_cp_sign(const unsigned char seed[32], const audit_cp *cp)
{
    unsigned char pub[32], sig[64];
    char key_id[33], name[16];
    char *payload = NULL, *sig64 = NULL, *line = NULL;
    json_t *p = NULL, *l = NULL, *chains = NULL;

    for (int k = 0; k < AUDIT_SHARDS; k++)
        if (!is_hex64(cp->chains[k].head) || cp->chains[k].count < 0 ||
            (cp->chains[k].count == 0 && strcmp(cp->chains[k].head, ZERO_HEAD) != 0))
            goto done;
    if (crypto_ed25519_public(seed, pub) != 0)
        goto done;
    audit_cp_key_id(pub, key_id);
    chains = json_array();
    for (int k = 0; k < AUDIT_SHARDS; k++) {
        if (k > 0 && cp->chains[k].count == 0)
            continue; /* absent = empty */
        audit_cp_chain_name(k, name);
        json_array_append_new(chains, json_pack("{sssIss}", "chain", name, "count",
                                                (json_int_t)cp->chains[k].count, "head",
                                                cp->chains[k].head));
    }
    p = json_pack("{sOsssssssi}", "chains", chains, "issued_at", cp->issued_at, "key_id",
                  key_id, "type", AUDIT_CP_TYPE, "version", 1);
    if (p == NULL || (payload = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
        goto done;
    if (crypto_ed25519_sign(seed, payload, strlen(payload), sig) != 0)
        goto done;
    sig64 = crypto_b64url_encode(sig, sizeof sig);
    l = json_pack("{ssssssss}", "algorithm", AUDIT_CP_ALG, "key_id", key_id, "payload", payload,
                  "signature", sig64);
    if (l != NULL)
        line = json_dumps(l, JSON_COMPACT | JSON_SORT_KEYS);
done:
    json_decref(chains);
    json_decref(p);
    json_decref(l);
    free(payload);
    free(sig64);
    return line;
}

/* The payload's own fields, after its signature checked out. */
static int parse_payload(const char *payload, const char *key_id, audit_cp *out, char *why,
                         size_t cap)
{
    json_t *p = json_loads(payload, JSON_REJECT_DUPLICATES, NULL), *chains, *c;
    const char *type, *kid, *at;
    bool seen[AUDIT_SHARDS] = {false};
    size_t i;
    int rc = -1;

    if (!json_is_object(p)) {
        snprintf(why, cap, "payload is not a JSON object");
        goto done;
    }
    type = json_string_value(json_object_get(p, "type"));
    kid = json_string_value(json_object_get(p, "key_id"));
    at = json_string_value(json_object_get(p, "issued_at"));
    chains = json_object_get(p, "chains");
    if (type == NULL || strcmp(type, AUDIT_CP_TYPE) != 0 ||
        !json_is_integer(json_object_get(p, "version")) ||
        json_integer_value(json_object_get(p, "version")) != 1) {
        snprintf(why, cap, "not a version 1 %s", AUDIT_CP_TYPE);
        goto done;
    }
    if (kid == NULL || strcmp(kid, key_id) != 0) {
        snprintf(why, cap, "payload key_id differs from the line's");
        goto done;
    }
    if (at == NULL || strlen(at) >= sizeof out->issued_at || !json_is_array(chains)) {
        snprintf(why, cap, "payload lacks issued_at or chains");
        goto done;
    }
    for (int k = 0; k < AUDIT_SHARDS; k++)
        snprintf(out->chains[k].head, sizeof out->chains[k].head, "%s", ZERO_HEAD);
    json_array_foreach(chains, i, c) {
        const char *name = json_string_value(json_object_get(c, "chain"));
        const char *head = json_string_value(json_object_get(c, "head"));
        json_t *count = json_object_get(c, "count");
        int k;
        if (name == NULL)
            continue;
        if ((k = chain_shard(name)) < 0) {
            if (strncmp(name, "shard", 5) == 0) {
                snprintf(why, cap, "chain %.16s: no such shard", name);
                goto done;
            }
            continue; /* another kind of chain: not ours to check */
        }
        if (seen[k]) {
            snprintf(why, cap, "chain %s appears twice", name);
            goto done;
        }
        if (!json_is_integer(count) || json_integer_value(count) < 0 || !is_hex64(head) ||
            (json_integer_value(count) == 0 && strcmp(head, ZERO_HEAD) != 0)) {
            snprintf(why, cap, "chain %s: bad count or head", name);
            goto done;
        }
        seen[k] = true;
        out->chains[k].count = (int64_t)json_integer_value(count);
        snprintf(out->chains[k].head, sizeof out->chains[k].head, "%s", head);
    }
    if (!seen[0]) {
        snprintf(why, cap, "no chain %s in the checkpoint", AUDIT_CP_CHAIN);
        goto done;
    }
    snprintf(out->issued_at, sizeof out->issued_at, "%s", at);
    snprintf(out->key_id, sizeof out->key_id, "%s", key_id);
    rc = 0;
done:
    json_decref(p);
    return rc;
}

int audit_cp_parse(const char *line, const audit_cp_key *keys, int nkeys, audit_cp *out, char *why,
                   size_t cap)
{
    json_t *l = NULL;
    const char *alg, *kid, *payload, *sig64;
    const audit_cp_key *key = NULL;
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int rc = -1;

    memset(out, 0, sizeof *out);
    if (strlen(line) > AUDIT_CP_MAX_LINE) {
        snprintf(why, cap, "line too long");
        goto done;
    }
    l = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    alg = json_string_value(json_object_get(l, "algorithm"));
    kid = json_string_value(json_object_get(l, "key_id"));
    payload = json_string_value(json_object_get(l, "payload"));
    sig64 = json_string_value(json_object_get(l, "signature"));
    if (!json_is_object(l) || alg == NULL || kid == NULL || payload == NULL || sig64 == NULL) {
        snprintf(why, cap, "not a checkpoint (algorithm, key_id, payload, signature)");
        goto done;
    }
    if (strcmp(alg, AUDIT_CP_ALG) != 0) {
        snprintf(why, cap, "algorithm %.16s is not %s", alg, AUDIT_CP_ALG);
        goto done;
    }
    for (int i = 0; i < nkeys && key == NULL; i++)
        if (strcmp(keys[i].key_id, kid) == 0)
            key = &keys[i];
    if (key == NULL) {
        snprintf(why, cap, "signed by key %.32s, not a key given", kid);
        goto done;
    }
    sig = crypto_b64url_decode(sig64, &siglen);
    if (sig == NULL || crypto_ed25519_verify(key->pub, payload, strlen(payload), sig, siglen) != 1) {
        snprintf(why, cap, "bad signature");
        goto done;
    }
    rc = parse_payload(payload, kid, out, why, cap);
done:
    free(sig);
    json_decref(l);
    return rc;
}

int audit_cp_load(const char *path, const audit_cp_key *keys, int nkeys, audit_cp **out, int *n,
                  char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, why[160];
    size_t lcap = 0;
    ssize_t len;
    audit_cp *cps = NULL;
    int count = 0, alloc = 0, lineno = 0, rc = -1;

    if (f == NULL) {
        snprintf(err, cap, "%s: %s", path, strerror(errno));
        goto done;
    }
    while ((len = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (count == alloc) {
            audit_cp *bigger;
            alloc = alloc ? alloc * 2 : 64;
            bigger = realloc(cps, (size_t)alloc * sizeof *cps);
            if (bigger == NULL)
                abort();
            cps = bigger;
        }
        if (audit_cp_parse(line, keys, nkeys, &cps[count], why, sizeof why) != 0) {
            snprintf(err, cap, "%s:%d: %s", path, lineno, why);
            goto done;
        }
        cps[count].line = lineno;
        for (int k = 0; count > 0 && k < AUDIT_SHARDS; k++)
            if (cps[count].chains[k].count < cps[count - 1].chains[k].count) {
                char name[16];
                audit_cp_chain_name(k, name);
                snprintf(err, cap, "%s:%d: %lld records in chain %s, fewer than the %lld of line %d "
                         "before it (the chain went back between them)", path, lineno,
                         (long long)cps[count].chains[k].count, name,
                         (long long)cps[count - 1].chains[k].count, cps[count - 1].line);
                goto done;
            }
        count++;
    }
    if (ferror(f)) {
        snprintf(err, cap, "%s: read error", path);
        goto done;
    }
    *out = cps;
    *n = count;
    cps = NULL;
    rc = 0;
done:
    free(cps);
    free(line);
    if (f)
        fclose(f);
    return rc;
}

audit_anchor *audit_cp_anchors(const audit_cp *cps, int n, int *na)
{
    audit_anchor *a = app_calloc((size_t)(n > 0 ? n : 1) * AUDIT_SHARDS, sizeof *a);
    int m = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < AUDIT_SHARDS; k++) {
            if (k > 0 && cps[i].chains[k].count == 0)
                continue; /* nothing to pass through */
            a[m].shard = k;
            a[m].count = cps[i].chains[k].count;
            snprintf(a[m].head, sizeof a[m].head, "%s", cps[i].chains[k].head);
            snprintf(a[m].what, sizeof a[m].what, "the checkpoint of %s (line %d)",
                     cps[i].issued_at, cps[i].line);
            m++;
        }
    *na = m;
    return a;
}

/* ---- the job ------------------------------------------------------------ */

/* The last line of the file, read from its end. 0 with *line (malloc'd, or
 * NULL when the file is absent or empty); -1 with a reason. */
static int read_last_line(const char *path, char **line, char *why, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    off_t from;
    char *buf = NULL, *start, *end;
    ssize_t got = 0;
    int rc = -1;

    *line = NULL;
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(why, cap, "%.200s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        snprintf(why, cap, "%.200s: %s", path, strerror(errno));
        goto done;
    }
    if (st.st_size == 0) {
        rc = 0;
        goto done;
    }
    from = st.st_size > AUDIT_CP_MAX_LINE ? st.st_size - AUDIT_CP_MAX_LINE : 0;
    buf = app_malloc((size_t)(st.st_size - from) + 1);
    while (got < st.st_size - from) {
        ssize_t k = pread(fd, buf + got, (size_t)(st.st_size - from - got), from + got);
        if (k <= 0) {
            snprintf(why, cap, "%.200s: read error", path);
            goto done;
        }
        got += k;
    }
    buf[got] = '\0';
    end = buf + got;
    if (end[-1] != '\n') {
        snprintf(why, cap, "%.200s does not end with a newline (an interrupted write?): inspect it", path);
        goto done;
    }
    *--end = '\0';
    start = strrchr(buf, '\n');
    start = start ? start + 1 : buf;
    if (start == buf && from > 0) {
        snprintf(why, cap, "%.200s: last line too long", path);
        goto done;
    }
    *line = app_strdup(start);
    rc = 0;
done:
    free(buf);
    close(fd);
    return rc;
}

/* Appends line + "\n" in one write and makes it durable before the job
 * reports success. The file is append-only by use: O_APPEND, never
 * rewritten. */
static int append_line(const char *dir, const char *path, const char *line, char *why, size_t cap)
{
    size_t len = strlen(line);
    char *buf = app_malloc(len + 2);
    int fd = -1, rc = -1;
    ssize_t k;

    memcpy(buf, line, len);
    buf[len] = '\n';
    buf[len + 1] = '\0';
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(why, cap, "%.200s: %s", dir, strerror(errno));
        goto done;
    }
    if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        snprintf(why, cap, "%.200s: %s", path, strerror(errno));
        goto done;
    }
    k = write(fd, buf, len + 1);
    if (k != (ssize_t)(len + 1) || fsync(fd) != 0) {
        snprintf(why, cap, "%.200s: write failed (%s)", path, k < 0 ? strerror(errno) : "short write");
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

/* Records over every shard. */
static int64_t cp_total(const audit_cp *cp)
{
    int64_t t = 0;
    for (int k = 0; k < AUDIT_SHARDS; k++)
        t += cp->chains[k].count;
    return t;
}

/* The latest checkpoint this key signed, from the file or the table,
 * whichever saw more records: the job never signs a head behind it. A line
 * signed by another (earlier) key is skipped; a line of ours that does not
 * verify is tampering, and stops the job. */
static int baseline(db_conn *c, const char *path, audit_cp *base, bool *have, char *why, size_t cap)
{
    char *line = NULL, w[160];
    cp_row row = {0};
    bool found = false;
    audit_cp cp;
    int rc = -1;

    *have = false;
    if (read_last_line(path, &line, why, cap) != 0)
        goto done;
    if (line != NULL) {
        json_t *l = json_loads(line, 0, NULL);
        const char *kid = json_string_value(json_object_get(l, "key_id"));
        bool ours = kid == NULL || strcmp(kid, own_key.key_id) == 0;
        json_decref(l);
        if (ours && audit_cp_parse(line, &own_key, 1, &cp, w, sizeof w) != 0) {
            snprintf(why, cap, "%.200s: its last line does not verify: %s", path, w);
            goto done;
        }
        if (ours) {
            *base = cp;
            *have = true;
        }
    }
    if (db_query_one(c, SQL_CP_LATEST, DBP0, &CP_ROW, &row, &found) != 0) {
        snprintf(why, cap, "database: %s", db_errmsg(c));
        goto done;
    }
    if (found && strcmp(row.key_id, own_key.key_id) == 0) {
        json_t *l = cp_line(&row);
        char *text = json_dumps(l, JSON_COMPACT);
        int ok = text ? audit_cp_parse(text, &own_key, 1, &cp, w, sizeof w) : -1;
        free(text);
        json_decref(l);
        if (ok != 0) {
            snprintf(why, cap, "the latest checkpoint in the database does not verify: %s", w);
            goto done;
        }
        if (!*have || cp_total(&cp) > cp_total(base)) {
            *base = cp;
            *have = true;
        }
    }
    rc = 0;
done:
    free(line);
    db_row_clear(&CP_ROW, &row);
    return rc;
}

int audit_cp_job(app_job_ctx *ctx, int64_t *count)
{
    const char *dir = server_conf.audit.checkpoint_dir;
    char path[4096], why[512] = "", *line = NULL;
    audit_cp cp = {0}, base;
    audit_head heads[AUDIT_SHARDS];
    bool have_base = false;
    struct timespec ts;
    struct tm tm;
    int rc = -1;

    *count = 0;
    if (audit_cp_ready(why, sizeof why) != 0)
        goto fail;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, AUDIT_CP_FILE) >= sizeof path) {
        snprintf(why, sizeof why, "audit.checkpoint_dir is too long");
        goto fail;
    }
    if (audit_heads_read(ctx->db, heads, why, sizeof why) != 0) {
        if (why[0] == '\0')
            snprintf(why, sizeof why, "cannot read audit_head");
        goto fail;
    }
    for (int k = 0; k < AUDIT_SHARDS; k++) {
        cp.chains[k].count = heads[k].records;
        snprintf(cp.chains[k].head, sizeof cp.chains[k].head, "%s", heads[k].hash);
    }
    if (baseline(ctx->db, path, &base, &have_base, why, sizeof why) != 0)
        goto fail;
    /* Every shard, so that one cut shard hides behind no other's growth. */
    for (int k = 0; have_base && k < AUDIT_SHARDS; k++) {
        const audit_cp_chain *now = &cp.chains[k], *then = &base.chains[k];
        if (now->count < then->count || (now->count == then->count && strcmp(now->head, then->head) != 0)) {
            snprintf(why, sizeof why, "the audit head went back in shard %d: %lld records with head "
                     "%.16s..., but the checkpoint of %s saw %lld with head %.16s...; not signing (run "
                     "onetripd audit verify)", k, (long long)now->count, now->head, base.issued_at,
                     (long long)then->count, then->head);
            goto fail;
        }
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(cp.issued_at, sizeof cp.issued_at, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(cp.issued_at + 19, sizeof cp.issued_at - 19, ".%03dZ", (int)(ts.tv_nsec / 1000000 % 1000));
    if ((line = audit_cp_sign(sign_seed, &cp)) == NULL) {
        snprintf(why, sizeof why, "cannot sign");
        goto fail;
    }
    /* The file first: it is the copy outside the database. */
    if (append_line(dir, path, line, why, sizeof why) != 0)
        goto fail;
    {
        json_t *l = json_loads(line, 0, NULL);
        char at[32];
        /* DATETIME(3) wants a space and no zone. */
        snprintf(at, sizeof at, "%.10s %.12s", cp.issued_at, cp.issued_at + 11);
        rc = db_exec(ctx->db, SQL_CP_INSERT,
                     DBP(DB_STR(at), DB_I64(cp_total(&cp)), DB_STR(cp.chains[0].head), DB_STR(own_key.key_id),
                         DB_STR(json_string_value(json_object_get(l, "payload"))),
                         DB_STR(json_string_value(json_object_get(l, "signature")))),
                     NULL, NULL);
        json_decref(l);
        if (rc != 0) {
            snprintf(why, sizeof why, "database: %s", db_errmsg(ctx->db));
            goto fail;
        }
    }
    app_log(LOG_INFO, "audit", "msg=\"checkpoint published\" count=%lld main_head=%.16s",
            (long long)cp_total(&cp), cp.chains[0].head);
    *count = 1;
    rc = 0;
    goto done;
fail:
    rc = -1;
    app_log(LOG_ERROR, "audit", "msg=\"audit checkpoint not published\" reason=\"%s\"", why);
done:
    free(line);
    return rc;
}

/* ---- routes ------------------------------------------------------------- */

void audit_cp_on_latest(app_req *r)
{
    cp_row row;
    bool found = false;

    if (db_query_one(r->db, SQL_CP_LATEST, DBP0, &CP_ROW, &row, &found) != 0)
        app_problem_db(r);
    else if (!found)
        app_problem(r, 404, "no_checkpoint", "No checkpoint yet",
                    "No audit checkpoint has been published yet.", NULL);
    else
        app_reply_json(r, 200, cp_line(&row));
    db_row_clear(&CP_ROW, &row);
}

void audit_cp_on_key(app_req *r)
{
    if (!have_key) {
        app_problem(r, 503, "checkpoint_key_missing", "No checkpoint key",
                    "This server has no audit checkpoint key.", NULL);
        return;
    }
    app_reply_json(r, 200, json_pack("{ssssss}", "algorithm", AUDIT_CP_ALG, "key_id", own_key.key_id,
                                      "public_key_pem", own_pem));
}
