/* sl_status_private.h — magic, layout version and shared layout of the
   published local status (sl_status.h).  Only sl_status.c and tests
   include this; bump SL_STATUS_LAYOUT on any change below (and
   SL_REGION_LAYOUT, which places it).

   Layout: a header line (magic, layout, record size) | the seqlock word and
   the record on the next line(s).  Writer discipline: seq odd while the
   record is rewritten (release fence after the odd store, release store of
   the even seq); readers load seq (acquire), copy the record word by word
   (relaxed), fence (acquire) and compare seq again. */
#ifndef SL_STATUS_PRIVATE_H
#define SL_STATUS_PRIVATE_H

#include "sl_status.h"

#define SL_STATUS_MAGIC  0x736c737461743031ull /* "slstat01" */
#define SL_STATUS_LAYOUT 1u

/* Reader spins before giving up on a seqlock left odd by a dead writer. */
#define SL_STATUS_SPIN_MAX (1u << 22)

struct sl_status {
	/* read-only after new */
	_Atomic uint64_t magic; /* SL_STATUS_MAGIC, written last by new, cleared by delete */
	uint32_t layout;        /* SL_STATUS_LAYOUT */
	uint32_t rec_size;      /* sizeof(sl_local_status_t) */

	/* owner: sluice-ctrl */
	SL_CACHE_ALIGN _Atomic uint64_t seq;
	sl_local_status_t rec;
};

#define SL_STATUS_WORDS (sizeof(sl_local_status_t) / 8)

_Static_assert(offsetof(struct sl_status, seq) == SL_STATUS_SEQ_OFF, "seq where the peek looks");
_Static_assert(sizeof(sl_local_status_t) % 8 == 0, "status is copied in 8-byte words");
_Static_assert(offsetof(struct sl_status, rec) % 8 == 0, "status is copied in 8-byte words");

#endif /* SL_STATUS_PRIVATE_H */
