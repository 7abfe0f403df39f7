/*
 * networks.c - ztd's VL2 glue: one port (a Linux TAP, plus optionally a NIC
 * through libpcap) per joined network, configs applied to it (MTU, addresses,
 * routes, up/down), its multicast groups fed back to VL2, joined networks
 * persisted in HOME/networks/, and the /network part of the local API. After
 * a restart a TAP comes up once sessions with the network's cached members
 * are (HOME/peers.cache, peer_cache.c), within ZT_RESTART_PORT_WAIT_MS.
 */
#include "service/ztd.h"
#include "crypto.h"
#include "osdep/netif.h"
#include "osdep/os.h"
#include "tap/linux_tap.h"
#include "tap/pcap_port.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------- helpers ---------- */

static struct ztd_net *net_slot(struct ztd *d, uint64_t nwid, bool create)
{
	struct ztd_net *free_slot = NULL;

	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		if (d->nets[i].nwid == nwid)
			return &d->nets[i];
		if (!d->nets[i].nwid && !free_slot)
			free_slot = &d->nets[i];
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->d = d;
	free_slot->nwid = nwid;
	return free_slot;
}

/* Stable default interface name: "zt" + 10 hex digits of a hash of the network ID. */
static void default_ifname(char out[ZT_PORT_NAME_MAX], uint64_t nwid)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 8; i++)
		h = (h ^ (uint8_t)(nwid >> (8 * i))) * 1099511628211ULL;
	snprintf(out, ZT_PORT_NAME_MAX, "zt%010" PRIx64, (uint64_t)(h & 0xffffffffffULL));
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= ZT_PORT_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static void net_path(const struct ztd *d, uint64_t nwid, char *out, size_t len)
{
	snprintf(out, len, "%s/networks/%016" PRIx64 ".conf", d->cfg.home, nwid);
}

static void persist(struct ztd *d, const struct ztd_net *n)
{
	char path[700], text[128];

	snprintf(path, sizeof(path), "%s/networks", d->cfg.home);
	zt_os_mkdirs(path, 0700);
	net_path(d, n->nwid, path, sizeof(path));
	snprintf(text, sizeof(text), "ifname=%s\nbridge=%s\n", n->ifname, n->bridge_if);
	if (zt_os_write_file_atomic(path, text, strlen(text), 0600) < 0)
		zt_log(ZT_LOG_WARN, "network %016" PRIx64 ": cannot save %s: %s", n->nwid, path, strerror(errno));
}

/* ---------- ports ---------- */

static void on_port(void *ctx, int fd, unsigned events);

static int port_attach(struct ztd *d, struct ztd_net *n, struct zt_port *p)
{
	return zt_loop_add_fd(d->loop, zt_port_fd(p), ZT_LOOP_IN, on_port, n);
}

static void port_close(struct ztd *d, struct zt_port **p)
{
	if (!*p)
		return;
	zt_loop_del_fd(d->loop, zt_port_fd(*p));
	zt_port_close(*p);
	*p = NULL;
}

static void on_port(void *ctx, int fd, unsigned events)
{
	struct ztd_net *n = ctx;
	struct ztd *d = n->d;
	uint64_t now = zt_os_now_ms();

	(void)events;
	for (int round = 0; round < 4; round++) {
		struct zt_port *src = n->port && zt_port_fd(n->port) == fd ? n->port : n->bridge;
		struct zt_port *other = src == n->port ? n->bridge : n->port;
		int count;

		if (!src)
			return;
		count = zt_port_read_batch(src, d->frames, ZT_PORT_BATCH_MAX);
		if (count <= 0)
			break;
		for (int i = 0; i < count; i++) {
			zt_vl2_frame_from_port(d->vl2, n->nwid, d->frames[i].data, d->frames[i].len, now);
			/* Way (b): the TAP and the NIC share the member's port; flood between them. */
			if (other)
				zt_port_write(other, d->frames[i].data, d->frames[i].len);
		}
		if (count < ZT_PORT_BATCH_MAX)
			break;
	}
}

static void vl2_deliver(void *ctx, uint64_t nwid, const uint8_t *frame, size_t len)
{
	struct ztd *d = ctx;
	struct ztd_net *n = net_slot(d, nwid, false);

	if (!n)
		return;
	if (n->port)
		zt_port_write(n->port, frame, len);
	if (n->bridge)
		zt_port_write(n->bridge, frame, len);
}

static void to_prefix(struct zt_port_prefix *p, const struct zt_netconf_ip *ip)
{
	memset(p, 0, sizeof(*p));
	p->ip.family = ip->family;
	memcpy(p->ip.addr, ip->addr, 16);
	p->bits = ip->prefix_len;
}

static bool prefix_eq(const struct zt_port_prefix *a, const struct zt_port_prefix *b)
{
	return a->ip.family == b->ip.family && a->bits == b->bits && memcmp(a->ip.addr, b->ip.addr, 16) == 0;
}

static void remove_all(struct ztd_net *n)
{
	for (unsigned i = 0; i < n->n_routes; i++)
		zt_port_route_del(n->port, &n->routes[i], n->via_set[i] ? &n->vias[i] : NULL);
	for (unsigned i = 0; i < n->n_addrs; i++)
		zt_port_addr_del(n->port, &n->addrs[i]);
	n->n_routes = 0;
	n->n_addrs = 0;
}

static void apply_addresses(struct ztd_net *n, const struct zt_netconf *c)
{
	struct zt_port_prefix want[ZT_NETCONF_IPS_MAX];
	unsigned n_want = 0;

	for (unsigned i = 0; i < c->n_ips && i < ZT_NETCONF_IPS_MAX; i++)
		to_prefix(&want[n_want++], &c->ips[i]);
	for (unsigned i = 0; i < n->n_addrs; i++) {
		bool keep = false;
		for (unsigned k = 0; k < n_want; k++)
			keep = keep || prefix_eq(&n->addrs[i], &want[k]);
		if (!keep)
			zt_port_addr_del(n->port, &n->addrs[i]);
	}
	for (unsigned k = 0; k < n_want; k++) {
		bool have = false;
		for (unsigned i = 0; i < n->n_addrs; i++)
			have = have || prefix_eq(&n->addrs[i], &want[k]);
		if (!have && zt_port_addr_add(n->port, &want[k]) < 0)
			zt_log(ZT_LOG_WARN, "network %016" PRIx64 ": cannot add an address to %s", n->nwid, n->port->name);
	}
	memcpy(n->addrs, want, sizeof(want[0]) * n_want);
	n->n_addrs = n_want;
}

static void apply_routes(struct ztd_net *n, const struct zt_netconf *c)
{
	/* Routes are few and change rarely: replace the set. Routes equal to an
	 * assigned address's own subnet are the kernel's already. */
	for (unsigned i = 0; i < n->n_routes; i++)
		zt_port_route_del(n->port, &n->routes[i], n->via_set[i] ? &n->vias[i] : NULL);
	n->n_routes = 0;
	for (unsigned i = 0; i < c->n_routes && n->n_routes < ZT_NETCONF_ROUTES_MAX; i++) {
		const struct zt_netconf_route *r = &c->routes[i];
		struct zt_port_prefix *t = &n->routes[n->n_routes];
		bool on_link = false;

		to_prefix(t, &r->target);
		for (unsigned k = 0; k < c->n_ips && !r->via_family; k++) {
			const struct zt_netconf_ip *ip = &c->ips[k];
			unsigned bits = ip->prefix_len, full = bits / 8;
			on_link = on_link || (ip->family == r->target.family && bits == r->target.prefix_len &&
					      memcmp(ip->addr, r->target.addr, full) == 0 &&
					      (bits % 8 == 0 ||
					       ((ip->addr[full] ^ r->target.addr[full]) & (0xff << (8 - bits % 8))) == 0));
		}
		if (on_link)
			continue;
		n->via_set[n->n_routes] = r->via_family != 0;
		memset(&n->vias[n->n_routes], 0, sizeof(n->vias[0]));
		n->vias[n->n_routes].family = r->via_family;
		memcpy(n->vias[n->n_routes].addr, r->via, 16);
		if (zt_port_route_add(n->port, t, n->via_set[n->n_routes] ? &n->vias[n->n_routes] : NULL) < 0)
			zt_log(ZT_LOG_WARN, "network %016" PRIx64 ": cannot add a route on %s", n->nwid, n->port->name);
		n->n_routes++;
	}
}

static int ensure_port(struct ztd *d, struct ztd_net *n, const struct zt_net_info *ni)
{
	struct zt_tap_config tc = {.name = n->ifname, .mtu_bytes = ni->conf->mtu};
	int err;

	if (n->port)
		return 0;
	memcpy(tc.mac.b, ni->mac, 6);
	err = zt_tap_open(&tc, &n->port);
	if (err) {
		zt_log(ZT_LOG_ERROR, "network %016" PRIx64 ": cannot create interface %s: %s", n->nwid, n->ifname,
		       zt_strerror(err));
		return err;
	}
	err = port_attach(d, n, n->port);
	if (err) {
		port_close(d, &n->port);
		return err;
	}
	zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": interface %s created", n->nwid, n->port->name);
	return 0;
}

/*
 * Keys are not persisted: a frame a peer seals under the session of our last
 * run can never be opened. So a TAP stays down until every member cached from
 * the last run has a session with us and a verified certificate, or until
 * ZT_RESTART_PORT_WAIT_MS after start; then the first frame each way passes.
 */
static bool port_ready(const struct ztd *d, const struct ztd_net *n, uint64_t now_ms)
{
	if (now_ms - d->started_ms >= ZT_RESTART_PORT_WAIT_MS)
		return true;
	for (unsigned i = 0; i < d->n_cached; i++) {
		const struct ztd_cached_member *c = &d->cached[i];
		if (c->nwid != n->nwid)
			continue;
		if (zt_node_session_age_ms(d->node, c->address, now_ms) < 0 ||
		    !zt_vl2_member_verified(d->vl2, n->nwid, c->address))
			return false;
	}
	return true;
}

static void port_up(struct ztd *d, struct ztd_net *n, const struct zt_net_info *ni, uint64_t now_ms)
{
	if (!n->up) {
		zt_port_set_up(n->port, true);
		n->up = true;
		if (n->waiting)
			zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": %s up %" PRIu64 " ms after start (sessions with cached members %s)",
			       n->nwid, n->port->name, now_ms - d->started_ms,
			       now_ms - d->started_ms >= ZT_RESTART_PORT_WAIT_MS ? "not all up" : "up");
		n->waiting = false;
	}
	apply_addresses(n, ni->conf);
	apply_routes(n, ni->conf);
	n->next_poll_ms = 0;
	d->next_local_refresh_ms = 0; /* our own addresses changed: re-read them before the next wait */
}

static void vl2_changed(void *ctx, uint64_t nwid)
{
	struct ztd *d = ctx;
	struct ztd_net *n = net_slot(d, nwid, false);
	struct zt_net_info ni;
	uint64_t now = zt_os_now_ms();

	if (!n || zt_vl2_info(d->vl2, nwid, &ni) < 0)
		return;
	if (ni.status != ZT_NET_OK || !ni.conf) {
		n->waiting = false;
		if (n->port && n->up) {
			remove_all(n);
			zt_port_set_up(n->port, false);
			n->up = false;
			zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": %s is down (%s)", nwid, n->port->name,
			       zt_net_status_name(ni.status));
		}
		return;
	}
	if (ensure_port(d, n, &ni) < 0)
		return;
	if (n->port->mtu_bytes != ni.conf->mtu)
		zt_port_set_mtu(n->port, ni.conf->mtu);
	if (!n->up && !port_ready(d, n, now)) {
		n->waiting = true; /* ztd_networks_tick brings it up */
		return;
	}
	port_up(d, n, &ni, now);
}

static void tick_waiting(struct ztd *d, struct ztd_net *n, uint64_t now_ms)
{
	struct zt_net_info ni;

	if (!n->waiting || !port_ready(d, n, now_ms))
		return;
	if (zt_vl2_info(d->vl2, n->nwid, &ni) < 0 || ni.status != ZT_NET_OK || !ni.conf || !n->port) {
		n->waiting = false;
		return;
	}
	port_up(d, n, &ni, now_ms);
}

bool ztd_networks_waiting(const struct ztd *d)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		if (d->nets[i].nwid && d->nets[i].waiting)
			return true;
	return false;
}

/* The node's session hook: VL2 sends our certificates first on a new session. */
static void on_session(void *ctx, uint64_t peer, uint64_t now_ms)
{
	struct ztd *d = ctx;

	if (d->vl2)
		zt_vl2_session_up(d->vl2, peer, now_ms);
}

static int vl2_controller(void *ctx, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			  struct zt_vl2_answer *ans)
{
	return ztd_controller_answer(ctx, nwid, member, now_ms, ans);
}

/* The port's multicast groups and IPv4 addresses, for VL2's subscriptions. */
static void poll_port(struct ztd *d, struct ztd_net *n, uint64_t now_ms)
{
	struct zt_port_mac macs[ZT_PORT_MCAST_MAX];
	struct zt_netif_addr addrs[32];
	uint8_t mac_bytes[ZT_PORT_MCAST_MAX][6];
	uint32_t v4[32];
	size_t n_macs = 0, n_addrs = 0;
	unsigned n_v4 = 0;

	n->next_poll_ms = now_ms + ZTD_PORT_POLL_MS;
	if (!n->port || !n->up)
		return;
	if (zt_port_multicast_list(n->port, macs, ZT_PORT_MCAST_MAX, &n_macs) < 0)
		n_macs = 0;
	for (size_t i = 0; i < n_macs; i++)
		memcpy(mac_bytes[i], macs[i].b, 6);
	zt_netif_list_on(&n->port->ifindex, 1, addrs, ZT_ARRAY_LEN(addrs), &n_addrs);
	for (size_t i = 0; i < n_addrs && n_v4 < ZT_ARRAY_LEN(v4); i++) {
		if (addrs[i].addr.family != 4)
			continue;
		v4[n_v4++] = (uint32_t)addrs[i].addr.addr[0] << 24 | addrs[i].addr.addr[1] << 16 |
			     addrs[i].addr.addr[2] << 8 | addrs[i].addr.addr[3];
	}
	zt_vl2_set_port_state(d->vl2, n->nwid, (const uint8_t(*)[6])mac_bytes, (unsigned)n_macs, v4, n_v4, now_ms);
}

void ztd_networks_tick(struct ztd *d, uint64_t now_ms)
{
	zt_vl2_tick(d->vl2, now_ms);
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		if (d->nets[i].nwid)
			tick_waiting(d, &d->nets[i], now_ms);
		if (d->nets[i].nwid && now_ms >= d->nets[i].next_poll_ms)
			poll_port(d, &d->nets[i], now_ms);
	}
}

/* ---------- join / leave / bridge ---------- */

static int attach_bridge(struct ztd *d, struct ztd_net *n, const char *ifname)
{
	int err = zt_pcap_port_open(ifname, &n->bridge);

	if (err) {
		zt_log(ZT_LOG_ERROR, "network %016" PRIx64 ": cannot attach %s with libpcap: %s", n->nwid, ifname,
		       zt_strerror(err));
		return err;
	}
	err = port_attach(d, n, n->bridge);
	if (err) {
		port_close(d, &n->bridge);
		return err;
	}
	snprintf(n->bridge_if, sizeof(n->bridge_if), "%s", ifname);
	zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": bridging %s through libpcap", n->nwid, ifname);
	return 0;
}

static int join(struct ztd *d, uint64_t nwid, const char *ifname, const char *bridge_if, bool save)
{
	struct ztd_net *n = net_slot(d, nwid, false);
	int err;

	if (n)
		return ZT_EEXIST;
	n = net_slot(d, nwid, true);
	if (!n)
		return ZT_ETOOBIG;
	if (ifname && ifname[0])
		snprintf(n->ifname, sizeof(n->ifname), "%s", ifname);
	else
		default_ifname(n->ifname, nwid);
	err = zt_vl2_join(d->vl2, nwid, zt_os_now_ms());
	if (err) {
		n->nwid = 0;
		return err;
	}
	if (bridge_if && bridge_if[0])
		attach_bridge(d, n, bridge_if);
	if (save)
		persist(d, n);
	zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": joining (interface %s once configured)", nwid, n->ifname);
	return 0;
}

static void forget(struct ztd *d, struct ztd_net *n, bool unsave)
{
	char path[700];

	if (n->port)
		remove_all(n);
	port_close(d, &n->port);
	port_close(d, &n->bridge);
	zt_vl2_leave(d->vl2, n->nwid);
	if (unsave) {
		net_path(d, n->nwid, path, sizeof(path));
		unlink(path);
	}
	memset(n, 0, sizeof(*n));
}

static void load_saved(struct ztd *d)
{
	char dir[600], path[900];
	struct dirent *e;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/networks", d->cfg.home);
	dh = opendir(dir);
	if (!dh)
		return;
	while ((e = readdir(dh)) != NULL) {
		char *text, ifname[ZT_PORT_NAME_MAX] = "", bridge[ZT_PORT_NAME_MAX] = "", *line, *save = NULL;
		uint64_t nwid;
		size_t len;

		if (strlen(e->d_name) != 21 || strcmp(e->d_name + 16, ".conf") != 0 ||
		    sscanf(e->d_name, "%16" SCNx64, &nwid) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (zt_os_read_file(path, 4096, &text, &len) < 0)
			continue;
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, "ifname=", 7) == 0 && ifname_ok(line + 7))
				snprintf(ifname, sizeof(ifname), "%s", line + 7);
			else if (strncmp(line, "bridge=", 7) == 0 && ifname_ok(line + 7))
				snprintf(bridge, sizeof(bridge), "%s", line + 7);
		}
		free(text);
		if (join(d, nwid, ifname, bridge, false) == 0)
			zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": rejoined after restart", nwid);
	}
	closedir(dh);
}

int ztd_networks_start(struct ztd *d)
{
	struct zt_vl2_callbacks cb = {
		.ctx = d,
		.deliver = vl2_deliver,
		.changed = vl2_changed,
		.controller_request = d->cfg.controller ? vl2_controller : NULL,
	};
	int err;

	for (unsigned i = 0; i < ZT_PORT_BATCH_MAX; i++) {
		d->frames[i].data = malloc(ZT_PORT_FRAME_MAX);
		d->frames[i].cap = ZT_PORT_FRAME_MAX;
		if (!d->frames[i].data)
			return ZT_ENOMEM;
	}
	err = zt_vl2_new(&d->vl2, d->node, &cb);
	if (err)
		return err;
	zt_node_set_session_hook(d->node, on_session, d);
	load_saved(d);
	return 0;
}

void ztd_networks_stop(struct ztd *d)
{
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++) {
		struct ztd_net *n = &d->nets[i];
		if (!n->nwid)
			continue;
		port_close(d, &n->port);
		port_close(d, &n->bridge);
	}
	zt_node_set_session_hook(d->node, NULL, NULL);
	zt_vl2_free(d->vl2);
	d->vl2 = NULL;
	for (unsigned i = 0; i < ZT_PORT_BATCH_MAX; i++)
		free(d->frames[i].data);
}

/* ---------- API ---------- */

static json_t *prefix_json(const struct zt_netconf_ip *ip)
{
	struct zt_port_prefix p;
	char text[64];

	to_prefix(&p, ip);
	if (zt_port_prefix_format(&p, text, sizeof(text)) < 0)
		return json_null();
	return json_string(text);
}

static json_t *network_json(struct ztd *d, const struct ztd_net *n)
{
	struct zt_net_info ni;
	char id[17], mac[18];
	json_t *o, *addrs = json_array(), *routes = json_array();

	snprintf(id, sizeof(id), "%016" PRIx64, n->nwid);
	if (zt_vl2_info(d->vl2, n->nwid, &ni) < 0)
		return json_pack("{s:s}", "id", id);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3],
		 ni.mac[4], ni.mac[5]);
	for (unsigned i = 0; ni.conf && i < ni.conf->n_ips; i++)
		json_array_append_new(addrs, prefix_json(&ni.conf->ips[i]));
	for (unsigned i = 0; ni.conf && i < ni.conf->n_routes; i++) {
		const struct zt_netconf_route *r = &ni.conf->routes[i];
		struct zt_netconf_ip via = {.family = r->via_family, .prefix_len = r->via_family == 4 ? 32 : 128};
		memcpy(via.addr, r->via, 16);
		json_array_append_new(routes, json_pack("{s:o, s:o}", "target", prefix_json(&r->target), "via",
							r->via_family ? prefix_json(&via) : json_null()));
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:i, s:i, s:o}", "id", id, "name",
		      ni.conf ? ni.conf->name : "", "status", zt_net_status_name(ni.status), "reason", ni.reason,
		      "interface", n->port ? n->port->name : n->ifname, "mac", mac, "addresses", addrs, "routes",
		      routes, "bridge", ni.bridge, "mtu", ni.conf ? ni.conf->mtu : 0, "members_seen", ni.members_seen,
		      "bridged_interface", n->bridge_if[0] ? json_string(n->bridge_if) : json_null());
	json_object_set_new(o, "revision", json_integer(ni.conf ? (json_int_t)ni.conf->revision : 0));
	json_object_set_new(o, "stats",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "drop_rules_out",
				      (json_int_t)ni.stats.drop_rules_out, "drop_rules_in",
				      (json_int_t)ni.stats.drop_rules_in, "rules_copies", (json_int_t)ni.stats.rules_copies,
				      "tx_frames",
				      (json_int_t)ni.stats.tx_frames, "rx_frames", (json_int_t)ni.stats.rx_frames,
				      "multicast_limited", (json_int_t)ni.stats.multicast_limited, "drop_no_com",
				      (json_int_t)ni.stats.drop_no_com, "drop_bad_com",
				      (json_int_t)ni.stats.drop_bad_com, "drop_foreign_mac",
				      (json_int_t)ni.stats.drop_foreign_mac, "drop_rate", (json_int_t)ni.stats.drop_rate,
				      "drop_queue", (json_int_t)ni.stats.drop_queue, "drop_not_member",
				      (json_int_t)ni.stats.drop_not_member));
	return o;
}

static bool param_nwid(const struct zt_http_req *req, struct zt_http_resp *resp, uint64_t *nwid)
{
	const char *t = zt_http_req_param(req, "nwid");
	char *end;

	if (!t || strlen(t) != 16) {
		zt_http_resp_error(resp, 400, "nwid", "a network ID is 16 hex digits");
		return false;
	}
	*nwid = strtoull(t, &end, 16);
	if (*end || zt_address_reserved(*nwid >> 24)) {
		zt_http_resp_error(resp, 400, "nwid", "a network ID is 16 hex digits and starts with a controller address");
		return false;
	}
	return true;
}

/* The joined network named by {nwid}, or NULL with the 400/404 already set. */
static struct ztd_net *joined_net(struct ztd *d, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd_net *n;
	uint64_t nwid;

	if (!param_nwid(req, resp, &nwid))
		return NULL;
	n = net_slot(d, nwid, false);
	if (!n)
		zt_http_resp_error(resp, 404, "nwid", "not joined");
	return n;
}

static int h_list(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	json_t *arr = json_array();

	(void)req;
	for (unsigned i = 0; i < ZT_MAX_NETWORKS; i++)
		if (d->nets[i].nwid)
			json_array_append_new(arr, network_json(d, &d->nets[i]));
	zt_http_resp_json(resp, 200, arr);
	return 0;
}

static int h_get(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	struct ztd_net *n = joined_net(d, req, resp);

	if (n)
		zt_http_resp_json(resp, 200, network_json(d, n));
	return 0;
}

static int h_join(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	const char *ifname = NULL;
	json_t *body = NULL, *v;
	uint64_t nwid;
	int err;

	if (!param_nwid(req, resp, &nwid))
		return 0;
	if (req->body_len > 0) {
		if (zt_http_req_json(req, resp, &body) < 0)
			return 0;
		v = json_object_get(body, "ifname");
		if (v && (!json_is_string(v) || !ifname_ok(json_string_value(v)))) {
			json_decref(body);
			zt_http_resp_error(resp, 400, "ifname", "an interface name is 1..15 of [A-Za-z0-9._-]");
			return 0;
		}
		ifname = v ? json_string_value(v) : NULL;
	}
	err = join(d, nwid, ifname, NULL, true);
	json_decref(body);
	if (err == ZT_EEXIST) {
		zt_http_resp_json(resp, 200, network_json(d, net_slot(d, nwid, false)));
		return 0;
	}
	if (err) {
		zt_http_resp_error(resp, err == ZT_ETOOBIG ? 409 : 400, "nwid", "cannot join: %s", zt_strerror(err));
		return 0;
	}
	zt_http_resp_json(resp, 201, network_json(d, net_slot(d, nwid, false)));
	return 0;
}

static int h_leave(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	struct ztd_net *n = joined_net(d, req, resp);
	uint64_t nwid;

	if (!n)
		return 0;
	nwid = n->nwid;
	forget(d, n, true);
	zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": left", nwid);
	zt_http_resp_json(resp, 200, json_pack("{s:b}", "left", 1));
	return 0;
}

static int h_bridge(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	struct ztd_net *n = joined_net(d, req, resp);
	json_t *body = NULL;
	const char *ifname;

	if (!n)
		return 0;
	if (zt_http_req_json(req, resp, &body) < 0)
		return 0;
	ifname = json_string_value(json_object_get(body, "ifname"));
	if (!ifname || !ifname_ok(ifname)) {
		json_decref(body);
		zt_http_resp_error(resp, 400, "ifname", "an interface name is 1..15 of [A-Za-z0-9._-]");
		return 0;
	}
	if (n->bridge)
		port_close(d, &n->bridge);
	if (attach_bridge(d, n, ifname) < 0) {
		json_decref(body);
		zt_http_resp_error(resp, 400, "ifname", "cannot capture on %s (does it exist? see ztd's log)", ifname);
		return 0;
	}
	json_decref(body);
	persist(d, n);
	zt_http_resp_json(resp, 200, network_json(d, n));
	return 0;
}

/* GET /network/{nwid}/rules: decompiled text, and each rule with its line and counters. */
static int h_rules(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	const struct zt_rules_counter *counters;
	const struct zt_rules *prog;
	json_t *rules, *o;
	char *text;
	size_t len;
	uint64_t nwid;

	if (!param_nwid(req, resp, &nwid))
		return 0;
	if (zt_vl2_rules(d->vl2, nwid, &prog, &counters) < 0) {
		zt_http_resp_error(resp, 404, "nwid", "not joined");
		return 0;
	}
	if (!prog) {
		zt_http_resp_json(resp, 200, json_pack("{s:b, s:s, s:[]}", "has_rules", 0, "source",
						       "# no rules: every frame is accepted\n", "rules"));
		return 0;
	}
	text = malloc(ZT_RULES_MAX_TEXT);
	if (!text || zt_rules_decompile(prog, text, ZT_RULES_MAX_TEXT, &len) < 0) {
		free(text);
		zt_http_resp_error(resp, 500, NULL, "cannot decompile the network's rules");
		return 0;
	}
	rules = json_array();
	for (unsigned i = 0; i < prog->rule_count; i++) {
		char one[1024];
		int cap = zt_rules_rule_cap(prog, i);
		if (zt_rules_rule_text(prog, i, one, sizeof(one)) < 0)
			snprintf(one, sizeof(one), "?");
		json_array_append_new(rules, json_pack("{s:i, s:i, s:s, s:o, s:I, s:I}", "index", i, "line",
						       (int)prog->rule_line[i], "text", one, "capability",
						       cap >= 0 ? json_string(prog->cap[cap].name) : json_null(),
						       "inbound", (json_int_t)counters[i].inbound, "outbound",
						       (json_int_t)counters[i].outbound));
	}
	o = json_pack("{s:b, s:s#, s:o, s:{s:I, s:I}}", "has_rules", 1, "source", text, len, "rules", rules,
		      "default_drop", "inbound", (json_int_t)counters[prog->rule_count].inbound, "outbound",
		      (json_int_t)counters[prog->rule_count].outbound);
	free(text);
	zt_http_resp_json(resp, 200, o);
	return 0;
}

/* POST /network/{nwid}/rules/trace {"lines": N, "seconds": S}: trace the next decisions. */
static int h_trace_start(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	json_int_t lines = 100, secs = 30;
	json_t *body = NULL;
	uint64_t nwid;

	if (!param_nwid(req, resp, &nwid))
		return 0;
	if (req->body_len > 0) {
		if (zt_http_req_json(req, resp, &body) < 0)
			return 0;
		if (json_is_integer(json_object_get(body, "lines")))
			lines = json_integer_value(json_object_get(body, "lines"));
		if (json_is_integer(json_object_get(body, "seconds")))
			secs = json_integer_value(json_object_get(body, "seconds"));
		json_decref(body);
	}
	if (lines < 1 || lines > ZT_NET_TRACE_LINES || secs < 1 || secs > ZT_NET_TRACE_MAX_MS / 1000) {
		zt_http_resp_error(resp, 400, "lines", "lines must be 1..%d and seconds 1..%d", ZT_NET_TRACE_LINES,
				   ZT_NET_TRACE_MAX_MS / 1000);
		return 0;
	}
	if (zt_vl2_trace_start(d->vl2, nwid, (unsigned)lines, zt_os_now_ms() + (uint64_t)secs * 1000) < 0) {
		zt_http_resp_error(resp, 404, "nwid", "not joined");
		return 0;
	}
	zt_http_resp_json(resp, 200, json_pack("{s:I, s:I}", "lines", lines, "seconds", secs));
	return 0;
}

static void trace_collect(void *ctx, uint64_t seq, const char *line)
{
	json_array_append_new(ctx, json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "line", line));
}

static int h_trace_read(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	const char *after_text = zt_http_req_query(req, "after");
	uint64_t nwid, after = after_text ? strtoull(after_text, NULL, 10) : 0;
	json_t *arr;

	if (!param_nwid(req, resp, &nwid))
		return 0;
	arr = json_array();
	if (zt_vl2_trace_read(d->vl2, nwid, after, trace_collect, arr) < 0) {
		json_decref(arr);
		zt_http_resp_error(resp, 404, "nwid", "not joined");
		return 0;
	}
	zt_http_resp_json(resp, 200, arr);
	return 0;
}

int ztd_api_networks_register(struct ztd *d)
{
	int err = 0;

	err = err ? err : zt_httpd_route(d->httpd, "GET", "/network", h_list, d);
	err = err ? err : zt_httpd_route(d->httpd, "GET", "/network/{nwid}", h_get, d);
	err = err ? err : zt_httpd_route(d->httpd, "POST", "/network/{nwid}", h_join, d);
	err = err ? err : zt_httpd_route(d->httpd, "DELETE", "/network/{nwid}", h_leave, d);
	err = err ? err : zt_httpd_route(d->httpd, "POST", "/network/{nwid}/bridge", h_bridge, d);
	err = err ? err : zt_httpd_route(d->httpd, "GET", "/network/{nwid}/rules", h_rules, d);
	err = err ? err : zt_httpd_route(d->httpd, "POST", "/network/{nwid}/rules/trace", h_trace_start, d);
	err = err ? err : zt_httpd_route(d->httpd, "GET", "/network/{nwid}/rules/trace", h_trace_read, d);
	return err;
}
