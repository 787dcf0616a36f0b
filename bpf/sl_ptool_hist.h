/* sl_ptool_hist.h — printing a log2 histogram of sl_ptool.h (buckets of
   ns), as text (libbpf-tools' ascii bars) or as a JSON array of the
   non-empty buckets [{"lo":..,"hi":..,"count":..}].  Stateless. */
#ifndef SL_PTOOL_HIST_H
#define SL_PTOOL_HIST_H

#include <stdio.h>

#include "sl_ptool.h"

/* sl_ptool_hist_lo / _hi: the smallest and largest value bucket `slot`
   counts (the last slot is open-ended: hi is UINT64_MAX). */
unsigned long long sl_ptool_hist_lo(int slot);
unsigned long long sl_ptool_hist_hi(int slot);

/* sl_ptool_hist_text prints h's non-empty bucket range, `unit` naming the
   values ("ns"); nothing but a "(no samples)" line when h is empty. */
void sl_ptool_hist_text(FILE *f, const struct sl_ptool_hist *h, const char *unit);

/* sl_ptool_hist_json prints h's non-empty buckets as a JSON array. */
void sl_ptool_hist_json(FILE *f, const struct sl_ptool_hist *h);

#endif /* SL_PTOOL_HIST_H */
