/*
 * peer_cache.h - the peer cache format (peer_cache.c): peers a node knew in
 * an earlier run, their public identities, last endpoints and the networks
 * they were verified members of. Pure encode/decode, no OS calls; the daemon
 * reads and writes the file (src/service/peer_cache.c). Roots can reuse it.
 */
#ifndef ZT_PEER_CACHE_H
#define ZT_PEER_CACHE_H

#include "base/endpoint.h"
#include "identity.h"
#include "proto.h"

#define ZT_PEER_CACHE_MAGIC "ztpc"
#define ZT_PEER_CACHE_VERSION 1
#define ZT_PEER_CACHE_HDR_BYTES 7 /* magic(4) version(1) count(2) */
/* One entry at most: length(2) id text(1 + 159) eps(1 + 4 * 19) nets(1 + 8 * 8) last seen(8). */
#define ZT_PEER_CACHE_ENTRY_MAX                                                                          \
	(2 + 1 + (ZT_IDENTITY_PUBLIC_TEXT_MAX - 1) + 1 + ZT_PEER_CACHE_ENDPOINTS * ZT_ENDPOINT_WIRE_BYTES + 1 + \
	 ZT_PEER_CACHE_NETWORKS * 8 + 8)

struct zt_peer_cache_entry {
	struct zt_identity id; /* public only */
	struct zt_endpoint eps[ZT_PEER_CACHE_ENDPOINTS];
	unsigned n_eps;
	uint64_t nets[ZT_PEER_CACHE_NETWORKS];
	unsigned n_nets;
	uint64_t last_seen_ms; /* host wall clock, 0 unknown */
};

/* Bytes that count entries need at most. */
size_t zt_peer_cache_size(unsigned count);
/* Encode count entries (count <= ZT_PEER_CACHE_MAX) into out (cap bytes). */
int zt_peer_cache_encode(const struct zt_peer_cache_entry *e, unsigned count, uint8_t *out, size_t cap,
			 size_t *out_len);
/*
 * Decode a whole cache, every field checked; nothing is kept unless all of it
 * is well formed. The first max entries land in out (*count), the rest are
 * counted in *cut and skipped unread. ZT_EPARSE, ZT_EVERSION, ZT_ETRUNC or
 * ZT_EINVAL on a bad file. Identities are parsed, not validated (the node
 * validates what it seeds).
 */
int zt_peer_cache_decode(const uint8_t *in, size_t len, struct zt_peer_cache_entry *out, unsigned max,
			 unsigned *count, unsigned *cut);

#endif
