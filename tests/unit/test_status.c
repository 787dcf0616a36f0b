/* test_status.c — suite "status": the published local status
   (sl_status.h): align / footprint / new / join / leave / delete, join
   refusing memory never formatted, a bad magic, another layout or a
   deleted status; publish / read round trip through two mappings of the
   same memory; the version owned by publish; a writer that died
   mid-publish; and a reader that never sees a torn record while another
   thread publishes. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sl_status.h"
#include "sl_status_private.h"

/* Two mappings of one memfd: the writer's and the reader's. */
typedef struct {
	int fd;
	size_t size;
	void *a;
	void *b;
} twomap_t;

static void twomap_open(twomap_t *m)
{
	m->size = SL_ALIGN_UP(sl_status_footprint(), 4096);
	m->fd = memfd_create("status", 0);
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
	ck_assert(SL_IS_POW2(sl_status_align()));
	ck_assert_uint_ge(sl_status_footprint(), SL_STATUS_SEQ_OFF + sizeof(sl_local_status_t));
	ck_assert_uint_eq(sl_status_footprint() % sl_status_align(), 0);
	void *m = aligned_alloc(128, SL_ALIGN_UP(sl_status_footprint(), 128));
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(sl_status_new(NULL));
	ck_assert_ptr_null(sl_status_new((char *)m + 8)); /* misaligned */
	ck_assert_ptr_eq(sl_status_new(m), m);
	free(m);
}
END_TEST

/* Memory never formatted, a bad magic or another layout is refused; leave
   gives the memory back; delete unformats it, so a later join fails. */
START_TEST(test_join_refuses_bad_magic_layout_and_deleted)
{
	void *m = aligned_alloc(128, SL_ALIGN_UP(sl_status_footprint(), 128));
	ck_assert_ptr_nonnull(m);
	memset(m, 0, sl_status_footprint());
	ck_assert_ptr_null(sl_status_join(m)); /* zeroed: never formatted */
	ck_assert_ptr_null(sl_status_join(NULL));
	ck_assert_ptr_null(sl_status_delete(m));
	sl_status_t *s = sl_status_new(m);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(sl_status_join(m), s);
	s->layout = SL_STATUS_LAYOUT + 1;
	ck_assert_ptr_null(sl_status_join(m));
	s->layout = SL_STATUS_LAYOUT;
	s->rec_size = sizeof(sl_local_status_t) + 8;
	ck_assert_ptr_null(sl_status_join(m));
	s->rec_size = sizeof(sl_local_status_t);
	atomic_store(&s->magic, SL_STATUS_MAGIC ^ 1);
	ck_assert_ptr_null(sl_status_join(m));
	ck_assert_ptr_null(sl_status_delete(m)); /* not a status: nothing to delete */
	atomic_store(&s->magic, SL_STATUS_MAGIC);
	ck_assert_ptr_eq(sl_status_join(m), s);
	ck_assert_ptr_eq(sl_status_leave(s), m);
	ck_assert_ptr_eq(sl_status_join(m), s); /* leave changes nothing */
	ck_assert_ptr_eq(sl_status_delete(m), m);
	ck_assert_ptr_null(sl_status_join(m));
	ck_assert_ptr_null(sl_status_delete(m));
	free(m);
}
END_TEST

/* Round trip through two mappings: nothing at first (version 0), publish
   owns the version, the seq word stays even between publishes; a writer
   that died mid-publish (seq left odd) makes readers give up with 0, and
   the next publish recovers. */
START_TEST(test_publish_read_version_and_dead_writer)
{
	twomap_t m;
	twomap_open(&m);
	sl_status_t *w = sl_status_new(m.a);
	sl_status_t *r = sl_status_join(m.b);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_nonnull(r);
	sl_local_status_t s, out;
	ck_assert_uint_eq(sl_status_read(r, &out), 0);
	ck_assert_uint_eq(sl_status_seq(r), 0);
	memset(&s, 0, sizeof s);
	s.best_height = 100;
	s.finalized_height = 90;
	memset(s.best_hash, 0xab, sizeof s.best_hash);
	memset(s.chainwork, 0xcd, sizeof s.chainwork);
	s.version = 777; /* ignored: publish owns the version */
	sl_status_publish(w, &s);
	ck_assert_uint_eq(sl_status_read(r, &out), 1);
	ck_assert_uint_eq(out.version, 1);
	ck_assert_uint_eq(out.best_height, 100);
	ck_assert_uint_eq(out.finalized_height, 90);
	ck_assert_uint_eq(out.best_hash[31], 0xab);
	ck_assert_uint_eq(out.chainwork[0], 0xcd);
	uint64_t seq1 = sl_status_seq(r);
	ck_assert_uint_eq(seq1 & 1, 0);
	sl_status_publish(w, &s);
	ck_assert_uint_eq(sl_status_read(r, &out), 2);
	ck_assert_uint_gt(sl_status_seq(r), seq1);
	ck_assert_uint_eq(sl_status_seq(r) & 1, 0);

	sl_status_t *sw = m.a; /* a writer died mid-publish: seq left odd */
	atomic_store(&sw->seq, atomic_load(&sw->seq) + 1);
	ck_assert_uint_eq(sl_status_seq(r) & 1, 1);
	out.best_height = 5;
	ck_assert_uint_eq(sl_status_read(r, &out), 0);
	ck_assert_uint_eq(out.best_height, 0); /* zeroed when none could be read */
	sl_status_publish(w, &s);
	ck_assert_uint_eq(sl_status_read(r, &out), 3);
	ck_assert_uint_eq(sl_status_seq(r) & 1, 0);
	twomap_close(&m);
}
END_TEST

typedef struct {
	sl_status_t *s;
	_Atomic int stop;
	uint32_t published;
} status_writer_t;

static void *status_writer(void *arg)
{
	status_writer_t *w = arg;
	sl_local_status_t s;
	uint32_t i = 0;
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		i++;
		s.best_height = i;
		s.finalized_height = ~i;
		memset(s.best_hash, (int)(i & 0xff), sizeof s.best_hash);
		memset(s.chainwork, (int)((i >> 8) & 0xff), sizeof s.chainwork);
		sl_status_publish(w->s, &s);
	}
	w->published = i;
	return NULL;
}

/* status_consistent: the record is one publish of status_writer, version i. */
static bool status_consistent(const sl_local_status_t *s, uint64_t v)
{
	if (v != s->version || s->best_height != v || s->finalized_height != ~s->best_height)
		return false;
	for (size_t i = 0; i < 32; i++)
		if (s->best_hash[i] != (s->best_height & 0xff) ||
		    s->chainwork[i] != ((s->best_height >> 8) & 0xff))
			return false;
	return true;
}

/* A writer thread publishes through one mapping while this thread reads
   through another: >= 100k reads, none torn, versions never go back. */
START_TEST(test_seqlock_never_torn)
{
	twomap_t m;
	twomap_open(&m);
	status_writer_t w = {.s = sl_status_new(m.a)};
	sl_status_t *r = sl_status_join(m.b);
	ck_assert_ptr_nonnull(w.s);
	ck_assert_ptr_nonnull(r);
	pthread_t t;
	sl_local_status_t s;
	ck_assert_int_eq(pthread_create(&t, NULL, status_writer, &w), 0);
	while (sl_status_read(r, &s) == 0)
		; /* wait for the first publish */
	uint64_t reads = 0, last = 0, changes = 0, torn = 0, back = 0;
	while (reads < 100000 || (changes < 10000 && reads < 50000000)) {
		uint64_t v = sl_status_read(r, &s);
		reads++;
		torn += !status_consistent(&s, v);
		back += v < last;
		changes += v != last;
		last = v;
	}
	atomic_store(&w.stop, 1);
	pthread_join(t, NULL);
	printf("test_seqlock_never_torn: %lu reads, %lu distinct versions, %u publishes\n",
	       (unsigned long)reads, (unsigned long)changes, w.published);
	ck_assert_uint_eq(torn, 0);
	ck_assert_uint_eq(back, 0);
	ck_assert_uint_ge(reads, 100000);
	ck_assert_uint_ge(changes, 100); /* the writer really ran concurrently */
	ck_assert_uint_eq(sl_status_read(r, &s), w.published);
	ck_assert(status_consistent(&s, w.published));
	twomap_close(&m);
}
END_TEST

static Suite *status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_align_footprint_and_bad_new);
	tcase_add_test(tc, test_join_refuses_bad_magic_layout_and_deleted);
	tcase_add_test(tc, test_publish_read_version_and_dead_writer);
	tcase_add_test(tc, test_seqlock_never_torn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(status_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
