/*
 * udp.c - the underlay UDP socket: open and tune it, receive with one
 * recvmmsg per batch, send a ring of queued datagrams with sendmmsg, and
 * park on EPOLLOUT (through the owner's want_write) when the kernel is full.
 * It knows nothing about packets; the event loop that polls it is loop.c.
 */
#include "osdep/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

int zt_udp_endpoint_from_sockaddr(struct zt_endpoint *e, const struct sockaddr *sa, socklen_t len)
{
	memset(e, 0, sizeof(*e));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		e->family = 4;
		memcpy(e->addr, &sin->sin_addr, 4);
		e->port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			e->family = 4;
			memcpy(e->addr, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			e->family = 6;
			memcpy(e->addr, &sin6->sin6_addr, 16);
		}
		e->port = ntohs(sin6->sin6_port);
		return 0;
	}
	return ZT_EINVAL;
}

static void to_sin(const uint8_t *a4, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	memcpy(&sin->sin_addr, a4, 4);
	*len = sizeof(*sin);
}

static void to_sin6(const uint8_t *a16, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	memcpy(&sin6->sin6_addr, a16, 16);
	*len = sizeof(*sin6);
}

int zt_udp_endpoint_to_sockaddr(const struct zt_endpoint *e, int sock_family,
				struct sockaddr_storage *ss, socklen_t *len)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint8_t a16[16];

	memset(ss, 0, sizeof(*ss));
	if (sock_family == 0)
		sock_family = e->family == 6 ? AF_INET6 : AF_INET;
	if (e->family == 4 && sock_family == AF_INET) {
		to_sin(e->addr, e->port, ss, len);
		return 0;
	}
	if (e->family == 4 && sock_family == AF_INET6) {
		memcpy(a16, v4mapped, 12);
		memcpy(a16 + 12, e->addr, 4);
		to_sin6(a16, e->port, ss, len);
		return 0;
	}
	if (e->family == 6 && sock_family == AF_INET6) {
		to_sin6(e->addr, e->port, ss, len);
		return 0;
	}
	if (e->family == 6 && sock_family == AF_INET && memcmp(e->addr, v4mapped, 12) == 0) {
		to_sin(e->addr + 12, e->port, ss, len);
		return 0;
	}
	return ZT_EINVAL;
}

static int errno_to_zt(int e)
{
	switch (e) {
	case EADDRINUSE: return ZT_EEXIST;
	case EACCES:
	case EPERM: return ZT_EPERM;
	case EADDRNOTAVAIL:
	case EAFNOSUPPORT:
	case EINVAL: return ZT_EINVAL;
	case ENOMEM:
	case ENOBUFS: return ZT_ENOMEM;
	}
	return ZT_EIO;
}

static void set_buffer(int fd, int force_opt, int opt, const char *name)
{
	int v = ZT_UDP_SOCKBUF_BYTES;
	socklen_t vl = sizeof(v);

	/* The *FORCE variants pass net.core.[rw]mem_max but need CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
	if (getsockopt(fd, SOL_SOCKET, opt, &v, &vl) == 0)
		zt_log(ZT_LOG_DEBUG, "udp: %s is %d bytes", name, v);
}

static void tune(int fd, int family)
{
	int v;

	set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, "SO_RCVBUF");
	set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, "SO_SNDBUF");
	/* No DF bit, no PMTU discovery: if a sealed packet exceeds the path
	 * MTU the underlay fragments it rather than dropping it. Applies to
	 * IPv4-mapped traffic on a dual-stack socket too. */
	v = IP_PMTUDISC_DONT;
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	if (family == AF_INET6) {
		v = IPV6_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
	}
	/* The interface each datagram arrived on (rx ifindex): the daemon drops
	 * underlay datagrams that came in through one of its own overlay ports. */
	v = 1;
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &v, sizeof(v));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &v, sizeof(v));
}

/* On failure returns -errno so the caller can decide whether to fall back. */
static int open_bound(int family, const struct sockaddr_storage *ss, socklen_t len)
{
	int fd, off = 0, err;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	tune(fd, family);
	return fd;
}

static int open_wildcard(uint16_t port, int *family)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct zt_endpoint any;
	int fd;

	memset(&any, 0, sizeof(any));
	any.family = 6;
	any.port = port;
	zt_udp_endpoint_to_sockaddr(&any, AF_INET6, &ss, &len);
	fd = open_bound(AF_INET6, &ss, len);
	if (fd >= 0) {
		*family = AF_INET6;
		return fd;
	}
	if (fd != -EAFNOSUPPORT && fd != -EADDRNOTAVAIL && fd != -EPROTONOSUPPORT)
		return fd;
	zt_log(ZT_LOG_INFO, "udp: IPv6 unavailable (%s), using IPv4 only", strerror(-fd));
	any.family = 4;
	zt_udp_endpoint_to_sockaddr(&any, AF_INET, &ss, &len);
	*family = AF_INET;
	return open_bound(AF_INET, &ss, len);
}

int zt_udp_open(struct zt_udp *u, const struct zt_endpoint *bind_addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct zt_endpoint local;
	socklen_t len;
	int fd, family = AF_INET6;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if (bind_addr && zt_endpoint_is_set(bind_addr)) {
		struct zt_endpoint b = *bind_addr;

		b.port = port;
		family = b.family == 6 ? AF_INET6 : AF_INET;
		zt_udp_endpoint_to_sockaddr(&b, family, &ss, &len);
		fd = open_bound(family, &ss, len);
	} else {
		fd = open_wildcard(port, &family);
	}
	if (fd < 0) {
		zt_log(ZT_LOG_ERROR, "udp: cannot bind port %u: %s", port, strerror(-fd));
		return errno_to_zt(-fd);
	}
	u->fd = fd;
	u->family = family;
	/* Segmentation offload on send, if the kernel has it (Linux >= 4.18); probed, not assumed. */
	{
		int probe = 0;
		u->gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &probe, sizeof(probe)) == 0;
	}
	if (zt_udp_local(u, &local) == 0)
		u->port = local.port;
	return 0;
}

void zt_udp_close(struct zt_udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

int zt_udp_local(const struct zt_udp *u, struct zt_endpoint *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(u->fd, (struct sockaddr *)&ss, &len) < 0)
		return ZT_EIO;
	return zt_udp_endpoint_from_sockaddr(out, (struct sockaddr *)&ss, len);
}

void zt_udp_rx_batch_init(struct zt_udp_rx_batch *b)
{
	for (unsigned i = 0; i < ZT_UDP_BATCH; i++) {
		b->data[i] = b->store[i];
		b->len[i] = 0;
	}
}

static void rx_prepare(struct zt_udp_rx_batch *b)
{
	for (unsigned i = 0; i < ZT_UDP_BATCH; i++) {
		struct msghdr *h = &b->msgs[i].msg_hdr;

		b->iov[i].iov_base = b->data[i];
		b->iov[i].iov_len = ZT_UDP_MAX_DATAGRAM;
		memset(h, 0, sizeof(*h));
		h->msg_name = &b->addrs[i];
		h->msg_namelen = sizeof(b->addrs[i]);
		h->msg_iov = &b->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = b->ctrl[i].b;
		h->msg_controllen = sizeof(b->ctrl[i].b);
		b->msgs[i].msg_len = 0;
	}
}

/* The arrival interface from IP_PKTINFO / IPV6_PKTINFO; 0 when not reported. */
static unsigned rx_ifindex(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			return (unsigned)pi.ipi_ifindex;
		}
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			return pi.ipi6_ifindex;
		}
	}
	return 0;
}

/* Drop truncated datagrams by moving kept ones down (buffer pointers only). */
static int rx_collect(struct zt_udp *u, struct zt_udp_rx_batch *b, int n)
{
	int kept = 0;

	for (int i = 0; i < n; i++) {
		struct msghdr *h = &b->msgs[i].msg_hdr;
		struct zt_endpoint from;

		if ((h->msg_flags & MSG_TRUNC) ||
		    zt_udp_endpoint_from_sockaddr(&from, h->msg_name, h->msg_namelen) < 0) {
			u->stats.rx_truncated++;
			continue;
		}
		if (kept != i) {
			uint8_t *t = b->data[kept];

			b->data[kept] = b->data[i];
			b->data[i] = t;
		}
		b->len[kept] = b->msgs[i].msg_len;
		b->from[kept] = from;
		b->ifindex[kept] = rx_ifindex(h);
		u->stats.rx_bytes += b->msgs[i].msg_len;
		kept++;
	}
	u->stats.rx_datagrams += (uint64_t)kept;
	return kept;
}

int zt_udp_recv_batch(struct zt_udp *u, struct zt_udp_rx_batch *b)
{
	for (;;) {
		int n, kept;

		rx_prepare(b);
		n = recvmmsg(u->fd, b->msgs, ZT_UDP_BATCH, MSG_DONTWAIT, NULL);
		u->stats.rx_syscalls++;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			/* ICMP errors surfacing on the socket: not ours to act on. */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
				return 0;
			return ZT_EIO;
		}
		kept = rx_collect(u, b, n);
		if (kept > 0 || n == 0)
			return kept;
		/* A whole batch of truncated datagrams: more may be waiting. */
	}
}

void zt_udp_txq_init(struct zt_udp_txq *q, struct zt_udp *u, zt_udp_want_write_fn want_write,
		     void *ctx)
{
	q->udp = u;
	q->want_write = want_write;
	q->ctx = ctx;
	q->head = 0;
	q->count = 0;
	q->blocked = false;
}

unsigned zt_udp_pending(const struct zt_udp_txq *q)
{
	return q->count;
}

static void set_blocked(struct zt_udp_txq *q, bool on)
{
	if (q->blocked == on)
		return;
	q->blocked = on;
	if (on)
		q->udp->stats.tx_blocked++;
	if (q->want_write)
		q->want_write(q->ctx, on);
}

static bool same_dest(const struct zt_udp_txq *q, unsigned a, unsigned b)
{
	return q->to_len[a] == q->to_len[b] && memcmp(&q->to[a], &q->to[b], q->to_len[a]) == 0;
}

/*
 * One message per run of datagrams to the same destination whose sizes are
 * all equal but the last (which may be shorter): with UDP_SEGMENT the kernel
 * carries the run through its stack as one buffer and splits it at the
 * device. Without GSO, one message per datagram. The iovecs are laid out in
 * queue order so a run's iovecs are contiguous.
 */
static unsigned tx_prepare(struct zt_udp_txq *q)
{
	unsigned m = 0, i = 0;

	while (i < q->count) {
		unsigned s = (q->head + i) % ZT_UDP_BATCH, k = 1;
		size_t seg = q->len[s], total = seg;
		struct msghdr *h = &q->msgs[m].msg_hdr;

		q->iov[i].iov_base = q->buf[s];
		q->iov[i].iov_len = q->len[s];
		while (q->udp->gso && i + k < q->count && k < ZT_UDP_GSO_MAX_SEGS) {
			unsigned prev = (q->head + i + k - 1) % ZT_UDP_BATCH, t = (q->head + i + k) % ZT_UDP_BATCH;
			if (q->len[prev] != seg || q->len[t] > seg || !same_dest(q, s, t) ||
			    total + q->len[t] > ZT_UDP_GSO_MAX_BYTES)
				break;
			q->iov[i + k].iov_base = q->buf[t];
			q->iov[i + k].iov_len = q->len[t];
			total += q->len[t];
			k++;
		}
		memset(h, 0, sizeof(*h));
		h->msg_name = &q->to[s];
		h->msg_namelen = q->to_len[s];
		h->msg_iov = &q->iov[i];
		h->msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *c = &q->ctrl[m].align;
			uint16_t gso = (uint16_t)seg;
			h->msg_control = q->ctrl[m].b;
			h->msg_controllen = sizeof(q->ctrl[m].b);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(gso));
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
		}
		q->msg_dgrams[m++] = k;
		i += k;
	}
	return m;
}

/* Retire the datagrams of the first `msgs` prepared messages. */
static void tx_advance(struct zt_udp_txq *q, unsigned msgs, bool ok)
{
	unsigned sent = 0;

	for (unsigned m = 0; m < msgs; m++)
		sent += q->msg_dgrams[m];
	for (unsigned i = 0; i < sent; i++) {
		unsigned s = (q->head + i) % ZT_UDP_BATCH;

		if (ok) {
			q->udp->stats.tx_datagrams++;
			q->udp->stats.tx_bytes += q->len[s];
		}
	}
	q->head = (q->head + sent) % ZT_UDP_BATCH;
	q->count -= sent;
	if (q->count == 0)
		q->head = 0;
}

int zt_udp_flush(struct zt_udp_txq *q)
{
	while (q->count > 0) {
		unsigned msgs = tx_prepare(q);
		int n = sendmmsg(q->udp->fd, q->msgs, msgs, 0);

		q->udp->stats.tx_syscalls++;
		if (n > 0) {
			tx_advance(q, (unsigned)n, true);
			continue;
		}
		if (n == 0 || errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			set_blocked(q, true);
			return ZT_EAGAIN;
		}
		if (q->msg_dgrams[0] > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP)) {
			/* The path cannot segment (no checksum offload, old kernel): plain sends from now on. */
			zt_log(ZT_LOG_INFO, "udp: segmentation offload refused (%s); sending datagrams one by one",
			       strerror(errno));
			q->udp->gso = false;
			continue;
		}
		/* This message was refused (unreachable, filtered, bad
		 * address): drop it alone and carry on with the rest. */
		q->udp->stats.tx_errors++;
		tx_advance(q, 1, false);
	}
	set_blocked(q, false);
	return 0;
}

uint8_t *zt_udp_slot_get(struct zt_udp_txq *q)
{
	if (q->count == ZT_UDP_BATCH && !q->blocked)
		zt_udp_flush(q);
	if (q->count == ZT_UDP_BATCH) {
		q->udp->stats.tx_drops++;
		return NULL;
	}
	return q->buf[(q->head + q->count) % ZT_UDP_BATCH];
}

int zt_udp_slot_commit(struct zt_udp_txq *q, const struct zt_endpoint *to, size_t len)
{
	unsigned s;

	if (q->count == ZT_UDP_BATCH)
		return ZT_ESTATE;
	if (len > ZT_UDP_MAX_DATAGRAM)
		return ZT_ETOOBIG;
	s = (q->head + q->count) % ZT_UDP_BATCH;
	if (to->port == 0 ||
	    zt_udp_endpoint_to_sockaddr(to, q->udp->family, &q->to[s], &q->to_len[s]) < 0) {
		q->udp->stats.tx_drops++;
		return ZT_EINVAL;
	}
	q->len[s] = len;
	q->count++;
	if (q->count == ZT_UDP_BATCH && !q->blocked)
		zt_udp_flush(q);
	return 0;
}

int zt_udp_queue(struct zt_udp_txq *q, const struct zt_endpoint *to, const void *data, size_t len)
{
	uint8_t *p;

	if (len > ZT_UDP_MAX_DATAGRAM)
		return ZT_ETOOBIG;
	p = zt_udp_slot_get(q);
	if (!p)
		return ZT_EAGAIN;
	memcpy(p, data, len);
	return zt_udp_slot_commit(q, to, len);
}
