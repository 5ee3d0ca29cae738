/* late_fee.c - see late_fee.h for the rule and its contract. */
#include "modules/violations/late_fee.h"

/* Once 3% * late_days reaches 100% the fee is simply the fine; this is the
 * first late day for which that holds (3 * 34 = 102 >= 100). Clamping
 * late_days here keeps fine * percent far from overflow. */
#define CAP_LATE_DAYS \
    ((100 + VIOLATIONS_LATE_FEE_PERCENT_PER_DAY - 1) / VIOLATIONS_LATE_FEE_PERCENT_PER_DAY)

int32_t violations_payment_deadline(int32_t served_date)
{
    int64_t d = (int64_t)served_date + VIOLATIONS_PAYMENT_DAYS;
    return d > INT32_MAX ? INT32_MAX : (int32_t)d;
}

int64_t violations_late_fee(int64_t fine_fen, int32_t served_date, int32_t today)
{
    /* 64-bit difference: two int32_t dates may be 2^32 apart. */
    int64_t late_days = (int64_t)today - served_date - VIOLATIONS_PAYMENT_DAYS;
    int64_t percent, q, r;

    if (fine_fen <= 0 || late_days <= 0)
        return 0;
    if (late_days >= CAP_LATE_DAYS)
        return fine_fen;

    /* floor(fine * percent / 100) without forming fine * percent, which
     * could overflow for a huge fine: with fine = 100q + r,
     * fine * p / 100 = q * p + r * p / 100 and q * p is an integer.
     * percent < 100 here, so q * percent < fine. */
    percent = VIOLATIONS_LATE_FEE_PERCENT_PER_DAY * late_days;
    q = fine_fen / 100;
    r = fine_fen % 100;
    return q * percent + r * percent / 100;
}

int64_t violations_amount_due(int64_t fine_fen, int32_t served_date, int32_t today)
{
    int64_t fee = violations_late_fee(fine_fen, served_date, today);

    /* Test fee first: INT64_MAX - fine_fen would itself overflow for a
     * negative fine, and a negative fine always has fee 0. */
    if (fee > 0 && fee > INT64_MAX - fine_fen)
        return INT64_MAX;
    return fine_fen + fee;
}
