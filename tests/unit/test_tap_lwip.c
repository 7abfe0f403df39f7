/*
 * test_tap_lwip.c - tap/lwip_port.c: lwIP as a port, no root needed. Frames
 * written into the port reach lwIP, which answers ARP, ICMP echo and IPv6
 * neighbour solicitation for its addresses at once; its answers come back
 * through the eventfd-signalled queue, in batches, with overflow counted;
 * its multicast groups are listed; what lwIP cannot do is ZT_EPERM.
 */
#include "check_main.h"
#include "tap/lwip_port.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 2000 /* lwIP answers within microseconds; this only bounds a failure */

static const struct zt_port_mac port_mac = {{0x02, 0x5a, 0x54, 0x00, 0x00, 0x01}};
static const struct zt_port_mac peer_mac = {{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}};
static const uint8_t port_ip[4] = {10, 147, 17, 5};
static const uint8_t peer_ip[4] = {10, 147, 17, 9};
/* fd00:5a54::5 and fd00:5a54::9 */
static const uint8_t port_ip6[16] = {0xfd, 0x00, 0x5a, 0x54, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
static const uint8_t peer_ip6[16] = {0xfd, 0x00, 0x5a, 0x54, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};

static struct zt_port *port;

static void no_port(void)
{
	port = NULL;
}

static void close_port(void)
{
	zt_port_close(port);
	port = NULL;
}

static struct zt_port *open_port(unsigned mtu)
{
	struct zt_lwip_config cfg = {.mac = port_mac, .mtu_bytes = mtu};
	struct zt_port *p = NULL;

	ck_assert_int_eq(zt_lwip_port_open(&cfg, &p), 0);
	ck_assert_ptr_nonnull(p);
	return p;
}

static struct zt_port_prefix pfx(const char *text)
{
	struct zt_port_prefix p;

	ck_assert_int_eq(zt_port_prefix_parse(&p, text), 0);
	return p;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- frames ---- */

static size_t put_eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, peer_mac.b, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static uint32_t sum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static void put_sum(uint8_t *at, uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	at[0] = (uint8_t)(sum >> 8);
	at[1] = (uint8_t)sum;
}

static size_t arp_request(uint8_t *f)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
	size_t n = put_eth(f, bcast, 0x0806);

	memcpy(f + n, hdr, 8);
	memcpy(f + n + 8, peer_mac.b, 6);
	memcpy(f + n + 14, peer_ip, 4);
	memset(f + n + 18, 0, 6);
	memcpy(f + n + 24, port_ip, 4);
	return n + 28;
}

static size_t icmp_echo(uint8_t *f, uint16_t seq)
{
	size_t n = put_eth(f, port_mac.b, 0x0800);
	uint8_t *iph = f + n, *icmp = iph + 20;
	size_t total = 20 + 8 + 32;

	memset(iph, 0, total);
	iph[0] = 0x45;
	iph[2] = (uint8_t)(total >> 8);
	iph[3] = (uint8_t)total;
	iph[8] = 64;
	iph[9] = 1;
	memcpy(iph + 12, peer_ip, 4);
	memcpy(iph + 16, port_ip, 4);
	put_sum(iph + 10, sum_add(0, iph, 20));
	icmp[0] = 8;
	icmp[4] = 0x7a;
	icmp[5] = 0x7a;
	icmp[6] = (uint8_t)(seq >> 8);
	icmp[7] = (uint8_t)seq;
	memset(icmp + 8, 0x5a, 32);
	put_sum(icmp + 2, sum_add(0, icmp, 40));
	return n + total;
}

/* Neighbour solicitation for fd00:5a54::5 from fd00:5a54::9, with our MAC. */
static size_t neighbor_solicit(uint8_t *f)
{
	static const uint8_t dst_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x05};
	static const uint8_t snm[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 5};
	size_t n = put_eth(f, dst_mac, 0x86dd);
	uint8_t *ip6 = f + n, *icmp = ip6 + 40;
	uint8_t pseudo[40] = {0};

	memset(ip6, 0, 40 + 32);
	ip6[0] = 0x60;
	ip6[5] = 32; /* payload: NS (24) + source link-layer option (8) */
	ip6[6] = 58;
	ip6[7] = 255;
	memcpy(ip6 + 8, peer_ip6, 16);
	memcpy(ip6 + 24, snm, 16);
	icmp[0] = 135;
	memcpy(icmp + 8, port_ip6, 16);
	icmp[24] = 1;
	icmp[25] = 1;
	memcpy(icmp + 26, peer_mac.b, 6);
	memcpy(pseudo, ip6 + 8, 32);
	pseudo[35] = 32;
	pseudo[39] = 58;
	put_sum(icmp + 2, sum_add(sum_add(0, pseudo, 40), icmp, 32));
	return n + 40 + 32;
}

static bool is_arp_reply(const struct zt_port_frame *f)
{
	const uint8_t *d = f->data;

	return f->len >= 42 && d[12] == 0x08 && d[13] == 0x06 && d[21] == 2 &&
	       memcmp(d, peer_mac.b, 6) == 0 && memcmp(d + 22, port_mac.b, 6) == 0 &&
	       memcmp(d + 28, port_ip, 4) == 0 && memcmp(d + 38, peer_ip, 4) == 0;
}

static bool is_echo_reply(const struct zt_port_frame *f)
{
	const uint8_t *d = f->data;

	return f->len >= 42 && d[12] == 0x08 && d[13] == 0x00 && d[23] == 1 &&
	       memcmp(d, peer_mac.b, 6) == 0 && memcmp(d + 26, port_ip, 4) == 0 &&
	       memcmp(d + 30, peer_ip, 4) == 0 && d[34] == 0 && d[38] == 0x7a;
}

static bool is_neighbor_advert(const struct zt_port_frame *f)
{
	const uint8_t *d = f->data;

	return f->len >= 78 && d[12] == 0x86 && d[13] == 0xdd && d[20] == 58 && d[54] == 136 &&
	       memcmp(d, peer_mac.b, 6) == 0 && memcmp(d + 62, port_ip6, 16) == 0;
}

static int read_until(bool (*match)(const struct zt_port_frame *), int want)
{
	static uint8_t bufs[8][ZT_PORT_FRAME_MAX];
	struct zt_port_frame frames[8];
	uint64_t deadline = now_ms() + WAIT_MS;
	int seen = 0;

	while (seen < want && now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(port), .events = POLLIN};
		int n;

		poll(&pfd, 1, 50);
		for (int i = 0; i < 8; i++)
			frames[i] = (struct zt_port_frame){.data = bufs[i], .cap = sizeof(bufs[i])};
		n = zt_port_read_batch(port, frames, 8);
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++)
			seen += match(&frames[i]);
	}
	return seen;
}

static void configure_ipv4(void)
{
	struct zt_port_prefix a = pfx("10.147.17.5/24");
	uint8_t f[64];

	ck_assert_int_eq(zt_port_set_up(port, true), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), 0);
	ck_assert_int_eq(zt_port_write(port, f, arp_request(f)), 0);
	ck_assert_int_eq(read_until(is_arp_reply, 1), 1);
}

static bool has_group(const char *text)
{
	struct zt_port_mac groups[ZT_PORT_MCAST_MAX];
	size_t count = 0;
	char mac[18];

	ck_assert_int_eq(zt_port_multicast_list(port, groups, ZT_ARRAY_LEN(groups), &count), 0);
	for (size_t i = 0; i < count; i++) {
		zt_port_mac_format(&groups[i], mac, sizeof(mac));
		if (strcmp(mac, text) == 0)
			return true;
	}
	return false;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* ---- the tests ---- */

START_TEST(opens_named_by_lwip_with_mac_mtu_and_a_quiet_nonblocking_fd)
{
	static uint8_t buf[ZT_PORT_FRAME_MAX];
	struct zt_port_frame fr = {.data = buf, .cap = sizeof(buf)};

	port = open_port(0);
	ck_assert_str_eq(port->kind, "lwip");
	ck_assert_int_eq(strncmp(port->name, "zl", 2), 0);
	ck_assert_uint_eq(port->mtu_bytes, ZT_LWIP_MTU_DEFAULT);
	ck_assert_mem_eq(port->mac.b, port_mac.b, 6);
	ck_assert_ptr_nonnull(zt_lwip_port_netif(port));
	ck_assert_int_ne(fcntl(zt_port_fd(port), F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(zt_port_read_batch(port, &fr, 1), 0);
	ck_assert_int_eq(zt_port_set_mtu(port, 1280), 0);
	ck_assert_uint_eq(port->mtu_bytes, 1280);
	ck_assert_int_eq(zt_port_set_mtu(port, 1279), ZT_EINVAL);
}
END_TEST

START_TEST(bad_configs_are_refused)
{
	struct zt_lwip_config cfg = {.mac = {{0x03, 0, 0, 0, 0, 1}}};
	struct zt_port *p = NULL;

	ck_assert_int_eq(zt_lwip_port_open(&cfg, &p), ZT_EINVAL);
	cfg.mac = (struct zt_port_mac){{0}};
	ck_assert_int_eq(zt_lwip_port_open(&cfg, &p), ZT_EINVAL);
	cfg.mac = port_mac;
	cfg.mtu_bytes = 10001;
	ck_assert_int_eq(zt_lwip_port_open(&cfg, &p), ZT_EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(answers_arp_and_pings_and_read_batch_takes_several)
{
	static uint8_t bufs[2][ZT_PORT_FRAME_MAX];
	struct zt_port_frame two[2] = {{.data = bufs[0], .cap = sizeof(bufs[0])},
				       {.data = bufs[1], .cap = sizeof(bufs[1])}};
	uint8_t f[128];
	uint64_t deadline;
	int echoes = 0, n = 0;

	port = open_port(0);
	configure_ipv4();
	read_until(is_echo_reply, 1); /* drain the chatter lwIP sends on coming up */
	for (uint16_t seq = 1; seq <= 4; seq++)
		ck_assert_int_eq(zt_port_write(port, f, icmp_echo(f, seq)), 0);
	deadline = now_ms() + WAIT_MS;
	while (n != 2 && now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(port), .events = POLLIN};

		poll(&pfd, 1, 50);
		usleep(20 * 1000); /* let more than one answer queue */
		n = zt_port_read_batch(port, two, 2);
		echoes += (n > 0 && is_echo_reply(&two[0])) + (n > 1 && is_echo_reply(&two[1]));
	}
	ck_assert_int_eq(n, 2); /* capped at n */
	echoes += read_until(is_echo_reply, 4 - echoes);
	ck_assert_int_eq(echoes, 4);
	ck_assert_uint_ge(port->stats.rx_frames, 5);
	ck_assert_uint_ge(port->stats.tx_frames, 5);
}
END_TEST

START_TEST(ipv6_address_answers_neighbor_solicitation_at_once)
{
	struct zt_port_prefix a = pfx("fd00:5a54::5/64");
	uint8_t f[128];

	port = open_port(0);
	ck_assert_int_eq(zt_port_set_up(port, true), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), ZT_EEXIST);
	ck_assert_int_eq(zt_port_write(port, f, neighbor_solicit(f)), 0);
	ck_assert_int_eq(read_until(is_neighbor_advert, 1), 1);
	ck_assert_int_eq(zt_port_addr_del(port, &a), 0);
	ck_assert_int_eq(zt_port_addr_del(port, &a), ZT_ENOENT);
}
END_TEST

START_TEST(stack_groups_show_up_in_memberships)
{
	struct zt_port_prefix a = pfx("fd00:5a54::5/64");
	struct zt_port_mac one;
	size_t count = 0;

	port = open_port(0);
	ck_assert_int_eq(zt_port_set_up(port, true), 0);
	ck_assert(has_group("01:00:5e:00:00:01")); /* IPv4 all-systems */
	ck_assert(has_group("33:33:00:00:00:01")); /* IPv6 all-nodes */
	ck_assert(has_group("33:33:ff:00:00:01")); /* solicited-node of the link-local */
	ck_assert(!has_group("33:33:ff:00:00:05"));
	ck_assert_int_eq(zt_port_addr_add(port, &a), 0);
	ck_assert(has_group("33:33:ff:00:00:05"));
	ck_assert_int_eq(zt_port_multicast_list(port, &one, 1, &count), ZT_ETOOBIG);
	ck_assert_uint_eq(count, 1);
}
END_TEST

START_TEST(one_ipv4_address_and_only_the_default_route)
{
	struct zt_port_prefix a = pfx("10.147.17.5/24"), b = pfx("10.147.18.5/24");
	struct zt_port_prefix any = pfx("0.0.0.0/0"), connected = pfx("10.147.17.0/24");
	struct zt_port_prefix other = pfx("10.200.0.0/16"), v6 = pfx("fd00:77::/48");
	struct zt_port_ip gw, gw6;

	ck_assert_int_eq(zt_port_ip_parse(&gw, "10.147.17.1"), 0);
	ck_assert_int_eq(zt_port_ip_parse(&gw6, "fd00:5a54::1"), 0);
	port = open_port(0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), ZT_EEXIST);
	ck_assert_int_eq(zt_port_addr_add(port, &b), ZT_EPERM);
	ck_assert_int_eq(zt_port_route_add(port, &connected, NULL), ZT_EEXIST);
	ck_assert_int_eq(zt_port_route_add(port, &any, &gw), 0);
	ck_assert_int_eq(zt_port_route_add(port, &any, &gw), ZT_EEXIST);
	ck_assert_int_eq(zt_port_route_del(port, &any, &gw), 0);
	ck_assert_int_eq(zt_port_route_del(port, &any, &gw), ZT_ENOENT);
	ck_assert_int_eq(zt_port_route_add(port, &other, &gw), ZT_EPERM);
	ck_assert_int_eq(zt_port_route_add(port, &v6, &gw6), ZT_EPERM);
	ck_assert_int_eq(zt_port_addr_del(port, &a), 0);
	ck_assert_int_eq(zt_port_addr_del(port, &a), ZT_ENOENT);
	ck_assert_int_eq(zt_port_addr_add(port, &b), 0);
}
END_TEST

START_TEST(full_queue_drops_and_counts)
{
	const int sent = ZT_LWIP_QUEUE_FRAMES + 16;
	uint8_t f[128];
	uint64_t deadline;
	int replies = 0;

	port = open_port(0);
	configure_ipv4();
	read_until(is_echo_reply, 1); /* drain what lwIP said on coming up */
	port->stats.rx_dropped = 0;
	/* Nobody reads while lwIP answers, so the queue fills and then drops. */
	for (int seq = 1; seq <= sent; seq++) {
		int err, tries = 0;

		while ((err = zt_port_write(port, f, icmp_echo(f, (uint16_t)seq))) == ZT_EAGAIN &&
		       ++tries < 1000)
			usleep(1000); /* lwIP's mailbox is full: let its thread catch up */
		ck_assert_int_eq(err, 0);
	}
	/* lwIP answers in its own thread: wait until it answered every request before
	 * reading, or a read frees slots for answers still to come (seen under load). */
	deadline = now_ms() + WAIT_MS;
	while (zt_lwip_port_unread(port) < (uint64_t)sent && now_ms() < deadline)
		usleep(1000);
	deadline = now_ms() + WAIT_MS;
	while (replies + (int)port->stats.rx_dropped < sent && now_ms() < deadline)
		replies += read_until(is_echo_reply, 1);
	/* every answer was either read or dropped and counted; frames lwIP sent on its
	 * own (a neighbour solicitation, say) may add to the drops, never take away */
	ck_assert_int_ge(replies + (int)port->stats.rx_dropped, sent);
	ck_assert_int_le(replies + (int)port->stats.rx_dropped, sent + 4);
	ck_assert_int_le(replies, ZT_LWIP_QUEUE_FRAMES);
	ck_assert_uint_ge(port->stats.rx_dropped, 16);
}
END_TEST

START_TEST(two_ports_coexist_and_close_releases_everything)
{
	int before = open_fds();
	struct zt_port *a = open_port(0), *b = open_port(0);

	ck_assert_str_ne(a->name, b->name);
	zt_port_close(a);
	zt_port_close(b);
	ck_assert_int_eq(open_fds(), before);
}
END_TEST

static Suite *tap_lwip_suite(void)
{
	Suite *s = suite_create("tap_lwip");
	TCase *tc = tcase_create("lwip_port");

	tcase_add_checked_fixture(tc, no_port, close_port);
	tcase_add_test(tc, opens_named_by_lwip_with_mac_mtu_and_a_quiet_nonblocking_fd);
	tcase_add_test(tc, bad_configs_are_refused);
	tcase_add_test(tc, answers_arp_and_pings_and_read_batch_takes_several);
	tcase_add_test(tc, ipv6_address_answers_neighbor_solicitation_at_once);
	tcase_add_test(tc, stack_groups_show_up_in_memberships);
	tcase_add_test(tc, one_ipv4_address_and_only_the_default_route);
	tcase_add_test(tc, full_queue_drops_and_counts);
	tcase_add_test(tc, two_ports_coexist_and_close_releases_everything);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(tap_lwip_suite)
