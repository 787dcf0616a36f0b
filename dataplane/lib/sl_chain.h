/* sl_chain.h — chain profiles and block-header validity (SPEC.md §7).
   Owner: the ctrl reactor and the header store (contextual validation,
   chainwork); dataplane routines use only the context-free
   sl_chain_check_pow.  Pure computation: no allocation, no locks, no
   syscalls.  Rules follow Bitcoin consensus for headers: compact targets
   with their range rules, hash <= target, retarget every `interval` headers
   from the first and last timestamps of the period (the 2015-interval
   quirk) with the 4x clamp and the pow limit, testnet3's 20-minute
   minimum-difficulty rule, median-time-past of 11, at most 2 h in the
   future, minimum versions after BIP34/66/65.

   Byte orders: a header is the 80 serialized bytes; a hash is the double
   SHA-256 as produced (a little-endian 256-bit number); targets and
   chainwork cross this API as 32 bytes big-endian (as in STATUS). */
#ifndef SL_CHAIN_H
#define SL_CHAIN_H

#include "sl_base.h"

#define SL_CHAIN_HDR_LEN      80
#define SL_CHAIN_HASH_LEN     32
#define SL_CHAIN_MTP_SPAN     11   /* median-time-past window */
#define SL_CHAIN_MAX_FUTURE_S 7200 /* 2 h */
#define SL_CHAIN_DISPLAY_LEN  65   /* 64 hex digits + NUL */

/* Failure reasons, in the order sl_chain_ctx_check tests them (cheap and
   contextual first, the hash last): the reason given is the first rule the
   header breaks.  CONTEXT means the validator was started from a checkpoint
   without the history this header needs (never a verdict on the header). */
#define SL_CHAIN_ERR_LIST(X)                                                                       \
	X(LINK, "prev hash is not the tip's hash")                                                 \
	X(CONTEXT, "not enough history (MTP, period start, last bits) for this header")            \
	X(BITS, "nBits is not the required target")                                                \
	X(TIME_MTP, "time not after the median of the last 11")                                    \
	X(TIME_FUTURE, "time more than 2 h in the future")                                         \
	X(VERSION, "version too old for this height")                                              \
	X(TARGET_RANGE, "nBits negative, zero, overflowing or above the pow limit")                \
	X(POW, "hash above the target")

typedef enum {
	SL_CHAIN_OK = 0,
#define SL_CHAIN_ERR_ENUM(name, str) SL_CHAIN_ERR_##name,
	SL_CHAIN_ERR_LIST(SL_CHAIN_ERR_ENUM)
#undef SL_CHAIN_ERR_ENUM
	    SL_CHAIN_ERR_COUNT
} sl_chain_err_t;

/* sl_chain_err_str gives the reason's short name ("ok", "LINK", "POW", ...)
   and sl_chain_err_desc a sentence; both "?" when out of range. */
const char *sl_chain_err_str(sl_chain_err_t err);
const char *sl_chain_err_desc(sl_chain_err_t err);

/* A chain profile: everything that differs between chains.  Built-in
   profiles are static and immutable. */
typedef struct sl_chain_profile {
	const char *name;                  /* "bitcoin-main", ... */
	uint8_t genesis[SL_CHAIN_HDR_LEN]; /* height 0, serialized */
	const char *genesis_display;       /* its hash, display hex */
	uint8_t pow_limit[32];             /* easiest target, big-endian */
	uint32_t pow_limit_bits;           /* compact form of pow_limit */
	uint32_t interval;                 /* retarget period, headers */
	uint32_t timespan;                 /* target seconds per period */
	uint32_t spacing;                  /* target seconds per header */
	bool no_retarget;                  /* regtest: bits never change */
	bool min_difficulty;               /* testnet3: 20-minute rule */
	uint32_t bip34_height;             /* version >= 2 from here */
	uint32_t bip66_height;             /* version >= 3 from here */
	uint32_t bip65_height;             /* version >= 4 from here */
} sl_chain_profile_t;

/* sl_chain_profile finds a built-in profile by name ("bitcoin-main",
   "bitcoin-test3", "regtest"); NULL when unknown. */
const sl_chain_profile_t *sl_chain_profile(const char *name);

/* sl_chain_profile_at returns built-in profile i (0..), NULL past the end. */
const sl_chain_profile_t *sl_chain_profile_at(size_t i);

/* Header fields (little-endian on the wire). */
static inline uint32_t sl_chain_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline int32_t sl_chain_hdr_version(const uint8_t *h)
{
	return (int32_t)sl_chain_le32(h);
}
static inline const uint8_t *sl_chain_hdr_prev(const uint8_t *h)
{
	return h + 4;
}
static inline uint32_t sl_chain_hdr_time(const uint8_t *h)
{
	return sl_chain_le32(h + 68);
}
static inline uint32_t sl_chain_hdr_bits(const uint8_t *h)
{
	return sl_chain_le32(h + 72);
}
static inline uint32_t sl_chain_hdr_nonce(const uint8_t *h)
{
	return sl_chain_le32(h + 76);
}

/* sl_chain_hash_display writes the display hex (reversed) of a wire-order
   hash, NUL-terminated.  sl_chain_hash_from_display parses one back;
   returns 0, or -1 unless `hex` is exactly 64 hex digits. */
void sl_chain_hash_display(const uint8_t hash[SL_CHAIN_HASH_LEN], char out[SL_CHAIN_DISPLAY_LEN]);
int sl_chain_hash_from_display(const char *hex, uint8_t out[SL_CHAIN_HASH_LEN]);

/* sl_chain_compact_decode expands nBits into a big-endian target (always
   written, as Bitcoin's SetCompact computes it).  Returns SL_CHAIN_OK, or
   SL_CHAIN_ERR_TARGET_RANGE when the compact is negative, overflows 256 bits,
   or decodes to zero. */
sl_chain_err_t sl_chain_compact_decode(uint32_t bits, uint8_t target[32]);

/* sl_chain_compact_encode gives the compact form of a big-endian target
   (Bitcoin's GetCompact; 0 for a zero target). */
uint32_t sl_chain_compact_encode(const uint8_t target[32]);

/* sl_chain_hash_meets says whether a wire-order hash, read as a
   little-endian number, is <= the big-endian target. */
bool sl_chain_hash_meets(const uint8_t hash[SL_CHAIN_HASH_LEN], const uint8_t target[32]);

/* sl_chain_check_pow is the context-free check a routine can make alone:
   nBits in range for profile p (TARGET_RANGE, including above the pow
   limit) and hash <= its target (POW).  `hash` is the header's hash. */
sl_chain_err_t sl_chain_check_pow(const sl_chain_profile_t *p, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                  const uint8_t hash[SL_CHAIN_HASH_LEN]);

/* sl_chain_retarget computes the bits required at a period boundary from
   the last header's bits and the times of the period's first and last
   headers: timespan clamped to [timespan/4, 4*timespan], target scaled,
   capped at the pow limit, re-encoded. */
uint32_t sl_chain_retarget(const sl_chain_profile_t *p, uint32_t last_bits, uint32_t first_time,
                           uint32_t last_time);

/* sl_chain_work gives the work of one header with nBits `bits`:
   2^256 / (target + 1), big-endian; zero when bits are out of range. */
void sl_chain_work(uint32_t bits, uint8_t work[32]);

/* sl_chain_work_add adds b to acc (both big-endian, mod 2^256);
   sl_chain_work_cmp orders two big-endian values (<0, 0, >0). */
void sl_chain_work_add(uint8_t acc[32], const uint8_t b[32]);
int sl_chain_work_cmp(const uint8_t a[32], const uint8_t b[32]);

/* The contextual validator: the tip of a chain plus exactly the history
   the next header's rules need, so each header costs O(1).  Caller-owned,
   one writer; fields are readable, change them only through the calls. */
typedef struct sl_chain_ctx {
	const sl_chain_profile_t *p;
	uint32_t height;                     /* of the tip */
	uint8_t tip_hash[SL_CHAIN_HASH_LEN]; /* wire order */
	uint32_t tip_time, tip_bits;
	uint32_t times[SL_CHAIN_MTP_SPAN]; /* ring: times[h % 11] */
	uint32_t ntimes;                   /* known entries, <= 11 */
	uint32_t period_start_time;        /* time of last height % interval == 0 */
	uint32_t last_nonmin_bits;         /* testnet3: last non-min-difficulty bits */
	bool period_known, nonmin_known;
	uint8_t chainwork[32]; /* cumulative, big-endian */
	uint32_t work_bits;    /* cache: work of work_bits */
	uint8_t work_cache[32];
} sl_chain_ctx_t;

/* sl_chain_ctx_init starts a validator at p's genesis (height 0, chainwork
   = genesis work). */
void sl_chain_ctx_init(sl_chain_ctx_t *c, const sl_chain_profile_t *p);

/* sl_chain_ctx_init_at starts a validator at a trusted checkpoint header
   `hdr` at `height`.  History before it is unknown: chainwork starts at
   zero (set it with sl_chain_ctx_set_chainwork); until it has seen 11 times
   (or all of them, near genesis) every header fails with CONTEXT, as do
   headers whose bits need an unseen period start or (testnet3) an unseen
   last non-minimum bits.  Feed more trusted history with
   sl_chain_ctx_push_trusted: 10 more headers make the MTP known. */
void sl_chain_ctx_init_at(sl_chain_ctx_t *c, const sl_chain_profile_t *p, uint32_t height,
                          const uint8_t hdr[SL_CHAIN_HDR_LEN]);

/* sl_chain_ctx_push_trusted appends `hdr` as the next header without any
   check (seeding from trusted history). */
void sl_chain_ctx_push_trusted(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN]);

/* sl_chain_ctx_set_period_start supplies the time of the header at the
   current period's start (height - height % interval). */
void sl_chain_ctx_set_period_start(sl_chain_ctx_t *c, uint32_t time);

/* sl_chain_ctx_set_chainwork sets the cumulative work of the tip. */
void sl_chain_ctx_set_chainwork(sl_chain_ctx_t *c, const uint8_t work[32]);

/* sl_chain_ctx_mtp is the median time of the last (up to) 11 headers it
   has seen; sl_chain_ctx_mtp_known says whether that is the real MTP. */
bool sl_chain_ctx_mtp_known(const sl_chain_ctx_t *c);
uint32_t sl_chain_ctx_mtp(const sl_chain_ctx_t *c);

/* sl_chain_ctx_after_mtp is `time > sl_chain_ctx_mtp(c)` without sorting
   (the per-header check): more than half of the last (up to) 11 times are
   below `time`. */
bool sl_chain_ctx_after_mtp(const sl_chain_ctx_t *c, uint32_t time);

/* sl_chain_ctx_next_bits gives the bits the next header must carry if its
   time is `time`; *err is SL_CHAIN_OK or SL_CHAIN_ERR_CONTEXT. */
uint32_t sl_chain_ctx_next_bits(const sl_chain_ctx_t *c, uint32_t time, sl_chain_err_t *err);

/* sl_chain_ctx_check validates `hdr` as the header at height + 1 without
   changing *c: linkage, bits, time (> MTP, <= now + 2 h, `now` in unix
   seconds), version, target range, proof of work.  Always writes the
   header's hash to hash_out (needed by the caller either way). */
sl_chain_err_t sl_chain_ctx_check(const sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                  int64_t now, uint8_t hash_out[SL_CHAIN_HASH_LEN]);

/* sl_chain_ctx_check_hashed is sl_chain_ctx_check with the header's hash
   supplied by the caller instead of computed: `hash` must be
   sha256d(hdr) as computed where the header entered (the dataplane's
   routine, an import), never a value taken from the network.  The proof
   of work is judged on `hash`, and accepting the header makes `hash` the
   tip hash the next header must link to: a wrong supplied hash is caught
   as LINK by the next header (whose prev field is the real hash), not
   here. */
sl_chain_err_t sl_chain_ctx_check_hashed(const sl_chain_ctx_t *c,
                                         const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                         const uint8_t hash[SL_CHAIN_HASH_LEN], int64_t now);

/* sl_chain_ctx_accept makes `hdr` (hash `hash`, already checked) the tip. */
void sl_chain_ctx_accept(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                         const uint8_t hash[SL_CHAIN_HASH_LEN]);

/* sl_chain_ctx_next = check, then accept on success. */
sl_chain_err_t sl_chain_ctx_next(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                 int64_t now, uint8_t hash_out[SL_CHAIN_HASH_LEN]);

/* sl_chain_ctx_next_hashed = check_hashed (caller-supplied hash, see
   there), then accept on success. */
sl_chain_err_t sl_chain_ctx_next_hashed(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                        const uint8_t hash[SL_CHAIN_HASH_LEN], int64_t now);

/* sl_chain_ctx_run validates and accepts n consecutive headers (80 bytes
   each, back to back) until the first invalid one.  *done is the number
   accepted (the failing header is at height c->height + 1 on return). */
sl_chain_err_t sl_chain_ctx_run(sl_chain_ctx_t *c, const uint8_t *hdrs, size_t n, int64_t now,
                                size_t *done);

/* sl_chain_mine searches nonces from hdr's current nonce upward (wrapping)
   until hdr's hash meets its own nBits target, at most max_tries tries.
   Returns the tries used (>= 1) with hdr's nonce set and hash_out filled,
   or 0 when nBits is out of range or max_tries ran out.  Only regtest-like
   targets are minable in practice. */
uint64_t sl_chain_mine(uint8_t hdr[SL_CHAIN_HDR_LEN], uint64_t max_tries,
                       uint8_t hash_out[SL_CHAIN_HASH_LEN]);

#endif /* SL_CHAIN_H */
