/* fuzz_money: money_parse_yuan (channel amounts, statements) and
 * app_parse_int (query and path integers). Parsed amounts format back to
 * an equal amount; parsed integers lie in the asked range. */
#include "tests/fuzz/fuzz_util.h"

#include "modules/payments/money.h"
#include "server/app.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size), out[MONEY_STR_SIZE];
    const char *why = NULL;
    int64_t fen = -1, back = -1, v = -1;

    if (money_parse_yuan(s, &fen, &why) == 0) {
        FUZZ_ASSERT(fen >= 0 && fen <= MONEY_MAX_FEN);
        money_format_yuan(fen, out);
        FUZZ_ASSERT(money_parse_yuan(out, &back, NULL) == 0 && back == fen);
    } else {
        FUZZ_ASSERT(why != NULL);
    }
    if (app_parse_int(s, 1, 100, &v) == 0)
        FUZZ_ASSERT(v >= 1 && v <= 100);
    if (app_parse_int(s, 0, INT64_MAX, &v) == 0)
        FUZZ_ASSERT(v >= 0);
    free(s);
    return 0;
}
