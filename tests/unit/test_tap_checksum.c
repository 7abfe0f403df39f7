/*
 * test_tap_checksum.c - zt_port_complete_checksum: frames whose TCP/UDP
 * checksum verifies are left alone; frames carrying only the pseudo-header
 * sum (what a veth with checksum offload hands a packet socket) are completed
 * to the checksum an independent computation gives; other frames untouched.
 */
#include "check_main.h"
#include "tap/port.h"

#include <string.h>

/* A reference one's-complement checksum over pseudo-header + segment. */
static uint16_t reference(const uint8_t *pseudo, size_t plen, const uint8_t *seg, size_t slen, size_t csum_off)
{
	uint32_t acc = 0;
	size_t i;

	for (i = 0; i + 1 < plen; i += 2)
		acc += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	for (i = 0; i < slen; i += 2) {
		uint8_t hi = (i == csum_off) ? 0 : seg[i];
		uint8_t lo = (i + 1 < slen) ? ((i + 1 == csum_off + 1) ? 0 : seg[i + 1]) : 0;
		acc += (uint32_t)(hi << 8 | lo);
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static size_t udp4_frame(uint8_t *f, size_t payload)
{
	memset(f, 0, 14 + 20 + 8 + payload);
	f[12] = 0x08, f[13] = 0x00;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + 8 + payload) >> 8), f[17] = (uint8_t)(20 + 8 + payload);
	f[22] = 64, f[23] = 17;
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	f[34] = 0x00, f[35] = 67, f[36] = 0x00, f[37] = 68;
	f[38] = (uint8_t)((8 + payload) >> 8), f[39] = (uint8_t)(8 + payload);
	for (size_t i = 0; i < payload; i++)
		f[42 + i] = (uint8_t)(i * 13 + 1);
	return 42 + payload;
}

static uint16_t udp4_reference(const uint8_t *f, size_t payload)
{
	uint8_t pseudo[12];

	memcpy(pseudo, f + 26, 8);
	pseudo[8] = 0, pseudo[9] = 17;
	pseudo[10] = (uint8_t)((8 + payload) >> 8), pseudo[11] = (uint8_t)(8 + payload);
	return reference(pseudo, 12, f + 34, 8 + payload, 6);
}

START_TEST(test_udp4_partial_checksum_is_completed)
{
	uint8_t f[600];
	size_t len = udp4_frame(f, 301); /* odd length on purpose */
	uint16_t want = udp4_reference(f, 301), partial = 0x1234;

	f[40] = (uint8_t)(partial >> 8), f[41] = (uint8_t)partial;
	ck_assert(zt_port_complete_checksum(f, len));
	ck_assert_uint_eq((uint16_t)(f[40] << 8 | f[41]), want);
	/* now it verifies: a second pass changes nothing */
	ck_assert(!zt_port_complete_checksum(f, len));
	ck_assert_uint_eq((uint16_t)(f[40] << 8 | f[41]), want);
}
END_TEST

START_TEST(test_udp4_without_checksum_and_fragments_left_alone)
{
	uint8_t f[600], copy[600];
	size_t len = udp4_frame(f, 100);

	memcpy(copy, f, len);
	ck_assert(!zt_port_complete_checksum(f, len)); /* checksum 0: none */
	ck_assert(memcmp(f, copy, len) == 0);
	f[40] = 0x55;
	f[20] = 0x20; /* more fragments */
	memcpy(copy, f, len);
	ck_assert(!zt_port_complete_checksum(f, len));
	ck_assert(memcmp(f, copy, len) == 0);
	/* truncated headers and non-IP frames */
	ck_assert(!zt_port_complete_checksum(f, 30));
	f[12] = 0x08, f[13] = 0x06;
	ck_assert(!zt_port_complete_checksum(f, len));
}
END_TEST

START_TEST(test_tcp6_partial_checksum_is_completed)
{
	uint8_t f[200] = {0}, pseudo[40] = {0};
	size_t seg = 20 + 33, len = 14 + 40 + seg;
	uint16_t want;

	f[12] = 0x86, f[13] = 0xdd;
	f[14] = 0x60;
	f[18] = 0, f[19] = (uint8_t)seg;
	f[20] = 6, f[21] = 64;
	for (int i = 0; i < 32; i++)
		f[22 + i] = (uint8_t)(0xfd + i);
	f[54] = 0x04, f[55] = 0xd2, f[56] = 0x00, f[57] = 22;
	f[66] = 0x50, f[67] = 0x18;
	for (size_t i = 20; i < seg; i++)
		f[54 + i] = (uint8_t)(i * 7);
	memcpy(pseudo, f + 22, 32);
	pseudo[35] = (uint8_t)seg;
	pseudo[39] = 6;
	want = reference(pseudo, 40, f + 54, seg, 16);
	f[70] = 0xab, f[71] = 0xcd;
	ck_assert(zt_port_complete_checksum(f, len));
	ck_assert_uint_eq((uint16_t)(f[70] << 8 | f[71]), want);
}
END_TEST

static Suite *checksum_suite(void)
{
	Suite *s = suite_create("tap_checksum");
	TCase *tc = tcase_create("checksum");

	tcase_add_test(tc, test_udp4_partial_checksum_is_completed);
	tcase_add_test(tc, test_udp4_without_checksum_and_fragments_left_alone);
	tcase_add_test(tc, test_tcp6_partial_checksum_is_completed);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(checksum_suite)
