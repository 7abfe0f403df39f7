/*
 * netconf.h - what a controller signs for one member of one network: the
 * network configuration, the membership certificate (COM) every frame's
 * sender is checked against, and the revocation record that voids older
 * certificates. Byte layouts: NETCONF.md "Network config and membership
 * certificate". Pure: no allocation, no OS calls.
 */
#ifndef ZT_NETCONF_H
#define ZT_NETCONF_H

#include "identity.h"
#include "base/zt.h"

/* Format version byte that opens every encoding below. */
#define ZT_NETCONF_FORMAT_VERSION 1
/* Kind byte after the version: keeps the three signed objects apart, so a
 * signature over one can never be replayed as another. */
#define ZT_NETCONF_KIND_CONFIG 0x4e     /* 'N' */
#define ZT_NETCONF_KIND_COM 0x43        /* 'C' */
#define ZT_NETCONF_KIND_REVOCATION 0x52 /* 'R' */
#define ZT_NETCONF_KIND_CREDENTIAL 0x54 /* 'T': a member's tags and capabilities, for its peers */

/* A network id's top 40 bits are its controller's address. */
#define ZT_NWID_CONTROLLER(nwid) ((uint64_t)(nwid) >> 24)

#define ZT_NETCONF_NAME_MAX 127
#define ZT_NETCONF_MTU_MIN 1280   /* the IPv6 minimum link MTU */
#define ZT_NETCONF_MTU_MAX 10000  /* the largest VL2 frame the transport carries */
#define ZT_NETCONF_MTU_DEFAULT 2800 /* two underlay packets: fewer fragments than jumbo, fewer headers than 1500 */
#define ZT_NETCONF_MULTICAST_LIMIT_DEFAULT 32
#define ZT_NETCONF_MULTICAST_LIMIT_MAX 1000000
#define ZT_NETCONF_IPS_MAX 16     /* assigned addresses, both families together */
#define ZT_NETCONF_ROUTES_MAX 64
#define ZT_NETCONF_DNS_DOMAIN_MAX 127
#define ZT_NETCONF_DNS_SERVERS_MAX 4
#define ZT_NETCONF_TAGS_MAX 32
#define ZT_NETCONF_CAPS_MAX 32
#define ZT_NETCONF_CAP_NAME_MAX 32  /* = ZT_RULES_MAX_NAME: capability sets are named in the rules */
#define ZT_NETCONF_RULES_MAX 16384
/* Default allowed difference between two members' certificate times: a
 * controller re-issues configs well within this, so two live members agree
 * while a member cut off for longer does not. */
#define ZT_NETCONF_MAX_DELTA_DEFAULT_MS 7200000ULL

#define ZT_SIGNATURE_BYTES 64
/* version kind nwid(8) member(5) issued(8) delta(8) revision(8) signature(64) */
#define ZT_COM_BYTES (2 + 8 + 5 + 8 + 8 + 8 + 1 + ZT_SIGNATURE_BYTES)
#define ZT_COM_FLAG_BRIDGE 0x01 /* the member may send from MACs other than its own */
/* version kind nwid(8) member(5) threshold(8) signature(64) */
#define ZT_REVOCATION_BYTES (2 + 8 + 5 + 8 + ZT_SIGNATURE_BYTES)

/* An address with its prefix length: family 4 uses addr[0..3]. */
struct zt_netconf_ip {
	uint8_t family; /* 4 or 6 */
	uint8_t addr[16];
	uint8_t prefix_len; /* <= 32 or <= 128 */
};

struct zt_netconf_route {
	struct zt_netconf_ip target; /* host bits must be zero */
	uint8_t via_family; /* 0: no gateway (the network itself); else == target.family */
	uint8_t via[16];
};

struct zt_netconf_tag {
	uint32_t id;
	uint32_t value;
};

struct zt_netconf_cap {
	uint32_t id;
	char name[ZT_NETCONF_CAP_NAME_MAX + 1];
};

/* Membership certificate: proves "member belongs to nwid as of issued_ms". */
struct zt_com {
	uint64_t network_id;
	uint64_t member; /* 40-bit address */
	uint64_t issued_ms;
	uint64_t max_delta_ms;
	uint64_t revision;
	uint8_t flags; /* ZT_COM_FLAG_*: what peers must know about the member */
	uint8_t signature[ZT_SIGNATURE_BYTES];
};

/* Any certificate of member in nwid issued before threshold_ms is void. */
struct zt_revocation {
	uint64_t network_id;
	uint64_t member;
	uint64_t threshold_ms;
	uint8_t signature[ZT_SIGNATURE_BYTES];
};

struct zt_netconf {
	uint64_t network_id;
	uint64_t revision;
	uint64_t issued_ms;
	uint64_t max_delta_ms;
	uint64_t member;
	char name[ZT_NETCONF_NAME_MAX + 1];
	bool is_private;
	bool enable_broadcast;
	bool bridge; /* this member may send from MACs other than its own */
	uint16_t mtu;
	uint32_t multicast_limit;
	uint8_t n_ips;
	struct zt_netconf_ip ips[ZT_NETCONF_IPS_MAX];
	uint8_t n_routes;
	struct zt_netconf_route routes[ZT_NETCONF_ROUTES_MAX];
	char dns_domain[ZT_NETCONF_DNS_DOMAIN_MAX + 1];
	uint8_t n_dns_servers;
	struct zt_netconf_ip dns_servers[ZT_NETCONF_DNS_SERVERS_MAX]; /* prefix_len = full length */
	uint8_t n_tags;
	struct zt_netconf_tag tags[ZT_NETCONF_TAGS_MAX]; /* ids strictly ascending */
	uint8_t n_caps;
	struct zt_netconf_cap caps[ZT_NETCONF_CAPS_MAX]; /* ids strictly ascending */
	uint16_t rules_len;
	uint8_t rules[ZT_NETCONF_RULES_MAX];
	struct zt_com com;
	uint8_t signature[ZT_SIGNATURE_BYTES];
};

/* Largest encoded config: fixed part + every list at its maximum. */
#define ZT_NETCONF_MAX_BYTES                                                          \
	(2 + 8 + 8 + 8 + 8 + 5 + 1 + 2 + 4 + (2 + ZT_NETCONF_NAME_MAX) +             \
	 (1 + ZT_NETCONF_IPS_MAX * 18) + (1 + ZT_NETCONF_ROUTES_MAX * 35) +          \
	 (2 + ZT_NETCONF_DNS_DOMAIN_MAX) + (1 + ZT_NETCONF_DNS_SERVERS_MAX * 17) +   \
	 (1 + ZT_NETCONF_TAGS_MAX * 8) + (1 + ZT_NETCONF_CAPS_MAX * (4 + 2 + ZT_NETCONF_CAP_NAME_MAX)) + \
	 (2 + ZT_NETCONF_RULES_MAX) + ZT_COM_BYTES + ZT_SIGNATURE_BYTES)

/* Zero nc and set the defaults (mtu, multicast limit, delta, private, broadcast). */
void zt_netconf_init(struct zt_netconf *nc, uint64_t network_id, uint64_t member);

/* Every bound and invariant of a filled config (not the signatures). */
int zt_netconf_check(const struct zt_netconf *nc);

/*
 * Controller side: copy (nwid, member, issued, delta, revision) into nc->com,
 * sign the certificate, encode the config into out and sign it there; the
 * signature is also stored in nc->signature.
 */
int zt_netconf_sign(struct zt_netconf *nc, const struct zt_identity *controller, uint8_t *out,
		    size_t cap, size_t *out_len);

/* Re-encode an already signed config (e.g. to forward it). */
int zt_netconf_encode(const struct zt_netconf *nc, uint8_t *out, size_t cap, size_t *out_len);

/*
 * Member side: parse and check every bound of buf, then verify that
 * controller owns the network (its address is the id's top 40 bits) and
 * signed both the config and its certificate. controller is a public
 * identity the caller already trusts (validated). nc is only meaningful
 * when 0 is returned; on failure it is zeroed.
 */
int zt_netconf_decode(struct zt_netconf *nc, const void *buf, size_t len, const struct zt_identity *controller);

/* Membership certificates. */
int zt_com_sign(struct zt_com *com, const struct zt_identity *controller);
int zt_com_encode(const struct zt_com *com, uint8_t out[ZT_COM_BYTES]);
/* Exact length, version and kind; no signature check (zt_com_verify). */
int zt_com_decode(struct zt_com *com, const void *buf, size_t len);
/* 0 if controller owns com->network_id and signed com, else ZT_EAUTH / ZT_EINVAL. */
int zt_com_verify(const struct zt_com *com, const struct zt_identity *controller);
/*
 * Two certificates agree when both verify, name the same network and their
 * issue times differ by no more than the smaller of their two deltas
 * (symmetric: a and b reach the same answer about each other).
 */
bool zt_com_agree(const struct zt_com *a, const struct zt_com *b, const struct zt_identity *controller);

/* Revocation records. */
/*
 * A member's tags and capability names, signed by the controller, so that its
 * peers' rules can match them (a peer only ever sees its own config).
 * Travels with the member's certificate.
 */
struct zt_credential {
	uint64_t network_id;
	uint64_t member;
	uint64_t issued_ms;
	uint8_t n_tags;
	struct zt_netconf_tag tags[ZT_NETCONF_TAGS_MAX];
	uint8_t n_caps;
	char caps[ZT_NETCONF_CAPS_MAX][ZT_NETCONF_CAP_NAME_MAX + 1];
	uint8_t signature[ZT_SIGNATURE_BYTES];
};
#define ZT_CREDENTIAL_MAX_BYTES \
	(2 + 8 + 5 + 8 + 1 + ZT_NETCONF_TAGS_MAX * 8 + 1 + ZT_NETCONF_CAPS_MAX * (2 + ZT_NETCONF_CAP_NAME_MAX) + \
	 ZT_SIGNATURE_BYTES)

/* The credential for nc's member, from nc's tags and capabilities (nc need not be signed). */
int zt_credential_from_netconf(struct zt_credential *cred, const struct zt_netconf *nc,
			       const struct zt_identity *controller);
int zt_credential_encode(const struct zt_credential *cred, uint8_t *out, size_t cap, size_t *out_len);
int zt_credential_decode(struct zt_credential *cred, const void *buf, size_t len);
int zt_credential_verify(const struct zt_credential *cred, const struct zt_identity *controller);

int zt_revocation_sign(struct zt_revocation *rev, const struct zt_identity *controller);
int zt_revocation_encode(const struct zt_revocation *rev, uint8_t out[ZT_REVOCATION_BYTES]);
int zt_revocation_decode(struct zt_revocation *rev, const void *buf, size_t len);
int zt_revocation_verify(const struct zt_revocation *rev, const struct zt_identity *controller);
/* Does (an already verified) rev void com? Same network and member, issued before the threshold. */
bool zt_com_revoked(const struct zt_com *com, const struct zt_revocation *rev);

#endif
