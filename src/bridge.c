/*
 * bridge.c - members that bridge other Ethernet segments: the MACs learned
 * behind them (from the source of their frames), who may send from a MAC that
 * is not its own, and unknown unicast, which goes to the bridges only.
 * Whether a member is a bridge is its certificate's (membership.c).
 */
#include "network_impl.h"

#include <string.h>

static struct net_mac *mac_find(struct zt_network *net, const uint8_t mac[6], uint64_t now_ms, bool create)
{
	struct net_mac *oldest = NULL;
	unsigned h = (mac[2] ^ mac[3] << 4 ^ mac[4] << 8 ^ mac[5] << 12) % ZT_NET_MACS_MAX;

	for (unsigned i = 0; i < 16; i++) {
		struct net_mac *e = &net->macs[(h + i) % ZT_NET_MACS_MAX];
		if (e->last_ms && now_ms - e->last_ms >= ZT_NET_MAC_AGE_MS)
			e->last_ms = 0;
		if (e->last_ms && memcmp(e->mac, mac, 6) == 0)
			return e;
		if (!oldest || e->last_ms < oldest->last_ms)
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->mac, mac, 6);
	return oldest;
}


struct net_mac *zt_bridge_find(struct zt_network *net, const uint8_t mac[6], uint64_t now_ms)
{
	return mac_find(net, mac, now_ms, false);
}

bool zt_bridge_check_source(struct zt_network *net, const struct net_member *m, uint64_t peer, const uint8_t *frame,
			    uint64_t now_ms)
{
	uint8_t peer_mac[6];

	zt_vl2_member_mac(peer_mac, peer, net->nwid);
	if (memcmp(frame + 6, peer_mac, 6) == 0)
		return true;
	/* Only members the controller marks as bridges send from other MACs. */
	if (!(m->com.flags & ZT_COM_FLAG_BRIDGE)) {
		net->st.drop_foreign_mac++;
		return false;
	}
	if (!(frame[6] & 1)) {
		struct net_mac *e = mac_find(net, frame + 6, now_ms, true);
		e->bridge = peer;
		e->last_ms = now_ms;
	}
	return true;
}

void zt_bridge_send_unknown(struct zt_vl2 *v, struct zt_network *net, const uint8_t *frame, size_t len,
			    uint64_t now_ms)
{
	zt_vl2_mcast_send(v, net, &zt_vl2_wildcard_group, frame, len, now_ms);
}
