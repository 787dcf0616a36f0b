/* sl_telemetry.c — the /sluice/ telemetry commands (see sl_telemetry.h). */
#include "sl_telemetry.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "sl_log.h"
#include "sl_net.h"
#include "sl_session.h"

static const sl_region_t *_Atomic sl_tel_region;
static atomic_uint sl_tel_busy;
static bool sl_tel_registered;

/* sl_tel_enter returns the region to read, or NULL (detached); a non-NULL
   result must be paired with sl_tel_leave. */
static const sl_region_t *sl_tel_enter(void)
{
	atomic_fetch_add(&sl_tel_busy, 1);
	const sl_region_t *r = atomic_load(&sl_tel_region);
	if (r == NULL)
		atomic_fetch_sub(&sl_tel_busy, 1);
	return r;
}

static void sl_tel_leave(void)
{
	atomic_fetch_sub(&sl_tel_busy, 1);
}

/* sl_tel_fields adds one lcore's counters (or their sum over all lcores
   when idx < 0) to the started dict d. */
static void sl_tel_fields(struct rte_tel_data *d, const sl_region_t *r, int idx)
{
	uint32_t lo = idx < 0 ? 0 : (uint32_t)idx;
	uint32_t hi = idx < 0 ? r->hdr->n_lcores : (uint32_t)idx + 1;
	uint64_t v;
	char name[64];
#define SL_TEL_CNT(f, s)                                                                           \
	v = 0;                                                                                     \
	for (uint32_t i = lo; i < hi; i++)                                                         \
		v += SL_CNT_GET(&sl_region_lcore(r, i)->cnt.f);                                    \
	rte_tel_data_add_dict_u64(d, s, v);
	SL_LCORE_CNT_LIST(SL_TEL_CNT)
#undef SL_TEL_CNT
	for (unsigned k = 0; k < SL_DROP_CNT; k++) {
		v = 0;
		for (uint32_t i = lo; i < hi; i++)
			v += SL_CNT_GET(&sl_region_lcore(r, i)->cnt.drop[k]);
		snprintf(name, sizeof name, "drop_%s", sl_drop_str(k));
		rte_tel_data_add_dict_u64(d, name, v);
	}
}

static int sl_tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const sl_region_t *r = sl_tel_enter();
	if (r == NULL)
		return -1;
	rte_tel_data_start_dict(d);
	sl_tel_fields(d, r, -1);
	sl_tel_leave();
	return 0;
}

/* sl_tel_lcore_dict adds worker idx's dict under key "<idx>". */
static int sl_tel_lcore_dict(struct rte_tel_data *d, const sl_region_t *r, uint32_t idx)
{
	struct rte_tel_data *c = rte_tel_data_alloc();
	if (c == NULL)
		return -1;
	char key[16];
	rte_tel_data_start_dict(c);
	sl_tel_fields(c, r, (int)idx);
	rte_tel_data_add_dict_u64(
	    c, "lcore_id",
	    atomic_load_explicit(&sl_region_lcore(r, idx)->lcore_id, memory_order_relaxed));
	rte_tel_data_add_dict_u64(c, "sessions", sl_session_count(sl_region_sess(r, idx)));
	snprintf(key, sizeof key, "%u", idx);
	if (rte_tel_data_add_dict_container(d, key, c, 0) != 0) {
		rte_tel_data_free(c);
		return -1;
	}
	return 0;
}

static int sl_tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	const sl_region_t *r = sl_tel_enter();
	if (r == NULL)
		return -1;
	uint32_t n = r->hdr->n_lcores, lo = 0, hi = n;
	int rc = 0;
	if (params != NULL && *params != '\0') {
		char *end;
		unsigned long v = strtoul(params, &end, 10);
		if (*end != '\0' || v >= n)
			rc = -1;
		lo = (uint32_t)v;
		hi = lo + 1;
	}
	rte_tel_data_start_dict(d);
	for (uint32_t i = lo; rc == 0 && i < hi; i++)
		rc = sl_tel_lcore_dict(d, r, i);
	sl_tel_leave();
	return rc;
}

/* At most this many sessions are listed (the telemetry reply is bounded). */
#define SL_TEL_SESSIONS_MAX 32

/* sl_tel_session_dict adds session *in (of worker idx) under its hex id. */
static int sl_tel_session_dict(struct rte_tel_data *d, uint32_t idx, const sl_session_info_t *in)
{
	struct rte_tel_data *c = rte_tel_data_alloc();
	if (c == NULL)
		return -1;
	char key[16], buf[80], ip[16];
	rte_tel_data_start_dict(c);
	rte_tel_data_add_dict_u64(c, "lcore", idx);
	rte_tel_data_add_dict_u64(c, "slot", in->slot);
	rte_tel_data_add_dict_u64(c, "sid", in->sid);
	rte_tel_data_add_dict_u64(c, "remote_sid", in->remote_sid);
	snprintf(buf, sizeof buf, "%s:%u", sl_net_fmt_ipv4(in->peer_ip, ip), in->peer_port);
	rte_tel_data_add_dict_string(c, "peer", buf);
	for (int i = 0; i < 32; i++)
		snprintf(buf + 2 * i, 3, "%02x", in->node_id[i]);
	rte_tel_data_add_dict_string(c, "node_id", buf);
	rte_tel_data_add_dict_u64(c, "streams", in->streams);
	rte_tel_data_add_dict_u64(c, "rtt_us", in->rtt_us);
#define SL_TEL_SESS_CNT(f, n) rte_tel_data_add_dict_u64(c, n, in->cnt.f);
	SL_SESSION_CNT_LIST(SL_TEL_SESS_CNT)
#undef SL_TEL_SESS_CNT
	snprintf(key, sizeof key, "%08x", in->sid);
	if (rte_tel_data_add_dict_container(d, key, c, 0) != 0) {
		rte_tel_data_free(c);
		return -1;
	}
	return 0;
}

static int sl_tel_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	const sl_region_t *r = sl_tel_enter();
	if (r == NULL)
		return -1;
	uint32_t listed = 0;
	int rc = 0;
	rte_tel_data_start_dict(d);
	for (uint32_t i = 0; rc == 0 && i < r->hdr->n_lcores; i++) {
		const sl_session_table_t *t = sl_region_sess(r, i);
		for (uint32_t slot = 0;
		     rc == 0 && slot < SL_SESSIONS_PER_LCORE && listed < SL_TEL_SESSIONS_MAX;
		     slot++) {
			sl_session_info_t in;
			if (sl_session_snapshot(t, slot, &in) != 1)
				continue;
			rc = sl_tel_session_dict(d, i, &in);
			listed++;
		}
	}
	sl_tel_leave();
	return rc;
}

int sl_telemetry_register(const sl_region_t *r)
{
	atomic_store(&sl_tel_region, r);
	if (sl_tel_registered)
		return 0;
	if (rte_telemetry_register_cmd("/sluice/stats", sl_tel_stats,
	                               "Dataplane counters summed over worker lcores, and "
	                               "drop_<reason>. No parameters.") != 0 ||
	    rte_telemetry_register_cmd("/sluice/lcores", sl_tel_lcores,
	                               "Per-worker counters, lcore_id, sessions owned; by "
	                               "worker index. Parameter: optional worker index.") != 0 ||
	    rte_telemetry_register_cmd("/sluice/sessions", sl_tel_sessions,
	                               "Live sessions keyed by hex session id (at most 32): peer, "
	                               "node_id, streams, rtt_us, counters. No parameters.") != 0) {
		SL_ERR("telemetry: cannot register the /sluice/ commands");
		return -1;
	}
	sl_tel_registered = true;
	return 0;
}

void sl_telemetry_detach(void)
{
	atomic_store(&sl_tel_region, NULL);
	while (atomic_load(&sl_tel_busy) != 0)
		sched_yield();
}
