/*
 * path.h - a peer's underlay paths and the NAT traversal that finds them
 * (path.c). Internal to the core.
 */
#ifndef ZT_PATH_H
#define ZT_PATH_H

#include "base/endpoint.h"
#include "base/wire.h"
#include "proto.h"

struct zt_node;
struct zt_peer;

struct zt_path {
	struct zt_endpoint ep;
	uint64_t last_rx_ms;  /* authenticated packet received directly (hops 0) */
	uint64_t last_tx_ms;
	int latency_ms;       /* -1 unknown */
	bool is_static;       /* configured (a root's endpoint): never forgotten */
	bool dead;            /* probes went unanswered: not used until heard again */
	uint64_t probe_ms;    /* first unanswered probe on this path, 0 none */
	uint64_t reprobe_ms;  /* last probe sent while dead */
};

/* An endpoint a root told us about, probed a bounded number of times. */
struct zt_candidate {
	struct zt_endpoint ep;
	uint64_t next_ms;
	unsigned attempts;
};

/* May ep carry us? The host's path_allowed callback answers (never our own overlay). */
bool zt_node_path_allowed(struct zt_node *n, const struct zt_endpoint *ep);

/* Record an authenticated direct packet from ep; returns the path. */
struct zt_path *zt_path_learn(struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms);
struct zt_path *zt_path_add_static(struct zt_peer *p, const struct zt_endpoint *ep);
bool zt_path_alive(const struct zt_path *path, uint64_t now_ms);
/* A probe on it has gone unanswered for a while: still alive, but traffic takes the relay. */
bool zt_path_suspect(const struct zt_path *path, uint64_t now_ms);
void zt_path_forget(struct zt_peer *p, struct zt_path *path);
/* Best direct path that is alive, or NULL. */
struct zt_path *zt_path_best(struct zt_peer *p, uint64_t now_ms);
/* For roots: best alive path, else any static endpoint (to (re)contact it). */
struct zt_path *zt_path_for_root(struct zt_peer *p, uint64_t now_ms);

/* An authenticated packet from p arrived from `from`, directly (hops 0) or
 * through a root: note it, learn or revive the path, probe what needs it. */
void zt_path_learn_direct(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
			  uint64_t now_ms);
/* RENDEZVOUS from a root: candidate endpoints for another peer. */
void zt_path_handle_rendezvous(struct zt_node *n, struct zt_peer *root, struct zt_rd *rd, uint64_t now_ms);
/* PATH_PROBE (answered) or PATH_PROBE_OK (latency measured). */
void zt_path_handle_probe(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
			  uint8_t verb, struct zt_rd *rd, uint64_t now_ms);
/* Timers, per peer with a session: probe candidates; probe, kill, re-probe, forget paths. */
void zt_path_tick_candidates(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);
void zt_path_tick(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);

#endif
