/* Proves that entry-leader classification gives ECS's entry_meta.type and the right leader on process trees built here: an sshd session, a systemd service, a container runtime's child, a cron job, a terminal and the console, an SSM session, kernel threads, and an unknown ancestor; and that SSH_CONNECTION gives source.ip. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "entry.h"
#include "event.h"
#include "unit.h"

#define TREE_MAX 16

/* A process tree: processes by index, each with its parent's index or -1. */
struct tree {
	struct process p[TREE_MAX];
	int n;
};

/* Adds a process as the table would hold it after its exec: forked from parent (inheriting its entry), then classified. */
static struct process *
spawn(struct tree *t, struct process *parent, int32_t pid, int32_t sid, const char *exe,
    int32_t tty_nr, const char *container)
{
	struct process *p = &t->p[t->n++];

	assert_true(t->n <= TREE_MAX);
	process_init(p);
	if (parent)
		p->entry = parent->entry;	/* fork: a copy of the parent */
	else
		p->entry.type = ENTRY_UNKNOWN;	/* what enrich_fork sets without one */
	p->pid = pid;
	p->ppid = parent ? parent->pid : (pid == 1 ? 0 : 4242);
	p->sid = sid;
	p->pgid = sid;
	p->tty_nr = tty_nr;
	p->known = PF_STAT | PF_NAME | PF_PPID | PF_CONTAINER;
	p->executable = (char *)(uintptr_t)exe;	/* borrowed: never released here */
	if (exe)
		p->known |= PF_EXE;
	snprintf(p->name, sizeof(p->name), "%.15s", exe ? strrchr(exe, '/') + 1 : "?");
	snprintf(p->entity_id, sizeof(p->entity_id), "E%d", pid);
	if (container)
		snprintf(p->container_id, sizeof(p->container_id), "%s", container);
	entry_classify(p, parent);
	return p;
}

static void
assert_entry(const struct process *p, enum entry_type type, int32_t leader)
{
	char eid[ENTITY_ID_LEN + 1];

	assert_int_equal(p->entry.type, type);
	assert_int_equal(p->entry.pid, leader);
	if (leader > 0) {
		snprintf(eid, sizeof(eid), "E%d", leader);
		assert_string_equal(p->entry.entity_id, eid);
	}
}

/* init, the tree's root. */
static struct process *
init_of(struct tree *t)
{
	return spawn(t, NULL, 1, 1, "/usr/lib/systemd/systemd", 0, NULL);
}

static void
test_sshd_session(void **state)
{
	struct tree t = { .n = 0 };
	(void)state;
	struct process *init = init_of(&t);
	struct process *listener = spawn(&t, init, 100, 100, "/usr/sbin/sshd", 0, NULL);
	struct process *conn = spawn(&t, listener, 200, 200, "/usr/sbin/sshd", 0, NULL);
	struct process *user = spawn(&t, conn, 201, 200, "/usr/sbin/sshd", 0, NULL);
	struct process *shell, *cmd;

	assert_entry(init, ENTRY_INIT, 1);
	assert_entry(listener, ENTRY_INIT, 100);	/* a service */
	assert_entry(conn, ENTRY_INIT, 100);	/* sshd under sshd starts nothing */
	assert_entry(user, ENTRY_INIT, 100);
	/* The session's shell: sshd's child that is not sshd. */
	shell = &t.p[t.n++];
	process_init(shell);
	shell->entry = user->entry;
	shell->pid = 300;
	shell->ppid = 201;
	shell->sid = shell->pgid = 300;
	shell->known = PF_STAT | PF_EXE | PF_NAME;
	shell->executable = (char *)(uintptr_t)"/bin/bash";
	snprintf(shell->entity_id, sizeof(shell->entity_id), "E300");
	assert_true(entry_classify(shell, user));
	assert_entry(shell, ENTRY_SSHD, 300);
	assert_int_equal(entry_set_source(&shell->entry, "127.0.0.1 50522 127.0.0.1 22"), 0);
	assert_int_equal(shell->entry.ip_family, AF_INET);
	assert_memory_equal(shell->entry.ip, "\x7f\x00\x00\x01", 4);
	/* What it runs inherits the entry, source included. */
	cmd = spawn(&t, shell, 301, 300, "/usr/bin/id", 0, NULL);
	assert_entry(cmd, ENTRY_SSHD, 300);
	assert_int_equal(cmd->entry.ip_family, AF_INET);
	/* A second exec of the shell's pid (bash -c execs its command) stays the entry. */
	shell->executable = (char *)(uintptr_t)"/usr/bin/true";
	assert_true(entry_classify(shell, user));
	assert_entry(shell, ENTRY_SSHD, 300);
}

static void
test_source_ip(void **state)
{
	struct entry_ref e;
	(void)state;

	memset(&e, 0, sizeof(e));
	assert_int_equal(entry_set_source(&e, "::1 40000 ::1 22"), 0);
	assert_int_equal(e.ip_family, AF_INET6);
	assert_int_equal(e.ip[15], 1);
	assert_int_equal(entry_set_source(&e, "not-an-address 1 2 3"), -1);
	assert_int_equal(e.ip_family, 0);
	assert_int_equal(entry_set_source(&e, ""), -1);
	assert_int_equal(entry_set_source(&e, " 1 2 3"), -1);
	assert_int_equal(entry_set_source(&e,
	    "1111111111111111111111111111111111111111111111111111111111111111111111 1"), -1);
}

static void
test_systemd_service(void **state)
{
	struct tree t = { .n = 0 };
	(void)state;
	struct process *init = init_of(&t);
	struct process *nginx = spawn(&t, init, 500, 500, "/usr/sbin/nginx", 0, NULL);
	struct process *worker = spawn(&t, nginx, 501, 500, "/usr/sbin/nginx", 0, NULL);
	struct process *helper = spawn(&t, worker, 502, 500, "/bin/sh", 0, NULL);
	/* Reparented to init, not a session leader: keeps what it had. */
	struct process *orphan = spawn(&t, helper, 503, 500, "/bin/sleep", 0, NULL);

	assert_entry(nginx, ENTRY_INIT, 500);
	assert_entry(worker, ENTRY_INIT, 500);
	assert_entry(helper, ENTRY_INIT, 500);
	orphan->ppid = 1;
	entry_classify(orphan, init);
	assert_entry(orphan, ENTRY_INIT, 500);
}

static void
test_container(void **state)
{
	static const char id[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	struct tree t = { .n = 0 };
	(void)state;
	struct process *init = init_of(&t);
	struct process *conmon = spawn(&t, init, 600, 600, "/usr/bin/conmon", 0, NULL);
	struct process *cinit = spawn(&t, conmon, 601, 601, "/bin/busybox", 0, id);
	struct process *child = spawn(&t, cinit, 602, 601, "/bin/busybox", 0, id);
	/* Under a shim, without the cgroup saying so: named by the parent. */
	struct process *shim = spawn(&t, init, 700, 700, "/usr/bin/containerd-shim-runc-v2", 0,
	    NULL);
	struct process *task = spawn(&t, shim, 701, 701, "/app/server", 0, NULL);
	/* Not a session leader, in a container of its own: a container entry anyway. */
	struct process *exec_in = spawn(&t, conmon, 603, 600, "/bin/busybox", 0, id);

	assert_entry(conmon, ENTRY_INIT, 1);	/* runtimes start no entry of their own */
	assert_entry(shim, ENTRY_INIT, 1);
	assert_entry(cinit, ENTRY_CONTAINER, 601);
	assert_entry(child, ENTRY_CONTAINER, 601);
	assert_entry(task, ENTRY_CONTAINER, 701);
	assert_entry(exec_in, ENTRY_CONTAINER, 603);
}

static void
test_cron_job(void **state)
{
	struct tree t = { .n = 0 };
	(void)state;
	struct process *init = init_of(&t);
	struct process *cron = spawn(&t, init, 800, 800, "/usr/sbin/cron", 0, NULL);
	struct process *child = spawn(&t, cron, 801, 800, "/usr/sbin/cron", 0, NULL);
	struct process *job = spawn(&t, child, 802, 802, "/bin/sh", 0, NULL);	/* setsid */
	struct process *cmd = spawn(&t, job, 803, 802, "/usr/bin/backup", 0, NULL);

	assert_entry(cron, ENTRY_INIT, 800);
	assert_entry(job, ENTRY_INIT, 800);
	assert_entry(cmd, ENTRY_INIT, 800);
}

static void
test_terminal_console_ssm(void **state)
{
	struct tree t = { .n = 0 };
	(void)state;
	struct process *init = init_of(&t);
	struct process *login = spawn(&t, init, 900, 900, "/bin/login", (4 << 8) | 1, NULL);
	struct process *bash = spawn(&t, login, 901, 901, "/bin/bash", (4 << 8) | 1, NULL);
	struct process *cons = spawn(&t, init, 910, 910, "/bin/login", (5 << 8) | 1, NULL);
	struct process *worker = spawn(&t, init, 920, 920, "/usr/bin/ssm-session-worker", 0,
	    NULL);
	struct process *ssh = spawn(&t, worker, 921, 921, "/bin/sh", 136 << 8, NULL);
	/* A pts session of something else is no entry: it inherits. */
	struct process *tmux = spawn(&t, ssh, 922, 922, "/usr/bin/tmux", (136 << 8) | 3, NULL);

	assert_entry(login, ENTRY_TERMINAL, 900);
	assert_entry(bash, ENTRY_TERMINAL, 901);
	assert_entry(cons, ENTRY_CONSOLE, 910);
	assert_entry(ssh, ENTRY_SSM, 921);
	assert_entry(tmux, ENTRY_SSM, 921);
}

static void
test_kernel_threads(void **state)
{
	struct tree t = { .n = 0 };
	(void)state;
	struct process *init = init_of(&t);
	struct process *kthreadd = spawn(&t, NULL, 2, 0, NULL, 0, NULL);
	struct process *kworker = spawn(&t, kthreadd, 40, 0, NULL, 0, NULL);

	(void)init;
	kthreadd->ppid = 0;
	entry_classify(kthreadd, NULL);
	assert_entry(kthreadd, ENTRY_NONE, 0);
	assert_entry(kworker, ENTRY_NONE, 0);
}

static void
test_unknown_ancestor(void **state)
{
	struct tree t = { .n = 0 };
	(void)state;
	/* The parent (4242) is not in the table: nothing is guessed. */
	struct process *orphan = spawn(&t, NULL, 1000, 999, "/usr/bin/python3", 0, NULL);
	struct process *leader = spawn(&t, NULL, 1010, 1010, "/bin/bash", 0, NULL);
	struct process *child = spawn(&t, orphan, 1001, 999, "/bin/ls", 0, NULL);

	assert_entry(orphan, ENTRY_UNKNOWN, 0);
	assert_entry(leader, ENTRY_UNKNOWN, 0);	/* a session leader, but of what? */
	assert_entry(child, ENTRY_UNKNOWN, 0);
	assert_string_equal(entry_type_name(ENTRY_UNKNOWN), "unknown");
	assert_null(entry_type_name(ENTRY_NONE));
	assert_string_equal(entry_type_name(ENTRY_SSHD), "sshd");
}

static void
test_basename(void **state)
{
	struct process p;
	(void)state;

	process_init(&p);
	assert_string_equal(entry_basename(&p), "");
	snprintf(p.name, sizeof(p.name), "sshd");
	p.known = PF_NAME;
	assert_string_equal(entry_basename(&p), "sshd");
	p.executable = (char *)(uintptr_t)"/usr/sbin/sshd-session";
	p.known |= PF_EXE;
	assert_string_equal(entry_basename(&p), "sshd-session");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sshd_session),
		cmocka_unit_test(test_source_ip),
		cmocka_unit_test(test_systemd_service),
		cmocka_unit_test(test_container),
		cmocka_unit_test(test_cron_job),
		cmocka_unit_test(test_terminal_console_ssm),
		cmocka_unit_test(test_kernel_threads),
		cmocka_unit_test(test_unknown_ancestor),
		cmocka_unit_test(test_basename),
	};
	return unit_main(argc, argv, "entry", tests, UNIT_COUNT(tests), NULL, 0);
}
