/* sl_status.h — the local chain status ctrl publishes for the lcores: best
   height and hash, finalized height, chainwork, a version that moves on
   every publish.  A seqlock in shared memory (the control region places
   it, sl_region.h); position independent.  Writer: sluice-ctrl only (the
   chain store, after each commit).  Readers: any lcore of sluice-dp, any
   number, wait-free unless a publish is in flight.

   Lifecycle (the Firedancer-style workspace object): the creator formats
   the memory with sl_status_new; each process joins its own handle once
   (sl_status_join) and keeps it; leave / delete undo.  Magic and layout
   version live in sl_status_private.h. */
#ifndef SL_STATUS_H
#define SL_STATUS_H

#include "sl_base.h"

/* One published status (a copy; the shared record is private).  `version`
   is owned by publish: 0 means nothing was published yet. */
typedef struct {
	uint32_t best_height;
	uint32_t finalized_height;
	uint8_t best_hash[32];
	uint8_t chainwork[32];
	uint64_t version;
} sl_local_status_t;

/* A joined status object (opaque; the memory sl_status_new formatted). */
typedef struct sl_status sl_status_t;

/* The seqlock word sits one cache line into the object (after the header
   line with magic and layout), so sl_status_seq can peek at it inline. */
#define SL_STATUS_SEQ_OFF 64u

/* sl_status_align: the alignment the memory of a status object needs. */
size_t sl_status_align(void);

/* sl_status_footprint: bytes a status object needs. */
size_t sl_status_footprint(void);

/* sl_status_new formats `mem` (footprint bytes, sl_status_align aligned)
   as a status with nothing published (version 0), its magic written last;
   returns it joined, or NULL (and a log line) on bad arguments. */
sl_status_t *sl_status_new(void *mem);

/* sl_status_join checks that `mem` holds a status formatted by
   sl_status_new with this build's layout (possibly by another process) and
   returns a handle, or NULL (never formatted, deleted, another layout). */
sl_status_t *sl_status_join(void *mem);

/* sl_status_leave: the memory of joined status s (nothing else changes). */
void *sl_status_leave(sl_status_t *s);

/* sl_status_delete unformats `mem` (magic cleared: a later join fails) and
   returns it, or NULL when it did not hold a status. */
void *sl_status_delete(void *mem);

/* sl_status_publish (ctrl only) writes *st as the new status and bumps the
   version (st->version is ignored).  A publish left half done by a writer
   that died is recovered by the next one. */
void sl_status_publish(sl_status_t *s, const sl_local_status_t *st);

/* sl_status_read (any thread) copies a consistent status into *out and
   returns its version; it retries while a publish is in flight and gives
   up after a bounded spin (a writer died mid-publish), returning 0 with
   *out zeroed.  0 also means nothing published yet. */
uint64_t sl_status_read(const sl_status_t *s, sl_local_status_t *out);

/* sl_status_seq: the seqlock word (acquire load): odd while a publish is in
   flight, moves on every publish.  A cheap "did it change" test before
   sl_status_read, once per poll cycle. */
static inline uint64_t sl_status_seq(const sl_status_t *s)
{
	return atomic_load_explicit((const _Atomic uint64_t *)((const char *)s + SL_STATUS_SEQ_OFF),
	                            memory_order_acquire);
}

#endif /* SL_STATUS_H */
