/*
 * endpoint.h - an underlay UDP endpoint (IPv4 or IPv6 address and port) as
 * the core sees it: plain bytes, no sockaddr. osdep/ converts.
 */
#ifndef ZT_ENDPOINT_H
#define ZT_ENDPOINT_H

#include "base/zt.h"

#define ZT_ENDPOINT_TEXT_MAX 56 /* "[ipv6]:port" or "a.b.c.d/port" + NUL */

struct zt_endpoint {
	uint8_t family; /* 4 or 6; 0 = none */
	uint8_t addr[16]; /* IPv4 in the first 4 bytes */
	uint16_t port;
};

bool zt_endpoint_equal(const struct zt_endpoint *a, const struct zt_endpoint *b);
bool zt_endpoint_is_set(const struct zt_endpoint *e);
/* "198.51.100.10/9993" or "2001:db8::1/9993" (slash form, as in ztd.conf). */
int zt_endpoint_format(const struct zt_endpoint *e, char *out, size_t out_len);
/* Accepts "ip/port", "ip:port" (IPv4) and "[ipv6]:port". */
int zt_endpoint_parse(struct zt_endpoint *e, const char *text);
/* Private, loopback, link-local and the like: for path choice and introductions. */
bool zt_endpoint_is_private(const struct zt_endpoint *e);
uint32_t zt_endpoint_hash(const struct zt_endpoint *e);

#endif
