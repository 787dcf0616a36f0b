/* sl_connect.h — session installation on a worker lcore (sl_msg.h
   SL_CMDQ_V_SESSION_INSTALL): ACCEPT installs exactly the slot and
   generation ctrl named and answers HELLO_ACK (a repeat for the same live
   sid and peer resends it: SPEC §4 idempotence); CONNECT reserves the slot
   as CONNECTING and sends HELLO with backoff (10 ms doubling, cap 2 s;
   the first try resolves the peer's MAC with ARP) until a HELLO_ACK from
   the peer naming our sid with our nonce (-> LIVE, SESSION_UP outbound),
   a REJECT (-> CONNECT_FAILED reason, SESSION_DOWN exit LOCAL) or the
   deadline (-> CONNECT_FAILED 0, SESSION_DOWN exit LOCAL). */
#ifndef SL_CONNECT_H
#define SL_CONNECT_H

#include "sl_routine.h"

/* The first HELLO goes at once; the repeats come 10 ms, 20 ms, 40 ms ...
   after it (a HELLO sent before the link or the peer's ARP was up is not
   waited for long), then every 2 s. */
#define SL_CONNECT_GAP0_NS    (10ull * 1000000ull)
#define SL_CONNECT_GAP_MAX_NS (2000ull * 1000000ull)

/* sl_connect_install handles an install record m (payload sl_cmd_install_t;
   m->session = slot, m->gen = generation). */
void sl_connect_install(sl_lcore_t *lc, const sl_msg_t *m);

/* sl_connect_tick (deadlines phase): HELLO retries and connect deadlines. */
void sl_connect_tick(sl_lcore_t *lc);

/* sl_connect_rearm (the link came up): every connecting session sends its
   HELLO at the next tick and its repeat gaps start again from
   SL_CONNECT_GAP0_NS; deadlines are untouched. */
void sl_connect_rearm(sl_lcore_t *lc);

/* sl_connect_frame: a frame for CONNECTING slot p from its peer address
   (HELLO_ACK or REJECT; anything else is dropped SL_NO_SESSION).  Takes
   ownership of m. */
void sl_connect_frame(sl_lcore_t *lc, sl_routine_peer_t *p, struct rte_mbuf *m, const sl_pkt_t *pkt,
                      const sl_wire_hdr_t *h, const uint8_t *pl);

#endif /* SL_CONNECT_H */
