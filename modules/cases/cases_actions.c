/* cases_actions.c - what callers do to a case, as business functions:
 * (db, caller, input) -> a result, or a reason code of the module's error
 * table (cases_module.c). No HTTP here: the handlers in cases_http.c
 * translate a reason with app_fail and write the audit record. All run
 * inside the caller's transaction (app_tx) and block (database). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_sql.h"
#include "modules/catalog/catalog.h"
#include "server/crypto.h"
#include "server/date.h"

const char *cases_caller_channel(const app_principal *who)
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

/* Sets the reason, returns -1. */
static int refuse(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

int cases_rate(db_conn *c, const app_principal *who, const cases_case *k, int score,
               const char *comment, int64_t *rect_id, const char **why)
{
    const char *channel = "app";
    cases_rating_row ra = {0};
    bool rated = false, found = false;
    char st[16];
    int rc = -1;

    *rect_id = 0;
    *why = NULL;
    /* From any channel: the applicant in the app, or on a terminal at the
     * window or partner outlet that handled the case (staff there submit
     * the applicant's own score; anywhere else they may not). */
    if (who->kind != CALLER_CITIZEN) {
        channel = cases_caller_channel(who);
        if (channel == NULL || !k->has_outlet_id || k->outlet_id != who->outlet_id)
            return refuse(why, "not_your_outlet");
    }
    /* The case row lock serialises two ratings of one case; the second
     * answers 409 (found below, or refused by the primary key when this
     * transaction's snapshot predates the first one's commit). */
    if (cases_sql_lock_state(c, k->id, st, &found) != 0)
        goto done;
    if (strcmp(st, "completed") != 0) {
        rc = refuse(why, "case_not_completed");
        goto done;
    }
    if (cases_sql_rating_get(c, k->id, &ra, &rated) != 0)
        goto done;
    if (rated) {
        rc = refuse(why, "already_rated");
        goto done;
    }
    if (cases_sql_rating_insert(c, k->id, k->applicant_id, channel,
                                who->kind == CALLER_OPERATOR ? "operator"
                                : who->kind == CALLER_PARTNER ? "partner" : NULL,
                                who->id, score, comment ? comment : "") != 0) {
        /* The check above reads the transaction's snapshot, which may
         * predate a concurrent rating; the primary key decides. */
        if (db_error(c) == DB_ERR_DUP) {
            db_error_clear(c);
            rc = refuse(why, "already_rated");
        }
        goto done;
    }
    if (score <= CASES_RECTIFY_MAX_SCORE &&
        cases_sql_rect_insert(c, k->id, k->outlet_id, score, (int)cases_conf.rectification_hours,
                              rect_id) != 0)
        goto done;
    /* The figures count satisfaction by completion day: that day's rollup
     * is now stale. */
    if (k->has_completed_day && cases_sql_mark_dirty(c, k->completed_day) != 0)
        goto done;
    rc = 0;
done:
    cases_rating_row_clear(&ra);
    return rc;
}

int cases_rect_answer(db_conn *c, const app_principal *who, int64_t id, const char *answer,
                      cases_rect_row *out, const char **why)
{
    bool done = false, found = false;

    *why = NULL;
    if (cases_sql_rect_lock(c, id, out, &found) != 0)
        return -1;
    if (!found)
        return refuse(why, "rectification_not_found");
    if (strcmp(out->state, "open") != 0)
        return refuse(why, "already_answered");
    if (cases_sql_rect_answer(c, id, answer, who->id, &done) != 0)
        return -1;
    if (!done)
        return refuse(why, "already_answered");
    if (cases_sql_event(c, out->case_id, "rectification_answered", NULL, NULL, who->name, NULL) != 0)
        return -1;
    cases_rect_row_clear(out);
    return cases_sql_rect_lock(c, id, out, NULL);
}

/* ---- refusals with more than a code ---------------------------------------- */

void cases_refusal_clear(cases_refusal *f)
{
    json_decref(f->extra);
    memset(f, 0, sizeof *f);
}

/* Sets the refusal (code, detail NULL: the table's, field), returns -1. */
static int refuse_at(cases_refusal *f, const char *code, const char *detail, const char *field)
{
    f->code = code;
    f->detail = detail;
    f->field = field;
    return -1;
}

json_t *cases_json_list(const char *text)
{
    return app_json_array_text(text);
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

/* Operators act for their own outlet; cases filed online (no outlet) are
 * handled by any back office; supervisors may act on every case. 0, or -1
 * refused other_outlet. */
static int operator_may_act(const app_principal *who, int64_t case_outlet, cases_refusal *f)
{
    if ((who->roles & ROLE_SUPERVISOR) || case_outlet == 0 || case_outlet == who->outlet_id)
        return 0;
    return refuse_at(f, "other_outlet", NULL, NULL);
}

/* Locks case id and reads it (decisions are taken on the locked row: the
 * caller's snapshot may predate a concurrent change). 0, or -1 refused
 * case_not_found or a database error. */
static int lock_case(db_conn *c, int64_t id, cases_locked *lk, cases_refusal *f)
{
    bool found = false;

    if (cases_sql_lock_case(c, id, lk, &found) != 0)
        return -1;
    return found ? 0 : refuse_at(f, "case_not_found", NULL, NULL);
}

/* ---- check-ins (trips) -------------------------------------------------------- */

int cases_check_in(db_conn *c, const app_principal *who, const cases_case *k, const char *code,
                   cases_trip_out *out, cases_refusal *f)
{
    const char *channel = cases_caller_channel(who), *qc;
    cases_locked lk = {0};
    catalog_ref item = {0};
    bool found = false;
    cases_trip_in in;
    int rc = -1;

    memset(out, 0, sizeof *out);
    memset(f, 0, sizeof *f);
    /* Decide on the locked row: the caller's snapshot read may predate a
     * concurrent cancellation, check-in or outlet assignment. */
    if (lock_case(c, k->id, &lk, f) != 0)
        goto done;
    if (catalog_version_get(c, lk.catalog_version_id, &item, &found) != 0)
        goto done;
    if (!found) {
        rc = refuse_at(f, "internal", NULL, NULL);
        goto done;
    }
    qc = lk.query_code;
    memset(&in, 0, sizeof in);
    in.state = lk.state;
    in.online_only = cases_online_only(item.channels);
    in.case_outlet = lk.outlet_id;
    in.caller_outlet = who->outlet_id;
    in.channel_offered = channel && catalog_channel_offered(item.channels, channel);
    in.code_given = code != NULL;
    /* Constant-time, like the progress query: the code is a secret. */
    in.code_ok = code && qc && crypto_equal(code, strlen(code), qc, strlen(qc));
    if ((f->code = cases_trip_refusal(&in)) != NULL) {
        f->recorded = true;
        if (strcmp(f->code, "case_closed") == 0)
            f->extra = json_pack("{ss}", "state", lk.state);
        goto done;
    }
    if (in.case_outlet == 0) {
        /* The applicant showed the code here: this outlet serves the case
         * from now on (its visits, transitions and rating). */
        if (cases_sql_set_outlet(c, k->id, who->outlet_id, &out->assigned) != 0)
            goto done;
        if (!out->assigned) { /* cannot happen under the row lock; kept as a guard */
            rc = refuse_at(f, "other_outlet", NULL, NULL);
            goto done;
        }
        if (cases_sql_event(c, k->id, "outlet_assigned", NULL, NULL, who->name, channel) != 0)
            goto done;
    }
    date_format(date_shanghai_today(time(NULL)), out->visit_day);
    if (cases_sql_add_trip(c, k->id, who->outlet_id, who->kind == CALLER_OPERATOR ? who->id : 0,
                           who->kind == CALLER_PARTNER ? who->id : 0, out->visit_day, "",
                           &out->counted) != 0)
        goto done;
    out->trips = lk.trips + (out->counted ? 1 : 0);
    rc = 0;
done:
    catalog_ref_clear(&item);
    cases_locked_clear(&lk);
    return rc;
}

/* ---- transitions ------------------------------------------------------------ */

/* Checks a list of material names (a, field) against the filed catalog
 * version. commitment: names must allow a signed commitment; else they
 * must be non-key. On success *out is the normalised JSON text (malloc'd)
 * or NULL for an empty list. */
static int check_materials(const catalog_ref *item, const json_t *a, const char *field,
                           bool commitment, char **out, cases_refusal *f)
{
    json_t *v;
    size_t i;
    bool key = false, can_commit = false;

    *out = NULL;
    if (a == NULL || json_array_size(a) == 0)
        return 0;
    if (commitment ? !item->allow_commitment : !item->allow_missing)
        return refuse_at(f, commitment ? "commitment_not_allowed" : "missing_not_allowed", NULL, field);
    json_array_foreach(a, i, v) {
        const char *name = json_string_value(v);
        if (name == NULL || !catalog_material_find(item->materials, name, &key, &can_commit))
            return refuse_at(f, "unknown_material", NULL, field);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(a, j)), name) == 0)
                return refuse_at(f, "duplicate_material", NULL, field);
        if (commitment && !can_commit)
            return refuse_at(f, "commitment_not_allowed",
                             "This material cannot be replaced by a signed commitment.", field);
        if (!commitment && key)
            return refuse_at(f, "key_material_missing", NULL, field);
    }
    *out = json_dumps(a, JSON_COMPACT);
    return 0;
}

/* Completion while materials are still awaited: each one must be covered
 * by the applicant's signed commitment, given now (where the item and the
 * material allow one) and recorded; otherwise materials_missing lists them.
 * Decided on the locked row. *committed is set when a commitment was
 * recorded. 0 to go on; -1 refused or a database error. */
static int settle_missing(db_conn *c, const app_principal *who, const catalog_ref *item, int64_t id,
                          const json_t *given, bool *committed, cases_refusal *f)
{
    json_t *missing = NULL, *left = NULL, *can = NULL, *all = NULL, *v;
    cases_locked lk = {0};
    char *commit = NULL, *all_s = NULL;
    bool key = false, can_commit = false;
    size_t i;
    int rc = -1;

    *committed = false;
    if (check_materials(item, given, "commitment", true, &commit, f) != 0)
        return -1;
    if (lock_case(c, id, &lk, f) != 0)
        goto done;
    if (!cases_supply_open(lk.supply_state)) {
        if (commit) {
            refuse_at(f, "nothing_missing", "This case has no materials outstanding to commit to.",
                      "commitment");
            goto done;
        }
        rc = 0;
        goto done;
    }
    missing = cases_json_list(lk.missing_materials);
    json_array_foreach(given, i, v) {
        if (!json_has(missing, v)) {
            refuse_at(f, "not_missing", NULL, "commitment");
            goto done;
        }
    }
    left = json_array();
    can = json_array();
    json_array_foreach(missing, i, v) {
        if (given && json_has(given, v))
            continue;
        json_array_append(left, v);
        if (item->allow_commitment && json_is_string(v) &&
            catalog_material_find(item->materials, json_string_value(v), &key, &can_commit) &&
            can_commit)
            json_array_append(can, v);
    }
    if (json_array_size(left) > 0) {
        refuse_at(f, "materials_missing", NULL, NULL);
        f->extra = json_pack("{sOsO}", "missing", left, "commitment_possible", can);
        goto done;
    }
    /* Everything outstanding is committed to: record it with the commitments
     * made at acceptance. */
    all = cases_json_list(lk.commitment_materials);
    json_array_foreach(given, i, v)
        if (!json_has(all, v))
            json_array_append(all, v);
    all_s = json_dumps(all, JSON_COMPACT);
    if (cases_sql_set_committed(c, id, all_s) != 0 ||
        cases_sql_event(c, id, "committed", NULL, NULL, who->name, NULL) != 0)
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

int cases_transition(db_conn *c, const app_principal *who, const cases_case *k,
                     const cases_transition_in *in, bool *committed, cases_refusal *f)
{
    catalog_ref item = {0};
    bool found = false, completing = strcmp(in->to, "completed") == 0;
    bool accepting = strcmp(in->to, "accepted") == 0;
    const char *why = NULL;
    char *missing = NULL, *commit = NULL, due_s[DATE_STR_SIZE];
    int rc = -1;

    *committed = false;
    memset(f, 0, sizeof *f);
    if (operator_may_act(who, k->outlet_id, f) != 0)
        goto done;
    if ((in->missing && !accepting) || (in->commitment && !accepting && !completing)) {
        rc = refuse_at(f, "materials_only_on_accept", NULL, "to");
        goto done;
    }
    if (catalog_version_get(c, k->catalog_version_id, &item, &found) != 0)
        goto done;
    if (!found) {
        rc = refuse_at(f, "internal", NULL, NULL);
        goto done;
    }
    if (completing) {
        if (settle_missing(c, who, &item, k->id, in->commitment, committed, f) != 0)
            goto done;
    } else if (check_materials(&item, in->missing, "missing", false, &missing, f) != 0 ||
               check_materials(&item, in->commitment, "commitment", true, &commit, f) != 0) {
        goto done;
    }
    if (cases_move(c, k->id, in->to, in->reason, who->name[0] ? who->name : "system", &why) != 0) {
        if (why && strcmp(why, "unknown_case") == 0)
            refuse_at(f, "case_not_found", NULL, NULL);
        else if (why)
            refuse_at(f, why, NULL, strcmp(why, "bad_transition") == 0 ? "to" : NULL);
        goto done;
    }
    if (missing || commit) {
        /* The applicant commits to supply the missing materials within
         * cases.supply_days working days from today. */
        int32_t due = cases_add_workdays(cases_calendar_current(), date_shanghai_today(time(NULL)),
                                         (int)cases_conf.supply_days);
        date_format(due, due_s);
        if (cases_sql_set_acceptance(c, k->id, missing, missing ? due_s : NULL, commit) != 0)
            goto done;
    }
    rc = 0;
done:
    free(missing);
    free(commit);
    catalog_ref_clear(&item);
    return rc;
}

/* ---- supplements -------------------------------------------------------------- */

int cases_supply(db_conn *c, const app_principal *who, const cases_case *k, const json_t *given,
                 json_t **left, char supply_state[16], cases_refusal *f)
{
    cases_locked lk = {0};
    json_t *missing = NULL, *v;
    char *left_s = NULL;
    size_t i;
    int rc = -1;

    *left = NULL;
    memset(f, 0, sizeof *f);
    if (operator_may_act(who, k->outlet_id, f) != 0)
        goto done;
    /* Read-modify-write of the missing list: read it from the locked row
     * (the latest committed value), never from the caller's snapshot, or two
     * concurrent supplements would each drop only their own material. */
    if (lock_case(c, k->id, &lk, f) != 0)
        goto done;
    /* Materials of a cancelled, rejected or completed case are no longer
     * awaited: decided on the locked row, like the other state checks. */
    if (!cases_state_open(lk.state)) {
        rc = refuse_at(f, "case_closed", "Materials can only be supplied while the case is open.", NULL);
        f->extra = json_pack("{ss}", "state", lk.state);
        goto done;
    }
    missing = cases_json_list(lk.missing_materials);
    if (json_array_size(missing) == 0 || strcmp(lk.supply_state, "supplied") == 0) {
        rc = refuse_at(f, "nothing_missing", NULL, NULL);
        goto done;
    }
    json_array_foreach(given, i, v) {
        if (!json_is_string(v) || !json_has(missing, v)) {
            rc = refuse_at(f, "not_missing", NULL, "materials");
            goto done;
        }
    }
    *left = json_array();
    json_array_foreach(missing, i, v)
        if (!json_has(given, v))
            json_array_append(*left, v);
    left_s = json_dumps(*left, JSON_COMPACT);
    if (cases_sql_set_missing(c, k->id, left_s, json_array_size(*left) == 0) != 0)
        goto done;
    if (cases_sql_event(c, k->id, "supplied", NULL, NULL, who->name,
                        json_array_size(*left) == 0 ? "all" : "partial") != 0)
        goto done;
    snprintf(supply_state, 16, "%s", json_array_size(*left) == 0 ? "supplied" : lk.supply_state);
    rc = 0;
done:
    if (rc != 0) {
        json_decref(*left);
        *left = NULL;
    }
    free(left_s);
    json_decref(missing);
    cases_locked_clear(&lk);
    return rc;
}
