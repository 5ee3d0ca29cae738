/* plate_rules.h - syntax of ordinary Chinese licence plates (GA 36).
 *
 * A full plate is a prefix and a number, e.g. "浙A" + "12345", displayed as
 * "浙A·12345". The prefix is one province abbreviation (a CJK character,
 * 3 bytes of UTF-8) followed by the issuing office's letter; the number is
 * five characters of digits and letters. I and O are never used (they read
 * as 1 and 0). Only the five-character number of ordinary plates is
 * covered: six-character new-energy numbers are not accepted here.
 *
 * Strings are UTF-8 and NUL-terminated. Letters must already be upper case;
 * lower case is rejected, never folded. Pure functions, thread-safe.
 */
#ifndef ONETRIP_REGISTRATION_PLATE_RULES_H
#define ONETRIP_REGISTRATION_PLATE_RULES_H

#include <stddef.h>

#define REGISTRATION_PLATE_NUMBER_LEN 5
/* Bytes of a prefix: a 3-byte UTF-8 province character and one letter. */
#define REGISTRATION_PLATE_PREFIX_BYTES 4
/* Buffer size that always holds registration_plate_format's output for a
 * valid prefix and number (4 + 2 for U+00B7 + 5 + NUL = 12). */
#define REGISTRATION_PLATE_FORMAT_SIZE 16

/* Check a plate number: exactly five characters, each 0-9 or A-Z except I
 * and O, with at most max_letters letters (the allocation series decides
 * how many; values below 0 act as 0 and above 5 as 5). Returns 0, or -1
 * with *why (may be NULL) set to the first failing rule in this order:
 *   "plate_length"           NULL, or not exactly 5 bytes (so any
 *                            non-ASCII character also fails here or below)
 *   "plate_character"        a byte other than 0-9 / A-Z (lower case, '·',
 *                            space, non-ASCII)
 *   "plate_forbidden_letter" I or O
 *   "plate_too_many_letters" more letters than max_letters */
int registration_plate_number_check(const char *number, int max_letters, const char **why);

/* Check a plate prefix: exactly one of the 31 province abbreviations
 * 京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼 followed by
 * one letter A-Z other than I and O, and nothing else. Returns 0, or -1 with
 * *why = "plate_prefix" (why may be NULL) for anything else, NULL included. */
int registration_plate_prefix_check(const char *prefix, const char **why);

/* Write prefix "·" number (U+00B7 MIDDLE DOT, as printed on documents),
 * e.g. "浙A·12345", into out (cap bytes, NUL included). Does not validate;
 * NULL prefix or number is treated as "". If the result does not fit, out
 * gets the empty string (when cap > 0) rather than a truncated plate that
 * could be mistaken for another vehicle or end in half a UTF-8 character. */
void registration_plate_format(const char *prefix, const char *number, char *out, size_t cap);

#endif
