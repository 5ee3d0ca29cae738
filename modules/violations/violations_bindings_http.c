/* violations_bindings_http.c - a citizen (holder) asks to handle the
 * violations of a vehicle owned by someone else; the owner consents and may
 * withdraw at any time. At most VIOLATIONS_BINDINGS_MAX active bindings per
 * holder: one of the brakes on points trading.
 *
 * Binding states: pending (asked, owner not yet answered), active (owner
 * consented), refused (owner said no to a pending one), withdrawn (ended by
 * either party after consent, or taken back by the holder while pending).
 * Every change locks the holder's citizen row first, so two consents for
 * the same holder cannot both pass the limit check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/violations/violations_internal.h"
#include "modules/violations/violations_rules.h"
#include "modules/violations/violations_sql.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"

#define VIOLATIONS_BINDINGS_MAX 3

static void refuse(app_req *r, const char *reason, const char *detail, json_t *extra)
{
    if (extra == NULL)
        extra = json_object();
    json_object_set_new(extra, "reason", json_string(reason));
    app_problem_ext(r, 409, reason, "Refused", detail, NULL, extra);
}

static int audit_binding(app_req *r, const char *action, int64_t id, json_t *detail)
{
    char idbuf[24];
    int rc;

    snprintf(idbuf, sizeof idbuf, "%lld", (long long)id);
    rc = audit_write(r, action, "violation_binding", idbuf, "ok", detail);
    json_decref(detail);
    return rc;
}

static json_t *binding_json(int64_t id, const char *plate, const char *state)
{
    return json_pack("{sIssss}", "id", (json_int_t)id, "plate", plate, "state", state);
}

/* ---- create ------------------------------------------------------------- */

typedef struct create_ctx {
    char plate[VIOLATIONS_PLATE_CANON_SIZE];
} create_ctx;

static int tx_create(app_req *r, void *arg)
{
    create_ctx *x = arg;
    violations_vehicle veh;
    bool found = false;
    int active = 0;
    int64_t id = 0;

    if (violations_sql_lock_citizen(r->db, r->who.id, &found) != 0)
        return -1;
    if (violations_sql_vehicle_by_plate(r->db, x->plate, &veh, &found) != 0)
        return -1;
    if (!found) {
        app_problem(r, 404, "vehicle_not_found", "Vehicle not found",
                    "No vehicle with this plate is registered here.", "plate");
        return -1;
    }
    if (veh.owner_citizen_id == r->who.id) {
        refuse(r, "own_vehicle", "You own this vehicle: no binding is needed.", NULL);
        return -1;
    }
    if (violations_sql_count_active(r->db, r->who.id, &active) != 0)
        return -1;
    if (active >= VIOLATIONS_BINDINGS_MAX) {
        refuse(r, "binding_limit", "At most three vehicles of others can be bound to you.",
               json_pack("{sisi}", "active", active, "limit", VIOLATIONS_BINDINGS_MAX));
        return -1;
    }
    if (violations_sql_binding_insert(r->db, r->who.id, veh.id, veh.owner_citizen_id, &id) != 0) {
        if (db_error(r->db) != DB_ERR_DUP)
            return -1;
        db_error_clear(r->db);
        refuse(r, "binding_exists", "A request for this vehicle is already pending or active.", NULL);
        return -1;
    }
    if (audit_binding(r, "violations.binding_request", id,
                      json_pack("{sI}", "vehicle_id", (json_int_t)veh.id)) != 0)
        return -1;
    app_reply_json(r, 201, binding_json(id, x->plate, "pending"));
    return 0;
}

static const app_jfield CREATE_FIELDS[] = {
    {"plate", JF_STRING, true, 32},
};

void violations_on_binding_create(app_req *r)
{
    create_ctx x;
    const char *why = NULL;

    if (app_json_check(r, CREATE_FIELDS, APP_LEN(CREATE_FIELDS)) != 0)
        return;
    if (violations_plate_normalize(app_json_str(r, "plate"), x.plate, &why) != 0) {
        app_problem(r, 400, why, "Invalid field", "A plate such as 浙A·12345.", "plate");
        return;
    }
    app_tx(r, tx_create, &x);
}

/* ---- lists ------------------------------------------------------------------ */

static json_t *time_or_null(const char *s, bool has)
{
    return has ? json_string(s) : json_null();
}

/* other: "owner" or "holder", the party whose (masked) name is shown. */
static json_t *bindings_json(const violations_binding_item *rows, int n, const char *other)
{
    json_t *arr = json_array();

    for (int i = 0; i < n; i++) {
        const violations_binding_item *b = &rows[i];
        char *masked = crypto_mask_name(b->name);
        json_t *o = json_pack("{sIsssssss{ss}}", "id", (json_int_t)b->id, "plate", b->plate,
                              "vehicle_type", b->vehicle_type, "state", b->state, other, "name",
                              masked ? masked : "");
        free(masked);
        json_object_set_new(o, "created_at", json_string(b->created_at));
        json_object_set_new(o, "consented_at", time_or_null(b->consented_at, b->has_consented_at));
        json_object_set_new(o, "ended_at", time_or_null(b->ended_at, b->has_ended_at));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* held: the caller's own bindings (as holder), else the requests to them
 * (as owner). */
static void bindings_reply(app_req *r, bool held)
{
    violations_binding_item *rows = NULL;
    int n = 0;

    if ((held ? violations_sql_bindings_held : violations_sql_bindings_owned)(r->db, r->who.id, &rows, &n) != 0) {
        app_problem_db(r);
        return;
    }
    if (held)
        app_reply_json(r, 200, json_pack("{sosi}", "items", bindings_json(rows, n, "owner"), "limit",
                                         VIOLATIONS_BINDINGS_MAX));
    else
        app_reply_json(r, 200, json_pack("{so}", "items", bindings_json(rows, n, "holder")));
    violations_binding_item_array_free(rows, n);
}

void violations_on_bindings_list(app_req *r)
{
    bindings_reply(r, true);
}

void violations_on_binding_requests(app_req *r)
{
    bindings_reply(r, false);
}

/* ---- consent, withdraw -------------------------------------------------- */

typedef struct change_ctx {
    int64_t id;
} change_ctx;

/* Loads the binding (unlocked) to learn its holder, locks the holder, then
 * the binding. A binding the caller is no party to answers 404. */
static int lock_binding(app_req *r, int64_t id, bool owner_only, violations_binding *b)
{
    bool found = false;
    violations_binding first;

    if (violations_sql_binding_get(r->db, id, false, &first, &found) != 0)
        return -1;
    if (!found || (first.owner_citizen_id != r->who.id &&
                   (owner_only || first.holder_citizen_id != r->who.id))) {
        app_problem(r, 404, "not_found", "Binding not found", NULL, NULL);
        return -1;
    }
    if (violations_sql_lock_citizen(r->db, first.holder_citizen_id, &found) != 0)
        return -1;
    if (violations_sql_binding_get(r->db, id, true, b, &found) != 0)
        return -1;
    if (!found) {
        app_problem(r, 404, "not_found", "Binding not found", NULL, NULL);
        return -1;
    }
    return 0;
}

static int tx_consent(app_req *r, void *arg)
{
    change_ctx *x = arg;
    violations_binding b;
    violations_vehicle veh;
    bool found = false, done = false;
    int active = 0;

    if (lock_binding(r, x->id, true, &b) != 0)
        return -1;
    if (strcmp(b.state, "pending") != 0) {
        refuse(r, "binding_not_pending", "This request is no longer waiting for consent.",
               json_pack("{ss}", "state", b.state));
        return -1;
    }
    /* Only the current owner can consent: a vehicle sold meanwhile is not
     * theirs to lend. */
    if (violations_sql_vehicle_by_id(r->db, b.vehicle_id, &veh, &found) != 0)
        return -1;
    if (!found || veh.owner_citizen_id != r->who.id) {
        refuse(r, "owner_changed", "You no longer own this vehicle.", NULL);
        return -1;
    }
    if (violations_sql_count_active(r->db, b.holder_citizen_id, &active) != 0)
        return -1;
    if (active >= VIOLATIONS_BINDINGS_MAX) {
        refuse(r, "binding_limit", "The requester already has three vehicles bound.",
               json_pack("{sisi}", "active", active, "limit", VIOLATIONS_BINDINGS_MAX));
        return -1;
    }
    if (violations_sql_binding_move(r->db, b.id, "pending", "active", 0, &done) != 0)
        return -1;
    if (!done) {
        refuse(r, "binding_not_pending", "This request is no longer waiting for consent.", NULL);
        return -1;
    }
    if (audit_binding(r, "violations.binding_consent", b.id,
                      json_pack("{sIsI}", "holder_id", (json_int_t)b.holder_citizen_id,
                                "vehicle_id", (json_int_t)b.vehicle_id)) != 0)
        return -1;
    app_reply_json(r, 200, json_pack("{sIss}", "id", (json_int_t)b.id, "state", "active"));
    return 0;
}

void violations_on_binding_consent(app_req *r)
{
    change_ctx x;

    if (!violations_param_id(r, 0, &x.id)) {
        app_problem(r, 404, "not_found", "Binding not found", NULL, NULL);
        return;
    }
    app_tx(r, tx_consent, &x);
}

static int tx_delete(app_req *r, void *arg)
{
    change_ctx *x = arg;
    violations_binding b;
    bool done = false;
    const char *to;

    if (lock_binding(r, x->id, false, &b) != 0)
        return -1;
    if (strcmp(b.state, "pending") != 0 && strcmp(b.state, "active") != 0) {
        refuse(r, "binding_ended", "This binding has already ended.",
               json_pack("{ss}", "state", b.state));
        return -1;
    }
    /* An owner saying no to a pending request refuses it; everything else
     * withdraws. */
    to = (strcmp(b.state, "pending") == 0 && b.owner_citizen_id == r->who.id) ? "refused"
                                                                              : "withdrawn";
    if (violations_sql_binding_move(r->db, b.id, b.state, to, r->who.id, &done) != 0)
        return -1;
    if (!done) {
        refuse(r, "binding_ended", "This binding has already ended.", NULL);
        return -1;
    }
    if (audit_binding(r, "violations.binding_end", b.id,
                      json_pack("{sssssI}", "from", b.state, "to", to, "by",
                                b.owner_citizen_id == r->who.id ? "owner" : "holder",
                                "vehicle_id", (json_int_t)b.vehicle_id)) != 0)
        return -1;
    app_reply_json(r, 200, json_pack("{sIss}", "id", (json_int_t)b.id, "state", to));
    return 0;
}

void violations_on_binding_delete(app_req *r)
{
    change_ctx x;

    if (!violations_param_id(r, 0, &x.id)) {
        app_problem(r, 404, "not_found", "Binding not found", NULL, NULL);
        return;
    }
    app_tx(r, tx_delete, &x);
}
