/*
 * wire.h - the one bounded reader and its twin writer for bytes from outside.
 * A cursor with `left` and a sticky error flag: read every field, check
 * `rd.err` once, then act. No other code does pointer arithmetic on packets.
 */
#ifndef ZT_WIRE_H
#define ZT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct zt_rd {
	const uint8_t *p;
	size_t left;
	bool err;
};

struct zt_wr {
	uint8_t *p;
	size_t left;
	size_t len; /* bytes written so far */
	bool err;
};

static inline void zt_rd_init(struct zt_rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = len;
	r->err = false;
}

static inline bool zt_rd_need(struct zt_rd *r, size_t n)
{
	if (r->err || r->left < n) {
		r->err = true;
		return false;
	}
	return true;
}

static inline uint8_t zt_rd_u8(struct zt_rd *r)
{
	uint8_t v;
	if (!zt_rd_need(r, 1))
		return 0;
	v = r->p[0];
	r->p += 1;
	r->left -= 1;
	return v;
}

static inline uint16_t zt_rd_be16(struct zt_rd *r)
{
	uint16_t v;
	if (!zt_rd_need(r, 2))
		return 0;
	v = (uint16_t)((r->p[0] << 8) | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return v;
}

static inline uint32_t zt_rd_be32(struct zt_rd *r)
{
	uint32_t v;
	if (!zt_rd_need(r, 4))
		return 0;
	v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
	r->p += 4;
	r->left -= 4;
	return v;
}

/* n big-endian bytes (1..8) into the low bits of a u64: addresses are 5 bytes. */
static inline uint64_t zt_rd_beN(struct zt_rd *r, size_t n)
{
	uint64_t v = 0;
	if (n > 8 || !zt_rd_need(r, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

static inline uint64_t zt_rd_be64(struct zt_rd *r)
{
	return zt_rd_beN(r, 8);
}

/* Copy n bytes out. */
static inline void zt_rd_bytes(struct zt_rd *r, void *out, size_t n)
{
	if (!zt_rd_need(r, n)) {
		memset(out, 0, n);
		return;
	}
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
}

/* Borrow n bytes in place (valid as long as the buffer is). NULL on error. */
static inline const uint8_t *zt_rd_ref(struct zt_rd *r, size_t n)
{
	const uint8_t *p;
	if (!zt_rd_need(r, n))
		return NULL;
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

/* The one way to read a length-prefixed (be16) field, bounded by max. */
static inline const uint8_t *zt_rd_lv16(struct zt_rd *r, size_t max, size_t *len)
{
	size_t n = zt_rd_be16(r);
	if (n > max) {
		r->err = true;
		*len = 0;
		return NULL;
	}
	*len = n;
	return zt_rd_ref(r, n);
}

static inline void zt_wr_init(struct zt_wr *w, void *buf, size_t cap)
{
	w->p = buf;
	w->left = cap;
	w->len = 0;
	w->err = false;
}

static inline bool zt_wr_need(struct zt_wr *w, size_t n)
{
	if (w->err || w->left < n) {
		w->err = true;
		return false;
	}
	return true;
}

static inline void zt_wr_u8(struct zt_wr *w, uint8_t v)
{
	if (!zt_wr_need(w, 1))
		return;
	w->p[0] = v;
	w->p += 1;
	w->left -= 1;
	w->len += 1;
}

static inline void zt_wr_beN(struct zt_wr *w, uint64_t v, size_t n)
{
	if (n > 8 || !zt_wr_need(w, n))
		return;
	for (size_t i = 0; i < n; i++)
		w->p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	w->p += n;
	w->left -= n;
	w->len += n;
}

static inline void zt_wr_be16(struct zt_wr *w, uint16_t v) { zt_wr_beN(w, v, 2); }
static inline void zt_wr_be32(struct zt_wr *w, uint32_t v) { zt_wr_beN(w, v, 4); }
static inline void zt_wr_be64(struct zt_wr *w, uint64_t v) { zt_wr_beN(w, v, 8); }

static inline void zt_wr_bytes(struct zt_wr *w, const void *src, size_t n)
{
	if (!zt_wr_need(w, n))
		return;
	if (n)
		memcpy(w->p, src, n);
	w->p += n;
	w->left -= n;
	w->len += n;
}

/* Reserve n bytes to fill in place later (for sealing in place). NULL on error. */
static inline uint8_t *zt_wr_reserve(struct zt_wr *w, size_t n)
{
	uint8_t *p;
	if (!zt_wr_need(w, n))
		return NULL;
	p = w->p;
	w->p += n;
	w->left -= n;
	w->len += n;
	return p;
}

static inline void zt_wr_lv16(struct zt_wr *w, const void *src, size_t n)
{
	if (n > 0xffff) {
		w->err = true;
		return;
	}
	zt_wr_be16(w, (uint16_t)n);
	zt_wr_bytes(w, src, n);
}

#endif
