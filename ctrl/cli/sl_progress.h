/* sl_progress.h — the progress display of a long sluicectl operation
   (sync.start, header.import, header.export): done of total, the rate, the
   time left.  On a terminal one line is redrawn in place (at most
   SL_PROGRESS_TTY_NS apart) and erased at the end; otherwise (a pipe, a
   log) a plain line is written at most once every SL_PROGRESS_PLAIN_NS.
   Pure output: the caller feeds it values and the clock.

   Owner: the CLI's one thread. */
#ifndef SL_PROGRESS_H
#define SL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SL_PROGRESS_TTY_NS   (100ull * 1000000ull)  /* redraw at most 10 times a second */
#define SL_PROGRESS_PLAIN_NS (1000ull * 1000000ull) /* a plain line at most once a second */

typedef struct {
	FILE *f;
	bool tty;
	int width;         /* terminal columns (tty) */
	const char *label; /* "sync", "import", "export" */
	const char *unit;  /* "headers" */
	uint64_t done, total;
	double rate;         /* units/s, smoothed */
	uint64_t rate_done;  /* done at the last rate sample */
	uint64_t rate_ns;    /* time of that sample, 0 none */
	uint64_t drawn_ns;   /* last output, 0 none */
	bool drawn;          /* a tty line is on screen */
	bool shown;          /* anything was written */
	uint64_t shown_done; /* done in the last line written */
} sl_progress_t;

/* sl_progress_init: a display on f (tty: redraw in place, width columns). */
void sl_progress_init(sl_progress_t *p, FILE *f, bool tty, int width, const char *label,
                      const char *unit);

/* sl_progress_update records done of total at now_ns; rate >= 0 is the
   producer's own rate, < 0 lets the display measure it.  Draws when due. */
void sl_progress_update(sl_progress_t *p, uint64_t done, uint64_t total, double rate,
                        uint64_t now_ns);

/* sl_progress_end closes the display: the tty line is erased (the caller
   prints the result); plain output gets its final line when the operation
   finished (ok) and a line was written before. */
void sl_progress_end(sl_progress_t *p, bool ok);

/* sl_progress_format writes the line for p into buf (bar only when bar > 0
   columns); returns its length. */
int sl_progress_format(const sl_progress_t *p, char *buf, size_t n, int bar);

#endif /* SL_PROGRESS_H */
