/* sl_api.c — see sl_api.h.  Handlers build a jansson `result` or fill an error;
   sl_api_line wraps either in the reply envelope. */
#include "sl_api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sl_cmdtab.h"
#include "sl_ctrl.h"
#include "sl_peermgr.h"
#include "sl_session.h"
#include "sl_chainstore.h"
#include "sl_counters.h"
#include "sl_log.h"
#include "sl_time.h"

typedef struct {
	const char *code;
	char message[256];
	json_t *extra; /* more fields for the error object (owned), or NULL */
} sl_api_err_t;

/* A handler returns the result (a new reference) or NULL with *err set. */
typedef json_t *(*sl_api_fn)(sl_ctrl_t *c, json_t *args, sl_api_err_t *err);

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
	                 h ? sl_life_str(atomic_load(&h->life)) : "none", "region", c->dp.path);
}

static void api_hex(const uint8_t *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static json_t *api_status(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	(void)err;
	sl_chainstore_tip_t t;
	char tip[SL_CHAIN_DISPLAY_LEN], work[65];
	sl_chainstore_tip(c->chain, &t);
	sl_chain_hash_display(t.hash, tip);
	api_hex(t.chainwork, 32, work);
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
		    lcores, json_pack("{s:I, s:I, s:b, s:o}", "index", (json_int_t)i, "lcore_id",
		                      (json_int_t)atomic_load(&lc->lcore_id), "running",
		                      atomic_load(&lc->running) != 0, "counters", api_cnt_json(v)));
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

static json_t *api_stats(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	(void)err;
	json_t *ctrl = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "api_requests",
	    (json_int_t)c->cnt.api_requests, "api_errors", (json_int_t)c->cnt.api_errors, "clients",
	    (json_int_t)c->srv.n_clients, "clients_accepted", (json_int_t)c->srv.accepted,
	    "clients_rejected", (json_int_t)c->srv.rejected, "clients_dropped",
	    (json_int_t)c->srv.dropped, "events_drained", (json_int_t)c->dp.events_drained,
	    "dp_attaches", (json_int_t)c->dp.attaches, "dp_detaches", (json_int_t)c->dp.detaches);
	return json_pack("{s:o, s:o, s:o, s:o, s:o}", "dataplane", api_stats_dp(c), "ctrl", ctrl,
	                 "sessions", sl_peermgr_counters_json(&c->pm), "store", api_stats_store(c),
	                 "sync", sl_sync_status_json(&c->sync));
}

/* ---- headers (the store, sl_chainstore.h) ------------------------------- */

/* api_tip_json: {tip_height, tip_hash} of the committed chain, into `o`. */
static json_t *api_tip_into(const sl_ctrl_t *c, json_t *o)
{
	sl_chainstore_tip_t t;
	char d[SL_CHAIN_DISPLAY_LEN];
	sl_chainstore_tip(c->chain, &t);
	sl_chain_hash_display(t.hash, d);
	json_object_set_new(o, "tip_height", json_integer((json_int_t)t.height));
	json_object_set_new(o, "tip_hash", json_string(d));
	return o;
}

/* args.<key>: an absolute path (sluicectl sends one; ctrl's cwd is not the
   caller's). */
static const char *api_arg_path(json_t *args, sl_api_err_t *err)
{
	json_t *v = json_object_get(args, "path");
	if (v == NULL || !json_is_string(v) || json_string_value(v)[0] != '/') {
		api_fail(err, "BAD_REQUEST", "'path' must be an absolute file path");
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

static json_t *api_header_get(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
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
	if (sl_chainstore_get(c->chain, height, hdr, hash) != SL_CHAINSTORE_OK) {
		sl_chainstore_tip_t t;
		sl_chainstore_tip(c->chain, &t);
		return api_fail(err, "NOT_FOUND", "no header at height %u (tip %u)", height,
		                t.height);
	}
	char d[SL_CHAIN_DISPLAY_LEN], hex[161];
	sl_chain_hash_display(hash, d);
	api_hex(hdr, 80, hex);
	return json_pack("{s:I, s:s, s:s}", "height", (json_int_t)height, "hash", d, "header", hex);
}

/* header.import: synchronous in the loop (10,000 headers take ~10 ms). */
static json_t *api_header_import(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	const char *path = api_arg_path(args, err);
	if (path == NULL)
		return NULL;
	if (c->shutting_down)
		return api_fail(err, "SHUTTING_DOWN", "sluice-ctrl is shutting down");
	if (access(path, R_OK) != 0)
		return api_fail(err, "NOT_FOUND", "cannot read %s: %s", path, strerror(errno));
	uint32_t imported = 0;
	sl_chainstore_fail_t f;
	uint64_t t0 = sl_now_ns();
	sl_chainstore_err_t e = sl_chainstore_import(c->chain, path, &imported, &f);
	if (imported > 0)
		sl_sync_chain_moved(&c->sync);
	SL_INFO("header.import %s: %u new headers in %.1f ms (%s)", path, imported,
	        (double)(sl_now_ns() - t0) / 1e6, sl_chainstore_err_str(e));
	if (e == SL_CHAINSTORE_ERR_INVALID) {
		const char *why = sl_chainstore_reason(&f);
		api_fail(err, "INVALID_HEADER", "header at height %u refused: %s%s%s", f.height,
		         why, f.store == SL_STORE_ERR_INVALID ? " - " : "",
		         f.store == SL_STORE_ERR_INVALID && f.chain < (int)SL_CHAIN_ERR_COUNT
		             ? sl_chain_err_desc((sl_chain_err_t)f.chain)
		             : "");
		err->extra =
		    api_tip_into(c, json_pack("{s:I, s:s, s:I}", "height", (json_int_t)f.height,
		                              "reason", why, "imported", (json_int_t)imported));
		return NULL;
	}
	if (e != SL_CHAINSTORE_OK)
		return api_fail(err, "INTERNAL", "import of %s failed after %u new headers: %s",
		                path, imported, sl_chainstore_err_str(e));
	return api_tip_into(c, json_pack("{s:I}", "imported", (json_int_t)imported));
}

static json_t *api_header_export(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	sl_chainstore_tip_t t;
	sl_chainstore_tip(c->chain, &t);
	uint32_t from = 0, to = t.height;
	const char *path = api_arg_path(args, err);
	if (path == NULL || !api_arg_height(args, "from", &from, err) ||
	    !api_arg_height(args, "to", &to, err))
		return NULL;
	if (from > to || to > t.height)
		return api_fail(err, "BAD_REQUEST", "range %u..%u is not inside the chain 0..%u",
		                from, to, t.height);
	sl_chainstore_err_t e = sl_chainstore_export(c->chain, path, from, to);
	if (e != SL_CHAINSTORE_OK)
		return api_fail(err, "INTERNAL", "export to %s failed: %s (see the log)", path,
		                sl_chainstore_err_str(e));
	return json_pack("{s:I, s:I, s:I, s:s}", "exported", (json_int_t)(to - from + 1), "from",
	                 (json_int_t)from, "to", (json_int_t)to, "path", path);
}

/* ---- shutdown ---------------------------------------------------------- */

static json_t *api_shutdown(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	(void)err;
	if (!c->shutting_down)
		SL_INFO("shutdown requested over the control socket");
	bool told = sl_dplink_request_shutdown(&c->dp);
	c->shutting_down = true;
	sl_peermgr_set_shutting_down(&c->pm);
	return json_pack("{s:b, s:b}", "ctrl", true, "dataplane", told);
}

/* ---- peers ------------------------------------------------------------- */

/* The request being answered (for deferred replies). */
static json_int_t sl_api_cur_id;
static bool sl_api_deferred;

static json_t *api_pm_fail(sl_api_err_t *err, const sl_peermgr_err_t *ne)
{
	return api_fail(err, ne->code ? ne->code : "INTERNAL", "%s", ne->message);
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

static json_t *api_peers(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	(void)err;
	return sl_peermgr_peers_json(&c->pm, sl_now_ns());
}

static json_t *api_peer_show(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	uint32_t sid;
	sl_peermgr_err_t ne = {0};
	if (!api_arg_session(args, &sid, err))
		return NULL;
	json_t *r = sl_peermgr_peer_show(&c->pm, sid, sl_now_ns(), &ne);
	return r ? r : api_pm_fail(err, &ne);
}

static json_t *api_peer_disconnect(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	uint32_t sid;
	sl_peermgr_err_t ne = {0};
	if (!api_arg_session(args, &sid, err))
		return NULL;
	if (sl_peermgr_disconnect(&c->pm, sid, &ne) != 0)
		return api_pm_fail(err, &ne);
	return json_pack("{s:I, s:s}", "session", (json_int_t)sid, "state", "closing");
}

/* peer.park: park the session's header-sync service (sl_peermgr_park). */
static json_t *api_peer_park(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	uint32_t sid;
	sl_peermgr_err_t ne = {0};
	if (!api_arg_session(args, &sid, err))
		return NULL;
	if (sl_peermgr_park(&c->pm, sid, &ne) != 0)
		return api_pm_fail(err, &ne);
	return json_pack("{s:I, s:b}", "session", (json_int_t)sid, "parked", true);
}

/* peer.connect: answered when the connect ends (sl_peermgr.h). */
static json_t *api_peer_connect(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	sl_cfg_addr_t a;
	sl_peermgr_err_t ne = {0};
	if (!api_arg_addr(args, &a, err))
		return NULL;
	uint64_t waiter = sl_server_defer(&c->srv);
	if (sl_peermgr_connect(&c->pm, a.ipv4, a.port, waiter, (uint64_t)sl_api_cur_id, sl_now_ns(),
	                       &ne) != 0) {
		sl_server_undefer(&c->srv, waiter); /* the error is answered now */
		return api_pm_fail(err, &ne);
	}
	sl_api_deferred = waiter != 0;
	return sl_api_deferred ? NULL : json_pack("{s:s}", "state", "connecting");
}

static json_t *api_peer_ban(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	sl_cfg_addr_t a;
	sl_peermgr_err_t ne = {0};
	json_t *sec = json_object_get(args, "seconds");
	if (!api_arg_addr(args, &a, err))
		return NULL;
	if (sec == NULL || !json_is_integer(sec) || json_integer_value(sec) < 0 ||
	    json_integer_value(sec) > (json_int_t)UINT32_MAX)
		return api_fail(err, "BAD_REQUEST", "'seconds' must be 0 (until unban) or more");
	uint32_t s = (uint32_t)json_integer_value(sec);
	int closed = sl_peermgr_ban(&c->pm, a.ipv4, s, sl_now_ns(), &ne);
	if (closed < 0)
		return api_pm_fail(err, &ne);
	char ip[16];
	snprintf(ip, sizeof ip, "%u.%u.%u.%u", a.ipv4 >> 24, (a.ipv4 >> 16) & 255,
	         (a.ipv4 >> 8) & 255, a.ipv4 & 255);
	return json_pack("{s:s, s:I, s:I}", "addr", ip, "seconds", (json_int_t)s, "disconnected",
	                 (json_int_t)closed);
}

static json_t *api_peer_unban(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	sl_cfg_addr_t a;
	sl_peermgr_err_t ne = {0};
	if (!api_arg_addr(args, &a, err))
		return NULL;
	if (sl_peermgr_unban(&c->pm, a.ipv4, &ne) != 0)
		return api_pm_fail(err, &ne);
	char ip[16];
	snprintf(ip, sizeof ip, "%u.%u.%u.%u", a.ipv4 >> 24, (a.ipv4 >> 16) & 255,
	         (a.ipv4 >> 8) & 255, a.ipv4 & 255);
	return json_pack("{s:s, s:b}", "addr", ip, "unbanned", true);
}

/* ---- sync (sl_sync.h) --------------------------------------------------- */

/* sync.start {to_height?}: set (or, without to_height, clear) the target. */
static json_t *api_sync_start(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	json_t *h = json_object_get(args, "to_height");
	uint32_t to = SL_REACTOR_NO_TARGET;
	if (h != NULL && !json_is_null(h)) {
		if (!json_is_integer(h) || json_integer_value(h) < 0 ||
		    json_integer_value(h) >= (json_int_t)SL_REACTOR_NO_TARGET)
			return api_fail(err, "BAD_REQUEST", "'to_height' must be a height (0..%u)",
			                SL_REACTOR_NO_TARGET - 1);
		to = (uint32_t)json_integer_value(h);
	}
	return sl_sync_start(&c->sync, to);
}

static json_t *api_sync_status(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	(void)err;
	return sl_sync_status_json(&c->sync);
}

static json_t *api_ranges(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	(void)err;
	return sl_sync_ranges_json(&c->sync);
}

/* ---- dispatch (sl_cmdtab.h) --------------------------------------------- */

static json_t *api_not_built(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)c;
	(void)args;
	return api_fail(err, "UNKNOWN_CMD", "not implemented in this build");
}

#define api_ops       api_not_built
#define api_op_cancel api_not_built
#define api_watch     api_not_built

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

static json_t *api_dispatch(sl_ctrl_t *c, const char *name, json_t *args, sl_api_err_t *err)
{
	const sl_cmdtab_t *cmd = sl_cmdtab_find(name);
	if (cmd == NULL)
		return api_fail(err, "UNKNOWN_CMD", "unknown command '%s'", name);
	if (!api_args_ok(cmd, args, err))
		return NULL;
	if ((cmd->flags & SL_CMDTAB_F_DP) != 0 && c->shutting_down)
		return api_fail(err, "SHUTTING_DOWN", "sluice-ctrl is shutting down");
	if ((cmd->flags & SL_CMDTAB_F_DP) != 0 && !c->dp.attached)
		return api_fail(err, "NOT_READY",
		                "'%s' needs the dataplane and none is attached (no live sluice-dp "
		                "region at %s)",
		                name, c->dp.path);
	return sl_api_fns[cmd->id](c, args, err);
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

char *sl_api_reply_line(int64_t id, json_t *result, const char *code, const char *message,
                        json_t *extra)
{
	json_t *jid = json_integer(id);
	char *out;
	if (result != NULL) {
		out = api_reply(jid, result, NULL);
	} else {
		sl_api_err_t e = {.code = code ? code : "INTERNAL"};
		snprintf(e.message, sizeof e.message, "%s", message ? message : "");
		json_t *r = json_pack("{s:O, s:b, s:{s:s, s:s}}", "id", jid, "ok", false, "error",
		                      "code", e.code, "message", e.message);
		if (r != NULL && extra != NULL)
			json_object_update(json_object_get(r, "error"), extra);
		out = r ? json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)
		        : NULL;
		json_decref(r);
	}
	json_decref(extra);
	json_decref(jid);
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
		sl_api_cur_id = json_integer_value(id);
		sl_api_deferred = false;
		result = api_dispatch(c, name, args ? args : empty, &err);
		json_decref(empty);
		if (result == NULL && sl_api_deferred) {
			sl_api_deferred = false;
			json_decref(req);
			return NULL; /* answered later (sl_api_reply_line) */
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
