/* sl_rangeq.c — the lock-free header-sync range table (see sl_rangeq.h).

   Consumers claim a hold word by CAS 0 -> (sess, gen) and then re-read the
   slot's desc: if it moved (the producer changed the range), they undo the
   claim.  The producer changes desc first and clears hold words after,
   every access seq_cst, so either the consumer sees the new desc or the
   producer sees (and drops, and reports) the claim: no hold survives into
   an incarnation that did not grant it. */
#include <string.h>

#include "sl_rangeq_private.h"
#include "sl_log.h"
#include "sl_probe.h"

#define RQ_SC memory_order_seq_cst
#define RQ_RX memory_order_relaxed

/* ---- word encodings ------------------------------------------------------ */

static inline uint32_t d_start(uint64_t d)
{
	return (uint32_t)d;
}
static inline uint32_t d_len(uint64_t d)
{
	return (uint32_t)(d >> 32) & 0xfffu;
}
static inline uint32_t d_dir(uint64_t d)
{
	return (uint32_t)(d >> 44) & 1u;
}
static inline uint32_t d_fin(uint64_t d)
{
	return (uint32_t)(d >> 45) & 1u;
}
static inline uint32_t d_state(uint64_t d)
{
	return (uint32_t)(d >> 46) & 3u;
}
static inline uint16_t d_tag(uint64_t d)
{
	return (uint16_t)(d >> 48);
}
static inline uint64_t d_make(uint32_t start, uint32_t len, uint32_t dir, uint32_t fin,
                              uint32_t state, uint16_t tag)
{
	return (uint64_t)start | (uint64_t)(len & 0xfffu) << 32 | (uint64_t)(dir & 1u) << 44 |
	       (uint64_t)(fin & 1u) << 45 | (uint64_t)(state & 3u) << 46 | (uint64_t)tag << 48;
}
static inline uint64_t who(uint32_t sess, uint32_t gen)
{
	return (uint64_t)sess << 32 | gen;
}
static inline uint64_t kn_make(uint32_t start, uint32_t len)
{
	return (uint64_t)start << 32 | len;
}

/* An interval [lo, hi) of heights; 64-bit so ends never wrap. */
typedef struct {
	uint64_t lo, hi;
} ival_t;

static inline ival_t kn_ival(uint64_t k)
{
	uint64_t lo = k >> 32;
	return (ival_t){lo, lo + (uint32_t)k};
}
static inline bool iv_empty(ival_t a)
{
	return a.lo >= a.hi;
}

static inline sl_rangeq_slot_t *slot_of(sl_rangeq_t *q, uint64_t k)
{
	return &q->slot[k & q->mask];
}

static inline void epoch_bump(sl_rangeq_t *q)
{
	atomic_fetch_add_explicit(&q->epoch, 1, memory_order_release);
}

/* ---- lifecycle ----------------------------------------------------------- */

size_t sl_rangeq_align(void)
{
	return SL_CACHE_LINE;
}

size_t sl_rangeq_footprint(uint32_t window)
{
	if (!SL_IS_POW2(window) || window < SL_RANGEQ_WINDOW_MIN || window > SL_RANGEQ_WINDOW_MAX)
		return 0;
	return sizeof(struct sl_rangeq) + (size_t)window * sizeof(sl_rangeq_slot_t);
}

sl_rangeq_t *sl_rangeq_new(void *mem, uint32_t window, uint32_t range_len, uint32_t fanout)
{
	size_t fp = sl_rangeq_footprint(window);
	if (SL_UNLIKELY(!mem || ((uintptr_t)mem & (SL_CACHE_LINE - 1)) || !fp || range_len == 0 ||
	                range_len > SL_RANGEQ_LEN_MAX || fanout == 0 ||
	                fanout > SL_RANGEQ_MAX_FANOUT)) {
		SL_ERR("rangeq: bad arguments (mem %p, window %u, range_len %u, fanout %u)", mem,
		       window, range_len, fanout);
		return NULL;
	}
	sl_rangeq_t *q = mem;
	memset(mem, 0, fp);
	q->layout = SL_RANGEQ_LAYOUT;
	q->hdr_size = sizeof(struct sl_rangeq);
	q->window = window;
	q->mask = window - 1;
	q->range_len = range_len;
	q->fanout = fanout;
	q->footprint = fp;
	for (int d = 0; d < 2; d++) {
		atomic_store_explicit(&q->lo_k[d], UINT32_MAX, RQ_RX);
		atomic_store_explicit(&q->hi_k[d], 0, RQ_RX);
	}
	atomic_thread_fence(memory_order_release);
	__atomic_store_n(&q->magic, SL_RANGEQ_MAGIC, __ATOMIC_RELEASE);
	return q;
}

sl_rangeq_t *sl_rangeq_join(void *mem)
{
	sl_rangeq_t *q = mem;
	if (SL_UNLIKELY(!q || ((uintptr_t)mem & (SL_CACHE_LINE - 1))))
		return NULL;
	if (SL_UNLIKELY(__atomic_load_n(&q->magic, __ATOMIC_ACQUIRE) != SL_RANGEQ_MAGIC ||
	                q->layout != SL_RANGEQ_LAYOUT || q->hdr_size != sizeof(struct sl_rangeq) ||
	                q->footprint != sl_rangeq_footprint(q->window) ||
	                q->mask != q->window - 1 || q->range_len == 0 ||
	                q->range_len > SL_RANGEQ_LEN_MAX || q->fanout == 0 ||
	                q->fanout > SL_RANGEQ_MAX_FANOUT))
		return NULL;
	return q;
}

void *sl_rangeq_leave(sl_rangeq_t *q)
{
	return q;
}

void *sl_rangeq_delete(void *mem)
{
	sl_rangeq_t *q = sl_rangeq_join(mem);
	if (SL_UNLIKELY(q == NULL))
		return NULL;
	__atomic_store_n(&q->magic, 0, __ATOMIC_RELEASE);
	return mem;
}

uint32_t sl_rangeq_window(const sl_rangeq_t *q)
{
	return q->window;
}
uint32_t sl_rangeq_range_len(const sl_rangeq_t *q)
{
	return q->range_len;
}
uint32_t sl_rangeq_fanout(const sl_rangeq_t *q)
{
	return q->fanout;
}

uint64_t sl_rangeq_epoch(const sl_rangeq_t *q)
{
	return atomic_load_explicit(&((sl_rangeq_t *)q)->epoch, memory_order_acquire);
}

/* ---- producer helpers ---------------------------------------------------- */

/* drop_holds clears every hold and mark of `s` (after its desc moved on),
   appending the removed holds of the old incarnation `old` to out. */
static uint32_t drop_holds(sl_rangeq_t *q, sl_rangeq_slot_t *s, uint64_t old, sl_range_hold_t *out,
                           uint32_t cap, uint32_t n)
{
	uint32_t slot = (uint32_t)(s - q->slot);
	for (uint32_t i = 0; i < q->fanout; i++) {
		uint64_t w = atomic_exchange_explicit(&s->hold[i], 0, RQ_SC);
		if (!w)
			continue;
		if (out && n < cap)
			out[n] = (sl_range_hold_t){
			    .sess = (uint32_t)(w >> 32),
			    .gen = (uint32_t)w,
			    .range = {d_start(old), d_len(old), (uint8_t)d_dir(old),
			              (uint8_t)d_fin(old), d_tag(old), slot},
			};
		n++;
	}
	for (uint32_t j = 0; j < SL_RANGEQ_MARKS; j++)
		atomic_store_explicit(&s->mark[j], 0, RQ_SC);
	return n;
}

/* set_desc is the producer's transition: one CAS naming the old word. */
static bool set_desc(sl_rangeq_slot_t *s, uint64_t old, uint64_t nw)
{
	bool ok = atomic_compare_exchange_strong_explicit(&s->desc, &old, nw, RQ_SC, RQ_SC);
	if (SL_UNLIKELY(!ok))
		SL_ERR("rangeq: desc changed under the producer (two producers?)");
	return ok;
}

static bool live_at(sl_rangeq_t *q, uint64_t k, uint32_t dir)
{
	uint64_t d = atomic_load_explicit(&slot_of(q, k)->desc, RQ_RX);
	return d_state(d) == SL_RQ_LIVE && d_dir(d) == dir && d_start(d) / q->range_len == k;
}

/* hint_trim shrinks [lo_k, hi_k] of `dir` to its live ends after removals. */
static void hint_trim(sl_rangeq_t *q, uint32_t dir)
{
	uint64_t lo = atomic_load_explicit(&q->lo_k[dir], RQ_RX);
	uint64_t hi = atomic_load_explicit(&q->hi_k[dir], RQ_RX);
	uint64_t n = 0;
	while (lo <= hi && n < q->window && !live_at(q, lo, dir)) {
		lo++;
		n++;
	}
	if (lo > hi || n == q->window) {
		atomic_store_explicit(&q->lo_k[dir], UINT32_MAX, RQ_RX);
		atomic_store_explicit(&q->hi_k[dir], 0, RQ_RX);
		return;
	}
	while (hi > lo && !live_at(q, hi, dir))
		hi--;
	atomic_store_explicit(&q->lo_k[dir], (uint32_t)lo, RQ_RX);
	atomic_store_explicit(&q->hi_k[dir], (uint32_t)hi, RQ_RX);
}

/* hint_admit widens the hint of `dir` to bucket k, unless the live span
   would then exceed the window (take scans at most `window` buckets). */
static bool hint_admit(sl_rangeq_t *q, uint64_t k, uint32_t dir)
{
	uint64_t lo = atomic_load_explicit(&q->lo_k[dir], RQ_RX);
	uint64_t hi = atomic_load_explicit(&q->hi_k[dir], RQ_RX);
	if (lo > hi) {
		lo = hi = k;
	} else {
		lo = SL_MIN(lo, k);
		hi = SL_MAX(hi, k);
		if (hi - lo >= q->window)
			return false;
	}
	atomic_store_explicit(&q->lo_k[dir], (uint32_t)lo, RQ_RX);
	atomic_store_explicit(&q->hi_k[dir], (uint32_t)hi, RQ_RX);
	return true;
}

static inline uint32_t bucket_of_desc(const sl_rangeq_t *q, uint64_t d)
{
	return d_start(d) / q->range_len;
}

/* ---- rule 1: ensure ------------------------------------------------------ */

/* ensure_fresh queues [a, b) in a slot that holds nothing of bucket k. */
static sl_rangeq_res_t ensure_fresh(sl_rangeq_t *q, sl_rangeq_slot_t *s, uint64_t d, uint64_t k,
                                    ival_t p, uint32_t dir, bool fin)
{
	if (!hint_admit(q, k, dir))
		return SL_RANGEQ_ERR_FULL;
	uint32_t len = (uint32_t)(p.hi - p.lo);
	atomic_store_explicit(&s->known, kn_make((uint32_t)p.lo, len), RQ_RX);
	uint64_t nd = d_make((uint32_t)p.lo, len, dir, fin, SL_RQ_LIVE, (uint16_t)(d_tag(d) + 1));
	if (SL_UNLIKELY(!set_desc(s, d, nd)))
		return SL_RANGEQ_ERR_ARGS;
	drop_holds(q, s, d, NULL, 0, 0); /* a COVERED slot has none; marks reset */
	atomic_fetch_add_explicit(&q->ensured, len, RQ_RX);
	return SL_RANGEQ_OK;
}

/* ensure_same extends what bucket k already knows by the heights of p that
   are new to it. */
static sl_rangeq_res_t ensure_same(sl_rangeq_t *q, sl_rangeq_slot_t *s, uint64_t d, uint64_t k,
                                   ival_t p, uint32_t dir, bool fin)
{
	ival_t kn = kn_ival(atomic_load_explicit(&s->known, RQ_RX));
	bool below = p.lo<kn.lo, above = p.hi> kn.hi;
	if (!below && !above)
		return SL_RANGEQ_NOOP;
	ival_t nk = {SL_MIN(kn.lo, p.lo), SL_MAX(kn.hi, p.hi)};
	ival_t live;
	uint64_t nd;
	if (d_state(d) == SL_RQ_LIVE) {
		/* keep the holders: they asked for what they asked */
		ival_t old = {d_start(d), (uint64_t)d_start(d) + d_len(d)};
		live = (ival_t){below ? p.lo : old.lo, above ? p.hi : old.hi};
		nd = d_make((uint32_t)live.lo, (uint32_t)(live.hi - live.lo), d_dir(d),
		            d_fin(d) | fin, SL_RQ_LIVE, d_tag(d));
		atomic_store_explicit(&s->known,
		                      kn_make((uint32_t)nk.lo, (uint32_t)(nk.hi - nk.lo)), RQ_RX);
		if (SL_UNLIKELY(!set_desc(s, d, nd)))
			return SL_RANGEQ_ERR_ARGS;
		atomic_fetch_add_explicit(&q->ensured, (live.hi - live.lo) - d_len(d), RQ_RX);
		return SL_RANGEQ_OK;
	}
	/* COVERED: queue the new part; both ends new means p surrounds the
	   covered heights, which are re-fetched rather than lost */
	live = below && above ? p : below ? (ival_t){p.lo, kn.lo} : (ival_t){kn.hi, p.hi};
	if (!hint_admit(q, k, dir))
		return SL_RANGEQ_ERR_FULL;
	atomic_store_explicit(&s->known, kn_make((uint32_t)nk.lo, (uint32_t)(nk.hi - nk.lo)),
	                      RQ_RX);
	nd = d_make((uint32_t)live.lo, (uint32_t)(live.hi - live.lo), dir, fin, SL_RQ_LIVE,
	            (uint16_t)(d_tag(d) + 1));
	if (SL_UNLIKELY(!set_desc(s, d, nd)))
		return SL_RANGEQ_ERR_ARGS;
	drop_holds(q, s, d, NULL, 0, 0);
	atomic_fetch_add_explicit(&q->ensured, live.hi - live.lo, RQ_RX);
	return SL_RANGEQ_OK;
}

static sl_rangeq_res_t ensure_piece(sl_rangeq_t *q, ival_t p, uint32_t dir, bool fin)
{
	uint64_t k = p.lo / q->range_len;
	sl_rangeq_slot_t *s = slot_of(q, k);
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	uint32_t st = d_state(d);
	if (st == SL_RQ_FREE || bucket_of_desc(q, d) != k) {
		if (st == SL_RQ_LIVE)
			return SL_RANGEQ_ERR_FULL;
		return ensure_fresh(q, s, d, k, p, dir, fin);
	}
	return ensure_same(q, s, d, k, p, dir, fin);
}

sl_rangeq_res_t sl_rangeq_ensure(sl_rangeq_t *q, uint32_t start, uint32_t len, sl_range_dir_t dir,
                                 bool finalized)
{
	uint64_t end = (uint64_t)start + len;
	if (SL_UNLIKELY(len == 0 || end > (uint64_t)UINT32_MAX + 1 ||
	                (dir != SL_RANGE_FWD && dir != SL_RANGE_BWD)))
		return SL_RANGEQ_ERR_ARGS;
	bool queued = false, full = false;
	for (uint64_t lo = start; lo < end;) {
		uint64_t bend = (lo / q->range_len + 1) * q->range_len;
		ival_t p = {lo, SL_MIN(end, bend)};
		sl_rangeq_res_t r = ensure_piece(q, p, dir, finalized);
		queued |= r == SL_RANGEQ_OK;
		full |= r == SL_RANGEQ_ERR_FULL;
		lo = p.hi;
	}
	if (queued)
		epoch_bump(q);
	return full ? SL_RANGEQ_ERR_FULL : queued ? SL_RANGEQ_OK : SL_RANGEQ_NOOP;
}

/* ---- rule 2: take -------------------------------------------------------- */

/* eligible decides what `sess` would be asked for from range d: 0 = skip. */
static uint32_t eligible(uint64_t d, uint32_t peer_tip, uint32_t cap)
{
	uint32_t start = d_start(d), len = d_len(d);
	if (start > peer_tip)
		return 0;
	uint32_t n = len;
	if ((uint64_t)start + len - 1 > peer_tip)
		n = peer_tip - start + 1;
	n = SL_MIN(n, cap);
	if (n < len && d_fin(d))
		return 0; /* a finalized range is never narrowed */
	return n;
}

/* holds_admit: -1 if sess already holds or (sess, gen) is marked, else the
   index of a free hold word (or -2 when fanout is reached). */
static int holds_admit(const sl_rangeq_t *q, sl_rangeq_slot_t *s, uint32_t sess, uint64_t w)
{
	int free_i = -2;
	for (uint32_t i = 0; i < q->fanout; i++) {
		uint64_t h = atomic_load_explicit(&s->hold[i], RQ_SC);
		if (h && (uint32_t)(h >> 32) == sess)
			return -1;
		if (!h && free_i < 0)
			free_i = (int)i;
	}
	for (uint32_t j = 0; j < SL_RANGEQ_MARKS; j++)
		if (atomic_load_explicit(&s->mark[j], RQ_RX) == w)
			return -1;
	return free_i;
}

/* desc_live_at: descriptor d is a live `dir` range of bucket k. */
static bool desc_live_at(const sl_rangeq_t *q, uint64_t d, uint64_t k, uint32_t dir)
{
	return d_state(d) == SL_RQ_LIVE && d_dir(d) == dir && d_start(d) / q->range_len == k;
}

/* slot_held: some session holds slot s. */
static bool slot_held(const sl_rangeq_t *q, sl_rangeq_slot_t *s)
{
	for (uint32_t i = 0; i < q->fanout; i++)
		if (atomic_load_explicit(&s->hold[i], RQ_SC) != 0)
			return true;
	return false;
}

/* try_slot claims a hold on slot s (bucket k, dir) for (sess, gen);
   `fresh`: only while nobody holds it. */
static int try_slot(sl_rangeq_t *q, sl_rangeq_slot_t *s, uint64_t k, uint32_t dir, uint32_t sess,
                    uint32_t gen, uint32_t peer_tip, uint32_t cap, bool fresh, sl_range_t *out)
{
	uint64_t w = who(sess, gen);
	/* each retry follows another thread's successful CAS: lock-free */
	for (uint32_t tries = 0; tries < 2 * SL_RANGEQ_MAX_FANOUT; tries++) {
		uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
		if (!desc_live_at(q, d, k, dir))
			return 0;
		uint32_t n = eligible(d, peer_tip, cap);
		if (!n)
			return 0;
		int i = holds_admit(q, s, sess, w);
		if (i < 0 || (fresh && slot_held(q, s)))
			return 0;
		uint64_t zero = 0;
		if (!atomic_compare_exchange_strong_explicit(&s->hold[i], &zero, w, RQ_SC, RQ_SC))
			continue;
		if (SL_LIKELY(atomic_load_explicit(&s->desc, RQ_SC) == d)) {
			*out = (sl_range_t){d_start(d),        n,        (uint8_t)dir,
			                    (uint8_t)d_fin(d), d_tag(d), (uint32_t)(s - q->slot)};
			SL_PROBE_RANGE_TAKE(out->start, out->len, sess, gen);
			return 1;
		}
		/* the range changed under us: undo (the producer may already
		   have dropped it, then the CAS fails and that is fine) */
		uint64_t mine = w;
		atomic_compare_exchange_strong_explicit(&s->hold[i], &mine, 0, RQ_SC, RQ_SC);
	}
	return 0;
}

int sl_rangeq_take(sl_rangeq_t *q, uint32_t sess, uint32_t gen, uint32_t peer_tip, uint32_t cap,
                   sl_range_t *out)
{
	for (uint32_t dir = SL_RANGE_FWD; dir <= SL_RANGE_BWD; dir++) {
		uint64_t lo = atomic_load_explicit(&q->lo_k[dir], RQ_RX);
		uint64_t hi = atomic_load_explicit(&q->hi_k[dir], RQ_RX);
		hi = SL_MIN(hi, (uint64_t)peer_tip / q->range_len);
		/* work nobody holds, lowest first */
		for (uint64_t k = lo, n = 0; k <= hi && n < q->window; k++, n++)
			if (try_slot(q, slot_of(q, k), k, dir, sess, gen, peer_tip, cap, true, out))
				return 1;
		/* then the end game's hedge: a further holder on the lowest live
		   range only, the one the commit waits for */
		for (uint64_t k = lo, n = 0; k <= hi && n < q->window; k++, n++) {
			if (!desc_live_at(q, atomic_load_explicit(&slot_of(q, k)->desc, RQ_SC), k,
			                  dir))
				continue;
			if (try_slot(q, slot_of(q, k), k, dir, sess, gen, peer_tip, cap, false,
			             out))
				return 1;
			break;
		}
	}
	return 0;
}

/* ---- rule 3: return ------------------------------------------------------ */

static int mark_put(sl_rangeq_slot_t *s, uint64_t w)
{
	for (uint32_t j = 0; j < SL_RANGEQ_MARKS; j++) {
		uint64_t m = 0;
		if (atomic_compare_exchange_strong_explicit(&s->mark[j], &m, w, RQ_SC, RQ_SC) ||
		    m == w)
			return (int)j;
	}
	/* all taken: overwrite one (marks are advice, not state) */
	uint32_t j = (uint32_t)((w * 0x9e3779b97f4a7c15ull) >> 62) % SL_RANGEQ_MARKS;
	uint64_t m = atomic_load_explicit(&s->mark[j], RQ_SC);
	if (atomic_compare_exchange_strong_explicit(&s->mark[j], &m, w, RQ_SC, RQ_SC))
		return (int)j;
	return -1;
}

static void mark_drop(sl_rangeq_slot_t *s, int j, uint64_t w)
{
	if (j >= 0)
		atomic_compare_exchange_strong_explicit(&s->mark[j], &w, 0, RQ_SC, RQ_SC);
}

sl_rangeq_res_t sl_rangeq_return(sl_rangeq_t *q, uint32_t sess, uint32_t gen, const sl_range_t *r,
                                 sl_range_why_t why)
{
	if (SL_UNLIKELY(!r || r->slot >= q->window || why == SL_RANGE_WHY_NONE ||
	                why >= SL_RANGE_WHY_CNT))
		return SL_RANGEQ_ERR_ARGS;
	sl_rangeq_slot_t *s = &q->slot[r->slot];
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	if (d_state(d) != SL_RQ_LIVE || d_tag(d) != r->tag)
		return SL_RANGEQ_STALE;
	uint64_t w = who(sess, gen);
	uint32_t i = 0;
	while (i < q->fanout && atomic_load_explicit(&s->hold[i], RQ_SC) != w)
		i++;
	if (i == q->fanout)
		return SL_RANGEQ_STALE;
	int j = why == SL_RANGE_WHY_TIMEOUT ? mark_put(s, w) : -1;
	uint64_t mine = w;
	if (!atomic_compare_exchange_strong_explicit(&s->hold[i], &mine, 0, RQ_SC, RQ_SC)) {
		mark_drop(s, j, w); /* the producer dropped it first */
		return SL_RANGEQ_STALE;
	}
	if (j >= 0 && d_tag(atomic_load_explicit(&s->desc, RQ_SC)) != r->tag)
		mark_drop(s, j, w); /* a new incarnation owes us no mark */
	SL_PROBE_RANGE_RETURN(r->start, r->len, sess, gen, why);
	epoch_bump(q);
	return SL_RANGEQ_OK;
}

/* ---- rule 4: mark_covered ------------------------------------------------ */

/* known_merge remembers p as covered in bucket k when it touches what the
   bucket knows (a disjoint cover is forgotten: at worst re-fetched). */
static void known_merge(sl_rangeq_slot_t *s, ival_t p)
{
	ival_t kn = kn_ival(atomic_load_explicit(&s->known, RQ_RX));
	if (p.hi < kn.lo || p.lo > kn.hi)
		return;
	ival_t nk = {SL_MIN(kn.lo, p.lo), SL_MAX(kn.hi, p.hi)};
	atomic_store_explicit(&s->known, kn_make((uint32_t)nk.lo, (uint32_t)(nk.hi - nk.lo)),
	                      RQ_RX);
}

static uint32_t cover_live(sl_rangeq_t *q, sl_rangeq_slot_t *s, uint64_t d, ival_t p)
{
	ival_t live = {d_start(d), (uint64_t)d_start(d) + d_len(d)};
	ival_t c = {SL_MAX(p.lo, live.lo), SL_MIN(p.hi, live.hi)};
	known_merge(s, p);
	if (iv_empty(c) || (c.lo > live.lo && c.hi < live.hi))
		return 0; /* untouched, or strictly inside: stays whole */
	ival_t rest = c.lo == live.lo ? (ival_t){c.hi, live.hi} : (ival_t){live.lo, c.lo};
	uint16_t tag = (uint16_t)(d_tag(d) + 1);
	uint64_t nd = iv_empty(rest) ? d_make(d_start(d), 0, d_dir(d), d_fin(d), SL_RQ_COVERED, tag)
	                             : d_make((uint32_t)rest.lo, (uint32_t)(rest.hi - rest.lo),
	                                      d_dir(d), d_fin(d), SL_RQ_LIVE, tag);
	if (SL_UNLIKELY(!set_desc(s, d, nd)))
		return 0;
	drop_holds(q, s, d, NULL, 0, 0);
	uint32_t n = (uint32_t)(c.hi - c.lo);
	atomic_fetch_add_explicit(&q->covered, n, RQ_RX);
	SL_PROBE_RANGE_COVERED(c.lo, n);
	if (iv_empty(rest))
		hint_trim(q, d_dir(d));
	else
		epoch_bump(q); /* the rest is re-queued */
	return n;
}

static uint32_t cover_piece(sl_rangeq_t *q, ival_t p)
{
	uint64_t k = p.lo / q->range_len;
	sl_rangeq_slot_t *s = slot_of(q, k);
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	uint32_t st = d_state(d);
	if (st != SL_RQ_FREE && bucket_of_desc(q, d) == k) {
		if (st == SL_RQ_LIVE)
			return cover_live(q, s, d, p);
		known_merge(s, p);
		return 0;
	}
	if (st == SL_RQ_LIVE)
		return 0; /* slot busy with another bucket: nothing of ours here */
	/* remember the cover so a later ensure of it is a no-op */
	atomic_store_explicit(&s->known, kn_make((uint32_t)p.lo, (uint32_t)(p.hi - p.lo)), RQ_RX);
	set_desc(
	    s, d,
	    d_make((uint32_t)p.lo, 0, SL_RANGE_FWD, 0, SL_RQ_COVERED, (uint16_t)(d_tag(d) + 1)));
	return 0;
}

uint32_t sl_rangeq_mark_covered(sl_rangeq_t *q, uint32_t start, uint32_t len)
{
	uint64_t end = SL_MIN((uint64_t)start + len, (uint64_t)UINT32_MAX + 1);
	uint32_t n = 0;
	for (uint64_t lo = start; lo < end;) {
		uint64_t bend = (lo / q->range_len + 1) * q->range_len;
		ival_t p = {lo, SL_MIN(end, bend)};
		n += cover_piece(q, p);
		lo = p.hi;
	}
	return n;
}

/* ---- rule 5: reset_above ------------------------------------------------- */

/* reset_slot cuts slot s to heights <= h; returns holds appended to out. */
static uint32_t reset_slot(sl_rangeq_t *q, sl_rangeq_slot_t *s, uint64_t h1, sl_range_hold_t *out,
                           uint32_t cap, uint32_t n)
{
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	uint32_t st = d_state(d);
	if (st == SL_RQ_FREE || (st == SL_RQ_LIVE && d_dir(d) != SL_RANGE_FWD))
		return n;
	ival_t kn = kn_ival(atomic_load_explicit(&s->known, RQ_RX));
	uint16_t tag = (uint16_t)(d_tag(d) + 1);
	uint64_t nd = d;
	uint64_t cut = 0;
	if (st == SL_RQ_LIVE) {
		ival_t live = {d_start(d), (uint64_t)d_start(d) + d_len(d)};
		if (live.hi <= h1)
			goto known_only;
		cut = live.hi - SL_MAX(live.lo, h1);
		if (live.lo < h1)
			nd = d_make((uint32_t)live.lo, (uint32_t)(h1 - live.lo), d_dir(d), d_fin(d),
			            SL_RQ_LIVE, tag);
		else if (kn.lo < h1) /* covered heights below h stay remembered */
			nd = d_make((uint32_t)kn.lo, 0, d_dir(d), d_fin(d), SL_RQ_COVERED, tag);
		else
			nd = d_make(0, 0, 0, 0, SL_RQ_FREE, tag);
	} else if (kn.lo >= h1) {
		nd = d_make(0, 0, 0, 0, SL_RQ_FREE, tag);
	}
	if (nd != d) {
		if (SL_UNLIKELY(!set_desc(s, d, nd)))
			return n;
		n = drop_holds(q, s, d, out, cap, n);
		atomic_fetch_add_explicit(&q->dropped, cut, RQ_RX);
	}
known_only:
	if (d_state(nd) == SL_RQ_FREE)
		atomic_store_explicit(&s->known, 0, RQ_RX);
	else if (kn.hi > h1)
		atomic_store_explicit(&s->known, kn_make((uint32_t)kn.lo, (uint32_t)(h1 - kn.lo)),
		                      RQ_RX);
	return n;
}

uint32_t sl_rangeq_reset_above(sl_rangeq_t *q, uint32_t h, sl_range_hold_t *out, uint32_t cap)
{
	uint64_t h1 = (uint64_t)h + 1;
	uint32_t n = 0;
	for (uint32_t i = 0; i < q->window; i++)
		n = reset_slot(q, &q->slot[i], h1, out, cap, n);
	hint_trim(q, SL_RANGE_FWD);
	epoch_bump(q);
	return n;
}

/* ---- rule 6: forget_peer, marks ------------------------------------------ */

uint32_t sl_rangeq_forget_peer(sl_rangeq_t *q, uint32_t sess, uint32_t gen)
{
	/* A plain load first, the CAS only on a match: a locked CAS on every
	   entry of the window made each session end cost what a whole table
	   scan of atomic writes costs (the hot spot of a HELLO flood, whose
	   sessions end by the thousand).  No entry becomes w meanwhile: only a
	   take by (sess, gen) writes it, and none runs (see the header). */
	uint64_t w = who(sess, gen);
	uint32_t n = 0;
	for (uint32_t i = 0; i < q->window; i++) {
		sl_rangeq_slot_t *s = &q->slot[i];
		for (uint32_t h = 0; h < q->fanout; h++) {
			uint64_t e = w;
			if (atomic_load_explicit(&s->hold[h], memory_order_relaxed) == w)
				n += atomic_compare_exchange_strong_explicit(&s->hold[h], &e, 0,
				                                             RQ_SC, RQ_SC);
		}
		for (uint32_t j = 0; j < SL_RANGEQ_MARKS; j++)
			if (atomic_load_explicit(&s->mark[j], memory_order_relaxed) == w)
				mark_drop(s, (int)j, w);
	}
	if (n)
		epoch_bump(q);
	return n;
}

uint32_t sl_rangeq_expire_marks(sl_rangeq_t *q)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < q->window; i++)
		for (uint32_t j = 0; j < SL_RANGEQ_MARKS; j++)
			n += atomic_exchange_explicit(&q->slot[i].mark[j], 0, RQ_SC) != 0;
	if (n)
		epoch_bump(q);
	return n;
}

/* ---- stats, check, views ------------------------------------------------- */

bool sl_rangeq_holds(const sl_rangeq_t *q, uint32_t sess, uint32_t gen, const sl_range_t *r)
{
	if (SL_UNLIKELY(r == NULL || r->slot >= q->window))
		return false;
	sl_rangeq_slot_t *s = &((sl_rangeq_t *)q)->slot[r->slot];
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	if (d_state(d) != SL_RQ_LIVE || d_tag(d) != r->tag)
		return false;
	uint64_t w = who(sess, gen);
	for (uint32_t i = 0; i < q->fanout; i++)
		if (atomic_load_explicit(&s->hold[i], RQ_SC) == w)
			return true;
	return false;
}

static void stats_slot(const sl_rangeq_t *q, sl_rangeq_slot_t *s, sl_rangeq_stats_t *st)
{
	uint64_t d = atomic_load_explicit(&s->desc, RQ_RX);
	uint32_t holds = 0;
	for (uint32_t i = 0; i < q->fanout; i++)
		holds += atomic_load_explicit(&s->hold[i], RQ_RX) != 0;
	for (uint32_t j = 0; j < SL_RANGEQ_MARKS; j++)
		st->marks += atomic_load_explicit(&s->mark[j], RQ_RX) != 0;
	st->holds += holds;
	if (d_state(d) == SL_RQ_COVERED)
		st->covered++;
	if (d_state(d) != SL_RQ_LIVE)
		return;
	st->live_heights += d_len(d);
	if (holds)
		st->held++;
	else
		st->queued++;
}

void sl_rangeq_stats(const sl_rangeq_t *q, sl_rangeq_stats_t *out)
{
	sl_rangeq_t *m = (sl_rangeq_t *)q;
	*out = (sl_rangeq_stats_t){
	    .window = q->window, .range_len = q->range_len, .fanout = q->fanout};
	for (uint32_t i = 0; i < q->window; i++)
		stats_slot(q, &m->slot[i], out);
	out->ensured = atomic_load_explicit(&m->ensured, RQ_RX);
	out->covered_total = atomic_load_explicit(&m->covered, RQ_RX);
	out->dropped = atomic_load_explicit(&m->dropped, RQ_RX);
	out->epoch = sl_rangeq_epoch(q);
}

static int check_slot(const sl_rangeq_t *q, uint32_t i)
{
	sl_rangeq_slot_t *s = &((sl_rangeq_t *)q)->slot[i];
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	uint32_t st = d_state(d);
	if (st == SL_RQ_LIVE) {
		uint64_t k = d_start(d) / q->range_len;
		uint64_t end = (uint64_t)d_start(d) + d_len(d);
		ival_t kn = kn_ival(atomic_load_explicit(&s->known, RQ_RX));
		if (d_len(d) == 0 || (k & q->mask) != i || end > (k + 1) * q->range_len ||
		    d_start(d) < kn.lo || end > kn.hi)
			return -SL_RANGEQ_BAD_SLOT;
	}
	if (st == SL_RQ_COVERED && ((d_start(d) / q->range_len) & q->mask) != i)
		return -SL_RANGEQ_BAD_SLOT;
	for (uint32_t h = 0; h < SL_RANGEQ_MAX_FANOUT; h++) {
		uint64_t w = atomic_load_explicit(&s->hold[h], RQ_SC);
		if (w && (st != SL_RQ_LIVE || h >= q->fanout))
			return -SL_RANGEQ_BAD_HOLD;
		for (uint32_t g = 0; w && g < h; g++)
			if ((atomic_load_explicit(&s->hold[g], RQ_SC) >> 32) == (w >> 32))
				return -SL_RANGEQ_BAD_DUP;
	}
	return 0;
}

int sl_rangeq_check(const sl_rangeq_t *q, sl_rangeq_stats_t *out)
{
	sl_rangeq_stats_t st;
	if (SL_UNLIKELY(!sl_rangeq_join((void *)q)))
		return -SL_RANGEQ_BAD_HEADER;
	sl_rangeq_stats(q, &st);
	if (out)
		*out = st;
	for (uint32_t i = 0; i < q->window; i++) {
		int rc = check_slot(q, i);
		if (SL_UNLIKELY(rc))
			return rc;
	}
	if (SL_UNLIKELY(st.ensured != st.live_heights + st.covered_total + st.dropped))
		return -SL_RANGEQ_BAD_CONSERVATION;
	return 0;
}

int sl_rangeq_range_at(const sl_rangeq_t *q, uint32_t slot, sl_range_info_t *out)
{
	if (slot >= q->window)
		return 0;
	sl_rangeq_slot_t *s = &((sl_rangeq_t *)q)->slot[slot];
	uint64_t d = atomic_load_explicit(&s->desc, RQ_SC);
	if (d_state(d) != SL_RQ_LIVE)
		return 0;
	*out = (sl_range_info_t){
	    .range = {d_start(d), d_len(d), (uint8_t)d_dir(d), (uint8_t)d_fin(d), d_tag(d), slot}};
	for (uint32_t i = 0; i < q->fanout; i++) {
		uint64_t w = atomic_load_explicit(&s->hold[i], RQ_SC);
		if (!w)
			continue;
		out->sess[out->n_holds] = (uint32_t)(w >> 32);
		out->gen[out->n_holds++] = (uint32_t)w;
	}
	return 1;
}

const char *sl_rangeq_res_str(sl_rangeq_res_t res)
{
	static const char *const names[] = {
#define SL_RANGEQ_RES_NAME(e, s) s,
	    SL_RANGEQ_RES_LIST(SL_RANGEQ_RES_NAME)
#undef SL_RANGEQ_RES_NAME
	};
	return (unsigned)res < SL_ARRAY_LEN(names) ? names[res] : "?";
}

const char *sl_rangeq_why_str(sl_range_why_t why)
{
	static const char *const names[] = {"none",
#define SL_RANGE_WHY_NAME(e, s) s,
	                                    SL_RANGE_WHY_LIST(SL_RANGE_WHY_NAME)
#undef SL_RANGE_WHY_NAME
	};
	return (unsigned)why < SL_ARRAY_LEN(names) ? names[why] : "?";
}

const char *sl_rangeq_bad_str(int bad)
{
	static const char *const names[] = {"none", "header", "slot",
	                                    "hold", "dup",    "conservation"};
	unsigned b = (unsigned)(bad < 0 ? -bad : bad);
	return b < SL_ARRAY_LEN(names) ? names[b] : "?";
}
