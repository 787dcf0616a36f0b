/* sl_log.h — one log line per decision, on stderr (journald picks it up
   when systemd runs us).  Not for the per-frame path: per-frame events
   are counters and probes.

   Every line carries the process, the level and the component (the
   source file the call is in: sl_peermgr.c logs as "peermgr").  Formats
   ([log] format):
     text  "sluice-ctrl: info: peermgr: session 5 up"; under journald
           (JOURNAL_STREAM names our stderr) each line starts with its
           syslog priority "<6>", so `journalctl -p warning` works;
     json  one object per line: ts (UTC, microseconds), level, proc, pid,
           comp, msg, and every key=value token of the message as a field
           of its own (numbers as numbers).
   Messages say key=value for the facts a machine would filter on
   (session=5 height=1000).  Owner: the process; one fprintf per line, so
   lines of several threads never interleave. */
#ifndef SL_LOG_H
#define SL_LOG_H

#include "sl_base.h"

typedef enum { SL_LOG_ERR = 0, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG } sl_log_level_t;
typedef enum { SL_LOG_TEXT = 0, SL_LOG_JSON } sl_log_format_t;

/* sl_log_init names the process in every line and sets the threshold;
   it notices journald (JOURNAL_STREAM). */
void sl_log_init(const char *ident, sl_log_level_t level);

/* sl_log_set_level changes the threshold (e.g. from -v / -q). */
void sl_log_set_level(sl_log_level_t level);

/* sl_log_set_format picks text or json. */
void sl_log_set_format(sl_log_format_t format);

/* sl_log_level_of / sl_log_format_of: the [log] level / format names
   ("error|warn|info|debug", "text|json"; anything else: info / text). */
sl_log_level_t sl_log_level_of(const char *name);
sl_log_format_t sl_log_format_of(const char *name);

/* sl_log_at writes one line at level for the source file `file`. */
void sl_log_at(sl_log_level_t level, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sl_log(level, ...) sl_log_at(level, __FILE_NAME__, __VA_ARGS__)
#define SL_ERR(...)        sl_log_at(SL_LOG_ERR, __FILE_NAME__, __VA_ARGS__)
#define SL_WARN(...)       sl_log_at(SL_LOG_WARN, __FILE_NAME__, __VA_ARGS__)
#define SL_INFO(...)       sl_log_at(SL_LOG_INFO, __FILE_NAME__, __VA_ARGS__)
#define SL_DEBUG(...)      sl_log_at(SL_LOG_DEBUG, __FILE_NAME__, __VA_ARGS__)

#endif /* SL_LOG_H */
