/*
 * httpd.h - ztd's local HTTP JSON API: libmicrohttpd on 127.0.0.1 (and ::1)
 * driven by our event loop, token authentication, and a route table of
 * "METHOD /path/{param}" patterns to handlers that fill a JSON response.
 */
#ifndef ZT_SERVICE_HTTPD_H
#define ZT_SERVICE_HTTPD_H

#include "osdep/loop.h"
#include "base/zt.h"

#include <jansson.h>

#define ZT_HTTP_MAX_BODY (1024 * 1024) /* larger request bodies get 413 unread */
#define ZT_HTTP_MAX_PATH 1024 /* longer paths get 414 */
#define ZT_HTTP_MAX_SEGMENTS 16 /* path segments matched against a pattern */
#define ZT_HTTP_MAX_PARAMS 8 /* {name} segments in one pattern */
#define ZT_HTTP_TOKEN_BYTES 32 /* a new token: 32 random bytes ... */
#define ZT_HTTP_TOKEN_HEX (2 * ZT_HTTP_TOKEN_BYTES) /* ... as 64 hex characters */
#define ZT_HTTP_TOKEN_MAX 128 /* an operator-written token may be this long */
#define ZT_HTTP_TOKEN_FILE "authtoken.secret"
#define ZT_HTTP_CONN_LIMIT 64 /* concurrent API connections */
#define ZT_HTTP_CONN_TIMEOUT_S 30 /* idle API connections are closed after this */

struct zt_http_param {
	const char *name;
	const char *value;
};

struct zt_http_req {
	const char *method;
	const char *path;
	const char *body; /* body_len bytes, NUL-terminated; "" when none */
	size_t body_len;
	struct zt_http_param params[ZT_HTTP_MAX_PARAMS]; /* the {name} segments */
	unsigned n_params;
	void *conn; /* private: the MHD connection */
};

struct zt_http_resp {
	int status; /* 0: 200 */
	json_t *json; /* owned by resp, sent as application/json */
	char *text; /* owned by resp (malloc), sent when json is NULL */
	size_t text_len;
	const char *content_type; /* for text; a static string */
};

/* 0 with resp filled, or a negative ZT_E* code: then, unless the handler
 * already set an error status, the code picks one (ZT_ENOENT 404, ZT_EINVAL
 * 400, ZT_EEXIST 409, ...) and the body is {"error": zt_strerror(code)}. */
typedef int (*zt_http_handler_fn)(void *ctx, const struct zt_http_req *req,
				  struct zt_http_resp *resp);

struct zt_httpd;

/* Listen on 127.0.0.1:port (0: ephemeral) and on ::1 at the same port when
 * IPv6 is there; requests need `token` (copied). Runs inside loop. */
int zt_httpd_new(struct zt_httpd **out, struct zt_loop *loop, uint16_t port, const char *token);
void zt_httpd_free(struct zt_httpd *h);
uint16_t zt_httpd_port(const struct zt_httpd *h);

/* pattern: "/peer/{address}"; {name} matches one non-empty segment. */
int zt_httpd_route(struct zt_httpd *h, const char *method, const char *pattern,
		   zt_http_handler_fn fn, void *ctx);

/* Request accessors; NULL when absent. */
const char *zt_http_req_param(const struct zt_http_req *req, const char *name);
const char *zt_http_req_query(const struct zt_http_req *req, const char *name);
const char *zt_http_req_header(const struct zt_http_req *req, const char *name);
/* Parse the body as a JSON object into *out (caller json_decref). On
 * failure sets resp to 400 naming the line and column, returns ZT_EPARSE
 * (or ZT_EINVAL for valid JSON that is not an object). */
int zt_http_req_json(const struct zt_http_req *req, struct zt_http_resp *resp, json_t **out);

/* Response setters; each replaces what resp held. */
void zt_http_resp_json(struct zt_http_resp *resp, int status, json_t *json); /* steals json */
int zt_http_resp_text(struct zt_http_resp *resp, int status, const char *content_type,
		      const char *text, size_t len);
/* {"error": message, "field": field} (no "field" when NULL). */
void zt_http_resp_error(struct zt_http_resp *resp, int status, const char *field,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* HOME/authtoken.secret: read it, or create it (32 random bytes as 64 hex
 * characters, mode 0600, written atomically). out gets the token. */
int zt_httpd_token_load_or_create(const char *home, char *out, size_t out_len);

#endif
