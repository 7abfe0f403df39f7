/*
 * os.h - the small OS services the daemon and the CLI share: CSPRNG, the
 * clock, and files read bounded / written atomically. Only osdep/ and the
 * programs include this; the core never does.
 */
#ifndef ZT_OSDEP_OS_H
#define ZT_OSDEP_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CSPRNG (getrandom); a zt_random_fn. Aborts if the kernel cannot supply entropy. */
void zt_os_random(void *ctx, void *buf, size_t len);

/* Milliseconds since the Unix epoch that never go backwards (wall clock at
 * start plus CLOCK_MONOTONIC elapsed): the `now_ms` handed to the core. */
uint64_t zt_os_now_ms(void);

/* Write data to path atomically (temp file in the same directory, fsync,
 * rename, fsync dir) with the given mode. 0 or a negative ZT_E* code. */
int zt_os_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Read a whole file, refusing anything larger than max bytes. *out is
 * NUL-terminated (for text) and owned by the caller (free()). */
int zt_os_read_file(const char *path, size_t max, char **out, size_t *len);

/* mkdir -p with mode for the last component. */
int zt_os_mkdirs(const char *path, mode_t mode);

#endif
