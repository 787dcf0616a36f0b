/* sl_progress.c — progress display of a long sluicectl operation (see
   sl_progress.h). */
#include "sl_progress.h"

#include <string.h>

#define SL_PROGRESS_ALPHA 0.3 /* weight of the newest rate sample */

void sl_progress_init(sl_progress_t *p, FILE *f, bool tty, int width, const char *label,
                      const char *unit)
{
	memset(p, 0, sizeof *p);
	p->f = f;
	p->tty = tty;
	p->width = width > 20 ? width : 80;
	p->label = label;
	p->unit = unit;
}

/* sl_progress_measure folds the movement since the last sample into the
   smoothed rate (samples at least 200 ms apart). */
static void sl_progress_measure(sl_progress_t *p, uint64_t now_ns)
{
	if (p->rate_ns == 0 || p->done < p->rate_done) {
		p->rate_ns = now_ns;
		p->rate_done = p->done;
		return;
	}
	uint64_t dt = now_ns - p->rate_ns;
	if (dt < 200ull * 1000000ull)
		return;
	double r = (double)(p->done - p->rate_done) * 1e9 / (double)dt;
	p->rate = p->rate > 0 ? SL_PROGRESS_ALPHA * r + (1 - SL_PROGRESS_ALPHA) * p->rate : r;
	p->rate_ns = now_ns;
	p->rate_done = p->done;
}

/* sl_progress_eta formats the time left ("12 s", "3 min", "?"). */
static void sl_progress_eta(const sl_progress_t *p, char *buf, size_t n)
{
	if (p->total == 0 || p->done >= p->total) {
		snprintf(buf, n, "0 s");
		return;
	}
	if (!(p->rate > 0)) {
		snprintf(buf, n, "?");
		return;
	}
	double s = (double)(p->total - p->done) / p->rate;
	if (s < 100)
		snprintf(buf, n, "%.0f s", s);
	else if (s < 6000)
		snprintf(buf, n, "%.0f min", s / 60);
	else
		snprintf(buf, n, "%.1f h", s / 3600);
}

int sl_progress_format(const sl_progress_t *p, char *buf, size_t n, int bar)
{
	double frac = p->total > 0 ? (double)p->done / (double)p->total : 0;
	if (frac > 1)
		frac = 1;
	char eta[32];
	sl_progress_eta(p, eta, sizeof eta);
	int len = snprintf(buf, n, "%s ", p->label);
	if (bar > 0 && (size_t)len + (size_t)bar + 3 < n) {
		int fill = (int)(frac * bar + 0.5);
		buf[len++] = '[';
		for (int i = 0; i < bar; i++)
			buf[len++] = i < fill ? '#' : '.';
		buf[len++] = ']';
		buf[len++] = ' ';
		buf[len] = '\0';
	}
	len += snprintf(buf + len, n - (size_t)len, "%5.1f%%  %llu/%llu %s  %.0f %s/s  ETA %s",
	                frac * 100, (unsigned long long)p->done, (unsigned long long)p->total,
	                p->unit, p->rate > 0 ? p->rate : 0, p->unit, eta);
	return len < (int)n ? len : (int)n - 1;
}

void sl_progress_update(sl_progress_t *p, uint64_t done, uint64_t total, double rate,
                        uint64_t now_ns)
{
	p->done = done;
	p->total = total;
	if (rate >= 0)
		p->rate = rate;
	else
		sl_progress_measure(p, now_ns);
	uint64_t gap = p->tty ? SL_PROGRESS_TTY_NS : SL_PROGRESS_PLAIN_NS;
	if (p->drawn_ns != 0 && now_ns - p->drawn_ns < gap)
		return;
	p->drawn_ns = now_ns;
	p->shown = true;
	p->shown_done = done;
	char line[512];
	if (p->tty) {
		int bar = p->width - 70; /* what the numbers leave of the line */
		sl_progress_format(p, line, sizeof line, bar < 10 ? 10 : (bar > 50 ? 50 : bar));
		fprintf(p->f, "\r\033[K%s", line);
		p->drawn = true;
	} else {
		sl_progress_format(p, line, sizeof line, 0);
		fprintf(p->f, "%s\n", line);
	}
	fflush(p->f);
}

void sl_progress_end(sl_progress_t *p, bool ok)
{
	char line[512];
	if (p->tty && p->drawn) {
		fputs("\r\033[K", p->f);
	} else if (!p->tty && p->shown && ok && p->total > 0 && p->shown_done != p->total) {
		p->done = p->total;
		sl_progress_format(p, line, sizeof line, 0);
		fprintf(p->f, "%s\n", line);
	}
	fflush(p->f);
	p->drawn = false;
}
