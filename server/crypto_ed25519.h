/* crypto_ed25519.h - Ed25519 signatures (RFC 8032) through OpenSSL 3 EVP,
 * used to sign audit checkpoints.
 *
 * A private key is its 32-byte seed, a public key its 32 raw bytes (the
 * forms RFC 8032 defines), so both fit in a hex configuration value.
 * Thread-safe, no I/O. Return 0 on success and -1 on failure unless stated
 * otherwise. */
#ifndef ONETRIP_CRYPTO_ED25519_H
#define ONETRIP_CRYPTO_ED25519_H

#include <stddef.h>

#define CRYPTO_ED25519_KEY_LEN 32
#define CRYPTO_ED25519_SIG_LEN 64

/* The public key of a private key (seed). */
int crypto_ed25519_public(const unsigned char seed[32], unsigned char pub[32]);
/* Signs msg (n bytes, msg may be NULL when n is 0) into sig. */
int crypto_ed25519_sign(const unsigned char seed[32], const void *msg, size_t n,
                        unsigned char sig[64]);
/* Returns 1 valid, 0 invalid (including a signature of the wrong length),
 * -1 when the key itself is unusable. */
int crypto_ed25519_verify(const unsigned char pub[32], const void *msg, size_t n, const void *sig,
                          size_t siglen);
/* The public key as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) block, the
 * form OpenSSL, node's crypto.createPublicKey and most tools read.
 * malloc'd; NULL on failure. */
char *crypto_ed25519_public_pem(const unsigned char pub[32]);
/* Reads a PEM "PUBLIC KEY" block holding an Ed25519 key; -1 when it is
 * malformed or another key type. */
int crypto_ed25519_public_from_pem(const char *pem, unsigned char pub[32]);

#endif
