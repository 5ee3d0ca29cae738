/* catalog_item.h - pure helpers of the catalog module (no I/O). */
#ifndef ONETRIP_CATALOG_ITEM_H
#define ONETRIP_CATALOG_ITEM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool catalog_is_channel(const char *s);
bool catalog_is_category(const char *s);
/* Item codes: 2..32 of A-Z, 0-9 and '-' (not first). */
bool catalog_code_ok(const char *code);

/* Largest single fee (10^12 fen): any sum of fees a request can carry
 * stays far from int64 overflow. */
#define CATALOG_MAX_FEE_FEN 1000000000000LL
/* Materials, fees and steps are each stored as JSON text in a TEXT column. */
#define CATALOG_MAX_TEXT_BYTES 65535u

/* Checks the business content of an item body (types were checked by
 * app_json_check): category, channels (known, no duplicates), trips 0..1,
 * 0 <= promised_days <= statutory_days <= 365, materials [{name, key,
 * commitment?, note? (string of at most 1000 bytes)}] with unique names,
 * fees [{name, 0 <= fen <= CATALOG_MAX_FEE_FEN}], steps (non-empty
 * strings); each list at most CATALOG_MAX_TEXT_BYTES as compact JSON. On success writes the channels as "a,b" into
 * channels_out and returns 0; else -1 with a stable *why and the *field. */
int catalog_item_validate(json_t *body, char *channels_out, size_t cap, const char **why,
                          const char **field);

/* Yuan text of an amount in fen: 1050 -> "10.50". */
void catalog_format_fen(int64_t fen, char out[32]);

typedef struct catalog_notice_in {
    const char *code, *name, *channels, *materials, *fees, *steps, *legal_basis, *sample_form;
    int version, trips, statutory_days, promised_days;
    bool allow_missing, allow_commitment;
} catalog_notice_in;

/* The printable one-time notice as one UTF-8 HTML page (malloc'd); every
 * catalog text is HTML-escaped. */
char *catalog_notice_html(const catalog_notice_in *in);

#endif
