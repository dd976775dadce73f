/* Proves that filter rules parse with file:line errors, match each condition (ANDed), suppress a process for its whole life and subtree, keep 1 in N deterministically, give way to every never-suppress condition, survive a reload, and account for everything they drop. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config.h"
#include "filter.h"
#include "proctab.h"
#include "unit.h"

struct fx {
	struct config cfg;
	struct filter f;
	struct proctab tab;
};

/* Loads rules from INI text into a running filter; fails the test on a config error. */
static void
fx_setup(struct fx *x, const char *ini)
{
	config_defaults(&x->cfg);
	assert_int_equal(config_load_string(&x->cfg, ini, "t.conf", stderr), 0);
	proctab_init(&x->tab, 256, 4096, "host");
	filter_init(&x->f);
	filter_install(&x->f, &x->cfg.filter, &x->tab);
}

static void
fx_teardown(struct fx *x)
{
	filter_release(&x->f);
	proctab_release(&x->tab);
	config_release(&x->cfg);
}

/* Fills p as an exec'd image of exe with the given argv (space-separated) and euid. */
static void
set_image(struct process *p, int32_t pid, const char *exe, const char *argv, uint32_t euid)
{
	free(p->executable);
	free(p->args);
	p->pid = pid;
	p->executable = xstrdup(exe);
	p->args = xstrdup(argv);
	p->args_len = strlen(argv) + 1;
	p->args_count = 1;
	for (char *c = p->args; *c; c++)
		if (*c == ' ') {
			*c = '\0';
			p->args_count++;
		}
	p->ids.euid = p->ids.ruid = p->ids.suid = p->ids.fsuid = euid;
	p->known |= PF_EXE | PF_ARGS | PF_IDS | PF_CONTAINER;
	snprintf(p->entity_id, sizeof(p->entity_id), "ent-%d", (int)pid);
}

/* Runs the filter on an event built as enrich.c would: from the entry of pid. */
static bool
run(struct fx *x, enum ev_action action, int32_t pid, int32_t ppid, const char *exe,
    const char *argv, uint32_t euid)
{
	struct hids_event ev;
	struct proctab_entry *e;
	bool suppressed;

	hids_event_init(&ev);
	ev.k.action = action;
	ev.k.ts_ns = 1000 + (uint64_t)pid;
	ev.k.tgid = pid;
	if (action == EV_FORK) {
		struct proctab_entry *pe = proctab_lookup(&x->tab, ppid);
		if (pe)
			process_copy(&ev.proc, &pe->p, 4096);
		ev.proc.pid = pid;
		ev.proc.ppid = ppid;
		proctab_set(&x->tab, proctab_upsert(&x->tab, pid), &ev.proc);
	} else {
		e = proctab_upsert(&x->tab, pid);
		process_copy(&ev.proc, &e->p, 4096);
		ev.proc.pid = pid;
		if (action == EV_EXEC) {
			set_image(&ev.proc, pid, exe, argv, euid);
			ev.proc.ppid = ppid;
			proctab_set(&x->tab, e, &ev.proc);
		}
		if (action == EV_UID)
			ev.k.rid = ev.k.eid = euid;
	}
	if (ev.proc.ppid > 0 && (e = proctab_lookup(&x->tab, ev.proc.ppid)) != NULL) {
		process_copy(&ev.parent, &e->p, 4096);
		ev.has_parent = true;
	}
	suppressed = filter_event(&x->f, &x->tab, &ev, -1);
	if (action == EV_EXIT)
		proctab_remove(&x->tab, pid);
	hids_event_release(&ev);
	return suppressed;
}

struct collected {
	int n;
	char rule[8][48];
	uint64_t processes[8], events[8];
	char example[8][128];
};

static void
collect_cb(const struct filter_summary *s, void *arg)
{
	struct collected *c = arg;
	assert_true(c->n < 8);
	snprintf(c->rule[c->n], sizeof(c->rule[0]), "%s", s->rule);
	c->processes[c->n] = s->processes;
	c->events[c->n] = s->events;
	c->example[c->n][0] = '\0';
	if (s->has_example)
		snprintf(c->example[c->n], sizeof(c->example[0]), "%s", s->example.args);
	c->n++;
}

static void
test_glob(void **state)
{
	(void)state;
	assert_true(filter_glob_match("/usr/bin/git", "/usr/bin/git"));
	assert_true(filter_glob_match("/usr/bin/g*", "/usr/bin/gcc-12"));
	/* '*' stays within one component. */
	assert_false(filter_glob_match("/usr/*", "/usr/bin/git"));
	assert_false(filter_glob_match("/opt/runner/*", "/opt/runner/bin/x"));
	assert_true(filter_glob_match("/opt/runner/**", "/opt/runner/bin/x"));
	assert_true(filter_glob_match("/opt/runner/**", "/opt/runner/x"));
	assert_false(filter_glob_match("/opt/runner/**", "/opt/runner"));
	assert_false(filter_glob_match("/opt/runner/**", "/opt/runnerx/y"));
	assert_true(filter_glob_match("/home/*/ci/**", "/home/bob/ci/a/b"));
	assert_false(filter_glob_match("/home/*/ci/**", "/home/bob/x/ci/a"));
}

static void
test_config_errors(void **state)
{
	struct config c;
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	(void)state;

	config_defaults(&c);
	assert_int_equal(config_load_string(&c,
	    "[filter a]\nexe = usr/bin/x\n"		/* 2 */
	    "[filter]\nsummary_interval = 0\n"		/* 4 */
	    "[filter b]\n"				/* 5: no condition */
	    "[filter a]\n"				/* 6 */
	    "[filter c]\nuser = no-such-user-here\ncontainer = abc\nsample = 1\nnope = 1\n",
	    "t.conf", mem), -1);
	fclose(mem);
	assert_non_null(strstr(out, "t.conf:2: exe 'usr/bin/x' must be an absolute path glob"));
	assert_non_null(strstr(out, "t.conf:4: bad value '0' for summary_interval"));
	assert_non_null(strstr(out, "t.conf:5: filter 'b' has no condition"));
	assert_non_null(strstr(out, "t.conf:6: filter 'a' is defined twice"));
	assert_non_null(strstr(out, "t.conf:8: unknown user 'no-such-user-here'"));
	assert_non_null(strstr(out, "t.conf:9: bad container 'abc'"));
	assert_non_null(strstr(out, "t.conf:10: bad value '1' for sample"));
	assert_non_null(strstr(out, "t.conf:11: unknown key 'nope' in [filter c]"));
	/* A refused key is one error, not also a missing condition. */
	assert_null(strstr(out, "filter 'c' has no condition"));
	free(out);
	config_release(&c);

	config_defaults(&c);
	assert_int_equal(config_load_string(&c,
	    "[filter]\nsummary_interval = 5\nnever_suppress_exe = /opt/x/*, /srv/**\n"
	    "[filter  ci ]\nexe = /usr/bin/git, /usr/bin/make\nuser = root, 1000\n"
	    "container = none\nsubtree = yes\nsample = 10\ncmdline = git *\n"
	    "parent_exe = /usr/bin/*\n", "t.conf", stderr), 0);
	assert_int_equal(c.filter.interval_s, 5);
	assert_int_equal(c.filter.nnever, 2);
	assert_int_equal(c.filter.n, 1);
	assert_string_equal(c.filter.v[0].name, "ci");
	assert_int_equal(c.filter.v[0].nexe, 2);
	assert_int_equal(c.filter.v[0].nuids, 2);
	assert_int_equal(c.filter.v[0].uids[0], 0);
	assert_int_equal(c.filter.v[0].uids[1], 1000);
	assert_true(c.filter.v[0].subtree);
	assert_int_equal(c.filter.v[0].sample, 10);
	config_release(&c);
}

static void
test_conditions_and(void **state)
{
	struct config c;
	struct filter_rule *r;
	struct filter_subject s = { .exe = "/usr/bin/git", .parent_exe = "/usr/bin/make",
		.args = NULL, .has_uid = true, .euid = 1000, .has_container = true,
		.container_id = "" };
	(void)state;

	config_defaults(&c);
	assert_int_equal(config_load_string(&c,
	    "[filter r]\nexe = /usr/bin/git\nparent_exe = /usr/bin/make\n"
	    "cmdline = git fetch *\nuser = 1000\ncontainer = none\n", "t.conf", stderr), 0);
	r = &c.filter.v[0];
	assert_true(filter_rule_match(r, &s, "git fetch origin"));
	assert_false(filter_rule_match(r, &s, "git push origin"));	/* cmdline */
	assert_false(filter_rule_match(r, &s, NULL));
	s.exe = "/usr/local/bin/git";					/* exe */
	assert_false(filter_rule_match(r, &s, "git fetch origin"));
	s.exe = NULL;
	assert_false(filter_rule_match(r, &s, "git fetch origin"));
	s.exe = "/usr/bin/git";
	s.parent_exe = "/bin/bash";					/* parent */
	assert_false(filter_rule_match(r, &s, "git fetch origin"));
	s.parent_exe = "/usr/bin/make";
	s.euid = 0;							/* user */
	assert_false(filter_rule_match(r, &s, "git fetch origin"));
	s.euid = 1000;
	s.container_id = "0123456789abcdef";				/* container */
	assert_false(filter_rule_match(r, &s, "git fetch origin"));
	s.has_container = false;	/* unknown is neither "none" nor "any" */
	s.container_id = "";
	assert_false(filter_rule_match(r, &s, "git fetch origin"));
	config_release(&c);

	config_defaults(&c);
	assert_int_equal(config_load_string(&c,
	    "[filter any]\ncontainer = any\n[filter id]\ncontainer = 0123456789ab\n",
	    "t.conf", stderr), 0);
	s.has_container = true;
	s.container_id = "";
	assert_false(filter_rule_match(&c.filter.v[0], &s, NULL));
	assert_false(filter_rule_match(&c.filter.v[1], &s, NULL));
	s.container_id = "0123456789abcdef0000";
	assert_true(filter_rule_match(&c.filter.v[0], &s, NULL));
	assert_true(filter_rule_match(&c.filter.v[1], &s, NULL));
	s.container_id = "1123456789abcdef0000";
	assert_false(filter_rule_match(&c.filter.v[1], &s, NULL));
	config_release(&c);
}

static void
test_whole_life(void **state)
{
	struct fx x;
	struct collected col = { 0 };
	(void)state;

	fx_setup(&x, "[filter git]\nexe = /usr/bin/git\n");
	/* The fork came from an unfiltered shell: it goes out; the decision needs the exec. */
	run(&x, EV_EXEC, 10, 1, "/bin/bash", "bash", 1000);
	assert_false(run(&x, EV_FORK, 11, 10, NULL, NULL, 0));
	assert_true(run(&x, EV_EXEC, 11, 10, "/usr/bin/git", "git status", 1000));
	assert_true(run(&x, EV_COMM, 11, 0, NULL, NULL, 0));
	assert_true(run(&x, EV_SID, 11, 0, NULL, NULL, 0));
	assert_true(run(&x, EV_UID, 11, 0, NULL, NULL, 1001));
	assert_true(run(&x, EV_EXIT, 11, 0, NULL, NULL, 0));
	/* The shell is untouched. */
	assert_false(run(&x, EV_EXIT, 10, 0, NULL, NULL, 0));
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.n, 1);
	assert_string_equal(col.rule[0], "git");
	assert_int_equal(col.processes[0], 1);
	assert_int_equal(col.events[0], 5);
	assert_string_equal(col.example[0], "git");
	assert_int_equal(x.f.suppressed, 5);
	/* The next interval starts empty: nothing to report. */
	col.n = 0;
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.n, 0);
	fx_teardown(&x);
}

static void
test_fork_children(void **state)
{
	struct fx x;
	struct collected col = { 0 };
	(void)state;

	fx_setup(&x, "[filter make]\nexe = /usr/bin/make\n");
	assert_true(run(&x, EV_EXEC, 20, 1, "/usr/bin/make", "make all", 1000));
	/* A fork child is the same program: suppressed, and counted as a process. */
	assert_true(run(&x, EV_FORK, 21, 20, NULL, NULL, 0));
	/* Its exec of something else: not a subtree rule, so the rules decide again. */
	assert_false(run(&x, EV_EXEC, 21, 20, "/usr/bin/gcc", "gcc -c a.c", 1000));
	assert_false(run(&x, EV_EXIT, 21, 0, NULL, NULL, 0));
	/* A recursive make: suppressed again, counted once. */
	assert_true(run(&x, EV_FORK, 22, 20, NULL, NULL, 0));
	assert_true(run(&x, EV_EXEC, 22, 20, "/usr/bin/make", "make -C sub", 1000));
	assert_true(run(&x, EV_EXIT, 22, 0, NULL, NULL, 0));
	assert_true(run(&x, EV_EXIT, 20, 0, NULL, NULL, 0));
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.n, 1);
	assert_int_equal(col.processes[0], 3);
	assert_int_equal(col.events[0], 6);
	fx_teardown(&x);
}

static void
test_subtree(void **state)
{
	struct fx x;
	struct collected col = { 0 };
	(void)state;

	fx_setup(&x, "[filter runner]\nexe = /opt/runner/**\nsubtree = yes\n");
	assert_true(run(&x, EV_EXEC, 30, 1, "/opt/runner/bin/Runner.Worker", "Runner.Worker", 1000));
	assert_true(run(&x, EV_FORK, 31, 30, NULL, NULL, 0));
	assert_true(run(&x, EV_EXEC, 31, 30, "/bin/bash", "bash -e step.sh", 1000));
	assert_true(run(&x, EV_FORK, 32, 31, NULL, NULL, 0));
	assert_true(run(&x, EV_EXEC, 32, 31, "/usr/bin/gcc", "gcc -c a.c", 1000));
	assert_true(run(&x, EV_EXIT, 32, 0, NULL, NULL, 0));
	assert_true(run(&x, EV_EXIT, 31, 0, NULL, NULL, 0));
	/* Outside the tree, gcc is reported. */
	assert_false(run(&x, EV_FORK, 33, 1, NULL, NULL, 0));
	assert_false(run(&x, EV_EXEC, 33, 1, "/usr/bin/gcc", "gcc -c b.c", 1000));
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.processes[0], 3);
	assert_int_equal(col.events[0], 7);
	fx_teardown(&x);
}

/* Expects an exec that the rule matches to be emitted, and the process's exit too. */
static void
expect_never_suppressed(const char *ini, const char *exe, const char *argv, uint32_t euid,
    uint32_t ruid, bool deleted)
{
	struct fx x;
	struct hids_event ev;
	struct proctab_entry *e;

	fx_setup(&x, ini);
	e = proctab_upsert(&x.tab, 40);
	hids_event_init(&ev);
	ev.k.action = EV_EXEC;
	set_image(&ev.proc, 40, exe, argv, euid);
	ev.proc.ids.ruid = ruid;
	ev.proc.exe_deleted = deleted;
	proctab_set(&x.tab, e, &ev.proc);
	assert_false(filter_event(&x.f, &x.tab, &ev, -1));
	hids_event_release(&ev);
	assert_false(run(&x, EV_EXIT, 40, 0, NULL, NULL, 0));
	assert_int_equal(x.f.suppressed, 0);
	assert_int_equal(x.f.pinned, 1);
	fx_teardown(&x);
}

static void
test_never_suppress_exec(void **state)
{
	(void)state;
	expect_never_suppressed("[filter u]\nuser = 1000\n", "/tmp/x", "x", 1000, 1000, false);
	expect_never_suppressed("[filter u]\nuser = 1000\n", "/var/tmp/x", "x", 1000, 1000, false);
	expect_never_suppressed("[filter u]\nuser = 1000\n", "/dev/shm/x", "x", 1000, 1000, false);
	expect_never_suppressed("[filter u]\nuser = 1000\n", "/usr/bin/python3",
	    "python3 /tmp/x.py", 1000, 1000, false);
	expect_never_suppressed("[filter u]\nuser = 1000\n", "/memfd:x (deleted)", "x",
	    1000, 1000, true);
	expect_never_suppressed("[filter u]\nuser = 1000\n", "/usr/bin/x", "x", 1000, 1000, true);
	/* setuid: the effective uid is not the real one. */
	expect_never_suppressed("[filter u]\nuser = 0\n", "/usr/bin/sudo", "sudo id", 0, 1000,
	    false);
	expect_never_suppressed("[filter]\nnever_suppress_exe = /usr/bin/ssh*\n"
	    "[filter u]\nuser = 1000\n", "/usr/bin/ssh", "ssh host", 1000, 1000, false);
}

/* Expects an exec with environment ENV (NUL-separated, LEN bytes) to be emitted or not. */
static void
expect_env(const char *env, size_t len, bool partial, bool emitted)
{
	struct fx x;
	struct hids_event ev;
	struct proctab_entry *e;

	fx_setup(&x, "[filter u]\nuser = 1000\n");
	e = proctab_upsert(&x.tab, 41);
	hids_event_init(&ev);
	ev.k.action = EV_EXEC;
	set_image(&ev.proc, 41, "/usr/bin/make", "make all", 1000);
	ev.proc.env = xmemdup(env, len + 1);
	ev.proc.env_len = len;
	ev.proc.env_partial = partial;
	proctab_set(&x.tab, e, &ev.proc);
	assert_int_equal(filter_event(&x.f, &x.tab, &ev, -1), !emitted);
	hids_event_release(&ev);
	fx_teardown(&x);
}

static void
test_never_suppress_env(void **state)
{
	static const char pre[] = "SUDO_USER=x\0LD_PRELOAD=/tmp/evil.so";
	static const char tun[] = "GLIBC_TUNABLES=glibc.rtld.x=1";
	static const char aud[] = "LD_AUDIT=/tmp/a.so";
	static const char benign[] = "LD_LIBRARY_PATH=/opt/lib\0LD_PRELOADX=1\0SUDO_USER=x";
	(void)state;
	expect_env(pre, sizeof(pre) - 1, false, true);
	expect_env(tun, sizeof(tun) - 1, false, true);
	expect_env(aud, sizeof(aud) - 1, false, true);
	/* A longer name that starts like one is not it; the others suppress as usual. */
	expect_env(benign, sizeof(benign) - 1, false, false);
	expect_env("", 0, false, false);
	/* Past the read cap a loader variable may hide: never suppressed. */
	expect_env(benign, sizeof(benign) - 1, true, true);
}

static void
test_setuid_mode(void **state)
{
	struct fx x;
	struct hids_event ev;
	(void)state;

	/* The capture thread's stat of the executable says setuid: reported. */
	fx_setup(&x, "[filter u]\nuser = 0\n");
	for (int i = 0; i < 2; i++) {
		proctab_upsert(&x.tab, 45 + i);
		hids_event_init(&ev);
		ev.k.action = EV_EXEC;
		set_image(&ev.proc, 45 + i, "/usr/bin/passwd", "passwd", 0);
		ev.proc.known |= PF_EXE_ID;
		ev.proc.exe_id.mode = 0100755 | (i == 0 ? 04000 : 0);
		assert_int_equal(filter_event(&x.f, &x.tab, &ev, -1), i == 1);
		hids_event_release(&ev);
	}
	assert_int_equal(x.f.pinned, 1);
	fx_teardown(&x);
}

static void
test_never_suppress_midlife(void **state)
{
	struct fx x;
	struct collected col = { 0 };
	(void)state;

	fx_setup(&x, "[filter t]\nexe = /usr/bin/tool\n");
	/* uid change to 0: emitted, and the rest of the life with it. */
	assert_true(run(&x, EV_EXEC, 50, 1, "/usr/bin/tool", "tool", 1000));
	assert_false(run(&x, EV_UID, 50, 0, NULL, NULL, 0));
	assert_false(run(&x, EV_COMM, 50, 0, NULL, NULL, 0));
	/* Its own later exec of the same tool stays pinned. */
	assert_false(run(&x, EV_EXEC, 50, 1, "/usr/bin/tool", "tool again", 0));
	/* A fork child is a new process: its exec is decided by the rules again. */
	assert_false(run(&x, EV_FORK, 52, 50, NULL, NULL, 0));
	assert_true(run(&x, EV_EXEC, 52, 50, "/usr/bin/tool", "tool child", 1000));
	assert_false(run(&x, EV_EXIT, 50, 0, NULL, NULL, 0));
	/* ptrace: emitted, pins. */
	assert_true(run(&x, EV_EXEC, 51, 1, "/usr/bin/tool", "tool", 1000));
	assert_false(run(&x, EV_PTRACE, 51, 0, NULL, NULL, 0));
	assert_false(run(&x, EV_EXIT, 51, 0, NULL, NULL, 0));
	assert_int_equal(x.f.pinned, 2);
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.processes[0], 3);
	assert_int_equal(col.events[0], 3);
	fx_teardown(&x);
}

static void
test_sample(void **state)
{
	struct fx x;
	struct collected col = { 0 };
	int kept = 0, n = 2000;
	char id[32];
	(void)state;

	/* Deterministic per entity id. */
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(filter_sample_keeps(id, 7), filter_sample_keeps(id, 7));
	}
	fx_setup(&x, "[filter s]\nexe = /usr/bin/true\nsample = 10\n");
	for (int pid = 100; pid < 100 + n; pid++) {
		bool sup = run(&x, EV_EXEC, pid, 1, "/usr/bin/true", "true", 1000);
		/* The exit follows the exec's decision. */
		assert_int_equal(run(&x, EV_EXIT, pid, 0, NULL, NULL, 0), sup);
		if (!sup)
			kept++;
	}
	/* About 1 in 10 is kept. */
	assert_in_range(kept, n / 10 / 2, n / 10 * 2);
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.processes[0], (uint64_t)(n - kept));
	assert_int_equal(col.events[0], (uint64_t)(2 * (n - kept)));
	fx_teardown(&x);
}

static void
test_sample_subtree(void **state)
{
	struct fx x;
	int kept = 0, dropped = 0;
	(void)state;

	/* A tree is kept or dropped whole: the children follow their root's draw. */
	fx_setup(&x, "[filter jobs]\nexe = /opt/runner/worker\nsubtree = yes\nsample = 3\n");
	for (int32_t root = 1000; root < 1060; root += 3) {
		bool sup = run(&x, EV_EXEC, root, 1, "/opt/runner/worker", "worker", 1000);
		assert_int_equal(run(&x, EV_FORK, root + 1, root, NULL, NULL, 0), sup);
		assert_int_equal(run(&x, EV_EXEC, root + 1, root, "/bin/bash", "bash step", 1000), sup);
		assert_int_equal(run(&x, EV_FORK, root + 2, root + 1, NULL, NULL, 0), sup);
		assert_int_equal(run(&x, EV_EXEC, root + 2, root + 1, "/opt/runner/worker", "worker",
		    1000), sup);
		assert_int_equal(run(&x, EV_EXIT, root + 2, 0, NULL, NULL, 0), sup);
		assert_int_equal(run(&x, EV_EXIT, root + 1, 0, NULL, NULL, 0), sup);
		assert_int_equal(run(&x, EV_EXIT, root, 0, NULL, NULL, 0), sup);
		if (sup)
			dropped++;
		else
			kept++;
	}
	assert_true(kept > 0 && dropped > 0);
	fx_teardown(&x);
}

static void
test_threads(void **state)
{
	struct fx x;
	struct hids_event ev;
	struct proctab_entry *e;
	(void)state;

	/* A thread's fork and exit belong to its process's decision. */
	fx_setup(&x, "[filter t]\nexe = /usr/bin/tool\n");
	assert_true(run(&x, EV_EXEC, 80, 1, "/usr/bin/tool", "tool", 1000));
	e = proctab_lookup(&x.tab, 80);
	hids_event_init(&ev);
	ev.k.action = EV_FORK;
	ev.is_thread = true;
	process_copy(&ev.proc, &e->p, 4096);
	assert_true(filter_event(&x.f, &x.tab, &ev, -1));
	ev.k.action = EV_EXIT;
	assert_true(filter_event(&x.f, &x.tab, &ev, -1));
	hids_event_release(&ev);
	assert_int_equal(x.f.suppressed, 3);
	fx_teardown(&x);
}

static void
test_reload(void **state)
{
	struct fx x;
	struct config c2;
	struct collected col = { 0 };
	(void)state;

	fx_setup(&x, "[filter a]\nexe = /usr/bin/a\n[filter b]\nexe = /usr/bin/b\n");
	assert_true(run(&x, EV_EXEC, 60, 1, "/usr/bin/a", "a", 1000));
	assert_true(run(&x, EV_EXEC, 61, 1, "/usr/bin/b", "b", 1000));
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.n, 2);
	/* The new config drops rule a and puts b after a new rule. */
	config_defaults(&c2);
	assert_int_equal(config_load_string(&c2, "[filter c]\nexe = /usr/bin/c\n"
	    "[filter b]\nexe = /usr/bin/b\n", "t2.conf", stderr), 0);
	filter_install(&x.f, &c2.filter, &x.tab);
	config_release(&c2);
	/* Both processes stay suppressed to their exit. */
	assert_true(run(&x, EV_EXIT, 60, 0, NULL, NULL, 0));
	assert_true(run(&x, EV_EXIT, 61, 0, NULL, NULL, 0));
	/* A new exec of a is reported: its rule is gone. */
	assert_false(run(&x, EV_EXEC, 62, 1, "/usr/bin/a", "a", 1000));
	assert_true(run(&x, EV_EXEC, 63, 1, "/usr/bin/c", "c", 1000));
	col.n = 0;
	filter_flush(&x.f, collect_cb, &col);
	assert_int_equal(col.n, 3);
	assert_string_equal(col.rule[0], "c");
	assert_string_equal(col.rule[1], "b");
	assert_int_equal(col.events[1], 1);
	assert_string_equal(col.rule[2], "a");
	assert_int_equal(col.events[2], 1);
	/* A reload after a's last process is gone forgets it. */
	config_defaults(&c2);
	assert_int_equal(config_load_string(&c2, "[filter b]\nexe = /usr/bin/b\n", "t3.conf",
	    stderr), 0);
	filter_install(&x.f, &c2.filter, &x.tab);
	config_release(&c2);
	assert_int_equal(x.f.r.n, 2);	/* b, and c retired for process 63 */
	fx_teardown(&x);
}

static void
test_no_rules(void **state)
{
	struct fx x;
	(void)state;

	fx_setup(&x, "");
	assert_false(run(&x, EV_EXEC, 70, 1, "/usr/bin/git", "git", 1000));
	assert_false(run(&x, EV_EXIT, 70, 0, NULL, NULL, 0));
	assert_int_equal(x.f.r.interval_s, FILTER_DEFAULT_INTERVAL);
	fx_teardown(&x);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glob),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_conditions_and),
		cmocka_unit_test(test_whole_life),
		cmocka_unit_test(test_fork_children),
		cmocka_unit_test(test_subtree),
		cmocka_unit_test(test_never_suppress_exec),
		cmocka_unit_test(test_never_suppress_env),
		cmocka_unit_test(test_setuid_mode),
		cmocka_unit_test(test_never_suppress_midlife),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_sample_subtree),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_no_rules),
	};
	return unit_main(argc, argv, "filter", tests, UNIT_COUNT(tests), NULL, 0);
}
