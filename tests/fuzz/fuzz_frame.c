/* fuzz_frame.c — libFuzzer target "frame": whole Ethernet frames through
   the dataplane's RX path on a test lcore (fuzz_lcore.h) with sessions
   installed: L2 checks, sl_net parse, ARP / ICMP / UDP dispatch, the
   sluice header, demux, the live session's frame path (anti-replay,
   decode, backpressure) and the routines' input — the session stream,
   discovery, header sync — and the connect path of the outbound slot.
   Input: up to 16 records [u8 ctl][u16 len, big-endian][len bytes].
     ctl bit0 clear: the bytes are a whole Ethernet frame, as received.
     ctl bit0 set:   the bytes are a sluice UDP payload, sent by the peer
                     of slot (ctl >> 2) & 3 (Ethernet / IPv4 / UDP added,
                     checksums valid); a non-zero session field is
                     replaced by that slot's session id (ids move with
                     every input's installs).
     ctl bit1 set:   after the frame, the clock moves (ctl >> 4) * 100 ms
                     and the deadline, liveness and pull phases run.
   Every input starts from the same installed sessions and ends with all
   of them torn down and every event and frame drained. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_lcore.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FRAME_RECORDS 16
#define FUZZ_FRAME_MAX     2048

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_lcore_init("fuzz_frame");
	return 0;
}

static void fuzz_frame_one(uint8_t ctl, const uint8_t *b, uint16_t len)
{
	static uint8_t f[FUZZ_FRAME_MAX + 64];
	if (!(ctl & 1u)) {
		fuzz_lcore_frame(b, len);
		return;
	}
	uint32_t slot = (ctl >> 2) & 3u;
	uint8_t pl[FUZZ_FRAME_MAX];
	memcpy(pl, b, len);
	if (len >= SL_WIRE_HDR_LEN && (pl[8] | pl[9] | pl[10] | pl[11]) != 0) {
		uint32_t sid = sl_routine_peer(&fuzz_lc.lc, slot)->sid;
		pl[8] = (uint8_t)(sid >> 24), pl[9] = (uint8_t)(sid >> 16);
		pl[10] = (uint8_t)(sid >> 8), pl[11] = (uint8_t)sid;
	}
	uint32_t n = fuzz_lcore_udp(f, sizeof f, slot, pl, len);
	if (n != 0)
		fuzz_lcore_frame(f, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_lcore_begin();
	size_t at = 0;
	for (int i = 0; i < FUZZ_FRAME_RECORDS && at + 3 <= size; i++) {
		uint8_t ctl = data[at];
		size_t len = (size_t)data[at + 1] << 8 | data[at + 2];
		at += 3;
		if (len > size - at)
			len = size - at;
		if (len > FUZZ_FRAME_MAX)
			len = FUZZ_FRAME_MAX;
		/* an exact copy: ASan sees a read past the frame */
		uint8_t *b = malloc(len ? len : 1);
		memcpy(b, data + at, len);
		fuzz_frame_one(ctl, b, (uint16_t)len);
		free(b);
		at += len;
		if (ctl & 2u)
			fuzz_lcore_tick((uint32_t)(ctl >> 4) * 100u);
	}
	fuzz_lcore_end(NULL, NULL);
	return 0;
}
