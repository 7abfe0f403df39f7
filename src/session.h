/*
 * session.h - transport keypairs: keyed AEAD contexts, the send counter and
 * the replay window, and the DATA packet seal/open. This file keys, checks
 * (zt_keypair_can_send/can_recv: age and counter limits) and seals; it never
 * decides which keypair is in use.
 *
 * Key rotation, the one place that says who owns it: a peer (peer.h) holds up
 * to three keypairs, prev, cur and next, as WireGuard does, and the node's VL1
 * session lifecycle moves them (handshake.c: install_keypair,
 * zt_handshake_confirm_next; node.c: tick_session; send.c: zt_node_send_msg):
 *   - a finished handshake installs a keypair: the initiator's becomes cur at
 *     once (old cur -> prev); the responder's waits in next until the
 *     initiator's first DATA packet under it confirms it (next -> cur);
 *   - a new handshake starts when the initiator's cur is ZT_REKEY_AFTER_MS old,
 *     when either side's cur has sent ZT_REKEY_AFTER_MESSAGES, or, on the
 *     responder, when the initiator went quiet near ZT_REJECT_AFTER_MS; the
 *     old keys keep working meanwhile;
 *   - a keypair that can no longer receive is dropped and wiped on the tick.
 * The constants and their reasons are in proto.h, the wire view in PROTOCOL.md.
 */
#ifndef ZT_SESSION_H
#define ZT_SESSION_H

#include "crypto.h"
#include "noise.h"
#include "replay.h"

struct zt_peer;

struct zt_keypair {
	struct zt_aead *send;
	struct zt_aead *recv;
	uint64_t send_counter;
	struct zt_replay replay;
	uint32_t local_index;
	uint32_t remote_index;
	uint64_t created_ms;
	bool initiator;
	int cipher;
	struct zt_peer *peer;
	struct zt_keypair *index_next; /* chain in the node's index table */
};

int zt_keypair_new(struct zt_keypair **out, const struct zt_hs_keys *keys, struct zt_peer *peer, uint64_t now_ms);
void zt_keypair_free(struct zt_keypair *kp); /* wipes keys */

/* Usable for sending: not expired by age or counter. */
bool zt_keypair_can_send(const struct zt_keypair *kp, uint64_t now_ms);
bool zt_keypair_can_recv(const struct zt_keypair *kp, uint64_t now_ms);

/*
 * Seal msg into a DATA packet at out (room: len + ZT_DATA_OVERHEAD).
 * Header fields come from dst/src. Returns the packet length or a negative error.
 */
int zt_session_seal(struct zt_keypair *kp, uint64_t dst, uint64_t src, const uint8_t *msg, size_t len,
		    uint8_t *out, size_t out_cap);

/*
 * Open a DATA packet in place. On success *msg points inside pkt at the
 * plaintext and *msg_len is its length; the counter is marked in the window.
 */
int zt_session_open(struct zt_keypair *kp, uint8_t *pkt, size_t len, uint64_t now_ms, uint8_t **msg,
		    size_t *msg_len);

#endif
