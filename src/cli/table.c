/*
 * table.c - the aligned-column printer behind zt-cli's human output. Owns
 * copies of its cells; knows nothing about what the columns mean.
 */
#include "cli/table.h"
#include "base/zt.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct zt_table {
	size_t ncols;
	size_t nrows; /* rows[0] is the header */
	size_t cap;
	char **cells; /* nrows * ncols */
};

static int add_copy(struct zt_table *t, const char *const *cells, bool upper)
{
	char **grown;
	size_t base;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;

		grown = realloc(t->cells, cap * t->ncols * sizeof(*grown));
		if (!grown)
			return ZT_ENOMEM;
		t->cells = grown;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		char *c = strdup(cells[i] ? cells[i] : "-");

		if (!c) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return ZT_ENOMEM;
		}
		for (char *p = c; upper && *p; p++)
			*p = (char)toupper((unsigned char)*p);
		t->cells[base + i] = c;
	}
	t->nrows++;
	return 0;
}

int zt_table_new(struct zt_table **out, size_t ncols, const char *const *headers)
{
	struct zt_table *t;
	int err;

	*out = NULL;
	if (ncols == 0 || ncols > ZT_TABLE_MAX_COLS)
		return ZT_EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return ZT_ENOMEM;
	t->ncols = ncols;
	err = add_copy(t, headers, true);
	if (err) {
		zt_table_free(t);
		return err;
	}
	*out = t;
	return 0;
}

void zt_table_free(struct zt_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int zt_table_add(struct zt_table *t, const char *const *cells)
{
	return add_copy(t, cells, false);
}

int zt_table_row(struct zt_table *t, ...)
{
	const char *cells[ZT_TABLE_MAX_COLS];
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	return add_copy(t, cells, false);
}

size_t zt_table_rows(const struct zt_table *t)
{
	return t->nrows - 1;
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void put_cell(const char *s, FILE *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

void zt_table_print(const struct zt_table *t, FILE *out)
{
	size_t w[ZT_TABLE_MAX_COLS] = {0};

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++)
			w[c] = ZT_MAX(w[c], width(t->cells[r * t->ncols + c]));
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			put_cell(s, out);
			if (c + 1 == t->ncols)
				break;
			for (size_t pad = width(s); pad < w[c] + 2; pad++)
				fputc(' ', out);
		}
		fputc('\n', out);
	}
}
