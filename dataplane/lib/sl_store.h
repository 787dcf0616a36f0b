/* sl_store.h — the header store (DESIGN.md "Control plane" → Header store).

   On disk, in the store directory ([ctrl] store):
     headers  raw 80-byte headers concatenated from height 0 (SPEC §7 file
              format, exactly what export writes).  Grows by append; after a
              reorg it is overwritten in place from the fork point.  It is
              shrunk physically only by open (readers may map it).
     tip      the commit record: two 64-byte slots (offsets 0 and 512), each
              {magic, version, seq, count, epoch, tip hash, crc32c}.  A commit
              writes slot (seq & 1) and fdatasyncs it; open takes the valid slot
              with the higher seq, so a torn slot write falls back to the
              previous commit.
     view     a 4 KiB shared "chain view" both processes mmap (no pointers):
              {magic, version, header size, max headers, epoch, count}.  Owner
              of every field: the writer (ctrl).  Readers (dataplane lcores)
              only load it.

   Epoch protocol (seqlock): the epoch is even while the committed chain only
   grows.  A truncation (reorg, or a shrink at open) makes it odd, lowers
   count, and makes it even again (epoch += 2 in all).  Readers load epoch
   (retry while odd), load count, copy below count, reload epoch: if it moved,
   the copy may mix branches and is retried, then refused (SL_STORE_ERR_EPOCH).
   The writer overwrites heights >= count only, so a reader that started after
   the truncation never sees an overwrite.

   Writer: one thread of ctrl (sl_store_t).  Reader: any thread or process
   (sl_store_reader_t), no syscalls and no locks per read. */
#ifndef SL_STORE_H
#define SL_STORE_H

#include "sl_base.h"

#define SL_STORE_HDR_SIZE            80u
#define SL_STORE_HASH_SIZE           32u
/* Default virtual reservation for the headers map: 16 M headers (1.28 GB). */
#define SL_STORE_MAX_HEADERS_DEFAULT (16u << 20)

/* One reason per failure; the same values go into sl_store_fail_t. */
typedef enum {
	SL_STORE_OK = 0,
	SL_STORE_ERR_ARG,        /* bad argument (NULL, out of range, from > to) */
	SL_STORE_ERR_IO,         /* open/read/write/sync failed (errno logged) */
	SL_STORE_ERR_NOMEM,      /* allocation failed */
	SL_STORE_ERR_FULL,       /* would exceed max_headers */
	SL_STORE_ERR_LINKAGE,    /* prev-hash field is not the previous hash */
	SL_STORE_ERR_INVALID,    /* the validator refused it (detail = its code) */
	SL_STORE_ERR_TRUNCATED,  /* a partial (< 80 byte) header */
	SL_STORE_ERR_CONFLICT,   /* import: differs from a header already stored */
	SL_STORE_ERR_CORRUPT,    /* view/tip record with a bad magic or layout */
	SL_STORE_ERR_BEYOND_TIP, /* reader: start >= committed count */
	SL_STORE_ERR_EPOCH,      /* reader: a truncation raced every retry */
	SL_STORE_ERR__COUNT
} sl_store_err_t;

/* sl_store_err_str names a reason for logs ("linkage", ...). */
const char *sl_store_err_str(sl_store_err_t e);

/* Where and why a header was refused: the first failing height. */
typedef struct {
	uint32_t height;
	sl_store_err_t err;
	int detail; /* the validator's own reason code when err == INVALID */
} sl_store_fail_t;

/* sl_store_hash_fn writes the 32-byte double SHA-256 of an 80-byte header
   (Bitcoin byte order, not reversed).  NULL in the options means
   sl_sha256d_hdr (sl_sha256d.h); tests may pass their own. */
typedef void (*sl_store_hash_fn)(const uint8_t hdr[80], uint8_t out[32]);

/* sl_store_validate_fn judges header `height` whose linkage the store has
   already checked.  Called in height order, once per header, from 0 (open)
   or from the first new height (import); a stateful validator may follow
   along.  Returns 0 if valid, else a positive reason code of its own. */
typedef int (*sl_store_validate_fn)(void *ctx, uint32_t height, const uint8_t hdr[80],
                                    const uint8_t hash[32]);

typedef struct {
	const char *dir;               /* store directory; created if missing */
	sl_store_hash_fn hash;         /* NULL: sl_sha256d_hdr */
	sl_store_validate_fn validate; /* NULL: linkage only */
	void *validate_ctx;
	uint32_t max_headers; /* 0: SL_STORE_MAX_HEADERS_DEFAULT */
} sl_store_opts_t;

/* What open found: the committed count it kept and what it threw away. */
typedef struct {
	uint32_t count;         /* headers committed after recovery */
	uint32_t tip_count;     /* count the tip record claimed (0: none) */
	uint64_t bytes_dropped; /* bytes cut from the end of `headers` */
	sl_store_fail_t fail;   /* first bad header inside the tip's range, if any */
	sl_store_err_t err;     /* why open returned NULL */
} sl_store_open_info_t;

typedef struct sl_store sl_store_t;

/* sl_store_open opens (creating if needed) the store in o->dir, crash-safe:
   the committed count comes from the tip record; every header below it is
   re-hashed, linkage-checked and passed to o->validate; the chain is cut at
   the first failure; any bytes past the kept chain (a tail beyond the tip,
   a torn partial header, an invalid tail) are truncated from the file and
   never served.  If the kept chain is shorter than what the view showed,
   the epoch moves and readers get a grace period before the file shrinks.
   Returns the store, or NULL with info->err set. */
sl_store_t *sl_store_open(const sl_store_opts_t *o, sl_store_open_info_t *info);

/* sl_store_close flushes nothing (uncommitted appends are lost), unmaps and
   closes.  The files stay valid for the next open.  NULL is a no-op. */
void sl_store_close(sl_store_t *s);

/* sl_store_append checks that hdrs[0..n) link to the current last header
   (committed or pending) and to each other, then buffers them for the next
   commit; all or nothing.  Chain rules are the caller's (validated before).
   Returns OK, LINKAGE or FULL (with *fail at the first bad height if
   fail != NULL), or NOMEM. */
sl_store_err_t sl_store_append(sl_store_t *s, const uint8_t *hdrs, uint32_t n,
                               sl_store_fail_t *fail);

/* sl_store_append_hashed is sl_store_append with the headers' hashes
   supplied by the caller (hashes[32 * i] = sha256d(hdrs[80 * i]), computed
   once where the headers entered) instead of computed with the store's
   hash function; NULL hashes: computed as sl_store_append does.  The
   linkage check and the index by hash use the supplied hashes: a wrong
   hash[i] makes header i + 1 (whose prev field is the real hash) fail as
   LINKAGE, so nothing is appended. */
sl_store_err_t sl_store_append_hashed(sl_store_t *s, const uint8_t *hdrs, const uint8_t *hashes,
                                      uint32_t n, sl_store_fail_t *fail);

/* sl_store_commit makes every pending header durable as one group: one
   pwrite of the group, one fdatasync of `headers`, then one tip slot write
   + fdatasync, then publishes the new count to readers.  No pending headers:
   OK and no I/O.  On IO error the pending group is kept (retry later). */
sl_store_err_t sl_store_commit(sl_store_t *s);

/* sl_store_reserve sizes the index by hash for `total` headers
   (capped at max_headers) now, so that appends up to there never grow
   it (header.import reserves its file's length once instead of
   rebuilding the index at every doubling).  When total passes the count
   it also starts the syncer thread (sl_store_commit_start), sizes the
   commit-group buffers and populates the fresh memory on a helper thread
   (sl_prefault.h), so that nothing on the owner's thread maps memory while
   that runs.  OK or NOMEM. */
sl_store_err_t sl_store_reserve(sl_store_t *s, uint32_t total);

/* A commit in two halves, so that its syncs run off the owner's thread
   (ctrl's header.import never stalls its loop on fdatasync).
   sl_store_commit_start hands the pending group to the store's syncer
   thread (started at the first commit_start, ended by close), which
   writes it and makes it durable (pwrite + fdatasync of `headers`, tip slot write +
   fdatasync); the group's buffer is handed to that thread (appends go on
   into a second one, so a sync never stalls them) and it touches only the
   files.  Until sl_store_commit_finish the group is not committed (readers
   do not see it, sl_store_committed has the old count; sl_store_get still
   finds its headers).  sl_store_commit_pending: the thread is still
   syncing.  sl_store_commit_finish waits for it (returns at once when no
   commit was started), then publishes the count as sl_store_commit does;
   IO: the group stays pending, ahead of what was appended since.  Every
   other writer call (commit, commit_start, reserve, truncate_to, close)
   finishes a started commit first, so callers that do not know about it
   stay correct (they may wait for its sync).  Owner thread only. */
sl_store_err_t sl_store_commit_start(sl_store_t *s);
bool sl_store_commit_pending(const sl_store_t *s);
sl_store_err_t sl_store_commit_finish(sl_store_t *s);

/* sl_store_truncate_to keeps heights 0..height and drops the rest (pending
   included) for a reorg: bumps the epoch (readers see the move), lowers the
   count, and makes the tip record durable before any later commit can
   overwrite the old branch in place.  The file is not shrunk.  height must
   be < count (committed + pending); height >= count is a no-op (OK). */
sl_store_err_t sl_store_truncate_to(sl_store_t *s, uint32_t height);

/* Counts: committed, and committed + pending (the next height to append). */
uint32_t sl_store_committed(const sl_store_t *s);
uint32_t sl_store_count(const sl_store_t *s);
/* sl_store_epoch is the chain epoch (even; +2 per truncation). */
uint64_t sl_store_epoch(const sl_store_t *s);

/* sl_store_get copies header `height` (committed or pending) into out and
   its hash into hash (either may be NULL).  Returns OK or BEYOND_TIP. */
sl_store_err_t sl_store_get(const sl_store_t *s, uint32_t height, uint8_t out[80],
                            uint8_t hash[32]);

/* sl_store_get_range copies up to n headers from `start` (committed or
   pending) into out; returns how many (0 if start >= count). */
uint32_t sl_store_get_range(const sl_store_t *s, uint32_t start, uint32_t n, uint8_t *out);

/* sl_store_find returns 1 and *height for a header hash on the current chain
   (committed or pending), else 0.  O(1) expected (open-addressing index). */
int sl_store_find(const sl_store_t *s, const uint8_t hash[32], uint32_t *height);

/* sl_store_export writes committed heights from..to (inclusive; to = UINT32_MAX
   means the tip) to `path` in SPEC §7 format (temp file + fsync + rename), so
   exporting an imported valid file gives the same bytes.  OK, ARG (range
   outside the chain) or IO. */
sl_store_err_t sl_store_export(const sl_store_t *s, const char *path, uint32_t from, uint32_t to);

/* sl_store_import reads a SPEC §7 file (height 0 first) and validates as it
   goes: heights already stored must match (else CONFLICT); new ones are
   linkage-checked, passed to v (NULL: linkage only), appended and committed
   in groups.  The valid prefix is committed even on failure; *fail names the
   first invalid height and why (a partial last header: TRUNCATED).
   *imported (may be NULL) counts the new headers committed. */
sl_store_err_t sl_store_import(sl_store_t *s, const char *path, sl_store_validate_fn v, void *ctx,
                               uint32_t *imported, sl_store_fail_t *fail);

/* Syscall counters (tests, stats): group-commit evidence. */
typedef struct {
	uint64_t commits;
	uint64_t data_syncs; /* fdatasync on `headers` */
	uint64_t tip_syncs;  /* fdatasync on `tip` */
	uint64_t headers_committed;
} sl_store_stats_t;
void sl_store_stats(const sl_store_t *s, sl_store_stats_t *out);

/* ---- read side (dataplane) --------------------------------------------- */

typedef struct sl_store_reader sl_store_reader_t;

/* sl_store_reader_open maps `dir`/view and `dir`/headers read-only (the
   headers map reserves the view's max_headers, so growth needs no remap).
   Returns NULL (and logs) if the store was never opened by a writer. */
sl_store_reader_t *sl_store_reader_open(const char *dir);
void sl_store_reader_close(sl_store_reader_t *r);

/* sl_store_reader_snapshot loads a consistent (count, epoch) pair. */
void sl_store_reader_snapshot(const sl_store_reader_t *r, uint32_t *count, uint64_t *epoch);

/* A read section, for callers that copy straight into frames: begin takes
   a (count, epoch) snapshot; ptr gives header `height` (< that count) in
   the map; end says whether everything read since begin belongs to one
   chain (1) or a truncation raced it and the copies must be dropped (0).
   No syscalls, no locks; any thread.  sl_store_reader_range is built on
   these. */
void sl_store_reader_begin(const sl_store_reader_t *r, uint32_t *count, uint64_t *epoch);
const uint8_t *sl_store_reader_ptr(const sl_store_reader_t *r, uint32_t height);
int sl_store_reader_end(const sl_store_reader_t *r, uint64_t epoch);

/* sl_store_reader_range copies up to n committed headers from `start` into
   out (n * 80 bytes) and returns how many (short at the tip), or
   -SL_STORE_ERR_BEYOND_TIP when start >= count, or -SL_STORE_ERR_EPOCH when a
   truncation moved the epoch during every one of a few attempts.  Never
   returns a copy that mixes two chains.  *epoch (may be NULL) gets the epoch
   the copy belongs to.  No syscalls, no locks; any thread. */
int sl_store_reader_range(const sl_store_reader_t *r, uint32_t start, uint32_t n, uint8_t *out,
                          uint64_t *epoch);

#endif /* SL_STORE_H */
