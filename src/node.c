/*
 * node.c - the VL1 node: receive dispatch, sessions (handshake initiation,
 * keypair rotation, rekey, keepalive), WHOIS, echo and the pending queue.
 * Path choice lives in peer.c, the root role in root.c, crypto in noise.c
 * and session.c. The node never reads a clock or touches a socket.
 */
#include "node_impl.h"
#include "crypto.h"

#include <stdlib.h>
#include <string.h>

const char *zt_link_name(enum zt_link link)
{
	switch (link) {
	case ZT_LINK_DIRECT: return "DIRECT";
	case ZT_LINK_RELAY: return "RELAY";
	case ZT_LINK_NONE: break;
	}
	return "NONE";
}

/* ---------- small helpers ---------- */

static unsigned peer_bucket(uint64_t address)
{
	return (unsigned)((address * 0x9e3779b97f4a7c15ULL) >> 52) & (ZT_PEER_BUCKETS - 1);
}

static unsigned index_bucket(uint32_t idx)
{
	return (idx * 2654435761u) >> 20 & (ZT_INDEX_BUCKETS - 1);
}

static uint32_t zt_random_below(struct zt_node *n, uint32_t bound)
{
	uint32_t v;

	n->cb.random(n->cb.ctx, &v, sizeof(v));
	return bound ? v % bound : 0;
}

static void fmt_addr(char out[11], uint64_t a)
{
	zt_address_format(out, a);
}

struct zt_peer *zt_node_find_peer(const struct zt_node *n, uint64_t address)
{
	struct zt_peer *p = n->peers[peer_bucket(address)];

	while (p && p->address != address)
		p = p->hash_next;
	return p;
}

struct zt_peer *zt_node_get_peer(struct zt_node *n, uint64_t address, uint64_t now_ms)
{
	struct zt_peer *p = zt_node_find_peer(n, address);
	unsigned b;

	if (p)
		return p;
	if (address == n->id.address || zt_address_reserved(address) || n->n_peers >= n->max_peers)
		return NULL;
	p = zt_peer_new(address, now_ms);
	if (!p)
		return NULL;
	b = peer_bucket(address);
	p->hash_next = n->peers[b];
	n->peers[b] = p;
	n->n_peers++;
	return p;
}

/* ---------- keypair index table ---------- */

static struct zt_keypair *index_find(const struct zt_node *n, uint32_t idx)
{
	struct zt_keypair *kp = n->index[index_bucket(idx)];

	while (kp && kp->local_index != idx)
		kp = kp->index_next;
	return kp;
}

static uint32_t index_fresh(struct zt_node *n)
{
	uint32_t idx;

	do {
		n->cb.random(n->cb.ctx, &idx, sizeof(idx));
	} while (idx == 0 || index_find(n, idx));
	return idx;
}

static void index_add(struct zt_node *n, struct zt_keypair *kp)
{
	unsigned b = index_bucket(kp->local_index);

	kp->index_next = n->index[b];
	n->index[b] = kp;
}

static void index_del(struct zt_node *n, struct zt_keypair *kp)
{
	struct zt_keypair **pp;

	if (!kp)
		return;
	for (pp = &n->index[index_bucket(kp->local_index)]; *pp; pp = &(*pp)->index_next) {
		if (*pp == kp) {
			*pp = kp->index_next;
			return;
		}
	}
}

static void keypair_drop(struct zt_node *n, struct zt_keypair **slot)
{
	index_del(n, *slot);
	zt_keypair_free(*slot);
	*slot = NULL;
}

static void peer_remove(struct zt_node *n, struct zt_peer *p)
{
	struct zt_peer **pp;

	keypair_drop(n, &p->prev);
	keypair_drop(n, &p->cur);
	keypair_drop(n, &p->next);
	for (pp = &n->peers[peer_bucket(p->address)]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == p) {
			*pp = p->hash_next;
			break;
		}
	}
	n->n_peers--;
	zt_peer_free(p);
}

/* ---------- sending ---------- */

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

static struct zt_peer *best_root(struct zt_node *n, uint64_t now_ms)
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
	struct zt_path *path = p->is_root ? zt_peer_root_path(p, now_ms) : zt_peer_best_path(p, now_ms);
	struct zt_peer *root;

	struct zt_path *via_root;

	*relayed = false;
	root = n->is_root || p->is_root ? NULL : best_root(n, now_ms);
	via_root = root ? zt_peer_root_path(root, now_ms) : NULL;
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

static int transmit(struct zt_node *n, struct zt_peer *p, const uint8_t *pkt, size_t len, uint64_t now_ms)
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

static void start_handshake(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);
static void ask_whois(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);

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

static void pending_flush(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		struct zt_pending *c = &n->pending[i];
		if (!c->used || c->peer != p->address)
			continue;
		c->used = false;
		zt_node_send_msg(n, p, c->msg, c->len, now_ms);
	}
}

static void pending_drop_peer(struct zt_node *n, uint64_t address)
{
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		if (n->pending[i].used && n->pending[i].peer == address) {
			n->pending[i].used = false;
			n->st.pending_dropped++;
		}
	}
}

static void ensure_session(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	if (p->ident != ZT_IDENT_KNOWN) {
		ask_whois(n, p, now_ms);
		return;
	}
	/* A responder with fresh unconfirmed keys waits for the initiator's first packet. */
	if (p->next && now_ms - p->next->created_ms < ZT_REKEY_TIMEOUT_MS)
		return;
	if (p->hs.state == ZT_HS_NONE)
		start_handshake(n, p, now_ms);
}

int zt_node_send_msg(struct zt_node *n, struct zt_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct zt_keypair *kp = p->cur;
	int plen;

	if (len == 0 || len > ZT_MAX_MESSAGE_BYTES)
		return ZT_ETOOBIG;
	if (!zt_keypair_can_send(kp, now_ms)) {
		pending_add(n, p, msg, len, now_ms);
		ensure_session(n, p, now_ms);
		return ZT_EAGAIN;
	}
	plen = zt_session_seal(kp, p->address, n->id.address, msg, len, n->tx_buf, ZT_MAX_PACKET_BYTES);
	if (plen < 0)
		return plen;
	if (msg[0] != ZT_VERB_KEEPALIVE)
		p->last_data_tx_ms = now_ms;
	/* Initiator-side rekey by age; the old key keeps working meanwhile. */
	if (kp->initiator && now_ms - kp->created_ms >= ZT_REKEY_AFTER_MS && p->hs.state == ZT_HS_NONE)
		start_handshake(n, p, now_ms);
	else if (kp->send_counter >= ZT_REKEY_AFTER_MESSAGES && p->hs.state == ZT_HS_NONE)
		start_handshake(n, p, now_ms);
	return transmit(n, p, n->tx_buf, (size_t)plen, now_ms);
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

bool zt_node_path_allowed(struct zt_node *n, const struct zt_endpoint *ep)
{
	if (!zt_endpoint_is_set(ep))
		return false;
	return !n->cb.path_allowed || n->cb.path_allowed(n->cb.ctx, ep);
}

int zt_node_send(struct zt_node *n, uint64_t peer, uint8_t verb, const uint8_t *payload, size_t len,
		 uint64_t now_ms)
{
	struct zt_peer *p;

	if (len + 1 > ZT_MAX_MESSAGE_BYTES)
		return ZT_ETOOBIG;
	p = zt_node_get_peer(n, peer, now_ms);
	if (!p)
		return ZT_EINVAL;
	n->msg_buf[0] = verb;
	if (len)
		memcpy(n->msg_buf + 1, payload, len);
	return zt_node_send_msg(n, p, n->msg_buf, len + 1, now_ms);
}

static void send_verb(struct zt_node *n, struct zt_peer *p, uint8_t verb, const struct zt_wr *body, uint64_t now_ms)
{
	if (body->err)
		return;
	zt_node_send(n, p->address, verb, body->p - body->len, body->len, now_ms);
}

/* ---------- handshakes ---------- */

static void start_handshake(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	uint8_t pkt[ZT_HS_INIT_BYTES];
	char a[11];
	int err;

	if (p->ident != ZT_IDENT_KNOWN)
		return;
	if (p->hs.state == ZT_HS_NONE)
		p->hs.first_sent_ms = now_ms;
	err = zt_noise_create_init(&n->noise, &p->hs, &p->id, index_fresh(n), n->cipher, now_ms, n->cb.random,
				   n->cb.ctx, pkt);
	if (err) {
		fmt_addr(a, p->address);
		zt_log(ZT_LOG_WARN, "peer %s: cannot create handshake: %s", a, zt_strerror(err));
		return;
	}
	p->hs.sent_ms = now_ms;
	p->hs.retry_ms = now_ms + ZT_REKEY_TIMEOUT_MS + zt_random_below(n, ZT_HS_JITTER_MS);
	n->st.hs_init_tx++;
	if (transmit(n, p, pkt, sizeof(pkt), now_ms) < 0 && zt_log_enabled(ZT_LOG_DEBUG)) {
		fmt_addr(a, p->address);
		zt_log(ZT_LOG_DEBUG, "peer %s: no path for handshake yet", a);
	}
}

/* Accept an identity learned from the network: must match the address, checked at a bounded rate. */
static int adopt_identity(struct zt_node *n, struct zt_peer *p, const struct zt_identity *id, uint64_t now_ms)
{
	char a[11];
	int err;

	if (id->address != p->address)
		return ZT_EINVAL;
	if (p->ident == ZT_IDENT_KNOWN) {
		bool same = memcmp(p->id.x25519_pub, id->x25519_pub, 32) == 0 &&
			    memcmp(p->id.ed25519_pub, id->ed25519_pub, 32) == 0;
		return same ? 0 : ZT_EAUTH;
	}
	if (!zt_limiter_take(&n->validate_limit, now_ms)) {
		n->st.drop_rate_limited++;
		return ZT_ERATE;
	}
	n->st.identity_validations++;
	err = zt_identity_validate(id);
	if (err) {
		fmt_addr(a, p->address);
		zt_log(ZT_LOG_WARN, "peer %s: identity does not match its address, refused", a);
		n->st.drop_identity++;
		return err;
	}
	zt_identity_public(&p->id, id);
	p->ident = ZT_IDENT_KNOWN;
	return 0;
}

static void send_probe(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *ep, uint8_t verb,
		       uint64_t stamp, uint64_t now_ms);

/* The peer reached us through the relay although we hold a direct path:
 * it probably lost that path. Probe ours now instead of waiting to notice. */
static void suspect_quiet_paths(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < p->n_paths; i++) {
		struct zt_path *path = &p->paths[i];
		if (path->is_static || path->probe_ms || !zt_path_alive(path, now_ms) ||
		    now_ms - path->last_rx_ms < ZT_PATH_PROBE_AFTER_MS || !p->cur)
			continue;
		path->probe_ms = now_ms;
		send_probe(n, p, &path->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
	}
}

static void learn_direct(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
			 uint64_t now_ms)
{
	struct zt_path *path = NULL;
	bool was_alive = false;

	p->last_rx_ms = now_ms;
	p->rx_packets++;
	if (!direct) {
		p->last_relayed_rx_ms = now_ms;
		suspect_quiet_paths(n, p, now_ms);
		return;
	}
	for (unsigned i = 0; i < p->n_paths && !path; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, from))
			path = &p->paths[i];
	if (path) {
		/* The hot case: a known path, nothing to decide. */
		was_alive = zt_path_alive(path, now_ms);
		path->last_rx_ms = now_ms;
		path->dead = false;
		path->probe_ms = 0;
		if (was_alive)
			return;
	} else {
		/* A new endpoint: ask the host whether it may carry us (never our own tunnel). */
		if (!zt_node_path_allowed(n, from)) {
			n->st.paths_forbidden++;
			return;
		}
		path = zt_peer_learn_path(p, from, now_ms);
		if (!path)
			return;
	}
	if (p->is_root || n->is_root)
		return;
	if (zt_log_enabled(ZT_LOG_INFO)) {
		char a[11], e[ZT_ENDPOINT_TEXT_MAX];
		fmt_addr(a, p->address);
		zt_endpoint_format(from, e, sizeof(e));
		zt_log(ZT_LOG_INFO, "peer %s: direct path %s is up", a, e);
	}
	/* Measure the new path's latency at once: path choice compares it. */
	if (path->latency_ms < 0 && p->cur)
		send_probe(n, p, from, ZT_VERB_PATH_PROBE, now_ms, now_ms);
}

static void install_keypair(struct zt_node *n, struct zt_peer *p, const struct zt_hs_keys *keys, uint64_t now_ms)
{
	struct zt_keypair *kp;
	char a[11];

	if (zt_keypair_new(&kp, keys, p, now_ms) < 0) {
		zt_log(ZT_LOG_ERROR, "out of memory for a session key");
		return;
	}
	index_add(n, kp);
	if (keys->initiator) {
		/* Usable at once: the response proved the peer has it. */
		keypair_drop(n, &p->prev);
		p->prev = p->cur;
		p->cur = kp;
		keypair_drop(n, &p->next);
	} else {
		/* Responder waits for the initiator's first data packet to confirm. */
		keypair_drop(n, &p->next);
		p->next = kp;
	}
	if (p->prev)
		n->st.rekeys++;
	n->st.sessions_established++;
	if (zt_log_enabled(ZT_LOG_DEBUG)) {
		fmt_addr(a, p->address);
		zt_log(ZT_LOG_DEBUG, "peer %s: session keys installed (%s, %s)", a,
		       keys->initiator ? "initiator" : "responder", zt_cipher_name(keys->cipher));
	}
}

static void confirm_next(struct zt_node *n, struct zt_peer *p)
{
	keypair_drop(n, &p->prev);
	p->prev = p->cur;
	p->cur = p->next;
	p->next = NULL;
}

static void note_handshake_load(struct zt_node *n, uint64_t now_ms)
{
	if (now_ms - n->hs_window_ms >= 1000) {
		n->under_load = n->hs_window_count > ZT_HS_LOAD_PER_SEC;
		n->hs_window_ms = now_ms;
		n->hs_window_count = 0;
	}
	n->hs_window_count++;
	if (n->hs_window_count > ZT_HS_LOAD_PER_SEC)
		n->under_load = true;
}

static void handle_init(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			size_t len, uint64_t now_ms)
{
	static const size_t mac_off = ZT_HS_INIT_BYTES - 2 * ZT_MAC_BYTES;
	uint8_t resp[ZT_HS_RESP_BYTES];
	struct zt_hs_init_info info;
	struct zt_hs_keys keys;
	struct zt_peer *p;
	int err;

	n->st.hs_init_rx++;
	note_handshake_load(n, now_ms);
	err = zt_noise_check_macs(&n->noise, pkt, len, mac_off, n->under_load, from);
	if (err == ZT_EAGAIN) {
		uint8_t cookie[ZT_COOKIE_BYTES];
		if (zt_noise_create_cookie(&n->noise, pkt, len, from, n->cb.random, n->cb.ctx, cookie) == 0) {
			n->st.hs_cookie_tx++;
			zt_node_send_raw(n, from, cookie, sizeof(cookie));
		}
		return;
	}
	if (err) {
		n->st.drop_auth++;
		return;
	}
	p = zt_node_find_peer(n, h->src);
	if (p && now_ms - p->hs.last_init_rx_ms < ZT_HS_INIT_MIN_INTERVAL_MS && p->hs.last_init_rx_ms) {
		n->st.drop_rate_limited++;
		return;
	}
	err = zt_noise_consume_init(&n->noise, pkt, len, &info);
	if (err) {
		n->st.drop_auth++;
		return;
	}
	if (info.cipher != ZT_CIPHER_CHACHA20_POLY1305 && info.cipher != ZT_CIPHER_AES_256_GCM) {
		n->st.drop_bad_message++;
		goto out;
	}
	p = zt_node_get_peer(n, h->src, now_ms);
	if (!p) {
		n->st.drop_rate_limited++;
		goto out;
	}
	if (info.timestamp <= p->hs.greatest_ts_seen) {
		n->st.drop_replay++;
		goto out;
	}
	if (adopt_identity(n, p, &info.peer, now_ms) < 0)
		goto out;
	p->hs.greatest_ts_seen = info.timestamp;
	p->hs.last_init_rx_ms = now_ms;
	err = zt_noise_create_resp(&n->noise, &info, index_fresh(n), n->cb.random, n->cb.ctx, resp, &keys);
	if (err)
		goto out;
	install_keypair(n, p, &keys, now_ms);
	zt_wipe(&keys, sizeof(keys));
	learn_direct(n, p, from, h->hops == 0, now_ms);
	n->st.hs_resp_tx++;
	/* Answer the way the init came: directly, or back through the relaying root. */
	zt_node_send_raw(n, from, resp, sizeof(resp));
out:
	zt_wipe(&info, sizeof(info));
}

static void handle_resp(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			size_t len, uint64_t now_ms)
{
	struct zt_peer *p = zt_node_find_peer(n, h->src);
	struct zt_hs_keys keys;
	int err;

	n->st.hs_resp_rx++;
	if (!p || p->ident != ZT_IDENT_KNOWN || p->hs.state != ZT_HS_INIT_SENT) {
		n->st.drop_no_session++;
		return;
	}
	err = zt_noise_consume_resp(&n->noise, &p->hs, &p->id, pkt, len, &keys);
	if (err) {
		n->st.drop_auth++;
		return;
	}
	install_keypair(n, p, &keys, now_ms);
	zt_wipe(&keys, sizeof(keys));
	learn_direct(n, p, from, h->hops == 0, now_ms);
	/* Confirm the session to the responder: queued data does it, else a keepalive. */
	pending_flush(n, p, now_ms);
	if (p->cur && p->cur->send_counter == 0) {
		uint8_t ka = ZT_VERB_KEEPALIVE;
		zt_node_send_msg(n, p, &ka, 1, now_ms);
	}
}

static void handle_cookie(struct zt_node *n, const struct zt_hdr *h, const uint8_t *pkt, size_t len,
			  uint64_t now_ms)
{
	struct zt_peer *p = zt_node_find_peer(n, h->src);

	n->st.hs_cookie_rx++;
	if (!p || p->ident != ZT_IDENT_KNOWN || zt_noise_consume_cookie(&p->hs, &p->id, pkt, len, now_ms) < 0) {
		n->st.drop_auth++;
		return;
	}
	p->hs.retry_ms = now_ms + ZT_HS_COOKIE_RETRY_MS;
}

/* ---------- verbs ---------- */

static void ask_whois(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
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
	root = best_root(n, now_ms);
	if (!root || root == p)
		return;
	zt_wr_init(&w, body, sizeof(body));
	zt_wr_beN(&w, p->address, ZT_ADDR_BYTES);
	send_verb(n, root, ZT_VERB_WHOIS, &w, now_ms);
}

static void handle_whois_ok(struct zt_node *n, struct zt_peer *from_root, struct zt_rd *rd, uint64_t now_ms)
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
	p = zt_node_find_peer(n, address);
	if (!p || p->ident == ZT_IDENT_KNOWN)
		return;
	if (adopt_identity(n, p, &id, now_ms) < 0) {
		p->ident = ZT_IDENT_ASKED; /* retried by the timer */
		return;
	}
	start_handshake(n, p, now_ms);
}

static void send_echo_reply(struct zt_node *n, struct zt_peer *p, struct zt_rd *rd, uint64_t now_ms)
{
	size_t len = rd->left;
	const uint8_t *body = zt_rd_ref(rd, len);

	if (!body || len < 12 || len > 12 + ZT_ECHO_MAX_PAYLOAD) {
		n->st.drop_bad_message++;
		return;
	}
	zt_node_send(n, p->address, ZT_VERB_ECHO_REPLY, body, len, now_ms);
}

static void handle_echo_reply(struct zt_node *n, struct zt_peer *p, bool direct, struct zt_rd *rd, uint64_t now_ms)
{
	uint32_t id = zt_rd_be32(rd);
	uint64_t sent = zt_rd_be64(rd);

	if (rd->err || sent > now_ms) {
		n->st.drop_bad_message++;
		return;
	}
	p->latency_ms = (int)ZT_MIN(now_ms - sent, 600000);
	if (n->cb.echo_reply)
		n->cb.echo_reply(n->cb.ctx, p->address, id, now_ms - sent, direct ? ZT_LINK_DIRECT : ZT_LINK_RELAY);
}

static void handle_hello_ok(struct zt_node *n, struct zt_peer *p, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t sent = zt_rd_be64(rd);
	struct zt_endpoint obs = {0};

	obs.family = zt_rd_u8(rd);
	zt_rd_bytes(rd, obs.addr, 16);
	obs.port = zt_rd_be16(rd);
	if (rd->err || !p->is_root || sent > now_ms) {
		n->st.drop_bad_message++;
		return;
	}
	p->hello_ok_ms = now_ms;
	p->latency_ms = (int)ZT_MIN(now_ms - sent, 600000);
	if (zt_endpoint_is_set(&obs) && !zt_endpoint_equal(&obs, &p->observed)) {
		char a[11], e[ZT_ENDPOINT_TEXT_MAX];
		p->observed = obs;
		fmt_addr(a, p->address);
		zt_endpoint_format(&obs, e, sizeof(e));
		zt_log(ZT_LOG_INFO, "root %s sees us at %s", a, e);
	}
}

/* ---------- NAT traversal: introductions, probes, path liveness ---------- */

static void add_candidate(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms)
{
	struct zt_candidate *c = NULL;

	if (!zt_node_path_allowed(n, ep)) {
		n->st.paths_forbidden++;
		return;
	}
	for (unsigned i = 0; i < p->n_cand; i++)
		if (zt_endpoint_equal(&p->cand[i].ep, ep))
			c = &p->cand[i];
	for (unsigned i = 0; i < p->n_paths && !c; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, ep) && zt_path_alive(&p->paths[i], now_ms))
			return; /* already a working path */
	if (!c) {
		if (p->n_cand >= ZT_MAX_CANDIDATES)
			return;
		c = &p->cand[p->n_cand++];
		c->ep = *ep;
	}
	c->attempts = 0;
	c->next_ms = now_ms;
}

static void handle_rendezvous(struct zt_node *n, struct zt_peer *root, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t address = zt_rd_beN(rd, ZT_ADDR_BYTES);
	unsigned count = zt_rd_u8(rd);
	struct zt_endpoint eps[ZT_MAX_LOCAL_ENDPOINTS + 1];
	struct zt_peer *p;

	if (!root->is_root || rd->err || count > ZT_ARRAY_LEN(eps)) {
		n->st.drop_bad_message++;
		return;
	}
	for (unsigned i = 0; i < count; i++) {
		if (zt_rd_endpoint(rd, &eps[i]) < 0) {
			n->st.drop_bad_message++;
			return;
		}
	}
	n->st.rendezvous_rx++;
	p = zt_node_find_peer(n, address);
	if (!p || p->is_root)
		return;
	p->intro_ms = now_ms;
	for (unsigned i = 0; i < count; i++)
		add_candidate(n, p, &eps[i], now_ms);
}

static void send_probe(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *ep, uint8_t verb,
		       uint64_t stamp, uint64_t now_ms)
{
	uint8_t msg[9];
	struct zt_wr w;

	zt_wr_init(&w, msg, sizeof(msg));
	zt_wr_u8(&w, verb);
	zt_wr_be64(&w, stamp);
	if (zt_node_send_msg_via(n, p, msg, w.len, ep, now_ms) == 0 && verb == ZT_VERB_PATH_PROBE) {
		n->st.probes_tx++;
		p->probes_sent++;
	}
}

static void handle_probe(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
			 uint8_t verb, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t stamp = zt_rd_be64(rd);

	if (rd->err || !direct) {
		n->st.drop_bad_message++;
		return;
	}
	if (verb == ZT_VERB_PATH_PROBE) {
		n->st.probes_rx++;
		send_probe(n, p, from, ZT_VERB_PATH_PROBE_OK, stamp, now_ms);
		return;
	}
	if (stamp > now_ms)
		return;
	for (unsigned i = 0; i < p->n_paths; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, from))
			p->paths[i].latency_ms = (int)ZT_MIN(now_ms - stamp, 600000);
}

static void tick_candidates(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	/* Backoff between probes of one candidate: 0, 0.25, 0.5, 1, 2, 4 s. */
	static const uint32_t backoff_ms[ZT_PROBE_ATTEMPTS] = {250, 250, 500, 1000, 2000, 4000};

	for (unsigned i = 0; i < p->n_cand;) {
		struct zt_candidate *c = &p->cand[i];
		if (c->attempts >= ZT_PROBE_ATTEMPTS) {
			p->cand[i] = p->cand[--p->n_cand];
			continue;
		}
		if (now_ms >= c->next_ms && p->cur) {
			send_probe(n, p, &c->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
			c->next_ms = now_ms + backoff_ms[c->attempts++];
		}
		i++;
	}
}

static void path_died(struct zt_node *n, struct zt_peer *p, struct zt_path *path, uint64_t now_ms)
{
	char a[11], e[ZT_ENDPOINT_TEXT_MAX];

	path->dead = true;
	path->reprobe_ms = now_ms;
	n->st.paths_died++;
	fmt_addr(a, p->address);
	zt_endpoint_format(&path->ep, e, sizeof(e));
	zt_log(ZT_LOG_INFO, "peer %s: direct path %s stopped answering, using %s", a, e,
	       zt_peer_best_path(p, now_ms) ? "another direct path" : "the relay");
}

/* Probe paths we send on but do not hear from; declare them dead; re-probe dead ones. */
static void tick_paths(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < p->n_paths;) {
		struct zt_path *path = &p->paths[i];

		if (path->is_static) {
			i++;
			continue;
		}
		if (path->dead) {
			if (now_ms - path->last_rx_ms >= ZT_PATH_ALIVE_MS) {
				zt_peer_forget_path(p, path);
				continue;
			}
			if (now_ms - path->reprobe_ms >= ZT_PATH_REPROBE_MS) {
				path->reprobe_ms = now_ms;
				send_probe(n, p, &path->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
			}
			i++;
			continue;
		}
		if (!zt_path_alive(path, now_ms)) {
			zt_peer_forget_path(p, path);
			continue;
		}
		if (path->probe_ms && path->last_rx_ms < path->probe_ms && now_ms - path->probe_ms >= ZT_PATH_DEAD_MS) {
			path_died(n, p, path, now_ms);
			i++;
			continue;
		}
		if (path->last_rx_ms >= path->probe_ms)
			path->probe_ms = 0;
		if (!path->probe_ms && ((path->last_tx_ms > path->last_rx_ms + ZT_PATH_PROBE_AFTER_MS) ||
					now_ms - ZT_MAX(path->last_tx_ms, path->last_rx_ms) >= ZT_PATH_KEEPALIVE_MS)) {
			path->probe_ms = now_ms;
			path->last_tx_ms = now_ms;
			send_probe(n, p, &path->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
		}
		i++;
	}
}

static void dispatch(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
		     const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct zt_rd rd;
	uint8_t verb;

	zt_rd_init(&rd, msg, len);
	verb = zt_rd_u8(&rd);
	if (rd.err) {
		n->st.drop_bad_message++;
		return;
	}
	if (verb != ZT_VERB_KEEPALIVE)
		p->last_data_rx_ms = now_ms;
	switch (verb) {
	case ZT_VERB_KEEPALIVE:
		return;
	case ZT_VERB_ECHO:
		send_echo_reply(n, p, &rd, now_ms);
		return;
	case ZT_VERB_ECHO_REPLY:
		handle_echo_reply(n, p, direct, &rd, now_ms);
		return;
	case ZT_VERB_HELLO_OK:
		handle_hello_ok(n, p, &rd, now_ms);
		return;
	case ZT_VERB_WHOIS_OK:
		handle_whois_ok(n, p, &rd, now_ms);
		return;
	case ZT_VERB_WHOIS_NONE:
		return; /* the WHOIS timer gives up in time */
	case ZT_VERB_RENDEZVOUS:
		handle_rendezvous(n, p, &rd, now_ms);
		return;
	case ZT_VERB_PATH_PROBE:
	case ZT_VERB_PATH_PROBE_OK:
		handle_probe(n, p, from, direct, verb, &rd, now_ms);
		return;
	}
	if (n->is_root && zt_root_handle(n, p, from, direct, verb, &rd, now_ms))
		return;
	if (verb >= ZT_VERB_VL2_MIN && n->cb.vl2_message) {
		n->cb.vl2_message(n->cb.ctx, p->address, verb, rd.p, rd.left, now_ms);
		return;
	}
	n->st.drop_bad_message++;
}

/*
 * DATA under keys we do not hold: typically we restarted and the peer still
 * uses the old session. The packet proves nothing (it may be spoofed), so it
 * only makes us start our own authenticated handshake, at a bounded rate and
 * not more than once per retry interval per peer.
 */
static void resync_session(struct zt_node *n, uint64_t src, uint64_t now_ms)
{
	struct zt_peer *p = zt_node_find_peer(n, src);

	if (src == n->id.address || zt_address_reserved(src))
		return;
	if (p && (p->hs.state != ZT_HS_NONE || (p->cur && zt_keypair_can_send(p->cur, now_ms) &&
						now_ms - p->cur->created_ms < ZT_REKEY_TIMEOUT_MS)))
		return;
	if (!zt_limiter_take(&n->unknown_index_limit, now_ms))
		return;
	if (!p)
		p = zt_node_get_peer(n, src, now_ms);
	if (p)
		ensure_session(n, p, now_ms);
}

static void handle_data(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			size_t len, uint64_t now_ms)
{
	uint32_t idx = zt_noise_peek_index(pkt, len, ZT_HDR_BYTES);
	struct zt_keypair *kp = index_find(n, idx);
	struct zt_peer *p;
	uint8_t *msg;
	size_t msg_len;
	int err;

	if (!kp || kp->peer->address != h->src) {
		n->st.drop_unknown_index++;
		resync_session(n, h->src, now_ms);
		return;
	}
	p = kp->peer;
	err = zt_session_open(kp, pkt, len, now_ms, &msg, &msg_len);
	if (err) {
		if (err == ZT_EREPLAY)
			n->st.drop_replay++;
		else if (err == ZT_ETRUNC)
			n->st.drop_truncated++;
		else
			n->st.drop_auth++;
		return;
	}
	if (kp == p->next) {
		confirm_next(n, p);
		pending_flush(n, p, now_ms);
	}
	learn_direct(n, p, from, h->hops == 0, now_ms);
	dispatch(n, p, from, h->hops == 0, msg, msg_len, now_ms);
}

/* ---------- receive ---------- */

static void process(struct zt_node *n, const struct zt_endpoint *from, uint8_t *pkt, size_t len, uint64_t now_ms,
		    bool reassembled);

static void handle_fragment(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h,
			    uint8_t *pkt, size_t len, uint64_t now_ms)
{
	const uint8_t *whole, *data;
	size_t whole_len, total;
	struct zt_rd rd;
	uint32_t id;
	unsigned idx, count;
	int err;

	n->st.fragments_rx++;
	zt_rd_init(&rd, pkt, len);
	zt_rd_ref(&rd, ZT_HDR_BYTES);
	id = zt_rd_be32(&rd);
	idx = zt_rd_u8(&rd);
	count = zt_rd_u8(&rd);
	total = zt_rd_be16(&rd);
	data = zt_rd_ref(&rd, rd.left);
	if (rd.err || !data) {
		n->st.drop_truncated++;
		return;
	}
	err = zt_reasm_add(n->reasm, h->src, id, idx, count, data, len - ZT_FRAG_HDR_BYTES, now_ms, &whole,
			   &whole_len);
	if (err == ZT_EAGAIN)
		return;
	if (err) {
		n->st.drop_fragment++;
		return;
	}
	/* The last fragment may carry padding: keep the declared length, if it is plausible. */
	if (total > whole_len || whole_len - total > ZT_FRAG_PAD_MAX) {
		n->st.drop_fragment++;
		return;
	}
	whole_len = total;
	n->st.reassembled++;
	/* Opened in place: the reassembly buffer is ours until the next zt_reasm_add. */
	process(n, from, (uint8_t *)whole, whole_len, now_ms, true);
}

static void process(struct zt_node *n, const struct zt_endpoint *from, uint8_t *pkt, size_t len, uint64_t now_ms,
		    bool reassembled)
{
	struct zt_rd rd;
	struct zt_hdr h;
	int err;

	zt_rd_init(&rd, pkt, len);
	err = zt_hdr_read(&rd, &h);
	if (err) {
		if (err == ZT_EVERSION)
			n->st.drop_version++;
		else if (err == ZT_EINVAL)
			n->st.drop_hops++;
		else
			n->st.drop_truncated++;
		return;
	}
	if (h.dst != n->id.address) {
		if (n->is_root && !reassembled)
			zt_root_relay(n, from, &h, pkt, len, now_ms);
		else
			n->st.drop_not_for_me++;
		return;
	}
	switch (h.type) {
	case ZT_PKT_DATA:
		handle_data(n, from, &h, pkt, len, now_ms);
		return;
	case ZT_PKT_HS_INIT:
		handle_init(n, from, &h, pkt, len, now_ms);
		return;
	case ZT_PKT_HS_RESP:
		handle_resp(n, from, &h, pkt, len, now_ms);
		return;
	case ZT_PKT_COOKIE:
		handle_cookie(n, &h, pkt, len, now_ms);
		return;
	case ZT_PKT_FRAGMENT:
		if (!reassembled) {
			handle_fragment(n, from, &h, pkt, len, now_ms);
			return;
		}
		break;
	}
	n->st.drop_bad_type++;
}

void zt_node_receive(struct zt_node *n, const struct zt_endpoint *from, uint8_t *pkt, size_t len, uint64_t now_ms)
{
	n->st.rx_packets++;
	n->st.rx_bytes += len;
	if (len > ZT_MAX_PACKET_BYTES) {
		n->st.drop_oversize++;
		return;
	}
	process(n, from, pkt, len, now_ms, false);
}

/* ---------- timers ---------- */

static void send_hello(struct zt_node *n, struct zt_peer *root, uint64_t now_ms)
{
	uint8_t body[9 + ZT_MAX_LOCAL_ENDPOINTS * ZT_ENDPOINT_WIRE_BYTES];
	struct zt_wr w;

	zt_wr_init(&w, body, sizeof(body));
	zt_wr_be64(&w, now_ms);
	zt_wr_u8(&w, (uint8_t)n->n_local_eps);
	for (unsigned i = 0; i < n->n_local_eps; i++)
		zt_wr_endpoint(&w, &n->local_eps[i]);
	root->last_hello_ms = now_ms;
	send_verb(n, root, ZT_VERB_HELLO, &w, now_ms);
}

static void tick_root_contact(struct zt_node *n, struct zt_peer *r, uint64_t now_ms)
{
	uint64_t every = r->hello_ok_ms && now_ms - r->hello_ok_ms < ZT_PATH_ALIVE_MS ? ZT_ROOT_HELLO_MS
										 : ZT_ROOT_HELLO_RETRY_MS;

	if (r->last_hello_ms == 0 || now_ms - r->last_hello_ms >= every)
		send_hello(n, r, now_ms);
}

static void tick_handshake(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	char a[11];

	if (p->hs.state != ZT_HS_INIT_SENT)
		return;
	if (now_ms - p->hs.first_sent_ms >= ZT_REKEY_ATTEMPT_MS) {
		fmt_addr(a, p->address);
		zt_log(ZT_LOG_INFO, "peer %s: handshake unanswered for %u s, giving up", a, ZT_REKEY_ATTEMPT_MS / 1000);
		zt_handshake_clear(&p->hs);
		pending_drop_peer(n, p->address);
		return;
	}
	if (now_ms >= p->hs.retry_ms)
		start_handshake(n, p, now_ms);
}

static void tick_session(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	struct zt_keypair *kp = p->cur;
	bool active = p->last_data_tx_ms && now_ms - p->last_data_tx_ms < ZT_KEEPALIVE_MS;

	if (!kp) {
		if (p->next && !zt_keypair_can_recv(p->next, now_ms))
			keypair_drop(n, &p->next);
		return;
	}
	/* Keys are dropped (and wiped) once too old to use. */
	if (p->prev && !zt_keypair_can_recv(p->prev, now_ms))
		keypair_drop(n, &p->prev);
	if (!zt_keypair_can_recv(kp, now_ms)) {
		keypair_drop(n, &p->cur);
		return;
	}
	/* The responder rekeys too if the initiator went quiet near expiry. */
	if (!kp->initiator && active && p->hs.state == ZT_HS_NONE &&
	    now_ms - kp->created_ms >= ZT_REJECT_AFTER_MS - ZT_KEEPALIVE_MS - ZT_REKEY_TIMEOUT_MS)
		start_handshake(n, p, now_ms);
	/* We keep sending but hear nothing (the peer answers data with keepalives
	 * within ZT_KEEPALIVE_MS): it may have lost the session, e.g. restarted. */
	if (p->hs.state == ZT_HS_NONE && p->last_data_tx_ms > p->last_rx_ms &&
	    now_ms - p->last_rx_ms >= ZT_STALE_SESSION_MS && now_ms - p->last_data_tx_ms < ZT_KEEPALIVE_MS)
		start_handshake(n, p, now_ms);
	/* Passive keepalive: we got data and sent nothing back for a while. */
	if (p->last_data_rx_ms > p->last_tx_ms && now_ms - p->last_tx_ms >= ZT_KEEPALIVE_MS &&
	    now_ms - p->last_data_rx_ms < ZT_KEEPALIVE_MS * 3) {
		uint8_t ka = ZT_VERB_KEEPALIVE;
		zt_node_send_msg(n, p, &ka, 1, now_ms);
	}
}

static void tick_whois(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	if (p->ident != ZT_IDENT_ASKED)
		return;
	if (now_ms - p->whois_first_ms >= ZT_WHOIS_GIVE_UP_MS) {
		char a[11];
		fmt_addr(a, p->address);
		zt_log(ZT_LOG_INFO, "peer %s: no root knows this address, dropping queued messages", a);
		p->ident = ZT_IDENT_UNKNOWN;
		pending_drop_peer(n, p->address);
		return;
	}
	ask_whois(n, p, now_ms);
}

static bool peer_expired(const struct zt_peer *p, uint64_t now_ms)
{
	uint64_t last = ZT_MAX(ZT_MAX(p->last_rx_ms, p->last_tx_ms), p->created_ms);

	return !p->is_root && now_ms - last >= ZT_PEER_EXPIRE_MS;
}

uint64_t zt_node_tick(struct zt_node *n, uint64_t now_ms)
{
	zt_noise_local_rotate(&n->noise, now_ms, n->cb.random, n->cb.ctx);
	zt_reasm_expire(n->reasm, now_ms);
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++) {
		if (n->pending[i].used && now_ms - n->pending[i].created_ms >= ZT_PENDING_MAX_MS) {
			n->pending[i].used = false;
			n->st.pending_dropped++;
		}
	}
	for (unsigned i = 0; i < n->n_roots; i++)
		tick_root_contact(n, n->roots[i], now_ms);
	for (unsigned b = 0; b < ZT_PEER_BUCKETS; b++) {
		struct zt_peer *p = n->peers[b], *next;
		for (; p; p = next) {
			next = p->hash_next;
			if (peer_expired(p, now_ms)) {
				pending_drop_peer(n, p->address);
				peer_remove(n, p);
				continue;
			}
			tick_whois(n, p, now_ms);
			tick_handshake(n, p, now_ms);
			tick_session(n, p, now_ms);
			if (!p->is_root && !n->is_root && p->cur) {
				tick_candidates(n, p, now_ms);
				tick_paths(n, p, now_ms);
			}
		}
	}
	return now_ms + ZT_TICK_MS;
}

/* ---------- API ---------- */

int zt_node_echo(struct zt_node *n, uint64_t peer, uint32_t id, const uint8_t *payload, size_t len,
		 uint64_t now_ms)
{
	uint8_t body[12 + ZT_ECHO_MAX_PAYLOAD];
	struct zt_wr w;

	if (peer == n->id.address || len > ZT_ECHO_MAX_PAYLOAD)
		return ZT_EINVAL;
	zt_wr_init(&w, body, sizeof(body));
	zt_wr_be32(&w, id);
	zt_wr_be64(&w, now_ms);
	zt_wr_bytes(&w, payload, len);
	return zt_node_send(n, peer, ZT_VERB_ECHO, body, w.len, now_ms);
}

static int add_root(struct zt_node *n, const struct zt_root_spec *spec, uint64_t now_ms)
{
	struct zt_peer *p;
	char a[11];
	int err;

	if (n->n_roots >= ZT_MAX_ROOTS)
		return ZT_ETOOBIG;
	if (spec->id.address == n->id.address)
		return 0; /* a root lists itself in a shared config */
	if (!n->trust_roots) {
		n->st.identity_validations++;
		err = zt_identity_validate(&spec->id);
		if (err) {
			fmt_addr(a, spec->id.address);
			zt_log(ZT_LOG_ERROR, "root %s: identity does not match its address", a);
			return err;
		}
	}
	p = zt_node_get_peer(n, spec->id.address, now_ms);
	if (!p)
		return ZT_ENOMEM;
	zt_identity_public(&p->id, &spec->id);
	p->ident = ZT_IDENT_KNOWN;
	p->is_root = true;
	for (unsigned i = 0; i < spec->n_endpoints && i < ZT_ROOT_MAX_ENDPOINTS; i++)
		zt_peer_add_static_path(p, &spec->endpoints[i]);
	n->roots[n->n_roots++] = p;
	return 0;
}

int zt_node_new(struct zt_node **out, const struct zt_node_config *cfg, const struct zt_node_callbacks *cb,
		uint64_t now_ms)
{
	struct zt_node *n;
	int err;

	*out = NULL;
	if (!cfg->identity || !cfg->identity->has_secret || !cb->send || !cb->random)
		return ZT_EINVAL;
	if (cfg->cipher != ZT_CIPHER_CHACHA20_POLY1305 && cfg->cipher != ZT_CIPHER_AES_256_GCM)
		return ZT_EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return ZT_ENOMEM;
	n->id = *cfg->identity;
	n->cb = *cb;
	n->is_root = cfg->is_root;
	n->trust_roots = cfg->trust_root_identities;
	n->cipher = cfg->cipher;
	n->max_peers = cfg->max_peers ? cfg->max_peers : ZT_DEFAULT_MAX_PEERS;
	zt_limiter_init(&n->validate_limit, ZT_VALIDATE_PER_SEC, ZT_VALIDATE_BURST);
	zt_limiter_init(&n->unknown_index_limit, ZT_UNKNOWN_INDEX_PER_SEC, ZT_UNKNOWN_INDEX_PER_SEC);
	zt_noise_local_init(&n->noise, &n->id);
	zt_noise_local_rotate(&n->noise, now_ms, cb->random, cb->ctx);
	n->tx_buf = malloc(ZT_MAX_PACKET_BYTES);
	n->msg_buf = malloc(ZT_MAX_MESSAGE_BYTES);
	err = n->tx_buf && n->msg_buf ? zt_reasm_new(&n->reasm) : ZT_ENOMEM;
	for (unsigned i = 0; !err && i < ZT_PENDING_SLOTS; i++) {
		n->pending[i].msg = malloc(ZT_MAX_MESSAGE_BYTES);
		if (!n->pending[i].msg)
			err = ZT_ENOMEM;
	}
	for (unsigned i = 0; !err && i < cfg->n_roots; i++)
		err = add_root(n, &cfg->roots[i], now_ms);
	if (!err && n->is_root)
		err = zt_mcast_dir_new(&n->mdir, ZT_ROOT_MCAST_MAX);
	if (err) {
		zt_node_free(n);
		return err;
	}
	*out = n;
	return 0;
}

void zt_node_free(struct zt_node *n)
{
	if (!n)
		return;
	for (unsigned b = 0; b < ZT_PEER_BUCKETS; b++) {
		struct zt_peer *p = n->peers[b], *next;
		for (; p; p = next) {
			next = p->hash_next;
			peer_remove(n, p);
		}
	}
	for (unsigned i = 0; i < ZT_PENDING_SLOTS; i++)
		free(n->pending[i].msg);
	zt_reasm_free(n->reasm);
	zt_mcast_dir_free(n->mdir);
	free(n->tx_buf);
	free(n->msg_buf);
	zt_wipe(&n->noise, sizeof(n->noise));
	zt_identity_wipe(&n->id);
	free(n);
}

void zt_node_set_local_endpoints(struct zt_node *n, const struct zt_endpoint *eps, unsigned count)
{
	n->n_local_eps = 0;
	for (unsigned i = 0; i < count && n->n_local_eps < ZT_MAX_LOCAL_ENDPOINTS; i++)
		if (zt_endpoint_is_set(&eps[i]) && eps[i].port)
			n->local_eps[n->n_local_eps++] = eps[i];
}

uint64_t zt_node_address(const struct zt_node *n)
{
	return n->id.address;
}

const struct zt_identity *zt_node_identity(const struct zt_node *n)
{
	return &n->id;
}

bool zt_node_is_root(const struct zt_node *n)
{
	return n->is_root;
}

bool zt_node_online(const struct zt_node *n, uint64_t now_ms)
{
	if (n->is_root)
		return true;
	for (unsigned i = 0; i < n->n_roots; i++)
		if (n->roots[i]->hello_ok_ms && now_ms - n->roots[i]->hello_ok_ms < ZT_PATH_ALIVE_MS)
			return true;
	return false;
}

bool zt_node_observed(const struct zt_node *n, struct zt_endpoint *out)
{
	for (unsigned i = 0; i < n->n_roots; i++) {
		if (zt_endpoint_is_set(&n->roots[i]->observed)) {
			*out = n->roots[i]->observed;
			return true;
		}
	}
	return false;
}

/* Why a peer is not DIRECT, as far as this node knows. */
static const char *relay_reason(const struct zt_node *n, const struct zt_peer *p)
{
	struct zt_endpoint first = {0};

	if (p->is_root)
		return "root not answering";
	/* Two roots seeing us on different ports: our NAT maps per destination. */
	for (unsigned i = 0; i < n->n_roots; i++) {
		const struct zt_endpoint *o = &n->roots[i]->observed;
		if (!zt_endpoint_is_set(o))
			continue;
		if (!zt_endpoint_is_set(&first))
			first = *o;
		else if (!zt_endpoint_equal(&first, o))
			return "symmetric NAT suspected (our mapping differs per destination)";
	}
	for (unsigned i = 0; i < p->n_paths; i++)
		if (p->paths[i].dead)
			return "direct path stopped answering";
	if (!p->intro_ms)
		return "no introduction yet";
	if (p->probes_sent)
		return "probes unanswered (a NAT filters them; symmetric NAT suspected)";
	return "introduced, probing";
}

static void fill_info(const struct zt_node *n, struct zt_peer *p, uint64_t now_ms, struct zt_peer_info *pi)
{
	struct zt_path *best = zt_peer_best_path(p, now_ms);

	memset(pi, 0, sizeof(*pi));
	pi->address = p->address;
	pi->is_root = p->is_root;
	/* The preferred path's probed latency, else the last echo's round trip. */
	pi->latency_ms = best && best->latency_ms >= 0 ? best->latency_ms : p->latency_ms;
	pi->last_rx_ms = p->last_rx_ms;
	pi->session_age_ms = p->cur ? (int64_t)(now_ms - p->cur->created_ms) : -1;
	pi->rx_packets = p->rx_packets;
	pi->tx_packets = p->tx_packets;
	if (best)
		pi->link = ZT_LINK_DIRECT;
	else if (!n->is_root && !p->is_root && p->cur)
		pi->link = ZT_LINK_RELAY;
	if (pi->link != ZT_LINK_DIRECT)
		pi->relay_reason = relay_reason(n, p);
	for (unsigned i = 0; i < p->n_paths && i < ZT_PEER_MAX_PATHS; i++) {
		struct zt_path_info *q = &pi->paths[pi->n_paths++];
		q->endpoint = p->paths[i].ep;
		q->preferred = &p->paths[i] == best;
		q->alive = zt_path_alive(&p->paths[i], now_ms);
		q->last_rx_ms = p->paths[i].last_rx_ms;
		q->latency_ms = p->paths[i].latency_ms;
	}
}

int zt_node_peer_identity(const struct zt_node *n, uint64_t address, struct zt_identity *out)
{
	struct zt_peer *p = zt_node_find_peer(n, address);

	if (address == n->id.address) {
		zt_identity_public(out, &n->id);
		return 0;
	}
	if (!p || p->ident != ZT_IDENT_KNOWN)
		return ZT_ENOENT;
	zt_identity_public(out, &p->id);
	return 0;
}

void zt_node_want_identity(struct zt_node *n, uint64_t address, uint64_t now_ms)
{
	struct zt_peer *p;

	if (address == n->id.address)
		return;
	p = zt_node_get_peer(n, address, now_ms);
	if (p && p->ident != ZT_IDENT_KNOWN)
		ask_whois(n, p, now_ms);
}

void zt_node_random(struct zt_node *n, void *buf, size_t len)
{
	n->cb.random(n->cb.ctx, buf, len);
}

unsigned zt_node_roots(const struct zt_node *n, uint64_t *out, unsigned max)
{
	unsigned count = 0;

	for (unsigned i = 0; i < n->n_roots && count < max; i++)
		out[count++] = n->roots[i]->address;
	return count;
}

uint64_t zt_node_best_root(struct zt_node *n, uint64_t now_ms)
{
	struct zt_peer *r = best_root(n, now_ms);

	return r ? r->address : 0;
}

size_t zt_node_peers(const struct zt_node *n, uint64_t now_ms, struct zt_peer_info *out, size_t max)
{
	size_t count = 0;

	for (unsigned b = 0; b < ZT_PEER_BUCKETS && count < max; b++)
		for (struct zt_peer *p = n->peers[b]; p && count < max; p = p->hash_next)
			fill_info(n, p, now_ms, &out[count++]);
	return count;
}

int zt_node_peer(const struct zt_node *n, uint64_t address, uint64_t now_ms, struct zt_peer_info *out)
{
	struct zt_peer *p = zt_node_find_peer(n, address);

	if (!p)
		return ZT_ENOENT;
	fill_info(n, p, now_ms, out);
	return 0;
}

void zt_node_get_stats(const struct zt_node *n, struct zt_node_stats *st)
{
	*st = n->st;
}
