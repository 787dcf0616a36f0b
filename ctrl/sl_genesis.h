/* sl_genesis.h — genesis hashes of the built-in chain profiles (SPEC.md §7),
   all sluice-ctrl needs to know about a chain before the header store and
   the chain profiles exist.  A small table; the chain-profile module
   replaces it. */
#ifndef SL_GENESIS_H
#define SL_GENESIS_H

#include "sl_base.h"

/* sl_genesis_display_hex returns the display hex (reversed, as Bitcoin tools
   print it) of `profile`'s genesis hash, or NULL for an unknown profile. */
const char *sl_genesis_display_hex(const char *profile);

/* sl_genesis_hash fills `out` with the genesis hash in wire byte order (the
   double SHA-256 as produced).  Returns 0, or -1 for an unknown profile. */
int sl_genesis_hash(const char *profile, uint8_t out[32]);

#endif /* SL_GENESIS_H */
