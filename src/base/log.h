/*
 * log.h - the one logging call. The host routes lines with zt_log_set_sink();
 * a line names the peer or network it is about and never carries key material.
 */
#ifndef ZT_BASE_LOG_H
#define ZT_BASE_LOG_H

#include <stdbool.h>

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

#endif
