/*
 * config.h - ztd's settings: command line over HOME/ztd.conf (libconfig) over defaults.
 */
#ifndef ZT_SERVICE_CONFIG_H
#define ZT_SERVICE_CONFIG_H

#include "node.h"

#define ZTD_DEFAULT_HOME "/var/lib/zt"
#define ZTD_CONF_MAX_BYTES (1024 * 1024)

struct ztd_config {
	char home[512];
	uint16_t port;
	bool root;
	bool controller;
	int cipher;
	int log_level;
	struct zt_root_spec roots[ZT_MAX_ROOTS];
	unsigned n_roots;
	char interface_prefix[16]; /* our TAP devices are named with this prefix */
	unsigned peer_cache_max;   /* peers kept in HOME/peers.cache (0: none), default ZT_PEER_CACHE_DEFAULT */
};

void ztd_config_defaults(struct ztd_config *c);
/* Reads HOME/ztd.conf if it exists; fills err (for the user) on failure. */
int ztd_config_load(struct ztd_config *c, char *err, size_t err_len);

#endif
