/* sl_log.h — one log line per decision, to stderr (journald picks it up).
   Not for the per-frame path: per-frame events are counters and probes. */
#ifndef SL_LOG_H
#define SL_LOG_H

#include "sl_base.h"

typedef enum { SL_LOG_ERR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG } sl_log_level_t;

/* sl_log_init names the process in every line and sets the threshold. */
void sl_log_init(const char *ident, sl_log_level_t level);

/* sl_log_set_level changes the threshold (e.g. from -v / -q). */
void sl_log_set_level(sl_log_level_t level);

void sl_log(sl_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SL_ERR(...)   sl_log(SL_LOG_ERR, __VA_ARGS__)
#define SL_WARN(...)  sl_log(SL_LOG_WARN, __VA_ARGS__)
#define SL_INFO(...)  sl_log(SL_LOG_INFO, __VA_ARGS__)
#define SL_DEBUG(...) sl_log(SL_LOG_DEBUG, __VA_ARGS__)

#endif /* SL_LOG_H */
