/* violations.c - the public API of violations.h: loading a row and the
 * amount due on the bureau's today. */
#include <time.h>

#include "modules/violations/late_fee.h"
#include "modules/violations/violations.h"
#include "modules/violations/violations_sql.h"
#include "server/date.h"

int violations_load(db_conn *c, int64_t id, bool for_update, violations_row *out,
                    const char **why)
{
    bool found = false;

    if (violations_sql_get(c, id, for_update, out, &found) != 0)
        return -1;
    if (!found) {
        *why = "not_found";
        return -1;
    }
    return 0;
}

void violations_amount_due_on(const violations_row *v, int32_t today, int64_t *fine,
                              int64_t *late_fee)
{
    *fine = v->fine_fen;
    *late_fee = violations_late_fee(v->fine_fen, v->served_date, today);
}

int violations_amount_due_today(db_conn *c, int64_t violation_id, int64_t *fine,
                                int64_t *late_fee, const char **why)
{
    violations_row v;

    if (violations_load(c, violation_id, false, &v, why) != 0)
        return -1;
    violations_amount_due_on(&v, date_shanghai_today(time(NULL)), fine, late_fee);
    return 0;
}
