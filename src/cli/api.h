/*
 * api.h - how every CLI program reaches a running ztd: where its home is
 * (-H, $ZT_HOME, /var/lib/zt), which port (-p, HOME/ztd.port, 9993), the
 * token (HOME/authtoken.secret or $ZT_AUTH_TOKEN) and one JSON request call.
 */
#ifndef ZT_CLI_API_H
#define ZT_CLI_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ZT_API_DEFAULT_HOME "/var/lib/zt"
#define ZT_API_DEFAULT_PORT 9993
#define ZT_API_HOST "127.0.0.1"
#define ZT_API_PORT_FILE "ztd.port" /* ztd writes its API port here */
#define ZT_API_TOKEN_FILE "authtoken.secret"
#define ZT_API_TOKEN_MAX 128 /* the same limit ztd's httpd accepts */
#define ZT_API_CONNECT_TIMEOUT_MS 2000 /* ztd is local: 2 s means it is not there */
#define ZT_API_TIMEOUT_MS 30000 /* a whole request, including slow controller calls */
#define ZT_API_MAX_REPLY (16 * 1024 * 1024) /* bound on what we buffer from ztd */

/* The options every CLI program takes; add ZT_API_GETOPT to its optstring. */
#define ZT_API_GETOPT "H:p:"
#define ZT_API_USAGE "[-H HOME] [-p PORT]"

struct zt_api_opts {
	const char *home; /* -H, NULL: $ZT_HOME, else ZT_API_DEFAULT_HOME */
	const char *port; /* -p, NULL: HOME/ztd.port, else ZT_API_DEFAULT_PORT */
};

struct zt_api_client {
	char home[1024];
	uint16_t port;
	char token[ZT_API_TOKEN_MAX + 1];
	char err[1024 + 256]; /* a sentence for the user after a failure */
	void *curl; /* CURL * */
};

/* Take -H or -p from getopt; false if opt is not one of ours. */
bool zt_api_opt(struct zt_api_opts *o, int opt, const char *arg);

/* Resolve home, port and token. On failure zt_api_error says why, e.g.
 * "cannot read /var/lib/zt/authtoken.secret: Permission denied (run as
 * root or pass -H HOME)". o may be NULL. */
int zt_api_init(struct zt_api_client *c, const struct zt_api_opts *o);
void zt_api_free(struct zt_api_client *c);

/* method "GET", "POST", "DELETE", ...; path "/status"; body NULL or an
 * object (not stolen). 0 on a 2xx reply; otherwise a negative ZT_E* code
 * with zt_api_error set ("ztd: no such network (HTTP 404)", "ztd is not
 * running on 127.0.0.1:9993 (connection refused)"). *status (may be NULL)
 * gets the HTTP status or 0; *reply (may be NULL) the parsed reply of a
 * 2xx (NULL for an empty one), caller json_decref; on failure *reply is
 * NULL and the server's "error" text is in zt_api_error. */
int zt_api_request(struct zt_api_client *c, const char *method, const char *path, json_t *body,
		   long *status, json_t **reply);

const char *zt_api_error(const struct zt_api_client *c);

#endif
