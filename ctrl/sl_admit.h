/* sl_admit.h — ctrl's admission policy (DESIGN.md "Admission", SPEC §4).
   A HELLO reaches ctrl as an event; sl_admit_decide answers ACCEPT (with
   the negotiated streams and the owning lcore) or REJECT (a SPEC reason and
   retry_after_s).  ctrl then sends the install command and, when the
   dataplane reports the session installed, calls sl_admit_commit; when the
   install fails or the session goes down it calls sl_admit_remove /
   sl_admit_remove_session.

   Owned by the ctrl thread that handles admission: no locks, no atomics.
   Pure logic: no I/O, no clock (time is passed in as ns, one monotonic
   origin), one allocation: sl_admit_init maps the tables (a few MB of
   zero pages, touched as peers arrive) and sl_admit_fini unmaps them;
   nothing grows after init.  Everything is
   fixed capacity: SL_ADMIT_PEERS_MAX peers (SL_SESSIONS_PER_LCORE ×
   SL_MAX_LCORES), SL_ADMIT_BANS_MAX bans, SL_ADMIT_ALLOW_MAX allowlisted
   node ids, SL_ADMIT_NONCES_MAX outstanding outbound nonces and an
   SL_ADMIT_CACHE_SIZE decision cache.  Lookups by node id, session id and
   address go through keyed hash indexes (O(1) expected).

   Order of checks for a fresh HELLO (the first that fails decides):
     0. repeat    same (node_id, nonce) answered less than 10 s ago → the
                  same answer again, whatever changed since (SPEC §4);
     1. NOT_READY lifecycle is not `ready`;
     2. BANNED    the source address has a live ban;
     3. RATE_LIMITED the source address is over the ctrl-level HELLO rate;
     4. VERSION   [proto_min, proto_max] does not overlap ours (1..1);
     5. CHAIN_MISMATCH chain_id is not ours;
     6. SELF      node_id is ours, or nonce is one of our outbound HELLOs;
     7. AUTH      auth_mode SPEC does not define; mode 1 with auth off;
                  mode 0 with auth required; an allowlist is set and
                  node_id is not on it; mode 1 whose signature (SPEC §8,
                  by node_id over the ephemeral key and nonce) is bad —
                  checked last, it is the one expensive check;
     8. DUPLICATE node_id is already admitted (pending install or up) —
                  unless that admission is an UNPROVEN one: it is evicted
                  and the HELLO judged on (a HELLO replayed from another
                  address cannot lock the real node out);
     9. FULL      max_peers proven peers, or the source address already
                  holds max_per_addr sessions; the lcore's capacity or
                  max_unproven reached with no unproven peer to evict.
   An ACCEPT reserves the peer at once (state PENDING) so capacity,
   per-address and duplicate checks count it before the install finishes.

   Proven admission (issue 12's handshake flood): a HELLO's source address
   can be forged, so an inbound peer starts UNPROVEN and becomes proven
   (sl_admit_prove) when the dataplane reports its first valid frame on the
   session — which needs our HELLO_ACK, sent to that address.  Unproven
   peers do not count against max_peers; they have their own pool,
   max_unproven, kept in install order (sl_admit_commit: the HELLO_ACK
   goes out then, so each peer's time in the pool starts when it can
   answer): when the pool or the lcore is full, the oldest unproven UP
   peer is evicted (decision.evict names its session for the caller to
   close) to make room (one the dataplane already heard from is proven
   instead: sl_admit_set_heard), so a flood of valid-looking
   HELLOs from forged addresses churns the pool while an honest peer, which
   answers within a round trip, proves itself and leaves it.
   Sessions that did not come through a HELLO here (the ones we dialled,
   once up; the ones found live after a ctrl restart) are registered with
   sl_admit_adopt, so a later HELLO from the same node is DUPLICATE and
   they count against capacity too. */
#ifndef SL_ADMIT_H
#define SL_ADMIT_H

#include "sl_base.h"
#include "sl_cfg.h"
#include "sl_ratelimit.h"
#include "sl_wire.h"

#define SL_ADMIT_PEERS_MAX   (SL_SESSIONS_PER_LCORE * SL_MAX_LCORES)
#define SL_ADMIT_IDX_SIZE    (2 * SL_ADMIT_PEERS_MAX) /* hash index slots, load <= 1/2 */
#define SL_ADMIT_BANS_MAX    1024
#define SL_ADMIT_ALLOW_MAX   256
#define SL_ADMIT_NONCES_MAX  64
#define SL_ADMIT_CACHE_SIZE  1024 /* remembered decisions (power of two) */
#define SL_ADMIT_CACHE_PROBE 8

#define SL_ADMIT_PROTO_MIN 1 /* protocol versions we speak */
#define SL_ADMIT_PROTO_MAX 1

#define SL_ADMIT_REPEAT_NS (10ULL * 1000000000ULL) /* SPEC §4 idempotency window */

/* retry_after_s sent with each reason (BANNED: the ban's remaining time;
   RATE_LIMITED: the limiter's wait, at least 1 s). */
#define SL_ADMIT_RETRY_NOT_READY 5
#define SL_ADMIT_RETRY_DUPLICATE 10
#define SL_ADMIT_RETRY_FULL      30
#define SL_ADMIT_RETRY_PERMANENT 0 /* VERSION, CHAIN_MISMATCH, SELF, AUTH */

_Static_assert(SL_IS_POW2(SL_ADMIT_IDX_SIZE), "SL_ADMIT_IDX_SIZE must be a power of two");
_Static_assert(SL_IS_POW2(SL_ADMIT_CACHE_SIZE), "SL_ADMIT_CACHE_SIZE must be a power of two");
_Static_assert(SL_ADMIT_PEERS_MAX <= UINT32_MAX / 4, "peer index overflows");

/* X(ENUM_SUFFIX, "name"): why a call other than decide did not happen. */
#define SL_ADMIT_ERR_LIST(X)                                                                       \
	X(OK, "ok")                                                                                \
	X(ARG, "arg")             /* argument out of range */                                      \
	X(FULL, "full")           /* a fixed-capacity table is full */                             \
	X(NOT_FOUND, "not_found") /* no such peer / ban / nonce */                                 \
	X(STATE, "state")         /* peer not in the state the call needs */                       \
	X(NOMEM, "nomem")         /* the tables could not be mapped */

/* clang-format off */
typedef enum sl_admit_err {
#define SL_ADMIT_ERR_ENUM(e, s) SL_ADMIT_ERR_##e,
	SL_ADMIT_ERR_LIST(SL_ADMIT_ERR_ENUM)
#undef SL_ADMIT_ERR_ENUM
	SL_ADMIT_ERR_CNT
} sl_admit_err_t;
/* clang-format on */

#define SL_ADMIT_OK SL_ADMIT_ERR_OK

/* sl_admit_err_str names an error ("full"); "?" when out of range. */
const char *sl_admit_err_str(sl_admit_err_t err);

/* sl_admit_reason_str names a SPEC §4 REJECT reason ("banned"); "?" if
   unknown. */
const char *sl_admit_reason_str(uint16_t reason);

typedef struct {
	uint8_t chain_id[SL_WIRE_HASH_LEN]; /* genesis hash of our chain profile */
	uint8_t node_id[SL_WIRE_HASH_LEN];  /* ours */
	uint32_t streams;                   /* streams we offer; bit 0 is forced on */
	uint32_t max_peers;                 /* proven peers, 1..SL_ADMIT_PEERS_MAX */
	uint32_t max_unproven;              /* unproven inbound peers, 1..SL_ADMIT_PEERS_MAX */
	uint32_t n_lcores;                  /* worker lcores, 1..SL_MAX_LCORES */
	uint32_t max_per_lcore;             /* 1..SL_SESSIONS_PER_LCORE */
	uint32_t max_per_addr;              /* sessions from one IPv4, >= 1 */
	sl_cfg_auth_t auth;                 /* [admission] auth: which auth_modes are admitted */
	uint32_t hello_rate_per_s;          /* ctrl-level HELLO rate per address */
	uint32_t hello_burst;               /*   and its burst (sl_ratelimit_init ranges) */
	uint64_t hash_seed;                 /* keys every hash (random per process) */
} sl_admit_cfg_t;

/* Whether the dataplane has accepted a frame on our session `session`
   (sl_admit_set_heard). */
typedef bool (*sl_admit_heard_fn)(void *ctx, uint32_t session);

typedef enum {
	SL_ADMIT_PEER_FREE = 0,
	SL_ADMIT_PEER_PENDING = 1, /* accepted, install not yet confirmed */
	SL_ADMIT_PEER_UP = 2,      /* committed: the session exists */
} sl_admit_peer_state_t;

typedef struct {
	uint8_t node_id[SL_WIRE_HASH_LEN];
	uint64_t nonce;    /* of the HELLO that admitted it */
	uint64_t since_ns; /* accept time */
	uint32_t ip;       /* host order */
	uint16_t port;
	uint16_t lcore;
	uint32_t session; /* our session id; 0 while PENDING */
	uint32_t streams; /* negotiated */
	uint8_t state;    /* sl_admit_peer_state_t */
	uint8_t outbound; /* adopted as a session we dialled */
	uint8_t proven;   /* 0: inbound, no frame from it yet (on the unproven list) */
	uint32_t older;   /* unproven list: the peer index + 1 accepted before it, 0 none */
	uint32_t newer;   /*   and after it */
} sl_admit_peer_t;

typedef struct {
	uint32_t ip;
	uint64_t until_ns; /* UINT64_MAX: until unbanned */
} sl_admit_ban_t;

typedef enum { SL_ADMIT_ACCEPT = 0, SL_ADMIT_REJECT = 1 } sl_admit_verdict_t;

typedef struct {
	uint8_t verdict;        /* sl_admit_verdict_t */
	bool repeat;            /* answered from the 10 s cache: send it again, install nothing */
	uint16_t reason;        /* SL_WIRE_REJECT_* when REJECT, else 0 */
	uint16_t retry_after_s; /* when REJECT */
	uint16_t lcore;         /* ACCEPT: the lcore that owns the session */
	uint32_t streams;       /* ACCEPT: offered & ours, bit 0 always set */
	uint32_t session;       /* ACCEPT: our session id once committed, else 0 */
	uint32_t evict;         /* fresh answer (ACCEPT or REJECT): an unproven session
	                           it displaced, already forgotten here (the caller
	                           closes it), else 0 */
} sl_admit_decision_t;

/* One remembered answer (internal; public for the struct's size). */
typedef struct {
	uint8_t node_id[SL_WIRE_HASH_LEN];
	uint64_t nonce;
	uint64_t expires_ns; /* 0: free */
	sl_admit_decision_t d;
} sl_admit_cache_t;

/* A hash index slot: peer index + 1 (0: empty) under a 64-bit key hash. */
typedef struct {
	uint64_t h;
	uint32_t ref;
	uint32_t pad;
} sl_admit_slot_t;

typedef struct {
	sl_admit_cfg_t cfg;
	bool ready; /* lifecycle gate is `ready` */
	uint32_t n_peers;
	uint32_t n_unproven;      /* of n_peers */
	uint32_t unproven_oldest; /* peer index + 1 of the list's head, 0 when empty */
	uint32_t unproven_newest;
	uint32_t n_free;    /* records given back, in free_list */
	uint32_t peers_hwm; /* records [0, peers_hwm) were ever used; the rest are fresh */
	uint32_t n_lcore[SL_MAX_LCORES];
	uint32_t n_bans;
	uint32_t n_allow;
	uint32_t n_nonces;
	sl_admit_ban_t bans[SL_ADMIT_BANS_MAX];
	uint8_t allow[SL_ADMIT_ALLOW_MAX][SL_WIRE_HASH_LEN];
	struct {
		uint64_t nonce;
		uint64_t until_ns;
	} nonces[SL_ADMIT_NONCES_MAX];
	sl_ratelimit_t rate;
	sl_admit_heard_fn heard; /* sl_admit_set_heard; NULL: none */
	void *heard_ctx;
	/* The tables (~3 MiB for SL_ADMIT_PEERS_MAX), one anonymous mapping
	   that sl_admit_init maps and sl_admit_fini unmaps: zero pages until
	   used, so a start does not touch what a few peers never reach. */
	void *tabs;
	size_t tabs_len;
	sl_admit_cache_t *cache;     /* [SL_ADMIT_CACHE_SIZE] */
	sl_admit_slot_t *by_node;    /* [SL_ADMIT_IDX_SIZE] */
	sl_admit_slot_t *by_session; /* [SL_ADMIT_IDX_SIZE] */
	sl_admit_slot_t *by_addr;    /* [SL_ADMIT_IDX_SIZE] */
	uint32_t *free_list;         /* [SL_ADMIT_PEERS_MAX], n_free of them given back */
	sl_admit_peer_t *peers;      /* [SL_ADMIT_PEERS_MAX] */
} sl_admit_t;

/* sl_admit_set_heard gives admission a way to ask whether the dataplane
   has already accepted a frame on session `session` (its peer's proof),
   though the SESSION_PROVEN event that reports it has not reached ctrl
   yet: under a HELLO flood that event waits behind thousands of HELLO
   events, longer than an unproven session lasts in a full pool.  Before
   evicting an unproven peer, admission asks; a peer heard from is proven
   there and then (sl_admit_prove) and the next oldest is evicted instead.
   NULL (the default) asks nothing. */
void sl_admit_set_heard(sl_admit_t *st, sl_admit_heard_fn fn, void *ctx);

/* sl_admit_cfg_defaults: our streams 0,1,5; max_peers 256, max_unproven 256; one lcore of
   SL_SESSIONS_PER_LCORE; 4 sessions per address; no auth required; 5
   HELLOs/s per address, burst 10.  chain_id, node_id, hash_seed zero (the
   caller sets them). */
void sl_admit_cfg_defaults(sl_admit_cfg_t *cfg);

/* sl_admit_init formats st (any memory; an earlier st's tables are not
   freed: sl_admit_fini first) and maps its tables: no peers, bans,
   allowlist or nonces, not ready.  Returns OK, ARG (st untouched) when a
   cfg field is out of its documented range, or NOMEM (st zeroed) when the
   tables cannot be mapped. */
sl_admit_err_t sl_admit_init(sl_admit_t *st, const sl_admit_cfg_t *cfg);

/* sl_admit_fini unmaps st's tables and zeroes st; a zeroed st is a no-op. */
void sl_admit_fini(sl_admit_t *st);

/* sl_admit_set_ready follows the lifecycle gate: true only in `ready`. */
void sl_admit_set_ready(sl_admit_t *st, bool ready);

/* sl_admit_decide judges one decoded HELLO (h, as sl_wire_decode_hello
   accepted it) from src_ip:src_port received on lcore at now_ns, in the
   order above, and fills *out.  A fresh answer is remembered for
   SL_ADMIT_REPEAT_NS under (node_id, nonce); a fresh ACCEPT reserves the
   peer (PENDING) on `lcore`.  A repeat of an ACCEPT whose peer has since
   been removed is judged afresh.  lcore must be < cfg.n_lcores (else
   REJECT FULL). */
void sl_admit_decide(sl_admit_t *st, const sl_wire_hello_t *h, uint32_t src_ip, uint16_t src_port,
                     uint16_t lcore, uint64_t now_ns, sl_admit_decision_t *out);

/* sl_admit_commit records that node_id's session was installed as our
   session id `session` (non-zero, not already used): PENDING → UP.
   NOT_FOUND when node_id is not admitted, STATE when it is already UP,
   ARG for session 0 or a session id another peer holds. */
sl_admit_err_t sl_admit_commit(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                               uint32_t session);

/* sl_admit_prove records that the peer of our session `session` sent a
   valid frame: it leaves the unproven pool and counts against max_peers.
   OK (also when already proven); NOT_FOUND when no UP peer holds the
   session; FULL when max_peers proven peers exist already (it stays
   unproven: the caller closes the session). */
sl_admit_err_t sl_admit_prove(sl_admit_t *st, uint32_t session);

/* sl_admit_remove forgets node_id's admission (install failed, or the
   session went down), freeing its capacity.  NOT_FOUND if not admitted. */
sl_admit_err_t sl_admit_remove(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN]);

/* sl_admit_remove_session is sl_admit_remove by our session id. */
sl_admit_err_t sl_admit_remove_session(sl_admit_t *st, uint32_t session);

/* sl_admit_adopt registers as UP a session that exists without a HELLO
   judged here: one we dialled (outbound = true) once it is up, or one
   found live in the region after a ctrl restart.  It counts against
   max_peers (proven), its lcore and its address like any peer, but no limit is
   checked (the session already exists).  OK; STATE when node_id is
   already admitted, PENDING or UP (a second session to the same node: the
   caller keeps one, see sl_admit_keep_ours); ARG for session 0, a session
   id another peer holds, or lcore >= cfg.n_lcores; FULL when
   SL_ADMIT_PEERS_MAX peers are recorded. */
sl_admit_err_t sl_admit_adopt(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN],
                              uint32_t session, uint32_t ip, uint16_t port, uint16_t lcore,
                              uint32_t streams, bool outbound, uint64_t now_ns);

/* sl_admit_keep_ours settles a cross-dial (we dialled a node that dialled
   us, both sessions came up): both ends keep the session dialled by the
   node with the lower node id (bytewise), so they converge on one without
   talking.  True: our node id is lower, keep the session we dialled and
   close the one it dialled; false: the other way round. */
bool sl_admit_keep_ours(const sl_admit_t *st, const uint8_t peer_node_id[SL_WIRE_HASH_LEN]);

/* sl_admit_find returns node_id's peer record, or NULL.  The pointer is
   valid until the next call that changes st. */
const sl_admit_peer_t *sl_admit_find(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN]);

/* sl_admit_find_session returns the UP peer holding our session id, or NULL. */
const sl_admit_peer_t *sl_admit_find_session(const sl_admit_t *st, uint32_t session);

/* Counts of admitted peers (PENDING and UP): all, on one lcore (0 when
   lcore is out of range), from one address; and of those still unproven. */
uint32_t sl_admit_count(const sl_admit_t *st);
uint32_t sl_admit_count_unproven(const sl_admit_t *st);
uint32_t sl_admit_count_lcore(const sl_admit_t *st, uint16_t lcore);
uint32_t sl_admit_count_addr(const sl_admit_t *st, uint32_t ip);

/* sl_admit_sessions_from writes the session ids of UP peers at ip (up to
   max of them) to out and returns how many there are in all — what ctrl
   disconnects after a ban. */
uint32_t sl_admit_sessions_from(const sl_admit_t *st, uint32_t ip, uint32_t *out, uint32_t max);

/* sl_admit_ban bans ip for seconds from now_ns (0: until unbanned); a
   second ban of the same ip replaces the first.  ARG for ip 0, FULL when
   SL_ADMIT_BANS_MAX live bans exist (expired ones are dropped first). */
sl_admit_err_t sl_admit_ban(sl_admit_t *st, uint32_t ip, uint32_t seconds, uint64_t now_ns);

/* sl_admit_unban lifts ip's ban: OK, or NOT_FOUND when it had none. */
sl_admit_err_t sl_admit_unban(sl_admit_t *st, uint32_t ip);

/* sl_admit_banned: true when ip has a live ban at now_ns, and then
   *remaining_s (if not NULL) is the time left, rounded up (UINT32_MAX for
   a ban until unbanned). */
bool sl_admit_banned(const sl_admit_t *st, uint32_t ip, uint64_t now_ns, uint32_t *remaining_s);

/* sl_admit_bans drops expired bans, copies up to max live ones to out and
   returns how many live bans there are. */
uint32_t sl_admit_bans(sl_admit_t *st, uint64_t now_ns, sl_admit_ban_t *out, uint32_t max);

/* sl_admit_allow_add puts node_id on the allowlist (once active, i.e. non
   empty, only listed node ids are admitted).  OK (also when already
   listed) or FULL. */
sl_admit_err_t sl_admit_allow_add(sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN]);

/* sl_admit_allowed: node_id may be admitted (no allowlist, or on it). */
bool sl_admit_allowed(const sl_admit_t *st, const uint8_t node_id[SL_WIRE_HASH_LEN]);

/* sl_admit_allow_clear empties the allowlist (any node id admitted). */
void sl_admit_allow_clear(sl_admit_t *st);

/* sl_admit_nonce_add records the nonce of one of our outbound HELLOs
   until until_ns (its connect deadline): a HELLO carrying it is SELF.
   OK, FULL (expired entries are reused first) or ARG for nonce 0. */
sl_admit_err_t sl_admit_nonce_add(sl_admit_t *st, uint64_t nonce, uint64_t until_ns,
                                  uint64_t now_ns);

/* sl_admit_nonce_del forgets an outbound nonce (connect done or failed). */
sl_admit_err_t sl_admit_nonce_del(sl_admit_t *st, uint64_t nonce);

/* sl_admit_sweep drops expired bans, nonces and cache entries and removes
   PENDING peers accepted more than pending_ns before now_ns (an install
   that never completed); returns the number of PENDING peers removed.
   O(capacity): call it from a periodic timer, not per HELLO. */
uint32_t sl_admit_sweep(sl_admit_t *st, uint64_t now_ns, uint64_t pending_ns);

#endif /* SL_ADMIT_H */
