/* violations.h - the violations module's public API (used by payments).
 *
 * Table violations (modules/violations/migrations/0500_violations.sql):
 * state recorded -> handled -> paid, or recorded/handled -> cancelled.
 * The payments module marks a violation paid with violations_mark_paid
 * and computes what to collect with violations_amount_due_today (fine plus
 * the late fee of late_fee.h, part of this public API, as of the bureau's
 * today, Asia/Shanghai).
 *
 * Every function here runs on the caller's connection (inside its
 * transaction when it has one) and blocks: worker threads, jobs, CLI only.
 * Return 0, or -1 with either a database error left in c or *why set to a
 * stable reason code (then the database is untouched).
 */
#ifndef ONETRIP_VIOLATIONS_H
#define ONETRIP_VIOLATIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db/db.h"
#include "modules/violations/late_fee.h"

#define VIOLATIONS_DECISION_MAX 32
#define VIOLATIONS_PLATE_MAX 16
#define VIOLATIONS_VTYPE_MAX 8
#define VIOLATIONS_CODE_MAX 16
#define VIOLATIONS_TEXT_MAX 255
/* Points that end online handling: a licence reaching this is full score. */
#define VIOLATIONS_FULL_SCORE 12

/* One row of violations. Strings are NUL-terminated copies; ids are 0 when
 * the column is NULL; dates are date.h days (served_date) and UTC instants
 * (0 when NULL). The has_ flags tell NULL from a value. */
typedef struct violations_row {
    int64_t id;
    char decision_no[VIOLATIONS_DECISION_MAX + 1];
    char plate[VIOLATIONS_PLATE_MAX * 4 + 1];      /* utf8mb4: up to 4 bytes a char */
    char vehicle_type[VIOLATIONS_VTYPE_MAX + 1];
    int64_t vehicle_id;
    int64_t licence_id;  /* set when handled */
    int64_t citizen_id;  /* the handler (licence holder), set when handled */
    time_t occurred_at;
    char place[VIOLATIONS_TEXT_MAX * 4 + 1];
    char code[VIOLATIONS_CODE_MAX + 1];
    char description[VIOLATIONS_TEXT_MAX * 4 + 1];
    int64_t fine_fen;
    int points;
    char agency[16];     /* traffic | highway | airport | railway | urban */
    char source[16];     /* camera | officer */
    int32_t served_date;
    char state[16];      /* recorded | handled | paid | cancelled */
    time_t handled_at;
    time_t paid_at;
    int64_t case_id;
    int version;
    bool has_vehicle_id, has_licence_id, has_citizen_id, has_handled_at, has_paid_at, has_case_id;
} violations_row;

/* Loads violation id into *out. for_update locks the row (SELECT ... FOR
 * UPDATE; only meaningful inside a transaction). why: "not_found". */
int violations_load(db_conn *c, int64_t id, bool for_update, violations_row *out,
                    const char **why);

/* Fine and late fee (fen) of violation id if paid on the bureau's today
 * (date_shanghai_today(time(NULL))). why: "not_found". The state is not
 * checked: callers decide which states may be paid. */
int violations_amount_due_today(db_conn *c, int64_t violation_id, int64_t *fine,
                                int64_t *late_fee, const char **why);

/* Same for an already loaded row and an explicit bureau date (pure). */
void violations_amount_due_on(const violations_row *v, int32_t today, int64_t *fine,
                              int64_t *late_fee);

/* A handled violation becomes paid (paid_at now). Call inside the payer's
 * transaction with the violation row already locked (see the lock order in
 * modules/payments/payments.h). *affected is 1, or 0 when the violation is
 * not 'handled' (the caller decides; the payments module rolls back).
 * Returns 0, or -1 with the database error left in c. */
int violations_mark_paid(db_conn *c, int64_t violation_id, uint64_t *affected);

#endif
