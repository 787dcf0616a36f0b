/* sl_opkind.c — see sl_opkind.h. */
#include "sl_opkind.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_time.h"

_Static_assert(sizeof(sl_opkind_sync_t) <= SL_OP_KST_MAX, "sync state fits kst");
_Static_assert(sizeof(sl_opkind_connect_t) <= SL_OP_KST_MAX, "connect state fits kst");
_Static_assert(sizeof(sl_opkind_import_t) <= SL_OP_KST_MAX, "import state fits kst");
_Static_assert(sizeof(sl_opkind_export_t) <= SL_OP_KST_MAX, "export state fits kst");

/* ---- sync.start -------------------------------------------------------------- */

static void opkind_sync_step(void *ctx, sl_op_t *op, uint64_t now_ns)
{
	sl_opkind_t *k = ctx;
	sl_opkind_sync_t *st = sl_opkind_sync_of(op);
	sl_chainstore_tip(k->cs, &st->tip);
	if (st->tip.height < st->goal)
		return;
	st->headers = st->tip.height > st->start_tip ? st->tip.height - st->start_tip : 0;
	st->seconds = (double)(now_ns - op->start_ns) / 1e9;
	sl_op_end(k->ops, op, SL_CODE_OK, NULL);
}

void sl_opkind_sync_start(sl_opkind_t *k, sl_op_t *op, uint32_t to_height)
{
	sl_opkind_sync_t *st = sl_opkind_sync_of(op);
	sl_sync_status_t ss;
	sl_sync_set_target(k->sync, to_height);
	sl_sync_status(k->sync, &ss);
	st->to_height = to_height;
	st->start_tip = ss.st.tip;
	st->goal = to_height != SL_REACTOR_NO_TARGET ? to_height
	                                             : SL_MAX(ss.st.best_peer_height, ss.st.tip);
	SL_INFO("op %llu: sync.start to height %u (tip %u)", (unsigned long long)op->tx, st->goal,
	        st->start_tip);
	opkind_sync_step(k, op, sl_op_now(k->ops));
}

/* ---- peer.connect ------------------------------------------------------------- */

static void opkind_connect_fail(sl_opkind_t *k, sl_op_t *op, const sl_peermgr_err_t *e)
{
	sl_opkind_connect_t *st = sl_opkind_connect_of(op);
	st->reject_reason = e->reject_reason;
	st->retry_after_s = e->retry_after_s;
	sl_op_end(k->ops, op, e->code != SL_CODE_OK ? e->code : SL_CODE_INTERNAL, "%s", e->message);
}

/* The peer manager's connect_end: token is the op's tx. */
static void opkind_connect_end(void *ctx, uint64_t token, const sl_peermgr_connect_end_t *e)
{
	sl_opkind_t *k = ctx;
	sl_op_t *op = sl_op_find(k->ops, token);
	if (op == NULL || op->state != SL_OP_RUNNING || op->kind != SL_OP_KIND_PEER_CONNECT)
		return;
	if (e->err.code != SL_CODE_OK) {
		opkind_connect_fail(k, op, &e->err);
		return;
	}
	sl_opkind_connect_of(op)->peer = e->peer;
	sl_op_end(k->ops, op, SL_CODE_OK, NULL);
}

static void opkind_connect_stop(void *ctx, sl_op_t *op)
{
	sl_opkind_t *k = ctx;
	sl_peermgr_connect_abandon(k->pm, sl_opkind_connect_of(op)->sid, op->tx);
}

void sl_opkind_peer_connect(sl_opkind_t *k, sl_op_t *op, uint32_t ip, uint16_t port)
{
	sl_opkind_connect_t *st = sl_opkind_connect_of(op);
	sl_peermgr_err_t e = {0};
	st->ip = ip;
	st->port = port;
	op->attempts = 1;
	if (sl_peermgr_connect(k->pm, ip, port, op->tx, sl_now_ns(), &st->sid, &e) != 0)
		opkind_connect_fail(k, op, &e);
}

/* ---- header.import / header.export --------------------------------------------- */

void sl_opkind_header_import(sl_opkind_t *k, sl_op_t *op, const char *path)
{
	sl_opkind_import_t *st = sl_opkind_import_of(op);
	sl_chainstore_fail_t f = {0};
	snprintf(st->path, sizeof st->path, "%s", path);
	if (access(path, R_OK) != 0) {
		sl_op_end(k->ops, op, SL_CODE_NOT_FOUND, "cannot read %s: %s", path,
		          strerror(errno));
		return;
	}
	uint64_t t0 = sl_now_ns();
	sl_chainstore_err_t e = sl_chainstore_import(k->cs, path, &st->imported, &f);
	if (st->imported > 0)
		sl_sync_chain_moved(k->sync);
	sl_chainstore_tip(k->cs, &st->tip);
	SL_INFO("header.import %s: %u new headers in %.1f ms (%s)", path, st->imported,
	        (double)(sl_now_ns() - t0) / 1e6, sl_chainstore_err_str(e));
	if (e == SL_CHAINSTORE_ERR_INVALID) {
		bool rule = f.store == SL_STORE_ERR_INVALID && f.chain < (int)SL_CHAIN_ERR_COUNT;
		st->fail_height = f.height;
		st->fail_reason = sl_chainstore_reason(&f);
		sl_op_end(k->ops, op, SL_CODE_INVALID_HEADER, "header at height %u refused: %s%s%s",
		          f.height, st->fail_reason, rule ? " - " : "",
		          rule ? sl_chain_err_desc((sl_chain_err_t)f.chain) : "");
	} else if (e != SL_CHAINSTORE_OK) {
		sl_op_end(k->ops, op, SL_CODE_INTERNAL,
		          "import of %s failed after %u new headers: %s", path, st->imported,
		          sl_chainstore_err_str(e));
	} else {
		sl_op_end(k->ops, op, SL_CODE_OK, NULL);
	}
}

void sl_opkind_header_export(sl_opkind_t *k, sl_op_t *op, const char *path, uint32_t from,
                             uint32_t to)
{
	sl_opkind_export_t *st = sl_opkind_export_of(op);
	snprintf(st->path, sizeof st->path, "%s", path);
	st->from = from;
	st->to = to;
	sl_chainstore_err_t e = sl_chainstore_export(k->cs, path, from, to);
	if (e != SL_CHAINSTORE_OK)
		sl_op_end(k->ops, op, SL_CODE_INTERNAL, "export to %s failed: %s (see the log)",
		          path, sl_chainstore_err_str(e));
	else
		sl_op_end(k->ops, op, SL_CODE_OK, NULL);
}

/* ---- wiring ---------------------------------------------------------------------- */

static const sl_op_vt_t sl_opkind_sync_vt = {.step = opkind_sync_step};
static const sl_op_vt_t sl_opkind_connect_vt = {.stop = opkind_connect_stop};

void sl_opkind_init(sl_opkind_t *k, sl_op_table_t *ops, sl_peermgr_t *pm, sl_sync_t *sync,
                    sl_chainstore_t *cs)
{
	*k = (sl_opkind_t){.ops = ops, .pm = pm, .sync = sync, .cs = cs};
	sl_op_set_kind(ops, SL_OP_KIND_SYNC_START, &sl_opkind_sync_vt, k);
	sl_op_set_kind(ops, SL_OP_KIND_PEER_CONNECT, &sl_opkind_connect_vt, k);
	sl_peermgr_set_connect_hook(pm, opkind_connect_end, k);
}
