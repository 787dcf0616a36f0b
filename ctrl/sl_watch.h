/* sl_watch.h — the subscribers of the `watch` command (SPEC.md §9
   "Operations (v1.1)", DESIGN.md "Operations": progress and results stream
   to watch subscribers, who may lose events; ctrl never waits for one).
   The operations layer: it owns each subscriber's bounded line buffer and
   its loss count; it knows neither JSON nor sockets.  The face renders an
   event into one line and publishes it here; the face's writer takes the
   queued bytes with sl_watch_peek / sl_watch_consume when the subscriber's
   socket can take them (non-blocking writes).

   Buffer and loss rule.  A subscriber has SL_WATCH_BUF bytes.  A published
   line that does not fit is lost and counted.  After losses the next line
   the subscriber gets is {"event":"dropped","count":N} (N lines lost since
   its previous line): it is queued before any later event, as soon as
   there is room for it (at the next publish or consume).  Publishing costs
   one copy per subscriber and never blocks.

   Permits.  A subscription holds one stream permit of the store's read
   path (sl_storeread_stream_open(NULL), DESIGN "Header store") while it
   lives: sl_watch_open asks for it, the face hands the completion to
   sl_watch_granted, and the permit goes back at sl_watch_close.  The
   stream cookies sl_watch mints have both bits of SL_WATCH_COOKIE set (op
   tx values never have bit 63).

   Owner: the ctrl loop (single threaded); nothing here blocks. */
#ifndef SL_WATCH_H
#define SL_WATCH_H

#include "sl_base.h"
#include "sl_code.h"
#include "sl_storeread.h"

#define SL_WATCH_SUBS_MAX 16u                /* live (at most the 8 stream permits) and waiting */
#define SL_WATCH_BUF      (64u * 1024u)      /* bytes queued per subscriber */
#define SL_WATCH_COOKIE   (3ULL << 62)       /* storeread cookies of subscriptions: both top bits */
#define SL_WATCH_LINE_MAX (SL_WATCH_BUF / 4) /* longer lines are never queued */

/* The topics: X(ID, "name").  A subscriber's mask has bit 1 << SL_WATCH_<ID>. */
#define SL_WATCH_TOPIC_LIST(X)                                                                     \
	X(OPS, "ops")                                                                              \
	X(SYNC, "sync")                                                                            \
	X(PEERS, "peers")                                                                          \
	X(MISBEHAVIOR, "misbehavior")

typedef enum {
#define SL_WATCH_TOPIC_ENUM(ID, name) SL_WATCH_##ID,
	SL_WATCH_TOPIC_LIST(SL_WATCH_TOPIC_ENUM)
#undef SL_WATCH_TOPIC_ENUM
	    SL_WATCH_TOPIC_CNT
} sl_watch_topic_t;

typedef enum {
	SL_WATCH_SUB_FREE = 0,
	SL_WATCH_SUB_WAITING, /* for its stream permit */
	SL_WATCH_SUB_LIVE,    /* subscribed: lines are queued */
} sl_watch_sub_state_t;

typedef struct {
	sl_watch_sub_state_t state;
	uint64_t client; /* the face's address of the subscriber */
	int64_t req_id;  /* the watch request, answered at the grant */
	uint32_t topics; /* mask of 1 << sl_watch_topic_t */
	uint64_t cookie;
	sl_storeread_stream_t stream; /* LIVE: the permit it holds */
	char *buf;                    /* SL_WATCH_BUF bytes */
	uint32_t off, len;            /* queued bytes: buf[off..len) */
	uint64_t dropped;             /* lines lost since its last queued line */
	uint64_t lost, queued;        /* totals */
} sl_watch_sub_t;

typedef struct {
	uint64_t published, lost, dropped_lines, refused;
} sl_watch_cnt_t;

typedef struct {
	sl_storeread_t *sr; /* NULL: no permits (unit tests) */
	uint64_t next_cookie;
	uint32_t n_live;
	uint32_t wants[SL_WATCH_TOPIC_CNT]; /* live subscribers per topic */
	sl_watch_sub_t sub[SL_WATCH_SUBS_MAX];
	sl_watch_cnt_t cnt;
} sl_watch_t;

/* sl_watch_init prepares an empty table; sr (may be NULL: every open is
   granted at once) gives the stream permits. */
void sl_watch_init(sl_watch_t *w, sl_storeread_t *sr);

/* sl_watch_fini frees every subscriber (permits closed).  Safe twice. */
void sl_watch_fini(sl_watch_t *w);

/* sl_watch_topic_str names a topic; sl_watch_topic_find gives the topic
   named (len bytes) or SL_WATCH_TOPIC_CNT. */
const char *sl_watch_topic_str(sl_watch_topic_t t);
sl_watch_topic_t sl_watch_topic_find(const char *name, size_t len);

/* sl_watch_open starts the subscription of `client` (request req_id) to
   `topics` (non-zero mask): it asks for a stream permit.  Returns
   SL_CODE_OK with *out = the subscriber, WAITING (the grant comes later
   through sl_watch_granted) or, without sr, LIVE at once; BUSY (every
   slot taken: SL_WATCH_SUBS_MAX subscribers), SHUTTING_DOWN, BAD_REQUEST
   (client 0 or no topic, or the client subscribes already). */
sl_code_t sl_watch_open(sl_watch_t *w, uint64_t client, int64_t req_id, uint32_t topics,
                        sl_watch_sub_t **out);

/* sl_watch_granted takes a STREAM completion whose cookie has
   SL_WATCH_COOKIE: OK makes its subscriber LIVE; anything else frees it.
   Returns the subscriber (in either state; the face answers its request
   from it, then forgets the pointer if it is FREE) or NULL when no
   subscriber waits for that cookie (a late grant is closed). */
sl_watch_sub_t *sl_watch_granted(sl_watch_t *w, const sl_storeread_done_t *d);

/* sl_watch_close ends client's subscription (waiting: the permit request is
   cancelled; live: the permit goes back).  Unknown client: nothing. */
void sl_watch_close(sl_watch_t *w, uint64_t client);

/* sl_watch_wants: some live subscriber takes topic t (publish only then). */
static inline bool sl_watch_wants(const sl_watch_t *w, sl_watch_topic_t t)
{
	return w->wants[t] > 0;
}

/* sl_watch_publish queues one line (len bytes, no '\n': one is added) for
   every live subscriber of topic t, under the loss rule above.  Returns
   how many subscribers lost it. */
uint32_t sl_watch_publish(sl_watch_t *w, sl_watch_topic_t t, const char *line, size_t len);

/* sl_watch_find gives client's subscriber (waiting or live), or NULL. */
sl_watch_sub_t *sl_watch_find(sl_watch_t *w, uint64_t client);

/* sl_watch_peek: the bytes queued for client (*buf set), 0 when none. */
size_t sl_watch_peek(sl_watch_t *w, uint64_t client, const char **buf);

/* sl_watch_consume: n of the peeked bytes were written.  A pending
   dropped line is queued as soon as there is room. */
void sl_watch_consume(sl_watch_t *w, uint64_t client, size_t n);

#endif /* SL_WATCH_H */
