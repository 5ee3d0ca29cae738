/* registration_slots.c - inspection stations: published slots with a
 * capacity, free places per day, booking (one conditional UPDATE decides
 * who gets the last places), cancelling, a station's appointments of a
 * day, and the inspection result, recorded only by the station of the
 * booked appointment (its terminal or its inspector) once the slot has
 * started. A vehicle that failed is checked again only at a later slot. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/cases/cases.h"
#include "modules/registration/plate_rules.h"
#include "modules/registration/registration_internal.h"
#include "server/audit.h"
#include "server/crypto.h"
#include "server/date.h"

/* 0 when the outlet looked up is an inspection station; otherwise 404. */
static int station_found(app_req *r, bool found, const char *type)
{
    if (found && strcmp(type, "station") == 0)
        return 0;
    app_fail(r, "not_found", "No such inspection station.", NULL);
    return -1;
}

/* 0 when outlet is an inspection station; otherwise 404 set (or db). */
static int require_station(app_req *r, int64_t outlet)
{
    char type[32];
    bool found = false;
    if (reg_sql_outlet_type(r->db, outlet, type, &found) != 0) {
        app_problem_db(r);
        return -1;
    }
    return station_found(r, found, type);
}

void reg_on_stations(app_req *r)
{
    reg_station *s = NULL;
    json_t *items;
    int n = 0;
    if (reg_sql_stations(r->db, &s, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:s, s:s}", "id",
                                               (json_int_t)s[i].id, "code", s[i].code, "name",
                                               s[i].name, "city", s[i].city, "address",
                                               s[i].address));
    app_reply_json(r, 200, json_pack("{s:o}", "items", items));
    reg_station_array_free(s, n);
}

/* ---- publishing slots ---- */

typedef struct slot_arg {
    int64_t outlet;
    time_t start, end;
    int64_t capacity;
} slot_arg;

static int tx_publish(app_req *r, void *p)
{
    slot_arg *s = p;
    int64_t id = 0, overlaps = 0;
    char a[DATE_ISO_STR_SIZE], b[DATE_ISO_STR_SIZE];
    char type[32];
    bool found = false;

    /* Check-then-insert decided under the station's outlet row lock: two
     * concurrent publishes of overlapping slots cannot both pass the check. */
    if (reg_sql_outlet_lock(r->db, s->outlet, type, &found) != 0 ||
        station_found(r, found, type) != 0)
        return -1;
    if (reg_sql_slot_overlaps(r->db, s->outlet, (int64_t)s->start, (int64_t)s->end, &overlaps) != 0)
        return -1;
    if (overlaps > 0) {
        app_fail(r, "slot_overlap", NULL, "start");
        return -1;
    }
    if (reg_sql_slot_insert(r->db, s->outlet, (int64_t)s->start, (int64_t)s->end, s->capacity,
                            r->who.id, &id) != 0)
        return -1;
    if (audit_write_id(r, "registration.slot_publish", "inspection_slot", id, "ok",
                       json_pack("{s:I, s:I}", "station_id", (json_int_t)s->outlet, "capacity",
                                 (json_int_t)s->capacity)) != 0)
        return -1;
    date_format_iso8601_utc(s->start, a);
    date_format_iso8601_utc(s->end, b);
    app_reply_json(r, 201, json_pack("{s:I, s:I, s:s, s:s, s:I, s:i, s:I}", "id", (json_int_t)id,
                                     "station_id", (json_int_t)s->outlet, "starts_at", a, "ends_at", b,
                                     "capacity", (json_int_t)s->capacity, "booked", 0, "free",
                                     (json_int_t)s->capacity));
    return 0;
}

void reg_on_slots_publish(app_req *r)
{
    const char *field = NULL;
    slot_arg s;

    s.outlet = app_path_int(r, 0);
    s.capacity = app_json_int(r, "capacity", 0); /* checked: 1..10000 */
    /* Inspectors publish for their own station; admins for any. */
    if (!(r->who.roles & ROLE_ADMIN) && r->who.outlet_id != s.outlet) {
        app_fail(r, "not_your_station", "Inspectors publish slots for their own station only.", NULL);
        return;
    }
    if (require_station(r, s.outlet) != 0)
        return;
    if (registration_parse_instant(app_json_str(r, "start"), &s.start) != 0)
        field = "start";
    else if (registration_parse_instant(app_json_str(r, "end"), &s.end) != 0)
        field = "end";
    if (field) {
        app_fail(r, "instant_format", NULL, field);
        return;
    }
    if (s.end <= s.start || s.end - s.start > REG_SLOT_MAX_S) {
        app_fail(r, "slot_length", NULL, "end");
        return;
    }
    if (s.start <= time(NULL)) {
        app_fail(r, "slot_in_past", NULL, "start");
        return;
    }
    app_tx(r, tx_publish, &s);
}

/* The bureau's calendar day of the checked ?date=, in UTC instants. */
static int64_t day_start(app_req *r)
{
    int32_t day = 0;
    date_parse(app_query(r, "date"), &day);
    return (int64_t)day * 86400 - DATE_SHANGHAI_OFFSET_MINUTES * 60;
}

void reg_on_slots_list(app_req *r)
{
    int64_t outlet = app_path_int(r, 0), free_total = 0, from = day_start(r);
    reg_slot *s = NULL;
    json_t *items;
    int n = 0;
    const char *date = app_query(r, "date");

    if (require_station(r, outlet) != 0)
        return;
    if (reg_sql_slots_between(r->db, outlet, from, from + 86400, &s, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++) {
        int64_t cap = s[i].capacity, booked = s[i].booked;
        free_total += cap - booked;
        json_array_append_new(items, json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "id",
                                               (json_int_t)s[i].id, "starts_at", s[i].starts_at,
                                               "ends_at", s[i].ends_at, "capacity",
                                               (json_int_t)cap, "booked", (json_int_t)booked,
                                               "free", (json_int_t)(cap - booked)));
    }
    app_reply_json(r, 200, json_pack("{s:I, s:s, s:I, s:o}", "station_id", (json_int_t)outlet,
                                     "date", date, "free", (json_int_t)free_total, "slots", items));
    free(s);
}

/* ---- booking ---- */

/* A vehicle that failed its check is checked again only in a slot that
 * starts once the failed one has ended: otherwise a failure and a pass
 * could be recorded in one go, in the same slot or two overlapping ones
 * (also after the owner booked and cancelled in between, hence the last
 * attended appointment rather than the state).
 * 0, or -1 refused (reinspection_too_early) or a db error. */
static int check_reinspection_slot(db_conn *c, int64_t app_id, const reg_slot *slot, app_refusal *f)
{
    reg_appt last;
    bool found = false;

    if (reg_sql_appt_last_attended(c, app_id, &last, &found) != 0)
        return -1;
    /* Both are "YYYY-MM-DDTHH:MM:SSZ": text order is time order. */
    if (found && strcmp(slot->starts_at, last.ends_at) < 0)
        return app_refuse(f, "reinspection_too_early", NULL, "slot_id",
                          json_pack("{s:s}", "not_before", last.ends_at));
    return 0;
}

/* The step's input: the slot (an int64_t *). */
static int step_book(db_conn *c, const app_actor *a, reg_step *st, app_refusal *f)
{
    int64_t slot = *(const int64_t *)st->arg;
    reg_slot sl;
    char until[21];
    bool found = false;
    uint64_t affected = 0;
    int64_t appt = 0;

    /* Three no-shows bar online booking; a window clerk may still book. */
    if (a->who->kind != CALLER_OPERATOR) {
        if (reg_sql_bar_active(c, st->a.citizen_id, "booking", until, &found) != 0)
            return -1;
        if (found)
            return app_refuse(f, "booking_barred", NULL, NULL, json_pack("{s:s}", "until", until));
    }
    if (reg_sql_slot_get(c, slot, &sl, &found) != 0)
        return -1;
    if (!found)
        return app_refuse(f, "slot_unknown", NULL, "slot_id", NULL);
    if (st->a.inspections > 0 && check_reinspection_slot(c, st->id, &sl, f) != 0)
        return -1;
    if (reg_sql_slot_book(c, slot, &affected) != 0)
        return -1;
    if (affected != 1)
        return app_refuse(f, sl.future ? "slot_full" : "slot_started", NULL, "slot_id", NULL);
    if (reg_sql_appt_insert(c, st->id, slot, st->a.citizen_id, &appt) != 0 ||
        reg_sql_app_set_state(c, st->id, st->from, registration_state_name(st->to), &affected) != 0 ||
        reg_affected(affected, st->from, f) != 0)
        return -1;
    return audit_write_sys_id(c, a->who, a->request_id, a->peer, "registration.book",
                              "registration", st->id, "ok",
                              json_pack("{s:I, s:I, s:I}", "appointment_id", (json_int_t)appt,
                                        "slot_id", (json_int_t)slot, "station_id",
                                        (json_int_t)sl.outlet_id));
}

void reg_on_book(app_req *r)
{
    static const reg_step_def step = {REG_EV_BOOK, step_book, 201};
    int64_t slot = app_json_int(r, "slot_id", 0); /* checked: required */

    reg_run_step(r, &step, &slot);
}

static int step_unbook(db_conn *c, const app_actor *a, reg_step *st, app_refusal *f)
{
    reg_appt ap;
    reg_slot sl;
    bool found = false;
    uint64_t affected = 0;

    if (reg_sql_appt_active(c, st->id, &ap, NULL) != 0)
        return -1;
    /* Once the slot has started the appointment is kept or missed, not
     * cancelled: otherwise a missed one could be cancelled before the
     * no-show job counts it. */
    if (reg_sql_slot_get(c, ap.slot_id, &sl, &found) != 0)
        return -1;
    if (!found || !sl.future)
        return app_refuse(f, "slot_started",
                          "An appointment can be cancelled only before its slot starts.", NULL, NULL);
    if (reg_sql_appt_close(c, ap.id, "cancelled", &affected) != 0 || affected != 1 ||
        reg_sql_slot_unbook(c, ap.slot_id, NULL) != 0 ||
        reg_sql_app_set_state(c, st->id, st->from, registration_state_name(st->to), &affected) != 0 ||
        reg_affected(affected, st->from, f) != 0)
        return -1;
    return audit_write_sys_id(c, a->who, a->request_id, a->peer, "registration.unbook",
                              "registration", st->id, "ok",
                              json_pack("{s:I}", "slot_id", (json_int_t)ap.slot_id));
}

const reg_step_def reg_step_unbook = {REG_EV_CANCEL_BOOKING, step_unbook, 200};

/* ---- inspection result ---- */

typedef struct inspect_arg {
    int pass;
    char *reasons_json;
} inspect_arg;

static int step_inspect(db_conn *c, const app_actor *a, reg_step *st, app_refusal *f)
{
    const inspect_arg *v = st->arg;
    const app_principal *who = a->who;
    reg_appt ap;
    bool found = false;
    const char *why = NULL;
    uint64_t affected = 0;
    int64_t case_id, appt;
    int partner = who->kind == CALLER_PARTNER;

    if (reg_sql_appt_active(c, st->id, &ap, &found) != 0)
        return -1;
    if (!found) /* appointment_booked always has one; kept as a guard */
        return reg_refuse_state(f, st->from);
    if (who->outlet_id == 0 || ap.outlet_id != who->outlet_id)
        return app_refuse(f, "not_your_station", "The appointment is at another station.", NULL, NULL);
    /* The check happens in the booked slot, not before it: with a failed
     * vehicle booked only into a later slot, no one records a failure and
     * a pass at once. */
    if (!ap.started)
        return app_refuse(f, "slot_not_started", NULL, NULL, json_pack("{s:s}", "starts_at", ap.starts_at));
    appt = ap.id;
    if (reg_sql_appt_close(c, appt, "attended", &affected) != 0 || affected != 1)
        return -1;
    if (reg_sql_app_inspected(c, st->id, st->from, registration_state_name(st->to), v->reasons_json,
                              &affected) != 0 ||
        reg_affected(affected, st->from, f) != 0)
        return -1;
    case_id = st->a.case_id;
    if (case_id) {
        if (st->a.inspections == 0 && cases_set_state(c, case_id, "in_progress", &why) != 0) {
            if (why)
                app_refuse(f, "case_refused", why, NULL, NULL);
            return -1;
        }
        /* An owner who applied online brings the car: each check is a
         * visit. On the dealer path the dealer brings it; the buyer's one
         * trip was the visit to the dealer (counted at submission). */
        if (strcmp(st->a.channel, "app") == 0) {
            char visit[40];
            /* Each appointment kept is its own visit, even a second one at
             * the same station on the same day after a failed check. */
            snprintf(visit, sizeof visit, "appointment:%lld", (long long)appt);
            if (cases_record_visit(c, case_id, who->outlet_id, partner ? 0 : who->id, visit) != 0)
                return -1;
        }
    }
    return audit_write_sys_id(c, who, a->request_id, a->peer, "registration.inspect",
                              "registration", st->id, "ok",
                              json_pack("{s:s, s:s, s:I, s:I, s:I}", "result",
                                        v->pass ? "pass" : "fail", "by",
                                        partner ? "station" : "inspector", "outlet_id",
                                        (json_int_t)who->outlet_id, "appointment_id",
                                        (json_int_t)appt, "slot_id", (json_int_t)ap.slot_id));
}

/* A station terminal sees only the applications booked at its station
 * (404 otherwise); operators see any and are checked in the step. */
static const reg_step_def step_pass = {REG_EV_INSPECT_PASS, step_inspect, 200};
static const reg_step_def step_fail = {REG_EV_INSPECT_FAIL, step_inspect, 200};

void reg_on_inspection(app_req *r)
{
    json_t *reasons = json_object_get(r->json, "reasons"), *x;
    inspect_arg v;
    const char *bad = NULL;
    size_t i;

    memset(&v, 0, sizeof v);
    v.pass = strcmp(app_json_str(r, "result"), "pass") == 0; /* checked: pass or fail */
    json_array_foreach(reasons, i, x)
        if (!json_is_string(x) || json_string_length(x) == 0 || json_string_length(x) > 128)
            bad = "reasons_format";
    if (!bad && v.pass && json_array_size(reasons) > 0)
        bad = "reasons_not_allowed";
    /* A failure lists every reason at once, so the owner fixes everything in one go. */
    if (!bad && !v.pass && json_array_size(reasons) == 0)
        bad = "reasons_required";
    if (bad) {
        app_fail(r, bad, NULL, "reasons");
        return;
    }
    if (!v.pass)
        v.reasons_json = json_dumps(reasons, JSON_COMPACT);
    reg_run_step(r, v.pass ? &step_pass : &step_fail, &v);
    free(v.reasons_json);
}

/* ---- a station's appointments of a day ---- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static json_t *station_appt_json(const reg_station_appt *s)
{
    const char *number = s->plate_number;
    char shown[REGISTRATION_PLATE_FORMAT_SIZE];
    char *owner = crypto_mask_name(s->owner_name);
    json_t *reasons = s->inspection_reasons ? json_loads(s->inspection_reasons, 0, NULL) : NULL;
    json_t *o;

    if (!json_is_array(reasons)) {
        json_decref(reasons);
        reasons = json_array();
    }
    if (number)
        registration_plate_format(s->plate_prefix, number, shown, sizeof shown);
    o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, "
                  "s:s, s:I, s:o}",
                  "id", (json_int_t)s->id, "slot_id", (json_int_t)s->slot_id, "starts_at",
                  s->starts_at, "ends_at", s->ends_at, "state", s->state, "application_id",
                  (json_int_t)s->application_id, "application_state", s->application_state,
                  "channel", s->channel, "vehicle_type", or_empty(s->vehicle_type), "use_type",
                  or_empty(s->use_type), "brand", or_empty(s->brand), "model", or_empty(s->model),
                  "vin", or_empty(s->vin), "engine_no", or_empty(s->engine_no), "plate",
                  app_json_str_if(number, shown), "owner_name", owner, "inspections",
                  (json_int_t)s->inspections, "inspection_reasons", reasons);
    free(owner);
    return o;
}

void reg_on_station_appointments(app_req *r)
{
    int64_t outlet = app_path_int(r, 0), from = day_start(r);
    reg_station_appt *s = NULL;
    json_t *items;
    const char *date = app_query(r, "date"), *state = app_query(r, "state");
    int n = 0;

    /* A station's terminal and inspectors see their own station only. */
    if (!(r->who.kind == CALLER_OPERATOR && (r->who.roles & (ROLE_ADMIN | ROLE_SUPERVISOR))) &&
        r->who.outlet_id != outlet) {
        app_fail(r, "not_your_station", "A station sees its own appointments only.", NULL);
        return;
    }
    if (require_station(r, outlet) != 0)
        return;
    if (reg_sql_station_appointments(r->db, outlet, from, from + 86400, state, &s, &n) != 0) {
        app_problem_db(r);
        return;
    }
    items = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(items, station_appt_json(&s[i]));
    app_reply_json(r, 200, json_pack("{s:I, s:s, s:o}", "station_id", (json_int_t)outlet, "date",
                                     date, "items", items));
    reg_station_appt_array_free(s, n);
}
