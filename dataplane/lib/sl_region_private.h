/* sl_region_private.h — magic, layout version and geometry of the shared
   control region (sl_region.h).  Only sl_region.c and tests include this;
   bump SL_REGION_LAYOUT on any change to sl_region_hdr_t, sl_region_lcore_t,
   sl_msg_t or the order below.

   sl_region_create writes the header (geometry, offsets, identity); the
   creator formats every object at its offset with the object's own new()
   (sl_dpregion.c); sl_region_mark_formatted writes the magic last.

   Layout, every block at an SL_REGION_ALIGN boundary:
     0                     sl_region_hdr_t
     off_lcore[0..n-1]     sl_region_lcore_t, one after the other
     lcore i cmd ring      sl_msgq of SL_CMD_RING_DEPTH sl_msg_t
     lcore i event ring    sl_msgq of SL_EVENT_RING_DEPTH sl_msg_t
     off_rangeq            sl_rangeq (sl_rangeq_footprint(SL_RANGE_WINDOW))
     off_sess[0..n-1]      sl_session_table_t of lcore i (sl_session_table_footprint())
     off_cmdq              sl_cmdq blocks (sl_cmdq_footprint(n))
     off_status            sl_status (sl_status_footprint())
     off_pbook             sl_pbook (sl_pbook_footprint())
   then zero padding up to the page size (4096, or the huge page size). */
#ifndef SL_REGION_PRIVATE_H
#define SL_REGION_PRIVATE_H

#define SL_REGION_MAGIC  0x534c524547494f4eULL /* "SLREGION" */
#define SL_REGION_LAYOUT 10u                   /* 10: ctrl_bell, dp_bell_pid (sl_bell.h) */
#define SL_REGION_ALIGN  128u                  /* >= RTE_CACHE_LINE_SIZE on every target */
#define SL_REGION_PAGE   4096u                 /* page size on tmpfs (/dev/shm) */
#define SL_REGION_MODE   0660 /* dp and ctrl may run as different users of one group */

#endif /* SL_REGION_PRIVATE_H */
