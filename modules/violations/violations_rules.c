/* violations_rules.c - see violations_rules.h. */
#include <string.h>

#include "modules/registration/registration.h"
#include "modules/violations/violations_rules.h"
#include "server/date.h"

/* ---- licence classes -------------------------------------------------- */

typedef struct class_cover {
    const char *cls;
    const char *covers; /* space-separated, the class itself excluded */
} class_cover;

static const class_cover COVERS[] = {
    {"A1", "A3 B1 B2 C1 C2 C3 C4"},
    {"A2", "B2 C1 C2 C3 C4"},
    {"A3", "C1 C2 C3 C4"},
    {"B1", "C1 C2 C3 C4"},
    {"B2", "C1 C2 C3 C4"},
    {"C1", "C2 C3 C4"},
    {"C2", ""},
    {"C3", "C4"},
    {"C4", ""},
    {"C5", ""},
    {"C6", ""},
    {"D", "E F"},
    {"E", "F"},
    {"F", ""},
    {"M", ""},
    {"N", ""},
    {"P", ""},
};

static const class_cover *find_class(const char *cls, size_t n)
{
    for (size_t i = 0; i < sizeof COVERS / sizeof COVERS[0]; i++)
        if (strlen(COVERS[i].cls) == n && memcmp(COVERS[i].cls, cls, n) == 0)
            return &COVERS[i];
    return NULL;
}

/* Is the n-byte class word in the space-separated list? */
static bool in_list(const char *list, const char *word, size_t n)
{
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (len == n && memcmp(p, word, n) == 0)
            return true;
        p += len;
        while (*p == ' ')
            p++;
    }
    return false;
}

static bool covers_n(const char *held, size_t hn, const char *required)
{
    const class_cover *h = find_class(held, hn);
    size_t rn;

    if (h == NULL || required == NULL)
        return false;
    rn = strlen(required);
    if (find_class(required, rn) == NULL)
        return false;
    if (rn == hn && memcmp(held, required, rn) == 0)
        return true;
    return in_list(h->covers, required, rn);
}

bool violations_class_covers(const char *held, const char *required)
{
    if (held == NULL)
        return false;
    return covers_n(held, strlen(held), required);
}

bool violations_classes_cover(const char *classes, const char *required)
{
    const char *p = classes;
    bool any = false;

    if (classes == NULL)
        return false;
    /* Validate the whole list before answering: a malformed list covers
     * nothing, rather than whatever its readable part says. */
    while (*p) {
        size_t n;
        if (*p == ',' || *p == ' ' || *p == '/') {
            p++;
            continue;
        }
        if (*p < 'A' || *p > 'Z')
            return false;
        n = (p[1] >= '1' && p[1] <= '9') ? 2 : 1;
        if (find_class(p, n) == NULL)
            return false;
        if (covers_n(p, n, required))
            any = true;
        p += n;
    }
    return any;
}

/* ---- points ----------------------------------------------------------- */

int violations_points_apply(int points, int add, bool at_window, int *total, bool *full_score,
                            const char **why)
{
    const char *reason = NULL;
    int sum;

    if (points < 0 || add < 0 || add > VIOLATIONS_POINTS_MAX_PER_VIOLATION || points > 1000) {
        reason = "points_invalid";
        goto fail;
    }
    sum = points + add;
    if (!at_window && sum >= 12) {
        reason = "points_would_reach_12";
        goto fail;
    }
    *total = sum;
    *full_score = sum >= 12;
    return 0;
fail:
    if (why)
        *why = reason;
    return -1;
}

/* The anniversary of (month, day) in year: 29 February becomes 1 March in
 * a common year. */
static int32_t anniversary(int year, int month, int day)
{
    int32_t d = 0;
    if (date_from_ymd(year, month, day, &d) != 0)
        date_from_ymd(year, 3, 1, &d);
    return d;
}

bool violations_cycle_current(int32_t cycle_start, int32_t today, int32_t *current)
{
    int y, m, d, ty;
    int32_t start;

    *current = cycle_start;
    if (today <= cycle_start)
        return false;
    date_to_ymd(cycle_start, &y, &m, &d);
    date_to_ymd(today, &ty, NULL, NULL);
    if (ty > DATE_MAX_YEAR)
        ty = DATE_MAX_YEAR;
    /* The cycle containing today started on the anniversary in today's year
     * or, if that is still ahead, in the year before. */
    start = anniversary(ty, m, d);
    if (start > today && ty > y)
        start = anniversary(ty - 1, m, d);
    if (ty <= y || start <= cycle_start)
        return false;
    *current = start;
    return true;
}

bool violations_points_on_cancel(int points, int32_t cycle_start, const char *status, int add,
                                 int32_t handled_day, int32_t today, int *points_after,
                                 bool *lift_full_score)
{
    bool full = status && strcmp(status, "full_score") == 0;
    int32_t current = cycle_start, later = cycle_start;

    *points_after = points;
    *lift_full_score = false;
    if (handled_day <= 0 || add < 0)
        return false;
    /* Same rule as handling: a finished cycle below 12 lapses. */
    if (violations_cycle_current(cycle_start, today, &later) && !full && points < 12)
        current = later;
    if (handled_day < current)
        return false;
    *points_after = points > add ? points - add : 0;
    *lift_full_score = full && points >= 12 && *points_after < 12;
    return true;
}

int violations_licence_usable(const char *status, int32_t valid_until, int32_t today,
                              bool at_window, const char **why)
{
    const char *reason = NULL;

    if (valid_until < today) {
        reason = "licence_expired";
    } else if (status && strcmp(status, "valid") == 0) {
        return 0;
    } else if (status && strcmp(status, "full_score") == 0) {
        if (at_window)
            return 0;
        reason = "licence_full_score";
    } else {
        reason = "licence_not_valid";
    }
    if (why)
        *why = reason;
    return -1;
}

/* ---- field syntax ------------------------------------------------------ */

#define MIDDLE_DOT "\xC2\xB7"

static int fail_with(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

int violations_plate_normalize(const char *plate, char out[VIOLATIONS_PLATE_CANON_SIZE],
                               const char **why)
{
    char prefix[REGISTRATION_PLATE_PREFIX_BYTES + 1];
    const char *reason = NULL, *number;

    out[0] = '\0';
    if (plate == NULL || strlen(plate) < REGISTRATION_PLATE_PREFIX_BYTES + 1)
        return fail_with(why, "plate_format");
    memcpy(prefix, plate, REGISTRATION_PLATE_PREFIX_BYTES);
    prefix[REGISTRATION_PLATE_PREFIX_BYTES] = '\0';
    if (registration_plate_prefix_check(prefix, &reason) != 0)
        return fail_with(why, reason ? reason : "plate_prefix");
    number = plate + REGISTRATION_PLATE_PREFIX_BYTES;
    if (memcmp(number, MIDDLE_DOT, 2) == 0)
        number += 2;
    if (registration_plate_number_check(number, 5, &reason) != 0)
        return fail_with(why, reason ? reason : "plate_format");
    memcpy(out, prefix, REGISTRATION_PLATE_PREFIX_BYTES);
    memcpy(out + REGISTRATION_PLATE_PREFIX_BYTES, number, REGISTRATION_PLATE_NUMBER_LEN + 1);
    return 0;
}

static bool is_upper_digit(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int violations_decision_no_check(const char *s, const char **why)
{
    size_t n;

    if (s == NULL)
        return fail_with(why, "decision_no_format");
    n = strlen(s);
    if (n < 6 || n > 32 || !is_upper_digit(s[0]))
        return fail_with(why, "decision_no_format");
    for (size_t i = 0; i < n; i++)
        if (!is_upper_digit(s[i]) && s[i] != '-')
            return fail_with(why, "decision_no_format");
    return 0;
}

int violations_code_check(const char *s, const char **why)
{
    size_t n;

    if (s == NULL)
        return fail_with(why, "code_format");
    n = strlen(s);
    if (n < 4 || n > 6)
        return fail_with(why, "code_format");
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return fail_with(why, "code_format");
    return 0;
}

int violations_vehicle_type_check(const char *s, const char **why)
{
    if (s == NULL || strlen(s) != 3 || s[0] < 'A' || s[0] > 'Z' || s[1] < '0' || s[1] > '9' ||
        s[2] < '0' || s[2] > '9')
        return fail_with(why, "vehicle_type_format");
    return 0;
}

bool violations_agency_valid(const char *s)
{
    static const char *const ok[] = {"traffic", "highway", "airport", "railway", "urban"};
    for (size_t i = 0; s && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(s, ok[i]) == 0)
            return true;
    return false;
}

bool violations_source_valid(const char *s)
{
    return s && (strcmp(s, "camera") == 0 || strcmp(s, "officer") == 0);
}

/* n ASCII digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int violations_parse_instant(const char *s, time_t *out)
{
    char date[DATE_STR_SIZE];
    int32_t day;
    int hh, mi, ss, offset = 0;
    size_t n;

    if (s == NULL)
        return -1;
    n = strlen(s);
    if (n != 20 && n != 25)
        return -1;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (date_parse(date, &day) != 0 || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -1;
    hh = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    ss = digits(s + 17, 2);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
        return -1;
    if (n == 20) {
        if (s[19] != 'Z')
            return -1;
    } else {
        int oh = digits(s + 20, 2), om = digits(s + 23, 2);
        if ((s[19] != '+' && s[19] != '-') || s[22] != ':' || oh < 0 || om < 0 || om > 59 ||
            oh * 60 + om > 14 * 60)
            return -1;
        offset = (oh * 60 + om) * (s[19] == '-' ? -1 : 1);
    }
    *out = (time_t)day * 86400 + hh * 3600 + mi * 60 + ss - (time_t)offset * 60;
    return 0;
}

bool violations_text_ok(const char *s, int max_chars)
{
    const unsigned char *p = (const unsigned char *)s;
    int chars = 0;
    bool visible = false;

    if (s == NULL)
        return false;
    while (*p) {
        unsigned c = *p;
        int extra;
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80)
            extra = 0;
        else if (c >= 0xc2 && c <= 0xdf)
            extra = 1;
        else if (c >= 0xe0 && c <= 0xef)
            extra = 2;
        else if (c >= 0xf0 && c <= 0xf4)
            extra = 3;
        else
            return false;
        for (int i = 1; i <= extra; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        /* Overlong 3/4-byte forms, surrogates and > U+10FFFF. */
        if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) ||
            (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90))
            return false;
        if (extra == 1 && (c == 0xc2 && (p[1] >= 0x80 && p[1] < 0xa0)))
            return false; /* C1 controls */
        if (c != ' ')
            visible = true;
        p += 1 + extra;
        if (++chars > max_chars)
            return false;
    }
    return visible;
}

unsigned violations_document_bit(const char *name)
{
    static const struct {
        const char *name;
        unsigned bit;
    } docs[] = {
        {"vehicle_licence", VIOLATIONS_DOC_VEHICLE_LICENCE},
        {"owner_id", VIOLATIONS_DOC_OWNER_ID},
        {"owner_authorization", VIOLATIONS_DOC_OWNER_AUTHORIZATION},
        {"decision", VIOLATIONS_DOC_DECISION},
    };
    for (size_t i = 0; name && i < sizeof docs / sizeof docs[0]; i++)
        if (strcmp(name, docs[i].name) == 0)
            return docs[i].bit;
    return 0;
}

const char *violations_handling_tie(bool owner, bool bound, bool at_window, unsigned documents,
                                    const char **why)
{
    if (owner)
        return "owner";
    if (bound)
        return "bound";
    if (!at_window) {
        if (why)
            *why = "no_tie_to_vehicle";
        return NULL;
    }
    if (!(documents & VIOLATIONS_DOC_VEHICLE_LICENCE) ||
        !(documents & (VIOLATIONS_DOC_OWNER_ID | VIOLATIONS_DOC_OWNER_AUTHORIZATION))) {
        if (why)
            *why = "documents_required";
        return NULL;
    }
    return "window_documents";
}
