/* test_xdp.c — the XDP steering program (bpf/sl_xdp.bpf.c) run over crafted
   frames with BPF_PROG_TEST_RUN: our UDP port on our address, ARP for our
   address and ICMP to our address go to the AF_XDP socket (counted
   SL_XDP_STEER_*; with no socket in xsks_map the redirect falls back to
   the kernel, so the verdict is XDP_PASS either way and the counters tell
   them apart); another port, another address, TCP, ARP for someone else,
   a later IPv4 fragment, a truncated frame go to the kernel (SL_XDP_PASS);
   with no configuration everything goes to the kernel (SL_XDP_PASS_UNSET);
   802.1Q frames are looked into.  Needs root (BPF) and the built object
   ($SL_XDP_OBJ). */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sl_xdp.h"

#define OUR_IP   0x0a630002u /* 10.99.0.2 */
#define OTHER_IP 0x0a630009u
#define PORT     9747

static struct bpf_object *obj;
static int prog_fd, cfg_fd, stats_fd;

static void setup(void)
{
	const char *path = getenv("SL_XDP_OBJ");
	ck_assert_msg(path != NULL, "SL_XDP_OBJ not set");
	obj = bpf_object__open_file(path, NULL);
	ck_assert_msg(obj != NULL && libbpf_get_error(obj) == 0, "open %s", path);
	ck_assert_int_eq(bpf_object__load(obj), 0);
	prog_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, SL_XDP_PROG));
	cfg_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, SL_XDP_CFG_MAP));
	stats_fd = bpf_map__fd(bpf_object__find_map_by_name(obj, SL_XDP_STATS_MAP));
	ck_assert(prog_fd >= 0 && cfg_fd >= 0 && stats_fd >= 0);
}

static void teardown(void)
{
	bpf_object__close(obj);
}

static void configure(uint32_t ip, uint16_t port)
{
	uint32_t k = 0;
	struct sl_xdp_cfg v = {.ip = htonl(ip), .port = htons(port)};
	ck_assert_int_eq(bpf_map_update_elem(cfg_fd, &k, &v, BPF_ANY), 0);
}

/* stat: counter i summed over CPUs. */
static uint64_t stat(uint32_t i)
{
	int n = libbpf_num_possible_cpus();
	uint64_t v[256] = {0}, sum = 0;
	ck_assert_int_eq(bpf_map_lookup_elem(stats_fd, &i, v), 0);
	for (int c = 0; c < n && c < 256; c++)
		sum += v[c];
	return sum;
}

/* run: the frame through the program; returns which counter moved. */
static int run(const uint8_t *frame, uint32_t len)
{
	uint64_t before[SL_XDP_STAT_CNT];
	for (uint32_t i = 0; i < SL_XDP_STAT_CNT; i++)
		before[i] = stat(i);
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = out,
	            .data_size_out = sizeof out, .repeat = 1);
	ck_assert_int_eq(bpf_prog_test_run_opts(prog_fd, &o), 0);
	ck_assert_uint_eq(o.retval, 2 /* XDP_PASS: the redirect's fallback, or the kernel */);
	int moved = -1;
	for (uint32_t i = 0; i < SL_XDP_STAT_CNT; i++)
		if (stat(i) != before[i]) {
			ck_assert_int_eq(moved, -1); /* exactly one */
			moved = (int)i;
		}
	return moved;
}

/* frame builders: Ethernet [+ 802.1Q] + IPv4 (+ UDP / ICMP / TCP) or ARP */
static uint32_t eth(uint8_t *f, uint16_t type, int vlan)
{
	memset(f, 0, 14);
	memset(f, 0xff, 6);
	f[6] = 0x02;
	uint32_t n = 12;
	if (vlan) {
		f[n++] = 0x81;
		f[n++] = 0x00;
		f[n++] = 0x00;
		f[n++] = 0x05;
	}
	f[n++] = (uint8_t)(type >> 8);
	f[n++] = (uint8_t)type;
	return n;
}

static uint32_t ipv4(uint8_t *f, uint8_t proto, uint32_t dst, uint16_t dport, uint16_t frag,
                     int vlan)
{
	uint32_t n = eth(f, 0x0800, vlan);
	uint8_t *ip = f + n;
	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[3] = 28;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = proto;
	uint32_t s = htonl(0x0a630001u), d = htonl(dst);
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
	ip[20] = 0x9c;
	ip[21] = 0x40;
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
	ip[25] = 8;
	return n + 28;
}

static uint32_t arp(uint8_t *f, uint32_t target)
{
	uint32_t n = eth(f, 0x0806, 0);
	uint8_t *a = f + n;
	static const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 1};
	memcpy(a, head, 8);
	memset(a + 8, 0x02, 6);
	uint32_t s = htonl(0x0a630001u), t = htonl(target);
	memcpy(a + 14, &s, 4);
	memset(a + 18, 0, 6);
	memcpy(a + 24, &t, 4);
	return n + 28;
}

START_TEST(test_ours_to_the_socket_rest_to_the_kernel)
{
	uint8_t f[128];
	configure(OUR_IP, PORT);
	ck_assert_int_eq(run(f, ipv4(f, 17, OUR_IP, PORT, 0, 0)), SL_XDP_STEER_UDP);
	ck_assert_int_eq(run(f, ipv4(f, 17, OUR_IP, PORT, 0, 1)), SL_XDP_STEER_UDP); /* 802.1Q */
	ck_assert_int_eq(run(f, arp(f, OUR_IP)), SL_XDP_STEER_ARP);
	ck_assert_int_eq(run(f, ipv4(f, 1, OUR_IP, 0, 0, 0)), SL_XDP_STEER_ICMP);
	ck_assert_int_eq(run(f, ipv4(f, 17, OUR_IP, 9999, 0, 0)), SL_XDP_PASS); /* another port */
	ck_assert_int_eq(run(f, ipv4(f, 17, OTHER_IP, PORT, 0, 0)),
	                 SL_XDP_PASS);                                         /* another address */
	ck_assert_int_eq(run(f, ipv4(f, 6, OUR_IP, PORT, 0, 0)), SL_XDP_PASS); /* TCP */
	ck_assert_int_eq(run(f, arp(f, OTHER_IP)), SL_XDP_PASS);
	ck_assert_int_eq(run(f, ipv4(f, 17, OUR_IP, PORT, 0x0010, 0)),
	                 SL_XDP_PASS); /* a later fragment */
	uint32_t n = ipv4(f, 17, OUR_IP, PORT, 0, 0);
	ck_assert_int_eq(run(f, n - 6), SL_XDP_PASS); /* UDP header cut short */
	ck_assert_int_eq(run(f, 20), SL_XDP_PASS);    /* not even an IPv4 header */
}
END_TEST

START_TEST(test_unconfigured_passes_everything)
{
	uint8_t f[128];
	configure(0, 0);
	ck_assert_int_eq(run(f, ipv4(f, 17, OUR_IP, PORT, 0, 0)), SL_XDP_PASS_UNSET);
	ck_assert_int_eq(run(f, arp(f, OUR_IP)), SL_XDP_PASS_UNSET);
}
END_TEST

int main(void)
{
	if (geteuid() != 0) {
		printf("test_xdp: needs root (BPF_PROG_TEST_RUN); skipped\n");
		return 77;
	}
	Suite *s = suite_create("xdp");
	TCase *c = tcase_create("steer");
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_add_test(c, test_ours_to_the_socket_rest_to_the_kernel);
	tcase_add_test(c, test_unconfigured_passes_everything);
	suite_add_tcase(s, c);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
