/* sl_cmdq_private.h — magic, layout version and shared layout of the
   per-peer command blocks (sl_cmdq.h).  Only sl_cmdq.c and tests include
   this; bump SL_CMDQ_LAYOUT on any change below.

   Layout: struct sl_cmdq_shm | sl_cmdq_lcnt_t [n_lcores] (off_cnt) |
   sl_cmdq_block_t [n_lcores][SL_SESSIONS_PER_LCORE] (off_blocks). */
#ifndef SL_CMDQ_PRIVATE_H
#define SL_CMDQ_PRIVATE_H

#include "sl_cmdq.h"
#include "sl_counters.h"

#define SL_CMDQ_MAGIC  0x736c636d64713031ull /* "slcmdq01" */
#define SL_CMDQ_LAYOUT 1u

#define SL_CMDQ_STATUS_WORDS (1 + SL_CMDQ_STATUS_MAX / 8) /* word 0: gen | len << 32 */
#define SL_CMDQ_SPIN_MAX     64

_Static_assert(SL_CMDQ_STATUS_MAX % 8 == 0, "STATUS slot is whole words");
_Static_assert(SL_CMD_RING_DEPTH > 2 * SL_CMDQ_RING_RESERVE, "ring too small for the reserve");
_Static_assert(SL_CMD_DEPTH > 0 && SL_CMD_DEPTH < (1u << 31), "per-peer depth out of range");
_Static_assert(SL_CMDQ_PAYLOAD_MAX == sizeof(((sl_msg_t *)0)->payload), "payload size");

typedef struct SL_CACHE_ALIGN {
	/* owner: ctrl (gen is also CASed to 0 by the lcore on detach) */
	_Atomic uint32_t sent;
	_Atomic uint32_t gen;
	_Atomic uint32_t parked;
	uint32_t pad0;
	_Atomic uint64_t wake;
	uint64_t ring_seq; /* corr stamp, ctrl only */
	sl_cnt_t dropped;  /* FORWARD_NEW_BLOCK drops */
	/* owner: the lcore */
	SL_CACHE_ALIGN _Atomic uint32_t consumed;
	/* owner: ctrl; seqlock, odd while a write is in progress */
	SL_CACHE_ALIGN _Atomic uint64_t status_seq;
	uint64_t status[SL_CMDQ_STATUS_WORDS];
} sl_cmdq_block_t;
_Static_assert(sizeof(sl_cmdq_block_t) == 256, "a block is four cache lines");

typedef struct SL_CACHE_ALIGN {
	sl_cnt_t out[SL_CMDQ_OUTCOME_CNT];          /* owner: ctrl */
	SL_CACHE_ALIGN sl_cnt_t rx[SL_CMDQ_RX_CNT]; /* owner: the lcore */
} sl_cmdq_lcnt_t;

struct SL_CACHE_ALIGN sl_cmdq_shm {
	uint64_t magic; /* written last by new */
	uint32_t layout;
	uint32_t n_lcores;
	uint32_t slots;
	uint32_t depth;
	uint32_t block_size;
	uint32_t pad0;
	uint64_t size;
	uint64_t off_cnt;
	uint64_t off_blocks;
};

#endif /* SL_CMDQ_PRIVATE_H */
