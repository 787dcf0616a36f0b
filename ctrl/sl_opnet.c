/* sl_opnet.c — see sl_opnet.h. */
#include "sl_opnet.h"

#include <stdlib.h>
#include <string.h>

#include "sl_log.h"
#include "sl_session.h"
#include "sl_time.h"

_Static_assert(sizeof(sl_opnet_fetch_t) <= SL_OP_KST_MAX, "fetch state fits kst");
_Static_assert(sizeof(sl_opnet_ping_t) <= SL_OP_KST_MAX, "ping state fits kst");
_Static_assert(SL_OPNET_WAITERS == 65536u, "corr keeps the waiter slot in 16 bits");

#define OPNET_SLOT_MASK  (SL_OPNET_WAITERS - 1u)
#define OPNET_PEER_SLOTS (SL_MAX_LCORES * SL_SESSIONS_PER_LCORE)

static uint32_t opnet_peer_idx(uint32_t sid)
{
	return (sl_sid_lcore(sid) * SL_SESSIONS_PER_LCORE + sl_sid_slot(sid)) % OPNET_PEER_SLOTS;
}

static uint64_t opnet_rand(sl_opnet_t *n)
{
	n->rng ^= n->rng << 13;
	n->rng ^= n->rng >> 7;
	n->rng ^= n->rng << 17;
	return n->rng;
}

/* ---- the waiter table ------------------------------------------------------- */

/* opnet_release ends a's registration (in flight -> idle); the window of
   its peer frees up. */
static void opnet_release(sl_opnet_t *n, const sl_op_t *op, sl_opnet_attempt_t *a)
{
	if (a->state == SL_OPNET_A_FLIGHT) {
		sl_opnet_waiter_t *w = &n->w[a->slot];
		if (w->corr == a->corr) {
			w->corr = 0;
			n->free_slot[n->n_free++] = a->slot;
			if (op->kind == SL_OP_KIND_HEADER_FETCH)
				n->peer_inflight[opnet_peer_idx(a->sid)]--;
		}
	}
	a->state = SL_OPNET_A_IDLE;
}

uint32_t sl_opnet_in_flight(const sl_opnet_t *n)
{
	return SL_OPNET_WAITERS - n->n_free;
}

bool sl_opnet_busy(const sl_opnet_t *n)
{
	return n->n_free < SL_OPNET_WAITERS;
}

/* ---- attempts ------------------------------------------------------------------ */

static void opnet_outcome(sl_opnet_t *n, sl_op_t *op, sl_opnet_out_t out,
                          const sl_peerio_reply_t *r, uint64_t now);

void sl_opnet_send_and_await(sl_opnet_t *n, sl_op_t *op, sl_opnet_attempt_t *a, uint32_t sid,
                             uint64_t attempt_ns)
{
	uint64_t now = sl_op_now(n->ops);
	bool fetch = op->kind == SL_OP_KIND_HEADER_FETCH;
	a->sid = sid;
	if (fetch && n->peer_inflight[opnet_peer_idx(sid)] >= SL_OPNET_PEER_INFLIGHT) {
		n->cnt.window_waits++;
		a->state = SL_OPNET_A_WAIT; /* its turn comes with a free window */
		a->retry_ns = now;
		return;
	}
	if (SL_UNLIKELY(n->n_free == 0)) {
		a->state = SL_OPNET_A_WAIT;
		a->retry_ns = now + SL_OPNET_HICCUP_NS;
		return;
	}
	/* register the waiter first, then send */
	uint32_t slot = n->free_slot[--n->n_free];
	a->slot = slot;
	a->corr = SL_PEERIO_CORR_BITS | ((++n->seq & ((1ull << 46) - 1)) << 16) | slot;
	a->state = SL_OPNET_A_FLIGHT;
	a->sent_ns = now;
	a->deadline_ns = now + attempt_ns;
	n->w[slot] = (sl_opnet_waiter_t){.corr = a->corr, .tx = op->tx, .sid = sid};
	if (fetch)
		n->peer_inflight[opnet_peer_idx(sid)]++;
	op->attempts++;
	n->cnt.attempts++;
	sl_peerio_send_t s =
	    fetch ? n->io.fetch(n->io.ctx, sid, a->corr, sl_opnet_fetch_of(op)->height)
	          : n->io.ping(n->io.ctx, sid, a->corr);
	if (s != SL_PEERIO_SENT) {
		opnet_release(n, op, a);
		opnet_outcome(n, op, SL_OPNET_OUT_DOWN, NULL, now);
	}
}

/* opnet_hiccup: the same peer again after a jittered delay, at most
   SL_OPNET_HICCUPS times; true when a retry is set up. */
static bool opnet_hiccup(sl_opnet_t *n, sl_opnet_attempt_t *a, uint64_t now)
{
	n->cnt.hiccups++;
	if (a->hiccups >= SL_OPNET_HICCUPS)
		return false;
	a->hiccups++;
	uint64_t base = SL_OPNET_HICCUP_NS * a->hiccups;
	a->state = SL_OPNET_A_WAIT;
	a->retry_ns = now + base + opnet_rand(n) % (base + 1);
	return true;
}

/* ---- header.fetch -------------------------------------------------------------- */

static void fetch_next(sl_opnet_t *n, sl_op_t *op, uint64_t now)
{
	sl_opnet_fetch_t *st = sl_opnet_fetch_of(op);
	(void)now;
	if (st->next >= st->n_cand) {
		sl_op_end(n->ops, op, SL_CODE_EXHAUSTED,
		          "no peer served height %u: %u tried (%u not found, %u timed out, %u bad, "
		          "%u down)",
		          st->height, st->tried, st->not_found, st->timeouts, st->bad, st->down);
		return;
	}
	st->tried++;
	st->a.hiccups = 0;
	sl_opnet_send_and_await(n, op, &st->a, st->cand[st->next++], SL_OPNET_FETCH_ATTEMPT_NS);
}

static void fetch_outcome(sl_opnet_t *n, sl_op_t *op, sl_opnet_out_t out,
                          const sl_peerio_reply_t *r, uint64_t now)
{
	sl_opnet_fetch_t *st = sl_opnet_fetch_of(op);
	switch (out) {
	case SL_OPNET_OUT_REPLY:
		memcpy(st->hdr, r->hdr, 80);
		memcpy(st->hash, r->hash, 32);
		n->io.addr(n->io.ctx, r->sid, &st->src_ip, &st->src_port);
		sl_op_end(n->ops, op, SL_CODE_OK, NULL);
		return;
	case SL_OPNET_OUT_HICCUP:
		st->hiccups++;
		if (opnet_hiccup(n, &st->a, now))
			return;
		break;
	case SL_OPNET_OUT_NOT_FOUND:
		st->not_found++;
		break;
	case SL_OPNET_OUT_BAD:
		st->bad++;
		break;
	case SL_OPNET_OUT_TIMEOUT:
		st->timeouts++;
		break;
	default:
		st->down++;
		break;
	}
	fetch_next(n, op, now);
}

/* fetch_network: the network half — the peers that claim the height. */
static void fetch_network(sl_opnet_t *n, sl_op_t *op)
{
	sl_opnet_fetch_t *st = sl_opnet_fetch_of(op);
	uint64_t now = sl_op_now(n->ops);
	if (op->deadline_ns != 0 && now >= op->deadline_ns) {
		sl_op_end(n->ops, op, SL_CODE_TIMEOUT,
		          "deadline of %llu ms passed in the store read",
		          (unsigned long long)op->deadline_ms);
		return;
	}
	st->n_cand = n->io.claimers(n->io.ctx, st->height, st->cand, SL_OPNET_CAND_MAX);
	if (st->n_cand == 0) {
		sl_op_end(n->ops, op, SL_CODE_NOT_FOUND,
		          "height %u is not on our chain (store: %s) and no peer claims it",
		          st->height, sl_storeread_err_str(st->store));
		return;
	}
	fetch_next(n, op, now);
}

/* fetch_store: the store half ended with e (hdr, hash: OK only). */
static void fetch_store(sl_opnet_t *n, sl_op_t *op, sl_storeread_err_t e, const uint8_t *hdr,
                        const uint8_t *hash)
{
	sl_opnet_fetch_t *st = sl_opnet_fetch_of(op);
	st->store = e;
	switch (e) {
	case SL_STOREREAD_OK:
		memcpy(st->hdr, hdr, 80);
		memcpy(st->hash, hash, 32);
		st->from_store = true;
		n->cnt.store_hits++;
		sl_op_end(n->ops, op, SL_CODE_OK, NULL);
		return;
	case SL_STOREREAD_ERR_NOT_FOUND:
	case SL_STOREREAD_ERR_TIMEOUT: /* no permit in time: the peers, within the op's deadline */
	case SL_STOREREAD_ERR_BUSY:
	case SL_STOREREAD_ERR_REORGED:
		fetch_network(n, op);
		return;
	case SL_STOREREAD_ERR_CANCELLED:
		sl_op_end(n->ops, op, SL_CODE_CANCELLED, "its store read was cancelled");
		return;
	case SL_STOREREAD_ERR_SHUTTING_DOWN:
		sl_op_end(n->ops, op, SL_CODE_SHUTTING_DOWN, "the store's read path is closed");
		return;
	default:
		sl_op_end(n->ops, op, SL_CODE_INTERNAL, "store read of height %u: %s", st->height,
		          sl_storeread_err_str(e));
		return;
	}
}

void sl_opnet_header_fetch(sl_opnet_t *n, sl_op_t *op, uint32_t height)
{
	sl_opnet_fetch_t *st = sl_opnet_fetch_of(op);
	st->height = height;
	n->cnt.store_reads++;
	sl_storeread_err_t e = n->io.store_read(n->io.ctx, height, op->deadline_ns, op->tx);
	if (e == SL_STOREREAD_OK) {
		st->reading = true; /* sl_opnet_store_done resumes it */
		return;
	}
	fetch_store(n, op, e, NULL, NULL); /* refused: nothing follows */
}

bool sl_opnet_store_done(sl_opnet_t *n, const sl_storeread_done_t *d)
{
	sl_op_t *op = d->kind == SL_STOREREAD_KIND_GET ? sl_op_find(n->ops, d->cookie) : NULL;
	if (op == NULL || op->kind != SL_OP_KIND_HEADER_FETCH || op->state != SL_OP_RUNNING ||
	    !sl_opnet_fetch_of(op)->reading || sl_opnet_fetch_of(op)->height != d->height) {
		n->cnt.store_late++;
		return false;
	}
	sl_opnet_fetch_of(op)->reading = false;
	fetch_store(n, op, d->err, d->hdr, d->hash);
	return true;
}

/* ---- peer.ping ------------------------------------------------------------------ */

static void ping_outcome(sl_opnet_t *n, sl_op_t *op, sl_opnet_out_t out, const sl_peerio_reply_t *r,
                         uint64_t now)
{
	sl_opnet_ping_t *st = sl_opnet_ping_of(op);
	switch (out) {
	case SL_OPNET_OUT_REPLY:
		st->rtt_us = (uint32_t)SL_MIN(r->rtt_ns / 1000u, (uint64_t)UINT32_MAX);
		sl_op_end(n->ops, op, SL_CODE_OK, NULL);
		return;
	case SL_OPNET_OUT_HICCUP:
		if (opnet_hiccup(n, &st->a, now))
			return;
		sl_op_end(n->ops, op, SL_CODE_EXHAUSTED, "session %u: PING could not be sent",
		          st->sid);
		return;
	case SL_OPNET_OUT_TIMEOUT: /* a lost PING or PONG: ask again */
		st->a.hiccups = 0;
		sl_opnet_send_and_await(n, op, &st->a, st->sid, SL_OPNET_PING_ATTEMPT_NS);
		return;
	default:
		sl_op_end(n->ops, op, SL_CODE_NOT_FOUND, "session %u went down or is not live",
		          st->sid);
		return;
	}
}

void sl_opnet_peer_ping(sl_opnet_t *n, sl_op_t *op, uint32_t sid)
{
	sl_opnet_ping_t *st = sl_opnet_ping_of(op);
	st->sid = sid;
	sl_opnet_send_and_await(n, op, &st->a, sid, SL_OPNET_PING_ATTEMPT_NS);
}

static void ping_all_finish(sl_opnet_t *n, sl_op_t *op)
{
	sl_opnet_ping_t *st = sl_opnet_ping_of(op);
	if (!st->starting && st->done >= st->n && op->state == SL_OP_RUNNING)
		sl_op_end(n->ops, op, SL_CODE_OK, NULL);
}

void sl_opnet_peer_ping_all(sl_opnet_t *n, sl_op_t *op)
{
	sl_opnet_ping_t *st = sl_opnet_ping_of(op);
	uint32_t sids[SL_OPNET_PING_MAX];
	uint32_t k = n->io.live(n->io.ctx, sids, SL_OPNET_PING_MAX);
	uint64_t now = sl_op_now(n->ops), child_ms = 0;
	if (op->deadline_ns != 0) {
		uint64_t left = op->deadline_ns > now ? (op->deadline_ns - now) / SL_NS_PER_MS : 0;
		child_ms = left > SL_OPNET_CHILD_SLACK_MS * 2 ? left - SL_OPNET_CHILD_SLACK_MS
		                                              : SL_MAX(left, 1u);
	}
	st->all = true;
	st->starting = true;
	for (uint32_t i = 0; i < k; i++) {
		sl_op_t *c = NULL;
		st->res[st->n] = (sl_opnet_ping_res_t){.sid = sids[i], .code = SL_CODE_INTERNAL};
		if (sl_op_start(n->ops, SL_OP_KIND_PEER_PING, 0, op->tx, child_ms, &c) !=
		    SL_OP_OK) {
			st->res[st->n++].code = SL_CODE_BUSY;
			st->done++;
			continue;
		}
		st->n++;
		sl_opnet_peer_ping(n, c, sids[i]);
	}
	st->starting = false;
	ping_all_finish(n, op);
}

static void ping_child_done(void *ctx, sl_op_t *op, const sl_op_t *child)
{
	sl_opnet_t *n = ctx;
	sl_opnet_ping_t *st = sl_opnet_ping_of(op);
	const sl_opnet_ping_t *cs = sl_opnet_ping_of(child);
	for (uint32_t i = 0; i < st->n; i++) {
		if (st->res[i].sid != cs->sid || st->res[i].code != SL_CODE_INTERNAL)
			continue;
		st->res[i].code = child->code;
		st->res[i].rtt_us = cs->rtt_us;
		st->done++;
		break;
	}
	ping_all_finish(n, op);
}

/* ---- resuming ------------------------------------------------------------------- */

static void opnet_outcome(sl_opnet_t *n, sl_op_t *op, sl_opnet_out_t out,
                          const sl_peerio_reply_t *r, uint64_t now)
{
	switch (out) {
	case SL_OPNET_OUT_REPLY:
		n->cnt.replies++;
		break;
	case SL_OPNET_OUT_TIMEOUT:
		n->cnt.timeouts++;
		break;
	case SL_OPNET_OUT_NOT_FOUND:
		n->cnt.not_found++;
		break;
	case SL_OPNET_OUT_BAD:
		n->cnt.bad++;
		break;
	case SL_OPNET_OUT_DOWN:
		n->cnt.down++;
		break;
	default:
		break;
	}
	if (op->kind == SL_OP_KIND_HEADER_FETCH)
		fetch_outcome(n, op, out, r, now);
	else
		ping_outcome(n, op, out, r, now);
}

/* opnet_attempt_of: the attempt of a running op of ours. */
static sl_opnet_attempt_t *opnet_attempt_of(sl_op_t *op)
{
	if (op->kind == SL_OP_KIND_HEADER_FETCH)
		return &sl_opnet_fetch_of(op)->a;
	if (op->kind == SL_OP_KIND_PEER_PING && !sl_opnet_ping_of(op)->all)
		return &sl_opnet_ping_of(op)->a;
	return NULL;
}

/* opnet_reply_out: what an answer means for the attempt, or -1 (not an
   answer to it: e.g. another height). */
static int opnet_reply_out(const sl_op_t *op, const sl_peerio_reply_t *r)
{
	bool fetch = op->kind == SL_OP_KIND_HEADER_FETCH;
	switch (r->kind) {
	case SL_PEERIO_R_HEADER:
		return fetch && r->height == sl_opnet_fetch_of(op)->height ? SL_OPNET_OUT_REPLY
		                                                           : -1;
	case SL_PEERIO_R_PONG:
		return fetch ? -1 : SL_OPNET_OUT_REPLY;
	case SL_PEERIO_R_NOT_FOUND:
	case SL_PEERIO_R_SHORT:
		return SL_OPNET_OUT_NOT_FOUND;
	case SL_PEERIO_R_BAD:
		return SL_OPNET_OUT_BAD;
	case SL_PEERIO_R_SEND_FAIL:
		return SL_OPNET_OUT_HICCUP;
	default:
		return -1;
	}
}

/* opnet_down: session sid went down: every attempt in flight to it ends. */
static void opnet_down(sl_opnet_t *n, uint32_t sid, uint64_t now)
{
	for (uint32_t s = 0; s < SL_OPNET_WAITERS && sl_opnet_busy(n); s++) {
		sl_opnet_waiter_t *w = &n->w[s];
		if (w->corr == 0 || w->sid != sid)
			continue;
		sl_op_t *op = sl_op_find(n->ops, w->tx);
		sl_opnet_attempt_t *a = op != NULL ? opnet_attempt_of(op) : NULL;
		if (a == NULL || op->state != SL_OP_RUNNING || a->corr != w->corr) {
			w->corr = 0; /* cannot happen: an op lets go when it ends */
			n->free_slot[n->n_free++] = s;
			continue;
		}
		opnet_release(n, op, a);
		opnet_outcome(n, op, SL_OPNET_OUT_DOWN, NULL, now);
	}
}

void sl_opnet_reply(void *ctx, const sl_peerio_reply_t *r, uint64_t now)
{
	sl_opnet_t *n = ctx;
	if (r->kind == SL_PEERIO_R_DOWN) {
		opnet_down(n, r->sid, now);
		return;
	}
	sl_opnet_waiter_t *w = &n->w[r->corr & OPNET_SLOT_MASK];
	sl_op_t *op = w->corr == r->corr ? sl_op_find(n->ops, w->tx) : NULL;
	sl_opnet_attempt_t *a = op != NULL ? opnet_attempt_of(op) : NULL;
	int out = a != NULL ? opnet_reply_out(op, r) : -1;
	if (a == NULL || op->state != SL_OP_RUNNING || a->corr != r->corr ||
	    a->state != SL_OPNET_A_FLIGHT || r->sid != a->sid || out < 0) {
		n->cnt.late++;
		return;
	}
	opnet_release(n, op, a);
	/* deadlines before completions: a deadline that passed wins over an
	   answer queued behind it */
	if (op->deadline_ns != 0 && now >= op->deadline_ns) {
		sl_op_end(n->ops, op, SL_CODE_TIMEOUT, "deadline of %llu ms passed",
		          (unsigned long long)op->deadline_ms);
		return;
	}
	if (now >= a->deadline_ns)
		out = SL_OPNET_OUT_TIMEOUT;
	opnet_outcome(n, op, (sl_opnet_out_t)out, r, now);
}

/* The kinds' step: attempt deadlines, then retries whose time came. */
static void opnet_step(void *ctx, sl_op_t *op, uint64_t now)
{
	sl_opnet_t *n = ctx;
	sl_opnet_attempt_t *a = opnet_attempt_of(op);
	if (a == NULL)
		return;
	if (a->state == SL_OPNET_A_FLIGHT && now >= a->deadline_ns) {
		opnet_release(n, op, a);
		opnet_outcome(n, op, SL_OPNET_OUT_TIMEOUT, NULL, now);
	} else if (a->state == SL_OPNET_A_WAIT && now >= a->retry_ns) {
		bool fetch = op->kind == SL_OP_KIND_HEADER_FETCH;
		sl_opnet_send_and_await(
		    n, op, a, a->sid, fetch ? SL_OPNET_FETCH_ATTEMPT_NS : SL_OPNET_PING_ATTEMPT_NS);
	}
}

/* The op ended from outside (cancel, deadline, parent): let go of the
   waiter so a late answer finds nobody, and of a store read still out
   (its read permit goes back at once). */
static void opnet_stop(void *ctx, sl_op_t *op)
{
	sl_opnet_t *n = ctx;
	sl_opnet_attempt_t *a = opnet_attempt_of(op);
	if (a != NULL)
		opnet_release(n, op, a);
	if (op->kind == SL_OP_KIND_HEADER_FETCH && sl_opnet_fetch_of(op)->reading) {
		sl_opnet_fetch_of(op)->reading = false; /* its CANCELLED completion finds nobody */
		n->io.store_cancel(n->io.ctx, op->tx);
	}
}

/* ---- wiring ------------------------------------------------------------------------ */

static const sl_op_vt_t sl_opnet_fetch_vt = {.step = opnet_step, .stop = opnet_stop};
static const sl_op_vt_t sl_opnet_ping_vt = {
    .step = opnet_step, .stop = opnet_stop, .child_done = ping_child_done};

int sl_opnet_init(sl_opnet_t *n, sl_op_table_t *ops, const sl_opnet_io_t *io, uint64_t seed)
{
	memset(n, 0, sizeof *n);
	n->ops = ops;
	n->io = *io;
	n->rng = seed | 1u;
	n->w = calloc(SL_OPNET_WAITERS, sizeof *n->w);
	n->free_slot = malloc(SL_OPNET_WAITERS * sizeof *n->free_slot);
	n->peer_inflight = calloc(OPNET_PEER_SLOTS, sizeof *n->peer_inflight);
	if (SL_UNLIKELY(n->w == NULL || n->free_slot == NULL || n->peer_inflight == NULL)) {
		sl_opnet_fini(n);
		return -1;
	}
	for (uint32_t i = 0; i < SL_OPNET_WAITERS; i++)
		n->free_slot[i] = SL_OPNET_WAITERS - 1 - i;
	n->n_free = SL_OPNET_WAITERS;
	sl_op_set_kind(ops, SL_OP_KIND_HEADER_FETCH, &sl_opnet_fetch_vt, n);
	sl_op_set_kind(ops, SL_OP_KIND_PEER_PING, &sl_opnet_ping_vt, n);
	return 0;
}

void sl_opnet_fini(sl_opnet_t *n)
{
	free(n->w);
	free(n->free_slot);
	free(n->peer_inflight);
	n->w = NULL;
	n->free_slot = NULL;
	n->peer_inflight = NULL;
	n->n_free = 0;
}

/* ---- the domain's io ----------------------------------------------------------------- */

static sl_storeread_err_t dom_store_read(void *ctx, uint32_t height, uint64_t deadline_ns,
                                         uint64_t cookie)
{
	sl_storeread_get_t q = {.height = height, .deadline_ns = deadline_ns};
	return sl_storeread_get(((sl_opnet_dom_t *)ctx)->sr, &q, cookie);
}

static void dom_store_cancel(void *ctx, uint64_t cookie)
{
	sl_storeread_cancel(((sl_opnet_dom_t *)ctx)->sr, cookie);
}

static uint32_t dom_claimers(void *ctx, uint32_t height, uint32_t *sids, uint32_t cap)
{
	return sl_peerio_claimers(((sl_opnet_dom_t *)ctx)->pio, height, sids, cap);
}

static uint32_t dom_live(void *ctx, uint32_t *sids, uint32_t cap)
{
	return sl_peerio_live(((sl_opnet_dom_t *)ctx)->pio, sids, cap);
}

static sl_peerio_send_t dom_fetch(void *ctx, uint32_t sid, uint64_t corr, uint32_t height)
{
	return sl_peerio_fetch(((sl_opnet_dom_t *)ctx)->pio, sid, corr, height, 1);
}

static sl_peerio_send_t dom_ping(void *ctx, uint32_t sid, uint64_t corr)
{
	return sl_peerio_ping(((sl_opnet_dom_t *)ctx)->pio, sid, corr);
}

static void dom_addr(void *ctx, uint32_t sid, uint32_t *ip, uint16_t *port)
{
	sl_peerio_addr(((sl_opnet_dom_t *)ctx)->pio, sid, ip, port);
}

void sl_opnet_io_domain(sl_opnet_io_t *io, sl_opnet_dom_t *d)
{
	*io = (sl_opnet_io_t){.ctx = d,
	                      .store_read = dom_store_read,
	                      .store_cancel = dom_store_cancel,
	                      .claimers = dom_claimers,
	                      .live = dom_live,
	                      .fetch = dom_fetch,
	                      .ping = dom_ping,
	                      .addr = dom_addr};
}
