/*
 * node_impl.h - the node's internal state, shared by the VL1 files: node.c
 * (new/free, tick, info), peer.c (peer table), path.c (paths, NAT traversal),
 * send.c, receive.c, handshake.c, whois.c and root.c (the root role). Each
 * file's functions are declared in its own header (peer.h, path.h, send.h,
 * handshake.h, whois.h; root.c's below), which a .c includes when it uses
 * them. Not for the host.
 */
#ifndef ZT_NODE_IMPL_H
#define ZT_NODE_IMPL_H

#include "base/limiter.h"
#include "fragment.h"
#include "multicast.h"
#include "node.h"
#include "packet.h"
#include "peer.h"
#include "base/wire.h"

#define ZT_PEER_BUCKETS 4096
#define ZT_INDEX_BUCKETS 4096
#define ZT_DEFAULT_MAX_PEERS 100000
#define ZT_TICK_MS 100

struct zt_pending {
	uint64_t peer;
	uint64_t created_ms;
	size_t len;
	bool used;
	uint8_t *msg; /* ZT_MAX_MESSAGE_BYTES, allocated at node creation */
};

struct zt_node {
	struct zt_identity id;
	struct zt_noise_local noise;
	struct zt_node_callbacks cb;
	bool is_root;
	bool trust_roots;
	int cipher;
	size_t max_peers;

	struct zt_peer *peers[ZT_PEER_BUCKETS];
	size_t n_peers;
	struct zt_keypair *index[ZT_INDEX_BUCKETS];
	struct zt_peer *roots[ZT_MAX_ROOTS];
	unsigned n_roots;

	struct zt_reasm *reasm;
	struct zt_mcast_dir *mdir; /* roots only */
	struct zt_pending pending[ZT_PENDING_SLOTS];
	uint8_t *tx_buf;  /* one sealed packet */
	uint8_t *msg_buf; /* one message being built */
	uint32_t next_packet_id;

	struct zt_endpoint local_eps[ZT_MAX_LOCAL_ENDPOINTS];
	unsigned n_local_eps;

	struct zt_limiter validate_limit;
	struct zt_limiter unknown_index_limit;
	uint64_t hs_window_ms;
	unsigned hs_window_count;
	bool under_load;

	struct zt_node_stats st;

	/* restarts (issue 12): handshake.c calls it when a session we started is up */
	zt_node_session_fn session_hook;
	void *session_hook_ctx;
};

/* root.c: the root role */
void zt_root_relay(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
		   size_t len, uint64_t now_ms);
/* A verb addressed to the root role (HELLO, WHOIS). Returns false if not a root verb. */
bool zt_root_handle(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct, uint8_t verb,
		    struct zt_rd *rd, uint64_t now_ms);

#endif
