/*
 * test_rules_verify.c - the rules verifier: the byte layout is pinned, and
 * every malformed, truncated, oversized or non-canonical blob is refused
 * with a reason before anything could run it; whatever it accepts is safe
 * to evaluate and decompiles to text that compiles back to the same bytes.
 */
#include "rules/rules.h"
#include "tests/rules/frames.h"
#include "tests/unit/check_main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t blob[ZT_RULES_MAX_BYTES + 16];
static size_t blob_len;
static struct zt_rules prog;

static void compile(const char *text)
{
	struct zt_rules_error err;
	int rc = zt_rules_compile(text, strlen(text), blob, ZT_RULES_MAX_BYTES, &blob_len, &err);

	ck_assert_msg(rc == 0, "\"%s\": %u:%u: %s", text, err.line, err.col, err.msg);
}

static void assert_bytes(const char *hex)
{
	char got[2 * 256 + 1] = "";

	ck_assert_uint_lt(blob_len, 256);
	for (size_t i = 0; i < blob_len; i++)
		snprintf(got + 2 * i, 3, "%02x", blob[i]);
	ck_assert_str_eq(got, hex);
}

START_TEST(byte_layout_is_pinned)
{
	/* header: magic, version 1, 0 caps, length 30, 1 rule, 1 base rule;
	 * rule: accept, 1 match, no target; match: dport (0x10), flags 0,
	 * 4 bytes, 22-22; line table: 1. */
	compile("accept dport 22;");
	assert_bytes("5a545242" "01" "00" "001e" "0001" "0001"
		     "01" "01" "0000000000" "10" "00" "04" "0016" "0016"
		     "00000001");
	/* one capability "ssh" with one rule; a target; not; or */
	compile("tee 89e92ceee5 not tcp or udp;\ncapability ssh { drop; }");
	assert_bytes("5a545242" "01" "01" "0030" "0002" "0001"
		     "03" "737368" "0001"
		     "04" "02" "89e92ceee5" "0c" "01" "01" "06" "0c" "02" "01" "11"
		     "02" "00" "0000000000"
		     "00000001" "00000002");
	ck_assert_int_eq(zt_rules_load(&prog, blob, blob_len, NULL), 0);
	ck_assert_uint_eq(prog.rule_count, 2);
	ck_assert_uint_eq(prog.base_count, 1);
	ck_assert_uint_eq(prog.cap_count, 1);
	ck_assert_str_eq(prog.cap[0].name, "ssh");
	ck_assert_uint_eq(prog.cap[0].first, 1);
	ck_assert_uint_eq(prog.rule_line[1], 2);
}
END_TEST

struct patch {
	const char *text;  /* compiled first */
	size_t off;        /* byte to overwrite */
	uint8_t value;
	int code;          /* what the verifier must say */
	const char *why;   /* and part of its message */
};

static const struct patch patches[] = {
	{"accept dport 22;", 0, 0x00, ZT_EINVAL, "bad magic"},
	{"accept dport 22;", 4, 2, ZT_EVERSION, "format version 2"},
	{"accept dport 22;", 5, 33, ZT_ETOOBIG, "33 capabilities"},
	{"accept dport 22;", 5, 1, ZT_EINVAL, "capability 0: invalid name"},
	{"accept dport 22;", 7, 31, ZT_ETRUNC, "header says 31 bytes, have 30"},
	{"accept dport 22;", 7, 29, ZT_EINVAL, "1 bytes after the end"},
	{"accept dport 22;", 8, 1, ZT_ETOOBIG, "257 rules"},
	{"accept dport 22;", 9, 2, ZT_EINVAL, "rule count 2 is not base 1"},
	{"accept dport 22;", 11, 2, ZT_EINVAL, "2 base rules but 1 rules"},
	{"accept dport 22;", 12, 0, ZT_EINVAL, "rule 0: unknown action 0"},
	{"accept dport 22;", 12, 7, ZT_EINVAL, "rule 0: unknown action 7"},
	{"accept dport 22;", 12, 4, ZT_EINVAL, "tee needs a member address"},
	{"accept dport 22;", 18, 1, ZT_EINVAL, "accept takes no member address"},
	{"accept dport 22;", 13, 33, ZT_ETOOBIG, "33 matches"},
	{"accept dport 22;", 13, 2, ZT_EINVAL, "match 1: unknown match type 0"},
	{"accept dport 22;", 13, 0, ZT_EINVAL, "line 268436480 out of order or range"},
	{"accept dport 22;", 19, 0, ZT_EINVAL, "unknown match type 0"},
	{"accept dport 22;", 19, 22, ZT_EINVAL, "unknown match type 22"},
	{"accept dport 22;", 19, 1, ZT_EINVAL, "type 1 takes 5 bytes, not 4"},
	{"accept dport 22;", 20, 0x02, ZT_EINVAL, "first match cannot start an or-term"},
	{"accept dport 22;", 20, 0x04, ZT_EINVAL, "unknown flags 0x04"},
	{"accept dport 22;", 21, 5, ZT_EINVAL, "takes 4 bytes, not 5"},
	{"accept dport 22;", 21, 200, ZT_ETRUNC, "rule 0 match 0: truncated"},
	{"accept dport 22;", 23, 0x17, ZT_EINVAL, "range low end above high end"},
	{"accept dport 22;", 29, 0, ZT_EINVAL, "line 0 out of order"},
	{"accept src-member 0000000001;", 26, 0, ZT_EINVAL, "0000000000 is reserved"},
	{"accept vlan-id 1;", 22, 0x10, ZT_EINVAL, "vlan id above 4095"},
	{"accept vlan-pcp 1;", 22, 8, ZT_EINVAL, "vlan priority above 7"},
	{"accept src-ip 10.0.0.0/8;", 26, 33, ZT_EINVAL, "prefix length too long"},
	{"accept src-ip 10.0.0.0/8;", 23, 1, ZT_EINVAL, "bits set past its prefix length"},
	{"accept dst-ip ::/0;", 38, 129, ZT_EINVAL, "prefix length too long"},
	{"accept dst-ip ::/0;", 37, 1, ZT_EINVAL, "bits set past its prefix length"},
	{"accept tos 1;", 22, 0, ZT_EINVAL, "tos mask is zero"},
	{"accept tos 1;", 22, 0xfe, ZT_EINVAL, "bits outside its mask"},
	{"accept tos 1;", 23, 2, ZT_EINVAL, "range low end above high end"},
	{"accept icmp-type 1;", 24, 2, ZT_EINVAL, "icmp code flag invalid"},
	{"accept icmp-type 1;", 23, 1, ZT_EINVAL, "icmp code flag invalid"},
	{"accept tcp-flags syn;", 22, 0x02, ZT_EINVAL, "beyond ns"},
	{"accept tcp-flags syn;", 25, 0x06, ZT_EINVAL, "value outside its mask"},
	{"accept size 1-2;", 25, 0, ZT_EINVAL, "range low end above high end"},
	{"accept broadcast;", 22, 0, ZT_EINVAL, "unknown characteristic"},
	{"accept broadcast;", 22, 6, ZT_EINVAL, "unknown characteristic"},
	{"accept tag 1 equals 1;", 22, 8, ZT_EINVAL, "unknown tag operation"},
	{"accept random 1%;", 22, 0x01, ZT_EINVAL, "probability above 100%"},
	{"capability a { accept; } capability b { accept; }", 17, 'a', ZT_EINVAL,
	 "capability 1: duplicate name a"},
	{"capability a { accept; } capability b { accept; }", 13, '1', ZT_EINVAL,
	 "capability 0: invalid name"},
	{"capability a { accept; } capability b { accept; }", 12, 0, ZT_EINVAL,
	 "capability 0: invalid name"},
	{"capability a { accept; } capability b { accept; }", 15, 2, ZT_EINVAL,
	 "rule count 2 is not base 0 + capabilities 3"},
	{"capability a { accept; } capability b { accept; }", 37, 5, ZT_EINVAL,
	 "rule 1: line 1 out of order"},
};

START_TEST(malformed_fields_are_refused_with_a_reason)
{
	const struct patch *p = &patches[_i];
	struct zt_rules_error err;
	int rc;

	compile(p->text);
	ck_assert_uint_lt(p->off, blob_len);
	ck_assert_int_eq(zt_rules_verify(blob, blob_len, NULL), 0);
	blob[p->off] = p->value;
	rc = zt_rules_load(&prog, blob, blob_len, &err);
	ck_assert_msg(rc == p->code, "\"%s\" byte %zu = 0x%02x: got %d (%s), want %d", p->text,
		      p->off, p->value, rc, err.msg, p->code);
	ck_assert_msg(strstr(err.msg, p->why), "\"%s\" byte %zu: message \"%s\" lacks \"%s\"",
		      p->text, p->off, err.msg, p->why);
	ck_assert_uint_eq(prog.rule_count, 0); /* a refused load leaves nothing behind */
}
END_TEST

START_TEST(oversized_and_missing_blobs_are_refused)
{
	static uint8_t big[ZT_RULES_MAX_BYTES + 1];
	struct zt_rules_error err;

	compile("accept;");
	memcpy(big, blob, blob_len);
	ck_assert_int_eq(zt_rules_verify(big, sizeof(big), &err), ZT_ETOOBIG);
	ck_assert_ptr_nonnull(strstr(err.msg, "max 16384"));
	ck_assert_int_eq(zt_rules_verify(NULL, 10, &err), ZT_EINVAL);
	ck_assert_int_eq(zt_rules_verify(blob, 0, &err), ZT_ETRUNC);
	ck_assert_ptr_nonnull(strstr(err.msg, "header needs 12 bytes, have 0"));
}
END_TEST

static const char rich[] =
	"# every kind of match, every action\n"
	"watch 89e92ceee5 tcp dport 22 tcp-flags syn,!ack;\n"
	"tee 0102030405 not src-member 1122334455 and src-mac 02:00:00:00:00:01 or random 12.5%;\n"
	"drop dst-member aabbccddee dst-mac ff:ff:ff:ff:ff:ff ethertype 0x88cc;\n"
	"accept vlan-id 4095 vlan-pcp 7 or ipv4 src-ip 10.0.0.0/8 dst-ip 192.168.0.0/16;\n"
	"accept src-ip fd00::/8 dst-ip ff02::1:ff00:0/104 icmp6 icmp-type 135 code 0;\n"
	"redirect 00000000ff tos 16-31 or dscp 46 or tos 32 mask 0xe0 or ipproto 47;\n"
	"drop sport 0-1023 dport 1024-65535 size 64-1518;\n"
	"break broadcast or multicast or inbound or outbound or from-bridge;\n"
	"accept tag 1 equals 2 tag 3 bitand 4 tag 5 bitor 6 tag 7 bitxor 8 tag 9 within 10;\n"
	"accept sender-tag 11 12 receiver-tag 13 14 random 100%; drop;\n"
	"capability ssh {\n\taccept tcp dport 22;\n}\n"
	"capability empty { }\n"
	"capability web { accept tcp dport 80-443; drop; }\n";

static struct tframe frames[4];

static void build_frames(void)
{
	tf_begin(&frames[0], "02:22:22:22:22:22", "02:00:00:00:00:01");
	tf_type(&frames[0], 0x0800);
	tf_ipv4(&frames[0], 0x40, 6, "10.1.2.3", "192.168.1.1", 0x4000);
	tf_tcp(&frames[0], 1000, 22, 0x002);
	tf_end(&frames[0]);
	tf_begin(&frames[1], "33:33:ff:00:00:02", "02:00:00:00:00:01");
	tf_type(&frames[1], 0x86dd);
	tf_ipv6(&frames[1], 0, 58, "fd00::1", "ff02::1:ff00:2");
	tf_icmp(&frames[1], 135, 0);
	tf_end(&frames[1]);
	tf_begin(&frames[2], "ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01");
	tf_vlan(&frames[2], 0x8100, 4095, 7);
	tf_type(&frames[2], 0x0806);
	tf_arp(&frames[2], 1, "02:00:00:00:00:01", "10.0.0.1", "10.0.0.2");
	tf_end(&frames[2]);
	tf_begin(&frames[3], "01:80:c2:00:00:0e", "02:00:00:00:00:01");
	tf_type(&frames[3], 0x88cc);
	tf_payload(&frames[3], 46);
	tf_end(&frames[3]);
}

/* A verified blob must run on every frame and decompile to text that
 * compiles back to exactly the same bytes. */
static void check_accepted(const uint8_t *b, size_t len)
{
	static uint8_t again[ZT_RULES_MAX_BYTES];
	static char text[1 << 20];
	static struct zt_rules_counter counters[ZT_RULES_MAX_RULES + 1];
	struct zt_rules_error err;
	struct zt_rules_meta meta = {.src_member = 0x1122334455ull, .caps = UINT32_MAX};
	struct zt_rules_result res;
	size_t tlen, alen;
	int rc;

	ck_assert_int_eq(zt_rules_load(&prog, b, len, &err), 0);
	for (size_t f = 0; f < ZT_ARRAY_LEN(frames); f++) {
		enum zt_rules_verdict v = zt_rules_eval(&prog, &meta, frames[f].b, frames[f].len,
							counters, &res);

		ck_assert(v == ZT_RULES_ACCEPT || v == ZT_RULES_DROP);
		ck_assert(res.rule == ZT_RULES_BY_DEFAULT || res.rule == ZT_RULES_BY_NONE ||
			  (res.rule >= 0 && res.rule < prog.rule_count));
		ck_assert_uint_le(res.side_count, ZT_RULES_MAX_SIDE);
	}
	ck_assert_int_eq(zt_rules_decompile(&prog, text, sizeof(text), &tlen), 0);
	rc = zt_rules_compile(text, tlen, again, sizeof(again), &alen, &err);
	ck_assert_msg(rc == 0, "decompiled text refused: %u:%u: %s\n%s", err.line, err.col, err.msg,
		      text);
	ck_assert_uint_eq(alen, len);
	ck_assert_msg(memcmp(again, b, len) == 0, "recompiled blob differs:\n%s", text);
}

START_TEST(every_truncation_is_refused)
{
	static uint8_t cut[ZT_RULES_MAX_BYTES];
	struct zt_rules_error err;

	compile(rich);
	check_accepted(blob, blob_len);
	for (size_t len = 0; len < blob_len; len++) {
		int rc = zt_rules_verify(blob, len, &err);

		ck_assert_msg(rc == ZT_ETRUNC, "cut at %zu: %d %s", len, rc, err.msg);
		/* Also with a header that agrees with the cut: inner bounds must hold. */
		if (len < 12)
			continue;
		memcpy(cut, blob, len);
		cut[6] = (uint8_t)(len >> 8);
		cut[7] = (uint8_t)len;
		rc = zt_rules_verify(cut, len, &err);
		ck_assert_msg(rc == ZT_ETRUNC || rc == ZT_EINVAL, "consistent cut at %zu: %d", len, rc);
		ck_assert(err.msg[0] != '\0');
	}
}
END_TEST

START_TEST(every_single_byte_change_is_refused_or_safe)
{
	static const uint8_t values[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff};
	static uint8_t copy[ZT_RULES_MAX_BYTES];
	unsigned accepted = 0, refused = 0;

	compile(rich);
	memcpy(copy, blob, blob_len);
	for (size_t off = 0; off < blob_len; off++) {
		for (size_t v = 0; v <= ZT_ARRAY_LEN(values); v++) {
			uint8_t value = v < ZT_ARRAY_LEN(values) ? values[v] : (uint8_t)(blob[off] ^ 0x10);
			struct zt_rules_error err;

			if (value == blob[off])
				continue;
			copy[off] = value;
			if (zt_rules_verify(copy, blob_len, &err) == 0) {
				check_accepted(copy, blob_len);
				accepted++;
			} else {
				ck_assert(err.msg[0] != '\0');
				refused++;
			}
			copy[off] = blob[off];
		}
	}
	/* Both outcomes must really occur, or the test proves nothing. */
	ck_assert_uint_gt(accepted, 100);
	ck_assert_uint_gt(refused, 1000);
}
END_TEST

START_TEST(limits_are_enforced_at_the_edges)
{
	static char text[ZT_RULES_MAX_TEXT];
	struct zt_rules_error err;
	size_t n = 0;

	/* 256 rules load; the verifier takes the compiler's largest output. */
	for (int i = 0; i < ZT_RULES_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "drop dport %d;\n", i);
	compile(text);
	ck_assert_int_eq(zt_rules_load(&prog, blob, blob_len, &err), 0);
	ck_assert_uint_eq(prog.rule_count, ZT_RULES_MAX_RULES);
	check_accepted(blob, blob_len);
	/* 32 capabilities load. */
	n = 0;
	for (int i = 0; i < ZT_RULES_MAX_CAPS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "capability c%d { accept; }\n", i);
	compile(text);
	ck_assert_int_eq(zt_rules_load(&prog, blob, blob_len, &err), 0);
	ck_assert_uint_eq(prog.cap_count, ZT_RULES_MAX_CAPS);
}
END_TEST

/* The wordiest text per blob byte there is (negated tcp-flags, every flag
 * cleared), as many rules as fit, the last on the highest line: its text
 * must still be one a compiler takes. */
START_TEST(the_largest_decompiled_text_still_compiles)
{
	static char src[ZT_RULES_MAX_TEXT];
	static char out[ZT_RULES_MAX_TEXT + 1];
	static const char flags[] = " or not tcp-flags !fin,!syn,!rst,!psh,!ack,!urg,!ece,!cwr,!ns";
	struct zt_rules_error err;
	size_t n = 0, len;
	int rules = 0;

	for (;;) {
		size_t mark = n;

		n += (size_t)snprintf(src + n, sizeof(src) - n, "redirect ffffffffff %s", flags + 4);
		for (int m = 1; m < ZT_RULES_MAX_MATCHES; m++)
			n += (size_t)snprintf(src + n, sizeof(src) - n, "%s", flags);
		n += (size_t)snprintf(src + n, sizeof(src) - n, ";\n");
		if (zt_rules_compile(src, n, blob, ZT_RULES_MAX_BYTES, &blob_len, &err)) {
			n = mark;
			break;
		}
		rules++;
	}
	ck_assert_int_gt(rules, 50);
	/* Push the last rule down to the last line a rule may start on. */
	src[n - 1] = '\0';
	{
		char *last = strrchr(src, '\n') + 1;
		size_t tail = strlen(last);
		size_t pad = ZT_RULES_MAX_LINE - (size_t)rules;

		memmove(last + pad, last, tail + 1);
		memset(last, '\n', pad);
		n = strlen(src);
	}
	compile(src);
	ck_assert_int_eq(zt_rules_load(&prog, blob, blob_len, &err), 0);
	ck_assert_uint_eq(prog.rule_line[prog.rule_count - 1], ZT_RULES_MAX_LINE);
	ck_assert_int_eq(zt_rules_decompile(&prog, out, sizeof(out), &len), 0);
	ck_assert_uint_le(len, ZT_RULES_MAX_TEXT);
	check_accepted(blob, blob_len);
	src[n] = '\n';
	memmove(src + 1, src, n + 1);
	src[0] = '\n';
	ck_assert_int_eq(zt_rules_compile(src, n + 2, blob, ZT_RULES_MAX_BYTES, &blob_len, &err),
			 ZT_ETOOBIG);
	ck_assert_str_eq(err.msg, "rules must start within the first 65535 lines");
}
END_TEST

START_TEST(every_random_blob_is_refused_without_harm)
{
	static uint8_t junk[512];
	uint32_t x = 2463534242u;

	for (int i = 0; i < 20000; i++) {
		size_t len = (size_t)(i % (int)sizeof(junk));

		for (size_t j = 0; j < len; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			junk[j] = (uint8_t)x;
		}
		/* Give half of them a valid header so the walk goes deeper. */
		if (i & 1 && len >= 12) {
			memcpy(junk, "ZTRB\x01", 5);
			junk[5] = junk[5] % 3;
			junk[6] = (uint8_t)(len >> 8);
			junk[7] = (uint8_t)len;
			junk[8] = 0;
			junk[10] = 0;
		}
		if (zt_rules_verify(junk, len, NULL) == 0)
			check_accepted(junk, len);
	}
}
END_TEST

static Suite *rules_verify_suite(void)
{
	Suite *s = suite_create("rules_verify");
	TCase *tc = tcase_create("verify");

	tcase_set_timeout(tc, 120);
	tcase_add_unchecked_fixture(tc, build_frames, NULL);
	tcase_add_test(tc, byte_layout_is_pinned);
	tcase_add_loop_test(tc, malformed_fields_are_refused_with_a_reason, 0,
			    (int)ZT_ARRAY_LEN(patches));
	tcase_add_test(tc, oversized_and_missing_blobs_are_refused);
	tcase_add_test(tc, every_truncation_is_refused);
	tcase_add_test(tc, every_single_byte_change_is_refused_or_safe);
	tcase_add_test(tc, limits_are_enforced_at_the_edges);
	tcase_add_test(tc, the_largest_decompiled_text_still_compiles);
	tcase_add_test(tc, every_random_blob_is_refused_without_harm);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(rules_verify_suite)
