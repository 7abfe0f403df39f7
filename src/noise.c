/*
 * noise.c - Noise_IK_25519_ChaChaPoly_SHA256 handshake messages, mac1/mac2
 * and cookie replies. Pure computation on buffers: no peers, no timers (the
 * caller owns state transitions and retries). PROTOCOL.md "Handshake".
 */
#include "noise.h"
#include "crypto.h"
#include "packet.h"
#include "base/wire.h"

#include <string.h>

static const char protocol_name[] = "Noise_IK_25519_ChaChaPoly_SHA256"; /* exactly 32 bytes */
static const char prologue[] = "zt/1";
static const uint8_t zero_nonce[12];

#define INIT_MAC1_OFF (ZT_HS_INIT_BYTES - 2 * ZT_MAC_BYTES)
#define RESP_MAC1_OFF (ZT_HS_RESP_BYTES - 2 * ZT_MAC_BYTES)

static void mix_hash(uint8_t h[32], const void *data, size_t len)
{
	zt_sha256_2(h, h, 32, data, len);
}

/* ck, k = HKDF(ck, dh) */
static void mix_key(uint8_t ck[32], uint8_t k[32], const uint8_t dh[32])
{
	uint8_t old[32];

	memcpy(old, ck, 32);
	zt_hkdf(ck, k, NULL, old, dh, 32);
	zt_wipe(old, sizeof(old));
}

static int mix_dh(uint8_t ck[32], uint8_t k[32], const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t dh[32];
	int err = zt_x25519(dh, priv, pub);

	if (!err)
		mix_key(ck, k, dh);
	zt_wipe(dh, sizeof(dh));
	return err;
}

static void initial_state(uint8_t h[32], uint8_t ck[32], const uint8_t responder_pub[32])
{
	memcpy(h, protocol_name, 32);
	memcpy(ck, h, 32);
	mix_hash(h, prologue, sizeof(prologue) - 1);
	mix_hash(h, responder_pub, 32);
}

/* c = AEAD(k, 0, h, pt); h = H(h || c) */
static int encrypt_and_hash(uint8_t h[32], const uint8_t k[32], const void *pt, size_t len, uint8_t *out)
{
	int err = zt_aead_seal_once(ZT_CIPHER_CHACHA20_POLY1305, k, zero_nonce, h, 32, pt, len, out);

	if (!err)
		mix_hash(h, out, len + ZT_TAG_BYTES);
	return err;
}

static int decrypt_and_hash(uint8_t h[32], const uint8_t k[32], const uint8_t *ct, size_t len, uint8_t *out)
{
	int err = zt_aead_open_once(ZT_CIPHER_CHACHA20_POLY1305, k, zero_nonce, h, 32, ct, len, out);

	if (!err)
		mix_hash(h, ct, len);
	return err;
}

static void labelled_key(uint8_t out[32], const char *label, const uint8_t pub[32])
{
	zt_sha256_2(out, label, 8, pub, 32);
}

/* MACs cover the packet with the hop count zeroed (relays change it). */
static void compute_mac(uint8_t out[ZT_MAC_BYTES], const uint8_t *key, size_t keylen, const uint8_t *pkt,
			size_t len)
{
	uint8_t tmp[ZT_HS_INIT_BYTES];
	uint8_t full[32];

	memcpy(tmp, pkt, len);
	tmp[ZT_HDR_HOPS_OFFSET] = 0;
	zt_hmac_sha256(full, key, keylen, tmp, len);
	memcpy(out, full, ZT_MAC_BYTES);
}

static void cookie_for(const struct zt_noise_local *l, const struct zt_endpoint *from, uint8_t out[16])
{
	uint8_t ep[19], full[32];

	ep[0] = from->family;
	memcpy(ep + 1, from->addr, 16);
	ep[17] = (uint8_t)(from->port >> 8);
	ep[18] = (uint8_t)from->port;
	zt_hmac_sha256(full, l->cookie_secret, 32, ep, sizeof(ep));
	memcpy(out, full, 16);
}

void zt_noise_local_init(struct zt_noise_local *l, const struct zt_identity *id)
{
	memset(l, 0, sizeof(*l));
	l->id = id;
	labelled_key(l->mac1_key, "mac1----", id->x25519_pub);
	labelled_key(l->cookie_key, "cookie--", id->x25519_pub);
}

void zt_noise_local_rotate(struct zt_noise_local *l, uint64_t now_ms, zt_random_fn rnd, void *rnd_ctx)
{
	if (l->cookie_secret_ms != 0 && now_ms - l->cookie_secret_ms < ZT_COOKIE_SECRET_MS)
		return;
	rnd(rnd_ctx, l->cookie_secret, sizeof(l->cookie_secret));
	l->cookie_secret_ms = now_ms ? now_ms : 1;
}

static void write_macs(struct zt_handshake *hs, const struct zt_identity *peer, uint8_t *pkt, size_t len,
		       uint64_t now_ms)
{
	size_t mac1_off = len - 2 * ZT_MAC_BYTES;
	uint8_t key[32];

	labelled_key(key, "mac1----", peer->x25519_pub);
	compute_mac(pkt + mac1_off, key, 32, pkt, mac1_off);
	if (hs)
		memcpy(hs->last_mac1, pkt + mac1_off, ZT_MAC_BYTES);
	if (hs && hs->cookie_ms && now_ms - hs->cookie_ms < ZT_COOKIE_SECRET_MS)
		compute_mac(pkt + mac1_off + ZT_MAC_BYTES, hs->cookie, 16, pkt, mac1_off + ZT_MAC_BYTES);
	else
		memset(pkt + mac1_off + ZT_MAC_BYTES, 0, ZT_MAC_BYTES);
}

int zt_noise_create_init(struct zt_noise_local *l, struct zt_handshake *hs, const struct zt_identity *peer,
			 uint32_t local_index, int cipher, uint64_t now_ms, zt_random_fn rnd, void *rnd_ctx,
			 uint8_t out[ZT_HS_INIT_BYTES])
{
	uint8_t k[32], ident[ZT_IDENTITY_PUBLIC_BYTES], payload[ZT_INIT_PAYLOAD_BYTES];
	struct zt_hdr hdr = {ZT_PROTO_VERSION, ZT_PKT_HS_INIT, 0, 0, peer->address, l->id->address};
	struct zt_wr w;
	uint8_t *p;
	uint64_t ts;
	int err;

	rnd(rnd_ctx, hs->e_priv, 32);
	err = zt_x25519_public(hs->e_pub, hs->e_priv);
	if (err)
		return err;
	initial_state(hs->h, hs->ck, peer->x25519_pub);
	zt_wr_init(&w, out, ZT_HS_INIT_BYTES);
	zt_hdr_write(&w, &hdr);
	zt_wr_be32(&w, local_index);
	zt_wr_bytes(&w, hs->e_pub, 32);
	mix_hash(hs->h, hs->e_pub, 32);
	err = mix_dh(hs->ck, k, hs->e_priv, peer->x25519_pub); /* es */
	if (err)
		goto out;
	zt_identity_to_bytes(l->id, ident);
	p = zt_wr_reserve(&w, sizeof(ident) + ZT_TAG_BYTES);
	err = encrypt_and_hash(hs->h, k, ident, sizeof(ident), p); /* s */
	if (err)
		goto out;
	err = mix_dh(hs->ck, k, l->id->x25519_priv, peer->x25519_pub); /* ss */
	if (err)
		goto out;
	ts = ZT_MAX(now_ms, hs->last_ts_sent + 1);
	hs->last_ts_sent = ts;
	memset(payload, 0, sizeof(payload));
	for (int i = 0; i < 8; i++)
		payload[i] = (uint8_t)(ts >> (56 - 8 * i));
	payload[8] = (uint8_t)cipher;
	p = zt_wr_reserve(&w, sizeof(payload) + ZT_TAG_BYTES);
	err = encrypt_and_hash(hs->h, k, payload, sizeof(payload), p);
	if (err)
		goto out;
	zt_wr_reserve(&w, 2 * ZT_MAC_BYTES);
	if (w.err) {
		err = ZT_ETOOBIG;
		goto out;
	}
	write_macs(hs, peer, out, ZT_HS_INIT_BYTES, now_ms);
	hs->local_index = local_index;
	hs->cipher = cipher;
	hs->state = ZT_HS_INIT_SENT;
out:
	zt_wipe(k, sizeof(k));
	return err;
}

int zt_noise_check_macs(struct zt_noise_local *l, const uint8_t *pkt, size_t len, size_t mac_off,
			bool under_load, const struct zt_endpoint *from)
{
	uint8_t mac[ZT_MAC_BYTES], cookie[16];

	if (len != mac_off + 2 * ZT_MAC_BYTES)
		return ZT_ETRUNC;
	compute_mac(mac, l->mac1_key, 32, pkt, mac_off);
	if (!zt_ct_equal(mac, pkt + mac_off, ZT_MAC_BYTES))
		return ZT_EAUTH;
	if (!under_load)
		return 0;
	cookie_for(l, from, cookie);
	compute_mac(mac, cookie, 16, pkt, mac_off + ZT_MAC_BYTES);
	if (!zt_ct_equal(mac, pkt + mac_off + ZT_MAC_BYTES, ZT_MAC_BYTES))
		return ZT_EAGAIN;
	return 0;
}

int zt_noise_consume_init(struct zt_noise_local *l, const uint8_t *pkt, size_t len, struct zt_hs_init_info *info)
{
	uint8_t k[32], ident[ZT_IDENTITY_PUBLIC_BYTES], payload[ZT_INIT_PAYLOAD_BYTES];
	const uint8_t *enc_s, *enc_p;
	struct zt_rd rd;
	struct zt_hdr hdr;
	int err;

	memset(info, 0, sizeof(*info));
	zt_rd_init(&rd, pkt, len);
	err = zt_hdr_read(&rd, &hdr);
	if (err)
		return err;
	info->remote_index = zt_rd_be32(&rd);
	zt_rd_bytes(&rd, info->e_pub, 32);
	enc_s = zt_rd_ref(&rd, ZT_IDENTITY_PUBLIC_BYTES + ZT_TAG_BYTES);
	enc_p = zt_rd_ref(&rd, ZT_INIT_PAYLOAD_BYTES + ZT_TAG_BYTES);
	zt_rd_bytes(&rd, info->mac1, ZT_MAC_BYTES);
	if (rd.err || rd.left != ZT_MAC_BYTES)
		return ZT_ETRUNC;
	if (hdr.type != ZT_PKT_HS_INIT || hdr.dst != l->id->address)
		return ZT_EINVAL;

	initial_state(info->h, info->ck, l->id->x25519_pub);
	mix_hash(info->h, info->e_pub, 32);
	err = mix_dh(info->ck, k, l->id->x25519_priv, info->e_pub); /* es */
	if (err)
		goto out;
	err = decrypt_and_hash(info->h, k, enc_s, ZT_IDENTITY_PUBLIC_BYTES + ZT_TAG_BYTES, ident);
	if (err)
		goto out;
	err = zt_identity_from_bytes(&info->peer, hdr.src, ident);
	if (err)
		goto out;
	err = mix_dh(info->ck, k, l->id->x25519_priv, info->peer.x25519_pub); /* ss */
	if (err)
		goto out;
	err = decrypt_and_hash(info->h, k, enc_p, ZT_INIT_PAYLOAD_BYTES + ZT_TAG_BYTES, payload);
	if (err)
		goto out;
	for (int i = 0; i < 8; i++)
		info->timestamp = (info->timestamp << 8) | payload[i];
	info->cipher = payload[8];
out:
	zt_wipe(k, sizeof(k));
	return err;
}

static void split_keys(const uint8_t ck[32], bool initiator, struct zt_hs_keys *keys)
{
	uint8_t k1[32], k2[32];

	zt_hkdf(k1, k2, NULL, ck, NULL, 0);
	memcpy(keys->send, initiator ? k1 : k2, 32);
	memcpy(keys->recv, initiator ? k2 : k1, 32);
	keys->initiator = initiator;
	zt_wipe(k1, sizeof(k1));
	zt_wipe(k2, sizeof(k2));
}

int zt_noise_create_resp(struct zt_noise_local *l, struct zt_hs_init_info *info, uint32_t local_index,
			 zt_random_fn rnd, void *rnd_ctx, uint8_t out[ZT_HS_RESP_BYTES],
			 struct zt_hs_keys *keys)
{
	struct zt_hdr hdr = {ZT_PROTO_VERSION, ZT_PKT_HS_RESP, 0, 0, info->peer.address, l->id->address};
	uint8_t e_priv[32], e_pub[32], k[32], payload[ZT_RESP_PAYLOAD_BYTES] = {0};
	struct zt_wr w;
	uint8_t *p;
	int err;

	rnd(rnd_ctx, e_priv, 32);
	err = zt_x25519_public(e_pub, e_priv);
	if (err)
		goto out;
	zt_wr_init(&w, out, ZT_HS_RESP_BYTES);
	zt_hdr_write(&w, &hdr);
	zt_wr_be32(&w, local_index);
	zt_wr_be32(&w, info->remote_index);
	zt_wr_bytes(&w, e_pub, 32);
	mix_hash(info->h, e_pub, 32);
	err = mix_dh(info->ck, k, e_priv, info->e_pub); /* ee */
	if (err)
		goto out;
	err = mix_dh(info->ck, k, e_priv, info->peer.x25519_pub); /* se */
	if (err)
		goto out;
	payload[0] = (uint8_t)info->cipher;
	p = zt_wr_reserve(&w, sizeof(payload) + ZT_TAG_BYTES);
	err = encrypt_and_hash(info->h, k, payload, sizeof(payload), p);
	if (err)
		goto out;
	zt_wr_reserve(&w, 2 * ZT_MAC_BYTES);
	if (w.err) {
		err = ZT_ETOOBIG;
		goto out;
	}
	write_macs(NULL, &info->peer, out, ZT_HS_RESP_BYTES, 0);
	split_keys(info->ck, false, keys);
	keys->local_index = local_index;
	keys->remote_index = info->remote_index;
	keys->cipher = info->cipher;
out:
	zt_wipe(e_priv, sizeof(e_priv));
	zt_wipe(k, sizeof(k));
	zt_wipe(info->ck, sizeof(info->ck));
	zt_wipe(info->h, sizeof(info->h));
	return err;
}

int zt_noise_consume_resp(struct zt_noise_local *l, struct zt_handshake *hs, const struct zt_identity *peer,
			  const uint8_t *pkt, size_t len, struct zt_hs_keys *keys)
{
	uint8_t k[32], e_r[32], h[32], ck[32], payload[ZT_RESP_PAYLOAD_BYTES];
	const uint8_t *enc_p;
	uint32_t sender_index, receiver_index;
	struct zt_rd rd;
	struct zt_hdr hdr;
	int err;

	if (hs->state != ZT_HS_INIT_SENT)
		return ZT_ESTATE;
	err = zt_noise_check_macs(l, pkt, len, RESP_MAC1_OFF, false, NULL);
	if (err)
		return err;
	zt_rd_init(&rd, pkt, len);
	err = zt_hdr_read(&rd, &hdr);
	if (err)
		return err;
	sender_index = zt_rd_be32(&rd);
	receiver_index = zt_rd_be32(&rd);
	zt_rd_bytes(&rd, e_r, 32);
	enc_p = zt_rd_ref(&rd, ZT_RESP_PAYLOAD_BYTES + ZT_TAG_BYTES);
	if (rd.err)
		return ZT_ETRUNC;
	if (receiver_index != hs->local_index || hdr.src != peer->address)
		return ZT_EINVAL;
	/* Work on copies: a forged response must not disturb the pending state. */
	memcpy(h, hs->h, 32);
	memcpy(ck, hs->ck, 32);
	mix_hash(h, e_r, 32);
	err = mix_dh(ck, k, hs->e_priv, e_r); /* ee */
	if (err)
		goto out;
	err = mix_dh(ck, k, l->id->x25519_priv, e_r); /* se */
	if (err)
		goto out;
	err = decrypt_and_hash(h, k, enc_p, ZT_RESP_PAYLOAD_BYTES + ZT_TAG_BYTES, payload);
	if (err)
		goto out;
	if (payload[0] != hs->cipher) {
		err = ZT_EINVAL;
		goto out;
	}
	split_keys(ck, true, keys);
	keys->local_index = hs->local_index;
	keys->remote_index = sender_index;
	keys->cipher = hs->cipher;
	zt_handshake_clear(hs);
out:
	zt_wipe(k, sizeof(k));
	zt_wipe(ck, sizeof(ck));
	zt_wipe(h, sizeof(h));
	return err;
}

int zt_noise_create_cookie(struct zt_noise_local *l, const uint8_t *init_pkt, size_t len,
			   const struct zt_endpoint *from, zt_random_fn rnd, void *rnd_ctx,
			   uint8_t out[ZT_COOKIE_BYTES])
{
	uint8_t cookie[16], nonce[12];
	struct zt_rd rd;
	struct zt_hdr hdr;
	struct zt_wr w;
	uint32_t sender_index;
	uint8_t *p;
	int err;

	zt_rd_init(&rd, init_pkt, len);
	err = zt_hdr_read(&rd, &hdr);
	if (err)
		return err;
	sender_index = zt_rd_be32(&rd);
	if (rd.err || len != ZT_HS_INIT_BYTES)
		return ZT_ETRUNC;
	cookie_for(l, from, cookie);
	rnd(rnd_ctx, nonce, sizeof(nonce));
	zt_wr_init(&w, out, ZT_COOKIE_BYTES);
	hdr = (struct zt_hdr){ZT_PROTO_VERSION, ZT_PKT_COOKIE, 0, 0, hdr.src, l->id->address};
	zt_hdr_write(&w, &hdr);
	zt_wr_be32(&w, sender_index);
	zt_wr_bytes(&w, nonce, sizeof(nonce));
	p = zt_wr_reserve(&w, 16 + ZT_TAG_BYTES);
	if (w.err)
		return ZT_ETOOBIG;
	return zt_aead_seal_once(ZT_CIPHER_CHACHA20_POLY1305, l->cookie_key, nonce, init_pkt + INIT_MAC1_OFF,
				 ZT_MAC_BYTES, cookie, 16, p);
}

int zt_noise_consume_cookie(struct zt_handshake *hs, const struct zt_identity *peer, const uint8_t *pkt,
			    size_t len, uint64_t now_ms)
{
	uint8_t key[32], nonce[12], cookie[16];
	const uint8_t *enc;
	struct zt_rd rd;
	struct zt_hdr hdr;
	int err;

	if (hs->state != ZT_HS_INIT_SENT)
		return ZT_ESTATE;
	zt_rd_init(&rd, pkt, len);
	err = zt_hdr_read(&rd, &hdr);
	if (err)
		return err;
	if (zt_rd_be32(&rd) != hs->local_index)
		return ZT_EINVAL;
	zt_rd_bytes(&rd, nonce, sizeof(nonce));
	enc = zt_rd_ref(&rd, 16 + ZT_TAG_BYTES);
	if (rd.err || rd.left != 0)
		return ZT_ETRUNC;
	labelled_key(key, "cookie--", peer->x25519_pub);
	err = zt_aead_open_once(ZT_CIPHER_CHACHA20_POLY1305, key, nonce, hs->last_mac1, ZT_MAC_BYTES, enc,
				16 + ZT_TAG_BYTES, cookie);
	if (err)
		return err;
	memcpy(hs->cookie, cookie, 16);
	hs->cookie_ms = now_ms ? now_ms : 1;
	return 0;
}

uint32_t zt_noise_peek_index(const uint8_t *pkt, size_t len, size_t off)
{
	struct zt_rd rd;
	uint32_t v;

	zt_rd_init(&rd, pkt, len);
	zt_rd_ref(&rd, off);
	v = zt_rd_be32(&rd);
	return rd.err ? 0 : v;
}

void zt_handshake_clear(struct zt_handshake *hs)
{
	zt_wipe(hs->e_priv, sizeof(hs->e_priv));
	zt_wipe(hs->h, sizeof(hs->h));
	zt_wipe(hs->ck, sizeof(hs->ck));
	hs->state = ZT_HS_NONE;
	hs->local_index = 0;
}
