/* fuzz_chain.c — libFuzzer target "chain": chain validation (sl_chain.h)
   of an arbitrary header run.  Input: one mode byte, then 80-byte headers.
   Mode bits 0-1 pick the profile (sl_chain_profile_at, wrapping); bit 2
   clear: validate from the profile's genesis; bit 2 set: the next 4 bytes
   (little-endian) are a checkpoint height, the first header the trusted
   checkpoint and the next (bits 3-6) up to 15 trusted history; every
   header after that goes through sl_chain_ctx_run at a fixed "now".
   Checks that an accepted run's tip is the last accepted header. */
#include <stdlib.h>
#include <string.h>

#include "sl_chain.h"
#include "sl_sha256d.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHAIN_NOW 1900000000 /* 2030: every real header is in the past */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	size_t np = 0;
	while (sl_chain_profile_at(np) != NULL)
		np++;
	if (np == 0)
		abort();
	const sl_chain_profile_t *p = sl_chain_profile_at((mode & 3u) % np);
	const uint8_t *h = data + 1;
	size_t left = size - 1;
	sl_chain_ctx_t c;
	if (mode & 4u) {
		if (left < 4 + SL_CHAIN_HDR_LEN)
			return 0;
		uint32_t height = sl_chain_le32(h);
		h += 4, left -= 4;
		sl_chain_ctx_init_at(&c, p, height, h);
		h += SL_CHAIN_HDR_LEN, left -= SL_CHAIN_HDR_LEN;
		for (unsigned i = (mode >> 3) & 15u; i > 0 && left >= SL_CHAIN_HDR_LEN; i--) {
			sl_chain_ctx_push_trusted(&c, h);
			h += SL_CHAIN_HDR_LEN, left -= SL_CHAIN_HDR_LEN;
		}
	} else {
		sl_chain_ctx_init(&c, p);
	}
	/* An exact copy: ASan sees a read past the last header. */
	size_t n = left / SL_CHAIN_HDR_LEN;
	uint8_t *run = malloc(n * SL_CHAIN_HDR_LEN + 1);
	memcpy(run, h, n * SL_CHAIN_HDR_LEN);
	uint32_t h0 = c.height;
	size_t done = 0;
	sl_chain_ctx_run(&c, run, n, FUZZ_CHAIN_NOW, &done);
	if (done > n || c.height != h0 + done)
		abort();
	if (done > 0) {
		uint8_t hash[32];
		sl_sha256d_hdr(run + (done - 1) * SL_CHAIN_HDR_LEN, hash);
		if (memcmp(hash, c.tip_hash, 32) != 0)
			abort();
	}
	free(run);
	return 0;
}
