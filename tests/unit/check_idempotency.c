/* The decision on an Idempotency-Key someone already claimed
 * (server/idempotency.c, idem_decide): replay, 422, 409 while a live
 * process works on it, takeover of a claim orphaned by a dead process at
 * once and of any claim after the stale window. */
#include <check.h>

#include "server/http_internal.h"
#include "server/incarnation.h"
#include "tests/unit/check_util.h"

#define STALE 300
#define ORPHAN 15

/* A claim of a live process, made a second ago, by the same request. */
static idem_seen live_claim(void)
{
    return (idem_seen){.same_request = true, .done = false, .age_s = 1, .has_owner = true,
                       .owner_known = true, .owner_stopped = false, .owner_silent_s = 2};
}

START_TEST(different_request_is_reused_whatever_the_state)
{
    idem_seen k = live_claim();
    k.same_request = false;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_REUSED);
    k.done = true;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_REUSED);
    k.done = false;
    k.owner_stopped = true; /* not even an orphan may be taken by another request */
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_REUSED);
}
END_TEST

START_TEST(done_is_replayed_even_if_its_process_died)
{
    idem_seen k = live_claim();
    k.done = true;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_REPLAY);
    k.owner_stopped = true;
    k.age_s = 100000;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_REPLAY);
}
END_TEST

START_TEST(live_process_claim_is_in_flight)
{
    idem_seen k = live_claim();
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_IN_FLIGHT);
    /* A long request of a live process: still protected until the stale window. */
    k.age_s = STALE - 1;
    k.owner_silent_s = ORPHAN - 1;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_IN_FLIGHT);
}
END_TEST

START_TEST(claim_of_stopped_process_is_taken_over_at_once)
{
    idem_seen k = live_claim();
    k.owner_stopped = true;
    k.age_s = 0;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_TAKE_OVER);
}
END_TEST

START_TEST(claim_of_silent_process_is_taken_over_after_orphan_limit)
{
    idem_seen k = live_claim();
    k.owner_silent_s = ORPHAN;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_TAKE_OVER);
    k.owner_silent_s = ORPHAN - 1;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_IN_FLIGHT);
}
END_TEST

START_TEST(claim_of_unknown_incarnation_is_orphaned)
{
    idem_seen k = live_claim();
    k.owner_known = false; /* pruned: its process is long gone */
    k.owner_silent_s = 0;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_TAKE_OVER);
}
END_TEST

START_TEST(ownerless_claim_waits_for_stale_window)
{
    /* Made before incarnations existed (or by a CLI command): no liveness
     * to go by, only age. */
    idem_seen k = {.same_request = true, .age_s = STALE - 1, .has_owner = false};
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_IN_FLIGHT);
    k.age_s = STALE;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_TAKE_OVER);
}
END_TEST

START_TEST(stuck_live_claim_is_taken_over_after_stale_window)
{
    idem_seen k = live_claim();
    k.age_s = STALE;
    ck_assert_int_eq(idem_decide(&k, STALE, ORPHAN), IDEM_TAKE_OVER);
}
END_TEST

START_TEST(heartbeat_is_a_quarter_of_the_orphan_limit)
{
    ck_assert_int_eq(incarnation_beat_s(15), 3);
    ck_assert_int_eq(incarnation_beat_s(3), 1);
    ck_assert_int_eq(incarnation_beat_s(1), 1);
    ck_assert_int_eq(incarnation_beat_s(3600), 900);
}
END_TEST

Suite *idempotency_suite(void)
{
    Suite *s = suite_create("idempotency");
    check_tcase(s, "decide",
                CHECK_TESTS(different_request_is_reused_whatever_the_state, done_is_replayed_even_if_its_process_died,
                            live_process_claim_is_in_flight, claim_of_stopped_process_is_taken_over_at_once,
                            claim_of_silent_process_is_taken_over_after_orphan_limit,
                            claim_of_unknown_incarnation_is_orphaned, ownerless_claim_waits_for_stale_window,
                            stuck_live_claim_is_taken_over_after_stale_window,
                            heartbeat_is_a_quarter_of_the_orphan_limit));
    return s;
}
