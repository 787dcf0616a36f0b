/* slflood.c — a C flood for the benchmarks and the handshake-flood
   scenario.  Owned by tests/bench; no DPDK.  Two modes.

   PING mode (tests/bench/sessions.sh), plain sockets:

   The handshakes are done elsewhere (slpeer, from Python); this program
   only offers load on sessions that are already open.  It reads a session
   file, one session a line:
       <local udp port> <session id to put in frames> <next seq of stream 0>
   binds one UDP socket per session to that same source port (the node
   checks the source ip:port of a session, nothing else), connects it to the
   node, and sends well-formed PING frames (SPEC §2/§4: stream 0, type 4,
   payload u64 sender_time_ns) round-robin over the sessions, `batch`
   frames with consecutive seqs per session per sendmmsg(2) call, for the
   given time.  PONGs and the node's own PINGs are not read: run the node
   with a keepalive long enough that a bench run stays inside its liveness
   window.  At the end (unless -n) it waits 0.5 s and sends every session a
   GOODBYE(SHUTDOWN) with the next seq, so the node is empty again.

   Per second it prints the frames offered to stderr; the last line on
   stdout is one JSON object:
       {"sessions": N, "frames_sent": X, "send_fail": F, "seconds": T,
        "offered_fps": X/T}
   Usage: slflood -f FILE -d A.B.C.D[:PORT] [-s SECONDS] [-b BATCH]
                  [-B BIND_IP] [-n]

   HELLO mode (-H N; issue 12 item 2, tests/integration/hello_flood.sh,
   tests/bench/flood.sh): HELLOs from N forged source addresses (-S, the
   first; then the next N-1, skipping .0 and .255), source port 40000 +
   i % 20000, written whole (Ethernet, IPv4, UDP with checksum 0) to a
   packet socket on interface -i towards MAC -m, batches of 32 per
   sendmmsg, as fast as the socket takes them or at -r frames/s.  Each
   HELLO is valid-looking (SPEC §4: proto 1..1, streams 0,1,5, chain id -c,
   best_hash = chain id) with a fresh node_id and nonce; -a picks its
   authentication: `none` (auth_mode 0), `bad` (auth_mode 1, random
   ephemeral key, a signature that does not verify), `mix` (none and bad
   in turn) or `good` (auth_mode 1
   signed per §8 by one of 256 identities made at start, each HELLO sent
   from every address in turn: a valid HELLO replayed from forged
   addresses).  It reads nothing back (the addresses are not its own).
   Per second it prints the HELLOs offered to stderr; the last line on
   stdout is one JSON object:
       {"addresses": N, "hellos_sent": X, "send_fail": F, "seconds": T,
        "offered_hps": X/T, "auth": "none"}
   Usage: slflood -H N -i DEV -m MAC -S A.B.C.D -d A.B.C.D[:PORT]
                  -c CHAIN_ID_HEX [-a none|bad|mix|good] [-r RATE] [-s SECONDS]

   Exit 0 on a run, 2 on bad usage, 1 when a socket could not be set up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_auth.h"
#include "sl_base.h"
#include "sl_wire.h"

#define SLF_HDR_LEN    24
#define SLF_PING_LEN   (SLF_HDR_LEN + 8)
#define SLF_BYE_LEN    (SLF_HDR_LEN + 2)
#define SLF_BATCH_MAX  64
#define SLF_MAX_SESS   65536
#define SLF_MAGIC      0x534Cu
#define SLF_T_PING     4
#define SLF_T_GOODBYE  6
#define SLF_BYE_REASON 1 /* SHUTDOWN */

typedef struct {
	int fd;
	uint16_t port;
	uint32_t sid;
	uint32_t seq; /* next seq of stream 0 */
} slf_sess_t;

typedef struct {
	const char *file;
	unsigned hello_addrs; /* -H: HELLO mode from this many addresses */
	const char *dev;
	uint8_t dmac[6];
	struct in_addr src0;
	uint8_t chain_id[32];
	int auth; /* 0 none, 1 bad, 2 good, 3 mix */
	double rate;
	struct sockaddr_in dst;
	struct in_addr bind_ip;
	double seconds;
	unsigned batch;
	int goodbye;
} slf_opts_t;

static uint64_t slf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void slf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void slf_put32(uint8_t *p, uint32_t v)
{
	slf_put16(p, (uint16_t)(v >> 16));
	slf_put16(p + 2, (uint16_t)v);
}

static void slf_put64(uint8_t *p, uint64_t v)
{
	slf_put32(p, (uint32_t)(v >> 32));
	slf_put32(p + 4, (uint32_t)v);
}

/* slf_hdr writes the §2 header: stream 0, flags 0, corr 0. */
static void slf_hdr(uint8_t *f, uint8_t type, uint16_t len, uint32_t sid, uint32_t seq)
{
	slf_put16(f, SLF_MAGIC);
	f[2] = 1; /* version */
	f[3] = type;
	f[4] = 0; /* stream: session */
	f[5] = 0; /* flags */
	slf_put16(f + 6, len);
	slf_put32(f + 8, sid);
	slf_put32(f + 12, seq);
	slf_put64(f + 16, 0);
}

static int slf_usage(void)
{
	fprintf(stderr,
	        "usage: slflood -f FILE -d A.B.C.D[:PORT] [-s SECONDS] [-b BATCH 1..%d] "
	        "[-B BIND_IP] [-n]\n"
	        "       slflood -H N -i DEV -m MAC -S A.B.C.D -d A.B.C.D[:PORT] -c CHAIN_ID_HEX\n"
	        "               [-a none|bad|mix|good] [-r RATE] [-s SECONDS]\n",
	        SLF_BATCH_MAX);
	return 2;
}

static int slf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -1;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

static int slf_parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* slf_parse_dst: "a.b.c.d[:port]" (port default 9747); -1 when invalid. */
static int slf_parse_dst(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	if (n == 0 || n >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	long port = colon ? strtol(colon + 1, NULL, 10) : 9747;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (port < 1 || port > 65535 || inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -1;
	return 0;
}

static int slf_opts(int argc, char **argv, slf_opts_t *o)
{
	int c, have_dst = 0;
	memset(o, 0, sizeof *o);
	o->seconds = 4.0;
	o->batch = 4;
	o->goodbye = 1;
	o->bind_ip.s_addr = htonl(INADDR_ANY);
	while ((c = getopt(argc, argv, "f:d:s:b:B:nH:i:m:S:c:a:r:")) != -1) {
		switch (c) {
		case 'H':
			o->hello_addrs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'i':
			o->dev = optarg;
			break;
		case 'm':
			if (slf_parse_mac(optarg, o->dmac) != 0)
				return -1;
			break;
		case 'S':
			if (inet_pton(AF_INET, optarg, &o->src0) != 1)
				return -1;
			break;
		case 'c':
			if (slf_parse_hex(optarg, o->chain_id, sizeof o->chain_id) != 0)
				return -1;
			break;
		case 'a':
			o->auth = !strcmp(optarg, "none")   ? 0
			          : !strcmp(optarg, "bad")  ? 1
			          : !strcmp(optarg, "good") ? 2
			          : !strcmp(optarg, "mix")  ? 3
			                                    : -1;
			if (o->auth < 0)
				return -1;
			break;
		case 'r':
			o->rate = strtod(optarg, NULL);
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'd':
			if (slf_parse_dst(optarg, &o->dst) != 0)
				return -1;
			have_dst = 1;
			break;
		case 's':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'b':
			o->batch = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'B':
			if (inet_pton(AF_INET, optarg, &o->bind_ip) != 1)
				return -1;
			break;
		case 'n':
			o->goodbye = 0;
			break;
		default:
			return -1;
		}
	}
	if (!have_dst || !(o->seconds > 0) || o->rate < 0)
		return -1;
	if (o->hello_addrs > 0)
		return o->dev != NULL && o->src0.s_addr != 0 && o->hello_addrs <= SLF_MAX_SESS ? 0
		                                                                               : -1;
	if (!o->file || o->batch < 1 || o->batch > SLF_BATCH_MAX)
		return -1;
	return 0;
}

/* slf_load reads the session file into s (at most max); count or -1. */
static int slf_load(const char *path, slf_sess_t *s, int max)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "slflood: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int n = 0;
	unsigned port;
	unsigned long sid, seq;
	while (n < max && fscanf(f, "%u %lu %lu", &port, &sid, &seq) == 3) {
		if (port < 1 || port > 65535 || sid == 0 || sid > UINT32_MAX || seq == 0 ||
		    seq > UINT32_MAX) {
			fprintf(stderr, "slflood: bad line %d in %s\n", n + 1, path);
			fclose(f);
			return -1;
		}
		s[n].fd = -1;
		s[n].port = (uint16_t)port;
		s[n].sid = (uint32_t)sid;
		s[n].seq = (uint32_t)seq;
		n++;
	}
	fclose(f);
	return n;
}

/* slf_open binds one UDP socket to the session's source port and connects
   it to the node; -1 (message printed) on failure. */
static int slf_open(slf_sess_t *s, const slf_opts_t *o)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(s->port), .sin_addr = o->bind_ip};
	int one = 1;
	s->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (s->fd < 0 || setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    connect(s->fd, (const struct sockaddr *)&o->dst, sizeof o->dst) != 0) {
		fprintf(stderr, "slflood: socket for port %u: %s\n", s->port, strerror(errno));
		return -1;
	}
	return 0;
}

static void slf_raise_nofile(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
		r.rlim_cur = r.rlim_max;
		setrlimit(RLIMIT_NOFILE, &r);
	}
}

/* The batch buffers: frame k of a sendmmsg call. */
static uint8_t slf_buf[SLF_BATCH_MAX][SLF_PING_LEN];
static struct iovec slf_iov[SLF_BATCH_MAX];
static struct mmsghdr slf_msg[SLF_BATCH_MAX];

static void slf_batch_init(unsigned batch)
{
	for (unsigned k = 0; k < batch; k++) {
		slf_iov[k].iov_base = slf_buf[k];
		slf_iov[k].iov_len = SLF_PING_LEN;
		memset(&slf_msg[k], 0, sizeof slf_msg[k]);
		slf_msg[k].msg_hdr.msg_iov = &slf_iov[k];
		slf_msg[k].msg_hdr.msg_iovlen = 1;
	}
}

/* slf_send_batch: `batch` PINGs on session s with consecutive seqs; frames
   the kernel took.  The seq moves past what was taken only, so the node
   sees no gap it would have to forgive. */
static unsigned slf_send_batch(slf_sess_t *s, unsigned batch, uint64_t now)
{
	for (unsigned k = 0; k < batch; k++) {
		slf_hdr(slf_buf[k], SLF_T_PING, 8, s->sid, s->seq + k);
		slf_put64(slf_buf[k] + SLF_HDR_LEN, now);
	}
	int r = sendmmsg(s->fd, slf_msg, batch, MSG_DONTWAIT);
	if (SL_UNLIKELY(r <= 0))
		return 0;
	s->seq += (uint32_t)r;
	return (unsigned)r;
}

static void slf_goodbye(slf_sess_t *s, int n)
{
	uint8_t f[SLF_BYE_LEN];
	for (int i = 0; i < n; i++) {
		slf_hdr(f, SLF_T_GOODBYE, 2, s[i].sid, s[i].seq++);
		slf_put16(f + SLF_HDR_LEN, SLF_BYE_REASON);
		if (send(s[i].fd, f, sizeof f, 0) != (ssize_t)sizeof f)
			fprintf(stderr, "slflood: GOODBYE on port %u: %s\n", s[i].port,
			        strerror(errno));
	}
}

/* slf_run floods for o->seconds; fills sent / fails / elapsed. */
static void slf_run(slf_sess_t *s, int n, const slf_opts_t *o, uint64_t *sent, uint64_t *fails,
                    double *el)
{
	uint64_t t0 = slf_now_ns(), end = t0 + (uint64_t)(o->seconds * 1e9);
	uint64_t next_report = t0 + 1000000000ull, last_sent = 0, now = t0;
	unsigned sec = 0;
	slf_batch_init(o->batch);
	*sent = *fails = 0;
	while (now < end) {
		for (int i = 0; i < n; i++) {
			unsigned got = slf_send_batch(&s[i], o->batch, now);
			*sent += got;
			*fails += o->batch - got;
		}
		now = slf_now_ns();
		if (now >= next_report) {
			fprintf(stderr, "slflood: t=%u offered_fps=%llu\n", ++sec,
			        (unsigned long long)(*sent - last_sent));
			last_sent = *sent;
			next_report += 1000000000ull;
		}
	}
	*el = (double)(now - t0) / 1e9;
}

/* ---- HELLO mode ---------------------------------------------------------- */

#define SLF_ETH_LEN   14
#define SLF_IP_LEN    20
#define SLF_UDP_LEN   8
#define SLF_L2_LEN    (SLF_ETH_LEN + SLF_IP_LEN + SLF_UDP_LEN)
#define SLF_HELLO_MAX (SLF_L2_LEN + SL_WIRE_HDR_LEN + SL_WIRE_HELLO_LEN + SL_WIRE_AUTH_LEN)
#define SLF_HBATCH    32
#define SLF_IDENTS    256

typedef struct {
	int fd;
	uint8_t smac[6];
	uint32_t src[SLF_MAX_SESS]; /* host order */
	unsigned n_src;
	uint8_t id_pk[SLF_IDENTS][SL_AUTH_PK_LEN];   /* -a good: identity i's node_id */
	uint8_t id_sig[SLF_IDENTS][SL_AUTH_SIG_LEN]; /*   and its HELLO's signature */
	uint64_t rng;
	uint64_t nonce;
} slf_hello_t;

static uint64_t slf_rand(slf_hello_t *h)
{
	h->rng ^= h->rng << 13;
	h->rng ^= h->rng >> 7;
	h->rng ^= h->rng << 17;
	return h->rng;
}

static void slf_fill(slf_hello_t *h, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t r = slf_rand(h);
		memcpy(p + i, &r, SL_MIN(n - i, sizeof r));
	}
}

static uint16_t slf_ip_csum(const uint8_t *p)
{
	uint32_t sum = 0;
	for (int i = 0; i < SLF_IP_LEN; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* slf_hello_open: the packet socket on o->dev and the source addresses. */
static int slf_hello_open(slf_hello_t *h, const slf_opts_t *o)
{
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", o->dev);
	h->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (h->fd < 0 || ioctl(h->fd, SIOCGIFINDEX, &ifr) != 0) {
		fprintf(stderr, "slflood: packet socket on %s: %s\n", o->dev, strerror(errno));
		return -1;
	}
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex};
	if (bind(h->fd, (struct sockaddr *)&ll, sizeof ll) != 0 ||
	    ioctl(h->fd, SIOCGIFHWADDR, &ifr) != 0) {
		fprintf(stderr, "slflood: bind to %s: %s\n", o->dev, strerror(errno));
		return -1;
	}
	memcpy(h->smac, ifr.ifr_hwaddr.sa_data, 6);
	uint32_t a = ntohl(o->src0.s_addr);
	for (h->n_src = 0; h->n_src < o->hello_addrs; a++)
		if ((a & 255) != 0 && (a & 255) != 255)
			h->src[h->n_src++] = a;
	sl_auth_random(&h->rng, sizeof h->rng);
	h->rng |= 1;
	h->nonce = slf_rand(h);
	return 0;
}

/* slf_hello_frame writes HELLO number k (from source k % n_src) whole into
   f; its length. */
static size_t slf_hello_frame(slf_hello_t *h, const slf_opts_t *o, uint64_t k, uint8_t *f)
{
	sl_wire_hello_t m = {.proto_min = 1, .proto_max = 1, .streams_offered = 0x23};
	int auth = o->auth;
	memcpy(m.chain_id, o->chain_id, 32);
	memcpy(m.best_hash, o->chain_id, 32);
	m.reply_session = (uint32_t)slf_rand(h) | 1;
	if (o->auth == 2) {
		/* identity k / n_src % 256, its nonce fixed: the same signed HELLO
		   from every address in turn */
		uint64_t i = (k / h->n_src) % SLF_IDENTS;
		m.nonce = h->nonce + i;
		memcpy(m.node_id, h->id_pk[i], 32);
		memset(m.eph_pubkey, 0x42, sizeof m.eph_pubkey);
		memcpy(m.sig, h->id_sig[i], sizeof m.sig);
	} else {
		auth = o->auth == 3 ? (int)(k & 1) : o->auth;
		m.nonce = h->nonce + k;
		slf_fill(h, m.node_id, sizeof m.node_id);
		if (auth == 1) {
			slf_fill(h, m.eph_pubkey, sizeof m.eph_pubkey);
			slf_fill(h, m.sig, sizeof m.sig); /* verifies with odds 2^-128 */
		}
	}
	m.auth_mode = auth ? SL_WIRE_AUTH_X25519_CHACHA20POLY1305 : SL_WIRE_AUTH_NONE;
	m.has_auth = auth != 0;
	uint8_t *sl = f + SLF_L2_LEN;
	size_t pl =
	    sl_wire_encode_hello(sl + SL_WIRE_HDR_LEN, SL_WIRE_HELLO_LEN + SL_WIRE_AUTH_LEN, &m);
	sl_wire_hdr_t hd = {.type = SL_WIRE_T_HELLO, .length = (uint16_t)pl};
	sl_wire_encode_hdr(sl, SL_WIRE_HDR_LEN, &hd);
	uint32_t src = h->src[k % h->n_src];
	uint16_t udp_len = (uint16_t)(SLF_UDP_LEN + SL_WIRE_HDR_LEN + pl);
	memcpy(f, o->dmac, 6);
	memcpy(f + 6, h->smac, 6);
	slf_put16(f + 12, ETHERTYPE_IP);
	uint8_t *ip = f + SLF_ETH_LEN;
	memset(ip, 0, SLF_IP_LEN);
	ip[0] = 0x45;
	slf_put16(ip + 2, (uint16_t)(SLF_IP_LEN + udp_len));
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	slf_put32(ip + 12, src);
	memcpy(ip + 16, &o->dst.sin_addr.s_addr, 4);
	slf_put16(ip + 10, slf_ip_csum(ip));
	uint8_t *udp = ip + SLF_IP_LEN;
	slf_put16(udp, (uint16_t)(40000 + (k % h->n_src) % 20000));
	slf_put16(udp + 2, ntohs(o->dst.sin_port));
	slf_put16(udp + 4, udp_len);
	slf_put16(udp + 6, 0); /* no checksum (IPv4 allows it) */
	return SLF_L2_LEN + SL_WIRE_HDR_LEN + pl;
}

/* slf_hello_idents makes the 256 identities of -a good and signs each
   one's HELLO (ephemeral key 0x42.., nonce h->nonce + i) once. */
static void slf_hello_idents(slf_hello_t *h, const slf_opts_t *o)
{
	uint8_t eph[SL_AUTH_PK_LEN];
	memset(eph, 0x42, sizeof eph);
	for (int i = 0; i < SLF_IDENTS; i++) {
		uint8_t seed[SL_AUTH_SEED_LEN];
		sl_auth_id_t id;
		sl_auth_random(seed, sizeof seed);
		sl_auth_id_from_seed(&id, seed);
		memcpy(h->id_pk[i], id.pk, sizeof h->id_pk[i]);
		sl_auth_hello_sign(&id, o->chain_id, eph, h->nonce + (uint64_t)i, h->id_sig[i]);
		sl_auth_wipe(&id, sizeof id);
	}
}

/* slf_hello_run floods HELLOs for o->seconds (paced to o->rate when set). */
static int slf_hello_run(const slf_opts_t *o)
{
	static slf_hello_t h;
	static uint8_t buf[SLF_HBATCH][SLF_HELLO_MAX];
	static struct iovec iov[SLF_HBATCH];
	static struct mmsghdr msg[SLF_HBATCH];
	if (sl_auth_init() != 0 || slf_hello_open(&h, o) != 0)
		return 1;
	if (o->auth == 2)
		slf_hello_idents(&h, o);
	uint64_t t0 = slf_now_ns(), end = t0 + (uint64_t)(o->seconds * 1e9), now = t0;
	uint64_t next_report = t0 + 1000000000ull, sent = 0, fails = 0, last = 0, k = 0;
	unsigned sec = 0;
	while (now < end) {
		if (o->rate > 0) { /* sleep until this batch is due: no busy wait */
			uint64_t due = t0 + (uint64_t)((double)sent / o->rate * 1e9);
			if (due > now) {
				struct timespec ts = {.tv_sec = (time_t)(due / 1000000000ull),
				                      .tv_nsec = (long)(due % 1000000000ull)};
				clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
				now = slf_now_ns();
			}
		}
		for (unsigned i = 0; i < SLF_HBATCH; i++) {
			iov[i].iov_base = buf[i];
			iov[i].iov_len = slf_hello_frame(&h, o, k + i, buf[i]);
			memset(&msg[i], 0, sizeof msg[i]);
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(h.fd, msg, SLF_HBATCH, 0);
		unsigned got = r > 0 ? (unsigned)r : 0;
		sent += got;
		fails += SLF_HBATCH - got;
		k += got;
		now = slf_now_ns();
		if (now >= next_report) {
			fprintf(stderr, "slflood: t=%u offered_hps=%llu\n", ++sec,
			        (unsigned long long)(sent - last));
			last = sent;
			next_report += 1000000000ull;
		}
	}
	double el = (double)(now - t0) / 1e9;
	static const char *const auth_names[] = {"none", "bad", "good", "mix"};
	printf("{\"addresses\": %u, \"hellos_sent\": %llu, \"send_fail\": %llu, "
	       "\"seconds\": %.3f, \"offered_hps\": %llu, \"auth\": \"%s\"}\n",
	       h.n_src, (unsigned long long)sent, (unsigned long long)fails, el,
	       (unsigned long long)(el > 0 ? (double)sent / el : 0), auth_names[o->auth]);
	close(h.fd);
	return 0;
}

int main(int argc, char **argv)
{
	static slf_sess_t sess[SLF_MAX_SESS];
	slf_opts_t o;
	if (slf_opts(argc, argv, &o) != 0)
		return slf_usage();
	if (o.hello_addrs > 0)
		return slf_hello_run(&o);
	slf_raise_nofile();
	int n = slf_load(o.file, sess, SLF_MAX_SESS);
	if (n <= 0) {
		fprintf(stderr, "slflood: no session in %s\n", o.file);
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (slf_open(&sess[i], &o) != 0)
			return 1;
	uint64_t sent, fails;
	double el;
	slf_run(sess, n, &o, &sent, &fails, &el);
	if (o.goodbye) {
		usleep(500000); /* let the node drain its queue first */
		slf_goodbye(sess, n);
	}
	printf("{\"sessions\": %d, \"frames_sent\": %llu, \"send_fail\": %llu, \"seconds\": %.3f, "
	       "\"offered_fps\": %llu}\n",
	       n, (unsigned long long)sent, (unsigned long long)fails, el,
	       (unsigned long long)(el > 0 ? (double)sent / el : 0));
	for (int i = 0; i < n; i++)
		close(sess[i].fd);
	return 0;
}
