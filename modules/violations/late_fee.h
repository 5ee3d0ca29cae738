/* late_fee.h - payment deadline and late fee for a traffic fine.
 *
 * Administrative Penalty Law art. 72(1), as this bureau applies it: a fine
 * must be paid within 15 days of the decision being served; from the day
 * after that deadline an additional 3% of the fine accrues per day, and the
 * additional amount never exceeds the fine itself.
 *
 *   deadline  = served + 15                  (last day to pay without fee)
 *   late_days = max(0, today - served - 15)  (served + 16 is late day 1)
 *   fee       = min(fine, floor(fine * 3 * late_days / 100))
 *
 * So late day 33 (served + 48) is 99%, and from late day 34 (served + 49)
 * the fee is capped at 100% of the fine.
 *
 * Units: money in integer fen (1 yuan = 100 fen); dates are date.h days
 * (int32_t days since 1970-01-01) counted in the bureau's zone, i.e. today
 * should come from date_shanghai_today(), never from a UTC day number.
 *
 * The computation is exact integer arithmetic and cannot overflow for any
 * int64_t fine or int32_t dates (fines in practice are <= 10^12 fen).
 * Pure functions, thread-safe.
 */
#ifndef ONETRIP_VIOLATIONS_LATE_FEE_H
#define ONETRIP_VIOLATIONS_LATE_FEE_H

#include <stdint.h>

/* Largest fine the bureau's data can hold; documented bound, not enforced
 * (the functions below stay exact beyond it). */
#define VIOLATIONS_FINE_MAX_FEN INT64_C(1000000000000)

/* Days after service within which the fine may be paid without a fee. */
#define VIOLATIONS_PAYMENT_DAYS 15
/* Late fee rate per day, in percent of the fine. */
#define VIOLATIONS_LATE_FEE_PERCENT_PER_DAY 3

/* Last day (inclusive) to pay without a late fee: served_date + 15.
 * served_date is a date.h date (DATE_MIN..DATE_MAX); the result saturates at
 * INT32_MAX rather than overflowing for out-of-range input. */
int32_t violations_payment_deadline(int32_t served_date);

/* Late fee in fen owed when paying on today for a fine served on
 * served_date. Returns 0 when fine_fen <= 0 (a negative fine is a data error
 * and earns no fee), when today is on or before the deadline, and when today
 * is before served_date. Never exceeds fine_fen. */
int64_t violations_late_fee(int64_t fine_fen, int32_t served_date, int32_t today);

/* Total to collect on today: fine_fen + violations_late_fee(...). For a
 * negative fine the fine is returned unchanged (fee 0); the sum saturates at
 * INT64_MAX, which only a fine above INT64_MAX / 2 could reach. */
int64_t violations_amount_due(int64_t fine_fen, int32_t served_date, int32_t today);

#endif
