/* sl_log.c — log lines, text or JSON (see sl_log.h). */
#include "sl_log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static const char *sl_log_ident = "sluice";
static sl_log_level_t sl_log_threshold = SL_LOG_INFO;
static sl_log_format_t sl_log_format = SL_LOG_TEXT;
static bool sl_log_journal; /* stderr is journald's stream */

static const char *const sl_log_names[] = {"error", "warn", "info", "debug"};
static const int sl_log_prio[] = {3, 4, 6, 7}; /* syslog: err, warning, info, debug */

/* sl_log_on_journal: JOURNAL_STREAM ("dev:ino") names our stderr. */
static bool sl_log_on_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void sl_log_init(const char *ident, sl_log_level_t level)
{
	sl_log_ident = ident;
	sl_log_threshold = level;
	sl_log_journal = sl_log_on_journal();
}

void sl_log_set_level(sl_log_level_t level)
{
	sl_log_threshold = level;
}

void sl_log_set_format(sl_log_format_t format)
{
	sl_log_format = format;
}

sl_log_level_t sl_log_level_of(const char *name)
{
	for (int i = SL_LOG_ERR; i <= SL_LOG_DEBUG; i++)
		if (strcmp(name, sl_log_names[i]) == 0)
			return (sl_log_level_t)i;
	return SL_LOG_INFO;
}

sl_log_format_t sl_log_format_of(const char *name)
{
	return strcmp(name, "json") == 0 ? SL_LOG_JSON : SL_LOG_TEXT;
}

/* sl_log_comp: the component of a source file: "sl_peermgr.c" -> "peermgr". */
static void sl_log_comp(const char *file, char *out, size_t n)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	if (strncmp(b, "sl_", 3) == 0)
		b += 3;
	size_t len = strcspn(b, ".");
	snprintf(out, n, "%.*s", (int)SL_MIN(len, n - 1), b);
}

/* sl_log_fields adds every key=value token of msg to o (a number when the
   value is one). */
static void sl_log_fields(json_t *o, const char *msg)
{
	for (const char *p = msg; *p != '\0';) {
		while (*p == ' ' || *p == '(' || *p == ',')
			p++;
		const char *k = p;
		while (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_')
			p++;
		size_t klen = (size_t)(p - k);
		if (*p != '=' || klen == 0 || !islower((unsigned char)*k)) {
			p += strcspn(p, " ");
			continue;
		}
		const char *v = ++p;
		size_t vlen = strcspn(v, " ");
		while (vlen > 0 && strchr(",;:)", v[vlen - 1]) != NULL)
			vlen--;
		char key[64], val[256], *end;
		snprintf(key, sizeof key, "%.*s", (int)SL_MIN(klen, sizeof key - 1), k);
		snprintf(val, sizeof val, "%.*s", (int)SL_MIN(vlen, sizeof val - 1), v);
		long long x = strtoll(val, &end, 10);
		if (strcmp(key, "msg") != 0 && json_object_get(o, key) == NULL)
			json_object_set_new(
			    o, key, *val && *end == '\0' ? json_integer(x) : json_string(val));
		p = v + strcspn(v, " ");
	}
}

static void sl_log_json(sl_log_level_t level, const char *comp, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char ts[40], out[2048];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof ts - n, ".%06ldZ", (long)tv.tv_usec);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "ts", ts, "level", sl_log_names[level],
	              "proc", sl_log_ident, "pid", (int)getpid(), "comp", comp, "msg", msg);
	if (o == NULL)
		return;
	sl_log_fields(o, msg);
	size_t len = json_dumpb(o, out, sizeof out - 2, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (len == 0 || len > sizeof out - 2)
		return;
	out[len] = '\n';
	fwrite(out, 1, len + 1, stderr); /* one write per line */
}

void sl_log_at(sl_log_level_t level, const char *file, const char *fmt, ...)
{
	if (level > sl_log_threshold)
		return;
	char line[1024], comp[32];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	sl_log_comp(file, comp, sizeof comp);
	if (sl_log_format == SL_LOG_JSON) {
		sl_log_json(level, comp, line);
		return;
	}
	/* One fprintf per line so concurrent writers do not interleave. */
	if (sl_log_journal)
		fprintf(stderr, "<%d>%s: %s: %s: %s\n", sl_log_prio[level], sl_log_ident,
		        sl_log_names[level], comp, line);
	else
		fprintf(stderr, "%s: %s: %s: %s\n", sl_log_ident, sl_log_names[level], comp, line);
}
