/* fuzz_date: server/date.c's parsers. A date that parses formats back to
 * the same text, and a DATETIME that parses formats to a valid instant. */
#include "tests/fuzz/fuzz_util.h"

#include "server/date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    char out[DATE_STR_SIZE], iso[DATE_ISO_STR_SIZE];
    int32_t d, d2;
    time_t t;

    if (date_parse(s, &d) == 0) {
        /* "exactly YYYY-MM-DD": the text is canonical, so it round-trips */
        FUZZ_ASSERT(date_format(d, out) == 0);
        FUZZ_ASSERT(strcmp(out, s) == 0);
        FUZZ_ASSERT(date_parse(out, &d2) == 0 && d2 == d);
        (void)date_weekday(d);
    }
    if (date_parse_datetime_utc(s, &t) == 0) {
        FUZZ_ASSERT(date_format_iso8601_utc(t, iso) == 0);
        /* the date part is the input's date part */
        FUZZ_ASSERT(strncmp(iso, s, 10) == 0);
        FUZZ_ASSERT(strncmp(iso + 11, s + 11, 8) == 0);
    }
    free(s);
    return 0;
}
