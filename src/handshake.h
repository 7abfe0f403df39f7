/*
 * handshake.h - the node's side of the handshake (handshake.c): starting
 * one and the three handshake packet types received. Internal to the core.
 */
#ifndef ZT_HANDSHAKE_H
#define ZT_HANDSHAKE_H

#include "base/endpoint.h"
#include "identity.h"
#include "packet.h"

struct zt_node;
struct zt_peer;

/* Send (or resend) HS_INIT to a peer whose identity is known. */
void zt_handshake_start(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);
/* Accept an identity learned from the network: must match the address, checked at a bounded rate. */
int zt_handshake_adopt_identity(struct zt_node *n, struct zt_peer *p, const struct zt_identity *id, uint64_t now_ms);
/* The initiator's first DATA under p->next: it becomes the current keypair. */
void zt_handshake_confirm_next(struct zt_node *n, struct zt_peer *p);
void zt_handshake_handle_init(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			      size_t len, uint64_t now_ms);
void zt_handshake_handle_resp(struct zt_node *n, const struct zt_endpoint *from, const struct zt_hdr *h, uint8_t *pkt,
			      size_t len, uint64_t now_ms);
void zt_handshake_handle_cookie(struct zt_node *n, const struct zt_hdr *h, const uint8_t *pkt, size_t len,
				uint64_t now_ms);

#endif
