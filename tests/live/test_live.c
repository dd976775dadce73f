/* Proves, against the real kernel connector, that every event type arrives end to end with the right fields. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/prctl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "escape.h"
#include "../jpath.h"

#define WAIT_MS 8000		/* how long an event may take to show up */
#define WAIT_MS_SLOW 60000	/* the same under valgrind (HIDS_LIVE_SLOW=1) */

static const char *agent_bin, *schema_path, *schema_check;
static char out_path[256], err_path[256], dir_path[64];
static pid_t agent_pid = -1;
static FILE *out_fp;
static json_object **lines;
static size_t nlines, caplines;
static char nonce[32];
static bool slow;	/* the agent runs under valgrind: wait longer, live longer */

/* Returns milliseconds on the monotonic clock. */
static uint64_t
ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Reads any new complete output lines into the parsed cache. */
static void
slurp(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long pos;

	for (;;) {
		pos = ftell(out_fp);
		n = getline(&line, &cap, out_fp);
		if (n <= 0 || line[n - 1] != '\n') {
			/* Incomplete: come back for it later. */
			clearerr(out_fp);
			fseek(out_fp, pos, SEEK_SET);
			break;
		}
		json_object *o = json_tokener_parse(line);
		assert_non_null(o);	/* every line is one JSON object */
		if (nlines == caplines) {
			caplines = caplines ? caplines * 2 : 256;
			lines = realloc(lines, caplines * sizeof(*lines));
		}
		lines[nlines++] = o;
	}
	free(line);
}

static int64_t
jint(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return v ? json_object_get_int64(v) : -1;
}

static const char *
jstr(json_object *o, const char *path)
{
	json_object *v = jget(o, path);
	return v ? json_object_get_string(v) : NULL;
}

/* Waits for an event with this action about this pid; NULL on timeout. */
static json_object *
wait_event(const char *action, pid_t pid)
{
	uint64_t deadline = ms_now() + (slow ? WAIT_MS_SLOW : WAIT_MS);
	size_t from = 0;

	while (ms_now() < deadline) {
		slurp();
		for (size_t i = from; i < nlines; i++) {
			const char *a = jstr(lines[i], "event.action");
			if (a && strcmp(a, action) == 0 && jint(lines[i], "process.pid") == pid)
				return lines[i];
		}
		from = nlines;
		usleep(20000);
	}
	return NULL;
}

/* Starts the agent with --stdout and waits for its "ready" log line. */
static int
start_agent(void **state)
{
	(void)state;
	snprintf(dir_path, sizeof(dir_path), "/tmp/hids-live.XXXXXX");
	if (mkdtemp(dir_path) == NULL)
		return -1;
	snprintf(out_path, sizeof(out_path), "%s/out.json", dir_path);
	snprintf(err_path, sizeof(err_path), "%s/err.txt", dir_path);
	snprintf(nonce, sizeof(nonce), "%d%ld", getpid(), (long)time(NULL));
	agent_pid = fork();
	if (agent_pid == 0) {
		int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(o, 1);
		dup2(e, 2);
		execl(agent_bin, agent_bin, "--stdout", (char *)NULL);
		_exit(127);
	}
	uint64_t deadline = ms_now() + (slow ? 60000 : 10000);
	while (ms_now() < deadline) {
		char buf[8192] = "";
		FILE *f = fopen(err_path, "r");
		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			buf[n] = '\0';
			fclose(f);
		}
		if (strstr(buf, "ready"))
			break;
		if (waitpid(agent_pid, NULL, WNOHANG) == agent_pid) {
			fprintf(stderr, "agent exited early:\n%s\n", buf);
			agent_pid = -1;
			return -1;
		}
		usleep(20000);
	}
	out_fp = fopen(out_path, "r");
	return out_fp ? 0 : -1;
}

/* Stops the agent with SIGTERM; checks it exits 0 with a final heartbeat. */
static int
stop_agent(void **state)
{
	int status = 0;
	(void)state;
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, &status, 0);
		agent_pid = -1;
	}
	if (out_fp) {
		slurp();
		fclose(out_fp);
	}
	for (size_t i = 0; i < nlines; i++)
		json_object_put(lines[i]);
	free(lines);
	if (getenv("HIDS_KEEP_OUTPUT") == NULL) {
		unlink(out_path);
		unlink(err_path);
		rmdir(dir_path);
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Asserts that process.args of ev is exactly argv (after hids.escaped). */
static void
assert_args(json_object *ev, char *const argv[])
{
	json_object *args = jget(ev, "process.args");
	json_object *esc = jget(ev, "hids.escaped");
	bool escaped = false;
	size_t n = 0;

	for (size_t i = 0; esc && i < json_object_array_length(esc); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(esc, i)),
		    "process.args") == 0)
			escaped = true;
	while (argv[n])
		n++;
	assert_non_null(args);
	assert_int_equal(json_object_array_length(args), n);
	assert_int_equal(jint(ev, "process.args_count"), n);
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(args, i);
		const char *s = json_object_get_string(a);
		size_t slen = (size_t)json_object_get_string_len(a);
		char *raw = malloc(slen + 1);
		size_t rlen = slen;
		if (escaped)
			assert_int_equal(bytes_unescape(s, slen, raw, &rlen), 0);
		else
			memcpy(raw, s, slen);
		assert_int_equal(rlen, strlen(argv[i]));
		assert_memory_equal(raw, argv[i], rlen);
		free(raw);
	}
}

/* Runs argv[0] with argv in a child, waits for it, and returns its pid; *status gets its wait status. */
static pid_t
run_argv(char *const argv[], int *status)
{
	int st;
	pid_t pid = fork();
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	if (status)
		*status = st;
	return pid;
}

/* fork, exec with exact args, and exit with code 3. */
static void
test_fork_exec_exit(void **state)
{
	char tag[64];
	(void)state;
	snprintf(tag, sizeof(tag), "hids-live-%s", nonce);
	/* Exits at once; under valgrind it lives a little, as the agent reads slowly. */
	char *argv[] = { "/bin/sh", "-c", slow ? "sleep 0.5; exit 3" : "exit 3", tag, NULL };
	int status;
	pid_t pid = run_argv(argv, &status);
	assert_int_equal(WEXITSTATUS(status), 3);

	json_object *f = wait_event("fork", pid);
	assert_non_null(f);
	assert_int_equal(jint(f, "process.parent.pid"), getpid());
	assert_string_equal(jstr(f, "event.type.0") ? jstr(f, "event.type.0") : "start", "start");
	assert_non_null(jstr(f, "process.entity_id"));

	json_object *e = wait_event("exec", pid);
	assert_non_null(e);
	assert_args(e, argv);
	assert_string_equal(jstr(e, "process.executable"), "/usr/bin/dash");
	assert_int_equal(jint(e, "process.parent.pid"), getpid());
	assert_non_null(jstr(e, "host.hostname"));
	assert_string_equal(jstr(e, "process.entity_id"), jstr(f, "process.entity_id"));

	json_object *x = wait_event("end", pid);
	assert_non_null(x);
	assert_int_equal(jint(x, "process.exit_code"), 3);
	assert_string_equal(jstr(x, "process.executable"), "/usr/bin/dash");
	assert_string_equal(jstr(x, "process.entity_id"), jstr(f, "process.entity_id"));
	assert_true(jint(x, "event.duration") > 0);
}

/* Runs fn in a child that then exits; returns the child's pid. */
static pid_t
run_child(void (*fn)(void))
{
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	return pid;
}

static void
child_setgid_setuid(void)
{
	if (setgid(65534) != 0 || setuid(65534) != 0)
		_exit(1);
}

/* setgid and setuid each produce their event with the new ids. */
static void
test_uid_gid(void **state)
{
	(void)state;
	pid_t pid = run_child(child_setgid_setuid);
	json_object *g = wait_event("gid_change", pid);
	assert_non_null(g);
	assert_int_equal(jint(g, "hids.gid.effective"), 65534);
	assert_string_equal(jstr(g, "process.group.id"), "65534");
	json_object *u = wait_event("uid_change", pid);
	assert_non_null(u);
	assert_int_equal(jint(u, "hids.uid.effective"), 65534);
	assert_int_equal(jint(u, "hids.uid.real"), 65534);
	assert_string_equal(jstr(u, "process.user.id"), "65534");
	assert_string_equal(jstr(u, "event.type.0") ? jstr(u, "event.type.0") : "change", "change");
}

static void
child_setsid(void)
{
	if (setsid() == -1)
		_exit(1);
}

/* setsid produces a sid event naming the new session leader. */
static void
test_sid(void **state)
{
	(void)state;
	pid_t pid = run_child(child_setsid);
	json_object *s = wait_event("session_id_change", pid);
	assert_non_null(s);
	assert_int_equal(jint(s, "process.session_leader.pid"), pid);
}

static char comm_name[16];

static void
child_comm(void)
{
	prctl(PR_SET_NAME, comm_name, 0, 0, 0);
}

/* prctl(PR_SET_NAME) produces a comm event with the new name. */
static void
test_comm(void **state)
{
	(void)state;
	snprintf(comm_name, sizeof(comm_name), "hc%.10s", nonce);
	pid_t pid = run_child(child_comm);
	json_object *c = wait_event("comm", pid);
	assert_non_null(c);
	assert_string_equal(jstr(c, "process.name"), comm_name);
}

/* ptrace attach produces a ptrace event naming the tracer. */
static void
test_ptrace(void **state)
{
	(void)state;
	pid_t pid = fork();
	if (pid == 0) {
		for (;;)
			pause();
	}
	assert_int_equal(ptrace(PTRACE_SEIZE, pid, NULL, NULL), 0);
	json_object *p = wait_event("ptrace", pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_non_null(p);
	assert_int_equal(jint(p, "hids.tracer.pid"), getpid());
	assert_string_equal(jstr(p, "hids.ptrace.op"), "attach");
	assert_string_equal(jstr(p, "event.type.0") ? jstr(p, "event.type.0") : "access", "access");
}

static void
child_abort(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);	/* the event fires; no core file is written */
	signal(SIGABRT, SIG_DFL);
	abort();
}

/* A core-dumping signal produces a coredump event and a signalled exit. */
static void
test_coredump(void **state)
{
	(void)state;
	pid_t pid = run_child(child_abort);
	json_object *c = wait_event("coredump", pid);
	assert_non_null(c);
	json_object *x = wait_event("end", pid);
	assert_non_null(x);
	assert_string_equal(jstr(x, "hids.signal.name"), "SIGABRT");
	assert_int_equal(jint(x, "hids.signal.number"), SIGABRT);
	assert_null(jget(x, "process.exit_code"));
}

/* Hostile argv bytes come back exactly, through the documented escaping. */
static void
test_hostile_args(void **state)
{
	(void)state;
	char *fast[] = { "/bin/true", "new\nline", "quote\"and\\back", "\x01\x1f\x7f",
		"bad\xff\xfeutf8", "caf\xc3\xa9", "back\\x41slash", nonce, NULL };
	/* Under valgrind the process lingers: sh -c takes the same bytes as $0.. */
	char *lingering[] = { "/bin/sh", "-c", "sleep 0.5", "new\nline", "quote\"and\\back",
		"\x01\x1f\x7f", "bad\xff\xfeutf8", "caf\xc3\xa9", "back\\x41slash", nonce, NULL };
	char **argv = slow ? lingering : fast;
	pid_t pid = run_argv(argv, NULL);
	json_object *e = wait_event("exec", pid);
	assert_non_null(e);
	assert_args(e, argv);
}

/* An argument longer than max_args_bytes is cut and marked; args_count stays true. */
static void
test_long_args(void **state)
{
	(void)state;
	size_t big = 100 * 1024;	/* under MAX_ARG_STRLEN (128 KiB), over the 64 KiB default cap */
	char *huge = malloc(big + 1);
	memset(huge, 'A', big);
	huge[big] = '\0';
	char *fast[] = { "/bin/true", "first", huge, "last", NULL };
	char *lingering[] = { "/bin/sh", "-c", "sleep 0.5", huge, NULL };
	char **argv = slow ? lingering : fast;
	pid_t pid = run_argv(argv, NULL);
	free(huge);
	json_object *e = wait_event("exec", pid);
	assert_non_null(e);
	assert_int_equal(jint(e, "process.args_count"), 4);
	assert_true(json_object_get_boolean(jget(e, "hids.args_truncated")));
}

/* Reads a JSON string field back to raw bytes, undoing hids.escaped; returns a new buffer. */
static char *
raw_field(json_object *ev, const char *path, const char *field, size_t *len)
{
	json_object *v = jget(ev, path), *esc = jget(ev, "hids.escaped");
	const char *s;
	size_t slen;
	bool escaped = false;
	char *out;

	if (v == NULL)
		return NULL;
	s = json_object_get_string(v);
	slen = (size_t)json_object_get_string_len(v);
	for (size_t i = 0; esc && i < json_object_array_length(esc); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(esc, i)), field) == 0)
			escaped = true;
	out = malloc(slen + 1);
	*len = slen;
	if (escaped)
		assert_int_equal(bytes_unescape(s, slen, out, len), 0);
	else
		memcpy(out, s, slen);
	return out;
}

/*
 * A binary whose path holds a newline, quotes, control bytes and invalid
 * UTF-8, run from a directory named the same way, then deleted while it
 * runs: executable and working directory come back byte for byte.
 */
static void
test_hostile_paths(void **state)
{
	char dir[256], bin[512], cmd[1200];
	(void)state;
	snprintf(dir, sizeof(dir), "%s/dir \"q\"\n\x01\xff\\x41", dir_path);
	snprintf(bin, sizeof(bin), "%s/bin\t\xfe\xc3(\"x\")", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(cmd, sizeof(cmd), "cp /bin/sleep '%s'", bin);
	assert_int_equal(system(cmd), 0);
	char *argv[] = { bin, slow ? "1.5" : "0.5", NULL };
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(dir) != 0)
			_exit(1);
		execv(argv[0], argv);
		_exit(127);
	}
	json_object *e = wait_event("exec", pid);
	unlink(bin);	/* deleted after start */
	waitpid(pid, NULL, 0);
	rmdir(dir);
	assert_non_null(e);
	size_t len;
	char *exe = raw_field(e, "process.executable", "process.executable", &len);
	assert_non_null(exe);
	assert_int_equal(len, strlen(bin));
	assert_memory_equal(exe, bin, len);
	free(exe);
	char *cwd = raw_field(e, "process.working_directory", "process.working_directory", &len);
	assert_non_null(cwd);
	assert_int_equal(len, strlen(dir));
	assert_memory_equal(cwd, dir, len);
	free(cwd);
	assert_args(e, argv);
	json_object *x = wait_event("end", pid);
	assert_non_null(x);	/* the exit still knows the deleted binary's path */
	exe = raw_field(x, "process.executable", "process.executable", &len);
	assert_non_null(exe);
	assert_memory_equal(exe, bin, strlen(bin));
	free(exe);
}

#define DEEP_COMPONENT 250	/* bytes per directory name of the deep path */
#define DEEP_LEVELS 20		/* 20 x 251 bytes: a path of over 5000 bytes, past PATH_MAX */

/* Copies the file at from to a new file to (relative to the cwd); 0 or -1. */
static int
copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	int rc = in == -1 || out == -1 ? -1 : 0;

	while (rc == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (in != -1)
		close(in);
	if (out != -1 && close(out) == -1)
		rc = -1;
	return rc;
}

/*
 * A binary run from, and living in, a directory whose path is over 5000
 * bytes (built with relative mkdir and chdir): readlink of exe and cwd
 * fails, and the events say why (hids.exe_error, hids.cwd_error) and keep
 * the executable's device and inode.
 */
static void
test_path_beyond_path_max(void **state)
{
	char comp[DEEP_COMPONENT + 1], cmd[512];
	int fds[2];
	struct stat st;
	(void)state;
	memset(comp, 'd', DEEP_COMPONENT);
	comp[DEEP_COMPONENT] = '\0';
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (chdir(dir_path) != 0)
			_exit(1);
		for (int i = 0; i < DEEP_LEVELS; i++)
			if (mkdir(comp, 0755) != 0 || chdir(comp) != 0)
				_exit(1);
		if (copy_file("/bin/sleep", "sleep") != 0 || stat("sleep", &st) != 0)
			_exit(1);
		if (write(fds[1], &st, sizeof(st)) != (ssize_t)sizeof(st))
			_exit(1);
		close(fds[1]);
		execl("./sleep", "./sleep", slow ? "1.5" : "0.5", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &st, sizeof(st)), (ssize_t)sizeof(st));
	close(fds[0]);
	json_object *e = wait_event("exec", pid);
	int status;
	waitpid(pid, &status, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%s'", dir_path, comp);
	assert_int_equal(system(cmd), 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(e);
	assert_null(jget(e, "process.executable"));
	assert_null(jget(e, "process.working_directory"));
	assert_non_null(jstr(e, "hids.exe_error"));
	assert_string_equal(jstr(e, "hids.exe_error"), "ENAMETOOLONG");
	assert_non_null(jstr(e, "hids.cwd_error"));
	assert_string_equal(jstr(e, "hids.cwd_error"), "ENAMETOOLONG");
	char want[48];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)st.st_ino);
	assert_non_null(jstr(e, "hids.exe.inode"));
	assert_string_equal(jstr(e, "hids.exe.inode"), want);
	snprintf(want, sizeof(want), "%u:%u", major(st.st_dev), minor(st.st_dev));
	assert_string_equal(jstr(e, "hids.exe.device"), want);
	/* The exit knows the same from the process table. */
	json_object *x = wait_event("end", pid);
	assert_non_null(x);
	assert_string_equal(jstr(x, "hids.exe_error"), "ENAMETOOLONG");
	assert_string_equal(jstr(x, "hids.exe.inode"), jstr(e, "hids.exe.inode"));
}

/* Returns the mount point of the cgroup v2 hierarchy, or NULL when there is none. */
static const char *
cgroup2_root(void)
{
	if (access("/sys/fs/cgroup/cgroup.procs", F_OK) == 0 &&
	    access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		return "/sys/fs/cgroup";
	if (access("/sys/fs/cgroup/unified/cgroup.procs", F_OK) == 0)
		return "/sys/fs/cgroup/unified";
	return NULL;
}

/*
 * Runs /bin/true in the v2 cgroup rel (made for it, every level; removed
 * after) and returns its exec event; NULL if none arrived.
 */
static json_object *
exec_in_cgroup(const char *root, const char *rel)
{
	char path[1024], pid_s[16], go = 'g';
	int fds[2];
	const char *p = rel;

	while ((p = strchr(p + 1, '/')) != NULL) {
		snprintf(path, sizeof(path), "%s%.*s", root, (int)(p - rel), rel);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(1);
		execl("/bin/true", "/bin/true", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
	assert_true(fputs(pid_s, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(write(fds[1], &go, 1), 1);
	close(fds[1]);
	json_object *e = wait_event("exec", pid);
	waitpid(pid, NULL, 0);
	/* Remove the cgroups bottom up; the parents only where they are empty. */
	snprintf(path, sizeof(path), "%s%s", root, rel);
	while (strlen(path) > strlen(root) && rmdir(path) == 0)
		*strrchr(path, '/') = '\0';
	return e;
}

/*
 * A runtime's cgroup name counts only under that runtime's parent: a
 * docker-ID.scope under user.slice (what systemd-run --user --scope
 * --unit=docker-ID makes, no privilege needed) is no container, one under
 * system.slice is; both events carry the raw cgroup path.
 */
static void
test_container_id_not_forgeable(void **state)
{
	static const char id[] = "5f0c3b1e9d7a2c4e6f8a0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e";
	const char *root = cgroup2_root();
	char rel[256];
	(void)state;
	if (root == NULL) {
		print_message("no cgroup v2 hierarchy here: skipped\n");
		skip();
	}
	snprintf(rel, sizeof(rel), "/user.slice/user-4242.slice/user@4242.service/app.slice/"
	    "docker-%s.scope", id);
	json_object *e = exec_in_cgroup(root, rel);
	assert_non_null(e);
	assert_null(jget(e, "container.id"));
	assert_non_null(jstr(e, "hids.cgroup"));
	assert_string_equal(jstr(e, "hids.cgroup"), rel);

	snprintf(rel, sizeof(rel), "/system.slice/docker-%s.scope", id);
	e = exec_in_cgroup(root, rel);
	assert_non_null(e);
	assert_non_null(jstr(e, "container.id"));
	assert_string_equal(jstr(e, "container.id"), id);
	assert_string_equal(jstr(e, "hids.cgroup"), rel);
}

/* Thousands of arguments come back exactly, with a true count. */
static void
test_thousands_of_args(void **state)
{
	enum { NARGS = 5000 };
	static char *argv[NARGS + 5];
	static char storage[NARGS][8];
	int a = 0;
	(void)state;
	if (slow) {
		argv[a++] = "/bin/sh";
		argv[a++] = "-c";
		argv[a++] = "sleep 0.5";
	} else {
		argv[a++] = "/bin/true";
	}
	for (int i = 0; i < NARGS; i++) {
		snprintf(storage[i], sizeof(storage[i]), "a%d", i);
		argv[a++] = storage[i];
	}
	argv[a] = NULL;
	pid_t pid = run_argv(argv, NULL);
	json_object *e = wait_event("exec", pid);
	assert_non_null(e);
	assert_args(e, argv);
}

/* A single argument of the largest size the kernel takes (128 KiB) is cut and marked, count true. */
static void
test_max_single_arg(void **state)
{
	size_t big = 128 * 1024 - 1;	/* MAX_ARG_STRLEN includes the NUL */
	char *huge = malloc(big + 1);
	(void)state;
	memset(huge, 'B', big);
	huge[big] = '\0';
	char *fast[] = { "/bin/true", huge, "tail", NULL };
	char *lingering[] = { "/bin/sh", "-c", "sleep 0.5", huge, NULL };
	int status;
	pid_t pid = run_argv(slow ? lingering : fast, &status);
	free(huge);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 127);
	json_object *e = wait_event("exec", pid);
	assert_non_null(e);
	assert_int_equal(jint(e, "process.args_count"), slow ? 4 : 3);
	assert_true(json_object_get_boolean(jget(e, "hids.args_truncated")));
	/* What was kept is a true prefix: the first argument, then B's. */
	json_object *args = jget(e, "process.args");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(args, 0)),
	    slow ? "/bin/sh" : "/bin/true");
}

/* Makes the next fork get pid want (root: /proc/sys/kernel/ns_last_pid); false if it cannot. */
static bool
set_next_pid(pid_t want)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	if (f == NULL)
		return false;
	fprintf(f, "%d", (int)want - 1);
	return fclose(f) == 0;
}

/*
 * The same pid used again and again, many times within one clock tick:
 * every process keeps its own entity id, and exec and exit of each carry
 * that process's own args and id, never its predecessor's.
 */
static void
test_pid_reuse(void **state)
{
	enum { ROUNDS = 40 };
	char tags[ROUNDS][64];
	pid_t target = 0;
	int done = 0;
	(void)state;
	/* A pid well past the current ones, so it is free. */
	pid_t probe = fork();
	if (probe == 0)
		_exit(0);
	waitpid(probe, NULL, 0);
	long pid_max = 32768;
	FILE *pm = fopen("/proc/sys/kernel/pid_max", "r");
	if (pm) {
		if (fscanf(pm, "%ld", &pid_max) != 1)
			pid_max = 32768;
		fclose(pm);
	}
	/* Ahead of the pids in use, wrapping below pid_max as the kernel does. */
	target = probe + 5000 < pid_max - 10 ? probe + 5000 : 1000 + probe % 5000;
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(tags[i], sizeof(tags[i]), "hids-reuse-%s-%d", nonce, i);
		if (!set_next_pid(target))
			skip();
		pid_t pid = fork();
		if (pid == 0) {
			if (getpid() != target)
				_exit(9);
			/*
			 * The process lingers: what is tested is the reused pid's
			 * entity ids, not how fast its argv is read (under ASan 2 of
			 * 40 /bin/true came proc_gone once); longer under valgrind.
			 */
			execl("/bin/sh", "sh", "-c", slow ? "sleep 0.3" : "sleep 0.05", tags[i],
			    (char *)NULL);
			_exit(127);
		}
		int status;
		waitpid(pid, &status, 0);
		if (pid != target) {
			i--;	/* someone else took it: try again */
			if (++done > ROUNDS * 4)
				fail_msg("pid %d kept being taken", (int)target);
			continue;
		}
	}
	/* Every exec of the reused pid: its own args, a fresh entity id, matched by its exit. */
	char ids[ROUNDS][32];
	int found = 0;
	uint64_t deadline = ms_now() + (slow ? WAIT_MS_SLOW : WAIT_MS);
	while (found < ROUNDS && ms_now() < deadline) {
		slurp();
		found = 0;
		for (size_t l = 0; l < nlines; l++) {
			const char *a = jstr(lines[l], "event.action");
			json_object *args = jget(lines[l], "process.args");
			if (!a || strcmp(a, "exec") || jint(lines[l], "process.pid") != target || !args ||
			    json_object_array_length(args) < 2)
				continue;
			const char *tag = json_object_get_string(json_object_array_get_idx(args,
			    json_object_array_length(args) - 1));
			for (int i = 0; i < ROUNDS; i++)
				if (strcmp(tag, tags[i]) == 0) {
					snprintf(ids[i], sizeof(ids[i]), "%s", jstr(lines[l], "process.entity_id"));
					found++;
				}
		}
		if (found < ROUNDS)
			usleep(50000);
	}
	assert_int_equal(found, ROUNDS);
	for (int i = 0; i < ROUNDS; i++)
		for (int j = i + 1; j < ROUNDS; j++)
			if (strcmp(ids[i], ids[j]) == 0)
				fail_msg("processes %d and %d (same pid %d) share entity id %s", i, j,
				    (int)target, ids[i]);
	/* Each exit of the pid names one of those ids with that process's args (the last exit
	 * may still be on its way when the last exec is seen). */
	int exits = 0;
	while (ms_now() < deadline) {
		slurp();
		exits = 0;
		for (size_t l = 0; l < nlines; l++) {
			const char *a = jstr(lines[l], "event.action");
			json_object *args = jget(lines[l], "process.args");
			if (!a || strcmp(a, "end") || jint(lines[l], "process.pid") != target ||
			    !args || json_object_array_length(args) < 2)
				continue;
			const char *tag = json_object_get_string(json_object_array_get_idx(args,
			    json_object_array_length(args) - 1));
			for (int i = 0; i < ROUNDS; i++)
				if (tag && strcmp(tag, tags[i]) == 0) {
					assert_string_equal(jstr(lines[l], "process.entity_id"), ids[i]);
					exits++;
				}
		}
		if (exits >= ROUNDS)
			break;
		usleep(50000);
	}
	assert_int_equal(exits, ROUNDS);
}

/* A fork storm leaves the agent's memory small (peak RSS from /proc). */
static void
test_storm_memory_bounded(void **state)
{
	char path[64], line[256];
	long hwm = -1;
	(void)state;
	for (int i = 0; i < (slow ? 300 : 3000); i++) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
	}
	usleep(500000);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)agent_pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "VmHWM: %ld", &hwm);
	fclose(f);
	print_message("agent peak RSS after the storm: %ld kB\n", hwm);
	assert_true(hwm > 0);
	/* valgrind's own memory is not the agent's; sanitizers scale it (HIDS_RSS_FACTOR). */
	const char *factor = getenv("HIDS_RSS_FACTOR");
	if (!slow)
		assert_true(hwm < 32 * 1024 * (factor ? atol(factor) : 1));
}

static void *
thread_fn(void *arg)
{
	return arg;
}

/* A new thread is not reported as a process by default. */
static void
test_threads_skipped(void **state)
{
	(void)state;
	pthread_t t;
	pid_t child = fork();
	if (child == 0) {
		pthread_create(&t, NULL, thread_fn, NULL);
		pthread_join(t, NULL);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	assert_non_null(wait_event("end", child));
	/* Every fork about the child is the process fork, never its thread. */
	int forks = 0;
	for (size_t i = 0; i < nlines; i++) {
		const char *a = jstr(lines[i], "event.action");
		if (a && strcmp(a, "fork") == 0 && jint(lines[i], "process.pid") == child)
			forks++;
		assert_true(jget(lines[i], "process.thread.id") == NULL);
	}
	assert_int_equal(forks, 1);
}

/* After start-up the agent keeps only the capabilities it documents, and cannot regain others. */
static void
test_privileges_dropped(void **state)
{
	char path[64], line[256];
	unsigned long long eff = ~0ull, bnd = ~0ull;
	int nnp = -1;
	const unsigned long long want = (1ull << 2) | (1ull << 12) | (1ull << 19) | (1ull << 23);
	(void)state;	/* DAC_READ_SEARCH, NET_ADMIN, SYS_PTRACE, SYS_NICE */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)agent_pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "CapEff: %llx", &eff);
		sscanf(line, "CapBnd: %llx", &bnd);
		sscanf(line, "NoNewPrivs: %d", &nnp);
	}
	fclose(f);
	assert_int_equal(eff, want);
	assert_int_equal(bnd, want);
	assert_int_equal(nnp, 1);
}

/* With reduced capabilities, exe and cwd of another user's process are still read. */
static void
test_other_user_exec(void **state)
{
	(void)state;
	char *argv[] = { "/bin/sleep", "0.05", NULL };
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir("/tmp") != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(1);
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	json_object *e = wait_event("exec", pid);
	assert_non_null(e);
	assert_args(e, argv);
	assert_string_equal(jstr(e, "process.executable"), "/usr/bin/sleep");
	assert_string_equal(jstr(e, "process.working_directory"), "/tmp");
	assert_string_equal(jstr(e, "process.user.id"), "65534");
}

/* Every line written so far validates against proto/event.schema.json, and every action appeared. */
static void
test_output_matches_schema(void **state)
{
	char cmd[1024];
	(void)state;
	fflush(NULL);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s --require-actions "
	    "fork,exec,end,uid_change,gid_change,session_id_change,ptrace,comm,coredump,heartbeat %s %s",
	    schema_check, schema_path, out_path);
	assert_int_equal(system(cmd), 0);
}

/* SIGTERM flushes and exits 0 (under valgrind: no invalid access, no definite leak), last line a stop heartbeat. */
static void
test_stop_clean(void **state)
{
	int status = -1;
	(void)state;
	assert_true(agent_pid > 0);
	kill(agent_pid, SIGTERM);
	assert_int_equal(waitpid(agent_pid, &status, 0), agent_pid);
	agent_pid = -1;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	slurp();
	assert_true(nlines > 0);
	assert_string_equal(jstr(lines[nlines - 1], "event.action"), "heartbeat");
	assert_string_equal(jstr(lines[nlines - 1], "hids.reason"), "stop");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_exec_exit),
		cmocka_unit_test(test_uid_gid),
		cmocka_unit_test(test_sid),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_ptrace),
		cmocka_unit_test(test_coredump),
		cmocka_unit_test(test_hostile_args),
		cmocka_unit_test(test_long_args),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_path_beyond_path_max),
		cmocka_unit_test(test_container_id_not_forgeable),
		cmocka_unit_test(test_thousands_of_args),
		cmocka_unit_test(test_max_single_arg),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_storm_memory_bounded),
		cmocka_unit_test(test_threads_skipped),
		cmocka_unit_test(test_privileges_dropped),
		cmocka_unit_test(test_other_user_exec),
		cmocka_unit_test(test_output_matches_schema),
		cmocka_unit_test(test_stop_clean),
	};
	if (argc < 4) {
		fprintf(stderr, "usage: test_live AGENT_BINARY SCHEMA SCHEMA_CHECK\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "test_live needs root and the kernel connector\n");
		return 1;
	}
	agent_bin = argv[1];
	slow = getenv("HIDS_LIVE_SLOW") != NULL;
	schema_path = argv[2];
	schema_check = argv[3];
	return cmocka_run_group_tests_name("live", tests, start_agent, stop_agent);
}
