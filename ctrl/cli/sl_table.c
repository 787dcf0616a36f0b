/* sl_table.c — aligned text tables (see sl_table.h). */
#include "sl_table.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void sl_table_init(sl_table_t *t, size_t ncol, const char *const *head)
{
	memset(t, 0, sizeof *t);
	t->ncol = ncol < SL_TABLE_COLS_MAX ? ncol : SL_TABLE_COLS_MAX;
	for (size_t i = 0; i < t->ncol; i++)
		t->head[i] = head[i];
}

void sl_table_add(sl_table_t *t, const char *fmt, ...)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cell, cap * sizeof *c);
		if (c == NULL)
			return;
		t->cell = c;
		t->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&t->cell[t->n], fmt, ap) >= 0)
		t->n++;
	va_end(ap);
}

/* sl_table_numeric: s is a number (digits, sign, point) or "-". */
static bool sl_table_numeric(const char *s)
{
	if (strcmp(s, "-") == 0)
		return true;
	if (*s == '-' || *s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s) && *s != '.')
			return false;
	return true;
}

void sl_table_print(const sl_table_t *t, FILE *f)
{
	size_t w[SL_TABLE_COLS_MAX];
	bool right[SL_TABLE_COLS_MAX];
	size_t rows = t->ncol ? t->n / t->ncol : 0;
	for (size_t c = 0; c < t->ncol; c++) {
		w[c] = strlen(t->head[c]);
		right[c] = rows > 0;
		for (size_t r = 0; r < rows; r++) {
			const char *s = t->cell[r * t->ncol + c];
			w[c] = strlen(s) > w[c] ? strlen(s) : w[c];
			right[c] = right[c] && sl_table_numeric(s);
		}
	}
	for (size_t r = 0; r <= rows; r++)
		for (size_t c = 0; c < t->ncol; c++) {
			const char *s = r == 0 ? t->head[c] : t->cell[(r - 1) * t->ncol + c];
			bool last = c + 1 == t->ncol;
			if (right[c])
				fprintf(f, "%*s%s", (int)w[c], s, last ? "\n" : "  ");
			else if (last)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)w[c], s);
		}
}

void sl_table_free(sl_table_t *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->cell[i]);
	free(t->cell);
	memset(t, 0, sizeof *t);
}
