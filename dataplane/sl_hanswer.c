/* sl_hanswer.c — checks, delivery and counts of HEADERS answers (see
   sl_hanswer.h). */
#include "sl_hanswer.h"

#include <string.h>

#include "sl_sha256d.h"

/* The per-reason counters lie in sl_expect_reason_t's order. */
#define SL_HANSWER_AT(f) (offsetof(sl_lcore_cnt_t, f) - offsetof(sl_lcore_cnt_t, hs_answer_ok))
_Static_assert(SL_HANSWER_AT(hs_answer_dup) == SL_EXPECT_DUP * sizeof(sl_cnt_t), "dup");
_Static_assert(SL_HANSWER_AT(hs_answer_late) == SL_EXPECT_LATE * sizeof(sl_cnt_t), "late");
_Static_assert(SL_HANSWER_AT(hs_answer_expired) == SL_EXPECT_EXPIRED * sizeof(sl_cnt_t), "exp");
_Static_assert(SL_HANSWER_AT(hs_answer_unsolicited) == SL_EXPECT_UNSOLICITED * sizeof(sl_cnt_t),
               "unsolicited");
_Static_assert(SL_HANSWER_AT(hs_answer_outside) == SL_EXPECT_OUTSIDE * sizeof(sl_cnt_t), "outside");
_Static_assert(SL_EXPECT_REASON_CNT == SL_EXPECT_OUTSIDE + 1, "a counter per reason");

void sl_hanswer_count(sl_lcore_t *lc, sl_routine_peer_t *p, sl_expect_reason_t r)
{
	SL_CNT_ADD(&(&lc->cnt->hs_answer_ok)[r], 1);
	if (r == SL_EXPECT_LATE || r == SL_EXPECT_EXPIRED)
		SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_late_drop, 1);
}

const char *sl_hanswer_check(const sl_chain_profile_t *prof, const sl_wire_headers_t *hd,
                             sl_evt_headers_t *ev)
{
	memcpy(ev->hdr[0], hd->hdrs, (size_t)hd->n * SL_CHAIN_HDR_LEN);
	sl_sha256d_hdrs(ev->hdr[0], hd->n, ev->hash[0]);
	for (uint32_t i = 0; i < hd->n; i++) {
		if (sl_chain_check_pow(prof, ev->hdr[i], ev->hash[i]) != SL_CHAIN_OK)
			return "proof of work";
		if (i > 0 && memcmp(ev->hdr[i] + 4, ev->hash[i - 1], SL_CHAIN_HASH_LEN) != 0)
			return "linkage";
	}
	return NULL;
}

int sl_hanswer_deliver(sl_lcore_t *lc, sl_routine_peer_t *p, uint64_t corr,
                       const sl_wire_headers_t *hd, sl_evt_headers_t *ev, uint16_t flags,
                       uint32_t rstart, uint32_t rlen)
{
	ev->start = hd->start_height;
	ev->n = hd->n;
	ev->last = (hd->flags & SL_WIRE_HEADERS_F_LAST) != 0;
	ev->flags = flags;
	ev->range_start = rstart;
	ev->range_len = rlen;
	if (SL_UNLIKELY(sl_routine_event_corr(lc, SL_EVT_HEADERS, p->sid, sl_sid_gen(p->sid), corr,
	                                      ev, sizeof *ev) != 0)) {
		SL_CNT_ADD(&lc->cnt->hs_event_full, 1);
		return -1;
	}
	SL_PROBE_HEADERS_RX(p->sid, hd->start_height, hd->n);
	SL_CNT_ADD(&lc->cnt->hs_headers_rx, hd->n);
	SL_CNT_ADD(&sl_routine_sess(lc, p)->cnt.hs_headers_rx, hd->n);
	return 0;
}
