/* sl_dp_main.c — sluice-dp: arguments, configuration, EAL, port, region,
   launch, wait, cleanup (SPEC.md §12).  Exit codes: 0 clean shutdown,
   1 start-up failure after the configuration was accepted, 2 usage or
   configuration error (reported before any device is touched). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "sl_cfg.h"
#include "sl_dp.h"
#include "sl_discovery.h"
#include "sl_dpregion.h"
#include "sl_handoff.h"
#include "sl_hdrmap.h"
#include "sl_hsync.h"
#include "sl_lcore.h"
#include "sl_auth.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_port.h"
#include "sl_loop.h"
#include "sl_routine.h"
#include "sl_sess_stream.h"
#include "sl_stream.h"
#include "sl_telemetry.h"
#include "sl_time.h"
#include "sl_cpulist.h"
#include "sl_tsc.h"

#define SL_EAL_MAX_ARGS 64

static volatile sig_atomic_t sl_dp_sig;

/* Start-up phases, in sl_now_ns at each phase's end (the ready line says
   where the time from main() to ready went). */
enum {
	SL_START_MAIN,
	SL_START_CONFIG,
	SL_START_EAL,
	SL_START_PORT,
	SL_START_REGION,
	SL_START_READY,
	SL_START_CNT
};
static uint64_t sl_dp_start_ns[SL_START_CNT];

/* EAL's Linux fallback for the TSC rate (DPDK 22.11 eal_timer.c: sleep
   100 ms against CLOCK_MONOTONIC_RAW), reached only when the CPU does not
   state it; with static DPDK, sluice-dp links --wrap=get_tsc_freq and EAL
   calls this instead (sl_tsc.h).  Returns 0 only through EAL's own. */
#ifdef SL_EAL_WRAP
uint64_t __real_get_tsc_freq(void);
uint64_t __wrap_get_tsc_freq(void);
uint64_t __wrap_get_tsc_freq(void)
{
	static const char *const from_name[] = {
	    [SL_TSC_FROM_NONE] = "EAL's 100 ms measurement",
	    [SL_TSC_FROM_KERNEL] = "the kernel's TSC clocksource",
	    [SL_TSC_FROM_MEASURE] = "a 2 ms measurement",
	};
	sl_tsc_from_t from;
	uint64_t hz = sl_tsc_hz(&from);
	if (SL_UNLIKELY(hz == 0))
		hz = __real_get_tsc_freq();
	SL_INFO("TSC %llu Hz, from %s", (unsigned long long)hz, from_name[from]);
	return hz;
}

/* EAL's sysfs probes of a CPU id (DPDK 22.11 eal_lcore.c): is it there
   (cpu<id>/topology/core_id), its NUMA node (the first node<N>/cpu<id>, N <
   RTE_MAX_NUMA_NODES, else 0).  An id the kernel's possible list does not
   hold has neither file: EAL's answer is 0 without the ~1,000 + 4,000
   failing access(2) calls it makes for them (sl_cpulist.h). */
static bool sl_dp_cpu_impossible(unsigned id)
{
	static sl_cpulist_t possible;
	static int loaded = 1; /* 1: not tried yet; then sl_cpulist_load's result */
	if (loaded == 1)
		loaded = sl_cpulist_load(&possible, SL_CPULIST_POSSIBLE);
	return loaded == 0 && !sl_cpulist_has(&possible, id);
}

int __real_eal_cpu_detected(unsigned lcore_id);
int __wrap_eal_cpu_detected(unsigned lcore_id);
int __wrap_eal_cpu_detected(unsigned lcore_id)
{
	return sl_dp_cpu_impossible(lcore_id) ? 0 : __real_eal_cpu_detected(lcore_id);
}

unsigned __real_eal_cpu_socket_id(unsigned lcore_id);
unsigned __wrap_eal_cpu_socket_id(unsigned lcore_id);
unsigned __wrap_eal_cpu_socket_id(unsigned lcore_id)
{
	return sl_dp_cpu_impossible(lcore_id) ? 0 : __real_eal_cpu_socket_id(lcore_id);
}
#endif

/* sl_dp_start_ms: milliseconds of the phase ending at `to`. */
static unsigned sl_dp_start_ms(int to)
{
	return (unsigned)((sl_dp_start_ns[to] - sl_dp_start_ns[to - 1]) / 1000000u);
}
static sl_dp_t sl_dp;
static sl_lcore_t sl_lcores[SL_MAX_LCORES];

/* Storage for the EAL argv (rte_eal_init may permute the pointers). */
static char sl_eal_buf[sizeof(((sl_cfg_t *)0)->eal_args) + 2 * SL_CFG_STR + 128];
static char *sl_eal_argv[SL_EAL_MAX_ARGS + 1];

bool sl_dp_signalled(void)
{
	return sl_dp_sig != 0;
}

static void sl_dp_on_signal(int sig)
{
	sl_dp_sig = sig;
}

static void sl_dp_usage(FILE *out)
{
	fprintf(out,
	        "usage: sluice-dp -c FILE [-v|-q]\n"
	        "       sluice-dp -h | --help | -V | --version\n"
	        "\n"
	        "The sluice dataplane: a DPDK primary process that owns one Ethernet port,\n"
	        "answers ARP and ICMP echo for its IPv4 address, validates sluice frames on\n"
	        "its UDP port and hands HELLOs to sluice-ctrl through the shared control\n"
	        "region <region_dir>/sluice-<instance>.region.\n"
	        "\n"
	        "  -c, --config FILE  INI file (SPEC.md section 12).  Used here:\n"
	        "                     [instance] name, region_dir; [eal] args;\n"
	        "                     [dataplane] port, ip, gateway, udp_port, idle_sleep_us,\n"
	        "                     workers; [log] level.  Errors print FILE:LINE and exit 2.\n"
	        "  -v, --verbose      log debug lines\n"
	        "  -q, --quiet        log errors only\n"
	        "  -V, --version      print the version and exit\n"
	        "  -h, --help         print this help and exit\n"
	        "\n"
	        "EAL: [eal] args is split on whitespace and passed to rte_eal_init.  The port\n"
	        "is added for you: a PCI address becomes '-a ADDR', anything else is vdev\n"
	        "devargs and becomes '--vdev DEVARGS' (e.g. net_af_packet0,iface=veth0;\n"
	        "add qpairs=N for N worker lcores).  Every EAL lcore, the main one included,\n"
	        "runs a worker with its own RX/TX queue pair.  Without --file-prefix,\n"
	        "'--file-prefix sluice-<instance>' is added; with hugepages (no --no-huge or\n"
	        "--in-memory), '--huge-unlink' is added so no hugepage file outlives us.\n"
	        "Small machines: --no-huge -m 128 -l 0 works; idle_sleep_us > 0 stops an\n"
	        "idle worker from spinning.\n"
	        "\n"
	        "Drivers: " SL_DPDK_PMDS ".\n"
	        "(meson -Ddpdk_link=shared builds against every PMD DPDK installed.)\n"
	        "\n"
	        "Telemetry: echo /sluice/stats | dpdk-telemetry.py -f <file-prefix>\n"
	        "(also /sluice/lcores, /sluice/sessions).\n"
	        "\n"
	        "SIGTERM / SIGINT (or ctrl's shutdown request): stop the workers, close the\n"
	        "port, remove the region and the DPDK runtime directory, exit 0.\n"
	        "Exit codes: 0 clean shutdown, 1 start-up failure, 2 usage or config error.\n");
}

/* sl_dp_args parses the command line into *cfg_path and the log level.
   Returns -1 to continue, else the exit code. */
static int sl_dp_args(int argc, char **argv, const char **cfg_path, int *verbosity)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},        {NULL, 0, NULL, 0},
	};
	int o;
	while ((o = getopt_long(argc, argv, "c:hVvq", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			*cfg_path = optarg;
			break;
		case 'h':
			sl_dp_usage(stdout);
			return 0;
		case 'V':
			printf("sluice-dp %s (%s)\n", SL_VERSION, SL_BUILD);
			return 0;
		case 'v':
			*verbosity = 1;
			break;
		case 'q':
			*verbosity = -1;
			break;
		default:
			sl_dp_usage(stderr);
			return 2;
		}
	}
	if (optind != argc || *cfg_path == NULL) {
		fprintf(stderr, "sluice-dp: %s\n",
		        optind != argc ? "unexpected argument" : "-c FILE is required");
		sl_dp_usage(stderr);
		return 2;
	}
	return -1;
}

static sl_log_level_t sl_dp_log_level(const char *name, int verbosity)
{
	if (verbosity != 0)
		return verbosity > 0 ? SL_LOG_DEBUG : SL_LOG_ERR;
	return sl_log_level_of(name);
}

/* sl_eal_has: some EAL argument starts with `opt`. */
static bool sl_eal_has(int argc, const char *opt)
{
	for (int i = 1; i < argc; i++)
		if (strncmp(sl_eal_argv[i], opt, strlen(opt)) == 0)
			return true;
	return false;
}

/* sl_eal_push appends `s` to the argv (copied into sl_eal_buf at *used). */
static int sl_eal_push(int *argc, size_t *used, const char *s)
{
	size_t n = strlen(s) + 1;
	if (*argc >= SL_EAL_MAX_ARGS || *used + n > sizeof sl_eal_buf)
		return -1;
	memcpy(sl_eal_buf + *used, s, n);
	sl_eal_argv[(*argc)++] = sl_eal_buf + *used;
	*used += n;
	return 0;
}

/* sl_eal_build makes the EAL argv from [eal] args and [dataplane] port.
   Returns argc, or -1 (too many / too long). */
static int sl_eal_build(const sl_cfg_t *cfg)
{
	int argc = 0, rc = 0;
	size_t used = 0;
	char args[sizeof cfg->eal_args], *save = NULL, prefix[64];
	snprintf(args, sizeof args, "%s", cfg->eal_args);
	rc |= sl_eal_push(&argc, &used, "sluice-dp");
	for (char *t = strtok_r(args, " \t\r\n", &save); t != NULL;
	     t = strtok_r(NULL, " \t\r\n", &save))
		rc |= sl_eal_push(&argc, &used, t);
	rc |= sl_eal_push(&argc, &used, sl_port_is_pci(cfg->port) ? "-a" : "--vdev");
	rc |= sl_eal_push(&argc, &used, cfg->port);
	if (!sl_eal_has(argc, "--file-prefix")) {
		snprintf(prefix, sizeof prefix, "sluice-%s", cfg->instance);
		rc |= sl_eal_push(&argc, &used, "--file-prefix");
		rc |= sl_eal_push(&argc, &used, prefix);
	}
	if (!sl_eal_has(argc, "--no-huge") && !sl_eal_has(argc, "--in-memory") &&
	    !sl_eal_has(argc, "--huge-unlink"))
		rc |= sl_eal_push(&argc, &used, "--huge-unlink");
	sl_eal_argv[argc] = NULL;
	return rc != 0 ? -1 : argc;
}

/* sl_dp_config loads and checks the configuration; exit code or -1. */
static int sl_dp_config(const char *path, int verbosity)
{
	char err[512];
	sl_cfg_defaults(&sl_dp.cfg);
	if (sl_cfg_load(&sl_dp.cfg, path, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	sl_log_set_level(sl_dp_log_level(sl_dp.cfg.log_level, verbosity));
	sl_log_set_format(sl_log_format_of(sl_dp.cfg.log_format));
	if (sl_dp.cfg.port[0] == '\0' || sl_dp.cfg.ipv4 == 0) {
		fprintf(stderr, "%s: [dataplane] port and ip are required by sluice-dp\n", path);
		return 2;
	}
	if (sl_eal_build(&sl_dp.cfg) < 0) {
		fprintf(stderr, "%s: [eal] args: more than %d arguments or too long\n", path,
		        SL_EAL_MAX_ARGS);
		return 2;
	}
	sl_dp.ipv4 = sl_dp.cfg.ipv4;
	sl_dp.netmask = sl_net_prefix_mask(sl_dp.cfg.prefix_len);
	sl_dp.gateway = sl_dp.cfg.gateway;
	sl_dp.udp_port = sl_dp.cfg.udp_port;
	return -1;
}

static void sl_dp_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sl_dp_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* sl_dp_workers picks the worker count: [dataplane] workers if set, else
   every EAL lcore.  Returns 0, or -1 with a log line. */
static int sl_dp_workers(void)
{
	unsigned avail = rte_lcore_count();
	unsigned want = sl_dp.cfg.lcores != 0 ? sl_dp.cfg.lcores : avail;
	if (want > avail || want > SL_MAX_LCORES) {
		SL_ERR("%u worker lcores wanted, but EAL has %u and the build allows %u "
		       "(CONFIG_SL_MAX_LCORES)",
		       want, avail, (unsigned)SL_MAX_LCORES);
		return -1;
	}
	sl_dp.n_workers = (uint16_t)want;
	return 0;
}

/* sl_dp_region creates the shared region, writes our identity in its
   header, formats its objects (sl_dpregion: the region is marked formatted
   last, so ctrl sees all of it at once) and joins the status and the peer
   book the lcores read. */
static int sl_dp_region(void)
{
	char path[256];
	if (sl_region_path(path, sizeof path, sl_dp.cfg.region_dir, sl_dp.cfg.instance) != 0) {
		SL_ERR("region path for instance '%s' in '%s' is too long", sl_dp.cfg.instance,
		       sl_dp.cfg.region_dir);
		return -1;
	}
	if (sl_region_create(&sl_dp.region, path, sl_dp.n_workers, sl_dp.cfg.instance) != 0)
		return -1;
	sl_region_hdr_t *h = sl_dp.region.hdr;
	h->dp_ipv4 = sl_dp.ipv4;
	h->dp_udp_port = sl_dp.udp_port;
	memcpy(h->dp_mac, sl_dp.mac.addr_bytes, 6);
	snprintf(h->instance, sizeof h->instance, "%s", sl_dp.cfg.instance);
	atomic_store(&h->dp_pid, (uint32_t)getpid());
	atomic_store(&h->dp_heartbeat_ns, sl_now_ns());
	if (sl_dpregion_format(&sl_dp.region) != 0) {
		sl_region_close(&sl_dp.region);
		return -1;
	}
	sl_dp.status = sl_status_join(sl_region_obj(&sl_dp.region, SL_REGION_OBJ_STATUS, 0));
	sl_dp.pbook = sl_pbook_join(sl_region_obj(&sl_dp.region, SL_REGION_OBJ_PBOOK, 0));
	if (SL_UNLIKELY(sl_dp.status == NULL || sl_dp.pbook == NULL)) {
		SL_ERR("region %s: the status or the peer book is not formatted", path);
		sl_region_close(&sl_dp.region);
		return -1;
	}
	return 0;
}

/* sl_dp_streams registers the stream descriptors, once, in the order the
   framework runs one session's hooks: the session stream, header sync
   (its STATUS goes out before discovery may close a session), discovery.
   Returns 0, or -1 with a log line. */
static int sl_dp_streams(void)
{
	if (sl_stream_count() != 0)
		return 0;
	return sl_stream_register(&sl_sess_stream_desc) != 0 ||
	               sl_stream_register(&sl_hsync_desc) != 0 ||
	               sl_stream_register(&sl_discovery_desc) != 0
	           ? -1
	           : 0;
}

/* sl_dp_prepare: worker idx on DPDK lcore `id`, its state and its
   routines' state. */
static int sl_dp_prepare(unsigned idx, unsigned id, bool is_main)
{
	if (sl_lcore_init(&sl_lcores[idx], &sl_dp, idx, id, is_main) != 0)
		return -1;
	return sl_routine_create(&sl_lcores[idx]);
}

/* sl_dp_launch starts worker 1.. on the EAL worker lcores; worker 0 is the
   main lcore (the caller runs it). */
static int sl_dp_launch(void)
{
	unsigned id, idx = 1;
	if (sl_dp_streams() != 0 || sl_dp_prepare(0, rte_get_main_lcore(), true) != 0)
		return -1;
	RTE_LCORE_FOREACH_WORKER(id)
	{
		if (idx >= sl_dp.n_workers)
			break;
		if (sl_dp_prepare(idx, id, false) != 0)
			return -1;
		int rc = rte_eal_remote_launch(sl_loop_main, &sl_lcores[idx], id);
		if (rc != 0) {
			SL_ERR("launch worker %u on lcore %u: %s", idx, id, rte_strerror(-rc));
			return -1;
		}
		idx++;
	}
	return 0;
}

/* sl_dp_rm_runtime_dir removes the DPDK runtime directory of our file
   prefix (what EAL leaves in it after rte_eal_cleanup). */
static void sl_dp_rm_runtime_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *e;
	char path[PATH_MAX + 256];
	while ((e = readdir(d)) != NULL) {
		if (e->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) != 0 && errno != ENOENT)
		SL_WARN("could not remove DPDK runtime directory %s: %s", dir, strerror(errno));
}

/* sl_dp_run: everything between a successful rte_eal_init and cleanup.
   Returns the exit code. */
static int sl_dp_run(void)
{
	int code = 1;
	if (sl_dp_workers() != 0 || sl_port_find(&sl_dp) != 0)
		return 1;
	sl_heap_create(&sl_dp.heap);
	sl_bell_init(&sl_dp.bell);
	if (sl_port_setup(&sl_dp) != 0)
		goto out_port;
	sl_dp_start_ns[SL_START_PORT] = sl_now_ns();
	if (sl_dp_region() != 0)
		goto out_port;
	sl_dp_start_ns[SL_START_REGION] = sl_now_ns();
	if (sl_telemetry_register(&sl_dp.region) != 0 || sl_handoff_create(&sl_dp) != 0 ||
	    sl_port_start(&sl_dp) != 0 || sl_dp_launch() != 0) {
		atomic_store(&sl_dp.stop, 1);
		rte_eal_mp_wait_lcore();
		goto out_region;
	}
	sl_port_rss_publish(&sl_dp);
	sl_region_life_advance(&sl_dp.region, SL_LIFE_READY);
	sl_dp_start_ns[SL_START_READY] = sl_now_ns();
	SL_INFO("ready: instance %s, %u worker(s), port %u %02x:%02x:%02x:%02x:%02x:%02x, udp %u",
	        sl_dp.cfg.instance, sl_dp.n_workers, sl_dp.port_id, sl_dp.mac.addr_bytes[0],
	        sl_dp.mac.addr_bytes[1], sl_dp.mac.addr_bytes[2], sl_dp.mac.addr_bytes[3],
	        sl_dp.mac.addr_bytes[4], sl_dp.mac.addr_bytes[5], sl_dp.udp_port);
	SL_INFO(
	    "ready in %u ms: config %u, eal %u, port setup %u, region %u, start %u",
	    (unsigned)((sl_dp_start_ns[SL_START_READY] - sl_dp_start_ns[SL_START_MAIN]) / 1000000u),
	    sl_dp_start_ms(SL_START_CONFIG), sl_dp_start_ms(SL_START_EAL),
	    sl_dp_start_ms(SL_START_PORT), sl_dp_start_ms(SL_START_REGION),
	    sl_dp_start_ms(SL_START_READY));
	sl_loop_main(&sl_lcores[0]);
	rte_eal_mp_wait_lcore();
	code = 0;
out_region:
	sl_region_life_advance(&sl_dp.region, SL_LIFE_SHUTTING_DOWN);
	for (uint32_t i = 0; i < sl_dp.n_workers; i++)
		sl_routine_destroy(&sl_lcores[i]);
	sl_hdrmap_close(&sl_dp);
	sl_telemetry_detach();
	sl_handoff_destroy(&sl_dp); /* its frames go back to the pool first */
	sl_port_teardown(&sl_dp);
	sl_heap_destroy(&sl_dp.heap);
	sl_bell_fini(&sl_dp.bell);
	sl_region_close(&sl_dp.region);
	return code;
out_port:
	sl_port_teardown(&sl_dp);
	sl_heap_destroy(&sl_dp.heap);
	return 1;
}

int main(int argc, char **argv)
{
	const char *cfg_path = NULL;
	int verbosity = 0;
	sl_dp_start_ns[SL_START_MAIN] = sl_now_ns();
	sl_log_init("sluice-dp", SL_LOG_INFO);
	int code = sl_dp_args(argc, argv, &cfg_path, &verbosity);
	if (code >= 0)
		return code;
	code = sl_dp_config(cfg_path, verbosity);
	if (code >= 0)
		return code;
	if (sl_auth_init() != 0) { /* SPEC §8's tags and signatures (libsodium) */
		SL_ERR("libsodium cannot start (no entropy source?)");
		return 1;
	}
	sl_dp_signals();
	sl_dp_start_ns[SL_START_CONFIG] = sl_now_ns();
	int eal_argc = 0;
	while (sl_eal_argv[eal_argc] != NULL)
		eal_argc++;
	if (rte_eal_init(eal_argc, sl_eal_argv) < 0) {
		SL_ERR("EAL init failed: %s", rte_strerror(rte_errno));
		return 1;
	}
	sl_dp_start_ns[SL_START_EAL] = sl_now_ns();
	char runtime_dir[PATH_MAX];
	snprintf(runtime_dir, sizeof runtime_dir, "%s", rte_eal_get_runtime_dir());
	code = sl_dp_run();
	rte_eal_cleanup();
	sl_dp_rm_runtime_dir(runtime_dir);
	SL_INFO("exit %d", code);
	/* Everything we own is released above.  Leave without running library
	   exit handlers: with EAL's service threads still alive, a destructor
	   was seen to hang the process after a clean shutdown under load. */
	fflush(NULL);
	_exit(code);
}
