/* supervision_http.c - the rule and alert routes (thin: inputs are checked
 * by the dispatcher from supervision_module.c's declarations). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/supervision/supervision_internal.h"
#include "modules/supervision/supervision_sql.h"
#include "server/audit.h"

/* Supervisors and auditors see every outlet's alerts; any other caller
 * holding the permission only their own outlet's. */
static bool sees_all(const app_req *r)
{
    return (r->who.roles & (ROLE_SUPERVISOR | ROLE_AUDITOR)) != 0;
}

static json_t *rule_json(const sup_rule *x)
{
    json_t *params = json_loads(x->params, 0, NULL);
    return json_pack("{sisssssssssisisosbsiss}", "id", x->id, "code", x->code, "description",
                     x->description, "severity", x->severity, "mode", x->mode, "threshold",
                     x->threshold, "window_s", x->window_s, "params",
                     json_is_object(params) ? params : (json_decref(params), json_object()),
                     "enabled", x->enabled, "version", x->version, "updated_at", x->updated_at);
}

static json_t *alert_json(const sup_alert *a)
{
    return json_pack("{sIsisssisssssIsIsssosisossss}", "id", (json_int_t)a->id, "rule_id", a->rule_id,
                     "rule_code", a->rule_code, "rule_version", a->rule_version, "severity",
                     a->severity, "subject_kind", a->subject_kind, "subject_id",
                     (json_int_t)a->subject_id, "outlet_id", (json_int_t)a->outlet_id, "state",
                     a->state, "outcome", app_json_str_if(a->has_outcome, a->outcome), "hits", a->hits,
                     "assignee_id", app_json_int_if(a->has_assignee_id, a->assignee_id), "first_at",
                     a->first_at, "last_at", a->last_at);
}

void sup_on_rules(app_req *r)
{
    sup_rule *rows = NULL;
    json_t *items;
    int n = 0;

    if (sup_sql_rules(r->db, false, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, rule_json(&rows[i]));
    app_reply_json(r, 200, json_pack("{so}", "items", items));
    sup_rule_array_free(rows, n);
}

static int tx_rule_update(app_req *r, void *arg)
{
    sup_rule x = {0};
    bool found = false;
    const char *s;
    char *params = NULL;
    json_t *v, *before = NULL;
    int rc = -1;

    (void)arg;
    if (sup_sql_rule(r->db, app_path_int(r, 0), true, &x, &found) != 0)
        goto done;
    if (!found) {
        app_fail(r, "rule_not_found", NULL, NULL);
        goto done;
    }
    before = rule_json(&x);
    if ((s = app_json_str(r, "description")) != NULL)
        snprintf(x.description, sizeof x.description, "%s", s);
    if ((s = app_json_str(r, "severity")) != NULL)
        snprintf(x.severity, sizeof x.severity, "%s", s);
    x.threshold = (int32_t)app_json_int(r, "threshold", x.threshold);
    x.window_s = (int32_t)app_json_int(r, "window_s", x.window_s);
    x.enabled = app_json_bool(r, "enabled", x.enabled);
    if ((v = json_object_get(r->json, "params")) != NULL) {
        params = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
        free(x.params);
        x.params = params;
        params = NULL;
    }
    x.version++;
    if (sup_sql_rule_update(r->db, &x) != 0 ||
        sup_sql_rule_version_add(r->db, &x, r->who.id, app_json_str(r, "note")) != 0)
        goto done;
    if (audit_write_id(r, "supervision.rule_update", "rule", x.id, "ok",
                       json_pack("{sOsosiss}", "before", before, "after", rule_json(&x), "version",
                                 x.version, "note", app_json_str(r, "note"))) != 0)
        goto done;
    /* rule_json(&x) reads updated_at from before the change: reread. */
    sup_rule_clear(&x);
    if (sup_sql_rule(r->db, app_path_int(r, 0), false, &x, &found) != 0 || !found)
        goto done;
    app_reply_json(r, 200, rule_json(&x));
    rc = 0;
done:
    json_decref(before);
    sup_rule_clear(&x);
    return rc;
}

void sup_on_rule_update(app_req *r)
{
    app_tx(r, tx_rule_update, NULL);
}

void sup_on_rule_versions(app_req *r)
{
    sup_rule x = {0};
    sup_rule_version *rows = NULL;
    bool found = false;
    json_t *items;
    int n = 0;

    if (sup_sql_rule(r->db, app_path_int(r, 0), false, &x, &found) != 0 ||
        (found && sup_sql_rule_versions(r->db, x.id, &rows, &n) != 0)) {
        app_problem_db(r);
        goto done;
    }
    if (!found) {
        app_fail(r, "rule_not_found", NULL, NULL);
        goto done;
    }
    items = json_array();
    for (int i = 0; i < n; i++) {
        json_t *params = json_loads(rows[i].params, 0, NULL);
        json_array_append_new(items,
            json_pack("{sisssssisisosbsIssss}", "version", rows[i].version, "description",
                      rows[i].description, "severity", rows[i].severity, "threshold",
                      rows[i].threshold, "window_s", rows[i].window_s, "params",
                      json_is_object(params) ? params : (json_decref(params), json_object()),
                      "enabled", rows[i].enabled, "changed_by", (json_int_t)rows[i].changed_by,
                      "note", rows[i].note, "changed_at", rows[i].changed_at));
    }
    app_reply_json(r, 200, json_pack("{siso}", "rule_id", x.id, "items", items));
done:
    sup_rule_version_array_free(rows, n);
    sup_rule_clear(&x);
}

/* "YYYY-MM-DD" -> "YYYY-MM-DD 00:00:00" (UTC day bounds). */
static const char *day_start(const char *d, char *buf, size_t cap)
{
    if (d == NULL)
        return NULL;
    snprintf(buf, cap, "%.10s 00:00:00", d);
    return buf;
}

static void filter_of(app_req *r, sup_filter *f, char *from, char *to, size_t cap, int64_t limit)
{
    memset(f, 0, sizeof *f);
    f->rule_id = app_query_int(r, "rule_id", 0);
    f->severity = app_query(r, "severity");
    f->outlet_id = app_query_int(r, "outlet_id", 0);
    f->subject_kind = app_query(r, "subject_kind");
    f->subject_id = app_query_int(r, "subject_id", 0);
    f->state = app_query(r, "state");
    f->from = day_start(app_query(r, "from"), from, cap);
    f->to = day_start(app_query(r, "to"), to, cap);
    f->before = app_query_int(r, "before", 0);
    f->limit = limit;
    if (!sees_all(r))
        f->outlet_id = r->who.outlet_id;
}

void sup_on_alerts(app_req *r)
{
    char from[24], to[24];
    sup_filter f;
    sup_alert *rows = NULL;
    json_t *items;
    int n = 0;

    filter_of(r, &f, from, to, sizeof from, app_query_int(r, "limit", 20));
    if (sup_sql_alerts(r->db, &f, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, alert_json(&rows[i]));
    app_reply_json(r, 200, app_json_page(items, n, f.limit, n > 0 ? rows[n - 1].id : 0));
    sup_alert_array_free(rows, n);
}

/* CSV of the filtered alerts (up to 10000, newest first). Fields hold only
 * codes, numbers and times: nothing needs quoting. */
void sup_on_alerts_csv(app_req *r)
{
    char from[24], to[24];
    sup_filter f;
    sup_alert *rows = NULL;
    size_t cap = 256, len = 0;
    char *out;
    int n = 0;

    filter_of(r, &f, from, to, sizeof from, 10000);
    if (sup_sql_alerts(r->db, &f, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    cap += (size_t)n * 256;
    out = app_malloc(cap);
    len += (size_t)snprintf(out + len, cap - len,
                            "id,rule_code,severity,subject_kind,subject_id,outlet_id,state,outcome,"
                            "hits,assignee_id,first_at,last_at\r\n");
    for (int i = 0; i < n; i++) {
        const sup_alert *a = &rows[i];
        char assignee[24] = "";
        if (a->has_assignee_id)
            snprintf(assignee, sizeof assignee, "%lld", (long long)a->assignee_id);
        len += (size_t)snprintf(out + len, cap - len, "%lld,%s,%s,%s,%lld,%lld,%s,%s,%d,%s,%s,%s\r\n",
                                (long long)a->id, a->rule_code, a->severity, a->subject_kind,
                                (long long)a->subject_id, (long long)a->outlet_id, a->state,
                                a->has_outcome ? a->outcome : "", a->hits, assignee, a->first_at,
                                a->last_at);
    }
    app_reply_bytes(r, 200, "text/csv; charset=utf-8", out, len);
    free(out);
    sup_alert_array_free(rows, n);
}

static int find_visible(app_req *r, bool lock, sup_alert *a)
{
    bool found = false;
    if (sup_sql_alert(r->db, app_path_int(r, 0), lock, a, &found) != 0)
        return -1;
    /* Another outlet's alert looks like no alert. */
    if (!found || (!sees_all(r) && a->outlet_id != r->who.outlet_id)) {
        app_fail(r, "alert_not_found", NULL, NULL);
        return -1;
    }
    return 0;
}

void sup_on_alert(app_req *r)
{
    sup_alert a;
    sup_evidence *ev = NULL;
    sup_step *st = NULL;
    json_t *out, *evj, *stj;
    int nev = 0, nst = 0;

    if (find_visible(r, false, &a) != 0) {
        if (r->status == 0)
            app_problem_db(r);
        return;
    }
    if (sup_sql_evidence(r->db, a.id, &ev, &nev) != 0 || sup_sql_steps(r->db, a.id, &st, &nst) != 0) {
        app_problem_db(r);
        goto done;
    }
    evj = json_array();
    for (int i = 0; i < nev; i++) {
        json_t *d = json_loads(ev[i].detail, 0, NULL);
        json_array_append_new(evj, json_pack("{sIsssoss}", "event_id", (json_int_t)ev[i].event_id,
                                             "event_type", ev[i].event_type, "detail",
                                             d ? d : json_object(), "at", ev[i].at));
    }
    stj = json_array();
    for (int i = 0; i < nst; i++)
        json_array_append_new(stj, json_pack("{sIsssssosIsossss}", "id", (json_int_t)st[i].id, "from",
                                             st[i].from_state, "to", st[i].to_state, "outcome",
                                             app_json_str_if(st[i].has_outcome, st[i].outcome),
                                             "operator_id", (json_int_t)st[i].operator_id,
                                             "assignee_id",
                                             app_json_int_if(st[i].has_assignee_id, st[i].assignee_id),
                                             "note", st[i].note, "at", st[i].at));
    out = alert_json(&a);
    json_object_set_new(out, "evidence", evj);
    json_object_set_new(out, "steps", stj);
    app_reply_json(r, 200, out);
done:
    sup_evidence_array_free(ev, nev);
    sup_step_array_free(st, nst);
}

/* The workflow: open -> acknowledged -> investigating -> closed; closing
 * (also straight from acknowledged) names the outcome. */
static bool step_allowed(const char *from, const char *to)
{
    if (strcmp(to, "acknowledged") == 0)
        return strcmp(from, "open") == 0;
    if (strcmp(to, "investigating") == 0)
        return strcmp(from, "acknowledged") == 0;
    if (strcmp(to, "closed") == 0)
        return strcmp(from, "acknowledged") == 0 || strcmp(from, "investigating") == 0;
    return false;
}

static int tx_step(app_req *r, void *arg)
{
    sup_alert a;
    const char *to = app_json_str(r, "to"), *outcome = app_json_str(r, "outcome");
    const char *note = app_json_str(r, "note");
    int64_t assignee = app_json_int(r, "assignee_id", 0);
    uint64_t affected = 0;
    bool found = false;

    (void)arg;
    if (find_visible(r, true, &a) != 0)
        return -1;
    if (!step_allowed(a.state, to)) {
        app_fail_ext(r, "bad_transition", NULL, "to", json_pack("{ss}", "state", a.state));
        return -1;
    }
    if ((strcmp(to, "closed") == 0) != (outcome != NULL)) {
        app_fail(r, "bad_outcome", NULL, "outcome");
        return -1;
    }
    if (sup_sql_alert_move(r->db, a.id, a.state, to, outcome, &affected) != 0)
        return -1;
    if (affected != 1) {
        app_fail_ext(r, "bad_transition", NULL, "to", json_pack("{ss}", "state", a.state));
        return -1;
    }
    if ((assignee > 0 && sup_sql_alert_assign(r->db, a.id, assignee) != 0) ||
        sup_sql_step_add(r->db, a.id, a.state, to, outcome, assignee, r->who.id, note) != 0 ||
        audit_write_id(r, "supervision.alert_step", "alert", a.id, "ok",
                       json_pack("{sssssos}", "from", a.state, "to", to, "outcome",
                                 app_json_str_or_null(outcome), "note", note)) != 0)
        return -1;
    if (sup_sql_alert(r->db, a.id, false, &a, &found) != 0 || !found)
        return -1;
    app_reply_json(r, 200, alert_json(&a));
    return 0;
}

void sup_on_alert_step(app_req *r)
{
    app_tx(r, tx_step, NULL);
}
