/* sl_neigh.c — per-lcore neighbour table (see sl_neigh.h). */
#include "sl_neigh.h"

#include <string.h>

static uint32_t sl_neigh_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> 8;
}

static sl_neigh_entry_t *sl_neigh_slot(sl_neigh_t *t, uint32_t ip, uint32_t k)
{
	return &t->e[(sl_neigh_hash(ip) + k) & (SL_NEIGH_SIZE - 1)];
}

/* sl_neigh_find returns ip's entry, or NULL. */
static sl_neigh_entry_t *sl_neigh_find(sl_neigh_t *t, uint32_t ip)
{
	for (uint32_t k = 0; k < SL_NEIGH_PROBE; k++) {
		sl_neigh_entry_t *e = sl_neigh_slot(t, ip, k);
		if (e->ip == ip)
			return e;
	}
	return NULL;
}

/* sl_neigh_claim returns ip's entry, else a free slot, else the least
   recently seen entry of the window (emptied, then given to ip). */
static sl_neigh_entry_t *sl_neigh_claim(sl_neigh_t *t, uint32_t ip)
{
	sl_neigh_entry_t *found = sl_neigh_find(t, ip);
	if (found != NULL)
		return found;
	sl_neigh_entry_t *victim = NULL;
	for (uint32_t k = 0; k < SL_NEIGH_PROBE; k++) {
		sl_neigh_entry_t *e = sl_neigh_slot(t, ip, k);
		if (e->ip == 0) {
			victim = e;
			break;
		}
		if (victim == NULL || e->seen_ns < victim->seen_ns)
			victim = e;
	}
	memset(victim, 0, sizeof *victim);
	victim->ip = ip;
	return victim;
}

void sl_neigh_init(sl_neigh_t *t)
{
	memset(t, 0, sizeof *t);
}

void sl_neigh_learn(sl_neigh_t *t, uint32_t ip, const sl_mac_t *mac, uint64_t now_ns)
{
	static const sl_mac_t zero;
	if (SL_UNLIKELY(ip == 0 || sl_mac_is_bcast(mac) || sl_mac_eq(mac, &zero)))
		return;
	sl_neigh_entry_t *e = sl_neigh_claim(t, ip);
	e->mac = *mac;
	e->resolved = 1;
	e->seen_ns = now_ns;
}

int sl_neigh_lookup(const sl_neigh_t *t, uint32_t ip, sl_mac_t *mac)
{
	if (SL_UNLIKELY(ip == 0))
		return 0;
	const sl_neigh_entry_t *e = sl_neigh_find((sl_neigh_t *)t, ip);
	if (e == NULL || !e->resolved)
		return 0;
	*mac = e->mac;
	return 1;
}

/* sl_neigh_req_gap: the wait after the n-th request (n >= 1). */
static uint64_t sl_neigh_req_gap(uint8_t n)
{
	uint64_t gap = SL_NEIGH_REQ_GAP0_NS;
	for (uint8_t i = 1; i < n && gap < SL_NEIGH_REQ_GAP_NS; i++)
		gap *= 2;
	return SL_MIN(gap, SL_NEIGH_REQ_GAP_NS);
}

int sl_neigh_want_request(sl_neigh_t *t, uint32_t ip, uint64_t now_ns)
{
	if (SL_UNLIKELY(ip == 0))
		return 0;
	sl_neigh_entry_t *e = sl_neigh_claim(t, ip);
	if (e->req_ns != 0 && now_ns - e->req_ns < sl_neigh_req_gap(e->req_n))
		return 0;
	e->req_ns = now_ns;
	if (e->req_n < UINT8_MAX)
		e->req_n++;
	if (!e->resolved)
		e->seen_ns = now_ns;
	return 1;
}

void sl_neigh_rearm(sl_neigh_t *t)
{
	for (uint32_t i = 0; i < SL_NEIGH_SIZE; i++) {
		sl_neigh_entry_t *e = &t->e[i];
		if (e->ip != 0 && !e->resolved) {
			e->req_ns = 0;
			e->req_n = 0;
		}
	}
}

uint32_t sl_neigh_next_hop(uint32_t our_ip, uint8_t prefix_len, uint32_t gateway, uint32_t dst)
{
	if (sl_net_same_subnet(our_ip, dst, prefix_len))
		return dst;
	return gateway;
}
