/* fuzz_partner_hmac: the pure part of the partner HMAC scheme
 * (server/auth.c): the string to sign (auth_hmac_string) from the request's
 * method, path, query, X-Onetrip-Timestamp, X-Onetrip-Nonce and body, the
 * hex signature decoder and the partner type names. The key lookup and the
 * nonce record need MariaDB and are not fuzzed.
 *
 * Input: method\npath\nquery\ntimestamp\nnonce\nsignature\nbody. */
#include "tests/fuzz/fuzz_util.h"

#include "server/auth_token.h"
#include "server/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size), *f[6], *body, *msg;
    unsigned char given[32];
    char digest[65];
    int n;

    f[0] = s;
    for (int i = 1; i < 6; i++)
        f[i] = fuzz_line(f[i - 1]);
    body = fuzz_line(f[5]);
    msg = auth_hmac_string(f[0], f[1], f[2][0] ? f[2] : NULL, f[3], f[4], body, strlen(body));
    /* five lines: method, path[?query], ts, nonce, the body's digest */
    crypto_sha256_hex(body, strlen(body), digest);
    FUZZ_ASSERT(strlen(msg) >= strlen(f[0]) + strlen(f[1]) + 64);
    FUZZ_ASSERT(strcmp(msg + strlen(msg) - 64, digest) == 0);
    free(msg);
    msg = auth_hmac_string(f[0], f[1], NULL, f[3], f[4], NULL, 0);
    free(msg);

    n = crypto_unhex(f[5], given, sizeof given);
    FUZZ_ASSERT(n <= (int)sizeof given);
    (void)auth_partner_type_bit(f[0]);
    free(s);
    return 0;
}
