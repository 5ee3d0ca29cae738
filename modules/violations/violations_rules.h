/* violations_rules.h - pure rules of the violations module: which licence
 * classes cover which, the 12-point rule, the licence's scoring cycle,
 * whether a licence may accept a violation, and the syntax of the fields
 * agencies send. No I/O, no allocation, thread-safe.
 *
 * Functions returning int return 0 when the rule passes and -1 with *why
 * (never NULL on failure; why itself may be NULL) set to a stable reason
 * code that the HTTP layer passes to clients.
 */
#ifndef ONETRIP_VIOLATIONS_RULES_H
#define ONETRIP_VIOLATIONS_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* ---- licence classes -------------------------------------------------- */

/* Does a licence of class held allow driving a vehicle needing class
 * required? Classes are "A1".."C6", "D", "E", "F", "M", "N", "P". A class
 * covers itself and (GA/Ministry order 162, as the bureau applies it):
 *   A1: A3 B1 B2 C1 C2 C3 C4     A2: B2 C1 C2 C3 C4     A3: C1 C2 C3 C4
 *   B1: C1 C2 C3 C4              B2: C1 C2 C3 C4        C1: C2 C3 C4
 *   C3: C4                       D: E F                 E: F
 * and nothing else (C2, C4, C5, F, M, N, P cover only themselves).
 * Unknown or NULL classes cover nothing. */
bool violations_class_covers(const char *held, const char *required);

/* classes is the licence's class list as stored ("C1", "A1,D", "C1E",
 * "B2 D"): classes written together or separated by ',', ' ' or '/'.
 * True when any listed class covers required. A malformed list covers
 * nothing. */
bool violations_classes_cover(const char *classes, const char *required);

/* ---- points ----------------------------------------------------------- */

#define VIOLATIONS_POINTS_MAX_PER_VIOLATION 12

/* Points after accepting add more on a licence holding points.
 * Online (at_window false): refused with "points_would_reach_12" when the
 * total would reach 12 or more (those must be handled at a window).
 * At a window any total is accepted; *full_score tells whether the total
 * reaches 12 (the licence then becomes full score). add outside 0..12 or
 * points < 0: "points_invalid". */
int violations_points_apply(int points, int add, bool at_window, int *total, bool *full_score,
                            const char **why);

/* The scoring cycle is one year from cycle_start (anniversaries; a cycle
 * that started on 29 February restarts on 1 March in common years). Sets
 * *current to the first day of the cycle containing today and returns true
 * when that is a later cycle than cycle_start's (the caller then starts
 * the new cycle: points of a finished cycle below 12 are cleared). A today
 * before cycle_start keeps cycle_start. */
bool violations_cycle_current(int32_t cycle_start, int32_t today, int32_t *current);

/* Cancelling a handled violation of add points, handled on the bureau day
 * handled_day (0 = unknown), from a licence holding points in the cycle
 * starting cycle_start with status, on today. Returns true when the points
 * go back: only when the violation was handled within the licence's current
 * cycle. That cycle is cycle_start's, except when today lies in a later one
 * and the licence is neither full score nor at 12 (tx_handle then lets the
 * points lapse and starts the new cycle): a violation of a finished cycle
 * gives nothing back, so it never eats into a later cycle's points. Then
 * *points_after = max(points - add, 0) and *lift_full_score tells whether a
 * 'full_score' licence that reached 12 in this cycle (points >= 12: a full
 * score licence never rolls its cycle, so its count is this cycle's) falls
 * back below 12. Lifting clears full_score_study too: this module sets the
 * status and the study flag together, only when the count reaches 12, so
 * that study was owed for this count alone. A full score without 12 points
 * counted (set some other way) is in doubt and stays, study flag included.
 * Returns false with *points_after = points and no lift otherwise. */
bool violations_points_on_cancel(int points, int32_t cycle_start, const char *status, int add,
                                 int32_t handled_day, int32_t today, int *points_after,
                                 bool *lift_full_score);

/* May a licence in status (licences.status) valid until valid_until (a
 * date.h date) accept a violation on today? Online only 'valid'; at a
 * window 'full_score' too (full-score drivers still answer for their
 * violations). Reasons: "licence_expired" (valid_until < today, checked
 * first), "licence_full_score" (online, status full_score),
 * "licence_not_valid" (any other status). */
int violations_licence_usable(const char *status, int32_t valid_until, int32_t today,
                              bool at_window, const char **why);

/* ---- who may take a violation's points ------------------------------- */

/* Documents a window operator checked before a driver accepts a violation
 * of a vehicle they have no recorded tie to (bits of a mask). */
enum {
    VIOLATIONS_DOC_VEHICLE_LICENCE = 1 << 0,     /* the vehicle's licence (行驶证) */
    VIOLATIONS_DOC_OWNER_ID = 1 << 1,            /* the owner's identity document */
    VIOLATIONS_DOC_OWNER_AUTHORIZATION = 1 << 2, /* the owner's written authorisation */
    VIOLATIONS_DOC_DECISION = 1 << 3,            /* the served decision */
};
/* The bit of a document name ("vehicle_licence", "owner_id",
 * "owner_authorization", "decision"); 0 for anything else. */
unsigned violations_document_bit(const char *name);

/* The tie between the licence holder who takes a violation's points and
 * the vehicle, as recorded with every handling (violation_handlings):
 *   "owner"             the holder owns the registered vehicle
 *   "bound"             the holder has an active binding the owner consented to
 *   "window_documents"  at a window only, neither of those: the operator
 *                       checked the vehicle's licence and the owner's
 *                       identity or written authorisation
 * Online, points go only to a licence with a tie (owner or bound): knowing
 * a decision number is no tie, and taking others' points is how points are
 * traded. Returns the tie (a static string), or NULL with *why:
 * "no_tie_to_vehicle" (online, neither owner nor bound) or
 * "documents_required" (window, neither, the documents above missing). */
const char *violations_handling_tie(bool owner, bool bound, bool at_window, unsigned documents,
                                    const char **why);

/* ---- field syntax ------------------------------------------------------ */

/* Bytes of a canonical plate with its NUL: prefix (4) + number (5) + 1. */
#define VIOLATIONS_PLATE_CANON_SIZE 10

/* Check a plate written "浙A·12345" (as printed, U+00B7 after the prefix)
 * or "浙A12345" (as vehicles.plate stores it) and write the stored form,
 * "浙A12345", into out. The prefix is checked by
 * registration_plate_prefix_check, the number by
 * registration_plate_number_check (up to 5 letters: the series of another
 * city is unknown here). Reasons: "plate_format" (too short, NULL) or the
 * registration reason codes ("plate_prefix", "plate_length", ...). */
int violations_plate_normalize(const char *plate, char out[VIOLATIONS_PLATE_CANON_SIZE],
                               const char **why);

/* 6..32 characters of A-Z, 0-9 and '-', starting with a letter or digit.
 * Reason "decision_no_format". */
int violations_decision_no_check(const char *s, const char **why);

/* Violation code: 4..6 digits (the national code table). "code_format". */
int violations_code_check(const char *s, const char **why);

/* GA 802 vehicle type: one upper-case letter and two digits ("K33").
 * "vehicle_type_format". */
int violations_vehicle_type_check(const char *s, const char **why);

/* 'traffic' | 'highway' | 'airport' | 'railway' | 'urban'. */
bool violations_agency_valid(const char *s);
/* 'camera' | 'officer'. */
bool violations_source_valid(const char *s);

/* Parse an RFC 3339 instant with whole seconds and an explicit zone:
 * "2025-03-01T08:30:00Z" or "2025-03-01T16:30:00+08:00" (offsets up to
 * +-14:00). Fractions, missing zones and surrounding space are refused.
 * Returns 0 and the UTC instant, or -1. */
int violations_parse_instant(const char *s, time_t *out);

/* Text fields (place, description, reason): 1..max_chars UTF-8 characters,
 * valid UTF-8, no control characters, not only spaces. */
bool violations_text_ok(const char *s, int max_chars);

#endif
