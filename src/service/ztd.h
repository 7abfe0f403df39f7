/*
 * ztd.h - the daemon's state: the core node bound to a UDP socket, the event
 * loop and the local HTTP API. One struct, owned by main().
 */
#ifndef ZT_SERVICE_ZTD_H
#define ZT_SERVICE_ZTD_H

#include "controller/controller.h"
#include "network.h"
#include "node.h"
#include "tap/port.h"
#include "osdep/loop.h"
#include "osdep/netif.h"
#include "osdep/udp.h"
#include "service/config.h"
#include "service/httpd.h"

#define ZTD_MAX_PINGS 64         /* echo requests tracked for the API at once */
#define ZTD_PING_TIMEOUT_MS 5000 /* an echo unanswered this long is reported lost */
#define ZTD_LOCAL_REFRESH_MS 60000

enum ztd_ping_state {
	ZTD_PING_FREE = 0,
	ZTD_PING_PENDING,
	ZTD_PING_REPLIED,
	ZTD_PING_TIMEOUT,
};

struct ztd_ping {
	enum ztd_ping_state state;
	uint32_t id;
	uint64_t peer;
	uint64_t sent_ms;
	uint64_t rtt_ms;
	enum zt_link link;
};

#define ZTD_PORT_POLL_MS 250 /* re-read a port's multicast groups and addresses: a new listener is announced within 0.25 s */
#define ZTD_CTL_MEMBERS 4096  /* members the controller role pushes to */

struct ztd;

struct ztd_net {
	struct ztd *d; /* the daemon it belongs to (port callbacks get the network) */
	uint64_t nwid; /* 0: free slot */
	char ifname[ZT_PORT_NAME_MAX];    /* wanted (--ifname) or derived */
	char bridge_if[ZT_PORT_NAME_MAX]; /* NIC attached with libpcap, "" none */
	struct zt_port *port;
	struct zt_port *bridge;
	struct zt_port_prefix addrs[ZT_NETCONF_IPS_MAX];
	unsigned n_addrs;
	struct zt_port_prefix routes[ZT_NETCONF_ROUTES_MAX];
	struct zt_port_ip vias[ZT_NETCONF_ROUTES_MAX];
	bool via_set[ZT_NETCONF_ROUTES_MAX];
	unsigned n_routes;
	bool up;
	bool waiting; /* configured, its TAP held down until sessions with its cached members are up */
	uint64_t next_poll_ms;
};

#define ZTD_OWN_IFS_MAX 64       /* own overlay interfaces guarded (ports and the bridges holding them) */
#define ZTD_OWN_PREFIXES_MAX 256 /* addresses on them checked without a syscall */
#define ZTD_NETIF_SETTLE_MS 100  /* interface changes re-read at most this often */

/* overlay.c: our own interfaces, by ifindex (never by name). */
struct ztd_own {
	unsigned ifindex[ZTD_OWN_IFS_MAX]; /* TAPs we opened */
	unsigned n_ifs;
	unsigned bridge_ifindex[ZTD_OWN_IFS_MAX]; /* bridges holding one, NICs bridged with libpcap */
	unsigned n_bridges;
	struct zt_netif_addr prefixes[ZTD_OWN_PREFIXES_MAX]; /* on the ports */
	unsigned n_prefixes;
	struct zt_netif_addr bridge_addrs[ZTD_OWN_IFS_MAX]; /* on the bridges */
	unsigned n_bridge_addrs;
	uint64_t drop_own_overlay; /* underlay datagrams that arrived on one of our overlay interfaces */
	uint64_t paths_refused;    /* endpoints inside, or routed through, our overlay */
	uint64_t ifs_over_limit, prefixes_over_limit;
};

struct ztd_ctl_member {
	uint64_t nwid;
	uint64_t member;
	uint64_t last_ms;
};

struct ztd {
	struct ztd_config cfg;
	struct zt_identity id;
	struct zt_node *node;
	struct zt_loop *loop;
	struct zt_udp udp;
	struct zt_udp_txq *txq;
	struct zt_udp_rx_batch *rx;
	struct zt_httpd *httpd;
	zt_loop_timer_id tick_timer;
	uint64_t tick_deadline_ms; /* when tick_timer fires */
	/* re-read interface addresses at this time (0: before the next wait, e.g. a TAP changed) */
	uint64_t next_local_refresh_ms;
	uint64_t last_local_refresh_ms;
	struct ztd_own own; /* our overlay interfaces: never underlay paths */
	int netmon_fd;      /* netlink: link, address and route changes */
	uint64_t started_ms;
	struct ztd_ping pings[ZTD_MAX_PINGS];
	uint32_t next_ping_id;
	char token[ZT_HTTP_TOKEN_MAX + 1];

	/* VL2 */
	struct zt_vl2 *vl2;
	struct ztd_net nets[ZT_MAX_NETWORKS];
	struct zt_port_frame frames[ZT_PORT_BATCH_MAX];

	/* controller role */
	struct zt_ctl *ctl;
	struct zt_ctl_answer *ctl_answer;
	struct ztd_ctl_member *ctl_members;

	/* restarts (issue 12): peer_cache.c */
	struct ztd_cached_member *cached;  /* (network, member) pairs read from HOME/peers.cache */
	unsigned n_cached;
	uint64_t next_cache_write_ms, last_cache_write_ms;
	unsigned cache_members_seen; /* verified members when last written */
};

/* A member of one of our networks in the last run, from HOME/peers.cache. */
struct ztd_cached_member {
	uint64_t nwid;
	uint64_t address;
};

#define ZTD_PEER_CACHE_GAP_MS 1000 /* the cache is rewritten at most this often for a new member */
#define ZTD_PORT_WAIT_POLL_MS 10 /* a TAP held down re-checks its cached members' sessions this often */

/* peer_cache.c: HOME/peers.cache, read at start (peers seeded, members expected) and written
 * every ZT_PEER_CACHE_WRITE_MS and at shutdown. */
void ztd_peer_cache_load(struct ztd *d, uint64_t now_ms);   /* before the networks: peers seeded */
void ztd_peer_cache_expect(struct ztd *d, uint64_t now_ms); /* after them: members expected */
void ztd_peer_cache_save(struct ztd *d, uint64_t now_ms);
/* On the tick: write when due, or when the verified members changed (at most every ZTD_PEER_CACHE_GAP_MS). */
void ztd_peer_cache_tick(struct ztd *d, uint64_t now_ms);
void ztd_peer_cache_free(struct ztd *d);

/* networks.c: VL2 glue (ports, configs, persistence, the /network API). */
int ztd_networks_start(struct ztd *d);
void ztd_networks_stop(struct ztd *d);
void ztd_networks_tick(struct ztd *d, uint64_t now_ms);
/* A TAP is held down waiting for sessions: the tick must come within ZTD_PORT_WAIT_POLL_MS. */
bool ztd_networks_waiting(const struct ztd *d);
int ztd_api_networks_register(struct ztd *d);

/* controller_glue.c: the controller role inside ztd. */
int ztd_controller_start(struct ztd *d);
void ztd_controller_stop(struct ztd *d);
int ztd_controller_answer(struct ztd *d, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
			  struct zt_vl2_answer *ans);

/* overlay.c: rebuild the set from the open ports; the two questions it answers. */
void ztd_own_refresh(struct ztd *d);
/* The interfaces whose addresses are never announced as local endpoints (ports and bridges). */
unsigned ztd_own_not_announced(const struct ztd *d, unsigned *out, unsigned max);
bool ztd_own_path_allowed(struct ztd *d, const struct zt_endpoint *ep);
bool ztd_own_arrived_on(struct ztd *d, unsigned ifindex);

/* api_node.c: the VL1 part of the local API (status, peers, ping). */
int ztd_api_node_register(struct ztd *d);
void ztd_ping_reply(struct ztd *d, uint64_t peer, uint32_t id, uint64_t rtt_ms, enum zt_link link);

#endif
