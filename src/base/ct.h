/*
 * ct.h - constant-time compare and wipe for secrets, in libc only so that
 * every room may use them (crypto.c keeps OpenSSL for everything else).
 */
#ifndef ZT_BASE_CT_H
#define ZT_BASE_CT_H

#include <stdbool.h>
#include <stddef.h>

/* Zero memory in a way the compiler may not drop (explicit_bzero). NULL is fine. */
void zt_wipe(void *p, size_t n);
/* True if the n bytes are equal; time depends on n only. */
bool zt_ct_equal(const void *a, const void *b, size_t n);

#endif
