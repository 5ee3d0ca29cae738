/* payments_json.c - API representations of orders, refunds, reconciliation
 * reports and alerts. */
#include <string.h>

#include "modules/payments/money.h"
#include "modules/payments/payments_internal.h"
#include "modules/payments/payments_sql.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

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

json_t *pay_order_json(db_conn *c, const db_rows *o)
{
    json_t *j, *items = json_array();
    db_rows *it = NULL, *rc = NULL;
    char yuan[MONEY_STR_SIZE];
    int64_t oid = db_cell_i64(o, 0, 0);

    money_format_yuan(db_cell_i64(o, 0, 3), yuan);
    j = json_pack("{sssssIsssIsIss}", "order_no", db_cell(o, 0, 1), "state", db_cell(o, 0, 6),
                  "amount_fen", (json_int_t)db_cell_i64(o, 0, 3), "amount", yuan,
                  "fine_fen", (json_int_t)db_cell_i64(o, 0, 4),
                  "late_fee_fen", (json_int_t)db_cell_i64(o, 0, 5), "channel", db_cell(o, 0, 7));
    json_object_set_new(j, "display_state", json_string(display_state(db_cell(o, 0, 6))));
    json_object_set_new(j, "trade_no", str_or_null(db_cell(o, 0, 8)));
    json_object_set_new(j, "state_reason", str_or_null(db_cell(o, 0, 12)));
    json_object_set_new(j, "expires_at", utc(db_cell(o, 0, 9)));
    json_object_set_new(j, "paid_at", utc(db_cell(o, 0, 10)));
    json_object_set_new(j, "created_at", utc(db_cell(o, 0, 11)));
    json_object_set_new(j, "returned_at", utc(db_cell(o, 0, 13)));
    if (pay_sql_order_items(c, oid, &it) == 0) {
        for (int i = 0; i < it->nrows; i++)
            json_array_append_new(items, json_pack("{sIsssIsI}", "violation_id", (json_int_t)db_cell_i64(it, i, 0),
                                                   "decision_no", db_cell(it, i, 3) ? db_cell(it, i, 3) : "",
                                                   "fine_fen", (json_int_t)db_cell_i64(it, i, 1),
                                                   "late_fee_fen", (json_int_t)db_cell_i64(it, i, 2)));
    }
    json_object_set_new(j, "items", items);
    if (pay_sql_receipt_by_order(c, oid, &rc) == 0 && rc->nrows == 1)
        json_object_set_new(j, "receipt", json_pack("{ssss}", "number", db_cell(rc, 0, 0),
                                                    "verification_code", db_cell(rc, 0, 1)));
    else
        json_object_set_new(j, "receipt", json_null());
    db_rows_free(it);
    db_rows_free(rc);
    return j;
}

json_t *pay_refund_json(const db_rows *f)
{
    json_t *j = json_pack("{sIsssssssIssssss}", "id", (json_int_t)db_cell_i64(f, 0, 0),
                          "out_refund_no", db_cell(f, 0, 1), "order_no", db_cell(f, 0, 2),
                          "channel", db_cell(f, 0, 3), "amount_fen", (json_int_t)db_cell_i64(f, 0, 4),
                          "reason", db_cell(f, 0, 5), "kind", db_cell(f, 0, 6), "state", db_cell(f, 0, 7));
    json_object_set_new(j, "requested_by", db_cell(f, 0, 8) ? json_integer(db_cell_i64(f, 0, 8)) : json_null());
    json_object_set_new(j, "approved_by", db_cell(f, 0, 9) ? json_integer(db_cell_i64(f, 0, 9)) : json_null());
    json_object_set_new(j, "channel_refund_no", str_or_null(db_cell(f, 0, 10)));
    json_object_set_new(j, "failure_reason", str_or_null(db_cell(f, 0, 11)));
    json_object_set_new(j, "created_at", utc(db_cell(f, 0, 12)));
    json_object_set_new(j, "approved_at", utc(db_cell(f, 0, 13)));
    json_object_set_new(j, "finished_at", utc(db_cell(f, 0, 14)));
    return j;
}

static json_t *int_or_null(const db_rows *r, int i, int col)
{
    return db_cell(r, i, col) ? json_integer(db_cell_i64(r, i, col)) : json_null();
}

json_t *pay_report_json(const db_rows *rep, int i, const db_rows *lines)
{
    int mismatches = (int)(db_cell_i64(rep, i, 4) + db_cell_i64(rep, i, 5) + db_cell_i64(rep, i, 6) +
                           db_cell_i64(rep, i, 10));
    json_t *j = json_pack("{sIsssssisisisisisisIsIsb}", "id", (json_int_t)db_cell_i64(rep, i, 0), "channel",
                          db_cell(rep, i, 1), "date", db_cell(rep, i, 2), "matched", (int)db_cell_i64(rep, i, 3),
                          "not_recorded", (int)db_cell_i64(rep, i, 4), "not_in_statement",
                          (int)db_cell_i64(rep, i, 5), "amount_mismatch", (int)db_cell_i64(rep, i, 6),
                          "malformed", (int)db_cell_i64(rep, i, 10), "statement_lines",
                          (int)db_cell_i64(rep, i, 11), "statement_total_fen", (json_int_t)db_cell_i64(rep, i, 7),
                          "ledger_total_fen", (json_int_t)db_cell_i64(rep, i, 8), "balanced", mismatches == 0);

    json_object_set_new(j, "created_at", utc(db_cell(rep, i, 9)));
    if (lines) {
        json_t *a = json_array();
        for (int k = 0; k < lines->nrows; k++) {
            json_t *o = json_pack("{ss}", "kind", db_cell(lines, k, 0));
            json_object_set_new(o, "entry_type", str_or_null(db_cell(lines, k, 1)));
            json_object_set_new(o, "line_no", int_or_null(lines, k, 6));
            json_object_set_new(o, "order_no", str_or_null(db_cell(lines, k, 2)));
            json_object_set_new(o, "trade_no", str_or_null(db_cell(lines, k, 3)));
            json_object_set_new(o, "ledger_fen", int_or_null(lines, k, 4));
            json_object_set_new(o, "statement_fen", int_or_null(lines, k, 5));
            json_object_set_new(o, "reason", str_or_null(db_cell(lines, k, 7)));
            json_object_set_new(o, "text", str_or_null(db_cell(lines, k, 8)));
            json_array_append_new(a, o);
        }
        json_object_set_new(j, "lines", a);
    }
    return j;
}

json_t *pay_alert_json(const db_rows *al, int i)
{
    json_t *j = json_pack("{sIssss}", "id", (json_int_t)db_cell_i64(al, i, 0), "kind", db_cell(al, i, 1),
                          "detail", db_cell(al, i, 5));
    json_object_set_new(j, "channel", str_or_null(db_cell(al, i, 2)));
    json_object_set_new(j, "order_no", str_or_null(db_cell(al, i, 3)));
    json_object_set_new(j, "ref_id", int_or_null(al, i, 4));
    json_object_set_new(j, "created_at", utc(db_cell(al, i, 6)));
    return j;
}
