/*
 * config_transfer.c - getting a network's config: requests to the controller,
 * NETCONF answers reassembled from chunks, verified and applied; and the
 * controller's side that answers them in chunks. The signed structures
 * themselves are netconf.c's; certificates and credentials membership.c's.
 */
#include "network_impl.h"

#include <stdio.h>
#include <string.h>

/* ---------- the member's side ---------- */

static void drop_conf(struct zt_network *net)
{
	net->have_conf = false;
	zt_membership_forget(net);
	net->n_groups = 0;
}

static void apply_conf(struct zt_vl2 *v, struct zt_network *net, const uint8_t *blob, size_t len, uint64_t now_ms)
{
	struct zt_identity ctl;
	struct zt_netconf *nc = net->scratch;
	bool first;
	int err;

	if (zt_vl2_controller_identity(v, net, &ctl, now_ms) < 0)
		return;
	err = zt_netconf_decode(nc, blob, len, &ctl);
	if (err || nc->network_id != net->nwid || nc->member != zt_vl2_self(v) || nc->com.member != zt_vl2_self(v)) {
		zt_log(ZT_LOG_WARN, "network %016llx: refused a config from the controller: %s",
		       (unsigned long long)net->nwid, err ? zt_strerror(err) : "not for this member");
		return;
	}
	if (net->have_conf && nc->revision < net->conf->revision)
		return;
	first = !net->have_conf;
	net->scratch = net->conf;
	net->conf = nc;
	net->have_conf = true;
	net->awaiting_since_ms = 0;
	zt_com_encode(&nc->com, net->com_bytes);
	zt_frame_path_load_rules(net);
	/* Peers' certificates are re-checked against our new one as they come. */
	zt_membership_recheck(net, &nc->com, &ctl);
	zt_vl2_mcast_rebuild_groups(net, NULL, 0, NULL, 0);
	zt_vl2_mcast_send_likes(v, net, now_ms);
	if (first)
		zt_membership_greet_expected(v, net, now_ms);
	zt_vl2_set_status(v, net, ZT_NET_OK, "");
	v->cb.changed(v->cb.ctx, net->nwid);
}

void zt_config_transfer_handle(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);
	struct zt_network *net = zt_vl2_net_find(v, nwid);
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
		zt_vl2_set_status(v, net, ZT_NET_REQUESTING, text);
		return;
	case ZT_NETCONF_ACCESS_DENIED:
		drop_conf(net);
		zt_vl2_set_status(v, net, ZT_NET_ACCESS_DENIED, why[0] ? why : "the controller refused this member");
		return;
	case ZT_NETCONF_NOT_FOUND:
		drop_conf(net);
		zt_vl2_set_status(v, net, ZT_NET_NOT_FOUND, "the controller has no such network");
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
		zt_membership_keep_own_credential(v, net, cred, cred_len, now_ms);
}

void zt_config_transfer_request(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	struct zt_wr w;
	char text[160], a[11];

	net->last_request_ms = now_ms;
	net->request_tries++;
	zt_wr_init(&w, v->buf, ZT_MAX_MESSAGE_BYTES);
	zt_wr_be64(&w, net->nwid);
	zt_wr_be64(&w, net->have_conf ? net->conf->revision : 0);
	if (net->controller == zt_vl2_self(v)) {
		zt_vl2_controller_push(v, net->nwid, zt_vl2_self(v), now_ms);
		return;
	}
	net->request_queued = zt_vl2_send(v, net->controller, ZT_VERB_NETCONF_REQUEST, &w, now_ms) == ZT_EAGAIN;
	if (net->status == ZT_NET_REQUESTING && !net->awaiting_since_ms &&
	    now_ms - ZT_MAX(net->last_answer_ms, net->joined_ms) >= 5000) {
		zt_address_format(a, net->controller);
		snprintf(text, sizeof(text), "controller %s unreachable (no answer for %llu s)", a,
			 (unsigned long long)((now_ms - ZT_MAX(net->last_answer_ms, net->joined_ms)) / 1000));
		zt_vl2_set_status(v, net, ZT_NET_REQUESTING, text);
	}
}

/*
 * How long to wait for an answer before asking again. Before the first config,
 * a request that went out (not one queued behind the controller's session,
 * which leaves when that session is up) is retried early: 250, 500, 1000 ms.
 */
static uint64_t request_interval_ms(const struct zt_network *net)
{
	if (net->status == ZT_NET_OK)
		return ZT_NETCONF_REFRESH_MS;
	if (net->have_conf || net->request_queued || net->awaiting_since_ms ||
	    net->request_tries > ZT_EARLY_RETRY_STEPS)
		return ZT_NETCONF_RETRY_MS;
	return (uint64_t)ZT_EARLY_RETRY_FIRST_MS << (net->request_tries - 1);
}

/* The controller's session is up: a request queued behind it left just now. */
void zt_config_transfer_session_up(struct zt_network *net, uint64_t peer, uint64_t now_ms)
{
	if (peer != net->controller || !net->request_queued)
		return;
	net->request_queued = false;
	net->last_request_ms = now_ms;
}

/* Ask again: early retries, then every ZT_NETCONF_RETRY_MS until configured, then every ZT_NETCONF_REFRESH_MS. */
void zt_config_transfer_tick(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms)
{
	uint64_t every = request_interval_ms(net);

	if (!net->last_request_ms || now_ms - net->last_request_ms >= every)
		zt_config_transfer_request(v, net, now_ms);
}

/* ---------- the controller's side ---------- */

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
		if (member == zt_vl2_self(v)) {
			struct zt_rd rd;
			zt_rd_init(&rd, v->buf, w.len);
			zt_config_transfer_handle(v, member, &rd, now_ms);
		} else {
			zt_vl2_send(v, member, ZT_VERB_NETCONF, &w, now_ms);
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

	if (!v->cb.controller_request || (nwid >> 24) != zt_vl2_self(v))
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

void zt_config_transfer_handle_request(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t nwid = zt_rd_be64(rd);

	zt_rd_be64(rd);
	if (rd->err)
		return;
	if ((nwid >> 24) != zt_vl2_self(v) || !v->cb.controller_request) {
		struct zt_vl2_answer ans = {.status = ZT_NETCONF_NOT_FOUND, .conf = v->conf_out};
		snprintf(ans.reason, sizeof(ans.reason), "this node is not the controller of that network");
		send_answer(v, nwid, peer, &ans, now_ms);
		return;
	}
	zt_vl2_controller_push(v, nwid, peer, now_ms);
}
