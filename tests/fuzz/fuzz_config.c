/* fuzz_config: the configuration file reader (server/config.c,
 * config_load_text) with every module's keys declared, as onetripd's
 * main() declares them, then the cross-key checks (config_validate).
 * Each run starts from the defaults. */
#include "tests/fuzz/fuzz_util.h"

#include "server/config.h"
#include "server/modules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512] = "";
    for (int i = 0; i < modules_count; i++)
        if (modules_all[i]->nconf > 0 &&
            (config_check_keys(modules_all[i]->conf, modules_all[i]->nconf, err, sizeof err) != 0 ||
             config_add_keys(modules_all[i]->conf, modules_all[i]->nconf) != 0)) {
            fprintf(stderr, "fuzz_config: module %s: %s\n", modules_all[i]->name, err);
            abort();
        }
    config_reset();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size), err[512];

    err[0] = '\0';
    if (config_load_text(s, "fuzz.conf", err, sizeof err) == 0) {
        err[0] = '\0';
        if (config_validate(err, sizeof err) != 0)
            FUZZ_ASSERT(err[0] != '\0');
    } else {
        FUZZ_ASSERT(err[0] != '\0');
    }
    config_reset();
    free(s);
    return 0;
}
