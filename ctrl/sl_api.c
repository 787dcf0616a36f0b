/* sl_api.c — see sl_api.h.  The face of ctrl: it decodes a request, checks
   it against the command table (sl_cmdtab.h), calls the operations layer
   (sl_op.h, sl_opkind.h) or the domain for a plain query, and encodes the
   answer (sl_render.h).  Handlers return a jansson `result` or fill an
   error; sl_api_line wraps either in the reply envelope.  An operation's
   reply that must wait is the op's completion: its waiting clients are
   answered from the op table's end hook (sl_api_op_ended). */
#include "sl_api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sl_apiwatch.h"
#include "sl_cmdtab.h"
#include "sl_ctrl.h"
#include "sl_render.h"
#include "sl_session.h"
#include "sl_counters.h"
#include "sl_log.h"
#include "sl_time.h"

typedef struct {
	const char *code;
	char message[256];
	json_t *extra; /* more fields for the error object (owned), or NULL */
	bool deferred; /* no reply now: an op answers it when it ends */
} sl_api_err_t;

/* One request being answered. */
typedef struct {
	const sl_cmdtab_t *cmd;
	json_t *args;         /* borrowed; an empty object when absent */
	int64_t req_id;       /* the request's id */
	uint64_t tx;          /* operations: the client's "tx", 0: none (one is minted) */
	uint64_t deadline_ms; /* operations: args.deadline_ms, 0: the kind's default */
	bool wait;            /* operations: args.wait (default true) */
} api_req_t;

/* A handler returns the result (a new reference) or NULL with *err set. */
typedef json_t *(*sl_api_fn)(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err);

static json_t *api_fail(sl_api_err_t *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static json_t *api_fail(sl_api_err_t *err, const char *code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->code = code;
	return NULL;
}

/* ---- status ------------------------------------------------------------ */

static json_t *api_dataplane(const sl_ctrl_t *c)
{
	const sl_region_hdr_t *h = c->dp.attached ? c->dp.region.hdr : NULL;
	uint32_t ip = h ? h->dp_ipv4 : 0;
	const uint8_t zero[6] = {0};
	const uint8_t *m = h ? h->dp_mac : zero;
	char ip_s[16], mac_s[18];
	snprintf(ip_s, sizeof ip_s, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
	         ip & 255);
	snprintf(mac_s, sizeof mac_s, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
	         m[5]);
	return json_pack("{s:b, s:I, s:I, s:s, s:I, s:s, s:s, s:s}", "attached", h != NULL, "pid",
	                 (json_int_t)(h ? atomic_load(&h->dp_pid) : 0), "lcores",
	                 (json_int_t)(h ? h->n_lcores : 0), "ip", ip_s, "udp_port",
	                 (json_int_t)(h ? h->dp_udp_port : 0), "mac", mac_s, "life",
	                 h ? sl_region_life_str(atomic_load(&h->life)) : "none", "region",
	                 c->dp.path);
}

static json_t *api_status(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	sl_chainstore_tip_t t;
	char tip[SL_CHAIN_DISPLAY_LEN], work[65];
	sl_chainstore_durable(c->chain, &t);
	sl_chain_hash_display(t.hash, tip);
	sl_render_hex(work, t.chainwork, 32);
	uint64_t up = (sl_now_ns() - c->start_ns) / SL_NS_PER_S;
	return json_pack("{s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:s, s:I}", "state",
	                 sl_ctrl_state(c), "tip_height", (json_int_t)t.height, "tip_hash", tip,
	                 "chainwork", work, "peers", (json_int_t)sl_peermgr_live(&c->pm), "chain",
	                 c->cfg.profile, "instance", c->cfg.instance, "dataplane", api_dataplane(c),
	                 "uptime_s", (json_int_t)up, "version", SL_VERSION, "pid",
	                 (json_int_t)getpid());
}

/* ---- stats ------------------------------------------------------------- */

static const char *const sl_api_cnt_names[] = {
#define SL_API_CNT_NAME(f, s) s,
    SL_LCORE_CNT_LIST(SL_API_CNT_NAME)
#undef SL_API_CNT_NAME
};
#define SL_API_N_CNT (SL_ARRAY_LEN(sl_api_cnt_names) + SL_DROP_CNT)

/* Read one lcore's counters in API order: SL_LCORE_CNT_LIST, then drops. */
static void api_cnt_read(const sl_lcore_cnt_t *cnt, uint64_t *v)
{
	size_t i = 0;
#define SL_API_CNT_GET(f, s) v[i++] = SL_CNT_GET(&cnt->f);
	SL_LCORE_CNT_LIST(SL_API_CNT_GET)
#undef SL_API_CNT_GET
	for (unsigned d = 0; d < SL_DROP_CNT; d++)
		v[i++] = SL_CNT_GET(&cnt->drop[d]);
}

static json_t *api_cnt_json(const uint64_t *v)
{
	json_t *o = json_object();
	char name[64];
	for (size_t i = 0; i < SL_API_N_CNT; i++) {
		size_t n = SL_ARRAY_LEN(sl_api_cnt_names);
		if (i < n)
			snprintf(name, sizeof name, "%s", sl_api_cnt_names[i]);
		else
			snprintf(name, sizeof name, "drop_%s", sl_drop_str((unsigned)(i - n)));
		json_object_set_new(o, name, json_integer((json_int_t)v[i]));
	}
	return o;
}

static json_t *api_stats_dp(const sl_ctrl_t *c)
{
	uint64_t sum[SL_API_N_CNT] = {0}, v[SL_API_N_CNT];
	json_t *lcores = json_array();
	uint32_t n = c->dp.attached ? c->dp.region.hdr->n_lcores : 0;
	for (uint32_t i = 0; i < n; i++) {
		const sl_region_lcore_t *lc = sl_region_lcore(&c->dp.region, i);
		api_cnt_read(&lc->cnt, v);
		for (size_t k = 0; k < SL_API_N_CNT; k++)
			sum[k] += v[k];
		json_array_append_new(
		    lcores,
		    json_pack("{s:I, s:I, s:b, s:I, s:o}", "index", (json_int_t)i, "lcore_id",
		              (json_int_t)atomic_load(&lc->lcore_id), "running",
		              atomic_load(&lc->running) != 0, "sessions",
		              (json_int_t)sl_session_count(sl_region_sess(&c->dp.region, i)),
		              "counters", api_cnt_json(v)));
	}
	return json_pack("{s:b, s:I, s:o, s:o}", "attached", c->dp.attached, "lcores",
	                 (json_int_t)n, "total", api_cnt_json(sum), "per_lcore", lcores);
}

/* The header store's group-commit counters (sl_store_stats). */
static json_t *api_stats_store(sl_ctrl_t *c)
{
	sl_store_stats_t st;
	sl_store_t *s = sl_chainstore_store(c->chain);
	sl_store_stats(s, &st);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "headers",
	                 (json_int_t)sl_store_committed(s), "commits", (json_int_t)st.commits,
	                 "data_syncs", (json_int_t)st.data_syncs, "tip_syncs",
	                 (json_int_t)st.tip_syncs, "headers_committed",
	                 (json_int_t)st.headers_committed, "epoch", (json_int_t)sl_store_epoch(s));
}

static json_t *api_stats_ops(const sl_ctrl_t *c)
{
	const sl_op_cnt_t *n = &c->ops.cnt;
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "running",
	                 (json_int_t)sl_op_running(&c->ops), "started", (json_int_t)n->started,
	                 "ended", (json_int_t)n->ended, "timeouts", (json_int_t)n->timeouts,
	                 "cancelled", (json_int_t)n->cancelled, "replays", (json_int_t)n->replays,
	                 "kept", (json_int_t)(c->ops.n_ops - sl_op_running(&c->ops)));
}

static json_t *api_stats(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	struct mallinfo2 mi = mallinfo2(); /* ctrl's heap: what its peers cost */
	json_t *ctrl = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "heap_in_use_bytes",
	    (json_int_t)(mi.uordblks + mi.hblkhd), "api_requests", (json_int_t)c->cnt.api_requests,
	    "api_errors", (json_int_t)c->cnt.api_errors, "clients", (json_int_t)c->srv.n_clients,
	    "clients_accepted", (json_int_t)c->srv.accepted, "clients_rejected",
	    (json_int_t)c->srv.rejected, "clients_refused", (json_int_t)c->srv.refused,
	    "clients_dropped", (json_int_t)c->srv.dropped, "events_drained",
	    (json_int_t)c->dp.events_drained, "dp_attaches", (json_int_t)c->dp.attaches,
	    "dp_detaches", (json_int_t)c->dp.detaches);
	sl_peermgr_stats_t ps;
	sl_sync_status_t ss;
	sl_peermgr_stats(&c->pm, &ps);
	sl_sync_status(&c->sync, &ss);
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "dataplane", api_stats_dp(c), "ctrl",
	                 ctrl, "sessions", sl_render_pm_stats(&ps), "store", api_stats_store(c),
	                 "sync", sl_render_sync_status(&ss), "ops", api_stats_ops(c));
}

/* ---- arguments ------------------------------------------------------------ */

/* args.path: an absolute path (sluicectl sends one; ctrl's cwd is not the
   caller's) that fits an op's state. */
static const char *api_arg_path(json_t *args, sl_api_err_t *err)
{
	json_t *v = json_object_get(args, "path");
	if (v == NULL || !json_is_string(v) || json_string_value(v)[0] != '/') {
		api_fail(err, "BAD_REQUEST", "'path' must be an absolute file path");
		return NULL;
	}
	if (strlen(json_string_value(v)) >= SL_OPKIND_PATH_MAX) {
		api_fail(err, "BAD_REQUEST", "'path' is longer than %u bytes",
		         SL_OPKIND_PATH_MAX - 1);
		return NULL;
	}
	return json_string_value(v);
}

/* args.<key>: an optional height (0..2^32-2); *out keeps its default when
   absent. */
static bool api_arg_height(json_t *args, const char *key, uint32_t *out, sl_api_err_t *err)
{
	json_t *v = json_object_get(args, key);
	if (v == NULL)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= (json_int_t)UINT32_MAX) {
		api_fail(err, "BAD_REQUEST", "'%s' must be a height (0..4294967294)", key);
		return false;
	}
	*out = (uint32_t)json_integer_value(v);
	return true;
}

/* args.session: a session id (1..2^32-1). */
static bool api_arg_session(json_t *args, uint32_t *sid, sl_api_err_t *err)
{
	json_t *v = json_object_get(args, "session");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) <= 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX) {
		api_fail(err, "BAD_REQUEST", "'session' must be a session id (1..4294967295)");
		return false;
	}
	*sid = (uint32_t)json_integer_value(v);
	return true;
}

/* args.addr: "a.b.c.d:port" or "a.b.c.d" (port 9747). */
static bool api_arg_addr(json_t *args, sl_cfg_addr_t *a, sl_api_err_t *err)
{
	json_t *v = json_object_get(args, "addr");
	if (v == NULL || !json_is_string(v) ||
	    sl_cfg_parse_addr(json_string_value(v), 9747, a) != 0) {
		api_fail(err, "BAD_REQUEST", "'addr' must be \"a.b.c.d:port\" or \"a.b.c.d\"");
		return false;
	}
	return true;
}

static json_t *api_pm_fail(sl_api_err_t *err, const sl_peermgr_err_t *e)
{
	return api_fail(err, sl_code_str(e->code), "%s", e->message);
}

/* ---- operations (sl_op.h, sl_opkind.h) ------------------------------------- */

/* api_op_answer: what a request for op gets now: the result or error of
   an ended op; {"tx","state":"running"} without wait; else nothing yet
   (err->deferred): the client waits on the op and its end answers it. */
static json_t *api_op_answer(sl_ctrl_t *c, const api_req_t *rq, sl_op_t *op, sl_api_err_t *err)
{
	if (op->state == SL_OP_DONE)
		return sl_render_op_result(op);
	if (op->state != SL_OP_RUNNING) {
		api_fail(err, sl_code_str(op->code), "%s", op->message);
		err->extra = sl_render_op_error_extra(op);
		return NULL;
	}
	uint64_t client = rq->wait ? sl_server_defer(&c->srv) : 0;
	if (client == 0)
		return json_pack("{s:I, s:s}", "tx", (json_int_t)op->tx, "state", "running");
	if (sl_op_attach(op, (sl_op_waiter_t){client, rq->req_id}) != SL_OP_OK) {
		sl_server_undefer(&c->srv, client);
		return api_fail(err, "BUSY", "%u clients wait on op %llu already",
		                SL_OP_WAITERS_MAX, (unsigned long long)op->tx);
	}
	err->deferred = true;
	return NULL;
}

/* api_op_open starts the op of rq (kind), or finds the one its tx names:
   *op is set to a fresh op for its kind to begin, or NULL when the
   request is answered already (the returned result, or NULL and *err:
   a replayed tx, or no op could start). */
static json_t *api_op_open(sl_ctrl_t *c, const api_req_t *rq, sl_op_kind_t kind, sl_op_t **op,
                           sl_api_err_t *err)
{
	sl_op_t *o = NULL;
	sl_op_err_t e = sl_op_start(&c->ops, kind, rq->tx, 0, rq->deadline_ms, &o);
	*op = e == SL_OP_OK ? o : NULL;
	if (e == SL_OP_OK)
		return NULL;
	if (e == SL_OP_ERR_EXISTS && o->kind != kind)
		return api_fail(err, "BAD_REQUEST", "tx %llu is a %s operation, not %s",
		                (unsigned long long)rq->tx, sl_op_kind_str(o->kind),
		                sl_op_kind_str(kind));
	if (e == SL_OP_ERR_EXISTS)
		return api_op_answer(c, rq, o, err);
	if (e == SL_OP_ERR_FULL)
		return api_fail(err, "BUSY", "%u operations in the table", SL_OP_MAX);
	return api_fail(err, "INTERNAL", "cannot start %s: %s", sl_op_kind_str(kind),
	                sl_op_err_str(e));
}

static char *api_reply(json_t *id, json_t *result, const sl_api_err_t *err);

/* Render op's reply to one waiter. */
static char *api_op_reply_line(const sl_op_t *op, int64_t req_id);

void sl_api_op_ended(void *ctx, const sl_op_t *op)
{
	sl_ctrl_t *c = ctx;
	sl_apiwatch_op_done(c, op);
	for (uint32_t i = 0; i < op->n_waiters; i++) {
		char *line = api_op_reply_line(op, op->waiter[i].req_id);
		c->cnt.api_errors += op->state != SL_OP_DONE;
		if (line == NULL || sl_server_reply(&c->srv, op->waiter[i].client, line) != 0)
			SL_DEBUG("op %llu: its client left before the result",
			         (unsigned long long)op->tx);
		free(line);
	}
}

static json_t *api_ops(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	json_t *a = json_array();
	uint64_t now = sl_op_now(&c->ops);
	for (const sl_op_t *op = sl_op_next(&c->ops, NULL); op != NULL;
	     op = sl_op_next(&c->ops, op))
		json_array_append_new(a, sl_render_op(op, now));
	return a;
}

static json_t *api_op_cancel(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	json_t *v = json_object_get(rq->args, "tx");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) <= 0)
		return api_fail(err, "BAD_REQUEST", "'tx' must be an operation's tx (1..2^63-1)");
	uint64_t tx = (uint64_t)json_integer_value(v);
	if (sl_op_cancel(&c->ops, tx) != SL_OP_OK)
		return api_fail(err, "NOT_FOUND", "no running operation with tx %llu",
		                (unsigned long long)tx);
	return json_pack("{s:I, s:s}", "tx", (json_int_t)tx, "state", "cancelled");
}

/* ---- headers (the store, sl_chainstore.h) ----------------------------------- */

static json_t *api_header_json(uint32_t height, const uint8_t *hdr, const uint8_t *hash)
{
	char d[SL_CHAIN_DISPLAY_LEN], hex[161];
	sl_chain_hash_display(hash, d);
	sl_render_hex(hex, hdr, 80);
	return json_pack("{s:I, s:s, s:s}", "height", (json_int_t)height, "hash", d, "header", hex);
}

/* header.get through the store's read path: a read permit, 5 s at most
   (SPEC §9); the reply waits for the read's completion (api_read_done). */
static json_t *api_header_read(sl_ctrl_t *c, const api_req_t *rq, uint32_t height,
                               const uint8_t *want, sl_api_err_t *err)
{
	sl_ctrl_read_t *r = NULL;
	for (uint32_t i = 0; i < SL_CTRL_READS_MAX && r == NULL; i++)
		if (c->reads[i].cookie == 0)
			r = &c->reads[i];
	if (r == NULL)
		return api_fail(err, "BUSY", "%u header reads in flight", SL_CTRL_READS_MAX);
	uint64_t cookie = SL_CTRL_READ_COOKIE | (++c->next_read & ((1ULL << 62) - 1));
	sl_storeread_get_t q = {.height = height, .want_hash = want};
	sl_storeread_err_t e = sl_storeread_get(c->sr, &q, cookie);
	if (e != SL_STOREREAD_OK)
		return api_fail(err, e == SL_STOREREAD_ERR_SHUTTING_DOWN ? "SHUTTING_DOWN" : "BUSY",
		                "header read refused: %s", sl_storeread_err_str(e));
	*r = (sl_ctrl_read_t){
	    .cookie = cookie, .client = sl_server_defer(&c->srv), .req_id = rq->req_id};
	err->deferred = true;
	return NULL;
}

/* A header.get read completed: answer its client. */
static void api_read_done(sl_ctrl_t *c, const sl_storeread_done_t *d)
{
	sl_ctrl_read_t *r = NULL;
	for (uint32_t i = 0; i < SL_CTRL_READS_MAX && r == NULL; i++)
		if (c->reads[i].cookie == d->cookie)
			r = &c->reads[i];
	if (r == NULL)
		return;
	sl_api_err_t err = {.code = "INTERNAL"};
	json_t *id = json_integer(r->req_id), *result = NULL;
	if (d->err == SL_STOREREAD_OK)
		result = api_header_json(d->height, d->hdr, d->hash);
	else if (d->err == SL_STOREREAD_ERR_NOT_FOUND)
		api_fail(&err, "NOT_FOUND", "no header at height %u on the chain", d->height);
	else
		api_fail(&err,
		         d->err == SL_STOREREAD_ERR_TIMEOUT         ? "TIMEOUT"
		         : d->err == SL_STOREREAD_ERR_SHUTTING_DOWN ? "SHUTTING_DOWN"
		         : d->err == SL_STOREREAD_ERR_CANCELLED     ? "CANCELLED"
		                                                    : "INTERNAL",
		         "header read at height %u: %s", d->height, sl_storeread_err_str(d->err));
	c->cnt.api_errors += result == NULL;
	char *line = api_reply(id, result, &err);
	json_decref(id);
	if (line == NULL || sl_server_reply(&c->srv, r->client, line) != 0)
		SL_DEBUG("header.get: its client left before the read ended");
	free(line);
	r->cookie = 0;
}

void sl_api_poll_reads(sl_ctrl_t *c)
{
	sl_storeread_done_t d[16];
	uint32_t n;
	if (c->sr == NULL)
		return;
	while ((n = sl_storeread_poll(c->sr, d, SL_ARRAY_LEN(d))) > 0)
		for (uint32_t i = 0; i < n; i++) {
			if ((d[i].cookie & SL_WATCH_COOKIE) == SL_WATCH_COOKIE)
				sl_apiwatch_granted(c, &d[i]);
			else if ((d[i].cookie & SL_CTRL_READ_COOKIE) != 0)
				api_read_done(c, &d[i]);
			else if (d[i].kind == SL_STOREREAD_KIND_GET) /* header.fetch's store half */
				sl_opnet_store_done(&c->net, &d[i]);
			else
				sl_opkind_storeread_done(&c->kinds, &d[i]);
		}
}

static json_t *api_header_get(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	json_t *args = rq->args;
	json_t *jh = json_object_get(args, "height"), *jx = json_object_get(args, "hash");
	uint8_t hdr[80], hash[32];
	uint32_t height = 0;
	if ((jh == NULL) == (jx == NULL))
		return api_fail(err, "BAD_REQUEST", "give exactly one of 'height' and 'hash'");
	if (jx != NULL) {
		if (!json_is_string(jx) || sl_chain_hash_from_display(json_string_value(jx), hash))
			return api_fail(err, "BAD_REQUEST",
			                "'hash' must be 64 hex digits (display "
			                "order)");
		if (sl_chainstore_find(c->chain, hash, &height) != SL_CHAINSTORE_OK)
			return api_fail(err, "NOT_FOUND", "no header %s on the chain",
			                json_string_value(jx));
	} else if (!api_arg_height(args, "height", &height, err))
		return NULL;
	if (c->sr != NULL)
		return api_header_read(c, rq, height, jx != NULL ? hash : NULL, err);
	if (sl_chainstore_get(c->chain, height, hdr, hash) != SL_CHAINSTORE_OK) {
		sl_chainstore_tip_t t;
		sl_chainstore_durable(c->chain, &t);
		return api_fail(err, "NOT_FOUND", "no header at height %u (tip %u)", height,
		                t.height);
	}
	return api_header_json(height, hdr, hash);
}

static json_t *api_header_import(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	const char *path = api_arg_path(rq->args, err);
	sl_op_t *op;
	if (path == NULL)
		return NULL;
	if (c->shutting_down)
		return api_fail(err, "SHUTTING_DOWN", "sluice-ctrl is shutting down");
	json_t *r = api_op_open(c, rq, SL_OP_KIND_HEADER_IMPORT, &op, err);
	if (op == NULL)
		return r;
	sl_opkind_header_import(&c->kinds, op, path);
	return api_op_answer(c, rq, op, err);
}

static json_t *api_header_export(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	sl_chainstore_tip_t t;
	sl_chainstore_durable(c->chain, &t);
	uint32_t from = 0, to = t.height;
	sl_op_t *op;
	const char *path = api_arg_path(rq->args, err);
	if (path == NULL || !api_arg_height(rq->args, "from", &from, err) ||
	    !api_arg_height(rq->args, "to", &to, err))
		return NULL;
	if (from > to || to > t.height)
		return api_fail(err, "BAD_REQUEST", "range %u..%u is not inside the chain 0..%u",
		                from, to, t.height);
	json_t *r = api_op_open(c, rq, SL_OP_KIND_HEADER_EXPORT, &op, err);
	if (op == NULL)
		return r;
	sl_opkind_header_export(&c->kinds, op, path, from, to);
	return api_op_answer(c, rq, op, err);
}

/* header.fetch {height}: an operation (sl_opnet.h): the store, else a
   peer that claims the height. */
static json_t *api_header_fetch(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	uint32_t height = UINT32_MAX;
	sl_op_t *op;
	if (json_object_get(rq->args, "height") == NULL)
		return api_fail(err, "BAD_REQUEST", "'height' is required");
	if (!api_arg_height(rq->args, "height", &height, err))
		return NULL;
	json_t *r = api_op_open(c, rq, SL_OP_KIND_HEADER_FETCH, &op, err);
	if (op == NULL)
		return r;
	sl_opnet_header_fetch(&c->net, op, height);
	return api_op_answer(c, rq, op, err);
}

/* peer.ping {session} | {all: true}: an operation (sl_opnet.h). */
static json_t *api_peer_ping(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	json_t *all = json_object_get(rq->args, "all");
	uint32_t sid = 0;
	sl_op_t *op;
	if ((all == NULL) == (json_object_get(rq->args, "session") == NULL))
		return api_fail(err, "BAD_REQUEST", "give exactly one of 'session' and 'all'");
	if (all != NULL && !json_is_true(all))
		return api_fail(err, "BAD_REQUEST", "'all' must be true");
	if (all == NULL && !api_arg_session(rq->args, &sid, err))
		return NULL;
	json_t *r = api_op_open(c, rq, SL_OP_KIND_PEER_PING, &op, err);
	if (op == NULL)
		return r;
	if (all != NULL)
		sl_opnet_peer_ping_all(&c->net, op);
	else
		sl_opnet_peer_ping(&c->net, op, sid);
	return api_op_answer(c, rq, op, err);
}

/* ---- shutdown ---------------------------------------------------------------- */

static json_t *api_shutdown(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	if (!c->shutting_down)
		SL_INFO("shutdown requested over the control socket");
	bool told = sl_dplink_request_shutdown(&c->dp);
	c->shutting_down = true;
	sl_peermgr_set_shutting_down(&c->pm);
	if (c->sr != NULL) {
		sl_storeread_shutdown(c->sr); /* waiting reads fail SHUTTING_DOWN at once */
		sl_api_poll_reads(c);
	}
	uint32_t ended =
	    sl_op_end_all(&c->ops, SL_CODE_SHUTTING_DOWN, "sluice-ctrl is shutting down");
	if (ended > 0)
		SL_INFO("shutdown: %u running operation(s) ended", ended);
	return json_pack("{s:b, s:b}", "ctrl", true, "dataplane", told);
}

/* ---- peers (sl_peermgr.h) ---------------------------------------------------- */

static json_t *api_peers(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	json_t *a = json_array();
	sl_peermgr_view_t v;
	uint64_t now = sl_now_ns();
	for (uint32_t i = sl_peermgr_next(&c->pm, 0, now, &v); i != 0;
	     i = sl_peermgr_next(&c->pm, i, now, &v))
		json_array_append_new(a, sl_render_peer(&v));
	return a;
}

static json_t *api_peer_show(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	uint32_t sid;
	sl_peermgr_err_t e = {0};
	sl_peermgr_detail_t d;
	if (!api_arg_session(rq->args, &sid, err))
		return NULL;
	if (sl_peermgr_show(&c->pm, sid, sl_now_ns(), &d, &e) != 0)
		return api_pm_fail(err, &e);
	return sl_render_peer_detail(&d);
}

static json_t *api_peer_disconnect(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	uint32_t sid;
	sl_peermgr_err_t e = {0};
	if (!api_arg_session(rq->args, &sid, err))
		return NULL;
	if (sl_peermgr_disconnect(&c->pm, sid, &e) != 0)
		return api_pm_fail(err, &e);
	return json_pack("{s:I, s:s}", "session", (json_int_t)sid, "state", "closing");
}

/* peer.park: park the session's header-sync service (sl_peermgr_park). */
static json_t *api_peer_park(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	uint32_t sid;
	sl_peermgr_err_t e = {0};
	if (!api_arg_session(rq->args, &sid, err))
		return NULL;
	if (sl_peermgr_park(&c->pm, sid, &e) != 0)
		return api_pm_fail(err, &e);
	return json_pack("{s:I, s:b}", "session", (json_int_t)sid, "parked", true);
}

/* peer.connect: an operation, answered when the connect ends. */
static json_t *api_peer_connect(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	sl_cfg_addr_t a;
	sl_op_t *op;
	if (!api_arg_addr(rq->args, &a, err))
		return NULL;
	json_t *r = api_op_open(c, rq, SL_OP_KIND_PEER_CONNECT, &op, err);
	if (op == NULL)
		return r;
	sl_opkind_peer_connect(&c->kinds, op, a.ipv4, a.port);
	return api_op_answer(c, rq, op, err);
}

static json_t *api_peer_ban(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	sl_cfg_addr_t a;
	sl_peermgr_err_t e = {0};
	json_t *sec = json_object_get(rq->args, "seconds");
	if (!api_arg_addr(rq->args, &a, err))
		return NULL;
	if (sec == NULL || !json_is_integer(sec) || json_integer_value(sec) < 0 ||
	    json_integer_value(sec) > (json_int_t)UINT32_MAX)
		return api_fail(err, "BAD_REQUEST", "'seconds' must be 0 (until unban) or more");
	uint32_t s = (uint32_t)json_integer_value(sec);
	int closed = sl_peermgr_ban(&c->pm, a.ipv4, s, sl_now_ns(), &e);
	if (closed < 0)
		return api_pm_fail(err, &e);
	char ip[24];
	sl_render_addr(ip, a.ipv4, 0);
	return json_pack("{s:s, s:I, s:I}", "addr", ip, "seconds", (json_int_t)s, "disconnected",
	                 (json_int_t)closed);
}

static json_t *api_peer_unban(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	sl_cfg_addr_t a;
	sl_peermgr_err_t e = {0};
	if (!api_arg_addr(rq->args, &a, err))
		return NULL;
	if (sl_peermgr_unban(&c->pm, a.ipv4, &e) != 0)
		return api_pm_fail(err, &e);
	char ip[24];
	sl_render_addr(ip, a.ipv4, 0);
	return json_pack("{s:s, s:b}", "addr", ip, "unbanned", true);
}

/* ---- sync (sl_sync.h) --------------------------------------------------------- */

/* sync.start {to_height?}: an operation that ends at the height. */
static json_t *api_sync_start(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	json_t *h = json_object_get(rq->args, "to_height");
	uint32_t to = SL_REACTOR_NO_TARGET;
	sl_op_t *op;
	if (h != NULL && !json_is_null(h)) {
		if (!json_is_integer(h) || json_integer_value(h) < 0 ||
		    json_integer_value(h) >= (json_int_t)SL_REACTOR_NO_TARGET)
			return api_fail(err, "BAD_REQUEST", "'to_height' must be a height (0..%u)",
			                SL_REACTOR_NO_TARGET - 1);
		to = (uint32_t)json_integer_value(h);
	}
	json_t *r = api_op_open(c, rq, SL_OP_KIND_SYNC_START, &op, err);
	if (op == NULL)
		return r;
	sl_opkind_sync_start(&c->kinds, op, to);
	return api_op_answer(c, rq, op, err);
}

static json_t *api_sync_status(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	sl_sync_status_t ss;
	sl_sync_status(&c->sync, &ss);
	return sl_render_sync_status(&ss);
}

static json_t *api_ranges(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	(void)rq;
	(void)err;
	json_t *a = json_array();
	sl_range_info_t *ri = calloc(SL_RANGE_WINDOW, sizeof(*ri));
	if (SL_UNLIKELY(ri == NULL))
		return a;
	uint32_t n = sl_sync_ranges(&c->sync, ri, SL_RANGE_WINDOW);
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, sl_render_range(&ri[i]));
	free(ri);
	return a;
}

/* ---- dispatch (sl_cmdtab.h) --------------------------------------------- */

/* watch {topics}: a list (or "a,b") of sl_watch topics; the reply comes
   with the stream permit (sl_apiwatch.h), then the events. */
static json_t *api_watch(sl_ctrl_t *c, const api_req_t *rq, sl_api_err_t *err)
{
	json_t *v = json_object_get(rq->args, "topics"), *t;
	uint32_t mask = 0;
	size_t i;
	if (v == NULL || !json_is_array(v) || json_array_size(v) == 0)
		return api_fail(err, "BAD_REQUEST",
		                "'topics' must be a list of ops, sync, peers, "
		                "misbehavior");
	json_array_foreach(v, i, t)
	{
		sl_watch_topic_t k = json_is_string(t) ? sl_watch_topic_find(json_string_value(t),
		                                                             json_string_length(t))
		                                       : SL_WATCH_TOPIC_CNT;
		if (k == SL_WATCH_TOPIC_CNT)
			return api_fail(err, "BAD_REQUEST",
			                "unknown watch topic in 'topics' (ops, "
			                "sync, peers, misbehavior)");
		mask |= 1u << k;
	}
	sl_code_t code = sl_apiwatch_open(c, mask, rq->req_id);
	if (code != SL_CODE_OK)
		return api_fail(err, sl_code_str(code), "%s",
		                code == SL_CODE_BUSY ? "every watch slot is taken"
		                                     : "this connection cannot watch");
	err->deferred = true;
	return NULL;
}

/* One handler per row of the command table, api_<id>. */
static const sl_api_fn sl_api_fns[SL_CMDTAB_CNT] = {
#define SL_API_FN(ID, id, name, flags, wait_s, help, args) [SL_CMDTAB_##ID] = api_##id,
    SL_CMDTAB_LIST(SL_API_FN)
#undef SL_API_FN
};

/* Every key of `args` must be one the command accepts. */
static bool api_args_ok(const sl_cmdtab_t *cmd, json_t *args, sl_api_err_t *err)
{
	const char *key;
	json_t *val;
	json_object_foreach(args, key, val)
	{
		if (sl_cmdtab_arg(cmd, key, strlen(key)) == NULL) {
			api_fail(err, "BAD_REQUEST", "'%s' takes no argument '%s'", cmd->name, key);
			return false;
		}
	}
	return true;
}

/* An operation's own envelope and arguments: "tx", deadline_ms, wait. */
static bool api_op_args(json_t *req, api_req_t *rq, sl_api_err_t *err)
{
	json_t *tx = json_object_get(req, "tx"), *dl = json_object_get(rq->args, "deadline_ms");
	json_t *w = json_object_get(rq->args, "wait");
	rq->wait = true;
	if (tx != NULL && (!json_is_integer(tx) || json_integer_value(tx) <= 0)) {
		api_fail(err, "BAD_REQUEST", "'tx' must be an integer in 1..2^63-1");
		return false;
	}
	if (dl != NULL && (!json_is_integer(dl) || json_integer_value(dl) <= 0)) {
		api_fail(err, "BAD_REQUEST", "'deadline_ms' must be a positive integer");
		return false;
	}
	if (w != NULL && !json_is_boolean(w)) {
		api_fail(err, "BAD_REQUEST", "'wait' must be true or false");
		return false;
	}
	rq->tx = tx ? (uint64_t)json_integer_value(tx) : 0;
	rq->deadline_ms = dl ? (uint64_t)json_integer_value(dl) : 0;
	rq->wait = w == NULL || json_is_true(w);
	return true;
}

static json_t *api_dispatch(sl_ctrl_t *c, json_t *req, api_req_t *rq, const char *name,
                            sl_api_err_t *err)
{
	const sl_cmdtab_t *cmd = sl_cmdtab_find(name);
	if (cmd == NULL)
		return api_fail(err, "UNKNOWN_CMD", "unknown command '%s'", name);
	rq->cmd = cmd;
	if (!api_args_ok(cmd, rq->args, err))
		return NULL;
	if ((cmd->flags & SL_CMDTAB_F_OP) != 0 && !api_op_args(req, rq, err))
		return NULL;
	if ((cmd->flags & SL_CMDTAB_F_DP) != 0 && c->shutting_down)
		return api_fail(err, "SHUTTING_DOWN", "sluice-ctrl is shutting down");
	if ((cmd->flags & SL_CMDTAB_F_DP) != 0 && !c->dp.attached)
		return api_fail(err, "NOT_READY",
		                "'%s' needs the dataplane and none is attached (no live sluice-dp "
		                "region at %s)",
		                name, c->dp.path);
	return sl_api_fns[cmd->id](c, rq, err);
}

/* Parse the envelope; on success *id and *name are set and args is borrowed. */
static json_t *api_parse(json_t *req, json_t **id, const char **name, json_t **args,
                         sl_api_err_t *err)
{
	if (!json_is_object(req))
		return api_fail(err, "BAD_REQUEST", "a request must be a JSON object");
	json_t *jid = json_object_get(req, "id");
	if (jid == NULL || !json_is_integer(jid))
		return api_fail(err, "BAD_REQUEST", "%s",
		                jid == NULL ? "missing 'id'" : "'id' must be an integer");
	*id = jid;
	json_t *jcmd = json_object_get(req, "cmd");
	if (jcmd == NULL || !json_is_string(jcmd))
		return api_fail(err, "BAD_REQUEST", "%s",
		                jcmd == NULL ? "missing 'cmd'" : "'cmd' must be a string");
	*name = json_string_value(jcmd);
	json_t *jargs = json_object_get(req, "args");
	if (jargs != NULL && !json_is_object(jargs))
		return api_fail(err, "BAD_REQUEST", "'args' must be a JSON object");
	*args = jargs;
	return req;
}

static char *api_reply(json_t *id, json_t *result, const sl_api_err_t *err)
{
	json_t *r;
	if (result != NULL)
		r = json_pack("{s:O, s:b, s:o}", "id", id, "ok", true, "result", result);
	else
		r = json_pack("{s:O, s:b, s:{s:s, s:s}}", "id", id, "ok", false, "error", "code",
		              err->code, "message", err->message);
	if (result == NULL && r != NULL && err->extra != NULL)
		json_object_update(json_object_get(r, "error"), err->extra);
	if (SL_UNLIKELY(r == NULL))
		return NULL;
	char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(r);
	return s;
}

static char *api_op_reply_line(const sl_op_t *op, int64_t req_id)
{
	sl_api_err_t err = {.code = "INTERNAL"};
	json_t *id = json_integer(req_id), *result = NULL;
	if (op->state == SL_OP_DONE) {
		result = sl_render_op_result(op);
	} else {
		api_fail(&err, sl_code_str(op->code), "%s", op->message);
		err.extra = sl_render_op_error_extra(op);
	}
	char *out = api_reply(id, result, &err);
	json_decref(err.extra);
	json_decref(id);
	return out;
}

char *sl_api_line(void *ctx, const char *line, size_t len)
{
	sl_ctrl_t *c = ctx;
	sl_api_err_t err = {.code = "INTERNAL", .message = "internal error"};
	json_error_t jerr;
	json_t *id = json_null(), *args = NULL, *result = NULL;
	const char *name = NULL;
	c->cnt.api_requests++;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL)
		api_fail(&err, "BAD_REQUEST", "malformed JSON at column %d: %s", jerr.column,
		         jerr.text);
	else if (api_parse(req, &id, &name, &args, &err) != NULL) {
		json_t *empty = args ? NULL : json_object();
		api_req_t rq = {.args = args ? args : empty, .req_id = json_integer_value(id)};
		result = api_dispatch(c, req, &rq, name, &err);
		json_decref(empty);
		if (result == NULL && err.deferred) {
			json_decref(req);
			return NULL; /* the op answers when it ends (sl_api_op_ended) */
		}
	}
	if (result == NULL) {
		c->cnt.api_errors++;
		SL_DEBUG("request %s answered %s: %s", name ? name : "?", err.code, err.message);
	}
	char *out = api_reply(id, result, &err);
	json_decref(err.extra);
	json_decref(req);
	return out;
}
