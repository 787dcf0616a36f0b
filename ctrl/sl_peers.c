/* sl_peers.c — see sl_peers.h. */
#include "sl_peers.h"

#include <stddef.h>
#include <string.h>

static const char *const sl_peer_state_names[] = {"free", "installing", "connecting", "up",
                                                  "closing"};
_Static_assert(SL_ARRAY_LEN(sl_peer_state_names) == SL_PEER_STATE_CNT, "state names");

const char *sl_peers_state_str(unsigned state)
{
	return state < SL_PEER_STATE_CNT ? sl_peer_state_names[state] : "?";
}

static uint32_t peers_n_slots(const sl_peers_t *t)
{
	return t->n_lcores * SL_SESSIONS_PER_LCORE;
}

int sl_peers_reset(sl_peers_t *t, uint32_t n_lcores)
{
	if (SL_UNLIKELY(n_lcores == 0 || n_lcores > SL_MAX_LCORES))
		return -1;
	uint32_t counter = t->gen_counter;
	memset(t, 0, offsetof(sl_peers_t, e));
	t->gen_counter = counter;
	t->n_lcores = n_lcores;
	memset(t->e, 0, (size_t)peers_n_slots(t) * sizeof t->e[0]);
	for (uint32_t i = 0; i < n_lcores; i++)
		t->n_free[i] = SL_SESSIONS_PER_LCORE;
	return 0;
}

int sl_peers_init(sl_peers_t *t, uint32_t n_lcores, uint32_t gen_seed)
{
	if (SL_UNLIKELY(n_lcores == 0 || n_lcores > SL_MAX_LCORES))
		return -1;
	t->gen_counter = gen_seed;
	return sl_peers_reset(t, n_lcores);
}

sl_peers_entry_t *sl_peers_get(sl_peers_t *t, uint32_t lcore, uint32_t slot)
{
	if (SL_UNLIKELY(lcore >= t->n_lcores || slot >= SL_SESSIONS_PER_LCORE))
		return NULL;
	return &t->e[lcore * SL_SESSIONS_PER_LCORE + slot];
}

uint32_t sl_peers_lcore_of(const sl_peers_t *t, const sl_peers_entry_t *p)
{
	return (uint32_t)(p - t->e) / SL_SESSIONS_PER_LCORE;
}

uint32_t sl_peers_slot_of(const sl_peers_t *t, const sl_peers_entry_t *p)
{
	return (uint32_t)(p - t->e) % SL_SESSIONS_PER_LCORE;
}

sl_peers_entry_t *sl_peers_by_sid(sl_peers_t *t, uint32_t sid)
{
	sl_peers_entry_t *p = sl_peers_get(t, sl_sid_lcore(sid), sl_sid_slot(sid));
	if (p == NULL || p->state == SL_PEER_FREE || p->sid != sid)
		return NULL;
	return p;
}

void sl_peers_set_state(sl_peers_t *t, sl_peers_entry_t *p, sl_peer_state_t state)
{
	uint32_t lcore = sl_peers_lcore_of(t, p);
	if (p->state == state)
		return;
	if (p->state == SL_PEER_UP)
		t->n_up--;
	if (state == SL_PEER_UP)
		t->n_up++;
	if (p->state == SL_PEER_FREE) {
		t->n_live++;
		t->n_free[lcore]--;
	}
	if (state == SL_PEER_FREE) {
		if (p->resend != 0)
			t->n_resend--;
		memset(p, 0, sizeof *p);
		t->n_live--;
		t->n_free[lcore]++;
		return;
	}
	p->state = (uint8_t)state;
}

uint32_t sl_peers_roomiest(const sl_peers_t *t)
{
	uint32_t best = 0;
	for (uint32_t l = 1; l < t->n_lcores; l++)
		if (t->n_free[l] > t->n_free[best])
			best = l;
	return best;
}

sl_peers_entry_t *sl_peers_alloc(sl_peers_t *t, uint32_t lcore, sl_peer_state_t state, uint32_t ip,
                                 uint16_t port, uint64_t now_ns)
{
	if (SL_UNLIKELY(lcore >= t->n_lcores || t->n_free[lcore] == 0 ||
	                (state != SL_PEER_INSTALLING && state != SL_PEER_CONNECTING)))
		return NULL;
	sl_peers_entry_t *base = &t->e[lcore * SL_SESSIONS_PER_LCORE];
	uint32_t start = t->next_free[lcore];
	for (uint32_t k = 0; k < SL_SESSIONS_PER_LCORE; k++) {
		uint32_t slot = (start + k) % SL_SESSIONS_PER_LCORE;
		sl_peers_entry_t *p = &base[slot];
		if (p->state != SL_PEER_FREE)
			continue;
		t->next_free[lcore] = (slot + 1) % SL_SESSIONS_PER_LCORE;
		sl_peers_set_state(t, p, state);
		p->gen = sl_sid_gen_norm(++t->gen_counter);
		p->sid = sl_sid_make(lcore, slot, p->gen);
		p->ip = ip;
		p->port = port;
		p->outbound = state == SL_PEER_CONNECTING;
		p->since_ns = now_ns;
		return p;
	}
	return NULL; /* n_free said otherwise: unreachable */
}

void sl_peers_up(sl_peers_t *t, sl_peers_entry_t *p, uint32_t sid, uint32_t streams,
                 const uint8_t node_id[32], uint64_t now_ns)
{
	sl_peers_set_state(t, p, SL_PEER_UP);
	p->sid = sid;
	p->gen = sl_sid_gen(sid);
	p->streams = streams;
	memcpy(p->node_id, node_id, 32);
	p->since_ns = now_ns;
	p->suspect = 0;
}

sl_peers_entry_t *sl_peers_adopt(sl_peers_t *t, uint32_t sid, uint32_t ip, uint16_t port,
                                 uint32_t streams, const uint8_t node_id[32], uint64_t now_ns)
{
	sl_peers_entry_t *p = sl_peers_get(t, sl_sid_lcore(sid), sl_sid_slot(sid));
	if (p == NULL || p->state != SL_PEER_FREE || sl_sid_gen(sid) == 0)
		return NULL;
	p->ip = ip;
	p->port = port;
	sl_peers_up(t, p, sid, streams, node_id, now_ns);
	return p;
}

void sl_peers_set_resend(sl_peers_t *t, sl_peers_entry_t *p, uint8_t what)
{
	if (p->resend == 0 && what != 0)
		t->n_resend++;
	p->resend |= what;
}

void sl_peers_clear_resend(sl_peers_t *t, sl_peers_entry_t *p, uint8_t what)
{
	if (p->resend == 0)
		return;
	p->resend &= (uint8_t)~what;
	if (p->resend == 0)
		t->n_resend--;
}

void sl_peers_misbehavior(sl_peers_entry_t *p, uint16_t kind)
{
	p->misb_total++;
	p->misb_last = kind;
	if (kind < SL_MISB_CNT)
		p->misb_kind[kind]++;
}

sl_peers_entry_t *sl_peers_find_nonce(sl_peers_t *t, uint32_t lcore, const uint8_t node_id[32],
                                      uint64_t nonce)
{
	if (lcore >= t->n_lcores)
		return NULL;
	sl_peers_entry_t *base = &t->e[lcore * SL_SESSIONS_PER_LCORE];
	for (uint32_t s = 0; s < SL_SESSIONS_PER_LCORE; s++) {
		sl_peers_entry_t *p = &base[s];
		if (p->state != SL_PEER_FREE && !p->outbound && p->nonce == nonce &&
		    memcmp(p->node_id, node_id, 32) == 0)
			return p;
	}
	return NULL;
}

uint32_t sl_peers_count_outbound(const sl_peers_t *t)
{
	uint32_t n = 0, end = peers_n_slots(t);
	for (uint32_t i = 0; i < end; i++)
		n += t->e[i].outbound &&
		     (t->e[i].state == SL_PEER_CONNECTING || t->e[i].state == SL_PEER_UP);
	return n;
}

bool sl_peers_has_addr(const sl_peers_t *t, uint32_t ip, uint16_t port)
{
	uint32_t end = peers_n_slots(t);
	for (uint32_t i = 0; i < end; i++)
		if (t->e[i].state != SL_PEER_FREE && t->e[i].ip == ip && t->e[i].port == port)
			return true;
	return false;
}
