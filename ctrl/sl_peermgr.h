/* sl_peermgr.h — the peer manager: sluice-ctrl's side of sessions (issue 3): identity,
   admission, the peer table, the address book and the dialer, wired to
   the dataplane through the region (sl_msg.h is the contract).

   Events in (drained by sl_dplink, handed to sl_peermgr_event):
     HELLO          decode -> sl_admit_decide -> ACCEPT: a slot of the
                    receiving lcore + a generation, SESSION_INSTALL(ACCEPT);
                    a repeat resends the same install (same slot and gen);
                    REJECT: SL_CMD_REJECT with the reason and retry_after;
                    an unproven session the decision evicted is closed
                    without GOODBYE (its address may be forged)
     SESSION_UP     sl_admit_commit (inbound), peer UP, an awaited
                    connect ends (the connect_end hook, with the peer)
     SESSION_PROVEN sl_admit_prove: the inbound peer leaves the unproven
                    pool (max_peers already proven: closed, GOODBYE ADMIN)
     SESSION_DOWN   sl_admit_remove_session, the slot is free again
     CONNECT_FAILED the address backs off ([peers] redial_s or the peer's
                    retry_after, whichever is longer), an awaited connect
                    ends failed
     LIVENESS       suspect / up again, phi and RTT
     PEERS          validated addresses into the book
     MISBEHAVIOR    a per-peer record
   Commands out: install / teardown through sl_cmdq (RETRY: kept and sent
   again on the next tick, never lost; PARK_REQUIRED: cmd_park probe, then
   sl_cmdq_park), REJECT through the command ring (sl_msgq_send) (ring full: dropped and
   counted, the peer retries its HELLO).

   Connect outcomes (sl_peermgr_connect, then the connect_end hook with the
   caller's token; the codes are what `peer.connect` answers):
     NOT_READY      node not ready (no dataplane, or not in `ready`)
     BAD_REQUEST    address invalid, or our own dataplane's
     BUSY           no free slot on lcore 0; a session this node dialled
                    to that address is connecting or up already; or the
                    peer answered REJECT FULL / RATE_LIMITED / DUPLICATE /
                    NOT_READY
     NOT_FOUND      the peer answered REJECT BANNED / VERSION /
                    CHAIN_MISMATCH / SELF / AUTH (no usable peer there)
     TIMEOUT        no answer before [peers] connect_timeout_ms
   A refused connect names the REJECT reason and the peer's retry_after.
   disconnect queues the teardown; SESSION_DOWN follows and the slot frees
   then.  park acts at once; every view carries hs_parked.

   Domain code: C structs and enums in and out (sl_code.h codes), no JSON,
   no socket.  Owner: the ctrl loop (single threaded). */
#ifndef SL_PEERMGR_H
#define SL_PEERMGR_H

#include "sl_admit.h"
#include "sl_auth.h"
#include "sl_base.h"
#include "sl_book.h"
#include "sl_cfg.h"
#include "sl_cmdq.h"
#include "sl_code.h"
#include "sl_msg.h"
#include "sl_pbook.h"
#include "sl_peers.h"
#include "sl_score.h"
#include "sl_region.h"

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
	X(hello_bad, "hello_bad")       /* undecodable HELLO payloads, ignored */                  \
	X(auth_rejects, "auth_rejects") /* HELLOs refused REJECT(AUTH) (mode, allowlist, sig) */   \
	X(auth_closed, "auth_closed")   /* sessions we dialled closed: node_id not allowed */      \
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
	X(book_publishes, "book_publishes")                                                        \
	X(auto_bans, "auto_bans") /* addresses banned for their misbehaviour score */              \
	X(proven, "proven")       /* inbound sessions whose peer sent a valid frame */             \
	X(unproven_evicted, "unproven_evicted") /* unproven sessions closed for a newer HELLO */   \
	X(unproven_full, "unproven_full")       /* proven with max_peers proven peers: closed */

typedef struct {
#define SL_PEERMGR_CNT_FIELD(f, s) uint64_t f;
	SL_PEERMGR_CNT_LIST(SL_PEERMGR_CNT_FIELD)
#undef SL_PEERMGR_CNT_FIELD
} sl_peermgr_cnt_t;

struct sl_peermgr_connect_end;
struct sl_peermgr_note;

typedef struct sl_peermgr {
	const sl_cfg_t *cfg;
	sl_region_t *region; /* attached region, NULL when detached */
	sl_pbook_t *pbook;   /* its peer book, joined at attach */
	sl_cmdq_t cmdq;
	bool ready; /* admission gate, follows the region's life */
	bool shutting_down;
	sl_auth_id_t id; /* identity: node_id = id.pk (SPEC §8 signs with id.sk) */
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
	sl_score_t score; /* misbehaviour per address: past ban_score, banned */
	sl_peers_t peers;
	/* Called when an awaited connect ends (sl_peermgr_set_connect_hook). */
	void (*connect_end)(void *ctx, uint64_t token, const struct sl_peermgr_connect_end *e);
	void *connect_end_ctx;
	/* Called when a session's header-sync service is parked (operator
	   park, or a command answered PARK_REQUIRED): header sync forgets it. */
	void (*hs_park)(void *ctx, uint32_t sid);
	void *hs_park_ctx;
	/* Told of sessions going up and down and of misbehaviour
	   (sl_peermgr_set_note_hook). */
	void (*note)(void *ctx, const struct sl_peermgr_note *e);
	void *note_ctx;
} sl_peermgr_t;

/* sl_peermgr_init prepares n (detached): the node's identity `id` (its
   public key is the node_id; NULL: a fresh random identity that lives as
   long as n), chain_id = genesis (wire order), admission from cfg, the
   book seeded with [peers] bootstrap.  Returns 0, or -1 with a log line
   (bad config ranges). */
int sl_peermgr_init(sl_peermgr_t *n, const sl_cfg_t *cfg, const uint8_t genesis[32],
                    const sl_auth_id_t *id);

/* sl_peermgr_fini gives back what sl_peermgr_init took (the admission
   tables); n (detached) may then be initialized again. */
void sl_peermgr_fini(sl_peermgr_t *n);

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

/* ---- calls ------------------------------------------------------------- */

/* Why a call failed: code, message, and for a refused connect the REJECT
   reason's name and the peer's retry_after (reject_reason NULL: none). */
typedef struct {
	sl_code_t code;
	char message[200];
	const char *reject_reason;
	uint32_t retry_after_s;
} sl_peermgr_err_t;

/* One session as `peers` shows it. */
typedef struct {
	uint32_t sid;
	uint32_t ip;
	uint16_t port;
	bool outbound;
	bool hs_parked;
	const char *state; /* "connecting" | "up" | "suspect" | "closing" */
	uint8_t node_id[32];
	uint32_t streams; /* bit n: stream n */
	uint32_t rtt_us;
	uint64_t since_s;
	uint32_t misbehavior;
} sl_peermgr_view_t;

/* One session as `peer.show` shows it: the view and the details. */
typedef struct {
	sl_peermgr_view_t v;
	uint32_t lcore, slot, generation, remote_session;
	bool suspect;
	bool live; /* in the dataplane's session table now (info valid) */
	double phi;
	uint16_t misb_last;
	uint32_t misb_kind[SL_MISB_CNT];
	sl_session_info_t info;
} sl_peermgr_detail_t;

/* The outcome of an awaited connect, for the connect_end hook: code
   SL_CODE_OK with the peer's view, or the error. */
typedef struct sl_peermgr_connect_end {
	uint32_t sid;
	sl_peermgr_err_t err;
	sl_peermgr_view_t peer;
} sl_peermgr_connect_end_t;

typedef void (*sl_peermgr_connect_end_fn)(void *ctx, uint64_t token,
                                          const sl_peermgr_connect_end_t *e);

/* sl_peermgr_set_connect_hook: fn gets every end of a connect started with
   a token (once per connect). */
void sl_peermgr_set_connect_hook(sl_peermgr_t *n, sl_peermgr_connect_end_fn fn, void *ctx);

/* What the note hook is told (watch topics `peers`, `misbehavior`). */
typedef enum {
	SL_PEERMGR_NOTE_UP = 1,      /* a session came up */
	SL_PEERMGR_NOTE_DOWN,        /* a session ended; reason = its exit kind */
	SL_PEERMGR_NOTE_MISBEHAVIOR, /* a session's misbehaviour was recorded */
} sl_peermgr_note_kind_t;

typedef struct sl_peermgr_note {
	sl_peermgr_note_kind_t kind;
	uint32_t sid;
	uint32_t ip;
	uint16_t port;
	const char *reason; /* DOWN: sl_exit_str of its exit kind */
	uint16_t misb;      /* MISBEHAVIOR: the sl_misb kind */
} sl_peermgr_note_t;

typedef void (*sl_peermgr_note_fn)(void *ctx, const sl_peermgr_note_t *e);

/* sl_peermgr_set_note_hook: fn (NULL: none) is told of every session up,
   session down and recorded misbehaviour, on the loop, after the peer
   manager's own bookkeeping. */
void sl_peermgr_set_note_hook(sl_peermgr_t *n, sl_peermgr_note_fn fn, void *ctx);

/* sl_peermgr_misbehavior records misbehaviour `kind` (sl_misb) of session
   sid (header sync's record-only BAD_DATA) and tells the note hook.
   Unknown sid: nothing. */
void sl_peermgr_misbehavior(sl_peermgr_t *n, uint32_t sid, uint16_t kind);

/* sl_peermgr_next walks the sessions that are not free: pass cursor 0
   first, then the value returned; returns 0 after the last, else fills
   *out. */
uint32_t sl_peermgr_next(sl_peermgr_t *n, uint32_t cursor, uint64_t now_ns, sl_peermgr_view_t *out);

/* sl_peermgr_show fills *out for session sid: 0, or -1 NOT_FOUND. */
int sl_peermgr_show(sl_peermgr_t *n, uint32_t sid, uint64_t now_ns, sl_peermgr_detail_t *out,
                    sl_peermgr_err_t *err);

/* sl_peermgr_connect starts an outbound connect to ip:port.  token (0:
   none, e.g. the dialer) is handed back to the connect_end hook when the
   connect ends.  Returns 0 with *sid set (started), or -1 with *err set
   (nothing started, no hook call). */
int sl_peermgr_connect(sl_peermgr_t *n, uint32_t ip, uint16_t port, uint64_t token, uint64_t now_ns,
                       uint32_t *sid, sl_peermgr_err_t *err);

/* sl_peermgr_connect_abandon: whoever awaited token's connect of session
   sid no longer does (its op was cancelled or timed out): no hook call
   follows, and a connect still under way is torn down. */
void sl_peermgr_connect_abandon(sl_peermgr_t *n, uint32_t sid, uint64_t token);

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

/* The peer manager's counters as `stats` shows them under "sessions". */
typedef struct {
	sl_peermgr_cnt_t cnt;
	uint32_t sessions_live, slots_used, admitted, unproven, book_entries;
	uint64_t book_rejected;
	uint64_t down_by_exit[SL_EXIT_CNT]; /* by sl_exit_str name */
	uint64_t down_total, down_repeated;
} sl_peermgr_stats_t;

/* sl_peermgr_stats fills *out. */
void sl_peermgr_stats(const sl_peermgr_t *n, sl_peermgr_stats_t *out);

/* sl_peermgr_live: sessions UP (status.peers). */
uint32_t sl_peermgr_live(const sl_peermgr_t *n);

#endif /* SL_PEERMGR_H */
