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
                    INVALID_HEADER, height and reason); sync is told.
     header.export  writes heights from..to of the chain to the file.
   import and export still run in one step on the ctrl loop (a 10,000
   header file takes ~10 ms).  Owner: the ctrl loop (single threaded). */
#ifndef SL_OPKIND_H
#define SL_OPKIND_H

#include "sl_base.h"
#include "sl_chainstore.h"
#include "sl_op.h"
#include "sl_peermgr.h"
#include "sl_sync.h"

#define SL_OPKIND_PATH_MAX 1024u /* longest import / export path */

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
} sl_opkind_import_t;

typedef struct {
	char path[SL_OPKIND_PATH_MAX];
	uint32_t from, to;
} sl_opkind_export_t;

/* The domain the kinds drive. */
typedef struct {
	sl_op_table_t *ops;
	sl_peermgr_t *pm;
	sl_sync_t *sync;
	sl_chainstore_t *cs;
} sl_opkind_t;

/* sl_opkind_init installs the kinds' hooks in ops and the connect hook in
   pm.  k must outlive them. */
void sl_opkind_init(sl_opkind_t *k, sl_op_table_t *ops, sl_peermgr_t *pm, sl_sync_t *sync,
                    sl_chainstore_t *cs);

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
