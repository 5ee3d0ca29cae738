/* payments_internal.h - what the payments module's files share. */
#ifndef ONETRIP_PAYMENTS_INTERNAL_H
#define ONETRIP_PAYMENTS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "modules/payments/channel.h"
#include "modules/payments/payments_sql.h"
#include "modules/payments/statement.h"
#include "server/app.h"

/* Who acts, for audit records written from handlers and jobs alike. */
typedef struct pay_actor {
    const app_principal *who; /* NULL = system */
    const char *request_id;
    const char *peer;
} pay_actor;

/* What arrived, for the notification record. */
typedef struct pay_raw {
    const char *source;   /* "notify" | "query" */
    const char *body;
    size_t body_len;
    const char *headers;  /* JSON of the signature headers, or NULL */
} pay_raw;

typedef struct pay_apply_result {
    const char *outcome;  /* applied | duplicate | duplicate_payment | rejected | ignored | failed */
    const char *reason;   /* NULL or a stable code */
    bool ack;             /* answer the channel with success (stop resending) */
    int64_t order_id;
} pay_apply_result;

/* Why a business function refused (payments_actions.c): a code of the
 * module's error table (payments_module.c), the field it concerns and a
 * detail (NULL: the table's). Static strings; code NULL = not refused
 * (a database error is left in the connection). */
typedef struct pay_why {
    const char *code, *field, *detail;
} pay_why;

/* Business functions of orders and refunds, INSIDE the caller's
 * transaction, each writing its audit record as a: 0, or -1 with *why set
 * (refused) or a database error left in c (roll back either way). */

/* A citizen (a->who) opens an order over n (1..PAY_ORDER_MAX_ITEMS)
 * distinct violation ids, sorted here into lock order; *order_id. */
int pay_order_open(db_conn *c, const pay_actor *a, int64_t *ids, int n, const char *channel,
                   int64_t *order_id, pay_why *why);
/* The order numbered order_no as who may see it (a citizen only their own,
 * others order_not_found), locked when for_update. *o is filled either way
 * (pay_order_clear it). */
int pay_order_find_visible(db_conn *c, const app_principal *who, const char *order_no, bool for_update,
                           pay_order *o, pay_why *why);
/* The app came back from the channel: an open order awaits confirmation
 * (with trade_no, may be NULL); awaiting or paid ones stay as they are. */
int pay_order_returned(db_conn *c, const pay_actor *a, const char *order_no, const char *trade_no,
                       pay_why *why);
/* An operator requests a refund of a paid order; *refund_id. */
int pay_refund_request(db_conn *c, const pay_actor *a, const char *order_no, int64_t amount,
                       const char *reason, int64_t *refund_id, pay_why *why);
/* A second operator approves a requested refund (not sent yet). */
int pay_refund_approve(db_conn *c, const pay_actor *a, int64_t id, pay_why *why);

/* Applies one notice (verified or not) INSIDE the caller's transaction:
 * records it in payment_notifications, raises alerts for rejections, and
 * for a verified success pays the order exactly once (see payments_apply.c).
 * why is the verifier's reason when !verified. Returns 0 (commit) or -1
 * (database error left in c: roll back). */
int pay_apply_notice(db_conn *c, const pay_actor *a, const char *channel, bool verified,
                     const pay_notice *n, const char *why, const pay_raw *raw,
                     pay_apply_result *res);

/* Ends a live order (expired/closed/failed) and releases its violations.
 * *done = whether this call changed it. Inside the caller's transaction. */
int pay_order_end(db_conn *c, const pay_actor *a, int64_t order_id, const char *to,
                  const char *reason, bool only_past_expiry, bool *done);

/* Copies in (NULL = "") into out (cap > 0 bytes, truncated) as printable
 * ASCII: any other byte becomes '?'. For untrusted order and trade numbers
 * (ASCII in every channel) before they reach the database, audit, alerts
 * and reports. */
void pay_clean_ascii(const char *in, char *out, size_t cap);

/* Fresh public numbers: "P20250101" + 16 hex (order), "R20250101" + 12 hex
 * (receipt), "RF" + 16 hex (refund); code = 8 hex digits. */
void pay_new_number(const char *prefix, bool dated, int hexlen, char *out, size_t cap);

/* JSON of an order with its items and receipt (read on c). */
json_t *pay_order_json(db_conn *c, const pay_order *o);
/* JSON array of an order's items (the receipt stores it too). */
json_t *pay_items_json(const pay_order_item *items, int n);
/* JSON of a refund. */
json_t *pay_refund_json(const pay_refund *f);
/* JSON of a report, with its lines when with_lines. */
json_t *pay_report_json(const pay_report *rep, const pay_report_line *lines, int nlines,
                        bool with_lines);
/* JSON of an alert. */
json_t *pay_alert_json(const pay_alert *al);

/* Sends an approved refund to its channel and records the answer (own
 * transactions; call outside any). Returns 0 when the channel answered. */
int pay_refund_send(db_conn *c, const pay_actor *a, int64_t refund_id);

/* approved -> succeeded|failed as the channel answered (a refund call, a
 * refund query or a refund callback), INSIDE the caller's transaction:
 * audited as a, a failure alerted. *done = whether this call changed it
 * (a finished refund is left as it is). */
int pay_refund_finish(db_conn *c, const pay_actor *a, int64_t id, const char *state, const char *channel_no,
                      const char *failure, bool *done);

/* Applies a WeChat Pay refund callback (verified or not) INSIDE the
 * caller's transaction, like pay_apply_notice: records it (source
 * refund_notify), alerts rejections, and finishes the refund it names
 * exactly once (payments_refund_notify.c). Returns 0 or -1 (roll back). */
int pay_apply_refund_notice(db_conn *c, const pay_actor *a, bool verified, const pay_refund_notice *n,
                            const char *why, const pay_raw *raw, pay_apply_result *res);

/* Records an unauthenticated notification as a digest folded into its
 * source's alert of the day (payments_apply.c); rec holds the parsed
 * fields. */
int pay_record_unauthenticated(db_conn *c, const pay_actor *a, const char *channel, pay_notif_row *rec,
                               const pay_raw *raw, const char *reason);

/* Fetches and parses one channel's statement for a bureau day (YYYY-MM-DD).
 * Blocks on the channel: call outside any transaction. Returns 0 with *s
 * filled (free with pay_stmt_free; malformed lines are in it, not errors),
 * or -1 with *why (static): unknown_channel, bad_date, no_statement_url,
 * statement_unavailable. */
int pay_statement_fetch(const char *channel, const char *date, pay_stmt *s, const char **why);

/* Reconciles a fetched statement INSIDE the caller's transaction: replaces
 * the day's report with a new one (every good line matched against the
 * ledger by trade number, every malformed line reported with its line
 * number), raises an alert per mismatch and one for the malformed lines,
 * and audits it as a. Sets *report_id. Returns 0, or -1 with the database
 * error left in c (roll back). s->lines' used flags are rewritten. */
int pay_reconcile_apply(db_conn *c, const pay_actor *a, const char *channel, const char *date,
                        pay_stmt *s, int64_t *report_id);

/* Raises a reconciliation_failed alert for a day that could not be
 * reconciled (its own transaction; failures are logged). */
void pay_reconcile_failed(db_conn *c, const char *channel, const char *date, const char *why);

/* Fetch + apply in its own transaction, alerting on failure (job, CLI).
 * Returns 0 with *report_id, or -1 with a reason in *why (static; the
 * fetch reasons above, or "database"). */
int pay_reconcile(db_conn *c, const char *channel, const char *date, int64_t *report_id,
                  const char **why);

/* Queries the channel for an order awaiting confirmation and applies the
 * answer. Returns 0 when the channel answered. */
int pay_query_order(db_conn *c, int64_t order_id, const char *order_no, const char *channel);

#endif
