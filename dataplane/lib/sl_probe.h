/* sl_probe.h — USDT probes of provider `sluice` (SPEC.md §11).
   Each probe has a semaphore (defined once, in sl_probe.c), so a probe site
   costs one predictable load-and-branch while no tracer is attached.  With
   CONFIG_SL_USDT=n every SL_PROBE_* compiles to nothing and arguments are
   not evaluated.  Argument order and widths follow SPEC.md §11; call sites
   cast to the documented widths. */
#ifndef SL_PROBE_H
#define SL_PROBE_H

#include "sl_base.h"

/* Probe names, one line each; the list drives declarations in
   sl_probe.c and the semaphore externs below. */
#define SL_PROBE_LIST(X)                                                                           \
	X(rx_burst)                                                                                \
	X(frame_drop)                                                                              \
	X(session_up)                                                                              \
	X(session_down)                                                                            \
	X(routine_run)                                                                             \
	X(range_take)                                                                              \
	X(range_return)                                                                            \
	X(range_covered)                                                                           \
	X(misbehavior)                                                                             \
	X(cmd_park)                                                                                \
	X(headers_rx)                                                                              \
	X(store_commit)                                                                            \
	X(op_start)                                                                                \
	X(op_done)

#if SL_USDT

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

#define SL_PROBE_SEM_EXTERN(name) extern volatile unsigned short sluice_##name##_semaphore;
SL_PROBE_LIST(SL_PROBE_SEM_EXTERN)
#undef SL_PROBE_SEM_EXTERN

/* SL_PROBE_ENABLED is true while a tracer is attached to `name`. */
#define SL_PROBE_ENABLED(name) SL_UNLIKELY(sluice_##name##_semaphore)

#define SL_PROBE2(n, a, b)                                                                         \
	do {                                                                                       \
		if (SL_PROBE_ENABLED(n))                                                           \
			DTRACE_PROBE2(sluice, n, a, b);                                            \
	} while (0)
#define SL_PROBE3(n, a, b, c)                                                                      \
	do {                                                                                       \
		if (SL_PROBE_ENABLED(n))                                                           \
			DTRACE_PROBE3(sluice, n, a, b, c);                                         \
	} while (0)
#define SL_PROBE4(n, a, b, c, d)                                                                   \
	do {                                                                                       \
		if (SL_PROBE_ENABLED(n))                                                           \
			DTRACE_PROBE4(sluice, n, a, b, c, d);                                      \
	} while (0)
#define SL_PROBE5(n, a, b, c, d, e)                                                                \
	do {                                                                                       \
		if (SL_PROBE_ENABLED(n))                                                           \
			DTRACE_PROBE5(sluice, n, a, b, c, d, e);                                   \
	} while (0)

#else /* !SL_USDT */

/* Compiled out: the arguments are never evaluated, but stay "used" so
   values computed only for a probe do not trip -Wunused. */
#define SL_PROBE_ENABLED(name) 0
#define SL_PROBE2(n, a, b)                                                                         \
	do {                                                                                       \
		if (0) {                                                                           \
			(void)(a);                                                                 \
			(void)(b);                                                                 \
		}                                                                                  \
	} while (0)
#define SL_PROBE3(n, a, b, c)                                                                      \
	do {                                                                                       \
		if (0) {                                                                           \
			(void)(a);                                                                 \
			(void)(b);                                                                 \
			(void)(c);                                                                 \
		}                                                                                  \
	} while (0)
#define SL_PROBE4(n, a, b, c, d)                                                                   \
	do {                                                                                       \
		if (0) {                                                                           \
			(void)(a);                                                                 \
			(void)(b);                                                                 \
			(void)(c);                                                                 \
			(void)(d);                                                                 \
		}                                                                                  \
	} while (0)
#define SL_PROBE5(n, a, b, c, d, e)                                                                \
	do {                                                                                       \
		if (0) {                                                                           \
			(void)(a);                                                                 \
			(void)(b);                                                                 \
			(void)(c);                                                                 \
			(void)(d);                                                                 \
			(void)(e);                                                                 \
		}                                                                                  \
	} while (0)

#endif /* SL_USDT */

/* The probes of SPEC.md §11, with their argument widths. */
#define SL_PROBE_RX_BURST(lcore, nb_rx) SL_PROBE2(rx_burst, (uint32_t)(lcore), (uint16_t)(nb_rx))
#define SL_PROBE_FRAME_DROP(lcore, reason)                                                         \
	SL_PROBE2(frame_drop, (uint32_t)(lcore), (uint16_t)(reason))
#define SL_PROBE_SESSION_UP(sess, ip, port, streams)                                               \
	SL_PROBE4(session_up, (uint32_t)(sess), (uint32_t)(ip), (uint16_t)(port),                  \
	          (uint32_t)(streams))
#define SL_PROBE_SESSION_DOWN(sess, reason)                                                        \
	SL_PROBE2(session_down, (uint32_t)(sess), (uint16_t)(reason))
#define SL_PROBE_ROUTINE_RUN(sess, stream, ns)                                                     \
	SL_PROBE3(routine_run, (uint32_t)(sess), (uint8_t)(stream), (uint64_t)(ns))
#define SL_PROBE_RANGE_TAKE(start, len, sess, gen)                                                 \
	SL_PROBE4(range_take, (uint32_t)(start), (uint32_t)(len), (uint32_t)(sess), (uint32_t)(gen))
#define SL_PROBE_RANGE_RETURN(start, len, sess, gen, why)                                          \
	SL_PROBE5(range_return, (uint32_t)(start), (uint32_t)(len), (uint32_t)(sess),              \
	          (uint32_t)(gen), (uint16_t)(why))
#define SL_PROBE_RANGE_COVERED(start, len)                                                         \
	SL_PROBE2(range_covered, (uint32_t)(start), (uint32_t)(len))
#define SL_PROBE_MISBEHAVIOR(sess, kind) SL_PROBE2(misbehavior, (uint32_t)(sess), (uint16_t)(kind))
#define SL_PROBE_CMD_PARK(sess, stream)  SL_PROBE2(cmd_park, (uint32_t)(sess), (uint8_t)(stream))
#define SL_PROBE_HEADERS_RX(sess, start, n)                                                        \
	SL_PROBE3(headers_rx, (uint32_t)(sess), (uint32_t)(start), (uint8_t)(n))
#define SL_PROBE_STORE_COMMIT(height, n, ns)                                                       \
	SL_PROBE3(store_commit, (uint32_t)(height), (uint32_t)(n), (uint64_t)(ns))
#define SL_PROBE_OP_START(tx, kind) SL_PROBE2(op_start, (uint64_t)(tx), (uint16_t)(kind))
#define SL_PROBE_OP_DONE(tx, kind, status, ns)                                                     \
	SL_PROBE4(op_done, (uint64_t)(tx), (uint16_t)(kind), (int32_t)(status), (uint64_t)(ns))

#endif /* SL_PROBE_H */
