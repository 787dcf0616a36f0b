/* fuzz_wire.c — libFuzzer target "wire": the frame codec (sl_wire.h) on
   arbitrary bytes.  The input is a UDP payload: sl_wire_decode_frame must
   not read outside it, and whatever decodes re-encodes to the same bytes
   (the codec's promise); then the input's bytes are decoded as the payload
   of every (stream, type), and each that decodes must round-trip too. */
#include <stdlib.h>
#include <string.h>

#include "sl_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_wire_same aborts unless `m` (stream, type) re-encodes to p[0..len). */
static void fuzz_wire_same(uint8_t stream, uint8_t type, const sl_wire_msg_t *m, const uint8_t *p,
                           size_t len)
{
	uint8_t out[SL_WIRE_MAX_UDP];
	size_t n = sl_wire_encode_msg(stream, type, out, sizeof out, m);
	if (n != len || memcmp(out, p, len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes: ASan sees any read past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	memcpy(buf, data, size);
	sl_wire_hdr_t h;
	sl_wire_msg_t m;
	sl_wire_err_t e = sl_wire_decode_frame(buf, size, &h, &m);
	if (e == SL_WIRE_OK) {
		uint8_t out[SL_WIRE_MAX_UDP];
		sl_wire_hdr_t h2 = h;
		size_t n = sl_wire_encode_frame(out, sizeof out, &h2, &m);
		size_t want = SL_WIRE_HDR_LEN + h.length;
		if (n != want || h2.length != h.length || memcmp(out, buf, want) != 0)
			abort();
	}
	static const uint8_t streams[] = {SL_WIRE_STREAM_SESSION, SL_WIRE_STREAM_DISCOVERY,
	                                  SL_WIRE_STREAM_HSYNC};
	for (size_t s = 0; s < sizeof streams; s++) {
		for (uint8_t t = 1; t <= 7; t++) {
			if (sl_wire_check_type(streams[s], t) != SL_WIRE_OK)
				continue;
			if (sl_wire_decode_msg(streams[s], t, buf, size, &m) == SL_WIRE_OK)
				fuzz_wire_same(streams[s], t, &m, buf, size);
		}
	}
	free(buf);
	return 0;
}
