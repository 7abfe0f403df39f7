/*
 * events.c - hook events: one event (type, network, member) written to the
 * outbox for every hook of the network, or the global hooks, inside the
 * caller's transaction. Delivering them is hooks.c's job.
 */
#include "ctl_int.h"

#include "base/ct.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int global_hooks(struct zt_ctl *c, json_t **hooks)
{
	char *text = NULL;
	int rc = c->store->ops->setting_get(c->store, "hooks", &text);

	*hooks = NULL;
	if (rc == ZT_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	*hooks = json_loads(text, 0, NULL);
	zt_wipe(text, strlen(text));
	free(text);
	return *hooks ? 0 : ZT_EINVAL;
}

static json_t *event_body(const char *event_id, const char *type, const json_t *network, const json_t *member,
			  uint64_t now_ms)
{
	json_t *body = json_pack("{s:s, s:s, s:I, s:s, s:o}", "id", event_id, "type", type, "time",
				 (json_int_t)now_ms, "network_id", zt_ctl_doc_str(network, "id"), "network",
				 zt_ctl_network_view(network));

	if (body && member) {
		json_object_set_new(body, "member_id", json_string(zt_ctl_doc_str(member, "address")));
		json_object_set_new(body, "member", json_deep_copy(member));
	}
	return body;
}

static int outbox_each(struct zt_ctl *c, const json_t *targets, const char *event_id, const char *type,
		       const json_t *network, const json_t *member, const char *body, uint64_t now_ms)
{
	size_t i;
	json_t *h;
	int rc = 0;

	json_array_foreach(targets, i, h) {
		struct zt_ctl_delivery d = {0};
		snprintf(d.event_id, sizeof(d.event_id), "%s", event_id);
		snprintf(d.type, sizeof(d.type), "%s", type);
		if (zt_ctl_parse_nwid(zt_ctl_doc_str(network, "id"), &d.network_id) != 0 ||
		    (member && zt_ctl_parse_member(zt_ctl_doc_str(member, "address"), &d.member) != 0))
			return ZT_EINVAL;
		d.url = (char *)zt_ctl_doc_str(h, "url");
		d.secret = (char *)zt_ctl_doc_str(h, "secret");
		d.body = (char *)body;
		d.state = ZT_CTL_DELIVERY_PENDING;
		d.next_attempt_ms = now_ms;
		d.created_ms = now_ms;
		if ((rc = c->store->ops->outbox_add(c->store, &d)) != 0)
			return rc;
		c->tx_outbox = true;
	}
	return rc;
}

int zt_ctl_emit(struct zt_ctl *c, const char *type, const json_t *network, const json_t *member, uint64_t now_ms)
{
	const json_t *targets = json_object_get(network, "hooks");
	json_t *global = NULL, *body;
	char event_id[ZT_CTL_EVENT_ID_MAX], *text;
	uint64_t seq;
	int rc;

	if (json_array_size(targets) == 0) {
		if ((rc = global_hooks(c, &global)) != 0)
			return rc;
		targets = global;
	}
	if (json_array_size(targets) == 0) {
		json_decref(global);
		return 0;
	}
	if ((rc = zt_ctl_next_counter(c, "event_seq", &seq)) != 0) {
		json_decref(global);
		return rc;
	}
	snprintf(event_id, sizeof(event_id), "%010" PRIx64 "-%" PRIu64, c->id.address, seq);
	body = event_body(event_id, type, network, member, now_ms);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	rc = text ? outbox_each(c, targets, event_id, type, network, member, text, now_ms) : ZT_ENOMEM;
	free(text);
	json_decref(global);
	return rc;
}
