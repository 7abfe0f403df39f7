/*
 * test_replay.c - src/replay.c: each counter inside the window accepted
 * exactly once in any order, duplicates and counters older than the window
 * refused, jumps forward clearing stale bits, and agreement with a plain
 * reference model over long random runs.
 */
#include "replay.h"

#include "check_main.h"

#include <stdlib.h>
#include <string.h>

#define W ((uint64_t)ZT_REPLAY_WINDOW_BITS)

START_TEST(counter_zero_accepted_once)
{
	struct zt_replay r;

	zt_replay_init(&r);
	ck_assert(zt_replay_may_accept(&r, 0));
	ck_assert(zt_replay_check_and_set(&r, 0));
	ck_assert(!zt_replay_may_accept(&r, 0));
	ck_assert(!zt_replay_check_and_set(&r, 0));
}
END_TEST

START_TEST(in_order_accepted_and_duplicates_refused)
{
	struct zt_replay r;

	zt_replay_init(&r);
	for (uint64_t c = 0; c < 3 * W; c++)
		ck_assert_msg(zt_replay_check_and_set(&r, c), "counter %llu refused", (unsigned long long)c);
	for (uint64_t c = 2 * W; c < 3 * W; c++)
		ck_assert_msg(!zt_replay_check_and_set(&r, c), "duplicate %llu accepted", (unsigned long long)c);
}
END_TEST

START_TEST(reordered_inside_window_accepted_once)
{
	struct zt_replay r;
	const uint64_t top = 5000;

	zt_replay_init(&r);
	ck_assert(zt_replay_check_and_set(&r, top));
	/* Backwards, then every other one twice. */
	for (uint64_t c = top; c-- > 0;)
		ck_assert_msg(zt_replay_check_and_set(&r, c), "counter %llu refused", (unsigned long long)c);
	for (uint64_t c = 0; c <= top; c += 2)
		ck_assert(!zt_replay_check_and_set(&r, c));
	/* Gaps above the highest are fresh; filling them later works too. */
	ck_assert(zt_replay_check_and_set(&r, top + 10));
	for (uint64_t c = top + 9; c > top; c--)
		ck_assert(zt_replay_check_and_set(&r, c));
	ck_assert(!zt_replay_check_and_set(&r, top + 5));
}
END_TEST

/* The window is exactly ZT_REPLAY_WINDOW_BITS counters, whatever the alignment. */
START_TEST(window_edge_is_exact)
{
	static const uint64_t highs[] = {W, W + 1, W + 63, W + 64, 3 * W + 5, 7 * W + 127, 1000003};
	uint64_t high = highs[_i];
	struct zt_replay r;

	zt_replay_init(&r);
	ck_assert(zt_replay_check_and_set(&r, high));
	/* high - W + 1 .. high - 1 are inside, high - W is outside. */
	ck_assert(!zt_replay_may_accept(&r, high - W));
	ck_assert(!zt_replay_check_and_set(&r, high - W));
	ck_assert(!zt_replay_check_and_set(&r, 0));
	for (uint64_t c = high - W + 1; c < high; c++)
		ck_assert_msg(zt_replay_check_and_set(&r, c), "high %llu: %llu refused", (unsigned long long)high,
			      (unsigned long long)c);
	for (uint64_t c = high - W + 1; c <= high; c++)
		ck_assert(!zt_replay_may_accept(&r, c));
}
END_TEST

START_TEST(older_than_window_refused)
{
	struct zt_replay r;

	zt_replay_init(&r);
	ck_assert(zt_replay_check_and_set(&r, 100));
	ck_assert(zt_replay_check_and_set(&r, 100 + W));
	/* The window is now 101 .. 100 + W: 100 is outside (and was seen)... */
	ck_assert(!zt_replay_check_and_set(&r, 100));
	/* ...and 99, never seen, is refused all the same: too old. */
	ck_assert(!zt_replay_may_accept(&r, 99));
	ck_assert(!zt_replay_check_and_set(&r, 99));
	ck_assert(zt_replay_check_and_set(&r, 101));
}
END_TEST

/* Jumps of every size must clear the ring so nothing stale reads as a duplicate. */
START_TEST(big_jumps_clear_stale_bits)
{
	static const uint64_t jumps[] = {1, 63, 64, 65, W / 2, W - 1, W, W + 1, W + 64, 2 * W + 37, 1ULL << 40};
	struct zt_replay r;
	uint64_t base = 0;

	zt_replay_init(&r);
	/* Fill the whole window so every ring word has bits set. */
	for (uint64_t c = 0; c < W; c++)
		ck_assert(zt_replay_check_and_set(&r, c));
	base = W - 1;
	for (size_t j = 0; j < ZT_ARRAY_LEN(jumps); j++) {
		uint64_t high = base + jumps[j];
		uint64_t low = high >= W ? high - W + 1 : 0;

		ck_assert(zt_replay_check_and_set(&r, high));
		/* Everything in the window not yet seen must be fresh, exactly once. */
		for (uint64_t c = ZT_MAX(low, base + 1); c < high; c++) {
			ck_assert_msg(zt_replay_check_and_set(&r, c), "jump %llu: %llu refused",
				      (unsigned long long)jumps[j], (unsigned long long)c);
			ck_assert(!zt_replay_check_and_set(&r, c));
		}
		base = high;
	}
}
END_TEST

START_TEST(may_accept_does_not_mark)
{
	struct zt_replay r, copy;

	zt_replay_init(&r);
	ck_assert(zt_replay_check_and_set(&r, 10));
	memcpy(&copy, &r, sizeof(r));
	for (int i = 0; i < 3; i++) {
		ck_assert(zt_replay_may_accept(&r, 11));
		ck_assert(zt_replay_may_accept(&r, 5));
		ck_assert(zt_replay_may_accept(&r, 1ULL << 50));
	}
	ck_assert_mem_eq(&r, &copy, sizeof(r));
	ck_assert(zt_replay_check_and_set(&r, 11));
}
END_TEST

START_TEST(counter_limits)
{
	struct zt_replay r;

	zt_replay_init(&r);
	ck_assert(!zt_replay_may_accept(&r, UINT64_MAX));
	ck_assert(!zt_replay_check_and_set(&r, UINT64_MAX));
	ck_assert(zt_replay_check_and_set(&r, UINT64_MAX - 1));
	ck_assert(!zt_replay_check_and_set(&r, UINT64_MAX - 1));
	ck_assert(zt_replay_check_and_set(&r, UINT64_MAX - 2));
	ck_assert(!zt_replay_check_and_set(&r, UINT64_MAX));
	ck_assert(!zt_replay_check_and_set(&r, UINT64_MAX - 1 - W));
	ck_assert(zt_replay_check_and_set(&r, UINT64_MAX - W));
}
END_TEST

/* ---- reference model: a plain "seen" array and the same window rule ---- */

#define MODEL_SPAN (1ULL << 25)

struct model {
	uint64_t top;
	uint8_t *seen;
};

static bool model_check_and_set(struct model *m, uint64_t c)
{
	if (m->top > W && c < m->top - W)
		return false;
	if (m->seen[c])
		return false;
	m->seen[c] = 1;
	if (c + 1 > m->top)
		m->top = c + 1;
	return true;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random walks mixing small reorders, replays and jumps; seed = _i. */
START_TEST(agrees_with_reference_model)
{
	struct model m = {0, calloc(MODEL_SPAN, 1)};
	uint64_t s = 0x9e3779b97f4a7c15ULL * (uint64_t)(_i + 1);
	uint64_t cur = 0;
	struct zt_replay r;

	ck_assert_ptr_nonnull(m.seen);
	zt_replay_init(&r);
	for (int step = 0; step < 100000; step++) {
		uint64_t x = xorshift(&s), c;
		bool want, may, got;

		switch (x % 64) {
		case 0: /* jump forward, sometimes past the window */
			cur += (x >> 8) % (2 * W);
			break;
		case 1: /* far back */
			cur = cur > W + 100 ? cur - W - (x >> 8) % 100 : cur;
			break;
		default: /* near the front: reorder and replays */
			cur += (x >> 8) % 64;
			break;
		}
		ck_assert_uint_lt(cur, MODEL_SPAN);
		c = cur >= 32 ? cur - (x >> 20) % 32 : cur;
		may = zt_replay_may_accept(&r, c);
		got = zt_replay_check_and_set(&r, c);
		want = model_check_and_set(&m, c);
		ck_assert_msg(got == want, "step %d counter %llu: got %d want %d", step, (unsigned long long)c,
			      got, want);
		ck_assert_msg(may || !got, "may_accept refused a fresh counter %llu", (unsigned long long)c);
	}
	free(m.seen);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("window");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, counter_zero_accepted_once);
	tcase_add_test(tc, in_order_accepted_and_duplicates_refused);
	tcase_add_test(tc, reordered_inside_window_accepted_once);
	tcase_add_loop_test(tc, window_edge_is_exact, 0, 7);
	tcase_add_test(tc, older_than_window_refused);
	tcase_add_test(tc, big_jumps_clear_stale_bits);
	tcase_add_test(tc, may_accept_does_not_mark);
	tcase_add_test(tc, counter_limits);
	tcase_add_loop_test(tc, agrees_with_reference_model, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(replay_suite)
