/*
 * test_peer_cache.c - src/peer_cache.c: a cache round-trips entry for entry;
 * the count limit cuts and says how many; every malformed input (truncated at
 * each byte, a flipped byte anywhere, a bad magic, version, count, length,
 * identity, endpoint or network) is refused whole, never half read.
 */
#include "peer_cache.h"

#include "check_main.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static void test_random(void *ctx, void *buf, size_t len)
{
	uint8_t *b = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		rng_state ^= rng_state << 13;
		rng_state ^= rng_state >> 7;
		rng_state ^= rng_state << 17;
		b[i] = (uint8_t)rng_state;
	}
}

static struct zt_peer_cache_entry entries[3];
static uint8_t buf[8192];
static size_t buf_len;

static void make_entries(void)
{
	static bool made;

	if (made)
		return;
	for (unsigned i = 0; i < 3; i++) {
		struct zt_identity id;
		struct zt_peer_cache_entry *e = &entries[i];
		ck_assert_int_eq(zt_identity_generate(&id, test_random, NULL), 0);
		memset(e, 0, sizeof(*e));
		zt_identity_public(&e->id, &id);
		zt_identity_wipe(&id);
		e->n_eps = i + 1;
		for (unsigned k = 0; k < e->n_eps; k++) {
			e->eps[k].family = k == 2 ? 6 : 4;
			e->eps[k].addr[0] = 192, e->eps[k].addr[1] = 0, e->eps[k].addr[2] = 2;
			e->eps[k].addr[3] = (uint8_t)(10 + k);
			e->eps[k].port = (uint16_t)(9993 + k);
		}
		e->n_nets = i;
		for (unsigned k = 0; k < e->n_nets; k++)
			e->nets[k] = (e->id.address << 24) | (k + 1);
		e->last_seen_ms = 1700000000000ULL + i;
	}
	made = true;
}

static void encode_all(void)
{
	make_entries();
	ck_assert_int_eq(zt_peer_cache_encode(entries, 3, buf, sizeof(buf), &buf_len), 0);
	ck_assert_uint_le(buf_len, zt_peer_cache_size(3));
}

static bool entry_equal(const struct zt_peer_cache_entry *a, const struct zt_peer_cache_entry *b)
{
	if (a->id.address != b->id.address || memcmp(a->id.x25519_pub, b->id.x25519_pub, 32) ||
	    memcmp(a->id.ed25519_pub, b->id.ed25519_pub, 32) || b->id.has_secret)
		return false;
	if (a->n_eps != b->n_eps || a->n_nets != b->n_nets || a->last_seen_ms != b->last_seen_ms)
		return false;
	for (unsigned i = 0; i < a->n_eps; i++)
		if (!zt_endpoint_equal(&a->eps[i], &b->eps[i]))
			return false;
	return memcmp(a->nets, b->nets, a->n_nets * sizeof(a->nets[0])) == 0;
}

START_TEST(round_trip_keeps_every_field)
{
	struct zt_peer_cache_entry out[3];
	unsigned count, cut;

	encode_all();
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 3, &count, &cut), 0);
	ck_assert_uint_eq(count, 3);
	ck_assert_uint_eq(cut, 0);
	for (unsigned i = 0; i < 3; i++)
		ck_assert(entry_equal(&entries[i], &out[i]));
}
END_TEST

START_TEST(empty_cache_round_trips)
{
	struct zt_peer_cache_entry out[1];
	unsigned count = 9, cut = 9;

	ck_assert_int_eq(zt_peer_cache_encode(NULL, 0, buf, sizeof(buf), &buf_len), 0);
	ck_assert_uint_eq(buf_len, ZT_PEER_CACHE_HDR_BYTES);
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 1, &count, &cut), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_uint_eq(cut, 0);
}
END_TEST

START_TEST(limit_cuts_and_counts)
{
	struct zt_peer_cache_entry out[3];
	unsigned count, cut;

	encode_all();
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 2, &count, &cut), 0);
	ck_assert_uint_eq(count, 2);
	ck_assert_uint_eq(cut, 1);
	ck_assert(entry_equal(&entries[1], &out[1]));
}
END_TEST

START_TEST(every_truncation_refused)
{
	struct zt_peer_cache_entry out[3];
	unsigned count, cut;

	encode_all();
	for (size_t len = 0; len < buf_len; len++) {
		ck_assert_int_lt(zt_peer_cache_decode(buf, len, out, 3, &count, &cut), 0);
		ck_assert_uint_eq(count, 0);
	}
}
END_TEST

START_TEST(trailing_bytes_refused)
{
	struct zt_peer_cache_entry out[3];
	unsigned count, cut;

	encode_all();
	buf[buf_len] = 0;
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len + 1, out, 3, &count, &cut), ZT_EPARSE);
}
END_TEST

/* A flipped byte is either refused or decodes to entries that are each well formed. */
START_TEST(flipped_bytes_never_half_read)
{
	static uint8_t copy[8192];
	struct zt_peer_cache_entry out[3];
	unsigned count, cut, refused = 0;

	encode_all();
	for (size_t i = 0; i < buf_len; i++) {
		memcpy(copy, buf, buf_len);
		copy[i] ^= 0x41;
		if (zt_peer_cache_decode(copy, buf_len, out, 3, &count, &cut) < 0) {
			ck_assert_uint_eq(count, 0);
			refused++;
			continue;
		}
		for (unsigned k = 0; k < count; k++) {
			ck_assert(!out[k].id.has_secret);
			ck_assert_uint_le(out[k].n_eps, ZT_PEER_CACHE_ENDPOINTS);
			ck_assert_uint_le(out[k].n_nets, ZT_PEER_CACHE_NETWORKS);
		}
	}
	/* Everything but payload bytes (addresses, ports, times, key hex) is checked. */
	ck_assert_uint_gt(refused, buf_len / 4);
}
END_TEST

struct bad_case {
	size_t off;    /* byte to overwrite (from the start) */
	uint8_t value;
	int err;
};

/* Header: magic 0..3, version 4, count 5..6; first entry: length 7..8, text length 9, text 10.. */
static const struct bad_case bad_cases[] = {
	{0, 'X', ZT_EPARSE},   /* magic */
	{4, 2, ZT_EVERSION},   /* version */
	{5, 0xff, ZT_EINVAL},  /* count above ZT_PEER_CACHE_MAX */
	{7, 0xff, ZT_ETRUNC},  /* entry length beyond the file */
	{9, 0, ZT_ETRUNC},     /* empty identity text */
	{10, 'z', ZT_EPARSE},  /* identity text not hex */
};

START_TEST(bad_fields_refused)
{
	struct zt_peer_cache_entry out[3];
	unsigned count, cut;
	const struct bad_case *c = &bad_cases[_i];

	encode_all();
	buf[c->off] = c->value;
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 3, &count, &cut), c->err);
	ck_assert_uint_eq(count, 0);
}
END_TEST

START_TEST(bad_endpoint_and_network_refused)
{
	struct zt_peer_cache_entry out[3];
	unsigned count, cut;
	size_t ep_at;

	encode_all();
	/* First entry: len(2) tlen(1) text(tlen) n_eps(1) ep(19): family first. */
	ep_at = 7 + 2 + 1 + buf[9] + 1;
	buf[ep_at] = 5;
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 3, &count, &cut), ZT_EINVAL);
	encode_all();
	buf[ep_at - 1] = ZT_PEER_CACHE_ENDPOINTS + 1;
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 3, &count, &cut), ZT_EINVAL);
	/* Second entry has one network: make its controller address reserved (0). */
	entries[1].nets[0] = 0x42;
	ck_assert_int_eq(zt_peer_cache_encode(entries, 3, buf, sizeof(buf), &buf_len), 0);
	entries[1].nets[0] = (entries[1].id.address << 24) | 1;
	ck_assert_int_eq(zt_peer_cache_decode(buf, buf_len, out, 3, &count, &cut), ZT_EINVAL);
}
END_TEST

/* A secret identity (or anything longer than a public one) never fits: refused before parsing. */
START_TEST(long_identity_text_refused)
{
	struct zt_peer_cache_entry out[1];
	size_t tlen = ZT_IDENTITY_PUBLIC_TEXT_MAX;
	unsigned count, cut;
	uint8_t *p = buf;

	memcpy(p, "ztpc\x01\x00\x01", 7);
	p += 7;
	*p++ = 0;
	*p++ = (uint8_t)(1 + tlen + 1 + 1 + 8);
	*p++ = (uint8_t)tlen;
	memset(p, 'a', tlen);
	p += tlen;
	memset(p, 0, 10);
	p += 10;
	ck_assert_int_eq(zt_peer_cache_decode(buf, (size_t)(p - buf), out, 1, &count, &cut), ZT_ETRUNC);
	ck_assert_uint_eq(count, 0);
}
END_TEST

START_TEST(encode_refuses_too_many_or_too_small)
{
	make_entries();
	ck_assert_int_eq(zt_peer_cache_encode(entries, ZT_PEER_CACHE_MAX + 1, buf, sizeof(buf), &buf_len),
			 ZT_ETOOBIG);
	ck_assert_int_eq(zt_peer_cache_encode(entries, 3, buf, 20, &buf_len), ZT_ETOOBIG);
}
END_TEST

static Suite *peer_cache_suite(void)
{
	Suite *s = suite_create("peer_cache");
	TCase *tc = tcase_create("format");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_keeps_every_field);
	tcase_add_test(tc, empty_cache_round_trips);
	tcase_add_test(tc, limit_cuts_and_counts);
	tcase_add_test(tc, every_truncation_refused);
	tcase_add_test(tc, trailing_bytes_refused);
	tcase_add_test(tc, flipped_bytes_never_half_read);
	tcase_add_loop_test(tc, bad_fields_refused, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, bad_endpoint_and_network_refused);
	tcase_add_test(tc, long_identity_text_refused);
	tcase_add_test(tc, encode_refuses_too_many_or_too_small);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(peer_cache_suite)
