/*
 * network_impl.h - VL2's internal state, shared by vl2.c (low helpers), network.c (lifecycle),
 * membership.c, config_transfer.c, frame_path.c, vl2_multicast.c and
 * bridge.c. Not for the host: its API is network.h.
 */
#ifndef ZT_NETWORK_IMPL_H
#define ZT_NETWORK_IMPL_H

#include "network.h"
#include "base/limiter.h"
#include "base/wire.h"

struct net_member {
	uint64_t address; /* 0: free slot */
	struct zt_com com;
	bool com_ok;
	bool com_bad;  /* its last certificate was refused: its frames are dropped, not held */
	bool cached;   /* a verified member in an earlier run (the host's peer cache) */
	/* it takes part in the certificate exchange (cached, verified before, asked for
	 * ours, or sent one we could not check yet): its frames are held while its
	 * certificate is checked; a peer that never showed one is dropped at once */
	bool expected;
	uint64_t com_answered_ms; /* last COM_REQUEST of its we answered */
	/* its tags and capabilities, from its controller-signed credential */
	uint8_t n_tags;
	struct zt_rules_tag tags[ZT_RULES_MAX_TAGS];
	uint32_t caps_bits;
	uint64_t com_sent_ms, com_req_ms;
	struct zt_limiter mcast_limit; /* multicast frames accepted from it */
};

struct net_mac {
	uint8_t mac[6];
	uint64_t bridge;
	uint64_t last_ms;
};

struct net_gather {
	struct zt_mcast_group g;
	uint64_t fetched_ms, asked_ms;
	uint16_t n, n_bridges;
	uint64_t members[ZT_MCAST_GATHER_MAX];
	uint64_t bridges[ZT_MCAST_GATHER_MAX];
};

/* Q_MEMBER: a message to a member whose certificate we lack; Q_GROUP: a frame
 * waiting for a gather; Q_HELD_IN: a message from a member whose certificate
 * has not checked out yet (at most ZT_NET_HELD_IN_MAX), delivered once it does. */
enum queue_kind { Q_FREE = 0, Q_MEMBER, Q_GROUP, Q_HELD_IN };

struct net_queued {
	enum queue_kind kind;
	uint64_t member;
	struct zt_mcast_group g;
	uint64_t created_ms;
	size_t len;
	uint8_t *msg; /* a complete VL2 message (verb + body) for Q_MEMBER and Q_HELD_IN, a frame for Q_GROUP */
};

#define ETH_HDR 14
#define NET_GATHERS 32
#define NET_REVOCATIONS 64

struct zt_network {
	uint64_t nwid;
	uint64_t controller;
	enum zt_net_status status;
	char reason[160];
	uint64_t awaiting_since_ms, last_request_ms, last_answer_ms, joined_ms;
	unsigned request_tries; /* config requests sent before the first config */
	bool request_queued;    /* the last one waits for the controller's session */
	struct zt_netconf *conf; /* the applied config */
	struct zt_netconf *scratch;
	bool have_conf;
	uint8_t mac[6];
	uint8_t com_bytes[ZT_COM_BYTES];
	uint8_t cred_bytes[ZT_CREDENTIAL_MAX_BYTES]; /* our credential, sent with the certificate */
	size_t cred_len;

	/* config_transfer.c: NETCONF chunks */
	uint8_t *chunks; /* ZT_NETCONF_MAX_BYTES being reassembled */
	uint64_t chunk_rev;
	uint32_t chunk_total, chunk_got;

	/* membership.c: members, revocations; bridge.c: macs; vl2_multicast.c: gathers */
	struct net_member *members; /* ZT_NET_MEMBERS_MAX, open addressing */
	unsigned members_ok;
	struct net_mac *macs;       /* ZT_NET_MACS_MAX */
	struct net_gather *gathers; /* NET_GATHERS */
	struct net_queued queue[ZT_NET_QUEUE];
	struct zt_revocation revocations[NET_REVOCATIONS];
	unsigned n_revocations;

	/* frame_path.c: rules, evaluated on every frame sent and received */
	struct zt_rules *rules;
	struct zt_rules_counter *counters; /* ZT_RULES_MAX_RULES + 1 */
	bool have_rules;
	bool rules_broken; /* the controller sent a program we cannot load: fail closed */
	uint32_t caps_bits;
	char (*trace)[ZT_NET_TRACE_LINE];
	uint64_t trace_seq;   /* lines written so far */
	unsigned trace_budget;
	uint64_t trace_until_ms;

	/* vl2_multicast.c: our subscriptions */
	struct zt_mcast_group groups[ZT_NET_GROUPS_MAX];
	unsigned n_groups;
	bool groups_dirty;
	uint64_t last_like_ms;

	struct zt_net_stats st;
};

struct zt_vl2 {
	struct zt_node *node;
	struct zt_vl2_callbacks cb;
	struct zt_network *nets[ZT_MAX_NETWORKS];
	uint8_t *buf;     /* building one message */
	uint8_t *frame;   /* rebuilding one frame */
	uint8_t *conf_out;/* controller: a signed config being sent */
	uint8_t *copy;    /* one tee/watch copy being sent */
	struct zt_netconf *ctl_nc; /* controller: a config decoded to derive its credential */
	uint8_t cred_out[ZT_CREDENTIAL_MAX_BYTES];
	size_t cred_out_len;
	uint64_t rng;     /* xorshift state for the rules' random match, seeded once */
};

/* vl2.c: lookups, sending, the held-message queue, status (the low helpers) */
struct zt_network *zt_vl2_net_find(const struct zt_vl2 *v, uint64_t nwid);
uint64_t zt_vl2_self(const struct zt_vl2 *v);
int zt_vl2_send(struct zt_vl2 *v, uint64_t peer, uint8_t verb, const struct zt_wr *w, uint64_t now_ms);
int zt_vl2_queue_add(struct zt_network *net, enum queue_kind kind, uint64_t member, const struct zt_mcast_group *g,
		     const uint8_t *data, size_t len, uint64_t now_ms);
/* Hold a message (verb, body) from a member whose certificate is not verified yet; bounded, counted when full. */
int zt_vl2_queue_hold_in(struct zt_network *net, uint64_t member, uint8_t verb, const uint8_t *body, size_t len,
			 uint64_t now_ms);
/* The controller's identity, or ZT_EAGAIN after asking for it. */
int zt_vl2_controller_identity(struct zt_vl2 *v, struct zt_network *net, struct zt_identity *id, uint64_t now_ms);
void zt_vl2_set_status(struct zt_vl2 *v, struct zt_network *net, enum zt_net_status st, const char *reason);

/* membership.c: certificates, credentials, revocations, admission */
struct net_member *zt_membership_get(struct zt_network *net, uint64_t address, bool create);
/* Send a complete VL2 message (verb byte first) to a member whose certificate we hold. */
void zt_membership_send(struct zt_vl2 *v, struct zt_network *net, uint64_t member, const uint8_t *msg, size_t len,
			uint64_t now_ms);
/* Admission of a frame from a peer: a member with a valid certificate, or NULL.
 * The message (verb, body) is held when the peer's certificate is only not
 * verified yet, and handed to zt_frame_path_receive_held once it is. */
struct net_member *zt_membership_admit(struct zt_vl2 *v, struct zt_network *net, uint64_t peer, uint8_t verb,
				       const uint8_t *body, size_t body_len, uint64_t now_ms);
/* Our first config: greet the members we expect (cached from an earlier run, or whose certificate came
 * too early to check): our certificate out, theirs asked for. */
void zt_membership_greet_expected(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms);
void zt_membership_handle_com(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
void zt_membership_handle_com_request(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
void zt_membership_handle_revocation(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
void zt_membership_keep_own_credential(struct zt_vl2 *v, struct zt_network *net, const uint8_t *bytes, size_t len,
				       uint64_t now_ms);
/* A new config of ours: peers' certificates that no longer agree with it stop counting. */
void zt_membership_recheck(struct zt_network *net, const struct zt_com *ours, const struct zt_identity *ctl);
/* The config is gone: no peer's certificate counts. */
void zt_membership_forget(struct zt_network *net);

/* config_transfer.c: config requests, NETCONF chunks in and out, the controller's send side */
void zt_config_transfer_request(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms);
void zt_config_transfer_tick(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms);
void zt_config_transfer_handle(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
void zt_config_transfer_handle_request(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
/* A session with peer came up: a request queued behind the controller's left now (early retries count from here). */
void zt_config_transfer_session_up(struct zt_network *net, uint64_t peer, uint64_t now_ms);

/* frame_path.c: frames out of and into the port, the rules on both */
/* An unflagged EXT_FRAME message for frame, built in v->buf; its length, 0 if it does not fit. */
size_t zt_frame_path_ext_frame(struct zt_vl2 *v, uint64_t nwid, const uint8_t *frame, size_t len);
void zt_frame_path_load_rules(struct zt_network *net);
void zt_frame_path_handle_frame(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
void zt_frame_path_handle_ext_frame(struct zt_vl2 *v, uint64_t peer, struct zt_rd *rd, uint64_t now_ms);
/* A held message (verb + body) from a member whose certificate just checked out. */
void zt_frame_path_receive_held(struct zt_vl2 *v, uint64_t peer, const uint8_t *msg, size_t len, uint64_t now_ms);

/* vl2_multicast.c: our group subscriptions, gathers, fan-out */
extern const uint8_t zt_vl2_bcast_mac[6];
extern const struct zt_mcast_group zt_vl2_wildcard_group; /* all zero: "bridges: everything" */
void zt_vl2_mcast_send(struct zt_vl2 *v, struct zt_network *net, const struct zt_mcast_group *g,
		       const uint8_t *frame, size_t len, uint64_t now_ms);
void zt_vl2_mcast_handle_gather_ok(struct zt_vl2 *v, struct zt_rd *rd, uint64_t now_ms);
void zt_vl2_mcast_send_likes(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms);
void zt_vl2_mcast_rebuild_groups(struct zt_network *net, const uint8_t (*macs)[6], unsigned n_macs,
				 const uint32_t *ipv4, unsigned n_ipv4);
/* Re-announce our subscriptions when they changed or are due. */
void zt_vl2_mcast_tick(struct zt_vl2 *v, struct zt_network *net, uint64_t now_ms);
/* A held group frame whose gather went unanswered: to the last list known, if any. Frees q. */
void zt_vl2_mcast_send_late(struct zt_vl2 *v, struct zt_network *net, struct net_queued *q, uint64_t now_ms);

/* bridge.c: MACs learned behind bridges, unknown unicast */
/* The bridge behind a learned MAC, or NULL. */
struct net_mac *zt_bridge_find(struct zt_network *net, const uint8_t mac[6], uint64_t now_ms);
/* A frame's source MAC from peer: false (and counted) if peer may not send from it; learned if a bridge's. */
bool zt_bridge_check_source(struct zt_network *net, const struct net_member *m, uint64_t peer, const uint8_t *frame,
			    uint64_t now_ms);
/* Unicast to a MAC nobody owns goes to the bridges only. */
void zt_bridge_send_unknown(struct zt_vl2 *v, struct zt_network *net, const uint8_t *frame, size_t len,
			    uint64_t now_ms);

#endif
