/* auth_token.h - token helpers shared by auth.c, the identity module and
 * unit tests. */
#ifndef ONETRIP_AUTH_TOKEN_H
#define ONETRIP_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_OPERATOR_KID "op1"
#define AUTH_OPERATOR_ISSUER "onetrip"
#define AUTH_OPERATOR_AUDIENCE "onetrip-operators"

/* The operator-token HMAC key (32 bytes) or NULL when not configured. */
const unsigned char *auth_operator_key(void);
/* Issues an operator access token (HS256, kid op1) valid ttl_s seconds.
 * Returns a malloc'd string, or NULL when no key is configured. */
char *auth_issue_operator_token(int64_t operator_id, int64_t session_id, unsigned roles,
                                int64_t outlet_id, int ttl_s);

/* Pure helpers (unit-tested). */

/* Token times against now (all in Unix seconds): exp + skew not passed;
 * nbf (NULL when the token has none) at most now + skew; iat (NULL when
 * absent) not after now + skew; lifetime at most max_life: exp - iat, or
 * without iat exp - now - skew. 0, or -1 with *why the 401 code. */
int auth_check_times(long exp, const long *nbf, const long *iat, long now, long skew, long max_life,
                     const char **why);
/* Strict compact JWS: exactly three segments of the base64url alphabet
 * (no padding, no '+' '/' '='), each of a canonical length (len % 4 != 1)
 * with the unused bits of its last character zero; header and payload
 * non-empty (an empty signature is the unsecured form, which the caller's
 * algorithm check refuses).
 * 0 when well-formed, -1 otherwise. Call before libjwt, which is lenient. */
int auth_jws_compact_check(const char *token);
/* ES256 signature segment (base64url of R || S): 1 when S is in the upper
 * half of the P-256 order (S > n/2: the malleated twin of (R, n - S)),
 * 0 when low, -1 when it is not a 64-byte signature. */
int auth_es256_sig_high_s(const char *b64sig);
int auth_token_header(const char *token, char *alg, size_t alen, char *kid, size_t klen);
char *auth_hmac_string(const char *method, const char *path, const char *query, const char *ts,
                       const char *nonce, const void *body, size_t blen);
unsigned auth_partner_type_bit(const char *type);

#endif
