/* sluicectl.c — the operator's CLI for sluice-ctrl (SPEC.md §9, §10).
   Sends one JSON-lines request on the control socket and prints the reply:
   human-readable by default, the API `result` verbatim with --json.  Its
   commands, their arguments (key=value; numbers are sent as JSON numbers)
   and reply timeouts come from the API's own command table (sl_cmdtab.h),
   so a typo is a usage error here, not a round trip.
   Exit codes: 0 ok, 1 the daemon answered an error, 2 usage error, 3 the
   daemon cannot be reached, 4 no reply within --timeout. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "sl_cfg.h"
#include "sl_client.h"
#include "sl_cmdtab.h"
#include "sl_complete.h"
#include "sl_progress.h"
#include "sl_table.h"
#include "sl_top.h"
#include "sl_time.h"

enum {
	EXIT_OK = SL_CLIENT_OK,
	EXIT_API = SL_CLIENT_API,
	EXIT_USAGE = SL_CLIENT_USAGE,
};

#define CLI_DEFAULT_SOCKET "/run/sluice/sluice.sock"
typedef struct {
	const char *socket;
	const char *config;
	bool json;
	double timeout_s;
	json_int_t tx; /* --tx, 0: none (ctrl mints one for an operation) */
	const sl_cmdtab_t *cmd;
	json_t *args;
	bool top; /* sluicectl top (sl_top.h) */
} cli_t;

static const char *cli_arg_shape(sl_cmdtab_arg_type_t t)
{
	switch (t) {
	case SL_CMDTAB_ARG_INT:
		return "N";
	case SL_CMDTAB_ARG_ADDR:
		return "A.B.C.D[:PORT]";
	case SL_CMDTAB_ARG_BOOL:
		return "true|false";
	default:
		return "VALUE";
	}
}

/* One usage line: name, arguments, help. */
static void cli_usage_cmd(FILE *f, const sl_cmdtab_t *c)
{
	char line[160];
	int n = snprintf(line, sizeof line, "  %s", c->name);
	for (const sl_cmdtab_arg_t *a = c->args; a->key != NULL; a++)
		n += snprintf(line + n, sizeof line - (size_t)n,
		              a->required ? " %s=%s" : " [%s=%s]", a->key, cli_arg_shape(a->type));
	fprintf(f, "%-44s %s%s%s\n", line, (c->flags & SL_CMDTAB_F_OP) ? "* " : "", c->help,
	        (c->flags & SL_CMDTAB_F_ONE_OF) ? " (exactly one)" : "");
}

static void cli_usage(FILE *f)
{
	fprintf(f, "usage: sluicectl [--socket PATH] [-c CONFIG] [--json] [--timeout SECONDS]\n"
	           "                 <command> [key=value ...]\n"
	           "\n"
	           "Talks to sluice-ctrl over its control socket (default " CLI_DEFAULT_SOCKET ",\n"
	           "or the [ctrl] socket of CONFIG).\n"
	           "\n"
	           "options (before the command):\n"
	           "  -s, --socket PATH     control socket of sluice-ctrl\n"
	           "  -c, --config FILE     take the socket from FILE's [ctrl] socket\n"
	           "  -j, --json            print the API result verbatim as one JSON document\n"
	           "  -t, --timeout SECONDS give up waiting for the reply (default 10;\n"
	           "                        longer for operations, see below)\n"
	           "  -x, --tx N            the operation's transaction id (replaying one\n"
	           "                        attaches to it or returns its result)\n"
	           "  -V, --version         print the version\n"
	           "  -h, --help            print this help\n"
	           "\n"
	           "commands (* an operation: also deadline_ms=N and wait=false):\n");
	for (size_t i = 0; i < SL_CMDTAB_CNT; i++)
		cli_usage_cmd(f, &sl_cmdtab[i]);
	fprintf(f, "%-44s %s\n", "  top",
	        "live view: sync, lcores, busiest peers, ops (q quits; one screen if not a tty)");
	fprintf(f, "\n"
	           "exit status: 0 ok, 1 the daemon answered an error, 2 usage error,\n"
	           "3 cannot reach the daemon, 4 timeout.\n");
}

static int cli_usage_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int cli_usage_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sluicectl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see sluicectl --help)\n");
	va_end(ap);
	return EXIT_USAGE;
}

/* ---- arguments ---------------------------------------------------------- */

static json_t *cli_value(const sl_cmdtab_arg_t *a, const char *v)
{
	if (a->type == SL_CMDTAB_ARG_BOOL) {
		if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
			return json_boolean(v[0] == 't');
		return NULL;
	}
	if (a->type == SL_CMDTAB_ARG_INT) {
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v, &end, 10);
		if (*v == '\0' || *v == '-' || *v == '+' || *end != '\0' || errno != 0 ||
		    x > (unsigned long long)LLONG_MAX)
			return NULL;
		return json_integer((json_int_t)x);
	}
	if (*v == '\0')
		return NULL;
	if (a->type == SL_CMDTAB_ARG_ADDR) {
		sl_cfg_addr_t addr;
		return sl_cfg_parse_addr(v, 9747, &addr) == 0 ? json_string(v) : NULL;
	}
	if (a->type == SL_CMDTAB_ARG_PATH && v[0] != '/') {
		/* The daemon has another working directory: send an absolute path. */
		char cwd[PATH_MAX], abs[PATH_MAX + 256];
		if (getcwd(cwd, sizeof cwd) == NULL)
			return NULL;
		snprintf(abs, sizeof abs, "%s/%s", cwd, v);
		return json_string(abs);
	}
	if (a->type == SL_CMDTAB_ARG_LIST) {
		json_t *l = json_array();
		char *dup = strdup(v), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
			json_array_append_new(l, json_string(t));
		free(dup);
		return l;
	}
	return json_string(v);
}

static int cli_check_required(const sl_cmdtab_t *c, json_t *args)
{
	int given = 0;
	for (const sl_cmdtab_arg_t *a = c->args; a->key != NULL; a++) {
		bool has = json_object_get(args, a->key) != NULL;
		given += has;
		if (a->required && !has)
			return cli_usage_err("'%s' needs %s=...", c->name, a->key);
	}
	if ((c->flags & SL_CMDTAB_F_ONE_OF) != 0 && given != 1)
		return cli_usage_err("'%s' needs exactly one of its arguments", c->name);
	return EXIT_OK;
}

static int cli_parse_args(cli_t *cli, int argc, char **argv)
{
	const sl_cmdtab_t *c = cli->cmd;
	cli->args = json_object();
	int positional = 0;
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		const sl_cmdtab_arg_t *a;
		const char *val;
		if (eq == NULL && (c->flags & SL_CMDTAB_F_ONE_OF) == 0 &&
		    c->args[positional].key != NULL) {
			/* A bare value is the next argument in order: peer.show 5 */
			a = &c->args[positional++];
			val = argv[i];
		} else if (eq == NULL || eq == argv[i]) {
			return cli_usage_err("'%s': arguments are key=value (command %s)", argv[i],
			                     c->name);
		} else {
			a = sl_cmdtab_arg(c, argv[i], (size_t)(eq - argv[i]));
			val = eq + 1;
		}
		if (a == NULL)
			return cli_usage_err("'%s' takes no argument '%s'", c->name, argv[i]);
		json_t *v = cli_value(a, val);
		if (v == NULL)
			return cli_usage_err("bad value in '%s' (%s)", argv[i],
			                     a->type == SL_CMDTAB_ARG_INT ? "a non-negative integer"
			                     : a->type == SL_CMDTAB_ARG_ADDR
			                         ? "an address a.b.c.d or a.b.c.d:port"
			                         : "a non-empty value");
		if (json_object_get(cli->args, a->key) != NULL) {
			json_decref(v);
			return cli_usage_err("'%s' given twice", a->key);
		}
		json_object_set_new(cli->args, a->key, v);
	}
	return cli_check_required(c, cli->args);
}

static int cli_options(cli_t *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},         {"timeout", required_argument, NULL, 't'},
	    {"tx", required_argument, NULL, 'x'},     {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int ch;
	char *end;
	while ((ch = getopt_long(argc, argv, "+s:c:jt:x:Vh", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			cli->socket = optarg;
			break;
		case 'c':
			cli->config = optarg;
			break;
		case 'j':
			cli->json = true;
			break;
		case 't':
			cli->timeout_s = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(cli->timeout_s > 0) ||
			    cli->timeout_s > 86400)
				return cli_usage_err("--timeout '%s': seconds in (0, 86400]",
				                     optarg);
			break;
		case 'x':
			cli->tx = (json_int_t)strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || cli->tx <= 0)
				return cli_usage_err("--tx '%s': a positive integer", optarg);
			break;
		case 'V':
			printf("sluicectl %s\n", SL_VERSION);
			return EXIT_OK;
		case 'h':
			cli_usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "(see sluicectl --help)\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err("no command given");
	if (strcmp(argv[optind], "top") == 0) { /* the live view: not an API command */
		cli->top = true;
		return optind + 1 == argc ? -1 : cli_usage_err("'top' takes no argument");
	}
	cli->cmd = sl_cmdtab_find(argv[optind]);
	if (cli->cmd == NULL)
		return cli_usage_err("unknown command '%s'", argv[optind]);
	return cli_parse_args(cli, argc - optind - 1, argv + optind + 1) == EXIT_OK ? -1
	                                                                            : EXIT_USAGE;
}

static json_int_t cli_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* ---- progress of a long operation ----------------------------------------- */

/* While sync.start, header.import or header.export runs (waited for, not
   --json), a second connection watches the `ops` and `sync` topics and the
   progress is drawn on stderr (sl_progress.h).  The operation gets a tx
   chosen here (unless --tx gave one) so its op_progress events are found. */
typedef struct {
	sl_client_t c; /* the watch connection (fd -1: none) */
	sl_progress_t p;
} cli_prog_t;

static bool cli_wants_progress(const cli_t *cli)
{
	int id = cli->cmd->id;
	return !cli->json && !json_is_false(json_object_get(cli->args, "wait")) &&
	       (id == SL_CMDTAB_SYNC_START || id == SL_CMDTAB_HEADER_IMPORT ||
	        id == SL_CMDTAB_HEADER_EXPORT);
}

/* cli_mint_tx: a fresh operation id (JSON-safe: below 2^53). */
static json_int_t cli_mint_tx(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
		r = sl_now_ns();
	return (json_int_t)((r & ((1ull << 53) - 1)) | 1u);
}

/* cli_prog_open subscribes a second connection; without it (any failure)
   the operation simply runs without a display. */
static void cli_prog_open(cli_t *cli, cli_prog_t *pg, uint64_t deadline)
{
	static const char *const label[] = {[SL_CMDTAB_SYNC_START] = "sync",
	                                    [SL_CMDTAB_HEADER_IMPORT] = "import",
	                                    [SL_CMDTAB_HEADER_EXPORT] = "export"};
	struct winsize ws = {0};
	bool tty = isatty(STDERR_FILENO) == 1;
	if (tty)
		ioctl(STDERR_FILENO, TIOCGWINSZ, &ws);
	sl_progress_init(&pg->p, stderr, tty, ws.ws_col, label[cli->cmd->id], "headers");
	sl_client_init(&pg->c, cli->socket, cli->timeout_s);
	json_t *args = json_pack("{s:[s, s]}", "topics", "ops", "sync"), *ack = NULL;
	if (sl_client_connect(&pg->c, deadline) != SL_CLIENT_OK ||
	    sl_client_call(&pg->c, "watch", args, &ack, deadline) != SL_CLIENT_OK ||
	    !json_is_true(json_object_get(ack, "ok")))
		sl_client_close(&pg->c); /* no display; the operation still runs */
	json_decref(args);
	json_decref(ack);
	if (cli->tx == 0)
		cli->tx = cli_mint_tx();
}

/* cli_prog_event feeds one watch line to the display. */
static void cli_prog_event(const cli_t *cli, cli_prog_t *pg, const char *line)
{
	json_t *e = json_loads(line, 0, NULL);
	const char *ev = json_string_value(json_object_get(e, "event"));
	json_t *pr = json_object_get(e, "progress");
	uint64_t now = sl_now_ns();
	if (ev != NULL && strcmp(ev, "sync") == 0 && cli->cmd->id == SL_CMDTAB_SYNC_START &&
	    json_is_integer(json_object_get(e, "target_height")))
		sl_progress_update(&pg->p, (uint64_t)cli_int(e, "tip_height"),
		                   (uint64_t)cli_int(e, "target_height"),
		                   (double)cli_int(e, "headers_per_s"), now);
	else if (ev != NULL && strcmp(ev, "ops") == 0 && cli_int(e, "tx") == cli->tx &&
	         json_is_object(pr) && cli_int(pr, "total") > 0)
		sl_progress_update(&pg->p, (uint64_t)cli_int(pr, "done"),
		                   (uint64_t)cli_int(pr, "total"), -1, now);
	json_decref(e);
}

/* cli_await reads the reply on c, drawing progress from pg's watch
   connection meanwhile. */
static int cli_await(const cli_t *cli, sl_client_t *c, char **reply, uint64_t deadline,
                     cli_prog_t *pg)
{
	int rc = SL_CLIENT_OK;
	while (!sl_client_take_line(c, reply)) {
		uint64_t now = sl_now_ns();
		if (now >= deadline || pg->c.fd < 0) { /* no display: just wait */
			rc = sl_client_read_line(c, reply, deadline);
			break;
		}
		struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
		                      {.fd = pg->c.fd, .events = POLLIN}};
		int ms = (int)SL_MIN((deadline - now) / SL_NS_PER_MS + 1, 1000u);
		if (poll(p, 2, ms) < 0 && errno != EINTR)
			continue;
		if (p[0].revents != 0 && (rc = sl_client_fill(c)) != SL_CLIENT_OK)
			break;
		if (p[1].revents != 0 && sl_client_fill(&pg->c) != SL_CLIENT_OK)
			sl_client_close(&pg->c); /* the display stops; the operation goes on */
		char *line;
		while (pg->c.fd >= 0 && sl_client_take_line(&pg->c, &line)) {
			cli_prog_event(cli, pg, line);
			free(line);
		}
	}
	sl_progress_end(&pg->p, rc == SL_CLIENT_OK && strstr(*reply, "\"ok\":true") != NULL);
	return rc;
}

/* ---- output ------------------------------------------------------------- */

static void cli_scalar(FILE *f, json_t *v)
{
	if (json_is_string(v))
		fputs(json_string_value(v), f);
	else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputs(s ? s : "?", f);
		free(s);
	}
}

/* Flatten nested objects to "a.b" keys. */
static void cli_flatten(json_t *o, const char *prefix, json_t *into)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		char key[256];
		snprintf(key, sizeof key, "%s%s%s", prefix, *prefix ? "." : "", k);
		if (json_is_object(v))
			cli_flatten(v, key, into);
		else
			json_object_set(into, key, v);
	}
}

static void cli_print_kv(json_t *o)
{
	json_t *flat = json_object();
	cli_flatten(o, "", flat);
	size_t w = 0;
	const char *k;
	json_t *v;
	json_object_foreach(flat, k, v) w = SL_MAX(w, strlen(k));
	json_object_foreach(flat, k, v)
	{
		printf("%-*s  ", (int)w + 1, k);
		cli_scalar(stdout, v);
		putchar('\n');
	}
	json_decref(flat);
}

static void cli_print_stats(json_t *r)
{
	json_t *dp = json_object_get(r, "dataplane");
	json_t *total = json_object_get(dp, "total"), *per = json_object_get(dp, "per_lcore");
	if (!json_is_true(json_object_get(dp, "attached")))
		printf("dataplane: not attached\n");
	else {
		printf("dataplane: attached, %lld lcores (non-zero counters)\n",
		       (long long)cli_int(dp, "lcores"));
		printf("  %-24s %20s", "counter", "total");
		for (size_t i = 0; i < json_array_size(per); i++)
			printf(" %14s%-2zu", "lcore", i);
		putchar('\n');
		const char *k;
		json_t *v;
		json_object_foreach(total, k, v)
		{
			if (json_integer_value(v) == 0)
				continue;
			printf("  %-24s %20lld", k, (long long)json_integer_value(v));
			for (size_t i = 0; i < json_array_size(per); i++) {
				json_t *c = json_object_get(json_array_get(per, i), "counters");
				printf(" %16lld", (long long)cli_int(c, k));
			}
			putchar('\n');
		}
	}
	printf("ctrl:\n");
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(r, "ctrl"), k, v)
	    printf("  %-24s %20lld\n", k, (long long)json_integer_value(v));
	if (json_object_get(r, "sessions") != NULL)
		printf("sessions:\n");
	json_object_foreach(json_object_get(r, "sessions"), k, v)
	    printf("  %-24s %20lld\n", k, (long long)json_integer_value(v));
	if (json_object_get(r, "store") != NULL)
		printf("store:\n");
	json_object_foreach(json_object_get(r, "store"), k, v)
	    printf("  %-24s %20lld\n", k, (long long)json_integer_value(v));
	json_t *sy = json_object_get(r, "sync");
	if (sy != NULL)
		printf("sync: %s, tip %lld, %lld queued, %lld held, %.0f headers/s\n",
		       json_string_value(json_object_get(sy, "state")) ?: "?",
		       (long long)cli_int(sy, "tip"), (long long)cli_int(sy, "queued"),
		       (long long)cli_int(sy, "held"),
		       json_number_value(json_object_get(sy, "committed_per_s")));
}

/* cli_cell: a cell's text (strings bare, anything else as compact JSON,
   absent "-"); the caller frees. */
static char *cli_cell(json_t *v)
{
	if (v == NULL || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* cli_print_table: a list of objects as an aligned table, the columns
   those of its first object. */
static void cli_print_table(json_t *a)
{
	const char *head[SL_TABLE_COLS_MAX], *k;
	json_t *v;
	size_t n = 0;
	json_object_foreach(json_array_get(a, 0), k, v) if (n < SL_TABLE_COLS_MAX) head[n++] = k;
	sl_table_t t;
	sl_table_init(&t, n, head);
	for (size_t i = 0; i < json_array_size(a); i++)
		for (size_t c = 0; c < n; c++) {
			char *cell = cli_cell(json_object_get(json_array_get(a, i), head[c]));
			sl_table_add(&t, "%s", cell ? cell : "?");
			free(cell);
		}
	sl_table_print(&t, stdout);
	sl_table_free(&t);
}

static void cli_print_peers(json_t *a)
{
	static const char *const head[] = {"session", "addr", "node_id", "streams", "rtt_us",
	                                   "state",   "dir",  "since_s", "misb"};
	if (json_array_size(a) == 0) {
		printf("no sessions\n");
		return;
	}
	sl_table_t t;
	sl_table_init(&t, SL_ARRAY_LEN(head), head);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *p = json_array_get(a, i), *st = json_object_get(p, "streams");
		char streams[64] = "";
		size_t n = 0;
		for (size_t k = 0; k < json_array_size(st) && n + 4 < sizeof streams; k++)
			n += (size_t)snprintf(streams + n, sizeof streams - n, "%s%lld",
			                      k ? "," : "",
			                      (long long)json_integer_value(json_array_get(st, k)));
		const char *id = json_string_value(json_object_get(p, "node_id"));
		sl_table_add(&t, "%lld", (long long)cli_int(p, "session"));
		sl_table_add(&t, "%s", json_string_value(json_object_get(p, "addr")) ?: "?");
		sl_table_add(&t, "%.16s", id ? id : "?");
		sl_table_add(&t, "%s", streams);
		sl_table_add(&t, "%lld", (long long)cli_int(p, "rtt_us"));
		sl_table_add(&t, "%s", json_string_value(json_object_get(p, "state")) ?: "?");
		sl_table_add(&t, "%s", json_is_true(json_object_get(p, "outbound")) ? "out" : "in");
		sl_table_add(&t, "%lld", (long long)cli_int(p, "since_s"));
		sl_table_add(&t, "%lld", (long long)cli_int(p, "misbehavior"));
	}
	sl_table_print(&t, stdout);
	sl_table_free(&t);
}

/* ops: one line per operation, its progress and its outcome. */
static void cli_print_ops(json_t *a)
{
	static const char *const head[] = {"tx",     "kind",        "state",
	                                   "age_ms", "deadline_ms", "attempts",
	                                   "parent", "progress",    "outcome"};
	if (json_array_size(a) == 0) {
		printf("no operations running or ended in the last 60 s\n");
		return;
	}
	sl_table_t t;
	sl_table_init(&t, SL_ARRAY_LEN(head), head);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *o = json_array_get(a, i), *pr = json_object_get(o, "progress");
		json_t *err = json_object_get(o, "error");
		char *dl = cli_cell(json_object_get(o, "deadline_ms"));
		char *parent = cli_cell(json_object_get(o, "parent"));
		sl_table_add(&t, "%lld", (long long)cli_int(o, "tx"));
		sl_table_add(&t, "%s", json_string_value(json_object_get(o, "kind")) ?: "?");
		sl_table_add(&t, "%s", json_string_value(json_object_get(o, "state")) ?: "?");
		sl_table_add(&t, "%lld", (long long)cli_int(o, "age_ms"));
		sl_table_add(&t, "%s", dl ? dl : "-");
		sl_table_add(&t, "%lld", (long long)cli_int(o, "attempts"));
		sl_table_add(&t, "%s", parent ? parent : "-");
		if (json_is_object(pr) && cli_int(pr, "total") > 0)
			sl_table_add(&t, "%lld/%lld", (long long)cli_int(pr, "done"),
			             (long long)cli_int(pr, "total"));
		else
			sl_table_add(&t, "-");
		if (err != NULL)
			sl_table_add(&t, "%s: %s",
			             json_string_value(json_object_get(err, "code")) ?: "?",
			             json_string_value(json_object_get(err, "message")) ?: "");
		else
			sl_table_add(&t, "%s", json_object_get(o, "result") ? "ok" : "-");
		free(dl);
		free(parent);
	}
	sl_table_print(&t, stdout);
	sl_table_free(&t);
}

/* sync.status: state, progress, the range table, then the counters. */
static void cli_print_sync_status(json_t *r)
{
	json_t *t = json_object_get(r, "target");
	printf("sync: %s, tip %lld", json_string_value(json_object_get(r, "state")) ?: "?",
	       (long long)cli_int(r, "tip"));
	if (cli_int(r, "appended") > cli_int(r, "tip")) /* a commit group on its way to disk */
		printf(" (%lld appended)", (long long)cli_int(r, "appended"));
	printf(", target ");
	if (json_is_integer(t))
		printf("%lld", (long long)json_integer_value(t));
	else
		printf("none (follow the best peer)");
	printf(", best peer %lld (%lld peers)\n", (long long)cli_int(r, "best_peer_height"),
	       (long long)cli_int(r, "peers"));
	printf("ranges: %lld queued, %lld held, %lld covered; %lld buffered, %lld assignments\n",
	       (long long)cli_int(r, "queued"), (long long)cli_int(r, "held"),
	       (long long)cli_int(r, "covered"), (long long)cli_int(r, "buffered"),
	       (long long)cli_int(r, "assignments"));
	printf("rate: %.0f headers/s\n", json_number_value(json_object_get(r, "committed_per_s")));
	const char *k;
	json_t *v;
	printf("counters:\n");
	json_object_foreach(json_object_get(r, "counters"), k, v)
	    printf("  %-24s %20lld\n", k, (long long)json_integer_value(v));
}

/* ranges: one line per live range. */
static void cli_print_ranges(json_t *a)
{
	static const char *const head[] = {"start", "len", "dir", "state", "holders (session/gen)"};
	if (json_array_size(a) == 0) {
		printf("no live ranges\n");
		return;
	}
	sl_table_t t;
	sl_table_init(&t, SL_ARRAY_LEN(head), head);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *r = json_array_get(a, i), *h = json_object_get(r, "holders");
		char holders[256] = "";
		size_t n = 0;
		for (size_t k = 0; k < json_array_size(h) && n + 32 < sizeof holders; k++)
			n += (size_t)snprintf(holders + n, sizeof holders - n, "%s%lld/%lld",
			                      k ? " " : "",
			                      (long long)cli_int(json_array_get(h, k), "session"),
			                      (long long)cli_int(json_array_get(h, k), "gen"));
		sl_table_add(&t, "%lld", (long long)cli_int(r, "start"));
		sl_table_add(&t, "%lld", (long long)cli_int(r, "len"));
		sl_table_add(&t, "%s", json_string_value(json_object_get(r, "dir")) ?: "?");
		sl_table_add(&t, "%s", json_string_value(json_object_get(r, "state")) ?: "?");
		sl_table_add(&t, "%s", n ? holders : "-");
	}
	sl_table_print(&t, stdout);
	sl_table_free(&t);
}

/* cli_print_event: one watch event as a line: the time it arrived, the
   topic and type, then key=value of the rest (nested keys as a.b). */
static void cli_print_event(const char *line)
{
	json_t *e = json_loads(line, 0, NULL), *flat = json_object();
	if (!json_is_object(e)) {
		puts(line);
		json_decref(e);
		json_decref(flat);
		return;
	}
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	printf("%02d:%02d:%02d.%03ld %s %s", tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	       json_string_value(json_object_get(e, "event")) ?: "?",
	       json_string_value(json_object_get(e, "type")) ?: "-");
	json_object_del(e, "event");
	json_object_del(e, "type");
	cli_flatten(e, "", flat);
	const char *k;
	json_t *v;
	json_object_foreach(flat, k, v)
	{
		char *cell = cli_cell(v);
		printf(strpbrk(cell ? cell : "", " \t") ? " %s=\"%s\"" : " %s=%s", k,
		       cell ? cell : "?");
		free(cell);
	}
	putchar('\n');
	json_decref(flat);
	json_decref(e);
}

static void cli_print(const cli_t *cli, json_t *result)
{
	if (cli->json) {
		char *s = json_dumps(result, JSON_ENCODE_ANY | JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(s ? s : "null");
		free(s);
	} else if (json_is_object(result) && json_object_size(result) == 2 &&
	           json_is_integer(json_object_get(result, "tx")) &&
	           json_is_string(json_object_get(result, "state")))
		printf("operation %lld: %s\n", (long long)cli_int(result, "tx"),
		       json_string_value(json_object_get(result, "state")));
	else if (cli->cmd->id == SL_CMDTAB_PEERS && json_is_array(result))
		cli_print_peers(result);
	else if (cli->cmd->id == SL_CMDTAB_STATS && json_is_object(result))
		cli_print_stats(result);
	else if (cli->cmd->id == SL_CMDTAB_SYNC_STATUS && json_is_object(result))
		cli_print_sync_status(result);
	else if (cli->cmd->id == SL_CMDTAB_RANGES && json_is_array(result))
		cli_print_ranges(result);
	else if (cli->cmd->id == SL_CMDTAB_OPS && json_is_array(result))
		cli_print_ops(result);
	else if (cli->cmd->id == SL_CMDTAB_SYNC_START && json_is_object(result) &&
	         json_object_get(result, "tip_height") != NULL) {
		printf("synced to height %lld %s: %lld new headers in %.1f s (tx %lld)\n",
		       (long long)cli_int(result, "tip_height"),
		       json_string_value(json_object_get(result, "tip_hash")) ?: "?",
		       (long long)cli_int(result, "headers"),
		       json_number_value(json_object_get(result, "seconds")),
		       (long long)cli_int(result, "tx"));
	} else if (cli->cmd->id == SL_CMDTAB_HEADER_IMPORT && json_is_object(result))
		printf("imported %lld new headers; tip %lld %s\n",
		       (long long)cli_int(result, "imported"),
		       (long long)cli_int(result, "tip_height"),
		       json_string_value(json_object_get(result, "tip_hash")) ?: "?");
	else if (cli->cmd->id == SL_CMDTAB_HEADER_EXPORT && json_is_object(result))
		printf("exported %lld headers (heights %lld..%lld) to %s\n",
		       (long long)cli_int(result, "exported"), (long long)cli_int(result, "from"),
		       (long long)cli_int(result, "to"),
		       json_string_value(json_object_get(result, "path")) ?: "?");
	else if (cli->cmd->id == SL_CMDTAB_SHUTDOWN && json_is_object(result))
		printf("shutdown requested (dataplane %s)\n",
		       json_is_true(json_object_get(result, "dataplane")) ? "told to stop"
		                                                          : "not attached");
	else if (json_is_object(result))
		cli_print_kv(result);
	else if (json_is_array(result) && json_is_object(json_array_get(result, 0)))
		cli_print_table(result);
	else {
		cli_scalar(stdout, result);
		putchar('\n');
	}
}

/* ---- main --------------------------------------------------------------- */

static int cli_reply(const cli_t *cli, const sl_client_t *c, const char *line)
{
	json_error_t e;
	json_t *r = json_loads(line, 0, &e);
	json_t *ok = json_object_get(r, "ok");
	if (r == NULL || !json_is_boolean(ok)) {
		fprintf(stderr, "sluicectl: malformed reply from sluice-ctrl: %.200s\n", line);
		json_decref(r);
		return EXIT_API;
	}
	int rc = sl_client_refused(c, r); /* not served: cannot reach (exit 3) */
	if (rc == SL_CLIENT_OK && json_is_true(ok))
		cli_print(cli, json_object_get(r, "result"));
	else if (rc == SL_CLIENT_OK) {
		json_t *err = json_object_get(r, "error");
		fprintf(stderr, "sluicectl: %s: %s: %s\n", cli->cmd->name,
		        json_string_value(json_object_get(err, "code")) ?: "?",
		        json_string_value(json_object_get(err, "message")) ?: "?");
		json_t *h = json_object_get(err, "height"), *why = json_object_get(err, "reason");
		if (h != NULL || why != NULL) {
			fprintf(stderr, "  at height ");
			cli_scalar(stderr, h ? h : json_null());
			fprintf(stderr, ": ");
			cli_scalar(stderr, why ? why : json_null());
			fputc('\n', stderr);
		}
		rc = EXIT_API;
	}
	json_decref(r);
	return rc;
}

static int cli_socket_from_config(cli_t *cli, sl_cfg_t *cfg)
{
	char err[512];
	sl_cfg_defaults(cfg);
	if (sl_cfg_load(cfg, cli->config, err, sizeof err) != 0) {
		fprintf(stderr, "sluicectl: %s\n", err);
		return EXIT_USAGE;
	}
	cli->socket = cfg->socket;
	return EXIT_OK;
}

static int cli_run(cli_t *cli)
{
	uint64_t deadline = sl_now_ns() + (uint64_t)(cli->timeout_s * (double)SL_NS_PER_S);
	cli_prog_t pg;
	sl_client_t c;
	bool progress = cli_wants_progress(cli);
	sl_client_init(&pg.c, cli->socket, cli->timeout_s);
	if (progress)
		cli_prog_open(cli, &pg, sl_now_ns() + 2 * SL_NS_PER_S);
	sl_client_init(&c, cli->socket, cli->timeout_s);
	int rc = sl_client_connect(&c, deadline);
	json_t *req =
	    json_pack("{s:i, s:s, s:O}", "id", 1, "cmd", cli->cmd->name, "args", cli->args);
	if (cli->tx != 0 && (cli->cmd->flags & SL_CMDTAB_F_OP) != 0)
		json_object_set_new(req, "tx", json_integer(cli->tx));
	if (rc == SL_CLIENT_OK)
		rc = sl_client_send_json(&c, req, deadline);
	json_decref(req);
	char *reply = NULL;
	if (rc == SL_CLIENT_OK)
		rc = progress ? cli_await(cli, &c, &reply, deadline, &pg)
		              : sl_client_read_line(&c, &reply, deadline);
	sl_client_close(&pg.c);
	if (rc == SL_CLIENT_OK)
		rc = cli_reply(cli, &c, reply);
	/* watch: the connection now streams events until it closes. */
	while (rc == SL_CLIENT_OK && cli->cmd->id == SL_CMDTAB_WATCH) {
		free(reply);
		reply = NULL;
		fflush(stdout);
		if (sl_client_read_line(&c, &reply, 0) != SL_CLIENT_OK)
			break;
		if (cli->json)
			puts(reply);
		else
			cli_print_event(reply);
	}
	free(reply);
	sl_client_close(&c);
	return rc;
}

static int cli_main(cli_t *cli, int argc, char **argv)
{
	static sl_cfg_t cfg;
	int rc = cli_options(cli, argc, argv);
	if (rc >= 0)
		return rc;
	if (cli->socket == NULL && cli->config != NULL && cli_socket_from_config(cli, &cfg) != 0)
		return EXIT_USAGE;
	if (cli->socket == NULL)
		cli->socket = CLI_DEFAULT_SOCKET;
	if (cli->top)
		return sl_top_run(cli->socket, cli->timeout_s ? cli->timeout_s : SL_CMDTAB_WAIT_S,
		                  isatty(STDOUT_FILENO) && isatty(STDIN_FILENO));
	if (cli->timeout_s == 0)
		cli->timeout_s = cli->cmd->wait_s ? cli->cmd->wait_s : SL_CMDTAB_WAIT_S;
	return cli_run(cli);
}

int main(int argc, char **argv)
{
	cli_t cli = {.timeout_s = 0};
	if (argc >= 2 && strcmp(argv[1], "--complete") == 0) { /* sluicectl.bash */
		sl_complete_print(stdout, argc - 2, argv + 2);
		return EXIT_OK;
	}
	int rc = cli_main(&cli, argc, argv);
	json_decref(cli.args);
	return rc;
}
