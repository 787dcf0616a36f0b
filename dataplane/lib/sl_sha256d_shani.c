/* sl_sha256d_shani.c — see sl_sha256d_shani.h.  Written from the Intel SHA
   extensions description (SHA256RNDS2 runs two rounds on the state held
   as ABEF / CDGH with W+K in the low 64 bits; SHA256MSG1 / SHA256MSG2
   compute the message schedule four words at a time).  A header's double
   hash is three compressions: the first 64 bytes, the last 16 bytes with
   the padding of an 80-byte message, and the 32-byte digest with its
   padding from the IV; the padding words are constants. */
#include "sl_sha256d_shani.h"

#include <cpuid.h>
#include <immintrin.h>

#define SL_SHANI_INLINE static inline __attribute__((always_inline))

static const uint32_t sl_shani_k[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

bool sl_sha256d_shani_ok(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & bit_SHA) != 0;
}

/* One lane: the state as ABEF (s0) and CDGH (s1), the current 16 message
   words as four vectors. */
typedef struct {
	__m128i s0, s1;
	__m128i m[4];
} sl_shani_lane_t;

SL_SHANI_INLINE __m128i sl_shani_bswap(__m128i v)
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
	return _mm_shuffle_epi8(v, mask);
}

/* sl_shani_group runs message group j (words 4j..4j+3, scheduled here for
   j >= 4) through four rounds. */
SL_SHANI_INLINE void sl_shani_group(sl_shani_lane_t *l, int j)
{
	__m128i *m = l->m;
	if (j >= 4) {
		__m128i t = _mm_sha256msg1_epu32(m[j & 3], m[(j + 1) & 3]);
		t = _mm_add_epi32(t, _mm_alignr_epi8(m[(j + 3) & 3], m[(j + 2) & 3], 4));
		m[j & 3] = _mm_sha256msg2_epu32(t, m[(j + 3) & 3]);
	}
	__m128i wk = _mm_add_epi32(m[j & 3], _mm_load_si128((const __m128i *)&sl_shani_k[4 * j]));
	l->s1 = _mm_sha256rnds2_epu32(l->s1, l->s0, wk);
	l->s0 = _mm_sha256rnds2_epu32(l->s0, l->s1, _mm_shuffle_epi32(wk, 0x0e));
}

/* sl_shani_compress2 runs the 64 rounds of two lanes in lock step and adds
   the states they started from (Davies-Meyer). */
SL_SHANI_INLINE void sl_shani_compress2(sl_shani_lane_t *a, sl_shani_lane_t *b)
{
	__m128i a0 = a->s0, a1 = a->s1, b0 = b->s0, b1 = b->s1;
#pragma GCC unroll 16
	for (int j = 0; j < 16; j++) {
		sl_shani_group(a, j);
		sl_shani_group(b, j);
	}
	a->s0 = _mm_add_epi32(a->s0, a0);
	a->s1 = _mm_add_epi32(a->s1, a1);
	b->s0 = _mm_add_epi32(b->s0, b0);
	b->s1 = _mm_add_epi32(b->s1, b1);
}

SL_SHANI_INLINE void sl_shani_compress1(sl_shani_lane_t *a)
{
	__m128i a0 = a->s0, a1 = a->s1;
#pragma GCC unroll 16
	for (int j = 0; j < 16; j++)
		sl_shani_group(a, j);
	a->s0 = _mm_add_epi32(a->s0, a0);
	a->s1 = _mm_add_epi32(a->s1, a1);
}

/* The IV as ABEF / CDGH. */
SL_SHANI_INLINE void sl_shani_iv(sl_shani_lane_t *l)
{
	l->s0 = _mm_set_epi32(0x6a09e667, (int)0xbb67ae85, 0x510e527f, (int)0x9b05688c);
	l->s1 = _mm_set_epi32(0x3c6ef372, (int)0xa54ff53a, 0x1f83d9ab, 0x5be0cd19);
}

/* sl_shani_abcd turns ABEF / CDGH into words a..d and e..h (lane 0 first). */
SL_SHANI_INLINE void sl_shani_abcd(const sl_shani_lane_t *l, __m128i *abcd, __m128i *efgh)
{
	__m128i t = _mm_shuffle_epi32(l->s0, 0x1b); /* a b e f */
	__m128i u = _mm_shuffle_epi32(l->s1, 0xb1); /* g h c d */
	*abcd = _mm_blend_epi16(t, u, 0xf0);        /* a b c d */
	*efgh = _mm_alignr_epi8(u, t, 8);           /* e f g h */
}

/* Block 1: the header's first 64 bytes from the IV. */
SL_SHANI_INLINE void sl_shani_block1(sl_shani_lane_t *l, const uint8_t *hdr)
{
	sl_shani_iv(l);
	for (int i = 0; i < 4; i++)
		l->m[i] = sl_shani_bswap(_mm_loadu_si128((const __m128i *)(hdr + 16 * i)));
}

/* Block 2: the last 16 bytes, 0x80, zeros, length 640 bits. */
SL_SHANI_INLINE void sl_shani_block2(sl_shani_lane_t *l, const uint8_t *hdr)
{
	l->m[0] = sl_shani_bswap(_mm_loadu_si128((const __m128i *)(hdr + 64)));
	l->m[1] = _mm_set_epi32(0, 0, 0, (int)0x80000000);
	l->m[2] = _mm_setzero_si128();
	l->m[3] = _mm_set_epi32(640, 0, 0, 0);
}

/* Block 3: the first digest, 0x80, zeros, length 256 bits, from the IV. */
SL_SHANI_INLINE void sl_shani_block3(sl_shani_lane_t *l)
{
	sl_shani_abcd(l, &l->m[0], &l->m[1]);
	l->m[2] = _mm_set_epi32(0, 0, 0, (int)0x80000000);
	l->m[3] = _mm_set_epi32(256, 0, 0, 0);
	sl_shani_iv(l);
}

SL_SHANI_INLINE void sl_shani_out(const sl_shani_lane_t *l, uint8_t *out)
{
	__m128i abcd, efgh;
	sl_shani_abcd(l, &abcd, &efgh);
	_mm_storeu_si128((__m128i *)out, sl_shani_bswap(abcd));
	_mm_storeu_si128((__m128i *)(out + 16), sl_shani_bswap(efgh));
}

void sl_sha256d_shani_hdr(const uint8_t *hdr, uint8_t *out)
{
	sl_shani_lane_t a;
	sl_shani_block1(&a, hdr);
	sl_shani_compress1(&a);
	sl_shani_block2(&a, hdr);
	sl_shani_compress1(&a);
	sl_shani_block3(&a);
	sl_shani_compress1(&a);
	sl_shani_out(&a, out);
}

void sl_sha256d_shani_hdr2(const uint8_t *h0, const uint8_t *h1, uint8_t *o0, uint8_t *o1)
{
	sl_shani_lane_t a, b;
	sl_shani_block1(&a, h0);
	sl_shani_block1(&b, h1);
	sl_shani_compress2(&a, &b);
	sl_shani_block2(&a, h0);
	sl_shani_block2(&b, h1);
	sl_shani_compress2(&a, &b);
	sl_shani_block3(&a);
	sl_shani_block3(&b);
	sl_shani_compress2(&a, &b);
	sl_shani_out(&a, o0);
	sl_shani_out(&b, o1);
}
