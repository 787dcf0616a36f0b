/* sl_peermgr.h — the peer manager: sluice-ctrl's side of sessions (issue 3): identity,
   admission, the peer table, the address book and the dialer, wired to
   the dataplane through the region (sl_msg.h is the contract).

   Events in (drained by sl_dplink, handed to sl_peermgr_event):
     HELLO          decode -> sl_admit_decide -> ACCEPT: a slot of the
                    receiving lcore + a generation, SESSION_INSTALL(ACCEPT);
                    a repeat resends the same install (same slot and gen);
                    REJECT: SL_CMD_REJECT with the reason and retry_after
     SESSION_UP     sl_admit_commit (inbound), peer UP, a waiting
                    peer.connect is answered with the peer object
     SESSION_DOWN   sl_admit_remove_session, the slot is free again
     CONNECT_FAILED the address backs off ([peers] redial_s or the peer's
                    retry_after, whichever is longer), peer.connect fails
     LIVENESS       suspect / up again, phi and RTT
     PEERS          validated addresses into the book
     MISBEHAVIOR    a per-peer record
   Commands out: install / teardown through sl_cmdq (RETRY: kept and sent
   again on the next tick, never lost; PARK_REQUIRED: cmd_park probe, then
   sl_cmdq_park), REJECT through sl_region_cmd_send (ring full: dropped and
   counted, the peer retries its HELLO).

   peer.connect errors (the API reply waits for the outcome):
     NOT_READY      node not ready (no dataplane, or not in `ready`)
     BAD_REQUEST    address invalid, or our own dataplane's
     BUSY           no free slot on lcore 0; or the peer answered REJECT
                    FULL / RATE_LIMITED / DUPLICATE / NOT_READY
     NOT_FOUND      the peer answered REJECT BANNED / VERSION /
                    CHAIN_MISMATCH / SELF / AUTH (no usable peer there)
     TIMEOUT        no answer before [peers] connect_timeout_ms
   The error object carries "reject_reason" (REJECT reason name) and
   "retry_after_s" when the peer rejected.
   peer.disconnect answers at once ({"session", "state":"closing"}): the
   teardown is queued; SESSION_DOWN follows and the slot frees then.
   peer.park answers at once ({"session", "parked": true}); peers and
   peer.show carry "hs_parked".

   Owner: the ctrl loop (single threaded). */
#ifndef SL_PEERMGR_H
#define SL_PEERMGR_H

#include <jansson.h>

#include "sl_admit.h"
#include "sl_base.h"
#include "sl_book.h"
#include "sl_cfg.h"
#include "sl_cmdq.h"
#include "sl_msg.h"
#include "sl_peers.h"
#include "sl_server.h"

/* Outbound connects have this much grace past their deadline before ctrl
   answers a waiting peer.connect TIMEOUT by itself (dataplane silent). */
#define SL_PEERMGR_CONNECT_GRACE_NS (5ULL * 1000000000ULL)
/* An accepted HELLO whose install never completes is forgotten after this. */
#define SL_PEERMGR_PENDING_NS       (30ULL * 1000000000ULL)
/* Most dials started per slow tick. */
#define SL_PEERMGR_DIALS_PER_TICK   4
/* Session ids remembered after their SESSION_DOWN (a second report of one
   of them is counted in down_repeated). */
#define SL_PEERMGR_DOWN_RECENT      1024

#define SL_PEERMGR_CNT_LIST(X)                                                                     \
	X(hello_rx, "hello_rx")                                                                    \
	X(hello_bad, "hello_bad") /* undecodable HELLO payloads, ignored */                        \
	X(accepts, "accepts")                                                                      \
	X(accept_repeats, "accept_repeats")                                                        \
	X(rejects, "rejects")                                                                      \
	X(reject_drops, "reject_drops") /* REJECT not sent: command ring full */                   \
	X(installs, "installs")                                                                    \
	X(cmd_retries, "cmd_retries") /* install / teardown answered RETRY */                      \
	X(cmd_invalid, "cmd_invalid")                                                              \
	X(cmd_parks, "cmd_parks")                                                                  \
	X(teardowns, "teardowns")                                                                  \
	X(connects, "connects")                                                                    \
	X(connect_failed, "connect_failed")                                                        \
	X(sessions_up, "sessions_up")                                                              \
	X(sessions_down, "sessions_down")                                                          \
	X(duplicates_closed, "duplicates_closed") /* a second session to one node closed */        \
	X(peer_restarts, "peer_restarts") /* old sessions closed: their peer said HELLO again */   \
	X(peers_rx, "peers_rx")           /* addresses reported by PEERS events */                 \
	X(events_stale, "events_stale")                                                            \
	X(book_publishes, "book_publishes")

typedef struct {
#define SL_PEERMGR_CNT_FIELD(f, s) uint64_t f;
	SL_PEERMGR_CNT_LIST(SL_PEERMGR_CNT_FIELD)
#undef SL_PEERMGR_CNT_FIELD
} sl_peermgr_cnt_t;

typedef struct sl_peermgr {
	const sl_cfg_t *cfg;
	sl_server_t *srv;    /* for deferred API replies */
	sl_region_t *region; /* attached region, NULL when detached */
	sl_cmdq_t cmdq;
	bool ready; /* admission gate, follows the region's life */
	bool shutting_down;
	uint8_t node_id[32];
	uint8_t chain_id[32];
	uint64_t next_slow_ns;
	sl_peermgr_cnt_t cnt;
	/* SESSION_DOWN by exit kind (sl_exit_t; an unknown value counts as
	   fault), first report of a session only; a later report of a session
	   id already down is counted in down_repeated instead ("exactly once"
	   says it stays 0).  down_recent: the last SL_PEERMGR_DOWN_RECENT ids. */
	uint64_t down_by_exit[SL_EXIT_CNT];
	uint64_t down_repeated;
	uint32_t down_recent[SL_PEERMGR_DOWN_RECENT];
	uint32_t down_recent_n; /* ids recorded so far (ring position: n % size) */
	sl_book_t book;
	sl_admit_t admit;
	sl_peers_t peers;
	/* Called when a session's header-sync service is parked (operator
	   park, or a command answered PARK_REQUIRED): header sync forgets it. */
	void (*hs_park)(void *ctx, uint32_t sid);
	void *hs_park_ctx;
} sl_peermgr_t;

/* sl_peermgr_init prepares n (detached): a random node_id, chain_id =
   genesis (wire order), admission from cfg, the book seeded with [peers]
   bootstrap.  Returns 0, or -1 with a log line (bad config ranges). */
int sl_peermgr_init(sl_peermgr_t *n, const sl_cfg_t *cfg, sl_server_t *srv,
                    const uint8_t genesis[32]);

/* sl_peermgr_attach runs when ctrl attached to a dataplane's region r:
   writes node_id / chain_id into the header, joins the command blocks,
   forgets every session of an earlier dataplane and adopts the sessions
   this one already has live.  Returns 0, or -1 (cmdq not joinable: the
   node stays detached and admits nothing). */
int sl_peermgr_attach(sl_peermgr_t *n, sl_region_t *r, uint64_t now_ns);

/* sl_peermgr_detach runs when the dataplane went away: every session is
   forgotten, waiting peer.connect calls fail NOT_READY. */
void sl_peermgr_detach(sl_peermgr_t *n);

/* sl_peermgr_event handles one event record from lcore m->lcore. */
void sl_peermgr_event(sl_peermgr_t *n, const sl_msg_t *m, uint64_t now_ns);

/* sl_peermgr_tick: admission gate, commands to resend, and once a second the
   sweep, the dialer, the published address book and connect guards. */
void sl_peermgr_tick(sl_peermgr_t *n, uint32_t life, uint64_t now_ns);

/* sl_peermgr_busy: work is in flight that events will answer soon (an
   install, connect or teardown not yet confirmed, or a command to resend):
   the ctrl loop keeps its fast tick while this holds. */
bool sl_peermgr_busy(const sl_peermgr_t *n);

/* sl_peermgr_set_shutting_down closes the admission gate for good. */
void sl_peermgr_set_shutting_down(sl_peermgr_t *n);

/* ---- API --------------------------------------------------------------- */

/* An API failure: code (SPEC §9) and message; NULL code = success. */
typedef struct {
	const char *code;
	char message[200];
	json_t *extra; /* fields merged into the error object, or NULL */
} sl_peermgr_err_t;

/* sl_peermgr_peers_json: the `peers` result (array, one object per session
   that is not free). */
json_t *sl_peermgr_peers_json(sl_peermgr_t *n, uint64_t now_ns);

/* sl_peermgr_peer_show: `peer.show {session}`; NULL with NOT_FOUND. */
json_t *sl_peermgr_peer_show(sl_peermgr_t *n, uint32_t sid, uint64_t now_ns, sl_peermgr_err_t *err);

/* sl_peermgr_connect starts an outbound connect to ip:port.  waiter is the
   API client (sl_server_defer's serial, 0: none, e.g. the dialer) and
   waiter_id its request id: the reply is sent when the connect ends.
   Returns 0 (started), or -1 with *err set (nothing started, the caller
   answers at once). */
int sl_peermgr_connect(sl_peermgr_t *n, uint32_t ip, uint16_t port, uint64_t waiter,
                       uint64_t waiter_id, uint64_t now_ns, sl_peermgr_err_t *err);

/* sl_peermgr_disconnect tears session sid down (GOODBYE ADMIN, exit CANCEL).
   Returns 0, or -1 NOT_FOUND. */
int sl_peermgr_disconnect(sl_peermgr_t *n, uint32_t sid, sl_peermgr_err_t *err);

/* sl_peermgr_park parks session sid's header-sync service (sl_cmdq_park, the
   path PARK_REQUIRED takes; cmd_park probe, cmd_parks counter): the
   dataplane drops its header-sync state and its stream-5 frames, the
   session and its other streams stay; a reconnect (new generation) is not
   parked.  Parking a parked service is a no-op.  Returns 0, or -1 with
   NOT_FOUND (no live session) or BAD_REQUEST (stream 5 not negotiated). */
int sl_peermgr_park(sl_peermgr_t *n, uint32_t sid, sl_peermgr_err_t *err);

/* sl_peermgr_ban bans ip for seconds (0: until unbanned) and tears down every
   session with that address; returns the sessions torn down, or -1 with
   *err (BUSY: ban table full, BAD_REQUEST: ip 0). */
int sl_peermgr_ban(sl_peermgr_t *n, uint32_t ip, uint32_t seconds, uint64_t now_ns,
                   sl_peermgr_err_t *err);

/* sl_peermgr_unban lifts ip's ban: 0, or -1 NOT_FOUND. */
int sl_peermgr_unban(sl_peermgr_t *n, uint32_t ip, sl_peermgr_err_t *err);

/* sl_peermgr_counters_json: sl_peermgr_cnt_t plus book and table sizes, and
   down_by_exit {normal, cancel, ...} (sl_exit_str names), down_total (their
   sum) and down_repeated. */
json_t *sl_peermgr_counters_json(const sl_peermgr_t *n);

/* sl_peermgr_live: sessions UP (status.peers). */
uint32_t sl_peermgr_live(const sl_peermgr_t *n);

#endif /* SL_PEERMGR_H */
