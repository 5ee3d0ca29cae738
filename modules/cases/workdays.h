/* workdays.h - working-day deadlines under China's holiday calendar.
 *
 * Promised handling times ("办结时限") are counted in working days. A day is
 * a working day when it is Monday..Friday and not a public holiday, or when
 * it is a Saturday/Sunday that the State Council has declared a make-up
 * working day ("调休上班"). Both lists change every year, so they come from
 * configuration as a cases_calendar.
 *
 * Dates are date.h days (int32_t days since 1970-01-01) in the bureau's
 * zone, within DATE_MIN..DATE_MAX. Counting starts the day AFTER
 * submission: a case submitted on any day (working or not) with a promise
 * of n working days is due on the n-th working day after it.
 *
 * A calendar is immutable after cases_calendar_new, so one calendar may be
 * shared by any number of threads. A NULL calendar means "no holidays, no
 * make-up days" (plain Monday..Friday) in every function below.
 */
#ifndef ONETRIP_CASES_WORKDAYS_H
#define ONETRIP_CASES_WORKDAYS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cases_calendar cases_calendar;

/* Largest n cases_add_workdays honours (about 380 years); larger values are
 * clamped so that the result stays a valid date. */
#define CASES_MAX_WORKDAYS 100000

/* Elapsed share, in permille, at which a case is flagged as running late. */
#define CASES_WARN_PERMILLE 800

/* Build a calendar from two comma-separated lists of YYYY-MM-DD dates:
 * holidays (days off, normally weekdays) and workdays (make-up working
 * days, normally weekends). Either may be NULL or "" for none; spaces and
 * tabs around items are ignored, duplicates are harmless. A holiday on a
 * weekend or a make-up day on a weekday is accepted and changes nothing.
 * Returns a new calendar (free with cases_calendar_free), or NULL with
 * *why (may be NULL) set to:
 *   "calendar_holiday_date"  an item of holidays is not a valid date
 *                            (including an empty item, as in "a,,b")
 *   "calendar_workday_date"  likewise for workdays
 *   "calendar_conflict"      the same date is in both lists
 *   "calendar_memory"        out of memory */
cases_calendar *cases_calendar_new(const char *holidays, const char *workdays, const char **why);
/* Free a calendar; NULL is fine. */
void cases_calendar_free(cases_calendar *cal);

/* True if date is a working day under cal (see the top of this file). */
bool cases_is_workday(const cases_calendar *cal, int32_t date);

/* Due date for a case submitted on start with a promise of n working days:
 * the n-th working day strictly after start. n = 0 (or negative) returns
 * start itself; n above CASES_MAX_WORKDAYS is clamped to it, and a result
 * beyond DATE_MAX is clamped to DATE_MAX. */
int32_t cases_add_workdays(const cases_calendar *cal, int32_t start, int n);

/* Number of working days in the half-open range (from, to]: from itself is
 * not counted, to is. 0 when to <= from. Computed in O(log holidays), not
 * day by day. So
 * cases_workdays_between(cal, s, cases_add_workdays(cal, s, n)) == n. */
int cases_workdays_between(const cases_calendar *cal, int32_t from, int32_t to);

/* Share of the promised time used up, in permille:
 * cases_workdays_between(submitted, today) * 1000 / n, rounded down.
 * For n > 0: 0 when today <= submitted, and not capped, so values above
 * 1000 mean overdue (saturates at INT_MAX). For n <= 0 (due on the day of
 * submission) the result is always 1000: the whole time is gone. Compare
 * with CASES_WARN_PERMILLE to flag cases at 80%. */
int cases_elapsed_permille(const cases_calendar *cal, int32_t submitted, int32_t today, int n);

#endif
