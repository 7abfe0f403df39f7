/*
 * eval.c - the hot path: decides one frame against a verified program.
 * Parses the frame once, walks the base set, then the capabilities the
 * sender holds; records the deciding rule, copies to make and counters.
 * No allocation; loops only over verified rule and match counts.
 */
#include "frame.h"

#include <string.h>

enum outcome {
	OUT_NONE,   /* fell off the end of the set, or break */
	OUT_ACCEPT,
	OUT_DROP,
};

struct eval {
	const struct zt_rules *prog;
	const struct zt_rules_meta *meta;
	const struct zt_rules_frame *f;
	struct zt_rules_counter *counters;
	struct zt_rules_result *res;
};

static bool find_tag(const struct zt_rules_tag *tags, unsigned count, uint32_t id, uint32_t *value)
{
	count = ZT_MIN(count, (unsigned)ZT_RULES_MAX_TAGS);
	for (unsigned i = 0; i < count; i++) {
		if (tags[i].id == id) {
			*value = tags[i].value;
			return true;
		}
	}
	return false;
}

static bool match_tag(const struct zt_rules_meta *m, struct zt_rd *p)
{
	uint8_t op = zt_rd_u8(p);
	uint32_t id = zt_rd_be32(p);
	uint32_t want = zt_rd_be32(p);
	uint32_t s = 0, r = 0;
	bool have_s = find_tag(m->sender_tags, m->sender_tag_count, id, &s);
	bool have_r = find_tag(m->receiver_tags, m->receiver_tag_count, id, &r);

	if (op == ZT_RULES_T_SENDER)
		return have_s && s == want;
	if (op == ZT_RULES_T_RECEIVER)
		return have_r && r == want;
	if (!have_s || !have_r)
		return false;
	switch (op) {
	case ZT_RULES_T_EQUALS: return s == want && r == want;
	case ZT_RULES_T_BITAND: return (s & r) == want;
	case ZT_RULES_T_BITOR: return (s | r) == want;
	case ZT_RULES_T_BITXOR: return (s ^ r) == want;
	case ZT_RULES_T_WITHIN: return (s > r ? s - r : r - s) <= want;
	}
	return false;
}

static bool match_prefix(const uint8_t *addr, struct zt_rd *p, size_t bytes)
{
	const uint8_t *net = zt_rd_ref(p, bytes);
	unsigned bits = zt_rd_u8(p);

	if (!net)
		return false;
	for (size_t i = 0; i < bytes && bits; i++) {
		unsigned take = ZT_MIN(bits, 8u);
		uint8_t mask = (uint8_t)(0xff00 >> take);

		if ((addr[i] ^ net[i]) & mask)
			return false;
		bits -= take;
	}
	return true;
}

static bool in_range(struct zt_rd *p, uint16_t v)
{
	uint16_t lo = zt_rd_be16(p);
	uint16_t hi = zt_rd_be16(p);

	return v >= lo && v <= hi;
}

/* Decorrelates `random` matches of different rules that see the same
 * per-frame value (murmur3's finalizer). */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static bool match_random(const struct zt_rules_meta *m, struct zt_rd *p, uint32_t salt)
{
	uint32_t ppm = zt_rd_be32(p);
	uint32_t r = mix32(m->random ^ mix32(salt + 0x9e3779b9u));

	return (uint32_t)(((uint64_t)r * ZT_RULES_PPM) >> 32) < ppm;
}

static bool match_char(const struct zt_rules_frame *f, const struct zt_rules_meta *m, uint8_t c)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	bool is_bcast = f->eth && memcmp(f->dst_mac, bcast, 6) == 0;

	switch (c) {
	case ZT_RULES_C_BROADCAST: return is_bcast;
	case ZT_RULES_C_MULTICAST: return f->eth && (f->dst_mac[0] & 1) && !is_bcast;
	case ZT_RULES_C_INBOUND: return m->dir == ZT_RULES_INBOUND;
	case ZT_RULES_C_OUTBOUND: return m->dir == ZT_RULES_OUTBOUND;
	case ZT_RULES_C_FROM_BRIDGE: return m->sender_is_bridge;
	}
	return false;
}

static bool match_mac(bool eth, const uint8_t *mac, struct zt_rd *p)
{
	const uint8_t *want = zt_rd_ref(p, 6);

	return eth && want && memcmp(mac, want, 6) == 0;
}

static bool match_member(uint64_t member, struct zt_rd *p)
{
	return member != 0 && member == zt_rd_beN(p, 5);
}

static bool match_tos(const struct zt_rules_frame *f, struct zt_rd *p)
{
	uint8_t mask = zt_rd_u8(p);
	uint8_t lo = zt_rd_u8(p);
	uint8_t hi = zt_rd_u8(p);
	uint8_t v = f->tos & mask;

	return f->ip && v >= lo && v <= hi;
}

static bool match_icmp(const struct zt_rules_frame *f, struct zt_rd *p)
{
	uint8_t type = zt_rd_u8(p);
	uint8_t code = zt_rd_u8(p);
	uint8_t has_code = zt_rd_u8(p);

	return f->has_icmp && f->icmp_type == type && (!has_code || f->icmp_code == code);
}

static bool match_tcp_flags(const struct zt_rules_frame *f, struct zt_rd *p)
{
	uint16_t mask = zt_rd_be16(p);
	uint16_t value = zt_rd_be16(p);

	return f->has_tcp_flags && (f->tcp_flags & mask) == value;
}

/* One match, before negation. p holds exactly the verified payload. */
static bool match_one(const struct eval *e, uint8_t type, struct zt_rd *p, uint32_t salt)
{
	const struct zt_rules_frame *f = e->f;
	const struct zt_rules_meta *m = e->meta;

	switch (type) {
	case ZT_RULES_M_SRC_MEMBER: return match_member(m->src_member, p);
	case ZT_RULES_M_DST_MEMBER: return match_member(m->dst_member, p);
	case ZT_RULES_M_SRC_MAC: return match_mac(f->eth, f->src_mac, p);
	case ZT_RULES_M_DST_MAC: return match_mac(f->eth, f->dst_mac, p);
	case ZT_RULES_M_ETHERTYPE: return f->has_type && f->ethertype == zt_rd_be16(p);
	case ZT_RULES_M_VLAN_ID: return f->vlan && f->vlan_id == zt_rd_be16(p);
	case ZT_RULES_M_VLAN_PCP: return f->vlan && f->vlan_pcp == zt_rd_u8(p);
	case ZT_RULES_M_SRC_IPV4: return f->ip == 4 && match_prefix(f->src_ip, p, 4);
	case ZT_RULES_M_DST_IPV4: return f->ip == 4 && match_prefix(f->dst_ip, p, 4);
	case ZT_RULES_M_SRC_IPV6: return f->ip == 6 && match_prefix(f->src_ip, p, 16);
	case ZT_RULES_M_DST_IPV6: return f->ip == 6 && match_prefix(f->dst_ip, p, 16);
	case ZT_RULES_M_IPPROTO: return f->has_proto && f->proto == zt_rd_u8(p);
	case ZT_RULES_M_TOS: return match_tos(f, p);
	case ZT_RULES_M_ICMP: return match_icmp(f, p);
	case ZT_RULES_M_SPORT: return f->has_ports && in_range(p, f->sport);
	case ZT_RULES_M_DPORT: return f->has_ports && in_range(p, f->dport);
	case ZT_RULES_M_TCP_FLAGS: return match_tcp_flags(f, p);
	case ZT_RULES_M_SIZE: return in_range(p, (uint16_t)ZT_MIN(f->len, (size_t)0xffff));
	case ZT_RULES_M_CHAR: return match_char(f, m, zt_rd_u8(p));
	case ZT_RULES_M_TAG: return match_tag(m, p);
	case ZT_RULES_M_RANDOM: return match_random(m, p, salt);
	}
	return false;
}

/* Does rule `idx` match? Its condition is an or of and-terms; on a match
 * *term says which term. *action and *target come from the rule header. */
static bool rule_matches(const struct eval *e, unsigned idx, uint8_t *action, uint64_t *target,
			 int *term)
{
	const struct zt_rules *prog = e->prog;
	struct zt_rd rd;
	uint8_t nmatch;
	bool ok = true;
	int t = 0;

	zt_rd_init(&rd, prog->blob, prog->len);
	zt_rd_ref(&rd, prog->rule_off[idx]);
	*action = zt_rd_u8(&rd);
	nmatch = zt_rd_u8(&rd);
	*target = zt_rd_beN(&rd, 5);
	for (unsigned i = 0; i < nmatch; i++) {
		uint8_t type = zt_rd_u8(&rd);
		uint8_t flags = zt_rd_u8(&rd);
		uint8_t n = zt_rd_u8(&rd);
		const uint8_t *payload = zt_rd_ref(&rd, n);
		struct zt_rd p;

		if (rd.err)
			return false; /* unreachable for a verified program */
		if (flags & ZT_RULES_F_OR) {
			if (ok)
				break;
			ok = true;
			t++;
		}
		if (!ok)
			continue;
		zt_rd_init(&p, payload, n);
		ok = match_one(e, type, &p, (idx << 8) | i) != !!(flags & ZT_RULES_F_NOT);
	}
	*term = t;
	return ok;
}

static void count(const struct eval *e, unsigned idx)
{
	if (!e->counters)
		return;
	if (e->meta->dir == ZT_RULES_INBOUND)
		e->counters[idx].inbound++;
	else
		e->counters[idx].outbound++;
}

static void add_copy(const struct eval *e, unsigned idx, uint8_t action, uint64_t target)
{
	struct zt_rules_result *res = e->res;

	if (res->side_count >= ZT_RULES_MAX_SIDE) {
		res->side_overflow = true;
		return;
	}
	res->side[res->side_count++] = (struct zt_rules_side){
		.target = target,
		.rule = (uint16_t)idx,
		.action = action,
		.dir = (uint8_t)e->meta->dir,
	};
}

static void decide(const struct eval *e, unsigned idx, int term, int cap, enum zt_rules_verdict v)
{
	e->res->verdict = v;
	e->res->rule = (int)idx;
	e->res->term = term;
	e->res->cap = cap;
}

/* Run rules first..first+count-1; cap is -1 for the base set. */
static enum outcome run_set(const struct eval *e, unsigned first, unsigned count_, int cap)
{
	for (unsigned idx = first; idx < first + count_; idx++) {
		uint8_t action;
		uint64_t target;
		int term;

		if (!rule_matches(e, idx, &action, &target, &term))
			continue;
		count(e, idx);
		switch (action) {
		case ZT_RULES_ACT_ACCEPT:
			decide(e, idx, term, cap, ZT_RULES_ACCEPT);
			return OUT_ACCEPT;
		case ZT_RULES_ACT_REDIRECT:
			decide(e, idx, term, cap, ZT_RULES_ACCEPT);
			e->res->redirect_to = target;
			return OUT_ACCEPT;
		case ZT_RULES_ACT_DROP:
			if (cap < 0)
				decide(e, idx, term, cap, ZT_RULES_DROP);
			return OUT_DROP;
		case ZT_RULES_ACT_BREAK:
			if (cap < 0)
				e->res->break_rule = (int)idx;
			return OUT_NONE;
		case ZT_RULES_ACT_TEE:
		case ZT_RULES_ACT_WATCH:
			add_copy(e, idx, action, target);
			break;
		}
	}
	return OUT_NONE;
}

static void result_init(struct zt_rules_result *res)
{
	res->verdict = ZT_RULES_DROP;
	res->rule = ZT_RULES_BY_DEFAULT;
	res->term = -1;
	res->cap = -1;
	res->break_rule = -1;
	res->redirect_to = 0;
	res->side_count = 0;
	res->side_overflow = false;
}

enum zt_rules_verdict zt_rules_eval(const struct zt_rules *prog, const struct zt_rules_meta *meta,
				    const void *frame, size_t len,
				    struct zt_rules_counter *counters, struct zt_rules_result *res)
{
	struct zt_rules_frame f;
	struct eval e = {prog, meta, &f, counters, res};

	result_init(res);
	if (!prog || prog->rule_count == 0) {
		res->verdict = ZT_RULES_ACCEPT;
		res->rule = ZT_RULES_BY_NONE;
		return res->verdict;
	}
	zt_rules_frame_parse(&f, frame, len);
	if (run_set(&e, 0, prog->base_count, -1) != OUT_NONE)
		return res->verdict;
	/* Capabilities only grant: a drop in one just ends that one. */
	for (unsigned c = 0; c < prog->cap_count; c++) {
		if (!(meta->caps & (1u << c)))
			continue;
		if (run_set(&e, prog->cap[c].first, prog->cap[c].count, (int)c) == OUT_ACCEPT)
			return res->verdict;
	}
	if (counters)
		count(&e, prog->rule_count);
	return res->verdict;
}
