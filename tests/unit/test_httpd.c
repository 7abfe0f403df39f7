/*
 * test_httpd.c - src/service/httpd.c over real HTTP: a loop thread drives
 * the daemon on an ephemeral loopback port while libcurl asks. Proves the
 * token check, routing with {params}, 404/405/413/400, the token file, and
 * the CLI's client (src/cli/api.c) against this server.
 */
#include "check_main.h"
#include "cli/api.h"
#include "osdep/loop.h"
#include "service/httpd.h"
#include "base/zt.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct zt_loop *loop;
static struct zt_httpd *httpd;
static pthread_t loop_thread;

/* GET /peer/{address}?verbose=1 -> {"address": ..., "verbose": ...} */
static int get_peer(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	const char *q = zt_http_req_query(req, "verbose");
	json_t *j = json_object();

	json_object_set_new(j, "address", json_string(zt_http_req_param(req, "address")));
	json_object_set_new(j, "verbose", q ? json_string(q) : json_null());
	zt_http_resp_json(resp, 200, j);
	return 0;
}

/* POST /network/{nwid}/member/{address}: echoes the parsed body back. */
static int post_member(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	json_t *body, *j;
	int err = zt_http_req_json(req, resp, &body);

	if (err)
		return err;
	if (!json_is_boolean(json_object_get(body, "authorized"))) {
		json_decref(body);
		zt_http_resp_error(resp, 400, "authorized", "must be true or false");
		return ZT_EINVAL;
	}
	j = json_pack("{s:s, s:s, s:O, s:I}", "nwid", zt_http_req_param(req, "nwid"), "address",
		      zt_http_req_param(req, "address"), "body", body, "bytes",
		      (json_int_t)req->body_len);
	json_decref(body);
	zt_http_resp_json(resp, 200, j);
	return 0;
}

static int missing(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	return ZT_ENOENT;
}

static int plain(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	return zt_http_resp_text(resp, 200, "text/plain", "hello\n", 6);
}

static void *run_loop(void *arg)
{
	zt_loop_run(loop);
	return NULL;
}

static void setup(void)
{
	ck_assert_int_eq(zt_loop_new(&loop), 0);
	ck_assert_int_eq(zt_httpd_new(&httpd, loop, 0, TOKEN), 0);
	ck_assert_uint_ne(zt_httpd_port(httpd), 0);
	ck_assert_int_eq(zt_httpd_route(httpd, "GET", "/peer/{address}", get_peer, NULL), 0);
	ck_assert_int_eq(zt_httpd_route(httpd, "POST", "/network/{nwid}/member/{address}",
					post_member, NULL), 0);
	ck_assert_int_eq(zt_httpd_route(httpd, "DELETE", "/network/{nwid}/member/{address}",
					missing, NULL), 0);
	ck_assert_int_eq(zt_httpd_route(httpd, "GET", "/network/{nwid}", missing, NULL), 0);
	ck_assert_int_eq(zt_httpd_route(httpd, "GET", "/", plain, NULL), 0);
	ck_assert_int_eq(pthread_create(&loop_thread, NULL, run_loop, NULL), 0);
}

static void teardown(void)
{
	zt_loop_stop(loop);
	pthread_join(loop_thread, NULL);
	zt_httpd_free(httpd);
	zt_loop_free(loop);
}

struct reply {
	char data[4096];
	size_t len;
	char allow[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n, room = sizeof(r->data) - 1 - r->len;

	memcpy(r->data + r->len, p, len < room ? len : room);
	r->len += len < room ? len : room;
	r->data[r->len] = '\0';
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct reply *r = ud;
	size_t len = size * n;

	if (len > 7 && strncasecmp(p, "Allow: ", 7) == 0)
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)(len - 9), p + 7);
	return len;
}

struct upload {
	const char *data;
	size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t want = size * n, left = u->len - u->off;

	if (want > left)
		want = left;
	memcpy(buf, u->data + u->off, want);
	u->off += want;
	return want;
}

/* One request to 127.0.0.1 (or ::1); returns the HTTP status, *out the JSON reply. */
static long request(const char *host, const char *method, const char *path, const char *auth,
		    const char *body, size_t body_len, bool chunked, json_t **out,
		    struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct upload up = {body, body_len, 0};
	char url[256];
	long status = 0;
	CURLcode rc;

	ck_assert_ptr_nonnull(c);
	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://%s:%u%s", host, zt_httpd_port(httpd), path);
	if (auth)
		h = curl_slist_append(h, auth);
	if (chunked)
		h = curl_slist_append(h, "Transfer-Encoding: chunked");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, &up);
		if (!chunked)
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	rc = curl_easy_perform(c);
	ck_assert_msg(rc == CURLE_OK, "curl: %s", curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (out) {
		json_error_t jerr;

		*out = json_loadb(r->data, r->len, 0, &jerr);
		ck_assert_msg(*out != NULL, "reply is not JSON: %s", r->data);
	}
	return status;
}

static const char *error_of(json_t *j)
{
	const char *e = json_string_value(json_object_get(j, "error"));

	ck_assert_ptr_nonnull(e);
	return e;
}

START_TEST(no_token_is_401)
{
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/abc", NULL, NULL, 0, false, &j, &r),
			 401);
	error_of(j);
	json_decref(j);
}
END_TEST

START_TEST(wrong_token_is_401_even_on_unknown_paths)
{
	struct reply r;
	json_t *j;
	char bad[] = "X-ZT-Auth: " TOKEN;

	bad[sizeof(bad) - 2] ^= 1; /* last character differs */
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/abc", bad, NULL, 0, false, &j, &r),
			 401);
	json_decref(j);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/abc", "X-ZT-Auth: " TOKEN "0", NULL,
				 0, false, &j, &r), 401); /* a prefix is not the token */
	json_decref(j);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/nowhere", "Authorization: Bearer nope",
				 NULL, 0, false, &j, &r), 401);
	json_decref(j);
}
END_TEST

START_TEST(token_route_with_param_and_query_is_200)
{
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/89e92ceee5?verbose=1",
				 "X-ZT-Auth: " TOKEN, NULL, 0, false, &j, &r), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "address")), "89e92ceee5");
	ck_assert_str_eq(json_string_value(json_object_get(j, "verbose")), "1");
	json_decref(j);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/abc/", "Authorization: Bearer " TOKEN,
				 NULL, 0, false, &j, &r), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "address")), "abc");
	ck_assert(json_is_null(json_object_get(j, "verbose")));
	json_decref(j);
}
END_TEST

START_TEST(post_json_with_two_params_is_echoed)
{
	static const char body[] = "{\"authorized\": true, \"name\": \"laptop\"}";
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/8056c2e21c000001/member/89e92ceee5",
				 "X-ZT-Auth: " TOKEN, body, strlen(body), false, &j, &r), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "nwid")), "8056c2e21c000001");
	ck_assert_str_eq(json_string_value(json_object_get(j, "address")), "89e92ceee5");
	ck_assert(json_is_true(json_object_get(json_object_get(j, "body"), "authorized")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "bytes")), (long)strlen(body));
	json_decref(j);
}
END_TEST

START_TEST(field_error_names_the_field)
{
	static const char body[] = "{\"authorized\": 3}";
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 body, strlen(body), false, &j, &r), 400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "field")), "authorized");
	error_of(j);
	json_decref(j);
}
END_TEST

START_TEST(unknown_path_is_404)
{
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "GET", "/nowhere", "X-ZT-Auth: " TOKEN, NULL, 0,
				 false, &j, &r), 404);
	error_of(j);
	json_decref(j);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer", "X-ZT-Auth: " TOKEN, NULL, 0, false,
				 &j, &r), 404); /* the {param} segment is not optional */
	json_decref(j);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer//x", "X-ZT-Auth: " TOKEN, NULL, 0,
				 false, &j, &r), 404);
	json_decref(j);
}
END_TEST

START_TEST(handler_error_code_maps_to_status)
{
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "GET", "/network/8056c2e21c000001",
				 "X-ZT-Auth: " TOKEN, NULL, 0, false, &j, &r), 404);
	ck_assert_str_eq(error_of(j), zt_strerror(ZT_ENOENT));
	json_decref(j);
}
END_TEST

START_TEST(known_path_wrong_method_is_405_with_allow)
{
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "PUT", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 NULL, 0, false, &j, &r), 405);
	error_of(j);
	ck_assert_str_eq(r.allow, "POST, DELETE");
	json_decref(j);
}
END_TEST

static char *big_body(size_t len)
{
	char *b = malloc(len);

	ck_assert_ptr_nonnull(b);
	memset(b, ' ', len);
	b[0] = '{';
	b[len - 1] = '}';
	return b;
}

START_TEST(oversize_body_is_413)
{
	size_t len = ZT_HTTP_MAX_BODY + 1;
	char *b = big_body(len);
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 b, len, false, &j, &r), 413);
	error_of(j);
	json_decref(j);
	free(b);
}
END_TEST

START_TEST(oversize_chunked_body_is_413)
{
	size_t len = ZT_HTTP_MAX_BODY + 4096;
	char *b = big_body(len);
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 b, len, true, &j, &r), 413);
	json_decref(j);
	free(b);
}
END_TEST

START_TEST(body_of_exactly_the_limit_is_accepted)
{
	size_t len = ZT_HTTP_MAX_BODY;
	char *b = big_body(len);
	struct reply r;
	json_t *j;

	/* "{ ... }" parses as an empty object: the handler then wants "authorized". */
	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 b, len, false, &j, &r), 400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "field")), "authorized");
	json_decref(j);
	free(b);
}
END_TEST

START_TEST(malformed_json_is_400_with_line_and_column)
{
	static const char body[] = "{\n  \"authorized\": true,\n  oops\n}";
	struct reply r;
	json_t *j;
	const char *e;

	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 body, strlen(body), false, &j, &r), 400);
	e = error_of(j);
	/* jansson reports the column where the bad token ends: "oops" ends at 6. */
	ck_assert_msg(strstr(e, "line 3, column 6") != NULL, "error was: %s", e);
	json_decref(j);
}
END_TEST

START_TEST(json_that_is_not_an_object_is_400)
{
	struct reply r;
	json_t *j;

	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 "[1,2]", 5, false, &j, &r), 400);
	json_decref(j);
	ck_assert_int_eq(request("127.0.0.1", "POST", "/network/1/member/2", "X-ZT-Auth: " TOKEN,
				 "", 0, false, &j, &r), 400);
	json_decref(j);
}
END_TEST

START_TEST(text_response_keeps_its_content_type)
{
	struct reply r;

	ck_assert_int_eq(request("127.0.0.1", "GET", "/", "X-ZT-Auth: " TOKEN, NULL, 0, false,
				 NULL, &r), 200);
	ck_assert_str_eq(r.data, "hello\n");
}
END_TEST

START_TEST(many_requests_in_a_row_all_answer)
{
	struct reply r;
	json_t *j;

	for (int i = 0; i < 50; i++) {
		ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/x", "X-ZT-Auth: " TOKEN, NULL,
					 0, false, &j, &r), 200);
		json_decref(j);
	}
}
END_TEST

static int hold_connection(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(zt_httpd_port(httpd))};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* The local API is wedged by ZT_HTTP_CONN_LIMIT idle connections only while they
 * are held: once one closes, the listener takes the next client (it used to stay
 * deaf until some other event happened to run the server again). */
START_TEST(listener_answers_again_once_a_held_connection_closes)
{
	int fds[ZT_HTTP_CONN_LIMIT];
	struct reply r;
	json_t *j;

	for (int i = 0; i < ZT_HTTP_CONN_LIMIT; i++)
		fds[i] = hold_connection();
	usleep(200000); /* the server has accepted them all: it is at its limit */
	close(fds[0]);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/x", "X-ZT-Auth: " TOKEN, NULL, 0, false, &j, &r), 200);
	json_decref(j);
	for (int i = 1; i < ZT_HTTP_CONN_LIMIT; i++)
		close(fds[i]);
	ck_assert_int_eq(request("127.0.0.1", "GET", "/peer/x", "X-ZT-Auth: " TOKEN, NULL, 0, false, &j, &r), 200);
	json_decref(j);
}
END_TEST

START_TEST(ipv6_loopback_answers_when_available)
{
	CURL *c = curl_easy_init();
	struct reply r;
	json_t *j;
	char url[64];
	CURLcode rc;

	/* Probe with a plain connect first: IPv6 may be off on this machine. */
	snprintf(url, sizeof(url), "http://[::1]:%u/", zt_httpd_port(httpd));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return;
	ck_assert_int_eq(request("[::1]", "GET", "/peer/v6", "X-ZT-Auth: " TOKEN, NULL, 0, false,
				 &j, &r), 200);
	json_decref(j);
}
END_TEST

/* ---- route registration and the token file (no server needed) ---- */

static int noop(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	return 0;
}

START_TEST(bad_routes_are_refused)
{
	struct zt_loop *l;
	struct zt_httpd *h;

	ck_assert_int_eq(zt_loop_new(&l), 0);
	ck_assert_int_eq(zt_httpd_new(&h, l, 0, ""), ZT_EINVAL);
	ck_assert_int_eq(zt_httpd_new(&h, l, 0, TOKEN), 0);
	ck_assert_int_eq(zt_httpd_route(h, "GET", "no-slash", noop, NULL), ZT_EINVAL);
	ck_assert_int_eq(zt_httpd_route(h, "GET", "/a//b", noop, NULL), ZT_EINVAL);
	ck_assert_int_eq(zt_httpd_route(h, "GET", "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", noop,
					NULL), ZT_EINVAL);
	ck_assert_int_eq(zt_httpd_route(h, "GET", "/{a}/{b}", noop, NULL), 0);
	zt_httpd_free(h);
	zt_loop_free(l);
}
END_TEST

static char dir[64];

static void token_setup(void)
{
	strcpy(dir, "/tmp/zt_test_httpd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void token_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(token_is_created_0600_as_64_hex_then_reused)
{
	char a[ZT_HTTP_TOKEN_MAX + 1], b[ZT_HTTP_TOKEN_MAX + 1], path[128];
	struct stat st;
	mode_t old = umask(0);

	ck_assert_int_eq(zt_httpd_token_load_or_create(dir, a, sizeof(a)), 0);
	umask(old);
	ck_assert_uint_eq(strlen(a), ZT_HTTP_TOKEN_HEX);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), ZT_HTTP_TOKEN_HEX);
	snprintf(path, sizeof(path), "%s/authtoken.secret", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(zt_httpd_token_load_or_create(dir, b, sizeof(b)), 0);
	ck_assert_str_eq(a, b);
}
END_TEST

static void write_token_file(const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/authtoken.secret", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(operator_token_is_trimmed_and_garbage_refused)
{
	char t[ZT_HTTP_TOKEN_MAX + 1];

	write_token_file("  my-own-token\r\n");
	ck_assert_int_eq(zt_httpd_token_load_or_create(dir, t, sizeof(t)), 0);
	ck_assert_str_eq(t, "my-own-token");
	write_token_file("two words\n");
	ck_assert_int_eq(zt_httpd_token_load_or_create(dir, t, sizeof(t)), ZT_EINVAL);
	write_token_file("\n");
	ck_assert_int_eq(zt_httpd_token_load_or_create(dir, t, sizeof(t)), ZT_EINVAL);
	ck_assert_int_eq(zt_httpd_token_load_or_create(dir, t, 4), ZT_EINVAL); /* out too small */
}
END_TEST

/* ---- the CLI client (src/cli/api.c) against this server ---- */

static char home[64];

static void write_home_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", home, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void client_setup(void)
{
	char port[16];

	setup();
	strcpy(home, "/tmp/zt_test_api.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	snprintf(port, sizeof(port), "%u\n", zt_httpd_port(httpd));
	write_home_file("ztd.port", port);
	write_home_file("authtoken.secret", TOKEN "\n");
	unsetenv("ZT_AUTH_TOKEN");
	unsetenv("ZT_HOME");
}

static void client_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("ZT_AUTH_TOKEN");
	teardown();
}

START_TEST(client_finds_port_and_token_in_home)
{
	struct zt_api_opts o = {.home = home};
	struct zt_api_client c;
	json_t *reply, *body;
	long status;

	ck_assert_int_eq(zt_api_init(&c, &o), 0);
	ck_assert_uint_eq(c.port, zt_httpd_port(httpd));
	ck_assert_int_eq(zt_api_request(&c, "GET", "/peer/89e92ceee5", NULL, &status, &reply), 0);
	ck_assert_int_eq(status, 200);
	ck_assert_str_eq(json_string_value(json_object_get(reply, "address")), "89e92ceee5");
	json_decref(reply);
	body = json_pack("{s:b}", "authorized", 1);
	ck_assert_int_eq(zt_api_request(&c, "POST", "/network/1/member/2", body, &status, &reply),
			 0);
	ck_assert(json_is_true(json_object_get(json_object_get(reply, "body"), "authorized")));
	json_decref(reply);
	json_decref(body);
	zt_api_free(&c);
}
END_TEST

START_TEST(client_reports_the_servers_error_and_status)
{
	struct zt_api_opts o = {.home = home};
	struct zt_api_client c;
	json_t *reply = (json_t *)1, *empty;
	long status;

	ck_assert_int_eq(zt_api_init(&c, &o), 0);
	ck_assert_int_eq(zt_api_request(&c, "GET", "/network/8056c2e21c000001", NULL, &status,
					&reply), ZT_ENOENT);
	ck_assert_int_eq(status, 404);
	ck_assert_ptr_null(reply);
	ck_assert_str_eq(zt_api_error(&c), "ztd: not found (HTTP 404)");
	empty = json_object();
	ck_assert_int_eq(zt_api_request(&c, "POST", "/network/1/member/2", empty, NULL, NULL),
			 ZT_EINVAL);
	json_decref(empty);
	ck_assert_str_eq(zt_api_error(&c), "ztd: must be true or false (field \"authorized\", HTTP 400)");
	zt_api_free(&c);
}
END_TEST

START_TEST(client_with_wrong_env_token_gets_401)
{
	struct zt_api_opts o = {.home = home};
	struct zt_api_client c;

	setenv("ZT_AUTH_TOKEN", "not-the-token", 1);
	ck_assert_int_eq(zt_api_init(&c, &o), 0);
	ck_assert_int_eq(zt_api_request(&c, "GET", "/peer/x", NULL, NULL, NULL), ZT_EAUTH);
	ck_assert_ptr_nonnull(strstr(zt_api_error(&c), "(HTTP 401)"));
	zt_api_free(&c);
}
END_TEST

START_TEST(client_says_ztd_is_not_running)
{
	struct zt_api_opts o = {.home = home, .port = "1"};
	struct zt_api_client c;

	ck_assert_int_eq(zt_api_init(&c, &o), 0);
	ck_assert_int_eq(zt_api_request(&c, "GET", "/status", NULL, NULL, NULL), ZT_EIO);
	ck_assert_str_eq(zt_api_error(&c), "ztd is not running on 127.0.0.1:1 (connection refused)");
	zt_api_free(&c);
}
END_TEST

START_TEST(client_explains_an_unreadable_token)
{
	struct zt_api_opts o = {.home = "/nonexistent/zt"};
	struct zt_api_client c;
	char want[256];

	ck_assert_int_eq(zt_api_init(&c, &o), ZT_ENOENT);
	ck_assert_str_eq(zt_api_error(&c), "cannot read /nonexistent/zt/authtoken.secret: No such "
			 "file or directory (run as root or pass -H HOME)");
	zt_api_free(&c);
	/* ZT_HOME is the default when -H is not given. */
	setenv("ZT_HOME", home, 1);
	snprintf(want, sizeof(want), "%s/authtoken.secret", home);
	ck_assert_int_eq(chmod(want, 0), 0);
	if (geteuid() != 0) {
		ck_assert_int_eq(zt_api_init(&c, NULL), ZT_EIO);
		ck_assert_ptr_nonnull(strstr(zt_api_error(&c), "Permission denied (run as root"));
	} else {
		ck_assert_int_eq(zt_api_init(&c, NULL), 0); /* root reads it anyway */
	}
	zt_api_free(&c);
	unsetenv("ZT_HOME");
}
END_TEST

START_TEST(client_refuses_a_bad_port)
{
	struct zt_api_opts o = {.home = home, .port = "70000"};
	struct zt_api_client c;

	ck_assert_int_eq(zt_api_init(&c, &o), ZT_EINVAL);
	ck_assert_str_eq(zt_api_error(&c), "invalid port '70000' (1 to 65535)");
	zt_api_free(&c);
	write_home_file("ztd.port", "http\n");
	o.port = NULL;
	ck_assert_int_eq(zt_api_init(&c, &o), ZT_EINVAL);
	ck_assert_ptr_nonnull(strstr(zt_api_error(&c), "does not hold a port number"));
	zt_api_free(&c);
}
END_TEST

static Suite *httpd_suite(void)
{
	Suite *s = suite_create("httpd");
	TCase *api = tcase_create("api");
	TCase *tok = tcase_create("token");
	TCase *cli = tcase_create("client");

	tcase_add_checked_fixture(api, setup, teardown);
	tcase_set_timeout(api, 60);
	tcase_add_test(api, no_token_is_401);
	tcase_add_test(api, wrong_token_is_401_even_on_unknown_paths);
	tcase_add_test(api, token_route_with_param_and_query_is_200);
	tcase_add_test(api, post_json_with_two_params_is_echoed);
	tcase_add_test(api, field_error_names_the_field);
	tcase_add_test(api, unknown_path_is_404);
	tcase_add_test(api, handler_error_code_maps_to_status);
	tcase_add_test(api, known_path_wrong_method_is_405_with_allow);
	tcase_add_test(api, oversize_body_is_413);
	tcase_add_test(api, oversize_chunked_body_is_413);
	tcase_add_test(api, body_of_exactly_the_limit_is_accepted);
	tcase_add_test(api, malformed_json_is_400_with_line_and_column);
	tcase_add_test(api, json_that_is_not_an_object_is_400);
	tcase_add_test(api, text_response_keeps_its_content_type);
	tcase_add_test(api, many_requests_in_a_row_all_answer);
	tcase_add_test(api, listener_answers_again_once_a_held_connection_closes);
	tcase_add_test(api, ipv6_loopback_answers_when_available);
	tcase_add_checked_fixture(tok, token_setup, token_teardown);
	tcase_add_test(tok, bad_routes_are_refused);
	tcase_add_test(tok, token_is_created_0600_as_64_hex_then_reused);
	tcase_add_test(tok, operator_token_is_trimmed_and_garbage_refused);
	tcase_add_checked_fixture(cli, client_setup, client_teardown);
	tcase_add_test(cli, client_finds_port_and_token_in_home);
	tcase_add_test(cli, client_reports_the_servers_error_and_status);
	tcase_add_test(cli, client_with_wrong_env_token_gets_401);
	tcase_add_test(cli, client_says_ztd_is_not_running);
	tcase_add_test(cli, client_explains_an_unreadable_token);
	tcase_add_test(cli, client_refuses_a_bad_port);
	suite_add_tcase(s, api);
	suite_add_tcase(s, tok);
	suite_add_tcase(s, cli);
	return s;
}

ZT_CHECK_MAIN(httpd_suite)
