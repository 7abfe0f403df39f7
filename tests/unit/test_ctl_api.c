/*
 * test_ctl_api.c - the controller's REST API as a function: every endpoint,
 * malformed bodies, wrong types, out-of-range values, unknown fields,
 * unknown networks and members, partial updates, and that a refused
 * request changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "test_helpers.h"
#include "controller/controller.h"

static struct zt_identity ctl_id;
static bool ctl_ready;
static char home[64];
static struct zt_ctl *ctl;

static void setup(void)
{
	struct zt_ctl_options opt;
	uint64_t seed = 7;

	if (!ctl_ready) {
		ck_assert_int_eq(zt_identity_generate(&ctl_id, test_random, &seed), 0);
		ctl_ready = true;
	}
	snprintf(home, sizeof(home), "/tmp/zt-ctl-api-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	zt_ctl_options_default(&opt);
	opt.hooks_enabled = false;
	ck_assert_int_eq(zt_ctl_open_with(home, &ctl_id, &opt, &ctl), 0);
}

static void teardown(void)
{
	static const char *const files[] = {"controller.db", "controller.db-wal", "controller.db-shm"};
	char path[128];

	zt_ctl_close(ctl);
	ctl = NULL;
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", home, files[i]);
		unlink(path);
	}
	rmdir(home);
}

/* One request; returns the reply (owned) and the status. */
static json_t *call(const char *method, const char *path, const char *body, int *status)
{
	json_t *reply = NULL;
	int rc = zt_ctl_api(ctl, method, path, body, body ? strlen(body) : 0, now_ms(), status, &reply);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(reply);
	return reply;
}

static void expect(const char *method, const char *path, const char *body, int want)
{
	int status;
	json_t *r = call(method, path, body, &status);
	char *dump = json_dumps(r, 0);

	ck_assert_msg(status == want, "%s %s %s: got %d %s", method, path, body ? body : "", status, dump);
	free(dump);
	json_decref(r);
}

static void expect_field(const char *method, const char *path, const char *body, int want, const char *field)
{
	int status;
	json_t *r = call(method, path, body, &status);
	char *dump = json_dumps(r, 0);

	ck_assert_msg(status == want, "%s: got %d %s", body, status, dump);
	ck_assert_msg(json_is_string(json_object_get(r, "error")), "%s: no error in %s", body, dump);
	ck_assert_msg(strcmp(json_string_value(json_object_get(r, "field")), field) == 0, "%s: field in %s", body, dump);
	free(dump);
	json_decref(r);
}

static char nwid_text[17], net_path[64], member_path[96];

static void make_network(const char *body)
{
	int status;
	json_t *r = call("POST", "/controller/network", body, &status);

	ck_assert_int_eq(status, 201);
	snprintf(nwid_text, sizeof(nwid_text), "%s", json_string_value(json_object_get(r, "id")));
	snprintf(net_path, sizeof(net_path), "/controller/network/%s", nwid_text);
	json_decref(r);
}

static json_t *get(const char *path)
{
	int status;
	json_t *r = call("GET", path, NULL, &status);

	ck_assert_int_eq(status, 200);
	return r;
}

static json_int_t revision(const char *path)
{
	json_t *r = get(path);
	json_int_t rev = json_integer_value(json_object_get(r, "revision"));

	json_decref(r);
	return rev;
}

START_TEST(controller_status_names_this_controller)
{
	char addr[11];
	json_t *r;

	zt_address_format(addr, ctl_id.address);
	r = get("/controller");
	ck_assert_str_eq(json_string_value(json_object_get(r, "controller")), addr);
	ck_assert(json_is_array(json_object_get(r, "hooks")));
	json_decref(r);
	expect("DELETE", "/controller", NULL, 405);
	expect_field("POST", "/controller", "{\"bogus\":1}", 400, "bogus");
	expect_field("POST", "/controller", "{\"version\":\"9\"}", 400, "version");
}
END_TEST

START_TEST(network_create_list_get_delete)
{
	char prefix[11];
	json_t *r, *list;

	make_network("{\"name\":\"lab\"}");
	zt_address_format(prefix, ctl_id.address);
	ck_assert_int_eq(strncmp(nwid_text, prefix, 10), 0);
	r = get(net_path);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "lab");
	ck_assert(json_is_true(json_object_get(r, "private")));
	ck_assert_int_eq(json_integer_value(json_object_get(r, "mtu")), 2800);
	ck_assert(json_is_true(json_object_get(r, "enable_broadcast")));
	ck_assert(json_integer_value(json_object_get(r, "revision")) > 0);
	ck_assert(json_is_integer(json_object_get(r, "created")));
	json_decref(r);
	list = get("/controller/network");
	ck_assert_int_eq(json_array_size(list), 1);
	ck_assert_str_eq(json_string_value(json_array_get(list, 0)), nwid_text);
	json_decref(list);
	expect("DELETE", net_path, NULL, 200);
	expect("GET", net_path, NULL, 404);
	expect("DELETE", net_path, NULL, 404);
	list = get("/controller/network");
	ck_assert_int_eq(json_array_size(list), 0);
	json_decref(list);
}
END_TEST

START_TEST(network_ids_given_checked_and_owned)
{
	char body[96], path[64], foreign[17];

	snprintf(body, sizeof(body), "{\"id\":\"%010llx000001\"}", (unsigned long long)ctl_id.address);
	expect("POST", "/controller/network", body, 201);
	expect_field("POST", "/controller/network", body, 409, "id");
	snprintf(foreign, sizeof(foreign), "%010llx000001", (unsigned long long)(ctl_id.address ^ 1));
	snprintf(body, sizeof(body), "{\"id\":\"%s\"}", foreign);
	expect_field("POST", "/controller/network", body, 400, "id");
	expect_field("POST", "/controller/network", "{\"id\":\"12345\"}", 400, "id");
	expect_field("POST", "/controller/network", "{\"id\":7}", 400, "id");
	snprintf(path, sizeof(path), "/controller/network/%s", foreign);
	expect_field("POST", path, "{}", 400, "id");
	expect_field("GET", path, NULL, 400, "id");
	expect_field("GET", "/controller/network/xyz", NULL, 400, "id");
	expect_field("GET", "/controller/network/0123456789abcdefa", NULL, 400, "id");
	/* POST to an unused id of ours creates it */
	snprintf(path, sizeof(path), "/controller/network/%010llx000002", (unsigned long long)ctl_id.address);
	expect("GET", path, NULL, 404);
	expect("POST", path, "{\"name\":\"two\"}", 201);
	expect("POST", path, "{\"name\":\"two again\"}", 200);
	/* the id in a body must match the path */
	snprintf(body, sizeof(body), "{\"id\":\"%010llx000001\"}", (unsigned long long)ctl_id.address);
	expect_field("POST", path, body, 400, "id");
}
END_TEST

START_TEST(network_partial_update_changes_only_given_fields)
{
	json_int_t rev;
	json_t *r;

	make_network("{\"name\":\"a\",\"mtu\":1500,\"ipv4_pools\":[{\"start\":\"10.1.0.1\",\"end\":\"10.1.0.50\"}],"
		     "\"routes\":[{\"target\":\"10.1.0.0/24\",\"via\":null}]}");
	rev = revision(net_path);
	expect("POST", net_path, "{\"name\":\"b\"}", 200);
	r = get(net_path);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "b");
	ck_assert_int_eq(json_integer_value(json_object_get(r, "mtu")), 1500);
	ck_assert_int_eq(json_array_size(json_object_get(r, "ipv4_pools")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(r, "routes")), 1);
	ck_assert(json_integer_value(json_object_get(r, "revision")) > rev);
	json_decref(r);
	/* a GET reply can be posted back unchanged, apart from read-only fields */
	expect("POST", net_path, "{\"private\":false,\"enable_broadcast\":false,\"multicast_limit\":0,"
				 "\"dns\":{\"domain\":\"lab.example\",\"servers\":[\"10.1.0.53\"]},"
				 "\"tags\":[{\"id\":1,\"name\":\"dept\",\"default\":5}],"
				 "\"capabilities\":[{\"id\":2,\"name\":\"admin\"}],"
				 "\"ipv6_pools\":[{\"start\":\"fd00::1\",\"end\":\"fd00::ffff\"}]}", 200);
	r = get(net_path);
	ck_assert(json_is_false(json_object_get(r, "private")));
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "dns"), "domain")), "lab.example");
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "b");
	json_decref(r);
	expect("POST", net_path, "{\"dns\":null}", 200);
}
END_TEST

struct bad_case {
	const char *body;
	const char *field;
};

static const struct bad_case bad_network[] = {
	{"{\"mtu\":1279}", "mtu"},
	{"{\"mtu\":10001}", "mtu"},
	{"{\"mtu\":\"1500\"}", "mtu"},
	{"{\"mtu\":1500.5}", "mtu"},
	{"{\"private\":1}", "private"},
	{"{\"enable_broadcast\":null}", "enable_broadcast"},
	{"{\"name\":5}", "name"},
	{"{\"name\":\"line\\nbreak\"}", "name"},
	{"{\"name\":\"nul\\u0000byte\"}", ""},
	{"{\"multicast_limit\":-1}", "multicast_limit"},
	{"{\"multicast_limit\":1000001}", "multicast_limit"},
	{"{\"ipv4_pools\":{}}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"10.0.0.10\",\"end\":\"10.0.0.1\"}]}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"fd00::1\",\"end\":\"fd00::9\"}]}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"10.0.0.1\"}]}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"10.0.0.1\",\"end\":\"10.0.0.9\",\"x\":1}]}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"10.0.0.256\",\"end\":\"10.0.0.9\"}]}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"0.0.0.0\",\"end\":\"10.0.0.9\"}]}", "ipv4_pools"},
	{"{\"ipv4_pools\":[{\"start\":\"100.0.0.1\",\"end\":\"130.0.0.9\"}]}", "ipv4_pools"},
	{"{\"ipv6_pools\":[{\"start\":\"10.0.0.1\",\"end\":\"10.0.0.9\"}]}", "ipv6_pools"},
	{"{\"routes\":[{\"target\":\"10.0.0.0/33\"}]}", "routes"},
	{"{\"routes\":[{\"target\":\"10.0.0.1/24\"}]}", "routes"},
	{"{\"routes\":[{\"target\":\"10.0.0.0/024\"}]}", "routes"},
	{"{\"routes\":[{\"target\":\"10.0.0.0\"}]}", "routes"},
	{"{\"routes\":[{\"target\":\"10.0.0.0/24\",\"via\":\"fd00::1\"}]}", "routes"},
	{"{\"routes\":[{\"target\":\"10.0.0.0/24\",\"metric\":1}]}", "routes"},
	{"{\"dns\":{\"domain\":\"bad domain\",\"servers\":[]}}", "dns"},
	{"{\"dns\":{\"servers\":[\"x\"]}}", "dns"},
	{"{\"dns\":{\"servers\":[\"1.1.1.1\",\"1.1.1.2\",\"1.1.1.3\",\"1.1.1.4\",\"1.1.1.5\"]}}", "dns"},
	{"{\"dns\":\"1.1.1.1\"}", "dns"},
	{"{\"tags\":[{\"id\":-1,\"name\":\"a\"}]}", "tags"},
	{"{\"tags\":[{\"id\":4294967296,\"name\":\"a\"}]}", "tags"},
	{"{\"tags\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"a\"}]}", "tags"},
	{"{\"tags\":[{\"id\":1,\"name\":\"\"}]}", "tags"},
	{"{\"capabilities\":[{\"id\":1,\"name\":\"a\",\"default\":1}]}", "capabilities"},
	{"{\"hooks\":[{\"url\":\"ftp://x.example/\",\"secret\":\"0123456789abcdef\"}]}", "hooks"},
	{"{\"hooks\":[{\"url\":\"http://x.example/\"}]}", "hooks"},
	{"{\"hooks\":[{\"url\":\"http://x.example/\",\"secret\":\"short\"}]}", "hooks"},
	{"{\"hooks\":[{\"url\":\"http://x.example/\",\"secret\":\"0123456789abcdef\",\"extra\":1}]}", "hooks"},
	{"{\"rules_source\":7}", "rules_source"},
	{"{\"bogus\":1}", "bogus"},
	{"{\"revision\":5}", "revision"},
	{"{\"created\":5}", "created"},
	{"{\"rules\":\"00\"}", "rules"},
	{"{\"name\":\"fine\",\"mtu\":1}", "mtu"},
};

START_TEST(network_bad_fields_are_refused_and_change_nothing)
{
	json_t *before, *after;
	char long_name[200];

	make_network("{\"name\":\"keep\"}");
	before = get(net_path);
	for (size_t i = 0; i < ZT_ARRAY_LEN(bad_network); i++) {
		if (bad_network[i].field[0])
			expect_field("POST", net_path, bad_network[i].body, 400, bad_network[i].field);
		else
			expect("POST", net_path, bad_network[i].body, 400);
	}
	memset(long_name, 'x', sizeof(long_name));
	memcpy(long_name, "{\"name\":\"", 9);
	memcpy(long_name + 9 + 128, "\"}", 3);
	expect_field("POST", net_path, long_name, 400, "name");
	after = get(net_path);
	ck_assert(json_equal(before, after));
	json_decref(before);
	json_decref(after);
}
END_TEST

START_TEST(malformed_bodies_paths_and_methods)
{
	char *big;

	make_network(NULL);
	expect("POST", net_path, "{", 400);
	expect("POST", net_path, "[1,2]", 400);
	expect("POST", net_path, "\"x\"", 400);
	expect("POST", net_path, "{\"name\":\"a\",\"name\":\"b\"}", 400);
	expect("POST", net_path, "{\"name\":\"\xff\xfe\"}", 400);
	big = malloc((1u << 20) + 16);
	memset(big, ' ', (1u << 20) + 15);
	big[0] = '{';
	big[(1u << 20) + 14] = '}';
	big[(1u << 20) + 15] = '\0';
	expect("POST", net_path, big, 413);
	free(big);
	expect("GET", "/", NULL, 404);
	expect("GET", "/controller/", NULL, 404);
	expect("GET", "/controller/networks", NULL, 404);
	expect("GET", "/controller//network", NULL, 404);
	expect("PUT", "/controller/network", "{}", 405);
	expect("PATCH", net_path, "{}", 405);
	expect("DELETE", "/controller/network", NULL, 405);
}
END_TEST

START_TEST(member_endpoints)
{
	char path[128];
	json_t *r, *list;

	make_network(NULL);
	snprintf(member_path, sizeof(member_path), "%s/member/0102030405", net_path);
	expect("GET", member_path, NULL, 404);
	r = call("POST", member_path, "{\"authorized\":true,\"name\":\"laptop\",\"description\":\"alice\"}", &(int){0});
	json_decref(r);
	r = get(member_path);
	ck_assert(json_is_true(json_object_get(r, "authorized")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "address")), "0102030405");
	ck_assert_str_eq(json_string_value(json_object_get(r, "network_id")), nwid_text);
	ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "laptop");
	ck_assert(json_is_null(json_object_get(r, "identity")));
	ck_assert(json_is_false(json_object_get(r, "bridge")));
	json_decref(r);
	expect("POST", member_path, "{\"bridge\":true}", 200);
	r = get(member_path);
	ck_assert(json_is_true(json_object_get(r, "bridge")));
	ck_assert(json_is_true(json_object_get(r, "authorized")));
	json_decref(r);
	snprintf(path, sizeof(path), "%s/member", net_path);
	list = get(path);
	ck_assert_int_eq(json_array_size(list), 1);
	json_decref(list);
	expect("DELETE", member_path, NULL, 200);
	expect("GET", member_path, NULL, 404);
	expect("DELETE", member_path, NULL, 404);
	/* bad addresses and unknown networks */
	snprintf(path, sizeof(path), "%s/member/01020304", net_path);
	expect_field("GET", path, NULL, 400, "address");
	snprintf(path, sizeof(path), "%s/member/0000000000", net_path);
	expect_field("GET", path, NULL, 400, "address");
	snprintf(path, sizeof(path), "%s/member/ff02030405", net_path);
	expect_field("POST", path, "{}", 400, "address");
	snprintf(path, sizeof(path), "/controller/network/%010llxffffff/member/0102030405",
		 (unsigned long long)ctl_id.address);
	expect("GET", path, NULL, 404);
	expect("POST", path, "{\"authorized\":true}", 404);
	snprintf(path, sizeof(path), "/controller/network/%010llxffffff/member", (unsigned long long)ctl_id.address);
	expect("GET", path, NULL, 404);
	snprintf(path, sizeof(path), "%s/member/0102030405/extra", net_path);
	expect("GET", path, NULL, 404);
}
END_TEST

static const struct bad_case bad_member[] = {
	{"{\"authorized\":\"yes\"}", "authorized"},
	{"{\"bridge\":0}", "bridge"},
	{"{\"ip_assignments\":[\"10.0.0.300\"]}", "ip_assignments"},
	{"{\"ip_assignments\":\"10.0.0.3\"}", "ip_assignments"},
	{"{\"ip_assignments\":[\"10.0.0.3\",\"10.0.0.3\"]}", "ip_assignments"},
	{"{\"ip_assignments\":[\"224.0.0.1\"]}", "ip_assignments"},
	{"{\"ip_assignments\":[\"10.0.0.7\"]}", "ip_assignments"}, /* the other member's */
	{"{\"tags\":[{\"id\":99,\"value\":1}]}", "tags"},
	{"{\"tags\":[{\"id\":1,\"value\":-1}]}", "tags"},
	{"{\"tags\":[{\"id\":1,\"value\":1},{\"id\":1,\"value\":2}]}", "tags"},
	{"{\"capabilities\":[99]}", "capabilities"},
	{"{\"capabilities\":[\"2\"]}", "capabilities"},
	{"{\"description\":7}", "description"},
	{"{\"identity\":\"x\"}", "identity"},
	{"{\"last_seen\":1}", "last_seen"},
	{"{\"address\":\"0a0b0c0d0e\"}", "address"},
	{"{\"favourite\":1}", "favourite"},
	{"{\"authorized\":false,\"name\":7}", "name"},
};

START_TEST(member_bad_fields_are_refused_and_change_nothing)
{
	char other[128];
	json_t *before, *after;

	make_network("{\"tags\":[{\"id\":1,\"name\":\"dept\"}],\"capabilities\":[{\"id\":2,\"name\":\"admin\"}]}");
	snprintf(other, sizeof(other), "%s/member/0a0b0c0d0e", net_path);
	expect("POST", other, "{\"ip_assignments\":[\"10.0.0.7\"]}", 201);
	snprintf(member_path, sizeof(member_path), "%s/member/0102030405", net_path);
	expect("POST", member_path, "{\"authorized\":true,\"ip_assignments\":[\"10.0.0.3\"],"
				    "\"tags\":[{\"id\":1,\"value\":4}],\"capabilities\":[2]}", 201);
	before = get(member_path);
	for (size_t i = 0; i < ZT_ARRAY_LEN(bad_member); i++)
		expect_field("POST", member_path, bad_member[i].body, 400, bad_member[i].field);
	after = get(member_path);
	ck_assert(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	/* the refused duplicate left the other member's claim alone */
	after = get(other);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(after, "ip_assignments"), 0)), "10.0.0.7");
	json_decref(after);
	/* a non-existent member refused on creation stays non-existent */
	snprintf(other, sizeof(other), "%s/member/0e0e0e0e0e", net_path);
	expect("POST", other, "{\"ip_assignments\":[\"10.0.0.7\"]}", 400);
	expect("GET", other, NULL, 404);
}
END_TEST

START_TEST(pools_assign_unique_addresses_on_authorization)
{
	static const char *const addrs[] = {"1111111111", "2222222222", "3333333333", "4444444444"};
	char path[128];
	json_t *seen = json_array();

	make_network("{\"ipv4_pools\":[{\"start\":\"10.9.0.1\",\"end\":\"10.9.0.3\"}],"
		     "\"routes\":[{\"target\":\"10.9.0.0/24\"}]}");
	/* an unauthorized member gets nothing, a manual address takes a slot */
	snprintf(path, sizeof(path), "%s/member/%s", net_path, "5555555555");
	expect("POST", path, "{\"ip_assignments\":[\"10.9.0.2\"]}", 201);
	for (size_t i = 0; i < 3; i++) {
		json_t *r;
		snprintf(path, sizeof(path), "%s/member/%s", net_path, addrs[i]);
		expect("POST", path, "{}", 201);
		r = get(path);
		ck_assert_int_eq(json_array_size(json_object_get(r, "ip_assignments")), 0);
		json_decref(r);
		expect("POST", path, "{\"authorized\":true}", 200);
		r = get(path);
		if (i < 2) {
			const char *ip = json_string_value(json_array_get(json_object_get(r, "ip_assignments"), 0));
			ck_assert_ptr_nonnull(ip);
			ck_assert_str_ne(ip, "10.9.0.2");
			for (size_t j = 0; j < json_array_size(seen); j++)
				ck_assert_str_ne(ip, json_string_value(json_array_get(seen, j)));
			json_array_append_new(seen, json_string(ip));
		} else {
			/* the pool is exhausted: authorized, without an address */
			ck_assert(json_is_true(json_object_get(r, "authorized")));
			ck_assert_int_eq(json_array_size(json_object_get(r, "ip_assignments")), 0);
		}
		json_decref(r);
	}
	/* stable: a further update keeps the address */
	snprintf(path, sizeof(path), "%s/member/%s", net_path, addrs[0]);
	expect("POST", path, "{\"name\":\"renamed\"}", 200);
	{
		json_t *r = get(path);
		ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "ip_assignments"), 0)),
				 json_string_value(json_array_get(seen, 0)));
		json_decref(r);
	}
	/* deleting a member frees its address for the next one */
	expect("DELETE", path, NULL, 200);
	snprintf(path, sizeof(path), "%s/member/%s", net_path, addrs[3]);
	expect("POST", path, "{\"authorized\":true}", 201);
	{
		json_t *r = get(path);
		ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "ip_assignments"), 0)),
				 json_string_value(json_array_get(seen, 0)));
		json_decref(r);
	}
	json_decref(seen);
}
END_TEST

START_TEST(hook_secrets_are_write_only)
{
	char *dump;
	json_t *r;

	make_network("{\"hooks\":[{\"url\":\"http://127.0.0.1:1/hook\",\"secret\":\"s3cr3t-value-0123456789\"}]}");
	r = get(net_path);
	dump = json_dumps(r, 0);
	ck_assert_ptr_null(strstr(dump, "s3cr3t"));
	ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(r, "hooks"), 0), "secret_set")));
	free(dump);
	/* posting the GET form back (no secret) keeps the secret */
	{
		json_t *body = json_pack("{s:O}", "hooks", json_object_get(r, "hooks"));
		dump = json_dumps(body, 0);
		json_decref(body);
	}
	expect("POST", net_path, dump, 200);
	free(dump);
	json_decref(r);
	r = get(net_path);
	ck_assert(json_is_true(json_object_get(json_array_get(json_object_get(r, "hooks"), 0), "secret_set")));
	json_decref(r);
	/* global hooks likewise */
	expect("POST", "/controller", "{\"hooks\":[{\"url\":\"https://hooks.example/zt\",\"secret\":\"global-secret-0123456789\"}]}",
	       200);
	r = get("/controller");
	dump = json_dumps(r, 0);
	ck_assert_ptr_null(strstr(dump, "global-secret"));
	ck_assert_ptr_nonnull(strstr(dump, "hooks.example"));
	free(dump);
	json_decref(r);
}
END_TEST

START_TEST(rules_source_compiles_and_errors_keep_old_rules)
{
	json_t *before, *after;
	int status;

	make_network(NULL);
	expect("POST", net_path, "{\"rules_source\":\"accept;\\n\"}", 200);
	before = get(net_path);
	ck_assert_str_eq(json_string_value(json_object_get(before, "rules_source")), "accept;\n");
	ck_assert_uint_gt(strlen(json_string_value(json_object_get(before, "rules"))), 0);
	after = call("POST", net_path, "{\"name\":\"new\",\"rules_source\":\"accept;\\nthis is not a rule ;;\"}", &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(json_string_value(json_object_get(after, "field")), "rules_source");
	ck_assert_int_eq(json_integer_value(json_object_get(after, "line")), 2);
	ck_assert_int_ge(json_integer_value(json_object_get(after, "column")), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(after, "error")), "line 2"));
	json_decref(after);
	after = get(net_path);
	ck_assert(json_equal(before, after));
	json_decref(before);
	json_decref(after);
	/* an empty source means no rules */
	expect("POST", net_path, "{\"rules_source\":\"\"}", 200);
	after = get(net_path);
	ck_assert_str_eq(json_string_value(json_object_get(after, "rules")), "");
	json_decref(after);
}
END_TEST

START_TEST(deliveries_listed_per_network)
{
	char path[128];
	json_t *r;

	make_network("{\"hooks\":[{\"url\":\"http://127.0.0.1:1/hook\",\"secret\":\"0123456789abcdef\"}]}");
	snprintf(path, sizeof(path), "%s/hook/delivery", net_path);
	r = get(path);
	/* network.created was queued for the hook (the worker is off here) */
	ck_assert_int_eq(json_array_size(r), 1);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "type")), "network.created");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "state")), "pending");
	ck_assert_ptr_null(json_object_get(json_array_get(r, 0), "secret"));
	json_decref(r);
	expect("POST", path, "{}", 405);
	snprintf(path, sizeof(path), "/controller/network/%010llxfffffe/hook/delivery", (unsigned long long)ctl_id.address);
	expect("GET", path, NULL, 404);
}
END_TEST

START_TEST(deleting_a_network_deletes_its_members)
{
	char path[128];

	make_network(NULL);
	snprintf(member_path, sizeof(member_path), "%s/member/0102030405", net_path);
	expect("POST", member_path, "{\"authorized\":true,\"ip_assignments\":[\"10.0.0.1\"]}", 201);
	expect("DELETE", net_path, NULL, 200);
	expect("GET", member_path, NULL, 404);
	snprintf(path, sizeof(path), "%s/member", net_path);
	expect("GET", path, NULL, 404);
	/* recreated with the same id: empty, and the address is free again */
	expect("POST", net_path, "{}", 201);
	snprintf(path, sizeof(path), "%s/member/0a0a0a0a0a", net_path);
	expect("POST", path, "{\"ip_assignments\":[\"10.0.0.1\"]}", 201);
}
END_TEST

static Suite *ctl_api_suite(void)
{
	Suite *s = suite_create("ctl_api");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, controller_status_names_this_controller);
	tcase_add_test(tc, network_create_list_get_delete);
	tcase_add_test(tc, network_ids_given_checked_and_owned);
	tcase_add_test(tc, network_partial_update_changes_only_given_fields);
	tcase_add_test(tc, network_bad_fields_are_refused_and_change_nothing);
	tcase_add_test(tc, malformed_bodies_paths_and_methods);
	tcase_add_test(tc, member_endpoints);
	tcase_add_test(tc, member_bad_fields_are_refused_and_change_nothing);
	tcase_add_test(tc, pools_assign_unique_addresses_on_authorization);
	tcase_add_test(tc, hook_secrets_are_write_only);
	tcase_add_test(tc, rules_source_compiles_and_errors_keep_old_rules);
	tcase_add_test(tc, deliveries_listed_per_network);
	tcase_add_test(tc, deleting_a_network_deletes_its_members);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(ctl_api_suite)
