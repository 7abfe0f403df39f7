/*
 * objects.c - the network and member JSON documents: defaults, strict
 * validation of every field a client may set, partial updates, and the
 * public views (hook secrets never leave). Does not touch the store; IP
 * uniqueness across members is member.c's job.
 */
#include "ctl_int.h"

#include "crypto.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int bad(struct zt_ctl_err *e, const char *field, const char *reason)
{
	return zt_ctl_fail(e, 400, field, "%s", reason);
}

static int set(json_t *doc, const char *key, json_t *v)
{
	return v && json_object_set_new(doc, key, v) == 0 ? 0 : ZT_ENOMEM;
}

/* ---- value checks ---- */

/* A string without NUL or control bytes, at most max bytes (UTF-8 is jansson's). */
static bool text_ok(const json_t *v, size_t min, size_t max)
{
	const char *s = json_string_value(v);
	size_t n;

	if (!s)
		return false;
	n = json_string_length(v);
	if (n < min || n > max || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool int_in(const json_t *v, json_int_t lo, json_int_t hi, json_int_t *out)
{
	json_int_t x;

	if (!json_is_integer(v))
		return false;
	x = json_integer_value(v);
	if (x < lo || x > hi)
		return false;
	*out = x;
	return true;
}

static bool u32_ok(const json_t *v, uint32_t *out)
{
	json_int_t x;

	if (!int_in(v, 0, UINT32_MAX, &x))
		return false;
	*out = (uint32_t)x;
	return true;
}

/* Every key of obj is in allowed[]; else name the first stranger. */
static int keys_only(const json_t *obj, const char *const *allowed, size_t n, const char *field, struct zt_ctl_err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		bool ok = false;
		for (size_t i = 0; i < n && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok)
			return zt_ctl_fail(e, 400, field, "unknown field \"%.64s\"", key);
	}
	return 0;
}

static bool domain_ok(const json_t *v)
{
	const char *s;

	if (!text_ok(v, 0, ZT_NETCONF_DNS_DOMAIN_MAX))
		return false;
	for (s = json_string_value(v); *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.' || c == '_'))
			return false;
	}
	return true;
}

static json_t *ip_canonical(const struct zt_ctl_ip *ip)
{
	char text[ZT_CTL_IP_TEXT_MAX];

	zt_ctl_ip_format(ip, text);
	return json_string(text);
}

/* ---- network fields ---- */

static int pools_parse(json_t *doc, const char *field, uint8_t family, const json_t *v, struct zt_ctl_err *e)
{
	static const char *const keys[] = {"start", "end"};
	json_t *out, *pool;
	size_t i;

	if (!json_is_array(v))
		return bad(e, field, "must be an array of {\"start\",\"end\"} ranges");
	if (json_array_size(v) > ZT_CTL_POOLS_MAX)
		return zt_ctl_fail(e, 400, field, "at most %d pools", ZT_CTL_POOLS_MAX);
	out = json_array();
	json_array_foreach(v, i, pool) {
		struct zt_ctl_ip start, end;
		if (!json_is_object(pool) || keys_only(pool, keys, 2, field, e) != 0) {
			json_decref(out);
			return json_is_object(pool) ? ZT_EINVAL : bad(e, field, "a pool must be an object");
		}
		if (zt_ctl_ip_parse(&start, json_string_value(json_object_get(pool, "start"))) != 0 ||
		    zt_ctl_ip_parse(&end, json_string_value(json_object_get(pool, "end"))) != 0 ||
		    start.family != family || end.family != family) {
			json_decref(out);
			return zt_ctl_fail(e, 400, field, "pool %zu: start and end must be IPv%u addresses", i, family);
		}
		if (zt_ctl_ip_cmp(&start, &end) > 0 || !zt_ctl_ip_assignable(&start) || !zt_ctl_ip_assignable(&end) ||
		    (family == 4 && start.addr[0] < 127 && end.addr[0] >= 127)) {
			json_decref(out);
			return zt_ctl_fail(e, 400, field, "pool %zu: not a range of assignable unicast addresses", i);
		}
		json_array_append_new(out, json_pack("{s:o, s:o}", "start", ip_canonical(&start), "end",
						     ip_canonical(&end)));
	}
	return set(doc, field, out);
}

static int f_ipv4_pools(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	return pools_parse(doc, "ipv4_pools", 4, v, e);
}

static int f_ipv6_pools(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	return pools_parse(doc, "ipv6_pools", 6, v, e);
}

static json_t *route_parse(const json_t *r, size_t i, struct zt_ctl_err *e)
{
	static const char *const keys[] = {"target", "via"};
	const json_t *via = json_object_get(r, "via");
	struct zt_ctl_ip target, gw, masked;
	uint8_t prefix;
	char text[ZT_CTL_IP_TEXT_MAX + 4];

	if (!json_is_object(r)) {
		bad(e, "routes", "a route must be an object");
		return NULL;
	}
	if (keys_only(r, keys, 2, "routes", e) != 0)
		return NULL;
	if (zt_ctl_cidr_parse(&target, &prefix, json_string_value(json_object_get(r, "target"))) != 0) {
		zt_ctl_fail(e, 400, "routes", "route %zu: target must be a prefix like 10.147.17.0/24", i);
		return NULL;
	}
	masked = target;
	for (size_t b = prefix; b < 128; b++)
		masked.addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	if (zt_ctl_ip_cmp(&masked, &target) != 0) {
		zt_ctl_fail(e, 400, "routes", "route %zu: target has host bits set", i);
		return NULL;
	}
	if (via && !json_is_null(via)) {
		if (zt_ctl_ip_parse(&gw, json_string_value(via)) != 0 || gw.family != target.family ||
		    !zt_ctl_ip_assignable(&gw)) {
			zt_ctl_fail(e, 400, "routes", "route %zu: via must be a unicast address of the target's family", i);
			return NULL;
		}
	}
	zt_ctl_ip_format(&target, text);
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "/%u", prefix);
	return json_pack("{s:s, s:o}", "target", text, "via",
			 via && !json_is_null(via) ? ip_canonical(&gw) : json_null());
}

static int f_routes(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	json_t *out, *r;
	size_t i;

	if (!json_is_array(v))
		return bad(e, "routes", "must be an array of {\"target\",\"via\"}");
	if (json_array_size(v) > ZT_NETCONF_ROUTES_MAX)
		return zt_ctl_fail(e, 400, "routes", "at most %d routes", ZT_NETCONF_ROUTES_MAX);
	out = json_array();
	json_array_foreach(v, i, r) {
		json_t *one = route_parse(r, i, e);
		if (!one) {
			json_decref(out);
			return ZT_EINVAL;
		}
		json_array_append_new(out, one);
	}
	return set(doc, "routes", out);
}

static int f_dns(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	static const char *const keys[] = {"domain", "servers"};
	const json_t *domain, *servers, *s;
	json_t *out;
	size_t i;

	if (json_is_null(v))
		return set(doc, "dns", json_pack("{s:s, s:[]}", "domain", "", "servers"));
	if (!json_is_object(v))
		return bad(e, "dns", "must be an object {\"domain\",\"servers\"} or null");
	if (keys_only(v, keys, 2, "dns", e) != 0)
		return ZT_EINVAL;
	domain = json_object_get(v, "domain");
	servers = json_object_get(v, "servers");
	if (domain && !domain_ok(domain))
		return zt_ctl_fail(e, 400, "dns", "domain must be a DNS name of at most %d bytes",
				   ZT_NETCONF_DNS_DOMAIN_MAX);
	if (servers && (!json_is_array(servers) || json_array_size(servers) > ZT_NETCONF_DNS_SERVERS_MAX))
		return zt_ctl_fail(e, 400, "dns", "servers must be an array of at most %d addresses",
				   ZT_NETCONF_DNS_SERVERS_MAX);
	out = json_array();
	json_array_foreach(servers, i, s) {
		struct zt_ctl_ip ip;
		if (zt_ctl_ip_parse(&ip, json_string_value(s)) != 0 || !zt_ctl_ip_assignable(&ip)) {
			json_decref(out);
			return zt_ctl_fail(e, 400, "dns", "server %zu is not a unicast IP address", i);
		}
		json_array_append_new(out, ip_canonical(&ip));
	}
	return set(doc, "dns", json_pack("{s:s, s:o}", "domain", domain ? json_string_value(domain) : "",
					 "servers", out));
}

static int f_rules_source(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	uint8_t blob[ZT_NETCONF_RULES_MAX];
	char hex[2 * ZT_NETCONF_RULES_MAX + 1];
	size_t len = 0;
	int rc;

	if (!json_is_string(v) || json_string_length(v) > ZT_CTL_RULES_SOURCE_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return zt_ctl_fail(e, 400, "rules_source", "must be a string of at most %u bytes",
				   ZT_CTL_RULES_SOURCE_MAX);
	rc = zt_ctl_rules_compile(json_string_value(v), json_string_length(v), blob, sizeof(blob), &len, e);
	if (rc != 0)
		return ZT_EINVAL;
	zt_hex_encode(hex, blob, len);
	if (set(doc, "rules_source", json_copy((json_t *)v)) != 0)
		return ZT_ENOMEM;
	return set(doc, "rules", json_string(hex));
}

/* Tag and capability definitions: [{"id", "name"[, "default"]}], unique ids and names. */
static int defs_parse(json_t *doc, const char *field, const json_t *v, bool with_default, struct zt_ctl_err *e)
{
	static const char *const keys[] = {"id", "name", "default"};
	json_t *out, *d;
	size_t i;

	if (!json_is_array(v))
		return zt_ctl_fail(e, 400, field, "must be an array of {\"id\",\"name\"%s}",
				   with_default ? ",\"default\"" : "");
	if (json_array_size(v) > ZT_NETCONF_TAGS_MAX)
		return zt_ctl_fail(e, 400, field, "at most %d entries", ZT_NETCONF_TAGS_MAX);
	out = json_array();
	json_array_foreach(v, i, d) {
		const json_t *dflt = json_object_get(d, "default");
		uint32_t id, dv = 0;
		if (!json_is_object(d) || keys_only(d, keys, with_default ? 3 : 2, field, e) != 0) {
			json_decref(out);
			return json_is_object(d) ? ZT_EINVAL : zt_ctl_fail(e, 400, field, "entry %zu must be an object", i);
		}
		if (!u32_ok(json_object_get(d, "id"), &id) ||
		    !text_ok(json_object_get(d, "name"), 1, ZT_NETCONF_CAP_NAME_MAX) ||
		    (dflt && !json_is_null(dflt) && !u32_ok(dflt, &dv))) {
			json_decref(out);
			return zt_ctl_fail(e, 400, field, "entry %zu: id must be 0..4294967295, name 1..%d bytes", i,
					   ZT_NETCONF_CAP_NAME_MAX);
		}
		for (size_t j = 0; j < i; j++) {
			const json_t *o = json_array_get(v, j);
			if (zt_ctl_doc_u64(o, "id") == id ||
			    strcmp(zt_ctl_doc_str(o, "name"), json_string_value(json_object_get(d, "name"))) == 0) {
				json_decref(out);
				return zt_ctl_fail(e, 400, field, "entry %zu repeats an id or name", i);
			}
		}
		if (with_default)
			json_array_append_new(out, json_pack("{s:I, s:O, s:o}", "id", (json_int_t)id, "name",
							     json_object_get(d, "name"), "default",
							     dflt && !json_is_null(dflt) ? json_integer(dv) : json_null()));
		else
			json_array_append_new(out, json_pack("{s:I, s:O}", "id", (json_int_t)id, "name",
							     json_object_get(d, "name")));
	}
	return set(doc, field, out);
}

static int f_tags(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	return defs_parse(doc, "tags", v, true, e);
}

static int f_capabilities(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	return defs_parse(doc, "capabilities", v, false, e);
}

static int f_hooks(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	json_t *out;
	int rc = zt_ctl_hooks_parse(v, json_object_get(doc, "hooks"), &out, e);

	return rc != 0 ? rc : set(doc, "hooks", out);
}

static int f_name(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	if (!text_ok(v, 0, ZT_NETCONF_NAME_MAX))
		return zt_ctl_fail(e, 400, "name", "must be a string of at most %d bytes without control characters",
				   ZT_NETCONF_NAME_MAX);
	return set(doc, "name", json_copy((json_t *)v));
}

static int f_bool(json_t *doc, const char *key, const json_t *v, struct zt_ctl_err *e)
{
	if (!json_is_boolean(v))
		return bad(e, key, "must be true or false");
	return set(doc, key, json_copy((json_t *)v));
}

static int f_private(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	return f_bool(doc, "private", v, e);
}

static int f_enable_broadcast(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	return f_bool(doc, "enable_broadcast", v, e);
}

static int f_mtu(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	json_int_t x;

	if (!int_in(v, ZT_NETCONF_MTU_MIN, ZT_NETCONF_MTU_MAX, &x))
		return zt_ctl_fail(e, 400, "mtu", "must be an integer %d..%d", ZT_NETCONF_MTU_MIN, ZT_NETCONF_MTU_MAX);
	return set(doc, "mtu", json_integer(x));
}

static int f_multicast_limit(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	json_int_t x;

	if (!int_in(v, 0, ZT_NETCONF_MULTICAST_LIMIT_MAX, &x))
		return zt_ctl_fail(e, 400, "multicast_limit", "must be an integer 0..%d",
				   ZT_NETCONF_MULTICAST_LIMIT_MAX);
	return set(doc, "multicast_limit", json_integer(x));
}

struct field {
	const char *name;
	int (*apply)(json_t *doc, const json_t *v, struct zt_ctl_err *e);
};

static const struct field network_fields[] = {
	{"name", f_name},
	{"private", f_private},
	{"mtu", f_mtu},
	{"enable_broadcast", f_enable_broadcast},
	{"multicast_limit", f_multicast_limit},
	{"ipv4_pools", f_ipv4_pools},
	{"ipv6_pools", f_ipv6_pools},
	{"routes", f_routes},
	{"dns", f_dns},
	{"rules_source", f_rules_source},
	{"tags", f_tags},
	{"capabilities", f_capabilities},
	{"hooks", f_hooks},
};

static const char *const network_readonly[] = {"revision", "created", "updated", "rules"};
static const char *const member_readonly[] = {"identity", "first_seen", "last_seen", "last_physical_address",
					      "revision", "created"};

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

/* An id echoed in a body equals the document's (hex digits in either case). */
static bool same_id(const json_t *given, const json_t *have)
{
	return json_is_string(given) && json_is_string(have) &&
	       strcasecmp(json_string_value(given), json_string_value(have)) == 0;
}

/* Fields named by their key in the same document may be echoed back unchanged. */
static int apply_fields(json_t *doc, const json_t *body, const struct field *fields, size_t n_fields,
			const char *const *readonly, size_t n_readonly, const char *const *ids, size_t n_ids,
			struct zt_ctl_err *e)
{
	const char *key;
	json_t *v;

	if (!json_is_object(body))
		return bad(e, "", "the body must be a JSON object");
	json_object_foreach((json_t *)body, key, v) {
		const struct field *f = NULL;
		int rc;
		for (size_t i = 0; i < n_fields && !f; i++)
			if (strcmp(key, fields[i].name) == 0)
				f = &fields[i];
		if (f) {
			if ((rc = f->apply(doc, v, e)) != 0)
				return rc;
			continue;
		}
		if (in_list(key, ids, n_ids)) {
			if (!same_id(v, json_object_get(doc, key)))
				return zt_ctl_fail(e, 400, key, "does not match the request path");
			continue;
		}
		if (in_list(key, readonly, n_readonly))
			return zt_ctl_fail(e, 400, key, "read-only field");
		return zt_ctl_fail(e, 400, key, "unknown field");
	}
	return 0;
}

json_t *zt_ctl_network_new(uint64_t nwid, uint64_t now_ms)
{
	char id[17];

	zt_ctl_format_nwid(id, nwid);
	return json_pack("{s:s, s:s, s:b, s:i, s:b, s:i, s:[], s:[], s:[], s:{s:s, s:[]}, s:s, s:s,"
			 " s:[], s:[], s:[], s:I, s:I, s:I}",
			 "id", id, "name", "", "private", 1, "mtu", ZT_NETCONF_MTU_DEFAULT, "enable_broadcast", 1,
			 "multicast_limit", ZT_NETCONF_MULTICAST_LIMIT_DEFAULT, "ipv4_pools", "ipv6_pools", "routes",
			 "dns", "domain", "", "servers", "rules_source", "", "rules", "", "tags", "capabilities",
			 "hooks", "revision", (json_int_t)0, "created", (json_int_t)now_ms, "updated",
			 (json_int_t)now_ms);
}

int zt_ctl_network_apply(json_t *doc, const json_t *body, struct zt_ctl_err *e)
{
	static const char *const ids[] = {"id"};

	return apply_fields(doc, body, network_fields, ZT_ARRAY_LEN(network_fields), network_readonly,
			    ZT_ARRAY_LEN(network_readonly), ids, ZT_ARRAY_LEN(ids), e);
}

json_t *zt_ctl_network_view(const json_t *doc)
{
	json_t *v = json_deep_copy(doc);

	if (!v)
		return NULL;
	if (json_object_set_new(v, "hooks", zt_ctl_hooks_view(json_object_get(doc, "hooks"))) != 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- hooks ---- */

static bool url_ok(const json_t *v)
{
	const char *s = json_string_value(v);

	if (!text_ok(v, 8, ZT_CTL_URL_MAX))
		return false;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		return false;
	return strpbrk(s, " \"<>\\^`{|}") == NULL;
}

static const char *old_secret(const json_t *old, const char *url)
{
	size_t i;
	json_t *h;

	json_array_foreach(old, i, h) {
		if (strcmp(zt_ctl_doc_str(h, "url"), url) == 0)
			return json_string_value(json_object_get(h, "secret"));
	}
	return NULL;
}

int zt_ctl_hooks_parse(const json_t *given, const json_t *old, json_t **out, struct zt_ctl_err *e)
{
	static const char *const keys[] = {"url", "secret", "secret_set"};
	json_t *h;
	size_t i;

	*out = NULL;
	if (!json_is_array(given))
		return bad(e, "hooks", "must be an array of {\"url\",\"secret\"}");
	if (json_array_size(given) > ZT_CTL_HOOKS_MAX)
		return zt_ctl_fail(e, 400, "hooks", "at most %d hooks", ZT_CTL_HOOKS_MAX);
	*out = json_array();
	json_array_foreach(given, i, h) {
		const json_t *url = json_object_get(h, "url"), *secret = json_object_get(h, "secret");
		const char *keep;
		if (!json_is_object(h) || keys_only(h, keys, 3, "hooks", e) != 0)
			goto fail_obj;
		if (!url_ok(url)) {
			zt_ctl_fail(e, 400, "hooks", "hook %zu: url must be an http:// or https:// URL", i);
			goto fail;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(zt_ctl_doc_str(json_array_get(given, j), "url"), json_string_value(url)) == 0) {
				zt_ctl_fail(e, 400, "hooks", "hook %zu repeats a url", i);
				goto fail;
			}
		keep = old_secret(old, json_string_value(url));
		if (secret && !text_ok(secret, ZT_CTL_SECRET_MIN, ZT_CTL_SECRET_MAX)) {
			zt_ctl_fail(e, 400, "hooks", "hook %zu: secret must be %d..%d bytes", i, ZT_CTL_SECRET_MIN,
				    ZT_CTL_SECRET_MAX);
			goto fail;
		}
		if (!secret && !keep) {
			zt_ctl_fail(e, 400, "hooks", "hook %zu: a new url needs a secret", i);
			goto fail;
		}
		json_array_append_new(*out, json_pack("{s:O, s:s}", "url", url, "secret",
						      secret ? json_string_value(secret) : keep));
	}
	return 0;
fail_obj:
	if (!json_is_object(h))
		zt_ctl_fail(e, 400, "hooks", "hook %zu must be an object", i);
fail:
	json_decref(*out);
	*out = NULL;
	return ZT_EINVAL;
}

json_t *zt_ctl_hooks_view(const json_t *hooks)
{
	json_t *v = json_array(), *h;
	size_t i;

	json_array_foreach(hooks, i, h)
		json_array_append_new(v, json_pack("{s:s, s:b}", "url", zt_ctl_doc_str(h, "url"), "secret_set",
						   json_is_string(json_object_get(h, "secret"))));
	return v;
}

/* ---- member fields ---- */

static int m_bool(json_t *doc, const char *key, const json_t *v, struct zt_ctl_err *e)
{
	return f_bool(doc, key, v, e);
}

static int m_ips(json_t *doc, const json_t *v, struct zt_ctl_err *e)
{
	struct zt_ctl_ip ips[ZT_NETCONF_IPS_MAX];
	json_t *out, *s;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > ZT_NETCONF_IPS_MAX)
		return zt_ctl_fail(e, 400, "ip_assignments", "must be an array of at most %d addresses",
				   ZT_NETCONF_IPS_MAX);
	out = json_array();
	json_array_foreach(v, i, s) {
		if (zt_ctl_ip_parse(&ips[i], json_string_value(s)) != 0 || !zt_ctl_ip_assignable(&ips[i])) {
			json_decref(out);
			return zt_ctl_fail(e, 400, "ip_assignments", "entry %zu is not a unicast IP address", i);
		}
		for (size_t j = 0; j < i; j++)
			if (zt_ctl_ip_cmp(&ips[i], &ips[j]) == 0) {
				json_decref(out);
				return zt_ctl_fail(e, 400, "ip_assignments", "entry %zu is listed twice", i);
			}
		json_array_append_new(out, ip_canonical(&ips[i]));
	}
	return set(doc, "ip_assignments", out);
}

static bool defined(const json_t *network, const char *field, uint32_t id)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(network, field), i, d)
		if (zt_ctl_doc_u64(d, "id") == id)
			return true;
	return false;
}

static int m_tags(json_t *doc, const json_t *v, const json_t *network, struct zt_ctl_err *e)
{
	static const char *const keys[] = {"id", "value"};
	json_t *out, *t;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > ZT_NETCONF_TAGS_MAX)
		return zt_ctl_fail(e, 400, "tags", "must be an array of at most %d {\"id\",\"value\"}",
				   ZT_NETCONF_TAGS_MAX);
	out = json_array();
	json_array_foreach(v, i, t) {
		uint32_t id, value;
		if (!json_is_object(t) || keys_only(t, keys, 2, "tags", e) != 0) {
			json_decref(out);
			return json_is_object(t) ? ZT_EINVAL : zt_ctl_fail(e, 400, "tags", "entry %zu must be an object", i);
		}
		if (!u32_ok(json_object_get(t, "id"), &id) || !u32_ok(json_object_get(t, "value"), &value)) {
			json_decref(out);
			return zt_ctl_fail(e, 400, "tags", "entry %zu: id and value must be 0..4294967295", i);
		}
		if (!defined(network, "tags", id)) {
			json_decref(out);
			return zt_ctl_fail(e, 400, "tags", "tag id %u is not defined by the network", id);
		}
		for (size_t j = 0; j < i; j++)
			if (zt_ctl_doc_u64(json_array_get(v, j), "id") == id) {
				json_decref(out);
				return zt_ctl_fail(e, 400, "tags", "tag id %u is listed twice", id);
			}
		json_array_append_new(out, json_pack("{s:I, s:I}", "id", (json_int_t)id, "value", (json_int_t)value));
	}
	return set(doc, "tags", out);
}

static int m_caps(json_t *doc, const json_t *v, const json_t *network, struct zt_ctl_err *e)
{
	json_t *out, *c;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > ZT_NETCONF_CAPS_MAX)
		return zt_ctl_fail(e, 400, "capabilities", "must be an array of at most %d capability ids",
				   ZT_NETCONF_CAPS_MAX);
	out = json_array();
	json_array_foreach(v, i, c) {
		uint32_t id;
		if (!u32_ok(c, &id) || !defined(network, "capabilities", id)) {
			json_decref(out);
			return zt_ctl_fail(e, 400, "capabilities", "entry %zu is not a capability id of the network", i);
		}
		for (size_t j = 0; j < i; j++)
			if (json_integer_value(json_array_get(v, j)) == (json_int_t)id) {
				json_decref(out);
				return zt_ctl_fail(e, 400, "capabilities", "capability %u is listed twice", id);
			}
		json_array_append_new(out, json_integer(id));
	}
	return set(doc, "capabilities", out);
}

json_t *zt_ctl_member_new(uint64_t nwid, uint64_t member, uint64_t now_ms)
{
	char id[17], addr[11];

	zt_ctl_format_nwid(id, nwid);
	zt_ctl_format_member(addr, member);
	return json_pack("{s:s, s:s, s:n, s:b, s:b, s:[], s:s, s:s, s:[], s:[], s:n, s:n, s:n, s:I, s:I}",
			 "address", addr, "network_id", id, "identity", "authorized", 0, "bridge", 0,
			 "ip_assignments", "name", "", "description", "", "tags", "capabilities", "first_seen",
			 "last_seen", "last_physical_address", "revision", (json_int_t)0, "created",
			 (json_int_t)now_ms);
}

int zt_ctl_member_apply(json_t *doc, const json_t *body, const json_t *network, struct zt_ctl_err *e)
{
	static const char *const ids[] = {"address", "network_id"};
	const char *key;
	json_t *v;
	int rc = 0;

	if (!json_is_object(body))
		return bad(e, "", "the body must be a JSON object");
	json_object_foreach((json_t *)body, key, v) {
		if (strcmp(key, "authorized") == 0 || strcmp(key, "bridge") == 0)
			rc = m_bool(doc, key, v, e);
		else if (strcmp(key, "ip_assignments") == 0)
			rc = m_ips(doc, v, e);
		else if (strcmp(key, "name") == 0)
			rc = f_name(doc, v, e);
		else if (strcmp(key, "description") == 0)
			rc = text_ok(v, 0, ZT_CTL_DESCRIPTION_MAX)
				     ? set(doc, key, json_copy(v))
				     : zt_ctl_fail(e, 400, key, "must be a string of at most %d bytes",
						   ZT_CTL_DESCRIPTION_MAX);
		else if (strcmp(key, "tags") == 0)
			rc = m_tags(doc, v, network, e);
		else if (strcmp(key, "capabilities") == 0)
			rc = m_caps(doc, v, network, e);
		else if (in_list(key, ids, ZT_ARRAY_LEN(ids)))
			rc = same_id(v, json_object_get(doc, key))
				     ? 0
				     : zt_ctl_fail(e, 400, key, "does not match the request path");
		else if (in_list(key, member_readonly, ZT_ARRAY_LEN(member_readonly)))
			rc = zt_ctl_fail(e, 400, key, "read-only field");
		else
			rc = zt_ctl_fail(e, 400, key, "unknown field");
		if (rc != 0)
			return rc;
	}
	return 0;
}
