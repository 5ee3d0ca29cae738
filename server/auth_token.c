/* auth_token.c - issuing operator tokens with libjwt, and the strict checks
 * of a compact JWS that run before libjwt sees one. */
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/app.h"
#include "server/auth_token.h"
#include "server/crypto.h"

char *auth_issue_operator_token(int64_t operator_id, int64_t session_id, unsigned roles,
                                int64_t outlet_id, int ttl_s)
{
    const unsigned char *key = auth_operator_key();
    jwt_t *jwt = NULL;
    char *out = NULL, *tok = NULL, sub[32], jti[33];
    long now = (long)time(NULL);

    if (key == NULL || jwt_new(&jwt) != 0)
        goto done;
    snprintf(sub, sizeof sub, "op:%lld", (long long)operator_id);
    crypto_random_hex(16, jti);
    if (jwt_set_alg(jwt, JWT_ALG_HS256, key, 32) != 0 || jwt_add_header(jwt, "kid", AUTH_OPERATOR_KID) != 0 ||
        jwt_add_grant(jwt, "iss", AUTH_OPERATOR_ISSUER) != 0 ||
        jwt_add_grant(jwt, "aud", AUTH_OPERATOR_AUDIENCE) != 0 || jwt_add_grant(jwt, "sub", sub) != 0 ||
        jwt_add_grant(jwt, "jti", jti) != 0 || jwt_add_grant_int(jwt, "iat", now) != 0 ||
        jwt_add_grant_int(jwt, "nbf", now) != 0 || jwt_add_grant_int(jwt, "exp", now + ttl_s) != 0 ||
        jwt_add_grant_int(jwt, "sid", (long)session_id) != 0 ||
        jwt_add_grant_int(jwt, "roles", (long)roles) != 0 ||
        jwt_add_grant_int(jwt, "outlet", (long)outlet_id) != 0)
        goto done;
    tok = jwt_encode_str(jwt);
    if (tok)
        out = app_strdup(tok);
done:
    if (tok)
        free(tok); /* libjwt 1.10 allocates with malloc */
    jwt_free(jwt);
    return out;
}


/* One segment [p, p + n): base64url digits only, a length an unpadded
 * encoding can have, and no bits set past the data (RFC 4648 3.5: "AB" and
 * "AC" would otherwise both decode to the same byte). */
static int segment_ok(const char *p, size_t n)
{
    int last;

    if (n == 0)
        return 1;
    if (n % 4 == 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (crypto_b64_digit((unsigned char)p[i], true) < 0)
            return 0;
    last = crypto_b64_digit((unsigned char)p[n - 1], true);
    if (n % 4 == 2)
        return (last & 0x0f) == 0; /* 2 + 4 unused bits */
    if (n % 4 == 3)
        return (last & 0x03) == 0; /* 4 + 2 unused bits */
    return 1;
}

int auth_jws_compact_check(const char *token)
{
    const char *p = token, *dot;
    int segments = 0;

    if (token == NULL)
        return -1;
    for (;;) {
        size_t n;
        dot = strchr(p, '.');
        n = dot ? (size_t)(dot - p) : strlen(p);
        /* Header and payload are never empty; an empty signature is the
         * unsecured form ("alg": "none"), refused later by the alg check. */
        if ((n == 0 && segments < 2) || !segment_ok(p, n))
            return -1;
        segments++;
        if (dot == NULL)
            break;
        if (segments == 3)
            return -1; /* a fourth segment */
        p = dot + 1;
    }
    return segments == 3 ? 0 : -1;
}

int auth_es256_sig_high_s(const char *b64sig)
{
    size_t len = 0;
    unsigned char *sig = crypto_b64url_decode(b64sig, &len);
    EC_GROUP *g = NULL;
    BIGNUM *s = NULL, *half = NULL;
    int rc = -1;

    /* RFC 7518 3.4: exactly R || S, 32 bytes each for P-256. */
    if (sig == NULL || len != 64)
        goto done;
    g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    s = BN_bin2bn(sig + 32, 32, NULL);
    half = BN_new();
    if (g == NULL || s == NULL || half == NULL || !BN_rshift1(half, EC_GROUP_get0_order(g)))
        abort(); /* allocation failure or a broken library */
    /* n is odd: S > floor(n/2) is the upper half, whose twin n - S is low. */
    rc = BN_cmp(s, half) > 0 ? 1 : 0;
done:
    BN_free(half);
    BN_free(s);
    EC_GROUP_free(g);
    free(sig);
    return rc;
}
