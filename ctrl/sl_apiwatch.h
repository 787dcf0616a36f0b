/* sl_apiwatch.h — the face's half of `watch` (SPEC.md §9 "Operations
   (v1.1)"): it subscribes a client (sl_watch.h keeps the subscriber and
   its bounded buffer), renders every event into one JSON line and
   publishes it, and hands the bytes to the control socket (sl_server's
   feed), which writes them without blocking.  Events reach it through
   narrow hooks, never by a lower layer calling the face: the op table's
   start / progress / end (`ops`: op_start, op_progress, op_done with tx,
   kind, state and result or error), the peer manager's note hook
   (`peers`: up / down with session, addr, reason on down; `misbehavior`:
   session, kind), and a poll of sync's status from the loop's tick
   (`sync`: tip_height, headers_per_s, target_height, at most 10 lines a
   second, when something moved).  Owner: the ctrl loop. */
#ifndef SL_APIWATCH_H
#define SL_APIWATCH_H

#include "sl_base.h"
#include "sl_ctrl.h"

#define SL_APIWATCH_SYNC_NS (100ULL * 1000000ULL) /* `sync` lines at most this often */

/* sl_apiwatch_init installs the hooks (server feed, op notes, peer notes)
   on c; c->watch must be initialised. */
void sl_apiwatch_init(sl_ctrl_t *c);

/* sl_apiwatch_open subscribes the client whose line is being answered to
   `topics` (a mask of 1 << sl_watch_topic_t) for request req_id: the
   reply comes when its stream permit is granted (sl_apiwatch_granted).
   Returns SL_CODE_OK (the reply is deferred) or why not (BUSY,
   SHUTTING_DOWN, BAD_REQUEST: the connection watches already). */
sl_code_t sl_apiwatch_open(sl_ctrl_t *c, uint32_t topics, int64_t req_id);

/* sl_apiwatch_granted answers a subscription's request when the read path
   completes its stream permit (OK: {"topics":[...]}, then events; else
   BUSY, SHUTTING_DOWN). */
void sl_apiwatch_granted(sl_ctrl_t *c, const sl_storeread_done_t *d);

/* sl_apiwatch_op_done publishes op_done for op (the op table's end hook
   calls it through sl_api_op_ended). */
void sl_apiwatch_op_done(sl_ctrl_t *c, const sl_op_t *op);

/* sl_apiwatch_tick publishes the `sync` line when due. */
void sl_apiwatch_tick(sl_ctrl_t *c, uint64_t now_ns);

#endif /* SL_APIWATCH_H */
