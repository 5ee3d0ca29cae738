/* config.h - one table of configuration keys (name, type, default, bounds,
 * help). Values come from the defaults, then an INI file, then environment
 * variables ONETRIP_<SECTION>_<KEY>. Loaded once at start-up, read-only
 * afterwards (so lookups from any thread need no lock). */
#ifndef ONETRIP_CONFIG_H
#define ONETRIP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "server/app.h"

/* Load defaults + file (path may be NULL) + environment. On error returns -1
 * and writes one line naming the key (or file line) into err. */
int config_load(const char *path, char *err, size_t errlen);
/* Parse INI text (for tests and config_load). src names the origin. */
int config_load_text(const char *text, const char *src, char *err, size_t errlen);
/* Reset every key to its default (tests). */
void config_reset(void);
/* Adds module keys to the table (before config_load). -1 on a duplicate. */
int config_add_keys(const app_conf *defs, int n);
/* Free every value (at exit). */
void config_free(void);
/* Apply environment overrides; env lookups through getenv. */
int config_load_env(char *err, size_t errlen);
/* Set one key from text, validating type and bounds. */
int config_set(const char *key, const char *value, const char *src, char *err, size_t errlen);
/* Check cross-key rules (e.g. TLS needs cert and key). */
int config_validate(char *err, size_t errlen);

const char *config_str(const char *key);   /* never NULL for a known key */
int64_t config_int(const char *key);
/* Print every key with its default and help (secrets shown as <secret>). */
void config_print_help(FILE *out);

#endif
