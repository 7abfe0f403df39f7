/*
 * frames.h - builds real Ethernet frames for the rules tests, independently
 * of rules/testcase.c: Ethernet with 802.1Q/802.1ad tags, IPv4 (checksummed,
 * fragments), IPv6 with extension headers, TCP, UDP, ICMP/ICMPv6, ARP.
 * Usage: tf_begin, then layers in order, then tf_end to fix the lengths.
 */
#ifndef ZT_TESTS_RULES_FRAMES_H
#define ZT_TESTS_RULES_FRAMES_H

#include "base/wire.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

struct tframe {
	uint8_t b[2048];
	size_t len;
	struct zt_wr w;
	int ip;          /* 0, 4 or 6: the last IP header written */
	size_t ip_start; /* offset of that header */
	size_t l4_start; /* offset of the transport header (UDP length) */
	bool udp;
};

static inline void tf_begin(struct tframe *f, const char *dst, const char *src)
{
	unsigned m[6];

	memset(f, 0, sizeof(*f));
	zt_wr_init(&f->w, f->b, sizeof(f->b));
	sscanf(dst, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	for (int i = 0; i < 6; i++)
		zt_wr_u8(&f->w, (uint8_t)m[i]);
	sscanf(src, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	for (int i = 0; i < 6; i++)
		zt_wr_u8(&f->w, (uint8_t)m[i]);
}

static inline void tf_vlan(struct tframe *f, uint16_t tpid, uint16_t id, uint8_t pcp)
{
	zt_wr_be16(&f->w, tpid);
	zt_wr_be16(&f->w, (uint16_t)(pcp << 13 | id));
}

static inline void tf_type(struct tframe *f, uint16_t type)
{
	zt_wr_be16(&f->w, type);
}

static inline void tf_ipv4(struct tframe *f, uint8_t tos, uint8_t proto, const char *src,
			   const char *dst, uint16_t frag)
{
	uint8_t a[4];

	f->ip = 4;
	f->ip_start = f->w.len;
	zt_wr_u8(&f->w, 0x45);
	zt_wr_u8(&f->w, tos);
	zt_wr_be16(&f->w, 0);      /* total length, fixed by tf_end */
	zt_wr_be16(&f->w, 0x1234);
	zt_wr_be16(&f->w, frag);   /* flags and fragment offset */
	zt_wr_u8(&f->w, 64);
	zt_wr_u8(&f->w, proto);
	zt_wr_be16(&f->w, 0);      /* checksum, fixed by tf_end */
	inet_pton(AF_INET, src, a);
	zt_wr_bytes(&f->w, a, 4);
	inet_pton(AF_INET, dst, a);
	zt_wr_bytes(&f->w, a, 4);
}

static inline void tf_ipv6(struct tframe *f, uint8_t tclass, uint8_t nh, const char *src,
			   const char *dst)
{
	uint8_t a[16];

	f->ip = 6;
	f->ip_start = f->w.len;
	zt_wr_be32(&f->w, 0x60000000u | (uint32_t)tclass << 20 | 0x12345);
	zt_wr_be16(&f->w, 0);      /* payload length, fixed by tf_end */
	zt_wr_u8(&f->w, nh);
	zt_wr_u8(&f->w, 64);
	inet_pton(AF_INET6, src, a);
	zt_wr_bytes(&f->w, a, 16);
	inet_pton(AF_INET6, dst, a);
	zt_wr_bytes(&f->w, a, 16);
}

/* An 8-byte hop-by-hop / destination-options / routing header. */
static inline void tf_ext6(struct tframe *f, uint8_t next)
{
	zt_wr_u8(&f->w, next);
	zt_wr_u8(&f->w, 0);       /* (0 + 1) * 8 bytes */
	zt_wr_beN(&f->w, 0x010400000000ull, 6); /* PadN option */
}

static inline void tf_frag6(struct tframe *f, uint8_t next, uint16_t offset_units)
{
	zt_wr_u8(&f->w, next);
	zt_wr_u8(&f->w, 0);
	zt_wr_be16(&f->w, (uint16_t)(offset_units << 3));
	zt_wr_be32(&f->w, 0xabcdef01);
}

static inline void tf_tcp(struct tframe *f, uint16_t sport, uint16_t dport, uint16_t flags)
{
	f->l4_start = f->w.len;
	zt_wr_be16(&f->w, sport);
	zt_wr_be16(&f->w, dport);
	zt_wr_be32(&f->w, 1000);
	zt_wr_be32(&f->w, (flags & 0x10) ? 2000 : 0);
	zt_wr_u8(&f->w, (uint8_t)(5 << 4 | (flags >> 8)));
	zt_wr_u8(&f->w, (uint8_t)flags);
	zt_wr_be16(&f->w, 64240);
	zt_wr_be16(&f->w, 0);
	zt_wr_be16(&f->w, 0);
}

static inline void tf_udp(struct tframe *f, uint16_t sport, uint16_t dport)
{
	f->l4_start = f->w.len;
	f->udp = true;
	zt_wr_be16(&f->w, sport);
	zt_wr_be16(&f->w, dport);
	zt_wr_be16(&f->w, 0); /* length, fixed by tf_end */
	zt_wr_be16(&f->w, 0);
}

static inline void tf_icmp(struct tframe *f, uint8_t type, uint8_t code)
{
	zt_wr_u8(&f->w, type);
	zt_wr_u8(&f->w, code);
	zt_wr_be16(&f->w, 0);
	zt_wr_be32(&f->w, 0x00010001);
}

static inline void tf_arp(struct tframe *f, uint16_t op, const char *sha, const char *spa,
			  const char *tpa)
{
	unsigned m[6];
	uint8_t a[4];

	zt_wr_be16(&f->w, 1);
	zt_wr_be16(&f->w, 0x0800);
	zt_wr_u8(&f->w, 6);
	zt_wr_u8(&f->w, 4);
	zt_wr_be16(&f->w, op);
	sscanf(sha, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
	for (int i = 0; i < 6; i++)
		zt_wr_u8(&f->w, (uint8_t)m[i]);
	inet_pton(AF_INET, spa, a);
	zt_wr_bytes(&f->w, a, 4);
	zt_wr_beN(&f->w, 0, 6);
	inet_pton(AF_INET, tpa, a);
	zt_wr_bytes(&f->w, a, 4);
}

static inline void tf_payload(struct tframe *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		zt_wr_u8(&f->w, (uint8_t)i);
}

static inline void tf_put16(struct tframe *f, size_t off, uint16_t v)
{
	struct zt_wr w;

	zt_wr_init(&w, f->b + off, 2);
	zt_wr_be16(&w, v);
}

/* Fix IP and UDP lengths and the IPv4 header checksum; returns the length. */
static inline size_t tf_end(struct tframe *f)
{
	size_t end = f->w.len;

	if (f->ip == 4) {
		struct zt_rd rd;
		uint32_t sum = 0;

		tf_put16(f, f->ip_start + 2, (uint16_t)(end - f->ip_start));
		zt_rd_init(&rd, f->b + f->ip_start, 20);
		for (int i = 0; i < 10; i++)
			sum += zt_rd_be16(&rd);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		tf_put16(f, f->ip_start + 10, (uint16_t)~sum);
	} else if (f->ip == 6) {
		tf_put16(f, f->ip_start + 4, (uint16_t)(end - f->ip_start - 40));
	}
	if (f->udp)
		tf_put16(f, f->l4_start + 4, (uint16_t)(end - f->l4_start));
	f->len = f->w.err ? 0 : end;
	return f->len;
}

#endif
