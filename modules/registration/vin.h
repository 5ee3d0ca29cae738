/* vin.h - vehicle identification number (VIN) validation.
 *
 * ISO 3779 / GB 16735: 17 characters from 0-9 and A-Z without I, O and Q
 * (they read as 1 and 0). Position 9 is a check digit: every character is
 * transliterated to a number (digits as themselves; A-H = 1-8, J-N = 1-5,
 * P = 7, R = 9, S-Z = 2-9), multiplied by its position's weight
 * (8 7 6 5 4 3 2 10 0 9 8 7 6 5 4 3 2), and the sum modulo 11 is the check
 * digit, 10 being written 'X'. GB 16735 makes the check digit mandatory for
 * every vehicle sold in China, so it is always enforced here.
 *
 * Input must already be upper case: a lower-case letter is rejected as
 * "vin_character" rather than silently folded, so that what is stored is
 * exactly what was checked (the API layer may upper-case user input before
 * calling, if it chooses to). Pure functions, thread-safe.
 */
#ifndef ONETRIP_REGISTRATION_VIN_H
#define ONETRIP_REGISTRATION_VIN_H

#define REGISTRATION_VIN_LEN 17
/* 1-based position of the check digit. */
#define REGISTRATION_VIN_CHECK_POS 9

/* Returns 0 if vin is a valid VIN, otherwise -1 with *why set to a static
 * string (why may be NULL). Checks run in this order, first failure wins:
 *   "vin_length"           NULL, or not exactly 17 bytes
 *   "vin_character"        a byte other than 0-9 / A-Z (lower case, space,
 *                          '-', any non-ASCII byte)
 *   "vin_forbidden_letter" I, O or Q anywhere
 *   "vin_check_digit"      position 9 differs from the computed check
 *                          digit (including a letter other than X there) */
int registration_vin_check(const char *vin, const char **why);

/* The check digit ('0'..'9' or 'X') that position 9 of vin17 should hold.
 * vin17 must be 17 characters of 0-9 / A-Z other than I, O, Q; the
 * character currently at position 9 is ignored (its weight is 0). Returns
 * '\0' if vin17 is NULL or does not meet that. */
char registration_vin_expected_check(const char *vin17);

#endif
