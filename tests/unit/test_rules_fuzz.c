/*
 * test_rules_fuzz.c - runs the libFuzzer harness tests/fuzz/fuzz_rules.c
 * without libFuzzer: mutated blobs, texts, frames and case lines from a
 * fixed seed, plus randomly generated valid programs, for a bounded number
 * of inputs and seconds. Any failed property aborts; ASan/UBSan watch.
 * ZT_FUZZ_RULES_ITERS=N runs N inputs per test instead of the default.
 */
#include "tests/fuzz/fuzz_rules.c"
#include "tests/unit/check_main.h"

#include <arpa/inet.h>
#include <time.h>

#define DEFAULT_ITERS 20000
#define MAX_SECONDS 20.0 /* per test, whatever the count */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static unsigned iterations(void)
{
	const char *env = getenv("ZT_FUZZ_RULES_ITERS");
	long n = env ? strtol(env, NULL, 10) : 0;

	return n > 0 ? (unsigned)n : DEFAULT_ITERS;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct input {
	uint8_t b[ZT_RULES_MAX_BYTES + 4096];
	size_t len;
};

static void put(struct input *in, const void *p, size_t n)
{
	n = ZT_MIN(n, sizeof(in->b) - in->len);
	memcpy(in->b + in->len, p, n);
	in->len += n;
}

/* Mutate bytes [from, in->len) a few times. */
static void mutate(struct input *in, size_t from)
{
	static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff};
	unsigned rounds = 1 + rnd() % 4;

	for (unsigned r = 0; r < rounds; r++) {
		size_t span = in->len - from;
		size_t at = from + (span ? rnd() % span : 0);

		switch (rnd() % 7) {
		case 0:
			if (span)
				in->b[at] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			if (span)
				in->b[at] = interesting[rnd() % sizeof(interesting)];
			break;
		case 2:
			if (span)
				in->b[at] = (uint8_t)rnd();
			break;
		case 3: /* insert a byte */
			if (in->len < sizeof(in->b)) {
				memmove(in->b + at + 1, in->b + at, in->len - at);
				in->b[at] = (uint8_t)rnd();
				in->len++;
			}
			break;
		case 4: /* delete a byte */
			if (span) {
				memmove(in->b + at, in->b + at + 1, in->len - at - 1);
				in->len--;
			}
			break;
		case 5: /* truncate */
			in->len = at;
			break;
		case 6: /* copy a short run over another place */
			if (span > 8) {
				size_t src = from + rnd() % (span - 8);

				memmove(in->b + at, in->b + src, ZT_MIN((size_t)8, in->len - at));
			}
			break;
		}
	}
}

/* ---- a generator of valid programs: every keyword, random values ---- */

struct gen {
	char *buf;
	size_t cap;
	size_t len;
};

static void g(struct gen *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void g(struct gen *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = ZT_MIN(o->len + (size_t)n, o->cap - 1);
}

static void gen_prefix(struct gen *o, const char *kw)
{
	bool v6 = rnd() & 1;
	size_t bytes = v6 ? 16 : 4;
	unsigned bits = rnd() % (unsigned)(bytes * 8 + 1);
	uint8_t a[16];
	char text[64];

	for (size_t i = 0; i < bytes; i++) {
		unsigned keep = bits > i * 8 ? bits - (unsigned)i * 8 : 0;

		a[i] = (uint8_t)rnd() & (keep >= 8 ? 0xff : (uint8_t)(0xff00 >> keep));
	}
	inet_ntop(v6 ? AF_INET6 : AF_INET, a, text, sizeof(text));
	g(o, "%s %s/%u", kw, text, bits);
}

static void gen_range(struct gen *o, const char *kw, unsigned max)
{
	unsigned lo = rnd() % (max + 1), hi = lo + rnd() % (max - lo + 1);

	if (rnd() & 1)
		g(o, "%s %u", kw, lo);
	else
		g(o, "%s %u-%u", kw, lo, hi);
}

static void gen_tcp_flags(struct gen *o)
{
	static const char *const names[] = {"fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr",
					    "ns"};
	unsigned mask = 1 + rnd() % 0x1ff;
	const char *sep = "";

	g(o, "tcp-flags ");
	for (unsigned i = 0; i < 9; i++) {
		if (!(mask & (1u << i)))
			continue;
		g(o, "%s%s%s", sep, (rnd() & 1) ? "!" : "", names[i]);
		sep = ",";
	}
}

static void gen_tos(struct gen *o)
{
	unsigned mask = 1 + rnd() % 255, lo = rnd() & mask, hi = lo | (rnd() & mask);

	switch (rnd() % 3) {
	case 0: gen_range(o, "tos", 255); break;
	case 1: gen_range(o, "dscp", 63); break;
	default: g(o, "tos %u-%u mask 0x%02x", lo, hi, mask); break;
	}
}

static void gen_match(struct gen *o)
{
	static const char *const words[] = {
		"tcp", "udp", "icmp", "icmp6", "arp", "ipv4", "ipv6", "broadcast", "multicast",
		"inbound", "outbound", "from-bridge", "ethertype lldp", "ipproto sctp",
	};
	static const char *const tag_ops[] = {"equals", "bitand", "bitor", "bitxor", "within"};

	switch (rnd() % 20) {
	case 0: g(o, "%s-member %010llx", (rnd() & 1) ? "src" : "dst",
		  (unsigned long long)(((uint64_t)rnd() << 8 ^ rnd()) & 0xffffffffffull) | 1); break;
	case 1: g(o, "%s-mac %02x:%02x:%02x:%02x:%02x:%02x", (rnd() & 1) ? "src" : "dst",
		  rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255, rnd() & 255); break;
	case 2: g(o, "ethertype 0x%04x", rnd() & 0xffff); break;
	case 3: g(o, "vlan-id %u", rnd() % 4096); break;
	case 4: g(o, "vlan-pcp %u", rnd() % 8); break;
	case 5: gen_prefix(o, (rnd() & 1) ? "src-ip" : "dst-ip"); break;
	case 6: g(o, "ipproto %u", rnd() % 256); break;
	case 7: gen_tos(o); break;
	case 8: g(o, "icmp-type %u", rnd() % 256);
		if (rnd() & 1)
			g(o, " code %u", rnd() % 256);
		break;
	case 9: gen_range(o, "sport", 65535); break;
	case 10: gen_range(o, "dport", 65535); break;
	case 11: gen_tcp_flags(o); break;
	case 12: gen_range(o, "size", 65535); break;
	case 13: g(o, "tag %u %s %u", rnd(), tag_ops[rnd() % 5], rnd()); break;
	case 14: g(o, "%s-tag %u %u", (rnd() & 1) ? "sender" : "receiver", rnd() % 20, rnd() % 4);
		break;
	case 15: g(o, "random %u.%04u%%", rnd() % 100, rnd() % 10000); break;
	default: g(o, "%s", words[rnd() % ZT_ARRAY_LEN(words)]); break;
	}
}

static void gen_space(struct gen *o)
{
	switch (rnd() % 8) {
	case 0: g(o, "\n"); break;
	case 1: g(o, "\n\t"); break;
	case 2: g(o, " # note\n"); break;
	default: g(o, " "); break;
	}
}

static void gen_rule(struct gen *o)
{
	static const char *const actions[] = {"accept", "drop", "break", "tee", "redirect", "watch"};
	unsigned a = rnd() % 6, n = rnd() % 6;

	g(o, "%s", actions[a]);
	if (a >= 3)
		g(o, " %010llx", (unsigned long long)(rnd() % 0xffffff) + 1);
	for (unsigned i = 0; i < n; i++) {
		if (i) {
			unsigned c = rnd() % 4;

			g(o, "%s", c == 0 ? " or" : c == 1 ? " and" : "");
		}
		gen_space(o);
		if (rnd() % 4 == 0)
			g(o, "not ");
		gen_match(o);
	}
	g(o, ";");
	gen_space(o);
}

static void gen_program(struct gen *o)
{
	unsigned base = rnd() % 12, caps = rnd() % 4;

	o->len = 0;
	o->buf[0] = '\0';
	for (unsigned i = 0; i < base; i++)
		gen_rule(o);
	for (unsigned c = 0; c < caps; c++) {
		unsigned n = rnd() % 4;

		g(o, "capability c%u {", c);
		gen_space(o);
		for (unsigned i = 0; i < n; i++)
			gen_rule(o);
		g(o, "}");
		gen_space(o);
	}
}

/* ---- the tests ---- */

static void run(const struct input *in)
{
	LLVMFuzzerTestOneInput(in->b, in->len);
}

START_TEST(generated_programs_compile_and_round_trip)
{
	static char text[65536];
	static uint8_t blob[ZT_RULES_MAX_BYTES];
	static struct input in;
	struct gen o = {text, sizeof(text), 0};
	unsigned n = iterations() / 4;
	double deadline = now_s() + MAX_SECONDS;

	for (unsigned i = 0; i < n && now_s() < deadline; i++) {
		struct zt_rules_error err;
		size_t len;

		gen_program(&o);
		ck_assert_msg(zt_rules_compile(text, o.len, blob, sizeof(blob), &len, &err) == 0,
			      "generated program refused at %u:%u: %s\n%s", err.line, err.col, err.msg,
			      text);
		in.len = 0;
		put(&in, "\x01", 1);
		put(&in, text, o.len);
		run(&in);
	}
}
END_TEST

START_TEST(mutated_blobs_never_crash)
{
	static char text[65536];
	static struct input in;
	static uint8_t seed[ZT_RULES_MAX_BYTES];
	struct gen o = {text, sizeof(text), 0};
	unsigned n = iterations(), accepted = 0;
	double deadline = now_s() + MAX_SECONDS;
	size_t seed_len = 0;

	for (unsigned i = 0; i < n && now_s() < deadline; i++) {
		size_t blob_len;

		if (i % 64 == 0) { /* a fresh seed program now and then */
			if (i % 128)
				gen_program(&o);
			ck_assert_int_eq(zt_rules_compile(i % 128 ? text : fuzz_program,
							  i % 128 ? o.len : strlen(fuzz_program),
							  seed, sizeof(seed), &seed_len, NULL), 0);
		}
		in.len = 0;
		put(&in, "\x00\x00\x00", 3);
		put(&in, seed, seed_len);
		mutate(&in, 3);
		blob_len = in.len - 3;
		if (rnd() & 1 && blob_len >= 8) { /* keep the length field honest */
			in.b[3 + 6] = (uint8_t)(blob_len >> 8);
			in.b[3 + 7] = (uint8_t)blob_len;
		}
		in.b[1] = (uint8_t)(blob_len >> 8);
		in.b[2] = (uint8_t)blob_len;
		for (unsigned k = 0; k < FUZZ_META_BYTES; k++) {
			uint8_t byte = (uint8_t)rnd();

			put(&in, &byte, 1);
		}
		put(&in, fuzz_cases[i % ZT_ARRAY_LEN(fuzz_cases)].frame,
		    fuzz_cases[i % ZT_ARRAY_LEN(fuzz_cases)].frame_len);
		accepted += zt_rules_verify(in.b + 3, blob_len, NULL) == 0;
		run(&in);
	}
	/* The mutations must reach the evaluator, not just the header check. */
	ck_assert_uint_gt(accepted, n / 50);
}
END_TEST

START_TEST(mutated_texts_never_crash)
{
	static char text[65536];
	static struct input in;
	struct gen o = {text, sizeof(text), 0};
	unsigned n = iterations() / 2;
	double deadline = now_s() + MAX_SECONDS;

	for (unsigned i = 0; i < n && now_s() < deadline; i++) {
		if (i % 8 == 0)
			gen_program(&o);
		in.len = 0;
		put(&in, "\x01", 1);
		put(&in, text, o.len);
		mutate(&in, 1);
		run(&in);
	}
}
END_TEST

START_TEST(mutated_frames_never_crash)
{
	static struct input in;
	unsigned n = iterations();
	double deadline = now_s() + MAX_SECONDS;

	for (unsigned i = 0; i < n && now_s() < deadline; i++) {
		const struct zt_rules_case *c = &fuzz_cases[rnd() % ZT_ARRAY_LEN(fuzz_cases)];

		in.len = 0;
		put(&in, "\x02", 1);
		for (unsigned k = 0; k < FUZZ_META_BYTES; k++) {
			uint8_t byte = (uint8_t)rnd();

			put(&in, &byte, 1);
		}
		put(&in, c->frame, c->frame_len);
		mutate(&in, 1 + FUZZ_META_BYTES);
		run(&in);
	}
}
END_TEST

START_TEST(mutated_case_lines_never_crash)
{
	static const char *const lines[] = {
		"out tcp 10.0.0.1:1234 -> 10.0.0.2:22 flags syn,ack expect drop line 3",
		"in udp [fd00::1]:5353 -> [ff02::fb]:5353 from 89e92ceee5 to 0102030405 expect accept",
		"out arp 10.0.0.1 -> 10.0.0.2 vlan 10 pcp 3 bridge cap ssh expect accept default",
		"in icmp 10.0.0.1 -> 10.0.0.2 type 3 code 4 tos 184 size 200 truncate 40",
		"out ether 0x88cc src-mac 02:00:00:00:00:01 sender-tag 1 2 receiver-tag 3 4 random 9",
		"out ip fd00::1 -> fd00::2 proto 59 cap web # comment",
	};
	static struct input in;
	unsigned n = iterations();
	double deadline = now_s() + MAX_SECONDS;

	for (unsigned i = 0; i < n && now_s() < deadline; i++) {
		const char *line = lines[rnd() % ZT_ARRAY_LEN(lines)];

		in.len = 0;
		put(&in, "\x03", 1);
		put(&in, line, strlen(line));
		mutate(&in, 1);
		run(&in);
	}
}
END_TEST

static Suite *rules_fuzz_suite(void)
{
	Suite *s = suite_create("rules_fuzz");
	TCase *tc = tcase_create("fuzz");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, fuzz_setup, NULL);
	tcase_add_test(tc, generated_programs_compile_and_round_trip);
	tcase_add_test(tc, mutated_blobs_never_crash);
	tcase_add_test(tc, mutated_texts_never_crash);
	tcase_add_test(tc, mutated_frames_never_crash);
	tcase_add_test(tc, mutated_case_lines_never_crash);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(rules_fuzz_suite)
