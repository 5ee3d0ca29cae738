/* catalog_item.c - pure helpers over catalog items: channel lists,
 * materials, validation of an administrator's item, the one-time notice.
 * No I/O. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modules/catalog/catalog.h"
#include "modules/catalog/catalog_item.h"
#include "server/app.h"

bool catalog_channel_offered(const char *channels, const char *channel)
{
    size_t n;
    const char *p;

    if (channels == NULL || channel == NULL || channel[0] == '\0')
        return false;
    n = strlen(channel);
    for (p = channels; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, channel, n) == 0)
            return true;
        if (e == NULL)
            break;
        p = e + 1;
    }
    return false;
}

bool catalog_material_find(const char *materials_json, const char *name, bool *key, bool *commitment)
{
    json_t *a = materials_json ? json_loads(materials_json, 0, NULL) : NULL;
    size_t i;
    json_t *m;
    bool found = false;

    if (key)
        *key = false;
    if (commitment)
        *commitment = false;
    json_array_foreach(a, i, m) {
        const char *n = json_string_value(json_object_get(m, "name"));
        if (n && name && strcmp(n, name) == 0) {
            found = true;
            if (key)
                *key = json_is_true(json_object_get(m, "key"));
            if (commitment)
                *commitment = json_is_true(json_object_get(m, "commitment"));
            break;
        }
    }
    json_decref(a);
    return found;
}

static const char *const CHANNELS[] = {"app", "window", "post", "dealer", "insurer", "hospital", "court", "station"};
static const char *const CATEGORIES[] = {"vehicle", "driver", "violation", "permit"};

bool catalog_is_channel(const char *s)
{
    for (size_t i = 0; i < sizeof CHANNELS / sizeof CHANNELS[0]; i++)
        if (s && strcmp(s, CHANNELS[i]) == 0)
            return true;
    return false;
}

bool catalog_is_category(const char *s)
{
    for (size_t i = 0; i < sizeof CATEGORIES / sizeof CATEGORIES[0]; i++)
        if (s && strcmp(s, CATEGORIES[i]) == 0)
            return true;
    return false;
}

bool catalog_code_ok(const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (n < 2 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || (ch == '-' && i > 0)))
            return false;
    }
    return true;
}

/* Sets the reason and the field, returns -1. */
static int bad(const char **why, const char **field, const char *w, const char *f)
{
    *why = w;
    *field = f;
    return -1;
}

/* True when v, dumped as the JSON text the database stores, fits a TEXT
 * column. */
static bool text_fits(const json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);
    bool ok = text != NULL && strlen(text) <= CATALOG_MAX_TEXT_BYTES;
    free(text);
    return ok;
}

int catalog_item_validate(json_t *body, char *channels_out, size_t cap, const char **why,
                          const char **field)
{
    json_t *a, *v;
    size_t i;
    size_t len = 0;
    long long promised, statutory, trips;

    channels_out[0] = '\0';
    if (!catalog_is_category(json_string_value(json_object_get(body, "category"))))
        return bad(why, field, "bad_category", "category");
    a = json_object_get(body, "channels");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(why, field, "bad_channels", "channels");
    json_array_foreach(a, i, v) {
        const char *ch = json_string_value(v);
        if (!catalog_is_channel(ch) || catalog_channel_offered(channels_out, ch))
            return bad(why, field, "bad_channels", "channels");
        len += (size_t)snprintf(channels_out + len, len < cap ? cap - len : 0, "%s%s",
                                len ? "," : "", ch);
        if (len >= cap)
            return bad(why, field, "bad_channels", "channels");
    }
    trips = json_integer_value(json_object_get(body, "trips"));
    if (trips < 0 || trips > 1)
        return bad(why, field, "bad_trips", "trips");
    promised = json_integer_value(json_object_get(body, "promised_days"));
    statutory = json_integer_value(json_object_get(body, "statutory_days"));
    if (statutory < 0 || statutory > 365)
        return bad(why, field, "bad_time_limit", "statutory_days");
    if (promised < 0 || promised > statutory)
        return bad(why, field, "bad_time_limit", "promised_days");
    a = json_object_get(body, "materials");
    if (!json_is_array(a))
        return bad(why, field, "bad_materials", "materials");
    json_array_foreach(a, i, v) {
        const char *n = json_string_value(json_object_get(v, "name"));
        json_t *k = json_object_get(v, "key"), *cm = json_object_get(v, "commitment");
        const char *key;
        json_t *x;
        json_t *note = json_object_get(v, "note");
        if (!json_is_object(v) || n == NULL || n[0] == '\0' || strlen(n) > 200 || !json_is_boolean(k) ||
            (cm && !json_is_boolean(cm)) ||
            (note && (!json_is_string(note) || json_string_length(note) > 1000)))
            return bad(why, field, "bad_materials", "materials");
        json_object_foreach(v, key, x)
            if (strcmp(key, "name") && strcmp(key, "key") && strcmp(key, "commitment") &&
                strcmp(key, "note"))
                return bad(why, field, "bad_materials", "materials");
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_object_get(json_array_get(a, j), "name")), n) == 0)
                return bad(why, field, "bad_materials", "materials");
    }
    a = json_object_get(body, "fees");
    if (!json_is_array(a))
        return bad(why, field, "bad_fees", "fees");
    json_array_foreach(a, i, v) {
        json_t *f = json_object_get(v, "fen");
        const char *n = json_string_value(json_object_get(v, "name"));
        if (!json_is_object(v) || n == NULL || n[0] == '\0' || !json_is_integer(f) ||
            json_integer_value(f) < 0 || json_integer_value(f) > CATALOG_MAX_FEE_FEN ||
            json_object_size(v) != 2)
            return bad(why, field, "bad_fees", "fees");
    }
    a = json_object_get(body, "steps");
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(why, field, "bad_steps", "steps");
    json_array_foreach(a, i, v)
        if (!json_is_string(v) || json_string_length(v) == 0)
            return bad(why, field, "bad_steps", "steps");
    /* Each list is stored as JSON text in a TEXT column (64 KiB): a longer
     * one is the client's error, not a database failure. */
    if (!text_fits(json_object_get(body, "materials")))
        return bad(why, field, "bad_materials", "materials");
    if (!text_fits(json_object_get(body, "fees")))
        return bad(why, field, "bad_fees", "fees");
    if (!text_fits(json_object_get(body, "steps")))
        return bad(why, field, "bad_steps", "steps");
    return 0;
}

/* ---- the one-time notice ------------------------------------------------ */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (b->p == NULL)
            abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* HTML-escapes text (the catalog is administrator input). */
static void esc(buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': puts_(b, "&amp;"); break;
        case '<': puts_(b, "&lt;"); break;
        case '>': puts_(b, "&gt;"); break;
        case '"': puts_(b, "&quot;"); break;
        case '\'': puts_(b, "&#39;"); break;
        default: put(b, s, 1);
        }
    }
}

static const char *channel_label(const char *ch)
{
    static const struct { const char *k, *v; } L[] = {
        {"app", "手机App（网上办）"}, {"window", "车管所窗口"}, {"post", "邮政网点"},
        {"dealer", "汽车销售企业"}, {"insurer", "保险公司网点"}, {"hospital", "体检医院"},
        {"court", "人民法院"}, {"station", "机动车检验机构"}};
    for (size_t i = 0; i < sizeof L / sizeof L[0]; i++)
        if (strcmp(L[i].k, ch) == 0)
            return L[i].v;
    return ch;
}

void catalog_format_fen(int64_t fen, char out[32])
{
    /* money in fen, printed as yuan without floating point */
    snprintf(out, 32, "%s%lld.%02lld", fen < 0 ? "-" : "", (long long)(fen < 0 ? -fen : fen) / 100,
             (long long)(fen < 0 ? -fen : fen) % 100);
}

char *catalog_notice_html(const catalog_notice_in *in)
{
    buf b = {0};
    json_t *mats = json_loads(in->materials ? in->materials : "[]", 0, NULL);
    json_t *fees = json_loads(in->fees ? in->fees : "[]", 0, NULL);
    json_t *steps = json_loads(in->steps ? in->steps : "[]", 0, NULL);
    json_t *v;
    size_t i;
    char tmp[64];
    int64_t total = 0;

    puts_(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>");
    esc(&b, in->name);
    puts_(&b, " 一次性告知单</title><style>body{font-family:sans-serif;max-width:48em;margin:1em auto}"
              "h1{font-size:1.4em}td,th{border:1px solid #999;padding:2px 6px}table{border-collapse:collapse}"
              "@media print{a{color:#000}}</style></head><body>\n<h1>");
    esc(&b, in->name);
    puts_(&b, " — 一次性告知单</h1>\n<p>事项编码：");
    esc(&b, in->code);
    snprintf(tmp, sizeof tmp, "（第 %d 版）", in->version);
    puts_(&b, tmp);
    puts_(&b, "</p>\n<h2>办理渠道</h2><ul>");
    {
        char chs[96];
        char *save = NULL, *tok;
        snprintf(chs, sizeof chs, "%s", in->channels ? in->channels : "");
        for (tok = strtok_r(chs, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            puts_(&b, "<li>");
            esc(&b, channel_label(tok));
            puts_(&b, "</li>");
        }
    }
    puts_(&b, "</ul>\n<p>");
    puts_(&b, in->trips == 0 ? "<strong>零跑腿</strong>：无需到现场，全程网上或合作网点办理。"
                             : "<strong>最多跑一次</strong>：材料齐全时只需到现场一次。");
    puts_(&b, "</p>\n<h2>申请材料</h2><table><tr><th>材料</th><th>要求</th></tr>");
    json_array_foreach(mats, i, v) {
        const char *note = json_string_value(json_object_get(v, "note"));
        puts_(&b, "<tr><td>");
        esc(&b, json_string_value(json_object_get(v, "name")));
        if (note && note[0]) {
            puts_(&b, "（");
            esc(&b, note);
            puts_(&b, "）");
        }
        puts_(&b, "</td><td>");
        if (json_is_true(json_object_get(v, "key")))
            puts_(&b, "必须提交（关键材料）");
        else
            puts_(&b, in->allow_missing ? "可容缺受理，限期补交" : "必须提交");
        if (in->allow_commitment && json_is_true(json_object_get(v, "commitment")))
            puts_(&b, "；可以签署告知承诺书代替");
        puts_(&b, "</td></tr>");
    }
    if (json_array_size(mats) == 0)
        puts_(&b, "<tr><td colspan=\"2\">无需提交材料</td></tr>");
    puts_(&b, "</table>\n<h2>收费</h2><ul>");
    json_array_foreach(fees, i, v) {
        int64_t fen = (int64_t)json_integer_value(json_object_get(v, "fen"));
        total += fen;
        puts_(&b, "<li>");
        esc(&b, json_string_value(json_object_get(v, "name")));
        catalog_format_fen(fen, tmp);
        puts_(&b, "：");
        puts_(&b, tmp);
        puts_(&b, " 元</li>");
    }
    if (json_array_size(fees) == 0)
        puts_(&b, "<li>不收费</li>");
    catalog_format_fen(total, tmp);
    puts_(&b, "</ul><p>合计：");
    puts_(&b, tmp);
    puts_(&b, " 元</p>\n<h2>办理时限</h2><p>");
    snprintf(tmp, sizeof tmp, "法定时限 %d 个工作日，", in->statutory_days);
    puts_(&b, tmp);
    snprintf(tmp, sizeof tmp, "承诺时限 %d 个工作日", in->promised_days);
    puts_(&b, tmp);
    puts_(&b, in->promised_days == 0 ? "（即办件，当场办结）。" : "（自受理次日起计算，节假日顺延）。");
    puts_(&b, "</p>\n<h2>办理流程</h2><ol>");
    json_array_foreach(steps, i, v) {
        puts_(&b, "<li>");
        esc(&b, json_string_value(v));
        puts_(&b, "</li>");
    }
    puts_(&b, "</ol>\n<h2>设定依据</h2><p>");
    esc(&b, in->legal_basis);
    puts_(&b, "</p>\n<h2>申请表样</h2><p>");
    esc(&b, in->sample_form);
    puts_(&b, "</p>\n<p>办理进度可凭受理单上的业务编号和查询码查询。对办理结果不满意的，可在办结后评价。</p>\n"
              "</body></html>\n");
    json_decref(mats);
    json_decref(fees);
    json_decref(steps);
    return b.p;
}
