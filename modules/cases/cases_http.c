/* cases_http.c - case endpoints: the applicant's cases, the public progress
 * query, check-ins (trips), operators' state changes, ratings and
 * rectification answers, alerts. Handlers are thin: parse, check, call the
 * logic in cases.c / cases_sql.c inside app_tx, reply. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "modules/cases/cases.h"
#include "modules/cases/cases_http.h"
#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_sql.h"
#include "modules/catalog/catalog.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"

/* ---- helpers ------------------------------------------------------------- */



static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *id_or_null(const db_rows *rows, int i, int col)
{
    return db_cell(rows, i, col) ? json_integer(db_cell_i64(rows, i, col)) : json_null();
}

static json_t *json_text_or_empty(const char *s)
{
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    return v ? v : json_array();
}

static void actor_of(const app_req *r, char *out, size_t cap)
{
    snprintf(out, cap, "%s", r->who.name[0] ? r->who.name : "system");
}

static void reply_db(app_req *r)
{
    app_problem_db(r);
}

static int not_found(app_req *r)
{
    app_problem(r, 404, "case_not_found", "Case not found", NULL, NULL);
    return -1;
}

/* Loads a case by number (path parameter 0) into *rows. Citizens see only
 * their own (a foreign case answers 404 so numbers cannot be probed).
 * Returns 0, or -1 with a problem set. */
static int load_case(app_req *r, db_rows **rows)
{
    const char *number = app_param(r, 0);
    *rows = NULL;
    if (!cases_number_ok(number))
        return not_found(r);
    if (cases_sql_get_by_number(r->db, number, rows) != 0) {
        reply_db(r);
        return -1;
    }
    if ((*rows)->nrows == 0 ||
        (r->who.kind == CALLER_CITIZEN && db_cell_i64(*rows, 0, CC_APPLICANT) != r->who.id)) {
        db_rows_free(*rows);
        *rows = NULL;
        return not_found(r);
    }
    return 0;
}

/* The next step of row i of a cases_sql_get* result. */
static cases_next row_next_step(const db_rows *rows, int i)
{
    return cases_next_step(db_cell(rows, i, CC_STATE), db_cell(rows, i, CC_SUPPLY_STATE),
                           (int)db_cell_i64(rows, i, CC_ITEM_TRIPS), (int)db_cell_i64(rows, i, CC_TRIPS),
                           db_cell_i64(rows, i, CC_RATED) != 0);
}

/* The case as its applicant (or an operator) sees it. No personal
 * identifiers: the applicant is only an id. */
static json_t *case_json(const db_rows *rows, int i, bool details)
{
    cases_next next = row_next_step(rows, i);
    json_t *o = json_object();
    json_object_set_new(o, "number", json_string(db_cell(rows, i, CC_NUMBER)));
    json_object_set_new(o, "item", json_pack("{ss ss si}", "code", db_cell(rows, i, CC_ITEM), "name",
                                             db_cell(rows, i, CC_ITEM_NAME), "version",
                                             (int)db_cell_i64(rows, i, CC_ITEM_VERSION)));
    json_object_set_new(o, "category", json_string(db_cell(rows, i, CC_CATEGORY)));
    json_object_set_new(o, "channel", json_string(db_cell(rows, i, CC_CHANNEL)));
    json_object_set_new(o, "outlet_id", id_or_null(rows, i, CC_OUTLET));
    json_object_set_new(o, "assisted_by", str_or_null(db_cell(rows, i, CC_ASSISTED_KIND)));
    json_object_set_new(o, "state", json_string(db_cell(rows, i, CC_STATE)));
    json_object_set_new(o, "state_reason", str_or_null(db_cell(rows, i, CC_REASON)));
    json_object_set_new(o, "next_step", json_pack("{ssss}", "code", next.code, "text", next.text));
    json_object_set_new(o, "submitted_at", str_or_null(db_cell(rows, i, CC_SUBMITTED_AT)));
    json_object_set_new(o, "promised_days", json_integer(db_cell_i64(rows, i, CC_PROMISED)));
    json_object_set_new(o, "deadline", str_or_null(db_cell(rows, i, CC_DEADLINE)));
    json_object_set_new(o, "accepted_at", str_or_null(db_cell(rows, i, CC_ACCEPTED_AT)));
    json_object_set_new(o, "completed_at", str_or_null(db_cell(rows, i, CC_COMPLETED_AT)));
    json_object_set_new(o, "trips", json_integer(db_cell_i64(rows, i, CC_TRIPS)));
    json_object_set_new(o, "time_warning", json_boolean(db_cell_i64(rows, i, CC_WARNED)));
    json_object_set_new(o, "overdue", json_boolean(db_cell_i64(rows, i, CC_OVERDUE)));
    if (!details)
        return o;
    json_object_set_new(o, "query_code", json_string(db_cell(rows, i, CC_QUERY_CODE)));
    json_object_set_new(o, "missing_materials", json_text_or_empty(db_cell(rows, i, CC_MISSING)));
    json_object_set_new(o, "supply_due", str_or_null(db_cell(rows, i, CC_SUPPLY_DUE)));
    json_object_set_new(o, "supply_state", json_string(db_cell(rows, i, CC_SUPPLY_STATE)));
    json_object_set_new(o, "commitment_materials",
                        json_text_or_empty(db_cell(rows, i, CC_COMMITMENT)));
    return o;
}

/* History, trips, rating and rectification of one case; -1 on db error. */
static int add_case_details(db_conn *c, int64_t id, json_t *o)
{
    db_rows *ev = NULL, *tr = NULL, *ra = NULL, *re = NULL;
    json_t *a;
    int rc = -1;

    if (cases_sql_events(c, id, &ev) != 0 || cases_sql_trips(c, id, &tr) != 0 ||
        cases_sql_rating_get(c, id, &ra) != 0 || cases_sql_rect_by_case(c, id, &re) != 0)
        goto done;
    a = json_array();
    for (int i = 0; i < ev->nrows; i++)
        json_array_append_new(a, json_pack("{ss ss so so so}", "at", db_cell(ev, i, 0), "kind",
                                           db_cell(ev, i, 1), "from", str_or_null(db_cell(ev, i, 2)),
                                           "to", str_or_null(db_cell(ev, i, 3)), "note",
                                           str_or_null(db_cell(ev, i, 4))));
    json_object_set_new(o, "history", a);
    a = json_array();
    for (int i = 0; i < tr->nrows; i++)
        json_array_append_new(a, json_pack("{ss so so}", "at", db_cell(tr, i, 0), "outlet_id",
                                           id_or_null(tr, i, 1), "outlet",
                                           str_or_null(db_cell(tr, i, 2))));
    json_object_set_new(o, "visits", a);
    json_object_set_new(o, "rating",
                        ra->nrows ? json_pack("{sIssss}", "score", (json_int_t)db_cell_i64(ra, 0, 0),
                                              "comment", db_cell(ra, 0, 1), "created_at",
                                              db_cell(ra, 0, 2))
                                  : json_null());
    json_object_set_new(o, "rectification",
                        re->nrows ? json_pack("{sIss ss so so}", "id", (json_int_t)db_cell_i64(re, 0, 0),
                                              "state", db_cell(re, 0, 1), "due_at", db_cell(re, 0, 2),
                                              "answer", str_or_null(db_cell(re, 0, 3)),
                                              "answered_at", str_or_null(db_cell(re, 0, 4)))
                                  : json_null());
    rc = 0;
done:
    db_rows_free(ev);
    db_rows_free(tr);
    db_rows_free(ra);
    db_rows_free(re);
    return rc;
}

/* ---- GET /v1/me/cases ----------------------------------------------------- */

void cases_on_my_cases(app_req *r)
{
    const char *lim = app_query(r, "limit"), *before = app_query(r, "before");
    long long limit = 20, before_id = 0;
    db_rows *rows = NULL;
    json_t *items;

    if (lim && cases_parse_query_int(lim, CASES_LIST_LIMIT_MIN, CASES_LIST_LIMIT_MAX, &limit) != 0) {
        app_problem(r, 400, "bad_limit", "Invalid limit", "limit is a whole number, 1..100.", "limit");
        return;
    }
    if (before && cases_parse_query_int(before, 1, LLONG_MAX, &before_id) != 0) {
        app_problem(r, 400, "bad_cursor", "Invalid cursor",
                    "before is the next_before of the previous page.", "before");
        return;
    }
    if (cases_sql_list_by_applicant(r->db, r->who.id, before_id, (int)limit, &rows) != 0) {
        reply_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(items, case_json(rows, i, false));
    app_reply_json(r, 200,
                   json_pack("{so so}", "items", items, "next_before",
                             rows->nrows == limit
                                 ? json_integer(db_cell_i64(rows, rows->nrows - 1, CC_ID))
                                 : json_null()));
    db_rows_free(rows);
}

/* ---- GET /v1/cases/{number} ---------------------------------------------- */

static int tx_read_case(app_req *r, void *arg)
{
    db_rows *rows = NULL;
    json_t *o = NULL;
    int rc = -1;
    (void)arg;

    if (load_case(r, &rows) != 0)
        return -1;
    o = case_json(rows, 0, true);
    if (r->who.kind != CALLER_CITIZEN)
        json_object_set_new(o, "applicant_id", json_integer(db_cell_i64(rows, 0, CC_APPLICANT)));
    if (add_case_details(r->db, db_cell_i64(rows, 0, CC_ID), o) != 0)
        goto done;
    /* Operators reading a person's case leave a trace (README: operator
     * reads of a person's data are audited). */
    if (r->who.kind == CALLER_OPERATOR &&
        audit_write(r, "cases.read", "case", db_cell(rows, 0, CC_NUMBER), "ok", NULL) != 0)
        goto done;
    app_reply_json(r, 200, o);
    o = NULL;
    rc = 0;
done:
    json_decref(o);
    db_rows_free(rows);
    return rc;
}

void cases_on_get_case(app_req *r)
{
    if (r->who.kind == CALLER_OPERATOR)
        app_tx(r, tx_read_case, NULL);
    else
        tx_read_case(r, NULL);
}

/* ---- GET /v1/cases/{number}/progress?code= --------------------------------- */

void cases_on_progress(app_req *r)
{
    const char *code = app_query(r, "code");
    const char *number = app_param(r, 0);
    db_rows *rows = NULL;
    cases_next next;
    json_t *o;

    if (!cases_number_ok(number) || code == NULL) {
        not_found(r);
        return;
    }
    if (cases_sql_get_by_number(r->db, number, &rows) != 0) {
        reply_db(r);
        return;
    }
    /* A wrong code looks exactly like an unknown number. The comparison is
     * constant-time so the code cannot be guessed character by character. */
    if (rows->nrows == 0 || !crypto_equal(code, strlen(code), db_cell(rows, 0, CC_QUERY_CODE),
                                          strlen(db_cell(rows, 0, CC_QUERY_CODE)))) {
        db_rows_free(rows);
        not_found(r);
        return;
    }
    next = row_next_step(rows, 0);
    o = json_object();
    json_object_set_new(o, "number", json_string(db_cell(rows, 0, CC_NUMBER)));
    json_object_set_new(o, "item", json_pack("{ssss}", "code", db_cell(rows, 0, CC_ITEM), "name",
                                             db_cell(rows, 0, CC_ITEM_NAME)));
    json_object_set_new(o, "state", json_string(db_cell(rows, 0, CC_STATE)));
    json_object_set_new(o, "next_step", json_pack("{ssss}", "code", next.code, "text", next.text));
    json_object_set_new(o, "submitted_day", json_string(db_cell(rows, 0, CC_SUBMITTED_DAY)));
    json_object_set_new(o, "deadline", json_string(db_cell(rows, 0, CC_DEADLINE)));
    json_object_set_new(o, "completed_day", str_or_null(db_cell(rows, 0, CC_COMPLETED_DAY)));
    app_reply_json(r, 200, o);
    db_rows_free(rows);
}

/* ---- POST /v1/cases/{number}/trips ----------------------------------------- */

/* The kind of outlet a caller stands for, as a catalog channel (a rating
 * comes from it, a visit happens at it); NULL if none. */
static const char *caller_channel(const app_principal *who)
{
    static const struct { unsigned bit; const char *channel; } partners[] = {
        {PARTNER_POST, "post"}, {PARTNER_INSURER, "insurer"}, {PARTNER_HOSPITAL, "hospital"},
        {PARTNER_COURT, "court"}, {PARTNER_DEALER, "dealer"}, {PARTNER_STATION, "station"},
    };
    if (who->kind == CALLER_CITIZEN)
        return "app";
    if (who->kind == CALLER_OPERATOR)
        return (who->roles & ROLE_INSPECTOR) && !(who->roles & ROLE_WINDOW) ? "station" : "window";
    if (who->kind == CALLER_PARTNER)
        for (size_t i = 0; i < sizeof partners / sizeof partners[0]; i++)
            if (who->partner_type & partners[i].bit)
                return partners[i].channel;
    return NULL;
}

static const struct {
    const char *reason, *title, *detail;
} TRIP_REFUSALS[] = {
    {"online_only", "Online-only business",
     "This service is offered in the app only: it never takes a visit."},
    {"no_outlet", "No outlet", "Only a window or partner outlet records visits."},
    {"other_outlet", "Case of another outlet",
     "Only the outlet that serves the case records its visits."},
    {"channel_not_offered", "Not offered at this outlet",
     "This service is not offered at this kind of outlet."},
    {"query_code_required", "Applicant's query code required",
     "The first visit of a case filed online needs the query code the applicant shows."},
    {"query_code_mismatch", "Wrong query code", "This is not the case's query code."},
    {"case_closed", "Case closed", "Visits are recorded only while the case is open."},
};

/* A refused check-in: the answer, and its audit record (committed alone). */
static int trip_refused(app_req *r, const char *why, const char *number, const char *state)
{
    const char *title = "Refused", *detail = NULL;
    json_t *ad;
    int rc;

    for (size_t i = 0; i < sizeof TRIP_REFUSALS / sizeof TRIP_REFUSALS[0]; i++)
        if (strcmp(why, TRIP_REFUSALS[i].reason) == 0) {
            title = TRIP_REFUSALS[i].title;
            detail = TRIP_REFUSALS[i].detail;
        }
    app_problem_ext(r, cases_trip_refusal_status(why), why, title, detail, NULL,
                    strcmp(why, "case_closed") == 0 ? json_pack("{ss}", "state", state) : NULL);
    ad = json_pack("{sssI}", "reason", why, "outlet_id", (json_int_t)r->who.outlet_id);
    rc = audit_write(r, "cases.trip", "case", number, "refused", ad);
    json_decref(ad);
    return rc;
}

typedef struct trip_ctx {
    const char *code; /* the applicant's query code, NULL if not given */
} trip_ctx;

static int tx_trip(app_req *r, void *arg)
{
    const char *code = ((const trip_ctx *)arg)->code;
    const char *channel = caller_channel(&r->who), *why, *qc;
    db_rows *rows = NULL, *lk = NULL;
    catalog_ref item = {0};
    bool found = false, counted = false, assigned = false;
    char day_s[DATE_STR_SIZE];
    cases_trip_in in;
    int64_t id, trips;
    int rc = -1;

    if (load_case(r, &rows) != 0)
        return -1;
    id = db_cell_i64(rows, 0, CC_ID);
    /* Decide on the locked row: the snapshot read above may predate a
     * concurrent cancellation, check-in or outlet assignment. */
    if (cases_sql_lock_case(r->db, id, &lk) != 0)
        goto done;
    if (lk->nrows == 0) {
        not_found(r);
        goto done;
    }
    if (catalog_version_get(r->db, db_cell_i64(lk, 0, CL_VERSION_ID), &item, &found) != 0)
        goto done;
    if (!found) {
        app_problem(r, 500, "internal", "Internal error", NULL, NULL);
        goto done;
    }
    qc = db_cell(lk, 0, CL_QUERY_CODE);
    memset(&in, 0, sizeof in);
    in.state = db_cell(lk, 0, CL_STATE);
    in.online_only = cases_online_only(item.channels);
    in.case_outlet = db_cell_i64(lk, 0, CL_OUTLET);
    in.caller_outlet = r->who.outlet_id;
    in.channel_offered = channel && catalog_channel_offered(item.channels, channel);
    in.code_given = code != NULL;
    /* Constant-time, like the progress query: the code is a secret. */
    in.code_ok = code && qc && crypto_equal(code, strlen(code), qc, strlen(qc));
    why = cases_trip_refusal(&in);
    if (why) {
        rc = trip_refused(r, why, db_cell(rows, 0, CC_NUMBER), in.state);
        goto done;
    }
    if (in.case_outlet == 0) {
        /* The applicant showed the code here: this outlet serves the case
         * from now on (its visits, transitions and rating). */
        if (cases_sql_set_outlet(r->db, id, r->who.outlet_id, &assigned) != 0)
            goto done;
        if (!assigned) { /* cannot happen under the row lock; kept as a guard */
            app_problem(r, 409, "other_outlet", "Case of another outlet", NULL, NULL);
            goto done;
        }
        if (cases_sql_event(r->db, id, "outlet_assigned", NULL, NULL, r->who.name, channel) != 0)
            goto done;
    }
    date_format(date_shanghai_today(time(NULL)), day_s);
    if (cases_sql_add_trip(r->db, id, r->who.outlet_id,
                           r->who.kind == CALLER_OPERATOR ? r->who.id : 0,
                           r->who.kind == CALLER_PARTNER ? r->who.id : 0, day_s, "",
                           &counted) != 0)
        goto done;
    trips = db_cell_i64(lk, 0, CL_TRIPS) + (counted ? 1 : 0);
    if (audit_write_owned(r, "cases.trip", "case", db_cell(rows, 0, CC_NUMBER),
                          json_pack("{sIsssbsb}", "outlet_id", (json_int_t)r->who.outlet_id,
                                    "visit_day", day_s, "counted", counted, "outlet_assigned",
                                    assigned)) != 0)
        goto done;
    /* The same visit again (another terminal, a retry without the key) is
     * answered, not counted: 200 instead of 201. */
    app_reply_json(r, counted ? 201 : 200,
                   json_pack("{sssIsIsssb}", "number", db_cell(rows, 0, CC_NUMBER), "trips",
                             (json_int_t)trips, "outlet_id", (json_int_t)r->who.outlet_id,
                             "visit_day", day_s, "counted", counted));
    rc = 0;
done:
    catalog_ref_clear(&item);
    db_rows_free(lk);
    db_rows_free(rows);
    return rc;
}

/* The body is optional: none, or {"query_code": "..."} (needed on the
 * first visit of a case filed online). Parsed here because the route takes
 * a bodiless POST too; r->json is freed with the request. -1 with a
 * problem set. */
static int trip_body(app_req *r)
{
    static const app_jfield fields[] = {{"query_code", JF_STRING, false, 16}};
    const char *ct = app_header(r, "Content-Type");

    if (r->body_len == 0)
        return 0;
    if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
        (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
        app_problem(r, 415, "unsupported_media_type", "Unsupported media type",
                    "Send the body as application/json.", NULL);
        return -1;
    }
    r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
    if (r->json == NULL || !json_is_object(r->json)) {
        app_problem(r, 400, "malformed_json", "Malformed JSON", "The body is a JSON object.", NULL);
        return -1;
    }
    return app_json_check(r, fields, APP_LEN(fields));
}

void cases_on_trip(app_req *r)
{
    trip_ctx x;
    if (trip_body(r) != 0)
        return;
    x.code = app_json_str(r, "query_code");
    app_tx(r, tx_trip, &x);
}

/* ---- POST /v1/cases/{number}/transitions ----------------------------------- */

/* Operators act for their own outlet; cases filed online (no outlet) are
 * handled by any back office; supervisors may act on every case. */
static bool operator_may_act(const app_req *r, int64_t case_outlet)
{
    if (r->who.roles & ROLE_SUPERVISOR)
        return true;
    return case_outlet == 0 || case_outlet == r->who.outlet_id;
}

/* Checks a list of material names against the filed catalog version.
 * commitment: names must allow a signed commitment; else they must be
 * non-key. On success *out is the normalised JSON text (malloc'd) or NULL
 * for an empty list. */
static int check_materials(app_req *r, const catalog_ref *item, const char *field, bool commitment,
                           char **out)
{
    json_t *a = json_object_get(r->json, field), *v;
    size_t i;
    bool key = false, can_commit = false;

    *out = NULL;
    if (a == NULL || json_array_size(a) == 0)
        return 0;
    if (commitment ? !item->allow_commitment : !item->allow_missing) {
        app_problem(r, 422, commitment ? "commitment_not_allowed" : "missing_not_allowed",
                    commitment ? "Commitment not allowed" : "Missing materials not allowed",
                    "This service item does not allow it.", field);
        return -1;
    }
    json_array_foreach(a, i, v) {
        const char *name = json_string_value(v);
        if (name == NULL || !catalog_material_find(item->materials, name, &key, &can_commit)) {
            app_problem(r, 422, "unknown_material", "Unknown material",
                        "Each entry must name a material of the service item.", field);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(a, j)), name) == 0) {
                app_problem(r, 400, "duplicate_material", "Duplicate material", NULL, field);
                return -1;
            }
        if (commitment && !can_commit) {
            app_problem(r, 422, "commitment_not_allowed", "Commitment not allowed",
                        "This material cannot be replaced by a signed commitment.", field);
            return -1;
        }
        if (!commitment && key) {
            app_problem(r, 422, "key_material_missing", "Key material missing",
                        "Key materials must be present at acceptance.", field);
            return -1;
        }
    }
    *out = json_dumps(a, JSON_COMPACT);
    return 0;
}

static bool json_has(const json_t *a, const json_t *v)
{
    size_t i;
    json_t *m;
    json_array_foreach(a, i, m)
        if (json_equal(m, v))
            return true;
    return false;
}

/* Completion while materials are still awaited: each one must be covered
 * by the applicant's signed commitment, given now in "commitment" (where
 * the item and the material allow one) and recorded; otherwise 409
 * materials_missing lists them. Decided on the locked row. *committed is
 * set when a commitment was recorded. 0 to go on; -1 with a problem set or
 * a database error. */
static int settle_missing(app_req *r, const catalog_ref *item, int64_t id, bool *committed)
{
    json_t *given = json_object_get(r->json, "commitment"), *missing = NULL, *left = NULL;
    json_t *can = NULL, *all = NULL, *v;
    db_rows *lk = NULL;
    char *commit = NULL, *all_s = NULL;
    bool key = false, can_commit = false;
    size_t i;
    int rc = -1;

    *committed = false;
    if (check_materials(r, item, "commitment", true, &commit) != 0)
        return -1;
    if (cases_sql_lock_case(r->db, id, &lk) != 0)
        goto done;
    if (lk->nrows == 0) {
        not_found(r);
        goto done;
    }
    if (!cases_supply_open(db_cell(lk, 0, CL_SUPPLY_STATE))) {
        if (commit) {
            app_problem(r, 409, "nothing_missing", "Nothing missing",
                        "This case has no materials outstanding to commit to.", "commitment");
            goto done;
        }
        rc = 0;
        goto done;
    }
    missing = json_text_or_empty(db_cell(lk, 0, CL_MISSING));
    json_array_foreach(given, i, v) {
        if (!json_has(missing, v)) {
            app_problem(r, 422, "not_missing", "Material not outstanding",
                        "Each entry must be one of the case's missing materials.", "commitment");
            goto done;
        }
    }
    left = json_array();
    can = json_array();
    json_array_foreach(missing, i, v) {
        if (json_has(given, v))
            continue;
        json_array_append(left, v);
        if (item->allow_commitment && json_is_string(v) &&
            catalog_material_find(item->materials, json_string_value(v), &key, &can_commit) &&
            can_commit)
            json_array_append(can, v);
    }
    if (json_array_size(left) > 0) {
        app_problem_ext(r, 409, "materials_missing", "Materials missing",
                        "Materials are still missing: supply them, or record the applicant's "
                        "signed commitment for those that allow one.",
                        NULL, json_pack("{sOsO}", "missing", left, "commitment_possible", can));
        goto done;
    }
    /* Everything outstanding is committed to: record it with the commitments
     * made at acceptance. */
    all = json_text_or_empty(db_cell(lk, 0, CL_COMMITMENT));
    json_array_foreach(given, i, v)
        if (!json_has(all, v))
            json_array_append(all, v);
    all_s = json_dumps(all, JSON_COMPACT);
    if (cases_sql_set_committed(r->db, id, all_s) != 0 ||
        cases_sql_event(r->db, id, "committed", NULL, NULL, r->who.name, NULL) != 0)
        goto done;
    *committed = true;
    rc = 0;
done:
    free(all_s);
    free(commit);
    json_decref(all);
    json_decref(can);
    json_decref(left);
    json_decref(missing);
    db_rows_free(lk);
    return rc;
}

static int tx_transition(app_req *r, void *arg)
{
    db_rows *rows = NULL;
    catalog_ref item = {0};
    bool found = false;
    const char *to = app_json_str(r, "to"), *reason = app_json_str(r, "reason"), *why = NULL;
    char *missing = NULL, *commit = NULL;
    char actor[64], due_s[DATE_STR_SIZE];
    bool completing = strcmp(to, "completed") == 0, committed = false;
    int64_t id;
    int rc = -1;
    (void)arg;

    if (load_case(r, &rows) != 0)
        return -1;
    id = db_cell_i64(rows, 0, CC_ID);
    if (!operator_may_act(r, db_cell_i64(rows, 0, CC_OUTLET))) {
        app_problem(r, 403, "other_outlet", "Case of another outlet",
                    "Only the outlet that took the case (or supervision) may change it.", NULL);
        goto done;
    }
    if ((json_object_get(r->json, "missing") && strcmp(to, "accepted") != 0) ||
        (json_object_get(r->json, "commitment") && strcmp(to, "accepted") != 0 && !completing)) {
        app_problem(r, 400, "materials_only_on_accept", "Materials only on acceptance",
                    "missing goes with to=accepted; commitment with to=accepted or to=completed.",
                    "to");
        goto done;
    }
    if (catalog_version_get(r->db, db_cell_i64(rows, 0, CC_VERSION_ID), &item, &found) != 0)
        goto done;
    if (!found) {
        app_problem(r, 500, "internal", "Internal error", NULL, NULL);
        goto done;
    }
    if (completing) {
        if (settle_missing(r, &item, id, &committed) != 0)
            goto done;
    } else if (check_materials(r, &item, "missing", false, &missing) != 0 ||
               check_materials(r, &item, "commitment", true, &commit) != 0) {
        goto done;
    }
    actor_of(r, actor, sizeof actor);
    if (cases_move(r->db, id, to, reason, actor, &why) != 0) {
        if (why && strcmp(why, "unknown_case") == 0)
            not_found(r);
        else if (why && strcmp(why, "materials_missing") == 0)
            app_problem(r, 409, "materials_missing", "Materials missing",
                        "Materials are still missing: supply them or record a commitment.", NULL);
        else if (why)
            app_problem(r, 409, "bad_transition", "Transition not allowed",
                        "The case cannot move to that state from its current one.", "to");
        goto done;
    }
    if (missing || commit) {
        /* The applicant commits to supply the missing materials within
         * cases.supply_days working days from today. */
        int32_t due = cases_add_workdays(cases_calendar_current(), date_shanghai_today(time(NULL)),
                                         (int)cases_conf.supply_days);
        date_format(due, due_s);
        if (cases_sql_set_acceptance(r->db, id, missing, missing ? due_s : NULL, commit) != 0)
            goto done;
    }
    if (audit_write_owned(r, "cases.transition", "case", db_cell(rows, 0, CC_NUMBER),
                          json_pack("{sssssb}", "from", db_cell(rows, 0, CC_STATE), "to", to,
                                    "committed", committed)) != 0)
        goto done;
    db_rows_free(rows);
    rows = NULL;
    if (load_case(r, &rows) != 0)
        goto done;
    app_reply_json(r, 200, case_json(rows, 0, true));
    rc = 0;
done:
    free(missing);
    free(commit);
    catalog_ref_clear(&item);
    db_rows_free(rows);
    return rc;
}

void cases_on_transition(app_req *r)
{
    static const app_jfield fields[] = {
        {"to", JF_STRING, true, 16},
        {"reason", JF_STRING, false, 255},
        {"missing", JF_ARRAY, false, 0},
        {"commitment", JF_ARRAY, false, 0},
    };
    const char *to;
    if (app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    to = app_json_str(r, "to");
    if (!cases_state_known(to) || strcmp(to, "submitted") == 0) {
        app_problem(r, 400, "bad_state", "Unknown target state",
                    "to is accepted, in_progress, completed, rejected or cancelled.", "to");
        return;
    }
    if (strcmp(to, "rejected") == 0 && (app_json_str(r, "reason") == NULL || app_json_str(r, "reason")[0] == '\0')) {
        app_problem(r, 400, "reason_required", "Reason required", "A rejection states its reason.",
                    "reason");
        return;
    }
    app_tx(r, tx_transition, NULL);
}

/* ---- POST /v1/cases/{number}/supplements ----------------------------------- */

static int tx_supplement(app_req *r, void *arg)
{
    db_rows *rows = NULL, *lk = NULL;
    json_t *missing = NULL, *left = NULL, *given = json_object_get(r->json, "materials"), *v;
    char *left_s = NULL;
    const char *supply_state;
    size_t i;
    int rc = -1;
    (void)arg;

    if (load_case(r, &rows) != 0)
        return -1;
    if (!operator_may_act(r, db_cell_i64(rows, 0, CC_OUTLET))) {
        app_problem(r, 403, "other_outlet", "Case of another outlet", NULL, NULL);
        goto done;
    }
    /* Read-modify-write of the missing list: read it from the locked row
     * (the latest committed value), never from the snapshot above, or two
     * concurrent supplements would each drop only their own material. */
    if (cases_sql_lock_case(r->db, db_cell_i64(rows, 0, CC_ID), &lk) != 0)
        goto done;
    if (lk->nrows == 0) {
        not_found(r);
        goto done;
    }
    /* Materials of a cancelled, rejected or completed case are no longer
     * awaited: decided on the locked row, like the other state checks. */
    if (!cases_state_open(db_cell(lk, 0, CL_STATE))) {
        app_problem_ext(r, 409, "case_closed", "Case closed",
                        "Materials can only be supplied while the case is open.", NULL,
                        json_pack("{ss}", "state", db_cell(lk, 0, CL_STATE)));
        goto done;
    }
    supply_state = db_cell(lk, 0, CL_SUPPLY_STATE);
    missing = json_text_or_empty(db_cell(lk, 0, CL_MISSING));
    if (json_array_size(missing) == 0 || strcmp(supply_state, "supplied") == 0) {
        app_problem(r, 409, "nothing_missing", "Nothing to supply",
                    "This case has no materials outstanding.", NULL);
        goto done;
    }
    json_array_foreach(given, i, v) {
        bool in = false;
        size_t j;
        json_t *m;
        json_array_foreach(missing, j, m)
            if (json_is_string(v) && json_equal(m, v))
                in = true;
        if (!in) {
            app_problem(r, 422, "not_missing", "Material not outstanding",
                        "Each entry must be one of the case's missing materials.", "materials");
            goto done;
        }
    }
    left = json_array();
    json_array_foreach(missing, i, v) {
        bool supplied = false;
        size_t j;
        json_t *g;
        json_array_foreach(given, j, g)
            if (json_equal(g, v))
                supplied = true;
        if (!supplied)
            json_array_append(left, v);
    }
    left_s = json_dumps(left, JSON_COMPACT);
    if (cases_sql_set_missing(r->db, db_cell_i64(rows, 0, CC_ID), left_s, json_array_size(left) == 0) != 0)
        goto done;
    if (cases_sql_event(r->db, db_cell_i64(rows, 0, CC_ID), "supplied", NULL, NULL, r->who.name,
                        json_array_size(left) == 0 ? "all" : "partial") != 0)
        goto done;
    if (audit_write(r, "cases.supplement", "case", db_cell(rows, 0, CC_NUMBER), "ok", NULL) != 0)
        goto done;
    app_reply_json(r, 200, json_pack("{sssOss}", "number", db_cell(rows, 0, CC_NUMBER),
                                     "missing_materials", left, "supply_state",
                                     json_array_size(left) == 0 ? "supplied" : supply_state));
    rc = 0;
done:
    free(left_s);
    json_decref(left);
    json_decref(missing);
    db_rows_free(lk);
    db_rows_free(rows);
    return rc;
}

void cases_on_supplement(app_req *r)
{
    static const app_jfield fields[] = {{"materials", JF_ARRAY, true, 0}};
    if (app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    if (json_array_size(json_object_get(r->json, "materials")) == 0) {
        app_problem(r, 400, "materials_required", "Materials required", NULL, "materials");
        return;
    }
    app_tx(r, tx_supplement, NULL);
}

/* ---- POST /v1/cases/{number}/rating ---------------------------------------- */

static int tx_rating(app_req *r, void *arg)
{
    const char *channel = "app";
    db_rows *rows = NULL, *ra = NULL;
    const char *comment = app_json_str(r, "comment");
    int score = (int)app_json_int(r, "score", 0);
    int64_t id, rect_id = 0;
    char st[16];
    bool found = false;
    json_t *rect = NULL;
    int rc = -1;
    (void)arg;

    if (load_case(r, &rows) != 0)
        return -1;
    id = db_cell_i64(rows, 0, CC_ID);
    /* From any channel: the applicant in the app, or on a terminal at the
     * window or partner outlet that handled the case (staff there submit
     * the applicant's own score; anywhere else they may not). */
    if (r->who.kind != CALLER_CITIZEN) {
        channel = caller_channel(&r->who);
        if (channel == NULL || db_cell(rows, 0, CC_OUTLET) == NULL ||
            db_cell_i64(rows, 0, CC_OUTLET) != r->who.outlet_id) {
            app_problem(r, 403, "not_your_outlet", "Forbidden",
                        "A case is rated at the outlet that handled it, or in the app.", NULL);
            goto done;
        }
    }
    /* The case row lock serialises two ratings of one case; the second
     * answers 409 (found below, or refused by the primary key when this
     * transaction's snapshot predates the first one's commit). */
    if (cases_sql_lock_state(r->db, id, st, &found) != 0)
        goto done;
    if (strcmp(st, "completed") != 0) {
        app_problem(r, 409, "case_not_completed", "Case not completed",
                    "A case can be rated once it is completed.", NULL);
        goto done;
    }
    if (cases_sql_rating_get(r->db, id, &ra) != 0)
        goto done;
    if (ra->nrows > 0) {
        app_problem(r, 409, "already_rated", "Already rated", "Each case is rated once.", NULL);
        goto done;
    }
    if (cases_sql_rating_insert(r->db, id, db_cell_i64(rows, 0, CC_APPLICANT), channel,
                                r->who.kind == CALLER_OPERATOR ? "operator"
                                : r->who.kind == CALLER_PARTNER ? "partner" : NULL,
                                r->who.id, score, comment ? comment : "") != 0) {
        /* The check above reads the transaction's snapshot, which may
         * predate a concurrent rating; the primary key decides. */
        if (db_error(r->db) == DB_ERR_DUP) {
            db_error_clear(r->db);
            app_problem(r, 409, "already_rated", "Already rated", "Each case is rated once.", NULL);
        }
        goto done;
    }
    if (score <= CASES_RECTIFY_MAX_SCORE) {
        if (cases_sql_rect_insert(r->db, id, db_cell_i64(rows, 0, CC_OUTLET), score,
                                  (int)cases_conf.rectification_hours, &rect_id) != 0)
            goto done;
        rect = json_pack("{sIss}", "id", (json_int_t)rect_id, "state", "open");
    }
    /* The figures count satisfaction by completion day: that day's rollup
     * is now stale. */
    if (db_cell(rows, 0, CC_COMPLETED_DAY) &&
        cases_sql_mark_dirty(r->db, db_cell(rows, 0, CC_COMPLETED_DAY)) != 0)
        goto done;
    if (audit_write_owned(r, "cases.rating", "case", db_cell(rows, 0, CC_NUMBER),
                    json_pack("{si}", "score", score)) != 0)
        goto done;
    app_reply_json(r, 201, json_pack("{sssiss so}", "number", db_cell(rows, 0, CC_NUMBER), "score",
                                     score, "comment", comment ? comment : "", "rectification",
                                     rect ? rect : json_null()));
    rect = NULL;
    rc = 0;
done:
    json_decref(rect);
    db_rows_free(ra);
    db_rows_free(rows);
    return rc;
}

void cases_on_rating(app_req *r)
{
    static const app_jfield fields[] = {
        {"score", JF_INT, true, 0},
        {"comment", JF_STRING, false, 2000},
    };
    const char *why;
    if (app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    why = cases_rating_check((long long)json_integer_value(json_object_get(r->json, "score")),
                             app_json_str(r, "comment"));
    if (why) {
        app_problem(r, 400, why, strcmp(why, "bad_score") == 0 ? "Score is 1 to 5" : "Comment too long",
                    NULL, strcmp(why, "bad_score") == 0 ? "score" : "comment");
        return;
    }
    app_tx(r, tx_rating, NULL);
}

/* ---- rectifications ---------------------------------------------------------- */

static json_t *rect_json(const db_rows *rows, int i)
{
    return json_pack("{sI ss ss so so sI ss so}", "id", (json_int_t)db_cell_i64(rows, i, 0), "state",
                     db_cell(rows, i, 1), "due_at", db_cell(rows, i, 2), "answer",
                     str_or_null(db_cell(rows, i, 3)), "answered_at", str_or_null(db_cell(rows, i, 4)),
                     "score", (json_int_t)db_cell_i64(rows, i, 5), "case_number", db_cell(rows, i, 7),
                     "outlet_id", id_or_null(rows, i, 8));
}

void cases_on_rect_list(app_req *r)
{
    const char *state = app_query(r, "state");
    db_rows *rows = NULL;
    json_t *items;

    if (state && strcmp(state, "open") != 0 && strcmp(state, "answered") != 0) {
        app_problem(r, 400, "bad_state", "Unknown state", "state is open or answered.", "state");
        return;
    }
    if (cases_sql_rect_list(r->db, state, 200, &rows) != 0) {
        reply_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(items, rect_json(rows, i));
    db_rows_free(rows);
    app_reply_json(r, 200, json_pack("{so}", "items", items));
}

static int tx_rect_answer(app_req *r, void *arg)
{
    const char *answer = app_json_str(r, "answer");
    const char *sid = app_param(r, 0);
    char *end = NULL;
    long long id = strtoll(sid, &end, 10);
    db_rows *rows = NULL;
    bool done = false;
    int rc = -1;
    (void)arg;

    if (end == sid || *end != '\0' || id <= 0) {
        app_problem(r, 404, "rectification_not_found", "Rectification not found", NULL, NULL);
        return -1;
    }
    if (cases_sql_rect_lock(r->db, id, &rows) != 0)
        goto done;
    if (rows->nrows == 0) {
        app_problem(r, 404, "rectification_not_found", "Rectification not found", NULL, NULL);
        goto done;
    }
    if (strcmp(db_cell(rows, 0, 1), "open") != 0) {
        app_problem(r, 409, "already_answered", "Already answered", NULL, NULL);
        goto done;
    }
    if (cases_sql_rect_answer(r->db, id, answer, r->who.id, &done) != 0)
        goto done;
    if (!done) {
        app_problem(r, 409, "already_answered", "Already answered", NULL, NULL);
        goto done;
    }
    if (cases_sql_event(r->db, db_cell_i64(rows, 0, 6), "rectification_answered", NULL, NULL,
                        r->who.name, NULL) != 0)
        goto done;
    if (audit_write(r, "cases.rectification_answer", "rectification", sid, "ok", NULL) != 0)
        goto done;
    db_rows_free(rows);
    rows = NULL;
    if (cases_sql_rect_lock(r->db, id, &rows) != 0)
        goto done;
    app_reply_json(r, 200, rect_json(rows, 0));
    rc = 0;
done:
    db_rows_free(rows);
    return rc;
}

void cases_on_rect_answer(app_req *r)
{
    static const app_jfield fields[] = {{"answer", JF_STRING, true, 1000}};
    if (app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    if (app_json_str(r, "answer")[0] == '\0') {
        app_problem(r, 400, "answer_required", "Answer required", NULL, "answer");
        return;
    }
    app_tx(r, tx_rect_answer, NULL);
}

/* ---- GET /v1/cases/alerts ------------------------------------------------------ */

void cases_on_alerts(app_req *r)
{
    const char *lim = app_query(r, "limit"), *before = app_query(r, "before");
    long long limit = CASES_LIST_LIMIT_MAX, before_id = 0;
    /* Supervision center and auditors see every outlet; everyone else only
     * their own outlet's alerts (online cases have no outlet: supervision). */
    int64_t outlet = (r->who.roles & (ROLE_SUPERVISOR | ROLE_AUDITOR)) ? 0 : r->who.outlet_id;
    db_rows *rows = NULL;
    json_t *items;

    if (lim && cases_parse_query_int(lim, CASES_LIST_LIMIT_MIN, CASES_LIST_LIMIT_MAX, &limit) != 0) {
        app_problem(r, 400, "bad_limit", "Invalid limit", "limit is a whole number, 1..100.", "limit");
        return;
    }
    if (before && cases_parse_query_int(before, 1, LLONG_MAX, &before_id) != 0) {
        app_problem(r, 400, "bad_cursor", "Invalid cursor",
                    "before is the next_before of the previous page.", "before");
        return;
    }
    if (outlet == 0 && !(r->who.roles & (ROLE_SUPERVISOR | ROLE_AUDITOR))) {
        app_reply_json(r, 200, json_pack("{s[]sn}", "items", "next_before"));
        return;
    }
    if (cases_sql_alerts(r->db, outlet, before_id, (int)limit, &rows) != 0) {
        reply_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < rows->nrows; i++)
        json_array_append_new(items, json_pack("{sI ss ss ss ss so ss ss}", "id",
                                               (json_int_t)db_cell_i64(rows, i, 0), "kind",
                                               db_cell(rows, i, 1), "created_at", db_cell(rows, i, 2),
                                               "case_number", db_cell(rows, i, 3), "item_code",
                                               db_cell(rows, i, 4), "outlet_id", id_or_null(rows, i, 5),
                                               "state", db_cell(rows, i, 6), "deadline",
                                               db_cell(rows, i, 7)));
    app_reply_json(r, 200,
                   json_pack("{so so}", "items", items, "next_before",
                             rows->nrows == limit
                                 ? json_integer(db_cell_i64(rows, rows->nrows - 1, 0))
                                 : json_null()));
    db_rows_free(rows);
}
