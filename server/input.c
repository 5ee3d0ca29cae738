/* input.c - declared inputs (typed path parameters, query keys, body
 * fields) checked before the handler runs, and the modules' error tables
 * behind app_fail. The rules are in server/app.h next to app_jfield. */
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/date.h"
#include "server/input.h"
#include "server/log.h"
#include "server/modules.h"
#include "server/router.h"

/* ---- numbers ------------------------------------------------------------- */

int app_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (s == NULL || *s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (INT64_MAX - (*s - '0')) / 10)
            return -1; /* overflow: out of every range */
        v = v * 10 + (*s - '0');
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int64_t app_path_int(const app_req *r, int i)
{
    return (i >= 0 && i < r->nparams) ? r->param_ints[i] : 0;
}

int64_t app_query_int(const app_req *r, const char *name, int64_t dflt)
{
    int64_t v;
    return app_parse_int(app_query(r, name), 0, INT64_MAX, &v) == 0 ? v : dflt;
}

const void *app_route_data(const app_req *r)
{
    return r->route ? r->route->data : NULL;
}

/* ---- compiled patterns ------------------------------------------------------ */

/* Declarations are static const, so their compiled regexes live here, keyed
 * by the field's address. Filled at start-up, read-only afterwards
 * (regexec is thread-safe on a shared regex_t). */
typedef struct compiled {
    const app_jfield *field;
    regex_t re;
} compiled;
static compiled *compiled_v;
static int ncompiled, capcompiled;

static const regex_t *regex_of(const app_jfield *f)
{
    for (int i = 0; i < ncompiled; i++)
        if (compiled_v[i].field == f)
            return &compiled_v[i].re;
    return NULL;
}

int input_prepare(const app_jfield *fields, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const app_jfield *f = &fields[i];
        if (f->pattern == NULL || regex_of(f) != NULL)
            continue;
        if (ncompiled == capcompiled) {
            capcompiled = capcompiled ? capcompiled * 2 : 16;
            compiled_v = realloc(compiled_v, (size_t)capcompiled * sizeof *compiled_v);
            if (compiled_v == NULL)
                abort();
        }
        if (regcomp(&compiled_v[ncompiled].re, f->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
            snprintf(err, errlen, "field %s: pattern '%s' does not compile", f->name, f->pattern);
            return -1;
        }
        compiled_v[ncompiled++].field = f;
    }
    return 0;
}

int input_prepare_all(char *err, size_t errlen)
{
    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nroutes; j++) {
            const app_input *in = modules_all[i]->routes[j].in;
            if (in && (input_prepare(in->path, in->npath, err, errlen) != 0 ||
                       input_prepare(in->query, in->nquery, err, errlen) != 0 ||
                       input_prepare(in->body, in->nbody, err, errlen) != 0))
                return -1;
        }
    return 0;
}

void input_cleanup(void)
{
    for (int i = 0; i < ncompiled; i++)
        regfree(&compiled_v[i].re);
    free(compiled_v);
    compiled_v = NULL;
    ncompiled = capcompiled = 0;
}

/* ---- error tables ----------------------------------------------------------- */

const app_error *input_error_in(const app_module *const *mods, int n, const char *code)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < mods[i]->nerrors; j++)
            if (strcmp(mods[i]->errors[j].code, code) == 0)
                return &mods[i]->errors[j];
    return NULL;
}

/* The problem code names for a request of route rt: its own module's entry
 * first (two modules may give one code different statuses: registration's
 * 422 vehicle_type_unknown is an application check, violations' 400 a field
 * check), else the first module listing it (core's `internal`, or a code a
 * module answers for another's public function). */
static const app_module *module_of(const app_route *rt)
{
    for (int i = 0; rt && i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nroutes; j++)
            if (&modules_all[i]->routes[j] == rt)
                return modules_all[i];
    return NULL;
}

static const app_error *error_for(const app_route *rt, const char *code)
{
    const app_module *m = module_of(rt);
    const app_error *e = m ? input_error_in(&m, 1, code) : NULL;
    return e ? e : input_error_in(modules_all, modules_count, code);
}

void app_fail_ext(app_req *r, const char *code, const char *detail, const char *field,
                  json_t *extra)
{
    const app_error *e = code ? error_for(r->route, code) : NULL;
    if (e == NULL) {
        app_log(LOG_ERROR, "app", "request_id=%s msg=\"app_fail with a code no error table lists\" "
                "code=%s", r->request_id, code ? code : "(null)");
        json_decref(extra);
        app_problem(r, 500, "internal", "Internal error", NULL, NULL);
        return;
    }
    app_problem_ext(r, e->status, e->code, e->title, detail ? detail : e->detail, field, extra);
}

void app_fail(app_req *r, const char *code, const char *detail, const char *field)
{
    app_fail_ext(r, code, detail, field, NULL);
}

int app_refuse(app_refusal *f, const char *code, const char *detail, const char *field,
               json_t *extra)
{
    json_decref(f->extra);
    f->code = code;
    f->field = field;
    f->extra = extra;
    snprintf(f->detail, sizeof f->detail, "%s", detail ? detail : "");
    return -1;
}

void app_refusal_clear(app_refusal *f)
{
    json_decref(f->extra);
    memset(f, 0, sizeof *f);
}

int app_fail_refusal(app_req *r, app_refusal *f)
{
    if (f->code == NULL)
        return -1;
    app_fail_ext(r, f->code, f->detail[0] ? f->detail : NULL, f->field, f->extra);
    f->extra = NULL;
    return f->recorded ? 0 : -1;
}

/* ---- value checks ------------------------------------------------------------ */

/* A bad value of field f: its code (error table) or bad_<name>. -1. */
static int bad_value(app_req *r, const app_jfield *f, const char *generated, bool name_field)
{
    const char *field = name_field ? f->name : NULL;
    const app_error *e;
    char code[96];

    if (f->code == NULL) {
        snprintf(code, sizeof code, "bad_%s", f->name);
        app_problem(r, 400, code, "Invalid value", f->detail ? f->detail : generated, field);
        return -1;
    }
    e = error_for(r->route, f->code);
    app_problem(r, e ? e->status : 400, f->code, e ? e->title : "Invalid value",
                f->detail ? f->detail : (e && e->detail) ? e->detail : generated, field);
    return -1;
}

static bool in_choices(const app_jfield *f, const char *s)
{
    for (int i = 0; f->choices && f->choices[i]; i++)
        if (strcmp(f->choices[i], s) == 0)
            return true;
    return false;
}

/* Why a text value (query key, path parameter, JSON string) fails f's
 * checks beyond its length limit, or NULL. why has room for 200 bytes. */
static const char *text_problem(const app_jfield *f, const char *s, char *why, size_t cap)
{
    int64_t iv;
    int32_t day;
    size_t n = strlen(s);

    switch (f->type) {
    case JF_INT: {
        int64_t lo = f->min, hi = f->max;
        if (lo == 0 && hi == 0)
            hi = INT64_MAX;
        if (app_parse_int(s, lo < 0 ? 0 : lo, hi, &iv) == 0)
            return NULL;
        if (hi == INT64_MAX)
            snprintf(why, cap, "%s is a whole number (digits only), at least %lld.", f->name,
                     (long long)lo);
        else
            snprintf(why, cap, "%s is a whole number (digits only), %lld..%lld.", f->name,
                     (long long)lo, (long long)hi);
        return why;
    }
    case JF_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
            return NULL;
        snprintf(why, cap, "%s is true or false.", f->name);
        return why;
    case JF_DATE:
        if (date_parse(s, &day) == 0)
            return NULL;
        snprintf(why, cap, "%s is YYYY-MM-DD.", f->name);
        return why;
    case JF_ENUM: {
        size_t len;
        if (in_choices(f, s))
            return NULL;
        len = (size_t)snprintf(why, cap, "%s is one of:", f->name);
        for (int i = 0; f->choices && f->choices[i] && len < cap; i++)
            len += (size_t)snprintf(why + len, cap - len, "%s %s", i ? "," : "", f->choices[i]);
        if (len < cap)
            snprintf(why + len, cap - len, ".");
        return why;
    }
    default:
        break;
    }
    if (n < f->min_len) {
        if (f->min_len == 1)
            snprintf(why, cap, "%s must not be empty.", f->name);
        else
            snprintf(why, cap, "%s is at least %zu bytes.", f->name, f->min_len);
        return why;
    }
    if (f->pattern) {
        const regex_t *re = regex_of(f);
        if (re == NULL) {
            /* a declaration that skipped input_prepare: a server bug */
            app_log(LOG_ERROR, "app", "msg=\"pattern not compiled\" field=%s", f->name);
            snprintf(why, cap, "%s cannot be checked.", f->name);
            return why;
        }
        if (regexec(re, s, 0, NULL, 0) != 0) {
            snprintf(why, cap, "%s has the wrong form.", f->name);
            return why;
        }
    }
    return NULL;
}

/* ---- body ---------------------------------------------------------------------- */

static const char *jtype_name(app_jtype t)
{
    switch (t) {
    case JF_STRING: return "a string";
    case JF_INT: return "an integer";
    case JF_BOOL: return "a boolean";
    case JF_OBJECT: return "an object";
    case JF_ARRAY: return "an array";
    case JF_DATE: return "a date string (YYYY-MM-DD)";
    case JF_ENUM: return "a string";
    default: return "a value";
    }
}

/* The member's JSON type fits f's type. */
static bool json_type_ok(const app_jfield *f, const json_t *val)
{
    switch (f->type) {
    case JF_STRING: case JF_DATE: case JF_ENUM: return json_is_string(val);
    case JF_INT: return json_is_integer(val);
    case JF_BOOL: return json_is_boolean(val);
    case JF_OBJECT: return json_is_object(val);
    case JF_ARRAY: return json_is_array(val);
    default: return true;
    }
}

static int check_member(app_req *r, const app_jfield *f, json_t *val)
{
    char detail[200], why[200];
    const char *bad;

    if (!json_type_ok(f, val)) {
        snprintf(detail, sizeof detail, "Field '%s' must be %s.", f->name, jtype_name(f->type));
        app_problem(r, 400, "wrong_type", "Wrong field type", detail, f->name);
        return -1;
    }
    if (json_is_string(val)) {
        size_t max = f->max_len ? f->max_len : 256;
        if (json_string_length(val) > max) {
            snprintf(detail, sizeof detail, "Field '%s' is longer than %zu bytes.", f->name, max);
            app_problem(r, 400, "too_long", "Field too long", detail, f->name);
            return -1;
        }
        if (strlen(json_string_value(val)) != json_string_length(val)) {
            snprintf(detail, sizeof detail, "Field '%s' contains a NUL character.", f->name);
            app_problem(r, 400, "bad_string", "Invalid string", detail, f->name);
            return -1;
        }
        if ((bad = text_problem(f, json_string_value(val), why, sizeof why)) != NULL)
            return bad_value(r, f, bad, true);
    } else if (f->type == JF_INT && (f->min != 0 || f->max != 0)) {
        json_int_t v = json_integer_value(val);
        if (v < f->min || v > f->max) {
            snprintf(why, sizeof why, "%s is a whole number, %lld..%lld.", f->name,
                     (long long)f->min, (long long)f->max);
            return bad_value(r, f, why, true);
        }
    } else if (f->type == JF_ARRAY) {
        size_t n = json_array_size(val);
        if (n < f->min_len || (f->max_len && n > f->max_len)) {
            snprintf(why, sizeof why, "%s holds %zu to %zu entries.", f->name, f->min_len,
                     f->max_len ? f->max_len : (size_t)SIZE_MAX);
            if (f->max_len == 0)
                snprintf(why, sizeof why, "%s holds at least %zu entries.", f->name, f->min_len);
            return bad_value(r, f, why, true);
        }
    }
    return 0;
}

int app_json_check(app_req *r, const app_jfield *fields, int nfields)
{
    const char *key;
    json_t *val;
    char detail[200];

    if (r->json == NULL || !json_is_object(r->json)) {
        app_problem(r, 400, "body_not_object", "Request body must be a JSON object", NULL, NULL);
        return -1;
    }
    json_object_foreach(r->json, key, val) {
        int known = 0;
        for (int i = 0; i < nfields; i++)
            if (strcmp(fields[i].name, key) == 0)
                known = 1;
        if (!known) {
            snprintf(detail, sizeof detail, "Field '%.80s' is not accepted here.", key);
            app_problem(r, 400, "unknown_field", "Unknown field", detail, key);
            return -1;
        }
    }
    for (int i = 0; i < nfields; i++) {
        const app_jfield *f = &fields[i];
        val = json_object_get(r->json, f->name);
        if (val == NULL || json_is_null(val)) {
            if (f->required) {
                snprintf(detail, sizeof detail, "Field '%s' is required.", f->name);
                app_problem(r, 400, "missing_field", "Missing field", detail, f->name);
                return -1;
            }
            continue;
        }
        if (check_member(r, f, val) != 0)
            return -1;
    }
    return 0;
}

/* ---- query and path -------------------------------------------------------- */

static int check_query(app_req *r, const app_jfield *f)
{
    const char *v = app_query(r, f->name);
    char why[200];
    const char *bad;
    size_t max = f->max_len ? f->max_len : 256;

    if (v == NULL) {
        if (!f->required)
            return 0;
        snprintf(why, sizeof why, "%s is required.", f->name);
        return bad_value(r, f, why, true);
    }
    if (strlen(v) > max) {
        snprintf(why, sizeof why, "%s is longer than %zu bytes.", f->name, max);
        return bad_value(r, f, why, true);
    }
    if ((bad = text_problem(f, v, why, sizeof why)) != NULL)
        return bad_value(r, f, bad, true);
    return 0;
}

/* A malformed path parameter looks like an unknown resource: the route's
 * path_code, no field. */
static int bad_path(app_req *r, const app_input *in)
{
    if (in && in->path_code)
        app_fail(r, in->path_code, NULL, NULL);
    else
        app_problem(r, 404, "not_found", NULL, "No such resource.", NULL);
    return -1;
}

static int check_path(app_req *r, const app_input *in)
{
    char name[64], why[200];
    bool is_int = false;

    for (int i = 0; i < r->nparams; i++) {
        r->param_ints[i] = 0;
        if (router_pattern_param(r->route->pattern, i, name, sizeof name, &is_int) != 0)
            return bad_path(r, in);
        if (is_int && app_parse_int(r->params[i], 1, INT64_MAX, &r->param_ints[i]) != 0)
            return bad_path(r, in);
        for (int j = 0; in && j < in->npath; j++) {
            const app_jfield *f = &in->path[j];
            size_t max = f->max_len ? f->max_len : 256;
            if (strcmp(f->name, name) != 0)
                continue;
            if (strlen(r->params[i]) > max || text_problem(f, r->params[i], why, sizeof why))
                return bad_path(r, in);
        }
    }
    return 0;
}

int input_check(app_req *r)
{
    const app_input *in = r->route->in;

    if (check_path(r, in) != 0)
        return -1;
    if (in == NULL)
        return 0;
    for (int i = 0; i < in->nquery; i++)
        if (check_query(r, &in->query[i]) != 0)
            return -1;
    if (in->body && (r->json != NULL || !in->body_optional))
        return app_json_check(r, in->body, in->nbody);
    return 0;
}

/* ---- start-up checks ----------------------------------------------------------- */

static bool snake(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int check_fields(const app_module *const *mods, int n, const app_module *m,
                        const app_route *rt, const char *where, const app_jfield *fs, int nf,
                        char *err, size_t errlen)
{
    const char *method = router_method_name(rt->method);
    for (int i = 0; i < nf; i++) {
        const app_jfield *f = &fs[i];
        regex_t re;
        if (f->name == NULL || f->type < JF_STRING || f->type > JF_ENUM) {
            snprintf(err, errlen, "module %s: route %s %s: a %s field without name or type", m->name,
                     method, rt->pattern, where);
            return -1;
        }
        if (f->code && !input_error_in(mods, n, f->code)) {
            snprintf(err, errlen, "module %s: route %s %s: %s field %s names code '%s' that no error "
                     "table lists", m->name, method, rt->pattern, where, f->name, f->code);
            return -1;
        }
        if (f->type == JF_ENUM && (f->choices == NULL || f->choices[0] == NULL)) {
            snprintf(err, errlen, "module %s: route %s %s: enum field %s has no choices", m->name,
                     method, rt->pattern, f->name);
            return -1;
        }
        if (f->min > f->max) {
            snprintf(err, errlen, "module %s: route %s %s: field %s has min > max", m->name, method,
                     rt->pattern, f->name);
            return -1;
        }
        if (f->pattern) {
            if (regcomp(&re, f->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
                snprintf(err, errlen, "module %s: route %s %s: field %s: pattern does not compile",
                         m->name, method, rt->pattern, f->name);
                return -1;
            }
            regfree(&re);
        }
        if (strcmp(where, "path") == 0) {
            char name[64];
            bool found = false, is_int;
            for (int k = 0; router_pattern_param(rt->pattern, k, name, sizeof name, &is_int) == 0; k++)
                if (strcmp(name, f->name) == 0)
                    found = true;
            if (!found) {
                snprintf(err, errlen, "module %s: route %s %s: path field %s is not a parameter of "
                         "the pattern", m->name, method, rt->pattern, f->name);
                return -1;
            }
        }
    }
    return 0;
}

int input_check_modules(const app_module *const *mods, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const app_module *m = mods[i];
        for (int j = 0; j < m->nerrors; j++) {
            const app_error *e = &m->errors[j];
            if (!snake(e->code) || e->status < 400 || e->status > 599 || e->title == NULL) {
                snprintf(err, errlen, "module %s: error '%s' needs a snake_case code, a 4xx/5xx "
                         "status and a title", m->name, e->code ? e->code : "(null)");
                return -1;
            }
            /* the same code twice in one module must mean the same problem
             * (modules may differ: app_fail looks in the route's own first) */
            for (int l = 0; l < j; l++) {
                const app_error *o = &m->errors[l];
                if (strcmp(o->code, e->code) == 0 &&
                    (o->status != e->status || strcmp(o->title, e->title) != 0)) {
                    snprintf(err, errlen, "module %s: error '%s' listed twice: %d %s and %d %s",
                             m->name, e->code, o->status, o->title, e->status, e->title);
                    return -1;
                }
            }
        }
    }
    for (int i = 0; i < n; i++) {
        const app_module *m = mods[i];
        for (int j = 0; j < m->nroutes; j++) {
            const app_route *rt = &m->routes[j];
            const app_input *in = rt->in;
            if (in == NULL)
                continue;
            if (in->path_code && !input_error_in(mods, n, in->path_code)) {
                snprintf(err, errlen, "module %s: route %s %s: path_code '%s' is in no error table",
                         m->name, router_method_name(rt->method), rt->pattern, in->path_code);
                return -1;
            }
            if (in->nbody > 0 && !(rt->flags & ROUTE_JSON)) {
                snprintf(err, errlen, "module %s: route %s %s declares body fields but is not "
                         "ROUTE_JSON", m->name, router_method_name(rt->method), rt->pattern);
                return -1;
            }
            if (check_fields(mods, n, m, rt, "path", in->path, in->npath, err, errlen) != 0 ||
                check_fields(mods, n, m, rt, "query", in->query, in->nquery, err, errlen) != 0 ||
                check_fields(mods, n, m, rt, "body", in->body, in->nbody, err, errlen) != 0)
                return -1;
        }
    }
    return 0;
}

/* ---- routes --json ------------------------------------------------------------ */

static const char *type_word(app_jtype t)
{
    switch (t) {
    case JF_STRING: return "string";
    case JF_INT: return "int";
    case JF_BOOL: return "bool";
    case JF_OBJECT: return "object";
    case JF_ARRAY: return "array";
    case JF_DATE: return "date";
    case JF_ENUM: return "enum";
    default: return "any";
    }
}

static json_t *field_json(const app_jfield *f, bool is_body)
{
    json_t *o = json_pack("{sssssb}", "name", f->name, "type", type_word(f->type), "required",
                          f->required);
    bool stringy = f->type == JF_STRING || f->type == JF_DATE || f->type == JF_ENUM;
    if (f->type == JF_INT && (f->min != 0 || f->max != 0)) {
        json_object_set_new(o, "min", json_integer(f->min));
        json_object_set_new(o, "max", json_integer(f->max));
    } else if (f->type == JF_INT && !is_body) {
        json_object_set_new(o, "min", json_integer(0)); /* digits only */
    }
    if (f->type == JF_STRING)
        json_object_set_new(o, "max_length", json_integer(f->max_len ? (json_int_t)f->max_len : 256));
    if (stringy && f->min_len)
        json_object_set_new(o, "min_length", json_integer((json_int_t)f->min_len));
    if (f->type == JF_ARRAY && f->min_len)
        json_object_set_new(o, "min_items", json_integer((json_int_t)f->min_len));
    if (f->type == JF_ARRAY && f->max_len)
        json_object_set_new(o, "max_items", json_integer((json_int_t)f->max_len));
    if (f->pattern)
        json_object_set_new(o, "pattern", json_string(f->pattern));
    if (f->type == JF_ENUM) {
        json_t *a = json_array();
        for (int i = 0; f->choices && f->choices[i]; i++)
            json_array_append_new(a, json_string(f->choices[i]));
        json_object_set_new(o, "enum", a);
    }
    if (f->code)
        json_object_set_new(o, "code", json_string(f->code));
    return o;
}

void input_print_routes_json(FILE *out)
{
    json_t *all = json_array();
    char plain[256], name[64];
    bool is_int;
    char *s;

    for (int i = 0; i < modules_count; i++)
        for (int j = 0; j < modules_all[i]->nroutes; j++) {
            const app_route *rt = &modules_all[i]->routes[j];
            const app_input *in = rt->in;
            json_t *o, *path = json_array();
            router_pattern_plain(rt->pattern, plain, sizeof plain);
            for (int k = 0; router_pattern_param(rt->pattern, k, name, sizeof name, &is_int) == 0; k++) {
                json_t *p = NULL;
                for (int l = 0; in && l < in->npath; l++)
                    if (strcmp(in->path[l].name, name) == 0)
                        p = field_json(&in->path[l], false);
                if (p == NULL)
                    p = json_pack("{ss}", "name", name);
                json_object_set_new(p, "type", json_string(is_int ? "int" : "string"));
                if (is_int)
                    json_object_set_new(p, "min", json_integer(1));
                json_object_set_new(p, "required", json_true());
                json_array_append_new(path, p);
            }
            o = json_pack("{ss ss ss ss sb so}", "module", modules_all[i]->name, "method",
                          router_method_name(rt->method), "path", plain, "pattern", rt->pattern,
                          "declared", in != NULL, "path_params", path);
            /* who may call it: tests/integration/authz_matrix.test.mjs */
            json_object_set_new(o, "perm", json_string(rt->perm));
            json_object_set_new(o, "public", json_boolean((rt->flags & ROUTE_PUBLIC) != 0));
            json_object_set_new(o, "inline", json_boolean((rt->flags & ROUTE_INLINE) != 0));
            json_object_set_new(o, "json_body", json_boolean((rt->flags & ROUTE_JSON) != 0));
            json_object_set_new(o, "idempotency",
                                json_string((rt->flags & ROUTE_IDEMPOTENT)      ? "required"
                                            : (rt->flags & ROUTE_IDEM_OPTIONAL) ? "optional"
                                                                                : "none"));
            if (in) {
                json_t *q = json_array(), *b = json_array();
                for (int k = 0; k < in->nquery; k++)
                    json_array_append_new(q, field_json(&in->query[k], false));
                for (int k = 0; k < in->nbody; k++)
                    json_array_append_new(b, field_json(&in->body[k], true));
                json_object_set_new(o, "query", q);
                json_object_set_new(o, "body", in->body ? b : json_null());
                if (!in->body)
                    json_decref(b);
                json_object_set_new(o, "body_optional", json_boolean(in->body_optional));
                /* a raw body (forms, channel callbacks) is the handler's to read */
                json_object_set_new(o, "raw_body", json_boolean((rt->flags & ROUTE_RAW_BODY) != 0));
                if (in->path_code)
                    json_object_set_new(o, "path_code", json_string(in->path_code));
            }
            json_array_append_new(all, o);
        }
    s = json_dumps(all, JSON_INDENT(1));
    fprintf(out, "%s\n", s);
    free(s);
    json_decref(all);
}
