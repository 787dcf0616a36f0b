/* sl_render.c — see sl_render.h. */
#include "sl_render.h"

#include <stdio.h>
#include <string.h>

#include "sl_chain.h"
#include "sl_session.h"
#include "sl_time.h"

void sl_render_hex(char *out, const uint8_t *b, size_t n)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void sl_render_addr(char *out, uint32_t ip, uint16_t port)
{
	int n =
	    snprintf(out, 24, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	if (port != 0)
		snprintf(out + n, 24 - (size_t)n, ":%u", port);
}

/* ---- peers ------------------------------------------------------------------ */

static json_t *render_streams(uint32_t streams)
{
	json_t *a = json_array();
	for (unsigned s = 0; s < 32; s++)
		if ((streams >> s) & 1u)
			json_array_append_new(a, json_integer(s));
	return a;
}

json_t *sl_render_peer(const sl_peermgr_view_t *v)
{
	char addr[24], id[65];
	sl_render_addr(addr, v->ip, v->port);
	sl_render_hex(id, v->node_id, 32);
	json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:I, s:s, s:b, s:I, s:I}", "session",
	                      (json_int_t)v->sid, "addr", addr, "node_id", id, "streams",
	                      render_streams(v->streams), "rtt_us", (json_int_t)v->rtt_us, "state",
	                      v->state, "outbound", v->outbound, "since_s", (json_int_t)v->since_s,
	                      "misbehavior", (json_int_t)v->misbehavior);
	if (o != NULL)
		json_object_set_new(o, "hs_parked", json_boolean(v->hs_parked));
	return o;
}

static json_t *render_sess_counters(const sl_session_info_t *info)
{
	json_t *o = json_object();
#define SL_RENDER_SESS_CNT(f, s) json_object_set_new(o, s, json_integer((json_int_t)info->cnt.f));
	SL_SESSION_CNT_LIST(SL_RENDER_SESS_CNT)
#undef SL_RENDER_SESS_CNT
	return o;
}

json_t *sl_render_peer_detail(const sl_peermgr_detail_t *d)
{
	json_t *o = sl_render_peer(&d->v);
	if (o == NULL)
		return o;
	json_t *kinds = json_object();
	for (unsigned k = 1; k < SL_MISB_CNT; k++)
		if (d->misb_kind[k] != 0)
			json_object_set_new(kinds, sl_misb_str(k), json_integer(d->misb_kind[k]));
	json_object_set_new(o, "lcore", json_integer(d->lcore));
	json_object_set_new(o, "slot", json_integer(d->slot));
	json_object_set_new(o, "generation", json_integer(d->generation));
	json_object_set_new(o, "remote_session", json_integer(d->remote_session));
	json_object_set_new(o, "suspect", json_boolean(d->suspect));
	json_object_set_new(o, "phi", json_real(d->phi));
	json_object_set_new(o, "misbehavior_kinds", kinds);
	json_object_set_new(o, "last_misbehavior", json_string(sl_misb_str(d->misb_last)));
	json_object_set_new(o, "live_in_dataplane", json_boolean(d->live));
	json_object_set_new(o, "counters",
	                    d->live ? render_sess_counters(&d->info) : json_object());
	return o;
}

json_t *sl_render_pm_stats(const sl_peermgr_stats_t *s)
{
	json_t *o = json_object();
#define SL_RENDER_PM_CNT(f, name) json_object_set_new(o, name, json_integer((json_int_t)s->cnt.f));
	SL_PEERMGR_CNT_LIST(SL_RENDER_PM_CNT)
#undef SL_RENDER_PM_CNT
	json_object_set_new(o, "sessions_live", json_integer(s->sessions_live));
	json_object_set_new(o, "slots_used", json_integer(s->slots_used));
	json_object_set_new(o, "admitted", json_integer(s->admitted));
	json_object_set_new(o, "unproven", json_integer(s->unproven));
	json_object_set_new(o, "book_entries", json_integer(s->book_entries));
	json_object_set_new(o, "book_rejected", json_integer((json_int_t)s->book_rejected));
	json_t *by = json_object();
	for (unsigned e = 0; e < SL_EXIT_CNT; e++)
		json_object_set_new(by, sl_exit_str(e),
		                    json_integer((json_int_t)s->down_by_exit[e]));
	json_object_set_new(o, "down_by_exit", by);
	json_object_set_new(o, "down_total", json_integer((json_int_t)s->down_total));
	json_object_set_new(o, "down_repeated", json_integer((json_int_t)s->down_repeated));
	return o;
}

/* ---- sync ------------------------------------------------------------------- */

static json_t *render_height(uint32_t h)
{
	return h == SL_REACTOR_NO_TARGET ? json_null() : json_integer((json_int_t)h);
}

static json_t *render_sync_counters(const sl_sync_status_t *s)
{
	const sl_reactor_status_t *st = &s->st;
	return json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I}",
	    "committed", (json_int_t)st->committed, "timeouts", (json_int_t)st->timeouts, "invalid",
	    (json_int_t)st->invalid, "dup", (json_int_t)st->dup, "outside", (json_int_t)st->outside,
	    "ignored", (json_int_t)st->ignored, "forks", (json_int_t)st->forks, "reorgs",
	    (json_int_t)st->reorgs, "out_full", (json_int_t)st->out_full, "stray_holds",
	    (json_int_t)st->stray_holds, "false_tips", (json_int_t)st->false_tips, "false_works",
	    (json_int_t)st->false_works, "events", (json_int_t)s->cnt.events, "drops_sent",
	    (json_int_t)s->cnt.drops_sent, "drop_parks", (json_int_t)s->cnt.drop_parks,
	    "drop_failed", (json_int_t)s->cnt.drop_failed, "misbehavior",
	    (json_int_t)s->cnt.misbehavior, "fork_outputs", (json_int_t)s->cnt.forks,
	    "invariant_checks", (json_int_t)st->inv_checks, "invariant_broken",
	    (json_int_t)st->inv_broken);
}

static json_t *render_sync_branch(const sl_sync_status_t *s)
{
	const sl_branch_cnt_t *b = &s->branch;
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	                 "busy", s->branch_busy, "forks", (json_int_t)b->forks, "dropped",
	                 (json_int_t)b->dropped, "attempts", (json_int_t)b->attempts, "late",
	                 (json_int_t)b->late, "extends", (json_int_t)b->extends, "gave_up",
	                 (json_int_t)b->gave_up, "invalid", (json_int_t)b->invalid, "lighter",
	                 (json_int_t)b->lighter, "switched", (json_int_t)b->switched, "last_fork",
	                 (json_int_t)b->last_fork, "last_len", (json_int_t)b->last_len,
	                 "fetch_park", (json_int_t)s->cnt.fetch_park);
}

static json_t *render_sync_new_block(const sl_sync_status_t *s)
{
	const sl_sync_cnt_t *c = &s->cnt;
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx", (json_int_t)c->nb_rx,
	                 "dup", (json_int_t)c->nb_dup, "accepted", (json_int_t)c->nb_accepted,
	                 "invalid", (json_int_t)c->nb_invalid, "other", (json_int_t)c->nb_other,
	                 "relayed", (json_int_t)c->nb_relayed, "relay_drop",
	                 (json_int_t)c->nb_relay_drop, "announced", (json_int_t)c->nb_announced);
}

json_t *sl_render_sync_status(const sl_sync_status_t *s)
{
	const sl_reactor_status_t *st = &s->st;
	return json_pack(
	    "{s:s, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:o}", "state",
	    s->state, "tip", (json_int_t)st->tip, "appended", (json_int_t)st->appended, "target",
	    render_height(st->target), "best_peer_height", (json_int_t)st->best_peer_height,
	    "peers", (json_int_t)st->peers, "queued", (json_int_t)st->queued, "held",
	    (json_int_t)st->held, "covered", (json_int_t)st->covered, "buffered",
	    (json_int_t)st->buffered, "assignments", (json_int_t)st->assignments, "committed_per_s",
	    st->committed_per_s, "counters", render_sync_counters(s), "branch",
	    render_sync_branch(s), "new_block", render_sync_new_block(s));
}

json_t *sl_render_range(const sl_range_info_t *ri)
{
	json_t *holders = json_array();
	for (uint32_t k = 0; k < ri->n_holds && k < SL_RANGEQ_MAX_FANOUT; k++)
		json_array_append_new(holders,
		                      json_pack("{s:I, s:I}", "session", (json_int_t)ri->sess[k],
		                                "gen", (json_int_t)ri->gen[k]));
	return json_pack("{s:I, s:I, s:s, s:s, s:o}", "start", (json_int_t)ri->range.start, "len",
	                 (json_int_t)ri->range.len, "dir",
	                 ri->range.dir == SL_RANGE_BWD ? "bwd" : "fwd", "state",
	                 ri->n_holds > 0 ? "held" : "queued", "holders", holders);
}

json_t *sl_render_tip_into(const sl_chainstore_tip_t *t, json_t *o)
{
	char d[SL_CHAIN_DISPLAY_LEN];
	sl_chain_hash_display(t->hash, d);
	json_object_set_new(o, "tip_height", json_integer((json_int_t)t->height));
	json_object_set_new(o, "tip_hash", json_string(d));
	return o;
}

/* ---- ops -------------------------------------------------------------------- */

/* header.fetch: header.get's result plus source ("store" or the peer). */
static json_t *render_fetch(const sl_opnet_fetch_t *f)
{
	char d[SL_CHAIN_DISPLAY_LEN], hex[161], src[24];
	sl_chain_hash_display(f->hash, d);
	sl_render_hex(hex, f->hdr, 80);
	if (f->from_store)
		snprintf(src, sizeof src, "store");
	else
		sl_render_addr(src, f->src_ip, f->src_port);
	return json_pack("{s:I, s:s, s:s, s:s}", "height", (json_int_t)f->height, "hash", d,
	                 "header", hex, "source", src);
}

/* peer.ping: {session, rtt_us}; {all}: {results: [{session, rtt_us} or
   {session, error: {code, message}}]}. */
static json_t *render_ping(const sl_opnet_ping_t *p)
{
	if (!p->all)
		return json_pack("{s:I, s:I}", "session", (json_int_t)p->sid, "rtt_us",
		                 (json_int_t)p->rtt_us);
	json_t *a = json_array();
	for (uint32_t i = 0; i < p->n; i++) {
		const sl_opnet_ping_res_t *r = &p->res[i];
		if (r->code == SL_CODE_OK)
			json_array_append_new(a,
			                      json_pack("{s:I, s:I}", "session", (json_int_t)r->sid,
			                                "rtt_us", (json_int_t)r->rtt_us));
		else
			json_array_append_new(a, json_pack("{s:I, s:{s:s}}", "session",
			                                   (json_int_t)r->sid, "error", "code",
			                                   sl_code_str(r->code)));
	}
	return json_pack("{s:o}", "results", a);
}

static json_t *render_op_kind_result(const sl_op_t *op)
{
	switch (op->kind) {
	case SL_OP_KIND_SYNC_START: {
		const sl_opkind_sync_t *s = sl_opkind_sync_of(op);
		json_t *o = sl_render_tip_into(&s->tip, json_object());
		json_object_set_new(o, "headers", json_integer(s->headers));
		json_object_set_new(o, "seconds", json_real(s->seconds));
		json_object_set_new(o, "target", render_height(s->to_height));
		return o;
	}
	case SL_OP_KIND_PEER_CONNECT:
		return sl_render_peer(&sl_opkind_connect_of(op)->peer);
	case SL_OP_KIND_HEADER_IMPORT: {
		const sl_opkind_import_t *s = sl_opkind_import_of(op);
		return sl_render_tip_into(
		    &s->tip, json_pack("{s:I, s:I, s:I}", "imported", (json_int_t)s->imported,
		                       "done", (json_int_t)s->done, "total", (json_int_t)s->total));
	}
	case SL_OP_KIND_HEADER_EXPORT: {
		const sl_opkind_export_t *s = sl_opkind_export_of(op);
		return json_pack("{s:I, s:I, s:I, s:s, s:I, s:I}", "exported",
		                 (json_int_t)(s->to - s->from + 1), "from", (json_int_t)s->from,
		                 "to", (json_int_t)s->to, "path", s->path, "done",
		                 (json_int_t)s->done, "total", (json_int_t)s->total);
	}
	case SL_OP_KIND_HEADER_FETCH:
		return render_fetch(sl_opnet_fetch_of(op));
	case SL_OP_KIND_PEER_PING:
		return render_ping(sl_opnet_ping_of(op));
	default:
		return json_object();
	}
}

json_t *sl_render_op_result(const sl_op_t *op)
{
	json_t *o = json_pack("{s:I}", "tx", (json_int_t)op->tx);
	json_t *r = render_op_kind_result(op);
	if (o != NULL && r != NULL)
		json_object_update(o, r);
	json_decref(r);
	return o;
}

json_t *sl_render_op_error_extra(const sl_op_t *op)
{
	json_t *o = json_pack("{s:I}", "tx", (json_int_t)op->tx);
	if (o == NULL)
		return o;
	if (op->kind == SL_OP_KIND_HEADER_IMPORT && op->code == SL_CODE_INVALID_HEADER) {
		const sl_opkind_import_t *s = sl_opkind_import_of(op);
		json_object_set_new(o, "height", json_integer(s->fail_height));
		json_object_set_new(o, "reason",
		                    json_string(s->fail_reason ? s->fail_reason : "?"));
		json_object_set_new(o, "imported", json_integer(s->imported));
		sl_render_tip_into(&s->tip, o);
	}
	if (op->kind == SL_OP_KIND_PEER_CONNECT && sl_opkind_connect_of(op)->reject_reason) {
		const sl_opkind_connect_t *s = sl_opkind_connect_of(op);
		json_object_set_new(o, "reject_reason", json_string(s->reject_reason));
		json_object_set_new(o, "retry_after_s", json_integer(s->retry_after_s));
	}
	return o;
}

static json_t *render_op_error(const sl_op_t *op)
{
	json_t *e = json_pack("{s:s, s:s}", "code", sl_code_str(op->code), "message", op->message);
	json_t *x = sl_render_op_error_extra(op);
	if (e != NULL && x != NULL)
		json_object_update(e, x);
	json_decref(x);
	return e;
}

json_t *sl_render_op_progress(const sl_op_t *op)
{
	if (op->kind == SL_OP_KIND_HEADER_IMPORT)
		return json_pack("{s:I, s:I}", "done", (json_int_t)sl_opkind_import_of(op)->done,
		                 "total", (json_int_t)sl_opkind_import_of(op)->total);
	if (op->kind == SL_OP_KIND_HEADER_EXPORT)
		return json_pack("{s:I, s:I}", "done", (json_int_t)sl_opkind_export_of(op)->done,
		                 "total", (json_int_t)sl_opkind_export_of(op)->total);
	return NULL;
}

json_t *sl_render_op(const sl_op_t *op, uint64_t now_ns)
{
	json_t *o =
	    json_pack("{s:I, s:s, s:s, s:I, s:o, s:I, s:o}", "tx", (json_int_t)op->tx, "kind",
	              sl_op_kind_str(op->kind), "state", sl_op_state_str(op->state), "age_ms",
	              (json_int_t)((now_ns - op->start_ns) / SL_NS_PER_MS), "deadline_ms",
	              op->deadline_ms ? json_integer((json_int_t)op->deadline_ms) : json_null(),
	              "attempts", (json_int_t)op->attempts, "parent",
	              op->parent ? json_integer((json_int_t)op->parent) : json_null());
	json_t *p = o != NULL ? sl_render_op_progress(op) : NULL;
	if (p != NULL)
		json_object_set_new(o, "progress", p);
	if (o == NULL || op->state == SL_OP_RUNNING)
		return o;
	if (op->state == SL_OP_DONE)
		json_object_set_new(o, "result", sl_render_op_result(op));
	else
		json_object_set_new(o, "error", render_op_error(op));
	return o;
}
