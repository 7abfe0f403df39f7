/*
 * netconf.c - encoding, decoding, signing and verifying the network config,
 * the membership certificate and the revocation record. Owns their byte
 * layouts (NETCONF.md); does not decide who is a member (controller/) nor
 * when certificates are exchanged (the network layer).
 */
#include "netconf.h"

#include "base/wire.h"

#include <stdio.h>
#include <string.h>

#define FLAG_PRIVATE 0x01
#define FLAG_BROADCAST 0x02
#define FLAG_BRIDGE 0x04
#define FLAGS_KNOWN (FLAG_PRIVATE | FLAG_BROADCAST | FLAG_BRIDGE)

static size_t ip_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

static bool zero_bytes(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool member_ok(uint64_t member)
{
	return member <= ZT_ADDR_MASK && !zt_address_reserved(member);
}

static bool network_ok(uint64_t nwid)
{
	return member_ok(ZT_NWID_CONTROLLER(nwid));
}

/* Family 4 or 6, prefix within the family, unused bytes zero (canonical). */
static bool ip_ok(const struct zt_netconf_ip *ip)
{
	if (ip->family != 4 && ip->family != 6)
		return false;
	if (ip->prefix_len > ip_len(ip->family) * 8)
		return false;
	return zero_bytes(ip->addr + ip_len(ip->family), 16 - ip_len(ip->family));
}

static bool host_bits_zero(const struct zt_netconf_ip *ip)
{
	size_t bits = ip_len(ip->family) * 8;

	for (size_t i = ip->prefix_len; i < bits; i++)
		if (ip->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool route_ok(const struct zt_netconf_route *r)
{
	if (!ip_ok(&r->target) || !host_bits_zero(&r->target))
		return false;
	if (r->via_family == 0)
		return zero_bytes(r->via, 16);
	if (r->via_family != r->target.family)
		return false;
	return zero_bytes(r->via + ip_len(r->via_family), 16 - ip_len(r->via_family));
}

/* NUL-terminated within max, printable ASCII or UTF-8 bytes, no controls. */
static bool text_ok(const char *s, size_t max, bool allow_empty)
{
	size_t n = strnlen(s, max + 1);

	if (n > max || (!allow_empty && n == 0))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool domain_ok(const char *s)
{
	size_t n = strnlen(s, ZT_NETCONF_DNS_DOMAIN_MAX + 1);

	if (n > ZT_NETCONF_DNS_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

void zt_netconf_init(struct zt_netconf *nc, uint64_t network_id, uint64_t member)
{
	memset(nc, 0, sizeof(*nc));
	nc->network_id = network_id;
	nc->member = member;
	nc->max_delta_ms = ZT_NETCONF_MAX_DELTA_DEFAULT_MS;
	nc->is_private = true;
	nc->enable_broadcast = true;
	nc->mtu = ZT_NETCONF_MTU_DEFAULT;
	nc->multicast_limit = ZT_NETCONF_MULTICAST_LIMIT_DEFAULT;
}

static int check_lists(const struct zt_netconf *nc)
{
	if (nc->n_ips > ZT_NETCONF_IPS_MAX || nc->n_routes > ZT_NETCONF_ROUTES_MAX ||
	    nc->n_dns_servers > ZT_NETCONF_DNS_SERVERS_MAX || nc->n_tags > ZT_NETCONF_TAGS_MAX ||
	    nc->n_caps > ZT_NETCONF_CAPS_MAX || nc->rules_len > ZT_NETCONF_RULES_MAX)
		return ZT_ETOOBIG;
	for (size_t i = 0; i < nc->n_ips; i++)
		if (!ip_ok(&nc->ips[i]))
			return ZT_EINVAL;
	for (size_t i = 0; i < nc->n_routes; i++)
		if (!route_ok(&nc->routes[i]))
			return ZT_EINVAL;
	for (size_t i = 0; i < nc->n_dns_servers; i++) {
		const struct zt_netconf_ip *s = &nc->dns_servers[i];
		if (!ip_ok(s) || s->prefix_len != ip_len(s->family) * 8)
			return ZT_EINVAL;
	}
	for (size_t i = 1; i < nc->n_tags; i++)
		if (nc->tags[i].id <= nc->tags[i - 1].id)
			return ZT_EINVAL;
	for (size_t i = 0; i < nc->n_caps; i++) {
		if (i > 0 && nc->caps[i].id <= nc->caps[i - 1].id)
			return ZT_EINVAL;
		if (!text_ok(nc->caps[i].name, ZT_NETCONF_CAP_NAME_MAX, false))
			return ZT_EINVAL;
	}
	return 0;
}

int zt_netconf_check(const struct zt_netconf *nc)
{
	if (!network_ok(nc->network_id) || !member_ok(nc->member))
		return ZT_EINVAL;
	if (nc->mtu < ZT_NETCONF_MTU_MIN || nc->mtu > ZT_NETCONF_MTU_MAX)
		return ZT_EINVAL;
	if (nc->multicast_limit > ZT_NETCONF_MULTICAST_LIMIT_MAX)
		return ZT_EINVAL;
	if (!text_ok(nc->name, ZT_NETCONF_NAME_MAX, true) || !domain_ok(nc->dns_domain))
		return ZT_EINVAL;
	return check_lists(nc);
}

/* ---- membership certificate ---- */

static void com_write_body(struct zt_wr *w, const struct zt_com *com)
{
	zt_wr_u8(w, ZT_NETCONF_FORMAT_VERSION);
	zt_wr_u8(w, ZT_NETCONF_KIND_COM);
	zt_wr_be64(w, com->network_id);
	zt_wr_beN(w, com->member, ZT_ADDR_BYTES);
	zt_wr_be64(w, com->issued_ms);
	zt_wr_be64(w, com->max_delta_ms);
	zt_wr_be64(w, com->revision);
	zt_wr_u8(w, com->flags);
}

static bool com_fields_ok(const struct zt_com *com)
{
	return network_ok(com->network_id) && member_ok(com->member);
}

static bool controller_owns(const struct zt_identity *controller, uint64_t nwid)
{
	return controller && controller->address == ZT_NWID_CONTROLLER(nwid);
}

int zt_com_sign(struct zt_com *com, const struct zt_identity *controller)
{
	uint8_t buf[ZT_COM_BYTES];
	struct zt_wr w;

	if (!com_fields_ok(com) || !controller_owns(controller, com->network_id) || !controller->has_secret)
		return ZT_EINVAL;
	zt_wr_init(&w, buf, sizeof(buf));
	com_write_body(&w, com);
	if (w.err)
		return ZT_EINVAL;
	return zt_identity_sign(controller, buf, w.len, com->signature);
}

int zt_com_encode(const struct zt_com *com, uint8_t out[ZT_COM_BYTES])
{
	struct zt_wr w;

	if (!com_fields_ok(com))
		return ZT_EINVAL;
	zt_wr_init(&w, out, ZT_COM_BYTES);
	com_write_body(&w, com);
	zt_wr_bytes(&w, com->signature, ZT_SIGNATURE_BYTES);
	return w.err || w.len != ZT_COM_BYTES ? ZT_EINVAL : 0;
}

/* Reads one certificate from r (fixed size); r->err on any bad byte. */
static void com_read(struct zt_rd *r, struct zt_com *com, int *why)
{
	uint8_t version = zt_rd_u8(r);
	uint8_t kind = zt_rd_u8(r);

	com->network_id = zt_rd_be64(r);
	com->member = zt_rd_beN(r, ZT_ADDR_BYTES);
	com->issued_ms = zt_rd_be64(r);
	com->max_delta_ms = zt_rd_be64(r);
	com->revision = zt_rd_be64(r);
	com->flags = zt_rd_u8(r);
	zt_rd_bytes(r, com->signature, ZT_SIGNATURE_BYTES);
	if (r->err)
		return;
	if (version != ZT_NETCONF_FORMAT_VERSION) {
		*why = ZT_EVERSION;
		r->err = true;
	} else if (kind != ZT_NETCONF_KIND_COM || !com_fields_ok(com) || (com->flags & ~ZT_COM_FLAG_BRIDGE)) {
		*why = ZT_EINVAL;
		r->err = true;
	}
}

int zt_com_decode(struct zt_com *com, const void *buf, size_t len)
{
	struct zt_rd r;
	int why = ZT_ETRUNC;

	memset(com, 0, sizeof(*com));
	if (len > ZT_COM_BYTES)
		return ZT_ETOOBIG;
	zt_rd_init(&r, buf, len);
	com_read(&r, com, &why);
	if (r.err) {
		memset(com, 0, sizeof(*com));
		return why;
	}
	return 0;
}

int zt_com_verify(const struct zt_com *com, const struct zt_identity *controller)
{
	uint8_t buf[ZT_COM_BYTES];
	struct zt_wr w;

	if (!com_fields_ok(com) || !controller_owns(controller, com->network_id))
		return ZT_EINVAL;
	zt_wr_init(&w, buf, sizeof(buf));
	com_write_body(&w, com);
	if (w.err)
		return ZT_EINVAL;
	return zt_identity_verify(controller, buf, w.len, com->signature) ? 0 : ZT_EAUTH;
}

bool zt_com_agree(const struct zt_com *a, const struct zt_com *b, const struct zt_identity *controller)
{
	uint64_t delta, diff;

	if (a->network_id != b->network_id)
		return false;
	if (zt_com_verify(a, controller) != 0 || zt_com_verify(b, controller) != 0)
		return false;
	delta = ZT_MIN(a->max_delta_ms, b->max_delta_ms);
	diff = a->issued_ms > b->issued_ms ? a->issued_ms - b->issued_ms : b->issued_ms - a->issued_ms;
	return diff <= delta;
}

/* ---- revocation ---- */

static void rev_write_body(struct zt_wr *w, const struct zt_revocation *rev)
{
	zt_wr_u8(w, ZT_NETCONF_FORMAT_VERSION);
	zt_wr_u8(w, ZT_NETCONF_KIND_REVOCATION);
	zt_wr_be64(w, rev->network_id);
	zt_wr_beN(w, rev->member, ZT_ADDR_BYTES);
	zt_wr_be64(w, rev->threshold_ms);
}

static bool rev_fields_ok(const struct zt_revocation *rev)
{
	return network_ok(rev->network_id) && member_ok(rev->member);
}

int zt_revocation_sign(struct zt_revocation *rev, const struct zt_identity *controller)
{
	uint8_t buf[ZT_REVOCATION_BYTES];
	struct zt_wr w;

	if (!rev_fields_ok(rev) || !controller_owns(controller, rev->network_id) || !controller->has_secret)
		return ZT_EINVAL;
	zt_wr_init(&w, buf, sizeof(buf));
	rev_write_body(&w, rev);
	if (w.err)
		return ZT_EINVAL;
	return zt_identity_sign(controller, buf, w.len, rev->signature);
}

int zt_revocation_encode(const struct zt_revocation *rev, uint8_t out[ZT_REVOCATION_BYTES])
{
	struct zt_wr w;

	if (!rev_fields_ok(rev))
		return ZT_EINVAL;
	zt_wr_init(&w, out, ZT_REVOCATION_BYTES);
	rev_write_body(&w, rev);
	zt_wr_bytes(&w, rev->signature, ZT_SIGNATURE_BYTES);
	return w.err || w.len != ZT_REVOCATION_BYTES ? ZT_EINVAL : 0;
}

int zt_revocation_decode(struct zt_revocation *rev, const void *buf, size_t len)
{
	struct zt_rd r;
	uint8_t version, kind;

	memset(rev, 0, sizeof(*rev));
	if (len > ZT_REVOCATION_BYTES)
		return ZT_ETOOBIG;
	zt_rd_init(&r, buf, len);
	version = zt_rd_u8(&r);
	kind = zt_rd_u8(&r);
	rev->network_id = zt_rd_be64(&r);
	rev->member = zt_rd_beN(&r, ZT_ADDR_BYTES);
	rev->threshold_ms = zt_rd_be64(&r);
	zt_rd_bytes(&r, rev->signature, ZT_SIGNATURE_BYTES);
	if (r.err) {
		memset(rev, 0, sizeof(*rev));
		return ZT_ETRUNC;
	}
	if (version != ZT_NETCONF_FORMAT_VERSION) {
		memset(rev, 0, sizeof(*rev));
		return ZT_EVERSION;
	}
	if (kind != ZT_NETCONF_KIND_REVOCATION || !rev_fields_ok(rev)) {
		memset(rev, 0, sizeof(*rev));
		return ZT_EINVAL;
	}
	return 0;
}

int zt_revocation_verify(const struct zt_revocation *rev, const struct zt_identity *controller)
{
	uint8_t buf[ZT_REVOCATION_BYTES];
	struct zt_wr w;

	if (!rev_fields_ok(rev) || !controller_owns(controller, rev->network_id))
		return ZT_EINVAL;
	zt_wr_init(&w, buf, sizeof(buf));
	rev_write_body(&w, rev);
	if (w.err)
		return ZT_EINVAL;
	return zt_identity_verify(controller, buf, w.len, rev->signature) ? 0 : ZT_EAUTH;
}

bool zt_com_revoked(const struct zt_com *com, const struct zt_revocation *rev)
{
	return com->network_id == rev->network_id && com->member == rev->member &&
	       com->issued_ms < rev->threshold_ms;
}

/* ---- network config ---- */

static void ip_write(struct zt_wr *w, const struct zt_netconf_ip *ip, bool with_prefix)
{
	zt_wr_u8(w, ip->family);
	zt_wr_bytes(w, ip->addr, ip_len(ip->family));
	if (with_prefix)
		zt_wr_u8(w, ip->prefix_len);
}

static void text_write(struct zt_wr *w, const char *s)
{
	zt_wr_lv16(w, s, strlen(s));
}

static void lists_write(struct zt_wr *w, const struct zt_netconf *nc)
{
	zt_wr_u8(w, nc->n_ips);
	for (size_t i = 0; i < nc->n_ips; i++)
		ip_write(w, &nc->ips[i], true);
	zt_wr_u8(w, nc->n_routes);
	for (size_t i = 0; i < nc->n_routes; i++) {
		const struct zt_netconf_route *r = &nc->routes[i];
		ip_write(w, &r->target, true);
		zt_wr_u8(w, r->via_family);
		if (r->via_family)
			zt_wr_bytes(w, r->via, ip_len(r->via_family));
	}
	text_write(w, nc->dns_domain);
	zt_wr_u8(w, nc->n_dns_servers);
	for (size_t i = 0; i < nc->n_dns_servers; i++)
		ip_write(w, &nc->dns_servers[i], false);
	zt_wr_u8(w, nc->n_tags);
	for (size_t i = 0; i < nc->n_tags; i++) {
		zt_wr_be32(w, nc->tags[i].id);
		zt_wr_be32(w, nc->tags[i].value);
	}
	zt_wr_u8(w, nc->n_caps);
	for (size_t i = 0; i < nc->n_caps; i++) {
		zt_wr_be32(w, nc->caps[i].id);
		text_write(w, nc->caps[i].name);
	}
	zt_wr_lv16(w, nc->rules, nc->rules_len);
}

static void body_write(struct zt_wr *w, const struct zt_netconf *nc)
{
	uint8_t com[ZT_COM_BYTES];
	uint8_t flags = 0;

	if (nc->is_private)
		flags |= FLAG_PRIVATE;
	if (nc->enable_broadcast)
		flags |= FLAG_BROADCAST;
	if (nc->bridge)
		flags |= FLAG_BRIDGE;
	zt_wr_u8(w, ZT_NETCONF_FORMAT_VERSION);
	zt_wr_u8(w, ZT_NETCONF_KIND_CONFIG);
	zt_wr_be64(w, nc->network_id);
	zt_wr_be64(w, nc->revision);
	zt_wr_be64(w, nc->issued_ms);
	zt_wr_be64(w, nc->max_delta_ms);
	zt_wr_beN(w, nc->member, ZT_ADDR_BYTES);
	zt_wr_u8(w, flags);
	zt_wr_be16(w, nc->mtu);
	zt_wr_be32(w, nc->multicast_limit);
	text_write(w, nc->name);
	lists_write(w, nc);
	if (zt_com_encode(&nc->com, com) != 0) {
		w->err = true;
		return;
	}
	zt_wr_bytes(w, com, sizeof(com));
}

static bool com_matches(const struct zt_netconf *nc)
{
	const struct zt_com *c = &nc->com;

	return c->network_id == nc->network_id && c->member == nc->member && c->issued_ms == nc->issued_ms &&
	       c->max_delta_ms == nc->max_delta_ms && c->revision == nc->revision &&
	       c->flags == (nc->bridge ? ZT_COM_FLAG_BRIDGE : 0);
}

int zt_netconf_sign(struct zt_netconf *nc, const struct zt_identity *controller, uint8_t *out,
		    size_t cap, size_t *out_len)
{
	struct zt_wr w;
	uint8_t *sig;
	int rc;

	rc = zt_netconf_check(nc);
	if (rc != 0)
		return rc;
	if (!controller_owns(controller, nc->network_id) || !controller->has_secret)
		return ZT_EINVAL;
	nc->com.network_id = nc->network_id;
	nc->com.member = nc->member;
	nc->com.flags = nc->bridge ? ZT_COM_FLAG_BRIDGE : 0;
	nc->com.issued_ms = nc->issued_ms;
	nc->com.max_delta_ms = nc->max_delta_ms;
	nc->com.revision = nc->revision;
	rc = zt_com_sign(&nc->com, controller);
	if (rc != 0)
		return rc;
	zt_wr_init(&w, out, cap);
	body_write(&w, nc);
	sig = zt_wr_reserve(&w, ZT_SIGNATURE_BYTES);
	if (w.err || !sig)
		return ZT_ETOOBIG;
	rc = zt_identity_sign(controller, out, w.len - ZT_SIGNATURE_BYTES, sig);
	if (rc != 0)
		return rc;
	memcpy(nc->signature, sig, ZT_SIGNATURE_BYTES);
	*out_len = w.len;
	return 0;
}

int zt_netconf_encode(const struct zt_netconf *nc, uint8_t *out, size_t cap, size_t *out_len)
{
	struct zt_wr w;
	int rc;

	rc = zt_netconf_check(nc);
	if (rc != 0)
		return rc;
	if (!com_matches(nc))
		return ZT_EINVAL;
	zt_wr_init(&w, out, cap);
	body_write(&w, nc);
	zt_wr_bytes(&w, nc->signature, ZT_SIGNATURE_BYTES);
	if (w.err)
		return ZT_ETOOBIG;
	*out_len = w.len;
	return 0;
}

/* A length-prefixed text field into a NUL-terminated buffer of max+1 bytes. */
static void text_read(struct zt_rd *r, char *out, size_t max)
{
	size_t n;
	const uint8_t *p = zt_rd_lv16(r, max, &n);

	out[0] = '\0';
	if (!p)
		return;
	if (memchr(p, 0, n)) {
		r->err = true;
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

static void ip_read(struct zt_rd *r, struct zt_netconf_ip *ip, bool with_prefix)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = zt_rd_u8(r);
	if (ip->family != 4 && ip->family != 6) {
		r->err = true;
		return;
	}
	zt_rd_bytes(r, ip->addr, ip_len(ip->family));
	ip->prefix_len = with_prefix ? zt_rd_u8(r) : (uint8_t)(ip_len(ip->family) * 8);
}

/* A list count, bounded before it sizes anything. */
static uint8_t count_read(struct zt_rd *r, size_t max)
{
	uint8_t n = zt_rd_u8(r);

	if (n > max) {
		r->err = true;
		return 0;
	}
	return n;
}

static void route_read(struct zt_rd *r, struct zt_netconf_route *rt)
{
	memset(rt, 0, sizeof(*rt));
	ip_read(r, &rt->target, true);
	rt->via_family = zt_rd_u8(r);
	if (rt->via_family == 0 || r->err)
		return;
	if (rt->via_family != 4 && rt->via_family != 6) {
		r->err = true;
		return;
	}
	zt_rd_bytes(r, rt->via, ip_len(rt->via_family));
}

static void lists_read(struct zt_rd *r, struct zt_netconf *nc)
{
	size_t n;
	const uint8_t *p;

	nc->n_ips = count_read(r, ZT_NETCONF_IPS_MAX);
	for (size_t i = 0; i < nc->n_ips && !r->err; i++)
		ip_read(r, &nc->ips[i], true);
	nc->n_routes = count_read(r, ZT_NETCONF_ROUTES_MAX);
	for (size_t i = 0; i < nc->n_routes && !r->err; i++)
		route_read(r, &nc->routes[i]);
	text_read(r, nc->dns_domain, ZT_NETCONF_DNS_DOMAIN_MAX);
	nc->n_dns_servers = count_read(r, ZT_NETCONF_DNS_SERVERS_MAX);
	for (size_t i = 0; i < nc->n_dns_servers && !r->err; i++)
		ip_read(r, &nc->dns_servers[i], false);
	nc->n_tags = count_read(r, ZT_NETCONF_TAGS_MAX);
	for (size_t i = 0; i < nc->n_tags && !r->err; i++) {
		nc->tags[i].id = zt_rd_be32(r);
		nc->tags[i].value = zt_rd_be32(r);
	}
	nc->n_caps = count_read(r, ZT_NETCONF_CAPS_MAX);
	for (size_t i = 0; i < nc->n_caps && !r->err; i++) {
		nc->caps[i].id = zt_rd_be32(r);
		text_read(r, nc->caps[i].name, ZT_NETCONF_CAP_NAME_MAX);
	}
	p = zt_rd_lv16(r, ZT_NETCONF_RULES_MAX, &n);
	if (!p)
		return;
	memcpy(nc->rules, p, n);
	nc->rules_len = (uint16_t)n;
}

/* Parse everything; 0 or why it failed. Signatures are checked by the caller. */
static int config_read(struct zt_rd *r, struct zt_netconf *nc)
{
	uint8_t version, kind, flags;
	int why = ZT_ETRUNC;

	version = zt_rd_u8(r);
	kind = zt_rd_u8(r);
	if (r->err)
		return ZT_ETRUNC;
	if (version != ZT_NETCONF_FORMAT_VERSION)
		return ZT_EVERSION;
	if (kind != ZT_NETCONF_KIND_CONFIG)
		return ZT_EINVAL;
	nc->network_id = zt_rd_be64(r);
	nc->revision = zt_rd_be64(r);
	nc->issued_ms = zt_rd_be64(r);
	nc->max_delta_ms = zt_rd_be64(r);
	nc->member = zt_rd_beN(r, ZT_ADDR_BYTES);
	flags = zt_rd_u8(r);
	nc->mtu = zt_rd_be16(r);
	nc->multicast_limit = zt_rd_be32(r);
	text_read(r, nc->name, ZT_NETCONF_NAME_MAX);
	lists_read(r, nc);
	com_read(r, &nc->com, &why);
	zt_rd_bytes(r, nc->signature, ZT_SIGNATURE_BYTES);
	if (r->err)
		return why;
	if (r->left != 0)
		return ZT_ETOOBIG;
	if (flags & ~FLAGS_KNOWN)
		return ZT_EINVAL;
	nc->is_private = flags & FLAG_PRIVATE;
	nc->enable_broadcast = flags & FLAG_BROADCAST;
	nc->bridge = flags & FLAG_BRIDGE;
	return 0;
}

int zt_netconf_decode(struct zt_netconf *nc, const void *buf, size_t len, const struct zt_identity *controller)
{
	struct zt_rd r;
	int rc;

	memset(nc, 0, sizeof(*nc));
	if (len > ZT_NETCONF_MAX_BYTES)
		return ZT_ETOOBIG;
	zt_rd_init(&r, buf, len);
	rc = config_read(&r, nc);
	if (rc == 0)
		rc = zt_netconf_check(nc);
	if (rc == 0 && !com_matches(nc))
		rc = ZT_EINVAL;
	if (rc == 0 && !controller_owns(controller, nc->network_id))
		rc = ZT_EAUTH;
	if (rc == 0 && !zt_identity_verify(controller, buf, len - ZT_SIGNATURE_BYTES, nc->signature))
		rc = ZT_EAUTH;
	if (rc == 0)
		rc = zt_com_verify(&nc->com, controller) == 0 ? 0 : ZT_EAUTH;
	if (rc != 0)
		memset(nc, 0, sizeof(*nc));
	return rc;
}

/* ---- credential: a member's tags and capabilities for its peers ---- */

static void cred_write_body(struct zt_wr *w, const struct zt_credential *c)
{
	zt_wr_u8(w, ZT_NETCONF_FORMAT_VERSION);
	zt_wr_u8(w, ZT_NETCONF_KIND_CREDENTIAL);
	zt_wr_be64(w, c->network_id);
	zt_wr_beN(w, c->member, ZT_ADDR_BYTES);
	zt_wr_be64(w, c->issued_ms);
	zt_wr_u8(w, c->n_tags);
	for (unsigned i = 0; i < c->n_tags; i++) {
		zt_wr_be32(w, c->tags[i].id);
		zt_wr_be32(w, c->tags[i].value);
	}
	zt_wr_u8(w, c->n_caps);
	for (unsigned i = 0; i < c->n_caps; i++)
		zt_wr_lv16(w, c->caps[i], strlen(c->caps[i]));
}

static bool cred_fields_ok(const struct zt_credential *c)
{
	if (!network_ok(c->network_id) || !member_ok(c->member) || c->n_tags > ZT_NETCONF_TAGS_MAX ||
	    c->n_caps > ZT_NETCONF_CAPS_MAX)
		return false;
	for (unsigned i = 0; i < c->n_caps; i++)
		if (!text_ok(c->caps[i], ZT_NETCONF_CAP_NAME_MAX, false))
			return false;
	return true;
}

int zt_credential_from_netconf(struct zt_credential *cred, const struct zt_netconf *nc,
			       const struct zt_identity *controller)
{
	uint8_t buf[ZT_CREDENTIAL_MAX_BYTES];
	struct zt_wr w;

	memset(cred, 0, sizeof(*cred));
	cred->network_id = nc->network_id;
	cred->member = nc->member;
	cred->issued_ms = nc->issued_ms;
	cred->n_tags = ZT_MIN(nc->n_tags, ZT_NETCONF_TAGS_MAX);
	memcpy(cred->tags, nc->tags, sizeof(cred->tags[0]) * cred->n_tags);
	cred->n_caps = ZT_MIN(nc->n_caps, ZT_NETCONF_CAPS_MAX);
	for (unsigned i = 0; i < cred->n_caps; i++)
		snprintf(cred->caps[i], sizeof(cred->caps[i]), "%s", nc->caps[i].name);
	if (!cred_fields_ok(cred) || !controller_owns(controller, nc->network_id) || !controller->has_secret)
		return ZT_EINVAL;
	zt_wr_init(&w, buf, sizeof(buf));
	cred_write_body(&w, cred);
	if (w.err)
		return ZT_EINVAL;
	return zt_identity_sign(controller, buf, w.len, cred->signature);
}

int zt_credential_encode(const struct zt_credential *cred, uint8_t *out, size_t cap, size_t *out_len)
{
	struct zt_wr w;

	if (!cred_fields_ok(cred))
		return ZT_EINVAL;
	zt_wr_init(&w, out, cap);
	cred_write_body(&w, cred);
	zt_wr_bytes(&w, cred->signature, ZT_SIGNATURE_BYTES);
	if (w.err)
		return ZT_ETOOBIG;
	*out_len = w.len;
	return 0;
}

int zt_credential_decode(struct zt_credential *cred, const void *buf, size_t len)
{
	struct zt_rd r;
	uint8_t version, kind;

	memset(cred, 0, sizeof(*cred));
	if (len > ZT_CREDENTIAL_MAX_BYTES)
		return ZT_ETOOBIG;
	zt_rd_init(&r, buf, len);
	version = zt_rd_u8(&r);
	kind = zt_rd_u8(&r);
	cred->network_id = zt_rd_be64(&r);
	cred->member = zt_rd_beN(&r, ZT_ADDR_BYTES);
	cred->issued_ms = zt_rd_be64(&r);
	cred->n_tags = zt_rd_u8(&r);
	if (cred->n_tags > ZT_NETCONF_TAGS_MAX)
		return ZT_EINVAL;
	for (unsigned i = 0; i < cred->n_tags; i++) {
		cred->tags[i].id = zt_rd_be32(&r);
		cred->tags[i].value = zt_rd_be32(&r);
	}
	cred->n_caps = zt_rd_u8(&r);
	if (cred->n_caps > ZT_NETCONF_CAPS_MAX)
		return ZT_EINVAL;
	for (unsigned i = 0; i < cred->n_caps; i++) {
		size_t n;
		const uint8_t *name = zt_rd_lv16(&r, ZT_NETCONF_CAP_NAME_MAX, &n);
		if (name)
			memcpy(cred->caps[i], name, n);
	}
	zt_rd_bytes(&r, cred->signature, ZT_SIGNATURE_BYTES);
	if (r.err || r.left)
		return ZT_ETRUNC;
	if (version != ZT_NETCONF_FORMAT_VERSION)
		return ZT_EVERSION;
	if (kind != ZT_NETCONF_KIND_CREDENTIAL || !cred_fields_ok(cred))
		return ZT_EINVAL;
	return 0;
}

int zt_credential_verify(const struct zt_credential *cred, const struct zt_identity *controller)
{
	uint8_t buf[ZT_CREDENTIAL_MAX_BYTES];
	struct zt_wr w;

	if (!cred_fields_ok(cred) || !controller_owns(controller, cred->network_id))
		return ZT_EINVAL;
	zt_wr_init(&w, buf, sizeof(buf));
	cred_write_body(&w, cred);
	if (w.err)
		return ZT_EINVAL;
	return zt_identity_verify(controller, buf, w.len, cred->signature) ? 0 : ZT_EAUTH;
}
