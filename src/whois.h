/*
 * whois.h - asking a root for a peer's identity (whois.c). Internal to the core.
 */
#ifndef ZT_WHOIS_H
#define ZT_WHOIS_H

#include "base/wire.h"

struct zt_node;
struct zt_peer;

/* Send WHOIS to the best root unless the identity is known or was asked recently. */
void zt_whois_ask(struct zt_node *n, struct zt_peer *p, uint64_t now_ms);
/* WHOIS_OK from a root: adopt the identity and start a handshake. */
void zt_whois_handle_ok(struct zt_node *n, struct zt_peer *from_root, struct zt_rd *rd, uint64_t now_ms);

#endif
