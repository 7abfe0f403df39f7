/*
 * err.c - the one table of error codes: text and HTTP status per code.
 * Owns nothing else; callers print with zt_strerror().
 */
#include "base/err.h"

#include "base/zt.h"

struct err_row {
	int code;
	const char *text;
	int http_status;
};

static const struct err_row rows[] = {
	{ZT_OK, "success", 200},
	{ZT_EINVAL, "invalid argument or malformed input", 400},
	{ZT_ENOMEM, "out of memory or pool exhausted", 500},
	{ZT_ECRYPTO, "crypto library failure", 500},
	{ZT_EAUTH, "authentication failed", 401},
	{ZT_ETRUNC, "input truncated", 400},
	{ZT_ETOOBIG, "input too large", 413},
	{ZT_EREPLAY, "replayed or too old", 500},
	{ZT_ENOENT, "not found", 404},
	{ZT_EEXIST, "already exists", 409},
	{ZT_EAGAIN, "not ready yet", 503},
	{ZT_ERATE, "rate limited", 429},
	{ZT_EIO, "I/O error", 500},
	{ZT_ESTATE, "invalid in current state", 409},
	{ZT_EVERSION, "unsupported version", 500},
	{ZT_ETIMEDOUT, "timed out", 504},
	{ZT_EPARSE, "parse error", 400},
	{ZT_EPERM, "not permitted", 403},
};

static const struct err_row *row_of(int err)
{
	for (size_t i = 0; i < ZT_ARRAY_LEN(rows); i++)
		if (rows[i].code == err)
			return &rows[i];
	return NULL;
}

const char *zt_strerror(int err)
{
	const struct err_row *r = row_of(err);

	return r ? r->text : "unknown error";
}

int zt_err_http_status(int err)
{
	const struct err_row *r = row_of(err);

	return r ? r->http_status : 500;
}
