/* sl_top.c — sluicectl's live view of a node (see sl_top.h). */
#include "sl_top.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sl_client.h"
#include "sl_time.h"

/* One sample of the API, owned (json_decref'd by sl_top_sample_free). */
typedef struct {
	uint64_t ns;
	json_t *status, *stats, *sync, *peers, *ops;
	json_t *shows; /* session (as string) -> peer.show result */
} sl_top_sample_t;

static volatile sig_atomic_t sl_top_stop;

static void sl_top_on_signal(int sig)
{
	(void)sig;
	sl_top_stop = 1;
}

static void sl_top_sample_free(sl_top_sample_t *s)
{
	json_decref(s->status);
	json_decref(s->stats);
	json_decref(s->sync);
	json_decref(s->peers);
	json_decref(s->ops);
	json_decref(s->shows);
	memset(s, 0, sizeof *s);
}

/* sl_top_get: the result of cmd, or NULL when the node answered an error
   (a part it cannot show now: no dataplane yet); *rc set on a transport
   failure. */
static json_t *sl_top_get(sl_client_t *c, const char *cmd, json_t *args, int *rc)
{
	json_t *reply = NULL, *res = NULL;
	uint64_t deadline = sl_now_ns() + (uint64_t)(c->timeout_s * (double)SL_NS_PER_S);
	if (*rc == SL_CLIENT_OK)
		*rc = sl_client_call(c, cmd, args, &reply, deadline);
	if (json_is_true(json_object_get(reply, "ok")))
		res = json_incref(json_object_get(reply, "result"));
	json_decref(reply);
	json_decref(args);
	return res;
}

static json_int_t sl_top_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static int sl_top_sample(sl_client_t *c, sl_top_sample_t *s)
{
	int rc = SL_CLIENT_OK;
	s->ns = sl_now_ns();
	s->status = sl_top_get(c, "status", NULL, &rc);
	s->stats = sl_top_get(c, "stats", NULL, &rc);
	s->sync = sl_top_get(c, "sync.status", NULL, &rc);
	s->peers = sl_top_get(c, "peers", NULL, &rc);
	s->ops = sl_top_get(c, "ops", NULL, &rc);
	s->shows = json_object();
	for (size_t i = 0; i < json_array_size(s->peers) && i < SL_TOP_PEERS_MAX; i++) {
		json_int_t sid = sl_top_int(json_array_get(s->peers, i), "session");
		json_t *show = sl_top_get(c, "peer.show", json_pack("{s:I}", "session", sid), &rc);
		char key[24];
		snprintf(key, sizeof key, "%lld", (long long)sid);
		if (show != NULL)
			json_object_set_new(s->shows, key, show);
	}
	return rc;
}

/* sl_top_rate: (now.key - was.key) per second, 0 without a previous sample. */
static double sl_top_rate(json_t *now, json_t *was, const char *key, double dt)
{
	if (was == NULL || dt <= 0)
		return 0;
	json_int_t d = sl_top_int(now, key) - sl_top_int(was, key);
	return d > 0 ? (double)d / dt : 0;
}

/* sl_top_drops: the sum of an lcore's drop_* counters. */
static json_int_t sl_top_drops(json_t *cnt)
{
	const char *k;
	json_t *v;
	json_int_t n = 0;
	json_object_foreach(cnt, k, v) if (strncmp(k, "drop_", 5) == 0) n += json_integer_value(v);
	return n;
}

static void sl_top_head(FILE *f, const sl_top_sample_t *s)
{
	json_t *st = s->status;
	fprintf(f, "sluice top - %s (%s)  state %s  tip %lld  peers %lld  up %llds\n",
	        json_string_value(json_object_get(st, "instance")) ?: "?",
	        json_string_value(json_object_get(st, "chain")) ?: "?",
	        json_string_value(json_object_get(st, "state")) ?: "?",
	        (long long)sl_top_int(st, "tip_height"), (long long)sl_top_int(st, "peers"),
	        (long long)sl_top_int(st, "uptime_s"));
	json_t *sy = s->sync, *t = json_object_get(sy, "target");
	double rate = json_number_value(json_object_get(sy, "committed_per_s"));
	json_int_t tip = sl_top_int(sy, "tip");
	char target[24] = "-", eta[24] = "-";
	if (json_is_integer(t)) {
		snprintf(target, sizeof target, "%lld", (long long)json_integer_value(t));
		if (rate > 0 && json_integer_value(t) > tip)
			snprintf(eta, sizeof eta, "%.0f s",
			         (double)(json_integer_value(t) - tip) / rate);
	}
	fprintf(f,
	        "sync  %-9s tip %lld  target %s  %.0f headers/s  ETA %s  ranges %lld queued "
	        "%lld held\n\n",
	        json_string_value(json_object_get(sy, "state")) ?: "?", (long long)tip, target,
	        rate, eta, (long long)sl_top_int(sy, "queued"), (long long)sl_top_int(sy, "held"));
}

static void sl_top_lcores(FILE *f, const sl_top_sample_t *s, const sl_top_sample_t *was, double dt)
{
	json_t *dp = json_object_get(s->stats, "dataplane");
	json_t *lc = json_object_get(dp, "per_lcore");
	json_t *old =
	    was ? json_object_get(json_object_get(was->stats, "dataplane"), "per_lcore") : NULL;
	if (!json_is_true(json_object_get(dp, "attached"))) {
		fprintf(f, "dataplane not attached\n\n");
		return;
	}
	fprintf(f, "%-6s %12s %12s %10s %9s\n", "lcore", "rx pkts/s", "tx pkts/s", "drops/s",
	        "sessions");
	for (size_t i = 0; i < json_array_size(lc); i++) {
		json_t *c = json_object_get(json_array_get(lc, i), "counters");
		json_t *o = json_object_get(json_array_get(old, i), "counters");
		double drops = o && dt > 0 ? (double)(sl_top_drops(c) - sl_top_drops(o)) / dt : 0;
		fprintf(f, "%-6zu %12.0f %12.0f %10.0f %9lld\n", i,
		        sl_top_rate(c, o, "rx_pkts", dt), sl_top_rate(c, o, "tx_pkts", dt), drops,
		        (long long)sl_top_int(json_array_get(lc, i), "sessions"));
	}
	putc('\n', f);
}

/* sl_top_peer_rate: header frames/s both ways of one session. */
static double sl_top_peer_rate(json_t *show, json_t *was, double dt)
{
	json_t *c = json_object_get(show, "counters"), *o = json_object_get(was, "counters");
	return sl_top_rate(c, o, "hs_headers_rx", dt) + sl_top_rate(c, o, "hs_headers_tx", dt);
}

static void sl_top_peers(FILE *f, const sl_top_sample_t *s, const sl_top_sample_t *was, double dt)
{
	size_t n = json_array_size(s->peers);
	if (n == 0) {
		fprintf(f, "no peers\n\n");
		return;
	}
	double rate[SL_TOP_PEERS_MAX];
	size_t order[SL_TOP_PEERS_MAX], m = 0;
	for (size_t i = 0; i < n && m < SL_TOP_PEERS_MAX; i++, m++) {
		char key[24];
		snprintf(key, sizeof key, "%lld",
		         (long long)sl_top_int(json_array_get(s->peers, i), "session"));
		rate[m] = sl_top_peer_rate(json_object_get(s->shows, key),
		                           was ? json_object_get(was->shows, key) : NULL, dt);
		order[m] = i;
	}
	for (size_t i = 1; i < m; i++) /* busiest first: insertion sort of <= 16 */
		for (size_t k = i; k > 0 && rate[k] > rate[k - 1]; k--) {
			double r = rate[k];
			size_t o = order[k];
			rate[k] = rate[k - 1], order[k] = order[k - 1];
			rate[k - 1] = r, order[k - 1] = o;
		}
	fprintf(f, "%-10s %-21s %14s %8s %-6s  (busiest of %zu)\n", "session", "addr", "headers/s",
	        "rtt_us", "state", n);
	for (size_t i = 0; i < m && i < SL_TOP_ROWS_PEERS; i++) {
		json_t *p = json_array_get(s->peers, order[i]);
		fprintf(f, "%-10lld %-21s %14.0f %8lld %-6s\n", (long long)sl_top_int(p, "session"),
		        json_string_value(json_object_get(p, "addr")) ?: "?", rate[i],
		        (long long)sl_top_int(p, "rtt_us"),
		        json_string_value(json_object_get(p, "state")) ?: "?");
	}
	putc('\n', f);
}

static void sl_top_ops(FILE *f, const sl_top_sample_t *s)
{
	size_t shown = 0;
	for (size_t i = 0; i < json_array_size(s->ops); i++) {
		json_t *o = json_array_get(s->ops, i), *pr = json_object_get(o, "progress");
		const char *state = json_string_value(json_object_get(o, "state"));
		if (state == NULL || strcmp(state, "running") != 0)
			continue;
		if (shown++ == 0)
			fprintf(f, "%-18s %-14s %10s  %s\n", "op tx", "kind", "age_ms", "progress");
		char prog[48] = "";
		if (json_is_object(pr) && sl_top_int(pr, "total") > 0)
			snprintf(prog, sizeof prog, "%lld/%lld", (long long)sl_top_int(pr, "done"),
			         (long long)sl_top_int(pr, "total"));
		fprintf(f, "%-18lld %-14s %10lld  %s\n", (long long)sl_top_int(o, "tx"),
		        json_string_value(json_object_get(o, "kind")) ?: "?",
		        (long long)sl_top_int(o, "age_ms"), prog);
	}
	if (shown == 0)
		fprintf(f, "no operations running\n");
}

static void sl_top_draw(FILE *f, const sl_top_sample_t *s, const sl_top_sample_t *was)
{
	double dt = was ? (double)(s->ns - was->ns) / 1e9 : 0;
	sl_top_head(f, s);
	sl_top_lcores(f, s, was, dt);
	sl_top_peers(f, s, was, dt);
	sl_top_ops(f, s);
}

/* sl_top_wait: up to ms for a key; true when it was q (or a signal came). */
static bool sl_top_wait(int ms)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	if (poll(&p, 1, ms) > 0) {
		char ch;
		if (read(STDIN_FILENO, &ch, 1) == 1 && (ch == 'q' || ch == 'Q'))
			return true;
	}
	return sl_top_stop != 0;
}

static int sl_top_live(sl_client_t *c)
{
	struct termios old, raw;
	bool term = tcgetattr(STDIN_FILENO, &old) == 0;
	if (term) {
		raw = old;
		raw.c_lflag &= (tcflag_t) ~(ICANON | ECHO);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	signal(SIGINT, sl_top_on_signal);
	signal(SIGTERM, sl_top_on_signal);
	fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, no cursor */
	sl_top_sample_t s[2] = {{0}};
	int rc = SL_CLIENT_OK, cur = 0;
	while (rc == SL_CLIENT_OK && !sl_top_stop) {
		sl_top_sample_free(&s[cur]);
		rc = sl_top_sample(c, &s[cur]);
		fputs("\033[H\033[2J", stdout);
		sl_top_draw(stdout, &s[cur], s[!cur].ns ? &s[!cur] : NULL);
		fputs("\n[q] quit\n", stdout);
		fflush(stdout);
		cur = !cur;
		if (sl_top_wait(1000))
			break;
	}
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (term)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	sl_top_sample_free(&s[0]);
	sl_top_sample_free(&s[1]);
	return rc;
}

static int sl_top_once(sl_client_t *c)
{
	sl_top_sample_t a = {0}, b = {0};
	int rc = sl_top_sample(c, &a);
	if (rc == SL_CLIENT_OK) {
		usleep(1000000);
		rc = sl_top_sample(c, &b);
	}
	if (rc == SL_CLIENT_OK)
		sl_top_draw(stdout, &b, &a);
	sl_top_sample_free(&a);
	sl_top_sample_free(&b);
	return rc;
}

int sl_top_run(const char *socket, double timeout_s, bool tty)
{
	sl_client_t c;
	sl_client_init(&c, socket, timeout_s);
	uint64_t deadline = sl_now_ns() + (uint64_t)(timeout_s * (double)SL_NS_PER_S);
	int rc = sl_client_connect(&c, deadline);
	if (rc == SL_CLIENT_OK)
		rc = tty ? sl_top_live(&c) : sl_top_once(&c);
	sl_client_close(&c);
	return rc;
}
