/* registration_jobs.c - background jobs (expired plate reservations,
 * missed inspection appointments) and the `onetripd plates` command. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/registration_internal.h"
#include "server/audit.h"
#include "server/config.h"

#define BATCH 100

typedef struct job_run {
    int64_t done;
    int more;
} job_run;

/* One batch in one transaction: each lapsed reservation frees its number
 * (and a booked place, if any), returns the application to submitted and
 * counts towards the owner's anti-hoarding limit. */
static int tx_expiry(db_conn *c, void *p)
{
    job_run *run = p;
    reg_lapsed *due = NULL;
    int rc = -1, n = 0;

    run->done = 0;
    if (reg_sql_plate_expired(c, BATCH, &due, &n) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        int64_t id = due[i].id, citizen = due[i].citizen_id;
        const char *from = due[i].state;
        uint64_t affected = 0;
        if (reg_release_holdings(c, id) != 0 ||
            reg_sql_app_drop_plate(c, id, from, "submitted", &affected) != 0)
            goto done;
        if (affected != 1)
            continue;
        if (audit_write_sys_id(c, NULL, "job", "local", "registration.plate_lapsed",
                               "registration", id, "ok", json_pack("{s:s}", "from", from)) != 0 ||
            reg_hoarding_note(c, NULL, citizen, "lapse", id) != 0)
            goto done;
        run->done++;
    }
    run->more = n == BATCH;
    rc = 0;
done:
    free(due);
    return rc;
}

/* Booked appointments whose slot ended: a no-show. The application may
 * book again; the third no-show in the window bars online booking. */
static int tx_no_shows(db_conn *c, void *p)
{
    job_run *run = p;
    reg_no_show *due = NULL;
    reg_app a = {0};
    int rc = -1, ndue = 0;
    int64_t limit = registration_conf.no_show_limit;

    run->done = 0;
    if (reg_sql_appt_no_show_due(c, BATCH, &due, &ndue) != 0)
        goto done;
    for (int i = 0; i < ndue; i++) {
        int64_t appt = due[i].id, id = due[i].application_id;
        int64_t citizen = due[i].citizen_id, n = 0;
        uint64_t affected = 0;
        bool found = false;
        if (reg_sql_app_get(c, id, 1, &a, &found) != 0 ||
            reg_sql_appt_close(c, appt, "no_show", &affected) != 0)
            goto done;
        if (found && strcmp(a.state, "appointment_booked") == 0 &&
            reg_sql_app_set_state(c, id, "appointment_booked", "plate_reserved", NULL) != 0)
            goto done;
        reg_app_clear(&a);
        if (audit_write_sys_id(c, NULL, "job", "local", "registration.no_show", "registration", id,
                               "ok", json_pack("{s:I}", "appointment_id", (json_int_t)appt)) != 0 ||
            reg_sql_no_show_count(c, citizen, registration_conf.no_show_window_days, &n) != 0)
            goto done;
        if (n >= limit && n % limit == 0) {
            if (reg_sql_bar_add(c, citizen, "booking", registration_conf.no_show_bar_days,
                                "no_shows") != 0 ||
                audit_write_sys_id(c, NULL, "job", "local", "registration.no_show_bar", "citizen",
                                   citizen, "barred",
                                   json_pack("{s:I, s:I, s:I}", "citizen_id", (json_int_t)citizen,
                                             "no_shows", (json_int_t)n, "bar_days",
                                             (json_int_t)registration_conf.no_show_bar_days)) != 0)
                goto done;
        }
        run->done++;
    }
    run->more = ndue == BATCH;
    rc = 0;
done:
    reg_app_clear(&a);
    free(due);
    return rc;
}

static int run_batches(app_job_ctx *ctx, db_tx_fn fn, int64_t *count)
{
    job_run run = {0, 0};
    *count = 0;
    do {
        if (db_tx(ctx->db, fn, &run, (int)server_conf.db.tx_attempts, NULL) != 0)
            return -1;
        *count += run.done;
    } while (run.more);
    return 0;
}

int reg_job_plate_expiry(app_job_ctx *ctx, int64_t *count)
{
    return run_batches(ctx, tx_expiry, count);
}

int reg_job_no_shows(app_job_ctx *ctx, int64_t *count)
{
    return run_batches(ctx, tx_no_shows, count);
}

/* ---- onetripd plates load --prefix 浙A --count N ---- */

typedef struct load_run {
    const char *prefix;
    uint32_t from, to;
    int64_t loaded;
} load_run;

static int tx_cli_load(db_conn *c, void *p)
{
    load_run *l = p;
    char number[6];
    l->loaded = 0;
    for (uint32_t i = l->from; i < l->to; i++) {
        uint64_t affected = 0;
        if (registration_demo_plate(i, number) != 0 ||
            reg_sql_plate_insert(c, l->prefix, number, &affected) != 0)
            return -1;
        l->loaded += (int64_t)affected;
    }
    return 0;
}

typedef struct audit_run {
    const char *prefix;
    long requested;
    int64_t loaded;
} audit_run;

/* The audit chain head is locked FOR UPDATE: write inside a transaction. */
static int tx_cli_audit(db_conn *c, void *p)
{
    audit_run *a = p;
    json_t *d = json_pack("{s:s, s:I, s:I}", "prefix", a->prefix, "requested",
                          (json_int_t)a->requested, "loaded", (json_int_t)a->loaded);
    int rc = audit_write_sys(c, NULL, "cli", "local", "registration.plates_load", "plate_pool",
                             a->prefix, "ok", d);
    json_decref(d);
    return rc;
}

int reg_cmd_plates(db_conn *db, int argc, char **argv)
{
    const char *prefix = NULL;
    long count = -1;
    int64_t total = 0;

    if (argc < 1 || strcmp(argv[0], "load") != 0)
        goto usage;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc)
            prefix = argv[++i];
        else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
            count = strtol(argv[++i], NULL, 10);
        else
            goto usage;
    }
    if (prefix == NULL || registration_plate_prefix_check(prefix, NULL) != 0) {
        fprintf(stderr, "onetripd plates: --prefix must be a plate prefix such as 浙A\n");
        return 2;
    }
    if (count < 1 || count > 240000) {
        fprintf(stderr, "onetripd plates: --count must be between 1 and 240000\n");
        return 2;
    }
    /* Batches of 1000 rows per transaction keep each commit small. */
    for (uint32_t from = 0; from < (uint32_t)count; from += 1000) {
        load_run l = {prefix, from, from + 1000 < (uint32_t)count ? from + 1000 : (uint32_t)count, 0};
        if (db_tx(db, tx_cli_load, &l, 5, NULL) != 0) {
            fprintf(stderr, "onetripd plates: database error: %s\n", db_errmsg(db));
            return 1;
        }
        total += l.loaded;
    }
    {
        audit_run a = {prefix, count, total};
        if (db_tx(db, tx_cli_audit, &a, 5, NULL) != 0) {
            fprintf(stderr, "onetripd plates: database error: %s\n", db_errmsg(db));
            return 1;
        }
    }
    printf("plates: loaded %lld new numbers for %s (%ld requested)\n", (long long)total, prefix,
           count);
    return 0;
usage:
    fprintf(stderr, "usage: onetripd plates load --prefix PREFIX --count N\n");
    return 2;
}
