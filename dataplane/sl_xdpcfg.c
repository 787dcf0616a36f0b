/* sl_xdpcfg.c — our address and port into the XDP steering program (see
   sl_xdpcfg.h). */
#include "sl_xdpcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_log.h"
#include "sl_xdp.h"

/* sl_xdpcfg_iface: the iface= of net_af_xdp devargs into out; false when
   the port is not net_af_xdp or names none. */
static bool sl_xdpcfg_iface(const char *devargs, char *out, size_t n)
{
	if (strncmp(devargs, "net_af_xdp", 10) != 0)
		return false;
	const char *p = strstr(devargs, "iface=");
	if (p == NULL)
		return false;
	p += 6;
	size_t len = strcspn(p, ",");
	if (len == 0 || len >= n)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/* sl_xdpcfg_map: an fd of the map named name used by program prog_id, or -1. */
static int sl_xdpcfg_map(uint32_t prog_id, const char *name)
{
	int pfd = bpf_prog_get_fd_by_id(prog_id);
	if (pfd < 0)
		return -1;
	uint32_t ids[16];
	struct bpf_prog_info info = {.nr_map_ids = 16, .map_ids = (uint64_t)(uintptr_t)ids};
	uint32_t len = sizeof info;
	int found = -1;
	if (bpf_obj_get_info_by_fd(pfd, &info, &len) == 0)
		for (uint32_t i = 0; i < info.nr_map_ids && i < 16 && found < 0; i++) {
			int mfd = bpf_map_get_fd_by_id(ids[i]);
			struct bpf_map_info mi = {0};
			uint32_t ml = sizeof mi;
			if (mfd >= 0 && bpf_obj_get_info_by_fd(mfd, &mi, &ml) == 0 &&
			    strcmp(mi.name, name) == 0)
				found = mfd;
			else if (mfd >= 0)
				close(mfd);
		}
	close(pfd);
	return found;
}

int sl_xdpcfg_apply(const sl_dp_t *dp)
{
	char ifname[IF_NAMESIZE];
	if (!sl_xdpcfg_iface(dp->cfg.port, ifname, sizeof ifname))
		return 0;
	int ifindex = (int)if_nametoindex(ifname);
	uint32_t prog_id = 0;
	if (ifindex == 0 || bpf_xdp_query_id(ifindex, 0, &prog_id) != 0 || prog_id == 0) {
		SL_WARN("%s: no XDP program attached; nothing to steer", ifname);
		return 0;
	}
	/* BPF names are cut at 15 characters: "sl_xdp_cfg" fits. */
	int mfd = sl_xdpcfg_map(prog_id, SL_XDP_CFG_MAP);
	if (mfd < 0) {
		SL_INFO("%s: XDP program %u is not sluice's steering program (no %s map): every "
		        "frame of the queue comes to us",
		        ifname, prog_id, SL_XDP_CFG_MAP);
		return 0;
	}
	uint32_t key = 0;
	struct sl_xdp_cfg v = {.ip = htonl(dp->cfg.ipv4), .port = htons(dp->cfg.udp_port)};
	int rc = bpf_map_update_elem(mfd, &key, &v, BPF_ANY);
	int err = errno;
	close(mfd);
	if (SL_UNLIKELY(rc != 0)) {
		SL_ERR("%s: cannot configure the XDP steering program: %s", ifname, strerror(err));
		return -1;
	}
	SL_INFO("%s: XDP steering program %u configured: UDP port %u, ARP and ICMP of our "
	        "address to us, the rest to the kernel",
	        ifname, prog_id, dp->cfg.udp_port);
	return 0;
}
