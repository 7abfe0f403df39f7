/*
 * zt.h - what every file of the project includes: the error convention
 * (err.h), the logging call (log.h), a few macros and the randomness hook.
 * Part of the base layer: uses libc only.
 */
#ifndef ZT_ZT_H
#define ZT_ZT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/log.h"

#define ZT_VERSION_STRING "0.1.0"

#define ZT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ZT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ZT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Randomness is always handed in by the host (CSPRNG in osdep, seeded PRNG in the simulator). */
typedef void (*zt_random_fn)(void *ctx, void *buf, size_t len);

#endif
