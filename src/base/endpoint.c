/*
 * endpoint.c - formatting, parsing and comparing underlay endpoints.
 * Pure byte handling; the inet_* text helpers are libc string functions, not OS calls.
 */
#include "base/endpoint.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool zt_endpoint_is_set(const struct zt_endpoint *e)
{
	return e->family == 4 || e->family == 6;
}

bool zt_endpoint_equal(const struct zt_endpoint *a, const struct zt_endpoint *b)
{
	size_t n;

	if (a->family != b->family || a->port != b->port)
		return false;
	n = a->family == 4 ? 4 : 16;
	return memcmp(a->addr, b->addr, n) == 0;
}

int zt_endpoint_format(const struct zt_endpoint *e, char *out, size_t out_len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!zt_endpoint_is_set(e)) {
		snprintf(out, out_len, "-");
		return ZT_EINVAL;
	}
	if (!inet_ntop(e->family == 4 ? AF_INET : AF_INET6, e->addr, ip, sizeof(ip)))
		return ZT_EINVAL;
	if (snprintf(out, out_len, "%s/%u", ip, e->port) >= (int)out_len)
		return ZT_ETOOBIG;
	return 0;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return ZT_EINVAL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return ZT_EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int zt_endpoint_parse(struct zt_endpoint *e, const char *text)
{
	char buf[ZT_ENDPOINT_TEXT_MAX];
	const char *port_s;
	char *sep;

	memset(e, 0, sizeof(*e));
	if (strlen(text) >= sizeof(buf))
		return ZT_ETOOBIG;
	strcpy(buf, text);
	if (buf[0] == '[') {
		sep = strchr(buf, ']');
		if (!sep || sep[1] != ':')
			return ZT_EINVAL;
		*sep = '\0';
		port_s = sep + 2;
		if (inet_pton(AF_INET6, buf + 1, e->addr) != 1)
			return ZT_EINVAL;
		e->family = 6;
		return parse_port(port_s, &e->port);
	}
	sep = strrchr(buf, '/');
	if (!sep) {
		sep = strrchr(buf, ':');
		if (!sep || strchr(buf, ':') != sep)
			return ZT_EINVAL; /* bare IPv6 needs the slash or bracket form */
	}
	*sep = '\0';
	port_s = sep + 1;
	if (inet_pton(AF_INET, buf, e->addr) == 1)
		e->family = 4;
	else if (inet_pton(AF_INET6, buf, e->addr) == 1)
		e->family = 6;
	else
		return ZT_EINVAL;
	return parse_port(port_s, &e->port);
}

bool zt_endpoint_is_private(const struct zt_endpoint *e)
{
	const uint8_t *a = e->addr;

	if (e->family == 4)
		return a[0] == 10 || a[0] == 127 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
		       (a[0] == 192 && a[1] == 168) || (a[0] == 169 && a[1] == 254) ||
		       (a[0] == 100 && (a[1] & 0xc0) == 64);
	if (e->family == 6)
		return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
		       (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
	return false;
}

uint32_t zt_endpoint_hash(const struct zt_endpoint *e)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < 16; i++)
		h = (h ^ e->addr[i]) * 16777619u;
	h = (h ^ e->port) * 16777619u;
	return (h ^ e->family) * 16777619u;
}
