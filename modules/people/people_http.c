/* people_http.c - citizens' own licence and vehicles, and operators' reads
 * of a person's data.
 *
 * A citizen sees only their own objects: another citizen's vehicle id
 * answers 404 exactly like a missing one, so ids cannot be probed. Every
 * operator read of a person's data writes an audit record in the same
 * transaction as the read; if the record cannot be written, nothing is
 * shown. ID numbers and phones leave only masked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/people/people_http.h"
#include "modules/people/people_id.h"
#include "modules/people/people_sql.h"
#include "server/audit.h"
#include "server/pii.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *licence_json(const db_rows *l, int i)
{
    return json_pack("{sIsssssisosssssssosb}", "id", (json_int_t)db_cell_i64(l, i, LIC_ID), "file_no",
                     db_cell(l, i, LIC_FILE_NO), "classes", db_cell(l, i, LIC_CLASSES), "points",
                     (int)db_cell_i64(l, i, LIC_POINTS), "cycle_start",
                     str_or_null(db_cell(l, i, LIC_CYCLE_START)), "status", db_cell(l, i, LIC_STATUS),
                     "valid_from", db_cell(l, i, LIC_VALID_FROM), "valid_until",
                     db_cell(l, i, LIC_VALID_UNTIL), "next_medical_date",
                     str_or_null(db_cell(l, i, LIC_NEXT_MEDICAL)), "full_score_study",
                     db_cell_i64(l, i, LIC_FULL_SCORE_STUDY) != 0);
}

static json_t *vehicle_json(const db_rows *v, int i)
{
    return json_pack("{sIsssssssssssssssssIsssoss}", "id", (json_int_t)db_cell_i64(v, i, VEH_ID), "plate",
                     db_cell(v, i, VEH_PLATE), "vin", db_cell(v, i, VEH_VIN), "engine_no",
                     db_cell(v, i, VEH_ENGINE_NO), "vehicle_type", db_cell(v, i, VEH_TYPE),
                     "class_required", db_cell(v, i, VEH_CLASS), "use_type", db_cell(v, i, VEH_USE),
                     "brand", db_cell(v, i, VEH_BRAND), "model", db_cell(v, i, VEH_MODEL),
                     "owner_citizen_id", (json_int_t)db_cell_i64(v, i, VEH_OWNER), "status",
                     db_cell(v, i, VEH_STATUS), "next_inspection_date",
                     str_or_null(db_cell(v, i, VEH_NEXT_INSPECTION)), "registered_at",
                     db_cell(v, i, VEH_REGISTERED_AT));
}

/* Masked view of a citizen row for operators. */
static json_t *citizen_json(const db_rows *c, int i)
{
    char *idn = pii_open(PII_ID_NUMBER, db_cell(c, i, CIT_ID_ENC), db_cell_len(c, i, CIT_ID_ENC));
    char *phone = db_cell(c, i, CIT_PHONE_ENC)
                      ? pii_open(PII_PHONE, db_cell(c, i, CIT_PHONE_ENC), db_cell_len(c, i, CIT_PHONE_ENC))
                      : NULL;
    char *mid = crypto_mask_id(idn ? idn : "");
    char *mphone = phone ? crypto_mask_phone(phone) : NULL;
    json_t *out = json_pack("{sIsssssosssbss}", "id", (json_int_t)db_cell_i64(c, i, CIT_ID), "name",
                            db_cell(c, i, CIT_NAME), "id_number", mid, "phone", str_or_null(mphone),
                            "birth_date", db_cell(c, i, CIT_BIRTH), "disabled",
                            db_cell_i64(c, i, CIT_DISABLED) != 0, "address", db_cell(c, i, CIT_ADDRESS));
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
    app_problem(r, 404, "not_found", "Not found", what, NULL);
}

/* Path id: a positive decimal without sign or leading zeros; else 0. */
static int64_t path_id(app_req *r)
{
    const char *s = app_param(r, 0);
    int64_t v = 0;
    if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 18)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* ---- citizen self-service ------------------------------------------------- */

void people_on_my_licence(app_req *r)
{
    db_rows *l = NULL;
    if (people_licence_of(r->db, r->who.id, &l) != 0) {
        app_problem_db(r);
        return;
    }
    if (l->nrows == 0)
        not_found(r, "You hold no driving licence.");
    else
        app_reply_json(r, 200, licence_json(l, 0));
    db_rows_free(l);
}

void people_on_my_vehicles(app_req *r)
{
    db_rows *v = NULL;
    json_t *items;
    if (people_vehicles_of(r->db, r->who.id, &v) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < v->nrows; i++)
        json_array_append_new(items, vehicle_json(v, i));
    app_reply_json(r, 200, json_pack("{so}", "items", items));
    db_rows_free(v);
}

/* ---- reads that may be an operator's (audited) ------------------------------ */

typedef struct read_ctx {
    int64_t id;
    const unsigned char *hash; /* lookup by ID number hash */
    const char *action;
} read_ctx;

static int audit_read(app_req *r, const char *action, const char *ttype, int64_t id, json_t *det)
{
    char ids[24];
    int rc;
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    rc = audit_write(r, action, ttype, ids, "ok", det);
    json_decref(det);
    return rc;
}

static int vehicle_tx(app_req *r, void *arg)
{
    read_ctx *x = arg;
    db_rows *v = NULL;
    int rc = -1;

    if (people_vehicle(r->db, x->id, &v) != 0)
        goto done;
    if (v->nrows == 0 || (r->who.kind == CALLER_CITIZEN && db_cell_i64(v, 0, VEH_OWNER) != r->who.id)) {
        not_found(r, "No such vehicle.");
        rc = 0;
        goto done;
    }
    if (r->who.kind == CALLER_OPERATOR &&
        audit_read(r, "people.vehicle_read", "vehicle", x->id,
                   json_pack("{sI}", "owner_citizen_id", (json_int_t)db_cell_i64(v, 0, VEH_OWNER))) != 0)
        goto done;
    app_reply_json(r, 200, vehicle_json(v, 0));
    rc = 0;
done:
    db_rows_free(v);
    return rc;
}

void people_on_vehicle(app_req *r)
{
    read_ctx x = {.id = path_id(r)};
    if (x.id == 0) {
        not_found(r, "No such vehicle.");
        return;
    }
    if (r->who.kind == CALLER_OPERATOR)
        app_tx(r, vehicle_tx, &x);
    else if (vehicle_tx(r, &x) != 0)
        app_problem_db(r);
}

static int citizen_tx(app_req *r, void *arg)
{
    read_ctx *x = arg;
    db_rows *c = NULL;
    int rc = -1;

    if ((x->hash ? people_citizen_by_hash(r->db, x->hash, &c) : people_citizen(r->db, x->id, &c)) != 0)
        goto done;
    if (c->nrows == 0) {
        not_found(r, "No such citizen.");
        /* A lookup that finds nobody is still a search for a person. */
        rc = x->hash ? audit_write(r, x->action, "citizen", NULL, "not_found", NULL) : 0;
        goto done;
    }
    if (audit_read(r, x->action, "citizen", db_cell_i64(c, 0, CIT_ID), NULL) != 0)
        goto done;
    app_reply_json(r, 200, citizen_json(c, 0));
    rc = 0;
done:
    db_rows_free(c);
    return rc;
}

void people_on_citizen(app_req *r)
{
    read_ctx x = {.id = path_id(r), .action = "people.citizen_read"};
    if (x.id == 0) {
        not_found(r, "No such citizen.");
        return;
    }
    app_tx(r, citizen_tx, &x);
}

void people_on_citizen_lookup(app_req *r)
{
    static const app_jfield fields[] = {{"id_number", JF_STRING, true, 32}};
    char norm[PEOPLE_ID_LEN + 1];
    unsigned char h[32];
    const char *why = NULL;
    read_ctx x = {.hash = h, .action = "people.citizen_lookup"};

    if (app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    if (people_id_number_check(app_json_str(r, "id_number"), norm, NULL, &why) != 0) {
        app_problem(r, 400, why, "Invalid ID number",
                    "An ID number has 17 digits and a check character (GB 11643).", "id_number");
        return;
    }
    pii_hash(PII_ID_NUMBER, norm, h);
    memset(norm, 0, sizeof norm);
    app_tx(r, citizen_tx, &x);
}
