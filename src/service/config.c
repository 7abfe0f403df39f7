/*
 * config.c - loads HOME/ztd.conf with libconfig and checks every field.
 * Root identities are parsed here and validated by the node at start.
 */
#include "service/config.h"
#include "crypto.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void ztd_config_defaults(struct ztd_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->home, sizeof(c->home), "%s", ZTD_DEFAULT_HOME);
	c->port = ZT_DEFAULT_PORT;
	c->cipher = ZT_CIPHER_CHACHA20_POLY1305;
	c->log_level = ZT_LOG_INFO;
	snprintf(c->interface_prefix, sizeof(c->interface_prefix), "zt");
	c->peer_cache_max = ZT_PEER_CACHE_DEFAULT;
}

static int load_root(struct ztd_config *c, config_setting_t *r, unsigned i, char *err, size_t err_len)
{
	struct zt_root_spec *spec = &c->roots[c->n_roots];
	config_setting_t *eps;
	const char *text;
	int n;

	if (!config_setting_lookup_string(r, "identity", &text)) {
		snprintf(err, err_len, "roots[%u]: missing string field \"identity\"", i);
		return ZT_EINVAL;
	}
	memset(spec, 0, sizeof(*spec));
	if (zt_identity_from_text(&spec->id, text) < 0) {
		snprintf(err, err_len, "roots[%u].identity: not a public identity (zt-idtool getpublic prints one)", i);
		return ZT_EINVAL;
	}
	spec->id.has_secret = false;
	eps = config_setting_get_member(r, "endpoints");
	if (!eps || !config_setting_is_array(eps) || (n = config_setting_length(eps)) < 1) {
		snprintf(err, err_len, "roots[%u]: \"endpoints\" must be a non-empty array of \"ip/port\" strings", i);
		return ZT_EINVAL;
	}
	if (n > ZT_ROOT_MAX_ENDPOINTS) {
		snprintf(err, err_len, "roots[%u]: at most %d endpoints", i, ZT_ROOT_MAX_ENDPOINTS);
		return ZT_ETOOBIG;
	}
	for (int k = 0; k < n; k++) {
		const char *ep = config_setting_get_string_elem(eps, k);
		if (!ep || zt_endpoint_parse(&spec->endpoints[k], ep) < 0) {
			snprintf(err, err_len, "roots[%u].endpoints[%d]: expected \"ip/port\", e.g. \"198.51.100.10/9993\"",
				 i, k);
			return ZT_EINVAL;
		}
	}
	spec->n_endpoints = (unsigned)n;
	c->n_roots++;
	return 0;
}

static int load_settings(struct ztd_config *c, config_t *cf, char *err, size_t err_len)
{
	config_setting_t *roots = config_lookup(cf, "roots");
	const char *s;
	int v;

	if (config_lookup_int(cf, "port", &v)) {
		if (v < 1 || v > 65535) {
			snprintf(err, err_len, "port: %d is not a port number (1..65535)", v);
			return ZT_EINVAL;
		}
		c->port = (uint16_t)v;
	}
	if (config_lookup_bool(cf, "root", &v))
		c->root = c->root || v;
	if (config_lookup_bool(cf, "controller", &v))
		c->controller = c->controller || v;
	if (config_lookup_string(cf, "cipher", &s)) {
		c->cipher = zt_cipher_parse(s);
		if (c->cipher < 0) {
			snprintf(err, err_len, "cipher: \"%s\" is not one of chacha20-poly1305, aes-256-gcm", s);
			return ZT_EINVAL;
		}
	}
	if (config_lookup_string(cf, "log_level", &s)) {
		c->log_level = zt_log_level_parse(s);
		if (c->log_level < 0) {
			snprintf(err, err_len, "log_level: \"%s\" is not one of error, warn, info, debug, trace", s);
			return ZT_EINVAL;
		}
	}
	if (config_lookup_int(cf, "peer_cache_max", &v)) {
		if (v < 0 || v > ZT_PEER_CACHE_MAX) {
			snprintf(err, err_len, "peer_cache_max: %d is not in 0..%d", v, ZT_PEER_CACHE_MAX);
			return ZT_EINVAL;
		}
		c->peer_cache_max = (unsigned)v;
	}
	if (!roots)
		return 0;
	if (!config_setting_is_list(roots)) {
		snprintf(err, err_len, "roots: must be a list ( { identity = \"...\"; endpoints = [ ... ]; } )");
		return ZT_EINVAL;
	}
	if (config_setting_length(roots) > ZT_MAX_ROOTS) {
		snprintf(err, err_len, "roots: at most %d roots", ZT_MAX_ROOTS);
		return ZT_ETOOBIG;
	}
	for (unsigned i = 0; i < (unsigned)config_setting_length(roots); i++) {
		int e = load_root(c, config_setting_get_elem(roots, i), i, err, err_len);
		if (e)
			return e;
	}
	return 0;
}

int ztd_config_load(struct ztd_config *c, char *err, size_t err_len)
{
	char path[600];
	struct stat st;
	config_t cf;
	int e;

	snprintf(path, sizeof(path), "%s/ztd.conf", c->home);
	if (stat(path, &st) < 0)
		return 0; /* no file: defaults (no roots) */
	if (st.st_size > ZTD_CONF_MAX_BYTES) {
		snprintf(err, err_len, "%s: larger than %d bytes", path, ZTD_CONF_MAX_BYTES);
		return ZT_ETOOBIG;
	}
	config_init(&cf);
	if (!config_read_file(&cf, path)) {
		snprintf(err, err_len, "%s:%d: %s", path, config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return ZT_EPARSE;
	}
	e = load_settings(c, &cf, err, err_len);
	config_destroy(&cf);
	return e;
}
