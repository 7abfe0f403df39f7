/*
 * test_udp.c - osdep/udp.c: endpoint <-> sockaddr conversion (IPv4, IPv6,
 * IPv4-mapped), batched send and receive over loopback in a handful of
 * syscalls, truncation, and the queue's slot and drop behaviour.
 */
#include "check_main.h"
#include "osdep/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct zt_endpoint ep(const char *text)
{
	struct zt_endpoint e;

	ck_assert_int_eq(zt_endpoint_parse(&e, text), 0);
	return e;
}

START_TEST(ipv4_endpoint_round_trips_through_sockaddr_in)
{
	struct zt_endpoint e = ep("198.51.100.10/9993"), back;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len;

	ck_assert_int_eq(zt_udp_endpoint_to_sockaddr(&e, AF_INET, &ss, &len), 0);
	ck_assert_uint_eq(len, sizeof(*sin));
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 9993);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc633640a);
	ck_assert_int_eq(zt_udp_endpoint_from_sockaddr(&back, (struct sockaddr *)&ss, len), 0);
	ck_assert(zt_endpoint_equal(&e, &back));
}
END_TEST

START_TEST(ipv6_endpoint_round_trips_through_sockaddr_in6)
{
	struct zt_endpoint e = ep("[2001:db8::1]:443"), back;
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	ck_assert_int_eq(zt_udp_endpoint_to_sockaddr(&e, AF_INET6, &ss, &len), 0);
	ck_assert_uint_eq(len, sizeof(*sin6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 443);
	ck_assert_int_eq(zt_udp_endpoint_from_sockaddr(&back, (struct sockaddr *)&ss, len), 0);
	ck_assert_uint_eq(back.family, 6);
	ck_assert(zt_endpoint_equal(&e, &back));
	/* An IPv6 endpoint cannot go out of an IPv4-only socket. */
	ck_assert_int_eq(zt_udp_endpoint_to_sockaddr(&e, AF_INET, &ss, &len), ZT_EINVAL);
}
END_TEST

START_TEST(ipv4_endpoint_maps_onto_dual_stack_and_comes_back_as_family_4)
{
	struct zt_endpoint e = ep("203.0.113.7/1234"), back;
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	ck_assert_int_eq(zt_udp_endpoint_to_sockaddr(&e, AF_INET6, &ss, &len), 0);
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert(IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
	ck_assert_int_eq(zt_udp_endpoint_from_sockaddr(&back, (struct sockaddr *)&ss, len), 0);
	ck_assert_uint_eq(back.family, 4);
	ck_assert(zt_endpoint_equal(&e, &back));
}
END_TEST

START_TEST(mapped_ipv6_endpoint_goes_out_of_ipv4_socket)
{
	struct zt_endpoint e = ep("[::ffff:192.0.2.1]:53");
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	socklen_t len;

	ck_assert_int_eq(zt_udp_endpoint_to_sockaddr(&e, AF_INET, &ss, &len), 0);
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0xc0000201);
}
END_TEST

START_TEST(short_or_foreign_sockaddr_is_refused)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	struct zt_endpoint e;

	ck_assert_int_eq(zt_udp_endpoint_from_sockaddr(&e, (struct sockaddr *)&sin, 4), ZT_EINVAL);
	ck_assert_int_eq(zt_udp_endpoint_from_sockaddr(&e, &sa, sizeof(sa)), ZT_EINVAL);
}
END_TEST

static struct zt_endpoint loopback(const struct zt_udp *u)
{
	struct zt_endpoint e = ep("127.0.0.1/1");

	e.port = u->port;
	return e;
}

static bool wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 2000) == 1;
}

static size_t datagram_len(unsigned i)
{
	return 1 + (i * 997) % 9000;
}

START_TEST(hundred_datagrams_cross_in_a_few_syscalls)
{
	struct zt_udp a, b;
	struct zt_udp_txq *q = malloc(sizeof(*q));
	struct zt_udp_rx_batch *rx = malloc(sizeof(*rx));
	struct zt_endpoint to, bind4 = ep("127.0.0.1/1");
	uint8_t payload[ZT_UDP_MAX_DATAGRAM];
	unsigned got = 0, calls = 0;

	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_nonnull(rx);
	ck_assert_int_eq(zt_udp_open(&a, &bind4, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, NULL, 0), 0); /* dual-stack wildcard */
	ck_assert_uint_ne(a.port, 0);
	ck_assert_uint_ne(b.port, 0);
	to = loopback(&b);
	zt_udp_txq_init(q, &a, NULL, NULL);
	zt_udp_rx_batch_init(rx);
	for (unsigned i = 0; i < 100; i++) {
		size_t len = datagram_len(i);

		memset(payload, (int)i, len);
		if (i % 2) {
			ck_assert_int_eq(zt_udp_queue(q, &to, payload, len), 0);
		} else {
			uint8_t *slot = zt_udp_slot_get(q);

			ck_assert_ptr_nonnull(slot);
			memcpy(slot, payload, len);
			ck_assert_int_eq(zt_udp_slot_commit(q, &to, len), 0);
		}
	}
	ck_assert_int_eq(zt_udp_flush(q), 0);
	ck_assert_uint_eq(zt_udp_pending(q), 0);
	ck_assert_uint_eq(a.stats.tx_datagrams, 100);
	ck_assert_uint_le(a.stats.tx_syscalls, 3); /* 64 + 36 */
	while (got < 100 && calls < 20) {
		int n;

		ck_assert(wait_readable(b.fd));
		n = zt_udp_recv_batch(&b, rx);
		calls++;
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++, got++) {
			ck_assert_uint_eq(rx->len[i], datagram_len(got));
			ck_assert_uint_eq(rx->data[i][0], got & 0xff);
			ck_assert_uint_eq(rx->data[i][rx->len[i] - 1], got & 0xff);
			ck_assert_uint_eq(rx->from[i].family, 4); /* mapped back */
			ck_assert_uint_eq(rx->from[i].port, a.port);
		}
	}
	ck_assert_uint_eq(got, 100);
	ck_assert_uint_eq(b.stats.rx_datagrams, 100);
	ck_assert_uint_lt(b.stats.rx_syscalls, 10);
	zt_udp_close(&a);
	zt_udp_close(&b);
	free(q);
	free(rx);
}
END_TEST

START_TEST(oversized_datagram_is_dropped_and_counted)
{
	struct zt_udp a, b;
	struct zt_udp_rx_batch *rx = malloc(sizeof(*rx));
	struct zt_endpoint to;
	struct sockaddr_storage ss;
	socklen_t len;
	static uint8_t big[ZT_UDP_MAX_DATAGRAM + 100];
	int n;

	ck_assert_int_eq(zt_udp_open(&a, NULL, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, NULL, 0), 0);
	to = loopback(&b);
	ck_assert_int_eq(zt_udp_endpoint_to_sockaddr(&to, a.family, &ss, &len), 0);
	ck_assert_int_eq(sendto(a.fd, big, sizeof(big), 0, (struct sockaddr *)&ss, len),
			 (ssize_t)sizeof(big));
	ck_assert_int_eq(sendto(a.fd, "ok", 2, 0, (struct sockaddr *)&ss, len), 2);
	zt_udp_rx_batch_init(rx);
	usleep(10000);
	ck_assert(wait_readable(b.fd));
	n = zt_udp_recv_batch(&b, rx);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_eq(rx->len[0], 2);
	ck_assert_int_eq(memcmp(rx->data[0], "ok", 2), 0);
	ck_assert_uint_eq(b.stats.rx_truncated, 1);
	/* the arrival interface is reported (loopback), which the daemon's overlay guard reads */
	ck_assert_uint_eq(rx->ifindex[0], if_nametoindex("lo"));
	ck_assert_int_eq(zt_udp_recv_batch(&b, rx), 0); /* nothing left: 0, not an error */
	zt_udp_close(&a);
	zt_udp_close(&b);
	free(rx);
}
END_TEST

START_TEST(queue_refuses_bad_destinations_and_sizes)
{
	struct zt_udp a;
	struct zt_udp_txq *q = malloc(sizeof(*q));
	struct zt_endpoint none = {0}, port0 = ep("127.0.0.1/1");

	port0.port = 0;
	ck_assert_int_eq(zt_udp_open(&a, NULL, 0), 0);
	zt_udp_txq_init(q, &a, NULL, NULL);
	ck_assert_int_eq(zt_udp_queue(q, &none, "x", 1), ZT_EINVAL);
	ck_assert_int_eq(zt_udp_queue(q, &port0, "x", 1), ZT_EINVAL);
	ck_assert_int_eq(zt_udp_slot_commit(q, &port0, ZT_UDP_MAX_DATAGRAM + 1), ZT_ETOOBIG);
	ck_assert_uint_eq(zt_udp_pending(q), 0);
	ck_assert_uint_eq(a.stats.tx_drops, 2);
	zt_udp_close(&a);
	free(q);
}
END_TEST

/*
 * Loopback delivers synchronously, so a real socket never says EAGAIN here.
 * This executable's sendmmsg interposes on libc's for udp.c: it can refuse
 * with a chosen errno, else it makes the real system call.
 */
static int fake_errno; /* 0: pass through */
static int fake_count; /* how many calls to refuse; -1: all */

int sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags)
{
	if (fake_errno && fake_count != 0) {
		if (fake_count > 0)
			fake_count--;
		errno = fake_errno;
		return -1;
	}
	return (int)syscall(SYS_sendmmsg, fd, msgs, n, flags);
}

static int want_calls;
static bool want_on;

static void on_want_write(void *ctx, bool on)
{
	want_calls++;
	want_on = on;
}

START_TEST(full_socket_parks_on_want_write_drops_counted_then_drains)
{
	struct zt_udp a, b;
	struct zt_udp_txq *q = malloc(sizeof(*q));
	struct zt_udp_rx_batch *rx = malloc(sizeof(*rx));
	struct zt_endpoint to;
	uint64_t calls;
	unsigned got = 0;
	int n;

	ck_assert_int_eq(zt_udp_open(&a, NULL, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, NULL, 0), 0);
	to = loopback(&b);
	zt_udp_txq_init(q, &a, on_want_write, NULL);
	zt_udp_rx_batch_init(rx);
	want_calls = 0;
	fake_errno = EAGAIN;
	fake_count = -1;
	/* The 64th commit fills the ring and tries to send: the kernel is full. */
	for (unsigned i = 0; i < ZT_UDP_BATCH; i++)
		ck_assert_int_eq(zt_udp_queue(q, &to, &i, sizeof(i)), 0);
	ck_assert(q->blocked);
	ck_assert_int_eq(want_calls, 1);
	ck_assert(want_on);
	ck_assert_uint_eq(a.stats.tx_blocked, 1);
	ck_assert_uint_eq(zt_udp_pending(q), ZT_UDP_BATCH);
	/* Full and blocked: new datagrams are dropped and counted, no syscall spent. */
	calls = a.stats.tx_syscalls;
	ck_assert_int_eq(zt_udp_queue(q, &to, "x", 1), ZT_EAGAIN);
	ck_assert_ptr_null(zt_udp_slot_get(q));
	ck_assert_uint_eq(a.stats.tx_drops, 2);
	ck_assert_uint_eq(a.stats.tx_syscalls, calls);
	ck_assert_int_eq(zt_udp_flush(q), ZT_EAGAIN); /* EPOLLOUT came too early */
	ck_assert_int_eq(want_calls, 1);
	/* Writable again: the held datagrams go out, in order, and the owner is told. */
	fake_errno = 0;
	ck_assert_int_eq(zt_udp_flush(q), 0);
	ck_assert(!q->blocked);
	ck_assert_int_eq(want_calls, 2);
	ck_assert(!want_on);
	ck_assert_uint_eq(a.stats.tx_datagrams, ZT_UDP_BATCH);
	while (got < ZT_UDP_BATCH) {
		ck_assert(wait_readable(b.fd));
		n = zt_udp_recv_batch(&b, rx);
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++, got++) {
			unsigned v;

			ck_assert_uint_eq(rx->len[i], sizeof(v));
			memcpy(&v, rx->data[i], sizeof(v));
			ck_assert_uint_eq(v, got);
		}
	}
	zt_udp_close(&a);
	zt_udp_close(&b);
	free(q);
	free(rx);
}
END_TEST

/* Runs of equal-size datagrams to one destination go out as one segmented send and arrive whole. */
START_TEST(segmented_runs_arrive_intact_and_in_order)
{
	struct zt_udp a, b;
	struct zt_udp_txq *q = malloc(sizeof(*q));
	struct zt_udp_rx_batch *rx = malloc(sizeof(*rx));
	struct zt_endpoint to;
	uint8_t d[1452];
	unsigned got = 0;
	uint64_t calls;

	ck_assert_int_eq(zt_udp_open(&a, NULL, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, NULL, 0), 0);
	to = loopback(&b);
	zt_udp_txq_init(q, &a, NULL, NULL);
	zt_udp_rx_batch_init(rx);
	for (unsigned i = 0; i < 20; i++) {
		size_t len = (i % 2) ? 1441 : 1452; /* a frame's two fragments, ten frames */
		memset(d, (int)i, sizeof(d));
		ck_assert_int_eq(zt_udp_queue(q, &to, d, len), 0);
	}
	calls = a.stats.tx_syscalls;
	ck_assert_int_eq(zt_udp_flush(q), 0);
	ck_assert_uint_eq(a.stats.tx_datagrams, 20);
	ck_assert_msg(a.gso, "segmentation offload was refused on loopback");
	ck_assert_uint_eq(a.stats.tx_syscalls - calls, 1);
	while (got < 20) {
		int n;
		ck_assert(wait_readable(b.fd));
		n = zt_udp_recv_batch(&b, rx);
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++, got++) {
			ck_assert_uint_eq(rx->len[i], (got % 2) ? 1441 : 1452);
			ck_assert_uint_eq(rx->data[i][0], got);
			ck_assert_uint_eq(rx->data[i][rx->len[i] - 1], got);
		}
	}
	zt_udp_close(&a);
	zt_udp_close(&b);
	free(q);
	free(rx);
}
END_TEST

START_TEST(refused_datagram_is_dropped_alone)
{
	struct zt_udp a, b;
	struct zt_udp_txq *q = malloc(sizeof(*q));
	struct zt_udp_rx_batch *rx = malloc(sizeof(*rx));
	struct zt_endpoint to;
	int n;

	ck_assert_int_eq(zt_udp_open(&a, NULL, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, NULL, 0), 0);
	to = loopback(&b);
	zt_udp_txq_init(q, &a, NULL, NULL);
	zt_udp_rx_batch_init(rx);
	/* Different sizes (the second larger), so segmentation offload cannot join them. */
	ck_assert_int_eq(zt_udp_queue(q, &to, "one", 3), 0);
	ck_assert_int_eq(zt_udp_queue(q, &to, "two!", 4), 0);
	fake_errno = EHOSTUNREACH;
	fake_count = 1;
	ck_assert_int_eq(zt_udp_flush(q), 0);
	fake_errno = 0;
	ck_assert_uint_eq(a.stats.tx_errors, 1);
	ck_assert_uint_eq(a.stats.tx_datagrams, 1);
	ck_assert(wait_readable(b.fd));
	n = zt_udp_recv_batch(&b, rx);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(memcmp(rx->data[0], "two", 3), 0);
	zt_udp_close(&a);
	zt_udp_close(&b);
	free(q);
	free(rx);
}
END_TEST

START_TEST(ipv6_loopback_datagram_keeps_family_6)
{
	struct zt_udp a, b;
	struct zt_udp_txq *q = malloc(sizeof(*q));
	struct zt_udp_rx_batch *rx = malloc(sizeof(*rx));
	struct zt_endpoint to = ep("[::1]:1");
	int n;

	ck_assert_int_eq(zt_udp_open(&a, NULL, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, NULL, 0), 0);
	if (a.family != AF_INET6) {
		zt_udp_close(&a);
		zt_udp_close(&b);
		free(q);
		free(rx);
		return; /* no IPv6 on this machine */
	}
	to.port = b.port;
	zt_udp_txq_init(q, &a, NULL, NULL);
	zt_udp_rx_batch_init(rx);
	if (zt_udp_queue(q, &to, "v6", 2) == 0 && zt_udp_flush(q) == 0 && a.stats.tx_datagrams == 1) {
		ck_assert(wait_readable(b.fd));
		n = zt_udp_recv_batch(&b, rx);
		ck_assert_int_eq(n, 1);
		ck_assert_uint_eq(rx->from[0].family, 6);
		ck_assert_uint_eq(rx->from[0].port, a.port);
		ck_assert_uint_eq(rx->ifindex[0], if_nametoindex("lo"));
	}
	zt_udp_close(&a);
	zt_udp_close(&b);
	free(q);
	free(rx);
}
END_TEST

START_TEST(binding_a_taken_port_is_eexist)
{
	struct zt_udp a, b;
	struct zt_endpoint bind4 = ep("127.0.0.1/1");

	ck_assert_int_eq(zt_udp_open(&a, &bind4, 0), 0);
	ck_assert_int_eq(zt_udp_open(&b, &bind4, a.port), ZT_EEXIST);
	ck_assert_int_eq(b.fd, -1);
	zt_udp_close(&a);
}
END_TEST

static Suite *udp_suite(void)
{
	Suite *s = suite_create("udp");
	TCase *conv = tcase_create("conversion");
	TCase *io = tcase_create("io");

	tcase_add_test(conv, ipv4_endpoint_round_trips_through_sockaddr_in);
	tcase_add_test(conv, ipv6_endpoint_round_trips_through_sockaddr_in6);
	tcase_add_test(conv, ipv4_endpoint_maps_onto_dual_stack_and_comes_back_as_family_4);
	tcase_add_test(conv, mapped_ipv6_endpoint_goes_out_of_ipv4_socket);
	tcase_add_test(conv, short_or_foreign_sockaddr_is_refused);
	tcase_add_test(io, hundred_datagrams_cross_in_a_few_syscalls);
	tcase_add_test(io, oversized_datagram_is_dropped_and_counted);
	tcase_add_test(io, queue_refuses_bad_destinations_and_sizes);
	tcase_add_test(io, full_socket_parks_on_want_write_drops_counted_then_drains);
	tcase_add_test(io, refused_datagram_is_dropped_alone);
	tcase_add_test(io, segmented_runs_arrive_intact_and_in_order);
	tcase_add_test(io, ipv6_loopback_datagram_keeps_family_6);
	tcase_add_test(io, binding_a_taken_port_is_eexist);
	tcase_set_timeout(io, 30);
	suite_add_tcase(s, conv);
	suite_add_tcase(s, io);
	return s;
}

ZT_CHECK_MAIN(udp_suite)
