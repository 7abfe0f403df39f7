/*
 * node.h - the core's public face. A node is driven: the host hands it
 * datagrams and the time, and it answers through callbacks. It reads no
 * clock, opens no socket and draws no randomness of its own.
 */
#ifndef ZT_NODE_H
#define ZT_NODE_H

#include "base/endpoint.h"
#include "identity.h"
#include "proto.h"

struct zt_node;

enum zt_link {
	ZT_LINK_NONE = 0,
	ZT_LINK_DIRECT = 1,
	ZT_LINK_RELAY = 2,
};
const char *zt_link_name(enum zt_link link);

struct zt_node_callbacks {
	void *ctx;
	/* Send one UDP datagram. The bytes are only valid during the call. */
	int (*send)(void *ctx, const struct zt_endpoint *to, const uint8_t *data, size_t len);
	/* Random bytes (CSPRNG in the daemon, a seeded PRNG in the simulator). */
	void (*random)(void *ctx, void *buf, size_t len);
	/* An echo we sent was answered. */
	void (*echo_reply)(void *ctx, uint64_t peer, uint32_t id, uint64_t rtt_ms, enum zt_link link);
	/* A VL2 message (verb >= ZT_VERB_VL2_MIN) from an authenticated peer. Optional. */
	void (*vl2_message)(void *ctx, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len,
			    uint64_t now_ms);
	/* May this endpoint be used as an underlay path? The daemon says no to
	 * addresses reached through our own virtual interfaces (no tunnel in the
	 * tunnel). Optional: NULL allows all. */
	bool (*path_allowed)(void *ctx, const struct zt_endpoint *ep);
};

struct zt_root_spec {
	struct zt_identity id; /* public identity */
	struct zt_endpoint endpoints[ZT_ROOT_MAX_ENDPOINTS];
	unsigned n_endpoints;
};

struct zt_node_config {
	const struct zt_identity *identity; /* with secret; copied */
	bool is_root;
	int cipher; /* proposed for sessions we initiate */
	const struct zt_root_spec *roots;
	unsigned n_roots;
	size_t max_peers; /* 0: default */
	/* Skip the costly address check for roots given here (the simulator
	 * validates each root identity once itself). Never set in the daemon. */
	bool trust_root_identities;
};

struct zt_path_info {
	struct zt_endpoint endpoint;
	bool preferred;
	bool alive;
	uint64_t last_rx_ms;
	int latency_ms; /* -1 unknown */
};

struct zt_peer_info {
	uint64_t address;
	bool is_root;
	enum zt_link link;
	int latency_ms; /* -1 unknown */
	uint64_t last_rx_ms; /* 0 never */
	int64_t session_age_ms; /* -1 no session */
	const char *relay_reason; /* why not DIRECT, when link is RELAY/NONE */
	unsigned n_paths;
	struct zt_path_info paths[ZT_PEER_MAX_PATHS];
	uint64_t rx_packets, tx_packets;
};

struct zt_node_stats {
	uint64_t rx_packets, tx_packets, rx_bytes, tx_bytes;
	uint64_t relayed;
	uint64_t drop_truncated, drop_version, drop_hops, drop_not_for_me, drop_bad_type;
	uint64_t drop_auth, drop_replay, drop_unknown_index, drop_no_session;
	uint64_t drop_fragment, drop_rate_limited, drop_identity, drop_oversize, drop_bad_message;
	uint64_t hs_init_rx, hs_init_tx, hs_resp_rx, hs_resp_tx, hs_cookie_tx, hs_cookie_rx;
	uint64_t sessions_established, rekeys;
	uint64_t identity_validations;
	uint64_t pending_dropped;
	uint64_t fragments_rx, fragments_tx, reassembled;
	uint64_t rendezvous_tx, rendezvous_rx, probes_tx, probes_rx, paths_died, paths_forbidden;
	uint64_t drop_mcast_refused; /* roots: subscriptions from non-members, or over quota */
};

int zt_node_new(struct zt_node **out, const struct zt_node_config *cfg, const struct zt_node_callbacks *cb,
		uint64_t now_ms);
void zt_node_free(struct zt_node *n);

/* One datagram from the underlay. pkt may be modified (opened in place). */
void zt_node_receive(struct zt_node *n, const struct zt_endpoint *from, uint8_t *pkt, size_t len, uint64_t now_ms);

/* Our local underlay endpoints (interface addresses + our port), announced to
 * roots so peers behind the same NAT can find us on the LAN. */
void zt_node_set_local_endpoints(struct zt_node *n, const struct zt_endpoint *eps, unsigned count);

/* Run timers; returns the time the node next wants a tick. */
uint64_t zt_node_tick(struct zt_node *n, uint64_t now_ms);

/* Send an echo request to a peer (sets up the session if needed), carrying
 * up to ZT_ECHO_MAX_PAYLOAD bytes of payload that the peer echoes back. */
int zt_node_echo(struct zt_node *n, uint64_t peer, uint32_t id, const uint8_t *payload, size_t len,
		 uint64_t now_ms);

/* Send a message (verb + payload) to a peer over its session; queued while it sets up. */
int zt_node_send(struct zt_node *n, uint64_t peer, uint8_t verb, const uint8_t *payload, size_t len,
		 uint64_t now_ms);

uint64_t zt_node_address(const struct zt_node *n);
const struct zt_identity *zt_node_identity(const struct zt_node *n);
bool zt_node_is_root(const struct zt_node *n);
/* Online: some root answered within ZT_PATH_ALIVE_MS (a root is always online). */
bool zt_node_online(const struct zt_node *n, uint64_t now_ms);
/* Our address as the best root last saw it; false if none yet. */
bool zt_node_observed(const struct zt_node *n, struct zt_endpoint *out);

/* A peer's validated public identity, if known (learned in a handshake or WHOIS). */
int zt_node_peer_identity(const struct zt_node *n, uint64_t address, struct zt_identity *out);
/* Ask roots for a peer's identity (e.g. a controller's) if not known yet. */
void zt_node_want_identity(struct zt_node *n, uint64_t address, uint64_t now_ms);
/* Random bytes from the host's source (set-up time use; not per packet). */
void zt_node_random(struct zt_node *n, void *buf, size_t len);
/* Addresses of the configured roots (for VL2's multicast directory). */
unsigned zt_node_roots(const struct zt_node *n, uint64_t *out, unsigned max);
/* Best root that answers, 0 if none. */
uint64_t zt_node_best_root(struct zt_node *n, uint64_t now_ms);

size_t zt_node_peers(const struct zt_node *n, uint64_t now_ms, struct zt_peer_info *out, size_t max);
int zt_node_peer(const struct zt_node *n, uint64_t address, uint64_t now_ms, struct zt_peer_info *out);
void zt_node_get_stats(const struct zt_node *n, struct zt_node_stats *st);

/* restarts (issue 12) */
/* Called when a handshake this node started completed: the session to peer is
 * usable now, and what is sent from the hook precedes the messages that were
 * waiting for it (VL2 sends our certificates from here). Optional. */
typedef void (*zt_node_session_fn)(void *ctx, uint64_t peer, uint64_t now_ms);
void zt_node_set_session_hook(struct zt_node *n, zt_node_session_fn fn, void *ctx);
/* A peer known from an earlier run (the host's peer cache): its public
 * identity, validated here (scrypt, ~15 ms: the host bounds how many), and its
 * last endpoints, probed as candidate paths once a session is up. Handshakes
 * to it retry early (proto.h). ZT_EEXIST if known already with other keys. */
int zt_node_seed_peer(struct zt_node *n, const struct zt_identity *id, const struct zt_endpoint *eps,
		      unsigned n_eps, uint64_t now_ms);
/* Start a session with a peer now, before a message needs it. */
int zt_node_connect(struct zt_node *n, uint64_t peer, uint64_t now_ms);
/* Age of the session we send to peer with, -1 if there is none. */
int64_t zt_node_session_age_ms(const struct zt_node *n, uint64_t peer, uint64_t now_ms);

#endif
