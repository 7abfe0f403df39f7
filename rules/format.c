/*
 * format.c - the constant side of bytecode format v1: match payload sizes,
 * the name tables shared by compiler and decompiler, the checks on names and
 * prefixes, and the bounded text appender. No parsing of blobs happens here.
 */
#include "format.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const uint8_t zt_rules_match_bytes[ZT_RULES_M_COUNT] = {
	[ZT_RULES_M_SRC_MEMBER] = 5,
	[ZT_RULES_M_DST_MEMBER] = 5,
	[ZT_RULES_M_SRC_MAC] = 6,
	[ZT_RULES_M_DST_MAC] = 6,
	[ZT_RULES_M_ETHERTYPE] = 2,
	[ZT_RULES_M_VLAN_ID] = 2,
	[ZT_RULES_M_VLAN_PCP] = 1,
	[ZT_RULES_M_SRC_IPV4] = 5,
	[ZT_RULES_M_DST_IPV4] = 5,
	[ZT_RULES_M_SRC_IPV6] = 17,
	[ZT_RULES_M_DST_IPV6] = 17,
	[ZT_RULES_M_IPPROTO] = 1,
	[ZT_RULES_M_TOS] = 3,
	[ZT_RULES_M_ICMP] = 3,
	[ZT_RULES_M_SPORT] = 4,
	[ZT_RULES_M_DPORT] = 4,
	[ZT_RULES_M_TCP_FLAGS] = 4,
	[ZT_RULES_M_SIZE] = 4,
	[ZT_RULES_M_CHAR] = 1,
	[ZT_RULES_M_TAG] = 9,
	[ZT_RULES_M_RANDOM] = 4,
};

const struct zt_rules_name zt_rules_ethertypes[] = {
	{"ipv4", 0x0800}, {"arp", 0x0806}, {"wol", 0x0842}, {"rarp", 0x8035},
	{"ipv6", 0x86dd}, {"mpls", 0x8847}, {"pppoe-discovery", 0x8863},
	{"pppoe", 0x8864}, {"eapol", 0x888e}, {"lldp", 0x88cc},
};
const size_t zt_rules_ethertype_count = ZT_ARRAY_LEN(zt_rules_ethertypes);

const struct zt_rules_name zt_rules_ipprotos[] = {
	{"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47},
	{"esp", 50}, {"ah", 51}, {"icmp6", 58}, {"sctp", 132}, {"udplite", 136},
};
const size_t zt_rules_ipproto_count = ZT_ARRAY_LEN(zt_rules_ipprotos);

/* Bit 8 is NS, the low bit of byte 12 of the TCP header; bits 0-7 are byte 13. */
const struct zt_rules_name zt_rules_tcp_flags[] = {
	{"fin", 0x001}, {"syn", 0x002}, {"rst", 0x004}, {"psh", 0x008}, {"ack", 0x010},
	{"urg", 0x020}, {"ece", 0x040}, {"cwr", 0x080}, {"ns", 0x100},
};
const size_t zt_rules_tcp_flag_count = ZT_ARRAY_LEN(zt_rules_tcp_flags);

const struct zt_rules_name zt_rules_chars[] = {
	{"broadcast", ZT_RULES_C_BROADCAST}, {"multicast", ZT_RULES_C_MULTICAST},
	{"inbound", ZT_RULES_C_INBOUND}, {"outbound", ZT_RULES_C_OUTBOUND},
	{"from-bridge", ZT_RULES_C_FROM_BRIDGE},
};
const size_t zt_rules_char_count = ZT_ARRAY_LEN(zt_rules_chars);

const struct zt_rules_name zt_rules_tag_ops[] = {
	{"equals", ZT_RULES_T_EQUALS}, {"bitand", ZT_RULES_T_BITAND},
	{"bitor", ZT_RULES_T_BITOR}, {"bitxor", ZT_RULES_T_BITXOR},
	{"within", ZT_RULES_T_WITHIN},
};
const size_t zt_rules_tag_op_count = ZT_ARRAY_LEN(zt_rules_tag_ops);

long zt_rules_name_value(const struct zt_rules_name *tab, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(tab[i].name) == len && memcmp(tab[i].name, s, len) == 0)
			return tab[i].value;
	return -1;
}

const char *zt_rules_name_of(const struct zt_rules_name *tab, size_t n, uint32_t value)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].value == value)
			return tab[i].name;
	return NULL;
}

/* Capability names: a letter, then letters, digits, '-' or '_'. */
bool zt_rules_cap_name_ok(const uint8_t *name, size_t len)
{
	if (len < 1 || len > ZT_RULES_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = name[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		bool other = (c >= '0' && c <= '9') || c == '-' || c == '_';

		if (!alpha && (i == 0 || !other))
			return false;
	}
	return true;
}

/* A prefix is canonical when no bit past its length is set. */
bool zt_rules_prefix_ok(const uint8_t *addr, size_t addr_bytes, unsigned bits)
{
	if (bits > addr_bytes * 8)
		return false;
	for (size_t i = 0; i < addr_bytes; i++) {
		unsigned keep = bits > i * 8 ? bits - (unsigned)i * 8 : 0;
		uint8_t mask = keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep);

		if (addr[i] & (uint8_t)~mask)
			return false;
	}
	return true;
}

void zt_rules_out_init(struct zt_rules_out *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	o->overflow = cap == 0;
	if (cap)
		buf[0] = '\0';
}

void zt_rules_outf(struct zt_rules_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		o->buf[o->len] = '\0';
		return;
	}
	o->len += (size_t)n;
}

int zt_rules_out_end(struct zt_rules_out *o)
{
	return o->overflow ? ZT_ETOOBIG : 0;
}

void zt_rules_out_mac(struct zt_rules_out *o, const uint8_t *mac)
{
	zt_rules_outf(o, "%02x:%02x:%02x:%02x:%02x:%02x",
		      mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void zt_rules_out_ip(struct zt_rules_out *o, const uint8_t *addr, int family_bytes)
{
	char text[INET6_ADDRSTRLEN];
	int af = family_bytes == 4 ? AF_INET : AF_INET6;

	if (!inet_ntop(af, addr, text, sizeof(text))) {
		o->overflow = true;
		return;
	}
	zt_rules_outf(o, "%s", text);
}

const char *zt_rules_action_name(int action)
{
	switch (action) {
	case ZT_RULES_ACT_ACCEPT: return "accept";
	case ZT_RULES_ACT_DROP: return "drop";
	case ZT_RULES_ACT_BREAK: return "break";
	case ZT_RULES_ACT_TEE: return "tee";
	case ZT_RULES_ACT_REDIRECT: return "redirect";
	case ZT_RULES_ACT_WATCH: return "watch";
	}
	return "?";
}
