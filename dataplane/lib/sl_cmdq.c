/* sl_cmdq.c — per-peer commands on top of the per-lcore command ring (see
   sl_cmdq.h for the contract and the variant table).  Shared layout:
   header | per-lcore counters [n_lcores] | blocks [n_lcores][slots]. */
#include "sl_cmdq.h"
#include "sl_cmdq_private.h"

#include <errno.h>
#include <string.h>

#include <rte_pause.h>

#include "sl_log.h"

/* Variant properties: ring use, per-peer credit, header-sync service. */
enum { F_RING = 1, F_CREDIT = 2, F_SERVICE = 4 };
static const uint8_t variant_flags[SL_CMDQ_V_CNT] = {
    [SL_CMDQ_V_STATUS] = F_SERVICE,
    [SL_CMDQ_V_WAKE] = F_SERVICE,
    [SL_CMDQ_V_FORWARD_NEW_BLOCK] = F_RING | F_CREDIT | F_SERVICE,
    [SL_CMDQ_V_DROP_EXPECTATION] = F_RING | F_CREDIT | F_SERVICE,
    [SL_CMDQ_V_SEND_FRAME] = F_RING | F_CREDIT | F_SERVICE,
    [SL_CMDQ_V_SESSION_INSTALL] = F_RING,
    [SL_CMDQ_V_SESSION_TEARDOWN] = F_RING,
};

const char *sl_cmdq_variant_str(unsigned v)
{
	static const char *const n[SL_CMDQ_V_CNT] = {"none",
	                                             "status",
	                                             "wake",
	                                             "forward_new_block",
	                                             "drop_expectation",
	                                             "send_frame",
	                                             "session_install",
	                                             "session_teardown"};
	return v < SL_CMDQ_V_CNT ? n[v] : "?";
}

const char *sl_cmdq_outcome_str(unsigned o)
{
	static const char *const n[SL_CMDQ_OUTCOME_CNT] = {
	    "queued", "coalesced", "dropped", "no_routine", "park_required", "retry", "invalid"};
	return o < SL_CMDQ_OUTCOME_CNT ? n[o] : "?";
}

const char *sl_cmdq_rx_str(unsigned rx)
{
	static const char *const n[SL_CMDQ_RX_CNT] = {"empty", "deliver", "stale", "parked",
	                                              "invalid"};
	return rx < SL_CMDQ_RX_CNT ? n[rx] : "?";
}

/* ---- layout --------------------------------------------------------------- */

static uint64_t off_cnt(void)
{
	return SL_ALIGN_UP((uint64_t)sizeof(struct sl_cmdq_shm), (uint64_t)SL_CACHE_LINE);
}

static uint64_t off_blocks(uint32_t n_lcores)
{
	return off_cnt() + (uint64_t)n_lcores * sizeof(sl_cmdq_lcnt_t);
}

size_t sl_cmdq_align(void)
{
	return SL_CACHE_LINE;
}

size_t sl_cmdq_footprint(uint32_t n_lcores)
{
	if (n_lcores == 0 || n_lcores > SL_MAX_LCORES)
		return 0;
	return (size_t)(off_blocks(n_lcores) +
	                (uint64_t)n_lcores * SL_SESSIONS_PER_LCORE * sizeof(sl_cmdq_block_t));
}

static sl_cmdq_block_t *block(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot)
{
	sl_cmdq_block_t *b = (sl_cmdq_block_t *)((char *)q->shm + q->shm->off_blocks);
	return &b[(size_t)lcore * SL_SESSIONS_PER_LCORE + slot];
}

static sl_cmdq_lcnt_t *lcnt(const sl_cmdq_t *q, uint32_t lcore)
{
	return &((sl_cmdq_lcnt_t *)((char *)q->shm + q->shm->off_cnt))[lcore];
}

static bool in_range(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot)
{
	return lcore < q->shm->n_lcores && slot < SL_SESSIONS_PER_LCORE;
}

/* set_rings copies the ring table into the process-local handle. */
static int set_rings(sl_cmdq_t *q, struct rte_ring *const *rings, uint32_t n_rings)
{
	if (rings == NULL || n_rings > SL_MAX_LCORES)
		return -1;
	for (uint32_t i = 0; i < n_rings; i++) {
		if (rings[i] == NULL)
			return -1;
		q->ring[i] = rings[i];
	}
	q->n_rings = n_rings;
	return 0;
}

int sl_cmdq_new(sl_cmdq_t *q, void *mem, uint32_t n_lcores, struct rte_ring *const *rings,
                uint32_t n_rings)
{
	size_t fp = sl_cmdq_footprint(n_lcores);
	if (SL_UNLIKELY(q == NULL || mem == NULL || fp == 0 ||
	                ((uintptr_t)mem % SL_CACHE_LINE) != 0 || n_lcores > n_rings ||
	                set_rings(q, rings, n_rings) != 0)) {
		sl_log(SL_LOG_ERR, "cmdq: bad arguments to sl_cmdq_new (n_lcores %u, mem %p)",
		       n_lcores, mem);
		return -EINVAL;
	}
	memset(mem, 0, fp);
	struct sl_cmdq_shm *h = mem;
	h->layout = SL_CMDQ_LAYOUT;
	h->n_lcores = n_lcores;
	h->slots = SL_SESSIONS_PER_LCORE;
	h->depth = SL_CMD_DEPTH;
	h->block_size = sizeof(sl_cmdq_block_t);
	h->size = fp;
	h->off_cnt = off_cnt();
	h->off_blocks = off_blocks(n_lcores);
	/* Everything above is visible before the magic. */
	__atomic_store_n(&h->magic, SL_CMDQ_MAGIC, __ATOMIC_RELEASE);
	q->shm = h;
	return 0;
}

int sl_cmdq_join(sl_cmdq_t *q, void *mem, struct rte_ring *const *rings, uint32_t n_rings)
{
	const struct sl_cmdq_shm *h = mem;
	if (SL_UNLIKELY(q == NULL || h == NULL || set_rings(q, rings, n_rings) != 0)) {
		sl_log(SL_LOG_ERR, "cmdq: bad arguments to sl_cmdq_join");
		return -EPROTO;
	}
	if (SL_UNLIKELY(__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != SL_CMDQ_MAGIC ||
	                h->layout != SL_CMDQ_LAYOUT || h->slots != SL_SESSIONS_PER_LCORE ||
	                h->depth != SL_CMD_DEPTH || h->block_size != sizeof(sl_cmdq_block_t) ||
	                sl_cmdq_footprint(h->n_lcores) != h->size || h->off_cnt != off_cnt() ||
	                h->off_blocks != off_blocks(h->n_lcores) || h->n_lcores > n_rings)) {
		sl_log(SL_LOG_ERR,
		       "cmdq: not a command table of this build (magic, layout, slots, depth or "
		       "lcores differ); restart both processes from the same build");
		return -EPROTO;
	}
	q->shm = (struct sl_cmdq_shm *)mem;
	return 0;
}

void *sl_cmdq_leave(sl_cmdq_t *q)
{
	if (SL_UNLIKELY(q == NULL || q->shm == NULL))
		return NULL;
	void *mem = q->shm;
	memset(q, 0, sizeof *q);
	return mem;
}

void *sl_cmdq_delete(void *mem)
{
	struct sl_cmdq_shm *h = mem;
	if (SL_UNLIKELY(h == NULL || __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != SL_CMDQ_MAGIC))
		return NULL;
	__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
	return mem;
}

/* ---- sender side ----------------------------------------------------------- */

static sl_cmdq_outcome_t count_out(sl_cmdq_t *q, uint32_t lcore, sl_cmdq_outcome_t o)
{
	SL_CNT_ADD(&lcnt(q, lcore)->out[o], 1);
	return o;
}

static uint32_t ring_free(const sl_cmdq_t *q, uint32_t lcore)
{
	return sl_msgq_room(q->ring[lcore]);
}

/* enqueue builds the ring record and sends it; the caller checked that the
   ring has room (single producer: the room cannot shrink meanwhile). */
static int enqueue(sl_cmdq_t *q, sl_cmdq_block_t *b, uint32_t lcore, uint32_t slot, uint32_t gen,
                   sl_cmdq_variant_t v, const void *payload, uint16_t len)
{
	sl_msg_t m;
	m.type = (uint16_t)v;
	m.len = len;
	m.lcore = lcore;
	m.session = slot;
	m.gen = gen;
	m.corr = b->ring_seq + 1;
	if (len != 0)
		memcpy(m.payload, payload, len);
	if (len < sizeof m.payload)
		memset(m.payload + len, 0, sizeof m.payload - len);
	if (SL_UNLIKELY(sl_msgq_send(q->ring[lcore], &m) != 0))
		return -ENOBUFS;
	b->ring_seq++;
	return 0;
}

/* status_write publishes the STATUS slot (seqlock, single writer). */
static void status_write(sl_cmdq_block_t *b, uint32_t gen, const void *payload, uint16_t len)
{
	uint64_t w[SL_CMDQ_STATUS_WORDS];
	memset(w, 0, sizeof w);
	w[0] = (uint64_t)gen | ((uint64_t)len << 32);
	if (len != 0)
		memcpy(&w[1], payload, len);
	uint64_t seq = atomic_load_explicit(&b->status_seq, memory_order_relaxed);
	seq += seq & 1; /* a writer that died mid-write left it odd */
	atomic_store_explicit(&b->status_seq, seq + 1, memory_order_relaxed);
	/* The odd seq is ordered before every data store below. */
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < SL_CMDQ_STATUS_WORDS; i++)
		__atomic_store_n(&b->status[i], w[i], __ATOMIC_RELAXED);
	/* Data stores are ordered before the even seq. */
	atomic_store_explicit(&b->status_seq, seq + 2, memory_order_release);
}

/* send_session: install / teardown, never lost (RETRY leaves all as it was). */
static sl_cmdq_outcome_t send_session(sl_cmdq_t *q, sl_cmdq_block_t *b, uint32_t lcore,
                                      uint32_t slot, uint32_t gen, sl_cmdq_variant_t v,
                                      const void *payload, uint16_t len)
{
	if (SL_UNLIKELY(ring_free(q, lcore) == 0))
		return SL_CMDQ_RETRY;
	if (v == SL_CMDQ_V_SESSION_INSTALL) {
		/* Before the record: commands that follow it find `gen` current. */
		atomic_store_explicit(&b->parked, 0, memory_order_relaxed);
		atomic_store_explicit(&b->gen, gen, memory_order_release);
	} else {
		uint32_t want = gen;
		atomic_compare_exchange_strong_explicit(&b->gen, &want, 0, memory_order_acq_rel,
		                                        memory_order_relaxed);
	}
	if (SL_UNLIKELY(enqueue(q, b, lcore, slot, gen, v, payload, len) != 0))
		return SL_CMDQ_RETRY; /* not reached: the single producer saw room */
	return SL_CMDQ_QUEUED;
}

/* send_ring: the credited per-peer variants. */
static sl_cmdq_outcome_t send_ring(sl_cmdq_t *q, sl_cmdq_block_t *b, uint32_t lcore, uint32_t slot,
                                   uint32_t gen, sl_cmdq_variant_t v, const void *payload,
                                   uint16_t len)
{
	sl_cmdq_outcome_t full =
	    v == SL_CMDQ_V_FORWARD_NEW_BLOCK ? SL_CMDQ_DROPPED : SL_CMDQ_PARK_REQUIRED;
	uint32_t sent = atomic_load_explicit(&b->sent, memory_order_relaxed);
	uint32_t consumed = atomic_load_explicit(&b->consumed, memory_order_acquire);
	if (SL_UNLIKELY(sent - consumed >= SL_CMD_DEPTH ||
	                ring_free(q, lcore) <= SL_CMDQ_RING_RESERVE))
		goto out_full;
	/* Credit first: the lcore may consume the record before we return. */
	atomic_store_explicit(&b->sent, sent + 1, memory_order_relaxed);
	if (SL_UNLIKELY(enqueue(q, b, lcore, slot, gen, v, payload, len) != 0)) {
		atomic_store_explicit(&b->sent, sent, memory_order_relaxed);
		goto out_full;
	}
	return SL_CMDQ_QUEUED;
out_full:
	if (full == SL_CMDQ_DROPPED)
		SL_CNT_ADD(&b->dropped, 1);
	return full;
}

sl_cmdq_outcome_t sl_cmdq_send(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen,
                               sl_cmdq_variant_t v, const void *payload, uint16_t len)
{
	if (SL_UNLIKELY(lcore >= q->shm->n_lcores))
		return SL_CMDQ_INVALID;
	if (SL_UNLIKELY(slot >= SL_SESSIONS_PER_LCORE || gen == 0 || v == SL_CMDQ_V_NONE ||
	                (unsigned)v >= SL_CMDQ_V_CNT || (len != 0 && payload == NULL) ||
	                len > (v == SL_CMDQ_V_STATUS ? SL_CMDQ_STATUS_MAX : SL_CMDQ_PAYLOAD_MAX)))
		return count_out(q, lcore, SL_CMDQ_INVALID);
	sl_cmdq_block_t *b = block(q, lcore, slot);
	uint8_t f = variant_flags[v];
	if (!(f & F_SERVICE))
		return count_out(q, lcore, send_session(q, b, lcore, slot, gen, v, payload, len));

	bool gone = atomic_load_explicit(&b->gen, memory_order_acquire) != gen ||
	            atomic_load_explicit(&b->parked, memory_order_relaxed) == gen;
	if (SL_UNLIKELY(gone))
		return count_out(q, lcore,
		                 (f & F_CREDIT) && v != SL_CMDQ_V_FORWARD_NEW_BLOCK
		                     ? SL_CMDQ_PARK_REQUIRED
		                     : SL_CMDQ_NO_ROUTINE);
	if (v == SL_CMDQ_V_STATUS) {
		status_write(b, gen, payload, len);
		return count_out(q, lcore, SL_CMDQ_COALESCED);
	}
	if (v == SL_CMDQ_V_WAKE) {
		atomic_fetch_add_explicit(&b->wake, 1, memory_order_release);
		return count_out(q, lcore, SL_CMDQ_COALESCED);
	}
	return count_out(q, lcore, send_ring(q, b, lcore, slot, gen, v, payload, len));
}

int sl_cmdq_park(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen)
{
	if (SL_UNLIKELY(!in_range(q, lcore, slot) || gen == 0))
		return -EINVAL;
	sl_cmdq_block_t *b = block(q, lcore, slot);
	if (atomic_load_explicit(&b->gen, memory_order_acquire) != gen)
		return -ESRCH;
	atomic_store_explicit(&b->parked, gen, memory_order_release);
	return 0;
}

uint32_t sl_cmdq_depth(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot)
{
	const sl_cmdq_block_t *b = block(q, lcore, slot);
	uint32_t consumed = atomic_load_explicit(&b->consumed, memory_order_acquire);
	return atomic_load_explicit(&b->sent, memory_order_acquire) - consumed;
}

uint32_t sl_cmdq_gen(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot)
{
	return atomic_load_explicit(&block(q, lcore, slot)->gen, memory_order_acquire);
}

uint64_t sl_cmdq_peer_dropped(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot)
{
	return SL_CNT_GET(&block(q, lcore, slot)->dropped);
}

/* ---- receiver side ----------------------------------------------------------- */

static sl_cmdq_rx_t count_rx(sl_cmdq_t *q, uint32_t lcore, sl_cmdq_rx_t rx)
{
	SL_CNT_ADD(&lcnt(q, lcore)->rx[rx], 1);
	return rx;
}

sl_cmdq_rx_t sl_cmdq_accept(sl_cmdq_t *q, uint32_t lcore, const sl_msg_t *m)
{
	if (SL_UNLIKELY(m->type == SL_CMDQ_V_NONE || m->type >= SL_CMDQ_V_CNT ||
	                !(variant_flags[m->type] & F_RING) || m->session >= SL_SESSIONS_PER_LCORE))
		return count_rx(q, lcore, SL_CMDQ_RX_INVALID);
	if (!(variant_flags[m->type] & F_CREDIT))
		return count_rx(q, lcore, SL_CMDQ_RX_DELIVER);
	sl_cmdq_block_t *b = block(q, lcore, m->session);
	sl_cmdq_rx_t rx = SL_CMDQ_RX_DELIVER;
	if (SL_UNLIKELY(atomic_load_explicit(&b->gen, memory_order_acquire) != m->gen))
		rx = SL_CMDQ_RX_STALE;
	else if (SL_UNLIKELY(atomic_load_explicit(&b->parked, memory_order_acquire) == m->gen))
		rx = SL_CMDQ_RX_PARKED;
	uint32_t c = atomic_load_explicit(&b->consumed, memory_order_relaxed);
	atomic_store_explicit(&b->consumed, c + 1, memory_order_release);
	return count_rx(q, lcore, rx);
}

sl_cmdq_rx_t sl_cmdq_recv(sl_cmdq_t *q, uint32_t lcore, sl_msg_t *m)
{
	if (sl_msgq_recv(q->ring[lcore], m) != 0)
		return SL_CMDQ_RX_EMPTY;
	return sl_cmdq_accept(q, lcore, m);
}

/* status_read copies the slot if its version differs from `seen_ver`;
   returns the version read (== seen_ver: nothing new or writer busy). */
static uint64_t status_read(const sl_cmdq_block_t *b, uint64_t seen_ver,
                            uint64_t w[SL_CMDQ_STATUS_WORDS])
{
	for (uint32_t spin = 0; spin < SL_CMDQ_SPIN_MAX; spin++) {
		uint64_t s1 = atomic_load_explicit(&b->status_seq, memory_order_acquire);
		if (s1 / 2 == seen_ver && !(s1 & 1))
			return seen_ver;
		if (s1 & 1) {
			rte_pause();
			continue;
		}
		for (size_t i = 0; i < SL_CMDQ_STATUS_WORDS; i++)
			w[i] = __atomic_load_n(&b->status[i], __ATOMIC_RELAXED);
		/* Data loads are ordered before the second seq load. */
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&b->status_seq, memory_order_relaxed) == s1)
			return s1 / 2;
		rte_pause();
	}
	return seen_ver;
}

unsigned sl_cmdq_poll_coalesced(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen,
                                sl_cmdq_seen_t *seen, sl_cmdq_status_t *st)
{
	const sl_cmdq_block_t *b = block(q, lcore, slot);
	unsigned moved = 0;
	uint64_t wake = atomic_load_explicit(&b->wake, memory_order_acquire);
	if (wake != seen->wake) {
		seen->wake = wake;
		moved |= SL_CMDQ_POLL_WAKE;
	}
	uint64_t w[SL_CMDQ_STATUS_WORDS];
	uint64_t ver = status_read(b, seen->status_ver, w);
	if (ver == seen->status_ver)
		return moved;
	seen->status_ver = ver;
	if ((uint32_t)w[0] != gen)
		return moved; /* left for an older generation */
	st->version = ver;
	st->gen = gen;
	st->len = (uint16_t)(w[0] >> 32);
	memcpy(st->bytes, &w[1], SL_CMDQ_STATUS_MAX);
	return moved | SL_CMDQ_POLL_STATUS;
}

bool sl_cmdq_parked(const sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen)
{
	const sl_cmdq_block_t *b = block(q, lcore, slot);
	return gen != 0 && atomic_load_explicit(&b->gen, memory_order_acquire) == gen &&
	       atomic_load_explicit(&b->parked, memory_order_acquire) == gen;
}

int sl_cmdq_detach(sl_cmdq_t *q, uint32_t lcore, uint32_t slot, uint32_t gen)
{
	if (SL_UNLIKELY(!in_range(q, lcore, slot) || gen == 0))
		return -EINVAL;
	uint32_t want = gen;
	return atomic_compare_exchange_strong_explicit(&block(q, lcore, slot)->gen, &want, 0,
	                                               memory_order_acq_rel, memory_order_relaxed)
	           ? 0
	           : -ESRCH;
}

/* ---- counters ------------------------------------------------------------------ */

void sl_cmdq_stats(const sl_cmdq_t *q, uint32_t lcore, sl_cmdq_stats_t *out)
{
	const sl_cmdq_lcnt_t *c = lcnt(q, lcore);
	for (unsigned i = 0; i < SL_CMDQ_OUTCOME_CNT; i++)
		out->out[i] = SL_CNT_GET(&c->out[i]);
	for (unsigned i = 0; i < SL_CMDQ_RX_CNT; i++)
		out->rx[i] = SL_CNT_GET(&c->rx[i]);
}
