/*
 * txn.c - store transactions and what they hold until commit: change notes,
 * signed revocations and whether hook deliveries were queued; on commit they
 * go to the queue zt_ctl_process drains (ctl.c) and the notification fd is
 * signalled. Also the controller-wide counters. Calls only the store (and
 * the core, to sign revocations).
 */
#include "ctl_int.h"

#include "crypto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	if (wake && c->outbox_wake)
		c->outbox_wake(c); /* set by the hook worker (hooks.c): a callback, not a call up */
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
