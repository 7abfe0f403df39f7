/*
 * test_base.c - src/base/: the one token bucket (starts full, refills at its
 * rate up to the burst, a backwards clock neither mints nor starves, n-token
 * takes are all or nothing, huge gaps do not overflow), the one error table
 * (every code has a text and an HTTP status) and the constant-time helpers.
 */
#include "base/ct.h"
#include "base/limiter.h"
#include "base/zt.h"

#include "check_main.h"

#include <string.h>

START_TEST(limiter_starts_full_and_refills_at_rate)
{
	struct zt_limiter l;
	int i;

	zt_limiter_init(&l, 20, 100);
	for (i = 0; i < 100; i++)
		ck_assert(zt_limiter_take(&l, 5000));
	ck_assert(!zt_limiter_take(&l, 5000));
	/* 20 per second: one token per 50 ms */
	ck_assert(!zt_limiter_take(&l, 5049));
	ck_assert(zt_limiter_take(&l, 5050));
	ck_assert(!zt_limiter_take(&l, 5050));
	/* a long pause refills up to the burst, not beyond */
	for (i = 0; i < 100; i++)
		ck_assert(zt_limiter_take(&l, 1000000));
	ck_assert(!zt_limiter_take(&l, 1000000));
}
END_TEST

START_TEST(limiter_backwards_clock_neither_mints_nor_starves)
{
	struct zt_limiter l;

	zt_limiter_init(&l, 10, 1);
	ck_assert(zt_limiter_take(&l, 100000));
	ck_assert(!zt_limiter_take(&l, 100000));
	/* the clock steps back 50 s: no token appears */
	ck_assert(!zt_limiter_take(&l, 50000));
	/* and refill restarts from the new time, not from 100 s */
	ck_assert(zt_limiter_take(&l, 50100));
}
END_TEST

START_TEST(limiter_take_n_is_all_or_nothing)
{
	struct zt_limiter l;

	zt_limiter_init(&l, 1000, 1500);
	ck_assert(zt_limiter_take_n(&l, 1, 1000));
	ck_assert(!zt_limiter_take_n(&l, 1, 501));
	ck_assert(zt_limiter_take_n(&l, 1, 500));
	ck_assert(!zt_limiter_take(&l, 1));
}
END_TEST

START_TEST(limiter_huge_gap_and_rate_do_not_overflow)
{
	struct zt_limiter l;

	zt_limiter_init(&l, UINT32_MAX, 3);
	ck_assert(zt_limiter_take_n(&l, 1, 3));
	ck_assert(!zt_limiter_take(&l, 1));
	ck_assert(zt_limiter_take_n(&l, UINT64_MAX / 2, 3));
	zt_limiter_init(&l, 0, 2);
	ck_assert(zt_limiter_take_n(&l, 1, 2));
	ck_assert(!zt_limiter_take(&l, UINT64_MAX));
}
END_TEST

START_TEST(every_error_code_has_text_and_status)
{
	for (int e = ZT_OK; e >= ZT_EPERM; e--) {
		ck_assert_str_ne(zt_strerror(e), "unknown error");
		ck_assert_int_ge(zt_err_http_status(e), 200);
	}
	ck_assert_str_eq(zt_strerror(-999), "unknown error");
	ck_assert_int_eq(zt_err_http_status(-999), 500);
	ck_assert_int_eq(zt_err_http_status(ZT_ENOENT), 404);
	ck_assert_int_eq(zt_err_http_status(ZT_ERATE), 429);
}
END_TEST

START_TEST(ct_equal_and_wipe)
{
	uint8_t a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert(zt_ct_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	ck_assert(!zt_ct_equal(a, b, sizeof(a)));
	ck_assert(zt_ct_equal(a, b, 0));
	zt_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(a[i], 0);
	zt_wipe(NULL, 4);
}
END_TEST

static Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("base");

	tcase_add_test(tc, limiter_starts_full_and_refills_at_rate);
	tcase_add_test(tc, limiter_backwards_clock_neither_mints_nor_starves);
	tcase_add_test(tc, limiter_take_n_is_all_or_nothing);
	tcase_add_test(tc, limiter_huge_gap_and_rate_do_not_overflow);
	tcase_add_test(tc, every_error_code_has_text_and_status);
	tcase_add_test(tc, ct_equal_and_wipe);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(base_suite)
