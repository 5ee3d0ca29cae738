/* violations_http.c - handlers for recording, listing, searching, handling
 * and cancelling violations. Thin: parse and check the request, then run
 * the change in one transaction (app_tx) with its audit record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/violations/late_fee.h"
#include "modules/violations/violations_internal.h"
#include "modules/violations/violations_rules.h"
#include "modules/violations/violations_sql.h"
#include "server/audit.h"
#include "server/date.h"

/* An agency clock may run a little fast; later than this is a data error. */
#define FUTURE_SKEW_S 300

/* ---- shared helpers ------------------------------------------------------ */

static void put_time(json_t *o, const char *key, time_t t)
{
    char buf[DATE_ISO_STR_SIZE];
    if (t == 0 || date_format_iso8601_utc(t, buf) != 0)
        json_object_set_new(o, key, json_null());
    else
        json_object_set_new(o, key, json_string(buf));
}

static void put_date(json_t *o, const char *key, int32_t d)
{
    char buf[DATE_STR_SIZE];
    date_format(d, buf);
    json_object_set_new(o, key, json_string(buf));
}

static void put_id(json_t *o, const char *key, int64_t id)
{
    json_object_set_new(o, key, app_json_int_if(id, id));
}

json_t *violations_to_json(const violations_row *v, int32_t today, bool staff)
{
    int64_t fine = 0, fee = 0;
    bool open = strcmp(v->state, "recorded") == 0 || strcmp(v->state, "handled") == 0;
    json_t *o = json_object();

    violations_amount_due_on(v, today, &fine, &fee);
    if (!open)
        fee = 0; /* settled or void: nothing accrues any more */
    json_object_set_new(o, "id", json_integer(v->id));
    json_object_set_new(o, "decision_no", json_string(v->decision_no));
    json_object_set_new(o, "plate", json_string(v->plate));
    json_object_set_new(o, "vehicle_type", json_string(v->vehicle_type));
    put_time(o, "occurred_at", v->occurred_at);
    json_object_set_new(o, "place", json_string(v->place));
    json_object_set_new(o, "code", json_string(v->code));
    json_object_set_new(o, "description", json_string(v->description));
    json_object_set_new(o, "fine_fen", json_integer(v->fine_fen));
    json_object_set_new(o, "points", json_integer(v->points));
    json_object_set_new(o, "agency", json_string(v->agency));
    json_object_set_new(o, "source", json_string(v->source));
    put_date(o, "served_date", v->served_date);
    put_date(o, "payment_deadline", violations_payment_deadline(v->served_date));
    json_object_set_new(o, "state", json_string(v->state));
    put_time(o, "handled_at", v->handled_at);
    put_time(o, "paid_at", v->paid_at);
    json_object_set_new(o, "late_fee_fen", json_integer(fee));
    json_object_set_new(o, "amount_due_today", json_integer(open ? fine + fee : 0));
    put_date(o, "as_of", today);
    if (staff) {
        put_id(o, "vehicle_id", v->vehicle_id);
        put_id(o, "licence_id", v->licence_id);
        put_id(o, "citizen_id", v->citizen_id);
        put_id(o, "case_id", v->case_id);
    }
    return o;
}

/* Operators' view of a list of violations. */
static json_t *rows_to_json(const violations_row *rows, int n, int32_t today)
{
    json_t *arr = json_array();

    for (int i = 0; i < n; i++)
        json_array_append_new(arr, violations_to_json(&rows[i], today, true));
    return arr;
}

/* A citizen's view: how each reaches them, and what a payment awaiting
 * the channel's confirmation fixed. */
static json_t *listed_to_json(const violations_listed *rows, int n, int32_t today)
{
    json_t *arr = json_array();

    for (int i = 0; i < n; i++) {
        const violations_listed *l = &rows[i];
        json_t *o = violations_to_json(&l->v, today, false);

        json_object_set_new(o, "relation", json_string(l->relation));
        /* Paid, awaiting the channel's confirmation: show the fixed amount
         * and no growing late fee, so nobody pays twice or more. */
        if (l->has_pending_fen) {
            json_object_set_new(o, "payment_state", json_string("paid_awaiting_confirmation"));
            json_object_set_new(o, "amount_due_today", json_integer(0));
            json_object_set_new(o, "late_fee_fen", json_integer(l->pending_fen - l->v.fine_fen));
            json_object_set_new(o, "amount_paid_pending_fen", json_integer(l->pending_fen));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

int violations_refuse(app_req *r, const char *code, const char *detail, json_t *extra)
{
    if (extra == NULL)
        extra = json_object();
    json_object_set_new(extra, "reason", json_string(code));
    app_fail_ext(r, code, detail, NULL, extra);
    return -1;
}

int violations_bad_plate(app_req *r, const char *why, const char *field)
{
    app_problem(r, 400, why, "Invalid field", "A plate such as 浙A·12345.", field);
    return -1;
}

/* A problem of the error table naming field (may be NULL); -1. */
static int fail(app_req *r, const char *code, const char *field)
{
    app_fail(r, code, NULL, field);
    return -1;
}

/* ---- recording ------------------------------------------------------------ */

typedef struct record_ctx {
    violations_new n;
    time_t occurred;
    int32_t served;
    char occurred_s[24];
    char plate[VIOLATIONS_PLATE_CANON_SIZE];
} record_ctx;

/* What the declaration cannot check: the plate's form, the instant, the
 * texts, and the dates against each other and today. -1 with a 400 set. */
static int record_parse(app_req *r, record_ctx *x)
{
    const char *why = NULL;
    int32_t today = date_shanghai_today(time(NULL));
    struct tm tm;

    x->n.decision_no = app_json_str(r, "decision_no");
    x->n.vehicle_type = app_json_str(r, "vehicle_type");
    x->n.place = app_json_str(r, "place");
    x->n.code = app_json_str(r, "code");
    x->n.description = app_json_str(r, "description");
    x->n.agency = app_json_str(r, "agency");
    x->n.source = app_json_str(r, "source");
    x->n.served_date = app_json_str(r, "served_date");
    x->n.fine_fen = app_json_int(r, "fine_fen", 0);
    x->n.points = (int)app_json_int(r, "points", 0);
    x->n.plate = x->plate;
    if (violations_plate_normalize(app_json_str(r, "plate"), x->plate, &why) != 0)
        return violations_bad_plate(r, why, "plate");
    if (violations_parse_instant(app_json_str(r, "occurred_at"), &x->occurred) != 0)
        return fail(r, "occurred_at_format", "occurred_at");
    if (x->occurred > time(NULL) + FUTURE_SKEW_S)
        return fail(r, "occurred_at_future", "occurred_at");
    if (!violations_text_ok(x->n.place, VIOLATIONS_TEXT_MAX))
        return fail(r, "place_invalid", "place");
    if (!violations_text_ok(x->n.description, VIOLATIONS_TEXT_MAX))
        return fail(r, "description_invalid", "description");
    if (date_parse(x->n.served_date, &x->served) != 0)
        return fail(r, "served_date_format", "served_date");
    if (x->served > today)
        return fail(r, "served_date_future", "served_date");
    if (x->served < date_today_in_tz(x->occurred, DATE_SHANGHAI_OFFSET_MINUTES))
        return fail(r, "served_before_violation", "served_date");
    gmtime_r(&x->occurred, &tm);
    strftime(x->occurred_s, sizeof x->occurred_s, "%Y-%m-%d %H:%M:%S", &tm);
    x->n.occurred_at = x->occurred_s;
    return 0;
}

/* Does the stored violation say exactly what this request says? */
static bool same_content(const violations_row *v, const record_ctx *x)
{
    return strcmp(v->plate, x->n.plate) == 0 && strcmp(v->vehicle_type, x->n.vehicle_type) == 0 &&
           v->occurred_at == x->occurred && strcmp(v->place, x->n.place) == 0 &&
           strcmp(v->code, x->n.code) == 0 && strcmp(v->description, x->n.description) == 0 &&
           v->fine_fen == x->n.fine_fen && v->points == x->n.points &&
           strcmp(v->agency, x->n.agency) == 0 && strcmp(v->source, x->n.source) == 0 &&
           v->served_date == x->served;
}

static int tx_record(app_req *r, void *arg)
{
    record_ctx *x = arg;
    violations_vehicle veh;
    violations_row v;
    bool found = false, known = false;
    char cls[8];
    int64_t id = 0;
    int32_t today = date_shanghai_today(time(NULL));

    /* Same decision number again: the agency's retry (same content) gets
     * the record; anything else is a conflicting decision. */
    if (violations_sql_get_by_decision(r->db, x->n.decision_no, false, &v, &found) != 0)
        return -1;
    if (found)
        goto existing;
    if (violations_sql_vehicle_by_plate(r->db, x->n.plate, &veh, &found) != 0)
        return -1;
    x->n.vehicle_id = found ? veh.id : 0;
    if (!found) {
        /* Without a registered vehicle the type alone tells the class
         * needed to handle it: it must be one we know. */
        if (violations_sql_class_for_type(r->db, x->n.vehicle_type, cls, &known) != 0)
            return -1;
        if (!known)
            return fail(r, "vehicle_type_unknown", "vehicle_type");
    }
    if (violations_sql_insert(r->db, &x->n, &id) != 0) {
        if (db_error(r->db) != DB_ERR_DUP)
            return -1;
        /* A concurrent request inserted it first (and committed: the
         * insert waited for it); our snapshot may predate it. */
        db_error_clear(r->db);
        if (violations_sql_get_by_decision(r->db, x->n.decision_no, true, &v, &found) != 0)
            return -1;
        if (!found)
            return -1;
        goto existing;
    }
    if (audit_write_id(r, "violations.record", "violation", id, "ok",
                    json_pack("{sssssssI}", "decision_no", x->n.decision_no, "agency", x->n.agency,
                              "by", x->n.recorded_by_kind, "fine_fen", (json_int_t)x->n.fine_fen)) != 0)
        return -1;
    if (violations_sql_get(r->db, id, false, &v, &found) != 0 || !found)
        return -1;
    app_reply_json(r, 201, violations_to_json(&v, today, true));
    return 0;

existing:
    if (!same_content(&v, x))
        return violations_refuse(r, "decision_conflict", NULL, json_pack("{sI}", "id", (json_int_t)v.id));
    app_reply_json(r, 200, violations_to_json(&v, today, true));
    return 0;
}

/* Records a violation sent by the caller, a partner (agency intake) or an
 * operator (window): the route's data. */
void violations_on_record(app_req *r)
{
    record_ctx x;

    memset(&x, 0, sizeof x);
    if (record_parse(r, &x) != 0)
        return;
    x.n.recorded_by_kind = app_route_data(r);
    x.n.recorded_by_id = r->who.id;
    app_tx(r, tx_record, &x);
}

/* ---- reading ---------------------------------------------------------------- */

void violations_on_list_mine(app_req *r)
{
    violations_licence lic;
    violations_listed *rows = NULL;
    bool found = false;
    int n = 0;
    int32_t today = date_shanghai_today(time(NULL));
    char day[DATE_STR_SIZE];

    if (violations_sql_licence_of_citizen(r->db, r->who.id, false, &lic, &found) != 0 ||
        violations_sql_list_for_citizen(r->db, r->who.id, found ? lic.id : 0, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    date_format(today, day);
    /* as_of: the bureau day (Asia/Shanghai) the amounts are computed for */
    app_reply_json(r, 200, json_pack("{soss}", "items", listed_to_json(rows, n, today), "as_of", day));
    free(rows);
}

typedef struct search_ctx {
    const char *by;     /* plate | decision_no | licence_id */
    const char *value;
    int64_t licence_id;
    char plate[VIOLATIONS_PLATE_CANON_SIZE];
} search_ctx;

static int tx_search(app_req *r, void *arg)
{
    search_ctx *x = arg;
    violations_row *rows = NULL;
    int n = 0, rc;
    int32_t today = date_shanghai_today(time(NULL));

    if (strcmp(x->by, "plate") == 0)
        rc = violations_sql_search_plate(r->db, x->value, &rows, &n);
    else if (strcmp(x->by, "decision_no") == 0)
        rc = violations_sql_search_decision(r->db, x->value, &rows, &n);
    else
        rc = violations_sql_search_licence(r->db, x->licence_id, &rows, &n);
    /* Operators reading a person's record leave a trace. */
    if (rc == 0)
        rc = audit_write(r, "violations.search", x->by, x->value, "ok", NULL);
    if (rc == 0)
        app_reply_json(r, 200, json_pack("{so}", "items", rows_to_json(rows, n, today)));
    free(rows);
    return rc;
}

void violations_on_search(app_req *r)
{
    static const char *const keys[] = {"plate", "decision_no", "licence_id"};
    search_ctx x;
    const char *why = NULL;
    int given = 0;

    memset(&x, 0, sizeof x);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = app_query(r, keys[i]);
        if (v == NULL)
            continue;
        given++;
        x.by = keys[i];
        x.value = v;
    }
    if (given != 1) {
        app_fail(r, "search_key_required", NULL, NULL);
        return;
    }
    if (strcmp(x.by, "plate") == 0) {
        if (violations_plate_normalize(x.value, x.plate, &why) != 0) {
            violations_bad_plate(r, why, "plate");
            return;
        }
        x.value = x.plate;
    }
    x.licence_id = app_query_int(r, "licence_id", 0);
    app_tx(r, tx_search, &x);
}

/* ---- handling --------------------------------------------------------------- */

static int tx_handle(app_req *r, void *arg)
{
    const violations_handle_in *in = arg;
    app_actor a = APP_ACTOR(r);
    app_refusal f = {0};
    violations_handled h;
    json_t *out;

    if (violations_handle(r->db, &a, in, &h, &f) != 0)
        return app_fail_refusal(r, &f);
    out = violations_to_json(&h.v, date_shanghai_today(time(NULL)), in->window);
    json_object_set_new(out, "licence",
                        json_pack("{sisssb}", "points", h.licence_points, "status",
                                  h.licence_status, "full_score_study", h.full_score_study));
    json_object_set_new(out, "case",
                        json_pack("{ssss}", "number", h.case_number, "query_code", h.query_code));
    json_object_set_new(out, "tie", json_string(h.tie));
    app_reply_json(r, 200, out);
    return 0;
}

/* The citizen's route (online) and the window's (route data: at a window). */
void violations_on_handle(app_req *r)
{
    violations_handle_in x;
    char *docs_json = NULL;
    json_t *docs, *d;
    size_t i;

    memset(&x, 0, sizeof x);
    x.violation_id = app_path_int(r, 0);
    x.window = *(const bool *)app_route_data(r);
    x.decision_no = app_json_str(r, "decision_no");
    x.licence_id = app_json_int(r, "licence_id", 0);
    docs = json_object_get(r->json, "documents");
    json_array_foreach(docs, i, d) {
        unsigned bit = violations_document_bit(json_string_value(d));
        if (bit == 0 || (x.documents & bit)) {
            fail(r, "documents_invalid", "documents");
            return;
        }
        x.documents |= bit;
    }
    if (json_array_size(docs) > 0)
        docs_json = json_dumps(docs, JSON_COMPACT);
    x.documents_json = docs_json;
    app_tx(r, tx_handle, &x);
    free(docs_json);
}

/* ---- cancelling ---------------------------------------------------------- */

typedef struct cancel_ctx {
    int64_t violation_id;
    const char *reason;
} cancel_ctx;

static int tx_cancel(app_req *r, void *arg)
{
    cancel_ctx *x = arg;
    app_actor a = APP_ACTOR(r);
    app_refusal f = {0};
    violations_row v;

    if (violations_cancel(r->db, &a, x->violation_id, x->reason, &v, &f) != 0)
        return app_fail_refusal(r, &f);
    app_reply_json(r, 200, violations_to_json(&v, date_shanghai_today(time(NULL)), true));
    return 0;
}

void violations_on_cancel(app_req *r)
{
    cancel_ctx x = {app_path_int(r, 0), app_json_str(r, "reason")};

    if (!violations_text_ok(x.reason, VIOLATIONS_TEXT_MAX)) {
        fail(r, "reason_invalid", "reason");
        return;
    }
    app_tx(r, tx_cancel, &x);
}
