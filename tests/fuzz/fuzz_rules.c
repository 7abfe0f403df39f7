/*
 * fuzz_rules.c - libFuzzer harness for rules/: untrusted blobs through the
 * verifier and the evaluator, rules text through compile/decompile, frames
 * and test-case lines through a fixed program. Any property that fails
 * aborts. tests/unit/test_rules_fuzz.c drives it without libFuzzer.
 */
#include "rules/rules.h"
#include "base/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                            \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_rules: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                             \
			abort();                                                    \
		}                                                                   \
	} while (0)

enum fuzz_mode {
	FUZZ_BLOB,  /* [len:2][blob][meta bytes][frame]: verify, then evaluate */
	FUZZ_TEXT,  /* rules text: compile, decompile, compile again, evaluate */
	FUZZ_FRAME, /* [meta bytes][frame] against a fixed program */
	FUZZ_CASE,  /* one test-case line against the fixed program */
	FUZZ_MODES
};

#define FUZZ_META_BYTES 40

static const char fuzz_program[] =
	"watch 89e92ceee5 tcp dport 22 tcp-flags syn,!ack;\n"
	"tee 0102030405 not src-member 1122334455 src-mac 02:00:00:00:00:01 or random 10%;\n"
	"drop dst-member aabbccddee or dst-mac 01:80:c2:00:00:0e or ethertype lldp;\n"
	"accept vlan-id 10 vlan-pcp 3 or src-ip 10.0.0.0/8 dst-ip 10.0.5.0/24 udp;\n"
	"accept src-ip fd00::/8 dst-ip ff02::/16 icmp6 icmp-type 135 or icmp-type 8 code 0;\n"
	"redirect 00000000ff dscp 46 or tos 32 mask 0xe0;\n"
	"drop sport 0-1023 dport 1024-65535 size 64-1518;\n"
	"accept tag 1 equals 2 or tag 3 bitand 4 or tag 5 bitor 6 or tag 7 bitxor 8;\n"
	"accept tag 9 within 10 or sender-tag 11 12 or receiver-tag 13 14;\n"
	"accept arp or broadcast and from-bridge or multicast and inbound;\n"
	"break outbound;\n"
	"accept ipproto gre;\n"
	"capability ssh { accept tcp dport 22; }\n"
	"capability none { }\n"
	"capability web { break udp; drop tcp sport 1-1023; accept tcp dport 80-443; }\n";

static const char *const fuzz_frames[] = {
	"out tcp 10.0.0.1:1234 -> 10.0.5.2:22",
	"in udp 10.0.0.1:53 -> 10.0.5.2:5353 vlan 10 pcp 3",
	"in icmp fe80::1 -> ff02::1:ff00:2 type 135",
	"out arp 10.0.0.1 -> 10.0.0.2 bridge",
	"out ether lldp dst-mac 01:80:c2:00:00:0e size 60",
	"out tcp [fd00::1]:80 -> [fd00::2]:443 flags ack,psh tos 0xb8 size 200",
	"out ip 10.0.0.1 -> 10.0.0.2 proto 47 truncate 30",
};

static struct zt_rules fuzz_fixed;
static struct zt_rules_case fuzz_cases[sizeof(fuzz_frames) / sizeof(fuzz_frames[0])];

static void fuzz_setup(void)
{
	static bool ready;
	static uint8_t blob[ZT_RULES_MAX_BYTES];
	size_t len;

	if (ready)
		return;
	FUZZ_CHECK(zt_rules_compile(fuzz_program, strlen(fuzz_program), blob, sizeof(blob), &len,
				    NULL) == 0);
	FUZZ_CHECK(zt_rules_load(&fuzz_fixed, blob, len, NULL) == 0);
	for (size_t i = 0; i < ZT_ARRAY_LEN(fuzz_frames); i++)
		FUZZ_CHECK(zt_rules_case_parse(&fuzz_fixed, fuzz_frames[i], strlen(fuzz_frames[i]), 1,
					       &fuzz_cases[i], NULL) == 0);
	ready = true;
}

/* Metadata from FUZZ_META_BYTES of input (zero-filled when short). */
static void fuzz_meta(struct zt_rules_meta *m, const uint8_t *p, size_t n)
{
	uint8_t b[FUZZ_META_BYTES] = {0};
	struct zt_rd rd;

	memcpy(b, p, ZT_MIN(n, sizeof(b)));
	zt_rd_init(&rd, b, sizeof(b));
	memset(m, 0, sizeof(*m));
	m->src_member = zt_rd_beN(&rd, 5);
	m->dst_member = zt_rd_beN(&rd, 5);
	m->dir = (zt_rd_u8(&rd) & 1) ? ZT_RULES_INBOUND : ZT_RULES_OUTBOUND;
	m->sender_is_bridge = zt_rd_u8(&rd) & 1;
	m->random = zt_rd_be32(&rd);
	m->caps = zt_rd_be32(&rd);
	/* Counts beyond the arrays must be clamped by the evaluator. */
	m->sender_tag_count = zt_rd_u8(&rd);
	m->receiver_tag_count = zt_rd_u8(&rd) % 3;
	for (unsigned i = 0; i < ZT_RULES_MAX_TAGS; i++) {
		m->sender_tags[i].id = i;
		m->sender_tags[i].value = zt_rd_u8(&rd);
	}
	for (unsigned i = 0; i < 2; i++) {
		m->receiver_tags[i].id = zt_rd_u8(&rd) % 16;
		m->receiver_tags[i].value = zt_rd_u8(&rd);
	}
}

/* Evaluate, then check what any result must satisfy and explain it. */
static void fuzz_eval(const struct zt_rules *prog, const struct zt_rules_meta *m,
		      const uint8_t *frame, size_t len)
{
	static struct zt_rules_counter counters[ZT_RULES_MAX_RULES + 1];
	static char text[16384];
	struct zt_rules_result res;
	enum zt_rules_verdict v;
	uint64_t before = 0, after = 0;
	size_t slots = zt_rules_counter_slots(prog);

	for (size_t i = 0; i < slots; i++)
		before += counters[i].inbound + counters[i].outbound;
	v = zt_rules_eval(prog, m, frame, len, counters, &res);
	for (size_t i = 0; i < slots; i++)
		after += counters[i].inbound + counters[i].outbound;
	FUZZ_CHECK(v == res.verdict);
	FUZZ_CHECK(v == ZT_RULES_ACCEPT || v == ZT_RULES_DROP);
	FUZZ_CHECK(res.side_count <= ZT_RULES_MAX_SIDE);
	if (!prog || prog->rule_count == 0) {
		FUZZ_CHECK(v == ZT_RULES_ACCEPT && res.rule == ZT_RULES_BY_NONE);
	} else if (res.rule < 0) {
		FUZZ_CHECK(res.rule == ZT_RULES_BY_DEFAULT && v == ZT_RULES_DROP);
		FUZZ_CHECK(res.redirect_to == 0);
		FUZZ_CHECK(after > before); /* the default slot counted it */
	} else {
		FUZZ_CHECK(res.rule < prog->rule_count);
		FUZZ_CHECK(res.cap == zt_rules_rule_cap(prog, (unsigned)res.rule));
		FUZZ_CHECK(after > before);
	}
	for (unsigned i = 0; i < res.side_count; i++)
		FUZZ_CHECK(res.side[i].target != 0 && res.side[i].rule < prog->rule_count);
	FUZZ_CHECK(zt_rules_explain(prog, m, frame, len, &res, text, sizeof(text)) == 0);
	FUZZ_CHECK(zt_rules_frame_summary(frame, len, text, sizeof(text)) == 0);
}

/* A program the verifier took must decompile to text that compiles back
 * to the very same bytes. */
static void fuzz_round_trip(const struct zt_rules *prog)
{
	static char text[1 << 20];
	static uint8_t again[ZT_RULES_MAX_BYTES];
	struct zt_rules_error err;
	size_t tlen, alen;

	FUZZ_CHECK(zt_rules_decompile(prog, text, sizeof(text), &tlen) == 0);
	if (zt_rules_compile(text, tlen, again, sizeof(again), &alen, &err)) {
		fprintf(stderr, "fuzz_rules: decompiled text refused at %u:%u: %s\n%s\n", err.line,
			err.col, err.msg, text);
		abort();
	}
	FUZZ_CHECK(alen == prog->len && memcmp(again, prog->blob, alen) == 0);
	for (unsigned i = 0; i < prog->rule_count; i++)
		FUZZ_CHECK(zt_rules_rule_text(prog, i, text, sizeof(text)) == 0);
}

static void fuzz_blob(const uint8_t *p, size_t n)
{
	static struct zt_rules prog;
	struct zt_rules_meta meta;
	struct zt_rules_error err;
	size_t blob_len;

	if (n < 2)
		return;
	blob_len = ZT_MIN((size_t)(p[0] << 8 | p[1]), n - 2);
	p += 2;
	n -= 2;
	if (zt_rules_load(&prog, p, blob_len, &err) != 0) {
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(zt_rules_verify(p, blob_len, NULL) != 0);
		return;
	}
	FUZZ_CHECK(zt_rules_verify(p, blob_len, NULL) == 0);
	fuzz_round_trip(&prog);
	p += blob_len;
	n -= blob_len;
	fuzz_meta(&meta, p, n);
	p += ZT_MIN(n, (size_t)FUZZ_META_BYTES);
	n -= ZT_MIN(n, (size_t)FUZZ_META_BYTES);
	fuzz_eval(&prog, &meta, p, n);
	for (size_t i = 0; i < ZT_ARRAY_LEN(fuzz_cases); i++)
		fuzz_eval(&prog, &fuzz_cases[i].meta, fuzz_cases[i].frame, fuzz_cases[i].frame_len);
}

static void fuzz_text(const uint8_t *p, size_t n)
{
	static struct zt_rules prog;
	static uint8_t blob[ZT_RULES_MAX_BYTES];
	struct zt_rules_error err;
	size_t len;

	if (zt_rules_compile((const char *)p, n, blob, sizeof(blob), &len, &err) != 0) {
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(len == 0);
		return;
	}
	FUZZ_CHECK(zt_rules_load(&prog, blob, len, &err) == 0);
	fuzz_round_trip(&prog);
	for (size_t i = 0; i < ZT_ARRAY_LEN(fuzz_cases); i++)
		fuzz_eval(&prog, &fuzz_cases[i].meta, fuzz_cases[i].frame, fuzz_cases[i].frame_len);
}

static void fuzz_frame(const uint8_t *p, size_t n)
{
	struct zt_rules_meta meta;
	size_t skip = ZT_MIN(n, (size_t)FUZZ_META_BYTES);

	fuzz_meta(&meta, p, n);
	fuzz_eval(&fuzz_fixed, &meta, p + skip, n - skip);
	fuzz_eval(NULL, &meta, p + skip, n - skip);
}

static void fuzz_case(const uint8_t *p, size_t n)
{
	static struct zt_rules_case c;
	struct zt_rules_result res;
	struct zt_rules_error err;

	if (zt_rules_case_parse(&fuzz_fixed, (const char *)p, n, 1, &c, &err) != 0) {
		FUZZ_CHECK(err.msg[0] != '\0' && err.line == 1);
		return;
	}
	FUZZ_CHECK(c.frame_len <= sizeof(c.frame));
	zt_rules_case_run(&fuzz_fixed, &c, NULL, &res);
	fuzz_eval(&fuzz_fixed, &c.meta, c.frame, c.frame_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	fuzz_setup();
	switch (data[0] % FUZZ_MODES) {
	case FUZZ_BLOB: fuzz_blob(data + 1, size - 1); break;
	case FUZZ_TEXT: fuzz_text(data + 1, size - 1); break;
	case FUZZ_FRAME: fuzz_frame(data + 1, size - 1); break;
	case FUZZ_CASE: fuzz_case(data + 1, size - 1); break;
	}
	return 0;
}
