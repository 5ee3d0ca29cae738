/* money.h - yuan amount strings <-> integer fen.
 *
 * All money in onetrip is int64_t fen (1 yuan = 100 fen); floating point is
 * never used, because channel amounts such as "0.1" + "0.2" must add up
 * exactly. This file converts the decimal yuan strings that payment
 * channels send and expect (Alipay total_amount, bank files, receipts).
 *
 * Pure functions, thread-safe, no allocation.
 */
#ifndef ONETRIP_PAYMENTS_MONEY_H
#define ONETRIP_PAYMENTS_MONEY_H

#include <stdint.h>

/* Largest amount money_parse_yuan accepts: 10^13 fen = 100 000 000 000.00
 * yuan, far above any real payment; the guard is there so that sums of a
 * few million amounts can never overflow int64_t. */
#define MONEY_MAX_FEN INT64_C(10000000000000)

/* Buffer size for money_format_yuan, including the NUL (the longest output,
 * for INT64_MIN, is 21 characters). */
#define MONEY_STR_SIZE 32

/* Parse a non-negative yuan amount in canonical decimal form:
 *
 *   "0" | [1-9][0-9]*  optionally followed by '.' and one or two digits
 *
 * Accepts "0", "100", "100.1" (10010 fen), "100.10", "0.01". Anything else
 * is rejected with -1, *fen untouched and *why set to a static string:
 *   "money_empty"        NULL or ""
 *   "money_sign"         leading '+' or '-' (amounts are never signed)
 *   "money_integer"      no digit before '.', e.g. ".5"
 *   "money_leading_zero" "01", "00.1" (a lone "0" is fine)
 *   "money_fraction"     '.' without digits or with more than two: "1.",
 *                        "100.101"
 *   "money_character"    anything else: space, ',', 'e', 'x', a second
 *                        '.', non-ASCII digits ("１"), ...
 *   "money_range"        more than MONEY_MAX_FEN
 * Syntax is checked before range, so a long malformed string reports the
 * syntax error. why may be NULL; fen may be NULL (validation only). */
int money_parse_yuan(const char *s, int64_t *fen, const char **why);

/* Format fen as yuan with exactly two decimals: 10010 -> "100.10",
 * 1 -> "0.01", 0 -> "0.00", -150 -> "-1.50". Defined for every int64_t.
 * out must hold MONEY_STR_SIZE bytes. For 0 <= fen <= MONEY_MAX_FEN,
 * money_parse_yuan(money_format_yuan(fen)) == fen. */
void money_format_yuan(int64_t fen, char out[MONEY_STR_SIZE]);

#endif
