/*
 * config_request.c - a member asks for its config: check its identity (once,
 * rate limited for strangers), record the visit and first contact in one
 * transaction through the member layer, then build (config_build.c) and sign
 * the answer. Does not serve the REST API or deliver hooks.
 */
#include "ctl_int.h"

#include "crypto.h"
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void answer(struct zt_ctl_answer *out, int status, const char *reason)
{
	out->status = status;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
	out->encoded_len = 0;
}

/* Cheap check before any costly one: strangers asking for nothing cost nothing. */
static int network_exists(struct zt_ctl *c, uint64_t nwid)
{
	json_t *doc = NULL;
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = c->store->ops->network_get(c->store, nwid, &doc);
	pthread_mutex_unlock(&c->lock);
	json_decref(doc);
	return rc;
}

/* Is the identity already on record for this member (so checked once)? */
static int known_identity(struct zt_ctl *c, uint64_t nwid, uint64_t member, const char *text, bool *known,
			  bool *conflict)
{
	json_t *doc = NULL;
	int rc;

	*known = *conflict = false;
	pthread_mutex_lock(&c->lock);
	rc = c->store->ops->member_get(c->store, nwid, member, &doc);
	pthread_mutex_unlock(&c->lock);
	if (rc == ZT_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (json_is_string(json_object_get(doc, "identity"))) {
		*known = strcmp(zt_ctl_doc_str(doc, "identity"), text) == 0;
		*conflict = !*known;
	}
	json_decref(doc);
	return 0;
}

static int check_identity(struct zt_ctl *c, uint64_t nwid, const struct zt_identity *id, const char *text,
			  uint64_t now_ms, bool *conflict)
{
	bool known, allowed;
	int rc;

	if ((rc = known_identity(c, nwid, id->address, text, &known, conflict)) != 0)
		return rc;
	if (known || *conflict)
		return 0;
	pthread_mutex_lock(&c->lock);
	allowed = zt_limiter_take(&c->validate_limit, now_ms); /* the costly identity check of strangers */
	pthread_mutex_unlock(&c->lock);
	if (!allowed)
		return ZT_ERATE;
	return zt_identity_validate(id) == 0 ? 0 : ZT_EAUTH;
}

/* Record identity, time and underlay address of a visit; true if the document changed. */
static bool touch(json_t *mem, const char *identity, const struct zt_endpoint *physical, uint64_t now_ms)
{
	char phys[ZT_ENDPOINT_TEXT_MAX] = "";
	bool dirty = false;

	if (physical && zt_endpoint_is_set(physical) && zt_endpoint_format(physical, phys, sizeof(phys)) != 0)
		phys[0] = '\0';
	if (!json_is_string(json_object_get(mem, "identity"))) {
		json_object_set_new(mem, "identity", json_string(identity));
		dirty = true;
	}
	if (phys[0] && strcmp(phys, zt_ctl_doc_str(mem, "last_physical_address")) != 0) {
		json_object_set_new(mem, "last_physical_address", json_string(phys));
		dirty = true;
	}
	if (!json_is_integer(json_object_get(mem, "first_seen"))) {
		zt_ctl_doc_set_u64(mem, "first_seen", now_ms);
		dirty = true;
	}
	if (dirty || !json_is_integer(json_object_get(mem, "last_seen")) ||
	    now_ms >= zt_ctl_doc_u64(mem, "last_seen") + ZT_CTL_SEEN_WRITE_MS) {
		zt_ctl_doc_set_u64(mem, "last_seen", now_ms);
		dirty = true;
	}
	return dirty;
}

/* First contact: a new member, authorized at once on a public network. */
static int first_contact(struct zt_ctl *c, const json_t *net, json_t *mem, uint64_t now_ms)
{
	bool private = zt_ctl_doc_bool(net, "private");
	struct zt_ctl_err e = {0};
	int rc;

	json_object_set_new(mem, "authorized", json_boolean(!private));
	if ((rc = zt_ctl_member_save(c, net, NULL, mem, now_ms, &e)) != 0)
		return rc;
	if (private)
		return zt_ctl_emit(c, "member.join_requested", net, mem, now_ms);
	return 0;
}

/* One transaction: find network and member, record the visit, assign addresses. */
static int config_tx(struct zt_ctl *c, uint64_t nwid, uint64_t member, const char *identity,
		     const struct zt_endpoint *physical, uint64_t now_ms, json_t **net, json_t **mem)
{
	bool created = false, dirty;
	int rc;

	if ((rc = zt_ctl_tx_begin(c)) != 0)
		return rc;
	rc = c->store->ops->network_get(c->store, nwid, net);
	if (rc == 0) {
		rc = c->store->ops->member_get(c->store, nwid, member, mem);
		if (rc == ZT_ENOENT) {
			created = true;
			*mem = zt_ctl_member_new(nwid, member, now_ms);
			rc = *mem ? 0 : ZT_ENOMEM;
		}
	}
	if (rc == 0) {
		dirty = touch(*mem, identity, physical, now_ms);
		rc = created ? first_contact(c, *net, *mem, now_ms)
			     : zt_ctl_member_refresh(c, *net, *mem, dirty, now_ms);
	}
	if (rc == 0)
		return zt_ctl_tx_commit(c);
	zt_ctl_tx_abort(c);
	return rc;
}

int zt_ctl_request_config(struct zt_ctl *c, uint64_t nwid, const struct zt_identity *member_public,
			  const struct zt_endpoint *physical, uint64_t now_ms, struct zt_ctl_answer *out)
{
	char text[ZT_IDENTITY_PUBLIC_TEXT_MAX], addr[11], id[17];
	json_t *net = NULL, *mem = NULL;
	bool conflict = false;
	int rc;

	answer(out, ZT_CTL_NOT_FOUND, "no such network");
	if (ZT_NWID_CONTROLLER(nwid) != c->id.address)
		return 0;
	if (zt_address_reserved(member_public->address) ||
	    zt_identity_to_text(member_public, false, text, sizeof(text)) != 0)
		return ZT_EAUTH;
	if ((rc = network_exists(c, nwid)) != 0)
		return rc == ZT_ENOENT ? 0 : rc;
	if ((rc = check_identity(c, nwid, member_public, text, now_ms, &conflict)) != 0)
		return rc;
	zt_ctl_format_nwid(id, nwid);
	zt_ctl_format_member(addr, member_public->address);
	if (conflict) {
		zt_log(ZT_LOG_WARN, "controller: network %s: member %s presented a different identity", id, addr);
		answer(out, ZT_CTL_ACCESS_DENIED, "identity does not match the member on record");
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	rc = config_tx(c, nwid, member_public->address, text, physical, now_ms, &net, &mem);
	pthread_mutex_unlock(&c->lock);
	if (rc == ZT_ENOENT) {
		rc = 0;
	} else if (rc == 0 && !zt_ctl_member_effective_auth(net, mem)) {
		answer(out, ZT_CTL_ACCESS_DENIED, "awaiting approval");
	} else if (rc == 0) {
		size_t len = 0;
		rc = zt_ctl_netconf_build(c, net, mem, now_ms, &out->netconf);
		if (rc == 0)
			rc = zt_netconf_sign(&out->netconf, &c->id, out->encoded, sizeof(out->encoded), &len);
		if (rc == 0) {
			answer(out, ZT_CTL_OK, "");
			out->encoded_len = len;
		}
	}
	if (rc != 0)
		zt_log(ZT_LOG_ERROR, "controller: network %s: config for %s: %s", id, addr, zt_strerror(rc));
	json_decref(net);
	json_decref(mem);
	return rc;
}
