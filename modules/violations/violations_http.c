/* violations_http.c - handlers for recording, listing, searching, handling
 * and cancelling violations. Thin: parse and check the request, then run
 * the change in one transaction (app_tx) with its audit record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/cases/cases.h"
#include "modules/payments/payments.h"
#include "modules/people/people.h"
#include "modules/violations/late_fee.h"
#include "modules/violations/violations_internal.h"
#include "modules/violations/violations_rules.h"
#include "modules/violations/violations_sql.h"
#include "server/audit.h"
#include "server/date.h"

#define HANDLE_ITEM "VIO-HANDLE"
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

int violations_audit(app_req *r, const char *action, const char *type, int64_t id,
                     const char *outcome, json_t *detail)
{
    char idbuf[24];
    int rc;

    snprintf(idbuf, sizeof idbuf, "%lld", (long long)id);
    rc = audit_write(r, action, type, idbuf, outcome, detail);
    json_decref(detail);
    return rc;
}

static int not_found(app_req *r)
{
    app_fail(r, "not_found", "No such violation.", NULL);
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
    if (violations_audit(r, "violations.record", "violation", id, "ok",
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

typedef struct handle_ctx {
    int64_t violation_id;
    int64_t licence_id;        /* window: the licence named by the operator */
    const char *decision_no;   /* citizen: the decision in hand (finds it, ties nothing) */
    unsigned documents;        /* window: VIOLATIONS_DOC_* the operator checked */
    char *documents_json;      /* ... as given, compact JSON (malloc'd) or NULL */
    bool window;
} handle_ctx;

/* The class a licence needs for this violation: the registered vehicle's,
 * else the one of its vehicle type. */
static int required_class(app_req *r, const violations_row *v, char cls[8], bool *known)
{
    violations_vehicle veh;
    bool found = false;

    *known = false;
    if (v->vehicle_id) {
        if (violations_sql_vehicle_by_id(r->db, v->vehicle_id, &veh, &found) != 0)
            return -1;
    } else if (violations_sql_vehicle_by_plate(r->db, v->plate, &veh, &found) != 0) {
        return -1;
    }
    if (found && veh.class_required[0]) {
        snprintf(cls, 8, "%s", veh.class_required);
        *known = true;
        return 0;
    }
    return violations_sql_class_for_type(r->db, v->vehicle_type, cls, known);
}

static int refuse_state(app_req *r, const violations_row *v)
{
    const char *code = strcmp(v->state, "cancelled") == 0 ? "violation_cancelled" : "already_handled";
    return violations_refuse(r, code, NULL, json_pack("{ss}", "state", v->state));
}

/* A citizen with the decision number of a violation of a vehicle they have
 * no tie to: refused, and the attempt kept for the supervision rules (the
 * refusal commits alone). */
static int refuse_no_tie(app_req *r, const violations_row *v, int64_t licence_id,
                         const violations_tie *t)
{
    violations_refuse(r, "no_tie_to_vehicle", NULL, NULL);
    return violations_audit(r, "violations.handle", "violation", v->id, "refused",
                               json_pack("{sssIsIss}", "reason", "no_tie_to_vehicle",
                                         "licence_id", (json_int_t)licence_id, "vehicle_id",
                                         (json_int_t)t->vehicle_id, "channel", "app"));
}

static int tx_handle(app_req *r, void *arg)
{
    handle_ctx *x = arg;
    violations_licence lic;
    violations_row v;
    violations_tie tie;
    violations_handling hd;
    bool found = false, owner = false, bound = false, known = false, done = false, full = false;
    bool unrelated, rolled, has_decision;
    const char *why = NULL, *channel = x->window ? "window" : "app", *tie_name;
    char cls[8], cycle_s[DATE_STR_SIZE], ref[24], number[32], query_code[16];
    int32_t today = date_shanghai_today(time(NULL)), cycle;
    int base, total = 0;
    int64_t case_id = 0;
    cases_new cn;
    json_t *out;

    /* Locks in one order everywhere: licence, then violation. */
    if (x->window) {
        if (violations_sql_licence_by_id(r->db, x->licence_id, true, &lic, &found) != 0)
            return -1;
        if (!found)
            return fail(r, "licence_not_found", "licence_id");
    } else if (violations_sql_licence_of_citizen(r->db, r->who.id, true, &lic, &found) != 0) {
        return -1;
    }
    if (violations_sql_get(r->db, x->violation_id, true, &v, &found) != 0)
        return -1;
    if (!found)
        return not_found(r);
    has_decision = x->decision_no && strcmp(x->decision_no, v.decision_no) == 0;
    if (!x->window && lic.id == 0) {
        /* Nothing of this citizen's can be tied to the violation but the
         * vehicle: keep foreign violations invisible first. */
        if (violations_sql_tie(r->db, v.plate, r->who.id, &tie) != 0)
            return -1;
        if (!tie.owner && !tie.binding_id) {
            if (!has_decision)
                return not_found(r);
            return refuse_no_tie(r, &v, 0, &tie);
        }
        return violations_refuse(r, "no_licence", NULL, NULL);
    }
    if (violations_sql_tie(r->db, v.plate, lic.citizen_id, &tie) != 0)
        return -1;
    owner = tie.owner;
    bound = tie.binding_id != 0;
    /* A citizen sees the violations of their vehicles, of the vehicles
     * bound to them and of their licence; any other one only with its
     * decision number in hand (the paper decision served on the driver).
     * Seeing is not taking: points go online only to a licence tied to the
     * vehicle, or anyone who learnt a decision number could take (buy) the
     * points of a stranger's car. */
    if (!x->window && !owner && !bound && v.licence_id != lic.id) {
        if (!has_decision)
            return not_found(r);
        if (strcmp(v.state, "recorded") == 0)
            return refuse_no_tie(r, &v, lic.id, &tie);
    }
    if (strcmp(v.state, "recorded") != 0)
        return refuse_state(r, &v);
    tie_name = violations_handling_tie(owner, bound, x->window, x->documents, &why);
    if (tie_name == NULL) {
        if (strcmp(why, "no_tie_to_vehicle") == 0)
            return refuse_no_tie(r, &v, lic.id, &tie);
        app_fail_ext(r, "documents_required", NULL, "documents",
                     json_pack("{ss}", "reason", "documents_required"));
        return -1;
    }

    /* A finished scoring cycle starts afresh (points below 12 lapse). */
    base = lic.points;
    cycle = lic.cycle_start;
    rolled = violations_cycle_current(lic.cycle_start, today, &cycle);
    if (rolled && strcmp(lic.status, "full_score") != 0 && lic.points < VIOLATIONS_FULL_SCORE)
        base = 0;
    else
        cycle = lic.cycle_start;

    if (violations_licence_usable(lic.status, lic.valid_until, today, x->window, &why) != 0)
        return violations_refuse(r, why, NULL, json_pack("{ss}", "licence_status", lic.status));
    if (required_class(r, &v, cls, &known) != 0)
        return -1;
    if (!known)
        return violations_refuse(r, "vehicle_class_unknown", NULL, NULL);
    if (!violations_classes_cover(lic.classes, cls))
        return violations_refuse(r, "class_not_covered", NULL,
                                 json_pack("{ssss}", "class_required", cls, "licence_classes", lic.classes));
    if (violations_points_apply(base, v.points, x->window, &total, &full, &why) != 0) {
        /* points_invalid: stored points out of range, not the caller's doing */
        if (strcmp(why, "points_would_reach_12") != 0) {
            app_log(1, "violations", "request_id=%s msg=\"points out of range\" licence_points=%d "
                    "violation_points=%d", r->request_id, base, v.points);
            app_fail(r, "internal", NULL, NULL);
            return -1;
        }
        return violations_refuse(r, why, NULL,
                                 json_pack("{sisi}", "licence_points", base, "violation_points", v.points));
    }

    if (violations_sql_mark_handled(r->db, v.id, lic.id, lic.citizen_id, channel, &done) != 0)
        return -1;
    if (!done)
        return violations_refuse(r, "already_handled", NULL, NULL);
    date_format(cycle, cycle_s);
    if (people_licence_set_points(r->db, lic.id, total, cycle_s, full) != 0)
        return -1;

    snprintf(ref, sizeof ref, "%lld", (long long)v.id);
    memset(&cn, 0, sizeof cn);
    cn.item_code = HANDLE_ITEM;
    cn.applicant_id = lic.citizen_id;
    cn.channel = channel;
    cn.outlet_id = x->window ? r->who.outlet_id : 0;
    cn.assisted_kind = x->window ? "operator" : NULL;
    cn.assisted_id = x->window ? r->who.id : 0;
    cn.ref_type = "violation";
    cn.ref_id = ref;
    why = NULL;
    if (cases_create(r->db, &cn, &case_id, number, query_code, &why) != 0) {
        if (why == NULL)
            return -1;
        app_log(1, "violations", "request_id=%s msg=\"cannot open case\" why=%s", r->request_id, why);
        app_fail(r, "service_not_configured", NULL, NULL);
        return -1;
    }
    if (x->window && cases_record_trip(r->db, case_id, r->who.outlet_id, r->who.id) != 0)
        return -1;
    if (violations_sql_set_case(r->db, v.id, case_id) != 0)
        return -1;
    memset(&hd, 0, sizeof hd);
    hd.violation_id = v.id;
    hd.licence_id = lic.id;
    hd.citizen_id = lic.citizen_id;
    hd.plate = v.plate;
    hd.vehicle_id = tie.vehicle_id;
    hd.owner_citizen_id = tie.owner_citizen_id;
    hd.tie = tie_name;
    hd.binding_id = owner ? 0 : tie.binding_id;
    hd.documents = x->window ? x->documents_json : NULL;
    hd.channel = channel;
    hd.operator_id = x->window ? r->who.id : 0;
    hd.outlet_id = x->window ? r->who.outlet_id : 0;
    hd.points = v.points;
    if (violations_sql_handling_insert(r->db, &hd) != 0)
        return -1;
    /* Handling is decided on the spot: the case is done in the same
     * transaction (zero trips online, the one window visit otherwise). */
    why = NULL;
    if (cases_set_state(r->db, case_id, "completed", &why) != 0) {
        if (why == NULL)
            return -1;
        app_log(1, "violations", "request_id=%s msg=\"cannot complete case\" why=%s", r->request_id, why);
        app_fail(r, "internal", NULL, NULL);
        return -1;
    }

    unrelated = !owner && !bound;
    if (violations_audit(r, "violations.handle", "violation", v.id, "ok",
                    json_pack("{sIsssisisbsbss}", "licence_id", (json_int_t)lic.id, "channel", channel,
                              "points", v.points, "licence_points", total, "full_score", full,
                              "unrelated", unrelated, "tie", tie_name)) != 0)
        return -1;
    /* Accepting violations of vehicles one has no tie to is how points are
     * traded: only at a window on the owner's documents, and the
     * supervision rules watch this action. */
    if (unrelated &&
        violations_audit(r, "violations.handle_unrelated", "violation", v.id, "ok",
                    json_pack("{sIsIssso*}", "licence_id", (json_int_t)lic.id, "vehicle_id",
                              (json_int_t)tie.vehicle_id, "channel", channel, "documents",
                              x->documents_json ? json_loads(x->documents_json, 0, NULL)
                                                : NULL)) != 0)
        return -1;
    if (full && strcmp(lic.status, "full_score") != 0 &&
        violations_audit(r, "violations.full_score", "licence", lic.id, "ok",
                    json_pack("{sisI}", "points", total, "violation_id", (json_int_t)v.id)) != 0)
        return -1;

    if (violations_sql_get(r->db, v.id, false, &v, &found) != 0 || !found)
        return -1;
    out = violations_to_json(&v, today, x->window);
    json_object_set_new(out, "licence",
                        json_pack("{sisssb}", "points", total, "status",
                                  full ? "full_score" : lic.status, "full_score_study",
                                  full || lic.full_score_study));
    json_object_set_new(out, "case", json_pack("{ssss}", "number", number, "query_code", query_code));
    json_object_set_new(out, "tie", json_string(tie_name));
    app_reply_json(r, 200, out);
    return 0;
}

/* The citizen's route (online) and the window's (route data: at a window). */
void violations_on_handle(app_req *r)
{
    handle_ctx x;
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
        x.documents_json = json_dumps(docs, JSON_COMPACT);
    app_tx(r, tx_handle, &x);
    free(x.documents_json);
}

/* ---- cancelling ---------------------------------------------------------- */

typedef struct cancel_ctx {
    int64_t violation_id;
    const char *reason;
} cancel_ctx;

static int tx_cancel(app_req *r, void *arg)
{
    cancel_ctx *x = arg;
    violations_row v, locked;
    violations_licence lic;
    bool found = false, done = false, order_closed = false, pending = false, back = false;
    bool lift = false;
    char from[16], ref[24], order_no[40];
    int64_t case_id = 0;
    int points_after = 0;
    const char *why = NULL;
    int32_t today = date_shanghai_today(time(NULL));

    if (violations_sql_get(r->db, x->violation_id, false, &v, &found) != 0)
        return -1;
    if (!found)
        return not_found(r);
    memset(&lic, 0, sizeof lic);
    /* Licence before violation, as everywhere: the points go back. */
    if (v.licence_id &&
        violations_sql_licence_by_id(r->db, v.licence_id, true, &lic, &found) != 0)
        return -1;
    if (violations_sql_get(r->db, x->violation_id, true, &locked, &found) != 0)
        return -1;
    if (!found || (strcmp(locked.state, "recorded") != 0 && strcmp(locked.state, "handled") != 0) ||
        locked.licence_id != v.licence_id)
        return violations_refuse(r, "not_cancellable", NULL,
                                 json_pack("{ss}", "state", found ? locked.state : "unknown"));
    snprintf(from, sizeof from, "%s", locked.state);
    /* A live payment order must not outlive the violation it collects for
     * (violation, then order: the lock order of order creation). An open
     * one is closed; one awaiting the channel's confirmation may already
     * hold the citizen's money, so the cancel waits for the outcome. */
    if (payments_violation_cancel(r->db, &r->who, r->request_id, r->peer, locked.id, &order_closed,
                                  &pending, order_no, sizeof order_no) != 0)
        return -1;
    if (pending) {
        violations_refuse(r, "payment_pending", NULL, json_pack("{ss}", "order_no", order_no));
        /* Nothing changed; commit only the record of the refused attempt. */
        if (violations_audit(r, "violations.cancel", "violation", locked.id, "refused",
                                json_pack("{ssssss}", "from", from, "refused", "payment_pending",
                                          "order_no", order_no)) != 0)
            return -1;
        return 0;
    }
    if (violations_sql_cancel(r->db, locked.id, from, x->reason, &done) != 0)
        return -1;
    if (!done)
        return violations_refuse(r, "not_cancellable", NULL, NULL);
    /* Points go back only into the cycle they were counted in; a full
     * score reached in that cycle is lifted when the licence falls back
     * below 12 (violations_points_on_cancel). */
    if (strcmp(from, "handled") == 0 && lic.id) {
        int32_t handled_day = 0; /* unknown: nothing goes back */
        if (locked.handled_at)
            handled_day = date_today_in_tz(locked.handled_at, DATE_SHANGHAI_OFFSET_MINUTES);
        back = violations_points_on_cancel(lic.points, lic.cycle_start, lic.status, locked.points,
                                           handled_day, today, &points_after, &lift);
        if (back && people_licence_return_points(r->db, lic.id, points_after, lift) != 0)
            return -1;
    }
    snprintf(ref, sizeof ref, "%lld", (long long)locked.id);
    if (cases_find_by_ref(r->db, "violation", ref, &case_id) != 0)
        return -1;
    /* A completed case stays completed: the cancellation is the record. */
    if (case_id && cases_set_state(r->db, case_id, "cancelled", &why) != 0 && why == NULL)
        return -1;
    if (violations_audit(r, "violations.cancel", "violation", locked.id, "ok",
                    json_pack("{sssssIsbss?}", "from", from, "reason", x->reason, "points_returned",
                              (json_int_t)(back ? lic.points - points_after : 0),
                              "full_score_lifted", lift, "order_closed",
                              order_closed ? order_no : NULL)) != 0)
        return -1;
    if (lift && violations_audit(r, "violations.full_score_lifted", "licence", lic.id, "ok",
                            json_pack("{sisI}", "points", points_after, "violation_id",
                                      (json_int_t)locked.id)) != 0)
        return -1;
    if (violations_sql_get(r->db, locked.id, false, &v, &found) != 0 || !found)
        return -1;
    app_reply_json(r, 200, violations_to_json(&v, today, true));
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
