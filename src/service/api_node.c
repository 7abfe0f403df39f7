/*
 * api_node.c - the VL1 part of ztd's local API: GET /status, GET /peers,
 * GET /peer/{address}, POST /ping/{address}, GET /ping/{id}.
 * JSON field names here are the product's interface (zt-cli -j prints them).
 */
#include "service/ztd.h"
#include "crypto.h"
#include "osdep/os.h"

#include <stdlib.h>
#include <string.h>

static json_t *endpoint_json(const struct zt_endpoint *e)
{
	char text[ZT_ENDPOINT_TEXT_MAX];

	if (!zt_endpoint_is_set(e) || zt_endpoint_format(e, text, sizeof(text)) < 0)
		return json_null();
	return json_string(text);
}

static json_t *ms_or_null(int v)
{
	return v < 0 ? json_null() : json_integer(v);
}

static json_t *ago_or_null(uint64_t then, uint64_t now)
{
	return then == 0 ? json_null() : json_integer((json_int_t)(now - then));
}

static int h_status(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	char a[11], ident[ZT_IDENTITY_PUBLIC_TEXT_MAX];
	uint64_t now = zt_os_now_ms();
	struct zt_endpoint obs;
	struct zt_node_stats st;
	json_t *roles = json_array(), *o;

	(void)req;
	zt_address_format(a, d->id.address);
	zt_identity_to_text(&d->id, false, ident, sizeof(ident));
	json_array_append_new(roles, json_string("node"));
	if (d->cfg.root)
		json_array_append_new(roles, json_string("root"));
	if (d->cfg.controller)
		json_array_append_new(roles, json_string("controller"));
	zt_node_get_stats(d->node, &st);
	o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:o, s:b, s:o, s:I, s:s}", "address", a, "identity", ident,
		      "version", ZT_VERSION_STRING, "udp_port", d->cfg.port, "api_port", d->cfg.port, "roles", roles,
		      "online", zt_node_online(d->node, now), "observed",
		      zt_node_observed(d->node, &obs) ? endpoint_json(&obs) : json_null(), "uptime_ms",
		      (json_int_t)(now - d->started_ms), "cipher", zt_cipher_name(d->cfg.cipher));
	json_object_set_new(o, "stats",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "drop_mcast_refused",
				      (json_int_t)st.drop_mcast_refused, "rx_packets",
				      (json_int_t)st.rx_packets, "tx_packets", (json_int_t)st.tx_packets, "relayed",
				      (json_int_t)st.relayed, "drop_auth", (json_int_t)st.drop_auth, "drop_replay",
				      (json_int_t)st.drop_replay, "drop_truncated", (json_int_t)st.drop_truncated,
				      "drop_unknown_index", (json_int_t)st.drop_unknown_index, "sessions_established",
				      (json_int_t)st.sessions_established, "rekeys", (json_int_t)st.rekeys,
				      "paths_died", (json_int_t)st.paths_died, "probes_tx",
				      (json_int_t)st.probes_tx));
	{
		json_t *s = json_object_get(o, "stats");
		/* underlay datagrams refused because they came through our own overlay (a loop) */
		json_object_set_new(s, "drop_own_overlay", json_integer((json_int_t)d->own.drop_own_overlay));
		json_object_set_new(s, "paths_forbidden", json_integer((json_int_t)st.paths_forbidden));
		json_object_set_new(s, "paths_refused_overlay", json_integer((json_int_t)d->own.paths_refused));
		json_object_set_new(s, "own_interfaces", json_integer((json_int_t)d->own.n_ifs));
	}
	zt_http_resp_json(resp, 200, o);
	return 0;
}

static json_t *peer_json(const struct zt_peer_info *pi, uint64_t now)
{
	char a[11];
	json_t *paths = json_array();

	zt_address_format(a, pi->address);
	for (unsigned i = 0; i < pi->n_paths; i++) {
		const struct zt_path_info *q = &pi->paths[i];
		json_array_append_new(paths, json_pack("{s:o, s:b, s:b, s:o, s:o}", "address",
						       endpoint_json(&q->endpoint), "preferred", q->preferred,
						       "alive", q->alive, "last_rx_ms_ago",
						       ago_or_null(q->last_rx_ms, now), "latency_ms",
						       ms_or_null(q->latency_ms)));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I}", "address", a, "role",
			 pi->is_root ? "ROOT" : "LEAF", "link", zt_link_name(pi->link), "latency_ms",
			 ms_or_null(pi->latency_ms), "paths", paths, "last_heard_ms_ago",
			 ago_or_null(pi->last_rx_ms, now), "session_age_ms",
			 pi->session_age_ms < 0 ? json_null() : json_integer(pi->session_age_ms), "relay_reason",
			 pi->relay_reason && pi->link != ZT_LINK_DIRECT ? json_string(pi->relay_reason)
									: json_null(),
			 "rx_packets", (json_int_t)pi->rx_packets, "tx_packets", (json_int_t)pi->tx_packets);
}

#define PEERS_MAX 4096

static int h_peers(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	uint64_t now = zt_os_now_ms();
	struct zt_peer_info *info = malloc(PEERS_MAX * sizeof(*info));
	json_t *arr = json_array();
	size_t n;

	(void)req;
	if (!info) {
		json_decref(arr);
		zt_http_resp_error(resp, 500, NULL, "out of memory");
		return 0;
	}
	n = zt_node_peers(d->node, now, info, PEERS_MAX);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, peer_json(&info[i], now));
	free(info);
	zt_http_resp_json(resp, 200, arr);
	return 0;
}

static bool param_address(const struct zt_http_req *req, struct zt_http_resp *resp, uint64_t *address)
{
	const char *text = zt_http_req_param(req, "address");

	if (!text || zt_address_parse(address, text) < 0 || zt_address_reserved(*address)) {
		zt_http_resp_error(resp, 400, "address", "not a node address (10 hex digits)");
		return false;
	}
	return true;
}

static int h_peer(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	struct zt_peer_info pi;
	uint64_t address, now = zt_os_now_ms();

	if (!param_address(req, resp, &address))
		return 0;
	if (zt_node_peer(d->node, address, now, &pi) < 0) {
		zt_http_resp_error(resp, 404, "address", "no such peer");
		return 0;
	}
	zt_http_resp_json(resp, 200, peer_json(&pi, now));
	return 0;
}

static struct ztd_ping *ping_slot(struct ztd *d)
{
	struct ztd_ping *oldest = NULL;

	for (unsigned i = 0; i < ZTD_MAX_PINGS; i++) {
		struct ztd_ping *p = &d->pings[i];
		if (p->state == ZTD_PING_FREE)
			return p;
		if (p->state != ZTD_PING_PENDING && (!oldest || p->sent_ms < oldest->sent_ms))
			oldest = p;
	}
	return oldest;
}

static int h_ping_start(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	uint64_t address, now = zt_os_now_ms();
	struct ztd_ping *p;
	int err;

	if (!param_address(req, resp, &address))
		return 0;
	if (address == d->id.address) {
		zt_http_resp_error(resp, 400, "address", "that is this node's own address");
		return 0;
	}
	size_t size = 0;
	const char *size_text = zt_http_req_query(req, "size");
	uint8_t payload[ZT_ECHO_MAX_PAYLOAD];

	if (size_text) {
		char *end;
		unsigned long v = strtoul(size_text, &end, 10);
		if (*end || v > ZT_ECHO_MAX_PAYLOAD) {
			zt_http_resp_error(resp, 400, "size", "payload size must be 0..%d bytes", ZT_ECHO_MAX_PAYLOAD);
			return 0;
		}
		size = v;
	}
	/* A recognizable pattern: captures can check that it never crosses the wire in clear. */
	for (size_t i = 0; i < size; i++)
		payload[i] = (uint8_t)"ZT-ECHO-PAYLOAD-"[i % 16];
	p = ping_slot(d);
	if (!p) {
		zt_http_resp_error(resp, 429, NULL, "too many pings in flight (%d)", ZTD_MAX_PINGS);
		return 0;
	}
	memset(p, 0, sizeof(*p));
	p->id = ++d->next_ping_id;
	p->peer = address;
	p->sent_ms = now;
	p->state = ZTD_PING_PENDING;
	err = zt_node_echo(d->node, address, p->id, payload, size, now);
	if (err < 0 && err != ZT_EAGAIN) {
		p->state = ZTD_PING_FREE;
		zt_http_resp_error(resp, 400, "address", "cannot send: %s", zt_strerror(err));
		return 0;
	}
	zt_http_resp_json(resp, 202, json_pack("{s:I}", "id", (json_int_t)p->id));
	return 0;
}

static const char *ping_state_name(enum ztd_ping_state s)
{
	switch (s) {
	case ZTD_PING_PENDING: return "pending";
	case ZTD_PING_REPLIED: return "replied";
	case ZTD_PING_TIMEOUT: return "timeout";
	case ZTD_PING_FREE: break;
	}
	return "unknown";
}

static int h_ping_get(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	const char *text = zt_http_req_param(req, "id");
	char *end, a[11];
	unsigned long id = text ? strtoul(text, &end, 10) : 0;

	if (!text || *end || id == 0 || id > UINT32_MAX) {
		zt_http_resp_error(resp, 400, "id", "not a ping id");
		return 0;
	}
	for (unsigned i = 0; i < ZTD_MAX_PINGS; i++) {
		struct ztd_ping *p = &d->pings[i];
		if (p->state == ZTD_PING_FREE || p->id != id)
			continue;
		zt_address_format(a, p->peer);
		zt_http_resp_json(resp, 200,
				  json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)p->id, "address", a, "state",
					    ping_state_name(p->state), "rtt_ms",
					    p->state == ZTD_PING_REPLIED ? json_integer((json_int_t)p->rtt_ms)
									 : json_null(),
					    "link",
					    p->state == ZTD_PING_REPLIED ? json_string(zt_link_name(p->link))
									 : json_null()));
		return 0;
	}
	zt_http_resp_error(resp, 404, "id", "no such ping (finished pings are kept while there is room)");
	return 0;
}

void ztd_ping_reply(struct ztd *d, uint64_t peer, uint32_t id, uint64_t rtt_ms, enum zt_link link)
{
	for (unsigned i = 0; i < ZTD_MAX_PINGS; i++) {
		struct ztd_ping *p = &d->pings[i];
		if (p->state != ZTD_PING_PENDING || p->id != id || p->peer != peer)
			continue;
		p->state = ZTD_PING_REPLIED;
		p->rtt_ms = rtt_ms;
		p->link = link;
		return;
	}
}

int ztd_api_node_register(struct ztd *d)
{
	int err = 0;

	err = err ? err : zt_httpd_route(d->httpd, "GET", "/status", h_status, d);
	err = err ? err : zt_httpd_route(d->httpd, "GET", "/peers", h_peers, d);
	err = err ? err : zt_httpd_route(d->httpd, "GET", "/peer/{address}", h_peer, d);
	err = err ? err : zt_httpd_route(d->httpd, "POST", "/ping/{address}", h_ping_start, d);
	err = err ? err : zt_httpd_route(d->httpd, "GET", "/ping/{id}", h_ping_get, d);
	return err;
}
