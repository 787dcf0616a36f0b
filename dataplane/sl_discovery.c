/* sl_discovery.c — the discovery routine (see sl_discovery.h). */
#include "sl_discovery.h"

#include <string.h>

#include "sl_net.h"

#define SL_DISCOVERY_ASK_MAX SL_WIRE_GET_PEERS_MAX

static bool sl_discovery_only(const sl_routine_peer_t *p)
{
	return (p->streams & ~0x3u) == 0;
}

static void sl_discovery_close(sl_lcore_t *lc, sl_routine_peer_t *p)
{
	sl_routine_teardown(lc, p, SL_EXIT_STREAM_CLOSE, SL_WIRE_GOODBYE_PARKED_IDLE, 0);
}

static void sl_discovery_start(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	sl_discovery_peer_t *ds = st;
	ds->disc = SL_DISCOVERY_IDLE;
	ds->settle_ns = 0;
	if (!sl_streams_has(p->streams, SL_WIRE_STREAM_DISCOVERY))
		return;
	if (sl_discovery_only(p))
		ds->settle_ns = lc->now_ns + (uint64_t)lc->dp->cfg.settle_ms * 1000000ull;
	if (!p->outbound)
		return;
	sl_wire_msg_t msg = {.get_peers = {.max = SL_DISCOVERY_ASK_MAX}};
	ds->disc_max = SL_DISCOVERY_ASK_MAX;
	ds->disc = SL_DISCOVERY_ASKED;
	sl_routine_send_sess(lc, p, SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_GET_PEERS, 0, &msg);
}

static void sl_discovery_answer(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_wire_hdr_t *h,
                                uint16_t max)
{
	sl_pbook_peer_t book[SL_PBOOK_MAX];
	uint32_t n = sl_pbook_read(lc->dp->pbook, book, SL_PBOOK_MAX);
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
	sl_routine_send_sess(lc, p, SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_PEERS, h->corr, &out);
}

/* sl_discovery_forward sends the usable entries of a PEERS to ctrl. */
static void sl_discovery_forward(sl_lcore_t *lc, sl_routine_peer_t *p, const sl_wire_peers_t *in)
{
	sl_evt_peers_t ev;
	memset(&ev, 0, sizeof ev);
	for (uint32_t i = 0; i < in->n; i++) {
		if (!sl_net_ipv4_dialable(in->entries[i].ipv4, in->entries[i].port))
			continue;
		ev.peer[ev.n++] = in->entries[i];
		if (ev.n == SL_EVT_PEERS_MAX) {
			sl_routine_event(lc, SL_EVT_PEERS, p->sid, p->gen, &ev, sizeof ev);
			memset(&ev, 0, sizeof ev);
		}
	}
	if (ev.n > 0)
		sl_routine_event(lc, SL_EVT_PEERS, p->sid, p->gen, &ev, sizeof ev);
}

static void sl_discovery_input(sl_lcore_t *lc, sl_routine_peer_t *p, void *st,
                               const sl_wire_hdr_t *h, const sl_wire_msg_t *msg, bool too_many)
{
	sl_discovery_peer_t *ds = st;
	(void)too_many;
	if (h->type == SL_WIRE_T_GET_PEERS) {
		sl_discovery_answer(lc, p, h, msg->get_peers.max);
		return;
	}
	/* PEERS */
	if (ds->disc != SL_DISCOVERY_ASKED) {
		sl_routine_misbehave(lc, p, SL_MISB_UNSOLICITED, h->stream, h->type);
		return;
	}
	if (msg->peers.n > ds->disc_max) {
		sl_routine_misbehave(lc, p, SL_MISB_UNEXPECTED, h->stream, h->type);
		return;
	}
	ds->disc = SL_DISCOVERY_DONE;
	sl_discovery_forward(lc, p, &msg->peers);
	if (sl_discovery_only(p))
		sl_discovery_close(lc, p);
}

static void sl_discovery_tick(sl_lcore_t *lc, sl_routine_peer_t *p, void *st)
{
	const sl_discovery_peer_t *ds = st;
	if (ds->settle_ns != 0 && lc->now_ns >= ds->settle_ns)
		sl_discovery_close(lc, p);
}

const sl_stream_t sl_discovery_desc = {
    .name = "discovery",
    .id = SL_WIRE_STREAM_DISCOVERY,
    .state_sz = sizeof(sl_discovery_peer_t),
    .start = sl_discovery_start,
    .input = sl_discovery_input,
    .tick = sl_discovery_tick,
};
