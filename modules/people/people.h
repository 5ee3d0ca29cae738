/* people.h - the people module's public interface: what other modules may
 * do to the tables people owns (citizens, licences, vehicles, outlets).
 * Other modules read those tables freely but write them only through here.
 *
 * Every call blocks on the database (worker threads) and runs inside the
 * caller's transaction (db_tx / app_tx): the caller commits or rolls back.
 * Returns 0, or -1 with the error in c (db_error: DB_ERR_DUP for a
 * duplicate key, DB_ERR_RETRY to re-run the transaction). */
#ifndef ONETRIP_PEOPLE_H
#define ONETRIP_PEOPLE_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* ---- licences ---- */

/* Sets a licence's points and scoring-cycle start ("YYYY-MM-DD"); with
 * full_score also status 'full_score' and full_score_study = 1. Bumps the
 * row's version. The caller holds the licence row locked (SELECT ... FOR
 * UPDATE in its transaction) and computed points from that row. */
int people_licence_set_points(db_conn *c, int64_t licence_id, int points, const char *cycle_start,
                              bool full_score);

/* Puts points back after a cancellation; with lift_full_score a licence
 * still 'full_score' returns to 'valid' and full_score_study is cleared.
 * Bumps the row's version. Call with the licence row locked. */
int people_licence_return_points(db_conn *c, int64_t licence_id, int points, bool lift_full_score);

/* ---- vehicles ---- */

/* A vehicle that completed registration. Strings are borrowed. */
typedef struct people_new_vehicle {
    const char *plate;                /* stored form, "浙A12345" */
    const char *vin, *engine_no;
    const char *vehicle_type, *class_required, *use_type;
    const char *brand, *model;
    int64_t owner_citizen_id;
    const char *next_inspection_date; /* "YYYY-MM-DD", or NULL for none */
} people_new_vehicle;

/* Creates the vehicle (status 'normal', registered now) and returns its
 * id. A plate, VIN or engine number already registered fails with
 * DB_ERR_DUP. */
int people_vehicle_create(db_conn *c, const people_new_vehicle *v, int64_t *id);

#endif
