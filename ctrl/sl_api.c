/* sl_api.c — see sl_api.h.  Handlers build a jansson `result` or fill an error;
   sl_api_line wraps either in the reply envelope. */
#include "sl_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sl_ctrl.h"
#include "sl_genesis.h"
#include "sl_counters.h"
#include "sl_log.h"
#include "sl_time.h"

typedef struct {
	const char *code;
	char message[256];
} sl_api_err_t;

/* A handler returns the result (a new reference) or NULL with *err set. */
typedef json_t *(*sl_api_fn)(sl_ctrl_t *c, json_t *args, sl_api_err_t *err);

#define SL_API_NEEDS_DP 1u /* answers NOT_READY while no dataplane is attached */

typedef struct {
	const char *name;
	sl_api_fn fn; /* NULL: not implemented in this build */
	uint32_t flags;
	const char *const *args; /* keys it accepts (NULL-terminated), NULL: none */
} sl_api_cmd_t;

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

static json_t *api_status(sl_ctrl_t *c, json_t *args, sl_api_err_t *err)
{
	(void)args;
	const char *tip = sl_genesis_display_hex(c->cfg.profile);
	if (SL_UNLIKELY(tip == NULL))
		return api_fail(err, "INTERNAL", "no genesis known for chain profile '%s'",
		                c->cfg.profile);
	uint64_t up = (sl_now_ns() - c->start_ns) / SL_NS_PER_S;
	return json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:o, s:I, s:s, s:I}", "state",
	                 sl_ctrl_state(c), "tip_height", (json_int_t)0, "tip_hash", tip, "peers",
	                 (json_int_t)0, "chain", c->cfg.profile, "instance", c->cfg.instance,
	                 "dataplane", api_dataplane(c), "uptime_s", (json_int_t)up, "version",
	                 SL_VERSION, "pid", (json_int_t)getpid());
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
	return json_pack("{s:o, s:o}", "dataplane", api_stats_dp(c), "ctrl", ctrl);
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
	return json_pack("{s:b, s:b}", "ctrl", true, "dataplane", told);
}

/* ---- dispatch ---------------------------------------------------------- */

static const char *const sl_api_a_session[] = {"session", NULL};
static const char *const sl_api_a_addr[] = {"addr", NULL};
static const char *const sl_api_a_ban[] = {"addr", "seconds", NULL};
static const char *const sl_api_a_sync[] = {"to_height", NULL};
static const char *const sl_api_a_hget[] = {"height", "hash", NULL};
static const char *const sl_api_a_path[] = {"path", NULL};
static const char *const sl_api_a_export[] = {"path", "from", "to", NULL};
static const char *const sl_api_a_tx[] = {"tx", NULL};
static const char *const sl_api_a_watch[] = {"topics", NULL};

/* Every SPEC §9 command, one line each.  Adding a command = filling its fn. */
static const sl_api_cmd_t sl_api_cmds[] = {
    {"status", api_status, 0, NULL},
    {"stats", api_stats, 0, NULL},
    {"shutdown", api_shutdown, 0, NULL},
    {"peers", NULL, SL_API_NEEDS_DP, NULL},
    {"peer.show", NULL, SL_API_NEEDS_DP, sl_api_a_session},
    {"peer.disconnect", NULL, SL_API_NEEDS_DP, sl_api_a_session},
    {"peer.ban", NULL, 0, sl_api_a_ban},
    {"peer.unban", NULL, 0, sl_api_a_addr},
    {"peer.connect", NULL, SL_API_NEEDS_DP, sl_api_a_addr},
    {"sync.start", NULL, SL_API_NEEDS_DP, sl_api_a_sync},
    {"sync.status", NULL, 0, NULL},
    {"header.get", NULL, 0, sl_api_a_hget},
    {"header.import", NULL, 0, sl_api_a_path},
    {"header.export", NULL, 0, sl_api_a_export},
    {"ops", NULL, 0, NULL},
    {"op.cancel", NULL, 0, sl_api_a_tx},
    {"ranges", NULL, 0, NULL},
    {"watch", NULL, 0, sl_api_a_watch},
};

static const sl_api_cmd_t *api_find(const char *name)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(sl_api_cmds); i++)
		if (strcmp(sl_api_cmds[i].name, name) == 0)
			return &sl_api_cmds[i];
	return NULL;
}

/* Every key of `args` must be one the command accepts. */
static bool api_args_ok(const sl_api_cmd_t *cmd, json_t *args, sl_api_err_t *err)
{
	const char *key;
	json_t *val;
	json_object_foreach(args, key, val)
	{
		bool found = false;
		for (const char *const *a = cmd->args; a != NULL && *a != NULL && !found; a++)
			found = strcmp(*a, key) == 0;
		if (!found) {
			api_fail(err, "BAD_REQUEST", "'%s' takes no argument '%s'", cmd->name, key);
			return false;
		}
	}
	return true;
}

static json_t *api_dispatch(sl_ctrl_t *c, const char *name, json_t *args, sl_api_err_t *err)
{
	const sl_api_cmd_t *cmd = api_find(name);
	if (cmd == NULL)
		return api_fail(err, "UNKNOWN_CMD", "unknown command '%s'", name);
	if (cmd->fn == NULL)
		return api_fail(err, "UNKNOWN_CMD", "'%s' is not implemented in this build", name);
	if (!api_args_ok(cmd, args, err))
		return NULL;
	if ((cmd->flags & SL_API_NEEDS_DP) != 0 && c->shutting_down)
		return api_fail(err, "SHUTTING_DOWN", "sluice-ctrl is shutting down");
	if ((cmd->flags & SL_API_NEEDS_DP) != 0 && !c->dp.attached)
		return api_fail(err, "NOT_READY",
		                "'%s' needs the dataplane and none is attached (no live sluice-dp "
		                "region at %s)",
		                name, c->dp.path);
	return cmd->fn(c, args, err);
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
	if (SL_UNLIKELY(r == NULL))
		return NULL;
	char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(r);
	return s;
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
		result = api_dispatch(c, name, args ? args : empty, &err);
		json_decref(empty);
	}
	if (result == NULL) {
		c->cnt.api_errors++;
		SL_DEBUG("request %s answered %s: %s", name ? name : "?", err.code, err.message);
	}
	char *out = api_reply(id, result, &err);
	json_decref(req);
	return out;
}
