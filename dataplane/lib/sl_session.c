/* sl_session.c — the per-lcore session table (see sl_session.h).

   Identity fields are written only inside id_begin / id_end, a seqlock
   (Boehm, "Can seqlocks get along with programming language memory
   models?"): the owner makes `ver` odd, a release fence, relaxed stores,
   then `ver` even with release.  A reader takes `ver` with acquire, loads
   relaxed, an acquire fence, and re-reads `ver`; equal and even means the
   copy is one incarnation. */
#include <string.h>

#include "sl_session.h"
#include "sl_session_private.h"
#include "sl_log.h"

#define RX memory_order_relaxed

#define SESS_SNAPSHOT_TRIES 10000

_Static_assert(sizeof(sl_session_table_t) % SL_CACHE_LINE == 0, "table is whole lines");
_Static_assert(sizeof(sl_session_t) % SL_CACHE_LINE == 0, "slot is whole lines");
_Static_assert(SL_SESSION_STREAMS <= 32, "stream bitmap is a u32");

const char *sl_session_replay_str(unsigned res)
{
	static const char *const names[] = {
#define SL_REPLAY_NAME(e, s) s,
	    SL_REPLAY_RES_LIST(SL_REPLAY_NAME)
#undef SL_REPLAY_NAME
	};
	return res < SL_REPLAY_RES_CNT ? names[res] : "?";
}

const char *sl_session_res_str(unsigned res)
{
	static const char *const names[] = {
#define SL_SESSION_RES_NAME(e, s) s,
	    SL_SESSION_RES_LIST(SL_SESSION_RES_NAME)
#undef SL_SESSION_RES_NAME
	};
	return res < SL_SESSION_RES_CNT ? names[res] : "?";
}

const char *sl_session_miss_str(unsigned why)
{
	static const char *const names[] = {
#define SL_SESSION_MISS_NAME(e, s) s,
	    SL_SESSION_MISS_LIST(SL_SESSION_MISS_NAME)
#undef SL_SESSION_MISS_NAME
	};
	return why < SL_SESSION_MISS_CNT ? names[why] : "?";
}

/* ---- lifecycle ----------------------------------------------------------- */

size_t sl_session_table_align(void)
{
	return _Alignof(sl_session_table_t);
}

size_t sl_session_table_footprint(void)
{
	return sizeof(sl_session_table_t);
}

sl_session_table_t *sl_session_table_new(void *mem, uint32_t lcore)
{
	if (SL_UNLIKELY(mem == NULL || ((uintptr_t)mem & (sl_session_table_align() - 1)) != 0)) {
		SL_ERR("session table: memory %p missing or not %zu-aligned", mem,
		       sl_session_table_align());
		return NULL;
	}
	if (SL_UNLIKELY(lcore >= SL_MAX_LCORES)) {
		SL_ERR("session table: lcore %u >= SL_MAX_LCORES %u", lcore, SL_MAX_LCORES);
		return NULL;
	}
	sl_session_table_t *t = mem;
	memset(t, 0, sizeof(*t));
	t->layout = SL_SESSION_LAYOUT;
	t->lcore = lcore;
	atomic_store_explicit(&t->live_n, 0, RX);
	for (uint32_t i = 0; i < SL_SESSIONS_PER_LCORE; i++) {
		t->perm[i] = (uint16_t)i;
		t->pos[i] = (uint16_t)i;
		sl_session_t *s = &t->slot[i];
		atomic_store_explicit(&s->state, SL_SESSION_FREE, RX);
		atomic_store_explicit(&s->sid, 0, RX);
	}
	atomic_thread_fence(memory_order_release);
	t->magic = SL_SESSION_MAGIC;
	return t;
}

sl_session_table_t *sl_session_table_join(void *mem)
{
	sl_session_table_t *t = mem;
	if (SL_UNLIKELY(t == NULL || t->magic != SL_SESSION_MAGIC ||
	                t->layout != SL_SESSION_LAYOUT))
		return NULL;
	atomic_thread_fence(memory_order_acquire);
	return t;
}

void *sl_session_table_leave(sl_session_table_t *t)
{
	return t;
}

void *sl_session_table_delete(sl_session_table_t *t)
{
	if (SL_UNLIKELY(sl_session_table_join(t) == NULL))
		return NULL;
	t->magic = 0;
	return t;
}

/* ---- live / free permutation --------------------------------------------- */

/* swap_pos exchanges the perm positions a and b (and fixes pos[]). */
static void swap_pos(sl_session_table_t *t, uint32_t a, uint32_t b)
{
	uint16_t sa = t->perm[a], sb = t->perm[b];
	t->perm[a] = sb;
	t->perm[b] = sa;
	t->pos[sb] = (uint16_t)a;
	t->pos[sa] = (uint16_t)b;
}

/* mark_live moves free slot `slot` to the end of the live prefix. */
static void mark_live(sl_session_table_t *t, uint32_t slot)
{
	uint32_t n = atomic_load_explicit(&t->live_n, RX);
	swap_pos(t, t->pos[slot], n);
	atomic_store_explicit(&t->live_n, n + 1, RX);
}

/* mark_free moves live slot `slot` just past the shortened live prefix. */
static void mark_free(sl_session_table_t *t, uint32_t slot)
{
	uint32_t n = atomic_load_explicit(&t->live_n, RX) - 1;
	swap_pos(t, t->pos[slot], n);
	atomic_store_explicit(&t->live_n, n, RX);
}

/* ---- identity seqlock ---------------------------------------------------- */

static void id_begin(sl_session_t *s)
{
	uint32_t v = atomic_load_explicit(&s->ver, RX);
	atomic_store_explicit(&s->ver, v + 1, RX);
	atomic_thread_fence(memory_order_release);
}

static void id_end(sl_session_t *s)
{
	uint32_t v = atomic_load_explicit(&s->ver, RX);
	atomic_store_explicit(&s->ver, v + 1, memory_order_release);
}

/* ---- install / teardown -------------------------------------------------- */

static bool peer_ok(const sl_session_peer_t *p)
{
	return p != NULL && p->peer_ip != 0 && p->peer_port != 0 && p->remote_sid != 0 &&
	       (p->streams & ~SL_SESSION_STREAM_MASK) == 0;
}

/* pick_slot: the slot install should use, or an error. */
static sl_session_res_t pick_slot(const sl_session_table_t *t, uint32_t want, uint32_t *slot)
{
	uint32_t n = atomic_load_explicit(&t->live_n, RX);
	if (want == SL_SESSION_SLOT_ANY) {
		if (SL_UNLIKELY(n >= SL_SESSIONS_PER_LCORE))
			return SL_SESSION_ERR_FULL;
		*slot = t->perm[n];
		return SL_SESSION_OK;
	}
	if (SL_UNLIKELY(want >= SL_SESSIONS_PER_LCORE))
		return SL_SESSION_ERR_ARGS;
	if (SL_UNLIKELY(t->pos[want] < n))
		return SL_SESSION_ERR_BUSY;
	*slot = want;
	return SL_SESSION_OK;
}

/* reset_flow: fresh seq counters, replay windows, rtt and counters. */
static void reset_flow(sl_session_t *s)
{
	for (uint32_t i = 0; i < SL_SESSION_STREAMS; i++) {
		s->next_seq[i] = 1;
		sl_replay_init(&s->replay[i]);
	}
	atomic_store_explicit(&s->rtt_us, 0, RX);
#define SL_SESSION_CNT_ZERO(f, n) atomic_store_explicit(&s->cnt.f, 0, RX);
	SL_SESSION_CNT_LIST(SL_SESSION_CNT_ZERO)
#undef SL_SESSION_CNT_ZERO
}

sl_session_res_t sl_session_install(sl_session_table_t *t, uint32_t slot,
                                    const sl_session_peer_t *peer, uint32_t gen, uint32_t *sid)
{
	if (SL_UNLIKELY(t == NULL || sid == NULL || !peer_ok(peer)))
		return SL_SESSION_ERR_ARGS;
	uint32_t idx;
	sl_session_res_t res = pick_slot(t, slot, &idx);
	if (SL_UNLIKELY(res != SL_SESSION_OK))
		return res;

	sl_session_t *s = &t->slot[idx];
	uint32_t g = sl_sid_gen_norm(gen);
	if (g == s->last_gen)
		g = sl_sid_gen_norm(g + 1);
	uint32_t id = sl_sid_make(t->lcore, idx, g);
	s->last_gen = g;
	s->peer_mac = peer->peer_mac;
	reset_flow(s);

	id_begin(s);
	atomic_store_explicit(&s->sid, id, RX);
	atomic_store_explicit(&s->remote_sid, peer->remote_sid, RX);
	atomic_store_explicit(&s->streams, peer->streams | 1u, RX);
	atomic_store_explicit(&s->peer_ip, peer->peer_ip, RX);
	atomic_store_explicit(&s->peer_port, peer->peer_port, RX);
	for (uint32_t i = 0; i < SL_SESSION_NODE_ID_LEN / 8; i++) {
		uint64_t w;
		memcpy(&w, peer->node_id + 8 * i, sizeof(w));
		atomic_store_explicit(&s->node_id[i], w, RX);
	}
	atomic_store_explicit(&s->state, SL_SESSION_LIVE, RX);
	id_end(s);

	mark_live(t, idx);
	*sid = id;
	return SL_SESSION_OK;
}

int sl_session_teardown(sl_session_table_t *t, uint32_t sid)
{
	sl_session_miss_t why;
	sl_session_t *s = sl_session_find(t, sid, &why);
	if (s == NULL)
		return 0;
	uint32_t idx = sl_sid_slot(sid);
	id_begin(s);
	atomic_store_explicit(&s->state, SL_SESSION_FREE, RX);
	atomic_store_explicit(&s->sid, sl_sid_make(t->lcore, idx, sl_sid_gen_norm(s->last_gen + 1)),
	                      RX);
	id_end(s);
	mark_free(t, idx);
	return 1;
}

/* ---- readers ------------------------------------------------------------- */

/* read_identity copies the seqlock-protected fields (no consistency). */
static void read_identity(const sl_session_t *s, sl_session_info_t *o)
{
	o->state = atomic_load_explicit(&s->state, RX);
	o->sid = atomic_load_explicit(&s->sid, RX);
	o->remote_sid = atomic_load_explicit(&s->remote_sid, RX);
	o->streams = atomic_load_explicit(&s->streams, RX);
	o->peer_ip = atomic_load_explicit(&s->peer_ip, RX);
	o->peer_port = (uint16_t)atomic_load_explicit(&s->peer_port, RX);
	for (uint32_t i = 0; i < SL_SESSION_NODE_ID_LEN / 8; i++) {
		uint64_t w = atomic_load_explicit(&s->node_id[i], RX);
		memcpy(o->node_id + 8 * i, &w, sizeof(w));
	}
}

int sl_session_snapshot(const sl_session_table_t *t, uint32_t slot, sl_session_info_t *out)
{
	if (SL_UNLIKELY(t == NULL || out == NULL || slot >= SL_SESSIONS_PER_LCORE))
		return 0;
	const sl_session_t *s = &t->slot[slot];
	sl_session_info_t tmp;
	for (uint32_t tries = 0; tries < SESS_SNAPSHOT_TRIES; tries++) {
		uint32_t v1 = atomic_load_explicit(&s->ver, memory_order_acquire);
		if (v1 & 1u)
			continue;
		read_identity(s, &tmp);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&s->ver, RX) != v1)
			continue;
		tmp.slot = slot;
		tmp.rtt_us = atomic_load_explicit(&s->rtt_us, RX);
#define SL_SESSION_CNT_COPY(f, n) tmp.cnt.f = SL_CNT_GET(&s->cnt.f);
		SL_SESSION_CNT_LIST(SL_SESSION_CNT_COPY)
#undef SL_SESSION_CNT_COPY
		*out = tmp;
		return tmp.state == SL_SESSION_LIVE;
	}
	return 0; /* the owner kept rewriting it: report nothing this time */
}
