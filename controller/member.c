/*
 * member.c - the member operations: the one update the REST API and hook
 * decisions share, saving and removing a member and what follows (address
 * assignment from the pools, unique and stable once given; revisions;
 * authorization events; revocations; change notes). Always in the caller's
 * transaction. Building the member's config is config_build.c's.
 */
#include "ctl_int.h"

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

int zt_ctl_member_ids(const json_t *doc, uint64_t *nwid, uint64_t *member)
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

	if ((rc = zt_ctl_member_ids(doc, &nwid, &member)) != 0)
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

	if ((rc = zt_ctl_member_ids(doc, &nwid, &member)) != 0)
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

	if ((rc = zt_ctl_member_ids(doc, &nwid, &member)) != 0)
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

/* Log an authorization change with who made it. */
static void log_authorization(const json_t *old, const json_t *doc, const char *who)
{
	bool was = old && zt_ctl_doc_bool(old, "authorized"), is = zt_ctl_doc_bool(doc, "authorized");

	if (was != is)
		zt_log(ZT_LOG_INFO, "controller: network %s: member %s %s by %s", zt_ctl_doc_str(doc, "network_id"),
		       zt_ctl_doc_str(doc, "address"), is ? "authorized" : "deauthorized", who ? who : "?");
}

/* The member as it is, or a new document when ch->create allows; 404 in e otherwise. */
static int member_load(struct zt_ctl *c, const struct zt_ctl_member_change *ch, uint64_t now_ms, json_t **old,
		       json_t **doc, struct zt_ctl_err *e)
{
	int rc = c->store->ops->member_get(c->store, ch->nwid, ch->member, old);

	*doc = NULL;
	if (rc == ZT_ENOENT && !ch->create)
		return zt_ctl_fail(e, 404, "", "no such member");
	if (rc == ZT_ENOENT) {
		*old = NULL;
		*doc = zt_ctl_member_new(ch->nwid, ch->member, now_ms);
	} else if (rc == 0) {
		*doc = json_deep_copy(*old);
	} else {
		return rc;
	}
	return *doc ? 0 : ZT_ENOMEM;
}

int zt_ctl_member_update(struct zt_ctl *c, const struct zt_ctl_member_change *ch, uint64_t now_ms,
			 struct zt_ctl_err *e, json_t **out, bool *created)
{
	json_t *net = NULL, *old = NULL, *doc = NULL;
	int rc = c->store->ops->network_get(c->store, ch->nwid, &net);

	*out = NULL;
	*created = false;
	if (rc == ZT_ENOENT)
		return zt_ctl_fail(e, 404, "", "no such network");
	if (rc != 0)
		return rc;
	rc = member_load(c, ch, now_ms, &old, &doc, e);
	if (rc == 0)
		rc = zt_ctl_member_apply(doc, ch->body, net, e);
	if (rc == 0)
		rc = zt_ctl_member_save(c, net, old, doc, now_ms, e);
	if (rc == 0) {
		log_authorization(old, doc, ch->who);
		*created = !old;
		*out = doc;
		doc = NULL;
	}
	json_decref(doc);
	json_decref(old);
	json_decref(net);
	return rc;
}
