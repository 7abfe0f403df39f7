/*
 * path.c - a peer's underlay paths, the one place path state lives:
 * learning them from authenticated packets, choosing the best, their
 * liveness (probes, death, re-probes) and NAT traversal (RENDEZVOUS
 * candidates). Routing a packet onto a path is send.c's; peers are peer.c's.
 */
#include "path.h"
#include "node_impl.h"
#include "peer.h"
#include "send.h"

#include <string.h>

bool zt_path_alive(const struct zt_path *path, uint64_t now_ms)
{
	return !path->dead && path->last_rx_ms != 0 && now_ms - path->last_rx_ms < ZT_PATH_ALIVE_MS;
}

bool zt_path_suspect(const struct zt_path *path, uint64_t now_ms)
{
	return path->probe_ms && path->last_rx_ms < path->probe_ms && now_ms - path->probe_ms >= ZT_PATH_PROBE_AFTER_MS;
}

static struct zt_path *find_path(struct zt_peer *p, const struct zt_endpoint *ep)
{
	for (unsigned i = 0; i < p->n_paths; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, ep))
			return &p->paths[i];
	return NULL;
}

/* A slot for a new path: a free one, else the least recently heard non-static one. */
static struct zt_path *claim_path(struct zt_peer *p)
{
	struct zt_path *victim = NULL;

	if (p->n_paths < ZT_PEER_MAX_PATHS)
		return &p->paths[p->n_paths++];
	for (unsigned i = 0; i < p->n_paths; i++) {
		struct zt_path *c = &p->paths[i];
		if (c->is_static)
			continue;
		if (!victim || c->last_rx_ms < victim->last_rx_ms)
			victim = c;
	}
	return victim;
}

struct zt_path *zt_path_learn(struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms)
{
	struct zt_path *path = find_path(p, ep);

	if (!path) {
		path = claim_path(p);
		if (!path)
			return NULL;
		memset(path, 0, sizeof(*path));
		path->ep = *ep;
		path->latency_ms = -1;
	}
	path->last_rx_ms = now_ms;
	path->dead = false;
	path->probe_ms = 0;
	return path;
}

struct zt_path *zt_path_add_static(struct zt_peer *p, const struct zt_endpoint *ep)
{
	struct zt_path *path = find_path(p, ep);

	if (path)
		return path;
	path = claim_path(p);
	if (!path)
		return NULL;
	memset(path, 0, sizeof(*path));
	path->ep = *ep;
	path->latency_ms = -1;
	path->is_static = true;
	return path;
}

/*
 * The most recently heard path wins (a peer that roamed or was rebound by
 * its NAT is followed at once, as the source of its authenticated packets),
 * unless another path heard within ZT_PATH_FRESH_MS has a clearly lower
 * measured latency (at least 20% and 2 ms): a LAN path beats the WAN one.
 */
static bool clearly_faster(const struct zt_path *a, const struct zt_path *b)
{
	return a->latency_ms >= 0 && b->latency_ms >= 0 && a->latency_ms + 2 <= b->latency_ms &&
	       a->latency_ms * 5 <= b->latency_ms * 4;
}

static bool better(const struct zt_path *a, const struct zt_path *b, uint64_t newest_ms)
{
	bool both_fresh;

	if (!b)
		return true;
	both_fresh = newest_ms - a->last_rx_ms < ZT_PATH_FRESH_MS && newest_ms - b->last_rx_ms < ZT_PATH_FRESH_MS;
	if (both_fresh && clearly_faster(a, b))
		return true;
	if (both_fresh && clearly_faster(b, a))
		return false;
	return a->last_rx_ms > b->last_rx_ms;
}

struct zt_path *zt_path_best(struct zt_peer *p, uint64_t now_ms)
{
	struct zt_path *best = NULL;
	uint64_t newest = 0;

	for (unsigned i = 0; i < p->n_paths; i++)
		if (zt_path_alive(&p->paths[i], now_ms))
			newest = ZT_MAX(newest, p->paths[i].last_rx_ms);
	for (unsigned i = 0; i < p->n_paths; i++)
		if (zt_path_alive(&p->paths[i], now_ms) && better(&p->paths[i], best, newest))
			best = &p->paths[i];
	return best;
}

void zt_path_forget(struct zt_peer *p, struct zt_path *path)
{
	unsigned i = (unsigned)(path - p->paths);

	if (i >= p->n_paths)
		return;
	p->paths[i] = p->paths[--p->n_paths];
}

struct zt_path *zt_path_for_root(struct zt_peer *p, uint64_t now_ms)
{
	struct zt_path *best = zt_path_best(p, now_ms);
	uint64_t oldest_tx = UINT64_MAX;

	if (best)
		return best;
	/* Rotate through configured endpoints: the one tried longest ago. */
	for (unsigned i = 0; i < p->n_paths; i++) {
		if (!p->paths[i].is_static || p->paths[i].last_tx_ms >= oldest_tx)
			continue;
		oldest_tx = p->paths[i].last_tx_ms;
		best = &p->paths[i];
	}
	return best;
}

/* ---------- NAT traversal: introductions, probes, path liveness ---------- */

static void send_probe(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *ep, uint8_t verb,
		       uint64_t stamp, uint64_t now_ms)
{
	uint8_t msg[9];
	struct zt_wr w;

	zt_wr_init(&w, msg, sizeof(msg));
	zt_wr_u8(&w, verb);
	zt_wr_be64(&w, stamp);
	if (zt_node_send_msg_via(n, p, msg, w.len, ep, now_ms) == 0 && verb == ZT_VERB_PATH_PROBE) {
		n->st.probes_tx++;
		p->probes_sent++;
	}
}

/* The peer reached us through the relay although we hold a direct path:
 * it probably lost that path. Probe ours now instead of waiting to notice. */
static void suspect_quiet_paths(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < p->n_paths; i++) {
		struct zt_path *path = &p->paths[i];
		if (path->is_static || path->probe_ms || !zt_path_alive(path, now_ms) ||
		    now_ms - path->last_rx_ms < ZT_PATH_PROBE_AFTER_MS || !p->cur)
			continue;
		path->probe_ms = now_ms;
		send_probe(n, p, &path->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
	}
}

void zt_path_learn_direct(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
			 uint64_t now_ms)
{
	struct zt_path *path = NULL;
	bool was_alive = false;

	p->last_rx_ms = now_ms;
	p->rx_packets++;
	if (!direct) {
		p->last_relayed_rx_ms = now_ms;
		suspect_quiet_paths(n, p, now_ms);
		return;
	}
	for (unsigned i = 0; i < p->n_paths && !path; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, from))
			path = &p->paths[i];
	if (path) {
		/* The hot case: a known path, nothing to decide. */
		was_alive = zt_path_alive(path, now_ms);
		path->last_rx_ms = now_ms;
		path->dead = false;
		path->probe_ms = 0;
		if (was_alive)
			return;
	} else {
		/* A new endpoint: ask the host whether it may carry us (never our own tunnel). */
		if (!zt_node_path_allowed(n, from)) {
			n->st.paths_forbidden++;
			return;
		}
		path = zt_path_learn(p, from, now_ms);
		if (!path)
			return;
	}
	if (p->is_root || n->is_root)
		return;
	if (zt_log_enabled(ZT_LOG_INFO)) {
		char a[11], e[ZT_ENDPOINT_TEXT_MAX];
		zt_address_format(a, p->address);
		zt_endpoint_format(from, e, sizeof(e));
		zt_log(ZT_LOG_INFO, "peer %s: direct path %s is up", a, e);
	}
	/* Measure the new path's latency at once: path choice compares it. */
	if (path->latency_ms < 0 && p->cur)
		send_probe(n, p, from, ZT_VERB_PATH_PROBE, now_ms, now_ms);
}

static void add_candidate(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms)
{
	struct zt_candidate *c = NULL;

	if (!zt_node_path_allowed(n, ep)) {
		n->st.paths_forbidden++;
		return;
	}
	for (unsigned i = 0; i < p->n_cand; i++)
		if (zt_endpoint_equal(&p->cand[i].ep, ep))
			c = &p->cand[i];
	for (unsigned i = 0; i < p->n_paths && !c; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, ep) && zt_path_alive(&p->paths[i], now_ms))
			return; /* already a working path */
	if (!c) {
		if (p->n_cand >= ZT_MAX_CANDIDATES)
			return;
		c = &p->cand[p->n_cand++];
		c->ep = *ep;
	}
	c->attempts = 0;
	c->next_ms = now_ms;
}

void zt_path_handle_rendezvous(struct zt_node *n, struct zt_peer *root, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t address = zt_rd_beN(rd, ZT_ADDR_BYTES);
	unsigned count = zt_rd_u8(rd);
	struct zt_endpoint eps[ZT_MAX_LOCAL_ENDPOINTS + 1];
	struct zt_peer *p;

	if (!root->is_root || rd->err || count > ZT_ARRAY_LEN(eps)) {
		n->st.drop_bad_message++;
		return;
	}
	for (unsigned i = 0; i < count; i++) {
		if (zt_rd_endpoint(rd, &eps[i]) < 0) {
			n->st.drop_bad_message++;
			return;
		}
	}
	n->st.rendezvous_rx++;
	p = zt_peer_find(n, address);
	if (!p || p->is_root)
		return;
	p->intro_ms = now_ms;
	for (unsigned i = 0; i < count; i++)
		add_candidate(n, p, &eps[i], now_ms);
}

void zt_path_handle_probe(struct zt_node *n, struct zt_peer *p, const struct zt_endpoint *from, bool direct,
			 uint8_t verb, struct zt_rd *rd, uint64_t now_ms)
{
	uint64_t stamp = zt_rd_be64(rd);

	if (rd->err || !direct) {
		n->st.drop_bad_message++;
		return;
	}
	if (verb == ZT_VERB_PATH_PROBE) {
		n->st.probes_rx++;
		send_probe(n, p, from, ZT_VERB_PATH_PROBE_OK, stamp, now_ms);
		return;
	}
	if (stamp > now_ms)
		return;
	for (unsigned i = 0; i < p->n_paths; i++)
		if (zt_endpoint_equal(&p->paths[i].ep, from))
			p->paths[i].latency_ms = (int)ZT_MIN(now_ms - stamp, 600000);
}

void zt_path_tick_candidates(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	/* Backoff between probes of one candidate: 0, 0.25, 0.5, 1, 2, 4 s. */
	static const uint32_t backoff_ms[ZT_PROBE_ATTEMPTS] = {250, 250, 500, 1000, 2000, 4000};

	for (unsigned i = 0; i < p->n_cand;) {
		struct zt_candidate *c = &p->cand[i];
		if (c->attempts >= ZT_PROBE_ATTEMPTS) {
			p->cand[i] = p->cand[--p->n_cand];
			continue;
		}
		if (now_ms >= c->next_ms && p->cur) {
			send_probe(n, p, &c->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
			c->next_ms = now_ms + backoff_ms[c->attempts++];
		}
		i++;
	}
}

static void path_died(struct zt_node *n, struct zt_peer *p, struct zt_path *path, uint64_t now_ms)
{
	char a[11], e[ZT_ENDPOINT_TEXT_MAX];

	path->dead = true;
	path->reprobe_ms = now_ms;
	n->st.paths_died++;
	zt_address_format(a, p->address);
	zt_endpoint_format(&path->ep, e, sizeof(e));
	zt_log(ZT_LOG_INFO, "peer %s: direct path %s stopped answering, using %s", a, e,
	       zt_path_best(p, now_ms) ? "another direct path" : "the relay");
}

/* Probe paths we send on but do not hear from; declare them dead; re-probe dead ones. */
void zt_path_tick(struct zt_node *n, struct zt_peer *p, uint64_t now_ms)
{
	for (unsigned i = 0; i < p->n_paths;) {
		struct zt_path *path = &p->paths[i];

		if (path->is_static) {
			i++;
			continue;
		}
		if (path->dead) {
			if (now_ms - path->last_rx_ms >= ZT_PATH_ALIVE_MS) {
				zt_path_forget(p, path);
				continue;
			}
			if (now_ms - path->reprobe_ms >= ZT_PATH_REPROBE_MS) {
				path->reprobe_ms = now_ms;
				send_probe(n, p, &path->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
			}
			i++;
			continue;
		}
		if (!zt_path_alive(path, now_ms)) {
			zt_path_forget(p, path);
			continue;
		}
		if (path->probe_ms && path->last_rx_ms < path->probe_ms && now_ms - path->probe_ms >= ZT_PATH_DEAD_MS) {
			path_died(n, p, path, now_ms);
			i++;
			continue;
		}
		if (path->last_rx_ms >= path->probe_ms)
			path->probe_ms = 0;
		if (!path->probe_ms && ((path->last_tx_ms > path->last_rx_ms + ZT_PATH_PROBE_AFTER_MS) ||
					now_ms - ZT_MAX(path->last_tx_ms, path->last_rx_ms) >= ZT_PATH_KEEPALIVE_MS)) {
			path->probe_ms = now_ms;
			path->last_tx_ms = now_ms;
			send_probe(n, p, &path->ep, ZT_VERB_PATH_PROBE, now_ms, now_ms);
		}
		i++;
	}
}

/* May ep carry the underlay to a peer? The host decides (never through our own overlay). */
bool zt_node_path_allowed(struct zt_node *n, const struct zt_endpoint *ep)
{
	if (!zt_endpoint_is_set(ep))
		return false;
	return !n->cb.path_allowed || n->cb.path_allowed(n->cb.ctx, ep);
}
