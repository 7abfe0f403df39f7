/*
 * controller_glue.c - the controller role inside ztd: opens the controller
 * store, serves its REST API under /controller, answers members' config
 * requests over VL1, and pushes new configs and revocations to the members
 * that asked (the ones online) as soon as the controller reports a change.
 */
#include "service/ztd.h"
#include "osdep/os.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Members that asked for a config recently: the ones to push to. */
static void remember(struct ztd *d, uint64_t nwid, uint64_t member, uint64_t now_ms)
{
	struct ztd_ctl_member *oldest = &d->ctl_members[0];

	for (unsigned i = 0; i < ZTD_CTL_MEMBERS; i++) {
		struct ztd_ctl_member *m = &d->ctl_members[i];
		if (m->nwid == nwid && m->member == member) {
			m->last_ms = now_ms;
			return;
		}
		if (m->last_ms < oldest->last_ms)
			oldest = m;
	}
	*oldest = (struct ztd_ctl_member){nwid, member, now_ms};
}

static bool online(const struct ztd_ctl_member *m, uint64_t now_ms)
{
	/* Members re-request every ZT_NETCONF_REFRESH_MS; allow two misses. */
	return m->last_ms && now_ms - m->last_ms < 3 * ZT_NETCONF_REFRESH_MS;
}

static bool was_revoked(struct ztd *d, uint64_t nwid, uint64_t member, uint64_t now_ms)
{
	struct zt_revocation revs[64];
	size_t n = 0;

	if (zt_ctl_revocations(d->ctl, nwid, now_ms, revs, ZT_ARRAY_LEN(revs), &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (revs[i].member == member)
			return true;
	return false;
}

/* A member coming online learns the revocations still in force in its network. */
static void send_revocations(struct ztd *d, uint64_t nwid, uint64_t member, uint64_t now_ms)
{
	struct zt_revocation revs[16];
	size_t n = 0;

	if (zt_ctl_revocations(d->ctl, nwid, now_ms, revs, ZT_ARRAY_LEN(revs), &n) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		zt_vl2_controller_revoke(d->vl2, &revs[i], &member, 1, now_ms);
}

int ztd_controller_answer(struct ztd *d, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			  struct zt_vl2_answer *ans)
{
	struct zt_ctl_answer *a = d->ctl_answer;
	int err;

	if (!d->ctl)
		return ZT_ENOENT;
	err = zt_ctl_request_config(d->ctl, nwid, member, NULL, now_ms, a);
	if (err)
		return err;
	remember(d, nwid, member->address, now_ms);
	snprintf(ans->reason, sizeof(ans->reason), "%s", a->reason);
	switch (a->status) {
	case ZT_CTL_OK:
		if (a->encoded_len > ZT_NETCONF_MAX_BYTES)
			return ZT_ETOOBIG;
		ans->status = ZT_NETCONF_OK;
		memcpy(ans->conf, a->encoded, a->encoded_len);
		ans->conf_len = a->encoded_len;
		send_revocations(d, nwid, member->address, now_ms);
		return 0;
	case ZT_CTL_ACCESS_DENIED:
		/* A member that was authorized and then revoked is denied, not "awaiting approval". */
		if (strstr(a->reason, "awaiting approval") && !was_revoked(d, nwid, member->address, now_ms)) {
			ans->status = ZT_NETCONF_AWAITING_APPROVAL;
			return 0;
		}
		ans->status = ZT_NETCONF_ACCESS_DENIED;
		if (strstr(a->reason, "awaiting approval"))
			snprintf(ans->reason, sizeof(ans->reason), "deauthorized by the network's controller");
		return 0;
	default:
		ans->status = ZT_NETCONF_NOT_FOUND;
		return 0;
	}
}

static void on_changed(void *ctx, uint64_t nwid, uint64_t member)
{
	struct ztd *d = ctx;
	uint64_t now = zt_os_now_ms();

	for (unsigned i = 0; i < ZTD_CTL_MEMBERS; i++) {
		struct ztd_ctl_member *m = &d->ctl_members[i];
		if (m->nwid != nwid || !online(m, now) || (member && m->member != member))
			continue;
		zt_vl2_controller_push(d->vl2, nwid, m->member, now);
	}
}

static void on_revoked(void *ctx, const struct zt_revocation *rev)
{
	struct ztd *d = ctx;
	uint64_t now = zt_os_now_ms(), members[ZTD_CTL_MEMBERS];
	unsigned n = 0;

	for (unsigned i = 0; i < ZTD_CTL_MEMBERS; i++)
		if (d->ctl_members[i].nwid == rev->network_id && online(&d->ctl_members[i], now))
			members[n++] = d->ctl_members[i].member;
	zt_log(ZT_LOG_INFO, "network %016" PRIx64 ": revocation sent to %u member(s)", rev->network_id, n);
	zt_vl2_controller_revoke(d->vl2, rev, members, n, now);
}

static void on_notify(void *ctx, int fd, unsigned events)
{
	struct ztd *d = ctx;

	(void)fd, (void)events;
	zt_ctl_process(d->ctl, zt_os_now_ms());
}

static int h_controller(void *ctx, const struct zt_http_req *req, struct zt_http_resp *resp)
{
	struct ztd *d = ctx;
	json_t *reply = NULL;
	int status = 500;

	zt_ctl_api(d->ctl, req->method, req->path, req->body, req->body_len, zt_os_now_ms(), &status, &reply);
	zt_ctl_process(d->ctl, zt_os_now_ms());
	zt_http_resp_json(resp, status, reply ? reply : json_object());
	return 0;
}

static int register_routes(struct ztd *d)
{
	static const char *const patterns[] = {
		"/controller",
		"/controller/network",
		"/controller/network/{nwid}",
		"/controller/network/{nwid}/member",
		"/controller/network/{nwid}/member/{address}",
		"/controller/network/{nwid}/hook/delivery",
	};
	static const char *const methods[] = {"GET", "POST", "DELETE"};
	int err = 0;

	for (unsigned p = 0; p < ZT_ARRAY_LEN(patterns); p++)
		for (unsigned m = 0; m < ZT_ARRAY_LEN(methods) && !err; m++)
			err = zt_httpd_route(d->httpd, methods[m], patterns[p], h_controller, d);
	return err;
}

int ztd_controller_start(struct ztd *d)
{
	struct zt_ctl_callbacks cb = {.changed = on_changed, .revoked = on_revoked};
	int err;

	if (!d->cfg.controller)
		return 0;
	d->ctl_answer = malloc(sizeof(*d->ctl_answer));
	d->ctl_members = calloc(ZTD_CTL_MEMBERS, sizeof(*d->ctl_members));
	if (!d->ctl_answer || !d->ctl_members)
		return ZT_ENOMEM;
	err = zt_ctl_open(d->cfg.home, &d->id, &d->ctl);
	if (err) {
		zt_log(ZT_LOG_ERROR, "cannot open the controller store in %s: %s", d->cfg.home, zt_strerror(err));
		return err;
	}
	zt_ctl_set_callbacks(d->ctl, &cb, d);
	err = zt_loop_add_fd(d->loop, zt_ctl_notify_fd(d->ctl), ZT_LOOP_IN, on_notify, d);
	if (!err)
		err = register_routes(d);
	return err;
}

void ztd_controller_stop(struct ztd *d)
{
	if (d->ctl)
		zt_loop_del_fd(d->loop, zt_ctl_notify_fd(d->ctl));
	zt_ctl_close(d->ctl);
	d->ctl = NULL;
	free(d->ctl_answer);
	free(d->ctl_members);
}
