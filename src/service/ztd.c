/*
 * ztd.c - the daemon: parses the command line and HOME/ztd.conf, loads or
 * creates the identity, binds the core to the UDP socket and event loop,
 * serves the local API, and shuts down cleanly on SIGTERM.
 */
#include "service/ztd.h"
#include "crypto.h"
#include "osdep/netif.h"
#include "osdep/os.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"NAME\n"
	"    ztd - the zt daemon: node, root and network controller of the zt virtual Ethernet\n"
	"\n"
	"SYNOPSIS\n"
	"    ztd [-H HOME] [-p PORT] [--root] [--controller] [--log-level LEVEL] [-v]\n"
	"\n"
	"DESCRIPTION\n"
	"    ztd owns this machine's zt identity, keeps encrypted sessions with other nodes over\n"
	"    UDP, and serves a local HTTP JSON API on 127.0.0.1 (TCP, same port number) that\n"
	"    zt-cli, zt-join and zt-leave use. It runs in the foreground and logs to stderr.\n"
	"\n"
	"OPTIONS\n"
	"    -H, --home HOME      state directory (default /var/lib/zt): identity.secret,\n"
	"                         identity.public, ztd.conf, authtoken.secret, ztd.port\n"
	"    -p, --port PORT      UDP port, and TCP port of the local API (default 9993)\n"
	"    --root               also act as a root: relay for nodes, answer WHOIS, introduce\n"
	"                         peers for hole punching, tell nodes their public address\n"
	"    --controller         also act as a network controller (see controller/README.md)\n"
	"    --log-level LEVEL    error, warn, info (default), debug or trace\n"
	"    -v                   same as --log-level debug\n"
	"    -h, --help           this text\n"
	"\n"
	"FILES\n"
	"    HOME/ztd.conf        libconfig settings, e.g.\n"
	"                           roots = ( { identity = \"<zt-idtool getpublic output>\";\n"
	"                                       endpoints = [ \"198.51.100.10/9993\" ]; } );\n"
	"                           port = 9993; root = false; controller = false;\n"
	"                           cipher = \"chacha20-poly1305\";  # or \"aes-256-gcm\"\n"
	"                           log_level = \"info\";\n"
	"    HOME/identity.secret this node's secret identity (mode 0600), created on first start\n"
	"    HOME/authtoken.secret the local API token (mode 0600), created on first start\n"
	"    HOME/peers.cache     known peers' public identities, endpoints and networks (mode\n"
	"                         0600; ztd.conf peer_cache_max, default 256): sessions are up\n"
	"                         before a TAP after a restart\n"
	"\n"
	"SIGNALS\n"
	"    SIGTERM, SIGINT      clean shutdown\n"
	"\n"
	"EXIT STATUS\n"
	"    0 after a clean shutdown, 1 on a start-up error (the message says which), 2 on bad usage.\n";

static volatile int exit_code;

static void log_sink(void *ctx, int level, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s %s\n", when, ts.tv_nsec / 1000000, zt_log_level_name(level), msg);
}

/* ---------- identity ---------- */

static int load_identity(struct ztd *d)
{
	char path[600], pub_path[600], text[ZT_IDENTITY_SECRET_TEXT_MAX], *buf;
	size_t len;
	int err;

	snprintf(path, sizeof(path), "%s/identity.secret", d->cfg.home);
	snprintf(pub_path, sizeof(pub_path), "%s/identity.public", d->cfg.home);
	err = zt_os_read_file(path, 4096, &buf, &len);
	if (err == ZT_ENOENT) {
		zt_log(ZT_LOG_INFO, "no identity in %s yet: generating one", d->cfg.home);
		err = zt_identity_generate(&d->id, zt_os_random, NULL);
		if (!err)
			err = zt_identity_to_text(&d->id, true, text, sizeof(text));
		if (!err)
			err = zt_os_write_file_atomic(path, text, strlen(text), 0600);
		zt_wipe(text, sizeof(text));
		if (err) {
			zt_log(ZT_LOG_ERROR, "cannot create %s: %s", path, zt_strerror(err));
			return err;
		}
	} else if (err) {
		zt_log(ZT_LOG_ERROR, "cannot read %s: %s", path, err == ZT_EIO ? strerror(errno) : zt_strerror(err));
		return err;
	} else {
		err = zt_identity_from_text(&d->id, buf);
		zt_wipe(buf, len);
		free(buf);
		if (!err)
			err = zt_identity_validate(&d->id);
		if (!err && !d->id.has_secret)
			err = ZT_EINVAL;
		if (err) {
			zt_log(ZT_LOG_ERROR, "%s: not a valid secret identity (%s)", path, zt_strerror(err));
			return err;
		}
	}
	if (zt_identity_to_text(&d->id, false, text, sizeof(text)) == 0)
		zt_os_write_file_atomic(pub_path, text, strlen(text), 0644);
	return 0;
}

/* ---------- the core's callbacks ---------- */

static int cb_send(void *ctx, const struct zt_endpoint *to, const uint8_t *data, size_t len)
{
	struct ztd *d = ctx;

	return zt_udp_queue(d->txq, to, data, len);
}

static void cb_echo(void *ctx, uint64_t peer, uint32_t id, uint64_t rtt_ms, enum zt_link link)
{
	ztd_ping_reply(ctx, peer, id, rtt_ms, link);
}

static void cb_vl2(void *ctx, uint64_t peer, uint8_t verb, const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct ztd *d = ctx;

	if (d->vl2)
		zt_vl2_message(d->vl2, peer, verb, data, len, now_ms);
}

static bool cb_path_allowed(void *ctx, const struct zt_endpoint *ep)
{
	return ztd_own_path_allowed(ctx, ep);
}

/* ---------- event loop glue ---------- */

/* Our own overlay interfaces, then the addresses we announce: every usable
 * address except those on our own interfaces. */
static void refresh_local_endpoints(struct ztd *d, uint64_t now_ms)
{
	struct zt_netif_addr addrs[64];
	struct zt_endpoint eps[ZT_MAX_LOCAL_ENDPOINTS];
	unsigned skip[2 * ZTD_OWN_IFS_MAX], n_skip, n = 0;
	size_t count = 0;
	int err;

	/* With the netlink monitor, changes arrive as events; without it, poll. */
	d->next_local_refresh_ms = d->netmon_fd >= 0 ? UINT64_MAX : now_ms + ZTD_LOCAL_REFRESH_MS;
	d->last_local_refresh_ms = now_ms;
	ztd_own_refresh(d);
	n_skip = ztd_own_not_announced(d, skip, ZT_ARRAY_LEN(skip));
	err = zt_netif_list(skip, n_skip, addrs, ZT_ARRAY_LEN(addrs), &count);
	if (err < 0 && err != ZT_ETOOBIG)
		return;
	for (size_t i = 0; i < count && n < ZT_MAX_LOCAL_ENDPOINTS; i++) {
		eps[n] = addrs[i].addr;
		eps[n].port = d->udp.port;
		n++;
	}
	if (count > n || err == ZT_ETOOBIG)
		zt_log(ZT_LOG_DEBUG, "local endpoints: %u announced, more exist (ZT_MAX_LOCAL_ENDPOINTS %u)", n,
		       (unsigned)ZT_MAX_LOCAL_ENDPOINTS);
	zt_node_set_local_endpoints(d->node, eps, n);
}

/* Link, address or route changed: re-read before the next wait, at most every ZTD_NETIF_SETTLE_MS. */
static void on_netmon(void *ctx, int fd, unsigned events)
{
	struct ztd *d = ctx;
	uint64_t soon = d->last_local_refresh_ms + ZTD_NETIF_SETTLE_MS;

	(void)events;
	if (zt_netif_monitor_drain(fd) > 0 && d->next_local_refresh_ms > soon)
		d->next_local_refresh_ms = soon;
}

static void schedule_tick(struct ztd *d, uint64_t deadline);

static void on_tick(void *ctx, uint64_t now_ms)
{
	struct ztd *d = ctx;
	uint64_t next;

	d->tick_timer = 0;
	if (now_ms >= d->next_local_refresh_ms)
		refresh_local_endpoints(d, now_ms);
	next = zt_node_tick(d->node, now_ms);
	if (d->vl2)
		ztd_networks_tick(d, now_ms);
	ztd_peer_cache_tick(d, now_ms);
	/* A TAP held down for its cached members' sessions is re-checked soon (bounded: ZT_RESTART_PORT_WAIT_MS). */
	if (d->vl2 && ztd_networks_waiting(d) && next > now_ms + ZTD_PORT_WAIT_POLL_MS)
		next = now_ms + ZTD_PORT_WAIT_POLL_MS;
	for (unsigned i = 0; i < ZTD_MAX_PINGS; i++) {
		struct ztd_ping *p = &d->pings[i];
		if (p->state == ZTD_PING_PENDING && now_ms - p->sent_ms >= ZTD_PING_TIMEOUT_MS)
			p->state = ZTD_PING_TIMEOUT;
	}
	schedule_tick(d, next);
}

static void schedule_tick(struct ztd *d, uint64_t deadline)
{
	if (zt_loop_timer_add(d->loop, deadline, on_tick, d, &d->tick_timer) < 0) {
		zt_log(ZT_LOG_ERROR, "cannot schedule the node's timer");
		return;
	}
	d->tick_deadline_ms = deadline;
}

/* A deadline that moved earlier (a TAP changed: re-read addresses now) pulls the tick in. */
static void pull_tick_in(struct ztd *d, uint64_t deadline)
{
	if (d->tick_timer && deadline >= d->tick_deadline_ms)
		return;
	if (d->tick_timer)
		zt_loop_timer_cancel(d->loop, d->tick_timer);
	d->tick_timer = 0;
	schedule_tick(d, deadline);
}

/* Redis's beforesleep: every handler only queued its datagrams; they leave here, once. */
static void before_wait(void *ctx)
{
	struct ztd *d = ctx;

	pull_tick_in(d, d->next_local_refresh_ms);
	zt_udp_flush(d->txq);
}

static void on_udp(void *ctx, int fd, unsigned events)
{
	struct ztd *d = ctx;

	(void)fd;
	if (events & ZT_LOOP_OUT)
		zt_udp_flush(d->txq);
	if (!(events & ZT_LOOP_IN))
		return;
	/* Bounded: a few batches per wake-up, so timers and the API stay responsive. */
	for (int round = 0; round < 8; round++) {
		int n = zt_udp_recv_batch(&d->udp, d->rx);
		uint64_t now = zt_os_now_ms();
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			/* Defence in depth: an underlay datagram that came in through our own overlay is a loop. */
			if (ztd_own_arrived_on(d, d->rx->ifindex[i])) {
				d->own.drop_own_overlay++;
				continue;
			}
			zt_node_receive(d->node, &d->rx->from[i], d->rx->data[i], d->rx->len[i], now);
		}
		if (n < ZT_UDP_BATCH)
			break;
	}
}

static void on_want_write(void *ctx, bool on)
{
	struct ztd *d = ctx;

	zt_loop_mod_fd(d->loop, d->udp.fd, ZT_LOOP_IN | (on ? ZT_LOOP_OUT : 0));
}

static void on_stop(void *ctx, int signo)
{
	struct ztd *d = ctx;

	zt_log(ZT_LOG_INFO, "signal %d: shutting down", signo);
	zt_loop_stop(d->loop);
}

/* ---------- start-up ---------- */

static int parse_args(struct ztd_config *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"home", required_argument, NULL, 'H'},   {"port", required_argument, NULL, 'p'},
		{"root", no_argument, NULL, 'R'},         {"controller", no_argument, NULL, 'C'},
		{"log-level", required_argument, NULL, 'L'}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	char *end;
	long v;

	while ((opt = getopt_long(argc, argv, "H:p:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'H':
			if (strlen(optarg) >= sizeof(c->home)) {
				fprintf(stderr, "ztd: -H: path too long\n");
				return 2;
			}
			snprintf(c->home, sizeof(c->home), "%s", optarg);
			break;
		case 'p':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 65535) {
				fprintf(stderr, "ztd: -p: \"%s\" is not a port number (1..65535)\n", optarg);
				return 2;
			}
			c->port = (uint16_t)v;
			break;
		case 'R':
			c->root = true;
			break;
		case 'C':
			c->controller = true;
			break;
		case 'L':
			c->log_level = zt_log_level_parse(optarg);
			if (c->log_level < 0) {
				fprintf(stderr, "ztd: --log-level: \"%s\" is not error, warn, info, debug or trace\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			c->log_level = ZT_LOG_DEBUG;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fprintf(stderr, "usage: ztd [-H HOME] [-p PORT] [--root] [--controller] [--log-level LEVEL]\n"
					"try 'ztd --help'\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ztd: unexpected argument \"%s\"; try 'ztd --help'\n", argv[optind]);
		return 2;
	}
	return 0;
}

static int write_port_file(struct ztd *d)
{
	char path[600], text[16];

	snprintf(path, sizeof(path), "%s/ztd.port", d->cfg.home);
	snprintf(text, sizeof(text), "%u\n", d->cfg.port);
	return zt_os_write_file_atomic(path, text, strlen(text), 0644);
}

static int start_node(struct ztd *d)
{
	struct zt_node_config nc = {
		.identity = &d->id,
		.is_root = d->cfg.root,
		.cipher = d->cfg.cipher,
		.roots = d->cfg.roots,
		.n_roots = d->cfg.n_roots,
	};
	struct zt_node_callbacks cb = {
		.ctx = d,
		.send = cb_send,
		.random = zt_os_random,
		.echo_reply = cb_echo,
		.vl2_message = cb_vl2,
		.path_allowed = cb_path_allowed,
	};
	uint64_t now = zt_os_now_ms();
	int err;

	err = zt_node_new(&d->node, &nc, &cb, now);
	if (err) {
		zt_log(ZT_LOG_ERROR, "cannot start the node: %s", zt_strerror(err));
		return err;
	}
	refresh_local_endpoints(d, now);
	schedule_tick(d, now);
	return 0;
}

static int start_io(struct ztd *d)
{
	int err;

	d->txq = calloc(1, sizeof(*d->txq));
	d->rx = calloc(1, sizeof(*d->rx));
	if (!d->txq || !d->rx)
		return ZT_ENOMEM;
	err = zt_loop_new(&d->loop);
	if (err)
		return err;
	err = zt_loop_signals(d->loop, on_stop, NULL, d);
	if (err)
		return err;
	zt_loop_set_before_wait(d->loop, before_wait, d);
	d->netmon_fd = zt_netif_monitor_open();
	if (d->netmon_fd < 0)
		zt_log(ZT_LOG_WARN, "no netlink monitor (%s): interface changes are re-read every %u s",
		       zt_strerror(d->netmon_fd), ZTD_LOCAL_REFRESH_MS / 1000);
	else if ((err = zt_loop_add_fd(d->loop, d->netmon_fd, ZT_LOOP_IN, on_netmon, d)) < 0)
		return err;
	err = zt_udp_open(&d->udp, NULL, d->cfg.port);
	if (err) {
		zt_log(ZT_LOG_ERROR, "cannot bind UDP port %u: %s (is another ztd running?)", d->cfg.port,
		       strerror(errno));
		return err;
	}
	zt_udp_rx_batch_init(d->rx);
	zt_udp_txq_init(d->txq, &d->udp, on_want_write, d);
	err = zt_loop_add_fd(d->loop, d->udp.fd, ZT_LOOP_IN, on_udp, d);
	if (err)
		return err;
	err = zt_httpd_token_load_or_create(d->cfg.home, d->token, sizeof(d->token));
	if (err) {
		zt_log(ZT_LOG_ERROR, "cannot read or create %s/authtoken.secret: %s", d->cfg.home, zt_strerror(err));
		return err;
	}
	err = zt_httpd_new(&d->httpd, d->loop, d->cfg.port, d->token);
	if (err) {
		zt_log(ZT_LOG_ERROR, "cannot serve the local API on 127.0.0.1:%u (TCP): %s", d->cfg.port,
		       zt_strerror(err));
		return err;
	}
	return 0;
}

static void shutdown_all(struct ztd *d)
{
	if (d->txq && d->udp.fd > 0)
		zt_udp_flush(d->txq);
	zt_httpd_free(d->httpd);
	if (d->node && d->loop)
		ztd_peer_cache_save(d, zt_os_now_ms());
	if (d->vl2)
		ztd_networks_stop(d);
	ztd_controller_stop(d);
	zt_node_free(d->node);
	if (d->udp.fd > 0)
		zt_udp_close(&d->udp);
	zt_loop_free(d->loop);
	if (d->netmon_fd >= 0)
		close(d->netmon_fd);
	free(d->txq);
	free(d->rx);
	ztd_peer_cache_free(d);
	zt_identity_wipe(&d->id);
	zt_wipe(d->token, sizeof(d->token));
}

int main(int argc, char **argv)
{
	static struct ztd d = {.netmon_fd = -1};
	char err_text[1024] = "";
	int err;

	zt_log_set_sink(log_sink, NULL);
	ztd_config_defaults(&d.cfg);
	err = parse_args(&d.cfg, argc, argv);
	if (err)
		return err;
	if (zt_os_mkdirs(d.cfg.home, 0700) < 0) {
		fprintf(stderr, "ztd: cannot create %s: %s\n", d.cfg.home, strerror(errno));
		return 1;
	}
	{
		/* The command line wins over the file: remember what it set. */
		struct ztd_config cli = d.cfg;
		if (ztd_config_load(&d.cfg, err_text, sizeof(err_text)) < 0) {
			fprintf(stderr, "ztd: %s/ztd.conf: %s\n", d.cfg.home, err_text);
			return 1;
		}
		if (cli.port != ZT_DEFAULT_PORT)
			d.cfg.port = cli.port;
		if (cli.log_level != ZT_LOG_INFO)
			d.cfg.log_level = cli.log_level;
	}
	zt_log_set_level(d.cfg.log_level);
	d.started_ms = zt_os_now_ms();
	err = load_identity(&d);
	if (!err)
		err = start_io(&d);
	if (!err)
		err = start_node(&d);
	if (!err)
		err = ztd_api_node_register(&d);
	if (!err)
		err = ztd_controller_start(&d);
	if (!err)
		ztd_peer_cache_load(&d, zt_os_now_ms());
	if (!err)
		err = ztd_networks_start(&d);
	if (!err)
		ztd_peer_cache_expect(&d, zt_os_now_ms());
	if (!err)
		err = ztd_api_networks_register(&d);
	if (!err)
		err = write_port_file(&d);
	if (err) {
		shutdown_all(&d);
		return 1;
	}
	{
		char a[11];
		zt_address_format(a, d.id.address);
		zt_log(ZT_LOG_INFO, "ztd %s: address %s, UDP port %u, API 127.0.0.1:%u, roles: node%s%s, %u root(s) configured",
		       ZT_VERSION_STRING, a, d.cfg.port, d.cfg.port, d.cfg.root ? "+root" : "",
		       d.cfg.controller ? "+controller" : "", d.cfg.n_roots);
	}
	err = zt_loop_run(d.loop);
	shutdown_all(&d);
	zt_log(ZT_LOG_INFO, "stopped");
	return err < 0 ? 1 : exit_code;
}
