/*
 * api.c - the controller's REST API as one pure function: method, path and
 * body in, HTTP status and JSON out. Routing, body parsing and one store
 * transaction per request (all or nothing); field rules live in objects.c.
 * No HTTP library here: the daemon's server calls zt_ctl_api().
 */
#include "ctl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_BYTES 256
#define NWID_TRIES 64

struct req {
	struct zt_ctl *c;
	const char *method;
	uint64_t nwid;
	uint64_t member;
	const json_t *body;
	uint64_t now_ms;
	int status;
	json_t *reply;
	struct zt_ctl_err e;
};

static int ok(struct req *r, int status, json_t *reply)
{
	r->status = status;
	r->reply = reply;
	return reply ? 0 : ZT_ENOMEM;
}

static int not_found(struct req *r, const char *what)
{
	return zt_ctl_fail(&r->e, 404, "", "no such %s", what);
}

static bool owned(const struct zt_ctl *c, uint64_t nwid)
{
	return ZT_NWID_CONTROLLER(nwid) == c->id.address;
}

/* ---- /controller ---- */

static int load_global_hooks(struct zt_ctl *c, json_t **hooks)
{
	char *text = NULL;
	int rc = c->store->ops->setting_get(c->store, "hooks", &text);

	if (rc == ZT_ENOENT) {
		*hooks = json_array();
		return *hooks ? 0 : ZT_ENOMEM;
	}
	if (rc != 0)
		return rc;
	*hooks = json_loads(text, 0, NULL);
	free(text);
	return json_is_array(*hooks) ? 0 : ZT_EINVAL;
}

static int status_reply(struct req *r, const json_t *hooks)
{
	char addr[11];

	zt_ctl_format_member(addr, r->c->id.address);
	return ok(r, 200, json_pack("{s:s, s:s, s:i, s:o, s:I}", "controller", addr, "version", ZT_VERSION_STRING,
				    "api_version", 1, "hooks", zt_ctl_hooks_view(hooks), "clock",
				    (json_int_t)r->now_ms));
}

static int controller_get(struct req *r)
{
	json_t *hooks;
	int rc = load_global_hooks(r->c, &hooks);

	if (rc != 0)
		return rc;
	rc = status_reply(r, hooks);
	json_decref(hooks);
	return rc;
}

static int controller_post(struct req *r)
{
	static const char *const readonly[] = {"controller", "version", "api_version", "clock"};
	json_t *old, *hooks = NULL;
	const char *key;
	json_t *v;
	char *text;
	int rc;

	if (!json_is_object(r->body))
		return zt_ctl_fail(&r->e, 400, "", "the body must be a JSON object");
	json_object_foreach((json_t *)r->body, key, v) {
		bool ro = false;
		for (size_t i = 0; i < ZT_ARRAY_LEN(readonly); i++)
			ro = ro || strcmp(key, readonly[i]) == 0;
		if (strcmp(key, "hooks") != 0)
			return zt_ctl_fail(&r->e, 400, key, ro ? "read-only field" : "unknown field");
	}
	if ((rc = load_global_hooks(r->c, &old)) != 0)
		return rc;
	if (json_object_get(r->body, "hooks")) {
		rc = zt_ctl_hooks_parse(json_object_get(r->body, "hooks"), old, &hooks, &r->e);
		if (rc != 0) {
			json_decref(old);
			return rc;
		}
		text = json_dumps(hooks, JSON_COMPACT);
		rc = text ? r->c->store->ops->setting_put(r->c->store, "hooks", text) : ZT_ENOMEM;
		free(text);
	} else {
		hooks = json_incref(old);
	}
	if (rc == 0)
		rc = status_reply(r, hooks);
	json_decref(hooks);
	json_decref(old);
	return rc;
}

/* ---- networks ---- */

static int network_list(struct req *r)
{
	json_t *ids;
	int rc = r->c->store->ops->network_list(r->c->store, &ids);

	return rc != 0 ? rc : ok(r, 200, ids);
}

static int network_get(struct req *r)
{
	json_t *doc;
	int rc = r->c->store->ops->network_get(r->c->store, r->nwid, &doc);

	if (rc == ZT_ENOENT)
		return not_found(r, "network");
	if (rc != 0)
		return rc;
	rc = ok(r, 200, zt_ctl_network_view(doc));
	json_decref(doc);
	return rc;
}

/* Going private: members that were in only because the network was public are out. */
static int revoke_unauthorized(struct req *r, const json_t *old, const json_t *doc)
{
	json_t *members, *m;
	size_t i;
	int rc;

	if (zt_ctl_doc_bool(old, "private") || !zt_ctl_doc_bool(doc, "private"))
		return 0;
	if ((rc = r->c->store->ops->member_list(r->c->store, r->nwid, &members)) != 0)
		return rc;
	json_array_foreach(members, i, m) {
		uint64_t addr;
		if (zt_ctl_doc_bool(m, "authorized") || zt_ctl_parse_member(zt_ctl_doc_str(m, "address"), &addr) != 0)
			continue;
		if ((rc = zt_ctl_note_revoke(r->c, r->nwid, addr, r->now_ms)) != 0)
			break;
	}
	json_decref(members);
	return rc;
}

/* Validate, take a revision, store, queue the event and the change note. */
static int network_store(struct req *r, const json_t *old, json_t *doc)
{
	uint64_t rev;
	int rc;

	if ((rc = zt_ctl_network_apply(doc, r->body, &r->e)) != 0)
		return rc;
	if ((rc = zt_ctl_next_revision(r->c, &rev)) != 0 || (rc = zt_ctl_doc_set_u64(doc, "revision", rev)) != 0 ||
	    (rc = zt_ctl_doc_set_u64(doc, "updated", r->now_ms)) != 0)
		return rc;
	if ((rc = r->c->store->ops->network_put(r->c->store, r->nwid, doc)) != 0)
		return rc;
	if (old && (rc = revoke_unauthorized(r, old, doc)) != 0)
		return rc;
	if ((rc = zt_ctl_emit(r->c, old ? "network.updated" : "network.created", doc, NULL, r->now_ms)) != 0)
		return rc;
	if ((rc = zt_ctl_note_change(r->c, r->nwid, 0)) != 0)
		return rc;
	return ok(r, old ? 200 : 201, zt_ctl_network_view(doc));
}

static int network_create_at(struct req *r)
{
	json_t *doc = zt_ctl_network_new(r->nwid, r->now_ms);
	int rc;

	if (!doc)
		return ZT_ENOMEM;
	rc = network_store(r, NULL, doc);
	json_decref(doc);
	return rc;
}

static int pick_nwid(struct req *r)
{
	for (int i = 0; i < NWID_TRIES; i++) {
		uint8_t rnd[3];
		json_t *doc;
		int rc;
		zt_ctl_random(rnd, sizeof(rnd));
		r->nwid = r->c->id.address << 24 | (uint64_t)rnd[0] << 16 | (uint64_t)rnd[1] << 8 | rnd[2];
		rc = r->c->store->ops->network_get(r->c->store, r->nwid, &doc);
		if (rc == ZT_ENOENT)
			return 0;
		if (rc != 0)
			return rc;
		json_decref(doc);
	}
	return zt_ctl_fail(&r->e, 409, "id", "no free network number found; give an id");
}

/* POST /controller/network: create, with the given "id" or a random network number. */
static int network_create(struct req *r)
{
	const json_t *id = json_object_get(r->body, "id");
	json_t *doc;
	int rc;

	if (!json_is_object(r->body))
		return zt_ctl_fail(&r->e, 400, "", "the body must be a JSON object");
	if (!id)
		return (rc = pick_nwid(r)) != 0 ? rc : network_create_at(r);
	if (zt_ctl_parse_nwid(json_string_value(id), &r->nwid) != 0)
		return zt_ctl_fail(&r->e, 400, "id", "must be 16 hex digits");
	if (!owned(r->c, r->nwid))
		return zt_ctl_fail(&r->e, 400, "id", "network id not owned by this controller");
	rc = r->c->store->ops->network_get(r->c->store, r->nwid, &doc);
	if (rc == 0) {
		json_decref(doc);
		return zt_ctl_fail(&r->e, 409, "id", "network exists");
	}
	return rc == ZT_ENOENT ? network_create_at(r) : rc;
}

/* POST /controller/network/{nwid}: partial update, or creation with that id. */
static int network_post(struct req *r)
{
	json_t *old = NULL, *doc;
	int rc;

	if (!json_is_object(r->body))
		return zt_ctl_fail(&r->e, 400, "", "the body must be a JSON object");
	rc = r->c->store->ops->network_get(r->c->store, r->nwid, &old);
	if (rc == ZT_ENOENT)
		return network_create_at(r);
	if (rc != 0)
		return rc;
	doc = json_deep_copy(old);
	rc = doc ? network_store(r, old, doc) : ZT_ENOMEM;
	json_decref(doc);
	json_decref(old);
	return rc;
}

static int network_delete(struct req *r)
{
	json_t *doc;
	int rc = r->c->store->ops->network_get(r->c->store, r->nwid, &doc);

	if (rc == ZT_ENOENT)
		return not_found(r, "network");
	if (rc != 0)
		return rc;
	rc = zt_ctl_emit(r->c, "network.deleted", doc, NULL, r->now_ms);
	if (rc == 0)
		rc = r->c->store->ops->network_delete(r->c->store, r->nwid);
	if (rc == 0)
		rc = zt_ctl_note_change(r->c, r->nwid, 0);
	if (rc == 0)
		rc = ok(r, 200, zt_ctl_network_view(doc));
	json_decref(doc);
	return rc;
}

static int deliveries_get(struct req *r)
{
	json_t *doc, *rows;
	int rc = r->c->store->ops->network_get(r->c->store, r->nwid, &doc);

	if (rc == ZT_ENOENT)
		return not_found(r, "network");
	if (rc != 0)
		return rc;
	json_decref(doc);
	rc = r->c->store->ops->outbox_list(r->c->store, r->nwid, ZT_CTL_DELIVERY_LIST_MAX, &rows);
	return rc != 0 ? rc : ok(r, 200, rows);
}

/* ---- members ---- */

static int with_network(struct req *r, json_t **net)
{
	int rc = r->c->store->ops->network_get(r->c->store, r->nwid, net);

	return rc == ZT_ENOENT ? not_found(r, "network") : rc;
}

static int member_list(struct req *r)
{
	json_t *net, *docs;
	int rc = with_network(r, &net);

	if (rc != 0)
		return rc;
	json_decref(net);
	rc = r->c->store->ops->member_list(r->c->store, r->nwid, &docs);
	return rc != 0 ? rc : ok(r, 200, docs);
}

static int member_get(struct req *r)
{
	json_t *net, *doc;
	int rc = with_network(r, &net);

	if (rc != 0)
		return rc;
	json_decref(net);
	rc = r->c->store->ops->member_get(r->c->store, r->nwid, r->member, &doc);
	if (rc == ZT_ENOENT)
		return not_found(r, "member");
	return rc != 0 ? rc : ok(r, 200, doc);
}

/* Partial update, or creation (to authorize a member before it first asks): the member layer's operation. */
static int member_post(struct req *r)
{
	const struct zt_ctl_member_change ch = {
		.nwid = r->nwid, .member = r->member, .body = r->body, .create = true, .who = "the API"};
	json_t *doc;
	bool created;
	int rc = zt_ctl_member_update(r->c, &ch, r->now_ms, &r->e, &doc, &created);

	return rc != 0 ? rc : ok(r, created ? 201 : 200, doc);
}

static int member_delete(struct req *r)
{
	json_t *net, *doc;
	int rc = with_network(r, &net);

	if (rc != 0)
		return rc;
	rc = r->c->store->ops->member_get(r->c->store, r->nwid, r->member, &doc);
	if (rc == ZT_ENOENT) {
		json_decref(net);
		return not_found(r, "member");
	}
	if (rc == 0)
		rc = zt_ctl_member_remove(r->c, net, doc, r->now_ms);
	if (rc == 0)
		rc = ok(r, 200, json_incref(doc));
	json_decref(doc);
	json_decref(net);
	return rc;
}

/* ---- routing ---- */

enum route {
	R_NONE,
	R_CONTROLLER,
	R_NETWORKS,
	R_NETWORK,
	R_MEMBERS,
	R_MEMBER,
	R_DELIVERIES,
};

struct endpoint {
	enum route route;
	const char *method;
	int (*fn)(struct req *r);
	bool writes;
};

static const struct endpoint endpoints[] = {
	{R_CONTROLLER, "GET", controller_get, false},
	{R_CONTROLLER, "POST", controller_post, true},
	{R_NETWORKS, "GET", network_list, false},
	{R_NETWORKS, "POST", network_create, true},
	{R_NETWORK, "GET", network_get, false},
	{R_NETWORK, "POST", network_post, true},
	{R_NETWORK, "DELETE", network_delete, true},
	{R_MEMBERS, "GET", member_list, false},
	{R_MEMBER, "GET", member_get, false},
	{R_MEMBER, "POST", member_post, true},
	{R_MEMBER, "DELETE", member_delete, true},
	{R_DELIVERIES, "GET", deliveries_get, false},
};

/* Split "/a/b/c" into segments; false on an empty segment or a trailing slash. */
static bool split(char *path, char **seg, size_t max, size_t *n)
{
	char *p = path + 1;

	*n = 0;
	if (path[0] != '/')
		return false;
	for (;;) {
		char *end = strchr(p, '/');
		if (*p == '\0' || end == p || *n == max)
			return false;
		seg[(*n)++] = p;
		if (!end)
			return true;
		*end = '\0';
		p = end + 1;
	}
}

static enum route route_of(struct req *r, const char *path)
{
	char buf[PATH_MAX_BYTES + 1], *seg[6];
	size_t n;

	if (strnlen(path, PATH_MAX_BYTES + 1) > PATH_MAX_BYTES)
		return R_NONE;
	strcpy(buf, path);
	if (!split(buf, seg, ZT_ARRAY_LEN(seg), &n) || strcmp(seg[0], "controller") != 0)
		return R_NONE;
	if (n == 1)
		return R_CONTROLLER;
	if (strcmp(seg[1], "network") != 0)
		return R_NONE;
	if (n == 2)
		return R_NETWORKS;
	if (zt_ctl_parse_nwid(seg[2], &r->nwid) != 0) {
		zt_ctl_fail(&r->e, 400, "id", "network id must be 16 hex digits");
		return R_NONE;
	}
	if (n == 3)
		return R_NETWORK;
	if (n == 5 && strcmp(seg[3], "hook") == 0 && strcmp(seg[4], "delivery") == 0)
		return R_DELIVERIES;
	if (strcmp(seg[3], "member") != 0 || n > 5)
		return R_NONE;
	if (n == 4)
		return R_MEMBERS;
	if (zt_ctl_parse_member(seg[4], &r->member) != 0) {
		zt_ctl_fail(&r->e, 400, "address", "member address must be 10 hex digits and not reserved");
		return R_NONE;
	}
	return R_MEMBER;
}

static int parse_body(struct req *r, const char *body, size_t len, json_t **out)
{
	json_error_t jerr;

	*out = NULL;
	if (len > ZT_CTL_BODY_MAX)
		return zt_ctl_fail(&r->e, 413, "", "body larger than %u bytes", ZT_CTL_BODY_MAX);
	if (!body || len == 0) {
		*out = json_object();
		return *out ? 0 : ZT_ENOMEM;
	}
	*out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out)
		return zt_ctl_fail(&r->e, 400, "", "malformed JSON at line %d column %d: %s", jerr.line, jerr.column,
				   jerr.text);
	return 0;
}

static json_t *error_reply(const struct zt_ctl_err *e)
{
	json_t *o = json_pack("{s:s}", "error", e->reason[0] ? e->reason : "error");

	if (o && e->field[0])
		json_object_set_new(o, "field", json_string(e->field));
	if (o && e->line) {
		json_object_set_new(o, "line", json_integer(e->line));
		json_object_set_new(o, "column", json_integer(e->column));
	}
	return o;
}

static const struct endpoint *find_endpoint(struct req *r, enum route route)
{
	bool path_ok = false;

	for (size_t i = 0; i < ZT_ARRAY_LEN(endpoints); i++) {
		if (endpoints[i].route != route)
			continue;
		path_ok = true;
		if (strcmp(endpoints[i].method, r->method) == 0)
			return &endpoints[i];
	}
	if (path_ok)
		zt_ctl_fail(&r->e, 405, "", "method %.16s not allowed here", r->method);
	else if (!r->e.status)
		zt_ctl_fail(&r->e, 404, "", "no such endpoint");
	return NULL;
}

/* Run the handler in one transaction: a 4xx or an error rolls everything back. */
static int run(struct req *r, const struct endpoint *ep)
{
	int rc;

	if (ep->route != R_CONTROLLER && ep->route != R_NETWORKS && !owned(r->c, r->nwid))
		return zt_ctl_fail(&r->e, 400, "id", "network id not owned by this controller");
	if ((rc = zt_ctl_tx_begin(r->c)) != 0)
		return rc;
	rc = ep->fn(r);
	if (rc == 0 && r->e.status == 0)
		return ep->writes ? zt_ctl_tx_commit(r->c) : (zt_ctl_tx_abort(r->c), 0);
	zt_ctl_tx_abort(r->c);
	json_decref(r->reply);
	r->reply = NULL;
	return rc;
}

int zt_ctl_api(struct zt_ctl *c, const char *method, const char *path, const char *body, size_t body_len,
	       uint64_t now_ms, int *http_status, json_t **reply)
{
	struct req r = {.c = c, .method = method ? method : "", .now_ms = now_ms};
	const struct endpoint *ep = NULL;
	json_t *parsed = NULL;
	int rc = 0;

	ep = path ? find_endpoint(&r, route_of(&r, path)) : NULL;
	if (ep && (strcmp(r.method, "POST") == 0))
		rc = parse_body(&r, body, body_len, &parsed);
	r.body = parsed;
	if (ep && rc == 0 && r.e.status == 0) {
		pthread_mutex_lock(&c->lock);
		rc = run(&r, ep);
		pthread_mutex_unlock(&c->lock);
	}
	json_decref(parsed);
	if (rc == ZT_EINVAL && r.e.status)
		rc = 0;
	if (rc != 0) {
		zt_log(ZT_LOG_ERROR, "controller: %s %s: %s", r.method, path ? path : "-", zt_strerror(rc));
		json_decref(r.reply);
		r.status = 500;
		r.reply = json_pack("{s:s}", "error", "internal error");
	} else if (r.e.status) {
		json_decref(r.reply);
		r.status = r.e.status;
		r.reply = error_reply(&r.e);
	} else if (!r.reply) {
		r.status = 404;
		r.reply = json_pack("{s:s}", "error", "no such endpoint");
	}
	*http_status = r.status;
	*reply = r.reply;
	return rc;
}
