/*
 * vl2.c - the low VL2 helpers every VL2 file uses and that call nothing of
 * VL2 above them: status names and changes, member MACs derived from
 * (address, network), the network table lookup, sending one VL2 message, the
 * queue of held messages, the controller's identity.
 */
#include "network_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- naming ---------- */

const char *zt_net_status_name(enum zt_net_status s)
{
	switch (s) {
	case ZT_NET_REQUESTING: return "REQUESTING_CONFIGURATION";
	case ZT_NET_OK: return "OK";
	case ZT_NET_ACCESS_DENIED: return "ACCESS_DENIED";
	case ZT_NET_NOT_FOUND: return "NOT_FOUND";
	}
	return "UNKNOWN";
}

/* First byte: from the network ID, locally administered, unicast; the rest: address ^ network ID. */
static uint8_t mac_prefix(uint64_t nwid)
{
	uint8_t b = (uint8_t)((nwid >> 8) ^ (nwid >> 32));

	b = (uint8_t)((b & 0xfc) | 0x02);
	return b == 0x52 ? 0x32 : b; /* 52:xx is common in VM tooling; stay clear */
}

void zt_vl2_member_mac(uint8_t mac[6], uint64_t address, uint64_t nwid)
{
	uint64_t x = (address ^ (nwid * 0x9e3779b97f4a7c15ULL)) & ZT_ADDR_MASK;

	mac[0] = mac_prefix(nwid);
	for (int i = 0; i < 5; i++)
		mac[1 + i] = (uint8_t)(x >> (32 - 8 * i));
}

uint64_t zt_vl2_mac_member(const uint8_t mac[6], uint64_t nwid)
{
	uint64_t x = 0;

	if (mac[0] != mac_prefix(nwid))
		return 0;
	for (int i = 0; i < 5; i++)
		x = (x << 8) | mac[1 + i];
	x = (x ^ (nwid * 0x9e3779b97f4a7c15ULL)) & ZT_ADDR_MASK;
	return zt_address_reserved(x) ? 0 : x;
}

/* ---------- lookup, sending, the queue, status ---------- */

struct zt_network *zt_vl2_net_find(const struct zt_vl2 *v, uint64_t nwid)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		if (v->nets[i] && v->nets[i]->nwid == nwid)
			return v->nets[i];
	return NULL;
}

uint64_t zt_vl2_self(const struct zt_vl2 *v)
{
	return zt_node_address(v->node);
}

int zt_vl2_send(struct zt_vl2 *v, uint64_t peer, uint8_t verb, const struct zt_wr *w, uint64_t now_ms)
{
	if (w->err)
		return ZT_ETOOBIG;
	return zt_node_send(v->node, peer, verb, w->p - w->len, w->len, now_ms);
}

/* Hold a message (Q_MEMBER) until the member's certificate checks out, or a frame (Q_GROUP) until the gather answer. */
int zt_vl2_queue_add(struct zt_network *net, enum queue_kind kind, uint64_t member, const struct zt_mcast_group *g,
		     const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct net_queued *slot = NULL;

	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		if (net->queue[i].kind == Q_FREE) {
			slot = &net->queue[i];
			break;
		}
	}
	if (!slot || len > ZT_MAX_MESSAGE_BYTES) {
		net->st.drop_queue++;
		return ZT_ENOMEM;
	}
	slot->kind = kind;
	slot->member = member;
	if (g)
		slot->g = *g;
	slot->created_ms = now_ms;
	slot->len = len;
	memcpy(slot->msg, data, len);
	return 0;
}

/* Hold a message from a member whose certificate is not verified yet (Q_HELD_IN): verb, then body. */
int zt_vl2_queue_hold_in(struct zt_network *net, uint64_t member, uint8_t verb, const uint8_t *body, size_t len,
			 uint64_t now_ms)
{
	struct net_queued *slot = NULL;
	unsigned held = 0;

	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		if (net->queue[i].kind == Q_HELD_IN)
			held++;
		else if (net->queue[i].kind == Q_FREE && !slot)
			slot = &net->queue[i];
	}
	if (!slot || held >= ZT_NET_HELD_IN_MAX || len + 1 > ZT_MAX_MESSAGE_BYTES) {
		net->st.drop_queue++;
		return ZT_ENOMEM;
	}
	slot->kind = Q_HELD_IN;
	slot->member = member;
	slot->created_ms = now_ms;
	slot->len = len + 1;
	slot->msg[0] = verb;
	memcpy(slot->msg + 1, body, len);
	return 0;
}

int zt_vl2_controller_identity(struct zt_vl2 *v, struct zt_network *net, struct zt_identity *id, uint64_t now_ms)
{
	if (zt_node_peer_identity(v->node, net->controller, id) == 0)
		return 0;
	zt_node_want_identity(v->node, net->controller, now_ms);
	return ZT_EAGAIN;
}

void zt_vl2_set_status(struct zt_vl2 *v, struct zt_network *net, enum zt_net_status st, const char *reason)
{
	bool changed = net->status != st || strcmp(net->reason, reason) != 0;
	char a[11];

	net->status = st;
	snprintf(net->reason, sizeof(net->reason), "%s", reason);
	if (!changed)
		return;
	zt_address_format(a, net->controller);
	zt_log(ZT_LOG_INFO, "network %016llx: %s%s%s", (unsigned long long)net->nwid, zt_net_status_name(st),
	       reason[0] ? ": " : "", reason);
	v->cb.changed(v->cb.ctx, net->nwid);
}
