/* sl_dropmap.h — the one table from parse / decode errors to drop reasons.
   sl_net errors (sl_net.h) and sl_wire errors (sl_wire.h) each map to the
   sl_drop_t (sl_counters.h) that counts a frame dropped for that reason.
   Pure lookups, usable on the per-frame path and without EAL. */
#ifndef SL_DROPMAP_H
#define SL_DROPMAP_H

#include "sl_counters.h"
#include "sl_net.h"
#include "sl_wire.h"

/* sl_dropmap_net: the drop reason of a failed sl_net_parse; SL_DROP_CNT
   for SL_NET_OK or an out-of-range value (not a drop). */
sl_drop_t sl_dropmap_net(sl_net_err_t err);

/* sl_dropmap_wire: the drop reason of a failed sl_wire decode.  Header
   errors map to their SL_DROP_SL_* twin, STREAM to SL_STREAM, SESSION to
   SL_NO_SESSION (a frame that names no live session), every payload rule
   (TYPE, PAYLOAD_LEN, RESERVED, ..., TOO_MANY) to SL_PAYLOAD.  SL_DROP_CNT
   for SL_WIRE_OK or an out-of-range value. */
sl_drop_t sl_dropmap_wire(sl_wire_err_t err);

#endif /* SL_DROPMAP_H */
