/* sl_render.h — the face's JSON of what the domain and the ops return
   (SPEC.md §9 result shapes): each call takes a plain struct from a lower
   layer and returns a new jansson object (NULL only when out of memory).
   No state; the caller owns what it gets.  Owner: the ctrl loop. */
#ifndef SL_RENDER_H
#define SL_RENDER_H

#include <jansson.h>

#include "sl_op.h"
#include "sl_opkind.h"
#include "sl_opnet.h"
#include "sl_peermgr.h"
#include "sl_sync.h"

/* sl_render_peer: a `peers` entry {session, addr, node_id, streams,
   rtt_us, state, outbound, since_s, misbehavior, hs_parked}. */
json_t *sl_render_peer(const sl_peermgr_view_t *v);

/* sl_render_peer_detail: `peer.show`: the entry plus lcore, slot,
   generation, remote_session, suspect, phi, misbehavior_kinds,
   last_misbehavior, live_in_dataplane, counters. */
json_t *sl_render_peer_detail(const sl_peermgr_detail_t *d);

/* sl_render_pm_stats: `stats.sessions`. */
json_t *sl_render_pm_stats(const sl_peermgr_stats_t *s);

/* sl_render_sync_status: `sync.status` (and `stats.sync`). */
json_t *sl_render_sync_status(const sl_sync_status_t *s);

/* sl_render_range: one `ranges` entry {start, len, dir, state, holders}. */
json_t *sl_render_range(const sl_range_info_t *ri);

/* sl_render_tip_into sets tip_height and tip_hash (display hex) in o;
   returns o. */
json_t *sl_render_tip_into(const sl_chainstore_tip_t *t, json_t *o);

/* sl_render_op_result: the result object of a done op, "tx" first. */
json_t *sl_render_op_result(const sl_op_t *op);

/* sl_render_op_error_extra: the fields a failed or cancelled op adds to
   its error object ("tx", and what its kind knows: height and reason of
   an invalid header, reject_reason and retry_after_s of a refused
   connect). */
json_t *sl_render_op_error_extra(const sl_op_t *op);

/* sl_render_op_progress: {done, total} of an import or export (headers),
   NULL for the other kinds. */
json_t *sl_render_op_progress(const sl_op_t *op);

/* sl_render_op: an `ops` entry {tx, kind, state, age_ms, deadline_ms,
   attempts, parent, progress (import, export), result | error} at time
   now_ns. */
json_t *sl_render_op(const sl_op_t *op, uint64_t now_ns);

/* sl_render_addr writes "a.b.c.d:port" (port 0: "a.b.c.d") into out
   (24 bytes). */
void sl_render_addr(char *out, uint32_t ip, uint16_t port);

/* sl_render_hex writes n bytes as 2n lowercase hex digits and a NUL. */
void sl_render_hex(char *out, const uint8_t *b, size_t n);

#endif /* SL_RENDER_H */
