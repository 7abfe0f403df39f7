/*
 * replay.c - the sliding replay window over 64-bit packet counters, as in
 * WireGuard: a ring of bitmap words indexed by counter, words cleared as the
 * highest counter moves forward. Owns no crypto: callers mark a counter only
 * after its packet authenticated.
 */
#include "replay.h"

#include <string.h>

static uint64_t word_of(uint64_t counter)
{
	return counter / 64;
}

static uint64_t *slot_of(uint64_t *bits, uint64_t counter)
{
	return &bits[word_of(counter) % ZT_REPLAY_RING_WORDS];
}

static uint64_t bit_of(uint64_t counter)
{
	return 1ULL << (counter % 64);
}

static bool too_old(const struct zt_replay *r, uint64_t counter)
{
	return r->top > ZT_REPLAY_WINDOW_BITS && counter < r->top - ZT_REPLAY_WINDOW_BITS;
}

void zt_replay_init(struct zt_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool zt_replay_may_accept(const struct zt_replay *r, uint64_t counter)
{
	if (counter == UINT64_MAX || too_old(r, counter))
		return false;
	if (counter >= r->top)
		return true;
	return !(r->bits[word_of(counter) % ZT_REPLAY_RING_WORDS] & bit_of(counter));
}

/* Move top to counter + 1, clearing the ring words between the old and new highest. */
static void advance(struct zt_replay *r, uint64_t counter)
{
	uint64_t from, n;

	if (r->top == 0) {
		memset(r->bits, 0, sizeof(r->bits));
	} else {
		from = word_of(r->top - 1);
		n = ZT_MIN(word_of(counter) - from, (uint64_t)ZT_REPLAY_RING_WORDS);
		for (uint64_t i = 1; i <= n; i++)
			r->bits[(from + i) % ZT_REPLAY_RING_WORDS] = 0;
	}
	r->top = counter + 1;
}

bool zt_replay_check_and_set(struct zt_replay *r, uint64_t counter)
{
	uint64_t *w;

	if (!zt_replay_may_accept(r, counter))
		return false;
	if (counter >= r->top)
		advance(r, counter);
	w = slot_of(r->bits, counter);
	if (*w & bit_of(counter))
		return false;
	*w |= bit_of(counter);
	return true;
}
