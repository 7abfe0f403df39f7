/*
 * nfq_delay.c - the lab's link impairer: a userspace NFQUEUE program on the
 * lab's internet router that delays (with jitter), reorders, duplicates and
 * drops in bursts the packets it is given, per attachment link. Random loss
 * is not done here (iptables `statistic` does it); the rules that send packets
 * to the queue and the config it reads are written by lab.sh's lab_impair.
 *
 *   nfq_delay --queue N --config FILE [--timeout SECONDS] [--seed N]
 *
 * Config: one line per impaired link, re-read on SIGHUP:
 *   IFNAME DELAY_MS JITTER_MS REORDER_PCT DUP_PCT BURST_PCT BURST_LEN
 * A forwarded packet crosses two links (in via one, out via another): it gets
 * the impairment of each in turn (delays add up, either may drop or copy it).
 * Delay = DELAY + uniform(-JITTER, +JITTER), at least 0. Jitter alone keeps
 * the order of one (in, out) pair of links (each packet leaves no earlier than
 * the previous one); REORDER_PCT of the packets skip the line and leave at once
 * (netem's reorder). DUP_PCT of the crossings add a copy, sent through a raw
 * socket when the original is released. BURST_PCT / BURST_LEN: a two-state
 * (Gilbert) loss per link and direction, losing BURST_PCT % of packets in runs
 * of BURST_LEN on average. Prints "nfq_delay: ready", "nfq_delay: loaded ...",
 * and "nfq_delay: stats ..." lines (on SIGUSR1, on each reload, at exit).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define IMPAIR_LINKS_MAX 64
#define MAX_IFINDEX 4096
#define MAX_HELD 16384            /* packets held at once (the kernel queue is as long) */
#define PKT_MAX_BYTES 65535       /* whole packets are copied: duplication needs them */
#define RCVBUF_BYTES (8 << 20)

struct link {
	char name[IF_NAMESIZE];
	unsigned ifindex;
	double delay_us, jitter_us;
	double reorder_p, dup_p;
	double burst_enter_p, burst_exit_p; /* Gilbert model: good->bad, bad->good per packet */
	bool bad[2];                        /* burst state, [0] packets in via the link, [1] out */
};

struct held {
	uint64_t release_us;
	uint64_t seq;   /* arrival order: equal release times leave in it */
	uint32_t id;
	unsigned copies;
	uint8_t *copy;  /* the packet, for the copies (NULL when none) */
	size_t copy_len;
};

static struct link links[IMPAIR_LINKS_MAX];
static unsigned n_links;
static int link_of_ifindex[MAX_IFINDEX]; /* -1: not impaired */
static uint64_t last_release_us[IMPAIR_LINKS_MAX + 1][IMPAIR_LINKS_MAX + 1]; /* per (in, out) pair, [n]: other */

static struct held heap[MAX_HELD];
static unsigned n_held;
static uint64_t n_arrived;

static struct {
	uint64_t seen, burst_dropped, delayed, reordered, duplicated, overflow, enobufs;
} stats;

static volatile sig_atomic_t want_reload, want_stats, want_stop;
static const char *config_path;
static unsigned generation;
static uint64_t rng_state;
static int raw_fd = -1;
static struct nfq_q_handle *qh;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* xorshift64*: fast, good enough for test impairment, seedable for reruns */
static double rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (double)((rng_state * 2685821657736338717ull) >> 11) / (double)(1ull << 53);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		want_reload = 1;
	else if (sig == SIGUSR1)
		want_stats = 1;
	else
		want_stop = 1;
}

static void print_stats(void)
{
	printf("nfq_delay: stats seen=%llu burst_dropped=%llu delayed=%llu reordered=%llu duplicated=%llu "
	       "overflow=%llu enobufs=%llu held=%u\n",
	       (unsigned long long)stats.seen, (unsigned long long)stats.burst_dropped,
	       (unsigned long long)stats.delayed, (unsigned long long)stats.reordered,
	       (unsigned long long)stats.duplicated, (unsigned long long)stats.overflow,
	       (unsigned long long)stats.enobufs, n_held);
	fflush(stdout);
}

/* ---------- config ---------- */

static int parse_link(const char *line, struct link *l)
{
	double d, j, r, dup, bp, blen;
	char name[64];

	if (sscanf(line, "%63s %lf %lf %lf %lf %lf %lf", name, &d, &j, &r, &dup, &bp, &blen) != 7)
		return -1;
	if (strlen(name) >= IF_NAMESIZE || d < 0 || j < 0 || r < 0 || r > 100 || dup < 0 || dup > 100 ||
	    bp < 0 || bp >= 100 || blen < 1)
		return -1;
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->ifindex = if_nametoindex(name);
	if (l->ifindex == 0 || l->ifindex >= MAX_IFINDEX)
		return -1;
	l->delay_us = d * 1000.0;
	l->jitter_us = j * 1000.0;
	l->reorder_p = r / 100.0;
	l->dup_p = dup / 100.0;
	/* stationary share of the bad state = enter / (enter + exit) = bp */
	l->burst_exit_p = 1.0 / blen;
	l->burst_enter_p = bp > 0 ? (bp / 100.0) / (blen * (1.0 - bp / 100.0)) : 0;
	return 0;
}

static int load_config(void)
{
	char line[256];
	struct link next[IMPAIR_LINKS_MAX];
	unsigned n = 0;
	FILE *f = fopen(config_path, "r");

	if (!f) {
		fprintf(stderr, "nfq_delay: cannot open %s: %s\n", config_path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (n == IMPAIR_LINKS_MAX || parse_link(line, &next[n]) < 0) {
			fprintf(stderr, "nfq_delay: %s: bad or unknown link line: %s", config_path, line);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	memcpy(links, next, sizeof(next[0]) * n);
	n_links = n;
	for (unsigned i = 0; i < MAX_IFINDEX; i++)
		link_of_ifindex[i] = -1;
	for (unsigned i = 0; i < n; i++)
		link_of_ifindex[links[i].ifindex] = (int)i;
	memset(last_release_us, 0, sizeof(last_release_us));
	generation++;
	printf("nfq_delay: loaded %u link(s), generation %u\n", n, generation);
	for (unsigned i = 0; i < n; i++)
		printf("nfq_delay:   %s delay %.0f us jitter %.0f us reorder %.2f%% dup %.2f%% burst enter %.5f exit %.3f\n",
		       links[i].name, links[i].delay_us, links[i].jitter_us, links[i].reorder_p * 100,
		       links[i].dup_p * 100, links[i].burst_enter_p, links[i].burst_exit_p);
	fflush(stdout);
	return 0;
}

/* ---------- the held packets: a min-heap on release time ---------- */

static bool before(const struct held *a, const struct held *b)
{
	return a->release_us < b->release_us || (a->release_us == b->release_us && a->seq < b->seq);
}

static void heap_swap(unsigned a, unsigned b)
{
	struct held t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
}

static void heap_push(const struct held *h)
{
	unsigned i = n_held++;

	heap[i] = *h;
	while (i > 0 && before(&heap[i], &heap[(i - 1) / 2])) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct held heap_pop(void)
{
	struct held top = heap[0];
	unsigned i = 0;

	heap[0] = heap[--n_held];
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < n_held && before(&heap[l], &heap[m]))
			m = l;
		if (r < n_held && before(&heap[r], &heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	return top;
}

/* ---------- release ---------- */

static void send_copy(const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET};

	if (raw_fd < 0 || len < sizeof(struct iphdr) || (pkt[0] >> 4) != 4)
		return;
	memcpy(&to.sin_addr, pkt + 16, 4); /* the IPv4 destination */
	if (sendto(raw_fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		fprintf(stderr, "nfq_delay: raw send of a copy: %s\n", strerror(errno));
}

static void release(struct held *h)
{
	nfq_set_verdict(qh, h->id, NF_ACCEPT, 0, NULL);
	for (unsigned i = 0; i < h->copies; i++)
		send_copy(h->copy, h->copy_len);
	free(h->copy);
	h->copy = NULL;
}

static void release_due(uint64_t now)
{
	while (n_held > 0 && heap[0].release_us <= now) {
		struct held h = heap_pop();
		release(&h);
	}
}

/* ---------- one queued packet ---------- */

struct verdict {
	bool drop, now;
	double delay_us;
	unsigned copies;
};

/* one link crossing, dir 0: in via the link, 1: out via it */
static void cross(struct link *l, int dir, struct verdict *v)
{
	if (l->burst_enter_p > 0) {
		if (l->bad[dir] ? rnd() >= l->burst_exit_p : rnd() < l->burst_enter_p)
			l->bad[dir] = true;
		else
			l->bad[dir] = false;
		if (l->bad[dir]) {
			v->drop = true;
			return;
		}
	}
	double d = l->delay_us;
	if (l->jitter_us > 0)
		d += (rnd() * 2.0 - 1.0) * l->jitter_us;
	v->delay_us += d > 0 ? d : 0;
	if (l->reorder_p > 0 && rnd() < l->reorder_p)
		v->now = true;
	if (l->dup_p > 0 && rnd() < l->dup_p)
		v->copies++;
}

static int link_at(uint32_t ifindex)
{
	return ifindex > 0 && ifindex < MAX_IFINDEX ? link_of_ifindex[ifindex] : -1;
}

static int on_packet(struct nfq_q_handle *q, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	(void)msg;
	(void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);
	int in = link_at(nfq_get_indev(nfa)), out = link_at(nfq_get_outdev(nfa));
	struct verdict v = {0};
	uint64_t now = now_us();

	stats.seen++;
	if (in >= 0)
		cross(&links[in], 0, &v);
	if (!v.drop && out >= 0)
		cross(&links[out], 1, &v);
	if (v.drop) {
		stats.burst_dropped++;
		return nfq_set_verdict(q, id, NF_DROP, 0, NULL);
	}
	struct held h = {.release_us = now + (uint64_t)v.delay_us, .seq = n_arrived++, .id = id, .copies = v.copies};
	if (v.now) {
		stats.reordered++;
		h.release_us = now;
	} else {
		/* jitter alone does not reorder one (in, out) pair of links */
		uint64_t *last = &last_release_us[in < 0 ? IMPAIR_LINKS_MAX : in][out < 0 ? IMPAIR_LINKS_MAX : out];
		if (h.release_us < *last)
			h.release_us = *last;
		*last = h.release_us;
	}
	if (h.copies) {
		unsigned char *p;
		int len = nfq_get_payload(nfa, &p);
		if (len > 0 && (h.copy = malloc((size_t)len))) {
			memcpy(h.copy, p, (size_t)len);
			h.copy_len = (size_t)len;
			stats.duplicated += h.copies;
		} else {
			h.copies = 0;
		}
	}
	if (h.release_us > now)
		stats.delayed++;
	if (h.release_us <= now || n_held == MAX_HELD) {
		if (n_held == MAX_HELD)
			stats.overflow++;
		release(&h);
		return 0;
	}
	heap_push(&h);
	return 0;
}

/* ---------- main loop ---------- */

static int setup_queue(struct nfq_handle **hp, unsigned queue_num)
{
	struct nfq_handle *h = nfq_open();

	if (!h) {
		fprintf(stderr, "nfq_delay: nfq_open: %s\n", strerror(errno));
		return -1;
	}
	qh = nfq_create_queue(h, (uint16_t)queue_num, on_packet, NULL);
	if (!qh) {
		fprintf(stderr, "nfq_delay: cannot bind queue %u: %s\n", queue_num, strerror(errno));
		nfq_close(h);
		return -1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, PKT_MAX_BYTES) < 0) {
		fprintf(stderr, "nfq_delay: cannot set copy mode\n");
		nfq_close(h);
		return -1;
	}
	nfq_set_queue_maxlen(qh, MAX_HELD);
	nfnl_rcvbufsiz(nfq_nfnlh(h), RCVBUF_BYTES);
	*hp = h;
	return 0;
}

static void run(struct nfq_handle *h, uint64_t deadline_us)
{
	static char buf[PKT_MAX_BYTES + 4096];
	struct pollfd pfd = {.fd = nfq_fd(h), .events = POLLIN};

	while (!want_stop) {
		uint64_t now = now_us();
		if (now >= deadline_us)
			break;
		release_due(now);
		if (want_reload) {
			want_reload = 0;
			load_config();
			print_stats();
		}
		if (want_stats) {
			want_stats = 0;
			print_stats();
		}
		uint64_t wait_us = deadline_us - now;
		if (n_held > 0 && heap[0].release_us - now < wait_us)
			wait_us = heap[0].release_us > now ? heap[0].release_us - now : 0;
		struct timespec ts = {.tv_sec = (time_t)(wait_us / 1000000u), .tv_nsec = (long)(wait_us % 1000000u) * 1000};
		int r = ppoll(&pfd, 1, &ts, NULL);
		if (r <= 0)
			continue;
		ssize_t len = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == ENOBUFS)
				stats.enobufs++;
			continue;
		}
		nfq_handle_packet(h, buf, (int)len);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: nfq_delay --queue N --config FILE [--timeout SECONDS] [--seed N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned queue_num = 0, timeout_s = 3600;
	bool have_queue = false;
	struct nfq_handle *h;

	rng_state = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--queue")) {
			queue_num = (unsigned)strtoul(argv[++i], NULL, 10);
			have_queue = true;
		} else if (!strcmp(argv[i], "--config")) {
			config_path = argv[++i];
		} else if (!strcmp(argv[i], "--timeout")) {
			timeout_s = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--seed")) {
			rng_state = strtoull(argv[++i], NULL, 10) | 1;
		} else {
			usage();
		}
	}
	if (!have_queue || !config_path || queue_num > 65535 || timeout_s == 0)
		usage();
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (load_config() < 0)
		return 1;
	raw_fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (raw_fd < 0)
		fprintf(stderr, "nfq_delay: no raw socket (%s): duplication off\n", strerror(errno));
	if (setup_queue(&h, queue_num) < 0)
		return 1;
	printf("nfq_delay: ready on queue %u\n", queue_num);
	fflush(stdout);
	run(h, now_us() + (uint64_t)timeout_s * 1000000u);
	while (n_held > 0) { /* let nothing held die with us */
		struct held x = heap_pop();
		release(&x);
	}
	print_stats();
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
