/*
 * lex.h - tokens and literal values of the rules language and of rules test
 * cases, internal to rules/. Words are runs of anything but blanks and
 * ";{}#"; literals (numbers, ranges, MACs, prefixes) are parsed from words.
 */
#ifndef ZT_RULES_LEX_H
#define ZT_RULES_LEX_H

#include "format.h"

enum zt_rules_tok_kind {
	ZT_RULES_TOK_EOF,
	ZT_RULES_TOK_WORD,
	ZT_RULES_TOK_SEMI,
	ZT_RULES_TOK_LBRACE,
	ZT_RULES_TOK_RBRACE,
	ZT_RULES_TOK_BAD, /* a byte the language does not allow */
};

struct zt_rules_tok {
	enum zt_rules_tok_kind kind;
	const char *s;
	size_t n;
	unsigned line;
	unsigned col;
};

struct zt_rules_lex {
	const char *p;
	const char *end;
	unsigned line;
	unsigned col;
};

void zt_rules_lex_init(struct zt_rules_lex *lx, const char *text, size_t len, unsigned line);
void zt_rules_lex_next(struct zt_rules_lex *lx, struct zt_rules_tok *t);
bool zt_rules_tok_is(const struct zt_rules_tok *t, const char *word);

/* Literal parsers: NULL on success, else what is wrong with the word. */
const char *zt_rules_parse_u32(const char *s, size_t n, uint32_t max, uint32_t *v);
const char *zt_rules_parse_range(const char *s, size_t n, uint32_t max, uint32_t *lo, uint32_t *hi);
const char *zt_rules_parse_member(const char *s, size_t n, uint64_t *addr);
const char *zt_rules_parse_mac(const char *s, size_t n, uint8_t mac[6]);
/* An IPv4 or IPv6 address; *bytes is 4 or 16. */
const char *zt_rules_parse_ip(const char *s, size_t n, uint8_t addr[16], unsigned *bytes);
/* ADDR or ADDR/BITS with no bits set past BITS. */
const char *zt_rules_parse_prefix(const char *s, size_t n, uint8_t addr[16], unsigned *bytes,
				  unsigned *bits);
/* "25%", "0.5%", "0.0001%": parts per million. */
const char *zt_rules_parse_percent(const char *s, size_t n, uint32_t *ppm);
/* Comma list of TCP flag names, each optionally prefixed with '!'. */
const char *zt_rules_parse_tcp_flags(const char *s, size_t n, uint16_t *mask, uint16_t *value);

#endif
