/*
 * peer.c - the peer table: creating, finding and removing peers, the
 * keypair index table that maps a DATA packet's receiver index to its
 * keypair, and peer expiry. A peer's paths live in path.c, its handshakes
 * in handshake.c; this file sends nothing.
 */
#include "peer.h"
#include "node_impl.h"

#include <stdlib.h>
#include <string.h>

static unsigned peer_bucket(uint64_t address)
{
	return (unsigned)((address * 0x9e3779b97f4a7c15ULL) >> 52) & (ZT_PEER_BUCKETS - 1);
}

static unsigned index_bucket(uint32_t idx)
{
	return (idx * 2654435761u) >> 20 & (ZT_INDEX_BUCKETS - 1);
}

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

struct zt_peer *zt_peer_find(const struct zt_node *n, uint64_t address)
{
	struct zt_peer *p = n->peers[peer_bucket(address)];

	while (p && p->address != address)
		p = p->hash_next;
	return p;
}

struct zt_peer *zt_peer_get(struct zt_node *n, uint64_t address, uint64_t now_ms)
{
	struct zt_peer *p = zt_peer_find(n, address);
	unsigned b;

	if (p)
		return p;
	if (address == n->id.address || zt_address_reserved(address) || n->n_peers >= n->max_peers)
		return NULL;
	p = zt_peer_new(address, now_ms);
	if (!p)
		return NULL;
	b = peer_bucket(address);
	p->hash_next = n->peers[b];
	n->peers[b] = p;
	n->n_peers++;
	return p;
}

/* ---------- keypair index table ---------- */

struct zt_keypair *zt_peer_index_find(const struct zt_node *n, uint32_t idx)
{
	struct zt_keypair *kp = n->index[index_bucket(idx)];

	while (kp && kp->local_index != idx)
		kp = kp->index_next;
	return kp;
}

uint32_t zt_peer_index_fresh(struct zt_node *n)
{
	uint32_t idx;

	do {
		n->cb.random(n->cb.ctx, &idx, sizeof(idx));
	} while (idx == 0 || zt_peer_index_find(n, idx));
	return idx;
}

void zt_peer_index_add(struct zt_node *n, struct zt_keypair *kp)
{
	unsigned b = index_bucket(kp->local_index);

	kp->index_next = n->index[b];
	n->index[b] = kp;
}

static void index_del(struct zt_node *n, struct zt_keypair *kp)
{
	struct zt_keypair **pp;

	if (!kp)
		return;
	for (pp = &n->index[index_bucket(kp->local_index)]; *pp; pp = &(*pp)->index_next) {
		if (*pp == kp) {
			*pp = kp->index_next;
			return;
		}
	}
}

void zt_peer_keypair_drop(struct zt_node *n, struct zt_keypair **slot)
{
	index_del(n, *slot);
	zt_keypair_free(*slot);
	*slot = NULL;
}

void zt_peer_remove(struct zt_node *n, struct zt_peer *p)
{
	struct zt_peer **pp;

	zt_peer_keypair_drop(n, &p->prev);
	zt_peer_keypair_drop(n, &p->cur);
	zt_peer_keypair_drop(n, &p->next);
	for (pp = &n->peers[peer_bucket(p->address)]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == p) {
			*pp = p->hash_next;
			break;
		}
	}
	n->n_peers--;
	zt_peer_free(p);
}

bool zt_peer_expired(const struct zt_peer *p, uint64_t now_ms)
{
	uint64_t last = ZT_MAX(ZT_MAX(p->last_rx_ms, p->last_tx_ms), p->created_ms);

	return !p->is_root && now_ms - last >= ZT_PEER_EXPIRE_MS;
}
