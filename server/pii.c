/* pii.c - the process keyring for personal data (see pii.h). */
#include <stdio.h>
#include <stdlib.h>

#include "server/app.h"
#include "server/config.h"
#include "server/pii.h"

static crypto_keyring *keyring;

int pii_init(char *err, size_t errlen)
{
    const char *why = NULL;
    if (keyring)
        return 0;
    keyring = crypto_keyring_new(server_conf.pii.keys, (int)server_conf.pii.active_key,
                                 server_conf.pii.lookup_key, &why);
    if (keyring == NULL) {
        snprintf(err, errlen, "pii.keys / pii.lookup_key: %s", why ? why : "invalid");
        return -1;
    }
    return 0;
}

void pii_cleanup(void)
{
    crypto_keyring_free(keyring);
    keyring = NULL;
}

const crypto_keyring *pii_keyring(void)
{
    return keyring;
}

int pii_seal(const char *purpose, const char *value, unsigned char **out, size_t *outlen)
{
    size_t n = 0;
    while (value[n])
        n++;
    return crypto_seal(keyring, purpose, value, n, out, outlen);
}

char *pii_open(const char *purpose, const void *sealed, size_t len)
{
    unsigned char *out = NULL;
    size_t outlen = 0;
    if (crypto_open(keyring, purpose, sealed, len, &out, &outlen) != 0)
        return NULL;
    return (char *)out;
}

void pii_hash(const char *purpose, const char *value, unsigned char out[32])
{
    crypto_lookup_hash(keyring, purpose, value, out);
}
