/* sl_discovery.h — the discovery routine (stream 1, SPEC §6) of a live
   session.  The initiator (outbound side) sends GET_PEERS(32) when the
   session opens; a GET_PEERS is answered from the address book ctrl
   publishes in the region (sl_pbook_read), bounded by its max and
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

enum { SL_DISCOVERY_IDLE = 0, SL_DISCOVERY_ASKED = 1, SL_DISCOVERY_DONE = 2 };

/* The routine's state of one session (its block in sl_routine.h). */
typedef struct {
	uint8_t disc;       /* SL_DISCOVERY_* */
	uint16_t disc_max;  /* the max we asked for */
	uint64_t settle_ns; /* settle deadline, 0 none */
} sl_discovery_peer_t;

/* The descriptor (registered at start-up).  Hooks: start (ask when
   outbound, arm the settle timeout of a discovery-only session), input
   (one decoded stream-1 message; may tear the session down), tick (the
   settle timeout; may tear the session down). */
extern const sl_stream_t sl_discovery_desc;

#endif /* SL_DISCOVERY_H */
