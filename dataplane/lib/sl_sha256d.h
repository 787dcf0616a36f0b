/* sl_sha256d.h — double SHA-256, the block-header hash (SPEC.md §7).
   Owner: the chain module (sl_chain) and anything that hashes headers.
   Backed by OpenSSL 3 libcrypto, which dispatches to the CPU's SHA
   extensions (SHA-NI) when present.  No allocation, no locks, no syscalls:
   safe on the hot path and from any thread.  Hashes are produced in wire
   order (as computed, not reversed). */
#ifndef SL_SHA256D_H
#define SL_SHA256D_H

#include "sl_base.h"

#define SL_SHA256D_HDR_LEN  80
#define SL_SHA256D_HASH_LEN 32

/* Implementations, all giving identical results; the bench compares them.
   TRANSFORM (the default) feeds the three compression-function blocks of
   an 80-byte header straight to OpenSSL's SHA256_Transform with the padding
   precomputed; ONESHOT calls SHA256() twice; EVP uses a per-thread
   EVP_MD_CTX with the EVP_MD fetched once; LOWLEVEL uses SHA256_Init/
   Update/Final; SHANI is sluice's own SHA-NI code, one header at a time;
   SHANI_X2 hashes two headers interleaved (sl_sha256d_hdrs uses it for
   pairs when the CPU has SHA-NI; one header alone is hashed as a pair
   with itself).  The SHANI ones exist only where the CPU has SHA-NI
   (sl_sha256d_impl_ok). */
#define SL_SHA256D_IMPL_LIST(X)                                                                    \
	X(TRANSFORM, "openssl-transform")                                                          \
	X(ONESHOT, "openssl-sha256")                                                               \
	X(EVP, "openssl-evp")                                                                      \
	X(LOWLEVEL, "openssl-lowlevel")                                                            \
	X(SHANI, "sha-ni")                                                                         \
	X(SHANI_X2, "sha-ni-x2")

typedef enum {
#define SL_SHA256D_IMPL_ENUM(name, str) SL_SHA256D_IMPL_##name,
	SL_SHA256D_IMPL_LIST(SL_SHA256D_IMPL_ENUM)
#undef SL_SHA256D_IMPL_ENUM
	    SL_SHA256D_IMPL_COUNT
} sl_sha256d_impl_t;

/* sl_sha256d_impl_str names an implementation ("?" when out of range). */
const char *sl_sha256d_impl_str(sl_sha256d_impl_t impl);

/* sl_sha256d_impl_ok says whether `impl` runs on this CPU (the SHANI ones
   need SHA-NI, SSSE3 and SSE4.1; CPUID is read once at start-up). */
bool sl_sha256d_impl_ok(sl_sha256d_impl_t impl);

/* sl_sha256d computes SHA256(SHA256(data[0..len))) into out. */
void sl_sha256d(const void *data, size_t len, uint8_t out[SL_SHA256D_HASH_LEN]);

/* sl_sha256d_hdr hashes one 80-byte header with the fastest implementation
   (SL_SHA256D_IMPL_TRANSFORM).  The header hash of Bitcoin. */
void sl_sha256d_hdr(const uint8_t hdr[SL_SHA256D_HDR_LEN], uint8_t out[SL_SHA256D_HASH_LEN]);

/* sl_sha256d_hdrs hashes n consecutive 80-byte headers (hdrs[80 * i]) into
   out[32 * i], the same hashes as n calls of sl_sha256d_hdr: two at a time
   interleaved on SHA-NI (SHANI_X2) when the CPU has it, else one by one.
   The batch call of a HEADERS frame's check. */
void sl_sha256d_hdrs(const uint8_t *hdrs, uint32_t n, uint8_t *out);

/* sl_sha256d_hdr_calls is how many headers this thread has hashed with
   sl_sha256d_hdr / sl_sha256d_hdrs so far (a per-thread counter, one add
   per call): tests use it to show each header is hashed once. */
uint64_t sl_sha256d_hdr_calls(void);

/* sl_sha256d_hdr_with hashes one header with a chosen implementation.
   Returns 0, or -1 when `impl` is out of range or the EVP path failed. */
int sl_sha256d_hdr_with(sl_sha256d_impl_t impl, const uint8_t hdr[SL_SHA256D_HDR_LEN],
                        uint8_t out[SL_SHA256D_HASH_LEN]);

/* Midstate: the SHA-256 state after the first 64 bytes of a header.  A
   miner that only changes the last 16 bytes (merkle tail, time, bits,
   nonce) saves one of the three compressions per try. */
typedef struct {
	uint32_t h[8];
} sl_sha256d_mid_t;

/* sl_sha256d_mid_init absorbs hdr[0..64) into *m. */
void sl_sha256d_mid_init(sl_sha256d_mid_t *m, const uint8_t hdr64[64]);

/* sl_sha256d_mid_finish completes the double hash of the header whose first
   64 bytes made *m and whose last 16 bytes are tail16; *m is unchanged. */
void sl_sha256d_mid_finish(const sl_sha256d_mid_t *m, const uint8_t tail16[16],
                           uint8_t out[SL_SHA256D_HASH_LEN]);

#endif /* SL_SHA256D_H */
