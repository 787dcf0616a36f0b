/* sl_ratelimit.c — per-source GCRA token buckets in a fixed table
   (sl_ratelimit.h). */
#include "sl_ratelimit.h"

#define SL_RL_MASK (SL_RATELIMIT_SIZE - 1u)

/* rl_hash mixes ip with the table's key (splitmix64 finaliser). */
static uint32_t rl_hash(const sl_ratelimit_t *rl, uint32_t ip)
{
	uint64_t z = (uint64_t)ip ^ rl->seed;
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)(z ^ (z >> 31)) & SL_RL_MASK;
}

int sl_ratelimit_init(sl_ratelimit_t *rl, uint32_t rate_per_s, uint32_t burst, uint64_t seed)
{
	if (SL_UNLIKELY(rl == NULL || rate_per_s == 0 || rate_per_s > 1000000000u || burst == 0 ||
	                burst > SL_RATELIMIT_BURST_MAX))
		return -1;
	*rl = (sl_ratelimit_t){0};
	rl->interval_ns = 1000000000ULL / rate_per_s;
	rl->tau_ns = (uint64_t)(burst - 1) * rl->interval_ns;
	rl->seed = seed;
	return 0;
}

/* rl_find returns ip's entry, or NULL when it is not tracked. */
static const sl_ratelimit_entry_t *rl_find(const sl_ratelimit_t *rl, uint32_t ip)
{
	uint32_t h = rl_hash(rl, ip);
	for (uint32_t i = 0; i < SL_RATELIMIT_PROBE; i++) {
		const sl_ratelimit_entry_t *e = &rl->e[(h + i) & SL_RL_MASK];
		if (e->ip == ip)
			return e;
	}
	return NULL;
}

/* rl_slot returns ip's entry, claiming one for it (a free slot, else the
   window's smallest tat, counted as an eviction) when it has none.  A new
   entry starts with a full bucket: tat = now. */
static sl_ratelimit_entry_t *rl_slot(sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns)
{
	uint32_t h = rl_hash(rl, ip);
	sl_ratelimit_entry_t *victim = NULL;
	for (uint32_t i = 0; i < SL_RATELIMIT_PROBE; i++) {
		sl_ratelimit_entry_t *e = &rl->e[(h + i) & SL_RL_MASK];
		if (e->ip == ip)
			return e;
		if (victim == NULL || (victim->ip != 0 && (e->ip == 0 || e->tat < victim->tat)))
			victim = e;
	}
	if (victim->ip != 0)
		rl->n_evicted++;
	victim->ip = ip;
	victim->tat = now_ns;
	return victim;
}

/* rl_take: the GCRA rule: a token when tat is not beyond now + tau. */
static inline bool rl_take(uint64_t *tat, uint64_t interval_ns, uint64_t tau_ns, uint64_t now_ns)
{
	if (*tat > now_ns + tau_ns)
		return false;
	*tat = SL_MAX(*tat, now_ns) + interval_ns;
	return true;
}

bool sl_ratelimit_allow(sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns)
{
	if (SL_UNLIKELY(ip == 0)) {
		rl->n_limited++;
		return false;
	}
	sl_ratelimit_entry_t *e = rl_slot(rl, ip, now_ns);
	if (!rl_take(&e->tat, rl->interval_ns, rl->tau_ns, now_ns)) {
		rl->n_limited++;
		return false;
	}
	rl->n_allowed++;
	return true;
}

bool sl_ratelimit_idle(const sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns)
{
	const sl_ratelimit_entry_t *e = rl_find(rl, ip);
	return ip != 0 && (e == NULL || e->tat <= now_ns);
}

int sl_ratelimit_bucket_init(sl_ratelimit_bucket_t *b, uint32_t rate_per_s, uint32_t burst)
{
	if (SL_UNLIKELY(b == NULL || rate_per_s == 0 || rate_per_s > 1000000000u || burst == 0 ||
	                burst > SL_RATELIMIT_BURST_MAX))
		return -1;
	b->interval_ns = 1000000000ULL / rate_per_s;
	b->tau_ns = (uint64_t)(burst - 1) * b->interval_ns;
	b->tat = 0;
	return 0;
}

bool sl_ratelimit_bucket_take(sl_ratelimit_bucket_t *b, uint64_t now_ns)
{
	return rl_take(&b->tat, b->interval_ns, b->tau_ns, now_ns);
}

uint64_t sl_ratelimit_wait_ns(const sl_ratelimit_t *rl, uint32_t ip, uint64_t now_ns)
{
	if (SL_UNLIKELY(ip == 0))
		return UINT64_MAX;
	const sl_ratelimit_entry_t *e = rl_find(rl, ip);
	if (e == NULL || e->tat <= now_ns + rl->tau_ns)
		return 0;
	return e->tat - (now_ns + rl->tau_ns);
}

uint32_t sl_ratelimit_tracked(const sl_ratelimit_t *rl)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < SL_RATELIMIT_SIZE; i++)
		n += rl->e[i].ip != 0;
	return n;
}
