/* violations_actions.c - handling and cancelling a violation, as business
 * functions: (db, caller, input) -> a result, or a refusal (a code of the
 * module's error table, violations_module.c). No HTTP here: the handlers
 * in violations_http.c translate a refusal with app_fail_refusal and
 * reply. Both run inside the caller's transaction (app_tx), write their
 * audit records in it, and block (database). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "modules/cases/cases.h"
#include "modules/payments/payments.h"
#include "modules/people/people.h"
#include "modules/violations/violations_internal.h"
#include "modules/violations/violations_rules.h"
#include "modules/violations/violations_sql.h"
#include "server/audit.h"
#include "server/events.h"
#include "server/date.h"

#define HANDLE_ITEM "VIO-HANDLE"

/* A refusal that also carries its code as the member `reason` (extra's
 * members too: stolen, may be NULL). -1. */
static int refuse(app_refusal *f, const char *code, json_t *extra)
{
    if (extra == NULL)
        extra = json_object();
    json_object_set_new(extra, "reason", json_string(code));
    return app_refuse(f, code, NULL, NULL, extra);
}

static int not_found(app_refusal *f)
{
    return app_refuse(f, "not_found", "No such violation.", NULL, NULL);
}

/* The class a licence needs for this violation: the registered vehicle's,
 * else the one of its vehicle type. */
static int required_class(db_conn *c, const violations_row *v, char cls[8], bool *known)
{
    violations_vehicle veh;
    bool found = false;

    *known = false;
    if (v->vehicle_id) {
        if (violations_sql_vehicle_by_id(c, v->vehicle_id, &veh, &found) != 0)
            return -1;
    } else if (violations_sql_vehicle_by_plate(c, v->plate, &veh, &found) != 0) {
        return -1;
    }
    if (found && veh.class_required[0]) {
        snprintf(cls, 8, "%s", veh.class_required);
        *known = true;
        return 0;
    }
    return violations_sql_class_for_type(c, v->vehicle_type, cls, known);
}

static int refuse_state(app_refusal *f, const violations_row *v)
{
    const char *code = strcmp(v->state, "cancelled") == 0 ? "violation_cancelled" : "already_handled";
    return refuse(f, code, json_pack("{ss}", "state", v->state));
}

/* A citizen with the decision number of a violation of a vehicle they have
 * no tie to: refused, and the attempt kept for the supervision rules (the
 * refusal commits alone). */
static int refuse_no_tie(db_conn *c, const app_actor *a, const violations_row *v,
                         int64_t licence_id, const violations_tie *t, app_refusal *f)
{
    refuse(f, "no_tie_to_vehicle", NULL);
    if (audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.handle", "violation", v->id, "refused",
              json_pack("{sssIsIss}", "reason", "no_tie_to_vehicle", "licence_id",
                        (json_int_t)licence_id, "vehicle_id", (json_int_t)t->vehicle_id, "channel",
                        "app")) != 0 ||
        app_event_emit(c, a->who, "violations.handle_refused", "licence", licence_id,
                       json_pack("{sIsIsIss}", "violation_id", (json_int_t)v->id, "vehicle_id",
                                 (json_int_t)t->vehicle_id, "owner_citizen_id",
                                 (json_int_t)t->owner_citizen_id, "reason", "no_tie_to_vehicle")) != 0) {
        app_refusal_clear(f); /* the database error decides */
        return -1;
    }
    f->recorded = true;
    return -1;
}

/* A case opened and completed with the handling (zero trips online, the
 * one window visit otherwise). */
static int open_case(db_conn *c, const app_actor *a, const violations_handle_in *in,
                     const violations_row *v, int64_t citizen_id, const char *channel,
                     violations_handled *out, app_refusal *f)
{
    const app_principal *who = a->who;
    char ref[24];
    const char *why = NULL;
    cases_new cn;

    snprintf(ref, sizeof ref, "%lld", (long long)v->id);
    memset(&cn, 0, sizeof cn);
    cn.item_code = HANDLE_ITEM;
    cn.applicant_id = citizen_id;
    cn.channel = channel;
    cn.outlet_id = in->window ? who->outlet_id : 0;
    cn.assisted_kind = in->window ? "operator" : NULL;
    cn.assisted_id = in->window ? who->id : 0;
    cn.ref_type = "violation";
    cn.ref_id = ref;
    if (cases_create(c, &cn, &out->case_id, out->case_number, out->query_code, &why) != 0) {
        if (why == NULL)
            return -1;
        app_log(1, "violations", "request_id=%s msg=\"cannot open case\" why=%s", a->request_id, why);
        return app_refuse(f, "service_not_configured", NULL, NULL, NULL);
    }
    if (in->window && cases_record_trip(c, out->case_id, who->outlet_id, who->id) != 0)
        return -1;
    return violations_sql_set_case(c, v->id, out->case_id);
}

int violations_handle(db_conn *c, const app_actor *a, const violations_handle_in *in,
                      violations_handled *out, app_refusal *f)
{
    const app_principal *who = a->who;
    violations_licence lic;
    violations_row v;
    violations_tie tie;
    violations_handling hd;
    bool found = false, owner = false, bound = false, known = false, done = false, full = false;
    bool unrelated, rolled, has_decision;
    const char *why = NULL, *channel = in->window ? "window" : "app", *tie_name;
    char cls[8], cycle_s[DATE_STR_SIZE];
    int32_t today = date_shanghai_today(time(NULL)), cycle;
    int base, total = 0;

    memset(out, 0, sizeof *out);
    /* Locks in one order everywhere: licence, then violation. */
    if (in->window) {
        if (violations_sql_licence_by_id(c, in->licence_id, true, &lic, &found) != 0)
            return -1;
        if (!found)
            return app_refuse(f, "licence_not_found", NULL, "licence_id", NULL);
    } else if (violations_sql_licence_of_citizen(c, who->id, true, &lic, &found) != 0) {
        return -1;
    }
    if (violations_sql_get(c, in->violation_id, true, &v, &found) != 0)
        return -1;
    if (!found)
        return not_found(f);
    has_decision = in->decision_no && strcmp(in->decision_no, v.decision_no) == 0;
    if (!in->window && lic.id == 0) {
        /* Nothing of this citizen's can be tied to the violation but the
         * vehicle: keep foreign violations invisible first. */
        if (violations_sql_tie(c, v.plate, who->id, &tie) != 0)
            return -1;
        if (!tie.owner && !tie.binding_id) {
            if (!has_decision)
                return not_found(f);
            return refuse_no_tie(c, a, &v, 0, &tie, f);
        }
        return refuse(f, "no_licence", NULL);
    }
    if (violations_sql_tie(c, v.plate, lic.citizen_id, &tie) != 0)
        return -1;
    owner = tie.owner;
    bound = tie.binding_id != 0;
    /* A citizen sees the violations of their vehicles, of the vehicles
     * bound to them and of their licence; any other one only with its
     * decision number in hand (the paper decision served on the driver).
     * Seeing is not taking: points go online only to a licence tied to the
     * vehicle, or anyone who learnt a decision number could take (buy) the
     * points of a stranger's car. */
    if (!in->window && !owner && !bound && v.licence_id != lic.id) {
        if (!has_decision)
            return not_found(f);
        if (strcmp(v.state, "recorded") == 0)
            return refuse_no_tie(c, a, &v, lic.id, &tie, f);
    }
    if (strcmp(v.state, "recorded") != 0)
        return refuse_state(f, &v);
    tie_name = violations_handling_tie(owner, bound, in->window, in->documents, &why);
    if (tie_name == NULL) {
        if (strcmp(why, "no_tie_to_vehicle") == 0)
            return refuse_no_tie(c, a, &v, lic.id, &tie, f);
        return app_refuse(f, "documents_required", NULL, "documents",
                          json_pack("{ss}", "reason", "documents_required"));
    }

    /* A finished scoring cycle starts afresh (points below 12 lapse). */
    base = lic.points;
    cycle = lic.cycle_start;
    rolled = violations_cycle_current(lic.cycle_start, today, &cycle);
    if (rolled && strcmp(lic.status, "full_score") != 0 && lic.points < VIOLATIONS_FULL_SCORE)
        base = 0;
    else
        cycle = lic.cycle_start;

    if (violations_licence_usable(lic.status, lic.valid_until, today, in->window, &why) != 0)
        return refuse(f, why, json_pack("{ss}", "licence_status", lic.status));
    if (required_class(c, &v, cls, &known) != 0)
        return -1;
    if (!known)
        return refuse(f, "vehicle_class_unknown", NULL);
    if (!violations_classes_cover(lic.classes, cls))
        return refuse(f, "class_not_covered",
                      json_pack("{ssss}", "class_required", cls, "licence_classes", lic.classes));
    if (violations_points_apply(base, v.points, in->window, &total, &full, &why) != 0) {
        /* points_invalid: stored points out of range, not the caller's doing */
        if (strcmp(why, "points_would_reach_12") != 0) {
            app_log(1, "violations", "request_id=%s msg=\"points out of range\" licence_points=%d "
                    "violation_points=%d", a->request_id, base, v.points);
            return app_refuse(f, "internal", NULL, NULL, NULL);
        }
        return refuse(f, why, json_pack("{sisi}", "licence_points", base, "violation_points", v.points));
    }

    if (violations_sql_mark_handled(c, v.id, lic.id, lic.citizen_id, channel, &done) != 0)
        return -1;
    if (!done)
        return refuse(f, "already_handled", NULL);
    date_format(cycle, cycle_s);
    if (people_licence_set_points(c, lic.id, total, cycle_s, full) != 0)
        return -1;
    if (open_case(c, a, in, &v, lic.citizen_id, channel, out, f) != 0)
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
    hd.documents = in->window ? in->documents_json : NULL;
    hd.channel = channel;
    hd.operator_id = in->window ? who->id : 0;
    hd.outlet_id = in->window ? who->outlet_id : 0;
    hd.points = v.points;
    if (violations_sql_handling_insert(c, &hd) != 0)
        return -1;
    /* Handling is decided on the spot: the case is done in the same
     * transaction (zero trips online, the one window visit otherwise). */
    why = NULL;
    if (cases_set_state(c, out->case_id, "completed", &why) != 0) {
        if (why == NULL)
            return -1;
        app_log(1, "violations", "request_id=%s msg=\"cannot complete case\" why=%s", a->request_id, why);
        return app_refuse(f, "internal", NULL, NULL, NULL);
    }

    unrelated = !owner && !bound;
    if (audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.handle", "violation", v.id, "ok",
              json_pack("{sIsssisisbsbss}", "licence_id", (json_int_t)lic.id, "channel", channel,
                        "points", v.points, "licence_points", total, "full_score", full,
                        "unrelated", unrelated, "tie", tie_name)) != 0)
        return -1;
    /* Accepting violations of vehicles one has no tie to is how points are
     * traded: only at a window on the owner's documents, and the
     * supervision rules watch this action. */
    if (unrelated &&
        audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.handle_unrelated", "violation", v.id, "ok",
              json_pack("{sIsIssso*}", "licence_id", (json_int_t)lic.id, "vehicle_id",
                        (json_int_t)tie.vehicle_id, "channel", channel, "documents",
                        in->documents_json ? json_loads(in->documents_json, 0, NULL) : NULL)) != 0)
        return -1;
    if (full && strcmp(lic.status, "full_score") != 0 &&
        audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.full_score", "licence", lic.id, "ok",
              json_pack("{sisI}", "points", total, "violation_id", (json_int_t)v.id)) != 0)
        return -1;

    /* For supervision (points trading): who took whose points, and the tie. */
    if (app_event_emit(c, a->who, "violations.handled", "licence", lic.id,
                       json_pack("{sIsIsIsIsssbsssisb}", "violation_id", (json_int_t)v.id,
                                 "vehicle_id", (json_int_t)tie.vehicle_id, "citizen_id",
                                 (json_int_t)lic.citizen_id, "owner_citizen_id",
                                 (json_int_t)tie.owner_citizen_id, "tie", tie_name, "unrelated",
                                 unrelated, "channel", channel, "points", v.points, "full_score",
                                 full)) != 0)
        return -1;
    if (violations_sql_get(c, v.id, false, &out->v, &found) != 0 || !found)
        return -1;
    out->licence_points = total;
    snprintf(out->licence_status, sizeof out->licence_status, "%s", full ? "full_score" : lic.status);
    out->full_score_study = full || lic.full_score_study;
    out->tie = tie_name;
    return 0;
}

int violations_cancel(db_conn *c, const app_actor *a, int64_t id, const char *reason,
                      violations_row *out, app_refusal *f)
{
    violations_row v, locked;
    violations_licence lic;
    bool found = false, done = false, order_closed = false, pending = false, back = false;
    bool lift = false;
    char from[16], ref[24], order_no[40];
    int64_t case_id = 0;
    int points_after = 0;
    const char *why = NULL;
    int32_t today = date_shanghai_today(time(NULL));

    if (violations_sql_get(c, id, false, &v, &found) != 0)
        return -1;
    if (!found)
        return not_found(f);
    memset(&lic, 0, sizeof lic);
    /* Licence before violation, as everywhere: the points go back. */
    if (v.licence_id && violations_sql_licence_by_id(c, v.licence_id, true, &lic, &found) != 0)
        return -1;
    if (violations_sql_get(c, id, true, &locked, &found) != 0)
        return -1;
    if (!found || (strcmp(locked.state, "recorded") != 0 && strcmp(locked.state, "handled") != 0) ||
        locked.licence_id != v.licence_id)
        return refuse(f, "not_cancellable", json_pack("{ss}", "state", found ? locked.state : "unknown"));
    snprintf(from, sizeof from, "%s", locked.state);
    /* A live payment order must not outlive the violation it collects for
     * (violation, then order: the lock order of order creation). An open
     * one is closed; one awaiting the channel's confirmation may already
     * hold the citizen's money, so the cancel waits for the outcome. */
    if (payments_violation_cancel(c, a->who, a->request_id, a->peer, locked.id, &order_closed,
                                  &pending, order_no, sizeof order_no) != 0)
        return -1;
    if (pending) {
        /* Nothing changed; commit only the record of the refused attempt. */
        if (audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.cancel", "violation", locked.id, "refused",
                  json_pack("{ssssss}", "from", from, "refused", "payment_pending", "order_no",
                            order_no)) != 0)
            return -1;
        refuse(f, "payment_pending", json_pack("{ss}", "order_no", order_no));
        f->recorded = true;
        return -1;
    }
    if (violations_sql_cancel(c, locked.id, from, reason, &done) != 0)
        return -1;
    if (!done)
        return refuse(f, "not_cancellable", NULL);
    /* Points go back only into the cycle they were counted in; a full
     * score reached in that cycle is lifted when the licence falls back
     * below 12 (violations_points_on_cancel). */
    if (strcmp(from, "handled") == 0 && lic.id) {
        int32_t handled_day = 0; /* unknown: nothing goes back */
        if (locked.handled_at)
            handled_day = date_today_in_tz(locked.handled_at, DATE_SHANGHAI_OFFSET_MINUTES);
        back = violations_points_on_cancel(lic.points, lic.cycle_start, lic.status, locked.points,
                                           handled_day, today, &points_after, &lift);
        if (back && people_licence_return_points(c, lic.id, points_after, lift) != 0)
            return -1;
    }
    snprintf(ref, sizeof ref, "%lld", (long long)locked.id);
    if (cases_find_by_ref(c, "violation", ref, &case_id) != 0)
        return -1;
    /* A completed case stays completed: the cancellation is the record. */
    if (case_id && cases_set_state(c, case_id, "cancelled", &why) != 0 && why == NULL)
        return -1;
    if (audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.cancel", "violation", locked.id, "ok",
              json_pack("{sssssIsbss?}", "from", from, "reason", reason, "points_returned",
                        (json_int_t)(back ? lic.points - points_after : 0), "full_score_lifted",
                        lift, "order_closed", order_closed ? order_no : NULL)) != 0)
        return -1;
    if (lift && audit_write_sys_id(c, a->who, a->request_id, a->peer, "violations.full_score_lifted", "licence", lic.id, "ok",
                      json_pack("{sisI}", "points", points_after, "violation_id",
                                (json_int_t)locked.id)) != 0)
        return -1;
    if (violations_sql_get(c, locked.id, false, out, &found) != 0 || !found)
        return -1;
    return 0;
}
