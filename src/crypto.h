/*
 * crypto.h - every cryptographic primitive zt uses, wrapped around OpenSSL 3 EVP.
 * crypto.c is the only core file that includes OpenSSL headers. Key generation
 * takes its private bytes from the caller (the host's random callback), so
 * the simulator is deterministic.
 */
#ifndef ZT_CRYPTO_H
#define ZT_CRYPTO_H

#include "base/ct.h" /* zt_wipe, zt_ct_equal */
#include "base/zt.h"

#define ZT_KEY_BYTES 32
#define ZT_SIG_BYTES 64
#define ZT_HASH_BYTES 32
#define ZT_TAG_BYTES 16
#define ZT_AEAD_NONCE_BYTES 12

/* X25519: pub from a 32-byte private scalar; DH refuses an all-zero result
 * (a low-order peer key) with ZT_EINVAL and leaves shared zeroed. */
int zt_x25519_public(uint8_t pub[32], const uint8_t priv[32]);
int zt_x25519(uint8_t shared[32], const uint8_t priv[32], const uint8_t peer_pub[32]);

/* Ed25519 (pure, RFC 8032). */
int zt_ed25519_public(uint8_t pub[32], const uint8_t priv[32]);
int zt_ed25519_sign(uint8_t sig[64], const uint8_t priv[32], const void *msg, size_t len);
bool zt_ed25519_verify(const uint8_t pub[32], const void *msg, size_t len, const uint8_t sig[64]);

/* SHA-256 and HMAC-SHA256 (the handshake's hash and KDF). out may alias an
 * input. These cannot fail short of OpenSSL failing to allocate, in which
 * case they log and abort() rather than hand back an unset digest. */
void zt_sha256(uint8_t out[32], const void *in, size_t len);
void zt_sha256_2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen);
void zt_hmac_sha256(uint8_t out[32], const void *key, size_t keylen, const void *in, size_t len);

/* HKDF as the Noise spec defines it (RFC 5869 with salt = chaining key, n outputs of 32 bytes, n in 1..3).
 * Any output may be NULL (skipped) or alias ck. */
void zt_hkdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[32], const void *ikm, size_t ikm_len);

/* scrypt (memory hard); used for address derivation. n a power of two >= 2,
 * r, p >= 1; ZT_ETOOBIG above 1 GiB of working memory. */
int zt_scrypt(uint8_t *out, size_t out_len, const void *pass, size_t pass_len, const void *salt,
	      size_t salt_len, uint64_t n, uint32_t r, uint32_t p);

/* AEAD ciphers selectable at run time. Values go on the wire. */
enum zt_cipher {
	ZT_CIPHER_CHACHA20_POLY1305 = 1,
	ZT_CIPHER_AES_256_GCM = 2,
};
const char *zt_cipher_name(int cipher);
int zt_cipher_parse(const char *name); /* ZT_EINVAL if unknown */

/*
 * A keyed AEAD context, created once per session key (set-up time), then
 * used per packet with no allocation. The nonce is 4 zero bytes followed by
 * the 64-bit counter little-endian. out must have room for len + ZT_TAG_BYTES;
 * sealing in place (out == pt) is allowed, as is opening in place.
 */
struct zt_aead;
int zt_aead_new(struct zt_aead **out, int cipher, const uint8_t key[32]);
void zt_aead_free(struct zt_aead *a); /* wipes the key schedule */
int zt_aead_seal(struct zt_aead *a, uint64_t counter, const void *aad, size_t aad_len, const void *pt,
		 size_t len, uint8_t *out);
/* in holds ciphertext + tag (len includes the tag); out gets len - ZT_TAG_BYTES bytes.
 * ZT_ETRUNC if len < ZT_TAG_BYTES; ZT_EAUTH on a bad tag, with out zeroed. */
int zt_aead_open(struct zt_aead *a, uint64_t counter, const void *aad, size_t aad_len, const void *in,
		 size_t len, uint8_t *out);

/* One-shot AEAD for handshake messages (allocates a context per call: not for the data path). */
int zt_aead_seal_once(int cipher, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		      size_t aad_len, const void *pt, size_t len, uint8_t *out);
int zt_aead_open_once(int cipher, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		      size_t aad_len, const void *in, size_t len, uint8_t *out);


/* Hex helpers used by identity text forms and the CLI. */
void zt_hex_encode(char *out, const uint8_t *in, size_t len); /* out gets 2*len+1 chars */
int zt_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len); /* exact length */

#endif
