/* sl_chain.c — see sl_chain.h.  256-bit arithmetic is four 64-bit limbs,
   least significant first (u256_t), kept private to this file. */
#include "sl_chain.h"
#include "sl_sha256d.h"

#include <endian.h>
#include <string.h>

/* ---- profiles ----------------------------------------------------------- */

#define SL_GENESIS_COMMON                                                                          \
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  \
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,    \
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b, 0x12,    \
	    0xb2, 0x7a, 0xc7, 0x2c, 0x3e, 0x67, 0x76, 0x8f, 0x61, 0x7f, 0xc8, 0x1b, 0xc3, 0x88,    \
	    0x8a, 0x51, 0x32, 0x3a, 0x9f, 0xb8, 0xaa, 0x4b, 0x1e, 0x5e, 0x4a

#define SL_POW_LIMIT_2_224                                                                         \
	{                                                                                          \
		0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      \
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  \
		    0xff, 0xff, 0xff, 0xff, 0xff, 0xff                                             \
	}

static const sl_chain_profile_t chain_profiles[] = {
    {
        .name = "bitcoin-main",
        .genesis = {SL_GENESIS_COMMON, 0x29, 0xab, 0x5f, 0x49, 0xff, 0xff, 0x00, 0x1d, 0x1d, 0xac,
                    0x2b, 0x7c},
        .genesis_display = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        .pow_limit = SL_POW_LIMIT_2_224,
        .pow_limit_bits = 0x1d00ffff,
        .interval = 2016,
        .timespan = 14 * 24 * 60 * 60,
        .spacing = 600,
        .bip34_height = 227931,
        .bip66_height = 363725,
        .bip65_height = 388381,
    },
    {
        .name = "bitcoin-test3",
        .genesis = {SL_GENESIS_COMMON, 0xda, 0xe5, 0x49, 0x4d, 0xff, 0xff, 0x00, 0x1d, 0x1a, 0xa4,
                    0xae, 0x18},
        .genesis_display = "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
        .pow_limit = SL_POW_LIMIT_2_224,
        .pow_limit_bits = 0x1d00ffff,
        .interval = 2016,
        .timespan = 14 * 24 * 60 * 60,
        .spacing = 600,
        .min_difficulty = true,
        .bip34_height = 21111,
        .bip66_height = 330776,
        .bip65_height = 581885,
    },
    {
        .name = "regtest",
        .genesis = {SL_GENESIS_COMMON, 0xda, 0xe5, 0x49, 0x4d, 0xff, 0xff, 0x7f, 0x20, 0x02, 0x00,
                    0x00, 0x00},
        .genesis_display = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
        .pow_limit = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
        .pow_limit_bits = 0x207fffff,
        .interval = 2016,
        .timespan = 14 * 24 * 60 * 60,
        .spacing = 600,
        .no_retarget = true,
        .min_difficulty = true,
        .bip34_height = 1,
        .bip66_height = 1,
        .bip65_height = 1,
    },
};

const sl_chain_profile_t *sl_chain_profile(const char *name)
{
	for (size_t i = 0; name != NULL && i < SL_ARRAY_LEN(chain_profiles); i++)
		if (strcmp(chain_profiles[i].name, name) == 0)
			return &chain_profiles[i];
	return NULL;
}

const sl_chain_profile_t *sl_chain_profile_at(size_t i)
{
	return i < SL_ARRAY_LEN(chain_profiles) ? &chain_profiles[i] : NULL;
}

/* ---- reasons ------------------------------------------------------------ */

static const char *const chain_err_names[] = {"ok",
#define SL_CHAIN_ERR_NAME(name, str) #name,
                                              SL_CHAIN_ERR_LIST(SL_CHAIN_ERR_NAME)
#undef SL_CHAIN_ERR_NAME
};

static const char *const chain_err_descs[] = {"ok",
#define SL_CHAIN_ERR_DESC(name, str) str,
                                              SL_CHAIN_ERR_LIST(SL_CHAIN_ERR_DESC)
#undef SL_CHAIN_ERR_DESC
};

const char *sl_chain_err_str(sl_chain_err_t err)
{
	return (unsigned)err < SL_CHAIN_ERR_COUNT ? chain_err_names[err] : "?";
}

const char *sl_chain_err_desc(sl_chain_err_t err)
{
	return (unsigned)err < SL_CHAIN_ERR_COUNT ? chain_err_descs[err] : "?";
}

/* ---- display hex -------------------------------------------------------- */

void sl_chain_hash_display(const uint8_t hash[SL_CHAIN_HASH_LEN], char out[SL_CHAIN_DISPLAY_LEN])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SL_CHAIN_HASH_LEN; i++) {
		uint8_t b = hash[SL_CHAIN_HASH_LEN - 1 - i];
		out[2 * i] = digits[b >> 4];
		out[2 * i + 1] = digits[b & 15];
	}
	out[2 * SL_CHAIN_HASH_LEN] = '\0';
}

static int hex_nibble(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int sl_chain_hash_from_display(const char *hex, uint8_t out[SL_CHAIN_HASH_LEN])
{
	if (SL_UNLIKELY(hex == NULL || strlen(hex) != 2 * SL_CHAIN_HASH_LEN))
		return -1;
	for (int i = 0; i < SL_CHAIN_HASH_LEN; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		if (SL_UNLIKELY(hi < 0 || lo < 0))
			return -1;
		out[SL_CHAIN_HASH_LEN - 1 - i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* ---- 256-bit arithmetic ------------------------------------------------- */

typedef struct {
	uint64_t w[4]; /* w[0] least significant */
} u256_t;

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "u256_from_le assumes little-endian");

static void u256_from_be(u256_t *a, const uint8_t be[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t v = 0;
		for (int j = 0; j < 8; j++)
			v = v << 8 | be[(3 - i) * 8 + j];
		a->w[i] = v;
	}
}

static void u256_to_be(const u256_t *a, uint8_t be[32])
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 8; j++)
			be[(3 - i) * 8 + j] = (uint8_t)(a->w[i] >> (56 - 8 * j));
}

static void u256_from_le(u256_t *a, const uint8_t le[32])
{
	memcpy(a->w, le, 32); /* x86-64 and every DPDK target we build are little-endian */
}

static int u256_cmp(const u256_t *a, const u256_t *b)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

static bool u256_is_zero(const u256_t *a)
{
	return (a->w[0] | a->w[1] | a->w[2] | a->w[3]) == 0;
}

static unsigned u256_bits(const u256_t *a)
{
	for (int i = 3; i >= 0; i--)
		if (a->w[i] != 0)
			return (unsigned)(64 * i + 64 - __builtin_clzll(a->w[i]));
	return 0;
}

static void u256_shl(u256_t *a, unsigned n)
{
	u256_t r = {{0, 0, 0, 0}};

	for (int i = 3; n < 256 && i >= 0; i--) {
		int src = i - (int)(n / 64);
		unsigned s = n % 64;
		if (src < 0)
			continue;
		r.w[i] = a->w[src] << s;
		if (s != 0 && src > 0)
			r.w[i] |= a->w[src - 1] >> (64 - s);
	}
	*a = r;
}

static void u256_shr(u256_t *a, unsigned n)
{
	u256_t r = {{0, 0, 0, 0}};

	for (int i = 0; n < 256 && i < 4; i++) {
		int src = i + (int)(n / 64);
		unsigned s = n % 64;
		if (src > 3)
			continue;
		r.w[i] = a->w[src] >> s;
		if (s != 0 && src < 3)
			r.w[i] |= a->w[src + 1] << (64 - s);
	}
	*a = r;
}

static void u256_sub(u256_t *a, const u256_t *b)
{
	unsigned __int128 borrow = 0;

	for (int i = 0; i < 4; i++) {
		unsigned __int128 d = (unsigned __int128)a->w[i] - b->w[i] - borrow;
		a->w[i] = (uint64_t)d;
		borrow = (d >> 64) ? 1 : 0;
	}
}

/* u256_mul32 multiplies in place, mod 2^256 (as Bitcoin's arith_uint256). */
static void u256_mul32(u256_t *a, uint32_t m)
{
	unsigned __int128 carry = 0;

	for (int i = 0; i < 4; i++) {
		unsigned __int128 p = (unsigned __int128)a->w[i] * m + carry;
		a->w[i] = (uint64_t)p;
		carry = p >> 64;
	}
}

static void u256_div32(u256_t *a, uint32_t d)
{
	unsigned __int128 rem = 0;

	for (int i = 3; i >= 0; i--) {
		unsigned __int128 cur = rem << 64 | a->w[i];
		a->w[i] = (uint64_t)(cur / d);
		rem = cur % d;
	}
}

/* u256_div: quotient of num / den by shift-subtract; den != 0. */
static u256_t u256_div(u256_t num, const u256_t *den)
{
	u256_t q = {{0, 0, 0, 0}}, d = *den;
	unsigned nb = u256_bits(&num), db = u256_bits(den);

	if (nb < db)
		return q;
	unsigned shift = nb - db;
	u256_shl(&d, shift);
	for (int s = (int)shift; s >= 0; s--) {
		if (u256_cmp(&num, &d) >= 0) {
			u256_sub(&num, &d);
			q.w[s / 64] |= 1ULL << (s % 64);
		}
		u256_shr(&d, 1);
	}
	return q;
}

/* ---- compact targets ---------------------------------------------------- */

static sl_chain_err_t compact_decode(uint32_t bits, u256_t *t)
{
	unsigned size = bits >> 24;
	uint32_t word = bits & 0x007fffff;

	*t = (u256_t){{0, 0, 0, 0}};
	if (size <= 3) {
		t->w[0] = word >> (8 * (3 - size));
	} else {
		t->w[0] = word;
		u256_shl(t, 8 * (size - 3));
	}
	bool negative = word != 0 && (bits & 0x00800000) != 0;
	bool overflow =
	    word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
	if (SL_UNLIKELY(negative || overflow || u256_is_zero(t)))
		return SL_CHAIN_ERR_TARGET_RANGE;
	return SL_CHAIN_OK;
}

static uint32_t compact_encode(const u256_t *t)
{
	unsigned size = (u256_bits(t) + 7) / 8;
	uint32_t compact;

	if (size <= 3) {
		compact = (uint32_t)(t->w[0] << (8 * (3 - size)));
	} else {
		u256_t s = *t;
		u256_shr(&s, 8 * (size - 3));
		compact = (uint32_t)s.w[0];
	}
	if (compact & 0x00800000) {
		compact >>= 8;
		size++;
	}
	return compact | (uint32_t)size << 24;
}

sl_chain_err_t sl_chain_compact_decode(uint32_t bits, uint8_t target[32])
{
	u256_t t;
	sl_chain_err_t err = compact_decode(bits, &t);

	u256_to_be(&t, target);
	return err;
}

uint32_t sl_chain_compact_encode(const uint8_t target[32])
{
	u256_t t;

	u256_from_be(&t, target);
	return compact_encode(&t);
}

bool sl_chain_hash_meets(const uint8_t hash[SL_CHAIN_HASH_LEN], const uint8_t target[32])
{
	u256_t h, t;

	u256_from_le(&h, hash);
	u256_from_be(&t, target);
	return u256_cmp(&h, &t) <= 0;
}

/* pow_target: the target of `bits` under p's limit, decoded once per
   (thread, profile, bits) change: the headers of a sync share their bits
   for 2,016 heights, and the decode (a 256-bit shift) plus the limit's
   load were a tenth of the check's callers' time (ctrl's commit, the
   dataplane's answer check). */
static sl_chain_err_t pow_target(const sl_chain_profile_t *p, uint32_t bits, u256_t *t)
{
	static _Thread_local struct {
		const sl_chain_profile_t *p;
		uint32_t bits;
		sl_chain_err_t err;
		u256_t t;
	} memo;
	if (SL_LIKELY(memo.p == p && memo.bits == bits)) {
		*t = memo.t;
		return memo.err;
	}
	u256_t limit;
	sl_chain_err_t err = compact_decode(bits, t);
	u256_from_be(&limit, p->pow_limit);
	if (err == SL_CHAIN_OK && u256_cmp(t, &limit) > 0)
		err = SL_CHAIN_ERR_TARGET_RANGE;
	memo.p = p;
	memo.bits = bits;
	memo.err = err;
	memo.t = *t;
	return err;
}

sl_chain_err_t sl_chain_check_pow(const sl_chain_profile_t *p, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                  const uint8_t hash[SL_CHAIN_HASH_LEN])
{
	u256_t t, h;

	if (SL_UNLIKELY(pow_target(p, sl_chain_hdr_bits(hdr), &t) != SL_CHAIN_OK))
		return SL_CHAIN_ERR_TARGET_RANGE;
	u256_from_le(&h, hash);
	if (SL_UNLIKELY(u256_cmp(&h, &t) > 0))
		return SL_CHAIN_ERR_POW;
	return SL_CHAIN_OK;
}

uint32_t sl_chain_retarget(const sl_chain_profile_t *p, uint32_t last_bits, uint32_t first_time,
                           uint32_t last_time)
{
	int64_t actual = (int64_t)last_time - (int64_t)first_time;
	int64_t lo = p->timespan / 4, hi = (int64_t)p->timespan * 4;
	u256_t t, limit;

	if (actual < lo)
		actual = lo;
	if (actual > hi)
		actual = hi;
	(void)compact_decode(last_bits, &t); /* as Bitcoin: the value, flags ignored */
	u256_mul32(&t, (uint32_t)actual);
	u256_div32(&t, p->timespan);
	u256_from_be(&limit, p->pow_limit);
	if (u256_cmp(&t, &limit) > 0)
		t = limit;
	return compact_encode(&t);
}

/* ---- work --------------------------------------------------------------- */

void sl_chain_work(uint32_t bits, uint8_t work[32])
{
	u256_t t, w = {{0, 0, 0, 0}};

	if (compact_decode(bits, &t) == SL_CHAIN_OK) {
		/* 2^256 / (t + 1) == ~t / (t + 1) + 1 */
		u256_t n = {{~t.w[0], ~t.w[1], ~t.w[2], ~t.w[3]}}, d = t;
		u256_t minus_one = {{~0ULL, ~0ULL, ~0ULL, ~0ULL}};
		u256_sub(&d, &minus_one); /* d = t + 1 */
		w = u256_div(n, &d);
		u256_sub(&w, &minus_one); /* w += 1 */
	}
	u256_to_be(&w, work);
}

void sl_chain_work_add(uint8_t acc[32], const uint8_t b[32])
{
	/* four big-endian 64-bit words, least significant last (a byte at a
	   time was ~10 % of ctrl's commit path) */
	unsigned __int128 c = 0;

	for (int i = 3; i >= 0; i--) {
		uint64_t x, y;
		memcpy(&x, acc + 8 * i, 8);
		memcpy(&y, b + 8 * i, 8);
		c += (unsigned __int128)be64toh(x) + be64toh(y);
		x = htobe64((uint64_t)c);
		memcpy(acc + 8 * i, &x, 8);
		c >>= 64;
	}
}

int sl_chain_work_cmp(const uint8_t a[32], const uint8_t b[32])
{
	return memcmp(a, b, 32);
}

/* ---- contextual validator ----------------------------------------------- */

/* ctx_advance makes hdr (hash `hash`) the tip at `height`. */
static void ctx_advance(sl_chain_ctx_t *c, const uint8_t *hdr, const uint8_t *hash, uint32_t height)
{
	uint32_t time = sl_chain_hdr_time(hdr), bits = sl_chain_hdr_bits(hdr);
	bool boundary = height % c->p->interval == 0;

	c->height = height;
	memcpy(c->tip_hash, hash, SL_CHAIN_HASH_LEN);
	c->tip_time = time;
	c->tip_bits = bits;
	c->times[height % SL_CHAIN_MTP_SPAN] = time;
	if (c->ntimes < SL_CHAIN_MTP_SPAN)
		c->ntimes++;
	if (boundary) {
		c->period_start_time = time;
		c->period_known = true;
	}
	if (boundary || bits != c->p->pow_limit_bits) {
		c->last_nonmin_bits = bits;
		c->nonmin_known = true;
	}
	if (SL_UNLIKELY(bits != c->work_bits)) {
		sl_chain_work(bits, c->work_cache);
		c->work_bits = bits;
	}
	sl_chain_work_add(c->chainwork, c->work_cache);
}

void sl_chain_ctx_init(sl_chain_ctx_t *c, const sl_chain_profile_t *p)
{
	uint8_t hash[SL_CHAIN_HASH_LEN];

	memset(c, 0, sizeof(*c));
	c->p = p;
	sl_sha256d_hdr(p->genesis, hash);
	ctx_advance(c, p->genesis, hash, 0);
}

void sl_chain_ctx_init_at(sl_chain_ctx_t *c, const sl_chain_profile_t *p, uint32_t height,
                          const uint8_t hdr[SL_CHAIN_HDR_LEN])
{
	uint8_t hash[SL_CHAIN_HASH_LEN];

	memset(c, 0, sizeof(*c));
	c->p = p;
	sl_sha256d_hdr(hdr, hash);
	ctx_advance(c, hdr, hash, height);
	memset(c->chainwork, 0, sizeof(c->chainwork));
}

void sl_chain_ctx_push_trusted(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN])
{
	uint8_t hash[SL_CHAIN_HASH_LEN];

	sl_sha256d_hdr(hdr, hash);
	ctx_advance(c, hdr, hash, c->height + 1);
}

void sl_chain_ctx_set_period_start(sl_chain_ctx_t *c, uint32_t time)
{
	c->period_start_time = time;
	c->period_known = true;
}

void sl_chain_ctx_set_chainwork(sl_chain_ctx_t *c, const uint8_t work[32])
{
	memcpy(c->chainwork, work, sizeof(c->chainwork));
}

uint32_t sl_chain_ctx_mtp(const sl_chain_ctx_t *c)
{
	uint32_t v[SL_CHAIN_MTP_SPAN];
	uint32_t n = c->ntimes;

	for (uint32_t i = 0; i < n; i++)
		v[i] = c->times[(c->height - i) % SL_CHAIN_MTP_SPAN];
	for (uint32_t i = 1; i < n; i++) {
		uint32_t x = v[i], j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	return v[n / 2];
}

bool sl_chain_ctx_after_mtp(const sl_chain_ctx_t *c, uint32_t time)
{
	uint32_t below = 0, n = c->ntimes;
	if (SL_LIKELY(n == SL_CHAIN_MTP_SPAN)) /* the ring is full: order does not matter */
		for (uint32_t i = 0; i < SL_CHAIN_MTP_SPAN; i++)
			below += c->times[i] < time;
	else
		for (uint32_t i = 0; i < n; i++)
			below += c->times[(c->height - i) % SL_CHAIN_MTP_SPAN] < time;
	return below > n / 2;
}

bool sl_chain_ctx_mtp_known(const sl_chain_ctx_t *c)
{
	return c->ntimes == SL_CHAIN_MTP_SPAN || c->ntimes == c->height + 1;
}

uint32_t sl_chain_ctx_next_bits(const sl_chain_ctx_t *c, uint32_t time, sl_chain_err_t *err)
{
	const sl_chain_profile_t *p = c->p;
	uint32_t h = c->height + 1;

	*err = SL_CHAIN_OK;
	if (p->no_retarget)
		return c->tip_bits;
	if (h % p->interval != 0) {
		if (!p->min_difficulty)
			return c->tip_bits;
		if ((int64_t)time > (int64_t)c->tip_time + 2 * (int64_t)p->spacing)
			return p->pow_limit_bits;
		if (SL_UNLIKELY(!c->nonmin_known))
			*err = SL_CHAIN_ERR_CONTEXT;
		return c->last_nonmin_bits;
	}
	if (SL_UNLIKELY(!c->period_known))
		*err = SL_CHAIN_ERR_CONTEXT;
	return sl_chain_retarget(p, c->tip_bits, c->period_start_time, c->tip_time);
}

static sl_chain_err_t check_version(const sl_chain_profile_t *p, int32_t version, uint32_t h)
{
	if (SL_UNLIKELY((version < 2 && h >= p->bip34_height) ||
	                (version < 3 && h >= p->bip66_height) ||
	                (version < 4 && h >= p->bip65_height)))
		return SL_CHAIN_ERR_VERSION;
	return SL_CHAIN_OK;
}

sl_chain_err_t sl_chain_ctx_check(const sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                  int64_t now, uint8_t hash_out[SL_CHAIN_HASH_LEN])
{
	sl_sha256d_hdr(hdr, hash_out);
	return sl_chain_ctx_check_hashed(c, hdr, hash_out, now);
}

sl_chain_err_t sl_chain_ctx_check_hashed(const sl_chain_ctx_t *c,
                                         const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                         const uint8_t hash[SL_CHAIN_HASH_LEN], int64_t now)
{
	uint32_t time = sl_chain_hdr_time(hdr);
	sl_chain_err_t err;

	if (SL_UNLIKELY(memcmp(sl_chain_hdr_prev(hdr), c->tip_hash, SL_CHAIN_HASH_LEN) != 0))
		return SL_CHAIN_ERR_LINK;
	if (SL_UNLIKELY(!sl_chain_ctx_mtp_known(c)))
		return SL_CHAIN_ERR_CONTEXT;
	uint32_t want = sl_chain_ctx_next_bits(c, time, &err);
	if (SL_UNLIKELY(err != SL_CHAIN_OK))
		return err;
	if (SL_UNLIKELY(sl_chain_hdr_bits(hdr) != want))
		return SL_CHAIN_ERR_BITS;
	if (SL_UNLIKELY(!sl_chain_ctx_after_mtp(c, time)))
		return SL_CHAIN_ERR_TIME_MTP;
	if (SL_UNLIKELY((int64_t)time > now + SL_CHAIN_MAX_FUTURE_S))
		return SL_CHAIN_ERR_TIME_FUTURE;
	err = check_version(c->p, sl_chain_hdr_version(hdr), c->height + 1);
	if (SL_UNLIKELY(err != SL_CHAIN_OK))
		return err;
	return sl_chain_check_pow(c->p, hdr, hash);
}

void sl_chain_ctx_accept(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                         const uint8_t hash[SL_CHAIN_HASH_LEN])
{
	ctx_advance(c, hdr, hash, c->height + 1);
}

sl_chain_err_t sl_chain_ctx_next(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                 int64_t now, uint8_t hash_out[SL_CHAIN_HASH_LEN])
{
	sl_chain_err_t err = sl_chain_ctx_check(c, hdr, now, hash_out);

	if (SL_LIKELY(err == SL_CHAIN_OK))
		ctx_advance(c, hdr, hash_out, c->height + 1);
	return err;
}

sl_chain_err_t sl_chain_ctx_next_hashed(sl_chain_ctx_t *c, const uint8_t hdr[SL_CHAIN_HDR_LEN],
                                        const uint8_t hash[SL_CHAIN_HASH_LEN], int64_t now)
{
	sl_chain_err_t err = sl_chain_ctx_check_hashed(c, hdr, hash, now);

	if (SL_LIKELY(err == SL_CHAIN_OK))
		ctx_advance(c, hdr, hash, c->height + 1);
	return err;
}

sl_chain_err_t sl_chain_ctx_run(sl_chain_ctx_t *c, const uint8_t *hdrs, size_t n, int64_t now,
                                size_t *done)
{
	uint8_t hash[SL_CHAIN_HASH_LEN];
	size_t i;
	sl_chain_err_t err = SL_CHAIN_OK;

	for (i = 0; i < n; i++) {
		err = sl_chain_ctx_next(c, hdrs + i * SL_CHAIN_HDR_LEN, now, hash);
		if (SL_UNLIKELY(err != SL_CHAIN_OK))
			break;
	}
	if (done != NULL)
		*done = i;
	return err;
}

uint64_t sl_chain_mine(uint8_t hdr[SL_CHAIN_HDR_LEN], uint64_t max_tries,
                       uint8_t hash_out[SL_CHAIN_HASH_LEN])
{
	sl_sha256d_mid_t mid;
	u256_t t, h;
	uint32_t nonce = sl_chain_hdr_nonce(hdr);

	if (SL_UNLIKELY(compact_decode(sl_chain_hdr_bits(hdr), &t) != SL_CHAIN_OK))
		return 0;
	sl_sha256d_mid_init(&mid, hdr);
	for (uint64_t tries = 1; tries <= max_tries; tries++, nonce++) {
		hdr[76] = (uint8_t)nonce;
		hdr[77] = (uint8_t)(nonce >> 8);
		hdr[78] = (uint8_t)(nonce >> 16);
		hdr[79] = (uint8_t)(nonce >> 24);
		sl_sha256d_mid_finish(&mid, hdr + 64, hash_out);
		u256_from_le(&h, hash_out);
		if (u256_cmp(&h, &t) <= 0)
			return tries;
	}
	return 0;
}
