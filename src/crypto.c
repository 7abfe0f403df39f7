/*
 * crypto.c - every primitive zt uses, on OpenSSL 3 EVP: X25519, Ed25519,
 * SHA-256, HMAC, Noise's HKDF, scrypt and the two AEADs. The only core file
 * that includes OpenSSL. Owns no protocol logic: callers decide keys, nonces
 * and what a failure means.
 */
#include "crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* scrypt's working memory is 128 * r * (N + p) bytes; refuse anything above this. */
#define SCRYPT_MAX_MEM_BYTES (1024ULL * 1024 * 1024)
/* EVP lengths are int; keep every buffer well inside that. */
#define AEAD_MAX_LEN ((size_t)INT_MAX - 64)

static const uint8_t empty[1];

/*
 * The void primitives (hashes, HMAC, HKDF) fail only when OpenSSL cannot
 * allocate. Handing back an unset digest would be worse than stopping.
 */
static void fatal(const char *what)
{
	zt_log(ZT_LOG_ERROR, "crypto: %s failed inside OpenSSL; cannot continue", what);
	abort();
}

/* OpenSSL tolerates NULL only sometimes; an empty input is a valid pointer here. */
static const void *nz(const void *p)
{
	return p ? p : empty;
}

/* ---- X25519 / Ed25519 ---- */

static int raw_public(uint8_t pub[32], int type, const uint8_t priv[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(type, NULL, priv, 32);
	size_t len = 32;
	int err = 0;

	if (!k)
		return ZT_ECRYPTO;
	if (EVP_PKEY_get_raw_public_key(k, pub, &len) != 1 || len != 32)
		err = ZT_ECRYPTO;
	EVP_PKEY_free(k);
	return err;
}

int zt_x25519_public(uint8_t pub[32], const uint8_t priv[32])
{
	return raw_public(pub, EVP_PKEY_X25519, priv);
}

int zt_ed25519_public(uint8_t pub[32], const uint8_t priv[32])
{
	return raw_public(pub, EVP_PKEY_ED25519, priv);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/*
 * A low-order peer key makes the shared secret all zero (OpenSSL's derive
 * already refuses it; the explicit check keeps the promise if that changes).
 * Either way the peer's key is bad: ZT_EINVAL.
 */
int zt_x25519(uint8_t shared[32], const uint8_t priv[32], const uint8_t peer_pub[32])
{
	EVP_PKEY *mine = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, 32);
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	int err = ZT_ECRYPTO;

	if (!mine || !peer)
		goto out;
	ctx = EVP_PKEY_CTX_new(mine, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, peer) != 1)
		goto out;
	err = ZT_EINVAL;
	if (EVP_PKEY_derive(ctx, shared, &len) != 1 || len != 32 || all_zero(shared, 32))
		goto out;
	err = 0;
out:
	if (err)
		zt_wipe(shared, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	EVP_PKEY_free(mine);
	return err;
}

int zt_ed25519_sign(uint8_t sig[64], const uint8_t priv[32], const void *msg, size_t len)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t sig_len = 64;
	int err = ZT_ECRYPTO;

	if (!k || !md)
		goto out;
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1)
		goto out;
	if (EVP_DigestSign(md, sig, &sig_len, nz(msg), len) != 1 || sig_len != 64)
		goto out;
	err = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return err;
}

bool zt_ed25519_verify(const uint8_t pub[32], const void *msg, size_t len, const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = false;

	if (!k || !md)
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1)
		goto out;
	ok = EVP_DigestVerify(md, sig, 64, nz(msg), len) == 1;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return ok;
}

/* ---- hashes ---- */

void zt_sha256(uint8_t out[32], const void *in, size_t len)
{
	zt_sha256_2(out, in, len, NULL, 0);
}

/* out may alias a or b (the Noise transcript hash is h = H(h || data)). */
void zt_sha256_2(uint8_t out[32], const void *a, size_t alen, const void *b, size_t blen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!md)
		fatal("sha256");
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || EVP_DigestUpdate(md, nz(a), alen) != 1 ||
	    EVP_DigestUpdate(md, nz(b), blen) != 1 || EVP_DigestFinal_ex(md, out, &n) != 1 || n != 32)
		fatal("sha256");
	EVP_MD_CTX_free(md);
}

/* out may alias key or in. */
void zt_hmac_sha256(uint8_t out[32], const void *key, size_t keylen, const void *in, size_t len)
{
	uint8_t mac[32];
	size_t n = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, nz(key), keylen, nz(in), len, mac, sizeof(mac), &n) ||
	    n != 32)
		fatal("hmac-sha256");
	memcpy(out, mac, 32);
	zt_wipe(mac, sizeof(mac));
}

void zt_hkdf(uint8_t *out1, uint8_t *out2, uint8_t *out3, const uint8_t ck[32], const void *ikm, size_t ikm_len)
{
	uint8_t temp[32], t1[32], t2[32], t3[32], in[33];

	zt_hmac_sha256(temp, ck, 32, ikm, ikm_len);
	in[0] = 0x01;
	zt_hmac_sha256(t1, temp, 32, in, 1);
	memcpy(in, t1, 32);
	in[32] = 0x02;
	zt_hmac_sha256(t2, temp, 32, in, 33);
	if (out3) {
		memcpy(in, t2, 32);
		in[32] = 0x03;
		zt_hmac_sha256(t3, temp, 32, in, 33);
		memcpy(out3, t3, 32);
	}
	/* Outputs may alias ck: write them only after the last use of temp and ck. */
	if (out1)
		memcpy(out1, t1, 32);
	if (out2)
		memcpy(out2, t2, 32);
	zt_wipe(temp, sizeof(temp));
	zt_wipe(t1, sizeof(t1));
	zt_wipe(t2, sizeof(t2));
	zt_wipe(t3, sizeof(t3));
	zt_wipe(in, sizeof(in));
}

int zt_scrypt(uint8_t *out, size_t out_len, const void *pass, size_t pass_len, const void *salt,
	      size_t salt_len, uint64_t n, uint32_t r, uint32_t p)
{
	uint64_t mem;

	if (!out || out_len == 0 || n < 2 || (n & (n - 1)) || r == 0 || p == 0)
		return ZT_EINVAL;
	if (n > SCRYPT_MAX_MEM_BYTES / 128 / r || p > SCRYPT_MAX_MEM_BYTES / 128 / r)
		return ZT_ETOOBIG;
	mem = 128ULL * r * (n + p + 2);
	if (mem > SCRYPT_MAX_MEM_BYTES)
		return ZT_ETOOBIG;
	/* maxmem is a ceiling OpenSSL checks its own (slightly larger) estimate against. */
	if (EVP_PBE_scrypt(nz(pass), pass_len, nz(salt), salt_len, n, r, p, mem + (1u << 20), out, out_len) != 1)
		return ZT_ECRYPTO;
	return 0;
}

/* ---- AEAD ---- */

struct cipher_info {
	int id;
	const char *name;
};

static const struct cipher_info ciphers[] = {
	{ZT_CIPHER_CHACHA20_POLY1305, "chacha20-poly1305"},
	{ZT_CIPHER_AES_256_GCM, "aes-256-gcm"},
};

const char *zt_cipher_name(int cipher)
{
	for (size_t i = 0; i < ZT_ARRAY_LEN(ciphers); i++)
		if (ciphers[i].id == cipher)
			return ciphers[i].name;
	return "unknown";
}

int zt_cipher_parse(const char *name)
{
	if (!name)
		return ZT_EINVAL;
	for (size_t i = 0; i < ZT_ARRAY_LEN(ciphers); i++)
		if (strcasecmp(ciphers[i].name, name) == 0)
			return ciphers[i].id;
	return ZT_EINVAL;
}

static const EVP_CIPHER *evp_cipher(int cipher)
{
	switch (cipher) {
	case ZT_CIPHER_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	case ZT_CIPHER_AES_256_GCM:
		return EVP_aes_256_gcm();
	default:
		return NULL;
	}
}

struct zt_aead {
	int cipher;
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

/* Key a context once; the per-packet calls then set only the IV. */
static EVP_CIPHER_CTX *keyed_ctx(int cipher, const uint8_t key[32], bool encrypt)
{
	const EVP_CIPHER *c = evp_cipher(cipher);
	EVP_CIPHER_CTX *ctx;

	if (!c)
		return NULL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex(ctx, c, NULL, NULL, NULL, encrypt ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, ZT_AEAD_NONCE_BYTES, NULL) != 1 ||
	    EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, encrypt ? 1 : 0) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool lengths_ok(size_t aad_len, size_t len)
{
	return aad_len <= AEAD_MAX_LEN && len <= AEAD_MAX_LEN;
}

static int seal_ctx(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], const void *aad, size_t aad_len, const void *pt,
		    size_t len, uint8_t *out)
{
	int n = 0;

	if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
		return ZT_ECRYPTO;
	if (aad_len && EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		return ZT_ECRYPTO;
	if (len && (EVP_EncryptUpdate(ctx, out, &n, pt, (int)len) != 1 || (size_t)n != len))
		return ZT_ECRYPTO;
	if (EVP_EncryptFinal_ex(ctx, out + len, &n) != 1 || n != 0)
		return ZT_ECRYPTO;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, ZT_TAG_BYTES, out + len) != 1)
		return ZT_ECRYPTO;
	return 0;
}

/*
 * len includes the tag. On any failure the plaintext written so far is
 * wiped, so a caller that ignores the error still cannot use forged bytes.
 */
static int open_ctx(EVP_CIPHER_CTX *ctx, const uint8_t iv[12], const void *aad, size_t aad_len, const uint8_t *in,
		    size_t len, uint8_t *out)
{
	uint8_t tag[ZT_TAG_BYTES];
	size_t ct_len;
	int n = 0;
	int err = ZT_ECRYPTO;

	if (len < ZT_TAG_BYTES)
		return ZT_ETRUNC;
	ct_len = len - ZT_TAG_BYTES;
	/* Copy the tag first: opening in place may overwrite nothing past ct_len, but be explicit. */
	memcpy(tag, in + ct_len, ZT_TAG_BYTES);
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, iv) != 1)
		goto fail;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, ZT_TAG_BYTES, tag) != 1)
		goto fail;
	if (aad_len && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto fail;
	if (ct_len && (EVP_DecryptUpdate(ctx, out, &n, in, (int)ct_len) != 1 || (size_t)n != ct_len))
		goto fail;
	err = ZT_EAUTH;
	if (EVP_DecryptFinal_ex(ctx, out + ct_len, &n) != 1 || n != 0)
		goto fail;
	return 0;
fail:
	if (ct_len)
		zt_wipe(out, ct_len);
	return err;
}

static void counter_nonce(uint8_t iv[12], uint64_t counter)
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(counter >> (8 * i));
}

int zt_aead_new(struct zt_aead **out, int cipher, const uint8_t key[32])
{
	struct zt_aead *a;

	*out = NULL;
	if (!evp_cipher(cipher))
		return ZT_EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return ZT_ENOMEM;
	a->cipher = cipher;
	a->enc = keyed_ctx(cipher, key, true);
	a->dec = keyed_ctx(cipher, key, false);
	if (!a->enc || !a->dec) {
		zt_aead_free(a);
		return ZT_ECRYPTO;
	}
	*out = a;
	return 0;
}

/* EVP_CIPHER_CTX_free cleanses the key schedule before releasing it. */
void zt_aead_free(struct zt_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->enc);
	EVP_CIPHER_CTX_free(a->dec);
	zt_wipe(a, sizeof(*a));
	free(a);
}

int zt_aead_seal(struct zt_aead *a, uint64_t counter, const void *aad, size_t aad_len, const void *pt,
		 size_t len, uint8_t *out)
{
	uint8_t iv[ZT_AEAD_NONCE_BYTES];

	if (!a || !lengths_ok(aad_len, len))
		return ZT_EINVAL;
	counter_nonce(iv, counter);
	return seal_ctx(a->enc, iv, aad, aad_len, pt, len, out);
}

int zt_aead_open(struct zt_aead *a, uint64_t counter, const void *aad, size_t aad_len, const void *in,
		 size_t len, uint8_t *out)
{
	uint8_t iv[ZT_AEAD_NONCE_BYTES];

	if (!a || !lengths_ok(aad_len, len))
		return ZT_EINVAL;
	counter_nonce(iv, counter);
	return open_ctx(a->dec, iv, aad, aad_len, in, len, out);
}

int zt_aead_seal_once(int cipher, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		      size_t aad_len, const void *pt, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int err;

	if (!evp_cipher(cipher) || !lengths_ok(aad_len, len))
		return ZT_EINVAL;
	ctx = keyed_ctx(cipher, key, true);
	if (!ctx)
		return ZT_ECRYPTO;
	err = seal_ctx(ctx, nonce, aad, aad_len, pt, len, out);
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

int zt_aead_open_once(int cipher, const uint8_t key[32], const uint8_t nonce[12], const void *aad,
		      size_t aad_len, const void *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int err;

	if (!evp_cipher(cipher) || !lengths_ok(aad_len, len))
		return ZT_EINVAL;
	ctx = keyed_ctx(cipher, key, false);
	if (!ctx)
		return ZT_ECRYPTO;
	err = open_ctx(ctx, nonce, aad, aad_len, in, len, out);
	EVP_CIPHER_CTX_free(ctx);
	return err;
}

/* ---- small helpers ---- */

void zt_hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2*out_len hex digits, either case; nothing else. */
int zt_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len)
{
	if (out_len > SIZE_MAX / 2 || in_len != 2 * out_len)
		return ZT_EINVAL;
	for (size_t i = 0; i < out_len; i++) {
		int hi = hex_val(in[2 * i]);
		int lo = hex_val(in[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			zt_wipe(out, out_len);
			return ZT_EINVAL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}
