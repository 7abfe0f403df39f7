/*
 * test_os.c - osdep/os.c: atomic writes (mode, replacement, no temp left
 * behind), bounded reads, the clock and the CSPRNG.
 */
#include "check_main.h"
#include "osdep/os.h"
#include "base/zt.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void setup(void)
{
	strcpy(dir, "/tmp/zt_test_os.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", dir, name);
}

static size_t entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

START_TEST(atomic_write_is_0600_under_permissive_umask)
{
	char p[300];
	struct stat st;
	mode_t old = umask(0);

	path_in(p, sizeof(p), "secret");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "abc", 3, 0600), 0);
	umask(old);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(atomic_write_is_0600_under_narrow_umask_too)
{
	char p[300];
	struct stat st;
	mode_t old = umask(0077);

	path_in(p, sizeof(p), "conf");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "x", 1, 0644), 0);
	umask(old);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);
}
END_TEST

START_TEST(atomic_write_replaces_content_and_leaves_no_temp)
{
	char p[300], *buf;
	size_t len;

	path_in(p, sizeof(p), "file");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "first version", 13, 0600), 0);
	ck_assert_int_eq(zt_os_write_file_atomic(p, "second", 6, 0600), 0);
	ck_assert_int_eq(zt_os_read_file(p, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 6);
	ck_assert_str_eq(buf, "second");
	free(buf);
	ck_assert_uint_eq(entries(), 1);
}
END_TEST

START_TEST(atomic_write_replaces_an_open_file_without_touching_it)
{
	char p[300], got[16] = {0};
	FILE *f;

	path_in(p, sizeof(p), "held");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "old", 3, 0600), 0);
	f = fopen(p, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(zt_os_write_file_atomic(p, "new", 3, 0600), 0);
	/* A reader that opened the old file still sees it whole: a rename, not a rewrite. */
	ck_assert_uint_eq(fread(got, 1, sizeof(got) - 1, f), 3);
	ck_assert_str_eq(got, "old");
	fclose(f);
}
END_TEST

START_TEST(atomic_write_into_missing_dir_fails_cleanly)
{
	char p[300];

	path_in(p, sizeof(p), "nodir/file");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "x", 1, 0600), ZT_EIO);
	ck_assert_uint_eq(entries(), 0);
}
END_TEST

START_TEST(read_refuses_files_over_max)
{
	char p[300], *buf = (char *)1;
	size_t len = 99;

	path_in(p, sizeof(p), "big");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "0123456789", 10, 0600), 0);
	ck_assert_int_eq(zt_os_read_file(p, 9, &buf, &len), ZT_ETOOBIG);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(zt_os_read_file(p, 10, &buf, &len), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_int_eq(buf[10], '\0');
	free(buf);
}
END_TEST

START_TEST(read_missing_file_is_enoent)
{
	char p[300], *buf;
	size_t len;

	path_in(p, sizeof(p), "absent");
	ck_assert_int_eq(zt_os_read_file(p, 100, &buf, &len), ZT_ENOENT);
	ck_assert_ptr_null(buf);
}
END_TEST

START_TEST(read_refuses_a_directory)
{
	char *buf;
	size_t len;

	ck_assert_int_eq(zt_os_read_file(dir, 100, &buf, &len), ZT_EIO);
}
END_TEST

START_TEST(read_empty_file_gives_empty_string)
{
	char p[300], *buf;
	size_t len;

	path_in(p, sizeof(p), "empty");
	ck_assert_int_eq(zt_os_write_file_atomic(p, "", 0, 0600), 0);
	ck_assert_int_eq(zt_os_read_file(p, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(buf, "");
	free(buf);
}
END_TEST

START_TEST(mkdirs_creates_nested_with_mode)
{
	char p[300];
	struct stat st;

	path_in(p, sizeof(p), "a/b/c");
	ck_assert_int_eq(zt_os_mkdirs(p, 0700), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(zt_os_mkdirs(p, 0700), 0); /* exists: fine */
}
END_TEST

START_TEST(clock_is_epoch_ms_and_monotonic)
{
	uint64_t a = zt_os_now_ms(), b;

	ck_assert_uint_gt(a, 1600000000000ULL); /* after 2020 */
	usleep(20000);
	b = zt_os_now_ms();
	ck_assert_uint_ge(b, a + 15);
	ck_assert_uint_lt(b, a + 5000);
}
END_TEST

START_TEST(random_fills_and_differs)
{
	uint8_t a[64] = {0}, b[64] = {0}, zero[64] = {0};

	zt_os_random(NULL, a, sizeof(a));
	zt_os_random(NULL, b, sizeof(b));
	ck_assert(memcmp(a, zero, sizeof(a)) != 0);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

static Suite *os_suite(void)
{
	Suite *s = suite_create("os");
	TCase *tc = tcase_create("os");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, atomic_write_is_0600_under_permissive_umask);
	tcase_add_test(tc, atomic_write_is_0600_under_narrow_umask_too);
	tcase_add_test(tc, atomic_write_replaces_content_and_leaves_no_temp);
	tcase_add_test(tc, atomic_write_replaces_an_open_file_without_touching_it);
	tcase_add_test(tc, atomic_write_into_missing_dir_fails_cleanly);
	tcase_add_test(tc, read_refuses_files_over_max);
	tcase_add_test(tc, read_missing_file_is_enoent);
	tcase_add_test(tc, read_refuses_a_directory);
	tcase_add_test(tc, read_empty_file_gives_empty_string);
	tcase_add_test(tc, mkdirs_creates_nested_with_mode);
	tcase_add_test(tc, clock_is_epoch_ms_and_monotonic);
	tcase_add_test(tc, random_fills_and_differs);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(os_suite)
