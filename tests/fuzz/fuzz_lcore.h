/* fuzz_lcore.h — a test lcore for the fuzz targets that drive the
   dataplane's frame path: one worker (the sl_lcore_t of sluice-dp) over a
   net_null port in a --no-huge, in-memory EAL, its region in a private
   directory, the three stream descriptors sluice-dp registers, and
   sessions installed through the real command path (sl_cmdq_send ->
   sl_cmd_phase -> sl_connect_install) exactly as ctrl installs them, the
   regtest profile, and a header store of FUZZ_LCORE_HEADERS headers
   mapped for serving.
   Frames go in through sl_ingress_frame; what the lcore sends goes out
   the net_null port; events are drained from the region's event ring as
   ctrl drains them.  One instance per process; single threaded. */
#ifndef FUZZ_LCORE_H
#define FUZZ_LCORE_H

#include "sl_dp.h"
#include "sl_lcore.h"
#include "sl_msg.h"
#include "sl_routine.h"

/* The installed sessions: slot i's peer is 10.0.0.(10 + i), port 9747 + i,
   MAC 02:00:00:00:00:(10 + i). */
#define FUZZ_LCORE_SLOTS 4
enum {
	FUZZ_SLOT_IN_ALL = 0,  /* inbound (ACCEPT), streams 0, 1, 5 */
	FUZZ_SLOT_IN_DISC = 1, /* inbound, discovery only (0, 1) */
	FUZZ_SLOT_IN_SYNC = 2, /* inbound, header sync only (0, 5) */
	FUZZ_SLOT_OUT = 3,     /* outbound (CONNECT), offers 0, 1, 5: CONNECTING */
};

/* The header store the lcore serves from: regtest heights 0 .. 63. */
#define FUZZ_LCORE_HEADERS 64

#define FUZZ_LCORE_IP   0x0a000001u /* ours: 10.0.0.1, udp 9747 */
#define FUZZ_LCORE_PEER 0x0a00000au /* slot 0's peer */

typedef struct {
	sl_dp_t dp;
	sl_lcore_t lc;
	char dir[64];
	uint32_t gen; /* install generations: one counter, as ctrl's */
} fuzz_lcore_t;

extern fuzz_lcore_t fuzz_lc;

/* fuzz_lcore_init (from LLVMFuzzerInitialize) brings the lcore up; aborts
   on failure. */
void fuzz_lcore_init(const char *name);

/* fuzz_lcore_begin installs the sessions (the outbound one is left
   CONNECTING) and moves the clock 10 s on (rate limiters refill: every
   input starts alike). */
void fuzz_lcore_begin(void);

/* fuzz_lcore_end tears every slot down, drains the events (each given to
   fn when fn is not NULL) and flushes TX: nothing carries over. */
void fuzz_lcore_end(void (*fn)(const sl_msg_t *m, void *ctx), void *ctx);

/* fuzz_lcore_events drains the event ring (fn may be NULL). */
void fuzz_lcore_events(void (*fn)(const sl_msg_t *m, void *ctx), void *ctx);

/* fuzz_lcore_frame puts `len` bytes (a whole Ethernet frame) in an mbuf
   and through sl_ingress_frame; then flushes TX. */
void fuzz_lcore_frame(const uint8_t *f, size_t len);

/* fuzz_lcore_udp wraps a sluice UDP payload as slot `slot`'s peer sends it
   to us (Ethernet / IPv4 / UDP, checksums valid) into out (cap bytes);
   returns the frame's length, 0 when it does not fit. */
uint32_t fuzz_lcore_udp(uint8_t *out, uint32_t cap, uint32_t slot, const uint8_t *pl, uint16_t len);

/* fuzz_lcore_tick moves the clock by ms and runs the deadline and liveness
   phases. */
void fuzz_lcore_tick(uint32_t ms);

#endif /* FUZZ_LCORE_H */
