/* registration_sql.c - the registration module's statements (see
 * registration_sql.h). Each SQL text sits beside its one function; the
 * statement cache is keyed by the array's address. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registration/registration_sql.h"
#include "db/rows.h"

#define APP_COLS                                                                                  \
    "a.id, a.citizen_id, a.channel, a.dealer_outlet_id, a.dealer_partner_id, a.state, "           \
    "a.vehicle_type, a.use_type, a.brand, a.model, a.vin, a.engine_no, a.invoice_no, "            \
    "a.invoice_amount_fen, a.insurance_policy_no, a.insurance_status, a.materials, a.delivery, "  \
    "a.mail_address, a.plate_prefix, a.plate_number, a.offer_expires_at, a.case_id, "             \
    "a.case_number, a.inspections, a.inspection_reasons, a.inspected_at, a.vehicle_id, "          \
    "a.certificate_no, a.created_at, a.updated_at, a.submitted_at, a.registered_at, "             \
    "a.cancelled_at, (SELECT p.reserved_until FROM plate_numbers p "                              \
    "WHERE p.reserved_by_application = a.id AND p.state = 'reserved') AS reserved_until, "        \
    "a.insurance_policy_id, "                                                                     \
    "(SELECT ip.valid_from FROM registration_insurance_policies ip "                              \
    "WHERE ip.id = a.insurance_policy_id) AS insurance_valid_from, (SELECT ip.valid_until FROM "  \
    "registration_insurance_policies ip WHERE ip.id = a.insurance_policy_id) "                    \
    "AS insurance_valid_until, "                                                                  \
    "(SELECT v.next_inspection_date FROM vehicles v WHERE v.id = a.vehicle_id) "                  \
    "AS next_inspection_date "

static const db_col APP_ROW_COLS[] = {
    DBR_I64(reg_app, id),
    DBR_I64(reg_app, citizen_id),
    DBR_STR(reg_app, channel),
    DBR_I64_NULL(reg_app, dealer_outlet_id, has_dealer_outlet_id),
    DBR_I64_NULL(reg_app, dealer_partner_id, has_dealer_partner_id),
    DBR_STR(reg_app, state),
    DBR_STR_NULL(reg_app, vehicle_type),
    DBR_STR_NULL(reg_app, use_type),
    DBR_STR_NULL(reg_app, brand),
    DBR_STR_NULL(reg_app, model),
    DBR_STR_NULL(reg_app, vin),
    DBR_STR_NULL(reg_app, engine_no),
    DBR_STR_NULL(reg_app, invoice_no),
    DBR_I64_NULL(reg_app, invoice_amount_fen, has_invoice_amount_fen),
    DBR_STR_NULL(reg_app, insurance_policy_no),
    DBR_STR(reg_app, insurance_status),
    DBR_STR(reg_app, materials),
    DBR_STR(reg_app, delivery),
    DBR_STR_NULL(reg_app, mail_address),
    DBR_STR(reg_app, plate_prefix),
    DBR_STR_NULL(reg_app, plate_number),
    DBR_UTC_NULL(reg_app, offer_expires_at, has_offer_expires_at),
    DBR_I64_NULL(reg_app, case_id, has_case_id),
    DBR_STR_NULL(reg_app, case_number),
    DBR_I64(reg_app, inspections),
    DBR_STR_NULL(reg_app, inspection_reasons),
    DBR_UTC_NULL(reg_app, inspected_at, has_inspected_at),
    DBR_I64_NULL(reg_app, vehicle_id, has_vehicle_id),
    DBR_STR_NULL(reg_app, certificate_no),
    DBR_UTC(reg_app, created_at),
    DBR_UTC(reg_app, updated_at),
    DBR_UTC_NULL(reg_app, submitted_at, has_submitted_at),
    DBR_UTC_NULL(reg_app, registered_at, has_registered_at),
    DBR_UTC_NULL(reg_app, cancelled_at, has_cancelled_at),
    DBR_UTC_NULL(reg_app, reserved_until, has_reserved_until),
    DBR_I64_NULL(reg_app, insurance_policy_id, has_insurance_policy_id),
    DBR_STR_NULL(reg_app, insurance_valid_from),
    DBR_STR_NULL(reg_app, insurance_valid_until),
    DBR_STR_NULL(reg_app, next_inspection_date),
};
static const db_row_spec APP_ROW = DB_ROW_SPEC(reg_app, APP_ROW_COLS);

void reg_app_clear(reg_app *a)
{
    db_row_clear(&APP_ROW, a);
}

void reg_app_array_free(reg_app *rows, int n)
{
    db_row_array_free(&APP_ROW, rows, n);
}

/* One integer column named n (a COUNT(*) AS n, a flag AS n). */
typedef struct count_row {
    int64_t n;
} count_row;
static const db_col COUNT_COLS[] = {DBR_I64(count_row, n)};
static const db_row_spec COUNT_ROW = DB_ROW_SPEC(count_row, COUNT_COLS);

typedef struct id_row {
    int64_t id;
} id_row;
static const db_col ID_COLS[] = {DBR_I64(id_row, id)};
static const db_row_spec ID_ROW = DB_ROW_SPEC(id_row, ID_COLS);

/* Two flags: which of a VIN and an engine number are taken. */
typedef struct dups_row {
    bool vin_hit, engine_hit;
} dups_row;
static const db_col DUPS_COLS[] = {DBR_BOOL(dups_row, vin_hit), DBR_BOOL(dups_row, engine_hit)};
static const db_row_spec DUPS_ROW = DB_ROW_SPEC(dups_row, DUPS_COLS);

static db_val opt_amount(const reg_fields *f)
{
    return f->has_amount ? DB_I64(f->invoice_amount_fen) : DB_NULL;
}

static const char SQL_APP_INSERT[] =
    "INSERT INTO registration_applications (citizen_id, channel, dealer_outlet_id, "
    "dealer_partner_id, state, vehicle_type, use_type, brand, model, vin, engine_no, invoice_no, "
    "invoice_amount_fen, insurance_policy_no, materials, delivery, mail_address, plate_prefix, "
    "created_at, updated_at) VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "COALESCE(?, '[]'), COALESCE(?, 'mail'), ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";

int reg_sql_app_insert(db_conn *c, int64_t citizen_id, const char *channel, int64_t dealer_outlet,
                       int64_t dealer_partner, const char *plate_prefix, const reg_fields *f,
                       int64_t *id)
{
    uint64_t iid = 0;
    int rc = db_exec(c, SQL_APP_INSERT,
                     DBP(DB_I64(citizen_id), DB_STR(channel),
                         dealer_outlet ? DB_I64(dealer_outlet) : DB_NULL,
                         dealer_partner ? DB_I64(dealer_partner) : DB_NULL, DB_STR(f->vehicle_type),
                         DB_STR(f->use_type), DB_STR(f->brand), DB_STR(f->model), DB_STR(f->vin),
                         DB_STR(f->engine_no), DB_STR(f->invoice_no), opt_amount(f),
                         DB_STR(f->policy_no), DB_STR(f->materials_json), DB_STR(f->delivery),
                         DB_STR(f->mail_address), DB_STR(plate_prefix)),
                     NULL, &iid);
    *id = (int64_t)iid;
    return rc;
}

static const char SQL_APP_UPDATE_DRAFT[] =
    "UPDATE registration_applications SET vehicle_type = COALESCE(?, vehicle_type), "
    "use_type = COALESCE(?, use_type), brand = COALESCE(?, brand), model = COALESCE(?, model), "
    "vin = COALESCE(?, vin), engine_no = COALESCE(?, engine_no), "
    "invoice_no = COALESCE(?, invoice_no), invoice_amount_fen = COALESCE(?, invoice_amount_fen), "
    "insurance_policy_no = COALESCE(?, insurance_policy_no), materials = COALESCE(?, materials), "
    "delivery = COALESCE(?, delivery), mail_address = COALESCE(?, mail_address), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'draft'";

int reg_sql_app_update_draft(db_conn *c, int64_t id, const reg_fields *f, uint64_t *affected)
{
    return db_exec(c, SQL_APP_UPDATE_DRAFT,
                   DBP(DB_STR(f->vehicle_type), DB_STR(f->use_type), DB_STR(f->brand),
                       DB_STR(f->model), DB_STR(f->vin), DB_STR(f->engine_no),
                       DB_STR(f->invoice_no), opt_amount(f), DB_STR(f->policy_no),
                       DB_STR(f->materials_json), DB_STR(f->delivery), DB_STR(f->mail_address),
                       DB_I64(id)),
                   affected, NULL);
}

static const char SQL_APP_GET[] =
    "SELECT " APP_COLS "FROM registration_applications a WHERE a.id = ?";
static const char SQL_APP_GET_LOCK[] =
    "SELECT " APP_COLS "FROM registration_applications a WHERE a.id = ? FOR UPDATE";

int reg_sql_app_get(db_conn *c, int64_t id, int for_update, reg_app *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_APP_GET_LOCK : SQL_APP_GET, DBP(DB_I64(id)), &APP_ROW,
                        out, found);
}

static const char SQL_APP_LIST_CITIZEN[] =
    "SELECT " APP_COLS "FROM registration_applications a WHERE a.citizen_id = ? "
    "ORDER BY a.id DESC LIMIT 200";

int reg_sql_app_list_citizen(db_conn *c, int64_t citizen_id, reg_app **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_APP_LIST_CITIZEN, DBP(DB_I64(citizen_id)), &APP_ROW, rows, n);
}

static const char SQL_APP_LIST_DEALER[] =
    "SELECT " APP_COLS "FROM registration_applications a WHERE a.dealer_outlet_id = ? "
    "ORDER BY a.id DESC LIMIT 200";

int reg_sql_app_list_dealer(db_conn *c, int64_t outlet_id, reg_app **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_APP_LIST_DEALER, DBP(DB_I64(outlet_id)), &APP_ROW, rows, n);
}

static const char SQL_APP_LIST_STATE[] =
    "SELECT " APP_COLS "FROM registration_applications a WHERE a.state = ? "
    "ORDER BY a.id LIMIT 200";

int reg_sql_app_list_state(db_conn *c, const char *state, reg_app **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_APP_LIST_STATE, DBP(DB_STR(state)), &APP_ROW, rows, n);
}

static const char SQL_APP_SET_STATE[] =
    "UPDATE registration_applications SET state = ?, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND state = ?";

int reg_sql_app_set_state(db_conn *c, int64_t id, const char *from, const char *to,
                          uint64_t *affected)
{
    return db_exec(c, SQL_APP_SET_STATE, DBP(DB_STR(to), DB_I64(id), DB_STR(from)), affected, NULL);
}

/* open_vin / open_engine take the values now: their unique keys refuse a
 * concurrent second open application for the same vehicle (1062). */
static const char SQL_APP_SUBMIT[] =
    "UPDATE registration_applications SET state = 'submitted', open_vin = vin, "
    "open_engine = engine_no, case_id = ?, case_number = ?, insurance_status = ?, "
    "submitted_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND state = 'draft'";

int reg_sql_app_submit(db_conn *c, int64_t id, int64_t case_id, const char *case_number,
                       const char *insurance_status, uint64_t *affected)
{
    return db_exec(c, SQL_APP_SUBMIT,
                   DBP(case_id ? DB_I64(case_id) : DB_NULL, DB_STR(case_number),
                       DB_STR(insurance_status), DB_I64(id)),
                   affected, NULL);
}

static const char SQL_APP_SET_PLATE[] =
    "UPDATE registration_applications SET state = 'plate_reserved', plate_number = ?, "
    "offer_expires_at = NULL, updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = ?";

int reg_sql_app_set_plate(db_conn *c, int64_t id, const char *from, const char *number,
                          uint64_t *affected)
{
    return db_exec(c, SQL_APP_SET_PLATE, DBP(DB_STR(number), DB_I64(id), DB_STR(from)), affected,
                   NULL);
}

static const char SQL_APP_DROP_PLATE[] =
    "UPDATE registration_applications SET state = ?, plate_number = NULL, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = ?";

int reg_sql_app_drop_plate(db_conn *c, int64_t id, const char *from, const char *to,
                           uint64_t *affected)
{
    return db_exec(c, SQL_APP_DROP_PLATE, DBP(DB_STR(to), DB_I64(id), DB_STR(from)), affected, NULL);
}

static const char SQL_APP_CANCEL[] =
    "UPDATE registration_applications SET state = 'cancelled', open_vin = NULL, "
    "open_engine = NULL, plate_number = NULL, cancelled_at = UTC_TIMESTAMP(3), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = ?";

int reg_sql_app_cancel(db_conn *c, int64_t id, const char *from, uint64_t *affected)
{
    return db_exec(c, SQL_APP_CANCEL, DBP(DB_I64(id), DB_STR(from)), affected, NULL);
}

static const char SQL_APP_INSPECTED[] =
    "UPDATE registration_applications SET state = ?, inspection_reasons = ?, "
    "inspections = inspections + 1, inspected_at = UTC_TIMESTAMP(3), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = ?";

int reg_sql_app_inspected(db_conn *c, int64_t id, const char *from, const char *to,
                          const char *reasons_json, uint64_t *affected)
{
    return db_exec(c, SQL_APP_INSPECTED, DBP(DB_STR(to), DB_STR(reasons_json), DB_I64(id),
                                             DB_STR(from)),
                   affected, NULL);
}

static const char SQL_APP_REGISTERED[] =
    "UPDATE registration_applications SET state = 'registered', vehicle_id = ?, "
    "certificate_no = ?, open_vin = NULL, open_engine = NULL, registered_at = UTC_TIMESTAMP(3), "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'inspected_passed'";

int reg_sql_app_registered(db_conn *c, int64_t id, int64_t vehicle_id, const char *certificate,
                           uint64_t *affected)
{
    return db_exec(c, SQL_APP_REGISTERED, DBP(DB_I64(vehicle_id), DB_STR(certificate), DB_I64(id)),
                   affected, NULL);
}

static const char SQL_APP_SET_POLICY_NO[] =
    "UPDATE registration_applications SET insurance_policy_no = ?, updated_at = UTC_TIMESTAMP(3) "
    "WHERE id = ? AND state = ?";

int reg_sql_app_set_policy_no(db_conn *c, int64_t id, const char *from, const char *policy_no,
                              uint64_t *affected)
{
    return db_exec(c, SQL_APP_SET_POLICY_NO, DBP(DB_STR(policy_no), DB_I64(id), DB_STR(from)),
                   affected, NULL);
}

static const char SQL_APP_SET_INSURANCE[] =
    "UPDATE registration_applications SET insurance_status = ?, insurance_policy_id = ?, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";

int reg_sql_app_set_insurance(db_conn *c, int64_t id, const char *status, int64_t policy_id)
{
    return db_exec(c, SQL_APP_SET_INSURANCE,
                   DBP(DB_STR(status), policy_id ? DB_I64(policy_id) : DB_NULL, DB_I64(id)), NULL,
                   NULL);
}

static const char SQL_APP_OPEN_BY_VIN[] =
    "SELECT id, insurance_policy_no FROM registration_applications WHERE open_vin = ? FOR UPDATE";

typedef struct open_app_row {
    int64_t id;
    char *insurance_policy_no;
} open_app_row;
static const db_col OPEN_APP_COLS[] = {
    DBR_I64(open_app_row, id),
    DBR_STR_NULL(open_app_row, insurance_policy_no),
};
static const db_row_spec OPEN_APP_ROW = DB_ROW_SPEC(open_app_row, OPEN_APP_COLS);

int reg_sql_app_open_by_vin(db_conn *c, const char *vin, int64_t *id, char **policy_no,
                            bool *found)
{
    open_app_row row;
    int rc = db_query_one(c, SQL_APP_OPEN_BY_VIN, DBP(DB_STR(vin)), &OPEN_APP_ROW, &row, found);
    *id = rc == 0 && *found ? row.id : 0;
    *policy_no = rc == 0 && *found ? row.insurance_policy_no : NULL; /* handed over */
    return rc;
}

static const char SQL_APP_OFFER_EXPIRY[] =
    "UPDATE registration_applications SET offer_expires_at = UTC_TIMESTAMP(3) + INTERVAL ? SECOND "
    "WHERE id = ?";

int reg_sql_app_set_offer_expiry(db_conn *c, int64_t id, int64_t ttl_s)
{
    return db_exec(c, SQL_APP_OFFER_EXPIRY, DBP(DB_I64(ttl_s), DB_I64(id)), NULL, NULL);
}

static const char SQL_VEHICLE_DUPS[] =
    "SELECT COALESCE(MAX(vin = ?), 0) AS vin_hit, COALESCE(MAX(engine_no = ?), 0) AS engine_hit "
    "FROM vehicles WHERE vin = ? OR engine_no = ?";

/* An aggregate without GROUP BY: always one row. */
static int dups(db_conn *c, const char *sql, const db_val *p, int np, bool *vin_hit,
                bool *engine_hit)
{
    dups_row row = {false, false};
    int rc = db_query_one(c, sql, p, np, &DUPS_ROW, &row, NULL);
    *vin_hit = row.vin_hit;
    *engine_hit = row.engine_hit;
    return rc;
}

int reg_sql_vehicle_dups(db_conn *c, const char *vin, const char *engine_no, bool *vin_hit,
                         bool *engine_hit)
{
    return dups(c, SQL_VEHICLE_DUPS,
                DBP(DB_STR(vin), DB_STR(engine_no), DB_STR(vin), DB_STR(engine_no)), vin_hit,
                engine_hit);
}

static const char SQL_OPEN_DUPS[] =
    "SELECT COALESCE(MAX(open_vin = ?), 0) AS vin_hit, "
    "COALESCE(MAX(open_engine = ?), 0) AS engine_hit "
    "FROM registration_applications WHERE (open_vin = ? OR open_engine = ?) AND id <> ?";

int reg_sql_open_dups(db_conn *c, int64_t id, const char *vin, const char *engine_no,
                      bool *vin_hit, bool *engine_hit)
{
    return dups(c, SQL_OPEN_DUPS,
                DBP(DB_STR(vin), DB_STR(engine_no), DB_STR(vin), DB_STR(engine_no), DB_I64(id)),
                vin_hit, engine_hit);
}

/* ---- plate pool ---- */

static const char SQL_PLATE_INSERT[] =
    "INSERT IGNORE INTO plate_numbers (prefix, number, state, updated_at) "
    "VALUES (?, ?, 'free', UTC_TIMESTAMP(3))";

int reg_sql_plate_insert(db_conn *c, const char *prefix, const char *number, uint64_t *affected)
{
    return db_exec(c, SQL_PLATE_INSERT, DBP(DB_STR(prefix), DB_STR(number)), affected, NULL);
}

static const char SQL_PLATE_BLOCK[] =
    "UPDATE plate_numbers SET state = 'blocked', updated_at = UTC_TIMESTAMP(3) "
    "WHERE prefix = ? AND number = ? AND state = 'free'";

int reg_sql_plate_block(db_conn *c, const char *prefix, const char *number, uint64_t *affected)
{
    return db_exec(c, SQL_PLATE_BLOCK, DBP(DB_STR(prefix), DB_STR(number)), affected, NULL);
}

static const char SQL_PLATE_UNBLOCK[] =
    "UPDATE plate_numbers SET state = 'free', updated_at = UTC_TIMESTAMP(3) "
    "WHERE prefix = ? AND number = ? AND state = 'blocked'";

int reg_sql_plate_unblock(db_conn *c, const char *prefix, const char *number, uint64_t *affected)
{
    return db_exec(c, SQL_PLATE_UNBLOCK, DBP(DB_STR(prefix), DB_STR(number)), affected, NULL);
}

static const char SQL_PLATE_STATE[] =
    "SELECT state FROM plate_numbers WHERE prefix = ? AND number = ?";

typedef struct plate_state_row {
    char state[16];
} plate_state_row;
static const db_col PLATE_STATE_COLS[] = {DBR_CHARS(plate_state_row, state)};
static const db_row_spec PLATE_STATE_ROW = DB_ROW_SPEC(plate_state_row, PLATE_STATE_COLS);

int reg_sql_plate_state(db_conn *c, const char *prefix, const char *number, char state[16],
                        bool *found)
{
    plate_state_row row;
    int rc = db_query_one(c, SQL_PLATE_STATE, DBP(DB_STR(prefix), DB_STR(number)),
                          &PLATE_STATE_ROW, &row, found);
    snprintf(state, sizeof row.state, "%s", rc == 0 && *found ? row.state : "");
    return rc;
}

static const char SQL_PLATE_COUNTS[] =
    "SELECT state, COUNT(*) AS n FROM plate_numbers WHERE prefix = ? GROUP BY state";

static const db_col PLATE_COUNT_COLS[] = {
    DBR_CHARS(reg_plate_count, state),
    DBR_I64(reg_plate_count, n),
};
static const db_row_spec PLATE_COUNT_ROW = DB_ROW_SPEC(reg_plate_count, PLATE_COUNT_COLS);

int reg_sql_plate_counts(db_conn *c, const char *prefix, reg_plate_count **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_PLATE_COUNTS, DBP(DB_STR(prefix)), &PLATE_COUNT_ROW, rows, n);
}

static const char SQL_PLATE_RANDOM_FREE[] =
    "SELECT number FROM plate_numbers WHERE prefix = ? AND state = 'free' ORDER BY RAND() LIMIT ?";

static const db_col PLATE_NUMBER_COLS[] = {DBR_CHARS(reg_plate_number, number)};
static const db_row_spec PLATE_NUMBER_ROW = DB_ROW_SPEC(reg_plate_number, PLATE_NUMBER_COLS);

int reg_sql_plate_random_free(db_conn *c, const char *prefix, int64_t n,
                              reg_plate_number **rows, int *nrows)
{
    DB_RETURN_ALL(c, SQL_PLATE_RANDOM_FREE, DBP(DB_STR(prefix), DB_I64(n)),
                           &PLATE_NUMBER_ROW, rows, nrows);
}

/* The race for one number is decided here: the first committed UPDATE
 * makes state 'reserved', every later one matches no row. */
static const char SQL_PLATE_RESERVE[] =
    "UPDATE plate_numbers SET state = 'reserved', reserved_by_application = ?, "
    "reserved_until = UTC_TIMESTAMP(3) + INTERVAL ? DAY, updated_at = UTC_TIMESTAMP(3) "
    "WHERE prefix = ? AND number = ? AND state = 'free'";

int reg_sql_plate_reserve(db_conn *c, const char *prefix, const char *number, int64_t app_id,
                          int64_t days, uint64_t *affected)
{
    return db_exec(c, SQL_PLATE_RESERVE,
                   DBP(DB_I64(app_id), DB_I64(days), DB_STR(prefix), DB_STR(number)), affected,
                   NULL);
}

static const char SQL_PLATE_RELEASE[] =
    "UPDATE plate_numbers SET state = 'free', reserved_by_application = NULL, "
    "reserved_until = NULL, updated_at = UTC_TIMESTAMP(3) "
    "WHERE reserved_by_application = ? AND state = 'reserved'";

int reg_sql_plate_release(db_conn *c, int64_t app_id, uint64_t *affected)
{
    return db_exec(c, SQL_PLATE_RELEASE, DBP(DB_I64(app_id)), affected, NULL);
}

/* Assigned numbers keep reserved_by_application as the record of which
 * registration took them. */
static const char SQL_PLATE_ASSIGN[] =
    "UPDATE plate_numbers SET state = 'assigned', reserved_until = NULL, "
    "updated_at = UTC_TIMESTAMP(3) WHERE reserved_by_application = ? AND state = 'reserved'";

int reg_sql_plate_assign(db_conn *c, int64_t app_id, uint64_t *affected)
{
    return db_exec(c, SQL_PLATE_ASSIGN, DBP(DB_I64(app_id)), affected, NULL);
}

static const char SQL_PLATE_EXPIRED[] =
    "SELECT a.id, a.citizen_id, a.state FROM plate_numbers p "
    "JOIN registration_applications a ON a.id = p.reserved_by_application "
    "WHERE p.state = 'reserved' AND p.reserved_until < UTC_TIMESTAMP(3) "
    "AND a.state IN ('plate_reserved', 'appointment_booked', 'inspected_failed') "
    "ORDER BY p.reserved_until LIMIT ? FOR UPDATE SKIP LOCKED";

static const db_col LAPSED_COLS[] = {
    DBR_I64(reg_lapsed, id),
    DBR_I64(reg_lapsed, citizen_id),
    DBR_CHARS(reg_lapsed, state),
};
static const db_row_spec LAPSED_ROW = DB_ROW_SPEC(reg_lapsed, LAPSED_COLS);

int reg_sql_plate_expired(db_conn *c, int64_t limit, reg_lapsed **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_PLATE_EXPIRED, DBP(DB_I64(limit)), &LAPSED_ROW, rows, n);
}

/* ---- offers ---- */

static const char SQL_OFFER_CLEAR[] = "DELETE FROM registration_plate_offers WHERE application_id = ?";

int reg_sql_offer_clear(db_conn *c, int64_t app_id)
{
    return db_exec(c, SQL_OFFER_CLEAR, DBP(DB_I64(app_id)), NULL, NULL);
}

static const char SQL_OFFER_ADD[] =
    "INSERT INTO registration_plate_offers (application_id, number, expires_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? SECOND)";

int reg_sql_offer_add(db_conn *c, int64_t app_id, const char *number, int64_t ttl_s)
{
    return db_exec(c, SQL_OFFER_ADD, DBP(DB_I64(app_id), DB_STR(number), DB_I64(ttl_s)), NULL,
                   NULL);
}

static const char SQL_OFFER_CURRENT[] =
    "SELECT o.number, o.expires_at, p.state FROM registration_plate_offers o "
    "JOIN registration_applications a ON a.id = o.application_id "
    "LEFT JOIN plate_numbers p ON p.prefix = a.plate_prefix AND p.number = o.number "
    "WHERE o.application_id = ? AND o.expires_at > UTC_TIMESTAMP(3) ORDER BY o.number";

static const db_col OFFER_COLS[] = {
    DBR_CHARS(reg_offer, number),
    DBR_UTC(reg_offer, expires_at),
    DBR_CHARS_NULL(reg_offer, state, has_state),
};
static const db_row_spec OFFER_ROW = DB_ROW_SPEC(reg_offer, OFFER_COLS);

int reg_sql_offer_current(db_conn *c, int64_t app_id, reg_offer **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_OFFER_CURRENT, DBP(DB_I64(app_id)), &OFFER_ROW, rows, n);
}

static const char SQL_OFFER_HAS[] =
    "SELECT 1 AS n FROM registration_plate_offers WHERE application_id = ? AND number = ? "
    "AND expires_at > UTC_TIMESTAMP(3)";

int reg_sql_offer_has(db_conn *c, int64_t app_id, const char *number, bool *has)
{
    count_row row;
    return db_query_one(c, SQL_OFFER_HAS, DBP(DB_I64(app_id), DB_STR(number)), &COUNT_ROW, &row,
                        has);
}

/* ---- anti-hoarding ---- */

static const char SQL_HOARD_ADD[] =
    "INSERT INTO registration_hoarding_events (citizen_id, kind, application_id, at) "
    "VALUES (?, ?, ?, UTC_TIMESTAMP(3))";

int reg_sql_hoard_add(db_conn *c, int64_t citizen_id, const char *kind, int64_t app_id)
{
    return db_exec(c, SQL_HOARD_ADD, DBP(DB_I64(citizen_id), DB_STR(kind), DB_I64(app_id)), NULL,
                   NULL);
}

static const char SQL_HOARD_COUNT[] =
    "SELECT COUNT(*) AS n FROM registration_hoarding_events WHERE citizen_id = ? "
    "AND at > UTC_TIMESTAMP(3) - INTERVAL ? DAY";

/* A SELECT COUNT(*) AS n: always one row. */
static int count_query(db_conn *c, const char *sql, const db_val *p, int np, int64_t *n)
{
    count_row row = {0};
    int rc = db_query_one(c, sql, p, np, &COUNT_ROW, &row, NULL);
    *n = row.n;
    return rc;
}

int reg_sql_hoard_count(db_conn *c, int64_t citizen_id, int64_t window_days, int64_t *n)
{
    return count_query(c, SQL_HOARD_COUNT, DBP(DB_I64(citizen_id), DB_I64(window_days)), n);
}

static const char SQL_BAR_ADD[] =
    "INSERT INTO registration_bars (citizen_id, kind, until, reason, created_at) "
    "VALUES (?, ?, UTC_TIMESTAMP(3) + INTERVAL ? DAY, ?, UTC_TIMESTAMP(3))";

int reg_sql_bar_add(db_conn *c, int64_t citizen_id, const char *kind, int64_t days,
                    const char *reason)
{
    return db_exec(c, SQL_BAR_ADD, DBP(DB_I64(citizen_id), DB_STR(kind), DB_I64(days), DB_STR(reason)),
                   NULL, NULL);
}

static const char SQL_BAR_ACTIVE[] =
    "SELECT MAX(until) AS until FROM registration_bars WHERE citizen_id = ? AND kind = ? "
    "AND until > UTC_TIMESTAMP(3) HAVING MAX(until) IS NOT NULL";

typedef struct bar_row {
    char until[21];
} bar_row;
static const db_col BAR_COLS[] = {DBR_UTC(bar_row, until)};
static const db_row_spec BAR_ROW = DB_ROW_SPEC(bar_row, BAR_COLS);

int reg_sql_bar_active(db_conn *c, int64_t citizen_id, const char *kind, char until[21],
                       bool *found)
{
    bar_row row;
    int rc = db_query_one(c, SQL_BAR_ACTIVE, DBP(DB_I64(citizen_id), DB_STR(kind)), &BAR_ROW, &row,
                          found);
    snprintf(until, sizeof row.until, "%s", rc == 0 && *found ? row.until : "");
    return rc;
}

/* ---- stations, slots, appointments ---- */

typedef struct outlet_type_row {
    char type[32];
} outlet_type_row;
static const db_col OUTLET_TYPE_COLS[] = {DBR_CHARS(outlet_type_row, type)};
static const db_row_spec OUTLET_TYPE_ROW = DB_ROW_SPEC(outlet_type_row, OUTLET_TYPE_COLS);

static int outlet_type(db_conn *c, const char *sql, int64_t outlet_id, char type[32], bool *found)
{
    outlet_type_row row;
    int rc = db_query_one(c, sql, DBP(DB_I64(outlet_id)), &OUTLET_TYPE_ROW, &row, found);
    snprintf(type, sizeof row.type, "%s", rc == 0 && *found ? row.type : "");
    return rc;
}

static const char SQL_OUTLET_TYPE[] = "SELECT type FROM outlets WHERE id = ?";

int reg_sql_outlet_type(db_conn *c, int64_t outlet_id, char type[32], bool *found)
{
    return outlet_type(c, SQL_OUTLET_TYPE, outlet_id, type, found);
}

/* Publishing slots of one station is serialised on its outlet row. */
static const char SQL_OUTLET_LOCK[] = "SELECT type FROM outlets WHERE id = ? FOR UPDATE";

int reg_sql_outlet_lock(db_conn *c, int64_t outlet_id, char type[32], bool *found)
{
    return outlet_type(c, SQL_OUTLET_LOCK, outlet_id, type, found);
}

static const char SQL_STATIONS[] =
    "SELECT id, code, name, city, address FROM outlets WHERE type = 'station' ORDER BY id";

static const db_col STATION_COLS[] = {
    DBR_I64(reg_station, id),   DBR_STR(reg_station, code),    DBR_STR(reg_station, name),
    DBR_STR(reg_station, city), DBR_STR(reg_station, address),
};
static const db_row_spec STATION_ROW = DB_ROW_SPEC(reg_station, STATION_COLS);

int reg_sql_stations(db_conn *c, reg_station **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_STATIONS, DBP0, &STATION_ROW, rows, n);
}

void reg_station_array_free(reg_station *rows, int n)
{
    db_row_array_free(&STATION_ROW, rows, n);
}

static const char SQL_SLOT_INSERT[] =
    "INSERT INTO inspection_slots (outlet_id, starts_at, ends_at, capacity, booked, created_by, "
    "created_at) VALUES (?, FROM_UNIXTIME(?), FROM_UNIXTIME(?), ?, 0, ?, UTC_TIMESTAMP(3))";

int reg_sql_slot_insert(db_conn *c, int64_t outlet_id, int64_t start, int64_t end,
                        int64_t capacity, int64_t created_by, int64_t *id)
{
    uint64_t iid = 0;
    int rc = db_exec(c, SQL_SLOT_INSERT,
                     DBP(DB_I64(outlet_id), DB_I64(start), DB_I64(end), DB_I64(capacity),
                         DB_I64(created_by)),
                     NULL, &iid);
    *id = (int64_t)iid;
    return rc;
}

/* A locking read: it sees the latest committed slots even when this
 * transaction's snapshot predates another publisher's commit. Slots last at
 * most REG_SLOT_MAX_S, so only those starting after start - REG_SLOT_MAX_S
 * can overlap; that bound keeps the scanned (and locked) range small. */
static const char SQL_SLOT_OVERLAPS[] =
    "SELECT COUNT(*) AS n FROM inspection_slots WHERE outlet_id = ? "
    "AND starts_at > FROM_UNIXTIME(?) AND starts_at < FROM_UNIXTIME(?) "
    "AND ends_at > FROM_UNIXTIME(?) LOCK IN SHARE MODE";

int reg_sql_slot_overlaps(db_conn *c, int64_t outlet_id, int64_t start, int64_t end, int64_t *n)
{
    return count_query(c, SQL_SLOT_OVERLAPS,
                       DBP(DB_I64(outlet_id), DB_I64(start - REG_SLOT_MAX_S), DB_I64(end),
                           DB_I64(start)),
                       n);
}

#define SLOT_SELECT                                                                               \
    "SELECT id, outlet_id, starts_at, ends_at, capacity, booked, "                               \
    "starts_at > UTC_TIMESTAMP(3) AS future FROM inspection_slots "

static const db_col SLOT_COLS[] = {
    DBR_I64(reg_slot, id),       DBR_I64(reg_slot, outlet_id), DBR_UTC(reg_slot, starts_at),
    DBR_UTC(reg_slot, ends_at),  DBR_I64(reg_slot, capacity),  DBR_I64(reg_slot, booked),
    DBR_BOOL(reg_slot, future),
};
static const db_row_spec SLOT_ROW = DB_ROW_SPEC(reg_slot, SLOT_COLS);

static const char SQL_SLOTS_BETWEEN[] =
    SLOT_SELECT "WHERE outlet_id = ? "
    "AND starts_at >= FROM_UNIXTIME(?) AND starts_at < FROM_UNIXTIME(?) ORDER BY starts_at, id";

int reg_sql_slots_between(db_conn *c, int64_t outlet_id, int64_t from, int64_t to,
                          reg_slot **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_SLOTS_BETWEEN, DBP(DB_I64(outlet_id), DB_I64(from), DB_I64(to)),
                           &SLOT_ROW, rows, n);
}

static const char SQL_SLOT_GET[] = SLOT_SELECT "WHERE id = ?";

int reg_sql_slot_get(db_conn *c, int64_t slot_id, reg_slot *out, bool *found)
{
    return db_query_one(c, SQL_SLOT_GET, DBP(DB_I64(slot_id)), &SLOT_ROW, out, found);
}

/* The race for the last places is decided here: InnoDB serialises the
 * increments on the row and the condition is re-evaluated each time. */
static const char SQL_SLOT_BOOK[] =
    "UPDATE inspection_slots SET booked = booked + 1 WHERE id = ? AND booked < capacity "
    "AND starts_at > UTC_TIMESTAMP(3)";

int reg_sql_slot_book(db_conn *c, int64_t slot_id, uint64_t *affected)
{
    return db_exec(c, SQL_SLOT_BOOK, DBP(DB_I64(slot_id)), affected, NULL);
}

static const char SQL_SLOT_UNBOOK[] =
    "UPDATE inspection_slots SET booked = booked - 1 WHERE id = ? AND booked > 0";

int reg_sql_slot_unbook(db_conn *c, int64_t slot_id, uint64_t *affected)
{
    return db_exec(c, SQL_SLOT_UNBOOK, DBP(DB_I64(slot_id)), affected, NULL);
}

static const char SQL_APPT_INSERT[] =
    "INSERT INTO registration_appointments (application_id, slot_id, citizen_id, state, "
    "active_application_id, booked_at, updated_at) "
    "VALUES (?, ?, ?, 'booked', ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";

int reg_sql_appt_insert(db_conn *c, int64_t app_id, int64_t slot_id, int64_t citizen_id,
                        int64_t *id)
{
    uint64_t iid = 0;
    int rc = db_exec(c, SQL_APPT_INSERT,
                     DBP(DB_I64(app_id), DB_I64(slot_id), DB_I64(citizen_id), DB_I64(app_id)), NULL,
                     &iid);
    *id = (int64_t)iid;
    return rc;
}

#define APPT_SELECT                                                                               \
    "SELECT ap.id, ap.slot_id, s.outlet_id, s.starts_at, s.ends_at, ap.state, "                   \
    "s.starts_at <= UTC_TIMESTAMP(3) AS started "                                                 \
    "FROM registration_appointments ap JOIN inspection_slots s ON s.id = ap.slot_id "

static const db_col APPT_COLS[] = {
    DBR_I64(reg_appt, id),        DBR_I64(reg_appt, slot_id), DBR_I64(reg_appt, outlet_id),
    DBR_UTC(reg_appt, starts_at), DBR_UTC(reg_appt, ends_at), DBR_CHARS(reg_appt, state),
    DBR_BOOL(reg_appt, started),
};
static const db_row_spec APPT_ROW = DB_ROW_SPEC(reg_appt, APPT_COLS);

static const char SQL_APPT_ACTIVE[] = APPT_SELECT "WHERE ap.active_application_id = ?";

int reg_sql_appt_active(db_conn *c, int64_t app_id, reg_appt *out, bool *found)
{
    return db_query_one(c, SQL_APPT_ACTIVE, DBP(DB_I64(app_id)), &APPT_ROW, out, found);
}

static const char SQL_APPT_LAST_ATTENDED[] =
    APPT_SELECT "WHERE ap.application_id = ? AND ap.state = 'attended' ORDER BY ap.id DESC LIMIT 1";

int reg_sql_appt_last_attended(db_conn *c, int64_t app_id, reg_appt *out, bool *found)
{
    return db_query_one(c, SQL_APPT_LAST_ATTENDED, DBP(DB_I64(app_id)), &APPT_ROW, out, found);
}

static const char SQL_APPT_CLOSE[] =
    "UPDATE registration_appointments SET state = ?, active_application_id = NULL, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'booked'";

int reg_sql_appt_close(db_conn *c, int64_t appt_id, const char *state, uint64_t *affected)
{
    return db_exec(c, SQL_APPT_CLOSE, DBP(DB_STR(state), DB_I64(appt_id)), affected, NULL);
}

static const char SQL_APPT_NO_SHOW_DUE[] =
    "SELECT ap.id, ap.application_id, ap.citizen_id, ap.slot_id "
    "FROM registration_appointments ap JOIN inspection_slots s ON s.id = ap.slot_id "
    "WHERE ap.state = 'booked' AND s.ends_at < UTC_TIMESTAMP(3) ORDER BY s.ends_at, ap.id "
    "LIMIT ? FOR UPDATE SKIP LOCKED";

static const db_col NO_SHOW_COLS[] = {
    DBR_I64(reg_no_show, id),
    DBR_I64(reg_no_show, application_id),
    DBR_I64(reg_no_show, citizen_id),
    DBR_I64(reg_no_show, slot_id),
};
static const db_row_spec NO_SHOW_ROW = DB_ROW_SPEC(reg_no_show, NO_SHOW_COLS);

int reg_sql_appt_no_show_due(db_conn *c, int64_t limit, reg_no_show **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_APPT_NO_SHOW_DUE, DBP(DB_I64(limit)), &NO_SHOW_ROW, rows, n);
}

static const char SQL_NO_SHOW_COUNT[] =
    "SELECT COUNT(*) AS n FROM registration_appointments WHERE citizen_id = ? AND state = 'no_show' "
    "AND updated_at > UTC_TIMESTAMP(3) - INTERVAL ? DAY";

int reg_sql_no_show_count(db_conn *c, int64_t citizen_id, int64_t window_days, int64_t *n)
{
    return count_query(c, SQL_NO_SHOW_COUNT, DBP(DB_I64(citizen_id), DB_I64(window_days)), n);
}

/* ---- a station's day ---- */

static const char SQL_STATION_APPOINTMENTS[] =
    "SELECT ap.id, ap.slot_id, s.starts_at, s.ends_at, ap.state, a.id AS application_id, "
    "a.state AS application_state, a.channel, "
    "a.vehicle_type, a.use_type, a.brand, a.model, a.vin, a.engine_no, a.plate_prefix, "
    "a.plate_number, a.inspections, a.inspection_reasons, c.name AS owner_name "
    "FROM inspection_slots s JOIN registration_appointments ap ON ap.slot_id = s.id "
    "JOIN registration_applications a ON a.id = ap.application_id "
    "JOIN citizens c ON c.id = a.citizen_id "
    "WHERE s.outlet_id = ? AND s.starts_at >= FROM_UNIXTIME(?) AND s.starts_at < FROM_UNIXTIME(?) "
    "AND (? IS NULL OR ap.state = ?) ORDER BY s.starts_at, ap.id LIMIT 2000";

static const db_col STATION_APPT_COLS[] = {
    DBR_I64(reg_station_appt, id),
    DBR_I64(reg_station_appt, slot_id),
    DBR_UTC(reg_station_appt, starts_at),
    DBR_UTC(reg_station_appt, ends_at),
    DBR_CHARS(reg_station_appt, state),
    DBR_I64(reg_station_appt, application_id),
    DBR_STR(reg_station_appt, application_state),
    DBR_STR(reg_station_appt, channel),
    DBR_STR_NULL(reg_station_appt, vehicle_type),
    DBR_STR_NULL(reg_station_appt, use_type),
    DBR_STR_NULL(reg_station_appt, brand),
    DBR_STR_NULL(reg_station_appt, model),
    DBR_STR_NULL(reg_station_appt, vin),
    DBR_STR_NULL(reg_station_appt, engine_no),
    DBR_STR(reg_station_appt, plate_prefix),
    DBR_STR_NULL(reg_station_appt, plate_number),
    DBR_I64(reg_station_appt, inspections),
    DBR_STR_NULL(reg_station_appt, inspection_reasons),
    DBR_STR(reg_station_appt, owner_name),
};
static const db_row_spec STATION_APPT_ROW = DB_ROW_SPEC(reg_station_appt, STATION_APPT_COLS);

int reg_sql_station_appointments(db_conn *c, int64_t outlet_id, int64_t from, int64_t to,
                                 const char *state, reg_station_appt **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_STATION_APPOINTMENTS,
                           DBP(DB_I64(outlet_id), DB_I64(from), DB_I64(to), DB_STR(state),
                               DB_STR(state)),
                           &STATION_APPT_ROW, rows, n);
}

void reg_station_appt_array_free(reg_station_appt *rows, int n)
{
    db_row_array_free(&STATION_APPT_ROW, rows, n);
}

/* ---- compulsory insurance policies ---- */

#define POLICY_COLS                                                                               \
    "id, insurer_partner_id, kind, policy_no, vin, valid_from, valid_until, created_at, "         \
    "updated_at "

static const db_col POLICY_ROW_COLS[] = {
    DBR_I64(reg_policy, id),          DBR_I64(reg_policy, insurer_partner_id),
    DBR_CHARS(reg_policy, kind),      DBR_STR(reg_policy, policy_no),
    DBR_STR(reg_policy, vin),         DBR_CHARS(reg_policy, valid_from),
    DBR_CHARS(reg_policy, valid_until), DBR_UTC(reg_policy, created_at),
    DBR_UTC(reg_policy, updated_at),
};
static const db_row_spec POLICY_ROW = DB_ROW_SPEC(reg_policy, POLICY_ROW_COLS);

void reg_policy_clear(reg_policy *p)
{
    db_row_clear(&POLICY_ROW, p);
}

static const char SQL_POLICY_GET[] =
    "SELECT " POLICY_COLS "FROM registration_insurance_policies WHERE id = ?";

int reg_sql_policy_get(db_conn *c, int64_t id, reg_policy *out, bool *found)
{
    return db_query_one(c, SQL_POLICY_GET, DBP(DB_I64(id)), &POLICY_ROW, out, found);
}

static const char SQL_POLICY_OF_INSURER[] =
    "SELECT " POLICY_COLS "FROM registration_insurance_policies "
    "WHERE insurer_partner_id = ? AND policy_no = ? FOR UPDATE";

int reg_sql_policy_of_insurer(db_conn *c, int64_t partner_id, const char *policy_no,
                              reg_policy *out, bool *found)
{
    return db_query_one(c, SQL_POLICY_OF_INSURER, DBP(DB_I64(partner_id), DB_STR(policy_no)),
                        &POLICY_ROW, out, found);
}

static const char SQL_POLICY_INSERT[] =
    "INSERT INTO registration_insurance_policies (insurer_partner_id, insurer_outlet_id, kind, "
    "policy_no, vin, valid_from, valid_until, created_at, updated_at) "
    "VALUES (?, ?, 'compulsory', ?, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))";

int reg_sql_policy_insert(db_conn *c, int64_t partner_id, int64_t outlet_id, const char *policy_no,
                          const char *vin, const char *valid_from, const char *valid_until,
                          int64_t *id)
{
    uint64_t iid = 0;
    int rc = db_exec(c, SQL_POLICY_INSERT,
                     DBP(DB_I64(partner_id), outlet_id ? DB_I64(outlet_id) : DB_NULL,
                         DB_STR(policy_no), DB_STR(vin), DB_STR(valid_from), DB_STR(valid_until)),
                     NULL, &iid);
    *id = (int64_t)iid;
    return rc;
}

static const char SQL_POLICY_SET_VALIDITY[] =
    "UPDATE registration_insurance_policies SET valid_from = ?, valid_until = ?, "
    "updated_at = UTC_TIMESTAMP(3) WHERE id = ?";

int reg_sql_policy_set_validity(db_conn *c, int64_t id, const char *valid_from,
                                const char *valid_until)
{
    return db_exec(c, SQL_POLICY_SET_VALIDITY,
                   DBP(DB_STR(valid_from), DB_STR(valid_until), DB_I64(id)), NULL, NULL);
}

static const char SQL_POLICY_FIND[] =
    "SELECT id FROM registration_insurance_policies WHERE vin = ? AND policy_no = ? "
    "ORDER BY id DESC LIMIT 1";

int reg_sql_policy_find(db_conn *c, const char *vin, const char *policy_no, int64_t *id,
                        bool *found)
{
    id_row row = {0};
    int rc = db_query_one(c, SQL_POLICY_FIND, DBP(DB_STR(vin), DB_STR(policy_no)), &ID_ROW, &row,
                          found);
    *id = row.id;
    return rc;
}

static const char SQL_POLICY_COUNT_VIN[] =
    "SELECT COUNT(*) AS n FROM registration_insurance_policies WHERE vin = ?";

int reg_sql_policy_count_vin(db_conn *c, const char *vin, int64_t *n)
{
    return count_query(c, SQL_POLICY_COUNT_VIN, DBP(DB_STR(vin)), n);
}

/* ---- completion ---- */

static const char SQL_MAIL_INSERT[] =
    "INSERT INTO mailing_orders (application_id, case_id, citizen_id, recipient_name, address, "
    "contents, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', UTC_TIMESTAMP(3))";

int reg_sql_mail_insert(db_conn *c, int64_t app_id, int64_t case_id, int64_t citizen_id,
                        const char *recipient, const char *address, const char *contents,
                        int64_t *id)
{
    uint64_t iid = 0;
    int rc = db_exec(c, SQL_MAIL_INSERT,
                     DBP(DB_I64(app_id), case_id ? DB_I64(case_id) : DB_NULL, DB_I64(citizen_id),
                         DB_STR(recipient), DB_STR(address), DB_STR(contents)),
                     NULL, &iid);
    *id = (int64_t)iid;
    return rc;
}

#define MAIL_COLS                                                                                 \
    "id, application_id, case_id, citizen_id, recipient_name, address, contents, state, "         \
    "tracking_no, created_at, dispatched_at "

static const db_col MAIL_COLS_TABLE[] = {
    DBR_I64(reg_mail, id),
    DBR_I64(reg_mail, application_id),
    DBR_I64_NULL(reg_mail, case_id, has_case_id),
    DBR_I64(reg_mail, citizen_id),
    DBR_STR(reg_mail, recipient_name),
    DBR_STR(reg_mail, address),
    DBR_STR(reg_mail, contents),
    DBR_CHARS(reg_mail, state),
    DBR_STR_NULL(reg_mail, tracking_no),
    DBR_UTC(reg_mail, created_at),
    DBR_UTC_NULL(reg_mail, dispatched_at, has_dispatched_at),
};
static const db_row_spec MAIL_ROW = DB_ROW_SPEC(reg_mail, MAIL_COLS_TABLE);

void reg_mail_clear(reg_mail *m)
{
    db_row_clear(&MAIL_ROW, m);
}

void reg_mail_array_free(reg_mail *rows, int n)
{
    db_row_array_free(&MAIL_ROW, rows, n);
}

static const char SQL_MAIL_LIST[] =
    "SELECT " MAIL_COLS "FROM mailing_orders WHERE state = ? ORDER BY id LIMIT 500";

int reg_sql_mail_list(db_conn *c, const char *state, reg_mail **rows, int *n)
{
    DB_RETURN_ALL(c, SQL_MAIL_LIST, DBP(DB_STR(state)), &MAIL_ROW, rows, n);
}

static const char SQL_MAIL_GET[] = "SELECT " MAIL_COLS "FROM mailing_orders WHERE id = ?";
static const char SQL_MAIL_GET_LOCK[] =
    "SELECT " MAIL_COLS "FROM mailing_orders WHERE id = ? FOR UPDATE";

int reg_sql_mail_get(db_conn *c, int64_t id, int for_update, reg_mail *out, bool *found)
{
    return db_query_one(c, for_update ? SQL_MAIL_GET_LOCK : SQL_MAIL_GET, DBP(DB_I64(id)),
                        &MAIL_ROW, out, found);
}

static const char SQL_MAIL_DISPATCH[] =
    "UPDATE mailing_orders SET state = 'dispatched', tracking_no = ?, dispatched_by = ?, "
    "dispatched_at = UTC_TIMESTAMP(3) WHERE id = ? AND state = 'pending'";

int reg_sql_mail_dispatch(db_conn *c, int64_t id, const char *tracking, int64_t by,
                          uint64_t *affected)
{
    return db_exec(c, SQL_MAIL_DISPATCH, DBP(DB_STR(tracking), DB_I64(by), DB_I64(id)), affected,
                   NULL);
}

/* ---- citizens ---- */

static const char SQL_CITIZEN_BY_HASH[] = "SELECT id FROM citizens WHERE id_number_hash = ?";

int reg_sql_citizen_by_hash(db_conn *c, const unsigned char hash[32], int64_t *id, bool *found)
{
    id_row row = {0};
    int rc = db_query_one(c, SQL_CITIZEN_BY_HASH, DBP(DB_BLOB(hash, 32)), &ID_ROW, &row, found);
    *id = row.id;
    return rc;
}

static const char SQL_CITIZEN_NAME[] = "SELECT name FROM citizens WHERE id = ?";

typedef struct name_row {
    char *name;
} name_row;
static const db_col NAME_COLS[] = {DBR_STR(name_row, name)};
static const db_row_spec NAME_ROW = DB_ROW_SPEC(name_row, NAME_COLS);

int reg_sql_citizen_name(db_conn *c, int64_t id, char **name)
{
    name_row row = {NULL};
    bool found = false;
    int rc = db_query_one(c, SQL_CITIZEN_NAME, DBP(DB_I64(id)), &NAME_ROW, &row, &found);
    *name = row.name; /* handed over: NULL when none or on error */
    return rc;
}
