/* sl_neigh.h — the per-lcore IPv4 neighbour (ARP) table and next-hop
   choice.  One table per worker lcore, owned by it (single writer, single
   reader, no atomics): an lcore learns from the ARP traffic it receives
   and asks for what it needs to send.  Fixed size (SL_NEIGH_SIZE entries,
   open addressing, at most SL_NEIGH_PROBE slots looked at per call), no
   allocation.  Pure data structure: no EAL, no mbufs (sl_arp.h does the
   frames).  Addresses are host order; IP 0 is never stored. */
#ifndef SL_NEIGH_H
#define SL_NEIGH_H

#include "sl_base.h"
#include "sl_net.h"

#define SL_NEIGH_PROBE       8                   /* slots probed per lookup */
#define SL_NEIGH_REQ_GAP0_NS (10ULL * 1000000)   /* first ARP retry for an IP */
#define SL_NEIGH_REQ_GAP_NS  (1000ULL * 1000000) /* then doubling up to one a second */

_Static_assert(SL_IS_POW2(SL_NEIGH_SIZE), "SL_NEIGH_SIZE must be a power of two");
_Static_assert(SL_NEIGH_SIZE >= SL_NEIGH_PROBE, "SL_NEIGH_SIZE below the probe window");

typedef struct {
	uint32_t ip;      /* 0: free slot */
	uint8_t resolved; /* 1: mac is valid */
	uint8_t req_n;    /* requests sent while unresolved (saturates) */
	sl_mac_t mac;
	uint64_t seen_ns; /* last learned / last requested: eviction age */
	uint64_t req_ns;  /* last ARP request sent for ip (0: never) */
} sl_neigh_entry_t;

typedef struct {
	sl_neigh_entry_t e[SL_NEIGH_SIZE];
} sl_neigh_t;

/* sl_neigh_init empties the table. */
void sl_neigh_init(sl_neigh_t *t);

/* sl_neigh_learn records ip -> mac (resolved), replacing what the table
   held for ip.  A full probe window evicts its least recently seen entry.
   Ignores ip 0 and broadcast / zero MACs. */
void sl_neigh_learn(sl_neigh_t *t, uint32_t ip, const sl_mac_t *mac, uint64_t now_ns);

/* sl_neigh_lookup: 1 and *mac filled when ip is resolved, else 0. */
int sl_neigh_lookup(const sl_neigh_t *t, uint32_t ip, sl_mac_t *mac);

/* sl_neigh_want_request is the ARP request rate limiter: 1 when an
   unresolved ip may be asked for now and records the request; 0
   otherwise.  The gap after the first request is SL_NEIGH_REQ_GAP0_NS and
   doubles with each further one up to SL_NEIGH_REQ_GAP_NS (a request lost
   while a link comes up costs milliseconds, a dead peer one a second).  Creates
   an unresolved entry for ip if it has none (possibly evicting). */
int sl_neigh_want_request(sl_neigh_t *t, uint32_t ip, uint64_t now_ns);

/* sl_neigh_rearm forgets the request history of every unresolved entry
   (the link was down: those requests never left), so the next
   sl_neigh_want_request for any of them says 1 at once and the gaps start
   again from SL_NEIGH_REQ_GAP0_NS.  Resolved entries are untouched. */
void sl_neigh_rearm(sl_neigh_t *t);

/* sl_neigh_next_hop: where a packet to dst goes — dst itself when it is
   on-link (same prefix_len subnet as our_ip), else gateway; 0 when off-link
   and there is no gateway (no route). */
uint32_t sl_neigh_next_hop(uint32_t our_ip, uint8_t prefix_len, uint32_t gateway, uint32_t dst);

#endif /* SL_NEIGH_H */
