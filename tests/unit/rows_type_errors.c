/* Compile-time checks of db/rows.h: a column macro refuses a field of the
 * wrong C type. Built by CTest (tests/CMakeLists.txt) once without a case,
 * which must compile, and once per case, which must NOT compile. Not linked
 * and not a Check suite (the name does not start with check_). time_t and
 * int64_t are the same type on this platform, so those two cannot be told
 * apart. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db/rows.h"

typedef struct row {
    int64_t id;
    int small;
    bool flag;
    char code[8];
    char *name;
    unsigned char *data;
    size_t data_len;
    int data_len_int;
    time_t at;
    char at_utc[21];
    char at_short[20];
    bool has_id;
    int has_int;
} row;

static const db_col COLS[] = {
    DBR_I64(row, id),
    DBR_I32(row, small),
    DBR_BOOL(row, flag),
    DBR_CHARS(row, code),
    DBR_STR(row, name),
    DBR_BLOB(row, data, data_len),
    DBR_TIME(row, at),
    DBR_UTC(row, at_utc),
    DBR_I64_NULL(row, id, has_id),
#if defined(I64_INTO_INT)
    DBR_I64(row, small),
#elif defined(I32_INTO_I64)
    DBR_I32(row, id),
#elif defined(CHARS_INTO_POINTER)
    DBR_CHARS(row, name),
#elif defined(STR_INTO_ARRAY)
    DBR_STR(row, code),
#elif defined(BLOB_LEN_NOT_SIZE_T)
    DBR_BLOB(row, data, data_len_int),
#elif defined(UTC_BUFFER_TOO_SHORT)
    DBR_UTC(row, at_short),
#elif defined(BOOL_INTO_INT)
    DBR_BOOL(row, small),
#elif defined(HAS_FLAG_NOT_BOOL)
    DBR_I64_NULL(row, id, has_int),
#endif
};
static const db_row_spec ROW = DB_ROW_SPEC(row, COLS);

const db_row_spec *rows_type_errors_spec(void);
const db_row_spec *rows_type_errors_spec(void)
{
    return &ROW;
}
