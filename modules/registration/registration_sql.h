/* registration_sql.h - every statement of the registration module, one
 * function each. All block (database) and run on the caller's connection,
 * inside its transaction when there is one. Return 0 or -1 with the error
 * left in c. Rows are structs the caller owns (free each kind with its
 * _clear / _free function); a lookup of one row reports a missing row
 * through *found. Times are UTC. */
#ifndef ONETRIP_REGISTRATION_SQL_H
#define ONETRIP_REGISTRATION_SQL_H

#include <stdbool.h>
#include <stdint.h>
#include "db/db.h"

/* An application as reg_sql_app_get / reg_sql_app_list_* read it. Text
 * fields are heap strings owned by the row (NULL for SQL NULL); free with
 * reg_app_clear / reg_app_array_free. Times are "YYYY-MM-DDTHH:MM:SSZ"
 * (UTC) with a has_ flag when nullable; dates are "YYYY-MM-DD" text. */
typedef struct reg_app {
    int64_t id, citizen_id;
    char *channel;
    int64_t dealer_outlet_id, dealer_partner_id;
    bool has_dealer_outlet_id, has_dealer_partner_id;
    char *state, *vehicle_type, *use_type, *brand, *model, *vin, *engine_no, *invoice_no;
    int64_t invoice_amount_fen;
    bool has_invoice_amount_fen;
    char *insurance_policy_no, *insurance_status, *materials, *delivery, *mail_address;
    char *plate_prefix, *plate_number;
    char offer_expires_at[21];
    bool has_offer_expires_at;
    int64_t case_id;
    bool has_case_id;
    char *case_number;
    int64_t inspections;
    char *inspection_reasons;
    char inspected_at[21];
    bool has_inspected_at;
    int64_t vehicle_id;
    bool has_vehicle_id;
    char *certificate_no;
    char created_at[21], updated_at[21], submitted_at[21], registered_at[21], cancelled_at[21];
    bool has_submitted_at, has_registered_at, has_cancelled_at;
    char reserved_until[21]; /* of the reserved plate */
    bool has_reserved_until;
    int64_t insurance_policy_id; /* the policy that confirmed the insurance */
    bool has_insurance_policy_id;
    char *insurance_valid_from, *insurance_valid_until; /* its validity, or NULL */
    char *next_inspection_date; /* the registered vehicle's, or NULL */
} reg_app;

void reg_app_clear(reg_app *a);
void reg_app_array_free(reg_app *rows, int n);

/* Fields of a draft; NULL / has_amount=0 leave a column as it is (update)
 * or NULL (insert). */
typedef struct reg_fields {
    const char *vehicle_type, *use_type, *brand, *model, *vin, *engine_no, *invoice_no;
    int has_amount;
    int64_t invoice_amount_fen;
    const char *policy_no, *materials_json, *delivery, *mail_address;
} reg_fields;

int reg_sql_app_insert(db_conn *c, int64_t citizen_id, const char *channel, int64_t dealer_outlet,
                       int64_t dealer_partner, const char *plate_prefix, const reg_fields *f,
                       int64_t *id);
int reg_sql_app_update_draft(db_conn *c, int64_t id, const reg_fields *f, uint64_t *affected);
int reg_sql_app_get(db_conn *c, int64_t id, int for_update, reg_app *out, bool *found);
/* Lists: *rows (NULL when none) and *n; free with reg_app_array_free. */
int reg_sql_app_list_citizen(db_conn *c, int64_t citizen_id, reg_app **rows, int *n);
int reg_sql_app_list_dealer(db_conn *c, int64_t outlet_id, reg_app **rows, int *n);
int reg_sql_app_list_state(db_conn *c, const char *state, reg_app **rows, int *n);
/* Conditional state change: affected is 1 only if the row was in `from`. */
int reg_sql_app_set_state(db_conn *c, int64_t id, const char *from, const char *to,
                          uint64_t *affected);
int reg_sql_app_submit(db_conn *c, int64_t id, int64_t case_id, const char *case_number,
                       const char *insurance_status, uint64_t *affected);
int reg_sql_app_set_plate(db_conn *c, int64_t id, const char *from, const char *number,
                          uint64_t *affected);
/* Back to `to` without a plate (release, lapse). */
int reg_sql_app_drop_plate(db_conn *c, int64_t id, const char *from, const char *to,
                           uint64_t *affected);
int reg_sql_app_cancel(db_conn *c, int64_t id, const char *from, uint64_t *affected);
int reg_sql_app_inspected(db_conn *c, int64_t id, const char *from, const char *to,
                          const char *reasons_json, uint64_t *affected);
int reg_sql_app_registered(db_conn *c, int64_t id, int64_t vehicle_id, const char *certificate,
                           uint64_t *affected);
/* Corrects the policy number of an application in state `from`. */
int reg_sql_app_set_policy_no(db_conn *c, int64_t id, const char *from, const char *policy_no,
                              uint64_t *affected);
/* insurance_status and the confirming policy (0 for none). */
int reg_sql_app_set_insurance(db_conn *c, int64_t id, const char *status, int64_t policy_id);
/* The open application (submitted .. inspected) of a VIN, locked: at most
 * one, by the unique key on open_vin. *policy_no is malloc'd (NULL when
 * the application names none); the caller frees it. */
int reg_sql_app_open_by_vin(db_conn *c, const char *vin, int64_t *id, char **policy_no,
                            bool *found);
int reg_sql_app_set_offer_expiry(db_conn *c, int64_t id, int64_t ttl_s);
/* Which of vin / engine_no a registered vehicle (or another open
 * application) already has. */
int reg_sql_vehicle_dups(db_conn *c, const char *vin, const char *engine_no, bool *vin_hit,
                         bool *engine_hit);
int reg_sql_open_dups(db_conn *c, int64_t id, const char *vin, const char *engine_no,
                      bool *vin_hit, bool *engine_hit);

/* plate pool */
int reg_sql_plate_insert(db_conn *c, const char *prefix, const char *number, uint64_t *affected);
int reg_sql_plate_block(db_conn *c, const char *prefix, const char *number, uint64_t *affected);
int reg_sql_plate_unblock(db_conn *c, const char *prefix, const char *number, uint64_t *affected);
int reg_sql_plate_state(db_conn *c, const char *prefix, const char *number, char state[16],
                        bool *found);
typedef struct reg_plate_count {
    char state[16];
    int64_t n;
} reg_plate_count;
/* Numbers of the prefix per state (states without numbers are absent);
 * free with free(). */
int reg_sql_plate_counts(db_conn *c, const char *prefix, reg_plate_count **rows, int *n);
typedef struct reg_plate_number {
    char number[21]; /* CHAR(5), utf8mb4 */
} reg_plate_number;
/* Up to n free numbers picked at random; free with free(). */
int reg_sql_plate_random_free(db_conn *c, const char *prefix, int64_t n,
                              reg_plate_number **rows, int *nrows);
int reg_sql_plate_reserve(db_conn *c, const char *prefix, const char *number, int64_t app_id,
                          int64_t days, uint64_t *affected);
int reg_sql_plate_release(db_conn *c, int64_t app_id, uint64_t *affected);
int reg_sql_plate_assign(db_conn *c, int64_t app_id, uint64_t *affected);
/* Applications with a reservation past its time that have not passed
 * their inspection; locked, skipping rows other runs or requests hold.
 * Free with free(). */
typedef struct reg_lapsed {
    int64_t id, citizen_id;
    char state[32];
} reg_lapsed;
int reg_sql_plate_expired(db_conn *c, int64_t limit, reg_lapsed **rows, int *n);

/* random offers */
int reg_sql_offer_clear(db_conn *c, int64_t app_id);
int reg_sql_offer_add(db_conn *c, int64_t app_id, const char *number, int64_t ttl_s);
/* The application's unexpired offers with their number's pool state
 * (has_state false when the number left the pool); free with free(). */
typedef struct reg_offer {
    char number[21];
    char expires_at[21];
    char state[16];
    bool has_state;
} reg_offer;
int reg_sql_offer_current(db_conn *c, int64_t app_id, reg_offer **rows, int *n);
int reg_sql_offer_has(db_conn *c, int64_t app_id, const char *number, bool *has);

/* anti-hoarding and bars */
int reg_sql_hoard_add(db_conn *c, int64_t citizen_id, const char *kind, int64_t app_id);
int reg_sql_hoard_count(db_conn *c, int64_t citizen_id, int64_t window_days, int64_t *n);
int reg_sql_bar_add(db_conn *c, int64_t citizen_id, const char *kind, int64_t days,
                    const char *reason);
/* Latest active bar of that kind: *found and its end (UTC text). */
int reg_sql_bar_active(db_conn *c, int64_t citizen_id, const char *kind, char until[21],
                       bool *found);

/* stations, slots, appointments */
/* The longest inspection slot, in seconds. */
#define REG_SLOT_MAX_S (12 * 3600)
/* The outlet's type ("station", ...); *found false for no such outlet. */
int reg_sql_outlet_type(db_conn *c, int64_t outlet_id, char type[32], bool *found);
/* The same, locking the outlet's row FOR UPDATE: serialises slot
 * publishing at one station. */
int reg_sql_outlet_lock(db_conn *c, int64_t outlet_id, char type[32], bool *found);
typedef struct reg_station {
    int64_t id;
    char *code, *name, *city, *address;
} reg_station;
/* Every inspection station; free with reg_station_array_free. */
int reg_sql_stations(db_conn *c, reg_station **rows, int *n);
void reg_station_array_free(reg_station *rows, int n);
int reg_sql_slot_insert(db_conn *c, int64_t outlet_id, int64_t start, int64_t end,
                        int64_t capacity, int64_t created_by, int64_t *id);
/* Slots of the outlet overlapping [start, end) (unix seconds), read with a
 * lock (latest committed rows). */
int reg_sql_slot_overlaps(db_conn *c, int64_t outlet_id, int64_t start, int64_t end, int64_t *n);
typedef struct reg_slot {
    int64_t id, outlet_id;
    char starts_at[21], ends_at[21];
    int64_t capacity, booked;
    bool future; /* has not started yet */
} reg_slot;
/* Free with free(). */
int reg_sql_slots_between(db_conn *c, int64_t outlet_id, int64_t from, int64_t to,
                          reg_slot **rows, int *n);
int reg_sql_slot_get(db_conn *c, int64_t slot_id, reg_slot *out, bool *found);
/* booked + 1 only while below capacity and the slot has not started. */
int reg_sql_slot_book(db_conn *c, int64_t slot_id, uint64_t *affected);
int reg_sql_slot_unbook(db_conn *c, int64_t slot_id, uint64_t *affected);
int reg_sql_appt_insert(db_conn *c, int64_t app_id, int64_t slot_id, int64_t citizen_id,
                        int64_t *id);
/* An appointment with its slot. */
typedef struct reg_appt {
    int64_t id, slot_id, outlet_id;
    char starts_at[21], ends_at[21];
    char state[16];
    bool started; /* the slot has started */
} reg_appt;
/* The application's active appointment, if any. */
int reg_sql_appt_active(db_conn *c, int64_t app_id, reg_appt *out, bool *found);
/* The application's last attended appointment (its last check), if any. */
int reg_sql_appt_last_attended(db_conn *c, int64_t app_id, reg_appt *out, bool *found);
int reg_sql_appt_close(db_conn *c, int64_t appt_id, const char *state, uint64_t *affected);
/* Booked appointments whose slot has ended, locked; free with free(). */
typedef struct reg_no_show {
    int64_t id, application_id, citizen_id, slot_id;
} reg_no_show;
int reg_sql_appt_no_show_due(db_conn *c, int64_t limit, reg_no_show **rows, int *n);
int reg_sql_no_show_count(db_conn *c, int64_t citizen_id, int64_t window_days, int64_t *n);

/* The appointments at a station whose slot starts in [from, to) (unix
 * seconds), with their application and owner's name, optionally only those
 * in state (NULL: all). Free with reg_station_appt_array_free. */
typedef struct reg_station_appt {
    int64_t id, slot_id;
    char starts_at[21], ends_at[21];
    char state[16];
    int64_t application_id;
    char *application_state, *channel;
    char *vehicle_type, *use_type, *brand, *model, *vin, *engine_no; /* NULL when unset */
    char *plate_prefix, *plate_number;                               /* number: NULL */
    int64_t inspections;
    char *inspection_reasons; /* JSON array text, or NULL */
    char *owner_name;
} reg_station_appt;
int reg_sql_station_appointments(db_conn *c, int64_t outlet_id, int64_t from, int64_t to,
                                 const char *state, reg_station_appt **rows, int *n);
void reg_station_appt_array_free(reg_station_appt *rows, int n);

/* compulsory insurance policies */
typedef struct reg_policy {
    int64_t id, insurer_partner_id;
    char kind[48];
    char *policy_no, *vin;
    char valid_from[11], valid_until[11]; /* "YYYY-MM-DD" */
    char created_at[21], updated_at[21];
} reg_policy;
void reg_policy_clear(reg_policy *p);
int reg_sql_policy_get(db_conn *c, int64_t id, reg_policy *out, bool *found);
/* The insurer's policy of that number, locked. */
int reg_sql_policy_of_insurer(db_conn *c, int64_t partner_id, const char *policy_no,
                              reg_policy *out, bool *found);
int reg_sql_policy_insert(db_conn *c, int64_t partner_id, int64_t outlet_id, const char *policy_no,
                          const char *vin, const char *valid_from, const char *valid_until,
                          int64_t *id);
int reg_sql_policy_set_validity(db_conn *c, int64_t id, const char *valid_from,
                                const char *valid_until);
/* The latest policy for vin under policy_no, if any. */
int reg_sql_policy_find(db_conn *c, const char *vin, const char *policy_no, int64_t *id,
                        bool *found);
/* How many policies name vin (under any number). */
int reg_sql_policy_count_vin(db_conn *c, const char *vin, int64_t *n);

/* completion */
/* The vehicle itself is created through people.h (people_vehicle_create). */
int reg_sql_mail_insert(db_conn *c, int64_t app_id, int64_t case_id, int64_t citizen_id,
                        const char *recipient, const char *address, const char *contents,
                        int64_t *id);
typedef struct reg_mail {
    int64_t id, application_id;
    int64_t case_id;
    bool has_case_id;
    int64_t citizen_id;
    char *recipient_name, *address, *contents;
    char state[16];
    char *tracking_no; /* NULL until dispatched */
    char created_at[21], dispatched_at[21];
    bool has_dispatched_at;
} reg_mail;
void reg_mail_clear(reg_mail *m);
/* Free with reg_mail_array_free. */
int reg_sql_mail_list(db_conn *c, const char *state, reg_mail **rows, int *n);
void reg_mail_array_free(reg_mail *rows, int n);
int reg_sql_mail_get(db_conn *c, int64_t id, int for_update, reg_mail *out, bool *found);
int reg_sql_mail_dispatch(db_conn *c, int64_t id, const char *tracking, int64_t by,
                          uint64_t *affected);

/* citizens */
/* The citizen of that ID-number hash, if any. */
int reg_sql_citizen_by_hash(db_conn *c, const unsigned char hash[32], int64_t *id, bool *found);
/* The citizen's name (malloc'd, the caller frees), or *name NULL for none. */
int reg_sql_citizen_name(db_conn *c, int64_t id, char **name);

#endif
