/* crypto.h - thin wrappers over OpenSSL EVP for onetrip.
 * Nothing here is hand-written crypto: every primitive is OpenSSL's.
 * All functions are thread-safe and never block on I/O.
 * Return 0 on success and -1 on failure unless stated otherwise.
 */
#ifndef ONETRIP_CRYPTO_H
#define ONETRIP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hex encode (lower case); out must hold 2*n+1 bytes. */
void crypto_hex(const void *in, size_t n, char *out);
/* Decode hex (either case); returns bytes written or -1. */
int crypto_unhex(const char *hex, void *out, size_t outcap);
/* The value of one hex digit (either case), or -1. */
int crypto_hexval(char c);

/* base64url without padding (JWT style) and standard base64.
 * Results are malloc'd and NUL-terminated; *outlen may be NULL. */
char *crypto_b64url_encode(const void *in, size_t n);
unsigned char *crypto_b64url_decode(const char *in, size_t *outlen);
char *crypto_b64_encode(const void *in, size_t n);
unsigned char *crypto_b64_decode(const char *in, size_t *outlen); /* NULL if malformed */

void crypto_sha256(const void *in, size_t n, unsigned char out[32]);
void crypto_sha256_hex(const void *in, size_t n, char out[65]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *in, size_t n,
                        unsigned char out[32]);
/* Constant-time comparison; true when equal (lengths must match too). */
bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Cryptographically strong random bytes (RAND_bytes). */
int crypto_random(void *out, size_t n);
/* Random token of n bytes, hex encoded into out (2n+1 bytes). */
int crypto_random_hex(size_t n, char *out);

/* ---- passwords: PBKDF2-HMAC-SHA256 ---------------------------------------
 * Stored form: "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>".
 * crypto_password_hash uses a fresh 16-byte salt; out gets a malloc'd string.
 * crypto_password_verify returns 1 match, 0 mismatch, -1 malformed stored. */
#define CRYPTO_PBKDF2_ITERATIONS 600000
int crypto_password_hash(const char *password, int iterations, char **out);
int crypto_password_verify(const char *password, const char *stored);

/* ---- personal data: AES-256-GCM with key ids ----------------------------
 * A keyring holds up to 16 keys (id 1..255, 32 bytes each) and one HMAC key
 * for lookups. Sealed form (binary): [1 byte key id][12 bytes nonce]
 * [ciphertext][16 bytes tag]. The AAD binds the value to its purpose
 * (e.g. "citizen.id_number") so ciphertexts cannot be swapped across columns.
 */
typedef struct crypto_keyring crypto_keyring;
/* spec: "1:<64 hex>,2:<64 hex>"; active: id used for new seals;
 * lookup_key_hex: 64 hex chars. Returns NULL with reason in *why. */
crypto_keyring *crypto_keyring_new(const char *spec, int active,
                                   const char *lookup_key_hex, const char **why);
void crypto_keyring_free(crypto_keyring *k);
/* Seal plaintext; *out malloc'd, *outlen set. */
int crypto_seal(const crypto_keyring *k, const char *aad, const void *pt, size_t ptlen,
                unsigned char **out, size_t *outlen);
/* Open a sealed value with the key its id names; *out malloc'd and
 * NUL-terminated (the plaintext may be text). -1 if tampered/unknown key. */
int crypto_open(const crypto_keyring *k, const char *aad, const void *sealed, size_t len,
                unsigned char **out, size_t *outlen);
/* Keyed hash for exact-match lookup: HMAC-SHA256(lookup key, purpose || 0 ||
 * normalized value), 32 bytes. */
void crypto_lookup_hash(const crypto_keyring *k, const char *purpose, const char *value,
                        unsigned char out[32]);

/* ---- masking for output and logs -----------------------------------------
 * ID number: keep first 6 and last 4 ("330102********1234"); phone: first 3
 * and last 4 ("138****5678"); name: first character (UTF-8 aware) + "*"s per
 * remaining character. Shorter inputs are masked entirely with '*'.
 * Results are malloc'd. */
char *crypto_mask_id(const char *id);
char *crypto_mask_phone(const char *phone);
char *crypto_mask_name(const char *name);

/* ---- signatures (PEM keys) ------------------------------------------------ */
/* Verify an RSA PKCS#1 v1.5 SHA-256 signature (RSA2/SHA256withRSA, WeChat
 * v3) with a PEM public key or certificate. Returns 1 valid, 0 invalid,
 * -1 bad key. */
int crypto_rsa_sha256_verify(const char *pem, const void *msg, size_t n,
                             const void *sig, size_t siglen);
/* Sign with a PEM private key (for simulators and tests); *sig malloc'd. */
int crypto_rsa_sha256_sign(const char *pem_priv, const void *msg, size_t n,
                           unsigned char **sig, size_t *siglen);
/* AES-256-GCM decrypt (WeChat v3 resource): key 32 bytes, nonce any length,
 * tag = last 16 bytes of ct. *out malloc'd and NUL-terminated. */
int crypto_aes256gcm_decrypt(const unsigned char key[32], const void *nonce, size_t nlen,
                             const void *aad, size_t aadlen, const void *ct, size_t ctlen,
                             unsigned char **out, size_t *outlen);
int crypto_aes256gcm_encrypt(const unsigned char key[32], const void *nonce, size_t nlen,
                             const void *aad, size_t aadlen, const void *pt, size_t ptlen,
                             unsigned char **out, size_t *outlen); /* ct||tag */

#endif
