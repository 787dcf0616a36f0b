/* sl_ingress.h — what happens to one received frame (DESIGN.md poll cycle,
   phase 1): L2 checks, parse (sl_net), dispatch to ARP / ICMP / sluice UDP,
   sluice header validation (sl_wire) and demux.  Runs on the worker lcore
   that received the frame; no allocation, no locks, no syscalls.

   A frame naming a session another worker owns (the lcore bits of its
   session id) is passed to that worker through the handoff rings
   (sl_handoff.h, counted handoff_out here and handoff_in there) and
   handled there from the L2 checks on; an ARP reply to us is shared with
   every worker (each keeps its own neighbour table).  HELLOs stay where
   they arrive: the session ctrl installs for one lives on that worker.

   Demux: session 0 carrying a HELLO (stream 0, type 1, payload
   decodes as HELLO) becomes an SL_EVT_HELLO event on this lcore's event
   ring for ctrl's admission (sl_msg.h); every other session id names no live session
   yet and is dropped silently (SL_NO_SESSION).  Every frame that is not
   answered or consumed moves exactly one drop counter. */
#ifndef SL_INGRESS_H
#define SL_INGRESS_H

#include "sl_lcore.h"
#include "sl_region.h"
#include "sl_wire.h"
#include "sl_msg.h"

/* A ctrl whose heartbeat is older than this is taken for absent: HELLOs
   are then dropped (SL_NO_CTRL) instead of filling the event ring. */
#define SL_INGRESS_CTRL_MAX_AGE_NS (3ULL * 1000000000ULL)

/* sl_ingress_ctrl_present: ctrl is attached and its heartbeat is younger
   than SL_INGRESS_CTRL_MAX_AGE_NS at lc->now_ns. */
bool sl_ingress_ctrl_present(const sl_lcore_t *lc);

/* sl_ingress_frame handles one received frame end to end; takes ownership
   of m (answered, consumed into an event, or dropped and counted).
   Counts rx_pkts / rx_bytes. */
void sl_ingress_frame(sl_lcore_t *lc, struct rte_mbuf *m);

/* sl_ingress_handoff (the handoff phase) handles the frames other workers
   passed to this one (sl_handoff.h): up to SL_BURST from each of them,
   within what is left of the cycle's budget; the rest wait in the rings.
   Returns the number handled (handoff_in). */
uint32_t sl_ingress_handoff(sl_lcore_t *lc);

#endif /* SL_INGRESS_H */
