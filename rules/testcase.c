/*
 * testcase.c - rules tests before deploying: reads one case line ("out tcp
 * 10.0.0.1:1234 -> 10.0.0.2:22 expect drop"), builds the real frame and the
 * evaluator metadata it describes, and checks a verdict against what the
 * case expects. Grammar: README.md. Evaluation itself is eval.c's.
 */
#include "lex.h"

#include <stdio.h>
#include <string.h>

enum l4_kind { K_TCP, K_UDP, K_SCTP, K_ICMP, K_IP, K_ARP, K_ETHER };

static const struct zt_rules_name kinds[] = {
	{"tcp", K_TCP}, {"udp", K_UDP}, {"sctp", K_SCTP}, {"icmp", K_ICMP},
	{"ip", K_IP}, {"arp", K_ARP}, {"ether", K_ETHER},
};

struct spec {
	enum l4_kind kind;
	unsigned ip_bytes; /* 4 or 16; 0 for ether */
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint16_t sport;
	uint16_t dport;
	bool src_mac_set;
	bool dst_mac_set;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	bool vlan;
	uint16_t vlan_id;
	uint8_t pcp;
	uint8_t tos;
	uint16_t tcp_flags;
	bool icmp_type_set;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t proto;
	uint16_t ethertype;
	size_t size;      /* 0: just the headers */
	size_t truncate;  /* SIZE_MAX: keep it all */
};

struct reader {
	struct zt_rules_lex lx;
	struct zt_rules_tok tok;
	struct zt_rules_error *err;
	const struct zt_rules *prog;
	struct zt_rules_case *c;
	struct spec s;
	struct zt_rules_tok size_tok; /* where "size" was given, for its error */
};

static int fail_at(struct reader *r, const struct zt_rules_tok *t, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static int fail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_size(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail_at(struct reader *r, const struct zt_rules_tok *t, const char *fmt, va_list ap)
{
	r->err->line = t->line;
	r->err->col = t->col;
	vsnprintf(r->err->msg, sizeof(r->err->msg), fmt, ap);
	return ZT_EPARSE;
}

static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = fail_at(r, &r->tok, fmt, ap);
	va_end(ap);
	return rc;
}

static int fail_size(struct reader *r, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = fail_at(r, &r->size_tok, fmt, ap);
	va_end(ap);
	return rc;
}

static void next(struct reader *r)
{
	zt_rules_lex_next(&r->lx, &r->tok);
}

/* Move to the next token, which must be a word (the value of `what`). */
static int word(struct reader *r, const char *what)
{
	next(r);
	if (r->tok.kind != ZT_RULES_TOK_WORD)
		return fail(r, "expected %s", what);
	return 0;
}

static int number(struct reader *r, const char *what, uint32_t max, uint32_t *v)
{
	if (word(r, what))
		return ZT_EPARSE;
	if (zt_rules_parse_u32(r->tok.s, r->tok.n, max, v))
		return fail(r, "expected %s (0-%u)", what, max);
	return 0;
}

/* IPv4 "a.b.c.d[:port]" or IPv6 "[addr][:port]" (brackets needed with a port). */
static int endpoint(struct reader *r, bool with_port, uint8_t addr[16], uint16_t *port)
{
	const char *s = r->tok.s, *colon;
	size_t n = r->tok.n, alen;
	unsigned bytes;
	uint32_t v;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (!close)
			return fail(r, "IPv6 address with a port needs brackets: [fd00::1]:80");
		alen = (size_t)(close - s) - 1;
		colon = (size_t)(close - s) + 1 < n ? close + 1 : NULL;
		if (colon && *colon != ':')
			return fail(r, "expected ':' and a port after ']'");
		s++;
	} else {
		colon = memchr(s, ':', n);
		if (colon && memchr(colon + 1, ':', n - (size_t)(colon - s) - 1))
			colon = NULL; /* a bare IPv6 address */
		alen = colon ? (size_t)(colon - s) : n;
	}
	if (zt_rules_parse_ip(s, alen, addr, &bytes))
		return fail(r, "expected an IP address");
	if (r->s.ip_bytes && bytes != r->s.ip_bytes)
		return fail(r, "source and destination must both be IPv4 or both IPv6");
	r->s.ip_bytes = bytes;
	if (with_port != (colon != NULL))
		return fail(r, with_port ? "expected ADDRESS:PORT" : "this frame has no ports");
	if (!with_port)
		return 0;
	if (zt_rules_parse_u32(colon + 1, r->tok.n - (size_t)(colon + 1 - r->tok.s), 0xffff, &v))
		return fail(r, "port must be 0-65535");
	*port = (uint16_t)v;
	return 0;
}

static int addresses(struct reader *r)
{
	bool ports = r->s.kind <= K_SCTP;

	if (word(r, ports ? "SOURCE:PORT" : "a source address"))
		return ZT_EPARSE;
	if (endpoint(r, ports, r->s.src_ip, &r->s.sport))
		return ZT_EPARSE;
	if (word(r, "'->'") || !zt_rules_tok_is(&r->tok, "->"))
		return fail(r, "expected '->' between source and destination");
	if (word(r, ports ? "DESTINATION:PORT" : "a destination address"))
		return ZT_EPARSE;
	if (endpoint(r, ports, r->s.dst_ip, &r->s.dport))
		return ZT_EPARSE;
	if (r->s.kind == K_ARP && r->s.ip_bytes != 4)
		return fail(r, "arp carries IPv4 addresses");
	return 0;
}

static int frame_kind(struct reader *r)
{
	long kind;
	uint32_t v;

	if (word(r, "tcp, udp, sctp, icmp, ip, arp or ether"))
		return ZT_EPARSE;
	kind = zt_rules_name_value(kinds, ZT_ARRAY_LEN(kinds), r->tok.s, r->tok.n);
	if (kind < 0)
		return fail(r, "expected tcp, udp, sctp, icmp, ip, arp or ether");
	r->s.kind = (enum l4_kind)kind;
	if (r->s.kind != K_ETHER)
		return addresses(r);
	if (word(r, "an ethertype"))
		return ZT_EPARSE;
	kind = zt_rules_name_value(zt_rules_ethertypes, zt_rules_ethertype_count, r->tok.s, r->tok.n);
	if (kind >= 0) {
		r->s.ethertype = (uint16_t)kind;
		return 0;
	}
	if (zt_rules_parse_u32(r->tok.s, r->tok.n, 0xffff, &v))
		return fail(r, "expected an ethertype (0x88cc, lldp, ...)");
	r->s.ethertype = (uint16_t)v;
	return 0;
}

static int tag(struct reader *r, bool sender)
{
	struct zt_rules_meta *m = &r->c->meta;
	unsigned *count = sender ? &m->sender_tag_count : &m->receiver_tag_count;
	struct zt_rules_tag *t = sender ? &m->sender_tags[*count] : &m->receiver_tags[*count];

	if (*count == ZT_RULES_MAX_TAGS)
		return fail(r, "at most %d tags per member", ZT_RULES_MAX_TAGS);
	if (number(r, "a tag id", UINT32_MAX, &t->id) || number(r, "a tag value", UINT32_MAX, &t->value))
		return ZT_EPARSE;
	(*count)++;
	return 0;
}

static int member(struct reader *r, uint64_t *addr)
{
	if (word(r, "a member address (10 hex digits)"))
		return ZT_EPARSE;
	if (zt_rules_parse_member(r->tok.s, r->tok.n, addr))
		return fail(r, "expected a member address (10 hex digits)");
	return 0;
}

static int mac(struct reader *r, uint8_t out[6], bool *set)
{
	if (word(r, "a MAC address"))
		return ZT_EPARSE;
	if (zt_rules_parse_mac(r->tok.s, r->tok.n, out))
		return fail(r, "expected a MAC address like 02:00:00:00:00:01");
	*set = true;
	return 0;
}

static int cap(struct reader *r)
{
	char name[ZT_RULES_MAX_NAME + 1];
	int idx;

	if (word(r, "a capability name"))
		return ZT_EPARSE;
	if (r->tok.n > ZT_RULES_MAX_NAME)
		return fail(r, "capability name too long");
	memcpy(name, r->tok.s, r->tok.n);
	name[r->tok.n] = '\0';
	idx = r->prog ? zt_rules_cap_find(r->prog, name) : ZT_ENOENT;
	if (idx < 0)
		return fail(r, "the program has no capability '%s'", name);
	r->c->meta.caps |= 1u << idx;
	return 0;
}

static int tcp_flags(struct reader *r)
{
	uint16_t mask, value;

	if (word(r, "TCP flags like syn,ack"))
		return ZT_EPARSE;
	if (zt_rules_parse_tcp_flags(r->tok.s, r->tok.n, &mask, &value) || mask != value)
		return fail(r, "expected TCP flags like syn,ack (fin syn rst psh ack urg ece cwr ns)");
	r->s.tcp_flags = value;
	return 0;
}

enum num_opt { O_VLAN, O_PCP, O_TOS, O_TYPE, O_CODE, O_PROTO, O_SIZE, O_TRUNCATE };

static const struct num_option {
	const char *word;
	const char *what;
	uint32_t max;
	int only_kind; /* -1: any frame */
} num_options[] = {
	[O_VLAN] = {"vlan", "a VLAN id", 4095, -1},
	[O_PCP] = {"pcp", "a VLAN priority", 7, -1},
	[O_TOS] = {"tos", "a TOS byte", 255, -1},
	[O_TYPE] = {"type", "an ICMP type", 255, K_ICMP},
	[O_CODE] = {"code", "an ICMP code", 255, K_ICMP},
	[O_PROTO] = {"proto", "an IP protocol", 255, K_IP},
	[O_SIZE] = {"size", "a frame size", ZT_RULES_CASE_MAX_FRAME, -1},
	[O_TRUNCATE] = {"truncate", "a length", ZT_RULES_CASE_MAX_FRAME, -1},
};

static void set_num(struct spec *s, enum num_opt o, uint32_t v)
{
	switch (o) {
	case O_VLAN: s->vlan = true; s->vlan_id = (uint16_t)v; break;
	case O_PCP: s->vlan = true; s->pcp = (uint8_t)v; break;
	case O_TOS: s->tos = (uint8_t)v; break;
	case O_TYPE: s->icmp_type_set = true; s->icmp_type = (uint8_t)v; break;
	case O_CODE: s->icmp_code = (uint8_t)v; break;
	case O_PROTO: s->proto = (uint8_t)v; break;
	case O_SIZE: s->size = v; break;
	case O_TRUNCATE: s->truncate = v; break;
	}
}

/* "option number" pairs; returns 1 when the word is none of them. */
static int num_option(struct reader *r)
{
	for (size_t i = 0; i < ZT_ARRAY_LEN(num_options); i++) {
		const struct num_option *o = &num_options[i];
		uint32_t v;

		if (!zt_rules_tok_is(&r->tok, o->word))
			continue;
		if (o->only_kind >= 0 && o->only_kind != (int)r->s.kind)
			return fail(r, "'%s' applies to %s frames only", o->word,
				    o->only_kind == K_ICMP ? "icmp" : "ip");
		if (number(r, o->what, o->max, &v))
			return ZT_EPARSE;
		if (i == O_SIZE)
			r->size_tok = r->tok;
		set_num(&r->s, (enum num_opt)i, v);
		return 0;
	}
	return 1;
}

/* One option; returns 1 when the word is not an option. */
static int option(struct reader *r)
{
	struct zt_rules_meta *m = &r->c->meta;

	if (zt_rules_tok_is(&r->tok, "from"))
		return member(r, &m->src_member);
	if (zt_rules_tok_is(&r->tok, "to"))
		return member(r, &m->dst_member);
	if (zt_rules_tok_is(&r->tok, "src-mac"))
		return mac(r, r->s.src_mac, &r->s.src_mac_set);
	if (zt_rules_tok_is(&r->tok, "dst-mac"))
		return mac(r, r->s.dst_mac, &r->s.dst_mac_set);
	if (zt_rules_tok_is(&r->tok, "bridge")) {
		m->sender_is_bridge = true;
		return 0;
	}
	if (zt_rules_tok_is(&r->tok, "sender-tag"))
		return tag(r, true);
	if (zt_rules_tok_is(&r->tok, "receiver-tag"))
		return tag(r, false);
	if (zt_rules_tok_is(&r->tok, "cap"))
		return cap(r);
	if (zt_rules_tok_is(&r->tok, "random"))
		return number(r, "a random value", UINT32_MAX, &m->random);
	if (zt_rules_tok_is(&r->tok, "flags")) {
		if (r->s.kind != K_TCP)
			return fail(r, "'flags' applies to tcp frames only");
		return tcp_flags(r);
	}
	return num_option(r);
}

static int expect(struct reader *r)
{
	struct zt_rules_case *c = r->c;
	uint32_t line;

	if (word(r, "accept or drop after 'expect'"))
		return ZT_EPARSE;
	if (zt_rules_tok_is(&r->tok, "accept"))
		c->expect = ZT_RULES_ACCEPT;
	else if (zt_rules_tok_is(&r->tok, "drop"))
		c->expect = ZT_RULES_DROP;
	else
		return fail(r, "expected accept or drop after 'expect'");
	c->expect_set = true;
	next(r);
	if (zt_rules_tok_is(&r->tok, "default")) {
		c->expect_line = -1;
		next(r);
	} else if (zt_rules_tok_is(&r->tok, "line")) {
		if (number(r, "a line number", ZT_RULES_MAX_LINE, &line))
			return ZT_EPARSE;
		c->expect_line = line;
		next(r);
	}
	if (r->tok.kind != ZT_RULES_TOK_EOF)
		return fail(r, "nothing may follow the expectation");
	return 0;
}

/* ---- building the frame ---- */

static void default_macs(struct spec *s, const struct zt_rules_meta *m)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct zt_wr w;

	if (!s->src_mac_set) {
		zt_wr_init(&w, s->src_mac, 6);
		zt_wr_u8(&w, 0x02);
		zt_wr_beN(&w, m->src_member ? m->src_member : 1, 5);
	}
	if (s->dst_mac_set)
		return;
	zt_wr_init(&w, s->dst_mac, 6);
	if (s->kind == K_ARP || (s->ip_bytes == 4 && !memcmp(s->dst_ip, bcast, 4))) {
		zt_wr_bytes(&w, bcast, 6);
	} else if (s->ip_bytes == 4 && (s->dst_ip[0] & 0xf0) == 0xe0) {
		zt_wr_bytes(&w, "\x01\x00\x5e", 3);
		zt_wr_u8(&w, s->dst_ip[1] & 0x7f);
		zt_wr_bytes(&w, &s->dst_ip[2], 2);
	} else if (s->ip_bytes == 16 && s->dst_ip[0] == 0xff) {
		zt_wr_bytes(&w, "\x33\x33", 2);
		zt_wr_bytes(&w, &s->dst_ip[12], 4);
	} else {
		zt_wr_u8(&w, 0x02);
		zt_wr_beN(&w, m->dst_member ? m->dst_member : 2, 5);
	}
}

static size_t l4_bytes(const struct spec *s)
{
	switch (s->kind) {
	case K_TCP: return 20;
	case K_UDP: return 8;
	case K_SCTP: return 12;
	case K_ICMP: return 8;
	default: return 0;
	}
}

static size_t l3_bytes(const struct spec *s)
{
	if (s->kind == K_ETHER)
		return 0;
	if (s->kind == K_ARP)
		return 28;
	return s->ip_bytes == 4 ? 20 : 40;
}

static uint8_t ip_proto(const struct spec *s)
{
	switch (s->kind) {
	case K_TCP: return 6;
	case K_UDP: return 17;
	case K_SCTP: return 132;
	case K_ICMP: return s->ip_bytes == 4 ? 1 : 58;
	default: return s->proto;
	}
}

static uint16_t ipv4_checksum(const struct spec *s, uint16_t total)
{
	uint32_t sum = (0x45u << 8 | s->tos) + total + 0x4000u + (64u << 8 | ip_proto(s));

	for (int i = 0; i < 4; i += 2) {
		sum += (uint32_t)(s->src_ip[i] << 8 | s->src_ip[i + 1]);
		sum += (uint32_t)(s->dst_ip[i] << 8 | s->dst_ip[i + 1]);
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void write_l3(struct zt_wr *w, const struct spec *s, size_t ip_payload)
{
	uint16_t total = (uint16_t)(20 + ip_payload);

	if (s->ip_bytes == 4) {
		zt_wr_u8(w, 0x45);
		zt_wr_u8(w, s->tos);
		zt_wr_be16(w, total);
		zt_wr_be16(w, 0);
		zt_wr_be16(w, 0x4000); /* don't fragment */
		zt_wr_u8(w, 64);
		zt_wr_u8(w, ip_proto(s));
		zt_wr_be16(w, ipv4_checksum(s, total));
		zt_wr_bytes(w, s->src_ip, 4);
		zt_wr_bytes(w, s->dst_ip, 4);
		return;
	}
	zt_wr_be32(w, 0x60000000u | (uint32_t)s->tos << 20);
	zt_wr_be16(w, (uint16_t)ip_payload);
	zt_wr_u8(w, ip_proto(s));
	zt_wr_u8(w, 64);
	zt_wr_bytes(w, s->src_ip, 16);
	zt_wr_bytes(w, s->dst_ip, 16);
}

static void write_l4(struct zt_wr *w, const struct spec *s, size_t l4_len)
{
	uint8_t type = s->icmp_type_set ? s->icmp_type : s->ip_bytes == 4 ? 8 : 128;

	switch (s->kind) {
	case K_TCP:
		zt_wr_be16(w, s->sport);
		zt_wr_be16(w, s->dport);
		zt_wr_be32(w, 1);          /* sequence */
		zt_wr_be32(w, 0);          /* acknowledgment */
		zt_wr_u8(w, (uint8_t)(5 << 4 | (s->tcp_flags >> 8)));
		zt_wr_u8(w, (uint8_t)s->tcp_flags);
		zt_wr_be16(w, 65535);      /* window */
		zt_wr_be32(w, 0);          /* checksum, urgent pointer */
		return;
	case K_UDP:
		zt_wr_be16(w, s->sport);
		zt_wr_be16(w, s->dport);
		zt_wr_be16(w, (uint16_t)l4_len);
		zt_wr_be16(w, 0);
		return;
	case K_SCTP:
		zt_wr_be16(w, s->sport);
		zt_wr_be16(w, s->dport);
		zt_wr_be64(w, 0);          /* verification tag, checksum */
		return;
	case K_ICMP:
		zt_wr_u8(w, type);
		zt_wr_u8(w, s->icmp_code);
		zt_wr_be16(w, 0);
		zt_wr_be32(w, 0);          /* identifier, sequence */
		return;
	default:
		return;
	}
}

static void write_arp(struct zt_wr *w, const struct spec *s)
{
	zt_wr_be16(w, 1);
	zt_wr_be16(w, 0x0800);
	zt_wr_u8(w, 6);
	zt_wr_u8(w, 4);
	zt_wr_be16(w, 1); /* request: who has dst? tell src */
	zt_wr_bytes(w, s->src_mac, 6);
	zt_wr_bytes(w, s->src_ip, 4);
	zt_wr_beN(w, 0, 6);
	zt_wr_bytes(w, s->dst_ip, 4);
}

static int build(struct reader *r)
{
	struct spec *s = &r->s;
	struct zt_rules_case *c = r->c;
	size_t eth = s->vlan ? 18 : 14;
	size_t headers = eth + l3_bytes(s) + l4_bytes(s);
	size_t total = s->size ? s->size : headers;
	size_t payload;
	uint8_t *pad;
	struct zt_wr w;

	if (total < headers)
		return fail_size(r, "size %zu is smaller than the headers (%zu bytes)", s->size,
				 headers);
	payload = total - headers;
	default_macs(s, &c->meta);
	zt_wr_init(&w, c->frame, sizeof(c->frame));
	zt_wr_bytes(&w, s->dst_mac, 6);
	zt_wr_bytes(&w, s->src_mac, 6);
	if (s->vlan) {
		zt_wr_be16(&w, 0x8100);
		zt_wr_be16(&w, (uint16_t)(s->pcp << 13 | s->vlan_id));
	}
	if (s->kind == K_ETHER)
		zt_wr_be16(&w, s->ethertype);
	else if (s->kind == K_ARP)
		zt_wr_be16(&w, 0x0806);
	else
		zt_wr_be16(&w, s->ip_bytes == 4 ? 0x0800 : 0x86dd);
	if (s->kind == K_ARP)
		write_arp(&w, s);
	else if (s->kind != K_ETHER)
		write_l3(&w, s, l4_bytes(s) + payload);
	write_l4(&w, s, l4_bytes(s) + payload);
	pad = zt_wr_reserve(&w, payload);
	if (w.err)
		return fail_size(r, "frame larger than %d bytes", ZT_RULES_CASE_MAX_FRAME);
	memset(pad, 0, payload);
	c->frame_len = ZT_MIN(w.len, s->truncate);
	return 0;
}

static int parse(struct reader *r)
{
	int rc;

	next(r);
	if (r->tok.kind == ZT_RULES_TOK_EOF) {
		r->c->empty = true;
		return 0;
	}
	if (zt_rules_tok_is(&r->tok, "in"))
		r->c->meta.dir = ZT_RULES_INBOUND;
	else if (!zt_rules_tok_is(&r->tok, "out"))
		return fail(r, "a case starts with in or out");
	if (frame_kind(r))
		return ZT_EPARSE;
	for (next(r); r->tok.kind == ZT_RULES_TOK_WORD; next(r)) {
		if (zt_rules_tok_is(&r->tok, "expect"))
			return expect(r) ? ZT_EPARSE : build(r);
		rc = option(r);
		if (rc == 1)
			return fail(r, "unknown option '%.*s'", (int)ZT_MIN(r->tok.n, (size_t)40),
				    r->tok.s);
		if (rc)
			return rc;
	}
	if (r->tok.kind != ZT_RULES_TOK_EOF)
		return fail(r, "unexpected '%.*s'", (int)r->tok.n, r->tok.s);
	return build(r);
}

int zt_rules_case_parse(const struct zt_rules *prog, const char *line, size_t len,
			unsigned lineno, struct zt_rules_case *c, struct zt_rules_error *err)
{
	struct zt_rules_error spare;
	struct reader r;
	const char *nl;

	if (!err)
		err = &spare;
	memset(err, 0, sizeof(*err));
	memset(c, 0, offsetof(struct zt_rules_case, frame));
	c->frame_len = 0;
	c->expect_set = false;
	c->expect_line = 0;
	memset(&r, 0, sizeof(r));
	r.err = err;
	r.prog = prog;
	r.c = c;
	r.s.tcp_flags = 0x002; /* a connection attempt unless told otherwise */
	r.s.truncate = SIZE_MAX;
	zt_rules_lex_init(&r.lx, line, len, lineno);
	nl = memchr(line, '\n', len);
	if (nl) {
		err->line = lineno;
		err->col = (unsigned)(nl - line) + 1;
		snprintf(err->msg, sizeof(err->msg), "a case is one line");
		return ZT_EPARSE;
	}
	return parse(&r);
}

bool zt_rules_case_run(const struct zt_rules *prog, const struct zt_rules_case *c,
		       struct zt_rules_counter *counters, struct zt_rules_result *res)
{
	zt_rules_eval(prog, &c->meta, c->frame, c->frame_len, counters, res);
	if (c->empty || !c->expect_set)
		return true;
	if (res->verdict != c->expect)
		return false;
	if (c->expect_line < 0)
		return res->rule < 0;
	if (c->expect_line > 0)
		return res->rule >= 0 && prog && prog->rule_line[res->rule] == (uint32_t)c->expect_line;
	return true;
}
