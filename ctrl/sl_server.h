/* sl_server.h — the control socket of sluice-ctrl (SPEC.md §9): a Unix stream
   socket speaking JSON lines, up to SL_API_MAX_CLIENTS clients at once.
   Owner: the ctrl loop (single threaded, poll(2)); nothing here blocks.
   Every client has a bounded input buffer (a request line longer than
   SL_SERVER_LINE_MAX bytes is answered BAD_REQUEST and the client closed)
   and a bounded output buffer (a client that does not read its replies is
   disconnected once SL_SERVER_OUT_MAX bytes are queued, never waited for).
   What a line means is the caller's business (the line callback).
   A client may be turned into a stream (sl_server_feed_on): from then on
   its input is read and ignored (EOF still ends it) and, whenever its
   replies are flushed, the server writes what the feed has queued for it,
   without blocking; the feed owns those bytes and decides what a slow
   reader loses (sl_watch for `watch`). */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include <poll.h>
#include <sys/types.h>

#include "sl_base.h"

#define SL_SERVER_LINE_MAX (64u * 1024u)        /* longest request line, '\n' excluded */
#define SL_SERVER_OUT_MAX  (4u * 1024u * 1024u) /* most reply bytes queued per client */
#define SL_SERVER_PATH_MAX 108                  /* sizeof(sun_path) */

typedef struct {
	int fd;           /* -1: free slot */
	bool closing;     /* flush what is queued, then close */
	uint64_t serial;  /* for log lines, and to address a deferred reply */
	uint32_t pending; /* deferred replies owed (sl_server_defer) */
	bool fed;         /* a stream: writes what the feed queues for it */
	char *in;         /* SL_SERVER_LINE_MAX + 1 bytes */
	size_t in_len;
	char *out;
	size_t out_off, out_len, out_cap;
} sl_client_t;

/* A feed: where stream clients' bytes come from.  peek gives the bytes
   queued for `serial` (0: none), consume says n of them were written,
   gone says the client left (every client, fed or not). */
typedef struct {
	size_t (*peek)(void *ctx, uint64_t serial, const char **buf);
	void (*consume)(void *ctx, uint64_t serial, size_t n);
	void (*gone)(void *ctx, uint64_t serial);
} sl_server_feed_t;

typedef struct {
	int listen_fd;
	char path[SL_SERVER_PATH_MAX];
	dev_t dev; /* identity of the socket file we bound, removed only if unchanged */
	ino_t ino;
	uint32_t n_clients;
	uint64_t serial;
	uint64_t accepted, rejected, dropped;
	uint64_t refused; /* clients whose credentials the socket's group does not admit */
	uint32_t gid;     /* [ctrl] group: root and its members may talk to us */
	char group[32];
	uint64_t cur_serial; /* the client whose line is being answered, 0: none */
	const sl_server_feed_t *feed;
	void *feed_ctx;
	sl_client_t clients[SL_API_MAX_CLIENTS];
	int pfd_client[SL_API_MAX_CLIENTS + 1]; /* pollfd index -> client slot */
} sl_server_t;

/* sl_server_line_fn answers one request line (no '\n'; len > 0).  Returns
   a malloc'd reply without '\n' (the server frees it), or NULL for none. */
typedef char *(*sl_server_line_fn)(void *ctx, const char *line, size_t len);

/* sl_server_open creates the listening socket at `path`: creates missing
   parent directories, removes a stale socket file only if nobody answers
   on it, refuses to start if a server answers there (-EADDRINUSE) or if the
   path is not a socket (-EEXIST), binds, chmods 0660, gives the file to
   group gid (name: for messages) and listens.  Returns 0 or a negative
   errno with one log line naming the path and the cause.
   Every client is then checked (SO_PEERCRED, SO_PEERGROUPS): root, our own
   user, and members of the group are served; anyone else gets one line
   {"id": null, "ok": false, "error": {"code": "FORBIDDEN", ...}} naming
   its uid and the group, and is closed (counted `refused`). */
int sl_server_open(sl_server_t *s, const char *path, uint32_t gid, const char *group);

/* sl_server_pollfds fills `fds` (room for SL_API_MAX_CLIENTS + 1) with the
   listening socket and every client, and returns how many it filled. */
int sl_server_pollfds(sl_server_t *s, struct pollfd *fds);

/* sl_server_service handles what poll(2) reported for the `n` entries that
   sl_server_pollfds filled: accepts, reads, answers every complete line
   through `fn`, flushes, and closes finished or misbehaving clients. */
void sl_server_service(sl_server_t *s, const struct pollfd *fds, int n, sl_server_line_fn fn,
                       void *ctx);

/* sl_server_defer, called from inside the line callback: the reply to the
   current line comes later through sl_server_reply (the callback then
   returns NULL).  Returns the client's serial (its address for the reply),
   or 0 when called outside a callback.  A client owed a deferred reply is
   not closed at its EOF until the reply is queued. */
uint64_t sl_server_defer(sl_server_t *s);

/* sl_server_undefer takes back a sl_server_defer whose reply is given
   at once after all (the callback returns it).  serial 0: nothing. */
void sl_server_undefer(sl_server_t *s, uint64_t serial);

/* sl_server_reply queues `line` (no '\n') to the client `serial` as the
   deferred reply it was owed.  Returns 0, or -1 when that client is gone
   (the reply is dropped). */
int sl_server_reply(sl_server_t *s, uint64_t serial, const char *line);

/* sl_server_set_feed installs the feed (NULL: none); f must outlive s. */
void sl_server_set_feed(sl_server_t *s, const sl_server_feed_t *f, void *ctx);

/* sl_server_feed_on makes client `serial` a stream (see above) and writes
   what is queued for it now if it can.  0, or -1 when the client is gone
   or there is no feed. */
int sl_server_feed_on(sl_server_t *s, uint64_t serial);

/* sl_server_feed_kick writes, without blocking, what the feed has queued
   for every stream client whose replies are flushed (after a publish). */
void sl_server_feed_kick(sl_server_t *s);

/* sl_server_flushed: no client has reply bytes waiting. */
bool sl_server_flushed(const sl_server_t *s);

/* sl_server_close closes every client and the listening socket and removes
   the socket file if it is still the one this server bound.  Safe twice. */
void sl_server_close(sl_server_t *s);

#endif /* SL_SERVER_H */
