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

#define VIOLATIONS_BINDINGS_MAX 3

static int binding_not_found(app_req *r)
{
    app_fail(r, "not_found", "No such binding.", NULL);
    return -1;
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
        app_fail(r, "vehicle_not_found", NULL, "plate");
        return -1;
    }
    if (veh.owner_citizen_id == r->who.id)
        return violations_refuse(r, "own_vehicle", NULL, NULL);
    if (violations_sql_count_active(r->db, r->who.id, &active) != 0)
        return -1;
    if (active >= VIOLATIONS_BINDINGS_MAX)
        return violations_refuse(r, "binding_limit", NULL,
                                 json_pack("{sisi}", "active", active, "limit", VIOLATIONS_BINDINGS_MAX));
    if (violations_sql_binding_insert(r->db, r->who.id, veh.id, veh.owner_citizen_id, &id) != 0) {
        if (db_error(r->db) != DB_ERR_DUP)
            return -1;
        db_error_clear(r->db);
        return violations_refuse(r, "binding_exists", NULL, NULL);
    }
    if (audit_write_id(r, "violations.binding_request", "violation_binding", id, "ok",
                       json_pack("{sI}", "vehicle_id", (json_int_t)veh.id)) != 0)
        return -1;
    app_reply_json(r, 201, binding_json(id, x->plate, "pending"));
    return 0;
}

void violations_on_binding_create(app_req *r)
{
    create_ctx x;
    const char *why = NULL;

    if (violations_plate_normalize(app_json_str(r, "plate"), x.plate, &why) != 0) {
        violations_bad_plate(r, why, "plate");
        return;
    }
    app_tx(r, tx_create, &x);
}

/* ---- lists ------------------------------------------------------------------ */

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
        json_object_set_new(o, "consented_at", app_json_str_if(b->has_consented_at, b->consented_at));
        json_object_set_new(o, "ended_at", app_json_str_if(b->has_ended_at, b->ended_at));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* The route's data, held: the caller's own bindings (as holder), else the
 * requests to them (as owner). */
void violations_on_bindings_list(app_req *r)
{
    bool held = *(const bool *)app_route_data(r);
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
                   (owner_only || first.holder_citizen_id != r->who.id)))
        return binding_not_found(r);
    if (violations_sql_lock_citizen(r->db, first.holder_citizen_id, &found) != 0)
        return -1;
    if (violations_sql_binding_get(r->db, id, true, b, &found) != 0)
        return -1;
    return found ? 0 : binding_not_found(r);
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
    if (strcmp(b.state, "pending") != 0)
        return violations_refuse(r, "binding_not_pending", NULL, json_pack("{ss}", "state", b.state));
    /* Only the current owner can consent: a vehicle sold meanwhile is not
     * theirs to lend. */
    if (violations_sql_vehicle_by_id(r->db, b.vehicle_id, &veh, &found) != 0)
        return -1;
    if (!found || veh.owner_citizen_id != r->who.id)
        return violations_refuse(r, "owner_changed", NULL, NULL);
    if (violations_sql_count_active(r->db, b.holder_citizen_id, &active) != 0)
        return -1;
    if (active >= VIOLATIONS_BINDINGS_MAX)
        return violations_refuse(r, "binding_limit", "The requester already has three vehicles bound.",
                                 json_pack("{sisi}", "active", active, "limit", VIOLATIONS_BINDINGS_MAX));
    if (violations_sql_binding_move(r->db, b.id, "pending", "active", 0, &done) != 0)
        return -1;
    if (!done)
        return violations_refuse(r, "binding_not_pending", NULL, NULL);
    if (audit_write_id(r, "violations.binding_consent", "violation_binding", b.id, "ok",
                       json_pack("{sIsI}", "holder_id", (json_int_t)b.holder_citizen_id,
                                "vehicle_id", (json_int_t)b.vehicle_id)) != 0)
        return -1;
    app_reply_json(r, 200, json_pack("{sIss}", "id", (json_int_t)b.id, "state", "active"));
    return 0;
}

void violations_on_binding_consent(app_req *r)
{
    change_ctx x = {app_path_int(r, 0)};

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
    if (strcmp(b.state, "pending") != 0 && strcmp(b.state, "active") != 0)
        return violations_refuse(r, "binding_ended", NULL, json_pack("{ss}", "state", b.state));
    /* An owner saying no to a pending request refuses it; everything else
     * withdraws. */
    to = (strcmp(b.state, "pending") == 0 && b.owner_citizen_id == r->who.id) ? "refused"
                                                                              : "withdrawn";
    if (violations_sql_binding_move(r->db, b.id, b.state, to, r->who.id, &done) != 0)
        return -1;
    if (!done)
        return violations_refuse(r, "binding_ended", NULL, NULL);
    if (audit_write_id(r, "violations.binding_end", "violation_binding", b.id, "ok",
                       json_pack("{sssssI}", "from", b.state, "to", to, "by",
                                b.owner_citizen_id == r->who.id ? "owner" : "holder",
                                "vehicle_id", (json_int_t)b.vehicle_id)) != 0)
        return -1;
    app_reply_json(r, 200, json_pack("{sIss}", "id", (json_int_t)b.id, "state", to));
    return 0;
}

void violations_on_binding_delete(app_req *r)
{
    change_ctx x = {app_path_int(r, 0)};

    app_tx(r, tx_delete, &x);
}
