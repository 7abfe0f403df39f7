/*
 * packet.c - the outer header codec and packet fragmentation.
 * Reassembly (bounded, flood resistant) is fragment.c's.
 */
#include "packet.h"
#include "fragment.h"
#include "identity.h"

#include <string.h>

int zt_hdr_read(struct zt_rd *rd, struct zt_hdr *h)
{
	h->version = zt_rd_u8(rd);
	h->type = zt_rd_u8(rd);
	h->hops = zt_rd_u8(rd);
	h->flags = zt_rd_u8(rd);
	h->dst = zt_rd_beN(rd, ZT_ADDR_BYTES);
	h->src = zt_rd_beN(rd, ZT_ADDR_BYTES);
	if (rd->err)
		return ZT_ETRUNC;
	if (h->version != ZT_PROTO_VERSION)
		return ZT_EVERSION;
	if (h->hops > ZT_MAX_HOPS)
		return ZT_EINVAL;
	return 0;
}

void zt_hdr_write(struct zt_wr *wr, const struct zt_hdr *h)
{
	zt_wr_u8(wr, h->version);
	zt_wr_u8(wr, h->type);
	zt_wr_u8(wr, h->hops);
	zt_wr_u8(wr, h->flags);
	zt_wr_beN(wr, h->dst, ZT_ADDR_BYTES);
	zt_wr_beN(wr, h->src, ZT_ADDR_BYTES);
}

void zt_wr_endpoint(struct zt_wr *wr, const struct zt_endpoint *e)
{
	zt_wr_u8(wr, e->family);
	zt_wr_bytes(wr, e->addr, 16);
	zt_wr_be16(wr, e->port);
}

int zt_rd_endpoint(struct zt_rd *rd, struct zt_endpoint *e)
{
	e->family = zt_rd_u8(rd);
	zt_rd_bytes(rd, e->addr, 16);
	e->port = zt_rd_be16(rd);
	if (rd->err)
		return ZT_ETRUNC;
	if ((e->family != 4 && e->family != 6) || e->port == 0)
		return ZT_EINVAL;
	return 0;
}

int zt_fragment_split(const uint8_t *pkt, size_t len, size_t mtu, uint32_t packet_id,
		      zt_frag_emit_fn emit, void *ctx)
{
	uint8_t buf[ZT_UDP_PAYLOAD_MTU > 9000 ? ZT_UDP_PAYLOAD_MTU : 9000];
	struct zt_rd rd;
	struct zt_hdr h;
	size_t chunk, count;
	int err;

	if (mtu <= ZT_FRAG_HDR_BYTES || mtu > sizeof(buf))
		return ZT_EINVAL;
	zt_rd_init(&rd, pkt, len);
	err = zt_hdr_read(&rd, &h);
	if (err)
		return err;
	chunk = mtu - ZT_FRAG_HDR_BYTES;
	count = (len + chunk - 1) / chunk;
	if (count > ZT_FRAG_MAX_COUNT || len > ZT_REASM_MAX_BYTES)
		return ZT_ETOOBIG;
	h.type = ZT_PKT_FRAGMENT;
	h.hops = 0;
	for (size_t i = 0; i < count; i++) {
		size_t off = i * chunk, n = ZT_MIN(chunk, len - off);
		struct zt_wr w;

		zt_wr_init(&w, buf, sizeof(buf));
		zt_hdr_write(&w, &h);
		zt_wr_be32(&w, packet_id);
		zt_wr_u8(&w, (uint8_t)i);
		zt_wr_u8(&w, (uint8_t)count);
		zt_wr_be16(&w, (uint16_t)len);
		zt_wr_bytes(&w, pkt + off, n);
		if (count > 1 && i == count - 1 && chunk - n <= ZT_FRAG_PAD_MAX) {
			uint8_t *pad = zt_wr_reserve(&w, chunk - n);
			if (pad)
				memset(pad, 0, chunk - n);
		}
		if (w.err)
			return ZT_ETOOBIG;
		err = emit(ctx, buf, w.len);
		if (err)
			return err;
	}
	return 0;
}
