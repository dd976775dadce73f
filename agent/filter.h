/*
 * filter.h: noise control. Rules from [filter NAME] sections drop or
 * sample whole processes, decided at exec and remembered in the process's
 * table entry (struct process filt, filt_rule), so that a suppressed
 * process's exec, exit and other events all go, and each rule reports what
 * it suppressed in a suppressed record every interval. A never-suppress
 * list (uid 0, ptrace, world-writable or memfd or deleted executables,
 * setuid, operator globs) wins over every rule.
 */
#ifndef HIDS_FILTER_H
#define HIDS_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "proctab.h"

#define FILTER_MAX_RULES 256		/* [filter NAME] sections accepted */
#define FILTER_MAX_TOTAL 1024		/* rules plus retired ones kept after reloads */
#define FILTER_MAX_PATTERNS 64		/* globs or users in one key */
#define FILTER_MAX_NAME 40		/* characters of a rule name */
#define FILTER_CMDLINE_BYTES 4096	/* bytes of the command line a cmdline glob sees */
#define FILTER_EXAMPLE_BYTES 1024	/* bytes of args kept for a summary's example */
#define FILTER_DEFAULT_INTERVAL 60	/* seconds between summaries */

/* struct process filt: the decision a process carries. */
#define FILT_SUPPRESSED 0x01	/* its events are dropped, counted under filt_rule */
#define FILT_SUBTREE 0x02	/* its descendants inherit SUPPRESSED or KEPT */
#define FILT_KEPT 0x04		/* a sample rule kept it (filt_rule) */
#define FILT_PINNED 0x08	/* never suppressed again in this process's life */
#define FILT_PIN_FORKED 0x10	/* a pinned parent's fork child, until its exec */
#define FILT_COUNTED 0x20	/* already counted in filt_rule's processes */

/* What a rule has suppressed since its last summary. */
struct filter_account {
	uint64_t processes, events;
	uint64_t first_ns, last_ns;
	struct process example;
	bool has_example;
};

/* One [filter NAME] section: its conditions are ANDed, each key's values ORed. */
struct filter_rule {
	char *name;
	int line;			/* of its [filter NAME] line */
	char **exe;			/* globs on the executable path */
	size_t nexe;
	char **parent_exe;		/* globs on the parent's executable path */
	size_t nparent;
	char *cmdline;			/* one glob on the space-joined command line */
	uint32_t *uids;			/* effective user ids */
	size_t nuids;
	enum { FC_UNSET, FC_ANY, FC_NONE, FC_ID } container;
	char container_id[65];		/* FC_ID: an id or a prefix of 12 or more */
	bool subtree;
	bool retired;			/* gone from the config, kept for its processes */
	bool bad_key;			/* a key was refused: no second error for it */
	uint32_t sample;		/* 0: drop; N: keep 1 in N */
	struct filter_account acct;
};

/* The rules as the config parsed them. */
struct filter_rules {
	struct filter_rule *v;
	size_t n;
	char **never_exe;		/* operator additions to the never-suppress list */
	size_t nnever;
	unsigned interval_s;
};

/* The running filter. */
struct filter {
	struct filter_rules r;
	uint64_t suppressed;		/* events dropped, all rules, since start */
	uint64_t pinned;		/* processes a never-suppress condition pinned */
};

/* What a rule is matched against: the process at its exec. */
struct filter_subject {
	const char *exe;		/* NULL: unknown */
	const char *parent_exe;
	const char *args;		/* NUL-separated */
	size_t args_len;
	bool has_uid;
	uint32_t euid;
	bool has_container;		/* the cgroup was read */
	const char *container_id;	/* "" outside a container */
};

typedef void (*filter_summary_cb)(const struct filter_summary *s, void *arg);

/* filter.c */
void filter_rules_init(struct filter_rules *fr);
void filter_rules_release(struct filter_rules *fr);
int filter_rules_add(struct filter_rules *fr, const char *name, int line, char *err,
    size_t errlen);
struct filter_rule *filter_rules_find(struct filter_rules *fr, const char *name);
int filter_rule_key(struct filter_rule *r, const char *key, const char *v, char *err,
    size_t errlen);
int filter_global_key(struct filter_rules *fr, const char *key, const char *v, char *err,
    size_t errlen);
int filter_rule_check(const struct filter_rule *r, char *err, size_t errlen);
bool filter_glob_match(const char *pattern, const char *path);
bool filter_rule_match(const struct filter_rule *r, const struct filter_subject *s,
    const char *cmdline);
bool filter_sample_keeps(const char *entity_id, uint32_t n);
void filter_init(struct filter *f);
void filter_release(struct filter *f);
void filter_install(struct filter *f, struct filter_rules *nr, struct proctab *tab);
bool filter_event(struct filter *f, struct proctab *tab, struct hids_event *ev, int procfd);
void filter_flush(struct filter *f, filter_summary_cb cb, void *arg);
size_t filter_rule_count(const struct filter *f);
unsigned filter_interval_s(const struct filter *f);
uint64_t filter_suppressed(const struct filter *f);

#endif
