/*
 * sim.h - a deterministic network simulator for the core: N nodes in one
 * process, a virtual clock, a virtual network with latency, jitter (hence
 * reordering), loss, duplication, partitions and NAT boxes. A run is fully
 * determined by its seed: same seed, same trace (sim_trace_hash).
 */
#ifndef ZT_SIM_H
#define ZT_SIM_H

#include "network.h"
#include "node.h"

#define SIM_MAX_NODES 512
#define SIM_MAX_NATS 512

enum sim_nat_kind {
	SIM_NAT_NONE = 0,
	SIM_NAT_FULL_CONE,         /* one mapping per inside endpoint; anyone may send to it */
	SIM_NAT_ADDRESS_RESTRICTED,/* ... only hosts (any port) the inside has sent to */
	SIM_NAT_PORT_RESTRICTED,   /* ... only exact host:port the inside has sent to */
	SIM_NAT_SYMMETRIC,         /* one mapping per (inside endpoint, destination) */
};
const char *sim_nat_name(enum sim_nat_kind k);

struct sim;

struct sim_node {
	struct sim *sim;
	unsigned index;
	struct zt_node *node;
	struct zt_identity id;
	struct zt_endpoint ep; /* its own (inside) address */
	int nat;               /* index of the NAT it sits behind, -1 none */
	bool is_root;
	bool down;
	uint64_t next_tick_ms;
	uint64_t echo_replies;
	uint64_t echo_direct, echo_relay;
	uint64_t last_rtt_ms;
	uint32_t last_echo_id;
	uint64_t vl2_rx;
	/* VL2 */
	struct zt_vl2 *vl2;
	uint64_t frames_rx;
	uint8_t last_frame[3000];
	size_t last_frame_len;
	/* controller role for tests: decides per member */
	int (*controller)(struct sim_node *self, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			  struct zt_vl2_answer *ans);
	void *controller_ctx;
};

struct sim_cfg {
	uint64_t seed;
	uint32_t latency_ms; /* one way, base */
	uint32_t jitter_ms;  /* uniform extra: reorders packets */
	double loss;         /* probability a datagram is lost */
	double duplicate;    /* probability a datagram is delivered twice */
	int cipher;
};

/* Observe (and optionally drop: return false) every datagram in flight. */
typedef bool (*sim_tap_fn)(void *ctx, const struct zt_endpoint *from, const struct zt_endpoint *to,
			   const uint8_t *data, size_t len);

struct sim *sim_new(const struct sim_cfg *cfg);
void sim_free(struct sim *s);
/* Nodes are added first, then sim_start creates their cores (roots known to all). */
struct sim_node *sim_add_node(struct sim *s, bool is_root, int nat);
int sim_add_nat(struct sim *s, enum sim_nat_kind kind, uint32_t mapping_timeout_ms);
int sim_start(struct sim *s);
void sim_run_until(struct sim *s, uint64_t t_ms);
void sim_run_for(struct sim *s, uint64_t dt_ms);
uint64_t sim_now(const struct sim *s);
struct sim_node *sim_node_at(struct sim *s, unsigned i);
unsigned sim_node_count(const struct sim *s);

/* Block all traffic between two hosts' public addresses (both directions). */
void sim_block(struct sim *s, const struct zt_endpoint *a, const struct zt_endpoint *b, bool blocked);
void sim_set_loss(struct sim *s, double loss);
void sim_set_tap(struct sim *s, sim_tap_fn fn, void *ctx);
/* Inject a raw datagram as if it arrived from `from` at node n now. */
void sim_inject(struct sim *s, struct sim_node *n, const struct zt_endpoint *from, const uint8_t *data, size_t len);
/* The public endpoint other hosts see for node n (its NAT's, once mapped). */
struct zt_endpoint sim_public_ip(const struct sim *s, const struct sim_node *n);
/* Rebind a NAT: all its mappings move to new ports (roaming / NAT reboot). */
void sim_nat_rebind(struct sim *s, int nat);

enum zt_link sim_link(struct sim *s, struct sim_node *a, struct sim_node *b);
int sim_root_count(const struct sim *s);
/* Crash and restart a node: a fresh core with the same identity (sessions lost). */
int sim_restart(struct sim *s, struct sim_node *n);
uint64_t sim_trace_hash(const struct sim *s);
uint64_t sim_datagrams(const struct sim *s);
uint64_t sim_rand(struct sim *s);

/* Send one echo from a to b and run until it is answered or timeout passes. */
bool sim_echo(struct sim *s, struct sim_node *a, struct sim_node *b, uint64_t timeout_ms, enum zt_link *link);

#endif
