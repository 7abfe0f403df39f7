/*
 * rules.h - the network rules engine, the only header of rules/ that the rest
 * of the project includes: program limits, the verifier/loader, the evaluator
 * (hot path, no allocation), per-rule counters, traces, the compiler from
 * text, the decompiler and rules test cases. Format and language: README.md.
 */
#ifndef ZT_RULES_H
#define ZT_RULES_H

#include "base/zt.h"

#define ZT_RULES_VERSION 1         /* bytecode format version in every blob header */
#define ZT_RULES_MAX_BYTES 16384   /* a blob rides inside the signed network config */
#define ZT_RULES_MAX_RULES 256     /* all rule sets together: bounds evaluation time */
#define ZT_RULES_MAX_MATCHES 32    /* matches in one rule */
#define ZT_RULES_MAX_CAPS 32       /* capability sets: one bit each in meta.caps */
#define ZT_RULES_MAX_NAME 32       /* capability name length */
#define ZT_RULES_MAX_TAGS 16       /* tags per member handed to the evaluator */
#define ZT_RULES_MAX_SIDE 8        /* tee/watch copies recorded for one frame */
#define ZT_RULES_MAX_TEXT 262144   /* source text, and any decompiled text */
#define ZT_RULES_MAX_LINE 65535    /* a rule's line: keeps decompiled text under MAX_TEXT */

/* Deciding "rule" values that are not a rule index. */
#define ZT_RULES_BY_DEFAULT (-1) /* rules exist, none decided: drop */
#define ZT_RULES_BY_NONE (-2)    /* the network has no rules: accept */

enum zt_rules_dir {
	ZT_RULES_OUTBOUND = 0, /* this member is sending the frame */
	ZT_RULES_INBOUND = 1,  /* this member is receiving it */
};

enum zt_rules_verdict {
	ZT_RULES_DROP = 0,
	ZT_RULES_ACCEPT = 1,
};

enum zt_rules_action {
	ZT_RULES_ACT_ACCEPT = 1,   /* deliver; stop */
	ZT_RULES_ACT_DROP = 2,     /* discard; stop (in a capability: leave it) */
	ZT_RULES_ACT_BREAK = 3,    /* leave the current rule set undecided */
	ZT_RULES_ACT_TEE = 4,      /* send a copy to a member; continue */
	ZT_RULES_ACT_REDIRECT = 5, /* deliver to a member instead; stop */
	ZT_RULES_ACT_WATCH = 6,    /* send a copy with its direction; continue */
};

/* A loaded program: a verified copy of the blob and an index into it.
 * Filled only by zt_rules_load(); read-only afterwards, shareable by threads. */
struct zt_rules_cap {
	char name[ZT_RULES_MAX_NAME + 1];
	uint16_t first; /* index of its first rule */
	uint16_t count;
};

struct zt_rules {
	uint16_t len;        /* blob bytes */
	uint16_t rule_count; /* all sets */
	uint16_t base_count; /* rules 0..base_count-1 are the base set */
	uint8_t cap_count;
	struct zt_rules_cap cap[ZT_RULES_MAX_CAPS];
	uint16_t rule_off[ZT_RULES_MAX_RULES];  /* blob offset of each rule */
	uint32_t rule_line[ZT_RULES_MAX_RULES]; /* source line of each rule */
	uint8_t blob[ZT_RULES_MAX_BYTES];
};

/* Why the verifier or the compiler refused: line/col for text (1-based),
 * offset for a blob. */
struct zt_rules_error {
	unsigned line;
	unsigned col;
	size_t offset;
	char msg[160];
};

struct zt_rules_tag {
	uint32_t id;
	uint32_t value;
};

/* Everything the evaluator knows besides the frame bytes. The caller maps
 * local/remote to sender/receiver: on outbound frames this member is the
 * sender, on inbound ones the receiver. */
struct zt_rules_meta {
	uint64_t src_member;       /* 40-bit address; 0 when not a single member */
	uint64_t dst_member;       /* 0 for broadcast/multicast */
	enum zt_rules_dir dir;
	bool sender_is_bridge;
	uint32_t random;           /* fresh random value per frame, from the host */
	uint32_t caps;             /* bit i: sender holds capability i (zt_rules_cap_find) */
	unsigned sender_tag_count; /* counts above ZT_RULES_MAX_TAGS are clamped */
	unsigned receiver_tag_count;
	struct zt_rules_tag sender_tags[ZT_RULES_MAX_TAGS];
	struct zt_rules_tag receiver_tags[ZT_RULES_MAX_TAGS];
};

struct zt_rules_side {
	uint64_t target;     /* member to send the copy to */
	uint16_t rule;       /* rule that asked for it */
	uint8_t action;      /* ZT_RULES_ACT_TEE or ZT_RULES_ACT_WATCH */
	uint8_t dir;         /* enum zt_rules_dir of the frame, for watch */
};

struct zt_rules_result {
	enum zt_rules_verdict verdict;
	int rule;            /* deciding rule index, or ZT_RULES_BY_DEFAULT/_NONE */
	int term;            /* which or-term of that rule matched (0-based) */
	int cap;             /* capability that decided, -1 for the base set */
	int break_rule;      /* base rule whose break led to capabilities, or -1 */
	uint64_t redirect_to;/* nonzero: deliver to this member instead */
	unsigned side_count;
	bool side_overflow;  /* more copies matched than ZT_RULES_MAX_SIDE */
	struct zt_rules_side side[ZT_RULES_MAX_SIDE];
};

/* Per-rule counters, caller-owned: zt_rules_counter_slots() entries, one per
 * rule plus a last one for default drops. Plain increments: one writer. */
struct zt_rules_counter {
	uint64_t inbound;  /* received frames that matched the rule */
	uint64_t outbound; /* sent frames that matched the rule */
};

/* verify.c: check a blob completely (bounds, limits, canonical encoding)
 * and index it into prog. Nothing in an unverified blob is ever used. */
int zt_rules_verify(const void *blob, size_t len, struct zt_rules_error *err);
int zt_rules_load(struct zt_rules *prog, const void *blob, size_t len,
		  struct zt_rules_error *err);
/* Capability index by name (for meta.caps bits), or ZT_ENOENT. */
int zt_rules_cap_find(const struct zt_rules *prog, const char *name);
/* Set a rule belongs to: -1 base, else capability index. */
int zt_rules_rule_cap(const struct zt_rules *prog, unsigned rule);
size_t zt_rules_counter_slots(const struct zt_rules *prog);

/* eval.c: decide one frame. prog NULL or without rules: accept. counters
 * may be NULL. Bounded by the verified rule and match counts; reads the
 * frame only through the bounded reader; never allocates. */
enum zt_rules_verdict zt_rules_eval(const struct zt_rules *prog,
				    const struct zt_rules_meta *meta,
				    const void *frame, size_t len,
				    struct zt_rules_counter *counters,
				    struct zt_rules_result *res);

/* compile.c: text to blob (at most ZT_RULES_MAX_BYTES into out). On
 * ZT_EPARSE/ZT_ETOOBIG err has line, col and message. */
int zt_rules_compile(const char *text, size_t text_len, uint8_t *out, size_t cap,
		     size_t *out_len, struct zt_rules_error *err);

/* decompile.c: readable text that compiles back to the identical blob
 * (each rule on its original source line). ZT_ETOOBIG if cap is short. */
int zt_rules_decompile(const struct zt_rules *prog, char *out, size_t cap, size_t *out_len);
/* One rule as text, e.g. "drop ipproto tcp and dport 22;". */
int zt_rules_rule_text(const struct zt_rules *prog, unsigned rule, char *out, size_t cap);
/* Counters next to the rules: one table line per rule plus the default. */
int zt_rules_counters_format(const struct zt_rules *prog,
			     const struct zt_rules_counter *counters,
			     char *out, size_t cap, size_t *out_len);

/* explain.c: a trace of one decision: direction and frame summary, the
 * deciding rule with its line and the or-term that matched, copies made. */
int zt_rules_frame_summary(const void *frame, size_t len, char *out, size_t cap);
int zt_rules_explain(const struct zt_rules *prog, const struct zt_rules_meta *meta,
		     const void *frame, size_t len, const struct zt_rules_result *res,
		     char *out, size_t cap);

/* format.c: "accept", "drop", ... for an enum zt_rules_action value. */
const char *zt_rules_action_name(int action);

/* testcase.c: rules tests before deploying. One case per line, e.g.
 * "out tcp 10.0.0.1:1234 -> 10.0.0.2:22 expect drop" (README.md). */
#define ZT_RULES_CASE_MAX_FRAME 9216 /* jumbo frame */

struct zt_rules_case {
	bool empty;                  /* blank or comment line: nothing to run */
	struct zt_rules_meta meta;
	uint8_t frame[ZT_RULES_CASE_MAX_FRAME];
	size_t frame_len;
	bool expect_set;
	enum zt_rules_verdict expect;
	long expect_line;            /* 0 any, -1 default/no rule, >0 deciding line */
};

int zt_rules_case_parse(const struct zt_rules *prog, const char *line, size_t len,
			unsigned lineno, struct zt_rules_case *c,
			struct zt_rules_error *err);
/* Evaluate a case; true when every expectation holds (or none was set). */
bool zt_rules_case_run(const struct zt_rules *prog, const struct zt_rules_case *c,
		       struct zt_rules_counter *counters, struct zt_rules_result *res);

#endif
