/*
 * ctl.c - the controller object: open/close, the one lock, transactions that
 * hold change notes and revocations until commit, the notification fd and
 * zt_ctl_process, and members' config requests. The REST API is api.c,
 * documents objects.c, member consequences member.c, web hooks hooks.c.
 */
#include "ctl_int.h"

#include "crypto.h"
#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

void zt_ctl_options_default(struct zt_ctl_options *o)
{
	memset(o, 0, sizeof(*o));
	o->hook_timeout_ms = 5000;
	o->hook_retry_base_ms = 1000;
	o->hook_retry_max_ms = 300000;
	o->hook_max_attempts = 20;
	o->hook_keep_ms = 7ULL * 24 * 3600 * 1000;
	o->netconf_max_delta_ms = ZT_NETCONF_MAX_DELTA_DEFAULT_MS;
	o->hooks_enabled = true;
}

uint64_t zt_ctl_address(const struct zt_ctl *c)
{
	return c->id.address;
}

void zt_ctl_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			zt_log(ZT_LOG_ERROR, "controller: getrandom: %s", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

/* ---- ids ---- */

static int parse_hex(const char *s, size_t digits, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || strnlen(s, digits + 1) != digits)
		return ZT_EINVAL;
	for (size_t i = 0; i < digits; i++) {
		char ch = s[i];
		unsigned d;
		if (ch >= '0' && ch <= '9')
			d = (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (unsigned)(ch - 'A' + 10);
		else
			return ZT_EINVAL;
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

int zt_ctl_parse_nwid(const char *s, uint64_t *nwid)
{
	return parse_hex(s, 16, nwid);
}

int zt_ctl_parse_member(const char *s, uint64_t *member)
{
	if (parse_hex(s, 10, member) != 0 || zt_address_reserved(*member))
		return ZT_EINVAL;
	return 0;
}

void zt_ctl_format_nwid(char out[17], uint64_t nwid)
{
	snprintf(out, 17, "%016" PRIx64, nwid);
}

void zt_ctl_format_member(char out[11], uint64_t member)
{
	snprintf(out, 11, "%010" PRIx64, (uint64_t)(member & ZT_ADDR_MASK));
}

/* ---- notes and revocations ---- */

static int notes_add(struct zt_ctl_notes *l, uint64_t nwid, uint64_t member)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].nwid != nwid)
			continue;
		if (l->v[i].member == 0 || l->v[i].member == member)
			return 0;
		if (member == 0) {
			/* The whole network supersedes single members. */
			l->v[i].member = 0;
			for (size_t j = l->n; j-- > i + 1;)
				if (l->v[j].nwid == nwid)
					l->v[j] = l->v[--l->n];
			return 0;
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct zt_ctl_note *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return ZT_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct zt_ctl_note){nwid, member};
	return 0;
}

static int revs_add(struct zt_ctl_revs *l, const struct zt_revocation *rev)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct zt_revocation *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return ZT_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *rev;
	return 0;
}

int zt_ctl_note_change(struct zt_ctl *c, uint64_t nwid, uint64_t member)
{
	return notes_add(&c->tx_notes, nwid, member);
}

int zt_ctl_note_revoke(struct zt_ctl *c, uint64_t nwid, uint64_t member, uint64_t now_ms)
{
	struct zt_revocation rev = {.network_id = nwid, .member = member, .threshold_ms = now_ms};
	uint64_t expires = now_ms + 2 * c->opt.netconf_max_delta_ms;
	int rc;

	if ((rc = zt_revocation_sign(&rev, &c->id)) != 0)
		return rc;
	if ((rc = c->store->ops->revocation_put(c->store, &rev, expires)) != 0)
		return rc;
	return revs_add(&c->tx_revs, &rev);
}

/* ---- transactions ---- */

int zt_ctl_tx_begin(struct zt_ctl *c)
{
	int rc = c->store->ops->begin(c->store);

	if (rc != 0)
		return rc;
	c->in_tx = true;
	c->tx_outbox = false;
	c->tx_notes.n = 0;
	c->tx_revs.n = 0;
	return 0;
}

void zt_ctl_tx_abort(struct zt_ctl *c)
{
	if (!c->in_tx)
		return;
	c->store->ops->rollback(c->store);
	c->in_tx = false;
	c->tx_outbox = false;
	c->tx_notes.n = 0;
	c->tx_revs.n = 0;
}

static void signal_fd(struct zt_ctl *c)
{
	uint64_t one = 1;

	if (write(c->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		zt_log(ZT_LOG_WARN, "controller: notify fd: %s", strerror(errno));
}

int zt_ctl_tx_commit(struct zt_ctl *c)
{
	bool wake = c->tx_outbox, notify;
	int rc = c->store->ops->commit(c->store);

	if (rc != 0) {
		zt_ctl_tx_abort(c);
		return rc;
	}
	c->in_tx = false;
	pthread_mutex_lock(&c->q_lock);
	for (size_t i = 0; i < c->tx_revs.n && rc == 0; i++)
		rc = revs_add(&c->q_revs, &c->tx_revs.v[i]);
	for (size_t i = 0; i < c->tx_notes.n && rc == 0; i++)
		rc = notes_add(&c->q_notes, c->tx_notes.v[i].nwid, c->tx_notes.v[i].member);
	notify = c->tx_revs.n > 0 || c->tx_notes.n > 0;
	pthread_mutex_unlock(&c->q_lock);
	c->tx_notes.n = 0;
	c->tx_revs.n = 0;
	c->tx_outbox = false;
	if (notify)
		signal_fd(c);
	if (wake)
		zt_ctl_hooks_wake(c);
	if (rc != 0)
		zt_log(ZT_LOG_ERROR, "controller: lost a change notification: %s", zt_strerror(rc));
	return 0;
}

int zt_ctl_next_counter(struct zt_ctl *c, const char *key, uint64_t *value)
{
	char *text = NULL, buf[24];
	uint64_t v = 0;
	int rc;

	rc = c->store->ops->setting_get(c->store, key, &text);
	if (rc == 0) {
		char *end;
		errno = 0;
		v = strtoull(text, &end, 10);
		if (errno || *end || end == text)
			rc = ZT_EINVAL;
		free(text);
	} else if (rc == ZT_ENOENT) {
		rc = 0;
	}
	if (rc != 0)
		return rc;
	if (v >= (uint64_t)INT64_MAX)
		return ZT_EINVAL;
	v++;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	if ((rc = c->store->ops->setting_put(c->store, key, buf)) != 0)
		return rc;
	*value = v;
	return 0;
}

int zt_ctl_next_revision(struct zt_ctl *c, uint64_t *rev)
{
	return zt_ctl_next_counter(c, "revision", rev);
}

/* ---- open / close ---- */

int zt_ctl_open(const char *home, const struct zt_identity *controller, struct zt_ctl **out)
{
	struct zt_ctl_options o;

	zt_ctl_options_default(&o);
	return zt_ctl_open_with(home, controller, &o, out);
}

int zt_ctl_open_with(const char *home, const struct zt_identity *controller, const struct zt_ctl_options *opt,
		     struct zt_ctl **out)
{
	struct zt_ctl *c;
	int rc;

	*out = NULL;
	if (!home || !controller || !opt || !controller->has_secret || zt_address_reserved(controller->address))
		return ZT_EINVAL;
	if ((rc = zt_identity_validate(controller)) != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return ZT_ENOMEM;
	c->id = *controller;
	c->opt = *opt;
	zt_limiter_init(&c->validate_limit, ZT_VALIDATE_PER_SEC, ZT_VALIDATE_BURST);
	if (c->opt.hook_max_attempts == 0)
		c->opt.hook_max_attempts = 1;
	c->home = strdup(home);
	c->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->q_lock, NULL);
	if (!c->home || c->notify_fd < 0) {
		rc = c->notify_fd < 0 ? ZT_EIO : ZT_ENOMEM;
		zt_ctl_close(c);
		return rc;
	}
	rc = zt_ctl_store_sqlite_open(home, &c->store);
	if (rc == 0 && c->opt.hooks_enabled)
		rc = zt_ctl_hooks_start(c);
	if (rc != 0) {
		zt_ctl_close(c);
		return rc;
	}
	zt_log(ZT_LOG_INFO, "controller %010" PRIx64 ": open (store %s)", c->id.address, c->store->ops->name);
	*out = c;
	return 0;
}

void zt_ctl_close(struct zt_ctl *c)
{
	if (!c)
		return;
	zt_ctl_hooks_stop(c);
	if (c->store)
		c->store->ops->close(c->store);
	if (c->notify_fd >= 0)
		close(c->notify_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->q_lock);
	free(c->tx_notes.v);
	free(c->tx_revs.v);
	free(c->q_notes.v);
	free(c->q_revs.v);
	free(c->home);
	zt_identity_wipe(&c->id);
	free(c);
}

/* ---- callbacks ---- */

void zt_ctl_set_callbacks(struct zt_ctl *c, const struct zt_ctl_callbacks *cb, void *ctx)
{
	pthread_mutex_lock(&c->q_lock);
	memset(&c->cb, 0, sizeof(c->cb));
	if (cb)
		c->cb = *cb;
	c->cb_ctx = ctx;
	pthread_mutex_unlock(&c->q_lock);
}

int zt_ctl_notify_fd(const struct zt_ctl *c)
{
	return c->notify_fd;
}

int zt_ctl_process(struct zt_ctl *c, uint64_t now_ms)
{
	struct zt_ctl_notes notes;
	struct zt_ctl_revs revs;
	struct zt_ctl_callbacks cb;
	void *ctx;
	uint64_t drained;

	if (read(c->notify_fd, &drained, sizeof(drained)) < 0 && errno != EAGAIN)
		return ZT_EIO;
	pthread_mutex_lock(&c->q_lock);
	notes = c->q_notes;
	revs = c->q_revs;
	memset(&c->q_notes, 0, sizeof(c->q_notes));
	memset(&c->q_revs, 0, sizeof(c->q_revs));
	cb = c->cb;
	ctx = c->cb_ctx;
	pthread_mutex_unlock(&c->q_lock);
	for (size_t i = 0; i < revs.n; i++)
		if (cb.revoked)
			cb.revoked(ctx, &revs.v[i]);
	for (size_t i = 0; i < notes.n; i++)
		if (cb.changed)
			cb.changed(ctx, notes.v[i].nwid, notes.v[i].member);
	free(notes.v);
	free(revs.v);
	return 0;
}

int zt_ctl_revocations(struct zt_ctl *c, uint64_t nwid, uint64_t now_ms, struct zt_revocation *out, size_t max,
		       size_t *n)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = c->store->ops->revocation_list(c->store, nwid, now_ms, out, max, n);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- config requests ---- */

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
