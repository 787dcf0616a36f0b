/* test_cmdq.c — suite "cmdq": per-peer commands ctrl -> routines
   (sl_cmdq.h, DESIGN.md "Commands to routines"). */
#include <check.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sl_cmdq.h"
#include "sl_cmdq_private.h"
#include "sl_dpregion.h"
#include "sl_region.h"

#define N_LCORES 2

static char rpath[256];
static pid_t suite_pid;

/* Per-test fixture: a real region in /dev/shm and a table beside it. */
static sl_region_t reg;
static sl_cmdq_t q;
static void *mem;

static const char *new_path(void)
{
	static unsigned n;
	char inst[32];
	snprintf(inst, sizeof inst, "cq%d-%d-%u", (int)suite_pid, (int)getpid(), n++);
	ck_assert_int_eq(sl_region_path(rpath, sizeof rpath, "/dev/shm", inst), 0);
	unlink(rpath);
	return rpath;
}

/* rings_of lists r's command rings, as the region's owner hands them to
   sl_cmdq_new / sl_cmdq_join. */
static struct rte_ring *rings[SL_MAX_LCORES];
static uint32_t rings_of(const sl_region_t *r)
{
	for (uint32_t i = 0; i < r->hdr->n_lcores; i++)
		rings[i] = sl_region_cmd_ring(r, i);
	return r->hdr->n_lcores;
}

static void setup(void)
{
	ck_assert_int_eq(sl_dpregion_create(&reg, new_path(), N_LCORES, "unit"), 0);
	size_t fp = sl_cmdq_footprint(N_LCORES);
	ck_assert_uint_gt(fp, 0);
	mem = aligned_alloc(64, fp);
	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(sl_cmdq_new(&q, mem, N_LCORES, rings, rings_of(&reg)), 0);
}

static void teardown(void)
{
	sl_region_close(&reg);
	free(mem);
	mem = NULL;
}

/* sweep (runner process) removes regions a killed test left behind. */
static void sweep(void)
{
	char pat[128];
	glob_t g;
	snprintf(pat, sizeof pat, "/dev/shm/sluice-cq%d-*.region", (int)suite_pid);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++)
		unlink(g.gl_pathv[i]);
	globfree(&g);
}

static sl_cmdq_outcome_t send_u64(uint32_t lc, uint32_t slot, uint32_t gen, sl_cmdq_variant_t v,
                                  uint64_t val)
{
	return sl_cmdq_send(&q, lc, slot, gen, v, &val, sizeof val);
}

static void install(uint32_t lc, uint32_t slot, uint32_t gen)
{
	ck_assert_int_eq(sl_cmdq_send(&q, lc, slot, gen, SL_CMDQ_V_SESSION_INSTALL, NULL, 0),
	                 SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_gen(&q, lc, slot), gen);
}

/* drain receives everything on lcore `lc`, expecting verdict `want` for
   every record of a credited variant; returns how many it took. */
static unsigned drain(uint32_t lc, sl_cmdq_rx_t want)
{
	sl_msg_t m;
	unsigned n = 0;
	sl_cmdq_rx_t rx;
	while ((rx = sl_cmdq_recv(&q, lc, &m)) != SL_CMDQ_RX_EMPTY) {
		if (m.type != SL_CMDQ_V_SESSION_INSTALL && m.type != SL_CMDQ_V_SESSION_TEARDOWN)
			ck_assert_msg(rx == want, "got %s want %s", sl_cmdq_rx_str(rx),
			              sl_cmdq_rx_str(want));
		n++;
	}
	return n;
}

/* fill sends `v` to (lc, slot, gen) until it is not QUEUED; returns the
   count queued and the refusing outcome in *last. */
static unsigned fill(uint32_t lc, uint32_t slot, uint32_t gen, sl_cmdq_variant_t v,
                     sl_cmdq_outcome_t *last)
{
	unsigned n = 0;
	sl_cmdq_outcome_t o;
	while ((o = send_u64(lc, slot, gen, v, n)) == SL_CMDQ_QUEUED)
		n++;
	*last = o;
	return n;
}

START_TEST(test_footprint_new_join)
{
	ck_assert_uint_eq(sl_cmdq_footprint(0), 0);
	ck_assert_uint_eq(sl_cmdq_footprint(SL_MAX_LCORES + 1), 0);
	size_t one = sl_cmdq_footprint(1), two = sl_cmdq_footprint(2);
	ck_assert_uint_ge(one, (size_t)SL_SESSIONS_PER_LCORE * 256);
	ck_assert_uint_eq(one % 64, 0);
	ck_assert_uint_eq(two - one, (size_t)SL_SESSIONS_PER_LCORE * 256 + 128);

	sl_cmdq_t h;
	/* more lcores than the region has, misaligned memory, zeroed memory */
	void *big = aligned_alloc(64, sl_cmdq_footprint(N_LCORES + 1));
	ck_assert_int_eq(sl_cmdq_new(&h, big, N_LCORES + 1, rings, rings_of(&reg)), -EINVAL);
	ck_assert_int_eq(sl_cmdq_new(&h, (char *)big + 8, 1, rings, N_LCORES), -EINVAL);
	ck_assert_int_eq(sl_cmdq_new(&h, big, 0, rings, N_LCORES), -EINVAL);
	memset(big, 0, sl_cmdq_footprint(N_LCORES + 1));
	ck_assert_int_eq(sl_cmdq_join(&h, big, rings, N_LCORES), -EPROTO);
	free(big);

	/* position independent: the same bytes mapped twice at two addresses */
	size_t fp = sl_cmdq_footprint(N_LCORES);
	int fd = memfd_create("cmdq", 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)fp), 0);
	void *a = mmap(NULL, fp, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void *b = mmap(NULL, fp, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(a, MAP_FAILED);
	ck_assert_ptr_ne(b, MAP_FAILED);
	ck_assert_ptr_ne(a, b);
	sl_cmdq_t qa, qb;
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, N_LCORES), -EPROTO); /* not formatted yet */
	ck_assert_int_eq(sl_cmdq_new(&qa, a, N_LCORES, rings, N_LCORES), 0);
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, N_LCORES), 0);
	ck_assert_int_eq(sl_cmdq_send(&qa, 1, 7, 3, SL_CMDQ_V_SESSION_INSTALL, NULL, 0),
	                 SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_gen(&qb, 1, 7), 3);
	uint64_t v = 99;
	ck_assert_int_eq(sl_cmdq_send(&qa, 1, 7, 3, SL_CMDQ_V_SEND_FRAME, &v, 8), SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_depth(&qb, 1, 7), 1);
	sl_msg_t m;
	ck_assert_int_eq(sl_cmdq_recv(&qb, 1, &m), SL_CMDQ_RX_DELIVER); /* install */
	ck_assert_int_eq(sl_cmdq_recv(&qb, 1, &m), SL_CMDQ_RX_DELIVER);
	ck_assert_uint_eq(sl_cmdq_depth(&qa, 1, 7), 0);
	/* another layout version, a damaged magic */
	struct sl_cmdq_shm *sh = b;
	sh->layout = SL_CMDQ_LAYOUT + 1;
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, N_LCORES), -EPROTO);
	sh->layout = SL_CMDQ_LAYOUT;
	sh->magic ^= 1;
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, N_LCORES), -EPROTO);
	ck_assert_ptr_null(sl_cmdq_delete(b));
	sh->magic ^= 1;
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, N_LCORES), 0);
	/* a missing ring, and fewer rings than the table has lcores, are refused */
	struct rte_ring *none[N_LCORES] = {NULL};
	ck_assert_int_eq(sl_cmdq_join(&qb, b, none, N_LCORES), -EPROTO);
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, N_LCORES - 1), -EPROTO);
	sl_region_t small;
	ck_assert_int_eq(sl_dpregion_create(&small, new_path(), 1, "unit"), 0);
	ck_assert_int_eq(sl_cmdq_join(&qb, b, rings, rings_of(&small)), -EPROTO);
	sl_region_close(&small);
	/* leave drops the handle only; delete unformats: joins fail after */
	sl_cmdq_t qc;
	ck_assert_int_eq(sl_cmdq_join(&qc, a, rings, N_LCORES), 0);
	ck_assert_ptr_eq(sl_cmdq_leave(&qc), a);
	ck_assert_ptr_null(qc.shm);
	ck_assert_ptr_null(sl_cmdq_leave(&qc));
	ck_assert_int_eq(sl_cmdq_join(&qc, b, rings, N_LCORES), 0);
	ck_assert_ptr_eq(sl_cmdq_delete(a), a);
	ck_assert_int_eq(sl_cmdq_join(&qc, b, rings, N_LCORES), -EPROTO);
	ck_assert_ptr_null(sl_cmdq_delete(b));
	ck_assert_uint_eq(sl_cmdq_align(), SL_CACHE_LINE);
	ck_assert_uint_eq(sl_cmdq_footprint(N_LCORES) % sl_cmdq_align(), 0);
	munmap(a, fp);
	munmap(b, fp);
	close(fd);
}
END_TEST

START_TEST(test_bad_arguments_are_invalid)
{
	install(0, 1, 1);
	uint8_t big[SL_CMDQ_PAYLOAD_MAX + 1] = {0};
	ck_assert_int_eq(send_u64(N_LCORES, 1, 1, SL_CMDQ_V_SEND_FRAME, 0), SL_CMDQ_INVALID);
	ck_assert_int_eq(send_u64(0, SL_SESSIONS_PER_LCORE, 1, SL_CMDQ_V_SEND_FRAME, 0),
	                 SL_CMDQ_INVALID);
	ck_assert_int_eq(send_u64(0, 1, 0, SL_CMDQ_V_SEND_FRAME, 0), SL_CMDQ_INVALID);
	ck_assert_int_eq(send_u64(0, 1, 1, SL_CMDQ_V_NONE, 0), SL_CMDQ_INVALID);
	ck_assert_int_eq(send_u64(0, 1, 1, SL_CMDQ_V_CNT, 0), SL_CMDQ_INVALID);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 1, 1, SL_CMDQ_V_SEND_FRAME, big, sizeof big),
	                 SL_CMDQ_INVALID);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 1, 1, SL_CMDQ_V_STATUS, big, SL_CMDQ_STATUS_MAX + 1),
	                 SL_CMDQ_INVALID);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 1, 1, SL_CMDQ_V_SEND_FRAME, NULL, 4), SL_CMDQ_INVALID);
	/* nothing reached the ring but the install; a full-size payload does */
	ck_assert_uint_eq(drain(0, SL_CMDQ_RX_DELIVER), 1);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 1, 1, SL_CMDQ_V_SEND_FRAME, big, SL_CMDQ_PAYLOAD_MAX),
	                 SL_CMDQ_QUEUED);
	/* a record of an unknown type or slot is invalid at the receiver */
	sl_msg_t m;
	memset(&m, 0, sizeof m);
	m.type = SL_CMDQ_V_STATUS; /* never travels on the ring */
	ck_assert_int_eq(sl_cmdq_accept(&q, 0, &m), SL_CMDQ_RX_INVALID);
	m.type = SL_CMDQ_V_CNT;
	ck_assert_int_eq(sl_cmdq_accept(&q, 0, &m), SL_CMDQ_RX_INVALID);
	m.type = SL_CMDQ_V_SEND_FRAME;
	m.session = SL_SESSIONS_PER_LCORE;
	ck_assert_int_eq(sl_cmdq_accept(&q, 0, &m), SL_CMDQ_RX_INVALID);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 0, &st);
	ck_assert_uint_eq(st.out[SL_CMDQ_INVALID], 7); /* lcore N_LCORES is not counted */
	ck_assert_uint_eq(st.rx[SL_CMDQ_RX_INVALID], 3);
	ck_assert_int_eq(sl_cmdq_park(&q, N_LCORES, 1, 1), -EINVAL);
	ck_assert_int_eq(sl_cmdq_detach(&q, 0, 1, 0), -EINVAL);
	ck_assert_str_eq(sl_cmdq_outcome_str(SL_CMDQ_PARK_REQUIRED), "park_required");
	ck_assert_str_eq(sl_cmdq_variant_str(SL_CMDQ_V_FORWARD_NEW_BLOCK), "forward_new_block");
	ck_assert_str_eq(sl_cmdq_rx_str(SL_CMDQ_RX_STALE), "stale");
	ck_assert_str_eq(sl_cmdq_outcome_str(SL_CMDQ_OUTCOME_CNT), "?");
}
END_TEST

/* check_gone asserts the "routine gone" column for (lc, slot, gen). */
static void check_gone(uint32_t lc, uint32_t slot, uint32_t gen)
{
	ck_assert_int_eq(send_u64(lc, slot, gen, SL_CMDQ_V_STATUS, 1), SL_CMDQ_NO_ROUTINE);
	ck_assert_int_eq(send_u64(lc, slot, gen, SL_CMDQ_V_WAKE, 1), SL_CMDQ_NO_ROUTINE);
	ck_assert_int_eq(send_u64(lc, slot, gen, SL_CMDQ_V_FORWARD_NEW_BLOCK, 1),
	                 SL_CMDQ_NO_ROUTINE);
	ck_assert_int_eq(send_u64(lc, slot, gen, SL_CMDQ_V_DROP_EXPECTATION, 1),
	                 SL_CMDQ_PARK_REQUIRED);
	ck_assert_int_eq(send_u64(lc, slot, gen, SL_CMDQ_V_SEND_FRAME, 1), SL_CMDQ_PARK_REQUIRED);
}

START_TEST(test_gone_routine_per_variant)
{
	sl_msg_t m;
	/* never installed */
	check_gone(0, 5, 1);
	ck_assert_int_eq(sl_cmdq_recv(&q, 0, &m), SL_CMDQ_RX_EMPTY);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 5), 0);
	/* stale generation: the session was replaced */
	install(0, 5, 1);
	install(0, 5, 2);
	check_gone(0, 5, 1);
	ck_assert_int_eq(send_u64(0, 5, 2, SL_CMDQ_V_SEND_FRAME, 1), SL_CMDQ_QUEUED);
	/* torn down by ctrl */
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 5, 2, SL_CMDQ_V_SESSION_TEARDOWN, NULL, 0),
	                 SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_gen(&q, 0, 5), 0);
	check_gone(0, 5, 2);
	/* ended on the lcore's side */
	install(0, 5, 3);
	ck_assert_int_eq(sl_cmdq_detach(&q, 0, 5, 2), -ESRCH);
	ck_assert_int_eq(sl_cmdq_detach(&q, 0, 5, 3), 0);
	check_gone(0, 5, 3);
	/* nothing but install/install/frame/teardown/install reached the ring;
	   the frame was queued for gen 2, torn down before it was read */
	ck_assert_uint_eq(drain(0, SL_CMDQ_RX_STALE), 5);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 5), 0);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 0, &st);
	ck_assert_uint_eq(st.out[SL_CMDQ_NO_ROUTINE], 4 * 3);
	ck_assert_uint_eq(st.out[SL_CMDQ_PARK_REQUIRED], 4 * 2);
	ck_assert_uint_eq(st.out[SL_CMDQ_QUEUED], 5);
}
END_TEST

START_TEST(test_never_drop_parks_on_full_peer_queue)
{
	const sl_cmdq_variant_t vs[2] = {SL_CMDQ_V_DROP_EXPECTATION, SL_CMDQ_V_SEND_FRAME};
	install(0, 9, 4);
	ck_assert_uint_eq(drain(0, SL_CMDQ_RX_DELIVER), 1);
	unsigned queued = 0;
	sl_cmdq_outcome_t o;
	for (;;) {
		sl_cmdq_drop_exp_t de = {.range_gen = 4, .start = queued * 100, .count = queued};
		o = sl_cmdq_send(&q, 0, 9, 4, vs[queued % 2], &de, sizeof de);
		if (o != SL_CMDQ_QUEUED)
			break;
		queued++;
		ck_assert_uint_le(queued, SL_CMD_DEPTH);
	}
	ck_assert_int_eq(o, SL_CMDQ_PARK_REQUIRED);
	ck_assert_uint_eq(queued, SL_CMD_DEPTH);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 9), SL_CMD_DEPTH);
	/* both never-drop variants ask to park, FORWARD_NEW_BLOCK drops */
	ck_assert_int_eq(send_u64(0, 9, 4, SL_CMDQ_V_SEND_FRAME, 0), SL_CMDQ_PARK_REQUIRED);
	ck_assert_int_eq(send_u64(0, 9, 4, SL_CMDQ_V_DROP_EXPECTATION, 0), SL_CMDQ_PARK_REQUIRED);
	ck_assert_int_eq(send_u64(0, 9, 4, SL_CMDQ_V_FORWARD_NEW_BLOCK, 0), SL_CMDQ_DROPPED);
	/* every queued one is received exactly once, in order, intact */
	sl_msg_t m;
	for (unsigned i = 0; i < queued; i++) {
		ck_assert_int_eq(sl_cmdq_recv(&q, 0, &m), SL_CMDQ_RX_DELIVER);
		sl_cmdq_drop_exp_t de;
		memcpy(&de, m.payload, sizeof de);
		ck_assert_uint_eq(m.type, vs[i % 2]);
		ck_assert_uint_eq(m.session, 9);
		ck_assert_uint_eq(m.gen, 4);
		ck_assert_uint_eq(m.lcore, 0);
		ck_assert_uint_eq(m.len, sizeof de);
		ck_assert_uint_eq(m.corr, i + 2); /* corr 1 was the install */
		ck_assert_uint_eq(de.start, i * 100);
		ck_assert_uint_eq(de.count, i);
	}
	ck_assert_int_eq(sl_cmdq_recv(&q, 0, &m), SL_CMDQ_RX_EMPTY);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 9), 0);
	/* credit came back: the next one is queued again */
	ck_assert_int_eq(send_u64(0, 9, 4, SL_CMDQ_V_SEND_FRAME, 0), SL_CMDQ_QUEUED);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 0, &st);
	ck_assert_uint_eq(st.out[SL_CMDQ_QUEUED], SL_CMD_DEPTH + 2);
	ck_assert_uint_eq(st.out[SL_CMDQ_PARK_REQUIRED], 3);
	ck_assert_uint_eq(st.out[SL_CMDQ_DROPPED], 1);
	ck_assert_uint_eq(st.rx[SL_CMDQ_RX_DELIVER], SL_CMD_DEPTH + 1);
}
END_TEST

START_TEST(test_forward_new_block_drops_without_parking)
{
	install(1, 3, 8);
	sl_cmdq_outcome_t o;
	ck_assert_uint_eq(fill(1, 3, 8, SL_CMDQ_V_FORWARD_NEW_BLOCK, &o), SL_CMD_DEPTH);
	ck_assert_int_eq(o, SL_CMDQ_DROPPED);
	for (int i = 0; i < 9; i++)
		ck_assert_int_eq(send_u64(1, 3, 8, SL_CMDQ_V_FORWARD_NEW_BLOCK, 0),
		                 SL_CMDQ_DROPPED);
	ck_assert_uint_eq(sl_cmdq_peer_dropped(&q, 1, 3), 10);
	ck_assert_uint_eq(sl_cmdq_peer_dropped(&q, 1, 4), 0);
	/* dropping parks nothing and leaves the routine */
	ck_assert(!sl_cmdq_parked(&q, 1, 3, 8));
	ck_assert_uint_eq(sl_cmdq_gen(&q, 1, 3), 8);
	ck_assert_int_eq(send_u64(1, 3, 8, SL_CMDQ_V_STATUS, 5), SL_CMDQ_COALESCED);
	/* one read frees one credit */
	sl_msg_t m;
	ck_assert_int_eq(sl_cmdq_recv(&q, 1, &m), SL_CMDQ_RX_DELIVER); /* install */
	ck_assert_int_eq(sl_cmdq_recv(&q, 1, &m), SL_CMDQ_RX_DELIVER);
	ck_assert_int_eq(send_u64(1, 3, 8, SL_CMDQ_V_FORWARD_NEW_BLOCK, 0), SL_CMDQ_QUEUED);
	ck_assert_int_eq(send_u64(1, 3, 8, SL_CMDQ_V_FORWARD_NEW_BLOCK, 0), SL_CMDQ_DROPPED);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 1, &st);
	ck_assert_uint_eq(st.out[SL_CMDQ_DROPPED], 11);
	ck_assert_uint_eq(st.out[SL_CMDQ_PARK_REQUIRED], 0);
	ck_assert_uint_eq(drain(1, SL_CMDQ_RX_DELIVER), SL_CMD_DEPTH);
}
END_TEST

START_TEST(test_status_newest_replaces_unread)
{
	install(0, 2, 1);
	sl_cmdq_seen_t seen = {0};
	sl_cmdq_status_t st;
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 2, 1, &seen, &st), 0);
	for (uint64_t v = 1; v <= 10; v++)
		ck_assert_int_eq(send_u64(0, 2, 1, SL_CMDQ_V_STATUS, v), SL_CMDQ_COALESCED);
	/* no ring use: only the install is there */
	ck_assert_uint_eq(drain(0, SL_CMDQ_RX_DELIVER), 1);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 2), 0);
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 2, 1, &seen, &st), SL_CMDQ_POLL_STATUS);
	uint64_t got;
	memcpy(&got, st.bytes, 8);
	ck_assert_uint_eq(got, 10);
	ck_assert_uint_eq(st.len, 8);
	ck_assert_uint_eq(st.gen, 1);
	ck_assert_uint_eq(st.version, 10);
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 2, 1, &seen, &st), 0);
	/* a 72-byte SPEC STATUS body round-trips */
	uint8_t body[72];
	for (unsigned i = 0; i < sizeof body; i++)
		body[i] = (uint8_t)(i * 7 + 1);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 2, 1, SL_CMDQ_V_STATUS, body, sizeof body),
	                 SL_CMDQ_COALESCED);
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 2, 1, &seen, &st), SL_CMDQ_POLL_STATUS);
	ck_assert_uint_eq(st.len, sizeof body);
	ck_assert_mem_eq(st.bytes, body, sizeof body);
	/* another peer's slot is untouched */
	install(0, 3, 1);
	sl_cmdq_seen_t other = {0};
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 3, 1, &other, &st), 0);
	/* a STATUS left for generation 1 is never shown to generation 2 */
	ck_assert_int_eq(send_u64(0, 2, 1, SL_CMDQ_V_STATUS, 77), SL_CMDQ_COALESCED);
	install(0, 2, 2);
	sl_cmdq_seen_t fresh = {0};
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 2, 2, &fresh, &st), 0);
	ck_assert_int_eq(send_u64(0, 2, 2, SL_CMDQ_V_STATUS, 78), SL_CMDQ_COALESCED);
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 0, 2, 2, &fresh, &st), SL_CMDQ_POLL_STATUS);
	memcpy(&got, st.bytes, 8);
	ck_assert_uint_eq(got, 78);
}
END_TEST

START_TEST(test_wake_coalesces)
{
	install(1, 0, 6);
	sl_cmdq_seen_t seen = {0};
	sl_cmdq_status_t st;
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 1, 0, 6, &seen, &st), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(sl_cmdq_send(&q, 1, 0, 6, SL_CMDQ_V_WAKE, NULL, 0),
		                 SL_CMDQ_COALESCED);
	ck_assert_uint_eq(drain(1, SL_CMDQ_RX_DELIVER), 1); /* the install only */
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 1, 0, 6, &seen, &st), SL_CMDQ_POLL_WAKE);
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 1, 0, 6, &seen, &st), 0);
	ck_assert_int_eq(sl_cmdq_send(&q, 1, 0, 6, SL_CMDQ_V_WAKE, NULL, 0), SL_CMDQ_COALESCED);
	ck_assert_int_eq(send_u64(1, 0, 6, SL_CMDQ_V_STATUS, 3), SL_CMDQ_COALESCED);
	ck_assert_uint_eq(sl_cmdq_poll_coalesced(&q, 1, 0, 6, &seen, &st),
	                  SL_CMDQ_POLL_WAKE | SL_CMDQ_POLL_STATUS);
	sl_cmdq_stats_t s;
	sl_cmdq_stats(&q, 1, &s);
	ck_assert_uint_eq(s.out[SL_CMDQ_COALESCED], 7);
}
END_TEST

START_TEST(test_full_peer_does_not_affect_other)
{
	install(0, 10, 1);
	install(0, 11, 1);
	sl_cmdq_outcome_t o;
	ck_assert_uint_eq(fill(0, 10, 1, SL_CMDQ_V_SEND_FRAME, &o), SL_CMD_DEPTH);
	ck_assert_int_eq(o, SL_CMDQ_PARK_REQUIRED);
	/* peer 11 gets its full depth of every variant */
	ck_assert_int_eq(send_u64(0, 11, 1, SL_CMDQ_V_STATUS, 1), SL_CMDQ_COALESCED);
	ck_assert_int_eq(send_u64(0, 11, 1, SL_CMDQ_V_WAKE, 1), SL_CMDQ_COALESCED);
	ck_assert_int_eq(send_u64(0, 11, 1, SL_CMDQ_V_FORWARD_NEW_BLOCK, 1), SL_CMDQ_QUEUED);
	ck_assert_int_eq(send_u64(0, 11, 1, SL_CMDQ_V_DROP_EXPECTATION, 1), SL_CMDQ_QUEUED);
	ck_assert_uint_eq(fill(0, 11, 1, SL_CMDQ_V_SEND_FRAME, &o), SL_CMD_DEPTH - 2);
	/* park peer 10: only its service answers the gone column */
	ck_assert_int_eq(sl_cmdq_park(&q, 0, 10, 2), -ESRCH);
	ck_assert_int_eq(sl_cmdq_park(&q, 0, 10, 1), 0);
	ck_assert(sl_cmdq_parked(&q, 0, 10, 1));
	ck_assert(!sl_cmdq_parked(&q, 0, 11, 1));
	check_gone(0, 10, 1);
	ck_assert_uint_eq(sl_cmdq_gen(&q, 0, 10), 1); /* the connection stays */
	ck_assert_int_eq(send_u64(0, 11, 1, SL_CMDQ_V_STATUS, 2), SL_CMDQ_COALESCED);
	/* receiver: peer 10's in-flight records are discarded (credit back),
	   peer 11's are delivered */
	sl_msg_t m;
	sl_cmdq_rx_t rx;
	unsigned n10 = 0, n11 = 0;
	while ((rx = sl_cmdq_recv(&q, 0, &m)) != SL_CMDQ_RX_EMPTY) {
		if (m.type == SL_CMDQ_V_SESSION_INSTALL)
			continue;
		if (m.session == 10) {
			ck_assert_int_eq(rx, SL_CMDQ_RX_PARKED);
			n10++;
		} else {
			ck_assert_uint_eq(m.session, 11);
			ck_assert_int_eq(rx, SL_CMDQ_RX_DELIVER);
			n11++;
		}
	}
	ck_assert_uint_eq(n10, SL_CMD_DEPTH);
	ck_assert_uint_eq(n11, SL_CMD_DEPTH);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 10), 0);
	/* a new generation clears the park */
	install(0, 10, 2);
	ck_assert(!sl_cmdq_parked(&q, 0, 10, 2));
	ck_assert_int_eq(send_u64(0, 10, 2, SL_CMDQ_V_SEND_FRAME, 1), SL_CMDQ_QUEUED);
}
END_TEST

START_TEST(test_lcore_ring_full)
{
	const uint32_t per_peer_room = SL_CMD_RING_DEPTH - 1 - SL_CMDQ_RING_RESERVE;
	unsigned total = 0, slot = 0;
	sl_cmdq_outcome_t o = SL_CMDQ_QUEUED;
	/* peers fill the ring until it refuses, not their own queue */
	for (; o != SL_CMDQ_PARK_REQUIRED || sl_cmdq_depth(&q, 0, slot - 1) == SL_CMD_DEPTH;
	     slot++) {
		install(0, slot, 1);
		total++;
		total += fill(0, slot, 1, SL_CMDQ_V_DROP_EXPECTATION, &o);
		ck_assert_uint_le(total, per_peer_room);
	}
	ck_assert_uint_eq(total, per_peer_room);
	uint32_t last = slot - 1;
	ck_assert_uint_lt(sl_cmdq_depth(&q, 0, last), SL_CMD_DEPTH);
	ck_assert_int_eq(send_u64(0, last, 1, SL_CMDQ_V_SEND_FRAME, 0), SL_CMDQ_PARK_REQUIRED);
	ck_assert_int_eq(send_u64(0, last, 1, SL_CMDQ_V_FORWARD_NEW_BLOCK, 0), SL_CMDQ_DROPPED);
	ck_assert_int_eq(send_u64(0, last, 1, SL_CMDQ_V_STATUS, 0), SL_CMDQ_COALESCED);
	ck_assert_int_eq(send_u64(0, last, 1, SL_CMDQ_V_WAKE, 0), SL_CMDQ_COALESCED);
	/* install / teardown use the reserve, then RETRY with nothing changed */
	unsigned extra = 0;
	uint32_t s = 500;
	for (;; s++, extra++) {
		o = sl_cmdq_send(&q, 0, s, 9, SL_CMDQ_V_SESSION_INSTALL, NULL, 0);
		if (o != SL_CMDQ_QUEUED)
			break;
	}
	ck_assert_int_eq(o, SL_CMDQ_RETRY);
	ck_assert_uint_eq(extra, SL_CMDQ_RING_RESERVE);
	ck_assert_uint_eq(sl_cmdq_gen(&q, 0, s), 0);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, 0, 1, SL_CMDQ_V_SESSION_TEARDOWN, NULL, 0),
	                 SL_CMDQ_RETRY);
	ck_assert_uint_eq(sl_cmdq_gen(&q, 0, 0), 1);
	/* the other lcore's ring is unaffected */
	install(1, 0, 1);
	ck_assert_int_eq(send_u64(1, 0, 1, SL_CMDQ_V_SEND_FRAME, 0), SL_CMDQ_QUEUED);
	/* drain: everything queued arrives; then the retried install goes */
	ck_assert_uint_eq(drain(0, SL_CMDQ_RX_DELIVER), per_peer_room + SL_CMDQ_RING_RESERVE);
	ck_assert_int_eq(sl_cmdq_send(&q, 0, s, 9, SL_CMDQ_V_SESSION_INSTALL, NULL, 0),
	                 SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_gen(&q, 0, s), 9);
	for (uint32_t i = 0; i < slot; i++)
		ck_assert_uint_eq(sl_cmdq_depth(&q, 0, i), 0);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 0, &st);
	ck_assert_uint_eq(st.out[SL_CMDQ_RETRY], 2);
}
END_TEST

START_TEST(test_stale_generation_discarded_at_receiver)
{
	install(0, 40, 1);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(send_u64(0, 40, 1, SL_CMDQ_V_SEND_FRAME, i), SL_CMDQ_QUEUED);
	install(0, 40, 2);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(send_u64(0, 40, 2, SL_CMDQ_V_FORWARD_NEW_BLOCK, i),
		                 SL_CMDQ_QUEUED);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 40), 13);
	sl_msg_t m;
	unsigned stale = 0, deliver = 0;
	sl_cmdq_rx_t rx;
	while ((rx = sl_cmdq_recv(&q, 0, &m)) != SL_CMDQ_RX_EMPTY) {
		if (m.type == SL_CMDQ_V_SESSION_INSTALL) {
			ck_assert_int_eq(rx, SL_CMDQ_RX_DELIVER);
			continue;
		}
		if (m.gen == 1) {
			ck_assert_int_eq(rx, SL_CMDQ_RX_STALE);
			stale++;
		} else {
			ck_assert_int_eq(rx, SL_CMDQ_RX_DELIVER);
			deliver++;
		}
	}
	ck_assert_uint_eq(stale, 10);
	ck_assert_uint_eq(deliver, 3);
	ck_assert_uint_eq(sl_cmdq_depth(&q, 0, 40), 0); /* stale ones returned credit */
	/* the lcore ends the routine: what is in flight becomes stale */
	ck_assert_int_eq(send_u64(0, 40, 2, SL_CMDQ_V_DROP_EXPECTATION, 0), SL_CMDQ_QUEUED);
	ck_assert_int_eq(sl_cmdq_detach(&q, 0, 40, 2), 0);
	ck_assert_uint_eq(drain(0, SL_CMDQ_RX_STALE), 1);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 0, &st);
	ck_assert_uint_eq(st.rx[SL_CMDQ_RX_STALE], 11);
	ck_assert_uint_eq(st.rx[SL_CMDQ_RX_DELIVER], 5);
}
END_TEST

/* ---- two threads ---------------------------------------------------------- */

#define TT_PEERS 8
#define TT_CMDS  300000u

typedef struct {
	unsigned seed;
	_Atomic int done;
	/* ctrl thread, read after join */
	uint64_t queued[TT_PEERS];      /* credited ring commands queued */
	uint64_t wakes[TT_PEERS];       /* WAKEs coalesced */
	uint64_t last_status[TT_PEERS]; /* value of the newest STATUS, current gen */
	uint32_t gen[TT_PEERS];         /* 0: torn down */
	uint64_t park_required, dropped, retries, sent_total;
	char err[160];
	/* lcore thread */
	uint64_t delivered[TT_PEERS], stale[TT_PEERS], sessions;
	uint64_t seen_status[TT_PEERS];
	sl_cmdq_seen_t seen[TT_PEERS];
	uint32_t rx_gen[TT_PEERS];
	char rx_err[160];
} tt_t;

static sl_cmdq_outcome_t tt_send_session(tt_t *t, uint32_t p, uint32_t gen, sl_cmdq_variant_t v)
{
	sl_cmdq_outcome_t o;
	while ((o = sl_cmdq_send(&q, 0, p, gen, v, NULL, 0)) == SL_CMDQ_RETRY)
		t->retries++; /* ctrl keeps it and sends again */
	return o;
}

/* tt_expect checks one outcome against the table; returns false (and
   fills err) when the table is violated. */
static bool tt_expect(tt_t *t, uint32_t p, sl_cmdq_variant_t v, sl_cmdq_outcome_t o)
{
	bool alive = t->gen[p] != 0;
	bool ok;
	switch (v) {
	case SL_CMDQ_V_STATUS:
	case SL_CMDQ_V_WAKE:
		ok = o == (alive ? SL_CMDQ_COALESCED : SL_CMDQ_NO_ROUTINE);
		break;
	case SL_CMDQ_V_FORWARD_NEW_BLOCK:
		ok =
		    alive ? (o == SL_CMDQ_QUEUED || o == SL_CMDQ_DROPPED) : o == SL_CMDQ_NO_ROUTINE;
		break;
	default:
		ok = alive ? (o == SL_CMDQ_QUEUED || o == SL_CMDQ_PARK_REQUIRED)
		           : o == SL_CMDQ_PARK_REQUIRED;
		break;
	}
	if (!ok)
		snprintf(t->err, sizeof t->err, "peer %u variant %s alive %d outcome %s", p,
		         sl_cmdq_variant_str(v), alive, sl_cmdq_outcome_str(o));
	return ok;
}

static void *tt_ctrl(void *arg)
{
	tt_t *t = arg;
	unsigned seed = t->seed;
	uint64_t status_val = 0, gen_next = 1;
	for (uint32_t p = 0; p < TT_PEERS; p++) {
		t->gen[p] = (uint32_t)gen_next++;
		tt_send_session(t, p, t->gen[p], SL_CMDQ_V_SESSION_INSTALL);
	}
	for (uint32_t i = 0; i < TT_CMDS && t->err[0] == 0; i++) {
		uint32_t p = (uint32_t)rand_r(&seed) % TT_PEERS;
		unsigned r = (unsigned)rand_r(&seed) % 1000;
		uint32_t g = t->gen[p] != 0 ? t->gen[p] : (uint32_t)gen_next - 1;
		if (r < 2) { /* replace the session */
			t->gen[p] = (uint32_t)gen_next++;
			t->last_status[p] = 0;
			tt_send_session(t, p, t->gen[p], SL_CMDQ_V_SESSION_INSTALL);
			continue;
		}
		if (r < 3 && t->gen[p] != 0) {
			tt_send_session(t, p, t->gen[p], SL_CMDQ_V_SESSION_TEARDOWN);
			t->gen[p] = 0;
			continue;
		}
		sl_cmdq_variant_t v = (sl_cmdq_variant_t)(SL_CMDQ_V_STATUS + (r % 5));
		uint64_t pl[2] = {p, v == SL_CMDQ_V_STATUS ? ++status_val : i};
		sl_cmdq_outcome_t o = sl_cmdq_send(&q, 0, p, g, v, pl, sizeof pl);
		t->sent_total++;
		if (!tt_expect(t, p, v, o))
			break;
		if (sl_cmdq_depth(&q, 0, p) > SL_CMD_DEPTH) {
			snprintf(t->err, sizeof t->err, "peer %u depth %u", p,
			         sl_cmdq_depth(&q, 0, p));
			break;
		}
		if (o == SL_CMDQ_QUEUED)
			t->queued[p]++;
		else if (o == SL_CMDQ_PARK_REQUIRED)
			t->park_required++;
		else if (o == SL_CMDQ_DROPPED)
			t->dropped++;
		else if (o == SL_CMDQ_COALESCED && v == SL_CMDQ_V_WAKE)
			t->wakes[p]++;
		else if (o == SL_CMDQ_COALESCED)
			t->last_status[p] = status_val;
	}
	atomic_store(&t->done, 1);
	return NULL;
}

/* tt_poll: the routine of peer p reads its coalesced slots; STATUS values
   never go backwards. */
static void tt_poll(tt_t *t, uint32_t p)
{
	sl_cmdq_status_t st;
	if (t->rx_gen[p] == 0)
		return;
	unsigned moved = sl_cmdq_poll_coalesced(&q, 0, p, t->rx_gen[p], &t->seen[p], &st);
	if (!(moved & SL_CMDQ_POLL_STATUS))
		return;
	uint64_t pl[2];
	memcpy(pl, st.bytes, sizeof pl);
	if (st.gen != t->rx_gen[p] || pl[0] != p || pl[1] <= t->seen_status[p])
		snprintf(t->rx_err, sizeof t->rx_err, "peer %u status %lu after %lu gen %u/%u", p,
		         (unsigned long)pl[1], (unsigned long)t->seen_status[p], st.gen,
		         t->rx_gen[p]);
	t->seen_status[p] = pl[1];
}

static void tt_take(tt_t *t, const sl_msg_t *m, sl_cmdq_rx_t rx, uint64_t *corr)
{
	uint32_t p = m->session;
	if (p >= TT_PEERS || m->corr != corr[p] + 1) {
		snprintf(t->rx_err, sizeof t->rx_err, "peer %u corr %lu after %lu", p,
		         (unsigned long)m->corr, p < TT_PEERS ? (unsigned long)corr[p] : 0ul);
		return;
	}
	corr[p] = m->corr;
	if (m->type == SL_CMDQ_V_SESSION_INSTALL || m->type == SL_CMDQ_V_SESSION_TEARDOWN) {
		t->sessions++;
		t->rx_gen[p] = m->type == SL_CMDQ_V_SESSION_INSTALL ? m->gen : 0;
		memset(&t->seen[p], 0, sizeof t->seen[p]); /* a new routine */
		t->seen_status[p] = 0;
		return;
	}
	uint64_t pl[2];
	memcpy(pl, m->payload, sizeof pl);
	if (rx == SL_CMDQ_RX_DELIVER && (m->gen != t->rx_gen[p] || pl[0] != p))
		snprintf(t->rx_err, sizeof t->rx_err, "peer %u delivered gen %u (routine %u)", p,
		         m->gen, t->rx_gen[p]);
	if (rx == SL_CMDQ_RX_DELIVER)
		t->delivered[p]++;
	else if (rx == SL_CMDQ_RX_STALE)
		t->stale[p]++;
	else
		snprintf(t->rx_err, sizeof t->rx_err, "peer %u verdict %s", p, sl_cmdq_rx_str(rx));
}

static void *tt_lcore(void *arg)
{
	tt_t *t = arg;
	unsigned seed = ~t->seed;
	uint64_t corr[TT_PEERS] = {0};
	sl_msg_t m;
	for (;;) {
		bool done = atomic_load(&t->done);
		unsigned budget = (unsigned)rand_r(&seed) % 64; /* sometimes slow */
		sl_cmdq_rx_t rx = SL_CMDQ_RX_EMPTY;
		for (unsigned b = 0; b < budget; b++) {
			rx = sl_cmdq_recv(&q, 0, &m);
			if (rx == SL_CMDQ_RX_EMPTY)
				break;
			tt_take(t, &m, rx, corr);
		}
		for (uint32_t p = 0; p < TT_PEERS; p++)
			tt_poll(t, p);
		if (t->rx_err[0] != 0)
			break;
		if (done && budget > 0 && rx == SL_CMDQ_RX_EMPTY)
			break; /* everything sent before done was taken */
		if ((rand_r(&seed) & 63) == 0)
			usleep(1);
	}
	return NULL;
}

START_TEST(test_two_threads_conservation)
{
	tt_t *t = calloc(1, sizeof *t);
	ck_assert_ptr_nonnull(t);
	t->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	printf("test_two_threads_conservation seed %u\n", t->seed);
	pthread_t c, l;
	ck_assert_int_eq(pthread_create(&l, NULL, tt_lcore, t), 0);
	ck_assert_int_eq(pthread_create(&c, NULL, tt_ctrl, t), 0);
	ck_assert_int_eq(pthread_join(c, NULL), 0);
	ck_assert_int_eq(pthread_join(l, NULL), 0);
	ck_assert_msg(t->err[0] == 0, "seed %u ctrl: %s", t->seed, t->err);
	ck_assert_msg(t->rx_err[0] == 0, "seed %u lcore: %s", t->seed, t->rx_err);
	ck_assert_uint_ge(t->sent_total, 200000);
	sl_msg_t m;
	ck_assert_int_eq(sl_cmdq_recv(&q, 0, &m), SL_CMDQ_RX_EMPTY);
	uint64_t queued = 0, taken = 0;
	for (uint32_t p = 0; p < TT_PEERS; p++) {
		/* conservation: every queued command was taken exactly once */
		ck_assert_msg(t->queued[p] == t->delivered[p] + t->stale[p],
		              "seed %u peer %u queued %lu delivered %lu stale %lu", t->seed, p,
		              (unsigned long)t->queued[p], (unsigned long)t->delivered[p],
		              (unsigned long)t->stale[p]);
		ck_assert_uint_eq(sl_cmdq_depth(&q, 0, p), 0);
		queued += t->queued[p];
		taken += t->delivered[p];
		ck_assert_uint_eq(t->rx_gen[p], t->gen[p]);
		if (t->gen[p] == 0)
			continue;
		/* the newest value is never lost: a final poll shows it */
		tt_poll(t, p);
		ck_assert_msg(t->seen_status[p] == t->last_status[p],
		              "seed %u peer %u status seen %lu newest %lu", t->seed, p,
		              (unsigned long)t->seen_status[p], (unsigned long)t->last_status[p]);
		ck_assert_uint_eq(t->seen[p].wake, t->wakes[p]);
	}
	printf("two threads: %lu sent, %lu queued, %lu delivered, %lu park_required, %lu dropped, "
	       "%lu install/teardown (%lu retries)\n",
	       (unsigned long)t->sent_total, (unsigned long)queued, (unsigned long)taken,
	       (unsigned long)t->park_required, (unsigned long)t->dropped,
	       (unsigned long)t->sessions, (unsigned long)t->retries);
	ck_assert_uint_gt(t->park_required + t->dropped, 0); /* queues did fill */
	ck_assert_uint_gt(taken, 0);
	sl_cmdq_stats_t st;
	sl_cmdq_stats(&q, 0, &st);
	ck_assert_uint_eq(st.out[SL_CMDQ_QUEUED], queued + t->sessions);
	ck_assert_uint_eq(st.rx[SL_CMDQ_RX_DELIVER] + st.rx[SL_CMDQ_RX_STALE],
	                  queued + t->sessions);
	ck_assert_uint_eq(st.out[SL_CMDQ_RETRY], t->retries);
	free(t);
}
END_TEST

static Suite *cmdq_suite(void)
{
	Suite *s = suite_create("cmdq");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, NULL, sweep);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_footprint_new_join);
	tcase_add_test(tc, test_bad_arguments_are_invalid);
	tcase_add_test(tc, test_gone_routine_per_variant);
	tcase_add_test(tc, test_never_drop_parks_on_full_peer_queue);
	tcase_add_test(tc, test_forward_new_block_drops_without_parking);
	tcase_add_test(tc, test_status_newest_replaces_unread);
	tcase_add_test(tc, test_wake_coalesces);
	tcase_add_test(tc, test_full_peer_does_not_affect_other);
	tcase_add_test(tc, test_lcore_ring_full);
	tcase_add_test(tc, test_stale_generation_discarded_at_receiver);
	tcase_add_test(tc, test_two_threads_conservation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	suite_pid = getpid();
	SRunner *sr = srunner_create(cmdq_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
