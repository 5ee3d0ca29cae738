/* people_sql.h - reads of citizens, licences and vehicles (block on the
 * database: worker threads). Rows come back as structs (db/rows.h); the
 * caller frees their strings with the matching _clear/_free function.
 * Return 0 or -1 (error in c); *found tells whether the row exists. */
#ifndef ONETRIP_PEOPLE_SQL_H
#define ONETRIP_PEOPLE_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Text buffers hold the column's longest value: utf8mb4 takes up to four
 * bytes a character. Dates are "YYYY-MM-DD". */
typedef struct people_licence_row {
    int64_t id;
    char file_no[49];               /* CHAR(12) */
    char classes[129];              /* VARCHAR(32): "C1,D" */
    int points;
    char cycle_start[11];
    char status[16];                /* ENUM */
    char valid_from[11];
    char valid_until[11];
    char next_medical_date[11];
    bool has_next_medical_date;
    bool full_score_study;
} people_licence_row;

typedef struct people_vehicle_row {
    int64_t id;
    char plate[65];                 /* VARCHAR(16) */
    char vin[69];                   /* CHAR(17) */
    char engine_no[129];            /* VARCHAR(32) */
    char vehicle_type[33];          /* VARCHAR(8) */
    char class_required[17];        /* VARCHAR(4) */
    char use_type[16];              /* ENUM */
    char *brand, *model;
    int64_t owner_citizen_id;
    char status[16];                /* ENUM */
    char next_inspection_date[11];
    bool has_next_inspection_date;
    char registered_at[21];         /* "YYYY-MM-DDTHH:MM:SSZ" */
} people_vehicle_row;

/* Personal identifiers stay sealed (server/pii.h) in the row. */
typedef struct people_citizen_row {
    int64_t id;
    char *name;
    unsigned char *id_number_enc;
    size_t id_number_enc_len;
    unsigned char *phone_enc;       /* NULL: no phone */
    size_t phone_enc_len;
    char birth_date[11];
    bool disabled;
    char *address;
} people_citizen_row;

int people_licence_of(db_conn *c, int64_t citizen_id, people_licence_row *out, bool *found);
/* At most 500, by id; *out (NULL when *n is 0) freed with people_vehicle_rows_free. */
int people_vehicles_of(db_conn *c, int64_t citizen_id, people_vehicle_row **out, int *n);
int people_vehicle(db_conn *c, int64_t vehicle_id, people_vehicle_row *out, bool *found);
int people_citizen(db_conn *c, int64_t citizen_id, people_citizen_row *out, bool *found);
int people_citizen_by_hash(db_conn *c, const unsigned char hash[32], people_citizen_row *out,
                           bool *found);

void people_vehicle_row_clear(people_vehicle_row *v);
void people_vehicle_rows_free(people_vehicle_row *rows, int n);
void people_citizen_row_clear(people_citizen_row *c);

#endif
