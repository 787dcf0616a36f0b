/* sl_peers.h — ctrl's view of the dataplane's sessions, one entry per
   (lcore, slot) of the region's session tables (sl_msg.h: ctrl allocates
   session ids).  Fed by the admission decisions and by the events
   SESSION_UP / SESSION_DOWN / CONNECT_FAILED / LIVENESS / MISBEHAVIOR.

   A slot is free when it holds no session and the SESSION_DOWN of the last
   one was seen; only then is it handed out again.  States:
     FREE        nothing there
     INSTALLING  inbound: install (mode ACCEPT) sent, SESSION_UP not yet seen
     CONNECTING  outbound: install (mode CONNECT) sent, HELLO_ACK not yet seen
     UP          SESSION_UP seen
     CLOSING     teardown sent, or CONNECT_FAILED seen: SESSION_DOWN awaited
   Generations come from one process-wide counter (started at a random
   value, so a restarted ctrl does not repeat the ids it handed out before).

   Owner: the ctrl loop (single threaded).  Pure logic: no I/O, no clock
   (times passed in), no allocation (the caller owns the sl_peers_t, about
   3 MB: static or allocated once). */
#ifndef SL_PEERS_H
#define SL_PEERS_H

#include "sl_base.h"
#include "sl_msg.h"
#include "sl_session.h"

#define SL_PEERS_MAX (SL_MAX_LCORES * SL_SESSIONS_PER_LCORE)

typedef enum {
	SL_PEER_FREE = 0,
	SL_PEER_INSTALLING,
	SL_PEER_CONNECTING,
	SL_PEER_UP,
	SL_PEER_CLOSING,
	SL_PEER_STATE_CNT
} sl_peer_state_t;

/* Commands for the slot that the command queue answered RETRY for: ctrl
   sends them again on every tick until they are queued (never lost). */
#define SL_PEER_RESEND_INSTALL  1u
#define SL_PEER_RESEND_TEARDOWN 2u

typedef struct {
	uint8_t state;    /* sl_peer_state_t */
	uint8_t outbound; /* 1: we connected */
	uint8_t suspect;  /* LIVENESS said suspect, not yet up again */
	uint8_t resend;   /* SL_PEER_RESEND_* */
	uint32_t sid;     /* our session id (expected until SESSION_UP says) */
	uint32_t gen;     /* generation handed to sl_cmdq */
	uint32_t ip;      /* host order */
	uint16_t port;
	uint16_t connect_reason; /* CONNECT_FAILED reason (0: timeout) */
	uint32_t streams;        /* inbound: negotiated; outbound: offered until UP */
	uint32_t rtt_us;         /* from the latest LIVENESS event */
	uint32_t phi_milli;
	uint64_t since_ns;    /* allocation time, then SESSION_UP time */
	uint64_t deadline_ns; /* CONNECTING: connect deadline (ctrl's own guard) */
	uint64_t nonce;       /* inbound: the HELLO's; outbound: ours */
	uint64_t waiter;      /* token of whoever awaits the connect (0: none) */
	uint32_t misb_total;
	uint16_t misb_last; /* sl_misb_t */
	uint16_t exit_last; /* unused while live */
	uint32_t misb_kind[SL_MISB_CNT];
	sl_cmd_install_t install; /* the install command, resent as is */
	sl_cmd_teardown_t teardown;
	uint8_t node_id[32]; /* the peer's (outbound: known at SESSION_UP) */
} sl_peers_entry_t;

typedef struct {
	uint32_t n_lcores;    /* lcores the slots belong to */
	uint32_t gen_counter; /* process-wide; next generation = norm(++counter) */
	uint32_t n_live;      /* entries not FREE */
	uint32_t n_up;        /* entries UP */
	uint32_t n_resend;    /* entries with a command to resend */
	uint32_t n_free[SL_MAX_LCORES];
	uint32_t next_free[SL_MAX_LCORES]; /* round-robin search start per lcore */
	sl_peers_entry_t e[SL_PEERS_MAX];
} sl_peers_t;

/* sl_peers_init empties t for `n_lcores` lcores (1..SL_MAX_LCORES) and
   seeds the generation counter.  Returns 0, or -1 on a bad n_lcores. */
int sl_peers_init(sl_peers_t *t, uint32_t n_lcores, uint32_t gen_seed);

/* sl_peers_reset forgets every session (the dataplane restarted: the new
   region has none) and sets the lcore count again; the generation counter
   keeps counting.  Only the slots of those lcores are written (the rest
   are never read), so a table in fresh zeroed memory touches only the
   pages its lcores use.  Returns 0, or -1 on a bad n_lcores (t
   untouched). */
int sl_peers_reset(sl_peers_t *t, uint32_t n_lcores);

/* sl_peers_alloc takes a free slot of `lcore`, mints the next generation,
   and returns the entry in `state` (INSTALLING or CONNECTING) with sid,
   gen, ip, port, outbound and since_ns set and everything else zero; NULL
   when lcore is out of range or all its slots are taken.  The slot is
   chosen round-robin, so a slot just freed is not reused at once. */
sl_peers_entry_t *sl_peers_alloc(sl_peers_t *t, uint32_t lcore, sl_peer_state_t state, uint32_t ip,
                                 uint16_t port, uint64_t now_ns);

/* sl_peers_roomiest: the lcore with the most free slots (the lowest index
   among equals) — where an outbound session goes when the port's flow
   hash cannot tell which lcore its frames will reach (vdevs: af_packet's
   fanout, memif): sessions spread evenly, and the dataplane hands a frame
   that lands elsewhere to the owner (dataplane/sl_handoff.h). */
uint32_t sl_peers_roomiest(const sl_peers_t *t);

/* sl_peers_get returns the entry of (lcore, slot) whatever its state, or
   NULL when out of range. */
sl_peers_entry_t *sl_peers_get(sl_peers_t *t, uint32_t lcore, uint32_t slot);

/* sl_peers_by_sid returns the non-FREE entry whose session id is `sid`
   (exactly: a stale generation misses), or NULL. */
sl_peers_entry_t *sl_peers_by_sid(sl_peers_t *t, uint32_t sid);

/* sl_peers_lcore_of / sl_peers_slot_of: where an entry of t lives. */
uint32_t sl_peers_lcore_of(const sl_peers_t *t, const sl_peers_entry_t *p);
uint32_t sl_peers_slot_of(const sl_peers_t *t, const sl_peers_entry_t *p);

/* sl_peers_set_state moves p to `state` keeping the counters right.
   Moving to FREE clears the entry (the slot may be handed out again). */
void sl_peers_set_state(sl_peers_t *t, sl_peers_entry_t *p, sl_peer_state_t state);

/* sl_peers_up marks p UP with the SESSION_UP data: the dataplane's sid
   (it is the truth), streams, peer node_id, now_ns. */
void sl_peers_up(sl_peers_t *t, sl_peers_entry_t *p, uint32_t sid, uint32_t streams,
                 const uint8_t node_id[32], uint64_t now_ns);

/* sl_peers_adopt records a session ctrl did not install (one found live in
   the region at attach, e.g. after a ctrl restart) as UP in its slot.
   Returns the entry, or NULL if the slot is out of range or not FREE. */
sl_peers_entry_t *sl_peers_adopt(sl_peers_t *t, uint32_t sid, uint32_t ip, uint16_t port,
                                 uint32_t streams, const uint8_t node_id[32], uint64_t now_ns);

/* sl_peers_set_resend / sl_peers_clear_resend flag a command to send again. */
void sl_peers_set_resend(sl_peers_t *t, sl_peers_entry_t *p, uint8_t what);
void sl_peers_clear_resend(sl_peers_t *t, sl_peers_entry_t *p, uint8_t what);

/* sl_peers_misbehavior records one misbehaviour report of kind `kind`. */
void sl_peers_misbehavior(sl_peers_entry_t *p, uint16_t kind);

/* sl_peers_find_nonce returns the non-FREE entry on `lcore` with this
   peer node_id and nonce (an admitted HELLO's repeat), or NULL. */
sl_peers_entry_t *sl_peers_find_nonce(sl_peers_t *t, uint32_t lcore, const uint8_t node_id[32],
                                      uint64_t nonce);

/* sl_peers_count_outbound: entries we dialled that are CONNECTING or UP. */
uint32_t sl_peers_count_outbound(const sl_peers_t *t);

/* sl_peers_has_addr: some non-FREE entry talks to ip:port. */
bool sl_peers_has_addr(const sl_peers_t *t, uint32_t ip, uint16_t port);

/* sl_peers_state_str names a state ("up"); "?" out of range. */
const char *sl_peers_state_str(unsigned state);

#endif /* SL_PEERS_H */
