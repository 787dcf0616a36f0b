/* slgen.c — the DPDK frame generator of tests/bench/frame_path.sh.  Owned
   by the bench; not part of sluice.

   It sits on one end of a memif (or any DPDK port, one queue pair) and
   offers sluice PING frames (SPEC §2/§4: stream 0, type 4, payload u64
   sender_time_ns) in bursts of 32, as fast as the port takes them (a memif
   ring that is full refuses the rest of a burst: the offer follows what
   the far end drains), and counts what comes back in a timed window.

   -m sluice   the far end is sluice-dp: slgen resolves its MAC with ARP,
               opens a session with HELLO (regtest chain id, stream 0 only)
               and waits for HELLO_ACK, then sends PINGs of that session and
               counts PONGs.  It answers the node's ARP requests and PINGs
               (so the node's liveness check keeps the session up) and ends
               with a GOODBYE(SHUTDOWN).
   -m reflect  the far end reflects frames (dpdk-testpmd --forward-mode=io
               on one port): no handshake, the same PING frames (session 1),
               every returned PING is counted.
   Frames carry UDP checksum 0 (SPEC §1: verified only when non-zero), so
   the per-frame work is a 74-byte copy and the seq store.

   Output: progress on stderr; last line on stdout
       slgen mode=<m> sent=<x> replies=<x> seconds=<t> pps=<replies/t>
   where sent and replies count the measured window only (after -w warm-up
   seconds).
   Usage: slgen EAL-ARGS -- -m sluice|reflect -s SRC_IP -d DST_IP
                [-p DST_PORT] [-t SECONDS] [-w WARMUP_S]
   Exit 0 on a run, 2 on bad usage, 1 when the port or the session could
   not be set up. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "sl_base.h"
#include "sl_chain.h"
#include "sl_net.h"
#include "sl_sha256d.h"
#include "sl_wire.h"

#define SLG_BURST     32
#define SLG_RING      1024
#define SLG_MBUFS     8191
#define SLG_SRC_PORT  40000
#define SLG_OUR_SID   0x5eed0001u
#define SLG_FRAME_MAX 256
#define SLG_PL_OFF    (SL_ETH_HDR_LEN + SL_IPV4_HDR_LEN + SL_UDP_HDR_LEN)

typedef struct {
	int sluice; /* -m sluice (1) or reflect (0) */
	uint32_t src_ip, dst_ip;
	uint16_t dst_port;
	double seconds, warmup;
	uint32_t window; /* -W: most frames outstanding (0: as many as the port takes) */
} slg_opts_t;

typedef struct {
	slg_opts_t o;
	uint16_t port;
	struct rte_mempool *mp;
	sl_mac_t mac, peer_mac;
	bool have_mac;     /* peer_mac learnt (ARP reply) or set */
	uint32_t peer_sid; /* session id the node gave us (HELLO_ACK) */
	uint32_t seq;      /* next seq of our stream 0 */
	uint8_t ping[SLG_FRAME_MAX];
	uint32_t ping_len;
} slg_t;

static uint64_t slg_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int slg_usage(void)
{
	fprintf(stderr, "usage: slgen EAL-ARGS -- -m sluice|reflect -s SRC_IP -d DST_IP "
	                "[-p DST_PORT] [-t SECONDS] [-w WARMUP_S] [-W WINDOW]\n"
	                "  -W N: at most N frames outstanding (sent, not answered; a frame\n"
	                "        unanswered for 50 ms counts as lost), as a peer that\n"
	                "        paces itself to the answers would; 0 (default): flood\n");
	return 2;
}

static int slg_args(slg_opts_t *o, int argc, char **argv)
{
	int c, have = 0;
	*o = (slg_opts_t){.dst_port = 9747, .seconds = 3.0, .warmup = 0.5};
	while ((c = getopt(argc, argv, "m:s:d:p:t:w:W:")) != -1) {
		switch (c) {
		case 'm':
			o->sluice = strcmp(optarg, "sluice") == 0;
			if (!o->sluice && strcmp(optarg, "reflect") != 0)
				return -1;
			have |= 1;
			break;
		case 's':
			if (sl_net_parse_ipv4(optarg, &o->src_ip) != 0)
				return -1;
			have |= 2;
			break;
		case 'd':
			if (sl_net_parse_ipv4(optarg, &o->dst_ip) != 0)
				return -1;
			have |= 4;
			break;
		case 'p':
			o->dst_port = (uint16_t)atoi(optarg);
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'w':
			o->warmup = atof(optarg);
			break;
		case 'W':
			o->window = (uint32_t)atoi(optarg);
			break;
		default:
			return -1;
		}
	}
	return have == 7 && o->seconds > 0 ? 0 : -1;
}

static int slg_port_up(slg_t *g)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_link link;
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "slgen: no port\n");
		return -1;
	}
	g->port = 0;
	g->mp = rte_pktmbuf_pool_create("slgen", SLG_MBUFS, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                                (int)rte_socket_id());
	if (g->mp == NULL || rte_eth_dev_configure(g->port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(g->port, 0, SLG_RING, rte_eth_dev_socket_id(g->port), NULL,
	                           g->mp) != 0 ||
	    rte_eth_tx_queue_setup(g->port, 0, SLG_RING, rte_eth_dev_socket_id(g->port), NULL) !=
	        0 ||
	    rte_eth_dev_start(g->port) != 0) {
		fprintf(stderr, "slgen: port setup failed\n");
		return -1;
	}
	struct rte_ether_addr a;
	rte_eth_macaddr_get(g->port, &a);
	memcpy(g->mac.b, a.addr_bytes, 6);
	for (int i = 0; i < 1000; i++) { /* memif: the far end connects */
		if (rte_eth_link_get_nowait(g->port, &link) == 0 && link.link_status)
			return 0;
		rte_delay_ms(10);
	}
	fprintf(stderr, "slgen: link not up after 10 s\n");
	return -1;
}

static void slg_tx1(slg_t *g, const uint8_t *frame, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->mp);
	if (m == NULL)
		return;
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	if (rte_eth_tx_burst(g->port, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
}

/* slg_sess_frame builds a stream-0 frame of ours (next seq) to the node. */
static uint32_t slg_sess_frame(slg_t *g, uint8_t *buf, uint8_t type, uint32_t session,
                               const sl_wire_msg_t *m)
{
	sl_wire_hdr_t h = {
	    .type = type, .stream = SL_WIRE_STREAM_SESSION, .session = session, .seq = g->seq++};
	size_t n = sl_wire_encode_frame(buf + SLG_PL_OFF, SLG_FRAME_MAX - SLG_PL_OFF, &h, m);
	if (n == 0)
		return 0;
	return sl_net_build_udp(buf, SLG_FRAME_MAX, &g->mac, &g->peer_mac, g->o.src_ip, g->o.dst_ip,
	                        SLG_SRC_PORT, g->o.dst_port, (uint16_t)n, SL_NET_VLAN_NONE);
}

/* slg_input handles one received frame outside the counted PONGs: ARP
   (answers requests for us, learns the node's MAC from a reply), the
   node's PINGs (answered), HELLO_ACK / REJECT (returned in *h / *msg with
   1).  Returns 2 for a PONG or, in reflect mode, one of our PINGs back. */
static int slg_input(slg_t *g, const uint8_t *f, uint32_t len, sl_wire_hdr_t *h, sl_wire_msg_t *msg)
{
	sl_pkt_t p;
	uint8_t out[SLG_FRAME_MAX];
	if (sl_net_parse(f, len, &p) != SL_NET_OK)
		return 0;
	if (p.ethertype == SL_ETH_P_ARP) {
		if (p.arp.op == SL_ARP_OP_REQUEST && p.arp.tpa == g->o.src_ip) {
			uint32_t n =
			    sl_net_build_arp_reply(out, sizeof out, &p, &g->mac, g->o.src_ip);
			if (n)
				slg_tx1(g, out, n);
		} else if (p.arp.op == SL_ARP_OP_REPLY && p.arp.spa == g->o.dst_ip) {
			g->peer_mac = p.arp.sha;
			g->have_mac = true;
		}
		return 0;
	}
	if (p.l4_proto != SL_IPPROTO_UDP || p.payload_len < 24)
		return 0;
	const uint8_t *pl = f + p.payload_off;
	if (pl[4] == SL_WIRE_STREAM_SESSION &&
	    pl[3] == (g->o.sluice ? SL_WIRE_T_PONG : SL_WIRE_T_PING))
		return 2;
	if (sl_wire_decode_frame(pl, p.payload_len, h, msg) != SL_WIRE_OK ||
	    h->stream != SL_WIRE_STREAM_SESSION)
		return 0;
	if (h->type == SL_WIRE_T_PING && g->peer_sid) {
		uint32_t n = slg_sess_frame(g, out, SL_WIRE_T_PONG, g->peer_sid, msg);
		if (n)
			slg_tx1(g, out, n);
		return 0;
	}
	return h->type == SL_WIRE_T_HELLO_ACK || h->type == SL_WIRE_T_REJECT;
}

/* slg_poll reads one burst; counts PONGs into *pongs; returns 1 with *h,
 *msg when a HELLO_ACK / REJECT came. */
static int slg_poll(slg_t *g, uint64_t *pongs, sl_wire_hdr_t *h, sl_wire_msg_t *msg)
{
	struct rte_mbuf *rx[SLG_BURST];
	uint16_t n = rte_eth_rx_burst(g->port, 0, rx, SLG_BURST);
	int got = 0;
	for (uint16_t i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(rx[i], const uint8_t *);
		uint32_t len = rte_pktmbuf_data_len(rx[i]);
		/* the counted case first, without a full parse */
		if (len >= SLG_PL_OFF + 24 && f[12] == 0x08 && f[13] == 0x00 &&
		    f[23] == SL_IPPROTO_UDP && f[SLG_PL_OFF + 4] == SL_WIRE_STREAM_SESSION &&
		    f[SLG_PL_OFF + 3] == (g->o.sluice ? SL_WIRE_T_PONG : SL_WIRE_T_PING)) {
			(*pongs)++;
			continue;
		}
		if (slg_input(g, f, len, h, msg) == 1)
			got = 1;
	}
	rte_pktmbuf_free_bulk(rx, n);
	return got;
}

/* slg_connect: ARP for the node, then HELLO until HELLO_ACK (10 s). */
static int slg_connect(slg_t *g)
{
	uint8_t out[SLG_FRAME_MAX];
	sl_wire_hdr_t h;
	sl_wire_msg_t msg;
	uint64_t dummy = 0, next = 0, end = slg_ns() + 10000000000ull;
	const sl_chain_profile_t *prof = sl_chain_profile("regtest");
	sl_wire_msg_t hello = {.hello = {.proto_min = 1,
	                                 .proto_max = 1,
	                                 .streams_offered = 1,
	                                 .nonce = slg_ns(),
	                                 .reply_session = SLG_OUR_SID}};
	sl_sha256d(prof->genesis, SL_CHAIN_HDR_LEN, hello.hello.chain_id);
	memcpy(hello.hello.best_hash, hello.hello.chain_id, 32);
	for (int i = 0; i < 32; i++)
		hello.hello.node_id[i] =
		    (uint8_t)(hello.hello.nonce >> (i % 8) ^ (uint64_t)(i * 37));
	while (slg_ns() < end) {
		uint64_t now = slg_ns();
		if (now >= next) {
			uint32_t n;
			if (!g->have_mac)
				n = sl_net_build_arp_request(out, sizeof out, &g->mac, g->o.src_ip,
				                             g->o.dst_ip, SL_NET_VLAN_NONE);
			else
				n = slg_sess_frame(g, out, SL_WIRE_T_HELLO, 0, &hello);
			if (n)
				slg_tx1(g, out, n);
			next = now + 200000000ull;
		}
		if (slg_poll(g, &dummy, &h, &msg) && h.session == SLG_OUR_SID) {
			if (h.type == SL_WIRE_T_REJECT) {
				fprintf(stderr, "slgen: REJECT reason %u\n", msg.reject.reason);
				return -1;
			}
			g->peer_sid = msg.hello_ack.reply_session;
			fprintf(stderr, "slgen: session up, node's id %" PRIu32 "\n", g->peer_sid);
			return 0;
		}
	}
	fprintf(stderr, "slgen: no HELLO_ACK in 10 s\n");
	return -1;
}

static void slg_ping_template(slg_t *g)
{
	sl_wire_msg_t m = {.ping = {.sender_time_ns = 1}};
	uint32_t seq = g->seq;
	g->ping_len = slg_sess_frame(g, g->ping, SL_WIRE_T_PING, g->peer_sid, &m);
	g->seq = seq;
	g->ping[SL_ETH_HDR_LEN + SL_IPV4_HDR_LEN + 6] = 0; /* UDP checksum: none */
	g->ping[SL_ETH_HDR_LEN + SL_IPV4_HDR_LEN + 7] = 0;
}

/* A window's frames with no answer for this long are written off as lost
   (the node dropped them).  Well above a vCPU's scheduling gap: at 5 ms a
   node descheduled for a moment saw the generator send a second window
   on top of the first, over its BACKOFF mark, and answered the "flood"
   with silent drops (the frame-path figure then fell by 2-6x). */
#define SLG_LOSS_NS 50000000ull

/* slg_room: how many frames may go now under -W (SLG_BURST when no
   window); frames unanswered for SLG_LOSS_NS are written off as lost. */
static uint32_t slg_room(const slg_t *g, uint64_t s, uint64_t r, uint64_t *lost, uint64_t now,
                         uint64_t last_reply)
{
	if (g->o.window == 0)
		return SLG_BURST;
	uint64_t out = s - r - *lost;
	if (out > 0 && now - last_reply > SLG_LOSS_NS) {
		*lost += out;
		out = 0;
	}
	return out >= g->o.window ? 0 : (uint32_t)SL_MIN(g->o.window - out, (uint64_t)SLG_BURST);
}

/* slg_run: bursts of up to 32 PINGs, as many as the port (or -W) takes,
   for warm-up + seconds; counts what was sent and what came back inside
   the window. */
static void slg_run(slg_t *g, uint64_t *sent, uint64_t *replies, double *secs)
{
	struct rte_mbuf *tx[SLG_BURST];
	sl_wire_hdr_t h;
	sl_wire_msg_t msg;
	uint64_t t0 = slg_ns(), w0 = t0 + (uint64_t)(g->o.warmup * 1e9);
	uint64_t w1 = w0 + (uint64_t)(g->o.seconds * 1e9), now = t0, ws = 0, wr = 0;
	uint64_t s = 0, r = 0, last = t0, lost = 0, last_reply = t0;
	int in = 0;
	while (now < w1) {
		uint32_t room = slg_room(g, s, r, &lost, now, last_reply);
		if (room > 0 && rte_pktmbuf_alloc_bulk(g->mp, tx, room) == 0) {
			for (uint32_t i = 0; i < room; i++) {
				uint8_t *d =
				    (uint8_t *)rte_pktmbuf_append(tx[i], (uint16_t)g->ping_len);
				memcpy(d, g->ping, g->ping_len);
				uint32_t q = g->seq + (uint32_t)i;
				d[SLG_PL_OFF + 12] = (uint8_t)(q >> 24);
				d[SLG_PL_OFF + 13] = (uint8_t)(q >> 16);
				d[SLG_PL_OFF + 14] = (uint8_t)(q >> 8);
				d[SLG_PL_OFF + 15] = (uint8_t)q;
			}
			uint16_t k = rte_eth_tx_burst(g->port, 0, tx, (uint16_t)room);
			g->seq += k;
			s += k;
			if (k < room)
				rte_pktmbuf_free_bulk(tx + k, room - k);
		}
		uint64_t r0 = r;
		slg_poll(g, &r, &h, &msg);
		now = slg_ns();
		if (r != r0)
			last_reply = now;
		if (!in && now >= w0) {
			in = 1, ws = s, wr = r;
		}
		if (now - last >= 1000000000ull) {
			fprintf(stderr, "slgen: %.1f s sent %" PRIu64 " replies %" PRIu64 "\n",
			        (now - t0) / 1e9, s, r);
			last = now;
		}
	}
	if (lost > 0)
		fprintf(stderr, "slgen: %" PRIu64 " frames written off as lost\n", lost);
	*sent = s - ws;
	*replies = r - wr;
	*secs = (now - w0) / 1e9;
}

int main(int argc, char **argv)
{
	slg_t g = {.seq = 1};
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "slgen: rte_eal_init failed\n");
		return 1;
	}
	if (slg_args(&g.o, argc - n, argv + n) != 0)
		return slg_usage();
	if (slg_port_up(&g) != 0)
		return 1;
	if (g.o.sluice) {
		if (slg_connect(&g) != 0)
			return 1;
	} else {
		g.peer_sid = 1;
		for (int i = 0; i < 6; i++)
			g.peer_mac.b[i] = (uint8_t)(i == 0 ? 0x02 : i);
	}
	slg_ping_template(&g);
	uint64_t sent, replies;
	double secs;
	slg_run(&g, &sent, &replies, &secs);
	if (g.o.sluice) {
		uint8_t out[SLG_FRAME_MAX];
		sl_wire_msg_t bye = {.goodbye = {.reason = 1}};
		uint32_t len = slg_sess_frame(&g, out, SL_WIRE_T_GOODBYE, g.peer_sid, &bye);
		rte_delay_ms(100);
		if (len)
			slg_tx1(&g, out, len);
		rte_delay_ms(100);
	}
	printf("slgen mode=%s sent=%" PRIu64 " replies=%" PRIu64 " seconds=%.3f pps=%.0f\n",
	       g.o.sluice ? "sluice" : "reflect", sent, replies, secs, replies / secs);
	rte_eth_dev_stop(g.port);
	rte_eth_dev_close(g.port);
	rte_eal_cleanup();
	return 0;
}
