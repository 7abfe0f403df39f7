/*
 * store.h - the controller's persistence interface: a table of function
 * pointers, so a PostgreSQL backend can sit beside the SQLite one. Networks
 * and members are stored as JSON documents (the internal form, secrets
 * included); IP claims, the hook outbox and revocations are rows.
 * Every write happens between begin() and commit(); rollback() undoes all.
 */
#ifndef ZT_CTL_STORE_H
#define ZT_CTL_STORE_H

#include <jansson.h>

#include "netconf.h"
#include "base/zt.h"

enum zt_ctl_delivery_state {
	ZT_CTL_DELIVERY_PENDING = 0,
	ZT_CTL_DELIVERY_DELIVERED = 1,
	ZT_CTL_DELIVERY_FAILED = 2,
};

#define ZT_CTL_EVENT_ID_MAX 48
#define ZT_CTL_EVENT_TYPE_MAX 32
#define ZT_CTL_ERROR_MAX 256

/* One event addressed to one hook URL (an outbox row). */
struct zt_ctl_delivery {
	int64_t id; /* row id, assigned by outbox_add */
	char event_id[ZT_CTL_EVENT_ID_MAX];
	char type[ZT_CTL_EVENT_TYPE_MAX];
	uint64_t network_id;
	uint64_t member; /* 0: the event is about the network */
	char *url;       /* heap strings owned by the struct: zt_ctl_delivery_clear() */
	char *secret;
	char *body;
	int state;
	uint32_t attempts;
	uint64_t next_attempt_ms;
	uint64_t created_ms;
	uint64_t updated_ms;
	char last_error[ZT_CTL_ERROR_MAX];
};

void zt_ctl_delivery_clear(struct zt_ctl_delivery *d);
const char *zt_ctl_delivery_state_name(int state);

struct zt_ctl_store;

struct zt_ctl_store_ops {
	const char *name;
	void (*close)(struct zt_ctl_store *s);

	int (*begin)(struct zt_ctl_store *s);
	int (*commit)(struct zt_ctl_store *s);
	void (*rollback)(struct zt_ctl_store *s);

	/* Small named values (counters, global settings). ZT_ENOENT if unset. */
	int (*setting_get)(struct zt_ctl_store *s, const char *key, char **value);
	int (*setting_put)(struct zt_ctl_store *s, const char *key, const char *value);

	/* Documents; *doc is a new reference owned by the caller. ZT_ENOENT if absent. */
	int (*network_get)(struct zt_ctl_store *s, uint64_t nwid, json_t **doc);
	int (*network_put)(struct zt_ctl_store *s, uint64_t nwid, const json_t *doc);
	/* Also drops the network's members, IP claims and revocations. */
	int (*network_delete)(struct zt_ctl_store *s, uint64_t nwid);
	/* Array of network ids, ascending. */
	int (*network_list)(struct zt_ctl_store *s, json_t **ids);
	int (*member_get)(struct zt_ctl_store *s, uint64_t nwid, uint64_t member, json_t **doc);
	int (*member_put)(struct zt_ctl_store *s, uint64_t nwid, uint64_t member, const json_t *doc);
	int (*member_delete)(struct zt_ctl_store *s, uint64_t nwid, uint64_t member);
	/* Array of member documents, ascending by address. */
	int (*member_list)(struct zt_ctl_store *s, uint64_t nwid, json_t **docs);

	/* Replace member's claimed IPs (canonical text) with ips[0..n); ZT_EEXIST if
	 * another member of the network holds one of them (nothing changed then). */
	int (*ip_claim_set)(struct zt_ctl_store *s, uint64_t nwid, uint64_t member, const char *const *ips, size_t n);
	/* Array of every claimed IP (canonical text) in the network. */
	int (*ip_claim_list)(struct zt_ctl_store *s, uint64_t nwid, json_t **ips);

	/* Hook outbox. */
	int (*outbox_add)(struct zt_ctl_store *s, struct zt_ctl_delivery *d);
	/* The oldest pending delivery due at now_ms. ZT_ENOENT if none. */
	int (*outbox_next_due)(struct zt_ctl_store *s, uint64_t now_ms, struct zt_ctl_delivery *d);
	/* Earliest next_attempt_ms of any pending delivery. ZT_ENOENT if none. */
	int (*outbox_next_time)(struct zt_ctl_store *s, uint64_t *when_ms);
	/* Store state, attempts, next_attempt_ms, updated_ms and last_error of d. */
	int (*outbox_update)(struct zt_ctl_store *s, const struct zt_ctl_delivery *d);
	/* Newest first, at most limit rows, as public JSON (no secret, no body). */
	int (*outbox_list)(struct zt_ctl_store *s, uint64_t nwid, size_t limit, json_t **rows);
	/* Drop finished (delivered or failed) rows last updated before before_ms. */
	int (*outbox_prune)(struct zt_ctl_store *s, uint64_t before_ms);

	/* Revocations still worth sending (expires_ms in the future). */
	int (*revocation_put)(struct zt_ctl_store *s, const struct zt_revocation *rev, uint64_t expires_ms);
	int (*revocation_list)(struct zt_ctl_store *s, uint64_t nwid, uint64_t now_ms, struct zt_revocation *out,
			       size_t max, size_t *n);
};

struct zt_ctl_store {
	const struct zt_ctl_store_ops *ops;
};

/* HOME/controller.db, created 0600, WAL, migrated to the current schema. */
int zt_ctl_store_sqlite_open(const char *home, struct zt_ctl_store **out);

#endif
