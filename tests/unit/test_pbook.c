/* test_pbook.c — suite "pbook": the peer book (sl_pbook.h): align /
   footprint / new / join / leave / delete, join refusing memory never
   formatted, a bad magic, another layout or a deleted book; publish / read
   round trip through two mappings with n clamped to SL_PBOOK_MAX and to
   the reader's max; a writer that died mid-publish; and a reader that
   never mixes two publishes while another thread publishes. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sl_pbook.h"
#include "sl_pbook_private.h"

/* Two mappings of one memfd: the writer's and the reader's. */
typedef struct {
	int fd;
	size_t size;
	void *a;
	void *b;
} twomap_t;

static void twomap_open(twomap_t *m)
{
	m->size = SL_ALIGN_UP(sl_pbook_footprint(), 4096);
	m->fd = memfd_create("pbook", 0);
	ck_assert_int_ge(m->fd, 0);
	ck_assert_int_eq(ftruncate(m->fd, (off_t)m->size), 0);
	m->a = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	m->b = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	ck_assert_ptr_ne(m->a, MAP_FAILED);
	ck_assert_ptr_ne(m->b, MAP_FAILED);
}

static void twomap_close(twomap_t *m)
{
	munmap(m->a, m->size);
	munmap(m->b, m->size);
	close(m->fd);
}

START_TEST(test_align_footprint_and_bad_new)
{
	ck_assert(SL_IS_POW2(sl_pbook_align()));
	ck_assert_uint_ge(sl_pbook_footprint(), SL_PBOOK_MAX * sizeof(sl_pbook_peer_t));
	ck_assert_uint_eq(sl_pbook_footprint() % sl_pbook_align(), 0);
	void *m = aligned_alloc(128, SL_ALIGN_UP(sl_pbook_footprint(), 128));
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(sl_pbook_new(NULL));
	ck_assert_ptr_null(sl_pbook_new((char *)m + 8)); /* misaligned */
	ck_assert_ptr_eq(sl_pbook_new(m), m);
	free(m);
}
END_TEST

/* Memory never formatted, a bad magic or another layout is refused; leave
   gives the memory back; delete unformats it, so a later join fails. */
START_TEST(test_join_refuses_bad_magic_layout_and_deleted)
{
	void *m = aligned_alloc(128, SL_ALIGN_UP(sl_pbook_footprint(), 128));
	ck_assert_ptr_nonnull(m);
	memset(m, 0, sl_pbook_footprint());
	ck_assert_ptr_null(sl_pbook_join(m)); /* zeroed: never formatted */
	ck_assert_ptr_null(sl_pbook_join(NULL));
	ck_assert_ptr_null(sl_pbook_delete(m));
	sl_pbook_t *b = sl_pbook_new(m);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_eq(sl_pbook_join(m), b);
	b->layout = SL_PBOOK_LAYOUT + 1;
	ck_assert_ptr_null(sl_pbook_join(m));
	b->layout = SL_PBOOK_LAYOUT;
	b->max = SL_PBOOK_MAX * 2;
	ck_assert_ptr_null(sl_pbook_join(m));
	b->max = SL_PBOOK_MAX;
	atomic_store(&b->magic, SL_PBOOK_MAGIC ^ 1);
	ck_assert_ptr_null(sl_pbook_join(m));
	ck_assert_ptr_null(sl_pbook_delete(m)); /* not a book: nothing to delete */
	atomic_store(&b->magic, SL_PBOOK_MAGIC);
	ck_assert_ptr_eq(sl_pbook_join(m), b);
	ck_assert_ptr_eq(sl_pbook_leave(b), m);
	ck_assert_ptr_eq(sl_pbook_join(m), b); /* leave changes nothing */
	ck_assert_ptr_eq(sl_pbook_delete(m), m);
	ck_assert_ptr_null(sl_pbook_join(m));
	ck_assert_ptr_null(sl_pbook_delete(m));
	free(m);
}
END_TEST

/* Empty when new; publish / read round trip through two mappings; n is
   clamped to SL_PBOOK_MAX and to the reader's max; a writer that died
   mid-publish makes readers give up with 0, and the next publish recovers. */
START_TEST(test_publish_read_bounds_and_dead_writer)
{
	twomap_t m;
	twomap_open(&m);
	sl_pbook_t *w = sl_pbook_new(m.a);
	sl_pbook_t *r = sl_pbook_join(m.b);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(r);
	sl_pbook_peer_t in[SL_PBOOK_MAX + 4], out[SL_PBOOK_MAX + 4];
	ck_assert_uint_eq(sl_pbook_read(r, out, SL_PBOOK_MAX), 0);
	for (uint32_t i = 0; i < SL_ARRAY_LEN(in); i++) {
		memset(&in[i], 0, sizeof in[i]);
		in[i].ipv4 = 0x0a000000u + i + 1;
		in[i].port = (uint16_t)(9000 + i);
		in[i].flags = (uint16_t)i;
		memset(in[i].node_id, (int)i, sizeof in[i].node_id);
		in[i].last_seen_unix = 1700000000u + i;
	}
	sl_pbook_publish(w, in, 3);
	memset(out, 0, sizeof out);
	ck_assert_uint_eq(sl_pbook_read(r, out, SL_PBOOK_MAX), 3);
	ck_assert_int_eq(memcmp(out, in, 3 * sizeof in[0]), 0);
	ck_assert_uint_eq(sl_pbook_read(r, out, 2), 2);
	ck_assert_uint_eq(sl_pbook_read(r, out, 0), 0);
	sl_pbook_publish(w, in, SL_ARRAY_LEN(in)); /* more than fits */
	ck_assert_uint_eq(sl_pbook_read(r, out, SL_ARRAY_LEN(out)), SL_PBOOK_MAX);
	ck_assert_int_eq(memcmp(out, in, SL_PBOOK_MAX * sizeof in[0]), 0);
	sl_pbook_publish(w, in, 0);
	ck_assert_uint_eq(sl_pbook_read(r, out, SL_PBOOK_MAX), 0);

	sl_pbook_publish(w, in, 5);
	sl_pbook_t *bw = m.a; /* a writer died mid-publish: seq left odd */
	atomic_store(&bw->seq, atomic_load(&bw->seq) + 1);
	ck_assert_uint_eq(sl_pbook_read(r, out, SL_PBOOK_MAX), 0);
	sl_pbook_publish(w, in, 4);
	ck_assert_uint_eq(sl_pbook_read(r, out, SL_PBOOK_MAX), 4);
	ck_assert_uint_eq(atomic_load(&bw->seq) & 1, 0);
	twomap_close(&m);
}
END_TEST

typedef struct {
	sl_pbook_t *b;
	_Atomic int stop;
	uint32_t published;
} book_writer_t;

/* book_writer publishes i entries (1..32) each tagged with i. */
static void *book_writer(void *arg)
{
	book_writer_t *w = arg;
	sl_pbook_peer_t p[SL_PBOOK_MAX];
	uint32_t i = 0;
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		i++;
		uint32_t n = 1 + i % SL_PBOOK_MAX;
		for (uint32_t k = 0; k < n; k++) {
			p[k].ipv4 = i;
			p[k].port = (uint16_t)n;
			p[k].flags = (uint16_t)k;
			memset(p[k].node_id, (int)(i & 0xff), sizeof p[k].node_id);
			p[k].last_seen_unix = ~i;
		}
		sl_pbook_publish(w->b, p, n);
	}
	w->published = i;
	return NULL;
}

/* A writer thread republishes the book while this thread reads it through
   another mapping: no read mixes two publishes. */
START_TEST(test_seqlock_never_torn)
{
	twomap_t m;
	twomap_open(&m);
	book_writer_t w = {.b = sl_pbook_new(m.a)};
	sl_pbook_t *r = sl_pbook_join(m.b);
	ck_assert_ptr_nonnull(w.b);
	ck_assert_ptr_nonnull(r);
	pthread_t t;
	sl_pbook_peer_t p[SL_PBOOK_MAX];
	ck_assert_int_eq(pthread_create(&t, NULL, book_writer, &w), 0);
	uint64_t reads = 0, torn = 0, changes = 0;
	uint32_t last = 0;
	while (reads < 100000 || (changes < 1000 && reads < 20000000)) {
		uint32_t n = sl_pbook_read(r, p, SL_PBOOK_MAX);
		reads++;
		if (n == 0)
			continue;
		uint32_t tag = p[0].ipv4;
		torn += n != 1 + tag % SL_PBOOK_MAX;
		for (uint32_t k = 0; k < n; k++)
			torn += p[k].ipv4 != tag || p[k].port != n || p[k].flags != k ||
			        p[k].node_id[31] != (tag & 0xff) || p[k].last_seen_unix != ~tag;
		changes += tag != last;
		last = tag;
	}
	atomic_store(&w.stop, 1);
	pthread_join(t, NULL);
	printf("test_seqlock_never_torn: %lu reads, %lu changes, %u publishes\n",
	       (unsigned long)reads, (unsigned long)changes, w.published);
	ck_assert_uint_eq(torn, 0);
	ck_assert_uint_ge(changes, 100);
	twomap_close(&m);
}
END_TEST

static Suite *pbook_suite(void)
{
	Suite *s = suite_create("pbook");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_align_footprint_and_bad_new);
	tcase_add_test(tc, test_join_refuses_bad_magic_layout_and_deleted);
	tcase_add_test(tc, test_publish_read_bounds_and_dead_writer);
	tcase_add_test(tc, test_seqlock_never_torn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pbook_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
