#include "sl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static const char *sl_log_ident = "sluice";
static sl_log_level_t sl_log_threshold = SL_LOG_INFO;

static const char *const sl_log_names[] = {"error", "warn", "info", "debug"};

void sl_log_init(const char *ident, sl_log_level_t level)
{
	sl_log_ident = ident;
	sl_log_threshold = level;
}

void sl_log_set_level(sl_log_level_t level)
{
	sl_log_threshold = level;
}

void sl_log(sl_log_level_t level, const char *fmt, ...)
{
	if (level > sl_log_threshold)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* One fprintf per line so concurrent writers do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", sl_log_ident, sl_log_names[level], line);
}
