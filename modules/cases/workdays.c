/* workdays.c - see workdays.h for the contract.
 *
 * The calendar keeps two sorted, duplicate-free arrays holding only the
 * entries that change something: holidays that fall on Monday..Friday and
 * make-up days that fall on Saturday/Sunday. With those, the number of
 * working days in a range is
 *     (Mon..Fri in range) - (holidays in range) + (make-up days in range)
 * which needs two binary searches per list instead of a walk over the days.
 */
#include "modules/cases/workdays.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "server/date.h"

struct cases_calendar {
    int32_t *holidays; /* weekdays off, sorted, unique */
    size_t nholidays;
    int32_t *workdays; /* weekend days on, sorted, unique */
    size_t nworkdays;
};

static int cmp_date(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Parse a comma-separated date list into a malloc'd, sorted, unique array.
 * *out is NULL when the list is empty. Returns 0, -1 on a bad item, -2 when
 * out of memory. */
static int parse_list(const char *s, int32_t **out, size_t *count)
{
    const char *p;
    size_t cap = 1, n = 0;
    int32_t *v;

    *out = NULL;
    *count = 0;
    if (s == NULL)
        return 0;
    for (p = s; is_blank(*p); p++)
        ;
    if (*p == '\0') /* "" or only blanks: no dates */
        return 0;

    for (p = s; *p; p++)
        cap += *p == ',';
    v = malloc(cap * sizeof *v);
    if (v == NULL)
        return -2;

    p = s;
    for (;;) {
        const char *start, *end;
        char item[DATE_STR_SIZE];

        while (is_blank(*p))
            p++;
        start = p;
        while (*p && *p != ',')
            p++;
        end = p;
        while (end > start && is_blank(end[-1]))
            end--;
        if (end - start != DATE_STR_SIZE - 1) {
            free(v);
            return -1;
        }
        memcpy(item, start, DATE_STR_SIZE - 1);
        item[DATE_STR_SIZE - 1] = '\0';
        if (date_parse(item, &v[n]) != 0) {
            free(v);
            return -1;
        }
        n++;
        if (*p == '\0')
            break;
        p++; /* past ',' */
    }

    qsort(v, n, sizeof *v, cmp_date);
    {
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (u == 0 || v[i] != v[u - 1])
                v[u++] = v[i];
        n = u;
    }
    *out = v;
    *count = n;
    return 0;
}

/* True if two sorted arrays share an element. */
static bool intersects(const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j])
            return true;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return false;
}

static bool is_weekend(int32_t date)
{
    return date_weekday(date) >= 5;
}

/* Keep only the elements for which keep_weekend == is_weekend(). */
static size_t filter(int32_t *v, size_t n, bool keep_weekend)
{
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (is_weekend(v[i]) == keep_weekend)
            v[u++] = v[i];
    return u;
}

static cases_calendar *fail(const char **why, const char *reason, cases_calendar *cal)
{
    cases_calendar_free(cal);
    if (why)
        *why = reason;
    return NULL;
}

cases_calendar *cases_calendar_new(const char *holidays, const char *workdays, const char **why)
{
    cases_calendar *cal = calloc(1, sizeof *cal);
    int rc;

    if (cal == NULL)
        return fail(why, "calendar_memory", NULL);
    rc = parse_list(holidays, &cal->holidays, &cal->nholidays);
    if (rc != 0)
        return fail(why, rc == -2 ? "calendar_memory" : "calendar_holiday_date", cal);
    rc = parse_list(workdays, &cal->workdays, &cal->nworkdays);
    if (rc != 0)
        return fail(why, rc == -2 ? "calendar_memory" : "calendar_workday_date", cal);
    /* A date both off and on is a configuration mistake, whatever weekday
     * it is; check before filtering so that it is always reported. */
    if (intersects(cal->holidays, cal->nholidays, cal->workdays, cal->nworkdays))
        return fail(why, "calendar_conflict", cal);

    cal->nholidays = filter(cal->holidays, cal->nholidays, false);
    cal->nworkdays = filter(cal->workdays, cal->nworkdays, true);
    return cal;
}

void cases_calendar_free(cases_calendar *cal)
{
    if (cal == NULL)
        return;
    free(cal->holidays);
    free(cal->workdays);
    free(cal);
}

/* Number of elements of sorted v that are <= x. */
static size_t count_le(const int32_t *v, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool contains(const int32_t *v, size_t n, int32_t x)
{
    size_t i = count_le(v, n, x);
    return i > 0 && v[i - 1] == x;
}

bool cases_is_workday(const cases_calendar *cal, int32_t date)
{
    if (!is_weekend(date))
        return cal == NULL || !contains(cal->holidays, cal->nholidays, date);
    return cal != NULL && contains(cal->workdays, cal->nworkdays, date);
}

static int64_t floor_div7(int64_t a)
{
    return a >= 0 ? a / 7 : -((-a + 6) / 7);
}

/* A running count of Monday..Friday days up to and including x, anchored
 * anywhere: only differences W(to) - W(from) are meaningful. Day 4
 * (1970-01-05) is a Monday, so u = x - 3 is the day's position in a week
 * that starts at u = 1. */
static int64_t weekdays_upto(int64_t x)
{
    int64_t u = x - 3;
    int64_t q = floor_div7(u);
    int64_t r = u - 7 * q; /* [0, 6]; 0 is Sunday, 6 Saturday */
    return 5 * q + (r < 5 ? r : 5);
}

int cases_workdays_between(const cases_calendar *cal, int32_t from, int32_t to)
{
    int64_t n;

    if (to <= from)
        return 0;
    n = weekdays_upto(to) - weekdays_upto(from);
    if (cal != NULL) {
        n -= (int64_t)(count_le(cal->holidays, cal->nholidays, to) -
                       count_le(cal->holidays, cal->nholidays, from));
        n += (int64_t)(count_le(cal->workdays, cal->nworkdays, to) -
                       count_le(cal->workdays, cal->nworkdays, from));
    }
    return n > INT_MAX ? INT_MAX : (int)n;
}

int32_t cases_add_workdays(const cases_calendar *cal, int32_t start, int n)
{
    int64_t d = start;

    if (n <= 0)
        return start;
    if (n > CASES_MAX_WORKDAYS)
        n = CASES_MAX_WORKDAYS;
    /* A walk is plenty for promises of days or weeks, and it is obviously
     * consistent with cases_is_workday. Every week has at least one working
     * day beyond the (finite) lists, so the loop ends. */
    while (n > 0) {
        if (d >= DATE_MAX)
            return DATE_MAX;
        d++;
        if (cases_is_workday(cal, (int32_t)d))
            n--;
    }
    return (int32_t)d;
}

int cases_elapsed_permille(const cases_calendar *cal, int32_t submitted, int32_t today, int n)
{
    int64_t p;

    if (n <= 0)
        return 1000;
    p = (int64_t)cases_workdays_between(cal, submitted, today) * 1000 / n;
    return p > INT_MAX ? INT_MAX : (int)p;
}
