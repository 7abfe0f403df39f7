/*
 * network.c - VL2 networks: joining, config requests and chunked signed
 * configs, membership certificates (COM), frames to and from the port,
 * multicast fan-out through the roots' directory, bridge MAC learning.
 * The roots' side of the directory is multicast.c; sessions are node.c's.
 */
#include "network.h"
#include "crypto.h"
#include "packet.h"
#include "base/limiter.h"
#include "base/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HDR 14

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const struct zt_mcast_group wildcard_group; /* all zero: "bridges: everything" */

struct net_member {
	uint64_t address; /* 0: free slot */
	struct zt_com com;
	bool com_ok;
	/* its tags and capabilities, from its controller-signed credential */
	uint8_t n_tags;
	struct zt_rules_tag tags[ZT_RULES_MAX_TAGS];
	uint32_t caps_bits;
	uint64_t com_sent_ms, com_req_ms;
	struct zt_limiter mcast_limit; /* multicast frames accepted from it */
};

struct net_mac {
	uint8_t mac[6];
	uint64_t bridge;
	uint64_t last_ms;
};

struct net_gather {
	struct zt_mcast_group g;
	uint64_t fetched_ms, asked_ms;
	uint16_t n, n_bridges;
	uint64_t members[ZT_MCAST_GATHER_MAX];
	uint64_t bridges[ZT_MCAST_GATHER_MAX];
};

enum queue_kind { Q_FREE = 0, Q_MEMBER, Q_GROUP };

struct net_queued {
	enum queue_kind kind;
	uint64_t member;
	struct zt_mcast_group g;
	uint64_t created_ms;
	size_t len;
	uint8_t *msg; /* a complete VL2 message (verb + body) for Q_MEMBER, a frame for Q_GROUP */
};

#define NET_GATHERS 32
#define NET_REVOCATIONS 64

struct zt_network {
	uint64_t nwid;
	uint64_t controller;
	enum zt_net_status status;
	char reason[160];
	uint64_t awaiting_since_ms, last_request_ms, last_answer_ms, joined_ms;
	struct zt_netconf *conf; /* the applied config */
	struct zt_netconf *scratch;
	bool have_conf;
	uint8_t mac[6];
	uint8_t com_bytes[ZT_COM_BYTES];
	uint8_t cred_bytes[ZT_CREDENTIAL_MAX_BYTES]; /* our credential, sent with the certificate */
	size_t cred_len;

	uint8_t *chunks; /* ZT_NETCONF_MAX_BYTES being reassembled */
	uint64_t chunk_rev;
	uint32_t chunk_total, chunk_got;

	struct net_member *members; /* ZT_NET_MEMBERS_MAX, open addressing */
	unsigned members_ok;
	struct net_mac *macs;       /* ZT_NET_MACS_MAX */
	struct net_gather *gathers; /* NET_GATHERS */
	struct net_queued queue[ZT_NET_QUEUE];
	struct zt_revocation revocations[NET_REVOCATIONS];
	unsigned n_revocations;

	/* rules: evaluated on every frame sent and received */
	struct zt_rules *rules;
	struct zt_rules_counter *counters; /* ZT_RULES_MAX_RULES + 1 */
	bool have_rules;
	bool rules_broken; /* the controller sent a program we cannot load: fail closed */
	uint32_t caps_bits;
	char (*trace)[ZT_NET_TRACE_LINE];
	uint64_t trace_seq;   /* lines written so far */
	unsigned trace_budget;
	uint64_t trace_until_ms;

	struct zt_mcast_group groups[ZT_NET_GROUPS_MAX];
	unsigned n_groups;
	bool groups_dirty;
	uint64_t last_like_ms;

	struct zt_net_stats st;
};

struct zt_vl2 {
	struct zt_node *node;
	struct zt_vl2_callbacks cb;
	struct zt_network *nets[ZT_MAX_NETWORKS];
	uint8_t *buf;     /* building one message */
	uint8_t *frame;   /* rebuilding one frame */
	uint8_t *conf_out;/* controller: a signed config being sent */
	uint8_t *copy;    /* one tee/watch copy being sent */
	struct zt_netconf *ctl_nc; /* controller: a config decoded to derive its credential */
	uint8_t cred_out[ZT_CREDENTIAL_MAX_BYTES];
	size_t cred_out_len;
	uint64_t rng;     /* xorshift state for the rules' random match, seeded once */
};

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

/* ---------- lookup ---------- */

static struct zt_network *net_find(const struct zt_vl2 *v, uint64_t nwid)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		if (v->nets[i] && v->nets[i]->nwid == nwid)
			return v->nets[i];
	return NULL;
}

static uint64_t self(const struct zt_vl2 *v)
{
	return zt_node_address(v->node);
}

static struct net_member *member_get(struct zt_network *net, uint64_t address, bool create)
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

/* ---------- sending ---------- */

static int send_vl2(struct zt_vl2 *v, uint64_t peer, uint8_t verb, const struct zt_wr *w, uint64_t now_ms)
{
	if (w->err)
		return ZT_ETOOBIG;
	return zt_node_send(v->node, peer, verb, w->p - w->len, w->len, now_ms);
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
	send_vl2(v, m->address, ZT_VERB_COM, &w, now_ms);
	m->com_sent_ms = now_ms;
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
	send_vl2(v, m->address, ZT_VERB_COM_REQUEST, &w, now_ms);
}

static int queue_add(struct zt_network *net, enum queue_kind kind, uint64_t member, const struct zt_mcast_group *g,
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

/* Send a complete VL2 message (verb byte first) to a member whose certificate we hold. */
static void send_to_member(struct zt_vl2 *v, struct zt_network *net, uint64_t member, const uint8_t *msg,
			   size_t len, uint64_t now_ms)
{
	struct net_member *m = member_get(net, member, true);

	if (!m) {
		net->st.drop_queue++;
		return;
	}
	if (!m->com_ok) {
		/* Never send to a peer whose certificate we could not verify: ask, and hold the frame. */
		request_com(v, net, m, now_ms);
		queue_add(net, Q_MEMBER, member, NULL, msg, len, now_ms);
		return;
	}
	if (!m->com_sent_ms || now_ms - m->com_sent_ms >= ZT_COM_RESEND_MS)
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
		send_to_member(v, net, member, q->msg, q->len, now_ms);
	}
}

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

static size_t build_ext_frame(struct zt_vl2 *v, uint64_t nwid, const uint8_t *frame, size_t len)
{
	return build_ext_frame_flags(v, nwid, 0, frame, len);
}

/* ---------- rules ---------- */

static uint32_t next_random(struct zt_vl2 *v)
{
	v->rng ^= v->rng << 13;
	v->rng ^= v->rng >> 7;
	v->rng ^= v->rng << 17;
	return (uint32_t)(v->rng >> 11);
}

static void load_rules(struct zt_network *net)
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
		struct net_member *r = dst ? member_get(net, dst, false) : NULL;
		meta.caps = net->caps_bits;
		own_tags(net, meta.sender_tags, &meta.sender_tag_count);
		if (r) {
			meta.receiver_tag_count = r->n_tags;
			memcpy(meta.receiver_tags, r->tags, sizeof(r->tags[0]) * r->n_tags);
		}
	} else {
		struct net_member *snd = member_get(net, src, false);
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

static void send_to_member(struct zt_vl2 *v, struct zt_network *net, uint64_t member, const uint8_t *msg,
			   size_t len, uint64_t now_ms);

/* tee and watch copies go out as flagged EXT_FRAMEs. */
static void rules_side_copies(struct zt_vl2 *v, struct zt_network *net, const struct zt_rules_result *res,
			      const uint8_t *frame, size_t len, uint64_t now_ms)
{
	for (unsigned i = 0; i < res->side_count; i++) {
		const struct zt_rules_side *sd = &res->side[i];
		uint8_t flags = EXT_FLAG_COPY;
		size_t mlen;

		if (sd->target == self(v) || !sd->target)
			continue;
		if (sd->action == ZT_RULES_ACT_WATCH && sd->dir == ZT_RULES_INBOUND)
			flags |= EXT_FLAG_INBOUND;
		mlen = build_ext_frame_flags(v, net->nwid, flags, frame, len);
		if (!mlen)
			continue;
		/* send_to_member reuses v->buf (certificates); the copy has its own buffer. */
		memcpy(v->copy, v->buf, mlen);
		send_to_member(v, net, sd->target, v->copy, mlen, now_ms);
		net->st.rules_copies++;
	}
}

int zt_vl2_rules(const struct zt_vl2 *v, uint64_t nwid, const struct zt_rules **prog,
		 const struct zt_rules_counter **counters)
{
	const struct zt_network *net = net_find(v, nwid);

	if (!net)
		return ZT_ENOENT;
	*prog = net->have_rules ? net->rules : NULL;
	*counters = net->have_rules ? net->counters : NULL;
	return 0;
}

int zt_vl2_trace_start(struct zt_vl2 *v, uint64_t nwid, unsigned max_lines, uint64_t until_ms)
{
	struct zt_network *net = net_find(v, nwid);

	if (!net)
		return ZT_ENOENT;
	net->trace_budget = ZT_MIN(max_lines, (unsigned)ZT_NET_TRACE_LINES);
	net->trace_until_ms = until_ms;
	return 0;
}

int zt_vl2_trace_read(const struct zt_vl2 *v, uint64_t nwid, uint64_t after,
		      void (*fn)(void *ctx, uint64_t seq, const char *line), void *ctx)
{
	const struct zt_network *net = net_find(v, nwid);
	uint64_t first;

	if (!net)
		return ZT_ENOENT;
	first = net->trace_seq > ZT_NET_TRACE_LINES ? net->trace_seq - ZT_NET_TRACE_LINES : 0;
	for (uint64_t s = ZT_MAX(first, after); s < net->trace_seq; s++)
		fn(ctx, s + 1, net->trace[s % ZT_NET_TRACE_LINES]);
	return 0;
}

/* ---------- multicast ---------- */

static bool group_eq(const struct zt_mcast_group *a, const struct zt_mcast_group *b)
{
	return a->adi == b->adi && memcmp(a->mac, b->mac, 6) == 0;
}

static struct net_gather *gather_find(struct zt_network *net, const struct zt_mcast_group *g, bool create)
{
	struct net_gather *oldest = NULL;

	for (unsigned i = 0; i < NET_GATHERS; i++) {
		struct net_gather *e = &net->gathers[i];
		if ((e->fetched_ms || e->asked_ms) && group_eq(&e->g, g))
			return e;
		if (!oldest || ZT_MAX(e->fetched_ms, e->asked_ms) < ZT_MAX(oldest->fetched_ms, oldest->asked_ms))
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->g = *g;
	return oldest;
}

static void ask_gather(struct zt_vl2 *v, struct zt_network *net, struct net_gather *e, uint64_t now_ms)
{
	uint64_t root = zt_node_best_root(v->node, now_ms);
	struct zt_wr w;

	if (!root || (e->asked_ms && now_ms - e->asked_ms < ZT_MCAST_GATHER_MS))
		return;
	e->asked_ms = now_ms;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_wr_bytes(&w, e->g.mac, 6);
	zt_wr_be32(&w, e->g.adi);
	send_vl2(v, root, ZT_VERB_MULTICAST_GATHER, &w, now_ms);
}

/* Fan a frame out to the group's subscribers and every bridge, up to the network's limit. */
static void fan_out(struct zt_vl2 *v, struct zt_network *net, const struct net_gather *e, const uint8_t *frame,
		    size_t len, uint64_t now_ms)
{
	uint64_t sent[ZT_MCAST_GATHER_MAX * 2];
	unsigned n_sent = 0, limit = net->conf->multicast_limit ? net->conf->multicast_limit : UINT32_MAX;
	size_t mlen = build_ext_frame(v, net->nwid, frame, len);
	uint8_t *msg;

	if (!mlen)
		return;
	/* send_to_member may reuse v->buf (certificates): keep our own copy. */
	msg = v->frame;
	memcpy(msg, v->buf, mlen);
	for (unsigned pass = 0; pass < 2; pass++) {
		const uint64_t *list = pass ? e->bridges : e->members;
		unsigned n = pass ? e->n_bridges : e->n;
		for (unsigned i = 0; i < n; i++) {
			bool dup = false;
			if (list[i] == self(v))
				continue;
			for (unsigned k = 0; k < n_sent; k++)
				dup = dup || sent[k] == list[i];
			if (dup)
				continue;
			/* Bridges always get their copy; the limit applies to plain subscribers. */
			if (!pass && n_sent >= limit) {
				net->st.multicast_limited++;
				continue;
			}
			sent[n_sent++] = list[i];
			send_to_member(v, net, list[i], msg, mlen, now_ms);
			net->st.tx_multicast++;
		}
	}
}

/*
 * Send to the group's subscribers. A known list is used at once and refreshed
 * in the background (at most every ZT_MCAST_GATHER_MS), so a listener that
 * joined since is reached within about a second; a group never gathered
 * holds the frame until the root answers.
 */
static void multicast_send(struct zt_vl2 *v, struct zt_network *net, const struct zt_mcast_group *g,
			   const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct net_gather *e = gather_find(net, g, true);
	uint64_t age = e->fetched_ms ? now_ms - e->fetched_ms : UINT64_MAX;

	if (age >= ZT_MCAST_GATHER_MS)
		ask_gather(v, net, e, now_ms);
	if (age < ZT_MCAST_STALE_MS) {
		fan_out(v, net, e, frame, len, now_ms);
		return;
	}
	queue_add(net, Q_GROUP, 0, g, frame, len, now_ms);
}

static void handle_gather_ok(struct zt_vl2 *v, struct zt_rd *rd, uint64_t now_ms)
{
	struct zt_mcast_group g;
	struct zt_network *net;
	struct net_gather *e;
	uint64_t nwid = zt_rd_be64(rd);
	unsigned n, nb;

	zt_rd_bytes(rd, g.mac, 6);
	g.adi = zt_rd_be32(rd);
	n = zt_rd_be16(rd);
	nb = zt_rd_be16(rd);
	net = net_find(v, nwid);
	if (rd->err || !net || n > ZT_MCAST_GATHER_MAX || nb > ZT_MCAST_GATHER_MAX || !net->have_conf)
		return;
	e = gather_find(net, &g, true);
	for (unsigned i = 0; i < n; i++)
		e->members[i] = zt_rd_beN(rd, ZT_ADDR_BYTES);
	for (unsigned i = 0; i < nb; i++)
		e->bridges[i] = zt_rd_beN(rd, ZT_ADDR_BYTES);
	if (rd->err)
		return;
	e->n = (uint16_t)n;
	e->n_bridges = (uint16_t)nb;
	e->fetched_ms = now_ms;
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		struct net_queued *q = &net->queue[i];
		if (q->kind != Q_GROUP || !group_eq(&q->g, &g))
			continue;
		q->kind = Q_FREE;
		fan_out(v, net, e, q->msg, q->len, now_ms);
	}
}

static void add_group(struct zt_network *net, const uint8_t mac[6], uint32_t adi)
{
	struct zt_mcast_group g;

	memcpy(g.mac, mac, 6);
	g.adi = adi;
	for (unsigned i = 0; i < net->n_groups; i++)
		if (group_eq(&net->groups[i], &g))
			return;
	if (net->n_groups < ZT_NET_GROUPS_MAX)
		net->groups[net->n_groups++] = g;
}

static void send_likes(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	uint64_t roots[ZT_MAX_ROOTS];
	unsigned n_roots = zt_node_roots(v->node, roots, ZT_MAX_ROOTS);
	struct zt_wr w;

	net->last_like_ms = now_ms;
	net->groups_dirty = false;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_wr_bytes(&w, net->com_bytes, ZT_COM_BYTES); /* roots keep subscriptions of members only */
	zt_wr_be16(&w, (uint16_t)net->n_groups);
	for (unsigned i = 0; i < net->n_groups; i++) {
		zt_wr_bytes(&w, net->groups[i].mac, 6);
		zt_wr_be32(&w, net->groups[i].adi);
	}
	for (unsigned i = 0; i < n_roots; i++)
		send_vl2(v, roots[i], ZT_VERB_MULTICAST_LIKE, &w, now_ms);
}

/* Our subscriptions: broadcast, ARP for our addresses, the port's groups; bridges take everything. */
static void rebuild_groups(struct zt_network *net, const uint8_t (*macs)[6], unsigned n_macs, const uint32_t *ipv4,
			   unsigned n_ipv4)
{
	struct zt_mcast_group old[ZT_NET_GROUPS_MAX];
	unsigned n_old = net->n_groups;

	memcpy(old, net->groups, sizeof(old[0]) * n_old);
	net->n_groups = 0;
	if (!net->have_conf)
		goto out;
	if (net->conf->bridge)
		add_group(net, wildcard_group.mac, 0);
	if (net->conf->enable_broadcast)
		add_group(net, bcast_mac, 0);
	for (unsigned i = 0; i < net->conf->n_ips; i++) {
		const struct zt_netconf_ip *ip = &net->conf->ips[i];
		if (ip->family == 4)
			add_group(net, bcast_mac, (uint32_t)ip->addr[0] << 24 | ip->addr[1] << 16 | ip->addr[2] << 8 |
							  ip->addr[3]);
	}
	for (unsigned i = 0; i < n_ipv4; i++)
		add_group(net, bcast_mac, ipv4[i]);
	for (unsigned i = 0; i < n_macs; i++)
		if ((macs[i][0] & 1) && memcmp(macs[i], bcast_mac, 6) != 0)
			add_group(net, macs[i], 0);
out:
	if (n_old != net->n_groups || memcmp(old, net->groups, sizeof(old[0]) * n_old) != 0)
		net->groups_dirty = true;
}

void zt_vl2_set_port_state(struct zt_vl2 *v, uint64_t nwid, const uint8_t (*macs)[6], unsigned n_macs,
			   const uint32_t *ipv4, unsigned n_ipv4, uint64_t now_ms)
{
	struct zt_network *net = net_find(v, nwid);

	if (!net)
		return;
	rebuild_groups(net, macs, n_macs, ipv4, n_ipv4);
	if (net->groups_dirty)
		send_likes(v, net, now_ms);
}

/* ---------- frames ---------- */

static uint16_t ethertype_of(const uint8_t *frame, size_t len)
{
	return len >= ETH_HDR ? (uint16_t)(frame[12] << 8 | frame[13]) : 0;
}

/* Which group a multicast/broadcast frame goes to: ARP requests to the owner of the target address. */
static void group_of(const struct zt_network *net, const uint8_t *frame, size_t len, struct zt_mcast_group *g)
{
	memcpy(g->mac, frame, 6);
	g->adi = 0;
	if (memcmp(frame, bcast_mac, 6) == 0 && ethertype_of(frame, len) == 0x0806 && len >= ETH_HDR + 28 &&
	    frame[ETH_HDR + 6] == 0 && frame[ETH_HDR + 7] == 1)
		g->adi = (uint32_t)frame[ETH_HDR + 24] << 24 | frame[ETH_HDR + 25] << 16 | frame[ETH_HDR + 26] << 8 |
			 frame[ETH_HDR + 27];
	(void)net;
}

static struct net_mac *mac_find(struct zt_network *net, const uint8_t mac[6], uint64_t now_ms, bool create)
{
	struct net_mac *oldest = NULL;
	unsigned h = (mac[2] ^ mac[3] << 4 ^ mac[4] << 8 ^ mac[5] << 12) % ZT_NET_MACS_MAX;

	for (unsigned i = 0; i < 16; i++) {
		struct net_mac *e = &net->macs[(h + i) % ZT_NET_MACS_MAX];
		if (e->last_ms && now_ms - e->last_ms >= ZT_NET_MAC_AGE_MS)
			e->last_ms = 0;
		if (e->last_ms && memcmp(e->mac, mac, 6) == 0)
			return e;
		if (!oldest || e->last_ms < oldest->last_ms)
			oldest = e;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	memcpy(oldest->mac, mac, 6);
	return oldest;
}

/* Outbound rules: false if the frame must not go out as addressed (dropped or redirected). */
static bool outbound_rules(struct zt_vl2 *v, struct zt_network *net, uint64_t dst, const uint8_t *frame, size_t len,
			   uint64_t now_ms)
{
	struct zt_rules_result res;
	bool pass = rules_pass(v, net, ZT_RULES_OUTBOUND, self(v), dst, net->conf->bridge, frame, len, &res, now_ms);

	if (res.side_count)
		rules_side_copies(v, net, &res, frame, len, now_ms);
	if (!pass) {
		net->st.drop_rules_out++;
		return false;
	}
	if (res.redirect_to && res.redirect_to != dst && res.redirect_to != self(v)) {
		size_t mlen = build_ext_frame(v, net->nwid, frame, len);
		net->st.rules_redirects++;
		if (mlen) {
			memcpy(v->frame, v->buf, mlen);
			send_to_member(v, net, res.redirect_to, v->frame, mlen, now_ms);
		}
		return false;
	}
	return true;
}

void zt_vl2_frame_from_port(struct zt_vl2 *v, uint64_t nwid, const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct zt_network *net = net_find(v, nwid);
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
		if (memcmp(frame, bcast_mac, 6) == 0 && !net->conf->enable_broadcast)
			return;
		if (!outbound_rules(v, net, 0, frame, len, now_ms))
			return;
		group_of(net, frame, len, &g);
		multicast_send(v, net, &g, frame, len, now_ms);
		return;
	}
	member = zt_vl2_mac_member(frame, nwid);
	if (member == self(v))
		return;
	if (!member) {
		learned = mac_find(net, frame, now_ms, false);
		member = learned ? learned->bridge : 0;
	}
	if (!outbound_rules(v, net, member, frame, len, now_ms))
		return;
	if (!member) {
		/* Unknown unicast goes to the bridges only. */
		multicast_send(v, net, &wildcard_group, frame, len, now_ms);
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
			send_to_member(v, net, member, v->frame, w.len, now_ms);
		return;
	}
	mlen = build_ext_frame(v, nwid, frame, len);
	if (!mlen)
		return;
	memcpy(v->frame, v->buf, mlen);
	send_to_member(v, net, member, v->frame, mlen, now_ms);
}

/* Admission of a frame from a peer: a member with a valid certificate. */
static struct net_member *admit(struct zt_vl2 *v, struct zt_network *net, uint64_t peer, uint64_t now_ms)
{
	struct net_member *m;

	if (!net->have_conf || net->status != ZT_NET_OK) {
		net->st.drop_not_member++;
		return NULL;
	}
	m = member_get(net, peer, true);
	if (!m) {
		net->st.drop_no_com++;
		return NULL;
	}
	if (!m->com_ok) {
		net->st.drop_no_com++;
		request_com(v, net, m, now_ms);
		return NULL;
	}
	return m;
}

static void deliver(struct zt_vl2 *v, struct zt_network *net, struct net_member *m, uint8_t flags,
		    const uint8_t *frame, size_t len, uint64_t now_ms)
{
	struct zt_rules_result res;

	if (!(flags & EXT_FLAG_COPY)) {
		bool pass = rules_pass(v, net, ZT_RULES_INBOUND, m->address, (frame[0] & 1) ? 0 : self(v),
				       (m->com.flags & ZT_COM_FLAG_BRIDGE) != 0, frame, len, &res, now_ms);
		if (res.side_count)
			rules_side_copies(v, net, &res, frame, len, now_ms);
		if (!pass) {
			net->st.drop_rules_in++;
			return;
		}
		if (res.redirect_to && res.redirect_to != self(v)) {
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

static void handle_frame(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);
	struct zt_network *net = net_find(v, nwid);
	struct net_member *m;
	size_t n = rd->left;
	const uint8_t *rest = zt_rd_ref(rd, n);

	if (!net || rd->err || n < 2 || n + 12 > ZT_MAX_MESSAGE_BYTES)
		return;
	m = admit(v, net, peer, now_ms);
	if (!m)
		return;
	memcpy(v->frame, net->mac, 6);
	zt_vl2_member_mac(v->frame + 6, peer, nwid);
	memcpy(v->frame + 12, rest, n);
	deliver(v, net, m, 0, v->frame, n + 12, now_ms);
}

static void handle_ext_frame(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);
	struct zt_network *net = net_find(v, nwid);
	uint8_t peer_mac[6], flags;
	struct net_member *m;
	const uint8_t *frame;
	size_t len;

	flags = zt_rd_u8(rd);
	len = rd->left;
	frame = zt_rd_ref(rd, len);
	if (!net || rd->err || len < ETH_HDR)
		return;
	m = admit(v, net, peer, now_ms);
	if (!m)
		return;
	zt_vl2_member_mac(peer_mac, peer, nwid);
	if (memcmp(frame + 6, peer_mac, 6) != 0) {
		/* Only members the controller marks as bridges send from other MACs. */
		if (!(m->com.flags & ZT_COM_FLAG_BRIDGE)) {
			net->st.drop_foreign_mac++;
			return;
		}
		if (!(frame[6] & 1)) {
			struct net_mac *e = mac_find(net, frame + 6, now_ms, true);
			e->bridge = peer;
			e->last_ms = now_ms;
		}
	}
	deliver(v, net, m, flags, frame, len, now_ms);
}

/* ---------- certificates and revocations ---------- */

static bool revoked(const struct zt_network *net, const struct zt_com *com)
{
	for (unsigned i = 0; i < net->n_revocations; i++)
		if (zt_com_revoked(com, &net->revocations[i]))
			return true;
	return false;
}

static int controller_identity(struct zt_vl2 *v, struct zt_network *net, struct zt_identity *id, uint64_t now_ms)
{
	if (zt_node_peer_identity(v->node, net->controller, id) == 0)
		return 0;
	zt_node_want_identity(v->node, net->controller, now_ms);
	return ZT_EAGAIN;
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

static void handle_com(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	const uint8_t *bytes = zt_rd_ref(rd, ZT_COM_BYTES);
	struct zt_identity ctl;
	struct zt_network *net;
	struct net_member *m;
	struct zt_com com;

	if (!bytes || zt_com_decode(&com, bytes, ZT_COM_BYTES) < 0)
		return;
	net = net_find(v, com.network_id);
	if (!net || !net->have_conf || controller_identity(v, net, &ctl, now_ms) < 0)
		return;
	if (com.member != peer) {
		/* Someone else's certificate, replayed: it proves nothing about the sender. */
		net->st.drop_bad_com++;
		return;
	}
	m = member_get(net, peer, true);
	if (!m)
		return;
	if (zt_com_verify(&com, &ctl) < 0 || !zt_com_agree(&com, &net->conf->com, &ctl) || revoked(net, &com)) {
		net->st.drop_bad_com++;
		if (m->com_ok)
			net->members_ok--;
		m->com_ok = false;
		return;
	}
	if (!m->com_ok)
		net->members_ok++;
	m->com = com;
	m->com_ok = true;
	adopt_credential(net, m, &ctl, rd);
	if (!m->com_sent_ms)
		send_com(v, net, m, now_ms);
	flush_member_queue(v, net, peer, now_ms);
}

static void handle_com_request(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	struct zt_network *net = net_find(v, zt_rd_be64(rd));
	struct net_member *m;

	if (rd->err || !net || !net->have_conf)
		return;
	m = member_get(net, peer, true);
	if (m && (!m->com_sent_ms || now_ms - m->com_sent_ms >= ZT_COM_REQUEST_MS))
		send_com(v, net, m, now_ms);
}

static void apply_revocation(struct zt_network *net, const struct zt_revocation *rev)
{
	struct net_member *m;

	if (net->n_revocations < NET_REVOCATIONS)
		net->revocations[net->n_revocations++] = *rev;
	else
		net->revocations[NET_REVOCATIONS - 1] = *rev;
	m = member_get(net, rev->member, false);
	if (m && m->com_ok && zt_com_revoked(&m->com, rev)) {
		m->com_ok = false;
		net->members_ok--;
	}
}

static void handle_revocation(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	const uint8_t *bytes = zt_rd_ref(rd, ZT_REVOCATION_BYTES);
	struct zt_revocation rev;
	struct zt_identity ctl;
	struct zt_network *net;

	(void)peer;
	if (!bytes || zt_revocation_decode(&rev, bytes, ZT_REVOCATION_BYTES) < 0)
		return;
	net = net_find(v, rev.network_id);
	if (!net || controller_identity(v, net, &ctl, now_ms) < 0 || zt_revocation_verify(&rev, &ctl) < 0)
		return;
	apply_revocation(net, &rev);
}

/* ---------- configs ---------- */

static void set_status(struct zt_vl2 *v, struct zt_network *net, enum zt_net_status st, const char *reason)
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

static void drop_conf(struct zt_network *net)
{
	net->have_conf = false;
	for (unsigned i = 0; i < ZT_NET_MEMBERS_MAX; i++)
		net->members[i].com_ok = false;
	net->members_ok = 0;
	net->n_groups = 0;
}

static void apply_conf(struct zt_vl2 *v, struct zt_network *net, const uint8_t *blob, size_t len, uint64_t now_ms)
{
	struct zt_identity ctl;
	struct zt_netconf *nc = net->scratch;
	int err;

	if (controller_identity(v, net, &ctl, now_ms) < 0)
		return;
	err = zt_netconf_decode(nc, blob, len, &ctl);
	if (err || nc->network_id != net->nwid || nc->member != self(v) || nc->com.member != self(v)) {
		zt_log(ZT_LOG_WARN, "network %016llx: refused a config from the controller: %s",
		       (unsigned long long)net->nwid, err ? zt_strerror(err) : "not for this member");
		return;
	}
	if (net->have_conf && nc->revision < net->conf->revision)
		return;
	net->scratch = net->conf;
	net->conf = nc;
	net->have_conf = true;
	net->awaiting_since_ms = 0;
	zt_com_encode(&nc->com, net->com_bytes);
	load_rules(net);
	/* Peers' certificates are re-checked against our new one as they come. */
	for (unsigned i = 0; i < ZT_NET_MEMBERS_MAX; i++) {
		struct net_member *m = &net->members[i];
		if (m->address && m->com_ok && !zt_com_agree(&m->com, &nc->com, &ctl)) {
			m->com_ok = false;
			net->members_ok--;
		}
		m->com_sent_ms = 0;
	}
	rebuild_groups(net, NULL, 0, NULL, 0);
	send_likes(v, net, now_ms);
	set_status(v, net, ZT_NET_OK, "");
	v->cb.changed(v->cb.ctx, net->nwid);
}

/* Our own credential from the controller: checked, then sent with our certificate. */
static void keep_own_credential(struct zt_vl2 *v, struct zt_network *net, const uint8_t *bytes, size_t len,
				uint64_t now_ms)
{
	struct zt_credential cred;
	struct zt_identity ctl;

	if (controller_identity(v, net, &ctl, now_ms) < 0 || zt_credential_decode(&cred, bytes, len) < 0 ||
	    cred.member != self(v) || cred.network_id != net->nwid || zt_credential_verify(&cred, &ctl) < 0)
		return;
	memcpy(net->cred_bytes, bytes, len);
	net->cred_len = len;
}

static void handle_netconf(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);
	struct zt_network *net = net_find(v, nwid);
	unsigned status = zt_rd_u8(rd);
	size_t reason_len, chunk_len;
	const uint8_t *reason = zt_rd_lv16(rd, 127, &reason_len);
	uint64_t rev = zt_rd_be64(rd);
	uint32_t total = zt_rd_be32(rd), off = zt_rd_be32(rd);
	const uint8_t *chunk = zt_rd_lv16(rd, ZT_NETCONF_CHUNK_BYTES, &chunk_len);
	size_t cred_len;
	const uint8_t *cred = zt_rd_lv16(rd, ZT_CREDENTIAL_MAX_BYTES, &cred_len);
	char text[160], why[128];

	if (rd->err || !net || peer != net->controller)
		return;
	net->last_answer_ms = now_ms;
	snprintf(why, sizeof(why), "%.*s", (int)reason_len, reason ? (const char *)reason : "");
	switch (status) {
	case ZT_NETCONF_OK:
		break;
	case ZT_NETCONF_AWAITING_APPROVAL:
		if (!net->awaiting_since_ms)
			net->awaiting_since_ms = now_ms;
		snprintf(text, sizeof(text), "awaiting approval since %llu (unix ms)",
			 (unsigned long long)net->awaiting_since_ms);
		set_status(v, net, ZT_NET_REQUESTING, text);
		return;
	case ZT_NETCONF_ACCESS_DENIED:
		drop_conf(net);
		set_status(v, net, ZT_NET_ACCESS_DENIED, why[0] ? why : "the controller refused this member");
		return;
	case ZT_NETCONF_NOT_FOUND:
		drop_conf(net);
		set_status(v, net, ZT_NET_NOT_FOUND, "the controller has no such network");
		return;
	default:
		return;
	}
	if (total == 0 || total > ZT_NETCONF_MAX_BYTES || off > total || chunk_len > total - off || off % ZT_NETCONF_CHUNK_BYTES)
		return;
	if (rev != net->chunk_rev || total != net->chunk_total) {
		net->chunk_rev = rev;
		net->chunk_total = total;
		net->chunk_got = 0;
	}
	memcpy(net->chunks + off, chunk, chunk_len);
	net->chunk_got |= 1u << (off / ZT_NETCONF_CHUNK_BYTES);
	if (net->chunk_got + 1 != 1u << ((total + ZT_NETCONF_CHUNK_BYTES - 1) / ZT_NETCONF_CHUNK_BYTES))
		return;
	net->chunk_got = 0;
	apply_conf(v, net, net->chunks, total, now_ms);
	if (net->have_conf && cred && cred_len)
		keep_own_credential(v, net, cred, cred_len, now_ms);
}

static void send_request(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	struct zt_wr w;
	char text[160], a[11];

	net->last_request_ms = now_ms;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_wr_be64(&w, net->have_conf ? net->conf->revision : 0);
	if (net->controller == self(v)) {
		zt_vl2_controller_push(v, net->nwid, self(v), now_ms);
		return;
	}
	send_vl2(v, net->controller, ZT_VERB_NETCONF_REQUEST, &w, now_ms);
	if (net->status == ZT_NET_REQUESTING && !net->awaiting_since_ms &&
	    now_ms - ZT_MAX(net->last_answer_ms, net->joined_ms) >= 5000) {
		zt_address_format(a, net->controller);
		snprintf(text, sizeof(text), "controller %s unreachable (no answer for %llu s)", a,
			 (unsigned long long)((now_ms - ZT_MAX(net->last_answer_ms, net->joined_ms)) / 1000));
		set_status(v, net, ZT_NET_REQUESTING, text);
	}
}

/* ---------- controller role ---------- */

static void send_answer(struct zt_vl2 *v, uint64_t nwid, uint64_t member, const struct zt_vl2_answer *ans,
			uint64_t now_ms)
{
	size_t reason_len = strnlen(ans->reason, 127);
	size_t total = ans->status == ZT_NETCONF_OK ? ans->conf_len : 0;
	size_t off = 0;

	do {
		size_t n = ZT_MIN(total - off, (size_t)ZT_NETCONF_CHUNK_BYTES);
		struct zt_wr w;

		zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
		zt_wr_be64(&w, nwid);
		zt_wr_u8(&w, (uint8_t)ans->status);
		zt_wr_lv16(&w, ans->reason, reason_len);
		zt_wr_be64(&w, 0);
		zt_wr_be32(&w, (uint32_t)total);
		zt_wr_be32(&w, (uint32_t)off);
		zt_wr_lv16(&w, ans->conf + off, n);
		zt_wr_lv16(&w, v->cred_out, ans->status == ZT_NETCONF_OK ? v->cred_out_len : 0);
		if (member == self(v)) {
			struct zt_rd rd;
			zt_rd_init(&rd, v->buf, w.len);
			handle_netconf(v, member, &rd, now_ms);
		} else {
			send_vl2(v, member, ZT_VERB_NETCONF, &w, now_ms);
		}
		off += n;
	} while (off < total);
}

/* The member's tags and capabilities from the config just signed, as a credential for its peers. */
static void make_credential(struct zt_vl2 *v, const struct zt_vl2_answer *ans)
{
	const struct zt_identity *me = zt_node_identity(v->node);
	struct zt_credential cred;

	if (zt_netconf_decode(v->ctl_nc, ans->conf, ans->conf_len, me) < 0 ||
	    zt_credential_from_netconf(&cred, v->ctl_nc, me) < 0 ||
	    zt_credential_encode(&cred, v->cred_out, sizeof(v->cred_out), &v->cred_out_len) < 0)
		v->cred_out_len = 0;
}

void zt_vl2_controller_push(struct zt_vl2 *v, uint64_t nwid, uint64_t member, uint64_t now_ms)
{
	struct zt_vl2_answer ans = {.conf = v->conf_out};
	struct zt_identity id;

	if (!v->cb.controller_request || (nwid >> 24) != self(v))
		return;
	if (zt_node_peer_identity(v->node, member, &id) < 0)
		return;
	if (v->cb.controller_request(v->cb.ctx, nwid, &id, now_ms, &ans) < 0)
		return;
	v->cred_out_len = 0;
	if (ans.status == ZT_NETCONF_OK)
		make_credential(v, &ans);
	send_answer(v, nwid, member, &ans, now_ms);
}

void zt_vl2_controller_revoke(struct zt_vl2 *v, const struct zt_revocation *rev, const uint64_t *members,
			      unsigned n, uint64_t now_ms)
{
	uint8_t bytes[ZT_REVOCATION_BYTES];
	struct zt_network *net = net_find(v, rev->network_id);

	if (zt_revocation_encode(rev, bytes) < 0)
		return;
	if (net)
		apply_revocation(net, rev);
	for (unsigned i = 0; i < n; i++)
		if (members[i] != self(v))
			zt_node_send(v->node, members[i], ZT_VERB_REVOCATION, bytes, sizeof(bytes), now_ms);
}

static void handle_netconf_request(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);

	zt_rd_be64(rd);
	if (rd->err)
		return;
	if ((nwid >> 24) != self(v) || !v->cb.controller_request) {
		struct zt_vl2_answer ans = {.status = ZT_NETCONF_NOT_FOUND, .conf = v->conf_out};
		snprintf(ans.reason, sizeof(ans.reason), "this node is not the controller of that network");
		send_answer(v, nwid, peer, &ans, now_ms);
		return;
	}
	zt_vl2_controller_push(v, nwid, peer, now_ms);
}

/* ---------- dispatch, tick, lifecycle ---------- */

void zt_vl2_message(struct zt_vl2 *v, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct zt_rd rd;

	zt_rd_init(&rd, data, len);
	switch (verb) {
	case ZT_VERB_FRAME:
		handle_frame(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_EXT_FRAME:
		handle_ext_frame(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_COM:
		handle_com(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_COM_REQUEST:
		handle_com_request(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_MULTICAST_GATHER_OK:
		handle_gather_ok(v, &rd, now_ms);
		return;
	case ZT_VERB_NETCONF:
		handle_netconf(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_NETCONF_REQUEST:
		handle_netconf_request(v, peer, &rd, now_ms);
		return;
	case ZT_VERB_REVOCATION:
		handle_revocation(v, peer, &rd, now_ms);
		return;
	}
}

static void tick_net(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	uint64_t every = net->status == ZT_NET_OK ? ZT_NETCONF_REFRESH_MS : ZT_NETCONF_RETRY_MS;

	if (!net->last_request_ms || now_ms - net->last_request_ms >= every)
		send_request(v, net, now_ms);
	if (net->have_conf && (net->groups_dirty || now_ms - net->last_like_ms >= ZT_MCAST_LIKE_MS))
		send_likes(v, net, now_ms);
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++) {
		struct net_queued *q = &net->queue[i];
		struct net_gather *e;

		/* A group frame whose gather went unanswered goes to the last list known, if any. */
		if (q->kind == Q_GROUP && now_ms - q->created_ms >= ZT_MCAST_WAIT_MS) {
			e = gather_find(net, &q->g, false);
			q->kind = Q_FREE;
			if (e && e->fetched_ms)
				fan_out(v, net, e, q->msg, q->len, now_ms);
			else
				net->st.drop_queue++;
			continue;
		}
		if (q->kind == Q_FREE || now_ms - q->created_ms < ZT_NET_QUEUE_MS)
			continue;
		q->kind = Q_FREE;
		net->st.drop_queue++;
	}
}

void zt_vl2_tick(struct zt_vl2 *v, uint64_t now_ms)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		if (v->nets[i])
			tick_net(v, v->nets[i], now_ms);
}

static void net_free(struct zt_network *net)
{
	if (!net)
		return;
	for (unsigned i = 0; i < ZT_NET_QUEUE; i++)
		free(net->queue[i].msg);
	free(net->conf);
	free(net->scratch);
	free(net->chunks);
	free(net->members);
	free(net->macs);
	free(net->gathers);
	free(net->rules);
	free(net->counters);
	free(net->trace);
	free(net);
}

int zt_vl2_join(struct zt_vl2 *v, uint64_t nwid, uint64_t now_ms)
{
	struct zt_network *net;
	int slot = -1;

	if (zt_address_reserved(nwid >> 24))
		return ZT_EINVAL;
	if (net_find(v, nwid))
		return ZT_EEXIST;
	for (int i = 0; i < ZT_MAX_NETWORKS && slot < 0; i++)
		if (!v->nets[i])
			slot = i;
	if (slot < 0)
		return ZT_ETOOBIG;
	net = calloc(1, sizeof(*net));
	if (!net)
		return ZT_ENOMEM;
	net->conf = malloc(sizeof(*net->conf));
	net->scratch = malloc(sizeof(*net->scratch));
	net->chunks = malloc(ZT_NETCONF_MAX_BYTES);
	net->members = calloc(ZT_NET_MEMBERS_MAX, sizeof(*net->members));
	net->macs = calloc(ZT_NET_MACS_MAX, sizeof(*net->macs));
	net->gathers = calloc(NET_GATHERS, sizeof(*net->gathers));
	net->rules = malloc(sizeof(*net->rules));
	net->counters = calloc(ZT_RULES_MAX_RULES + 1, sizeof(*net->counters));
	net->trace = calloc(ZT_NET_TRACE_LINES, sizeof(*net->trace));
	bool ok = net->conf && net->scratch && net->chunks && net->members && net->macs && net->gathers &&
		  net->rules && net->counters && net->trace;
	for (unsigned i = 0; ok && i < ZT_NET_QUEUE; i++)
		ok = (net->queue[i].msg = malloc(ZT_MAX_MESSAGE_BYTES)) != NULL;
	if (!ok) {
		net_free(net);
		return ZT_ENOMEM;
	}
	net->nwid = nwid;
	net->controller = nwid >> 24;
	net->joined_ms = now_ms;
	zt_vl2_member_mac(net->mac, self(v), nwid);
	snprintf(net->reason, sizeof(net->reason), "waiting for the controller");
	v->nets[slot] = net;
	zt_node_want_identity(v->node, net->controller, now_ms);
	send_request(v, net, now_ms);
	return 0;
}

int zt_vl2_leave(struct zt_vl2 *v, uint64_t nwid)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		if (v->nets[i] && v->nets[i]->nwid == nwid) {
			net_free(v->nets[i]);
			v->nets[i] = NULL;
			return 0;
		}
	}
	return ZT_ENOENT;
}

unsigned zt_vl2_networks(const struct zt_vl2 *v, uint64_t *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ZT_MAX_NETWORKS && n < max; i++)
		if (v->nets[i])
			out[n++] = v->nets[i]->nwid;
	return n;
}

int zt_vl2_info(const struct zt_vl2 *v, uint64_t nwid, struct zt_net_info *out)
{
	const struct zt_network *net = net_find(v, nwid);

	if (!net)
		return ZT_ENOENT;
	memset(out, 0, sizeof(*out));
	out->nwid = nwid;
	out->status = net->status;
	snprintf(out->reason, sizeof(out->reason), "%s", net->reason);
	memcpy(out->mac, net->mac, 6);
	out->have_conf = net->have_conf;
	out->bridge = net->have_conf && net->conf->bridge;
	out->members_seen = net->members_ok;
	out->conf = net->have_conf ? net->conf : NULL;
	out->stats = net->st;
	return 0;
}

int zt_vl2_new(struct zt_vl2 **out, struct zt_node *node, const struct zt_vl2_callbacks *cb)
{
	struct zt_vl2 *v = calloc(1, sizeof(*v));

	*out = NULL;
	if (!v)
		return ZT_ENOMEM;
	v->node = node;
	v->cb = *cb;
	v->buf = malloc(ZT_MAX_MESSAGE_BYTES);
	v->frame = malloc(ZT_MAX_MESSAGE_BYTES);
	v->conf_out = malloc(ZT_NETCONF_MAX_BYTES);
	v->copy = malloc(ZT_MAX_MESSAGE_BYTES);
	v->ctl_nc = malloc(sizeof(*v->ctl_nc));
	zt_node_random(node, &v->rng, sizeof(v->rng));
	v->rng |= 1;
	if (!v->buf || !v->frame || !v->conf_out || !v->copy || !v->ctl_nc) {
		zt_vl2_free(v);
		return ZT_ENOMEM;
	}
	*out = v;
	return 0;
}

void zt_vl2_free(struct zt_vl2 *v)
{
	if (!v)
		return;
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		net_free(v->nets[i]);
	free(v->buf);
	free(v->frame);
	free(v->conf_out);
	free(v->copy);
	free(v->ctl_nc);
	free(v);
}
