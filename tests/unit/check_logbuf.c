/* logbuf (issue 12): access-log lines are buffered, written whole, only when
 * flushed, when they no longer fit, and at cleanup; a failed write drops the
 * buffered lines instead of stopping the caller. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "server/logbuf.h"
#include "tests/unit/check_util.h"

static int fds[2];

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
}

static void teardown(void)
{
    close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
}

/* What the pipe holds now ("" when nothing was written). */
static const char *drain(void)
{
    static char got[8192];
    ssize_t n = read(fds[0], got, sizeof got - 1);
    if (n < 0) {
        ck_assert_int_eq(errno, EAGAIN);
        n = 0;
    }
    got[n] = '\0';
    return got;
}

START_TEST(lines_wait_for_the_flush)
{
    logbuf b;
    logbuf_init(&b, fds[1], 4096);
    logbuf_line(&b, "one", 3);
    logbuf_line(&b, "two", 3);
    logbuf_line(&b, "three", 5);
    ck_assert_str_eq(drain(), ""); /* not a single write per line */
    ck_assert_int_eq(logbuf_flush(&b), 0);
    ck_assert_str_eq(drain(), "one\ntwo\nthree\n");
    ck_assert_int_eq(logbuf_flush(&b), 0); /* nothing left: nothing written */
    ck_assert_str_eq(drain(), "");
    logbuf_cleanup(&b);
}
END_TEST

START_TEST(a_full_buffer_is_written_in_whole_lines)
{
    logbuf b;
    char line[100];
    memset(line, 'x', sizeof line);
    logbuf_init(&b, fds[1], 256);
    logbuf_line(&b, line, 100);
    logbuf_line(&b, line, 100); /* 202 of 256 */
    ck_assert_str_eq(drain(), "");
    logbuf_line(&b, "tail", 4); /* 207 */
    ck_assert_str_eq(drain(), "");
    logbuf_line(&b, line, 100); /* does not fit: the first three lines go */
    ck_assert_int_eq((int)strlen(drain()), 101 + 101 + 5);
    logbuf_cleanup(&b); /* the last line at cleanup */
    ck_assert_int_eq((int)strlen(drain()), 101);
}
END_TEST

START_TEST(reserve_and_commit_build_a_line_in_place)
{
    logbuf b;
    char *at;
    logbuf_init(&b, fds[1], 256);
    logbuf_line(&b, "first", 5);
    at = logbuf_reserve(&b, 200);
    ck_assert_ptr_nonnull(at);
    memcpy(at, "built", 5);
    logbuf_commit(&b, 5); /* shorter than reserved */
    ck_assert_str_eq(drain(), "");
    at = logbuf_reserve(&b, 250); /* 12 used + 251 > 256: flushed first */
    ck_assert_ptr_nonnull(at);
    ck_assert_str_eq(drain(), "first\nbuilt\n");
    ck_assert_ptr_null(logbuf_reserve(&b, 256)); /* longer than the buffer */
    logbuf_cleanup(&b);
    ck_assert_str_eq(drain(), "");
}
END_TEST

START_TEST(a_line_longer_than_the_buffer_follows_the_buffered_ones)
{
    logbuf b;
    char big[600];
    const char *got;
    memset(big, 'y', sizeof big);
    logbuf_init(&b, fds[1], 256);
    logbuf_line(&b, "before", 6);
    logbuf_line(&b, big, sizeof big);
    got = drain();
    ck_assert_int_eq((int)strlen(got), 7 + 601);
    ck_assert(strncmp(got, "before\nyyy", 10) == 0);
    ck_assert_int_eq(got[606], 'y');
    ck_assert_int_eq(got[607], '\n');
    logbuf_cleanup(&b);
}
END_TEST

START_TEST(a_failed_write_drops_the_lines_and_carries_on)
{
    logbuf b;
    logbuf_init(&b, fds[1], 256);
    logbuf_line(&b, "lost", 4);
    close(fds[0]); /* nobody reads: EPIPE */
    fds[0] = open("/dev/null", O_RDONLY);
    ck_assert_int_eq(logbuf_flush(&b), -1);
    ck_assert_int_eq((int)b.len, 0);
    logbuf_line(&b, "next", 4);
    ck_assert_int_eq((int)b.len, 5);
    logbuf_cleanup(&b);
}
END_TEST

START_TEST(cleanup_accepts_a_zeroed_buffer)
{
    logbuf b = {0};
    logbuf_cleanup(&b);
    ck_assert_ptr_null(b.p);
}
END_TEST

Suite *logbuf_suite(void)
{
    Suite *s = suite_create("logbuf");
    TCase *tc = check_tcase(s, "core", CHECK_TESTS(lines_wait_for_the_flush,
                      a_full_buffer_is_written_in_whole_lines, reserve_and_commit_build_a_line_in_place,
                      a_line_longer_than_the_buffer_follows_the_buffered_ones,
                      a_failed_write_drops_the_lines_and_carries_on, cleanup_accepts_a_zeroed_buffer));
    tcase_add_checked_fixture(tc, setup, teardown);
    return s;
}
