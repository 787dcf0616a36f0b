/* sl_rtt.c — the per-session RTT estimator (sl_rtt.h). */
#include <string.h>

#include "sl_rtt.h"

_Static_assert(sizeof(sl_rtt_t) == 40u, "sl_rtt.h documents this footprint");

static const char *const sl_rtt_err_names[] = {
#define SL_RTT_ERR_NAME(e, s) s,
    SL_RTT_ERR_LIST(SL_RTT_ERR_NAME)
#undef SL_RTT_ERR_NAME
};

const char *sl_rtt_err_str(sl_rtt_err_t err)
{
	return (unsigned)err < SL_ARRAY_LEN(sl_rtt_err_names) ? sl_rtt_err_names[err] : "?";
}

void sl_rtt_init(sl_rtt_t *r)
{
	memset(r, 0, sizeof(*r));
	r->min_ns = UINT64_MAX;
}

sl_rtt_err_t sl_rtt_sample(sl_rtt_t *r, uint64_t now_ns, uint64_t echoed_ns)
{
	if (SL_UNLIKELY(echoed_ns > now_ns))
		return SL_RTT_ERR_FUTURE;
	uint64_t rtt = now_ns - echoed_ns;
	if (SL_UNLIKELY(rtt > SL_RTT_MAX_NS))
		return SL_RTT_ERR_RANGE;
	if (r->samples == 0) {
		r->srtt_ns = rtt;
		r->rttvar_ns = rtt / 2u;
	} else {
		uint64_t dev = r->srtt_ns > rtt ? r->srtt_ns - rtt : rtt - r->srtt_ns;
		r->rttvar_ns = (3u * r->rttvar_ns + dev) / 4u;
		r->srtt_ns = (7u * r->srtt_ns + rtt) / 8u;
	}
	r->latest_ns = rtt;
	if (rtt < r->min_ns)
		r->min_ns = rtt;
	if (r->samples != UINT32_MAX)
		r->samples++;
	return SL_RTT_ERR_OK;
}

static uint64_t sl_rtt_clamp(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

uint64_t sl_rtt_rto_ns(const sl_rtt_t *r, uint64_t init_ns, uint64_t min_ns, uint64_t max_ns)
{
	if (r->samples == 0)
		return sl_rtt_clamp(init_ns, min_ns, max_ns);
	uint64_t var4 = 4u * r->rttvar_ns; /* rttvar <= SL_RTT_MAX_NS: no overflow */
	return sl_rtt_clamp(r->srtt_ns + (var4 > 1000u ? var4 : 1000u), min_ns, max_ns);
}
