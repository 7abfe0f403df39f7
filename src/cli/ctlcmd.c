/*
 * ctlcmd.c - `zt-cli controller network create|list|show|set|delete` and
 * `zt-cli controller member list|show|authorize|deauthorize|set`. Values given
 * to `set` are parsed as JSON when they are valid JSON, else taken as strings;
 * `hook URL SECRET` and `rules-file FILE` are shorthands. With -j every command
 * prints the API's JSON.
 */
#include "cli/ctlcmd.h"
#include "cli/netcmd.h"
#include "cli/table.h"
#include "osdep/os.h"
#include "base/zt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_FILE_MAX (64 * 1024)

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static int call(struct zt_api_client *c, const char *method, const char *path, json_t *body, json_t **reply)
{
	long status = 0;

	if (zt_api_request(c, method, path, body, &status, reply) < 0) {
		fprintf(stderr, "zt-cli: %s\n", zt_api_error(c));
		return 1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: zt-cli controller network create [NAME] | list | show NWID | set NWID KEY VALUE... | delete NWID\n"
			"       zt-cli controller member list NWID | show NWID ADDR | authorize NWID ADDR |\n"
			"                                deauthorize NWID ADDR | set NWID ADDR KEY VALUE...\n"
			"try 'zt-cli -h'\n");
	return 2;
}

/* KEY VALUE pairs into a JSON object; a few shorthands. */
static json_t *pairs_to_json(int argc, char **argv)
{
	json_t *o = json_object();

	for (int i = 0; i < argc; i++) {
		const char *key = argv[i];
		json_error_t e;
		json_t *v;

		if (strcmp(key, "hook") == 0) {
			if (i + 2 >= argc)
				goto bad;
			json_object_set_new(o, "hooks", json_pack("[{s:s, s:s}]", "url", argv[i + 1], "secret", argv[i + 2]));
			i += 2;
			continue;
		}
		if (strcmp(key, "rules-file") == 0) {
			char *text;
			size_t len;
			int err;
			if (i + 1 >= argc)
				goto bad;
			err = zt_os_read_file(argv[i + 1], RULES_FILE_MAX, &text, &len);
			if (err) {
				fprintf(stderr, "zt-cli: cannot read %s: %s\n", argv[i + 1], zt_strerror(err));
				json_decref(o);
				return NULL;
			}
			json_object_set_new(o, "rules_source", json_stringn(text, len));
			free(text);
			i += 1;
			continue;
		}
		if (i + 1 >= argc)
			goto bad;
		v = json_loads(argv[i + 1], JSON_DECODE_ANY, &e);
		json_object_set_new(o, key, v ? v : json_string(argv[i + 1]));
		i += 1;
	}
	return o;
bad:
	fprintf(stderr, "zt-cli: set wants KEY VALUE pairs (hook URL SECRET, rules-file FILE)\n");
	json_decref(o);
	return NULL;
}

static int show(json_t *reply, bool json)
{
	(void)json;
	zt_netcmd_print_json(reply);
	json_decref(reply);
	return 0;
}

static int network_list(struct zt_api_client *c, bool json)
{
	static const char *const headers[] = {"id", "name", "private", "revision"};
	json_t *reply = NULL, *n;
	struct zt_table *t;
	size_t i;

	if (call(c, "GET", "/controller/network", NULL, &reply))
		return 1;
	if (json)
		return show(reply, json);
	if (zt_table_new(&t, 4, headers) < 0) {
		json_decref(reply);
		return 1;
	}
	json_array_foreach(reply, i, n) {
		char rev[24];
		json_t *item = json_is_string(n) ? NULL : n;
		snprintf(rev, sizeof(rev), "%lld", (long long)json_integer_value(json_object_get(item, "revision")));
		zt_table_row(t, item ? str(item, "id") : json_string_value(n), item ? str(item, "name") : "-",
			     item && json_is_true(json_object_get(item, "private")) ? "yes" : "no", rev);
	}
	zt_table_print(t, stdout);
	zt_table_free(t);
	json_decref(reply);
	return 0;
}

static int member_list(struct zt_api_client *c, const char *nwid, bool json)
{
	static const char *const headers[] = {"address", "authorized", "bridge", "name", "ips"};
	json_t *reply = NULL, *m;
	struct zt_table *t;
	char path[96];
	size_t i;

	snprintf(path, sizeof(path), "/controller/network/%s/member", nwid);
	if (call(c, "GET", path, NULL, &reply))
		return 1;
	if (json)
		return show(reply, json);
	if (zt_table_new(&t, 5, headers) < 0) {
		json_decref(reply);
		return 1;
	}
	json_array_foreach(reply, i, m) {
		char ips[256] = "";
		json_t *ip;
		size_t k;
		json_array_foreach(json_object_get(m, "ip_assignments"), k, ip) {
			if (k)
				strncat(ips, ",", sizeof(ips) - strlen(ips) - 1);
			strncat(ips, json_string_value(ip) ? json_string_value(ip) : "?", sizeof(ips) - strlen(ips) - 1);
		}
		zt_table_row(t, str(m, "address"), json_is_true(json_object_get(m, "authorized")) ? "yes" : "no",
			     json_is_true(json_object_get(m, "bridge")) ? "yes" : "no", str(m, "name"),
			     ips[0] ? ips : "-");
	}
	zt_table_print(t, stdout);
	zt_table_free(t);
	json_decref(reply);
	return 0;
}

static int simple(struct zt_api_client *c, const char *method, const char *path, json_t *body, bool json)
{
	json_t *reply = NULL;
	int rc = call(c, method, path, body, &reply);

	json_decref(body);
	if (rc)
		return rc;
	return show(reply, json);
}

static int network_cmd(struct zt_api_client *c, int argc, char **argv, bool json)
{
	char path[96];

	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "list") == 0 && argc == 1)
		return network_list(c, json);
	if (strcmp(argv[0], "create") == 0 && argc <= 2)
		return simple(c, "POST", "/controller/network",
			      argc == 2 ? json_pack("{s:s}", "name", argv[1]) : json_object(), json);
	if (argc < 2 || !zt_netcmd_nwid_ok(argv[1]))
		return usage();
	snprintf(path, sizeof(path), "/controller/network/%s", argv[1]);
	if (strcmp(argv[0], "show") == 0 && argc == 2)
		return simple(c, "GET", path, NULL, json);
	if (strcmp(argv[0], "delete") == 0 && argc == 2)
		return simple(c, "DELETE", path, NULL, json);
	if (strcmp(argv[0], "set") == 0 && argc >= 4) {
		json_t *body = pairs_to_json(argc - 2, argv + 2);
		return body ? simple(c, "POST", path, body, json) : 2;
	}
	return usage();
}

static int member_cmd(struct zt_api_client *c, int argc, char **argv, bool json)
{
	char path[128];

	if (argc < 2 || !zt_netcmd_nwid_ok(argv[1]))
		return usage();
	if (strcmp(argv[0], "list") == 0 && argc == 2)
		return member_list(c, argv[1], json);
	if (argc < 3 || strlen(argv[2]) != 10)
		return usage();
	snprintf(path, sizeof(path), "/controller/network/%s/member/%s", argv[1], argv[2]);
	if (strcmp(argv[0], "show") == 0 && argc == 3)
		return simple(c, "GET", path, NULL, json);
	if (strcmp(argv[0], "authorize") == 0 && argc == 3)
		return simple(c, "POST", path, json_pack("{s:b}", "authorized", 1), json);
	if (strcmp(argv[0], "deauthorize") == 0 && argc == 3)
		return simple(c, "POST", path, json_pack("{s:b}", "authorized", 0), json);
	if (strcmp(argv[0], "delete") == 0 && argc == 3)
		return simple(c, "DELETE", path, NULL, json);
	if (strcmp(argv[0], "set") == 0 && argc >= 5) {
		json_t *body = pairs_to_json(argc - 3, argv + 3);
		return body ? simple(c, "POST", path, body, json) : 2;
	}
	return usage();
}

int zt_ctlcmd(struct zt_api_client *c, int argc, char **argv, bool json)
{
	if (argc < 1)
		return usage();
	if (strcmp(argv[0], "network") == 0)
		return network_cmd(c, argc - 1, argv + 1, json);
	if (strcmp(argv[0], "member") == 0)
		return member_cmd(c, argc - 1, argv + 1, json);
	return usage();
}
