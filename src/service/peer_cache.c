/*
 * peer_cache.c - ztd's HOME/peers.cache: read at start (each peer seeded in
 * the core, the members of our networks expected by VL2, so sessions and
 * certificates are set up before the first frame) and written atomically,
 * mode 0600, every ZT_PEER_CACHE_WRITE_MS, soon after a member is verified
 * (a SIGKILL leaves no shutdown to write it) and at shutdown. The bytes are
 * src/peer_cache.c's; public identities and endpoints only, never keys.
 */
#include "service/ztd.h"
#include "peer_cache.h"
#include "osdep/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cache_path(const struct ztd *d, char *out, size_t len)
{
	snprintf(out, len, "%s/peers.cache", d->cfg.home);
}

/* ---------- reading ---------- */

static void remember_member(struct ztd *d, uint64_t nwid, uint64_t address, unsigned cap)
{
	if (d->n_cached < cap)
		d->cached[d->n_cached++] = (struct ztd_cached_member){nwid, address};
}

static void seed_entry(struct ztd *d, const struct zt_peer_cache_entry *e, unsigned cap, uint64_t now_ms)
{
	char a[11];
	int err = zt_node_seed_peer(d->node, &e->id, e->eps, e->n_eps, now_ms);

	if (err) {
		zt_address_format(a, e->id.address);
		zt_log(ZT_LOG_WARN, "peer cache: peer %s not seeded: %s", a, zt_strerror(err));
		return;
	}
	for (unsigned k = 0; k < e->n_nets; k++)
		remember_member(d, e->nets[k], e->id.address, cap);
}

/* Members of networks first: each seed costs an identity validation, and these are the ones waited for. */
static void seed_all(struct ztd *d, const struct zt_peer_cache_entry *e, unsigned count, unsigned cut,
		     uint64_t now_ms)
{
	unsigned cap = count * ZT_PEER_CACHE_NETWORKS;

	d->cached = cap ? calloc(cap, sizeof(*d->cached)) : NULL;
	if (cap && !d->cached) {
		zt_log(ZT_LOG_ERROR, "peer cache: out of memory, not used");
		return;
	}
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < count; i++)
			if ((e[i].n_nets > 0) == (pass == 0))
				seed_entry(d, &e[i], cap, now_ms);
	if (cut)
		zt_log(ZT_LOG_WARN, "peer cache: %u peer(s) over peer_cache_max = %u ignored", cut, d->cfg.peer_cache_max);
	zt_log(ZT_LOG_INFO, "peer cache: %u peer(s) seeded", count);
}

void ztd_peer_cache_load(struct ztd *d, uint64_t now_ms)
{
	struct zt_peer_cache_entry *e = NULL;
	unsigned count = 0, cut = 0;
	char path[600], *bytes = NULL;
	size_t len = 0;
	int err;

	d->next_cache_write_ms = now_ms + ZT_PEER_CACHE_WRITE_MS;
	if (!d->cfg.peer_cache_max || d->cfg.root)
		return;
	cache_path(d, path, sizeof(path));
	if (zt_os_read_file(path, zt_peer_cache_size(ZT_PEER_CACHE_MAX), &bytes, &len) < 0)
		return; /* none yet (first start) or unreadable: start cold */
	e = calloc(d->cfg.peer_cache_max, sizeof(*e));
	if (!e) {
		free(bytes);
		return;
	}
	err = zt_peer_cache_decode((const uint8_t *)bytes, len, e, d->cfg.peer_cache_max, &count, &cut);
	free(bytes);
	if (err)
		zt_log(ZT_LOG_WARN, "%s: corrupt (%s), ignored: starting without cached peers", path, zt_strerror(err));
	else
		seed_all(d, e, count, cut, now_ms);
	for (unsigned i = 0; i < count; i++)
		zt_identity_wipe(&e[i].id);
	free(e);
}

/* Once the saved networks are rejoined: their cached members are expected (sessions started now). */
void ztd_peer_cache_expect(struct ztd *d, uint64_t now_ms)
{
	unsigned kept = 0;

	for (unsigned i = 0; i < d->n_cached; i++)
		if (d->vl2 && zt_vl2_expect_member(d->vl2, d->cached[i].nwid, d->cached[i].address, now_ms) == 0)
			d->cached[kept++] = d->cached[i];
	d->n_cached = kept;
	if (kept)
		zt_log(ZT_LOG_INFO, "peer cache: sessions started with %u member(s) of our networks", kept);
}

void ztd_peer_cache_free(struct ztd *d)
{
	free(d->cached);
	d->cached = NULL;
	d->n_cached = 0;
}

/* ---------- writing ---------- */

/* The networks p is a member of: verified now, or expected from the last run and not seen otherwise yet. */
static void entry_networks(const struct ztd *d, struct zt_peer_cache_entry *e)
{
	uint64_t nets[ZT_MAX_NETWORKS];
	unsigned n = zt_vl2_networks(d->vl2, nets, ZT_MAX_NETWORKS);

	for (unsigned i = 0; i < n && e->n_nets < ZT_PEER_CACHE_NETWORKS; i++) {
		bool was = false;
		for (unsigned k = 0; k < d->n_cached && !was; k++)
			was = d->cached[k].nwid == nets[i] && d->cached[k].address == e->id.address;
		if (was || zt_vl2_member_verified(d->vl2, nets[i], e->id.address))
			e->nets[e->n_nets++] = nets[i];
	}
}

static bool fill_entry(const struct ztd *d, const struct zt_peer_info *pi, struct zt_peer_cache_entry *e,
		       uint64_t now_ms)
{
	memset(e, 0, sizeof(*e));
	if (pi->is_root || zt_node_peer_identity(d->node, pi->address, &e->id) < 0)
		return false;
	/* The preferred path first, then the others that are alive. */
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < pi->n_paths && e->n_eps < ZT_PEER_CACHE_ENDPOINTS; i++)
			if (pass == 0 ? pi->paths[i].preferred : !pi->paths[i].preferred && pi->paths[i].alive)
				e->eps[e->n_eps++] = pi->paths[i].endpoint;
	if (d->vl2)
		entry_networks(d, e);
	e->last_seen_ms = pi->last_rx_ms ? pi->last_rx_ms : now_ms;
	return true;
}

/* Most recently heard first: a cut keeps the peers that matter. */
static int by_recency(const void *a, const void *b)
{
	const struct zt_peer_cache_entry *x = a, *y = b;

	return x->last_seen_ms < y->last_seen_ms ? 1 : x->last_seen_ms > y->last_seen_ms ? -1 : 0;
}

static unsigned collect(const struct ztd *d, struct zt_peer_cache_entry *e, size_t max, uint64_t now_ms)
{
	struct zt_peer_info *info = calloc(max, sizeof(*info));
	size_t n = info ? zt_node_peers(d->node, now_ms, info, max) : 0;
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		if (fill_entry(d, &info[i], &e[k], now_ms))
			k++;
	free(info);
	qsort(e, k, sizeof(*e), by_recency);
	return k;
}

void ztd_peer_cache_save(struct ztd *d, uint64_t now_ms)
{
	/* Room for peers beyond the limit, so that the cut is counted. */
	size_t room = (size_t)d->cfg.peer_cache_max * 2;
	struct zt_peer_cache_entry *e;
	uint8_t *buf = NULL;
	unsigned count, keep;
	char path[600];
	size_t len = 0;
	int err;

	d->next_cache_write_ms = now_ms + ZT_PEER_CACHE_WRITE_MS;
	if (!d->cfg.peer_cache_max || d->cfg.root || !d->node)
		return;
	e = calloc(room, sizeof(*e));
	if (!e)
		return;
	count = collect(d, e, room, now_ms);
	keep = ZT_MIN(count, d->cfg.peer_cache_max);
	if (count > keep)
		zt_log(ZT_LOG_INFO, "peer cache: %u peer(s) over peer_cache_max = %u not kept", count - keep,
		       d->cfg.peer_cache_max);
	buf = malloc(zt_peer_cache_size(keep));
	cache_path(d, path, sizeof(path));
	err = buf ? zt_peer_cache_encode(e, keep, buf, zt_peer_cache_size(keep), &len) : ZT_ENOMEM;
	if (!err)
		err = zt_os_write_file_atomic(path, buf, len, 0600);
	if (err)
		zt_log(ZT_LOG_WARN, "%s: not written: %s", path, zt_strerror(err));
	free(buf);
	free(e);
}

/* Verified members over all our networks: when it changes, the cache is worth rewriting. */
static unsigned members_seen(const struct ztd *d)
{
	uint64_t nets[ZT_MAX_NETWORKS];
	unsigned n = d->vl2 ? zt_vl2_networks(d->vl2, nets, ZT_MAX_NETWORKS) : 0, sum = 0;
	struct zt_net_info ni;

	for (unsigned i = 0; i < n; i++)
		if (zt_vl2_info(d->vl2, nets[i], &ni) == 0)
			sum += ni.members_seen;
	return sum;
}

void ztd_peer_cache_tick(struct ztd *d, uint64_t now_ms)
{
	unsigned seen = members_seen(d);
	bool changed = seen != d->cache_members_seen && now_ms - d->last_cache_write_ms >= ZTD_PEER_CACHE_GAP_MS;

	if (now_ms < d->next_cache_write_ms && !changed)
		return;
	d->cache_members_seen = seen;
	d->last_cache_write_ms = now_ms;
	ztd_peer_cache_save(d, now_ms);
}
