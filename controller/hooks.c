/*
 * hooks.c - the hook delivery worker, the top of the controller: its own
 * thread and store connection POST the outbox's events (events.c queues
 * them) signed, retry with exponential backoff, and apply a receiver's
 * decision through the member layer's update (as the API does). The only
 * file that includes curl.h.
 */
#include "ctl_int.h"

#include "crypto.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RESPONSE_MAX (64u << 10) /* a receiver's answer larger than this is refused */
#define IDLE_WAIT_MS 60000       /* re-check the outbox at least this often */
#define ERROR_WAIT_MS 1000       /* after a store error */
#define PRUNE_EVERY_MS 3600000

struct zt_ctl_hooks {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool wake;
	atomic_bool stop;
	struct zt_ctl_store *store; /* the worker's own connection */
	uint64_t pruned_ms;
};

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- one delivery attempt ---- */

struct response {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ctx)
{
	struct response *r = ctx;
	size_t n = size * nmemb;
	char *p;

	if (n > RESPONSE_MAX - r->len) {
		r->too_big = true;
		return 0;
	}
	p = realloc(r->buf, r->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + r->len, ptr, n);
	r->buf = p;
	r->len += n;
	r->buf[r->len] = '\0';
	return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct zt_ctl_hooks *h = ctx;
	return atomic_load(&h->stop) ? 1 : 0;
}

/* X-Zt-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")> */
static struct curl_slist *signed_headers(const struct zt_ctl_delivery *d, uint64_t now_ms)
{
	char t[24], line[160], hex[65];
	uint8_t mac[32];
	size_t tlen, blen = strlen(d->body);
	char *msg;
	struct curl_slist *hdrs = NULL;

	tlen = (size_t)snprintf(t, sizeof(t), "%" PRIu64, now_ms / 1000);
	msg = malloc(tlen + 1 + blen);
	if (!msg)
		return NULL;
	memcpy(msg, t, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, d->body, blen);
	zt_hmac_sha256(mac, d->secret, strlen(d->secret), msg, tlen + 1 + blen);
	free(msg);
	zt_hex_encode(hex, mac, sizeof(mac));
	snprintf(line, sizeof(line), "X-Zt-Signature: t=%s,v1=%s", t, hex);
	hdrs = curl_slist_append(hdrs, line);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	snprintf(line, sizeof(line), "X-Zt-Event: %s", d->type);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "X-Zt-Event-Id: %s", d->event_id);
	hdrs = curl_slist_append(hdrs, line);
	hdrs = curl_slist_append(hdrs, "User-Agent: zt-controller/" ZT_VERSION_STRING);
	return hdrs;
}

/* POST the event. 0 on a 2xx answer (resp holds the body), ZT_EAGAIN when stopping, else ZT_EIO with err. */
static int post(struct zt_ctl *c, struct zt_ctl_hooks *h, const struct zt_ctl_delivery *d, uint64_t now_ms,
		struct response *resp, char *err, size_t err_len)
{
	struct curl_slist *hdrs = signed_headers(d, now_ms);
	CURL *curl = curl_easy_init();
	CURLcode cc;
	long status = 0;
	int rc = ZT_EIO;

	if (!hdrs || !curl) {
		snprintf(err, err_len, "out of memory");
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, d->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)c->opt.hook_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->opt.hook_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(d->body));
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, h);
	cc = curl_easy_perform(curl);
	if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(&h->stop)) {
		rc = ZT_EAGAIN;
	} else if (cc != CURLE_OK) {
		snprintf(err, err_len, "%s", resp->too_big ? "answer too large" : curl_easy_strerror(cc));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300)
			rc = 0;
		else
			snprintf(err, err_len, "HTTP %ld", status);
	}
out:
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	return rc;
}

/* ---- receivers' decisions ---- */

/* {"authorize": bool[, "name": str][, "tags": [...]]} -> a member update; NULL body: no decision. */
static int decision_body(const char *text, size_t len, json_t **update, char *err, size_t err_len)
{
	const char *key;
	json_t *answer, *v;

	*update = NULL;
	if (len == 0)
		return 0;
	answer = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(answer) || !json_object_get(answer, "authorize")) {
		json_decref(answer);
		return 0; /* acknowledged, nothing decided */
	}
	*update = json_object();
	json_object_foreach(answer, key, v) {
		if (strcmp(key, "authorize") == 0 && json_is_boolean(v)) {
			json_object_set(*update, "authorized", v);
		} else if ((strcmp(key, "name") == 0 && json_is_string(v)) ||
			   (strcmp(key, "tags") == 0 && json_is_array(v))) {
			json_object_set(*update, key, v);
		} else {
			snprintf(err, err_len, "decision refused: field \"%.64s\" unknown or of the wrong type", key);
			json_decref(*update);
			*update = NULL;
			json_decref(answer);
			return ZT_EINVAL;
		}
	}
	json_decref(answer);
	return 0;
}

/* zt_ctl_member_update in a transaction of its own, under the lock (the worker runs beside the API). */
static int update_tx(struct zt_ctl *c, const struct zt_ctl_member_change *ch, struct zt_ctl_err *e)
{
	json_t *doc = NULL;
	bool created;
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = zt_ctl_tx_begin(c);
	if (rc == 0)
		rc = zt_ctl_member_update(c, ch, wall_ms(), e, &doc, &created);
	if (rc == 0)
		rc = zt_ctl_tx_commit(c);
	else
		zt_ctl_tx_abort(c);
	pthread_mutex_unlock(&c->lock);
	json_decref(doc);
	return rc;
}

/* Apply through the member operation the API uses: same validation, events and notes. */
static void decide(struct zt_ctl *c, const struct zt_ctl_delivery *d, const json_t *update, char *err, size_t err_len)
{
	char who[ZT_CTL_URL_MAX + 8], id[17], addr[11];
	const struct zt_ctl_member_change ch = {.nwid = d->network_id, .member = d->member, .body = update, .who = who};
	struct zt_ctl_err e = {0};
	int rc;

	snprintf(who, sizeof(who), "hook %s", d->url ? d->url : "");
	zt_ctl_format_nwid(id, d->network_id);
	zt_ctl_format_member(addr, d->member);
	rc = update_tx(c, &ch, &e);
	if (e.status == 404) {
		snprintf(err, err_len, "decision ignored: the member no longer exists");
	} else if (e.status) {
		snprintf(err, err_len, "decision refused: %s", e.reason[0] ? e.reason : "error");
	} else if (rc != 0) {
		zt_log(ZT_LOG_ERROR, "controller: network %s: hook decision for member %s: %s", id, addr, zt_strerror(rc));
		snprintf(err, err_len, "decision refused: internal error");
	} else {
		zt_log(ZT_LOG_DEBUG, "controller: network %s: hook decided member %s", id, addr);
	}
}

void zt_ctl_hooks_apply_answer(struct zt_ctl *c, const struct zt_ctl_delivery *d, const char *answer, size_t len,
			       char *err, size_t err_len)
{
	json_t *update;

	if (strcmp(d->type, "member.join_requested") != 0 || decision_body(answer, len, &update, err, err_len) != 0 ||
	    !update)
		return;
	decide(c, d, update, err, err_len);
	json_decref(update);
}

static uint64_t backoff_ms(const struct zt_ctl *c, uint32_t attempts)
{
	uint64_t delay = c->opt.hook_retry_base_ms;

	for (uint32_t i = 1; i < attempts && delay < c->opt.hook_retry_max_ms; i++)
		delay *= 2;
	return ZT_MIN(delay, (uint64_t)c->opt.hook_retry_max_ms);
}

static void deliver(struct zt_ctl *c, struct zt_ctl_hooks *h, struct zt_ctl_delivery *d)
{
	struct response resp = {0};
	char err[ZT_CTL_ERROR_MAX] = "";
	uint64_t now = wall_ms();
	int rc = post(c, h, d, now, &resp, err, sizeof(err));

	if (rc == ZT_EAGAIN) {
		free(resp.buf);
		return;
	}
	d->attempts++;
	d->updated_ms = wall_ms();
	if (rc == 0) {
		zt_ctl_hooks_apply_answer(c, d, resp.buf, resp.len, err, sizeof(err));
		d->state = ZT_CTL_DELIVERY_DELIVERED;
	} else if (d->attempts >= c->opt.hook_max_attempts) {
		d->state = ZT_CTL_DELIVERY_FAILED;
		zt_log(ZT_LOG_WARN, "controller: hook %s for event %s failed after %u attempts: %s", d->url,
		       d->event_id, d->attempts, err);
	} else {
		d->next_attempt_ms = d->updated_ms + backoff_ms(c, d->attempts);
		zt_log(ZT_LOG_DEBUG, "controller: hook %s for event %s: %s (attempt %u)", d->url, d->event_id, err,
		       d->attempts);
	}
	snprintf(d->last_error, sizeof(d->last_error), "%s", err);
	free(resp.buf);
	if (h->store->ops->outbox_update(h->store, d) != 0)
		zt_log(ZT_LOG_ERROR, "controller: could not record delivery %" PRId64, d->id);
}

/* ---- the worker ---- */

static void wait_ms(struct zt_ctl_hooks *h, uint64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	while (!h->wake && !atomic_load(&h->stop)) {
		if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) != 0)
			break;
	}
	h->wake = false;
	pthread_mutex_unlock(&h->lock);
}

static void prune(struct zt_ctl *c, struct zt_ctl_hooks *h, uint64_t now)
{
	if (now < h->pruned_ms + PRUNE_EVERY_MS || now < c->opt.hook_keep_ms)
		return;
	h->pruned_ms = now;
	if (h->store->ops->outbox_prune(h->store, now - c->opt.hook_keep_ms) != 0)
		zt_log(ZT_LOG_WARN, "controller: could not prune the hook outbox");
}

static void *worker(void *arg)
{
	struct zt_ctl *c = arg;
	struct zt_ctl_hooks *h = c->hooks;

	while (!atomic_load(&h->stop)) {
		struct zt_ctl_delivery d;
		uint64_t now = wall_ms(), next = 0;
		int rc;

		prune(c, h, now);
		rc = h->store->ops->outbox_next_due(h->store, now, &d);
		if (rc == 0) {
			deliver(c, h, &d);
			zt_ctl_delivery_clear(&d);
			continue;
		}
		if (rc != ZT_ENOENT) {
			wait_ms(h, ERROR_WAIT_MS);
			continue;
		}
		rc = h->store->ops->outbox_next_time(h->store, &next);
		if (rc == 0)
			wait_ms(h, next > now ? ZT_MIN(next - now, (uint64_t)IDLE_WAIT_MS) : 0);
		else
			wait_ms(h, rc == ZT_ENOENT ? IDLE_WAIT_MS : ERROR_WAIT_MS);
	}
	return NULL;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Called by txn.c (through c->outbox_wake) after a commit that queued deliveries. */
static void hooks_wake(struct zt_ctl *c)
{
	struct zt_ctl_hooks *h = c->hooks;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->wake = true;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

int zt_ctl_hooks_start(struct zt_ctl *c)
{
	struct zt_ctl_hooks *h;
	pthread_condattr_t attr;
	int rc;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return ZT_EIO;
	h = calloc(1, sizeof(*h));
	if (!h)
		return ZT_ENOMEM;
	if ((rc = zt_ctl_store_sqlite_open(c->home, &h->store)) != 0) {
		free(h);
		return rc;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&h->stop, false);
	c->hooks = h;
	c->outbox_wake = hooks_wake;
	if (pthread_create(&h->thread, NULL, worker, c) != 0) {
		c->hooks = NULL;
		c->outbox_wake = NULL;
		h->store->ops->close(h->store);
		pthread_cond_destroy(&h->cond);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return ZT_EIO;
	}
	return 0;
}

void zt_ctl_hooks_stop(struct zt_ctl *c)
{
	struct zt_ctl_hooks *h = c->hooks;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	atomic_store(&h->stop, true);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	h->store->ops->close(h->store);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
	c->hooks = NULL;
	c->outbox_wake = NULL;
}
