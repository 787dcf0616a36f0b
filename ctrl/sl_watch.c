/* sl_watch.c — see sl_watch.h. */
#include "sl_watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_log.h"

static const char *const sl_watch_topic_names[SL_WATCH_TOPIC_CNT] = {
#define SL_WATCH_TOPIC_NAME(ID, name) [SL_WATCH_##ID] = name,
    SL_WATCH_TOPIC_LIST(SL_WATCH_TOPIC_NAME)
#undef SL_WATCH_TOPIC_NAME
};

const char *sl_watch_topic_str(sl_watch_topic_t t)
{
	return (unsigned)t < SL_WATCH_TOPIC_CNT ? sl_watch_topic_names[t] : "?";
}

sl_watch_topic_t sl_watch_topic_find(const char *name, size_t len)
{
	for (unsigned t = 0; t < SL_WATCH_TOPIC_CNT; t++)
		if (strlen(sl_watch_topic_names[t]) == len &&
		    memcmp(sl_watch_topic_names[t], name, len) == 0)
			return (sl_watch_topic_t)t;
	return SL_WATCH_TOPIC_CNT;
}

void sl_watch_init(sl_watch_t *w, sl_storeread_t *sr)
{
	memset(w, 0, sizeof *w);
	w->sr = sr;
	w->next_cookie = 1;
}

/* ---- one subscriber ---------------------------------------------------------- */

static void watch_topics(sl_watch_t *w, uint32_t mask, int delta)
{
	for (unsigned t = 0; t < SL_WATCH_TOPIC_CNT; t++)
		if ((mask >> t) & 1u)
			w->wants[t] = (uint32_t)((int)w->wants[t] + delta);
}

static void watch_free(sl_watch_t *w, sl_watch_sub_t *s)
{
	if (s->state == SL_WATCH_SUB_LIVE) {
		watch_topics(w, s->topics, -1);
		w->n_live--;
		if (w->sr != NULL && s->stream.id != 0)
			sl_storeread_stream_close(w->sr, &s->stream);
	}
	free(s->buf);
	memset(s, 0, sizeof *s);
}

void sl_watch_fini(sl_watch_t *w)
{
	for (uint32_t i = 0; i < SL_WATCH_SUBS_MAX; i++)
		if (w->sub[i].state != SL_WATCH_SUB_FREE)
			watch_free(w, &w->sub[i]);
}

/* Room for len more bytes at the end (compacting if that makes it). */
static bool watch_room(sl_watch_sub_t *s, size_t len)
{
	if (s->len + len <= SL_WATCH_BUF)
		return true;
	if (s->len - s->off + len > SL_WATCH_BUF)
		return false;
	memmove(s->buf, s->buf + s->off, s->len - s->off);
	s->len -= s->off;
	s->off = 0;
	return true;
}

/* Queue line + '\n' if it fits; false (nothing queued) if not. */
static bool watch_put(sl_watch_sub_t *s, const char *line, size_t len)
{
	if (len >= SL_WATCH_LINE_MAX || !watch_room(s, len + 1))
		return false;
	memcpy(s->buf + s->len, line, len);
	s->buf[s->len + len] = '\n';
	s->len += (uint32_t)len + 1;
	s->queued++;
	return true;
}

#define SL_WATCH_DROPPED_MAX 64u /* the dropped line, '\n' included */

/* Queue the dropped line owed after losses; false if there is no room. */
static bool watch_put_dropped(sl_watch_t *w, sl_watch_sub_t *s)
{
	char d[SL_WATCH_DROPPED_MAX];
	int n = snprintf(d, sizeof d, "{\"event\":\"dropped\",\"count\":%llu}",
	                 (unsigned long long)s->dropped);
	if (!watch_put(s, d, (size_t)n))
		return false;
	s->dropped = 0;
	w->cnt.dropped_lines++;
	return true;
}

sl_watch_sub_t *sl_watch_find(sl_watch_t *w, uint64_t client)
{
	for (uint32_t i = 0; i < SL_WATCH_SUBS_MAX && client != 0; i++)
		if (w->sub[i].state != SL_WATCH_SUB_FREE && w->sub[i].client == client)
			return &w->sub[i];
	return NULL;
}

static void watch_live(sl_watch_t *w, sl_watch_sub_t *s)
{
	s->state = SL_WATCH_SUB_LIVE;
	w->n_live++;
	watch_topics(w, s->topics, +1);
}

sl_code_t sl_watch_open(sl_watch_t *w, uint64_t client, int64_t req_id, uint32_t topics,
                        sl_watch_sub_t **out)
{
	sl_watch_sub_t *s = NULL;
	*out = NULL;
	if (client == 0 || topics == 0 || sl_watch_find(w, client) != NULL)
		return SL_CODE_BAD_REQUEST;
	for (uint32_t i = 0; i < SL_WATCH_SUBS_MAX && s == NULL; i++)
		if (w->sub[i].state == SL_WATCH_SUB_FREE)
			s = &w->sub[i];
	if (s == NULL) {
		w->cnt.refused++;
		return SL_CODE_BUSY;
	}
	*s = (sl_watch_sub_t){.client = client, .req_id = req_id, .topics = topics};
	s->cookie = SL_WATCH_COOKIE | (w->next_cookie++ & ~SL_WATCH_COOKIE);
	s->buf = malloc(SL_WATCH_BUF);
	if (SL_UNLIKELY(s->buf == NULL)) {
		memset(s, 0, sizeof *s);
		return SL_CODE_INTERNAL;
	}
	if (w->sr == NULL) {
		watch_live(w, s);
		*out = s;
		return SL_CODE_OK;
	}
	sl_storeread_err_t e = sl_storeread_stream_open(w->sr, NULL, s->cookie);
	if (e != SL_STOREREAD_OK) {
		watch_free(w, s);
		w->cnt.refused++;
		return e == SL_STOREREAD_ERR_SHUTTING_DOWN ? SL_CODE_SHUTTING_DOWN : SL_CODE_BUSY;
	}
	s->state = SL_WATCH_SUB_WAITING;
	*out = s;
	return SL_CODE_OK;
}

sl_watch_sub_t *sl_watch_granted(sl_watch_t *w, const sl_storeread_done_t *d)
{
	sl_watch_sub_t *s = NULL;
	for (uint32_t i = 0; i < SL_WATCH_SUBS_MAX && s == NULL; i++)
		if (w->sub[i].state == SL_WATCH_SUB_WAITING && w->sub[i].cookie == d->cookie)
			s = &w->sub[i];
	if (s == NULL) {
		if (d->err == SL_STOREREAD_OK && w->sr != NULL)
			sl_storeread_stream_close(w->sr, &d->stream); /* its subscriber left */
		return NULL;
	}
	if (d->err != SL_STOREREAD_OK) {
		w->cnt.refused++;
		watch_free(w, s);
		return s; /* FREE: the face answers the error */
	}
	s->stream = d->stream;
	watch_live(w, s);
	return s;
}

void sl_watch_close(sl_watch_t *w, uint64_t client)
{
	sl_watch_sub_t *s = sl_watch_find(w, client);
	if (s == NULL)
		return;
	if (s->state == SL_WATCH_SUB_WAITING && w->sr != NULL)
		sl_storeread_cancel(w->sr, s->cookie);
	watch_free(w, s);
}

/* ---- lines ------------------------------------------------------------------------ */

uint32_t sl_watch_publish(sl_watch_t *w, sl_watch_topic_t t, const char *line, size_t len)
{
	uint32_t lost = 0;
	if ((unsigned)t >= SL_WATCH_TOPIC_CNT || w->wants[t] == 0)
		return 0;
	w->cnt.published++;
	for (uint32_t i = 0; i < SL_WATCH_SUBS_MAX; i++) {
		sl_watch_sub_t *s = &w->sub[i];
		if (s->state != SL_WATCH_SUB_LIVE || ((s->topics >> t) & 1u) == 0)
			continue;
		/* after losses: the dropped line and this one together, or neither */
		bool fits = s->dropped == 0 || (len < SL_WATCH_LINE_MAX &&
		                                watch_room(s, SL_WATCH_DROPPED_MAX + len + 1));
		if (!fits || (s->dropped > 0 && !watch_put_dropped(w, s)) ||
		    !watch_put(s, line, len)) {
			s->dropped++;
			s->lost++;
			w->cnt.lost++;
			lost++;
		}
	}
	return lost;
}

size_t sl_watch_peek(sl_watch_t *w, uint64_t client, const char **buf)
{
	sl_watch_sub_t *s = sl_watch_find(w, client);
	if (s == NULL || s->state != SL_WATCH_SUB_LIVE || s->len == s->off)
		return 0;
	*buf = s->buf + s->off;
	return s->len - s->off;
}

void sl_watch_consume(sl_watch_t *w, uint64_t client, size_t n)
{
	sl_watch_sub_t *s = sl_watch_find(w, client);
	if (s == NULL || s->state != SL_WATCH_SUB_LIVE)
		return;
	s->off += (uint32_t)SL_MIN(n, (size_t)(s->len - s->off));
	if (s->off == s->len)
		s->off = s->len = 0;
	if (s->dropped > 0)
		watch_put_dropped(w, s);
}
