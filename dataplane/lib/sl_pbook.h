/* sl_pbook.h — the peer book: the address-book snapshot ctrl publishes for
   the dataplane to answer GET_PEERS from (SPEC §6).  Up to SL_PBOOK_MAX
   wire-ready entries behind a seqlock in shared memory (the control region
   places it, sl_region.h); position independent.  Writer: sluice-ctrl only
   (the peer manager, from its address book ctrl/sl_book.h).  Readers: any
   lcore of sluice-dp.

   Lifecycle (the Firedancer-style workspace object): the creator formats
   the memory with sl_pbook_new; each process joins its own handle once
   (sl_pbook_join) and keeps it; leave / delete undo.  Magic and layout
   version live in sl_pbook_private.h. */
#ifndef SL_PBOOK_H
#define SL_PBOOK_H

#include "sl_base.h"

#define SL_PBOOK_MAX 32

/* One entry, wire-ready (the sl_wire_peer_t fields; host order). */
typedef struct {
	uint32_t ipv4;
	uint16_t port;
	uint16_t flags;
	uint8_t node_id[32];
	uint32_t last_seen_unix;
} sl_pbook_peer_t;

/* A joined peer book (opaque; the memory sl_pbook_new formatted). */
typedef struct sl_pbook sl_pbook_t;

/* sl_pbook_align: the alignment the memory of a peer book needs. */
size_t sl_pbook_align(void);

/* sl_pbook_footprint: bytes a peer book needs. */
size_t sl_pbook_footprint(void);

/* sl_pbook_new formats `mem` (footprint bytes, sl_pbook_align aligned) as an
   empty book, its magic written last; returns it joined, or NULL (and a
   log line) on bad arguments. */
sl_pbook_t *sl_pbook_new(void *mem);

/* sl_pbook_join checks that `mem` holds a book formatted by sl_pbook_new
   with this build's layout (possibly by another process) and returns a
   handle, or NULL (never formatted, deleted, another layout). */
sl_pbook_t *sl_pbook_join(void *mem);

/* sl_pbook_leave: the memory of joined book b (nothing else changes). */
void *sl_pbook_leave(sl_pbook_t *b);

/* sl_pbook_delete unformats `mem` (magic cleared: a later join fails) and
   returns it, or NULL when it did not hold a book. */
void *sl_pbook_delete(void *mem);

/* sl_pbook_publish (ctrl only) replaces the snapshot with the first
   min(n, SL_PBOOK_MAX) entries of p.  A publish left half done by a writer
   that died is recovered by the next one. */
void sl_pbook_publish(sl_pbook_t *b, const sl_pbook_peer_t *p, uint32_t n);

/* sl_pbook_read (any thread) copies a consistent snapshot, at most `max`
   entries, into out and returns how many; it retries while a publish is in
   flight and gives up with 0 after a bounded spin (a writer died
   mid-publish).  0 also means an empty book. */
uint32_t sl_pbook_read(const sl_pbook_t *b, sl_pbook_peer_t *out, uint32_t max);

#endif /* SL_PBOOK_H */
