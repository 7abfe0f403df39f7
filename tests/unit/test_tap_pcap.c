/*
 * test_tap_pcap.c - tap/pcap_port.c on a veth pair in a fresh network
 * namespace per test (gone, with the pair, when the teardown leaves it):
 * frames injected on one end arrive on the other, frames sent from the other
 * end are captured in batches, our own injections are not read back, and
 * what belongs to the NIC is refused with ZT_EPERM. Needs root.
 */
#include "check_main.h"
#include "tap/pcap_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 2000 /* veth delivers at once; this only bounds a failure */
#define TEST_ETHERTYPE 0x88b5 /* IEEE 802 local experimental */
#define MARK "zt-pcap-test"

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t other_mac[6] = {0x02, 0x50, 0x43, 0x41, 0x50, 0x02};

static int saved_ns = -1;
static struct zt_port *port;
static int other = -1; /* packet socket on ztpb, the far end */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void enter_netns_with_veth(void)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};

	saved_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(saved_ns, 0);
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(system("ip link add ztpa type veth peer name ztpb &&"
				" ip link set ztpb address 02:50:43:41:50:02 &&"
				" ip link set ztpa up && ip link set ztpb up"),
			 0);
	port = NULL;
	other = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
	ck_assert_int_ge(other, 0);
	sll.sll_ifindex = (int)if_nametoindex("ztpb");
	ck_assert_int_ne(sll.sll_ifindex, 0);
	ck_assert_int_eq(bind(other, (struct sockaddr *)&sll, sizeof(sll)), 0);
}

static void leave_netns(void)
{
	zt_port_close(port);
	port = NULL;
	if (other >= 0)
		close(other);
	other = -1;
	if (saved_ns >= 0) {
		ck_assert_int_eq(setns(saved_ns, CLONE_NEWNET), 0);
		close(saved_ns);
		saved_ns = -1;
	}
}

static struct zt_port *open_port(const char *name)
{
	struct zt_port *p = NULL;

	ck_assert_int_eq(zt_pcap_port_open(name, &p), 0);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* A test frame: ethertype 0x88b5, payload MARK + seq, padded to len. */
static size_t test_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint8_t seq,
			 size_t len)
{
	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = TEST_ETHERTYPE >> 8;
	f[13] = TEST_ETHERTYPE & 0xff;
	memcpy(f + 14, MARK, sizeof(MARK) - 1);
	f[14 + sizeof(MARK) - 1] = seq;
	return len;
}

/* The seq of a test frame, -1 for anything else (IPv6 chatter and the like). */
static int test_seq(const uint8_t *f, size_t len)
{
	if (len < 15 + sizeof(MARK) - 1 || f[12] != TEST_ETHERTYPE >> 8 ||
	    f[13] != (TEST_ETHERTYPE & 0xff) || memcmp(f + 14, MARK, sizeof(MARK) - 1) != 0)
		return -1;
	return f[14 + sizeof(MARK) - 1];
}

static void send_from_other(uint8_t seq, size_t len)
{
	uint8_t f[1500];

	ck_assert_uint_le(len, sizeof(f));
	test_frame(f, bcast, other_mac, seq, len);
	ck_assert_int_eq(send(other, f, len, 0), (ssize_t)len);
}

/* Wait for the test frame with seq arriving (not leaving) on the far end. */
static bool other_receives(uint8_t seq)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	uint8_t f[2048];

	while (now_ms() < deadline) {
		struct pollfd pfd = {.fd = other, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		poll(&pfd, 1, 50);
		n = recvfrom(other, f, sizeof(f), 0, (struct sockaddr *)&from, &flen);
		if (n > 0 && from.sll_pkttype != PACKET_OUTGOING && test_seq(f, (size_t)n) == seq)
			return true;
	}
	return false;
}

/* Read batches of up to n from the port for ms; count the test frames by seq. */
static int port_collects(size_t n, int ms, int seen[256])
{
	static uint8_t bufs[ZT_PORT_BATCH_MAX][ZT_PORT_FRAME_MAX];
	struct zt_port_frame frames[ZT_PORT_BATCH_MAX];
	uint64_t deadline = now_ms() + (uint64_t)ms;
	int total = 0;

	memset(seen, 0, 256 * sizeof(int));
	while (now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(port), .events = POLLIN};
		int got;

		poll(&pfd, 1, 20);
		for (size_t i = 0; i < n; i++)
			frames[i] = (struct zt_port_frame){.data = bufs[i], .cap = sizeof(bufs[i])};
		got = zt_port_read_batch(port, frames, n);
		ck_assert_int_ge(got, 0);
		ck_assert_int_le(got, (int)n);
		for (int i = 0; i < got; i++) {
			int seq = test_seq(frames[i].data, frames[i].len);

			if (seq >= 0) {
				seen[seq]++;
				total++;
			}
		}
	}
	return total;
}

START_TEST(injected_frame_arrives_on_the_other_end_and_is_not_read_back)
{
	uint8_t f[64];
	int seen[256];

	port = open_port("ztpa");
	test_frame(f, other_mac, port->mac.b, 7, sizeof(f));
	ck_assert_int_eq(zt_port_write(port, f, sizeof(f)), 0);
	ck_assert(other_receives(7));
	ck_assert_uint_eq(port->stats.tx_frames, 1);
	/* Inbound only: the port does not capture what it injected. */
	ck_assert_int_eq(port_collects(8, 200, seen), 0);
}
END_TEST

START_TEST(frame_sent_from_the_other_end_is_captured_whole)
{
	static uint8_t buf[ZT_PORT_FRAME_MAX];
	struct zt_port_frame fr = {.data = buf, .cap = sizeof(buf)};
	uint64_t deadline;
	bool found = false;

	port = open_port("ztpa");
	send_from_other(3, 600);
	deadline = now_ms() + WAIT_MS;
	while (!found && now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(port), .events = POLLIN};

		ck_assert_int_ge(poll(&pfd, 1, 100), 0);
		if (zt_port_read_batch(port, &fr, 1) == 1 && test_seq(buf, fr.len) == 3)
			found = true;
	}
	ck_assert(found);
	ck_assert_uint_eq(fr.len, 600);
	ck_assert_mem_eq(buf + 6, other_mac, 6);
}
END_TEST

START_TEST(read_batch_takes_several_captured_frames_capped_at_n)
{
	static uint8_t bufs[3][ZT_PORT_FRAME_MAX];
	struct zt_port_frame frames[3];
	int seen[256], got = 0, rest;

	port = open_port("ztpa");
	for (uint8_t seq = 1; seq <= 5; seq++)
		send_from_other(seq, 100);
	usleep(100 * 1000); /* all five are in the ring */
	/* IPv6 chatter on the veth may come first: count only ours. */
	for (int round = 0; round < 10 && got < 3; round++) {
		int n;

		for (int i = 0; i < 3; i++)
			frames[i] = (struct zt_port_frame){.data = bufs[i], .cap = sizeof(bufs[i])};
		n = zt_port_read_batch(port, frames, 3);
		ck_assert_int_le(n, 3);
		for (int i = 0; i < n; i++)
			got += test_seq(frames[i].data, frames[i].len) > 0;
		if (round == 0)
			ck_assert_int_eq(n, 3);
	}
	ck_assert_int_eq(got, 3);
	rest = port_collects(ZT_PORT_BATCH_MAX, 200, seen);
	ck_assert_int_eq(got + rest, 5);
	ck_assert_int_eq(seen[4] + seen[5], 2);
}
END_TEST

START_TEST(frame_larger_than_the_buffer_is_dropped_and_counted)
{
	uint8_t small[100];
	struct zt_port_frame fr = {.data = small, .cap = sizeof(small)};
	uint64_t deadline;
	int n = 0;

	port = open_port("ztpa");
	send_from_other(9, 500);
	deadline = now_ms() + WAIT_MS;
	while (port->stats.rx_dropped == 0 && now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(port), .events = POLLIN};

		poll(&pfd, 1, 50);
		n = zt_port_read_batch(port, &fr, 1);
		ck_assert_int_ge(n, 0);
		if (n == 1)
			ck_assert_int_eq(test_seq(small, fr.len), -1); /* chatter, never ours */
	}
	ck_assert_uint_eq(port->stats.rx_dropped, 1);
}
END_TEST

START_TEST(nic_settings_belong_to_the_os_and_are_refused)
{
	struct zt_port_prefix a, net;
	struct zt_port_mac groups[4];
	char out[512] = "", link[32];
	size_t count = 9;
	FILE *f;

	port = open_port("ztpa");
	ck_assert_str_eq(port->kind, "pcap");
	ck_assert_str_eq(port->name, "ztpa");
	ck_assert_uint_eq(port->mtu_bytes, 1500);
	f = popen("ip -o link show dev ztpa", "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(fread(out, 1, sizeof(out) - 1, f), 0);
	pclose(f);
	memcpy(link, "link/ether ", 11);
	zt_port_mac_format(&port->mac, link + 11, sizeof(link) - 11);
	ck_assert_ptr_nonnull(strstr(out, link)); /* the NIC's own MAC */
	ck_assert_int_eq(zt_port_prefix_parse(&a, "10.147.17.5/24"), 0);
	ck_assert_int_eq(zt_port_prefix_parse(&net, "10.200.0.0/16"), 0);
	ck_assert_int_eq(zt_port_set_mtu(port, 2800), ZT_EPERM);
	ck_assert_int_eq(zt_port_addr_add(port, &a), ZT_EPERM);
	ck_assert_int_eq(zt_port_addr_del(port, &a), ZT_EPERM);
	ck_assert_int_eq(zt_port_route_add(port, &net, NULL), ZT_EPERM);
	ck_assert_int_eq(zt_port_route_del(port, &net, NULL), ZT_EPERM);
	ck_assert_int_eq(zt_port_set_up(port, true), 0); /* already up: nothing to do */
	ck_assert_int_eq(zt_port_set_up(port, false), ZT_EPERM);
	ck_assert_int_eq(zt_port_multicast_list(port, groups, 4, &count), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_int_ne(fcntl(zt_port_fd(port), F_GETFL) & O_NONBLOCK, 0);
}
END_TEST

START_TEST(missing_or_non_ethernet_interface_is_refused)
{
	struct zt_port *p = NULL;

	ck_assert_int_eq(zt_pcap_port_open("ztnothere", &p), ZT_ENOENT);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(zt_pcap_port_open("lo", &p), ZT_EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(zt_pcap_port_open("", &p), ZT_EINVAL);
	ck_assert_int_eq(zt_pcap_port_open("ztaaaaaaaaaaaaaaaa", &p), ZT_EINVAL);
	ck_assert_int_eq(zt_pcap_port_open(NULL, &p), ZT_EINVAL);
}
END_TEST

static Suite *tap_pcap_suite(void)
{
	Suite *s = suite_create("tap_pcap");
	TCase *tc = tcase_create("pcap_port");

	tcase_add_checked_fixture(tc, enter_netns_with_veth, leave_netns);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, injected_frame_arrives_on_the_other_end_and_is_not_read_back);
	tcase_add_test(tc, frame_sent_from_the_other_end_is_captured_whole);
	tcase_add_test(tc, read_batch_takes_several_captured_frames_capped_at_n);
	tcase_add_test(tc, frame_larger_than_the_buffer_is_dropped_and_counted);
	tcase_add_test(tc, nic_settings_belong_to_the_os_and_are_refused);
	tcase_add_test(tc, missing_or_non_ethernet_interface_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(tap_pcap_suite)
