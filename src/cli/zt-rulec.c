/*
 * zt-rulec.c - the network rules compiler people type: compiles rules text to
 * the bytecode blob the controller signs, decompiles a blob back to text,
 * and runs rules test cases before deploying. All the work is in rules/;
 * this file reads files, prints, and maps outcomes to exit codes.
 */
#include "rules/rules.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_REFUSED 1 /* rules refused, or a test case failed */
#define EXIT_USAGE 2   /* bad command line or I/O error */

static const char usage_text[] =
"NAME\n"
"    zt-rulec - compile, decompile and test zt network rules\n"
"\n"
"SYNOPSIS\n"
"    zt-rulec [-q] [-o OUT] FILE\n"
"    zt-rulec -d BLOBFILE\n"
"    zt-rulec --test [-v] FILE CASES\n"
"    zt-rulec -h | --help | --version\n"
"\n"
"DESCRIPTION\n"
"    A network's rules decide, on every member, which Ethernet frames it may\n"
"    send and receive. The controller keeps them as text and ships them as a\n"
"    verified bytecode blob inside each member's signed network config.\n"
"\n"
"    With FILE, zt-rulec compiles the rules text in FILE, prints a summary\n"
"    (rules, capabilities, bytes) and the blob in hex, or writes the blob to\n"
"    OUT with -o. A program that does not compile is refused with\n"
"    FILE:LINE:COL: message.\n"
"\n"
"    With -d, it verifies the blob in BLOBFILE and prints it back as rules\n"
"    text; compiling that text gives the identical blob.\n"
"\n"
"    With --test, it compiles FILE and evaluates it against every case in\n"
"    CASES, one case per line describing a frame in words, and prints for\n"
"    each the verdict, the deciding rule and its source line:\n"
"        out tcp 10.0.0.1:1234 -> 10.0.0.2:22 expect drop\n"
"        in udp [fd00::1]:5353 -> [ff02::fb]:5353 from 89e92ceee5 expect accept line 4\n"
"        out arp 10.0.0.1 -> 10.0.0.2 vlan 10 expect accept\n"
"    The language and the case format are described in rules/README.md.\n"
"    FILE or CASES may be '-' for standard input.\n"
"\n"
"OPTIONS\n"
"    -o, --output OUT   write the compiled blob to OUT instead of printing hex\n"
"    -q, --quiet        print only the summary line when compiling\n"
"    -d, --decompile    treat the argument as a blob and print it as text\n"
"    -t, --test         run the test cases in CASES against FILE\n"
"    -v, --verbose      with --test: print each decision's full trace and the\n"
"                       per-rule counters after the last case\n"
"    -h, --help         print this help\n"
"        --version      print the version\n"
"\n"
"EXIT STATUS\n"
"    0  success: compiled, decompiled, or every test case met its expectation\n"
"    1  the rules were refused (compile or verify error), or a test case\n"
"       failed or could not be read\n"
"    2  bad command line, or a file could not be read or written\n"
"\n"
"EXAMPLES\n"
"    zt-rulec rules.txt                      compile and show the blob in hex\n"
"    zt-rulec -o rules.bin rules.txt         compile into rules.bin\n"
"    zt-rulec -d rules.bin                   show rules.bin as text\n"
"    zt-rulec --test rules.txt rules.cases   check rules before deploying\n"
"    zt-rulec --test -v rules.txt rules.cases  and explain every decision\n";

struct file {
	char *data;
	size_t len;
};

/* Read a whole file ("-": stdin), refusing anything over max bytes. */
static int read_file(const char *path, size_t max, struct file *f)
{
	bool own = strcmp(path, "-") != 0;
	FILE *fp = own ? fopen(path, "rb") : stdin;
	bool failed;

	if (!fp) {
		fprintf(stderr, "zt-rulec: %s: %s\n", path, strerror(errno));
		return ZT_EIO;
	}
	f->data = malloc(max + 2);
	f->len = f->data ? fread(f->data, 1, max + 1, fp) : 0;
	failed = !f->data || ferror(fp);
	if (own)
		fclose(fp);
	if (failed || f->len > max) {
		fprintf(stderr, "zt-rulec: %s: %s\n", path,
			!f->data ? "out of memory" : failed ? "read error" : "file too large");
		free(f->data);
		return failed ? ZT_EIO : ZT_ETOOBIG;
	}
	f->data[f->len] = '\0';
	return 0;
}

/* FILE:LINE:COL: message, then the line and a caret under the column. */
static void print_error(const char *path, const struct file *src, const struct zt_rules_error *e)
{
	const char *line = src->data, *end;
	unsigned n = 1;

	fprintf(stderr, "%s:%u:%u: %s\n", path, e->line, e->col, e->msg);
	if (e->line == 0)
		return;
	while (n < e->line && (line = memchr(line, '\n', src->len - (size_t)(line - src->data)))) {
		line++;
		n++;
	}
	if (!line)
		return;
	end = memchr(line, '\n', src->len - (size_t)(line - src->data));
	if (!end)
		end = src->data + src->len;
	fprintf(stderr, "    %.*s\n    ", (int)(end - line), line);
	for (unsigned i = 1; i < e->col && line + i - 1 < end; i++)
		fputc(line[i - 1] == '\t' ? '\t' : ' ', stderr);
	fputs("^\n", stderr);
}

static int compile_file(const char *path, uint8_t *blob, size_t *blob_len, struct zt_rules *prog)
{
	struct zt_rules_error err;
	struct file src;
	int rc;

	rc = read_file(path, ZT_RULES_MAX_TEXT, &src);
	if (rc)
		return EXIT_USAGE;
	rc = zt_rules_compile(src.data, src.len, blob, ZT_RULES_MAX_BYTES, blob_len, &err);
	if (rc) {
		print_error(path, &src, &err);
		free(src.data);
		return EXIT_REFUSED;
	}
	free(src.data);
	rc = zt_rules_load(prog, blob, *blob_len, &err);
	if (rc) {
		fprintf(stderr, "%s: compiled program refused: %s\n", path, err.msg);
		return EXIT_REFUSED;
	}
	return 0;
}

static void print_summary(const char *path, const struct zt_rules *prog)
{
	printf("%s: %u rule%s (%u base", path, prog->rule_count, prog->rule_count == 1 ? "" : "s",
	       prog->base_count);
	for (unsigned c = 0; c < prog->cap_count; c++)
		printf(", %u in capability %s", prog->cap[c].count, prog->cap[c].name);
	printf("), %u bytes, format v%d\n", prog->len, ZT_RULES_VERSION);
}

static int write_blob(const char *out, const uint8_t *blob, size_t len)
{
	FILE *fp = fopen(out, "wb");

	if (!fp || fwrite(blob, 1, len, fp) != len) {
		fprintf(stderr, "zt-rulec: %s: %s\n", out, strerror(errno));
		if (fp)
			fclose(fp);
		return EXIT_USAGE;
	}
	if (fclose(fp)) {
		fprintf(stderr, "zt-rulec: %s: %s\n", out, strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_compile(const char *path, const char *out, bool quiet, struct zt_rules *prog)
{
	uint8_t blob[ZT_RULES_MAX_BYTES];
	size_t len;
	int rc = compile_file(path, blob, &len, prog);

	if (rc)
		return rc;
	print_summary(path, prog);
	if (out)
		return write_blob(out, blob, len);
	if (quiet)
		return 0;
	for (size_t i = 0; i < len; i++)
		printf("%02x%s", blob[i], (i % 32 == 31 || i + 1 == len) ? "\n" : "");
	return 0;
}

static int cmd_decompile(const char *path, struct zt_rules *prog)
{
	struct zt_rules_error err;
	struct file blob;
	size_t cap = ZT_RULES_MAX_TEXT + 1, len; /* decompiled text never exceeds it */
	char *text;
	int rc;

	if (read_file(path, ZT_RULES_MAX_BYTES, &blob))
		return EXIT_USAGE;
	rc = zt_rules_load(prog, blob.data, blob.len, &err);
	free(blob.data);
	if (rc) {
		fprintf(stderr, "%s: offset %zu: %s\n", path, err.offset, err.msg);
		return EXIT_REFUSED;
	}
	text = malloc(cap);
	if (!text)
		return EXIT_USAGE;
	rc = zt_rules_decompile(prog, text, cap, &len);
	if (!rc)
		fwrite(text, 1, len, stdout);
	else
		fprintf(stderr, "%s: %s\n", path, zt_strerror(rc));
	free(text);
	return rc ? EXIT_REFUSED : 0;
}

static void print_decision(const struct zt_rules *prog, const struct zt_rules_result *res)
{
	const char *verdict = res->verdict == ZT_RULES_ACCEPT ? "accept" : "drop";

	if (res->rule == ZT_RULES_BY_NONE)
		printf("%-6s (no rules)      ", verdict);
	else if (res->rule < 0)
		printf("%-6s (default)       ", verdict);
	else
		printf("%-6s line %-5u rule %-3d", verdict, prog->rule_line[res->rule], res->rule);
}

static void print_expectation(const struct zt_rules_case *c)
{
	printf("  FAIL (expected %s", c->expect == ZT_RULES_ACCEPT ? "accept" : "drop");
	if (c->expect_line > 0)
		printf(" line %ld", c->expect_line);
	else if (c->expect_line < 0)
		printf(" default");
	printf(")");
}

struct test_run {
	const char *cases_path;
	const struct zt_rules *prog;
	struct zt_rules_counter *counters;
	bool verbose;
	unsigned total;
	unsigned failed;
};

static void run_case(struct test_run *t, const char *line, size_t len, unsigned lineno)
{
	static struct zt_rules_case c;
	struct zt_rules_result res;
	struct zt_rules_error err;
	char trace[4096];
	bool ok;

	if (zt_rules_case_parse(t->prog, line, len, lineno, &c, &err)) {
		printf("%s:%u:%u: %s\n", t->cases_path, err.line, err.col, err.msg);
		t->total++;
		t->failed++;
		return;
	}
	if (c.empty)
		return;
	t->total++;
	ok = zt_rules_case_run(t->prog, &c, t->counters, &res);
	printf("%s:%u: ", t->cases_path, lineno);
	print_decision(t->prog, &res);
	if (!ok) {
		print_expectation(&c);
		t->failed++;
	} else {
		printf("  %s", c.expect_set ? "ok" : "--");
	}
	printf("  %.*s\n", (int)len, line);
	if (t->verbose && !zt_rules_explain(t->prog, &c.meta, c.frame, c.frame_len, &res, trace,
					    sizeof(trace)))
		printf("%s\n", trace);
}

static void print_counters(const struct zt_rules *prog, const struct zt_rules_counter *counters)
{
	size_t cap = (size_t)1 << 20, len; /* rules text is at most ~15x its 16 KiB blob */
	char *text = malloc(cap);

	if (!text)
		return;
	if (!zt_rules_counters_format(prog, counters, text, cap, &len))
		fwrite(text, 1, len, stdout);
	free(text);
}

static int cmd_test(const char *rules_path, const char *cases_path, bool verbose,
		    struct zt_rules *prog)
{
	static struct zt_rules_counter counters[ZT_RULES_MAX_RULES + 1];
	struct test_run t = {cases_path, prog, counters, verbose, 0, 0};
	uint8_t blob[ZT_RULES_MAX_BYTES];
	struct file cases;
	size_t len;
	const char *p, *end;
	unsigned lineno = 1;
	int rc = compile_file(rules_path, blob, &len, prog);

	if (rc)
		return rc;
	if (read_file(cases_path, ZT_RULES_MAX_TEXT, &cases))
		return EXIT_USAGE;
	for (p = cases.data; p < cases.data + cases.len; p = end + 1, lineno++) {
		end = memchr(p, '\n', (size_t)(cases.data + cases.len - p));
		if (!end)
			end = cases.data + cases.len;
		run_case(&t, p, (size_t)(end - p), lineno);
	}
	free(cases.data);
	if (verbose)
		print_counters(prog, counters);
	printf("%u cases, %u passed, %u failed\n", t.total, t.total - t.failed, t.failed);
	return t.failed ? EXIT_REFUSED : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{"decompile", no_argument, NULL, 'd'},
		{"test", no_argument, NULL, 't'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static struct zt_rules prog;
	const char *out = NULL;
	bool quiet = false, decompile = false, test = false, verbose = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "o:qdtvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'd': decompile = true; break;
		case 't': test = true; break;
		case 'v': verbose = true; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': printf("zt-rulec %s (rules format v%d)\n", ZT_VERSION_STRING,
				 ZT_RULES_VERSION); return 0;
		default: fputs("try 'zt-rulec --help'\n", stderr); return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (test && !decompile && !out && argc == 2)
		return cmd_test(argv[0], argv[1], verbose, &prog);
	if (decompile && !test && !out && argc == 1)
		return cmd_decompile(argv[0], &prog);
	if (!test && !decompile && argc == 1)
		return cmd_compile(argv[0], out, quiet, &prog);
	fputs("usage: zt-rulec [-q] [-o OUT] FILE | -d BLOBFILE | --test [-v] FILE CASES\n"
	      "try 'zt-rulec --help'\n", stderr);
	return EXIT_USAGE;
}
