/* sluice-probe — live views of a running sluice node from its USDT probes
   (SPEC.md §11), libbpf-tools style: one subcommand per view, each printing
   what happened over every interval (-i SEC, -c COUNT times, text or one
   JSON object per line with --json).

     sluice-probe SUBCMD [-p PID]... [-b BINARY]... [-i SEC] [-c COUNT] [--json]

   Targets: -p PID attaches to that process only (its /proc/PID/exe);
   -b BINARY to every process running that file, now or later.  Both may be
   given several times, and a view usually wants both processes: the
   dataplane probes fire in sluice-dp, store_commit and op_* in sluice-ctrl,
   the range probes in both.  Each program is attached to every target whose
   .note.stapsdt lists its probe; a probe in no target is an error.

   The BPF object (sluice_probe.bpf.c, its skeleton built by meson) holds one
   program per probe; a subcommand loads only its own (autoload). */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_counters.h"
#include "sl_msg.h"
#include "sl_op.h"
#include "sl_rangeq.h"

#include "sl_ptool.h"
#include "sl_ptool_elf.h"
#include "sl_ptool_hist.h"
#include "sluice_probe.skel.h"

#define SL_PTOOL_TARGETS_MAX 16
#define SL_PTOOL_PROBES_MAX  64
#define SL_PTOOL_LONGEST     5 /* ranges: the holds printed, longest first */

typedef enum {
	SL_PTOOL_CMD_LAT,
	SL_PTOOL_CMD_DROPS,
	SL_PTOOL_CMD_RANGES,
	SL_PTOOL_CMD_MISB,
	SL_PTOOL_CMD_OPS,
	SL_PTOOL_CMD_SYNC,
	SL_PTOOL_CMD_CNT
} sl_ptool_cmd_t;

/* The subcommands and the probes (= BPF program names) each one loads. */
static const struct {
	const char *name;
	const char *what;
	const char *probes[4];
} sl_ptool_cmds[SL_PTOOL_CMD_CNT] = {
    [SL_PTOOL_CMD_LAT] = {"lat", "log2 histogram of routine_run ns, per stream", {"routine_run"}},
    [SL_PTOOL_CMD_DROPS] = {"drops", "frames dropped per reason (frame_drop)", {"frame_drop"}},
    [SL_PTOOL_CMD_RANGES] = {"ranges",
                             "ranges taken / returned (by why) / covered per second, and the "
                             "ranges held longest",
                             {"range_take", "range_return", "range_covered"}},
    [SL_PTOOL_CMD_MISB] = {"misbehavior",
                           "misbehaviour records per kind and per peer",
                           {"misbehavior", "session_up"}},
    [SL_PTOOL_CMD_OPS] = {"ops",
                          "op latency histogram per kind (op_start -> op_done)",
                          {"op_start", "op_done"}},
    [SL_PTOOL_CMD_SYNC] = {"sync",
                           "headers committed per second and commit latency (store_commit)",
                           {"store_commit"}},
};

typedef struct {
	int pid; /* -1: every process of the binary */
	char path[PATH_MAX];
	char probes[SL_PTOOL_PROBES_MAX][SL_PTOOL_ELF_NAME_MAX];
	int n_probes;
} sl_ptool_target_t;

/* A hold that ended (or is still on) in this interval, for `ranges`. */
typedef struct {
	uint32_t start, len, sess, gen;
	uint64_t held_ns;
	const char *how; /* "held", "covered" or a return why */
} sl_ptool_holdrec_t;

typedef struct {
	sl_ptool_cmd_t cmd;
	sl_ptool_target_t tg[SL_PTOOL_TARGETS_MAX];
	int n_tg;
	int interval_s;
	long count; /* intervals to print, 0: until interrupted */
	int json;
	int verbose;
	struct sluice_probe_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[SL_PTOOL_TARGETS_MAX * 4];
	int n_links;
	sl_ptool_holdrec_t longest[SL_PTOOL_LONGEST];
	int n_longest;
} sl_ptool_t;

static volatile sig_atomic_t sl_ptool_stop;

static void sl_ptool_on_signal(int sig)
{
	(void)sig;
	sl_ptool_stop = 1;
}

static int sl_ptool_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sl_ptool_die(const char *fmt, ...)
{
	va_list ap;
	fputs("sluice-probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int sl_ptool_libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	(void)lvl;
	return vfprintf(stderr, fmt, ap);
}

/* ---- names ---------------------------------------------------------- */

static const char *const sl_ptool_drop_names[] = {
#define SL_PTOOL_DROP_NAME(e, s) s,
    SL_DROP_LIST(SL_PTOOL_DROP_NAME)
#undef SL_PTOOL_DROP_NAME
};

static const char *const sl_ptool_why_names[] = {"none",
#define SL_PTOOL_WHY_NAME(e, s) s,
                                                 SL_RANGE_WHY_LIST(SL_PTOOL_WHY_NAME)
#undef SL_PTOOL_WHY_NAME
};

static const char *const sl_ptool_kind_names[] = {"none",
#define SL_PTOOL_KIND_NAME(ID, name, ms) name,
                                                  SL_OP_KIND_LIST(SL_PTOOL_KIND_NAME)
#undef SL_PTOOL_KIND_NAME
};

#define SL_PTOOL_N(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

/* sl_ptool_name: names[i], or "PREFIX_i" (in buf) for a number the list
   does not have. */
static const char *sl_ptool_name(const char *const *names, unsigned n, unsigned i,
                                 const char *prefix, char *buf, size_t sz)
{
	if (i < n)
		return names[i];
	snprintf(buf, sz, "%s_%u", prefix, i);
	return buf;
}

/* ---- options --------------------------------------------------------- */

static const char sl_ptool_doc[] =
    "Live views of a running sluice node from its USDT probes (SPEC.md section 11).\n"
    "\n"
    "SUBCMD is one of:\n"
    "  lat          log2 histogram of routine_run ns, per stream (sluice-dp)\n"
    "  drops        frames dropped per reason, by name (sluice-dp)\n"
    "  ranges       ranges taken / returned (by why) / covered per second, and the\n"
    "               ranges held longest (sluice-dp and sluice-ctrl)\n"
    "  misbehavior  misbehaviour records per kind and per peer (sluice-dp)\n"
    "  ops          op latency histogram per kind, op_start -> op_done\n"
    "               (sluice-ctrl)\n"
    "  sync         headers committed per second, commit latency (sluice-ctrl)\n"
    "\n"
    "Give the processes with -p (once per process, e.g. -p $(pidof sluice-dp)\n"
    "-p $(pidof sluice-ctrl)) or the binaries with -b (every process running\n"
    "them).  Each interval prints what happened in it; --json prints one JSON\n"
    "object per interval and line.  Needs root (CAP_BPF and CAP_PERFMON), a\n"
    "kernel with BTF and uprobes, and targets built with CONFIG_SL_USDT=y.\n"
    "\n"
    "Example: sluice-probe sync -p $(pidof sluice-ctrl) -i 1 -c 10 --json\v";

static const struct argp_option sl_ptool_opts[] = {
    {"pid", 'p', "PID", 0, "Trace process PID (repeatable)", 0},
    {"binary", 'b', "BINARY", 0, "Trace every process of BINARY (repeatable)", 0},
    {"interval", 'i', "SEC", 0, "Print every SEC seconds (default 1)", 0},
    {"count", 'c', "COUNT", 0, "Stop after COUNT intervals (default: until Ctrl-C)", 0},
    {"json", 'j', NULL, 0, "One JSON object per interval instead of text", 0},
    {"verbose", 'v', NULL, 0, "Show libbpf's messages", 0},
    {NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0},
    {0},
};

static int sl_ptool_add_target(sl_ptool_t *t, int pid, const char *path, struct argp_state *st)
{
	if (t->n_tg >= SL_PTOOL_TARGETS_MAX)
		argp_error(st, "at most %d targets", SL_PTOOL_TARGETS_MAX);
	sl_ptool_target_t *g = &t->tg[t->n_tg++];
	g->pid = pid;
	if (pid < 0) {
		snprintf(g->path, sizeof g->path, "%s", path != NULL ? path : "");
		return 0;
	}
	char exe[64];
	snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
	ssize_t n = readlink(exe, g->path, sizeof g->path - 1);
	if (n < 0 && (errno == EACCES || errno == EPERM))
		argp_failure(st, 1, 0, "needs root (CAP_BPF and CAP_PERFMON)");
	if (n < 0)
		argp_failure(st, 1, 0, "-p %d: %s: %s", pid, exe,
		             errno == ENOENT ? "no such process" : strerror(errno));
	g->path[n] = 0;
	return 0;
}

static long sl_ptool_num(const char *arg, long min, const char *what, struct argp_state *st)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != 0 || v < min || v > INT_MAX)
		argp_error(st, "bad %s '%s'", what, arg);
	return v;
}

static error_t sl_ptool_parse(int key, char *arg, struct argp_state *st)
{
	sl_ptool_t *t = st->input;
	switch (key) {
	case 'p':
		return sl_ptool_add_target(t, (int)sl_ptool_num(arg, 1, "PID", st), NULL, st);
	case 'b':
		return sl_ptool_add_target(t, -1, arg, st);
	case 'i':
		t->interval_s = (int)sl_ptool_num(arg, 1, "interval", st);
		return 0;
	case 'c':
		t->count = sl_ptool_num(arg, 1, "count", st);
		return 0;
	case 'j':
		t->json = 1;
		return 0;
	case 'v':
		t->verbose = 1;
		return 0;
	case 'h':
		argp_state_help(st, stdout, ARGP_HELP_STD_HELP);
		return 0;
	case ARGP_KEY_ARG:
		if (st->arg_num > 0)
			argp_error(st, "unexpected argument '%s'", arg);
		for (int c = 0; c < SL_PTOOL_CMD_CNT; c++)
			if (strcmp(arg, sl_ptool_cmds[c].name) == 0) {
				t->cmd = (sl_ptool_cmd_t)c;
				return 0;
			}
		argp_error(st, "unknown subcommand '%s'", arg);
		return 0;
	case ARGP_KEY_END:
		if (st->arg_num < 1)
			argp_error(st, "a subcommand is needed");
		if (t->n_tg == 0)
			argp_error(st,
			           "give the node's processes (-p PID) or binaries (-b BINARY)");
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* ---- setup ----------------------------------------------------------- */

/* sl_ptool_check_kernel: what CO-RE and USDT need from the kernel. */
static int sl_ptool_check_kernel(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
		return sl_ptool_die(
		    "this kernel has no BTF (/sys/kernel/btf/vmlinux missing: it needs "
		    "CONFIG_DEBUG_INFO_BTF=y)");
	if (access("/sys/bus/event_source/devices/uprobe", F_OK) != 0)
		return sl_ptool_die(
		    "this kernel has no uprobes (/sys/bus/event_source/devices/uprobe "
		    "missing: it needs CONFIG_UPROBE_EVENTS=y)");
	return 0;
}

/* sl_ptool_check_targets reads each target's USDT notes. */
static int sl_ptool_check_targets(sl_ptool_t *t)
{
	for (int i = 0; i < t->n_tg; i++) {
		sl_ptool_target_t *g = &t->tg[i];
		sl_ptool_elf_err_t e = sl_ptool_elf_probes(g->path, "sluice", g->probes,
		                                           SL_PTOOL_PROBES_MAX, &g->n_probes);
		if (e == SL_PTOOL_ELF_ERR_OPEN)
			return sl_ptool_die("%s: %s", g->path, strerror(errno));
		if (e == SL_PTOOL_ELF_ERR_NOT_ELF)
			return sl_ptool_die("%s: not an ELF binary", g->path);
		if (e == SL_PTOOL_ELF_ERR_NO_NOTE || g->n_probes == 0)
			return sl_ptool_die("%s was built without USDT probes (CONFIG_SL_USDT=n)",
			                    g->path);
	}
	return 0;
}

static int sl_ptool_perm(int err)
{
	return err == -EPERM || err == -EACCES;
}

static int sl_ptool_needs_root(void)
{
	return sl_ptool_die("needs root (CAP_BPF and CAP_PERFMON)");
}

/* sl_ptool_load opens the skeleton with the subcommand's programs only. */
static int sl_ptool_load(sl_ptool_t *t)
{
	t->skel = sluice_probe_bpf__open();
	if (t->skel == NULL)
		return sl_ptool_die("cannot open the BPF object: %s", strerror(errno));
	struct bpf_program *p;
	bpf_object__for_each_program(p, t->skel->obj)
	{
		int want = 0;
		for (int k = 0; k < 4 && sl_ptool_cmds[t->cmd].probes[k] != NULL; k++)
			want |= strcmp(bpf_program__name(p), sl_ptool_cmds[t->cmd].probes[k]) == 0;
		bpf_program__set_autoload(p, want);
	}
	int err = sluice_probe_bpf__load(t->skel);
	if (err == 0)
		return 0;
	if (sl_ptool_perm(err))
		return sl_ptool_needs_root();
	return sl_ptool_die("cannot load the BPF programs: %s (run with -v for libbpf's log)",
	                    strerror(-err));
}

/* sl_ptool_attach puts each of the subcommand's programs on every target
   that has its probe. */
static int sl_ptool_attach(sl_ptool_t *t)
{
	for (int k = 0; k < 4 && sl_ptool_cmds[t->cmd].probes[k] != NULL; k++) {
		const char *probe = sl_ptool_cmds[t->cmd].probes[k];
		struct bpf_program *p = bpf_object__find_program_by_name(t->skel->obj, probe);
		int on = 0;
		for (int i = 0; p != NULL && i < t->n_tg; i++) {
			sl_ptool_target_t *g = &t->tg[i];
			if (!sl_ptool_elf_has(g->probes, g->n_probes, probe))
				continue;
			struct bpf_link *l =
			    bpf_program__attach_usdt(p, g->pid, g->path, "sluice", probe, NULL);
			if (l == NULL) {
				int err = -errno;
				if (sl_ptool_perm(err))
					return sl_ptool_needs_root();
				return sl_ptool_die("cannot attach to %s:sluice:%s%s: %s", g->path,
				                    probe, g->pid > 0 ? " (that pid)" : "",
				                    strerror(-err));
			}
			t->links[t->n_links++] = l;
			on++;
		}
		if (on == 0)
			return sl_ptool_die(
			    "no target has the probe sluice:%s (%s needs it; give the "
			    "process that fires it: see --help)",
			    probe, sl_ptool_cmds[t->cmd].name);
	}
	return 0;
}

/* ---- map reading ----------------------------------------------------- */

static void sl_ptool_read_clear(int fd, uint32_t k, void *v, size_t sz)
{
	memset(v, 0, sz);
	bpf_map_lookup_elem(fd, &k, v);
	char zero[sizeof(struct sl_ptool_ranges) > sizeof(struct sl_ptool_hist)
	              ? sizeof(struct sl_ptool_ranges)
	              : sizeof(struct sl_ptool_hist)] = {0};
	bpf_map_update_elem(fd, &k, zero, BPF_ANY);
}

static uint64_t sl_ptool_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sl_ptool_header(const sl_ptool_t *t, FILE *f)
{
	char buf[16];
	time_t now = time(NULL);
	strftime(buf, sizeof buf, "%H:%M:%S", localtime(&now));
	if (t->json)
		fprintf(f, "{\"cmd\":\"%s\",\"time\":\"%s\",\"interval_s\":%d",
		        sl_ptool_cmds[t->cmd].name, buf, t->interval_s);
	else
		fprintf(f, "%s  %s\n", buf, sl_ptool_cmds[t->cmd].what);
}

/* ---- lat ------------------------------------------------------------- */

static void sl_ptool_lat(sl_ptool_t *t, FILE *f)
{
	int fd = bpf_map__fd(t->skel->maps.lat_hist);
	const char *sep = "";
	if (t->json)
		fputs(",\"streams\":[", f);
	for (uint32_t s = 0; s < SL_PTOOL_STREAMS; s++) {
		struct sl_ptool_hist h;
		sl_ptool_read_clear(fd, s, &h, sizeof h);
		if (h.count == 0)
			continue;
		if (t->json) {
			fprintf(f, "%s{\"stream\":%u,\"count\":%llu,\"sum_ns\":%llu,\"hist\":", sep,
			        s, (unsigned long long)h.count, (unsigned long long)h.sum);
			sl_ptool_hist_json(f, &h);
			fputc('}', f);
			sep = ",";
		} else {
			fprintf(f, "stream %u: %llu runs, avg %llu ns\n", s,
			        (unsigned long long)h.count, (unsigned long long)(h.sum / h.count));
			sl_ptool_hist_text(f, &h, "ns");
		}
	}
	if (t->json)
		fputc(']', f);
}

/* ---- drops ----------------------------------------------------------- */

static void sl_ptool_drops(sl_ptool_t *t, FILE *f)
{
	int fd = bpf_map__fd(t->skel->maps.drops);
	unsigned long long total = 0;
	const char *sep = "";
	if (t->json)
		fputs(",\"drops\":{", f);
	for (uint32_t r = 0; r < SL_PTOOL_DROPS; r++) {
		uint64_t n;
		sl_ptool_read_clear(fd, r, &n, sizeof n);
		if (n == 0)
			continue;
		char buf[32];
		const char *name =
		    sl_ptool_name(sl_ptool_drop_names, SL_PTOOL_N(sl_ptool_drop_names), r, "reason",
		                  buf, sizeof buf);
		if (t->json)
			fprintf(f, "%s\"%s\":%llu", sep, name, (unsigned long long)n);
		else
			fprintf(f, "  %-20s %llu\n", name, (unsigned long long)n);
		sep = ",";
		total += n;
	}
	if (t->json)
		fprintf(f, "},\"total\":%llu", total);
	else
		fprintf(f, "  %-20s %llu\n", "total", total);
}

/* ---- ranges ---------------------------------------------------------- */

/* sl_ptool_longest_add keeps the SL_PTOOL_LONGEST longest holds. */
static void sl_ptool_longest_add(sl_ptool_t *t, const sl_ptool_holdrec_t *h)
{
	int i = t->n_longest;
	if (i == SL_PTOOL_LONGEST) {
		if (t->longest[i - 1].held_ns >= h->held_ns)
			return;
		i--;
	} else {
		t->n_longest++;
	}
	while (i > 0 && t->longest[i - 1].held_ns < h->held_ns) {
		t->longest[i] = t->longest[i - 1];
		i--;
	}
	t->longest[i] = *h;
}

/* sl_ptool_covered ends every tracked hold overlapping [start, start+len):
   covering a range drops its holds without a range_return. */
static void sl_ptool_covered(sl_ptool_t *t, const struct sl_ptool_ev *e)
{
	int fd = bpf_map__fd(t->skel->maps.held);
	struct sl_ptool_hold_key k, next, gone[64];
	int n_gone = 0;
	void *prev = NULL;
	while (n_gone < 64 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sl_ptool_hold v;
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) != 0)
			continue;
		uint64_t lo = k.start, hi = (uint64_t)k.start + v.len;
		if (hi <= e->start || lo >= (uint64_t)e->start + e->len)
			continue;
		sl_ptool_holdrec_t h = {
		    k.start,  v.len, k.sess, k.gen, e->t_ns > v.t_ns ? e->t_ns - v.t_ns : 0,
		    "covered"};
		sl_ptool_longest_add(t, &h);
		gone[n_gone++] = k;
	}
	for (int i = 0; i < n_gone; i++)
		bpf_map_delete_elem(fd, &gone[i]);
}

static int sl_ptool_on_event(void *ctx, void *data, size_t sz)
{
	sl_ptool_t *t = ctx;
	const struct sl_ptool_ev *e = data;
	if (sz < sizeof *e)
		return 0;
	if (e->type == SL_PTOOL_EV_COVERED) {
		sl_ptool_covered(t, e);
	} else if (e->type == SL_PTOOL_EV_RETURN && e->held_ns != 0) {
		sl_ptool_holdrec_t h = {
		    e->start,
		    e->len,
		    e->sess,
		    e->gen,
		    e->held_ns,
		    e->why < SL_PTOOL_N(sl_ptool_why_names) ? sl_ptool_why_names[e->why] : "?"};
		sl_ptool_longest_add(t, &h);
	}
	return 0;
}

/* sl_ptool_still_held adds the holds still on, aged to now. */
static unsigned sl_ptool_still_held(sl_ptool_t *t)
{
	int fd = bpf_map__fd(t->skel->maps.held);
	struct sl_ptool_hold_key k, next;
	void *prev = NULL;
	uint64_t now = sl_ptool_now_ns();
	unsigned n = 0;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct sl_ptool_hold v;
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v) != 0)
			continue;
		sl_ptool_holdrec_t h = {
		    k.start, v.len, k.sess, k.gen, now > v.t_ns ? now - v.t_ns : 0, "held"};
		sl_ptool_longest_add(t, &h);
		n++;
	}
	return n;
}

static void sl_ptool_ranges(sl_ptool_t *t, FILE *f)
{
	struct sl_ptool_ranges r;
	sl_ptool_read_clear(bpf_map__fd(t->skel->maps.ranges), 0, &r, sizeof r);
	unsigned held = sl_ptool_still_held(t);
	double iv = t->interval_s;
	if (t->json) {
		fprintf(f,
		        ",\"take\":{\"n\":%llu,\"headers\":%llu,\"per_s\":%.2f},"
		        "\"covered\":{\"n\":%llu,\"headers\":%llu,\"per_s\":%.2f},\"return\":{",
		        (unsigned long long)r.take_n, (unsigned long long)r.take_hdrs,
		        r.take_n / iv, (unsigned long long)r.cov_n, (unsigned long long)r.cov_hdrs,
		        r.cov_n / iv);
	} else {
		fprintf(f, "  take     %8.2f/s  (%llu ranges, %llu headers)\n", r.take_n / iv,
		        (unsigned long long)r.take_n, (unsigned long long)r.take_hdrs);
		fprintf(f, "  covered  %8.2f/s  (%llu ranges, %llu headers)\n", r.cov_n / iv,
		        (unsigned long long)r.cov_n, (unsigned long long)r.cov_hdrs);
	}
	const char *sep = "";
	for (unsigned w = 0; w < SL_PTOOL_WHYS; w++) {
		if (r.ret_n[w] == 0)
			continue;
		char buf[32];
		const char *name = sl_ptool_name(sl_ptool_why_names, SL_PTOOL_N(sl_ptool_why_names),
		                                 w, "why", buf, sizeof buf);
		if (t->json)
			fprintf(f, "%s\"%s\":{\"n\":%llu,\"headers\":%llu,\"per_s\":%.2f}", sep,
			        name, (unsigned long long)r.ret_n[w],
			        (unsigned long long)r.ret_hdrs[w], r.ret_n[w] / iv);
		else
			fprintf(f, "  return   %8.2f/s  (%llu ranges, %llu headers) why %s\n",
			        r.ret_n[w] / iv, (unsigned long long)r.ret_n[w],
			        (unsigned long long)r.ret_hdrs[w], name);
		sep = ",";
	}
	if (t->json)
		fprintf(f, "},\"held_now\":%u,\"longest\":[", held);
	else
		fprintf(f, "  held now %u; held longest:\n", held);
	for (int i = 0; i < t->n_longest; i++) {
		const sl_ptool_holdrec_t *h = &t->longest[i];
		if (t->json)
			fprintf(
			    f,
			    "%s{\"start\":%u,\"len\":%u,\"session\":%u,\"gen\":%u,\"held_ms\":%.3f,"
			    "\"end\":\"%s\"}",
			    i ? "," : "", h->start, h->len, h->sess, h->gen, h->held_ns / 1e6,
			    h->how);
		else
			fprintf(f, "    [%u, +%u) session %u gen %u: %.3f ms (%s)\n", h->start,
			        h->len, h->sess, h->gen, h->held_ns / 1e6, h->how);
	}
	if (t->json)
		fputc(']', f);
	t->n_longest = 0;
}

/* ---- misbehavior ----------------------------------------------------- */

static void sl_ptool_peer_str(sl_ptool_t *t, uint32_t sess, char *buf, size_t sz)
{
	struct sl_ptool_peer p;
	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.peers), &sess, &p) != 0) {
		snprintf(buf, sz, "?");
		return;
	}
	snprintf(buf, sz, "%u.%u.%u.%u:%u", p.ip >> 24, (p.ip >> 16) & 0xff, (p.ip >> 8) & 0xff,
	         p.ip & 0xff, p.port);
}

static void sl_ptool_misb(sl_ptool_t *t, FILE *f)
{
	int fd = bpf_map__fd(t->skel->maps.misb);
	struct sl_ptool_misb_key keys[512], k, next;
	uint64_t vals[512];
	unsigned long long per_kind[SL_MISB_CNT + 1] = {0};
	int n = 0;
	void *prev = NULL;
	while (n < 512 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &vals[n]) != 0)
			continue;
		keys[n++] = k;
	}
	for (int i = 0; i < n; i++) {
		bpf_map_delete_elem(fd, &keys[i]);
		per_kind[keys[i].kind < SL_MISB_CNT ? keys[i].kind : SL_MISB_CNT] += vals[i];
	}
	const char *sep = "";
	fputs(t->json ? ",\"kinds\":{" : "  per kind:\n", f);
	for (unsigned kd = 0; kd <= SL_MISB_CNT; kd++) {
		if (per_kind[kd] == 0)
			continue;
		const char *name = kd < SL_MISB_CNT ? sl_misb_str(kd) : "other";
		if (t->json)
			fprintf(f, "%s\"%s\":%llu", sep, name, per_kind[kd]);
		else
			fprintf(f, "    %-12s %llu\n", name, per_kind[kd]);
		sep = ",";
	}
	fputs(t->json ? "},\"peers\":[" : "  per peer:\n", f);
	for (int i = 0; i < n; i++) {
		char peer[32];
		sl_ptool_peer_str(t, keys[i].sess, peer, sizeof peer);
		if (t->json)
			fprintf(f, "%s{\"session\":%u,\"peer\":\"%s\",\"kind\":\"%s\",\"n\":%llu}",
			        i ? "," : "", keys[i].sess, peer, sl_misb_str(keys[i].kind),
			        (unsigned long long)vals[i]);
		else
			fprintf(f, "    session %-10u %-21s %-12s %llu\n", keys[i].sess, peer,
			        sl_misb_str(keys[i].kind), (unsigned long long)vals[i]);
	}
	if (t->json)
		fputc(']', f);
}

/* ---- ops ------------------------------------------------------------- */

static void sl_ptool_ops(sl_ptool_t *t, FILE *f)
{
	int hfd = bpf_map__fd(t->skel->maps.ops_hist), ofd = bpf_map__fd(t->skel->maps.ops);
	const char *sep = "";
	if (t->json)
		fputs(",\"kinds\":[", f);
	for (uint32_t k = 0; k < SL_PTOOL_KINDS; k++) {
		struct sl_ptool_hist h;
		struct sl_ptool_ops o;
		sl_ptool_read_clear(hfd, k, &h, sizeof h);
		sl_ptool_read_clear(ofd, k, &o, sizeof o);
		if (h.count == 0 && o.started == 0)
			continue;
		char buf[32];
		const char *name =
		    sl_ptool_name(sl_ptool_kind_names, SL_PTOOL_N(sl_ptool_kind_names), k, "kind",
		                  buf, sizeof buf);
		if (t->json) {
			fprintf(f,
			        "%s{\"kind\":\"%s\",\"started\":%llu,\"ok\":%llu,\"err\":%llu,"
			        "\"count\":%llu,\"sum_ns\":%llu,\"hist\":",
			        sep, name, (unsigned long long)o.started,
			        (unsigned long long)o.done_ok, (unsigned long long)o.done_err,
			        (unsigned long long)h.count, (unsigned long long)h.sum);
			sl_ptool_hist_json(f, &h);
			fputc('}', f);
			sep = ",";
		} else {
			fprintf(f, "kind %s: %llu started, %llu done (%llu failed)\n", name,
			        (unsigned long long)o.started,
			        (unsigned long long)(o.done_ok + o.done_err),
			        (unsigned long long)o.done_err);
			sl_ptool_hist_text(f, &h, "ns");
		}
	}
	if (t->json)
		fputc(']', f);
}

/* ---- sync ------------------------------------------------------------ */

static void sl_ptool_sync(sl_ptool_t *t, FILE *f)
{
	struct sl_ptool_sync s;
	struct sl_ptool_hist h;
	int sfd = bpf_map__fd(t->skel->maps.sync);
	memset(&s, 0, sizeof s);
	bpf_map_lookup_elem(sfd, &(uint32_t){0}, &s);
	/* the height is a level, not a count: keep it across intervals */
	struct sl_ptool_sync keep = {.max_height_p1 = s.max_height_p1};
	bpf_map_update_elem(sfd, &(uint32_t){0}, &keep, BPF_ANY);
	sl_ptool_read_clear(bpf_map__fd(t->skel->maps.sync_hist), 0, &h, sizeof h);
	double iv = t->interval_s;
	if (t->json) {
		fprintf(f, ",\"commits\":%llu,\"committed\":%llu,\"per_s\":%.2f,\"height\":",
		        (unsigned long long)s.commits, (unsigned long long)s.headers,
		        s.headers / iv);
		if (s.max_height_p1 != 0)
			fprintf(f, "%llu", (unsigned long long)(s.max_height_p1 - 1));
		else
			fputs("null", f);
		fputs(",\"hist\":", f);
		sl_ptool_hist_json(f, &h);
		return;
	}
	fprintf(f, "  committed %.2f headers/s (%llu headers in %llu commits)", s.headers / iv,
	        (unsigned long long)s.headers, (unsigned long long)s.commits);
	if (s.max_height_p1 != 0)
		fprintf(f, ", height %llu", (unsigned long long)(s.max_height_p1 - 1));
	fputs("\n  commit latency:\n", f);
	sl_ptool_hist_text(f, &h, "ns");
}

/* ---- main loop ------------------------------------------------------- */

static void sl_ptool_print(sl_ptool_t *t)
{
	static void (*const show[SL_PTOOL_CMD_CNT])(sl_ptool_t *, FILE *) = {
	    [SL_PTOOL_CMD_LAT] = sl_ptool_lat,       [SL_PTOOL_CMD_DROPS] = sl_ptool_drops,
	    [SL_PTOOL_CMD_RANGES] = sl_ptool_ranges, [SL_PTOOL_CMD_MISB] = sl_ptool_misb,
	    [SL_PTOOL_CMD_OPS] = sl_ptool_ops,       [SL_PTOOL_CMD_SYNC] = sl_ptool_sync,
	};
	sl_ptool_header(t, stdout);
	show[t->cmd](t, stdout);
	fputs(t->json ? "}\n" : "\n", stdout);
	fflush(stdout);
}

/* sl_ptool_wait sleeps one interval, handling ring-buffer events. */
static void sl_ptool_wait(sl_ptool_t *t)
{
	uint64_t end = sl_ptool_now_ns() + (uint64_t)t->interval_s * 1000000000ULL;
	while (!sl_ptool_stop) {
		uint64_t now = sl_ptool_now_ns();
		if (now >= end)
			return;
		int ms = (int)((end - now) / 1000000ULL) + 1;
		if (t->rb != NULL)
			ring_buffer__poll(t->rb, ms < 100 ? ms : 100);
		else
			usleep((useconds_t)(ms < 100 ? ms : 100) * 1000);
	}
}

static void sl_ptool_cleanup(sl_ptool_t *t)
{
	ring_buffer__free(t->rb);
	for (int i = 0; i < t->n_links; i++)
		bpf_link__destroy(t->links[i]);
	sluice_probe_bpf__destroy(t->skel);
}

int main(int argc, char **argv)
{
	static sl_ptool_t t = {.interval_s = 1};
	argp_err_exit_status = 2;
	const struct argp argp = {sl_ptool_opts, sl_ptool_parse, "SUBCMD", sl_ptool_doc,
	                          NULL,          NULL,           NULL};
	if (argp_parse(&argp, argc, argv, 0, NULL, &t) != 0)
		return 2;
	if (!t.verbose)
		libbpf_set_print(NULL);
	else
		libbpf_set_print(sl_ptool_libbpf_print);
	/* root first: without it nothing else can be told apart */
	if (sl_ptool_check_kernel() != 0)
		return 1;
	if (sl_ptool_load(&t) != 0 || sl_ptool_check_targets(&t) != 0 || sl_ptool_attach(&t) != 0) {
		sl_ptool_cleanup(&t);
		return 1;
	}
	if (t.cmd == SL_PTOOL_CMD_RANGES) {
		t.rb =
		    ring_buffer__new(bpf_map__fd(t.skel->maps.events), sl_ptool_on_event, &t, NULL);
		if (t.rb == NULL) {
			sl_ptool_cleanup(&t);
			return sl_ptool_die("cannot open the ring buffer: %s", strerror(errno));
		}
	}
	signal(SIGINT, sl_ptool_on_signal);
	signal(SIGTERM, sl_ptool_on_signal);
	/* on stderr in every mode: a script waits for it to know the probes
	   are attached */
	fprintf(stderr, "Tracing %s... Hit Ctrl-C to end.\n", sl_ptool_cmds[t.cmd].name);
	for (long i = 0; !sl_ptool_stop && (t.count == 0 || i < t.count); i++) {
		sl_ptool_wait(&t);
		sl_ptool_print(&t);
	}
	sl_ptool_cleanup(&t);
	return 0;
}
