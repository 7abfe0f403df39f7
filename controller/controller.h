/*
 * controller.h - the network controller as the daemon sees it: open it on
 * HOME, hand it REST requests (zt_ctl_api) and members' config requests
 * (zt_ctl_request_config), poll its notification fd and call
 * zt_ctl_process() to receive change and revocation callbacks on the
 * daemon's thread. JSON objects and hook semantics: controller/README.md.
 * zt_ctl_api, zt_ctl_request_config and zt_ctl_revocations may be called
 * from any thread (they serialize on one lock); callbacks only ever run
 * inside zt_ctl_process.
 */
#ifndef ZT_CONTROLLER_H
#define ZT_CONTROLLER_H

#include <jansson.h>

#include "base/endpoint.h"
#include "identity.h"
#include "netconf.h"
#include "base/zt.h"

struct zt_ctl;

/* Largest REST request body accepted, whatever the HTTP server allows. */
#define ZT_CTL_BODY_MAX (1u << 20)

struct zt_ctl_options {
	uint32_t hook_timeout_ms;      /* per delivery attempt (connect + transfer); default 5000 */
	uint32_t hook_retry_base_ms;   /* first retry delay, doubled per attempt; default 1000 */
	uint32_t hook_retry_max_ms;    /* cap of the delay; default 300000 */
	uint32_t hook_max_attempts;    /* then the delivery is failed; default 20 */
	uint64_t hook_keep_ms;         /* finished deliveries are pruned after this; default 7 days */
	uint64_t netconf_max_delta_ms; /* certificate agreement window; default ZT_NETCONF_MAX_DELTA_DEFAULT_MS */
	bool hooks_enabled;            /* run the delivery worker; default true */
};

void zt_ctl_options_default(struct zt_ctl_options *o);

/*
 * Open (creating if needed) HOME/controller.db and start the hook delivery
 * worker. controller must carry its secret keys; it is copied. zt_ctl_open
 * uses the default options.
 */
int zt_ctl_open(const char *home, const struct zt_identity *controller, struct zt_ctl **out);
int zt_ctl_open_with(const char *home, const struct zt_identity *controller, const struct zt_ctl_options *opt,
		     struct zt_ctl **out);
/* Stops the worker (an attempt in flight is aborted and stays pending), closes the store, wipes keys. */
void zt_ctl_close(struct zt_ctl *c);

uint64_t zt_ctl_address(const struct zt_ctl *c);

/*
 * REST API as a pure function. path has no query string. Returns 0 when
 * the request was answered (any HTTP status, *reply an owned JSON value),
 * or a negative ZT_E* code when the controller itself failed (then
 * *http_status is 500 and *reply still describes the error).
 */
int zt_ctl_api(struct zt_ctl *c, const char *method, const char *path, const char *body, size_t body_len,
	       uint64_t now_ms, int *http_status, json_t **reply);

enum zt_ctl_status {
	ZT_CTL_OK = 0,            /* netconf (signed) and encoded are filled */
	ZT_CTL_ACCESS_DENIED = 1, /* reason says why, e.g. "awaiting approval" */
	ZT_CTL_NOT_FOUND = 2,     /* no such network on this controller */
};

#define ZT_CTL_REASON_MAX 64

struct zt_ctl_answer {
	int status;
	char reason[ZT_CTL_REASON_MAX];
	struct zt_netconf netconf;
	uint8_t encoded[ZT_NETCONF_MAX_BYTES]; /* what to send the member */
	size_t encoded_len;
};

/*
 * A member asks for its config. member_public is the identity the member
 * presented; its address must derive from its keys (checked with
 * zt_identity_validate once per new identity; strangers are rate limited
 * by a token bucket). physical may be NULL. Returns 0 with out->status set,
 * ZT_EAUTH if the identity is invalid or ZT_ERATE if validation is
 * throttled (send nothing; the member retries), or another negative code
 * on a store failure. out is large: allocate it.
 */
int zt_ctl_request_config(struct zt_ctl *c, uint64_t nwid, const struct zt_identity *member_public,
			  const struct zt_endpoint *physical, uint64_t now_ms, struct zt_ctl_answer *out);

struct zt_ctl_callbacks {
	/* Something about nwid changed: member's config (member != 0) or every
	 * member's (member == 0). Push fresh configs (zt_ctl_request_config). */
	void (*changed)(void *ctx, uint64_t nwid, uint64_t member);
	/* A member lost its membership: send rev to every member of rev->network_id. */
	void (*revoked)(void *ctx, const struct zt_revocation *rev);
};

void zt_ctl_set_callbacks(struct zt_ctl *c, const struct zt_ctl_callbacks *cb, void *ctx);

/* Readable when zt_ctl_process() has work (eventfd, non-blocking). */
int zt_ctl_notify_fd(const struct zt_ctl *c);

/* Drain pending notifications into the callbacks, on the calling thread. */
int zt_ctl_process(struct zt_ctl *c, uint64_t now_ms);

/* Revocations of nwid still within their lifetime, for members that come back. */
int zt_ctl_revocations(struct zt_ctl *c, uint64_t nwid, uint64_t now_ms, struct zt_revocation *out, size_t max,
		       size_t *n);

#endif
