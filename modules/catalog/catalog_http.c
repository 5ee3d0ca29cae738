/* catalog_http.c - public reading of the service catalog and the one-time
 * notice; administrators' changes (each a new version). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/catalog/catalog_http.h"
#include "modules/catalog/catalog_item.h"
#include "modules/catalog/catalog_sql.h"
#include "server/audit.h"

static json_t *item_json(const catalog_version_row *v, bool full)
{
    json_t *o = json_object();
    json_t *ch = json_array();
    char buf[sizeof v->channels], *save = NULL, *tok;

    memcpy(buf, v->channels, sizeof buf);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        json_array_append_new(ch, json_string(tok));
    json_object_set_new(o, "code", json_string(v->code));
    json_object_set_new(o, "version", json_integer(v->version));
    json_object_set_new(o, "name", json_string(v->name));
    json_object_set_new(o, "category", json_string(v->category));
    json_object_set_new(o, "channels", ch);
    json_object_set_new(o, "trips", json_integer(v->trips));
    json_object_set_new(o, "statutory_days", json_integer(v->statutory_days));
    json_object_set_new(o, "promised_days", json_integer(v->promised_days));
    if (!full)
        return o;
    json_object_set_new(o, "materials", app_json_array_text(v->materials));
    json_object_set_new(o, "fees", app_json_array_text(v->fees));
    json_object_set_new(o, "steps", app_json_array_text(v->steps));
    json_object_set_new(o, "legal_basis", json_string(v->legal_basis));
    json_object_set_new(o, "sample_form", json_string(v->sample_form));
    json_object_set_new(o, "allow_missing", json_boolean(v->allow_missing));
    json_object_set_new(o, "allow_commitment", json_boolean(v->allow_commitment));
    json_object_set_new(o, "updated_at", json_string(v->updated_at));
    return o;
}

void catalog_on_list(app_req *r)
{
    catalog_version_row *rows = NULL;
    int n = 0;
    json_t *items;

    /* category and channel are declared (catalog_module.c) */
    if (catalog_sql_list(r->db, app_query(r, "category"), app_query(r, "channel"), &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, item_json(&rows[i], false));
    catalog_version_rows_free(rows, n);
    app_add_header(r, "Cache-Control", "public, max-age=60");
    app_reply_json(r, 200, json_pack("{so}", "items", items));
}

/* The printable notice of v (malloc'd HTML). */
static char *notice_of(const catalog_version_row *v)
{
    catalog_notice_in in = {
        .code = v->code, .name = v->name, .channels = v->channels, .materials = v->materials,
        .fees = v->fees, .steps = v->steps, .legal_basis = v->legal_basis,
        .sample_form = v->sample_form, .version = v->version, .trips = v->trips,
        .statutory_days = v->statutory_days, .promised_days = v->promised_days,
        .allow_missing = v->allow_missing, .allow_commitment = v->allow_commitment,
    };
    return catalog_notice_html(&in);
}

/* GET /v1/catalog/items/{code} and .../notice: the current version of the
 * item as JSON or as the notice (the route's data, a catalog_view). */
void catalog_on_item(app_req *r)
{
    catalog_version_row v = {0};
    bool found = false;
    char *html;

    if (catalog_sql_get_current(r->db, app_param(r, 0), &v, &found) != 0) {
        app_problem_db(r);
    } else if (!found) {
        app_fail(r, "item_not_found", NULL, NULL);
    } else if (*(const catalog_view *)app_route_data(r) == CATALOG_VIEW_NOTICE) {
        html = notice_of(&v);
        app_reply_bytes(r, 200, "text/html; charset=utf-8", html, strlen(html));
        free(html);
    } else {
        app_reply_json(r, 200, item_json(&v, true));
    }
    catalog_version_row_clear(&v);
}

typedef struct put_arg {
    const char *channels;
} put_arg;

static int tx_put(app_req *r, void *arg)
{
    put_arg *a = arg;
    const char *code = app_param(r, 0);
    const char *category = app_json_str(r, "category");
    char *fees = NULL, *materials = NULL, *steps = NULL;
    catalog_version_in v;
    int current = 0;
    int64_t vid = 0;
    bool found = false, done = false, saved = false;
    catalog_version_row row = {0};
    int rc = -1;

    /* The item row is locked, so two administrators' changes get versions
     * n+1 and n+2, never the same number. */
    if (catalog_sql_lock_item(r->db, code, &current, &found) != 0)
        goto done;
    if (found) {
        if (catalog_sql_bump_item(r->db, code, category, current, current + 1, &done) != 0)
            goto done;
        if (!done) {
            app_fail(r, "concurrent_change", NULL, NULL);
            goto done;
        }
    } else if (catalog_sql_insert_item(r->db, code, category, 1) != 0) {
        goto done;
    }
    fees = json_dumps(json_object_get(r->json, "fees"), JSON_COMPACT);
    materials = json_dumps(json_object_get(r->json, "materials"), JSON_COMPACT);
    steps = json_dumps(json_object_get(r->json, "steps"), JSON_COMPACT);
    memset(&v, 0, sizeof v);
    v.code = code;
    v.version = current + 1;
    v.name = app_json_str(r, "name");
    v.category = category;
    v.channels = a->channels;
    v.trips = (int)app_json_int(r, "trips", 0);
    v.statutory_days = (int)app_json_int(r, "statutory_days", 0);
    v.promised_days = (int)app_json_int(r, "promised_days", 0);
    v.fees = fees;
    v.materials = materials;
    v.steps = steps;
    v.legal_basis = app_json_str(r, "legal_basis");
    v.sample_form = app_json_str(r, "sample_form") ? app_json_str(r, "sample_form") : "";
    v.allow_missing = app_json_bool(r, "allow_missing", true);
    v.allow_commitment = app_json_bool(r, "allow_commitment", false);
    v.created_by = r->who.id;
    if (catalog_sql_insert_version(r->db, &v, &vid) != 0)
        goto done;
    if (audit_write_owned(r, "catalog.change", "catalog_item", code,
                    json_pack("{si}", "version", current + 1)) != 0)
        goto done;
    if (catalog_sql_get_current(r->db, code, &row, &saved) != 0)
        goto done;
    if (!saved) {  /* written in this very transaction: cannot happen */
        app_fail(r, "internal", NULL, NULL);
        goto done;
    }
    app_reply_json(r, found ? 200 : 201, item_json(&row, true));
    rc = 0;
done:
    catalog_version_row_clear(&row);
    free(fees);
    free(materials);
    free(steps);
    return rc;
}

void catalog_on_put(app_req *r)
{
    char channels[96];
    const char *why = NULL, *field = NULL;
    put_arg a = {channels};

    /* the code and the body's types and ranges are declared (catalog_module.c) */
    if (catalog_item_validate(r->json, channels, sizeof channels, &why, &field) != 0)
        app_fail(r, why, NULL, field);
    else
        app_tx(r, tx_put, &a);
}
