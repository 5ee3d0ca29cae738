/* seed.c - placeholder until the generator lands. */
#include <stdio.h>
#include "db/seed.h"

int seed_run(db_conn *c, const seed_opts *o, int64_t *loaded, char *err, size_t errlen)
{
    (void)c;
    (void)o;
    *loaded = 0;
    snprintf(err, errlen, "seed is not implemented yet");
    return -1;
}
