/* test_msgq.c — suite "msgq": the message ring (sl_msgq.h): footprint and
   new on bad arguments, join refusing a ring of another depth, memory
   never formatted, a bad magic or another layout, leave / delete, FIFO
   order, a depth-D ring holding D - 1 records, and position independence
   (the same bytes mapped at two addresses). */
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sl_msgq.h"
#include "sl_msgq_private.h"

#define DEPTH 64u

static void *ring_mem(uint32_t depth)
{
	size_t fp = sl_msgq_footprint(depth);
	ck_assert_uint_gt(fp, 0);
	void *m = aligned_alloc(128, SL_ALIGN_UP(fp, 128));
	ck_assert_ptr_nonnull(m);
	memset(m, 0, fp);
	return m;
}

START_TEST(test_footprint_rules)
{
	ck_assert_uint_eq(sl_msgq_footprint(0), 0);
	ck_assert_uint_eq(sl_msgq_footprint(1), 0);
	ck_assert_uint_eq(sl_msgq_footprint(48), 0); /* not a power of two */
	size_t a = sl_msgq_footprint(DEPTH), b = sl_msgq_footprint(2 * DEPTH);
	ck_assert_uint_ge(a, (size_t)DEPTH * SL_MSG_SIZE);
	ck_assert_uint_eq(b - a, (size_t)DEPTH * SL_MSG_SIZE);
}
END_TEST

START_TEST(test_new_on_bad_arguments_fails)
{
	void *m = ring_mem(DEPTH);
	ck_assert_ptr_null(sl_msgq_new(NULL, DEPTH));
	ck_assert_ptr_null(sl_msgq_new(m, 48));
	ck_assert_ptr_null(sl_msgq_new((char *)m + 8, DEPTH)); /* misaligned */
	ck_assert_ptr_nonnull(sl_msgq_new(m, DEPTH));
	free(m);
}
END_TEST

START_TEST(test_join_refuses_unformatted_or_other_depth)
{
	void *m = ring_mem(DEPTH);
	ck_assert_ptr_null(sl_msgq_join(m, DEPTH)); /* zeroed: never formatted */
	ck_assert_ptr_null(sl_msgq_join(NULL, DEPTH));
	struct rte_ring *q = sl_msgq_new(m, DEPTH);
	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_null(sl_msgq_join(m, DEPTH / 2));
	ck_assert_ptr_null(sl_msgq_join(m, DEPTH * 2));
	ck_assert_ptr_eq(sl_msgq_join(m, DEPTH), q);
	ck_assert_ptr_eq(sl_msgq_of(m), q);
	free(m);
}
END_TEST

/* A ring of another build (magic or layout) is refused; leave gives the
   memory back; delete unformats it, so a later join fails. */
START_TEST(test_join_refuses_other_layout_and_deleted)
{
	void *m = ring_mem(DEPTH);
	sl_msgq_shm_t *h = m;
	struct rte_ring *q = sl_msgq_new(m, DEPTH);
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(sl_msgq_align() % 64, 0);
	h->layout = SL_MSGQ_LAYOUT + 1;
	ck_assert_ptr_null(sl_msgq_join(m, DEPTH));
	h->layout = SL_MSGQ_LAYOUT;
	atomic_store(&h->magic, SL_MSGQ_MAGIC ^ 1);
	ck_assert_ptr_null(sl_msgq_join(m, DEPTH));
	ck_assert_ptr_null(sl_msgq_delete(m)); /* not a ring: nothing to delete */
	atomic_store(&h->magic, SL_MSGQ_MAGIC);
	ck_assert_ptr_eq(sl_msgq_join(m, DEPTH), q);
	ck_assert_ptr_eq(sl_msgq_leave(q), m);
	ck_assert_ptr_eq(sl_msgq_delete(m), m);
	ck_assert_ptr_null(sl_msgq_join(m, DEPTH));
	ck_assert_ptr_null(sl_msgq_delete(m));
	free(m);
}
END_TEST

START_TEST(test_fifo_and_capacity)
{
	void *mem = ring_mem(DEPTH);
	struct rte_ring *q = sl_msgq_new(mem, DEPTH);
	ck_assert_ptr_nonnull(q);
	sl_msg_t m;
	ck_assert_int_eq(sl_msgq_recv(q, &m), -ENOENT);
	ck_assert_uint_eq(sl_msgq_room(q), DEPTH - 1);
	ck_assert_uint_eq(sl_msgq_pending(q), 0);
	for (uint32_t i = 0; i < DEPTH - 1; i++) {
		memset(&m, 0, sizeof m);
		m.corr = i + 1;
		m.payload[sizeof m.payload - 1] = (uint8_t)i;
		ck_assert_int_eq(sl_msgq_send(q, &m), 0);
		ck_assert_uint_eq(sl_msgq_pending(q), i + 1);
	}
	ck_assert_uint_eq(sl_msgq_room(q), 0);
	ck_assert_int_eq(sl_msgq_send(q, &m), -ENOBUFS);
	for (uint32_t i = 0; i < DEPTH - 1; i++) {
		ck_assert_int_eq(sl_msgq_recv(q, &m), 0);
		ck_assert_uint_eq(m.corr, i + 1);
		ck_assert_uint_eq(m.payload[sizeof m.payload - 1], (uint8_t)i);
		ck_assert_uint_eq(sl_msgq_pending(q), DEPTH - 2 - i);
	}
	ck_assert_int_eq(sl_msgq_recv(q, &m), -ENOENT);
	free(mem);
}
END_TEST

START_TEST(test_position_independent)
{
	size_t fp = SL_ALIGN_UP(sl_msgq_footprint(DEPTH), 4096);
	int fd = memfd_create("msgq", 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)fp), 0);
	void *a = mmap(NULL, fp, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void *b = mmap(NULL, fp, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(a, MAP_FAILED);
	ck_assert_ptr_ne(b, MAP_FAILED);
	struct rte_ring *qa = sl_msgq_new(a, DEPTH);
	struct rte_ring *qb = sl_msgq_join(b, DEPTH);
	ck_assert_ptr_nonnull(qa);
	ck_assert_ptr_nonnull(qb);
	sl_msg_t m = {.type = 7, .corr = 42};
	ck_assert_int_eq(sl_msgq_send(qa, &m), 0);
	memset(&m, 0, sizeof m);
	ck_assert_int_eq(sl_msgq_recv(qb, &m), 0);
	ck_assert_uint_eq(m.type, 7);
	ck_assert_uint_eq(m.corr, 42);
	munmap(a, fp);
	munmap(b, fp);
	close(fd);
}
END_TEST

static Suite *msgq_suite(void)
{
	Suite *s = suite_create("msgq");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_footprint_rules);
	tcase_add_test(tc, test_new_on_bad_arguments_fails);
	tcase_add_test(tc, test_join_refuses_unformatted_or_other_depth);
	tcase_add_test(tc, test_join_refuses_other_layout_and_deleted);
	tcase_add_test(tc, test_fifo_and_capacity);
	tcase_add_test(tc, test_position_independent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(msgq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
