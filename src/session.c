/*
 * session.c - keypairs and the per-packet DATA seal/open. No allocation on
 * the per-packet path: the AEAD contexts are keyed once, in zt_keypair_new.
 * Key rotation policy (which keypair is current) lives in handshake.c.
 */
#include "session.h"
#include "packet.h"
#include "base/wire.h"

#include <stdlib.h>
#include <string.h>

int zt_keypair_new(struct zt_keypair **out, const struct zt_hs_keys *keys, struct zt_peer *peer, uint64_t now_ms)
{
	struct zt_keypair *kp = calloc(1, sizeof(*kp));
	int err;

	if (!kp)
		return ZT_ENOMEM;
	err = zt_aead_new(&kp->send, keys->cipher, keys->send);
	if (!err)
		err = zt_aead_new(&kp->recv, keys->cipher, keys->recv);
	if (err) {
		zt_keypair_free(kp);
		return err;
	}
	zt_replay_init(&kp->replay);
	kp->local_index = keys->local_index;
	kp->remote_index = keys->remote_index;
	kp->created_ms = now_ms;
	kp->initiator = keys->initiator;
	kp->cipher = keys->cipher;
	kp->peer = peer;
	*out = kp;
	return 0;
}

void zt_keypair_free(struct zt_keypair *kp)
{
	if (!kp)
		return;
	zt_aead_free(kp->send);
	zt_aead_free(kp->recv);
	zt_wipe(kp, sizeof(*kp));
	free(kp);
}

bool zt_keypair_can_send(const struct zt_keypair *kp, uint64_t now_ms)
{
	return kp && now_ms - kp->created_ms < ZT_REJECT_AFTER_MS && kp->send_counter < ZT_REJECT_AFTER_MESSAGES;
}

bool zt_keypair_can_recv(const struct zt_keypair *kp, uint64_t now_ms)
{
	return kp && now_ms - kp->created_ms < ZT_REJECT_AFTER_MS;
}

/* AAD: the DATA header with the hop count zeroed (relays change it). */
static void data_aad(uint8_t aad[ZT_DATA_HDR_BYTES], const uint8_t *pkt)
{
	memcpy(aad, pkt, ZT_DATA_HDR_BYTES);
	aad[ZT_HDR_HOPS_OFFSET] = 0;
}

int zt_session_seal(struct zt_keypair *kp, uint64_t dst, uint64_t src, const uint8_t *msg, size_t len,
		    uint8_t *out, size_t out_cap)
{
	struct zt_hdr hdr = {ZT_PROTO_VERSION, ZT_PKT_DATA, 0, 0, dst, src};
	uint8_t aad[ZT_DATA_HDR_BYTES];
	uint64_t counter = kp->send_counter;
	struct zt_wr w;
	int err;

	if (len > ZT_MAX_MESSAGE_BYTES || out_cap < len + ZT_DATA_OVERHEAD)
		return ZT_ETOOBIG;
	if (counter >= ZT_REJECT_AFTER_MESSAGES)
		return ZT_ESTATE;
	zt_wr_init(&w, out, out_cap);
	zt_hdr_write(&w, &hdr);
	zt_wr_be32(&w, kp->remote_index);
	zt_wr_be64(&w, counter);
	data_aad(aad, out);
	err = zt_aead_seal(kp->send, counter, aad, sizeof(aad), msg, len, out + ZT_DATA_HDR_BYTES);
	if (err)
		return err;
	kp->send_counter = counter + 1;
	return (int)(len + ZT_DATA_OVERHEAD);
}

int zt_session_open(struct zt_keypair *kp, uint8_t *pkt, size_t len, uint64_t now_ms, uint8_t **msg,
		    size_t *msg_len)
{
	uint8_t aad[ZT_DATA_HDR_BYTES];
	struct zt_rd rd;
	uint64_t counter;
	int err;

	if (len < ZT_DATA_OVERHEAD)
		return ZT_ETRUNC;
	if (!zt_keypair_can_recv(kp, now_ms))
		return ZT_ESTATE;
	zt_rd_init(&rd, pkt + ZT_HDR_BYTES + 4, 8);
	counter = zt_rd_be64(&rd);
	if (!zt_replay_may_accept(&kp->replay, counter))
		return ZT_EREPLAY;
	data_aad(aad, pkt);
	err = zt_aead_open(kp->recv, counter, aad, sizeof(aad), pkt + ZT_DATA_HDR_BYTES,
			   len - ZT_DATA_HDR_BYTES, pkt + ZT_DATA_HDR_BYTES);
	if (err)
		return err;
	if (!zt_replay_check_and_set(&kp->replay, counter))
		return ZT_EREPLAY;
	*msg = pkt + ZT_DATA_HDR_BYTES;
	*msg_len = len - ZT_DATA_OVERHEAD;
	return 0;
}
