/*
 * port.h - a virtual port: the one interface between the daemon and the
 * thing that carries a network's Ethernet frames on this host (a Linux TAP,
 * a physical NIC through libpcap, lwIP in userspace). Every backend is
 * non-blocking and exposes one pollable fd for the daemon's epoll loop.
 *
 * A backend that cannot do an operation (pcap cannot set addresses) returns
 * ZT_EPERM and logs why; the caller treats that as "not applicable here".
 * Operations act in the network namespace the port was opened in.
 */
#ifndef ZT_TAP_PORT_H
#define ZT_TAP_PORT_H

#include "base/zt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZT_PORT_NAME_MAX 16 /* IFNAMSIZ, NUL included */
#define ZT_PORT_MTU_MIN 1280 /* the IPv6 minimum: anything less breaks IPv6 on the port */
#define ZT_PORT_MTU_MAX 10000 /* what the overlay carries in one fragmented packet */
#define ZT_PORT_ETH_HDR_MIN 14 /* dst, src, ethertype */
#define ZT_PORT_ETH_HDR_MAX 18 /* plus one 802.1Q tag */
/* A buffer this large holds any frame a port reads. */
#define ZT_PORT_FRAME_MAX (ZT_PORT_MTU_MAX + ZT_PORT_ETH_HDR_MAX)
#define ZT_PORT_MCAST_MAX 256 /* link-layer groups listed per call; a host joins a handful */
#define ZT_PORT_BATCH_MAX 64 /* frames per read_batch call */

struct zt_port;

/* One caller-owned receive buffer; read_batch sets len. */
struct zt_port_frame {
	uint8_t *data;
	size_t cap; /* bytes at data; ZT_PORT_FRAME_MAX holds any frame */
	size_t len;
};

struct zt_port_ip {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
};

struct zt_port_prefix {
	struct zt_port_ip ip;
	uint8_t bits; /* 0..32 for IPv4, 0..128 for IPv6 */
};

struct zt_port_mac {
	uint8_t b[6];
};

struct zt_port_stats {
	uint64_t rx_frames; /* handed to the caller */
	uint64_t rx_dropped; /* over the caller's buffer, cut by capture, or a queue overflowed */
	uint64_t tx_frames;
	uint64_t tx_dropped; /* refused by the OS (queue full, link down) */
};

/*
 * The backend's table. read_batch returns how many frames it filled (0 when
 * none wait) or a negative ZT_E*; the rest return 0 or a negative ZT_E*.
 * Arguments are checked by the zt_port_* wrappers before an op is called.
 */
struct zt_port_ops {
	int (*read_batch)(struct zt_port *p, struct zt_port_frame *frames, size_t n);
	int (*write)(struct zt_port *p, const void *frame, size_t len);
	int (*fd)(const struct zt_port *p);
	int (*set_mtu)(struct zt_port *p, unsigned mtu_bytes);
	int (*set_up)(struct zt_port *p, bool up);
	int (*addr_add)(struct zt_port *p, const struct zt_port_prefix *addr);
	int (*addr_del)(struct zt_port *p, const struct zt_port_prefix *addr);
	int (*route_add)(struct zt_port *p, const struct zt_port_prefix *target,
			 const struct zt_port_ip *via);
	int (*route_del)(struct zt_port *p, const struct zt_port_prefix *target,
			 const struct zt_port_ip *via);
	int (*multicast_list)(struct zt_port *p, struct zt_port_mac *out, size_t max, size_t *count);
	void (*close)(struct zt_port *p);
};

/* Embedded first in each backend's state; the fields are read-only to callers. */
struct zt_port {
	const struct zt_port_ops *ops;
	const char *kind; /* "tap", "pcap", "lwip": names the backend in log lines */
	char name[ZT_PORT_NAME_MAX]; /* the OS interface (lwIP's, for an lwIP port) */
	unsigned ifindex; /* the OS interface's index; 0 for a port with none (lwIP) */
	struct zt_port_mac mac;
	unsigned mtu_bytes;
	struct zt_port_stats stats;
};

/*
 * Read up to n (<= ZT_PORT_BATCH_MAX) waiting frames into frames[0..n-1],
 * never blocking. Returns the count filled, 0 when nothing waits. A frame
 * larger than its buffer is dropped and counted in stats.rx_dropped.
 */
int zt_port_read_batch(struct zt_port *p, struct zt_port_frame *frames, size_t n);
/* Send one frame: ZT_EINVAL below 14 bytes, ZT_ETOOBIG above the MTU plus
 * 18 bytes of header, ZT_EAGAIN when the OS queue is full, ZT_ESTATE while
 * the interface is down. A frame the OS refuses is counted in stats.tx_dropped. */
int zt_port_write(struct zt_port *p, const void *frame, size_t len);
/* The fd to watch for readability (ZT_LOOP_IN). */
int zt_port_fd(const struct zt_port *p);
/* ZT_EINVAL outside ZT_PORT_MTU_MIN..ZT_PORT_MTU_MAX. */
int zt_port_set_mtu(struct zt_port *p, unsigned mtu_bytes);
int zt_port_set_up(struct zt_port *p, bool up);
/* An address with its prefix length (the prefix route comes with it).
 * IPv6 addresses skip duplicate address detection: usable at once.
 * ZT_EEXIST if already there; ZT_ENOENT deleting one that is not. */
int zt_port_addr_add(struct zt_port *p, const struct zt_port_prefix *addr);
int zt_port_addr_del(struct zt_port *p, const struct zt_port_prefix *addr);
/* A route to target (host bits zero) out of this port, through via if
 * not NULL (same family). ZT_EEXIST / ZT_ENOENT as for addresses;
 * ZT_ESTATE while the port is down (the kernel routes only over up links). */
int zt_port_route_add(struct zt_port *p, const struct zt_port_prefix *target,
		      const struct zt_port_ip *via);
int zt_port_route_del(struct zt_port *p, const struct zt_port_prefix *target,
		      const struct zt_port_ip *via);
/* The link-layer multicast groups the OS joined on the port (01:00:5e:...,
 * 33:33:...): what the daemon subscribes to on the network. Up to max into
 * out, *count set; ZT_ETOOBIG if more exist (out holds the first max). */
int zt_port_multicast_list(struct zt_port *p, struct zt_port_mac *out, size_t max, size_t *count);
/* Release the port (a TAP interface disappears). NULL is fine. */
void zt_port_close(struct zt_port *p);

/* "10.147.17.5", "fd00::1". */
int zt_port_ip_parse(struct zt_port_ip *ip, const char *text);
/* "10.147.17.5/24", "fd00::1/64"; no "/bits" means a host (32 or 128). */
int zt_port_prefix_parse(struct zt_port_prefix *pfx, const char *text);
/* "10.147.17.5/24"; out_len of 48 always fits. */
int zt_port_prefix_format(const struct zt_port_prefix *pfx, char *out, size_t out_len);
/* True if no bit past pfx->bits is set (what a route target needs). */
bool zt_port_prefix_is_network(const struct zt_port_prefix *pfx);
/* "01:00:5e:00:00:fb"; out_len of 18 fits. */
int zt_port_mac_format(const struct zt_port_mac *mac, char *out, size_t out_len);

/* For backends: log "<kind> port <name>: cannot <what>" once per call and
 * return ZT_EPERM; what says why ("set the MTU: the NIC's MTU is the OS's"). */
int zt_port_unsupported(const struct zt_port *p, const char *what);

/*
 * Complete the TCP/UDP checksum of an IPv4/IPv6 frame if it does not verify.
 * Frames captured from a veth/tap whose sender offloaded the checksum carry
 * only the pseudo-header sum; forwarded as-is, receivers drop them. Returns
 * true if the frame was changed. Frames that are not TCP/UDP over IP (or are
 * IP fragments, or carry IPv6 extension headers) are left alone.
 */
bool zt_port_complete_checksum(uint8_t *frame, size_t len);

#endif
