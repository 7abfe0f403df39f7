/*
 * replay.h - sliding replay window over 64-bit packet counters.
 * Counters inside the window are accepted once; duplicates and counters
 * older than the window are refused. Mark only after the packet authenticated.
 */
#ifndef ZT_REPLAY_H
#define ZT_REPLAY_H

#include "base/zt.h"

#define ZT_REPLAY_WINDOW_BITS 8192 /* issue floor is 2048; 8192 absorbs batching and multi-path reorder */
#define ZT_REPLAY_WORDS (ZT_REPLAY_WINDOW_BITS / 64)
/* The bitmap is a ring of words; one word more than the window so that a
 * window not aligned to a word still fits whole (the full WINDOW_BITS counters
 * below the highest are always tracked, unlike a ring of exactly WORDS). */
#define ZT_REPLAY_RING_WORDS (ZT_REPLAY_WORDS + 1)

struct zt_replay {
	uint64_t top;  /* highest counter accepted + 1 (0: none yet) */
	uint64_t bits[ZT_REPLAY_RING_WORDS];
};

void zt_replay_init(struct zt_replay *r);
/* Cheap pre-check before decrypting: false if certainly a replay or too old. */
bool zt_replay_may_accept(const struct zt_replay *r, uint64_t counter);
/*
 * Test and set: true if fresh (now marked), false if duplicate or too old.
 * The window is [top - ZT_REPLAY_WINDOW_BITS, top - 1] plus everything above;
 * UINT64_MAX is never accepted (top could not represent it; senders rekey
 * long before, see ZT_REJECT_AFTER_MESSAGES).
 */
bool zt_replay_check_and_set(struct zt_replay *r, uint64_t counter);

#endif
