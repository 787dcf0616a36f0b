/* fuzz_lcore.c — the fuzz targets' test lcore (see fuzz_lcore.h). */
#include "fuzz_lcore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <getopt.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "sl_chain.h"
#include "sl_cmd.h"
#include "sl_cmdq.h"
#include "sl_connect.h"
#include "sl_discovery.h"
#include "sl_dpregion.h"
#include "sl_hdrmap.h"
#include "sl_hsync.h"
#include "sl_ingress.h"
#include "sl_log.h"
#include "sl_msgq.h"
#include "sl_net.h"
#include "sl_port.h"
#include "sl_sess_stream.h"
#include "sl_sha256d.h"
#include "sl_store.h"
#include "sl_stream.h"

fuzz_lcore_t fuzz_lc;

/* sl_loop.c asks whether a signal came (sluice-dp's main answers it). */
bool sl_dp_signalled(void)
{
	return false;
}

static const sl_mac_t fuzz_lcore_mac = {{0x02, 0, 0, 0, 0, 0x01}};

static void fuzz_lcore_peer(uint32_t slot, uint32_t *ip, uint16_t *port, sl_mac_t *mac)
{
	*ip = FUZZ_LCORE_PEER + slot;
	*port = (uint16_t)(SL_WIRE_UDP_PORT + slot);
	*mac = (sl_mac_t){{0x02, 0, 0, 0, 0, (uint8_t)(0x10 + slot)}};
}

/* fuzz_lcore_rmdir removes dir and the files in it. */
static void fuzz_lcore_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	char path[512];
	while ((e = readdir(d)) != NULL) {
		if (e->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* fuzz_lcore_le32 stores v little-endian (header fields). */
static void fuzz_lcore_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
	p[3] = (uint8_t)(v >> 24);
}

/* fuzz_lcore_store writes a header store of FUZZ_LCORE_HEADERS regtest
   headers (genesis, then mined ones) where [ctrl] store points and maps it
   the way the main lcore does (sl_hdrmap_try_open): GET_HEADERS is served
   from it. */
static void fuzz_lcore_store(sl_dp_t *dp)
{
	snprintf(dp->cfg.store, sizeof dp->cfg.store, "%s/store", fuzz_lc.dir);
	sl_store_opts_t o = {.dir = dp->cfg.store, .max_headers = 4096};
	sl_store_t *s = sl_store_open(&o, NULL);
	if (s == NULL)
		abort();
	uint8_t h[SL_CHAIN_HDR_LEN], hash[SL_CHAIN_HASH_LEN];
	memcpy(h, sl_chain_profile("regtest")->genesis, sizeof h);
	if (sl_store_append(s, h, 1, NULL) != SL_STORE_OK)
		abort();
	uint32_t t0 = sl_chain_hdr_time(h);
	for (uint32_t i = 1; i < FUZZ_LCORE_HEADERS; i++) {
		sl_sha256d_hdr(h, hash);
		fuzz_lcore_le32(h, 0x20000000u);
		memcpy(h + 4, hash, 32);
		memset(h + 36, (int)i, 32); /* merkle root: any */
		fuzz_lcore_le32(h + 68, t0 + 600u * i);
		fuzz_lcore_le32(h + 76, 0);
		if (sl_chain_mine(h, 1u << 20, hash) == 0 ||
		    sl_store_append(s, h, 1, NULL) != SL_STORE_OK)
			abort();
	}
	if (sl_store_commit(s) != SL_STORE_OK)
		abort();
	sl_store_close(s);
	sl_hdrmap_try_open(dp, 0);
	if (sl_hdrmap_get(dp) == NULL)
		abort();
}

static void fuzz_lcore_cleanup(void)
{
	char run[256];
	snprintf(run, sizeof run, "%s", rte_eal_get_runtime_dir());
	sl_hdrmap_close(&fuzz_lc.dp);
	fuzz_lcore_rmdir(fuzz_lc.dp.cfg.store);
	sl_routine_destroy(&fuzz_lc.lc);
	sl_port_teardown(&fuzz_lc.dp);
	sl_region_close(&fuzz_lc.dp.region);
	fuzz_lcore_rmdir(fuzz_lc.dir);
	rte_eal_cleanup();
	fuzz_lcore_rmdir(run);
}

void fuzz_lcore_init(const char *name)
{
	sl_log_init(name, SL_LOG_ERR);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "--file-prefix=%s-%d", name, (int)getpid());
	char *eal[] = {
	    (char *)name,     "--no-huge", "-m", "128",    "--no-pci",  "--no-shconf",
	    prefix,           "-l",        "0",  "--vdev", "net_null0", "--log-level=*:error",
	    "--no-telemetry", NULL};
	optind = 1; /* EAL parses with getopt */
	if (rte_eal_init((int)(sizeof eal / sizeof eal[0]) - 1, eal) < 0)
		abort();
	sl_dp_t *dp = &fuzz_lc.dp;
	sl_cfg_defaults(&dp->cfg);
	snprintf(dp->cfg.port, sizeof dp->cfg.port, "net_null0");
	snprintf(dp->cfg.instance, sizeof dp->cfg.instance, "fuzz");
	snprintf(fuzz_lc.dir, sizeof fuzz_lc.dir, "/dev/shm/sl-fuzz-lcore-XXXXXX");
	if (mkdtemp(fuzz_lc.dir) == NULL)
		abort();
	snprintf(dp->cfg.region_dir, sizeof dp->cfg.region_dir, "%s", fuzz_lc.dir);
	snprintf(dp->cfg.profile, sizeof dp->cfg.profile, "regtest");
	dp->ipv4 = FUZZ_LCORE_IP;
	dp->netmask = sl_net_prefix_mask(24);
	dp->udp_port = SL_WIRE_UDP_PORT;
	dp->n_workers = 1;
	char path[256];
	if (sl_port_find(dp) != 0 || sl_port_setup(dp) != 0 || sl_port_start(dp) != 0 ||
	    sl_region_path(path, sizeof path, dp->cfg.region_dir, dp->cfg.instance) != 0 ||
	    sl_region_create(&dp->region, path, 1, dp->cfg.instance) != 0)
		abort();
	memcpy(dp->mac.addr_bytes, fuzz_lcore_mac.b, 6); /* fixed: inputs name it */
	sl_region_hdr_t *h = dp->region.hdr;
	h->dp_ipv4 = dp->ipv4;
	h->dp_udp_port = dp->udp_port;
	memcpy(h->dp_mac, fuzz_lcore_mac.b, 6);
	atomic_store(&h->dp_pid, (uint32_t)getpid());
	if (sl_dpregion_format(&dp->region) != 0)
		abort();
	dp->status = sl_status_join(sl_region_obj(&dp->region, SL_REGION_OBJ_STATUS, 0));
	dp->pbook = sl_pbook_join(sl_region_obj(&dp->region, SL_REGION_OBJ_PBOOK, 0));
	fuzz_lcore_store(dp);
	/* ctrl is attached and always beating: HELLOs go on to admission */
	atomic_store(&h->ctrl_pid, (uint32_t)getpid());
	atomic_store(&h->ctrl_heartbeat_ns, UINT64_MAX);
	if (dp->status == NULL || dp->pbook == NULL ||
	    sl_stream_register(&sl_sess_stream_desc) != 0 ||
	    sl_stream_register(&sl_hsync_desc) != 0 ||
	    sl_stream_register(&sl_discovery_desc) != 0 ||
	    sl_lcore_init(&fuzz_lc.lc, dp, 0, rte_lcore_id(), true) != 0 ||
	    sl_routine_create(&fuzz_lc.lc) != 0)
		abort();
	sl_region_life_advance(&dp->region, SL_LIFE_READY);
	fuzz_lc.lc.now_ns = 1000ull * 1000000000ull;
	atexit(fuzz_lcore_cleanup);
}

/* fuzz_lcore_install sends slot's install through the command ring, as
   ctrl does, and runs the command phase. */
static void fuzz_lcore_install(uint32_t slot, uint8_t mode, uint32_t streams)
{
	sl_cmd_install_t in;
	memset(&in, 0, sizeof in);
	sl_mac_t mac;
	fuzz_lcore_peer(slot, &in.peer_ip, &in.peer_port, &mac);
	in.mode = mode;
	in.streams = streams;
	in.nonce = 0x1000 + slot;
	in.deadline_ms = 60000;
	if (mode == SL_INSTALL_ACCEPT) {
		memcpy(in.peer_mac, mac.b, 6);
		in.remote_sid = 0x100 + slot;
		in.corr = 7;
		memset(in.node_id, (int)(0x40 + slot), sizeof in.node_id);
	}
	fuzz_lc.gen = sl_sid_gen_norm(fuzz_lc.gen + 1);
	sl_cmdq_outcome_t o = sl_cmdq_send(&fuzz_lc.lc.rt->cmdq, 0, slot, fuzz_lc.gen,
	                                   SL_CMDQ_V_SESSION_INSTALL, &in, sizeof in);
	if (o != SL_CMDQ_QUEUED)
		abort();
	sl_cmd_phase(&fuzz_lc.lc);
}

void fuzz_lcore_begin(void)
{
	sl_lcore_t *lc = &fuzz_lc.lc;
	lc->now_ns += 10ull * 1000000000ull;
	lc->budget_left = SL_ROUTINE_BUDGET;
	fuzz_lcore_install(FUZZ_SLOT_IN_ALL, SL_INSTALL_ACCEPT, 0x23u);
	fuzz_lcore_install(FUZZ_SLOT_IN_DISC, SL_INSTALL_ACCEPT, 0x03u);
	fuzz_lcore_install(FUZZ_SLOT_IN_SYNC, SL_INSTALL_ACCEPT, 0x21u);
	fuzz_lcore_install(FUZZ_SLOT_OUT, SL_INSTALL_CONNECT, 0x23u);
	sl_connect_tick(lc); /* the first HELLO */
	sl_lcore_tx_flush(lc);
}

void fuzz_lcore_events(void (*fn)(const sl_msg_t *m, void *ctx), void *ctx)
{
	sl_lcore_t *lc = &fuzz_lc.lc;
	struct rte_ring *r = sl_region_event_ring(&lc->dp->region, lc->idx);
	sl_msg_t m;
	do {
		sl_evq_flush(&lc->rt->evq);
		while (sl_msgq_recv(r, &m) == 0)
			if (fn != NULL)
				fn(&m, ctx);
	} while (sl_evq_pending(&lc->rt->evq) != 0);
}

void fuzz_lcore_end(void (*fn)(const sl_msg_t *m, void *ctx), void *ctx)
{
	sl_lcore_t *lc = &fuzz_lc.lc;
	for (uint32_t s = 0; s < SL_SESSIONS_PER_LCORE; s++) {
		sl_routine_peer_t *p = sl_routine_peer(lc, s);
		if (p->state != SL_ROUTINE_FREE)
			sl_routine_teardown(lc, p, SL_EXIT_LOCAL, 0, 0);
		fuzz_lcore_events(fn, ctx); /* the backlog stays small */
	}
	sl_cmd_phase(lc); /* anything a routine left for itself */
	fuzz_lcore_events(fn, ctx);
	sl_lcore_tx_flush(lc);
}

void fuzz_lcore_frame(const uint8_t *f, size_t len)
{
	sl_lcore_t *lc = &fuzz_lc.lc;
	struct rte_mbuf *m = rte_pktmbuf_alloc(lc->dp->pool);
	if (m == NULL)
		abort(); /* a leak of ours: the pool never runs dry otherwise */
	char *d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		return; /* longer than an mbuf: no NIC hands us that */
	}
	memcpy(d, f, len);
	lc->budget_left = SL_ROUTINE_BUDGET;
	sl_ingress_frame(lc, m);
	sl_lcore_tx_flush(lc);
	sl_lcore_consumed_flush(lc);
}

uint32_t fuzz_lcore_udp(uint8_t *out, uint32_t cap, uint32_t slot, const uint8_t *pl, uint16_t len)
{
	uint32_t ip;
	uint16_t port;
	sl_mac_t mac;
	fuzz_lcore_peer(slot, &ip, &port, &mac);
	uint32_t off = sl_net_udp_payload_off(SL_NET_VLAN_NONE);
	if (off + len > cap)
		return 0;
	memcpy(out + off, pl, len);
	return sl_net_build_udp(out, cap, &mac, &fuzz_lcore_mac, ip, FUZZ_LCORE_IP, port,
	                        SL_WIRE_UDP_PORT, len, SL_NET_VLAN_NONE);
}

void fuzz_lcore_tick(uint32_t ms)
{
	sl_lcore_t *lc = &fuzz_lc.lc;
	lc->now_ns += (uint64_t)ms * 1000000ull;
	lc->budget_left = SL_ROUTINE_BUDGET;
	sl_cmd_phase(lc);
	if (sl_routine_tick_due(lc)) {
		sl_connect_tick(lc);
		sl_routine_deadlines(lc);
		sl_routine_liveness(lc);
	}
	sl_routine_pull(lc);
	sl_lcore_tx_flush(lc);
}
