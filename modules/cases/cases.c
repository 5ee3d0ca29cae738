/* cases.c - the public cases API (cases.h) other modules call inside their
 * own transactions, and the module's working-day calendar. */
#include "modules/cases/cases.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "modules/cases/cases_internal.h"
#include "modules/cases/cases_rules.h"
#include "modules/cases/cases_sql.h"
#include "modules/catalog/catalog.h"
#include "server/app.h"
#include "server/crypto.h"
#include "server/date.h"
#include "server/events.h"

/* Built once at start-up from configuration and never changed, so every
 * worker may read it without a lock (workdays.h: calendars are immutable). */
static cases_calendar *g_calendar;

int cases_calendar_load(void)
{
    const char *why = NULL;
    cases_calendar *cal = cases_calendar_new(cases_conf.holidays,
                                             cases_conf.makeup_workdays, &why);
    if (cal == NULL) {
        app_log(0, "cases", "msg=\"bad holiday calendar\" reason=%s", why ? why : "unknown");
        return -1;
    }
    cases_calendar_free(g_calendar);
    g_calendar = cal;
    return 0;
}

const cases_calendar *cases_calendar_current(void)
{
    return g_calendar;
}

static const char *const CHANNELS[] = {"app", "window", "post", "dealer", "insurer", "hospital", "court", "station"};

static bool channel_known(const char *ch)
{
    for (size_t i = 0; i < sizeof CHANNELS / sizeof CHANNELS[0]; i++)
        if (ch && strcmp(ch, CHANNELS[i]) == 0)
            return true;
    return false;
}

static bool assisted_known(const char *k)
{
    return k == NULL || strcmp(k, "operator") == 0 || strcmp(k, "partner") == 0 ||
           strcmp(k, "agent") == 0;
}

/* The outbox event of a filing (server/events.h): who filed it for whom,
 * where; supervision counts distinct applicants per outlet and account. */
static int emit_filed(db_conn *c, const cases_new *n, int64_t id)
{
    app_principal who;

    memset(&who, 0, sizeof who);
    who.outlet_id = n->outlet_id;
    if (n->assisted_kind && strcmp(n->assisted_kind, "operator") == 0) {
        who.kind = CALLER_OPERATOR;
        who.id = n->assisted_id;
    } else if (n->assisted_kind && strcmp(n->assisted_kind, "partner") == 0) {
        who.kind = CALLER_PARTNER;
        who.id = n->assisted_id;
    } else {
        who.kind = CALLER_CITIZEN;
        who.id = n->applicant_id;
    }
    return app_event_emit(c, &who, "cases.filed", "case", id,
                          json_pack("{sIsssssI}", "applicant_id", (json_int_t)n->applicant_id,
                                    "item_code", n->item_code, "channel", n->channel ? n->channel : "",
                                    "outlet_id", (json_int_t)n->outlet_id));
}

int cases_create(db_conn *c, const cases_new *n, int64_t *case_id, char number[32],
                 char query_code[16], const char **why)
{
    catalog_ref item = {0};
    bool found = false;
    unsigned char rnd[CASES_QUERY_CODE_LEN];
    char day_s[DATE_STR_SIZE], due_s[DATE_STR_SIZE];
    int32_t today, due;
    cases_row_in row;
    int64_t id = 0;
    int rc = -1;

    *case_id = 0;
    number[0] = '\0';
    query_code[0] = '\0';
    if (why)
        *why = NULL;
    if (n == NULL || n->item_code == NULL) {
        if (why)
            *why = "unknown_item";
        goto done;
    }
    if (catalog_current(c, n->item_code, &item, &found) != 0)
        goto done;
    if (!found) {
        if (why)
            *why = "unknown_item";
        goto done;
    }
    if (!channel_known(n->channel) || !catalog_channel_offered(item.channels, n->channel)) {
        if (why)
            *why = "channel_not_offered";
        goto done;
    }
    if (!assisted_known(n->assisted_kind)) {
        if (why)
            *why = "bad_assisted_kind";
        goto done;
    }
    if (crypto_random(rnd, sizeof rnd) != 0) {
        if (why)
            *why = "random_failed";
        goto done;
    }
    cases_query_code_from_bytes(rnd, query_code);

    /* The promise counts working days from the day after submission, in the
     * bureau's zone (workdays.h). */
    today = date_shanghai_today(time(NULL));
    due = cases_add_workdays(g_calendar, today, item.promised_days);
    date_format(today, day_s);
    date_format(due, due_s);

    memset(&row, 0, sizeof row);
    row.query_code = query_code;
    row.item_code = item.code;
    row.category = item.category;
    row.channel = n->channel;
    row.assisted_kind = n->assisted_kind;
    row.ref_type = n->ref_type;
    row.ref_id = n->ref_id;
    row.version_id = item.version_id;
    row.applicant_id = n->applicant_id;
    row.outlet_id = n->outlet_id;
    row.assisted_id = n->assisted_id;
    row.submitted_day = day_s;
    row.deadline = due_s;
    row.promised_days = item.promised_days;
    /* The number needs the id (its sequence part), so the row is inserted
     * first and numbered second. A per-day counter row would give dense
     * numbers but serialise every filing transaction of the day on one row
     * lock held until its COMMIT; the auto-increment lock is released at the
     * end of the INSERT. */
    if (cases_sql_insert(c, &row, &id) != 0)
        goto done;
    cases_format_number(today, id, number);
    if (cases_sql_set_number(c, id, number) != 0)
        goto done;
    if (cases_sql_event(c, id, "submitted", NULL, "submitted", n->assisted_kind ? n->assisted_kind : "applicant",
                        n->channel) != 0)
        goto done;
    if (emit_filed(c, n, id) != 0)
        goto done;
    *case_id = id;
    rc = 0;
done:
    if (rc != 0) {
        number[0] = '\0';
        query_code[0] = '\0';
    }
    catalog_ref_clear(&item);
    return rc;
}

int cases_move(db_conn *c, int64_t case_id, const char *state, const char *reason,
               const char *actor, const char **why)
{
    cases_locked lk = {0};
    bool found = false;
    char from[16];
    char day_s[DATE_STR_SIZE];
    bool done = false;
    int rc = -1;

    if (why)
        *why = NULL;
    if (!cases_state_known(state)) {
        if (why)
            *why = "bad_transition";
        return -1;
    }
    if (cases_sql_lock_case(c, case_id, &lk, &found) != 0)
        return -1;
    if (!found) {
        if (why)
            *why = "unknown_case";
        goto done;
    }
    snprintf(from, sizeof from, "%s", lk.state);
    if (!cases_transition_ok(from, state)) {
        if (why)
            *why = "bad_transition";
        goto done;
    }
    /* A case completed with materials still awaited could never receive
     * them (a closed case takes no supplements): they are supplied or
     * replaced by a recorded commitment first, whoever completes it. */
    if (strcmp(state, "completed") == 0 && cases_supply_open(lk.supply_state)) {
        if (why)
            *why = "materials_missing";
        goto done;
    }
    date_format(date_shanghai_today(time(NULL)), day_s);
    if (cases_sql_move(c, case_id, from, state, reason, day_s, &done) != 0)
        goto done;
    if (!done) { /* cannot happen under the row lock; kept as a guard */
        if (why)
            *why = "bad_transition";
        goto done;
    }
    rc = cases_sql_event(c, case_id, "state", from, state, actor, reason);
done:
    cases_locked_clear(&lk);
    return rc;
}

int cases_set_state(db_conn *c, int64_t case_id, const char *state, const char **why)
{
    return cases_move(c, case_id, state, NULL, "system", why);
}

int cases_find_by_ref(db_conn *c, const char *ref_type, const char *ref_id, int64_t *case_id)
{
    return cases_sql_find_by_ref(c, ref_type, ref_id, case_id);
}

int cases_record_trip(db_conn *c, int64_t case_id, int64_t outlet_id, int64_t operator_id)
{
    return cases_record_visit(c, case_id, outlet_id, operator_id, "");
}

int cases_record_visit(db_conn *c, int64_t case_id, int64_t outlet_id, int64_t operator_id,
                       const char *visit_ref)
{
    char st[16], day_s[DATE_STR_SIZE];
    bool found = false, counted = false;

    /* The case row lock orders this trip after any other of the case. */
    if (cases_sql_lock_state(c, case_id, st, &found) != 0)
        return -1;
    if (!found)
        return -1;
    date_format(date_shanghai_today(time(NULL)), day_s);
    return cases_sql_add_trip(c, case_id, outlet_id, operator_id, 0, day_s,
                              visit_ref ? visit_ref : "", &counted);
}
