/* registration_rules.c - see registration_rules.h. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "modules/registration/registration_rules.h"
#include "server/date.h"

static const char *const state_names[REG_NSTATES] = {
    "draft", "submitted", "plate_reserved", "appointment_booked", "inspected_passed",
    "inspected_failed", "registered", "documents_mailed", "collected", "cancelled",
};

static const char *const event_names[REG_NEVENTS] = {
    "update", "submit", "reserve_plate", "release_plate", "plate_lapsed", "book",
    "cancel_booking", "no_show", "inspect_pass", "inspect_fail", "complete", "mailed",
    "collected", "cancel",
};

/* The whole state machine in one table: a row per allowed (from, event). */
static const struct {
    registration_state from;
    registration_event ev;
    registration_state to;
} transitions[] = {
    {REG_DRAFT, REG_EV_UPDATE, REG_DRAFT},
    {REG_DRAFT, REG_EV_SUBMIT, REG_SUBMITTED},
    {REG_SUBMITTED, REG_EV_RESERVE_PLATE, REG_PLATE_RESERVED},
    {REG_PLATE_RESERVED, REG_EV_RELEASE_PLATE, REG_SUBMITTED},
    {REG_PLATE_RESERVED, REG_EV_PLATE_LAPSED, REG_SUBMITTED},
    {REG_APPOINTMENT_BOOKED, REG_EV_PLATE_LAPSED, REG_SUBMITTED},
    /* A failed vehicle does not keep its number forever either. */
    {REG_INSPECTED_FAILED, REG_EV_PLATE_LAPSED, REG_SUBMITTED},
    {REG_PLATE_RESERVED, REG_EV_BOOK, REG_APPOINTMENT_BOOKED},
    /* A failed vehicle is checked again only at a new appointment (which
     * must be later than the failed one; registration_slots.c). */
    {REG_INSPECTED_FAILED, REG_EV_BOOK, REG_APPOINTMENT_BOOKED},
    {REG_APPOINTMENT_BOOKED, REG_EV_CANCEL_BOOKING, REG_PLATE_RESERVED},
    {REG_APPOINTMENT_BOOKED, REG_EV_NO_SHOW, REG_PLATE_RESERVED},
    {REG_APPOINTMENT_BOOKED, REG_EV_INSPECT_PASS, REG_INSPECTED_PASSED},
    {REG_APPOINTMENT_BOOKED, REG_EV_INSPECT_FAIL, REG_INSPECTED_FAILED},
    /* Only a station records a check, on a booked appointment: a dealer
     * no longer signs its own sales off, and nobody records a failure and
     * a pass in one go. */
    {REG_INSPECTED_PASSED, REG_EV_COMPLETE, REG_REGISTERED},
    {REG_REGISTERED, REG_EV_MAILED, REG_DOCUMENTS_MAILED},
    {REG_REGISTERED, REG_EV_COLLECTED, REG_COLLECTED},
    /* Cancel is possible until the vehicle passed its inspection. */
    {REG_DRAFT, REG_EV_CANCEL, REG_CANCELLED},
    {REG_SUBMITTED, REG_EV_CANCEL, REG_CANCELLED},
    {REG_PLATE_RESERVED, REG_EV_CANCEL, REG_CANCELLED},
    {REG_APPOINTMENT_BOOKED, REG_EV_CANCEL, REG_CANCELLED},
    {REG_INSPECTED_FAILED, REG_EV_CANCEL, REG_CANCELLED},
};

const char *registration_state_name(registration_state s)
{
    if ((int)s < 0 || s >= REG_NSTATES)
        return NULL;
    return state_names[s];
}

int registration_state_parse(const char *name, registration_state *out)
{
    for (int i = 0; name && i < REG_NSTATES; i++)
        if (strcmp(name, state_names[i]) == 0) {
            *out = (registration_state)i;
            return 0;
        }
    return -1;
}

const char *registration_event_name(registration_event e)
{
    if ((int)e < 0 || e >= REG_NEVENTS)
        return NULL;
    return event_names[e];
}

int registration_next_state(registration_state from, registration_event ev, registration_state *to)
{
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++)
        if (transitions[i].from == from && transitions[i].ev == ev) {
            *to = transitions[i].to;
            return 0;
        }
    return -1;
}

int registration_state_is_open(registration_state s)
{
    return s == REG_SUBMITTED || s == REG_PLATE_RESERVED || s == REG_APPOINTMENT_BOOKED ||
           s == REG_INSPECTED_PASSED || s == REG_INSPECTED_FAILED;
}

const char *registration_class_for_type(const char *t)
{
    if (t == NULL || strlen(t) != 3 || !isupper((unsigned char)t[0]) ||
        !isdigit((unsigned char)t[1]) || !isdigit((unsigned char)t[2]))
        return NULL;
    switch (t[0]) {
    case 'K':
        if (t[1] == '1')
            return "A1";
        if (t[1] == '2')
            return "B1";
        if (t[1] == '3' || t[1] == '4')
            return "C1";
        return NULL;
    case 'H':
        if (t[1] == '1' || t[1] == '2')
            return "B2";
        if (t[1] >= '3' && t[1] <= '5')
            return "C1";
        return NULL;
    case 'M':
        if (t[1] == '1')
            return "D";
        if (t[1] == '2')
            return "E";
        return NULL;
    default:
        return NULL;
    }
}

int registration_missing_materials(const char *required_csv, const char *const *have, int nhave,
                                   char *buf, const char **missing, int cap)
{
    int n = 0;
    char *save = NULL, *tok;

    strcpy(buf, required_csv ? required_csv : "");
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        int found = 0;
        while (*tok == ' ')
            tok++;
        end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ')
            *--end = '\0';
        if (*tok == '\0')
            continue;
        for (int i = 0; i < nhave && !found; i++)
            found = have[i] && strcmp(have[i], tok) == 0;
        if (!found) {
            if (n < cap)
                missing[n] = tok;
            n++;
        }
    }
    return n;
}

int registration_selection_parse(const char *csv, unsigned *mask)
{
    unsigned m = 0;
    const char *p = csv;

    if (csv == NULL)
        return -1;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n;
        if (end == NULL)
            end = p + strlen(p);
        while (p < end && *p == ' ')
            p++;
        n = (size_t)(end - p);
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n == 5 && memcmp(p, "offer", 5) == 0)
            m |= REG_SELECT_OFFER;
        else if (n == 6 && memcmp(p, "custom", 6) == 0)
            m |= REG_SELECT_CUSTOM;
        else
            return -1; /* unknown or empty name */
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *mask = m;
    return 0;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int registration_parse_instant(const char *s, time_t *out)
{
    int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 1;
    int32_t day;
    const char *z;

    if (s == NULL || strlen(s) < 20)
        return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    z = s + 19;
    if (strcmp(z, "Z") == 0) {
        /* UTC */
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':' &&
               digits(z + 1, 2, &oh) == 0 && digits(z + 4, 2, &om) == 0 && oh <= 14 && om <= 59) {
        sign = z[0] == '-' ? -1 : 1;
    } else {
        return -1;
    }
    if (h > 23 || mi > 59 || se > 59 || date_from_ymd(y, mo, d, &day) != 0)
        return -1;
    *out = (time_t)day * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
    return 0;
}

int registration_demo_plate(uint32_t i, char out[6])
{
    static const char letters[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"; /* 24: no I, O */
    uint32_t k;
    if (i >= 240000u)
        return -1;
    /* 97 is prime to 240000, so i -> k is a permutation of the space. */
    k = (uint32_t)(((uint64_t)i * 97u + 11u) % 240000u);
    snprintf(out, 6, "%c%04u", letters[k / 10000u], (unsigned)(k % 10000u));
    return 0;
}

int registration_certificate_no(int64_t application_id, char out[16])
{
    if (application_id <= 0 || application_id > 99999999)
        return -1;
    snprintf(out, 16, "3301%08lld", (long long)application_id);
    return 0;
}

static int is_operating(const char *use)
{
    return strcmp(use, "business") == 0 || strcmp(use, "taxi") == 0 || strcmp(use, "bus") == 0 ||
           strcmp(use, "freight") == 0;
}

/* Months from registration to the first periodic inspection:
 * - Regulations implementing the Road Traffic Safety Law, art. 16: operating
 *   passenger vehicles and trucks yearly; large and medium non-operating
 *   passenger vehicles yearly; small and mini non-operating passenger
 *   vehicles every 2 years within 6 years; motorcycles every 2 years within
 *   4 years.
 * - Reform of 2014 (MPS / AQSIQ), widened in 2022 (MPS / SAMR): small and
 *   mini non-operating passenger cars (K3x, K4x), except vans (K39, K49),
 *   are exempt from inspection for 6 years: the first is due in the 6th
 *   year.
 * - School Bus Safety Regulations: school buses (Kx8) every 6 months.
 * Everything else of the K/H/M families that registration accepts is
 * inspected yearly. */
static int first_inspection_months(const char *t, const char *use)
{
    if (registration_class_for_type(t) == NULL)
        return -1;
    if (t[0] == 'K' && t[2] == '8')
        return 6;
    if (t[0] == 'M')
        return 24;
    if (t[0] == 'K' && (t[1] == '3' || t[1] == '4') && !is_operating(use))
        return t[2] == '9' ? 24 : 72;
    return 12;
}

int registration_next_inspection(const char *vehicle_type, const char *use_type,
                                 int32_t registered, int32_t *due, int *months)
{
    int n, y, m;
    if (vehicle_type == NULL || use_type == NULL || registered < DATE_MIN || registered > DATE_MAX)
        return -1;
    if (strcmp(use_type, "private") != 0 && strcmp(use_type, "government") != 0 &&
        !is_operating(use_type))
        return -1;
    if ((n = first_inspection_months(vehicle_type, use_type)) < 0)
        return -1;
    date_to_ymd(registered, &y, &m, NULL);
    m = m - 1 + n;
    y += m / 12;
    m = m % 12 + 1;
    /* An inspection mark is valid to the end of its month. */
    if (date_from_ymd(y, m, date_days_in_month(y, m), due) != 0)
        return -1;
    if (months)
        *months = n;
    return 0;
}
