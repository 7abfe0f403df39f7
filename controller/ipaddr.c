/*
 * ipaddr.c - the controller's IP arithmetic: strict parsing of addresses and
 * CIDR prefixes, comparison, and picking the first free address of a
 * network's pools. Knows nothing of the store; member.c decides when to pick.
 */
#include "ctl_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t fam_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

int zt_ctl_ip_parse(struct zt_ctl_ip *ip, const char *text)
{
	memset(ip, 0, sizeof(*ip));
	if (!text || strnlen(text, ZT_CTL_IP_TEXT_MAX) >= ZT_CTL_IP_TEXT_MAX)
		return ZT_EINVAL;
	if (inet_pton(AF_INET, text, ip->addr) == 1) {
		ip->family = 4;
		return 0;
	}
	if (strchr(text, ':') && inet_pton(AF_INET6, text, ip->addr) == 1) {
		ip->family = 6;
		return 0;
	}
	memset(ip, 0, sizeof(*ip));
	return ZT_EINVAL;
}

void zt_ctl_ip_format(const struct zt_ctl_ip *ip, char out[ZT_CTL_IP_TEXT_MAX])
{
	if (!inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->addr, out, ZT_CTL_IP_TEXT_MAX))
		snprintf(out, ZT_CTL_IP_TEXT_MAX, "-");
}

int zt_ctl_cidr_parse(struct zt_ctl_ip *ip, uint8_t *prefix_len, const char *text)
{
	char buf[ZT_CTL_IP_TEXT_MAX + 4];
	const char *slash;
	unsigned long bits;
	char *end;
	size_t n;

	if (!text || (n = strnlen(text, sizeof(buf))) >= sizeof(buf))
		return ZT_EINVAL;
	slash = strchr(text, '/');
	if (!slash || slash == text || slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
		return ZT_EINVAL;
	memcpy(buf, text, (size_t)(slash - text));
	buf[slash - text] = '\0';
	if (zt_ctl_ip_parse(ip, buf) != 0)
		return ZT_EINVAL;
	bits = strtoul(slash + 1, &end, 10);
	if (*end != '\0' || (slash[1] == '0' && slash[2] != '\0') || bits > fam_len(ip->family) * 8)
		return ZT_EINVAL;
	*prefix_len = (uint8_t)bits;
	return 0;
}

int zt_ctl_ip_cmp(const struct zt_ctl_ip *a, const struct zt_ctl_ip *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, fam_len(a->family));
}

bool zt_ctl_ip_in_prefix(const struct zt_ctl_ip *ip, const struct zt_ctl_ip *net, uint8_t prefix_len)
{
	if (ip->family != net->family || prefix_len > fam_len(ip->family) * 8)
		return false;
	for (size_t i = 0; i < prefix_len; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));
		if ((ip->addr[i / 8] & m) != (net->addr[i / 8] & m))
			return false;
	}
	return true;
}

bool zt_ctl_ip_assignable(const struct zt_ctl_ip *ip)
{
	static const uint8_t zero[16];
	const uint8_t *a = ip->addr;

	if (memcmp(a, zero, fam_len(ip->family)) == 0)
		return false;
	if (ip->family == 4)
		return a[0] != 127 && a[0] < 224 && !(a[0] == 0);
	if (a[0] == 0xff)
		return false; /* multicast */
	return !(memcmp(a, zero, 15) == 0 && a[15] == 1); /* ::1 */
}

/* Add one; false when it wraps past the family's last address. */
static bool ip_next(struct zt_ctl_ip *ip)
{
	for (size_t i = fam_len(ip->family); i-- > 0;) {
		if (++ip->addr[i] != 0)
			return true;
	}
	return false;
}

static bool taken_has(const struct zt_ctl_ip *taken, size_t n, const struct zt_ctl_ip *ip)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = zt_ctl_ip_cmp(&taken[mid], ip);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Walk each pool from its start: every address skipped is a taken one, so
 * the walk is bounded by n_taken + 1 steps per pool, never by pool size.
 */
int zt_ctl_ip_pick(const json_t *pools, const struct zt_ctl_ip *taken, size_t n_taken, struct zt_ctl_ip *out)
{
	size_t i;
	json_t *pool;

	json_array_foreach(pools, i, pool) {
		struct zt_ctl_ip cur, end;
		if (zt_ctl_ip_parse(&cur, json_string_value(json_object_get(pool, "start"))) != 0 ||
		    zt_ctl_ip_parse(&end, json_string_value(json_object_get(pool, "end"))) != 0)
			continue;
		for (size_t steps = 0; steps <= n_taken && zt_ctl_ip_cmp(&cur, &end) <= 0; steps++) {
			if (zt_ctl_ip_assignable(&cur) && !taken_has(taken, n_taken, &cur)) {
				*out = cur;
				return 0;
			}
			if (!ip_next(&cur))
				break;
		}
	}
	return ZT_ENOENT;
}
