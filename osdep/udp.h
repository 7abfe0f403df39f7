/*
 * udp.h - the underlay UDP socket with batched I/O: one recvmmsg fills up to
 * ZT_UDP_BATCH caller-owned buffers, and a send queue of ZT_UDP_BATCH slots
 * goes out with one sendmmsg. Also the endpoint <-> sockaddr conversions.
 */
#ifndef ZT_OSDEP_UDP_H
#define ZT_OSDEP_UDP_H

#include "base/endpoint.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define ZT_UDP_BATCH 64 /* datagrams per recvmmsg/sendmmsg: amortizes the syscall */
#define ZT_UDP_MAX_DATAGRAM 10240 /* above any sane underlay MTU plus our headers */
#define ZT_UDP_SOCKBUF_BYTES (8 * 1024 * 1024) /* rcv/snd buffer asked for: bursts at 10 Gb/s */

struct zt_udp_stats {
	uint64_t rx_datagrams;
	uint64_t rx_bytes;
	uint64_t rx_syscalls;
	uint64_t rx_truncated; /* larger than ZT_UDP_MAX_DATAGRAM, dropped */
	uint64_t tx_datagrams;
	uint64_t tx_bytes;
	uint64_t tx_syscalls;
	uint64_t tx_drops; /* queue full while the socket was blocked, or unsendable */
	uint64_t tx_errors; /* the kernel refused a datagram (unreachable, bad address) */
	uint64_t tx_blocked; /* times the socket buffer was full (EAGAIN) */
};

#define ZT_UDP_GSO_MAX_SEGS 64      /* datagrams in one UDP_SEGMENT send (kernel limit 64) */
#define ZT_UDP_GSO_MAX_BYTES 65000  /* bytes in one UDP_SEGMENT send (one IP packet's worth) */

struct zt_udp {
	int fd;
	bool gso; /* UDP_SEGMENT works on this socket (cleared on the first refusal) */
	int family; /* AF_INET6 (dual-stack) or AF_INET */
	uint16_t port; /* bound port, host order */
	struct zt_udp_stats stats;
};

/* Open a non-blocking socket on port (0: ephemeral). bind_addr NULL or unset:
 * the IPv6 wildcard accepting IPv4-mapped, else IPv4 if IPv6 is unavailable. */
int zt_udp_open(struct zt_udp *u, const struct zt_endpoint *bind_addr, uint16_t port);
void zt_udp_close(struct zt_udp *u);
/* The bound local address (the wildcard as family 6 or 4, port set). */
int zt_udp_local(const struct zt_udp *u, struct zt_endpoint *out);

/* sockaddr -> endpoint; IPv4-mapped IPv6 comes back as family 4. */
int zt_udp_endpoint_from_sockaddr(struct zt_endpoint *e, const struct sockaddr *sa, socklen_t len);
/* endpoint -> sockaddr for a socket of family sock_family (AF_INET6 maps IPv4). */
int zt_udp_endpoint_to_sockaddr(const struct zt_endpoint *e, int sock_family,
				struct sockaddr_storage *ss, socklen_t *len);

/* Receive side. Big (ZT_UDP_BATCH * ZT_UDP_MAX_DATAGRAM): allocate once. */
struct zt_udp_rx_batch {
	uint8_t *data[ZT_UDP_BATCH]; /* datagram i is data[i][0 .. len[i]) */
	size_t len[ZT_UDP_BATCH];
	struct zt_endpoint from[ZT_UDP_BATCH];
	unsigned ifindex[ZT_UDP_BATCH]; /* interface it arrived on; 0 if unknown */
	/* private */
	uint8_t store[ZT_UDP_BATCH][ZT_UDP_MAX_DATAGRAM];
	struct mmsghdr msgs[ZT_UDP_BATCH];
	struct iovec iov[ZT_UDP_BATCH];
	struct sockaddr_storage addrs[ZT_UDP_BATCH];
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctrl[ZT_UDP_BATCH];
};

void zt_udp_rx_batch_init(struct zt_udp_rx_batch *b);
/* One recvmmsg. Returns the number of datagrams (0: nothing waiting) or a
 * negative ZT_E* code. Truncated datagrams are dropped and counted. */
int zt_udp_recv_batch(struct zt_udp *u, struct zt_udp_rx_batch *b);

/* Send side. When the socket buffer is full the queue keeps what it holds
 * and calls want_write(ctx, true): the owner polls for EPOLLOUT and calls
 * zt_udp_flush, and want_write(ctx, false) comes once the queue drained. */
typedef void (*zt_udp_want_write_fn)(void *ctx, bool on);

struct zt_udp_txq {
	struct zt_udp *udp;
	zt_udp_want_write_fn want_write;
	void *ctx;
	unsigned head; /* oldest queued slot (a ring of ZT_UDP_BATCH) */
	unsigned count; /* committed datagrams waiting to be sent */
	bool blocked; /* the last send hit EAGAIN; waiting for EPOLLOUT */
	/* private */
	uint8_t buf[ZT_UDP_BATCH][ZT_UDP_MAX_DATAGRAM];
	size_t len[ZT_UDP_BATCH];
	struct sockaddr_storage to[ZT_UDP_BATCH];
	socklen_t to_len[ZT_UDP_BATCH];
	struct iovec iov[ZT_UDP_BATCH];
	struct mmsghdr msgs[ZT_UDP_BATCH];
	unsigned msg_dgrams[ZT_UDP_BATCH]; /* datagrams carried by each prepared message */
	union {                             /* one UDP_SEGMENT control message per prepared message */
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(uint16_t))];
	} ctrl[ZT_UDP_BATCH];
};

void zt_udp_txq_init(struct zt_udp_txq *q, struct zt_udp *u, zt_udp_want_write_fn want_write,
		     void *ctx);
/* Copy one datagram in. ZT_EAGAIN: dropped (queue full, socket blocked). */
int zt_udp_queue(struct zt_udp_txq *q, const struct zt_endpoint *to, const void *data, size_t len);
/* Zero-copy: a ZT_UDP_MAX_DATAGRAM-byte buffer to write the next datagram
 * into, or NULL when the queue is full and the socket blocked (a drop is
 * counted). Calling it again before commit returns the same buffer. */
uint8_t *zt_udp_slot_get(struct zt_udp_txq *q);
/* Commit the buffer from slot_get as a datagram of len bytes to `to`;
 * sends the batch when the queue is full. */
int zt_udp_slot_commit(struct zt_udp_txq *q, const struct zt_endpoint *to, size_t len);
/* Send everything queued. 0 when empty, ZT_EAGAIN if the socket is blocked. */
int zt_udp_flush(struct zt_udp_txq *q);
unsigned zt_udp_pending(const struct zt_udp_txq *q);

#endif
