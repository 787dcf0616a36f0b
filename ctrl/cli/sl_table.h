/* sl_table.h — an aligned text table for sluicectl's human output: cells
   are added row by row, each column is as wide as its widest cell, and a
   column whose cells are all numbers (or "-") is right-aligned.
   Owner: the CLI's one thread. */
#ifndef SL_TABLE_H
#define SL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define SL_TABLE_COLS_MAX 16u

typedef struct {
	size_t ncol;
	const char *head[SL_TABLE_COLS_MAX];
	char **cell; /* row-major, ncol per row */
	size_t n, cap;
} sl_table_t;

/* sl_table_init: ncol columns (at most SL_TABLE_COLS_MAX) with titles. */
void sl_table_init(sl_table_t *t, size_t ncol, const char *const *head);

/* sl_table_add appends the next cell (rows fill left to right). */
void sl_table_add(sl_table_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sl_table_print writes the title line and the rows to f. */
void sl_table_print(const sl_table_t *t, FILE *f);

/* sl_table_free releases the cells. */
void sl_table_free(sl_table_t *t);

#endif /* SL_TABLE_H */
