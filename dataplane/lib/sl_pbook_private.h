/* sl_pbook_private.h — magic, layout version and shared layout of the peer
   book (sl_pbook.h).  Only sl_pbook.c and tests include this; bump
   SL_PBOOK_LAYOUT on any change below (and SL_REGION_LAYOUT, which places
   it).

   Layout: a header line (magic, layout, capacity, entry size) | the
   seqlock word and the record (n, entries) from the next line on.  The
   seqlock discipline is sl_status_private.h's: seq odd while the record is
   rewritten, the record copied word by word between two seq loads. */
#ifndef SL_PBOOK_PRIVATE_H
#define SL_PBOOK_PRIVATE_H

#include "sl_pbook.h"

#define SL_PBOOK_MAGIC  0x736c70626f6f6b31ull /* "slpbook1" */
#define SL_PBOOK_LAYOUT 1u

/* Reader spins before giving up on a seqlock left odd by a dead writer. */
#define SL_PBOOK_SPIN_MAX (1u << 22)

typedef struct {
	uint32_t n; /* entries in use, <= SL_PBOOK_MAX */
	uint32_t rsvd;
	sl_pbook_peer_t peer[SL_PBOOK_MAX];
} sl_pbook_rec_t;

struct sl_pbook {
	/* read-only after new */
	_Atomic uint64_t magic; /* SL_PBOOK_MAGIC, written last by new, cleared by delete */
	uint32_t layout;        /* SL_PBOOK_LAYOUT */
	uint32_t max;           /* SL_PBOOK_MAX */
	uint32_t peer_size;     /* sizeof(sl_pbook_peer_t) */

	/* owner: sluice-ctrl */
	SL_CACHE_ALIGN _Atomic uint64_t seq;
	sl_pbook_rec_t rec;
};

#define SL_PBOOK_WORDS (sizeof(sl_pbook_rec_t) / 8)

_Static_assert(sizeof(sl_pbook_rec_t) % 8 == 0, "the book is copied in 8-byte words");
_Static_assert(offsetof(struct sl_pbook, rec) % 8 == 0, "the book is copied in 8-byte words");

#endif /* SL_PBOOK_PRIVATE_H */
