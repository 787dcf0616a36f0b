/* sl_seen.c — see sl_seen.h.  The index is linear-probing over 2 x CAP
   buckets keyed by SipHash of the block hash; deletion re-inserts the
   cluster after the removed bucket (no tombstones). */
#include "sl_seen.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define NB (SL_SEEN_CAP * 2u)

static uint32_t bucket(const sl_seen_t *c, const uint8_t h[32])
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t k;
	crypto_shorthash(out, h, 32, c->key);
	memcpy(&k, out, sizeof k);
	return (uint32_t)(k % NB);
}

/* find: the bucket holding hash, or the empty bucket where it would go. */
static uint32_t find(const sl_seen_t *c, const uint8_t h[32])
{
	uint32_t b = bucket(c, h);
	while (c->idx[b] != 0 && memcmp(c->ring[c->idx[b] - 1], h, 32) != 0)
		b = (b + 1) % NB;
	return b;
}

/* unindex removes ring position pos from the index. */
static void unindex(sl_seen_t *c, uint32_t pos)
{
	uint32_t b = find(c, c->ring[pos]);
	c->idx[b] = 0;
	for (uint32_t j = (b + 1) % NB; c->idx[j] != 0; j = (j + 1) % NB) {
		uint16_t v = c->idx[j];
		c->idx[j] = 0;
		c->idx[find(c, c->ring[v - 1])] = v;
	}
}

void sl_seen_init(sl_seen_t *c)
{
	_Static_assert(sizeof c->key == crypto_shorthash_KEYBYTES, "SipHash key size");
	memset(c, 0, sizeof(*c));
	if (sodium_init() < 0)
		abort(); /* libsodium cannot work here at all: nothing to fall back on */
	randombytes_buf(c->key, sizeof c->key);
}

bool sl_seen_has(const sl_seen_t *c, const uint8_t hash[32])
{
	return c->idx[find(c, hash)] != 0;
}

bool sl_seen_add(sl_seen_t *c, const uint8_t hash[32])
{
	if (sl_seen_has(c, hash))
		return false;
	if (c->n == SL_SEEN_CAP)
		unindex(c, c->next);
	else
		c->n++;
	memcpy(c->ring[c->next], hash, 32);
	c->idx[find(c, hash)] = (uint16_t)(c->next + 1);
	c->next = (c->next + 1) % SL_SEEN_CAP;
	return true;
}
