/*
 * root.c - the root role: relay packets between nodes by their readable
 * header (never their contents), tell a node its observed address, answer
 * WHOIS, introduce two peers it relays between for hole punching, and keep
 * the multicast subscription directory (multicast.c) for LIKE and GATHER.
 * It sends only through the send layer (send.h). A root carries no trust: nodes validate every identity it hands out.
 */
#include "netconf.h"
#include "node_impl.h"
#include "path.h"
#include "peer.h"
#include "send.h"

#include <string.h>

#define ZT_WHOIS_MAX_PER_REQUEST 16

/* Have we introduced `other` to p within the interval? Records it if not. */
static bool intro_due(struct zt_peer *p, uint64_t other, uint64_t now_ms)
{
	unsigned slot = 0;

	for (unsigned i = 0; i < ZT_RENDEZVOUS_MEMORY; i++) {
		if (p->intro_sent[i].other == other) {
			if (now_ms - p->intro_sent[i].ms < ZT_RENDEZVOUS_INTERVAL_MS)
				return false;
			slot = i;
			break;
		}
		if (p->intro_sent[i].ms < p->intro_sent[slot].ms)
			slot = i;
	}
	p->intro_sent[slot].other = other;
	p->intro_sent[slot].ms = now_ms;
	return true;
}

/* Tell `to` where `about` can be reached: its public endpoint as we see it, and its announced locals. */
static void send_rendezvous(struct zt_node *n, struct zt_peer *to, struct zt_peer *about, uint64_t now_ms)
{
	uint8_t body[ZT_ADDR_BYTES + 1 + (ZT_MAX_LOCAL_ENDPOINTS + 1) * ZT_ENDPOINT_WIRE_BYTES];
	struct zt_path *pub = zt_path_best(about, now_ms);
	struct zt_wr w;

	if (!pub || !to->cur)
		return;
	zt_wr_init(&w, body, sizeof(body));
	zt_wr_beN(&w, about->address, ZT_ADDR_BYTES);
	zt_wr_u8(&w, (uint8_t)(1 + about->n_locals));
	zt_wr_endpoint(&w, &pub->ep);
	for (unsigned i = 0; i < about->n_locals; i++)
		zt_wr_endpoint(&w, &about->locals[i]);
	if (w.err)
		return;
	n->st.rendezvous_tx++;
	zt_node_send(n, to->address, ZT_VERB_RENDEZVOUS, body, w.len, now_ms);
}

static void maybe_introduce(struct zt_node *n, uint64_t src, struct zt_peer *dst, uint64_t now_ms)
{
	struct zt_peer *sp = zt_peer_find(n, src);

	if (!sp || !sp->cur || !dst->cur || !intro_due(dst, src, now_ms))
		return;
	intro_due(sp, dst->address, now_ms);
	send_rendezvous(n, dst, sp, now_ms);
	send_rendezvous(n, sp, dst, now_ms);
}

void zt_root_relay(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
		   size_t len, uint64_t now_ms)
{
	struct zt_peer *dst = zt_peer_find(n, h->dst);
	struct zt_path *path;

	if (!dst || h->hops + 1 > ZT_MAX_HOPS) {
		n->st.drop_not_for_me++;
		return;
	}
	path = zt_path_best(dst, now_ms);
	if (!path || zt_endpoint_equal(&path->ep, from)) {
		n->st.drop_not_for_me++;
		return;
	}
	pkt[ZT_HDR_HOPS_OFFSET] = (uint8_t)(h->hops + 1);
	n->st.relayed++;
	zt_node_send_raw(n, &path->ep, pkt, len);
	/* Session traffic between two nodes: introduce them so they can go direct. */
	if (h->type == ZT_PKT_DATA || h->type == ZT_PKT_FRAGMENT)
		maybe_introduce(n, h->src, dst, now_ms);
}

static void answer_hello(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, struct zt_rd *rd,
			 uint64_t now_ms)
{
	uint8_t body[8 + ZT_ENDPOINT_WIRE_BYTES];
	uint64_t sent = zt_rd_be64(rd);
	unsigned count = zt_rd_u8(rd);
	struct zt_endpoint locals[ZT_MAX_LOCAL_ENDPOINTS];
	struct zt_wr w;

	if (rd->err || count > ZT_MAX_LOCAL_ENDPOINTS) {
		n->st.drop_bad_message++;
		return;
	}
	for (unsigned i = 0; i < count; i++) {
		if (zt_rd_endpoint(rd, &locals[i]) < 0) {
			n->st.drop_bad_message++;
			return;
		}
	}
	memcpy(p->locals, locals, count * sizeof(locals[0]));
	p->n_locals = count;
	zt_wr_init(&w, body, sizeof(body));
	zt_wr_be64(&w, sent);
	zt_wr_u8(&w, from->family);
	zt_wr_bytes(&w, from->addr, 16);
	zt_wr_be16(&w, from->port);
	zt_node_send(n, p->address, ZT_VERB_HELLO_OK, body, w.len, now_ms);
}

static void answer_whois(struct zt_node *n, struct zt_peer *p, struct zt_rd *rd, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_WHOIS_MAX_PER_REQUEST && rd->left >= ZT_ADDR_BYTES; i++) {
		uint8_t body[ZT_ADDR_BYTES + ZT_IDENTITY_PUBLIC_BYTES];
		uint64_t address = zt_rd_beN(rd, ZT_ADDR_BYTES);
		struct zt_peer *q = zt_peer_find(n, address);
		struct zt_wr w;

		zt_wr_init(&w, body, sizeof(body));
		zt_wr_beN(&w, address, ZT_ADDR_BYTES);
		if (!q || q->ident != ZT_IDENT_KNOWN) {
			zt_node_send(n, p->address, ZT_VERB_WHOIS_NONE, body, w.len, now_ms);
			continue;
		}
		zt_identity_to_bytes(&q->id, zt_wr_reserve(&w, ZT_IDENTITY_PUBLIC_BYTES));
		zt_node_send(n, p->address, ZT_VERB_WHOIS_OK, body, w.len, now_ms);
	}
}

/*
 * Only members may subscribe: the announcement carries the member's
 * certificate, which must be signed by the network's controller (whose
 * identity this root knows from its own session with it), name the sender
 * and still be within its validity window.
 */
static bool member_of(struct zt_node *n, struct zt_peer *p, uint64_t nwid, const uint8_t *com_bytes,
		      uint64_t now_ms)
{
	struct zt_peer *ctl = zt_peer_find(n, nwid >> 24);
	const struct zt_identity *ctl_id;
	struct zt_com com;

	/* The controller may be this very node (root and controller in one daemon). */
	if ((nwid >> 24) == n->id.address)
		ctl_id = &n->id;
	else if (ctl && ctl->ident == ZT_IDENT_KNOWN)
		ctl_id = &ctl->id;
	else
		return false;
	if (zt_com_decode(&com, com_bytes, ZT_COM_BYTES) < 0)
		return false;
	if (com.member != p->address || com.network_id != nwid || com.issued_ms + com.max_delta_ms < now_ms)
		return false;
	return zt_com_verify(&com, ctl_id) == 0;
}

static void answer_like(struct zt_node *n, struct zt_peer *p, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);
	const uint8_t *com = zt_rd_ref(rd, ZT_COM_BYTES);
	unsigned count = zt_rd_be16(rd);
	const uint8_t *groups = count <= ZT_NET_GROUPS_MAX ? zt_rd_ref(rd, (size_t)count * 10) : NULL;

	if (rd->err || !groups || !com) {
		n->st.drop_bad_message++;
		return;
	}
	if (!member_of(n, p, nwid, com, now_ms)) {
		n->st.drop_mcast_refused++;
		return;
	}
	if (zt_mcast_dir_set(n->mdir, nwid, p->address, groups, count, now_ms) < count)
		n->st.drop_mcast_refused++;
}

static void answer_gather(struct zt_node *n, struct zt_peer *p, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t members[ZT_MCAST_GATHER_MAX], bridges[ZT_MCAST_GATHER_MAX];
	uint8_t body[8 + 10 + 4 + 2 * ZT_MCAST_GATHER_MAX * ZT_ADDR_BYTES];
	uint64_t nwid = zt_rd_be64(rd);
	uint8_t mac[6];
	uint32_t adi;
	unsigned nm, nb;
	struct zt_wr w;

	zt_rd_bytes(rd, mac, 6);
	adi = zt_rd_be32(rd);
	if (rd->err) {
		n->st.drop_bad_message++;
		return;
	}
	nm = zt_mcast_dir_gather(n->mdir, nwid, mac, adi, now_ms, members, ZT_MCAST_GATHER_MAX, bridges,
				 ZT_MCAST_GATHER_MAX, &nb);
	zt_wr_init(&w, body, sizeof(body));
	zt_wr_be64(&w, nwid);
	zt_wr_bytes(&w, mac, 6);
	zt_wr_be32(&w, adi);
	zt_wr_be16(&w, (uint16_t)nm);
	zt_wr_be16(&w, (uint16_t)nb);
	for (unsigned i = 0; i < nm; i++)
		zt_wr_beN(&w, members[i], ZT_ADDR_BYTES);
	for (unsigned i = 0; i < nb; i++)
		zt_wr_beN(&w, bridges[i], ZT_ADDR_BYTES);
	if (!w.err)
		zt_node_send(n, p->address, ZT_VERB_MULTICAST_GATHER_OK, body, w.len, now_ms);
}

bool zt_root_handle(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct, uint8_t verb,
		    struct zt_rd *rd, uint64_t now_ms)
{
	switch (verb) {
	case ZT_VERB_HELLO:
		if (direct)
			answer_hello(n, p, from, rd, now_ms);
		return true;
	case ZT_VERB_WHOIS:
		answer_whois(n, p, rd, now_ms);
		return true;
	case ZT_VERB_MULTICAST_LIKE:
		answer_like(n, p, rd, now_ms);
		return true;
	case ZT_VERB_MULTICAST_GATHER:
		answer_gather(n, p, rd, now_ms);
		return true;
	}
	return false;
}
