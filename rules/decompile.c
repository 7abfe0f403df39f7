/*
 * decompile.c - a verified program back to the rules language: one rule at
 * a time (for traces and counters) or the whole program, laid out so every
 * rule sits on its original source line and the text compiles back to the
 * identical blob. Also the counters table printed next to the rules.
 */
#include "format.h"

#include <stdio.h>
#include <string.h>

static void print_range(struct zt_rules_out *o, const char *kw, unsigned lo, unsigned hi)
{
	if (lo == hi)
		zt_rules_outf(o, "%s %u", kw, lo);
	else
		zt_rules_outf(o, "%s %u-%u", kw, lo, hi);
}

static void print_prefix(struct zt_rules_out *o, const char *kw, struct zt_rd *p, int bytes)
{
	uint8_t addr[16];
	unsigned bits;

	zt_rd_bytes(p, addr, (size_t)bytes);
	bits = zt_rd_u8(p);
	zt_rules_outf(o, "%s ", kw);
	zt_rules_out_ip(o, addr, bytes);
	if (bits != (unsigned)bytes * 8)
		zt_rules_outf(o, "/%u", bits);
}

static void print_tos(struct zt_rules_out *o, struct zt_rd *p)
{
	uint8_t mask = zt_rd_u8(p);
	uint8_t lo = zt_rd_u8(p);
	uint8_t hi = zt_rd_u8(p);

	if (mask == 0xfc) {
		print_range(o, "dscp", lo >> 2, hi >> 2);
		return;
	}
	print_range(o, "tos", lo, hi);
	if (mask != 0xff)
		zt_rules_outf(o, " mask 0x%02x", mask);
}

static void print_icmp(struct zt_rules_out *o, struct zt_rd *p)
{
	uint8_t type = zt_rd_u8(p);
	uint8_t code = zt_rd_u8(p);

	zt_rules_outf(o, "icmp-type %u", type);
	if (zt_rd_u8(p))
		zt_rules_outf(o, " code %u", code);
}

static void print_tcp_flags(struct zt_rules_out *o, struct zt_rd *p)
{
	uint16_t mask = zt_rd_be16(p);
	uint16_t value = zt_rd_be16(p);
	const char *sep = " ";

	zt_rules_outf(o, "tcp-flags");
	for (size_t i = 0; i < zt_rules_tcp_flag_count; i++) {
		uint32_t bit = zt_rules_tcp_flags[i].value;

		if (!(mask & bit))
			continue;
		zt_rules_outf(o, "%s%s%s", sep, (value & bit) ? "" : "!", zt_rules_tcp_flags[i].name);
		sep = ",";
	}
}

static void print_tag(struct zt_rules_out *o, struct zt_rd *p)
{
	uint8_t op = zt_rd_u8(p);
	uint32_t id = zt_rd_be32(p);
	uint32_t value = zt_rd_be32(p);
	const char *name;

	if (op == ZT_RULES_T_SENDER || op == ZT_RULES_T_RECEIVER) {
		zt_rules_outf(o, "%s-tag %u %u", op == ZT_RULES_T_SENDER ? "sender" : "receiver",
			      id, value);
		return;
	}
	name = zt_rules_name_of(zt_rules_tag_ops, zt_rules_tag_op_count, op);
	zt_rules_outf(o, "tag %u %s %u", id, name ? name : "?", value);
}

static void print_named(struct zt_rules_out *o, const char *kw, const struct zt_rules_name *tab,
			size_t n, uint32_t v, bool hex)
{
	const char *name = zt_rules_name_of(tab, n, v);

	if (name)
		zt_rules_outf(o, "%s %s", kw, name);
	else if (hex)
		zt_rules_outf(o, "%s 0x%04x", kw, v);
	else
		zt_rules_outf(o, "%s %u", kw, v);
}

static void print_mac(struct zt_rules_out *o, const char *kw, struct zt_rd *p)
{
	uint8_t mac[6];

	zt_rd_bytes(p, mac, 6);
	zt_rules_outf(o, "%s ", kw);
	zt_rules_out_mac(o, mac);
}

static void print_match(struct zt_rules_out *o, uint8_t type, struct zt_rd *p)
{
	uint32_t v, lo;
	const char *name;

	switch (type) {
	case ZT_RULES_M_SRC_MEMBER:
	case ZT_RULES_M_DST_MEMBER:
		zt_rules_outf(o, "%s-member %010llx", type == ZT_RULES_M_SRC_MEMBER ? "src" : "dst",
			      (unsigned long long)zt_rd_beN(p, 5));
		return;
	case ZT_RULES_M_SRC_MAC: print_mac(o, "src-mac", p); return;
	case ZT_RULES_M_DST_MAC: print_mac(o, "dst-mac", p); return;
	case ZT_RULES_M_ETHERTYPE:
		print_named(o, "ethertype", zt_rules_ethertypes, zt_rules_ethertype_count,
			    zt_rd_be16(p), true);
		return;
	case ZT_RULES_M_VLAN_ID: zt_rules_outf(o, "vlan-id %u", zt_rd_be16(p)); return;
	case ZT_RULES_M_VLAN_PCP: zt_rules_outf(o, "vlan-pcp %u", zt_rd_u8(p)); return;
	case ZT_RULES_M_SRC_IPV4: print_prefix(o, "src-ip", p, 4); return;
	case ZT_RULES_M_DST_IPV4: print_prefix(o, "dst-ip", p, 4); return;
	case ZT_RULES_M_SRC_IPV6: print_prefix(o, "src-ip", p, 16); return;
	case ZT_RULES_M_DST_IPV6: print_prefix(o, "dst-ip", p, 16); return;
	case ZT_RULES_M_IPPROTO:
		print_named(o, "ipproto", zt_rules_ipprotos, zt_rules_ipproto_count,
			    zt_rd_u8(p), false);
		return;
	case ZT_RULES_M_TOS: print_tos(o, p); return;
	case ZT_RULES_M_ICMP: print_icmp(o, p); return;
	case ZT_RULES_M_SPORT:
	case ZT_RULES_M_DPORT:
	case ZT_RULES_M_SIZE:
		name = type == ZT_RULES_M_SPORT ? "sport" : type == ZT_RULES_M_DPORT ? "dport" : "size";
		lo = zt_rd_be16(p);
		print_range(o, name, lo, zt_rd_be16(p));
		return;
	case ZT_RULES_M_TCP_FLAGS: print_tcp_flags(o, p); return;
	case ZT_RULES_M_CHAR:
		name = zt_rules_name_of(zt_rules_chars, zt_rules_char_count, zt_rd_u8(p));
		zt_rules_outf(o, "%s", name ? name : "?");
		return;
	case ZT_RULES_M_TAG: print_tag(o, p); return;
	case ZT_RULES_M_RANDOM:
		v = zt_rd_be32(p);
		zt_rules_outf(o, "random %u", v / 10000);
		if (v % 10000) {
			char frac[8];
			int n = snprintf(frac, sizeof(frac), "%04u", v % 10000);

			while (n > 0 && frac[n - 1] == '0')
				frac[--n] = '\0';
			zt_rules_outf(o, ".%s", frac);
		}
		zt_rules_outf(o, "%%");
		return;
	}
	zt_rules_outf(o, "?");
}

void zt_rules_print_rule(struct zt_rules_out *o, const struct zt_rules *prog, unsigned rule,
			 int term)
{
	struct zt_rd rd;
	uint8_t action, nmatch;
	uint64_t target;
	int t = 0;
	bool first = true;

	zt_rd_init(&rd, prog->blob, prog->len);
	zt_rd_ref(&rd, prog->rule_off[rule]);
	action = zt_rd_u8(&rd);
	nmatch = zt_rd_u8(&rd);
	target = zt_rd_beN(&rd, 5);
	if (term < 0) {
		zt_rules_outf(o, "%s", zt_rules_action_name(action));
		if (target)
			zt_rules_outf(o, " %010llx", (unsigned long long)target);
	}
	for (unsigned i = 0; i < nmatch; i++) {
		uint8_t type = zt_rd_u8(&rd);
		uint8_t flags = zt_rd_u8(&rd);
		uint8_t n = zt_rd_u8(&rd);
		const uint8_t *payload = zt_rd_ref(&rd, n);
		struct zt_rd p;

		if (rd.err)
			break;
		if (flags & ZT_RULES_F_OR)
			t++;
		if (term >= 0 && t != term)
			continue;
		if (term < 0 || !first)
			zt_rules_outf(o, "%s", first ? " " : (flags & ZT_RULES_F_OR) ? " or " : " and ");
		first = false;
		if (flags & ZT_RULES_F_NOT)
			zt_rules_outf(o, "not ");
		zt_rd_init(&p, payload, n);
		print_match(o, type, &p);
	}
	if (term < 0)
		zt_rules_outf(o, ";");
	else if (first)
		zt_rules_outf(o, "(every frame)");
}

int zt_rules_rule_text(const struct zt_rules *prog, unsigned rule, char *out, size_t cap)
{
	struct zt_rules_out o;

	if (!prog || rule >= prog->rule_count)
		return ZT_ENOENT;
	zt_rules_out_init(&o, out, cap);
	zt_rules_print_rule(&o, prog, rule, -1);
	return zt_rules_out_end(&o);
}

/* Where the decompiler is in its output: line number, and whether something
 * is already on this line. */
struct layout {
	struct zt_rules_out *o;
	uint32_t line;
	bool mid;
};

static void go_line(struct layout *l, uint32_t line)
{
	while (l->line < line && !l->o->overflow) {
		zt_rules_outf(l->o, "\n");
		l->line++;
		l->mid = false;
	}
}

/* Separate what comes next from what is already on the line. */
static void place(struct layout *l, bool indent)
{
	if (l->mid)
		zt_rules_outf(l->o, " ");
	else if (indent)
		zt_rules_outf(l->o, "\t");
	l->mid = true;
}

static void put_rule(struct layout *l, const struct zt_rules *prog, unsigned i, bool indent)
{
	go_line(l, prog->rule_line[i]);
	place(l, indent);
	zt_rules_print_rule(l->o, prog, i, -1);
}

/* Line of the first rule after capability c, or "never". */
static uint32_t next_line_after(const struct zt_rules *prog, unsigned c)
{
	unsigned end = prog->cap[c].first + prog->cap[c].count;

	return end < prog->rule_count ? prog->rule_line[end] : UINT32_MAX;
}

/* A brace or empty capability needs no line of its own: take the next line
 * if the following rule leaves room, else stay on this one. */
static void put_free(struct layout *l, uint32_t next)
{
	if (l->mid && next > l->line + 1)
		go_line(l, l->line + 1);
	place(l, false);
}

static void put_cap(struct layout *l, const struct zt_rules *prog, unsigned c)
{
	const struct zt_rules_cap *cap = &prog->cap[c];
	uint32_t next = next_line_after(prog, c);

	if (cap->count == 0) {
		put_free(l, next);
		zt_rules_outf(l->o, "capability %s { }", cap->name);
		return;
	}
	if (prog->rule_line[cap->first] > l->line + 1)
		go_line(l, prog->rule_line[cap->first] - 1);
	place(l, false);
	zt_rules_outf(l->o, "capability %s {", cap->name);
	for (unsigned i = cap->first; i < cap->first + cap->count; i++)
		put_rule(l, prog, i, true);
	put_free(l, next);
	zt_rules_outf(l->o, "}");
}

int zt_rules_decompile(const struct zt_rules *prog, char *out, size_t cap, size_t *out_len)
{
	struct zt_rules_out o;
	struct layout l = {&o, 1, false};
	int rc;

	zt_rules_out_init(&o, out, cap);
	if (prog->rule_count == 0 || prog->rule_line[0] > 1) {
		/* Line 1 is free: say what this is. */
		zt_rules_outf(&o, "# zt rules, format v%d: %u rules, %u capabilities\n",
			      ZT_RULES_VERSION, prog->rule_count, prog->cap_count);
		l.line = 2;
	}
	for (unsigned i = 0; i < prog->base_count; i++)
		put_rule(&l, prog, i, false);
	for (unsigned c = 0; c < prog->cap_count; c++)
		put_cap(&l, prog, c);
	if (l.mid)
		zt_rules_outf(&o, "\n");
	rc = zt_rules_out_end(&o);
	if (out_len)
		*out_len = rc ? 0 : o.len;
	return rc;
}

static void counter_row(struct zt_rules_out *o, const struct zt_rules *prog,
			const struct zt_rules_counter *counters, unsigned i, bool indent)
{
	zt_rules_outf(o, "%10llu %10llu %6u  %s", (unsigned long long)counters[i].inbound,
		      (unsigned long long)counters[i].outbound, prog->rule_line[i],
		      indent ? "\t" : "");
	zt_rules_print_rule(o, prog, i, -1);
	zt_rules_outf(o, "\n");
}

int zt_rules_counters_format(const struct zt_rules *prog, const struct zt_rules_counter *counters,
			     char *out, size_t cap, size_t *out_len)
{
	struct zt_rules_out o;
	unsigned dflt = prog->rule_count;
	int rc;

	zt_rules_out_init(&o, out, cap);
	zt_rules_outf(&o, "%10s %10s %6s  %s\n", "inbound", "outbound", "line", "rule");
	for (unsigned i = 0; i < prog->base_count; i++)
		counter_row(&o, prog, counters, i, false);
	for (unsigned c = 0; c < prog->cap_count; c++) {
		zt_rules_outf(&o, "%10s %10s %6s  capability %s {\n", "", "", "", prog->cap[c].name);
		for (unsigned i = prog->cap[c].first; i < prog->cap[c].first + prog->cap[c].count; i++)
			counter_row(&o, prog, counters, i, true);
		zt_rules_outf(&o, "%10s %10s %6s  }\n", "", "", "");
	}
	zt_rules_outf(&o, "%10llu %10llu %6s  # no rule decided: default drop\n",
		      (unsigned long long)counters[dflt].inbound,
		      (unsigned long long)counters[dflt].outbound, "-");
	rc = zt_rules_out_end(&o);
	if (out_len)
		*out_len = rc ? 0 : o.len;
	return rc;
}
