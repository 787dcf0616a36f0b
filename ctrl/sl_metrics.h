/* sl_metrics.h — sluice-ctrl's Prometheus endpoint: GET /metrics in the
   text exposition format 0.0.4, served over HTTP by libmicrohttpd on the
   [ctrl] metrics address (sl_cfg.h; unset: no endpoint at all).
   Face layer (like sl_api): it reads what `stats`, `status`, `sync.status`,
   `ranges` and `ops` read — ctrl's own state and the dataplane's per-lcore
   counters in the mapped region — and changes nothing.
   Owner: the ctrl loop.  The HTTP daemon has NO thread of its own: its
   epoll fd joins the loop's ppoll set (sl_metrics_pollfd), the loop calls
   sl_metrics_run when that fd is readable, when sl_metrics_timeout_ns has
   passed, and at every tick; a scrape is rendered inside sl_metrics_run,
   in the ctrl thread, so nothing here is locked.
   Metric names: prefix sluice_; counters end in _total; labels lcore,
   reason, kind, state, exit — never `instance` or `job`, the labels
   Prometheus gives the target (the [instance] name is sluice_ctrl_info's
   `node`).  The dataplane's counters come from the X-macro
   lists of sl_counters.h: a counter added there appears here by itself. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <poll.h>
#include <stdio.h>

#include "sl_base.h"
#include "sl_cfg.h"

struct sl_ctrl;
typedef struct sl_metrics sl_metrics_t;

/* The Content-Type of a scrape. */
#define SL_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* sl_metrics_open listens on addr (TCP; SO_REUSEADDR) and starts the HTTP
   daemon in external-poll epoll mode; scrapes read c.  Returns the
   endpoint, or NULL with a message in err naming the address, the cause
   (e.g. "Address already in use") and the fix (cfg_path's [ctrl] metrics). */
sl_metrics_t *sl_metrics_open(struct sl_ctrl *c, const sl_cfg_addr_t *addr, const char *cfg_path,
                              char *err, size_t err_sz);

/* sl_metrics_pollfd fills *pfd with the daemon's epoll fd (POLLIN) and
   returns 1; 0 (pfd untouched) when m is NULL. */
int sl_metrics_pollfd(const sl_metrics_t *m, struct pollfd *pfd);

/* sl_metrics_timeout_ns: the longest the loop may sleep before the daemon
   needs sl_metrics_run again (connection timeouts, a response still
   being written), at most max_ns; max_ns when m is NULL or nothing is due. */
uint64_t sl_metrics_timeout_ns(sl_metrics_t *m, uint64_t max_ns);

/* sl_metrics_run accepts, reads, answers and writes whatever is ready
   without blocking (MHD_run).  No-op on NULL. */
void sl_metrics_run(sl_metrics_t *m);

/* sl_metrics_scrapes: /metrics responses rendered so far (0 on NULL). */
uint64_t sl_metrics_scrapes(const sl_metrics_t *m);

/* sl_metrics_close stops the daemon, closes every connection and the
   listening socket, and frees m.  Safe on NULL. */
void sl_metrics_close(sl_metrics_t *m);

/* sl_metrics_render writes the whole exposition of c at now_ns to f: every
   family with # HELP and # TYPE, label values escaped.  Returns 0, or -1
   when f reported a write error. */
int sl_metrics_render(struct sl_ctrl *c, FILE *f, uint64_t now_ns);

#endif /* SL_METRICS_H */
