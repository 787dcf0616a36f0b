/* sl_chainstore.h — ctrl's header chain: the header store (sl_store.h) kept
   valid by the chain rules (sl_chain.h) of one profile (DESIGN.md "Control
   plane" → Header store, SPEC.md §7).  Owner: sluice-ctrl's main thread
   (single writer, nothing locked).

   Open: the store at `dir` is opened with a validator that rebuilds an
   sl_chain_ctx_t as the store re-checks every committed header in height
   order from 0, so the context ends at the committed tip; a fresh store
   gets the profile's genesis committed, so there is always a tip.  A store
   whose height 0 is another chain's genesis is refused (never truncated).
   Import validates as it goes (store linkage, chain rules), commits the
   valid prefix in groups of SL_CHAINSTORE_GROUP, and stops at the first
   refused header with its height and a typed reason.  After every commit
   the local status (tip height, hash, chainwork) is published to the
   attached region's status object (sl_status.h), if any. */
#ifndef SL_CHAINSTORE_H
#define SL_CHAINSTORE_H

#include "sl_base.h"
#include "sl_chain.h"
#include "sl_status.h"
#include "sl_store.h"

#define SL_CHAINSTORE_GROUP 2000u /* headers per group commit on import */

typedef enum {
	SL_CHAINSTORE_OK = 0,
	SL_CHAINSTORE_ERR_ARG,         /* NULL, unknown profile, bad range */
	SL_CHAINSTORE_ERR_WRONG_CHAIN, /* open: height 0 is not this profile's genesis */
	SL_CHAINSTORE_ERR_STORE,       /* the store failed (open, commit): see logs */
	SL_CHAINSTORE_ERR_IO,          /* import/export file: open, read or write */
	SL_CHAINSTORE_ERR_INVALID,     /* import: a header was refused (see fail) */
	SL_CHAINSTORE_ERR_NOT_FOUND,   /* get/find: no such height or hash */
	SL_CHAINSTORE_ERR__COUNT
} sl_chainstore_err_t;

/* sl_chainstore_err_str names a result ("ok", "wrong_chain", ...). */
const char *sl_chainstore_err_str(sl_chainstore_err_t e);

/* The validator's own reason when height 0 is not the profile's genesis
   (beyond every sl_chain_err_t). */
#define SL_CHAINSTORE_GENESIS ((int)SL_CHAIN_ERR_COUNT)

/* Where and why import stopped: the first refused height.  `store` is the
   store's reason (LINKAGE, CONFLICT, TRUNCATED, FULL) or INVALID, in which
   case `chain` is the sl_chain_err_t broken (or SL_CHAINSTORE_GENESIS). */
typedef struct {
	uint32_t height;
	sl_store_err_t store;
	int chain;
} sl_chainstore_fail_t;

/* sl_chainstore_reason gives the short lowercase reason of a failure for
   the API's error object: a chain rule ("pow", "bits", "time_mtp",
   "time_future", "version", "target_range", "context", "genesis") or a
   store reason ("linkage", "conflict", "truncated", "full"). */
const char *sl_chainstore_reason(const sl_chainstore_fail_t *f);

typedef struct {
	const char *dir;      /* store directory ([ctrl] store); created if missing */
	const char *profile;  /* [chain] profile: "bitcoin-main" | "bitcoin-test3" | "regtest" */
	uint32_t max_headers; /* 0: SL_STORE_MAX_HEADERS_DEFAULT */
} sl_chainstore_opts_t;

/* The committed tip. */
typedef struct {
	uint32_t height;
	uint8_t hash[32];      /* wire order */
	uint8_t chainwork[32]; /* cumulative, big-endian */
} sl_chainstore_tip_t;

typedef struct sl_chainstore sl_chainstore_t;

/* sl_chainstore_open opens (creating if needed) the chain at o->dir for
   profile o->profile: every stored header is re-validated (linkage and
   chain rules except the 2 h future limit, which a clock step must not turn
   into data loss); an invalid or torn tail is truncated (sl_store_open);
   a fresh store gets the genesis committed.  Returns the chain, or NULL
   with *err (may be NULL) = ARG, WRONG_CHAIN or STORE, and one log line
   naming the path. */
sl_chainstore_t *sl_chainstore_open(const sl_chainstore_opts_t *o, sl_chainstore_err_t *err);

/* sl_chainstore_close detaches the region and closes the store.  NULL is a
   no-op. */
void sl_chainstore_close(sl_chainstore_t *cs);

/* sl_chainstore_profile is the chain profile the store was opened with. */
const sl_chain_profile_t *sl_chainstore_profile(const sl_chainstore_t *cs);

/* sl_chainstore_store gives the underlying store (stats, readers). */
sl_store_t *sl_chainstore_store(sl_chainstore_t *cs);

/* sl_chainstore_tip fills *out with the chain's tip: every accepted
   header, those still in a group commit's flight included (what the next
   append extends).  sl_chainstore_durable fills it with the committed tip
   (on disk, published, the one reads and the API see); the two differ only
   between sl_chainstore_append_group and the step that commits its group. */
void sl_chainstore_tip(const sl_chainstore_t *cs, sl_chainstore_tip_t *out);
void sl_chainstore_durable(const sl_chainstore_t *cs, sl_chainstore_tip_t *out);

/* sl_chainstore_import reads a SPEC §7 file (height 0 first): heights
   already stored must be the same headers (else CONFLICT); new ones must
   link and pass the chain rules at the current wall time.  The valid prefix
   is committed in groups of SL_CHAINSTORE_GROUP, publishing after each.
   Returns OK, INVALID (*fail names the first refused height and why; the
   headers below it stay committed), IO (cannot open/read the file) or STORE
   (a commit failed).  *imported (may be NULL) counts the new headers
   committed; *fail (may be NULL) is zeroed on OK. */
sl_chainstore_err_t sl_chainstore_import(sl_chainstore_t *cs, const char *path, uint32_t *imported,
                                         sl_chainstore_fail_t *fail);

/* An import in steps (header.import as an operation: the loop runs one
   bounded step at a time, so the store keeps one writer and the loop stays
   responsive).  Owned by the caller between begin and end; the chain may
   move between steps (sync commits, a reorg): heights the store has are
   compared, and a chain that shrank below the cursor is re-judged from its
   new tip. */
typedef struct {
	int fd;
	uint8_t *buf;      /* SL_CHAINSTORE_GROUP headers */
	uint32_t total;    /* whole headers in the file */
	bool ragged;       /* the file ends in a partial header */
	uint32_t next;     /* the next file height to judge */
	uint32_t imported; /* new headers this import committed */
	int64_t now;       /* wall time the rules judge against (unix s) */
	bool reserved;     /* the store is sized for the file */
	bool async;        /* set after begin: commits sync off the thread */
	bool syncing;      /* async: a group's commit is in flight */
	uint32_t sync_n;   /* ... of that many new headers */
	uint32_t pend_n;   /* async: new headers appended, not yet committed */
} sl_chainstore_import_t;

/* sl_chainstore_import_begin opens `path` for an import in steps: OK or IO
   (*imp then needs no end). */
sl_chainstore_err_t sl_chainstore_import_begin(const char *path, sl_chainstore_import_t *imp);

/* sl_chainstore_import_step judges and commits up to `max` (capped at
   SL_CHAINSTORE_GROUP) more headers of the file.  Returns OK with *done
   telling whether the file is finished, or the reason to stop as
   sl_chainstore_import (INVALID with *fail, IO, STORE).  imp->next and
   imp->imported show the progress.  With imp->async the group's commit
   is started (sl_store_commit_start: its fdatasyncs run on a thread) and
   the step returns; later steps do nothing but OK while that sync runs
   (sl_chainstore_import_waiting), then finish it, count its headers and
   publish the tip before judging more; small steps leave their headers
   pending until SL_CHAINSTORE_GROUP of them (or the file's end) make a
   group.  An error found commits the valid prefix synchronously. */
sl_chainstore_err_t sl_chainstore_import_step(sl_chainstore_t *cs, sl_chainstore_import_t *imp,
                                              uint32_t max, bool *done, sl_chainstore_fail_t *fail);

/* sl_chainstore_import_waiting: an async import's commit is still
   syncing (a step now would only wait). */
bool sl_chainstore_import_waiting(const sl_chainstore_t *cs, const sl_chainstore_import_t *imp);

/* sl_chainstore_import_abort ends an import early (cancel): a commit in
   flight is finished and headers still pending are committed (what was
   judged stays; this may wait for a sync), then as
   sl_chainstore_import_end. */
void sl_chainstore_import_abort(sl_chainstore_t *cs, sl_chainstore_import_t *imp);

/* sl_chainstore_import_end closes the file and frees the buffer.  Safe
   twice. */
void sl_chainstore_import_end(sl_chainstore_import_t *imp);

/* sl_chainstore_export writes committed heights from..to (inclusive;
   to = UINT32_MAX means the tip) to `path` in SPEC §7 format (temp file +
   rename): exporting an imported file gives the same bytes.  OK, ARG
   (from > to or beyond the tip) or IO. */
sl_chainstore_err_t sl_chainstore_export(const sl_chainstore_t *cs, const char *path, uint32_t from,
                                         uint32_t to);

/* sl_chainstore_tip_header copies the header at sl_chainstore_tip (its
   group may still be on its way to disk): what our own NEW_BLOCK
   announces.  OK or NOT_FOUND (no header in the store yet). */
sl_chainstore_err_t sl_chainstore_tip_header(const sl_chainstore_t *cs, uint8_t hdr[80]);

/* sl_chainstore_get copies header `height` and its hash (either may be
   NULL).  OK or NOT_FOUND (beyond the tip). */
sl_chainstore_err_t sl_chainstore_get(const sl_chainstore_t *cs, uint32_t height, uint8_t hdr[80],
                                      uint8_t hash[32]);

/* sl_chainstore_find gives the height of a header hash (wire order) on the
   chain.  OK or NOT_FOUND.  O(1) expected. */
sl_chainstore_err_t sl_chainstore_find(const sl_chainstore_t *cs, const uint8_t hash[32],
                                       uint32_t *height);

/* sl_chainstore_append validates hdrs[0..n) as heights start.. (start must
   be tip + 1) with the chain rules at the current wall time, from the
   context at the tip, and commits the valid prefix as one group, then
   publishes local status.  *committed (may be NULL) = headers committed.
   Returns OK (all n), INVALID (*fail names the first refused height and
   why: LINKAGE, or INVALID with the chain rule; the prefix below it is
   committed), ARG (start is not tip + 1, hdrs NULL) or STORE (the commit
   failed: nothing committed, the tip is unchanged, retry later).  *fail
   (may be NULL) is zeroed unless INVALID. */
sl_chainstore_err_t sl_chainstore_append(sl_chainstore_t *cs, uint32_t start, const uint8_t *hdrs,
                                         uint32_t n, uint32_t *committed,
                                         sl_chainstore_fail_t *fail);

/* sl_chainstore_append_hashed is sl_chainstore_append with the headers'
   hashes supplied by the caller (hashes[32 * i] = sha256d of hdrs[80 * i],
   computed once where the headers entered: the dataplane's routine); NULL
   hashes: hashed here, once, as sl_chainstore_append does.  The chain
   rules (proof of work, linkage), the store's linkage check and its index
   by hash all use the supplied hashes, which are vouched for by the
   linkage check (hashes[i] must equal hdrs[i + 1]'s prev field) except
   the valid prefix's last and, when a header is refused, the refused
   one's, which are hashed here: at most two SHA-256d per call, not per
   header.  A wrong supplied hash commits nothing: ARG (logged), so a
   caller's bug is never taken for a peer's bad header nor stored.  (This
   guards against a wrong hash, not a hostile caller nor a header changed
   after it was hashed: a hash matching the next header's prev field is
   taken as the header's own.) */
sl_chainstore_err_t sl_chainstore_append_hashed(sl_chainstore_t *cs, uint32_t start,
                                                const uint8_t *hdrs, const uint8_t *hashes,
                                                uint32_t n, uint32_t *committed,
                                                sl_chainstore_fail_t *fail);

/* sl_chainstore_append_group is sl_chainstore_append_hashed (hashes
   required) for the bulk of a sync and for NEW_BLOCK, which is relayed
   once accepted: the valid prefix is accepted
   (*accepted; the tip moves) and made durable by a group commit whose
   syncs run on the store's thread (sl_store_commit_start), so the caller
   never waits for the disk: while one group syncs the next one grows.
   Each call and each sl_chainstore_group_step finishes a group that is
   done (the committed tip moves and is published) and starts the next.
   OK, INVALID, ARG as sl_chainstore_append_hashed; a failed group stays
   pending and is retried by the next step (logged). */
sl_chainstore_err_t sl_chainstore_append_group(sl_chainstore_t *cs, uint32_t start,
                                               const uint8_t *hdrs, const uint8_t *hashes,
                                               uint32_t n, uint32_t *accepted,
                                               sl_chainstore_fail_t *fail);

/* sl_chainstore_group_step finishes a group commit that is done and starts
   one for every accepted header still pending; never waits for the disk.
   Call it from the owner's loop (the header sync's tick) so the last group
   of a sync is committed.  OK or STORE (a failed group stays pending). */
sl_chainstore_err_t sl_chainstore_group_step(sl_chainstore_t *cs);

/* sl_chainstore_reserve sizes the store's arrays and index for `total`
   headers (sl_store_reserve), so a sync grows them once rather than at
   every doubling; waits for a group commit in flight.  OK or STORE (out
   of memory: nothing changed, appends still grow as they go). */
sl_chainstore_err_t sl_chainstore_reserve(sl_chainstore_t *cs, uint32_t total);

/* sl_chainstore_truncate keeps heights 0..height (a reorg): the store is
   truncated (sl_store_truncate_to), the chain context is rebuilt at
   `height` and the new tip is published.  height >= tip is a no-op.  OK,
   ARG or STORE.  O(chain) for the rebuild. */
sl_chainstore_err_t sl_chainstore_truncate(sl_chainstore_t *cs, uint32_t height);

/* sl_chainstore_branch_check judges a branch without touching the store:
   hdrs[0..n) as heights fork+1.. on top of our committed header `fork`
   (<= tip), under the chain rules at the current wall time, from a scratch
   context rebuilt at `fork` (O(fork)).  *valid = headers of the valid
   prefix, work = the chainwork at its end (at `fork` when *valid is 0).
   OK (all valid), INVALID (*fail names the first refused height and why,
   as sl_chainstore_append) or ARG. */
sl_chainstore_err_t sl_chainstore_branch_check(const sl_chainstore_t *cs, uint32_t fork,
                                               const uint8_t *hdrs, uint32_t n, uint32_t *valid,
                                               uint8_t work[32], sl_chainstore_fail_t *fail);

/* sl_chainstore_attach_status makes `st` (the attached region's status,
   joined by the caller) the one local status goes to and publishes the
   current tip to it at once; NULL detaches (nothing is published until the
   next attach). */
void sl_chainstore_attach_status(sl_chainstore_t *cs, sl_status_t *st);

/* sl_chainstore_publish publishes the committed tip (sl_chainstore_durable: best height, best
   hash, chainwork; finalized height 0: no finality rule yet) to the attached
   status; a no-op when none is attached.  Returns how many publishes this
   chain has made so far. */
uint64_t sl_chainstore_publish(sl_chainstore_t *cs);

#endif /* SL_CHAINSTORE_H */
