/* sl_cfg.h — the run-time INI file (SPEC.md §12), read by both sluice-dp
   and sluice-ctrl.  Parsed with DPDK's rte_cfgfile (no EAL needed), then
   checked against one schema for every section either process knows, so an
   unknown section or key, or a bad value, is an error naming FILE:LINE in
   whichever process reads it — before any device is touched.  The result is
   a plain struct, owned by the caller; nothing is allocated after load. */
#ifndef SL_CFG_H
#define SL_CFG_H

#include "sl_base.h"

#define SL_CFG_MAX_BOOTSTRAP 16
#define SL_CFG_STR           256
#define SL_CFG_ALLOW_MAX     256 /* node ids in [admission] allowlist */

/* [admission] auth (SPEC §8): off sends and accepts only auth_mode 0;
   optional sends auth_mode 1 and accepts 0 or 1; required sends and
   accepts only 1. */
typedef enum {
	SL_CFG_AUTH_OFF = 0,
	SL_CFG_AUTH_OPTIONAL = 1,
	SL_CFG_AUTH_REQUIRED = 2
} sl_cfg_auth_t;

/* A group resolved when the file is read ([ctrl] group). */
typedef struct {
	uint32_t gid;
	char name[32];
} sl_cfg_group_t;

typedef struct {
	uint32_t ipv4; /* host order */
	uint16_t port;
} sl_cfg_addr_t;

typedef struct {
	/* [instance] */
	char instance[32];           /* name = ...   default "sluice" */
	char region_dir[SL_CFG_STR]; /* region_dir = ... default "/dev/shm" */
	char key[SL_CFG_STR];        /* key = identity key file (sluice-ctrl), default
	                                <store>/node.key, created 0600 when absent */

	/* [eal] */
	char eal_args[1024]; /* args = ... (split on whitespace by sluice-dp) */

	/* [dataplane] */
	char port[SL_CFG_STR]; /* port = vdev devargs or PCI address (required for dp) */
	uint32_t ipv4;         /* ip = a.b.c.d/len (host order) */
	uint8_t prefix_len;
	uint32_t gateway;       /* gateway = a.b.c.d, 0 if none */
	uint16_t udp_port;      /* udp_port = ... default 9747 */
	uint32_t idle_sleep_us; /* idle_sleep_us = ... default 0 (busy poll); once idle this long */
	uint32_t keepalive_ms;  /* keepalive_ms = 10..60000, default 1000: PING interval */
	uint32_t hello_rate;    /* hello_rate = 1..100000 HELLOs/s per source, default 10 */
	uint32_t hello_burst;   /* hello_burst = 1..100000, default 20 */
	uint32_t hello_total;   /* hello_total = 4..1000000 HELLOs/s one lcore passes to
	                           ctrl from all sources, default 2000 (a quarter kept
	                           for sources that were quiet) */
	uint32_t settle_ms;     /* settle_ms = 100..600000, default 5000: discovery settle */
	uint32_t lcores;        /* workers = ... default: every EAL worker, or 1 */
#if SL_TEST_HOOKS
	/* Test hooks (CONFIG_SL_TEST_HOOKS; in a build without it these keys
	   are config errors).  fault_inject_ping = <u64>, default 0 (off): a
	   PING whose sender_time_ns equals it makes the session-stream
	   routine corrupt its own peer state, so the routine-invariant check
	   (CONFIG_SL_INVARIANTS) faults the session (SL_EXIT_FAULT). */
	uint64_t fault_inject_ping;
	/* fault_bad_pow = <n>, default 0 (off): every n-th GET_HEADERS this
	   node answers carries one header whose bits were raised out of reach
	   (invalid proof of work). */
	uint32_t fault_bad_pow;
	/* fault_tick_ms = <n>, default 0 (off: every 1 ms): the deadline /
	   liveness scans of the poll cycle run only every n ms, so an answer
	   can arrive after its request's deadline before the deadline phase
	   has looked (the answer path must expire it itself). */
	uint32_t fault_tick_ms;
	/* fault_slow_us = <n>, default 0 (off): the poll loop sleeps n us at
	   the end of every cycle, busy or not (an lcore slower than its
	   traffic: the RX queue fills and backpressure acts). */
	uint32_t fault_slow_us;
	/* fault_seq_start = <n>, default 0 (off): every session's frames start
	   at seq n instead of 1, so a test reaches the seq close mark
	   (SL_SESSION_SEQ_CLOSE) in a few thousand frames. */
	uint32_t fault_seq_start;
#endif

	/* [ctrl] */
	char socket[SL_CFG_STR]; /* socket = ... default /run/sluice/<instance>.sock */
	char store[SL_CFG_STR];  /* store = ... default /var/lib/sluice/<instance> */
	sl_cfg_group_t group;    /* group = name | gid: who may use the socket, default root */
	sl_cfg_addr_t metrics;   /* metrics = [a.b.c.d:]port: Prometheus /metrics (sl_metrics.h);
	                            ipv4 defaults to 127.0.0.1; port 0: unset, off */

	/* [chain] */
	char profile[32]; /* profile = bitcoin-main | bitcoin-test3 | regtest */

	/* [admission] */
	uint32_t max_peers;    /* max_peers = ... default 256 (proven peers) */
	uint32_t max_unproven; /* max_unproven = 1..65535 inbound unproven, default 256 */
	uint32_t per_addr;     /* per_addr = 1..65535 sessions from one IPv4, default 8 */
	uint32_t per_lcore;    /* per_lcore = 1..SL_SESSIONS_PER_LCORE, default all */
	char auth_word[16];    /* auth = off|optional|required, default off */
	sl_cfg_auth_t auth;    /*   the same as a value */
	uint32_t n_allow;      /* allowlist = <node_id hex>,... or /path/file (one per line):
	                          only these node ids are admitted (needs auth = required) */
	uint8_t allow[SL_CFG_ALLOW_MAX][32];
	uint32_t ban_score;   /* ban_score = 0..1000000 misbehaviour score that bans an
	                         address (sl_score.h weights), default 100; 0: never */
	uint32_t ban_seconds; /* ban_seconds = 0..315360000 such a ban lasts, default
	                         86400; 0: until peer.unban */

	/* [peers] */
	uint32_t n_bootstrap;
	sl_cfg_addr_t bootstrap[SL_CFG_MAX_BOOTSTRAP];
	uint32_t outbound;           /* outbound = 0..1024 sessions ctrl dials, default 8 */
	uint32_t connect_timeout_ms; /* connect_timeout_ms = 100..600000, default 10000 */
	uint32_t redial_s;           /* redial_s = 1..86400 reconnect backoff, default 30 */

	/* [log] */
	char log_level[16]; /* level = error|warn|info|debug, default info */
	char log_format[8]; /* format = text|json, default text */

	/* [sync] */
	uint32_t inflight;    /* inflight = 1..SL_INFLIGHT_MAX, default SL_INFLIGHT_DEFAULT:
	                         the ceiling of the adaptive request window (sl_flow.h) */
	uint32_t timeout_ms;  /* timeout_ms = 100..600000, default 30000: assignment timeout */
	uint32_t serve_rate;  /* serve_rate = 1..100000 GET_HEADERS/s served per peer,
	                         default SL_SERVE_RATE_DEFAULT */
	uint32_t serve_burst; /* serve_burst = 1..100000, default SL_SERVE_BURST_DEFAULT */
	uint32_t serve_total; /* serve_total = 1..1000000 GET_HEADERS/s one lcore serves to
	                         all peers, shared equally among those asking;
	                         default SL_SERVE_TOTAL_DEFAULT */
} sl_cfg_t;

/* sl_cfg_defaults fills every field with its default. */
void sl_cfg_defaults(sl_cfg_t *c);

/* sl_cfg_load reads `path` over the defaults.  Returns 0, or -1 with a
   message "FILE:LINE: what is wrong (and what is allowed)" in err (or
   "FILE: ..." when no line applies, e.g. the file cannot be read). */
int sl_cfg_load(sl_cfg_t *c, const char *path, char *err, size_t err_sz);

/* sl_cfg_parse_addr parses "a.b.c.d:port" (port optional -> def_port). */
int sl_cfg_parse_addr(const char *s, uint16_t def_port, sl_cfg_addr_t *out);

#endif /* SL_CFG_H */
