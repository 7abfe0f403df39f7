/*
 * rulesc.c - the one place the controller calls the rules compiler
 * (rules/rules.h): rules_source text in, bytecode blob out, a syntax error
 * turned into a 400 naming line, column and message. Nothing else in
 * controller/ knows the rules format.
 */
#include "ctl_int.h"

#include "rules/rules.h"

int zt_ctl_rules_compile(const char *src, size_t len, uint8_t *out, size_t cap, size_t *out_len, struct zt_ctl_err *e)
{
	struct zt_rules_error err = {0};
	int rc;

	*out_len = 0;
	if (len == 0)
		return 0; /* no rules: the network accepts every frame */
	if (len > ZT_RULES_MAX_TEXT)
		return zt_ctl_fail(e, 400, "rules_source", "longer than %u bytes", ZT_RULES_MAX_TEXT);
	rc = zt_rules_compile(src, len, out, ZT_MIN(cap, (size_t)ZT_RULES_MAX_BYTES), out_len, &err);
	if (rc == 0)
		return 0;
	*out_len = 0;
	if (rc != ZT_EPARSE && rc != ZT_ETOOBIG)
		return rc;
	e->line = err.line;
	e->column = err.col;
	return zt_ctl_fail(e, 400, "rules_source", "line %u column %u: %s", err.line, err.col, err.msg);
}
