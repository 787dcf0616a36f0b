/* sl_branch.c — see sl_branch.h. */
#include "sl_branch.h"

#include <stdlib.h>
#include <string.h>

#include "sl_expect.h"
#include "sl_log.h"
#include "sl_sha256d.h"
#include "sl_wire.h"

#define HS 80u

typedef enum { PH_IDLE = 0, PH_LOCATE, PH_FETCH } phase_t;

typedef struct {
	uint32_t sess, gen, peer_tip;
} want_t;

struct sl_branch {
	sl_branch_opts_t o;
	uint8_t *hdrs; /* SL_BRANCH_MAX x 80: heights base.. */
	uint8_t *have; /* SL_BRANCH_MAX presence flags */

	phase_t phase;
	uint32_t sess, gen, peer_tip;
	uint32_t base;    /* height of hdrs[0] */
	uint32_t next;    /* first height not yet received contiguously from base */
	uint32_t s, step; /* locate: probe start, next step back */
	uint32_t fork;    /* fetch: the branch leaves ours after this height */
	uint32_t no_progress;
	uint64_t deadline; /* of the whole fetch */

	sl_expect_tab_t *att; /* the attempt: one expectation (ordered corrs) */
	uint32_t a_next0;     /* next when it was sent */
	uint64_t corr_seq;

	want_t q[SL_BRANCH_QUEUE];
	uint32_t qn;
	sl_branch_cnt_t cnt;
};

static void start(sl_branch_t *b, const want_t *w, uint64_t now);

/* ---- endings ---------------------------------------------------------------- */

/* attempt: the open attempt, or NULL. */
static sl_expect_t *attempt(const sl_branch_t *b)
{
	return sl_expect_next(b->att, 0);
}

/* attempt_end closes the open attempt, if any; its answers are late. */
static void attempt_end(sl_branch_t *b)
{
	if (attempt(b) != NULL)
		sl_expect_end(b->att, attempt(b), true);
}

/* finish ends the fetch and starts the next queued one. */
static void finish(sl_branch_t *b, uint64_t now)
{
	b->phase = PH_IDLE;
	attempt_end(b);
	if (b->qn == 0)
		return;
	want_t w = b->q[0];
	memmove(&b->q[0], &b->q[1], sizeof(want_t) * --b->qn);
	start(b, &w, now);
}

static void give_up(sl_branch_t *b, const char *why, uint64_t now)
{
	b->cnt.gave_up++;
	SL_INFO("branch fetch from session %u: given up (%s)", b->sess, why);
	finish(b, now);
}

/* decide judges the contiguous branch fork+1 .. next-1 against our chain
   now, and switches when it carries more work. */
static void decide(sl_branch_t *b, uint64_t now)
{
	uint32_t n = b->next - (b->fork + 1), valid = 0;
	if (n == 0) {
		give_up(b, "no header of the branch came", now);
		return;
	}
	const uint8_t *hdrs = b->hdrs + (size_t)(b->fork + 1 - b->base) * HS;
	uint8_t work[32];
	sl_chainstore_fail_t f = {0};
	sl_chainstore_err_t e =
	    sl_chainstore_branch_check(b->o.cs, b->fork, hdrs, n, &valid, work, &f);
	if (e == SL_CHAINSTORE_ERR_INVALID) {
		b->cnt.invalid++;
		SL_INFO("branch from session %u: height %u refused (%s); judging the %u before it",
		        b->sess, f.height, sl_chainstore_reason(&f), valid);
	}
	sl_chainstore_tip_t t;
	sl_chainstore_tip(b->o.cs, &t);
	if (valid == 0 || e == SL_CHAINSTORE_ERR_ARG || sl_chain_work_cmp(work, t.chainwork) <= 0) {
		b->cnt.lighter++;
		SL_INFO(
		    "branch from session %u (fork %u, %u headers): not heavier than our tip %u, "
		    "dropped",
		    b->sess, b->fork, valid, t.height);
		finish(b, now);
		return;
	}
	SL_INFO("branch from session %u: switching at fork %u to %u headers (tip %u -> %u)",
	        b->sess, b->fork, valid, t.height, b->fork + valid);
	int c = b->o.switch_to(b->o.ctx, b->fork, hdrs, valid);
	if (c >= 0) {
		b->cnt.switched++;
		b->cnt.last_fork = b->fork;
		b->cnt.last_len = (uint64_t)c;
	}
	finish(b, now);
}

/* ---- attempts --------------------------------------------------------------- */

/* our_hash: the hash of our committed header h (zero when beyond it). */
static void our_hash(const sl_branch_t *b, uint32_t h, uint8_t out[32])
{
	if (sl_chainstore_get(b->o.cs, h, NULL, out) != SL_CHAINSTORE_OK)
		memset(out, 0, 32);
}

/* send_attempt asks the peer for count heights from `from` with anchor. */
static void send_attempt(sl_branch_t *b, uint32_t from, uint32_t count, const uint8_t anchor[32],
                         uint64_t now)
{
	sl_cmd_fetch_t f = {.kind = SL_SEND_FETCH,
	                    .count = (uint16_t)count,
	                    .start = from,
	                    .corr = SL_FETCH_CORR_BIT | ++b->corr_seq};
	memcpy(f.anchor, anchor, 32);
	attempt_end(b);
	sl_expect_issue(b->att, f.corr, from, count, now); /* fresh corr, count <= 2000 */
	b->a_next0 = b->next;
	b->cnt.attempts++;
	if (b->o.send(b->o.ctx, b->sess, b->gen, &f) != 0)
		give_up(b, "the peer's routine cannot take the request", now);
}

/* locate_send probes from height s: the buffer restarts there. */
static void locate_send(sl_branch_t *b, uint64_t now)
{
	if (b->s > b->peer_tip) { /* its whole chain is ours */
		b->cnt.extends++;
		finish(b, now);
		return;
	}
	uint32_t count = SL_MIN(b->peer_tip - b->s + 1, (uint32_t)SL_WIRE_GET_HEADERS_MAX);
	uint8_t anchor[32];
	b->base = b->next = b->s;
	memset(b->have, 0, count);
	our_hash(b, b->s - 1, anchor);
	send_attempt(b, b->s, count, anchor, now);
}

/* fetch_send asks for the branch after its last contiguous header, or
   judges it when it reached the peer's tip or the buffer's end. */
static void fetch_send(sl_branch_t *b, uint64_t now)
{
	uint32_t room = SL_BRANCH_MAX - (b->next - b->base);
	if (b->next > b->peer_tip || room == 0) {
		decide(b, now);
		return;
	}
	uint32_t count =
	    SL_MIN(SL_MIN(b->peer_tip - b->next + 1, room), (uint32_t)SL_WIRE_GET_HEADERS_MAX);
	uint8_t anchor[32];
	if (b->next - 1 == b->fork)
		our_hash(b, b->fork, anchor);
	else
		sl_sha256d_hdr(b->hdrs + (size_t)(b->next - 1 - b->base) * HS, anchor);
	memset(b->have + (b->next - b->base), 0, count);
	send_attempt(b, b->next, count, anchor, now);
}

/* locate_judge: after a locate attempt, the first height (base..next-1)
   whose hash differs from ours.  UINT32_MAX: none. */
static uint32_t locate_judge(const sl_branch_t *b, uint32_t tip)
{
	uint8_t ours[32], theirs[32];
	for (uint32_t h = b->base; h < b->next && h <= tip; h++) {
		our_hash(b, h, ours);
		sl_sha256d_hdr(b->hdrs + (size_t)(h - b->base) * HS, theirs);
		if (memcmp(ours, theirs, 32) != 0)
			return h;
	}
	return UINT32_MAX;
}

/* progress: the attempt brought heights; else counts a try.  False when
   the tries ran out. */
static bool progress(sl_branch_t *b)
{
	if (b->next > b->a_next0) {
		b->no_progress = 0;
		return true;
	}
	return ++b->no_progress < SL_BRANCH_TRIES;
}

static void locate_done(sl_branch_t *b, uint16_t reason, uint64_t now)
{
	if (reason == SL_WIRE_NF_UNKNOWN_ANCHOR) {
		if (b->s <= 1) {
			give_up(b, "the peer knows none of our chain", now);
			return;
		}
		b->s = b->s > b->step ? b->s - b->step : 1;
		b->step = SL_MIN(b->step * 2u, 1u << 20);
		locate_send(b, now);
		return;
	}
	if (reason == SL_FETCH_END_BAD || reason == SL_FETCH_END_SEND ||
	    reason == SL_WIRE_NF_BEYOND_TIP) {
		give_up(b, reason == SL_FETCH_END_BAD ? "bad data" : "the peer cannot serve", now);
		return;
	}
	sl_chainstore_tip_t t;
	sl_chainstore_tip(b->o.cs, &t);
	uint32_t m = locate_judge(b, t.height);
	if (m != UINT32_MAX) {
		b->phase = PH_FETCH;
		b->fork = m - 1;
		b->no_progress = 0;
		SL_INFO("branch from session %u leaves our chain after height %u", b->sess,
		        b->fork);
		fetch_send(b, now);
	} else if (b->next > t.height) {
		b->cnt.extends++; /* it only extends ours: the pull's job */
		finish(b, now);
	} else if (!progress(b)) {
		give_up(b, "no progress", now);
	} else {
		b->s = b->next; /* matched so far: go on from there */
		locate_send(b, now);
	}
}

static void fetch_done(sl_branch_t *b, uint16_t reason, uint64_t now)
{
	bool stop = reason == SL_FETCH_END_BAD || reason == SL_FETCH_END_SEND ||
	            reason == SL_WIRE_NF_UNKNOWN_ANCHOR || reason == SL_WIRE_NF_BEYOND_TIP;
	if (stop || !progress(b))
		decide(b, now); /* judge what came */
	else
		fetch_send(b, now);
}

static void attempt_done(sl_branch_t *b, uint16_t reason, uint64_t now)
{
	attempt_end(b);
	if (b->phase == PH_LOCATE)
		locate_done(b, reason, now);
	else
		fetch_done(b, reason, now);
}

/* ---- API ------------------------------------------------------------------- */

static void start(sl_branch_t *b, const want_t *w, uint64_t now)
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(b->o.cs, &t);
	b->phase = PH_LOCATE;
	b->sess = w->sess;
	b->gen = w->gen;
	b->peer_tip = w->peer_tip;
	b->s = SL_MAX(SL_MIN(t.height, w->peer_tip), 1u);
	b->step = 1;
	b->no_progress = 0;
	b->deadline = now + SL_BRANCH_DEADLINE_NS;
	SL_INFO("branch fetch from session %u (tip %u; ours %u): locating the fork", w->sess,
	        w->peer_tip, t.height);
	locate_send(b, now);
}

sl_branch_t *sl_branch_new(const sl_branch_opts_t *o)
{
	if (SL_UNLIKELY(o == NULL || o->cs == NULL || o->send == NULL || o->switch_to == NULL))
		return NULL;
	sl_branch_t *b = calloc(1, sizeof(*b));
	if (SL_UNLIKELY(b == NULL))
		return NULL;
	b->o = *o;
	b->hdrs = malloc((size_t)SL_BRANCH_MAX * HS);
	b->have = calloc(SL_BRANCH_MAX, 1);
	/* an attempt ends at its deadline whatever came of it */
	static const sl_expect_limits_t lim = {.quiet_ns = SL_BRANCH_ATTEMPT_NS,
	                                       .noanswer_ns = SL_BRANCH_ATTEMPT_NS,
	                                       .stale_ns = SL_BRANCH_ATTEMPT_NS};
	void *att = malloc(sl_expect_footprint(1));
	b->att = sl_expect_init(att, 1, true, &lim);
	if (SL_UNLIKELY(b->hdrs == NULL || b->have == NULL || b->att == NULL)) {
		free(att);
		sl_branch_delete(b);
		return NULL;
	}
	return b;
}

void sl_branch_delete(sl_branch_t *b)
{
	if (b == NULL)
		return;
	free(b->hdrs);
	free(b->have);
	free(b->att);
	free(b);
}

void sl_branch_fork(sl_branch_t *b, uint32_t sess, uint32_t gen, uint32_t peer_tip, uint64_t now_ns)
{
	want_t w = {sess, gen, peer_tip};
	b->cnt.forks++;
	if (b->phase == PH_IDLE) {
		start(b, &w, now_ns);
		return;
	}
	if (b->sess == sess && b->gen == gen)
		return; /* already fetching from it */
	for (uint32_t i = 0; i < b->qn; i++)
		if (b->q[i].sess == sess && b->q[i].gen == gen) {
			b->q[i].peer_tip = peer_tip;
			return;
		}
	if (b->qn == SL_BRANCH_QUEUE) {
		b->cnt.dropped++;
		return;
	}
	b->q[b->qn++] = w;
}

/* mine: an answer from the peer of the running fetch (any attempt). */
static bool mine(const sl_branch_t *b, uint32_t sess, uint32_t gen)
{
	return b->phase != PH_IDLE && sess == b->sess && gen == b->gen;
}

void sl_branch_on_headers(sl_branch_t *b, uint32_t sess, uint32_t gen, uint64_t corr,
                          const sl_evt_headers_t *e, uint64_t now_ns)
{
	uint32_t n = SL_MIN((uint32_t)e->n, (uint32_t)SL_EVT_HEADERS_MAX);
	sl_expect_t *a = NULL;
	sl_expect_reason_t r = mine(b, sess, gen)
	                           ? sl_expect_check(b->att, corr, e->start, n, now_ns, &a)
	                           : SL_EXPECT_UNSOLICITED;
	if (r == SL_EXPECT_EXPIRED) { /* deadlines before completions */
		b->cnt.late++;
		attempt_done(b, SL_FETCH_END_SHORT, now_ns);
		return;
	}
	if (r != SL_EXPECT_OK && r != SL_EXPECT_DUP) {
		b->cnt.late++; /* another attempt's, another peer's, or outside it */
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		memcpy(b->hdrs + (size_t)(e->start + i - b->base) * HS, e->hdr[i], HS);
		b->have[e->start + i - b->base] = 1;
	}
	sl_expect_credit(a, e->start, n, now_ns);
	while (b->next < a->start + a->len && b->have[b->next - b->base])
		b->next++;
	if (sl_expect_done(a))
		attempt_done(b, 0, now_ns);
}

void sl_branch_on_end(sl_branch_t *b, uint32_t sess, uint32_t gen, uint64_t corr,
                      const sl_evt_fetch_end_t *e, uint64_t now_ns)
{
	sl_expect_t *a = NULL;
	sl_expect_reason_t r = mine(b, sess, gen)
	                           ? sl_expect_check(b->att, corr, e->start, 0, now_ns, &a)
	                           : SL_EXPECT_UNSOLICITED;
	if (r == SL_EXPECT_OK)
		attempt_done(b, e->reason, now_ns);
	else if (r == SL_EXPECT_EXPIRED) /* deadlines before completions */
		attempt_done(b, SL_FETCH_END_SHORT, now_ns);
	if (r != SL_EXPECT_OK)
		b->cnt.late++;
}

void sl_branch_session_down(sl_branch_t *b, uint32_t sess, uint32_t gen, uint64_t now_ns)
{
	for (uint32_t i = 0; i < b->qn;)
		if (b->q[i].sess == sess && b->q[i].gen == gen)
			memmove(&b->q[i], &b->q[i + 1], sizeof(want_t) * (--b->qn - i));
		else
			i++;
	if (b->phase != PH_IDLE && b->sess == sess && b->gen == gen)
		give_up(b, "the peer went down", now_ns);
}

void sl_branch_tick(sl_branch_t *b, uint64_t now_ns)
{
	if (b->phase == PH_IDLE)
		return;
	if (now_ns > b->deadline)
		give_up(b, "deadline", now_ns);
	else if (attempt(b) != NULL &&
	         sl_expect_due(b->att, attempt(b), now_ns) != SL_EXPECT_DUE_OPEN)
		attempt_done(b, SL_FETCH_END_SHORT, now_ns);
}

bool sl_branch_busy(const sl_branch_t *b)
{
	return b != NULL && b->phase != PH_IDLE;
}

void sl_branch_counters(const sl_branch_t *b, sl_branch_cnt_t *out)
{
	*out = b->cnt;
}
