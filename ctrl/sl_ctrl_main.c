/* sl_ctrl_main.c — sluice-ctrl: the control-plane process (DESIGN.md "Control
   plane").  No EAL.  One thread, one ppoll(2) loop: the control socket's
   clients, the Prometheus endpoint's HTTP connections ([ctrl] metrics,
   sl_metrics.h: its epoll fd is one more pollfd), and a tick that keeps the
   dataplane link (attach, heartbeat, event drain): every 10 ms when idle
   (1 ms while no dataplane is attached or the attached one is not ready
   yet, so that it attaches and dials as soon as one is ready), every 250 us
   while events flowed within the last 100 ms or work awaits its events.
   Between idle ticks the loop looks at the event rings every 1 ms and
   ticks at once when a record waits: a HELLO to an idle node waited up to
   a whole tick for its admission (handshake 6-9 ms at start-up, now 3-5;
   the look costs an idle ctrl ~1 % of a core here).  Exits 0 on SIGTERM,
   SIGINT or the API `shutdown` (which also asks the dataplane to shut
   down), removing its socket file; 2 on a usage or configuration error; 1
   when it cannot start (socket in use, metrics address in use, ...). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sl_api.h"
#include "sl_apiwatch.h"
#include "sl_bell.h"
#include "sl_ctrl.h"
#include "sl_chain.h"
#include "sl_cfg.h"
#include "sl_ident.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_sha256d.h"
#include "sl_status.h"
#include "sl_time.h"

#define SL_CTRL_TICK_NS      (10ULL * SL_NS_PER_MS) /* idle */
#define SL_CTRL_TICK_WAIT_NS (1ULL * SL_NS_PER_MS)  /* no dataplane attached yet */
#define SL_CTRL_TICK_BUSY_NS (250ULL * 1000ULL)     /* events or work in flight */
#define SL_CTRL_PEEK_NS      (1ULL * SL_NS_PER_MS)  /* idle: a look at the event rings */
#define SL_CTRL_BUSY_HOLD_NS (100ULL * SL_NS_PER_MS)
#define SL_CTRL_FLUSH_NS     (1000ULL * SL_NS_PER_MS) /* replies get this long at exit */
#define SL_CTRL_EXIT_USAGE   2
#define SL_CTRL_EXIT_START   1

static volatile sig_atomic_t sl_ctrl_signal;

static void ctrl_on_signal(int sig)
{
	sl_ctrl_signal = sig;
}

static void ctrl_on_event(void *ctx, const sl_msg_t *m, uint64_t now_ns)
{
	sl_ctrl_t *c = ctx;
	sl_peermgr_event(&c->pm, m, now_ns);
	sl_sync_event(&c->sync, m, now_ns);
	sl_peerio_event(&c->pio, m, now_ns);
}

/* The node parked a session's header-sync service: the reactor forgets it. */
static void ctrl_on_hs_park(void *ctx, uint32_t sid)
{
	sl_ctrl_t *c = ctx;
	sl_sync_session_down(&c->sync, sid);
}

/* Attach: the node first, then the local status from the store.  Detach: stop publishing before
   the region is unmapped. */
static void ctrl_on_attach(void *ctx, sl_region_t *r, bool attached, uint64_t now_ns)
{
	sl_ctrl_t *c = ctx;
	if (attached) {
		sl_peermgr_attach(&c->pm, r, now_ns);
		sl_chainstore_attach_status(
		    c->chain, sl_status_join(sl_region_obj(r, SL_REGION_OBJ_STATUS, 0)));
		sl_sync_attach(&c->sync, r);
	} else {
		sl_sync_detach(&c->sync);
		sl_chainstore_attach_status(c->chain, NULL);
		sl_peermgr_detach(&c->pm);
	}
}

static void ctrl_usage(FILE *f)
{
	fprintf(f, "usage: sluice-ctrl -c FILE [-v|-q] [-h] [-V]\n"
	           "\n"
	           "The sluice control-plane process.  Serves the JSON-lines control API\n"
	           "(SPEC.md section 9) on the [ctrl] socket of FILE and attaches to the\n"
	           "dataplane (sluice-dp) of the same [instance] through its shared control\n"
	           "region in [instance] region_dir; it waits for a dataplane that is not\n"
	           "running yet and re-attaches when one restarts.\n"
	           "\n"
	           "options:\n"
	           "  -c, --config FILE  the INI file shared with sluice-dp (required)\n"
	           "  -v, --verbose      log debug lines too\n"
	           "  -q, --quiet        log warnings and errors only\n"
	           "  -V, --version      print the version and exit\n"
	           "  -h, --help         print this help and exit\n"
	           "\n"
	           "With [ctrl] metrics = [a.b.c.d:]port it also serves Prometheus\n"
	           "GET /metrics over HTTP there (127.0.0.1 unless an address is given).\n"
	           "\n"
	           "exit status: 0 after SIGTERM/SIGINT or the API 'shutdown' (socket file\n"
	           "removed; SIGTERM leaves the dataplane running), 1 when it cannot start\n"
	           "(e.g. another sluice-ctrl answers on the socket, or the metrics\n"
	           "address is taken), 2 on a usage or\n"
	           "configuration error (the message names FILE:LINE).\n");
}

/* Parse argv; returns -1 to continue, or an exit status. */
static int ctrl_args(int argc, char **argv, const char **cfg, int *verbosity)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},        {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "c:vqVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			*cfg = optarg;
			break;
		case 'v':
			*verbosity = 1;
			break;
		case 'q':
			*verbosity = -1;
			break;
		case 'V':
			printf("sluice-ctrl %s (%s)\n", SL_VERSION, SL_BUILD);
			return 0;
		case 'h':
			ctrl_usage(stdout);
			return 0;
		default:
			ctrl_usage(stderr);
			return SL_CTRL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-ctrl: unexpected argument '%s'\n", argv[optind]);
		ctrl_usage(stderr);
		return SL_CTRL_EXIT_USAGE;
	}
	if (*cfg == NULL) {
		fprintf(stderr, "sluice-ctrl: -c FILE is required\n");
		ctrl_usage(stderr);
		return SL_CTRL_EXIT_USAGE;
	}
	return -1;
}

/* The signal mask ppoll waits with: today's, SIGUSR1 (the dataplane's
   doorbell, sl_bell.h) unblocked.  Set by ctrl_signals. */
static sigset_t ctrl_wait_mask;

static void ctrl_signals(void)
{
	if (sl_bell_ctrl_setup(&ctrl_wait_mask) != 0) {
		SL_WARN("doorbell: %s (events wait for ctrl's periodic look)", strerror(errno));
		sigprocmask(SIG_BLOCK, NULL, &ctrl_wait_mask);
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ctrl_on_signal; /* no SA_RESTART: ppoll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ctrl_mkdirs makes the parents of the store directory (the store makes
   the directory itself). */
static int ctrl_mkdirs(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return -1;
	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return 0;
}

/* ctrl_open_chain opens the header store at [ctrl] store for [chain]
   profile; a store that cannot be opened is a start-up error naming the
   path and the fix. */
static int ctrl_open_chain(sl_ctrl_t *c)
{
	const char *dir = c->cfg.store;
	sl_chainstore_err_t e = SL_CHAINSTORE_ERR_STORE;
	if (ctrl_mkdirs(dir) != 0) {
		fprintf(stderr,
		        "sluice-ctrl: cannot create the parents of the header store %s: %s\n"
		        "  fix: create it (writable by this user) or set [ctrl] store in %s\n",
		        dir, strerror(errno), c->cfg_path);
		return -1;
	}
	sl_chainstore_opts_t o = {.dir = dir, .profile = c->cfg.profile};
	c->chain = sl_chainstore_open(&o, &e);
	if (c->chain != NULL)
		return 0;
	if (e == SL_CHAINSTORE_ERR_WRONG_CHAIN)
		fprintf(stderr,
		        "sluice-ctrl: the header store %s holds another chain than '%s'\n"
		        "  fix: set [ctrl] store in %s to a new directory, or [chain] profile to "
		        "the store's chain\n",
		        dir, c->cfg.profile, c->cfg_path);
	else
		fprintf(stderr,
		        "sluice-ctrl: cannot open the header store %s (%s; see the log above)\n"
		        "  fix: make the directory writable by this user, or set [ctrl] store in "
		        "%s\n",
		        dir, sl_chainstore_err_str(e), c->cfg_path);
	return -1;
}

/* ctrl_identity loads (or makes, on first start) the node's identity key,
   [instance] key (SPEC §8): its public key is the node_id. */
static int ctrl_identity(sl_ctrl_t *c, sl_auth_id_t *id)
{
	char err[512], hex[65];
	bool created;
	if (sl_auth_init() != 0) {
		fprintf(stderr, "sluice-ctrl: libsodium cannot start (no entropy source?)\n");
		return -1;
	}
	if (ctrl_mkdirs(c->cfg.key) != 0) {
		fprintf(stderr,
		        "sluice-ctrl: cannot create the directory of the identity key %s: %s\n"
		        "  fix: create it (writable by this user) or set [instance] key in %s\n",
		        c->cfg.key, strerror(errno), c->cfg_path);
		return -1;
	}
	if (sl_ident_load(c->cfg.key, id, &created, err, sizeof err) != SL_IDENT_ERR_OK) {
		fprintf(stderr, "sluice-ctrl: %s\n", err);
		return -1;
	}
	sl_ident_hex(id->pk, hex);
	SL_INFO("identity: node_id=%s key=%s%s auth=%s", hex, c->cfg.key,
	        created ? " (created)" : "", c->cfg.auth_word);
	return 0;
}

/* ctrl_close_face closes what answers clients: the metrics endpoint and
   the control socket. */
static void ctrl_close_face(sl_ctrl_t *c)
{
	sl_metrics_close(c->metrics);
	c->metrics = NULL;
	sl_server_close(&c->srv);
}

/* Load the config and open everything; returns -1 on success or an exit
   status. */
static int ctrl_start(sl_ctrl_t *c, int verbosity)
{
	char err[512];
	sl_cfg_defaults(&c->cfg);
	if (sl_cfg_load(&c->cfg, c->cfg_path, err, sizeof err) != 0) {
		fprintf(stderr, "sluice-ctrl: %s\n", err);
		return SL_CTRL_EXIT_USAGE;
	}
	sl_log_level_t lvl = sl_log_level_of(c->cfg.log_level);
	if (verbosity != 0)
		lvl = verbosity > 0 ? SL_LOG_DEBUG : SL_LOG_WARN;
	sl_log_set_level(lvl);
	sl_log_set_format(sl_log_format_of(c->cfg.log_format));
	const sl_chain_profile_t *p = sl_chain_profile(c->cfg.profile);
	if (p == NULL) {
		fprintf(stderr, "sluice-ctrl: %s: unknown chain profile '%s'\n", c->cfg_path,
		        c->cfg.profile);
		return SL_CTRL_EXIT_USAGE;
	}
	uint8_t genesis[32];
	sl_sha256d_hdr(p->genesis, genesis);
	if (sl_dplink_init(&c->dp, c->cfg.region_dir, c->cfg.instance) != 0)
		return SL_CTRL_EXIT_USAGE;
	sl_auth_id_t id;
	if (ctrl_identity(c, &id) != 0)
		return SL_CTRL_EXIT_START;
	int rc = sl_peermgr_init(&c->pm, &c->cfg, genesis, &id);
	sl_auth_wipe(&id, sizeof id);
	if (rc != 0)
		return SL_CTRL_EXIT_USAGE;
	sl_dplink_set_hooks(&c->dp, ctrl_on_event, ctrl_on_attach, c);
	if (sl_server_open(&c->srv, c->cfg.socket, c->cfg.group.gid, c->cfg.group.name) != 0)
		return SL_CTRL_EXIT_START;
	if (c->cfg.metrics.port != 0) {
		c->metrics = sl_metrics_open(c, &c->cfg.metrics, c->cfg_path, err, sizeof err);
		if (c->metrics == NULL) {
			fprintf(stderr, "sluice-ctrl: %s\n", err);
			sl_server_close(&c->srv);
			return SL_CTRL_EXIT_START;
		}
	}
	/* after the socket: a second ctrl is refused there before it can touch
	   the store the first one writes */
	if (ctrl_open_chain(c) != 0) {
		ctrl_close_face(c);
		return SL_CTRL_EXIT_START;
	}
	sl_sync_init(&c->sync, c->chain, &c->pm);
	c->sync.timeout_ns = (uint64_t)c->cfg.timeout_ms * 1000000ull;
	c->pm.hs_park = ctrl_on_hs_park;
	c->pm.hs_park_ctx = c;
	if (sl_op_table_init(&c->ops, sl_now_ns()) != SL_OP_OK) {
		SL_ERR("out of memory for the op table");
		ctrl_close_face(c);
		return SL_CTRL_EXIT_START;
	}
	sl_op_set_end_hook(&c->ops, sl_api_op_ended, c);
	sl_opkind_init(&c->kinds, &c->ops, &c->pm, &c->sync, c->chain);
	sl_storeread_opts_t ro = {.dir = c->cfg.store};
	c->sr = sl_storeread_new(&ro);
	if (c->sr == NULL) {
		SL_ERR("cannot start the header store's read path on %s", c->cfg.store);
		ctrl_close_face(c);
		return SL_CTRL_EXIT_START;
	}
	sl_opkind_set_storeread(&c->kinds, c->sr);
	sl_sync_set_storeread(&c->sync, c->sr);
	sl_watch_init(&c->watch, c->sr);
	sl_apiwatch_init(c);
	sl_peerio_init(&c->pio, &c->pm, &c->sync);
	c->net_dom = (sl_opnet_dom_t){.pio = &c->pio, .sr = c->sr};
	sl_opnet_io_t io;
	sl_opnet_io_domain(&io, &c->net_dom);
	if (sl_opnet_init(&c->net, &c->ops, &io, sl_now_ns()) != 0) {
		SL_ERR("out of memory for the network ops' waiter table");
		sl_storeread_shutdown(c->sr);
		sl_storeread_delete(c->sr);
		ctrl_close_face(c);
		return SL_CTRL_EXIT_START;
	}
	sl_peerio_set_reply_hook(&c->pio, sl_opnet_reply, &c->net);
	c->start_ns = sl_now_ns();
	SL_INFO("sluice-ctrl %s instance '%s' chain %s; dataplane region %s", SL_VERSION,
	        c->cfg.instance, c->cfg.profile, c->dp.path);
	return -1;
}

/* Sleep until the next tick, or less when the metrics daemon has a
   timeout sooner; between idle ticks, wake each SL_CTRL_PEEK_NS to look
   at the event rings (a HELLO to an idle node waited up to a whole 10 ms
   tick for its admission), unless the dataplane's bell reaches us
   (sl_bell.h): it wakes ctrl when an event comes. */
static struct timespec ctrl_poll_ts(sl_ctrl_t *c, uint64_t next_tick, uint64_t now)
{
	uint64_t d = now >= next_tick ? 0 : next_tick - now;
	if (!sl_dplink_bell_trusted(&c->dp))
		d = SL_MIN(d, SL_CTRL_PEEK_NS);
	d = sl_metrics_timeout_ns(c->metrics, d);
	return (struct timespec){.tv_sec = (time_t)(d / SL_NS_PER_S),
	                         .tv_nsec = (long)(d % SL_NS_PER_S)};
}

/* One tick; returns the period until the next one. */
static uint64_t ctrl_tick(sl_ctrl_t *c, uint64_t now, uint64_t *busy_until)
{
	uint32_t events = sl_dplink_tick(&c->dp, now);
	sl_peermgr_tick(&c->pm, (uint32_t)sl_dplink_life(&c->dp), now);
	sl_sync_tick(&c->sync, now);
	sl_op_tick(&c->ops);
	sl_apiwatch_tick(c, now);
	sl_metrics_run(c->metrics);
	if (events > 0 || sl_peermgr_busy(&c->pm) || sl_sync_busy(&c->sync) ||
	    sl_opkind_busy(&c->kinds) || sl_opnet_busy(&c->net))
		*busy_until = now + SL_CTRL_BUSY_HOLD_NS;
	if (now < *busy_until)
		return SL_CTRL_TICK_BUSY_NS;
	/* Waiting for the dataplane, to attach (a try is one stat(2)) or
	   for the attached one to finish its start: it may be ready any
	   moment, and admission opens and the first dials go out on the
	   tick that sees it (an idle tick there cost up to 10 ms of a
	   start). */
	return sl_dplink_life(&c->dp) < SL_LIFE_READY ? SL_CTRL_TICK_WAIT_NS : SL_CTRL_TICK_NS;
}

/* The loop: clients, then the tick when due.  Returns when a signal came or
   a requested shutdown has flushed its replies (or ran out of time). */
static void ctrl_loop(sl_ctrl_t *c)
{
	static struct pollfd fds[SL_API_MAX_CLIENTS + 3];
	uint64_t next_tick = sl_now_ns(), flush_deadline = 0, busy_until = 0;
	while (sl_ctrl_signal == 0) {
		int n = sl_server_pollfds(&c->srv, fds);
		fds[n] = (struct pollfd){.fd = sl_storeread_fd(c->sr), .events = POLLIN};
		int nm = sl_metrics_pollfd(c->metrics, &fds[n + 1]);
		uint64_t t = sl_now_ns();
		struct timespec ts = ctrl_poll_ts(c, next_tick, t);
		/* idle: the dataplane rings when an event comes (busy ticks are
		   short enough, and frequent wake-ups would only cost the sync) */
		bool waiting = false;
		bool armed = t >= busy_until && sl_dplink_bell_arm(&c->dp, &waiting);
		if (waiting)
			ts = (struct timespec){0};
		int rc = ppoll(fds, (nfds_t)(n + 1 + nm), &ts, &ctrl_wait_mask);
		if (armed)
			sl_dplink_bell_disarm(&c->dp);
		if (rc < 0 && errno != EINTR)
			SL_WARN("ppoll: %s", strerror(errno));
		if (rc > 0 && (fds[n].revents & POLLIN) != 0)
			sl_api_poll_reads(c);
		if (nm > 0 && (rc == 0 || fds[n + 1].revents != 0))
			sl_metrics_run(c->metrics); /* readable, or its timeout came */
		if (rc > 0)
			sl_server_service(&c->srv, fds, n, sl_api_line, c);
		uint64_t now = sl_now_ns();
		if (now < next_tick && sl_dplink_pending(&c->dp))
			next_tick = now; /* events came in: tick now, and busy from here */
		if (now >= next_tick)
			next_tick = SL_MAX(next_tick + ctrl_tick(c, now, &busy_until), now);
		if (c->shutting_down && flush_deadline == 0)
			flush_deadline = now + SL_CTRL_FLUSH_NS;
		if (c->shutting_down && (sl_server_flushed(&c->srv) || now >= flush_deadline))
			return;
	}
	SL_INFO("%s received; exiting (the dataplane keeps running)",
	        sl_ctrl_signal == SIGINT ? "SIGINT" : "SIGTERM");
}

int main(int argc, char **argv)
{
	static sl_ctrl_t ctrl;
	int verbosity = 0;
	sl_log_init("sluice-ctrl", SL_LOG_INFO);
	int rc = ctrl_args(argc, argv, &ctrl.cfg_path, &verbosity);
	if (rc >= 0)
		return rc;
	ctrl_signals();
	rc = ctrl_start(&ctrl, verbosity);
	if (rc >= 0)
		return rc; /* sl_server_open cleans up after itself */
	ctrl_loop(&ctrl);
	sl_storeread_shutdown(ctrl.sr);
	sl_api_poll_reads(&ctrl);
	ctrl_close_face(&ctrl);
	sl_watch_fini(&ctrl.watch);
	sl_sync_detach(&ctrl.sync);
	sl_op_table_fini(&ctrl.ops);
	sl_opnet_fini(&ctrl.net);
	sl_storeread_delete(ctrl.sr);
	sl_dplink_fini(&ctrl.dp);
	sl_peermgr_fini(&ctrl.pm);
	sl_chainstore_close(ctrl.chain);
	SL_INFO("stopped");
	return 0;
}
