/* fuzz_migrate: the migration file reader of db/migrate.c (statement
 * splitting and the checksum); applying needs MariaDB and is not fuzzed.
 * Every statement returned is non-empty and no longer than the file. */
#include "tests/fuzz/fuzz_util.h"

#include "db/migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size), sum[65];
    char **stmts = NULL;
    size_t len = strlen(s);
    int n;

    db_migration_checksum(s, sum);
    FUZZ_ASSERT(strlen(sum) == 64);
    n = db_split_statements(s, &stmts);
    if (n >= 0) {
        for (int i = 0; i < n; i++) {
            FUZZ_ASSERT(stmts[i] != NULL);
            FUZZ_ASSERT(stmts[i][0] != '\0');
            FUZZ_ASSERT(strlen(stmts[i]) <= len);
        }
        db_split_free(stmts, n);
    } else {
        FUZZ_ASSERT(stmts == NULL);
    }
    free(s);
    return 0;
}
