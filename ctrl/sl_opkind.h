/* sl_opkind.h — the op kinds of sluice-ctrl (SPEC.md §9 "Operations"): what
   sync.start, peer.connect, header.import and header.export do as
   operations over the domain (sl_sync, sl_peermgr, sl_chainstore).  The
   middle layer: the face starts an op in the op table (sl_op.h), then
   hands it to its kind here; the kind drives it to its end through
   sl_op_end, by itself or when the domain change it awaits happens.

   Each kind keeps its arguments, progress and result in the op's kst (the
   structs below; sl_opkind_<kind>_of reads them):
     sync.start     sets (or, without to_height, clears) sync's target; ends
                    when the committed tip reaches to_height, or without it
                    the best tip a peer claimed when it started (at once if
                    the tip is there already).  No default deadline.
     peer.connect   sl_peermgr_connect with the op's tx as token; ends on the
                    peer manager's connect_end (the peer, or its error); a
                    cancel or deadline abandons the connect (torn down).
     header.import  imports the file into the chain (the valid prefix is
                    committed; the first invalid header fails it with
                    INVALID_HEADER, height and reason); sync is told after
                    every slice that committed headers.
     header.export  writes heights from..to of the chain to the file
                    (temp file, then rename) through a stream of the
                    store's read path (sl_storeread): it waits for a stream
                    permit (none within 5 s: BUSY), reads with
                    sl_storeread_stream_read (REORGED: the chain moved under
                    it, INTERNAL) and closes the stream on every path.
                    Without a read path (unit tests) it is one
                    sl_chainstore_export.
   import and export never stall the loop (SPEC §9): they run in slices of
   at most SL_OPKIND_SLICE_NS from their op's step (an import's group
   commit syncs on a thread of the store, sl_store_commit_start; its slice
   ends while that runs, and a cancel waits for it) (every sl_op_tick; the
   first slice at once, so a small file ends before the start returns);
   progress (done of total headers) is in the kind state and reported
   through sl_op_progress at most every SL_OPKIND_NOTE_NS; cancel and
   deadline close the file (and the stream).  The loop keeps its fast tick
   while sl_opkind_busy.  Owner: the ctrl loop (single threaded). */
#ifndef SL_OPKIND_H
#define SL_OPKIND_H

#include "sl_base.h"
#include "sl_chainstore.h"
#include "sl_op.h"
#include "sl_peermgr.h"
#include "sl_storeread.h"
#include "sl_sync.h"

#define SL_OPKIND_PATH_MAX    1024u                 /* longest import / export path */
#define SL_OPKIND_SLICE_NS    (2ULL * 1000000ULL)   /* import / export work per step */
#define SL_OPKIND_NOTE_NS     (250ULL * 1000000ULL) /* progress notices at most this often */
#define SL_OPKIND_IMPORT_STEP 250u                  /* headers judged per import step */
#define SL_OPKIND_EXPORT_STEP 4096u                 /* headers copied per export step */

typedef struct {
	uint32_t to_height; /* SL_REACTOR_NO_TARGET: none given */
	uint32_t goal;      /* the height it waits for */
	uint32_t start_tip;
	sl_chainstore_tip_t tip; /* the result: the tip reached */
	uint32_t headers;        /* ... and how far it moved */
	double seconds;
} sl_opkind_sync_t;

typedef struct {
	uint32_t ip;
	uint16_t port;
	uint32_t sid; /* the session it set up, 0 before */
	const char *reject_reason;
	uint32_t retry_after_s;
	sl_peermgr_view_t peer; /* the result */
} sl_opkind_connect_t;

typedef struct {
	char path[SL_OPKIND_PATH_MAX];
	uint32_t imported;
	uint32_t fail_height; /* INVALID_HEADER: where, and why */
	const char *fail_reason;
	sl_chainstore_tip_t tip;
	uint32_t done, total; /* progress: file headers judged, in the file */
	uint64_t note_ns;     /* last progress notice */
	uint64_t next_ns;     /* no slice before (the loop idles 2/3 of the time) */
	bool open;            /* imp holds the file */
	sl_chainstore_import_t imp;
} sl_opkind_import_t;

typedef struct {
	char path[SL_OPKIND_PATH_MAX];
	uint32_t from, to;
	uint32_t done, total; /* progress: headers written, to write */
	uint64_t note_ns;
	int fd;         /* the temp file while running, else -1 */
	bool waiting;   /* for its stream permit */
	bool streaming; /* holds `stream` */
	sl_storeread_stream_t stream;
} sl_opkind_export_t;

/* The domain the kinds drive. */
typedef struct {
	sl_op_table_t *ops;
	sl_peermgr_t *pm;
	sl_sync_t *sync;
	sl_chainstore_t *cs;
	sl_storeread_t *sr; /* the store's read path; NULL: export in one go */
	uint32_t n_sliced;  /* imports and exports running */
} sl_opkind_t;

/* sl_opkind_init installs the kinds' hooks in ops and the connect hook in
   pm.  k must outlive them. */
void sl_opkind_init(sl_opkind_t *k, sl_op_table_t *ops, sl_peermgr_t *pm, sl_sync_t *sync,
                    sl_chainstore_t *cs);

/* sl_opkind_set_storeread gives export its read path (NULL: none). */
void sl_opkind_set_storeread(sl_opkind_t *k, sl_storeread_t *sr);

/* sl_opkind_storeread_done takes a read-path completion whose cookie is an
   op's tx (an export's stream permit); others are ignored (a granted
   stream nobody waits for is closed).  Returns true if an op took it. */
bool sl_opkind_storeread_done(sl_opkind_t *k, const sl_storeread_done_t *d);

/* sl_opkind_busy: an import or export is running (keep the fast tick). */
bool sl_opkind_busy(const sl_opkind_t *k);

/* Start the kind's work on op (fresh from sl_op_start with that kind).
   Each may end op before it returns (an error found at once, or work that
   took one step): check op->state after. */
void sl_opkind_sync_start(sl_opkind_t *k, sl_op_t *op, uint32_t to_height);
void sl_opkind_peer_connect(sl_opkind_t *k, sl_op_t *op, uint32_t ip, uint16_t port);
void sl_opkind_header_import(sl_opkind_t *k, sl_op_t *op, const char *path);
void sl_opkind_header_export(sl_opkind_t *k, sl_op_t *op, const char *path, uint32_t from,
                             uint32_t to);

static inline sl_opkind_sync_t *sl_opkind_sync_of(const sl_op_t *op)
{
	return (sl_opkind_sync_t *)(uintptr_t)op->kst;
}
static inline sl_opkind_connect_t *sl_opkind_connect_of(const sl_op_t *op)
{
	return (sl_opkind_connect_t *)(uintptr_t)op->kst;
}
static inline sl_opkind_import_t *sl_opkind_import_of(const sl_op_t *op)
{
	return (sl_opkind_import_t *)(uintptr_t)op->kst;
}
static inline sl_opkind_export_t *sl_opkind_export_of(const sl_op_t *op)
{
	return (sl_opkind_export_t *)(uintptr_t)op->kst;
}

#endif /* SL_OPKIND_H */
