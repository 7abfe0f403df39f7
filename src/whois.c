/*
 * whois.c - learning a peer's identity from a root: asking (WHOIS) and
 * accepting the answer (WHOIS_OK), which then starts a handshake. The
 * retry and give-up timer is in node.c's tick; roots answer in root.c.
 */
#include "whois.h"
#include "node_impl.h"
#include "handshake.h"
#include "peer.h"
#include "send.h"

void zt_whois_ask(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	uint8_t body[ZT_ADDR_BYTES];
	struct zt_wr w;
	struct zt_peer *root;

	if (p->ident == ZT_IDENT_KNOWN)
		return;
	if (p->ident == ZT_IDENT_ASKED && now_ms - p->whois_sent_ms < ZT_WHOIS_RETRY_MS)
		return;
	if (p->ident == ZT_IDENT_UNKNOWN)
		p->whois_first_ms = now_ms;
	p->ident = ZT_IDENT_ASKED;
	p->whois_sent_ms = now_ms;
	root = zt_send_best_root(n, now_ms);
	if (!root || root == p)
		return;
	zt_wr_init(&w, body, sizeof(body));
	zt_wr_beN(&w, p->address, ZT_ADDR_BYTES);
	zt_send_verb(n, root, ZT_VERB_WHOIS, &w, now_ms);
}

void zt_whois_handle_ok(struct zt_node *n, struct zt_peer *from_root, struct zt_rd *rd, uint64_t now_ms)
{
	uint8_t bytes[ZT_IDENTITY_PUBLIC_BYTES];
	struct zt_identity id;
	struct zt_peer *p;
	uint64_t address;

	if (!from_root->is_root)
		return;
	address = zt_rd_beN(rd, ZT_ADDR_BYTES);
	zt_rd_bytes(rd, bytes, sizeof(bytes));
	if (rd->err || zt_identity_from_bytes(&id, address, bytes) < 0) {
		n->st.drop_bad_message++;
		return;
	}
	p = zt_peer_find(n, address);
	if (!p || p->ident == ZT_IDENT_KNOWN)
		return;
	if (zt_handshake_adopt_identity(n, p, &id, now_ms) < 0) {
		p->ident = ZT_IDENT_ASKED; /* retried by the timer */
		return;
	}
	zt_handshake_start(n, p, now_ms);
}
