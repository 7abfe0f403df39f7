/*
 * member.c - what follows from saving or removing a member: address
 * assignment from the pools (unique in the network, stable once given),
 * revisions, authorization events, revocations and change notes; and the
 * member's signed config built from the two documents. The REST API and
 * config requests both go through here; the store is in a transaction.
 */
#include "ctl_int.h"

#include "crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool zt_ctl_member_effective_auth(const json_t *network, const json_t *member)
{
	return !zt_ctl_doc_bool(network, "private") || zt_ctl_doc_bool(member, "authorized");
}

static int cmp_ip(const void *a, const void *b)
{
	return zt_ctl_ip_cmp(a, b);
}

static bool list_has(const json_t *ips, const struct zt_ctl_ip *ip)
{
	struct zt_ctl_ip x;
	size_t i;
	json_t *s;

	json_array_foreach(ips, i, s)
		if (zt_ctl_ip_parse(&x, json_string_value(s)) == 0 && zt_ctl_ip_cmp(&x, ip) == 0)
			return true;
	return false;
}

/* Addresses claimed in the network by members other than this one (old holds its claims). */
static int load_others(struct zt_ctl *c, uint64_t nwid, const json_t *old, struct zt_ctl_ip **out, size_t *n)
{
	const json_t *mine = old ? json_object_get(old, "ip_assignments") : NULL;
	json_t *claims, *s;
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = c->store->ops->ip_claim_list(c->store, nwid, &claims)) != 0)
		return rc;
	/* Room for the member's own list and one pick per family too. */
	*out = calloc(json_array_size(claims) + ZT_NETCONF_IPS_MAX + 2, sizeof(**out));
	if (!*out) {
		json_decref(claims);
		return ZT_ENOMEM;
	}
	json_array_foreach(claims, i, s) {
		struct zt_ctl_ip ip;
		if (zt_ctl_ip_parse(&ip, json_string_value(s)) != 0 || list_has(mine, &ip))
			continue;
		(*out)[(*n)++] = ip;
	}
	json_decref(claims);
	return 0;
}

static bool has_family(const json_t *ips, uint8_t family)
{
	struct zt_ctl_ip x;
	size_t i;
	json_t *s;

	json_array_foreach(ips, i, s)
		if (zt_ctl_ip_parse(&x, json_string_value(s)) == 0 && x.family == family)
			return true;
	return false;
}

bool zt_ctl_member_needs_ips(const json_t *network, const json_t *member)
{
	const json_t *ips = json_object_get(member, "ip_assignments");

	if (!zt_ctl_member_effective_auth(network, member) || json_array_size(ips) >= ZT_NETCONF_IPS_MAX)
		return false;
	return (json_array_size(json_object_get(network, "ipv4_pools")) > 0 && !has_family(ips, 4)) ||
	       (json_array_size(json_object_get(network, "ipv6_pools")) > 0 && !has_family(ips, 6));
}

/* Give an authorized member one address of each family that has pools and it lacks. */
static int assign(json_t *ips, const json_t *network, struct zt_ctl_ip *taken, size_t n_taken)
{
	static const char *const pools[] = {"ipv4_pools", "ipv6_pools"};
	static const uint8_t families[] = {4, 6};

	for (size_t f = 0; f < 2; f++) {
		struct zt_ctl_ip pick;
		char text[ZT_CTL_IP_TEXT_MAX];
		const json_t *p = json_object_get(network, pools[f]);
		if (json_array_size(p) == 0 || has_family(ips, families[f]))
			continue;
		if (json_array_size(ips) >= ZT_NETCONF_IPS_MAX)
			break;
		qsort(taken, n_taken, sizeof(*taken), cmp_ip);
		if (zt_ctl_ip_pick(p, taken, n_taken, &pick) != 0) {
			zt_log(ZT_LOG_WARN, "controller: network %s: IPv%u pools exhausted",
			       zt_ctl_doc_str(network, "id"), families[f]);
			continue;
		}
		zt_ctl_ip_format(&pick, text);
		if (json_array_append_new(ips, json_string(text)) != 0)
			return ZT_ENOMEM;
		taken[n_taken++] = pick;
	}
	return 0;
}

/* Check the member's addresses against the others' and assign missing ones (no store writes). */
static int claim_ips(struct zt_ctl *c, uint64_t nwid, uint64_t member, const json_t *network, const json_t *old,
		     json_t *doc, struct zt_ctl_err *e)
{
	json_t *ips = json_object_get(doc, "ip_assignments");
	struct zt_ctl_ip *taken;
	size_t n_taken, i;
	json_t *s;
	int rc;

	if ((rc = load_others(c, nwid, old, &taken, &n_taken)) != 0)
		return rc;
	json_array_foreach(ips, i, s) {
		struct zt_ctl_ip ip;
		if (zt_ctl_ip_parse(&ip, json_string_value(s)) != 0)
			continue;
		for (size_t j = 0; j < n_taken; j++)
			if (zt_ctl_ip_cmp(&ip, &taken[j]) == 0) {
				free(taken);
				return zt_ctl_fail(e, 400, "ip_assignments", "%s is already assigned to another member",
						   json_string_value(s));
			}
	}
	json_array_foreach(ips, i, s)
		if (zt_ctl_ip_parse(&taken[n_taken], json_string_value(s)) == 0)
			n_taken++;
	rc = 0;
	if (zt_ctl_member_effective_auth(network, doc))
		rc = assign(ips, network, taken, n_taken);
	free(taken);
	if (rc != 0)
		return rc;
	return 0;
}

/* Record the member's addresses as its claims (after the member row exists). */
static int store_claims(struct zt_ctl *c, uint64_t nwid, uint64_t member, const json_t *doc, struct zt_ctl_err *e)
{
	const json_t *ips = json_object_get(doc, "ip_assignments");
	const char *texts[ZT_NETCONF_IPS_MAX];
	size_t i, n = ZT_MIN(json_array_size(ips), (size_t)ZT_NETCONF_IPS_MAX);
	int rc;

	for (i = 0; i < n; i++)
		texts[i] = json_string_value(json_array_get(ips, i));
	rc = c->store->ops->ip_claim_set(c->store, nwid, member, texts, n);
	if (rc == ZT_EEXIST)
		return zt_ctl_fail(e, 400, "ip_assignments", "an address is already assigned to another member");
	return rc;
}

static int ids_of(const json_t *doc, uint64_t *nwid, uint64_t *member)
{
	if (zt_ctl_parse_nwid(zt_ctl_doc_str(doc, "network_id"), nwid) != 0 ||
	    zt_ctl_parse_member(zt_ctl_doc_str(doc, "address"), member) != 0)
		return ZT_EINVAL;
	return 0;
}

int zt_ctl_member_save(struct zt_ctl *c, const json_t *network, const json_t *old, json_t *doc, uint64_t now_ms,
		       struct zt_ctl_err *e)
{
	bool was = old && zt_ctl_doc_bool(old, "authorized");
	bool is = zt_ctl_doc_bool(doc, "authorized");
	uint64_t nwid, member, rev;
	int rc;

	if ((rc = ids_of(doc, &nwid, &member)) != 0)
		return rc;
	if ((rc = claim_ips(c, nwid, member, network, old, doc, e)) != 0)
		return rc;
	if ((rc = zt_ctl_next_revision(c, &rev)) != 0 || (rc = zt_ctl_doc_set_u64(doc, "revision", rev)) != 0)
		return rc;
	if ((rc = c->store->ops->member_put(c->store, nwid, member, doc)) != 0)
		return rc;
	if ((rc = store_claims(c, nwid, member, doc, e)) != 0)
		return rc;
	if (!was && is)
		rc = zt_ctl_emit(c, "member.authorized", network, doc, now_ms);
	else if (was && !is)
		rc = zt_ctl_emit(c, "member.deauthorized", network, doc, now_ms);
	if (rc == 0 && old && zt_ctl_member_effective_auth(network, old) && !zt_ctl_member_effective_auth(network, doc))
		rc = zt_ctl_note_revoke(c, nwid, member, now_ms);
	if (rc == 0)
		rc = zt_ctl_note_change(c, nwid, member);
	return rc;
}

int zt_ctl_member_refresh(struct zt_ctl *c, const json_t *network, json_t *doc, bool dirty, uint64_t now_ms)
{
	struct zt_ctl_err e = {0};
	uint64_t nwid, member, rev;
	size_t before = json_array_size(json_object_get(doc, "ip_assignments"));
	json_t *old;
	int rc;

	if ((rc = ids_of(doc, &nwid, &member)) != 0)
		return rc;
	if (zt_ctl_member_needs_ips(network, doc)) {
		if (!(old = json_deep_copy(doc)))
			return ZT_ENOMEM;
		rc = claim_ips(c, nwid, member, network, old, doc, &e);
		json_decref(old);
		if (rc != 0)
			return rc;
		if (json_array_size(json_object_get(doc, "ip_assignments")) != before) {
			if ((rc = zt_ctl_next_revision(c, &rev)) != 0 || (rc = zt_ctl_doc_set_u64(doc, "revision", rev)) != 0 ||
			    (rc = zt_ctl_note_change(c, nwid, member)) != 0)
				return rc;
			dirty = true;
		}
	}
	if (!dirty)
		return 0;
	if ((rc = c->store->ops->member_put(c->store, nwid, member, doc)) != 0)
		return rc;
	return store_claims(c, nwid, member, doc, &e);
}

int zt_ctl_member_remove(struct zt_ctl *c, const json_t *network, const json_t *doc, uint64_t now_ms)
{
	uint64_t nwid, member;
	int rc;

	if ((rc = ids_of(doc, &nwid, &member)) != 0)
		return rc;
	if ((rc = c->store->ops->ip_claim_set(c->store, nwid, member, NULL, 0)) != 0)
		return rc;
	if ((rc = c->store->ops->member_delete(c->store, nwid, member)) != 0)
		return rc;
	if (zt_ctl_member_effective_auth(network, doc) && (rc = zt_ctl_note_revoke(c, nwid, member, now_ms)) != 0)
		return rc;
	if ((rc = zt_ctl_emit(c, "member.deleted", network, doc, now_ms)) != 0)
		return rc;
	return zt_ctl_note_change(c, nwid, member);
}

/* ---- the member's config ---- */

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

	if (ids_of(member, &nwid, &addr) != 0 || rules_len > ZT_NETCONF_RULES_MAX)
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
