/* sl_metrics.c — see sl_metrics.h.  Two halves: the HTTP side (a
   libmicrohttpd daemon in external-poll epoll mode on a socket this module
   binds itself, so that a bind failure names its cause), and the renderer,
   one short function per area (process, dataplane, peers, sync, ops,
   store), each reading the same domain calls the API's handlers read. */
#include "sl_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "sl_counters.h"
#include "sl_ctrl.h"
#include "sl_log.h"
#include "sl_session.h"
#include "sl_time.h"

#define SL_METRICS_CONN_MAX     16u /* concurrent HTTP connections */
#define SL_METRICS_CONN_TIMEOUT 10u /* seconds an idle connection is kept */

struct sl_metrics {
	struct MHD_Daemon *d;
	struct sl_ctrl *c;
	int listen_fd;
	int epoll_fd;
	uint64_t scrapes;
	char addr[24];
};

/* ---- the exposition format ------------------------------------------------ */

/* metrics_escape writes s with \, " and newline escaped (label values and,
   with quote false, HELP text). */
static void metrics_escape(FILE *f, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quote)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* metrics_family writes the # HELP and # TYPE lines of a family. */
static void metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	metrics_escape(f, help, false);
	fprintf(f, "\n# TYPE %s %s\n", name, type);
}

/* metrics_u64 writes one sample `name{labels} v`; labels is "" or
   `k="v",...` already escaped. */
static void metrics_u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
	if (labels[0] != '\0')
		fprintf(f, "%s{%s} %" PRIu64 "\n", name, labels, v);
	else
		fprintf(f, "%s %" PRIu64 "\n", name, v);
}

/* A family of one unlabelled sample. */
static void metrics_one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	metrics_family(f, name, type, help);
	metrics_u64(f, name, "", v);
}

static void metrics_one_double(FILE *f, const char *name, const char *help, double v)
{
	metrics_family(f, name, "gauge", help);
	fprintf(f, "%s %.6g\n", name, v);
}

/* A gauge of value 1 whose labels are one `key="value"` (escaped). */
static void metrics_info(FILE *f, const char *name, const char *help, const char *key,
                         const char *value)
{
	metrics_family(f, name, "gauge", help);
	fprintf(f, "%s{%s=\"", name, key);
	metrics_escape(f, value, true);
	fputs("\"} 1\n", f);
}

/* ---- process: sluice-ctrl and its link to the dataplane ------------------ */

static void metrics_process(sl_ctrl_t *c, FILE *f, uint64_t now_ns)
{
	metrics_family(f, "sluice_ctrl_info", "gauge",
	               "sluice-ctrl build and node: version, node ([instance] name), chain "
	               "profile (always 1)");
	fputs("sluice_ctrl_info{version=\"", f);
	metrics_escape(f, SL_VERSION, true);
	fputs("\",node=\"", f);
	metrics_escape(f, c->cfg.instance, true);
	fputs("\",chain=\"", f);
	metrics_escape(f, c->cfg.profile, true);
	fputs("\"} 1\n", f);
	metrics_info(f, "sluice_ctrl_state", "lifecycle word of `sluicectl status` (always 1)",
	             "state", sl_ctrl_state(c));
	metrics_one(f, "sluice_ctrl_uptime_seconds", "gauge", "seconds since sluice-ctrl started",
	            (now_ns - c->start_ns) / SL_NS_PER_S);
	metrics_one(f, "sluice_ctrl_api_requests_total", "counter",
	            "control API request lines answered", c->cnt.api_requests);
	metrics_one(f, "sluice_ctrl_api_errors_total", "counter",
	            "control API replies with ok:false", c->cnt.api_errors);
	metrics_one(f, "sluice_ctrl_api_clients", "gauge", "control socket clients connected",
	            c->srv.n_clients);
	metrics_one(f, "sluice_ctrl_events_drained_total", "counter",
	            "event records drained from the dataplane's rings", c->dp.events_drained);
	metrics_one(f, "sluice_dataplane_attached", "gauge",
	            "1 while sluice-ctrl is attached to a live dataplane region", c->dp.attached);
	metrics_one(f, "sluice_dataplane_attaches_total", "counter",
	            "attaches to a dataplane region", c->dp.attaches);
	int64_t age = sl_dplink_heartbeat_age_ns(&c->dp, now_ns);
	metrics_family(f, "sluice_dataplane_heartbeat_age_seconds", "gauge",
	               "age of the dataplane's heartbeat (absent while detached)");
	if (age >= 0)
		fprintf(f, "sluice_dataplane_heartbeat_age_seconds %.6f\n", (double)age / 1e9);
	metrics_one(f, "sluice_dataplane_lcores", "gauge",
	            "worker lcores of the attached dataplane",
	            c->dp.attached ? c->dp.region.hdr->n_lcores : 0);
}

/* ---- dataplane: per-lcore counters (sl_counters.h) ----------------------- */

typedef struct {
	const char *name;
	size_t off;
} sl_metrics_cnt_t;

static const sl_metrics_cnt_t sl_metrics_dp_cnt[] = {
#define SL_METRICS_CNT(f, s) {s, offsetof(sl_lcore_cnt_t, f)},
    SL_LCORE_CNT_LIST(SL_METRICS_CNT)
#undef SL_METRICS_CNT
};

static uint64_t metrics_cnt_at(const sl_lcore_cnt_t *cnt, size_t off)
{
	return SL_CNT_GET((const sl_cnt_t *)((const char *)cnt + off));
}

/* One family per entry of SL_LCORE_CNT_LIST, one sample per lcore. */
static void metrics_dp_counters(sl_ctrl_t *c, FILE *f, uint32_t n)
{
	char name[96], help[160], lab[32];
	for (size_t k = 0; k < SL_ARRAY_LEN(sl_metrics_dp_cnt); k++) {
		const sl_metrics_cnt_t *m = &sl_metrics_dp_cnt[k];
		bool gauge = sl_lcore_cnt_is_gauge(m->off);
		snprintf(name, sizeof name, "sluice_dp_%s%s", m->name, gauge ? "" : "_total");
		snprintf(help, sizeof help, "sluice-dp per-lcore %s %s (sl_counters.h)",
		         gauge ? "gauge" : "counter", m->name);
		metrics_family(f, name, gauge ? "gauge" : "counter", help);
		for (uint32_t i = 0; i < n; i++) {
			snprintf(lab, sizeof lab, "lcore=\"%u\"", i);
			metrics_u64(
			    f, name, lab,
			    metrics_cnt_at(&sl_region_lcore(&c->dp.region, i)->cnt, m->off));
		}
	}
}

static void metrics_dp_drops(sl_ctrl_t *c, FILE *f, uint32_t n)
{
	char lab[96];
	metrics_family(f, "sluice_dp_drops_total", "counter",
	               "frames dropped by sluice-dp, by lcore and reason (sl_drop_t)");
	for (uint32_t i = 0; i < n; i++) {
		const sl_lcore_cnt_t *cnt = &sl_region_lcore(&c->dp.region, i)->cnt;
		for (unsigned d = 0; d < SL_DROP_CNT; d++) {
			snprintf(lab, sizeof lab, "lcore=\"%u\",reason=\"%s\"", i, sl_drop_str(d));
			metrics_u64(f, "sluice_dp_drops_total", lab, SL_CNT_GET(&cnt->drop[d]));
		}
	}
}

static void metrics_dp_lcores(sl_ctrl_t *c, FILE *f, uint32_t n)
{
	char lab[32];
	metrics_family(f, "sluice_dp_lcore_running", "gauge", "1 while the worker lcore runs");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(lab, sizeof lab, "lcore=\"%u\"", i);
		metrics_u64(f, "sluice_dp_lcore_running", lab,
		            atomic_load(&sl_region_lcore(&c->dp.region, i)->running) != 0);
	}
	metrics_family(f, "sluice_sessions", "gauge",
	               "live sessions in the dataplane's session table, by lcore");
	for (uint32_t i = 0; i < n; i++) {
		snprintf(lab, sizeof lab, "lcore=\"%u\"", i);
		metrics_u64(f, "sluice_sessions", lab,
		            sl_session_count(sl_region_sess(&c->dp.region, i)));
	}
}

static void metrics_dataplane(sl_ctrl_t *c, FILE *f)
{
	uint32_t n = c->dp.attached ? c->dp.region.hdr->n_lcores : 0;
	metrics_dp_counters(c, f, n);
	metrics_dp_drops(c, f, n);
	metrics_dp_lcores(c, f, n);
}

/* ---- peers (sl_peermgr.h) ------------------------------------------------- */

static void metrics_peers(sl_ctrl_t *c, FILE *f)
{
	sl_peermgr_stats_t ps;
	char lab[64];
	sl_peermgr_stats(&c->pm, &ps);
	metrics_one(f, "sluice_peers", "gauge", "sessions up, as `sluicectl status` counts peers",
	            sl_peermgr_live(&c->pm));
	metrics_one(f, "sluice_peer_slots_used", "gauge", "peer manager slots in use",
	            ps.slots_used);
	metrics_one(f, "sluice_peer_book_entries", "gauge", "addresses in the address book",
	            ps.book_entries);
#define SL_METRICS_PM_CNT(fld, s)                                                                  \
	metrics_one(f, "sluice_peer_" s "_total", "counter", "peer manager counter " s, ps.cnt.fld);
	SL_PEERMGR_CNT_LIST(SL_METRICS_PM_CNT)
#undef SL_METRICS_PM_CNT
	metrics_family(f, "sluice_session_exits_total", "counter",
	               "sessions ended, by exit kind (sl_exit_t)");
	for (unsigned e = 0; e < SL_EXIT_CNT; e++) {
		snprintf(lab, sizeof lab, "exit=\"%s\"", sl_exit_str(e));
		metrics_u64(f, "sluice_session_exits_total", lab, ps.down_by_exit[e]);
	}
}

/* ---- header chain and sync (sl_chainstore.h, sl_sync.h) ------------------ */

/* Holds on live ranges of the range table (sl_sync_ranges, as `ranges`). */
static uint64_t metrics_range_holds(const sl_sync_t *s)
{
	sl_range_info_t *ri = calloc(SL_RANGE_WINDOW, sizeof(*ri));
	uint64_t holds = 0;
	if (SL_UNLIKELY(ri == NULL))
		return 0;
	uint32_t n = sl_sync_ranges(s, ri, SL_RANGE_WINDOW);
	for (uint32_t i = 0; i < n; i++)
		holds += ri[i].n_holds;
	free(ri);
	return holds;
}

static void metrics_ranges(sl_ctrl_t *c, FILE *f, const sl_reactor_status_t *st)
{
	metrics_family(f, "sluice_sync_ranges", "gauge",
	               "ranges in the header-sync range table, by state");
	metrics_u64(f, "sluice_sync_ranges", "state=\"queued\"", st->queued);
	metrics_u64(f, "sluice_sync_ranges", "state=\"held\"", st->held);
	metrics_u64(f, "sluice_sync_ranges", "state=\"covered\"", st->covered);
	metrics_one(f, "sluice_sync_range_holds", "gauge",
	            "holds on live ranges (a range is held by up to fanout sessions)",
	            metrics_range_holds(&c->sync));
	metrics_one(f, "sluice_sync_assignments", "gauge", "range assignments the reactor tracks",
	            st->assignments);
	metrics_one(f, "sluice_sync_buffered_headers", "gauge", "headers waiting for their commit",
	            st->buffered);
}

static void metrics_sync(sl_ctrl_t *c, FILE *f)
{
	sl_chainstore_tip_t t;
	sl_sync_status_t ss;
	sl_chainstore_durable(c->chain, &t);
	sl_sync_status(&c->sync, &ss);
	const sl_reactor_status_t *st = &ss.st;
	metrics_one(f, "sluice_chain_height", "gauge",
	            "height of the committed tip (status tip_height)", t.height);
	metrics_info(f, "sluice_sync_state",
	             "header sync state of `sluicectl sync.status` (always 1)", "state", ss.state);
	metrics_family(f, "sluice_sync_target_height", "gauge",
	               "sync.start's to_height (absent: following the best peer)");
	if (st->target != SL_REACTOR_NO_TARGET)
		metrics_u64(f, "sluice_sync_target_height", "", st->target);
	metrics_one(f, "sluice_sync_best_peer_height", "gauge", "highest tip a sync peer claims",
	            st->best_peer_height);
	metrics_one(f, "sluice_sync_peers", "gauge", "peers header sync draws from", st->peers);
	metrics_one(f, "sluice_sync_headers_committed_total", "counter",
	            "headers committed by header sync (rate() of it is the sync rate)",
	            st->committed);
	metrics_one_double(f, "sluice_sync_headers_per_second",
	                   "sync rate as ctrl measures it (sync.status committed_per_s)",
	                   st->committed_per_s);
	metrics_one(f, "sluice_sync_timeouts_total", "counter", "range assignments timed out",
	            st->timeouts);
	metrics_one(f, "sluice_sync_invalid_total", "counter",
	            "header batches refused by the chain rules", st->invalid);
	metrics_one(f, "sluice_sync_reorgs_total", "counter", "reorgs to a heavier branch",
	            st->reorgs);
	metrics_one(f, "sluice_sync_new_blocks_accepted_total", "counter",
	            "NEW_BLOCK announcements that extended our tip", ss.cnt.nb_accepted);
	metrics_one(f, "sluice_sync_new_blocks_relayed_total", "counter",
	            "NEW_BLOCK relays queued to peers", ss.cnt.nb_relayed);
	metrics_ranges(c, f, st);
}

/* ---- operations (sl_op.h) ------------------------------------------------- */

static void metrics_ops(sl_ctrl_t *c, FILE *f)
{
	static const sl_op_state_t states[] = {SL_OP_RUNNING, SL_OP_DONE, SL_OP_FAILED,
	                                       SL_OP_CANCELLED};
	uint64_t now_in[SL_OP_KIND_CNT][SL_OP_CANCELLED + 1] = {{0}};
	const sl_op_cnt_t *n = &c->ops.cnt;
	char lab[96];
	for (const sl_op_t *op = sl_op_next(&c->ops, NULL); op != NULL;
	     op = sl_op_next(&c->ops, op))
		now_in[op->kind][op->state]++;
	metrics_family(
	    f, "sluice_ops", "gauge",
	    "operations in the op table (running, or ended and kept), by kind and state");
	for (unsigned k = 1; k < SL_OP_KIND_CNT; k++)
		for (size_t s = 0; s < SL_ARRAY_LEN(states); s++) {
			snprintf(lab, sizeof lab, "kind=\"%s\",state=\"%s\"", sl_op_kind_str(k),
			         sl_op_state_str(states[s]));
			metrics_u64(f, "sluice_ops", lab, now_in[k][states[s]]);
		}
	metrics_family(f, "sluice_ops_started_total", "counter", "operations started, by kind");
	for (unsigned k = 1; k < SL_OP_KIND_CNT; k++) {
		snprintf(lab, sizeof lab, "kind=\"%s\"", sl_op_kind_str(k));
		metrics_u64(f, "sluice_ops_started_total", lab, n->started_by_kind[k]);
	}
	metrics_family(f, "sluice_ops_ended_total", "counter",
	               "operations ended, by kind and final state");
	for (unsigned k = 1; k < SL_OP_KIND_CNT; k++)
		for (size_t s = 1; s < SL_ARRAY_LEN(states); s++) {
			snprintf(lab, sizeof lab, "kind=\"%s\",state=\"%s\"", sl_op_kind_str(k),
			         sl_op_state_str(states[s]));
			metrics_u64(f, "sluice_ops_ended_total", lab,
			            n->ended_by_kind[k][states[s]]);
		}
	metrics_one(f, "sluice_ops_timeouts_total", "counter", "operations ended by their deadline",
	            n->timeouts);
}

/* ---- header store (sl_store.h) -------------------------------------------- */

static void metrics_store(sl_ctrl_t *c, FILE *f)
{
	sl_store_stats_t st;
	sl_store_t *s = sl_chainstore_store(c->chain);
	sl_store_stats(s, &st);
	uint64_t headers = sl_store_committed(s);
	metrics_one(f, "sluice_store_headers", "gauge", "headers committed in the header store",
	            headers);
	metrics_one(f, "sluice_store_header_bytes", "gauge",
	            "bytes of committed headers in the store (80 per header)", headers * 80u);
	metrics_one(f, "sluice_store_commits_total", "counter", "group commits of the store",
	            st.commits);
	metrics_one(f, "sluice_store_headers_committed_total", "counter",
	            "headers the store committed (sync, import, new blocks)", st.headers_committed);
	metrics_family(f, "sluice_store_fsyncs_total", "counter", "fdatasync calls, by file");
	metrics_u64(f, "sluice_store_fsyncs_total", "file=\"headers\"", st.data_syncs);
	metrics_u64(f, "sluice_store_fsyncs_total", "file=\"tip\"", st.tip_syncs);
}

int sl_metrics_render(sl_ctrl_t *c, FILE *f, uint64_t now_ns)
{
	metrics_process(c, f, now_ns);
	metrics_dataplane(c, f);
	metrics_peers(c, f);
	metrics_sync(c, f);
	metrics_ops(c, f);
	metrics_store(c, f);
	return ferror(f) ? -1 : 0;
}

/* ---- HTTP (libmicrohttpd, external poll) --------------------------------- */

static enum MHD_Result metrics_reply(struct MHD_Connection *conn, unsigned status, char *body,
                                     size_t len, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (SL_UNLIKELY(r == NULL)) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics_text(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	char *body = strdup(msg);
	if (SL_UNLIKELY(body == NULL))
		return MHD_NO;
	return metrics_reply(conn, status, body, strlen(body), "text/plain; charset=utf-8");
}

/* metrics_scrape renders the exposition into a buffer it hands to MHD. */
static enum MHD_Result metrics_scrape(sl_metrics_t *m, struct MHD_Connection *conn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (SL_UNLIKELY(f == NULL))
		return metrics_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	int rc = sl_metrics_render(m->c, f, sl_now_ns());
	if (SL_UNLIKELY(fclose(f) != 0 || rc != 0)) {
		free(buf);
		return metrics_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "render failed\n");
	}
	m->scrapes++;
	return metrics_reply(conn, MHD_HTTP_OK, buf, len, SL_METRICS_CONTENT_TYPE);
}

static enum MHD_Result metrics_answer(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **req_cls)
{
	sl_metrics_t *m = cls;
	(void)version;
	(void)upload_data;
	(void)req_cls;
	if (*upload_data_size != 0) {
		*upload_data_size = 0; /* a body is read and ignored */
		return MHD_YES;
	}
	if (strcmp(url, "/metrics") != 0)
		return metrics_text(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return metrics_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
	return metrics_scrape(m, conn);
}

static void metrics_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	SL_WARN("libmicrohttpd: %s", msg);
}

/* metrics_listen binds and listens; -1 with errno on failure. */
static int metrics_listen(const sl_cfg_addr_t *a)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, e;
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(a->port), .sin_addr.s_addr = htonl(a->ipv4)};
	if (SL_UNLIKELY(fd < 0))
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 64) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

sl_metrics_t *sl_metrics_open(sl_ctrl_t *c, const sl_cfg_addr_t *addr, const char *cfg_path,
                              char *err, size_t err_sz)
{
	sl_metrics_t *m = calloc(1, sizeof *m);
	if (SL_UNLIKELY(m == NULL)) {
		snprintf(err, err_sz, "out of memory for the metrics endpoint");
		return NULL;
	}
	m->c = c;
	snprintf(m->addr, sizeof m->addr, "%u.%u.%u.%u:%u", addr->ipv4 >> 24,
	         (addr->ipv4 >> 16) & 255, (addr->ipv4 >> 8) & 255, addr->ipv4 & 255, addr->port);
	m->listen_fd = metrics_listen(addr);
	if (SL_UNLIKELY(m->listen_fd < 0)) {
		snprintf(
		    err, err_sz,
		    "cannot listen on %s for Prometheus /metrics: %s\n"
		    "  fix: stop what uses that address, or set [ctrl] metrics in %s to a free "
		    "[a.b.c.d:]port (or remove the key: no endpoint)",
		    m->addr, strerror(errno), cfg_path);
		free(m);
		return NULL;
	}
	m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, metrics_answer, m,
	                        MHD_OPTION_EXTERNAL_LOGGER, metrics_mhd_log, NULL,
	                        MHD_OPTION_LISTEN_SOCKET, m->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
	                        (unsigned)SL_METRICS_CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
	                        (unsigned)SL_METRICS_CONN_TIMEOUT, MHD_OPTION_END);
	const union MHD_DaemonInfo *di =
	    m->d ? MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
	if (SL_UNLIKELY(di == NULL)) {
		snprintf(
		    err, err_sz,
		    "cannot start the HTTP server for Prometheus /metrics on %s (libmicrohttpd "
		    "with epoll; see the log above)\n"
		    "  fix: remove [ctrl] metrics from %s to run without the endpoint",
		    m->addr, cfg_path);
		sl_metrics_close(m);
		return NULL;
	}
	m->epoll_fd = di->epoll_fd;
	SL_INFO("serving Prometheus GET /metrics addr=%s", m->addr);
	return m;
}

int sl_metrics_pollfd(const sl_metrics_t *m, struct pollfd *pfd)
{
	if (m == NULL)
		return 0;
	*pfd = (struct pollfd){.fd = m->epoll_fd, .events = POLLIN};
	return 1;
}

uint64_t sl_metrics_timeout_ns(sl_metrics_t *m, uint64_t max_ns)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (m == NULL || MHD_get_timeout(m->d, &ms) != MHD_YES || ms >= max_ns / SL_NS_PER_MS)
		return max_ns;
	return ms * SL_NS_PER_MS;
}

void sl_metrics_run(sl_metrics_t *m)
{
	if (m != NULL && SL_UNLIKELY(MHD_run(m->d) != MHD_YES))
		SL_DEBUG("MHD_run failed");
}

uint64_t sl_metrics_scrapes(const sl_metrics_t *m)
{
	return m != NULL ? m->scrapes : 0;
}

void sl_metrics_close(sl_metrics_t *m)
{
	if (m == NULL)
		return;
	if (m->d != NULL) {
		/* quiesce hands the listening socket back, so that it is closed
		   here exactly once */
		MHD_socket fd = MHD_quiesce_daemon(m->d);
		MHD_stop_daemon(m->d);
		m->listen_fd = fd != MHD_INVALID_SOCKET ? fd : -1;
	}
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	free(m);
}
