/* sl_backoff.c — backpressure meter and BACKOFF honouring (sl_backoff.h). */
#include <string.h>

#include "sl_backoff.h"
#include "sl_time.h"

_Static_assert(SL_BACKOFF_MARK_PCT >= 1 && SL_BACKOFF_MARK_PCT <= 100, "mark is a percentage");
_Static_assert(SL_BACKOFF_NOTICES >= 1, "K must be at least 1");
_Static_assert(sizeof(sl_backoff_peer_t) == 16u, "sl_backoff.h documents this footprint");

static const char *const backoff_err_names[] = {
#define SL_BACKOFF_ERR_NAME(e, s) s,
    SL_BACKOFF_ERR_LIST(SL_BACKOFF_ERR_NAME)
#undef SL_BACKOFF_ERR_NAME
};

static const char *const backoff_action_names[] = {"none", "send", "drop_silent"};

const char *sl_backoff_err_str(sl_backoff_err_t err)
{
	return (unsigned)err < SL_ARRAY_LEN(backoff_err_names) ? backoff_err_names[err] : "?";
}

const char *sl_backoff_action_str(sl_backoff_action_t a)
{
	return (unsigned)a < SL_ARRAY_LEN(backoff_action_names) ? backoff_action_names[a] : "?";
}

/* ---- send side ----------------------------------------------------------- */

void sl_backoff_cfg_default(sl_backoff_cfg_t *cfg)
{
	cfg->mark_pct = SL_BACKOFF_MARK_PCT;
	cfg->notices = SL_BACKOFF_NOTICES;
	cfg->backoff_ms = SL_BACKOFF_MS_DEFAULT;
}

sl_backoff_err_t sl_backoff_cfg_check(const sl_backoff_cfg_t *cfg)
{
	if (SL_UNLIKELY(cfg->mark_pct < 1 || cfg->mark_pct > 100))
		return SL_BACKOFF_ERR_MARK;
	if (SL_UNLIKELY(cfg->notices == 0))
		return SL_BACKOFF_ERR_NOTICES;
	if (SL_UNLIKELY(cfg->backoff_ms < SL_BACKOFF_MIN_MS))
		return SL_BACKOFF_ERR_MS;
	return SL_BACKOFF_ERR_OK;
}

bool sl_backoff_over_mark(const sl_backoff_cfg_t *cfg, uint32_t depth, uint32_t capacity)
{
	if (SL_UNLIKELY(capacity == 0))
		return false;
	return (uint64_t)depth * 100u >= (uint64_t)capacity * cfg->mark_pct;
}

bool sl_backoff_load_update(const sl_backoff_cfg_t *cfg, sl_backoff_load_t *l, uint64_t now_ns,
                            uint32_t depth, uint32_t capacity, uint64_t hold_ns)
{
	if (sl_backoff_over_mark(cfg, depth, capacity)) {
		l->over_until_ns = now_ns + hold_ns;
		return true;
	}
	return now_ns < l->over_until_ns;
}

void sl_backoff_peer_init(sl_backoff_peer_t *peer)
{
	memset(peer, 0, sizeof(*peer));
}

sl_backoff_action_t sl_backoff_step(const sl_backoff_cfg_t *cfg, sl_backoff_peer_t *peer,
                                    uint64_t now_ns, bool over, uint32_t *backoff_ms)
{
	if (SL_LIKELY(!over)) {
		peer->notices = 0; /* recovery: silent mode ends with the overload */
		return SL_BACKOFF_NONE;
	}
	if (peer->notices >= cfg->notices)
		return SL_BACKOFF_DROP_SILENT;
	if (now_ns < peer->next_notice_ns)
		return SL_BACKOFF_NONE;
	peer->notices++;
	peer->next_notice_ns = now_ns + (uint64_t)cfg->backoff_ms * SL_NS_PER_MS;
	*backoff_ms = cfg->backoff_ms;
	return SL_BACKOFF_SEND;
}

sl_backoff_action_t sl_backoff_on_frame(const sl_backoff_cfg_t *cfg, sl_backoff_peer_t *peer,
                                        uint64_t now_ns, uint32_t depth, uint32_t capacity,
                                        uint32_t *backoff_ms)
{
	return sl_backoff_step(cfg, peer, now_ns, sl_backoff_over_mark(cfg, depth, capacity),
	                       backoff_ms);
}

/* ---- receive side -------------------------------------------------------- */

void sl_backoff_quiet_init(sl_backoff_quiet_t *q)
{
	q->until_ns = 0;
}

uint64_t sl_backoff_honour(sl_backoff_quiet_t *q, uint64_t now_ns, uint32_t backoff_ms)
{
	uint32_t ms = SL_MIN(backoff_ms, SL_BACKOFF_HONOUR_MAX_MS);
	uint64_t until = now_ns + (uint64_t)ms * SL_NS_PER_MS;
	if (ms != 0 && until > q->until_ns)
		q->until_ns = until;
	return q->until_ns;
}
