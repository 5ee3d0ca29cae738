/* payments_module.c - the payments module's descriptor: routes,
 * permissions, migrations, jobs, commands and configuration. */
#include "modules/payments/money.h"
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

/* The problems this module answers (app_fail). */
static const app_error errors[] = {
    {"order_not_found", 404, "Order not found", NULL},
    {"refund_not_found", 404, "Refund not found", NULL},
    {"report_not_found", 404, "Report not found",
     "No report with this id (re-running a day replaces its report)."},
    {"alert_not_found", 404, "Alert not found", NULL},
    {"receipt_not_found", 404, "Receipt not found", "No receipt matches this number and verification code."},
    {"violation_not_found", 404, "Violation not found", "No violation with this id is yours to pay."},
    /* notifications for a channel path we do not have (a 404, unlike the
     * 400 unknown_channel of a bad field) */
    {"channel_not_found", 404, "Channel not found", "No payment channel has this name."},
    {"unknown_channel", 400, "Unknown channel", "channel must be alipay, wechatpay, policeapp or govportal."},
    {"bad_violation_ids", 400, "Invalid violation_ids", "Give 1 to 20 violation ids."},
    {"bad_payer_openid", 400, "Invalid payer_openid",
     "payer_openid is the payer's WeChat openid (1 to 128 letters, digits, '-' or '_'), for wechatpay only."},
    {"bad_amount", 400, "Invalid amount", "amount_fen must be a positive number of fen."},
    {"reason_required", 400, "Reason required", "Say why the money is returned."},
    {"code_required", 400, "Verification code required", "Pass the receipt's verification code as ?code=."},
    {"bad_date", 400, "Invalid date", "Use YYYY-MM-DD."},
    {"bad_kind", 400, "Invalid kind", "kind is an alert kind, at most 48 characters."},
    {"date_in_future", 400, "Date in the future", "A statement exists only for today (so far) and earlier days."},
    {"same_operator", 403, "Second approver required",
     "A refund must be approved by an operator other than the one who requested it."},
    {"channel_unavailable", 409, "Channel unavailable", "This payment channel is not available now."},
    {"violation_already_paid", 409, "Already paid", "This violation is already paid."},
    {"violation_not_handled", 409, "Violation not handled", "Only handled violations can be paid; handle it first."},
    {"violation_in_open_order", 409, "Already in an open order", "This violation is in another open payment order."},
    {"nothing_to_pay", 409, "Nothing to pay", "The amount due is zero."},
    {"order_not_open", 409, "Order not open", "This order is expired, closed or failed; create a new one."},
    {"order_not_paid", 409, "Order not paid", "Nothing was received for this order."},
    {"refund_exceeds_payment", 409, "Refund too large", "Refunds of this order would exceed what was paid."},
    {"refund_not_pending", 409, "Refund not pending approval", "Only a requested refund can be approved."},
    {"no_statement_url", 409, "No statement for this channel", "This channel has no statement address configured."},
    {"statement_unavailable", 502, "Statement unavailable",
     "The channel did not deliver its statement; try again later."},
};

/* Declared inputs, checked by the dispatcher before the handler runs. */
static const char *const CHANNELS[] = {"alipay", "wechatpay", "policeapp", "govportal", NULL};

static const app_jfield ORDER_NO[] = {{"no", JF_STRING, true, 40}};
static const app_input IN_ORDER = {.path_code = "order_not_found", APP_IN_PATH(ORDER_NO)};

/* The elements (positive, none repeated) are checked by the handler. */
static const app_jfield ORDER_B[] = {
    {"violation_ids", JF_ARRAY, true, PAY_ORDER_MAX_ITEMS, .min_len = 1, .code = "bad_violation_ids"},
    {"channel", JF_ENUM, true, 16, .choices = CHANNELS, .code = "unknown_channel"},
    /* WeChat's in-app browser: the payer's openid makes it a JSAPI payment */
    {"payer_openid", JF_STRING, false, 128, .min_len = 1, .pattern = "^[A-Za-z0-9_-]+$",
     .code = "bad_payer_openid"},
};
static const app_input IN_ORDER_CREATE = {APP_IN_BODY(ORDER_B)};

static const app_jfield RETURNED_B[] = {{"trade_no", JF_STRING, false, 64}};
static const app_input IN_RETURNED = {.path_code = "order_not_found", APP_IN_PATH(ORDER_NO),
                                      APP_IN_BODY(RETURNED_B)};

/* The channel is looked up by the handler: an unknown one costs the
 * address a rate-limit token, which a refusal by the dispatcher would not. */
static const app_input IN_NOTIFY = {.path_code = "channel_not_found"};

static const app_jfield RECEIPT_NO[] = {{"number", JF_STRING, true, 32}};
static const app_jfield RECEIPT_Q[] = {{"code", JF_STRING, true, 16, .min_len = 1, .code = "code_required"}};
static const app_input IN_RECEIPT = {.path_code = "receipt_not_found", APP_IN_PATH(RECEIPT_NO),
                                     APP_IN_QUERY(RECEIPT_Q)};

static const app_jfield REFUND_B[] = {
    {"order_no", JF_STRING, true, 40},
    {"amount_fen", JF_INT, true, .min = 1, .max = MONEY_MAX_FEN, .code = "bad_amount"},
    {"reason", JF_STRING, true, 255, .min_len = 2, .code = "reason_required"},
};
static const app_input IN_REFUND_CREATE = {APP_IN_BODY(REFUND_B)};
static const app_input IN_REFUND = {.path_code = "refund_not_found"};

/* The filters every list shares (and reports' date and channel). */
#define PAGE_FILTERS \
    {"date", JF_DATE, false, .code = "bad_date"}, \
    {"channel", JF_ENUM, false, .choices = CHANNELS, .code = "unknown_channel"}, \
    APP_IN_PAGE_KEYS(PAY_PAGE_MAX)
static const app_jfield REPORTS_Q[] = {PAGE_FILTERS};
static const app_input IN_REPORTS = {APP_IN_QUERY(REPORTS_Q)};
static const app_jfield ALERTS_Q[] = {
    PAGE_FILTERS,
    {"kind", JF_STRING, false, 48, .min_len = 1, .code = "bad_kind"},
};
static const app_input IN_ALERTS = {APP_IN_QUERY(ALERTS_Q)};

static const app_jfield RECONCILE_B[] = {
    {"channel", JF_ENUM, true, 16, .choices = CHANNELS, .code = "unknown_channel"},
    {"date", JF_DATE, true, 10, .code = "bad_date"},
};
static const app_input IN_RECONCILE = {APP_IN_BODY(RECONCILE_B)};
static const app_input IN_REPORT = {.path_code = "report_not_found"};
static const app_input IN_ALERT = {.path_code = "alert_not_found"};

static const app_route routes[] = {
    {M_POST, "/v1/payments/orders", payments_on_order_create, "payments.order_own",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_ORDER_CREATE},
    {M_GET, "/v1/payments/orders/{no}", payments_on_order_get, "payments.order_read", 0, .in = &IN_ORDER},
    {M_POST, "/v1/payments/orders/{no}/returned", payments_on_order_returned, "payments.order_own",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_RETURNED},
    {M_POST, "/v1/payments/notify/{channel}", payments_on_notify, "public", ROUTE_PUBLIC | ROUTE_RAW_BODY,
     &notify_limit, .in = &IN_NOTIFY},
    /* WeChat Pay's refund callbacks; rate-limited like notifications */
    {M_POST, "/v1/payments/notify/wechatpay/refund", payments_on_refund_notify, "public",
     ROUTE_PUBLIC | ROUTE_RAW_BODY, &notify_limit},
    {M_GET, "/v1/receipts/{number}", payments_on_receipt_verify, "public", ROUTE_PUBLIC, .in = &IN_RECEIPT},
    /* Money leaves the bureau: a retry without a key could refund twice. */
    {M_POST, "/v1/refunds", payments_on_refund_create, "payments.refund_request",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_REFUND_CREATE},
    {M_POST, "/v1/refunds/{id:int}/approve", payments_on_refund_approve, "payments.refund_approve",
     ROUTE_IDEM_OPTIONAL, .in = &IN_REFUND},
    {M_GET, "/v1/refunds/{id:int}", payments_on_refund_get, "payments.refund_read", 0, .in = &IN_REFUND},
    {M_GET, "/v1/reconciliation/reports", payments_on_reports, "payments.reconciliation_read", 0,
     .in = &IN_REPORTS},
    {M_POST, "/v1/reconciliation/reports", payments_on_reconcile, "payments.reconciliation_run",
     ROUTE_JSON | ROUTE_IDEMPOTENT, .in = &IN_RECONCILE},
    /* One handler: the report as JSON, or its lines as CSV. */
    {M_GET, "/v1/reconciliation/reports/{id:int}", payments_on_report, "payments.reconciliation_read", 0,
     .in = &IN_REPORT, .data = "json"},
    {M_GET, "/v1/reconciliation/reports/{id:int}/csv", payments_on_report, "payments.reconciliation_read", 0,
     .in = &IN_REPORT, .data = "csv"},
    {M_GET, "/v1/payments/alerts", payments_on_alerts, "payments.alerts_read", 0, .in = &IN_ALERTS},
    {M_GET, "/v1/payments/alerts/{id:int}", payments_on_alert_get, "payments.alerts_read", 0, .in = &IN_ALERT},
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
    .name = "payments", APP_LIST(routes, routes), APP_LIST(perms, perms),
    .migrations = payments_migrations, .migrations_from = 600, .migrations_to = 699,
    APP_LIST(jobs, jobs), APP_LIST(cmds, cmds), .conf = payments_conf_keys,
    .nconf = PAYMENTS_CONF_NKEYS, .init = payments_conf_init, APP_LIST(errors, errors),
};
