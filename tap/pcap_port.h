/*
 * pcap_port.h - the libpcap backend of struct zt_port: a physical Ethernet
 * NIC bridged onto a virtual network without a kernel bridge. Frames from
 * the wire are captured, frames from the network are injected.
 */
#ifndef ZT_TAP_PCAP_PORT_H
#define ZT_TAP_PCAP_PORT_H

#include "tap/port.h"

#define ZT_PCAP_SNAPLEN 65535 /* whole frames: a truncated one is dropped, never forwarded */
#define ZT_PCAP_BUFFER_BYTES (4 * 1024 * 1024) /* kernel ring: ~2800 full-size frames of slack */

/*
 * Open ifname (an existing Ethernet interface) promiscuous, in immediate,
 * non-blocking mode, capturing inbound frames only (the frames this port
 * injects are not read back). The port's mac and mtu_bytes are the NIC's.
 * The NIC's MTU, addresses and routes stay the OS's: those calls return
 * ZT_EPERM, and set_up only succeeds when the NIC already is in that state.
 * It lists no multicast groups: in promiscuous mode it receives them all.
 * ZT_ENOENT if there is no such interface, ZT_EPERM without CAP_NET_RAW,
 * ZT_EINVAL if it is not Ethernet.
 */
int zt_pcap_port_open(const char *ifname, struct zt_port **out);

#endif
