/* sl_sha256d.c — see sl_sha256d.h.
   SHA256_Transform and SHA256_CTX are deprecated in OpenSSL 3 but remain
   the fastest path (one compression per call, SHA-NI inside, no EVP
   dispatch); the deprecation is suppressed in this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "sl_sha256d.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#if SL_SHA256D_SHANI
#include "sl_sha256d_shani.h"
#endif

/* CPU has SHA-NI (read once, before main: never changes after). */
static bool sha256d_shani;

#if SL_SHA256D_SHANI
__attribute__((constructor)) static void sha256d_cpu(void)
{
	sha256d_shani = sl_sha256d_shani_ok();
}
#endif

bool sl_sha256d_impl_ok(sl_sha256d_impl_t impl)
{
	if (impl == SL_SHA256D_IMPL_SHANI || impl == SL_SHA256D_IMPL_SHANI_X2)
		return sha256d_shani;
	return (unsigned)impl < SL_SHA256D_IMPL_COUNT;
}

static const uint32_t sha256_iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static const char *const sha256d_impl_names[] = {
#define SL_SHA256D_IMPL_STR(name, str) str,
    SL_SHA256D_IMPL_LIST(SL_SHA256D_IMPL_STR)
#undef SL_SHA256D_IMPL_STR
};

const char *sl_sha256d_impl_str(sl_sha256d_impl_t impl)
{
	if (SL_UNLIKELY((unsigned)impl >= SL_SHA256D_IMPL_COUNT))
		return "?";
	return sha256d_impl_names[impl];
}

void sl_sha256d(const void *data, size_t len, uint8_t out[SL_SHA256D_HASH_LEN])
{
	uint8_t first[SL_SHA256D_HASH_LEN];

	SHA256(data, len, first);
	SHA256(first, sizeof(first), out);
}

static inline void sha256_put_state(const SHA256_CTX *c, uint8_t *out)
{
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

/* sha256d_tail runs the second block of the header (tail16 + padding for
   640 bits) on c, then the single padded block of the outer hash. */
static inline void sha256d_tail(SHA256_CTX *c, const uint8_t tail16[16],
                                uint8_t out[SL_SHA256D_HASH_LEN])
{
	uint8_t blk[64];

	memcpy(blk, tail16, 16);
	memset(blk + 16, 0, 48);
	blk[16] = 0x80;
	blk[62] = 0x02; /* 640 bits, big-endian */
	blk[63] = 0x80;
	SHA256_Transform(c, blk);

	sha256_put_state(c, blk);
	memset(blk + 32, 0, 32);
	blk[32] = 0x80;
	blk[62] = 0x01; /* 256 bits */
	blk[63] = 0x00;
	memcpy(c->h, sha256_iv, sizeof(sha256_iv));
	SHA256_Transform(c, blk);
	sha256_put_state(c, out);
}

/* Headers hashed by this thread (sl_sha256d_hdr_calls). */
static _Thread_local uint64_t sha256d_hdr_count;

uint64_t sl_sha256d_hdr_calls(void)
{
	return sha256d_hdr_count;
}

static inline void sha256d_hdr_one(const uint8_t *hdr, uint8_t *out)
{
	SHA256_CTX c;

	memcpy(c.h, sha256_iv, sizeof(sha256_iv));
	SHA256_Transform(&c, hdr);
	sha256d_tail(&c, hdr + 64, out);
}

void sl_sha256d_hdr(const uint8_t hdr[SL_SHA256D_HDR_LEN], uint8_t out[SL_SHA256D_HASH_LEN])
{
	sha256d_hdr_count++;
	sha256d_hdr_one(hdr, out);
}

void sl_sha256d_hdrs(const uint8_t *hdrs, uint32_t n, uint8_t *out)
{
	uint32_t i = 0;
	sha256d_hdr_count += n;
#if SL_SHA256D_SHANI
	if (SL_LIKELY(sha256d_shani))
		for (; i + 2 <= n; i += 2)
			sl_sha256d_shani_hdr2(hdrs + (size_t)i * SL_SHA256D_HDR_LEN,
			                      hdrs + (size_t)(i + 1) * SL_SHA256D_HDR_LEN,
			                      out + (size_t)i * SL_SHA256D_HASH_LEN,
			                      out + (size_t)(i + 1) * SL_SHA256D_HASH_LEN);
#endif
	for (; i < n; i++)
		sha256d_hdr_one(hdrs + (size_t)i * SL_SHA256D_HDR_LEN,
		                out + (size_t)i * SL_SHA256D_HASH_LEN);
}

void sl_sha256d_mid_init(sl_sha256d_mid_t *m, const uint8_t hdr64[64])
{
	SHA256_CTX c;

	memcpy(c.h, sha256_iv, sizeof(sha256_iv));
	SHA256_Transform(&c, hdr64);
	memcpy(m->h, c.h, sizeof(m->h));
}

void sl_sha256d_mid_finish(const sl_sha256d_mid_t *m, const uint8_t tail16[16],
                           uint8_t out[SL_SHA256D_HASH_LEN])
{
	SHA256_CTX c;

	memcpy(c.h, m->h, sizeof(m->h));
	sha256d_tail(&c, tail16, out);
}

/* EVP: the EVP_MD is fetched once per process, the context once per thread
   (never freed: one small object per thread that hashes this way). */
static int sha256d_evp(const uint8_t *hdr, uint8_t *out)
{
	static EVP_MD *_Atomic md;
	static _Thread_local EVP_MD_CTX *ctx;
	uint8_t first[SL_SHA256D_HASH_LEN];
	EVP_MD *m = atomic_load_explicit(&md, memory_order_acquire);

	if (SL_UNLIKELY(m == NULL)) {
		EVP_MD *fresh = EVP_MD_fetch(NULL, "SHA256", NULL);
		EVP_MD *expect = NULL;
		if (fresh == NULL)
			return -1;
		if (!atomic_compare_exchange_strong(&md, &expect, fresh))
			EVP_MD_free(fresh);
		m = atomic_load_explicit(&md, memory_order_acquire);
	}
	if (SL_UNLIKELY(ctx == NULL) && (ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (!EVP_DigestInit_ex2(ctx, m, NULL) || !EVP_DigestUpdate(ctx, hdr, 80) ||
	    !EVP_DigestFinal_ex(ctx, first, NULL))
		return -1;
	if (!EVP_DigestInit_ex2(ctx, m, NULL) || !EVP_DigestUpdate(ctx, first, 32) ||
	    !EVP_DigestFinal_ex(ctx, out, NULL))
		return -1;
	return 0;
}

static void sha256d_lowlevel(const uint8_t *hdr, uint8_t *out)
{
	SHA256_CTX c;
	uint8_t first[SL_SHA256D_HASH_LEN];

	SHA256_Init(&c);
	SHA256_Update(&c, hdr, 80);
	SHA256_Final(first, &c);
	SHA256_Init(&c);
	SHA256_Update(&c, first, sizeof(first));
	SHA256_Final(out, &c);
}

int sl_sha256d_hdr_with(sl_sha256d_impl_t impl, const uint8_t hdr[SL_SHA256D_HDR_LEN],
                        uint8_t out[SL_SHA256D_HASH_LEN])
{
	switch (impl) {
	case SL_SHA256D_IMPL_TRANSFORM:
		sl_sha256d_hdr(hdr, out);
		return 0;
	case SL_SHA256D_IMPL_ONESHOT:
		sl_sha256d(hdr, SL_SHA256D_HDR_LEN, out);
		return 0;
	case SL_SHA256D_IMPL_EVP:
		return sha256d_evp(hdr, out);
	case SL_SHA256D_IMPL_LOWLEVEL:
		sha256d_lowlevel(hdr, out);
		return 0;
#if SL_SHA256D_SHANI
	case SL_SHA256D_IMPL_SHANI:
		if (!sha256d_shani)
			return -1;
		sl_sha256d_shani_hdr(hdr, out);
		return 0;
	case SL_SHA256D_IMPL_SHANI_X2: {
		uint8_t twin[SL_SHA256D_HASH_LEN];
		if (!sha256d_shani)
			return -1;
		sl_sha256d_shani_hdr2(hdr, hdr, out, twin);
		return 0;
	}
#endif
	default:
		return -1;
	}
}
