/*
 * peer_cache.c - the peer cache format: encode and decode, every field
 * checked through the bounded reader. It owns the bytes, not the file (the
 * daemon's src/service/peer_cache.c) nor what is done with an entry (the node
 * seeds it: zt_node_seed_peer). The layout is in PROTOCOL.md "Peer cache".
 */
#include "peer_cache.h"
#include "packet.h"
#include "base/wire.h"

#include <string.h>

size_t zt_peer_cache_size(unsigned count)
{
	return ZT_PEER_CACHE_HDR_BYTES + (size_t)count * ZT_PEER_CACHE_ENTRY_MAX;
}

static void encode_entry(struct zt_wr *w, const struct zt_peer_cache_entry *e)
{
	char text[ZT_IDENTITY_PUBLIC_TEXT_MAX];
	unsigned n_eps = ZT_MIN(e->n_eps, (unsigned)ZT_PEER_CACHE_ENDPOINTS);
	unsigned n_nets = ZT_MIN(e->n_nets, (unsigned)ZT_PEER_CACHE_NETWORKS);
	size_t tlen, start;
	uint8_t *len_at;

	if (zt_identity_to_text(&e->id, false, text, sizeof(text)) < 0) {
		w->err = true;
		return;
	}
	tlen = strlen(text);
	len_at = zt_wr_reserve(w, 2);
	start = w->len;
	zt_wr_u8(w, (uint8_t)tlen);
	zt_wr_bytes(w, text, tlen);
	zt_wr_u8(w, (uint8_t)n_eps);
	for (unsigned i = 0; i < n_eps; i++)
		zt_wr_endpoint(w, &e->eps[i]);
	zt_wr_u8(w, (uint8_t)n_nets);
	for (unsigned i = 0; i < n_nets; i++)
		zt_wr_be64(w, e->nets[i]);
	zt_wr_be64(w, e->last_seen_ms);
	if (len_at && !w->err) {
		len_at[0] = (uint8_t)((w->len - start) >> 8);
		len_at[1] = (uint8_t)(w->len - start);
	}
}

int zt_peer_cache_encode(const struct zt_peer_cache_entry *e, unsigned count, uint8_t *out, size_t cap,
			 size_t *out_len)
{
	struct zt_wr w;

	if (count > ZT_PEER_CACHE_MAX)
		return ZT_ETOOBIG;
	zt_wr_init(&w, out, cap);
	zt_wr_bytes(&w, ZT_PEER_CACHE_MAGIC, 4);
	zt_wr_u8(&w, ZT_PEER_CACHE_VERSION);
	zt_wr_be16(&w, (uint16_t)count);
	for (unsigned i = 0; i < count; i++)
		encode_entry(&w, &e[i]);
	if (w.err)
		return ZT_ETOOBIG;
	*out_len = w.len;
	return 0;
}

/* The identity text: a public identity, NUL-free, of a sane length. */
static int decode_identity(struct zt_rd *rd, struct zt_identity *id)
{
	char text[ZT_IDENTITY_PUBLIC_TEXT_MAX];
	size_t tlen = zt_rd_u8(rd);
	const uint8_t *t = zt_rd_ref(rd, tlen);

	if (!t || tlen == 0 || tlen >= sizeof(text) || memchr(t, 0, tlen))
		return ZT_ETRUNC;
	memcpy(text, t, tlen);
	text[tlen] = 0;
	if (zt_identity_from_text(id, text) < 0 || id->has_secret) {
		zt_identity_wipe(id);
		return ZT_EPARSE;
	}
	return 0;
}

static int decode_entry(struct zt_rd *rd, struct zt_peer_cache_entry *e)
{
	struct zt_rd body;
	int err;

	memset(e, 0, sizeof(*e));
	{
		size_t len = zt_rd_be16(rd);
		const uint8_t *p = zt_rd_ref(rd, len);
		if (!p)
			return ZT_ETRUNC;
		zt_rd_init(&body, p, len);
	}
	err = decode_identity(&body, &e->id);
	if (err)
		return err;
	e->n_eps = zt_rd_u8(&body);
	if (e->n_eps > ZT_PEER_CACHE_ENDPOINTS)
		return ZT_EINVAL;
	for (unsigned i = 0; i < e->n_eps; i++)
		if ((err = zt_rd_endpoint(&body, &e->eps[i])) < 0)
			return err;
	e->n_nets = zt_rd_u8(&body);
	if (e->n_nets > ZT_PEER_CACHE_NETWORKS)
		return ZT_EINVAL;
	for (unsigned i = 0; i < e->n_nets; i++)
		if (zt_address_reserved((e->nets[i] = zt_rd_be64(&body)) >> 24))
			return body.err ? ZT_ETRUNC : ZT_EINVAL;
	e->last_seen_ms = zt_rd_be64(&body);
	if (body.err)
		return ZT_ETRUNC;
	return body.left ? ZT_EPARSE : 0; /* an entry is exactly as long as it says */
}

int zt_peer_cache_decode(const uint8_t *in, size_t len, struct zt_peer_cache_entry *out, unsigned max,
			 unsigned *count, unsigned *cut)
{
	const uint8_t *magic;
	unsigned total, version;
	struct zt_rd rd;
	int err;

	*count = 0;
	*cut = 0;
	zt_rd_init(&rd, in, len);
	magic = zt_rd_ref(&rd, 4);
	version = zt_rd_u8(&rd);
	total = zt_rd_be16(&rd);
	if (rd.err)
		return ZT_ETRUNC;
	if (memcmp(magic, ZT_PEER_CACHE_MAGIC, 4) != 0)
		return ZT_EPARSE;
	if (version != ZT_PEER_CACHE_VERSION)
		return ZT_EVERSION;
	if (total > ZT_PEER_CACHE_MAX)
		return ZT_EINVAL;
	for (unsigned i = 0; i < total && i < max; i++) {
		err = decode_entry(&rd, &out[i]);
		if (err) {
			*count = 0;
			return err;
		}
		*count = i + 1;
	}
	*cut = total - *count;
	/* Entries past the limit are skipped unread; without a cut the file ends here. */
	if (!*cut && rd.left) {
		*count = 0;
		return ZT_EPARSE;
	}
	return 0;
}
