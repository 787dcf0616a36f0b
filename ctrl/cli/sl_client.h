/* sl_client.h — one connection of sluicectl to sluice-ctrl's control
   socket (SPEC.md §9: one JSON object per line each way): connect, send a
   request, read reply lines with a deadline, or read what has arrived
   without blocking (for a second connection watched alongside).  Every
   failure is reported once, on stderr, naming the socket, the cause and
   the fix, and returned as the CLI's exit status (SPEC §10).
   Owner: the CLI's one thread. */
#ifndef SL_CLIENT_H
#define SL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* SPEC §10 exit codes. */
enum {
	SL_CLIENT_OK = 0,
	SL_CLIENT_API = 1,         /* the daemon answered an error (or garbage) */
	SL_CLIENT_USAGE = 2,       /* usage error */
	SL_CLIENT_UNREACHABLE = 3, /* cannot reach the daemon */
	SL_CLIENT_TIMEOUT = 4,     /* no reply in time */
};

typedef struct {
	const char *socket; /* path of the control socket */
	double timeout_s;   /* named in the timeout message */
	int fd;             /* -1: not connected */
	uint32_t next_id;   /* request ids of sl_client_call */
	char *buf;          /* bytes read past the last line */
	size_t len, cap;
} sl_client_t;

/* sl_client_init: not connected yet. */
void sl_client_init(sl_client_t *c, const char *socket, double timeout_s);

/* sl_client_connect connects by deadline (ns, sl_now_ns clock). */
int sl_client_connect(sl_client_t *c, uint64_t deadline);

/* sl_client_send writes len bytes by deadline. */
int sl_client_send(sl_client_t *c, const char *buf, size_t len, uint64_t deadline);

/* sl_client_send_json writes o as one compact line by deadline. */
int sl_client_send_json(sl_client_t *c, json_t *o, uint64_t deadline);

/* sl_client_take_line moves a complete line already read into *out
   (malloc'd, '\n' stripped); false when none is there yet. */
bool sl_client_take_line(sl_client_t *c, char **out);

/* sl_client_fill reads what the socket has without blocking (maybe
   nothing); an error status when it closed or failed. */
int sl_client_fill(sl_client_t *c);

/* sl_client_read_line waits for one line by deadline (0: for ever). */
int sl_client_read_line(sl_client_t *c, char **out, uint64_t deadline);

/* sl_client_call sends {"id", "cmd", "args"} (args borrowed, may be NULL)
   and returns the parsed reply object in *reply (the caller's: ok, result
   or error), by deadline. */
int sl_client_call(sl_client_t *c, const char *cmd, json_t *args, json_t **reply,
                   uint64_t deadline);

/* sl_client_refused: reply is the server's refusal of this client (an
   id-less FORBIDDEN line: its credentials are not admitted); it is reported
   as "cannot reach ...: refused: <why>" and SL_CLIENT_UNREACHABLE returned.
   SL_CLIENT_OK for any other reply. */
int sl_client_refused(const sl_client_t *c, json_t *reply);

/* sl_client_close closes the connection and frees the buffer. */
void sl_client_close(sl_client_t *c);

#endif /* SL_CLIENT_H */
