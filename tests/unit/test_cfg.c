/* test_cfg.c — suite "cfg": the INI reader (sl_cfg.h, SPEC.md §12). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_cfg.h"

static char tpath[64];

/* write_ini puts `text` into a fresh temp file and returns its path. */
static const char *write_ini(const char *text)
{
	snprintf(tpath, sizeof tpath, "/tmp/sl_cfg_test_XXXXXX.ini");
	int fd = mkstemps(tpath, 4);
	ck_assert_int_ge(fd, 0);
	size_t n = strlen(text);
	ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
	close(fd);
	return tpath;
}

/* load_err loads `text`, expects -1 and returns the message. */
static const char *load_err(const char *text)
{
	static char err[512];
	sl_cfg_t c;
	sl_cfg_defaults(&c);
	const char *p = write_ini(text);
	int rc = sl_cfg_load(&c, p, err, sizeof err);
	unlink(p);
	ck_assert_msg(rc == -1, "accepted: %s", text);
	return err;
}

/* assert_line: the message starts with "<path>:<line>: " and contains `what`. */
static void assert_err_at(const char *text, int line, const char *what)
{
	const char *err = load_err(text);
	char prefix[128];
	snprintf(prefix, sizeof prefix, "%s:%d: ", tpath, line);
	ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "want prefix '%s', got '%s'",
	              prefix, err);
	ck_assert_msg(strstr(err, what) != NULL, "want '%s' in '%s'", what, err);
}

static int load_ok(const char *text, sl_cfg_t *c)
{
	char err[512];
	sl_cfg_defaults(c);
	const char *p = write_ini(text);
	int rc = sl_cfg_load(c, p, err, sizeof err);
	unlink(p);
	ck_assert_msg(rc == 0, "rejected (%s): %s", err, text);
	return rc;
}

static const char spec_example[] =
    "[eal]\n"
    "args = --no-pci --no-huge -m 512 --file-prefix node1 -l 0   ; passed to rte_eal_init\n"
    "[dataplane]\n"
    "port = net_af_packet0,iface=veth0   ; vdev devargs or a PCI address\n"
    "ip = 10.99.0.2/24\n"
    "gateway = 10.99.0.1                 ; optional\n"
    "udp_port = 9747\n"
    "[ctrl]\n"
    "socket = /run/sluice/node1.sock\n"
    "store = /var/lib/sluice/node1       ; directory of the header store\n"
    "[chain]\n"
    "profile = bitcoin-test3             ; bitcoin-main | bitcoin-test3 | regtest\n"
    "[admission]\n"
    "max_peers = 256\n"
    "[peers]\n"
    "bootstrap = 10.99.0.3:9747          ; comma-separated, optional\n";

START_TEST(test_spec_example_parses)
{
	sl_cfg_t c;
	load_ok(spec_example, &c);
	ck_assert_str_eq(c.eal_args, "--no-pci --no-huge -m 512 --file-prefix node1 -l 0");
	ck_assert_str_eq(c.port, "net_af_packet0,iface=veth0");
	ck_assert_uint_eq(c.ipv4, 0x0a630002u);
	ck_assert_uint_eq(c.prefix_len, 24);
	ck_assert_uint_eq(c.gateway, 0x0a630001u);
	ck_assert_uint_eq(c.udp_port, 9747);
	ck_assert_str_eq(c.socket, "/run/sluice/node1.sock");
	ck_assert_str_eq(c.store, "/var/lib/sluice/node1");
	ck_assert_str_eq(c.profile, "bitcoin-test3");
	ck_assert_uint_eq(c.max_peers, 256);
	ck_assert_uint_eq(c.n_bootstrap, 1);
	ck_assert_uint_eq(c.bootstrap[0].ipv4, 0x0a630003u);
	ck_assert_uint_eq(c.bootstrap[0].port, 9747);
	/* untouched keys keep their defaults */
	ck_assert_str_eq(c.instance, "sluice");
	ck_assert_str_eq(c.region_dir, "/dev/shm");
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_uint_eq(c.idle_sleep_us, 0);
	ck_assert_uint_eq(c.inflight, SL_INFLIGHT_DEFAULT);
}
END_TEST

START_TEST(test_defaults)
{
	sl_cfg_t c;
	memset(&c, 0xa5, sizeof c);
	sl_cfg_defaults(&c);
	ck_assert_str_eq(c.instance, "sluice");
	ck_assert_str_eq(c.region_dir, "/dev/shm");
	ck_assert_str_eq(c.eal_args, "");
	ck_assert_str_eq(c.port, "");
	ck_assert_uint_eq(c.ipv4, 0);
	ck_assert_uint_eq(c.gateway, 0);
	ck_assert_uint_eq(c.udp_port, 9747);
	ck_assert_uint_eq(c.idle_sleep_us, 0);
	ck_assert_uint_eq(c.lcores, 0);
	ck_assert_str_eq(c.socket, "/run/sluice/sluice.sock");
	ck_assert_str_eq(c.store, "/var/lib/sluice/sluice");
	ck_assert_str_eq(c.profile, "bitcoin-main");
	ck_assert_uint_eq(c.max_peers, 256);
	ck_assert_uint_eq(c.max_unproven, 256);
	ck_assert_uint_eq(c.n_bootstrap, 0);
	ck_assert_str_eq(c.log_level, "info");
	ck_assert_uint_eq(c.inflight, SL_INFLIGHT_DEFAULT);
}
END_TEST

START_TEST(test_paths_derive_from_instance)
{
	sl_cfg_t c;
	load_ok("[instance]\nname = node7\n", &c);
	ck_assert_str_eq(c.instance, "node7");
	ck_assert_str_eq(c.socket, "/run/sluice/node7.sock");
	ck_assert_str_eq(c.store, "/var/lib/sluice/node7");
	/* an explicit socket wins, the store still derives */
	load_ok("[ctrl]\nsocket = /tmp/x.sock\n[instance]\nname = n8\n", &c);
	ck_assert_str_eq(c.socket, "/tmp/x.sock");
	ck_assert_str_eq(c.store, "/var/lib/sluice/n8");
}
END_TEST

START_TEST(test_empty_file_gives_defaults)
{
	sl_cfg_t c, d;
	load_ok("; nothing but a comment\n\n   \n", &c);
	sl_cfg_defaults(&d);
	ck_assert_int_eq(memcmp(&c, &d, sizeof c), 0);
}
END_TEST

START_TEST(test_missing_file)
{
	sl_cfg_t c;
	char err[256];
	sl_cfg_defaults(&c);
	ck_assert_int_eq(sl_cfg_load(&c, "/nonexistent/node.ini", err, sizeof err), -1);
	ck_assert_str_eq(err, "/nonexistent/node.ini: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_unknown_section_names_line)
{
	assert_err_at("[dataplane]\nudp_port = 9747\n\n[bogus]\nfoo = 1\n", 4,
	              "unknown section [bogus] (known: instance, eal, dataplane, ctrl, chain, "
	              "admission, peers, log, sync)");
}
END_TEST

START_TEST(test_unknown_key_names_line)
{
	const char *err = load_err("; node\n[dataplane]\nprot = 1\n");
	char want[512];
	snprintf(want, sizeof want,
	         "%s:3: unknown key 'prot' in [dataplane] (known: port, ip, gateway, udp_port, "
	         "idle_sleep_us, keepalive_ms, hello_rate, hello_burst, hello_total, settle_ms, "
	         "workers, "
	         "fault_inject_ping, fault_bad_pow, fault_tick_ms, fault_seq_start, fault_slow_us)",
	         tpath);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_duplicate_key_names_line)
{
	assert_err_at("[dataplane]\nip = 10.0.0.1/24\nudp_port = 1\nip = 10.0.0.2/24\n", 4,
	              "duplicate key 'ip' in [dataplane] (first at line 2)");
}
END_TEST

START_TEST(test_repeated_section_names_line)
{
	assert_err_at("[log]\nlevel = info\n[chain]\nprofile = regtest\n[log]\n", 5,
	              "section [log] repeated (first at line 1)");
}
END_TEST

START_TEST(test_bad_port_names_line)
{
	const char *err = load_err("[instance]\nname = a\n\n; c\n[dataplane]\nip = 10.0.0.1/8\n"
	                           "udp_port = 70000\n");
	char want[256];
	snprintf(want, sizeof want, "%s:7: [dataplane] udp_port = 70000: not a port (1..65535)",
	         tpath);
	ck_assert_str_eq(err, want);
}
END_TEST

/* One bad value per type: line 2 always, and the allowed form is named. */
START_TEST(test_bad_values_name_line)
{
	static const struct {
		const char *text, *what;
	} cases[] = {
	    {"[dataplane]\nudp_port = 0\n", "not a port (1..65535)"},
	    {"[dataplane]\nudp_port = -1\n", "not a port"},
	    {"[dataplane]\nudp_port = 12ab\n", "not a port"},
	    {"[dataplane]\nip = 10.0.0.1\n", "not an IPv4 address with prefix (a.b.c.d/0..32)"},
	    {"[dataplane]\nip = 10.1.2.300/24\n", "ip = 10.1.2.300/24: not an IPv4"},
	    {"[dataplane]\nip = 10.0.0.1/33\n", "not an IPv4 address with prefix"},
	    {"[dataplane]\ngateway = 10.0.0\n", "not an IPv4 address (a.b.c.d)"},
	    {"[dataplane]\nworkers = 0\n", "not a number in 1.."},
	    {"[dataplane]\nidle_sleep_us = 1000001\n", "not a number in 0..1000000"},
	    {"[admission]\nmax_peers = lots\n", "max_peers = lots: not a number in 1..65535"},
	    {"[admission]\nmax_peers = 4294967296\n", "not a number"},
	    {"[admission]\nmax_unproven = 0\n", "max_unproven = 0: not a number in 1..65535"},
	    {"[chain]\nprofile = testnet\n",
	     "profile = testnet: not one of bitcoin-main | bitcoin-test3 | regtest"},
	    {"[chain]\nprofile = regtest2\n", "not one of"},
	    {"[log]\nlevel = loud\n", "not one of error | warn | info | debug"},
	    {"[sync]\ninflight = 17\n", "not a number in 1..16"},
	    {"[sync]\ntimeout_ms = 99\n", "not a number in 100..600000"},
	    {"[sync]\nserve_rate = 0\n", "not a number in 1..100000"},
	    {"[instance]\nname = a/b\n", "not a name"},
	    {"[instance]\nname = abcdefghijabcdefghijabcdefghij12\n", "too long (at most 31"},
	    {"[peers]\nbootstrap = 10.0.0.1:0\n", "entry 1 '10.0.0.1:0' is not an address"},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++)
		assert_err_at(cases[i].text, 2, cases[i].what);
}
END_TEST

START_TEST(test_syntax_errors_name_line)
{
	assert_err_at("udp_port = 1\n[dataplane]\n", 1, "outside any section");
	assert_err_at("[dataplane]\n\nudp_port 9747\n", 3, "neither 'key = value' nor '[section]'");
	assert_err_at("[dataplane\nudp_port = 1\n", 1, "without ']'");
	assert_err_at("[log] x\n", 1, "text after the section header");
	assert_err_at("[log]\nlevel =   ; nothing\n", 2, "empty value");
	assert_err_at("[log]\n = info\n", 2, "missing key");
	char big[600] = "[eal]\nargs = ";
	memset(big + strlen(big), 'x', 300);
	strcat(big, "\n");
	assert_err_at(big, 2, "value too long (at most 255");
	char huge[600] = "[eal]\n; ok\nargs = ";
	memset(huge + strlen(huge), 'x', 400);
	strcat(huge, "\n");
	assert_err_at(huge, 3, "line too long");
}
END_TEST

START_TEST(test_earliest_bad_line_reported)
{
	assert_err_at("[log]\nlevel = loud\n[dataplane]\nudp_port = 0\n", 2, "level = loud");
	assert_err_at("[dataplane]\nudp_port = 0\n[log]\nlevel = loud\n", 2, "udp_port = 0");
}
END_TEST

START_TEST(test_error_leaves_cfg_unchanged)
{
	sl_cfg_t c, d;
	char err[256];
	sl_cfg_defaults(&c);
	d = c;
	const char *p = write_ini("[instance]\nname = changed\n[dataplane]\nudp_port = 99999\n");
	ck_assert_int_eq(sl_cfg_load(&c, p, err, sizeof err), -1);
	unlink(p);
	ck_assert_int_eq(memcmp(&c, &d, sizeof c), 0);
}
END_TEST

START_TEST(test_bootstrap_list)
{
	sl_cfg_t c;
	load_ok("[peers]\nbootstrap = 10.0.0.1:9000, 10.0.0.2 ,192.168.1.254:1 ; three\n", &c);
	ck_assert_uint_eq(c.n_bootstrap, 3);
	ck_assert_uint_eq(c.bootstrap[0].ipv4, 0x0a000001u);
	ck_assert_uint_eq(c.bootstrap[0].port, 9000);
	ck_assert_uint_eq(c.bootstrap[1].ipv4, 0x0a000002u);
	ck_assert_uint_eq(c.bootstrap[1].port, 9747);
	ck_assert_uint_eq(c.bootstrap[2].ipv4, 0xc0a801feu);
	ck_assert_uint_eq(c.bootstrap[2].port, 1);
}
END_TEST

START_TEST(test_bootstrap_bad_entry)
{
	assert_err_at("[peers]\nbootstrap = 10.0.0.1:9747,10.0.0.300:9747\n", 2,
	              "entry 2 '10.0.0.300:9747' is not an address");
	assert_err_at("[peers]\nbootstrap = 10.0.0.1,,10.0.0.2\n", 2, "entry 2 is empty");
	assert_err_at("[peers]\nbootstrap = 10.0.0.1,\n", 2, "entry 2 is empty");
	assert_err_at("[peers]\nbootstrap = 10.0.0.1:65536\n", 2, "entry 1");
}
END_TEST

START_TEST(test_bootstrap_at_most_max)
{
	char text[1024] = "[peers]\nbootstrap = ";
	for (int i = 0; i < SL_CFG_MAX_BOOTSTRAP; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text), "%s1.1.1.%d",
		         i ? "," : "", i);
	strcat(text, "\n");
	sl_cfg_t c;
	load_ok(text, &c);
	ck_assert_uint_eq(c.n_bootstrap, SL_CFG_MAX_BOOTSTRAP);
	ck_assert_uint_eq(c.bootstrap[SL_CFG_MAX_BOOTSTRAP - 1].ipv4, 0x01010100u + 15);
	text[strlen(text) - 1] = '\0';
	strcat(text, ",2.2.2.2\n");
	assert_err_at(text, 2, "more than 16 entries");
}
END_TEST

START_TEST(test_parse_addr)
{
	sl_cfg_addr_t a;
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3.4:5", 9, &a), 0);
	ck_assert_uint_eq(a.ipv4, 0x01020304u);
	ck_assert_uint_eq(a.port, 5);
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3.4", 9, &a), 0);
	ck_assert_uint_eq(a.port, 9);
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3.4:", 9, &a), -1);
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3.4:0", 9, &a), -1);
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3.4:65536", 9, &a), -1);
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3.4:+5", 9, &a), -1);
	ck_assert_int_eq(sl_cfg_parse_addr("1.2.3:5", 9, &a), -1);
	ck_assert_int_eq(sl_cfg_parse_addr("host:5", 9, &a), -1);
	ck_assert_int_eq(sl_cfg_parse_addr("", 9, &a), -1);
}
END_TEST

/* [ctrl] metrics: unset is off (port 0); "port" listens on 127.0.0.1;
   "a.b.c.d:port" on that address; anything else names its line. */
START_TEST(test_metrics_listen)
{
	sl_cfg_t c;
	load_ok("[ctrl]\nsocket = /tmp/x.sock\n", &c);
	ck_assert_uint_eq(c.metrics.port, 0);
	load_ok("[ctrl]\nmetrics = 9748\n", &c);
	ck_assert_uint_eq(c.metrics.ipv4, 0x7f000001u);
	ck_assert_uint_eq(c.metrics.port, 9748);
	load_ok("[ctrl]\nmetrics = 0.0.0.0:19748   ; every address\n", &c);
	ck_assert_uint_eq(c.metrics.ipv4, 0);
	ck_assert_uint_eq(c.metrics.port, 19748);
	load_ok("[ctrl]\nmetrics = 10.1.2.3:1\n", &c);
	ck_assert_uint_eq(c.metrics.ipv4, 0x0a010203u);
	ck_assert_uint_eq(c.metrics.port, 1);
	static const char *const bad[] = {
	    "0",     "65536",          "10.1.2.3", "10.1.2.3:", "10.1.2.3:0",
	    ":9748", "localhost:9748", "9748x",    "-1"};
	char text[128];
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof text, "[ctrl]\nmetrics = %s\n", bad[i]);
		assert_err_at(text, 2, "not a listening address ([a.b.c.d:]port, port 1..65535)");
	}
}
END_TEST

START_TEST(test_comments)
{
	sl_cfg_t c;
	load_ok("; leading comment\n"
	        "[dataplane] ; section comment\n"
	        "   ; indented comment\n"
	        "udp_port = 9748 ; trailing comment\n"
	        "port = net_null0;no space before the comment\n"
	        "[eal]\n"
	        "args = a\\;b\n",
	        &c);
	ck_assert_uint_eq(c.udp_port, 9748);
	ck_assert_str_eq(c.port, "net_null0");
	ck_assert_str_eq(c.eal_args, "a;b");
}
END_TEST

/* Randomized: udp_port accepts exactly 1..65535. */
/* Issue 3 keys: defaults when absent. */
START_TEST(test_session_keys_defaults)
{
	sl_cfg_t c;
	load_ok("[instance]\nname = a\n", &c);
	ck_assert_uint_eq(c.keepalive_ms, 1000);
	ck_assert_uint_eq(c.hello_rate, 10);
	ck_assert_uint_eq(c.hello_burst, 20);
	ck_assert_uint_eq(c.settle_ms, 5000);
	ck_assert_uint_eq(c.per_addr, 8);
	ck_assert_uint_eq(c.per_lcore, SL_SESSIONS_PER_LCORE);
	ck_assert_int_eq(c.auth, SL_CFG_AUTH_OFF);
	ck_assert_uint_eq(c.n_allow, 0);
	ck_assert_uint_eq(c.outbound, 8);
	ck_assert_uint_eq(c.connect_timeout_ms, 10000);
	ck_assert_uint_eq(c.redial_s, 30);
}
END_TEST

/* Issue 3 keys: values at both ends of their ranges are taken. */
START_TEST(test_session_keys_parse)
{
	sl_cfg_t c;
	load_ok("[dataplane]\nkeepalive_ms = 10\nhello_rate = 100000\nhello_burst = 1\n"
	        "settle_ms = 600000\n[admission]\nper_addr = 1\nper_lcore = 1\n"
	        "auth = required\n[peers]\noutbound = 0\nconnect_timeout_ms = 100\n"
	        "redial_s = 86400\n",
	        &c);
	ck_assert_uint_eq(c.keepalive_ms, 10);
	ck_assert_uint_eq(c.hello_rate, 100000);
	ck_assert_uint_eq(c.hello_burst, 1);
	ck_assert_uint_eq(c.settle_ms, 600000);
	ck_assert_uint_eq(c.per_addr, 1);
	ck_assert_uint_eq(c.per_lcore, 1);
	ck_assert_int_eq(c.auth, SL_CFG_AUTH_REQUIRED);
	ck_assert_uint_eq(c.outbound, 0);
	ck_assert_uint_eq(c.connect_timeout_ms, 100);
	ck_assert_uint_eq(c.redial_s, 86400);
	load_ok("[admission]\nauth = off\n[peers]\noutbound = 1024\n", &c);
	ck_assert_int_eq(c.auth, SL_CFG_AUTH_OFF);
	ck_assert_uint_eq(c.outbound, 1024);
	load_ok("[admission]\nauth = optional\n", &c);
	ck_assert_int_eq(c.auth, SL_CFG_AUTH_OPTIONAL);
}
END_TEST

/* SPEC §8 keys: the identity key path (default in the store), the
   allowlist inline and from a file, and the errors that name a line. */
START_TEST(test_auth_keys)
{
	static const char a[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char b[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
	sl_cfg_t c;
	char text[512];
	load_ok("[ctrl]\nstore = /tmp/st1\n", &c);
	ck_assert_str_eq(c.key, "/tmp/st1/node.key");
	load_ok("[instance]\nkey = /etc/sluice/id\n", &c);
	ck_assert_str_eq(c.key, "/etc/sluice/id");
	snprintf(text, sizeof text, "[admission]\nauth = required\nallowlist = %s, %s\n", a, b);
	load_ok(text, &c);
	ck_assert_uint_eq(c.n_allow, 2);
	ck_assert_uint_eq(c.allow[0][0], 0x00);
	ck_assert_uint_eq(c.allow[0][31], 0xff);
	ck_assert_uint_eq(c.allow[1][0], 0xff);
	/* a file: one per line, comments and blank lines */
	char ids[] = "/tmp/sl_cfg_ids_XXXXXX";
	int fd = mkstemp(ids);
	ck_assert_int_ge(fd, 0);
	dprintf(fd, "# peers\n%s\n\n  %s  # the other\n", a, b);
	close(fd);
	snprintf(text, sizeof text, "[admission]\nauth = required\nallowlist = %s\n", ids);
	load_ok(text, &c);
	ck_assert_uint_eq(c.n_allow, 2);
	ck_assert_uint_eq(c.allow[1][31], 0x00);
	/* a bad line of the file names the file and its line */
	fd = open(ids, O_WRONLY | O_TRUNC);
	dprintf(fd, "%s\nnot-an-id\n", a);
	close(fd);
	assert_err_at(text, 3, ":2: not a node id (64 hex digits)");
	unlink(ids);
	snprintf(text, sizeof text, "[admission]\nauth = required\nallowlist = %s,abc\n", a);
	assert_err_at(text, 3, "entry 2 is not a node id");
	snprintf(text, sizeof text, "[admission]\nauth = optional\nallowlist = %s\n", a);
	assert_err_at(text, 3, "allowlist needs auth = required");
	assert_err_at("[admission]\nauth = maybe\n", 2, "not one of off | optional | required");
}
END_TEST

/* Issue 3 keys: one step outside each range, and a bad boolean, name the line. */
START_TEST(test_session_keys_out_of_range)
{
	static const struct {
		const char *text, *what;
	} cases[] = {
	    {"[dataplane]\nkeepalive_ms = 9\n", "keepalive_ms = 9: not a number in 10..60000"},
	    {"[dataplane]\nkeepalive_ms = 60001\n", "not a number in 10..60000"},
	    {"[dataplane]\nhello_rate = 0\n", "not a number in 1..100000"},
	    {"[dataplane]\nhello_burst = 100001\n", "not a number in 1..100000"},
	    {"[dataplane]\nsettle_ms = 99\n", "not a number in 100..600000"},
	    {"[admission]\nper_addr = 0\n", "not a number in 1..65535"},
	    {"[admission]\nper_lcore = 0\n", "not a number in 1.."},
	    {"[peers]\noutbound = 1025\n", "not a number in 0..1024"},
	    {"[peers]\nconnect_timeout_ms = 99\n", "not a number in 100..600000"},
	    {"[peers]\nredial_s = 0\n", "not a number in 1..86400"},
	};
	for (size_t i = 0; i < SL_ARRAY_LEN(cases); i++)
		assert_err_at(cases[i].text, 2, cases[i].what);
	char text[128];
	snprintf(text, sizeof text, "[admission]\nper_lcore = %u\n", SL_SESSIONS_PER_LCORE + 1);
	assert_err_at(text, 2, "not a number in 1..");
}
END_TEST

/* [sync] timeout_ms defaults to 30 s; the serving budget to 50 / 100. */
START_TEST(test_sync_timeout_and_budget)
{
	sl_cfg_t c;
	sl_cfg_defaults(&c);
	ck_assert_uint_eq(c.timeout_ms, 30000);
	ck_assert_uint_eq(c.serve_rate, SL_SERVE_RATE_DEFAULT);
	ck_assert_uint_eq(c.serve_burst, SL_SERVE_BURST_DEFAULT);
	load_ok("[sync]\ntimeout_ms = 1500\nserve_rate = 2000\nserve_burst = 4000\n", &c);
	ck_assert_uint_eq(c.timeout_ms, 1500);
	ck_assert_uint_eq(c.serve_rate, 2000);
	ck_assert_uint_eq(c.serve_burst, 4000);
}
END_TEST

#if SL_TEST_HOOKS
/* A test build (CONFIG_SL_TEST_HOOKS): fault_bad_pow defaults to off. */
START_TEST(test_fault_bad_pow)
{
	sl_cfg_t c;
	sl_cfg_defaults(&c);
	ck_assert_uint_eq(c.fault_bad_pow, 0);
	load_ok("[dataplane]\nfault_bad_pow = 3\n", &c);
	ck_assert_uint_eq(c.fault_bad_pow, 3);
	assert_err_at("[dataplane]\nfault_bad_pow = -1\n", 2, "not a number in 0..1000000");
}
END_TEST

/* fault_tick_ms (test only): off by default, 0..600000. */
START_TEST(test_fault_tick_ms)
{
	sl_cfg_t c;
	sl_cfg_defaults(&c);
	ck_assert_uint_eq(c.fault_tick_ms, 0);
	load_ok("[dataplane]\nfault_tick_ms = 60000\n", &c);
	ck_assert_uint_eq(c.fault_tick_ms, 60000);
	assert_err_at("[dataplane]\nfault_tick_ms = 600001\n", 2, "not a number in 0..600000");
}
END_TEST

/* fault_inject_ping (test only): off by default, any uint64 accepted. */
START_TEST(test_fault_inject_ping)
{
	sl_cfg_t c;
	sl_cfg_defaults(&c);
	ck_assert_uint_eq(c.fault_inject_ping, 0);
	load_ok("[dataplane]\nfault_inject_ping = 18446744073709551615\n", &c);
	ck_assert(c.fault_inject_ping == UINT64_MAX);
	load_ok("[dataplane]\nfault_inject_ping = 4242424242424242\n", &c);
	ck_assert(c.fault_inject_ping == 4242424242424242ull);
	load_ok("[dataplane]\nfault_inject_ping = 0\n", &c);
	ck_assert_uint_eq(c.fault_inject_ping, 0);
}
END_TEST

/* fault_inject_ping: overflow, a sign, junk and hex are refused with the line. */
START_TEST(test_fault_inject_ping_bad)
{
	static const char *const bad[] = {"18446744073709551616", "-1", "12x", "0x10", "+5"};
	char text[128];
	for (size_t i = 0; i < SL_ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof text, "[dataplane]\nfault_inject_ping = %s\n", bad[i]);
		assert_err_at(text, 2, "fault_inject_ping");
		assert_err_at(text, 2, "not a number in 0..18446744073709551615");
	}
}
END_TEST
#else
/* A release build (no CONFIG_SL_TEST_HOOKS): every fault key is a config
   error naming the file, the line and the option, even with value 0. */
START_TEST(test_hook_keys_refused)
{
	static const char *const keys[] = {"fault_inject_ping", "fault_bad_pow", "fault_tick_ms"};
	char text[128], want[160];
	for (size_t i = 0; i < SL_ARRAY_LEN(keys); i++) {
		snprintf(text, sizeof text, "; node\n[dataplane]\nudp_port = 9747\n%s = 0\n",
		         keys[i]);
		snprintf(want, sizeof want,
		         "[dataplane] %s is a test hook: this build has "
		         "CONFIG_SL_TEST_HOOKS off",
		         keys[i]);
		assert_err_at(text, 4, want);
	}
}
END_TEST
#endif

START_TEST(test_random_ports)
{
	unsigned seed = (unsigned)time(NULL);
	printf("test_random_ports seed %u\n", seed);
	srand(seed);
	for (int i = 0; i < 200; i++) {
		long v = (long)(rand() % 140000) - 2000;
		char text[64], err[256];
		snprintf(text, sizeof text, "[dataplane]\nudp_port = %ld\n", v);
		sl_cfg_t c;
		sl_cfg_defaults(&c);
		const char *p = write_ini(text);
		int rc = sl_cfg_load(&c, p, err, sizeof err);
		unlink(p);
		bool ok = v >= 1 && v <= 65535;
		ck_assert_msg(rc == (ok ? 0 : -1), "seed %u: udp_port %ld rc %d", seed, v, rc);
		if (ok)
			ck_assert_uint_eq(c.udp_port, (uint16_t)v);
	}
}
END_TEST

static Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *t = tcase_create("core");
	tcase_add_test(t, test_spec_example_parses);
	tcase_add_test(t, test_defaults);
	tcase_add_test(t, test_paths_derive_from_instance);
	tcase_add_test(t, test_empty_file_gives_defaults);
	tcase_add_test(t, test_missing_file);
	tcase_add_test(t, test_unknown_section_names_line);
	tcase_add_test(t, test_unknown_key_names_line);
	tcase_add_test(t, test_duplicate_key_names_line);
	tcase_add_test(t, test_repeated_section_names_line);
	tcase_add_test(t, test_bad_port_names_line);
	tcase_add_test(t, test_bad_values_name_line);
	tcase_add_test(t, test_syntax_errors_name_line);
	tcase_add_test(t, test_earliest_bad_line_reported);
	tcase_add_test(t, test_error_leaves_cfg_unchanged);
	tcase_add_test(t, test_bootstrap_list);
	tcase_add_test(t, test_bootstrap_bad_entry);
	tcase_add_test(t, test_bootstrap_at_most_max);
	tcase_add_test(t, test_parse_addr);
	tcase_add_test(t, test_metrics_listen);
	tcase_add_test(t, test_comments);
	tcase_add_test(t, test_random_ports);
	tcase_add_test(t, test_session_keys_defaults);
	tcase_add_test(t, test_session_keys_parse);
	tcase_add_test(t, test_session_keys_out_of_range);
	tcase_add_test(t, test_sync_timeout_and_budget);
#if SL_TEST_HOOKS
	tcase_add_test(t, test_fault_bad_pow);
	tcase_add_test(t, test_fault_tick_ms);
	tcase_add_test(t, test_fault_inject_ping);
	tcase_add_test(t, test_fault_inject_ping_bad);
#else
	tcase_add_test(t, test_hook_keys_refused);
#endif
	tcase_add_test(t, test_auth_keys);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cfg_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
