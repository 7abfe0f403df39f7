/*
 * receive.c - the receive path: one datagram in, its header read,
 * fragments reassembled, DATA opened and its verb dispatched (echo and
 * HELLO_OK handled here; handshakes, WHOIS, paths and the root role in
 * their own files). Sends only through send.c.
 */
#include "node_impl.h"
#include "handshake.h"
#include "path.h"
#include "peer.h"
#include "send.h"
#include "whois.h"

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
		zt_address_format(a, p->address);
		zt_endpoint_format(&obs, e, sizeof(e));
		zt_log(ZT_LOG_INFO, "root %s sees us at %s", a, e);
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
		zt_whois_handle_ok(n, p, &rd, now_ms);
		return;
	case ZT_VERB_WHOIS_NONE:
		return; /* the WHOIS timer gives up in time */
	case ZT_VERB_RENDEZVOUS:
		zt_path_handle_rendezvous(n, p, &rd, now_ms);
		return;
	case ZT_VERB_PATH_PROBE:
	case ZT_VERB_PATH_PROBE_OK:
		zt_path_handle_probe(n, p, from, direct, verb, &rd, now_ms);
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
	struct zt_peer *p = zt_peer_find(n, src);

	if (src == n->id.address || zt_address_reserved(src))
		return;
	if (p && (p->hs.state != ZT_HS_NONE || (p->cur && zt_keypair_can_send(p->cur, now_ms) &&
						now_ms - p->cur->created_ms < ZT_REKEY_TIMEOUT_MS)))
		return;
	if (!zt_limiter_take(&n->unknown_index_limit, now_ms))
		return;
	if (!p)
		p = zt_peer_get(n, src, now_ms);
	if (p)
		zt_send_ensure_session(n, p, now_ms);
}

static void handle_data(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			size_t len, uint64_t now_ms)
{
	uint32_t idx = zt_noise_peek_index(pkt, len, ZT_HDR_BYTES);
	struct zt_keypair *kp = zt_peer_index_find(n, idx);
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
		zt_handshake_confirm_next(n, p);
		zt_send_pending_flush(n, p, now_ms);
	}
	zt_path_learn_direct(n, p, from, h->hops == 0, now_ms);
	dispatch(n, p, from, h->hops == 0, msg, msg_len, now_ms);
}

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
		zt_handshake_handle_init(n, from, &h, pkt, len, now_ms);
		return;
	case ZT_PKT_HS_RESP:
		zt_handshake_handle_resp(n, from, &h, pkt, len, now_ms);
		return;
	case ZT_PKT_COOKIE:
		zt_handshake_handle_cookie(n, &h, pkt, len, now_ms);
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
