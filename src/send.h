/*
 * send.h - the send layer (send.c): what the rest of the core (receive,
 * handshakes, paths, the root role, the tick) uses to put bytes on the
 * underlay. Internal to the core; the host uses zt_node_send (node.h).
 */
#ifndef ZT_SEND_H
#define ZT_SEND_H

#include "base/endpoint.h"
#include "base/wire.h"

struct zt_node;
struct zt_peer;

/* One datagram to one endpoint, as is (counted in the stats). */
int zt_node_send_raw(struct zt_node *n, const struct zt_endpoint *to, const uint8_t *pkt, size_t len);
/* Seal and route a message; queued (ZT_EAGAIN) while no session can send, and one is started. */
int zt_node_send_msg(struct zt_node *n, struct zt_peer *p, const uint8_t *msg, size_t len, uint64_t now_ms);
/* Seal and send straight to one endpoint (probes); needs a usable session. */
int zt_node_send_msg_via(struct zt_node *n, struct zt_peer *p, const uint8_t *msg, size_t len,
			 const struct zt_endpoint *via, uint64_t now_ms);
/* A verb with the body written so far (nothing if the writer failed). */
void zt_send_verb(struct zt_node *n, struct zt_peer *p, uint8_t verb, const struct zt_wr *body, uint64_t now_ms);
/* A sealed packet (or a handshake packet) to p by its route: direct path or a root, fragmented if large. */
int zt_send_transmit(struct zt_node *n, struct zt_peer *p, const uint8_t *pkt, size_t len, uint64_t now_ms);
/* The root to relay through: alive first, then lowest latency. */
struct zt_peer *zt_send_best_root(struct zt_node *n, uint64_t now_ms);
/* Identity unknown: ask; known: start a handshake unless one is under way. */
void zt_send_ensure_session(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);

/* The pending queue: messages waiting for a session. */
void zt_send_pending_flush(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);
void zt_send_pending_drop_peer(struct zt_node *n, uint64_t address);
void zt_send_pending_expire(struct zt_node *n, uint64_t now_ms);

#endif
