/* main.c - onetripd: command line, start-up order, shutdown order. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "db/migrate.h"
#include "db/provision.h"
#include "db/seed.h"
#include "server/audit.h"
#include "server/audit_checkpoint.h"
#include "server/auth.h"
#include "server/config.h"
#include "server/http.h"
#include "server/http_internal.h"
#include "server/incarnation.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/input.h"
#include "server/modules.h"
#include "server/pii.h"
#include "server/events.h"
#include "server/scheduler.h"

#define ONETRIP_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: onetripd COMMAND [--config FILE] [options]\n\n"
            "Commands:\n"
            "  serve                      run the HTTP(S) server (SIGTERM/SIGINT stop it gracefully)\n"
            "  migrate                    create database and app user, apply migrations, set grants\n"
            "  seed [--people N] [--vehicles N] [--violations N] [--cases N] [--seed S]\n"
            "       [--plate-prefix P] [--progress]\n"
            "                             load the demo city (idempotent)\n"
            "  job run NAME | job list    run one job once (honours the cluster lease) / list jobs\n"
            "  permissions [--json]       print the permission table and every route's permission\n"
            "  routes --json              print every route with its declared inputs (JSON)\n"
            "  audit verify [--checkpoints FILE] [--public-key PEM]...\n"
            "                             walk the keyed audit chain, check it against signed\n"
            "                             checkpoints; report the first problem\n"
            "  version                    print the version\n");
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->ncmds; j++)
            fprintf(out, "  %s\n", modules_all[i]->cmds[j].usage);
    fprintf(out, "\n");
    config_print_help(out);
}

static db_config app_db_config(void)
{
    db_config c = {
        .socket = server_conf.db.socket,
        .host = server_conf.db.host,
        .port = (unsigned)server_conf.db.port,
        .user = server_conf.db.user,
        .password = server_conf.db.password,
        .database = server_conf.db.name,
        .connect_timeout_s = (int)server_conf.db.connect_timeout_s,
        .rw_timeout_s = (int)server_conf.db.rw_timeout_s,
    };
    return c;
}

static db_conn *connect_app(void)
{
    db_config cfg = app_db_config();
    db_conn *c = db_conn_new(&cfg);
    if (db_conn_ensure(c) != 0) {
        fprintf(stderr, "onetripd: cannot connect to the database: %s\n", db_errmsg(c));
        db_conn_free(c);
        return NULL;
    }
    return c;
}

static int cmd_migrate(void)
{
    db_config cfg = app_db_config();
    db_conn *admin = NULL, *adb = NULL;
    char err[512] = "";
    int n = 0, applied, sealed, rc = 1;
    const db_migration **all = modules_migrations(&n);

    cfg.user = server_conf.db.admin_user;
    cfg.password = server_conf.db.admin_password;
    cfg.database = "";
    admin = db_conn_new(&cfg);
    if (db_conn_ensure(admin) != 0) {
        fprintf(stderr, "onetripd migrate: cannot connect as %s: %s\n", cfg.user, db_errmsg(admin));
        goto done;
    }
    if (db_provision_database(admin, server_conf.db.name, err, sizeof err) != 0 ||
        db_provision_user(admin, server_conf.db.user, server_conf.db.password, err, sizeof err) != 0)
        goto fail;
    cfg.database = server_conf.db.name;
    adb = db_conn_new(&cfg);
    if (db_conn_ensure(adb) != 0) {
        snprintf(err, sizeof err, "cannot open database: %s", db_errmsg(adb));
        goto fail;
    }
    applied = db_migrate_apply(adb, all, n, err, sizeof err);
    if (applied < 0)
        goto fail;
    if (db_provision_grants(admin, server_conf.db.name, server_conf.db.user, err, sizeof err) != 0)
        goto fail;
    printf("migrate: %d applied, %d known, grants updated for %s\n", applied, n, server_conf.db.user);
    /* Once: seal the records written before the chain was keyed. */
    sealed = audit_seal(adb, err, sizeof err);
    if (sealed < 0)
        goto fail;
    if (sealed > 0)
        printf("migrate: %s\n", err);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "onetripd migrate: %s\n", err);
done:
    free(all);
    db_conn_free(adb);
    db_conn_free(admin);
    return rc;
}

static int cmd_seed(int argc, char **argv)
{
    seed_opts o = {.people = 1000, .vehicles = -1, .seed = 1, .plate_prefix = "浙A",
                   .progress = isatty(2)};
    db_conn *c = NULL;
    char err[512] = "";
    const seed_hook **hooks = NULL;
    int64_t loaded = 0;
    int rc = 1, nhooks = 0;

    for (int i = 0; i < argc; i++) {
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--progress") == 0) { /* also when stderr is no terminal */
            o.progress = true;
            continue;
        }
        if (v == NULL) {
            fprintf(stderr, "onetripd seed: %s needs a value\n", argv[i]);
            return 2;
        }
        if (strcmp(argv[i], "--people") == 0)
            o.people = strtoll(v, &end, 10);
        else if (strcmp(argv[i], "--vehicles") == 0)
            o.vehicles = strtoll(v, &end, 10);
        else if (strcmp(argv[i], "--seed") == 0)
            o.seed = strtoull(v, &end, 10);
        else if (strcmp(argv[i], "--violations") == 0)
            o.violations = strtoll(v, &end, 10);
        else if (strcmp(argv[i], "--cases") == 0)
            o.cases = strtoll(v, &end, 10);
        else if (strcmp(argv[i], "--plate-prefix") == 0)
            o.plate_prefix = v, end = (char *)v + strlen(v);
        else {
            fprintf(stderr, "onetripd seed: unknown option %s\n", argv[i]);
            return 2;
        }
        if (end == NULL || *end != '\0') {
            fprintf(stderr, "onetripd seed: %s: not a number: %s\n", argv[i], v);
            return 2;
        }
        i++;
    }
    if (o.people < 1 || o.people > 100000000) {
        fprintf(stderr, "onetripd seed: --people must be between 1 and 100000000\n");
        return 2;
    }
    if (o.violations < 0 || o.violations > 1000000000 || o.cases < 0 || o.cases > 1000000000) {
        fprintf(stderr, "onetripd seed: --violations and --cases must be between 0 and 1000000000\n");
        return 2;
    }
    if (o.vehicles < 0)
        o.vehicles = o.people * 6 / 5;
    if ((c = connect_app()) == NULL)
        return 1;
    /* Every module's generator, in ONETRIP_MODULES order (owners first). */
    hooks = calloc((size_t)modules_count + 1, sizeof *hooks);
    if (hooks == NULL) {
        fprintf(stderr, "onetripd seed: out of memory\n");
        goto done;
    }
    for (int i = 0; i < modules_count; i++)
        if (modules_all[i]->seed != NULL)
            hooks[nhooks++] = modules_all[i]->seed;
    if (seed_run(c, &o, hooks, nhooks, &loaded, err, sizeof err) != 0) {
        fprintf(stderr, "onetripd seed: %s\n", err);
        goto done;
    }
    if (loaded == 0)
        printf("seed: demo data already present; nothing loaded\n");
    else
        printf("seed: loaded %lld rows (seed %llu)\n", (long long)loaded, (unsigned long long)o.seed);
    rc = 0;
done:
    free(hooks);
    db_conn_free(c);
    return rc;
}

static int cmd_job(int argc, char **argv)
{
    const app_job *job;
    db_conn *c;
    int64_t count = 0;
    int rc;
    char owner[128];

    if (argc >= 1 && strcmp(argv[0], "list") == 0) {
        for (int i = 0; i < modules_count; i++)
            for (int j = 0; j < modules_all[i]->njobs; j++)
                printf("%-32s every %ds (%s)\n", modules_all[i]->jobs[j].name,
                       modules_all[i]->jobs[j].interval_s, modules_all[i]->name);
        return 0;
    }
    if (argc != 2 || strcmp(argv[0], "run") != 0) {
        fprintf(stderr, "usage: onetripd job run NAME | onetripd job list\n");
        return 2;
    }
    job = modules_job_find(argv[1]);
    if (job == NULL) {
        fprintf(stderr, "onetripd job: no job named %s (see onetripd job list)\n", argv[1]);
        return 2;
    }
    if ((c = connect_app()) == NULL)
        return 1;
    snprintf(owner, sizeof owner, "cli:%d", (int)getpid());
    rc = scheduler_run_once(c, job, owner, &count);
    if (rc == 1)
        fprintf(stderr, "onetripd job: %s is running elsewhere (lease held)\n", job->name);
    else if (rc == 0)
        printf("job %s: ok, %lld items\n", job->name, (long long)count);
    else
        fprintf(stderr, "onetripd job: %s failed: %s\n", job->name, db_errmsg(c));
    db_conn_free(c);
    return rc == 0 ? 0 : 1;
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;

    if (f == NULL)
        return NULL;
    buf = app_malloc(65537);
    n = fread(buf, 1, 65536, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* audit verify [--checkpoints FILE] [--public-key PEM]...: the chain with
 * its key, and against every checkpoint of FILE (default: the configured
 * directory's file, when there is one), whose signatures are checked with
 * the given public keys (default: this configuration's checkpoint key). */
static int cmd_audit(int argc, char **argv)
{
    db_conn *c = NULL;
    char msg[768], err[512];
    const char *file = NULL;
    char deflt[4096];
    audit_cp_key keys[8];
    audit_cp *cps = NULL;
    audit_anchor *anchors = NULL;
    int nkeys = 0, ncps = 0, nanchors = 0, rc = 2;
    int64_t n = 0;

    if (argc < 1 || strcmp(argv[0], "verify") != 0)
        goto usage;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            goto usage;
        if (strcmp(argv[i], "--checkpoints") == 0) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--public-key") == 0 && nkeys < 8) {
            char *pem = read_small_file(argv[++i]);
            if (pem == NULL || audit_cp_key_from_pem(pem, &keys[nkeys]) != 0) {
                fprintf(stderr, "onetripd audit verify: %s: not an Ed25519 public key (PEM)\n", argv[i]);
                free(pem);
                goto done;
            }
            free(pem);
            nkeys++;
        } else {
            goto usage;
        }
    }
    if (nkeys == 0 && audit_cp_own_key() != NULL)
        keys[nkeys++] = *audit_cp_own_key();
    if (file == NULL && server_conf.audit.checkpoint_dir[0] != '\0') {
        snprintf(deflt, sizeof deflt, "%s/%s", server_conf.audit.checkpoint_dir, AUDIT_CP_FILE);
        if (access(deflt, F_OK) == 0)
            file = deflt;
    }
    /* The file is read before the chain's snapshot starts, so every
     * checkpoint in it describes a head the snapshot contains (a checkpoint
     * signs a committed head): no false "records removed" on a live server. */
    if (file != NULL) {
        if (nkeys == 0) {
            fprintf(stderr, "onetripd audit verify: checking checkpoints needs --public-key or "
                            "audit.checkpoint_key\n");
            goto done;
        }
        if (audit_cp_load(file, keys, nkeys, &cps, &ncps, err, sizeof err) != 0) {
            printf("checkpoints: %s\n", err);
            rc = 1;
            goto done;
        }
        anchors = audit_cp_anchors(cps, ncps, &nanchors);
    } else {
        fprintf(stderr, "onetripd audit verify: warning: no checkpoint file, so records removed "
                        "from the end with the head moved back cannot be detected\n");
    }
    if ((c = connect_app()) == NULL) {
        rc = 1;
        goto done;
    }
    rc = audit_verify(c, anchors, nanchors, msg, sizeof msg, &n);
    if (rc < 0) {
        fprintf(stderr, "onetripd audit verify: database error: %s\n", db_errmsg(c));
        rc = 1;
        goto done;
    }
    printf("%s\n", msg);
    if (rc == 0 && file != NULL)
        printf("matches %d checkpoint%s of %s%s%s\n", ncps, ncps == 1 ? "" : "s", file,
               ncps ? ", the latest of " : "", ncps ? cps[ncps - 1].issued_at : "");
    rc = rc == 0 ? 0 : 1;
    goto done;
usage:
    fprintf(stderr, "usage: onetripd audit verify [--checkpoints FILE] [--public-key PEM]...\n");
done:
    free(anchors);
    free(cps);
    db_conn_free(c);
    return rc;
}

static long g_queue_depth(void) { return workers_queue_depth(); }
static long g_workers_busy(void) { return workers_busy(); }
static long g_workers_total(void) { return (long)server_conf.workers.count; }

static int cmd_serve(void)
{
    db_config cfg = app_db_config();
    db_conn *c = NULL;
    router *rt = NULL;
    char err[512] = "";
    const char *why = NULL;
    const char **names = NULL;
    int rc = 1;
    metrics_gauges g = {g_queue_depth, g_workers_busy, g_workers_total, http_open_connections,
                        http_inflight};

    if (config_validate(err, sizeof err) != 0 || audit_cp_ready(err, sizeof err) != 0) {
        fprintf(stderr, "onetripd: %s\n", err);
        return 2;
    }
    rt = modules_router(err, sizeof err);
    if (rt == NULL)
        goto fail;
    names = app_calloc((size_t)router_count(rt) + 1, sizeof(char *));
    for (int i = 0; i < router_count(rt); i++) {
        const app_route *r = router_get(rt, i);
        char plain[256];
        char *s = app_malloc(strlen(r->pattern) + 10);
        router_pattern_plain(r->pattern, plain, sizeof plain);
        sprintf(s, "%s %s", router_method_name(r->method), plain);
        names[i] = s;
    }
    metrics_init(router_count(rt), names);
    metrics_set_gauges(&g);
    /* Refuse a database that can lose committed transactions. */
    if ((c = connect_app()) == NULL)
        goto done;
    if (db_check_durability(c, &why) != 0) {
        if (!server_conf.db.allow_non_durable) {
            snprintf(err, sizeof err, "db: %s (set db.allow_non_durable=1 for development only)",
                     why ? why : "cannot check durability");
            goto fail;
        }
        app_log(LOG_WARN, "db", "msg=\"database is not durable; allowed by db.allow_non_durable\"");
    }
    /* Every record from now on is keyed: the earlier ones must be sealed. */
    if (audit_is_sealed(c) != 1) {
        snprintf(err, sizeof err, "the audit chain is not keyed yet: run onetripd migrate first");
        goto fail;
    }
    /* Before any claim: every claim names a registered incarnation. */
    if (incarnation_register(c, err, sizeof err) != 0)
        goto fail;
    db_conn_free(c);
    c = NULL;
    if (incarnation_start(&cfg) != 0) {
        snprintf(err, sizeof err, "cannot start the incarnation heartbeat");
        goto fail;
    }
    if (workers_start((int)server_conf.workers.count, (int)server_conf.workers.queue, &cfg) != 0) {
        snprintf(err, sizeof err, "cannot start workers");
        incarnation_stop();
        goto fail;
    }
    if (server_conf.jobs.enabled && scheduler_start(&cfg) != 0) {
        snprintf(err, sizeof err, "cannot start the job scheduler");
        workers_stop();
        incarnation_stop();
        goto fail;
    }
    if (server_conf.events.enabled && events_start(&cfg) != 0) {
        snprintf(err, sizeof err, "cannot start the event consumers");
        scheduler_stop();
        workers_stop();
        incarnation_stop();
        goto fail;
    }
    if (http_serve(rt, err, sizeof err) != 0) {
        events_stop();
        scheduler_stop();
        workers_stop();
        incarnation_stop();
        http_cleanup();
        goto fail;
    }
    /* Loops have stopped: let workers and jobs finish, then free evhttp. */
    events_stop();
    scheduler_stop();
    workers_stop();
    incarnation_stop();
    http_cleanup();
    app_log(LOG_INFO, "main", "msg=\"stopped cleanly\"");
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "onetripd: %s\n", err);
done:
    db_conn_free(c);
    if (names) {
        for (int i = 0; names[i]; i++)
            free((char *)names[i]);
        free(names);
    }
    router_free(rt);
    return rc;
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    const char *cmd = NULL;
    char **rest = app_calloc((size_t)argc + 1, sizeof(char *));
    int nrest = 0, rc = 2;
    char err[512] = "";
    const app_cmd *mc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config_path = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config_path = argv[i] + 9;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            cmd = "help";
        else if (cmd == NULL)
            cmd = argv[i];
        else
            rest[nrest++] = argv[i];
    }
    for (int i = 0; i < modules_count; i++)
        if (modules_all[i]->nconf > 0 &&
            (config_check_keys(modules_all[i]->conf, modules_all[i]->nconf, err, sizeof err) != 0 ||
             config_add_keys(modules_all[i]->conf, modules_all[i]->nconf) != 0)) {
            fprintf(stderr, "onetripd: module %s: %s\n", modules_all[i]->name, err);
            goto out;
        }
    config_reset();
    if (cmd == NULL || strcmp(cmd, "help") == 0) {
        usage(cmd ? stdout : stderr);
        rc = cmd ? 0 : 2;
        goto out;
    }
    if (strcmp(cmd, "version") == 0) {
        printf("onetripd %s\n", ONETRIP_VERSION);
        rc = 0;
        goto out;
    }
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 && strcmp(cmd, "seed") != 0 &&
        strcmp(cmd, "job") != 0 && strcmp(cmd, "permissions") != 0 && strcmp(cmd, "audit") != 0 &&
        strcmp(cmd, "routes") != 0 &&
        modules_cmd_find(cmd) == NULL) {
        fprintf(stderr, "onetripd: unknown command '%s' (see onetripd --help)\n", cmd);
        rc = 2;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "onetripd: libevent threading unavailable\n");
        rc = 1;
        goto out;
    }
    if (config_load(config_path, err, sizeof err) != 0) {
        fprintf(stderr, "onetripd: %s\n", err);
        rc = 2;
        goto out;
    }
    if (strcmp(cmd, "permissions") == 0) {
        if (nrest > 1 || (nrest == 1 && strcmp(rest[0], "--json") != 0)) {
            fprintf(stderr, "onetripd: usage: onetripd permissions [--json]\n");
            rc = 2;
            goto out;
        }
        if (nrest == 1)
            auth_print_permissions_json(stdout);
        else
            auth_print_permissions(stdout);
        rc = 0;
        goto out;
    }
    if (strcmp(cmd, "routes") == 0) {
        /* the declarations, for tests/integration/inputs_spec.test.mjs */
        if (nrest != 1 || strcmp(rest[0], "--json") != 0) {
            fprintf(stderr, "onetripd: usage: onetripd routes --json\n");
            rc = 2;
            goto out;
        }
        input_print_routes_json(stdout);
        rc = 0;
        goto out;
    }
    if (db_library_init() != 0) {
        fprintf(stderr, "onetripd: cannot initialise the MariaDB client library\n");
        rc = 1;
        goto out;
    }
    /* Every command below writes or checks audit records. */
    if (audit_init(err, sizeof err) != 0 || audit_cp_init(err, sizeof err) != 0) {
        fprintf(stderr, "onetripd: %s\n", err);
        rc = 2;
        goto out_db;
    }
    if (strcmp(cmd, "migrate") == 0) {
        rc = cmd_migrate();
        goto out_db;
    }
    if (pii_init(err, sizeof err) != 0 || auth_init(err, sizeof err) != 0 ||
        modules_init(err, sizeof err) != 0) {
        fprintf(stderr, "onetripd: %s\n", err);
        rc = 2;
        goto out_db;
    }
    if (strcmp(cmd, "serve") == 0)
        rc = cmd_serve();
    else if (strcmp(cmd, "seed") == 0)
        rc = cmd_seed(nrest, rest);
    else if (strcmp(cmd, "job") == 0)
        rc = cmd_job(nrest, rest);
    else if (strcmp(cmd, "audit") == 0)
        rc = cmd_audit(nrest, rest);
    else if ((mc = modules_cmd_find(cmd)) != NULL) {
        db_conn *c = connect_app();
        rc = c ? mc->fn(c, nrest, rest) : 1;
        db_conn_free(c);
    } else {
        fprintf(stderr, "onetripd: unknown command '%s' (see onetripd --help)\n", cmd);
        rc = 2;
    }
    auth_cleanup();
    pii_cleanup();
    input_cleanup();
out_db:
    audit_cp_cleanup();
    audit_cleanup();
    db_library_end();
out:
    free(rest);
    config_free();
    return rc;
}
