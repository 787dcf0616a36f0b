/* sl_ingress.h — what happens to one received frame (DESIGN.md poll cycle,
   phase 1): L2 checks, parse (sl_net), dispatch to ARP / ICMP / sluice UDP,
   sluice header validation (sl_wire) and demux.  Runs on the worker lcore
   that received the frame; no allocation, no locks, no syscalls.

   Demux today: session 0 carrying a HELLO (stream 0, type 1, payload
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

/* sl_ingress_frame handles one received frame end to end; takes ownership
   of m (answered, consumed into an event, or dropped and counted).
   Counts rx_pkts / rx_bytes. */
void sl_ingress_frame(sl_lcore_t *lc, struct rte_mbuf *m);

#endif /* SL_INGRESS_H */
