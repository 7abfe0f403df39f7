/*
 * test_sim_restart.c - a node crashes and comes back (issue 12, item 5): with
 * its peer cache it sets up sessions and exchanges certificates with the
 * members it knew before its port counts as up, so the first frame in either
 * direction after "TAP up" is delivered and nothing is dropped; the first
 * handshake to the root and the first config request retry within a second
 * when one datagram of theirs is lost.
 */
#include "../unit/check_main.h"
#include "sim.h"
#include "peer_cache.h"

#include <stdio.h>
#include <string.h>

/* The test controller: everyone is a member, 10.147.0.<index>. */
static int test_controller(struct sim_node *self, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			   struct zt_vl2_answer *ans)
{
	static struct zt_netconf nc;
	static uint64_t revision;

	zt_netconf_init(&nc, nwid, member->address);
	snprintf(nc.name, sizeof(nc.name), "restartnet");
	nc.revision = ++revision;
	nc.issued_ms = now_ms;
	nc.enable_broadcast = true;
	ans->status = ZT_NETCONF_OK;
	return zt_netconf_sign(&nc, &self->id, ans->conf, ZT_NETCONF_MAX_BYTES, &ans->conf_len);
}

/* What ztd does: the node's session hook goes to VL2 (our certificate first). */
static void session_hook(void *ctx, uint64_t peer, uint64_t now_ms)
{
	struct sim_node *n = ctx;

	if (n->vl2)
		zt_vl2_session_up(n->vl2, peer, now_ms);
}

static void wire_hooks(struct sim *s)
{
	for (unsigned i = 0; i < sim_node_count(s); i++)
		zt_node_set_session_hook(sim_node_at(s, i)->node, session_hook, sim_node_at(s, i));
}

/* root 0, controller 1, members 2.. (each behind its own port-restricted NAT). */
static struct sim *world(uint64_t seed, unsigned members, uint64_t *nwid)
{
	struct sim_cfg cfg = {.seed = seed, .latency_ms = 10, .jitter_ms = 2};
	struct sim *s = sim_new(&cfg);
	struct sim_node *ctl;

	sim_add_node(s, true, -1);
	ctl = sim_add_node(s, false, sim_add_nat(s, SIM_NAT_PORT_RESTRICTED, 60000));
	for (unsigned i = 0; i < members; i++)
		sim_add_node(s, false, sim_add_nat(s, SIM_NAT_PORT_RESTRICTED, 60000));
	ck_assert_int_eq(sim_start(s), 0);
	wire_hooks(s);
	ctl->controller = test_controller;
	*nwid = ctl->id.address << 24 | 0x000077;
	sim_run_for(s, 2000);
	return s;
}

static bool net_ok(struct sim_node *n, uint64_t nwid)
{
	struct zt_net_info ni;

	return zt_vl2_info(n->vl2, nwid, &ni) == 0 && ni.status == ZT_NET_OK;
}

static void join_all(struct sim *s, uint64_t nwid)
{
	for (unsigned i = 1; i < sim_node_count(s); i++)
		zt_vl2_join(sim_node_at(s, i)->vl2, nwid, sim_now(s));
	sim_run_for(s, 3000);
	for (unsigned i = 1; i < sim_node_count(s); i++)
		ck_assert(net_ok(sim_node_at(s, i), nwid));
}

/* A unicast frame from a's member MAC to b's, delivered through a's VL2. */
static void send_frame(struct sim *s, struct sim_node *a, struct sim_node *b, uint64_t nwid, uint8_t tag)
{
	uint8_t f[64];

	zt_vl2_member_mac(f, b->id.address, nwid);
	zt_vl2_member_mac(f + 6, a->id.address, nwid);
	f[12] = 0x08, f[13] = 0x00;
	memset(f + 14, tag, sizeof(f) - 14);
	zt_vl2_frame_from_port(a->vl2, nwid, f, sizeof(f), sim_now(s));
}

/* What ztd writes at shutdown (and every minute): known peers, their paths, the networks they are members of. */
static size_t write_cache(struct sim_node *n, uint64_t nwid, uint8_t *out, size_t cap, uint64_t now_ms)
{
	static struct zt_peer_info info[16];
	struct zt_peer_cache_entry e[16];
	size_t count = zt_node_peers(n->node, now_ms, info, 16), len = 0;
	unsigned k = 0;

	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < count; i++) {
		if (info[i].is_root || zt_node_peer_identity(n->node, info[i].address, &e[k].id) < 0)
			continue;
		for (unsigned p = 0; p < info[i].n_paths && e[k].n_eps < ZT_PEER_CACHE_ENDPOINTS; p++)
			e[k].eps[e[k].n_eps++] = info[i].paths[p].endpoint;
		if (zt_vl2_member_verified(n->vl2, nwid, info[i].address))
			e[k].nets[e[k].n_nets++] = nwid;
		e[k].last_seen_ms = now_ms;
		k++;
	}
	ck_assert_int_eq(zt_peer_cache_encode(e, k, out, cap, &len), 0);
	return len;
}

/* What ztd does at start: seed every cached peer, expect the members of our networks. */
static unsigned read_cache(struct sim_node *n, const uint8_t *in, size_t len, uint64_t *members, uint64_t now_ms)
{
	struct zt_peer_cache_entry e[16];
	unsigned count, cut, m = 0;

	ck_assert_int_eq(zt_peer_cache_decode(in, len, e, 16, &count, &cut), 0);
	for (unsigned i = 0; i < count; i++) {
		ck_assert_int_eq(zt_node_seed_peer(n->node, &e[i].id, e[i].eps, e[i].n_eps, now_ms), 0);
		for (unsigned k = 0; k < e[i].n_nets; k++) {
			ck_assert_int_eq(zt_vl2_expect_member(n->vl2, e[i].nets[k], e[i].id.address, now_ms), 0);
			members[m++] = e[i].id.address;
		}
	}
	return m;
}

/* ztd's rule for bringing the TAP up: every cached member has a session and a verified certificate. */
static bool port_ready(struct sim_node *n, uint64_t nwid, const uint64_t *members, unsigned count, uint64_t now_ms)
{
	if (!net_ok(n, nwid))
		return false;
	for (unsigned i = 0; i < count; i++)
		if (zt_node_session_age_ms(n->node, members[i], now_ms) < 0 ||
		    !zt_vl2_member_verified(n->vl2, nwid, members[i]))
			return false;
	return true;
}

static uint64_t frame_drops(struct sim_node *n, uint64_t nwid)
{
	struct zt_net_info ni;
	struct zt_node_stats st;

	zt_vl2_info(n->vl2, nwid, &ni);
	zt_node_get_stats(n->node, &st);
	return ni.stats.drop_no_com + ni.stats.drop_queue + ni.stats.drop_not_member + st.drop_unknown_index +
	       st.pending_dropped;
}

/* Restart a; wait for its port the way ztd does; then one frame each way. */
static void restart_and_exchange(uint64_t seed, bool with_cache, uint64_t *ready_ms, bool *a_got, bool *b_got,
				 uint64_t *drops)
{
	static uint8_t cache[8192];
	uint64_t nwid, members[16], t0, a_rx, b_rx, before;
	struct sim *s = world(seed, 2, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3);
	unsigned n_members = 0;
	size_t cache_len;

	join_all(s, nwid);
	send_frame(s, a, b, nwid, 1);
	sim_run_for(s, 500);
	send_frame(s, b, a, nwid, 2);
	sim_run_for(s, 500);
	ck_assert_uint_eq(a->frames_rx, 1);
	ck_assert_uint_eq(b->frames_rx, 1);
	cache_len = write_cache(a, nwid, cache, sizeof(cache), sim_now(s));

	/* SIGKILL: sessions gone; b still holds its old session with a. */
	ck_assert_int_eq(sim_restart(s, a), 0);
	t0 = sim_now(s);
	zt_node_set_session_hook(a->node, session_hook, a);
	zt_vl2_join(a->vl2, nwid, sim_now(s));
	if (with_cache)
		n_members = read_cache(a, cache, cache_len, members, sim_now(s));
	while (sim_now(s) - t0 < ZT_RESTART_PORT_WAIT_MS + 5000 &&
	       !(with_cache ? port_ready(a, nwid, members, n_members, sim_now(s)) &&
				      sim_now(s) - t0 < ZT_RESTART_PORT_WAIT_MS
			    : net_ok(a, nwid)))
		sim_run_for(s, 5);
	*ready_ms = sim_now(s) - t0;
	/* "TAP up": the first frames, both ways at once. */
	a_rx = a->frames_rx;
	b_rx = b->frames_rx;
	before = frame_drops(a, nwid) + frame_drops(b, nwid);
	send_frame(s, b, a, nwid, 3);
	send_frame(s, a, b, nwid, 4);
	sim_run_for(s, 1000);
	*a_got = a->frames_rx == a_rx + 1;
	*b_got = b->frames_rx == b_rx + 1;
	*drops = frame_drops(a, nwid) + frame_drops(b, nwid) - before;
	sim_free(s);
}

START_TEST(test_restart_with_cache_first_frames_delivered)
{
	uint64_t ready_ms, drops, base_ready, base_drops;
	bool a_got, b_got, base_a, base_b;

	restart_and_exchange(91, false, &base_ready, &base_a, &base_b, &base_drops);
	printf("figure: restart without peer cache: config after %llu ms, first frame to the restarted node %s, "
	       "from it %s, %llu dropped\n",
	       (unsigned long long)base_ready, base_a ? "delivered" : "LOST", base_b ? "delivered" : "LOST",
	       (unsigned long long)base_drops);
	restart_and_exchange(91, true, &ready_ms, &a_got, &b_got, &drops);
	printf("figure: restart with peer cache: port ready after %llu ms (sessions and certificates with the cached "
	       "members), first frames delivered both ways: %s/%s, %llu dropped\n",
	       (unsigned long long)ready_ms, a_got ? "yes" : "no", b_got ? "yes" : "no", (unsigned long long)drops);
	ck_assert(a_got);
	ck_assert(b_got);
	ck_assert_uint_eq(drops, 0);
	ck_assert_uint_lt(ready_ms, ZT_RESTART_PORT_WAIT_MS);
	printf("sim: restart with peer cache: first frame after port up answered both ways, none dropped\n");
}
END_TEST

/* Drop the first n datagrams from `from` (header source address) of a type, at least min_len long. */
struct dropper {
	uint64_t src;
	uint8_t type;
	size_t min_len;
	unsigned left;
	unsigned dropped;
};

static uint64_t hdr_src(const uint8_t *d)
{
	uint64_t a = 0;

	for (int i = 0; i < 5; i++)
		a = a << 8 | d[9 + i];
	return a;
}

static bool drop_first(void *ctx, const struct zt_endpoint *from, const struct zt_endpoint *to, const uint8_t *data,
		       size_t len)
{
	struct dropper *d = ctx;

	(void)from, (void)to;
	if (!d->left || len < ZT_HDR_BYTES || len < d->min_len || data[1] != d->type || hdr_src(data) != d->src)
		return true;
	d->left--;
	d->dropped++;
	return false;
}

/* Time from a's restart until its network is OK again, with the first `what` datagram lost. */
static uint64_t config_after_loss(uint64_t seed, bool drop_root_init, struct dropper *d)
{
	uint64_t nwid, t0;
	struct sim *s = world(seed, 1, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *ctl = sim_node_at(s, 1);

	join_all(s, nwid);
	ck_assert_int_eq(sim_restart(s, a), 0);
	zt_node_set_session_hook(a->node, session_hook, a);
	memset(d, 0, sizeof(*d));
	d->left = 1;
	if (drop_root_init) {
		d->src = a->id.address; /* a's first HS_INIT (to the root: it starts with HELLO) */
		d->type = ZT_PKT_HS_INIT;
	} else {
		d->src = ctl->id.address; /* the controller's first NETCONF answer (the one big DATA) */
		d->type = ZT_PKT_DATA;
		d->min_len = 300;
	}
	sim_set_tap(s, drop_first, d);
	t0 = sim_now(s);
	zt_vl2_join(a->vl2, nwid, sim_now(s));
	while (!net_ok(a, nwid) && sim_now(s) - t0 < 10000)
		sim_run_for(s, 5);
	t0 = sim_now(s) - t0;
	sim_free(s);
	return t0;
}

START_TEST(test_first_root_handshake_and_config_request_retry_early)
{
	struct dropper d;
	uint64_t hs_ms = config_after_loss(92, true, &d);
	unsigned hs_dropped = d.dropped;
	uint64_t conf_ms = config_after_loss(93, false, &d);

	printf("figure: restart, first handshake to the root lost: config after %llu ms (was > %u ms)\n",
	       (unsigned long long)hs_ms, ZT_REKEY_TIMEOUT_MS);
	printf("figure: restart, first config answer lost: config after %llu ms (was > %u ms)\n",
	       (unsigned long long)conf_ms, ZT_NETCONF_RETRY_MS);
	ck_assert_uint_eq(hs_dropped, 1);
	ck_assert_uint_eq(d.dropped, 1);
	ck_assert_uint_lt(hs_ms, 1000);
	ck_assert_uint_lt(conf_ms, 1000);
	printf("sim: restart: a lost first root handshake or config answer costs under a second\n");
}
END_TEST

/*
 * A member's frame that arrives before its certificate checked out is held,
 * then delivered: a's first certificate to b is lost, its COM_REQUEST arrives,
 * then its frame; b holds the frame, asks, and delivers it once a's certificate
 * has come. (Before: dropped, drop_no_com.)
 */
START_TEST(test_frame_before_certificate_held_then_delivered)
{
	uint64_t nwid;
	struct sim *s = world(94, 2, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3);
	/* The certificate is the only DATA message from a above 150 bytes here (a frame is ~110). */
	struct dropper d = {.type = ZT_PKT_DATA, .min_len = 150, .left = 1};
	struct zt_net_info ib;

	join_all(s, nwid);
	d.src = a->id.address;
	sim_set_tap(s, drop_first, &d);
	send_frame(s, a, b, nwid, 5);
	sim_run_for(s, 2000);
	zt_vl2_info(b->vl2, nwid, &ib);
	printf("figure: first certificate lost: the frame behind it %s at b (drop_no_com %llu, dropped datagrams %u)\n",
	       b->frames_rx == 1 ? "held and delivered" : "LOST", (unsigned long long)ib.stats.drop_no_com, d.dropped);
	ck_assert_uint_eq(d.dropped, 1);
	ck_assert_uint_eq(b->frames_rx, 1);
	ck_assert_uint_eq(ib.stats.drop_no_com, 0);
	ck_assert_uint_eq(ib.stats.drop_queue, 0);
	printf("sim: frame before the sender's certificate: held and delivered\n");
	sim_free(s);
}
END_TEST

/*
 * Both sides start a session at once (a restarted node and a peer that has
 * traffic for it): each installs the other's responder keypair and then its
 * own initiator one. Messages under either must open (before: the responder
 * keypair was dropped and both first frames were lost).
 */
START_TEST(test_simultaneous_handshakes_lose_nothing)
{
	uint64_t nwid;
	struct sim *s = world(95, 2, &nwid);
	struct sim_node *a = sim_node_at(s, 2), *b = sim_node_at(s, 3);

	join_all(s, nwid);
	send_frame(s, a, b, nwid, 6);
	send_frame(s, b, a, nwid, 7);
	sim_run_for(s, 1000);
	printf("figure: simultaneous first frames both ways: a got %llu, b got %llu (of 1 each)\n",
	       (unsigned long long)a->frames_rx, (unsigned long long)b->frames_rx);
	ck_assert_uint_eq(a->frames_rx, 1);
	ck_assert_uint_eq(b->frames_rx, 1);
	printf("sim: both sides started a session at once: first frames delivered both ways\n");
	sim_free(s);
}
END_TEST

static Suite *sim_restart_suite(void)
{
	Suite *s = suite_create("sim_restart");
	TCase *tc = tcase_create("restart");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_restart_with_cache_first_frames_delivered);
	tcase_add_test(tc, test_first_root_handshake_and_config_request_retry_early);
	tcase_add_test(tc, test_frame_before_certificate_held_then_delivered);
	tcase_add_test(tc, test_simultaneous_handshakes_lose_nothing);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(sim_restart_suite)
