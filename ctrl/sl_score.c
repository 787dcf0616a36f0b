/* sl_score.c — misbehaviour scores with decay (see sl_score.h). */
#include "sl_score.h"

#include <math.h>
#include <string.h>

uint32_t sl_score_weight(sl_misb_t kind)
{
	switch (kind) {
	case SL_MISB_UNDECODABLE:
	case SL_MISB_UNSOLICITED:
		return 50; /* protocol: the session was closed for it */
	case SL_MISB_UNEXPECTED:
		return 25;
	case SL_MISB_BAD_DATA:
		return 20; /* invalid headers: work we did for nothing */
	case SL_MISB_SPAM:
		return 5; /* over a meter: may be an honest burst */
	default:
		return 0;
	}
}

void sl_score_init(sl_score_t *t)
{
	memset(t, 0, sizeof *t);
}

static double sl_score_decayed(const sl_score_entry_t *e, uint64_t now_ns)
{
	if (now_ns <= e->at_ns)
		return e->score;
	return e->score * exp2(-(double)(now_ns - e->at_ns) / (double)SL_SCORE_HALF_LIFE_NS);
}

static sl_score_entry_t *sl_score_find(const sl_score_t *t, uint32_t ip)
{
	for (uint32_t i = 0; ip != 0 && i < t->n; i++)
		if (t->e[i].ip == ip)
			return (sl_score_entry_t *)&t->e[i];
	return NULL;
}

/* sl_score_slot: a free entry, or the one with the lowest score now. */
static sl_score_entry_t *sl_score_slot(sl_score_t *t, uint64_t now_ns)
{
	if (t->n < SL_SCORE_MAX)
		return &t->e[t->n++];
	sl_score_entry_t *low = &t->e[0];
	for (uint32_t i = 1; i < t->n; i++)
		if (sl_score_decayed(&t->e[i], now_ns) < sl_score_decayed(low, now_ns))
			low = &t->e[i];
	return low;
}

double sl_score_add(sl_score_t *t, uint32_t ip, double w, uint64_t now_ns)
{
	if (ip == 0)
		return 0;
	sl_score_entry_t *e = sl_score_find(t, ip);
	double s = e != NULL ? sl_score_decayed(e, now_ns) : 0;
	if (e == NULL) {
		e = sl_score_slot(t, now_ns);
		e->ip = ip;
	}
	e->score = s + w;
	e->at_ns = now_ns;
	return e->score;
}

double sl_score_get(const sl_score_t *t, uint32_t ip, uint64_t now_ns)
{
	const sl_score_entry_t *e = sl_score_find(t, ip);
	return e != NULL ? sl_score_decayed(e, now_ns) : 0;
}

void sl_score_forget(sl_score_t *t, uint32_t ip)
{
	sl_score_entry_t *e = sl_score_find(t, ip);
	if (e == NULL)
		return;
	*e = t->e[--t->n];
	memset(&t->e[t->n], 0, sizeof t->e[0]);
}
