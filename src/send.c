/*
 * send.c - the send path: route choice (a direct path or a root),
 * sealing, fragments out, the pending queue of messages waiting for a
 * session, and starting one when needed. Handshake packets are built in
 * handshake.c, path state is path.c's; this file only uses them.
 */
#include "send.h"
#include "node_impl.h"
#include "handshake.h"
#include "path.h"
#include "peer.h"
#include "whois.h"

#include <string.h>

int zt_node_send_raw(struct zt_node *n, const struct zt_endpoint *to, const uint8_t *pkt, size_t len)
{
	n->st.tx_packets++;
	n->st.tx_bytes += len;
	return n->cb.send(n->cb.ctx, to, pkt, len);
}

static int emit_fragment(void *ctx, const uint8_t *frag, size_t len)
{
	void **args = ctx;
	struct zt_node *n = args[0];

	n->st.fragments_tx++;
	return zt_node_send_raw(n, args[1], frag, len);
}

struct zt_peer *zt_send_best_root(struct zt_node *n, uint64_t now_ms)
{
	struct zt_peer *best = NULL;

	for (unsigned i = 0; i < n->n_roots; i++) {
		struct zt_peer *r = n->roots[i];
		bool alive = r->hello_ok_ms && now_ms - r->hello_ok_ms < ZT_PATH_ALIVE_MS;
		bool best_alive = best && best->hello_ok_ms && now_ms - best->hello_ok_ms < ZT_PATH_ALIVE_MS;

		if (!best || (alive && !best_alive) ||
		    (alive == best_alive && r->latency_ms >= 0 &&
		     (best->latency_ms < 0 || r->latency_ms < best->latency_ms)))
			best = r;
	}
	return best;
}

/* Where a packet for p goes: its best direct path, else through a root. */
static const struct zt_endpoint *route_to(struct zt_node *n, struct zt_peer *p, uint64_t now_ms, bool *relayed)
{
	struct zt_path *path = p->is_root ? zt_path_for_root(p, now_ms) : zt_path_best(p, now_ms);
	struct zt_peer *root;

	struct zt_path *via_root;

	*relayed = false;
	root = n->is_root || p->is_root ? NULL : zt_send_best_root(n, now_ms);
	via_root = root ? zt_path_for_root(root, now_ms) : NULL;
	/* A direct path whose probe went unanswered is kept probing, but traffic
	 * takes the relay meanwhile (if a root answers); that is the failover.
	 * So does a path the peer itself stopped using: it reached us through
	 * the relay more recently than over the path. */
	if (path && (!via_root || (!zt_path_suspect(path, now_ms) && path->last_rx_ms >= p->last_relayed_rx_ms))) {
		path->last_tx_ms = now_ms;
		return &path->ep;
	}
	if (!via_root)
		return NULL; /* a root relays for others, never through another root */
	via_root->last_tx_ms = now_ms;
	*relayed = true;
	return &via_root->ep;
}

int zt_send_transmit(struct zt_node *n, struct zt_peer *p, const uint8_t *pkt, size_t len, uint64_t now_ms)
{
	const struct zt_endpoint *to;
	bool relayed;
	void *args[2];

	to = route_to(n, p, now_ms, &relayed);
	if (!to)
		return ZT_ENOENT;
	p->last_tx_ms = now_ms;
	p->tx_packets++;
	if (len <= ZT_UDP_PAYLOAD_MTU)
		return zt_node_send_raw(n, to, pkt, len);
	args[0] = n;
	args[1] = (void *)to;
	return zt_fragment_split(pkt, len, ZT_UDP_PAYLOAD_MTU, n->next_packet_id++, emit_fragment, args);
}

static int pending_add(struct zt_node *n, struct zt_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct zt_pending *slot = NULL;

	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		struct zt_pending *c = &n->pending[i];
		if (!c->used) {
			slot = c;
			break;
		}
		if (!slot || c->created_ms < slot->created_ms)
			slot = c;
	}
	if (slot->used)
		n->st.pending_dropped++;
	memcpy(slot->msg, msg, len);
	slot->len = len;
	slot->peer = p->address;
	slot->created_ms = now_ms;
	slot->used = true;
	return 0;
}

void zt_send_pending_flush(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		struct zt_pending *c = &n->pending[i];
		if (!c->used || c->peer != p->address)
			continue;
		c->used = false;
		zt_node_send_msg(n, p, c->msg, c->len, now_ms);
	}
}

void zt_send_pending_drop_peer(struct zt_node *n, uint64_t address)
{
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		if (n->pending[i].used && n->pending[i].peer == address) {
			n->pending[i].used = false;
			n->st.pending_dropped++;
		}
	}
}

void zt_send_ensure_session(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	if (p->ident != ZT_IDENT_KNOWN) {
		zt_whois_ask(n, p, now_ms);
		return;
	}
	/* A responder with fresh unconfirmed keys waits for the initiator's first packet. */
	if (p->next && now_ms - p->next->created_ms < ZT_REKEY_TIMEOUT_MS)
		return;
	if (p->hs.state == ZT_HS_NONE)
		zt_handshake_start(n, p, now_ms);
}

int zt_node_send_msg(struct zt_node *n, struct zt_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct zt_keypair *kp = p->cur;
	int plen;

	if (len == 0 || len > ZT_MAX_MESSAGE_BYTES)
		return ZT_ETOOBIG;
	if (!zt_keypair_can_send(kp, now_ms)) {
		pending_add(n, p, msg, len, now_ms);
		zt_send_ensure_session(n, p, now_ms);
		return ZT_EAGAIN;
	}
	plen = zt_session_seal(kp, p->address, n->id.address, msg, len, n->tx_buf, ZT_MAX_PACKET_BYTES);
	if (plen < 0)
		return plen;
	if (msg[0] != ZT_VERB_KEEPALIVE)
		p->last_data_tx_ms = now_ms;
	/* Initiator-side rekey by age; the old key keeps working meanwhile. */
	if (kp->initiator && now_ms - kp->created_ms >= ZT_REKEY_AFTER_MS && p->hs.state == ZT_HS_NONE)
		zt_handshake_start(n, p, now_ms);
	else if (kp->send_counter >= ZT_REKEY_AFTER_MESSAGES && p->hs.state == ZT_HS_NONE)
		zt_handshake_start(n, p, now_ms);
	return zt_send_transmit(n, p, n->tx_buf, (size_t)plen, now_ms);
}

int zt_node_send_msg_via(struct zt_node *n, struct zt_peer *p, const uint8_t *msg, size_t len,
			 const struct zt_endpoint *via, uint64_t now_ms)
{
	struct zt_keypair *kp = p->cur;
	int plen;

	if (!zt_keypair_can_send(kp, now_ms))
		return ZT_ESTATE;
	plen = zt_session_seal(kp, p->address, n->id.address, msg, len, n->tx_buf, ZT_MAX_PACKET_BYTES);
	if (plen < 0)
		return plen;
	if (plen > ZT_UDP_PAYLOAD_MTU)
		return ZT_ETOOBIG;
	p->last_tx_ms = now_ms;
	p->tx_packets++;
	return zt_node_send_raw(n, via, n->tx_buf, (size_t)plen);
}

int zt_node_send(struct zt_node *n, uint64_t peer, uint8_t verb, const uint8_t *payload, size_t len,
		 uint64_t now_ms)
{
	struct zt_peer *p;

	if (len + 1 > ZT_MAX_MESSAGE_BYTES)
		return ZT_ETOOBIG;
	p = zt_peer_get(n, peer, now_ms);
	if (!p)
		return ZT_EINVAL;
	n->msg_buf[0] = verb;
	if (len)
		memcpy(n->msg_buf + 1, payload, len);
	return zt_node_send_msg(n, p, n->msg_buf, len + 1, now_ms);
}

void zt_send_verb(struct zt_node *n, struct zt_peer *p, uint8_t verb, const struct zt_wr *body, uint64_t now_ms)
{
	if (body->err)
		return;
	zt_node_send(n, p->address, verb, body->p - body->len, body->len, now_ms);
}

/* Messages that waited too long for a session are dropped. */
void zt_send_pending_expire(struct zt_node *n, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		if (n->pending[i].used && now_ms - n->pending[i].created_ms >= ZT_PENDING_MAX_MS) {
			n->pending[i].used = false;
			n->st.pending_dropped++;
		}
	}
}
