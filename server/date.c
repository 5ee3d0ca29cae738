/* date.c - civil-date helpers; see date.h for the contract.
 *
 * Day <-> (y, m, d) conversion uses Howard Hinnant's days_from_civil /
 * civil_from_days algorithms: they work on 400-year eras (146097 days) with
 * the year starting in March, so February's leap day is the last day of the
 * shifted year and needs no special case.
 */
#include "server/date.h"

#include <stddef.h>

/* Instants are seconds in 64 bits; a 32-bit time_t would make every range
 * check below wrong (and overflow in 2038), so refuse to build. */
_Static_assert(sizeof(time_t) >= 8, "onetrip needs a 64-bit time_t");

#define SECS_PER_DAY 86400

bool date_is_leap_year(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int date_days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (month < 1 || month > 12)
        return 0;
    if (month == 2 && date_is_leap_year(year))
        return 29;
    return days[month - 1];
}

/* Floor division for a positive divisor (C's '/' truncates toward zero,
 * which is wrong for instants before 1970). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return q;
}

/* The matching remainder, in [0, b). Taken from '%' directly rather than as
 * a - q * b, which overflows for a near INT64_MIN. */
static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* Days since 1970-01-01 for a valid (y, m, d); year within 1..9999 keeps all
 * intermediates far from overflow. */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;                                    /* [0, 399] */
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;   /* [0, 365] */
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* [0, 146096] */
    return (int32_t)(era * 146097 + doe - 719468);
}

int date_from_ymd(int year, int month, int day, int32_t *out)
{
    if (year < DATE_MIN_YEAR || year > DATE_MAX_YEAR)
        return -1;
    if (month < 1 || month > 12)
        return -1;
    if (day < 1 || day > date_days_in_month(year, month))
        return -1;
    if (out)
        *out = days_from_civil(year, month, day);
    return 0;
}

void date_to_ymd(int32_t date, int *year, int *month, int *day)
{
    /* 64-bit so that any int32_t input stays defined, even outside the
     * supported range. */
    int64_t z = (int64_t)date + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                     /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    int64_t d = doy - (153 * mp + 2) / 5 + 1;                            /* [1, 31] */
    int64_t m = mp < 10 ? mp + 3 : mp - 9;                               /* [1, 12] */

    if (year)
        *year = (int)(y + (m <= 2));
    if (month)
        *month = (int)m;
    if (day)
        *day = (int)d;
}

/* Read exactly n ASCII digits at s; -1 if any is not a digit. Not isdigit():
 * that is locale dependent and undefined for negative chars. */
static int read_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Parse "YYYY-MM-DD" at the start of s without looking past 10 bytes; the
 * caller decides what may follow. strnlen-free: a NUL inside the first 10
 * bytes fails the digit or '-' test before anything beyond it is read. */
static int parse_date_prefix(const char *s, int32_t *out)
{
    int y, m, d;

    if (read_digits(s, 4, &y) != 0 || s[4] != '-' || read_digits(s + 5, 2, &m) != 0 ||
        s[7] != '-' || read_digits(s + 8, 2, &d) != 0)
        return -1;
    return date_from_ymd(y, m, d, out);
}

int date_parse(const char *s, int32_t *out)
{
    int32_t v;

    if (s == NULL || parse_date_prefix(s, &v) != 0 || s[10] != '\0')
        return -1;
    if (out)
        *out = v;
    return 0;
}

int date_format(int32_t date, char out[DATE_STR_SIZE])
{
    int y, m, d;

    if (date < DATE_MIN || date > DATE_MAX) {
        out[0] = '\0';
        return -1;
    }
    date_to_ymd(date, &y, &m, &d);
    /* Hand-formatted: snprintf with %04d trips -Wformat-truncation on int
     * ranges the compiler cannot see are bounded. */
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
    return 0;
}

int date_weekday(int32_t date)
{
    /* 1970-01-01 was a Thursday (3 when Monday is 0). */
    int64_t w = ((int64_t)date + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

int32_t date_today_in_tz(time_t now, int utc_offset_minutes)
{
    /* Split first and add the offset to the seconds-of-day part, so that no
     * time_t value (even near the int64 limits) can overflow. */
    int64_t days = floor_div((int64_t)now, SECS_PER_DAY);
    int64_t secs = floor_mod((int64_t)now, SECS_PER_DAY) + (int64_t)utc_offset_minutes * 60;

    days += floor_div(secs, SECS_PER_DAY);
    if (days < DATE_MIN)
        return DATE_MIN;
    if (days > DATE_MAX)
        return DATE_MAX;
    return (int32_t)days;
}

int32_t date_shanghai_today(time_t now)
{
    return date_today_in_tz(now, DATE_SHANGHAI_OFFSET_MINUTES);
}

int date_parse_datetime_utc(const char *s, time_t *out)
{
    int32_t day;
    int hh, mm, ss;
    size_t i;

    if (s == NULL || parse_date_prefix(s, &day) != 0)
        return -1;
    if (s[10] != ' ' || read_digits(s + 11, 2, &hh) != 0 || s[13] != ':' ||
        read_digits(s + 14, 2, &mm) != 0 || s[16] != ':' || read_digits(s + 17, 2, &ss) != 0)
        return -1;
    if (hh > 23 || mm > 59 || ss > 59)
        return -1;

    i = 19;
    if (s[i] == '.') {
        size_t start = ++i;
        while (s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start || i - start > 6)
            return -1;
    }
    if (s[i] != '\0')
        return -1;

    if (out)
        *out = (time_t)((int64_t)day * SECS_PER_DAY + (int64_t)hh * 3600 + (int64_t)mm * 60 +
                        ss);
    return 0;
}

int date_format_iso8601_utc(time_t t, char out[DATE_ISO_STR_SIZE])
{
    int64_t days = floor_div((int64_t)t, SECS_PER_DAY);
    int64_t secs = floor_mod((int64_t)t, SECS_PER_DAY); /* [0, 86399] */
    int hh = (int)(secs / 3600), mm = (int)(secs / 60 % 60), ss = (int)(secs % 60);

    if (days < DATE_MIN || days > DATE_MAX || date_format((int32_t)days, out) != 0) {
        out[0] = '\0';
        return -1;
    }
    /* out holds "YYYY-MM-DD"; append the time of day. */
    out[10] = 'T';
    out[11] = (char)('0' + hh / 10);
    out[12] = (char)('0' + hh % 10);
    out[13] = ':';
    out[14] = (char)('0' + mm / 10);
    out[15] = (char)('0' + mm % 10);
    out[16] = ':';
    out[17] = (char)('0' + ss / 10);
    out[18] = (char)('0' + ss % 10);
    out[19] = 'Z';
    out[20] = '\0';
    return 0;
}
