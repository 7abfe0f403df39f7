/*
 * sim.c - the simulator: a binary heap of timed events (datagram deliveries
 * and node ticks), a seeded xoshiro256** PRNG that also feeds every node's
 * random callback, and NAT boxes that translate endpoints. Single-threaded
 * and allocation-happy: it is a test harness, not the data path.
 */
#include "sim.h"
#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_NAT_MAPPINGS 4096

struct sim_event {
	uint64_t at;
	uint64_t seq;
	int node; /* tick: node index; delivery: -1 */
	struct zt_endpoint from, to;
	uint8_t *data;
	size_t len;
};

struct sim_mapping {
	bool used;
	struct zt_endpoint inside;
	struct zt_endpoint dest; /* symmetric: per destination */
	uint16_t public_port;
	uint64_t last_ms;
	/* restriction memory: who the inside has sent to (last 8) */
	struct zt_endpoint sent_to[8];
	unsigned n_sent;
};

struct sim_nat {
	enum sim_nat_kind kind;
	struct zt_endpoint public_ip; /* port 0 */
	uint32_t timeout_ms;
	uint16_t next_port;
	struct sim_mapping map[SIM_NAT_MAPPINGS];
};

struct sim_block {
	struct zt_endpoint a, b;
};

struct sim {
	struct sim_cfg cfg;
	uint64_t now;
	uint64_t rng[4];
	uint64_t seq;
	uint64_t trace;
	uint64_t datagrams;
	struct sim_event *heap;
	size_t heap_len, heap_cap;
	struct sim_node *nodes[SIM_MAX_NODES];
	unsigned n_nodes;
	struct sim_nat *nats[SIM_MAX_NATS];
	unsigned n_nats;
	struct sim_block blocks[64];
	unsigned n_blocks;
	sim_tap_fn tap;
	void *tap_ctx;
	struct zt_root_spec roots[ZT_MAX_ROOTS];
	unsigned n_roots;
};

/* ---------- PRNG ---------- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_rand(struct sim *s)
{
	uint64_t *r = s->rng, res = rotl(r[1] * 5, 7) * 9, t = r[1] << 17;

	r[2] ^= r[0];
	r[3] ^= r[1];
	r[1] ^= r[2];
	r[0] ^= r[3];
	r[2] ^= t;
	r[3] = rotl(r[3], 45);
	return res;
}

static double rand01(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) / (double)(1ULL << 53);
}

static void sim_random_cb(void *ctx, void *buf, size_t len)
{
	struct sim *s = ((struct sim_node *)ctx)->sim;
	uint8_t *p = buf;

	while (len > 0) {
		uint64_t v = sim_rand(s);
		size_t n = ZT_MIN(len, sizeof(v));
		memcpy(p, &v, n);
		p += n;
		len -= n;
	}
}

static void sim_random_plain(void *ctx, void *buf, size_t len)
{
	struct sim_node tmp = {.sim = ctx};
	sim_random_cb(&tmp, buf, len);
}

/* ---------- event heap ---------- */

static bool ev_less(const struct sim_event *a, const struct sim_event *b)
{
	return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void heap_push(struct sim *s, struct sim_event ev)
{
	size_t i;

	if (s->heap_len == s->heap_cap) {
		size_t cap = s->heap_cap ? s->heap_cap * 2 : 1024;
		struct sim_event *h = realloc(s->heap, cap * sizeof(*h));
		if (!h)
			abort();
		s->heap = h;
		s->heap_cap = cap;
	}
	ev.seq = s->seq++;
	i = s->heap_len++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!ev_less(&ev, &s->heap[parent]))
			break;
		s->heap[i] = s->heap[parent];
		i = parent;
	}
	s->heap[i] = ev;
}

static struct sim_event heap_pop(struct sim *s)
{
	struct sim_event top = s->heap[0], last = s->heap[--s->heap_len];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->heap_len)
			break;
		if (c + 1 < s->heap_len && ev_less(&s->heap[c + 1], &s->heap[c]))
			c++;
		if (!ev_less(&s->heap[c], &last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->heap_len)
		s->heap[i] = last;
	return top;
}

/* ---------- addressing and NAT ---------- */

static struct zt_endpoint ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct zt_endpoint e = {.family = 4, .port = port};
	e.addr[0] = a;
	e.addr[1] = b;
	e.addr[2] = c;
	e.addr[3] = d;
	return e;
}

static bool same_host(const struct zt_endpoint *a, const struct zt_endpoint *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

const char *sim_nat_name(enum sim_nat_kind k)
{
	static const char *const names[] = {"none", "full-cone", "address-restricted", "port-restricted",
					    "symmetric"};
	return k <= SIM_NAT_SYMMETRIC ? names[k] : "?";
}

int sim_add_nat(struct sim *s, enum sim_nat_kind kind, uint32_t mapping_timeout_ms)
{
	struct sim_nat *nat;
	unsigned i = s->n_nats;

	if (i >= SIM_MAX_NATS)
		return -1;
	nat = calloc(1, sizeof(*nat));
	if (!nat)
		abort();
	nat->kind = kind;
	nat->public_ip = ip4(198, 18, (uint8_t)(i >> 8), (uint8_t)i, 0);
	nat->timeout_ms = mapping_timeout_ms;
	nat->next_port = 20000 + (uint16_t)(sim_rand(s) % 1000);
	s->nats[s->n_nats++] = nat;
	return (int)i;
}

static bool mapping_live(const struct sim *s, const struct sim_nat *nat, const struct sim_mapping *m)
{
	return m->used && s->now - m->last_ms < nat->timeout_ms;
}

/* Outbound through a NAT: find or make the mapping, note the destination. */
static struct zt_endpoint nat_out(struct sim *s, struct sim_nat *nat, const struct zt_endpoint *inside,
				  const struct zt_endpoint *dest)
{
	struct sim_mapping *m = NULL, *free_slot = NULL;
	struct zt_endpoint pub = nat->public_ip;

	for (unsigned i = 0; i < SIM_NAT_MAPPINGS; i++) {
		struct sim_mapping *c = &nat->map[i];
		if (!mapping_live(s, nat, c)) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (!zt_endpoint_equal(&c->inside, inside))
			continue;
		if (nat->kind == SIM_NAT_SYMMETRIC && !zt_endpoint_equal(&c->dest, dest))
			continue;
		m = c;
		break;
	}
	if (!m) {
		if (!free_slot)
			abort();
		m = free_slot;
		memset(m, 0, sizeof(*m));
		m->used = true;
		m->inside = *inside;
		m->dest = *dest;
		m->public_port = nat->next_port++;
		if (nat->next_port < 20000)
			nat->next_port = 20000;
	}
	m->last_ms = s->now;
	bool known = false;
	for (unsigned i = 0; i < m->n_sent && i < 8; i++)
		if (zt_endpoint_equal(&m->sent_to[i], dest))
			known = true;
	if (!known)
		m->sent_to[m->n_sent++ % 8] = *dest;
	pub.port = m->public_port;
	return pub;
}

/* Inbound to a NAT's public port: the inside endpoint, or none if filtered. */
static bool nat_in(struct sim *s, struct sim_nat *nat, const struct zt_endpoint *from, uint16_t port,
		   struct zt_endpoint *inside)
{
	for (unsigned i = 0; i < SIM_NAT_MAPPINGS; i++) {
		struct sim_mapping *m = &nat->map[i];
		bool allowed = false;

		if (!mapping_live(s, nat, m) || m->public_port != port)
			continue;
		for (unsigned j = 0; j < m->n_sent && j < 8; j++) {
			if (nat->kind == SIM_NAT_FULL_CONE)
				allowed = true;
			else if (nat->kind == SIM_NAT_ADDRESS_RESTRICTED && same_host(&m->sent_to[j], from))
				allowed = true;
			else if (zt_endpoint_equal(&m->sent_to[j], from))
				allowed = true;
		}
		if (!allowed)
			return false;
		m->last_ms = s->now;
		*inside = m->inside;
		return true;
	}
	return false;
}

void sim_nat_rebind(struct sim *s, int nat_index)
{
	struct sim_nat *nat = s->nats[nat_index];

	for (unsigned i = 0; i < SIM_NAT_MAPPINGS; i++)
		if (nat->map[i].used)
			nat->map[i].public_port = nat->next_port++;
}

static struct sim_node *node_by_inside(struct sim *s, const struct zt_endpoint *ep)
{
	/* Inside addresses are 10.(i>>8).(i&255).1 */
	unsigned i;

	if (ep->family != 4 || ep->addr[0] != 10 || ep->addr[3] != 1)
		return NULL;
	i = (unsigned)ep->addr[1] << 8 | ep->addr[2];
	if (i >= s->n_nodes || s->nodes[i]->ep.port != ep->port)
		return NULL;
	return s->nodes[i];
}

static int nat_by_public(struct sim *s, const struct zt_endpoint *ep)
{
	unsigned i;

	if (ep->family != 4 || ep->addr[0] != 198 || ep->addr[1] != 18)
		return -1;
	i = (unsigned)ep->addr[2] << 8 | ep->addr[3];
	return i < s->n_nats ? (int)i : -1;
}

struct zt_endpoint sim_public_ip(const struct sim *s, const struct sim_node *n)
{
	if (n->nat < 0)
		return n->ep;
	return s->nats[n->nat]->public_ip;
}

static bool blocked(const struct sim *s, const struct zt_endpoint *a, const struct zt_endpoint *b)
{
	for (unsigned i = 0; i < s->n_blocks; i++) {
		const struct sim_block *k = &s->blocks[i];
		if ((same_host(&k->a, a) && same_host(&k->b, b)) || (same_host(&k->a, b) && same_host(&k->b, a)))
			return true;
	}
	return false;
}

void sim_block(struct sim *s, const struct zt_endpoint *a, const struct zt_endpoint *b, bool block)
{
	for (unsigned i = 0; i < s->n_blocks; i++) {
		struct sim_block *k = &s->blocks[i];
		if ((same_host(&k->a, a) && same_host(&k->b, b)) || (same_host(&k->a, b) && same_host(&k->b, a))) {
			if (!block)
				s->blocks[i] = s->blocks[--s->n_blocks];
			return;
		}
	}
	if (block && s->n_blocks < ZT_ARRAY_LEN(s->blocks))
		s->blocks[s->n_blocks++] = (struct sim_block){*a, *b};
}

/* ---------- datagrams ---------- */

static void trace_mix(struct sim *s, const struct zt_endpoint *to, const uint8_t *data, size_t len)
{
	uint64_t h = s->trace ^ s->now;

	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3ULL;
	h ^= zt_endpoint_hash(to);
	s->trace = h * 0x100000001b3ULL;
}

static void schedule(struct sim *s, const struct zt_endpoint *from, const struct zt_endpoint *to, const uint8_t *data,
		     size_t len)
{
	struct sim_event ev = {.node = -1, .from = *from, .to = *to, .len = len};
	uint64_t delay = s->cfg.latency_ms;

	if (s->cfg.jitter_ms)
		delay += sim_rand(s) % (s->cfg.jitter_ms + 1);
	ev.at = s->now + delay;
	ev.data = malloc(len ? len : 1);
	if (!ev.data)
		abort();
	memcpy(ev.data, data, len);
	heap_push(s, ev);
}

static int sim_send_cb(void *ctx, const struct zt_endpoint *to, const uint8_t *data, size_t len)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;
	struct zt_endpoint from = n->ep;

	if (n->down)
		return 0;
	s->datagrams++;
	if (n->nat >= 0) {
		struct sim_node *local = node_by_inside(s, to);
		if (!local || local->nat != n->nat)
			from = nat_out(s, s->nats[n->nat], &n->ep, to);
	}
	if (s->tap && !s->tap(s->tap_ctx, &from, to, data, len))
		return 0;
	if (blocked(s, &from, to) || rand01(s) < s->cfg.loss)
		return 0;
	trace_mix(s, to, data, len);
	schedule(s, &from, to, data, len);
	if (s->cfg.duplicate > 0 && rand01(s) < s->cfg.duplicate)
		schedule(s, &from, to, data, len);
	return 0;
}

static void deliver(struct sim *s, struct sim_event *ev)
{
	struct zt_endpoint inside = ev->to;
	struct sim_node *n;
	int nat = nat_by_public(s, &ev->to);

	if (nat >= 0 && !nat_in(s, s->nats[nat], &ev->from, ev->to.port, &inside))
		return;
	n = node_by_inside(s, &inside);
	if (!n || n->down || !n->node)
		return;
	/* An inside address is reachable only from the same LAN (behind the same NAT). */
	if (nat < 0 && n->nat >= 0) {
		struct sim_node *sender = node_by_inside(s, &ev->from);
		if (!sender || sender->nat != n->nat)
			return;
	}
	zt_node_receive(n->node, &ev->from, ev->data, ev->len, s->now);
}

static void sim_echo_cb(void *ctx, uint64_t peer, uint32_t id, uint64_t rtt_ms, enum zt_link link)
{
	struct sim_node *n = ctx;

	(void)peer;
	n->echo_replies++;
	n->last_rtt_ms = rtt_ms;
	n->last_echo_id = id;
	if (link == ZT_LINK_DIRECT)
		n->echo_direct++;
	else
		n->echo_relay++;
}

static void sim_vl2_cb(void *ctx, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct sim_node *n = ctx;

	n->vl2_rx++;
	if (n->vl2)
		zt_vl2_message(n->vl2, peer, verb, data, len, now_ms);
}

static void sim_deliver_cb(void *ctx, uint64_t nwid, const uint8_t *frame, size_t len)
{
	struct sim_node *n = ctx;

	(void)nwid;
	n->frames_rx++;
	n->last_frame_len = ZT_MIN(len, sizeof(n->last_frame));
	memcpy(n->last_frame, frame, n->last_frame_len);
}

static void sim_changed_cb(void *ctx, uint64_t nwid)
{
	(void)ctx, (void)nwid;
}

static int sim_controller_cb(void *ctx, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			     struct zt_vl2_answer *ans)
{
	struct sim_node *n = ctx;

	return n->controller ? n->controller(n, nwid, member, now_ms, ans) : ZT_ENOENT;
}

/* ---------- public ---------- */

struct sim *sim_new(const struct sim_cfg *cfg)
{
	struct sim *s = calloc(1, sizeof(*s));
	uint64_t x;

	if (!s)
		abort();
	s->cfg = *cfg;
	if (!s->cfg.cipher)
		s->cfg.cipher = ZT_CIPHER_CHACHA20_POLY1305;
	x = cfg->seed;
	for (int i = 0; i < 4; i++)
		s->rng[i] = splitmix(&x);
	s->now = 1700000000000ULL; /* virtual wall clock: Nov 2023 */
	s->trace = 0xcbf29ce484222325ULL;
	return s;
}

void sim_free(struct sim *s)
{
	for (unsigned i = 0; i < s->n_nodes; i++) {
		zt_vl2_free(s->nodes[i]->vl2);
		zt_node_free(s->nodes[i]->node);
		zt_identity_wipe(&s->nodes[i]->id);
		free(s->nodes[i]);
	}
	for (unsigned i = 0; i < s->n_nats; i++)
		free(s->nats[i]);
	for (size_t i = 0; i < s->heap_len; i++)
		free(s->heap[i].data);
	free(s->heap);
	free(s);
}

struct sim_node *sim_add_node(struct sim *s, bool is_root, int nat)
{
	struct sim_node *n;
	unsigned i = s->n_nodes;

	if (i >= SIM_MAX_NODES)
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		abort();
	n->sim = s;
	n->index = i;
	n->is_root = is_root;
	n->nat = nat;
	n->ep = ip4(10, (uint8_t)(i >> 8), (uint8_t)i, 1, 9993);
	if (zt_identity_generate(&n->id, sim_random_plain, s) < 0)
		abort();
	s->nodes[s->n_nodes++] = n;
	return n;
}

static int start_core(struct sim *s, struct sim_node *n)
{
	struct zt_node_config cfg = {
		.identity = &n->id,
		.is_root = n->is_root,
		.cipher = s->cfg.cipher,
		.roots = s->roots,
		.n_roots = s->n_roots,
		.trust_root_identities = true,
	};
	struct zt_node_callbacks cb = {
		.ctx = n,
		.send = sim_send_cb,
		.random = sim_random_cb,
		.echo_reply = sim_echo_cb,
		.vl2_message = sim_vl2_cb,
	};
	int err = zt_node_new(&n->node, &cfg, &cb, s->now);

	if (err) {
		fprintf(stderr, "sim: node %u: %s\n", n->index, zt_strerror(err));
		return err;
	}
	zt_node_set_local_endpoints(n->node, &n->ep, 1);
	{ /* every node has VL2, roots too (a root may also be a controller) */
		struct zt_vl2_callbacks vcb = {
			.ctx = n,
			.deliver = sim_deliver_cb,
			.changed = sim_changed_cb,
			.controller_request = sim_controller_cb,
		};
		if (zt_vl2_new(&n->vl2, n->node, &vcb) < 0)
			return ZT_ENOMEM;
	}
	return 0;
}

int sim_restart(struct sim *s, struct sim_node *n)
{
	zt_vl2_free(n->vl2);
	n->vl2 = NULL;
	zt_node_free(n->node);
	n->node = NULL;
	return start_core(s, n);
}

int sim_start(struct sim *s)
{
	struct zt_root_spec *roots = s->roots;
	unsigned n_roots = 0;

	for (unsigned i = 0; i < s->n_nodes && n_roots < ZT_MAX_ROOTS; i++) {
		struct sim_node *n = s->nodes[i];
		if (!n->is_root)
			continue;
		/* Validate each root identity once here; nodes are told to trust these. */
		if (zt_identity_validate(&n->id) < 0)
			return -1;
		memset(&roots[n_roots], 0, sizeof(roots[n_roots]));
		zt_identity_public(&roots[n_roots].id, &n->id);
		roots[n_roots].endpoints[0] = sim_public_ip(s, n);
		roots[n_roots].endpoints[0].port = n->ep.port;
		roots[n_roots].n_endpoints = 1;
		n_roots++;
	}
	s->n_roots = n_roots;
	for (unsigned i = 0; i < s->n_nodes; i++) {
		struct sim_node *n = s->nodes[i];
		int err = start_core(s, n);
		if (err)
			return err;
		/* Stagger first ticks so 200 nodes do not start in lockstep. */
		n->next_tick_ms = s->now + sim_rand(s) % 500;
		heap_push(s, (struct sim_event){.at = n->next_tick_ms, .node = (int)i});
	}
	return 0;
}

void sim_run_until(struct sim *s, uint64_t t_ms)
{
	while (s->heap_len && s->heap[0].at <= t_ms) {
		struct sim_event ev = heap_pop(s);

		s->now = ev.at;
		if (ev.node >= 0) {
			struct sim_node *n = s->nodes[ev.node];
			uint64_t next = n->down ? s->now + 100 : zt_node_tick(n->node, s->now);
			if (n->vl2 && !n->down)
				zt_vl2_tick(n->vl2, s->now);
			n->next_tick_ms = next > s->now ? next : s->now + 1;
			heap_push(s, (struct sim_event){.at = n->next_tick_ms, .node = ev.node});
			continue;
		}
		deliver(s, &ev);
		free(ev.data);
	}
	if (t_ms > s->now)
		s->now = t_ms;
}

void sim_run_for(struct sim *s, uint64_t dt_ms)
{
	sim_run_until(s, s->now + dt_ms);
}

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

struct sim_node *sim_node_at(struct sim *s, unsigned i)
{
	return i < s->n_nodes ? s->nodes[i] : NULL;
}

unsigned sim_node_count(const struct sim *s)
{
	return s->n_nodes;
}

int sim_root_count(const struct sim *s)
{
	int count = 0;

	for (unsigned i = 0; i < s->n_nodes; i++)
		count += s->nodes[i]->is_root;
	return count;
}

enum zt_link sim_link(struct sim *s, struct sim_node *a, struct sim_node *b)
{
	struct zt_peer_info pi;

	if (zt_node_peer(a->node, b->id.address, s->now, &pi) < 0)
		return ZT_LINK_NONE;
	return pi.link;
}

void sim_set_loss(struct sim *s, double loss)
{
	s->cfg.loss = loss;
}

void sim_set_tap(struct sim *s, sim_tap_fn fn, void *ctx)
{
	s->tap = fn;
	s->tap_ctx = ctx;
}

void sim_inject(struct sim *s, struct sim_node *n, const struct zt_endpoint *from, const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		abort();
	memcpy(copy, data, len);
	zt_node_receive(n->node, from, copy, len, s->now);
	free(copy);
}

uint64_t sim_trace_hash(const struct sim *s)
{
	return s->trace;
}

uint64_t sim_datagrams(const struct sim *s)
{
	return s->datagrams;
}

bool sim_echo(struct sim *s, struct sim_node *a, struct sim_node *b, uint64_t timeout_ms, enum zt_link *link)
{
	uint64_t before = a->echo_replies, direct = a->echo_direct, deadline = s->now + timeout_ms;
	uint32_t id = (uint32_t)sim_rand(s);

	zt_node_echo(a->node, b->id.address, id, NULL, 0, s->now);
	while (s->now < deadline) {
		sim_run_for(s, 10);
		if (a->echo_replies > before && a->last_echo_id == id) {
			if (link)
				*link = a->echo_direct > direct ? ZT_LINK_DIRECT : ZT_LINK_RELAY;
			return true;
		}
	}
	return false;
}
