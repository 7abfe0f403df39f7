/*
 * ids.c - the bottom of the controller: network ids and member addresses
 * parsed from and formatted to hex, and random bytes. Knows nothing of
 * documents, the store or transactions.
 */
#include "ctl_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

void zt_ctl_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			zt_log(ZT_LOG_ERROR, "controller: getrandom: %s", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

static int parse_hex(const char *s, size_t digits, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || strnlen(s, digits + 1) != digits)
		return ZT_EINVAL;
	for (size_t i = 0; i < digits; i++) {
		char ch = s[i];
		unsigned d;
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return ZT_EINVAL;
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

int zt_ctl_parse_nwid(const char *s, uint64_t *nwid)
{
	return parse_hex(s, 16, nwid);
}

int zt_ctl_parse_member(const char *s, uint64_t *member)
{
	if (parse_hex(s, 10, member) != 0 || zt_address_reserved(*member))
		return ZT_EINVAL;
	return 0;
}

void zt_ctl_format_nwid(char out[17], uint64_t nwid)
{
	snprintf(out, 17, "%016" PRIx64, nwid);
}

void zt_ctl_format_member(char out[11], uint64_t member)
{
	snprintf(out, 11, "%010" PRIx64, (uint64_t)(member & ZT_ADDR_MASK));
}
