/*
 * store_sqlite.c - the controller store on SQLite: HOME/controller.db in WAL
 * mode, schema versioned through the schema_migrations table. The only file
 * that includes sqlite3.h. It stores and fetches; it does not validate
 * documents (objects.c) nor decide anything.
 */
#include "store.h"

#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DB_FILE "controller.db"
#define BUSY_TIMEOUT_MS 5000
#define DOC_MAX_BYTES (4u << 20) /* a stored document larger than this is corrupt */

struct sqlite_store {
	struct zt_ctl_store base;
	sqlite3 *db;
};

/*
 * Migrations, applied in order, each in one transaction with its row in
 * schema_migrations. Never edit a published step: append a new one.
 */
static const char *const migrations[] = {
	/* 1: networks, members, IP claims, hook outbox, revocations, settings */
	"CREATE TABLE setting(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE network(id TEXT PRIMARY KEY, doc TEXT NOT NULL);"
	"CREATE TABLE member(network_id TEXT NOT NULL REFERENCES network(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY(network_id, address));"
	"CREATE TABLE ip_claim(network_id TEXT NOT NULL, ip TEXT NOT NULL, address TEXT NOT NULL,"
	" PRIMARY KEY(network_id, ip),"
	" FOREIGN KEY(network_id, address) REFERENCES member(network_id, address) ON DELETE CASCADE);"
	"CREATE INDEX ip_claim_member ON ip_claim(network_id, address);"
	"CREATE TABLE outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL,"
	" type TEXT NOT NULL, network_id TEXT NOT NULL, member_id TEXT, url TEXT NOT NULL,"
	" secret TEXT NOT NULL, body TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('pending','delivered','failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL, last_error TEXT,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE INDEX outbox_due ON outbox(state, next_attempt_ms);"
	"CREATE INDEX outbox_network ON outbox(network_id, id);"
	"CREATE TABLE revocation(network_id TEXT NOT NULL REFERENCES network(id) ON DELETE CASCADE,"
	" address TEXT NOT NULL, threshold_ms INTEGER NOT NULL, signature BLOB NOT NULL,"
	" expires_ms INTEGER NOT NULL, PRIMARY KEY(network_id, address));",
};

static struct sqlite_store *S(struct zt_ctl_store *s)
{
	return (struct sqlite_store *)s;
}

static int db_err(struct sqlite_store *s, const char *what)
{
	zt_log(ZT_LOG_ERROR, "controller store: %s: %s", what, sqlite3_errmsg(s->db));
	return ZT_EIO;
}

static void fmt_nwid(char out[17], uint64_t nwid)
{
	snprintf(out, 17, "%016" PRIx64, nwid);
}

static void fmt_addr(char out[11], uint64_t addr)
{
	snprintf(out, 11, "%010" PRIx64, (uint64_t)(addr & 0xffffffffffULL));
}

static int exec(struct sqlite_store *s, const char *sql)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_err(s, sql);
	return 0;
}

static int prepare(struct sqlite_store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_err(s, "prepare");
	return 0;
}

/* Step a statement that returns no rows, then finalize it. */
static int step_done(struct sqlite_store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		int err = rc == SQLITE_CONSTRAINT ? ZT_EEXIST : db_err(s, "step");
		sqlite3_finalize(st);
		return err;
	}
	sqlite3_finalize(st);
	return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

static void bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	sqlite3_bind_int64(st, i, (sqlite3_int64)(v > INT64_MAX ? INT64_MAX : v));
}

static uint64_t col_u64(sqlite3_stmt *st, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(st, i);
	return v < 0 ? 0 : (uint64_t)v;
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return strdup(t ? (const char *)t : "");
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, cap, "%s", t ? (const char *)t : "");
}

static int load_doc(sqlite3_stmt *st, int col, json_t **doc)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	int len = sqlite3_column_bytes(st, col);
	json_error_t jerr;

	if (!text || len <= 0 || (unsigned)len > DOC_MAX_BYTES)
		return ZT_EINVAL;
	*doc = json_loadb(text, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*doc || !json_is_object(*doc)) {
		json_decref(*doc);
		*doc = NULL;
		zt_log(ZT_LOG_ERROR, "controller store: corrupt document: %s", jerr.text);
		return ZT_EINVAL;
	}
	return 0;
}

static int bind_doc(sqlite3_stmt *st, int i, const json_t *doc)
{
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);

	if (!text)
		return ZT_ENOMEM;
	sqlite3_bind_text(st, i, text, -1, free);
	return 0;
}

/* ---- transactions ---- */

static int s_begin(struct zt_ctl_store *s)
{
	/* IMMEDIATE takes the write lock up front: two connections (API and
	 * hook worker) never deadlock upgrading a read lock. */
	return exec(S(s), "BEGIN IMMEDIATE");
}

static int s_commit(struct zt_ctl_store *s)
{
	return exec(S(s), "COMMIT");
}

static void s_rollback(struct zt_ctl_store *s)
{
	if (!sqlite3_get_autocommit(S(s)->db))
		sqlite3_exec(S(s)->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- settings ---- */

static int s_setting_get(struct zt_ctl_store *s, const char *key, char **value)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(S(s), "SELECT value FROM setting WHERE key = ?", &st)) != 0)
		return rc;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*value = col_strdup(st, 0);
		rc = *value ? 0 : ZT_ENOMEM;
	} else {
		rc = rc == SQLITE_DONE ? ZT_ENOENT : db_err(S(s), "setting_get");
	}
	sqlite3_finalize(st);
	return rc;
}

static int s_setting_put(struct zt_ctl_store *s, const char *key, const char *value)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(S(s), "INSERT OR REPLACE INTO setting(key, value) VALUES(?, ?)", &st)) != 0)
		return rc;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return step_done(S(s), st);
}

/* ---- documents ---- */

static int get_doc(struct sqlite_store *s, sqlite3_stmt *st, json_t **doc)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		rc = load_doc(st, 0, doc);
	else
		rc = rc == SQLITE_DONE ? ZT_ENOENT : db_err(s, "get");
	sqlite3_finalize(st);
	return rc;
}

static int s_network_get(struct zt_ctl_store *s, uint64_t nwid, json_t **doc)
{
	sqlite3_stmt *st;
	char id[17];
	int rc;

	if ((rc = prepare(S(s), "SELECT doc FROM network WHERE id = ?", &st)) != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	return get_doc(S(s), st, doc);
}

static int s_network_put(struct zt_ctl_store *s, uint64_t nwid, const json_t *doc)
{
	sqlite3_stmt *st;
	char id[17];
	int rc;

	if ((rc = prepare(S(s), "INSERT INTO network(id, doc) VALUES(?1, ?2)"
				" ON CONFLICT(id) DO UPDATE SET doc = ?2", &st)) != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	if ((rc = bind_doc(st, 2, doc)) != 0) {
		sqlite3_finalize(st);
		return rc;
	}
	return step_done(S(s), st);
}

static int s_network_delete(struct zt_ctl_store *s, uint64_t nwid)
{
	sqlite3_stmt *st;
	char id[17];
	int rc;

	if ((rc = prepare(S(s), "DELETE FROM network WHERE id = ?", &st)) != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	if ((rc = step_done(S(s), st)) != 0)
		return rc;
	return sqlite3_changes(S(s)->db) ? 0 : ZT_ENOENT;
}

/* Collect column 0 of every row: as strings, or as parsed documents. */
static int collect(struct sqlite_store *s, sqlite3_stmt *st, bool docs, json_t **out)
{
	json_t *arr = json_array();
	int rc;

	if (!arr) {
		sqlite3_finalize(st);
		return ZT_ENOMEM;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *v = NULL;
		if (docs) {
			if (load_doc(st, 0, &v) != 0)
				continue;
		} else {
			v = json_string((const char *)sqlite3_column_text(st, 0));
		}
		if (!v || json_array_append_new(arr, v) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return rc == SQLITE_NOMEM ? ZT_ENOMEM : db_err(s, "list");
	}
	*out = arr;
	return 0;
}

static int s_network_list(struct zt_ctl_store *s, json_t **ids)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = prepare(S(s), "SELECT id FROM network ORDER BY id", &st)) != 0)
		return rc;
	return collect(S(s), st, false, ids);
}

static int member_stmt(struct sqlite_store *s, const char *sql, uint64_t nwid, uint64_t member, sqlite3_stmt **st)
{
	char id[17], addr[11];
	int rc;

	if ((rc = prepare(s, sql, st)) != 0)
		return rc;
	fmt_nwid(id, nwid);
	fmt_addr(addr, member);
	bind_text(*st, 1, id);
	bind_text(*st, 2, addr);
	return 0;
}

static int s_member_get(struct zt_ctl_store *s, uint64_t nwid, uint64_t member, json_t **doc)
{
	sqlite3_stmt *st;
	int rc;

	rc = member_stmt(S(s), "SELECT doc FROM member WHERE network_id = ?1 AND address = ?2", nwid, member, &st);
	if (rc != 0)
		return rc;
	return get_doc(S(s), st, doc);
}

static int s_member_put(struct zt_ctl_store *s, uint64_t nwid, uint64_t member, const json_t *doc)
{
	sqlite3_stmt *st;
	int rc;

	rc = member_stmt(S(s), "INSERT INTO member(network_id, address, doc) VALUES(?1, ?2, ?3)"
			       " ON CONFLICT(network_id, address) DO UPDATE SET doc = ?3", nwid, member, &st);
	if (rc != 0)
		return rc;
	if ((rc = bind_doc(st, 3, doc)) != 0) {
		sqlite3_finalize(st);
		return rc;
	}
	return step_done(S(s), st);
}

static int s_member_delete(struct zt_ctl_store *s, uint64_t nwid, uint64_t member)
{
	sqlite3_stmt *st;
	int rc;

	rc = member_stmt(S(s), "DELETE FROM member WHERE network_id = ?1 AND address = ?2", nwid, member, &st);
	if (rc != 0)
		return rc;
	if ((rc = step_done(S(s), st)) != 0)
		return rc;
	return sqlite3_changes(S(s)->db) ? 0 : ZT_ENOENT;
}

static int s_member_list(struct zt_ctl_store *s, uint64_t nwid, json_t **docs)
{
	sqlite3_stmt *st;
	char id[17];
	int rc;

	if ((rc = prepare(S(s), "SELECT doc FROM member WHERE network_id = ? ORDER BY address", &st)) != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	return collect(S(s), st, true, docs);
}

/* ---- IP claims ---- */

static int s_ip_claim_set(struct zt_ctl_store *s, uint64_t nwid, uint64_t member, const char *const *ips, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	rc = member_stmt(S(s), "DELETE FROM ip_claim WHERE network_id = ?1 AND address = ?2", nwid, member, &st);
	if (rc != 0 || (rc = step_done(S(s), st)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		rc = member_stmt(S(s), "INSERT INTO ip_claim(network_id, address, ip) VALUES(?1, ?2, ?3)",
				 nwid, member, &st);
		if (rc != 0)
			return rc;
		bind_text(st, 3, ips[i]);
		if ((rc = step_done(S(s), st)) != 0)
			return rc;
	}
	return 0;
}

static int s_ip_claim_list(struct zt_ctl_store *s, uint64_t nwid, json_t **ips)
{
	sqlite3_stmt *st;
	char id[17];
	int rc;

	if ((rc = prepare(S(s), "SELECT ip FROM ip_claim WHERE network_id = ? ORDER BY ip", &st)) != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	return collect(S(s), st, false, ips);
}

/* ---- hook outbox ---- */

static const char *const state_names[] = {"pending", "delivered", "failed"};

const char *zt_ctl_delivery_state_name(int state)
{
	if (state < 0 || state >= (int)ZT_ARRAY_LEN(state_names))
		return "unknown";
	return state_names[state];
}

static int state_parse(const char *name)
{
	for (size_t i = 0; i < ZT_ARRAY_LEN(state_names); i++)
		if (name && strcmp(name, state_names[i]) == 0)
			return (int)i;
	return ZT_CTL_DELIVERY_FAILED;
}

void zt_ctl_delivery_clear(struct zt_ctl_delivery *d)
{
	free(d->url);
	if (d->secret) {
		zt_wipe(d->secret, strlen(d->secret));
		free(d->secret);
	}
	free(d->body);
	memset(d, 0, sizeof(*d));
}

static int s_outbox_add(struct zt_ctl_store *s, struct zt_ctl_delivery *d)
{
	sqlite3_stmt *st;
	char id[17], addr[11];
	int rc;

	rc = prepare(S(s), "INSERT INTO outbox(event_id, type, network_id, member_id, url, secret, body, state,"
			   " attempts, next_attempt_ms, last_error, created_ms, updated_ms)"
			   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)", &st);
	if (rc != 0)
		return rc;
	fmt_nwid(id, d->network_id);
	fmt_addr(addr, d->member);
	bind_text(st, 1, d->event_id);
	bind_text(st, 2, d->type);
	bind_text(st, 3, id);
	if (d->member)
		bind_text(st, 4, addr);
	bind_text(st, 5, d->url);
	bind_text(st, 6, d->secret);
	bind_text(st, 7, d->body);
	bind_text(st, 8, zt_ctl_delivery_state_name(d->state));
	sqlite3_bind_int64(st, 9, d->attempts);
	bind_u64(st, 10, d->next_attempt_ms);
	bind_u64(st, 11, d->created_ms);
	bind_u64(st, 12, d->created_ms);
	if ((rc = step_done(S(s), st)) != 0)
		return rc;
	d->id = sqlite3_last_insert_rowid(S(s)->db);
	return 0;
}

static int s_outbox_next_due(struct zt_ctl_store *s, uint64_t now_ms, struct zt_ctl_delivery *d)
{
	sqlite3_stmt *st;
	int rc;

	rc = prepare(S(s), "SELECT id, event_id, type, network_id, member_id, url, secret, body, attempts,"
			   " next_attempt_ms, last_error, created_ms, updated_ms FROM outbox"
			   " WHERE state = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms, id LIMIT 1",
		     &st);
	if (rc != 0)
		return rc;
	bind_u64(st, 1, now_ms);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return rc == SQLITE_DONE ? ZT_ENOENT : db_err(S(s), "outbox_next_due");
	}
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	col_copy(st, 1, d->event_id, sizeof(d->event_id));
	col_copy(st, 2, d->type, sizeof(d->type));
	d->network_id = strtoull((const char *)sqlite3_column_text(st, 3), NULL, 16);
	if (sqlite3_column_type(st, 4) == SQLITE_TEXT)
		d->member = strtoull((const char *)sqlite3_column_text(st, 4), NULL, 16);
	d->url = col_strdup(st, 5);
	d->secret = col_strdup(st, 6);
	d->body = col_strdup(st, 7);
	d->state = ZT_CTL_DELIVERY_PENDING;
	d->attempts = (uint32_t)sqlite3_column_int64(st, 8);
	d->next_attempt_ms = col_u64(st, 9);
	col_copy(st, 10, d->last_error, sizeof(d->last_error));
	d->created_ms = col_u64(st, 11);
	d->updated_ms = col_u64(st, 12);
	sqlite3_finalize(st);
	if (!d->url || !d->secret || !d->body) {
		zt_ctl_delivery_clear(d);
		return ZT_ENOMEM;
	}
	return 0;
}

static int s_outbox_next_time(struct zt_ctl_store *s, uint64_t *when_ms)
{
	sqlite3_stmt *st;
	int rc;

	rc = prepare(S(s), "SELECT MIN(next_attempt_ms) FROM outbox WHERE state = 'pending'", &st);
	if (rc != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*when_ms = col_u64(st, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_ROW ? ZT_ENOENT : db_err(S(s), "outbox_next_time");
	}
	sqlite3_finalize(st);
	return rc;
}

static int s_outbox_update(struct zt_ctl_store *s, const struct zt_ctl_delivery *d)
{
	sqlite3_stmt *st;
	int rc;

	rc = prepare(S(s), "UPDATE outbox SET state = ?, attempts = ?, next_attempt_ms = ?, updated_ms = ?,"
			   " last_error = ? WHERE id = ?", &st);
	if (rc != 0)
		return rc;
	bind_text(st, 1, zt_ctl_delivery_state_name(d->state));
	sqlite3_bind_int64(st, 2, d->attempts);
	bind_u64(st, 3, d->next_attempt_ms);
	bind_u64(st, 4, d->updated_ms);
	if (d->last_error[0])
		bind_text(st, 5, d->last_error);
	sqlite3_bind_int64(st, 6, d->id);
	return step_done(S(s), st);
}

static json_t *outbox_row_json(sqlite3_stmt *st)
{
	const char *member = (const char *)sqlite3_column_text(st, 4);
	const char *err = (const char *)sqlite3_column_text(st, 9);
	int state = state_parse((const char *)sqlite3_column_text(st, 6));

	return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s, s:s, s:I, s:o?, s:s?, s:I, s:I}",
			 "delivery_id", (json_int_t)sqlite3_column_int64(st, 0),
			 "event_id", (const char *)sqlite3_column_text(st, 1),
			 "type", (const char *)sqlite3_column_text(st, 2),
			 "network_id", (const char *)sqlite3_column_text(st, 3),
			 "member_id", member,
			 "url", (const char *)sqlite3_column_text(st, 5),
			 "state", zt_ctl_delivery_state_name(state),
			 "attempts", (json_int_t)sqlite3_column_int64(st, 7),
			 "next_attempt", state == ZT_CTL_DELIVERY_PENDING ? json_integer(sqlite3_column_int64(st, 8)) : NULL,
			 "last_error", err,
			 "created", (json_int_t)sqlite3_column_int64(st, 10),
			 "updated", (json_int_t)sqlite3_column_int64(st, 11));
}

static int s_outbox_list(struct zt_ctl_store *s, uint64_t nwid, size_t limit, json_t **rows)
{
	sqlite3_stmt *st;
	json_t *arr;
	char id[17];
	int rc;

	rc = prepare(S(s), "SELECT id, event_id, type, network_id, member_id, url, state, attempts,"
			   " next_attempt_ms, last_error, created_ms, updated_ms FROM outbox"
			   " WHERE network_id = ? ORDER BY id DESC LIMIT ?", &st);
	if (rc != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)ZT_MIN(limit, (size_t)INT_MAX));
	arr = json_array();
	while (arr && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = outbox_row_json(st);
		if (!row || json_array_append_new(arr, row) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	sqlite3_finalize(st);
	if (!arr)
		return ZT_ENOMEM;
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return db_err(S(s), "outbox_list");
	}
	*rows = arr;
	return 0;
}

static int s_outbox_prune(struct zt_ctl_store *s, uint64_t before_ms)
{
	sqlite3_stmt *st;
	int rc;

	rc = prepare(S(s), "DELETE FROM outbox WHERE state != 'pending' AND updated_ms < ?", &st);
	if (rc != 0)
		return rc;
	bind_u64(st, 1, before_ms);
	return step_done(S(s), st);
}

/* ---- revocations ---- */

static int s_revocation_put(struct zt_ctl_store *s, const struct zt_revocation *rev, uint64_t expires_ms)
{
	sqlite3_stmt *st;
	int rc;

	rc = member_stmt(S(s), "INSERT OR REPLACE INTO revocation(network_id, address, threshold_ms, signature,"
			       " expires_ms) VALUES(?1, ?2, ?3, ?4, ?5)", rev->network_id, rev->member, &st);
	if (rc != 0)
		return rc;
	bind_u64(st, 3, rev->threshold_ms);
	sqlite3_bind_blob(st, 4, rev->signature, ZT_SIGNATURE_BYTES, SQLITE_TRANSIENT);
	bind_u64(st, 5, expires_ms);
	return step_done(S(s), st);
}

static int s_revocation_list(struct zt_ctl_store *s, uint64_t nwid, uint64_t now_ms, struct zt_revocation *out,
			     size_t max, size_t *n)
{
	sqlite3_stmt *st;
	char id[17];
	int rc;

	*n = 0;
	rc = prepare(S(s), "SELECT address, threshold_ms, signature FROM revocation"
			   " WHERE network_id = ? AND expires_ms > ? ORDER BY address LIMIT ?", &st);
	if (rc != 0)
		return rc;
	fmt_nwid(id, nwid);
	bind_text(st, 1, id);
	bind_u64(st, 2, now_ms);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)ZT_MIN(max, (size_t)INT_MAX));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct zt_revocation *r = &out[*n];
		if (sqlite3_column_bytes(st, 2) != ZT_SIGNATURE_BYTES)
			continue;
		r->network_id = nwid;
		r->member = strtoull((const char *)sqlite3_column_text(st, 0), NULL, 16);
		r->threshold_ms = col_u64(st, 1);
		memcpy(r->signature, sqlite3_column_blob(st, 2), ZT_SIGNATURE_BYTES);
		(*n)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_err(S(s), "revocation_list");
}

/* ---- open, migrate, close ---- */

static int schema_version(struct sqlite_store *s, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if ((rc = exec(s, "CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY,"
			  " applied_at INTEGER NOT NULL)")) != 0)
		return rc;
	if ((rc = prepare(s, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &st)) != 0)
		return rc;
	rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	return *version < 0 ? db_err(s, "schema version") : 0;
}

static int migrate(struct sqlite_store *s)
{
	int version, rc;

	if ((rc = exec(s, "BEGIN IMMEDIATE")) != 0)
		return rc;
	rc = schema_version(s, &version);
	if (rc == 0 && version > (int)ZT_ARRAY_LEN(migrations)) {
		zt_log(ZT_LOG_ERROR, "controller store: schema version %d is newer than this program (%zu)",
		       version, ZT_ARRAY_LEN(migrations));
		rc = ZT_EVERSION;
	}
	for (int v = version + 1; rc == 0 && v <= (int)ZT_ARRAY_LEN(migrations); v++) {
		char sql[128];
		rc = exec(s, migrations[v - 1]);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations(version, applied_at)"
					   " VALUES(%d, strftime('%%s','now'))", v);
		if (rc == 0)
			rc = exec(s, sql);
	}
	if (rc != 0) {
		s_rollback(&s->base);
		return rc;
	}
	return exec(s, "COMMIT");
}

static void s_close(struct zt_ctl_store *base)
{
	struct sqlite_store *s = S(base);

	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

static const struct zt_ctl_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = s_close,
	.begin = s_begin,
	.commit = s_commit,
	.rollback = s_rollback,
	.setting_get = s_setting_get,
	.setting_put = s_setting_put,
	.network_get = s_network_get,
	.network_put = s_network_put,
	.network_delete = s_network_delete,
	.network_list = s_network_list,
	.member_get = s_member_get,
	.member_put = s_member_put,
	.member_delete = s_member_delete,
	.member_list = s_member_list,
	.ip_claim_set = s_ip_claim_set,
	.ip_claim_list = s_ip_claim_list,
	.outbox_add = s_outbox_add,
	.outbox_next_due = s_outbox_next_due,
	.outbox_next_time = s_outbox_next_time,
	.outbox_update = s_outbox_update,
	.outbox_list = s_outbox_list,
	.outbox_prune = s_outbox_prune,
	.revocation_put = s_revocation_put,
	.revocation_list = s_revocation_list,
};

/* The database holds hook secrets: create it owner-only before SQLite does. */
static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		zt_log(ZT_LOG_ERROR, "controller store: %s: %s", path, strerror(errno));
		return ZT_EIO;
	}
	close(fd);
	return 0;
}

/*
 * Durability: journal_mode=WAL with synchronous=FULL. An answer the API has
 * given (a member authorized, an address assigned, an event queued) must
 * survive a power cut; controller writes are rare (admin edits, first
 * contact, last_seen at most once a minute per member), so one fsync per
 * commit is cheap. NORMAL+WAL could lose the last commits on power loss.
 */
static const char pragmas[] = "PRAGMA journal_mode=WAL;"
			      "PRAGMA synchronous=FULL;"
			      "PRAGMA foreign_keys=ON;"
			      "PRAGMA secure_delete=ON;";

int zt_ctl_store_sqlite_open(const char *home, struct zt_ctl_store **out)
{
	struct sqlite_store *s;
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if (snprintf(path, sizeof(path), "%s/%s", home, DB_FILE) >= (int)sizeof(path))
		return ZT_ETOOBIG;
	if ((rc = create_private(path)) != 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (!s)
		return ZT_ENOMEM;
	s->base.ops = &sqlite_ops;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = db_err(s, path);
		s_close(&s->base);
		return rc;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(s->db, 0);
	rc = exec(s, pragmas);
	if (rc == 0)
		rc = migrate(s);
	if (rc != 0) {
		s_close(&s->base);
		return rc;
	}
	*out = &s->base;
	return 0;
}
