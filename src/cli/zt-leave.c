/*
 * zt-leave.c - leave a virtual network (zt-cli leave).
 */
#include "cli/netcmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"NAME\n"
	"    zt-leave - leave a zt virtual network\n"
	"\n"
	"SYNOPSIS\n"
	"    zt-leave [-H HOME] [-p PORT] [-j] NETWORK_ID\n"
	"\n"
	"DESCRIPTION\n"
	"    zt-leave asks ztd to leave NETWORK_ID: the interface, its addresses and routes are\n"
	"    removed and the network is not rejoined after a restart. Same as 'zt-cli leave'.\n"
	"\n"
	"OPTIONS\n"
	"    -H HOME          ztd's state directory (default $ZT_HOME or /var/lib/zt)\n"
	"    -p PORT          ztd's API port (default: HOME/ztd.port, else 9993)\n"
	"    -j               print the API's JSON\n"
	"    -h               this text\n"
	"\n"
	"EXIT STATUS\n"
	"    0 done; 1 ztd unreachable or refused; 2 bad usage.\n"
	"\n"
	"EXAMPLE\n"
	"    zt-leave 8056c2e21c000001\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct zt_api_opts opts = {0};
	struct zt_api_client client;
	bool json = false;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, ZT_API_GETOPT "jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			if (zt_api_opt(&opts, opt, optarg))
				break;
			fprintf(stderr, "usage: zt-leave [-H HOME] [-p PORT] [-j] NETWORK_ID\ntry 'zt-leave -h'\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: zt-leave [-H HOME] [-p PORT] [-j] NETWORK_ID\ntry 'zt-leave -h'\n");
		return 2;
	}
	if (!zt_netcmd_nwid_ok(argv[optind])) {
		fprintf(stderr, "zt-leave: \"%s\" is not a network ID (16 hex digits, e.g. 8056c2e21c000001)\n", argv[optind]);
		return 2;
	}
	if (zt_api_init(&client, &opts) < 0) {
		fprintf(stderr, "zt-leave: %s\n", zt_api_error(&client));
		return 1;
	}
	rc = zt_netcmd_leave(&client, argv[optind], json);
	zt_api_free(&client);
	return rc;
}
