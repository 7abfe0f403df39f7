/*
 * table.h - aligned columns for the human output of the CLI programs:
 * add rows of strings, print with widths computed and a header in caps.
 */
#ifndef ZT_CLI_TABLE_H
#define ZT_CLI_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define ZT_TABLE_MAX_COLS 16

struct zt_table;

/* ncols headers (copied, printed upper-cased). */
int zt_table_new(struct zt_table **out, size_t ncols, const char *const *headers);
void zt_table_free(struct zt_table *t);

/* One row of ncols cells, copied; a NULL cell prints as "-". */
int zt_table_add(struct zt_table *t, const char *const *cells);
/* The same with the ncols cells as arguments. */
int zt_table_row(struct zt_table *t, ...);
size_t zt_table_rows(const struct zt_table *t);

/* Columns two spaces apart, the last one unpadded; control characters in
 * cells (they may come from the network) print as '?'. */
void zt_table_print(const struct zt_table *t, FILE *out);

#endif
