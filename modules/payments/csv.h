/* csv.h - building CSV text (RFC 4180) for reports opened in spreadsheets.
 *
 * Fields holding a comma, a double quote, CR or LF are quoted, with inner
 * quotes doubled; rows end with CRLF. A text field that a spreadsheet would
 * read as a formula (first character = + - @, tab or CR) gets a leading
 * apostrophe (OWASP "CSV injection"). Not thread-safe per buffer; aborts
 * when out of memory. */
#ifndef ONETRIP_PAYMENTS_CSV_H
#define ONETRIP_PAYMENTS_CSV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct pay_csv {
    char *buf;       /* NUL-terminated; owned, free with pay_csv_free */
    size_t len;
    size_t cap;
    bool in_row;     /* a field was added to the current row */
} pay_csv;

/* Starts an empty buffer ({0} is one too). */
void pay_csv_init(pay_csv *b);
/* Adds one field to the current row (NULL = empty field). text: apply the
 * formula guard (off for numbers we wrote ourselves, e.g. "-5"). */
void pay_csv_field(pay_csv *b, const char *s, bool text);
/* Ends the current row with CRLF. */
void pay_csv_end_row(pay_csv *b);
/* Releases the buffer; b is empty afterwards. */
void pay_csv_free(pay_csv *b);

#endif
