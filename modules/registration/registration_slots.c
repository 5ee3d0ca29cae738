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

#define MAX_REASONS 20

/* 0 when outlet is an inspection station; otherwise 404 set (or db). */
static int require_station(app_req *r, int64_t outlet)
{
    char type[32];
    bool found = false;
    if (reg_sql_outlet_type(r->db, outlet, type, &found) != 0) {
        app_problem_db(r);
        return -1;
    }
    if (!found || strcmp(type, "station") != 0) {
        app_problem(r, 404, "not_found", "Not found", "No such inspection station.", NULL);
        return -1;
    }
    return 0;
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
    char target[32], a[DATE_ISO_STR_SIZE], b[DATE_ISO_STR_SIZE];
    json_t *detail;
    char type[32];
    bool found = false;
    int rc;

    /* Check-then-insert decided under the station's outlet row lock: two
     * concurrent publishes of overlapping slots cannot both pass the check. */
    if (reg_sql_outlet_lock(r->db, s->outlet, type, &found) != 0)
        return -1;
    if (!found || strcmp(type, "station") != 0) {
        app_problem(r, 404, "not_found", "Not found", "No such inspection station.", NULL);
        return -1;
    }
    if (reg_sql_slot_overlaps(r->db, s->outlet, (int64_t)s->start, (int64_t)s->end, &overlaps) != 0)
        return -1;
    if (overlaps > 0) {
        app_problem(r, 409, "slot_overlap", "Slot overlaps another",
                    "The station already has a slot in that time.", "start");
        return -1;
    }
    if (reg_sql_slot_insert(r->db, s->outlet, (int64_t)s->start, (int64_t)s->end, s->capacity,
                            r->who.id, &id) != 0)
        return -1;
    snprintf(target, sizeof target, "%" PRId64, id);
    detail = json_pack("{s:I, s:I}", "station_id", (json_int_t)s->outlet, "capacity",
                       (json_int_t)s->capacity);
    rc = audit_write(r, "registration.slot_publish", "inspection_slot", target, "ok", detail);
    json_decref(detail);
    if (rc != 0)
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
    static const app_jfield fields[] = {{"start", JF_STRING, true, 32},
                                        {"end", JF_STRING, true, 32},
                                        {"capacity", JF_INT, true, 0}};
    slot_arg s;

    if ((s.outlet = reg_param_id(r, 0)) < 0)
        return;
    /* Inspectors publish for their own station; admins for any. */
    if (!(r->who.roles & ROLE_ADMIN) && r->who.outlet_id != s.outlet) {
        app_problem(r, 403, "not_your_station", "Not your station",
                    "Inspectors publish slots for their own station only.", NULL);
        return;
    }
    if (app_json_check(r, fields, APP_LEN(fields)) != 0 || require_station(r, s.outlet) != 0)
        return;
    s.capacity = app_json_int(r, "capacity", 0);
    if (registration_parse_instant(app_json_str(r, "start"), &s.start) != 0) {
        app_problem(r, 422, "instant_format", "Invalid start",
                    "Use YYYY-MM-DDTHH:MM:SSZ or an offset such as +08:00.", "start");
        return;
    }
    if (registration_parse_instant(app_json_str(r, "end"), &s.end) != 0) {
        app_problem(r, 422, "instant_format", "Invalid end",
                    "Use YYYY-MM-DDTHH:MM:SSZ or an offset such as +08:00.", "end");
        return;
    }
    if (s.end <= s.start || s.end - s.start > REG_SLOT_MAX_S) {
        app_problem(r, 422, "slot_length", "Invalid slot",
                    "A slot ends after it starts and lasts at most 12 hours.", "end");
        return;
    }
    if (s.start <= time(NULL)) {
        app_problem(r, 422, "slot_in_past", "Slot in the past", NULL, "start");
        return;
    }
    if (s.capacity < 1 || s.capacity > 10000) {
        app_problem(r, 422, "capacity_range", "Invalid capacity", "Between 1 and 10000.",
                    "capacity");
        return;
    }
    app_tx(r, tx_publish, &s);
}

void reg_on_slots_list(app_req *r)
{
    int64_t outlet = reg_param_id(r, 0), free_total = 0, from;
    int32_t day;
    reg_slot *s = NULL;
    json_t *items;
    int n = 0;
    const char *date = app_query(r, "date");

    if (outlet < 0)
        return;
    if (date == NULL || date_parse(date, &day) != 0) {
        app_problem(r, 400, "bad_query", "Bad query", "date=YYYY-MM-DD is required.", "date");
        return;
    }
    if (require_station(r, outlet) != 0)
        return;
    /* The bureau's calendar day, in UTC instants. */
    from = (int64_t)day * 86400 - DATE_SHANGHAI_OFFSET_MINUTES * 60;
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

typedef struct book_arg {
    int64_t id, slot;
} book_arg;

static int reply_app(app_req *r, int status, int64_t id)
{
    reg_app a;
    bool found = false;
    if (reg_sql_app_get(r->db, id, 0, &a, &found) != 0 || !found)
        return -1;
    app_reply_json(r, status, reg_app_json(r, &a));
    reg_app_clear(&a);
    return 0;
}

/* A vehicle that failed its check is checked again only in a slot that
 * starts once the failed one has ended: otherwise a failure and a pass
 * could be recorded in one go, in the same slot or two overlapping ones
 * (also after the owner booked and cancelled in between, hence the last
 * attended appointment rather than the state).
 * 0, or -1 with 409 reinspection_too_early (or a db error) set. */
static int check_reinspection_slot(app_req *r, int64_t app_id, const reg_slot *slot)
{
    reg_appt last;
    bool found = false;

    if (reg_sql_appt_last_attended(r->db, app_id, &last, &found) != 0)
        return -1;
    /* Both are "YYYY-MM-DDTHH:MM:SSZ": text order is time order. */
    if (found && strcmp(slot->starts_at, last.ends_at) < 0) {
        app_problem_ext(r, 409, "reinspection_too_early", "Choose a later slot",
                        "A vehicle that failed is checked again only in a slot that starts after "
                        "the failed one ended.",
                        "slot_id", json_pack("{s:s}", "not_before", last.ends_at));
        return -1;
    }
    return 0;
}

static int tx_book(app_req *r, void *p)
{
    book_arg *b = p;
    reg_app a = {0};
    reg_slot s;
    char until[21];
    bool found = false;
    const char *from;
    registration_state to;
    uint64_t affected = 0;
    int64_t appt = 0;
    int rc = -1;

    if (reg_app_load(r, b->id, 1, &a) != 0)
        goto done;
    if (reg_check(r, &a, REG_EV_BOOK, &from, &to) != 0)
        goto done;
    /* Three no-shows bar online booking; a window clerk may still book. */
    if (r->who.kind != CALLER_OPERATOR) {
        if (reg_sql_bar_active(r->db, a.citizen_id, "booking", until, &found) != 0)
            goto done;
        if (found) {
            app_problem_ext(r, 409, "booking_barred", "Online booking barred",
                            "Too many missed appointments; book at a window or wait.", NULL,
                            json_pack("{s:s}", "until", until));
            goto done;
        }
    }
    if (reg_sql_slot_get(r->db, b->slot, &s, &found) != 0)
        goto done;
    if (!found) {
        app_problem(r, 422, "slot_unknown", "No such slot", NULL, "slot_id");
        goto done;
    }
    if (a.inspections > 0 && check_reinspection_slot(r, b->id, &s) != 0)
        goto done;
    if (reg_sql_slot_book(r->db, b->slot, &affected) != 0)
        goto done;
    if (affected != 1) {
        int started = !s.future;
        app_problem(r, 409, started ? "slot_started" : "slot_full",
                    started ? "Slot already started" : "Slot full",
                    started ? "Choose a later slot." : "No place left; choose another slot.",
                    "slot_id");
        goto done;
    }
    if (reg_sql_appt_insert(r->db, b->id, b->slot, a.citizen_id, &appt) != 0 ||
        reg_sql_app_set_state(r->db, b->id, from, registration_state_name(to), &affected) != 0 ||
        reg_affected(r, affected, from) != 0)
        goto done;
    if (reg_audit(r, "registration.book", b->id,
                  json_pack("{s:I, s:I, s:I}", "appointment_id", (json_int_t)appt, "slot_id",
                            (json_int_t)b->slot, "station_id", (json_int_t)s.outlet_id)) != 0)
        goto done;
    rc = reply_app(r, 201, b->id);
done:
    reg_app_clear(&a);
    return rc;
}

void reg_on_book(app_req *r)
{
    static const app_jfield fields[] = {{"slot_id", JF_INT, true, 0}};
    book_arg b;
    if ((b.id = reg_param_id(r, 0)) < 0 || app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    b.slot = app_json_int(r, "slot_id", 0);
    app_tx(r, tx_book, &b);
}

static int tx_unbook(app_req *r, void *p)
{
    int64_t id = *(int64_t *)p;
    reg_app a = {0};
    reg_appt ap;
    reg_slot s;
    bool found = false;
    const char *from;
    registration_state to;
    uint64_t affected = 0;
    int rc = -1;

    if (reg_app_load(r, id, 1, &a) != 0)
        goto done;
    if (reg_check(r, &a, REG_EV_CANCEL_BOOKING, &from, &to) != 0)
        goto done;
    if (reg_sql_appt_active(r->db, id, &ap, NULL) != 0)
        goto done;
    /* Once the slot has started the appointment is kept or missed, not
     * cancelled: otherwise a missed one could be cancelled before the
     * no-show job counts it. */
    if (reg_sql_slot_get(r->db, ap.slot_id, &s, &found) != 0)
        goto done;
    if (!found || !s.future) {
        app_problem(r, 409, "slot_started", "Slot already started",
                    "An appointment can be cancelled only before its slot starts.", NULL);
        goto done;
    }
    if (reg_sql_appt_close(r->db, ap.id, "cancelled", &affected) != 0 || affected != 1 ||
        reg_sql_slot_unbook(r->db, ap.slot_id, NULL) != 0 ||
        reg_sql_app_set_state(r->db, id, from, registration_state_name(to), &affected) != 0 ||
        reg_affected(r, affected, from) != 0)
        goto done;
    if (reg_audit(r, "registration.unbook", id,
                  json_pack("{s:I}", "slot_id", (json_int_t)ap.slot_id)) != 0)
        goto done;
    rc = reply_app(r, 200, id);
done:
    reg_app_clear(&a);
    return rc;
}

void reg_on_unbook(app_req *r)
{
    reg_tx_on_id(r, tx_unbook);
}

/* ---- inspection result ---- */

typedef struct inspect_arg {
    int64_t id;
    int pass;
    char *reasons_json;
} inspect_arg;

static int tx_inspect(app_req *r, void *p)
{
    inspect_arg *v = p;
    reg_app a = {0};
    reg_appt ap;
    bool found = false;
    const char *from, *why = NULL, *by;
    registration_state to;
    uint64_t affected = 0;
    int64_t case_id, appt;
    int partner = r->who.kind == CALLER_PARTNER, rc = -1;

    /* A station terminal sees only the applications booked at its station
     * (404 otherwise); operators see any and are checked below. */
    if (reg_app_load(r, v->id, 1, &a) != 0)
        goto done;
    if (reg_check(r, &a, v->pass ? REG_EV_INSPECT_PASS : REG_EV_INSPECT_FAIL, &from, &to) != 0)
        goto done;
    if (reg_sql_appt_active(r->db, v->id, &ap, &found) != 0)
        goto done;
    if (!found) { /* appointment_booked always has one; kept as a guard */
        reg_problem_state(r, from);
        goto done;
    }
    if (r->who.outlet_id == 0 || ap.outlet_id != r->who.outlet_id) {
        app_problem(r, 403, "not_your_station", "Not your station",
                    "The appointment is at another station.", NULL);
        goto done;
    }
    /* The check happens in the booked slot, not before it: with a failed
     * vehicle booked only into a later slot, no one records a failure and
     * a pass at once. */
    if (!ap.started) {
        app_problem_ext(r, 409, "slot_not_started", "Slot not started",
                        "The result is recorded once the appointment's slot has started.", NULL,
                        json_pack("{s:s}", "starts_at", ap.starts_at));
        goto done;
    }
    appt = ap.id;
    if (reg_sql_appt_close(r->db, appt, "attended", &affected) != 0 || affected != 1)
        goto done;
    if (reg_sql_app_inspected(r->db, v->id, from, registration_state_name(to), v->reasons_json,
                              &affected) != 0 ||
        reg_affected(r, affected, from) != 0)
        goto done;
    case_id = a.case_id;
    if (case_id) {
        if (a.inspections == 0 &&
            cases_set_state(r->db, case_id, "in_progress", &why) != 0) {
            if (why)
                app_problem(r, 409, "case_refused", "Case not updated", why, NULL);
            goto done;
        }
        /* An owner who applied online brings the car: each check is a
         * visit. On the dealer path the dealer brings it; the buyer's one
         * trip was the visit to the dealer (counted at submission). */
        if (strcmp(a.channel, "app") == 0) {
            char visit[40];
            /* Each appointment kept is its own visit, even a second one at
             * the same station on the same day after a failed check. */
            snprintf(visit, sizeof visit, "appointment:%lld", (long long)appt);
            if (cases_record_visit(r->db, case_id, r->who.outlet_id, partner ? 0 : r->who.id,
                                   visit) != 0)
                goto done;
        }
    }
    by = partner ? "station" : "inspector";
    if (reg_audit(r, "registration.inspect", v->id,
                  json_pack("{s:s, s:s, s:I, s:I, s:I}", "result", v->pass ? "pass" : "fail", "by",
                            by, "outlet_id", (json_int_t)r->who.outlet_id, "appointment_id",
                            (json_int_t)appt, "slot_id", (json_int_t)ap.slot_id)) != 0)
        goto done;
    rc = reply_app(r, 200, v->id);
done:
    reg_app_clear(&a);
    return rc;
}

void reg_on_inspection(app_req *r)
{
    static const app_jfield fields[] = {{"result", JF_STRING, true, 8},
                                        {"reasons", JF_ARRAY, false, 0}};
    inspect_arg v;
    const char *result;
    json_t *reasons, *x;
    size_t i;
    int bad = 0;

    memset(&v, 0, sizeof v);
    if ((v.id = reg_param_id(r, 0)) < 0 || app_json_check(r, fields, APP_LEN(fields)) != 0)
        return;
    result = app_json_str(r, "result");
    reasons = json_object_get(r->json, "reasons");
    if (strcmp(result, "pass") != 0 && strcmp(result, "fail") != 0) {
        app_problem(r, 422, "result_unknown", "Unknown result", "result is pass or fail.",
                    "result");
        return;
    }
    v.pass = strcmp(result, "pass") == 0;
    json_array_foreach(reasons, i, x)
        bad |= !json_is_string(x) || json_string_length(x) == 0 || json_string_length(x) > 128;
    if (bad || json_array_size(reasons) > MAX_REASONS) {
        app_problem(r, 422, "reasons_format", "Invalid reasons",
                    "Up to 20 reasons of 1 to 128 characters.", "reasons");
        return;
    }
    if (v.pass && json_array_size(reasons) > 0) {
        app_problem(r, 422, "reasons_not_allowed", "A pass has no failure reasons", NULL,
                    "reasons");
        return;
    }
    if (!v.pass && json_array_size(reasons) == 0) {
        /* Every reason at once, so the owner fixes everything in one go. */
        app_problem(r, 422, "reasons_required", "A failure needs its reasons",
                    "List every reason the vehicle failed.", "reasons");
        return;
    }
    if (!v.pass)
        v.reasons_json = json_dumps(reasons, JSON_COMPACT);
    app_tx(r, tx_inspect, &v);
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
                  number ? json_string(shown) : json_null(), "owner_name", owner, "inspections",
                  (json_int_t)s->inspections, "inspection_reasons", reasons);
    free(owner);
    return o;
}

void reg_on_station_appointments(app_req *r)
{
    static const char *const states[] = {"booked", "attended", "cancelled", "no_show", NULL};
    int64_t outlet = reg_param_id(r, 0), from;
    int32_t day;
    reg_station_appt *s = NULL;
    json_t *items;
    const char *date = app_query(r, "date"), *state = app_query(r, "state");
    int known = state == NULL, n = 0;

    if (outlet < 0)
        return;
    /* A station's terminal and inspectors see their own station only. */
    if (!(r->who.kind == CALLER_OPERATOR && (r->who.roles & (ROLE_ADMIN | ROLE_SUPERVISOR))) &&
        r->who.outlet_id != outlet) {
        app_problem(r, 403, "not_your_station", "Not your station",
                    "A station sees its own appointments only.", NULL);
        return;
    }
    if (date == NULL || date_parse(date, &day) != 0) {
        app_problem(r, 400, "bad_query", "Bad query", "date=YYYY-MM-DD is required.", "date");
        return;
    }
    for (int i = 0; state && states[i]; i++)
        known |= strcmp(state, states[i]) == 0;
    if (!known) {
        app_problem(r, 400, "bad_query", "Bad query",
                    "state is booked, attended, cancelled or no_show.", "state");
        return;
    }
    if (require_station(r, outlet) != 0)
        return;
    from = (int64_t)day * 86400 - DATE_SHANGHAI_OFFSET_MINUTES * 60;
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
