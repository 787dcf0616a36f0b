/* sl_book.h — ctrl's address book (SPEC §6, DESIGN.md "Control plane"):
   the addresses this node may dial, from [peers] bootstrap and from the
   PEERS answers the dataplane's discovery routines report — nothing else
   (an inbound session's source address, often an ephemeral port, is never
   added).  Bounded
   (SL_BOOK_MAX entries, deduplicated by ip:port); when full, the entry
   seen longest ago (bootstrap entries excepted) makes room.  Each entry
   carries a redial time: after a failed connect or a discovery-only close
   the address is not dialled again before it.

   The dialer asks sl_book_pick for the next address to dial (round robin,
   skipping ourselves, addresses in redial backoff and whatever the
   caller's predicate refuses: connected, banned).  sl_book_snapshot fills
   the region's GET_PEERS snapshot (sl_pbook).

   Owner: the ctrl loop.  Pure logic: no I/O, no clock (times are passed
   in), no allocation. */
#ifndef SL_BOOK_H
#define SL_BOOK_H

#include "sl_base.h"
#include "sl_pbook.h"

#define SL_BOOK_MAX 1024

#define SL_BOOK_F_BOOTSTRAP 1u /* from [peers] bootstrap: never evicted */

typedef struct {
	uint32_t ip; /* host order, 0: free */
	uint16_t port;
	uint16_t flags;      /* SL_BOOK_F_* */
	uint16_t wire_flags; /* the PEERS entry's flags, carried verbatim */
	uint16_t fails;      /* consecutive failed connects */
	uint32_t last_seen_unix;
	uint64_t redial_ns; /* not dialled before this */
	uint8_t node_id[32];
} sl_book_entry_t;

typedef struct {
	uint32_t self_ip; /* our dataplane's address: never added */
	uint16_t self_port;
	uint32_t n;
	uint32_t cursor;  /* round-robin position of sl_book_pick */
	uint64_t version; /* moves on every change (republish when it moved) */
	uint64_t rejected;
	sl_book_entry_t e[SL_BOOK_MAX];
} sl_book_t;

/* sl_book_init empties b. */
void sl_book_init(sl_book_t *b);

/* sl_book_set_self records our own dataplane address (dropped from the
   book if present, and never added or dialled). */
void sl_book_set_self(sl_book_t *b, uint32_t ip, uint16_t port);

/* sl_book_add adds or refreshes ip:port: an existing entry takes the
   newer last_seen and a non-zero node_id; a new one takes a free entry or
   evicts the least recently seen non-bootstrap entry.  `flags` are
   SL_BOOK_F_*, wire_flags the PEERS flags.  Returns 1 added, 0 refreshed,
   -1 refused (invalid address, ourselves, or full of bootstrap entries). */
int sl_book_add(sl_book_t *b, uint32_t ip, uint16_t port, uint16_t flags, uint16_t wire_flags,
                const uint8_t *node_id, uint32_t last_seen_unix);

/* sl_book_find returns ip:port's entry or NULL. */
sl_book_entry_t *sl_book_find(sl_book_t *b, uint32_t ip, uint16_t port);

/* sl_book_backoff keeps ip:port from being dialled before until_ns (a
   later time wins).  fail != 0 also counts a failed connect.  An address
   not in the book is left out: only [peers] bootstrap and PEERS entries
   are dialled, never a peer.connect target or an inbound peer's source. */
void sl_book_backoff(sl_book_t *b, uint32_t ip, uint16_t port, uint64_t until_ns, bool fail);

/* sl_book_connected clears the failure count of ip:port (a session came up). */
void sl_book_connected(sl_book_t *b, uint32_t ip, uint16_t port, uint32_t now_unix);

/* Predicate of sl_book_pick: true to skip ip:port (connected, banned, ...). */
typedef bool (*sl_book_skip_fn)(void *ctx, uint32_t ip, uint16_t port);

/* sl_book_pick returns the next entry to dial, round robin from where the
   last pick stopped: not ourselves, redial time passed at now_ns, and not
   refused by skip (may be NULL).  NULL when none qualifies. */
const sl_book_entry_t *sl_book_pick(sl_book_t *b, uint64_t now_ns, sl_book_skip_fn skip, void *ctx);

/* sl_book_snapshot writes up to `max` entries for GET_PEERS into out: the
   `n_first` entries given first (connected peers, already formatted), then
   book entries by last_seen, newest first, without repeating an address.
   Returns the number written. */
uint32_t sl_book_snapshot(const sl_book_t *b, const sl_pbook_peer_t *first, uint32_t n_first,
                          sl_pbook_peer_t *out, uint32_t max);

#endif /* SL_BOOK_H */
