/* sl_peerio.h — requests ctrl sends to one peer for an operation, and
   their answers (DESIGN.md "Commands to routines": SEND_FRAME; SPEC §4
   PING/PONG, §5 GET_HEADERS).  Domain code: session ids, heights and
   plain structs in and out; no JSON, no op.  Owner: the ctrl loop (single
   threaded).

   Sends: a GET_HEADERS (fetch) or a PING, as one SEND_FRAME command to the
   session's routine with the caller's corr (SL_FETCH_CORR_BIT |
   SL_OP_CORR_BIT set: answers to it come back to ctrl, never to the range
   table or the branch fetch).  SEND_FRAME is never dropped: a full
   per-peer queue answers PARK_REQUIRED and the session's header-sync
   service is parked (sl_sync_park) — the peer is not blamed.

   Answers (sl_peerio_event, fed every event record after the peer
   manager and sync): HEADERS flagged FETCH, FETCH_END and PONG whose corr
   carries SL_OP_CORR_BIT, and SESSION_DOWN, each handed to the reply hook
   as one sl_peerio_reply_t.  The hook's owner matches corr to its waiter;
   an answer nobody waits for is its to drop. */
#ifndef SL_PEERIO_H
#define SL_PEERIO_H

#include "sl_base.h"
#include "sl_msg.h"
#include "sl_peermgr.h"
#include "sl_sync.h"

/* The corr bits of an op attempt. */
#define SL_PEERIO_CORR_BITS (SL_FETCH_CORR_BIT | SL_OP_CORR_BIT)

/* Outcome of a send. */
typedef enum {
	SL_PEERIO_SENT = 0, /* queued for the routine: an answer (or FETCH_END) follows */
	SL_PEERIO_GONE,     /* no such live session, or the service is parked */
	SL_PEERIO_PARKED,   /* the per-peer queue was full: the service was parked now */
	SL_PEERIO_SEND_CNT
} sl_peerio_send_t;

typedef enum {
	SL_PEERIO_R_HEADER = 0, /* the header asked for (PoW checked by the routine) */
	SL_PEERIO_R_NOT_FOUND,  /* the peer answered NOT_FOUND (nf_reason) */
	SL_PEERIO_R_BAD,        /* the answer failed the routine's checks (bad data) */
	SL_PEERIO_R_SHORT,      /* the answer ended without the header */
	SL_PEERIO_R_SEND_FAIL,  /* the routine could not send the request (hiccup) */
	SL_PEERIO_R_PONG,       /* the PONG of our PING (rtt_ns) */
	SL_PEERIO_R_DOWN,       /* session sid went down (corr 0) */
	SL_PEERIO_R_CNT
} sl_peerio_reply_kind_t;

typedef struct {
	sl_peerio_reply_kind_t kind;
	uint32_t sid;
	uint64_t corr;
	uint32_t height;    /* R_HEADER: of hdr */
	uint16_t nf_reason; /* R_NOT_FOUND: SPEC §5 reason */
	uint64_t rtt_ns;    /* R_PONG */
	uint8_t hdr[80];    /* R_HEADER */
	uint8_t hash[32];   /* R_HEADER: hash of hdr (wire order) */
} sl_peerio_reply_t;

typedef void (*sl_peerio_reply_fn)(void *ctx, const sl_peerio_reply_t *r, uint64_t now_ns);

typedef struct {
	uint64_t fetch_tx, ping_tx; /* SEND_FRAME queued */
	uint64_t gone, parked;      /* sends refused */
	uint64_t replies;           /* answers handed to the hook */
} sl_peerio_cnt_t;

typedef struct {
	sl_peermgr_t *pm;
	sl_sync_t *sync;
	sl_peerio_reply_fn on_reply;
	void *on_reply_ctx;
	sl_peerio_cnt_t cnt;
} sl_peerio_t;

/* sl_peerio_init wires io to the peer manager (sessions, command queue)
   and sync (peer tips, park). */
void sl_peerio_init(sl_peerio_t *io, sl_peermgr_t *pm, sl_sync_t *sync);

/* sl_peerio_set_reply_hook: fn gets every answer (NULL: dropped). */
void sl_peerio_set_reply_hook(sl_peerio_t *io, sl_peerio_reply_fn fn, void *ctx);

/* sl_peerio_fetch asks live session sid for `count` headers from height
   (GET_HEADERS, zero anchor) with corr (SL_PEERIO_CORR_BITS set). */
sl_peerio_send_t sl_peerio_fetch(sl_peerio_t *io, uint32_t sid, uint64_t corr, uint32_t height,
                                 uint16_t count);

/* sl_peerio_ping sends PING to live session sid with corr. */
sl_peerio_send_t sl_peerio_ping(sl_peerio_t *io, uint32_t sid, uint64_t corr);

/* sl_peerio_event handles one event record (others are ignored). */
void sl_peerio_event(sl_peerio_t *io, const sl_msg_t *m, uint64_t now_ns);

/* sl_peerio_claimers writes up to cap live sessions with stream 5 whose
   latest STATUS claims `height` (best_height >= height) into sids, in
   peer-table order; returns how many. */
uint32_t sl_peerio_claimers(const sl_peerio_t *io, uint32_t height, uint32_t *sids, uint32_t cap);

/* sl_peerio_live writes up to cap live (UP) sessions into sids; returns
   how many. */
uint32_t sl_peerio_live(const sl_peerio_t *io, uint32_t *sids, uint32_t cap);

/* sl_peerio_is_live: sid is UP now. */
bool sl_peerio_is_live(const sl_peerio_t *io, uint32_t sid);

/* sl_peerio_addr: the peer address of session sid (0 when unknown). */
void sl_peerio_addr(const sl_peerio_t *io, uint32_t sid, uint32_t *ip, uint16_t *port);

#endif /* SL_PEERIO_H */
