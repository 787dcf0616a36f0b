/* sl_expect.c — the expectation table (see sl_expect.h). */
#include "sl_expect.h"

#include <string.h>

#define SL_EXPECT_REASON_NAME(e, s) s,
static const char *const sl_expect_names[SL_EXPECT_REASON_CNT] = {
    SL_EXPECT_REASON_LIST(SL_EXPECT_REASON_NAME)};
#undef SL_EXPECT_REASON_NAME

const char *sl_expect_reason_str(sl_expect_reason_t r)
{
	return (unsigned)r < SL_EXPECT_REASON_CNT ? sl_expect_names[r] : "?";
}

size_t sl_expect_footprint(uint32_t cap)
{
	if (cap == 0 || cap > SL_EXPECT_CAP_MAX)
		return 0;
	return sizeof(sl_expect_tab_t) + (size_t)cap * sizeof(sl_expect_t);
}

sl_expect_tab_t *sl_expect_init(void *mem, uint32_t cap, bool ordered,
                                const sl_expect_limits_t *lim)
{
	if (mem == NULL || sl_expect_footprint(cap) == 0 || lim == NULL)
		return NULL;
	sl_expect_tab_t *t = mem;
	t->cap = cap;
	t->ordered = ordered;
	t->lim = *lim;
	sl_expect_reset(t);
	return t;
}

void sl_expect_reset(sl_expect_tab_t *t)
{
	t->n = 0;
	t->late_at = 0;
	t->used = 0;
	t->corr_hi = 0;
	memset(t->late, 0, sizeof t->late);
}

sl_expect_t *sl_expect_next(sl_expect_tab_t *t, uint32_t i)
{
	uint64_t m = i < 64 ? t->used >> i : 0;
	return m != 0 ? &t->e[i + (uint32_t)__builtin_ctzll(m)] : NULL;
}

sl_expect_t *sl_expect_find(sl_expect_tab_t *t, uint64_t corr)
{
	for (sl_expect_t *e = sl_expect_next(t, 0); corr != 0 && e != NULL;
	     e = sl_expect_next(t, sl_expect_idx(t, e) + 1))
		if (e->corr == corr)
			return e;
	return NULL;
}

sl_expect_t *sl_expect_issue(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t len,
                             uint64_t now_ns)
{
	if (corr == 0 || len == 0 || len > SL_EXPECT_LEN_MAX || t->n == t->cap ||
	    (t->ordered ? corr <= t->corr_hi : sl_expect_find(t, corr) != NULL))
		return NULL;
	uint32_t i = (uint32_t)__builtin_ctzll(~t->used); /* n < cap <= 64: a free one */
	sl_expect_t *e = &t->e[i];
	memset(e, 0, sizeof *e);
	e->corr = corr;
	e->start = start;
	e->len = len;
	e->sent_ns = now_ns;
	if (corr > t->corr_hi)
		t->corr_hi = corr;
	t->used |= 1ull << i;
	t->n++;
	return e;
}

void sl_expect_end(sl_expect_tab_t *t, sl_expect_t *e, bool late)
{
	uint32_t i = sl_expect_idx(t, e);
	if ((t->used & (1ull << i)) == 0)
		return;
	if (late) {
		t->late[t->late_at] = e->corr;
		t->late_at = (t->late_at + 1u) % SL_EXPECT_LATE_MAX;
	}
	e->corr = 0;
	t->used &= ~(1ull << i);
	t->n--;
}

sl_expect_due_t sl_expect_due(const sl_expect_tab_t *t, const sl_expect_t *e, uint64_t now_ns)
{
	if (e->last_ns != 0 && now_ns - e->last_ns > t->lim.quiet_ns)
		return SL_EXPECT_DUE_QUIET;
	if (e->last_ns == 0 && now_ns - e->sent_ns > t->lim.noanswer_ns)
		return SL_EXPECT_DUE_NOANSWER;
	if (now_ns - e->sent_ns > t->lim.stale_ns)
		return SL_EXPECT_DUE_STALE;
	return SL_EXPECT_DUE_OPEN;
}

/* sl_expect_was_ours: corr was issued by this table and is not open. */
static bool sl_expect_was_ours(const sl_expect_tab_t *t, uint64_t corr)
{
	if (corr == 0)
		return false;
	for (uint32_t i = 0; i < SL_EXPECT_LATE_MAX; i++)
		if (t->late[i] == corr)
			return true;
	return t->ordered && corr <= t->corr_hi; /* ended earlier than the memory reaches */
}

sl_expect_reason_t sl_expect_check(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t n,
                                   uint64_t now_ns, sl_expect_t **out)
{
	sl_expect_t *e = sl_expect_find(t, corr);
	*out = e;
	if (e == NULL)
		return sl_expect_was_ours(t, corr) ? SL_EXPECT_LATE : SL_EXPECT_UNSOLICITED;
	if (sl_expect_due(t, e, now_ns) != SL_EXPECT_DUE_OPEN)
		return SL_EXPECT_EXPIRED;
	if (n == 0)
		return SL_EXPECT_OK;
	uint64_t end = (uint64_t)start + n;
	if (start < e->start || end > (uint64_t)e->start + e->len)
		return SL_EXPECT_OUTSIDE;
	for (uint32_t k = start - e->start; k < end - e->start; k++)
		if ((e->bits[k >> 6] & (1ull << (k & 63))) == 0)
			return SL_EXPECT_OK;
	return SL_EXPECT_DUP;
}

uint32_t sl_expect_credit(sl_expect_t *e, uint32_t start, uint32_t n, uint64_t now_ns)
{
	uint32_t fresh = 0;
	for (uint32_t k = start - e->start, end = k + n; k < end; k++) {
		uint64_t bit = 1ull << (k & 63);
		if ((e->bits[k >> 6] & bit) == 0) {
			e->bits[k >> 6] |= bit;
			fresh++;
		}
	}
	e->got += fresh;
	e->last_ns = now_ns;
	return fresh;
}

sl_expect_t *sl_expect_overlap(sl_expect_tab_t *t, uint32_t start, uint32_t count)
{
	uint64_t hi = (uint64_t)start + count;
	for (sl_expect_t *e = sl_expect_next(t, 0); e != NULL;
	     e = sl_expect_next(t, sl_expect_idx(t, e) + 1))
		if (e->start < hi && (uint64_t)e->start + e->len > start)
			return e;
	return NULL;
}

/* sl_expect_heard: when e was last heard from (its last frame, else sent). */
static uint64_t sl_expect_heard(const sl_expect_t *e)
{
	return e->last_ns != 0 ? e->last_ns : e->sent_ns;
}

sl_expect_t *sl_expect_oldest(sl_expect_tab_t *t)
{
	sl_expect_t *old = NULL;
	for (sl_expect_t *e = sl_expect_next(t, 0); e != NULL;
	     e = sl_expect_next(t, sl_expect_idx(t, e) + 1))
		if (old == NULL || sl_expect_heard(e) < sl_expect_heard(old))
			old = e;
	return old;
}
