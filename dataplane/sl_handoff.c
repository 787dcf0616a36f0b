/* sl_handoff.c — rings between worker lcores (see sl_handoff.h). */
#include "sl_handoff.h"

#include <stdio.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "sl_log.h"

int sl_handoff_create(sl_dp_t *dp)
{
	uint32_t n = dp->n_workers;
	int socket = rte_eth_dev_socket_id(dp->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	sl_handoff_t *ho =
	    rte_zmalloc_socket("sl_handoff", sizeof *ho, RTE_CACHE_LINE_SIZE, socket);
	if (SL_UNLIKELY(ho == NULL)) {
		SL_ERR("handoff table: out of memory (give EAL more memory: -m)");
		return -1;
	}
	ho->n = n;
	dp->handoff = ho;
	for (uint32_t s = 0; s < n; s++)
		for (uint32_t d = 0; d < n; d++) {
			if (s == d)
				continue;
			char name[RTE_RING_NAMESIZE];
			snprintf(name, sizeof name, "sl_ho_%u_%u_%u", dp->port_id, s, d);
			ho->ring[s][d] = rte_ring_create(name, SL_HANDOFF_RING, socket,
			                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (SL_UNLIKELY(ho->ring[s][d] == NULL)) {
				SL_ERR("handoff ring %u -> %u: %s (give EAL more memory: -m)", s, d,
				       rte_strerror(rte_errno));
				sl_handoff_destroy(dp);
				return -1;
			}
		}
	if (n > 1)
		SL_INFO("handoff: %u rings of %u frames between %u workers", n * (n - 1),
		        SL_HANDOFF_RING, n);
	return 0;
}

void sl_handoff_destroy(sl_dp_t *dp)
{
	sl_handoff_t *ho = dp->handoff;
	if (ho == NULL)
		return;
	for (uint32_t s = 0; s < ho->n; s++)
		for (uint32_t d = 0; d < ho->n; d++) {
			struct rte_ring *r = ho->ring[s][d];
			if (r == NULL)
				continue;
			void *m;
			while (rte_ring_sc_dequeue(r, &m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(r);
		}
	rte_free(ho);
	dp->handoff = NULL;
}
