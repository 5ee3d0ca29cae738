/* router.c - linear route table; a few hundred routes match in well under a
 * microsecond each, so no trie until a benchmark says otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/router.h"
#include "server/crypto.h"

struct router {
    const app_route **routes;
    int n, cap;
};

router *router_new(void)
{
    return app_calloc(1, sizeof(router));
}

void router_free(router *rt)
{
    if (rt == NULL)
        return;
    free(rt->routes);
    free(rt);
}

/* A parameter segment's body ("id" or "id:int"): a name of [a-z0-9_] and
 * an optional known type. */
static int param_ok(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    size_t name_len = colon ? (size_t)(colon - s) : n;
    if (name_len == 0)
        return 0;
    for (size_t i = 0; i < name_len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return colon == NULL || (n - name_len - 1 == 3 && strncmp(colon + 1, "int", 3) == 0);
}

static int pattern_ok(const char *p)
{
    int nparams = 0;
    if (p == NULL || p[0] != '/')
        return 0;
    for (const char *s = p; *s; s++) {
        if (*s == '{') {
            const char *e = strchr(s, '}');
            if (e == NULL || e == s + 1 || s[-1] != '/' || (e[1] != '/' && e[1] != '\0'))
                return 0;
            if (!param_ok(s + 1, (size_t)(e - s - 1)))
                return 0;
            if (++nparams > APP_MAX_PARAMS)
                return 0;
            s = e;
        } else if (*s == '}') {
            return 0;
        }
    }
    return 1;
}

int router_pattern_param(const char *pattern, int i, char *name, size_t cap, bool *is_int)
{
    int k = 0;
    for (const char *s = strchr(pattern, '{'); s; s = strchr(s + 1, '{'), k++) {
        const char *e = strchr(s, '}'), *colon;
        size_t n;
        if (e == NULL)
            return -1;
        if (k < i)
            continue;
        colon = memchr(s, ':', (size_t)(e - s));
        n = (size_t)((colon ? colon : e) - s - 1);
        if (name)
            snprintf(name, cap, "%.*s", (int)n, s + 1);
        if (is_int)
            *is_int = colon != NULL;
        return 0;
    }
    return -1;
}

void router_pattern_plain(const char *pattern, char *out, size_t cap)
{
    size_t j = 0;
    bool skip = false;
    for (const char *s = pattern; *s && j + 1 < cap; s++) {
        if (*s == ':' )
            skip = true;
        else if (*s == '}')
            skip = false;
        if (!skip)
            out[j++] = *s;
    }
    out[j] = '\0';
}

int router_add(router *rt, const app_route *route)
{
    if (!pattern_ok(route->pattern))
        return -1;
    for (int i = 0; i < rt->n; i++)
        if (rt->routes[i]->method == route->method &&
            strcmp(rt->routes[i]->pattern, route->pattern) == 0)
            return -1;
    if (rt->n == rt->cap) {
        rt->cap = rt->cap ? rt->cap * 2 : 32;
        rt->routes = realloc(rt->routes, (size_t)rt->cap * sizeof *rt->routes);
        if (rt->routes == NULL)
            abort();
    }
    rt->routes[rt->n++] = route;
    return 0;
}

int router_count(const router *rt)
{
    return rt->n;
}

const app_route *router_get(const router *rt, int index)
{
    return (index >= 0 && index < rt->n) ? rt->routes[index] : NULL;
}

/* Percent-decodes one segment; NULL if malformed or it decodes to '/' or NUL
 * (a parameter never spans segments). */
static char *decode_segment(const char *s, size_t n)
{
    char *out = app_malloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n) {
                free(out);
                return NULL;
            }
            hi = crypto_hexval(s[i + 1]);
            lo = crypto_hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) || (hi == 2 && lo == 15)) {
                free(out);
                return NULL;
            }
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* Matches path against pattern; on success fills params. */
static int match(const char *pat, const char *path, router_match *m)
{
    const char *p = pat, *s = path;
    int np = 0;

    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            size_t len = se ? (size_t)(se - s) : strlen(s);
            char *v;
            if (len == 0)
                goto nomatch;
            v = decode_segment(s, len);
            if (v == NULL)
                goto nomatch;
            m->params[np++] = v;
            p = pe + 1;
            s += len;
            continue;
        }
        if (*p != *s)
            goto nomatch;
        p++;
        s++;
    }
    if (*p != '\0' || *s != '\0')
        goto nomatch;
    m->nparams = np;
    return 1;
nomatch:
    for (int i = 0; i < np; i++) {
        free(m->params[i]);
        m->params[i] = NULL;
    }
    return 0;
}

router_result router_lookup(const router *rt, app_method method, const char *path, router_match *m)
{
    memset(m, 0, sizeof *m);
    for (int i = 0; i < rt->n; i++) {
        router_match tmp;
        memset(&tmp, 0, sizeof tmp);
        if (!match(rt->routes[i]->pattern, path, &tmp))
            continue;
        /* HEAD is served by GET routes. */
        if (rt->routes[i]->method == method ||
            (method == M_HEAD && rt->routes[i]->method == M_GET)) {
            router_match_clear(m);
            *m = tmp;
            m->route = rt->routes[i];
            m->index = i;
            return ROUTER_FOUND;
        }
        m->allow |= rt->routes[i]->method;
        if (rt->routes[i]->method == M_GET)
            m->allow |= M_HEAD;
        router_match_clear(&tmp);
    }
    return m->allow ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}

void router_match_clear(router_match *m)
{
    for (int i = 0; i < APP_MAX_PARAMS; i++) {
        free(m->params[i]);
        m->params[i] = NULL;
    }
    m->nparams = 0;
}

static const struct {
    app_method m;
    const char *name;
} methods[] = {
    {M_GET, "GET"}, {M_HEAD, "HEAD"}, {M_POST, "POST"}, {M_PUT, "PUT"},
    {M_PATCH, "PATCH"}, {M_DELETE, "DELETE"}, {M_OPTIONS, "OPTIONS"},
};

void router_allow_string(unsigned allow, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (!(allow & methods[i].m))
            continue;
        len += (size_t)snprintf(buf + len, cap > len ? cap - len : 0, "%s%s", len ? ", " : "",
                                methods[i].name);
        if (len >= cap)
            break;
    }
}

const char *router_method_name(app_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].m == m)
            return methods[i].name;
    return "?";
}

app_method router_method_parse(const char *s)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, s) == 0)
            return methods[i].m;
    return 0;
}
