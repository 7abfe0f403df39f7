/*
 * doc.c - reading and writing fields of the stored JSON documents (they were
 * validated when written) and filling a validation error. No rules about
 * which fields exist: those are objects.c's.
 */
#include "ctl_int.h"

#include <stdarg.h>
#include <stdio.h>

int zt_ctl_fail(struct zt_ctl_err *e, int status, const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return ZT_EINVAL;
}

/* ---- document accessors (documents were validated when written) ---- */

bool zt_ctl_doc_bool(const json_t *doc, const char *key)
{
	return json_is_true(json_object_get(doc, key));
}

uint64_t zt_ctl_doc_u64(const json_t *doc, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(doc, key));
	return v < 0 ? 0 : (uint64_t)v;
}

const char *zt_ctl_doc_str(const json_t *doc, const char *key)
{
	const char *s = json_string_value(json_object_get(doc, key));
	return s ? s : "";
}

int zt_ctl_doc_set_u64(json_t *doc, const char *key, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return ZT_EINVAL;
	return json_object_set_new(doc, key, json_integer((json_int_t)v)) == 0 ? 0 : ZT_ENOMEM;
}
