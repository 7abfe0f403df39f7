/*
 * ctlcmd.h - `zt-cli controller ...`: networks and members over the
 * controller's REST API (/controller/...).
 */
#ifndef ZT_CLI_CTLCMD_H
#define ZT_CLI_CTLCMD_H

#include "cli/api.h"

#include <stdbool.h>

/* argv[0] is "network" or "member". Returns the process exit code. */
int zt_ctlcmd(struct zt_api_client *c, int argc, char **argv, bool json);

#endif
