/* sl_seen.h — the NEW_BLOCK seen-cache (DESIGN.md "Header-sync reactor":
   NEW_BLOCK candidates): the last SL_SEEN_CAP block hashes this node
   accepted, relayed, announced or refused, so an announcement that comes
   back around the mesh is neither judged nor relayed twice.  A fixed ring
   with an open-addressed index; the oldest entry is forgotten when full.
   The index is keyed by SipHash (libsodium crypto_shorthash) under a
   random key per cache, so peers cannot pick hashes that pile into one
   bucket (a header needs only meet its own target, so its hash is cheap
   to steer).  Owner: the ctrl loop (single threaded); no allocation. */
#ifndef SL_SEEN_H
#define SL_SEEN_H

#include "sl_base.h"

#define SL_SEEN_CAP 1024u /* hashes remembered */

typedef struct {
	uint8_t ring[SL_SEEN_CAP][32]; /* insertion order, ring[next] is the oldest */
	uint16_t idx[SL_SEEN_CAP * 2]; /* ring position + 1, 0 = empty */
	uint32_t next, n;
	uint8_t key[16]; /* crypto_shorthash key, random per init */
} sl_seen_t;

/* sl_seen_init empties c and draws its index key. */
void sl_seen_init(sl_seen_t *c);

/* sl_seen_has: whether hash is remembered. */
bool sl_seen_has(const sl_seen_t *c, const uint8_t hash[32]);

/* sl_seen_add remembers hash (forgetting the oldest when full); returns
   false when it was already there (nothing changes then). */
bool sl_seen_add(sl_seen_t *c, const uint8_t hash[32]);

#endif /* SL_SEEN_H */
