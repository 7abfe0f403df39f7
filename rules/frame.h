/*
 * frame.h - the fields rules can look at, pulled out of one Ethernet frame
 * in a single bounded pass. Internal to rules/. A field the frame does not
 * carry (short frame, truncated header, other protocol) is marked absent.
 */
#ifndef ZT_RULES_FRAME_H
#define ZT_RULES_FRAME_H

#include "format.h"

struct zt_rules_frame {
	size_t len;            /* whole frame */
	bool eth;              /* the 14-byte Ethernet header is there */
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	bool vlan;             /* outermost 802.1Q/802.1ad tag */
	uint16_t vlan_id;
	uint8_t vlan_pcp;
	bool has_type;         /* ethertype after any VLAN tags */
	uint16_t ethertype;
	uint8_t ip;            /* 0 (not IP), 4 or 6 */
	uint8_t tos;           /* IPv4 TOS / IPv6 traffic class */
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	bool has_proto;        /* upper-layer protocol known */
	uint8_t proto;
	bool fragment;         /* not the first fragment: no L4 header */
	bool has_ports;
	uint16_t sport;
	uint16_t dport;
	bool has_tcp_flags;
	uint16_t tcp_flags;    /* ns in bit 8 */
	bool has_icmp;
	uint8_t icmp_type;
	uint8_t icmp_code;
	bool arp;              /* an IPv4-over-Ethernet ARP body */
	uint16_t arp_op;
	uint8_t arp_spa[4];
	uint8_t arp_tpa[4];
};

void zt_rules_frame_parse(struct zt_rules_frame *f, const void *frame, size_t len);

#endif
