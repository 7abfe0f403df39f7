/*
 * frame_path.c - a frame's way through VL2: from the port out to a member (or
 * a group, ARP to the owner of the address), in from a member to the port,
 * and the rules glue on both ways: evaluation, tee/redirect/watch copies,
 * counters, trace; a held frame received again once its sender's certificate
 * checked out. Who may send is membership.c's; the fan-out vl2_multicast.c's;
 * learned MACs bridge.c's. The rules engine itself is rules/.
 */
#include "network_impl.h"

#include <stdio.h>
#include <string.h>

/* ---------- EXT_FRAME messages ---------- */

/* EXT_FRAME flags: a copy made by a tee or watch rule (delivered, never re-copied). */
#define EXT_FLAG_COPY 0x01
#define EXT_FLAG_INBOUND 0x02 /* watch: the frame was being received, not sent */

/* EXT_FRAME: nwid, flags, the whole Ethernet frame. */
static size_t build_ext_frame_flags(struct zt_vl2 *v, uint64_t nwid, uint8_t flags, const uint8_t *frame,
				    size_t len)
{
	struct zt_wr w;

	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_u8(&w, ZT_VERB_EXT_FRAME);
	zt_wr_be64(&w, nwid);
	zt_wr_u8(&w, flags);
	zt_wr_bytes(&w, frame, len);
	return w.err ? 0 : w.len;
}

size_t zt_frame_path_ext_frame(struct zt_vl2 *v, uint64_t nwid, const uint8_t *frame, size_t len)
{
	return build_ext_frame_flags(v, nwid, 0, frame, len);
}

/* ---------- the rules glue ---------- */

static uint32_t next_random(struct zt_vl2 *v)
{
	v->rng ^= v->rng << 13;
	v->rng ^= v->rng >> 7;
	v->rng ^= v->rng << 17;
	return (uint32_t)(v->rng >> 11);
}

void zt_frame_path_load_rules(struct zt_network *net)
{
	struct zt_rules_error err;

	net->have_rules = false;
	net->rules_broken = false;
	net->caps_bits = 0;
	memset(net->counters, 0, (ZT_RULES_MAX_RULES + 1) * sizeof(net->counters[0]));
	if (!net->conf->rules_len)
		return;
	if (zt_rules_load(net->rules, net->conf->rules, net->conf->rules_len, &err) < 0) {
		zt_log(ZT_LOG_ERROR, "network %016llx: the controller's rules do not load (%s): dropping all frames",
		       (unsigned long long)net->nwid, err.msg);
		net->rules_broken = true;
		return;
	}
	for (unsigned i = 0; i < net->conf->n_caps; i++) {
		int c = zt_rules_cap_find(net->rules, net->conf->caps[i].name);
		if (c >= 0 && c < 32)
			net->caps_bits |= 1u << c;
	}
	net->have_rules = true;
}

static void trace_line(struct zt_network *net, const struct zt_rules_meta *meta, const uint8_t *frame, size_t len,
		       const struct zt_rules_result *res, uint64_t now_ms)
{
	char *line;

	if (!net->trace_budget || now_ms >= net->trace_until_ms)
		return;
	net->trace_budget--;
	line = net->trace[net->trace_seq % ZT_NET_TRACE_LINES];
	if (zt_rules_explain(net->rules, meta, frame, len, res, line, ZT_NET_TRACE_LINE) < 0)
		snprintf(line, ZT_NET_TRACE_LINE, "%s frame: rule %d decided %s", meta->dir ? "in" : "out", res->rule,
			 res->verdict == ZT_RULES_ACCEPT ? "accept" : "drop");
	net->trace_seq++;
}

static void own_tags(const struct zt_network *net, struct zt_rules_tag *out, unsigned *count)
{
	*count = ZT_MIN(net->conf->n_tags, ZT_RULES_MAX_TAGS);
	for (unsigned i = 0; i < *count; i++) {
		out[i].id = net->conf->tags[i].id;
		out[i].value = net->conf->tags[i].value;
	}
}

/*
 * Run the network's rules on a frame. We know our own tags and capabilities
 * (from our signed config); a remote member's are not carried yet, so they
 * count as absent.
 */
static bool rules_pass(struct zt_vl2 *v, struct zt_network *net, enum zt_rules_dir dir, uint64_t src,
		       uint64_t dst, bool sender_bridge, const uint8_t *frame, size_t len,
		       struct zt_rules_result *res, uint64_t now_ms)
{
	struct zt_rules_meta meta;

	memset(res, 0, sizeof(*res));
	if (net->rules_broken)
		return false;
	if (!net->have_rules)
		return true;
	memset(&meta, 0, sizeof(meta));
	meta.src_member = src;
	meta.dst_member = dst;
	meta.dir = dir;
	meta.sender_is_bridge = sender_bridge;
	meta.random = next_random(v);
	if (dir == ZT_RULES_OUTBOUND) {
		struct net_member *r = dst ? zt_membership_get(net, dst, false) : NULL;
		meta.caps = net->caps_bits;
		own_tags(net, meta.sender_tags, &meta.sender_tag_count);
		if (r) {
			meta.receiver_tag_count = r->n_tags;
			memcpy(meta.receiver_tags, r->tags, sizeof(r->tags[0]) * r->n_tags);
		}
	} else {
		struct net_member *snd = zt_membership_get(net, src, false);
		own_tags(net, meta.receiver_tags, &meta.receiver_tag_count);
		if (snd) {
			meta.caps = snd->caps_bits;
			meta.sender_tag_count = snd->n_tags;
			memcpy(meta.sender_tags, snd->tags, sizeof(snd->tags[0]) * snd->n_tags);
		}
	}
	zt_rules_eval(net->rules, &meta, frame, len, net->counters, res);
	trace_line(net, &meta, frame, len, res, now_ms);
	return res->verdict == ZT_RULES_ACCEPT;
}

/* tee and watch copies go out as flagged EXT_FRAMEs. */
static void rules_side_copies(struct zt_vl2 *v, struct zt_network *net, const struct zt_rules_result *res,
			      const uint8_t *frame, size_t len, uint64_t now_ms)
{
	for (unsigned i = 0; i < res->side_count; i++) {
		const struct zt_rules_side *sd = &res->side[i];
		uint8_t flags = EXT_FLAG_COPY;
		size_t mlen;

		if (sd->target == zt_vl2_self(v) || !sd->target)
			continue;
		if (sd->action == ZT_RULES_ACT_WATCH && sd->dir == ZT_RULES_INBOUND)
			flags |= EXT_FLAG_INBOUND;
		mlen = build_ext_frame_flags(v, net->nwid, flags, frame, len);
		if (!mlen)
			continue;
		/* zt_membership_send reuses v->buf (certificates); the copy has its own buffer. */
		memcpy(v->copy, v->buf, mlen);
		zt_membership_send(v, net, sd->target, v->copy, mlen, now_ms);
		net->st.rules_copies++;
	}
}

int zt_vl2_rules(const struct zt_vl2 *v, uint64_t nwid, const struct zt_rules **prog,
		 const struct zt_rules_counter **counters)
{
	const struct zt_network *net = zt_vl2_net_find(v, nwid);

	if (!net)
		return ZT_ENOENT;
	*prog = net->have_rules ? net->rules : NULL;
	*counters = net->have_rules ? net->counters : NULL;
	return 0;
}

int zt_vl2_trace_start(struct zt_vl2 *v, uint64_t nwid, unsigned max_lines, uint64_t until_ms)
{
	struct zt_network *net = zt_vl2_net_find(v, nwid);

	if (!net)
		return ZT_ENOENT;
	net->trace_budget = ZT_MIN(max_lines, (unsigned)ZT_NET_TRACE_LINES);
	net->trace_until_ms = until_ms;
	return 0;
}

int zt_vl2_trace_read(const struct zt_vl2 *v, uint64_t nwid, uint64_t after,
		      void (*fn)(void *ctx, uint64_t seq, const char *line), void *ctx)
{
	const struct zt_network *net = zt_vl2_net_find(v, nwid);
	uint64_t first;

	if (!net)
		return ZT_ENOENT;
	first = net->trace_seq > ZT_NET_TRACE_LINES ? net->trace_seq - ZT_NET_TRACE_LINES : 0;
	for (uint64_t s = ZT_MAX(first, after); s < net->trace_seq; s++)
		fn(ctx, s + 1, net->trace[s % ZT_NET_TRACE_LINES]);
	return 0;
}

/* ---------- frames from the port ---------- */

static uint16_t ethertype_of(const uint8_t *frame, size_t len)
{
	return len >= ETH_HDR ? (uint16_t)(frame[12] << 8 | frame[13]) : 0;
}

/* Which group a multicast/broadcast frame goes to: ARP requests to the owner of the target address. */
static void group_of(const struct zt_network *net, const uint8_t *frame, size_t len, struct zt_mcast_group *g)
{
	memcpy(g->mac, frame, 6);
	g->adi = 0;
	if (memcmp(frame, zt_vl2_bcast_mac, 6) == 0 && ethertype_of(frame, len) == 0x0806 && len >= ETH_HDR + 28 &&
	    frame[ETH_HDR + 6] == 0 && frame[ETH_HDR + 7] == 1)
		g->adi = (uint32_t)frame[ETH_HDR + 24] << 24 | frame[ETH_HDR + 25] << 16 | frame[ETH_HDR + 26] << 8 |
			 frame[ETH_HDR + 27];
	(void)net;
}

/* Outbound rules: false if the frame must not go out as addressed (dropped or redirected). */
static bool outbound_rules(struct zt_vl2 *v, struct zt_network *net, uint64_t dst, const uint8_t *frame, size_t len,
			   uint64_t now_ms)
{
	struct zt_rules_result res;
	bool pass = rules_pass(v, net, ZT_RULES_OUTBOUND, zt_vl2_self(v), dst, net->conf->bridge, frame, len, &res,
			       now_ms);

	if (res.side_count)
		rules_side_copies(v, net, &res, frame, len, now_ms);
	if (!pass) {
		net->st.drop_rules_out++;
		return false;
	}
	if (res.redirect_to && res.redirect_to != dst && res.redirect_to != zt_vl2_self(v)) {
		size_t mlen = zt_frame_path_ext_frame(v, net->nwid, frame, len);
		net->st.rules_redirects++;
		if (mlen) {
			memcpy(v->frame, v->buf, mlen);
			zt_membership_send(v, net, res.redirect_to, v->frame, mlen, now_ms);
		}
		return false;
	}
	return true;
}

void zt_vl2_frame_from_port(struct zt_vl2 *v, uint64_t nwid, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct zt_network *net = zt_vl2_net_find(v, nwid);
	struct zt_mcast_group g;
	struct net_mac *learned = NULL;
	uint64_t member;
	size_t mlen;

	if (!net || !net->have_conf || net->status != ZT_NET_OK)
		return;
	if (len < ETH_HDR || len > (size_t)net->conf->mtu + ETH_HDR + 4) {
		net->st.drop_malformed++;
		return;
	}
	if (memcmp(frame + 6, net->mac, 6) != 0 && !net->conf->bridge) {
		net->st.drop_foreign_mac++;
		return;
	}
	if (frame[0] & 1) {
		if (memcmp(frame, zt_vl2_bcast_mac, 6) == 0 && !net->conf->enable_broadcast)
			return;
		if (!outbound_rules(v, net, 0, frame, len, now_ms))
			return;
		group_of(net, frame, len, &g);
		zt_vl2_mcast_send(v, net, &g, frame, len, now_ms);
		return;
	}
	member = zt_vl2_mac_member(frame, nwid);
	if (member == zt_vl2_self(v))
		return;
	if (!member) {
		learned = zt_bridge_find(net, frame, now_ms);
		member = learned ? learned->bridge : 0;
	}
	if (!outbound_rules(v, net, member, frame, len, now_ms))
		return;
	if (!member) {
		zt_bridge_send_unknown(v, net, frame, len, now_ms);
		return;
	}
	if (!learned && memcmp(frame + 6, net->mac, 6) == 0) {
		/* Compact FRAME: both MACs are derivable. */
		struct zt_wr w;
		zt_wr_init(&w, v->frame, ZT_MAX_MESSAGE_BYTES);
		zt_wr_u8(&w, ZT_VERB_FRAME);
		zt_wr_be64(&w, nwid);
		zt_wr_bytes(&w, frame + 12, len - 12);
		if (!w.err)
			zt_membership_send(v, net, member, v->frame, w.len, now_ms);
		return;
	}
	mlen = zt_frame_path_ext_frame(v, nwid, frame, len);
	if (!mlen)
		return;
	memcpy(v->frame, v->buf, mlen);
	zt_membership_send(v, net, member, v->frame, mlen, now_ms);
}

/* ---------- frames to the port ---------- */

static void deliver(struct zt_vl2 *v, struct zt_network *net, struct net_member *m, uint8_t flags,
		    const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct zt_rules_result res;

	if (!(flags & EXT_FLAG_COPY)) {
		bool pass = rules_pass(v, net, ZT_RULES_INBOUND, m->address, (frame[0] & 1) ? 0 : zt_vl2_self(v),
				       (m->com.flags & ZT_COM_FLAG_BRIDGE) != 0, frame, len, &res, now_ms);
		if (res.side_count)
			rules_side_copies(v, net, &res, frame, len, now_ms);
		if (!pass) {
			net->st.drop_rules_in++;
			return;
		}
		if (res.redirect_to && res.redirect_to != zt_vl2_self(v)) {
			struct zt_rules_result copy = {.side_count = 1};
			copy.side[0] = (struct zt_rules_side){res.redirect_to, 0, ZT_RULES_ACT_TEE, ZT_RULES_INBOUND};
			rules_side_copies(v, net, &copy, frame, len, now_ms);
			net->st.rules_redirects++;
			return;
		}
	} else if (memcmp(frame, net->mac, 6) != 0) {
		/* A tee/watch copy is for this port even though it is addressed elsewhere. */
		net->st.rx_frames++;
		net->st.rx_bytes += len;
		v->cb.deliver(v->cb.ctx, net->nwid, frame, len);
		return;
	}
	if (frame[0] & 1) {
		if (!zt_limiter_take(&m->mcast_limit, now_ms)) {
			net->st.drop_rate++;
			return;
		}
		net->st.rx_multicast++;
	} else if (memcmp(frame, net->mac, 6) != 0 && !net->conf->bridge) {
		net->st.drop_foreign_mac++;
		return;
	}
	net->st.rx_frames++;
	net->st.rx_bytes += len;
	v->cb.deliver(v->cb.ctx, net->nwid, frame, len);
}

void zt_frame_path_handle_frame(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	const uint8_t *body = rd->p;
	size_t body_len = rd->left;
	uint64_t nwid = zt_rd_be64(rd);
	struct zt_network *net = zt_vl2_net_find(v, nwid);
	struct net_member *m;
	size_t n = rd->left;
	const uint8_t *rest = zt_rd_ref(rd, n);

	if (!net || rd->err || n < 2 || n + 12 > ZT_MAX_MESSAGE_BYTES)
		return;
	m = zt_membership_admit(v, net, peer, ZT_VERB_FRAME, body, body_len, now_ms);
	if (!m)
		return;
	memcpy(v->frame, net->mac, 6);
	zt_vl2_member_mac(v->frame + 6, peer, nwid);
	memcpy(v->frame + 12, rest, n);
	deliver(v, net, m, 0, v->frame, n + 12, now_ms);
}

void zt_frame_path_handle_ext_frame(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	const uint8_t *body = rd->p;
	size_t body_len = rd->left;
	uint64_t nwid = zt_rd_be64(rd);
	struct zt_network *net = zt_vl2_net_find(v, nwid);
	uint8_t flags;
	struct net_member *m;
	const uint8_t *frame;
	size_t len;

	flags = zt_rd_u8(rd);
	len = rd->left;
	frame = zt_rd_ref(rd, len);
	if (!net || rd->err || len < ETH_HDR)
		return;
	m = zt_membership_admit(v, net, peer, ZT_VERB_EXT_FRAME, body, body_len, now_ms);
	if (!m)
		return;
	if (!zt_bridge_check_source(net, m, peer, frame, now_ms))
		return;
	deliver(v, net, m, flags, frame, len, now_ms);
}

/* A message held while its sender's certificate was being checked: received now, as if it just came. */
void zt_frame_path_receive_held(struct zt_vl2 *v, uint64_t peer, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct zt_rd rd;

	if (len < 1)
		return;
	zt_rd_init(&rd, msg + 1, len - 1);
	if (msg[0] == ZT_VERB_FRAME)
		zt_frame_path_handle_frame(v, peer, &rd, now_ms);
	else if (msg[0] == ZT_VERB_EXT_FRAME)
		zt_frame_path_handle_ext_frame(v, peer, &rd, now_ms);
}
