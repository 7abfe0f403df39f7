/*
 * ctl.c - the controller object's life: options, open (store, then the hook
 * worker) and close, the notification fd, zt_ctl_process handing committed
 * notes to the daemon's callbacks, and the revocation list. It only
 * assembles the layers below; transactions are txn.c, config requests
 * config_request.c, the REST API api.c.
 */
#include "ctl_int.h"

#include "proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
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
