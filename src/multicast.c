/*
 * multicast.c - the roots' subscription directory: an open-addressing table
 * of (network, group, member) entries with a last-renewed time. Entries not
 * renewed within ZT_MCAST_EXPIRE_MS are ignored and reused. Gathers scan the
 * group's probe window only, so their cost does not grow with the table.
 */
#include "multicast.h"
#include "proto.h"

#include <stdlib.h>
#include <string.h>

#define PROBE 64 /* slots searched per key; a full window refuses new entries */

struct entry {
	uint64_t nwid;
	uint64_t member;
	uint64_t last_ms; /* 0: free */
	uint32_t adi;
	uint8_t mac[6];
};

struct zt_mcast_dir {
	struct entry *e;
	size_t cap;
};

int zt_mcast_dir_new(struct zt_mcast_dir **out, size_t max_entries)
{
	struct zt_mcast_dir *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d)
		return ZT_ENOMEM;
	d->cap = max_entries;
	d->e = calloc(max_entries, sizeof(*d->e));
	if (!d->e) {
		free(d);
		return ZT_ENOMEM;
	}
	*out = d;
	return 0;
}

void zt_mcast_dir_free(struct zt_mcast_dir *d)
{
	if (!d)
		return;
	free(d->e);
	free(d);
}

/* Entries of one group live in one probe window: hash the group, not the member. */
static size_t slot_of(const struct zt_mcast_dir *d, uint64_t nwid, const uint8_t mac[6], uint32_t adi)
{
	uint64_t h = nwid * 0x9e3779b97f4a7c15ULL ^ adi;

	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 0x100000001b3ULL;
	return (size_t)(h % d->cap);
}

static bool live(const struct entry *e, uint64_t now_ms)
{
	return e->last_ms && now_ms - e->last_ms < ZT_MCAST_EXPIRE_MS;
}

static bool put(struct zt_mcast_dir *d, uint64_t nwid, uint64_t member, const uint8_t mac[6], uint32_t adi,
		uint64_t now_ms)
{
	size_t base = slot_of(d, nwid, mac, adi);
	struct entry *free_slot = NULL;

	for (size_t i = 0; i < PROBE && i < d->cap; i++) {
		struct entry *e = &d->e[(base + i) % d->cap];
		if (!live(e, now_ms)) {
			if (!free_slot)
				free_slot = e;
			continue;
		}
		if (e->nwid == nwid && e->member == member && e->adi == adi && memcmp(e->mac, mac, 6) == 0) {
			e->last_ms = now_ms;
			return true;
		}
	}
	if (!free_slot)
		return false; /* the group's window is full: bounded memory wins, the caller counts it */
	free_slot->nwid = nwid;
	free_slot->member = member;
	free_slot->adi = adi;
	memcpy(free_slot->mac, mac, 6);
	free_slot->last_ms = now_ms;
	return true;
}

/*
 * A member's announcement replaces its previous set in that network, and a
 * member holds at most ZT_ROOT_MCAST_PER_MEMBER entries over all networks:
 * one identity cannot fill the directory. (A scan of the table per
 * announcement; members announce once a minute per network.)
 */
unsigned zt_mcast_dir_set(struct zt_mcast_dir *d, uint64_t nwid, uint64_t member, const uint8_t *groups,
			  unsigned n, uint64_t now_ms)
{
	unsigned held = 0, stored = 0;

	for (size_t i = 0; i < d->cap; i++) {
		struct entry *e = &d->e[i];
		if (!live(e, now_ms) || e->member != member)
			continue;
		if (e->nwid == nwid)
			e->last_ms = 0;
		else
			held++;
	}
	for (unsigned i = 0; i < n && held < ZT_ROOT_MCAST_PER_MEMBER; i++) {
		const uint8_t *g = groups + i * 10;
		uint32_t adi = (uint32_t)g[6] << 24 | g[7] << 16 | g[8] << 8 | g[9];
		if (put(d, nwid, member, g, adi, now_ms)) {
			held++;
			stored++;
		}
	}
	return stored;
}

static unsigned collect(struct zt_mcast_dir *d, uint64_t nwid, const uint8_t mac[6], uint32_t adi, uint64_t now_ms,
			uint64_t *out, unsigned max)
{
	size_t base = slot_of(d, nwid, mac, adi);
	unsigned n = 0;

	for (size_t i = 0; i < PROBE && i < d->cap && n < max; i++) {
		struct entry *e = &d->e[(base + i) % d->cap];
		if (live(e, now_ms) && e->nwid == nwid && e->adi == adi && memcmp(e->mac, mac, 6) == 0)
			out[n++] = e->member;
	}
	return n;
}

unsigned zt_mcast_dir_gather(struct zt_mcast_dir *d, uint64_t nwid, const uint8_t mac[6], uint32_t adi,
			     uint64_t now_ms, uint64_t *members, unsigned max, uint64_t *bridges, unsigned max_bridges,
			     unsigned *n_bridges)
{
	static const uint8_t wildcard[6];

	*n_bridges = collect(d, nwid, wildcard, 0, now_ms, bridges, max_bridges);
	return collect(d, nwid, mac, adi, now_ms, members, max);
}

size_t zt_mcast_dir_count(const struct zt_mcast_dir *d)
{
	size_t n = 0;

	for (size_t i = 0; i < d->cap; i++)
		n += d->e[i].last_ms != 0;
	return n;
}
