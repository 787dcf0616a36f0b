/* sl_msg.h — the vocabulary of the region's rings: event types (lcore ->
   ctrl) and command types (ctrl -> lcore) carried in sl_msg_t.type, and the
   payload layout of each.  Shared by sluice-dp (producer of events,
   consumer of commands) and sluice-ctrl (the other way round).  Adding a
   type is one enumerator plus its payload struct here. */
#ifndef SL_MSG_H
#define SL_MSG_H

#include "sl_region.h"
#include "sl_wire.h"

/* Events, lcore -> ctrl (DESIGN.md "Peer routines": narrow shared-effect
   events).  Values are ABI of the region: append only. */
typedef enum {
	SL_EVT_NONE = 0,
	SL_EVT_HELLO = 1, /* sl_evt_hello_t: a HELLO for admission */
	SL_EVT_TYPE_CNT
} sl_evt_type_t;

/* Commands, ctrl -> lcore.  None yet (sessions arrive with admission). */
typedef enum { SL_CMD_NONE = 0, SL_CMD_TYPE_CNT } sl_cmd_type_t;

/* Payload of SL_EVT_HELLO (sl_msg_t.payload; msg.len = sizeof this).
   The HELLO payload is carried as received (wire bytes, hello_len of them,
   120 or 152) so ctrl decodes it with sl_wire_decode_hello; sl_msg_t.corr
   is the frame's corr, sl_msg_t.lcore the receiving worker index. */
typedef struct {
	uint32_t src_ip;   /* host order */
	uint16_t src_port; /* host order */
	uint16_t vlan_tci; /* 0 when untagged */
	uint8_t src_mac[6];
	uint16_t hello_len;
	uint32_t seq; /* the frame header's seq */
	uint8_t hello[SL_WIRE_HELLO_LEN + SL_WIRE_PUBKEY_LEN];
} sl_evt_hello_t;
_Static_assert(sizeof(sl_evt_hello_t) <= sizeof(((sl_msg_t *)0)->payload),
               "sl_evt_hello_t must fit an sl_msg_t payload");

/* sl_evt_type_str names an event type for logs ("hello"), "?" if unknown. */
static inline const char *sl_evt_type_str(unsigned t)
{
	static const char *const names[SL_EVT_TYPE_CNT] = {"none", "hello"};
	return t < SL_EVT_TYPE_CNT ? names[t] : "?";
}

#endif /* SL_MSG_H */
