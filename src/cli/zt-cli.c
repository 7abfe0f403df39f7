/*
 * zt-cli.c - the operator's command line for a running ztd: info, peers,
 * ping and rules here; networks, join, leave and bridge in netcmd.c; the
 * controller in ctlcmd.c. Everything goes through the local HTTP API; -j
 * prints its JSON.
 */
#include "cli/api.h"
#include "cli/ctlcmd.h"
#include "cli/netcmd.h"
#include "cli/table.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"NAME\n"
	"    zt-cli - query and control a running ztd\n"
	"\n"
	"SYNOPSIS\n"
	"    zt-cli [-H HOME] [-p PORT] [-j] COMMAND [ARGS]\n"
	"\n"
	"DESCRIPTION\n"
	"    zt-cli talks to ztd's local HTTP API on 127.0.0.1, authenticated with the token in\n"
	"    HOME/authtoken.secret. Without -j it prints aligned tables for people; with -j it\n"
	"    prints the API's JSON for scripts.\n"
	"\n"
	"OPTIONS\n"
	"    -H HOME   ztd's state directory (default $ZT_HOME or /var/lib/zt)\n"
	"    -p PORT   ztd's API port (default: HOME/ztd.port, else 9993)\n"
	"    -j        print JSON\n"
	"    -h        this text\n"
	"\n"
	"COMMANDS\n"
	"    info                  address, public identity, version, ports, roles, online\n"
	"    peers                 every peer: address, role, link (DIRECT or RELAY), latency,\n"
	"                          paths (* marks the preferred one), last heard, session age,\n"
	"                          and why a relayed peer is not direct\n"
	"    ping [-c N] [-i SECONDS] [-W SECONDS] [-s BYTES] ADDRESS\n"
	"                          end-to-end echo over the encrypted session (default 4 echoes,\n"
	"                          1 s apart, no payload; -s adds up to 1024 bytes of the text\n"
	"                          \"ZT-ECHO-PAYLOAD-\" repeated), one line per reply with the\n"
	"                          round-trip time and whether it came DIRECT or via RELAY;\n"
	"                          -W sets how long to wait for each reply (default 5 s)\n"
	"    networks              joined networks: id, name, status and reason, interface, MAC,\n"
	"                          addresses, bridge flag, members seen\n"
	"    join [--ifname NAME] [-w SECONDS] NWID   join a network (as zt-join)\n"
	"    leave NWID            leave a network (as zt-leave)\n"
	"    bridge NWID IFNAME    attach the NIC IFNAME to the network through libpcap (capture\n"
	"                          and inject; no kernel bridge needed). The controller must mark\n"
	"                          this member as a bridge. The other way: put the TAP and the NIC\n"
	"                          in a Linux bridge yourself (see README.md).\n"
	"    rules NWID            the network's rules as text, each with its counters\n"
	"                          (frames matched inbound/outbound) and default drops\n"
	"    rules trace [-n LINES] [-t SECONDS] NWID\n"
	"                          show, for live frames, which rule decided and why (direction,\n"
	"                          frame summary, rule line); bounded (default 20 lines, 10 s)\n"
	"    controller network create [NAME] | list | show NWID | set NWID KEY VALUE... | delete NWID\n"
	"    controller member list NWID | show NWID ADDR | authorize NWID ADDR |\n"
	"                      deauthorize NWID ADDR | delete NWID ADDR | set NWID ADDR KEY VALUE...\n"
	"                          manage a controller's networks and members (ztd --controller).\n"
	"                          VALUE is JSON if it parses as JSON, else a string; shorthands:\n"
	"                          'set NWID hook URL SECRET' sets the network's web hook,\n"
	"                          'set NWID rules-file FILE' sets rules_source from a file\n"
	"\n"
	"EXIT STATUS\n"
	"    0 success; 1 the command failed (ztd unreachable, API error, no ping reply);\n"
	"    2 bad usage.\n"
	"\n"
	"EXAMPLES\n"
	"    zt-cli info\n"
	"    zt-cli -j peers | python3 -m json.tool\n"
	"    zt-cli ping -c 3 89e92ceee5\n";

static bool json_out;

static void usage_error(const char *msg)
{
	fprintf(stderr, "zt-cli: %s\ntry 'zt-cli -h'\n", msg);
	exit(2);
}

static int request(struct zt_api_client *c, const char *method, const char *path, json_t **reply)
{
	long status = 0;

	if (zt_api_request(c, method, path, NULL, &status, reply) < 0) {
		fprintf(stderr, "zt-cli: %s\n", zt_api_error(c));
		return 1;
	}
	return 0;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static void fmt_ms(char *out, size_t len, json_t *v)
{
	if (!json_is_integer(v))
		snprintf(out, len, "-");
	else if (json_integer_value(v) >= 10000)
		snprintf(out, len, "%llds", (long long)(json_integer_value(v) / 1000));
	else
		snprintf(out, len, "%lldms", (long long)json_integer_value(v));
}

static int cmd_info(struct zt_api_client *c)
{
	json_t *r = NULL, *roles;
	char rolebuf[64] = "";
	size_t i;
	json_t *v;

	if (request(c, "GET", "/status", &r))
		return 1;
	if (json_out) {
		print_json(r);
		json_decref(r);
		return 0;
	}
	roles = json_object_get(r, "roles");
	json_array_foreach(roles, i, v) {
		if (i)
			strncat(rolebuf, "+", sizeof(rolebuf) - strlen(rolebuf) - 1);
		strncat(rolebuf, json_string_value(v) ? json_string_value(v) : "?", sizeof(rolebuf) - strlen(rolebuf) - 1);
	}
	printf("address   %s\n", str(r, "address"));
	printf("identity  %s\n", str(r, "identity"));
	printf("version   %s\n", str(r, "version"));
	printf("ports     udp %lld, api 127.0.0.1:%lld/tcp\n", (long long)json_integer_value(json_object_get(r, "udp_port")),
	       (long long)json_integer_value(json_object_get(r, "api_port")));
	printf("roles     %s\n", rolebuf);
	printf("online    %s\n", json_is_true(json_object_get(r, "online")) ? "yes" : "no (no root answering)");
	printf("public    %s\n", str(r, "observed"));
	json_decref(r);
	return 0;
}

static int cmd_peers(struct zt_api_client *c)
{
	static const char *const headers[] = {"address", "role", "link", "latency", "paths", "last heard", "session",
					      "note"};
	struct zt_table *t;
	json_t *r = NULL, *p;
	size_t i;

	if (request(c, "GET", "/peers", &r))
		return 1;
	if (json_out) {
		print_json(r);
		json_decref(r);
		return 0;
	}
	if (zt_table_new(&t, 8, headers) < 0) {
		json_decref(r);
		return 1;
	}
	json_array_foreach(r, i, p) {
		char lat[32], heard[32], sess[32], paths[512] = "";
		json_t *paths_arr = json_object_get(p, "paths"), *q;
		size_t k;

		json_array_foreach(paths_arr, k, q) {
			char one[96];
			snprintf(one, sizeof(one), "%s%s%s%s", k ? " " : "", str(q, "address"),
				 json_is_true(json_object_get(q, "preferred")) ? "*" : "",
				 json_is_true(json_object_get(q, "alive")) ? "" : "(dead)");
			strncat(paths, one, sizeof(paths) - strlen(paths) - 1);
		}
		fmt_ms(lat, sizeof(lat), json_object_get(p, "latency_ms"));
		fmt_ms(heard, sizeof(heard), json_object_get(p, "last_heard_ms_ago"));
		if (strcmp(heard, "-"))
			strncat(heard, " ago", sizeof(heard) - strlen(heard) - 1);
		fmt_ms(sess, sizeof(sess), json_object_get(p, "session_age_ms"));
		zt_table_row(t, str(p, "address"), str(p, "role"), str(p, "link"), lat, paths[0] ? paths : "-", heard,
			     sess, json_is_string(json_object_get(p, "relay_reason")) ? str(p, "relay_reason") : "");
	}
	zt_table_print(t, stdout);
	zt_table_free(t);
	json_decref(r);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* One echo: start it, then poll its state (bounded by ztd's own 5 s timeout). */
static int ping_once(struct zt_api_client *c, const char *address, int size, long wait_ms, int seq,
		     json_t *results)
{
	char path[96];
	json_t *r = NULL;
	long long id;

	snprintf(path, sizeof(path), "/ping/%s?size=%d", address, size);
	if (request(c, "POST", path, &r))
		return -1;
	id = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	snprintf(path, sizeof(path), "/ping/%lld", id);
	for (long waited = 0; waited < 6000; waited += 10) {
		const char *state;
		sleep_ms(10);
		if (request(c, "GET", path, &r))
			return -1;
		state = str(r, "state");
		if (strcmp(state, "pending") == 0 && waited + 10 >= wait_ms) {
			json_object_set_new(r, "state", json_string("timeout"));
			state = "timeout";
		}
		if (strcmp(state, "pending") != 0) {
			bool ok = strcmp(state, "replied") == 0;
			if (json_out)
				json_array_append(results, r);
			else if (ok)
				printf("reply from %s: seq=%d time=%lld ms via %s\n", address, seq,
				       (long long)json_integer_value(json_object_get(r, "rtt_ms")), str(r, "link"));
			else
				printf("no reply from %s: seq=%d (timed out after %ld ms)\n", address, seq, wait_ms);
			json_decref(r);
			return ok ? 1 : 0;
		}
		json_decref(r);
	}
	return 0;
}

static int cmd_ping(struct zt_api_client *c, int argc, char **argv)
{
	int count = 4, got = 0, opt, size = 0;
	long interval_ms = 1000, wait_ms = 5000;
	json_t *results = json_array();
	double secs;
	char *end;

	optind = 1;
	while ((opt = getopt(argc, argv, "+c:i:s:W:")) != -1) {
		switch (opt) {
		case 'c':
			count = (int)strtol(optarg, &end, 10);
			if (*end || count < 1 || count > 10000)
				usage_error("ping: -c wants a count from 1 to 10000");
			break;
		case 'i':
			secs = strtod(optarg, &end);
			if (*end || secs < 0.01 || secs > 60)
				usage_error("ping: -i wants an interval from 0.01 to 60 seconds");
			interval_ms = (long)(secs * 1000);
			break;
		case 'W':
			secs = strtod(optarg, &end);
			if (*end || secs < 0.01 || secs > 5)
				usage_error("ping: -W wants a reply timeout from 0.01 to 5 seconds");
			wait_ms = (long)(secs * 1000);
			break;
		case 's':
			size = (int)strtol(optarg, &end, 10);
			if (*end || size < 0 || size > 1024)
				usage_error("ping: -s wants a payload size from 0 to 1024 bytes");
			break;
		default:
			usage_error("ping: usage: ping [-c N] [-i SECONDS] [-W SECONDS] [-s BYTES] ADDRESS");
		}
	}
	if (optind != argc - 1)
		usage_error("ping: usage: ping [-c N] [-i SECONDS] [-W SECONDS] [-s BYTES] ADDRESS");
	for (int i = 1; i <= count; i++) {
		int r = ping_once(c, argv[optind], size, wait_ms, i, results);
		if (r < 0) {
			json_decref(results);
			return 1;
		}
		got += r;
		if (i < count)
			sleep_ms(interval_ms);
	}
	if (json_out)
		print_json(results);
	else
		printf("--- %s: %d sent, %d replies, %d%% lost\n", argv[optind], count, got, (count - got) * 100 / count);
	json_decref(results);
	return got > 0 ? 0 : 1;
}

static int rules_show(struct zt_api_client *c, const char *nwid)
{
	static const char *const headers[] = {"line", "rule", "in", "out"};
	struct zt_table *t;
	json_t *r = NULL, *rule;
	char path[96];
	size_t i;

	snprintf(path, sizeof(path), "/network/%s/rules", nwid);
	if (request(c, "GET", path, &r))
		return 1;
	if (json_out) {
		print_json(r);
		json_decref(r);
		return 0;
	}
	if (!json_is_true(json_object_get(r, "has_rules"))) {
		printf("%s: no rules set: every frame is accepted\n", nwid);
		json_decref(r);
		return 0;
	}
	if (zt_table_new(&t, 4, headers) < 0) {
		json_decref(r);
		return 1;
	}
	json_array_foreach(json_object_get(r, "rules"), i, rule) {
		char line[16], in[24], out[24];
		snprintf(line, sizeof(line), "%lld", (long long)json_integer_value(json_object_get(rule, "line")));
		snprintf(in, sizeof(in), "%lld", (long long)json_integer_value(json_object_get(rule, "inbound")));
		snprintf(out, sizeof(out), "%lld", (long long)json_integer_value(json_object_get(rule, "outbound")));
		zt_table_row(t, line, str(rule, "text"), in, out);
	}
	zt_table_print(t, stdout);
	zt_table_free(t);
	printf("no rule matched (dropped): %lld in, %lld out\n",
	       (long long)json_integer_value(json_object_get(json_object_get(r, "default_drop"), "inbound")),
	       (long long)json_integer_value(json_object_get(json_object_get(r, "default_drop"), "outbound")));
	json_decref(r);
	return 0;
}

static int rules_trace(struct zt_api_client *c, int argc, char **argv)
{
	long lines = 20, secs = 10, after = 0, shown = 0, status = 0;
	json_t *body, *r = NULL, *e;
	char path[128], *end;
	int opt;
	size_t i;

	optind = 1;
	while ((opt = getopt(argc, argv, "+n:t:")) != -1) {
		long *dst = opt == 'n' ? &lines : opt == 't' ? &secs : NULL;
		if (!dst)
			usage_error("rules trace: usage: rules trace [-n LINES] [-t SECONDS] NWID");
		*dst = strtol(optarg, &end, 10);
		if (*end || *dst < 1 || *dst > 256)
			usage_error("rules trace: -n wants 1..256 lines, -t 1..60 seconds");
	}
	if (optind != argc - 1 || secs > 60)
		usage_error("rules trace: usage: rules trace [-n LINES] [-t SECONDS] NWID");
	snprintf(path, sizeof(path), "/network/%s/rules/trace", argv[optind]);
	body = json_pack("{s:i, s:i}", "lines", (int)lines, "seconds", (int)secs);
	if (zt_api_request(c, "POST", path, body, &status, &r) < 0) {
		json_decref(body);
		fprintf(stderr, "zt-cli: %s\n", zt_api_error(c));
		return 1;
	}
	json_decref(body);
	json_decref(r);
	for (long waited = 0; waited < secs * 1000 && shown < lines; waited += 200) {
		char get[160];
		sleep_ms(200);
		snprintf(get, sizeof(get), "%s?after=%ld", path, after);
		if (request(c, "GET", get, &r))
			return 1;
		json_array_foreach(r, i, e) {
			after = (long)json_integer_value(json_object_get(e, "seq"));
			if (json_out)
				print_json(e);
			else
				printf("%s\n", str(e, "line"));
			shown++;
		}
		json_decref(r);
	}
	if (!json_out)
		printf("--- %ld decision(s) traced\n", shown);
	return 0;
}

static int cmd_rules(struct zt_api_client *c, int argc, char **argv)
{
	if (argc == 2)
		return rules_show(c, argv[1]);
	if (argc >= 3 && strcmp(argv[1], "trace") == 0)
		return rules_trace(c, argc - 1, argv + 1);
	usage_error("rules: usage: rules NWID | rules trace [-n LINES] [-t SECONDS] NWID");
	return 2;
}

static int cmd_join(struct zt_api_client *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"ifname", required_argument, NULL, 'I'}, {NULL, 0, NULL, 0}};
	const char *ifname = NULL;
	int opt, wait_s = 0;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+w:", longopts, NULL)) != -1) {
		if (opt == 'I') {
			ifname = optarg;
		} else if (opt == 'w') {
			wait_s = (int)strtol(optarg, &end, 10);
			if (*end || wait_s < 0 || wait_s > 3600)
				usage_error("join: -w wants seconds from 0 to 3600");
		} else {
			usage_error("join: usage: join [--ifname NAME] [-w SECONDS] NWID");
		}
	}
	if (optind != argc - 1)
		usage_error("join: usage: join [--ifname NAME] [-w SECONDS] NWID");
	return zt_netcmd_join(c, argv[optind], ifname, wait_s, json_out);
}

int main(int argc, char **argv)
{
	struct zt_api_opts opts = {0};
	struct zt_api_client client;
	const char *cmd;
	int opt, rc;

	while ((opt = getopt(argc, argv, "+" ZT_API_GETOPT "jh")) != -1) {
		if (opt == 'j')
			json_out = true;
		else if (opt == 'h') {
			fputs(usage_text, stdout);
			return 0;
		} else if (!zt_api_opt(&opts, opt, optarg))
			usage_error("unknown option");
	}
	if (optind >= argc)
		usage_error("missing COMMAND (info, peers, ping)");
	cmd = argv[optind];
	if (strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "info") && strcmp(cmd, "peers") && strcmp(cmd, "ping") && strcmp(cmd, "networks") &&
	    strcmp(cmd, "join") && strcmp(cmd, "leave") && strcmp(cmd, "bridge") && strcmp(cmd, "controller") &&
	    strcmp(cmd, "rules"))
		usage_error("unknown command (info, peers, ping, networks, join, leave, bridge, rules, controller)");
	if (zt_api_init(&client, &opts) < 0) {
		fprintf(stderr, "zt-cli: %s\n", zt_api_error(&client));
		return 1;
	}
	if (strcmp(cmd, "info") == 0)
		rc = cmd_info(&client);
	else if (strcmp(cmd, "peers") == 0)
		rc = cmd_peers(&client);
	else if (strcmp(cmd, "networks") == 0)
		rc = zt_netcmd_list(&client, json_out);
	else if (strcmp(cmd, "join") == 0)
		rc = cmd_join(&client, argc - optind, argv + optind);
	else if (strcmp(cmd, "leave") == 0)
		rc = argc - optind == 2 ? zt_netcmd_leave(&client, argv[optind + 1], json_out) : 2;
	else if (strcmp(cmd, "bridge") == 0)
		rc = argc - optind == 3 ? zt_netcmd_bridge(&client, argv[optind + 1], argv[optind + 2], json_out) : 2;
	else if (strcmp(cmd, "rules") == 0)
		rc = cmd_rules(&client, argc - optind, argv + optind);
	else if (strcmp(cmd, "controller") == 0)
		rc = zt_ctlcmd(&client, argc - optind - 1, argv + optind + 1, json_out);
	else
		rc = cmd_ping(&client, argc - optind, argv + optind);
	if (rc == 2)
		fprintf(stderr, "zt-cli: bad usage of '%s'; try 'zt-cli -h'\n", cmd);
	zt_api_free(&client);
	return rc;
}
