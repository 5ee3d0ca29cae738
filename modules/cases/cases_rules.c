/* cases_rules.c - see cases_rules.h. */
#include "modules/cases/cases_rules.h"

#include <stdio.h>
#include <string.h>

#include "modules/cases/workdays.h"
#include "server/app.h"
#include "server/date.h"

static const char *const STATES[] = {"submitted", "accepted", "in_progress",
                                     "completed", "rejected", "cancelled"};

static int state_index(const char *s)
{
    for (int i = 0; i < 6; i++)
        if (s && strcmp(s, STATES[i]) == 0)
            return i;
    return -1;
}

bool cases_state_known(const char *s)
{
    return state_index(s) >= 0;
}

bool cases_state_open(const char *s)
{
    int i = state_index(s);
    return i >= 0 && i <= 2;
}

bool cases_transition_ok(const char *from, const char *to)
{
    int f = state_index(from), t = state_index(to);
    if (f < 0 || t < 0 || f > 2 || t == f || t == 0)
        return false;
    /* Forward only: accepted cannot go back to submitted, in_progress not
     * back to accepted; any open state may end. */
    return t > f || t >= 3;
}

void cases_format_number(int32_t day, int64_t id, char out[32])
{
    int y = 0, m = 0, d = 0;
    date_to_ymd(day, &y, &m, &d);
    snprintf(out, 32, "C%04d%02d%02d%07lld", y, m, d, (long long)((id % 10000000 + 10000000) % 10000000));
}

bool cases_number_ok(const char *s)
{
    if (s == NULL || strlen(s) != 16 || s[0] != 'C')
        return false;
    for (int i = 1; i < 16; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void cases_query_code_from_bytes(const unsigned char rnd[CASES_QUERY_CODE_LEN], char out[16])
{
    static const char ALPHABET[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < CASES_QUERY_CODE_LEN; i++)
        out[i] = ALPHABET[rnd[i] % 32];
    out[CASES_QUERY_CODE_LEN] = '\0';
}

bool cases_supply_open(const char *supply_state)
{
    return supply_state && (strcmp(supply_state, "pending") == 0 ||
                            strcmp(supply_state, "reminded") == 0 ||
                            strcmp(supply_state, "escalated") == 0);
}

cases_next cases_next_step(const char *state, const char *supply_state, int item_trips, int trips,
                           bool rated)
{
    cases_next n = {"unknown", "请联系车管所"};
    bool visit_due = item_trips > 0 && trips == 0;
    if (state == NULL)
        return n;
    if (strcmp(state, "submitted") == 0) {
        if (visit_due)
            n = (cases_next){"visit_once", "请按预约到窗口或合作网点办理一次（只需跑一次）"};
        else
            n = (cases_next){"await_acceptance", "等待车管所审核受理，无需到现场"};
    } else if (strcmp(state, "accepted") == 0 || strcmp(state, "in_progress") == 0) {
        /* Materials have a deadline: they come first; the visit (where they
         * can be handed in too) second. */
        if (supply_state && strcmp(supply_state, "escalated") == 0)
            n = (cases_next){"supply_materials", "补交期限已过，请尽快补交所缺材料"};
        else if (cases_supply_open(supply_state))
            n = (cases_next){"supply_materials", "已容缺受理，请在补交期限前补交所缺材料"};
        else if (visit_due)
            n = (cases_next){"visit_once", "请按预约到窗口或合作网点办理一次（只需跑一次）"};
        else
            n = (cases_next){"await_completion", "正在办理，办结后将通知您"};
    } else if (strcmp(state, "completed") == 0) {
        if (rated)
            n = (cases_next){"done", "已办结，感谢您的评价"};
        else
            n = (cases_next){"rate", "已办结，欢迎对本次服务评价"};
    } else if (strcmp(state, "rejected") == 0) {
        n = (cases_next){"see_reason", "未予受理或不予办理，请查看原因"};
    } else if (strcmp(state, "cancelled") == 0) {
        n = (cases_next){"none", "已撤销"};
    }
    return n;
}

bool cases_online_only(const char *channels)
{
    /* Every comma-separated entry is "app" (and there is one): any other
     * channel names a kind of outlet where the business can be done. */
    const char *p = channels;
    bool any = false;
    if (p == NULL)
        return false;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n != 3 || strncmp(p, "app", 3) != 0)
            return false;
        any = true;
        p += n;
        if (*p == ',')
            p++;
    }
    return any;
}

const char *cases_trip_refusal(const cases_trip_in *in)
{
    if (in->online_only)
        return "online_only";
    if (in->caller_outlet <= 0)
        return "no_outlet";
    if (in->case_outlet > 0) {
        if (in->case_outlet != in->caller_outlet)
            return "other_outlet";
    } else {
        if (!in->channel_offered)
            return "channel_not_offered";
        if (!in->code_given)
            return "query_code_required";
        if (!in->code_ok)
            return "query_code_mismatch";
    }
    if (!cases_state_open(in->state))
        return "case_closed";
    return NULL;
}

int cases_trip_refusal_status(const char *reason)
{
    if (reason && (strcmp(reason, "online_only") == 0 || strcmp(reason, "case_closed") == 0))
        return 409;
    return 403;
}

const char *cases_rating_check(long long score, const char *comment)
{
    if (score < 1 || score > 5)
        return "bad_score";
    if (comment && strlen(comment) > 500)
        return "comment_too_long";
    return NULL;
}

int cases_time_check(const struct cases_calendar *cal, int32_t submitted, int32_t deadline,
                     int promised_days, int32_t today, bool warned)
{
    if (today > deadline)
        return CASES_TIME_OVERDUE;
    if (!warned && promised_days > 0 &&
        cases_elapsed_permille(cal, submitted, today, promised_days) >= CASES_WARN_PERMILLE)
        return CASES_TIME_WARN;
    return CASES_TIME_OK;
}

int cases_supply_check(const struct cases_calendar *cal, int32_t due, int32_t today, int grace,
                       const char *supply_state)
{
    bool pending = supply_state && strcmp(supply_state, "pending") == 0;
    bool reminded = supply_state && strcmp(supply_state, "reminded") == 0;
    if (!pending && !reminded)
        return CASES_SUPPLY_NONE;
    if (today > cases_add_workdays(cal, due, grace))
        return CASES_SUPPLY_ESCALATE;
    /* "One working day before due" = due is at most the next working day. */
    if (pending && due <= cases_add_workdays(cal, today, 1))
        return CASES_SUPPLY_REMIND;
    return CASES_SUPPLY_NONE;
}
