/* payments_json.c - API representations of orders, refunds, reconciliation
 * reports and alerts. */
#include <stdlib.h>
#include <string.h>

#include "modules/payments/money.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"

/* "2025-01-01 10:00:00.123" (UTC) -> "2025-01-01T10:00:00.123Z". */
static json_t *utc(const char *s)
{
    char buf[40];
    if (s == NULL)
        return json_null();
    snprintf(buf, sizeof buf, "%.10sT%sZ", s, strlen(s) > 11 ? s + 11 : "00:00:00");
    return json_string(buf);
}

static const char *display_state(const char *state)
{
    /* What the app shows: an order the payer came back from is shown as
     * paid while the channel's confirmation is outstanding. */
    if (strcmp(state, "awaiting_confirmation") == 0)
        return "paid_awaiting_confirmation";
    return state;
}

json_t *pay_items_json(const pay_order_item *items, int n)
{
    json_t *a = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{sIsssIsI}", "violation_id", (json_int_t)items[i].violation_id,
                                           "decision_no", items[i].decision_no, "fine_fen",
                                           (json_int_t)items[i].fine_fen, "late_fee_fen",
                                           (json_int_t)items[i].late_fee_fen));
    return a;
}

json_t *pay_order_json(db_conn *c, const pay_order *o)
{
    json_t *j;
    pay_order_item *it = NULL;
    pay_receipt rc;
    bool found = false;
    int nit = 0;
    char yuan[MONEY_STR_SIZE];

    money_format_yuan(o->amount_fen, yuan);
    j = json_pack("{sssssIsssIsIss}", "order_no", o->order_no, "state", o->state,
                  "amount_fen", (json_int_t)o->amount_fen, "amount", yuan,
                  "fine_fen", (json_int_t)o->fine_fen,
                  "late_fee_fen", (json_int_t)o->late_fee_fen, "channel", o->channel);
    json_object_set_new(j, "display_state", json_string(display_state(o->state)));
    json_object_set_new(j, "trade_no", app_json_str_or_null(o->channel_trade_no));
    json_object_set_new(j, "state_reason", app_json_str_or_null(o->state_reason));
    json_object_set_new(j, "expires_at", utc(o->expires_at));
    json_object_set_new(j, "paid_at", utc(o->paid_at));
    json_object_set_new(j, "created_at", utc(o->created_at));
    json_object_set_new(j, "returned_at", utc(o->returned_at));
    /* A failed read leaves the list empty (as it always has). */
    (void)pay_sql_order_items(c, o->id, &it, &nit);
    json_object_set_new(j, "items", pay_items_json(it, nit));
    if (pay_sql_receipt_by_order(c, o->id, &rc, &found) == 0 && found)
        json_object_set_new(j, "receipt", json_pack("{ssss}", "number", rc.number,
                                                    "verification_code", rc.verify_code));
    else
        json_object_set_new(j, "receipt", json_null());
    free(it);
    pay_receipt_clear(&rc);
    return j;
}

json_t *pay_refund_json(const pay_refund *f)
{
    json_t *j = json_pack("{sIsssssssIssssss}", "id", (json_int_t)f->id,
                          "out_refund_no", f->out_refund_no, "order_no", f->order_no,
                          "channel", f->channel, "amount_fen", (json_int_t)f->amount_fen,
                          "reason", f->reason, "kind", f->kind, "state", f->state);
    json_object_set_new(j, "requested_by", app_json_int_if(f->has_requested_by, f->requested_by));
    json_object_set_new(j, "approved_by", app_json_int_if(f->has_approved_by, f->approved_by));
    json_object_set_new(j, "channel_refund_no", app_json_str_or_null(f->channel_refund_no));
    json_object_set_new(j, "failure_reason", app_json_str_or_null(f->failure_reason));
    json_object_set_new(j, "created_at", utc(f->created_at));
    json_object_set_new(j, "approved_at", utc(f->approved_at));
    json_object_set_new(j, "finished_at", utc(f->finished_at));
    return j;
}

json_t *pay_report_json(const pay_report *rep, const pay_report_line *lines, int nlines, bool with_lines)
{
    int mismatches = rep->not_recorded + rep->not_in_statement + rep->amount_mismatch + rep->malformed;
    json_t *j = json_pack("{sIsssssisisisisisisIsIsb}", "id", (json_int_t)rep->id, "channel",
                          rep->channel, "date", rep->stmt_date, "matched", (int)rep->matched,
                          "not_recorded", (int)rep->not_recorded, "not_in_statement",
                          (int)rep->not_in_statement, "amount_mismatch", (int)rep->amount_mismatch,
                          "malformed", (int)rep->malformed, "statement_lines",
                          (int)rep->statement_lines, "statement_total_fen", (json_int_t)rep->statement_total_fen,
                          "ledger_total_fen", (json_int_t)rep->ledger_total_fen, "balanced", mismatches == 0);

    json_object_set_new(j, "created_at", utc(rep->created_at));
    if (with_lines) {
        json_t *a = json_array();
        for (int k = 0; k < nlines; k++) {
            const pay_report_line *l = &lines[k];
            json_t *o = json_pack("{ss}", "kind", l->kind);
            json_object_set_new(o, "entry_type", app_json_str_or_null(l->entry_type));
            json_object_set_new(o, "line_no", app_json_int_if(l->has_line_no, l->line_no));
            json_object_set_new(o, "order_no", app_json_str_or_null(l->order_no));
            json_object_set_new(o, "trade_no", app_json_str_or_null(l->trade_no));
            json_object_set_new(o, "ledger_fen", app_json_int_if(l->has_ledger_fen, l->ledger_fen));
            json_object_set_new(o, "statement_fen", app_json_int_if(l->has_statement_fen, l->statement_fen));
            json_object_set_new(o, "reason", app_json_str_or_null(l->reason));
            json_object_set_new(o, "text", app_json_str_or_null(l->raw_line));
            json_array_append_new(a, o);
        }
        json_object_set_new(j, "lines", a);
    }
    return j;
}

json_t *pay_alert_json(const pay_alert *al)
{
    json_t *j = json_pack("{sIssss}", "id", (json_int_t)al->id, "kind", al->kind, "detail", al->detail);
    json_object_set_new(j, "channel", app_json_str_or_null(al->channel));
    json_object_set_new(j, "order_no", app_json_str_or_null(al->order_no));
    json_object_set_new(j, "ref_id", app_json_int_if(al->has_ref_id, al->ref_id));
    json_object_set_new(j, "created_at", utc(al->created_at));
    return j;
}
