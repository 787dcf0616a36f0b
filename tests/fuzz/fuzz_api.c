/* fuzz_api.c — libFuzzer target "api": the control API's line parser and
   dispatcher (sl_api_line, SPEC §9) of a sluice-ctrl wired as main() wires
   it — the one command table, the op table and its kinds, the network
   ops, watch, the peer manager, sync, a regtest chain store — with no
   dataplane attached (commands that need one answer NOT_READY).  Each
   line of the input (up to 16) is one request; every request must be
   answered by one JSON object line, or by nothing when an op answers
   later.  The ctrl's mutable state (ops, peers, bans, sync, watch) is
   made fresh for every input that follows one which may have changed it
   (a command other than a query, or an op left in the table); the chain store is opened once and no
   request here writes to it.  header.import and header.export name files
   of this machine: those requests are not sent (the only filter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "sl_api.h"
#include "sl_apiwatch.h"
#include "sl_chain.h"
#include "sl_ctrl.h"
#include "sl_log.h"
#include "sl_sha256d.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_API_LINES 16
#define FUZZ_API_NOW   1000000000000ull /* the op table's clock: fixed */

static sl_ctrl_t C; /* the peer manager inside is about 3 MB */
static char fuzz_api_dir[64];
static uint8_t fuzz_api_genesis[32];
static bool fuzz_api_live; /* the per-input part is set up */

static uint64_t fuzz_api_clock(void *ctx)
{
	(void)ctx;
	return FUZZ_API_NOW;
}

static void fuzz_api_down(void)
{
	if (!fuzz_api_live)
		return;
	sl_opnet_fini(&C.net);
	sl_op_table_fini(&C.ops);
	sl_watch_fini(&C.watch);
	sl_peermgr_fini(&C.pm);
	fuzz_api_live = false;
}

static void fuzz_api_up(void)
{
	/* sl_peermgr_init zeroes and formats what it uses (not the 6 MB its
	   peer table reserves for SL_MAX_LCORES lcores) */
	if (sl_peermgr_init(&C.pm, &C.cfg, fuzz_api_genesis, NULL) != 0)
		abort();
	sl_sync_init(&C.sync, C.chain, &C.pm);
	if (sl_op_table_init(&C.ops, 1) != SL_OP_OK)
		abort();
	sl_op_set_clock(&C.ops, fuzz_api_clock, NULL);
	sl_op_set_end_hook(&C.ops, sl_api_op_ended, &C);
	sl_opkind_init(&C.kinds, &C.ops, &C.pm, &C.sync, C.chain);
	sl_watch_init(&C.watch, NULL);
	sl_apiwatch_init(&C);
	sl_peerio_init(&C.pio, &C.pm, &C.sync);
	C.net_dom = (sl_opnet_dom_t){.pio = &C.pio, .sr = NULL};
	sl_opnet_io_t io;
	sl_opnet_io_domain(&io, &C.net_dom);
	if (sl_opnet_init(&C.net, &C.ops, &io, 1) != 0)
		abort();
	sl_peerio_set_reply_hook(&C.pio, sl_opnet_reply, &C.net);
	C.shutting_down = false;
	memset(&C.cnt, 0, sizeof C.cnt);
	memset(C.reads, 0, sizeof C.reads);
	fuzz_api_live = true;
}

static void fuzz_api_cleanup(void)
{
	fuzz_api_down();
	sl_server_close(&C.srv);
	sl_chainstore_close(C.chain);
	sl_dplink_fini(&C.dp);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_api_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_api: could not remove %s\n", fuzz_api_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	sl_log_init("fuzz_api", SL_LOG_ERR);
	snprintf(fuzz_api_dir, sizeof fuzz_api_dir, "/dev/shm/sl-fuzz-api-XXXXXX");
	if (mkdtemp(fuzz_api_dir) == NULL)
		abort();
	sl_cfg_defaults(&C.cfg);
	C.cfg.n_bootstrap = 0;
	snprintf(C.cfg.store, sizeof C.cfg.store, "%s", fuzz_api_dir);
	const sl_chain_profile_t *prof = sl_chain_profile("regtest");
	sl_sha256d_hdr(prof->genesis, fuzz_api_genesis);
	sl_chainstore_opts_t o = {.dir = fuzz_api_dir, .profile = "regtest"};
	sl_chainstore_err_t e;
	C.chain = sl_chainstore_open(&o, &e);
	char sock[96];
	snprintf(sock, sizeof sock, "%s/c.sock", fuzz_api_dir);
	if (C.chain == NULL || sl_dplink_init(&C.dp, fuzz_api_dir, "fuzz") != 0 ||
	    sl_server_open(&C.srv, sock, 0, "root") != 0)
		abort();
	atexit(fuzz_api_cleanup);
	return 0;
}

/* fuzz_api_cmd: the command a request names, as sl_api_line parses it:
   FUZZ_API_SKIP for header.import / header.export (files of this
   machine), FUZZ_API_QUERY for the commands that only read (and lines
   that name none), FUZZ_API_OTHER for the rest. */
enum { FUZZ_API_QUERY, FUZZ_API_OTHER, FUZZ_API_SKIP };
static int fuzz_api_cmd(const char *line, size_t len)
{
	static const char *const queries[] = {"status",      "stats",      "peers", "peer.show",
	                                      "sync.status", "header.get", "ops",   "ranges"};
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	int k = cmd == NULL ? FUZZ_API_QUERY : FUZZ_API_OTHER;
	if (cmd != NULL && (strcmp(cmd, "header.import") == 0 || strcmp(cmd, "header.export") == 0))
		k = FUZZ_API_SKIP;
	for (size_t i = 0; cmd != NULL && i < sizeof queries / sizeof queries[0]; i++)
		if (strcmp(cmd, queries[i]) == 0)
			k = FUZZ_API_QUERY;
	json_decref(req);
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool dirty = true;
	if (dirty) { /* the last input may have changed what this one sees */
		fuzz_api_down();
		fuzz_api_up();
		dirty = false;
	}
	C.shutting_down = false;
	memset(&C.cnt, 0, sizeof C.cnt);
	size_t at = 0;
	for (int i = 0; i < FUZZ_API_LINES && at < size; i++) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl != NULL ? (size_t)(nl - (data + at)) : size - at;
		/* an exact copy: ASan sees a read past the line's end */
		char *line = malloc(len ? len : 1);
		memcpy(line, data + at, len);
		at += len + 1;
		int k = fuzz_api_cmd(line, len);
		if (k == FUZZ_API_SKIP) {
			free(line);
			continue;
		}
		dirty |= k != FUZZ_API_QUERY;
		char *reply = sl_api_line(&C, line, len);
		free(line);
		if (reply == NULL)
			continue;
		json_error_t jerr;
		json_t *r = json_loads(reply, 0, &jerr);
		if (!json_is_object(r) || strchr(reply, '\n') != NULL)
			abort(); /* a reply that is not one JSON object line */
		json_decref(r);
		free(reply);
	}
	sl_op_tick(&C.ops);
	dirty |= sl_op_next(&C.ops, NULL) != NULL;
	return 0;
}
