/* sl_server.c — see sl_server.h. */
#include "sl_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl_log.h"

#define SL_SERVER_BACKLOG 64

static const char sl_server_busy[] =
    "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"BUSY\",\"message\":\"too many control "
    "clients (SL_API_MAX_CLIENTS)\"}}\n";
static const char sl_server_oversize[] =
    "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"BAD_REQUEST\",\"message\":\"request line "
    "longer than 65536 bytes; closing the connection\"}}";

/* mkdir -p for the directory part of `path`. */
static int server_mkdirs(const char *path)
{
	char dir[SL_SERVER_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void server_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, path, strlen(path) + 1);
}

/* Is a server answering on the socket file at `path`?  1 yes, 0 no (stale),
   negative errno when it cannot tell. */
static int server_probe(const char *path)
{
	struct sockaddr_un a;
	server_addr(&a, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&a, sizeof a);
	int err = errno;
	close(fd);
	if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
		return 1;
	if (err == ECONNREFUSED)
		return 0;
	return -err;
}

/* Make room for a new socket file: nothing there, or a stale socket. */
static int server_clear_path(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		SL_ERR("%s exists and is not a socket; refusing to remove it (fix [ctrl] socket)",
		       path);
		return -EEXIST;
	}
	int rc = server_probe(path);
	if (rc == 1) {
		SL_ERR("another sluice-ctrl answers on %s; refusing to start", path);
		return -EADDRINUSE;
	}
	if (rc < 0) {
		SL_ERR("cannot check socket %s: %s", path, strerror(-rc));
		return rc;
	}
	SL_INFO("removing stale socket %s (nobody answers on it)", path);
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int server_bind(sl_server_t *s, const char *path)
{
	struct sockaddr_un a;
	server_addr(&a, path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0)
		return -errno;
	if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0)
		return -errno;
	struct stat st;
	if (chmod(path, 0660) != 0 || chown(path, (uid_t)-1, (gid_t)s->gid) != 0 ||
	    stat(path, &st) != 0)
		return -errno;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (listen(s->listen_fd, SL_SERVER_BACKLOG) != 0)
		return -errno;
	return 0;
}

int sl_server_open(sl_server_t *s, const char *path, uint32_t gid, const char *group)
{
	memset(s, 0, sizeof *s);
	s->listen_fd = -1;
	s->gid = gid;
	snprintf(s->group, sizeof s->group, "%s", group);
	for (uint32_t i = 0; i < SL_API_MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	if (SL_UNLIKELY(path[0] == '\0' || strlen(path) >= SL_SERVER_PATH_MAX)) {
		SL_ERR("control socket path '%s' is empty or longer than %d bytes", path,
		       SL_SERVER_PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	snprintf(s->path, sizeof s->path, "%s", path);
	int rc = server_mkdirs(path);
	if (SL_UNLIKELY(rc < 0)) {
		SL_ERR("cannot create the directory of control socket %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = server_clear_path(path);
	if (SL_UNLIKELY(rc < 0))
		return rc;
	rc = server_bind(s, path);
	if (SL_UNLIKELY(rc < 0)) {
		SL_ERR("cannot listen on control socket %s: %s", path, strerror(-rc));
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		s->listen_fd = -1;
		return rc;
	}
	SL_INFO("listening on %s (mode 0660, group %s)", path, s->group);
	return 0;
}

static void client_free(sl_client_t *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* Tell the feed a client leaves. */
static void server_gone(sl_server_t *s, const sl_client_t *c)
{
	if (s->feed != NULL && s->feed->gone != NULL)
		s->feed->gone(s->feed_ctx, c->serial);
}

static void server_drop(sl_server_t *s, sl_client_t *c, const char *why)
{
	server_gone(s, c);
	SL_INFO("control client %llu disconnected: %s", (unsigned long long)c->serial, why);
	s->dropped++;
	client_free(c);
	s->n_clients--;
}

static void server_end(sl_server_t *s, sl_client_t *c)
{
	server_gone(s, c);
	SL_DEBUG("control client %llu closed", (unsigned long long)c->serial);
	client_free(c);
	s->n_clients--;
}

/* Write what is queued; returns -1 if the client was dropped. */
static int client_flush(sl_server_t *s, sl_client_t *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			server_drop(s, c, w < 0 ? strerror(errno) : "write returned 0");
			return -1;
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* A stream client with its replies flushed: write what its feed queued
   until the socket would block.  Returns -1 if the client was dropped. */
static int client_feed(sl_server_t *s, sl_client_t *c)
{
	const char *buf;
	size_t n;
	if (!c->fed || s->feed == NULL || c->out_len > c->out_off)
		return 0;
	while ((n = s->feed->peek(s->feed_ctx, c->serial, &buf)) > 0) {
		ssize_t w = send(c->fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			server_drop(s, c, w < 0 ? strerror(errno) : "write returned 0");
			return -1;
		}
		s->feed->consume(s->feed_ctx, c->serial, (size_t)w);
	}
	return 0;
}

/* Queue `len` bytes plus '\n'; a client over SL_SERVER_OUT_MAX is dropped. */
static int client_queue(sl_server_t *s, sl_client_t *c, const char *buf, size_t len)
{
	size_t pending = c->out_len - c->out_off;
	if (SL_UNLIKELY(pending + len + 1 > SL_SERVER_OUT_MAX)) {
		server_drop(s, c, "it does not read its replies (output buffer full)");
		return -1;
	}
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	if (c->out_len + len + 1 > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len + 1)
			cap *= 2;
		char *n = realloc(c->out, cap);
		if (SL_UNLIKELY(n == NULL)) {
			server_drop(s, c, "out of memory for its reply");
			return -1;
		}
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, buf, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return 0;
}

/* Answer one line; returns -1 if the client was dropped. */
static int client_line(sl_server_t *s, sl_client_t *c, char *line, size_t len, sl_server_line_fn fn,
                       void *ctx)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return 0; /* blank line: nothing asked */
	s->cur_serial = c->serial;
	char *reply = fn(ctx, line, len);
	s->cur_serial = 0;
	if (reply == NULL)
		return 0;
	int rc = client_queue(s, c, reply, strlen(reply));
	free(reply);
	return rc;
}

/* Answer every complete line in the input buffer (the last one too at EOF). */
static int client_lines(sl_server_t *s, sl_client_t *c, bool eof, sl_server_line_fn fn, void *ctx)
{
	size_t start = 0;
	for (;;) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		if (nl == NULL)
			break;
		size_t len = (size_t)(nl - (c->in + start));
		if (client_line(s, c, c->in + start, len, fn, ctx) < 0)
			return -1;
		start += len + 1;
	}
	if (eof && start < c->in_len) {
		if (client_line(s, c, c->in + start, c->in_len - start, fn, ctx) < 0)
			return -1;
		start = c->in_len;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > SL_SERVER_LINE_MAX) {
		SL_WARN("control client %llu sent a request line over %u bytes",
		        (unsigned long long)c->serial, SL_SERVER_LINE_MAX);
		c->in_len = 0;
		c->closing = true;
		return client_queue(s, c, sl_server_oversize, sizeof sl_server_oversize - 1);
	}
	return 0;
}

static void client_read(sl_server_t *s, sl_client_t *c, sl_server_line_fn fn, void *ctx)
{
	size_t room = SL_SERVER_LINE_MAX + 1 - c->in_len;
	ssize_t r = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (r < 0) {
		server_drop(s, c, strerror(errno));
		return;
	}
	c->in_len += (size_t)r;
	if (c->fed)
		c->in_len = 0; /* a stream: its input means nothing */
	else if (client_lines(s, c, r == 0, fn, ctx) < 0)
		return;
	if (r == 0)
		c->closing = true;
}

/* server_admits: the client on fd is root, our own user, or in our group
   (primary or supplementary); else why names it. */
static bool server_admits(const sl_server_t *s, int fd, char *why, size_t why_sz)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		snprintf(why, why_sz, "its credentials are unknown (%s)", strerror(errno));
		return false;
	}
	if (cr.uid == 0 || cr.uid == geteuid() || cr.gid == (gid_t)s->gid)
		return true;
	gid_t groups[256];
	len = sizeof groups;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (size_t i = 0; i < len / sizeof groups[0]; i++)
			if (groups[i] == (gid_t)s->gid)
				return true;
	snprintf(why, why_sz,
	         "uid %u (gid %u) is not root and not in group '%s' (gid %u) of [ctrl] group; "
	         "add the user to that group",
	         (unsigned)cr.uid, (unsigned)cr.gid, s->group, s->gid);
	return false;
}

/* server_refuse: one FORBIDDEN line to a client we do not serve, then close. */
static void server_refuse(sl_server_t *s, int fd, const char *why)
{
	char line[512];
	int n = snprintf(line, sizeof line,
	                 "{\"id\":null,\"ok\":false,\"error\":{\"code\":\"FORBIDDEN\","
	                 "\"message\":\"%s\"}}\n",
	                 why);
	if (send(fd, line, (size_t)SL_MIN(n, (int)sizeof line - 1), MSG_NOSIGNAL | MSG_DONTWAIT) <
	    0)
		SL_DEBUG("FORBIDDEN reply not sent: %s", strerror(errno));
	close(fd);
	s->refused++;
	SL_WARN("control client refused: %s", why);
}

static void server_accept(sl_server_t *s)
{
	for (;;) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				SL_WARN("accept on %s: %s", s->path, strerror(errno));
			return;
		}
		char why[256];
		if (SL_UNLIKELY(!server_admits(s, fd, why, sizeof why))) {
			server_refuse(s, fd, why);
			continue;
		}
		sl_client_t *c = NULL;
		for (uint32_t i = 0; i < SL_API_MAX_CLIENTS && c == NULL; i++)
			if (s->clients[i].fd < 0)
				c = &s->clients[i];
		char *in = c ? malloc(SL_SERVER_LINE_MAX + 1) : NULL;
		if (SL_UNLIKELY(in == NULL)) {
			if (send(fd, sl_server_busy, sizeof sl_server_busy - 1,
			         MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				SL_DEBUG("BUSY reply not sent: %s", strerror(errno));
			close(fd);
			s->rejected++;
			SL_WARN("control client refused: %u clients already connected",
			        s->n_clients);
			continue;
		}
		c->fd = fd;
		c->in = in;
		c->serial = ++s->serial;
		s->n_clients++;
		s->accepted++;
		SL_DEBUG("control client %llu connected", (unsigned long long)c->serial);
	}
}

int sl_server_pollfds(sl_server_t *s, struct pollfd *fds)
{
	int n = 0;
	fds[n] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
	s->pfd_client[n++] = -1;
	for (uint32_t i = 0; i < SL_API_MAX_CLIENTS; i++) {
		sl_client_t *c = &s->clients[i];
		if (c->fd < 0)
			continue;
		short ev = c->closing ? 0 : POLLIN;
		const char *buf;
		if (c->out_len > c->out_off ||
		    (c->fed && s->feed != NULL && s->feed->peek(s->feed_ctx, c->serial, &buf) > 0))
			ev |= POLLOUT;
		fds[n] = (struct pollfd){.fd = c->fd, .events = ev};
		s->pfd_client[n++] = (int)i;
	}
	return n;
}

void sl_server_service(sl_server_t *s, const struct pollfd *fds, int n, sl_server_line_fn fn,
                       void *ctx)
{
	for (int k = 1; k < n; k++) {
		sl_client_t *c = &s->clients[s->pfd_client[k]];
		if (c->fd != fds[k].fd)
			continue;
		if ((fds[k].revents & (POLLERR | POLLNVAL)) != 0) {
			server_drop(s, c, "socket error");
			continue;
		}
		if ((fds[k].revents & (POLLIN | POLLHUP)) != 0 && !c->closing)
			client_read(s, c, fn, ctx);
		if (c->fd < 0 || client_flush(s, c) < 0 || client_feed(s, c) < 0)
			continue;
		if (c->closing && c->out_len == c->out_off && c->pending == 0)
			server_end(s, c);
		else if ((fds[k].revents & POLLHUP) != 0 && c->closing)
			server_drop(s, c, "hung up before reading its replies");
	}
	if (n > 0 && (fds[0].revents & POLLIN) != 0)
		server_accept(s);
}

static sl_client_t *server_client(sl_server_t *s, uint64_t serial)
{
	for (uint32_t i = 0; i < SL_API_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && s->clients[i].serial == serial)
			return &s->clients[i];
	return NULL;
}

uint64_t sl_server_defer(sl_server_t *s)
{
	sl_client_t *c = s->cur_serial ? server_client(s, s->cur_serial) : NULL;
	if (c == NULL)
		return 0;
	c->pending++;
	return c->serial;
}

void sl_server_undefer(sl_server_t *s, uint64_t serial)
{
	sl_client_t *c = serial ? server_client(s, serial) : NULL;
	if (c != NULL && c->pending > 0)
		c->pending--;
}

int sl_server_reply(sl_server_t *s, uint64_t serial, const char *line)
{
	sl_client_t *c = server_client(s, serial);
	if (c == NULL)
		return -1;
	if (c->pending > 0)
		c->pending--;
	if (client_queue(s, c, line, strlen(line)) < 0 || client_flush(s, c) < 0)
		return -1;
	if (c->closing && c->out_len == c->out_off && c->pending == 0)
		server_end(s, c);
	return 0;
}

void sl_server_set_feed(sl_server_t *s, const sl_server_feed_t *f, void *ctx)
{
	s->feed = f;
	s->feed_ctx = ctx;
}

int sl_server_feed_on(sl_server_t *s, uint64_t serial)
{
	sl_client_t *c = server_client(s, serial);
	if (c == NULL || s->feed == NULL)
		return -1;
	c->fed = true;
	return client_feed(s, c);
}

void sl_server_feed_kick(sl_server_t *s)
{
	for (uint32_t i = 0; i < SL_API_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && s->clients[i].fed)
			client_feed(s, &s->clients[i]);
}

bool sl_server_flushed(const sl_server_t *s)
{
	for (uint32_t i = 0; i < SL_API_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0 && s->clients[i].out_len > s->clients[i].out_off)
			return false;
	return true;
}

void sl_server_close(sl_server_t *s)
{
	for (uint32_t i = 0; i < SL_API_MAX_CLIENTS; i++)
		if (s->clients[i].fd >= 0) {
			server_gone(s, &s->clients[i]);
			client_free(&s->clients[i]);
			s->n_clients--;
		}
	if (s->listen_fd < 0)
		return;
	close(s->listen_fd);
	s->listen_fd = -1;
	struct stat st;
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
}
