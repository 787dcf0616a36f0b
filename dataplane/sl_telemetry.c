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

/* sl_tel_param: the command's optional decimal parameter into *v (left
   as it is when there is none); -1 when it is not a number below `lim`. */
static int sl_tel_param(const char *params, uint32_t lim, uint32_t *v)
{
	if (params == NULL || *params == '\0')
		return 0;
	char *end;
	unsigned long x = strtoul(params, &end, 10);
	if (*params < '0' || *params > '9' || *end != '\0' || x >= lim)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int sl_tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	const sl_region_t *r = sl_tel_enter();
	if (r == NULL)
		return -1;
	uint32_t n = r->hdr->n_lcores, lo = 0, hi = n;
	int rc = sl_tel_param(params, n, &lo);
	if (params != NULL && *params != '\0')
		hi = lo + 1;
	rte_tel_data_start_dict(d);
	for (uint32_t i = lo; rc == 0 && i < hi; i++)
		rc = sl_tel_lcore_dict(d, r, i);
	sl_tel_leave();
	return rc;
}

/* At most this many sessions per reply, and at most this many bytes of
   JSON: DPDK's telemetry reply holds 16 KiB and silently leaves out an
   entry that does not fit (a full table's 32nd session was never shown).
   The parameter `start` pages through the rest. */
#define SL_TEL_SESSIONS_MAX  32
#define SL_TEL_SESSIONS_JSON 15000u

/* sl_tel_dec: characters of v in decimal. */
static size_t sl_tel_dec(uint64_t v)
{
	size_t n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* sl_tel_session_json: an upper bound of the JSON one session adds (its
   key, the names and strings with their quotes and separators, and every
   number's digits). */
static size_t sl_tel_session_json(const sl_session_info_t *in)
{
	size_t n = 240 + sl_tel_dec(in->slot) + sl_tel_dec(in->sid) + sl_tel_dec(in->remote_sid) +
	           sl_tel_dec(in->streams) + sl_tel_dec(in->rtt_us);
#define SL_TEL_SESS_JSON(f, s) n += sizeof(s) + 3 + sl_tel_dec(in->cnt.f);
	SL_SESSION_CNT_LIST(SL_TEL_SESS_JSON)
#undef SL_TEL_SESS_JSON
	return n;
}

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

/* /sluice/sessions[,start]: live sessions in (worker, slot) order, the
   first `start` of them skipped, then as many as fit the reply (at most
   SL_TEL_SESSIONS_MAX).  The next page starts at start + the sessions
   listed; an empty reply is past the end. */
static int sl_tel_sessions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	const sl_region_t *r = sl_tel_enter();
	if (r == NULL)
		return -1;
	uint32_t start = 0, seen = 0, listed = 0;
	size_t json = 0;
	int rc = sl_tel_param(params, UINT32_MAX, &start);
	rte_tel_data_start_dict(d);
	for (uint32_t i = 0; rc == 0 && i < r->hdr->n_lcores; i++) {
		const sl_session_table_t *t = sl_region_sess(r, i);
		for (uint32_t slot = 0; rc == 0 && slot < SL_SESSIONS_PER_LCORE; slot++) {
			sl_session_info_t in;
			if (sl_session_snapshot(t, slot, &in) != 1 || seen++ < start)
				continue;
			json += sl_tel_session_json(&in);
			if (listed == SL_TEL_SESSIONS_MAX || json > SL_TEL_SESSIONS_JSON)
				rc = 1; /* full: the next page starts with this one */
			else
				rc = sl_tel_session_dict(d, i, &in);
			listed += rc == 0;
		}
	}
	rc = rc > 0 ? 0 : rc;
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
	    rte_telemetry_register_cmd(
	        "/sluice/sessions", sl_tel_sessions,
	        "Live sessions by hex id, 32 at most: peer, node_id, streams, rtt_us, "
	        "counters. Parameter: optional start (skip that many).") != 0) {
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
