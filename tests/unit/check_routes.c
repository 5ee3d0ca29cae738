/* The route table of every module (server/modules.c), checked as a whole:
 * every state-changing route honours Idempotency-Key (issue 10, item 10),
 * unless the allow-list below says why it cannot. A new mutating route
 * without ROUTE_IDEMPOTENT or ROUTE_IDEM_OPTIONAL fails here. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "server/modules.h"
#include "server/router.h"
#include "tests/unit/check_util.h"

#define MUTATING (M_POST | M_PUT | M_PATCH | M_DELETE)
#define IDEM_FLAGS (ROUTE_IDEMPOTENT | ROUTE_IDEM_OPTIONAL)

/* Mutating routes that do not take an Idempotency-Key, and why. Keep each
 * reason true; the test also fails for an entry that matches no route or a
 * route that honours the key after all. */
static const struct {
    app_method method;
    const char *pattern;
    const char *why;
} allowed[] = {
    /* Called by the payment channels, which send no Idempotency-Key: they
     * resend the same notification (same notify_id / trade number) and the
     * unique keys on payments (order; channel + trade_no) apply it once. */
    {M_POST, "/v1/payments/notify/{channel}", "channel notifications de-duplicate on the channel's ids"},
    /* WeChat Pay's refund notifications: the same, keyed by out_refund_no
     * on a locked refund row; a resend of a finished refund is a duplicate. */
    {M_POST, "/v1/payments/notify/wechatpay/refund", "refund notifications de-duplicate on the refund's ids"},
    /* Anonymous: there is no caller to scope a key to, and the answer holds
     * fresh access and refresh tokens, which must not be stored at rest to
     * be replayed. A retried login just opens another session. */
    {M_POST, "/v1/auth/login", "anonymous; the answer is new credentials"},
    /* The refresh token is the credential and is single-use by design
     * (rotation with reuse detection): replaying a stored answer would hand
     * the new token pair to whoever presents the spent one. */
    {M_POST, "/v1/auth/refresh", "single-use rotation is its own idempotency"},
    /* Ends the session of the bearer token it is called with: a retry is
     * refused 401 (the token is already ended) before any key could be
     * looked up, and ending an ended session changes nothing. */
    {M_POST, "/v1/auth/logout", "naturally idempotent; the token it ends authenticates it"},
    /* A read sent as POST so the ID number stays out of URLs and logs. It
     * changes nothing but its own audit record, and a stored answer would
     * hand out personal data again without a fresh, audited read. */
    {M_POST, "/v1/citizens/lookup", "a read, not a change"},
};
#define NALLOWED ((int)(sizeof allowed / sizeof allowed[0]))

static int allowed_index(const app_route *rt)
{
    for (int i = 0; i < NALLOWED; i++)
        if (allowed[i].method == rt->method && strcmp(allowed[i].pattern, rt->pattern) == 0)
            return i;
    return -1;
}

START_TEST(every_mutating_route_honours_idempotency_key)
{
    char missing[4096] = "";
    size_t len = 0;
    int n = 0, checked = 0;

    for (int m = 0; m < modules_count; m++) {
        const app_module *mod = modules_all[m];
        for (int j = 0; j < mod->nroutes; j++) {
            const app_route *rt = &mod->routes[j];
            if (!(rt->method & MUTATING))
                continue;
            checked++;
            if ((rt->flags & IDEM_FLAGS) || allowed_index(rt) >= 0)
                continue;
            n++;
            len += (size_t)snprintf(missing + len, len < sizeof missing ? sizeof missing - len : 0,
                                    "\n  %s: %s %s", mod->name, router_method_name(rt->method), rt->pattern);
            if (len >= sizeof missing)
                len = sizeof missing - 1;
        }
    }
    ck_assert_msg(checked > 30, "the walk saw only %d mutating routes", checked);
    ck_assert_msg(n == 0, "%d mutating route(s) ignore Idempotency-Key (set ROUTE_IDEMPOTENT or "
                          "ROUTE_IDEM_OPTIONAL, or allow-list with a reason):%s", n, missing);
}
END_TEST

START_TEST(allow_list_entries_are_live_and_needed)
{
    for (int i = 0; i < NALLOWED; i++) {
        const app_route *found = NULL;
        ck_assert_msg(allowed[i].method & MUTATING, "%s: only mutating routes need an entry", allowed[i].pattern);
        ck_assert_ptr_nonnull(allowed[i].why);
        for (int m = 0; m < modules_count; m++)
            for (int j = 0; j < modules_all[m]->nroutes; j++) {
                const app_route *rt = &modules_all[m]->routes[j];
                if (rt->method == allowed[i].method && strcmp(rt->pattern, allowed[i].pattern) == 0)
                    found = rt;
            }
        ck_assert_msg(found != NULL, "allow-listed %s %s is no route any more: remove the entry",
                      router_method_name(allowed[i].method), allowed[i].pattern);
        ck_assert_msg(!(found->flags & IDEM_FLAGS), "%s %s honours the key: remove it from the allow-list",
                      router_method_name(allowed[i].method), allowed[i].pattern);
    }
}
END_TEST

/* Keys are scoped to the authenticated caller; every anonymous caller shares
 * one scope, so on a public route one caller could replay another's answer.
 * Inline routes run without a database, where keys live. Read-only methods
 * have nothing to de-duplicate. */
START_TEST(idempotency_only_where_it_can_work)
{
    for (int m = 0; m < modules_count; m++)
        for (int j = 0; j < modules_all[m]->nroutes; j++) {
            const app_route *rt = &modules_all[m]->routes[j];
            if (!(rt->flags & IDEM_FLAGS))
                continue;
            ck_assert_msg(!(rt->flags & ROUTE_PUBLIC), "%s: public route with Idempotency-Key", rt->pattern);
            ck_assert_msg(!(rt->flags & ROUTE_INLINE), "%s: inline route with Idempotency-Key", rt->pattern);
            ck_assert_msg(rt->method & MUTATING, "%s %s: Idempotency-Key on a read",
                          router_method_name(rt->method), rt->pattern);
            ck_assert_msg((rt->flags & IDEM_FLAGS) != IDEM_FLAGS, "%s: both idempotency flags", rt->pattern);
        }
}
END_TEST

/* Money leaving the bureau needs the key, not just honours it (issue 10:
 * the same refund request was created twice). */
START_TEST(refund_request_requires_the_key)
{
    int seen = 0;
    for (int m = 0; m < modules_count; m++)
        for (int j = 0; j < modules_all[m]->nroutes; j++) {
            const app_route *rt = &modules_all[m]->routes[j];
            if (rt->method == M_POST && strcmp(rt->pattern, "/v1/refunds") == 0) {
                ck_assert(rt->flags & ROUTE_IDEMPOTENT);
                seen++;
            }
        }
    ck_assert_int_eq(seen, 1);
}
END_TEST

Suite *routes_suite(void)
{
    Suite *s = suite_create("routes");
    check_tcase(s, "table", CHECK_TESTS(every_mutating_route_honours_idempotency_key,
                      allow_list_entries_are_live_and_needed, idempotency_only_where_it_can_work,
                      refund_request_requires_the_key));
    return s;
}
