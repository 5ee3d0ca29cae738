/* payments_conf.h - the payments module's configuration keys and the
 * per-channel keys loaded from them at start-up (payments_conf_init). */
#ifndef ONETRIP_PAYMENTS_CONF_H
#define ONETRIP_PAYMENTS_CONF_H

#include <stdbool.h>

#include "modules/payments/channel.h"
#include "server/app.h"

#define PAYMENTS_CONF_NKEYS 27
extern const app_conf payments_conf_keys[PAYMENTS_CONF_NKEYS];

/* Reads keys, certificates and secrets; -1 (logged) on an unreadable file
 * or a malformed key. Called once from the module's init. */
int payments_conf_init(void);
/* The loaded configuration of a channel (NULL for an unknown name). Valid
 * until exit; read-only after init, so any thread may use it. */
const pay_channel_conf *payments_conf_channel(const char *name);
/* True when the channel has what its verifier needs. */
bool payments_channel_ready(const char *name);

#endif
