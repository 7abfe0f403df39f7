/*
 * test_tap.c - tap/port.c and tap/linux_tap.c: a real TAP in a fresh network
 * namespace per test (unshare, left by setns in the teardown, so it and the
 * TAP vanish with it): name, MAC, MTU, up/down, IPv4/IPv6 addresses and routes
 * read back with ip(8), the kernel answering ARP and ICMP written into the
 * TAP, batched reads, and the OS's multicast groups showing up. Needs root.
 */
#include "check_main.h"
#include "tap/linux_tap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 2000 /* the kernel answers within microseconds; this only bounds a failure */
#define CMD_OUT_MAX 8192
#define DAD_SKIPPED_MS 500 /* well under one DAD round (RetransTimer, 1 s) */

static const struct zt_port_mac tap_mac = {{0x02, 0x5a, 0x54, 0x00, 0x00, 0x01}};
static const struct zt_port_mac peer_mac = {{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}};
static const uint8_t tap_ip[4] = {10, 147, 17, 5};
static const uint8_t peer_ip[4] = {10, 147, 17, 9};

static int saved_ns = -1;
static struct zt_port *port;

static void enter_fresh_netns(void)
{
	saved_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(saved_ns, 0);
	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	port = NULL;
}

static void leave_netns(void)
{
	zt_port_close(port);
	port = NULL;
	if (saved_ns >= 0) {
		ck_assert_int_eq(setns(saved_ns, CLONE_NEWNET), 0);
		close(saved_ns);
		saved_ns = -1;
	}
}

static struct zt_port *open_tap(const char *name, unsigned mtu)
{
	struct zt_tap_config cfg = {.name = name, .mac = tap_mac, .mtu_bytes = mtu};
	struct zt_port *p = NULL;

	ck_assert_int_eq(zt_tap_open(&cfg, &p), 0);
	ck_assert_ptr_nonnull(p);
	return p;
}

static struct zt_port_prefix pfx(const char *text)
{
	struct zt_port_prefix p;

	ck_assert_int_eq(zt_port_prefix_parse(&p, text), 0);
	return p;
}

static struct zt_port_ip ip(const char *text)
{
	struct zt_port_ip a;

	ck_assert_int_eq(zt_port_ip_parse(&a, text), 0);
	return a;
}

/* Run a shell command in this namespace and keep at most CMD_OUT_MAX-1 bytes of its output. */
static void run(char *out, const char *cmd)
{
	FILE *f = popen(cmd, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(out, 1, CMD_OUT_MAX - 1, f);
	out[n] = '\0';
	pclose(f);
}

static void run_fmt(char *out, const char *fmt, const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), fmt, name);
	run(out, cmd);
}

static void ipv6_off(const char *name)
{
	char out[CMD_OUT_MAX];

	run_fmt(out, "echo 1 > /proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
}

static int link_flags(const char *name)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(s, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	close(s);
	return ifr.ifr_flags;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- frames the test writes and the replies it looks for ---- */

static size_t put_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
	return 14;
}

static size_t arp_request(uint8_t *f)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */
	size_t n = put_eth(f, bcast, peer_mac.b, 0x0806);

	memcpy(f + n, hdr, 8);
	memcpy(f + n + 8, peer_mac.b, 6);
	memcpy(f + n + 14, peer_ip, 4);
	memset(f + n + 18, 0, 6);
	memcpy(f + n + 24, tap_ip, 4);
	return n + 28;
}

static uint16_t inet_sum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_sum(uint8_t *at, uint16_t sum)
{
	at[0] = (uint8_t)(sum >> 8);
	at[1] = (uint8_t)sum;
}

/* An ICMP echo request to the TAP's address from the fake peer, id 0x7a7a. */
static size_t icmp_echo(uint8_t *f, uint16_t seq, size_t payload)
{
	size_t n = put_eth(f, tap_mac.b, peer_mac.b, 0x0800);
	uint8_t *iph = f + n, *icmp = iph + 20;
	size_t total = 20 + 8 + payload;

	memset(iph, 0, total);
	iph[0] = 0x45;
	put_sum(iph + 2, (uint16_t)total);
	iph[8] = 64;
	iph[9] = 1;
	memcpy(iph + 12, peer_ip, 4);
	memcpy(iph + 16, tap_ip, 4);
	put_sum(iph + 10, inet_sum(iph, 20));
	icmp[0] = 8;
	icmp[4] = 0x7a;
	icmp[5] = 0x7a;
	put_sum(icmp + 6, seq);
	memset(icmp + 8, 0x5a, payload);
	put_sum(icmp + 2, inet_sum(icmp, 8 + payload));
	return n + total;
}

static bool is_arp_reply(const struct zt_port_frame *f)
{
	const uint8_t *d = f->data;

	return f->len >= 42 && d[12] == 0x08 && d[13] == 0x06 && d[20] == 0 && d[21] == 2 &&
	       memcmp(d, peer_mac.b, 6) == 0 && memcmp(d + 22, tap_mac.b, 6) == 0 &&
	       memcmp(d + 28, tap_ip, 4) == 0 && memcmp(d + 32, peer_mac.b, 6) == 0 &&
	       memcmp(d + 38, peer_ip, 4) == 0;
}

static bool is_echo_reply(const struct zt_port_frame *f)
{
	const uint8_t *d = f->data;

	return f->len >= 42 && d[12] == 0x08 && d[13] == 0x00 && d[23] == 1 &&
	       memcmp(d, peer_mac.b, 6) == 0 && memcmp(d + 6, tap_mac.b, 6) == 0 &&
	       memcmp(d + 26, tap_ip, 4) == 0 && memcmp(d + 30, peer_ip, 4) == 0 &&
	       d[34] == 0 && d[38] == 0x7a && d[39] == 0x7a;
}

/* Read until match() has matched want frames or WAIT_MS passes; returns the matches. */
static int read_until(struct zt_port *p, bool (*match)(const struct zt_port_frame *), int want)
{
	static uint8_t bufs[8][ZT_PORT_FRAME_MAX];
	struct zt_port_frame frames[8];
	uint64_t deadline = now_ms() + WAIT_MS;
	int seen = 0;

	while (seen < want && now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(p), .events = POLLIN};
		int n;

		poll(&pfd, 1, (int)(deadline - now_ms()) + 1);
		for (int i = 0; i < 8; i++)
			frames[i] = (struct zt_port_frame){.data = bufs[i], .cap = sizeof(bufs[i])};
		n = zt_port_read_batch(p, frames, 8);
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++)
			seen += match(&frames[i]);
	}
	return seen;
}

static void configure_ipv4(struct zt_port *p)
{
	struct zt_port_prefix a = pfx("10.147.17.5/24");

	ck_assert_int_eq(zt_port_set_up(p, true), 0);
	ck_assert_int_eq(zt_port_addr_add(p, &a), 0);
}

/* ---- the tests ---- */

START_TEST(pattern_name_gets_a_number_and_mac_mtu_are_applied)
{
	struct ifreq ifr;
	char out[CMD_OUT_MAX];
	int s;

	port = open_tap("zttest%d", 2800);
	ck_assert_str_eq(port->name, "zttest0");
	ck_assert_str_eq(port->kind, "tap");
	ck_assert_uint_ne(if_nametoindex("zttest0"), 0);
	ck_assert_uint_eq(port->mtu_bytes, 2800);
	ck_assert_mem_eq(port->mac.b, tap_mac.b, 6);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "zttest0");
	ck_assert_int_eq(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
	ck_assert_mem_eq(ifr.ifr_hwaddr.sa_data, tap_mac.b, 6);
	ck_assert_int_eq(ioctl(s, SIOCGIFMTU, &ifr), 0);
	ck_assert_int_eq(ifr.ifr_mtu, 2800);
	close(s);

	ck_assert_int_ne(fcntl(zt_port_fd(port), F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_eq(link_flags("zttest0") & IFF_UP, 0); /* left down until asked */
	ck_assert_int_ne(link_flags("zttest0") & IFF_MULTICAST, 0);
	run_fmt(out, "cat /proc/sys/net/ipv6/conf/%s/accept_dad", port->name);
	ck_assert_str_eq(out, "0\n");
}
END_TEST

START_TEST(default_name_and_mtu_when_not_given)
{
	struct zt_tap_config cfg = {.mac = tap_mac};

	ck_assert_int_eq(zt_tap_open(&cfg, &port), 0);
	ck_assert_str_eq(port->name, "zt0");
	ck_assert_uint_eq(port->mtu_bytes, ZT_TAP_MTU_DEFAULT);
}
END_TEST

START_TEST(existing_interface_name_is_refused_not_taken_over)
{
	struct zt_tap_config cfg = {.name = "ztexact", .mac = tap_mac};
	struct zt_port *second = (struct zt_port *)&cfg;

	port = open_tap("ztexact", 0);
	ck_assert_int_eq(zt_tap_open(&cfg, &second), ZT_EEXIST);
	ck_assert_ptr_null(second);
	cfg.name = "lo";
	ck_assert_int_eq(zt_tap_open(&cfg, &second), ZT_EEXIST);
	ck_assert_uint_ne(if_nametoindex("ztexact"), 0);
}
END_TEST

START_TEST(bad_configs_are_refused)
{
	static const struct {
		const char *name;
		struct zt_port_mac mac;
		unsigned mtu;
	} bad[] = {
		{"zt%d", {{0x03, 0, 0, 0, 0, 1}}, 0}, /* multicast MAC */
		{"zt%d", {{0, 0, 0, 0, 0, 0}}, 0}, /* zero MAC */
		{"zt%d", {{0x02, 0, 0, 0, 0, 1}}, 1279},
		{"zt%d", {{0x02, 0, 0, 0, 0, 1}}, 10001},
		{"zt/0", {{0x02, 0, 0, 0, 0, 1}}, 0},
		{"zt %d", {{0x02, 0, 0, 0, 0, 1}}, 0},
		{"zt%d%d", {{0x02, 0, 0, 0, 0, 1}}, 0},
		{"zt%s", {{0x02, 0, 0, 0, 0, 1}}, 0},
		{"all", {{0x02, 0, 0, 0, 0, 1}}, 0},
		{"", {{0x02, 0, 0, 0, 0, 1}}, 0},
		{"ztaaaaaaaaaaaaaaaa", {{0x02, 0, 0, 0, 0, 1}}, 0}, /* 18 > IFNAMSIZ-1 */
	};
	struct zt_port *p = NULL;

	for (size_t i = 0; i < ZT_ARRAY_LEN(bad); i++) {
		struct zt_tap_config cfg = {.name = bad[i].name, .mac = bad[i].mac,
					    .mtu_bytes = bad[i].mtu};

		ck_assert_msg(zt_tap_open(&cfg, &p) == ZT_EINVAL, "case %zu", i);
		ck_assert_ptr_null(p);
	}
	ck_assert_int_eq(zt_tap_open(NULL, &p), ZT_EINVAL);
}
END_TEST

START_TEST(mtu_outside_1280_to_10000_is_refused_inside_applied)
{
	char out[CMD_OUT_MAX];

	port = open_tap("ztmtu", 0);
	ck_assert_int_eq(zt_port_set_mtu(port, 1279), ZT_EINVAL);
	ck_assert_int_eq(zt_port_set_mtu(port, 10001), ZT_EINVAL);
	ck_assert_uint_eq(port->mtu_bytes, ZT_TAP_MTU_DEFAULT);
	ck_assert_int_eq(zt_port_set_mtu(port, 1280), 0);
	ck_assert_uint_eq(port->mtu_bytes, 1280);
	ck_assert_int_eq(zt_port_set_mtu(port, 10000), 0);
	run(out, "ip -o link show dev ztmtu");
	ck_assert_ptr_nonnull(strstr(out, " mtu 10000 "));
}
END_TEST

START_TEST(set_up_brings_the_link_up_and_down)
{
	port = open_tap("ztupdown", 0);
	ck_assert_int_eq(zt_port_set_up(port, true), 0);
	ck_assert_int_ne(link_flags("ztupdown") & IFF_UP, 0);
	ck_assert_int_eq(zt_port_set_up(port, false), 0);
	ck_assert_int_eq(link_flags("ztupdown") & IFF_UP, 0);
}
END_TEST

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

START_TEST(close_removes_the_interface_and_releases_every_descriptor)
{
	int before = open_fds();
	struct zt_port *p = open_tap("ztgone", 0);

	ck_assert_uint_ne(if_nametoindex("ztgone"), 0);
	ck_assert_int_gt(open_fds(), before);
	zt_port_close(p);
	ck_assert_uint_eq(if_nametoindex("ztgone"), 0);
	ck_assert_int_eq(open_fds(), before);
	zt_port_close(NULL);
}
END_TEST

START_TEST(ipv4_address_and_routes_show_up_and_go_away)
{
	struct zt_port_prefix a = pfx("10.147.17.5/24");
	struct zt_port_prefix via_net = pfx("10.200.0.0/16"), link_net = pfx("10.201.0.0/16");
	struct zt_port_prefix sloppy = pfx("10.202.1.1/16");
	struct zt_port_ip gw = ip("10.147.17.1"), gw6 = ip("fd00::1");
	char out[CMD_OUT_MAX];

	port = open_tap("ztv4", 0);
	ck_assert_int_eq(zt_port_route_add(port, &link_net, NULL), ZT_ESTATE); /* down */
	ck_assert_int_eq(zt_port_set_up(port, true), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), ZT_EEXIST);
	run(out, "ip -o -4 addr show dev ztv4");
	ck_assert_ptr_nonnull(strstr(out, "inet 10.147.17.5/24 brd 10.147.17.255 "));

	ck_assert_int_eq(zt_port_route_add(port, &via_net, &gw), 0);
	ck_assert_int_eq(zt_port_route_add(port, &via_net, &gw), ZT_EEXIST);
	ck_assert_int_eq(zt_port_route_add(port, &link_net, NULL), 0);
	ck_assert_int_eq(zt_port_route_add(port, &sloppy, NULL), ZT_EINVAL);
	ck_assert_int_eq(zt_port_route_add(port, &via_net, &gw6), ZT_EINVAL);
	run(out, "ip -4 route show dev ztv4");
	ck_assert_ptr_nonnull(strstr(out, "10.200.0.0/16 via 10.147.17.1 proto static"));
	ck_assert_ptr_nonnull(strstr(out, "10.201.0.0/16 proto static scope link"));
	ck_assert_ptr_nonnull(strstr(out, "10.147.17.0/24 proto kernel scope link src 10.147.17.5"));

	ck_assert_int_eq(zt_port_route_del(port, &via_net, &gw), 0);
	ck_assert_int_eq(zt_port_route_del(port, &via_net, &gw), ZT_ENOENT);
	ck_assert_int_eq(zt_port_route_del(port, &link_net, NULL), 0);
	/* The kernel's own prefix route is not ours to delete. */
	ck_assert_int_eq(zt_port_route_del(port, &(struct zt_port_prefix){ip("10.147.17.0"), 24},
					   NULL),
			 ZT_ENOENT);
	run(out, "ip -4 route show dev ztv4");
	ck_assert_ptr_null(strstr(out, "10.200.0.0"));
	ck_assert_ptr_null(strstr(out, "10.201.0.0"));

	ck_assert_int_eq(zt_port_addr_del(port, &a), 0);
	ck_assert_int_eq(zt_port_addr_del(port, &a), ZT_ENOENT);
	run(out, "ip -o -4 addr show dev ztv4");
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(ipv6_address_is_usable_at_once_and_link_local_works)
{
	struct zt_port_prefix a = pfx("fd00:5a54::5/64"), net = pfx("fd00:77::/48");
	struct zt_port_ip gw = ip("fd00:5a54::1");
	struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
	char out[CMD_OUT_MAX];
	uint64_t deadline;
	int s;

	port = open_tap("ztv6", 0);
	ck_assert_int_eq(zt_port_set_up(port, true), 0);
	ck_assert_int_eq(zt_port_addr_add(port, &a), 0);
	/* Binding to a tentative address fails: this proves DAD was skipped. */
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memcpy(&sa.sin6_addr, a.ip.addr, 16);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);

	ck_assert_int_eq(zt_port_route_add(port, &net, &gw), 0);
	run(out, "ip -6 route show dev ztv6");
	ck_assert_ptr_nonnull(strstr(out, "fd00:77::/48 via fd00:5a54::1 proto static"));
	ck_assert_int_eq(zt_port_route_del(port, &net, &gw), 0);

	/* EUI-64 link-local from 02:5a:54:00:00:01: DAD skipped, so it leaves
	 * the tentative state as soon as the kernel's address work runs, not
	 * a DAD round (a second) later. */
	deadline = now_ms() + DAD_SKIPPED_MS;
	for (;;) {
		run(out, "ip -6 addr show dev ztv6");
		if (!strstr(out, "tentative") || now_ms() >= deadline)
			break;
		usleep(10 * 1000);
	}
	ck_assert_ptr_nonnull(strstr(out, "inet6 fe80::5a:54ff:fe00:1/64 scope link"));
	ck_assert_ptr_nonnull(strstr(out, "inet6 fd00:5a54::5/64 scope global"));
	ck_assert_ptr_null(strstr(out, "tentative"));
	ck_assert_int_eq(zt_port_addr_del(port, &a), 0);
}
END_TEST

START_TEST(kernel_answers_arp_for_the_tap_address)
{
	uint8_t f[64];

	port = open_tap("ztarp", 0);
	configure_ipv4(port);
	ck_assert_int_eq(zt_port_write(port, f, arp_request(f)), 0);
	ck_assert_int_eq(read_until(port, is_arp_reply, 1), 1);
	ck_assert_uint_ge(port->stats.tx_frames, 1);
	ck_assert_uint_ge(port->stats.rx_frames, 1);
}
END_TEST

START_TEST(kernel_answers_pings_and_read_batch_takes_several_frames)
{
	static uint8_t bufs[2][ZT_PORT_FRAME_MAX];
	struct zt_port_frame two[2] = {{.data = bufs[0], .cap = sizeof(bufs[0])},
				       {.data = bufs[1], .cap = sizeof(bufs[1])}};
	uint8_t f[128];
	int n, echoes = 0;

	port = open_tap("ztping", 0);
	/* Only IPv4 on this one, so the kernel sends nothing unasked. */
	ipv6_off("ztping");
	configure_ipv4(port);
	ck_assert_int_eq(zt_port_write(port, f, arp_request(f)), 0);
	ck_assert_int_eq(read_until(port, is_arp_reply, 1), 1);

	for (uint16_t seq = 1; seq <= 4; seq++)
		ck_assert_int_eq(zt_port_write(port, f, icmp_echo(f, seq, 32)), 0);
	usleep(100 * 1000); /* let all four replies queue */
	n = zt_port_read_batch(port, two, 2);
	ck_assert_int_eq(n, 2); /* capped at n */
	echoes += is_echo_reply(&two[0]) + is_echo_reply(&two[1]);
	echoes += read_until(port, is_echo_reply, 4 - echoes);
	ck_assert_int_eq(echoes, 4);
	ck_assert_int_eq(zt_port_read_batch(port, two, 2), 0); /* drained: nothing waits */
}
END_TEST

START_TEST(frame_larger_than_the_buffer_is_dropped_and_counted)
{
	static uint8_t small[200];
	struct zt_port_frame fr = {.data = small, .cap = sizeof(small)};
	uint8_t f[1200];
	uint64_t deadline;
	int n = 0;

	port = open_tap("ztbig", 0);
	ipv6_off("ztbig");
	configure_ipv4(port);
	ck_assert_int_eq(zt_port_write(port, f, arp_request(f)), 0);
	ck_assert_int_eq(read_until(port, is_arp_reply, 1), 1);
	ck_assert_int_eq(zt_port_write(port, f, icmp_echo(f, 9, 1000)), 0);
	deadline = now_ms() + WAIT_MS;
	while (port->stats.rx_dropped == 0 && now_ms() < deadline) {
		struct pollfd pfd = {.fd = zt_port_fd(port), .events = POLLIN};

		poll(&pfd, 1, 100);
		n += zt_port_read_batch(port, &fr, 1);
	}
	ck_assert_uint_eq(port->stats.rx_dropped, 1);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(write_and_read_arguments_and_state_are_checked)
{
	static uint8_t f[ZT_PORT_FRAME_MAX + 1];
	struct zt_port_frame fr = {.data = f, .cap = sizeof(f)};

	port = open_tap("ztargs", 1500);
	ck_assert_int_eq(zt_port_write(port, f, 60), ZT_ESTATE); /* down */
	ck_assert_uint_eq(port->stats.tx_dropped, 1);
	ck_assert_int_eq(zt_port_write(port, f, 13), ZT_EINVAL);
	ck_assert_int_eq(zt_port_write(port, f, 1500 + ZT_PORT_ETH_HDR_MAX + 1), ZT_ETOOBIG);
	ck_assert_int_eq(zt_port_read_batch(port, &fr, 0), ZT_EINVAL);
	ck_assert_int_eq(zt_port_read_batch(port, &fr, ZT_PORT_BATCH_MAX + 1), ZT_EINVAL);
	ck_assert_int_eq(zt_port_read_batch(port, &fr, 1), 0); /* quiet and down: nothing */
}
END_TEST

static bool has_group(struct zt_port *p, const char *text)
{
	struct zt_port_mac groups[ZT_PORT_MCAST_MAX];
	size_t count = 0;
	char mac[18];

	ck_assert_int_eq(zt_port_multicast_list(p, groups, ZT_ARRAY_LEN(groups), &count), 0);
	for (size_t i = 0; i < count; i++) {
		zt_port_mac_format(&groups[i], mac, sizeof(mac));
		if (strcmp(mac, text) == 0)
			return true;
	}
	return false;
}

/* IPv6 joins its groups from a work queue, a moment after the call. */
static bool has_group_soon(struct zt_port *p, const char *text)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (!has_group(p, text)) {
		if (now_ms() >= deadline)
			return false;
		usleep(10 * 1000);
	}
	return true;
}

START_TEST(groups_the_os_joins_show_up_in_memberships)
{
	struct zt_port_prefix a6 = pfx("fd00:5a54::5/64");
	struct ip_mreqn mreq = {.imr_multiaddr.s_addr = htonl(0xe00000fb)};
	struct zt_port_mac one;
	size_t count = 0;
	int s;

	port = open_tap("ztmcast", 0);
	configure_ipv4(port);
	ck_assert(!has_group(port, "01:00:5e:00:00:fb"));
	mreq.imr_ifindex = (int)if_nametoindex("ztmcast");
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)), 0);
	ck_assert(has_group(port, "01:00:5e:00:00:fb")); /* mDNS, as avahi would join */
	ck_assert(has_group(port, "01:00:5e:00:00:01")); /* all-hosts, always */
	ck_assert(has_group_soon(port, "33:33:00:00:00:01")); /* IPv6 all-nodes */

	ck_assert_int_eq(zt_port_addr_add(port, &a6), 0);
	ck_assert(has_group_soon(port, "33:33:ff:00:00:05")); /* solicited-node of fd00:5a54::5 */

	ck_assert_int_eq(setsockopt(s, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mreq, sizeof(mreq)), 0);
	close(s);
	ck_assert(!has_group(port, "01:00:5e:00:00:fb"));

	ck_assert_int_eq(zt_port_multicast_list(port, &one, 1, &count), ZT_ETOOBIG);
	ck_assert_uint_eq(count, 1);
}
END_TEST

/* ---- the text helpers in port.c (no namespace needed) ---- */

START_TEST(prefixes_parse_format_and_know_their_host_bits)
{
	static const struct {
		const char *in;
		int err;
		const char *out;
		bool network;
	} cases[] = {
		{"10.147.17.5/24", 0, "10.147.17.5/24", false},
		{"10.147.17.0/24", 0, "10.147.17.0/24", true},
		{"10.147.17.5", 0, "10.147.17.5/32", true},
		{"0.0.0.0/0", 0, "0.0.0.0/0", true},
		{"10.128.0.0/9", 0, "10.128.0.0/9", true},
		{"10.192.0.0/9", 0, "10.192.0.0/9", false},
		{"fd00::1/64", 0, "fd00::1/64", false},
		{"fd00:77::/48", 0, "fd00:77::/48", true},
		{"::/0", 0, "::/0", true},
		{"10.0.0.1/33", ZT_EPARSE, NULL, false},
		{"fd00::1/129", ZT_EPARSE, NULL, false},
		{"10.0.0.1/", ZT_EPARSE, NULL, false},
		{"10.0.0.1/-1", ZT_EPARSE, NULL, false},
		{"10.0.0.1/24x", ZT_EPARSE, NULL, false},
		{"/24", ZT_EPARSE, NULL, false},
		{"banana/8", ZT_EPARSE, NULL, false},
	};

	for (size_t i = 0; i < ZT_ARRAY_LEN(cases); i++) {
		struct zt_port_prefix p;
		char out[48];

		ck_assert_msg(zt_port_prefix_parse(&p, cases[i].in) == cases[i].err, "%s",
			      cases[i].in);
		if (cases[i].err)
			continue;
		ck_assert_int_eq(zt_port_prefix_format(&p, out, sizeof(out)), 0);
		ck_assert_str_eq(out, cases[i].out);
		ck_assert_msg(zt_port_prefix_is_network(&p) == cases[i].network, "%s", cases[i].in);
	}
}
END_TEST

START_TEST(mac_formats_lowercase_with_colons)
{
	char out[18];

	ck_assert_int_eq(zt_port_mac_format(&tap_mac, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "02:5a:54:00:00:01");
	ck_assert_int_eq(zt_port_mac_format(&tap_mac, out, 17), ZT_ETOOBIG);
}
END_TEST

static Suite *tap_suite(void)
{
	Suite *s = suite_create("tap");
	TCase *text = tcase_create("text");
	TCase *tap = tcase_create("linux_tap");

	tcase_add_test(text, prefixes_parse_format_and_know_their_host_bits);
	tcase_add_test(text, mac_formats_lowercase_with_colons);
	suite_add_tcase(s, text);

	tcase_add_checked_fixture(tap, enter_fresh_netns, leave_netns);
	tcase_set_timeout(tap, 30);
	tcase_add_test(tap, pattern_name_gets_a_number_and_mac_mtu_are_applied);
	tcase_add_test(tap, default_name_and_mtu_when_not_given);
	tcase_add_test(tap, existing_interface_name_is_refused_not_taken_over);
	tcase_add_test(tap, bad_configs_are_refused);
	tcase_add_test(tap, mtu_outside_1280_to_10000_is_refused_inside_applied);
	tcase_add_test(tap, set_up_brings_the_link_up_and_down);
	tcase_add_test(tap, close_removes_the_interface_and_releases_every_descriptor);
	tcase_add_test(tap, ipv4_address_and_routes_show_up_and_go_away);
	tcase_add_test(tap, ipv6_address_is_usable_at_once_and_link_local_works);
	tcase_add_test(tap, kernel_answers_arp_for_the_tap_address);
	tcase_add_test(tap, kernel_answers_pings_and_read_batch_takes_several_frames);
	tcase_add_test(tap, frame_larger_than_the_buffer_is_dropped_and_counted);
	tcase_add_test(tap, write_and_read_arguments_and_state_are_checked);
	tcase_add_test(tap, groups_the_os_joins_show_up_in_memberships);
	suite_add_tcase(s, tap);
	return s;
}

ZT_CHECK_MAIN(tap_suite)
