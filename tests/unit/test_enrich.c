/* Proves that enrich.c, fed capture records over a fixture /proc, lets a fork child inherit its parent's image, an exec replace it, an exit report and forget it, and a reused pid get a new entity id. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enrich.h"
#include "procfs.h"
#include "proctab.h"
#include "unit.h"

#define HOST "host-enrich"
#define SHELL_PID 100		/* in the fixture /proc */
#define CLK_TCK 100

/* One enricher over a fixture /proc in a temporary directory. */
struct fx {
	char root[64];
	int procfd;
	struct proctab tab;
	struct encode_ctx enc;
	struct agent_stats stats;
	struct enricher en;
};

/* Writes len bytes to root/rel, creating it. */
static void
put_file(const char *root, const char *rel, const char *data, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Adds a process to the fixture /proc: stat, status, cmdline and the exe and cwd links. */
static void
put_proc(const char *root, int pid, const char *comm, int ppid, uint64_t start,
    uint32_t uid, const char *args, size_t args_len, const char *exe, const char *cwd)
{
	char rel[64], buf[512];

	snprintf(rel, sizeof(rel), "%s/%d", root, pid);
	assert_int_equal(mkdir(rel, 0755), 0);
	snprintf(rel, sizeof(rel), "%d/stat", pid);
	snprintf(buf, sizeof(buf), "%d (%s) S %d %d %d 34816 0 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu "
	    "1000 100 0\n", pid, comm, ppid, pid, pid, (unsigned long long)start);
	put_file(root, rel, buf, strlen(buf));
	snprintf(rel, sizeof(rel), "%d/status", pid);
	snprintf(buf, sizeof(buf), "Name:\t%s\nUid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
	    "NSpid:\t%d\nCapEff:\t0000000000000000\n", comm, uid, uid, uid, uid,
	    uid, uid, uid, uid, pid);
	put_file(root, rel, buf, strlen(buf));
	snprintf(rel, sizeof(rel), "%d/cmdline", pid);
	put_file(root, rel, args, args_len);
	snprintf(buf, sizeof(buf), "%s/%d/exe", root, pid);
	assert_int_equal(symlink(exe, buf), 0);
	snprintf(buf, sizeof(buf), "%s/%d/cwd", root, pid);
	assert_int_equal(symlink(cwd, buf), 0);
}

/* Makes the fixture /proc with one shell and an enricher over it. */
static int
fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->root, "/tmp/test_enrich.XXXXXX");
	assert_non_null(mkdtemp(f->root));
	put_proc(f->root, SHELL_PID, "bash", 1, 5000, 1000, "bash\0-l", 8, "/bin/bash", "/");
	f->procfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(f->procfd >= 0);
	proctab_init(&f->tab, 64, 4096, HOST);
	/* No resolver (names NULL): every name is unknown, nothing blocks. */
	f->enc.clk_tck = CLK_TCK;
	f->en = (struct enricher){ .tab = &f->tab, .names = NULL, .procfd = f->procfd,
	    .enc = &f->enc, .stats = &f->stats, .max_args = 4096, .mono_to_boot_ns = 0 };
	*state = f;
	return 0;
}

/* Removes the fixture /proc and frees the enricher. */
static int
fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	proctab_release(&f->tab);
	close(f->procfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A record of action for pid (thread id = pid), at ts_ns. */
static struct capture_rec
rec(enum ev_action action, int32_t pid, uint64_t ts_ns)
{
	struct capture_rec r;

	memset(&r, 0, sizeof(r));
	process_init(&r.snap);
	r.k.action = action;
	r.k.pid = r.k.tgid = pid;
	r.k.ts_ns = ts_ns;
	r.hash_slot = -1;
	return r;
}

/* A fork of child from parent, with the child's start tick as the capture thread read it. */
static void
fork_child(struct fx *f, int32_t parent, int32_t child, uint64_t ts_ns, uint64_t start,
    struct hids_event *ev)
{
	struct capture_rec r = rec(EV_FORK, child, ts_ns);

	r.k.ppid = r.k.ptgid = parent;
	r.k.has_parent = true;
	if (start) {
		r.snap.start_ticks = start;
		r.snap_got = SNAP_STAT;
	}
	enrich_record(&f->en, &r, ev);
	process_release(&r.snap);
}

/* An exec of pid whose snapshot holds args and exe, or nothing when args is NULL. */
static void
exec_image(struct fx *f, int32_t pid, uint64_t ts_ns, const char *args, size_t args_len,
    const char *exe, struct hids_event *ev)
{
	struct capture_rec r = rec(EV_EXEC, pid, ts_ns);

	if (args) {
		r.snap.args = malloc(args_len + 1);
		assert_non_null(r.snap.args);
		memcpy(r.snap.args, args, args_len);
		r.snap.args[args_len] = '\0';
		r.snap.args_len = args_len;
		r.snap.args_count = 2;
		r.snap.executable = strdup(exe);
		r.snap.cwd_errno = ENOENT;
		r.snap_got = SNAP_CMDLINE | SNAP_EXE;
	} else {
		r.snap.exe_errno = r.snap.cwd_errno = ENOENT;
	}
	enrich_record(&f->en, &r, ev);
	process_release(&r.snap);
}

/* An exit of pid at ts_ns. */
static void
exit_proc(struct fx *f, int32_t pid, int32_t parent, uint64_t ts_ns, struct hids_event *ev)
{
	struct capture_rec r = rec(EV_EXIT, pid, ts_ns);

	r.k.ppid = r.k.ptgid = parent;
	r.k.has_parent = true;
	enrich_record(&f->en, &r, ev);
	process_release(&r.snap);
}

/* A fork child carries its parent's image (read from /proc) and the parent itself. */
static void
test_fork_inherits(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	struct proctab_entry *e;

	fork_child(f, SHELL_PID, 200, 1000, 0, &ev);
	assert_int_equal(ev.proc.pid, 200);
	assert_int_equal(ev.proc.ppid, SHELL_PID);
	assert_string_equal(ev.proc.executable, "/bin/bash");
	assert_int_equal(ev.proc.args_len, 7);
	assert_memory_equal(ev.proc.args, "bash\0-l", 7);
	assert_string_equal(ev.proc.cwd, "/");
	assert_int_equal(ev.proc.ids.euid, 1000);
	assert_int_equal(ev.proc.ns_pid, -1);
	assert_false(ev.proc.known & PF_NSPID);
	assert_true(ev.has_parent);
	assert_int_equal(ev.parent.pid, SHELL_PID);
	assert_string_equal(ev.parent.executable, "/bin/bash");
	assert_true(ev.proc.entity_id[0] != '\0');
	assert_string_not_equal(ev.proc.entity_id, ev.parent.entity_id);
	/* The parent's id is the one its (pid, start) gives. */
	char want[ENTITY_ID_LEN + 1];
	proctab_entity_id(HOST, SHELL_PID, 5000, want);
	assert_string_equal(ev.parent.entity_id, want);
	/* Without a stat read, the start tick comes from the fork's timestamp. */
	assert_int_equal(ev.proc.start_ticks, 1000 / (1000000000ull / CLK_TCK));
	/* Both are in the table now, the child with its fork time. */
	assert_non_null(proctab_lookup(&f->tab, SHELL_PID));
	assert_non_null(e = proctab_lookup(&f->tab, 200));
	assert_string_equal(e->p.executable, "/bin/bash");
	assert_string_equal(e->p.entity_id, ev.proc.entity_id);
	assert_int_equal(e->fork_ts_ns, 1000);
	hids_event_release(&ev);

	/* A fork from a parent neither known nor in /proc still names the parent's pid. */
	fork_child(f, 4242, 201, 2000, 0, &ev);
	assert_int_equal(ev.proc.pid, 201);
	assert_int_equal(ev.proc.ppid, 4242);
	assert_null(ev.proc.executable);
	assert_true(ev.has_parent);
	assert_int_equal(ev.parent.pid, 4242);
	assert_null(ev.parent.executable);
	hids_event_release(&ev);
}

/* An exec replaces the image, keeps the entity id, and reports the previous image. */
static void
test_exec_replaces(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	char id[ENTITY_ID_LEN + 1];

	fork_child(f, SHELL_PID, 200, 1000, 0, &ev);
	strcpy(id, ev.proc.entity_id);
	hids_event_release(&ev);

	exec_image(f, 200, 5000, "ls\0-la", 6, "/usr/bin/ls", &ev);
	assert_false(ev.proc_gone);
	assert_int_equal(f->stats.argv_captured, 1);
	assert_string_equal(ev.proc.executable, "/usr/bin/ls");
	assert_int_equal(ev.proc.args_len, 6);
	assert_memory_equal(ev.proc.args, "ls\0-la", 6);
	assert_int_equal(ev.proc.args_count, 2);
	/* Gone cwd (ENOENT): the inherited one stays, exec does not change it. */
	assert_string_equal(ev.proc.cwd, "/");
	assert_string_equal(ev.proc.entity_id, id);
	assert_true(ev.has_previous);
	assert_string_equal(ev.previous.executable, "/bin/bash");
	assert_true(ev.has_parent);
	assert_int_equal(ev.parent.pid, SHELL_PID);
	assert_string_equal(proctab_lookup(&f->tab, 200)->p.executable, "/usr/bin/ls");
	hids_event_release(&ev);

	/* An exec whose /proc was already gone carries no stale args or executable. */
	exec_image(f, 200, 6000, NULL, 0, NULL, &ev);
	assert_true(ev.proc_gone);
	assert_int_equal(f->stats.proc_gone, 1);
	assert_null(ev.proc.args);
	assert_null(ev.proc.executable);
	assert_false(ev.proc.known & (PF_ARGS | PF_EXE));
	assert_string_equal(ev.proc.entity_id, id);
	assert_string_equal(ev.previous.executable, "/usr/bin/ls");
	struct proctab_entry *e = proctab_lookup(&f->tab, 200);
	assert_null(e->p.executable);
	assert_null(e->p.args);
	hids_event_release(&ev);
}

/* An exec of a process never seen gets the entity id of its (pid, start tick). */
static void
test_exec_unknown(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	struct capture_rec r = rec(EV_EXEC, 300, 7000);
	char want[ENTITY_ID_LEN + 1];

	r.snap.start_ticks = 777;
	r.snap.ppid = SHELL_PID;
	r.snap.known = PF_STAT;
	r.snap_got = SNAP_STAT;
	r.snap.exe_errno = r.snap.cwd_errno = ENOENT;
	enrich_record(&f->en, &r, &ev);
	process_release(&r.snap);
	proctab_entity_id(HOST, 300, 777, want);
	assert_string_equal(ev.proc.entity_id, want);
	assert_false(ev.has_previous);
	assert_true(ev.proc_gone);
	assert_int_equal(ev.parent.pid, SHELL_PID);
	assert_string_equal(ev.parent.executable, "/bin/bash");
	hids_event_release(&ev);
}

/* An exit reports the last image and its duration, then the table forgets it. */
static void
test_exit_forgets(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	char id[ENTITY_ID_LEN + 1];

	fork_child(f, SHELL_PID, 200, 1000, 0, &ev);
	strcpy(id, ev.proc.entity_id);
	hids_event_release(&ev);
	exec_image(f, 200, 5000, "ls\0-la", 6, "/usr/bin/ls", &ev);
	hids_event_release(&ev);

	exit_proc(f, 200, SHELL_PID, 9000, &ev);
	assert_false(ev.proc_gone);
	assert_string_equal(ev.proc.executable, "/usr/bin/ls");
	assert_string_equal(ev.proc.entity_id, id);
	assert_int_equal(ev.duration_ns, 8000);
	assert_int_equal(ev.parent.pid, SHELL_PID);
	hids_event_release(&ev);
	assert_null(proctab_lookup(&f->tab, 200));

	/* A second exit finds nothing: the process is gone, not invented. */
	exit_proc(f, 200, SHELL_PID, 9500, &ev);
	assert_true(ev.proc_gone);
	assert_null(ev.proc.executable);
	assert_int_equal(ev.duration_ns, 0);
	hids_event_release(&ev);
	assert_null(proctab_lookup(&f->tab, 200));
}

/* A thread's exit leaves its process in the table; its fork describes the process. */
static void
test_thread_keeps_process(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	struct capture_rec r;

	fork_child(f, SHELL_PID, 200, 1000, 0, &ev);
	hids_event_release(&ev);

	r = rec(EV_FORK, 201, 2000);
	r.k.tgid = 200;
	r.k.ppid = r.k.ptgid = SHELL_PID;
	r.is_thread = true;
	enrich_record(&f->en, &r, &ev);
	assert_true(ev.is_thread);
	assert_int_equal(ev.proc.pid, 200);
	assert_string_equal(ev.proc.executable, "/bin/bash");
	assert_int_equal(ev.parent.pid, SHELL_PID);
	hids_event_release(&ev);

	r = rec(EV_EXIT, 201, 3000);
	r.k.tgid = 200;
	r.is_thread = true;
	enrich_record(&f->en, &r, &ev);
	assert_true(ev.is_thread);
	assert_int_equal(ev.duration_ns, 0);
	hids_event_release(&ev);
	assert_non_null(proctab_lookup(&f->tab, 200));
}

/* A pid reused within one start tick gets a new entity id each time; a new tick, the plain one. */
static void
test_pid_reuse_generations(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	char id0[ENTITY_ID_LEN + 1], id1[ENTITY_ID_LEN + 1], id2[ENTITY_ID_LEN + 1];
	char want[ENTITY_ID_LEN + 1];

	fork_child(f, SHELL_PID, 400, 1000, 900, &ev);
	strcpy(id0, ev.proc.entity_id);
	proctab_entity_id(HOST, 400, 900, want);
	assert_string_equal(id0, want);
	hids_event_release(&ev);
	exit_proc(f, 400, SHELL_PID, 2000, &ev);
	hids_event_release(&ev);

	/* The same pid again, in the same tick, after an exit. */
	fork_child(f, SHELL_PID, 400, 3000, 900, &ev);
	strcpy(id1, ev.proc.entity_id);
	assert_string_not_equal(id1, id0);
	assert_int_equal(proctab_lookup(&f->tab, 400)->gen, 1);
	hids_event_release(&ev);

	/* And again with its exit lost: the table still holds the last one. */
	fork_child(f, SHELL_PID, 400, 4000, 900, &ev);
	strcpy(id2, ev.proc.entity_id);
	assert_string_not_equal(id2, id0);
	assert_string_not_equal(id2, id1);
	assert_int_equal(proctab_lookup(&f->tab, 400)->gen, 2);
	hids_event_release(&ev);

	/* Later events of that process carry its generation's id. */
	exit_proc(f, 400, SHELL_PID, 5000, &ev);
	assert_string_equal(ev.proc.entity_id, id2);
	hids_event_release(&ev);

	/* A later tick is a different process by its start alone: generation 0. */
	fork_child(f, SHELL_PID, 400, 6000, 901, &ev);
	proctab_entity_id(HOST, 400, 901, want);
	assert_string_equal(ev.proc.entity_id, want);
	assert_int_equal(proctab_lookup(&f->tab, 400)->gen, 0);
	hids_event_release(&ev);
}

/* A uid change re-reads a known process's ids, and applies the event's to a gone one. */
static void
test_uid_change(void **state)
{
	struct fx *f = *state;
	struct hids_event ev;
	struct capture_rec r = rec(EV_UID, SHELL_PID, 1000);

	r.k.rid = 0;
	r.k.eid = 0;
	enrich_record(&f->en, &r, &ev);
	assert_false(ev.proc_gone);
	/* The fixture's status still says 1000: /proc wins over the event. */
	assert_int_equal(ev.proc.ids.euid, 1000);
	assert_string_equal(ev.proc.executable, "/bin/bash");
	hids_event_release(&ev);

	r = rec(EV_UID, 555, 2000);
	r.k.rid = 7;
	r.k.eid = 8;
	enrich_record(&f->en, &r, &ev);
	assert_true(ev.proc_gone);
	assert_int_equal(ev.proc.ids.ruid, 7);
	assert_int_equal(ev.proc.ids.euid, 8);
	assert_true(ev.proc.known & PF_IDS);
	hids_event_release(&ev);
	assert_null(proctab_lookup(&f->tab, 555));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fork_inherits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_exec_replaces, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_exec_unknown, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_exit_forgets, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_thread_keeps_process, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pid_reuse_generations, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_uid_change, fx_setup, fx_teardown),
	};

	return unit_main(argc, argv, "enrich", tests, UNIT_COUNT(tests), NULL, 0);
}
