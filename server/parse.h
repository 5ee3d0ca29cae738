/* parse.h - pure parsing of request text shared by every module (no I/O,
 * thread-safe). */
#ifndef ONETRIP_PARSE_H
#define ONETRIP_PARSE_H

/* A whole number written as ASCII digits only (no sign, blanks or trailing
 * characters; leading zeros allowed), as in a path id, a limit or a cursor,
 * with a value in [min, max]. Returns 0 and sets *out, or -1 (out
 * untouched) for NULL, "", any other character or a value out of range
 * (overflow included). */
int app_parse_digits(const char *s, long long min, long long max, long long *out);

#endif
