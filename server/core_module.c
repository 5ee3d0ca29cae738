/* core_module.c - the server's own endpoints (health, readiness, metrics,
 * API description, audit checkpoints), the shared base schema, the
 * idempotency pruner and the audit checkpoint job. */
#include <stdlib.h>
#include <string.h>

#include "server/audit_checkpoint.h"
#include "server/config.h"
#include "server/http_internal.h"
#include "server/metrics.h"
#include "server/modules.h"

extern const db_migration *const core_migrations[];
extern const char onetrip_openapi_yaml[];
extern const unsigned long onetrip_openapi_yaml_len;

/* A constant, sent by reference: no allocation for the probe. */
static const char HEALTHZ_BODY[] = "{\"status\":\"ok\"}";

static void on_healthz(app_req *r)
{
    req_reply_static(r, 200, "application/json", HEALTHZ_BODY, sizeof HEALTHZ_BODY - 1);
}

static void on_metrics(app_req *r)
{
    size_t len = 0;
    char *text = metrics_render(&len);
    app_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    free(text);
}

static void on_openapi(app_req *r)
{
    app_reply_bytes(r, 200, "application/yaml", onetrip_openapi_yaml, onetrip_openapi_yaml_len);
}

/* Ready = the database answers and every migration this binary knows is
 * applied (so a half-migrated deployment takes no traffic). */
static void on_readyz(app_req *r)
{
    int n = 0, pending;
    char err[256] = "";
    const db_migration **all = modules_migrations(&n);

    pending = db_migrate_pending(r->db, all, n, err, sizeof err);
    free(all);
    if (pending < 0 && db_error(r->db) != DB_OK && db_error(r->db) != DB_ERR_OTHER) {
        app_problem_db(r);
        return;
    }
    if (pending != 0) {
        app_add_header(r, "Retry-After", "5");
        app_problem_ext(r, 503, "migrations_pending", "Not ready",
                        pending > 0 ? "Database migrations are pending." : "Database schema does not match.",
                        NULL, json_pack("{si}", "pending", pending));
        return;
    }
    app_reply_json(r, 200, json_pack("{sssi}", "status", "ready", "migrations", n));
}

static const char SQL_PRUNE[] =
    "DELETE FROM idempotency_keys WHERE created_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND LIMIT 1000";

/* Processes silent for as long as keys are kept: no key names them any more
 * (and a key naming a missing incarnation counts as orphaned anyway). */
static const char SQL_PRUNE_INCARNATIONS[] =
    "DELETE FROM server_incarnations WHERE heartbeat_at < UTC_TIMESTAMP(3) - INTERVAL ? SECOND LIMIT 1000";

static int job_idempotency_prune(app_job_ctx *ctx, int64_t *count)
{
    uint64_t affected = 0;
    *count = 0;
    do {
        if (db_exec(ctx->db, SQL_PRUNE, DBP(DB_I64(server_conf.idempotency.ttl_s)), &affected,
                    NULL) != 0)
            return -1;
        *count += (int64_t)affected;
    } while (affected == 1000);
    do {
        if (db_exec(ctx->db, SQL_PRUNE_INCARNATIONS, DBP(DB_I64(server_conf.idempotency.ttl_s)),
                    &affected, NULL) != 0)
            return -1;
    } while (affected == 1000);
    return 0;
}

static const app_route routes[] = {
    {M_GET, "/healthz", on_healthz, "public", ROUTE_PUBLIC | ROUTE_INLINE},
    {M_GET, "/metrics", on_metrics, "public", ROUTE_PUBLIC | ROUTE_INLINE},
    {M_GET, "/openapi.yaml", on_openapi, "public", ROUTE_PUBLIC | ROUTE_INLINE},
    {M_GET, "/readyz", on_readyz, "public", ROUTE_PUBLIC},
    /* Public like a transparency log's signed tree head: a checkpoint holds
     * only a record count and an opaque keyed hash, and anyone who keeps
     * copies can later prove a rollback. */
    {M_GET, "/v1/audit/checkpoint", audit_cp_on_latest, "public", ROUTE_PUBLIC},
    {M_GET, "/v1/audit/checkpoint-key", audit_cp_on_key, "public", ROUTE_PUBLIC | ROUTE_INLINE},
};

static const app_perm perms[] = {
    {"public", KIND_ANON | KIND_CITIZEN | KIND_OPERATOR | KIND_PARTNER | KIND_SYSTEM, ROLE_ALL,
     PARTNER_ALL, "anyone, without credentials"},
};

static const app_job jobs[] = {
    {"idempotency_prune", 3600, job_idempotency_prune},
    {"audit_checkpoint", 300, audit_cp_job},
};

static const app_conf conf[] = {
    APP_CONF_SECRET("audit.chain_key", server_conf.audit.chain_key,
                    "HMAC-SHA256 key (64 hex) of the audit chain; required; keep it outside the database"),
    APP_CONF_SECRET("audit.checkpoint_key", server_conf.audit.checkpoint_key,
                    "Ed25519 private key (64 hex seed) signing audit checkpoints; required for serve"),
    APP_CONF_STR("audit.checkpoint_dir", server_conf.audit.checkpoint_dir, "",
                 "directory of the append-only audit checkpoint file (audit-checkpoints.jsonl); required "
                 "for serve"),
};

/* Problems any module may answer with app_fail. */
static const app_error errors[] = {
    {"internal", 500, "Internal error", NULL},
    {"bad_limit", 400, "Invalid limit", "limit is a whole number, 1..100."},
    {"bad_cursor", 400, "Invalid cursor", "before is the next_before of the previous page."},
};

const app_module core_module = {
    .name = "core", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = core_migrations, .migrations_from = 1, .migrations_to = 99, APP_LIST(jobs, jobs),
    APP_LIST(conf, conf), APP_LIST(errors, errors),
};
