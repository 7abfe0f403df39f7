/*
 * port.c - the zt_port_* calls every backend shares: argument checks done
 * once here before dispatch to the backend's ops, and the address, prefix
 * and MAC text helpers. Owns no OS resource; the backends do.
 */
#include "tap/port.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t family_bytes(uint8_t family)
{
	if (family == 4)
		return 4;
	if (family == 6)
		return 16;
	return 0;
}

static unsigned family_bits(uint8_t family)
{
	return (unsigned)family_bytes(family) * 8;
}

static bool ip_valid(const struct zt_port_ip *ip)
{
	return ip && family_bytes(ip->family) != 0;
}

static bool prefix_valid(const struct zt_port_prefix *pfx)
{
	return pfx && ip_valid(&pfx->ip) && pfx->bits <= family_bits(pfx->ip.family);
}

int zt_port_read_batch(struct zt_port *p, struct zt_port_frame *frames, size_t n)
{
	if (!p || !frames || n == 0 || n > ZT_PORT_BATCH_MAX)
		return ZT_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!frames[i].data || frames[i].cap < ZT_PORT_ETH_HDR_MIN)
			return ZT_EINVAL;
		frames[i].len = 0;
	}
	return p->ops->read_batch(p, frames, n);
}

int zt_port_write(struct zt_port *p, const void *frame, size_t len)
{
	if (!p || !frame || len < ZT_PORT_ETH_HDR_MIN)
		return ZT_EINVAL;
	if (len > (size_t)p->mtu_bytes + ZT_PORT_ETH_HDR_MAX || len > ZT_PORT_FRAME_MAX)
		return ZT_ETOOBIG;
	return p->ops->write(p, frame, len);
}

int zt_port_fd(const struct zt_port *p)
{
	if (!p)
		return ZT_EINVAL;
	return p->ops->fd(p);
}

int zt_port_set_mtu(struct zt_port *p, unsigned mtu_bytes)
{
	if (!p || mtu_bytes < ZT_PORT_MTU_MIN || mtu_bytes > ZT_PORT_MTU_MAX)
		return ZT_EINVAL;
	return p->ops->set_mtu(p, mtu_bytes);
}

int zt_port_set_up(struct zt_port *p, bool up)
{
	if (!p)
		return ZT_EINVAL;
	return p->ops->set_up(p, up);
}

int zt_port_addr_add(struct zt_port *p, const struct zt_port_prefix *addr)
{
	if (!p || !prefix_valid(addr))
		return ZT_EINVAL;
	return p->ops->addr_add(p, addr);
}

int zt_port_addr_del(struct zt_port *p, const struct zt_port_prefix *addr)
{
	if (!p || !prefix_valid(addr))
		return ZT_EINVAL;
	return p->ops->addr_del(p, addr);
}

static bool route_valid(const struct zt_port_prefix *target, const struct zt_port_ip *via)
{
	if (!prefix_valid(target) || !zt_port_prefix_is_network(target))
		return false;
	return !via || (ip_valid(via) && via->family == target->ip.family);
}

int zt_port_route_add(struct zt_port *p, const struct zt_port_prefix *target,
		      const struct zt_port_ip *via)
{
	if (!p || !route_valid(target, via))
		return ZT_EINVAL;
	return p->ops->route_add(p, target, via);
}

int zt_port_route_del(struct zt_port *p, const struct zt_port_prefix *target,
		      const struct zt_port_ip *via)
{
	if (!p || !route_valid(target, via))
		return ZT_EINVAL;
	return p->ops->route_del(p, target, via);
}

int zt_port_multicast_list(struct zt_port *p, struct zt_port_mac *out, size_t max, size_t *count)
{
	if (!p || !count || (!out && max > 0))
		return ZT_EINVAL;
	*count = 0;
	return p->ops->multicast_list(p, out, max, count);
}

void zt_port_close(struct zt_port *p)
{
	if (p)
		p->ops->close(p);
}

int zt_port_unsupported(const struct zt_port *p, const char *what)
{
	zt_log(ZT_LOG_WARN, "%s port %s: cannot %s", p->kind, p->name, what);
	return ZT_EPERM;
}

int zt_port_ip_parse(struct zt_port_ip *ip, const char *text)
{
	if (!ip || !text)
		return ZT_EINVAL;
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, text, ip->addr) == 1) {
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, ip->addr) == 1) {
		ip->family = 6;
		return 0;
	}
	return ZT_EPARSE;
}

int zt_port_prefix_parse(struct zt_port_prefix *pfx, const char *text)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash;
	size_t host_len;
	char *end;
	long bits;
	int err;

	if (!pfx || !text)
		return ZT_EINVAL;
	slash = strchr(text, '/');
	host_len = slash ? (size_t)(slash - text) : strlen(text);
	if (host_len == 0 || host_len >= sizeof(host))
		return ZT_EPARSE;
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	err = zt_port_ip_parse(&pfx->ip, host);
	if (err < 0)
		return err;
	if (!slash) {
		pfx->bits = (uint8_t)family_bits(pfx->ip.family);
		return 0;
	}
	if (slash[1] < '0' || slash[1] > '9')
		return ZT_EPARSE;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0' || bits < 0 || bits > (long)family_bits(pfx->ip.family))
		return ZT_EPARSE;
	pfx->bits = (uint8_t)bits;
	return 0;
}

int zt_port_prefix_format(const struct zt_port_prefix *pfx, char *out, size_t out_len)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (!prefix_valid(pfx) || !out)
		return ZT_EINVAL;
	if (!inet_ntop(pfx->ip.family == 4 ? AF_INET : AF_INET6, pfx->ip.addr, host, sizeof(host)))
		return ZT_EINVAL;
	n = snprintf(out, out_len, "%s/%u", host, (unsigned)pfx->bits);
	if (n < 0 || (size_t)n >= out_len)
		return ZT_ETOOBIG;
	return 0;
}

bool zt_port_prefix_is_network(const struct zt_port_prefix *pfx)
{
	size_t bytes;

	if (!prefix_valid(pfx))
		return false;
	bytes = family_bytes(pfx->ip.family);
	for (size_t i = 0; i < bytes; i++) {
		unsigned first = (unsigned)i * 8;
		uint8_t host_mask;

		if (first + 8 <= pfx->bits)
			continue;
		host_mask = first >= pfx->bits ? 0xff : (uint8_t)(0xff >> (pfx->bits - first));
		if (pfx->ip.addr[i] & host_mask)
			return false;
	}
	return true;
}

int zt_port_mac_format(const struct zt_port_mac *mac, char *out, size_t out_len)
{
	int n;

	if (!mac || !out)
		return ZT_EINVAL;
	n = snprintf(out, out_len, "%02x:%02x:%02x:%02x:%02x:%02x", mac->b[0], mac->b[1],
		     mac->b[2], mac->b[3], mac->b[4], mac->b[5]);
	if (n < 0 || (size_t)n >= out_len)
		return ZT_ETOOBIG;
	return 0;
}

/* ---------- checksum completion (bridged captures) ---------- */

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		acc += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		acc += (uint32_t)(p[0] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

bool zt_port_complete_checksum(uint8_t *frame, size_t len)
{
	size_t l3 = 14, l4, seg_len, csum_off;
	uint16_t ethertype;
	uint32_t acc = 0;
	uint8_t proto;
	uint16_t want;

	if (len < 14)
		return false;
	ethertype = (uint16_t)(frame[12] << 8 | frame[13]);
	if (ethertype == 0x8100 && len >= 18) {
		ethertype = (uint16_t)(frame[16] << 8 | frame[17]);
		l3 = 18;
	}
	if (ethertype == 0x0800) {
		size_t ihl, total;
		if (len < l3 + 20)
			return false;
		ihl = (size_t)(frame[l3] & 0x0f) * 4;
		total = (size_t)(frame[l3 + 2] << 8 | frame[l3 + 3]);
		if ((frame[l3] >> 4) != 4 || ihl < 20 || total < ihl || l3 + total > len)
			return false;
		if ((frame[l3 + 6] & 0x3f) || frame[l3 + 7]) /* MF or offset: a fragment */
			return false;
		proto = frame[l3 + 9];
		l4 = l3 + ihl;
		seg_len = total - ihl;
		acc = sum16(acc, frame + l3 + 12, 8); /* addresses */
	} else if (ethertype == 0x86dd) {
		if (len < l3 + 40 || (frame[l3] >> 4) != 6)
			return false;
		proto = frame[l3 + 6];
		l4 = l3 + 40;
		seg_len = (size_t)(frame[l3 + 4] << 8 | frame[l3 + 5]);
		if (l4 + seg_len > len)
			return false;
		acc = sum16(acc, frame + l3 + 8, 32);
	} else {
		return false;
	}
	if (proto == 6)
		csum_off = 16;
	else if (proto == 17)
		csum_off = 6;
	else
		return false;
	if (seg_len < csum_off + 2)
		return false;
	if (proto == 17 && ethertype == 0x0800 && !frame[l4 + 6] && !frame[l4 + 7])
		return false; /* IPv4 UDP without a checksum */
	acc += proto;
	acc += (uint32_t)seg_len;
	if (fold(sum16(acc, frame + l4, seg_len)) == 0)
		return false; /* verifies: leave it */
	frame[l4 + csum_off] = 0;
	frame[l4 + csum_off + 1] = 0;
	want = fold(sum16(acc, frame + l4, seg_len));
	if (proto == 17 && want == 0)
		want = 0xffff;
	frame[l4 + csum_off] = (uint8_t)(want >> 8);
	frame[l4 + csum_off + 1] = (uint8_t)want;
	return true;
}
