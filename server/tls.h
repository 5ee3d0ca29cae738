/* tls.h - the server's OpenSSL context (TLS 1.2+, optional client certs). */
#ifndef ONETRIP_TLS_H
#define ONETRIP_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

/* cert/key: PEM files; client_ca: PEM bundle or "" (no client certs asked).
 * A client certificate is optional; when sent it must chain to client_ca
 * or the handshake fails. Returns NULL with a reason in err. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca,
                        char *err, size_t errlen);

#endif
