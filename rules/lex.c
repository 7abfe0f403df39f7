/*
 * lex.c - the tokenizer shared by the rules compiler and the test-case
 * reader, and the parsers of literal words (numbers, ranges, member
 * addresses, MACs, IP prefixes, percentages, TCP flag lists). It knows no
 * grammar: which word means what is compile.c's and testcase.c's business.
 */
#include "lex.h"

#include <arpa/inet.h>
#include <string.h>

void zt_rules_lex_init(struct zt_rules_lex *lx, const char *text, size_t len, unsigned line)
{
	lx->p = text;
	lx->end = text + len;
	lx->line = line;
	lx->col = 1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_word(char c)
{
	unsigned char u = (unsigned char)c;

	return u > ' ' && u < 0x7f && c != ';' && c != '{' && c != '}' && c != '#';
}

static void advance(struct zt_rules_lex *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->p++;
}

static void skip_blanks_and_comments(struct zt_rules_lex *lx)
{
	while (lx->p < lx->end) {
		if (is_blank(*lx->p)) {
			advance(lx);
		} else if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx);
		} else {
			return;
		}
	}
}

void zt_rules_lex_next(struct zt_rules_lex *lx, struct zt_rules_tok *t)
{
	skip_blanks_and_comments(lx);
	t->s = lx->p;
	t->n = 0;
	t->line = lx->line;
	t->col = lx->col;
	if (lx->p >= lx->end) {
		t->kind = ZT_RULES_TOK_EOF;
		return;
	}
	switch (*lx->p) {
	case ';': t->kind = ZT_RULES_TOK_SEMI; break;
	case '{': t->kind = ZT_RULES_TOK_LBRACE; break;
	case '}': t->kind = ZT_RULES_TOK_RBRACE; break;
	default:
		if (!is_word(*lx->p)) {
			t->kind = ZT_RULES_TOK_BAD;
			t->n = 1;
			return; /* the caller stops here; no need to move on */
		}
		t->kind = ZT_RULES_TOK_WORD;
		while (lx->p < lx->end && is_word(*lx->p)) {
			advance(lx);
			t->n++;
		}
		return;
	}
	t->n = 1;
	advance(lx);
}

bool zt_rules_tok_is(const struct zt_rules_tok *t, const char *word)
{
	return t->kind == ZT_RULES_TOK_WORD && strlen(word) == t->n && memcmp(t->s, word, t->n) == 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

const char *zt_rules_parse_u32(const char *s, size_t n, uint32_t max, uint32_t *v)
{
	unsigned base = 10;
	uint64_t acc = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		n -= 2;
	}
	if (n == 0)
		return "expected a number";
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0 || (unsigned)d >= base)
			return "expected a number";
		acc = acc * base + (unsigned)d;
		if (acc > max)
			return "number out of range";
	}
	*v = (uint32_t)acc;
	return NULL;
}

const char *zt_rules_parse_range(const char *s, size_t n, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	const char *dash = memchr(s, '-', n);
	const char *why;

	if (!dash) {
		why = zt_rules_parse_u32(s, n, max, lo);
		*hi = *lo;
		return why;
	}
	why = zt_rules_parse_u32(s, (size_t)(dash - s), max, lo);
	if (!why)
		why = zt_rules_parse_u32(dash + 1, n - (size_t)(dash - s) - 1, max, hi);
	if (why)
		return why;
	return *lo > *hi ? "range low end above high end" : NULL;
}

const char *zt_rules_parse_member(const char *s, size_t n, uint64_t *addr)
{
	uint64_t v = 0;

	if (n != 10)
		return "member address must be 10 hex digits";
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(s[i]);

		if (d < 0)
			return "member address must be 10 hex digits";
		v = (v << 4) | (unsigned)d;
	}
	if (v == 0)
		return "member address 0000000000 is reserved";
	*addr = v;
	return NULL;
}

const char *zt_rules_parse_mac(const char *s, size_t n, uint8_t mac[6])
{
	if (n != 17)
		return "MAC address must look like 02:00:5e:10:00:01";
	for (size_t i = 0; i < 6; i++) {
		int hi = hex_digit(s[i * 3]);
		int lo = hex_digit(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return "MAC address must look like 02:00:5e:10:00:01";
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return NULL;
}

const char *zt_rules_parse_ip(const char *s, size_t n, uint8_t addr[16], unsigned *bytes)
{
	char text[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(text))
		return "expected an IP address";
	memcpy(text, s, n);
	text[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*bytes = 4;
		return NULL;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*bytes = 16;
		return NULL;
	}
	return "expected an IP address";
}

const char *zt_rules_parse_prefix(const char *s, size_t n, uint8_t addr[16], unsigned *bytes,
				  unsigned *bits)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	const char *why = zt_rules_parse_ip(s, alen, addr, bytes);
	uint32_t v;

	if (why)
		return why;
	*bits = *bytes * 8;
	if (!slash)
		return NULL;
	why = zt_rules_parse_u32(slash + 1, n - alen - 1, *bytes * 8, &v);
	if (why)
		return *bytes == 4 ? "prefix length must be 0-32" : "prefix length must be 0-128";
	*bits = v;
	if (!zt_rules_prefix_ok(addr, *bytes, *bits))
		return "address has bits set past its prefix length (use the network address)";
	return NULL;
}

/* Decimal digits only, at most max_digits of them. */
static bool decimal(const char *s, size_t n, size_t max_digits, uint32_t *v)
{
	*v = 0;
	if (n == 0 || n > max_digits)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (uint32_t)(s[i] - '0');
	}
	return true;
}

const char *zt_rules_parse_percent(const char *s, size_t n, uint32_t *ppm)
{
	static const char *const bad = "probability must be a percentage like 25% or 0.5%";
	const char *dot;
	uint32_t whole, frac = 0;
	size_t wlen;

	if (n < 2 || s[n - 1] != '%')
		return bad;
	n--;
	dot = memchr(s, '.', n);
	wlen = dot ? (size_t)(dot - s) : n;
	if (!decimal(s, wlen, 3, &whole))
		return bad;
	if (dot) {
		size_t flen = n - wlen - 1;

		if (!decimal(dot + 1, flen, 4, &frac))
			return "probability takes 1 to 4 decimals";
		for (size_t i = flen; i < 4; i++)
			frac *= 10;
	}
	if (whole * 10000 + frac > ZT_RULES_PPM)
		return "probability must be 0% to 100%";
	*ppm = whole * 10000 + frac;
	return NULL;
}

const char *zt_rules_parse_tcp_flags(const char *s, size_t n, uint16_t *mask, uint16_t *value)
{
	*mask = 0;
	*value = 0;
	while (n) {
		const char *comma = memchr(s, ',', n);
		size_t len = comma ? (size_t)(comma - s) : n;
		bool clear = len && s[0] == '!';
		long bit = zt_rules_name_value(zt_rules_tcp_flags, zt_rules_tcp_flag_count,
					       s + clear, len - clear);

		if (bit < 0)
			return "unknown TCP flag (fin syn rst psh ack urg ece cwr ns, '!' for clear)";
		if (*mask & bit)
			return "TCP flag named twice";
		*mask |= (uint16_t)bit;
		if (!clear)
			*value |= (uint16_t)bit;
		if (!comma)
			return NULL;
		s += len + 1;
		n -= len + 1;
		if (n == 0)
			return "TCP flag list ends with a comma";
	}
	return "expected TCP flags";
}
