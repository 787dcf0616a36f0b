/* sl_client.c — a connection to sluice-ctrl's control socket (see
   sl_client.h). */
#include "sl_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl_time.h"

#define SL_CLIENT_REPLY_MAX (64u * 1024u * 1024u)

void sl_client_init(sl_client_t *c, const char *socket, double timeout_s)
{
	memset(c, 0, sizeof *c);
	c->socket = socket;
	c->timeout_s = timeout_s;
	c->fd = -1;
	c->next_id = 1;
}

static int sl_client_unreachable(const sl_client_t *c, const char *why)
{
	fprintf(stderr,
	        "sluicectl: cannot reach sluice-ctrl at %s: %s\n"
	        "  (is sluice-ctrl running?  pick its socket with --socket PATH or -c CONFIG)\n",
	        c->socket, why);
	return SL_CLIENT_UNREACHABLE;
}

static int sl_client_timed_out(const sl_client_t *c, const char *what)
{
	fprintf(stderr, "sluicectl: no %s from sluice-ctrl at %s within %g s (--timeout)\n", what,
	        c->socket, c->timeout_s);
	return SL_CLIENT_TIMEOUT;
}

/* sl_client_wait: fd ready for ev before deadline (1), or not (0). */
static int sl_client_wait(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = sl_now_ns();
		if (now >= deadline)
			return 0;
		struct pollfd p = {.fd = fd, .events = ev};
		int ms = (int)SL_MIN((deadline - now + SL_NS_PER_MS - 1) / SL_NS_PER_MS, 60000u);
		int rc = poll(&p, 1, ms);
		if (rc > 0 || (rc < 0 && errno != EINTR))
			return 1;
	}
}

int sl_client_connect(sl_client_t *c, uint64_t deadline)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(c->socket) >= sizeof a.sun_path) {
		fprintf(stderr, "sluicectl: socket path '%s' is too long\n", c->socket);
		return SL_CLIENT_USAGE;
	}
	memcpy(a.sun_path, c->socket, strlen(c->socket) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return sl_client_unreachable(c, strerror(errno));
	while (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
		int e = errno;
		if (e != EAGAIN && e != EINTR) {
			sl_client_close(c);
			return sl_client_unreachable(c, strerror(e));
		}
		if (sl_now_ns() >= deadline) { /* backlog full: the daemon is stuck */
			sl_client_close(c);
			return sl_client_timed_out(c, "connection");
		}
		usleep(10000);
	}
	return SL_CLIENT_OK;
}

/* sl_client_closed_on_send: the server closed while we were sending; a
   refusal it wrote first (sl_client_refused) is the reason to report. */
static int sl_client_closed_on_send(sl_client_t *c, int err)
{
	char *line = NULL;
	json_t *r = NULL;
	int rc = SL_CLIENT_OK;
	if (sl_client_fill(c) == SL_CLIENT_OK && sl_client_take_line(c, &line))
		r = json_loads(line, 0, NULL);
	if (r != NULL)
		rc = sl_client_refused(c, r);
	json_decref(r);
	free(line);
	return rc != SL_CLIENT_OK ? rc : sl_client_unreachable(c, strerror(err));
}

int sl_client_send(sl_client_t *c, const char *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;
	while (off < len) {
		ssize_t w = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return sl_client_closed_on_send(c, errno);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return sl_client_unreachable(c, strerror(errno));
		if (!sl_client_wait(c->fd, POLLOUT, deadline))
			return sl_client_timed_out(c, "room to send the request");
	}
	return SL_CLIENT_OK;
}

int sl_client_send_json(sl_client_t *c, json_t *o, uint64_t deadline)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n = s ? strlen(s) : 0;
	char *line = s ? realloc(s, n + 1) : NULL;
	if (line == NULL) {
		free(s);
		fprintf(stderr, "sluicectl: out of memory building the request\n");
		return SL_CLIENT_USAGE;
	}
	line[n] = '\n';
	int rc = sl_client_send(c, line, n + 1, deadline);
	free(line);
	return rc;
}

bool sl_client_take_line(sl_client_t *c, char **out)
{
	char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
	if (nl == NULL)
		return false;
	size_t n = (size_t)(nl - c->buf);
	*out = strndup(c->buf, n);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return true;
}

int sl_client_fill(sl_client_t *c)
{
	if (c->cap - c->len < 4096) {
		if (c->cap >= SL_CLIENT_REPLY_MAX) {
			fprintf(stderr, "sluicectl: reply over %u bytes\n", SL_CLIENT_REPLY_MAX);
			return SL_CLIENT_API;
		}
		size_t cap = c->cap ? c->cap * 2 : 65536;
		char *nb = realloc(c->buf, cap);
		if (nb == NULL) {
			fprintf(stderr, "sluicectl: out of memory reading the reply\n");
			return SL_CLIENT_API;
		}
		c->buf = nb;
		c->cap = cap;
	}
	ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (r > 0)
		c->len += (size_t)r;
	else if (r == 0)
		return sl_client_unreachable(c, "connection closed before a complete reply");
	else if (errno != EAGAIN && errno != EINTR)
		return sl_client_unreachable(c, strerror(errno));
	return SL_CLIENT_OK;
}

int sl_client_read_line(sl_client_t *c, char **out, uint64_t deadline)
{
	for (;;) {
		if (sl_client_take_line(c, out))
			return SL_CLIENT_OK;
		size_t had = c->len;
		int rc = sl_client_fill(c);
		if (rc != SL_CLIENT_OK)
			return rc;
		if (c->len == had &&
		    !sl_client_wait(c->fd, POLLIN, deadline ? deadline : UINT64_MAX))
			return sl_client_timed_out(c, "reply");
	}
}

int sl_client_call(sl_client_t *c, const char *cmd, json_t *args, json_t **reply, uint64_t deadline)
{
	*reply = NULL;
	json_t *req = json_pack("{s:I, s:s, s:o}", "id", (json_int_t)c->next_id++, "cmd", cmd,
	                        "args", args ? json_incref(args) : json_object());
	int rc = req ? sl_client_send_json(c, req, deadline) : SL_CLIENT_USAGE;
	json_decref(req);
	char *line = NULL;
	if (rc == SL_CLIENT_OK)
		rc = sl_client_read_line(c, &line, deadline);
	if (rc == SL_CLIENT_OK) {
		*reply = json_loads(line, 0, NULL);
		if (json_is_object(*reply) && sl_client_refused(c, *reply) != SL_CLIENT_OK) {
			json_decref(*reply);
			*reply = NULL;
			rc = SL_CLIENT_UNREACHABLE;
		} else if (!json_is_object(*reply)) {
			fprintf(stderr, "sluicectl: malformed reply from sluice-ctrl: %.200s\n",
			        line);
			json_decref(*reply);
			*reply = NULL;
			rc = SL_CLIENT_API;
		}
	}
	free(line);
	return rc;
}

int sl_client_refused(const sl_client_t *c, json_t *reply)
{
	json_t *err = json_object_get(reply, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	if (!json_is_null(json_object_get(reply, "id")) || code == NULL ||
	    strcmp(code, "FORBIDDEN") != 0)
		return SL_CLIENT_OK;
	char why[512];
	snprintf(why, sizeof why, "refused: %s",
	         json_string_value(json_object_get(err, "message")) ?: "?");
	return sl_client_unreachable(c, why);
}

void sl_client_close(sl_client_t *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}
