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
int auth_check_times(long exp, long nbf, long iat, long now, long skew, long max_life, const char **why);
int auth_token_header(const char *token, char *alg, size_t alen, char *kid, size_t klen);
char *auth_hmac_string(const char *method, const char *path, const char *query, const char *ts,
                       const char *nonce, const void *body, size_t blen);
unsigned auth_partner_type_bit(const char *type);

#endif
