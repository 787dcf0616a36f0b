/* test_watch.c — suite "watch": the watch subscribers' buffers
   (ctrl/sl_watch.h): a line reaches only the subscribers of its topic; a
   full buffer loses lines and never blocks; after losses the next line a
   subscriber gets is {"event":"dropped","count":N} with N the lines lost,
   whether more events follow or not; slots are bounded and freed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_watch.h"

#define T_OPS  (1u << SL_WATCH_OPS)
#define T_SYNC (1u << SL_WATCH_SYNC)

static sl_watch_t w;

static void setup(void)
{
	sl_watch_init(&w, NULL);
}

static void teardown(void)
{
	sl_watch_fini(&w);
}

static sl_watch_sub_t *sub(uint64_t client, uint32_t topics)
{
	sl_watch_sub_t *s = NULL;
	ck_assert_int_eq(sl_watch_open(&w, client, (int64_t)client, topics, &s), SL_CODE_OK);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->state, SL_WATCH_SUB_LIVE);
	return s;
}

/* Take every queued byte of client into out (NUL-terminated); returns it. */
static char *drain(uint64_t client, char *out, size_t cap)
{
	const char *b;
	size_t n, got = 0;
	while ((n = sl_watch_peek(&w, client, &b)) > 0) {
		ck_assert_uint_lt(got + n, cap);
		memcpy(out + got, b, n);
		got += n;
		sl_watch_consume(&w, client, n);
	}
	out[got] = '\0';
	return out;
}

static void pub(sl_watch_topic_t t, const char *line)
{
	sl_watch_publish(&w, t, line, strlen(line));
}

START_TEST(test_topic_filter)
{
	char out[256];
	sub(1, T_OPS);
	sub(2, T_SYNC);
	ck_assert(sl_watch_wants(&w, SL_WATCH_OPS));
	ck_assert(!sl_watch_wants(&w, SL_WATCH_PEERS));
	pub(SL_WATCH_OPS, "{\"event\":\"ops\"}");
	pub(SL_WATCH_SYNC, "{\"event\":\"sync\"}");
	ck_assert_str_eq(drain(1, out, sizeof out), "{\"event\":\"ops\"}\n");
	ck_assert_str_eq(drain(2, out, sizeof out), "{\"event\":\"sync\"}\n");
}
END_TEST

/* A partial write leaves the rest queued, in order. */
START_TEST(test_partial_consume)
{
	const char *b;
	char out[256];
	sub(1, T_OPS);
	pub(SL_WATCH_OPS, "abcdef");
	pub(SL_WATCH_OPS, "gh");
	ck_assert_uint_eq(sl_watch_peek(&w, 1, &b), 10);
	sl_watch_consume(&w, 1, 4);
	ck_assert_str_eq(drain(1, out, sizeof out), "ef\ngh\n");
}
END_TEST

/* A subscriber that never reads: lines beyond its buffer are lost (the
   publisher never waits); when it reads again, the dropped line with the
   exact count comes before the next event. */
START_TEST(test_full_buffer_drops_then_counts)
{
	char line[1000], *out = malloc(2 * SL_WATCH_BUF);
	const char *b;
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	sub(1, T_OPS);
	uint32_t fit = SL_WATCH_BUF / sizeof line, lost = 0;
	for (uint32_t i = 0; i < fit + 50; i++)
		lost += sl_watch_publish(&w, SL_WATCH_OPS, line, strlen(line));
	ck_assert_uint_eq(lost, 50);
	ck_assert_uint_eq(sl_watch_find(&w, 1)->dropped, 50);
	/* the reader takes what is queued: the dropped line follows at once */
	size_t n = sl_watch_peek(&w, 1, &b);
	ck_assert_uint_eq(n, (size_t)fit * sizeof line);
	sl_watch_consume(&w, 1, n);
	pub(SL_WATCH_OPS, "{\"event\":\"ops\",\"n\":1}");
	ck_assert_str_eq(drain(1, out, 2 * SL_WATCH_BUF),
	                 "{\"event\":\"dropped\",\"count\":50}\n{\"event\":\"ops\",\"n\":1}\n");
	ck_assert_uint_eq(sl_watch_find(&w, 1)->dropped, 0);
	ck_assert_uint_eq(w.cnt.lost, 50);
	free(out);
}
END_TEST

/* Losses while the dropped line itself does not fit keep counting; it
   carries the total since the last line the subscriber got. */
START_TEST(test_dropped_line_waits_for_room)
{
	char line[SL_WATCH_LINE_MAX - 1], out[256];
	const char *b;
	memset(line, 'y', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	sub(1, T_OPS);
	while (sl_watch_publish(&w, SL_WATCH_OPS, line, strlen(line)) == 0)
		;
	pub(SL_WATCH_OPS, "a");
	pub(SL_WATCH_OPS, "b");
	ck_assert_uint_eq(sl_watch_find(&w, 1)->dropped, 3);
	size_t n = sl_watch_peek(&w, 1, &b);
	sl_watch_consume(&w, 1, n);
	ck_assert_str_eq(drain(1, out, sizeof out), "{\"event\":\"dropped\",\"count\":3}\n");
}
END_TEST

/* One slow subscriber does not cost another anything. */
START_TEST(test_slow_does_not_affect_other)
{
	char line[2000], out[4096];
	memset(line, 'z', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	sub(1, T_OPS);
	sub(2, T_OPS);
	for (uint32_t i = 0; i < 200; i++) {
		sl_watch_publish(&w, SL_WATCH_OPS, line, strlen(line));
		drain(2, out, sizeof out);
	}
	ck_assert_uint_gt(sl_watch_find(&w, 1)->dropped, 0);
	ck_assert_uint_eq(sl_watch_find(&w, 2)->dropped, 0);
	ck_assert_uint_eq(sl_watch_find(&w, 2)->lost, 0);
}
END_TEST

START_TEST(test_slots_bounded_and_freed)
{
	sl_watch_sub_t *s;
	for (uint64_t c = 1; c <= SL_WATCH_SUBS_MAX; c++)
		sub(c, T_OPS);
	ck_assert_int_eq(sl_watch_open(&w, 99, 1, T_OPS, &s), SL_CODE_BUSY);
	ck_assert_int_eq(sl_watch_open(&w, 1, 1, T_OPS, &s), SL_CODE_BAD_REQUEST);
	ck_assert_int_eq(sl_watch_open(&w, 100, 1, 0, &s), SL_CODE_BAD_REQUEST);
	sl_watch_close(&w, 3);
	ck_assert_uint_eq(w.wants[SL_WATCH_OPS], SL_WATCH_SUBS_MAX - 1);
	sub(99, T_OPS);
	ck_assert_uint_eq(w.n_live, SL_WATCH_SUBS_MAX);
}
END_TEST

START_TEST(test_topic_names)
{
	ck_assert_int_eq(sl_watch_topic_find("misbehavior", 11), SL_WATCH_MISBEHAVIOR);
	ck_assert_int_eq(sl_watch_topic_find("opsx", 4), SL_WATCH_TOPIC_CNT);
	ck_assert_str_eq(sl_watch_topic_str(SL_WATCH_PEERS), "peers");
}
END_TEST

static Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_topic_filter);
	tcase_add_test(t, test_partial_consume);
	tcase_add_test(t, test_full_buffer_drops_then_counts);
	tcase_add_test(t, test_dropped_line_waits_for_room);
	tcase_add_test(t, test_slow_does_not_affect_other);
	tcase_add_test(t, test_slots_bounded_and_freed);
	tcase_add_test(t, test_topic_names);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(watch_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
