/*
 * membership.c - who is a member: certificates of membership (COM) sent,
 * requested and verified, the credentials (tags, capabilities) that ride with
 * them, revocations, and admission of a sender. Nothing leaves for a member
 * whose certificate is unverified; what arrives from one is held until it is
 * verified. Our certificate goes out first on every new session with a member
 * (and at once to the members a restarted node remembers). Configs are
 * config_transfer.c's.
 */
#include "network_impl.h"

#include <string.h>

/* ---------- the member table, our certificate out, admission ---------- */

struct net_member *zt_membership_get(struct zt_network *net, uint64_t address, bool create)
{
	unsigned h = (unsigned)((address * 0x9e3779b97f4a7c15ULL) >> 40) % ZT_NET_MEMBERS_MAX;

	for (unsigned i = 0; i < ZT_NET_MEMBERS_MAX; i++) {
		struct net_member *m = &net->members[(h + i) % ZT_NET_MEMBERS_MAX];
		if (m->address == address)
			return m;
		if (m->address == 0) {
			if (!create)
				return NULL;
			memset(m, 0, sizeof(*m));
			m->address = address;
			zt_limiter_init(&m->mcast_limit, ZT_MCAST_RATE_PER_SEC, ZT_MCAST_RATE_BURST);
			return m;
		}
	}
	return NULL;
}

static void send_com(struct zt_vl2 *v, struct zt_network *net, struct net_member *m, uint64_t now_ms)
{
	struct zt_wr w;

	if (!net->have_conf)
		return;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_bytes(&w, net->com_bytes, ZT_COM_BYTES);
	zt_wr_lv16(&w, net->cred_bytes, net->cred_len);
	/* Sent or queued behind the session set-up: either way, not again before the resend interval. */
	zt_vl2_send(v, m->address, ZT_VERB_COM, &w, now_ms);
	m->com_sent_ms = now_ms;
}

/* Our certificate is due to m: never sent, sent before the current session (the peer may have
 * restarted and lost it), or older than the resend interval. */
static bool com_due(struct zt_vl2 *v, const struct net_member *m, uint64_t now_ms)
{
	int64_t age = zt_node_session_age_ms(v->node, m->address, now_ms);

	if (!m->com_sent_ms || now_ms - m->com_sent_ms >= ZT_COM_RESEND_MS)
		return true;
	return age >= 0 && m->com_sent_ms < now_ms - (uint64_t)age;
}

static void request_com(struct zt_vl2 *v, struct zt_network *net, struct net_member *m, uint64_t now_ms)
{
	struct zt_wr w;

	if (m->com_req_ms && now_ms - m->com_req_ms < ZT_COM_REQUEST_MS)
		return;
	m->com_req_ms = now_ms;
	send_com(v, net, m, now_ms);
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_vl2_send(v, m->address, ZT_VERB_COM_REQUEST, &w, now_ms);
}

/* Send a complete VL2 message (verb byte first) to a member whose certificate we hold. */
void zt_membership_send(struct zt_vl2 *v, struct zt_network *net, uint64_t member, const uint8_t *msg, size_t len,
			uint64_t now_ms)
{
	struct net_member *m = zt_membership_get(net, member, true);

	if (!m) {
		net->st.drop_queue++;
		return;
	}
	if (!m->com_ok) {
		/* Never send to a peer whose certificate we could not verify: ask, and hold the frame. */
		request_com(v, net, m, now_ms);
		zt_vl2_queue_add(net, Q_MEMBER, member, NULL, msg, len, now_ms);
		return;
	}
	if (com_due(v, m, now_ms))
		send_com(v, net, m, now_ms);
	zt_node_send(v->node, member, msg[0], msg + 1, len - 1, now_ms);
	net->st.tx_frames++;
	net->st.tx_bytes += len;
}

static void flush_member_queue(struct zt_vl2 *v, struct zt_network *net, uint64_t member, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		struct net_queued *q = &net->queue[i];
		if (q->kind != Q_MEMBER || q->member != member)
			continue;
		q->kind = Q_FREE;
		zt_membership_send(v, net, member, q->msg, q->len, now_ms);
	}
}

static void flush_held_in(struct zt_vl2 *v, struct zt_network *net, uint64_t member, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		struct net_queued *q = &net->queue[i];
		if (q->kind != Q_HELD_IN || q->member != member)
			continue;
		/* Freed after: what the delivery queues must not land on the bytes being read. */
		zt_frame_path_receive_held(v, member, q->msg, q->len, now_ms);
		q->kind = Q_FREE;
	}
}

/* Admission of a frame from a peer: a member with a valid certificate; held while it is being checked. */
struct net_member *zt_membership_admit(struct zt_vl2 *v, struct zt_network *net, uint64_t peer, uint8_t verb,
				       const uint8_t *body, size_t body_len, uint64_t now_ms)
{
	struct net_member *m;

	if (!net->have_conf || net->status != ZT_NET_OK) {
		net->st.drop_not_member++;
		return NULL;
	}
	m = zt_membership_get(net, peer, true);
	if (!m) {
		net->st.drop_no_com++;
		return NULL;
	}
	if (!m->com_ok) {
		request_com(v, net, m, now_ms);
		if (!m->expected || m->com_bad || zt_vl2_queue_hold_in(net, peer, verb, body, body_len, now_ms) < 0)
			net->st.drop_no_com++;
		return NULL;
	}
	return m;
}

void zt_membership_recheck(struct zt_network *net, const struct zt_com *ours, const struct zt_identity *ctl)
{
	for (unsigned i = 0; i < ZT_NET_MEMBERS_MAX; i++) {
		struct net_member *m = &net->members[i];
		if (m->address && m->com_ok && !zt_com_agree(&m->com, ours, ctl)) {
			m->com_ok = false;
			m->expected = true; /* it was a member: a fresh certificate is likely on its way */
			net->members_ok--;
		}
		m->com_sent_ms = 0;
	}
}

void zt_membership_forget(struct zt_network *net)
{
	for (unsigned i = 0; i < ZT_NET_MEMBERS_MAX; i++)
		net->members[i].com_ok = false;
	net->members_ok = 0;
}

/* ---------- certificates and credentials from peers ---------- */

static bool revoked(const struct zt_network *net, const struct zt_com *com)
{
	for (unsigned i = 0; i < net->n_revocations; i++)
		if (zt_com_revoked(com, &net->revocations[i]))
			return true;
	return false;
}

/* The peer's tags and capabilities, if its credential (after the certificate) checks out. */
static void adopt_credential(struct zt_network *net, struct net_member *m, const struct zt_identity *ctl,
			     struct zt_rd *rd)
{
	struct zt_credential cred;
	const uint8_t *bytes;
	size_t len;

	bytes = zt_rd_lv16(rd, ZT_CREDENTIAL_MAX_BYTES, &len);
	if (!bytes || !len)
		return;
	if (zt_credential_decode(&cred, bytes, len) < 0 || cred.member != m->address ||
	    cred.network_id != net->nwid || zt_credential_verify(&cred, ctl) < 0) {
		net->st.drop_bad_com++;
		return;
	}
	m->n_tags = (uint8_t)ZT_MIN(cred.n_tags, ZT_RULES_MAX_TAGS);
	for (unsigned i = 0; i < m->n_tags; i++) {
		m->tags[i].id = cred.tags[i].id;
		m->tags[i].value = cred.tags[i].value;
	}
	m->caps_bits = 0;
	for (unsigned i = 0; net->have_rules && i < cred.n_caps; i++) {
		int c = zt_rules_cap_find(net->rules, cred.caps[i]);
		if (c >= 0 && c < 32)
			m->caps_bits |= 1u << c;
	}
}

/* A certificate we cannot check yet (no config of ours, no controller identity): asked for again once we can. */
static void note_unchecked_com(struct zt_network *net, uint64_t peer, const struct zt_com *com)
{
	struct net_member *m = com->member == peer ? zt_membership_get(net, peer, true) : NULL;

	if (m)
		m->expected = true;
}

/* Its certificate was refused: what we held from it goes. */
static void drop_held_in(struct zt_network *net, uint64_t member)
{
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		if (net->queue[i].kind == Q_HELD_IN && net->queue[i].member == member) {
			net->queue[i].kind = Q_FREE;
			net->st.drop_no_com++;
		}
	}
}

static void refuse_com(struct zt_network *net, struct net_member *m)
{
	drop_held_in(net, m->address);
	net->st.drop_bad_com++;
	if (m->com_ok)
		net->members_ok--;
	m->com_ok = false;
	m->com_bad = true;
}

void zt_membership_handle_com(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	const uint8_t *bytes = zt_rd_ref(rd, ZT_COM_BYTES);
	struct zt_identity ctl;
	struct zt_network *net;
	struct net_member *m;
	struct zt_com com;

	if (!bytes || zt_com_decode(&com, bytes, ZT_COM_BYTES) < 0)
		return;
	net = zt_vl2_net_find(v, com.network_id);
	if (!net)
		return;
	if (!net->have_conf || zt_vl2_controller_identity(v, net, &ctl, now_ms) < 0) {
		note_unchecked_com(net, peer, &com);
		return;
	}
	if (com.member != peer) {
		/* Someone else's certificate, replayed: it proves nothing about the sender. */
		net->st.drop_bad_com++;
		return;
	}
	m = zt_membership_get(net, peer, true);
	if (!m)
		return;
	if (zt_com_verify(&com, &ctl) < 0 || !zt_com_agree(&com, &net->conf->com, &ctl) || revoked(net, &com)) {
		refuse_com(net, m);
		return;
	}
	if (!m->com_ok)
		net->members_ok++;
	m->com = com;
	m->com_ok = true;
	m->com_bad = false;
	m->expected = true;
	adopt_credential(net, m, &ctl, rd);
	if (com_due(v, m, now_ms))
		send_com(v, net, m, now_ms);
	flush_held_in(v, net, peer, now_ms);
	flush_member_queue(v, net, peer, now_ms);
}

void zt_membership_handle_com_request(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	struct zt_network *net = zt_vl2_net_find(v, zt_rd_be64(rd));
	struct net_member *m;

	if (rd->err || !net || !net->have_conf)
		return;
	m = zt_membership_get(net, peer, true);
	if (!m)
		return;
	/* It asks for ours, so it sent its own just before: its frames are worth holding. */
	m->expected = true;
	/* Answered at most once per ZT_COM_REQUEST_MS (as often as a member asks): a request
	 * means ours did not arrive, however recently it was sent. */
	if (m->com_answered_ms && now_ms - m->com_answered_ms < ZT_COM_REQUEST_MS && !com_due(v, m, now_ms))
		return;
	m->com_answered_ms = now_ms;
	send_com(v, net, m, now_ms);
}

static void apply_revocation(struct zt_network *net, const struct zt_revocation *rev)
{
	struct net_member *m;

	if (net->n_revocations < NET_REVOCATIONS)
		net->revocations[net->n_revocations++] = *rev;
	else
		net->revocations[NET_REVOCATIONS - 1] = *rev;
	m = zt_membership_get(net, rev->member, false);
	if (m && m->com_ok && zt_com_revoked(&m->com, rev)) {
		m->com_ok = false;
		m->com_bad = true; /* its frames are dropped, not held */
		net->members_ok--;
		drop_held_in(net, m->address);
	}
}

void zt_membership_handle_revocation(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	const uint8_t *bytes = zt_rd_ref(rd, ZT_REVOCATION_BYTES);
	struct zt_revocation rev;
	struct zt_identity ctl;
	struct zt_network *net;

	(void)peer;
	if (!bytes || zt_revocation_decode(&rev, bytes, ZT_REVOCATION_BYTES) < 0)
		return;
	net = zt_vl2_net_find(v, rev.network_id);
	if (!net || zt_vl2_controller_identity(v, net, &ctl, now_ms) < 0 || zt_revocation_verify(&rev, &ctl) < 0)
		return;
	apply_revocation(net, &rev);
}

/* Our own credential from the controller: checked, then sent with our certificate. */
void zt_membership_keep_own_credential(struct zt_vl2 *v, struct zt_network *net, const uint8_t *bytes, size_t len,
				       uint64_t now_ms)
{
	struct zt_credential cred;
	struct zt_identity ctl;

	if (zt_vl2_controller_identity(v, net, &ctl, now_ms) < 0 || zt_credential_decode(&cred, bytes, len) < 0 ||
	    cred.member != zt_vl2_self(v) || cred.network_id != net->nwid || zt_credential_verify(&cred, &ctl) < 0)
		return;
	memcpy(net->cred_bytes, bytes, len);
	net->cred_len = len;
}

/* ---------- restarts (issue 12): sessions and members known before the first frame ---------- */

/* Our certificate out and theirs asked for, now, whatever the rate limit says (a handful, once). */
static void greet(struct zt_vl2 *v, struct zt_network *net, struct net_member *m, uint64_t now_ms)
{
	m->com_req_ms = 0;
	request_com(v, net, m, now_ms);
}

void zt_membership_greet_expected(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_NET_MEMBERS_MAX; i++) {
		struct net_member *m = &net->members[i];
		if (m->address && m->expected && !m->com_ok && !m->com_bad)
			greet(v, net, m, now_ms);
	}
}

/* The node's session hook: a session we started is up; our certificate goes before anything else. */
void zt_vl2_session_up(struct zt_vl2 *v, uint64_t peer, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		struct zt_network *net = v->nets[i];
		struct net_member *m;

		if (!net)
			continue;
		zt_config_transfer_session_up(net, peer, now_ms);
		m = net->have_conf ? zt_membership_get(net, peer, false) : NULL;
		if (m && m->com_ok)
			send_com(v, net, m, now_ms);
		else if (m && m->cached)
			greet(v, net, m, now_ms);
	}
}

int zt_vl2_expect_member(struct zt_vl2 *v, uint64_t nwid, uint64_t address, uint64_t now_ms)
{
	struct zt_network *net = zt_vl2_net_find(v, nwid);
	struct net_member *m;

	if (!net || address == zt_vl2_self(v))
		return ZT_EINVAL;
	m = zt_membership_get(net, address, true);
	if (!m)
		return ZT_ENOMEM;
	m->cached = true;
	m->expected = true;
	return zt_node_connect(v->node, address, now_ms);
}

bool zt_vl2_member_verified(const struct zt_vl2 *v, uint64_t nwid, uint64_t address)
{
	struct zt_network *net = zt_vl2_net_find(v, nwid);
	struct net_member *m = net ? zt_membership_get(net, address, false) : NULL;

	return m && m->com_ok;
}

unsigned zt_vl2_members(const struct zt_vl2 *v, uint64_t nwid, uint64_t *out, unsigned max)
{
	struct zt_network *net = zt_vl2_net_find(v, nwid);
	unsigned n = 0;

	for (unsigned i = 0; net && i < ZT_NET_MEMBERS_MAX && n < max; i++)
		if (net->members[i].address && net->members[i].com_ok)
			out[n++] = net->members[i].address;
	return n;
}

/* ---------- revocations ---------- */

void zt_vl2_controller_revoke(struct zt_vl2 *v, const struct zt_revocation *rev, const uint64_t *members,
			      unsigned n, uint64_t now_ms)
{
	uint8_t bytes[ZT_REVOCATION_BYTES];
	struct zt_network *net = zt_vl2_net_find(v, rev->network_id);

	if (zt_revocation_encode(rev, bytes) < 0)
		return;
	if (net)
		apply_revocation(net, rev);
	for (unsigned i = 0; i < n; i++)
		if (members[i] != zt_vl2_self(v))
			zt_node_send(v->node, members[i], ZT_VERB_REVOCATION, bytes, sizeof(bytes), now_ms);
}
