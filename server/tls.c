/* tls.c - OpenSSL server context. */
#include <openssl/err.h>
#include <stdio.h>

#include "server/tls.h"

static void ssl_reason(char *err, size_t errlen, const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, e ? buf : "unknown error");
    ERR_clear_error();
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca, char *err,
                        size_t errlen)
{
    static const unsigned char sid_ctx[] = "onetripd";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        ssl_reason(err, errlen, "https: SSL_CTX_new");
        goto fail;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
        ssl_reason(err, errlen, "https: TLS 1.2 minimum");
        goto fail;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_reason(err, errlen, "https.cert");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ssl_reason(err, errlen, "https.key");
        goto fail;
    }
    /* Resumed sessions keep their client certificate; this id scopes them. */
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    if (client_ca != NULL && client_ca[0] != '\0') {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
            if (names)
                sk_X509_NAME_pop_free(names, X509_NAME_free);
            ssl_reason(err, errlen, "https.client_ca");
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        /* Ask for a certificate, don't require one: apps and operators
         * connect without. Partners are told apart by the route's auth. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_verify_depth(ctx, 4);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}
