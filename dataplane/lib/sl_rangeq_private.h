/* sl_rangeq_private.h — layout of the range table in shared memory (see
   sl_rangeq.h for the contract).  Only sl_rangeq.c and white-box tests
   include this.  Everything is reached by index from the table base: no
   pointers, so any process mapping the region at any address can use it.

   A slot word `desc` (one 64-bit atomic) names the range and its
   incarnation:
     bits  0..31  start height (LIVE: first live height; COVERED: first
                  covered height, used only to name the bucket)
     bits 32..43  len (0 unless LIVE; at most SL_RANGEQ_LEN_MAX)
     bit  44      dir (sl_range_dir_t)
     bit  45      finalized
     bits 46..47  state (SL_RQ_FREE / SL_RQ_LIVE / SL_RQ_COVERED)
     bits 48..63  tag: incarnation, +1 whenever holders are dropped
   Writers: the producer only, by CAS naming the old word.
   hold[i] (i < fanout) and mark[j]: 0 or (session << 32 | generation);
   consumers CAS them 0 <-> their own word; the producer clears them when
   the incarnation changes.  known: the hull of heights ensured or covered
   in this bucket incarnation (start << 32 | len), producer-owned. */
#ifndef SL_RANGEQ_PRIVATE_H
#define SL_RANGEQ_PRIVATE_H

#include "sl_rangeq.h"

#define SL_RANGEQ_MAGIC  0x51454741524c5300ull /* "\0SLRAGEQ" */
#define SL_RANGEQ_LAYOUT 1u
#define SL_RANGEQ_MARKS  4u /* timed-out marks kept per range */

enum { SL_RQ_FREE = 0, SL_RQ_LIVE = 1, SL_RQ_COVERED = 2 };

typedef struct SL_CACHE_ALIGN {
	_Atomic uint64_t desc;
	_Atomic uint64_t hold[SL_RANGEQ_MAX_FANOUT];
	_Atomic uint64_t mark[SL_RANGEQ_MARKS];
	_Atomic uint64_t known;
} sl_rangeq_slot_t;

struct sl_rangeq {
	/* read-only after new */
	uint64_t magic; /* written last by new (release) */
	uint32_t layout;
	uint32_t hdr_size;
	uint32_t window;
	uint32_t mask;
	uint32_t range_len;
	uint32_t fanout;
	uint64_t footprint;

	/* scan hints, owner: producer.  Buckets [lo_k[d], hi_k[d]] bound the
	   live ranges of dir d; lo > hi when there are none. */
	SL_CACHE_ALIGN _Atomic uint32_t lo_k[2];
	_Atomic uint32_t hi_k[2];

	/* work epoch, moved by anyone (rule 8) */
	SL_CACHE_ALIGN _Atomic uint64_t epoch;

	/* conservation counters (heights), owner: producer */
	SL_CACHE_ALIGN _Atomic uint64_t ensured;
	_Atomic uint64_t covered;
	_Atomic uint64_t dropped;

	sl_rangeq_slot_t slot[];
};

_Static_assert(sizeof(sl_rangeq_slot_t) == 2 * SL_CACHE_LINE, "slot is two cache lines");
_Static_assert(sizeof(struct sl_rangeq) % SL_CACHE_LINE == 0, "header is whole lines");
_Static_assert(SL_RANGEQ_LEN_MAX < (1u << 12), "len fits 12 bits");
_Static_assert(SL_FANOUT >= 1 && SL_FANOUT <= SL_RANGEQ_MAX_FANOUT, "SL_FANOUT in 1..8");

#endif /* SL_RANGEQ_PRIVATE_H */
