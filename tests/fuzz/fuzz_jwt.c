/* fuzz_jwt: the compact-form checks run on a bearer token before libjwt
 * sees it (server/auth.c, auth_token.h): auth_jws_compact_check,
 * auth_token_header, auth_es256_sig_high_s and the base64url decoder.
 * Verification itself needs the keys a database registers: not fuzzed. */
#include "tests/fuzz/fuzz_util.h"

#include "server/auth_token.h"
#include "server/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size), alg[16], kid[64];
    const char *last;
    unsigned char *raw;
    size_t rawlen = 0;

    if (auth_jws_compact_check(s) == 0) {
        /* well-formed: three segments of the base64url alphabet, which decode */
        const char *d1 = strchr(s, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
        FUZZ_ASSERT(d1 && d2 && strchr(d2 + 1, '.') == NULL);
        FUZZ_ASSERT(d1 > s && d2 > d1 + 1);
        for (const char *p = s; *p; p++)
            FUZZ_ASSERT(*p == '.' || crypto_b64_digit((unsigned char)*p, true) >= 0);
    }
    if (auth_token_header(s, alg, sizeof alg, kid, sizeof kid) == 0) {
        FUZZ_ASSERT(strlen(alg) < sizeof alg);
        FUZZ_ASSERT(strlen(kid) < sizeof kid);
    }
    last = strrchr(s, '.');
    {
        int h = auth_es256_sig_high_s(last ? last + 1 : s);
        FUZZ_ASSERT(h >= -1 && h <= 1);
    }
    raw = crypto_b64url_decode(s, &rawlen);
    if (raw) {
        /* what decodes re-encodes to a string that decodes to the same bytes */
        char *again = crypto_b64url_encode(raw, rawlen);
        size_t len2 = 0;
        unsigned char *raw2 = crypto_b64url_decode(again, &len2);
        FUZZ_ASSERT(raw2 && len2 == rawlen && memcmp(raw, raw2, rawlen) == 0);
        free(raw2);
        free(again);
        free(raw);
    }
    free(s);
    return 0;
}
