/* cases_figures.h - the reform's figures: pure arithmetic and CSV.
 *
 * Population: cases COMPLETED in the period (by completion day, Shanghai).
 *   one-trip rate      completed with at most one trip / completed
 *   zero-trip rate     completed with no trip / completed
 *   online rate        completed filed through the app / completed
 *   on-time rate       completed on or before their deadline / completed
 *   satisfaction rate  ratings of 4 or 5 / ratings (of those cases)
 *   partner share      completed at partner outlets (post, dealer, insurer,
 *                      hospital, court, station) / completed offline
 *                      (every channel but the app): the share of the
 *                      business that used to need a window done elsewhere.
 * Rates are exact decimal strings with four places, rounded half up
 * ("0.8333"), and null when the denominator is 0. No floating point. */
#ifndef ONETRIP_CASES_FIGURES_H
#define ONETRIP_CASES_FIGURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cases_fig {
    int64_t completed, one_trip, zero_trip, online, on_time, offline, at_partner, rated, satisfied;
} cases_fig;

void cases_fig_add(cases_fig *acc, const cases_fig *x);
/* num/den as "0.8333"; returns -1 and writes "" when den <= 0 or num is
 * outside 0..den. */
int cases_rate_str(int64_t num, int64_t den, char out[16]);

/* One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF,
 * with quotes doubled. A text starting with = + - @ (or tab/CR) gets a
 * leading apostrophe so spreadsheets do not run it as a formula. Appends
 * to a malloc'd buffer (*buf, *len, *cap; all may start as NULL/0). */
void cases_csv_field(char **buf, size_t *len, size_t *cap, const char *s);
void cases_csv_raw(char **buf, size_t *len, size_t *cap, const char *s);

#endif
