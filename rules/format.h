/*
 * format.h - bytecode format v1 of rules programs, internal to rules/: the
 * header, rule and match layouts (README.md draws them), the name tables the
 * compiler and decompiler share, and a bounded text appender.
 */
#ifndef ZT_RULES_FORMAT_H
#define ZT_RULES_FORMAT_H

#include "rules.h"
#include "base/wire.h"

#define ZT_RULES_MAGIC 0x5a545242u   /* "ZTRB" */
#define ZT_RULES_HDR_BYTES 12        /* magic, version, caps, length, rules, base rules */
#define ZT_RULES_RULE_HDR_BYTES 7    /* action, match count, target (5) */
#define ZT_RULES_MATCH_HDR_BYTES 3   /* type, flags, payload length */
#define ZT_RULES_LINE_BYTES 4        /* one be32 per rule in the line table */
#define ZT_RULES_ADDR_MAX 0xffffffffffull /* 40-bit member address */
#define ZT_RULES_PPM 1000000u        /* random: probability in parts per million */

#define ZT_RULES_F_NOT 0x01 /* negate this match */
#define ZT_RULES_F_OR 0x02  /* this match starts a new or-term */

enum zt_rules_match {
	ZT_RULES_M_SRC_MEMBER = 1, /* addr:5 */
	ZT_RULES_M_DST_MEMBER,     /* addr:5 */
	ZT_RULES_M_SRC_MAC,        /* mac:6 */
	ZT_RULES_M_DST_MAC,        /* mac:6 */
	ZT_RULES_M_ETHERTYPE,      /* type:2 */
	ZT_RULES_M_VLAN_ID,        /* id:2 (0..4095) */
	ZT_RULES_M_VLAN_PCP,       /* pcp:1 (0..7) */
	ZT_RULES_M_SRC_IPV4,       /* addr:4 prefix:1 */
	ZT_RULES_M_DST_IPV4,       /* addr:4 prefix:1 */
	ZT_RULES_M_SRC_IPV6,       /* addr:16 prefix:1 */
	ZT_RULES_M_DST_IPV6,       /* addr:16 prefix:1 */
	ZT_RULES_M_IPPROTO,        /* proto:1 */
	ZT_RULES_M_TOS,            /* mask:1 lo:1 hi:1 */
	ZT_RULES_M_ICMP,           /* type:1 code:1 has_code:1 */
	ZT_RULES_M_SPORT,          /* lo:2 hi:2 */
	ZT_RULES_M_DPORT,          /* lo:2 hi:2 */
	ZT_RULES_M_TCP_FLAGS,      /* mask:2 value:2 */
	ZT_RULES_M_SIZE,           /* lo:2 hi:2 */
	ZT_RULES_M_CHAR,           /* which:1 */
	ZT_RULES_M_TAG,            /* op:1 id:4 value:4 */
	ZT_RULES_M_RANDOM,         /* ppm:4 */
	ZT_RULES_M_COUNT
};

enum zt_rules_char {
	ZT_RULES_C_BROADCAST = 1,
	ZT_RULES_C_MULTICAST,
	ZT_RULES_C_INBOUND,
	ZT_RULES_C_OUTBOUND,
	ZT_RULES_C_FROM_BRIDGE,
	ZT_RULES_C_COUNT
};

enum zt_rules_tag_op {
	ZT_RULES_T_EQUALS = 1, /* both sides have the tag and it equals value */
	ZT_RULES_T_BITAND,     /* (sender & receiver) == value */
	ZT_RULES_T_BITOR,      /* (sender | receiver) == value */
	ZT_RULES_T_BITXOR,     /* (sender ^ receiver) == value */
	ZT_RULES_T_WITHIN,     /* |sender - receiver| <= value */
	ZT_RULES_T_SENDER,     /* sender's tag == value */
	ZT_RULES_T_RECEIVER,   /* receiver's tag == value */
	ZT_RULES_T_COUNT
};

/* Payload bytes of each match type; 0 for unknown types. */
extern const uint8_t zt_rules_match_bytes[ZT_RULES_M_COUNT];

struct zt_rules_name {
	const char *name;
	uint32_t value;
};

extern const struct zt_rules_name zt_rules_ethertypes[];
extern const size_t zt_rules_ethertype_count;
extern const struct zt_rules_name zt_rules_ipprotos[];
extern const size_t zt_rules_ipproto_count;
extern const struct zt_rules_name zt_rules_tcp_flags[]; /* in canonical order */
extern const size_t zt_rules_tcp_flag_count;
extern const struct zt_rules_name zt_rules_chars[];
extern const size_t zt_rules_char_count;
extern const struct zt_rules_name zt_rules_tag_ops[];   /* words after "tag ID" */
extern const size_t zt_rules_tag_op_count;

/* Value of name (len bytes, not terminated) in a table, or -1. */
long zt_rules_name_value(const struct zt_rules_name *tab, size_t n, const char *s, size_t len);
/* Name of value in a table, or NULL. */
const char *zt_rules_name_of(const struct zt_rules_name *tab, size_t n, uint32_t value);

bool zt_rules_cap_name_ok(const uint8_t *name, size_t len);
bool zt_rules_prefix_ok(const uint8_t *addr, size_t addr_bytes, unsigned bits);

/* Bounded text output: writes what fits, remembers that something did not. */
struct zt_rules_out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

void zt_rules_out_init(struct zt_rules_out *o, char *buf, size_t cap);
void zt_rules_outf(struct zt_rules_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int zt_rules_out_end(struct zt_rules_out *o); /* 0 or ZT_ETOOBIG */
void zt_rules_out_mac(struct zt_rules_out *o, const uint8_t *mac);
void zt_rules_out_ip(struct zt_rules_out *o, const uint8_t *addr, int family_bytes);

/* decompile.c: one rule (whole, or only or-term `term` when term >= 0). */
void zt_rules_print_rule(struct zt_rules_out *o, const struct zt_rules *prog,
			 unsigned rule, int term);

#endif
