/* sl_cmd.h — the command phase of a worker lcore (DESIGN.md poll cycle
   step 2, "Commands to routines"): drains up to SL_CMD_DRAIN_MAX records
   of this lcore's command ring.  Per-session variants (type <
   SL_CMD_LCORE_BASE) go through sl_cmdq_accept: DELIVER acts (install ->
   sl_connect, teardown -> GOODBYE + the common teardown, routine variants
   to the stream descriptor that claims them, sl_stream.h), STALE / PARKED / INVALID are counted
   (cmds_stale; a parked header-sync service fires cmd_park).  SL_CMD_REJECT answers a HELLO with
   REJECT. */
#ifndef SL_CMD_H
#define SL_CMD_H

#include "sl_lcore.h"

#define SL_CMD_DRAIN_MAX SL_BURST

/* sl_cmd_phase runs the command phase once. */
void sl_cmd_phase(sl_lcore_t *lc);

#endif /* SL_CMD_H */
