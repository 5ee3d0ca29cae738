/* cases_http.c - case endpoints: the applicant's cases, the public progress
 * query, check-ins (trips), operators' state changes, ratings and
 * rectification answers, alerts. Handlers are thin: parse, check, call the
 * logic in cases.c / cases_sql.c inside app_tx, reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static json_t *id_or_null(bool has, int64_t id)
{
    return has ? json_integer(id) : json_null();
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

/* A problem from the error table; -1, for "return fail(...)". */
static int fail(app_req *r, const char *code, const char *detail, const char *field)
{
    app_fail(r, code, detail, field);
    return -1;
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
        return fail(r, "case_not_found", NULL, NULL);
    }
    return 0;
}

/* One page of a list: the items and the cursor of the next page (the last
 * id when the page is full, else null). Steals items. */
static json_t *page_json(json_t *items, int n, int64_t limit, int64_t last_id)
{
    return json_pack("{so so}", "items", items, "next_before",
                     n == limit && n > 0 ? json_integer(last_id) : json_null());
}

static cases_next case_next_step(const cases_case *k)
{
    return cases_next_step(k->state, k->supply_state, (int)k->item_trips, (int)k->trips,
                           k->rated);
}

static json_t *str_if(bool has, const char *s)
{
    return has ? json_string(s) : json_null();
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
    json_object_set_new(o, "outlet_id", id_or_null(k->has_outlet_id, k->outlet_id));
    json_object_set_new(o, "assisted_by", str_or_null(k->assisted_kind));
    json_object_set_new(o, "state", json_string(k->state));
    json_object_set_new(o, "state_reason", str_or_null(k->state_reason));
    json_object_set_new(o, "next_step", json_pack("{ssss}", "code", next.code, "text", next.text));
    json_object_set_new(o, "submitted_at", json_string(k->submitted_at));
    json_object_set_new(o, "promised_days", json_integer(k->promised_days));
    json_object_set_new(o, "deadline", json_string(k->deadline));
    json_object_set_new(o, "accepted_at", str_if(k->has_accepted_at, k->accepted_at));
    json_object_set_new(o, "completed_at", str_if(k->has_completed_at, k->completed_at));
    json_object_set_new(o, "trips", json_integer(k->trips));
    json_object_set_new(o, "time_warning", json_boolean(k->warned));
    json_object_set_new(o, "overdue", json_boolean(k->overdue));
    if (!details)
        return o;
    json_object_set_new(o, "query_code", json_string(k->query_code));
    json_object_set_new(o, "missing_materials", json_text_or_empty(k->missing_materials));
    json_object_set_new(o, "supply_due", str_if(k->has_supply_due, k->supply_due));
    json_object_set_new(o, "supply_state", json_string(k->supply_state));
    json_object_set_new(o, "commitment_materials", json_text_or_empty(k->commitment_materials));
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
                                           "from", str_or_null(ev[i].from_state), "to",
                                           str_or_null(ev[i].to_state), "note",
                                           str_or_null(ev[i].note)));
    json_object_set_new(o, "history", a);
    a = json_array();
    for (int i = 0; i < ntr; i++)
        json_array_append_new(a, json_pack("{ss so so}", "at", tr[i].at, "outlet_id",
                                           id_or_null(tr[i].has_outlet_id, tr[i].outlet_id),
                                           "outlet", str_or_null(tr[i].outlet_name)));
    json_object_set_new(o, "visits", a);
    json_object_set_new(o, "rating",
                        rated ? json_pack("{sIssss}", "score", (json_int_t)ra.score, "comment",
                                          ra.comment, "created_at", ra.created_at)
                              : json_null());
    json_object_set_new(o, "rectification",
                        rectified ? json_pack("{sIss ss so so}", "id", (json_int_t)re.id, "state",
                                              re.state, "due_at", re.due_at, "answer",
                                              str_or_null(re.answer), "answered_at",
                                              str_if(re.has_answered_at, re.answered_at))
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
    app_reply_json(r, 200, page_json(items, n, limit, n ? rows[n - 1].id : 0));
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
    json_object_set_new(o, "completed_day", str_if(k.has_completed_day, k.completed_day));
    app_reply_json(r, 200, o);
    cases_case_clear(&k);
}

/* ---- POST /v1/cases/{number}/trips ----------------------------------------- */

/* A refused check-in: the answer, and its audit record (committed alone). */
static int trip_refused(app_req *r, const char *why, const char *number, const char *state)
{
    json_t *ad;
    int rc;

    app_fail_ext(r, why, NULL, NULL,
                 strcmp(why, "case_closed") == 0 ? json_pack("{ss}", "state", state) : NULL);
    ad = json_pack("{sssI}", "reason", why, "outlet_id", (json_int_t)r->who.outlet_id);
    rc = audit_write(r, "cases.trip", "case", number, "refused", ad);
    json_decref(ad);
    return rc;
}

static int tx_trip(app_req *r, void *arg)
{
    const char *code = app_json_str(r, "query_code"); /* the applicant's, NULL if not given */
    const char *channel = cases_caller_channel(&r->who), *why, *qc;
    cases_case k;
    cases_locked lk = {0};
    catalog_ref item = {0};
    bool found = false, counted = false, assigned = false;
    char day_s[DATE_STR_SIZE];
    cases_trip_in in;
    int64_t id, trips;
    int rc = -1;

    if (load_case(r, &k) != 0)
        return -1;
    id = k.id;
    /* Decide on the locked row: the snapshot read above may predate a
     * concurrent cancellation, check-in or outlet assignment. */
    if (cases_sql_lock_case(r->db, id, &lk, &found) != 0)
        goto done;
    if (!found) {
        fail(r, "case_not_found", NULL, NULL);
        goto done;
    }
    if (catalog_version_get(r->db, lk.catalog_version_id, &item, &found) != 0)
        goto done;
    if (!found) {
        fail(r, "internal", NULL, NULL);
        goto done;
    }
    qc = lk.query_code;
    memset(&in, 0, sizeof in);
    in.state = lk.state;
    in.online_only = cases_online_only(item.channels);
    in.case_outlet = lk.outlet_id;
    in.caller_outlet = r->who.outlet_id;
    in.channel_offered = channel && catalog_channel_offered(item.channels, channel);
    in.code_given = code != NULL;
    /* Constant-time, like the progress query: the code is a secret. */
    in.code_ok = code && qc && crypto_equal(code, strlen(code), qc, strlen(qc));
    why = cases_trip_refusal(&in);
    if (why) {
        rc = trip_refused(r, why, k.number, in.state);
        goto done;
    }
    if (in.case_outlet == 0) {
        /* The applicant showed the code here: this outlet serves the case
         * from now on (its visits, transitions and rating). */
        if (cases_sql_set_outlet(r->db, id, r->who.outlet_id, &assigned) != 0)
            goto done;
        if (!assigned) { /* cannot happen under the row lock; kept as a guard */
            fail(r, "other_outlet", NULL, NULL);
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
    trips = lk.trips + (counted ? 1 : 0);
    if (audit_write_owned(r, "cases.trip", "case", k.number,
                          json_pack("{sIsssbsb}", "outlet_id", (json_int_t)r->who.outlet_id,
                                    "visit_day", day_s, "counted", counted, "outlet_assigned",
                                    assigned)) != 0)
        goto done;
    /* The same visit again (another terminal, a retry without the key) is
     * answered, not counted: 200 instead of 201. */
    app_reply_json(r, counted ? 201 : 200,
                   json_pack("{sssIsIsssb}", "number", k.number, "trips",
                             (json_int_t)trips, "outlet_id", (json_int_t)r->who.outlet_id,
                             "visit_day", day_s, "counted", counted));
    rc = 0;
done:
    catalog_ref_clear(&item);
    cases_locked_clear(&lk);
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
    if (commitment ? !item->allow_commitment : !item->allow_missing)
        return fail(r, commitment ? "commitment_not_allowed" : "missing_not_allowed", NULL, field);
    json_array_foreach(a, i, v) {
        const char *name = json_string_value(v);
        if (name == NULL || !catalog_material_find(item->materials, name, &key, &can_commit))
            return fail(r, "unknown_material", NULL, field);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(a, j)), name) == 0)
                return fail(r, "duplicate_material", NULL, field);
        if (commitment && !can_commit)
            return fail(r, "commitment_not_allowed",
                        "This material cannot be replaced by a signed commitment.", field);
        if (!commitment && key)
            return fail(r, "key_material_missing", NULL, field);
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
    cases_locked lk = {0};
    char *commit = NULL, *all_s = NULL;
    bool key = false, can_commit = false, found = false;
    size_t i;
    int rc = -1;

    *committed = false;
    if (check_materials(r, item, "commitment", true, &commit) != 0)
        return -1;
    if (cases_sql_lock_case(r->db, id, &lk, &found) != 0)
        goto done;
    if (!found) {
        fail(r, "case_not_found", NULL, NULL);
        goto done;
    }
    if (!cases_supply_open(lk.supply_state)) {
        if (commit) {
            fail(r, "nothing_missing", "This case has no materials outstanding to commit to.",
                 "commitment");
            goto done;
        }
        rc = 0;
        goto done;
    }
    missing = json_text_or_empty(lk.missing_materials);
    json_array_foreach(given, i, v) {
        if (!json_has(missing, v)) {
            fail(r, "not_missing", NULL, "commitment");
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
        app_fail_ext(r, "materials_missing", NULL, NULL,
                     json_pack("{sOsO}", "missing", left, "commitment_possible", can));
        goto done;
    }
    /* Everything outstanding is committed to: record it with the commitments
     * made at acceptance. */
    all = json_text_or_empty(lk.commitment_materials);
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
    cases_locked_clear(&lk);
    return rc;
}

static int tx_transition(app_req *r, void *arg)
{
    cases_case k;
    catalog_ref item = {0};
    bool found = false;
    const char *to = app_json_str(r, "to"), *reason = app_json_str(r, "reason"), *why = NULL;
    char *missing = NULL, *commit = NULL;
    char actor[64], due_s[DATE_STR_SIZE];
    bool completing = strcmp(to, "completed") == 0, committed = false;
    int64_t id;
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    id = k.id;
    if (!operator_may_act(r, k.outlet_id)) {
        fail(r, "other_outlet", NULL, NULL);
        goto done;
    }
    if ((json_object_get(r->json, "missing") && strcmp(to, "accepted") != 0) ||
        (json_object_get(r->json, "commitment") && strcmp(to, "accepted") != 0 && !completing)) {
        fail(r, "materials_only_on_accept", NULL, "to");
        goto done;
    }
    if (catalog_version_get(r->db, k.catalog_version_id, &item, &found) != 0)
        goto done;
    if (!found) {
        fail(r, "internal", NULL, NULL);
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
            fail(r, "case_not_found", NULL, NULL);
        else if (why)
            fail(r, why, NULL, strcmp(why, "bad_transition") == 0 ? "to" : NULL);
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
    if (audit_write_owned(r, "cases.transition", "case", k.number,
                          json_pack("{sssssb}", "from", k.state, "to", to, "committed",
                                    committed)) != 0)
        goto done;
    cases_case_clear(&k);
    if (load_case(r, &k) != 0)
        goto done;
    app_reply_json(r, 200, case_json(&k, true));
    rc = 0;
done:
    free(missing);
    free(commit);
    catalog_ref_clear(&item);
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
    cases_locked lk = {0};
    json_t *missing = NULL, *left = NULL, *given = json_object_get(r->json, "materials"), *v;
    char *left_s = NULL;
    const char *supply_state;
    bool found = false;
    size_t i;
    int rc = -1;
    (void)arg;

    if (load_case(r, &k) != 0)
        return -1;
    if (!operator_may_act(r, k.outlet_id)) {
        fail(r, "other_outlet", NULL, NULL);
        goto done;
    }
    /* Read-modify-write of the missing list: read it from the locked row
     * (the latest committed value), never from the snapshot above, or two
     * concurrent supplements would each drop only their own material. */
    if (cases_sql_lock_case(r->db, k.id, &lk, &found) != 0)
        goto done;
    if (!found) {
        fail(r, "case_not_found", NULL, NULL);
        goto done;
    }
    /* Materials of a cancelled, rejected or completed case are no longer
     * awaited: decided on the locked row, like the other state checks. */
    if (!cases_state_open(lk.state)) {
        app_fail_ext(r, "case_closed", "Materials can only be supplied while the case is open.",
                     NULL, json_pack("{ss}", "state", lk.state));
        goto done;
    }
    supply_state = lk.supply_state;
    missing = json_text_or_empty(lk.missing_materials);
    if (json_array_size(missing) == 0 || strcmp(supply_state, "supplied") == 0) {
        fail(r, "nothing_missing", NULL, NULL);
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
            fail(r, "not_missing", NULL, "materials");
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
    if (cases_sql_set_missing(r->db, k.id, left_s, json_array_size(left) == 0) != 0)
        goto done;
    if (cases_sql_event(r->db, k.id, "supplied", NULL, NULL, r->who.name,
                        json_array_size(left) == 0 ? "all" : "partial") != 0)
        goto done;
    if (audit_write(r, "cases.supplement", "case", k.number, "ok", NULL) != 0)
        goto done;
    app_reply_json(r, 200, json_pack("{sssOss}", "number", k.number,
                                     "missing_materials", left, "supply_state",
                                     json_array_size(left) == 0 ? "supplied" : supply_state));
    rc = 0;
done:
    free(left_s);
    json_decref(left);
    json_decref(missing);
    cases_locked_clear(&lk);
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
                     "due_at", x->due_at, "answer", str_or_null(x->answer), "answered_at",
                     str_if(x->has_answered_at, x->answered_at), "score",
                     (json_int_t)x->score, "case_number", x->number, "outlet_id",
                     id_or_null(x->has_outlet_id, x->outlet_id));
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
                                               "outlet_id", id_or_null(a->has_outlet_id, a->outlet_id),
                                               "state", a->state, "deadline", a->deadline));
    }
    app_reply_json(r, 200, page_json(items, n, limit, n ? rows[n - 1].id : 0));
    cases_alert_row_array_free(rows, n);
}
