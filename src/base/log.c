/*
 * log.c - the project's one logging call.
 * Owns the sink and level; does not format anything protocol-specific.
 */
#include "base/zt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static zt_log_sink_fn sink_fn;
static void *sink_ctx;
static int max_level = ZT_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void zt_log_set_sink(zt_log_sink_fn sink, void *ctx)
{
	sink_fn = sink;
	sink_ctx = ctx;
}

void zt_log_set_level(int level)
{
	max_level = level;
}

int zt_log_get_level(void)
{
	return max_level;
}

bool zt_log_enabled(int level)
{
	return level <= max_level;
}

const char *zt_log_level_name(int level)
{
	if (level < 0 || level >= (int)ZT_ARRAY_LEN(level_names))
		return "?";
	return level_names[level];
}

int zt_log_level_parse(const char *name)
{
	for (int i = 0; i < (int)ZT_ARRAY_LEN(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void zt_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (sink_fn) {
		sink_fn(sink_ctx, level, line);
		return;
	}
	fprintf(stderr, "%s: %s\n", zt_log_level_name(level), line);
}
