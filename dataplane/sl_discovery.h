/* sl_discovery.h — the discovery routine (stream 1, SPEC §6) of a live
   session.  The initiator (outbound side) sends GET_PEERS(32) when the
   session opens; a GET_PEERS is answered from the address book ctrl
   publishes in the region (sl_region_book_read), bounded by its max and
   without the asker itself; a PEERS is validated (n <= 32 and <= what we
   asked for; entries with ip 0 / multicast / broadcast or port 0 are
   skipped) and its entries go to ctrl as SL_EVT_PEERS events (at most
   SL_EVT_PEERS_MAX each).  A PEERS we did not ask for is protocol
   misbehaviour (UNSOLICITED).

   A discovery-only session (negotiated streams 0 and 1 only) is closed
   with GOODBYE(PARKED_IDLE) and teardown exit STREAM_CLOSE right after the
   initiator got PEERS, or when [dataplane] settle_ms passes on either side.
   PARKED_IDLE, not SHUTDOWN: we close because the exchange is over, not
   because this node is going away — the peer should not forget us. */
#ifndef SL_DISCOVERY_H
#define SL_DISCOVERY_H

#include "sl_routine.h"

/* sl_disc_start: p just became live; ask (outbound) and arm the settle
   timeout for a discovery-only session. */
void sl_disc_start(sl_lcore_t *lc, sl_peer_t *p);

/* sl_disc_input runs one decoded stream-1 message; may tear p down. */
void sl_disc_input(sl_lcore_t *lc, sl_peer_t *p, const sl_wire_hdr_t *h, const sl_wire_msg_t *msg);

/* sl_disc_deadline (deadlines phase): the settle timeout; may tear p down. */
void sl_disc_deadline(sl_lcore_t *lc, sl_peer_t *p);

/* sl_disc_entry_ok: a PEERS entry is usable (ip not 0 / multicast /
   broadcast / loopback, port not 0). */
bool sl_disc_entry_ok(const sl_wire_peer_t *e);

#endif /* SL_DISCOVERY_H */
