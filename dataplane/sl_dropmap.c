/* sl_dropmap.c — error enum -> sl_drop_t (see sl_dropmap.h). */
#include "sl_dropmap.h"

/* Every sl_net error has a drop reason of the same suffix (sl_net.h). */
static const uint8_t sl_dropmap_net_tab[SL_NET_ERR_CNT] = {[SL_NET_OK] = SL_DROP_CNT,
#define SL_DROPMAP_NET(e, s) [SL_NET_ERR_##e] = SL_DROP_##e,
                                                           SL_NET_ERR_LIST(SL_DROPMAP_NET)
#undef SL_DROPMAP_NET
};

_Static_assert(SL_DROP_CNT < 256, "drop reasons must fit the uint8_t table");

sl_drop_t sl_dropmap_net(sl_net_err_t err)
{
	return (unsigned)err < SL_NET_ERR_CNT ? (sl_drop_t)sl_dropmap_net_tab[err] : SL_DROP_CNT;
}

sl_drop_t sl_dropmap_wire(sl_wire_err_t err)
{
	/* Header rules have their own reasons; every payload rule of any
	   message (TYPE, PAYLOAD_LEN, RESERVED, ..., TOO_MANY) is SL_PAYLOAD. */
	switch (err) {
	case SL_WIRE_ERR_OK:
		return SL_DROP_CNT;
	case SL_WIRE_ERR_SHORT:
		return SL_DROP_SL_SHORT;
	case SL_WIRE_ERR_MAGIC:
		return SL_DROP_SL_MAGIC;
	case SL_WIRE_ERR_VERSION:
		return SL_DROP_SL_VERSION;
	case SL_WIRE_ERR_LENGTH:
		return SL_DROP_SL_LENGTH;
	case SL_WIRE_ERR_FLAGS:
		return SL_DROP_SL_FLAGS;
	case SL_WIRE_ERR_OVERSIZE:
		return SL_DROP_SL_OVERSIZE;
	case SL_WIRE_ERR_STREAM:
		return SL_DROP_SL_STREAM;
	case SL_WIRE_ERR_SESSION:
		return SL_DROP_SL_NO_SESSION;
	default:
		return (unsigned)err < SL_WIRE_ERR_CNT ? SL_DROP_SL_PAYLOAD : SL_DROP_CNT;
	}
}
