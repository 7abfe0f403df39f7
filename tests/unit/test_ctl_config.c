/*
 * test_ctl_config.c - members asking the controller for their config:
 * unknown networks, approval on private networks, public networks, the
 * signed config itself, identity checks and their rate limit, change
 * notifications through the fd and zt_ctl_process, and revocations.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "test_helpers.h"
#include "controller/controller.h"

static struct zt_identity ctl_id, ctl_pub, m1, m2;
static bool ids_ready;
static char home[64];
static struct zt_ctl *ctl;
static struct zt_ctl_answer *ans;

struct seen {
	uint64_t nwid[32], member[32];
	size_t n_changed;
	struct zt_revocation revs[8];
	size_t n_revs;
};

static struct seen seen;

static void on_changed(void *ctx, uint64_t nwid, uint64_t member)
{
	struct seen *s = ctx;

	if (s->n_changed < 32) {
		s->nwid[s->n_changed] = nwid;
		s->member[s->n_changed++] = member;
	}
}

static void on_revoked(void *ctx, const struct zt_revocation *rev)
{
	struct seen *s = ctx;

	if (s->n_revs < 8)
		s->revs[s->n_revs++] = *rev;
}

static void setup(void)
{
	static const struct zt_ctl_callbacks cb = {.changed = on_changed, .revoked = on_revoked};
	struct zt_ctl_options opt;
	uint64_t seed = 99;

	if (!ids_ready) {
		ck_assert_int_eq(zt_identity_generate(&ctl_id, test_random, &seed), 0);
		ck_assert_int_eq(zt_identity_generate(&m1, test_random, &seed), 0);
		ck_assert_int_eq(zt_identity_generate(&m2, test_random, &seed), 0);
		zt_identity_public(&ctl_pub, &ctl_id);
		/* members present public identities */
		m1.has_secret = m2.has_secret = false;
		ids_ready = true;
	}
	snprintf(home, sizeof(home), "/tmp/zt-ctl-cfg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(home));
	zt_ctl_options_default(&opt);
	opt.hooks_enabled = false;
	ck_assert_int_eq(zt_ctl_open_with(home, &ctl_id, &opt, &ctl), 0);
	memset(&seen, 0, sizeof(seen));
	zt_ctl_set_callbacks(ctl, &cb, &seen);
	ans = malloc(sizeof(*ans));
	ck_assert_ptr_nonnull(ans);
}

static void teardown(void)
{
	static const char *const files[] = {"controller.db", "controller.db-wal", "controller.db-shm"};
	char path[128];

	free(ans);
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

static uint64_t make_network(const char *body)
{
	json_t *r;
	uint64_t nwid;

	ck_assert_int_eq(api("POST", "/controller/network", body, &r), 201);
	nwid = strtoull(json_string_value(json_object_get(r, "id")), NULL, 16);
	json_decref(r);
	return nwid;
}

static void member_path(char *out, size_t n, uint64_t nwid, const struct zt_identity *m)
{
	snprintf(out, n, "/controller/network/%016llx/member/%010llx", (unsigned long long)nwid,
		 (unsigned long long)m->address);
}

static bool fd_readable(void)
{
	struct pollfd p = {.fd = zt_ctl_notify_fd(ctl), .events = POLLIN};

	return poll(&p, 1, 0) == 1;
}

static int ask(uint64_t nwid, const struct zt_identity *m)
{
	struct zt_endpoint phys;

	ck_assert_int_eq(zt_endpoint_parse(&phys, "198.51.100.10/9993"), 0);
	return zt_ctl_request_config(ctl, nwid, m, &phys, now_ms(), ans);
}

START_TEST(unknown_networks_are_not_found)
{
	ck_assert_int_eq(ask(ctl_id.address << 24 | 0x77, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_NOT_FOUND);
	ck_assert_int_eq(ask((ctl_id.address ^ 1) << 24 | 0x77, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_NOT_FOUND);
}
END_TEST

START_TEST(private_network_member_awaits_approval_then_gets_a_signed_config)
{
	struct zt_netconf *nc = malloc(sizeof(*nc));
	uint64_t nwid = make_network("{\"name\":\"office\",\"mtu\":1400,"
				     "\"ipv4_pools\":[{\"start\":\"10.147.17.10\",\"end\":\"10.147.17.20\"}],"
				     "\"routes\":[{\"target\":\"10.147.17.0/24\"}],"
				     "\"dns\":{\"domain\":\"office.example\",\"servers\":[\"10.147.17.1\"]},"
				     "\"tags\":[{\"id\":5,\"name\":\"dept\",\"default\":1}],"
				     "\"capabilities\":[{\"id\":3,\"name\":\"admin\"}]}");
	char path[96], body[64];
	json_t *r;

	zt_ctl_process(ctl, now_ms());
	seen.n_changed = 0;
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_ACCESS_DENIED);
	ck_assert_str_eq(ans->reason, "awaiting approval");
	ck_assert_uint_eq(ans->encoded_len, 0);
	member_path(path, sizeof(path), nwid, &m1);
	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	ck_assert(json_is_false(json_object_get(r, "authorized")));
	ck_assert(json_is_string(json_object_get(r, "identity")));
	ck_assert(json_is_integer(json_object_get(r, "first_seen")));
	ck_assert(json_is_integer(json_object_get(r, "last_seen")));
	ck_assert_str_eq(json_string_value(json_object_get(r, "last_physical_address")), "198.51.100.10/9993");
	ck_assert_int_eq(json_array_size(json_object_get(r, "ip_assignments")), 0);
	json_decref(r);
	/* approve: the daemon hears about it through the fd */
	ck_assert_int_eq(api("POST", path, "{\"authorized\":true,\"tags\":[{\"id\":5,\"value\":9}],\"capabilities\":[3]}",
			     NULL), 200);
	ck_assert(fd_readable());
	ck_assert_int_eq(zt_ctl_process(ctl, now_ms()), 0);
	ck_assert(!fd_readable());
	ck_assert_uint_ge(seen.n_changed, 1);
	ck_assert_uint_eq(seen.nwid[0], nwid);
	ck_assert_uint_eq(seen.member[0], m1.address);
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	ck_assert_uint_gt(ans->encoded_len, 0);
	ck_assert_int_eq(zt_netconf_decode(nc, ans->encoded, ans->encoded_len, &ctl_pub), 0);
	ck_assert_str_eq(nc->name, "office");
	ck_assert_uint_eq(nc->mtu, 1400);
	ck_assert(nc->is_private);
	ck_assert_uint_eq(nc->member, m1.address);
	ck_assert_uint_eq(nc->n_ips, 1);
	ck_assert_uint_eq(nc->ips[0].family, 4);
	ck_assert_uint_eq(nc->ips[0].addr[3], 10);
	ck_assert_uint_eq(nc->ips[0].prefix_len, 24);
	ck_assert_uint_eq(nc->n_routes, 1);
	ck_assert_str_eq(nc->dns_domain, "office.example");
	ck_assert_uint_eq(nc->n_tags, 1);
	ck_assert_uint_eq(nc->tags[0].value, 9);
	ck_assert_uint_eq(nc->n_caps, 1);
	ck_assert_str_eq(nc->caps[0].name, "admin");
	ck_assert_int_eq(zt_com_verify(&nc->com, &ctl_pub), 0);
	/* the assignment is recorded and stable */
	ck_assert_int_eq(api("GET", path, NULL, &r), 200);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "ip_assignments"), 0)), "10.147.17.10");
	json_decref(r);
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(zt_netconf_decode(nc, ans->encoded, ans->encoded_len, &ctl_pub), 0);
	ck_assert_uint_eq(nc->ips[0].addr[3], 10);
	/* a network change is announced for every member */
	seen.n_changed = 0;
	snprintf(body, sizeof(body), "{\"mtu\":1500}");
	ck_assert_int_eq(api("POST", "/controller/network/", body, NULL), 404);
	snprintf(path, sizeof(path), "/controller/network/%016llx", (unsigned long long)nwid);
	ck_assert_int_eq(api("POST", path, body, NULL), 200);
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_eq(seen.n_changed, 1);
	ck_assert_uint_eq(seen.member[0], 0);
	free(nc);
}
END_TEST

START_TEST(public_network_admits_anyone)
{
	struct zt_netconf *nc = malloc(sizeof(*nc));
	uint64_t nwid = make_network("{\"private\":false,\"ipv6_pools\":[{\"start\":\"fd00::1\",\"end\":\"fd00::ff\"}]}");

	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	ck_assert_int_eq(zt_netconf_decode(nc, ans->encoded, ans->encoded_len, &ctl_pub), 0);
	ck_assert(!nc->is_private);
	ck_assert_uint_eq(nc->n_ips, 1);
	ck_assert_uint_eq(nc->ips[0].family, 6);
	ck_assert_uint_eq(nc->ips[0].prefix_len, 128);
	ck_assert_int_eq(ask(nwid, &m2), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	ck_assert_int_eq(zt_netconf_decode(nc, ans->encoded, ans->encoded_len, &ctl_pub), 0);
	ck_assert_uint_eq(nc->ips[0].addr[15], 2);
	free(nc);
}
END_TEST

START_TEST(identities_are_checked)
{
	struct zt_identity forged = m2, wrong = m2;
	uint64_t nwid = make_network("{\"private\":false}");

	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	/* someone else's keys under m1's address */
	forged.address = m1.address;
	ck_assert_int_eq(ask(nwid, &forged), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_ACCESS_DENIED);
	/* a stranger whose address does not derive from its keys */
	wrong.address ^= 0x10;
	ck_assert_int_eq(ask(nwid, &wrong), ZT_EAUTH);
}
END_TEST

START_TEST(stranger_validation_is_rate_limited)
{
	struct zt_identity wrong = m2;
	uint64_t nwid = make_network("{\"private\":false}"), t = now_ms();
	struct zt_endpoint phys = {0};
	int rc = 0, i;

	/* each call validates (and fails) once: the bucket holds ZT_VALIDATE_BURST */
	for (i = 0; i < 1000 && rc != ZT_ERATE; i++) {
		wrong.address = 0x1000000000ULL + (uint64_t)i;
		rc = zt_ctl_request_config(ctl, nwid, &wrong, &phys, t, ans);
		ck_assert(rc == ZT_EAUTH || rc == ZT_ERATE);
	}
	ck_assert_int_eq(rc, ZT_ERATE);
	ck_assert_int_eq(i, 101);
	/* a known member is not a stranger: first contact took a token, later visits none */
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, t, ans), ZT_ERATE);
	/* time refills the bucket */
	ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, t + 1000, ans), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	for (i = 0; i < 50; i++)
		ck_assert_int_eq(zt_ctl_request_config(ctl, nwid, &m1, &phys, t + 1000, ans), 0);
}
END_TEST

START_TEST(deauthorization_and_deletion_revoke)
{
	struct zt_netconf *nc = malloc(sizeof(*nc));
	struct zt_revocation list[4];
	uint64_t nwid = make_network(NULL);
	char path[96];
	size_t n;

	member_path(path, sizeof(path), nwid, &m1);
	ck_assert_int_eq(api("POST", path, "{\"authorized\":true}", NULL), 201);
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	ck_assert_int_eq(zt_netconf_decode(nc, ans->encoded, ans->encoded_len, &ctl_pub), 0);
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_eq(seen.n_revs, 0);
	usleep(2000);
	ck_assert_int_eq(api("POST", path, "{\"authorized\":false}", NULL), 200);
	ck_assert(fd_readable());
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_eq(seen.n_revs, 1);
	ck_assert_uint_eq(seen.revs[0].member, m1.address);
	ck_assert_uint_eq(seen.revs[0].network_id, nwid);
	ck_assert_int_eq(zt_revocation_verify(&seen.revs[0], &ctl_pub), 0);
	ck_assert(zt_com_revoked(&nc->com, &seen.revs[0]));
	ck_assert_int_eq(zt_ctl_revocations(ctl, nwid, now_ms(), list, 4, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_mem_eq(list[0].signature, seen.revs[0].signature, ZT_SIGNATURE_BYTES);
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_ACCESS_DENIED);
	/* re-authorized: a fresh certificate is past the threshold */
	ck_assert_int_eq(api("POST", path, "{\"authorized\":true}", NULL), 200);
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(zt_netconf_decode(nc, ans->encoded, ans->encoded_len, &ctl_pub), 0);
	ck_assert(!zt_com_revoked(&nc->com, &seen.revs[0]));
	/* deleting an authorized member revokes too */
	ck_assert_int_eq(api("DELETE", path, NULL, NULL), 200);
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_eq(seen.n_revs, 2);
	free(nc);
}
END_TEST

START_TEST(going_private_revokes_members_not_authorized)
{
	uint64_t nwid = make_network("{\"private\":false}");
	char path[96];

	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
	ck_assert_int_eq(ask(nwid, &m2), 0);
	member_path(path, sizeof(path), nwid, &m2);
	/* on a public network first contact authorizes: take m2's away, keep m1 */
	ck_assert_int_eq(api("POST", path, "{\"authorized\":false}", NULL), 200);
	zt_ctl_process(ctl, now_ms());
	seen.n_revs = 0;
	snprintf(path, sizeof(path), "/controller/network/%016llx", (unsigned long long)nwid);
	ck_assert_int_eq(api("POST", path, "{\"private\":true}", NULL), 200);
	zt_ctl_process(ctl, now_ms());
	ck_assert_uint_eq(seen.n_revs, 1);
	ck_assert_uint_eq(seen.revs[0].member, m2.address);
	ck_assert_int_eq(ask(nwid, &m2), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_ACCESS_DENIED);
	ck_assert_int_eq(ask(nwid, &m1), 0);
	ck_assert_int_eq(ans->status, ZT_CTL_OK);
}
END_TEST

static Suite *ctl_config_suite(void)
{
	Suite *s = suite_create("ctl_config");
	TCase *tc = tcase_create("config");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unknown_networks_are_not_found);
	tcase_add_test(tc, private_network_member_awaits_approval_then_gets_a_signed_config);
	tcase_add_test(tc, public_network_admits_anyone);
	tcase_add_test(tc, identities_are_checked);
	tcase_add_test(tc, stranger_validation_is_rate_limited);
	tcase_add_test(tc, deauthorization_and_deletion_revoke);
	tcase_add_test(tc, going_private_revokes_members_not_authorized);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(ctl_config_suite)
