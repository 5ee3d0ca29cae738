/* registration_sql.h - every statement of the registration module, one
 * function each. All block (database) and run on the caller's connection,
 * inside its transaction when there is one. Return 0 or -1 with the error
 * left in c. Row results (db_rows **out) belong to the caller
 * (db_rows_free). Times are UTC. */
#ifndef ONETRIP_REGISTRATION_SQL_H
#define ONETRIP_REGISTRATION_SQL_H

#include <stdint.h>
#include "db/db.h"

/* Columns of reg_sql_app_get / reg_sql_app_list rows. */
enum {
    RA_ID, RA_CITIZEN, RA_CHANNEL, RA_DEALER_OUTLET, RA_DEALER_PARTNER, RA_STATE, RA_VTYPE,
    RA_USE, RA_BRAND, RA_MODEL, RA_VIN, RA_ENGINE, RA_INVOICE_NO, RA_INVOICE_AMOUNT,
    RA_POLICY, RA_INSURANCE, RA_MATERIALS, RA_DELIVERY, RA_ADDRESS, RA_PREFIX, RA_NUMBER,
    RA_OFFER_EXPIRES, RA_CASE_ID, RA_CASE_NUMBER, RA_INSPECTIONS, RA_REASONS, RA_INSPECTED_AT,
    RA_VEHICLE_ID, RA_CERTIFICATE, RA_CREATED, RA_UPDATED, RA_SUBMITTED, RA_REGISTERED,
    RA_CANCELLED, RA_RESERVED_UNTIL,
    RA_POLICY_ID,        /* the policy that confirmed the insurance, or NULL */
    RA_POLICY_FROM,      /* its validity (DATE text), or NULL */
    RA_POLICY_UNTIL,
    RA_NEXT_INSPECTION,  /* the registered vehicle's next inspection date, or NULL */
    RA_NCOLS
};

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
int reg_sql_app_get(db_conn *c, int64_t id, int for_update, db_rows **out);
int reg_sql_app_list_citizen(db_conn *c, int64_t citizen_id, db_rows **out);
int reg_sql_app_list_dealer(db_conn *c, int64_t outlet_id, db_rows **out);
int reg_sql_app_list_state(db_conn *c, const char *state, db_rows **out);
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
 * one row (id, insurance_policy_no), by the unique key on open_vin. */
int reg_sql_app_open_by_vin(db_conn *c, const char *vin, db_rows **out);
int reg_sql_app_set_offer_expiry(db_conn *c, int64_t id, int64_t ttl_s);
/* Rows: which of vin / engine_no are taken: (vin_hit, engine_hit). */
int reg_sql_vehicle_dups(db_conn *c, const char *vin, const char *engine_no, db_rows **out);
int reg_sql_open_dups(db_conn *c, int64_t id, const char *vin, const char *engine_no,
                      db_rows **out);

/* plate pool */
int reg_sql_plate_insert(db_conn *c, const char *prefix, const char *number, uint64_t *affected);
int reg_sql_plate_block(db_conn *c, const char *prefix, const char *number, uint64_t *affected);
int reg_sql_plate_unblock(db_conn *c, const char *prefix, const char *number, uint64_t *affected);
int reg_sql_plate_state(db_conn *c, const char *prefix, const char *number, db_rows **out);
int reg_sql_plate_counts(db_conn *c, const char *prefix, db_rows **out);
int reg_sql_plate_random_free(db_conn *c, const char *prefix, int64_t n, db_rows **out);
int reg_sql_plate_reserve(db_conn *c, const char *prefix, const char *number, int64_t app_id,
                          int64_t days, uint64_t *affected);
int reg_sql_plate_release(db_conn *c, int64_t app_id, uint64_t *affected);
int reg_sql_plate_assign(db_conn *c, int64_t app_id, uint64_t *affected);
/* Rows (application id, citizen id, state) with a reservation past its
 * time whose application has not passed its inspection; locked, skipping
 * rows other runs or requests hold. */
int reg_sql_plate_expired(db_conn *c, int64_t limit, db_rows **out);

/* random offers */
int reg_sql_offer_clear(db_conn *c, int64_t app_id);
int reg_sql_offer_add(db_conn *c, int64_t app_id, const char *number, int64_t ttl_s);
int reg_sql_offer_current(db_conn *c, int64_t app_id, db_rows **out);
int reg_sql_offer_has(db_conn *c, int64_t app_id, const char *number, db_rows **out);

/* anti-hoarding and bars */
int reg_sql_hoard_add(db_conn *c, int64_t citizen_id, const char *kind, int64_t app_id);
int reg_sql_hoard_count(db_conn *c, int64_t citizen_id, int64_t window_days, int64_t *n);
int reg_sql_bar_add(db_conn *c, int64_t citizen_id, const char *kind, int64_t days,
                    const char *reason);
/* Latest active bar of that kind: one row (until) or none. */
int reg_sql_bar_active(db_conn *c, int64_t citizen_id, const char *kind, db_rows **out);

/* stations, slots, appointments */
/* The longest inspection slot, in seconds. */
#define REG_SLOT_MAX_S (12 * 3600)
int reg_sql_outlet_type(db_conn *c, int64_t outlet_id, db_rows **out);
/* The outlet's (type) row, locked FOR UPDATE: serialises slot publishing
 * at one station. */
int reg_sql_outlet_lock(db_conn *c, int64_t outlet_id, db_rows **out);
int reg_sql_stations(db_conn *c, db_rows **out);
int reg_sql_slot_insert(db_conn *c, int64_t outlet_id, int64_t start, int64_t end,
                        int64_t capacity, int64_t created_by, int64_t *id);
/* Slots of the outlet overlapping [start, end) (unix seconds), read with a
 * lock (latest committed rows). */
int reg_sql_slot_overlaps(db_conn *c, int64_t outlet_id, int64_t start, int64_t end, int64_t *n);
int reg_sql_slots_between(db_conn *c, int64_t outlet_id, int64_t from, int64_t to, db_rows **out);
int reg_sql_slot_get(db_conn *c, int64_t slot_id, db_rows **out);
/* booked + 1 only while below capacity and the slot has not started. */
int reg_sql_slot_book(db_conn *c, int64_t slot_id, uint64_t *affected);
int reg_sql_slot_unbook(db_conn *c, int64_t slot_id, uint64_t *affected);
int reg_sql_appt_insert(db_conn *c, int64_t app_id, int64_t slot_id, int64_t citizen_id,
                        int64_t *id);
/* Active appointment of an application with its slot: (id, slot_id,
 * outlet_id, starts_at, ends_at, state, slot has started 0/1). */
int reg_sql_appt_active(db_conn *c, int64_t app_id, db_rows **out);
/* The application's last attended appointment (its last check), same
 * columns (zero or one row). */
int reg_sql_appt_last_attended(db_conn *c, int64_t app_id, db_rows **out);
int reg_sql_appt_close(db_conn *c, int64_t appt_id, const char *state, uint64_t *affected);
/* Booked appointments whose slot has ended: (appt id, app id, citizen id,
 * slot id), locked. */
int reg_sql_appt_no_show_due(db_conn *c, int64_t limit, db_rows **out);
int reg_sql_no_show_count(db_conn *c, int64_t citizen_id, int64_t window_days, int64_t *n);

/* The appointments at a station whose slot starts in [from, to) (unix
 * seconds), with their application and owner's name, optionally only those
 * in state (NULL: all). Columns: see RS_*. */
enum {
    RS_ID, RS_SLOT, RS_STARTS, RS_ENDS, RS_STATE, RS_APP, RS_APP_STATE, RS_CHANNEL, RS_VTYPE,
    RS_USE, RS_BRAND, RS_MODEL, RS_VIN, RS_ENGINE, RS_PREFIX, RS_NUMBER, RS_INSPECTIONS,
    RS_REASONS, RS_OWNER, RS_NCOLS
};
int reg_sql_station_appointments(db_conn *c, int64_t outlet_id, int64_t from, int64_t to,
                                 const char *state, db_rows **out);

/* compulsory insurance policies (columns: see RP_*) */
enum {
    RP_ID, RP_PARTNER, RP_KIND, RP_POLICY_NO, RP_VIN, RP_FROM, RP_UNTIL, RP_CREATED, RP_UPDATED,
    RP_NCOLS
};
int reg_sql_policy_get(db_conn *c, int64_t id, db_rows **out);
/* The insurer's policy of that number, locked (zero or one row). */
int reg_sql_policy_of_insurer(db_conn *c, int64_t partner_id, const char *policy_no,
                              db_rows **out);
int reg_sql_policy_insert(db_conn *c, int64_t partner_id, int64_t outlet_id, const char *policy_no,
                          const char *vin, const char *valid_from, const char *valid_until,
                          int64_t *id);
int reg_sql_policy_set_validity(db_conn *c, int64_t id, const char *valid_from,
                                const char *valid_until);
/* The latest policy for vin under policy_no: zero or one row (id). */
int reg_sql_policy_find(db_conn *c, const char *vin, const char *policy_no, db_rows **out);
/* How many policies name vin (under any number). */
int reg_sql_policy_count_vin(db_conn *c, const char *vin, int64_t *n);

/* completion */
/* next_inspection: "YYYY-MM-DD" or NULL. */
int reg_sql_vehicle_insert(db_conn *c, const char *plate, const char *vin, const char *engine_no,
                           const char *vehicle_type, const char *class_required,
                           const char *use_type, const char *brand, const char *model,
                           int64_t owner, const char *next_inspection, int64_t *id);
int reg_sql_mail_insert(db_conn *c, int64_t app_id, int64_t case_id, int64_t citizen_id,
                        const char *recipient, const char *address, const char *contents,
                        int64_t *id);
int reg_sql_mail_list(db_conn *c, const char *state, db_rows **out);
int reg_sql_mail_get(db_conn *c, int64_t id, int for_update, db_rows **out);
int reg_sql_mail_dispatch(db_conn *c, int64_t id, const char *tracking, int64_t by,
                          uint64_t *affected);

/* citizens */
int reg_sql_citizen_by_hash(db_conn *c, const unsigned char hash[32], db_rows **out);
int reg_sql_citizen_name(db_conn *c, int64_t id, db_rows **out);

#endif
