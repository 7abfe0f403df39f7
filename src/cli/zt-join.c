/*
 * zt-join.c - join a virtual network by its ID (zt-cli join).
 */
#include "cli/netcmd.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"NAME\n"
	"    zt-join - join a zt virtual network\n"
	"\n"
	"SYNOPSIS\n"
	"    zt-join [-H HOME] [-p PORT] [-j] [--ifname NAME] [-w SECONDS] NETWORK_ID\n"
	"\n"
	"DESCRIPTION\n"
	"    zt-join asks ztd to join the virtual network NETWORK_ID (16 hex digits; the first\n"
	"    10 are the controller's address). ztd requests the network's config from the\n"
	"    controller; once the controller says OK it creates the TAP interface (named from the\n"
	"    network ID, or NAME), sets the member MAC, MTU, addresses and routes from the config\n"
	"    and brings it up. The status printed is REQUESTING_CONFIGURATION (with why it waits:\n"
	"    controller unreachable, awaiting approval since T), OK, ACCESS_DENIED or NOT_FOUND.\n"
	"    Joined networks come back after ztd restarts. Same as 'zt-cli join'.\n"
	"\n"
	"OPTIONS\n"
	"    -H HOME          ztd's state directory (default $ZT_HOME or /var/lib/zt)\n"
	"    -p PORT          ztd's API port (default: HOME/ztd.port, else 9993)\n"
	"    -j               print the API's JSON\n"
	"    --ifname NAME    interface name instead of the one derived from the network ID\n"
	"    -w SECONDS       wait up to SECONDS for OK (exit 1 if another final status comes,\n"
	"                     or time runs out)\n"
	"    -h               this text\n"
	"\n"
	"EXIT STATUS\n"
	"    0 done; 1 ztd unreachable or refused (or, with -w, not OK in time); 2 bad usage.\n"
	"\n"
	"EXAMPLE\n"
	"    zt-join -w 30 8056c2e21c000001\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"ifname", required_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct zt_api_opts opts = {0};
	struct zt_api_client client;
	const char *ifname = NULL;
	bool json = false;
	int opt, rc, wait_s = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, ZT_API_GETOPT "jw:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'I':
			ifname = optarg;
			break;
		case 'w':
			wait_s = (int)strtol(optarg, &end, 10);
			if (*end || wait_s < 0 || wait_s > 3600) {
				fprintf(stderr, "zt-join: -w wants seconds from 0 to 3600\n");
				return 2;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			if (zt_api_opt(&opts, opt, optarg))
				break;
			fprintf(stderr, "usage: zt-join [-H HOME] [-p PORT] [-j] [--ifname NAME] [-w SECONDS] NETWORK_ID\ntry 'zt-join -h'\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: zt-join [-H HOME] [-p PORT] [-j] [--ifname NAME] [-w SECONDS] NETWORK_ID\ntry 'zt-join -h'\n");
		return 2;
	}
	if (!zt_netcmd_nwid_ok(argv[optind])) {
		fprintf(stderr, "zt-join: \"%s\" is not a network ID (16 hex digits, e.g. 8056c2e21c000001)\n", argv[optind]);
		return 2;
	}
	if (zt_api_init(&client, &opts) < 0) {
		fprintf(stderr, "zt-join: %s\n", zt_api_error(&client));
		return 1;
	}
	rc = zt_netcmd_join(&client, argv[optind], ifname, wait_s, json);
	zt_api_free(&client);
	return rc;
}
