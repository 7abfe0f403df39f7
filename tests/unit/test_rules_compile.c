/*
 * test_rules_compile.c - the rules language: programs that do not compile
 * are refused at the right line and column with a useful message; limits
 * hold; decompile(compile(text)) compiles back to the identical blob; the
 * rules test cases read, build their frames and check their expectations.
 */
#include "rules/rules.h"
#include "tests/unit/check_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t blob[ZT_RULES_MAX_BYTES];
static size_t blob_len;
static struct zt_rules prog;
static char text[1 << 20];

static int compile(const char *src, struct zt_rules_error *err)
{
	return zt_rules_compile(src, strlen(src), blob, sizeof(blob), &blob_len, err);
}

static void load(const char *src)
{
	struct zt_rules_error err;

	ck_assert_msg(compile(src, &err) == 0, "%u:%u: %s", err.line, err.col, err.msg);
	ck_assert_int_eq(zt_rules_load(&prog, blob, blob_len, &err), 0);
}

struct refusal {
	const char *src;
	unsigned line;
	unsigned col;
	int code;
	const char *msg;
};

static const struct refusal refusals[] = {
	{"accept", 1, 7, ZT_EPARSE, "expected a match or ';', got end of file"},
	{"accept tcp", 1, 11, ZT_EPARSE, "got end of file"},
	{"allow tcp;", 1, 1, ZT_EPARSE, "expected a rule (accept, drop, break, tee, redirect, watch)"},
	{"accept dprt 22;", 1, 8, ZT_EPARSE, "unknown match 'dprt'"},
	{"drop tcp dport 443-80;", 1, 16, ZT_EPARSE, "dport: range low end above high end"},
	{"drop dport 65536;", 1, 12, ZT_EPARSE, "dport: number out of range"},
	{"drop dport;", 1, 11, ZT_EPARSE, "expected a number or range like 80-443 after 'dport', got ';'"},
	{"\n\n  accept tcp and;", 3, 17, ZT_EPARSE, "expected a match, got ';'"},
	{"accept tcp or or udp;", 1, 15, ZT_EPARSE, "expected a match, got 'or'"},
	{"accept not not tcp;", 1, 12, ZT_EPARSE, "expected a match, got 'not'"},
	{"accept not;", 1, 11, ZT_EPARSE, "expected a match, got ';'"},
	{"tee;", 1, 4, ZT_EPARSE, "expected a member address (10 hex digits) after 'tee', got ';'"},
	{"tee 89e92ceee;", 1, 5, ZT_EPARSE, "tee: member address must be 10 hex digits"},
	{"redirect 0000000000;", 1, 10, ZT_EPARSE, "0000000000 is reserved"},
	{"accept src-member 89e92ceeeg;", 1, 19, ZT_EPARSE, "must be 10 hex digits"},
	{"accept src-mac 02:00:00:00:00;", 1, 16, ZT_EPARSE, "MAC address must look like"},
	{"accept ethertype ipx;", 1, 18, ZT_EPARSE, "expected 0x0000-0xffff or a name"},
	{"accept ipproto 256;", 1, 16, ZT_EPARSE, "expected 0-255 or a name"},
	{"accept vlan-id 4096;", 1, 16, ZT_EPARSE, "vlan-id: expected 0-4095"},
	{"accept vlan-pcp 8;", 1, 17, ZT_EPARSE, "vlan-pcp: expected 0-7"},
	{"accept src-ip 10.0.0.1/8;", 1, 15, ZT_EPARSE, "bits set past its prefix length"},
	{"accept src-ip 10.0.0.0/33;", 1, 15, ZT_EPARSE, "prefix length must be 0-32"},
	{"accept dst-ip fd00::/129;", 1, 15, ZT_EPARSE, "prefix length must be 0-128"},
	{"accept dst-ip 10.0.0.256;", 1, 15, ZT_EPARSE, "expected an IP address"},
	{"accept dscp 64;", 1, 13, ZT_EPARSE, "dscp: number out of range"},
	{"accept tos 3 mask 0xfc;", 1, 12, ZT_EPARSE, "tos: value has bits outside mask 0xfc"},
	{"accept tos 3 mask 0;", 1, 19, ZT_EPARSE, "mask: expected 1-255"},
	{"accept icmp-type 8 code;", 1, 24, ZT_EPARSE, "expected an ICMP code (0-255) after 'code'"},
	{"accept tcp-flags syn,syn;", 1, 18, ZT_EPARSE, "TCP flag named twice"},
	{"accept tcp-flags syn,fun;", 1, 18, ZT_EPARSE, "unknown TCP flag"},
	{"accept tcp-flags syn,;", 1, 18, ZT_EPARSE, "TCP flag list ends with a comma"},
	{"accept tag 1 equal 2;", 1, 14, ZT_EPARSE, "expected equals, bitand, bitor, bitxor or within"},
	{"accept tag 1 equals;", 1, 20, ZT_EPARSE, "expected a tag value after 'tag'"},
	{"accept sender-tag 1 4294967296;", 1, 21, ZT_EPARSE, "expected a number 0-4294967295"},
	{"accept random 101%;", 1, 15, ZT_EPARSE, "probability must be 0% to 100%"},
	{"accept random 0.00001%;", 1, 15, ZT_EPARSE, "probability takes 1 to 4 decimals"},
	{"accept random 50;", 1, 15, ZT_EPARSE, "probability must be a percentage"},
	{"accept { tcp };", 1, 8, ZT_EPARSE, "expected a match or ';', got '{'"},
	{"accept tcp {", 1, 12, ZT_EPARSE, "expected a match, 'and', 'or' or ';', got '{'"},
	{"accept \x01;", 1, 8, ZT_EPARSE, "got byte 0x01"},
	{"accept tcp\x80;", 1, 11, ZT_EPARSE, "got byte 0x80"},
	{"}", 1, 1, ZT_EPARSE, "expected a rule"},
	{"capability { accept; }", 1, 12, ZT_EPARSE, "expected a capability name after 'capability'"},
	{"capability 9lives { accept; }", 1, 12, ZT_EPARSE, "capability name must be a letter"},
	{"capability ssh accept; }", 1, 16, ZT_EPARSE, "expected '{' after the capability name"},
	{"capability ssh { accept;", 1, 1, ZT_EPARSE, "capability 'ssh' is not closed with '}'"},
	{"capability a { capability b { } }", 1, 16, ZT_EPARSE, "capabilities do not nest"},
	{"capability a { }\ncapability a { }", 2, 12, ZT_EPARSE, "capability 'a' defined twice"},
	{"capability a { }\n# base rules go first\naccept;", 3, 1, ZT_EPARSE,
	 "base rules come before the first capability"},
	{"capability a { } }", 1, 18, ZT_EPARSE, "expected a capability, got '}'"},
};

START_TEST(refusals_carry_line_column_and_message)
{
	const struct refusal *r = &refusals[_i];
	struct zt_rules_error err;
	int rc = compile(r->src, &err);

	ck_assert_msg(rc == r->code, "\"%s\": got %d, want %d", r->src, rc, r->code);
	ck_assert_msg(err.line == r->line && err.col == r->col, "\"%s\": at %u:%u, want %u:%u (%s)",
		      r->src, err.line, err.col, r->line, r->col, err.msg);
	ck_assert_msg(strstr(err.msg, r->msg), "\"%s\": \"%s\" lacks \"%s\"", r->src, err.msg, r->msg);
	ck_assert_uint_eq(blob_len, 0);
}
END_TEST

START_TEST(limits_are_refused_where_they_are_crossed)
{
	static char src[ZT_RULES_MAX_TEXT + 2];
	struct zt_rules_error err;
	size_t n = 0;

	for (int i = 0; i <= ZT_RULES_MAX_RULES; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, "drop dport %d;\n", i);
	ck_assert_int_eq(compile(src, &err), ZT_ETOOBIG);
	ck_assert_uint_eq(err.line, ZT_RULES_MAX_RULES + 1);
	ck_assert_str_eq(err.msg, "too many rules (max 256)");

	n = (size_t)snprintf(src, sizeof(src), "accept");
	for (int i = 0; i <= ZT_RULES_MAX_MATCHES; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, " dport %d", i);
	snprintf(src + n, sizeof(src) - n, ";");
	ck_assert_int_eq(compile(src, &err), ZT_ETOOBIG);
	ck_assert_str_eq(err.msg, "too many matches in one rule (max 32)");
	/* "accept", then " dport 0".." dport 9" (8 columns each), " dport 10".. (9 each):
	 * the 33rd match's keyword. */
	ck_assert_uint_eq(err.col, 6 + 10 * 8 + 22 * 9 + 2);

	n = 0;
	for (int i = 0; i <= ZT_RULES_MAX_CAPS; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, "capability c%d { }\n", i);
	ck_assert_int_eq(compile(src, &err), ZT_ETOOBIG);
	ck_assert_uint_eq(err.line, ZT_RULES_MAX_CAPS + 1);

	/* 200 rules of 3 IPv6 prefixes: about 14 KiB; 240 of them do not fit. */
	n = 0;
	for (int i = 0; i < 240; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n,
				      "drop src-ip fd00::%x dst-ip fd00::1 or src-ip fd01::/16;\n", i);
	ck_assert_int_eq(compile(src, &err), ZT_ETOOBIG);
	ck_assert_msg(strstr(err.msg, "program too large (max 16384 bytes)") ||
		      strstr(err.msg, "max 16384"), "%s", err.msg);

	memset(src, ' ', ZT_RULES_MAX_TEXT + 1);
	ck_assert_int_eq(zt_rules_compile(src, ZT_RULES_MAX_TEXT + 1, blob, sizeof(blob), &blob_len,
					  &err), ZT_ETOOBIG);
	ck_assert_int_eq(zt_rules_compile("accept;", 7, blob, 10, &blob_len, &err), ZT_ETOOBIG);
	ck_assert_msg(strstr(err.msg, "output buffer"), "%s", err.msg);
}
END_TEST

static void assert_round_trip(const char *src)
{
	static uint8_t again[ZT_RULES_MAX_BYTES];
	struct zt_rules_error err;
	size_t len, again_len;

	load(src);
	ck_assert_int_eq(zt_rules_decompile(&prog, text, sizeof(text), &len), 0);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_msg(zt_rules_compile(text, len, again, sizeof(again), &again_len, &err) == 0,
		      "decompiled text refused at %u:%u: %s\n%s", err.line, err.col, err.msg, text);
	ck_assert_msg(again_len == blob_len && memcmp(again, blob, blob_len) == 0,
		      "round trip changed the blob:\n--- source\n%s\n--- decompiled\n%s", src, text);
}

static const char *const programs[] = {
	"",
	"accept;",
	"drop tcp dport 22;\naccept not ipproto tcp or dport 80-443;\ntee 89e92ceee5 ethertype arp;",
	"# comments, blank lines and odd layout\n\n\n   drop\n\tudp\n\tdport 53 ;  accept ;\n"
	"capability x{accept tcp;}capability y { }\n\n\ncapability z {\n\n\n drop; accept; }\n",
	"accept; capability a { accept; } capability b { drop; }",
	"capability only { accept; }",
	"capability e1 { }\ncapability e2 { }\n",
	"accept src-member 0000000001 dst-member ffffffffff src-mac 00:11:22:33:44:55 "
	"dst-mac ff:ff:ff:ff:ff:ff;\n"
	"accept ethertype 0x1234 or ethertype lldp or ipv4 or arp or ipv6 or ethertype 0x0842;\n"
	"accept vlan-id 0 vlan-pcp 0 or vlan-id 4095 vlan-pcp 7;\n"
	"accept src-ip 0.0.0.0/0 dst-ip 255.255.255.255 or src-ip 1.2.3.0/24 or dst-ip 10.0.0.0/9;\n"
	"accept src-ip ::/0 or dst-ip ff02::1 or src-ip 2001:db8::/32 or dst-ip ::ffff:10.0.0.1;\n"
	"accept ipproto 0 or ipproto 255 or tcp or udp or icmp or icmp6 or ipproto sctp or "
	"ipproto gre;\n"
	"accept tos 0 or tos 0-255 or dscp 0-63 or dscp 46 or tos 0x20 mask 0xe0 or "
	"tos 4 mask 0xfc or tos 0x10-0x18 mask 0x1c;\n"
	"accept icmp-type 0 or icmp-type 255 code 255 or icmp-type 3 code 4;\n"
	"accept sport 0 or sport 0-65535 or dport 80-80 or dport 1024-2048;\n"
	"accept tcp-flags fin,syn,rst,psh,ack,urg,ece,cwr,ns or tcp-flags !syn or "
	"tcp-flags ns,!cwr;\n"
	"accept size 0 or size 64-1518 or size 65535;\n"
	"accept broadcast or multicast or inbound or outbound or from-bridge;\n"
	"accept tag 0 equals 0 or tag 4294967295 bitand 4294967295 or tag 1 bitor 2 or "
	"tag 3 bitxor 4 or tag 5 within 6;\n"
	"accept sender-tag 1 2 or receiver-tag 3 4;\n"
	"accept random 0% or random 100% or random 0.0001% or random 12.5% or random 99.9999%;\n"
	"tee 0102030405; watch 0a0b0c0d0e not tcp; redirect 1111111111 dport 22; break udp;\n",
};

START_TEST(decompiled_text_compiles_to_the_identical_blob)
{
	assert_round_trip(programs[_i]);
}
END_TEST

START_TEST(decompiler_writes_canonical_text_on_the_original_lines)
{
	size_t len;

	load("# head\ndrop tcp dport 22; accept udp\n\n  or icmp;\n\ncapability ssh {\n"
	     "\taccept tcp dport 22;\n}\n");
	ck_assert_int_eq(zt_rules_decompile(&prog, text, sizeof(text), &len), 0);
	ck_assert_str_eq(text,
			 "# zt rules, format v1: 3 rules, 1 capabilities\n"
			 "drop ipproto tcp and dport 22; accept ipproto udp or ipproto icmp;\n"
			 "\n"
			 "\n"
			 "\n"
			 "capability ssh {\n"
			 "\taccept ipproto tcp and dport 22;\n"
			 "}\n");
	ck_assert_int_eq(zt_rules_decompile(&prog, text, 20, &len), ZT_ETOOBIG);
	ck_assert_int_eq(zt_rules_rule_text(&prog, 1, text, sizeof(text)), 0);
	ck_assert_str_eq(text, "accept ipproto udp or ipproto icmp;");
	ck_assert_int_eq(zt_rules_rule_text(&prog, 3, text, sizeof(text)), ZT_ENOENT);
	ck_assert_int_eq(zt_rules_rule_text(&prog, 1, text, 10), ZT_ETOOBIG);
}
END_TEST

START_TEST(shorthands_compile_to_their_canonical_forms)
{
	static const char *const pairs[][2] = {
		{"accept tcp;", "accept ipproto tcp;"},
		{"accept udp;", "accept ipproto 17;"},
		{"accept icmp6;", "accept ipproto 0x3a;"},
		{"accept arp;", "accept ethertype 0x0806;"},
		{"accept ipv6;", "accept ethertype ipv6;"},
		{"accept tcp dport 22;", "accept ipproto tcp and dport 22-22;"},
		{"accept dscp 46;", "accept tos 184 mask 0xfc;"},
		{"accept tos 7;", "accept tos 7-7 mask 255;"},
		{"accept random 50%;", "accept random 50.0000%;"},
		{"accept src-ip 10.0.0.1;", "accept src-ip 10.0.0.1/32;"},
		{"accept src-member 89E92CEEE5;", "accept src-member 89e92ceee5;"},
	};
	static uint8_t first[ZT_RULES_MAX_BYTES];

	for (size_t i = 0; i < ZT_ARRAY_LEN(pairs); i++) {
		size_t first_len;

		load(pairs[i][0]);
		memcpy(first, blob, blob_len);
		first_len = blob_len;
		load(pairs[i][1]);
		ck_assert_msg(first_len == blob_len && memcmp(first, blob, blob_len) == 0,
			      "\"%s\" and \"%s\" differ", pairs[i][0], pairs[i][1]);
	}
}
END_TEST

/* ---- rules test cases ---- */

static struct zt_rules_case tcase;

START_TEST(cases_build_the_frames_they_describe)
{
	static const struct {
		const char *line;
		const char *summary;
	} rows[] = {
		{"out tcp 10.0.0.1:1234 -> 10.0.0.2:22",
		 "02:00:00:00:00:01 -> 02:00:00:00:00:02 ipv4 tcp 10.0.0.1:1234 -> 10.0.0.2:22 [SYN], 54 bytes"},
		{"in udp [fd00::1]:5353 -> [ff02::fb]:5353 from 89e92ceee5",
		 "02:89:e9:2c:ee:e5 -> 33:33:00:00:00:fb ipv6 udp [fd00::1]:5353 -> [ff02::fb]:5353, 62 bytes"},
		{"out udp 10.0.0.1:5353 -> 224.0.0.251:5353 size 100",
		 "-> 01:00:5e:00:00:fb ipv4 udp 10.0.0.1:5353 -> 224.0.0.251:5353, 100 bytes"},
		{"out arp 10.0.0.1 -> 10.0.0.2 vlan 10 pcp 3",
		 "-> ff:ff:ff:ff:ff:ff vlan 10 pcp 3 arp request 10.0.0.1 -> 10.0.0.2, 46 bytes"},
		{"out icmp 10.0.0.1 -> 10.0.0.2 type 3 code 1 tos 0xb8",
		 "ipv4 icmp 10.0.0.1 -> 10.0.0.2 type 3 code 1 tos 0xb8, 42 bytes"},
		{"out icmp fe80::1 -> ff02::1",
		 "ipv6 icmp6 fe80::1 -> ff02::1 type 128 code 0, 62 bytes"},
		{"out tcp 10.0.0.1:1 -> 10.0.0.2:2 flags syn,ack,ns src-mac 02:aa:aa:aa:aa:aa",
		 "02:aa:aa:aa:aa:aa -> 02:00:00:00:00:02 ipv4 tcp 10.0.0.1:1 -> 10.0.0.2:2 [SYN,ACK,NS]"},
		{"out sctp 10.0.0.1:1 -> 10.0.0.2:2", "ipv4 sctp 10.0.0.1:1 -> 10.0.0.2:2, 46 bytes"},
		{"out ip 10.0.0.1 -> 10.0.0.2 proto 47", "ipv4 gre 10.0.0.1 -> 10.0.0.2, 34 bytes"},
		{"out ether lldp dst-mac 01:80:c2:00:00:0e size 60",
		 "-> 01:80:c2:00:00:0e ethertype 0x88cc (lldp), 60 bytes"},
		{"out tcp 10.0.0.1:1 -> 10.0.0.2:2 truncate 36", "(transport header truncated), 36 bytes"},
		{"out udp 0.0.0.0:68 -> 255.255.255.255:67", "-> ff:ff:ff:ff:ff:ff ipv4 udp"},
	};
	char summary[512];
	struct zt_rules_error err;

	load("accept;");
	for (size_t i = 0; i < ZT_ARRAY_LEN(rows); i++) {
		int rc = zt_rules_case_parse(&prog, rows[i].line, strlen(rows[i].line), 1, &tcase, &err);

		ck_assert_msg(rc == 0, "\"%s\": %u: %s", rows[i].line, err.col, err.msg);
		ck_assert_int_eq(zt_rules_frame_summary(tcase.frame, tcase.frame_len, summary,
							sizeof(summary)), 0);
		ck_assert_msg(strstr(summary, rows[i].summary), "\"%s\" gave \"%s\"", rows[i].line,
			      summary);
	}
}
END_TEST

static bool run_line(struct zt_rules_result *res, const char *line)
{
	struct zt_rules_error err;

	ck_assert_msg(zt_rules_case_parse(&prog, line, strlen(line), 1, &tcase, &err) == 0,
		      "\"%s\": %u: %s", line, err.col, err.msg);
	return zt_rules_case_run(&prog, &tcase, NULL, res);
}

START_TEST(cases_fill_metadata_and_expectations)
{
	static const char line[] =
		"in tcp 10.0.0.1:1 -> 10.0.0.2:22 from 1111111111 to 2222222222 bridge "
		"sender-tag 1 2 receiver-tag 3 4 receiver-tag 5 6 cap web random 77 expect drop line 3";
	struct zt_rules_error err;
	struct zt_rules_result res;

	load("accept udp;\ncapability ssh { accept tcp dport 22; }\n"
	     "capability web { drop tcp dport 22; }\n");
	ck_assert_int_eq(zt_rules_case_parse(&prog, line, strlen(line), 7, &tcase, &err), 0);
	ck_assert(!tcase.empty);
	ck_assert_int_eq(tcase.meta.dir, ZT_RULES_INBOUND);
	ck_assert_uint_eq(tcase.meta.src_member, 0x1111111111ull);
	ck_assert_uint_eq(tcase.meta.dst_member, 0x2222222222ull);
	ck_assert(tcase.meta.sender_is_bridge);
	ck_assert_uint_eq(tcase.meta.sender_tag_count, 1);
	ck_assert_uint_eq(tcase.meta.receiver_tag_count, 2);
	ck_assert_uint_eq(tcase.meta.receiver_tags[1].value, 6);
	ck_assert_uint_eq(tcase.meta.caps, 1u << 1);
	ck_assert_uint_eq(tcase.meta.random, 77);
	ck_assert(tcase.expect_set);
	ck_assert_int_eq(tcase.expect, ZT_RULES_DROP);
	ck_assert_int_eq(tcase.expect_line, 3);
	/* web's drop does not decide: the default does, so "line 3" fails. */
	ck_assert(!zt_rules_case_run(&prog, &tcase, NULL, &res));
	ck_assert_int_eq(res.rule, ZT_RULES_BY_DEFAULT);

	ck_assert(run_line(&res, "out tcp 10.0.0.1:1 -> 10.0.0.2:22 cap ssh expect accept line 2"));
	ck_assert_int_eq(res.cap, 0);
	ck_assert(run_line(&res, "out tcp 10.0.0.1:1 -> 10.0.0.2:22 expect drop default"));
	ck_assert(!run_line(&res, "out tcp 10.0.0.1:1 -> 10.0.0.2:22 expect accept"));
	ck_assert(!run_line(&res, "out udp 10.0.0.1:1 -> 10.0.0.2:22 expect accept default"));
	ck_assert(run_line(&res, "out udp 10.0.0.1:1 -> 10.0.0.2:22 expect accept line 1"));
	ck_assert(run_line(&res, "out udp 10.0.0.1:1 -> 10.0.0.2:22"));
	ck_assert_int_eq(zt_rules_case_parse(&prog, "  # only a comment", 18, 1, &tcase, &err), 0);
	ck_assert(tcase.empty);
}
END_TEST

static const struct refusal case_refusals[] = {
	{"sideways tcp 1.2.3.4:1 -> 1.2.3.4:2", 9, 1, ZT_EPARSE, "a case starts with in or out"},
	{"out", 9, 4, ZT_EPARSE, "expected tcp, udp, sctp, icmp, ip, arp or ether"},
	{"out gopher 1.2.3.4 -> 1.2.3.5", 9, 5, ZT_EPARSE, "expected tcp, udp, sctp"},
	{"out tcp 1.2.3.4 -> 1.2.3.5:80", 9, 9, ZT_EPARSE, "expected ADDRESS:PORT"},
	{"out tcp 1.2.3.4:1 1.2.3.5:80", 9, 19, ZT_EPARSE, "expected '->'"},
	{"out tcp 1.2.3.4:1 -> [fd00::1]:80", 9, 22, ZT_EPARSE, "both be IPv4 or both IPv6"},
	{"out tcp 1.2.3.4:99999 -> 1.2.3.5:80", 9, 9, ZT_EPARSE, "port must be 0-65535"},
	{"out tcp fd00::1:80 -> fd00::2:80", 9, 9, ZT_EPARSE, "expected ADDRESS:PORT"},
	{"out icmp 1.2.3.4:1 -> 1.2.3.5", 9, 10, ZT_EPARSE, "this frame has no ports"},
	{"out arp fd00::1 -> fd00::2", 9, 20, ZT_EPARSE, "arp carries IPv4 addresses"},
	{"out ether ipx", 9, 11, ZT_EPARSE, "expected an ethertype"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 type 3", 9, 32, ZT_EPARSE, "'type' applies to icmp"},
	{"out udp 1.2.3.4:1 -> 1.2.3.5:2 flags syn", 9, 32, ZT_EPARSE, "'flags' applies to tcp"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 flags syn,!ack", 9, 38, ZT_EPARSE, "expected TCP flags"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 vlan 4096", 9, 37, ZT_EPARSE, "expected a VLAN id (0-4095)"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 size 20", 9, 37, ZT_EPARSE, "size 20 is smaller than the headers"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 cap nope", 9, 36, ZT_EPARSE, "no capability 'nope'"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 colour red", 9, 32, ZT_EPARSE, "unknown option 'colour'"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 expect maybe", 9, 39, ZT_EPARSE, "expected accept or drop"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 expect drop now", 9, 44, ZT_EPARSE, "nothing may follow"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 from 12345", 9, 37, ZT_EPARSE, "member address"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2 ;", 9, 32, ZT_EPARSE, "unexpected ';'"},
	{"out tcp 1.2.3.4:1 -> 1.2.3.5:2\nexpect drop", 9, 31, ZT_EPARSE, "a case is one line"},
};

START_TEST(bad_cases_are_refused_with_column_and_message)
{
	const struct refusal *r = &case_refusals[_i];
	struct zt_rules_error err;
	int rc;

	load("accept; capability web { accept; }");
	rc = zt_rules_case_parse(&prog, r->src, strlen(r->src), 9, &tcase, &err);
	ck_assert_msg(rc == r->code, "\"%s\": got %d", r->src, rc);
	ck_assert_msg(err.line == r->line && err.col == r->col, "\"%s\": at %u:%u, want %u:%u (%s)",
		      r->src, err.line, err.col, r->line, r->col, err.msg);
	ck_assert_msg(strstr(err.msg, r->msg), "\"%s\": \"%s\" lacks \"%s\"", r->src, err.msg, r->msg);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = calloc(1, ZT_RULES_MAX_TEXT + 1);

	ck_assert_msg(fp != NULL, "%s not found (run from the top of the tree)", path);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, ZT_RULES_MAX_TEXT, fp);
	fclose(fp);
	return buf;
}

START_TEST(example_programs_pass_their_own_cases)
{
	static const char *const examples[][2] = {
		{"tests/rules/office.rules", "tests/rules/office.cases"},
		{"tests/rules/every_match.rules", "tests/rules/every_match.cases"},
	};
	struct zt_rules_result res;
	struct zt_rules_error err;

	for (size_t e = 0; e < ZT_ARRAY_LEN(examples); e++) {
		size_t rlen, clen, run = 0;
		char *rules = slurp(examples[e][0], &rlen);
		char *cases = slurp(examples[e][1], &clen);
		unsigned lineno = 1;

		ck_assert_msg(zt_rules_compile(rules, rlen, blob, sizeof(blob), &blob_len, &err) == 0,
			      "%s:%u:%u: %s", examples[e][0], err.line, err.col, err.msg);
		ck_assert_int_eq(zt_rules_load(&prog, blob, blob_len, &err), 0);
		assert_round_trip(rules);
		for (char *p = cases, *end; p < cases + clen; p = end + 1, lineno++) {
			end = memchr(p, '\n', (size_t)(cases + clen - p));
			if (!end)
				end = cases + clen;
			ck_assert_msg(zt_rules_case_parse(&prog, p, (size_t)(end - p), lineno, &tcase,
							  &err) == 0,
				      "%s:%u:%u: %s", examples[e][1], lineno, err.col, err.msg);
			if (tcase.empty)
				continue;
			ck_assert_msg(tcase.expect_set, "%s:%u: no expectation", examples[e][1], lineno);
			ck_assert_msg(zt_rules_case_run(&prog, &tcase, NULL, &res),
				      "%s:%u: got %s by rule %d", examples[e][1], lineno,
				      res.verdict == ZT_RULES_ACCEPT ? "accept" : "drop", res.rule);
			run++;
		}
		ck_assert_uint_gt(run, 10);
		free(rules);
		free(cases);
	}
}
END_TEST

static Suite *rules_compile_suite(void)
{
	Suite *s = suite_create("rules_compile");
	TCase *tc = tcase_create("compile");

	tcase_add_loop_test(tc, refusals_carry_line_column_and_message, 0,
			    (int)ZT_ARRAY_LEN(refusals));
	tcase_add_test(tc, limits_are_refused_where_they_are_crossed);
	tcase_add_loop_test(tc, decompiled_text_compiles_to_the_identical_blob, 0,
			    (int)ZT_ARRAY_LEN(programs));
	tcase_add_test(tc, decompiler_writes_canonical_text_on_the_original_lines);
	tcase_add_test(tc, shorthands_compile_to_their_canonical_forms);
	tcase_add_test(tc, cases_build_the_frames_they_describe);
	tcase_add_test(tc, cases_fill_metadata_and_expectations);
	tcase_add_loop_test(tc, bad_cases_are_refused_with_column_and_message, 0,
			    (int)ZT_ARRAY_LEN(case_refusals));
	tcase_add_test(tc, example_programs_pass_their_own_cases);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(rules_compile_suite)
