/*
 * proto.h - the protocol's constants, each with the reason for its value.
 * PROTOCOL.md (next to this file) is the byte-level description.
 */
#ifndef ZT_PROTO_H
#define ZT_PROTO_H

/* Identity / address derivation: scrypt(x25519_pub || ed25519_pub, salt).
 * N=2^13, r=8 needs 8 MiB and ~15 ms per evaluation on a 2-core VM: cheap
 * enough to validate each stranger once, while landing on a chosen 40-bit
 * address needs ~2^39 evaluations (~260 core-years). */
#define ZT_ADDR_SCRYPT_N (1u << 13)
#define ZT_ADDR_SCRYPT_R 8u
#define ZT_ADDR_SCRYPT_P 1u
#define ZT_ADDR_SCRYPT_SALT "zt.address.v1"

/* Default UDP port (and TCP port of the local API on 127.0.0.1). */
#define ZT_DEFAULT_PORT 9993

/* ---- outer packet header (PROTOCOL.md "Header") ---- */
#define ZT_PROTO_VERSION 1
#define ZT_HDR_BYTES 14          /* version, type, hops, flags, dst(5), src(5) */
#define ZT_MAX_HOPS 2            /* a root relays once; a second hop covers root-to-root forwarding */

enum zt_pkt_type {
	ZT_PKT_HS_INIT = 1,
	ZT_PKT_HS_RESP = 2,
	ZT_PKT_COOKIE = 3,
	ZT_PKT_DATA = 4,
	ZT_PKT_FRAGMENT = 5,
};

/* DATA: header + receiver index(4) + counter(8) + ciphertext + tag. */
#define ZT_DATA_HDR_BYTES (ZT_HDR_BYTES + 4 + 8)
#define ZT_DATA_OVERHEAD (ZT_DATA_HDR_BYTES + 16)
/* FRAGMENT: header + packet id(4) + index(1) + count(1) + whole packet length(2). */
#define ZT_FRAG_HDR_BYTES (ZT_HDR_BYTES + 8)
/* The last fragment is padded to full size when that costs at most this many
 * bytes: every fragment to a peer is then the same size, and a burst of them
 * leaves in one segmentation-offloaded send. The length field says what to keep. */
#define ZT_FRAG_PAD_MAX 64

/* Underlay MTU: 1452 bytes of UDP payload is exactly a 1500-byte Ethernet path
 * with IPv6 + UDP headers (1500 - 40 - 8). A default-MTU (2800) frame sealed in
 * DATA is 2853 bytes: two fragments of this size carry it (1432 would need a
 * third, nearly empty datagram, a 50% packet-rate penalty). Smaller paths
 * (PPPoE) fragment at the IP layer. */
#define ZT_UDP_PAYLOAD_MTU 1452
/* Largest inner message: VL2 MTU 10000 + Ethernet header and VL2 framing slack. */
#define ZT_MAX_MESSAGE_BYTES 10240
/* Largest packet before fragmentation (message + DATA overhead, rounded). */
#define ZT_MAX_PACKET_BYTES (ZT_MAX_MESSAGE_BYTES + ZT_DATA_OVERHEAD)

/* ---- sessions (PROTOCOL.md "Sessions"); timings follow WireGuard's reasoning ---- */
#define ZT_REKEY_AFTER_MS 120000          /* initiator starts a new handshake after 2 minutes */
#define ZT_REJECT_AFTER_MS 180000         /* a key is never used after 3 minutes */
#define ZT_REKEY_AFTER_MESSAGES (1ULL << 60) /* far below 2^64 nonce exhaustion */
#define ZT_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13) - 1)
#define ZT_REKEY_TIMEOUT_MS 5000          /* retry an unanswered handshake after 5 s (+ jitter) */
#define ZT_REKEY_ATTEMPT_MS 90000         /* give up a handshake after 90 s of retries */
#define ZT_KEEPALIVE_MS 10000             /* passive keepalive after receiving with nothing to send */
#define ZT_HS_JITTER_MS 333               /* spreads retries so two sides do not collide forever */
#define ZT_HS_INIT_MIN_INTERVAL_MS 50     /* a peer's inits are processed at most this often */
#define ZT_HS_COOKIE_RETRY_MS 100         /* after a cookie reply (round trip proven), retry this soon */
#define ZT_STALE_SESSION_MS (ZT_KEEPALIVE_MS + ZT_REKEY_TIMEOUT_MS) /* sent, heard nothing: re-handshake */
#define ZT_UNKNOWN_INDEX_PER_SEC 10        /* DATA under keys we lack (the peer restarted?): handshakes
					    * started because of it, node-wide */

/* ---- handshake DoS defence (PROTOCOL.md "Cookies") ---- */
#define ZT_COOKIE_SECRET_MS 120000        /* cookie secret rotates every 2 minutes */
#define ZT_HS_LOAD_PER_SEC 200            /* above this many inits per second, demand a cookie */
#define ZT_VALIDATE_PER_SEC 20            /* identity validations (scrypt) of strangers per second */
#define ZT_VALIDATE_BURST 100

/* ---- roots and paths ---- */
#define ZT_ROOT_HELLO_MS 20000            /* HELLO to each root: keeps NAT mapping and registration */
#define ZT_ROOT_HELLO_RETRY_MS 2000       /* while a root has not answered */
#define ZT_PATH_ALIVE_MS 45000            /* a path heard within this is alive */
#define ZT_PEER_EXPIRE_MS 600000          /* forget idle peers (roots forget nodes) after 10 min */
#define ZT_WHOIS_RETRY_MS 1000
#define ZT_WHOIS_GIVE_UP_MS 10000
#define ZT_PENDING_SLOTS 64               /* messages waiting for a session, node-wide */
#define ZT_PENDING_MAX_MS 10000           /* ... dropped after this long */
#define ZT_PEER_MAX_PATHS 8
#define ZT_MAX_ROOTS 8
#define ZT_ROOT_MAX_ENDPOINTS 4

/* ---- inner messages (verbs) carried inside DATA ---- */
enum zt_verb {
	ZT_VERB_KEEPALIVE = 0x00,
	ZT_VERB_ECHO = 0x01,
	ZT_VERB_ECHO_REPLY = 0x02,
	ZT_VERB_HELLO = 0x03,
	ZT_VERB_HELLO_OK = 0x04,
	ZT_VERB_WHOIS = 0x05,
	ZT_VERB_WHOIS_OK = 0x06,
	ZT_VERB_WHOIS_NONE = 0x07,
	ZT_VERB_RENDEZVOUS = 0x08,
	ZT_VERB_PATH_PROBE = 0x09,
	ZT_VERB_PATH_PROBE_OK = 0x0a,
	ZT_VERB_VL2_MIN = 0x20, /* 0x20.. VL2 verbs, handed to the network layer */
	ZT_VERB_NETCONF_REQUEST = 0x20,
	ZT_VERB_NETCONF = 0x21,
	ZT_VERB_COM = 0x22,
	ZT_VERB_COM_REQUEST = 0x23,
	ZT_VERB_FRAME = 0x24,
	ZT_VERB_EXT_FRAME = 0x25,
	ZT_VERB_MULTICAST_LIKE = 0x26,   /* member -> root: subscriptions */
	ZT_VERB_MULTICAST_GATHER = 0x27, /* member -> root: who subscribes to a group */
	ZT_VERB_MULTICAST_GATHER_OK = 0x28,
	ZT_VERB_REVOCATION = 0x29,
};

/* ---- VL2 (PROTOCOL.md "Virtual Ethernet") ---- */
#define ZT_MAX_NETWORKS 32                 /* networks one node can join */
#define ZT_NETCONF_CHUNK_BYTES 4096        /* signed configs travel in chunks of this size */
#define ZT_NETCONF_RETRY_MS 2000           /* config request retry while waiting */
#define ZT_NETCONF_REFRESH_MS 60000        /* re-request while OK (pushes make it faster) */
#define ZT_COM_RESEND_MS 120000            /* resend our certificate to a peer this often */
#define ZT_COM_REQUEST_MS 1000             /* ask a peer for its certificate at most this often */
#define ZT_MCAST_LIKE_MS 60000             /* re-announce subscriptions to roots */
#define ZT_MCAST_EXPIRE_MS 180000          /* roots forget subscriptions not renewed */
#define ZT_MCAST_GATHER_MS 500             /* a group in use is re-gathered (in the background) this
					    * often: a new listener is reached within about a second
					    * of announcing itself, even by a sender that sends once
					    * a second (a 1 s refresh would alias with it) */
#define ZT_MCAST_GATHER_MAX 256            /* addresses in one GATHER_OK */
#define ZT_MCAST_STALE_MS 1000             /* an older list is not trusted: the frame waits one root
					    * round trip for a fresh answer (a steady stream keeps its
					    * list fresh and never waits) ... */
#define ZT_MCAST_WAIT_MS 1000              /* ... at most this long, then goes to the old list */
#define ZT_ROOT_MCAST_MAX 65536            /* subscriptions a root keeps */
#define ZT_ROOT_MCAST_PER_MEMBER 1024      /* ... of which one member may hold (all networks) */
#define ZT_MCAST_RATE_PER_SEC 1000         /* multicast frames accepted per source per second */
#define ZT_MCAST_RATE_BURST 2000
#define ZT_NET_MEMBERS_MAX 4096            /* peers a network tracks certificates for */
#define ZT_NET_MACS_MAX 4096               /* MACs learned behind bridges */
#define ZT_NET_MAC_AGE_MS 300000           /* a learned MAC is forgotten after 5 minutes */
#define ZT_NET_GROUPS_MAX 256              /* our own subscriptions per network */
#define ZT_NET_QUEUE 64                    /* frames waiting for a certificate or a gather */
#define ZT_NET_QUEUE_MS 3000

#define ZT_ECHO_MAX_PAYLOAD 1024

/* ---- NAT traversal and path management (PROTOCOL.md "Paths") ---- */
#define ZT_MAX_LOCAL_ENDPOINTS 8          /* local addresses a node announces to roots */
#define ZT_ENDPOINT_WIRE_BYTES 19         /* family(1) addr(16) port(2) */
#define ZT_RENDEZVOUS_INTERVAL_MS 5000    /* a root introduces the same pair at most this often */
#define ZT_RENDEZVOUS_MEMORY 8            /* pairs a root remembers per peer for that limit */
#define ZT_PROBE_ATTEMPTS 6               /* probes per candidate endpoint after an introduction */
#define ZT_MAX_CANDIDATES 8               /* candidate endpoints being probed per peer */
#define ZT_PATH_PROBE_AFTER_MS 500        /* sending without hearing back this long: probe the path */
#define ZT_PATH_DEAD_MS 2000              /* a probe unanswered this long: the path is dead */
#define ZT_PATH_REPROBE_MS 2000           /* dead paths are re-probed this often (to notice healing) */
#define ZT_PATH_KEEPALIVE_MS 15000        /* idle direct paths are probed this often: holds NAT
					   * mappings, well under common 30 s UDP NAT timeouts */
#define ZT_PATH_FRESH_MS 3000             /* paths heard this recently compete on latency */

/* ---- restarts (issue 12) ---- */
/* The first handshake to a root or a cached peer, and the first config request,
 * are retried after 250, 500, 1000 ms, then at the normal interval: a restarted
 * node is back within a second when one datagram of the first round trip is
 * lost, instead of waiting ZT_REKEY_TIMEOUT_MS (5 s) or ZT_NETCONF_RETRY_MS
 * (2 s). Four early tries at most cost a handful of datagrams per peer. */
#define ZT_EARLY_RETRY_FIRST_MS 250
#define ZT_EARLY_RETRY_STEPS 3            /* 250, 500, 1000: then the normal interval */
#define ZT_EARLY_RETRY_JITTER_MS 50       /* well below the first step, still breaks lockstep */
/* Peers remembered across restarts (HOME/peers.cache): identity validation
 * costs ~15 ms of scrypt each, so 256 cost ~4 s of CPU at most, once, at start.
 * The daemon's limit is configurable (peer_cache_max); this is its default and
 * the most the format accepts. */
#define ZT_PEER_CACHE_DEFAULT 256
#define ZT_PEER_CACHE_MAX 4096
#define ZT_PEER_CACHE_ENDPOINTS 4         /* last endpoints kept per peer */
#define ZT_PEER_CACHE_NETWORKS 8          /* networks a cached peer was a verified member of */
#define ZT_PEER_CACHE_WRITE_MS 60000      /* the daemon rewrites the cache this often (and at shutdown) */
/* Frames from a member whose certificate has not checked out yet are held (at
 * most this many per network, within ZT_NET_QUEUE) for ZT_NET_QUEUE_MS while
 * its certificate is asked for, then delivered; the rest of the queue stays
 * free for frames we send. */
#define ZT_NET_HELD_IN_MAX 16
/* A restarted node brings a network's TAP up once sessions (and certificates)
 * with that network's cached members are up, or after this long: a frame sent
 * under a session of the old run can never be opened, so the first frames wait
 * for the new sessions rather than being lost. One second covers a relayed
 * handshake plus one early retry. */
#define ZT_RESTART_PORT_WAIT_MS 1000

#endif
