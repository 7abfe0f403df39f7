/*
 * api.c - the CLI side of ztd's local HTTP API: resolves home, port and
 * token, sends one JSON request with libcurl and turns every failure into
 * one sentence a user can act on. Printing results is each program's job.
 */
#include "cli/api.h"
#include "osdep/os.h"
#include "base/zt.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_FILE_MAX 4096 /* ztd.port and authtoken.secret are tiny */

static void set_err(struct zt_api_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct zt_api_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

const char *zt_api_error(const struct zt_api_client *c)
{
	return c->err[0] ? c->err : "no error";
}

bool zt_api_opt(struct zt_api_opts *o, int opt, const char *arg)
{
	if (opt == 'H') {
		o->home = arg;
		return true;
	}
	if (opt == 'p') {
		o->port = arg;
		return true;
	}
	return false;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return ZT_EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (errno || *end != '\0' || v == 0 || v > 65535)
		return ZT_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* Reads HOME/name; errno-style reason in why on failure. */
static int read_small(const struct zt_api_client *c, const char *name, char *path, size_t path_len,
		      char **buf, size_t *len, const char **why)
{
	int err;

	if (snprintf(path, path_len, "%s/%s", c->home, name) >= (int)path_len) {
		*why = "path too long";
		return ZT_ETOOBIG;
	}
	errno = 0;
	err = zt_os_read_file(path, SMALL_FILE_MAX, buf, len);
	if (err == ZT_ETOOBIG)
		*why = "file too large";
	else if (err)
		*why = strerror(errno ? errno : EIO);
	return err;
}

static int resolve_port(struct zt_api_client *c, const char *opt)
{
	char path[PATH_MAX];
	const char *why;
	char *buf;
	size_t len;
	int err;

	if (opt) {
		if (parse_port(opt, &c->port) == 0)
			return 0;
		set_err(c, "invalid port '%s' (1 to 65535)", opt);
		return ZT_EINVAL;
	}
	c->port = ZT_API_DEFAULT_PORT;
	if (read_small(c, ZT_API_PORT_FILE, path, sizeof(path), &buf, &len, &why) < 0)
		return 0; /* no port file: ztd runs on the default port, or not at all */
	err = parse_port(buf, &c->port);
	free(buf);
	if (err) {
		set_err(c, "%s does not hold a port number (pass -p PORT)", path);
		return ZT_EINVAL;
	}
	return 0;
}

static bool token_ok(const char *t, size_t len)
{
	if (len == 0 || len > ZT_API_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (t[i] <= 0x20 || t[i] >= 0x7f)
			return false;
	return true;
}

static int take_token(struct zt_api_client *c, const char *text, size_t len, const char *from)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	if (!token_ok(text, len)) {
		set_err(c, "%s does not hold a usable token", from);
		return ZT_EINVAL;
	}
	memcpy(c->token, text, len);
	c->token[len] = '\0';
	return 0;
}

static int resolve_token(struct zt_api_client *c)
{
	char path[PATH_MAX];
	const char *env = getenv("ZT_AUTH_TOKEN"), *why;
	char *buf;
	size_t len;
	int err;

	if (env && *env)
		return take_token(c, env, strlen(env), "ZT_AUTH_TOKEN");
	err = read_small(c, ZT_API_TOKEN_FILE, path, sizeof(path), &buf, &len, &why);
	if (err) {
		set_err(c, "cannot read %s: %s (run as root or pass -H HOME)", path, why);
		return err;
	}
	err = take_token(c, buf, len, path);
	explicit_bzero(buf, len);
	free(buf);
	return err;
}

int zt_api_init(struct zt_api_client *c, const struct zt_api_opts *o)
{
	const char *home = o && o->home ? o->home : getenv("ZT_HOME");
	int err;

	memset(c, 0, sizeof(*c));
	if (!home || !*home)
		home = ZT_API_DEFAULT_HOME;
	if (strlen(home) >= sizeof(c->home)) {
		set_err(c, "home directory path too long");
		return ZT_ETOOBIG;
	}
	strcpy(c->home, home);
	err = resolve_port(c, o ? o->port : NULL);
	if (!err)
		err = resolve_token(c);
	if (err)
		return err;
	c->curl = curl_easy_init();
	if (!c->curl) {
		set_err(c, "cannot initialise libcurl");
		return ZT_ENOMEM;
	}
	return 0;
}

void zt_api_free(struct zt_api_client *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
	explicit_bzero(c->token, sizeof(c->token));
}

/* ---- one request ---- */

struct reply_buf {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct reply_buf *r = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (n > ZT_API_MAX_REPLY - r->len) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	grown = realloc(r->data, r->len + n + 1);
	if (!grown)
		return 0;
	r->data = grown;
	memcpy(r->data + r->len, ptr, n);
	r->len += n;
	r->data[r->len] = '\0';
	return n;
}

static int transport_error(struct zt_api_client *c, CURLcode rc, const struct reply_buf *r)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		set_err(c, "ztd is not running on %s:%u (connection refused)", ZT_API_HOST, c->port);
		return ZT_EIO;
	case CURLE_OPERATION_TIMEDOUT:
		set_err(c, "ztd on %s:%u did not answer within %d s", ZT_API_HOST, c->port,
			ZT_API_TIMEOUT_MS / 1000);
		return ZT_ETIMEDOUT;
	case CURLE_WRITE_ERROR:
		if (r->too_big) {
			set_err(c, "reply from ztd larger than %d bytes", ZT_API_MAX_REPLY);
			return ZT_ETOOBIG;
		}
		break;
	default:
		break;
	}
	set_err(c, "request to ztd on %s:%u failed: %s", ZT_API_HOST, c->port,
		curl_easy_strerror(rc));
	return ZT_EIO;
}

static int status_error(long status)
{
	switch (status) {
	case 400: return ZT_EINVAL;
	case 401: return ZT_EAUTH;
	case 403: return ZT_EPERM;
	case 404: return ZT_ENOENT;
	case 409: return ZT_EEXIST;
	case 413: return ZT_ETOOBIG;
	case 429: return ZT_ERATE;
	case 503: return ZT_EAGAIN;
	}
	return ZT_EIO;
}

/* Sets the error text for a non-2xx reply from the server's "error" field. */
static int api_error(struct zt_api_client *c, long status, json_t *j)
{
	const char *msg = json_string_value(json_object_get(j, "error"));
	const char *field = json_string_value(json_object_get(j, "field"));

	if (msg && field)
		set_err(c, "ztd: %s (field \"%s\", HTTP %ld)", msg, field, status);
	else if (msg)
		set_err(c, "ztd: %s (HTTP %ld)", msg, status);
	else
		set_err(c, "ztd answered HTTP %ld", status);
	return status_error(status);
}

static struct curl_slist *headers(const struct zt_api_client *c, bool has_body)
{
	char auth[sizeof("X-ZT-Auth: ") + ZT_API_TOKEN_MAX];
	struct curl_slist *h = NULL, *t;

	snprintf(auth, sizeof(auth), "X-ZT-Auth: %s", c->token);
	t = curl_slist_append(h, auth);
	explicit_bzero(auth, sizeof(auth));
	if (!t)
		return NULL;
	h = t;
	t = curl_slist_append(h, "Accept: application/json");
	if (t)
		h = t;
	if (has_body) {
		t = curl_slist_append(h, "Content-Type: application/json");
		if (t)
			h = t;
		t = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
		if (t)
			h = t;
	}
	return h;
}

static CURLcode perform(struct zt_api_client *c, const char *method, const char *url,
			const char *body, struct curl_slist *hdrs, struct reply_buf *r)
{
	CURL *curl = c->curl;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*"); /* never send the token to a proxy */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)ZT_API_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)ZT_API_TIMEOUT_MS);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
	}
	return curl_easy_perform(curl);
}

static int parse_reply(struct zt_api_client *c, long status, const struct reply_buf *r,
		       json_t **out)
{
	json_error_t jerr;

	*out = NULL;
	if (r->len == 0)
		return 0;
	*out = json_loadb(r->data, r->len, 0, &jerr);
	if (*out || status >= 300)
		return 0; /* an error page need not be JSON */
	set_err(c, "ztd sent a malformed reply (line %d, column %d: %s)", jerr.line, jerr.column,
		jerr.text);
	return ZT_EPARSE;
}

int zt_api_request(struct zt_api_client *c, const char *method, const char *path, json_t *body,
		   long *status, json_t **reply)
{
	struct reply_buf r = {0};
	struct curl_slist *hdrs;
	char url[64 + 2048];
	char *text = NULL;
	json_t *j = NULL;
	long code = 0;
	CURLcode rc;
	int err;

	if (status)
		*status = 0;
	if (reply)
		*reply = NULL;
	c->err[0] = '\0';
	if (!c->curl || path[0] != '/' ||
	    snprintf(url, sizeof(url), "http://%s:%u%s", ZT_API_HOST, c->port, path) >=
		    (int)sizeof(url)) {
		set_err(c, "invalid API path");
		return ZT_EINVAL;
	}
	if (body) {
		text = json_dumps(body, JSON_COMPACT);
		if (!text) {
			set_err(c, "cannot encode the request as JSON");
			return ZT_ENOMEM;
		}
	}
	hdrs = headers(c, body != NULL);
	rc = hdrs ? perform(c, method, url, text, hdrs, &r) : CURLE_OUT_OF_MEMORY;
	curl_slist_free_all(hdrs);
	free(text);
	if (rc != CURLE_OK) {
		err = transport_error(c, rc, &r);
		free(r.data);
		return err;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	if (status)
		*status = code;
	err = parse_reply(c, code, &r, &j);
	free(r.data);
	if (!err && (code < 200 || code >= 300))
		err = api_error(c, code, j);
	if (reply && !err) {
		*reply = j;
		return 0;
	}
	json_decref(j);
	return err;
}
