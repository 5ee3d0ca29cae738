/* pii.h - personal identifiers at rest: sealed with the configured keyring
 * (AES-256-GCM, key id stored with the ciphertext) plus a keyed hash for
 * exact-match lookup. The purpose strings bind a ciphertext to its column. */
#ifndef ONETRIP_PII_H
#define ONETRIP_PII_H

#include <stddef.h>
#include "server/crypto.h"

#define PII_ID_NUMBER "citizen.id_number"
#define PII_PHONE "citizen.phone"

/* Loads pii.keys / pii.active_key / pii.lookup_key. -1 with err. */
int pii_init(char *err, size_t errlen);
void pii_cleanup(void);
const crypto_keyring *pii_keyring(void);
/* Seal value for purpose; *out malloc'd. */
int pii_seal(const char *purpose, const char *value, unsigned char **out, size_t *outlen);
/* Open; returns malloc'd NUL-terminated plaintext or NULL. */
char *pii_open(const char *purpose, const void *sealed, size_t len);
void pii_hash(const char *purpose, const char *value, unsigned char out[32]);

#endif
