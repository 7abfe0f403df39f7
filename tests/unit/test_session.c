/*
 * test_session.c - the Noise IK handshake (noise.c) and DATA sealing
 * (session.c): a full handshake gives matching keys; tampering at any stage
 * fails; sealing matches committed vectors for both ciphers; opening refuses
 * tampering and replays.
 */
#include "check_main.h"
#include "crypto.h"
#include "noise.h"
#include "session.h"

#include <stdio.h>
#include <string.h>

static uint64_t det_state;

static void det_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;
	(void)ctx;
	for (size_t i = 0; i < len; i++) {
		det_state = det_state * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (uint8_t)(det_state >> 56);
	}
}

static struct zt_identity alice, bob;

static void setup_ids(void)
{
	static bool done;

	if (done)
		return;
	det_state = 1;
	ck_assert_int_eq(zt_identity_generate(&alice, det_random, NULL), 0);
	ck_assert_int_eq(zt_identity_generate(&bob, det_random, NULL), 0);
	done = true;
}

static void handshake(int cipher, struct zt_hs_keys *ka, struct zt_hs_keys *kb)
{
	struct zt_noise_local la, lb;
	struct zt_handshake hs = {0};
	struct zt_identity bob_pub, alice_pub;
	struct zt_hs_init_info info;
	uint8_t init[ZT_HS_INIT_BYTES], resp[ZT_HS_RESP_BYTES];
	struct zt_endpoint from = {.family = 4, .port = 9993};

	setup_ids();
	zt_identity_public(&bob_pub, &bob);
	zt_identity_public(&alice_pub, &alice);
	zt_noise_local_init(&la, &alice);
	zt_noise_local_init(&lb, &bob);
	zt_noise_local_rotate(&lb, 1000, det_random, NULL);
	ck_assert_int_eq(zt_noise_create_init(&la, &hs, &bob_pub, 0x11223344, cipher, 1000, det_random, NULL, init), 0);
	ck_assert_int_eq(zt_noise_check_macs(&lb, init, sizeof(init), ZT_HS_INIT_BYTES - 32, false, &from), 0);
	ck_assert_int_eq(zt_noise_consume_init(&lb, init, sizeof(init), &info), 0);
	ck_assert_uint_eq(info.peer.address, alice.address);
	ck_assert(memcmp(info.peer.x25519_pub, alice.x25519_pub, 32) == 0);
	ck_assert_int_eq(info.cipher, cipher);
	ck_assert_int_eq(zt_noise_create_resp(&lb, &info, 0x55667788, det_random, NULL, resp, kb), 0);
	ck_assert_int_eq(zt_noise_consume_resp(&la, &hs, &bob_pub, resp, sizeof(resp), ka), 0);
}

START_TEST(test_handshake_gives_matching_keys)
{
	struct zt_hs_keys ka, kb;

	handshake(ZT_CIPHER_CHACHA20_POLY1305, &ka, &kb);
	ck_assert(memcmp(ka.send, kb.recv, 32) == 0);
	ck_assert(memcmp(ka.recv, kb.send, 32) == 0);
	ck_assert(memcmp(ka.send, ka.recv, 32) != 0);
	ck_assert(ka.initiator && !kb.initiator);
	ck_assert_uint_eq(ka.remote_index, 0x55667788);
	ck_assert_uint_eq(kb.remote_index, 0x11223344);
	handshake(ZT_CIPHER_AES_256_GCM, &ka, &kb);
	ck_assert_int_eq(ka.cipher, ZT_CIPHER_AES_256_GCM);
}
END_TEST

START_TEST(test_tampered_init_refused_at_every_byte)
{
	struct zt_noise_local la, lb;
	struct zt_handshake hs = {0};
	struct zt_identity bob_pub;
	struct zt_hs_init_info info;
	uint8_t init[ZT_HS_INIT_BYTES], bad[ZT_HS_INIT_BYTES];
	struct zt_endpoint from = {.family = 4, .port = 1};

	setup_ids();
	zt_identity_public(&bob_pub, &bob);
	zt_noise_local_init(&la, &alice);
	zt_noise_local_init(&lb, &bob);
	ck_assert_int_eq(zt_noise_create_init(&la, &hs, &bob_pub, 7, ZT_CIPHER_CHACHA20_POLY1305, 5, det_random, NULL,
					      init), 0);
	for (size_t i = 0; i < sizeof(init) - ZT_MAC_BYTES; i++) {
		if (i == 2)
			continue; /* the hop count is not authenticated: relays change it */
		memcpy(bad, init, sizeof(bad));
		bad[i] ^= 0x01;
		bool macs_ok = zt_noise_check_macs(&lb, bad, sizeof(bad), ZT_HS_INIT_BYTES - 32, false, &from) == 0;
		ck_assert_msg(!macs_ok || zt_noise_consume_init(&lb, bad, sizeof(bad), &info) != 0,
			      "flipped byte %zu accepted", i);
	}
	/* truncated */
	ck_assert_int_ne(zt_noise_check_macs(&lb, init, sizeof(init) - 1, ZT_HS_INIT_BYTES - 32, false, &from), 0);
	/* under load, an init without a cookie is told to come back with one */
	ck_assert_int_eq(zt_noise_check_macs(&lb, init, sizeof(init), ZT_HS_INIT_BYTES - 32, true, &from), ZT_EAGAIN);
}
END_TEST

START_TEST(test_cookie_round_trip_unlocks_init)
{
	struct zt_noise_local la, lb;
	struct zt_handshake hs = {0};
	struct zt_identity bob_pub;
	uint8_t init[ZT_HS_INIT_BYTES], cookie[ZT_COOKIE_BYTES];
	struct zt_endpoint from = {.family = 4, .addr = {192, 0, 2, 1}, .port = 4242};

	setup_ids();
	zt_identity_public(&bob_pub, &bob);
	zt_noise_local_init(&la, &alice);
	zt_noise_local_init(&lb, &bob);
	zt_noise_local_rotate(&lb, 10, det_random, NULL);
	ck_assert_int_eq(zt_noise_create_init(&la, &hs, &bob_pub, 9, ZT_CIPHER_CHACHA20_POLY1305, 10, det_random, NULL,
					      init), 0);
	ck_assert_int_eq(zt_noise_create_cookie(&lb, init, sizeof(init), &from, det_random, NULL, cookie), 0);
	ck_assert_int_eq(zt_noise_consume_cookie(&hs, &bob_pub, cookie, sizeof(cookie), 20), 0);
	ck_assert_int_eq(zt_noise_create_init(&la, &hs, &bob_pub, 9, ZT_CIPHER_CHACHA20_POLY1305, 30, det_random, NULL,
					      init), 0);
	ck_assert_int_eq(zt_noise_check_macs(&lb, init, sizeof(init), ZT_HS_INIT_BYTES - 32, true, &from), 0);
	/* the cookie is bound to the source endpoint */
	from.port++;
	ck_assert_int_eq(zt_noise_check_macs(&lb, init, sizeof(init), ZT_HS_INIT_BYTES - 32, true, &from), ZT_EAGAIN);
}
END_TEST

static void fixed_keys(struct zt_hs_keys *k, int cipher)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < 32; i++) {
		k->send[i] = (uint8_t)(i + 1);
		k->recv[i] = (uint8_t)(i + 1);
	}
	k->cipher = cipher;
	k->local_index = 0x01020304;
	k->remote_index = 0x0a0b0c0d;
}

/* The vector file: one line per cipher, "<name> <hex packet>", frozen from this code. */
static void check_vector(const char *name, const uint8_t *pkt, size_t len)
{
	FILE *f = fopen("tests/vectors/session.txt", "r");
	char line[1024], hex[1024];
	bool found = false;

	ck_assert_ptr_nonnull(f);
	zt_hex_encode(hex, pkt, len);
	while (fgets(line, sizeof(line), f)) {
		char n[64], v[1000];
		if (line[0] == '#' || sscanf(line, "%63s %999s", n, v) != 2 || strcmp(n, name) != 0)
			continue;
		found = true;
		ck_assert_str_eq(v, hex);
	}
	fclose(f);
	ck_assert_msg(found, "no vector %s (computed %s)", name, hex);
}

static void seal_vector(int cipher, const char *name)
{
	static const char msg[] = "zt packet sealing vector";
	struct zt_hs_keys k;
	struct zt_keypair *tx, *rx;
	uint8_t pkt[128], copy[128], *out;
	size_t out_len;
	int len;

	fixed_keys(&k, cipher);
	ck_assert_int_eq(zt_keypair_new(&tx, &k, NULL, 0), 0);
	ck_assert_int_eq(zt_keypair_new(&rx, &k, NULL, 0), 0);
	tx->send_counter = 5;
	len = zt_session_seal(tx, 0x1122334455ULL, 0x6677889900ULL, (const uint8_t *)msg, sizeof(msg) - 1, pkt,
			      sizeof(pkt));
	ck_assert_int_eq(len, (int)(sizeof(msg) - 1 + ZT_DATA_OVERHEAD));
	check_vector(name, pkt, (size_t)len);
	memcpy(copy, pkt, (size_t)len);
	ck_assert_int_eq(zt_session_open(rx, copy, (size_t)len, 1, &out, &out_len), 0);
	ck_assert_uint_eq(out_len, sizeof(msg) - 1);
	ck_assert(memcmp(out, msg, out_len) == 0);
	/* replay */
	memcpy(copy, pkt, (size_t)len);
	ck_assert_int_eq(zt_session_open(rx, copy, (size_t)len, 1, &out, &out_len), ZT_EREPLAY);
	/* the hop count may change in transit; anything else may not */
	for (int i = 0; i < len; i++) {
		memcpy(copy, pkt, (size_t)len);
		copy[i] ^= 0x80;
		tx->send_counter = 0;
		int rc = zt_session_open(rx, copy, (size_t)len, 1, &out, &out_len);
		if (i == 2)
			ck_assert_int_eq(rc, ZT_EREPLAY); /* authenticates, but counter 5 was seen */
		else
			ck_assert_int_ne(rc, 0);
	}
	zt_keypair_free(tx);
	zt_keypair_free(rx);
}

START_TEST(test_seal_vectors)
{
	seal_vector(ZT_CIPHER_CHACHA20_POLY1305, "chacha20-poly1305");
	seal_vector(ZT_CIPHER_AES_256_GCM, "aes-256-gcm");
}
END_TEST

START_TEST(test_keys_expire)
{
	struct zt_hs_keys k;
	struct zt_keypair *kp;

	fixed_keys(&k, ZT_CIPHER_CHACHA20_POLY1305);
	ck_assert_int_eq(zt_keypair_new(&kp, &k, NULL, 1000), 0);
	ck_assert(zt_keypair_can_send(kp, 1000 + ZT_REJECT_AFTER_MS - 1));
	ck_assert(!zt_keypair_can_send(kp, 1000 + ZT_REJECT_AFTER_MS));
	kp->send_counter = ZT_REJECT_AFTER_MESSAGES;
	ck_assert(!zt_keypair_can_send(kp, 1000));
	zt_keypair_free(kp);
}
END_TEST

static Suite *session_suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("session");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_handshake_gives_matching_keys);
	tcase_add_test(tc, test_tampered_init_refused_at_every_byte);
	tcase_add_test(tc, test_cookie_round_trip_unlocks_init);
	tcase_add_test(tc, test_seal_vectors);
	tcase_add_test(tc, test_keys_expire);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(session_suite)
