/*
 * test_ctl_hooks.c - web hooks against a real receiver on 127.0.0.1
 * (tests/e2e/tools/hook_receiver.py in a python3 subprocess): signed
 * delivery, a receiver's decision applied, retries with backoff and the
 * delivery state, pending events surviving a restart, global hooks; and a
 * decision applied straight through zt_ctl_hooks_apply_answer (no worker).
 * The receiver script is found at $ZT_HOOK_RECEIVER or relative to the
 * working directory (the repository root under `make test`).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "test_helpers.h"
#include "controller/controller.h"
#include "controller/ctl_int.h" /* zt_ctl_hooks_apply_answer: a decision without a receiver */
#include "crypto.h"

#define SECRET "hook-secret-0123456789"
#define WAIT_MS 15000

static struct zt_identity ctl_id, m1;
static bool ids_ready;
static char home[64];
static struct zt_ctl *ctl;

struct receiver {
	pid_t pid;
	int port;
	char events[128];
	char port_file[128];
};

static struct receiver rx;

struct seen {
	uint64_t member[64];
	size_t n;
};

static struct seen seen;

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void on_changed(void *ctx, uint64_t nwid, uint64_t member)
{
	struct seen *s = ctx;

	if (s->n < 64)
		s->member[s->n++] = member;
}

static const char *receiver_script(void)
{
	const char *env = getenv("ZT_HOOK_RECEIVER");

	return env ? env : "tests/e2e/tools/hook_receiver.py";
}

/* Start the python receiver; extra args (NULL-terminated) follow the fixed ones. */
static void start_receiver(const char *secret, const char *decision, int status, int fail_first)
{
	char status_s[16], fail_s[16];
	FILE *f = NULL;

	ck_assert_msg(access(receiver_script(), R_OK) == 0, "hook receiver %s not found", receiver_script());
	snprintf(rx.events, sizeof(rx.events), "%s/events.jsonl", home);
	snprintf(rx.port_file, sizeof(rx.port_file), "%s/port", home);
	unlink(rx.events);
	unlink(rx.port_file);
	snprintf(status_s, sizeof(status_s), "%d", status);
	snprintf(fail_s, sizeof(fail_s), "%d", fail_first);
	rx.pid = fork();
	ck_assert_int_ge(rx.pid, 0);
	if (rx.pid == 0) {
		execlp("python3", "python3", receiver_script(), "--secret", secret, "--events", rx.events, "--port-file",
		       rx.port_file, "--status", status_s, "--fail-first", fail_s, "--decision", decision ? decision : "",
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500 && !f; i++) {
		f = fopen(rx.port_file, "r");
		if (!f)
			sleep_ms(20);
	}
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &rx.port), 1);
	fclose(f);
}

static void stop_receiver(void)
{
	if (rx.pid <= 0)
		return;
	kill(rx.pid, SIGTERM);
	waitpid(rx.pid, NULL, 0);
	rx.pid = 0;
	unlink(rx.events);
	unlink(rx.port_file);
}

static void open_ctl(bool hooks, uint32_t base_ms, uint32_t max_ms, uint32_t attempts)
{
	static const struct zt_ctl_callbacks cb = {.changed = on_changed};
	struct zt_ctl_options opt;

	zt_ctl_options_default(&opt);
	opt.hooks_enabled = hooks;
	opt.hook_retry_base_ms = base_ms;
	opt.hook_retry_max_ms = max_ms;
	opt.hook_max_attempts = attempts;
	opt.hook_timeout_ms = 2000;
	ck_assert_int_eq(zt_ctl_open_with(home, &ctl_id, &opt, &ctl), 0);
	zt_ctl_set_callbacks(ctl, &cb, &seen);
}

static void setup(void)
{
	uint64_t seed = 1234;

	if (!ids_ready) {
		ck_assert_int_eq(zt_identity_generate(&ctl_id, test_random, &seed), 0);
		ck_assert_int_eq(zt_identity_generate(&m1, test_random, &seed), 0);
		m1.has_secret = false;
		ids_ready = true;
	}
	snprintf(home, sizeof(home), "/tmp/zt-ctl-hooks-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	memset(&seen, 0, sizeof(seen));
	memset(&rx, 0, sizeof(rx));
}

static void teardown(void)
{
	static const char *const files[] = {"controller.db", "controller.db-wal", "controller.db-shm"};
	char path[128];

	zt_ctl_close(ctl);
	ctl = NULL;
	stop_receiver();
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", home, files[i]);
		unlink(path);
	}
	rmdir(home);
}

static int api(const char *method, const char *path, const char *body, json_t **reply)
{
	int status;
	json_t *r = NULL;

	ck_assert_int_eq(zt_ctl_api(ctl, method, path, body, body ? strlen(body) : 0, now_ms(), &status, &r), 0);
	if (reply)
		*reply = r;
	else
		json_decref(r);
	return status;
}

/* The receiver's records so far, as an array. */
static json_t *events(void)
{
	json_t *arr = json_array();
	char line[65536];
	FILE *f = fopen(rx.events, "r");

	if (!f)
		return arr;
	while (fgets(line, sizeof(line), f)) {
		json_t *rec = json_loads(line, 0, NULL);
		if (rec)
			json_array_append_new(arr, rec);
	}
	fclose(f);
	return arr;
}

static json_t *wait_events(size_t n)
{
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		json_t *e = events();
		if (json_array_size(e) >= n)
			return e;
		json_decref(e);
		sleep_ms(20);
	}
	ck_abort_msg("receiver did not get %zu requests", n);
	return NULL;
}

static json_t *deliveries(const char *net_path)
{
	char path[128];
	json_t *r;

	snprintf(path, sizeof(path), "%s/hook/delivery", net_path);
	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	return r;
}

/* Wait until the newest delivery of the network has the given state. */
static json_t *wait_delivery_state(const char *net_path, const char *state)
{
	for (int waited = 0; waited < WAIT_MS; waited += 20) {
		json_t *d = deliveries(net_path);
		json_t *first = json_array_get(d, json_array_size(d) ? json_array_size(d) - 1 : 0);
		if (first && strcmp(json_string_value(json_object_get(first, "state")), state) == 0) {
			json_incref(first);
			json_decref(d);
			return first;
		}
		json_decref(d);
		sleep_ms(20);
	}
	ck_abort_msg("no delivery reached state %s", state);
	return NULL;
}

static void make_network(const char *extra, char *net_path, size_t n)
{
	char body[512];
	json_t *r;

	snprintf(body, sizeof(body), "{\"hooks\":[{\"url\":\"http://127.0.0.1:%d/hook\",\"secret\":\"%s\"}]%s}", rx.port,
		 SECRET, extra ? extra : "");
	ck_assert_int_eq(api("POST", "/controller/network", body, &r), 201);
	snprintf(net_path, n, "/controller/network/%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
}

/* Recompute X-Zt-Signature over the recorded body. */
static void check_signature(const json_t *rec, const char *secret)
{
	const char *hdr = json_string_value(json_object_get(rec, "signature"));
	const char *body = json_string_value(json_object_get(rec, "body"));
	char t[24], v1[65], hex[65], *msg;
	uint8_t mac[32];
	size_t tl, bl;

	ck_assert_ptr_nonnull(hdr);
	ck_assert_int_eq(sscanf(hdr, "t=%23[0-9],v1=%64[0-9a-f]", t, v1), 2);
	ck_assert(llabs(atoll(t) - (long long)(now_ms() / 1000)) < 60);
	tl = strlen(t);
	bl = strlen(body);
	msg = malloc(tl + 1 + bl);
	memcpy(msg, t, tl);
	msg[tl] = '.';
	memcpy(msg + tl + 1, body, bl);
	zt_hmac_sha256(mac, secret, strlen(secret), msg, tl + 1 + bl);
	free(msg);
	zt_hex_encode(hex, mac, sizeof(mac));
	ck_assert_str_eq(hex, v1);
}

START_TEST(event_is_delivered_with_a_valid_signature)
{
	char net[64], nwid[17];
	json_t *ev, *rec, *body, *d;

	start_receiver(SECRET, NULL, 200, 0);
	open_ctl(true, 1000, 300000, 20);
	make_network(",\"name\":\"signed\"", net, sizeof(net));
	snprintf(nwid, sizeof(nwid), "%.16s", net + strlen("/controller/network/"));
	/* a refused change queues nothing */
	ck_assert_int_eq(api("POST", net, "{\"mtu\":1}", NULL), 400);
	ev = wait_events(1);
	rec = json_array_get(ev, 0);
	ck_assert(json_is_true(json_object_get(rec, "valid")));
	ck_assert_str_eq(json_string_value(json_object_get(rec, "event_type")), "network.created");
	check_signature(rec, SECRET);
	body = json_object_get(rec, "event");
	ck_assert_str_eq(json_string_value(json_object_get(body, "type")), "network.created");
	ck_assert_str_eq(json_string_value(json_object_get(body, "network_id")), nwid);
	ck_assert(json_is_string(json_object_get(body, "id")));
	ck_assert(json_is_integer(json_object_get(body, "time")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(body, "network"), "name")), "signed");
	ck_assert_ptr_null(strstr(json_string_value(json_object_get(rec, "body")), SECRET));
	json_decref(ev);
	d = wait_delivery_state(net, "delivered");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 1);
	json_decref(d);
	d = deliveries(net);
	ck_assert_int_eq(json_array_size(d), 1);
	json_decref(d);
}
END_TEST

START_TEST(authorize_answer_authorizes_the_member)
{
	struct zt_ctl_answer *ans = malloc(sizeof(*ans));
	struct zt_endpoint phys = {0};
	char net[64], path[128];
	uint64_t nwid;
	bool done = false;
	json_t *r, *ev;

	start_receiver(SECRET, "{\"authorize\": true, \"name\": \"approved by hook\"}", 200, 0);
	open_ctl(true, 1000, 300000, 20);
	make_network(NULL, net, sizeof(net));
	nwid = strtoull(net + strlen("/controller/network/"), NULL, 16);
	zt_ctl_process(ctl, now_ms());
	seen.n = 0;
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, now_ms(), ans), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_ACCESS_DENIED);
	snprintf(path, sizeof(path), "%s/member/%010llx", net, (unsigned long long)m1.address);
	for (int waited = 0; waited < WAIT_MS && !done; waited += 20) {
		ck_assert_int_eq(api("GET", path, NULL, &r), 200);
		done = json_is_true(json_object_get(r, "authorized"));
		if (done)
			ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "approved by hook");
		json_decref(r);
		if (!done)
			sleep_ms(20);
	}
	ck_assert(done);
	/* the daemon hears about it on its own thread */
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_ge(seen.n, 1);
	ck_assert_uint_eq(seen.member[seen.n - 1], m1.address);
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, now_ms(), ans), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	/* network.created, member.join_requested, then the decision's member.authorized */
	ev = wait_events(3);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "event_type")), "member.join_requested");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(ev, 1), "event"), "member_id")),
			 path + strlen(path) - 10);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 2), "event_type")), "member.authorized");
	json_decref(ev);
	free(ans);
}
END_TEST

START_TEST(no_decision_leaves_the_member_waiting)
{
	struct zt_ctl_answer *ans = malloc(sizeof(*ans));
	struct zt_endpoint phys = {0};
	char net[64], path[128];
	uint64_t nwid;
	json_t *r, *d;

	start_receiver(SECRET, NULL, 204, 0);
	open_ctl(true, 1000, 300000, 20);
	make_network(NULL, net, sizeof(net));
	nwid = strtoull(net + strlen("/controller/network/"), NULL, 16);
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, now_ms(), ans), 0);
	json_decref(wait_events(2));
	d = wait_delivery_state(net, "delivered");
	json_decref(d);
	sleep_ms(100);
	snprintf(path, sizeof(path), "%s/member/%010llx", net, (unsigned long long)m1.address);
	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	ck_assert(json_is_false(json_object_get(r, "authorized")));
	json_decref(r);
	/* approval later through the API */
	ck_assert_int_eq(api("POST", path, "{\"authorized\":true}", NULL), 200);
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, now_ms(), ans), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	free(ans);
}
END_TEST

START_TEST(failing_receiver_gets_retries_with_backoff)
{
	char net[64];
	json_t *d, *ev;
	double gaps[3];

	start_receiver(SECRET, NULL, 500, 0);
	open_ctl(true, 100, 400, 4);
	make_network(NULL, net, sizeof(net));
	d = wait_delivery_state(net, "pending");
	json_decref(d);
	d = wait_delivery_state(net, "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 4);
	ck_assert_str_eq(json_string_value(json_object_get(d, "last_error")), "HTTP 500");
	ck_assert(json_is_null(json_object_get(d, "next_attempt")));
	json_decref(d);
	ev = wait_events(4);
	ck_assert_int_eq(json_array_size(ev), 4);
	for (int i = 0; i < 3; i++)
		gaps[i] = json_real_value(json_object_get(json_array_get(ev, i + 1), "time")) -
			  json_real_value(json_object_get(json_array_get(ev, i), "time"));
	/* 100 ms, 200 ms, then capped at 400 ms */
	ck_assert_msg(gaps[0] >= 0.09 && gaps[1] >= 0.19 && gaps[2] >= 0.39 && gaps[2] > gaps[0],
		      "gaps %.3f %.3f %.3f", gaps[0], gaps[1], gaps[2]);
	json_decref(ev);
}
END_TEST

START_TEST(receiver_recovering_gets_the_event)
{
	char net[64];
	json_t *d;

	start_receiver(SECRET, NULL, 200, 2);
	open_ctl(true, 50, 200, 10);
	make_network(NULL, net, sizeof(net));
	d = wait_delivery_state(net, "delivered");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "attempts")), 3);
	json_decref(d);
}
END_TEST

START_TEST(unreachable_and_refusing_receivers_show_their_error)
{
	char net[64];
	json_t *d, *r;

	start_receiver("a-different-secret-0000", NULL, 200, 0);
	open_ctl(true, 50, 100, 2);
	/* signed with the wrong secret: the receiver refuses */
	make_network(NULL, net, sizeof(net));
	d = wait_delivery_state(net, "failed");
	ck_assert_str_eq(json_string_value(json_object_get(d, "last_error")), "HTTP 401");
	json_decref(d);
	r = wait_events(1);
	ck_assert(json_is_false(json_object_get(json_array_get(r, 0), "valid")));
	json_decref(r);
	/* nobody listening */
	ck_assert_int_eq(api("POST", "/controller/network",
			     "{\"hooks\":[{\"url\":\"http://127.0.0.1:1/\",\"secret\":\"0123456789abcdef\"}]}", &r), 201);
	snprintf(net, sizeof(net), "/controller/network/%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	d = wait_delivery_state(net, "failed");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(d, "last_error")), "onnect"));
	json_decref(d);
}
END_TEST

START_TEST(pending_events_survive_a_restart)
{
	char net[64];
	json_t *d, *ev;

	start_receiver(SECRET, NULL, 200, 0);
	open_ctl(false, 1000, 300000, 20);
	make_network(",\"name\":\"before restart\"", net, sizeof(net));
	ck_assert_int_eq(api("POST", net, "{\"name\":\"renamed\"}", NULL), 200);
	d = deliveries(net);
	ck_assert_int_eq(json_array_size(d), 2);
	json_decref(d);
	zt_ctl_close(ctl);
	ctl = NULL;
	sleep_ms(100);
	ev = events();
	ck_assert_int_eq(json_array_size(ev), 0);
	json_decref(ev);
	open_ctl(true, 1000, 300000, 20);
	ev = wait_events(2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "event_type")), "network.created");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 1), "event_type")), "network.updated");
	json_decref(ev);
	d = wait_delivery_state(net, "delivered");
	json_decref(d);
}
END_TEST

START_TEST(global_hooks_serve_networks_without_their_own)
{
	char body[256];
	json_t *ev;

	start_receiver(SECRET, NULL, 200, 0);
	open_ctl(true, 1000, 300000, 20);
	snprintf(body, sizeof(body), "{\"hooks\":[{\"url\":\"http://127.0.0.1:%d/global\",\"secret\":\"%s\"}]}", rx.port,
		 SECRET);
	ck_assert_int_eq(api("POST", "/controller", body, NULL), 200);
	ck_assert_int_eq(api("POST", "/controller/network", "{\"name\":\"no hooks\"}", NULL), 201);
	ev = wait_events(1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev, 0), "path")), "/global");
	ck_assert(json_is_true(json_object_get(json_array_get(ev, 0), "valid")));
	json_decref(ev);
}
END_TEST

/* A joining member of a private network with a hook (the worker is off: deliveries stay pending). */
static uint64_t joined_member(char *net, size_t net_len, char *path, size_t path_len)
{
	struct zt_ctl_answer *ans = malloc(sizeof(*ans));
	struct zt_endpoint phys = {0};
	uint64_t nwid;

	open_ctl(false, 1000, 300000, 20);
	make_network(NULL, net, net_len);
	nwid = strtoull(net + strlen("/controller/network/"), NULL, 16);
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, now_ms(), ans), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_ACCESS_DENIED);
	free(ans);
	snprintf(path, path_len, "%s/member/%010llx", net, (unsigned long long)m1.address);
	zt_ctl_process(ctl, now_ms());
	seen.n = 0;
	return nwid;
}

static void answer_join(uint64_t nwid, const char *answer, char *err, size_t err_len)
{
	struct zt_ctl_delivery d = {.network_id = nwid, .member = m1.address, .url = "http://hook.test/zt"};

	snprintf(d.type, sizeof(d.type), "member.join_requested");
	err[0] = '\0';
	zt_ctl_hooks_apply_answer(ctl, &d, answer, strlen(answer), err, err_len);
}

START_TEST(authorize_decision_goes_through_the_member_update)
{
	struct zt_ctl_answer *ans = malloc(sizeof(*ans));
	struct zt_endpoint phys = {0};
	char net[64], path[128], err[ZT_CTL_ERROR_MAX];
	uint64_t nwid = joined_member(net, sizeof(net), path, sizeof(path));
	json_t *r, *last;

	answer_join(nwid, "{\"authorize\": true, \"name\": \"by hook\"}", err, sizeof(err));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	ck_assert(json_is_true(json_object_get(r, "authorized")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "by hook");
	json_decref(r);
	/* the member operation's consequences: the event queued and the change noted */
	r = deliveries(net);
	last = json_array_get(r, 0); /* newest first */
	ck_assert_str_eq(json_string_value(json_object_get(last, "type")), "member.authorized");
	json_decref(r);
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_eq(seen.n, 1);
	ck_assert_uint_eq(seen.member[0], m1.address);
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, now_ms(), ans), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	free(ans);
}
END_TEST

START_TEST(bad_or_late_decisions_change_nothing)
{
	char net[64], path[128], err[ZT_CTL_ERROR_MAX];
	uint64_t nwid = joined_member(net, sizeof(net), path, sizeof(path));
	json_t *r;

	answer_join(nwid, "{\"authorize\": true, \"admin\": true}", err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "decision refused"));
	answer_join(nwid, "{\"authorize\": true, \"tags\": [{\"id\": 9, \"value\": 1}]}", err, sizeof(err));
	ck_assert_ptr_nonnull(strstr(err, "decision refused"));
	answer_join(nwid, "{\"name\": \"no decision\"}", err, sizeof(err));
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	ck_assert(json_is_false(json_object_get(r, "authorized")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "");
	json_decref(r);
	ck_assert_int_eq(api("DELETE", path, NULL, NULL), 200);
	answer_join(nwid, "{\"authorize\": true}", err, sizeof(err));
	ck_assert_str_eq(err, "decision ignored: the member no longer exists");
	ck_assert_int_eq(api("GET", path, NULL, NULL), 404);
}
END_TEST

static Suite *ctl_hooks_suite(void)
{
	Suite *s = suite_create("ctl_hooks");
	TCase *tc = tcase_create("hooks");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, event_is_delivered_with_a_valid_signature);
	tcase_add_test(tc, authorize_answer_authorizes_the_member);
	tcase_add_test(tc, no_decision_leaves_the_member_waiting);
	tcase_add_test(tc, failing_receiver_gets_retries_with_backoff);
	tcase_add_test(tc, receiver_recovering_gets_the_event);
	tcase_add_test(tc, unreachable_and_refusing_receivers_show_their_error);
	tcase_add_test(tc, pending_events_survive_a_restart);
	tcase_add_test(tc, global_hooks_serve_networks_without_their_own);
	tcase_add_test(tc, authorize_decision_goes_through_the_member_update);
	tcase_add_test(tc, bad_or_late_decisions_change_nothing);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(ctl_hooks_suite)
