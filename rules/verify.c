/*
 * verify.c - the gate between the network and the evaluator: checks a rules
 * blob whole (every length and offset inside the blob, every count under its
 * maximum, every field canonical) and indexes it into a struct zt_rules.
 * It says why it refused; it never evaluates anything.
 */
#include "format.h"

#include <stdio.h>
#include <string.h>

static int refuse(struct zt_rules_error *err, size_t off, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct zt_rules_error *err, size_t off, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->offset = off;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

/* Offset of the reader's position in the blob. */
static size_t at(const struct zt_rd *rd, size_t len)
{
	return len - rd->left;
}

static const char *check_ports(struct zt_rd *p)
{
	uint16_t lo = zt_rd_be16(p);
	uint16_t hi = zt_rd_be16(p);

	return lo > hi ? "range low end above high end" : NULL;
}

static const char *check_prefix(struct zt_rd *p, size_t bytes)
{
	const uint8_t *addr = zt_rd_ref(p, bytes);
	uint8_t bits = zt_rd_u8(p);

	if (!addr || bits > bytes * 8)
		return "prefix length too long";
	if (!zt_rules_prefix_ok(addr, bytes, bits))
		return "address has bits set past its prefix length";
	return NULL;
}

static const char *check_tos(struct zt_rd *p)
{
	uint8_t mask = zt_rd_u8(p);
	uint8_t lo = zt_rd_u8(p);
	uint8_t hi = zt_rd_u8(p);

	if (mask == 0)
		return "tos mask is zero";
	if ((lo | hi) & (uint8_t)~mask)
		return "tos range has bits outside its mask";
	return lo > hi ? "range low end above high end" : NULL;
}

static const char *check_icmp(struct zt_rd *p)
{
	zt_rd_u8(p);
	uint8_t code = zt_rd_u8(p);
	uint8_t has_code = zt_rd_u8(p);

	if (has_code > 1 || (!has_code && code))
		return "icmp code flag invalid";
	return NULL;
}

static const char *check_tcp_flags(struct zt_rd *p)
{
	uint16_t mask = zt_rd_be16(p);
	uint16_t value = zt_rd_be16(p);

	if (mask == 0 || mask > 0x1ff)
		return "tcp flag mask empty or beyond ns";
	return (value & ~mask) ? "tcp flag value outside its mask" : NULL;
}

static const char *check_tag(struct zt_rd *p)
{
	uint8_t op = zt_rd_u8(p);

	return (op == 0 || op >= ZT_RULES_T_COUNT) ? "unknown tag operation" : NULL;
}

/* The payload of one match, already known to be exactly its type's size. */
static const char *check_payload(uint8_t type, const uint8_t *payload, size_t n)
{
	struct zt_rd p;
	uint8_t v;

	zt_rd_init(&p, payload, n);
	switch (type) {
	case ZT_RULES_M_SRC_MEMBER:
	case ZT_RULES_M_DST_MEMBER:
		return zt_rd_beN(&p, 5) == 0 ? "member address 0000000000 is reserved" : NULL;
	case ZT_RULES_M_VLAN_ID:
		return zt_rd_be16(&p) > 4095 ? "vlan id above 4095" : NULL;
	case ZT_RULES_M_VLAN_PCP:
		return zt_rd_u8(&p) > 7 ? "vlan priority above 7" : NULL;
	case ZT_RULES_M_SRC_IPV4:
	case ZT_RULES_M_DST_IPV4:
		return check_prefix(&p, 4);
	case ZT_RULES_M_SRC_IPV6:
	case ZT_RULES_M_DST_IPV6:
		return check_prefix(&p, 16);
	case ZT_RULES_M_TOS:
		return check_tos(&p);
	case ZT_RULES_M_ICMP:
		return check_icmp(&p);
	case ZT_RULES_M_SPORT:
	case ZT_RULES_M_DPORT:
	case ZT_RULES_M_SIZE:
		return check_ports(&p);
	case ZT_RULES_M_TCP_FLAGS:
		return check_tcp_flags(&p);
	case ZT_RULES_M_CHAR:
		v = zt_rd_u8(&p);
		return (v == 0 || v >= ZT_RULES_C_COUNT) ? "unknown characteristic" : NULL;
	case ZT_RULES_M_TAG:
		return check_tag(&p);
	case ZT_RULES_M_RANDOM:
		return zt_rd_be32(&p) > ZT_RULES_PPM ? "probability above 100%" : NULL;
	default:
		return NULL; /* MACs, ethertype, ip protocol: every value is valid */
	}
}

static int check_match(struct zt_rd *rd, size_t len, unsigned rule, unsigned i,
		       struct zt_rules_error *err)
{
	size_t off = at(rd, len);
	uint8_t type = zt_rd_u8(rd);
	uint8_t flags = zt_rd_u8(rd);
	uint8_t n = zt_rd_u8(rd);
	const uint8_t *payload = zt_rd_ref(rd, n);
	const char *why;

	if (rd->err)
		return refuse(err, off, ZT_ETRUNC, "rule %u match %u: truncated", rule, i);
	if (type == 0 || type >= ZT_RULES_M_COUNT)
		return refuse(err, off, ZT_EINVAL, "rule %u match %u: unknown match type %u",
			      rule, i, type);
	if (flags & ~(ZT_RULES_F_NOT | ZT_RULES_F_OR))
		return refuse(err, off + 1, ZT_EINVAL, "rule %u match %u: unknown flags 0x%02x",
			      rule, i, flags);
	if (i == 0 && (flags & ZT_RULES_F_OR))
		return refuse(err, off + 1, ZT_EINVAL, "rule %u: first match cannot start an or-term",
			      rule);
	if (n != zt_rules_match_bytes[type])
		return refuse(err, off + 2, ZT_EINVAL, "rule %u match %u: type %u takes %u bytes, not %u",
			      rule, i, type, zt_rules_match_bytes[type], n);
	why = check_payload(type, payload, n);
	if (why)
		return refuse(err, off + 3, ZT_EINVAL, "rule %u match %u: %s", rule, i, why);
	return 0;
}

static bool action_has_target(uint8_t action)
{
	return action == ZT_RULES_ACT_TEE || action == ZT_RULES_ACT_REDIRECT ||
	       action == ZT_RULES_ACT_WATCH;
}

static int check_rule(struct zt_rd *rd, size_t len, unsigned rule, struct zt_rules_error *err)
{
	size_t off = at(rd, len);
	uint8_t action = zt_rd_u8(rd);
	uint8_t nmatch = zt_rd_u8(rd);
	uint64_t target = zt_rd_beN(rd, 5);
	int rc;

	if (rd->err)
		return refuse(err, off, ZT_ETRUNC, "rule %u: truncated", rule);
	if (action < ZT_RULES_ACT_ACCEPT || action > ZT_RULES_ACT_WATCH)
		return refuse(err, off, ZT_EINVAL, "rule %u: unknown action %u", rule, action);
	if (nmatch > ZT_RULES_MAX_MATCHES)
		return refuse(err, off + 1, ZT_ETOOBIG, "rule %u: %u matches, max %d",
			      rule, nmatch, ZT_RULES_MAX_MATCHES);
	if (action_has_target(action) && target == 0)
		return refuse(err, off + 2, ZT_EINVAL, "rule %u: %s needs a member address",
			      rule, zt_rules_action_name(action));
	if (!action_has_target(action) && target != 0)
		return refuse(err, off + 2, ZT_EINVAL, "rule %u: %s takes no member address",
			      rule, zt_rules_action_name(action));
	for (unsigned i = 0; i < nmatch; i++) {
		rc = check_match(rd, len, rule, i, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_caps(struct zt_rd *rd, size_t len, struct zt_rules *prog, unsigned cap_count,
		      unsigned *rules_in_caps, struct zt_rules_error *err)
{
	for (unsigned i = 0; i < cap_count; i++) {
		size_t off = at(rd, len);
		uint8_t name_len = zt_rd_u8(rd);
		const uint8_t *name = zt_rd_ref(rd, name_len);
		uint16_t count = zt_rd_be16(rd);

		if (rd->err)
			return refuse(err, off, ZT_ETRUNC, "capability %u: truncated", i);
		if (!zt_rules_cap_name_ok(name, name_len))
			return refuse(err, off, ZT_EINVAL, "capability %u: invalid name", i);
		for (unsigned j = 0; j < i; j++)
			if (strlen(prog->cap[j].name) == name_len &&
			    memcmp(prog->cap[j].name, name, name_len) == 0)
				return refuse(err, off, ZT_EINVAL, "capability %u: duplicate name %s",
					      i, prog->cap[j].name);
		memcpy(prog->cap[i].name, name, name_len);
		prog->cap[i].name[name_len] = '\0';
		prog->cap[i].first = (uint16_t)(prog->base_count + *rules_in_caps);
		prog->cap[i].count = count;
		*rules_in_caps += count;
	}
	return 0;
}

static int check_lines(struct zt_rd *rd, size_t len, struct zt_rules *prog,
		       struct zt_rules_error *err)
{
	uint32_t prev = 1;

	for (unsigned i = 0; i < prog->rule_count; i++) {
		size_t off = at(rd, len);
		uint32_t line = zt_rd_be32(rd);

		if (rd->err)
			return refuse(err, off, ZT_ETRUNC, "line table truncated at rule %u", i);
		if (line < prev || line > ZT_RULES_MAX_LINE)
			return refuse(err, off, ZT_EINVAL, "rule %u: line %u out of order or range",
				      i, line);
		prog->rule_line[i] = line;
		prev = line;
	}
	return 0;
}

static int check_header(struct zt_rd *rd, size_t len, struct zt_rules *prog,
			struct zt_rules_error *err)
{
	uint32_t magic = zt_rd_be32(rd);
	uint8_t version = zt_rd_u8(rd);
	uint8_t cap_count = zt_rd_u8(rd);
	uint16_t total = zt_rd_be16(rd);
	uint16_t rule_count = zt_rd_be16(rd);
	uint16_t base_count = zt_rd_be16(rd);

	if (rd->err)
		return refuse(err, 0, ZT_ETRUNC, "header needs %d bytes, have %zu",
			      ZT_RULES_HDR_BYTES, len);
	if (magic != ZT_RULES_MAGIC)
		return refuse(err, 0, ZT_EINVAL, "not a rules program (bad magic)");
	if (version != ZT_RULES_VERSION)
		return refuse(err, 4, ZT_EVERSION, "format version %u, this build reads %d",
			      version, ZT_RULES_VERSION);
	if (cap_count > ZT_RULES_MAX_CAPS)
		return refuse(err, 5, ZT_ETOOBIG, "%u capabilities, max %d",
			      cap_count, ZT_RULES_MAX_CAPS);
	if (total > len)
		return refuse(err, 6, ZT_ETRUNC, "truncated: header says %u bytes, have %zu",
			      total, len);
	if (total < len)
		return refuse(err, total, ZT_EINVAL, "%zu bytes after the end of the program",
			      len - total);
	if (rule_count > ZT_RULES_MAX_RULES)
		return refuse(err, 8, ZT_ETOOBIG, "%u rules, max %d", rule_count, ZT_RULES_MAX_RULES);
	if (base_count > rule_count)
		return refuse(err, 10, ZT_EINVAL, "%u base rules but %u rules in all",
			      base_count, rule_count);
	prog->len = total;
	prog->cap_count = cap_count;
	prog->rule_count = rule_count;
	prog->base_count = base_count;
	return 0;
}

static int walk(struct zt_rules *prog, const void *blob, size_t len, struct zt_rules_error *err)
{
	struct zt_rd rd;
	unsigned in_caps = 0;
	int rc;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!blob)
		return refuse(err, 0, ZT_EINVAL, "no program");
	if (len > ZT_RULES_MAX_BYTES)
		return refuse(err, 0, ZT_ETOOBIG, "program is %zu bytes, max %d",
			      len, ZT_RULES_MAX_BYTES);
	zt_rd_init(&rd, blob, len);
	rc = check_header(&rd, len, prog, err);
	if (rc)
		return rc;
	rc = check_caps(&rd, len, prog, prog->cap_count, &in_caps, err);
	if (rc)
		return rc;
	if (prog->base_count + in_caps != prog->rule_count)
		return refuse(err, 8, ZT_EINVAL, "rule count %u is not base %u + capabilities %u",
			      prog->rule_count, prog->base_count, in_caps);
	for (unsigned i = 0; i < prog->rule_count; i++) {
		prog->rule_off[i] = (uint16_t)at(&rd, len);
		rc = check_rule(&rd, len, i, err);
		if (rc)
			return rc;
	}
	rc = check_lines(&rd, len, prog, err);
	if (rc)
		return rc;
	if (rd.left)
		return refuse(err, at(&rd, len), ZT_EINVAL, "%zu unused bytes before the end",
			      rd.left);
	memcpy(prog->blob, blob, len);
	return 0;
}

int zt_rules_load(struct zt_rules *prog, const void *blob, size_t len, struct zt_rules_error *err)
{
	int rc;

	memset(prog, 0, offsetof(struct zt_rules, blob));
	rc = walk(prog, blob, len, err);
	if (rc)
		memset(prog, 0, offsetof(struct zt_rules, blob));
	return rc;
}

int zt_rules_verify(const void *blob, size_t len, struct zt_rules_error *err)
{
	/* The index is needed while walking (names, counts); keep it off the stack. */
	static _Thread_local struct zt_rules scratch;

	return zt_rules_load(&scratch, blob, len, err);
}

int zt_rules_cap_find(const struct zt_rules *prog, const char *name)
{
	for (unsigned i = 0; i < prog->cap_count; i++)
		if (strcmp(prog->cap[i].name, name) == 0)
			return (int)i;
	return ZT_ENOENT;
}

int zt_rules_rule_cap(const struct zt_rules *prog, unsigned rule)
{
	for (unsigned i = 0; i < prog->cap_count; i++)
		if (rule >= prog->cap[i].first && rule < prog->cap[i].first + prog->cap[i].count)
			return (int)i;
	return -1;
}

size_t zt_rules_counter_slots(const struct zt_rules *prog)
{
	return (prog ? prog->rule_count : 0) + 1u;
}
