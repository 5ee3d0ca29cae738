/* fuzz_statement: a channel's reconciliation statement (pay_stmt_parse).
 * The first byte picks yuan (alipay) or fen amounts; the rest is the body,
 * binary included (the parser takes a length). */
#include "tests/fuzz/fuzz_util.h"

#include "modules/payments/money.h"
#include "modules/payments/statement.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pay_stmt st;

    if (size < 1)
        return 0;
    memset(&st, 0, sizeof st);
    pay_stmt_parse((const char *)data + 1, size - 1, data[0] & 1, &st);
    FUZZ_ASSERT(st.n >= 0 && st.nbad >= 0 && st.nbad <= st.nbad_total);
    for (int i = 0; i < st.n; i++) {
        FUZZ_ASSERT(st.lines[i].amount >= 0 && st.lines[i].amount <= MONEY_MAX_FEN);
        FUZZ_ASSERT(st.lines[i].trade_no[0] != '\0');
    }
    for (int i = 0; i < st.nbad; i++)
        FUZZ_ASSERT(st.bad[i].reason != NULL && strlen(st.bad[i].text) < sizeof st.bad[i].text);
    pay_stmt_free(&st);
    return 0;
}
