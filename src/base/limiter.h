/*
 * limiter.h - the one token bucket (identity checks, handshakes of unknown
 * keys, multicast per source, a controller's strangers).
 *
 * Semantics, pinned by tests/unit/test_base.c and the rate-limit tests:
 *  - the bucket starts full (burst tokens) at its first take;
 *  - it refills rate_per_sec tokens per second, in milli-tokens, capped at burst;
 *  - a clock that goes backwards refills nothing and restarts the refill from
 *    the new time (it can neither mint tokens nor starve the bucket).
 */
#ifndef ZT_BASE_LIMITER_H
#define ZT_BASE_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

struct zt_limiter {
	uint64_t milli_tokens;
	uint64_t last_ms;
	uint32_t rate_per_sec;
	uint32_t burst;
	bool started;
};

void zt_limiter_init(struct zt_limiter *l, uint32_t rate_per_sec, uint32_t burst);
/* Take one token; false (and nothing taken) if the bucket is empty. */
bool zt_limiter_take(struct zt_limiter *l, uint64_t now_ms);
/* Take n tokens at once (bytes, say); false and nothing taken if fewer are left. */
bool zt_limiter_take_n(struct zt_limiter *l, uint64_t now_ms, uint32_t n);

#endif
