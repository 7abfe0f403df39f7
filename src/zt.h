/*
 * zt.h - the one error convention and the one logging call of the project.
 * Every module returns int: 0 on success, a negative ZT_E* code on failure.
 * Logging goes through zt_log(), which the host routes with zt_log_set_sink().
 */
#ifndef ZT_ZT_H
#define ZT_ZT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZT_VERSION_STRING "0.1.0"

enum zt_err {
	ZT_OK = 0,
	ZT_EINVAL = -1,    /* bad argument or malformed input */
	ZT_ENOMEM = -2,    /* allocation failed or a fixed pool is exhausted */
	ZT_ECRYPTO = -3,   /* the crypto library failed */
	ZT_EAUTH = -4,     /* authentication (tag, signature, MAC) failed */
	ZT_ETRUNC = -5,    /* input shorter than its fields say */
	ZT_ETOOBIG = -6,   /* input longer than a named maximum */
	ZT_EREPLAY = -7,   /* counter already seen or outside the window */
	ZT_ENOENT = -8,    /* no such thing */
	ZT_EEXIST = -9,    /* already exists */
	ZT_EAGAIN = -10,   /* not yet: incomplete, or waiting on something */
	ZT_ERATE = -11,    /* refused by a rate limit */
	ZT_EIO = -12,      /* an OS-level I/O error (host side only) */
	ZT_ESTATE = -13,   /* not valid in the current state */
	ZT_EVERSION = -14, /* unknown protocol or format version */
	ZT_ETIMEDOUT = -15,/* a deadline passed */
	ZT_EPARSE = -16,   /* text could not be parsed */
	ZT_EPERM = -17,    /* not allowed */
};

const char *zt_strerror(int err);

enum zt_log_level {
	ZT_LOG_ERROR = 0,
	ZT_LOG_WARN = 1,
	ZT_LOG_INFO = 2,
	ZT_LOG_DEBUG = 3,
	ZT_LOG_TRACE = 4,
};

typedef void (*zt_log_sink_fn)(void *ctx, int level, const char *msg);

/* Route all log lines to sink (NULL: stderr). Lines above max_level are dropped. */
void zt_log_set_sink(zt_log_sink_fn sink, void *ctx);
void zt_log_set_level(int max_level);
int zt_log_get_level(void);
bool zt_log_enabled(int level);
const char *zt_log_level_name(int level);
int zt_log_level_parse(const char *name); /* -1 if unknown */

/* The one logging call. Never pass key material. */
void zt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ZT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ZT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ZT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Randomness is always handed in by the host (CSPRNG in osdep, seeded PRNG in the simulator). */
typedef void (*zt_random_fn)(void *ctx, void *buf, size_t len);

#endif
