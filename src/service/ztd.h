/*
 * ztd.h - the daemon's state: the core node bound to a UDP socket, the event
 * loop and the local HTTP API. One struct, owned by main().
 */
#ifndef ZT_SERVICE_ZTD_H
#define ZT_SERVICE_ZTD_H

#include "node.h"
#include "osdep/loop.h"
#include "osdep/udp.h"
#include "service/config.h"
#include "service/httpd.h"

#define ZTD_MAX_PINGS 64         /* echo requests tracked for the API at once */
#define ZTD_PING_TIMEOUT_MS 5000 /* an echo unanswered this long is reported lost */
#define ZTD_LOCAL_REFRESH_MS 60000

enum ztd_ping_state {
	ZTD_PING_FREE = 0,
	ZTD_PING_PENDING,
	ZTD_PING_REPLIED,
	ZTD_PING_TIMEOUT,
};

struct ztd_ping {
	enum ztd_ping_state state;
	uint32_t id;
	uint64_t peer;
	uint64_t sent_ms;
	uint64_t rtt_ms;
	enum zt_link link;
};

struct ztd {
	struct ztd_config cfg;
	struct zt_identity id;
	struct zt_node *node;
	struct zt_loop *loop;
	struct zt_udp udp;
	struct zt_udp_txq *txq;
	struct zt_udp_rx_batch *rx;
	struct zt_httpd *httpd;
	zt_loop_timer_id tick_timer;
	uint64_t next_local_refresh_ms;
	uint64_t started_ms;
	struct ztd_ping pings[ZTD_MAX_PINGS];
	uint32_t next_ping_id;
	char token[ZT_HTTP_TOKEN_MAX + 1];
};

/* api_node.c: the VL1 part of the local API (status, peers, ping). */
int ztd_api_node_register(struct ztd *d);
void ztd_ping_reply(struct ztd *d, uint64_t peer, uint32_t id, uint64_t rtt_ms, enum zt_link link);

#endif
