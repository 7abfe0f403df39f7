/*
 * handshake.c - the node's side of the Noise IK handshake: starting one,
 * accepting a peer's identity, answering HS_INIT, consuming HS_RESP and
 * cookie replies, installing and confirming keypairs, sensing load. The
 * handshake messages and their crypto are noise.c's (including
 * zt_handshake_clear); retry timing is driven from node.c's tick. Peers
 * seeded from the host's cache enter here too (identity and candidates).
 */
#include "handshake.h"
#include "node_impl.h"
#include "path.h"
#include "peer.h"
#include "send.h"
#include "crypto.h"

#include <string.h>

static uint32_t random_below(struct zt_node *n, uint32_t bound)
{
	uint32_t v;

	n->cb.random(n->cb.ctx, &v, sizeof(v));
	return bound ? v % bound : 0;
}

/*
 * When an unanswered init is sent again. A first handshake to a root or to a
 * peer from the cache (no session yet) backs off 250, 500, 1000 ms, then
 * falls back to ZT_REKEY_TIMEOUT_MS: one lost datagram after a restart costs
 * a quarter second, not five.
 */
static uint64_t retry_delay_ms(struct zt_node *n, const struct zt_peer *p)
{
	bool early = (p->is_root || p->seeded) && !p->cur && p->hs_tries <= ZT_EARLY_RETRY_STEPS;

	if (early)
		return ((uint64_t)ZT_EARLY_RETRY_FIRST_MS << (p->hs_tries - 1)) +
		       random_below(n, ZT_EARLY_RETRY_JITTER_MS);
	return ZT_REKEY_TIMEOUT_MS + random_below(n, ZT_HS_JITTER_MS);
}

void zt_handshake_start(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	uint8_t pkt[ZT_HS_INIT_BYTES];
	char a[11];
	int err;

	if (p->ident != ZT_IDENT_KNOWN)
		return;
	if (p->hs.state == ZT_HS_NONE) {
		p->hs.first_sent_ms = now_ms;
		p->hs_tries = 0;
	}
	err = zt_noise_create_init(&n->noise, &p->hs, &p->id, zt_peer_index_fresh(n), n->cipher, now_ms, n->cb.random,
				   n->cb.ctx, pkt);
	if (err) {
		zt_address_format(a, p->address);
		zt_log(ZT_LOG_WARN, "peer %s: cannot create handshake: %s", a, zt_strerror(err));
		return;
	}
	p->hs.sent_ms = now_ms;
	p->hs_tries++;
	p->hs.retry_ms = now_ms + retry_delay_ms(n, p);
	n->st.hs_init_tx++;
	if (zt_send_transmit(n, p, pkt, sizeof(pkt), now_ms) < 0 && zt_log_enabled(ZT_LOG_DEBUG)) {
		zt_address_format(a, p->address);
		zt_log(ZT_LOG_DEBUG, "peer %s: no path for handshake yet", a);
	}
}

/* Accept an identity learned from the network: must match the address, checked at a bounded rate. */
int zt_handshake_adopt_identity(struct zt_node *n, struct zt_peer *p, const struct zt_identity *id, uint64_t now_ms)
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
		zt_address_format(a, p->address);
		zt_log(ZT_LOG_WARN, "peer %s: identity does not match its address, refused", a);
		n->st.drop_identity++;
		return err;
	}
	zt_identity_public(&p->id, id);
	p->ident = ZT_IDENT_KNOWN;
	return 0;
}

static void install_keypair(struct zt_node *n, struct zt_peer *p, const struct zt_hs_keys *keys, uint64_t now_ms)
{
	struct zt_keypair *kp;
	char a[11];

	if (zt_keypair_new(&kp, keys, p, now_ms) < 0) {
		zt_log(ZT_LOG_ERROR, "out of memory for a session key");
		return;
	}
	zt_peer_index_add(n, kp);
	if (keys->initiator) {
		/* Usable at once: the response proved the peer has it. An unconfirmed
		 * responder keypair (both sides started a handshake at once) becomes
		 * prev, as in WireGuard: the peer may already send under it. */
		zt_peer_keypair_drop(n, &p->prev);
		if (p->next) {
			zt_peer_keypair_drop(n, &p->cur);
			p->prev = p->next;
			p->next = NULL;
		} else {
			p->prev = p->cur;
		}
		p->cur = kp;
	} else {
		/* Responder waits for the initiator's first data packet to confirm. */
		zt_peer_keypair_drop(n, &p->next);
		p->next = kp;
	}
	if (p->prev)
		n->st.rekeys++;
	n->st.sessions_established++;
	if (zt_log_enabled(ZT_LOG_DEBUG)) {
		zt_address_format(a, p->address);
		zt_log(ZT_LOG_DEBUG, "peer %s: session keys installed (%s, %s)", a,
		       keys->initiator ? "initiator" : "responder", zt_cipher_name(keys->cipher));
	}
}

void zt_handshake_confirm_next(struct zt_node *n, struct zt_peer *p)
{
	zt_peer_keypair_drop(n, &p->prev);
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

void zt_handshake_handle_init(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
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
	p = zt_peer_find(n, h->src);
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
	p = zt_peer_get(n, h->src, now_ms);
	if (!p) {
		n->st.drop_rate_limited++;
		goto out;
	}
	if (info.timestamp <= p->hs.greatest_ts_seen) {
		n->st.drop_replay++;
		goto out;
	}
	if (zt_handshake_adopt_identity(n, p, &info.peer, now_ms) < 0)
		goto out;
	p->hs.greatest_ts_seen = info.timestamp;
	p->hs.last_init_rx_ms = now_ms;
	err = zt_noise_create_resp(&n->noise, &info, zt_peer_index_fresh(n), n->cb.random, n->cb.ctx, resp, &keys);
	if (err)
		goto out;
	install_keypair(n, p, &keys, now_ms);
	zt_wipe(&keys, sizeof(keys));
	zt_path_learn_direct(n, p, from, h->hops == 0, now_ms);
	n->st.hs_resp_tx++;
	/* Answer the way the init came: directly, or back through the relaying root. */
	zt_node_send_raw(n, from, resp, sizeof(resp));
out:
	zt_wipe(&info, sizeof(info));
}

void zt_handshake_handle_resp(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			size_t len, uint64_t now_ms)
{
	struct zt_peer *p = zt_peer_find(n, h->src);
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
	zt_path_learn_direct(n, p, from, h->hops == 0, now_ms);
	/* What the host sends first (our certificates), then queued data, confirm the session. */
	if (n->session_hook)
		n->session_hook(n->session_hook_ctx, p->address, now_ms);
	zt_send_pending_flush(n, p, now_ms);
	if (p->cur && p->cur->send_counter == 0) {
		uint8_t ka = ZT_VERB_KEEPALIVE;
		zt_node_send_msg(n, p, &ka, 1, now_ms);
	}
}

void zt_handshake_handle_cookie(struct zt_node *n, const struct zt_hdr *h, const uint8_t *pkt, size_t len,
			  uint64_t now_ms)
{
	struct zt_peer *p = zt_peer_find(n, h->src);

	n->st.hs_cookie_rx++;
	if (!p || p->ident != ZT_IDENT_KNOWN || zt_noise_consume_cookie(&p->hs, &p->id, pkt, len, now_ms) < 0) {
		n->st.drop_auth++;
		return;
	}
	p->hs.retry_ms = now_ms + ZT_HS_COOKIE_RETRY_MS;
}

/* ---------- peers from an earlier run (issue 12) ---------- */

void zt_node_set_session_hook(struct zt_node *n, zt_node_session_fn fn, void *ctx)
{
	n->session_hook = fn;
	n->session_hook_ctx = ctx;
}

/* A cached endpoint is a candidate: probed a bounded number of times once a session is up. */
static void seed_candidate(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms)
{
	if (!zt_node_path_allowed(n, ep)) {
		n->st.paths_forbidden++;
		return;
	}
	for (unsigned i = 0; i < p->n_cand; i++)
		if (zt_endpoint_equal(&p->cand[i].ep, ep))
			return;
	if (p->n_cand >= ZT_MAX_CANDIDATES)
		return;
	p->cand[p->n_cand].ep = *ep;
	p->cand[p->n_cand].attempts = 0;
	p->cand[p->n_cand].next_ms = now_ms;
	p->n_cand++;
}

int zt_node_seed_peer(struct zt_node *n, const struct zt_identity *id, const struct zt_endpoint *eps,
		      unsigned n_eps, uint64_t now_ms)
{
	struct zt_peer *p;
	bool asked;
	int err;

	if (id->address == n->id.address || zt_address_reserved(id->address))
		return ZT_EINVAL;
	p = zt_peer_find(n, id->address);
	asked = p && p->ident == ZT_IDENT_ASKED;
	if (p && p->ident == ZT_IDENT_KNOWN) {
		if (memcmp(p->id.x25519_pub, id->x25519_pub, 32) || memcmp(p->id.ed25519_pub, id->ed25519_pub, 32))
			return ZT_EEXIST;
	} else {
		n->st.identity_validations++;
		err = zt_identity_validate(id);
		if (err) {
			n->st.drop_identity++;
			return err;
		}
		p = zt_peer_get(n, id->address, now_ms);
		if (!p)
			return ZT_ENOMEM;
		zt_identity_public(&p->id, id);
		p->ident = ZT_IDENT_KNOWN;
	}
	if (p->is_root)
		return 0;
	p->seeded = true;
	for (unsigned i = 0; i < n_eps; i++)
		seed_candidate(n, p, &eps[i], now_ms);
	/* Messages waited for a WHOIS that is now moot (its answer is ignored once known). */
	if (asked)
		zt_send_ensure_session(n, p, now_ms);
	return 0;
}

int zt_node_connect(struct zt_node *n, uint64_t peer, uint64_t now_ms)
{
	struct zt_peer *p = zt_peer_get(n, peer, now_ms);

	if (!p)
		return ZT_EINVAL;
	if (p->cur && zt_keypair_can_send(p->cur, now_ms))
		return 0;
	zt_send_ensure_session(n, p, now_ms);
	return 0;
}

int64_t zt_node_session_age_ms(const struct zt_node *n, uint64_t peer, uint64_t now_ms)
{
	const struct zt_peer *p = zt_peer_find(n, peer);

	if (!p || !p->cur || !zt_keypair_can_send(p->cur, now_ms))
		return -1;
	return (int64_t)(now_ms - p->cur->created_ms);
}
