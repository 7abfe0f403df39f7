/*
 * packet.h - the outer packet header, readable by roots, and fragmentation.
 * Everything after the header is the business of noise.c / session.c.
 */
#ifndef ZT_PACKET_H
#define ZT_PACKET_H

#include "base/endpoint.h"
#include "proto.h"
#include "base/wire.h"
#include "base/zt.h"

struct zt_hdr {
	uint8_t version;
	uint8_t type;
	uint8_t hops;
	uint8_t flags;
	uint64_t dst;
	uint64_t src;
};

/* Parse the common header; checks version and hop limit. */
int zt_hdr_read(struct zt_rd *rd, struct zt_hdr *h);
void zt_hdr_write(struct zt_wr *wr, const struct zt_hdr *h);
/* Hop count lives at byte 2; a relay bumps it in place. */
#define ZT_HDR_HOPS_OFFSET 2

/* Endpoints on the wire: family(1) addr(16) port(2); family 4 or 6 only. */
void zt_wr_endpoint(struct zt_wr *wr, const struct zt_endpoint *e);
int zt_rd_endpoint(struct zt_rd *rd, struct zt_endpoint *e);

typedef int (*zt_frag_emit_fn)(void *ctx, const uint8_t *frag, size_t len);

/*
 * Split a complete packet (its own header included) into FRAGMENT packets no
 * larger than mtu, each handed to emit. The fragment header copies dst/src.
 */
int zt_fragment_split(const uint8_t *pkt, size_t len, size_t mtu, uint32_t packet_id,
		      zt_frag_emit_fn emit, void *ctx);

#endif
