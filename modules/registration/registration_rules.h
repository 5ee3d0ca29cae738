/* registration_rules.h - pure rules of vehicle registration pre-entry:
 * the application state machine, vehicle type -> licence class, required
 * materials, instants in API input, demo plate numbers and certificate
 * numbers. No I/O, no globals: thread-safe, unit-tested in
 * tests/unit/check_registration.c. */
#ifndef ONETRIP_REGISTRATION_RULES_H
#define ONETRIP_REGISTRATION_RULES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Application states, in the order an application normally goes through. */
typedef enum registration_state {
    REG_DRAFT = 0,          /* being filled in; nothing checked against others yet */
    REG_SUBMITTED,          /* complete and unique; a case exists; may choose a plate */
    REG_PLATE_RESERVED,     /* holds one plate number until reserved_until */
    REG_APPOINTMENT_BOOKED, /* holds one place in an inspection slot */
    REG_INSPECTED_PASSED,   /* the vehicle passed the check: a window may complete */
    REG_INSPECTED_FAILED,   /* failed with reasons; may book a later slot or cancel */
    REG_REGISTERED,         /* vehicle row created, plate assigned */
    REG_DOCUMENTS_MAILED,   /* final: plates and certificate posted */
    REG_COLLECTED,          /* final: collected at a window */
    REG_CANCELLED,          /* final: withdrawn before inspection passed */
    REG_NSTATES
} registration_state;

typedef enum registration_event {
    REG_EV_UPDATE = 0,      /* edit a draft */
    REG_EV_SUBMIT,
    REG_EV_RESERVE_PLATE,
    REG_EV_RELEASE_PLATE,   /* the applicant gives the number back */
    REG_EV_PLATE_LAPSED,    /* the reservation expired (job) */
    REG_EV_BOOK,
    REG_EV_CANCEL_BOOKING,
    REG_EV_NO_SHOW,         /* the slot ended without a check (job) */
    REG_EV_INSPECT_PASS,    /* the station, on the booked appointment */
    REG_EV_INSPECT_FAIL,
    REG_EV_COMPLETE,
    REG_EV_MAILED,
    REG_EV_COLLECTED,
    REG_EV_CANCEL,
    REG_NEVENTS
} registration_event;

/* "draft", "submitted", ... ; NULL for an out-of-range value. */
const char *registration_state_name(registration_state s);
/* Inverse of registration_state_name; 0 or -1. */
int registration_state_parse(const char *name, registration_state *out);
const char *registration_event_name(registration_event e);

/* The state event leads to from `from`. Returns 0 with *to set, or -1 when
 * the event is not allowed in that state (the caller answers 409). */
int registration_next_state(registration_state from, registration_event ev, registration_state *to);

/* True while the application holds its VIN and engine number against
 * other applications (submitted .. inspected). */
int registration_state_is_open(registration_state s);

/* Licence class a vehicle type requires (GA 802 codes): K1x A1, K2x B1,
 * K3x/K4x C1, H1x/H2x B2, H3x-H5x C1, M1x D, M2x E. NULL for a type that is
 * not a letter and two digits, or not one of those families. */
const char *registration_class_for_type(const char *vehicle_type);

/* Required materials: required_csv is "a,b,c" (spaces ignored). Writes
 * each required code absent from have[0..nhave) into missing (at most cap,
 * pointers into buf which must hold strlen(required_csv)+1 bytes) in the
 * order required. Returns the number missing (may exceed cap). */
int registration_missing_materials(const char *required_csv, const char *const *have, int nhave,
                                   char *buf, const char **missing, int cap);

/* Plate choice modes (registration.selection). */
#define REG_SELECT_OFFER 1u  /* random offer of free numbers */
#define REG_SELECT_CUSTOM 2u /* self-composed number */
/* Parse a selection list: "offer", "custom" or both, comma-separated
 * (spaces around names ignored, repeats allowed). Returns 0 with *mask set,
 * or -1 for an unknown name or an empty list (*mask untouched). */
int registration_selection_parse(const char *csv, unsigned *mask);

/* Parse an instant "YYYY-MM-DDTHH:MM:SS" followed by "Z" or a "+HH:MM" /
 * "-HH:MM" offset (no fractions). 0 or -1. */
int registration_parse_instant(const char *s, time_t *out);

/* The i-th number of the demo pool: a letter (no I, O) and four digits,
 * spread over the 240000 such numbers so consecutive i look unrelated.
 * out gets 5 characters + NUL. -1 when i >= 240000. */
int registration_demo_plate(uint32_t i, char out[6]);

/* The first periodic safety inspection of a newly registered vehicle
 * (GA 802 type, use type as in the API, registration day as a date.h
 * date): *due is the last day of the month the first inspection falls due
 * in, since an inspection mark is valid to the end of a month. *months
 * (optional) gets the interval. Returns 0, or -1 for an unknown vehicle
 * family or use type. The rules and their sources are in the .c file. */
int registration_next_inspection(const char *vehicle_type, const char *use_type,
                                 int32_t registered, int32_t *due, int *months);

/* Registration certificate number for an application: "3301" and the id
 * in 8 digits (12 characters + NUL). -1 if the id does not fit. */
int registration_certificate_no(int64_t application_id, char out[16]);

#endif
