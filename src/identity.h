/*
 * identity.h - who a node is: an X25519 key, an Ed25519 key and the 40-bit
 * address derived from both through a memory-hard hash (scrypt).
 */
#ifndef ZT_IDENTITY_H
#define ZT_IDENTITY_H

#include "base/zt.h"

#define ZT_ADDR_BYTES 5
#define ZT_ADDR_MASK 0xffffffffffULL
/* "aaaaaaaaaa:1:" + 128 hex + NUL; the secret form adds ":" + 128 hex. */
#define ZT_IDENTITY_PUBLIC_TEXT_MAX 160
#define ZT_IDENTITY_SECRET_TEXT_MAX 300
/* Binary public form: version(1) x25519(32) ed25519(32) */
#define ZT_IDENTITY_PUBLIC_BYTES 65
#define ZT_IDENTITY_FORMAT_VERSION 1

struct zt_identity {
	uint64_t address; /* low 40 bits */
	uint8_t x25519_pub[32];
	uint8_t ed25519_pub[32];
	bool has_secret;
	uint8_t x25519_priv[32];
	uint8_t ed25519_priv[32];
};

/* Addresses reserved for the protocol: 0 and anything starting 0xff (and,
 * not being addresses at all, values above ZT_ADDR_MASK). */
bool zt_address_reserved(uint64_t address);
/* 10 lowercase hex digits + NUL. */
void zt_address_format(char out[11], uint64_t address);
int zt_address_parse(uint64_t *address, const char *text);

/* Derive the address from the two public keys (the costly hash). */
int zt_identity_derive_address(uint64_t *address, const uint8_t x25519_pub[32], const uint8_t ed25519_pub[32]);

/* New identity from random bytes; retries until the address is not reserved
 * (ZT_ECRYPTO if 64 tries in a row are: the random source is broken). */
int zt_identity_generate(struct zt_identity *id, zt_random_fn rnd, void *rnd_ctx);

/* Recompute the address from the keys and compare; for a secret identity also check the keys match.
 * ZT_EINVAL for a reserved address, ZT_EAUTH when a binding does not hold. Costs one scrypt. */
int zt_identity_validate(const struct zt_identity *id);

int zt_identity_sign(const struct zt_identity *id, const void *msg, size_t len, uint8_t sig[64]);
bool zt_identity_verify(const struct zt_identity *id, const void *msg, size_t len, const uint8_t sig[64]);

/* Text forms: "<addr>:1:<hex x25519 pub><hex ed25519 pub>[:<hex x25519 priv><hex ed25519 priv>]" */
int zt_identity_to_text(const struct zt_identity *id, bool include_secret, char *out, size_t out_len);
/* Parses either form; does NOT run the costly validation (call zt_identity_validate).
 * Strict: exact lengths, hex of either case, trailing whitespace only. ZT_EPARSE,
 * ZT_EVERSION, ZT_ETOOBIG, or ZT_EINVAL for a reserved address; id is zeroed on error. */
int zt_identity_from_text(struct zt_identity *id, const char *text);

/* Binary public form, for the wire. from_bytes takes the address from around the
 * keys (checked only by validate); ZT_EVERSION, or ZT_EINVAL for a reserved address. */
int zt_identity_to_bytes(const struct zt_identity *id, uint8_t out[ZT_IDENTITY_PUBLIC_BYTES]);
int zt_identity_from_bytes(struct zt_identity *id, uint64_t address, const uint8_t in[ZT_IDENTITY_PUBLIC_BYTES]);

/* Copy only the public part (dst may be src). */
void zt_identity_public(struct zt_identity *dst, const struct zt_identity *src);
void zt_identity_wipe(struct zt_identity *id);

#endif
