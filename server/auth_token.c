/* auth_token.c - issuing operator tokens with libjwt. */
#include <jwt.h>
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
