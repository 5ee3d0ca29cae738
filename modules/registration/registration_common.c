/* registration_common.c - helpers shared by the registration handlers,
 * jobs and commands (see registration_internal.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/registration_internal.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"

json_t *reg_iso_json(const char *dt)
{
    time_t t;
    char out[DATE_ISO_STR_SIZE];
    if (dt == NULL || date_parse_datetime_utc(dt, &t) != 0 || date_format_iso8601_utc(t, out) != 0)
        return json_null();
    return json_string(out);
}

int64_t reg_param_id(app_req *r, int i)
{
    const char *s = app_param(r, i);
    char *end = NULL;
    long long v;
    if (s == NULL || *s < '1' || *s > '9')
        goto fail;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        goto fail;
    return (int64_t)v;
fail:
    app_problem(r, 404, "not_found", "Not found", NULL, NULL);
    return -1;
}

void reg_tx_on_id(app_req *r, app_tx_fn fn)
{
    int64_t id = reg_param_id(r, 0);
    if (id > 0)
        app_tx(r, fn, &id);
}

/* A station terminal sees an application while it is booked there. */
static int at_callers_station(app_req *r, int64_t id, int *yes)
{
    db_rows *ap = NULL;
    *yes = 0;
    if (reg_sql_appt_active(r->db, id, &ap) != 0) {
        db_rows_free(ap);
        return -1;
    }
    *yes = ap->nrows == 1 && r->who.outlet_id != 0 && db_cell_i64(ap, 0, 2) == r->who.outlet_id;
    db_rows_free(ap);
    return 0;
}

db_rows *reg_app_load(app_req *r, int64_t id, int lock)
{
    db_rows *a = NULL;
    int visible = 0;

    if (reg_sql_app_get(r->db, id, lock, &a) != 0) {
        db_rows_free(a);
        return NULL; /* db error left in r->db */
    }
    if (a->nrows == 1) {
        switch (r->who.kind) {
        case CALLER_CITIZEN:
            visible = db_cell_i64(a, 0, RA_CITIZEN) == r->who.id;
            break;
        case CALLER_PARTNER:
            if (r->who.partner_type & PARTNER_STATION) {
                if (at_callers_station(r, id, &visible) != 0) {
                    db_rows_free(a);
                    return NULL; /* db error left in r->db */
                }
            } else {
                visible = (r->who.partner_type & PARTNER_DEALER) && r->who.outlet_id != 0 &&
                          db_cell_i64(a, 0, RA_DEALER_OUTLET) == r->who.outlet_id;
            }
            break;
        case CALLER_OPERATOR:
        case CALLER_SYSTEM:
            visible = 1;
            break;
        default:
            break;
        }
    }
    if (!visible) {
        /* Someone else's application is indistinguishable from none. */
        db_rows_free(a);
        app_problem(r, 404, "not_found", "Not found", "No such registration application.", NULL);
        return NULL;
    }
    return a;
}

static json_t *json_text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *parsed_array(const char *s)
{
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    if (!json_is_array(v)) {
        json_decref(v);
        return json_array();
    }
    return v;
}

json_t *reg_app_json(app_req *r, const db_rows *a, int i)
{
    json_t *o = json_object();
    const char *number = db_cell(a, i, RA_NUMBER);
    db_rows *ap = NULL;

    json_object_set_new(o, "id", json_integer(db_cell_i64(a, i, RA_ID)));
    json_object_set_new(o, "state", json_string(db_cell(a, i, RA_STATE)));
    json_object_set_new(o, "channel", json_string(db_cell(a, i, RA_CHANNEL)));
    json_object_set_new(o, "citizen_id", json_integer(db_cell_i64(a, i, RA_CITIZEN)));
    json_object_set_new(o, "dealer_outlet_id", db_cell(a, i, RA_DEALER_OUTLET)
                                                 ? json_integer(db_cell_i64(a, i, RA_DEALER_OUTLET))
                                                 : json_null());
    json_object_set_new(o, "vehicle_type", json_text_or_null(db_cell(a, i, RA_VTYPE)));
    json_object_set_new(o, "use_type", json_text_or_null(db_cell(a, i, RA_USE)));
    json_object_set_new(o, "brand", json_text_or_null(db_cell(a, i, RA_BRAND)));
    json_object_set_new(o, "model", json_text_or_null(db_cell(a, i, RA_MODEL)));
    json_object_set_new(o, "vin", json_text_or_null(db_cell(a, i, RA_VIN)));
    json_object_set_new(o, "engine_no", json_text_or_null(db_cell(a, i, RA_ENGINE)));
    json_object_set_new(o, "invoice_no", json_text_or_null(db_cell(a, i, RA_INVOICE_NO)));
    json_object_set_new(o, "invoice_amount_fen", db_cell(a, i, RA_INVOICE_AMOUNT)
                                                   ? json_integer(db_cell_i64(a, i, RA_INVOICE_AMOUNT))
                                                   : json_null());
    json_object_set_new(o, "insurance_policy_no", json_text_or_null(db_cell(a, i, RA_POLICY)));
    json_object_set_new(o, "insurance_status", json_string(db_cell(a, i, RA_INSURANCE)));
    json_object_set_new(o, "insurance_valid_from", json_text_or_null(db_cell(a, i, RA_POLICY_FROM)));
    json_object_set_new(o, "insurance_valid_until",
                        json_text_or_null(db_cell(a, i, RA_POLICY_UNTIL)));
    json_object_set_new(o, "materials", parsed_array(db_cell(a, i, RA_MATERIALS)));
    json_object_set_new(o, "delivery", json_string(db_cell(a, i, RA_DELIVERY)));
    /* An inspection station has no use for the owner's address. */
    json_object_set_new(o, "mail_address",
                        r && r->who.kind == CALLER_PARTNER && (r->who.partner_type & PARTNER_STATION)
                            ? json_null()
                            : json_text_or_null(db_cell(a, i, RA_ADDRESS)));
    json_object_set_new(o, "plate_prefix", json_string(db_cell(a, i, RA_PREFIX)));
    if (number) {
        char shown[REGISTRATION_PLATE_FORMAT_SIZE];
        registration_plate_format(db_cell(a, i, RA_PREFIX), number, shown, sizeof shown);
        json_object_set_new(o, "plate", json_pack("{s:s, s:s, s:o}", "number", number, "display",
                                                  shown, "reserved_until",
                                                  reg_iso_json(db_cell(a, i, RA_RESERVED_UNTIL))));
    } else {
        json_object_set_new(o, "plate", json_null());
    }
    json_object_set_new(o, "offer_expires_at", reg_iso_json(db_cell(a, i, RA_OFFER_EXPIRES)));
    json_object_set_new(o, "case_number", json_text_or_null(db_cell(a, i, RA_CASE_NUMBER)));
    json_object_set_new(o, "inspections", json_integer(db_cell_i64(a, i, RA_INSPECTIONS)));
    json_object_set_new(o, "inspection_reasons", parsed_array(db_cell(a, i, RA_REASONS)));
    json_object_set_new(o, "inspected_at", reg_iso_json(db_cell(a, i, RA_INSPECTED_AT)));
    json_object_set_new(o, "vehicle_id", db_cell(a, i, RA_VEHICLE_ID)
                                            ? json_integer(db_cell_i64(a, i, RA_VEHICLE_ID))
                                            : json_null());
    json_object_set_new(o, "certificate_no", json_text_or_null(db_cell(a, i, RA_CERTIFICATE)));
    json_object_set_new(o, "next_inspection_date",
                        json_text_or_null(db_cell(a, i, RA_NEXT_INSPECTION)));
    json_object_set_new(o, "created_at", reg_iso_json(db_cell(a, i, RA_CREATED)));
    json_object_set_new(o, "updated_at", reg_iso_json(db_cell(a, i, RA_UPDATED)));
    json_object_set_new(o, "submitted_at", reg_iso_json(db_cell(a, i, RA_SUBMITTED)));
    json_object_set_new(o, "registered_at", reg_iso_json(db_cell(a, i, RA_REGISTERED)));
    /* The appointment, when one is active (a failed lookup only omits it). */
    if (r && reg_sql_appt_active(r->db, db_cell_i64(a, i, RA_ID), &ap) == 0 && ap->nrows == 1)
        json_object_set_new(o, "appointment",
                            json_pack("{s:I, s:I, s:I, s:o, s:o, s:s}", "id",
                                      (json_int_t)db_cell_i64(ap, 0, 0), "slot_id",
                                      (json_int_t)db_cell_i64(ap, 0, 1), "station_id",
                                      (json_int_t)db_cell_i64(ap, 0, 2), "starts_at",
                                      reg_iso_json(db_cell(ap, 0, 3)), "ends_at",
                                      reg_iso_json(db_cell(ap, 0, 4)), "state", db_cell(ap, 0, 5)));
    else
        json_object_set_new(o, "appointment", json_null());
    db_rows_free(ap);
    return o;
}

void reg_problem_state(app_req *r, const char *current)
{
    char detail[128];
    snprintf(detail, sizeof detail, "Not allowed while the application is %s.", current);
    app_problem_ext(r, 409, "invalid_state", "Wrong application state", detail, NULL,
                    json_pack("{s:s}", "state", current));
}

int reg_check(app_req *r, const db_rows *a, registration_event ev, const char **from,
              registration_state *to)
{
    registration_state cur;
    *from = db_cell(a, 0, RA_STATE);
    if (registration_state_parse(*from, &cur) != 0 || registration_next_state(cur, ev, to) != 0) {
        reg_problem_state(r, *from);
        return -1;
    }
    return 0;
}

int reg_affected(app_req *r, uint64_t affected, const char *from)
{
    if (affected == 1)
        return 0;
    /* The row is locked FOR UPDATE before every change, so this means a
     * bug rather than a race; answer like a wrong state all the same. */
    reg_problem_state(r, from);
    return -1;
}

int reg_audit(app_req *r, const char *action, int64_t app_id, json_t *detail)
{
    char id[32];
    int rc;
    snprintf(id, sizeof id, "%" PRId64, app_id);
    rc = audit_write(r, action, "registration", id, "ok", detail);
    json_decref(detail); /* audit_write only borrows it */
    return rc;
}

int reg_hoarding_note(db_conn *c, app_req *r, int64_t citizen_id, const char *kind,
                      int64_t app_id)
{
    int64_t n = 0, limit = registration_conf.hoarding_limit;
    json_t *detail = NULL;
    char cid[32];
    int rc = -1;

    if (reg_sql_hoard_add(c, citizen_id, kind, app_id) != 0 ||
        reg_sql_hoard_count(c, citizen_id, registration_conf.hoarding_window_days, &n) != 0)
        goto done;
    if (n < limit || n % limit != 0) {
        /* Bar once per `limit` events, not on every later one. */
        rc = 0;
        goto done;
    }
    if (reg_sql_bar_add(c, citizen_id, "plate", registration_conf.cooling_off_days,
                        "hoarding") != 0)
        goto done;
    /* A supervision event: who, how many and why; no personal identifiers. */
    detail = json_pack("{s:I, s:s, s:I, s:I, s:I}", "citizen_id", (json_int_t)citizen_id, "last",
                       kind, "events", (json_int_t)n, "application_id", (json_int_t)app_id,
                       "cooling_off_days", (json_int_t)registration_conf.cooling_off_days);
    snprintf(cid, sizeof cid, "%" PRId64, citizen_id);
    if (r)
        rc = audit_write(r, "registration.hoarding", "citizen", cid, "cooling_off", detail);
    else
        rc = audit_write_sys(c, NULL, "job", "local", "registration.hoarding", "citizen", cid,
                             "cooling_off", detail);
done:
    json_decref(detail);
    return rc;
}

int reg_insurance_match(db_conn *c, int64_t app_id, const char *vin, const char *policy_no,
                        const char **status)
{
    db_rows *p = NULL;
    int64_t policy_id = 0, n = 0;
    int rc = -1;

    *status = "none";
    if (vin && policy_no) {
        if (reg_sql_policy_find(c, vin, policy_no, &p) != 0)
            goto done;
        if (p->nrows == 1) {
            policy_id = db_cell_i64(p, 0, 0);
            *status = "confirmed";
        } else {
            if (reg_sql_policy_count_vin(c, vin, &n) != 0)
                goto done;
            /* The insurer knows this vehicle under another number. */
            *status = n > 0 ? "mismatch" : "unconfirmed";
        }
    } else if (policy_no) {
        *status = "unconfirmed";
    }
    rc = reg_sql_app_set_insurance(c, app_id, *status, policy_id);
done:
    db_rows_free(p);
    return rc;
}

int reg_release_holdings(db_conn *c, int64_t app_id)
{
    db_rows *ap = NULL;
    uint64_t affected = 0;
    int rc = -1;

    if (reg_sql_plate_release(c, app_id, NULL) != 0 || reg_sql_offer_clear(c, app_id) != 0)
        goto done;
    if (reg_sql_appt_active(c, app_id, &ap) != 0)
        goto done;
    if (ap->nrows == 1) {
        if (reg_sql_appt_close(c, db_cell_i64(ap, 0, 0), "cancelled", &affected) != 0)
            goto done;
        if (affected == 1 && reg_sql_slot_unbook(c, db_cell_i64(ap, 0, 1), NULL) != 0)
            goto done;
    }
    rc = 0;
done:
    db_rows_free(ap);
    return rc;
}
