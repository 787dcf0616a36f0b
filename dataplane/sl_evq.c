/* sl_evq.c — the event outbox of a worker lcore (see sl_evq.h). */
#include "sl_evq.h"

#include <inttypes.h>
#include <string.h>

#include "sl_msgq.h"
#include "sl_log.h"

sl_evq_class_t sl_evq_class(uint16_t type)
{
	switch ((sl_evt_type_t)type) {
	case SL_EVT_SESSION_UP:
	case SL_EVT_SESSION_DOWN:
	case SL_EVT_CONNECT_FAILED:
	case SL_EVT_WORK_RETURNED:
	case SL_EVT_FETCH_END:
		return SL_EVQ_CRITICAL;
	default:
		return SL_EVQ_ADVISORY;
	}
}

const char *sl_evq_res_str(sl_evq_res_t r)
{
	static const char *const names[] = {
	    [SL_EVQ_SENT] = "sent",
	    [SL_EVQ_BACKLOGGED] = "backlogged",
	    [SL_EVQ_REFUSED_RESERVE] = "refused_reserve",
	    [SL_EVQ_REFUSED_FULL] = "refused_full",
	    [SL_EVQ_REFUSED_BACKLOG] = "refused_backlog",
	    [SL_EVQ_LOST] = "lost",
	};
	return (unsigned)r < SL_ARRAY_LEN(names) ? names[r] : "?";
}

int sl_evq_init(sl_evq_t *q, const sl_region_t *region, uint32_t lcore, sl_lcore_cnt_t *cnt,
                sl_evq_rec_t *mem, uint32_t cap, uint32_t reserve)
{
	if (q == NULL || region == NULL || region->hdr == NULL || cnt == NULL || mem == NULL ||
	    cap == 0 || lcore >= region->hdr->n_lcores ||
	    reserve >= region->hdr->event_ring_depth - 1u) {
		SL_ERR("event outbox: bad arguments (lcore %u, cap %u, reserve %u)", lcore, cap,
		       reserve);
		return -1;
	}
	memset(q, 0, sizeof *q);
	q->lcore = lcore;
	q->ring = sl_region_event_ring(region, lcore);
	q->cnt = cnt;
	q->rec = mem;
	q->cap = cap;
	q->reserve = reserve;
	return 0;
}

/* sl_evq_gauge publishes the backlog depth (and its high-water mark). */
static void sl_evq_gauge(sl_evq_t *q)
{
	atomic_store_explicit(&q->cnt->evt_backlog_depth, q->n, memory_order_relaxed);
	if (q->n > SL_CNT_GET(&q->cnt->evt_backlog_max))
		atomic_store_explicit(&q->cnt->evt_backlog_max, q->n, memory_order_relaxed);
}

/* sl_evq_lost: a critical event did not fit the backlog.  Counted, and an
   error line per power of two lost (loud, not a log flood). */
static sl_evq_res_t sl_evq_lost(sl_evq_t *q, const sl_msg_t *m)
{
	SL_CNT_ADD(&q->cnt->evt_critical_lost, 1);
	SL_CNT_ADD(&q->cnt->events_lost, 1);
	uint64_t n = SL_CNT_GET(&q->cnt->evt_critical_lost);
	if ((n & (n - 1)) == 0) {
		SL_ERR("worker %u: critical event %s of session %08x LOST: backlog of %u full "
		       "(%" PRIu64 " lost so far; ctrl's view may need a restart)",
		       q->lcore, sl_evt_type_str(m->type), m->session, q->cap, n);
	}
	return SL_EVQ_LOST;
}

static sl_evq_res_t sl_evq_backlog(sl_evq_t *q, const sl_msg_t *m)
{
	if (SL_UNLIKELY(q->n == q->cap || m->len > SL_EVQ_PAYLOAD_MAX))
		return sl_evq_lost(q, m);
	sl_evq_rec_t *r = &q->rec[(q->head + q->n) % q->cap];
	r->type = m->type;
	r->len = m->len;
	r->lcore = m->lcore;
	r->session = m->session;
	r->gen = m->gen;
	r->corr = m->corr;
	memcpy(r->payload, m->payload, m->len);
	q->n++;
	SL_CNT_ADD(&q->cnt->evt_backlogged, 1);
	sl_evq_gauge(q);
	return SL_EVQ_BACKLOGGED;
}

static sl_evq_res_t sl_evq_refuse(sl_evq_t *q, sl_evq_res_t why)
{
	switch (why) {
	case SL_EVQ_REFUSED_RESERVE:
		SL_CNT_ADD(&q->cnt->evt_refused_reserve, 1);
		break;
	case SL_EVQ_REFUSED_FULL:
		SL_CNT_ADD(&q->cnt->evt_refused_full, 1);
		break;
	default:
		SL_CNT_ADD(&q->cnt->evt_refused_backlog, 1);
		break;
	}
	SL_CNT_ADD(&q->cnt->events_lost, 1);
	return why;
}

sl_evq_res_t sl_evq_send(sl_evq_t *q, const sl_msg_t *m)
{
	bool critical = sl_evq_class(m->type) == SL_EVQ_CRITICAL;
	if (SL_UNLIKELY(q->n != 0))
		return critical ? sl_evq_backlog(q, m) : sl_evq_refuse(q, SL_EVQ_REFUSED_BACKLOG);
	if (!critical) {
		uint32_t room = sl_msgq_room(q->ring);
		if (SL_UNLIKELY(room <= q->reserve))
			return sl_evq_refuse(q, room == 0 ? SL_EVQ_REFUSED_FULL
			                                  : SL_EVQ_REFUSED_RESERVE);
	}
	if (SL_UNLIKELY(sl_msgq_send(q->ring, m) != 0))
		return critical ? sl_evq_backlog(q, m) : sl_evq_refuse(q, SL_EVQ_REFUSED_FULL);
	SL_CNT_ADD(&q->cnt->events_tx, 1);
	return SL_EVQ_SENT;
}

uint32_t sl_evq_flush(sl_evq_t *q)
{
	if (SL_LIKELY(q->n == 0))
		return 0;
	sl_msg_t msg;
	uint32_t moved = 0;
	while (q->n > 0) {
		const sl_evq_rec_t *r = &q->rec[q->head];
		memset(&msg, 0, offsetof(sl_msg_t, payload));
		msg.type = r->type;
		msg.len = r->len;
		msg.lcore = r->lcore;
		msg.session = r->session;
		msg.gen = r->gen;
		msg.corr = r->corr;
		memcpy(msg.payload, r->payload, r->len);
		if (sl_msgq_send(q->ring, &msg) != 0)
			break;
		q->head = (q->head + 1u) % q->cap;
		q->n--;
		moved++;
	}
	SL_CNT_ADD(&q->cnt->evt_backlog_flushed, moved);
	SL_CNT_ADD(&q->cnt->events_tx, moved);
	sl_evq_gauge(q);
	return moved;
}

bool sl_evq_room(const sl_evq_t *q, uint32_t n)
{
	return q->n == 0 && sl_msgq_room(q->ring) >= q->reserve + n;
}
