/*
 * peer.c - a peer's paths: learning them from authenticated packets, aging
 * them, and choosing the best. Session keys and handshakes are driven by
 * node.c; this file does not send anything.
 */
#include "peer.h"

#include <stdlib.h>
#include <string.h>

struct zt_peer *zt_peer_new(uint64_t address, uint64_t now_ms)
{
	struct zt_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->address = address;
	p->created_ms = now_ms;
	p->latency_ms = -1;
	return p;
}

void zt_peer_free(struct zt_peer *p)
{
	if (!p)
		return;
	zt_keypair_free(p->prev);
	zt_keypair_free(p->cur);
	zt_keypair_free(p->next);
	zt_handshake_clear(&p->hs);
	free(p);
}

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

struct zt_path *zt_peer_learn_path(struct zt_peer *p, const struct zt_endpoint *ep, uint64_t now_ms)
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

struct zt_path *zt_peer_add_static_path(struct zt_peer *p, const struct zt_endpoint *ep)
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

struct zt_path *zt_peer_best_path(struct zt_peer *p, uint64_t now_ms)
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

void zt_peer_forget_path(struct zt_peer *p, struct zt_path *path)
{
	unsigned i = (unsigned)(path - p->paths);

	if (i >= p->n_paths)
		return;
	p->paths[i] = p->paths[--p->n_paths];
}

struct zt_path *zt_peer_root_path(struct zt_peer *p, uint64_t now_ms)
{
	struct zt_path *best = zt_peer_best_path(p, now_ms);
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
