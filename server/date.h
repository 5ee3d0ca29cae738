/* date.h - civil-date helpers for onetrip (pure functions, no I/O).
 *
 * A "date" is an int32_t counting days since 1970-01-01 in the proleptic
 * Gregorian calendar (1970-01-01 = 0, 1969-12-31 = -1). Dates carry no time
 * zone: they are the calendar day as seen by the bureau, which works in
 * Asia/Shanghai (UTC+8 all year, no daylight saving time).
 *
 * The supported range is 0001-01-01 .. 9999-12-31 (DATE_MIN .. DATE_MAX),
 * i.e. exactly the dates that print as YYYY-MM-DD with four year digits.
 * Every function that takes a date expects a value in that range; functions
 * that produce dates never return anything outside it.
 *
 * Instants are time_t seconds since the epoch in UTC; this file assumes a
 * 64-bit time_t (checked at compile time in date.c).
 *
 * Return 0 on success and -1 on failure unless stated otherwise. Nothing
 * here allocates, touches globals or depends on the process time zone
 * (TZ / localtime are never used), so everything is thread-safe.
 */
#ifndef ONETRIP_DATE_H
#define ONETRIP_DATE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define DATE_MIN_YEAR 1
#define DATE_MAX_YEAR 9999
#define DATE_MIN ((int32_t)-719162) /* 0001-01-01 */
#define DATE_MAX ((int32_t)2932896) /* 9999-12-31 */

/* The bureau's offset from UTC, in minutes (Asia/Shanghai, no DST). */
#define DATE_SHANGHAI_OFFSET_MINUTES (8 * 60)

/* Buffer sizes including the terminating NUL. */
#define DATE_STR_SIZE 11     /* "YYYY-MM-DD" */
#define DATE_ISO_STR_SIZE 32 /* "YYYY-MM-DDTHH:MM:SSZ" (21) with room to spare */

/* Gregorian leap year rule (divisible by 4, except centuries not divisible
 * by 400). Any int year is accepted. */
bool date_is_leap_year(int year);
/* Days in month 1..12 of year; 0 if month is out of range. */
int date_days_in_month(int year, int month);

/* Build a date from year (1..9999), month (1..12) and day (1..days in that
 * month). Returns -1 and leaves *out untouched for anything invalid, such as
 * 2025-02-29, 2025-04-31 or month 13. */
int date_from_ymd(int year, int month, int day, int32_t *out);

/* Split a date (DATE_MIN..DATE_MAX) into year, month 1..12 and day 1..31.
 * Any of the out-pointers may be NULL. A date outside the supported range
 * still yields the correct proleptic Gregorian fields (year may then be
 * <= 0 or > 9999). */
void date_to_ymd(int32_t date, int *year, int *month, int *day);

/* Parse exactly "YYYY-MM-DD": 10 characters, ASCII digits, '-' separators,
 * no sign, no surrounding space, and a real calendar day in 0001..9999.
 * NULL, "2025-1-01", "2025-02-29", "2025-01-01 " all return -1. */
int date_parse(const char *s, int32_t *out);

/* Write "YYYY-MM-DD" into out (DATE_STR_SIZE bytes). Returns -1 and writes
 * the empty string if date is outside DATE_MIN..DATE_MAX. */
int date_format(int32_t date, char out[DATE_STR_SIZE]);

/* Day of the week: 0 = Monday .. 6 = Sunday (ISO 8601 order, minus one).
 * Defined for every int32_t. */
int date_weekday(int32_t date);

/* The calendar date at instant now in a zone utc_offset_minutes east of UTC
 * (e.g. +480 for UTC+8, -300 for UTC-5). Results outside the supported range
 * are clamped to DATE_MIN / DATE_MAX. */
int32_t date_today_in_tz(time_t now, int utc_offset_minutes);
/* date_today_in_tz(now, DATE_SHANGHAI_OFFSET_MINUTES): "today" for the
 * bureau, which is what deadlines and late fees are counted in. */
int32_t date_shanghai_today(time_t now);

/* Parse a MariaDB DATETIME as text, interpreted as UTC:
 * "YYYY-MM-DD HH:MM:SS" optionally followed by '.' and 1..6 fraction digits
 * (DATETIME(n) returns n digits). The fraction is truncated, not rounded:
 * the result is the whole second the instant falls in. Hours 00..23,
 * minutes and seconds 00..59 (MariaDB never stores a leap second). A 'T'
 * separator, a zone suffix or any surrounding space are rejected. */
int date_parse_datetime_utc(const char *s, time_t *out);

/* Write t as "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds) into out
 * (DATE_ISO_STR_SIZE bytes). Returns -1 and writes the empty string if the
 * year would fall outside 1..9999. */
int date_format_iso8601_utc(time_t t, char out[DATE_ISO_STR_SIZE]);

#endif
