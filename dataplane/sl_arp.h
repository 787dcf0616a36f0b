/* sl_arp.h — the dataplane's IPv4 neighbour duties (SPEC.md §1): answer
   ARP requests for our IP, learn neighbours from ARP, resolve next hops
   for frames we send (ICMP echo is sl_icmp.h).  Runs on the worker lcore
   that received / sends the frame, on that lcore's own neighbour table.

   Unresolved next hop policy: the frame is dropped and counted
   NEIGH_UNRESOLVED (nothing is held), and an ARP request for the next hop
   goes out, rate limited per IP (sl_neigh_want_request: 10 ms after the
   first, doubling to one a second).  Senders above us retry (HELLO, on
   sl_arp_resolved as soon as the reply is in), so the next attempt finds
   the entry.

   Each *_input takes ownership of the mbuf (sl_lcore.h contract). */
#ifndef SL_ARP_H
#define SL_ARP_H

#include "sl_lcore.h"
#include "sl_net.h"

/* sl_arp_input handles a parsed ARP frame for our MAC: a request for our
   IP is answered in place (and its sender learned); a reply to our IP is
   learned and consumed; anything whose target is not our IP is dropped
   (ARP_NOT_FOR_US). */
void sl_arp_input(sl_lcore_t *lc, struct rte_mbuf *m, const sl_pkt_t *p);

/* sl_arp_send_ipv4 sends a built IPv4 frame `m` (Ethernet header present,
   its destination MAC to be filled) towards dst_ip: picks the next hop
   (on-link, else [dataplane] gateway), writes its MAC and our MAC, and
   queues the frame for TX; returns 0.  Unresolved or no route: the frame
   is dropped (NEIGH_UNRESOLVED), an ARP request goes out (rate limited),
   returns -1. */
int sl_arp_send_ipv4(sl_lcore_t *lc, struct rte_mbuf *m, uint32_t dst_ip);

/* sl_arp_resolved: true when a frame to dst_ip would go out now (its next
   hop's MAC is known).  A lookup only: no request, no counter. */
bool sl_arp_resolved(const sl_lcore_t *lc, uint32_t dst_ip);

/* sl_arp_request sends a broadcast who-has for ip now (no rate limit;
   counts arp_request_tx, or NO_MBUF when the pool is empty). */
void sl_arp_request(sl_lcore_t *lc, uint32_t ip);

#endif /* SL_ARP_H */
