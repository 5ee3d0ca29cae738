/* cases_http.c - case endpoints: the applicant's cases, the public progress
 * query, check-ins (trips), operators' state changes, supplements, ratings
 * and rectification answers, alerts. Handlers are thin: the inputs are
 * checked by the route's declaration (cases_module.c); a handler loads the
 * case, calls the business function (cases_actions.c) inside app_tx,
 * translates its refusal, writes the audit record and replies. */
#include <string.h>

#include "modules/cases/cases_http.h"
#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_sql.h"
#include "server/audit.h"
#include "server/crypto.h"

/* ---- helpers ------------------------------------------------------------- */

/* Answers a business function's refusal (the extra members move to the
 * answer); a database error (no code) is left for app_tx. */
static void refused(app_req *r, cases_refusal *f)
{
    if (f->code)
        app_fail_ext(r, f->code, f->detail, f->field, f->extra);
    else
        json_decref(f->extra);
    f->extra = NULL;
}

/* Loads a case by number (path parameter 0, its shape checked by the
 * route's declaration) into *k. Citizens see only their own (a foreign case
 * answers 404 so numbers cannot be probed). Returns 0 (the caller clears
 * *k), or -1 with a problem set and *k owning nothing. */
static int load_case(app_req *r, cases_case *k)
{
    bool found = false;
    memset(k, 0, sizeof *k);
    if (cases_sql_get_by_number(r->db, app_param(r, 0), k, &found) != 0) {
        app_problem_db(r);
        return -1;
    }
    if (!found || (r->who.kind == CALLER_CITIZEN && k->applicant_id != r->who.id)) {
        cases_case_clear(k);
        app_fail(r, "case_not_found", NULL, NULL);
        return -1;
    }
    return 0;
}

static cases_next case_next_step(const cases_case *k)
{
    return cases_next_step(k->state, k->supply_state, (int)k->item_trips, (int)k->trips,
                           k->rated);
}

/* The case as its applicant (or an operator) sees it. No personal
 * identifiers: the applicant is only an id. */
static json_t *case_json(const cases_case *k, bool details)
{
    cases_next next = case_next_step(k);
    json_t *o = json_object();
    json_object_set_new(o, "number", json_string(k->number));
    json_object_set_new(o, "item", json_pack("{ss ss si}", "code", k->item_code, "name",
                                             k->item_name, "version", (int)k->item_version));
    json_object_set_new(o, "category", json_string(k->category));
    json_object_set_new(o, "channel", json_string(k->channel));
    json_object_set_new(o, "outlet_id", app_json_int_if(k->has_outlet_id, k->outlet_id));
    json_object_set_new(o, "assisted_by", app_json_str_or_null(k->assisted_kind));
    json_object_set_new(o, "state", json_string(k->state));
    json_object_set_new(o, "state_reason", app_json_str_or_null(k->state_reason));
    json_object_set_new(o, "next_step", json_pack("{ssss}", "code", next.code, "text", next.text));
    json_object_set_new(o, "submitted_at", json_string(k->submitted_at));
    json_object_set_new(o, "promised_days", json_integer(k->promised_days));
    json_object_set_new(o, "deadline", json_string(k->deadline));
    json_object_set_new(o, "accepted_at", app_json_str_if(k->has_accepted_at, k->accepted_at));
    json_object_set_new(o, "completed_at", app_json_str_if(k->has_completed_at, k->completed_at));
    json_object_set_new(o, "trips", json_integer(k->trips));
    json_object_set_new(o, "time_warning", json_boolean(k->warned));
    json_object_set_new(o, "overdue", json_boolean(k->overdue));
    if (!details)
        return o;
    json_object_set_new(o, "query_code", json_string(k->query_code));
    json_object_set_new(o, "missing_materials", cases_json_list(k->missing_materials));
    json_object_set_new(o, "supply_due", app_json_str_if(k->has_supply_due, k->supply_due));
    json_object_set_new(o, "supply_state", json_string(k->supply_state));
    json_object_set_new(o, "commitment_materials", cases_json_list(k->commitment_materials));
    return o;
}

/* History, trips, rating and rectification of one case; -1 on db error. */
static int add_case_details(db_conn *c, int64_t id, json_t *o)
{
    cases_event_row *ev = NULL;
    cases_trip_row *tr = NULL;
    cases_rating_row ra = {0};
    cases_rect_row re = {0};
    bool rated = false, rectified = false;
    int nev = 0, ntr = 0, rc = -1;
    json_t *a;

    if (cases_sql_events(c, id, &ev, &nev) != 0 || cases_sql_trips(c, id, &tr, &ntr) != 0 ||
        cases_sql_rating_get(c, id, &ra, &rated) != 0 ||
        cases_sql_rect_by_case(c, id, &re, &rectified) != 0)
        goto done;
    a = json_array();
    for (int i = 0; i < nev; i++)
        json_array_append_new(a, json_pack("{ss ss so so so}", "at", ev[i].at, "kind", ev[i].kind,
                                           "from", app_json_str_or_null(ev[i].from_state), "to",
                                           app_json_str_or_null(ev[i].to_state), "note",
                                           app_json_str_or_null(ev[i].note)));
    json_object_set_new(o, "history", a);
    a = json_array();
    for (int i = 0; i < ntr; i++)
        json_array_append_new(a, json_pack("{ss so so}", "at", tr[i].at, "outlet_id",
                                           app_json_int_if(tr[i].has_outlet_id, tr[i].outlet_id),
                                           "outlet", app_json_str_or_null(tr[i].outlet_name)));
    json_object_set_new(o, "visits", a);
    json_object_set_new(o, "rating",
                        rated ? json_pack("{sIssss}", "score", (json_int_t)ra.score, "comment",
                                          ra.comment, "created_at", ra.created_at)
                              : json_null());
    json_object_set_new(o, "rectification",
                        rectified ? json_pack("{sIss ss so so}", "id", (json_int_t)re.id, "state",
                                              re.state, "due_at", re.due_at, "answer",
                                              app_json_str_or_null(re.answer), "answered_at",
                                              app_json_str_if(re.has_answered_at, re.answered_at))
                                  : json_null());
    rc = 0;
done:
    cases_event_row_array_free(ev, nev);
    cases_trip_row_array_free(tr, ntr);
    cases_rating_row_clear(&ra);
    cases_rect_row_clear(&re);
    return rc;
}

/* ---- GET /v1/me/cases ----------------------------------------------------- */

void cases_on_my_cases(app_req *r)
{
    int64_t limit = app_query_int(r, "limit", 20);
    cases_case *rows = NULL;
    json_t *items;
    int n = 0;

    if (cases_sql_list_by_applicant(r->db, r->who.id, app_query_int(r, "before", 0), (int)limit,
                                    &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, case_json(&rows[i], false));
    app_reply_json(r, 200, app_json_page(items, n, limit, n ? rows[n - 1].id : 0));
    cases_case_array_free(rows, n);
}

/* ---- GET /v1/cases/{number} ---------------------------------------------- */

static int tx_read_case(app_req *r, void *arg)
{
    cases_case k;
    json_t *o = NULL;
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    o = case_json(&k, true);
    if (r->who.kind != CALLER_CITIZEN)
        json_object_set_new(o, "applicant_id", json_integer(k.applicant_id));
    if (add_case_details(r->db, k.id, o) != 0)
        goto done;
    /* Operators reading a person's case leave a trace (README: operator
     * reads of a person's data are audited). */
    if (r->who.kind == CALLER_OPERATOR &&
        audit_write(r, "cases.read", "case", k.number, "ok", NULL) != 0)
        goto done;
    app_reply_json(r, 200, o);
    o = NULL;
    rc = 0;
done:
    json_decref(o);
    cases_case_clear(&k);
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
    cases_case k;
    bool found = false;
    cases_next next;
    json_t *o;

    if (cases_sql_get_by_number(r->db, app_param(r, 0), &k, &found) != 0) {
        app_problem_db(r);
        return;
    }
    /* A wrong code looks exactly like an unknown number. The comparison is
     * constant-time so the code cannot be guessed character by character. */
    if (!found || !crypto_equal(code, strlen(code), k.query_code, strlen(k.query_code))) {
        cases_case_clear(&k);
        app_fail(r, "case_not_found", NULL, NULL);
        return;
    }
    next = case_next_step(&k);
    o = json_object();
    json_object_set_new(o, "number", json_string(k.number));
    json_object_set_new(o, "item", json_pack("{ssss}", "code", k.item_code, "name", k.item_name));
    json_object_set_new(o, "state", json_string(k.state));
    json_object_set_new(o, "next_step", json_pack("{ssss}", "code", next.code, "text", next.text));
    json_object_set_new(o, "submitted_day", json_string(k.submitted_day));
    json_object_set_new(o, "deadline", json_string(k.deadline));
    json_object_set_new(o, "completed_day", app_json_str_if(k.has_completed_day, k.completed_day));
    app_reply_json(r, 200, o);
    cases_case_clear(&k);
}

/* ---- POST /v1/cases/{number}/trips ----------------------------------------- */

/* A refused check-in: the answer, and its audit record (committed alone). */
static int trip_refused(app_req *r, cases_refusal *f, const char *number)
{
    json_t *ad = json_pack("{sssI}", "reason", f->code, "outlet_id", (json_int_t)r->who.outlet_id);
    int rc = audit_write(r, "cases.trip", "case", number, "refused", ad);

    json_decref(ad);
    refused(r, f);
    return rc;
}

static int tx_trip(app_req *r, void *arg)
{
    cases_case k;
    cases_trip_out t;
    cases_refusal f = {0};
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    if (cases_check_in(r->db, &r->who, &k, app_json_str(r, "query_code"), &t, &f) != 0) {
        if (f.recorded)
            rc = trip_refused(r, &f, k.number);
        else
            refused(r, &f);
        goto done;
    }
    if (audit_write_owned(r, "cases.trip", "case", k.number,
                          json_pack("{sIsssbsb}", "outlet_id", (json_int_t)r->who.outlet_id,
                                    "visit_day", t.visit_day, "counted", t.counted,
                                    "outlet_assigned", t.assigned)) != 0)
        goto done;
    /* The same visit again (another terminal, a retry without the key) is
     * answered, not counted: 200 instead of 201. */
    app_reply_json(r, t.counted ? 201 : 200,
                   json_pack("{sssIsIsssb}", "number", k.number, "trips", (json_int_t)t.trips,
                             "outlet_id", (json_int_t)r->who.outlet_id, "visit_day", t.visit_day,
                             "counted", t.counted));
    rc = 0;
done:
    cases_refusal_clear(&f);
    cases_case_clear(&k);
    return rc;
}

/* The body is optional: none, or {"query_code": "..."} (needed on the
 * first visit of a case filed online); declared in cases_module.c. */
void cases_on_trip(app_req *r)
{
    app_tx(r, tx_trip, NULL);
}

/* ---- POST /v1/cases/{number}/transitions ----------------------------------- */

static int tx_transition(app_req *r, void *arg)
{
    cases_transition_in in = {
        .to = app_json_str(r, "to"), .reason = app_json_str(r, "reason"),
        .missing = json_object_get(r->json, "missing"),
        .commitment = json_object_get(r->json, "commitment"),
    };
    cases_refusal f = {0};
    cases_case k;
    bool committed = false;
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    if (cases_transition(r->db, &r->who, &k, &in, &committed, &f) != 0) {
        refused(r, &f);
        goto done;
    }
    if (audit_write_owned(r, "cases.transition", "case", k.number,
                          json_pack("{sssssb}", "from", k.state, "to", in.to, "committed",
                                    committed)) != 0)
        goto done;
    cases_case_clear(&k);
    if (load_case(r, &k) != 0)
        goto done;
    app_reply_json(r, 200, case_json(&k, true));
    rc = 0;
done:
    cases_refusal_clear(&f);
    cases_case_clear(&k);
    return rc;
}

void cases_on_transition(app_req *r)
{
    const char *reason = app_json_str(r, "reason");
    if (strcmp(app_json_str(r, "to"), "rejected") == 0 && (reason == NULL || reason[0] == '\0'))
        app_fail(r, "reason_required", NULL, "reason");
    else
        app_tx(r, tx_transition, NULL);
}

/* ---- POST /v1/cases/{number}/supplements ----------------------------------- */

static int tx_supplement(app_req *r, void *arg)
{
    cases_case k;
    cases_refusal f = {0};
    json_t *left = NULL;
    char supply_state[16];
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    if (cases_supply(r->db, &r->who, &k, json_object_get(r->json, "materials"), &left,
                     supply_state, &f) != 0) {
        refused(r, &f);
        goto done;
    }
    if (audit_write(r, "cases.supplement", "case", k.number, "ok", NULL) != 0)
        goto done;
    app_reply_json(r, 200, json_pack("{sssOss}", "number", k.number, "missing_materials", left,
                                     "supply_state", supply_state));
    rc = 0;
done:
    json_decref(left);
    cases_refusal_clear(&f);
    cases_case_clear(&k);
    return rc;
}

void cases_on_supplement(app_req *r)
{
    app_tx(r, tx_supplement, NULL);
}

/* ---- POST /v1/cases/{number}/rating ---------------------------------------- */

static int tx_rating(app_req *r, void *arg)
{
    cases_case k;
    const char *comment = app_json_str(r, "comment"), *why = NULL;
    int score = (int)app_json_int(r, "score", 0);
    int64_t rect_id = 0;
    json_t *rect = NULL;
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    if (cases_rate(r->db, &r->who, &k, score, comment, &rect_id, &why) != 0) {
        if (why)
            app_fail(r, why, NULL, NULL);
        goto done;
    }
    if (audit_write_owned(r, "cases.rating", "case", k.number,
                          json_pack("{si}", "score", score)) != 0)
        goto done;
    if (rect_id)
        rect = json_pack("{sIss}", "id", (json_int_t)rect_id, "state", "open");
    app_reply_json(r, 201, json_pack("{sssiss so}", "number", k.number, "score",
                                     score, "comment", comment ? comment : "", "rectification",
                                     rect ? rect : json_null()));
    rc = 0;
done:
    cases_case_clear(&k);
    return rc;
}

void cases_on_rating(app_req *r)
{
    app_tx(r, tx_rating, NULL);
}

/* ---- rectifications ---------------------------------------------------------- */

static json_t *rect_json(const cases_rect_row *x)
{
    return json_pack("{sI ss ss so so sI ss so}", "id", (json_int_t)x->id, "state", x->state,
                     "due_at", x->due_at, "answer", app_json_str_or_null(x->answer), "answered_at",
                     app_json_str_if(x->has_answered_at, x->answered_at), "score",
                     (json_int_t)x->score, "case_number", x->number, "outlet_id",
                     app_json_int_if(x->has_outlet_id, x->outlet_id));
}

void cases_on_rect_list(app_req *r)
{
    cases_rect_row *rows = NULL;
    json_t *items;
    int n = 0;

    if (cases_sql_rect_list(r->db, app_query(r, "state"), 200, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, rect_json(&rows[i]));
    cases_rect_row_array_free(rows, n);
    app_reply_json(r, 200, json_pack("{so}", "items", items));
}

static int tx_rect_answer(app_req *r, void *arg)
{
    cases_rect_row x = {0};
    const char *why = NULL;
    int rc = -1;
    (void)arg;

    if (cases_rect_answer(r->db, &r->who, app_path_int(r, 0), app_json_str(r, "answer"), &x,
                          &why) != 0) {
        if (why)
            app_fail(r, why, NULL, NULL);
        goto done;
    }
    if (audit_write(r, "cases.rectification_answer", "rectification", app_param(r, 0), "ok",
                    NULL) != 0)
        goto done;
    app_reply_json(r, 200, rect_json(&x));
    rc = 0;
done:
    cases_rect_row_clear(&x);
    return rc;
}

void cases_on_rect_answer(app_req *r)
{
    app_tx(r, tx_rect_answer, NULL);
}

/* ---- GET /v1/cases/alerts ------------------------------------------------------ */

void cases_on_alerts(app_req *r)
{
    int64_t limit = app_query_int(r, "limit", CASES_LIST_LIMIT_MAX);
    /* Supervision center and auditors see every outlet; everyone else only
     * their own outlet's alerts (online cases have no outlet: supervision). */
    bool all = (r->who.roles & (ROLE_SUPERVISOR | ROLE_AUDITOR)) != 0;
    cases_alert_row *rows = NULL;
    json_t *items;
    int n = 0;

    if (!all && r->who.outlet_id == 0) {
        app_reply_json(r, 200, json_pack("{s[]sn}", "items", "next_before"));
        return;
    }
    if (cases_sql_alerts(r->db, all ? 0 : r->who.outlet_id, app_query_int(r, "before", 0),
                         (int)limit, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++) {
        const cases_alert_row *a = &rows[i];
        json_array_append_new(items, json_pack("{sI ss ss ss ss so ss ss}", "id", (json_int_t)a->id,
                                               "kind", a->kind, "created_at", a->created_at,
                                               "case_number", a->number, "item_code", a->item_code,
                                               "outlet_id", app_json_int_if(a->has_outlet_id, a->outlet_id),
                                               "state", a->state, "deadline", a->deadline));
    }
    app_reply_json(r, 200, app_json_page(items, n, limit, n ? rows[n - 1].id : 0));
    cases_alert_row_array_free(rows, n);
}
