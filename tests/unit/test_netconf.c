/*
 * test_netconf.c - the signed network config, membership certificate and
 * revocation record: round trips, signatures, every tampered byte and every
 * truncation rejected, bounds enforced, certificate agreement and revocation.
 */
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "netconf.h"

static struct zt_identity ctl, other;
static bool ids_ready;

/* Deterministic "random" bytes: a splitmix64 stream. */
static void test_random(void *ctx, void *buf, size_t len)
{
	uint64_t *state = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		p[i] = (uint8_t)(z ^ (z >> 31));
	}
}

static void setup_ids(void)
{
	uint64_t seed = 42;

	if (ids_ready)
		return;
	ck_assert_int_eq(zt_identity_generate(&ctl, test_random, &seed), 0);
	ck_assert_int_eq(zt_identity_generate(&other, test_random, &seed), 0);
	ids_ready = true;
}

static uint64_t nwid(void)
{
	return ctl.address << 24 | 0x00abcd;
}

static void set_ip(struct zt_netconf_ip *ip, uint8_t family, const uint8_t *addr, uint8_t prefix)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	memcpy(ip->addr, addr, family == 4 ? 4 : 16);
	ip->prefix_len = prefix;
}

/* A config with every field in use (rules_len bytes of rules). */
static struct zt_netconf *full_config(size_t rules_len)
{
	static const uint8_t v4[4] = {10, 147, 17, 5}, v4net[4] = {10, 147, 17, 0}, gw[4] = {10, 147, 17, 1};
	static const uint8_t v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
	static const uint8_t dns[4] = {10, 147, 17, 53};
	struct zt_netconf *nc = malloc(sizeof(*nc));

	ck_assert_ptr_nonnull(nc);
	zt_netconf_init(nc, nwid(), 0x1122334455ULL);
	nc->revision = 7;
	nc->issued_ms = 1700000000000ULL;
	strcpy(nc->name, "office lan");
	nc->bridge = true;
	nc->multicast_limit = 64;
	set_ip(&nc->ips[nc->n_ips++], 4, v4, 24);
	set_ip(&nc->ips[nc->n_ips++], 6, v6, 64);
	set_ip(&nc->routes[0].target, 4, v4net, 24);
	set_ip(&nc->routes[1].target, 4, (const uint8_t[4]){192, 168, 0, 0}, 16);
	nc->routes[1].via_family = 4;
	memcpy(nc->routes[1].via, gw, 4);
	nc->n_routes = 2;
	strcpy(nc->dns_domain, "corp.example");
	set_ip(&nc->dns_servers[nc->n_dns_servers++], 4, dns, 32);
	nc->tags[0] = (struct zt_netconf_tag){1, 100};
	nc->tags[1] = (struct zt_netconf_tag){9, 2};
	nc->n_tags = 2;
	nc->caps[0].id = 3;
	strcpy(nc->caps[0].name, "superuser");
	nc->n_caps = 1;
	for (size_t i = 0; i < rules_len; i++)
		nc->rules[i] = (uint8_t)(i * 7 + 1);
	nc->rules_len = (uint16_t)rules_len;
	return nc;
}

static uint8_t *sign_config(struct zt_netconf *nc, size_t *len)
{
	uint8_t *buf = malloc(ZT_NETCONF_MAX_BYTES);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, len), 0);
	return buf;
}

START_TEST(config_round_trip_is_byte_identical)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	uint8_t *buf, *again = malloc(ZT_NETCONF_MAX_BYTES);
	size_t len, len2;

	setup_ids();
	nc = full_config(100);
	buf = sign_config(nc, &len);
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &ctl), 0);
	ck_assert_uint_eq(back->network_id, nwid());
	ck_assert_uint_eq(back->member, 0x1122334455ULL);
	ck_assert_uint_eq(back->revision, 7);
	ck_assert_str_eq(back->name, "office lan");
	ck_assert(back->is_private && back->enable_broadcast && back->bridge);
	ck_assert_uint_eq(back->mtu, ZT_NETCONF_MTU_DEFAULT);
	ck_assert_uint_eq(back->multicast_limit, 64);
	ck_assert_uint_eq(back->n_ips, 2);
	ck_assert_uint_eq(back->ips[1].family, 6);
	ck_assert_uint_eq(back->ips[1].prefix_len, 64);
	ck_assert_uint_eq(back->n_routes, 2);
	ck_assert_uint_eq(back->routes[1].via_family, 4);
	ck_assert_str_eq(back->dns_domain, "corp.example");
	ck_assert_uint_eq(back->n_dns_servers, 1);
	ck_assert_uint_eq(back->tags[1].id, 9);
	ck_assert_str_eq(back->caps[0].name, "superuser");
	ck_assert_uint_eq(back->rules_len, 100);
	ck_assert_mem_eq(back->rules, nc->rules, 100);
	ck_assert_uint_eq(back->com.issued_ms, nc->issued_ms);
	ck_assert_int_eq(zt_com_verify(&back->com, &ctl), 0);
	ck_assert_int_eq(zt_netconf_encode(back, again, ZT_NETCONF_MAX_BYTES, &len2), 0);
	ck_assert_uint_eq(len, len2);
	ck_assert_mem_eq(buf, again, len);
	free(nc);
	free(back);
	free(buf);
	free(again);
}
END_TEST

START_TEST(config_at_every_maximum_round_trips)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	uint8_t *buf;
	size_t len;

	setup_ids();
	nc = full_config(ZT_NETCONF_RULES_MAX);
	memset(nc->name, 'n', ZT_NETCONF_NAME_MAX);
	nc->name[ZT_NETCONF_NAME_MAX] = '\0';
	memset(nc->dns_domain, 'd', ZT_NETCONF_DNS_DOMAIN_MAX);
	nc->dns_domain[ZT_NETCONF_DNS_DOMAIN_MAX] = '\0';
	nc->mtu = ZT_NETCONF_MTU_MAX;
	for (int i = 0; i < ZT_NETCONF_IPS_MAX; i++)
		set_ip(&nc->ips[i], 6, (const uint8_t[16]){0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)i}, 128);
	nc->n_ips = ZT_NETCONF_IPS_MAX;
	for (int i = 0; i < ZT_NETCONF_ROUTES_MAX; i++) {
		set_ip(&nc->routes[i].target, 6, (const uint8_t[16]){0xfd, (uint8_t)i}, 16);
		nc->routes[i].via_family = 6;
		memset(nc->routes[i].via, 0, 16);
		nc->routes[i].via[0] = 0xfd;
		nc->routes[i].via[15] = 1;
	}
	nc->n_routes = ZT_NETCONF_ROUTES_MAX;
	for (int i = 0; i < ZT_NETCONF_DNS_SERVERS_MAX; i++)
		set_ip(&nc->dns_servers[i], 6, (const uint8_t[16]){0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (uint8_t)i}, 128);
	nc->n_dns_servers = ZT_NETCONF_DNS_SERVERS_MAX;
	for (int i = 0; i < ZT_NETCONF_TAGS_MAX; i++)
		nc->tags[i] = (struct zt_netconf_tag){(uint32_t)i, (uint32_t)i};
	nc->n_tags = ZT_NETCONF_TAGS_MAX;
	for (int i = 0; i < ZT_NETCONF_CAPS_MAX; i++) {
		nc->caps[i].id = (uint32_t)i;
		memset(nc->caps[i].name, 'c', ZT_NETCONF_CAP_NAME_MAX);
		nc->caps[i].name[ZT_NETCONF_CAP_NAME_MAX] = '\0';
	}
	nc->n_caps = ZT_NETCONF_CAPS_MAX;
	buf = sign_config(nc, &len);
	ck_assert_uint_eq(len, ZT_NETCONF_MAX_BYTES);
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &ctl), 0);
	ck_assert_uint_eq(back->n_caps, ZT_NETCONF_CAPS_MAX);
	ck_assert_uint_eq(back->rules_len, ZT_NETCONF_RULES_MAX);
	free(nc);
	free(back);
	free(buf);
}
END_TEST

START_TEST(config_any_flipped_bit_is_rejected)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	uint8_t *buf;
	size_t len;

	setup_ids();
	nc = full_config(40);
	buf = sign_config(nc, &len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (uint8_t)(1 << bit);
			ck_assert_msg(zt_netconf_decode(back, buf, len, &ctl) != 0, "byte %zu bit %d accepted", i, bit);
			buf[i] ^= (uint8_t)(1 << bit);
		}
	}
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &ctl), 0);
	free(nc);
	free(back);
	free(buf);
}
END_TEST

START_TEST(config_truncated_or_extended_is_rejected)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	uint8_t *buf;
	size_t len;

	setup_ids();
	nc = full_config(40);
	buf = sign_config(nc, &len);
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(zt_netconf_decode(back, buf, i, &ctl) != 0, "truncated to %zu accepted", i);
	buf[len] = 0;
	ck_assert_int_ne(zt_netconf_decode(back, buf, len + 1, &ctl), 0);
	free(nc);
	free(back);
	free(buf);
}
END_TEST

START_TEST(config_wrong_signer_or_owner_is_rejected)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	struct zt_identity impostor;
	uint8_t *buf;
	size_t len;

	setup_ids();
	nc = full_config(10);
	buf = sign_config(nc, &len);
	/* other does not own the network */
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &other), ZT_EAUTH);
	/* the right address with other's keys: signature fails */
	zt_identity_public(&impostor, &other);
	impostor.address = ctl.address;
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &impostor), ZT_EAUTH);
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, NULL), ZT_EAUTH);
	/* other cannot sign a network it does not own */
	ck_assert_int_eq(zt_netconf_sign(nc, &other, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	free(nc);
	free(back);
	free(buf);
}
END_TEST

START_TEST(config_unknown_version_is_rejected)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	uint8_t *buf;
	size_t len;

	setup_ids();
	nc = full_config(10);
	buf = sign_config(nc, &len);
	buf[0] = 2;
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &ctl), ZT_EVERSION);
	buf[0] = ZT_NETCONF_FORMAT_VERSION;
	buf[1] = ZT_NETCONF_KIND_COM;
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &ctl), ZT_EINVAL);
	free(nc);
	free(back);
	free(buf);
}
END_TEST

/* Offsets of the fixed header: version kind nwid rev issued delta member flags mtu mcast. */
#define OFF_FLAGS (2 + 8 + 8 + 8 + 8 + 5)
#define OFF_MTU (OFF_FLAGS + 1)
#define OFF_NAME_LEN (OFF_MTU + 2 + 4)

START_TEST(config_oversize_fields_are_rejected_on_decode)
{
	struct zt_netconf *nc, *back = malloc(sizeof(*back));
	uint8_t *buf;
	size_t len, name_len;

	setup_ids();
	nc = full_config(10);
	buf = sign_config(nc, &len);
	name_len = strlen(nc->name);
	/* a name length beyond the maximum */
	buf[OFF_NAME_LEN] = 0;
	buf[OFF_NAME_LEN + 1] = ZT_NETCONF_NAME_MAX + 1;
	ck_assert_int_ne(zt_netconf_decode(back, buf, len, &ctl), 0);
	buf[OFF_NAME_LEN + 1] = (uint8_t)name_len;
	/* an address count beyond the maximum */
	buf[OFF_NAME_LEN + 2 + name_len] = ZT_NETCONF_IPS_MAX + 1;
	ck_assert_int_ne(zt_netconf_decode(back, buf, len, &ctl), 0);
	buf[OFF_NAME_LEN + 2 + name_len] = nc->n_ips;
	/* an mtu out of range, unknown flag bits */
	buf[OFF_MTU] = 0xff;
	ck_assert_int_ne(zt_netconf_decode(back, buf, len, &ctl), 0);
	buf[OFF_MTU] = (uint8_t)(nc->mtu >> 8);
	buf[OFF_FLAGS] |= 0x80;
	ck_assert_int_ne(zt_netconf_decode(back, buf, len, &ctl), 0);
	buf[OFF_FLAGS] &= 0x7f;
	ck_assert_int_eq(zt_netconf_decode(back, buf, len, &ctl), 0);
	/* an input longer than any config */
	ck_assert_int_eq(zt_netconf_decode(back, buf, ZT_NETCONF_MAX_BYTES + 1, &ctl), ZT_ETOOBIG);
	free(nc);
	free(back);
	free(buf);
}
END_TEST

START_TEST(config_out_of_bounds_fields_cannot_be_signed)
{
	struct zt_netconf *nc;
	uint8_t *buf = malloc(ZT_NETCONF_MAX_BYTES);
	size_t len;

	setup_ids();
	nc = full_config(10);
	nc->mtu = ZT_NETCONF_MTU_MIN - 1;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->mtu = ZT_NETCONF_MTU_MAX + 1;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->mtu = 1500;
	nc->n_ips = ZT_NETCONF_IPS_MAX + 1;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_ETOOBIG);
	nc->n_ips = 1;
	nc->rules_len = ZT_NETCONF_RULES_MAX + 1;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_ETOOBIG);
	nc->rules_len = 0;
	nc->ips[0].prefix_len = 33;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->ips[0].prefix_len = 24;
	nc->routes[0].target.prefix_len = 8; /* 10.147.17.0/8 has host bits set */
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->routes[0].target.prefix_len = 24;
	nc->tags[1].id = nc->tags[0].id; /* ids must ascend */
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->tags[1].id = 9;
	nc->name[0] = '\n';
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->name[0] = 'o';
	nc->member = 0;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), ZT_EINVAL);
	nc->member = 0x1122334455ULL;
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, 100, &len), ZT_ETOOBIG);
	ck_assert_int_eq(zt_netconf_sign(nc, &ctl, buf, ZT_NETCONF_MAX_BYTES, &len), 0);
	free(nc);
	free(buf);
}
END_TEST

static struct zt_com make_com(uint64_t member, uint64_t issued_ms, uint64_t delta_ms)
{
	struct zt_com com = {.network_id = nwid(), .member = member, .issued_ms = issued_ms,
			     .max_delta_ms = delta_ms, .revision = 3};

	ck_assert_int_eq(zt_com_sign(&com, &ctl), 0);
	return com;
}

START_TEST(com_round_trip_and_tamper)
{
	struct zt_com com, back;
	uint8_t buf[ZT_COM_BYTES];

	setup_ids();
	com = make_com(0x0102030405ULL, 1000000, 60000);
	ck_assert_int_eq(zt_com_encode(&com, buf), 0);
	ck_assert_int_eq(zt_com_decode(&back, buf, sizeof(buf)), 0);
	ck_assert_int_eq(zt_com_verify(&back, &ctl), 0);
	ck_assert_uint_eq(back.member, 0x0102030405ULL);
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x01;
		ck_assert_msg(zt_com_decode(&back, buf, sizeof(buf)) != 0 || zt_com_verify(&back, &ctl) != 0,
			      "byte %zu accepted", i);
		buf[i] ^= 0x01;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_ne(zt_com_decode(&back, buf, i), 0);
	ck_assert_int_eq(zt_com_decode(&back, buf, sizeof(buf) + 1), ZT_ETOOBIG);
	buf[0] = 9;
	ck_assert_int_eq(zt_com_decode(&back, buf, sizeof(buf)), ZT_EVERSION);
	ck_assert_int_eq(zt_com_verify(&com, &other), ZT_EINVAL);
	ck_assert_int_ne(zt_com_sign(&com, &other), 0);
}
END_TEST

START_TEST(com_agreement_follows_the_time_delta)
{
	struct zt_com a, b, far, tight;

	setup_ids();
	a = make_com(0x0102030405ULL, 1000000, 60000);
	b = make_com(0x0a0b0c0d0eULL, 1000000 + 60000, 60000);
	far = make_com(0x0a0b0c0d0eULL, 1000000 + 60001, 60000);
	tight = make_com(0x0a0b0c0d0eULL, 1000000 + 30000, 10000);
	ck_assert(zt_com_agree(&a, &b, &ctl));
	ck_assert(zt_com_agree(&b, &a, &ctl));
	ck_assert(!zt_com_agree(&a, &far, &ctl));
	ck_assert(!zt_com_agree(&far, &a, &ctl));
	/* the smaller delta rules, both ways */
	ck_assert(!zt_com_agree(&a, &tight, &ctl));
	ck_assert(!zt_com_agree(&tight, &a, &ctl));
	/* a forged certificate never agrees */
	b.signature[5] ^= 1;
	ck_assert(!zt_com_agree(&a, &b, &ctl));
	/* different networks never agree */
	b = make_com(0x0a0b0c0d0eULL, 1000000, 60000);
	b.network_id ^= 1;
	ck_assert_int_eq(zt_com_sign(&b, &ctl), 0);
	ck_assert(!zt_com_agree(&a, &b, &ctl));
}
END_TEST

START_TEST(revocation_voids_older_certificates_only)
{
	struct zt_revocation rev = {.member = 0x0102030405ULL, .threshold_ms = 2000000}, back;
	struct zt_com old_com, new_com, other_member;
	uint8_t buf[ZT_REVOCATION_BYTES], com_buf[ZT_COM_BYTES];

	setup_ids();
	rev.network_id = nwid();
	ck_assert_int_eq(zt_revocation_sign(&rev, &ctl), 0);
	ck_assert_int_eq(zt_revocation_encode(&rev, buf), 0);
	ck_assert_int_eq(zt_revocation_decode(&back, buf, sizeof(buf)), 0);
	ck_assert_int_eq(zt_revocation_verify(&back, &ctl), 0);
	old_com = make_com(0x0102030405ULL, 1999999, 60000);
	new_com = make_com(0x0102030405ULL, 2000000, 60000);
	other_member = make_com(0x0a0b0c0d0eULL, 1000000, 60000);
	ck_assert(zt_com_revoked(&old_com, &back));
	ck_assert(!zt_com_revoked(&new_com, &back));
	ck_assert(!zt_com_revoked(&other_member, &back));
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x10;
		ck_assert_msg(zt_revocation_decode(&back, buf, sizeof(buf)) != 0 || zt_revocation_verify(&back, &ctl) != 0,
			      "byte %zu accepted", i);
		buf[i] ^= 0x10;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_ne(zt_revocation_decode(&back, buf, i), 0);
	/* a certificate is not a revocation, whatever its length */
	ck_assert_int_eq(zt_com_encode(&old_com, com_buf), 0);
	ck_assert_int_ne(zt_revocation_decode(&back, com_buf, sizeof(buf)), 0);
	ck_assert_int_ne(zt_revocation_sign(&rev, &other), 0);
}
END_TEST

START_TEST(credential_round_trip_tamper_and_truncation)
{
	struct zt_netconf *nc;

	setup_ids();
	nc = full_config(0);
	{
	struct zt_credential cred, back;
	uint8_t buf[ZT_CREDENTIAL_MAX_BYTES], bad[ZT_CREDENTIAL_MAX_BYTES];
	size_t len = 0;

	ck_assert_int_eq(zt_credential_from_netconf(&cred, nc, &ctl), 0);
	ck_assert_uint_eq(cred.n_tags, nc->n_tags);
	ck_assert_uint_eq(cred.n_caps, nc->n_caps);
	ck_assert_int_eq(zt_credential_encode(&cred, buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(zt_credential_decode(&back, buf, len), 0);
	ck_assert_int_eq(zt_credential_verify(&back, &ctl), 0);
	ck_assert_uint_eq(back.member, nc->member);
	ck_assert_int_eq(memcmp(back.tags, nc->tags, sizeof(back.tags[0]) * back.n_tags), 0);
	for (unsigned i = 0; i < back.n_caps; i++)
		ck_assert_str_eq(back.caps[i], nc->caps[i].name);
	/* another key, any flipped byte, any truncation: refused */
	ck_assert_int_ne(zt_credential_verify(&back, &other), 0);
	for (size_t i = 0; i < len; i++) {
		memcpy(bad, buf, len);
		bad[i] ^= 0x01;
		ck_assert(zt_credential_decode(&back, bad, len) != 0 || zt_credential_verify(&back, &ctl) != 0);
	}
	for (size_t i = 0; i < len; i++)
		ck_assert_int_ne(zt_credential_decode(&back, buf, i), 0);
	/* only the network's controller can issue one */
	ck_assert_int_ne(zt_credential_from_netconf(&cred, nc, &other), 0);
	}
	free(nc);
}
END_TEST

static Suite *netconf_suite(void)
{
	Suite *s = suite_create("netconf");
	TCase *tc = tcase_create("netconf");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, config_round_trip_is_byte_identical);
	tcase_add_test(tc, credential_round_trip_tamper_and_truncation);
	tcase_add_test(tc, config_at_every_maximum_round_trips);
	tcase_add_test(tc, config_any_flipped_bit_is_rejected);
	tcase_add_test(tc, config_truncated_or_extended_is_rejected);
	tcase_add_test(tc, config_wrong_signer_or_owner_is_rejected);
	tcase_add_test(tc, config_unknown_version_is_rejected);
	tcase_add_test(tc, config_oversize_fields_are_rejected_on_decode);
	tcase_add_test(tc, config_out_of_bounds_fields_cannot_be_signed);
	tcase_add_test(tc, com_round_trip_and_tamper);
	tcase_add_test(tc, com_agreement_follows_the_time_delta);
	tcase_add_test(tc, revocation_voids_older_certificates_only);
	suite_add_tcase(s, tc);
	return s;
}

ZT_CHECK_MAIN(netconf_suite)
