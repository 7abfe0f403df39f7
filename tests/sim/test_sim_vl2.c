/*
 * test_sim_vl2.c - virtual Ethernet in the simulator: joining through a
 * controller (signed configs), ARP to the owner only, broadcast, multicast by
 * subscription, certificates keeping non-members out, revocation, bridging.
 */
#include "../unit/check_main.h"
#include "sim.h"

#include <stdio.h>
#include <string.h>

/* The test controller: authorizes everyone but `denied`, marks `bridge`, assigns 10.147.0.<index>. */
struct test_ctl {
	uint64_t denied;
	uint64_t awaiting;
	uint64_t bridge;
	uint64_t revision;
	const char *rules;   /* rules source for every member's config, NULL none */
	uint64_t tagged;     /* this member gets tag 7 = 1 */
};

static uint8_t host_of(struct sim *s, uint64_t address)
{
	for (unsigned i = 0; i < sim_node_count(s); i++)
		if (sim_node_at(s, i)->id.address == address)
			return (uint8_t)(10 + i);
	return 250;
}

static int test_controller(struct sim_node *self, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			   struct zt_vl2_answer *ans)
{
	struct test_ctl *tc = self->controller_ctx;
	static struct zt_netconf nc;

	if (member->address == tc->denied) {
		ans->status = ZT_NETCONF_ACCESS_DENIED;
		snprintf(ans->reason, sizeof(ans->reason), "deauthorized by the test");
		return 0;
	}
	if (member->address == tc->awaiting) {
		ans->status = ZT_NETCONF_AWAITING_APPROVAL;
		snprintf(ans->reason, sizeof(ans->reason), "awaiting approval");
		return 0;
	}
	zt_netconf_init(&nc, nwid, member->address);
	snprintf(nc.name, sizeof(nc.name), "simnet");
	nc.revision = ++tc->revision;
	nc.issued_ms = now_ms;
	nc.enable_broadcast = true;
	nc.bridge = member->address == tc->bridge;
	nc.n_ips = 1;
	nc.ips[0].family = 4;
	nc.ips[0].addr[0] = 10;
	nc.ips[0].addr[1] = 147;
	nc.ips[0].addr[3] = host_of(self->sim, member->address);
	nc.ips[0].prefix_len = 24;
	if (member->address == tc->tagged) {
		nc.n_tags = 1;
		nc.tags[0].id = 7;
		nc.tags[0].value = 1;
	}
	if (tc->rules) {
		size_t len = 0;
		struct zt_rules_error err;
		if (zt_rules_compile(tc->rules, strlen(tc->rules), nc.rules, sizeof(nc.rules), &len, &err) < 0)
			return ZT_EINVAL;
		nc.rules_len = (uint16_t)len;
	}
	ans->status = ZT_NETCONF_OK;
	return zt_netconf_sign(&nc, &self->id, ans->conf, ZT_NETCONF_MAX_BYTES, &ans->conf_len);
}

static struct sim *vl2_world(uint64_t seed, unsigned members, struct test_ctl *tc, uint64_t *nwid)
{
	struct sim_cfg cfg = {.seed = seed, .latency_ms = 10};
	struct sim *s = sim_new(&cfg);
	struct sim_node *ctl;

	sim_add_node(s, true, -1);
	ctl = sim_add_node(s, false, sim_add_nat(s, SIM_NAT_PORT_RESTRICTED, 60000));
	for (unsigned i = 0; i < members; i++)
		sim_add_node(s, false, sim_add_nat(s, SIM_NAT_PORT_RESTRICTED, 60000));
	ck_assert_int_eq(sim_start(s), 0);
	ctl->controller = test_controller;
	ctl->controller_ctx = tc;
	*nwid = ctl->id.address << 24 | 0x000042;
	sim_run_for(s, 2000);
	return s;
}

static void arp_request(uint8_t *f, const uint8_t src_mac[6], uint8_t src_host, uint8_t target_host)
{
	static const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
	memset(f, 0xff, 6);
	memcpy(f + 6, src_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, hdr, sizeof(hdr));
	memcpy(f + 22, src_mac, 6);
	f[28] = 10, f[29] = 147, f[30] = 0, f[31] = src_host;
	memset(f + 32, 0, 6);
	f[38] = 10, f[39] = 147, f[40] = 0, f[41] = target_host;
}

static bool join_all(struct sim *s, uint64_t nwid, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		zt_vl2_join(sim_node_at(s, i)->vl2, nwid, sim_now(s));
	for (int k = 0; k < 100; k++) {
		bool all = true;
		sim_run_for(s, 100);
		for (unsigned i = from; i < to; i++) {
			struct zt_net_info ni;
			zt_vl2_info(sim_node_at(s, i)->vl2, nwid, &ni);
			all = all && ni.status == ZT_NET_OK;
		}
		if (all)
			return true;
	}
	return false;
}

static void send_frame(struct sim *s, struct sim_node *n, uint64_t nwid, const uint8_t *f, size_t len)
{
	zt_vl2_frame_from_port(n->vl2, nwid, f, len, sim_now(s));
	sim_run_for(s, 500);
}

START_TEST(test_join_unicast_arp_broadcast)
{
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(31, 3, &tc, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3), *c = sim_node_at(s, 4);
	struct zt_net_info ia;
	uint8_t f[64], mac_a[6], mac_b[6];

	ck_assert(join_all(s, nwid, 1, 5));
	zt_vl2_info(a->vl2, nwid, &ia);
	ck_assert_str_eq(ia.conf->name, "simnet");
	zt_vl2_member_mac(mac_a, a->id.address, nwid);
	zt_vl2_member_mac(mac_b, b->id.address, nwid);
	ck_assert_uint_eq(zt_vl2_mac_member(mac_b, nwid), b->id.address);
	ck_assert(memcmp(ia.mac, mac_a, 6) == 0);

	/* ARP for b's address reaches b only. */
	arp_request(f, mac_a, host_of(s, a->id.address), host_of(s, b->id.address));
	send_frame(s, a, nwid, f, 42);
	ck_assert_uint_eq(b->frames_rx, 1);
	ck_assert_uint_eq(c->frames_rx, 0);
	ck_assert(memcmp(b->last_frame, f, 42) == 0);

	/* Unicast a -> b (compact FRAME) arrives intact. */
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08, f[13] = 0x00;
	memset(f + 14, 0x5a, 50);
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 2);
	ck_assert(memcmp(b->last_frame, f, 64) == 0);

	/* Broadcast (not ARP) reaches everyone else. */
	memset(f, 0xff, 6);
	f[12] = 0x08, f[13] = 0x00;
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 3);
	ck_assert_uint_eq(c->frames_rx, 1);
	printf("sim: VL2: 4 members joined, ARP to its owner only, unicast and broadcast delivered\n");
	sim_free(s);
}
END_TEST

START_TEST(test_multicast_by_subscription)
{
	static const uint8_t mdns_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(32, 3, &tc, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3), *c = sim_node_at(s, 4);
	uint8_t f[64] = {0};

	ck_assert(join_all(s, nwid, 1, 5));
	zt_vl2_set_port_state(b->vl2, nwid, &mdns_mac, 1, NULL, 0, sim_now(s));
	sim_run_for(s, 500);
	memcpy(f, mdns_mac, 6);
	zt_vl2_member_mac(f + 6, a->id.address, nwid);
	f[12] = 0x08;
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 1);
	ck_assert_uint_eq(c->frames_rx, 0);
	printf("sim: VL2: mDNS group frame reached the subscriber only\n");
	sim_free(s);
}
END_TEST

START_TEST(test_non_member_cannot_send_or_receive)
{
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(33, 3, &tc, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3), *x = sim_node_at(s, 4);
	struct zt_net_info ix, ib;
	uint8_t f[64] = {0}, msg[80];

	tc.denied = x->id.address;
	ck_assert(join_all(s, nwid, 1, 4));
	zt_vl2_join(x->vl2, nwid, sim_now(s));
	sim_run_for(s, 3000);
	zt_vl2_info(x->vl2, nwid, &ix);
	ck_assert_int_eq(ix.status, ZT_NET_ACCESS_DENIED);
	/* x forges a FRAME to b straight over VL1: b has no certificate for x and drops it. */
	msg[0] = 0;
	for (int i = 0; i < 8; i++)
		msg[i] = (uint8_t)(nwid >> (56 - 8 * i));
	msg[8] = 0x08, msg[9] = 0x00;
	memset(msg + 10, 0x11, 60);
	zt_node_send(x->node, b->id.address, ZT_VERB_FRAME, msg, 70, sim_now(s));
	sim_run_for(s, 1000);
	zt_vl2_info(b->vl2, nwid, &ib);
	ck_assert_uint_eq(b->frames_rx, 0);
	ck_assert_uint_ge(ib.stats.drop_no_com, 1);
	/* And a broadcast from a never reaches x. */
	memset(f, 0xff, 6);
	zt_vl2_member_mac(f + 6, a->id.address, nwid);
	f[12] = 0x08;
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(x->frames_rx, 0);
	ck_assert_uint_eq(b->frames_rx, 1);
	printf("sim: VL2: denied node: status ACCESS_DENIED, its forged frame dropped (no certificate: %llu)\n",
	       (unsigned long long)ib.stats.drop_no_com);
	sim_free(s);
}
END_TEST

START_TEST(test_awaiting_approval_reason)
{
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(34, 1, &tc, &nwid);
	struct sim_node *a = sim_node_at(s, 2);
	struct zt_net_info ia;

	tc.awaiting = a->id.address;
	zt_vl2_join(a->vl2, nwid, sim_now(s));
	sim_run_for(s, 3000);
	zt_vl2_info(a->vl2, nwid, &ia);
	ck_assert_int_eq(ia.status, ZT_NET_REQUESTING);
	ck_assert(strstr(ia.reason, "awaiting approval since") != NULL);
	tc.awaiting = 0; /* approved: the next request (every 2 s) gets the config */
	sim_run_for(s, 3000);
	zt_vl2_info(a->vl2, nwid, &ia);
	ck_assert_int_eq(ia.status, ZT_NET_OK);
	sim_free(s);
}
END_TEST

START_TEST(test_revocation_cuts_member_off)
{
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(35, 2, &tc, &nwid);
	struct sim_node *ctl = sim_node_at(s, 1), *a = sim_node_at(s, 2), *b = sim_node_at(s, 3);
	struct zt_revocation rev = {0};
	uint64_t members[2];
	uint8_t f[64] = {0};

	ck_assert(join_all(s, nwid, 1, 4));
	zt_vl2_member_mac(f, b->id.address, nwid);
	zt_vl2_member_mac(f + 6, a->id.address, nwid);
	f[12] = 0x08;
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 1);
	/* Revoke a: b must drop a's frames from now on. */
	rev.network_id = nwid;
	rev.member = a->id.address;
	rev.threshold_ms = sim_now(s);
	ck_assert_int_eq(zt_revocation_sign(&rev, &ctl->id), 0);
	members[0] = a->id.address;
	members[1] = b->id.address;
	tc.denied = a->id.address;
	zt_vl2_controller_revoke(ctl->vl2, &rev, members, 2, sim_now(s));
	sim_run_for(s, 500);
	send_frame(s, a, nwid, f, 64);
	sim_run_for(s, 3000);
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 1);
	printf("sim: VL2: revoked member's frames dropped\n");
	sim_free(s);
}
END_TEST

START_TEST(test_bridge_foreign_macs)
{
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(36, 3, &tc, &nwid);
	struct sim_node *br = sim_node_at(s, 2), *b = sim_node_at(s, 3), *c = sim_node_at(s, 4);
	static const uint8_t lan_host[6] = {0x00, 0x16, 0x3e, 0x11, 0x22, 0x33};
	struct zt_net_info ib, ic;
	uint8_t f[64] = {0};

	tc.bridge = br->id.address;
	ck_assert(join_all(s, nwid, 1, 5));
	/* A LAN host behind the bridge broadcasts; members receive it and learn where it lives. */
	memset(f, 0xff, 6);
	memcpy(f + 6, lan_host, 6);
	f[12] = 0x08;
	send_frame(s, br, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 1);
	/* b answers the LAN host by unicast: it goes to the bridge. */
	memcpy(f, lan_host, 6);
	zt_vl2_member_mac(f + 6, b->id.address, nwid);
	send_frame(s, b, nwid, f, 64);
	ck_assert_uint_eq(br->frames_rx, 1);
	ck_assert(memcmp(br->last_frame, lan_host, 6) == 0);
	/* c is no bridge: a foreign source MAC from c is refused at c already. */
	memset(f, 0xff, 6);
	memcpy(f + 6, lan_host, 6);
	send_frame(s, c, nwid, f, 64);
	zt_vl2_info(c->vl2, nwid, &ic);
	ck_assert_uint_ge(ic.stats.drop_foreign_mac, 1);
	zt_vl2_info(b->vl2, nwid, &ib);
	ck_assert_uint_eq(b->frames_rx, 1);
	printf("sim: VL2: bridge forwards foreign MACs (learned), non-bridge foreign MAC dropped\n");
	sim_free(s);
}
END_TEST

START_TEST(test_large_frames_cross_fragmented)
{
	static const size_t sizes[] = {60, 1400, 1514, 2000, 2790, 2814, 2818}; /* up to MTU + VLAN tag */
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(37, 2, &tc, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3);
	static uint8_t f[3000];
	struct zt_node_stats st;

	ck_assert(join_all(s, nwid, 1, 4));
	for (unsigned k = 0; k < ZT_ARRAY_LEN(sizes); k++) {
		size_t len = sizes[k] < sizeof(b->last_frame) ? sizes[k] : sizeof(b->last_frame);
		uint64_t before = b->frames_rx;
		zt_vl2_member_mac(f, b->id.address, nwid);
		zt_vl2_member_mac(f + 6, a->id.address, nwid);
		f[12] = 0x08, f[13] = 0x00;
		for (size_t i = 14; i < sizes[k]; i++)
			f[i] = (uint8_t)(i * 7 + k);
		send_frame(s, a, nwid, f, sizes[k]);
		ck_assert_uint_eq(b->frames_rx, before + 1);
		ck_assert(memcmp(b->last_frame, f, len) == 0);
	}
	zt_node_get_stats(b->node, &st);
	printf("sim: VL2: frames of 60..2818 bytes crossed in %llu fragments, %llu reassembled\n",
	       (unsigned long long)st.fragments_rx, (unsigned long long)st.reassembled);
	ck_assert_uint_ge(st.reassembled, 5);
	sim_free(s);
}
END_TEST

START_TEST(test_root_refuses_non_member_subscriptions)
{
	struct test_ctl tc = {0};
	uint64_t nwid;
	struct sim *s = vl2_world(38, 2, &tc, &nwid);
	struct sim_node *root = sim_node_at(s, 0), *x = sim_node_at(s, 3);
	struct zt_node_stats before, after;
	uint8_t body[8 + ZT_COM_BYTES + 2 + 10] = {0};

	tc.denied = x->id.address;
	ck_assert(join_all(s, nwid, 1, 3));
	zt_node_get_stats(root->node, &before);
	/* x is no member: it claims the broadcast group with a made-up certificate. */
	for (int i = 0; i < 8; i++)
		body[i] = (uint8_t)(nwid >> (56 - 8 * i));
	memset(body + 8, 0x5a, ZT_COM_BYTES);
	body[8 + ZT_COM_BYTES + 1] = 1;
	memset(body + 8 + ZT_COM_BYTES + 2, 0xff, 6);
	zt_node_send(x->node, root->id.address, ZT_VERB_MULTICAST_LIKE, body, sizeof(body), sim_now(s));
	sim_run_for(s, 1000);
	zt_node_get_stats(root->node, &after);
	ck_assert_uint_eq(after.drop_mcast_refused - before.drop_mcast_refused, 1);
	printf("sim: VL2: root refused a subscription without a valid membership certificate\n");
	sim_free(s);
}
END_TEST

/* One daemon that is root and controller: its own members' subscriptions count. */
START_TEST(test_root_that_is_also_controller)
{
	struct sim_cfg cfg = {.seed = 39, .latency_ms = 10};
	struct sim *s = sim_new(&cfg);
	struct test_ctl tc = {0};
	struct sim_node *rc, *a, *b;
	uint8_t f[64] = {0};
	uint64_t nwid;

	rc = sim_add_node(s, true, -1);
	a = sim_add_node(s, false, sim_add_nat(s, SIM_NAT_PORT_RESTRICTED, 60000));
	b = sim_add_node(s, false, sim_add_nat(s, SIM_NAT_PORT_RESTRICTED, 60000));
	ck_assert_int_eq(sim_start(s), 0);
	rc->controller = test_controller;
	rc->controller_ctx = &tc;
	nwid = rc->id.address << 24 | 0x000043;
	sim_run_for(s, 2000);
	ck_assert(join_all(s, nwid, 1, 3));
	memset(f, 0xff, 6);
	zt_vl2_member_mac(f + 6, a->id.address, nwid);
	f[12] = 0x08;
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(b->frames_rx, 1);
	printf("sim: VL2: a root that is also the controller: broadcast between its members works\n");
	sim_free(s);
}
END_TEST

/* A receiver's rules see the sender's tags: they travel in a controller-signed credential. */
START_TEST(test_rules_match_the_remote_senders_tags)
{
	struct test_ctl tc = {.rules = "accept arp;\naccept sender-tag 7 1;\ndrop;\n"};
	uint64_t nwid;
	struct sim *s = vl2_world(40, 3, &tc, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3), *c = sim_node_at(s, 4);
	struct zt_net_info ib;
	uint8_t f[64] = {0};

	tc.tagged = a->id.address;
	ck_assert(join_all(s, nwid, 1, 5));
	/* a (tag 7 = 1) sends c a frame: c's inbound rules accept it only if c knows a's tag. */
	zt_vl2_member_mac(f, c->id.address, nwid);
	f[12] = 0x08;
	zt_vl2_member_mac(f + 6, a->id.address, nwid);
	send_frame(s, a, nwid, f, 64);
	ck_assert_uint_eq(c->frames_rx, 1);
	/* b has no tag: its own outbound evaluation already refuses the frame. */
	zt_vl2_member_mac(f + 6, b->id.address, nwid);
	send_frame(s, b, nwid, f, 64);
	ck_assert_uint_eq(c->frames_rx, 1);
	zt_vl2_info(b->vl2, nwid, &ib);
	ck_assert_uint_ge(ib.stats.drop_rules_out, 1);
	printf("sim: VL2: rules on the receiver matched the remote sender's tag (credential): tagged sender accepted, untagged one refused\n");
	sim_free(s);
}
END_TEST

static Suite *sim_vl2_suite(void)
{
	Suite *s = suite_create("sim_vl2");
	TCase *tc = tcase_create("vl2");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_join_unicast_arp_broadcast);
	tcase_add_test(tc, test_multicast_by_subscription);
	tcase_add_test(tc, test_non_member_cannot_send_or_receive);
	tcase_add_test(tc, test_awaiting_approval_reason);
	tcase_add_test(tc, test_revocation_cuts_member_off);
	tcase_add_test(tc, test_bridge_foreign_macs);
	tcase_add_test(tc, test_large_frames_cross_fragmented);
	tcase_add_test(tc, test_root_refuses_non_member_subscriptions);
	tcase_add_test(tc, test_root_that_is_also_controller);
	tcase_add_test(tc, test_rules_match_the_remote_senders_tags);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(sim_vl2_suite)
