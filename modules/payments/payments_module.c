/* payments_module.c - the payments module's descriptor: routes,
 * permissions, migrations, jobs, commands and configuration. */
#include "modules/payments/payments_conf.h"
#include "modules/payments/payments_http.h"
#include "modules/payments/payments_jobs.h"
#include "server/app.h"

extern const db_migration *const payments_migrations[];

/* Unauthenticated notifications (bad or missing signatures) per address;
 * the channels' own messages pass whatever their number. */
static const app_rate_limit notify_limit = {
    .name = "payments.notify",
    .per_min = &payments_conf.notify_failures_per_min,
    .burst = &payments_conf.notify_failures_burst,
    .failures_only = true,
};

static const app_route routes[] = {
    {M_POST, "/v1/payments/orders", payments_on_order_create, "payments.order_own",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_GET, "/v1/payments/orders/{no}", payments_on_order_get, "payments.order_read", 0},
    {M_POST, "/v1/payments/orders/{no}/returned", payments_on_order_returned, "payments.order_own",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_POST, "/v1/payments/notify/{channel}", payments_on_notify, "public", ROUTE_PUBLIC | ROUTE_RAW_BODY,
     &notify_limit},
    {M_GET, "/v1/receipts/{number}", payments_on_receipt_verify, "public", ROUTE_PUBLIC},
    /* Money leaves the bureau: a retry without a key could refund twice. */
    {M_POST, "/v1/refunds", payments_on_refund_create, "payments.refund_request",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_POST, "/v1/refunds/{id}/approve", payments_on_refund_approve, "payments.refund_approve",
     ROUTE_IDEM_OPTIONAL},
    {M_GET, "/v1/refunds/{id}", payments_on_refund_get, "payments.refund_read", 0},
    {M_GET, "/v1/reconciliation/reports", payments_on_reports, "payments.reconciliation_read", 0},
    {M_POST, "/v1/reconciliation/reports", payments_on_reconcile, "payments.reconciliation_run",
     ROUTE_JSON | ROUTE_IDEMPOTENT},
    {M_GET, "/v1/reconciliation/reports/{id}", payments_on_report_get, "payments.reconciliation_read", 0},
    {M_GET, "/v1/reconciliation/reports/{id}/csv", payments_on_report_csv, "payments.reconciliation_read", 0},
    {M_GET, "/v1/payments/alerts", payments_on_alerts, "payments.alerts_read", 0},
    {M_GET, "/v1/payments/alerts/{id}", payments_on_alert_get, "payments.alerts_read", 0},
};

static const app_perm perms[] = {
    {"payments.order_own", KIND_CITIZEN, 0, 0, "create, follow and report back one's own payment orders"},
    {"payments.order_read", KIND_CITIZEN | KIND_OPERATOR, ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_AUDITOR, 0,
     "read a payment order (citizens: their own)"},
    {"payments.refund_request", KIND_OPERATOR, ROLE_WINDOW | ROLE_SUPERVISOR, 0, "request a refund"},
    {"payments.refund_approve", KIND_OPERATOR, ROLE_REVIEWER, 0,
     "approve a refund requested by another operator"},
    {"payments.refund_read", KIND_OPERATOR, ROLE_WINDOW | ROLE_SUPERVISOR | ROLE_REVIEWER | ROLE_AUDITOR, 0,
     "read refunds"},
    {"payments.reconciliation_read", KIND_OPERATOR, ROLE_SUPERVISOR | ROLE_AUDITOR | ROLE_ADMIN, 0,
     "read reconciliation reports"},
    {"payments.reconciliation_run", KIND_OPERATOR, ROLE_SUPERVISOR, 0,
     "start the reconciliation of a channel's statement for a day"},
    {"payments.alerts_read", KIND_OPERATOR, ROLE_SUPERVISOR | ROLE_AUDITOR | ROLE_ADMIN, 0,
     "read payment alerts (rejected notifications, duplicate payments, refund and reconciliation problems)"},
};

static const app_job jobs[] = {
    {"payments_expire", 60, payments_job_expire},
    {"payments_query", 30, payments_job_query},
    {"payments_refunds", 60, payments_job_refunds},
    {"payments_reconcile", 86400, payments_job_reconcile},
};

static const app_cmd cmds[] = {
    {"payments-reconcile", "payments-reconcile CHANNEL YYYY-MM-DD  reconcile one channel's statement for a day",
     payments_cmd_reconcile},
};

const app_module payments_module = {
    .name = "payments",
    .routes = routes, .nroutes = APP_LEN(routes),
    .perms = perms, .nperms = APP_LEN(perms),
    .migrations = payments_migrations,
    .migrations_from = 600, .migrations_to = 699,
    .jobs = jobs, .njobs = APP_LEN(jobs),
    .cmds = cmds, .ncmds = APP_LEN(cmds),
    .conf = payments_conf_keys, .nconf = PAYMENTS_CONF_NKEYS,
    .init = payments_conf_init,
};
