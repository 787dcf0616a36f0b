/* sl_apiwatch.c — see sl_apiwatch.h. */
#include "sl_apiwatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sl_log.h"
#include "sl_msg.h"
#include "sl_render.h"
#include "sl_time.h"

/* Publish o (stolen) as one line on topic t. */
static void apiwatch_publish(sl_ctrl_t *c, sl_watch_topic_t t, json_t *o)
{
	if (o == NULL)
		return;
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(o);
	if (s == NULL)
		return;
	sl_watch_publish(&c->watch, t, s, strlen(s));
	free(s);
	sl_server_feed_kick(&c->srv);
}

/* ---- ops ------------------------------------------------------------------------ */

static json_t *apiwatch_op(const char *type, const sl_op_t *op)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:s}", "event", "ops", "type", type, "tx",
	                      (json_int_t)op->tx, "kind", sl_op_kind_str(op->kind), "state",
	                      sl_op_state_str(op->state));
	if (o == NULL)
		return NULL;
	if (op->parent != 0)
		json_object_set_new(o, "parent", json_integer((json_int_t)op->parent));
	json_t *p = sl_render_op_progress(op);
	if (p != NULL)
		json_object_set_new(o, "progress", p);
	if (op->state == SL_OP_DONE) {
		json_object_set_new(o, "result", sl_render_op_result(op));
	} else if (op->state != SL_OP_RUNNING) {
		json_t *e =
		    json_pack("{s:s, s:s}", "code", sl_code_str(op->code), "message", op->message);
		json_t *x = sl_render_op_error_extra(op);
		if (e != NULL && x != NULL)
			json_object_update(e, x);
		json_decref(x);
		json_object_set_new(o, "error", e);
	}
	return o;
}

static void apiwatch_op_start(void *ctx, const sl_op_t *op)
{
	sl_ctrl_t *c = ctx;
	if (sl_watch_wants(&c->watch, SL_WATCH_OPS))
		apiwatch_publish(c, SL_WATCH_OPS, apiwatch_op("op_start", op));
}

static void apiwatch_op_progress(void *ctx, const sl_op_t *op)
{
	sl_ctrl_t *c = ctx;
	if (sl_watch_wants(&c->watch, SL_WATCH_OPS))
		apiwatch_publish(c, SL_WATCH_OPS, apiwatch_op("op_progress", op));
}

void sl_apiwatch_op_done(sl_ctrl_t *c, const sl_op_t *op)
{
	if (sl_watch_wants(&c->watch, SL_WATCH_OPS))
		apiwatch_publish(c, SL_WATCH_OPS, apiwatch_op("op_done", op));
}

/* ---- peers, misbehavior -------------------------------------------------------------- */

static void apiwatch_peer_note(void *ctx, const sl_peermgr_note_t *e)
{
	sl_ctrl_t *c = ctx;
	char addr[24];
	sl_render_addr(addr, e->ip, e->port);
	if (e->kind == SL_PEERMGR_NOTE_MISBEHAVIOR) {
		if (sl_watch_wants(&c->watch, SL_WATCH_MISBEHAVIOR))
			apiwatch_publish(c, SL_WATCH_MISBEHAVIOR,
			                 json_pack("{s:s, s:I, s:s, s:s}", "event", "misbehavior",
			                           "session", (json_int_t)e->sid, "addr", addr,
			                           "kind", sl_misb_str(e->misb)));
		return;
	}
	if (!sl_watch_wants(&c->watch, SL_WATCH_PEERS))
		return;
	json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "event", "peers", "type",
	                      e->kind == SL_PEERMGR_NOTE_UP ? "up" : "down", "session",
	                      (json_int_t)e->sid, "addr", addr);
	if (o != NULL && e->kind == SL_PEERMGR_NOTE_DOWN)
		json_object_set_new(o, "reason", json_string(e->reason ? e->reason : "?"));
	apiwatch_publish(c, SL_WATCH_PEERS, o);
}

/* ---- sync -------------------------------------------------------------------------- */

void sl_apiwatch_tick(sl_ctrl_t *c, uint64_t now_ns)
{
	sl_ctrl_watch_sync_t *w = &c->watch_sync;
	if (!sl_watch_wants(&c->watch, SL_WATCH_SYNC) || now_ns - w->at_ns < SL_APIWATCH_SYNC_NS)
		return;
	sl_sync_status_t ss;
	sl_sync_status(&c->sync, &ss);
	uint32_t tip = ss.st.tip, target = ss.st.target;
	if (w->at_ns != 0 && tip == w->tip && target == w->target &&
	    now_ns - w->at_ns < SL_NS_PER_S)
		return; /* nothing moved: one line a second at most */
	double dt = w->at_ns != 0 ? (double)(now_ns - w->at_ns) / 1e9 : 0;
	double rate = dt > 0 && tip > w->tip ? (double)(tip - w->tip) / dt : 0;
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "event", "sync", "type", "progress",
	                      "tip_height", (json_int_t)tip, "headers_per_s", (json_int_t)rate,
	                      "state", ss.state);
	if (o != NULL)
		json_object_set_new(o, "target_height",
		                    target == SL_REACTOR_NO_TARGET ? json_null()
		                                                   : json_integer(target));
	*w = (sl_ctrl_watch_sync_t){.at_ns = now_ns, .tip = tip, .target = target};
	apiwatch_publish(c, SL_WATCH_SYNC, o);
}

/* ---- subscriptions ----------------------------------------------------------------- */

static size_t apiwatch_peek(void *ctx, uint64_t serial, const char **buf)
{
	sl_ctrl_t *c = ctx;
	return sl_watch_peek(&c->watch, serial, buf);
}

static void apiwatch_consume(void *ctx, uint64_t serial, size_t n)
{
	sl_ctrl_t *c = ctx;
	sl_watch_consume(&c->watch, serial, n);
}

static void apiwatch_gone(void *ctx, uint64_t serial)
{
	sl_ctrl_t *c = ctx;
	sl_watch_close(&c->watch, serial);
}

static const sl_server_feed_t sl_apiwatch_feed = {
    .peek = apiwatch_peek, .consume = apiwatch_consume, .gone = apiwatch_gone};

void sl_apiwatch_init(sl_ctrl_t *c)
{
	sl_server_set_feed(&c->srv, &sl_apiwatch_feed, c);
	sl_op_set_note_hooks(&c->ops, apiwatch_op_start, apiwatch_op_progress, c);
	sl_peermgr_set_note_hook(&c->pm, apiwatch_peer_note, c);
}

/* The reply to a subscription: {"id","ok":true,"result":{"topics":[...]}}
   or its error; the subscriber then streams. */
static void apiwatch_answer(sl_ctrl_t *c, const sl_watch_sub_t *s, sl_code_t code)
{
	json_t *r;
	if (code == SL_CODE_OK) {
		json_t *topics = json_array();
		for (unsigned t = 0; t < SL_WATCH_TOPIC_CNT; t++)
			if ((s->topics >> t) & 1u)
				json_array_append_new(
				    topics, json_string(sl_watch_topic_str((sl_watch_topic_t)t)));
		r = json_pack("{s:I, s:b, s:{s:o}}", "id", (json_int_t)s->req_id, "ok", true,
		              "result", "topics", topics);
	} else {
		r = json_pack("{s:I, s:b, s:{s:s, s:s}}", "id", (json_int_t)s->req_id, "ok", false,
		              "error", "code", sl_code_str(code), "message",
		              code == SL_CODE_BUSY ? "no stream permit free within 5 s"
		                                   : "sluice-ctrl is shutting down");
		c->cnt.api_errors++;
	}
	char *line = r ? json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(r);
	uint64_t client = s->client;
	int rc = line ? sl_server_reply(&c->srv, client, line) : -1;
	free(line);
	if (code != SL_CODE_OK)
		return;
	if (rc != 0 || sl_server_feed_on(&c->srv, client) != 0)
		sl_watch_close(&c->watch, client); /* it left meanwhile */
}

sl_code_t sl_apiwatch_open(sl_ctrl_t *c, uint32_t topics, int64_t req_id)
{
	uint64_t client = sl_server_defer(&c->srv);
	sl_watch_sub_t *s = NULL;
	sl_code_t code = sl_watch_open(&c->watch, client, req_id, topics, &s);
	if (code != SL_CODE_OK) {
		sl_server_undefer(&c->srv, client);
		return code;
	}
	if (s->state == SL_WATCH_SUB_LIVE) /* no read path: granted at once */
		apiwatch_answer(c, s, SL_CODE_OK);
	return SL_CODE_OK;
}

void sl_apiwatch_granted(sl_ctrl_t *c, const sl_storeread_done_t *d)
{
	uint64_t client = 0;
	int64_t req_id = 0;
	uint32_t topics = 0;
	for (uint32_t i = 0; i < SL_WATCH_SUBS_MAX; i++)
		if (c->watch.sub[i].state == SL_WATCH_SUB_WAITING &&
		    c->watch.sub[i].cookie == d->cookie) {
			client = c->watch.sub[i].client;
			req_id = c->watch.sub[i].req_id;
			topics = c->watch.sub[i].topics;
		}
	sl_watch_sub_t *s = sl_watch_granted(&c->watch, d);
	if (s == NULL)
		return;
	if (s->state == SL_WATCH_SUB_LIVE) {
		apiwatch_answer(c, s, SL_CODE_OK);
		return;
	}
	sl_watch_sub_t gone = {.client = client, .req_id = req_id, .topics = topics};
	apiwatch_answer(c, &gone,
	                d->err == SL_STOREREAD_ERR_SHUTTING_DOWN ? SL_CODE_SHUTTING_DOWN
	                                                         : SL_CODE_BUSY);
}
