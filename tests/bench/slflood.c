/* slflood.c — a C PING sender for the sessions benchmark
   (tests/bench/sessions.sh).  Owned by the bench; no DPDK, plain sockets.

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
   Exit 0 on a run, 2 on bad usage, 1 when a socket could not be set up. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sl_base.h"

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
	        "[-B BIND_IP] [-n]\n",
	        SLF_BATCH_MAX);
	return 2;
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
	while ((c = getopt(argc, argv, "f:d:s:b:B:n")) != -1) {
		switch (c) {
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
	if (!o->file || !have_dst || !(o->seconds > 0) || o->batch < 1 || o->batch > SLF_BATCH_MAX)
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

int main(int argc, char **argv)
{
	static slf_sess_t sess[SLF_MAX_SESS];
	slf_opts_t o;
	if (slf_opts(argc, argv, &o) != 0)
		return slf_usage();
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
