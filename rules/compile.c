/*
 * compile.c - the rules language to bytecode: a recursive-descent parser
 * that emits each rule as it reads it, then lays out header, capability
 * table, rules and line table, and verifies its own output. Refusals carry
 * line, column and a message. Grammar: README.md.
 */
#include "lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap_decl {
	const char *name;
	size_t len;
	unsigned count;
};

struct compiler {
	struct zt_rules_lex lx;
	struct zt_rules_tok tok;
	struct zt_rules_error *err;
	struct zt_wr w; /* rule bytes, in program order */
	uint8_t rules[ZT_RULES_MAX_BYTES];
	uint32_t lines[ZT_RULES_MAX_RULES];
	unsigned rule_count;
	unsigned base_count;
	unsigned cap_count;
	struct cap_decl caps[ZT_RULES_MAX_CAPS];
};

static int fail_at(struct compiler *c, const struct zt_rules_tok *t, int code,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(struct compiler *c, const struct zt_rules_tok *t, int code,
		   const char *fmt, ...)
{
	va_list ap;

	c->err->line = t->line;
	c->err->col = t->col;
	va_start(ap, fmt);
	vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* How a token reads in a message. */
static void describe(const struct zt_rules_tok *t, char *buf, size_t cap)
{
	unsigned char ch = t->n ? (unsigned char)t->s[0] : 0;

	switch (t->kind) {
	case ZT_RULES_TOK_EOF: snprintf(buf, cap, "end of file"); return;
	case ZT_RULES_TOK_BAD:
		if (ch > ' ' && ch < 0x7f)
			snprintf(buf, cap, "'%c'", ch);
		else
			snprintf(buf, cap, "byte 0x%02x", ch);
		return;
	default:
		snprintf(buf, cap, "'%.*s'", (int)ZT_MIN(t->n, (size_t)40), t->s);
	}
}

static int unexpected(struct compiler *c, const char *wanted)
{
	char got[64];

	describe(&c->tok, got, sizeof(got));
	return fail_at(c, &c->tok, ZT_EPARSE, "expected %s, got %s", wanted, got);
}

static void next(struct compiler *c)
{
	zt_rules_lex_next(&c->lx, &c->tok);
}

/* Move to the word after keyword kw; it must exist. */
static int arg(struct compiler *c, const struct zt_rules_tok *kw, const char *what)
{
	char wanted[96];

	next(c);
	if (c->tok.kind == ZT_RULES_TOK_WORD)
		return 0;
	snprintf(wanted, sizeof(wanted), "%s after '%.*s'", what, (int)kw->n, kw->s);
	return unexpected(c, wanted);
}

static int bad_value(struct compiler *c, const struct zt_rules_tok *kw, const char *why)
{
	return fail_at(c, &c->tok, ZT_EPARSE, "%.*s: %s", (int)kw->n, kw->s, why);
}

static int emit(struct compiler *c, uint8_t type, uint8_t flags, const uint8_t *payload, size_t n)
{
	zt_wr_u8(&c->w, type);
	zt_wr_u8(&c->w, flags);
	zt_wr_u8(&c->w, (uint8_t)n);
	zt_wr_bytes(&c->w, payload, n);
	if (c->w.err)
		return fail_at(c, &c->tok, ZT_ETOOBIG, "program too large (max %d bytes)",
			       ZT_RULES_MAX_BYTES);
	return 0;
}

/* True when the token after the current one is the word `word`. */
static bool peek_is(struct compiler *c, const char *word)
{
	struct zt_rules_lex ahead = c->lx;
	struct zt_rules_tok t;

	zt_rules_lex_next(&ahead, &t);
	return zt_rules_tok_is(&t, word);
}

/* Each parser starts on its keyword, emits one match and stops on the last
 * word it used; the caller moves on. */
typedef int (*match_fn)(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int arg);

static int p_member(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int type)
{
	uint8_t buf[5];
	struct zt_wr w;
	uint64_t addr;
	const char *why;

	if (arg(c, kw, "a member address (10 hex digits)"))
		return ZT_EPARSE;
	why = zt_rules_parse_member(c->tok.s, c->tok.n, &addr);
	if (why)
		return bad_value(c, kw, why);
	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_beN(&w, addr, 5);
	return emit(c, (uint8_t)type, flags, buf, w.len);
}

static int p_mac(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int type)
{
	uint8_t mac[6];
	const char *why;

	if (arg(c, kw, "a MAC address"))
		return ZT_EPARSE;
	why = zt_rules_parse_mac(c->tok.s, c->tok.n, mac);
	if (why)
		return bad_value(c, kw, why);
	return emit(c, (uint8_t)type, flags, mac, sizeof(mac));
}

static int emit_u16(struct compiler *c, uint8_t type, uint8_t flags, uint32_t v)
{
	uint8_t buf[2];
	struct zt_wr w;

	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_be16(&w, (uint16_t)v);
	return emit(c, type, flags, buf, w.len);
}

static int emit_u8(struct compiler *c, uint8_t type, uint8_t flags, uint32_t v)
{
	uint8_t buf[1];
	struct zt_wr w;

	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_u8(&w, (uint8_t)v);
	return emit(c, type, flags, buf, w.len);
}

static int p_ethertype(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int fixed)
{
	uint32_t v;
	long named;

	if (fixed)
		return emit_u16(c, ZT_RULES_M_ETHERTYPE, flags, (uint32_t)fixed);
	if (arg(c, kw, "an ethertype (a number or ipv4, arp, ipv6, ...)"))
		return ZT_EPARSE;
	named = zt_rules_name_value(zt_rules_ethertypes, zt_rules_ethertype_count,
				    c->tok.s, c->tok.n);
	if (named >= 0)
		return emit_u16(c, ZT_RULES_M_ETHERTYPE, flags, (uint32_t)named);
	if (zt_rules_parse_u32(c->tok.s, c->tok.n, 0xffff, &v))
		return bad_value(c, kw, "expected 0x0000-0xffff or a name (ipv4 arp ipv6 lldp ...)");
	return emit_u16(c, ZT_RULES_M_ETHERTYPE, flags, v);
}

static int p_ipproto(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int fixed)
{
	uint32_t v;
	long named;

	if (fixed)
		return emit_u8(c, ZT_RULES_M_IPPROTO, flags, (uint32_t)fixed);
	if (arg(c, kw, "an IP protocol (a number or tcp, udp, icmp, ...)"))
		return ZT_EPARSE;
	named = zt_rules_name_value(zt_rules_ipprotos, zt_rules_ipproto_count, c->tok.s, c->tok.n);
	if (named >= 0)
		return emit_u8(c, ZT_RULES_M_IPPROTO, flags, (uint32_t)named);
	if (zt_rules_parse_u32(c->tok.s, c->tok.n, 255, &v))
		return bad_value(c, kw, "expected 0-255 or a name (tcp udp icmp icmp6 sctp ...)");
	return emit_u8(c, ZT_RULES_M_IPPROTO, flags, v);
}

static int p_vlan(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int type)
{
	uint32_t max = type == ZT_RULES_M_VLAN_ID ? 4095 : 7;
	uint32_t v;

	if (arg(c, kw, "a number"))
		return ZT_EPARSE;
	if (zt_rules_parse_u32(c->tok.s, c->tok.n, max, &v))
		return bad_value(c, kw, max == 7 ? "expected 0-7" : "expected 0-4095");
	if (type == ZT_RULES_M_VLAN_ID)
		return emit_u16(c, (uint8_t)type, flags, v);
	return emit_u8(c, (uint8_t)type, flags, v);
}

static int p_ip(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int dst)
{
	uint8_t addr[16], buf[17];
	unsigned bytes, bits;
	struct zt_wr w;
	const char *why;
	uint8_t type;

	if (arg(c, kw, "an IP address or prefix"))
		return ZT_EPARSE;
	why = zt_rules_parse_prefix(c->tok.s, c->tok.n, addr, &bytes, &bits);
	if (why)
		return bad_value(c, kw, why);
	if (bytes == 4)
		type = dst ? ZT_RULES_M_DST_IPV4 : ZT_RULES_M_SRC_IPV4;
	else
		type = dst ? ZT_RULES_M_DST_IPV6 : ZT_RULES_M_SRC_IPV6;
	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_bytes(&w, addr, bytes);
	zt_wr_u8(&w, (uint8_t)bits);
	return emit(c, type, flags, buf, w.len);
}

static int emit_tos(struct compiler *c, uint8_t flags, uint8_t mask, uint32_t lo, uint32_t hi)
{
	uint8_t buf[3];
	struct zt_wr w;

	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_u8(&w, mask);
	zt_wr_u8(&w, (uint8_t)lo);
	zt_wr_u8(&w, (uint8_t)hi);
	return emit(c, ZT_RULES_M_TOS, flags, buf, w.len);
}

/* tos N[-M] [mask K] / dscp N[-M]; the mask applies to the frame's byte. */
static int p_tos(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int dscp)
{
	uint32_t lo, hi, mask = 0xff;
	const char *why;
	struct zt_rules_tok range, mkw;

	if (arg(c, kw, dscp ? "a DSCP value or range (0-63)" : "a TOS value or range (0-255)"))
		return ZT_EPARSE;
	why = zt_rules_parse_range(c->tok.s, c->tok.n, dscp ? 63 : 255, &lo, &hi);
	if (why)
		return bad_value(c, kw, why);
	if (dscp)
		return emit_tos(c, flags, 0xfc, lo << 2, hi << 2);
	if (!peek_is(c, "mask"))
		return emit_tos(c, flags, 0xff, lo, hi);
	range = c->tok;
	next(c);
	mkw = c->tok;
	if (arg(c, &mkw, "a mask (1-255)"))
		return ZT_EPARSE;
	if (zt_rules_parse_u32(c->tok.s, c->tok.n, 255, &mask) || mask == 0)
		return bad_value(c, &mkw, "expected 1-255");
	if ((lo | hi) & ~mask)
		return fail_at(c, &range, ZT_EPARSE, "tos: value has bits outside mask 0x%02x", mask);
	return emit_tos(c, flags, (uint8_t)mask, lo, hi);
}

static int p_icmp(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int unused)
{
	uint8_t buf[3];
	uint32_t type, code = 0;
	struct zt_rules_tok ckw;
	bool has_code = false;

	if (arg(c, kw, "an ICMP type (0-255)"))
		return ZT_EPARSE;
	if (zt_rules_parse_u32(c->tok.s, c->tok.n, 255, &type))
		return bad_value(c, kw, "expected 0-255");
	if (peek_is(c, "code")) {
		next(c);
		ckw = c->tok;
		if (arg(c, &ckw, "an ICMP code (0-255)"))
			return ZT_EPARSE;
		if (zt_rules_parse_u32(c->tok.s, c->tok.n, 255, &code))
			return bad_value(c, &ckw, "expected 0-255");
		has_code = true;
	}
	buf[0] = (uint8_t)type;
	buf[1] = (uint8_t)code;
	buf[2] = has_code;
	return emit(c, ZT_RULES_M_ICMP, flags, buf, sizeof(buf));
}

static int emit_range(struct compiler *c, uint8_t type, uint8_t flags, uint32_t lo, uint32_t hi)
{
	uint8_t buf[4];
	struct zt_wr w;

	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_be16(&w, (uint16_t)lo);
	zt_wr_be16(&w, (uint16_t)hi);
	return emit(c, type, flags, buf, w.len);
}

/* sport, dport, size: N or N-M in 0..65535. */
static int p_range(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int type)
{
	uint32_t lo, hi;
	const char *why;

	if (arg(c, kw, "a number or range like 80-443"))
		return ZT_EPARSE;
	why = zt_rules_parse_range(c->tok.s, c->tok.n, 0xffff, &lo, &hi);
	if (why)
		return bad_value(c, kw, why);
	return emit_range(c, (uint8_t)type, flags, lo, hi);
}

static int p_tcp_flags(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int unused)
{
	uint16_t mask, value;
	uint8_t buf[4];
	struct zt_wr w;
	const char *why;

	if (arg(c, kw, "TCP flags like syn,!ack"))
		return ZT_EPARSE;
	why = zt_rules_parse_tcp_flags(c->tok.s, c->tok.n, &mask, &value);
	if (why)
		return bad_value(c, kw, why);
	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_be16(&w, mask);
	zt_wr_be16(&w, value);
	return emit(c, ZT_RULES_M_TCP_FLAGS, flags, buf, w.len);
}

static int p_char(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int which)
{
	uint8_t v = (uint8_t)which;

	return emit(c, ZT_RULES_M_CHAR, flags, &v, 1);
}

static int emit_tag(struct compiler *c, uint8_t flags, uint32_t op, uint32_t id, uint32_t value)
{
	uint8_t buf[9];
	struct zt_wr w;

	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_u8(&w, (uint8_t)op);
	zt_wr_be32(&w, id);
	zt_wr_be32(&w, value);
	return emit(c, ZT_RULES_M_TAG, flags, buf, w.len);
}

static int number_arg(struct compiler *c, const struct zt_rules_tok *kw, const char *what,
		      uint32_t *v)
{
	if (arg(c, kw, what))
		return ZT_EPARSE;
	if (zt_rules_parse_u32(c->tok.s, c->tok.n, UINT32_MAX, v))
		return bad_value(c, kw, "expected a number 0-4294967295");
	return 0;
}

/* tag ID OP VALUE; sender-tag ID VALUE; receiver-tag ID VALUE */
static int p_tag(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int side_op)
{
	uint32_t id, value;
	long op = side_op;

	if (number_arg(c, kw, "a tag id", &id))
		return ZT_EPARSE;
	if (!side_op) {
		if (arg(c, kw, "equals, bitand, bitor, bitxor or within"))
			return ZT_EPARSE;
		op = zt_rules_name_value(zt_rules_tag_ops, zt_rules_tag_op_count, c->tok.s, c->tok.n);
		if (op < 0)
			return bad_value(c, kw, "expected equals, bitand, bitor, bitxor or within");
	}
	if (number_arg(c, kw, "a tag value", &value))
		return ZT_EPARSE;
	return emit_tag(c, flags, (uint32_t)op, id, value);
}

static int p_random(struct compiler *c, const struct zt_rules_tok *kw, uint8_t flags, int unused)
{
	uint32_t ppm;
	uint8_t buf[4];
	struct zt_wr w;
	const char *why;

	if (arg(c, kw, "a probability like 25%"))
		return ZT_EPARSE;
	why = zt_rules_parse_percent(c->tok.s, c->tok.n, &ppm);
	if (why)
		return bad_value(c, kw, why);
	zt_wr_init(&w, buf, sizeof(buf));
	zt_wr_be32(&w, ppm);
	return emit(c, ZT_RULES_M_RANDOM, flags, buf, w.len);
}

static const struct keyword {
	const char *word;
	match_fn fn;
	int arg;
} keywords[] = {
	{"src-member", p_member, ZT_RULES_M_SRC_MEMBER},
	{"dst-member", p_member, ZT_RULES_M_DST_MEMBER},
	{"src-mac", p_mac, ZT_RULES_M_SRC_MAC},
	{"dst-mac", p_mac, ZT_RULES_M_DST_MAC},
	{"ethertype", p_ethertype, 0},
	{"ipv4", p_ethertype, 0x0800},
	{"arp", p_ethertype, 0x0806},
	{"ipv6", p_ethertype, 0x86dd},
	{"vlan-id", p_vlan, ZT_RULES_M_VLAN_ID},
	{"vlan-pcp", p_vlan, ZT_RULES_M_VLAN_PCP},
	{"src-ip", p_ip, 0},
	{"dst-ip", p_ip, 1},
	{"ipproto", p_ipproto, 0},
	{"tcp", p_ipproto, 6},
	{"udp", p_ipproto, 17},
	{"icmp", p_ipproto, 1},
	{"icmp6", p_ipproto, 58},
	{"tos", p_tos, 0},
	{"dscp", p_tos, 1},
	{"icmp-type", p_icmp, 0},
	{"sport", p_range, ZT_RULES_M_SPORT},
	{"dport", p_range, ZT_RULES_M_DPORT},
	{"tcp-flags", p_tcp_flags, 0},
	{"size", p_range, ZT_RULES_M_SIZE},
	{"broadcast", p_char, ZT_RULES_C_BROADCAST},
	{"multicast", p_char, ZT_RULES_C_MULTICAST},
	{"inbound", p_char, ZT_RULES_C_INBOUND},
	{"outbound", p_char, ZT_RULES_C_OUTBOUND},
	{"from-bridge", p_char, ZT_RULES_C_FROM_BRIDGE},
	{"tag", p_tag, 0},
	{"sender-tag", p_tag, ZT_RULES_T_SENDER},
	{"receiver-tag", p_tag, ZT_RULES_T_RECEIVER},
	{"random", p_random, 0},
};

static int parse_factor(struct compiler *c, uint8_t flags)
{
	struct zt_rules_tok kw;
	int rc;

	if (zt_rules_tok_is(&c->tok, "not")) {
		flags |= ZT_RULES_F_NOT;
		next(c);
	}
	if (c->tok.kind != ZT_RULES_TOK_WORD || zt_rules_tok_is(&c->tok, "not") ||
	    zt_rules_tok_is(&c->tok, "and") || zt_rules_tok_is(&c->tok, "or"))
		return unexpected(c, "a match");
	kw = c->tok;
	for (size_t i = 0; i < ZT_ARRAY_LEN(keywords); i++) {
		if (!zt_rules_tok_is(&kw, keywords[i].word))
			continue;
		rc = keywords[i].fn(c, &kw, flags, keywords[i].arg);
		if (rc)
			return rc;
		next(c);
		return 0;
	}
	return fail_at(c, &kw, ZT_EPARSE, "unknown match '%.*s'", (int)ZT_MIN(kw.n, (size_t)40),
		       kw.s);
}

/* condition := term { "or" term }; term := factor { ["and"] factor } */
static int parse_condition(struct compiler *c, unsigned *nmatch)
{
	uint8_t flags = 0;
	int rc;

	*nmatch = 0;
	if (c->tok.kind != ZT_RULES_TOK_WORD && c->tok.kind != ZT_RULES_TOK_SEMI)
		return unexpected(c, "a match or ';'");
	while (c->tok.kind != ZT_RULES_TOK_SEMI) {
		if (*nmatch == ZT_RULES_MAX_MATCHES)
			return fail_at(c, &c->tok, ZT_ETOOBIG, "too many matches in one rule (max %d)",
				       ZT_RULES_MAX_MATCHES);
		rc = parse_factor(c, flags);
		if (rc)
			return rc;
		(*nmatch)++;
		flags = 0;
		if (zt_rules_tok_is(&c->tok, "and") || zt_rules_tok_is(&c->tok, "or")) {
			flags = zt_rules_tok_is(&c->tok, "or") ? ZT_RULES_F_OR : 0;
			next(c);
			if (c->tok.kind != ZT_RULES_TOK_WORD)
				return unexpected(c, "a match");
		} else if (c->tok.kind != ZT_RULES_TOK_WORD && c->tok.kind != ZT_RULES_TOK_SEMI) {
			return unexpected(c, "a match, 'and', 'or' or ';'");
		}
	}
	return 0;
}

static const struct zt_rules_name actions[] = {
	{"accept", ZT_RULES_ACT_ACCEPT}, {"drop", ZT_RULES_ACT_DROP},
	{"break", ZT_RULES_ACT_BREAK}, {"tee", ZT_RULES_ACT_TEE},
	{"redirect", ZT_RULES_ACT_REDIRECT}, {"watch", ZT_RULES_ACT_WATCH},
};

/* rule := action [member] condition ";" */
static int parse_rule(struct compiler *c)
{
	struct zt_rules_tok at = c->tok;
	long action = -1;
	uint64_t target = 0;
	uint8_t *hdr;
	unsigned nmatch;
	const char *why;
	int rc;

	if (c->tok.kind == ZT_RULES_TOK_WORD)
		action = zt_rules_name_value(actions, ZT_ARRAY_LEN(actions), c->tok.s, c->tok.n);
	if (action < 0)
		return unexpected(c, "a rule (accept, drop, break, tee, redirect, watch) or capability");
	if (c->rule_count == ZT_RULES_MAX_RULES)
		return fail_at(c, &at, ZT_ETOOBIG, "too many rules (max %d)", ZT_RULES_MAX_RULES);
	if (at.line > ZT_RULES_MAX_LINE)
		return fail_at(c, &at, ZT_ETOOBIG, "rules must start within the first %d lines",
			       ZT_RULES_MAX_LINE);
	if (action == ZT_RULES_ACT_TEE || action == ZT_RULES_ACT_REDIRECT ||
	    action == ZT_RULES_ACT_WATCH) {
		if (arg(c, &at, "a member address (10 hex digits)"))
			return ZT_EPARSE;
		why = zt_rules_parse_member(c->tok.s, c->tok.n, &target);
		if (why)
			return bad_value(c, &at, why);
	}
	next(c);
	hdr = zt_wr_reserve(&c->w, ZT_RULES_RULE_HDR_BYTES);
	if (!hdr)
		return fail_at(c, &at, ZT_ETOOBIG, "program too large (max %d bytes)",
			       ZT_RULES_MAX_BYTES);
	rc = parse_condition(c, &nmatch);
	if (rc)
		return rc;
	{
		struct zt_wr h;

		zt_wr_init(&h, hdr, ZT_RULES_RULE_HDR_BYTES);
		zt_wr_u8(&h, (uint8_t)action);
		zt_wr_u8(&h, (uint8_t)nmatch);
		zt_wr_beN(&h, target, 5);
	}
	c->lines[c->rule_count++] = at.line;
	next(c); /* the ';' */
	return 0;
}

/* capability := "capability" NAME "{" { rule } "}" */
static int parse_cap(struct compiler *c)
{
	struct zt_rules_tok kw = c->tok, name;
	struct cap_decl *cap;
	int rc;

	if (arg(c, &kw, "a capability name"))
		return ZT_EPARSE;
	name = c->tok;
	if (!zt_rules_cap_name_ok((const uint8_t *)name.s, name.n))
		return fail_at(c, &name, ZT_EPARSE,
			       "capability name must be a letter then up to %d letters, digits, '-' or '_'",
			       ZT_RULES_MAX_NAME - 1);
	for (unsigned i = 0; i < c->cap_count; i++)
		if (c->caps[i].len == name.n && memcmp(c->caps[i].name, name.s, name.n) == 0)
			return fail_at(c, &name, ZT_EPARSE, "capability '%.*s' defined twice",
				       (int)name.n, name.s);
	if (c->cap_count == ZT_RULES_MAX_CAPS)
		return fail_at(c, &kw, ZT_ETOOBIG, "too many capabilities (max %d)", ZT_RULES_MAX_CAPS);
	cap = &c->caps[c->cap_count++];
	*cap = (struct cap_decl){name.s, name.n, 0};
	next(c);
	if (c->tok.kind != ZT_RULES_TOK_LBRACE)
		return unexpected(c, "'{' after the capability name");
	next(c);
	while (c->tok.kind != ZT_RULES_TOK_RBRACE) {
		if (c->tok.kind == ZT_RULES_TOK_EOF)
			return fail_at(c, &kw, ZT_EPARSE, "capability '%.*s' is not closed with '}'",
				       (int)name.n, name.s);
		if (zt_rules_tok_is(&c->tok, "capability"))
			return fail_at(c, &c->tok, ZT_EPARSE, "capabilities do not nest; close '%.*s' first",
				       (int)name.n, name.s);
		rc = parse_rule(c);
		if (rc)
			return rc;
		cap->count++;
	}
	next(c);
	return 0;
}

static int parse_program(struct compiler *c)
{
	int rc;

	next(c);
	while (c->tok.kind != ZT_RULES_TOK_EOF) {
		if (zt_rules_tok_is(&c->tok, "capability")) {
			rc = parse_cap(c);
		} else if (c->cap_count) {
			if (c->tok.kind == ZT_RULES_TOK_RBRACE)
				return unexpected(c, "a capability");
			return fail_at(c, &c->tok, ZT_EPARSE,
				       "base rules come before the first capability");
		} else {
			rc = parse_rule(c);
			c->base_count = c->rule_count;
		}
		if (rc)
			return rc;
	}
	return 0;
}

static size_t layout_bytes(const struct compiler *c)
{
	size_t n = ZT_RULES_HDR_BYTES + c->w.len + (size_t)c->rule_count * ZT_RULES_LINE_BYTES;

	for (unsigned i = 0; i < c->cap_count; i++)
		n += 1 + c->caps[i].len + 2;
	return n;
}

static void layout(const struct compiler *c, struct zt_wr *out, size_t total)
{
	zt_wr_be32(out, ZT_RULES_MAGIC);
	zt_wr_u8(out, ZT_RULES_VERSION);
	zt_wr_u8(out, (uint8_t)c->cap_count);
	zt_wr_be16(out, (uint16_t)total);
	zt_wr_be16(out, (uint16_t)c->rule_count);
	zt_wr_be16(out, (uint16_t)c->base_count);
	for (unsigned i = 0; i < c->cap_count; i++) {
		zt_wr_u8(out, (uint8_t)c->caps[i].len);
		zt_wr_bytes(out, c->caps[i].name, c->caps[i].len);
		zt_wr_be16(out, (uint16_t)c->caps[i].count);
	}
	zt_wr_bytes(out, c->rules, c->w.len);
	for (unsigned i = 0; i < c->rule_count; i++)
		zt_wr_be32(out, c->lines[i]);
}

static int finish(struct compiler *c, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t total = layout_bytes(c);
	struct zt_rules_error verr;
	struct zt_wr w;
	int rc;

	if (total > ZT_RULES_MAX_BYTES)
		return fail_at(c, &c->tok, ZT_ETOOBIG, "program is %zu bytes compiled, max %d",
			       total, ZT_RULES_MAX_BYTES);
	if (total > cap)
		return fail_at(c, &c->tok, ZT_ETOOBIG, "output buffer holds %zu bytes, need %zu",
			       cap, total);
	zt_wr_init(&w, out, cap);
	layout(c, &w, total);
	rc = zt_rules_verify(out, w.len, &verr);
	if (w.err || rc)
		return fail_at(c, &c->tok, ZT_EINVAL, "internal error: output failed verification: %s",
			       verr.msg);
	*out_len = w.len;
	return 0;
}

int zt_rules_compile(const char *text, size_t text_len, uint8_t *out, size_t cap,
		     size_t *out_len, struct zt_rules_error *err)
{
	struct zt_rules_error spare;
	struct compiler *c;
	int rc;

	if (!err)
		err = &spare;
	memset(err, 0, sizeof(*err));
	*out_len = 0;
	if (text_len > ZT_RULES_MAX_TEXT) {
		snprintf(err->msg, sizeof(err->msg), "rules text is %zu bytes, max %d",
			 text_len, ZT_RULES_MAX_TEXT);
		return ZT_ETOOBIG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return ZT_ENOMEM;
	c->err = err;
	zt_wr_init(&c->w, c->rules, sizeof(c->rules));
	zt_rules_lex_init(&c->lx, text ? text : "", text ? text_len : 0, 1);
	rc = parse_program(c);
	if (!rc)
		rc = finish(c, out, cap, out_len);
	free(c);
	return rc;
}
