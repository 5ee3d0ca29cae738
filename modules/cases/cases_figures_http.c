/* cases_figures_http.c - GET /v1/figures: the reform's figures by period and
 * by category, channel or outlet, as JSON or CSV.
 *
 * Days before today come from case_rollup_daily (a few hundred rows per
 * day at most, whatever the number of cases); today is aggregated live
 * from cases through the completed_day index (only today's completions are
 * read). So the answer costs O(days x groups + today's cases), well under a
 * second over millions of cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "modules/cases/cases_figures.h"
#include "modules/cases/cases_http.h"
#include "modules/cases/cases_sql.h"
#include "server/date.h"

#define INITIAL_GROUPS 64
#define MAX_RANGE_DAYS 3660

typedef struct fig_group {
    char key[48];
    cases_fig f;
} fig_group;

/* Every row counts: the groups grow as needed (one per outlet can be
 * many hundreds), so the total is always the sum of all groups. */
static void add_rows(const cases_fig_row *rows, int n, fig_group **g, int *ng, int *cap)
{
    for (int i = 0; i < n; i++) {
        const cases_fig_row *w = &rows[i];
        const char *k = w->k ? w->k : "";
        cases_fig x = {w->completed, w->one_trip,   w->zero_trip, w->online,   w->on_time,
                       w->offline,   w->at_partner, w->rated,     w->satisfied};
        int j;
        for (j = 0; j < *ng; j++)
            if (strcmp((*g)[j].key, k) == 0)
                break;
        if (j == *ng) {
            if (*ng == *cap) {
                fig_group *bigger = realloc(*g, (size_t)*cap * 2 * sizeof **g);
                if (bigger == NULL)
                    abort();
                *g = bigger;
                *cap *= 2;
            }
            memset(&(*g)[j], 0, sizeof (*g)[j]);
            snprintf((*g)[j].key, sizeof (*g)[j].key, "%s", k);
            (*ng)++;
        }
        cases_fig_add(&(*g)[j].f, &x);
    }
}

static const char *label_of(const cases_outlet_row *outlets, int noutlets, const char *group,
                            const char *key)
{
    static const struct { const char *k, *v; } L[] = {
        {"vehicle", "机动车业务"}, {"driver", "驾驶证业务"}, {"violation", "违法处理业务"},
        {"permit", "通行许可业务"}, {"app", "网上办（App）"}, {"window", "窗口"}, {"post", "邮政网点"},
        {"dealer", "汽车销售企业"}, {"insurer", "保险网点"}, {"hospital", "医院"}, {"court", "法院"},
        {"station", "检验机构"}, {"0", "无网点（网上办）"}};
    if (strcmp(group, "outlet") == 0 && outlets)
        for (int i = 0; i < noutlets; i++)
            if (strcmp(outlets[i].id, key) == 0)
                return outlets[i].name;
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        if (strcmp(L[i].k, key) == 0)
            return L[i].v;
    return key;
}

static json_t *rate_json(int64_t num, int64_t den)
{
    char s[16];
    return cases_rate_str(num, den, s) == 0 ? json_string(s) : json_null();
}

static json_t *fig_json(const cases_fig *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "completed", json_integer(f->completed));
    json_object_set_new(o, "one_trip", json_integer(f->one_trip));
    json_object_set_new(o, "zero_trip", json_integer(f->zero_trip));
    json_object_set_new(o, "online", json_integer(f->online));
    json_object_set_new(o, "on_time", json_integer(f->on_time));
    json_object_set_new(o, "offline", json_integer(f->offline));
    json_object_set_new(o, "at_partner", json_integer(f->at_partner));
    json_object_set_new(o, "rated", json_integer(f->rated));
    json_object_set_new(o, "satisfied", json_integer(f->satisfied));
    json_object_set_new(o, "one_trip_rate", rate_json(f->one_trip, f->completed));
    json_object_set_new(o, "zero_trip_rate", rate_json(f->zero_trip, f->completed));
    json_object_set_new(o, "online_rate", rate_json(f->online, f->completed));
    json_object_set_new(o, "on_time_rate", rate_json(f->on_time, f->completed));
    json_object_set_new(o, "satisfaction_rate", rate_json(f->satisfied, f->rated));
    json_object_set_new(o, "partner_share", rate_json(f->at_partner, f->offline));
    return o;
}

static void csv_rate(char **b, size_t *len, size_t *cap, int64_t num, int64_t den)
{
    char s[16];
    cases_rate_str(num, den, s);
    cases_csv_raw(b, len, cap, ",");
    cases_csv_raw(b, len, cap, s);
}

static void csv_row(char **b, size_t *len, size_t *cap, const char *key, const char *label,
                    const cases_fig *f)
{
    char n[200];
    cases_csv_field(b, len, cap, key);
    cases_csv_raw(b, len, cap, ",");
    cases_csv_field(b, len, cap, label);
    csv_rate(b, len, cap, f->one_trip, f->completed);
    csv_rate(b, len, cap, f->zero_trip, f->completed);
    csv_rate(b, len, cap, f->online, f->completed);
    csv_rate(b, len, cap, f->on_time, f->completed);
    csv_rate(b, len, cap, f->satisfied, f->rated);
    csv_rate(b, len, cap, f->at_partner, f->offline);
    snprintf(n, sizeof n, ",%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld\r\n", (long long)f->completed,
             (long long)f->one_trip, (long long)f->zero_trip, (long long)f->online,
             (long long)f->on_time, (long long)f->offline, (long long)f->at_partner,
             (long long)f->rated, (long long)f->satisfied);
    cases_csv_raw(b, len, cap, n);
}

static bool wants_csv(const app_req *r)
{
    const char *fmt = app_query(r, "format"), *acc = app_header(r, "Accept");
    if (fmt)
        return strcmp(fmt, "csv") == 0;
    return acc && strncasecmp(acc, "text/csv", 8) == 0;
}

void cases_on_figures(app_req *r)
{
    const char *from_s = app_query(r, "from"), *to_s = app_query(r, "to");
    const char *group = app_query(r, "group");
    int32_t from, to, today = date_shanghai_today(time(NULL));
    char last_s[DATE_STR_SIZE], today_s[DATE_STR_SIZE];
    cases_fig_row *rows = NULL, *live = NULL;
    cases_outlet_row *outlets = NULL;
    fig_group *g = NULL;
    int ng = 0, gcap = INITIAL_GROUPS, nrows = 0, nlive = 0, noutlets = 0;
    cases_fig total = {0};

    /* from, to, group and format are declared (cases_module.c) */
    if (group == NULL)
        group = "category";
    date_parse(from_s, &from);
    date_parse(to_s, &to);
    if (from > to || to - from > MAX_RANGE_DAYS) {
        app_fail(r, "bad_range", NULL, "to");
        return;
    }
    /* Rollup for the days before today, live rows for today. */
    date_format(to < today ? to : today - 1, last_s);
    date_format(today, today_s);
    g = app_calloc((size_t)gcap, sizeof *g);
    if (from < today &&
        cases_sql_figures_rollup(r->db, from_s, last_s, group, &rows, &nrows) != 0)
        goto dberr;
    if (from <= today && to >= today &&
        cases_sql_figures_live(r->db, today_s, group, &live, &nlive) != 0)
        goto dberr;
    if (strcmp(group, "outlet") == 0 && cases_sql_outlet_names(r->db, &outlets, &noutlets) != 0)
        goto dberr;
    add_rows(rows, nrows, &g, &ng, &gcap);
    add_rows(live, nlive, &g, &ng, &gcap);
    for (int i = 0; i < ng; i++)
        cases_fig_add(&total, &g[i].f);

    if (wants_csv(r)) {
        char *b = NULL;
        size_t len = 0, cap = 0;
        cases_csv_raw(&b, &len, &cap,
                      "key,label,one_trip_rate,zero_trip_rate,online_rate,on_time_rate,"
                      "satisfaction_rate,partner_share,completed,one_trip,zero_trip,online,on_time,"
                      "offline,at_partner,rated,satisfied\r\n");
        for (int i = 0; i < ng; i++)
            csv_row(&b, &len, &cap, g[i].key, label_of(outlets, noutlets, group, g[i].key), &g[i].f);
        csv_row(&b, &len, &cap, "total", "合计", &total);
        app_add_header(r, "Content-Disposition", "attachment; filename=\"figures.csv\"");
        app_reply_bytes(r, 200, "text/csv; charset=utf-8", b, len);
        free(b);
    } else {
        json_t *a = json_array();
        for (int i = 0; i < ng; i++) {
            json_t *o = fig_json(&g[i].f);
            json_object_set_new(o, "key", json_string(g[i].key));
            json_object_set_new(o, "label", json_string(label_of(outlets, noutlets, group, g[i].key)));
            json_array_append_new(a, o);
        }
        app_reply_json(r, 200, json_pack("{ss ss ss so so}", "from", from_s, "to", to_s, "group", group,
                                         "groups", a, "total", fig_json(&total)));
    }
    goto done;
dberr:
    app_problem_db(r);
done:
    free(g);
    cases_fig_row_array_free(rows, nrows);
    cases_fig_row_array_free(live, nlive);
    cases_outlet_row_array_free(outlets, noutlets);
}
