/* sl_stream.c — the stream descriptor table (see sl_stream.h). */
#include "sl_stream.h"

#include "sl_log.h"

#define SL_STREAM_IDS 32u

static const sl_stream_t *sl_stream_list[SL_STREAM_MAX];
static int8_t sl_stream_idx[SL_STREAM_IDS]; /* id -> index + 1, 0 none */
static uint32_t sl_stream_n;

int sl_stream_register(const sl_stream_t *d)
{
	if (SL_UNLIKELY(d == NULL || d->id >= SL_STREAM_IDS || sl_stream_idx[d->id] != 0 ||
	                sl_stream_n == SL_STREAM_MAX || d->input == NULL)) {
		SL_ERR("stream descriptor %s refused (id taken, out of range or table full)",
		       d != NULL && d->name != NULL ? d->name : "?");
		return -1;
	}
	sl_stream_list[sl_stream_n] = d;
	sl_stream_idx[d->id] = (int8_t)(++sl_stream_n);
	return 0;
}

uint32_t sl_stream_count(void)
{
	return sl_stream_n;
}

const sl_stream_t *sl_stream_at(uint32_t i)
{
	return sl_stream_list[i];
}

int sl_stream_index(uint8_t id)
{
	return id < SL_STREAM_IDS ? sl_stream_idx[id] - 1 : -1;
}

const sl_stream_t *sl_stream_of(uint8_t id)
{
	int i = sl_stream_index(id);
	return i >= 0 ? sl_stream_list[i] : NULL;
}

const sl_stream_t *sl_stream_for_cmd(const sl_msg_t *m)
{
	for (uint32_t i = 0; i < sl_stream_n; i++) {
		const sl_stream_t *d = sl_stream_list[i];
		if (m->type >= 32 || (d->cmd_variants & (1u << m->type)) == 0 || d->command == NULL)
			continue;
		if (m->type != SL_CMDQ_V_SEND_FRAME)
			return d;
		if (m->len >= 1 && m->payload[0] < 32 && (d->send_kinds & (1u << m->payload[0])))
			return d;
	}
	return NULL;
}
