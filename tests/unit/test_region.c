/* test_region.c — suite "region": the shared control region (sl_region.h). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include "sl_cmdq.h"
#include "sl_dpregion.h"
#include "sl_pbook.h"
#include "sl_rangeq.h"
#include "sl_region.h"
#include "sl_session.h"
#include "sl_status.h"
#include "sl_region_private.h"
#include "sl_time.h"

#define N_LCORES 3

static char rpath[256];
static pid_t suite_pid; /* the runner's pid: names every file this suite makes */

/* new_path makes a unique region path in `dir`. */
static const char *new_path(const char *dir)
{
	static unsigned n;
	char inst[32];
	snprintf(inst, sizeof inst, "ut%d-%d-%u", (int)suite_pid, (int)getpid(), n++);
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, dir, inst), 0);
	unlink(rpath);
	return rpath;
}

/* sweep (runner process, after the case) removes what a failed or killed
   test left behind, so nothing stays in /dev/shm or on hugetlbfs. */
static void sweep(void)
{
	static const char *const dirs[] = {"/dev/shm", "/dev/hugepages"};
	for (size_t d = 0; d < SL_ARRAY_LEN(dirs); d++) {
		char pat[128];
		glob_t g;
		snprintf(pat, sizeof pat, "%s/sluice-ut%d-*.region", dirs[d], (int)suite_pid);
		if (glob(pat, 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

static void create_ok(sl_region_t *r, const char *path)
{
	ck_assert_int_eq(sl_dpregion_create(r, path, N_LCORES, "unit"), 0);
}

static void fill_msg(sl_msg_t *m, unsigned seed)
{
	uint8_t *p = (uint8_t *)m;
	for (size_t i = 0; i < sizeof *m; i++)
		p[i] = (uint8_t)(rand_r(&seed) & 0xff);
}

/* dead_pid returns the pid of a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

START_TEST(test_footprint_and_path)
{
	ck_assert_uint_eq(sl_region_footprint(0, 4096), 0);
	ck_assert_uint_eq(sl_region_footprint(SL_MAX_LCORES + 1, 4096), 0);
	size_t one = sl_region_footprint(1, 4096), two = sl_region_footprint(2, 4096);
	ck_assert_uint_gt(one, sizeof(sl_region_hdr_t));
	ck_assert_uint_eq(one % 4096, 0);
	ck_assert_uint_gt(two, one);
	size_t huge = sl_region_footprint(2, 2u << 20);
	ck_assert_uint_eq(huge % (2u << 20), 0);
	ck_assert_uint_ge(huge, two);
	char p[64];
	ck_assert_int_eq(sl_region_path(p, sizeof p, "/dev/shm", "node1"), 0);
	ck_assert_str_eq(p, "/dev/shm/sluice-node1.region");
	ck_assert_int_eq(sl_region_path(p, 20, "/dev/shm", "node1"), -ENAMETOOLONG);
	ck_assert_int_eq(sl_region_path(p, sizeof p, "/dev/shm", ""), -EINVAL);
	ck_assert_int_eq(sl_region_path(p, sizeof p, "/dev/shm", "a/b"), -EINVAL);
}
END_TEST

START_TEST(test_create_rejects_bad_args)
{
	sl_region_t r;
	const char *path = new_path("/dev/shm");
	ck_assert_int_eq(sl_region_create(&r, path, 0, "unit"), -EINVAL);
	ck_assert_int_eq(sl_region_create(&r, path, SL_MAX_LCORES + 1, "unit"), -EINVAL);
	ck_assert_int_eq(sl_region_create(&r, path, 1, "an-instance-name-of-32-chars-xxx"),
	                 -EINVAL);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(sl_region_create(&r, "/nonexistent-dir/x.region", 1, "unit"), -ENOENT);
	ck_assert_ptr_null(r.hdr);
}
END_TEST

/* The creator maps the whole region resident: the dataplane's hot path
   never takes a first-touch fault on it (the event ring's first lap took
   2,047 on one lcore in a 1 M header sync). */
START_TEST(test_create_maps_every_page_resident)
{
	sl_region_t a;
	const char *path = new_path("/dev/shm");
	ck_assert_int_eq(sl_region_create(&a, path, N_LCORES, "unit"), 0);
	long pg = sysconf(_SC_PAGESIZE);
	size_t pages = (a.size + (size_t)pg - 1) / (size_t)pg, absent = 0;
	unsigned char *vec = malloc(pages);
	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore((void *)a.hdr, a.size, vec), 0);
	for (size_t i = 0; i < pages; i++)
		absent += (vec[i] & 1) == 0;
	ck_assert_msg(absent == 0, "%zu of %zu pages not resident after create", absent, pages);
	free(vec);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_open_sees_same_header_counters_life)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	ck_assert_uint_eq(sl_region_life(&a), SL_LIFE_REGISTERING);
	a.hdr->dp_udp_port = 9747;
	SL_CNT_ADD(&sl_region_lcore(&a, 2)->cnt.rx_pkts, 42);
	SL_CNT_ADD(&sl_region_lcore(&a, 1)->cnt.drop[SL_DROP_SL_MAGIC], 7);

	ck_assert_int_eq(sl_region_open(&b, path), 0);
	ck_assert_ptr_ne(a.hdr, b.hdr);
	ck_assert(!b.owner);
	ck_assert_uint_eq(b.size, a.size);
	ck_assert_uint_eq(b.hdr->n_lcores, N_LCORES);
	ck_assert_uint_eq(b.hdr->size, a.size);
	ck_assert_str_eq(b.hdr->instance, "unit");
	ck_assert_uint_eq(b.hdr->dp_pid, (uint32_t)getpid());
	ck_assert_uint_eq(b.hdr->dp_udp_port, 9747);
	ck_assert_uint_eq(SL_CNT_GET(&sl_region_lcore(&b, 2)->cnt.rx_pkts), 42);
	ck_assert_uint_eq(SL_CNT_GET(&sl_region_lcore(&b, 1)->cnt.drop[SL_DROP_SL_MAGIC]), 7);
	ck_assert_uint_eq(SL_CNT_GET(&sl_region_lcore(&b, 0)->cnt.rx_pkts), 0);

	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_READY), 0);
	ck_assert_uint_eq(sl_region_life(&b), SL_LIFE_READY);
	/* the other direction: ctrl-owned fields written through b */
	atomic_store(&b.hdr->ctrl_pid, 1234);
	ck_assert_uint_eq(atomic_load(&a.hdr->ctrl_pid), 1234);

	/* the range table formatted by create is joinable through both */
	sl_rangeq_t *qb = sl_rangeq_join(sl_region_obj(&b, SL_REGION_OBJ_RANGEQ, 0));
	sl_rangeq_t *qa = sl_rangeq_join(sl_region_obj(&a, SL_REGION_OBJ_RANGEQ, 0));
	ck_assert_ptr_nonnull(qb);
	ck_assert_uint_eq(sl_rangeq_window(qb), SL_RANGE_WINDOW);
	ck_assert_uint_eq(sl_rangeq_fanout(qa), SL_FANOUT);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_cmd_and_event_bytes_identical)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	unsigned seed = (unsigned)time(NULL);
	printf("test_cmd_and_event_bytes_identical seed %u\n", seed);
	create_ok(&a, path);
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	sl_msg_t in, out;
	ck_assert_int_eq(sl_msgq_recv(sl_region_cmd_ring(&a, 1), &out), -ENOENT);
	for (unsigned i = 0; i < 500; i++) {
		uint32_t lc = i % N_LCORES;
		fill_msg(&in, seed + i);
		/* ctrl (b) -> lcore (a) */
		ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&b, lc), &in), 0);
		for (uint32_t o = 0; o < N_LCORES; o++)
			if (o != lc)
				ck_assert_int_eq(sl_msgq_recv(sl_region_cmd_ring(&a, o), &out),
				                 -ENOENT);
		ck_assert_int_eq(sl_msgq_recv(sl_region_cmd_ring(&a, lc), &out), 0);
		ck_assert_msg(memcmp(&in, &out, sizeof in) == 0, "seed %u i %u", seed, i);
		/* lcore (a) -> ctrl (b) */
		fill_msg(&in, ~(seed + i));
		ck_assert_int_eq(sl_msgq_send(sl_region_event_ring(&a, lc), &in), 0);
		ck_assert_int_eq(sl_msgq_recv(sl_region_event_ring(&b, lc), &out), 0);
		ck_assert_msg(memcmp(&in, &out, sizeof in) == 0, "seed %u i %u", seed, i);
		ck_assert_int_eq(sl_msgq_recv(sl_region_event_ring(&b, lc), &out), -ENOENT);
	}
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_ring_full_is_enobufs)
{
	sl_region_t a;
	create_ok(&a, new_path("/dev/shm"));
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	uint32_t n = 0;
	for (; n < SL_CMD_RING_DEPTH + 8; n++) {
		m.corr = n;
		if (sl_msgq_send(sl_region_cmd_ring(&a, 0), &m) != 0)
			break;
	}
	ck_assert_uint_eq(n, SL_CMD_RING_DEPTH - 1);
	ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&a, 0), &m), -ENOBUFS);
	/* a full ring for lcore 0 leaves lcore 1 alone */
	ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&a, 1), &m), 0);
	/* FIFO, and one recv makes room for one send */
	ck_assert_int_eq(sl_msgq_recv(sl_region_cmd_ring(&a, 0), &m), 0);
	ck_assert_uint_eq(m.corr, 0);
	ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&a, 0), &m), 0);
	ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&a, 0), &m), -ENOBUFS);

	for (n = 0; n < SL_EVENT_RING_DEPTH + 8; n++)
		if (sl_msgq_send(sl_region_event_ring(&a, 2), &m) != 0)
			break;
	ck_assert_uint_eq(n, SL_EVENT_RING_DEPTH - 1);
	ck_assert_int_eq(sl_msgq_send(sl_region_event_ring(&a, 2), &m), -ENOBUFS);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_life_moves_forward_only)
{
	sl_region_t a;
	create_ok(&a, new_path("/dev/shm"));
	ck_assert_uint_eq(sl_region_life(&a), SL_LIFE_REGISTERING);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_REGISTERING), 0);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_READY), 0);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_REGISTERING), -1);
	ck_assert_uint_eq(sl_region_life(&a), SL_LIFE_READY);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_SHUTTING_DOWN), 0);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_READY), -1);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_REGISTERING), -1);
	ck_assert_int_eq(sl_region_life_advance(&a, (sl_life_t)3), -1);
	ck_assert_uint_eq(sl_region_life(&a), SL_LIFE_SHUTTING_DOWN);
	/* registering may skip straight to shutting_down */
	sl_region_close(&a);
	create_ok(&a, new_path("/dev/shm"));
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_SHUTTING_DOWN), 0);
	ck_assert_str_eq(sl_region_life_str(SL_LIFE_REGISTERING), "registering");
	ck_assert_str_eq(sl_region_life_str(SL_LIFE_READY), "ready");
	ck_assert_str_eq(sl_region_life_str(SL_LIFE_SHUTTING_DOWN), "shutting_down");
	ck_assert_str_eq(sl_region_life_str(9), "?");
	sl_region_close(&a);
}
END_TEST

/* The child opens the region without the parent's mapping and checks. */
static int child_side(const char *path, const sl_msg_t *want)
{
	sl_region_t b;
	sl_msg_t got;
	if (sl_region_open(&b, path) != 0)
		return 10;
	if (b.hdr->n_lcores != N_LCORES || strcmp(b.hdr->instance, "unit") != 0)
		return 11;
	if (SL_CNT_GET(&sl_region_lcore(&b, 1)->cnt.cmds_rx) != 99)
		return 12;
	if (sl_region_life(&b) != SL_LIFE_READY)
		return 13;
	if (sl_msgq_recv(sl_region_cmd_ring(&b, 1), &got) != 0 ||
	    memcmp(&got, want, sizeof got) != 0)
		return 14;
	got.corr ^= 0xffff;
	if (sl_msgq_send(sl_region_event_ring(&b, 1), &got) != 0)
		return 15;
	sl_region_close(&b);
	return 0;
}

START_TEST(test_open_from_forked_child)
{
	sl_region_t a;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	SL_CNT_ADD(&sl_region_lcore(&a, 1)->cnt.cmds_rx, 99);
	ck_assert_int_eq(sl_region_life_advance(&a, SL_LIFE_READY), 0);
	sl_msg_t m, back;
	fill_msg(&m, 77);
	ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&a, 1), &m), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* drop the inherited mapping so only the child's own is used */
		munmap(a.hdr, a.size);
		_exit(child_side(path, &m));
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	ck_assert_int_eq(sl_msgq_recv(sl_region_event_ring(&a, 1), &back), 0);
	m.corr ^= 0xffff;
	ck_assert_int_eq(memcmp(&m, &back, sizeof m), 0);
	/* the child's close (not the creator) left the file in place */
	ck_assert_int_eq(access(path, F_OK), 0);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_open_missing_or_unformatted_is_enoent)
{
	sl_region_t b;
	const char *path = new_path("/dev/shm");
	ck_assert_int_eq(sl_region_open(&b, path), -ENOENT);
	ck_assert_ptr_null(b.hdr);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sl_region_open(&b, path), -ENOENT); /* empty: being created */
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	ck_assert_int_eq(sl_region_open(&b, path), -ENOENT); /* magic 0: being formatted */
	ck_assert_int_eq(ftruncate(fd, 100), 0);
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO); /* shorter than a header */
	close(fd);
	unlink(path);
}
END_TEST

START_TEST(test_open_rejects_bad_magic_and_layout)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	a.hdr->magic ^= 1;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	ck_assert_ptr_null(b.hdr);
	a.hdr->magic ^= 1;
	a.hdr->layout_version = SL_REGION_LAYOUT + 1;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	a.hdr->layout_version = SL_REGION_LAYOUT;
	a.hdr->hdr_size += 64;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	a.hdr->hdr_size -= 64;
	a.hdr->msg_size = 128;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	a.hdr->msg_size = SL_MSG_SIZE;
	/* restored: accepted again */
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_open_rejects_truncated_file)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	size_t size = a.size;
	/* the header page stays inside the file, so `a` may still touch it */
	ck_assert_int_eq(truncate(path, (off_t)(size - 4096)), 0);
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	ck_assert_ptr_null(b.hdr);
	ck_assert_int_eq(truncate(path, (off_t)(size + 4096)), 0); /* longer than the header says */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	ck_assert_int_eq(truncate(path, (off_t)size), 0);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_open_rejects_out_of_bounds_offsets)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	sl_region_hdr_t *h = a.hdr;
	uint64_t keep;

	keep = h->off_rangeq;
	h->off_rangeq = h->size;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_rangeq = keep;

	keep = h->off_lcore[2];
	h->off_lcore[2] = h->size - SL_REGION_ALIGN;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_lcore[2] = UINT64_MAX - 127;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_lcore[2] = keep;

	sl_region_lcore_t *lc = sl_region_lcore(&a, 1);
	keep = lc->off_event_ring;
	lc->off_event_ring = h->size - SL_REGION_ALIGN;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	lc->off_event_ring = keep + 8; /* misaligned */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	lc->off_event_ring = keep;

	h->n_lcores = SL_MAX_LCORES + 1;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->n_lcores = N_LCORES;

	keep = h->off_status;
	h->off_status = h->size;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_status = keep;

	ck_assert_int_eq(sl_region_open(&b, path), 0);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

/* obj_span: bytes of object `which` (the footprint it was laid out with). */
static size_t obj_span(sl_region_obj_t which, uint32_t n)
{
	switch (which) {
	case SL_REGION_OBJ_CMD_RING:
		return sl_msgq_footprint(SL_CMD_RING_DEPTH);
	case SL_REGION_OBJ_EVENT_RING:
		return sl_msgq_footprint(SL_EVENT_RING_DEPTH);
	case SL_REGION_OBJ_SESS:
		return sl_session_table_footprint();
	case SL_REGION_OBJ_RANGEQ:
		return sl_rangeq_footprint(SL_RANGE_WINDOW);
	case SL_REGION_OBJ_CMDQ:
		return sl_cmdq_footprint(n);
	case SL_REGION_OBJ_STATUS:
		return sl_status_footprint();
	case SL_REGION_OBJ_PBOOK:
		return sl_pbook_footprint();
	}
	return 0;
}

/* The region formats no object: created, it cannot be opened (-ENOENT, as
   while sluice-dp starts) and no object joins; sl_region_obj names every
   object at an aligned offset, none overlapping another or the header,
   and refuses an index out of range.  Once the creator has formatted each
   object and marked the region, open accepts it and every object joins. */
START_TEST(test_objects_formatted_by_the_creator)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	ck_assert_int_eq(sl_region_create(&a, path, N_LCORES, "unit"), 0);
	ck_assert_int_eq(sl_region_open(&b, path), -ENOENT);
	ck_assert_ptr_null(
	    sl_msgq_join(sl_region_obj(&a, SL_REGION_OBJ_CMD_RING, 0), SL_CMD_RING_DEPTH));
	ck_assert_ptr_null(sl_session_table_join(sl_region_obj(&a, SL_REGION_OBJ_SESS, 2)));
	ck_assert_ptr_null(sl_rangeq_join(sl_region_obj(&a, SL_REGION_OBJ_RANGEQ, 0)));
	ck_assert_ptr_null(sl_status_join(sl_region_obj(&a, SL_REGION_OBJ_STATUS, 0)));
	ck_assert_ptr_null(sl_pbook_join(sl_region_obj(&a, SL_REGION_OBJ_PBOOK, 0)));

	ck_assert_ptr_null(sl_region_obj(&a, SL_REGION_OBJ_SESS, N_LCORES));
	ck_assert_ptr_null(sl_region_obj(&a, SL_REGION_OBJ_CMD_RING, N_LCORES));
	ck_assert_ptr_null(sl_region_obj(&a, SL_REGION_OBJ_EVENT_RING, N_LCORES));
	ck_assert_ptr_null(sl_region_obj(&a, SL_REGION_OBJ_STATUS, 1));
	ck_assert_ptr_null(sl_region_obj(&a, (sl_region_obj_t)99, 0));

	/* every object inside the region, aligned, disjoint */
	struct {
		uint64_t off, len;
	} span[3 * N_LCORES + 4];
	uint32_t k = 0;
	for (int w = SL_REGION_OBJ_CMD_RING; w <= SL_REGION_OBJ_PBOOK; w++) {
		for (uint32_t i = 0; i < N_LCORES; i++) {
			char *m = sl_region_obj(&a, (sl_region_obj_t)w, i);
			if (m == NULL)
				break;
			span[k].off = (uint64_t)(m - (char *)a.hdr);
			span[k].len = obj_span((sl_region_obj_t)w, N_LCORES);
			ck_assert_uint_gt(span[k].len, 0);
			ck_assert_uint_eq(span[k].off % SL_REGION_ALIGN, 0);
			ck_assert_uint_ge(span[k].off, sizeof(sl_region_hdr_t));
			ck_assert_uint_le(span[k].off + span[k].len, a.size);
			k++;
		}
	}
	ck_assert_uint_eq(k, 3 * N_LCORES + 4);
	for (uint32_t i = 0; i < k; i++)
		for (uint32_t j = 0; j < k; j++)
			ck_assert(i == j || span[i].off + span[i].len <= span[j].off ||
			          span[j].off + span[j].len <= span[i].off);

	ck_assert_int_eq(sl_dpregion_format(&a), 0);
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	for (uint32_t i = 0; i < N_LCORES; i++) {
		ck_assert_ptr_nonnull(
		    sl_msgq_join(sl_region_obj(&b, SL_REGION_OBJ_CMD_RING, i), SL_CMD_RING_DEPTH));
		ck_assert_ptr_nonnull(sl_msgq_join(sl_region_obj(&b, SL_REGION_OBJ_EVENT_RING, i),
		                                   SL_EVENT_RING_DEPTH));
		ck_assert_ptr_nonnull(
		    sl_session_table_join(sl_region_obj(&b, SL_REGION_OBJ_SESS, i)));
	}
	ck_assert_ptr_nonnull(sl_rangeq_join(sl_region_obj(&b, SL_REGION_OBJ_RANGEQ, 0)));
	ck_assert_ptr_nonnull(sl_status_join(sl_region_obj(&b, SL_REGION_OBJ_STATUS, 0)));
	ck_assert_ptr_nonnull(sl_pbook_join(sl_region_obj(&b, SL_REGION_OBJ_PBOOK, 0)));
	sl_cmdq_t q;
	ck_assert_int_eq(sl_region_cmdq_join(&b, &q), 0);
	sl_region_close(&b);
	sl_region_close(&a);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_create_over_live_is_refused)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	ck_assert_int_eq(sl_region_create(&b, path, 1, "other"), -EEXIST);
	ck_assert_ptr_null(b.hdr);
	/* the live region is untouched */
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	ck_assert_str_eq(b.hdr->instance, "unit");
	ck_assert_uint_eq(b.hdr->n_lcores, N_LCORES);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

START_TEST(test_create_over_stale_replaces)
{
	sl_region_t a, b, c;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	SL_CNT_ADD(&sl_region_lcore(&a, 0)->cnt.rx_pkts, 5);
	atomic_store(&a.hdr->dp_pid, (uint32_t)dead_pid());
	ck_assert_int_eq(sl_dpregion_create(&b, path, 2, "fresh"), 0);
	ck_assert_ptr_nonnull(b.hdr);
	ck_assert_int_eq(sl_region_open(&c, path), 0);
	ck_assert_str_eq(c.hdr->instance, "fresh");
	ck_assert_uint_eq(c.hdr->n_lcores, 2);
	ck_assert_uint_eq(SL_CNT_GET(&sl_region_lcore(&c, 0)->cnt.rx_pkts), 0);
	sl_region_close(&c);
	/* the old creator's close must not unlink its successor's file */
	sl_region_close(&a);
	ck_assert_int_eq(access(path, F_OK), 0);
	sl_region_close(&b);
	ck_assert_int_eq(access(path, F_OK), -1);

	/* a leftover that never got a pid (or is not a region) is stale too */
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 8192), 0);
	close(fd);
	ck_assert_int_eq(sl_region_create(&b, path, 1, "again"), 0);
	sl_region_close(&b);
}
END_TEST

START_TEST(test_close_unlinks_for_creator_only)
{
	sl_region_t a, b, z;
	const char *path = new_path("/dev/shm");
	memset(&z, 0, sizeof z);
	sl_region_close(&z); /* zeroed handle: nothing */
	create_ok(&a, path);
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	sl_region_close(&b);
	ck_assert_int_eq(access(path, F_OK), 0);
	sl_region_close(&b); /* twice: nothing */
	sl_region_close(&a);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(a.hdr);
}
END_TEST

START_TEST(test_dp_alive)
{
	sl_region_t a;
	create_ok(&a, new_path("/dev/shm"));
	ck_assert(sl_region_dp_alive(&a, SL_NS_PER_S));
	atomic_store(&a.hdr->dp_heartbeat_ns, sl_now_ns() - 10 * SL_NS_PER_S);
	ck_assert(!sl_region_dp_alive(&a, SL_NS_PER_S));
	ck_assert(sl_region_dp_alive(&a, 60 * SL_NS_PER_S));
	atomic_store(&a.hdr->dp_heartbeat_ns, sl_now_ns());
	atomic_store(&a.hdr->dp_pid, (uint32_t)dead_pid());
	ck_assert(!sl_region_dp_alive(&a, 60 * SL_NS_PER_S));
	atomic_store(&a.hdr->dp_pid, 0);
	ck_assert(!sl_region_dp_alive(&a, 60 * SL_NS_PER_S));
	sl_region_close(&a);
}
END_TEST

/* Layout 2 on: per-lcore session tables, formatted at create, one per lcore,
   seen (and usable) through a second mapping. */
START_TEST(test_session_tables_formatted_per_lcore)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	ck_assert_uint_ge(a.hdr->layout_version, 2);
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	for (uint32_t i = 0; i < N_LCORES; i++) {
		sl_session_table_t *t = sl_session_table_join(sl_region_sess(&a, i));
		ck_assert_ptr_nonnull(t);
		ck_assert_uint_eq(t->lcore, i);
		ck_assert_uint_eq(sl_session_count(t), 0);
		ck_assert_uint_eq((uintptr_t)t % sl_session_table_align(), 0);
		ck_assert_uint_le(a.hdr->off_sess[i] + sl_session_table_footprint(), a.size);
		if (i > 0)
			ck_assert_uint_ge(a.hdr->off_sess[i],
			                  a.hdr->off_sess[i - 1] + sl_session_table_footprint());
	}
	/* an install on lcore 1 through a is visible to a snapshot through b */
	sl_session_peer_t p = {
	    .peer_ip = 0x0a000002, .peer_port = 9747, .streams = 3, .remote_sid = 77};
	uint32_t sid = 0;
	ck_assert_int_eq(sl_session_install(sl_region_sess(&a, 1), 5, &p, 9, &sid), SL_SESSION_OK);
	sl_session_info_t info;
	ck_assert_int_eq(sl_session_snapshot(sl_region_sess(&b, 1), 5, &info), 1);
	ck_assert_uint_eq(info.sid, sid);
	ck_assert_uint_eq(info.remote_sid, 77);
	ck_assert_int_eq(sl_session_snapshot(sl_region_sess(&b, 0), 5, &info), 0);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

/* Layout 2: the command blocks are formatted at create; ctrl joins them
   through its own mapping and a send there is received by the lcore side. */
START_TEST(test_cmdq_blocks_formatted_and_joinable)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	ck_assert_int_eq(sl_region_open(&b, path), 0);
	ck_assert_uint_le(a.hdr->off_cmdq + sl_cmdq_footprint(N_LCORES), a.size);
	sl_cmdq_t qa, qb;
	ck_assert_int_eq(sl_region_cmdq_join(&a, &qa), 0);
	ck_assert_int_eq(sl_region_cmdq_join(&b, &qb), 0);
	ck_assert_uint_eq(sl_cmdq_gen(&qa, 2, 7), 0);
	uint8_t pl[4] = {1, 2, 3, 4};
	ck_assert_int_eq(sl_cmdq_send(&qb, 2, 7, 11, SL_CMDQ_V_SESSION_INSTALL, pl, 4),
	                 SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_gen(&qa, 2, 7), 11);
	sl_msg_t m;
	ck_assert_int_eq(sl_cmdq_recv(&qa, 2, &m), SL_CMDQ_RX_DELIVER);
	ck_assert_uint_eq(m.type, SL_CMDQ_V_SESSION_INSTALL);
	ck_assert_uint_eq(m.session, 7);
	ck_assert_uint_eq(m.gen, 11);
	ck_assert_int_eq(memcmp(m.payload, pl, 4), 0);
	ck_assert_int_eq(sl_cmdq_recv(&qa, 2, &m), SL_CMDQ_RX_EMPTY);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

/* Negative: a region whose session table, command blocks, status or peer
   book is misplaced, unformatted or deleted is refused by open. */
START_TEST(test_open_rejects_broken_v2_blocks)
{
	sl_region_t a, b;
	const char *path = new_path("/dev/shm");
	create_ok(&a, path);
	sl_region_hdr_t *h = a.hdr;
	uint64_t keep;

	keep = h->off_sess[1];
	h->off_sess[1] = h->size;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_sess[1] = h->off_sess[0]; /* formatted, but lcore 0's */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_sess[1] = keep;
	uint64_t magic = *(uint64_t *)sl_region_sess(&a, 2);
	*(uint64_t *)sl_region_sess(&a, 2) = 0; /* unformatted */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	*(uint64_t *)sl_region_sess(&a, 2) = magic;

	keep = h->off_cmdq;
	h->off_cmdq = h->size - SL_REGION_ALIGN;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_cmdq = h->off_rangeq; /* in bounds, not a command table */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_cmdq = keep;

	keep = h->off_pbook;
	h->off_pbook = h->size - 64;
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_pbook = h->off_cmdq; /* in bounds, not a peer book */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_pbook = keep;

	keep = h->off_status;
	h->off_status = h->off_pbook; /* in bounds, not a status */
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	h->off_status = keep;
	ck_assert_ptr_eq(sl_status_delete(sl_region_obj(&a, SL_REGION_OBJ_STATUS, 0)),
	                 sl_region_obj(&a, SL_REGION_OBJ_STATUS, 0));
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO); /* deleted: refused */
	ck_assert_ptr_nonnull(sl_status_new(sl_region_obj(&a, SL_REGION_OBJ_STATUS, 0)));
	ck_assert_ptr_eq(sl_pbook_delete(sl_region_obj(&a, SL_REGION_OBJ_PBOOK, 0)),
	                 sl_region_obj(&a, SL_REGION_OBJ_PBOOK, 0));
	ck_assert_int_eq(sl_region_open(&b, path), -EPROTO);
	ck_assert_ptr_nonnull(sl_pbook_new(sl_region_obj(&a, SL_REGION_OBJ_PBOOK, 0)));

	ck_assert_int_eq(sl_region_open(&b, path), 0);
	sl_region_close(&b);
	sl_region_close(&a);
}
END_TEST

/* The footprint with every lcore still fits comfortably (tmpfs, 2 MiB). */
START_TEST(test_footprint_max_lcores)
{
	size_t small = sl_region_footprint(SL_MAX_LCORES, 4096);
	size_t huge = sl_region_footprint(SL_MAX_LCORES, 2u << 20);
	ck_assert_uint_gt(small, SL_MAX_LCORES * sl_session_table_footprint());
	ck_assert_uint_gt(small, sl_cmdq_footprint(SL_MAX_LCORES));
	ck_assert_uint_eq(huge % (2u << 20), 0);
	ck_assert_uint_ge(huge, small);
	printf("test_footprint_max_lcores: %u lcores: %zu bytes (4 KiB pages), %zu (2 MiB)\n",
	       SL_MAX_LCORES, small, huge);
	ck_assert_uint_lt(small, 256u << 20);
}
END_TEST

/* The hugetlbfs test reserves its own huge pages and mounts a private
   hugetlbfs (root; the suite runs as root), and gives both back after. */
#define HUGE_WANT 64 /* 2 MiB pages: the region of one lcore fits */
static const char *hp_nr = "/proc/sys/vm/nr_hugepages";

static long hp_read(const char *path)
{
	long n = -1;
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static int hp_write(long n)
{
	FILE *f = fopen(hp_nr, "w");
	if (f == NULL)
		return -1;
	int rc = fprintf(f, "%ld\n", n) > 0 ? 0 : -1;
	return fclose(f) == 0 ? rc : -1;
}

START_TEST(test_works_on_hugetlbfs)
{
	long old = hp_read(hp_nr);
	ck_assert_msg(old >= 0, "cannot read %s", hp_nr);
	ck_assert_msg(hp_write(old + HUGE_WANT) == 0,
	              "cannot reserve huge pages through %s (%s): run the suite as root", hp_nr,
	              strerror(errno));
	char dir[] = "/tmp/sl_huge_XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int mrc = mount("nodev", dir, "hugetlbfs", 0, "pagesize=2M");
	int merr = errno;
	struct statfs sfs;
	sl_region_t a, b;
	int rc = -1;
	if (mrc == 0 && statfs(dir, &sfs) == 0 && (unsigned long)sfs.f_type == HUGETLBFS_MAGIC) {
		const char *path = new_path(dir);
		rc = sl_dpregion_create(&a, path, 1, "unit");
		if (rc == 0) {
			ck_assert_uint_eq(a.size % (size_t)sfs.f_bsize, 0);
			ck_assert_uint_eq(a.size, sl_region_footprint(1, (size_t)sfs.f_bsize));
			ck_assert_int_eq(sl_region_open(&b, path), 0);
			sl_msg_t m, out;
			fill_msg(&m, 5);
			ck_assert_int_eq(sl_msgq_send(sl_region_cmd_ring(&b, 0), &m), 0);
			ck_assert_int_eq(sl_msgq_recv(sl_region_cmd_ring(&a, 0), &out), 0);
			ck_assert_int_eq(memcmp(&m, &out, sizeof m), 0);
			sl_region_close(&b);
			sl_region_close(&a);
			ck_assert_int_eq(access(path, F_OK), -1);
		}
	}
	if (mrc == 0)
		umount(dir);
	rmdir(dir);
	hp_write(old);
	ck_assert_msg(mrc == 0, "mount hugetlbfs on %s: %s", dir, strerror(merr));
	ck_assert_msg(rc == 0, "region on hugetlbfs: %s (free huge pages: %ld)", strerror(-rc),
	              hp_read("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"));
}
END_TEST

static Suite *region_suite(void)
{
	Suite *s = suite_create("region");
	TCase *t = tcase_create("core");
	tcase_set_timeout(t, 120);
	tcase_add_unchecked_fixture(t, NULL, sweep);
	tcase_add_test(t, test_footprint_and_path);
	tcase_add_test(t, test_create_rejects_bad_args);
	tcase_add_test(t, test_create_maps_every_page_resident);
	tcase_add_test(t, test_open_sees_same_header_counters_life);
	tcase_add_test(t, test_cmd_and_event_bytes_identical);
	tcase_add_test(t, test_ring_full_is_enobufs);
	tcase_add_test(t, test_life_moves_forward_only);
	tcase_add_test(t, test_open_from_forked_child);
	tcase_add_test(t, test_open_missing_or_unformatted_is_enoent);
	tcase_add_test(t, test_open_rejects_bad_magic_and_layout);
	tcase_add_test(t, test_open_rejects_truncated_file);
	tcase_add_test(t, test_open_rejects_out_of_bounds_offsets);
	tcase_add_test(t, test_objects_formatted_by_the_creator);
	tcase_add_test(t, test_create_over_live_is_refused);
	tcase_add_test(t, test_create_over_stale_replaces);
	tcase_add_test(t, test_close_unlinks_for_creator_only);
	tcase_add_test(t, test_dp_alive);
	tcase_add_test(t, test_works_on_hugetlbfs);
	tcase_add_test(t, test_session_tables_formatted_per_lcore);
	tcase_add_test(t, test_cmdq_blocks_formatted_and_joinable);
	tcase_add_test(t, test_open_rejects_broken_v2_blocks);
	tcase_add_test(t, test_footprint_max_lcores);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	suite_pid = getpid();
	SRunner *sr = srunner_create(region_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
