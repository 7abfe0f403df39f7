/*
 * netcmd.c - join, leave, list and bridge over ztd's /network API, shared by
 * zt-cli, zt-join and zt-leave so they print the same thing.
 */
#include "cli/netcmd.h"
#include "cli/table.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void zt_netcmd_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
}

bool zt_netcmd_nwid_ok(const char *text)
{
	if (strlen(text) != 16)
		return false;
	for (const char *p = text; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return false;
	return true;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "-";
}

static int call(struct zt_api_client *c, const char *method, const char *path, json_t *body, json_t **reply)
{
	long status = 0;

	if (zt_api_request(c, method, path, body, &status, reply) < 0) {
		fprintf(stderr, "%s\n", zt_api_error(c));
		return 1;
	}
	return 0;
}

static void print_one(json_t *n)
{
	json_t *addrs = json_object_get(n, "addresses"), *a;
	size_t i;

	printf("%s  %s  %s", str(n, "id"), str(n, "status"), str(n, "interface"));
	json_array_foreach(addrs, i, a)
		printf("%s%s", i ? "," : "  ", json_string_value(a) ? json_string_value(a) : "?");
	if (json_is_string(json_object_get(n, "reason")) && *str(n, "reason"))
		printf("  (%s)", str(n, "reason"));
	printf("\n");
}

static bool final_status(const char *s)
{
	return strcmp(s, "OK") == 0 || strcmp(s, "ACCESS_DENIED") == 0 || strcmp(s, "NOT_FOUND") == 0;
}

int zt_netcmd_join(struct zt_api_client *c, const char *nwid_text, const char *ifname, int wait_s, bool json)
{
	char path[64];
	json_t *body = json_object(), *reply = NULL;
	int rc;

	if (!zt_netcmd_nwid_ok(nwid_text)) {
		fprintf(stderr, "\"%s\" is not a network ID (16 hex digits, e.g. 8056c2e21c000001)\n", nwid_text);
		json_decref(body);
		return 2;
	}
	if (ifname)
		json_object_set_new(body, "ifname", json_string(ifname));
	snprintf(path, sizeof(path), "/network/%s", nwid_text);
	rc = call(c, "POST", path, body, &reply);
	json_decref(body);
	for (int i = 0; !rc && i < wait_s * 10 && !final_status(str(reply, "status")); i++) {
		struct timespec ts = {0, 100000000};
		nanosleep(&ts, NULL);
		json_decref(reply);
		reply = NULL;
		rc = call(c, "GET", path, NULL, &reply);
	}
	if (rc)
		return rc;
	if (json)
		zt_netcmd_print_json(reply);
	else
		print_one(reply);
	rc = wait_s > 0 && strcmp(str(reply, "status"), "OK") != 0;
	json_decref(reply);
	return rc;
}

int zt_netcmd_leave(struct zt_api_client *c, const char *nwid_text, bool json)
{
	char path[64];
	json_t *reply = NULL;

	if (!zt_netcmd_nwid_ok(nwid_text)) {
		fprintf(stderr, "\"%s\" is not a network ID (16 hex digits)\n", nwid_text);
		return 2;
	}
	snprintf(path, sizeof(path), "/network/%s", nwid_text);
	if (call(c, "DELETE", path, NULL, &reply))
		return 1;
	if (json)
		zt_netcmd_print_json(reply);
	else
		printf("left %s\n", nwid_text);
	json_decref(reply);
	return 0;
}

int zt_netcmd_list(struct zt_api_client *c, bool json)
{
	static const char *const headers[] = {"id",  "name",   "status",       "interface", "mac",
					      "addresses", "bridge", "members seen", "reason"};
	struct zt_table *t;
	json_t *reply = NULL, *n;
	size_t i;

	if (call(c, "GET", "/network", NULL, &reply))
		return 1;
	if (json) {
		zt_netcmd_print_json(reply);
		json_decref(reply);
		return 0;
	}
	if (zt_table_new(&t, 9, headers) < 0) {
		json_decref(reply);
		return 1;
	}
	json_array_foreach(reply, i, n) {
		char addrs[512] = "", seen[16];
		json_t *a;
		size_t k;

		json_array_foreach(json_object_get(n, "addresses"), k, a) {
			if (k)
				strncat(addrs, ",", sizeof(addrs) - strlen(addrs) - 1);
			strncat(addrs, json_string_value(a) ? json_string_value(a) : "?", sizeof(addrs) - strlen(addrs) - 1);
		}
		snprintf(seen, sizeof(seen), "%lld", (long long)json_integer_value(json_object_get(n, "members_seen")));
		zt_table_row(t, str(n, "id"), str(n, "name"), str(n, "status"), str(n, "interface"), str(n, "mac"),
			     addrs[0] ? addrs : "-", json_is_true(json_object_get(n, "bridge")) ? "yes" : "no", seen,
			     str(n, "reason"));
	}
	zt_table_print(t, stdout);
	zt_table_free(t);
	json_decref(reply);
	return 0;
}

int zt_netcmd_bridge(struct zt_api_client *c, const char *nwid_text, const char *ifname, bool json)
{
	char path[64];
	json_t *body, *reply = NULL;
	int rc;

	if (!zt_netcmd_nwid_ok(nwid_text)) {
		fprintf(stderr, "\"%s\" is not a network ID (16 hex digits)\n", nwid_text);
		return 2;
	}
	snprintf(path, sizeof(path), "/network/%s/bridge", nwid_text);
	body = json_pack("{s:s}", "ifname", ifname);
	rc = call(c, "POST", path, body, &reply);
	json_decref(body);
	if (rc)
		return rc;
	if (json)
		zt_netcmd_print_json(reply);
	else
		printf("%s: bridging %s into the network through libpcap\n", nwid_text, ifname);
	json_decref(reply);
	return 0;
}
