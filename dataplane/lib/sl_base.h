/* sl_base.h — the few macros and types every sluice file uses.
   Header only; includes the generated build configuration sl_config.h. */
#ifndef SL_BASE_H
#define SL_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdatomic.h>

#include "sl_config.h"

#define SL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SL_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define SL_CACHE_LINE   64
#define SL_CACHE_ALIGN  __attribute__((aligned(SL_CACHE_LINE)))
#define SL_PACKED       __attribute__((packed))
#define SL_UNUSED       __attribute__((unused))
#define SL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* SL_ALIGN_UP rounds x up to a multiple of a (a power of two). */
#define SL_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define SL_IS_POW2(x)     ((x) != 0 && (((x) & ((x)-1)) == 0))
#define SL_MIN(a, b)      ((a) < (b) ? (a) : (b))
#define SL_MAX(a, b)      ((a) > (b) ? (a) : (b))
#define SL_SWAP(a, b)                                                                              \
	do {                                                                                       \
		__typeof__(a) sl_swap_tmp_ = (a);                                                  \
		(a) = (b);                                                                         \
		(b) = sl_swap_tmp_;                                                                \
	} while (0)

/* Compiler-only barrier; CPU ordering uses C11 atomics with explicit order. */
#define SL_COMPILER_BARRIER() __asm__ volatile("" ::: "memory")

/* Relaxed single-writer counter bump: one documented owner writes, any
   thread or process may read a torn-free 64-bit value. */
#define SL_CNT_ADD(p, n)                                                                           \
	atomic_store_explicit((p), atomic_load_explicit((p), memory_order_relaxed) + (n),          \
	                      memory_order_relaxed)
#define SL_CNT_GET(p) atomic_load_explicit((p), memory_order_relaxed)

typedef _Atomic uint64_t sl_cnt_t;

/* SL_BUILD: what `--version` prints after the version, the defconfig and
   the build-time options a test or an operator needs to know about, e.g.
   "test_defconfig: usdt invariants test-hooks". */
#if SL_USDT
#define SL_BUILD_USDT_ " usdt"
#else
#define SL_BUILD_USDT_ ""
#endif
#if SL_INVARIANTS
#define SL_BUILD_INV_ " invariants"
#else
#define SL_BUILD_INV_ ""
#endif
#if SL_TEST_HOOKS
#define SL_BUILD_HOOKS_ " test-hooks"
#else
#define SL_BUILD_HOOKS_ ""
#endif
#define SL_BUILD SL_DEFCONFIG ":" SL_BUILD_USDT_ SL_BUILD_INV_ SL_BUILD_HOOKS_

#endif /* SL_BASE_H */
