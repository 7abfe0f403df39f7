/*
 * peer.h - what a node knows about another node: identity, underlay paths,
 * handshake state and keypairs. Internal to the core (node.c, root.c, peer.c).
 */
#ifndef ZT_PEER_H
#define ZT_PEER_H

#include "node.h"
#include "noise.h"
#include "session.h"

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

/* Identity knowledge: unknown -> asked (WHOIS in flight) -> known. */
enum zt_ident_state {
	ZT_IDENT_UNKNOWN = 0,
	ZT_IDENT_ASKED,
	ZT_IDENT_KNOWN,
};

struct zt_peer {
	uint64_t address;
	struct zt_identity id; /* public; valid when ident == ZT_IDENT_KNOWN */
	enum zt_ident_state ident;
	uint64_t whois_first_ms, whois_sent_ms;
	bool is_root;

	struct zt_path paths[ZT_PEER_MAX_PATHS];
	unsigned n_paths;

	struct zt_handshake hs;
	struct zt_keypair *prev, *cur, *next;

	uint64_t created_ms;
	uint64_t last_rx_ms;        /* any authenticated packet */
	uint64_t last_relayed_rx_ms;/* authenticated packet that came through a root */
	uint64_t last_tx_ms;        /* any packet sent */
	uint64_t last_data_rx_ms;   /* non-keepalive message received */
	uint64_t last_data_tx_ms;   /* non-keepalive message sent */
	uint64_t last_hello_ms;     /* roots: HELLO sent */
	uint64_t hello_ok_ms;       /* roots: last HELLO_OK */
	int latency_ms;
	struct zt_endpoint observed; /* roots: how this root sees us */

	/* NAT traversal: what we were told and what we tried. */
	struct zt_candidate cand[ZT_MAX_CANDIDATES];
	unsigned n_cand;
	uint64_t intro_ms;          /* last RENDEZVOUS about this peer, 0 never */
	uint64_t probes_sent;
	/* Root role: this node's announced local endpoints and recent introductions. */
	struct zt_endpoint locals[ZT_MAX_LOCAL_ENDPOINTS];
	unsigned n_locals;
	struct {
		uint64_t other;
		uint64_t ms;
	} intro_sent[ZT_RENDEZVOUS_MEMORY];

	uint64_t rx_packets, tx_packets;
	struct zt_peer *hash_next;
};

struct zt_node;

struct zt_peer *zt_peer_new(uint64_t address, uint64_t now_ms);
void zt_peer_free(struct zt_peer *p); /* frees keypairs; caller unhooks indices first */

/* Record an authenticated direct packet from ep; returns the path. */
struct zt_path *zt_peer_learn_path(struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms);
struct zt_path *zt_peer_add_static_path(struct zt_peer *p, const struct zt_endpoint *ep);
bool zt_path_alive(const struct zt_path *path, uint64_t now_ms);
/* A probe on it has gone unanswered for a while: still alive, but traffic takes the relay. */
bool zt_path_suspect(const struct zt_path *path, uint64_t now_ms);
void zt_peer_forget_path(struct zt_peer *p, struct zt_path *path);
/* Best direct path that is alive, or NULL. */
struct zt_path *zt_peer_best_path(struct zt_peer *p, uint64_t now_ms);
/* For roots: best alive path, else any static endpoint (to (re)contact it). */
struct zt_path *zt_peer_root_path(struct zt_peer *p, uint64_t now_ms);

#endif
