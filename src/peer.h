/*
 * peer.h - what a node knows about another node: identity, underlay paths,
 * handshake state and keypairs, and the node's table of them (peer.c).
 * Internal to the core.
 */
#ifndef ZT_PEER_H
#define ZT_PEER_H

#include "node.h"
#include "noise.h"
#include "path.h"
#include "session.h"

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
	unsigned hs_tries;          /* inits sent in the current handshake */
	bool seeded;                /* known from the host's peer cache (an earlier run) */
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

/* peer.c: the peer table. */
struct zt_peer *zt_peer_new(uint64_t address, uint64_t now_ms);
void zt_peer_free(struct zt_peer *p); /* frees keypairs; caller unhooks indices first */
struct zt_peer *zt_peer_find(const struct zt_node *n, uint64_t address);
/* Find or create; NULL for ourselves, a reserved address or a full table. */
struct zt_peer *zt_peer_get(struct zt_node *n, uint64_t address, uint64_t now_ms);
/* Unhook its keypairs and itself from the node's tables, then free it. */
void zt_peer_remove(struct zt_node *n, struct zt_peer *p);
/* Idle too long (roots are never forgotten). */
bool zt_peer_expired(const struct zt_peer *p, uint64_t now_ms);

/* peer.c: the keypair index table (a DATA packet's receiver index -> keypair). */
struct zt_keypair *zt_peer_index_find(const struct zt_node *n, uint32_t idx);
/* A random nonzero index not in use. */
uint32_t zt_peer_index_fresh(struct zt_node *n);
void zt_peer_index_add(struct zt_node *n, struct zt_keypair *kp);
/* Unhook *slot from the index, free (wipe) it, clear the slot. */
void zt_peer_keypair_drop(struct zt_node *n, struct zt_keypair **slot);

#endif
