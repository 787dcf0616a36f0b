/* fuzz_peers.c — libFuzzer target "peers": PEERS handling end to end.  A
   test lcore (fuzz_lcore.h) connects out to a peer, which answers with a
   HELLO_ACK (built here): the session goes live, discovery asks GET_PEERS.
   The input is the payload of that peer's PEERS answer (any length; the
   frame header around it is valid), which goes through sl_ingress_frame,
   the session's frame path and the discovery routine; the PEERS events it
   emits go to a ctrl peer manager attached to the same region
   (sl_peermgr_event), which adds the addresses to its book.  Checks the
   book afterwards: every entry dialable (sl_net_ipv4_dialable), never our
   own address, no address twice.  The book is emptied for every input. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_lcore.h"
#include "sl_chain.h"
#include "sl_net.h"
#include "sl_peermgr.h"
#include "sl_sha256d.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sl_peermgr_t fuzz_pm; /* about 3 MB */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_lcore_init("fuzz_peers");
	sl_cfg_t cfg;
	sl_cfg_defaults(&cfg);
	cfg.n_bootstrap = 0;
	uint8_t genesis[32];
	sl_sha256d_hdr(sl_chain_profile("regtest")->genesis, genesis);
	if (sl_peermgr_init(&fuzz_pm, &cfg, genesis, NULL) != 0 ||
	    sl_peermgr_attach(&fuzz_pm, &fuzz_lc.dp.region, fuzz_lc.lc.now_ns) != 0)
		abort();
	return 0;
}

/* fuzz_peers_event: what ctrl's event loop does with a PEERS event (the
   others are the lcore's own business here). */
static void fuzz_peers_event(const sl_msg_t *m, void *ctx)
{
	(void)ctx;
	if (m->type == SL_EVT_PEERS)
		sl_peermgr_event(&fuzz_pm, m, fuzz_lc.lc.now_ns);
}

/* fuzz_peers_send wraps (stream, type, session, seq) + payload as the
   outbound slot's peer sends it. */
static void fuzz_peers_send(uint8_t stream, uint8_t type, uint32_t seq, const uint8_t *pl,
                            size_t len)
{
	static uint8_t udp[SL_WIRE_MAX_UDP + 64], f[SL_WIRE_MAX_UDP + 128];
	if (len > SL_WIRE_MAX_PAYLOAD)
		len = SL_WIRE_MAX_PAYLOAD;
	sl_wire_hdr_t h = {.type = type,
	                   .stream = stream,
	                   .length = (uint16_t)len,
	                   .session = sl_routine_peer(&fuzz_lc.lc, FUZZ_SLOT_OUT)->sid,
	                   .seq = seq};
	if (sl_wire_encode_hdr(udp, sizeof udp, &h) != SL_WIRE_HDR_LEN)
		abort();
	memcpy(udp + SL_WIRE_HDR_LEN, pl, len);
	uint32_t n =
	    fuzz_lcore_udp(f, sizeof f, FUZZ_SLOT_OUT, udp, (uint16_t)(SL_WIRE_HDR_LEN + len));
	if (n == 0)
		abort();
	fuzz_lcore_frame(f, n);
}

/* fuzz_peers_ack: the peer's HELLO_ACK to our HELLO. */
static void fuzz_peers_ack(void)
{
	const sl_routine_peer_t *p = sl_routine_peer(&fuzz_lc.lc, FUZZ_SLOT_OUT);
	sl_wire_msg_t m;
	memset(&m, 0, sizeof m);
	m.hello_ack.streams_accepted = 0x23u;
	memset(m.hello_ack.node_id, 0x77, 32);
	m.hello_ack.nonce = p->nonce;
	m.hello_ack.reply_session = 0x4242;
	uint8_t pl[SL_WIRE_HELLO_ACK_LEN];
	if (sl_wire_encode_hello_ack(pl, sizeof pl, &m.hello_ack) != sizeof pl)
		abort();
	fuzz_peers_send(SL_WIRE_STREAM_SESSION, SL_WIRE_T_HELLO_ACK, 1, pl, sizeof pl);
}

static void fuzz_peers_check(const sl_book_t *b)
{
	if (b->n > SL_BOOK_MAX)
		abort();
	for (uint32_t i = 0; i < SL_BOOK_MAX; i++) {
		const sl_book_entry_t *e = &b->e[i];
		if (e->ip == 0)
			continue;
		if (!sl_net_ipv4_dialable(e->ip, e->port) ||
		    (e->ip == b->self_ip && e->port == b->self_port))
			abort();
		for (uint32_t j = i + 1; j < SL_BOOK_MAX; j++)
			if (b->e[j].ip == e->ip && b->e[j].port == e->port)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sl_book_init(&fuzz_pm.book);
	sl_book_set_self(&fuzz_pm.book, FUZZ_LCORE_IP, SL_WIRE_UDP_PORT);
	fuzz_lcore_begin();
	fuzz_peers_ack();
	if (sl_routine_peer(&fuzz_lc.lc, FUZZ_SLOT_OUT)->state != SL_ROUTINE_LIVE)
		abort(); /* the harness's handshake must work */
	fuzz_lcore_events(fuzz_peers_event, NULL);
	/* an exact copy: ASan sees a read past the payload */
	uint8_t *pl = malloc(size ? size : 1);
	memcpy(pl, data, size);
	fuzz_peers_send(SL_WIRE_STREAM_DISCOVERY, SL_WIRE_T_PEERS, 1, pl, size);
	free(pl);
	fuzz_lcore_end(fuzz_peers_event, NULL);
	fuzz_peers_check(&fuzz_pm.book);
	return 0;
}
