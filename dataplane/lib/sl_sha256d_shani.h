/* sl_sha256d_shani.h — SHA-256d of 80-byte headers on the x86 SHA
   extensions (SHA-NI), one header at a time or two interleaved (the two
   dependency chains of SHA256RNDS2 fill each other's latency).  Internal
   to sl_sha256d: built only on x86-64, with -msha -msse4.1, and called
   only after sl_sha256d_shani_ok() said yes.  No allocation, no locks. */
#ifndef SL_SHA256D_SHANI_H
#define SL_SHA256D_SHANI_H

#include "sl_base.h"

/* sl_sha256d_shani_ok: does this CPU have SHA-NI, SSSE3 and SSE4.1
   (CPUID)?  Cheap; the caller keeps the answer. */
bool sl_sha256d_shani_ok(void);

/* sl_sha256d_shani_hdr hashes one header (out: 32 bytes, wire order). */
void sl_sha256d_shani_hdr(const uint8_t *hdr, uint8_t *out);

/* sl_sha256d_shani_hdr2 hashes two headers in one interleaved pass. */
void sl_sha256d_shani_hdr2(const uint8_t *h0, const uint8_t *h1, uint8_t *o0, uint8_t *o1);

#endif /* SL_SHA256D_SHANI_H */
