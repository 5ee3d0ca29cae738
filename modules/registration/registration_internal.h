/* registration_internal.h - helpers shared by the registration module's
 * handler, job and command files. Not for other modules. */
#ifndef ONETRIP_REGISTRATION_INTERNAL_H
#define ONETRIP_REGISTRATION_INTERNAL_H

#include <jansson.h>

#include "modules/registration/registration_rules.h"
#include "modules/registration/registration_sql.h"
#include "server/app.h"

#define REG_ITEM_CODE "VEH-REG-NEW"
#define REG_MAX_LOAD 10000  /* numbers in one pool load */
#define REG_MAX_REASONS 20  /* failure reasons of one inspection */
#define REG_MAX_MATERIALS 32 /* materials listed by one application */

/* This module's configuration ("registration.offer_size" is
 * registration_conf.offer_size), bound and checked at start-up
 * (registration_module.c); read-only afterwards. */
typedef struct registration_settings {
    const char *plate_prefix, *selection, *required_materials;
    int64_t offer_size, offer_ttl_s, max_letters, reservation_days, hoarding_limit,
        hoarding_window_days, cooling_off_days, no_show_limit, no_show_window_days, no_show_bar_days;
} registration_settings;
extern registration_settings registration_conf;

/* A nullable UTC time read as text ("YYYY-MM-DDTHH:MM:SSZ"): the JSON
 * string, or JSON null when has is false. */
json_t *reg_utc_json(bool has, const char *utc);

/* Runs fn in one transaction with the {id:int} of the path (fn gets an
 * int64_t *), checked by the dispatcher before the handler ran. */
void reg_tx_on_id(app_req *r, app_tx_fn fn);

/* ---- business functions ----
 * (db, caller, input): 0, or -1 with *f set (a code of the module's error
 * table) or f->code NULL and a database error left in c. Inside the
 * caller's transaction; block (database). */

/* Application id if who may see it (citizen: owner; dealer partner: its
 * outlet's applications; station partner: those with an active
 * appointment at its station; operators: any), locked (FOR UPDATE) when
 * lock. 0 with *a filled (the caller clears it), or -1 with *a owning
 * nothing: not_found (someone else's is indistinguishable from none). */
int reg_app_find(db_conn *c, const app_principal *who, int64_t id, int lock, reg_app *a,
                 app_refusal *f);

/* A state change of an application: the route's .data (or a handler) names
 * a reg_step_def with the event and the step. The application is loaded
 * locked and the event checked (reg_app_find, reg_check), then fn makes the
 * change and writes its audit record; the answer is the application as it
 * is then, with status. */
typedef struct reg_step {
    int64_t id;             /* the application */
    reg_app a;              /* its row, locked (owned by the runner) */
    const char *from;       /* its state (points into a) */
    registration_state to;  /* the state the event leads to */
    void *arg;              /* the handler's input (NULL for reg_on_step) */
} reg_step;
typedef int (*reg_step_fn)(db_conn *c, const app_actor *a, reg_step *s, app_refusal *f);
typedef struct reg_step_def {
    registration_event ev;
    reg_step_fn fn;
    int status;             /* of the success answer */
} reg_step_def;
/* Inside a transaction: find, check and run d->fn for application id. */
int reg_step_apply(db_conn *c, const app_actor *a, const reg_step_def *d, int64_t id, void *arg,
                   app_refusal *f);
/* app_tx of reg_step_apply for the path's id, then the answer (the
 * refusal translated with app_fail_refusal). */
void reg_run_step(app_req *r, const reg_step_def *d, void *arg);
/* Handler of the routes whose .data is a reg_step_def. */
void reg_on_step(app_req *r);
/* the steps routes name (registration_http.c, _plates.c, _slots.c) */
extern const reg_step_def reg_step_submit, reg_step_cancel, reg_step_collected, reg_step_release,
    reg_step_unbook;

/* The application as the API shows it (a borrowed; new reference). */
json_t *reg_app_json(app_req *r, const reg_app *a);
/* Replies with application id as it is now (read again). 0, or -1 (db
 * error, or the row is gone). */
int reg_reply_app(app_req *r, int status, int64_t id);

/* Refuses (invalid_state, naming the current state) unless event ev is
 * allowed from the row's state; on success fills from/to. 0 or -1. */
int reg_check(const reg_app *a, registration_event ev, const char **from, registration_state *to,
              app_refusal *f);
/* After a conditional UPDATE: affected must be 1; otherwise invalid_state
 * with the state. 0 or -1. */
int reg_affected(uint64_t affected, const char *from, app_refusal *f);
/* invalid_state with {"state": current}; -1. */
int reg_refuse_state(app_refusal *f, const char *current);

/* Anti-hoarding: records a lapse or cancel of citizen's reservation and,
 * when the count within the window reaches the limit, bars plate choice
 * for the cooling-off period and writes the "registration.hoarding" audit
 * record (as a, or as the system when a is NULL). 0 or -1 (db). */
int reg_hoarding_note(db_conn *c, const app_actor *a, int64_t citizen_id, const char *kind,
                      int64_t app_id);

/* Compulsory insurance: sets the application's insurance_status from the
 * policies insurers pushed - "confirmed" (with that policy) when one for
 * vin carries policy_no, "mismatch" when vin is insured under other numbers
 * only, "unconfirmed" when no insurer has pushed one yet, "none" without a
 * policy number. *status is a static string. 0 or -1 (db). */
int reg_insurance_match(db_conn *c, int64_t app_id, const char *vin, const char *policy_no,
                        const char **status);

/* Releases whatever the application holds (plate, appointment place),
 * used by cancel and by the expiry job. 0 or -1 (db). */
int reg_release_holdings(db_conn *c, int64_t app_id);

/* handlers (registration_http.c) */
void reg_on_create(app_req *r);
void reg_on_list(app_req *r);
void reg_on_get(app_req *r);
void reg_on_update(app_req *r);
void reg_on_complete(app_req *r);
void reg_on_mail_list(app_req *r);
void reg_on_mail_dispatch(app_req *r);
/* registration_plates.c */
void reg_on_pool_load(app_req *r);
void reg_on_pool_get(app_req *r);
/* block or unblock: the route's data is an int, 1 to block */
void reg_on_plate_block(app_req *r);
void reg_on_reserve(app_req *r);
/* GET: the live offer as it stands (a pure read); POST: draws one unless
 * one is live */
void reg_on_offer_get(app_req *r);
void reg_on_offer_draw(app_req *r);
/* registration_slots.c */
void reg_on_stations(app_req *r);
void reg_on_slots_publish(app_req *r);
void reg_on_slots_list(app_req *r);
void reg_on_inspection(app_req *r);
void reg_on_book(app_req *r);
void reg_on_station_appointments(app_req *r);
/* registration_insurance.c */
void reg_on_policy_push(app_req *r);
/* registration_jobs.c */
/* Module init: checks registration.selection; -1 (logged) stops start-up. */
int reg_init(void);
int reg_job_plate_expiry(app_job_ctx *ctx, int64_t *count);
int reg_job_no_shows(app_job_ctx *ctx, int64_t *count);
int reg_cmd_plates(db_conn *db, int argc, char **argv);

#endif
