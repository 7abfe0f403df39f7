/*
 * config_build.c - a member's config (struct zt_netconf, unsigned) built
 * from the network and member documents: routes, addresses with their
 * prefixes, DNS, tags, capabilities and the rules blob. No store, no
 * signing (config_request.c signs).
 */
#include "ctl_int.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ip_to_nc(struct zt_netconf_ip *out, const struct zt_ctl_ip *ip, uint8_t prefix_len)
{
	memset(out, 0, sizeof(*out));
	out->family = ip->family;
	memcpy(out->addr, ip->addr, ip->family == 4 ? 4 : 16);
	out->prefix_len = prefix_len;
}

static void build_routes(struct zt_netconf *nc, const json_t *network)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(network, "routes"), i, r) {
		struct zt_netconf_route *rt = &nc->routes[nc->n_routes];
		struct zt_ctl_ip target, via;
		uint8_t prefix;
		if (nc->n_routes >= ZT_NETCONF_ROUTES_MAX ||
		    zt_ctl_cidr_parse(&target, &prefix, zt_ctl_doc_str(r, "target")) != 0)
			continue;
		memset(rt, 0, sizeof(*rt));
		ip_to_nc(&rt->target, &target, prefix);
		if (zt_ctl_ip_parse(&via, json_string_value(json_object_get(r, "via"))) == 0 &&
		    via.family == target.family) {
			rt->via_family = via.family;
			memcpy(rt->via, via.addr, via.family == 4 ? 4 : 16);
		}
		nc->n_routes++;
	}
}

/* An assigned address takes the prefix of the most specific on-link route that holds it. */
static uint8_t prefix_for(const struct zt_netconf *nc, const struct zt_ctl_ip *ip)
{
	int best = -1;

	for (size_t i = 0; i < nc->n_routes; i++) {
		const struct zt_netconf_route *r = &nc->routes[i];
		struct zt_ctl_ip net = {.family = r->target.family};
		memcpy(net.addr, r->target.addr, 16);
		if (r->via_family == 0 && zt_ctl_ip_in_prefix(ip, &net, r->target.prefix_len) &&
		    (int)r->target.prefix_len > best)
			best = r->target.prefix_len;
	}
	return best >= 0 ? (uint8_t)best : (uint8_t)(ip->family == 4 ? 32 : 128);
}

static void build_ips(struct zt_netconf *nc, const json_t *member)
{
	size_t i;
	json_t *s;

	json_array_foreach(json_object_get(member, "ip_assignments"), i, s) {
		struct zt_ctl_ip ip;
		if (nc->n_ips >= ZT_NETCONF_IPS_MAX || zt_ctl_ip_parse(&ip, json_string_value(s)) != 0)
			continue;
		ip_to_nc(&nc->ips[nc->n_ips++], &ip, prefix_for(nc, &ip));
	}
}

static void build_dns(struct zt_netconf *nc, const json_t *network)
{
	const json_t *dns = json_object_get(network, "dns");
	size_t i;
	json_t *s;

	snprintf(nc->dns_domain, sizeof(nc->dns_domain), "%s", zt_ctl_doc_str(dns, "domain"));
	json_array_foreach(json_object_get(dns, "servers"), i, s) {
		struct zt_ctl_ip ip;
		if (nc->n_dns_servers >= ZT_NETCONF_DNS_SERVERS_MAX || zt_ctl_ip_parse(&ip, json_string_value(s)) != 0)
			continue;
		ip_to_nc(&nc->dns_servers[nc->n_dns_servers++], &ip, ip.family == 4 ? 32 : 128);
	}
}

static int cmp_tag(const void *a, const void *b)
{
	const struct zt_netconf_tag *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_cap(const void *a, const void *b)
{
	const struct zt_netconf_cap *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Tags the network defines: the member's value, else the default; no default, no tag. */
static void build_tags(struct zt_netconf *nc, const json_t *network, const json_t *member)
{
	size_t i, j;
	json_t *d, *t;

	json_array_foreach(json_object_get(network, "tags"), i, d) {
		uint32_t id = (uint32_t)zt_ctl_doc_u64(d, "id");
		const json_t *value = json_object_get(d, "default");
		json_array_foreach(json_object_get(member, "tags"), j, t)
			if (zt_ctl_doc_u64(t, "id") == id)
				value = json_object_get(t, "value");
		if (!json_is_integer(value) || nc->n_tags >= ZT_NETCONF_TAGS_MAX)
			continue;
		nc->tags[nc->n_tags].id = id;
		nc->tags[nc->n_tags++].value = (uint32_t)json_integer_value(value);
	}
	qsort(nc->tags, nc->n_tags, sizeof(nc->tags[0]), cmp_tag);
}

static void build_caps(struct zt_netconf *nc, const json_t *network, const json_t *member)
{
	size_t i, j;
	json_t *d, *id;

	json_array_foreach(json_object_get(network, "capabilities"), i, d) {
		json_array_foreach(json_object_get(member, "capabilities"), j, id) {
			if ((uint64_t)json_integer_value(id) != zt_ctl_doc_u64(d, "id") || nc->n_caps >= ZT_NETCONF_CAPS_MAX)
				continue;
			nc->caps[nc->n_caps].id = (uint32_t)zt_ctl_doc_u64(d, "id");
			snprintf(nc->caps[nc->n_caps].name, sizeof(nc->caps[0].name), "%s", zt_ctl_doc_str(d, "name"));
			nc->n_caps++;
		}
	}
	qsort(nc->caps, nc->n_caps, sizeof(nc->caps[0]), cmp_cap);
}

int zt_ctl_netconf_build(struct zt_ctl *c, const json_t *network, const json_t *member, uint64_t now_ms,
			 struct zt_netconf *nc)
{
	const char *rules = zt_ctl_doc_str(network, "rules");
	uint64_t nwid, addr;
	size_t rules_len = strlen(rules) / 2;

	if (zt_ctl_member_ids(member, &nwid, &addr) != 0 || rules_len > ZT_NETCONF_RULES_MAX)
		return ZT_EINVAL;
	zt_netconf_init(nc, nwid, addr);
	nc->revision = ZT_MAX(zt_ctl_doc_u64(network, "revision"), zt_ctl_doc_u64(member, "revision"));
	nc->issued_ms = now_ms;
	nc->max_delta_ms = c->opt.netconf_max_delta_ms;
	snprintf(nc->name, sizeof(nc->name), "%s", zt_ctl_doc_str(network, "name"));
	nc->is_private = zt_ctl_doc_bool(network, "private");
	nc->enable_broadcast = zt_ctl_doc_bool(network, "enable_broadcast");
	nc->bridge = zt_ctl_doc_bool(member, "bridge");
	nc->mtu = (uint16_t)zt_ctl_doc_u64(network, "mtu");
	nc->multicast_limit = (uint32_t)zt_ctl_doc_u64(network, "multicast_limit");
	build_routes(nc, network);
	build_ips(nc, member);
	build_dns(nc, network);
	build_tags(nc, network, member);
	build_caps(nc, network, member);
	if (rules_len > 0 && zt_hex_decode(nc->rules, rules_len, rules, strlen(rules)) != 0)
		return ZT_EINVAL;
	nc->rules_len = (uint16_t)rules_len;
	return zt_netconf_check(nc);
}
