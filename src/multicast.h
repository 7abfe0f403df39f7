/*
 * multicast.h - the roots' multicast subscription directory: which members
 * of which network subscribe to which group (MAC + ADI). Members announce
 * (MULTICAST_LIKE), senders ask (MULTICAST_GATHER). Bounded and expiring.
 */
#ifndef ZT_MULTICAST_H
#define ZT_MULTICAST_H

#include "base/zt.h"

struct zt_mcast_dir;

int zt_mcast_dir_new(struct zt_mcast_dir **out, size_t max_entries);
void zt_mcast_dir_free(struct zt_mcast_dir *d);
/* Replace member's subscriptions in nwid with this set (mac6 || adi be32 each),
 * within the member's quota. Returns how many were stored. */
unsigned zt_mcast_dir_set(struct zt_mcast_dir *d, uint64_t nwid, uint64_t member, const uint8_t *groups,
			  unsigned n, uint64_t now_ms);
/* Subscribers of (nwid, mac, adi), and subscribers of the wildcard group (bridges). */
unsigned zt_mcast_dir_gather(struct zt_mcast_dir *d, uint64_t nwid, const uint8_t mac[6], uint32_t adi,
			     uint64_t now_ms, uint64_t *members, unsigned max, uint64_t *bridges, unsigned max_bridges,
			     unsigned *n_bridges);
size_t zt_mcast_dir_count(const struct zt_mcast_dir *d);

#endif
