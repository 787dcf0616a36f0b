/* sl_cfg.c — the run-time INI reader (sl_cfg.h, SPEC.md §12).

   Two passes over the file:
   1. our own line scanner, using rte_cfgfile's rules (';' starts a comment
      unless escaped as "\;", whitespace stripped), builds the index
      "section/key -> line" and rejects everything rte_cfgfile would reject
      or silently drop (text lines without '=', keys outside a section, empty
      values, over-long lines, names or values it would truncate), plus
      unknown sections and keys and duplicates — each with FILE:LINE;
   2. rte_cfgfile_load(path, 0) reads the values, and each known key is
      parsed by its schema entry's type into sl_cfg_t.
   Every section and key lives in ONE table, sl_cfg_schema[] below. */
#include "sl_cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>

#define SL_CFG_DEFAULT_UDP_PORT 9747
#define SL_CFG_DEFAULT_PEERS    256
/* rte_cfgfile reads a line into CFG_NAME_LEN + CFG_VALUE_LEN + 4 bytes. */
#define SL_CFG_LINE_MAX         (CFG_NAME_LEN + CFG_VALUE_LEN + 2)

typedef enum {
	SL_CFG_T_STR,    /* string, at most max characters */
	SL_CFG_T_NAME,   /* string of [A-Za-z0-9._-], at most max characters */
	SL_CFG_T_UINT,   /* decimal uint32 in [min, max] */
	SL_CFG_T_IPV4,   /* a.b.c.d */
	SL_CFG_T_PREFIX, /* a.b.c.d/len */
	SL_CFG_T_PORT,   /* 1..65535 */
	SL_CFG_T_ENUM,   /* one of the '|'-separated words in `allowed` */
	SL_CFG_T_ADDRS,  /* comma-separated a.b.c.d[:port] */
	SL_CFG_T_BOOL,   /* yes|no|true|false|1|0 */
	SL_CFG_T_U64,    /* decimal uint64, any value */
	SL_CFG_T_GROUP,  /* a group name or gid that exists (sl_cfg_group_t) */
	SL_CFG_T_LISTEN, /* [a.b.c.d:]port, a TCP listening address (a.b.c.d: 127.0.0.1) */
	SL_CFG_T_IDS,    /* comma-separated 64-hex node ids, or /path of a file of them */
} sl_cfg_type_t;

struct sl_cfg_key;
/* A parser writes the value into c, or returns -1 with `why` filled. */
typedef int (*sl_cfg_parse_fn)(const struct sl_cfg_key *k, const char *v, sl_cfg_t *c, char *why,
                               size_t why_sz);

typedef struct sl_cfg_key {
	const char *section;
	const char *key;
	sl_cfg_type_t type;
	size_t off;          /* destination in sl_cfg_t */
	size_t size;         /* destination bytes (strings) */
	uint32_t min, max;   /* SL_CFG_T_UINT */
	const char *allowed; /* SL_CFG_T_ENUM */
	const char *help;
	bool test_hook; /* exists only with CONFIG_SL_TEST_HOOKS */
} sl_cfg_key_t;

#define SL_CFG_FIELD(f) offsetof(sl_cfg_t, f), sizeof(((sl_cfg_t *)0)->f)
/* A test hook's key is known to every build (so a release build can say
   why it refuses it) but has a destination only in a test build. */
#if SL_TEST_HOOKS
#define SL_CFG_HOOK(f) SL_CFG_FIELD(f)
#else
#define SL_CFG_HOOK(f) 0, 0
#endif

static const char *const sl_cfg_sections[] = {"instance",  "eal",   "dataplane", "ctrl", "chain",
                                              "admission", "peers", "log",       "sync"};

/* THE schema: every key either process accepts. */
static const sl_cfg_key_t sl_cfg_schema[] = {
    {"instance", "name", SL_CFG_T_NAME, SL_CFG_FIELD(instance), 0, 0, NULL,
     "instance name (region, socket and store names derive from it)"},
    {"instance", "key", SL_CFG_T_STR, SL_CFG_FIELD(key), 0, 0, NULL,
     "identity key file (Ed25519 seed; created 0600 if absent), default <store>/node.key"},
    {"instance", "region_dir", SL_CFG_T_STR, SL_CFG_FIELD(region_dir), 0, 0, NULL,
     "directory of the shared control region (/dev/shm or a hugetlbfs mount)"},
    {"eal", "args", SL_CFG_T_STR, SL_CFG_FIELD(eal_args), 0, 0, NULL,
     "arguments passed to rte_eal_init"},
    {"dataplane", "port", SL_CFG_T_STR, SL_CFG_FIELD(port), 0, 0, NULL,
     "vdev devargs or a PCI address"},
    {"dataplane", "ip", SL_CFG_T_PREFIX, SL_CFG_FIELD(ipv4), 0, 0, NULL,
     "the dataplane's address, a.b.c.d/len"},
    {"dataplane", "gateway", SL_CFG_T_IPV4, SL_CFG_FIELD(gateway), 0, 0, NULL,
     "default gateway, a.b.c.d"},
    {"dataplane", "udp_port", SL_CFG_T_PORT, SL_CFG_FIELD(udp_port), 1, 65535, NULL,
     "sluice UDP port"},
    {"dataplane", "idle_sleep_us", SL_CFG_T_UINT, SL_CFG_FIELD(idle_sleep_us), 0, 1000000, NULL,
     "sleep of an idle lcore in microseconds (0: busy poll)"},
    {"dataplane", "keepalive_ms", SL_CFG_T_UINT, SL_CFG_FIELD(keepalive_ms), 10, 60000, NULL,
     "PING interval of a session in milliseconds"},
    {"dataplane", "hello_rate", SL_CFG_T_UINT, SL_CFG_FIELD(hello_rate), 1, 100000, NULL,
     "HELLOs per second accepted from one source address"},
    {"dataplane", "hello_burst", SL_CFG_T_UINT, SL_CFG_FIELD(hello_burst), 1, 100000, NULL,
     "HELLO burst accepted from one source address"},
    {"dataplane", "hello_total", SL_CFG_T_UINT, SL_CFG_FIELD(hello_total), 4, 1000000, NULL,
     "HELLOs per second one lcore passes to ctrl from all sources (a quarter kept for "
     "sources that were quiet)"},
    {"dataplane", "settle_ms", SL_CFG_T_UINT, SL_CFG_FIELD(settle_ms), 100, 600000, NULL,
     "discovery settle timeout in milliseconds"},
    {"dataplane", "workers", SL_CFG_T_UINT, SL_CFG_FIELD(lcores), 1, SL_MAX_LCORES, NULL,
     "worker lcores"},
    {"dataplane", "fault_inject_ping", SL_CFG_T_U64, SL_CFG_HOOK(fault_inject_ping), 0, 0, NULL,
     "TEST ONLY: a PING with this sender time faults its session (0: off)", true},
    {"dataplane", "fault_bad_pow", SL_CFG_T_UINT, SL_CFG_HOOK(fault_bad_pow), 0, 1000000, NULL,
     "TEST ONLY: every n-th GET_HEADERS answer carries an invalid proof of work (0: off)", true},
    {"dataplane", "fault_tick_ms", SL_CFG_T_UINT, SL_CFG_HOOK(fault_tick_ms), 0, 600000, NULL,
     "TEST ONLY: the deadline / liveness scans run every n ms (0: every 1 ms)", true},
    {"dataplane", "fault_seq_start", SL_CFG_T_UINT, SL_CFG_HOOK(fault_seq_start), 0, UINT32_MAX,
     NULL, "TEST ONLY: every session's first seq on every stream (0: 1, as SPEC says)", true},
    {"dataplane", "fault_slow_us", SL_CFG_T_UINT, SL_CFG_HOOK(fault_slow_us), 0, 1000000, NULL,
     "TEST ONLY: the poll loop sleeps n us every cycle, busy or not (0: off)", true},
    {"ctrl", "socket", SL_CFG_T_STR, SL_CFG_FIELD(socket), 0, 0, NULL, "control socket path"},
    {"ctrl", "store", SL_CFG_T_STR, SL_CFG_FIELD(store), 0, 0, NULL,
     "directory of the header store"},
    {"ctrl", "group", SL_CFG_T_GROUP, SL_CFG_FIELD(group), 0, 0, NULL,
     "group (name or gid) whose members may use the control socket besides root"},
    {"ctrl", "metrics", SL_CFG_T_LISTEN, SL_CFG_FIELD(metrics), 0, 0, NULL,
     "[a.b.c.d:]port where sluice-ctrl serves Prometheus /metrics (address 127.0.0.1 "
     "unless given; unset: off)"},
    {"chain", "profile", SL_CFG_T_ENUM, SL_CFG_FIELD(profile), 0, 0,
     "bitcoin-main|bitcoin-test3|regtest", "chain profile"},
    {"admission", "max_peers", SL_CFG_T_UINT, SL_CFG_FIELD(max_peers), 1, 65535, NULL,
     "most admitted peers (proven: a valid frame came from them)"},
    {"admission", "max_unproven", SL_CFG_T_UINT, SL_CFG_FIELD(max_unproven), 1, 65535, NULL,
     "most inbound sessions not yet proven, besides max_peers; the oldest makes room for a "
     "new HELLO"},
    {"admission", "per_addr", SL_CFG_T_UINT, SL_CFG_FIELD(per_addr), 1, 65535, NULL,
     "most sessions from one IPv4 address"},
    {"admission", "per_lcore", SL_CFG_T_UINT, SL_CFG_FIELD(per_lcore), 1, SL_SESSIONS_PER_LCORE,
     NULL, "most sessions on one worker lcore"},
    {"admission", "auth", SL_CFG_T_ENUM, SL_CFG_FIELD(auth_word), 0, 0, "off|optional|required",
     "session authentication (SPEC §8): off, optional (offer it, accept either) or required"},
    {"admission", "allowlist", SL_CFG_T_IDS, SL_CFG_FIELD(allow), 0, 0, NULL,
     "node ids (64 hex digits) admitted, comma-separated, or the path of a file with one per "
     "line; needs auth = required"},
    {"admission", "ban_score", SL_CFG_T_UINT, SL_CFG_FIELD(ban_score), 0, 1000000, NULL,
     "misbehaviour score (decaying by half every 10 minutes) that bans an address; 0: never"},
    {"admission", "ban_seconds", SL_CFG_T_UINT, SL_CFG_FIELD(ban_seconds), 0, 315360000, NULL,
     "how long such a ban lasts in seconds; 0: until peer.unban"},
    {"peers", "bootstrap", SL_CFG_T_ADDRS, SL_CFG_FIELD(bootstrap), 0, 0, NULL,
     "comma-separated a.b.c.d[:port]"},
    {"peers", "outbound", SL_CFG_T_UINT, SL_CFG_FIELD(outbound), 0, 1024, NULL,
     "outbound sessions ctrl keeps dialled"},
    {"peers", "connect_timeout_ms", SL_CFG_T_UINT, SL_CFG_FIELD(connect_timeout_ms), 100, 600000,
     NULL, "deadline of one outbound connect in milliseconds"},
    {"peers", "redial_s", SL_CFG_T_UINT, SL_CFG_FIELD(redial_s), 1, 86400, NULL,
     "seconds before an address is dialled again after a failure or a discovery close"},
    {"log", "level", SL_CFG_T_ENUM, SL_CFG_FIELD(log_level), 0, 0, "error|warn|info|debug",
     "log threshold"},
    {"log", "format", SL_CFG_T_ENUM, SL_CFG_FIELD(log_format), 0, 0, "text|json",
     "log line format: text, or one JSON object per line"},
    {"sync", "inflight", SL_CFG_T_UINT, SL_CFG_FIELD(inflight), 1, SL_INFLIGHT_MAX, NULL,
     "most outstanding GET_HEADERS per peer (the flow window's ceiling)"},
    {"sync", "timeout_ms", SL_CFG_T_UINT, SL_CFG_FIELD(timeout_ms), 100, 600000, NULL,
     "milliseconds before an undelivered range is taken back (the reactor's timeout)"},
    {"sync", "serve_rate", SL_CFG_T_UINT, SL_CFG_FIELD(serve_rate), 1, 100000, NULL,
     "GET_HEADERS per second served to one peer (sustained)"},
    {"sync", "serve_burst", SL_CFG_T_UINT, SL_CFG_FIELD(serve_burst), 1, 100000, NULL,
     "GET_HEADERS served to one peer in a burst"},
    {"sync", "serve_total", SL_CFG_T_UINT, SL_CFG_FIELD(serve_total), 1, 1000000, NULL,
     "GET_HEADERS per second one lcore serves to all its peers, shared equally"},
};
#define SL_CFG_NKEYS SL_ARRAY_LEN(sl_cfg_schema)

/* ---- value parsers ------------------------------------------------------ */

static int sl_cfg_why(char *why, size_t why_sz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sl_cfg_why(char *why, size_t why_sz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, why_sz, fmt, ap);
	va_end(ap);
	return -1;
}

/* sl_cfg_u32 parses a plain decimal number (no sign, no spaces, no junk). */
static int sl_cfg_u32(const char *s, uint32_t *out)
{
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* sl_cfg_u64 parses a plain decimal uint64 (no sign, no spaces, no junk). */
static int sl_cfg_u64(const char *s, uint64_t *out)
{
	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int sl_cfg_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

static int sl_cfg_parse_str(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                            size_t why_sz)
{
	size_t n = strlen(v);
	if (SL_UNLIKELY(n >= k->size))
		return sl_cfg_why(why, why_sz, "too long (at most %zu characters)", k->size - 1);
	if (k->type == SL_CFG_T_NAME) {
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)v[i];
			if (SL_UNLIKELY(!isalnum(ch) && ch != '.' && ch != '_' && ch != '-'))
				return sl_cfg_why(why, why_sz,
				                  "not a name (letters, digits, '.', '_', '-')");
		}
	}
	memcpy((char *)c + k->off, v, n + 1);
	return 0;
}

static int sl_cfg_parse_uint(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                             size_t why_sz)
{
	uint32_t x;
	if (SL_UNLIKELY(sl_cfg_u32(v, &x) != 0 || x < k->min || x > k->max))
		return sl_cfg_why(why, why_sz, "not a number in %u..%u", k->min, k->max);
	memcpy((char *)c + k->off, &x, sizeof x);
	return 0;
}

static int sl_cfg_parse_u64(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                            size_t why_sz)
{
	uint64_t x;
	if (SL_UNLIKELY(sl_cfg_u64(v, &x) != 0))
		return sl_cfg_why(why, why_sz, "not a number in 0..%llu",
		                  (unsigned long long)UINT64_MAX);
	memcpy((char *)c + k->off, &x, sizeof x);
	return 0;
}

static int sl_cfg_parse_port(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                             size_t why_sz)
{
	uint32_t x;
	if (SL_UNLIKELY(sl_cfg_u32(v, &x) != 0 || x < 1 || x > 65535))
		return sl_cfg_why(why, why_sz, "not a port (1..65535)");
	uint16_t p = (uint16_t)x;
	memcpy((char *)c + k->off, &p, sizeof p);
	return 0;
}

static int sl_cfg_parse_ipv4(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                             size_t why_sz)
{
	uint32_t a;
	if (SL_UNLIKELY(sl_cfg_ipv4(v, &a) != 0))
		return sl_cfg_why(why, why_sz, "not an IPv4 address (a.b.c.d)");
	memcpy((char *)c + k->off, &a, sizeof a);
	return 0;
}

static int sl_cfg_parse_prefix(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                               size_t why_sz)
{
	(void)k;
	char buf[32];
	const char *slash = strchr(v, '/');
	uint32_t a, len;
	size_t n = slash ? (size_t)(slash - v) : 0;
	if (SL_UNLIKELY(slash == NULL || n >= sizeof buf))
		return sl_cfg_why(why, why_sz, "not an IPv4 address with prefix (a.b.c.d/0..32)");
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (SL_UNLIKELY(sl_cfg_ipv4(buf, &a) != 0 || sl_cfg_u32(slash + 1, &len) != 0 || len > 32))
		return sl_cfg_why(why, why_sz, "not an IPv4 address with prefix (a.b.c.d/0..32)");
	c->ipv4 = a;
	c->prefix_len = (uint8_t)len;
	return 0;
}

static int sl_cfg_parse_enum(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                             size_t why_sz)
{
	size_t n = strlen(v);
	for (const char *p = k->allowed; *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t wl = bar ? (size_t)(bar - p) : strlen(p);
		if (wl == n && memcmp(p, v, n) == 0 && n < k->size) {
			memcpy((char *)c + k->off, v, n + 1);
			return 0;
		}
		p += wl + (bar ? 1 : 0);
	}
	char list[128];
	size_t j = 0;
	for (const char *p = k->allowed; *p != '\0' && j + 4 < sizeof list; p++) {
		if (*p == '|') {
			memcpy(list + j, " | ", 3);
			j += 3;
		} else {
			list[j++] = *p;
		}
	}
	list[j] = '\0';
	return sl_cfg_why(why, why_sz, "not one of %s", list);
}

static int sl_cfg_parse_addrs(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                              size_t why_sz)
{
	(void)k;
	uint32_t n = 0;
	const char *p = v;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char ent[64];
		while (len > 0 && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1]))
			len--;
		if (SL_UNLIKELY(n == SL_CFG_MAX_BOOTSTRAP))
			return sl_cfg_why(why, why_sz, "more than %d entries",
			                  SL_CFG_MAX_BOOTSTRAP);
		if (SL_UNLIKELY(len == 0 || len >= sizeof ent))
			return sl_cfg_why(why, why_sz,
			                  "entry %u is empty or too long (a.b.c.d[:port])", n + 1);
		memcpy(ent, p, len);
		ent[len] = '\0';
		if (SL_UNLIKELY(sl_cfg_parse_addr(ent, SL_CFG_DEFAULT_UDP_PORT, &c->bootstrap[n]) !=
		                0))
			return sl_cfg_why(
			    why, why_sz,
			    "entry %u '%s' is not an address (a.b.c.d[:port 1..65535])", n + 1,
			    ent);
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	c->n_bootstrap = n;
	return 0;
}

static int sl_cfg_parse_bool(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                             size_t why_sz)
{
	bool b;
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		b = true;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		b = false;
	else
		return sl_cfg_why(why, why_sz, "not a boolean (yes | no | true | false | 1 | 0)");
	memcpy((char *)c + k->off, &b, sizeof b);
	return 0;
}

/* sl_cfg_parse_group: a group that exists here, by name or number. */
static int sl_cfg_parse_group(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                              size_t why_sz)
{
	struct group gr, *res = NULL;
	char buf[4096];
	uint32_t gid;
	if (sl_cfg_u32(v, &gid) == 0)
		getgrgid_r((gid_t)gid, &gr, buf, sizeof buf, &res);
	else
		getgrnam_r(v, &gr, buf, sizeof buf, &res);
	if (SL_UNLIKELY(res == NULL))
		return sl_cfg_why(why, why_sz, "no group '%s' here (create it: groupadd %s)", v, v);
	sl_cfg_group_t g = {.gid = (uint32_t)res->gr_gid};
	snprintf(g.name, sizeof g.name, "%s", res->gr_name);
	memcpy((char *)c + k->off, &g, sizeof g);
	return 0;
}

/* "9748" -> 127.0.0.1:9748, "0.0.0.0:9748" -> every address; the port is
   required (a listener without one would be a surprise). */
static int sl_cfg_parse_listen(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                               size_t why_sz)
{
	sl_cfg_addr_t a = {.ipv4 = 0x7f000001u};
	uint32_t port;
	if (strchr(v, ':') == NULL) {
		if (SL_UNLIKELY(sl_cfg_u32(v, &port) != 0 || port < 1 || port > 65535))
			return sl_cfg_why(
			    why, why_sz, "not a listening address ([a.b.c.d:]port, port 1..65535)");
		a.port = (uint16_t)port;
	} else if (SL_UNLIKELY(sl_cfg_parse_addr(v, 0, &a) != 0)) {
		return sl_cfg_why(why, why_sz,
		                  "not a listening address ([a.b.c.d:]port, port 1..65535)");
	}
	memcpy((char *)c + k->off, &a, sizeof a);
	return 0;
}

static char *sl_cfg_strip(char *p);

/* sl_cfg_id_hex parses one node id (64 hex digits, surrounding blanks
   allowed) from s[0 .. n). */
static int sl_cfg_id_hex(const char *s, size_t n, uint8_t id[32])
{
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		char b[3] = {s[2 * i], s[2 * i + 1], '\0'};
		if (!isxdigit((unsigned char)b[0]) || !isxdigit((unsigned char)b[1]))
			return -1;
		id[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return 0;
}

/* sl_cfg_id_add appends id unless already listed; -1 when the list is full. */
static int sl_cfg_id_add(sl_cfg_t *c, const uint8_t id[32])
{
	for (uint32_t i = 0; i < c->n_allow; i++)
		if (memcmp(c->allow[i], id, 32) == 0)
			return 0;
	if (c->n_allow == SL_CFG_ALLOW_MAX)
		return -1;
	memcpy(c->allow[c->n_allow++], id, 32);
	return 0;
}

/* sl_cfg_ids_file reads node ids, one per line ('#' starts a comment),
   from `path`; errors name the file and its line. */
static int sl_cfg_ids_file(const char *path, sl_cfg_t *c, char *why, size_t why_sz)
{
	FILE *f = fopen(path, "r");
	if (SL_UNLIKELY(f == NULL))
		return sl_cfg_why(why, why_sz, "cannot open %s: %s", path, strerror(errno));
	char line[256];
	int ln = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		ln++;
		char *hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		char *p = sl_cfg_strip(line);
		uint8_t id[32];
		if (*p == '\0')
			continue;
		if (SL_UNLIKELY(sl_cfg_id_hex(p, strlen(p), id) != 0))
			rc = sl_cfg_why(why, why_sz, "%s:%d: not a node id (64 hex digits)", path,
			                ln);
		else if (SL_UNLIKELY(sl_cfg_id_add(c, id) != 0))
			rc = sl_cfg_why(why, why_sz, "%s:%d: more than %d node ids", path, ln,
			                SL_CFG_ALLOW_MAX);
	}
	fclose(f);
	return rc;
}

static int sl_cfg_parse_ids(const sl_cfg_key_t *k, const char *v, sl_cfg_t *c, char *why,
                            size_t why_sz)
{
	(void)k;
	c->n_allow = 0;
	if (v[0] == '/')
		return sl_cfg_ids_file(v, c, why, why_sz);
	for (uint32_t n = 1;; n++) {
		const char *comma = strchr(v, ',');
		size_t len = comma ? (size_t)(comma - v) : strlen(v);
		uint8_t id[32];
		if (SL_UNLIKELY(sl_cfg_id_hex(v, len, id) != 0))
			return sl_cfg_why(why, why_sz,
			                  "entry %u is not a node id (64 hex digits; or give the "
			                  "/path of a file with one per line)",
			                  n);
		if (SL_UNLIKELY(sl_cfg_id_add(c, id) != 0))
			return sl_cfg_why(why, why_sz, "more than %d node ids", SL_CFG_ALLOW_MAX);
		if (comma == NULL)
			return 0;
		v = comma + 1;
	}
}

static const sl_cfg_parse_fn sl_cfg_parsers[] = {
    [SL_CFG_T_STR] = sl_cfg_parse_str,       [SL_CFG_T_NAME] = sl_cfg_parse_str,
    [SL_CFG_T_UINT] = sl_cfg_parse_uint,     [SL_CFG_T_IPV4] = sl_cfg_parse_ipv4,
    [SL_CFG_T_PREFIX] = sl_cfg_parse_prefix, [SL_CFG_T_PORT] = sl_cfg_parse_port,
    [SL_CFG_T_ENUM] = sl_cfg_parse_enum,     [SL_CFG_T_ADDRS] = sl_cfg_parse_addrs,
    [SL_CFG_T_BOOL] = sl_cfg_parse_bool,     [SL_CFG_T_U64] = sl_cfg_parse_u64,
    [SL_CFG_T_GROUP] = sl_cfg_parse_group,   [SL_CFG_T_LISTEN] = sl_cfg_parse_listen,
    [SL_CFG_T_IDS] = sl_cfg_parse_ids,
};

int sl_cfg_parse_addr(const char *s, uint16_t def_port, sl_cfg_addr_t *out)
{
	char buf[32];
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	uint32_t ip, port = def_port;
	if (SL_UNLIKELY(n >= sizeof buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (SL_UNLIKELY(sl_cfg_ipv4(buf, &ip) != 0))
		return -1;
	if (colon != NULL &&
	    SL_UNLIKELY(sl_cfg_u32(colon + 1, &port) != 0 || port < 1 || port > 65535))
		return -1;
	out->ipv4 = ip;
	out->port = (uint16_t)port;
	return 0;
}

/* ---- defaults ----------------------------------------------------------- */

static void sl_cfg_derive_paths(sl_cfg_t *c, bool socket, bool store, bool key)
{
	if (socket)
		snprintf(c->socket, sizeof c->socket, "/run/sluice/%s.sock", c->instance);
	if (store)
		snprintf(c->store, sizeof c->store, "/var/lib/sluice/%s", c->instance);
	if (key)
		snprintf(c->key, sizeof c->key, "%.240s/node.key", c->store);
}

void sl_cfg_defaults(sl_cfg_t *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->instance, sizeof c->instance, "sluice");
	snprintf(c->region_dir, sizeof c->region_dir, "/dev/shm");
	c->udp_port = SL_CFG_DEFAULT_UDP_PORT;
	c->idle_sleep_us = 0;
	c->lcores = 0; /* 0: every EAL worker (or 1), decided by sluice-dp */
	snprintf(c->profile, sizeof c->profile, "bitcoin-main");
	c->keepalive_ms = 1000;
	c->hello_rate = 10;
	c->hello_burst = 20;
	c->hello_total = 2000;
	c->settle_ms = 5000;
	c->max_peers = SL_CFG_DEFAULT_PEERS;
	c->max_unproven = SL_CFG_DEFAULT_PEERS;
	c->per_addr = 8;
	c->per_lcore = SL_SESSIONS_PER_LCORE;
	snprintf(c->auth_word, sizeof c->auth_word, "off");
	c->auth = SL_CFG_AUTH_OFF;
	c->outbound = 8;
	c->connect_timeout_ms = 10000;
	c->redial_s = 30;
	snprintf(c->log_level, sizeof c->log_level, "info");
	snprintf(c->log_format, sizeof c->log_format, "text");
	c->group = (sl_cfg_group_t){.gid = 0, .name = "root"};
	c->ban_score = 100;
	c->ban_seconds = 86400;
	c->inflight = SL_INFLIGHT_DEFAULT;
	c->timeout_ms = 30000;
	c->serve_rate = SL_SERVE_RATE_DEFAULT;
	c->serve_burst = SL_SERVE_BURST_DEFAULT;
	c->serve_total = SL_SERVE_TOTAL_DEFAULT;
	sl_cfg_derive_paths(c, true, true, true);
}

/* ---- pass 1: the line scanner ------------------------------------------- */

typedef struct {
	const char *path;
	char *err;
	size_t err_sz;
	char section[CFG_NAME_LEN]; /* current section, "" before the first */
	int section_line[SL_ARRAY_LEN(sl_cfg_sections)];
	int key_line[SL_CFG_NKEYS]; /* the index: schema entry -> line, 0 if absent */
} sl_cfg_scan_t;

static int sl_cfg_fail(sl_cfg_scan_t *s, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int sl_cfg_fail(sl_cfg_scan_t *s, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (s->err != NULL && s->err_sz > 0) {
		if (line > 0)
			snprintf(s->err, s->err_sz, "%s:%d: %s", s->path, line, msg);
		else
			snprintf(s->err, s->err_sz, "%s: %s", s->path, msg);
	}
	return -1;
}

/* sl_cfg_strip trims whitespace in place; returns the new start. */
static char *sl_cfg_strip(char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	size_t n = strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		p[--n] = '\0';
	return p;
}

static int sl_cfg_section_idx(const char *name)
{
	for (size_t i = 0; i < SL_ARRAY_LEN(sl_cfg_sections); i++)
		if (strcmp(sl_cfg_sections[i], name) == 0)
			return (int)i;
	return -1;
}

static int sl_cfg_key_idx(const char *section, const char *key)
{
	for (size_t i = 0; i < SL_CFG_NKEYS; i++)
		if (strcmp(sl_cfg_schema[i].section, section) == 0 &&
		    strcmp(sl_cfg_schema[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* sl_cfg_known lists the keys of `section` (or all sections if NULL). */
static void sl_cfg_known(const char *section, char *out, size_t out_sz)
{
	size_t j = 0;
	out[0] = '\0';
	if (section == NULL) {
		for (size_t i = 0; i < SL_ARRAY_LEN(sl_cfg_sections) && j < out_sz; i++)
			j += (size_t)snprintf(out + j, out_sz - j, "%s%s", i ? ", " : "",
			                      sl_cfg_sections[i]);
		return;
	}
	for (size_t i = 0; i < SL_CFG_NKEYS && j < out_sz; i++)
		if (strcmp(sl_cfg_schema[i].section, section) == 0)
			j += (size_t)snprintf(out + j, out_sz - j, "%s%s", j ? ", " : "",
			                      sl_cfg_schema[i].key);
}

static int sl_cfg_scan_section(sl_cfg_scan_t *s, int line, char *p)
{
	char *end = strchr(p, ']');
	char known[256];
	if (SL_UNLIKELY(end == NULL))
		return sl_cfg_fail(s, line, "section header without ']'");
	if (SL_UNLIKELY(*sl_cfg_strip(end + 1) != '\0'))
		return sl_cfg_fail(s, line, "text after the section header");
	*end = '\0';
	char *name = sl_cfg_strip(p + 1);
	int i = sl_cfg_section_idx(name);
	if (SL_UNLIKELY(i < 0)) {
		sl_cfg_known(NULL, known, sizeof known);
		return sl_cfg_fail(s, line, "unknown section [%.64s] (known: %s)", name, known);
	}
	if (SL_UNLIKELY(s->section_line[i] != 0))
		return sl_cfg_fail(s, line, "section [%s] repeated (first at line %d)", name,
		                   s->section_line[i]);
	s->section_line[i] = line;
	snprintf(s->section, sizeof s->section, "%s", name);
	return 0;
}

static int sl_cfg_scan_entry(sl_cfg_scan_t *s, int line, char *p, char *eq)
{
	char known[256];
	*eq = '\0';
	char *key = sl_cfg_strip(p);
	char *val = sl_cfg_strip(eq + 1);
	if (SL_UNLIKELY(s->section[0] == '\0'))
		return sl_cfg_fail(s, line,
		                   "'%.64s' outside any section (put it under a [section])", key);
	if (SL_UNLIKELY(key[0] == '\0'))
		return sl_cfg_fail(s, line, "missing key before '=' in [%s]", s->section);
	int k = sl_cfg_key_idx(s->section, key);
	if (SL_UNLIKELY(k < 0)) {
		sl_cfg_known(s->section, known, sizeof known);
		return sl_cfg_fail(s, line, "unknown key '%.64s' in [%s] (known: %s)", key,
		                   s->section, known);
	}
	if (SL_UNLIKELY(sl_cfg_schema[k].test_hook && !SL_TEST_HOOKS))
		return sl_cfg_fail(
		    s, line,
		    "[%s] %s is a test hook: this build has CONFIG_SL_TEST_HOOKS off "
		    "(remove the key; only a test build, -Ddefconfig=test_defconfig, "
		    "has it)",
		    s->section, key);
	if (SL_UNLIKELY(s->key_line[k] != 0))
		return sl_cfg_fail(s, line, "duplicate key '%s' in [%s] (first at line %d)", key,
		                   s->section, s->key_line[k]);
	/* rte_cfgfile turns "\;" into ";"; count what it will keep. */
	size_t vlen = strlen(val);
	for (char *q = strstr(val, "\\;"); q != NULL; q = strstr(q + 2, "\\;"))
		vlen--;
	if (SL_UNLIKELY(vlen == 0))
		return sl_cfg_fail(s, line, "[%s] %s: empty value (%s)", s->section, key,
		                   sl_cfg_schema[k].help);
	if (SL_UNLIKELY(vlen >= CFG_VALUE_LEN))
		return sl_cfg_fail(s, line, "[%s] %s: value too long (at most %d characters)",
		                   s->section, key, CFG_VALUE_LEN - 1);
	s->key_line[k] = line;
	return 0;
}

/* sl_cfg_scan_line handles one raw line (newline removed). */
static int sl_cfg_scan_line(sl_cfg_scan_t *s, int line, char *buf, size_t len)
{
	if (SL_UNLIKELY(len > SL_CFG_LINE_MAX))
		return sl_cfg_fail(s, line, "line too long (at most %d characters)",
		                   SL_CFG_LINE_MAX);
	/* rte_cfgfile: the first ';' starts a comment unless escaped. */
	char *semi = strchr(buf, ';');
	if (semi != NULL && (semi == buf || semi[-1] != '\\'))
		*semi = '\0';
	char *p = sl_cfg_strip(buf);
	if (*p == '\0')
		return 0;
	if (*p == '[')
		return sl_cfg_scan_section(s, line, p);
	char *eq = strchr(p, '=');
	if (SL_UNLIKELY(eq == NULL))
		return sl_cfg_fail(s, line, "'%.64s' is neither 'key = value' nor '[section]'", p);
	return sl_cfg_scan_entry(s, line, p, eq);
}

static int sl_cfg_scan(sl_cfg_scan_t *s)
{
	FILE *f = fopen(s->path, "r");
	if (SL_UNLIKELY(f == NULL))
		return sl_cfg_fail(s, 0, "cannot open: %s", strerror(errno));
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int line = 0, rc = 0;
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		line++;
		if (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (SL_UNLIKELY(memchr(buf, '\0', (size_t)n) != NULL))
			rc = sl_cfg_fail(s, line, "NUL byte in line");
		else
			rc = sl_cfg_scan_line(s, line, buf, (size_t)n);
	}
	if (rc == 0 && SL_UNLIKELY(ferror(f)))
		rc = sl_cfg_fail(s, 0, "read error: %s", strerror(errno));
	free(buf);
	fclose(f);
	return rc;
}

/* ---- pass 2: values through rte_cfgfile --------------------------------- */

static int sl_cfg_count_entries(struct rte_cfgfile *cf)
{
	int total = 0, ns = rte_cfgfile_num_sections(cf, "", 0);
	for (int i = 0; i < ns; i++) {
		char name[CFG_NAME_LEN];
		int n = rte_cfgfile_section_num_entries_by_index(cf, name, i);
		total += n > 0 ? n : 0;
	}
	return total;
}

static int sl_cfg_apply(sl_cfg_scan_t *s, struct rte_cfgfile *cf, sl_cfg_t *c)
{
	int indexed = 0, bad_line = 0;
	char bad[512] = "";
	for (size_t i = 0; i < SL_CFG_NKEYS; i++) {
		const sl_cfg_key_t *k = &sl_cfg_schema[i];
		int line = s->key_line[i];
		if (line == 0)
			continue;
		indexed++;
		const char *v = rte_cfgfile_get_entry(cf, k->section, k->key);
		if (SL_UNLIKELY(v == NULL))
			return sl_cfg_fail(s, line, "[%s] %s: not seen by rte_cfgfile", k->section,
			                   k->key);
		char why[256];
		if (sl_cfg_parsers[k->type](k, v, c, why, sizeof why) == 0)
			continue;
		/* Report the earliest bad line of the file. */
		if (bad_line == 0 || line < bad_line) {
			bad_line = line;
			snprintf(bad, sizeof bad, "[%s] %s = %.200s: %s", k->section, k->key, v,
			         why);
		}
	}
	if (SL_UNLIKELY(bad_line != 0))
		return sl_cfg_fail(s, bad_line, "%s", bad);
	if (SL_UNLIKELY(sl_cfg_count_entries(cf) != indexed))
		return sl_cfg_fail(s, 0, "rte_cfgfile saw %d entries, the scanner %d",
		                   sl_cfg_count_entries(cf), indexed);
	return 0;
}

/* sl_cfg_auth_settle turns [admission] auth into its value and checks
   that an allowlist comes with auth = required (an unauthenticated node
   id proves nothing). */
static int sl_cfg_auth_settle(sl_cfg_scan_t *s, sl_cfg_t *c)
{
	static const char *const words[] = {"off", "optional", "required"};
	for (size_t i = 0; i < SL_ARRAY_LEN(words); i++)
		if (strcmp(c->auth_word, words[i]) == 0)
			c->auth = (sl_cfg_auth_t)i;
	int line = s->key_line[sl_cfg_key_idx("admission", "allowlist")];
	if (SL_UNLIKELY(line != 0 && c->auth != SL_CFG_AUTH_REQUIRED))
		return sl_cfg_fail(s, line,
		                   "[admission] allowlist needs auth = required (a node id "
		                   "without authentication proves nothing); add auth = required");
	return 0;
}

int sl_cfg_load(sl_cfg_t *c, const char *path, char *err, size_t err_sz)
{
	sl_cfg_scan_t s = {.path = path, .err = err, .err_sz = err_sz};
	if (err != NULL && err_sz > 0)
		err[0] = '\0';
	if (SL_UNLIKELY(sl_cfg_scan(&s) != 0))
		return -1;
	struct rte_cfgfile *cf = rte_cfgfile_load(path, 0);
	if (SL_UNLIKELY(cf == NULL))
		return sl_cfg_fail(&s, 0, "rte_cfgfile_load failed");
	sl_cfg_t tmp;
	memcpy(&tmp, c, sizeof tmp);
	int rc = sl_cfg_apply(&s, cf, &tmp);
	rte_cfgfile_close(cf);
	if (SL_UNLIKELY(rc != 0))
		return -1;
	if (SL_UNLIKELY(sl_cfg_auth_settle(&s, &tmp) != 0))
		return -1;
	int sock = sl_cfg_key_idx("ctrl", "socket"), store = sl_cfg_key_idx("ctrl", "store");
	int key = sl_cfg_key_idx("instance", "key");
	sl_cfg_derive_paths(&tmp, s.key_line[sock] == 0, s.key_line[store] == 0,
	                    s.key_line[key] == 0);
	memcpy(c, &tmp, sizeof tmp);
	return 0;
}
