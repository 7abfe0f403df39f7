/*
 * ctl_int.h - what the controller's files share and the daemon does not
 * see: the controller object and each file's entry points, grouped by layer
 * from the bottom up (controller/README.md): ids, documents and
 * transactions; objects, addresses and rules; members and events; config
 * building; the hook worker. A file calls only the groups listed before its own.
 */
#ifndef ZT_CTL_INT_H
#define ZT_CTL_INT_H

#include <pthread.h>

#include "base/limiter.h"
#include "controller.h"
#include "store.h"

#define ZT_CTL_SECRET_MIN 16
#define ZT_CTL_SECRET_MAX 256
#define ZT_CTL_URL_MAX 2048
#define ZT_CTL_HOOKS_MAX 8
#define ZT_CTL_POOLS_MAX 16
#define ZT_CTL_DESCRIPTION_MAX 1023
#define ZT_CTL_RULES_SOURCE_MAX (256u << 10)
#define ZT_CTL_SEEN_WRITE_MS 60000 /* last_seen is persisted at most this often */
#define ZT_CTL_DELIVERY_LIST_MAX 1000

/* A validation failure: HTTP status, the offending field and why. */
struct zt_ctl_err {
	int status;
	char field[64];
	char reason[256];
	unsigned line, column; /* rules_source compile errors; 0 when not */
};

/* doc.c */
int zt_ctl_fail(struct zt_ctl_err *e, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

struct zt_ctl_note {
	uint64_t nwid;
	uint64_t member;
};

/* Growable arrays of notes and revocations. */
struct zt_ctl_notes {
	struct zt_ctl_note *v;
	size_t n, cap;
};

struct zt_ctl_revs {
	struct zt_revocation *v;
	size_t n, cap;
};

struct zt_ctl_hooks;

struct zt_ctl {
	struct zt_identity id; /* with secret keys */
	struct zt_ctl_options opt;
	char *home;

	pthread_mutex_t lock; /* the store connection and everything below */
	struct zt_ctl_store *store;
	bool in_tx;
	bool tx_outbox; /* the open transaction queued hook deliveries */
	struct zt_ctl_notes tx_notes;
	struct zt_ctl_revs tx_revs;
	struct zt_limiter validate_limit; /* identity checks of strangers */

	pthread_mutex_t q_lock; /* committed, waiting for zt_ctl_process */
	struct zt_ctl_notes q_notes;
	struct zt_ctl_revs q_revs;
	int notify_fd;
	struct zt_ctl_callbacks cb;
	void *cb_ctx;

	struct zt_ctl_hooks *hooks;
	/* Set by the hook worker (hooks.c) while it runs; txn.c calls it after a
	 * commit that queued deliveries: a callback, so txn.c does not call up. */
	void (*outbox_wake)(struct zt_ctl *c);
};

/* ---- ids.c: network ids, member addresses, random bytes ---- */
int zt_ctl_parse_nwid(const char *s, uint64_t *nwid);     /* exactly 16 hex digits */
int zt_ctl_parse_member(const char *s, uint64_t *member); /* exactly 10 hex digits, not reserved */
void zt_ctl_format_nwid(char out[17], uint64_t nwid);
void zt_ctl_format_member(char out[11], uint64_t member);
void zt_ctl_random(void *buf, size_t len);

/* ---- doc.c: document fields (validated when written), the validation error ---- */
bool zt_ctl_doc_bool(const json_t *doc, const char *key);
uint64_t zt_ctl_doc_u64(const json_t *doc, const char *key);
const char *zt_ctl_doc_str(const json_t *doc, const char *key);
int zt_ctl_doc_set_u64(json_t *doc, const char *key, uint64_t v);

/* ---- txn.c: transactions, notes, counters ---- */
int zt_ctl_tx_begin(struct zt_ctl *c);
int zt_ctl_tx_commit(struct zt_ctl *c);
void zt_ctl_tx_abort(struct zt_ctl *c);
int zt_ctl_note_change(struct zt_ctl *c, uint64_t nwid, uint64_t member);
/* Sign and store a revocation of member (threshold now_ms), sent after commit. */
int zt_ctl_note_revoke(struct zt_ctl *c, uint64_t nwid, uint64_t member, uint64_t now_ms);
/* Controller-wide counter: every network or member change takes the next value. */
int zt_ctl_next_revision(struct zt_ctl *c, uint64_t *rev);
int zt_ctl_next_counter(struct zt_ctl *c, const char *key, uint64_t *value);

/* ---- objects.c: documents, validation, public views ---- */
json_t *zt_ctl_network_new(uint64_t nwid, uint64_t now_ms);
/* Validate body and apply it to doc (a private copy: on error it is garbage). */
int zt_ctl_network_apply(json_t *doc, const json_t *body, struct zt_ctl_err *e);
json_t *zt_ctl_network_view(const json_t *doc);
json_t *zt_ctl_member_new(uint64_t nwid, uint64_t member, uint64_t now_ms);
int zt_ctl_member_apply(json_t *doc, const json_t *body, const json_t *network, struct zt_ctl_err *e);
/* Hook lists: given replaces old; a hook given without "secret" keeps old's secret for that url. */
int zt_ctl_hooks_parse(const json_t *given, const json_t *old, json_t **out, struct zt_ctl_err *e);
json_t *zt_ctl_hooks_view(const json_t *hooks);

/* ---- ipaddr.c: addresses, prefixes, pools, assignment ---- */
struct zt_ctl_ip {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
};

#define ZT_CTL_IP_TEXT_MAX 46

int zt_ctl_ip_parse(struct zt_ctl_ip *ip, const char *text);
void zt_ctl_ip_format(const struct zt_ctl_ip *ip, char out[ZT_CTL_IP_TEXT_MAX]);
int zt_ctl_cidr_parse(struct zt_ctl_ip *ip, uint8_t *prefix_len, const char *text);
int zt_ctl_ip_cmp(const struct zt_ctl_ip *a, const struct zt_ctl_ip *b);
bool zt_ctl_ip_in_prefix(const struct zt_ctl_ip *ip, const struct zt_ctl_ip *net, uint8_t prefix_len);
/* Unicast and assignable: not unspecified, loopback, multicast or broadcast. */
bool zt_ctl_ip_assignable(const struct zt_ctl_ip *ip);
/* First address of the network's pools of family not in taken[] (sorted by zt_ctl_ip_cmp). */
int zt_ctl_ip_pick(const json_t *pools, const struct zt_ctl_ip *taken, size_t n_taken, struct zt_ctl_ip *out);

/* ---- rulesc.c: the one place that calls the rules compiler ---- */
/* Compile rules source into out (<= ZT_NETCONF_RULES_MAX). On a syntax error: ZT_EPARSE and e filled. */
int zt_ctl_rules_compile(const char *src, size_t len, uint8_t *out, size_t cap, size_t *out_len, struct zt_ctl_err *e);

/* ---- member.c: saving members and what follows from it ---- */
/*
 * Store member (new document doc, previous old or NULL): assign missing
 * addresses if it is authorized, claim its addresses (duplicates are a 400),
 * take a revision, queue events for authorization changes, revoke on
 * deauthorization and note the change.
 */
int zt_ctl_member_save(struct zt_ctl *c, const json_t *network, const json_t *old, json_t *doc, uint64_t now_ms,
		       struct zt_ctl_err *e);
/* A known member asks again: assign addresses it lacks (a new revision only if
 * one was assigned) and store the document if that or dirty changed it. */
int zt_ctl_member_refresh(struct zt_ctl *c, const json_t *network, json_t *doc, bool dirty, uint64_t now_ms);
/* Remove member: release its addresses, revoke it if it was authorized, queue member.deleted. */
int zt_ctl_member_remove(struct zt_ctl *c, const json_t *network, const json_t *doc, uint64_t now_ms);
bool zt_ctl_member_effective_auth(const json_t *network, const json_t *member);
/* Authorized, and missing an address of a family the network has pools for. */
bool zt_ctl_member_needs_ips(const json_t *network, const json_t *member);
/* The network id and address a member document carries. */
int zt_ctl_member_ids(const json_t *doc, uint64_t *nwid, uint64_t *member);

/* A change to one member, as the API and a hook's decision make it. */
struct zt_ctl_member_change {
	uint64_t nwid, member;
	const json_t *body; /* the member fields to set, validated as the API's (objects.c) */
	bool create;        /* create the member if absent (pre-authorization); else a 404 */
	const char *who;    /* who decides, for the log: "the API", "hook <url>" */
};

/*
 * The one member update, in the caller's transaction: load network and
 * member (404 in e when absent), apply ch->body, save (events, revocation,
 * change note). On success *out is the stored document (owned) and
 * *created says whether it is new.
 */
int zt_ctl_member_update(struct zt_ctl *c, const struct zt_ctl_member_change *ch, uint64_t now_ms,
			 struct zt_ctl_err *e, json_t **out, bool *created);

/* ---- events.c: events into the outbox ---- */
/* Queue type for every hook of network (or the global hooks) in the open transaction. */
int zt_ctl_emit(struct zt_ctl *c, const char *type, const json_t *network, const json_t *member, uint64_t now_ms);

/* ---- config_build.c: a member's config from the documents (signed by config_request.c) ---- */
int zt_ctl_netconf_build(struct zt_ctl *c, const json_t *network, const json_t *member, uint64_t now_ms,
			 struct zt_netconf *nc);

/* ---- hooks.c: the delivery worker (the top) ---- */
int zt_ctl_hooks_start(struct zt_ctl *c);
void zt_ctl_hooks_stop(struct zt_ctl *c);
/*
 * A receiver's 2xx answer to delivery d: for member.join_requested, a
 * decision {"authorize": bool, "name", "tags"} is applied with
 * zt_ctl_member_update in its own transaction (takes c->lock). err gets why
 * a decision was refused or ignored; untouched otherwise.
 */
void zt_ctl_hooks_apply_answer(struct zt_ctl *c, const struct zt_ctl_delivery *d, const char *answer, size_t len,
			       char *err, size_t err_len);

#endif
