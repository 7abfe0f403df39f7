/*
 * frame.c - reads the fields rules match on out of an Ethernet frame through
 * the bounded reader: MACs, up to two VLAN tags, IPv4 or IPv6 (walking the
 * extension headers), TCP/UDP/SCTP ports, TCP flags, ICMP type and code, ARP.
 * It trusts nothing in the frame; every loop is bounded by the frame's bytes.
 */
#include "frame.h"

#include <string.h>

#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_ARP 0x0806

static void parse_l4(struct zt_rules_frame *f, struct zt_rd *rd)
{
	uint16_t sport, dport;
	uint8_t off_ns, flags;

	if (f->proto == 1 || f->proto == 58) {
		if ((f->proto == 1) != (f->ip == 4))
			return;
		f->icmp_type = zt_rd_u8(rd);
		f->icmp_code = zt_rd_u8(rd);
		f->has_icmp = !rd->err;
		return;
	}
	if (f->proto != 6 && f->proto != 17 && f->proto != 132 && f->proto != 136)
		return;
	sport = zt_rd_be16(rd);
	dport = zt_rd_be16(rd);
	if (rd->err)
		return;
	f->has_ports = true;
	f->sport = sport;
	f->dport = dport;
	if (f->proto != 6)
		return;
	zt_rd_ref(rd, 8); /* sequence and acknowledgment numbers */
	off_ns = zt_rd_u8(rd);
	flags = zt_rd_u8(rd);
	if (rd->err)
		return;
	f->has_tcp_flags = true;
	f->tcp_flags = (uint16_t)(((off_ns & 1) << 8) | flags);
}

static void parse_ipv4(struct zt_rules_frame *f, struct zt_rd *rd)
{
	uint8_t vihl = zt_rd_u8(rd);
	uint8_t tos = zt_rd_u8(rd);
	uint16_t total = zt_rd_be16(rd);
	uint16_t frag, hdr;
	struct zt_rd l4;
	const uint8_t *body;
	size_t n;

	zt_rd_be16(rd); /* identification */
	frag = zt_rd_be16(rd);
	zt_rd_u8(rd); /* ttl */
	f->proto = zt_rd_u8(rd);
	zt_rd_be16(rd); /* checksum */
	zt_rd_bytes(rd, f->src_ip, 4);
	zt_rd_bytes(rd, f->dst_ip, 4);
	hdr = (uint16_t)((vihl & 0x0f) * 4);
	if (rd->err || (vihl >> 4) != 4 || hdr < 20) {
		f->proto = 0;
		return;
	}
	f->ip = 4;
	f->tos = tos;
	f->has_proto = true;
	f->fragment = (frag & 0x1fff) != 0;
	zt_rd_ref(rd, hdr - 20u); /* options */
	if (rd->err || f->fragment || total < hdr)
		return;
	n = ZT_MIN(rd->left, (size_t)(total - hdr));
	body = zt_rd_ref(rd, n);
	zt_rd_init(&l4, body, n);
	parse_l4(f, &l4);
}

static bool ipv6_ext(uint8_t nh)
{
	/* hop-by-hop, routing, destination options, mobility, HIP, shim6 */
	return nh == 0 || nh == 43 || nh == 60 || nh == 135 || nh == 139 || nh == 140;
}

/* Walk extension headers; each one is at least 8 bytes, so the walk is
 * bounded by the frame. Returns false when the chain is truncated. */
static bool ipv6_walk(struct zt_rules_frame *f, struct zt_rd *rd, uint8_t *nh)
{
	while (ipv6_ext(*nh) || *nh == 44 || *nh == 51) {
		uint8_t next = zt_rd_u8(rd);
		uint8_t hlen = zt_rd_u8(rd);

		if (*nh == 44) {
			uint16_t off = zt_rd_be16(rd);

			zt_rd_be32(rd);
			f->fragment = (off & 0xfff8) != 0;
		} else if (*nh == 51) {
			zt_rd_ref(rd, (hlen + 2u) * 4u - 2u);
		} else {
			zt_rd_ref(rd, (hlen + 1u) * 8u - 2u);
		}
		if (rd->err)
			return false;
		*nh = next;
		if (f->fragment)
			return true;
	}
	return true;
}

static void parse_ipv6(struct zt_rules_frame *f, struct zt_rd *rd)
{
	uint32_t vtcfl = zt_rd_be32(rd);
	uint16_t plen = zt_rd_be16(rd);
	uint8_t nh = zt_rd_u8(rd);
	struct zt_rd body;
	const uint8_t *p;
	size_t n;

	zt_rd_u8(rd); /* hop limit */
	zt_rd_bytes(rd, f->src_ip, 16);
	zt_rd_bytes(rd, f->dst_ip, 16);
	if (rd->err || (vtcfl >> 28) != 6)
		return;
	f->ip = 6;
	f->tos = (uint8_t)(vtcfl >> 20);
	/* Payload length 0 is a jumbogram: the frame bounds it. */
	n = plen ? ZT_MIN(rd->left, (size_t)plen) : rd->left;
	p = zt_rd_ref(rd, n);
	zt_rd_init(&body, p, n);
	if (!ipv6_walk(f, &body, &nh))
		return;
	f->has_proto = true;
	f->proto = nh;
	if (!f->fragment)
		parse_l4(f, &body);
}

static void parse_arp(struct zt_rules_frame *f, struct zt_rd *rd)
{
	uint16_t htype = zt_rd_be16(rd);
	uint16_t ptype = zt_rd_be16(rd);
	uint8_t hlen = zt_rd_u8(rd);
	uint8_t plen = zt_rd_u8(rd);

	f->arp_op = zt_rd_be16(rd);
	zt_rd_ref(rd, 6);
	zt_rd_bytes(rd, f->arp_spa, 4);
	zt_rd_ref(rd, 6);
	zt_rd_bytes(rd, f->arp_tpa, 4);
	f->arp = !rd->err && htype == 1 && ptype == ETH_IPV4 && hlen == 6 && plen == 4;
}

void zt_rules_frame_parse(struct zt_rules_frame *f, const void *frame, size_t len)
{
	struct zt_rd rd;
	uint16_t type;

	memset(f, 0, sizeof(*f));
	f->len = len;
	zt_rd_init(&rd, frame, len);
	zt_rd_bytes(&rd, f->dst_mac, 6);
	zt_rd_bytes(&rd, f->src_mac, 6);
	type = zt_rd_be16(&rd);
	if (rd.err)
		return;
	f->eth = true;
	for (int tags = 0; tags < 2 && (type == ETH_VLAN || type == ETH_QINQ); tags++) {
		uint16_t tci = zt_rd_be16(&rd);

		type = zt_rd_be16(&rd);
		if (rd.err)
			return;
		if (!f->vlan) {
			f->vlan = true;
			f->vlan_id = tci & 0x0fff;
			f->vlan_pcp = (uint8_t)(tci >> 13);
		}
	}
	f->has_type = true;
	f->ethertype = type;
	if (type == ETH_IPV4)
		parse_ipv4(f, &rd);
	else if (type == ETH_IPV6)
		parse_ipv6(f, &rd);
	else if (type == ETH_ARP)
		parse_arp(f, &rd);
}
