/* sl_ptool_hist.c — log2 histograms as text or JSON (sl_ptool_hist.h). */
#include "sl_ptool_hist.h"

#include <stdint.h>

#define SL_PTOOL_HIST_BAR 40

unsigned long long sl_ptool_hist_lo(int slot)
{
	return slot == 0 ? 0 : 1ULL << (slot - 1);
}

unsigned long long sl_ptool_hist_hi(int slot)
{
	if (slot == 0)
		return 0;
	if (slot >= SL_PTOOL_SLOTS - 1 || slot >= 64)
		return UINT64_MAX;
	return (1ULL << slot) - 1;
}

void sl_ptool_hist_text(FILE *f, const struct sl_ptool_hist *h, const char *unit)
{
	int first = -1, last = -1;
	unsigned long long max = 0;
	for (int i = 0; i < SL_PTOOL_SLOTS; i++) {
		if (h->slots[i] == 0)
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (h->slots[i] > max)
			max = h->slots[i];
	}
	if (first < 0) {
		fprintf(f, "     (no samples)\n");
		return;
	}
	fprintf(f, "%*s%-10s : count    distribution\n", 14, "", unit);
	for (int i = first; i <= last; i++) {
		unsigned long long n = h->slots[i];
		int stars = (int)(n * SL_PTOOL_HIST_BAR / max);
		fprintf(f, "%12llu -> %-12llu : %-8llu |", sl_ptool_hist_lo(i), sl_ptool_hist_hi(i),
		        n);
		for (int s = 0; s < SL_PTOOL_HIST_BAR; s++)
			fputc(s < stars ? '*' : ' ', f);
		fputs("|\n", f);
	}
}

void sl_ptool_hist_json(FILE *f, const struct sl_ptool_hist *h)
{
	fputc('[', f);
	const char *sep = "";
	for (int i = 0; i < SL_PTOOL_SLOTS; i++) {
		if (h->slots[i] == 0)
			continue;
		fprintf(f, "%s{\"lo\":%llu,\"hi\":%llu,\"count\":%llu}", sep, sl_ptool_hist_lo(i),
		        sl_ptool_hist_hi(i), (unsigned long long)h->slots[i]);
		sep = ",";
	}
	fputc(']', f);
}
