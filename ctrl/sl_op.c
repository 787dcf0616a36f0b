/* sl_op.c — see sl_op.h. */
#include "sl_op.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_log.h"
#include "sl_probe.h"
#include "sl_time.h"

#define SL_OP_BUCKETS 16384u /* power of two */

static const struct {
	const char *name;
	uint64_t deadline_ms;
} sl_op_kinds[SL_OP_KIND_CNT] = {[SL_OP_KIND_NONE] = {"?", 0},
#define SL_OP_KIND_ROW(ID, name, ms) [SL_OP_KIND_##ID] = {name, ms},
                                 SL_OP_KIND_LIST(SL_OP_KIND_ROW)
#undef SL_OP_KIND_ROW
};

const char *sl_op_kind_str(sl_op_kind_t k)
{
	return (unsigned)k < SL_OP_KIND_CNT ? sl_op_kinds[k].name : "?";
}

uint64_t sl_op_kind_deadline_ms(sl_op_kind_t k)
{
	return (unsigned)k < SL_OP_KIND_CNT ? sl_op_kinds[k].deadline_ms : 0;
}

const char *sl_op_state_str(sl_op_state_t s)
{
	static const char *const n[] = {"running", "done", "failed", "cancelled"};
	return (unsigned)s < SL_ARRAY_LEN(n) ? n[s] : "?";
}

const char *sl_op_err_str(sl_op_err_t e)
{
	static const char *const n[SL_OP_ERR_CNT] = {"ok",
	                                             "bad argument",
	                                             "tx exists",
	                                             "table full",
	                                             "out of memory",
	                                             "no such parent",
	                                             "no running op with this tx"};
	return (unsigned)e < SL_OP_ERR_CNT ? n[e] : "?";
}

static uint64_t op_clock_default(void *ctx)
{
	(void)ctx;
	return sl_now_ns();
}

/* ---- table ------------------------------------------------------------------ */

sl_op_err_t sl_op_table_init(sl_op_table_t *t, uint64_t tx_seed)
{
	memset(t, 0, sizeof *t);
	t->bucket = calloc(SL_OP_BUCKETS, sizeof *t->bucket);
	if (SL_UNLIKELY(t->bucket == NULL))
		return SL_OP_ERR_NOMEM;
	t->n_buckets = SL_OP_BUCKETS;
	t->next_tx = tx_seed % SL_OP_TX_MAX;
	t->clock = op_clock_default;
	return SL_OP_OK;
}

void sl_op_table_fini(sl_op_table_t *t)
{
	sl_op_t *op = t->head;
	while (op != NULL) {
		sl_op_t *next = op->next;
		free(op);
		op = next;
	}
	free(t->bucket);
	memset(t, 0, sizeof *t);
}

void sl_op_set_clock(sl_op_table_t *t, sl_op_clock_fn clock, void *ctx)
{
	t->clock = clock ? clock : op_clock_default;
	t->clock_ctx = ctx;
}

void sl_op_set_end_hook(sl_op_table_t *t, sl_op_end_fn fn, void *ctx)
{
	t->on_end = fn;
	t->on_end_ctx = ctx;
}

void sl_op_set_note_hooks(sl_op_table_t *t, sl_op_note_fn on_start, sl_op_note_fn on_progress,
                          void *ctx)
{
	t->on_start = on_start;
	t->on_progress = on_progress;
	t->note_ctx = ctx;
}

void sl_op_progress(sl_op_table_t *t, const sl_op_t *op)
{
	if (op->state == SL_OP_RUNNING && t->on_progress != NULL)
		t->on_progress(t->note_ctx, op);
}

void sl_op_set_kind(sl_op_table_t *t, sl_op_kind_t kind, const sl_op_vt_t *vt, void *ctx)
{
	if ((unsigned)kind < SL_OP_KIND_CNT) {
		t->vt[kind] = vt;
		t->vt_ctx[kind] = ctx;
	}
}

uint64_t sl_op_now(const sl_op_table_t *t)
{
	return t->clock(t->clock_ctx);
}

static sl_op_t **op_bucket(const sl_op_table_t *t, uint64_t tx)
{
	return &t->bucket[(tx * 0x9E3779B97F4A7C15ULL) >> 50 & (t->n_buckets - 1)];
}

sl_op_t *sl_op_find(const sl_op_table_t *t, uint64_t tx)
{
	if (t->bucket == NULL)
		return NULL;
	for (sl_op_t *op = *op_bucket(t, tx); op != NULL; op = op->hnext)
		if (op->tx == tx)
			return op;
	return NULL;
}

/* A tx no op in the table has, in 1..SL_OP_TX_MAX. */
static uint64_t op_mint(sl_op_table_t *t)
{
	do
		t->next_tx = t->next_tx >= SL_OP_TX_MAX ? 1 : t->next_tx + 1;
	while (sl_op_find(t, t->next_tx) != NULL);
	return t->next_tx;
}

static void op_link(sl_op_table_t *t, sl_op_t *op)
{
	sl_op_t **b = op_bucket(t, op->tx);
	op->hnext = *b;
	*b = op;
	op->prev = t->tail;
	if (t->tail != NULL)
		t->tail->next = op;
	else
		t->head = op;
	t->tail = op;
	t->n_ops++;
}

static void op_unlink_free(sl_op_table_t *t, sl_op_t *op)
{
	sl_op_t **b = op_bucket(t, op->tx);
	while (*b != op)
		b = &(*b)->hnext;
	*b = op->hnext;
	if (op->prev != NULL)
		op->prev->next = op->next;
	else
		t->head = op->next;
	if (op->next != NULL)
		op->next->prev = op->prev;
	else
		t->tail = op->prev;
	t->n_ops--;
	t->cnt.freed++;
	free(op);
}

/* ---- lifecycle ---------------------------------------------------------------- */

static sl_op_err_t op_check_start(sl_op_table_t *t, sl_op_kind_t kind, uint64_t tx, uint64_t parent,
                                  sl_op_t **out)
{
	*out = NULL;
	if (kind <= SL_OP_KIND_NONE || kind >= SL_OP_KIND_CNT || tx > SL_OP_TX_MAX)
		return SL_OP_ERR_ARG;
	if (tx != 0 && (*out = sl_op_find(t, tx)) != NULL) {
		t->cnt.replays++;
		return SL_OP_ERR_EXISTS;
	}
	if (parent != 0) {
		const sl_op_t *p = sl_op_find(t, parent);
		if (p == NULL || p->state != SL_OP_RUNNING)
			return SL_OP_ERR_PARENT;
	}
	return t->n_ops >= SL_OP_MAX ? SL_OP_ERR_FULL : SL_OP_OK;
}

sl_op_err_t sl_op_start(sl_op_table_t *t, sl_op_kind_t kind, uint64_t tx, uint64_t parent,
                        uint64_t deadline_ms, sl_op_t **out)
{
	sl_op_err_t e = op_check_start(t, kind, tx, parent, out);
	if (e != SL_OP_OK)
		return e;
	sl_op_t *op = calloc(1, sizeof *op);
	if (SL_UNLIKELY(op == NULL))
		return SL_OP_ERR_NOMEM;
	op->tx = tx != 0 ? tx : op_mint(t);
	op->parent = parent;
	op->kind = kind;
	op->state = SL_OP_RUNNING;
	op->start_ns = sl_op_now(t);
	op->deadline_ms = deadline_ms != 0 ? deadline_ms : sl_op_kind_deadline_ms(kind);
	if (op->deadline_ms != 0)
		op->deadline_ns = op->start_ns + op->deadline_ms * SL_NS_PER_MS;
	if (parent != 0)
		sl_op_find(t, parent)->n_children++;
	op_link(t, op);
	t->n_running++;
	t->cnt.started++;
	t->cnt.started_by_kind[kind]++;
	SL_PROBE_OP_START(op->tx, kind);
	if (t->on_start != NULL)
		t->on_start(t->note_ctx, op);
	*out = op;
	return SL_OP_OK;
}

sl_op_err_t sl_op_attach(sl_op_t *op, sl_op_waiter_t w)
{
	if (op->state != SL_OP_RUNNING || op->n_waiters >= SL_OP_WAITERS_MAX)
		return SL_OP_ERR_ARG;
	op->waiter[op->n_waiters++] = w;
	return SL_OP_OK;
}

static void op_stop(sl_op_table_t *t, sl_op_t *op)
{
	const sl_op_vt_t *vt = t->vt[op->kind];
	if (vt != NULL && vt->stop != NULL)
		vt->stop(t->vt_ctx[op->kind], op);
}

/* End every running child of `parent` with `code`, each after its stop. */
static void op_end_children(sl_op_table_t *t, const sl_op_t *parent, sl_code_t code)
{
	for (sl_op_t *c = t->head; c != NULL && parent->n_children > 0; c = c->next) {
		if (c->parent != parent->tx || c->state != SL_OP_RUNNING)
			continue;
		op_stop(t, c);
		sl_op_end(t, c, code, "its parent %llu ended", (unsigned long long)parent->tx);
	}
}

static void op_tell_parent(sl_op_table_t *t, const sl_op_t *op)
{
	sl_op_t *p = op->parent ? sl_op_find(t, op->parent) : NULL;
	if (p == NULL)
		return;
	p->n_children -= p->n_children > 0;
	if (p->state != SL_OP_RUNNING)
		return;
	const sl_op_vt_t *vt = t->vt[p->kind];
	if (vt != NULL && vt->child_done != NULL)
		vt->child_done(t->vt_ctx[p->kind], p, op);
}

void sl_op_end(sl_op_table_t *t, sl_op_t *op, sl_code_t code, const char *fmt, ...)
{
	if (op->state != SL_OP_RUNNING)
		return;
	op->state = code == SL_CODE_OK          ? SL_OP_DONE
	            : code == SL_CODE_CANCELLED ? SL_OP_CANCELLED
	                                        : SL_OP_FAILED;
	op->code = code;
	op->end_ns = sl_op_now(t);
	if (op->end_ns == 0)
		op->end_ns = 1; /* 0 means running */
	op->message[0] = '\0';
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(op->message, sizeof op->message, fmt, ap);
		va_end(ap);
	}
	t->n_running--;
	t->cnt.ended++;
	t->cnt.ended_by_kind[op->kind][op->state]++;
	t->cnt.timeouts += code == SL_CODE_TIMEOUT;
	t->cnt.cancelled += code == SL_CODE_CANCELLED;
	op_end_children(t, op, SL_CODE_CANCELLED);
	if (t->on_end != NULL)
		t->on_end(t->on_end_ctx, op);
	SL_PROBE_OP_DONE(op->tx, op->kind, (int32_t)code, op->end_ns - op->start_ns);
	op_tell_parent(t, op);
}

sl_op_err_t sl_op_cancel(sl_op_table_t *t, uint64_t tx)
{
	sl_op_t *op = sl_op_find(t, tx);
	if (op == NULL || op->state != SL_OP_RUNNING)
		return SL_OP_ERR_UNKNOWN;
	op_stop(t, op);
	sl_op_end(t, op, SL_CODE_CANCELLED, "cancelled (op.cancel)");
	return SL_OP_OK;
}

uint32_t sl_op_end_all(sl_op_table_t *t, sl_code_t code, const char *why)
{
	uint32_t n = 0;
	for (sl_op_t *op = t->head; op != NULL && t->n_running > 0; op = op->next) {
		if (op->state != SL_OP_RUNNING)
			continue;
		op_stop(t, op);
		sl_op_end(t, op, code, "%s", why);
		n++;
	}
	return n;
}

/* ---- the tick ------------------------------------------------------------------- */

static void op_sweep_deadlines(sl_op_table_t *t, uint64_t now)
{
	for (sl_op_t *op = t->head; op != NULL && t->n_running > 0; op = op->next) {
		if (op->state != SL_OP_RUNNING || op->deadline_ns == 0 || now < op->deadline_ns)
			continue;
		op_stop(t, op);
		sl_op_end(t, op, SL_CODE_TIMEOUT, "deadline of %llu ms passed",
		          (unsigned long long)op->deadline_ms);
	}
}

static void op_step_all(sl_op_table_t *t, uint64_t now)
{
	for (sl_op_t *op = t->head; op != NULL && t->n_running > 0; op = op->next) {
		const sl_op_vt_t *vt = t->vt[op->kind];
		if (op->state == SL_OP_RUNNING && vt != NULL && vt->step != NULL)
			vt->step(t->vt_ctx[op->kind], op, now);
	}
}

static void op_free_old(sl_op_table_t *t, uint64_t now)
{
	sl_op_t *op = t->head;
	while (op != NULL) {
		sl_op_t *next = op->next;
		/* an op its step ended in this tick ended after `now` */
		if (op->state != SL_OP_RUNNING && now > op->end_ns &&
		    now - op->end_ns > SL_OP_KEEP_NS)
			op_unlink_free(t, op);
		op = next;
	}
}

void sl_op_tick(sl_op_table_t *t)
{
	if (t->n_ops == 0)
		return;
	uint64_t now = sl_op_now(t);
	op_sweep_deadlines(t, now);
	op_step_all(t, now);
	if (t->n_ops > t->n_running)
		op_free_old(t, now);
}

sl_op_t *sl_op_next(const sl_op_table_t *t, const sl_op_t *op)
{
	return op == NULL ? t->head : op->next;
}

uint32_t sl_op_running(const sl_op_table_t *t)
{
	return t->n_running;
}
