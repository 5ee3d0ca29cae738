/* identity_cli.h - `onetripd client|operator|partner ...` subcommands
 * (registered in identity_module.c). */
#ifndef ONETRIP_IDENTITY_CLI_H
#define ONETRIP_IDENTITY_CLI_H

#include "server/app.h"

#define IDENTITY_NCMDS 3
extern const app_cmd identity_cmds[IDENTITY_NCMDS];

/* Pure helpers, unit-tested. */
/* "window,supervisor" -> ROLE_* mask; 0 for an empty list or unknown role. */
unsigned identity_roles_parse(const char *list);
/* Names matching [A-Za-z0-9._-]{1,max}: 1 ok, 0 not. */
int identity_name_ok(const char *s, size_t max);
/* Checks a PEM public key for alg ("ES256": EC P-256; "RS256": RSA >= 2048
 * bits) and returns it re-encoded as a SubjectPublicKeyInfo PEM (malloc'd),
 * or NULL with a reason in *why. */
char *identity_pubkey_check(const char *pem, size_t len, const char *alg, const char **why);
/* SHA-256 of a PEM certificate's DER, lower-case hex (the fingerprint the
 * TLS layer computes for client certificates). 0 or -1. */
int identity_cert_sha256(const char *pem, size_t len, char out[65]);

#endif
