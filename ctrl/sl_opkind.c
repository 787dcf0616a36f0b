/* sl_opkind.c — see sl_opkind.h. */
#include "sl_opkind.h"

#include <errno.h>
#include <fcntl.h>
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
	sl_chainstore_durable(k->cs, &st->tip); /* synced: on disk */
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

/* ---- header.import ----------------------------------------------------------- */

static void opkind_note(sl_opkind_t *k, sl_op_t *op, uint64_t *note_ns)
{
	uint64_t now = sl_now_ns();
	if (now - *note_ns < SL_OPKIND_NOTE_NS)
		return;
	*note_ns = now;
	sl_op_progress(k->ops, op);
}

static void opkind_import_close(sl_opkind_t *k, sl_opkind_import_t *st)
{
	if (!st->open)
		return;
	sl_chainstore_import_abort(k->cs, &st->imp);
	st->open = false;
	k->n_sliced--;
}

static void opkind_import_finish(sl_opkind_t *k, sl_op_t *op, sl_chainstore_err_t e,
                                 const sl_chainstore_fail_t *f)
{
	sl_opkind_import_t *st = sl_opkind_import_of(op);
	opkind_import_close(k, st);
	sl_chainstore_tip(k->cs, &st->tip);
	SL_INFO("header.import %s: %u new headers in %.1f ms (%s) tx=%llu imported=%u tip=%u",
	        st->path, st->imported, (double)(sl_op_now(k->ops) - op->start_ns) / 1e6,
	        sl_chainstore_err_str(e), (unsigned long long)op->tx, st->imported, st->tip.height);
	if (e == SL_CHAINSTORE_ERR_INVALID) {
		bool rule = f->store == SL_STORE_ERR_INVALID && f->chain < (int)SL_CHAIN_ERR_COUNT;
		st->fail_height = f->height;
		st->fail_reason = sl_chainstore_reason(f);
		sl_op_end(k->ops, op, SL_CODE_INVALID_HEADER, "header at height %u refused: %s%s%s",
		          f->height, st->fail_reason, rule ? " - " : "",
		          rule ? sl_chain_err_desc((sl_chain_err_t)f->chain) : "");
	} else if (e != SL_CHAINSTORE_OK) {
		sl_op_end(k->ops, op, SL_CODE_INTERNAL,
		          "import of %s failed after %u new headers: %s", st->path, st->imported,
		          sl_chainstore_err_str(e));
	} else {
		sl_op_end(k->ops, op, SL_CODE_OK, NULL);
	}
}

/* One slice: import steps until the file ends or the slice is used up. */
static void opkind_import_step(void *ctx, sl_op_t *op, uint64_t now_ns)
{
	(void)now_ns;
	sl_opkind_t *k = ctx;
	sl_opkind_import_t *st = sl_opkind_import_of(op);
	sl_chainstore_fail_t f = {0};
	sl_chainstore_err_t e = SL_CHAINSTORE_OK;
	bool done = false;
	uint64_t t0 = sl_now_ns();
	if (!st->open || t0 < st->next_ns)
		return;
	sl_chainstore_tip_t tip0, tip1;
	sl_chainstore_tip(k->cs, &tip0);
	do
		e = sl_chainstore_import_step(k->cs, &st->imp, SL_OPKIND_IMPORT_STEP, &done, &f);
	while (e == SL_CHAINSTORE_OK && !done && !sl_chainstore_import_waiting(k->cs, &st->imp) &&
	       sl_now_ns() - t0 < SL_OPKIND_SLICE_NS);
	st->imported = st->imp.imported;
	st->done = st->imp.next;
	/* a loop that works at most a third of the time sleeps in ppoll when a
	   request comes, and a busy machine's scheduler wakes it at once */
	st->next_ns = sl_now_ns() + 2 * (sl_now_ns() - t0);
	/* The tip moved when the headers were appended, before they are
	   durable: NEW_BLOCK goes out now, ahead of the STATUS the dataplane
	   sends once the commit publishes them (sync's tick may finish it
	   before this op's next step), so peers take the push rather than
	   pulling the same header. */
	sl_chainstore_tip(k->cs, &tip1);
	if (tip1.height > tip0.height)
		sl_sync_chain_moved(k->sync);
	if (e == SL_CHAINSTORE_OK && !done) {
		opkind_note(k, op, &st->note_ns);
		return;
	}
	opkind_import_finish(k, op, e, &f);
}

static void opkind_import_stop(void *ctx, sl_op_t *op)
{
	opkind_import_close(ctx, sl_opkind_import_of(op));
}

void sl_opkind_header_import(sl_opkind_t *k, sl_op_t *op, const char *path)
{
	sl_opkind_import_t *st = sl_opkind_import_of(op);
	snprintf(st->path, sizeof st->path, "%s", path);
	if (access(path, R_OK) != 0) {
		sl_op_end(k->ops, op, SL_CODE_NOT_FOUND, "cannot read %s: %s", path,
		          strerror(errno));
		return;
	}
	sl_chainstore_err_t e = sl_chainstore_import_begin(path, &st->imp);
	if (e != SL_CHAINSTORE_OK) {
		sl_op_end(k->ops, op, SL_CODE_INTERNAL, "cannot import %s: %s", path,
		          sl_chainstore_err_str(e));
		return;
	}
	st->open = true;
	st->imp.async = true; /* its fdatasyncs run off the loop */
	st->total = st->imp.total;
	st->note_ns = sl_now_ns();
	k->n_sliced++;
	opkind_import_step(k, op, sl_op_now(k->ops));
}

/* ---- header.export ------------------------------------------------------------ */

/* opkind_export_tmp: "<path>.tmp" (out: SL_OPKIND_PATH_MAX + 8 bytes; the
   path is bounded by its field, which the compiler cannot always see). */
static void opkind_export_tmp(const sl_opkind_export_t *st, char *out, size_t n)
{
	snprintf(out, n, "%.*s.tmp", (int)(SL_OPKIND_PATH_MAX - 1), st->path);
}

/* Let go of the temp file (removed unless kept), the stream and its wait. */
static void opkind_export_close(sl_opkind_t *k, sl_op_t *op, bool keep)
{
	sl_opkind_export_t *st = sl_opkind_export_of(op);
	char tmp[SL_OPKIND_PATH_MAX + 8];
	if (st->fd >= 0) {
		close(st->fd);
		st->fd = -1;
		opkind_export_tmp(st, tmp, sizeof tmp);
		if (!keep)
			unlink(tmp);
	}
	if (st->waiting && k->sr != NULL)
		sl_storeread_cancel(k->sr, op->tx);
	if (st->streaming)
		sl_storeread_stream_close(k->sr, &st->stream);
	if (st->waiting || st->streaming)
		k->n_sliced--;
	st->waiting = st->streaming = false;
}

static void opkind_export_fail(sl_opkind_t *k, sl_op_t *op, sl_code_t code, const char *why)
{
	opkind_export_close(k, op, false);
	sl_op_end(k->ops, op, code, "export to %s failed: %s", sl_opkind_export_of(op)->path, why);
}

/* The last header is written: sync the temp file and rename it. */
static void opkind_export_commit(sl_opkind_t *k, sl_op_t *op)
{
	sl_opkind_export_t *st = sl_opkind_export_of(op);
	char tmp[SL_OPKIND_PATH_MAX + 8];
	opkind_export_tmp(st, tmp, sizeof tmp);
	if (fsync(st->fd) != 0 || rename(tmp, st->path) != 0) {
		opkind_export_fail(k, op, SL_CODE_INTERNAL, strerror(errno));
		return;
	}
	opkind_export_close(k, op, true);
	SL_INFO("header.export %s: %u headers (%u..%u) in %.1f ms", st->path, st->total, st->from,
	        st->to, (double)(sl_op_now(k->ops) - op->start_ns) / 1e6);
	sl_op_end(k->ops, op, SL_CODE_OK, NULL);
}

static int opkind_write(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void opkind_export_step(void *ctx, sl_op_t *op, uint64_t now_ns)
{
	(void)now_ns;
	sl_opkind_t *k = ctx;
	sl_opkind_export_t *st = sl_opkind_export_of(op);
	static uint8_t buf[SL_OPKIND_EXPORT_STEP * SL_STORE_HDR_SIZE];
	uint64_t t0 = sl_now_ns();
	if (!st->streaming)
		return;
	while (st->done < st->total && sl_now_ns() - t0 < SL_OPKIND_SLICE_NS) {
		uint32_t n = SL_MIN(st->total - st->done, SL_OPKIND_EXPORT_STEP), got = 0;
		sl_storeread_err_t e =
		    sl_storeread_stream_read(k->sr, &st->stream, st->from + st->done, n, buf, &got);
		if (e != SL_STOREREAD_OK || got != n) {
			opkind_export_fail(k, op, SL_CODE_INTERNAL,
			                   e == SL_STOREREAD_ERR_REORGED
			                       ? "the chain was reorganised under it"
			                       : sl_storeread_err_str(e));
			return;
		}
		if (opkind_write(st->fd, buf, (size_t)n * SL_STORE_HDR_SIZE) != 0) {
			opkind_export_fail(k, op, SL_CODE_INTERNAL, strerror(errno));
			return;
		}
		st->done += n;
	}
	if (st->done < st->total) {
		opkind_note(k, op, &st->note_ns);
		return;
	}
	opkind_export_commit(k, op);
}

static void opkind_export_stop(void *ctx, sl_op_t *op)
{
	opkind_export_close(ctx, op, false);
}

bool sl_opkind_storeread_done(sl_opkind_t *k, const sl_storeread_done_t *d)
{
	sl_op_t *op = d->kind == SL_STOREREAD_KIND_STREAM ? sl_op_find(k->ops, d->cookie) : NULL;
	if (op == NULL || op->kind != SL_OP_KIND_HEADER_EXPORT || op->state != SL_OP_RUNNING ||
	    !sl_opkind_export_of(op)->waiting) {
		if (d->kind == SL_STOREREAD_KIND_STREAM && d->err == SL_STOREREAD_OK && k->sr)
			sl_storeread_stream_close(k->sr, &d->stream); /* nobody waits for it */
		return false;
	}
	sl_opkind_export_t *st = sl_opkind_export_of(op);
	st->waiting = false;
	if (d->err != SL_STOREREAD_OK) {
		k->n_sliced--;
		sl_op_end(k->ops, op,
		          d->err == SL_STOREREAD_ERR_BUSY            ? SL_CODE_BUSY
		          : d->err == SL_STOREREAD_ERR_SHUTTING_DOWN ? SL_CODE_SHUTTING_DOWN
		          : d->err == SL_STOREREAD_ERR_CANCELLED     ? SL_CODE_CANCELLED
		                                                     : SL_CODE_INTERNAL,
		          "export to %s: no stream of the header store (%s)", st->path,
		          sl_storeread_err_str(d->err));
		return true;
	}
	st->streaming = true;
	st->stream = d->stream;
	char tmp[SL_OPKIND_PATH_MAX + 8];
	opkind_export_tmp(st, tmp, sizeof tmp);
	st->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (st->fd < 0) {
		opkind_export_fail(k, op, SL_CODE_INTERNAL, strerror(errno));
		return true;
	}
	opkind_export_step(k, op, sl_op_now(k->ops));
	return true;
}

void sl_opkind_header_export(sl_opkind_t *k, sl_op_t *op, const char *path, uint32_t from,
                             uint32_t to)
{
	sl_opkind_export_t *st = sl_opkind_export_of(op);
	snprintf(st->path, sizeof st->path, "%s", path);
	st->from = from;
	st->to = to;
	st->fd = -1;
	st->total = to >= from ? to - from + 1 : 0;
	st->note_ns = sl_now_ns();
	if (k->sr == NULL) {
		sl_chainstore_err_t e = sl_chainstore_export(k->cs, path, from, to);
		if (e != SL_CHAINSTORE_OK)
			sl_op_end(k->ops, op, SL_CODE_INTERNAL,
			          "export to %s failed: %s (see the log)", path,
			          sl_chainstore_err_str(e));
		else
			sl_op_end(k->ops, op, SL_CODE_OK, NULL);
		st->done = op->state == SL_OP_DONE ? st->total : 0;
		return;
	}
	sl_storeread_range_t r = {from, to};
	sl_storeread_err_t e = sl_storeread_stream_open(k->sr, &r, op->tx);
	if (e != SL_STOREREAD_OK) {
		sl_op_end(k->ops, op,
		          e == SL_STOREREAD_ERR_RANGE           ? SL_CODE_BAD_REQUEST
		          : e == SL_STOREREAD_ERR_SHUTTING_DOWN ? SL_CODE_SHUTTING_DOWN
		                                                : SL_CODE_BUSY,
		          "export of %u..%u: %s", from, to, sl_storeread_err_str(e));
		return;
	}
	st->waiting = true;
	k->n_sliced++;
}

void sl_opkind_set_storeread(sl_opkind_t *k, sl_storeread_t *sr)
{
	k->sr = sr;
}

bool sl_opkind_busy(const sl_opkind_t *k)
{
	return k->n_sliced > 0;
}

/* ---- wiring ---------------------------------------------------------------------- */

static const sl_op_vt_t sl_opkind_sync_vt = {.step = opkind_sync_step};
static const sl_op_vt_t sl_opkind_connect_vt = {.stop = opkind_connect_stop};
static const sl_op_vt_t sl_opkind_import_vt = {.step = opkind_import_step,
                                               .stop = opkind_import_stop};
static const sl_op_vt_t sl_opkind_export_vt = {.step = opkind_export_step,
                                               .stop = opkind_export_stop};

void sl_opkind_init(sl_opkind_t *k, sl_op_table_t *ops, sl_peermgr_t *pm, sl_sync_t *sync,
                    sl_chainstore_t *cs)
{
	*k = (sl_opkind_t){.ops = ops, .pm = pm, .sync = sync, .cs = cs};
	sl_op_set_kind(ops, SL_OP_KIND_SYNC_START, &sl_opkind_sync_vt, k);
	sl_op_set_kind(ops, SL_OP_KIND_PEER_CONNECT, &sl_opkind_connect_vt, k);
	sl_op_set_kind(ops, SL_OP_KIND_HEADER_IMPORT, &sl_opkind_import_vt, k);
	sl_op_set_kind(ops, SL_OP_KIND_HEADER_EXPORT, &sl_opkind_export_vt, k);
	sl_peermgr_set_connect_hook(pm, opkind_connect_end, k);
}
