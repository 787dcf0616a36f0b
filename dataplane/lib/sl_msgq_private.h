/* sl_msgq_private.h — magic, layout version and shared layout of a message
   ring (sl_msgq.h).  Only sl_msgq.c and tests include this; bump
   SL_MSGQ_LAYOUT on any change below.

   Layout: sl_msgq_shm_t (one cache line: magic, layout, depth, record
   size) | rte_ring with its records (rte_ring_get_memsize_elem). */
#ifndef SL_MSGQ_PRIVATE_H
#define SL_MSGQ_PRIVATE_H

#include "sl_msgq.h"

#define SL_MSGQ_MAGIC  0x736c6d7367713031ull /* "slmsgq01" */
#define SL_MSGQ_LAYOUT 1u

typedef struct SL_CACHE_ALIGN {
	_Atomic uint64_t magic; /* SL_MSGQ_MAGIC, written last by new, cleared by delete */
	uint32_t layout;        /* SL_MSGQ_LAYOUT */
	uint32_t depth;         /* records (a power of two) */
	uint32_t msg_size;      /* SL_MSG_SIZE */
} sl_msgq_shm_t;
_Static_assert(sizeof(sl_msgq_shm_t) == SL_MSGQ_HDR_SIZE, "the ring follows one cache line");

#endif /* SL_MSGQ_PRIVATE_H */
