/* sl_expect.c — the expectation table (see sl_expect.h). */
#include "sl_expect.h"

#include <string.h>

static const char *const sl_expect_names[SL_EXPECT_REASON_CNT] = {"ok", "dup", "late",
                                                                  "unsolicited", "outside"};

const char *sl_expect_reason_str(sl_expect_reason_t r)
{
	return (unsigned)r < SL_EXPECT_REASON_CNT ? sl_expect_names[r] : "?";
}

void sl_expect_init(sl_expect_tab_t *t)
{
	memset(t, 0, sizeof *t);
}

sl_expect_t *sl_expect_issue(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t len)
{
	if (corr == 0 || corr <= t->corr_hi || len == 0 || len > SL_EXPECT_LEN_MAX ||
	    t->n == SL_EXPECT_MAX)
		return NULL;
	for (uint32_t i = 0; i < SL_EXPECT_MAX; i++) {
		sl_expect_t *e = &t->e[i];
		if (e->corr != 0)
			continue;
		memset(e, 0, sizeof *e);
		e->corr = corr;
		e->start = start;
		e->len = len;
		t->corr_hi = corr;
		t->n++;
		return e;
	}
	return NULL;
}

sl_expect_t *sl_expect_find(sl_expect_tab_t *t, uint64_t corr)
{
	for (uint32_t i = 0; corr != 0 && i < SL_EXPECT_MAX; i++)
		if (t->e[i].corr == corr)
			return &t->e[i];
	return NULL;
}

void sl_expect_end(sl_expect_tab_t *t, sl_expect_t *e, bool late)
{
	if (e->corr == 0)
		return;
	if (late) {
		t->late[t->late_at] = e->corr;
		t->late_at = (t->late_at + 1u) % SL_EXPECT_LATE_MAX;
	}
	e->corr = 0;
	t->n--;
}

/* sl_expect_was_ours: corr was issued by this table and is not open. */
static bool sl_expect_was_ours(const sl_expect_tab_t *t, uint64_t corr)
{
	if (corr == 0)
		return false;
	for (uint32_t i = 0; i < SL_EXPECT_LATE_MAX; i++)
		if (t->late[i] == corr)
			return true;
	return corr <= t->corr_hi; /* ended earlier than the memory reaches */
}

sl_expect_reason_t sl_expect_check(sl_expect_tab_t *t, uint64_t corr, uint32_t start, uint32_t n,
                                   sl_expect_t **out)
{
	sl_expect_t *e = sl_expect_find(t, corr);
	*out = e;
	if (e == NULL)
		return sl_expect_was_ours(t, corr) ? SL_EXPECT_LATE : SL_EXPECT_UNSOLICITED;
	uint64_t end = (uint64_t)start + n;
	if (start < e->start || end > (uint64_t)e->start + e->len || n == 0)
		return SL_EXPECT_OUTSIDE;
	for (uint32_t k = start - e->start; k < end - e->start; k++)
		if ((e->bits[k >> 6] & (1ull << (k & 63))) == 0)
			return SL_EXPECT_OK;
	return SL_EXPECT_DUP;
}

uint32_t sl_expect_credit(sl_expect_t *e, uint32_t start, uint32_t n)
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
	return fresh;
}
