/* crypto_ed25519.c - Ed25519 through OpenSSL 3 EVP (see crypto_ed25519.h).
 * Ed25519 is used one-shot (EVP_DigestSign with no digest): the message is
 * hashed inside the algorithm. */
#include "server/crypto_ed25519.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

static const unsigned char empty_msg = 0;

int crypto_ed25519_public(const unsigned char seed[32], unsigned char pub[32])
{
    EVP_PKEY *k = NULL;
    size_t len = 32;
    int rc = -1;

    ERR_set_mark();
    k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
    if (k == NULL || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != 32)
        goto fail;
    rc = 0;
fail:
    EVP_PKEY_free(k);
    ERR_pop_to_mark();
    return rc;
}

int crypto_ed25519_sign(const unsigned char seed[32], const void *msg, size_t n,
                        unsigned char sig[64])
{
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *md = NULL;
    size_t len = 64;
    int rc = -1;

    ERR_set_mark();
    if ((k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32)) == NULL ||
        (md = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1 ||
        EVP_DigestSign(md, sig, &len, msg != NULL ? msg : &empty_msg, n) != 1 || len != 64)
        goto fail;
    rc = 0;
fail:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    ERR_pop_to_mark();
    return rc;
}

int crypto_ed25519_verify(const unsigned char pub[32], const void *msg, size_t n, const void *sig,
                          size_t siglen)
{
    EVP_PKEY *k = NULL;
    EVP_MD_CTX *md = NULL;
    int rc = -1;

    ERR_set_mark();
    if ((k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32)) == NULL ||
        (md = EVP_MD_CTX_new()) == NULL || EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1)
        goto fail;
    /* The key is usable: from here every failure means "invalid". */
    rc = 0;
    if (sig == NULL || siglen != 64)
        goto fail;
    if (EVP_DigestVerify(md, sig, siglen, msg != NULL ? msg : &empty_msg, n) == 1)
        rc = 1;
fail:
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(k);
    ERR_pop_to_mark();
    return rc;
}

char *crypto_ed25519_public_pem(const unsigned char pub[32])
{
    EVP_PKEY *k = NULL;
    BIO *bio = NULL;
    BUF_MEM *mem = NULL;
    char *out = NULL;

    ERR_set_mark();
    if ((k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32)) == NULL ||
        (bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(bio, k) != 1)
        goto fail;
    BIO_get_mem_ptr(bio, &mem);
    if (mem == NULL || (out = malloc(mem->length + 1)) == NULL)
        goto fail;
    memcpy(out, mem->data, mem->length);
    out[mem->length] = '\0';
fail:
    BIO_free(bio);
    EVP_PKEY_free(k);
    ERR_pop_to_mark();
    return out;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

int crypto_ed25519_public_from_pem(const char *pem, unsigned char pub[32])
{
    BIO *bio = NULL;
    EVP_PKEY *k = NULL;
    size_t len = 32;
    int rc = -1;

    ERR_set_mark();
    if (pem == NULL || (bio = BIO_new_mem_buf(pem, -1)) == NULL ||
        (k = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL)) == NULL ||
        !EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 ||
        len != 32)
        goto fail;
    rc = 0;
fail:
    EVP_PKEY_free(k);
    BIO_free(bio);
    ERR_pop_to_mark();
    return rc;
}
