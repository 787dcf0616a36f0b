/* sl_icmp.h — the dataplane's ICMP duty (SPEC.md §1): answer echo
   requests to our IP, in place, on the worker lcore that received them.
   Takes ownership of the mbuf (sl_lcore.h contract). */
#ifndef SL_ICMP_H
#define SL_ICMP_H

#include "sl_lcore.h"
#include "sl_net.h"

/* sl_icmp_input handles a parsed ICMP packet to our IP: an echo request
   becomes an echo reply in place; anything else is dropped (ICMP_TYPE). */
void sl_icmp_input(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p);

#endif /* SL_ICMP_H */
