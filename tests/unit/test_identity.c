/*
 * test_identity.c - src/identity.c: the address derivation frozen by
 * tests/vectors/identity.txt, generation skipping reserved addresses,
 * validation catching every broken binding, the strict text parser, the
 * binary form and signatures.
 */
#include "identity.h"

#include "check_main.h"
#include "crypto.h"

#include <stdio.h>
#include <string.h>

#define VECTORS_PATH "tests/vectors/identity.txt"

/* The rfc-keys record of the vectors file, spelled out for building bad inputs. */
#define ADDR "e101d96926"
#define XPUB "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define EDPUB "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define XPRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define EDPRIV "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define PUB ADDR ":1:" XPUB EDPUB
#define SEC PUB ":" XPRIV EDPRIV

/* ---- the vectors file: "[record]" then "field = value" lines ---- */

static void vec_get(const char *record, const char *field, char *out, size_t cap)
{
	char line[512], want[64];
	bool in = false, found = false;
	size_t flen = strlen(field);
	FILE *f = fopen(VECTORS_PATH, "r");

	ck_assert_msg(f != NULL, "cannot open %s (tests run from the repository root)", VECTORS_PATH);
	snprintf(want, sizeof(want), "[%s]", record);
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '[') {
			in = strcmp(line, want) == 0;
			continue;
		}
		if (!in || strncmp(line, field, flen) != 0 || strncmp(line + flen, " = ", 3) != 0)
			continue;
		ck_assert_uint_lt(strlen(line + flen + 3), cap);
		strcpy(out, line + flen + 3);
		found = true;
	}
	fclose(f);
	ck_assert_msg(found, "%s: no field %s in [%s]", VECTORS_PATH, field, record);
}

static void vec_key(const char *record, const char *field, uint8_t key[32])
{
	char hex[80];

	vec_get(record, field, hex, sizeof(hex));
	ck_assert_int_eq(zt_hex_decode(key, 32, hex, strlen(hex)), 0);
}

static uint64_t vec_address(const char *record)
{
	char text[16];
	uint64_t a;

	vec_get(record, "address", text, sizeof(text));
	ck_assert_int_eq(zt_address_parse(&a, text), 0);
	return a;
}

/* ---- deterministic random sources ---- */

struct prng {
	uint8_t seed;
	uint64_t n;
};

/* SHA-256 in counter mode: different for every call, the same for every run. */
static void prng_fill(void *ctx, void *buf, size_t len)
{
	struct prng *p = ctx;
	uint8_t in[9], block[32];

	for (size_t off = 0; off < len; off += 32) {
		in[0] = p->seed;
		for (int i = 0; i < 8; i++)
			in[1 + i] = (uint8_t)(p->n >> (8 * i));
		p->n++;
		zt_sha256(block, in, sizeof(in));
		memcpy((uint8_t *)buf + off, block, ZT_MIN(32, len - off));
	}
}

/* Hands out preset 32-byte keys in order, round and round. */
struct script {
	const uint8_t (*keys)[32];
	size_t n, next;
};

static void script_fill(void *ctx, void *buf, size_t len)
{
	struct script *s = ctx;

	ck_assert_uint_eq(len, 32);
	memcpy(buf, s->keys[s->next % s->n], 32);
	s->next++;
}

static void load_secret(struct zt_identity *id, const char *record)
{
	char text[ZT_IDENTITY_SECRET_TEXT_MAX];

	vec_get(record, "secret", text, sizeof(text));
	ck_assert_int_eq(zt_identity_from_text(id, text), 0);
}

/* ---- the frozen vectors ---- */

static const char *const good_records[] = {"rfc-keys", "generated"};

START_TEST(vectors_freeze_address_derivation)
{
	const char *rec = good_records[_i];
	uint8_t x_priv[32], ed_priv[32], x_pub[32], ed_pub[32], got[32];
	uint64_t address;

	vec_key(rec, "x25519_priv", x_priv);
	vec_key(rec, "ed25519_priv", ed_priv);
	vec_key(rec, "x25519_pub", x_pub);
	vec_key(rec, "ed25519_pub", ed_pub);
	ck_assert_int_eq(zt_x25519_public(got, x_priv), 0);
	ck_assert_mem_eq(got, x_pub, 32);
	ck_assert_int_eq(zt_ed25519_public(got, ed_priv), 0);
	ck_assert_mem_eq(got, ed_pub, 32);
	ck_assert_int_eq(zt_identity_derive_address(&address, x_pub, ed_pub), 0);
	ck_assert_msg(address == vec_address(rec), "[%s] derives %010llx", rec, (unsigned long long)address);
}
END_TEST

START_TEST(vectors_freeze_text_forms)
{
	const char *rec = good_records[_i];
	char pub_text[ZT_IDENTITY_PUBLIC_TEXT_MAX], sec_text[ZT_IDENTITY_SECRET_TEXT_MAX];
	char out[ZT_IDENTITY_SECRET_TEXT_MAX];
	uint8_t key[32];
	struct zt_identity id, pub;

	vec_get(rec, "public", pub_text, sizeof(pub_text));
	vec_get(rec, "secret", sec_text, sizeof(sec_text));
	ck_assert_int_eq(zt_identity_from_text(&id, sec_text), 0);
	ck_assert(id.has_secret);
	ck_assert_uint_eq(id.address, vec_address(rec));
	vec_key(rec, "x25519_pub", key);
	ck_assert_mem_eq(id.x25519_pub, key, 32);
	vec_key(rec, "ed25519_pub", key);
	ck_assert_mem_eq(id.ed25519_pub, key, 32);
	vec_key(rec, "x25519_priv", key);
	ck_assert_mem_eq(id.x25519_priv, key, 32);
	vec_key(rec, "ed25519_priv", key);
	ck_assert_mem_eq(id.ed25519_priv, key, 32);
	ck_assert_int_eq(zt_identity_validate(&id), 0);

	ck_assert_int_eq(zt_identity_to_text(&id, true, out, sizeof(out)), 0);
	ck_assert_str_eq(out, sec_text);
	ck_assert_int_eq(zt_identity_to_text(&id, false, out, sizeof(out)), 0);
	ck_assert_str_eq(out, pub_text);

	ck_assert_int_eq(zt_identity_from_text(&pub, pub_text), 0);
	ck_assert(!pub.has_secret);
	ck_assert_int_eq(zt_identity_validate(&pub), 0);
	zt_identity_wipe(&id);
}
END_TEST

START_TEST(generate_skips_reserved_address)
{
	uint8_t keys[4][32], want_x[32];
	struct script s = {(const uint8_t (*)[32])keys, 4, 0};
	struct zt_identity id;
	uint64_t reserved;

	/* The first key pair lands on a reserved address; the second is rfc-keys. */
	vec_key("reserved", "x25519_priv", keys[0]);
	vec_key("reserved", "ed25519_priv", keys[1]);
	vec_key("rfc-keys", "x25519_priv", keys[2]);
	vec_key("rfc-keys", "ed25519_priv", keys[3]);
	reserved = vec_address("reserved");
	ck_assert(zt_address_reserved(reserved));

	ck_assert_int_eq(zt_identity_generate(&id, script_fill, &s), 0);
	ck_assert_uint_eq(s.next, 4);
	ck_assert_uint_eq(id.address, vec_address("rfc-keys"));
	ck_assert(id.has_secret);
	vec_key("rfc-keys", "x25519_pub", want_x);
	ck_assert_mem_eq(id.x25519_pub, want_x, 32);
	ck_assert_int_eq(zt_identity_validate(&id), 0);
	zt_identity_wipe(&id);
}
END_TEST

/* A random source stuck on a reserved key pair must not hang generate(). */
START_TEST(generate_gives_up_on_broken_random)
{
	uint8_t keys[2][32];
	struct script s = {(const uint8_t (*)[32])keys, 2, 0};
	static const uint8_t zero[sizeof(struct zt_identity)];
	struct zt_identity id;

	vec_key("reserved", "x25519_priv", keys[0]);
	vec_key("reserved", "ed25519_priv", keys[1]);
	ck_assert_int_eq(zt_identity_generate(&id, script_fill, &s), ZT_ECRYPTO);
	ck_assert_uint_gt(s.next, 2);
	ck_assert(memcmp(&id, zero, sizeof(id)) == 0);
}
END_TEST

START_TEST(generate_then_validate)
{
	struct prng p = {(uint8_t)_i, 0};
	struct zt_identity id, again;

	ck_assert_int_eq(zt_identity_generate(&id, prng_fill, &p), 0);
	ck_assert(id.has_secret);
	ck_assert(!zt_address_reserved(id.address));
	ck_assert_int_eq(zt_identity_validate(&id), 0);
	/* Same seed, same identity: the simulator depends on this. */
	p.n = 0;
	ck_assert_int_eq(zt_identity_generate(&again, prng_fill, &p), 0);
	ck_assert_uint_eq(again.address, id.address);
	ck_assert_mem_eq(again.ed25519_priv, id.ed25519_priv, 32);
	zt_identity_wipe(&id);
	zt_identity_wipe(&again);
}
END_TEST

/* ---- validation ---- */

enum tamper { T_ADDRESS, T_X_PUB, T_ED_PUB, T_X_PRIV, T_ED_PRIV };

static const char *const tamper_names[] = {"address", "x25519_pub", "ed25519_pub", "x25519_priv",
					   "ed25519_priv"};

START_TEST(validate_rejects_tampered_identity)
{
	struct zt_identity id;

	load_secret(&id, "rfc-keys");
	switch ((enum tamper)_i) {
	case T_ADDRESS: id.address ^= 1; break;
	case T_X_PUB: id.x25519_pub[5] ^= 0x10; break;
	case T_ED_PUB: id.ed25519_pub[31] ^= 0x01; break;
	case T_X_PRIV: id.x25519_priv[7] ^= 0x80; break;
	case T_ED_PRIV: id.ed25519_priv[0] ^= 0x01; break;
	}
	ck_assert_msg(zt_identity_validate(&id) == ZT_EAUTH, "tampered %s accepted", tamper_names[_i]);
	/* The public half alone is caught as well when the public part was touched. */
	if (_i <= T_ED_PUB) {
		struct zt_identity pub;

		zt_identity_public(&pub, &id);
		ck_assert_int_eq(zt_identity_validate(&pub), ZT_EAUTH);
	}
	zt_identity_wipe(&id);
}
END_TEST

START_TEST(validate_rejects_reserved_address)
{
	static const uint64_t bad[] = {0, 0xff00000000ULL, 0xffe101d969ULL, ZT_ADDR_MASK, ZT_ADDR_MASK + 1,
				       UINT64_MAX};
	struct zt_identity id;

	load_secret(&id, "rfc-keys");
	for (size_t i = 0; i < ZT_ARRAY_LEN(bad); i++) {
		id.address = bad[i];
		ck_assert_int_eq(zt_identity_validate(&id), ZT_EINVAL);
	}
	zt_identity_wipe(&id);
}
END_TEST

START_TEST(reserved_addresses)
{
	static const struct {
		uint64_t a;
		bool reserved;
	} cases[] = {
		{0, true},
		{0xff00000000ULL, true},
		{0xffffffffffULL, true},
		{0xff12345678ULL, true},
		{0x10000000000ULL, true}, /* not 40 bits */
		{1, false},
		{0x00ffffffffULL, false},
		{0xfeffffffffULL, false},
		{0xe101d96926ULL, false},
	};

	for (size_t i = 0; i < ZT_ARRAY_LEN(cases); i++)
		ck_assert_msg(zt_address_reserved(cases[i].a) == cases[i].reserved, "%010llx",
			      (unsigned long long)cases[i].a);
}
END_TEST

START_TEST(address_text_round_trip)
{
	char text[11];
	uint64_t a;

	zt_address_format(text, 0x00000000abULL);
	ck_assert_str_eq(text, "00000000ab");
	zt_address_format(text, 0xe101d96926ULL);
	ck_assert_str_eq(text, "e101d96926");
	ck_assert_int_eq(zt_address_parse(&a, "E101D96926"), 0);
	ck_assert_uint_eq(a, 0xe101d96926ULL);
	ck_assert_int_eq(zt_address_parse(&a, "e101d9692"), ZT_EPARSE);
	ck_assert_int_eq(zt_address_parse(&a, "e101d969266"), ZT_EPARSE);
	ck_assert_int_eq(zt_address_parse(&a, "e101d9692x"), ZT_EPARSE);
	ck_assert_int_eq(zt_address_parse(&a, " e101d9692"), ZT_EPARSE);
	ck_assert_int_eq(zt_address_parse(&a, ""), ZT_EPARSE);
	ck_assert_int_eq(zt_address_parse(&a, NULL), ZT_EPARSE);
}
END_TEST

/* ---- the strict text parser ---- */

struct text_case {
	const char *name;
	const char *text;
	int err;
};

static const struct text_case text_cases[] = {
	{"public", PUB, 0},
	{"secret", SEC, 0},
	{"public + newline", PUB "\n", 0},
	{"secret + CRLF", SEC "\r\n", 0},
	{"trailing spaces and tabs", PUB " \t \n\n", 0},
	{"upper case hex", "E101D96926:1:8520F0098930A754748B7DDCB43EF75A0DBF3A0D26381AF4EBA4A98EAA9B4E6A" EDPUB, 0},
	{"empty", "", ZT_EPARSE},
	{"address only", ADDR, ZT_EPARSE},
	{"address and version only", ADDR ":1:", ZT_EPARSE},
	{"9-digit address", "e101d9692:1:" XPUB EDPUB, ZT_EPARSE},
	{"11-digit address", "e101d969266:1:" XPUB EDPUB, ZT_EPARSE},
	{"non-hex address", "e101d9692g:1:" XPUB EDPUB, ZT_EPARSE},
	{"missing version", ADDR "::" XPUB EDPUB, ZT_EPARSE},
	{"version 2", ADDR ":2:" XPUB EDPUB, ZT_EVERSION},
	{"version 01", ADDR ":01:" XPUB EDPUB, ZT_EPARSE},
	{"version x", ADDR ":x:" XPUB EDPUB, ZT_EPARSE},
	{"semicolon", ADDR ";1:" XPUB EDPUB, ZT_EPARSE},
	{"one public key", ADDR ":1:" XPUB, ZT_EPARSE},
	{"127 hex of keys", ADDR ":1:" XPUB "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511",
	 ZT_EPARSE},
	{"129 hex of keys", PUB "0", ZT_EPARSE},
	{"non-hex key", ADDR ":1:z520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a" EDPUB,
	 ZT_EPARSE},
	{"space inside keys", ADDR ":1:" XPUB " " EDPUB, ZT_EPARSE},
	{"leading space", " " PUB, ZT_EPARSE},
	{"leading newline", "\n" PUB, ZT_EPARSE},
	{"trailing garbage", PUB " x", ZT_EPARSE},
	{"garbage after newline", PUB "\nx", ZT_EPARSE},
	{"empty secret", PUB ":", ZT_EPARSE},
	{"half a secret", PUB ":" XPRIV, ZT_EPARSE},
	{"secret + 1 hex", SEC "0", ZT_EPARSE},
	{"two secrets (too long to be one)", SEC ":" XPRIV EDPRIV, ZT_ETOOBIG},
	{"trailing colon", SEC ":", ZT_EPARSE},
	{"newline before secret", PUB "\n:" XPRIV EDPRIV, ZT_EPARSE},
	{"address zero", "0000000000:1:" XPUB EDPUB, ZT_EINVAL},
	{"address ff...", "ff01d96926:1:" XPUB EDPUB, ZT_EINVAL},
	{"reserved secret", "ff01d96926:1:" XPUB EDPUB ":" XPRIV EDPRIV, ZT_EINVAL},
	{"far too long", SEC "                                                   "
			       "                                                   ",
	 ZT_ETOOBIG},
};

START_TEST(text_parser_is_strict)
{
	const struct text_case *c = &text_cases[_i];
	struct zt_identity id;
	static const uint8_t zero[sizeof(struct zt_identity)];
	int err = zt_identity_from_text(&id, c->text);

	ck_assert_msg(err == c->err, "%s: got %d (%s), want %d", c->name, err, zt_strerror(err), c->err);
	if (err) {
		/* Nothing half-parsed (least of all a private key) is left behind. */
		ck_assert_msg(memcmp(&id, zero, sizeof(id)) == 0, "%s: identity not wiped", c->name);
		return;
	}
	ck_assert_uint_eq(id.address, 0xe101d96926ULL);
	ck_assert_int_eq(zt_identity_validate(&id), 0);
}
END_TEST

START_TEST(text_round_trip)
{
	struct prng p = {42, 0};
	char pub_text[ZT_IDENTITY_PUBLIC_TEXT_MAX], sec_text[ZT_IDENTITY_SECRET_TEXT_MAX];
	struct zt_identity id, back;

	ck_assert_int_eq(zt_identity_generate(&id, prng_fill, &p), 0);
	ck_assert_int_eq(zt_identity_to_text(&id, false, pub_text, sizeof(pub_text)), 0);
	ck_assert_int_eq(zt_identity_to_text(&id, true, sec_text, sizeof(sec_text)), 0);
	ck_assert_uint_eq(strlen(pub_text), 10 + 3 + 128);
	ck_assert_uint_eq(strlen(sec_text), 10 + 3 + 128 + 1 + 128);
	ck_assert_int_eq(strncmp(sec_text, pub_text, strlen(pub_text)), 0);

	ck_assert_int_eq(zt_identity_from_text(&back, sec_text), 0);
	ck_assert_mem_eq(&back, &id, sizeof(id));
	ck_assert_int_eq(zt_identity_from_text(&back, pub_text), 0);
	ck_assert(!back.has_secret);
	ck_assert_uint_eq(back.address, id.address);
	ck_assert_mem_eq(back.x25519_pub, id.x25519_pub, 32);
	ck_assert_mem_eq(back.ed25519_pub, id.ed25519_pub, 32);
	zt_identity_wipe(&id);
	zt_identity_wipe(&back);
}
END_TEST

START_TEST(to_text_refuses_what_it_cannot_write)
{
	char small[ZT_IDENTITY_SECRET_TEXT_MAX];
	struct zt_identity id, pub;

	load_secret(&id, "rfc-keys");
	zt_identity_public(&pub, &id);
	ck_assert_int_eq(zt_identity_to_text(&pub, true, small, sizeof(small)), ZT_EINVAL);
	/* One byte short of the NUL, for both forms. */
	ck_assert_int_eq(zt_identity_to_text(&id, false, small, strlen(PUB)), ZT_EINVAL);
	ck_assert_int_eq(zt_identity_to_text(&id, true, small, strlen(SEC)), ZT_EINVAL);
	ck_assert_int_eq(memchr(small, ':', strlen(SEC)) == NULL, 1);
	ck_assert_int_eq(zt_identity_to_text(&id, true, small, strlen(SEC) + 1), 0);
	ck_assert_str_eq(small, SEC);
	zt_identity_wipe(&id);
}
END_TEST

/* ---- binary form, signatures, copies ---- */

START_TEST(binary_form_round_trip)
{
	uint8_t bytes[ZT_IDENTITY_PUBLIC_BYTES];
	struct zt_identity id, back;

	load_secret(&id, "rfc-keys");
	ck_assert_int_eq(zt_identity_to_bytes(&id, bytes), 0);
	ck_assert_uint_eq(bytes[0], ZT_IDENTITY_FORMAT_VERSION);
	ck_assert_mem_eq(bytes + 1, id.x25519_pub, 32);
	ck_assert_mem_eq(bytes + 33, id.ed25519_pub, 32);
	ck_assert_int_eq(zt_identity_from_bytes(&back, id.address, bytes), 0);
	ck_assert(!back.has_secret);
	ck_assert_uint_eq(back.address, id.address);
	ck_assert_int_eq(zt_identity_validate(&back), 0);
	/* The address beside the keys is checked only by validate... */
	ck_assert_int_eq(zt_identity_from_bytes(&back, id.address ^ 2, bytes), 0);
	ck_assert_int_eq(zt_identity_validate(&back), ZT_EAUTH);
	/* ...but reserved addresses and unknown versions are refused at once. */
	ck_assert_int_eq(zt_identity_from_bytes(&back, 0, bytes), ZT_EINVAL);
	ck_assert_int_eq(zt_identity_from_bytes(&back, 0xff00000001ULL, bytes), ZT_EINVAL);
	bytes[0] = 2;
	ck_assert_int_eq(zt_identity_from_bytes(&back, id.address, bytes), ZT_EVERSION);
	zt_identity_wipe(&id);
}
END_TEST

START_TEST(sign_and_verify)
{
	static const char msg[] = "network config v7";
	uint8_t sig[64];
	struct zt_identity id, other, pub;
	struct prng p = {9, 0};

	load_secret(&id, "rfc-keys");
	ck_assert_int_eq(zt_identity_generate(&other, prng_fill, &p), 0);
	zt_identity_public(&pub, &id);

	ck_assert_int_eq(zt_identity_sign(&id, msg, sizeof(msg), sig), 0);
	ck_assert(zt_identity_verify(&pub, msg, sizeof(msg), sig));
	ck_assert(!zt_identity_verify(&other, msg, sizeof(msg), sig));
	ck_assert(!zt_identity_verify(&pub, msg, sizeof(msg) - 1, sig));
	sig[10] ^= 4;
	ck_assert(!zt_identity_verify(&pub, msg, sizeof(msg), sig));
	ck_assert_int_eq(zt_identity_sign(&pub, msg, sizeof(msg), sig), ZT_EINVAL);
	zt_identity_wipe(&id);
	zt_identity_wipe(&other);
}
END_TEST

START_TEST(public_copy_drops_secrets_and_wipe_clears)
{
	static const uint8_t zero[sizeof(struct zt_identity)];
	struct zt_identity id, pub;

	load_secret(&id, "rfc-keys");
	zt_identity_public(&pub, &id);
	ck_assert(!pub.has_secret);
	ck_assert_uint_eq(pub.address, id.address);
	ck_assert_mem_eq(pub.ed25519_pub, id.ed25519_pub, 32);
	ck_assert(memcmp(pub.x25519_priv, zero, 32) == 0 && memcmp(pub.ed25519_priv, zero, 32) == 0);
	/* In place. */
	zt_identity_public(&id, &id);
	ck_assert_mem_eq(&id, &pub, sizeof(id));
	load_secret(&id, "rfc-keys");
	zt_identity_wipe(&id);
	ck_assert(memcmp(&id, zero, sizeof(id)) == 0);
}
END_TEST

static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *vec = tcase_create("vectors");
	TCase *val = tcase_create("validate");
	TCase *text = tcase_create("text");
	TCase *misc = tcase_create("forms");

	/* scrypt under the sanitizers costs tens of ms per call. */
	tcase_set_timeout(vec, 120);
	tcase_set_timeout(val, 120);
	tcase_set_timeout(text, 120);
	tcase_set_timeout(misc, 120);

	tcase_add_loop_test(vec, vectors_freeze_address_derivation, 0, ZT_ARRAY_LEN(good_records));
	tcase_add_loop_test(vec, vectors_freeze_text_forms, 0, ZT_ARRAY_LEN(good_records));
	tcase_add_test(vec, generate_skips_reserved_address);
	tcase_add_test(vec, generate_gives_up_on_broken_random);
	tcase_add_loop_test(vec, generate_then_validate, 0, 3);
	suite_add_tcase(s, vec);

	tcase_add_loop_test(val, validate_rejects_tampered_identity, 0, ZT_ARRAY_LEN(tamper_names));
	tcase_add_test(val, validate_rejects_reserved_address);
	tcase_add_test(val, reserved_addresses);
	suite_add_tcase(s, val);

	tcase_add_test(text, address_text_round_trip);
	tcase_add_loop_test(text, text_parser_is_strict, 0, ZT_ARRAY_LEN(text_cases));
	tcase_add_test(text, text_round_trip);
	tcase_add_test(text, to_text_refuses_what_it_cannot_write);
	suite_add_tcase(s, text);

	tcase_add_test(misc, binary_form_round_trip);
	tcase_add_test(misc, sign_and_verify);
	tcase_add_test(misc, public_copy_drops_secrets_and_wipe_clears);
	suite_add_tcase(s, misc);
	return s;
}

ZT_CHECK_MAIN(identity_suite)
