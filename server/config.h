/* config.h - configuration bound once to typed fields.
 *
 * Every key is one row (app_conf in app.h: name, type, default, bounds,
 * validator, help) that points at the typed field its value lands in; the
 * server's own keys fill server_conf below, each module's keys fill that
 * module's struct (payments_conf, cases_conf...). Values come from the
 * defaults, then an INI file, then environment variables
 * ONETRIP_<SECTION>_<KEY>, are checked as they are set, and are read-only
 * once start-up is over (so any thread reads the fields without a lock).
 * Nothing looks a key up by name afterwards: code reads the fields, so a
 * mistyped key is a compile error. */
#ifndef ONETRIP_CONFIG_H
#define ONETRIP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "server/app.h"

/* The server's own keys, one struct per section ("http.max_body" is
 * server_conf.http.max_body). Strings are never NULL; they point into the
 * table's copy of the value (valid until config_free, which puts the
 * defaults back). Fields hold their defaults before any load. */
typedef struct server_settings {
    struct { const char *ready_file; } server;
    struct {
        const char *listen;
        int64_t allow_api, threads, max_body, max_headers_size, max_headers_read,
            max_header_count, idle_timeout_s, request_timeout_s, first_byte_timeout_s,
            max_connections, max_connections_per_ip;
    } http;
    struct { const char *listen, *cert, *key, *client_ca; } https;
    struct { int64_t count, queue; } workers;
    struct {
        const char *socket, *host;
        int64_t port;
        const char *name, *user, *password, *admin_user, *admin_password;
        int64_t allow_non_durable, connect_timeout_s, rw_timeout_s, tx_attempts;
    } db;
    struct { const char *level; int64_t access, access_flush_ms; } log;
    struct { const char *keys; int64_t active_key; const char *lookup_key; } pii;
    struct {
        const char *audience, *operator_token_key;
        int64_t operator_token_ttl_s, refresh_ttl_s, clock_skew_s, es256_require_low_s,
            partner_hmac_window_s, app_token_max_ttl_s;
    } auth;
    struct { int64_t enabled; } jobs;
    struct { int64_t enabled; } events;
    struct { int64_t ttl_s, stale_s, orphan_s; } idempotency;
    struct { const char *chain_key, *checkpoint_key, *checkpoint_dir; } audit; /* core module */
} server_settings;
extern server_settings server_conf;

/* Load defaults + file (path may be NULL) + environment. On error returns -1
 * and writes one line naming the key (or file line) into err. */
int config_load(const char *path, char *err, size_t errlen);
/* Parse INI text (for tests and config_load). src names the origin. */
int config_load_text(const char *text, const char *src, char *err, size_t errlen);
/* Reset every key (and its field) to its default (tests). */
void config_reset(void);
/* Adds module keys to the table (before config_load) and puts their
 * defaults into their fields. -1 on a key config_check_keys refuses or a
 * duplicate name (programming errors, reported at start-up). */
int config_add_keys(const app_conf *defs, int n);
/* Checks key rows: a "section.key" name, a binding of the row's type, a
 * default that parses and passes the bounds and the validator, no name twice
 * in defs or in the table. -1 with err naming the key. */
int config_check_keys(const app_conf *defs, int n, char *err, size_t errlen);
/* Free every value (at exit); fields point at the defaults again. */
void config_free(void);
/* Apply environment overrides; env lookups through getenv. */
int config_load_env(char *err, size_t errlen);
/* Set one key from text, validating type, bounds and validator, and store
 * it in the key's field. */
int config_set(const char *key, const char *value, const char *src, char *err, size_t errlen);
/* Check cross-key rules (e.g. TLS needs cert and key). */
int config_validate(char *err, size_t errlen);
/* Cores this process may run on (online cores, fewer when its CPU affinity
 * is narrower), at least 1. */
int config_cpu_count(void);
/* The defaults of http.threads and workers.count for a machine with cpus
 * cores (the table's defaults use config_cpu_count()). */
int config_threads_for(int cpus);
int config_workers_for(int cpus);
/* The key bound to a field (for messages), NULL when none is. */
const char *config_key_of(const void *field);

/* Print every key with its default and help (secrets shown as <secret>). */
void config_print_help(FILE *out);

#endif
