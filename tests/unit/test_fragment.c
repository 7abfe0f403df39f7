/*
 * test_fragment.c - src/fragment.c: packets reassembled in index order
 * whatever the arrival order and fragment sizes; bad, duplicate and
 * inconsistent fragments refused; size, time and per-source limits; the
 * oldest slot evicted when the table is full; floods from many sources.
 */
#include "fragment.h"

#include "check_main.h"

#include <stdlib.h>
#include <string.h>

/* A packet of len bytes whose content identifies (seed, offset). */
static void fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

struct frag_run {
	struct zt_reasm *r;
	const uint8_t *out;
	size_t out_len;
};

static int add(struct frag_run *f, uint64_t src, uint32_t id, unsigned index, unsigned count, const uint8_t *data,
	       size_t len, uint64_t now_ms)
{
	return zt_reasm_add(f->r, src, id, index, count, data, len, now_ms, &f->out, &f->out_len);
}

static void setup(struct frag_run *f)
{
	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(zt_reasm_new(&f->r), 0);
}

static void teardown(struct frag_run *f)
{
	zt_reasm_free(f->r);
}

static struct zt_reasm_stats stats(const struct frag_run *f)
{
	struct zt_reasm_stats st;

	zt_reasm_stats(f->r, &st);
	return st;
}

/*
 * Split pkt into count fragments of the given sizes and deliver them in
 * order[]; every add but the last must ask for more, the last completes.
 */
static void deliver(struct frag_run *f, uint64_t src, uint32_t id, const uint8_t *pkt, const size_t *sizes,
		    unsigned count, const unsigned *order, uint64_t now_ms)
{
	size_t off[ZT_FRAG_MAX_COUNT], total = 0;

	for (unsigned i = 0; i < count; i++) {
		off[i] = total;
		total += sizes[i];
	}
	for (unsigned k = 0; k < count; k++) {
		unsigned i = order[k];
		int err = add(f, src, id, i, count, pkt + off[i], sizes[i], now_ms);

		if (k + 1 < count) {
			ck_assert_msg(err == ZT_EAGAIN, "fragment %u: %d", i, err);
			continue;
		}
		ck_assert_msg(err == 0, "last fragment %u: %d", i, err);
		ck_assert_uint_eq(f->out_len, total);
		ck_assert_mem_eq(f->out, pkt, total);
	}
}

struct order_case {
	const char *name;
	unsigned count;
	size_t sizes[ZT_FRAG_MAX_COUNT];
	unsigned order[ZT_FRAG_MAX_COUNT];
};

static const struct order_case order_cases[] = {
	{"in order, equal", 3, {1400, 1400, 1400}, {0, 1, 2}},
	{"reversed, short last", 3, {1400, 1400, 17}, {2, 1, 0}},
	{"shuffled, uneven", 5, {1000, 1, 500, 1412, 3}, {3, 0, 4, 2, 1}},
	{"two fragments, last first", 2, {8000, 8000}, {1, 0}},
	{"sixteen, interleaved", 16, {1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024,
				      1024, 1024, 1024},
	 {15, 0, 14, 1, 13, 2, 12, 3, 11, 4, 10, 5, 9, 6, 8, 7}},
	{"uneven split of a full packet", 3, {16000, 383, 1}, {1, 2, 0}},
};

START_TEST(reassembles_in_index_order)
{
	const struct order_case *c = &order_cases[_i];
	static uint8_t pkt[ZT_REASM_MAX_BYTES];
	struct frag_run f;
	size_t total = 0;

	for (unsigned i = 0; i < c->count; i++)
		total += c->sizes[i];
	ck_assert_uint_le(total, sizeof(pkt));
	fill(pkt, total, _i);
	setup(&f);
	deliver(&f, 0x1111111111ULL, 7, pkt, c->sizes, c->count, c->order, 1000);
	ck_assert_uint_eq(stats(&f).completed, 1);
	ck_assert_uint_eq(stats(&f).rejected, 0);
	teardown(&f);
}
END_TEST

START_TEST(single_fragment_completes_at_once)
{
	uint8_t data[100];
	struct frag_run f;

	fill(data, sizeof(data), 3);
	setup(&f);
	ck_assert_int_eq(add(&f, 1, 1, 0, 1, data, sizeof(data), 0), 0);
	ck_assert_uint_eq(f.out_len, sizeof(data));
	ck_assert_mem_eq(f.out, data, sizeof(data));
	teardown(&f);
}
END_TEST

/* Interleaved packets from one source and the same packet id from two sources stay apart. */
START_TEST(packets_do_not_mix)
{
	uint8_t a[3000], b[3000];
	struct frag_run f;

	fill(a, sizeof(a), 1);
	fill(b, sizeof(b), 2);
	setup(&f);
	ck_assert_int_eq(add(&f, 10, 1, 0, 2, a, 1500, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 10, 2, 0, 2, b, 1500, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 20, 1, 1, 2, b + 1500, 1500, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 10, 2, 1, 2, b + 1500, 1500, 0), 0);
	ck_assert_mem_eq(f.out, b, sizeof(b));
	ck_assert_int_eq(add(&f, 10, 1, 1, 2, a + 1500, 1500, 0), 0);
	ck_assert_mem_eq(f.out, a, sizeof(a));
	ck_assert_int_eq(add(&f, 20, 1, 0, 2, b, 1500, 0), 0);
	ck_assert_mem_eq(f.out, b, sizeof(b));
	teardown(&f);
}
END_TEST

START_TEST(duplicate_fragment_refused)
{
	uint8_t pkt[300], evil[100];
	struct frag_run f;

	fill(pkt, sizeof(pkt), 4);
	memset(evil, 0xee, sizeof(evil));
	setup(&f);
	ck_assert_int_eq(add(&f, 5, 9, 1, 3, pkt + 100, 100, 0), ZT_EAGAIN);
	/* A second copy (or a forgery) of index 1 does not replace the first. */
	ck_assert_int_eq(add(&f, 5, 9, 1, 3, evil, 100, 0), ZT_EEXIST);
	ck_assert_int_eq(add(&f, 5, 9, 0, 3, pkt, 100, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 5, 9, 0, 3, pkt, 100, 0), ZT_EEXIST);
	ck_assert_int_eq(add(&f, 5, 9, 2, 3, pkt + 200, 100, 0), 0);
	ck_assert_mem_eq(f.out, pkt, sizeof(pkt));
	ck_assert_uint_eq(stats(&f).rejected, 2);
	/* Once complete, the slot is gone: a late duplicate starts over. */
	ck_assert_int_eq(add(&f, 5, 9, 2, 3, pkt + 200, 100, 0), ZT_EAGAIN);
	teardown(&f);
}
END_TEST

struct bad_case {
	const char *name;
	unsigned index, count;
	size_t len;
	bool null_data;
	int err;
};

static const struct bad_case bad_cases[] = {
	{"index == count", 3, 3, 10, false, ZT_EINVAL},
	{"index > count", 200, 3, 10, false, ZT_EINVAL},
	{"count 0", 0, 0, 10, false, ZT_EINVAL},
	{"count over the maximum", 0, ZT_FRAG_MAX_COUNT + 1, 10, false, ZT_EINVAL},
	{"count 255", 254, 255, 10, false, ZT_EINVAL},
	{"empty fragment", 0, 2, 0, false, ZT_EINVAL},
	{"no data", 0, 2, 10, true, ZT_EINVAL},
	{"one fragment over the packet maximum", 0, 2, ZT_REASM_MAX_BYTES + 1, false, ZT_ETOOBIG},
	{"single-fragment packet over the maximum", 0, 1, ZT_REASM_MAX_BYTES + 1, false, ZT_ETOOBIG},
};

START_TEST(bad_fragment_refused)
{
	const struct bad_case *c = &bad_cases[_i];
	static uint8_t data[ZT_REASM_MAX_BYTES + 1];
	struct frag_run f;
	int err;

	setup(&f);
	err = add(&f, 1, 1, c->index, c->count, c->null_data ? NULL : data, c->len, 0);
	ck_assert_msg(err == c->err, "%s: got %d want %d", c->name, err, c->err);
	ck_assert_ptr_null(f.out);
	ck_assert_uint_eq(stats(&f).rejected, 1);
	teardown(&f);
}
END_TEST

START_TEST(inconsistent_count_refused)
{
	uint8_t pkt[300];
	struct frag_run f;

	fill(pkt, sizeof(pkt), 6);
	setup(&f);
	ck_assert_int_eq(add(&f, 1, 1, 0, 3, pkt, 100, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 1, 1, 1, 4, pkt + 100, 100, 0), ZT_EINVAL);
	ck_assert_int_eq(add(&f, 1, 1, 1, 2, pkt + 100, 100, 0), ZT_EINVAL);
	/* The packet still completes with fragments that agree. */
	ck_assert_int_eq(add(&f, 1, 1, 1, 3, pkt + 100, 100, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 1, 1, 2, 3, pkt + 200, 100, 0), 0);
	ck_assert_mem_eq(f.out, pkt, sizeof(pkt));
	teardown(&f);
}
END_TEST

START_TEST(oversize_total_refused)
{
	static uint8_t data[ZT_REASM_MAX_BYTES];
	struct frag_run f;
	size_t part = ZT_REASM_MAX_BYTES / 2;

	setup(&f);
	ck_assert_int_eq(add(&f, 1, 1, 0, 3, data, part, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 1, 1, 1, 3, data, part, 0), ZT_EAGAIN);
	/* Exactly full: one more byte does not fit. */
	ck_assert_int_eq(add(&f, 1, 1, 2, 3, data, 1, 0), ZT_ETOOBIG);
	ck_assert_uint_eq(stats(&f).rejected, 1);
	/* Exactly ZT_REASM_MAX_BYTES in total is fine. */
	ck_assert_int_eq(add(&f, 1, 2, 0, 2, data, part, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 1, 2, 1, 2, data, ZT_REASM_MAX_BYTES - part, 0), 0);
	ck_assert_uint_eq(f.out_len, ZT_REASM_MAX_BYTES);
	teardown(&f);
}
END_TEST

START_TEST(slots_expire)
{
	uint8_t pkt[200];
	struct frag_run f;

	fill(pkt, sizeof(pkt), 8);
	setup(&f);
	ck_assert_int_eq(add(&f, 1, 1, 0, 2, pkt, 100, 1000), ZT_EAGAIN);
	/* Just inside the deadline: completes. */
	ck_assert_int_eq(add(&f, 1, 1, 1, 2, pkt + 100, 100, 1000 + ZT_REASM_TIMEOUT_MS - 1), 0);
	ck_assert_uint_eq(stats(&f).expired, 0);

	/* At the deadline the first fragment is dropped: the second starts over. */
	ck_assert_int_eq(add(&f, 1, 2, 0, 2, pkt, 100, 5000), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 1, 2, 1, 2, pkt + 100, 100, 5000 + ZT_REASM_TIMEOUT_MS), ZT_EAGAIN);
	ck_assert_uint_eq(stats(&f).expired, 1);
	ck_assert_int_eq(add(&f, 1, 2, 0, 2, pkt, 100, 5000 + ZT_REASM_TIMEOUT_MS), 0);
	ck_assert_mem_eq(f.out, pkt, sizeof(pkt));

	/* zt_reasm_expire drops them without a new fragment arriving. */
	ck_assert_int_eq(add(&f, 2, 3, 0, 2, pkt, 100, 10000), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 3, 4, 0, 2, pkt, 100, 10500), ZT_EAGAIN);
	zt_reasm_expire(f.r, 10000 + ZT_REASM_TIMEOUT_MS);
	ck_assert_uint_eq(stats(&f).expired, 2);
	ck_assert_int_eq(add(&f, 3, 4, 1, 2, pkt + 100, 100, 10000 + ZT_REASM_TIMEOUT_MS), 0);
	teardown(&f);
}
END_TEST

START_TEST(per_source_quota_refuses_without_evicting)
{
	uint8_t pkt[200];
	struct frag_run f;

	fill(pkt, sizeof(pkt), 9);
	setup(&f);
	for (uint32_t id = 0; id < ZT_REASM_PER_SOURCE; id++)
		ck_assert_int_eq(add(&f, 0xaa, id, 0, 2, pkt, 100, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 0xaa, 100, 0, 2, pkt, 100, 0), ZT_ERATE);
	ck_assert_uint_eq(stats(&f).evicted, 0);
	/* Fragments of packets it already holds are still welcome... */
	ck_assert_int_eq(add(&f, 0xaa, 3, 1, 2, pkt + 100, 100, 0), 0);
	/* ...which frees a slot for a new one. */
	ck_assert_int_eq(add(&f, 0xaa, 100, 0, 2, pkt, 100, 0), ZT_EAGAIN);
	ck_assert_int_eq(add(&f, 0xaa, 101, 0, 2, pkt, 100, 0), ZT_ERATE);
	/* Another source is not affected. */
	ck_assert_int_eq(add(&f, 0xbb, 100, 0, 2, pkt, 100, 0), ZT_EAGAIN);
	/* Every original packet of 0xaa still completes: nothing was evicted. */
	for (uint32_t id = 0; id < ZT_REASM_PER_SOURCE; id++) {
		if (id == 3)
			continue;
		ck_assert_int_eq(add(&f, 0xaa, id, 1, 2, pkt + 100, 100, 0), 0);
		ck_assert_mem_eq(f.out, pkt, sizeof(pkt));
	}
	teardown(&f);
}
END_TEST

/* Fill the table from ZT_REASM_SLOTS / PER_SOURCE sources; a new packet evicts the oldest. */
START_TEST(full_table_evicts_oldest)
{
	const unsigned sources = ZT_REASM_SLOTS / ZT_REASM_PER_SOURCE;
	uint8_t pkt[200];
	struct frag_run f;
	uint64_t t = 100;

	fill(pkt, sizeof(pkt), 10);
	setup(&f);
	for (unsigned s = 0; s < sources; s++)
		for (uint32_t id = 0; id < ZT_REASM_PER_SOURCE; id++)
			ck_assert_int_eq(add(&f, s, id, 0, 2, pkt, 100, t++), ZT_EAGAIN);
	ck_assert_uint_eq(stats(&f).evicted, 0);

	/* Source 0's packet 0 is the oldest. */
	ck_assert_int_eq(add(&f, 999, 0, 0, 2, pkt, 100, t++), ZT_EAGAIN);
	ck_assert_uint_eq(stats(&f).evicted, 1);
	/* Its second fragment finds nothing (and, a new packet now, evicts the next oldest)... */
	ck_assert_int_eq(add(&f, 0, 0, 1, 2, pkt + 100, 100, t++), ZT_EAGAIN);
	ck_assert_uint_eq(stats(&f).evicted, 2);
	/* ...which was source 0's packet 1; packet 2 is intact. */
	ck_assert_int_eq(add(&f, 0, 2, 1, 2, pkt + 100, 100, t++), 0);
	ck_assert_int_eq(add(&f, 999, 0, 1, 2, pkt + 100, 100, t++), 0);
	ck_assert_mem_eq(f.out, pkt, sizeof(pkt));
	teardown(&f);
}
END_TEST

/*
 * Many sources (spoofed addresses) each sending one fragment: memory stays
 * fixed, the table churns, and a packet whose fragments arrive close together
 * still gets through.
 */
START_TEST(many_sources_flooding)
{
	const unsigned flood = 20000, gap = ZT_REASM_SLOTS / 2;
	uint8_t junk[1400], pkt[2800];
	struct frag_run f;
	unsigned delivered = 0, new_slots = 0;
	struct zt_reasm_stats st;

	memset(junk, 0x5a, sizeof(junk));
	fill(pkt, sizeof(pkt), 11);
	setup(&f);
	for (unsigned i = 0; i < flood; i++) {
		ck_assert_int_eq(add(&f, 0x100000 + i, i, 0, 4, junk, sizeof(junk), i / 16), ZT_EAGAIN);
		new_slots++;
		if (i % 1000 == 0) {
			uint64_t src = 0x7777;
			uint32_t id = i;

			ck_assert_int_eq(add(&f, src, id, 1, 2, pkt + 1400, 1400, i / 16), ZT_EAGAIN);
			new_slots++;
			for (unsigned k = 1; k <= gap; k++, i++)
				ck_assert_int_eq(add(&f, 0x200000 + i, i, 0, 4, junk, sizeof(junk), i / 16),
						 ZT_EAGAIN);
			new_slots += gap;
			ck_assert_int_eq(add(&f, src, id, 0, 2, pkt, 1400, i / 16), 0);
			ck_assert_mem_eq(f.out, pkt, sizeof(pkt));
			delivered++;
		}
	}
	st = stats(&f);
	ck_assert_uint_eq(delivered, st.completed);
	ck_assert_uint_ge(delivered, 19);
	ck_assert_uint_eq(st.rejected, 0);
	/* Every slot ever claimed was completed, evicted, expired or is still held. */
	ck_assert_uint_le(new_slots - st.completed - st.evicted - st.expired, ZT_REASM_SLOTS);
	ck_assert_uint_gt(st.evicted, flood / 2);
	teardown(&f);
}
END_TEST

/* The completed packet is handed out writable-in-place and contiguous, until the next call. */
START_TEST(output_buffer_is_reusable)
{
	uint8_t pkt[4000];
	static const size_t sizes[] = {1400, 1400, 1200};
	static const unsigned order[] = {1, 2, 0};
	struct frag_run f;

	fill(pkt, sizeof(pkt), 12);
	setup(&f);
	deliver(&f, 1, 1, pkt, sizes, 3, order, 0);
	memset((uint8_t *)f.out, 0, f.out_len); /* the node opens packets in place here */
	deliver(&f, 1, 2, pkt, sizes, 3, order, 0);
	teardown(&f);
}
END_TEST

static Suite *fragment_suite(void)
{
	Suite *s = suite_create("fragment");
	TCase *tc = tcase_create("reassembly");
	TCase *lim = tcase_create("limits");

	tcase_add_loop_test(tc, reassembles_in_index_order, 0, ZT_ARRAY_LEN(order_cases));
	tcase_add_test(tc, single_fragment_completes_at_once);
	tcase_add_test(tc, packets_do_not_mix);
	tcase_add_test(tc, output_buffer_is_reusable);
	suite_add_tcase(s, tc);

	tcase_set_timeout(lim, 60);
	tcase_add_test(lim, duplicate_fragment_refused);
	tcase_add_loop_test(lim, bad_fragment_refused, 0, ZT_ARRAY_LEN(bad_cases));
	tcase_add_test(lim, inconsistent_count_refused);
	tcase_add_test(lim, oversize_total_refused);
	tcase_add_test(lim, slots_expire);
	tcase_add_test(lim, per_source_quota_refuses_without_evicting);
	tcase_add_test(lim, full_table_evicts_oldest);
	tcase_add_test(lim, many_sources_flooding);
	suite_add_tcase(s, lim);
	return s;
}

ZT_CHECK_MAIN(fragment_suite)
