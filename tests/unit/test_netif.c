/*
 * test_netif.c - osdep/netif.c: prefix coverage is exact at every bit
 * boundary, listings include or exclude interfaces by ifindex (never by
 * name), the kernel's route to an address names its interface, an
 * interface without a master says so, and the change monitor opens,
 * reports nothing when nothing changed and something when a route changes.
 */
#include "check_main.h"
#include "osdep/netif.h"

#include <net/if.h>
#include <sched.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct zt_endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct zt_endpoint e = {.family = 4};

	e.addr[0] = a;
	e.addr[1] = b;
	e.addr[2] = c;
	e.addr[3] = d;
	return e;
}

START_TEST(prefix_coverage_is_exact)
{
	static const struct {
		uint8_t bits;
		uint8_t last; /* 10.147.17.<last> */
		uint8_t third;
		bool covered;
	} cases[] = {
		{24, 200, 17, true}, {24, 1, 18, false}, {23, 1, 16, true}, {23, 1, 18, false},
		{32, 10, 17, true},  {32, 11, 17, false}, {0, 1, 99, true},  {25, 127, 17, true},
		{25, 128, 17, false},
	};
	struct zt_netif_addr a = {.ifindex = 7, .addr = ep4(10, 147, 17, 10)};

	for (size_t i = 0; i < ZT_ARRAY_LEN(cases); i++) {
		struct zt_endpoint e = ep4(10, 147, cases[i].third, cases[i].last);
		a.prefix_bits = cases[i].bits;
		ck_assert_msg(zt_netif_addr_covers(&a, &e) == cases[i].covered, "case %zu", i);
	}
	/* another family is never covered */
	{
		struct zt_endpoint e6 = {.family = 6};
		a.prefix_bits = 0;
		ck_assert(!zt_netif_addr_covers(&a, &e6));
	}
}
END_TEST

START_TEST(listing_by_ifindex_includes_and_excludes)
{
	struct zt_netif_addr addrs[64];
	size_t n = 0;
	unsigned lo = if_nametoindex("lo");

	ck_assert_uint_ne(lo, 0);
	/* loopback's own addresses, asked for by index */
	ck_assert_int_ge(zt_netif_list_on(&lo, 1, addrs, ZT_ARRAY_LEN(addrs), &n), ZT_ETOOBIG);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(addrs[i].ifindex, lo);
		ck_assert_uint_eq(addrs[i].prefix_bits, addrs[i].addr.family == 4 ? 8 : 128);
	}
	/* the advertised list never holds an excluded interface */
	ck_assert_int_ge(zt_netif_list(&lo, 1, addrs, ZT_ARRAY_LEN(addrs), &n), ZT_ETOOBIG);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_ne(addrs[i].ifindex, lo);
	ck_assert(zt_netif_index_in(lo, &lo, 1));
	ck_assert(!zt_netif_index_in(0, (unsigned[]){0}, 1));
}
END_TEST

START_TEST(route_lookup_names_the_interface)
{
	struct zt_endpoint e = ep4(127, 0, 0, 1);
	unsigned oif = 0, master = 99;

	ck_assert_int_eq(zt_netif_route_oif(&e, &oif), 0);
	ck_assert_uint_eq(oif, if_nametoindex("lo"));
	ck_assert_int_eq(zt_netif_master(if_nametoindex("lo"), &master), 0);
	ck_assert_uint_eq(master, 0);
	ck_assert_int_eq(zt_netif_master(0x7fffffff, &master), ZT_ENOENT);
}
END_TEST

/* In a child, in a network namespace of its own: quiet, then a link change is seen. */
static int monitor_child(void)
{
	int fd, quiet, seen;

	if (unshare(CLONE_NEWNET) < 0)
		return 2; /* not root: nothing to prove here */
	fd = zt_netif_monitor_open();
	if (fd < 0)
		return 1;
	quiet = zt_netif_monitor_drain(fd);
	if (system("ip link set lo up") != 0)
		return 1;
	usleep(20000);
	seen = zt_netif_monitor_drain(fd);
	close(fd);
	return quiet == 0 && seen > 0 ? 0 : 1;
}

START_TEST(monitor_reports_link_changes)
{
	int status = 0;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(monitor_child());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_ne(WEXITSTATUS(status), 1);
}
END_TEST

static Suite *netif_suite(void)
{
	Suite *s = suite_create("netif");
	TCase *tc = tcase_create("netif");

	tcase_add_test(tc, prefix_coverage_is_exact);
	tcase_add_test(tc, listing_by_ifindex_includes_and_excludes);
	tcase_add_test(tc, route_lookup_names_the_interface);
	tcase_add_test(tc, monitor_reports_link_changes);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(netif_suite)
