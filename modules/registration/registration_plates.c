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

/* 409 cooling_off when the owner is barred from choosing plates. */
static int check_cooling_off(app_req *r, int64_t citizen_id)
{
    char until[21];
    bool found = false;
    if (reg_sql_bar_active(r->db, citizen_id, "plate", until, &found) != 0)
        return -1;
    if (found) {
        app_fail_ext(r, "cooling_off", NULL, NULL, json_pack("{s:s}", "until", until));
        return -1;
    }
    return 0;
}

static int step_offer(app_req *r, reg_step *s)
{
    int64_t id = s->id, ttl = registration_conf.offer_ttl_s;
    const reg_app *a = &s->a;
    reg_offer *o = NULL;
    reg_plate_number *fresh = NULL;
    json_t *numbers = NULL;
    int rc = -1, made = 0, no = 0, nfresh = 0;

    if (!selection_enabled("offer")) {
        app_fail(r, "selection_disabled", "Random offers are switched off.", NULL);
        goto done;
    }
    if (check_cooling_off(r, a->citizen_id) != 0)
        goto done;
    if (reg_sql_offer_current(r->db, id, &o, &no) != 0)
        goto done;
    if (no == 0) {
        /* No live offer: draw a new one. Asking again while it is live
         * returns the same numbers, so nobody can reroll for favourites. */
        if (reg_sql_offer_clear(r->db, id) != 0 ||
            reg_sql_plate_random_free(r->db, a->plate_prefix,
                                      registration_conf.offer_size, &fresh,
                                      &nfresh) != 0)
            goto done;
        if (nfresh == 0) {
            app_fail(r, "plate_pool_empty", NULL, NULL);
            goto done;
        }
        for (int i = 0; i < nfresh; i++)
            if (reg_sql_offer_add(r->db, id, fresh[i].number, ttl) != 0)
                goto done;
        if (reg_sql_app_set_offer_expiry(r->db, id, ttl) != 0)
            goto done;
        free(o);
        o = NULL;
        if (reg_sql_offer_current(r->db, id, &o, &no) != 0)
            goto done;
        made = 1;
        if (reg_audit(r, "registration.plate_offer", id, json_pack("{s:i}", "numbers", no)) != 0)
            goto done;
    }
    numbers = json_array();
    for (int i = 0; i < no; i++)
        if (o[i].has_state && strcmp(o[i].state, "free") == 0)
            json_array_append_new(numbers, json_string(o[i].number));
    app_reply_json(r, 200, json_pack("{s:I, s:s, s:O, s:o, s:b}", "application_id", (json_int_t)id,
                                     "prefix", a->plate_prefix, "numbers", numbers, "expires_at",
                                     reg_utc_json(no > 0, no > 0 ? o[0].expires_at : NULL),
                                     "new", made));
    rc = 0;
done:
    json_decref(numbers);
    free(fresh);
    free(o);
    return rc;
}

/* An offer is for choosing: only while a plate may be reserved. The step
 * replies with the offer itself. */
const reg_step_def reg_step_offer = {REG_EV_RESERVE_PLATE, step_offer, 200};

typedef struct reserve_arg {
    const char *number;
    int from_offer;
} reserve_arg;

static int step_reserve(app_req *r, reg_step *s)
{
    const reserve_arg *v = s->arg;
    const char *why = NULL, *prefix = s->a.plate_prefix;
    char state[16];
    bool found = false;
    uint64_t affected = 0;

    if (check_cooling_off(r, s->a.citizen_id) != 0)
        return -1;
    if (v->from_offer) {
        if (reg_sql_offer_has(r->db, s->id, v->number, &found) != 0)
            return -1;
        if (!found) {
            app_fail(r, "not_offered", NULL, "number");
            return -1;
        }
    } else if (registration_plate_number_check(v->number, (int)registration_conf.max_letters,
                                               &why) != 0) {
        app_fail(r, why, NULL, "number");
        return -1;
    }
    if (reg_sql_plate_reserve(r->db, prefix, v->number, s->id, registration_conf.reservation_days,
                              &affected) != 0)
        return -1;
    if (affected != 1) {
        /* Someone else got it first (or it is not in the pool): choose again. */
        if (reg_sql_plate_state(r->db, prefix, v->number, state, &found) != 0)
            return -1;
        app_fail_ext(r, "plate_unavailable", NULL, "number",
                     json_pack("{s:s}", "plate_state", found ? state : "absent"));
        return -1;
    }
    if (reg_sql_app_set_plate(r->db, s->id, s->from, v->number, &affected) != 0 ||
        reg_affected(r, affected, s->from) != 0 || reg_sql_offer_clear(r->db, s->id) != 0)
        return -1;
    return reg_audit(r, "registration.plate_reserve", s->id,
                     json_pack("{s:s, s:s, s:s}", "prefix", prefix, "number", v->number, "source",
                               v->from_offer ? "offer" : "custom"));
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

static int step_release(app_req *r, reg_step *s)
{
    uint64_t affected = 0;

    if (reg_release_holdings(r->db, s->id) != 0 ||
        reg_sql_app_drop_plate(r->db, s->id, s->from, registration_state_name(s->to), &affected) != 0 ||
        reg_affected(r, affected, s->from) != 0 ||
        reg_audit(r, "registration.plate_release", s->id,
                  json_pack("{s:s}", "number", s->a.plate_number)) != 0)
        return -1;
    return reg_hoarding_note(r->db, r, s->a.citizen_id, "cancel", s->id);
}

const reg_step_def reg_step_release = {REG_EV_RELEASE_PLATE, step_release, 200};
