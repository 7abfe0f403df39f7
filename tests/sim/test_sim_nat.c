/*
 * test_sim_nat.c - NAT traversal and path management in the simulator:
 * introductions and hole punching through each NAT kind, relay fallback,
 * failover and healing, NAT rebinding, LAN discovery behind one NAT, losing
 * the roots, and 200 nodes behind mixed NATs.
 */
#include "../unit/check_main.h"
#include "sim.h"

#include <stdio.h>

#define NAT_TIMEOUT_MS 60000

/* Time from the first echo until a reports DIRECT to b, or 0 if not within limit. */
static uint64_t time_to_direct(struct sim *s, struct sim_node *a, struct sim_node *b, uint64_t limit_ms)
{
	uint64_t start = sim_now(s);

	if (!sim_echo(s, a, b, 10000, NULL))
		return 0;
	while (sim_now(s) - start < limit_ms) {
		if (sim_link(s, a, b) == ZT_LINK_DIRECT && sim_link(s, b, a) == ZT_LINK_DIRECT)
			return sim_now(s) - start;
		/* keep a little traffic flowing, as an application would */
		zt_node_echo(a->node, b->id.address, 1, NULL, 0, sim_now(s));
		sim_run_for(s, 100);
	}
	return 0;
}

static struct sim *pair_behind(enum sim_nat_kind ka, enum sim_nat_kind kb, uint64_t seed, uint32_t latency,
			       struct sim_node **a, struct sim_node **b)
{
	struct sim_cfg cfg = {.seed = seed, .latency_ms = latency, .jitter_ms = latency / 4};
	struct sim *s = sim_new(&cfg);
	int na = sim_add_nat(s, ka, NAT_TIMEOUT_MS), nb = sim_add_nat(s, kb, NAT_TIMEOUT_MS);

	sim_add_node(s, true, -1);
	*a = sim_add_node(s, false, na);
	*b = sim_add_node(s, false, nb);
	ck_assert_int_eq(sim_start(s), 0);
	sim_run_for(s, 3000);
	return s;
}

START_TEST(test_port_restricted_pair_goes_direct)
{
	struct sim_node *a, *b;
	struct sim *s = pair_behind(SIM_NAT_PORT_RESTRICTED, SIM_NAT_PORT_RESTRICTED, 11, 40, &a, &b);
	uint64_t t = time_to_direct(s, a, b, 10000);
	enum zt_link link;

	printf("sim: port-restricted <-> port-restricted (40 ms one way): DIRECT after %llu ms\n",
	       (unsigned long long)t);
	ck_assert_uint_gt(t, 0);
	ck_assert(sim_echo(s, a, b, 2000, &link));
	ck_assert_int_eq(link, ZT_LINK_DIRECT);
	sim_free(s);
}
END_TEST

START_TEST(test_each_cone_kind_goes_direct)
{
	static const enum sim_nat_kind kinds[] = {SIM_NAT_NONE, SIM_NAT_FULL_CONE, SIM_NAT_ADDRESS_RESTRICTED,
						  SIM_NAT_PORT_RESTRICTED};

	for (unsigned i = 0; i < ZT_ARRAY_LEN(kinds); i++) {
		struct sim_node *a, *b;
		struct sim *s;
		uint64_t t;

		if (kinds[i] == SIM_NAT_NONE)
			continue;
		s = pair_behind(kinds[i], SIM_NAT_PORT_RESTRICTED, 20 + i, 25, &a, &b);
		t = time_to_direct(s, a, b, 10000);
		printf("sim: %s <-> port-restricted: DIRECT after %llu ms\n", sim_nat_name(kinds[i]),
		       (unsigned long long)t);
		ck_assert_uint_gt(t, 0);
		sim_free(s);
	}
}
END_TEST

START_TEST(test_symmetric_pair_stays_relayed_and_works)
{
	struct sim_node *a, *b;
	struct sim *s = pair_behind(SIM_NAT_SYMMETRIC, SIM_NAT_SYMMETRIC, 12, 20, &a, &b);
	struct zt_peer_info pi;
	enum zt_link link = ZT_LINK_NONE;
	unsigned ok = 0;

	for (int i = 0; i < 20; i++) {
		ok += sim_echo(s, a, b, 3000, &link);
		sim_run_for(s, 500);
	}
	ck_assert_uint_eq(ok, 20);
	ck_assert_int_eq(link, ZT_LINK_RELAY);
	ck_assert_int_eq(zt_node_peer(a->node, b->id.address, sim_now(s), &pi), 0);
	printf("sim: symmetric <-> symmetric: 20/20 echoes via RELAY, reason: %s\n", pi.relay_reason);
	ck_assert_ptr_nonnull(pi.relay_reason);
	sim_free(s);
}
END_TEST

START_TEST(test_cut_direct_path_fails_over_and_heals)
{
	struct sim_node *a, *b;
	struct sim *s = pair_behind(SIM_NAT_PORT_RESTRICTED, SIM_NAT_PORT_RESTRICTED, 13, 10, &a, &b);
	struct zt_endpoint pa, pb;
	uint64_t cut_at, failover = 0, heal_at, back = 0;

	ck_assert_uint_gt(time_to_direct(s, a, b, 10000), 0);
	pa = sim_public_ip(s, a);
	pb = sim_public_ip(s, b);
	sim_block(s, &pa, &pb, true);
	cut_at = sim_now(s);
	/* An application pinging every 200 ms: when do replies come via the relay? */
	while (sim_now(s) - cut_at < 10000) {
		enum zt_link link;
		if (sim_echo(s, a, b, 200, &link) && link == ZT_LINK_RELAY) {
			failover = sim_now(s) - cut_at;
			break;
		}
	}
	printf("sim: direct path cut: traffic on RELAY after %llu ms\n", (unsigned long long)failover);
	ck_assert_uint_gt(failover, 0);
	ck_assert_uint_le(failover, 5000);
	sim_block(s, &pa, &pb, false);
	heal_at = sim_now(s);
	while (sim_now(s) - heal_at < 20000) {
		enum zt_link link;
		if (sim_echo(s, a, b, 200, &link) && link == ZT_LINK_DIRECT) {
			back = sim_now(s) - heal_at;
			break;
		}
		sim_run_for(s, 100);
	}
	printf("sim: cut healed: traffic back on DIRECT after %llu ms\n", (unsigned long long)back);
	ck_assert_uint_gt(back, 0);
	sim_free(s);
}
END_TEST

START_TEST(test_nat_rebinding_keeps_session)
{
	struct sim_node *a, *b;
	struct sim *s = pair_behind(SIM_NAT_PORT_RESTRICTED, SIM_NAT_FULL_CONE, 14, 10, &a, &b);
	struct zt_node_stats before, after;
	unsigned ok = 0;

	ck_assert_uint_gt(time_to_direct(s, a, b, 10000), 0);
	zt_node_get_stats(a->node, &before);
	sim_nat_rebind(s, a->nat);
	for (int i = 0; i < 20; i++)
		ok += sim_echo(s, a, b, 1000, NULL);
	zt_node_get_stats(a->node, &after);
	printf("sim: NAT rebinding mid-session: %u/20 echoes after, new handshakes %llu\n", ok,
	       (unsigned long long)(after.hs_init_tx - before.hs_init_tx));
	ck_assert_uint_ge(ok, 19);
	ck_assert_uint_eq(after.hs_init_tx - before.hs_init_tx, 0);
	ck_assert_int_eq(sim_link(s, b, a), ZT_LINK_DIRECT);
	sim_free(s);
}
END_TEST

START_TEST(test_same_nat_peers_find_each_other_on_lan)
{
	struct sim_cfg cfg = {.seed = 15, .latency_ms = 10};
	struct sim *s = sim_new(&cfg);
	int nat = sim_add_nat(s, SIM_NAT_SYMMETRIC, NAT_TIMEOUT_MS);
	struct sim_node *a, *b;
	struct zt_peer_info pi;

	sim_add_node(s, true, -1);
	a = sim_add_node(s, false, nat);
	b = sim_add_node(s, false, nat);
	ck_assert_int_eq(sim_start(s), 0);
	sim_run_for(s, 3000);
	ck_assert_uint_gt(time_to_direct(s, a, b, 10000), 0);
	ck_assert_int_eq(zt_node_peer(a->node, b->id.address, sim_now(s), &pi), 0);
	for (unsigned i = 0; i < pi.n_paths; i++)
		if (pi.paths[i].preferred)
			ck_assert_int_eq(pi.paths[i].endpoint.addr[0], 10); /* the LAN address */
	printf("sim: two nodes behind one symmetric NAT: DIRECT over the LAN\n");
	sim_free(s);
}
END_TEST

START_TEST(test_losing_all_roots_keeps_direct_sessions)
{
	struct sim_node *a, *b, *root;
	struct sim *s = pair_behind(SIM_NAT_PORT_RESTRICTED, SIM_NAT_PORT_RESTRICTED, 16, 10, &a, &b);
	unsigned ok = 0;

	root = sim_node_at(s, 0);
	ck_assert_uint_gt(time_to_direct(s, a, b, 10000), 0);
	root->down = true;
	for (int i = 0; i < 30; i++) {
		ok += sim_echo(s, a, b, 1000, NULL);
		sim_run_for(s, 5000);
	}
	printf("sim: all roots down for 150 s: %u/30 direct echoes\n", ok);
	ck_assert_uint_eq(ok, 30);
	root->down = false;
	sim_free(s);
}
END_TEST

START_TEST(test_two_roots_failover)
{
	struct sim_cfg cfg = {.seed = 17, .latency_ms = 10};
	struct sim *s = sim_new(&cfg);
	struct sim_node *r1, *a, *b;
	int na, nb;

	na = sim_add_nat(s, SIM_NAT_SYMMETRIC, NAT_TIMEOUT_MS);
	nb = sim_add_nat(s, SIM_NAT_SYMMETRIC, NAT_TIMEOUT_MS);
	r1 = sim_add_node(s, true, -1);
	sim_add_node(s, true, -1);
	a = sim_add_node(s, false, na);
	b = sim_add_node(s, false, nb);
	ck_assert_int_eq(sim_start(s), 0);
	sim_run_for(s, 5000);
	ck_assert(sim_echo(s, a, b, 5000, NULL));
	r1->down = true;
	/* Relayed traffic moves to the other root once the first stops answering. */
	bool ok = false;
	for (int i = 0; i < 60 && !ok; i++)
		ok = sim_echo(s, a, b, 1000, NULL);
	printf("sim: relayed pair, one of two roots down: traffic %s\n", ok ? "moved to the other root" : "lost");
	ck_assert(ok);
	sim_free(s);
}
END_TEST

START_TEST(test_200_nodes_mixed_nats)
{
	static const enum sim_nat_kind kinds[] = {SIM_NAT_NONE, SIM_NAT_FULL_CONE, SIM_NAT_ADDRESS_RESTRICTED,
						  SIM_NAT_PORT_RESTRICTED, SIM_NAT_SYMMETRIC};
	struct sim_cfg cfg = {.seed = 18, .latency_ms = 15, .jitter_ms = 5};
	struct sim *s = sim_new(&cfg);
	unsigned ok = 0, tried = 0, direct = 0;

	sim_add_node(s, true, -1);
	sim_add_node(s, true, -1);
	for (int i = 0; i < 200; i++) {
		enum sim_nat_kind k = kinds[i % ZT_ARRAY_LEN(kinds)];
		sim_add_node(s, false, k == SIM_NAT_NONE ? -1 : sim_add_nat(s, k, NAT_TIMEOUT_MS));
	}
	ck_assert_int_eq(sim_start(s), 0);
	sim_run_for(s, 15000);
	for (unsigned i = 0; i < 100; i++) {
		unsigned x = 2 + (unsigned)(sim_rand(s) % 200), y = 2 + (unsigned)(sim_rand(s) % 200);
		struct sim_node *a = sim_node_at(s, x), *b = sim_node_at(s, y);
		if (x == y)
			continue;
		tried++;
		if (!sim_echo(s, a, b, 15000, NULL))
			continue;
		ok++;
		for (int k = 0; k < 30 && sim_link(s, a, b) != ZT_LINK_DIRECT; k++) {
			zt_node_echo(a->node, b->id.address, 2, NULL, 0, sim_now(s));
			sim_run_for(s, 200);
		}
		direct += sim_link(s, a, b) == ZT_LINK_DIRECT;
	}
	printf("sim: 200 nodes behind mixed NATs, 2 roots: %u/%u sampled pairs reached, %u%% DIRECT\n", ok, tried,
	       tried ? direct * 100 / tried : 0);
	ck_assert_uint_eq(ok, tried);
	/* Only pairs involving a symmetric NAT with a restricted/symmetric partner must relay. */
	ck_assert_uint_ge(direct * 100, tried * 50);
	sim_free(s);
}
END_TEST

static Suite *sim_nat_suite(void)
{
	Suite *s = suite_create("sim_nat");
	TCase *tc = tcase_create("nat");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_port_restricted_pair_goes_direct);
	tcase_add_test(tc, test_each_cone_kind_goes_direct);
	tcase_add_test(tc, test_symmetric_pair_stays_relayed_and_works);
	tcase_add_test(tc, test_cut_direct_path_fails_over_and_heals);
	tcase_add_test(tc, test_nat_rebinding_keeps_session);
	tcase_add_test(tc, test_same_nat_peers_find_each_other_on_lan);
	tcase_add_test(tc, test_losing_all_roots_keeps_direct_sessions);
	tcase_add_test(tc, test_two_roots_failover);
	tcase_add_test(tc, test_200_nodes_mixed_nats);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(sim_nat_suite)
