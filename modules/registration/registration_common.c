/* registration_common.c - helpers shared by the registration handlers,
 * jobs and commands (see registration_internal.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/registration_internal.h"
#include "server/audit.h"
#include "server/events.h"
#include "server/crypto.h"
#include "server/date.h"

json_t *reg_utc_json(bool has, const char *utc)
{
    return app_json_str_if(has, utc);
}

void reg_tx_on_id(app_req *r, app_tx_fn fn)
{
    int64_t id = app_path_int(r, 0);
    app_tx(r, fn, &id);
}

/* A station terminal sees an application while it is booked there. */
static int at_callers_station(db_conn *c, const app_principal *who, int64_t id, int *yes)
{
    reg_appt ap;
    bool found = false;
    *yes = 0;
    if (reg_sql_appt_active(c, id, &ap, &found) != 0)
        return -1;
    *yes = found && who->outlet_id != 0 && ap.outlet_id == who->outlet_id;
    return 0;
}

int reg_app_find(db_conn *c, const app_principal *who, int64_t id, int lock, reg_app *a,
                 app_refusal *f)
{
    bool found = false;
    int visible = 0;

    if (reg_sql_app_get(c, id, lock, a, &found) != 0)
        return -1;
    if (found) {
        switch (who->kind) {
        case CALLER_CITIZEN:
            visible = a->citizen_id == who->id;
            break;
        case CALLER_PARTNER:
            if (who->partner_type & PARTNER_STATION) {
                if (at_callers_station(c, who, id, &visible) != 0) {
                    reg_app_clear(a);
                    return -1;
                }
            } else {
                visible = (who->partner_type & PARTNER_DEALER) && who->outlet_id != 0 &&
                          a->has_dealer_outlet_id && a->dealer_outlet_id == who->outlet_id;
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
        reg_app_clear(a);
        return app_refuse(f, "not_found", "No such registration application.", NULL, NULL);
    }
    return 0;
}

int reg_step_apply(db_conn *c, const app_actor *who, const reg_step_def *d, int64_t id, void *arg,
                   app_refusal *f)
{
    reg_step s = {.id = id, .arg = arg};
    int rc = -1;

    if (reg_app_find(c, who->who, id, 1, &s.a, f) != 0)
        return -1;
    if (reg_check(&s.a, d->ev, &s.from, &s.to, f) == 0)
        rc = d->fn(c, who, &s, f);
    reg_app_clear(&s.a);
    return rc;
}

typedef struct step_call {
    const reg_step_def *d;
    int64_t id;
    void *arg;
} step_call;

static int tx_step(app_req *r, void *p)
{
    step_call *c = p;
    app_actor a = APP_ACTOR(r);
    app_refusal f = {0};

    if (reg_step_apply(r->db, &a, c->d, c->id, c->arg, &f) != 0)
        return app_fail_refusal(r, &f);
    return r->status != 0 ? 0 : reg_reply_app(r, c->d->status, c->id);
}

void reg_run_step(app_req *r, const reg_step_def *d, void *arg)
{
    step_call c = {d, app_path_int(r, 0), arg};
    app_tx(r, tx_step, &c);
}

void reg_on_step(app_req *r)
{
    reg_run_step(r, app_route_data(r), NULL);
}

int reg_reply_app(app_req *r, int status, int64_t id)
{
    reg_app a;
    bool found = false;
    if (reg_sql_app_get(r->db, id, 0, &a, &found) != 0 || !found)
        return -1;
    app_reply_json(r, status, reg_app_json(r, &a));
    reg_app_clear(&a);
    return 0;
}

json_t *reg_app_json(app_req *r, const reg_app *a)
{
    json_t *o = json_object();
    reg_appt ap;
    bool found = false;

    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "state", json_string(a->state));
    json_object_set_new(o, "channel", json_string(a->channel));
    json_object_set_new(o, "citizen_id", json_integer(a->citizen_id));
    json_object_set_new(o, "dealer_outlet_id",
                        app_json_int_if(a->has_dealer_outlet_id, a->dealer_outlet_id));
    json_object_set_new(o, "vehicle_type", app_json_str_or_null(a->vehicle_type));
    json_object_set_new(o, "use_type", app_json_str_or_null(a->use_type));
    json_object_set_new(o, "brand", app_json_str_or_null(a->brand));
    json_object_set_new(o, "model", app_json_str_or_null(a->model));
    json_object_set_new(o, "vin", app_json_str_or_null(a->vin));
    json_object_set_new(o, "engine_no", app_json_str_or_null(a->engine_no));
    json_object_set_new(o, "invoice_no", app_json_str_or_null(a->invoice_no));
    json_object_set_new(o, "invoice_amount_fen",
                        app_json_int_if(a->has_invoice_amount_fen, a->invoice_amount_fen));
    json_object_set_new(o, "insurance_policy_no", app_json_str_or_null(a->insurance_policy_no));
    json_object_set_new(o, "insurance_status", json_string(a->insurance_status));
    json_object_set_new(o, "insurance_valid_from", app_json_str_or_null(a->insurance_valid_from));
    json_object_set_new(o, "insurance_valid_until", app_json_str_or_null(a->insurance_valid_until));
    json_object_set_new(o, "materials", app_json_array_text(a->materials));
    json_object_set_new(o, "delivery", json_string(a->delivery));
    /* An inspection station has no use for the owner's address. */
    json_object_set_new(o, "mail_address",
                        r && r->who.kind == CALLER_PARTNER && (r->who.partner_type & PARTNER_STATION)
                            ? json_null()
                            : app_json_str_or_null(a->mail_address));
    json_object_set_new(o, "plate_prefix", json_string(a->plate_prefix));
    if (a->plate_number) {
        char shown[REGISTRATION_PLATE_FORMAT_SIZE];
        registration_plate_format(a->plate_prefix, a->plate_number, shown, sizeof shown);
        json_object_set_new(o, "plate",
                            json_pack("{s:s, s:s, s:o}", "number", a->plate_number, "display",
                                      shown, "reserved_until",
                                      reg_utc_json(a->has_reserved_until, a->reserved_until)));
    } else {
        json_object_set_new(o, "plate", json_null());
    }
    json_object_set_new(o, "offer_expires_at",
                        reg_utc_json(a->has_offer_expires_at, a->offer_expires_at));
    json_object_set_new(o, "case_number", app_json_str_or_null(a->case_number));
    json_object_set_new(o, "inspections", json_integer(a->inspections));
    json_object_set_new(o, "inspection_reasons", app_json_array_text(a->inspection_reasons));
    json_object_set_new(o, "inspected_at", reg_utc_json(a->has_inspected_at, a->inspected_at));
    json_object_set_new(o, "vehicle_id", app_json_int_if(a->has_vehicle_id, a->vehicle_id));
    json_object_set_new(o, "certificate_no", app_json_str_or_null(a->certificate_no));
    json_object_set_new(o, "next_inspection_date", app_json_str_or_null(a->next_inspection_date));
    json_object_set_new(o, "created_at", json_string(a->created_at));
    json_object_set_new(o, "updated_at", json_string(a->updated_at));
    json_object_set_new(o, "submitted_at", reg_utc_json(a->has_submitted_at, a->submitted_at));
    json_object_set_new(o, "registered_at", reg_utc_json(a->has_registered_at, a->registered_at));
    /* The appointment, when one is active (a failed lookup only omits it). */
    if (r && reg_sql_appt_active(r->db, a->id, &ap, &found) == 0 && found)
        json_object_set_new(o, "appointment",
                            json_pack("{s:I, s:I, s:I, s:s, s:s, s:s}", "id", (json_int_t)ap.id,
                                      "slot_id", (json_int_t)ap.slot_id, "station_id",
                                      (json_int_t)ap.outlet_id, "starts_at", ap.starts_at,
                                      "ends_at", ap.ends_at, "state", ap.state));
    else
        json_object_set_new(o, "appointment", json_null());
    return o;
}

int reg_refuse_state(app_refusal *f, const char *current)
{
    char detail[128];
    snprintf(detail, sizeof detail, "Not allowed while the application is %s.", current);
    return app_refuse(f, "invalid_state", detail, NULL, json_pack("{s:s}", "state", current));
}

int reg_check(const reg_app *a, registration_event ev, const char **from, registration_state *to,
              app_refusal *f)
{
    registration_state cur;
    *from = a->state;
    if (registration_state_parse(*from, &cur) != 0 || registration_next_state(cur, ev, to) != 0)
        return reg_refuse_state(f, *from);
    return 0;
}

int reg_affected(uint64_t affected, const char *from, app_refusal *f)
{
    if (affected == 1)
        return 0;
    /* The row is locked FOR UPDATE before every change, so this means a
     * bug rather than a race; answer like a wrong state all the same. */
    return reg_refuse_state(f, from);
}

int reg_hoarding_note(db_conn *c, const app_actor *a, int64_t citizen_id, const char *kind,
                      int64_t app_id)
{
    int64_t n = 0, limit = registration_conf.hoarding_limit;
    int rc = -1;

    if (reg_sql_hoard_add(c, citizen_id, kind, app_id) != 0 ||
        app_event_emit(c, a ? a->who : NULL, "registration.plate_released", "citizen", citizen_id,
                       json_pack("{sssI}", "kind", kind, "application_id", (json_int_t)app_id)) != 0 ||
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
    rc = audit_write_sys_id(c, a ? a->who : NULL, a ? a->request_id : "job", a ? a->peer : "local",
                            "registration.hoarding", "citizen", citizen_id, "cooling_off",
                            json_pack("{s:I, s:s, s:I, s:I, s:I}", "citizen_id",
                                      (json_int_t)citizen_id, "last", kind, "events", (json_int_t)n,
                                      "application_id", (json_int_t)app_id, "cooling_off_days",
                                      (json_int_t)registration_conf.cooling_off_days));
done:
    return rc;
}

int reg_insurance_match(db_conn *c, int64_t app_id, const char *vin, const char *policy_no,
                        const char **status)
{
    int64_t policy_id = 0, n = 0;
    bool found = false;

    *status = "none";
    if (vin && policy_no) {
        if (reg_sql_policy_find(c, vin, policy_no, &policy_id, &found) != 0)
            return -1;
        if (found) {
            *status = "confirmed";
        } else {
            if (reg_sql_policy_count_vin(c, vin, &n) != 0)
                return -1;
            /* The insurer knows this vehicle under another number. */
            *status = n > 0 ? "mismatch" : "unconfirmed";
        }
    } else if (policy_no) {
        *status = "unconfirmed";
    }
    return reg_sql_app_set_insurance(c, app_id, *status, policy_id);
}

int reg_release_holdings(db_conn *c, int64_t app_id)
{
    reg_appt ap;
    bool found = false;
    uint64_t affected = 0;

    if (reg_sql_plate_release(c, app_id, NULL) != 0 || reg_sql_offer_clear(c, app_id) != 0)
        return -1;
    if (reg_sql_appt_active(c, app_id, &ap, &found) != 0)
        return -1;
    if (found) {
        if (reg_sql_appt_close(c, ap.id, "cancelled", &affected) != 0)
            return -1;
        if (affected == 1 && reg_sql_slot_unbook(c, ap.slot_id, NULL) != 0)
            return -1;
    }
    return 0;
}
