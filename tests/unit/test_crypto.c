/*
 * test_crypto.c - src/crypto.c against published known answers (RFC 7748,
 * RFC 8032, RFC 8439, McGrew-Viega GCM, RFC 4231, RFC 5869, RFC 7914) and
 * the properties the data path relies on: nonce layout, in-place operation,
 * tamper rejection, wiped output on failure, no allocation per packet.
 */
#include "crypto.h"

#include "check_main.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Decode a hex literal of known length; aborts the test on a bad literal. */
static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	ck_assert_uint_le(n, cap);
	ck_assert_int_eq(zt_hex_decode(out, n, hex, strlen(hex)), 0);
	return n;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- allocation counting (OpenSSL's hooks, installed before any OpenSSL use) ---- */

static unsigned long n_allocs;
static int mem_hooks_installed;

static void *count_malloc(size_t n, const char *file, int line)
{
	n_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	n_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	free(p);
}

/* ---- X25519 ---- */

struct x25519_case {
	const char *name, *scalar, *u, *out;
};

static const struct x25519_case x25519_cases[] = {
	{"rfc7748 5.2 #1", "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	 "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	 "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
	{"rfc7748 5.2 #2 (high bit of u set)", "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	 "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	 "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
	{"rfc7748 6.1 alice * bob", "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	 "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
	{"rfc7748 6.1 bob * alice", "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	 "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"},
};

START_TEST(x25519_matches_rfc7748)
{
	const struct x25519_case *c = &x25519_cases[_i];
	uint8_t scalar[32], u[32], want[32], got[32];

	unhex(scalar, 32, c->scalar);
	unhex(u, 32, c->u);
	unhex(want, 32, c->out);
	ck_assert_msg(zt_x25519(got, scalar, u) == 0, "%s", c->name);
	ck_assert_msg(memcmp(got, want, 32) == 0, "%s", c->name);
}
END_TEST

START_TEST(x25519_public_matches_rfc7748)
{
	static const char *const pairs[][2] = {
		{"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		 "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"},
		{"5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
		 "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"},
	};
	uint8_t priv[32], want[32], got[32];

	for (size_t i = 0; i < ZT_ARRAY_LEN(pairs); i++) {
		unhex(priv, 32, pairs[i][0]);
		unhex(want, 32, pairs[i][1]);
		ck_assert_int_eq(zt_x25519_public(got, priv), 0);
		ck_assert_mem_eq(got, want, 32);
	}
}
END_TEST

/* Low-order points make the shared secret zero: a peer forcing a known key. */
static const char *const low_order_points[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

START_TEST(x25519_refuses_all_zero_shared_secret)
{
	uint8_t priv[32], pub[32], shared[32];

	unhex(priv, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(pub, 32, low_order_points[_i]);
	memset(shared, 0xaa, sizeof(shared));
	ck_assert_int_eq(zt_x25519(shared, priv, pub), ZT_EINVAL);
	ck_assert(all_zero(shared, 32));
}
END_TEST

/* ---- Ed25519 ---- */

struct ed25519_case {
	const char *seed, *pub, *msg, *sig;
};

static const struct ed25519_case ed25519_cases[] = {
	{"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	 "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	 "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
	{"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	 "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	 "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
	{"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	 "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
	 "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

START_TEST(ed25519_matches_rfc8032)
{
	const struct ed25519_case *c = &ed25519_cases[_i];
	uint8_t seed[32], pub[32], want_pub[32], want_sig[64], sig[64], msg[4];
	size_t msg_len = unhex(msg, sizeof(msg), c->msg);

	unhex(seed, 32, c->seed);
	unhex(want_pub, 32, c->pub);
	unhex(want_sig, 64, c->sig);
	ck_assert_int_eq(zt_ed25519_public(pub, seed), 0);
	ck_assert_mem_eq(pub, want_pub, 32);
	ck_assert_int_eq(zt_ed25519_sign(sig, seed, msg_len ? msg : NULL, msg_len), 0);
	ck_assert_mem_eq(sig, want_sig, 64);
	ck_assert(zt_ed25519_verify(pub, msg_len ? msg : NULL, msg_len, sig));
}
END_TEST

START_TEST(ed25519_rejects_tampering_and_wrong_key)
{
	const struct ed25519_case *c = &ed25519_cases[2];
	const struct ed25519_case *other = &ed25519_cases[1];
	uint8_t pub[32], other_pub[32], sig[64], msg[2];

	unhex(pub, 32, c->pub);
	unhex(other_pub, 32, other->pub);
	unhex(sig, 64, c->sig);
	unhex(msg, 2, c->msg);
	ck_assert(zt_ed25519_verify(pub, msg, 2, sig));
	ck_assert(!zt_ed25519_verify(other_pub, msg, 2, sig));
	ck_assert(!zt_ed25519_verify(pub, msg, 1, sig));
	msg[1] ^= 0x01;
	ck_assert(!zt_ed25519_verify(pub, msg, 2, sig));
	msg[1] ^= 0x01;
	for (size_t i = 0; i < 64; i += 21) {
		sig[i] ^= 0x40;
		ck_assert_msg(!zt_ed25519_verify(pub, msg, 2, sig), "flipped signature byte %zu accepted", i);
		sig[i] ^= 0x40;
	}
}
END_TEST

/* ---- SHA-256, HMAC, HKDF, scrypt ---- */

START_TEST(sha256_matches_fips180)
{
	uint8_t got[32], want[32];

	zt_sha256(got, "abc", 3);
	unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_mem_eq(got, want, 32);
	zt_sha256(got, NULL, 0);
	unhex(want, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_mem_eq(got, want, 32);
	/* Two pieces hash as their concatenation. */
	zt_sha256_2(got, "a", 1, "bc", 2);
	unhex(want, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_mem_eq(got, want, 32);
}
END_TEST

START_TEST(sha256_2_output_may_alias_input)
{
	uint8_t h[32], want[32], cat[35];

	memset(h, 0x5a, sizeof(h));
	memcpy(cat, h, 32);
	memcpy(cat + 32, "xyz", 3);
	zt_sha256(want, cat, sizeof(cat));
	zt_sha256_2(h, h, 32, "xyz", 3);
	ck_assert_mem_eq(h, want, 32);
}
END_TEST

struct hmac_case {
	const char *name;
	uint8_t key_byte;
	size_t key_len;
	const char *key_text, *data, *data_hex, *mac;
};

static const struct hmac_case hmac_cases[] = {
	{"rfc4231 #1", 0x0b, 20, NULL, "Hi There", NULL,
	 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{"rfc4231 #2", 0, 0, "Jefe", "what do ya want for nothing?", NULL,
	 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{"rfc4231 #3", 0xaa, 20, NULL, NULL,
	 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd",
	 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{"rfc4231 #6 (key longer than a block)", 0xaa, 131, NULL,
	 "Test Using Larger Than Block-Size Key - Hash Key First", NULL,
	 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
};

START_TEST(hmac_sha256_matches_rfc4231)
{
	const struct hmac_case *c = &hmac_cases[_i];
	uint8_t key[131], data[64], want[32], got[32];
	size_t key_len = c->key_len, data_len;

	if (c->key_text) {
		key_len = strlen(c->key_text);
		memcpy(key, c->key_text, key_len);
	} else {
		memset(key, c->key_byte, key_len);
	}
	if (c->data) {
		data_len = strlen(c->data);
		memcpy(data, c->data, data_len);
	} else {
		data_len = unhex(data, sizeof(data), c->data_hex);
	}
	unhex(want, 32, c->mac);
	zt_hmac_sha256(got, key, key_len, data, data_len);
	ck_assert_msg(memcmp(got, want, 32) == 0, "%s", c->name);
}
END_TEST

/*
 * Noise's HKDF with an all-zero chaining key is RFC 5869 with an empty salt
 * and empty info, so test case 3's OKM is out1 || out2[0..10).
 */
START_TEST(hkdf_matches_rfc5869_case3)
{
	uint8_t ck[32] = {0}, ikm[22], okm[42], prk[32], out1[32], out2[32], out3[32], in[33], want3[32];

	memset(ikm, 0x0b, sizeof(ikm));
	unhex(okm, 42, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
	unhex(prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
	zt_hkdf(out1, out2, out3, ck, ikm, sizeof(ikm));
	ck_assert_mem_eq(out1, okm, 32);
	ck_assert_mem_eq(out2, okm + 32, 10);
	/* out3 = HMAC(temp, out2 || 0x03), temp being RFC 5869's PRK. */
	memcpy(in, out2, 32);
	in[32] = 0x03;
	zt_hmac_sha256(want3, prk, 32, in, 33);
	ck_assert_mem_eq(out3, want3, 32);
}
END_TEST

START_TEST(hkdf_skips_null_outputs_and_allows_aliasing)
{
	uint8_t ck[32], ikm[5] = {1, 2, 3, 4, 5}, a1[32], a2[32], a3[32], b2[32], c[32];

	memset(ck, 0x42, sizeof(ck));
	zt_hkdf(a1, a2, a3, ck, ikm, sizeof(ikm));
	zt_hkdf(NULL, b2, NULL, ck, ikm, sizeof(ikm));
	ck_assert_mem_eq(b2, a2, 32);
	/* The Noise pattern: ck, k = HKDF(ck, dh), writing the new ck over the old. */
	memcpy(c, ck, 32);
	zt_hkdf(c, b2, NULL, c, ikm, sizeof(ikm));
	ck_assert_mem_eq(c, a1, 32);
	ck_assert_mem_eq(b2, a2, 32);
	/* Empty input key material is allowed (Noise's Split). */
	zt_hkdf(a1, a2, NULL, ck, NULL, 0);
	ck_assert(!all_zero(a1, 32));
}
END_TEST

START_TEST(scrypt_matches_rfc7914)
{
	uint8_t got[64], want[64];

	unhex(want, 64, "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
			"fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
	ck_assert_int_eq(zt_scrypt(got, 64, "", 0, "", 0, 16, 1, 1), 0);
	ck_assert_mem_eq(got, want, 64);
	unhex(want, 64, "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
			"2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
	ck_assert_int_eq(zt_scrypt(got, 64, "password", 8, "NaCl", 4, 1024, 8, 16), 0);
	ck_assert_mem_eq(got, want, 64);
}
END_TEST

START_TEST(scrypt_refuses_bad_parameters)
{
	uint8_t out[32];

	ck_assert_int_eq(zt_scrypt(out, 32, "p", 1, "s", 1, 1000, 8, 1), ZT_EINVAL);
	ck_assert_int_eq(zt_scrypt(out, 32, "p", 1, "s", 1, 1, 8, 1), ZT_EINVAL);
	ck_assert_int_eq(zt_scrypt(out, 32, "p", 1, "s", 1, 1024, 0, 1), ZT_EINVAL);
	ck_assert_int_eq(zt_scrypt(out, 32, "p", 1, "s", 1, 1024, 8, 0), ZT_EINVAL);
	ck_assert_int_eq(zt_scrypt(out, 0, "p", 1, "s", 1, 1024, 8, 1), ZT_EINVAL);
	/* 2^30 * 128 * 8 bytes: far past the memory ceiling. */
	ck_assert_int_eq(zt_scrypt(out, 32, "p", 1, "s", 1, 1ULL << 30, 8, 1), ZT_ETOOBIG);
}
END_TEST

/* ---- AEAD known answers ---- */

struct aead_kat {
	const char *name;
	int cipher;
	const char *key, *nonce, *aad, *pt, *ct, *tag;
};

static const struct aead_kat aead_kats[] = {
	{"rfc8439 2.8.2", ZT_CIPHER_CHACHA20_POLY1305,
	 "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
	 "50515253c0c1c2c3c4c5c6c7",
	 "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a204966204920"
	 "636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675747572652c207375"
	 "6e73637265656e20776f756c642062652069742e",
	 "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
	 "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	 "3ff4def08e4b7a9de576d26586cec64b6116",
	 "1ae10b594f09e26a7e902ecbd0600691"},
	{"mcgrew-viega gcm test case 16", ZT_CIPHER_AES_256_GCM,
	 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
	 "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"
	 "b16aedf5aa0de657ba637b39",
	 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838"
	 "c5f61e6393ba7a0abcc9f662",
	 "76fc6ece0f4e1768cddf8853bb2d551b"},
};

START_TEST(aead_once_matches_published_vectors)
{
	const struct aead_kat *k = &aead_kats[_i];
	uint8_t key[32], nonce[12], aad[32], pt[128], want[160], got[160], back[128];
	size_t aad_len, pt_len, ct_len;

	unhex(key, 32, k->key);
	unhex(nonce, 12, k->nonce);
	aad_len = unhex(aad, sizeof(aad), k->aad);
	pt_len = unhex(pt, sizeof(pt), k->pt);
	ct_len = unhex(want, sizeof(want), k->ct);
	ck_assert_uint_eq(ct_len, pt_len);
	unhex(want + ct_len, 16, k->tag);

	ck_assert_int_eq(zt_aead_seal_once(k->cipher, key, nonce, aad, aad_len, pt, pt_len, got), 0);
	ck_assert_msg(memcmp(got, want, pt_len + ZT_TAG_BYTES) == 0, "%s: ciphertext or tag differs", k->name);
	ck_assert_int_eq(zt_aead_open_once(k->cipher, key, nonce, aad, aad_len, want, pt_len + 16, back), 0);
	ck_assert_mem_eq(back, pt, pt_len);
	want[0] ^= 1;
	ck_assert_int_eq(zt_aead_open_once(k->cipher, key, nonce, aad, aad_len, want, pt_len + 16, back),
			 ZT_EAUTH);
}
END_TEST

static const int both_ciphers[] = {ZT_CIPHER_CHACHA20_POLY1305, ZT_CIPHER_AES_256_GCM};

/* The per-packet nonce is 4 zero bytes then the counter little-endian. */
START_TEST(aead_nonce_is_zero_prefix_and_le_counter)
{
	int cipher = both_ciphers[_i];
	const uint64_t counter = 0x0102030405060708ULL;
	uint8_t key[32], nonce[12] = {0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
	uint8_t pt[40], a[56], b[56];
	struct zt_aead *ae;

	memset(key, 0x11, sizeof(key));
	memset(pt, 0x22, sizeof(pt));
	ck_assert_int_eq(zt_aead_new(&ae, cipher, key), 0);
	ck_assert_int_eq(zt_aead_seal(ae, counter, "hdr", 3, pt, sizeof(pt), a), 0);
	ck_assert_int_eq(zt_aead_seal_once(cipher, key, nonce, "hdr", 3, pt, sizeof(pt), b), 0);
	ck_assert_mem_eq(a, b, sizeof(a));
	zt_aead_free(ae);
}
END_TEST

/* ---- AEAD properties, for both ciphers ---- */

START_TEST(aead_round_trip_many_lengths)
{
	int cipher = both_ciphers[_i];
	static const size_t lens[] = {0, 1, 15, 16, 17, 63, 64, 65, 1400, 10240};
	static uint8_t pt[10240], ct[10240 + 16], back[10240];
	uint8_t key[32];
	struct zt_aead *ae;

	for (size_t i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(i * 31 + 7);
	memset(key, 0x33, sizeof(key));
	ck_assert_int_eq(zt_aead_new(&ae, cipher, key), 0);
	for (size_t i = 0; i < ZT_ARRAY_LEN(lens); i++) {
		size_t n = lens[i];

		ck_assert_int_eq(zt_aead_seal(ae, i, "aad", 3, pt, n, ct), 0);
		if (n)
			ck_assert_msg(memcmp(ct, pt, n) != 0, "length %zu: not encrypted", n);
		ck_assert_int_eq(zt_aead_open(ae, i, "aad", 3, ct, n + 16, back), 0);
		ck_assert_mem_eq(back, pt, n);
		/* No associated data at all is fine too. */
		ck_assert_int_eq(zt_aead_seal(ae, i, NULL, 0, pt, n, ct), 0);
		ck_assert_int_eq(zt_aead_open(ae, i, NULL, 0, ct, n + 16, back), 0);
	}
	zt_aead_free(ae);
}
END_TEST

START_TEST(aead_seals_and_opens_in_place)
{
	int cipher = both_ciphers[_i];
	uint8_t key[32], buf[300 + 16], orig[300], sep[316];
	struct zt_aead *ae;

	memset(key, 0x44, sizeof(key));
	for (size_t i = 0; i < sizeof(orig); i++)
		orig[i] = (uint8_t)i;
	memcpy(buf, orig, sizeof(orig));
	ck_assert_int_eq(zt_aead_new(&ae, cipher, key), 0);
	ck_assert_int_eq(zt_aead_seal(ae, 9, "h", 1, orig, sizeof(orig), sep), 0);
	ck_assert_int_eq(zt_aead_seal(ae, 9, "h", 1, buf, sizeof(orig), buf), 0);
	ck_assert_mem_eq(buf, sep, sizeof(sep));
	ck_assert_int_eq(zt_aead_open(ae, 9, "h", 1, buf, sizeof(buf), buf), 0);
	ck_assert_mem_eq(buf, orig, sizeof(orig));
	zt_aead_free(ae);
}
END_TEST

enum tamper { T_CIPHERTEXT, T_TAG, T_AAD, T_COUNTER, T_KEY, T_TRUNCATED };

static const char *const tamper_names[] = {"ciphertext", "tag", "aad", "counter", "key", "truncated"};

/* Every tamper x both ciphers; a failed open leaves no plaintext behind. */
START_TEST(aead_open_rejects_tampering)
{
	int cipher = both_ciphers[_i % 2];
	enum tamper t = (enum tamper)(_i / 2);
	uint8_t key[32], other[32], pt[64], ct[80], out[64], aad[8] = "header!";
	uint64_t counter = 77;
	size_t len = sizeof(ct);
	struct zt_aead *ae, *dec;

	memset(key, 0x55, sizeof(key));
	memset(other, 0x56, sizeof(other));
	memset(pt, 0x66, sizeof(pt));
	ck_assert_int_eq(zt_aead_new(&ae, cipher, key), 0);
	ck_assert_int_eq(zt_aead_new(&dec, cipher, t == T_KEY ? other : key), 0);
	ck_assert_int_eq(zt_aead_seal(ae, 77, aad, sizeof(aad), pt, sizeof(pt), ct), 0);
	switch (t) {
	case T_CIPHERTEXT: ct[10] ^= 0x80; break;
	case T_TAG: ct[70] ^= 0x01; break;
	case T_AAD: aad[0] ^= 0x20; break;
	case T_COUNTER: counter = 78; break;
	case T_KEY: break;
	case T_TRUNCATED: len -= 1; break;
	}
	memset(out, 0xcc, sizeof(out));
	ck_assert_msg(zt_aead_open(dec, counter, aad, sizeof(aad), ct, len, out) == ZT_EAUTH, "%s/%s accepted",
		      zt_cipher_name(cipher), tamper_names[t]);
	ck_assert_msg(memchr(out, 0x66, len - 16) == NULL, "%s: plaintext left after failed open",
		      tamper_names[t]);
	zt_aead_free(ae);
	zt_aead_free(dec);
}
END_TEST

/* A failed open in place must not leave the (forged) plaintext in the buffer. */
START_TEST(aead_failed_open_in_place_wipes)
{
	int cipher = both_ciphers[_i];
	uint8_t key[32], buf[48];
	struct zt_aead *ae;

	memset(key, 0x77, sizeof(key));
	memset(buf, 0x99, 32);
	ck_assert_int_eq(zt_aead_new(&ae, cipher, key), 0);
	ck_assert_int_eq(zt_aead_seal(ae, 1, NULL, 0, buf, 32, buf), 0);
	buf[47] ^= 1;
	ck_assert_int_eq(zt_aead_open(ae, 1, NULL, 0, buf, sizeof(buf), buf), ZT_EAUTH);
	ck_assert(all_zero(buf, 32));
	/* The context still works after a failure. */
	buf[47] ^= 1;
	memset(buf, 0x99, 32);
	ck_assert_int_eq(zt_aead_seal(ae, 2, NULL, 0, buf, 32, buf), 0);
	ck_assert_int_eq(zt_aead_open(ae, 2, NULL, 0, buf, sizeof(buf), buf), 0);
	ck_assert_uint_eq(buf[0], 0x99);
	zt_aead_free(ae);
}
END_TEST

START_TEST(aead_refuses_bad_arguments)
{
	uint8_t key[32] = {0}, buf[32], nonce[12] = {0};
	struct zt_aead *ae = (struct zt_aead *)1;

	ck_assert_int_eq(zt_aead_new(&ae, 0, key), ZT_EINVAL);
	ck_assert_ptr_null(ae);
	ck_assert_int_eq(zt_aead_new(&ae, 3, key), ZT_EINVAL);
	ck_assert_int_eq(zt_aead_seal_once(9, key, nonce, NULL, 0, buf, 1, buf), ZT_EINVAL);
	ck_assert_int_eq(zt_aead_new(&ae, ZT_CIPHER_AES_256_GCM, key), 0);
	ck_assert_int_eq(zt_aead_open(ae, 0, NULL, 0, buf, 15, buf), ZT_ETRUNC);
	ck_assert_int_eq(zt_aead_open(ae, 0, NULL, 0, buf, 0, buf), ZT_ETRUNC);
	ck_assert_int_eq(zt_aead_open_once(ZT_CIPHER_CHACHA20_POLY1305, key, nonce, NULL, 0, buf, 3, buf),
			 ZT_ETRUNC);
	zt_aead_free(ae);
	zt_aead_free(NULL);
}
END_TEST

/* The data path promise: once keyed, seal and open allocate nothing. */
START_TEST(aead_per_packet_path_does_not_allocate)
{
	int cipher = both_ciphers[_i];
	uint8_t key[32], buf[1400 + 16];
	struct zt_aead *ae;
	unsigned long before;

	ck_assert_msg(mem_hooks_installed, "OpenSSL allocated before the test could hook it");
	memset(key, 0x12, sizeof(key));
	memset(buf, 0x34, sizeof(buf));
	ck_assert_int_eq(zt_aead_new(&ae, cipher, key), 0);
	/* Warm up once: lazily created per-context state does not count as per packet. */
	ck_assert_int_eq(zt_aead_seal(ae, 0, "a", 1, buf, 1400, buf), 0);
	ck_assert_int_eq(zt_aead_open(ae, 0, "a", 1, buf, sizeof(buf), buf), 0);
	before = n_allocs;
	for (uint64_t c = 1; c <= 1000; c++) {
		ck_assert_int_eq(zt_aead_seal(ae, c, "a", 1, buf, 1400, buf), 0);
		ck_assert_int_eq(zt_aead_open(ae, c, "a", 1, buf, sizeof(buf), buf), 0);
	}
	buf[3] ^= 1;
	ck_assert_int_eq(zt_aead_open(ae, 1001, "a", 1, buf, sizeof(buf), buf), ZT_EAUTH);
	ck_assert_uint_eq(n_allocs, before);
	zt_aead_free(ae);
}
END_TEST

/* ---- names, hex, helpers ---- */

START_TEST(cipher_names_round_trip)
{
	ck_assert_int_eq(zt_cipher_parse("chacha20-poly1305"), ZT_CIPHER_CHACHA20_POLY1305);
	ck_assert_int_eq(zt_cipher_parse("AES-256-GCM"), ZT_CIPHER_AES_256_GCM);
	ck_assert_int_eq(zt_cipher_parse(zt_cipher_name(ZT_CIPHER_AES_256_GCM)), ZT_CIPHER_AES_256_GCM);
	ck_assert_int_eq(zt_cipher_parse(zt_cipher_name(ZT_CIPHER_CHACHA20_POLY1305)),
			 ZT_CIPHER_CHACHA20_POLY1305);
	ck_assert_int_eq(zt_cipher_parse("aes-128-gcm"), ZT_EINVAL);
	ck_assert_int_eq(zt_cipher_parse(""), ZT_EINVAL);
	ck_assert_int_eq(zt_cipher_parse(NULL), ZT_EINVAL);
	ck_assert_str_eq(zt_cipher_name(42), "unknown");
}
END_TEST

START_TEST(hex_round_trip_and_strictness)
{
	const uint8_t bytes[4] = {0x00, 0xab, 0x7f, 0xff};
	char text[9];
	uint8_t back[4];

	zt_hex_encode(text, bytes, 4);
	ck_assert_str_eq(text, "00ab7fff");
	ck_assert_int_eq(zt_hex_decode(back, 4, text, 8), 0);
	ck_assert_mem_eq(back, bytes, 4);
	ck_assert_int_eq(zt_hex_decode(back, 4, "00AB7FFF", 8), 0);
	ck_assert_mem_eq(back, bytes, 4);
	ck_assert_int_eq(zt_hex_decode(back, 4, "00ab7ff", 7), ZT_EINVAL);
	ck_assert_int_eq(zt_hex_decode(back, 4, "00ab7fff0", 9), ZT_EINVAL);
	ck_assert_int_eq(zt_hex_decode(back, 4, "00ab7fgf", 8), ZT_EINVAL);
	ck_assert_int_eq(zt_hex_decode(back, 4, "00ab 7ff", 8), ZT_EINVAL);
	ck_assert_int_eq(zt_hex_decode(back, 4, "0x0b7fff", 8), ZT_EINVAL);
	ck_assert_int_eq(zt_hex_decode(back, 0, "", 0), 0);
}
END_TEST

START_TEST(ct_equal_and_wipe)
{
	uint8_t a[16], b[16];

	memset(a, 7, sizeof(a));
	memset(b, 7, sizeof(b));
	ck_assert(zt_ct_equal(a, b, 16));
	b[15] = 8;
	ck_assert(!zt_ct_equal(a, b, 16));
	ck_assert(zt_ct_equal(a, b, 15));
	zt_wipe(a, sizeof(a));
	ck_assert(all_zero(a, 16));
	zt_wipe(NULL, 0);
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *kat = tcase_create("known_answers");
	TCase *aead = tcase_create("aead");
	TCase *misc = tcase_create("helpers");

	/* Must run before anything makes OpenSSL allocate. */
	mem_hooks_installed = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);

	tcase_set_timeout(kat, 60);
	tcase_add_loop_test(kat, x25519_matches_rfc7748, 0, ZT_ARRAY_LEN(x25519_cases));
	tcase_add_test(kat, x25519_public_matches_rfc7748);
	tcase_add_loop_test(kat, x25519_refuses_all_zero_shared_secret, 0, ZT_ARRAY_LEN(low_order_points));
	tcase_add_loop_test(kat, ed25519_matches_rfc8032, 0, ZT_ARRAY_LEN(ed25519_cases));
	tcase_add_test(kat, ed25519_rejects_tampering_and_wrong_key);
	tcase_add_test(kat, sha256_matches_fips180);
	tcase_add_test(kat, sha256_2_output_may_alias_input);
	tcase_add_loop_test(kat, hmac_sha256_matches_rfc4231, 0, ZT_ARRAY_LEN(hmac_cases));
	tcase_add_test(kat, hkdf_matches_rfc5869_case3);
	tcase_add_test(kat, hkdf_skips_null_outputs_and_allows_aliasing);
	tcase_add_test(kat, scrypt_matches_rfc7914);
	tcase_add_test(kat, scrypt_refuses_bad_parameters);
	tcase_add_loop_test(kat, aead_once_matches_published_vectors, 0, ZT_ARRAY_LEN(aead_kats));
	suite_add_tcase(s, kat);

	tcase_add_loop_test(aead, aead_nonce_is_zero_prefix_and_le_counter, 0, 2);
	tcase_add_loop_test(aead, aead_round_trip_many_lengths, 0, 2);
	tcase_add_loop_test(aead, aead_seals_and_opens_in_place, 0, 2);
	tcase_add_loop_test(aead, aead_open_rejects_tampering, 0, 2 * ZT_ARRAY_LEN(tamper_names));
	tcase_add_loop_test(aead, aead_failed_open_in_place_wipes, 0, 2);
	tcase_add_test(aead, aead_refuses_bad_arguments);
	tcase_add_loop_test(aead, aead_per_packet_path_does_not_allocate, 0, 2);
	suite_add_tcase(s, aead);

	tcase_add_test(misc, cipher_names_round_trip);
	tcase_add_test(misc, hex_round_trip_and_strictness);
	tcase_add_test(misc, ct_equal_and_wipe);
	suite_add_tcase(s, misc);
	return s;
}

ZT_CHECK_MAIN(crypto_suite)
