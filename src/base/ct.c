/*
 * ct.c - constant-time compare and wipe. No branches on secret bytes.
 */
#include "base/ct.h"

#include <string.h>

void zt_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

bool zt_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}
