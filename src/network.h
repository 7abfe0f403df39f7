/*
 * network.h - VL2: virtual Ethernet networks on top of VL1 sessions. Joining
 * by network ID, signed configs from the controller, membership certificates,
 * unicast to derived MACs, multicast by subscription, bridging. Driven like the
 * node: frames and messages in, callbacks out; no OS calls.
 */
#ifndef ZT_NETWORK_H
#define ZT_NETWORK_H

#include "netconf.h"
#include "node.h"
#include "rules/rules.h"

struct zt_vl2;

enum zt_net_status {
	ZT_NET_REQUESTING = 0, /* REQUESTING_CONFIGURATION */
	ZT_NET_OK,
	ZT_NET_ACCESS_DENIED,
	ZT_NET_NOT_FOUND,
};
const char *zt_net_status_name(enum zt_net_status s);

/* Controller answers on the wire. */
enum zt_netconf_answer {
	ZT_NETCONF_OK = 0,
	ZT_NETCONF_ACCESS_DENIED = 1,
	ZT_NETCONF_AWAITING_APPROVAL = 2,
	ZT_NETCONF_NOT_FOUND = 3,
};

struct zt_mcast_group {
	uint8_t mac[6];
	uint32_t adi; /* IPv4 target for ARP groups, else 0 */
};

/* Filled by the controller role's callback; conf holds the signed encoding. */
struct zt_vl2_answer {
	enum zt_netconf_answer status;
	char reason[128];
	uint8_t *conf; /* ZT_NETCONF_MAX_BYTES, provided by the caller */
	size_t conf_len;
};

struct zt_vl2_callbacks {
	void *ctx;
	/* A frame for the network's port. */
	void (*deliver)(void *ctx, uint64_t nwid, const uint8_t *frame, size_t len);
	/* Status or config changed: the host (re)configures the port. */
	void (*changed)(void *ctx, uint64_t nwid);
	/* Controller role (optional): answer a member's config request. */
	int (*controller_request)(void *ctx, uint64_t nwid, const struct zt_identity *member, uint64_t now_ms,
				  struct zt_vl2_answer *ans);
};

struct zt_net_stats {
	uint64_t tx_frames, rx_frames, tx_bytes, rx_bytes;
	uint64_t tx_multicast, rx_multicast, multicast_limited;
	uint64_t drop_no_com, drop_bad_com, drop_foreign_mac, drop_not_member, drop_rate, drop_queue, drop_malformed;
	uint64_t drop_rules_out, drop_rules_in, rules_copies, rules_redirects;
};

#define ZT_NET_TRACE_LINES 256   /* trace lines kept per network */
#define ZT_NET_TRACE_LINE 320    /* bytes per trace line */
#define ZT_NET_TRACE_MAX_MS 60000 /* a trace runs at most this long */

struct zt_net_info {
	uint64_t nwid;
	enum zt_net_status status;
	char reason[160];
	uint8_t mac[6];
	bool bridge;
	bool have_conf;
	unsigned members_seen; /* peers whose certificate checked out */
	const struct zt_netconf *conf; /* valid until the next call into vl2; NULL without a config */
	struct zt_net_stats stats;
};

int zt_vl2_new(struct zt_vl2 **out, struct zt_node *node, const struct zt_vl2_callbacks *cb);
void zt_vl2_free(struct zt_vl2 *v);

int zt_vl2_join(struct zt_vl2 *v, uint64_t nwid, uint64_t now_ms);
int zt_vl2_leave(struct zt_vl2 *v, uint64_t nwid);
unsigned zt_vl2_networks(const struct zt_vl2 *v, uint64_t *out, unsigned max);
int zt_vl2_info(const struct zt_vl2 *v, uint64_t nwid, struct zt_net_info *out);

/* A frame the port read (outbound). */
void zt_vl2_frame_from_port(struct zt_vl2 *v, uint64_t nwid, const uint8_t *frame, size_t len, uint64_t now_ms);
/* The node's vl2_message callback forwards here. */
void zt_vl2_message(struct zt_vl2 *v, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len, uint64_t now_ms);
/* The port's link-layer multicast memberships and IPv4 addresses (ARP groups). */
void zt_vl2_set_port_state(struct zt_vl2 *v, uint64_t nwid, const uint8_t (*macs)[6], unsigned n_macs,
			   const uint32_t *ipv4, unsigned n_ipv4, uint64_t now_ms);
void zt_vl2_tick(struct zt_vl2 *v, uint64_t now_ms);

/* Controller role: push a fresh config to a member now (after a change). */
void zt_vl2_controller_push(struct zt_vl2 *v, uint64_t nwid, uint64_t member, uint64_t now_ms);
/* Controller role: send a signed revocation to these members. */
void zt_vl2_controller_revoke(struct zt_vl2 *v, const struct zt_revocation *rev, const uint64_t *members,
			      unsigned n, uint64_t now_ms);

/* Rules: the loaded program and its per-rule counters (NULL without rules). */
int zt_vl2_rules(const struct zt_vl2 *v, uint64_t nwid, const struct zt_rules **prog,
		 const struct zt_rules_counter **counters);
/* Trace the next max_lines rule decisions (both directions) until until_ms. */
int zt_vl2_trace_start(struct zt_vl2 *v, uint64_t nwid, unsigned max_lines, uint64_t until_ms);
/* Trace lines with sequence number > after; fn is called for each, oldest first. */
int zt_vl2_trace_read(const struct zt_vl2 *v, uint64_t nwid, uint64_t after,
		      void (*fn)(void *ctx, uint64_t seq, const char *line), void *ctx);

/* The member MAC of (address, network): locally administered, unicast. */
void zt_vl2_member_mac(uint8_t mac[6], uint64_t address, uint64_t nwid);
/* The member address a MAC derives from, or 0 if it is not a member MAC. */
uint64_t zt_vl2_mac_member(const uint8_t mac[6], uint64_t nwid);

/* restarts (issue 12) */
/* The node's session hook (zt_node_set_session_hook): our certificate goes to
 * the peer at once on every network it is (or was) a member of. */
void zt_vl2_session_up(struct zt_vl2 *v, uint64_t peer, uint64_t now_ms);
/* A peer the host remembers as a member of nwid (peer cache): its session is
 * started now and certificates are exchanged as soon as both sides can. */
int zt_vl2_expect_member(struct zt_vl2 *v, uint64_t nwid, uint64_t address, uint64_t now_ms);
/* Whether address's certificate on nwid checked out. */
bool zt_vl2_member_verified(const struct zt_vl2 *v, uint64_t nwid, uint64_t address);
/* Members of nwid whose certificate checked out (for the host's peer cache). */
unsigned zt_vl2_members(const struct zt_vl2 *v, uint64_t nwid, uint64_t *out, unsigned max);

#endif
