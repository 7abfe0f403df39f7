/*
 * noise.h - the handshake: Noise IK over X25519, ChaCha20-Poly1305, SHA-256,
 * with WireGuard-style mac1/mac2 and cookie replies against floods.
 * Produces transport keys (struct zt_hs_keys); a struct zt_keypair (session.h)
 * owns them afterwards, and session.h says who rotates them.
 *
 * Initiator states:  NONE --create_init--> INIT_SENT --consume_resp--> NONE (keys out)
 * Responder: stateless until consume_init succeeds, then create_resp emits keys.
 */
#ifndef ZT_NOISE_H
#define ZT_NOISE_H

#include "base/endpoint.h"
#include "identity.h"
#include "proto.h"

#define ZT_MAC_BYTES 16
#define ZT_INIT_PAYLOAD_BYTES 12 /* timestamp(8) cipher(1) flags(1) reserved(2) */
#define ZT_RESP_PAYLOAD_BYTES 4  /* cipher(1) reserved(3) */
#define ZT_HS_INIT_BYTES (ZT_HDR_BYTES + 4 + 32 + (ZT_IDENTITY_PUBLIC_BYTES + 16) + (ZT_INIT_PAYLOAD_BYTES + 16) + 2 * ZT_MAC_BYTES)
#define ZT_HS_RESP_BYTES (ZT_HDR_BYTES + 4 + 4 + 32 + (ZT_RESP_PAYLOAD_BYTES + 16) + 2 * ZT_MAC_BYTES)
#define ZT_COOKIE_BYTES (ZT_HDR_BYTES + 4 + 12 + 16 + 16)

enum zt_hs_state {
	ZT_HS_NONE = 0,
	ZT_HS_INIT_SENT,
};

/* What a node keeps about itself for handshakes. */
struct zt_noise_local {
	const struct zt_identity *id; /* with secret */
	uint8_t mac1_key[32];         /* checks mac1 on messages to us */
	uint8_t cookie_key[32];       /* seals cookie replies we send */
	uint8_t cookie_secret[32];    /* rotates every ZT_COOKIE_SECRET_MS */
	uint64_t cookie_secret_ms;
};

/* Per-peer handshake state (initiator side plus cookie and replay memory). */
struct zt_handshake {
	enum zt_hs_state state;
	uint8_t e_priv[32];
	uint8_t e_pub[32];
	uint8_t h[32];
	uint8_t ck[32];
	uint32_t local_index;
	int cipher;
	uint64_t first_sent_ms; /* start of this handshake attempt series */
	uint64_t sent_ms;       /* last init sent */
	uint64_t retry_ms;      /* when to send the next init if unanswered */
	uint64_t last_ts_sent;  /* our init timestamps strictly increase */
	uint8_t last_mac1[ZT_MAC_BYTES];
	uint8_t cookie[16];
	uint64_t cookie_ms; /* 0: no cookie */
	uint64_t greatest_ts_seen; /* responder: inits with older timestamps are replays */
	uint64_t last_init_rx_ms;  /* responder: per-peer init flood limit */
};

/* Transport keys produced by a completed handshake. */
struct zt_hs_keys {
	uint8_t send[32];
	uint8_t recv[32];
	uint32_t local_index;
	uint32_t remote_index;
	int cipher;
	bool initiator;
};

/* What a consumed init tells the responder. */
struct zt_hs_init_info {
	struct zt_identity peer; /* public identity, not yet validated */
	uint32_t remote_index;
	uint64_t timestamp;
	int cipher;
	uint8_t e_pub[32];
	uint8_t h[32];
	uint8_t ck[32];
	uint8_t mac1[ZT_MAC_BYTES];
};

void zt_noise_local_init(struct zt_noise_local *l, const struct zt_identity *id);
void zt_noise_local_rotate(struct zt_noise_local *l, uint64_t now_ms, zt_random_fn rnd, void *rnd_ctx);

/* Initiator: write a complete HS_INIT packet (header included) into out. */
int zt_noise_create_init(struct zt_noise_local *l, struct zt_handshake *hs, const struct zt_identity *peer,
			 uint32_t local_index, int cipher, uint64_t now_ms, zt_random_fn rnd, void *rnd_ctx,
			 uint8_t out[ZT_HS_INIT_BYTES]);

/* Cheap checks before any DH: length and mac1. If under_load, mac2 must be a
 * valid cookie for `from` too; otherwise ZT_EAGAIN means "send a cookie reply". */
int zt_noise_check_macs(struct zt_noise_local *l, const uint8_t *pkt, size_t len, size_t mac_off,
			bool under_load, const struct zt_endpoint *from);

/* Responder: decrypt and authenticate an HS_INIT (macs already checked). */
int zt_noise_consume_init(struct zt_noise_local *l, const uint8_t *pkt, size_t len, struct zt_hs_init_info *info);

/* Responder: write the HS_RESP packet and derive keys. */
int zt_noise_create_resp(struct zt_noise_local *l, struct zt_hs_init_info *info, uint32_t local_index,
			 zt_random_fn rnd, void *rnd_ctx, uint8_t out[ZT_HS_RESP_BYTES],
			 struct zt_hs_keys *keys);

/* Initiator: consume an HS_RESP for hs (state INIT_SENT) and derive keys. */
int zt_noise_consume_resp(struct zt_noise_local *l, struct zt_handshake *hs, const struct zt_identity *peer,
			  const uint8_t *pkt, size_t len, struct zt_hs_keys *keys);

/* Cookie reply to an init we will not process now. */
int zt_noise_create_cookie(struct zt_noise_local *l, const uint8_t *init_pkt, size_t len,
			   const struct zt_endpoint *from, zt_random_fn rnd, void *rnd_ctx,
			   uint8_t out[ZT_COOKIE_BYTES]);
/* Initiator: accept a cookie reply (matched by the caller through the index). */
int zt_noise_consume_cookie(struct zt_handshake *hs, const struct zt_identity *peer, const uint8_t *pkt,
			    size_t len, uint64_t now_ms);

/* Reads the receiver index of a RESP/COOKIE/DATA packet (after the header). */
uint32_t zt_noise_peek_index(const uint8_t *pkt, size_t len, size_t off);

void zt_handshake_clear(struct zt_handshake *hs);

#endif
