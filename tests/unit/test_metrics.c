/* test_metrics.c — suite "metrics": sluice-ctrl's Prometheus endpoint
   (ctrl/sl_metrics.h) over a ctrl with a regtest store and no dataplane:
   label values are escaped; every family has # HELP and # TYPE and
   counters (and only they) end in _total; without a dataplane no
   per-lcore sample is written but every family is; the op table's counts
   show by kind and state; the HTTP side, driven the way the ctrl loop
   drives it (its pollfd, sl_metrics_run), answers /metrics, 404 and 405;
   a taken address is refused with the address, the cause and the fix. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sl_chain.h"
#include "sl_counters.h"
#include "sl_ctrl.h"
#include "sl_metrics.h"
#include "sl_sha256d.h"
#include "sl_time.h"

static sl_ctrl_t C; /* the peer manager inside is about 3 MB */
static char sdir[64];

static void setup(void)
{
	memset(&C, 0, sizeof C);
	sl_cfg_defaults(&C.cfg);
	snprintf(sdir, sizeof sdir, "/tmp/sl-test-metrics-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sdir));
	snprintf(C.cfg.profile, sizeof C.cfg.profile, "regtest");
	uint8_t genesis[32];
	sl_sha256d_hdr(sl_chain_profile("regtest")->genesis, genesis);
	sl_chainstore_opts_t o = {.dir = sdir, .profile = "regtest"};
	sl_chainstore_err_t e;
	C.chain = sl_chainstore_open(&o, &e);
	ck_assert_ptr_nonnull(C.chain);
	ck_assert_int_eq(sl_peermgr_init(&C.pm, &C.cfg, genesis, NULL), 0);
	sl_sync_init(&C.sync, C.chain, &C.pm);
	ck_assert_int_eq(sl_op_table_init(&C.ops, 0), SL_OP_OK);
	C.start_ns = sl_now_ns();
}

static void teardown(void)
{
	sl_op_table_fini(&C.ops);
	sl_peermgr_fini(&C.pm);
	sl_chainstore_close(C.chain);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", sdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* render returns the whole exposition (malloc'd). */
static char *render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sl_metrics_render(&C, f, sl_now_ns()), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* has_line: text holds `line` as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = strstr(text, line); p != NULL; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

START_TEST(test_label_values_escaped)
{
	snprintf(C.cfg.instance, sizeof C.cfg.instance, "a\"b\\c\nd");
	char *t = render();
	ck_assert_msg(has_line(t, "sluice_ctrl_info{version=\"" SL_VERSION
	                          "\",node=\"a\\\"b\\\\c\\nd\",chain=\"regtest\"} 1"),
	              "%.400s", t);
	free(t);
}
END_TEST

/* Every sample's family was announced with HELP then TYPE; counters end
   in _total and nothing else does. */
START_TEST(test_every_family_has_help_and_type)
{
	char *t = render(), *save = NULL, fam[128] = "", type[16] = "";
	bool help = false;
	unsigned families = 0, samples = 0;
	for (char *ln = strtok_r(t, "\n", &save); ln != NULL; ln = strtok_r(NULL, "\n", &save)) {
		char name[128];
		if (sscanf(ln, "# HELP %127s", name) == 1) {
			snprintf(fam, sizeof fam, "%s", name);
			help = true;
			type[0] = '\0';
			continue;
		}
		if (sscanf(ln, "# TYPE %127s %15s", name, type) == 2) {
			ck_assert_msg(help && strcmp(name, fam) == 0, "TYPE of %s without HELP",
			              name);
			bool total =
			    strlen(name) > 6 && strcmp(name + strlen(name) - 6, "_total") == 0;
			ck_assert_msg(total == (strcmp(type, "counter") == 0), "%s is a %s", name,
			              type);
			families++;
			continue;
		}
		ck_assert_msg(ln[0] != '#', "stray comment %s", ln);
		size_t n = strcspn(ln, "{ ");
		ck_assert_msg(type[0] != '\0' && strlen(fam) == n && strncmp(ln, fam, n) == 0,
		              "sample outside its family (%s): %s", fam, ln);
		samples++;
	}
	ck_assert_uint_ge(families, 40);
	ck_assert_uint_ge(samples, 100); /* detached: no per-lcore samples */
	free(t);
}
END_TEST

START_TEST(test_detached_has_families_no_lcores)
{
	char *t = render();
	ck_assert(has_line(t, "sluice_dataplane_attached 0"));
	ck_assert(has_line(t, "# TYPE sluice_dp_rx_pkts_total counter"));
	ck_assert(has_line(t, "# TYPE sluice_dp_evt_backlog_depth gauge"));
	ck_assert(has_line(t, "# TYPE sluice_dp_drops_total counter"));
	ck_assert_ptr_null(strstr(t, "lcore=\""));
	ck_assert_ptr_null(strstr(t, "\nsluice_dataplane_heartbeat_age_seconds "));
	ck_assert(has_line(t, "sluice_chain_height 0"));
	ck_assert(has_line(t, "sluice_store_headers 1"));
	ck_assert(has_line(t, "sluice_sync_state{state=\"detached\"} 1"));
	free(t);
}
END_TEST

/* One family per entry of the X-macro lists, named from it. */
START_TEST(test_counter_lists_generate_families)
{
	char *t = render(), want[160];
#define T_CNT(f, s)                                                                                \
	snprintf(want, sizeof want, "# TYPE sluice_dp_%s%s %s", s,                                 \
	         sl_lcore_cnt_is_gauge(offsetof(sl_lcore_cnt_t, f)) ? "" : "_total",               \
	         sl_lcore_cnt_is_gauge(offsetof(sl_lcore_cnt_t, f)) ? "gauge" : "counter");        \
	ck_assert_msg(has_line(t, want), "missing %s", want);
	SL_LCORE_CNT_LIST(T_CNT)
#undef T_CNT
	ck_assert(sl_lcore_cnt_is_gauge(offsetof(sl_lcore_cnt_t, evt_backlog_max)));
	ck_assert(!sl_lcore_cnt_is_gauge(offsetof(sl_lcore_cnt_t, rx_pkts)));
	free(t);
}
END_TEST

START_TEST(test_ops_by_kind_and_state)
{
	sl_op_t *a, *b;
	ck_assert_int_eq(sl_op_start(&C.ops, SL_OP_KIND_PEER_PING, 0, 0, 0, &a), SL_OP_OK);
	ck_assert_int_eq(sl_op_start(&C.ops, SL_OP_KIND_PEER_PING, 0, 0, 0, &b), SL_OP_OK);
	sl_op_end(&C.ops, b, SL_CODE_OK, NULL);
	char *t = render();
	ck_assert(has_line(t, "sluice_ops{kind=\"peer.ping\",state=\"running\"} 1"));
	ck_assert(has_line(t, "sluice_ops{kind=\"peer.ping\",state=\"done\"} 1"));
	ck_assert(has_line(t, "sluice_ops{kind=\"sync.start\",state=\"running\"} 0"));
	ck_assert(has_line(t, "sluice_ops_started_total{kind=\"peer.ping\"} 2"));
	ck_assert(has_line(t, "sluice_ops_ended_total{kind=\"peer.ping\",state=\"done\"} 1"));
	ck_assert(has_line(t, "sluice_ops_ended_total{kind=\"peer.ping\",state=\"failed\"} 0"));
	free(t);
}
END_TEST

/* http_get sends one request to port and reads the whole reply while
   running the endpoint the way the ctrl loop does. */
static void http_get(sl_metrics_t *m, uint16_t port, const char *req, char *out, size_t out_sz)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001u)};
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	size_t got = 0;
	for (int i = 0; i < 500; i++) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}};
		int np = 1 + sl_metrics_pollfd(m, &p[1]);
		poll(p, (nfds_t)np,
		     (int)(sl_metrics_timeout_ns(m, 10 * SL_NS_PER_MS) / SL_NS_PER_MS));
		sl_metrics_run(m);
		if ((p[0].revents & POLLIN) == 0)
			continue;
		ssize_t n = read(fd, out + got, out_sz - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	close(fd);
}

/* A port the kernel picks (closed again). */
static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u)};
	socklen_t len = sizeof sa;
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

START_TEST(test_http_in_the_callers_loop)
{
	static char reply[1 << 20];
	char err[512];
	sl_cfg_addr_t a = {.ipv4 = 0x7f000001u, .port = free_port()};
	sl_metrics_t *m = sl_metrics_open(&C, &a, "node.ini", err, sizeof err);
	ck_assert_msg(m != NULL, "%s", err);
	http_get(m, a.port, "GET /metrics HTTP/1.0\r\n\r\n", reply, sizeof reply);
	ck_assert_msg(strncmp(reply, "HTTP/1.0 200", 12) == 0 ||
	                  strncmp(reply, "HTTP/1.1 200", 12) == 0,
	              "%.200s", reply);
	ck_assert_ptr_nonnull(strstr(reply, "Content-Type: " SL_METRICS_CONTENT_TYPE "\r\n"));
	ck_assert_ptr_nonnull(strstr(reply, "\nsluice_chain_height 0\n"));
	ck_assert_uint_eq(sl_metrics_scrapes(m), 1);
	http_get(m, a.port, "GET /other HTTP/1.0\r\n\r\n", reply, sizeof reply);
	ck_assert_msg(strstr(reply, " 404 ") != NULL, "%.200s", reply);
	http_get(m, a.port, "DELETE /metrics HTTP/1.0\r\n\r\n", reply, sizeof reply);
	ck_assert_msg(strstr(reply, " 405 ") != NULL, "%.200s", reply);
	ck_assert_uint_eq(sl_metrics_scrapes(m), 1);

	/* the address is taken now: a second endpoint says so */
	ck_assert_ptr_null(sl_metrics_open(&C, &a, "node.ini", err, sizeof err));
	char addr[32];
	snprintf(addr, sizeof addr, "127.0.0.1:%u", a.port);
	ck_assert_msg(strstr(err, addr) && strstr(err, "Address already in use") &&
	                  strstr(err, "fix:") && strstr(err, "[ctrl] metrics in node.ini"),
	              "%s", err);
	sl_metrics_close(m);
	m = sl_metrics_open(&C, &a, "node.ini", err, sizeof err); /* free again */
	ck_assert_msg(m != NULL, "%s", err);
	sl_metrics_close(m);
	sl_metrics_close(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_label_values_escaped);
	tcase_add_test(t, test_every_family_has_help_and_type);
	tcase_add_test(t, test_detached_has_families_no_lcores);
	tcase_add_test(t, test_counter_lists_generate_families);
	tcase_add_test(t, test_ops_by_kind_and_state);
	tcase_add_test(t, test_http_in_the_callers_loop);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
