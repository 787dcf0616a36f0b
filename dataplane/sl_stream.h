/* sl_stream.h — what a routine offers the framework: one descriptor per
   wire stream (STYLE.md "The loop knows no routine"; DESIGN.md "Peer
   routines").  The poll loop (sl_loop.c), the demux (sl_ingress.c), the
   command phase (sl_cmd.c) and the framework (sl_routine.c) call routines
   only through these descriptors; each routine owns its per-peer state
   type (state_sz bytes per session slot, zeroed on install) and its
   per-lcore state (lcore_sz bytes, zeroed at start-up).  The framework
   hands a hook the routine's own state (`st` per peer, `lst` per lcore);
   sl_routine.h has the accessors for the rest.

   Registration: once at start-up, before any lcore is prepared
   (sl_dp_main.c), in the order the framework then runs the hooks of one
   session (start, tick) — the session stream first.  The table is
   written only then and read-only afterwards, by every lcore.

   Owner: the main thread until the lcores launch; then read-only. */
#ifndef SL_STREAM_H
#define SL_STREAM_H

#include "sl_lcore.h"
#include "sl_msg.h"
#include "sl_wire.h"

#define SL_STREAM_MAX 8u /* descriptors at most (wire stream ids < 32) */

struct sl_routine_peer;

typedef struct sl_stream {
	const char *name;      /* for logs */
	uint8_t id;            /* wire stream id (SL_WIRE_STREAM_*) */
	uint32_t state_sz;     /* per-peer state, owned by the routine (0: none) */
	uint32_t lcore_sz;     /* per-lcore state, owned by the routine (0: none) */
	uint32_t cmd_variants; /* bit v: per-session command variant v (SL_CMDQ_V_*) */
	uint32_t send_kinds;   /* bit k: SEND_FRAME of kind k (SL_SEND_*) */
	/* Per lcore, at start-up (lst zeroed): 0, or -1 with a log line. */
	int (*init)(sl_lcore_t *lc, void *lst);
	/* Per lcore, after the loop ended (also after a failed init). */
	void (*fini)(sl_lcore_t *lc, void *lst);
	/* The session just became live (st zeroed at install). */
	void (*start)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st);
	/* Teardown of a live session, every exit kind (before it is freed). */
	void (*stop)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st);
	/* Whether the stream's service of p is held (its frames dropped,
	   counted hs_parked_drop, the session stays); NULL: never. */
	bool (*parked)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st);
	/* One decoded message of this stream on live session p.  too_many: a
	   record-only SL_WIRE_ERR_TOO_MANY decode.  May tear p down. */
	void (*input)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st, const sl_wire_hdr_t *h,
	              const sl_wire_msg_t *msg, bool too_many);
	/* A per-session command ctrl sent (one this descriptor claims). */
	void (*command)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st, const sl_msg_t *m);
	/* Deadlines phase, per live session.  May tear p down. */
	void (*tick)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st);
	/* Liveness phase, per live session.  May tear p down. */
	void (*liveness)(sl_lcore_t *lc, struct sl_routine_peer *p, void *st);
	/* Pull phase, once per cycle per lcore (cheap when nothing moved). */
	void (*pull)(sl_lcore_t *lc, void *lst);
	/* Invariants of p after a routine ran (CONFIG_SL_INVARIANTS builds):
	   NULL, or what broke. */
	const char *(*check)(const sl_lcore_t *lc, const struct sl_routine_peer *p, const void *st);
} sl_stream_t;

/* sl_stream_register adds d (static storage) to the table.  Returns 0, or
   -1 with a log line (id taken or out of range, table full). */
int sl_stream_register(const sl_stream_t *d);

/* sl_stream_count: descriptors registered. */
uint32_t sl_stream_count(void);

/* sl_stream_at: the i-th registered descriptor (i < sl_stream_count()). */
const sl_stream_t *sl_stream_at(uint32_t i);

/* sl_stream_of: the descriptor of wire stream `id`, NULL when none. */
const sl_stream_t *sl_stream_of(uint8_t id);

/* sl_stream_index: registration index of wire stream `id` (its state
   offset slot in the framework), -1 when none. */
int sl_stream_index(uint8_t id);

/* sl_stream_for_cmd: the descriptor that claims per-session command m
   (its variant, and for SEND_FRAME its kind, payload[0]); NULL: none. */
const sl_stream_t *sl_stream_for_cmd(const sl_msg_t *m);

#endif /* SL_STREAM_H */
