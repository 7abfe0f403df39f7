/*
 * netcmd.h - network commands shared by zt-cli, zt-join and zt-leave:
 * join, leave, list and bridge, with their human and JSON output.
 */
#ifndef ZT_CLI_NETCMD_H
#define ZT_CLI_NETCMD_H

#include "cli/api.h"

#include <stdbool.h>

/* Join nwid_text; ifname may be NULL; wait up to wait_s seconds for a final status. */
int zt_netcmd_join(struct zt_api_client *c, const char *nwid_text, const char *ifname, int wait_s, bool json);
int zt_netcmd_leave(struct zt_api_client *c, const char *nwid_text, bool json);
int zt_netcmd_list(struct zt_api_client *c, bool json);
int zt_netcmd_bridge(struct zt_api_client *c, const char *nwid_text, const char *ifname, bool json);
void zt_netcmd_print_json(json_t *j);
bool zt_netcmd_nwid_ok(const char *text);

#endif
