/* supervision_rules.c - the near-real-time rules: the outbox consumer
 * (server/events.h) that turns events into observations and alerts, in the
 * consumer's transaction (its cursor moves with these writes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/supervision/supervision_internal.h"
#include "modules/supervision/supervision_sql.h"

/* What one rule makes of one event: the subject it is about, and for
 * windowed rules the value counted distinct within the window. */
typedef struct sup_hit {
    const char *kind;
    int64_t subject;
    int64_t value;
    bool windowed;
} sup_hit;

static int64_t pint(json_t *p, const char *k)
{
    json_t *v = json_object_get(p, k);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* The bureau's hour (Asia/Shanghai, UTC+8, no DST) of "YYYY-MM-DDTHH:..Z". */
int sup_shanghai_hour(const char *utc)
{
    int h = atoi(utc + 11);
    return (h + 8) % 24;
}

/* Whether the bureau's hour lies in the working hours [start, end). A
 * shift across midnight (start > end, e.g. 22 to 6) wraps; start == end
 * means no working hours at all. */
bool sup_working_hour(int hour, int start, int end)
{
    if (start <= end)
        return hour >= start && hour < end;
    return hour >= start || hour < end;
}

static bool sup_rule_matches(const char *code, const char *params, const app_event *ev, json_t *p,
                      sup_hit *h)
{
    memset(h, 0, sizeof *h);
    if (strcmp(code, "intermediary") == 0) {
        if (strcmp(ev->type, "cases.filed") != 0)
            return false;
        h->windowed = true;
        h->value = pint(p, "applicant_id");
        if (ev->outlet_id > 0) {
            h->kind = "outlet";
            h->subject = ev->outlet_id;
        } else if (strcmp(ev->actor_kind, "operator") == 0 || strcmp(ev->actor_kind, "partner") == 0) {
            h->kind = strcmp(ev->actor_kind, "operator") == 0 ? "operator" : "partner";
            h->subject = ev->actor_id;
        } else {
            return false; /* a citizen filing their own business */
        }
        return h->value > 0;
    }
    if (strcmp(code, "points_unrelated") == 0) {
        bool unrelated = json_is_true(json_object_get(p, "unrelated"));
        if (!(strcmp(ev->type, "violations.handled") == 0 && unrelated) &&
            strcmp(ev->type, "violations.handle_refused") != 0)
            return false;
        h->kind = "licence";
        h->subject = ev->subject_id;
        return h->subject > 0;
    }
    if (strcmp(code, "points_many_licences") == 0) {
        if (strcmp(ev->type, "violations.handled") != 0 || pint(p, "vehicle_id") <= 0)
            return false;
        h->kind = "vehicle";
        h->subject = pint(p, "vehicle_id");
        h->value = ev->subject_id;
        h->windowed = true;
        return true;
    }
    if (strcmp(code, "off_hours") == 0) {
        json_t *cfg = json_loads(params, 0, NULL);
        int start = (int)pint(cfg, "start_hour"), end = (int)pint(cfg, "end_hour");
        int hour = sup_shanghai_hour(ev->created_at);
        json_decref(cfg);
        if (strcmp(ev->actor_kind, "operator") != 0 || ev->actor_id <= 0)
            return false;
        if (sup_working_hour(hour, start, end))
            return false;
        h->kind = "operator";
        h->subject = ev->actor_id;
        return true;
    }
    if (strcmp(code, "plate_hoarding") == 0) {
        if (strcmp(ev->type, "registration.plate_released") != 0)
            return false;
        h->kind = "citizen";
        h->subject = ev->subject_id;
        h->value = ev->id; /* every release counts */
        h->windowed = true;
        return h->subject > 0;
    }
    return false;
}

int sup_consume(db_conn *c, const app_event *ev)
{
    sup_rule *rules = NULL;
    json_t *p = json_loads(ev->payload, 0, NULL);
    char at[20];
    int n = 0, rc = -1;

    /* "YYYY-MM-DDTHH:MM:SSZ" -> "YYYY-MM-DD HH:MM:SS" */
    snprintf(at, sizeof at, "%.10s %.8s", ev->created_at, ev->created_at + 11);
    if (sup_sql_rules(c, true, &rules, &n) != 0)
        goto done;
    for (int i = 0; i < n; i++) {
        sup_hit h;
        int64_t alert = 0, seen = 0;
        if (!sup_rule_matches(rules[i].code, rules[i].params, ev, p, &h))
            continue;
        if (h.windowed) {
            if (sup_sql_observe(c, rules[i].id, h.kind, h.subject, h.value, ev->id, at) != 0 ||
                sup_sql_distinct(c, rules[i].id, h.kind, h.subject, at, rules[i].window_s, &seen) != 0)
                goto done;
            if (seen < rules[i].threshold)
                continue;
        }
        if (sup_sql_alert_raise(c, &rules[i], h.kind, h.subject, ev->outlet_id, at, &alert) != 0 ||
            sup_sql_evidence_add(c, alert, ev->id, ev->type, ev->payload, at) != 0)
            goto done;
    }
    rc = 0;
done:
    json_decref(p);
    sup_rule_array_free(rules, n);
    return rc;
}
