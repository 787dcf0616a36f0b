/* sl_discovery.c — the discovery routine (see sl_discovery.h). */
#include "sl_discovery.h"

#include <string.h>

#define SL_DISC_ASK_MAX SL_WIRE_GET_PEERS_MAX

static bool sl_disc_only(const sl_peer_t *p)
{
	return (p->streams & ~0x3u) == 0;
}

static void sl_disc_close(sl_lcore_t *lc, sl_peer_t *p)
{
	sl_rt_teardown(lc, p, SL_EXIT_STREAM_CLOSE, SL_WIRE_GOODBYE_PARKED_IDLE, 0);
}

void sl_disc_start(sl_lcore_t *lc, sl_peer_t *p)
{
	p->disc = SL_DISC_IDLE;
	p->settle_ns = 0;
	if (!sl_streams_has(p->streams, SL_WIRE_STREAM_DISCOVERY))
		return;
	if (sl_disc_only(p))
		p->settle_ns = lc->now_ns + (uint64_t)lc->dp->cfg.settle_ms * 1000000ull;
	if (!p->outbound)
		return;
	sl_wire_msg_t msg = {.get_peers = {.max = SL_DISC_ASK_MAX}};
	p->disc_max = SL_DISC_ASK_MAX;
	p->disc = SL_DISC_ASKED;
	sl_rt_send_sess(lc, p, SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_GET_PEERS, 0, &msg);
}

bool sl_disc_entry_ok(const sl_wire_peer_t *e)
{
	uint32_t ip = e->ipv4;
	return ip != 0 && ip != 0xffffffffu && (ip >> 28) != 0xe && (ip >> 24) != 127 &&
	       e->port != 0;
}

static void sl_disc_answer(sl_lcore_t *lc, sl_peer_t *p, const sl_wire_hdr_t *h, uint16_t max)
{
	sl_region_peer_t book[SL_REGION_BOOK_MAX];
	uint32_t n = sl_region_book_read(&lc->dp->region, book, SL_REGION_BOOK_MAX);
	sl_wire_msg_t out;
	out.peers.n = 0;
	for (uint32_t i = 0; i < n && out.peers.n < max && out.peers.n < SL_WIRE_PEERS_MAX; i++) {
		if ((book[i].ipv4 == p->peer_ip && book[i].port == p->peer_port) ||
		    memcmp(book[i].node_id, p->node_id, 32) == 0)
			continue; /* not the asker itself */
		sl_wire_peer_t *e = &out.peers.entries[out.peers.n++];
		e->ipv4 = book[i].ipv4;
		e->port = book[i].port;
		e->flags = book[i].flags;
		memcpy(e->node_id, book[i].node_id, 32);
		e->last_seen_unix = book[i].last_seen_unix;
	}
	sl_rt_send_sess(lc, p, SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_PEERS, h->corr, &out);
}

/* sl_disc_forward sends the usable entries of a PEERS to ctrl. */
static void sl_disc_forward(sl_lcore_t *lc, sl_peer_t *p, const sl_wire_peers_t *in)
{
	sl_evt_peers_t ev;
	memset(&ev, 0, sizeof ev);
	for (uint32_t i = 0; i < in->n; i++) {
		if (!sl_disc_entry_ok(&in->entries[i]))
			continue;
		ev.peer[ev.n++] = in->entries[i];
		if (ev.n == SL_EVT_PEERS_MAX) {
			sl_rt_event(lc, SL_EVT_PEERS, p->sid, p->gen, &ev, sizeof ev);
			memset(&ev, 0, sizeof ev);
		}
	}
	if (ev.n > 0)
		sl_rt_event(lc, SL_EVT_PEERS, p->sid, p->gen, &ev, sizeof ev);
}

void sl_disc_input(sl_lcore_t *lc, sl_peer_t *p, const sl_wire_hdr_t *h, const sl_wire_msg_t *msg)
{
	if (h->type == SL_WIRE_T_GET_PEERS) {
		sl_disc_answer(lc, p, h, msg->get_peers.max);
		return;
	}
	/* PEERS */
	if (p->disc != SL_DISC_ASKED) {
		sl_rt_misbehave(lc, p, SL_MISB_UNSOLICITED, h->stream, h->type);
		return;
	}
	if (msg->peers.n > p->disc_max) {
		sl_rt_misbehave(lc, p, SL_MISB_UNEXPECTED, h->stream, h->type);
		return;
	}
	p->disc = SL_DISC_DONE;
	sl_disc_forward(lc, p, &msg->peers);
	if (sl_disc_only(p))
		sl_disc_close(lc, p);
}

void sl_disc_deadline(sl_lcore_t *lc, sl_peer_t *p)
{
	if (p->settle_ns != 0 && lc->now_ns >= p->settle_ns)
		sl_disc_close(lc, p);
}
