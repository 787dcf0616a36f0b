/* sl_rss.h — where a flow's frames land on a port that spreads them over
   its RX queues by the Toeplitz hash (RSS), so that an outbound session
   can be placed on the worker lcore its frames will reach (DESIGN.md
   "Demux and sessions"; dataplane/sl_handoff.h for the frames that land
   elsewhere anyway).

   sl_rss_t is the placement record sluice-dp publishes in the region
   header (owner: sluice-dp, written once before the region goes READY,
   read-only afterwards; ctrl reads it when it places an outbound
   session).  `reta_n` 0 means the port does not hash with a key we know
   (vdevs: af_packet's kernel fanout, memif): no placement by hash.
   Pure functions: no I/O, no allocation. */
#ifndef SL_RSS_H
#define SL_RSS_H

#include "sl_base.h"

#define SL_RSS_KEY_LEN  40  /* the common Toeplitz key size (bytes) */
#define SL_RSS_RETA_MAX 512 /* redirection table entries kept */

typedef struct {
	uint8_t key[SL_RSS_KEY_LEN];
	uint16_t reta_n; /* entries in use; 0: no placement */
	uint8_t l4;      /* 1: UDP ports are hashed too */
	uint8_t rsvd;
	uint8_t reta[SL_RSS_RETA_MAX]; /* hash % reta_n -> worker index */
} sl_rss_t;

/* sl_rss_toeplitz hashes n 32-bit words (host order, each taken most
   significant bit first: the bytes of the frame's fields in wire order)
   with `key`; the same value as DPDK's rte_softrss and a NIC's RSS.
   n <= 2 + (SL_RSS_KEY_LEN - 8) / 4. */
uint32_t sl_rss_toeplitz(const uint32_t *words, unsigned n, const uint8_t key[SL_RSS_KEY_LEN]);

/* sl_rss_worker: the worker whose queue receives a frame from
   src_ip:src_port to dst_ip:dst_port (host order; for a session: the peer
   to us), or -1 when r places nothing (reta_n 0). */
int sl_rss_worker(const sl_rss_t *r, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
                  uint16_t dst_port);

#endif /* SL_RSS_H */
