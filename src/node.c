/*
 * node.c - the VL1 node as the host sees it: creation and teardown, the
 * tick (root HELLOs, handshake retries, rekey and keepalive, WHOIS retries,
 * peer expiry, path ticks) and the information API. Sending is send.c's,
 * receiving receive.c's, peers peer.c's, paths path.c's. The node never
 * reads a clock or touches a socket.
 */
#include "node_impl.h"
#include "handshake.h"
#include "path.h"
#include "peer.h"
#include "send.h"
#include "whois.h"
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
	zt_send_verb(n, root, ZT_VERB_HELLO, &w, now_ms);
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
		zt_address_format(a, p->address);
		zt_log(ZT_LOG_INFO, "peer %s: handshake unanswered for %u s, giving up", a, ZT_REKEY_ATTEMPT_MS / 1000);
		zt_handshake_clear(&p->hs);
		zt_send_pending_drop_peer(n, p->address);
		return;
	}
	if (now_ms >= p->hs.retry_ms)
		zt_handshake_start(n, p, now_ms);
}

static void tick_session(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	struct zt_keypair *kp = p->cur;
	bool active = p->last_data_tx_ms && now_ms - p->last_data_tx_ms < ZT_KEEPALIVE_MS;

	if (!kp) {
		if (p->next && !zt_keypair_can_recv(p->next, now_ms))
			zt_peer_keypair_drop(n, &p->next);
		return;
	}
	/* Keys are dropped (and wiped) once too old to use. */
	if (p->prev && !zt_keypair_can_recv(p->prev, now_ms))
		zt_peer_keypair_drop(n, &p->prev);
	if (!zt_keypair_can_recv(kp, now_ms)) {
		zt_peer_keypair_drop(n, &p->cur);
		return;
	}
	/* The responder rekeys too if the initiator went quiet near expiry. */
	if (!kp->initiator && active && p->hs.state == ZT_HS_NONE &&
	    now_ms - kp->created_ms >= ZT_REJECT_AFTER_MS - ZT_KEEPALIVE_MS - ZT_REKEY_TIMEOUT_MS)
		zt_handshake_start(n, p, now_ms);
	/* We keep sending but hear nothing (the peer answers data with keepalives
	 * within ZT_KEEPALIVE_MS): it may have lost the session, e.g. restarted. */
	if (p->hs.state == ZT_HS_NONE && p->last_data_tx_ms > p->last_rx_ms &&
	    now_ms - p->last_rx_ms >= ZT_STALE_SESSION_MS && now_ms - p->last_data_tx_ms < ZT_KEEPALIVE_MS)
		zt_handshake_start(n, p, now_ms);
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
		zt_address_format(a, p->address);
		zt_log(ZT_LOG_INFO, "peer %s: no root knows this address, dropping queued messages", a);
		p->ident = ZT_IDENT_UNKNOWN;
		zt_send_pending_drop_peer(n, p->address);
		return;
	}
	zt_whois_ask(n, p, now_ms);
}

uint64_t zt_node_tick(struct zt_node *n, uint64_t now_ms)
{
	zt_noise_local_rotate(&n->noise, now_ms, n->cb.random, n->cb.ctx);
	zt_reasm_expire(n->reasm, now_ms);
	zt_send_pending_expire(n, now_ms);
	for (unsigned i = 0; i < n->n_roots; i++)
		tick_root_contact(n, n->roots[i], now_ms);
	for (unsigned b = 0; b < ZT_PEER_BUCKETS; b++) {
		struct zt_peer *p = n->peers[b], *next;
		for (; p; p = next) {
			next = p->hash_next;
			if (zt_peer_expired(p, now_ms)) {
				zt_send_pending_drop_peer(n, p->address);
				zt_peer_remove(n, p);
				continue;
			}
			tick_whois(n, p, now_ms);
			tick_handshake(n, p, now_ms);
			tick_session(n, p, now_ms);
			if (!p->is_root && !n->is_root && p->cur) {
				zt_path_tick_candidates(n, p, now_ms);
				zt_path_tick(n, p, now_ms);
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
			zt_address_format(a, spec->id.address);
			zt_log(ZT_LOG_ERROR, "root %s: identity does not match its address", a);
			return err;
		}
	}
	p = zt_peer_get(n, spec->id.address, now_ms);
	if (!p)
		return ZT_ENOMEM;
	zt_identity_public(&p->id, &spec->id);
	p->ident = ZT_IDENT_KNOWN;
	p->is_root = true;
	for (unsigned i = 0; i < spec->n_endpoints && i < ZT_ROOT_MAX_ENDPOINTS; i++)
		zt_path_add_static(p, &spec->endpoints[i]);
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
			zt_peer_remove(n, p);
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
	struct zt_path *best = zt_path_best(p, now_ms);

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
	struct zt_peer *p = zt_peer_find(n, address);

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
	p = zt_peer_get(n, address, now_ms);
	if (p && p->ident != ZT_IDENT_KNOWN)
		zt_whois_ask(n, p, now_ms);
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
	struct zt_peer *r = zt_send_best_root(n, now_ms);

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
	struct zt_peer *p = zt_peer_find(n, address);

	if (!p)
		return ZT_ENOENT;
	fill_info(n, p, now_ms, out);
	return 0;
}

void zt_node_get_stats(const struct zt_node *n, struct zt_node_stats *st)
{
	*st = n->st;
}
