/*
 * limiter.c - the one token bucket; semantics in limiter.h.
 */
#include "base/limiter.h"

#include "base/zt.h"

void zt_limiter_init(struct zt_limiter *l, uint32_t rate_per_sec, uint32_t burst)
{
	*l = (struct zt_limiter){.rate_per_sec = rate_per_sec, .burst = burst};
}

static void refill(struct zt_limiter *l, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)l->burst * 1000;

	if (!l->started) {
		l->started = true;
		l->milli_tokens = cap;
	} else if (now_ms > l->last_ms) {
		uint64_t gap_ms = now_ms - l->last_ms;
		/* a gap long enough to fill the bucket fills it: no overflow on gap * rate */
		if (l->rate_per_sec == 0 || gap_ms > cap / l->rate_per_sec)
			l->milli_tokens = l->rate_per_sec ? cap : l->milli_tokens;
		else
			l->milli_tokens = ZT_MIN(cap, l->milli_tokens + gap_ms * l->rate_per_sec);
	}
	l->last_ms = now_ms;
}

bool zt_limiter_take_n(struct zt_limiter *l, uint64_t now_ms, uint32_t n)
{
	uint64_t need = (uint64_t)n * 1000;

	refill(l, now_ms);
	if (l->milli_tokens < need)
		return false;
	l->milli_tokens -= need;
	return true;
}

bool zt_limiter_take(struct zt_limiter *l, uint64_t now_ms)
{
	return zt_limiter_take_n(l, now_ms, 1);
}
