/* sl_reactor.c — see sl_reactor.h. */
#include "sl_reactor.h"

#include <stdlib.h>
#include <string.h>

#include "sl_log.h"
#include "sl_prefault.h"
#include "sl_sha256d.h"
#include "sl_thp.h"
#include "sl_wire.h"

#define HS        80u
#define DEAD_RING 256u /* (session, gen) pairs remembered as down */

typedef struct {
	uint32_t sess, gen;
	uint32_t tip;
	uint8_t hash[32];
	uint8_t work[32];
	uint32_t fork_at; /* height a FORK was reported at, UINT32_MAX none */
	bool used;
} peer_t;

typedef struct {
	uint32_t sess, gen;
	sl_range_t r;
	uint64_t deadline;
	uint32_t scan; /* heights [r.start, scan) are buffered or committed */
	bool used;
	bool delivered; /* every height buffered or committed: timer off */
} assign_t;

typedef struct {
	uint32_t sess, gen, batch;
	bool present;
} meta_t;

struct sl_reactor {
	sl_rangeq_t *q;
	sl_reactor_chain_t ch;
	uint32_t range_len, ahead, cap; /* cap = ahead * range_len heights */
	uint32_t slots;                 /* ring slots: the power of two >= cap */
	uint64_t timeout_ns, sweep_ns;
	uint64_t next_check; /* CONFIG_SL_INVARIANTS: next conservation check */

	uint32_t tip;          /* committed */
	uint32_t covered_upto; /* highest height marked covered by us */
	uint8_t work[32];      /* our chainwork */
	uint8_t tip_hash[32];  /* our tip's hash (wire order) */
	uint32_t target;

	uint8_t *hdrs;    /* slots * 80, height h at slot(r, h) */
	uint8_t *hashes;  /* slots * 32, slot(r, h): each buffered header's hash */
	meta_t *meta;     /* slots */
	sl_prefault_t pf; /* the three above, populated off ctrl's thread at new */
	uint32_t buffered;
	uint32_t batch_seq;
	uint32_t run_to; /* heights (tip, run_to) are buffered: the commit's run */

	peer_t *peers;
	uint32_t max_peers;
	assign_t *as;
	uint32_t max_assign, n_assign;
	uint32_t as_hi; /* as[as_hi..] are all free: the loops stop there */
	uint64_t dead[DEAD_RING];
	uint32_t dead_next;

	sl_reactor_out_t *out;
	uint32_t out_cap, out_head, out_n;

	uint64_t next_sweep;
	uint64_t rate_t0, rate_c0;
	double rate;
	sl_reactor_status_t st; /* counters */
};

/* slot: height h's place in the ring; heights (tip, tip + cap] never
   share one (cap <= slots), and a mask is a tenth of a 64-bit division on
   the per-header path. */
static inline uint32_t slot(const sl_reactor_t *r, uint64_t h)
{
	return (uint32_t)h & (r->slots - 1);
}

static uint64_t who(uint32_t sess, uint32_t gen)
{
	return (uint64_t)sess << 32 | gen;
}

/* ---- outputs --------------------------------------------------------------- */

static bool out_room(const sl_reactor_t *r)
{
	return r->out_n < r->out_cap;
}

static void out_push(sl_reactor_t *r, const sl_reactor_out_t *o)
{
	if (SL_UNLIKELY(!out_room(r))) {
		r->st.out_full++;
		return;
	}
	r->out[(r->out_head + r->out_n++) % r->out_cap] = *o;
}

static void out_drop_exp(sl_reactor_t *r, uint32_t sess, uint32_t gen, uint32_t start,
                         uint32_t count)
{
	sl_reactor_out_t o = {.kind = SL_REACTOR_OUT_DROP_EXPECTATION, .sess = sess, .gen = gen};
	o.drop = (sl_cmdq_drop_exp_t){.range_gen = gen, .start = start, .count = count};
	out_push(r, &o);
}

int sl_reactor_poll_out(sl_reactor_t *r, sl_reactor_out_t *out)
{
	if (r->out_n == 0)
		return 0;
	*out = r->out[r->out_head];
	r->out_head = (r->out_head + 1) % r->out_cap;
	r->out_n--;
	return 1;
}

/* ---- peers ----------------------------------------------------------------- */

static bool is_dead(const sl_reactor_t *r, uint32_t sess, uint32_t gen)
{
	uint64_t w = who(sess, gen);
	for (uint32_t i = 0; i < DEAD_RING; i++)
		if (r->dead[i] == w)
			return true;
	return false;
}

static peer_t *peer_find(sl_reactor_t *r, uint32_t sess, uint32_t gen, bool add)
{
	peer_t *free_p = NULL;
	for (uint32_t i = 0; i < r->max_peers; i++) {
		peer_t *p = &r->peers[i];
		if (p->used && p->sess == sess && p->gen == gen)
			return p;
		if (!p->used && free_p == NULL)
			free_p = p;
	}
	if (!add || free_p == NULL)
		return NULL;
	*free_p = (peer_t){.sess = sess, .gen = gen, .fork_at = UINT32_MAX, .used = true};
	return free_p;
}

bool sl_reactor_peer_tip(const sl_reactor_t *r, uint32_t sess, uint32_t gen, uint32_t *tip)
{
	for (uint32_t i = 0; i < r->max_peers; i++)
		if (r->peers[i].used && r->peers[i].sess == sess && r->peers[i].gen == gen) {
			*tip = r->peers[i].tip;
			return true;
		}
	return false;
}

static uint32_t best_peer_tip(const sl_reactor_t *r, uint32_t *n_peers)
{
	uint32_t best = 0, n = 0;
	for (uint32_t i = 0; i < r->max_peers; i++)
		if (r->peers[i].used) {
			best = SL_MAX(best, r->peers[i].tip);
			n++;
		}
	if (n_peers)
		*n_peers = n;
	return best;
}

/* ---- work -------------------------------------------------------------------- */

/* ensure_forward queues [tip + 1, min(best peer tip, target, tip + cap)],
   the buffer's bound taken down to a whole range: a last bucket queued in
   part would be taken in part and its rest fetched later by a second, short
   request (the tip moves on every commit, so its end was never aligned). */
static void ensure_forward(sl_reactor_t *r)
{
	uint64_t end = (uint64_t)best_peer_tip(r, NULL) + 1;
	if (r->target != SL_REACTOR_NO_TARGET)
		end = SL_MIN(end, (uint64_t)r->target + 1);
	uint64_t room = (uint64_t)r->tip + 1 + r->cap;
	end = SL_MIN(end, room - room % r->range_len);
	uint64_t start = (uint64_t)r->tip + 1;
	if (end <= start)
		return;
	sl_rangeq_res_t res =
	    sl_rangeq_ensure(r->q, (uint32_t)start, (uint32_t)(end - start), SL_RANGE_FWD, false);
	if (SL_UNLIKELY(res == SL_RANGEQ_ERR_FULL || res == SL_RANGEQ_ERR_ARGS))
		SL_WARN("reactor: ensure [%u, %u): %s", (uint32_t)start, (uint32_t)end,
		        sl_rangeq_res_str(res));
}

/* have: height h is committed or buffered. */
static bool have(const sl_reactor_t *r, uint32_t h)
{
	return h <= r->tip || (h - r->tip <= r->cap && r->meta[slot(r, h)].present);
}

static void assign_free(sl_reactor_t *r, assign_t *a)
{
	a->used = false;
	r->n_assign--;
	while (r->as_hi > 0 && !r->as[r->as_hi - 1].used)
		r->as_hi--;
}

/* buf_dropped: buffered heights went without a commit (a refused batch, a
   reorg): the cursors that assumed them present start over. */
static void buf_dropped(sl_reactor_t *r)
{
	for (uint32_t i = 0; i < r->as_hi; i++)
		r->as[i].scan = r->as[i].r.start;
	r->run_to = 0;
}

static uint64_t assign_end(const assign_t *a)
{
	return (uint64_t)a->r.start + a->r.len;
}

/* assign_refresh disarms a delivered assignment and frees a committed one. */
static void assign_refresh(sl_reactor_t *r, assign_t *a)
{
	if (assign_end(a) <= (uint64_t)r->tip + 1) {
		assign_free(r, a);
		return;
	}
	if (a->delivered)
		return;
	for (uint64_t h = SL_MAX((uint64_t)a->scan, (uint64_t)r->tip + 1); h < assign_end(a); h++)
		if (!have(r, (uint32_t)h)) {
			a->scan = (uint32_t)h; /* the next refresh starts here */
			return;
		}
	a->delivered = true;
}

/* cover_apply marks committed heights covered, up to the start of a range
   still assigned that the tip cuts (its cover waits: see the header).  A
   delivered range waits too: its rest is buffered, and a cover of its low
   end alone would re-queue that rest to be fetched a second time. */
static void cover_apply(sl_reactor_t *r)
{
	uint64_t to = r->tip;
	for (uint32_t i = 0; i < r->as_hi; i++) {
		const assign_t *a = &r->as[i];
		if (a->used && a->r.start <= r->tip && assign_end(a) > r->tip + 1ull)
			to = SL_MIN(to, a->r.start > 0 ? a->r.start - 1ull : 0);
	}
	if (to <= r->covered_upto)
		return;
	sl_rangeq_mark_covered(r->q, r->covered_upto + 1, (uint32_t)(to - r->covered_upto));
	r->covered_upto = (uint32_t)to;
}

/* ---- commit ------------------------------------------------------------------ */

static void buf_clear(sl_reactor_t *r, uint32_t h)
{
	meta_t *m = &r->meta[slot(r, h)];
	if (m->present) {
		m->present = false;
		r->buffered--;
	}
}

/* refuse drops the batch holding height h, re-queues what its sender held
   and reports the sender. */
static void refuse(sl_reactor_t *r, uint32_t h, const sl_chainstore_fail_t *f)
{
	meta_t bad = r->meta[slot(r, h)];
	for (uint32_t i = 0; i < r->slots; i++)
		if (r->meta[i].present && r->meta[i].batch == bad.batch) {
			r->meta[i].present = false;
			r->buffered--;
		}
	buf_dropped(r);
	for (uint32_t i = 0; i < r->as_hi; i++) {
		assign_t *a = &r->as[i];
		if (a->used && a->sess == bad.sess && a->gen == bad.gen && a->r.start <= h &&
		    assign_end(a) > h) {
			sl_rangeq_return(r->q, a->sess, a->gen, &a->r, SL_RANGE_WHY_INVALID);
			assign_free(r, a);
		}
	}
	for (uint32_t i = 0; i < r->as_hi; i++) /* others wait for the refetch */
		if (r->as[i].used && r->as[i].r.start <= h && assign_end(&r->as[i]) > h)
			r->as[i].delivered = false;
	r->st.invalid++;
	peer_t *p = peer_find(r, bad.sess, bad.gen, false);
	bool link = f->store == SL_STORE_ERR_LINKAGE ||
	            (f->store == SL_STORE_ERR_INVALID && f->chain == SL_CHAIN_ERR_LINK);
	sl_reactor_out_t o = {.sess = bad.sess, .gen = bad.gen, .height = h};
	if (link && p != NULL && sl_chain_work_cmp(p->work, r->work) > 0) {
		o.kind = SL_REACTOR_OUT_FORK;
		o.height = r->tip;
		o.peer_tip = p->tip;
		p->fork_at = p->tip;
		r->st.forks++;
	} else {
		o.kind = SL_REACTOR_OUT_MISBEHAVIOR;
		o.reason = f->store == SL_STORE_ERR_INVALID ? f->chain : 100 + (int)f->store;
	}
	SL_INFO("reactor: height %u from session %u gen %u refused (%s)", h, bad.sess, bad.gen,
	        sl_chainstore_reason(f));
	out_push(r, &o);
}

static void tip_reload(sl_reactor_t *r)
{
	sl_chainstore_tip_t t;
	r->ch.tip(r->ch.ctx, &t);
	r->tip = t.height;
	memcpy(r->work, t.chainwork, 32);
	memcpy(r->tip_hash, t.hash, 32);
}

/* false_work: a peer whose STATUS tip we now hold (same height and hash)
   claimed more chainwork than its headers carry: the lie is recorded
   (record-only BAD_DATA) and its claim cut to the work we computed. */
static void false_work(sl_reactor_t *r)
{
	for (uint32_t i = 0; i < r->max_peers; i++) {
		peer_t *p = &r->peers[i];
		if (!p->used || p->tip != r->tip || memcmp(p->hash, r->tip_hash, 32) != 0 ||
		    sl_chain_work_cmp(p->work, r->work) <= 0)
			continue;
		memcpy(p->work, r->work, 32);
		r->st.false_works++;
		sl_reactor_out_t o = {.kind = SL_REACTOR_OUT_MISBEHAVIOR,
		                      .sess = p->sess,
		                      .gen = p->gen,
		                      .height = r->tip,
		                      .peer_tip = p->tip,
		                      .reason = SL_REACTOR_FALSE_WORK};
		out_push(r, &o);
	}
}

/* commit_run appends the contiguous buffered run from tip + 1 (at most up
   to the ring's wrap) as one group.  Returns headers committed; *stop when
   the chain refused or failed. */
static uint32_t commit_run(sl_reactor_t *r, bool *stop)
{
	uint32_t start = r->tip + 1, i0 = slot(r, start), n = 0;
	while (i0 + n < r->slots && n < r->cap && r->meta[i0 + n].present)
		n++;
	if (n == 0) {
		*stop = true;
		return 0;
	}
	uint32_t done = 0;
	sl_chainstore_fail_t f = {0};
	sl_chainstore_err_t e =
	    r->ch.append(r->ch.ctx, start, r->hdrs + (size_t)i0 * HS,
	                 r->hashes + (size_t)i0 * SL_REACTOR_HASH_LEN, n, &done, &f);
	for (uint32_t k = 0; k < done; k++)
		buf_clear(r, start + k);
	tip_reload(r);
	r->st.committed += done;
	if (e == SL_CHAINSTORE_ERR_INVALID && f.height > r->tip && have(r, f.height))
		refuse(r, f.height, &f);
	*stop = e != SL_CHAINSTORE_OK;
	if (SL_UNLIKELY(e == SL_CHAINSTORE_ERR_STORE || e == SL_CHAINSTORE_ERR_ARG))
		SL_WARN("reactor: commit at %u: %s (retry on tick)", start,
		        sl_chainstore_err_str(e));
	return done;
}

/* commit commits every contiguous run, then credits it in the table. */
static void commit(sl_reactor_t *r)
{
	bool stop = false;
	uint32_t total = 0;
	while (!stop)
		total += commit_run(r, &stop);
	if (total == 0)
		return;
	for (uint32_t i = 0; i < r->as_hi; i++)
		if (r->as[i].used)
			assign_refresh(r, &r->as[i]);
	cover_apply(r);
	ensure_forward(r);
	false_work(r);
}

/* ---- events ------------------------------------------------------------------ */

/* fork_out: a FORK output for p (once per advertised tip). */
static void fork_out(sl_reactor_t *r, peer_t *p, uint32_t height)
{
	p->fork_at = p->tip;
	r->st.forks++;
	sl_reactor_out_t o = {.kind = SL_REACTOR_OUT_FORK,
	                      .sess = p->sess,
	                      .gen = p->gen,
	                      .height = height,
	                      .peer_tip = p->tip};
	out_push(r, &o);
}

static void check_fork(sl_reactor_t *r, peer_t *p)
{
	uint8_t ours[32];
	if (sl_chain_work_cmp(p->work, r->work) <= 0 || p->tip > r->tip || p->fork_at == p->tip)
		return;
	if (r->ch.get(r->ch.ctx, p->tip, NULL, ours) != SL_CHAINSTORE_OK ||
	    memcmp(ours, p->hash, 32) == 0)
		return;
	fork_out(r, p, p->tip);
}

void sl_reactor_on_status(sl_reactor_t *r, uint32_t sess, uint32_t gen,
                          const sl_reactor_peer_status_t *st)
{
	if (SL_UNLIKELY(is_dead(r, sess, gen))) {
		r->st.ignored++;
		return;
	}
	peer_t *p = peer_find(r, sess, gen, true);
	if (SL_UNLIKELY(p == NULL)) {
		SL_WARN("reactor: peer table full, STATUS of session %u ignored", sess);
		return;
	}
	p->tip = st->best_height;
	memcpy(p->hash, st->best_hash, 32);
	memcpy(p->work, st->chainwork, 32);
	false_work(r); /* at our tip already: its work claim is checked now */
	check_fork(r, p);
	ensure_forward(r);
}

int sl_reactor_on_work_assigned(sl_reactor_t *r, uint32_t sess, uint32_t gen,
                                const sl_range_t *range, uint64_t now_ns)
{
	if (SL_UNLIKELY(is_dead(r, sess, gen))) {
		r->st.ignored++;
		return -1;
	}
	for (uint32_t i = 0; i < r->max_assign; i++) {
		assign_t *a = &r->as[i];
		if (a->used)
			continue;
		*a = (assign_t){.sess = sess,
		                .gen = gen,
		                .r = *range,
		                .deadline = now_ns + r->timeout_ns,
		                .scan = range->start,
		                .used = true};
		r->n_assign++;
		r->as_hi = SL_MAX(r->as_hi, i + 1);
		assign_refresh(r, a);
		return 0;
	}
	SL_WARN("reactor: assignment table full: session %u's range %u+%u refused", sess,
	        range->start, range->len);
	sl_rangeq_return(r->q, sess, gen, range, SL_RANGE_WHY_CANCEL);
	out_drop_exp(r, sess, gen, range->start, range->len);
	return -1;
}

/* false_tip: p answered BEYOND_TIP at start, at or below the tip its STATUS
   claimed: the claim is cut to what it can serve (start - 1; no more work
   is made for it) and the lie is recorded (record-only BAD_DATA). */
static void false_tip(sl_reactor_t *r, peer_t *p, uint32_t start)
{
	sl_reactor_out_t o = {.kind = SL_REACTOR_OUT_MISBEHAVIOR,
	                      .sess = p->sess,
	                      .gen = p->gen,
	                      .height = start,
	                      .peer_tip = p->tip,
	                      .reason = SL_REACTOR_FALSE_TIP};
	p->tip = start > 0 ? start - 1 : 0;
	r->st.false_tips++;
	out_push(r, &o);
}

void sl_reactor_on_work_returned(sl_reactor_t *r, uint32_t sess, uint32_t gen,
                                 const sl_range_t *range, uint16_t nf_reason)
{
	bool beyond = nf_reason == SL_WIRE_NF_BEYOND_TIP;
	peer_t *p = nf_reason == SL_WIRE_NF_UNKNOWN_ANCHOR || beyond
	                ? peer_find(r, sess, gen, false)
	                : NULL;
	if (beyond && p != NULL && range->start <= p->tip)
		false_tip(r, p, range->start);
	else if (p != NULL && !beyond && p->fork_at != p->tip &&
	         sl_chain_work_cmp(p->work, r->work) > 0)
		fork_out(r, p, r->tip);
	for (uint32_t i = 0; i < r->as_hi; i++) {
		assign_t *a = &r->as[i];
		if (a->used && a->sess == sess && a->gen == gen && a->r.slot == range->slot &&
		    a->r.tag == range->tag && a->r.start == range->start) {
			assign_free(r, a);
			break;
		}
	}
	cover_apply(r);
}

void sl_reactor_on_headers(sl_reactor_t *r, uint32_t sess, uint32_t gen, uint32_t start, uint32_t n,
                           const uint8_t *hdrs, const uint8_t *hashes, uint64_t now_ns)
{
	(void)now_ns;
	if (SL_UNLIKELY(is_dead(r, sess, gen))) {
		r->st.ignored++;
		return;
	}
	uint32_t batch = ++r->batch_seq;
	for (uint32_t k = 0; k < n; k++) {
		uint64_t h = (uint64_t)start + k;
		if (h <= r->tip ||
		    (h <= UINT32_MAX && r->meta[slot(r, h)].present && h - r->tip <= r->cap)) {
			r->st.dup++;
			continue;
		}
		if (h - r->tip > r->cap) {
			r->st.outside++;
			continue;
		}
		meta_t *m = &r->meta[slot(r, h)];
		*m = (meta_t){.sess = sess, .gen = gen, .batch = batch, .present = true};
		uint8_t *slot_hash = r->hashes + (size_t)slot(r, h) * SL_REACTOR_HASH_LEN;
		memcpy(r->hdrs + (size_t)slot(r, h) * HS, hdrs + (size_t)k * HS, HS);
		if (hashes != NULL)
			memcpy(slot_hash, hashes + (size_t)k * SL_REACTOR_HASH_LEN,
			       SL_REACTOR_HASH_LEN);
		else
			sl_sha256d_hdr(hdrs + (size_t)k * HS, slot_hash);
		r->buffered++;
	}
	for (uint32_t i = 0; i < r->as_hi; i++)
		if (r->as[i].used && r->as[i].sess == sess && r->as[i].gen == gen)
			assign_refresh(r, &r->as[i]);
	/* the run buffered from tip + 1: a cursor, so each height is looked at
	   once per pass rather than once per batch */
	uint64_t to = SL_MAX((uint64_t)r->run_to, (uint64_t)r->tip + 1);
	while (to - r->tip <= r->range_len && to <= UINT32_MAX && have(r, (uint32_t)to))
		to++;
	r->run_to = (uint32_t)SL_MIN(to, (uint64_t)UINT32_MAX);
	if (to - r->tip > r->range_len)
		commit(r); /* a deferred cover waits for the tip, never for delivery */
}

void sl_reactor_on_session_down(sl_reactor_t *r, uint32_t sess, uint32_t gen)
{
	sl_rangeq_forget_peer(r->q, sess, gen);
	peer_t *p = peer_find(r, sess, gen, false);
	if (p != NULL)
		p->used = false;
	for (uint32_t i = 0; i < r->as_hi; i++)
		if (r->as[i].used && r->as[i].sess == sess && r->as[i].gen == gen)
			assign_free(r, &r->as[i]);
	if (!is_dead(r, sess, gen)) {
		r->dead[r->dead_next] = who(sess, gen);
		r->dead_next = (r->dead_next + 1) % DEAD_RING;
	}
	cover_apply(r);
}

/* ---- tick -------------------------------------------------------------------- */

static void expire(sl_reactor_t *r, uint64_t now)
{
	for (uint32_t i = 0; i < r->as_hi; i++) {
		assign_t *a = &r->as[i];
		if (!a->used || a->delivered || now < a->deadline)
			continue;
		if (SL_UNLIKELY(!out_room(r))) {
			r->st.out_full++; /* never drop a DROP_EXPECTATION: next tick */
			return;
		}
		sl_rangeq_return(r->q, a->sess, a->gen, &a->r, SL_RANGE_WHY_TIMEOUT);
		out_drop_exp(r, a->sess, a->gen, a->r.start, a->r.len);
		r->st.timeouts++;
		assign_free(r, a);
	}
}

static void rate_update(sl_reactor_t *r, uint64_t now)
{
	if (r->rate_t0 == 0) {
		r->rate_t0 = now;
		r->rate_c0 = r->st.committed;
		return;
	}
	uint64_t dt = now - r->rate_t0;
	if (dt < 1000000000ull)
		return;
	r->rate = (double)(r->st.committed - r->rate_c0) * 1e9 / (double)dt;
	r->rate_t0 = now;
	r->rate_c0 = r->st.committed;
}

/* conserve_check runs the range table's invariant check (every ensured
   height queued, held or covered; holds well formed) and reports a break
   once per check. */
static int conserve_check(sl_reactor_t *r)
{
	r->st.inv_checks++;
	int rc = sl_rangeq_check(r->q, NULL);
	if (SL_UNLIKELY(rc != 0)) {
		r->st.inv_broken++;
		SL_ERR("reactor: range table invariant broken: %s", sl_rangeq_bad_str(rc));
	}
	return rc;
}

void sl_reactor_tick(sl_reactor_t *r, uint64_t now_ns)
{
	commit(r);
	expire(r, now_ns);
	cover_apply(r);
	ensure_forward(r);
	rate_update(r, now_ns);
	if (now_ns >= r->next_sweep) {
		r->next_sweep = now_ns + r->sweep_ns;
		sl_reactor_sweep(r, NULL);
	}
	if (SL_INVARIANTS && now_ns >= r->next_check) {
		r->next_check = now_ns + SL_REACTOR_CHECK_NS;
		conserve_check(r);
	}
}

int sl_reactor_sweep(sl_reactor_t *r, sl_reactor_sweep_t *out)
{
	sl_reactor_sweep_t s = {0};
	s.marks = sl_rangeq_expire_marks(r->q);
	uint32_t window = sl_rangeq_window(r->q);
	for (uint32_t i = 0; i < window; i++) {
		sl_range_info_t ri;
		if (!sl_rangeq_range_at(r->q, i, &ri))
			continue;
		for (uint32_t h = 0; h < ri.n_holds; h++)
			if (is_dead(r, ri.sess[h], ri.gen[h])) {
				s.dead_holds++;
				sl_rangeq_forget_peer(r->q, ri.sess[h], ri.gen[h]);
			}
	}
	r->st.stray_holds += s.dead_holds;
	s.check = SL_INVARIANTS ? conserve_check(r) : 0;
	if (out)
		*out = s;
	return s.check;
}

/* ---- reorg, target, views ------------------------------------------------------ */

/* forget_above drops the table's forward work above h (ranges, covered
   memory) and the requests in flight there (DROP_EXPECTATION). */
static void forget_above(sl_reactor_t *r, uint32_t h)
{
	sl_range_hold_t holds[64];
	uint32_t n = sl_rangeq_reset_above(r->q, h, holds, SL_ARRAY_LEN(holds));
	for (uint32_t i = 0; i < SL_MIN(n, (uint32_t)SL_ARRAY_LEN(holds)); i++)
		out_drop_exp(r, holds[i].sess, holds[i].gen, holds[i].range.start,
		             holds[i].range.len);
}

sl_chainstore_err_t sl_reactor_reorg_to(sl_reactor_t *r, uint32_t fork_height)
{
	if (SL_UNLIKELY(fork_height >= r->tip))
		return SL_CHAINSTORE_ERR_ARG;
	forget_above(r, fork_height);
	for (uint32_t i = 0; i < r->as_hi; i++)
		if (r->as[i].used && assign_end(&r->as[i]) > fork_height + 1ull)
			assign_free(r, &r->as[i]);
	for (uint32_t i = 0; i < r->slots; i++)
		r->meta[i].present = false;
	r->buffered = 0;
	buf_dropped(r);
	sl_chainstore_err_t e = r->ch.truncate(r->ch.ctx, fork_height);
	tip_reload(r);
	r->covered_upto = SL_MIN(r->covered_upto, r->tip);
	for (uint32_t i = 0; i < r->max_peers; i++)
		r->peers[i].fork_at = UINT32_MAX;
	if (e == SL_CHAINSTORE_OK)
		r->st.reorgs++;
	else
		SL_ERR("reactor: truncate to %u failed: %s", fork_height, sl_chainstore_err_str(e));
	ensure_forward(r);
	return e;
}

void sl_reactor_chain_moved(sl_reactor_t *r)
{
	uint32_t old = r->tip;
	tip_reload(r);
	if (r->tip > old) {
		uint64_t end = SL_MIN((uint64_t)r->tip, (uint64_t)old + r->cap);
		for (uint64_t h = (uint64_t)old + 1; h <= end; h++)
			buf_clear(r, (uint32_t)h); /* committed by someone else */
	}
	cover_apply(r);
	ensure_forward(r);
}

void sl_reactor_set_target(sl_reactor_t *r, uint32_t to_height)
{
	r->target = to_height;
	ensure_forward(r);
}

/* state: idle without a live peer, syncing below min(best peer tip,
   target), synced at it; *best and *peers as best_peer_tip fills them. */
static sl_reactor_state_t state(const sl_reactor_t *r, uint32_t *best, uint32_t *peers)
{
	*best = best_peer_tip(r, peers);
	uint32_t goal = r->target != SL_REACTOR_NO_TARGET ? SL_MIN(*best, r->target) : *best;
	return *peers == 0     ? SL_REACTOR_IDLE
	       : r->tip < goal ? SL_REACTOR_SYNCING
	                       : SL_REACTOR_SYNCED;
}

bool sl_reactor_busy(const sl_reactor_t *r)
{
	uint32_t best, peers;
	return state(r, &best, &peers) == SL_REACTOR_SYNCING;
}

uint32_t sl_reactor_goal(const sl_reactor_t *r)
{
	uint32_t best, peers;
	return state(r, &best, &peers) == SL_REACTOR_SYNCING
	           ? (r->target != SL_REACTOR_NO_TARGET ? SL_MIN(best, r->target) : best)
	           : r->tip;
}

uint32_t sl_reactor_tip(const sl_reactor_t *r)
{
	return r->tip;
}

void sl_reactor_status(const sl_reactor_t *r, sl_reactor_status_t *out)
{
	sl_rangeq_stats_t qs;
	*out = r->st;
	sl_rangeq_stats(r->q, &qs);
	out->appended = r->tip;
	out->tip = r->ch.durable != NULL ? SL_MIN(r->tip, r->ch.durable(r->ch.ctx)) : r->tip;
	out->target = r->target;
	out->state = state(r, &out->best_peer_height, &out->peers);
	out->queued = qs.queued;
	out->held = qs.held;
	out->covered = qs.covered;
	out->buffered = r->buffered;
	out->assignments = r->n_assign;
	out->committed_per_s = r->rate;
}

uint32_t sl_reactor_ranges(const sl_reactor_t *r, sl_range_info_t *out, uint32_t cap)
{
	uint32_t n = 0, window = sl_rangeq_window(r->q);
	for (uint32_t i = 0; i < window && n < cap; i++) {
		sl_range_info_t ri;
		if (!sl_rangeq_range_at(r->q, i, &ri))
			continue;
		uint32_t j = n++;
		for (; j > 0 && out[j - 1].range.start > ri.range.start; j--)
			out[j] = out[j - 1];
		out[j] = ri;
	}
	return n;
}

const char *sl_reactor_state_str(unsigned s)
{
	static const char *const names[] = {"idle", "syncing", "synced"};
	return s < SL_ARRAY_LEN(names) ? names[s] : "?";
}

/* ---- lifecycle ------------------------------------------------------------------ */

/* credit_stale covers live forward heights at or below the tip (a table
   that outlived a ctrl restart between commit and cover). */
static void credit_stale(sl_reactor_t *r)
{
	uint32_t window = sl_rangeq_window(r->q);
	for (uint32_t i = 0; i < window; i++) {
		sl_range_info_t ri;
		if (!sl_rangeq_range_at(r->q, i, &ri) || ri.range.dir != SL_RANGE_FWD ||
		    ri.range.start > r->tip)
			continue;
		uint64_t end =
		    SL_MIN((uint64_t)ri.range.start + ri.range.len, (uint64_t)r->tip + 1);
		sl_rangeq_mark_covered(r->q, ri.range.start, (uint32_t)(end - ri.range.start));
	}
}

static bool opts_ok(const sl_reactor_opts_t *o)
{
	if (o == NULL || o->q == NULL || o->chain.tip == NULL || o->chain.append == NULL ||
	    o->chain.truncate == NULL || o->chain.get == NULL)
		return false;
	uint32_t ahead = o->max_ahead ? o->max_ahead : SL_REACTOR_MAX_AHEAD_DEFAULT;
	return (uint64_t)ahead + 2 <= sl_rangeq_window(o->q) && ahead <= 4096;
}

/* ring_bytes: the size of a ring array of `each` bytes per slot. */
static size_t ring_bytes(const sl_reactor_t *r, size_t each)
{
	return (size_t)r->slots * each;
}

sl_reactor_t *sl_reactor_new(const sl_reactor_opts_t *o)
{
	if (SL_UNLIKELY(!opts_ok(o))) {
		SL_ERR("reactor: bad options (table, chain calls, or max_ahead + 2 > window)");
		return NULL;
	}
	sl_reactor_t *r = calloc(1, sizeof(*r));
	if (SL_UNLIKELY(r == NULL))
		return NULL;
	r->q = o->q;
	r->ch = o->chain;
	r->range_len = sl_rangeq_range_len(o->q);
	r->ahead = o->max_ahead ? o->max_ahead : SL_REACTOR_MAX_AHEAD_DEFAULT;
	r->cap = r->ahead * r->range_len;
	r->slots = 1;
	while (r->slots < r->cap)
		r->slots <<= 1;
	r->max_peers = o->max_peers ? o->max_peers : SL_REACTOR_MAX_PEERS_DEFAULT;
	r->max_assign = o->max_assign ? o->max_assign : SL_REACTOR_MAX_ASSIGN_DEFAULT;
	r->timeout_ns = o->timeout_ns ? o->timeout_ns : SL_REACTOR_TIMEOUT_DEFAULT;
	/* a mark (a timed-out peer kept off its range) lasts until the next
	   sweep: never longer than one timeout, so a lone peer gets it back */
	r->sweep_ns = o->sweep_ns ? o->sweep_ns : SL_MIN(SL_REACTOR_SWEEP_DEFAULT, r->timeout_ns);
	r->target = SL_REACTOR_NO_TARGET;
	r->out_cap = r->max_assign + 256;
	r->hdrs = sl_thp_alloc(ring_bytes(r, HS)); /* written through: whole huge pages */
	r->hashes = sl_thp_alloc(ring_bytes(r, SL_REACTOR_HASH_LEN));
	r->meta = sl_thp_alloc(ring_bytes(r, sizeof(*r->meta)));
	r->peers = calloc(r->max_peers, sizeof(*r->peers));
	r->as = calloc(r->max_assign, sizeof(*r->as));
	r->out = calloc(r->out_cap, sizeof(*r->out));
	if (SL_UNLIKELY(!r->hdrs || !r->hashes || !r->meta || !r->peers || !r->as || !r->out)) {
		sl_reactor_delete(r);
		return NULL;
	}
	/* the ring's ~8 MB are written from the sync's first batch on, on
	   ctrl's thread: first-touch faults there (a few on huge pages, ~2,000
	   on 4 KiB ones), taken here on a helper thread while the node still
	   connects (sl_prefault.h) */
	void *pp[3] = {r->hdrs, r->hashes, r->meta};
	size_t pl[3] = {ring_bytes(r, HS), ring_bytes(r, SL_REACTOR_HASH_LEN),
	                ring_bytes(r, sizeof(*r->meta))};
	sl_prefault_start(&r->pf, pp, pl, 3);
	tip_reload(r);
	r->covered_upto = r->tip;
	/* a table that outlived a ctrl restart: heights accepted, covered and
	   lost before their group commit must be fetched again (a cover is
	   never undone otherwise); on a fresh table a no-op */
	forget_above(r, r->tip);
	credit_stale(r);
	return r;
}

void sl_reactor_delete(sl_reactor_t *r)
{
	if (r == NULL)
		return;
	sl_prefault_join(&r->pf);
	sl_thp_free(r->hdrs, ring_bytes(r, HS));
	sl_thp_free(r->hashes, ring_bytes(r, SL_REACTOR_HASH_LEN));
	sl_thp_free(r->meta, ring_bytes(r, sizeof(*r->meta)));
	free(r->peers);
	free(r->as);
	free(r->out);
	free(r);
}
