/*
 * explain.c - how the engine explains itself: a one-line summary of a frame
 * as rules see it, and the trace of one decision (direction, frame, members,
 * the deciding rule with its line and the or-term that matched, break into
 * capabilities, copies made). Reads results; decides nothing.
 */
#include "frame.h"

#include <stdio.h>
#include <string.h>

static void summary_tcp_flags(struct zt_rules_out *o, uint16_t flags)
{
	const char *sep = "";

	zt_rules_outf(o, " [");
	for (size_t i = 0; i < zt_rules_tcp_flag_count; i++) {
		if (!(flags & zt_rules_tcp_flags[i].value))
			continue;
		zt_rules_outf(o, "%s", sep);
		for (const char *p = zt_rules_tcp_flags[i].name; *p; p++)
			zt_rules_outf(o, "%c", *p - 'a' + 'A');
		sep = ",";
	}
	zt_rules_outf(o, "]");
}

static void summary_endpoint(struct zt_rules_out *o, const struct zt_rules_frame *f,
			     const uint8_t *addr, uint16_t port)
{
	int bytes = f->ip == 4 ? 4 : 16;

	if (!f->has_ports) {
		zt_rules_out_ip(o, addr, bytes);
		return;
	}
	zt_rules_outf(o, "%s", bytes == 16 ? "[" : "");
	zt_rules_out_ip(o, addr, bytes);
	zt_rules_outf(o, "%s:%u", bytes == 16 ? "]" : "", port);
}

static void summary_ip(struct zt_rules_out *o, const struct zt_rules_frame *f)
{
	const char *proto = zt_rules_name_of(zt_rules_ipprotos, zt_rules_ipproto_count, f->proto);

	zt_rules_outf(o, " ipv%u", f->ip);
	if (!f->has_proto)
		zt_rules_outf(o, " (extension headers truncated)");
	else if (proto)
		zt_rules_outf(o, " %s", proto);
	else
		zt_rules_outf(o, " proto %u", f->proto);
	zt_rules_outf(o, " ");
	summary_endpoint(o, f, f->src_ip, f->sport);
	zt_rules_outf(o, " -> ");
	summary_endpoint(o, f, f->dst_ip, f->dport);
	if (f->has_tcp_flags)
		summary_tcp_flags(o, f->tcp_flags);
	if (f->has_icmp)
		zt_rules_outf(o, " type %u code %u", f->icmp_type, f->icmp_code);
	if (f->tos)
		zt_rules_outf(o, " tos 0x%02x", f->tos);
	if (f->fragment)
		zt_rules_outf(o, " (later fragment: no ports)");
	else if (f->has_proto && !f->has_ports && !f->has_icmp &&
		 (f->proto == 6 || f->proto == 17 || f->proto == 1 || f->proto == 58))
		zt_rules_outf(o, " (transport header truncated)");
}

static void summary_l3(struct zt_rules_out *o, const struct zt_rules_frame *f)
{
	const char *name;

	if (f->ip) {
		summary_ip(o, f);
		return;
	}
	if (f->arp) {
		zt_rules_outf(o, " arp %s ", f->arp_op == 1 ? "request" : f->arp_op == 2 ? "reply" : "op");
		zt_rules_out_ip(o, f->arp_spa, 4);
		zt_rules_outf(o, " -> ");
		zt_rules_out_ip(o, f->arp_tpa, 4);
		return;
	}
	name = zt_rules_name_of(zt_rules_ethertypes, zt_rules_ethertype_count, f->ethertype);
	zt_rules_outf(o, " ethertype 0x%04x", f->ethertype);
	if (f->ethertype == 0x0800 || f->ethertype == 0x86dd || f->ethertype == 0x0806)
		zt_rules_outf(o, " (%s, malformed or truncated)", name);
	else if (name)
		zt_rules_outf(o, " (%s)", name);
}

static void summary(struct zt_rules_out *o, const void *frame, size_t len)
{
	struct zt_rules_frame f;

	zt_rules_frame_parse(&f, frame, len);
	if (!f.eth) {
		zt_rules_outf(o, "short frame, %zu bytes (no Ethernet header)", len);
		return;
	}
	zt_rules_out_mac(o, f.src_mac);
	zt_rules_outf(o, " -> ");
	zt_rules_out_mac(o, f.dst_mac);
	if (f.vlan)
		zt_rules_outf(o, " vlan %u pcp %u", f.vlan_id, f.vlan_pcp);
	if (!f.has_type)
		zt_rules_outf(o, " (VLAN tag truncated)");
	else
		summary_l3(o, &f);
	zt_rules_outf(o, ", %zu bytes", len);
}

int zt_rules_frame_summary(const void *frame, size_t len, char *out, size_t cap)
{
	struct zt_rules_out o;

	zt_rules_out_init(&o, out, cap);
	summary(&o, frame, len);
	return zt_rules_out_end(&o);
}

static void member(struct zt_rules_out *o, uint64_t addr)
{
	if (addr)
		zt_rules_outf(o, "%010llx", (unsigned long long)(addr & ZT_RULES_ADDR_MAX));
	else
		zt_rules_outf(o, "(none)");
}

static void explain_caps(struct zt_rules_out *o, const struct zt_rules *prog,
			 const struct zt_rules_meta *meta)
{
	const char *sep = "";

	if (!prog->cap_count)
		return;
	zt_rules_outf(o, "capabilities held:");
	for (unsigned c = 0; c < prog->cap_count; c++) {
		if (!(meta->caps & (1u << c)))
			continue;
		zt_rules_outf(o, "%s %s", sep, prog->cap[c].name);
		sep = ",";
	}
	zt_rules_outf(o, "%s\n", *sep ? "" : " none");
}

static void explain_rule(struct zt_rules_out *o, const struct zt_rules *prog,
			 const struct zt_rules_result *res)
{
	unsigned r = (unsigned)res->rule;

	zt_rules_outf(o, "%s by rule %u at line %u", res->verdict == ZT_RULES_ACCEPT ? "accept" : "drop",
		      r, prog->rule_line[r]);
	if (res->cap >= 0 && res->cap < prog->cap_count)
		zt_rules_outf(o, " (capability %s)", prog->cap[res->cap].name);
	zt_rules_outf(o, ": ");
	zt_rules_print_rule(o, prog, r, -1);
	zt_rules_outf(o, "\n  matched: ");
	zt_rules_print_rule(o, prog, r, res->term);
	zt_rules_outf(o, "\n");
	if (res->redirect_to) {
		zt_rules_outf(o, "  redirected to ");
		member(o, res->redirect_to);
		zt_rules_outf(o, " instead of its destination\n");
	}
}

static void explain_copies(struct zt_rules_out *o, const struct zt_rules *prog,
			   const struct zt_rules_result *res)
{
	unsigned n = ZT_MIN(res->side_count, (unsigned)ZT_RULES_MAX_SIDE);

	for (unsigned i = 0; i < n; i++) {
		const struct zt_rules_side *s = &res->side[i];

		zt_rules_outf(o, "  %s copy to ", zt_rules_action_name(s->action));
		member(o, s->target);
		if (s->rule < prog->rule_count)
			zt_rules_outf(o, " by rule %u at line %u", s->rule, prog->rule_line[s->rule]);
		zt_rules_outf(o, "\n");
	}
	if (res->side_overflow)
		zt_rules_outf(o, "  more copies matched than %d; the rest were not made\n",
			      ZT_RULES_MAX_SIDE);
}

int zt_rules_explain(const struct zt_rules *prog, const struct zt_rules_meta *meta,
		     const void *frame, size_t len, const struct zt_rules_result *res,
		     char *out, size_t cap)
{
	struct zt_rules_out o;

	zt_rules_out_init(&o, out, cap);
	zt_rules_outf(&o, "%s ", meta->dir == ZT_RULES_INBOUND ? "in" : "out");
	summary(&o, frame, len);
	zt_rules_outf(&o, "\nmembers: ");
	member(&o, meta->src_member);
	zt_rules_outf(&o, " -> ");
	member(&o, meta->dst_member);
	zt_rules_outf(&o, "%s\n", meta->sender_is_bridge ? " (sender is a bridge)" : "");
	if (res->rule == ZT_RULES_BY_NONE || !prog || prog->rule_count == 0) {
		zt_rules_outf(&o, "accept: the network has no rules\n");
		return zt_rules_out_end(&o);
	}
	explain_caps(&o, prog, meta);
	if (res->break_rule >= 0 && res->break_rule < prog->rule_count)
		zt_rules_outf(&o, "base rules left by break at rule %d, line %u\n", res->break_rule,
			      prog->rule_line[res->break_rule]);
	if (res->rule >= 0 && res->rule < prog->rule_count)
		explain_rule(&o, prog, res);
	else
		zt_rules_outf(&o, "drop: no rule decided (default)\n");
	explain_copies(&o, prog, res);
	return zt_rules_out_end(&o);
}
