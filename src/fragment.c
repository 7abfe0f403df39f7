/*
 * fragment.c - reassembly of fragmented packets in a fixed table allocated
 * once. Fragments are appended to their slot in arrival order (any split
 * whose total fits ZT_REASM_MAX_BYTES is accepted) and copied out in index
 * order on completion. Owns flood resistance (per-source quota, eviction of
 * the oldest slot, expiry); splitting is packet.c's.
 */
#include "fragment.h"

#include "crypto.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	bool used;
	uint64_t src;
	uint32_t packet_id;
	unsigned count;
	uint32_t have;       /* bit i: fragment i stored */
	size_t fill;         /* bytes stored in buf */
	uint64_t born_ms;    /* first fragment's arrival: expiry and eviction age */
	uint64_t seq;        /* arrival order, breaks ties between equal born_ms */
	uint16_t off[ZT_FRAG_MAX_COUNT];
	uint16_t len[ZT_FRAG_MAX_COUNT];
	uint8_t buf[ZT_REASM_MAX_BYTES];
};

struct zt_reasm {
	struct zt_reasm_stats st;
	uint64_t next_seq;
	struct slot slots[ZT_REASM_SLOTS];
	uint8_t out[ZT_REASM_MAX_BYTES]; /* the completed packet, valid until the next add */
};

_Static_assert(ZT_FRAG_MAX_COUNT < 32, "slot.have is a 32-bit mask");
_Static_assert(ZT_REASM_MAX_BYTES <= UINT16_MAX + 1, "fragment offsets are 16-bit");

/* What one pass over the table learns about a fragment's packet. */
struct scan {
	struct slot *match;
	struct slot *free_slot;
	struct slot *oldest;
	unsigned from_src;
};

int zt_reasm_new(struct zt_reasm **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : ZT_ENOMEM;
}

void zt_reasm_free(struct zt_reasm *r)
{
	if (!r)
		return;
	/* The node opens packets in place in out: plaintext may be left there. */
	zt_wipe(r->out, sizeof(r->out));
	free(r);
}

static void release(struct slot *s)
{
	s->used = false;
	s->have = 0;
	s->fill = 0;
}

static bool expired(const struct slot *s, uint64_t now_ms)
{
	return now_ms >= s->born_ms && now_ms - s->born_ms >= ZT_REASM_TIMEOUT_MS;
}

static bool older(const struct slot *a, const struct slot *b)
{
	if (a->born_ms != b->born_ms)
		return a->born_ms < b->born_ms;
	return a->seq < b->seq;
}

void zt_reasm_expire(struct zt_reasm *r, uint64_t now_ms)
{
	for (size_t i = 0; i < ZT_REASM_SLOTS; i++) {
		struct slot *s = &r->slots[i];

		if (s->used && expired(s, now_ms)) {
			release(s);
			r->st.expired++;
		}
	}
}

/* Expires stale slots on the way, so they neither match nor count against a quota. */
static void scan_table(struct zt_reasm *r, uint64_t src, uint32_t packet_id, uint64_t now_ms, struct scan *sc)
{
	memset(sc, 0, sizeof(*sc));
	zt_reasm_expire(r, now_ms);
	for (size_t i = 0; i < ZT_REASM_SLOTS; i++) {
		struct slot *s = &r->slots[i];

		if (!s->used) {
			if (!sc->free_slot)
				sc->free_slot = s;
			continue;
		}
		if (!sc->oldest || older(s, sc->oldest))
			sc->oldest = s;
		if (s->src != src)
			continue;
		sc->from_src++;
		if (s->packet_id == packet_id)
			sc->match = s;
	}
}

/* A slot for a new packet: refused over the source's quota, else free or the oldest evicted. */
static int claim(struct zt_reasm *r, const struct scan *sc, uint64_t src, uint32_t packet_id, unsigned count,
		 uint64_t now_ms, struct slot **out)
{
	struct slot *s = sc->free_slot;

	if (sc->from_src >= ZT_REASM_PER_SOURCE)
		return ZT_ERATE;
	if (!s) {
		s = sc->oldest;
		release(s);
		r->st.evicted++;
	}
	s->used = true;
	s->src = src;
	s->packet_id = packet_id;
	s->count = count;
	s->born_ms = now_ms;
	s->seq = r->next_seq++;
	*out = s;
	return 0;
}

static int store(struct slot *s, unsigned index, unsigned count, const uint8_t *data, size_t len)
{
	if (count != s->count)
		return ZT_EINVAL;
	if (s->have & (1u << index))
		return ZT_EEXIST;
	if (len > ZT_REASM_MAX_BYTES - s->fill)
		return ZT_ETOOBIG;
	memcpy(s->buf + s->fill, data, len);
	s->off[index] = (uint16_t)s->fill;
	s->len[index] = (uint16_t)len;
	s->fill += len;
	s->have |= 1u << index;
	return 0;
}

static void assemble(struct zt_reasm *r, struct slot *s, const uint8_t **out, size_t *out_len)
{
	size_t pos = 0;

	for (unsigned i = 0; i < s->count; i++) {
		memcpy(r->out + pos, s->buf + s->off[i], s->len[i]);
		pos += s->len[i];
	}
	*out = r->out;
	*out_len = pos;
}

static int check_fragment(unsigned index, unsigned count, const uint8_t *data, size_t len)
{
	if (count == 0 || count > ZT_FRAG_MAX_COUNT || index >= count || !data || len == 0)
		return ZT_EINVAL;
	if (len > ZT_REASM_MAX_BYTES)
		return ZT_ETOOBIG;
	return 0;
}

static int add(struct zt_reasm *r, uint64_t src, uint32_t packet_id, unsigned index, unsigned count,
	       const uint8_t *data, size_t len, uint64_t now_ms, const uint8_t **out, size_t *out_len)
{
	struct scan sc;
	struct slot *s;
	int err;

	err = check_fragment(index, count, data, len);
	if (err)
		return err;
	if (count == 1) {
		memcpy(r->out, data, len);
		*out = r->out;
		*out_len = len;
		return 0;
	}
	scan_table(r, src, packet_id, now_ms, &sc);
	s = sc.match;
	if (!s) {
		err = claim(r, &sc, src, packet_id, count, now_ms, &s);
		if (err)
			return err;
	}
	/* A slot claimed just now cannot refuse: the count is its own and len was checked. */
	err = store(s, index, count, data, len);
	if (err)
		return err;
	if (s->have != (1u << count) - 1)
		return ZT_EAGAIN;
	assemble(r, s, out, out_len);
	release(s);
	return 0;
}

int zt_reasm_add(struct zt_reasm *r, uint64_t src, uint32_t packet_id, unsigned index, unsigned count,
		 const uint8_t *data, size_t len, uint64_t now_ms, const uint8_t **out, size_t *out_len)
{
	int err;

	*out = NULL;
	*out_len = 0;
	err = add(r, src, packet_id, index, count, data, len, now_ms, out, out_len);
	if (err == 0)
		r->st.completed++;
	else if (err != ZT_EAGAIN)
		r->st.rejected++;
	return err;
}

void zt_reasm_stats(const struct zt_reasm *r, struct zt_reasm_stats *st)
{
	*st = r->st;
}
