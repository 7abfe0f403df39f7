/*
 * httpd.c - the local HTTP JSON API. Owns the libmicrohttpd daemons (one
 * per loopback address, no internal thread: their epoll fds sit in our loop,
 * MHD's timeout is a loop timer), token checks, route matching, body limits
 * and JSON responses. What each route does belongs to its handler.
 */
#include "service/httpd.h"
#include "osdep/os.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define TOKEN_FILE_MAX 4096 /* a token file larger than this is not a token file */

struct route {
	char *method;
	char *pattern; /* kept for logs */
	char *segs[ZT_HTTP_MAX_SEGMENTS]; /* literal text, or the name of a {name} */
	bool is_param[ZT_HTTP_MAX_SEGMENTS];
	unsigned n_segs;
	zt_http_handler_fn fn;
	void *ctx;
};

struct listener {
	struct zt_httpd *h;
	struct MHD_Daemon *d;
	int epfd;
};

struct zt_httpd {
	struct zt_loop *loop;
	struct listener lis[2];
	unsigned n_lis;
	uint16_t port;
	char token[ZT_HTTP_TOKEN_MAX + 1];
	size_t token_len;
	struct route *routes;
	unsigned n_routes;
	zt_loop_timer_id timer;
	uint64_t timer_deadline;
};

/* Per-request state, from the first callback until MHD says it completed. */
struct request {
	struct zt_http_req req;
	const struct route *route;
	char *body;
	size_t body_len;
	size_t body_cap;
	bool too_big;
	bool responded;
	char segbuf[ZT_HTTP_MAX_PATH + 1];
};

/* ---- small helpers ---- */

static void wipe(void *p, size_t n)
{
	explicit_bzero(p, n);
}

/* Constant time in the token's content; its length is not a secret. */
static bool token_equal(const char *want, size_t want_len, const char *given)
{
	size_t given_len = strnlen(given, ZT_HTTP_TOKEN_MAX + 1);
	unsigned char diff = given_len != want_len;

	for (size_t i = 0; i < want_len; i++)
		diff |= (unsigned char)want[i] ^ (unsigned char)given[i < given_len ? i : 0];
	return diff == 0;
}

/* ---- responses ---- */

static void resp_clear(struct zt_http_resp *resp)
{
	json_decref(resp->json);
	free(resp->text);
	memset(resp, 0, sizeof(*resp));
}

void zt_http_resp_json(struct zt_http_resp *resp, int status, json_t *json)
{
	resp_clear(resp);
	resp->status = status;
	resp->json = json;
}

int zt_http_resp_text(struct zt_http_resp *resp, int status, const char *content_type,
		      const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return ZT_ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	resp_clear(resp);
	resp->status = status;
	resp->text = copy;
	resp->text_len = len;
	resp->content_type = content_type;
	return 0;
}

static json_t *error_json(const char *field, const char *msg)
{
	json_t *j = json_object();

	if (!j)
		return NULL;
	json_object_set_new(j, "error", json_string(msg));
	if (field)
		json_object_set_new(j, "field", json_string(field));
	return j;
}

void zt_http_resp_error(struct zt_http_resp *resp, int status, const char *field,
			const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zt_http_resp_json(resp, status, error_json(field, msg));
}

/* The bytes to send for resp (malloc'd, NULL on allocation failure). */
static char *render_body(struct zt_http_resp *resp, size_t *len, const char **type)
{
	char *body, *nl;

	*type = "application/json";
	if (resp->text) {
		body = resp->text;
		*len = resp->text_len;
		resp->text = NULL;
		if (resp->content_type)
			*type = resp->content_type;
		return body;
	}
	body = resp->json ? json_dumps(resp->json, JSON_INDENT(2)) : strdup("{}");
	if (!body)
		return NULL;
	*len = strlen(body);
	nl = realloc(body, *len + 2); /* a final newline, for terminals */
	if (!nl)
		return body;
	nl[(*len)++] = '\n';
	nl[*len] = '\0';
	return nl;
}

/* Turn resp into an MHD response and queue it; resp is consumed. */
static enum MHD_Result send_resp(struct MHD_Connection *conn, struct request *rq,
				 struct zt_http_resp *resp, const char *allow)
{
	struct MHD_Response *r;
	const char *type;
	enum MHD_Result ret;
	size_t len = 0;
	char *body = render_body(resp, &len, &type);
	int status = resp->status ? resp->status : MHD_HTTP_OK;

	resp_clear(resp);
	if (!body) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		type = "application/json";
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	}
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	rq->responded = true;
	zt_log(ZT_LOG_DEBUG, "http: %s %s -> %d", rq->req.method, rq->req.path, status);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, struct request *rq, int status,
				  const char *allow, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum MHD_Result send_error(struct MHD_Connection *conn, struct request *rq, int status,
				  const char *allow, const char *fmt, ...)
{
	struct zt_http_resp resp = {0};
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	zt_http_resp_json(&resp, status, error_json(NULL, msg));
	return send_resp(conn, rq, &resp, allow);
}

/* ---- request accessors ---- */

const char *zt_http_req_param(const struct zt_http_req *req, const char *name)
{
	for (unsigned i = 0; i < req->n_params; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

const char *zt_http_req_query(const struct zt_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *zt_http_req_header(const struct zt_http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int zt_http_req_json(const struct zt_http_req *req, struct zt_http_resp *resp, json_t **out)
{
	json_error_t jerr;
	json_t *j;

	*out = NULL;
	if (req->body_len == 0) {
		zt_http_resp_error(resp, MHD_HTTP_BAD_REQUEST, NULL,
				   "request body must be a JSON object");
		return ZT_EINVAL;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		zt_http_resp_error(resp, MHD_HTTP_BAD_REQUEST, NULL,
				   "malformed JSON at line %d, column %d: %s", jerr.line,
				   jerr.column, jerr.text);
		return ZT_EPARSE;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		zt_http_resp_error(resp, MHD_HTTP_BAD_REQUEST, NULL,
				   "request body must be a JSON object");
		return ZT_EINVAL;
	}
	*out = j;
	return 0;
}

/* ---- routes ---- */

static void route_free(struct route *r)
{
	free(r->method);
	free(r->pattern);
	for (unsigned i = 0; i < r->n_segs; i++)
		free(r->segs[i]);
}

static bool param_syntax(const char *seg)
{
	size_t n = strlen(seg);

	return n > 2 && seg[0] == '{' && seg[n - 1] == '}';
}

/* Split a path in place into segments; false if too many or empty ones. */
static bool split_path(char *path, char **segs, unsigned *n)
{
	char *p = path;

	*n = 0;
	if (*p != '/')
		return false;
	p++;
	if (*p == '\0')
		return true;
	for (;;) {
		char *slash = strchr(p, '/');

		if (*n == ZT_HTTP_MAX_SEGMENTS)
			return false;
		segs[(*n)++] = p;
		if (!slash)
			return true;
		*slash = '\0';
		p = slash + 1;
		if (*p == '\0')
			return true; /* one trailing slash is forgiven */
		if (*p == '/')
			return false;
	}
}

int zt_httpd_route(struct zt_httpd *h, const char *method, const char *pattern,
		   zt_http_handler_fn fn, void *ctx)
{
	char buf[ZT_HTTP_MAX_PATH + 1];
	char *segs[ZT_HTTP_MAX_SEGMENTS];
	struct route r = {0}, *grown;
	unsigned n, params = 0;

	if (!method || !pattern || !fn || strlen(pattern) > ZT_HTTP_MAX_PATH)
		return ZT_EINVAL;
	strcpy(buf, pattern);
	if (!split_path(buf, segs, &n))
		return ZT_EINVAL;
	r.method = strdup(method);
	r.pattern = strdup(pattern);
	r.fn = fn;
	r.ctx = ctx;
	for (unsigned i = 0; i < n; i++) {
		bool param = param_syntax(segs[i]);

		params += param;
		r.is_param[r.n_segs] = param;
		r.segs[r.n_segs] = param ? strndup(segs[i] + 1, strlen(segs[i]) - 2) : strdup(segs[i]);
		if (r.segs[r.n_segs])
			r.n_segs++;
	}
	grown = realloc(h->routes, (h->n_routes + 1) * sizeof(*grown));
	if (!r.method || !r.pattern || r.n_segs != n || !grown || params > ZT_HTTP_MAX_PARAMS) {
		if (grown)
			h->routes = grown;
		route_free(&r);
		return params > ZT_HTTP_MAX_PARAMS ? ZT_EINVAL : ZT_ENOMEM;
	}
	h->routes = grown;
	h->routes[h->n_routes++] = r;
	return 0;
}

static bool route_matches(const struct route *r, char **segs, unsigned n)
{
	if (r->n_segs != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (!r->is_param[i] && strcmp(r->segs[i], segs[i]) != 0)
			return false;
	return true;
}

static void bind_params(struct request *rq, const struct route *r, char **segs)
{
	rq->req.n_params = 0;
	for (unsigned i = 0; i < r->n_segs; i++) {
		struct zt_http_param *p;

		if (!r->is_param[i])
			continue;
		p = &rq->req.params[rq->req.n_params++];
		p->name = r->segs[i];
		p->value = segs[i];
	}
}

/* Finds the route; 404 or 405 (with Allow) queued when there is none. */
static enum MHD_Result route_request(struct zt_httpd *h, struct MHD_Connection *conn,
				     struct request *rq)
{
	char *segs[ZT_HTTP_MAX_SEGMENTS];
	char allow[128] = "";
	unsigned n;

	if (strlen(rq->req.path) > ZT_HTTP_MAX_PATH)
		return send_error(conn, rq, MHD_HTTP_URI_TOO_LONG, NULL, "path too long");
	strcpy(rq->segbuf, rq->req.path);
	if (!split_path(rq->segbuf, segs, &n))
		return send_error(conn, rq, MHD_HTTP_NOT_FOUND, NULL, "no such path");
	for (unsigned i = 0; i < h->n_routes; i++) {
		const struct route *r = &h->routes[i];
		size_t used = strlen(allow);

		if (!route_matches(r, segs, n))
			continue;
		if (strcmp(r->method, rq->req.method) == 0) {
			rq->route = r;
			bind_params(rq, r, segs);
			return MHD_YES;
		}
		if (!strstr(allow, r->method))
			snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "",
				 r->method);
	}
	if (allow[0])
		return send_error(conn, rq, MHD_HTTP_METHOD_NOT_ALLOWED, allow,
				  "method %s not allowed on %s", rq->req.method, rq->req.path);
	return send_error(conn, rq, MHD_HTTP_NOT_FOUND, NULL, "no such path: %s", rq->req.path);
}

/* ---- the MHD access handler ---- */

static bool authorized(const struct zt_httpd *h, struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-ZT-Auth");

	if (!v) {
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_AUTHORIZATION);
		if (!v || strncasecmp(v, "Bearer ", 7) != 0)
			return false;
		v += 7;
		while (*v == ' ')
			v++;
	}
	return token_equal(h->token, h->token_len, v);
}

static bool content_length_over(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long v;

	if (!cl)
		return false;
	errno = 0;
	v = strtoull(cl, &end, 10);
	return errno == ERANGE || v > ZT_HTTP_MAX_BODY;
}

/* First call for a request: authenticate, route, refuse an announced oversize body. */
static enum MHD_Result begin(struct zt_httpd *h, struct MHD_Connection *conn, struct request *rq)
{
	enum MHD_Result ret;

	if (!authorized(h, conn))
		return send_error(conn, rq, MHD_HTTP_UNAUTHORIZED, NULL,
				  "missing or wrong auth token (X-ZT-Auth header)");
	ret = route_request(h, conn, rq);
	if (ret != MHD_YES || rq->responded)
		return ret;
	if (content_length_over(conn))
		return send_error(conn, rq, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
				  "request body over %d bytes", ZT_HTTP_MAX_BODY);
	return MHD_YES;
}

static void take_body(struct request *rq, const char *data, size_t len)
{
	size_t cap;
	char *grown;

	if (rq->too_big)
		return;
	if (len > ZT_HTTP_MAX_BODY - rq->body_len) {
		rq->too_big = true;
		free(rq->body);
		rq->body = NULL;
		rq->body_len = rq->body_cap = 0;
		return;
	}
	if (rq->body_len + len + 1 > rq->body_cap) {
		cap = rq->body_cap ? rq->body_cap : 4096;
		while (cap < rq->body_len + len + 1)
			cap *= 2;
		grown = realloc(rq->body, cap);
		if (!grown) {
			rq->too_big = true; /* answered as 413: we cannot hold it */
			return;
		}
		rq->body = grown;
		rq->body_cap = cap;
	}
	memcpy(rq->body + rq->body_len, data, len);
	rq->body_len += len;
	rq->body[rq->body_len] = '\0';
}

static enum MHD_Result finish(struct MHD_Connection *conn, struct request *rq)
{
	struct zt_http_resp resp = {0};
	int err;

	if (rq->too_big)
		return send_error(conn, rq, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
				  "request body over %d bytes", ZT_HTTP_MAX_BODY);
	rq->req.body = rq->body ? rq->body : "";
	rq->req.body_len = rq->body_len;
	err = rq->route->fn(rq->route->ctx, &rq->req, &resp);
	if (err < 0 && resp.status < 400) {
		int status = zt_err_http_status(err);

		zt_http_resp_error(&resp, status, NULL, "%s", zt_strerror(err));
	}
	return send_resp(conn, rq, &resp, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct zt_httpd *h = cls;
	struct request *rq = *con_cls;

	if (!rq) {
		rq = calloc(1, sizeof(*rq));
		if (!rq)
			return MHD_NO;
		*con_cls = rq;
		rq->req.method = method;
		rq->req.path = url;
		rq->req.conn = conn;
		return begin(h, conn, rq);
	}
	if (rq->responded)
		return MHD_YES;
	if (*upload_data_size > 0) {
		take_body(rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return finish(conn, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	if (!rq)
		return;
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	zt_log(ZT_LOG_INFO, "http: %s", line);
}

/* ---- loop integration ---- */

static void run_all(struct zt_httpd *h);

static void on_timer(void *ctx, uint64_t now_ms)
{
	struct zt_httpd *h = ctx;

	h->timer = 0;
	run_all(h);
}

/* Re-arm the loop timer at the earliest deadline MHD asks for. */
static void reschedule(struct zt_httpd *h)
{
	uint64_t now = zt_os_now_ms(), deadline = UINT64_MAX;

	for (unsigned i = 0; i < h->n_lis; i++) {
		MHD_UNSIGNED_LONG_LONG ms;

		if (MHD_get_timeout(h->lis[i].d, &ms) != MHD_YES)
			continue;
		/* Never sleep past the idle timeout; keeps now + ms from wrapping. */
		if (ms > ZT_HTTP_CONN_TIMEOUT_S * 1000ULL)
			ms = ZT_HTTP_CONN_TIMEOUT_S * 1000ULL;
		if (now + ms < deadline)
			deadline = now + ms;
	}
	if (h->timer && deadline == h->timer_deadline)
		return;
	if (h->timer)
		zt_loop_timer_cancel(h->loop, h->timer);
	h->timer = 0;
	if (deadline == UINT64_MAX)
		return;
	if (zt_loop_timer_add(h->loop, deadline, on_timer, h, &h->timer) == 0)
		h->timer_deadline = deadline;
}

static unsigned connections(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info ? info->num_connections : 0;
}

/* At its connection limit MHD takes its listening socket out of its epoll set
 * and puts it back only in the MHD_run after a connection closed; nothing wakes
 * us for that run, so the API would stay deaf. Run again while closes happen. */
static void run_daemon(struct MHD_Daemon *d)
{
	for (int round = 0; round < 4; round++) {
		unsigned before = connections(d);

		MHD_run(d);
		if (connections(d) >= before)
			break;
	}
}

static void run_all(struct zt_httpd *h)
{
	for (unsigned i = 0; i < h->n_lis; i++)
		run_daemon(h->lis[i].d);
	reschedule(h);
}

static void on_epoll_ready(void *ctx, int fd, unsigned events)
{
	struct listener *l = ctx;

	run_daemon(l->d);
	reschedule(l->h);
}

static struct MHD_Daemon *start_daemon(struct zt_httpd *h, const struct sockaddr *sa,
				       unsigned flags, uint16_t port)
{
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | flags, port, NULL, NULL,
				on_request, h,
				/* first, or MHD prints its own warnings to stderr */
				MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
				MHD_OPTION_SOCK_ADDR, sa,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)ZT_HTTP_CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ZT_HTTP_CONN_TIMEOUT_S,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_END);
}

static int add_listener(struct zt_httpd *h, struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	struct listener *l = &h->lis[h->n_lis];
	int err;

	if (!info) {
		MHD_stop_daemon(d);
		return ZT_EIO;
	}
	l->h = h;
	l->d = d;
	l->epfd = info->epoll_fd;
	err = zt_loop_add_fd(h->loop, l->epfd, ZT_LOOP_IN, on_epoll_ready, l);
	if (err) {
		MHD_stop_daemon(d);
		return err;
	}
	h->n_lis++;
	return 0;
}

static int listen_v4(struct zt_httpd *h, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	const union MHD_DaemonInfo *info;
	struct MHD_Daemon *d;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = start_daemon(h, (const struct sockaddr *)&sin, 0, port);
	if (!d) {
		zt_log(ZT_LOG_ERROR, "http: cannot listen on 127.0.0.1:%u", port);
		return ZT_EIO;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	return add_listener(h, d);
}

static void listen_v6(struct zt_httpd *h)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(h->port)};
	struct MHD_Daemon *d;

	sin6.sin6_addr = in6addr_loopback;
	d = start_daemon(h, (const struct sockaddr *)&sin6, MHD_USE_IPv6, h->port);
	if (!d) {
		zt_log(ZT_LOG_INFO, "http: no API on [::1]:%u (IPv6 unavailable?)", h->port);
		return;
	}
	if (add_listener(h, d) < 0)
		zt_log(ZT_LOG_WARN, "http: cannot poll the [::1]:%u listener", h->port);
}

int zt_httpd_new(struct zt_httpd **out, struct zt_loop *loop, uint16_t port, const char *token)
{
	struct zt_httpd *h;
	size_t tlen;
	int err;

	*out = NULL;
	tlen = token ? strnlen(token, ZT_HTTP_TOKEN_MAX + 1) : 0;
	if (tlen == 0 || tlen > ZT_HTTP_TOKEN_MAX)
		return ZT_EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ZT_ENOMEM;
	h->loop = loop;
	memcpy(h->token, token, tlen);
	h->token_len = tlen;
	err = listen_v4(h, port);
	if (err) {
		zt_httpd_free(h);
		return err;
	}
	listen_v6(h);
	reschedule(h);
	zt_log(ZT_LOG_INFO, "http: API listening on 127.0.0.1:%u%s", h->port,
	       h->n_lis > 1 ? " and [::1]" : "");
	*out = h;
	return 0;
}

void zt_httpd_free(struct zt_httpd *h)
{
	if (!h)
		return;
	if (h->timer)
		zt_loop_timer_cancel(h->loop, h->timer);
	for (unsigned i = 0; i < h->n_lis; i++) {
		zt_loop_del_fd(h->loop, h->lis[i].epfd);
		MHD_stop_daemon(h->lis[i].d);
	}
	for (unsigned i = 0; i < h->n_routes; i++)
		route_free(&h->routes[i]);
	free(h->routes);
	wipe(h->token, sizeof(h->token));
	free(h);
}

uint16_t zt_httpd_port(const struct zt_httpd *h)
{
	return h->port;
}

/* ---- the token file ---- */

static bool token_char_ok(char c)
{
	return c > 0x20 && c < 0x7f;
}

static int token_parse(const char *buf, size_t len, char *out, size_t out_len)
{
	size_t start = 0, end = len;

	while (start < end && (buf[start] == ' ' || buf[start] == '\t' || buf[start] == '\r' ||
			       buf[start] == '\n'))
		start++;
	while (end > start && (buf[end - 1] == ' ' || buf[end - 1] == '\t' ||
			       buf[end - 1] == '\r' || buf[end - 1] == '\n'))
		end--;
	if (end == start || end - start > ZT_HTTP_TOKEN_MAX || end - start >= out_len)
		return ZT_EINVAL;
	for (size_t i = start; i < end; i++)
		if (!token_char_ok(buf[i]))
			return ZT_EINVAL;
	memcpy(out, buf + start, end - start);
	out[end - start] = '\0';
	return 0;
}

static int token_create(const char *path, char *out, size_t out_len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[ZT_HTTP_TOKEN_BYTES];
	char text[ZT_HTTP_TOKEN_HEX + 2];
	int err;

	if (out_len < ZT_HTTP_TOKEN_HEX + 1)
		return ZT_EINVAL;
	zt_os_random(NULL, raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++) {
		text[2 * i] = hex[raw[i] >> 4];
		text[2 * i + 1] = hex[raw[i] & 0xf];
	}
	text[ZT_HTTP_TOKEN_HEX] = '\n';
	text[ZT_HTTP_TOKEN_HEX + 1] = '\0';
	err = zt_os_write_file_atomic(path, text, ZT_HTTP_TOKEN_HEX + 1, 0600);
	if (!err) {
		memcpy(out, text, ZT_HTTP_TOKEN_HEX);
		out[ZT_HTTP_TOKEN_HEX] = '\0';
		zt_log(ZT_LOG_INFO, "http: created a new API token in %s", path);
	}
	wipe(raw, sizeof(raw));
	wipe(text, sizeof(text));
	return err;
}

int zt_httpd_token_load_or_create(const char *home, char *out, size_t out_len)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	size_t len;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", home, ZT_HTTP_TOKEN_FILE) >= (int)sizeof(path))
		return ZT_ETOOBIG;
	err = zt_os_read_file(path, TOKEN_FILE_MAX, &buf, &len);
	if (err == ZT_ENOENT)
		return token_create(path, out, out_len);
	if (err) {
		zt_log(ZT_LOG_ERROR, "http: cannot read %s: %s", path, zt_strerror(err));
		return err;
	}
	err = token_parse(buf, len, out, out_len);
	wipe(buf, len);
	free(buf);
	if (err) {
		zt_log(ZT_LOG_ERROR, "http: %s holds no usable token (1 to %d printable characters)",
		       path, ZT_HTTP_TOKEN_MAX);
		return err;
	}
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		zt_log(ZT_LOG_WARN, "http: %s is readable by others (mode %03o); chmod 600 it",
		       path, (unsigned)(st.st_mode & 0777));
	return 0;
}
