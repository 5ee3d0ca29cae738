/* catalog.h - the service catalog as other modules see it (the cases
 * module files every case under an item's current version).
 *
 * Lookups block (database) and run on the caller's connection, inside its
 * transaction if it has one. Return 0 (with *found telling whether the item
 * or version exists) or -1 with the error left in c. */
#ifndef ONETRIP_CATALOG_H
#define ONETRIP_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

typedef struct catalog_ref {
    int64_t version_id;      /* catalog_versions.id */
    int version;             /* 1, 2, ... per item */
    char code[129];          /* VARCHAR(32), utf8mb4: up to 128 bytes */
    char name[513];          /* VARCHAR(128) */
    char category[16];       /* vehicle | driver | violation | permit */
    char channels[96];       /* "app,window,dealer" */
    int trips;               /* 0 or 1 */
    int statutory_days;
    int promised_days;       /* working days */
    bool allow_missing;      /* acceptance with non-key materials missing */
    bool allow_commitment;   /* a signed commitment may replace some proofs */
    char *materials;         /* JSON array text, malloc'd (catalog_ref_clear frees) */
} catalog_ref;

/* The current version of item code. */
int catalog_current(db_conn *c, const char *code, catalog_ref *out, bool *found);
/* A given version (as filed in a case). */
int catalog_version_get(db_conn *c, int64_t version_id, catalog_ref *out, bool *found);
void catalog_ref_clear(catalog_ref *r);

/* Pure: is channel one of the comma-separated channels? */
bool catalog_channel_offered(const char *channels, const char *channel);
/* Pure: the material named name in a materials JSON array; its flags go to
 * *key and *commitment. Returns false when absent. */
bool catalog_material_find(const char *materials_json, const char *name, bool *key, bool *commitment);

#endif
