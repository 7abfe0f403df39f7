/*
 * test_ctl_store.c - the controller's SQLite store: everything survives
 * close and reopen, the schema is versioned, a rolled back transaction
 * leaves nothing, IP claims are unique per network, and assigned addresses
 * stay unique and stable across restarts.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "test_helpers.h"
#include "controller/controller.h"
#include "controller/store.h"

static struct zt_identity ctl_id;
static bool ids_ready;
static char home[64];
static char db_path[128];
static struct zt_ctl *ctl;

static void open_ctl(void)
{
	struct zt_ctl_options opt;

	zt_ctl_options_default(&opt);
	opt.hooks_enabled = false;
	ck_assert_int_eq(zt_ctl_open_with(home, &ctl_id, &opt, &ctl), 0);
}

static void setup(void)
{
	uint64_t seed = 5;

	if (!ids_ready) {
		ck_assert_int_eq(zt_identity_generate(&ctl_id, test_random, &seed), 0);
		ids_ready = true;
	}
	snprintf(home, sizeof(home), "/tmp/zt-ctl-store-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	snprintf(db_path, sizeof(db_path), "%s/controller.db", home);
	open_ctl();
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

static json_t *get(const char *path)
{
	json_t *r;

	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	return r;
}

START_TEST(everything_survives_close_and_reopen)
{
	char net[64], members[96], m[128];
	json_t *n1, *l1, *g1, *n2, *l2, *g2, *r;
	json_int_t rev;

	ck_assert_int_eq(api("POST", "/controller/network",
			     "{\"name\":\"persist\",\"mtu\":9000,\"private\":false,"
			     "\"ipv4_pools\":[{\"start\":\"10.5.0.1\",\"end\":\"10.5.0.9\"}],"
			     "\"routes\":[{\"target\":\"10.5.0.0/24\",\"via\":null},{\"target\":\"192.168.7.0/24\",\"via\":\"10.5.0.1\"}],"
			     "\"dns\":{\"domain\":\"p.example\",\"servers\":[\"10.5.0.1\"]},"
			     "\"tags\":[{\"id\":1,\"name\":\"t\",\"default\":null}],"
			     "\"hooks\":[{\"url\":\"http://127.0.0.1:1/x\",\"secret\":\"0123456789abcdef\"}]}",
			     &r), 201);
	snprintf(net, sizeof(net), "/controller/network/%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	snprintf(members, sizeof(members), "%s/member", net);
	snprintf(m, sizeof(m), "%s/0102030405", members);
	ck_assert_int_eq(api("POST", m, "{\"authorized\":true,\"name\":\"a\",\"tags\":[{\"id\":1,\"value\":3}]}", NULL), 201);
	snprintf(m, sizeof(m), "%s/0a0b0c0d0e", members);
	ck_assert_int_eq(api("POST", m, "{\"ip_assignments\":[\"10.5.0.200\",\"fd00::5\"]}", NULL), 201);
	ck_assert_int_eq(api("POST", "/controller", "{\"hooks\":[{\"url\":\"http://127.0.0.1:1/g\",\"secret\":\"0123456789abcdef\"}]}",
			     NULL), 200);
	n1 = get(net);
	l1 = get(members);
	g1 = get("/controller");
	rev = json_integer_value(json_object_get(n1, "revision"));
	zt_ctl_close(ctl);
	open_ctl();
	n2 = get(net);
	l2 = get(members);
	g2 = get("/controller");
	ck_assert(json_equal(n1, n2));
	ck_assert(json_equal(l1, l2));
	ck_assert(json_equal(json_object_get(g1, "hooks"), json_object_get(g2, "hooks")));
	ck_assert_int_eq(json_array_size(l2), 2);
	/* revisions keep rising after a restart */
	ck_assert_int_eq(api("POST", net, "{\"name\":\"again\"}", &r), 200);
	ck_assert_int_gt(json_integer_value(json_object_get(r, "revision")), rev);
	json_decref(r);
	json_decref(n1);
	json_decref(l1);
	json_decref(g1);
	json_decref(n2);
	json_decref(l2);
	json_decref(g2);
}
END_TEST

START_TEST(database_is_private_and_versioned)
{
	struct zt_ctl_store *s;
	struct stat st;
	sqlite3 *db;
	sqlite3_stmt *q;

	ck_assert_int_eq(stat(db_path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	zt_ctl_close(ctl);
	ctl = NULL;
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_migrations", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), 1);
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	/* reopening an up-to-date store applies nothing twice */
	ck_assert_int_eq(zt_ctl_store_sqlite_open(home, &s), 0);
	s->ops->close(s);
	/* a store from a newer program is refused, not damaged */
	ck_assert_int_eq(sqlite3_exec(db, "INSERT INTO schema_migrations(version, applied_at) VALUES(99, 0)", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	ck_assert_int_eq(zt_ctl_store_sqlite_open(home, &s), ZT_EVERSION);
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM schema_migrations WHERE version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	open_ctl();
}
END_TEST

START_TEST(store_rollback_and_unique_claims)
{
	struct zt_ctl_store *s;
	const char *a[] = {"10.0.0.1", "10.0.0.2"}, *b[] = {"10.0.0.2"}, *c[] = {"10.0.0.3"};
	uint64_t nwid = 0x0102030405000001ULL;
	json_t *doc, *ips;

	zt_ctl_close(ctl);
	ctl = NULL;
	ck_assert_int_eq(zt_ctl_store_sqlite_open(home, &s), 0);
	/* a rolled back transaction leaves nothing behind */
	ck_assert_int_eq(s->ops->begin(s), 0);
	doc = json_pack("{s:s}", "id", "0102030405000001");
	ck_assert_int_eq(s->ops->network_put(s, nwid, doc), 0);
	s->ops->rollback(s);
	ck_assert_int_eq(s->ops->network_get(s, nwid, &ips), ZT_ENOENT);
	/* claims are unique within a network */
	ck_assert_int_eq(s->ops->begin(s), 0);
	ck_assert_int_eq(s->ops->network_put(s, nwid, doc), 0);
	ck_assert_int_eq(s->ops->member_put(s, nwid, 0x1111111111ULL, doc), 0);
	ck_assert_int_eq(s->ops->member_put(s, nwid, 0x2222222222ULL, doc), 0);
	ck_assert_int_eq(s->ops->ip_claim_set(s, nwid, 0x1111111111ULL, a, 2), 0);
	ck_assert_int_eq(s->ops->ip_claim_set(s, nwid, 0x2222222222ULL, b, 1), ZT_EEXIST);
	ck_assert_int_eq(s->ops->ip_claim_set(s, nwid, 0x2222222222ULL, c, 1), 0);
	/* re-setting a member's own claims is fine */
	ck_assert_int_eq(s->ops->ip_claim_set(s, nwid, 0x1111111111ULL, b, 1), 0);
	ck_assert_int_eq(s->ops->commit(s), 0);
	ck_assert_int_eq(s->ops->ip_claim_list(s, nwid, &ips), 0);
	ck_assert_int_eq(json_array_size(ips), 2);
	json_decref(ips);
	/* deleting the network drops members and claims */
	ck_assert_int_eq(s->ops->begin(s), 0);
	ck_assert_int_eq(s->ops->network_delete(s, nwid), 0);
	ck_assert_int_eq(s->ops->commit(s), 0);
	ck_assert_int_eq(s->ops->ip_claim_list(s, nwid, &ips), 0);
	ck_assert_int_eq(json_array_size(ips), 0);
	json_decref(ips);
	ck_assert_int_eq(s->ops->member_get(s, nwid, 0x1111111111ULL, &ips), ZT_ENOENT);
	json_decref(doc);
	s->ops->close(s);
	open_ctl();
}
END_TEST

static const char *member_ip(const char *members, unsigned i)
{
	static char ip[64];
	char path[128];
	json_t *r;

	snprintf(path, sizeof(path), "%s/%010llx", members, 0x1000000000ULL + i);
	r = get(path);
	snprintf(ip, sizeof(ip), "%s", json_string_value(json_array_get(json_object_get(r, "ip_assignments"), 0)));
	json_decref(r);
	return ip;
}

START_TEST(assigned_addresses_are_unique_and_stable_across_restarts)
{
	char net[64], members[96], path[128];
	char ips[30][64];
	json_t *r;

	ck_assert_int_eq(api("POST", "/controller/network",
			     "{\"ipv4_pools\":[{\"start\":\"10.6.0.250\",\"end\":\"10.6.1.40\"}]}", &r), 201);
	snprintf(net, sizeof(net), "/controller/network/%s", json_string_value(json_object_get(r, "id")));
	json_decref(r);
	snprintf(members, sizeof(members), "%s/member", net);
	/* a manual address in the middle of the pool is skipped */
	snprintf(path, sizeof(path), "%s/0fffffffff", members);
	ck_assert_int_eq(api("POST", path, "{\"ip_assignments\":[\"10.6.0.255\"]}", NULL), 201);
	for (unsigned i = 0; i < 15; i++) {
		snprintf(path, sizeof(path), "%s/%010llx", members, 0x1000000000ULL + i);
		ck_assert_int_eq(api("POST", path, "{\"authorized\":true}", NULL), 201);
		snprintf(ips[i], sizeof(ips[i]), "%s", member_ip(members, i));
		ck_assert_str_ne(ips[i], "");
		ck_assert_str_ne(ips[i], "10.6.0.255");
		for (unsigned j = 0; j < i; j++)
			ck_assert_str_ne(ips[i], ips[j]);
	}
	ck_assert_str_eq(ips[0], "10.6.0.250");
	ck_assert_str_eq(ips[5], "10.6.1.0");
	zt_ctl_close(ctl);
	open_ctl();
	for (unsigned i = 0; i < 15; i++)
		ck_assert_str_eq(member_ip(members, i), ips[i]);
	/* deauthorizing keeps the address; new members after a restart never collide */
	snprintf(path, sizeof(path), "%s/%010llx", members, 0x1000000000ULL);
	ck_assert_int_eq(api("POST", path, "{\"authorized\":false}", NULL), 200);
	ck_assert_str_eq(member_ip(members, 0), ips[0]);
	for (unsigned i = 15; i < 30; i++) {
		snprintf(path, sizeof(path), "%s/%010llx", members, 0x1000000000ULL + i);
		ck_assert_int_eq(api("POST", path, "{\"authorized\":true}", NULL), 201);
		snprintf(ips[i], sizeof(ips[i]), "%s", member_ip(members, i));
		for (unsigned j = 0; j < i; j++)
			ck_assert_str_ne(ips[i], ips[j]);
	}
	/* re-authorization keeps the same address */
	snprintf(path, sizeof(path), "%s/%010llx", members, 0x1000000000ULL);
	ck_assert_int_eq(api("POST", path, "{\"authorized\":true}", NULL), 200);
	ck_assert_str_eq(member_ip(members, 0), ips[0]);
}
END_TEST

static Suite *ctl_store_suite(void)
{
	Suite *s = suite_create("ctl_store");
	TCase *tc = tcase_create("store");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, everything_survives_close_and_reopen);
	tcase_add_test(tc, database_is_private_and_versioned);
	tcase_add_test(tc, store_rollback_and_unique_claims);
	tcase_add_test(tc, assigned_addresses_are_unique_and_stable_across_restarts);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(ctl_store_suite)
