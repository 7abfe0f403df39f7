/*
 * zt-idtool.c - identities by hand: generate one, print its public half,
 * validate it (the costly address check), sign and verify files with it.
 * Works offline on files; talks to no daemon. The identity rules live in
 * src/identity.c, not here.
 */
#include "crypto.h"
#include "identity.h"
#include "osdep/os.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define IDENTITY_FILE_MAX 4096
#define MESSAGE_FILE_MAX (16u * 1024 * 1024)

static const char usage_text[] =
	"NAME\n"
	"    zt-idtool - create, inspect, validate and use zt identities\n"
	"\n"
	"SYNOPSIS\n"
	"    zt-idtool generate [--force] [FILE]\n"
	"    zt-idtool getpublic FILE\n"
	"    zt-idtool validate FILE\n"
	"    zt-idtool sign FILE MSGFILE\n"
	"    zt-idtool verify PUBLIC MSGFILE SIGNATURE\n"
	"    zt-idtool -h | --help\n"
	"\n"
	"DESCRIPTION\n"
	"    A zt identity is an X25519 key pair (key agreement), an Ed25519 key pair\n"
	"    (signatures) and the 40-bit address derived from both public keys with scrypt\n"
	"    (N=2^13, r=8, p=1). The address is what peers, roots and controllers call a node.\n"
	"    The public text form is one line,\n"
	"        ADDRESS:1:PUBLIC_KEYS\n"
	"    ADDRESS being 10 hex digits and PUBLIC_KEYS the X25519 then the Ed25519 public key,\n"
	"    128 hex digits together. The secret form appends \":PRIVATE_KEYS\", the two private\n"
	"    keys in the same order. Keep the secret form private; hand out the public form.\n"
	"    Deriving the address takes about 13 ms of one 2.6 GHz core: validate is slow on purpose.\n"
	"\n"
	"COMMANDS\n"
	"    generate [--force] [FILE]\n"
	"        Make a new identity from the kernel's random source. With FILE, write the\n"
	"        secret form there (atomically, mode 0600) and print the public form; an\n"
	"        existing FILE is kept unless --force is given. Without FILE, print the\n"
	"        secret form.\n"
	"    getpublic FILE\n"
	"        Print the public form of the identity in FILE (secret or public).\n"
	"    validate FILE\n"
	"        Recompute the address from the keys (and, for a secret identity, the public\n"
	"        keys from the private ones). Prints \"ADDRESS: valid\" or the reason it is not.\n"
	"    sign FILE MSGFILE\n"
	"        Sign the bytes of MSGFILE (at most 16 MiB) with the secret identity in FILE;\n"
	"        prints the Ed25519 signature as 128 hex digits.\n"
	"    verify PUBLIC MSGFILE SIGNATURE\n"
	"        Check SIGNATURE (128 hex digits) over MSGFILE. PUBLIC is the identity's text\n"
	"        form itself or a file holding it. Prints \"signature valid\" or\n"
	"        \"signature invalid\".\n"
	"\n"
	"OPTIONS\n"
	"    --force     let generate replace an existing FILE\n"
	"    -h, --help  this text\n"
	"\n"
	"FILES\n"
	"    HOME/identity.secret   ztd's secret identity (mode 0600; ztd creates it on first start)\n"
	"    HOME/identity.public   its public form, safe to share\n"
	"\n"
	"EXIT STATUS\n"
	"    0 success (validate: valid; verify: signature valid); 1 the identity is invalid,\n"
	"    the signature does not check out, or a file could not be read or written;\n"
	"    2 bad usage.\n"
	"\n"
	"EXAMPLES\n"
	"    zt-idtool generate identity.secret > identity.public\n"
	"    zt-idtool validate identity.secret\n"
	"    zt-idtool sign identity.secret release.tar > release.sig\n"
	"    zt-idtool verify identity.public release.tar $(cat release.sig)\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zt-idtool: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ntry 'zt-idtool --help'\n");
	exit(2);
}

/* Why a file could not be read, in words: the errno for OS failures, ours otherwise. */
static const char *read_reason(const char *path, int err)
{
	struct stat st;

	if (err != ZT_EIO && err != ZT_ENOENT)
		return err == ZT_ETOOBIG ? "file too large" : zt_strerror(err);
	if (stat(path, &st) < 0)
		return strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	return zt_strerror(err);
}

static int read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int err = zt_os_read_file(path, max, buf, len);

	if (err) {
		fprintf(stderr, "zt-idtool: %s: cannot read: %s\n", path, read_reason(path, err));
		return 1;
	}
	return 0;
}

static void free_secret(char *buf, size_t len)
{
	zt_wipe(buf, len);
	free(buf);
}

/* Text given in a file or on the command line; what == the path, for messages. */
static int parse_identity(struct zt_identity *id, const char *text, size_t len, const char *what)
{
	int err;

	if (strlen(text) != len) {
		fprintf(stderr, "zt-idtool: %s: not an identity: contains a NUL byte\n", what);
		return 1;
	}
	err = zt_identity_from_text(id, text);
	if (err) {
		fprintf(stderr, "zt-idtool: %s: not an identity: %s\n", what,
			err == ZT_EINVAL ? "reserved address" : zt_strerror(err));
		return 1;
	}
	return 0;
}

static int load_identity(struct zt_identity *id, const char *path)
{
	char *buf;
	size_t len;
	int rc;

	if (read_file(path, IDENTITY_FILE_MAX, &buf, &len))
		return 1;
	rc = parse_identity(id, buf, len, path);
	free_secret(buf, len);
	return rc;
}

static int print_identity(const struct zt_identity *id, bool secret)
{
	char text[ZT_IDENTITY_SECRET_TEXT_MAX];
	int err = zt_identity_to_text(id, secret, text, sizeof(text));

	if (err) {
		fprintf(stderr, "zt-idtool: cannot format identity: %s\n", zt_strerror(err));
		return 1;
	}
	printf("%s\n", text);
	zt_wipe(text, sizeof(text));
	return 0;
}

static int write_secret(const struct zt_identity *id, const char *path, bool force)
{
	char text[ZT_IDENTITY_SECRET_TEXT_MAX + 1];
	struct stat st;
	size_t len;
	int err;

	if (!force && lstat(path, &st) == 0) {
		fprintf(stderr, "zt-idtool: %s: already exists; not overwritten (use --force)\n", path);
		return 1;
	}
	err = zt_identity_to_text(id, true, text, sizeof(text) - 1);
	if (err) {
		fprintf(stderr, "zt-idtool: cannot format identity: %s\n", zt_strerror(err));
		return 1;
	}
	len = strlen(text);
	text[len++] = '\n';
	err = zt_os_write_file_atomic(path, text, len, 0600);
	zt_wipe(text, sizeof(text));
	if (err) {
		fprintf(stderr, "zt-idtool: %s: cannot write: %s\n", path, zt_strerror(err));
		return 1;
	}
	return 0;
}

static int cmd_generate(int argc, char **argv)
{
	struct zt_identity id;
	const char *path = NULL;
	bool force = false;
	int err, rc;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			usage_error("generate: unknown option '%s'", argv[i]);
		else if (path)
			usage_error("generate: more than one FILE ('%s')", argv[i]);
		else
			path = argv[i];
	}
	if (force && !path)
		usage_error("generate: --force needs a FILE");
	err = zt_identity_generate(&id, zt_os_random, NULL);
	if (err) {
		fprintf(stderr, "zt-idtool: cannot generate an identity: %s\n", zt_strerror(err));
		return 1;
	}
	if (!path) {
		rc = print_identity(&id, true);
	} else {
		rc = write_secret(&id, path, force);
		if (!rc)
			rc = print_identity(&id, false);
	}
	zt_identity_wipe(&id);
	return rc;
}

static int cmd_getpublic(int argc, char **argv)
{
	struct zt_identity id;
	int rc;

	if (load_identity(&id, argv[0]))
		return 1;
	rc = print_identity(&id, false);
	zt_identity_wipe(&id);
	return rc;
}

/* validate() says only "no"; find which binding broke to say why. */
static const char *invalid_reason(const struct zt_identity *id, int err, char *buf, size_t len)
{
	uint8_t x_pub[32], ed_pub[32];
	char addr[11];
	uint64_t derived;

	if (err == ZT_EINVAL)
		return "reserved address";
	if (err != ZT_EAUTH)
		return zt_strerror(err);
	if (id->has_secret && (zt_x25519_public(x_pub, id->x25519_priv) != 0 ||
			       zt_ed25519_public(ed_pub, id->ed25519_priv) != 0 ||
			       !zt_ct_equal(x_pub, id->x25519_pub, 32) || !zt_ct_equal(ed_pub, id->ed25519_pub, 32)))
		return "the private keys do not belong to the public keys";
	if (zt_identity_derive_address(&derived, id->x25519_pub, id->ed25519_pub) != 0)
		return "the address does not match the keys";
	zt_address_format(addr, derived);
	snprintf(buf, len, "the address does not match the keys (they derive %s)", addr);
	return buf;
}

static int cmd_validate(int argc, char **argv)
{
	struct zt_identity id;
	char addr[11], why[96];
	int err;

	if (load_identity(&id, argv[0]))
		return 1;
	zt_address_format(addr, id.address);
	err = zt_identity_validate(&id);
	if (err)
		printf("%s: invalid: %s\n", addr, invalid_reason(&id, err, why, sizeof(why)));
	else
		printf("%s: valid\n", addr);
	zt_identity_wipe(&id);
	return err ? 1 : 0;
}

static int cmd_sign(int argc, char **argv)
{
	uint8_t sig[ZT_SIG_BYTES];
	char hex[2 * ZT_SIG_BYTES + 1];
	struct zt_identity id;
	char *msg;
	size_t len;
	int err;

	if (load_identity(&id, argv[0]))
		return 1;
	if (!id.has_secret) {
		fprintf(stderr, "zt-idtool: %s: a public identity cannot sign (no private keys)\n", argv[0]);
		zt_identity_wipe(&id);
		return 1;
	}
	if (read_file(argv[1], MESSAGE_FILE_MAX, &msg, &len)) {
		zt_identity_wipe(&id);
		return 1;
	}
	err = zt_identity_sign(&id, msg, len, sig);
	zt_identity_wipe(&id);
	free(msg);
	if (err) {
		fprintf(stderr, "zt-idtool: cannot sign %s: %s\n", argv[1], zt_strerror(err));
		return 1;
	}
	zt_hex_encode(hex, sig, sizeof(sig));
	printf("%s\n", hex);
	return 0;
}

/* PUBLIC is identity text if it parses as one, otherwise a file name. */
static int load_public(struct zt_identity *id, const char *arg)
{
	if (strchr(arg, ':') && zt_identity_from_text(id, arg) == 0)
		return 0;
	return load_identity(id, arg);
}

static int cmd_verify(int argc, char **argv)
{
	uint8_t sig[ZT_SIG_BYTES];
	struct zt_identity id;
	char *msg;
	size_t len;
	bool ok;

	if (zt_hex_decode(sig, sizeof(sig), argv[2], strlen(argv[2])) != 0)
		usage_error("verify: SIGNATURE must be %d hex digits", 2 * ZT_SIG_BYTES);
	if (load_public(&id, argv[0]))
		return 1;
	if (read_file(argv[1], MESSAGE_FILE_MAX, &msg, &len)) {
		zt_identity_wipe(&id);
		return 1;
	}
	ok = zt_identity_verify(&id, msg, len, sig);
	zt_identity_wipe(&id);
	free(msg);
	printf("signature %s\n", ok ? "valid" : "invalid");
	return ok ? 0 : 1;
}

struct command {
	const char *name;
	int min_args, max_args;
	int (*fn)(int argc, char **argv);
};

static const struct command commands[] = {
	{"generate", 0, 2, cmd_generate},
	{"getpublic", 1, 1, cmd_getpublic},
	{"validate", 1, 1, cmd_validate},
	{"sign", 2, 2, cmd_sign},
	{"verify", 3, 3, cmd_verify},
};

static bool is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	int n;

	for (int i = 1; i < argc; i++) {
		if (is_help(argv[i])) {
			fputs(usage_text, stdout);
			return 0;
		}
	}
	if (argc < 2)
		usage_error("missing COMMAND");
	for (size_t i = 0; i < ZT_ARRAY_LEN(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		usage_error("unknown command '%s'", argv[1]);
	n = argc - 2;
	if (n < cmd->min_args || n > cmd->max_args)
		usage_error("%s: wrong number of arguments", cmd->name);
	return cmd->fn(n, argv + 2);
}
