/* sl_admit.c — admission policy (sl_admit.h). */
#include <string.h>
#include <sys/mman.h>

#include "sl_admit.h"
#include "sl_auth.h"

#define IDX_MASK   (SL_ADMIT_IDX_SIZE - 1u)
#define CACHE_MASK (SL_ADMIT_CACHE_SIZE - 1u)
#define NS_PER_S   1000000000ULL

/* Tags that separate the hash families sharing the one seed. */
#define TAG_SESSION 0x5e55100000000001ULL
#define TAG_ADDR    0xadd2000000000002ULL
#define TAG_CACHE   0xcac4e00000000003ULL

const char *sl_admit_err_str(sl_admit_err_t err)
{
	static const char *const names[] = {
#define SL_ADMIT_ERR_NAME(e, s) s,
	    SL_ADMIT_ERR_LIST(SL_ADMIT_ERR_NAME)
#undef SL_ADMIT_ERR_NAME
	};
	return (unsigned)err < SL_ARRAY_LEN(names) ? names[err] : "?";
}

const char *sl_admit_reason_str(uint16_t reason)
{
	static const char *const names[SL_WIRE_REJECT_MAX + 1] = {
	    "?",         "full", "banned", "version",  "chain_mismatch", "rate_limited",
	    "duplicate", "self", "auth",   "not_ready"};
	return reason <= SL_WIRE_REJECT_MAX ? names[reason] : "?";
}

/* ---- hashing -------------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t hash_u64(const sl_admit_t *st, uint64_t tag, uint64_t x)
{
	return mix64(mix64(st->cfg.hash_seed ^ tag) ^ x);
}

static uint64_t hash_node(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN])
{
	uint64_t h = st->cfg.hash_seed;
	for (int i = 0; i < SL_WIRE_HASH_LEN; i += 8) {
		uint64_t w;
		memcpy(&w, node_id + i, sizeof w);
		h = mix64(h ^ w);
	}
	return h;
}

/* ---- hash indexes: linear probing, backward-shift deletion ---------------- */

static void idx_put(sl_admit_slot_t *x, uint64_t h, uint32_t pi)
{
	uint32_t pos = (uint32_t)h & IDX_MASK;
	while (x[pos].ref != 0)
		pos = (pos + 1) & IDX_MASK;
	x[pos] = (sl_admit_slot_t){.h = h, .ref = pi + 1};
}

static void idx_del(sl_admit_slot_t *x, uint64_t h, uint32_t pi)
{
	uint32_t hole = (uint32_t)h & IDX_MASK;
	while (x[hole].ref != pi + 1) {
		if (SL_UNLIKELY(x[hole].ref == 0))
			return;
		hole = (hole + 1) & IDX_MASK;
	}
	for (uint32_t j = (hole + 1) & IDX_MASK; x[j].ref != 0; j = (j + 1) & IDX_MASK) {
		uint32_t home = (uint32_t)x[j].h & IDX_MASK;
		if (((j - home) & IDX_MASK) >= ((j - hole) & IDX_MASK)) {
			x[hole] = x[j];
			hole = j;
		}
	}
	x[hole] = (sl_admit_slot_t){0};
}

/* IDX_EACH walks the probe run of h, binding `pi` to each peer index
   stored under exactly h (callers still compare the key). */
#define IDX_EACH(x, h, pi)                                                                         \
	for (uint32_t pos_ = (uint32_t)(h)&IDX_MASK, pi = 0; (x)[pos_].ref != 0;                   \
	     pos_ = (pos_ + 1) & IDX_MASK)                                                         \
		if ((x)[pos_].h == (h) && ((pi = (x)[pos_].ref - 1), 1))

static int32_t peer_by_node(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN])
{
	uint64_t h = hash_node(st, node_id);
	IDX_EACH(st->by_node, h, pi)
	{
		if (memcmp(st->peers[pi].node_id, node_id, SL_WIRE_HASH_LEN) == 0)
			return (int32_t)pi;
	}
	return -1;
}

static int32_t peer_by_session(const sl_admit_t *st, uint32_t session)
{
	uint64_t h = hash_u64(st, TAG_SESSION, session);
	IDX_EACH(st->by_session, h, pi)
	{
		if (st->peers[pi].session == session)
			return (int32_t)pi;
	}
	return -1;
}

/* ---- configuration and lifecycle ------------------------------------------ */

void sl_admit_cfg_defaults(sl_admit_cfg_t *cfg)
{
	*cfg = (sl_admit_cfg_t){
	    .streams = (1u << SL_WIRE_STREAM_SESSION) | (1u << SL_WIRE_STREAM_DISCOVERY) |
	               (1u << SL_WIRE_STREAM_HSYNC),
	    .max_peers = SL_MIN(256u, (uint32_t)SL_ADMIT_PEERS_MAX),
	    .max_unproven = SL_MIN(256u, (uint32_t)SL_ADMIT_PEERS_MAX),
	    .n_lcores = 1,
	    .max_per_lcore = SL_SESSIONS_PER_LCORE,
	    .max_per_addr = 4,
	    .hello_rate_per_s = 5,
	    .hello_burst = 10,
	};
}

static bool cfg_ok(const sl_admit_cfg_t *c)
{
	return c->max_peers >= 1 && c->max_peers <= SL_ADMIT_PEERS_MAX && c->max_unproven >= 1 &&
	       c->max_unproven <= SL_ADMIT_PEERS_MAX && c->n_lcores >= 1 &&
	       c->n_lcores <= SL_MAX_LCORES && c->max_per_lcore >= 1 &&
	       c->max_per_lcore <= SL_SESSIONS_PER_LCORE && c->max_per_addr >= 1;
}

/* admit_map_tabs maps st's tables as one anonymous mapping (zero pages:
   nothing to clear) and points each table into it. */
static bool admit_map_tabs(sl_admit_t *st)
{
	size_t sz[6] = {
	    SL_ADMIT_CACHE_SIZE * sizeof st->cache[0],    SL_ADMIT_IDX_SIZE * sizeof st->by_node[0],
	    SL_ADMIT_IDX_SIZE * sizeof st->by_session[0], SL_ADMIT_IDX_SIZE * sizeof st->by_addr[0],
	    SL_ADMIT_PEERS_MAX * sizeof st->free_list[0], SL_ADMIT_PEERS_MAX * sizeof st->peers[0]};
	size_t off[6], len = 0;
	for (int i = 0; i < 6; i++) {
		off[i] = len;
		len += SL_ALIGN_UP(sz[i], 64);
	}
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (SL_UNLIKELY(m == MAP_FAILED))
		return false;
	st->tabs = m;
	st->tabs_len = len;
	st->cache = (sl_admit_cache_t *)(m + off[0]);
	st->by_node = (sl_admit_slot_t *)(m + off[1]);
	st->by_session = (sl_admit_slot_t *)(m + off[2]);
	st->by_addr = (sl_admit_slot_t *)(m + off[3]);
	st->free_list = (uint32_t *)(m + off[4]);
	st->peers = (sl_admit_peer_t *)(m + off[5]);
	return true;
}

void sl_admit_fini(sl_admit_t *st)
{
	if (st->tabs != NULL)
		munmap(st->tabs, st->tabs_len);
	memset(st, 0, sizeof *st);
}

sl_admit_err_t sl_admit_init(sl_admit_t *st, const sl_admit_cfg_t *cfg)
{
	sl_ratelimit_t probe;
	if (SL_UNLIKELY(st == NULL || cfg == NULL || !cfg_ok(cfg) ||
	                sl_ratelimit_init(&probe, cfg->hello_rate_per_s, cfg->hello_burst, 0) != 0))
		return SL_ADMIT_ERR_ARG;
	memset(st, 0, sizeof *st);
	if (SL_UNLIKELY(!admit_map_tabs(st)))
		return SL_ADMIT_ERR_NOMEM;
	st->cfg = *cfg;
	st->cfg.streams |= 1u << SL_WIRE_STREAM_SESSION;
	sl_ratelimit_init(&st->rate, cfg->hello_rate_per_s, cfg->hello_burst,
	                  mix64(cfg->hash_seed ^ TAG_ADDR));
	return SL_ADMIT_OK;
}

void sl_admit_set_heard(sl_admit_t *st, sl_admit_heard_fn fn, void *ctx)
{
	st->heard = fn;
	st->heard_ctx = ctx;
}

void sl_admit_set_ready(sl_admit_t *st, bool ready)
{
	st->ready = ready;
}

/* ---- bans, allowlist, outbound nonces ------------------------------------- */

static bool ban_live(const sl_admit_ban_t *b, uint64_t now_ns)
{
	return b->until_ns > now_ns;
}

static void bans_purge(sl_admit_t *st, uint64_t now_ns)
{
	for (uint32_t i = 0; i < st->n_bans;) {
		if (ban_live(&st->bans[i], now_ns))
			i++;
		else
			st->bans[i] = st->bans[--st->n_bans];
	}
}

static int32_t ban_find(const sl_admit_t *st, uint32_t ip)
{
	for (uint32_t i = 0; i < st->n_bans; i++)
		if (st->bans[i].ip == ip)
			return (int32_t)i;
	return -1;
}

sl_admit_err_t sl_admit_ban(sl_admit_t *st, uint32_t ip, uint32_t seconds, uint64_t now_ns)
{
	if (SL_UNLIKELY(ip == 0))
		return SL_ADMIT_ERR_ARG;
	uint64_t until = seconds ? now_ns + (uint64_t)seconds * NS_PER_S : UINT64_MAX;
	int32_t i = ban_find(st, ip);
	if (i < 0) {
		if (st->n_bans == SL_ADMIT_BANS_MAX)
			bans_purge(st, now_ns);
		if (SL_UNLIKELY(st->n_bans == SL_ADMIT_BANS_MAX))
			return SL_ADMIT_ERR_FULL;
		i = (int32_t)st->n_bans++;
	}
	st->bans[i] = (sl_admit_ban_t){.ip = ip, .until_ns = until};
	return SL_ADMIT_OK;
}

sl_admit_err_t sl_admit_unban(sl_admit_t *st, uint32_t ip)
{
	int32_t i = ban_find(st, ip);
	if (i < 0)
		return SL_ADMIT_ERR_NOT_FOUND;
	st->bans[i] = st->bans[--st->n_bans];
	return SL_ADMIT_OK;
}

bool sl_admit_banned(const sl_admit_t *st, uint32_t ip, uint64_t now_ns, uint32_t *remaining_s)
{
	int32_t i = ban_find(st, ip);
	if (i < 0 || !ban_live(&st->bans[i], now_ns))
		return false;
	if (remaining_s != NULL) {
		uint64_t until = st->bans[i].until_ns;
		uint64_t s = (until - now_ns + NS_PER_S - 1) / NS_PER_S;
		*remaining_s = until == UINT64_MAX ? UINT32_MAX : (uint32_t)SL_MIN(s, UINT32_MAX);
	}
	return true;
}

uint32_t sl_admit_bans(sl_admit_t *st, uint64_t now_ns, sl_admit_ban_t *out, uint32_t max)
{
	bans_purge(st, now_ns);
	for (uint32_t i = 0; i < st->n_bans && i < max; i++)
		out[i] = st->bans[i];
	return st->n_bans;
}

bool sl_admit_allowed(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN])
{
	if (st->n_allow == 0)
		return true;
	for (uint32_t i = 0; i < st->n_allow; i++)
		if (memcmp(st->allow[i], node_id, SL_WIRE_HASH_LEN) == 0)
			return true;
	return false;
}

sl_admit_err_t sl_admit_allow_add(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN])
{
	if (st->n_allow > 0 && sl_admit_allowed(st, node_id))
		return SL_ADMIT_OK;
	if (SL_UNLIKELY(st->n_allow == SL_ADMIT_ALLOW_MAX))
		return SL_ADMIT_ERR_FULL;
	memcpy(st->allow[st->n_allow++], node_id, SL_WIRE_HASH_LEN);
	return SL_ADMIT_OK;
}

void sl_admit_allow_clear(sl_admit_t *st)
{
	st->n_allow = 0;
}

static bool nonce_ours(const sl_admit_t *st, uint64_t nonce, uint64_t now_ns)
{
	for (uint32_t i = 0; i < st->n_nonces; i++)
		if (st->nonces[i].nonce == nonce && st->nonces[i].until_ns > now_ns)
			return true;
	return false;
}

static void nonces_purge(sl_admit_t *st, uint64_t now_ns)
{
	for (uint32_t i = 0; i < st->n_nonces;) {
		if (st->nonces[i].until_ns > now_ns)
			i++;
		else
			st->nonces[i] = st->nonces[--st->n_nonces];
	}
}

sl_admit_err_t sl_admit_nonce_add(sl_admit_t *st, uint64_t nonce, uint64_t until_ns,
                                  uint64_t now_ns)
{
	if (SL_UNLIKELY(nonce == 0))
		return SL_ADMIT_ERR_ARG;
	for (uint32_t i = 0; i < st->n_nonces; i++) {
		if (st->nonces[i].nonce == nonce) {
			st->nonces[i].until_ns = until_ns;
			return SL_ADMIT_OK;
		}
	}
	if (st->n_nonces == SL_ADMIT_NONCES_MAX)
		nonces_purge(st, now_ns);
	if (SL_UNLIKELY(st->n_nonces == SL_ADMIT_NONCES_MAX))
		return SL_ADMIT_ERR_FULL;
	st->nonces[st->n_nonces].nonce = nonce;
	st->nonces[st->n_nonces].until_ns = until_ns;
	st->n_nonces++;
	return SL_ADMIT_OK;
}

sl_admit_err_t sl_admit_nonce_del(sl_admit_t *st, uint64_t nonce)
{
	for (uint32_t i = 0; i < st->n_nonces; i++) {
		if (st->nonces[i].nonce == nonce) {
			st->nonces[i] = st->nonces[--st->n_nonces];
			return SL_ADMIT_OK;
		}
	}
	return SL_ADMIT_ERR_NOT_FOUND;
}

/* ---- peers ------------------------------------------------------------------ */

const sl_admit_peer_t *sl_admit_find(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN])
{
	int32_t pi = peer_by_node(st, node_id);
	return pi < 0 ? NULL : &st->peers[pi];
}

const sl_admit_peer_t *sl_admit_find_session(const sl_admit_t *st, uint32_t session)
{
	int32_t pi = session ? peer_by_session(st, session) : -1;
	return pi < 0 ? NULL : &st->peers[pi];
}

uint32_t sl_admit_count(const sl_admit_t *st)
{
	return st->n_peers;
}

uint32_t sl_admit_count_unproven(const sl_admit_t *st)
{
	return st->n_unproven;
}

uint32_t sl_admit_count_lcore(const sl_admit_t *st, uint16_t lcore)
{
	return lcore < SL_MAX_LCORES ? st->n_lcore[lcore] : 0;
}

uint32_t sl_admit_count_addr(const sl_admit_t *st, uint32_t ip)
{
	uint64_t h = hash_u64(st, TAG_ADDR, ip);
	uint32_t n = 0;
	IDX_EACH(st->by_addr, h, pi)
	{
		n += st->peers[pi].ip == ip;
	}
	return n;
}

uint32_t sl_admit_sessions_from(const sl_admit_t *st, uint32_t ip, uint32_t *out, uint32_t max)
{
	uint64_t h = hash_u64(st, TAG_ADDR, ip);
	uint32_t n = 0;
	IDX_EACH(st->by_addr, h, pi)
	{
		const sl_admit_peer_t *p = &st->peers[pi];
		if (p->ip != ip || p->state != SL_ADMIT_PEER_UP)
			continue;
		if (n < max)
			out[n] = p->session;
		n++;
	}
	return n;
}

/* ---- the unproven list: inbound peers in install order, oldest first ---- */

static void unproven_push(sl_admit_t *st, uint32_t pi)
{
	sl_admit_peer_t *p = &st->peers[pi];
	p->older = st->unproven_newest;
	p->newer = 0;
	if (st->unproven_newest != 0)
		st->peers[st->unproven_newest - 1].newer = pi + 1;
	else
		st->unproven_oldest = pi + 1;
	st->unproven_newest = pi + 1;
	st->n_unproven++;
}

static uint32_t proven_count(const sl_admit_t *st)
{
	return st->n_peers - st->n_unproven;
}

static void unproven_unlink(sl_admit_t *st, uint32_t pi)
{
	sl_admit_peer_t *p = &st->peers[pi];
	if (p->older != 0)
		st->peers[p->older - 1].newer = p->newer;
	else
		st->unproven_oldest = p->newer;
	if (p->newer != 0)
		st->peers[p->newer - 1].older = p->older;
	else
		st->unproven_newest = p->older;
	p->older = p->newer = 0;
	p->proven = 1;
	st->n_unproven--;
}

/* unproven_renew moves unproven peer pi to the newest end: its time in
   the pool counts from its session's install (our HELLO_ACK), not from
   its HELLO.  Under a flood the install waits behind thousands of others;
   counted from the HELLO, a peer came up already the oldest and the next
   HELLO evicted it before its first frame could arrive. */
static void unproven_renew(sl_admit_t *st, uint32_t pi)
{
	unproven_unlink(st, pi);
	st->peers[pi].proven = 0;
	unproven_push(st, pi);
}

/* peer_room: a record is free (given back, or never used). */
static bool peer_room(const sl_admit_t *st)
{
	return st->n_free > 0 || st->peers_hwm < SL_ADMIT_PEERS_MAX;
}

/* peer_add reserves a record in `state` (the caller checked capacity and
   that node_id is not admitted) and returns its index. */
static uint32_t peer_add(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN], uint64_t nonce,
                         uint32_t ip, uint16_t port, uint16_t lcore, uint32_t streams,
                         uint64_t now_ns, uint8_t state)
{
	uint32_t pi = st->n_free > 0 ? st->free_list[--st->n_free] : st->peers_hwm++;
	sl_admit_peer_t *p = &st->peers[pi];
	*p = (sl_admit_peer_t){.nonce = nonce,
	                       .since_ns = now_ns,
	                       .ip = ip,
	                       .port = port,
	                       .lcore = lcore,
	                       .streams = streams,
	                       .state = state,
	                       .proven = state != SL_ADMIT_PEER_PENDING};
	memcpy(p->node_id, node_id, SL_WIRE_HASH_LEN);
	if (!p->proven)
		unproven_push(st, pi);
	idx_put(st->by_node, hash_node(st, p->node_id), pi);
	idx_put(st->by_addr, hash_u64(st, TAG_ADDR, ip), pi);
	st->n_peers++;
	st->n_lcore[lcore]++;
	return pi;
}

static void peer_del(sl_admit_t *st, uint32_t pi)
{
	sl_admit_peer_t *p = &st->peers[pi];
	if (!p->proven)
		unproven_unlink(st, pi);
	idx_del(st->by_node, hash_node(st, p->node_id), pi);
	idx_del(st->by_addr, hash_u64(st, TAG_ADDR, p->ip), pi);
	if (p->state == SL_ADMIT_PEER_UP)
		idx_del(st->by_session, hash_u64(st, TAG_SESSION, p->session), pi);
	st->n_peers--;
	st->n_lcore[p->lcore]--;
	*p = (sl_admit_peer_t){0};
	st->free_list[st->n_free++] = pi;
}

sl_admit_err_t sl_admit_commit(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                               uint32_t session)
{
	int32_t pi = peer_by_node(st, node_id);
	if (SL_UNLIKELY(pi < 0))
		return SL_ADMIT_ERR_NOT_FOUND;
	sl_admit_peer_t *p = &st->peers[pi];
	if (SL_UNLIKELY(p->state != SL_ADMIT_PEER_PENDING))
		return SL_ADMIT_ERR_STATE;
	if (SL_UNLIKELY(session == 0 || peer_by_session(st, session) >= 0))
		return SL_ADMIT_ERR_ARG;
	p->session = session;
	p->state = SL_ADMIT_PEER_UP;
	idx_put(st->by_session, hash_u64(st, TAG_SESSION, session), (uint32_t)pi);
	if (!p->proven)
		unproven_renew(st, (uint32_t)pi);
	return SL_ADMIT_OK;
}

/* prove_at: peer pi leaves the unproven pool (true; also when proven
   already), or stays in it when max_peers proven peers exist (false). */
static bool prove_at(sl_admit_t *st, uint32_t pi)
{
	if (st->peers[pi].proven)
		return true;
	if (SL_UNLIKELY(proven_count(st) >= st->cfg.max_peers))
		return false;
	unproven_unlink(st, pi);
	return true;
}

sl_admit_err_t sl_admit_prove(sl_admit_t *st, uint32_t session)
{
	int32_t pi = session ? peer_by_session(st, session) : -1;
	if (SL_UNLIKELY(pi < 0))
		return SL_ADMIT_ERR_NOT_FOUND;
	return prove_at(st, (uint32_t)pi) ? SL_ADMIT_OK : SL_ADMIT_ERR_FULL;
}

sl_admit_err_t sl_admit_remove(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN])
{
	int32_t pi = peer_by_node(st, node_id);
	if (pi < 0)
		return SL_ADMIT_ERR_NOT_FOUND;
	peer_del(st, (uint32_t)pi);
	return SL_ADMIT_OK;
}

sl_admit_err_t sl_admit_remove_session(sl_admit_t *st, uint32_t session)
{
	int32_t pi = session ? peer_by_session(st, session) : -1;
	if (pi < 0)
		return SL_ADMIT_ERR_NOT_FOUND;
	peer_del(st, (uint32_t)pi);
	return SL_ADMIT_OK;
}

sl_admit_err_t sl_admit_adopt(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                              uint32_t session, uint32_t ip, uint16_t port, uint16_t lcore,
                              uint32_t streams, bool outbound, uint64_t now_ns)
{
	if (SL_UNLIKELY(session == 0 || lcore >= st->cfg.n_lcores ||
	                peer_by_session(st, session) >= 0))
		return SL_ADMIT_ERR_ARG;
	if (SL_UNLIKELY(peer_by_node(st, node_id) >= 0))
		return SL_ADMIT_ERR_STATE;
	if (SL_UNLIKELY(!peer_room(st)))
		return SL_ADMIT_ERR_FULL;
	uint32_t pi = peer_add(st, node_id, 0, ip, port, lcore, streams, now_ns, SL_ADMIT_PEER_UP);
	st->peers[pi].session = session;
	st->peers[pi].outbound = outbound;
	idx_put(st->by_session, hash_u64(st, TAG_SESSION, session), pi);
	return SL_ADMIT_OK;
}

bool sl_admit_keep_ours(const sl_admit_t *st, const uint8_t peer_node_id[SL_WIRE_HASH_LEN])
{
	return memcmp(st->cfg.node_id, peer_node_id, SL_WIRE_HASH_LEN) < 0;
}

/* ---- the decision cache (SPEC §4 idempotency) ----------------------------- */

static uint32_t cache_home(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                           uint64_t nonce)
{
	return (uint32_t)hash_u64(st, TAG_CACHE, hash_node(st, node_id) ^ nonce) & CACHE_MASK;
}

static bool cache_key_eq(const sl_admit_cache_t *c, const uint8_t node_id[SL_WIRE_HASH_LEN],
                         uint64_t nonce)
{
	return c->nonce == nonce && memcmp(c->node_id, node_id, SL_WIRE_HASH_LEN) == 0;
}

static sl_admit_cache_t *cache_find(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                                    uint64_t nonce, uint64_t now_ns)
{
	uint32_t home = cache_home(st, node_id, nonce);
	for (uint32_t i = 0; i < SL_ADMIT_CACHE_PROBE; i++) {
		sl_admit_cache_t *c = &st->cache[(home + i) & CACHE_MASK];
		if (c->expires_ns > now_ns && cache_key_eq(c, node_id, nonce))
			return c;
	}
	return NULL;
}

/* cache_put remembers d under (node_id, nonce): the key's own slot, else a
   free or expired one, else the one closest to expiry in the window. */
static void cache_put(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN], uint64_t nonce,
                      uint64_t now_ns, const sl_admit_decision_t *d)
{
	uint32_t home = cache_home(st, node_id, nonce);
	sl_admit_cache_t *victim = NULL;
	for (uint32_t i = 0; i < SL_ADMIT_CACHE_PROBE; i++) {
		sl_admit_cache_t *c = &st->cache[(home + i) & CACHE_MASK];
		if (cache_key_eq(c, node_id, nonce)) {
			victim = c;
			break;
		}
		if (victim == NULL || c->expires_ns < victim->expires_ns)
			victim = c;
	}
	memcpy(victim->node_id, node_id, SL_WIRE_HASH_LEN);
	victim->nonce = nonce;
	victim->expires_ns = now_ns + SL_ADMIT_REPEAT_NS;
	victim->d = *d;
	victim->d.repeat = false;
	victim->d.evict = 0;
}

/* cache_answer fills *out from a remembered answer that still stands: a
   REJECT always; an ACCEPT only while the peer it admitted is still there
   (same nonce) and the HELLO comes from its address (the same HELLO
   replayed from another address is judged afresh: check 8).  Returns
   false when c does not apply (and forgets it when stale). */
static bool cache_answer(sl_admit_t *st, sl_admit_cache_t *c, uint32_t ip, uint16_t port,
                         sl_admit_decision_t *out)
{
	if (c->d.verdict == SL_ADMIT_ACCEPT) {
		int32_t pi = peer_by_node(st, c->node_id);
		if (pi < 0 || st->peers[pi].nonce != c->nonce) {
			c->expires_ns = 0;
			return false;
		}
		if (st->peers[pi].ip != ip || st->peers[pi].port != port)
			return false;
		*out = c->d;
		out->session = st->peers[pi].session;
	} else {
		*out = c->d;
	}
	out->repeat = true;
	return true;
}

/* ---- the decision ----------------------------------------------------------- */

static uint16_t secs_up(uint64_t ns)
{
	uint64_t s = (ns + NS_PER_S - 1) / NS_PER_S;
	return (uint16_t)SL_MIN(s, UINT16_MAX);
}

static bool hello_self(const sl_admit_t *st, const sl_wire_hello_t *h, uint64_t now_ns)
{
	return memcmp(h->node_id, st->cfg.node_id, SL_WIRE_HASH_LEN) == 0 ||
	       nonce_ours(st, h->nonce, now_ns);
}

/* How far evict_oldest looks down the unproven list for one on the lcore. */
#define EVICT_SCAN 64

/* heard_prove: p (UP, unproven) was heard from by the dataplane
   (sl_admit_set_heard): proven now, when max_peers leaves room. */
static bool heard_prove(sl_admit_t *st, uint32_t pi)
{
	return st->heard != NULL && st->heard(st->heard_ctx, st->peers[pi].session) &&
	       prove_at(st, pi);
}

/* evict_oldest removes the oldest unproven UP peer (on `lcore` when
   on_lcore) and returns its session, or 0 when there is none to evict
   (PENDING ones have no session to close yet).  One the dataplane heard
   from is proven instead and passed over. */
static uint32_t evict_oldest(sl_admit_t *st, uint16_t lcore, bool on_lcore)
{
	uint32_t ref = st->unproven_oldest;
	for (uint32_t k = 0; ref != 0 && k < EVICT_SCAN; k++) {
		const sl_admit_peer_t *p = &st->peers[ref - 1];
		uint32_t next = p->newer;
		if (p->state == SL_ADMIT_PEER_UP && (!on_lcore || p->lcore == lcore) &&
		    !heard_prove(st, ref - 1)) {
			uint32_t session = p->session;
			peer_del(st, ref - 1);
			return session;
		}
		ref = next;
	}
	return 0;
}

/* Check 8: node_id already admitted.  An unproven UP admission of it is
   evicted instead (*evict), so the HELLO is judged on. */
static bool hello_duplicate(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                            uint32_t *evict)
{
	int32_t pi = peer_by_node(st, node_id);
	if (pi < 0)
		return false;
	const sl_admit_peer_t *p = &st->peers[pi];
	if (p->proven || p->state != SL_ADMIT_PEER_UP)
		return true;
	*evict = p->session;
	peer_del(st, (uint32_t)pi);
	return false;
}

/* unproven_room: one more unproven peer fits (the lcore, the pool, a
   record). */
static bool unproven_room(const sl_admit_t *st, bool lcore_full)
{
	return !lcore_full && st->n_unproven < st->cfg.max_unproven && peer_room(st);
}

/* Check 9: room for one more unproven peer on lcore, evicting the oldest
   unproven one when the pool or the lcore is full (*evict, unless a
   duplicate was evicted already). */
static bool hello_full(sl_admit_t *st, uint32_t ip, uint16_t lcore, uint32_t *evict)
{
	if (proven_count(st) >= st->cfg.max_peers || lcore >= st->cfg.n_lcores ||
	    sl_admit_count_addr(st, ip) >= st->cfg.max_per_addr)
		return true;
	bool lcore_full = st->n_lcore[lcore] >= st->cfg.max_per_lcore;
	if (unproven_room(st, lcore_full))
		return false;
	if (*evict != 0)
		return true;
	*evict = evict_oldest(st, lcore, lcore_full);
	/* none evicted: the pool may have room now that peers heard from
	   left it (heard_prove) */
	return *evict == 0 && !unproven_room(st, lcore_full);
}

/* Check 7: the auth_mode against [admission] auth, the allowlist, then
   (mode 1) the HELLO's signature by its node_id. */
static bool hello_auth_ok(const sl_admit_t *st, const sl_wire_hello_t *h)
{
	if (h->auth_mode == SL_WIRE_AUTH_NONE) {
		if (st->cfg.auth == SL_CFG_AUTH_REQUIRED)
			return false;
	} else if (h->auth_mode != SL_WIRE_AUTH_X25519_CHACHA20POLY1305 ||
	           st->cfg.auth == SL_CFG_AUTH_OFF) {
		return false;
	}
	if (!sl_admit_allowed(st, h->node_id))
		return false;
	return h->auth_mode == SL_WIRE_AUTH_NONE ||
	       sl_auth_hello_verify(h->node_id, st->cfg.chain_id, h->eph_pubkey, h->nonce, h->sig);
}

/* judge runs checks 1..9 of the header; returns the REJECT reason (and
   sets *retry_s) or 0 for ACCEPT.  Charges the ctrl-level rate limiter. */
static uint16_t judge(sl_admit_t *st, const sl_wire_hello_t *h, uint32_t ip, uint16_t lcore,
                      uint64_t now_ns, uint16_t *retry_s, uint32_t *evict)
{
	uint32_t ban_s;
	*retry_s = SL_ADMIT_RETRY_PERMANENT;
	if (SL_UNLIKELY(!st->ready)) {
		*retry_s = SL_ADMIT_RETRY_NOT_READY;
		return SL_WIRE_REJECT_NOT_READY;
	}
	if (SL_UNLIKELY(sl_admit_banned(st, ip, now_ns, &ban_s))) {
		*retry_s = (uint16_t)SL_MIN(ban_s, UINT16_MAX);
		return SL_WIRE_REJECT_BANNED;
	}
	if (SL_UNLIKELY(!sl_ratelimit_allow(&st->rate, ip, now_ns))) {
		*retry_s =
		    (uint16_t)SL_MAX(secs_up(sl_ratelimit_wait_ns(&st->rate, ip, now_ns)), 1);
		return SL_WIRE_REJECT_RATE_LIMITED;
	}
	if (SL_UNLIKELY(h->proto_min > SL_ADMIT_PROTO_MAX || h->proto_max < SL_ADMIT_PROTO_MIN))
		return SL_WIRE_REJECT_VERSION;
	if (SL_UNLIKELY(memcmp(h->chain_id, st->cfg.chain_id, SL_WIRE_HASH_LEN) != 0))
		return SL_WIRE_REJECT_CHAIN_MISMATCH;
	if (SL_UNLIKELY(hello_self(st, h, now_ns)))
		return SL_WIRE_REJECT_SELF;
	if (SL_UNLIKELY(!hello_auth_ok(st, h)))
		return SL_WIRE_REJECT_AUTH;
	if (SL_UNLIKELY(hello_duplicate(st, h->node_id, evict))) {
		*retry_s = SL_ADMIT_RETRY_DUPLICATE;
		return SL_WIRE_REJECT_DUPLICATE;
	}
	if (SL_UNLIKELY(hello_full(st, ip, lcore, evict))) {
		*retry_s = SL_ADMIT_RETRY_FULL;
		return SL_WIRE_REJECT_FULL;
	}
	return 0;
}

void sl_admit_decide(sl_admit_t *st, const sl_wire_hello_t *h, uint32_t src_ip, uint16_t src_port,
                     uint16_t lcore, uint64_t now_ns, sl_admit_decision_t *out)
{
	sl_admit_cache_t *c = cache_find(st, h->node_id, h->nonce, now_ns);
	if (c != NULL && cache_answer(st, c, src_ip, src_port, out))
		return;
	*out = (sl_admit_decision_t){0};
	uint16_t retry_s;
	uint32_t evict = 0;
	uint16_t reason = judge(st, h, src_ip, lcore, now_ns, &retry_s, &evict);
	if (reason != 0) {
		out->verdict = SL_ADMIT_REJECT;
		out->reason = reason;
		out->retry_after_s = retry_s;
	} else {
		out->verdict = SL_ADMIT_ACCEPT;
		out->lcore = lcore;
		out->streams =
		    (h->streams_offered & st->cfg.streams) | 1u << SL_WIRE_STREAM_SESSION;
		peer_add(st, h->node_id, h->nonce, src_ip, src_port, lcore, out->streams, now_ns,
		         SL_ADMIT_PEER_PENDING);
	}
	cache_put(st, h->node_id, h->nonce, now_ns, out);
	out->evict = evict;
}

/* ---- housekeeping ------------------------------------------------------------ */

uint32_t sl_admit_sweep(sl_admit_t *st, uint64_t now_ns, uint64_t pending_ns)
{
	bans_purge(st, now_ns);
	nonces_purge(st, now_ns);
	for (uint32_t i = 0; i < SL_ADMIT_CACHE_SIZE; i++)
		if (st->cache[i].expires_ns != 0 && st->cache[i].expires_ns <= now_ns)
			st->cache[i].expires_ns = 0; /* (a zero page stays one) */
	uint32_t removed = 0;
	for (uint32_t pi = 0; pi < st->peers_hwm; pi++) {
		const sl_admit_peer_t *p = &st->peers[pi];
		if (p->state == SL_ADMIT_PEER_PENDING && now_ns >= p->since_ns &&
		    now_ns - p->since_ns > pending_ns) {
			peer_del(st, pi);
			removed++;
		}
	}
	return removed;
}
