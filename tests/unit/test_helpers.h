/*
 * test_helpers.h - small helpers the unit suites share: a deterministic
 * random source (splitmix64, seeded through ctx) and the wall clock in ms.
 */
#ifndef ZT_TEST_HELPERS_H
#define ZT_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

static inline void test_random(void *ctx, void *buf, size_t len)
{
	uint64_t *state = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
}

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
