/* sl_port.c — port, queues and mbuf pool (see sl_port.h). */
#include "sl_port.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "sl_log.h"
#include "sl_time.h"
#include "sl_xdpcfg.h"

static bool sl_port_configured;
static bool sl_port_started;
static bool sl_port_rss; /* RSS configured (sl_port_configure) */

/* sl_port_hex_run: s starts with exactly n hex digits, followed by `sep`. */
static bool sl_port_hex_run(const char *s, int n, char sep)
{
	for (int i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == sep;
}

/* "BB:DD.F" followed by NUL or ','. */
static bool sl_port_is_bdf(const char *s)
{
	if (!sl_port_hex_run(s, 2, ':') || !sl_port_hex_run(s + 3, 2, '.'))
		return false;
	return (s[6] >= '0' && s[6] <= '7') && (s[7] == '\0' || s[7] == ',');
}

bool sl_port_is_pci(const char *port)
{
	if (sl_port_hex_run(port, 4, ':'))
		return sl_port_is_bdf(port + 5);
	return sl_port_is_bdf(port);
}

int sl_port_dev_name(const char *port, char *out, size_t out_sz)
{
	size_t n = strcspn(port, ",");
	if (SL_UNLIKELY(n == 0 || n >= out_sz))
		return -1;
	memcpy(out, port, n);
	out[n] = '\0';
	return 0;
}

int sl_port_find(sl_dp_t *dp)
{
	char name[RTE_ETH_NAME_MAX_LEN], full[RTE_ETH_NAME_MAX_LEN + 8];
	if (SL_UNLIKELY(sl_port_dev_name(dp->cfg.port, name, sizeof name) != 0)) {
		SL_ERR("port '%s': no device name before the first comma", dp->cfg.port);
		return -1;
	}
	/* A PCI address without its domain is probed as "0000:BB:DD.F". */
	if (sl_port_is_pci(name) && !sl_port_hex_run(name, 4, ':'))
		snprintf(full, sizeof full, "0000:%s", name);
	else
		snprintf(full, sizeof full, "%s", name);
	if (SL_UNLIKELY(rte_eth_dev_get_port_by_name(full, &dp->port_id) != 0)) {
		SL_ERR("port '%s': no ethdev named '%s' after EAL init (%u ports probed); "
		       "check the devargs / that the device is bound to a DPDK driver",
		       dp->cfg.port, full, rte_eth_dev_count_avail());
		return -1;
	}
	return 0;
}

/* sl_port_pool_create: the pool of n mbufs on `socket`, or NULL. */
static struct rte_mempool *sl_port_pool_create(const sl_dp_t *dp, unsigned n, int socket)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	snprintf(name, sizeof name, "sl_mbuf_%u", dp->port_id);
	return rte_pktmbuf_pool_create(name, n, SL_MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	                               socket);
}

/* sl_port_pool: SL_MBUFS_PER_LCORE mbufs per worker, on the dataplane's
   heap (sl_heap.h) given a chunk that holds them, else on the port's
   NUMA socket. */
static int sl_port_pool(sl_dp_t *dp)
{
	unsigned n = (unsigned)dp->n_workers * SL_MBUFS_PER_LCORE;
	int numa = rte_eth_dev_socket_id(dp->port_id);
	numa = numa < 0 ? (int)rte_socket_id() : numa;
	struct rte_mempool_objsz sz;
	rte_mempool_calc_obj_size(sizeof(struct rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, 0, &sz);
	dp->pool = NULL;
	if (sl_heap_reserve(&dp->heap, (size_t)n * sz.total_size) == 0)
		dp->pool = sl_port_pool_create(dp, n, sl_heap_socket(&dp->heap, numa));
	if (dp->pool == NULL)
		dp->pool = sl_port_pool_create(dp, n, numa);
	if (SL_UNLIKELY(dp->pool == NULL)) {
		SL_ERR("mbuf pool of %u mbufs: %s (give EAL more memory: -m, or hugepages)", n,
		       rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static int sl_port_configure(sl_dp_t *dp, const struct rte_eth_dev_info *info)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	uint64_t rss = info->flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	if (dp->n_workers > 1 && rss != 0) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
		sl_port_rss = true;
	}
	int rc = rte_eth_dev_configure(dp->port_id, dp->n_workers, dp->n_workers, &conf);
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("port %u: configure %u queue pairs: %s", dp->port_id, dp->n_workers,
		       rte_strerror(-rc));
		return -1;
	}
	sl_port_configured = true;
	return 0;
}

static int sl_port_queues(sl_dp_t *dp)
{
	uint16_t nb_rxd = SL_RX_DESC, nb_txd = SL_TX_DESC;
	int rc = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port_id, &nb_rxd, &nb_txd);
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("port %u: adjust descriptors: %s", dp->port_id, rte_strerror(-rc));
		return -1;
	}
	int socket = rte_eth_dev_socket_id(dp->port_id);
	unsigned sock = socket < 0 ? (unsigned)SOCKET_ID_ANY : (unsigned)socket;
	for (uint16_t q = 0; q < dp->n_workers; q++) {
		rc = rte_eth_rx_queue_setup(dp->port_id, q, nb_rxd, sock, NULL, dp->pool);
		if (SL_UNLIKELY(rc != 0)) {
			SL_ERR("port %u: RX queue %u: %s", dp->port_id, q, rte_strerror(-rc));
			return -1;
		}
		rc = rte_eth_tx_queue_setup(dp->port_id, q, nb_txd, sock, NULL);
		if (SL_UNLIKELY(rc != 0)) {
			SL_ERR("port %u: TX queue %u: %s", dp->port_id, q, rte_strerror(-rc));
			return -1;
		}
	}
	SL_INFO("port %u: %u queue pairs, %u RX / %u TX descriptors", dp->port_id, dp->n_workers,
	        nb_rxd, nb_txd);
	return 0;
}

int sl_port_setup(sl_dp_t *dp)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(dp->port_id, &info);
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("port %u: device info: %s", dp->port_id, rte_strerror(-rc));
		return -1;
	}
	if (SL_UNLIKELY(info.max_rx_queues < dp->n_workers || info.max_tx_queues < dp->n_workers)) {
		SL_ERR(
		    "port '%s' offers %u RX / %u TX queues but %u worker lcores need one pair "
		    "each: use fewer lcores in [eal] args, or more queues (af_packet: qpairs=%u)",
		    dp->cfg.port, info.max_rx_queues, info.max_tx_queues, dp->n_workers,
		    dp->n_workers);
		return -1;
	}
	if (sl_port_pool(dp) != 0 || sl_port_configure(dp, &info) != 0 || sl_port_queues(dp) != 0)
		return -1;
	rc = rte_eth_macaddr_get(dp->port_id, &dp->mac);
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("port %u: MAC address: %s", dp->port_id, rte_strerror(-rc));
		return -1;
	}
	return 0;
}

int sl_port_start(sl_dp_t *dp)
{
	int rc = rte_eth_dev_start(dp->port_id);
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("port %u: start: %s", dp->port_id, rte_strerror(-rc));
		return -1;
	}
	sl_port_started = true;
	sl_port_link_poll(dp, sl_now_ns());
	return sl_xdpcfg_apply(dp);
}

void sl_port_link_poll(sl_dp_t *dp, uint64_t now_ns)
{
	if (SL_LIKELY(now_ns < dp->link_next_ns))
		return;
	bool first = dp->link_next_ns == 0;
	struct rte_eth_link l = {.link_status = RTE_ETH_LINK_UP};
	(void)rte_eth_link_get_nowait(dp->port_id, &l); /* cannot tell: up */
	bool up = l.link_status == RTE_ETH_LINK_UP;
	dp->link_next_ns = now_ns + (up ? SL_PORT_LINK_POLL_UP_NS : SL_PORT_LINK_POLL_DOWN_NS);
	if (!first && up == dp->link_up)
		return;
	dp->link_up = up;
	if (up) {
		atomic_fetch_add_explicit(&dp->link_epoch, 1, memory_order_release);
		SL_INFO("port %u: link up (%u Mbps)", dp->port_id, l.link_speed);
	} else if (first) {
		SL_INFO("port %u: link not up yet", dp->port_id);
	} else {
		SL_WARN("port %u: link down; ARP requests and HELLOs go again when it is back",
		        dp->port_id);
	}
}

void sl_port_rss_publish(sl_dp_t *dp)
{
	sl_rss_t *out = &dp->region.hdr->rss;
	memset(out, 0, sizeof *out);
	if (!sl_port_rss)
		return;
	struct rte_eth_dev_info info;
	uint8_t key[64];
	struct rte_eth_rss_conf conf = {.rss_key = key, .rss_key_len = sizeof key};
	if (rte_eth_dev_info_get(dp->port_id, &info) != 0 ||
	    rte_eth_dev_rss_hash_conf_get(dp->port_id, &conf) != 0 ||
	    conf.rss_key_len != SL_RSS_KEY_LEN || info.reta_size == 0 ||
	    info.reta_size > SL_RSS_RETA_MAX) {
		SL_INFO("port %u: RSS key or redirection table not readable as Toeplitz/%u: "
		        "outbound sessions are spread over the workers",
		        dp->port_id, SL_RSS_KEY_LEN);
		return;
	}
	struct rte_eth_rss_reta_entry64 reta[SL_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	memset(reta, 0, sizeof reta);
	for (unsigned g = 0; g < info.reta_size / RTE_ETH_RETA_GROUP_SIZE; g++)
		reta[g].mask = UINT64_MAX;
	if (rte_eth_dev_rss_reta_query(dp->port_id, reta, info.reta_size) != 0) {
		SL_INFO("port %u: RSS redirection table not readable: outbound sessions are "
		        "spread over the workers",
		        dp->port_id);
		return;
	}
	for (unsigned i = 0; i < info.reta_size; i++) {
		uint16_t q = reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
		if (q >= dp->n_workers)
			return; /* a queue nobody polls: place nothing */
		out->reta[i] = (uint8_t)q;
	}
	memcpy(out->key, key, SL_RSS_KEY_LEN);
	out->l4 = (conf.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_UDP) != 0;
	out->reta_n = info.reta_size;
	SL_INFO("port %u: outbound sessions placed by RSS (Toeplitz, %u-entry table, %s)",
	        dp->port_id, info.reta_size, out->l4 ? "addresses and ports" : "addresses");
}

void sl_port_teardown(sl_dp_t *dp)
{
	if (sl_port_started) {
		int rc = rte_eth_dev_stop(dp->port_id);
		if (rc != 0)
			SL_WARN("port %u: stop: %s", dp->port_id, rte_strerror(-rc));
		sl_port_started = false;
	}
	if (sl_port_configured) {
		rte_eth_dev_close(dp->port_id);
		sl_port_configured = false;
	}
	if (dp->pool != NULL) {
		rte_mempool_free(dp->pool);
		dp->pool = NULL;
	}
}
