/* people_http.c - citizens' own licence and vehicles, and operators' reads
 * of a person's data.
 *
 * A citizen sees only their own objects: another citizen's vehicle id
 * answers 404 exactly like a missing one, so ids cannot be probed. Every
 * operator read of a person's data writes an audit record in the same
 * transaction as the read; if the record cannot be written, nothing is
 * shown. ID numbers and phones leave only masked. */
#include <stdlib.h>
#include <string.h>

#include "modules/people/people_http.h"
#include "modules/people/people_id.h"
#include "modules/people/people_sql.h"
#include "server/audit.h"
#include "server/pii.h"

static json_t *licence_json(const people_licence_row *l)
{
    return json_pack("{sIsssssisosssssssosb}", "id", (json_int_t)l->id, "file_no", l->file_no,
                     "classes", l->classes, "points", l->points, "cycle_start",
                     json_string(l->cycle_start), "status", l->status, "valid_from", l->valid_from,
                     "valid_until", l->valid_until, "next_medical_date",
                     app_json_str_if(l->has_next_medical_date, l->next_medical_date),
                     "full_score_study", l->full_score_study);
}

static json_t *vehicle_json(const people_vehicle_row *v)
{
    return json_pack("{sIsssssssssssssssssIsssoss}", "id", (json_int_t)v->id, "plate", v->plate,
                     "vin", v->vin, "engine_no", v->engine_no, "vehicle_type", v->vehicle_type,
                     "class_required", v->class_required, "use_type", v->use_type, "brand",
                     v->brand, "model", v->model, "owner_citizen_id",
                     (json_int_t)v->owner_citizen_id, "status", v->status,
                     "next_inspection_date",
                     app_json_str_if(v->has_next_inspection_date, v->next_inspection_date),
                     "registered_at", v->registered_at);
}

/* Masked view of a citizen row for operators. */
static json_t *citizen_json(const people_citizen_row *c)
{
    char *idn = pii_open(PII_ID_NUMBER, c->id_number_enc, c->id_number_enc_len);
    char *phone = c->phone_enc ? pii_open(PII_PHONE, c->phone_enc, c->phone_enc_len) : NULL;
    char *mid = crypto_mask_id(idn ? idn : "");
    char *mphone = phone ? crypto_mask_phone(phone) : NULL;
    json_t *out = json_pack("{sIsssssosssbss}", "id", (json_int_t)c->id, "name", c->name,
                            "id_number", mid, "phone", app_json_str_or_null(mphone),
                            "birth_date", c->birth_date, "disabled", c->disabled, "address",
                            c->address);
    if (idn) {
        memset(idn, 0, strlen(idn));
        free(idn);
    }
    if (phone) {
        memset(phone, 0, strlen(phone));
        free(phone);
    }
    free(mid);
    free(mphone);
    return out;
}

static void not_found(app_req *r, const char *what)
{
    app_fail(r, "not_found", what, NULL);
}

/* ---- citizen self-service ------------------------------------------------- */

void people_on_my_licence(app_req *r)
{
    people_licence_row l;
    bool found = false;

    if (people_licence_of(r->db, r->who.id, &l, &found) != 0)
        app_problem_db(r);
    else if (!found)
        not_found(r, "You hold no driving licence.");
    else
        app_reply_json(r, 200, licence_json(&l));
}

void people_on_my_vehicles(app_req *r)
{
    people_vehicle_row *v = NULL;
    int n = 0;
    json_t *items;

    if (people_vehicles_of(r->db, r->who.id, &v, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, vehicle_json(&v[i]));
    app_reply_json(r, 200, json_pack("{so}", "items", items));
    people_vehicle_rows_free(v, n);
}

/* ---- reads that may be an operator's (audited) ------------------------------ */

typedef struct read_ctx {
    int64_t id;
    const unsigned char *hash; /* lookup by ID number hash */
    const char *action;
} read_ctx;

static int vehicle_tx(app_req *r, void *arg)
{
    read_ctx *x = arg;
    people_vehicle_row v;
    bool found = false;
    int rc = -1;

    if (people_vehicle(r->db, x->id, &v, &found) != 0)
        goto done;
    if (!found || (r->who.kind == CALLER_CITIZEN && v.owner_citizen_id != r->who.id)) {
        not_found(r, "No such vehicle.");
        rc = 0;
        goto done;
    }
    if (r->who.kind == CALLER_OPERATOR &&
        audit_write_id(r, "people.vehicle_read", "vehicle", x->id, "ok",
                       json_pack("{sI}", "owner_citizen_id", (json_int_t)v.owner_citizen_id)) != 0)
        goto done;
    app_reply_json(r, 200, vehicle_json(&v));
    rc = 0;
done:
    people_vehicle_row_clear(&v);
    return rc;
}

void people_on_vehicle(app_req *r)
{
    read_ctx x = {.id = app_path_int(r, 0)};

    if (r->who.kind == CALLER_OPERATOR)
        app_tx(r, vehicle_tx, &x);
    else if (vehicle_tx(r, &x) != 0)
        app_problem_db(r);
}

static int citizen_tx(app_req *r, void *arg)
{
    read_ctx *x = arg;
    people_citizen_row c;
    bool found = false;
    int rc = -1;

    if ((x->hash ? people_citizen_by_hash(r->db, x->hash, &c, &found)
                 : people_citizen(r->db, x->id, &c, &found)) != 0)
        goto done;
    if (!found) {
        not_found(r, "No such citizen.");
        /* A lookup that finds nobody is still a search for a person. */
        rc = x->hash ? audit_write(r, x->action, "citizen", NULL, "not_found", NULL) : 0;
        goto done;
    }
    if (audit_write_id(r, x->action, "citizen", c.id, "ok", NULL) != 0)
        goto done;
    app_reply_json(r, 200, citizen_json(&c));
    rc = 0;
done:
    people_citizen_row_clear(&c);
    return rc;
}

void people_on_citizen(app_req *r)
{
    read_ctx x = {.id = app_path_int(r, 0), .action = "people.citizen_read"};

    app_tx(r, citizen_tx, &x);
}

/* The body is declared in people_module.c; the number's rule is checked
 * here (people_id.h). */
void people_on_citizen_lookup(app_req *r)
{
    char norm[PEOPLE_ID_LEN + 1];
    unsigned char h[32];
    const char *why = NULL;
    read_ctx x = {.hash = h, .action = "people.citizen_lookup"};

    if (people_id_number_check(app_json_str(r, "id_number"), norm, NULL, &why) != 0) {
        app_fail(r, why, NULL, "id_number");
        return;
    }
    pii_hash(PII_ID_NUMBER, norm, h);
    memset(norm, 0, sizeof norm);
    app_tx(r, citizen_tx, &x);
}
