/* config.c - the configuration table and its loaders. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/app.h"
#include "server/config.h"
#include "server/log.h"

server_settings server_conf;

/* A row of the table and the text of its current value (owned; NULL while
 * the default applies). */
typedef struct config_key {
    app_conf d;
    char *value;
} config_key;

static int check_log_level(const char *value, char *why, size_t whylen)
{
    if (log_parse_level(value) >= 0)
        return 0;
    snprintf(why, whylen, "must be error, warn, info or debug");
    return -1;
}

/* The server's own keys: the name is built from the field, so the two
 * cannot drift apart. */
#define S(sec, k, d, h) APP_CONF_STR(#sec "." #k, server_conf.sec.k, d, h)
#define SECRET(sec, k, h) APP_CONF_SECRET(#sec "." #k, server_conf.sec.k, h)
#define I(sec, k, d, lo, hi, h) APP_CONF_INT(#sec "." #k, server_conf.sec.k, d, lo, hi, h)

static const app_conf base_defs[] = {
    S(server, ready_file, "", "after binding, write the bound addresses here (tests)"),
    S(http, listen, "127.0.0.1:8080", "HTTP address host:port; empty disables HTTP"),
    I(http, allow_api, "0", 0, 1,
      "1 = serve the whole API on plain HTTP (only behind a TLS-terminating proxy); "
      "0 = plain HTTP serves /healthz, /readyz, /metrics, /openapi.yaml only"),
    /* One loop by default: with two, it.limits' cap tests fail under
     * ASan (the oldest idle connection is not the one closed); until that is
     * understood, more loops are opt-in (config_threads_for gives one per core). */
    I(http, threads, "1", 1, 64,
      "event-loop threads (SO_REUSEPORT listeners); one per core (at most 16) suits a busy server"),
    I(http, max_body, "1048576", 1024, 64 << 20, "largest request body in bytes (413 above)"),
    I(http, max_headers_size, "16384", 1024, 1 << 20,
      "largest request line + header lines in bytes (431 problem above)"),
    I(http, max_headers_read, "131072", 1024, 4 << 20,
      "request heads up to this size are read and answered (431 above http.max_headers_size); "
      "longer ones get evhttp's bare 400; bounds the head's memory per connection"),
    I(http, max_header_count, "64", 8, 1000, "most request header lines (431 above)"),
    I(http, idle_timeout_s, "15", 1, 3600, "close a connection idle this long"),
    I(http, request_timeout_s, "30", 1, 3600, "deadline for receiving a whole request"),
    I(http, first_byte_timeout_s, "5", 1, 300,
      "close a new connection that sends nothing this long (TLS: no request byte after the handshake)"),
    I(http, max_connections, "1024", 1, 1000000,
      "open connections, all clients; at the cap an idle one is closed to admit a new one"),
    I(http, max_connections_per_ip, "256", 1, 1000000,
      "open connections from one address (IPv6: one /64); at the cap its own idle one makes room"),
    S(https, listen, "127.0.0.1:8443", "HTTPS address host:port; empty disables HTTPS"),
    S(https, cert, "", "server certificate chain (PEM)"),
    S(https, key, "", "server private key (PEM)"),
    S(https, client_ca, "", "CA bundle for optional client certificates (partners)"),
    /* Default replaced at start-up by config_workers_for(the machine's cores). */
    I(workers, count, "8", 1, 256,
      "worker threads, one database connection each; default: 4 per core, 8 to 64"),
    I(workers, queue, "256", 1, 100000, "queued requests before answering 503"),
    S(db, socket, "", "MariaDB Unix socket; empty = TCP host/port"),
    S(db, host, "127.0.0.1", "MariaDB host when no socket"),
    I(db, port, "3306", 1, 65535, "MariaDB port when no socket"),
    S(db, name, "onetrip", "database name"),
    S(db, user, "onetrip", "application user (least privilege)"),
    SECRET(db, password, "application user's password"),
    S(db, admin_user, "root", "user for migrate (creates the database, user, grants)"),
    SECRET(db, admin_password, "admin user's password (empty: socket authentication)"),
    I(db, allow_non_durable, "0", 0, 1, "1 = start even without durable commits (development only)"),
    I(db, connect_timeout_s, "2", 1, 60, "connect timeout"),
    I(db, rw_timeout_s, "30", 1, 3600, "read/write timeout per round trip"),
    I(db, tx_attempts, "5", 1, 20, "attempts for a transaction hitting deadlocks/lock waits"),
    APP_CONF_STR_CHECK("log.level", server_conf.log.level, "info", check_log_level,
                       "error|warn|info|debug"),
    I(log, access, "1", 0, 1, "1 = one JSON access-log line per request on stdout"),
    I(log, access_flush_ms, "200", 10, 10000,
      "access-log lines are buffered per loop thread and written this often (and when 64 KiB "
      "fill, and at shutdown); a crash loses at most this long's lines"),
    SECRET(pii, keys, "AES-256-GCM keys for personal data: 1:<64 hex>[,2:<64 hex>]"),
    I(pii, active_key, "1", 1, 255, "key id used for new ciphertexts"),
    SECRET(pii, lookup_key, "HMAC key (64 hex) for exact-match lookup of personal data"),
    S(auth, audience, "onetrip", "expected aud of app-backend tokens"),
    SECRET(auth, operator_token_key, "HMAC key (64 hex) signing operator tokens"),
    I(auth, operator_token_ttl_s, "900", 60, 86400, "operator access-token lifetime"),
    I(auth, refresh_ttl_s, "43200", 300, 2592000, "operator refresh-token lifetime"),
    I(auth, clock_skew_s, "60", 0, 300, "allowed clock skew for token times"),
    I(auth, app_token_max_ttl_s, "300", 30, 600,
      "longest app-backend token (exp - iat, or exp - now without iat); a read token is "
      "reusable until exp, so this bounds a captured token's use"),
    I(auth, es256_require_low_s, "0", 0, 1, "1 = refuse ES256 app tokens whose S is in the upper half"),
    I(auth, partner_hmac_window_s, "300", 10, 3600, "partner signature timestamp window"),
    I(jobs, enabled, "1", 0, 1, "1 = run the job scheduler inside serve"),
    I(events, enabled, "1", 0, 1,
      "1 = run the event-outbox consumers (supervision rules) inside serve; 0 = events wait in "
      "the outbox for an instance that runs them (tests, a dedicated instance)"),
    I(idempotency, ttl_s, "86400", 3600, 2592000, "keep Idempotency-Key records this long"),
    I(idempotency, stale_s, "300", 5, 86400, "an in-flight key older than this may be taken over"),
    I(idempotency, orphan_s, "15", 3, 3600,
      "an in-flight key whose process has not renewed its heartbeat for this long is taken over"),
};
#undef S
#undef SECRET
#undef I

static config_key *keys;
static int NKEYS;

static int parse_int(const char *s, int64_t *out);

/* Put a key's default into its field (value dropped). */
static void bind_default(config_key *k)
{
    int64_t v = 0;
    free(k->value);
    k->value = NULL;
    if (k->d.is_int) {
        (void)parse_int(k->d.dflt, &v);
        *k->d.ival = v;
    } else {
        *k->d.sval = k->d.dflt;
    }
}

int config_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;

    /* A process pinned to fewer cores (taskset, a cpuset) runs on those only. */
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 &&
        (n < 1 || CPU_COUNT(&set) < n))
        n = CPU_COUNT(&set);
    return n < 1 ? 1 : n > 4096 ? 4096 : (int)n;
}

/* One loop per core keeps every core accepting and parsing; past 16 the
 * loops wait on the workers and the database, not on the CPU. */
int config_threads_for(int cpus)
{
    return cpus < 1 ? 1 : cpus > 16 ? 16 : cpus;
}

/* Workers mostly wait on MariaDB (a commit is an fsync away), so there are
 * more of them than cores: 4 per core, at least 8 (the old fixed default),
 * at most 64 database connections per instance. */
int config_workers_for(int cpus)
{
    int n = cpus < 1 ? 4 : cpus > 16 ? 64 : 4 * cpus;
    return n < 8 ? 8 : n > 64 ? 64 : n;
}

/* The base table is in place before main() or any test runs, so the fields
 * hold their defaults even in code (unit tests) that never loads a file.
 * The defaults that depend on the machine are computed here, once, so that
 * --help and the fields show the numbers actually used. */
__attribute__((constructor)) static void config_init_table(void)
{
    static char workers_dflt[16];
    int cpus = config_cpu_count();

    snprintf(workers_dflt, sizeof workers_dflt, "%d", config_workers_for(cpus));
    NKEYS = APP_LEN(base_defs);
    keys = app_calloc((size_t)NKEYS, sizeof *keys);
    for (int i = 0; i < NKEYS; i++) {
        keys[i].d = base_defs[i];
        if (keys[i].d.ival == &server_conf.workers.count)
            keys[i].d.dflt = workers_dflt;
        bind_default(&keys[i]);
    }
}

static config_key *find(const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].d.name, name) == 0)
            return &keys[i];
    return NULL;
}

const char *config_key_of(const void *field)
{
    for (int i = 0; i < NKEYS; i++)
        if ((const void *)keys[i].d.ival == field || (const void *)keys[i].d.sval == field)
            return keys[i].d.name;
    return NULL;
}

/* Type, bounds and validator of a value for row d; -1 with err. */
static int check_value(const app_conf *d, const char *value, const char *src, int64_t *iv, char *err,
                       size_t errlen)
{
    char why[200] = "";

    if (d->is_int) {
        if (parse_int(value, iv) != 0) {
            snprintf(err, errlen, "%s: %s must be an integer", src, d->name);
            return -1;
        }
        if (*iv < d->min || *iv > d->max) {
            snprintf(err, errlen, "%s: %s must be between %" PRId64 " and %" PRId64, src, d->name,
                     d->min, d->max);
            return -1;
        }
    }
    if (d->check != NULL && d->check(value, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s %s", src, d->name, why[0] ? why : "is invalid");
        return -1;
    }
    return 0;
}

int config_check_keys(const app_conf *defs, int n, char *err, size_t errlen)
{
    int64_t v;

    for (int i = 0; i < n; i++) {
        const app_conf *d = &defs[i];
        const char *dot = d->name ? strchr(d->name, '.') : NULL;
        if (dot == NULL || dot == d->name || dot[1] == '\0' || d->dflt == NULL || d->help == NULL) {
            snprintf(err, errlen, "configuration key '%s': name must be section.key, with a default and help",
                     d->name ? d->name : "(null)");
            return -1;
        }
        if (d->is_int ? (d->ival == NULL || d->sval != NULL || d->min > d->max)
                      : (d->sval == NULL || d->ival != NULL)) {
            snprintf(err, errlen, "configuration key %s: not bound to one field of its type", d->name);
            return -1;
        }
        if (check_value(d, d->dflt, "default", &v, err, errlen) != 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (strcmp(defs[j].name, d->name) == 0) {
                snprintf(err, errlen, "configuration key %s declared twice", d->name);
                return -1;
            }
        if (find(d->name) != NULL) {
            snprintf(err, errlen, "configuration key %s declared twice", d->name);
            return -1;
        }
    }
    return 0;
}

int config_add_keys(const app_conf *defs, int n)
{
    char err[256];
    config_key *nk;

    if (config_check_keys(defs, n, err, sizeof err) != 0) {
        app_log(LOG_ERROR, "config", "msg=\"%s\"", err);
        return -1; /* a programming error */
    }
    nk = app_calloc((size_t)(NKEYS + n), sizeof *nk);
    memcpy(nk, keys, (size_t)NKEYS * sizeof *nk);
    for (int i = 0; i < n; i++) {
        nk[NKEYS + i].d = defs[i];
        bind_default(&nk[NKEYS + i]);
    }
    free(keys);
    keys = nk;
    NKEYS += n;
    return 0;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (*s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

int config_set(const char *name, const char *value, const char *src, char *err, size_t errlen)
{
    config_key *k = find(name);
    int64_t v = 0;

    if (k == NULL) {
        snprintf(err, errlen, "%s: unknown configuration key '%s'", src, name);
        return -1;
    }
    if (check_value(&k->d, value, src, &v, err, errlen) != 0)
        return -1;
    free(k->value);
    k->value = app_strdup(value);
    if (k->d.is_int)
        *k->d.ival = v;
    else
        *k->d.sval = k->value;
    return 0;
}

void config_reset(void)
{
    for (int i = 0; i < NKEYS; i++)
        bind_default(&keys[i]);
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int config_load_text(const char *text, const char *src, char *err, size_t errlen)
{
    char section[64] = "";
    char *copy = app_strdup(text);
    char *line;
    int lineno = 0, rc = -1;
    char where[300], full[200];

    /* strtok_r would skip empty lines and miscount; walk by hand. */
    line = copy;
    while (line != NULL) {
        char *next = strchr(line, '\n');
        char *p, *eq;
        if (next)
            *next++ = '\0';
        lineno++;
        snprintf(where, sizeof where, "%s:%d", src, lineno);
        p = trim(line);
        if (*p == '\0' || *p == '#' || *p == ';') {
            line = next;
            continue;
        }
        if (*p == '[') {
            char *close = strchr(p, ']');
            if (close == NULL || close[1] != '\0' || close - p - 1 <= 0 ||
                (size_t)(close - p - 1) >= sizeof section) {
                snprintf(err, errlen, "%s: malformed section header", where);
                goto fail;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(p + 1));
            line = next;
            continue;
        }
        eq = strchr(p, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "%s: expected key = value", where);
            goto fail;
        }
        *eq = '\0';
        if (section[0] == '\0') {
            snprintf(err, errlen, "%s: key '%s' outside a [section]", where, trim(p));
            goto fail;
        }
        snprintf(full, sizeof full, "%s.%s", section, trim(p));
        if (config_set(full, trim(eq + 1), where, err, errlen) != 0)
            goto fail;
        line = next;
    }
    rc = 0;
fail:
    free(copy);
    return rc;
}

int config_load_env(char *err, size_t errlen)
{
    char envname[128];

    for (int i = 0; i < NKEYS; i++) {
        const char *v;
        size_t j = 0;
        memcpy(envname, "ONETRIP_", 8);
        j = 8;
        for (const char *p = keys[i].d.name; *p && j < sizeof envname - 1; p++)
            envname[j++] = (*p == '.') ? '_' : (char)toupper((unsigned char)*p);
        envname[j] = '\0';
        v = getenv(envname);
        if (v != NULL && config_set(keys[i].d.name, v, envname, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int config_validate(char *err, size_t errlen)
{
    if (server_conf.https.listen[0] != '\0' &&
        (server_conf.https.cert[0] == '\0' || server_conf.https.key[0] == '\0')) {
        snprintf(err, errlen, "https.cert and https.key are required when https.listen is set");
        return -1;
    }
    if (server_conf.http.max_headers_read < server_conf.http.max_headers_size) {
        snprintf(err, errlen, "http.max_headers_read must be at least http.max_headers_size");
        return -1;
    }
    if (server_conf.http.listen[0] == '\0' && server_conf.https.listen[0] == '\0') {
        snprintf(err, errlen, "http.listen: at least one of http.listen and https.listen must be set");
        return -1;
    }
    return 0;
}

int config_load(const char *path, char *err, size_t errlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    long n;
    int rc = -1;

    config_reset();
    if (path != NULL) {
        f = fopen(path, "rb");
        if (f == NULL) {
            snprintf(err, errlen, "--config %s: cannot open (%s)", path, strerror(errno));
            goto fail;
        }
        if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > (1 << 20) ||
            fseek(f, 0, SEEK_SET) != 0) {
            snprintf(err, errlen, "--config %s: unreadable or larger than 1 MiB", path);
            goto fail;
        }
        buf = app_malloc((size_t)n + 1);
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            snprintf(err, errlen, "--config %s: read error", path);
            goto fail;
        }
        buf[n] = '\0';
        if (config_load_text(buf, path, err, errlen) != 0)
            goto fail;
    }
    if (config_load_env(err, errlen) != 0)
        goto fail;
    log_set_level(log_parse_level(server_conf.log.level));
    rc = 0;
fail:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

void config_free(void)
{
    for (int i = 0; i < NKEYS; i++)
        bind_default(&keys[i]);
}

void config_print_help(FILE *out)
{
    const char *prev = "";
    fprintf(out, "Configuration keys (INI file [section] key = value; environment "
                 "ONETRIP_<SECTION>_<KEY> overrides):\n");
    for (int i = 0; i < NKEYS; i++) {
        const char *dot = strchr(keys[i].d.name, '.');
        size_t sl = (size_t)(dot - keys[i].d.name);
        if (strncmp(prev, keys[i].d.name, sl) != 0 || prev[sl] != '.')
            fprintf(out, "\n  [%.*s]\n", (int)sl, keys[i].d.name);
        prev = keys[i].d.name;
        if (keys[i].d.is_int)
            fprintf(out, "  %-30s %s (default %s, %" PRId64 "..%" PRId64 ")\n", keys[i].d.name,
                    keys[i].d.help, keys[i].d.dflt, keys[i].d.min, keys[i].d.max);
        else if (keys[i].d.secret)
            fprintf(out, "  %-30s %s (secret)\n", keys[i].d.name, keys[i].d.help);
        else
            fprintf(out, "  %-30s %s (default \"%s\")\n", keys[i].d.name, keys[i].d.help, keys[i].d.dflt);
    }
}
