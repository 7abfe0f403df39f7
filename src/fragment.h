/*
 * fragment.h - reassembly of fragmented packets, bounded in memory and time.
 * A fixed table of slots allocated once; per-source slot quota so one source
 * (or one spoofing it) cannot take the table; the oldest slot is evicted when
 * full; slots expire after ZT_REASM_TIMEOUT_MS. Splitting lives in packet.c.
 */
#ifndef ZT_FRAGMENT_H
#define ZT_FRAGMENT_H

#include "base/zt.h"

#define ZT_REASM_SLOTS 64          /* concurrent packets being reassembled per node */
#define ZT_REASM_PER_SOURCE 8      /* slots one source address may hold at once */
#define ZT_REASM_TIMEOUT_MS 1000   /* a packet whose fragments take longer is dropped */
#define ZT_FRAG_MAX_COUNT 16       /* fragments per packet */
#define ZT_REASM_MAX_BYTES 16384   /* largest reassembled packet */

struct zt_reasm_stats {
	uint64_t completed;
	uint64_t expired;
	uint64_t evicted;
	uint64_t rejected; /* bad index/count/size, duplicate fragments, quota */
};

struct zt_reasm;

int zt_reasm_new(struct zt_reasm **out);
void zt_reasm_free(struct zt_reasm *r);

/*
 * Add one fragment of packet (src, packet_id). index < count <= ZT_FRAG_MAX_COUNT.
 * Returns 0 with *out and *out_len set when the packet is complete (the bytes stay
 * valid until the next call on r), ZT_EAGAIN when more fragments are needed,
 * or a negative error when the fragment was refused: ZT_EINVAL (bad index or
 * count, count disagreeing with earlier fragments, empty), ZT_EEXIST (duplicate
 * index), ZT_ETOOBIG (total over ZT_REASM_MAX_BYTES), ZT_ERATE (the source
 * already holds ZT_REASM_PER_SOURCE slots). The returned bytes may be modified
 * in place (opening a DATA packet there is fine).
 */
int zt_reasm_add(struct zt_reasm *r, uint64_t src, uint32_t packet_id, unsigned index, unsigned count,
		 const uint8_t *data, size_t len, uint64_t now_ms, const uint8_t **out, size_t *out_len);

/* Drop expired slots. */
void zt_reasm_expire(struct zt_reasm *r, uint64_t now_ms);
void zt_reasm_stats(const struct zt_reasm *r, struct zt_reasm_stats *st);

#endif
