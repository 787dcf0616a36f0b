/* sl_port.h — the one Ethernet port of sluice-dp, its RX/TX queue pairs
   (queue i belongs to worker i) and the mbuf pool they share.  Owner: the
   main lcore, at start and at shutdown only, except the link poll of its
   housekeeping phase; nothing here runs per frame. */
#ifndef SL_PORT_H
#define SL_PORT_H

#include "sl_dp.h"

/* sl_port_is_pci: `port` (the [dataplane] port value) looks like a PCI
   address ("0000:01:00.0" or "01:00.0", optionally followed by ",args")
   rather than vdev devargs ("net_af_packet0,iface=veth0"). */
bool sl_port_is_pci(const char *port);

/* sl_port_dev_name copies the device name part of `port` (up to the first
   comma) into out.  Returns 0, or -1 if it does not fit or is empty. */
int sl_port_dev_name(const char *port, char *out, size_t out_sz);

/* sl_port_find resolves dp->cfg.port to a probed ethdev after rte_eal_init
   and stores it in dp->port_id.  Returns 0, or -1 with one log line. */
int sl_port_find(sl_dp_t *dp);

/* sl_port_setup creates the mbuf pool (SL_MBUFS_PER_LCORE per worker,
   SL_MBUF_CACHE, RTE_MBUF_DEFAULT_BUF_SIZE), configures dp->n_workers RX
   and TX queues (RSS over IPv4/UDP when the device offers it and there is
   more than one queue), sets up every queue with SL_RX_DESC/SL_TX_DESC
   (as adjusted by the driver) and reads our MAC into dp->mac.  Does not
   start the port.  Returns 0, or -1 with one log line naming the fix. */
int sl_port_setup(sl_dp_t *dp);

/* sl_port_start starts the port and reads its link once
   (sl_port_link_poll).  Returns 0, or -1 with one log line. */
int sl_port_start(sl_dp_t *dp);

/* sl_port_link_poll (main lcore: once after the start, then in its
   housekeeping phase) reads the link status without waiting, every
   SL_PORT_LINK_POLL_DOWN_NS while it is down and every
   SL_PORT_LINK_POLL_UP_NS while up (on a NIC the read may be a register
   or a syscall: never per cycle).  A down -> up change advances
   dp->link_epoch (release) and logs one line, as does up -> down.  A
   driver that cannot tell counts as up. */
#define SL_PORT_LINK_POLL_DOWN_NS (1ull * 1000000ull)
#define SL_PORT_LINK_POLL_UP_NS   (100ull * 1000000ull)
void sl_port_link_poll(sl_dp_t *dp, uint64_t now_ns);

/* sl_port_rss_publish writes the port's flow placement into the region
   header (sl_rss.h): with more than one worker and RSS configured, the
   port's Toeplitz key (when it is SL_RSS_KEY_LEN bytes) and its
   redirection table (queue = worker); otherwise reta_n 0 — the port picks
   queues by a rule we cannot compute (af_packet's kernel fanout, memif)
   and ctrl spreads sessions instead.  Call after sl_port_start and before
   the region goes READY.  Never fails: a port that does not tell places
   nothing (one info line). */
void sl_port_rss_publish(sl_dp_t *dp);

/* sl_port_teardown stops and closes the port and frees the pool.  Safe to
   call after a partial setup; call only once every worker has returned. */
void sl_port_teardown(sl_dp_t *dp);

#endif /* SL_PORT_H */
