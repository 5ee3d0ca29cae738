/* registration_http.c - applications: create (owner or dealer terminal),
 * read, edit the draft, submit (validation, one-time notice, uniqueness,
 * case), cancel, complete (insurance in force, vehicle with its first
 * inspection date, plate, mailing order), collect, mail dispatch by the
 * post partner. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modules/cases/cases.h"
#include "modules/people/people.h"
#include "modules/registration/registration_internal.h"
#include "modules/registration/vin.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"
#include "server/pii.h"

static void add_error(json_t *errors, const char *field, const char *code)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field, "code", code));
}

static int engine_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-'))
            return 0;
    return 1;
}

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* Checks the format of every field present and fills f (pointers into
 * r->json; *materials_json malloc'd). Every error is reported at once:
 * 422 naming the first, with all of them in "errors". Returns 0 or -1. */
static int parse_fields(app_req *r, reg_fields *f, char **materials_json)
{
    static const char *const uses[] = {"private", "business", "government", "taxi", "bus",
                                       "freight", NULL};
    static const char *const deliveries[] = {"mail", "collect", NULL};
    json_t *errors = json_array(), *m = json_object_get(r->json, "materials");
    const char *why = NULL;
    int rc = -1;

    memset(f, 0, sizeof *f);
    *materials_json = NULL;
    f->vehicle_type = app_json_str(r, "vehicle_type");
    f->use_type = app_json_str(r, "use_type");
    f->brand = app_json_str(r, "brand");
    f->model = app_json_str(r, "model");
    f->vin = app_json_str(r, "vin");
    f->engine_no = app_json_str(r, "engine_no");
    f->invoice_no = app_json_str(r, "invoice_no");
    f->policy_no = app_json_str(r, "insurance_policy_no");
    f->delivery = app_json_str(r, "delivery");
    f->mail_address = app_json_str(r, "mail_address");
    if (json_is_integer(json_object_get(r->json, "invoice_amount_fen"))) {
        f->has_amount = 1;
        f->invoice_amount_fen = app_json_int(r, "invoice_amount_fen", 0);
    }
    if (f->vehicle_type && registration_class_for_type(f->vehicle_type) == NULL)
        add_error(errors, "vehicle_type", "vehicle_type_unknown");
    if (f->use_type && !one_of(f->use_type, uses))
        add_error(errors, "use_type", "use_type_unknown");
    if (f->brand && f->brand[0] == '\0')
        add_error(errors, "brand", "empty");
    if (f->model && f->model[0] == '\0')
        add_error(errors, "model", "empty");
    if (f->vin && registration_vin_check(f->vin, &why) != 0)
        add_error(errors, "vin", why);
    if (f->engine_no && !engine_ok(f->engine_no))
        add_error(errors, "engine_no", "engine_no_format");
    if (f->invoice_no && f->invoice_no[0] == '\0')
        add_error(errors, "invoice_no", "empty");
    if (f->has_amount && f->invoice_amount_fen <= 0)
        add_error(errors, "invoice_amount_fen", "invoice_amount_not_positive");
    if (f->policy_no && f->policy_no[0] == '\0')
        add_error(errors, "insurance_policy_no", "empty");
    if (f->delivery && !one_of(f->delivery, deliveries))
        add_error(errors, "delivery", "delivery_unknown");
    if (f->mail_address && f->mail_address[0] == '\0')
        add_error(errors, "mail_address", "empty");
    if (m) {
        size_t i;
        json_t *v;
        int bad = 0; /* the count is declared (REG_MAX_MATERIALS) */
        json_array_foreach(m, i, v)
            bad |= !json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64;
        if (bad)
            add_error(errors, "materials", "materials_format");
        else
            *materials_json = json_dumps(m, JSON_COMPACT);
    }
    if (json_array_size(errors) > 0) {
        json_t *first = json_array_get(errors, 0);
        char field[32], code[48];
        snprintf(field, sizeof field, "%s", json_string_value(json_object_get(first, "field")));
        snprintf(code, sizeof code, "%s", json_string_value(json_object_get(first, "code")));
        app_fail_ext(r, code, "One or more fields are invalid; see errors.", field,
                     json_pack("{s:O}", "errors", errors));
        goto done;
    }
    rc = 0;
done:
    json_decref(errors);
    return rc;
}

/* ---- submit: completeness, uniqueness, case ---- */

static int materials_have(const char *json_text, const char **have, int cap, json_t **keep)
{
    json_t *a = json_loads(json_text ? json_text : "[]", 0, NULL);
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(a, i, v)
        if (json_is_string(v) && n < cap)
            have[n++] = json_string_value(v);
    *keep = a;
    return n;
}

/* The "one-time notice": every missing field and material in one 422. */
static int check_complete(const reg_app *a, app_refusal *f)
{
    const struct { bool set; const char *field; } required[] = {
        {a->vehicle_type != NULL, "vehicle_type"}, {a->use_type != NULL, "use_type"},
        {a->brand != NULL, "brand"}, {a->model != NULL, "model"}, {a->vin != NULL, "vin"},
        {a->engine_no != NULL, "engine_no"}, {a->invoice_no != NULL, "invoice_no"},
        {a->has_invoice_amount_fen, "invoice_amount_fen"},
        {a->insurance_policy_no != NULL, "insurance_policy_no"},
    };
    const char *req = registration_conf.required_materials;
    const char *have[REG_MAX_MATERIALS], *missing[64];
    char *buf = app_malloc(strlen(req) + 1);
    json_t *keep = NULL, *fields = json_array(), *mats = json_array();
    int nhave, nmiss, rc = -1;

    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!required[i].set)
            json_array_append_new(fields, json_string(required[i].field));
    if (strcmp(a->delivery, "mail") == 0 && a->mail_address == NULL)
        json_array_append_new(fields, json_string("mail_address"));
    nhave = materials_have(a->materials, have, REG_MAX_MATERIALS, &keep);
    nmiss = registration_missing_materials(req, have, nhave, buf, missing, 64);
    for (int i = 0; i < nmiss && i < 64; i++)
        json_array_append_new(mats, json_string(missing[i]));
    if (json_array_size(fields) > 0 || json_array_size(mats) > 0) {
        app_refuse(f, "materials_missing", NULL, NULL,
                   json_pack("{s:O, s:O}", "missing_fields", fields, "missing_materials", mats));
        goto done;
    }
    rc = 0;
done:
    json_decref(keep);
    json_decref(fields);
    json_decref(mats);
    free(buf);
    return rc;
}

static int refuse_dup(app_refusal *f, bool vin_hit, bool engine_hit, const char *vin_code,
                      const char *engine_code)
{
    if (vin_hit || engine_hit)
        return app_refuse(f, vin_hit ? vin_code : engine_code, NULL, vin_hit ? "vin" : "engine_no",
                          NULL);
    return 0;
}

/* A refusal by cases (why set: case_refused with it as the detail), or a
 * database error. -1. */
static int refuse_case(app_refusal *f, const char *why)
{
    if (why)
        app_refuse(f, "case_refused", why, NULL, NULL);
    return -1;
}

static int step_submit(db_conn *c, const app_actor *who, reg_step *s, app_refusal *f)
{
    const reg_app *a = &s->a;
    int64_t id = s->id;
    bool vin_hit = false, engine_hit = false;
    const char *why = NULL, *insurance = NULL;
    cases_new cn;
    int64_t case_id = 0;
    char number[32] = "", code[16] = "", ref[32];
    uint64_t affected = 0;

    if (check_complete(a, f) != 0)
        return -1;
    if (reg_sql_vehicle_dups(c, a->vin, a->engine_no, &vin_hit, &engine_hit) != 0)
        return -1;
    if (refuse_dup(f, vin_hit, engine_hit, "vin_registered", "engine_no_registered") != 0)
        return -1;
    if (reg_sql_open_dups(c, id, a->vin, a->engine_no, &vin_hit, &engine_hit) != 0)
        return -1;
    if (refuse_dup(f, vin_hit, engine_hit, "vin_in_open_application",
                   "engine_no_in_open_application") != 0)
        return -1;
    snprintf(ref, sizeof ref, "%" PRId64, id);
    memset(&cn, 0, sizeof cn);
    cn.item_code = REG_ITEM_CODE;
    cn.applicant_id = a->citizen_id;
    cn.channel = a->channel;
    cn.outlet_id = a->dealer_outlet_id;
    if (a->has_dealer_partner_id) {
        cn.assisted_kind = "partner";
        cn.assisted_id = a->dealer_partner_id;
    }
    cn.ref_type = "registration";
    cn.ref_id = ref;
    if (cases_create(c, &cn, &case_id, number, code, &why) != 0 ||
        /* Complete and unique: accepted at once, nothing left for a clerk. */
        cases_set_state(c, case_id, "accepted", &why) != 0)
        return refuse_case(f, why);
    if (reg_sql_app_submit(c, id, case_id, number, a->insurance_policy_no ? "unconfirmed" : "none",
                           &affected) != 0) {
        if (db_error(c) == DB_ERR_DUP) {
            /* Lost a race with another submission of the same vehicle. */
            db_error_clear(c);
            app_refuse(f, "vin_in_open_application", NULL, "vin", NULL);
        }
        return -1;
    }
    if (reg_affected(affected, s->from, f) != 0)
        return -1;
    /* The insurer may have pushed the policy before the owner applied. */
    if (reg_insurance_match(c, id, a->vin, a->insurance_policy_no, &insurance) != 0)
        return -1;
    /* Dealer path: the buyer's visit to the dealer is the one trip of the
     * case; the dealer takes the car to the station (no trip for the
     * buyer) and the documents come by mail. Counted here, once, because
     * submission happens once and only a dealer terminal files this way. */
    if (strcmp(a->channel, "dealer") == 0 &&
        cases_record_trip(c, case_id, a->dealer_outlet_id, 0) != 0)
        return -1;
    return audit_write_sys_id(c, who->who, who->request_id, who->peer, "registration.submit",
                              "registration", id, "ok",
                              json_pack("{s:s, s:I, s:s}", "case_number", number, "case_id",
                                        (json_int_t)case_id, "insurance_status", insurance));
}

const reg_step_def reg_step_submit = {REG_EV_SUBMIT, step_submit, 200};

/* Submission inside create and update (after their change): 0, or -1
 * with the problem set (or a db error left). */
static int do_submit(app_req *r, int64_t id)
{
    app_actor a = APP_ACTOR(r);
    app_refusal f = {0};

    if (reg_step_apply(r->db, &a, &reg_step_submit, id, NULL, &f) != 0) {
        app_fail_refusal(r, &f);
        return -1; /* the whole request rolls back */
    }
    return 0;
}

/* ---- create ---- */

typedef struct create_arg {
    reg_fields f;
    int64_t citizen_id;
    int submit;
} create_arg;

static int tx_create(app_req *r, void *p)
{
    create_arg *c = p;
    int64_t id = 0;
    int dealer = r->who.kind == CALLER_PARTNER;

    if (reg_sql_app_insert(r->db, c->citizen_id, dealer ? "dealer" : "app",
                           dealer ? r->who.outlet_id : 0, dealer ? r->who.id : 0,
                           registration_conf.plate_prefix, &c->f, &id) != 0)
        return -1;
    if (audit_write_id(r, "registration.create", "registration", id, "ok",
                       json_pack("{s:s}", "channel", dealer ? "dealer" : "app")) != 0)
        return -1;
    if (c->submit && do_submit(r, id) != 0)
        return -1;
    return reg_reply_app(r, 201, id);
}

void reg_on_create(app_req *r)
{
    create_arg c;
    char *materials = NULL;
    const char *idn;
    bool found = false;

    memset(&c, 0, sizeof c);
    if (parse_fields(r, &c.f, &materials) != 0)
        goto done;
    c.f.materials_json = materials;
    c.submit = app_json_bool(r, "submit", false);
    idn = app_json_str(r, "id_number");
    if (r->who.kind == CALLER_CITIZEN) {
        if (idn) {
            app_fail(r, "unknown_field", "The owner is the signed-in citizen.", "id_number");
            goto done;
        }
        c.citizen_id = r->who.id;
    } else {
        /* A dealer terminal files for the buyer named by ID number. */
        unsigned char hash[32];
        if (idn == NULL) {
            app_fail(r, "missing_field", "Field 'id_number' is required.", "id_number");
            goto done;
        }
        pii_hash(PII_ID_NUMBER, idn, hash);
        if (reg_sql_citizen_by_hash(r->db, hash, &c.citizen_id, &found) != 0) {
            app_problem_db(r);
            goto done;
        }
        if (!found) {
            app_fail(r, "citizen_unknown", NULL, "id_number");
            goto done;
        }
    }
    app_tx(r, tx_create, &c);
done:
    free(materials);
}

/* ---- read ---- */

void reg_on_get(app_req *r)
{
    reg_app a;
    app_refusal f = {0};
    if (reg_app_find(r->db, &r->who, app_path_int(r, 0), 0, &a, &f) != 0) {
        if (app_fail_refusal(r, &f) != 0 && r->status == 0)
            app_problem_db(r);
        return;
    }
    app_reply_json(r, 200, reg_app_json(r, &a));
    reg_app_clear(&a);
}

void reg_on_list(app_req *r)
{
    reg_app *a = NULL;
    json_t *items;
    int rc, n = 0;
    const char *state = app_query(r, "state"); /* checked: a state or absent */

    if (r->who.kind == CALLER_CITIZEN)
        rc = reg_sql_app_list_citizen(r->db, r->who.id, &a, &n);
    else if (r->who.kind == CALLER_PARTNER)
        rc = reg_sql_app_list_dealer(r->db, r->who.outlet_id, &a, &n);
    else {
        if (state == NULL) {
            app_fail(r, "bad_query", "Operators list by ?state= (an application state).", "state");
            return;
        }
        rc = reg_sql_app_list_state(r->db, state, &a, &n);
    }
    if (rc != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, reg_app_json(r, &a[i]));
    app_reply_json(r, 200, json_pack("{s:o}", "items", items));
    reg_app_array_free(a, n);
}

/* ---- edit the draft ---- */

typedef struct update_arg {
    int64_t id;
    reg_fields f;
    int submit;
    int policy_only; /* the body is {"insurance_policy_no": ...} alone */
} update_arg;

/* After submission only the compulsory policy number may be corrected,
 * until the vehicle is registered: a number the insurer does not know for
 * this VIN ("mismatch") would otherwise block completion for good. */
static int correct_policy(app_req *r, const update_arg *u, const reg_app *a, app_refusal *f)
{
    const char *status = NULL, *state = a->state;
    uint64_t affected = 0;

    if (reg_sql_app_set_policy_no(r->db, u->id, state, u->f.policy_no, &affected) != 0 ||
        reg_affected(affected, state, f) != 0 ||
        reg_insurance_match(r->db, u->id, a->vin, u->f.policy_no, &status) != 0 ||
        audit_write_id(r, "registration.policy_correct", "registration", u->id, "ok",
                       json_pack("{s:s, s:s}", "from", a->insurance_status, "to", status)) != 0)
        return -1;
    return reg_reply_app(r, 200, u->id);
}

static int tx_update(app_req *r, void *p)
{
    update_arg *u = p;
    reg_app a = {0};
    app_refusal f = {0};
    const char *from;
    registration_state to, cur;
    uint64_t affected = 0;
    int rc = -1;

    if (reg_app_find(r->db, &r->who, u->id, 1, &a, &f) != 0)
        goto done;
    if (u->policy_only && registration_state_parse(a.state, &cur) == 0 &&
        registration_state_is_open(cur)) {
        rc = correct_policy(r, u, &a, &f);
        goto done;
    }
    if (reg_check(&a, REG_EV_UPDATE, &from, &to, &f) != 0)
        goto done;
    if (reg_sql_app_update_draft(r->db, u->id, &u->f, &affected) != 0)
        goto done;
    if (audit_write_id(r, "registration.update", "registration", u->id, "ok", NULL) != 0)
        goto done;
    if (u->submit && do_submit(r, u->id) != 0)
        goto done;
    rc = reg_reply_app(r, 200, u->id);
done:
    if (rc != 0 && f.code)
        app_fail_refusal(r, &f);
    reg_app_clear(&a);
    return rc;
}

void reg_on_update(app_req *r)
{
    update_arg u;
    char *materials = NULL;

    memset(&u, 0, sizeof u);
    u.id = app_path_int(r, 0);
    if (parse_fields(r, &u.f, &materials) != 0)
        return;
    u.f.materials_json = materials;
    u.submit = app_json_bool(r, "submit", false);
    u.policy_only = u.f.policy_no != NULL && json_object_size(r->json) == 1;
    app_tx(r, tx_update, &u);
    free(materials);
}

/* ---- cancel ---- */

static int step_cancel(db_conn *c, const app_actor *a, reg_step *s, app_refusal *f)
{
    const char *why = NULL;
    uint64_t affected = 0;

    if (reg_release_holdings(c, s->id) != 0 || reg_sql_app_cancel(c, s->id, s->from, &affected) != 0 ||
        reg_affected(affected, s->from, f) != 0)
        return -1;
    if (s->a.has_case_id && cases_set_state(c, s->a.case_id, "cancelled", &why) != 0)
        return refuse_case(f, why);
    if (audit_write_sys_id(c, a->who, a->request_id, a->peer, "registration.cancel", "registration",
                           s->id, "ok", json_pack("{s:s}", "from", s->from)) != 0)
        return -1;
    /* Giving up a reserved number counts towards anti-hoarding. */
    if (s->a.plate_number != NULL && reg_hoarding_note(c, a, s->a.citizen_id, "cancel", s->id) != 0)
        return -1;
    return 0;
}

const reg_step_def reg_step_cancel = {REG_EV_CANCEL, step_cancel, 200};

/* ---- complete (window) ---- */

/* Compulsory insurance must be confirmed by the insurer (a policy for this
 * VIN under the number the owner gave) and in force on the day the vehicle
 * is registered, the bureau's calendar day. 0, or -1 refused. */
static int check_insurance(const reg_app *a, app_refusal *f)
{
    const char *status = a->insurance_status;
    const char *from = a->insurance_valid_from, *until = a->insurance_valid_until;
    char today[DATE_STR_SIZE];

    if (strcmp(status, "confirmed") != 0 || from == NULL || until == NULL)
        return app_refuse(f, "insurance_not_confirmed", NULL, NULL,
                          json_pack("{s:s}", "insurance_status", status));
    date_format(date_shanghai_today(time(NULL)), today);
    if (strcmp(today, from) < 0 || strcmp(today, until) > 0)
        return app_refuse(f, "insurance_not_valid", NULL, NULL,
                          json_pack("{s:s, s:s}", "valid_from", from, "valid_until", until));
    return 0;
}

/* A window registers application id (passed its inspection): the vehicle
 * with its first inspection date, the plate assigned, the certificate, a
 * mailing order when the documents go by mail (*mail_id, else 0), the
 * case completed. Refusals: not_found, invalid_state,
 * insurance_not_confirmed, insurance_not_valid, plate_not_reserved,
 * vehicle_exists, case_refused. */
static int reg_complete(db_conn *c, const app_actor *who, int64_t id, int64_t *mail_id,
                        app_refusal *f)
{
    int64_t vehicle_id = 0;
    reg_app a = {0};
    char *name = NULL;
    const char *from, *why = NULL;
    registration_state to;
    uint64_t affected = 0;
    char plate[32], cert[16], due_s[DATE_STR_SIZE] = "";
    int32_t due = 0;
    int rc = -1;

    *mail_id = 0;
    if (reg_app_find(c, who->who, id, 1, &a, f) != 0)
        return -1;
    if (reg_check(&a, REG_EV_COMPLETE, &from, &to, f) != 0 || check_insurance(&a, f) != 0)
        goto done;
    /* The first periodic inspection, by the rules for the vehicle's type
     * and use (registration_rules.c), counted from today. */
    if (registration_next_inspection(a.vehicle_type, a.use_type,
                                     date_shanghai_today(time(NULL)), &due, NULL) == 0)
        date_format(due, due_s);
    if (reg_sql_plate_assign(c, id, &affected) != 0)
        goto done;
    if (affected != 1) {
        app_refuse(f, "plate_not_reserved", NULL, NULL, NULL);
        goto done;
    }
    snprintf(plate, sizeof plate, "%s%s", a.plate_prefix, a.plate_number);
    if (people_vehicle_create(c,
                              &(people_new_vehicle){
                                  .plate = plate,
                                  .vin = a.vin,
                                  .engine_no = a.engine_no,
                                  .vehicle_type = a.vehicle_type,
                                  .class_required = registration_class_for_type(a.vehicle_type),
                                  .use_type = a.use_type,
                                  .brand = a.brand,
                                  .model = a.model,
                                  .owner_citizen_id = a.citizen_id,
                                  .next_inspection_date = due_s[0] ? due_s : NULL,
                              },
                              &vehicle_id) != 0) {
        if (db_error(c) == DB_ERR_DUP) {
            db_error_clear(c);
            app_refuse(f, "vehicle_exists", NULL, NULL, NULL);
        }
        goto done;
    }
    if (registration_certificate_no(id, cert) != 0 ||
        reg_sql_app_registered(c, id, vehicle_id, cert, &affected) != 0 ||
        reg_affected(affected, from, f) != 0)
        goto done;
    if (strcmp(a.delivery, "mail") == 0) {
        if (reg_sql_citizen_name(c, a.citizen_id, &name) != 0 ||
            reg_sql_mail_insert(c, id, a.case_id, a.citizen_id, name ? name : "",
                                a.mail_address ? a.mail_address : "",
                                "plates,registration_certificate,driving_licence", mail_id) != 0)
            goto done;
    }
    if (a.has_case_id && cases_set_state(c, a.case_id, "completed", &why) != 0) {
        refuse_case(f, why);
        goto done;
    }
    rc = audit_write_sys_id(c, who->who, who->request_id, who->peer, "registration.complete",
                            "registration", id, "ok",
                            json_pack("{s:I, s:s, s:s, s:I, s:s?}", "vehicle_id",
                                      (json_int_t)vehicle_id, "plate", plate, "certificate_no",
                                      cert, "mailing_order_id", (json_int_t)*mail_id,
                                      "next_inspection_date", due_s[0] ? due_s : NULL));
done:
    free(name);
    reg_app_clear(&a);
    return rc;
}

static int tx_complete(app_req *r, void *p)
{
    int64_t id = *(int64_t *)p, mail_id = 0;
    app_actor a = APP_ACTOR(r);
    app_refusal f = {0};
    json_t *body;

    if (reg_complete(r->db, &a, id, &mail_id, &f) != 0)
        return app_fail_refusal(r, &f);
    if (reg_reply_app(r, 200, id) != 0)
        return -1;
    if (mail_id) {
        /* Tell the caller which order the post partner will pick up. */
        body = json_loadb(r->resp_body, r->resp_len, 0, NULL);
        json_object_set_new(body, "mailing_order_id", json_integer(mail_id));
        app_reply_json(r, 200, body);
    }
    return 0;
}

void reg_on_complete(app_req *r)
{
    reg_tx_on_id(r, tx_complete);
}

/* ---- collected at a window ---- */

static int step_collected(db_conn *c, const app_actor *a, reg_step *s, app_refusal *f)
{
    uint64_t affected = 0;

    if (strcmp(s->a.delivery, "collect") != 0)
        return app_refuse(f, "delivery_by_mail", NULL, NULL, NULL);
    if (reg_sql_app_set_state(c, s->id, s->from, "collected", &affected) != 0 ||
        reg_affected(affected, s->from, f) != 0)
        return -1;
    /* Collecting at the window is a visit of its own. */
    if (s->a.has_case_id &&
        cases_record_trip(c, s->a.case_id, a->who->outlet_id, a->who->id) != 0)
        return -1;
    return audit_write_sys_id(c, a->who, a->request_id, a->peer, "registration.collected",
                              "registration", s->id, "ok", NULL);
}

const reg_step_def reg_step_collected = {REG_EV_COLLECTED, step_collected, 200};

/* ---- mailing orders (post partner) ---- */

static json_t *mail_json(const reg_mail *m)
{
    char *name = crypto_mask_name(m->recipient_name);
    json_t *o = json_pack("{s:I, s:I, s:o, s:s, s:s, s:s, s:o, s:s, s:o}", "id",
                          (json_int_t)m->id, "application_id", (json_int_t)m->application_id,
                          "case_id", app_json_int_if(m->has_case_id, m->case_id),
                          "recipient_name", name, "address", m->address, "state", m->state,
                          "tracking_no", app_json_str_or_null(m->tracking_no),
                          "created_at", m->created_at, "dispatched_at",
                          reg_utc_json(m->has_dispatched_at, m->dispatched_at));
    json_object_set_new(o, "contents", json_string(m->contents));
    free(name);
    return o;
}

void reg_on_mail_list(app_req *r)
{
    const char *state = app_query(r, "state"); /* checked: pending, dispatched or absent */
    reg_mail *m = NULL;
    json_t *items;
    int n = 0;

    if (state == NULL)
        state = "pending";
    if (reg_sql_mail_list(r->db, state, &m, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, mail_json(&m[i]));
    app_reply_json(r, 200, json_pack("{s:o}", "items", items));
    reg_mail_array_free(m, n);
}

static int tx_dispatch(app_req *r, void *p)
{
    int64_t id = *(int64_t *)p, app_id;
    reg_mail m = {0};
    reg_app a = {0};
    app_refusal f = {0};
    bool found = false;
    const char *from;
    registration_state to;
    uint64_t affected = 0;
    int rc = -1;

    if (reg_sql_mail_get(r->db, id, 1, &m, &found) != 0)
        goto done;
    if (!found) {
        app_fail(r, "not_found", "No such mailing order.", NULL);
        goto done;
    }
    if (strcmp(m.state, "pending") != 0) {
        app_fail_ext(r, "invalid_state", "Already dispatched.", NULL,
                     json_pack("{s:s}", "state", m.state));
        goto done;
    }
    app_id = m.application_id;
    if (reg_sql_app_get(r->db, app_id, 1, &a, &found) != 0 || !found)
        goto done;
    if (reg_check(&a, REG_EV_MAILED, &from, &to, &f) != 0)
        goto done;
    if (reg_sql_mail_dispatch(r->db, id, app_json_str(r, "tracking_no"), r->who.id, &affected) != 0 ||
        affected != 1 || reg_sql_app_set_state(r->db, app_id, from, "documents_mailed", &affected) != 0 ||
        reg_affected(affected, from, &f) != 0)
        goto done;
    if (audit_write_id(r, "registration.mailed", "registration", app_id, "ok",
                       json_pack("{s:I}", "mailing_order_id", (json_int_t)id)) != 0)
        goto done;
    reg_mail_clear(&m);
    if (reg_sql_mail_get(r->db, id, 0, &m, NULL) != 0)
        goto done;
    app_reply_json(r, 200, mail_json(&m));
    rc = 0;
done:
    if (f.code)
        app_fail_refusal(r, &f);
    reg_app_clear(&a);
    reg_mail_clear(&m);
    return rc;
}

void reg_on_mail_dispatch(app_req *r)
{
    reg_tx_on_id(r, tx_dispatch);
}
