/*
 * test_rules_eval.c - the rules evaluator on real frame bytes: every match
 * (and its negation), and/or chains, every action, capabilities, the
 * default and no-rules verdicts, counters and traces, short and odd frames.
 */
#include "rules/rules.h"
#include "tests/rules/frames.h"
#include "tests/unit/check_main.h"

#include <stdio.h>
#include <string.h>

enum frame_id {
	F_TCP4,        /* 10.1.2.3:40000 -> 10.9.8.7:22 SYN, dscp 46 */
	F_TCP4_NS,     /* same flow, FIN|NS */
	F_UDP4_MCAST,  /* 192.168.1.10:5353 -> 224.0.0.251:5353 */
	F_ICMP4,       /* echo request */
	F_ICMP4_UNR,   /* port unreachable 3/3 */
	F_TCP6,        /* [fd00::1]:1234 -> [fd00::2]:443 SYN|ACK, tclass 0x20 */
	F_UDP6_EXT,    /* fe80::1 -> ff02::fb via hop-by-hop + destination options */
	F_ICMP6,       /* neighbour solicitation 135 */
	F_FRAG6,       /* TCP, later fragment */
	F_FRAG4,       /* TCP, later fragment */
	F_ARP,         /* broadcast who-has */
	F_VLAN,        /* 802.1Q 100 pcp 5, DHCP discover to broadcast */
	F_QINQ,        /* 802.1ad 200 pcp 1 over 802.1Q 300, TCP */
	F_LLDP,        /* ethertype 0x88cc */
	F_SHORT,       /* 10 bytes */
	F_TRUNC_PORTS, /* IPv4 TCP cut 2 bytes into the TCP header */
	F_TRUNC_FLAGS, /* IPv4 TCP cut 8 bytes into the TCP header */
	F_BAD_IHL,     /* IPv4 header length 16 */
	F_COUNT
};

static struct tframe frames[F_COUNT];

static void build_frames(void)
{
	struct tframe *f;

	f = &frames[F_TCP4];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0xb8, 6, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_tcp(f, 40000, 22, 0x002);
	tf_payload(f, 100);
	tf_end(f);

	f = &frames[F_TCP4_NS];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 6, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_tcp(f, 40000, 22, 0x101);
	tf_end(f);

	f = &frames[F_UDP4_MCAST];
	tf_begin(f, "01:00:5e:00:00:fb", "02:33:33:33:33:33");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 17, "192.168.1.10", "224.0.0.251", 0);
	tf_udp(f, 5353, 5353);
	tf_payload(f, 40);
	tf_end(f);

	f = &frames[F_ICMP4];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 1, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_icmp(f, 8, 0);
	tf_payload(f, 56);
	tf_end(f);

	f = &frames[F_ICMP4_UNR];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 1, "10.9.8.7", "10.1.2.3", 0);
	tf_icmp(f, 3, 3);
	tf_end(f);

	f = &frames[F_TCP6];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x86dd);
	tf_ipv6(f, 0x20, 6, "fd00::1", "fd00::2");
	tf_tcp(f, 1234, 443, 0x012);
	tf_end(f);

	f = &frames[F_UDP6_EXT];
	tf_begin(f, "33:33:00:00:00:fb", "02:11:11:11:11:11");
	tf_type(f, 0x86dd);
	tf_ipv6(f, 0, 0, "fe80::1", "ff02::fb");
	tf_ext6(f, 60);
	tf_ext6(f, 17);
	tf_udp(f, 5353, 5353);
	tf_payload(f, 20);
	tf_end(f);

	f = &frames[F_ICMP6];
	tf_begin(f, "33:33:ff:00:00:02", "02:11:11:11:11:11");
	tf_type(f, 0x86dd);
	tf_ipv6(f, 0, 58, "fe80::1", "ff02::1:ff00:2");
	tf_icmp(f, 135, 0);
	tf_payload(f, 16);
	tf_end(f);

	f = &frames[F_FRAG6];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x86dd);
	tf_ipv6(f, 0, 44, "fd00::1", "fd00::2");
	tf_frag6(f, 6, 185);
	tf_payload(f, 64);
	tf_end(f);

	f = &frames[F_FRAG4];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 6, "10.1.2.3", "10.9.8.7", 0x00b9);
	tf_payload(f, 64);
	tf_end(f);

	f = &frames[F_ARP];
	tf_begin(f, "ff:ff:ff:ff:ff:ff", "02:11:11:11:11:11");
	tf_type(f, 0x0806);
	tf_arp(f, 1, "02:11:11:11:11:11", "10.1.2.3", "10.1.2.4");
	tf_end(f);

	f = &frames[F_VLAN];
	tf_begin(f, "ff:ff:ff:ff:ff:ff", "02:11:11:11:11:11");
	tf_vlan(f, 0x8100, 100, 5);
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 17, "0.0.0.0", "255.255.255.255", 0);
	tf_udp(f, 68, 67);
	tf_payload(f, 300);
	tf_end(f);

	f = &frames[F_QINQ];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_vlan(f, 0x88a8, 200, 1);
	tf_vlan(f, 0x8100, 300, 6);
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 6, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_tcp(f, 40000, 80, 0x002);
	tf_end(f);

	f = &frames[F_LLDP];
	tf_begin(f, "01:80:c2:00:00:0e", "02:11:11:11:11:11");
	tf_type(f, 0x88cc);
	tf_payload(f, 46);
	tf_end(f);

	f = &frames[F_SHORT];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_end(f);
	f->len = 10;

	f = &frames[F_TRUNC_PORTS];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 6, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_tcp(f, 40000, 22, 0x002);
	tf_end(f);
	f->len = 14 + 20 + 2;

	f = &frames[F_TRUNC_FLAGS];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 6, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_tcp(f, 40000, 22, 0x002);
	tf_end(f);
	f->len = 14 + 20 + 8;

	f = &frames[F_BAD_IHL];
	tf_begin(f, "02:22:22:22:22:22", "02:11:11:11:11:11");
	tf_type(f, 0x0800);
	tf_ipv4(f, 0, 6, "10.1.2.3", "10.9.8.7", 0x4000);
	tf_tcp(f, 40000, 22, 0x002);
	tf_end(f);
	f->b[14] = 0x44;
}

enum meta_id { M_OUT, M_IN, M_BRIDGE, M_TAGS, M_MCAST, M_COUNT };

static struct zt_rules_meta metas[M_COUNT];

static void build_metas(void)
{
	struct zt_rules_meta *m;

	for (int i = 0; i < M_COUNT; i++) {
		m = &metas[i];
		memset(m, 0, sizeof(*m));
		m->src_member = 0x1111111111ull;
		m->dst_member = 0x2222222222ull;
		m->dir = ZT_RULES_OUTBOUND;
	}
	metas[M_IN].dir = ZT_RULES_INBOUND;
	metas[M_BRIDGE].sender_is_bridge = true;
	metas[M_MCAST].dst_member = 0;
	m = &metas[M_TAGS];
	m->sender_tag_count = 4;
	m->sender_tags[0] = (struct zt_rules_tag){1, 0x0f};
	m->sender_tags[1] = (struct zt_rules_tag){2, 100};
	m->sender_tags[2] = (struct zt_rules_tag){3, 5};
	m->sender_tags[3] = (struct zt_rules_tag){5, 42};
	m->receiver_tag_count = 4;
	m->receiver_tags[0] = (struct zt_rules_tag){1, 0x3c};
	m->receiver_tags[1] = (struct zt_rules_tag){2, 107};
	m->receiver_tags[2] = (struct zt_rules_tag){4, 9};
	m->receiver_tags[3] = (struct zt_rules_tag){5, 42};
}

static void setup(void)
{
	build_frames();
	build_metas();
}

static struct zt_rules prog;

static void load(const char *text)
{
	uint8_t blob[ZT_RULES_MAX_BYTES];
	struct zt_rules_error err;
	size_t len;
	int rc;

	rc = zt_rules_compile(text, strlen(text), blob, sizeof(blob), &len, &err);
	ck_assert_msg(rc == 0, "compile \"%s\": %u:%u: %s", text, err.line, err.col, err.msg);
	rc = zt_rules_load(&prog, blob, len, &err);
	ck_assert_msg(rc == 0, "load \"%s\": %s", text, err.msg);
}

static enum zt_rules_verdict eval(enum frame_id f, enum meta_id m, struct zt_rules_result *res)
{
	return zt_rules_eval(&prog, &metas[m], frames[f].b, frames[f].len, NULL, res);
}

struct match_case {
	const char *expr;
	enum frame_id frame;
	enum meta_id meta;
	bool matches;
};

/* One match per row: "accept EXPR;" must accept exactly when it matches and
 * "accept not EXPR;" exactly when it does not. */
static const struct match_case match_cases[] = {
	{"src-member 1111111111", F_TCP4, M_OUT, true},
	{"src-member 3333333333", F_TCP4, M_OUT, false},
	{"dst-member 2222222222", F_TCP4, M_OUT, true},
	{"dst-member 2222222222", F_UDP4_MCAST, M_MCAST, false},
	{"src-mac 02:11:11:11:11:11", F_TCP4, M_OUT, true},
	{"src-mac 02:11:11:11:11:11", F_UDP4_MCAST, M_OUT, false},
	{"src-mac 02:11:11:11:11:11", F_SHORT, M_OUT, false},
	{"dst-mac ff:ff:ff:ff:ff:ff", F_ARP, M_OUT, true},
	{"dst-mac ff:ff:ff:ff:ff:ff", F_TCP4, M_OUT, false},
	{"ethertype arp", F_ARP, M_OUT, true},
	{"ethertype ipv4", F_VLAN, M_OUT, true},
	{"ethertype 0x88cc", F_LLDP, M_OUT, true},
	{"ethertype ipv6", F_TCP4, M_OUT, false},
	{"ethertype ipv4", F_SHORT, M_OUT, false},
	{"ethertype 0x8100", F_VLAN, M_OUT, false},
	{"arp", F_ARP, M_OUT, true},
	{"ipv6", F_ICMP6, M_OUT, true},
	{"ipv4", F_ICMP6, M_OUT, false},
	{"vlan-id 100", F_VLAN, M_OUT, true},
	{"vlan-id 101", F_VLAN, M_OUT, false},
	{"vlan-id 0", F_TCP4, M_OUT, false},
	{"vlan-id 200", F_QINQ, M_OUT, true},
	{"vlan-id 300", F_QINQ, M_OUT, false},
	{"vlan-pcp 5", F_VLAN, M_OUT, true},
	{"vlan-pcp 1", F_QINQ, M_OUT, true},
	{"vlan-pcp 0", F_TCP4, M_OUT, false},
	{"src-ip 10.0.0.0/8", F_TCP4, M_OUT, true},
	{"src-ip 10.1.2.3", F_TCP4, M_OUT, true},
	{"src-ip 10.1.2.4", F_TCP4, M_OUT, false},
	{"src-ip 10.0.0.0/15", F_TCP4, M_OUT, true},
	{"src-ip 10.2.0.0/15", F_TCP4, M_OUT, false},
	{"src-ip 0.0.0.0/0", F_TCP4, M_OUT, true},
	{"src-ip 0.0.0.0/0", F_TCP6, M_OUT, false},
	{"src-ip 0.0.0.0/0", F_ARP, M_OUT, false},
	{"src-ip 0.0.0.0/0", F_BAD_IHL, M_OUT, false},
	{"dst-ip 10.9.8.0/24", F_TCP4, M_OUT, true},
	{"dst-ip 224.0.0.0/4", F_UDP4_MCAST, M_OUT, true},
	{"dst-ip 10.9.8.7", F_FRAG4, M_OUT, true},
	{"dst-ip 10.9.8.7", F_QINQ, M_OUT, true},
	{"src-ip fd00::/8", F_TCP6, M_OUT, true},
	{"src-ip fd00::/127", F_TCP6, M_OUT, true},
	{"src-ip fd00::2/127", F_TCP6, M_OUT, false},
	{"src-ip fd00::2", F_TCP6, M_OUT, false},
	{"dst-ip ff02::/16", F_UDP6_EXT, M_OUT, true},
	{"dst-ip ::/0", F_TCP4, M_OUT, false},
	{"ipproto tcp", F_TCP4, M_OUT, true},
	{"tcp", F_TCP6, M_OUT, true},
	{"udp", F_UDP6_EXT, M_OUT, true},
	{"ipproto tcp", F_FRAG6, M_OUT, true},
	{"ipproto tcp", F_FRAG4, M_OUT, true},
	{"icmp", F_ICMP4, M_OUT, true},
	{"icmp6", F_ICMP6, M_OUT, true},
	{"icmp", F_ICMP6, M_OUT, false},
	{"ipproto 17", F_UDP4_MCAST, M_OUT, true},
	{"tcp", F_ARP, M_OUT, false},
	{"tcp", F_TRUNC_PORTS, M_OUT, true},
	{"tcp", F_BAD_IHL, M_OUT, false},
	{"dscp 46", F_TCP4, M_OUT, true},
	{"tos 0xb8", F_TCP4, M_OUT, true},
	{"tos 0xb0-0xbf", F_TCP4, M_OUT, true},
	{"tos 0", F_TCP4, M_OUT, false},
	{"dscp 8", F_TCP6, M_OUT, true},
	{"tos 0x20 mask 0xe0", F_TCP6, M_OUT, true},
	{"tos 0x40 mask 0xe0", F_TCP6, M_OUT, false},
	{"dscp 0", F_ARP, M_OUT, false},
	{"icmp-type 8", F_ICMP4, M_OUT, true},
	{"icmp-type 8 code 0", F_ICMP4, M_OUT, true},
	{"icmp-type 8 code 1", F_ICMP4, M_OUT, false},
	{"icmp-type 3 code 3", F_ICMP4_UNR, M_OUT, true},
	{"icmp-type 135", F_ICMP6, M_OUT, true},
	{"icmp-type 8", F_TCP4, M_OUT, false},
	{"sport 40000", F_TCP4, M_OUT, true},
	{"sport 1-1024", F_TCP4, M_OUT, false},
	{"dport 22", F_TCP4, M_OUT, true},
	{"dport 20-30", F_TCP4, M_OUT, true},
	{"dport 23-65535", F_TCP4, M_OUT, false},
	{"dport 5353", F_UDP6_EXT, M_OUT, true},
	{"dport 5353", F_UDP4_MCAST, M_OUT, true},
	{"dport 443", F_TCP6, M_OUT, true},
	{"dport 80", F_QINQ, M_OUT, true},
	{"dport 0-65535", F_FRAG4, M_OUT, false},
	{"dport 0-65535", F_FRAG6, M_OUT, false},
	{"dport 0-65535", F_TRUNC_PORTS, M_OUT, false},
	{"dport 22", F_TRUNC_FLAGS, M_OUT, true},
	{"dport 0-65535", F_ICMP4, M_OUT, false},
	{"tcp-flags syn", F_TCP4, M_OUT, true},
	{"tcp-flags syn,!ack", F_TCP4, M_OUT, true},
	{"tcp-flags syn,!ack", F_TCP6, M_OUT, false},
	{"tcp-flags ack", F_TCP6, M_OUT, true},
	{"tcp-flags ns", F_TCP4_NS, M_OUT, true},
	{"tcp-flags fin,ns,!syn", F_TCP4_NS, M_OUT, true},
	{"tcp-flags !ns", F_TCP4, M_OUT, true},
	{"tcp-flags syn", F_TRUNC_FLAGS, M_OUT, false},
	{"tcp-flags syn", F_UDP4_MCAST, M_OUT, false},
	{"size 42", F_ARP, M_OUT, true},
	{"size 43-9000", F_ARP, M_OUT, false},
	{"size 0-13", F_SHORT, M_OUT, true},
	{"broadcast", F_ARP, M_OUT, true},
	{"broadcast", F_VLAN, M_OUT, true},
	{"broadcast", F_UDP4_MCAST, M_OUT, false},
	{"broadcast", F_SHORT, M_OUT, false},
	{"multicast", F_UDP4_MCAST, M_OUT, true},
	{"multicast", F_UDP6_EXT, M_OUT, true},
	{"multicast", F_LLDP, M_OUT, true},
	{"multicast", F_ARP, M_OUT, false},
	{"multicast", F_TCP4, M_OUT, false},
	{"inbound", F_TCP4, M_IN, true},
	{"inbound", F_TCP4, M_OUT, false},
	{"outbound", F_TCP4, M_OUT, true},
	{"outbound", F_TCP4, M_IN, false},
	{"from-bridge", F_TCP4, M_BRIDGE, true},
	{"from-bridge", F_TCP4, M_OUT, false},
	{"tag 1 bitand 12", F_TCP4, M_TAGS, true},
	{"tag 1 bitand 13", F_TCP4, M_TAGS, false},
	{"tag 1 bitor 63", F_TCP4, M_TAGS, true},
	{"tag 1 bitxor 51", F_TCP4, M_TAGS, true},
	{"tag 1 bitxor 50", F_TCP4, M_TAGS, false},
	{"tag 2 within 7", F_TCP4, M_TAGS, true},
	{"tag 2 within 6", F_TCP4, M_TAGS, false},
	{"tag 5 equals 42", F_TCP4, M_TAGS, true},
	{"tag 5 equals 41", F_TCP4, M_TAGS, false},
	{"tag 2 equals 100", F_TCP4, M_TAGS, false},
	{"tag 3 within 1000", F_TCP4, M_TAGS, false},
	{"tag 1 bitand 0", F_TCP4, M_OUT, false},
	{"sender-tag 3 5", F_TCP4, M_TAGS, true},
	{"sender-tag 4 9", F_TCP4, M_TAGS, false},
	{"receiver-tag 4 9", F_TCP4, M_TAGS, true},
	{"receiver-tag 3 5", F_TCP4, M_TAGS, false},
	{"random 100%", F_TCP4, M_OUT, true},
	{"random 0%", F_TCP4, M_OUT, false},
};

static void check_match(const struct match_case *mc, bool negate)
{
	char text[256];
	struct zt_rules_result res;
	bool want = mc->matches != negate;
	enum zt_rules_verdict v;

	snprintf(text, sizeof(text), "accept %s%s;", negate ? "not " : "", mc->expr);
	load(text);
	v = eval(mc->frame, mc->meta, &res);
	ck_assert_msg(v == (want ? ZT_RULES_ACCEPT : ZT_RULES_DROP),
		      "\"%s\" on frame %d meta %d: got %s", text, mc->frame, mc->meta,
		      v == ZT_RULES_ACCEPT ? "accept" : "drop");
	ck_assert_int_eq(res.rule, want ? 0 : ZT_RULES_BY_DEFAULT);
}

START_TEST(every_match_and_its_negation_on_real_frames)
{
	const struct match_case *mc = &match_cases[_i];

	check_match(mc, false);
	check_match(mc, true);
}
END_TEST

/* Several matches: implicit and explicit "and", "or", "not" inside chains. */
static const struct match_case chain_cases[] = {
	{"tcp and dport 22", F_TCP4, M_OUT, true},
	{"tcp dport 22", F_TCP4, M_OUT, true},
	{"tcp and dport 22", F_TCP6, M_OUT, false},
	{"udp or dport 22", F_TCP4, M_OUT, true},
	{"udp or dport 22", F_ICMP4, M_OUT, false},
	{"not tcp or dport 22", F_TCP4, M_OUT, true},
	{"not tcp or dport 22", F_TCP6, M_OUT, false},
	{"not tcp or dport 22", F_ICMP4, M_OUT, true},
	{"tcp and dport 443 or icmp and icmp-type 8", F_TCP6, M_OUT, true},
	{"tcp and dport 443 or icmp and icmp-type 8", F_ICMP4, M_OUT, true},
	{"tcp and dport 443 or icmp and icmp-type 8", F_TCP4, M_OUT, false},
	{"not tcp and not udp", F_ICMP4, M_OUT, true},
	{"not tcp and not udp", F_TCP4, M_OUT, false},
	{"arp or ipv6 and icmp6", F_ARP, M_OUT, true},
	{"arp or ipv6 and icmp6", F_ICMP6, M_OUT, true},
	{"arp or ipv6 and icmp6", F_TCP6, M_OUT, false},
	{"inbound tcp or outbound udp", F_TCP4, M_IN, true},
	{"inbound tcp or outbound udp", F_TCP4, M_OUT, false},
	{"src-ip 10.0.0.0/8 dst-ip 10.0.0.0/8 tcp-flags syn,!ack not dport 80", F_TCP4, M_OUT, true},
	{"src-ip 10.0.0.0/8 dst-ip 10.0.0.0/8 tcp-flags syn,!ack not dport 80", F_QINQ, M_OUT, false},
	{"dport 1 or dport 2 or dport 3 or dport 22", F_TCP4, M_OUT, true},
	{"dport 1 or dport 2 or dport 3 or dport 4", F_TCP4, M_OUT, false},
};

START_TEST(and_or_not_chains_follow_precedence)
{
	const struct match_case *mc = &chain_cases[_i];
	char text[256];
	struct zt_rules_result res;

	snprintf(text, sizeof(text), "accept %s;", mc->expr);
	load(text);
	ck_assert_msg(eval(mc->frame, mc->meta, &res) == (mc->matches ? ZT_RULES_ACCEPT : ZT_RULES_DROP),
		      "\"%s\" on frame %d", text, mc->frame);
}
END_TEST

START_TEST(or_chain_reports_the_term_that_matched)
{
	struct zt_rules_result res;

	load("accept udp or tcp and dport 443 or icmp;");
	ck_assert_int_eq(eval(F_TCP6, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.term, 1);
	ck_assert_int_eq(eval(F_ICMP4, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.term, 2);
	ck_assert_int_eq(eval(F_UDP4_MCAST, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.term, 0);
}
END_TEST

START_TEST(first_accept_or_drop_decides)
{
	struct zt_rules_result res;

	load("drop tcp dport 22;\naccept;\ndrop;");
	ck_assert_int_eq(eval(F_TCP4, M_OUT, &res), ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, 0);
	ck_assert_int_eq(eval(F_UDP4_MCAST, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, 1);
	ck_assert_int_eq(res.cap, -1);
}
END_TEST

START_TEST(no_rule_matching_drops_and_no_rules_accepts)
{
	struct zt_rules_result res;
	struct zt_rules_counter counters[3];

	load("accept udp;\naccept icmp;");
	memset(counters, 0, sizeof(counters));
	ck_assert_int_eq(zt_rules_eval(&prog, &metas[M_OUT], frames[F_TCP4].b, frames[F_TCP4].len,
				       counters, &res), ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, ZT_RULES_BY_DEFAULT);
	ck_assert_uint_eq(counters[2].outbound, 1);
	ck_assert_int_eq(zt_rules_eval(NULL, &metas[M_OUT], frames[F_TCP4].b, frames[F_TCP4].len,
				       NULL, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, ZT_RULES_BY_NONE);
	load("# nothing but a comment\n");
	ck_assert_int_eq(eval(F_SHORT, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, ZT_RULES_BY_NONE);
}
END_TEST

START_TEST(tee_copies_and_continues)
{
	struct zt_rules_result res;

	load("tee 89e92ceee5 arp;\ntee aaaaaaaaaa;\naccept;");
	ck_assert_int_eq(eval(F_ARP, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, 2);
	ck_assert_uint_eq(res.side_count, 2);
	ck_assert_uint_eq(res.side[0].target, 0x89e92ceee5ull);
	ck_assert_int_eq(res.side[0].action, ZT_RULES_ACT_TEE);
	ck_assert_int_eq(res.side[0].rule, 0);
	ck_assert_uint_eq(res.side[1].target, 0xaaaaaaaaaaull);
	ck_assert_int_eq(res.side[1].rule, 1);
	ck_assert_int_eq(eval(F_TCP4, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_uint_eq(res.side_count, 1);
	ck_assert(!res.side_overflow);
	ck_assert_uint_eq(res.redirect_to, 0);
}
END_TEST

START_TEST(watch_copies_with_direction_even_when_dropped)
{
	struct zt_rules_result res;

	load("watch 89e92ceee5 tcp;\ndrop;");
	ck_assert_int_eq(eval(F_TCP4, M_IN, &res), ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, 1);
	ck_assert_uint_eq(res.side_count, 1);
	ck_assert_int_eq(res.side[0].action, ZT_RULES_ACT_WATCH);
	ck_assert_int_eq(res.side[0].dir, ZT_RULES_INBOUND);
	ck_assert_uint_eq(res.side[0].target, 0x89e92ceee5ull);
	ck_assert_int_eq(eval(F_TCP4, M_OUT, &res), ZT_RULES_DROP);
	ck_assert_int_eq(res.side[0].dir, ZT_RULES_OUTBOUND);
	ck_assert_int_eq(eval(F_ARP, M_OUT, &res), ZT_RULES_DROP);
	ck_assert_uint_eq(res.side_count, 0);
}
END_TEST

START_TEST(redirect_accepts_towards_another_member_and_stops)
{
	struct zt_rules_result res;

	load("redirect 89e92ceee5 tcp dport 22;\ntee 0102030405;\naccept;");
	ck_assert_int_eq(eval(F_TCP4, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, 0);
	ck_assert_uint_eq(res.redirect_to, 0x89e92ceee5ull);
	ck_assert_uint_eq(res.side_count, 0);
	ck_assert_int_eq(eval(F_TCP6, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, 2);
	ck_assert_uint_eq(res.redirect_to, 0);
	ck_assert_uint_eq(res.side_count, 1);
}
END_TEST

START_TEST(break_leaves_the_base_set)
{
	struct zt_rules_result res;

	load("break tcp;\naccept;");
	ck_assert_int_eq(eval(F_TCP4, M_OUT, &res), ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, ZT_RULES_BY_DEFAULT);
	ck_assert_int_eq(res.break_rule, 0);
	ck_assert_int_eq(eval(F_UDP4_MCAST, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, 1);
	ck_assert_int_eq(res.break_rule, -1);
}
END_TEST

static const char caps_program[] =
	"drop dport 23;\n"
	"break;\n"
	"capability ssh {\n"
	"\taccept tcp dport 22;\n"
	"}\n"
	"capability web {\n"
	"\tbreak udp;\n"
	"\tdrop tcp;\n"
	"\taccept;\n"
	"}\n"
	"capability dns { accept udp; }\n";

START_TEST(capabilities_grant_when_base_rules_do_not_decide)
{
	struct zt_rules_result res;
	struct zt_rules_meta m = metas[M_OUT];
	int ssh, web, dns;

	load(caps_program);
	ssh = zt_rules_cap_find(&prog, "ssh");
	web = zt_rules_cap_find(&prog, "web");
	dns = zt_rules_cap_find(&prog, "dns");
	ck_assert_int_eq(ssh, 0);
	ck_assert_int_eq(web, 1);
	ck_assert_int_eq(dns, 2);
	ck_assert_int_eq(zt_rules_cap_find(&prog, "nope"), ZT_ENOENT);
	ck_assert_int_eq(zt_rules_rule_cap(&prog, 1), -1);
	ck_assert_int_eq(zt_rules_rule_cap(&prog, 2), ssh);

	m.caps = 0;
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res),
			 ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, ZT_RULES_BY_DEFAULT);
	ck_assert_int_eq(res.break_rule, 1);

	m.caps = 1u << ssh;
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res),
			 ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.rule, 2);
	ck_assert_int_eq(res.cap, ssh);

	/* A drop inside a capability ends that capability only. */
	m.caps = 1u << web;
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res),
			 ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, ZT_RULES_BY_DEFAULT);
	m.caps = 1u << web | 1u << ssh;
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res),
			 ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.cap, ssh);

	/* A break in a capability moves on to the next one. */
	m.caps = 1u << web | 1u << dns;
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_UDP4_MCAST].b, frames[F_UDP4_MCAST].len,
				       NULL, &res), ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.cap, dns);
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_ICMP4].b, frames[F_ICMP4].len, NULL, &res),
			 ZT_RULES_ACCEPT);
	ck_assert_int_eq(res.cap, web);
	ck_assert_int_eq(res.rule, 5);

	/* The base set decides first. */
	m.caps = UINT32_MAX;
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_TCP4_NS].b, frames[F_TCP4_NS].len, NULL,
				       &res), ZT_RULES_ACCEPT);
	load("drop dport 22;\ncapability all { accept; }");
	ck_assert_int_eq(zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res),
			 ZT_RULES_DROP);
	ck_assert_int_eq(res.rule, 0);
}
END_TEST

START_TEST(side_actions_are_bounded)
{
	char text[1024] = "";
	struct zt_rules_result res;

	for (int i = 0; i < ZT_RULES_MAX_SIDE + 3; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "tee %010x;\n", i + 1);
	strcat(text, "accept;");
	load(text);
	ck_assert_int_eq(eval(F_TCP4, M_OUT, &res), ZT_RULES_ACCEPT);
	ck_assert_uint_eq(res.side_count, ZT_RULES_MAX_SIDE);
	ck_assert(res.side_overflow);
	ck_assert_uint_eq(res.side[ZT_RULES_MAX_SIDE - 1].target, ZT_RULES_MAX_SIDE);
}
END_TEST

START_TEST(random_follows_its_probability_and_the_callers_value)
{
	struct zt_rules_result res;
	struct zt_rules_meta m = metas[M_OUT];
	unsigned hits = 0, other = 0, both = 0;

	load("tee 0000000001 random 25%;\ntee 0000000002 random 25%;\naccept;");
	for (uint32_t i = 0; i < 20000; i++) {
		bool a = false, b = false;

		m.random = i * 2654435761u;
		zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res);
		for (unsigned s = 0; s < res.side_count; s++) {
			a |= res.side[s].target == 1;
			b |= res.side[s].target == 2;
		}
		hits += a;
		other += b;
		both += a && b;
	}
	ck_assert_msg(hits > 4500 && hits < 5500, "25%% gave %u of 20000", hits);
	ck_assert_msg(other > 4500 && other < 5500, "25%% gave %u of 20000", other);
	/* Two random matches are not the same coin: ~1/16 of frames get both. */
	ck_assert_msg(both > 900 && both < 1600, "both fired %u times", both);
	/* Same value, same answer. */
	m.random = 12345;
	zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res);
	hits = res.side_count;
	zt_rules_eval(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, NULL, &res);
	ck_assert_uint_eq(hits, res.side_count);
}
END_TEST

START_TEST(counters_count_matches_per_rule_and_direction)
{
	static struct zt_rules_counter counters[ZT_RULES_MAX_RULES + 1];
	struct zt_rules_result res;
	char text[2048];
	size_t len;

	load("tee 89e92ceee5 tcp;\ndrop dport 22;\naccept udp;\n"
	     "capability web { accept tcp dport 443; }");
	memset(counters, 0, sizeof(counters));
	ck_assert_uint_eq(zt_rules_counter_slots(&prog), 5);
	zt_rules_eval(&prog, &metas[M_OUT], frames[F_TCP4].b, frames[F_TCP4].len, counters, &res);
	zt_rules_eval(&prog, &metas[M_IN], frames[F_TCP4].b, frames[F_TCP4].len, counters, &res);
	zt_rules_eval(&prog, &metas[M_IN], frames[F_UDP4_MCAST].b, frames[F_UDP4_MCAST].len,
		      counters, &res);
	zt_rules_eval(&prog, &metas[M_OUT], frames[F_ICMP4].b, frames[F_ICMP4].len, counters, &res);
	ck_assert_uint_eq(counters[0].outbound, 1);
	ck_assert_uint_eq(counters[0].inbound, 1);
	ck_assert_uint_eq(counters[1].outbound, 1);
	ck_assert_uint_eq(counters[1].inbound, 1);
	ck_assert_uint_eq(counters[2].inbound, 1);
	ck_assert_uint_eq(counters[2].outbound, 0);
	ck_assert_uint_eq(counters[3].inbound + counters[3].outbound, 0);
	ck_assert_uint_eq(counters[4].outbound, 1);
	ck_assert_int_eq(zt_rules_counters_format(&prog, counters, text, sizeof(text), &len), 0);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_msg(strstr(text, "         1          1      2  drop dport 22;"), "%s", text);
	ck_assert_msg(strstr(text, "capability web {"), "%s", text);
	ck_assert_msg(strstr(text, "         0          1      -  # no rule decided"), "%s", text);
	ck_assert_int_eq(zt_rules_counters_format(&prog, counters, text, 40, &len), ZT_ETOOBIG);
}
END_TEST

START_TEST(trace_names_direction_frame_rule_line_and_why)
{
	struct zt_rules_result res;
	struct zt_rules_meta m = metas[M_IN];
	char text[2048];

	load("# ssh is watched\nwatch 89e92ceee5 tcp dport 22;\n\n"
	     "drop tcp and dport 22 or udp and dport 53;\naccept;\n");
	eval(F_TCP4, M_IN, &res);
	ck_assert_int_eq(zt_rules_explain(&prog, &m, frames[F_TCP4].b, frames[F_TCP4].len, &res,
					  text, sizeof(text)), 0);
	ck_assert_msg(strstr(text, "in 02:11:11:11:11:11 -> 02:22:22:22:22:22 ipv4 tcp "
				   "10.1.2.3:40000 -> 10.9.8.7:22 [SYN] tos 0xb8, 154 bytes\n"),
		      "%s", text);
	ck_assert_msg(strstr(text, "members: 1111111111 -> 2222222222\n"), "%s", text);
	ck_assert_msg(strstr(text, "drop by rule 1 at line 4: drop ipproto tcp and dport 22 or "
				   "ipproto udp and dport 53;\n"), "%s", text);
	ck_assert_msg(strstr(text, "  matched: ipproto tcp and dport 22\n"), "%s", text);
	ck_assert_msg(strstr(text, "  watch copy to 89e92ceee5 by rule 0 at line 2\n"), "%s", text);

	load("accept udp;");
	eval(F_ARP, M_OUT, &res);
	ck_assert_int_eq(zt_rules_explain(&prog, &metas[M_OUT], frames[F_ARP].b, frames[F_ARP].len,
					  &res, text, sizeof(text)), 0);
	ck_assert_msg(strstr(text, "out 02:11:11:11:11:11 -> ff:ff:ff:ff:ff:ff arp request "
				   "10.1.2.3 -> 10.1.2.4, 42 bytes"), "%s", text);
	ck_assert_msg(strstr(text, "drop: no rule decided (default)"), "%s", text);

	zt_rules_eval(NULL, &m, frames[F_SHORT].b, frames[F_SHORT].len, NULL, &res);
	ck_assert_int_eq(zt_rules_explain(NULL, &m, frames[F_SHORT].b, frames[F_SHORT].len, &res,
					  text, sizeof(text)), 0);
	ck_assert_msg(strstr(text, "short frame, 10 bytes"), "%s", text);
	ck_assert_msg(strstr(text, "accept: the network has no rules"), "%s", text);
	ck_assert_int_eq(zt_rules_explain(NULL, &m, frames[F_SHORT].b, frames[F_SHORT].len, &res,
					  text, 8), ZT_ETOOBIG);
}
END_TEST

START_TEST(frame_summaries_cover_every_kind)
{
	static const struct {
		enum frame_id f;
		const char *want;
	} rows[] = {
		{F_TCP6, "ipv6 tcp [fd00::1]:1234 -> [fd00::2]:443 [SYN,ACK] tos 0x20"},
		{F_UDP6_EXT, "ipv6 udp [fe80::1]:5353 -> [ff02::fb]:5353"},
		{F_ICMP6, "ipv6 icmp6 fe80::1 -> ff02::1:ff00:2 type 135 code 0"},
		{F_FRAG4, "ipv4 tcp 10.1.2.3 -> 10.9.8.7 (later fragment: no ports)"},
		{F_VLAN, "vlan 100 pcp 5 ipv4 udp 0.0.0.0:68 -> 255.255.255.255:67"},
		{F_QINQ, "vlan 200 pcp 1 ipv4 tcp"},
		{F_LLDP, "ethertype 0x88cc (lldp), 60 bytes"},
		{F_TRUNC_PORTS, "(transport header truncated)"},
		{F_BAD_IHL, "ethertype 0x0800 (ipv4, malformed or truncated)"},
		{F_TCP4_NS, "[FIN,NS]"},
	};
	char text[512];

	for (size_t i = 0; i < ZT_ARRAY_LEN(rows); i++) {
		ck_assert_int_eq(zt_rules_frame_summary(frames[rows[i].f].b, frames[rows[i].f].len,
							text, sizeof(text)), 0);
		ck_assert_msg(strstr(text, rows[i].want), "frame %d: \"%s\" lacks \"%s\"", rows[i].f,
			      text, rows[i].want);
	}
}
END_TEST

/* Every prefix of every frame, every match type: no crash, no sanitizer
 * report, and a frame cut short never grows a field it did not have. */
START_TEST(every_truncation_of_every_frame_is_safe)
{
	static const char *const programs[] = {
		"accept tcp dport 22 tcp-flags syn or udp sport 5353 or icmp-type 8;",
		"accept src-ip 10.0.0.0/8 dst-ip 10.9.8.7 or src-ip fd00::/8 or dst-ip ff02::/16;",
		"accept vlan-id 100 or vlan-pcp 1 or ethertype arp or dscp 46 or ipproto 44;",
		"accept broadcast or multicast or src-mac 02:11:11:11:11:11 or dst-mac ff:ff:ff:ff:ff:ff;",
	};
	struct zt_rules_result res;

	for (size_t p = 0; p < ZT_ARRAY_LEN(programs); p++) {
		load(programs[p]);
		for (int f = 0; f < F_COUNT; f++) {
			bool full = eval(f, M_OUT, &res) == ZT_RULES_ACCEPT;

			for (size_t len = 0; len <= frames[f].len; len++) {
				enum zt_rules_verdict v = zt_rules_eval(&prog, &metas[M_OUT],
									frames[f].b, len, NULL, &res);

				if (!full)
					ck_assert_msg(v == ZT_RULES_DROP,
						      "program %zu frame %d cut to %zu matched", p, f, len);
			}
		}
	}
}
END_TEST

START_TEST(matches_on_a_frame_with_no_bytes_are_false)
{
	struct zt_rules_result res;

	load("accept src-mac 00:00:00:00:00:00 or ethertype 0 or size 1-65535 or vlan-id 0;");
	ck_assert_int_eq(zt_rules_eval(&prog, &metas[M_OUT], NULL, 0, NULL, &res), ZT_RULES_DROP);
	load("accept size 0;");
	ck_assert_int_eq(zt_rules_eval(&prog, &metas[M_OUT], NULL, 0, NULL, &res), ZT_RULES_ACCEPT);
}
END_TEST

static Suite *rules_eval_suite(void)
{
	Suite *s = suite_create("rules_eval");
	TCase *tc = tcase_create("eval");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, every_match_and_its_negation_on_real_frames, 0,
			    (int)ZT_ARRAY_LEN(match_cases));
	tcase_add_loop_test(tc, and_or_not_chains_follow_precedence, 0, (int)ZT_ARRAY_LEN(chain_cases));
	tcase_add_test(tc, or_chain_reports_the_term_that_matched);
	tcase_add_test(tc, first_accept_or_drop_decides);
	tcase_add_test(tc, no_rule_matching_drops_and_no_rules_accepts);
	tcase_add_test(tc, tee_copies_and_continues);
	tcase_add_test(tc, watch_copies_with_direction_even_when_dropped);
	tcase_add_test(tc, redirect_accepts_towards_another_member_and_stops);
	tcase_add_test(tc, break_leaves_the_base_set);
	tcase_add_test(tc, capabilities_grant_when_base_rules_do_not_decide);
	tcase_add_test(tc, side_actions_are_bounded);
	tcase_add_test(tc, random_follows_its_probability_and_the_callers_value);
	tcase_add_test(tc, counters_count_matches_per_rule_and_direction);
	tcase_add_test(tc, trace_names_direction_frame_rule_line_and_why);
	tcase_add_test(tc, frame_summaries_cover_every_kind);
	tcase_add_test(tc, every_truncation_of_every_frame_is_safe);
	tcase_add_test(tc, matches_on_a_frame_with_no_bytes_are_false);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(rules_eval_suite)
