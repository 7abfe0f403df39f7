/*
 * identity.c - a node's identity: the two key pairs, the 40-bit address
 * derived from them with scrypt, the text and binary forms, and signing.
 * Owns no trust decisions: callers validate (costly) before trusting and
 * rate-limit how often they do it for strangers.
 */
#include "identity.h"

#include "crypto.h"
#include "proto.h"
#include "base/wire.h"

#include <stdio.h>
#include <string.h>

#define KEYS_HEX_CHARS 128 /* two 32-byte keys */
/* A broken random source would loop forever on a reserved address; the
 * chance that a sound one needs this many tries is 256^-64. */
#define GENERATE_MAX_TRIES 64

bool zt_address_reserved(uint64_t address)
{
	if (address == 0 || address > ZT_ADDR_MASK)
		return true;
	return (address >> 32) == 0xff;
}

void zt_address_format(char out[11], uint64_t address)
{
	snprintf(out, 11, "%010llx", (unsigned long long)(address & ZT_ADDR_MASK));
}

static uint64_t addr_from_bytes(const uint8_t b[ZT_ADDR_BYTES])
{
	struct zt_rd rd;

	zt_rd_init(&rd, b, ZT_ADDR_BYTES);
	return zt_rd_beN(&rd, ZT_ADDR_BYTES);
}

/* Exactly 10 hex digits, nothing after. Reserved addresses parse (callers decide). */
int zt_address_parse(uint64_t *address, const char *text)
{
	uint8_t b[ZT_ADDR_BYTES];

	if (!text || strnlen(text, 2 * ZT_ADDR_BYTES + 1) != 2 * ZT_ADDR_BYTES)
		return ZT_EPARSE;
	if (zt_hex_decode(b, sizeof(b), text, 2 * ZT_ADDR_BYTES) < 0)
		return ZT_EPARSE;
	*address = addr_from_bytes(b);
	return 0;
}

int zt_identity_derive_address(uint64_t *address, const uint8_t x25519_pub[32], const uint8_t ed25519_pub[32])
{
	uint8_t pass[64], out[32];
	int err;

	memcpy(pass, x25519_pub, 32);
	memcpy(pass + 32, ed25519_pub, 32);
	err = zt_scrypt(out, sizeof(out), pass, sizeof(pass), ZT_ADDR_SCRYPT_SALT, strlen(ZT_ADDR_SCRYPT_SALT),
			ZT_ADDR_SCRYPT_N, ZT_ADDR_SCRYPT_R, ZT_ADDR_SCRYPT_P);
	if (err)
		return err;
	*address = addr_from_bytes(out);
	return 0;
}

static int keys_to_public(struct zt_identity *id)
{
	int err = zt_x25519_public(id->x25519_pub, id->x25519_priv);

	if (err)
		return err;
	return zt_ed25519_public(id->ed25519_pub, id->ed25519_priv);
}

int zt_identity_generate(struct zt_identity *id, zt_random_fn rnd, void *rnd_ctx)
{
	int err;

	memset(id, 0, sizeof(*id));
	for (int tries = 0; tries < GENERATE_MAX_TRIES; tries++) {
		rnd(rnd_ctx, id->x25519_priv, sizeof(id->x25519_priv));
		rnd(rnd_ctx, id->ed25519_priv, sizeof(id->ed25519_priv));
		err = keys_to_public(id);
		if (!err)
			err = zt_identity_derive_address(&id->address, id->x25519_pub, id->ed25519_pub);
		if (err) {
			zt_identity_wipe(id);
			return err;
		}
		if (!zt_address_reserved(id->address)) {
			id->has_secret = true;
			return 0;
		}
	}
	zt_log(ZT_LOG_ERROR, "identity: %d reserved addresses in a row; the random source is broken",
	       GENERATE_MAX_TRIES);
	zt_identity_wipe(id);
	return ZT_ECRYPTO;
}

/* Cheap checks first (address range, key pairs), the scrypt last. */
int zt_identity_validate(const struct zt_identity *id)
{
	uint8_t x_pub[32], ed_pub[32];
	uint64_t derived;
	bool keys_match;
	int err;

	if (zt_address_reserved(id->address))
		return ZT_EINVAL;
	if (id->has_secret) {
		err = zt_x25519_public(x_pub, id->x25519_priv);
		if (!err)
			err = zt_ed25519_public(ed_pub, id->ed25519_priv);
		if (err)
			return err;
		keys_match = zt_ct_equal(x_pub, id->x25519_pub, 32) && zt_ct_equal(ed_pub, id->ed25519_pub, 32);
		if (!keys_match)
			return ZT_EAUTH;
	}
	err = zt_identity_derive_address(&derived, id->x25519_pub, id->ed25519_pub);
	if (err)
		return err;
	return derived == id->address ? 0 : ZT_EAUTH;
}

int zt_identity_sign(const struct zt_identity *id, const void *msg, size_t len, uint8_t sig[64])
{
	if (!id->has_secret)
		return ZT_EINVAL;
	return zt_ed25519_sign(sig, id->ed25519_priv, msg, len);
}

bool zt_identity_verify(const struct zt_identity *id, const void *msg, size_t len, const uint8_t sig[64])
{
	return zt_ed25519_verify(id->ed25519_pub, msg, len, sig);
}

int zt_identity_to_text(const struct zt_identity *id, bool include_secret, char *out, size_t out_len)
{
	char addr[11], a[65], b[65];
	size_t pos;
	int n;

	if (include_secret && !id->has_secret)
		return ZT_EINVAL;
	zt_address_format(addr, id->address);
	zt_hex_encode(a, id->x25519_pub, 32);
	zt_hex_encode(b, id->ed25519_pub, 32);
	n = snprintf(out, out_len, "%s:%d:%s%s", addr, ZT_IDENTITY_FORMAT_VERSION, a, b);
	if (n < 0 || (size_t)n >= out_len)
		goto too_small;
	if (!include_secret)
		return 0;
	pos = (size_t)n;
	zt_hex_encode(a, id->x25519_priv, 32);
	zt_hex_encode(b, id->ed25519_priv, 32);
	n = snprintf(out + pos, out_len - pos, ":%s%s", a, b);
	zt_wipe(a, sizeof(a));
	zt_wipe(b, sizeof(b));
	if (n < 0 || (size_t)n >= out_len - pos)
		goto too_small;
	return 0;
too_small:
	zt_wipe(out, out_len);
	return ZT_EINVAL;
}

static bool is_trailing_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Two hex-encoded 32-byte keys. */
static bool rd_hex_keys(struct zt_rd *rd, uint8_t a[32], uint8_t b[32])
{
	const uint8_t *hex = zt_rd_ref(rd, KEYS_HEX_CHARS);

	if (!hex)
		return false;
	return zt_hex_decode(a, 32, (const char *)hex, 64) == 0 &&
	       zt_hex_decode(b, 32, (const char *)hex + 64, 64) == 0;
}

static int parse_text(struct zt_identity *id, const char *text, size_t len)
{
	uint8_t addr[ZT_ADDR_BYTES];
	const uint8_t *hex;
	struct zt_rd rd;
	uint8_t version;

	zt_rd_init(&rd, text, len);
	hex = zt_rd_ref(&rd, 2 * ZT_ADDR_BYTES);
	if (!hex || zt_hex_decode(addr, sizeof(addr), (const char *)hex, 2 * ZT_ADDR_BYTES) < 0)
		return ZT_EPARSE;
	id->address = addr_from_bytes(addr);
	if (zt_rd_u8(&rd) != ':')
		return ZT_EPARSE;
	version = zt_rd_u8(&rd);
	if (zt_rd_u8(&rd) != ':' || version < '0' || version > '9')
		return ZT_EPARSE;
	if (version != '0' + ZT_IDENTITY_FORMAT_VERSION)
		return ZT_EVERSION;
	if (!rd_hex_keys(&rd, id->x25519_pub, id->ed25519_pub))
		return ZT_EPARSE;
	if (rd.left == 0)
		return zt_address_reserved(id->address) ? ZT_EINVAL : 0;
	if (zt_rd_u8(&rd) != ':' || !rd_hex_keys(&rd, id->x25519_priv, id->ed25519_priv) || rd.left != 0)
		return ZT_EPARSE;
	id->has_secret = true;
	return zt_address_reserved(id->address) ? ZT_EINVAL : 0;
}

int zt_identity_from_text(struct zt_identity *id, const char *text)
{
	size_t len;
	int err;

	memset(id, 0, sizeof(*id));
	if (!text)
		return ZT_EINVAL;
	/* Anything longer than the secret form plus a little whitespace is not an identity. */
	len = strnlen(text, ZT_IDENTITY_SECRET_TEXT_MAX + 1);
	if (len > ZT_IDENTITY_SECRET_TEXT_MAX)
		return ZT_ETOOBIG;
	while (len > 0 && is_trailing_space(text[len - 1]))
		len--;
	err = parse_text(id, text, len);
	if (err)
		zt_identity_wipe(id);
	return err;
}

int zt_identity_to_bytes(const struct zt_identity *id, uint8_t out[ZT_IDENTITY_PUBLIC_BYTES])
{
	struct zt_wr w;

	zt_wr_init(&w, out, ZT_IDENTITY_PUBLIC_BYTES);
	zt_wr_u8(&w, ZT_IDENTITY_FORMAT_VERSION);
	zt_wr_bytes(&w, id->x25519_pub, 32);
	zt_wr_bytes(&w, id->ed25519_pub, 32);
	return w.err ? ZT_EINVAL : 0;
}

/* The address comes from the packet around the keys; checking it costs a validate. */
int zt_identity_from_bytes(struct zt_identity *id, uint64_t address, const uint8_t in[ZT_IDENTITY_PUBLIC_BYTES])
{
	struct zt_rd rd;
	uint8_t version;

	memset(id, 0, sizeof(*id));
	zt_rd_init(&rd, in, ZT_IDENTITY_PUBLIC_BYTES);
	version = zt_rd_u8(&rd);
	zt_rd_bytes(&rd, id->x25519_pub, 32);
	zt_rd_bytes(&rd, id->ed25519_pub, 32);
	if (rd.err)
		return ZT_ETRUNC;
	if (version != ZT_IDENTITY_FORMAT_VERSION) {
		memset(id, 0, sizeof(*id));
		return ZT_EVERSION;
	}
	if (zt_address_reserved(address)) {
		memset(id, 0, sizeof(*id));
		return ZT_EINVAL;
	}
	id->address = address;
	return 0;
}

/* dst may be src: the secret half is then dropped in place. */
void zt_identity_public(struct zt_identity *dst, const struct zt_identity *src)
{
	struct zt_identity pub;

	memset(&pub, 0, sizeof(pub));
	pub.address = src->address;
	memcpy(pub.x25519_pub, src->x25519_pub, 32);
	memcpy(pub.ed25519_pub, src->ed25519_pub, 32);
	zt_wipe(dst, sizeof(*dst));
	*dst = pub;
}

void zt_identity_wipe(struct zt_identity *id)
{
	zt_wipe(id, sizeof(*id));
}
