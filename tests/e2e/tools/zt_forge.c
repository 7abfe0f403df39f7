/*
 * zt_forge.c - a hostile zt node for end-to-end tests: it speaks VL1 (real
 * sessions through the core's zt_node) but has no membership certificate for
 * the network it attacks. It forges VL2 traffic at members and records every
 * VL2 message it gets, so a test can check that members drop the forged frames
 * (their drop_no_com / drop_bad_com counters) and never send it a frame.
 *
 * Build (the test does it): cc -Isrc tests/e2e/tools/zt_forge.c LIBDIR/libztcore.a -lcrypto
 *
 *   zt-forge --root PUBLIC_IDENTITY_TEXT --root-ep IP/PORT --nwid NWID [options]
 *     --port P              UDP port (default 9993)
 *     --seconds S           run this long after the root answered (default 10)
 *     --interval MS         repeat the attacks this often (default 500)
 *     --like                tell the root we subscribe to broadcast and to the
 *                           "bridge" wildcard group of NWID (and ARP for --arp-ip)
 *     --arp-ip A.B.C.D      also subscribe to the ARP group of this address
 *     --like-flood N        once online, send the root N MULTICAST_LIKEs of 256
 *                           random ARP groups of NWID each (directory exhaustion)
 *     --frame ADDR          compact FRAME to member ADDR (src MAC: ours, derived)
 *     --ext-frame ADDR,SRCMAC,DSTMAC   EXT_FRAME to member ADDR with these MACs
 *                           (e.g. the MAC of another member: a spoof)
 *     --udp SRC,DST,PORT,TEXT   the IPv4/UDP packet the frames carry
 *     --com-request ADDR    ask member ADDR for its certificate (it is public)
 *     --bad-com ADDR        send ADDR a certificate naming us: the real one we
 *                           got from a member with our address put in (the
 *                           controller's signature no longer matches), or a
 *                           random signature if we got none
 *     --replay-com ADDR     send ADDR a member's real certificate unchanged
 *     --identity FILE       use this identity (secret text form, e.g. a
 *                           deauthorized member's identity.secret) instead of
 *                           a fresh one
 *     --save-com FILE       write the first real certificate received (hex)
 *     --load-com FILE       start with this certificate as the "real" one
 * Output, one line per event: "address A", "online", "sent KIND to ADDR",
 * "recv VERB from ADDR len N", at the end "summary frame=N ext_frame=N com=N
 * com_request=N gather_ok=N other=N".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "base/endpoint.h"
#include "identity.h"
#include "netconf.h"
#include "node.h"
#include "proto.h"
#include "base/wire.h"
#include "base/zt.h"

#define MAX_T 8

static int sock = -1;
static uint64_t nwid;
static struct zt_node *node;
static unsigned long n_frame, n_ext, n_com, n_comreq, n_gather, n_other;
static bool have_real_com;
static uint8_t real_com[ZT_COM_BYTES];

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void rnd(void *ctx, void *buf, size_t len)
{
	static int fd = -1;
	(void)ctx;
	if (fd < 0)
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, len) != (ssize_t)len) {
		perror("zt-forge: /dev/urandom");
		exit(1);
	}
}

static int cb_send(void *ctx, const struct zt_endpoint *to, const uint8_t *data, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(to->port)};
	(void)ctx;
	if (to->family != 4)
		return 0;
	memcpy(&sa.sin_addr, to->addr, 4);
	sendto(sock, data, len, 0, (struct sockaddr *)&sa, sizeof(sa));
	return 0;
}

static void cb_vl2(void *ctx, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len, uint64_t t)
{
	const char *name = "other";
	(void)ctx;
	(void)t;
	switch (verb) {
	case ZT_VERB_FRAME: name = "FRAME"; n_frame++; break;
	case ZT_VERB_EXT_FRAME: name = "EXT_FRAME"; n_ext++; break;
	case ZT_VERB_COM:
		name = "COM";
		n_com++;
		/* a certificate, then (since the credential was added) the sender's credential */
		if (len >= ZT_COM_BYTES && !have_real_com) {
			memcpy(real_com, data, ZT_COM_BYTES);
			have_real_com = true;
		}
		break;
	case ZT_VERB_COM_REQUEST: name = "COM_REQUEST"; n_comreq++; break;
	case ZT_VERB_MULTICAST_GATHER_OK: name = "GATHER_OK"; n_gather++; break;
	default: n_other++; break;
	}
	printf("recv %s(0x%02x) from %010llx len %zu\n", name, verb, (unsigned long long)peer, len);
	fflush(stdout);
}

static void cb_echo(void *ctx, uint64_t peer, uint32_t id, uint64_t rtt, enum zt_link link)
{
	(void)ctx; (void)peer; (void)id; (void)rtt; (void)link;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static uint16_t ip_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 + UDP (checksum 0: none) carrying text. */
static size_t build_udp(uint8_t *out, const char *src, const char *dst, unsigned port, const char *text)
{
	size_t tl = strlen(text), n = 20 + 8 + tl;
	uint16_t s;
	memset(out, 0, 28);
	out[0] = 0x45;
	out[2] = (uint8_t)(n >> 8), out[3] = (uint8_t)n;
	out[8] = 64, out[9] = 17;
	inet_pton(AF_INET, src, out + 12);
	inet_pton(AF_INET, dst, out + 16);
	s = ip_sum(out, 20);
	out[10] = (uint8_t)(s >> 8), out[11] = (uint8_t)s;
	out[20] = (uint8_t)(port >> 8), out[21] = (uint8_t)port;
	out[22] = (uint8_t)(port >> 8), out[23] = (uint8_t)port;
	out[24] = (uint8_t)((8 + tl) >> 8), out[25] = (uint8_t)(8 + tl);
	memcpy(out + 28, text, tl);
	return n;
}

static uint64_t parse_addr(const char *s)
{
	uint64_t a;
	if (zt_address_parse(&a, s) < 0) {
		fprintf(stderr, "zt-forge: bad address %s\n", s);
		exit(2);
	}
	return a;
}

static void send_msg(uint64_t to, uint8_t verb, const uint8_t *p, size_t n, const char *kind, uint64_t t)
{
	int err = zt_node_send(node, to, verb, p, n, t);
	printf("sent %s to %010llx%s%s\n", kind, (unsigned long long)to, err == ZT_EAGAIN ? " (queued)" : err ? " error: " : "",
	       err && err != ZT_EAGAIN ? zt_strerror(err) : "");
}

static char *read_text(const char *path)
{
	static char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n;
	if (!f) {
		perror(path);
		exit(2);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return buf;
}

int main(int argc, char **argv)
{
	const char *root_text = NULL, *root_ep = NULL, *arp_ip = NULL, *id_file = NULL, *save_com = NULL;
	const char *udp_src = "10.147.17.250", *udp_dst = "10.147.17.10", *udp_text = "zt-forged";
	unsigned port = 9993, udp_port = 5555, seconds = 10, interval = 500;
	uint64_t frame_to[MAX_T], ext_to[MAX_T], comreq_to[MAX_T], badcom_to[MAX_T], replay_to[MAX_T];
	uint8_t ext_src[MAX_T][6], ext_dst[MAX_T][6];
	unsigned n_frame_to = 0, n_ext_to = 0, n_comreq_to = 0, n_badcom_to = 0, n_replay_to = 0;
	bool like = false;
	unsigned like_flood = 0;
	static struct zt_identity id;
	static struct zt_root_spec root;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED()                                                                 \
	do {                                                                   \
		if (!v) {                                                      \
			fprintf(stderr, "zt-forge: %s needs a value\n", a);    \
			return 2;                                              \
		}                                                              \
		i++;                                                           \
	} while (0)
		if (!strcmp(a, "--root")) { NEED(); root_text = v; }
		else if (!strcmp(a, "--root-ep")) { NEED(); root_ep = v; }
		else if (!strcmp(a, "--nwid")) { NEED(); nwid = strtoull(v, NULL, 16); }
		else if (!strcmp(a, "--port")) { NEED(); port = (unsigned)atoi(v); }
		else if (!strcmp(a, "--seconds")) { NEED(); seconds = (unsigned)atoi(v); }
		else if (!strcmp(a, "--interval")) { NEED(); interval = (unsigned)atoi(v); }
		else if (!strcmp(a, "--like")) like = true;
		else if (!strcmp(a, "--like-flood")) { NEED(); like_flood = (unsigned)atoi(v); }
		else if (!strcmp(a, "--identity")) { NEED(); id_file = v; }
		else if (!strcmp(a, "--save-com")) { NEED(); save_com = v; }
		else if (!strcmp(a, "--load-com")) {
			const char *hex;
			NEED();
			hex = read_text(v);
			if (strlen(hex) != 2 * ZT_COM_BYTES) { fprintf(stderr, "zt-forge: %s: not a certificate\n", v); return 2; }
			for (unsigned k = 0; k < ZT_COM_BYTES; k++) {
				unsigned b;
				sscanf(hex + 2 * k, "%2x", &b);
				real_com[k] = (uint8_t)b;
			}
			have_real_com = true;
		}
		else if (!strcmp(a, "--arp-ip")) { NEED(); arp_ip = v; }
		else if (!strcmp(a, "--frame") && n_frame_to < MAX_T) { NEED(); frame_to[n_frame_to++] = parse_addr(v); }
		else if (!strcmp(a, "--com-request") && n_comreq_to < MAX_T) { NEED(); comreq_to[n_comreq_to++] = parse_addr(v); }
		else if (!strcmp(a, "--bad-com") && n_badcom_to < MAX_T) { NEED(); badcom_to[n_badcom_to++] = parse_addr(v); }
		else if (!strcmp(a, "--replay-com") && n_replay_to < MAX_T) { NEED(); replay_to[n_replay_to++] = parse_addr(v); }
		else if (!strcmp(a, "--ext-frame") && n_ext_to < MAX_T) {
			char buf[128], *c1, *c2;
			NEED();
			snprintf(buf, sizeof(buf), "%s", v);
			c1 = strchr(buf, ',');
			c2 = c1 ? strchr(c1 + 1, ',') : NULL;
			if (!c2) { fprintf(stderr, "zt-forge: --ext-frame ADDR,SRCMAC,DSTMAC\n"); return 2; }
			*c1 = *c2 = 0;
			ext_to[n_ext_to] = parse_addr(buf);
			if (parse_mac(c1 + 1, ext_src[n_ext_to]) < 0 || parse_mac(c2 + 1, ext_dst[n_ext_to]) < 0) {
				fprintf(stderr, "zt-forge: bad MAC in %s\n", v);
				return 2;
			}
			n_ext_to++;
		} else if (!strcmp(a, "--udp")) {
			static char buf[256];
			char *f[4], *save = NULL;
			NEED();
			snprintf(buf, sizeof(buf), "%s", v);
			f[0] = strtok_r(buf, ",", &save);
			for (int k = 1; k < 4; k++)
				f[k] = strtok_r(NULL, k == 3 ? "" : ",", &save);
			if (!f[3]) { fprintf(stderr, "zt-forge: --udp SRC,DST,PORT,TEXT\n"); return 2; }
			udp_src = f[0], udp_dst = f[1], udp_port = (unsigned)atoi(f[2]), udp_text = f[3];
		} else {
			fprintf(stderr, "zt-forge: unknown or repeated option %s (see the header of zt_forge.c)\n", a);
			return 2;
		}
	}
	if (!root_text || !root_ep || !nwid) {
		fprintf(stderr, "zt-forge: --root, --root-ep and --nwid are required\n");
		return 2;
	}
	if (zt_identity_from_text(&root.id, root_text) < 0 || zt_endpoint_parse(&root.endpoints[0], root_ep) < 0) {
		fprintf(stderr, "zt-forge: bad root identity or endpoint\n");
		return 2;
	}
	root.n_endpoints = 1;
	if (id_file) {
		if (zt_identity_from_text(&id, read_text(id_file)) < 0 || !id.has_secret) {
			fprintf(stderr, "zt-forge: %s: not a secret identity\n", id_file);
			return 2;
		}
	} else if (zt_identity_generate(&id, rnd, NULL) < 0) {
		fprintf(stderr, "zt-forge: cannot generate an identity\n");
		return 1;
	}
	zt_log_set_level(ZT_LOG_WARN);

	sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("zt-forge: bind");
		return 1;
	}
	struct zt_node_config nc = {.identity = &id, .cipher = ZT_CIPHER_CHACHA20_POLY1305, .roots = &root, .n_roots = 1};
	struct zt_node_callbacks cb = {.send = cb_send, .random = rnd, .echo_reply = cb_echo, .vl2_message = cb_vl2};
	uint64_t t = now_ms();
	int err = zt_node_new(&node, &nc, &cb, t);
	if (err < 0) {
		fprintf(stderr, "zt-forge: cannot start the node: %s\n", zt_strerror(err));
		return 1;
	}
	printf("address %010llx\n", (unsigned long long)id.address);
	fflush(stdout);

	uint64_t start = t, online_at = 0, next_attack = 0, next_tick = t;
	while (1) {
		t = now_ms();
		if (!online_at && zt_node_online(node, t)) {
			online_at = t;
			printf("online\n");
		}
		if (!online_at && t - start > 20000) {
			printf("never online\n");
			return 1;
		}
		if (online_at && t - online_at >= (uint64_t)seconds * 1000)
			break;
		if (online_at && t >= next_attack) {
			uint8_t msg[4096], frame[1600], ip[1500];
			size_t iplen = build_udp(ip, udp_src, udp_dst, udp_port, udp_text);
			struct zt_wr w;
			next_attack = t + interval;
			for (; like_flood; like_flood--) {
				uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, r[4 * 256];
				rnd(NULL, r, sizeof(r));
				zt_wr_init(&w, msg, sizeof(msg));
				zt_wr_be64(&w, nwid);
				zt_wr_be16(&w, 256);
				for (unsigned k = 0; k < 256; k++) {
					zt_wr_bytes(&w, bcast, 6);
					zt_wr_bytes(&w, r + 4 * k, 4);
				}
				if (zt_node_send(node, root.id.address, ZT_VERB_MULTICAST_LIKE, msg, w.len, t) < 0 &&
				    like_flood % 64 == 0)
					printf("flood: send refused\n");
				/* let the datagrams out */
				if (like_flood % 16 == 0) {
					struct timespec ts = {0, 2000000};
					nanosleep(&ts, NULL);
				}
			}
			if (like) {
				uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero[6] = {0};
				uint16_t n = arp_ip ? 3 : 2;
				uint8_t a4[4] = {0};
				zt_wr_init(&w, msg, sizeof(msg));
				zt_wr_be64(&w, nwid);
				zt_wr_be16(&w, n);
				zt_wr_bytes(&w, zero, 6);
				zt_wr_be32(&w, 0);
				zt_wr_bytes(&w, bcast, 6);
				zt_wr_be32(&w, 0);
				if (arp_ip && inet_pton(AF_INET, arp_ip, a4) == 1) {
					zt_wr_bytes(&w, bcast, 6);
					zt_wr_be32(&w, (uint32_t)a4[0] << 24 | (uint32_t)a4[1] << 16 | (uint32_t)a4[2] << 8 | a4[3]);
				}
				send_msg(root.id.address, ZT_VERB_MULTICAST_LIKE, msg, w.len, "MULTICAST_LIKE", t);
			}
			for (unsigned i = 0; i < n_comreq_to; i++) {
				zt_wr_init(&w, msg, sizeof(msg));
				zt_wr_be64(&w, nwid);
				send_msg(comreq_to[i], ZT_VERB_COM_REQUEST, msg, w.len, "COM_REQUEST", t);
			}
			for (unsigned i = 0; i < n_badcom_to; i++) {
				struct zt_com com;
				uint8_t enc[ZT_COM_BYTES];
				if (have_real_com && zt_com_decode(&com, real_com, ZT_COM_BYTES) == 0) {
					com.member = id.address; /* the controller's signature no longer matches */
				} else {
					memset(&com, 0, sizeof(com));
					com.network_id = nwid;
					com.member = id.address;
					com.issued_ms = t;
					com.max_delta_ms = 7200000;
					com.revision = 1;
					com.flags = ZT_COM_FLAG_BRIDGE;
					rnd(NULL, com.signature, sizeof(com.signature));
				}
				if (zt_com_encode(&com, enc) == 0)
					send_msg(badcom_to[i], ZT_VERB_COM, enc, sizeof(enc),
						 have_real_com ? "COM(real, member changed to ours)" : "COM(random signature)", t);
			}
			for (unsigned i = 0; i < n_replay_to && have_real_com; i++) {
				struct zt_com rc;
				bool own = zt_com_decode(&rc, real_com, ZT_COM_BYTES) == 0 && rc.member == id.address;
				send_msg(replay_to[i], ZT_VERB_COM, real_com, ZT_COM_BYTES,
					 own ? "COM(our own old one, replayed)" : "COM(another member's, replayed)", t);
			}
			for (unsigned i = 0; i < n_frame_to; i++) {
				zt_wr_init(&w, msg, sizeof(msg));
				zt_wr_be64(&w, nwid);
				zt_wr_be16(&w, 0x0800);
				zt_wr_bytes(&w, ip, iplen);
				send_msg(frame_to[i], ZT_VERB_FRAME, msg, w.len, "FRAME", t);
			}
			for (unsigned i = 0; i < n_ext_to; i++) {
				memcpy(frame, ext_dst[i], 6);
				memcpy(frame + 6, ext_src[i], 6);
				frame[12] = 0x08, frame[13] = 0x00;
				memcpy(frame + 14, ip, iplen);
				zt_wr_init(&w, msg, sizeof(msg));
				zt_wr_be64(&w, nwid);
				zt_wr_u8(&w, 0);
				zt_wr_bytes(&w, frame, 14 + iplen);
				send_msg(ext_to[i], ZT_VERB_EXT_FRAME, msg, w.len, "EXT_FRAME", t);
			}
			fflush(stdout);
		}
		if (t >= next_tick)
			next_tick = zt_node_tick(node, t);
		int wait = (int)((next_tick > t ? next_tick - t : 0));
		if (online_at && next_attack > t && (int)(next_attack - t) < wait)
			wait = (int)(next_attack - t);
		if (wait > 100)
			wait = 100;
		struct pollfd pfd = {.fd = sock, .events = POLLIN};
		poll(&pfd, 1, wait);
		for (int k = 0; k < 64; k++) {
			uint8_t buf[4096];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(sock, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			struct zt_endpoint ep = {.family = 4, .port = ntohs(from.sin_port)};
			if (n < 0)
				break;
			memcpy(ep.addr, &from.sin_addr, 4);
			zt_node_receive(node, &ep, buf, (size_t)n, now_ms());
		}
		fflush(stdout);
	}
	if (save_com && have_real_com) {
		FILE *f = fopen(save_com, "w");
		if (f) {
			for (unsigned k = 0; k < ZT_COM_BYTES; k++)
				fprintf(f, "%02x", real_com[k]);
			fprintf(f, "\n");
			fclose(f);
		}
	}
	printf("summary frame=%lu ext_frame=%lu com=%lu com_request=%lu gather_ok=%lu other=%lu\n", n_frame, n_ext,
	       n_com, n_comreq, n_gather, n_other);
	zt_node_free(node);
	return 0;
}
