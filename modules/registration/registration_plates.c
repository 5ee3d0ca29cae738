/* registration_plates.c - the plate pool (operators load, block, unblock
 * and count numbers) and plate choice by applicants: a random offer of N
 * free numbers, or a self-composed number; reservation is one conditional
 * UPDATE, so of many applicants racing for one number exactly one wins. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/registration/plate_rules.h"
#include "modules/registration/registration_internal.h"
#include "server/audit.h"

/* Set once at start-up (reg_init) and never changed, so workers read it
 * without a lock. */
static unsigned g_selection;

int reg_init(void)
{
    unsigned mask = 0;
    if (registration_selection_parse(registration_conf.selection, &mask) != 0) {
        app_log(0, "registration",
                "msg=\"bad registration.selection: use offer, custom or offer,custom\"");
        return -1;
    }
    g_selection = mask;
    return 0;
}

static int selection_enabled(const char *mode)
{
    return (g_selection & (strcmp(mode, "offer") == 0 ? REG_SELECT_OFFER : REG_SELECT_CUSTOM)) != 0;
}

/* ---- pool administration (operators) ---- */

typedef struct load_arg {
    const char *prefix;
    json_t *numbers;
} load_arg;

static int tx_load(app_req *r, void *p)
{
    load_arg *l = p;
    size_t i;
    json_t *v;
    int64_t loaded = 0, skipped = 0;
    char target[64];
    json_t *detail;
    int rc;

    json_array_foreach(l->numbers, i, v) {
        uint64_t affected = 0;
        if (reg_sql_plate_insert(r->db, l->prefix, json_string_value(v), &affected) != 0)
            return -1;
        if (affected)
            loaded++;
        else
            skipped++;
    }
    snprintf(target, sizeof target, "%s", l->prefix);
    detail = json_pack("{s:I, s:I}", "loaded", (json_int_t)loaded, "skipped", (json_int_t)skipped);
    rc = audit_write(r, "registration.plates_load", "plate_pool", target, "ok", detail);
    json_decref(detail);
    if (rc != 0)
        return -1;
    app_reply_json(r, 201, json_pack("{s:s, s:I, s:I}", "prefix", l->prefix, "loaded",
                                     (json_int_t)loaded, "skipped", (json_int_t)skipped));
    return 0;
}

void reg_on_pool_load(app_req *r)
{
    load_arg l;
    size_t i;
    json_t *v;
    const char *why = NULL;

    l.prefix = app_json_str(r, "prefix");
    l.numbers = json_object_get(r->json, "numbers");
    if (registration_plate_prefix_check(l.prefix, &why) != 0) {
        app_fail(r, why, NULL, "prefix");
        return;
    }
    json_array_foreach(l.numbers, i, v) {
        /* The pool may hold any valid number; the letter cap only limits
         * what applicants may compose themselves. */
        if (!json_is_string(v) ||
            registration_plate_number_check(json_string_value(v), REGISTRATION_PLATE_NUMBER_LEN,
                                            &why) != 0) {
            char field[32];
            snprintf(field, sizeof field, "numbers[%zu]", i);
            app_fail(r, json_is_string(v) ? why : "plate_character", NULL, field);
            return;
        }
    }
    app_tx(r, tx_load, &l);
}

void reg_on_pool_get(app_req *r)
{
    const char *prefix = app_query(r, "prefix");
    reg_plate_count *c = NULL;
    json_t *counts;
    int n = 0;

    if (registration_plate_prefix_check(prefix, NULL) != 0) {
        app_fail(r, "bad_query", "prefix must be a plate prefix.", "prefix");
        return;
    }
    if (reg_sql_plate_counts(r->db, prefix, &c, &n) != 0) {
        app_problem_db(r);
        return;
    }
    counts = json_pack("{s:i, s:i, s:i, s:i}", "free", 0, "reserved", 0, "assigned", 0, "blocked", 0);
    for (int i = 0; i < n; i++)
        json_object_set_new(counts, c[i].state, json_integer(c[i].n));
    app_reply_json(r, 200, json_pack("{s:s, s:o}", "prefix", prefix, "counts", counts));
    free(c);
}

typedef struct block_arg {
    const char *prefix, *number;
    int block;
} block_arg;

static int tx_block(app_req *r, void *p)
{
    block_arg *b = p;
    uint64_t affected = 0;
    char state[16], target[32];
    bool found = false;

    if ((b->block ? reg_sql_plate_block : reg_sql_plate_unblock)(r->db, b->prefix, b->number,
                                                                 &affected) != 0)
        return -1;
    if (affected != 1) {
        if (reg_sql_plate_state(r->db, b->prefix, b->number, state, &found) != 0)
            return -1;
        if (!found)
            app_fail(r, "not_found", "No such number in the pool.", "number");
        else
            app_fail_ext(r, "plate_state", b->block ? "Only free numbers can be blocked."
                                                    : "Only blocked numbers can be freed.",
                         "number", json_pack("{s:s}", "state", state));
        return -1;
    }
    snprintf(target, sizeof target, "%s%s", b->prefix, b->number);
    if (audit_write(r, b->block ? "registration.plate_block" : "registration.plate_unblock",
                    "plate", target, "ok", NULL) != 0)
        return -1;
    app_reply_json(r, 200, json_pack("{s:s, s:s, s:s}", "prefix", b->prefix, "number", b->number,
                                     "state", b->block ? "blocked" : "free"));
    return 0;
}

void reg_on_plate_block(app_req *r)
{
    block_arg b;
    b.prefix = app_json_str(r, "prefix");
    b.number = app_json_str(r, "number");
    b.block = *(const int *)app_route_data(r);
    if (registration_plate_prefix_check(b.prefix, NULL) != 0) {
        app_fail(r, "plate_prefix", NULL, "prefix");
        return;
    }
    app_tx(r, tx_block, &b);
}

/* ---- choice by the applicant ---- */

/* Refuses cooling_off when the owner is barred from choosing plates. */
static int check_cooling_off(db_conn *c, int64_t citizen_id, app_refusal *f)
{
    char until[21];
    bool found = false;
    if (reg_sql_bar_active(c, citizen_id, "plate", until, &found) != 0)
        return -1;
    if (found)
        return app_refuse(f, "cooling_off", NULL, NULL, json_pack("{s:s}", "until", until));
    return 0;
}

/* An offer may be read or drawn while plate choice is open to the owner. */
static int check_offer_open(db_conn *c, const reg_app *a, app_refusal *f)
{
    if (!selection_enabled("offer"))
        return app_refuse(f, "selection_disabled", "Random offers are switched off.", NULL, NULL);
    return check_cooling_off(c, a->citizen_id, f);
}

/* The offer as the API shows it: the numbers still free, when it expires,
 * and whether this request drew it. */
static json_t *offer_json(const reg_app *a, const reg_offer *o, int no, bool made)
{
    json_t *numbers = json_array();

    for (int i = 0; i < no; i++)
        if (o[i].has_state && strcmp(o[i].state, "free") == 0)
            json_array_append_new(numbers, json_string(o[i].number));
    return json_pack("{s:I, s:s, s:o, s:o, s:b}", "application_id", (json_int_t)a->id, "prefix",
                     a->plate_prefix, "numbers", numbers, "expires_at",
                     reg_utc_json(no > 0, no > 0 ? o[0].expires_at : NULL), "new", made);
}

/* Draws a new offer unless one is live: asking again while it is live
 * returns the same numbers, so nobody can reroll for favourites. The
 * step's input is a json_t ** that receives the offer. */
static int step_draw_offer(db_conn *c, const app_actor *who, reg_step *s, app_refusal *f)
{
    int64_t id = s->id, ttl = registration_conf.offer_ttl_s;
    const reg_app *a = &s->a;
    reg_offer *o = NULL;
    reg_plate_number *fresh = NULL;
    int rc = -1, no = 0, nfresh = 0;
    bool made = false;

    if (check_offer_open(c, a, f) != 0 || reg_sql_offer_current(c, id, &o, &no) != 0)
        goto done;
    if (no == 0) {
        if (reg_sql_offer_clear(c, id) != 0 ||
            reg_sql_plate_random_free(c, a->plate_prefix, registration_conf.offer_size, &fresh,
                                      &nfresh) != 0)
            goto done;
        if (nfresh == 0) {
            app_refuse(f, "plate_pool_empty", NULL, NULL, NULL);
            goto done;
        }
        for (int i = 0; i < nfresh; i++)
            if (reg_sql_offer_add(c, id, fresh[i].number, ttl) != 0)
                goto done;
        if (reg_sql_app_set_offer_expiry(c, id, ttl) != 0)
            goto done;
        free(o);
        o = NULL;
        if (reg_sql_offer_current(c, id, &o, &no) != 0)
            goto done;
        made = true;
        if (audit_write_sys_id(c, who->who, who->request_id, who->peer, "registration.plate_offer",
                               "registration", id, "ok", json_pack("{s:i}", "numbers", no)) != 0)
            goto done;
    }
    *(json_t **)s->arg = offer_json(a, o, no, made);
    rc = 0;
done:
    free(fresh);
    free(o);
    return rc;
}

/* An offer is for choosing: only while a plate may be reserved. */
static const reg_step_def step_offer = {REG_EV_RESERVE_PLATE, step_draw_offer, 200};

static int tx_draw_offer(app_req *r, void *p)
{
    app_actor a = APP_ACTOR(r);
    app_refusal f = {0};
    json_t *offer = NULL;

    if (reg_step_apply(r->db, &a, &step_offer, *(int64_t *)p, &offer, &f) != 0)
        return app_fail_refusal(r, &f);
    /* Answered inside the transaction: a replay of the Idempotency-Key
     * gets this stored offer. */
    app_reply_json(r, 200, offer);
    return 0;
}

/* POST: draws an offer (or returns the live one) and replies with it. */
void reg_on_offer_draw(app_req *r)
{
    reg_tx_on_id(r, tx_draw_offer);
}

/* GET: the live offer as it stands, drawing nothing and writing nothing
 * (a safe method, RFC 9110 9.2.1); no live offer is an empty list. */
void reg_on_offer_get(app_req *r)
{
    reg_app a = {0};
    app_refusal f = {0};
    reg_offer *o = NULL;
    const char *from;
    registration_state to;
    int no = 0;

    if (reg_app_find(r->db, &r->who, app_path_int(r, 0), 0, &a, &f) != 0)
        goto fail;
    if (reg_check(&a, REG_EV_RESERVE_PLATE, &from, &to, &f) != 0 ||
        check_offer_open(r->db, &a, &f) != 0 || reg_sql_offer_current(r->db, a.id, &o, &no) != 0)
        goto fail;
    app_reply_json(r, 200, offer_json(&a, o, no, false));
    goto done;
fail:
    if (app_fail_refusal(r, &f) != 0 && r->status == 0)
        app_problem_db(r);
done:
    free(o);
    reg_app_clear(&a);
}

typedef struct reserve_arg {
    const char *number;
    int from_offer;
} reserve_arg;

static int step_reserve(db_conn *c, const app_actor *who, reg_step *s, app_refusal *f)
{
    const reserve_arg *v = s->arg;
    const char *why = NULL, *prefix = s->a.plate_prefix;
    char state[16];
    bool found = false;
    uint64_t affected = 0;

    if (check_cooling_off(c, s->a.citizen_id, f) != 0)
        return -1;
    if (v->from_offer) {
        if (reg_sql_offer_has(c, s->id, v->number, &found) != 0)
            return -1;
        if (!found)
            return app_refuse(f, "not_offered", NULL, "number", NULL);
    } else if (registration_plate_number_check(v->number, (int)registration_conf.max_letters,
                                               &why) != 0) {
        return app_refuse(f, why, NULL, "number", NULL);
    }
    if (reg_sql_plate_reserve(c, prefix, v->number, s->id, registration_conf.reservation_days,
                              &affected) != 0)
        return -1;
    if (affected != 1) {
        /* Someone else got it first (or it is not in the pool): choose again. */
        if (reg_sql_plate_state(c, prefix, v->number, state, &found) != 0)
            return -1;
        return app_refuse(f, "plate_unavailable", NULL, "number",
                          json_pack("{s:s}", "plate_state", found ? state : "absent"));
    }
    if (reg_sql_app_set_plate(c, s->id, s->from, v->number, &affected) != 0 ||
        reg_affected(affected, s->from, f) != 0 || reg_sql_offer_clear(c, s->id) != 0)
        return -1;
    return audit_write_sys_id(c, who->who, who->request_id, who->peer, "registration.plate_reserve",
                              "registration", s->id, "ok",
                              json_pack("{s:s, s:s, s:s}", "prefix", prefix, "number", v->number,
                                        "source", v->from_offer ? "offer" : "custom"));
}

void reg_on_reserve(app_req *r)
{
    static const reg_step_def step = {REG_EV_RESERVE_PLATE, step_reserve, 200};
    const char *source = app_json_str(r, "source"); /* checked: offer or custom */
    reserve_arg v = {app_json_str(r, "number"), strcmp(source, "offer") == 0};

    if (!selection_enabled(source)) {
        app_fail(r, "selection_disabled", NULL, "source");
        return;
    }
    reg_run_step(r, &step, &v);
}

static int step_release(db_conn *c, const app_actor *a, reg_step *s, app_refusal *f)
{
    uint64_t affected = 0;

    if (reg_release_holdings(c, s->id) != 0 ||
        reg_sql_app_drop_plate(c, s->id, s->from, registration_state_name(s->to), &affected) != 0 ||
        reg_affected(affected, s->from, f) != 0 ||
        audit_write_sys_id(c, a->who, a->request_id, a->peer, "registration.plate_release",
                           "registration", s->id, "ok",
                           json_pack("{s:s}", "number", s->a.plate_number)) != 0)
        return -1;
    return reg_hoarding_note(c, a, s->a.citizen_id, "cancel", s->id);
}

const reg_step_def reg_step_release = {REG_EV_RELEASE_PLATE, step_release, 200};
