/* cases_rules.h - pure rules of the cases module (no I/O): the state
 * machine, case numbers, query codes. */
#ifndef ONETRIP_CASES_RULES_H
#define ONETRIP_CASES_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* States:
 *   submitted    filed, not yet looked at by the bureau
 *   accepted     materials accepted (possibly with some to be supplied later)
 *   in_progress  being handled (inspection, printing, mailing)
 *   completed    done (terminal)
 *   rejected     refused, reason given (terminal)
 *   cancelled    withdrawn by the applicant or the business (terminal) */
bool cases_state_known(const char *s);
bool cases_state_open(const char *s);
/* Allowed moves: submitted -> accepted|in_progress|completed|rejected|cancelled;
 * accepted -> in_progress|completed|rejected|cancelled;
 * in_progress -> completed|rejected|cancelled; nothing out of a terminal state
 * and no move to the same state. */
bool cases_transition_ok(const char *from, const char *to);

/* "C" + YYYYMMDD (day of submission, Shanghai) + 7-digit sequence taken from
 * the case id modulo 10^7: "C202611230000123". Unique unless ten million cases
 * are filed on one day. out holds at least 17 bytes. */
void cases_format_number(int32_t day, int64_t id, char out[32]);
/* True for the shape of a case number (16 ASCII characters as above). */
bool cases_number_ok(const char *s);

/* Query codes: 8 characters from a 32-letter alphabet without look-alikes
 * (no I, O, 0, 1). 256 is a multiple of 32, so byte % 32 is uniform. */
#define CASES_QUERY_CODE_LEN 8
void cases_query_code_from_bytes(const unsigned char rnd[CASES_QUERY_CODE_LEN], char out[16]);

#endif

/* What the applicant does or waits for next, as a stable code and a short
 * Chinese text (static strings). supply_state as in the cases table;
 * item_trips the visits the filed item needs (0 or 1), trips the visits
 * made, rated whether the case has its rating. Codes:
 *   visit_once        open, the item needs a visit and none was made yet
 *   await_acceptance  submitted, nothing for the applicant to do
 *   supply_materials  accepted or in progress with materials outstanding
 *                     (the text says when the supply deadline has passed)
 *   await_completion  accepted or in progress, nothing outstanding
 *   rate              completed and not rated yet
 *   done              completed and rated: nothing left to do
 *   see_reason        rejected
 *   none              cancelled
 *   unknown           a state this code does not know */
typedef struct cases_next {
    const char *code;
    const char *text;
} cases_next;
cases_next cases_next_step(const char *state, const char *supply_state, int item_trips, int trips,
                           bool rated);

/* Is a supply state one where materials are still awaited ("pending",
 * "reminded", "escalated")? */
bool cases_supply_open(const char *supply_state);

/* Is an item offered in the app only (channels as the catalog stores them,
 * "app,window")? Such a business never takes a physical visit. */
bool cases_online_only(const char *channels);

/* A check-in (POST /v1/cases/{n}/trips) decided on the locked case row.
 * A visit is a physical fact at one outlet: only the outlet that serves the
 * case records it. A case filed online has no outlet until its first visit;
 * that visit assigns it, and only with the applicant's query code (shown at
 * the counter), so no outlet can claim another outlet's or an app case. */
typedef struct cases_trip_in {
    const char *state;        /* locked case state */
    bool online_only;         /* the filed item version is offered in the app only */
    int64_t case_outlet;      /* 0 = none yet */
    int64_t caller_outlet;    /* the operator's or partner's outlet, 0 = none */
    bool channel_offered;     /* the item is offered at the caller's kind of outlet */
    bool code_given;          /* the applicant's query code came with the request */
    bool code_ok;             /* ... and it is the case's code */
} cases_trip_in;
/* NULL when the visit may be recorded, else a stable reason code:
 *   online_only (409)          the business is online-only
 *   no_outlet (403)            the caller belongs to no outlet
 *   other_outlet (403)         the case is served by another outlet
 *   channel_not_offered (403)  the item is not offered at this kind of outlet
 *   query_code_required (403)  first visit of an online case without the code
 *   query_code_mismatch (403)  ... with a wrong code
 *   case_closed (409)          the case is completed, rejected or cancelled
 * Authorisation (403) is decided before the case's state (409), so an outlet
 * learns nothing about cases that are not its own. */
const char *cases_trip_refusal(const cases_trip_in *in);
/* The HTTP status of a cases_trip_refusal reason (403 or 409). */
int cases_trip_refusal_status(const char *reason);

/* Page sizes of the list endpoints (documented in openapi.yaml). */
#define CASES_LIST_LIMIT_MIN 1
#define CASES_LIST_LIMIT_MAX 100

/* A rating: score 1..5, comment at most 500 bytes of UTF-8. Returns NULL
 * when valid, else the reason code ("bad_score", "comment_too_long"). */
const char *cases_rating_check(long long score, const char *comment);
/* A rating of 1 or 2 opens a rectification ticket. */
#define CASES_RECTIFY_MAX_SCORE 2

/* Time limits of an open case on day today (Shanghai): CASES_TIME_OVERDUE
 * once today is past the deadline; CASES_TIME_WARN when at least 80% of the
 * promised working days are used (cases_elapsed_permille >= 800) and not
 * yet warned; else CASES_TIME_OK. Instant items (0 days) are never warned,
 * only overdue from the next day. */
struct cases_calendar;
enum { CASES_TIME_OK = 0, CASES_TIME_WARN = 1, CASES_TIME_OVERDUE = 2 };
int cases_time_check(const struct cases_calendar *cal, int32_t submitted, int32_t deadline,
                     int promised_days, int32_t today, bool warned);

/* Materials to supply by due: CASES_SUPPLY_REMIND from one working day
 * before due (state "pending" only), CASES_SUPPLY_ESCALATE once today is
 * more than grace working days past due (states "pending" and "reminded"). */
enum { CASES_SUPPLY_NONE = 0, CASES_SUPPLY_REMIND = 1, CASES_SUPPLY_ESCALATE = 2 };
int cases_supply_check(const struct cases_calendar *cal, int32_t due, int32_t today, int grace,
                       const char *supply_state);
