/* Proves that the /proc parsers read stat, status and cgroup files exactly (odd comms, every container runtime, no false containers) and that cmdline reading keeps raw argv bytes and the true argument count. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "unit.h"

#define CHILD_FLAG "--cmdline-child"
#define CHILD_READY_FD 3
#define LONG_ARG 10000

/* Formats a stat line the way the kernel does, 52 fields. */
static size_t
make_stat(char *buf, size_t size, const char *comm, long ppid, long pgid,
    long sid, long tty, unsigned long long start)
{
	int n = snprintf(buf, size,
	    "4242 (%s) S %ld %ld %ld %ld -1 4194560 1234 0 5 0 17 9 0 0 20 0 1 0 "
	    "%llu 23322624 1156 18446744073709551615 94800000000000 94800000100000 "
	    "140720000000000 0 0 0 65536 3670020 1 0 0 17 3 0 0 0 0 0 "
	    "94800000200000 94800000210000 94800001000000 140720000001000 "
	    "140720000001100 140720000001100 140720000004000 0\n",
	    comm, ppid, pgid, sid, tty, start);
	assert_true(n > 0 && (size_t)n < size);
	return (size_t)n;
}

static void
test_stat_plain(void **state)
{
	char buf[1024];
	struct process p;
	size_t n = make_stat(buf, sizeof(buf), "bash", 1000, 4242, 4100, 34816, 98765);

	process_init(&p);
	assert_int_equal(procfs_parse_stat(buf, n, &p), 0);
	assert_string_equal(p.name, "bash");
	assert_int_equal(p.ppid, 1000);
	assert_int_equal(p.pgid, 4242);
	assert_int_equal(p.sid, 4100);
	assert_int_equal(p.tty_nr, 34816);
	assert_true(p.start_ticks == 98765);
	assert_int_equal(p.known & (PF_STAT | PF_NAME | PF_PPID | PF_START),
	    PF_STAT | PF_NAME | PF_PPID | PF_START);
	assert_int_equal(p.known & (PF_ARGS | PF_IDS), 0);
}

static void
test_stat_odd_comms(void **state)
{
	static const char *comms[] = {
		"my prog", "a) b", "x) (y) z", ")", "(", "((", "))", "a\nb",
		"", "0123456789abcde", ") S 1 2 3 4", "x) R 9 9 9 9 9", " ",
	};
	for (size_t i = 0; i < UNIT_COUNT(comms); i++) {
		char buf[1024];
		struct process p;
		size_t n = make_stat(buf, sizeof(buf), comms[i], 77, 78, 79, 0,
		    1234567890123ull);
		process_init(&p);
		if (procfs_parse_stat(buf, n, &p) != 0)
			fail_msg("comm \"%s\" refused", comms[i]);
		assert_string_equal(p.name, comms[i]);
		assert_int_equal(p.ppid, 77);
		assert_int_equal(p.pgid, 78);
		assert_int_equal(p.sid, 79);
		assert_int_equal(p.tty_nr, 0);
		assert_true(p.start_ticks == 1234567890123ull);
	}
}

static void
test_stat_minimal_fields(void **state)
{
	/* Exactly up to starttime (field 22), no newline. */
	const char *s = "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 42";
	struct process p;

	process_init(&p);
	assert_int_equal(procfs_parse_stat(s, strlen(s), &p), 0);
	assert_int_equal(p.ppid, 0);
	assert_true(p.start_ticks == 42);
	assert_string_equal(p.name, "init");
}

static void
test_stat_rejects(void **state)
{
	static const char *bad[] = {
		"",
		"4242",
		"4242 (bash",
		"4242 bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		") 4242 (bash S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		"4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18",	/* field 21 */
		"4242 (bash) S x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		"4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 1x",
		"4242 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -",
		"4242 (bash) S 1 2 3 1234567890123456789012345 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		"4242 (bash) S 1 2 3 99999999999999999999 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		"4242 (bash) S\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19",
		"4242 (bash)",
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		struct process p;
		process_init(&p);
		if (procfs_parse_stat(bad[i], strlen(bad[i]), &p) != -1)
			fail_msg("stat %zu accepted: %s", i, bad[i]);
		assert_int_equal(p.known, 0);
		assert_int_equal(p.ppid, -1);
	}
	/* len bounds the parse: the same line cut before starttime is refused. */
	char buf[1024];
	struct process p;
	size_t n = make_stat(buf, sizeof(buf), "bash", 1, 2, 3, 4, 987654);
	char *start = strstr(buf, " 987654 ");
	assert_non_null(start);
	process_init(&p);
	assert_int_equal(procfs_parse_stat(buf, (size_t)(start - buf), &p), -1);
	assert_int_equal(procfs_parse_stat(buf, n, &p), 0);
	assert_true(p.start_ticks == 987654);
}

static void
test_stat_self(void **state)
{
	char buf[4096];
	struct process p;
	int procfd = procfs_open_root();
	int n;

	assert_true(procfd >= 0);
	n = procfs_read_file(procfd, getpid(), "stat", buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(buf[n], '\0');
	process_init(&p);
	assert_int_equal(procfs_parse_stat(buf, (size_t)n, &p), 0);
	assert_int_equal(p.ppid, getppid());
	assert_int_equal(p.pgid, getpgrp());
	assert_int_equal(p.sid, getsid(0));
	assert_true(p.start_ticks > 0);
	assert_true(strlen(p.name) > 0 && strlen(p.name) <= 15);
	/* A small buffer is cut and terminated; a missing file is -1. */
	assert_int_equal(procfs_read_file(procfd, getpid(), "stat", buf, 8), 7);
	assert_int_equal(strlen(buf), 7);
	assert_int_equal(procfs_read_file(procfd, 0, "stat", buf, sizeof(buf)), -1);
	assert_int_equal(procfs_read_file(procfd, getpid(), "no-such-file", buf,
	    sizeof(buf)), -1);
	close(procfd);
}

static const char status_text[] =
    "Name:\tbash\n"
    "Umask:\t0022\n"
    "State:\tS (sleeping)\n"
    "Tgid:\t4242\n"
    "Pid:\t4242\n"
    "PPid:\t1\n"
    "Uid:\t1000\t1001\t1002\t1003\n"
    "Gid:\t100\t101\t102\t4294967295\n"
    "Groups:\t27 100 \n"
    "NStgid:\t4242\t17\t7\n"
    "NSpid:\t4242\t17\t7\n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t000001ffffffffff\n"
    "CapEff:\t000001fffffffffe\n"
    "CapBnd:\t000001ffffffffff\n";

static void
test_status_fields(void **state)
{
	struct process p;

	process_init(&p);
	assert_int_equal(procfs_parse_status(status_text, sizeof(status_text) - 1, &p), 0);
	assert_int_equal(p.ids.ruid, 1000);
	assert_int_equal(p.ids.euid, 1001);
	assert_int_equal(p.ids.suid, 1002);
	assert_int_equal(p.ids.fsuid, 1003);
	assert_int_equal(p.ids.rgid, 100);
	assert_int_equal(p.ids.egid, 101);
	assert_int_equal(p.ids.sgid, 102);
	assert_true(p.ids.fsgid == 4294967295u);
	assert_int_equal(p.ns_pid, 7);		/* the innermost namespace */
	assert_true(p.cap_eff == 0x000001fffffffffeull);	/* CapEff, not CapPrm */
	assert_true(p.cap_prm == 0x000001ffffffffffull);
	assert_int_equal(p.known & (PF_IDS | PF_NSPID | PF_CAPS), PF_IDS | PF_NSPID | PF_CAPS);
}

/* container.runtime comes from the name the runtime gave the cgroup, or its parent. */
static void
test_cgroup_runtime(void **state)
{
	static const char id[] =
	    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	static const struct {
		const char *before, *after;
		uint8_t runtime;
	} t[] = {
		{ "0::/libpod_parent/libpod-", "\n", RUNTIME_PODMAN },
		{ "0::/machine.slice/libpod-", ".scope/container\n", RUNTIME_PODMAN },
		{ "0::/system.slice/docker-", ".scope\n", RUNTIME_DOCKER },
		{ "12:pids:/docker/", "\n", RUNTIME_DOCKER },
		{ "0::/system.slice/crio-", ".scope\n", RUNTIME_CRIO },
		{ "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/"
		  "cri-containerd-", ".scope\n", RUNTIME_CONTAINERD },
		{ "0::/system.slice/containerd.service/", "\n", RUNTIME_CONTAINERD },
		{ "0::/kubepods/besteffort/pod1/", "\n", RUNTIME_NONE },	/* a bare id says nothing */
	};
	char line[512], out[65];
	const char *cg;
	size_t cglen;
	(void)state;

	for (size_t i = 0; i < UNIT_COUNT(t); i++) {
		int n = snprintf(line, sizeof(line), "%s%s%s", t[i].before, id, t[i].after);
		if (procfs_parse_cgroup(line, (size_t)n, out, &cg, &cglen) != 0)
			fail_msg("no container id in %s", line);
		assert_string_equal(out, id);
		assert_int_equal(procfs_cgroup_runtime(cg, cglen, out), t[i].runtime);
	}
	assert_int_equal(procfs_cgroup_runtime(NULL, 0, id), RUNTIME_NONE);
	assert_int_equal(procfs_cgroup_runtime("/docker/x", 9, "x"), RUNTIME_NONE);
	assert_int_equal(procfs_cgroup_runtime("/user.slice/a", 13, id), RUNTIME_NONE);
}

static void
test_status_variants(void **state)
{
	struct process p;
	const char *s;

	/* Spaces instead of tabs, one namespace, no trailing newline. */
	s = "Uid: 0 0 0 0\nGid:  5 6 7 8\nNSpid: 99\nCapEff: 0000003fffffffff";
	process_init(&p);
	assert_int_equal(procfs_parse_status(s, strlen(s), &p), 0);
	assert_int_equal(p.ids.euid, 0);
	assert_int_equal(p.ids.fsgid, 8);
	assert_int_equal(p.ns_pid, 99);
	assert_true(p.cap_eff == 0x3fffffffffull);

	/* Without NSpid and CapEff (old kernels): ids only. */
	s = "Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n";
	process_init(&p);
	assert_int_equal(procfs_parse_status(s, strlen(s), &p), 0);
	assert_int_equal(p.known & (PF_NSPID | PF_CAPS), 0);
	assert_int_equal(p.ns_pid, -1);
}

static void
test_status_rejects(void **state)
{
	static const char *bad[] = {
		"",
		"Name:\tbash\n",
		"Uid:\t1\t2\t3\t4\n",				/* no Gid */
		"Gid:\t1\t2\t3\t4\n",				/* no Uid */
		"Uid:\t1\t2\t3\nGid:\t1\t2\t3\t4\n",		/* three uids */
		"Uid:\t1\t2\t3\t4294967296\nGid:\t1\t2\t3\t4\n",	/* overflow */
		"Uid:\tx\t2\t3\t4\nGid:\t1\t2\t3\t4\n",
		"Uid:\nGid:\t1\t2\t3\t4\n",
		"uid:\t1\t2\t3\t4\nGid:\t1\t2\t3\t4\n",
	};
	for (size_t i = 0; i < UNIT_COUNT(bad); i++) {
		struct process p;
		process_init(&p);
		if (procfs_parse_status(bad[i], strlen(bad[i]), &p) != -1)
			fail_msg("status %zu accepted", i);
		assert_int_equal(p.known & PF_IDS, 0);
	}

	/* A bad CapEff or NSpid is skipped, not guessed. */
	const char *s = "Uid:\t1\t2\t3\t4\nGid:\t1\t2\t3\t4\nCapEff:\tzz\nNSpid:\tx\n";
	struct process p;
	process_init(&p);
	assert_int_equal(procfs_parse_status(s, strlen(s), &p), 0);
	assert_int_equal(p.known & (PF_CAPS | PF_NSPID), 0);
	s = "Uid:\t1\t2\t3\t4\nGid:\t1\t2\t3\t4\nNSpid:\t1\t4294967295\n";
	process_init(&p);
	assert_int_equal(procfs_parse_status(s, strlen(s), &p), 0);
	assert_int_equal(p.known & PF_NSPID, 0);	/* not a valid pid */
}

static void
test_status_self(void **state)
{
	char buf[8192];
	struct process p;
	int procfd = procfs_open_root();
	int n = procfs_read_file(procfd, getpid(), "status", buf, sizeof(buf));

	assert_true(n > 0);
	process_init(&p);
	assert_int_equal(procfs_parse_status(buf, (size_t)n, &p), 0);
	assert_int_equal(p.ids.ruid, getuid());
	assert_int_equal(p.ids.euid, geteuid());
	assert_int_equal(p.ids.rgid, getgid());
	assert_int_equal(p.ids.egid, getegid());
	assert_true(p.known & PF_NSPID);
	assert_int_equal(p.ns_pid, getpid());
	close(procfd);
}

/*
 * Every fixture file, the container id it holds (NULL: none) and the
 * cgroup path reported with it (NULL: not checked). A runtime's name
 * counts only under that runtime's own cgroup parent: the not-forged-*
 * files are what an unprivileged user (systemd-run --user --scope
 * --unit=docker-ID), a delegated service or a container's root can create.
 */
static const struct {
	const char *file;
	const char *id;
	const char *path;
} cgroup_cases[] = {
	{ "docker-systemd-v2", "6de102c1cecc011032305908295668eedad74d736c6d216e4c42f416ae84988f",
	    "/system.slice/docker-6de102c1cecc011032305908295668eedad74d736c6d216e4c42f416ae84988f.scope" },
	{ "docker-cgroupfs-v2", "fb081ee28007cf7662db5e3558f574e6698bfcc3250c545dac4ac4700025ddf4", NULL },
	{ "docker-v1", "2a759f8fac4d817ff2bc28c224d51c5030f915c0c14997110517984ca9aa8d0f",
	    "/docker/2a759f8fac4d817ff2bc28c224d51c5030f915c0c14997110517984ca9aa8d0f" },
	/* Docker in docker: the outer container, the one the host's runtime made. */
	{ "docker-nested-v2", "da15599c093481a92ee93fb9e4deee74036b6f5ec2ea7215bb4a3fe33dbb3d52", NULL },
	{ "containerd-kubernetes-v2", "79712fa38c5dfc8a4343ae999676aa331eed5dca567a14858c7ff8f01aa0c720", NULL },
	{ "containerd-plain-v2", "d0ee0b051ce02d6a3031f6b009f46c2b29e92971ca93b7faf936ff57a41b81f8", NULL },
	{ "crio-kubernetes-v2", "9748a7afa2e58f54be38adff33ed1c48257270a0a8c9a6525a0cab1ceddec045", NULL },
	{ "kubepods-cgroupfs-v1", "50378c4d39149d8984ab06809943aa7b5c00d054d7dd911ea1f69130b02f355c", NULL },
	{ "podman-systemd-v2", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "/machine.slice/libpod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope/container" },
	{ "podman-pod-v2", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL },
	{ "podman-cgroupfs-hybrid", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "/libpod_parent/libpod-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
	/* Rootless podman lives where its user can name anything: not claimed. */
	{ "not-podman-rootless-v2", NULL,
	    "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9.scope/container" },
	{ "not-forged-user-scope", NULL,
	    "/user.slice/user-1000.slice/user@1000.service/app.slice/docker-a3c1f9e0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4.scope" },
	{ "not-forged-session-docker", NULL, NULL },
	{ "not-forged-delegated-service", NULL, NULL },
	{ "not-forged-nspawn", NULL, NULL },
	{ "not-forged-hybrid", NULL,
	    "/user.slice/user-1000.slice/user@1000.service/app.slice/docker-a3c1f9e0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4.scope" },
	{ "not-bare-top-level", NULL, "/a3c1f9e0b2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4" },
	{ "not-systemd-user-session", NULL, "/user.slice/user-1000.slice/session-3.scope" },
	{ "not-systemd-user-app", NULL, NULL },
	{ "not-v1-systemd", NULL, "/user.slice/user-1000.slice/session-2.scope" },
	{ "not-init", NULL, "/init.scope" },
	{ "not-root", NULL, "/" },
	{ "not-crio-conmon", NULL, NULL },
	{ "not-libpod-conmon", NULL, NULL },
	{ "not-docker-short-id", NULL, NULL },
	{ "not-docker-long-id", NULL, NULL },
	{ "not-docker-uppercase", NULL, NULL },
};

/* Checks one fixture file against the table; fails on a file not in it. */
static void
check_cgroup_fixture(const char *path, const char *buf, size_t len, void *arg)
{
	const char *base = strrchr(path, '/') + 1;
	char out[65];
	size_t *checked = arg;

	for (size_t i = 0; i < UNIT_COUNT(cgroup_cases); i++) {
		if (strcmp(base, cgroup_cases[i].file) != 0)
			continue;
		memset(out, 'Z', sizeof(out));
		const char *cg = NULL;
		size_t cglen = 0;
		int r = procfs_parse_cgroup(buf, len, out, &cg, &cglen);
		if (cgroup_cases[i].id == NULL) {
			if (r != -1)
				fail_msg("%s: found container %.64s in a non-container", base, out);
		} else {
			if (r != 0)
				fail_msg("%s: no container id found", base);
			assert_string_equal(out, cgroup_cases[i].id);
		}
		assert_true(cglen > 0 && cg[0] == '/');
		if (cgroup_cases[i].path != NULL &&
		    (cglen != strlen(cgroup_cases[i].path) ||
		    memcmp(cg, cgroup_cases[i].path, cglen) != 0))
			fail_msg("%s: cgroup path %.*s, want %s", base, (int)cglen, cg,
			    cgroup_cases[i].path);
		(*checked)++;
		return;
	}
	fail_msg("fixture %s is not listed in cgroup_cases", base);
}

static void
test_cgroup_fixtures(void **state)
{
	size_t checked = 0;
	size_t files = unit_for_each_file(HIDS_UNIT_FIXTURES "/cgroup",
	    check_cgroup_fixture, &checked);

	assert_int_equal(files, UNIT_COUNT(cgroup_cases));
	assert_int_equal(checked, UNIT_COUNT(cgroup_cases));
}

static void
test_cgroup_bounds(void **state)
{
	const char *id = "6de102c1cecc011032305908295668eedad74d736c6d216e4c42f416ae84988f";
	char line[256], out[65];
	int n;

	const char *cg;
	size_t cglen;

	/* len bounds the read: one hex digit short is not an id. */
	n = snprintf(line, sizeof(line), "0::/docker/%s", id);
	assert_int_equal(procfs_parse_cgroup(line, (size_t)n, out, NULL, NULL), 0);
	assert_int_equal(procfs_parse_cgroup(line, (size_t)n - 1, out, &cg, &cglen), -1);
	assert_int_equal(cglen, (size_t)n - 4);	/* the path without its last digit */
	/* The path may itself hold ':'. */
	n = snprintf(line, sizeof(line), "0::/kubepods/weird:name/docker-%s.scope", id);
	assert_int_equal(procfs_parse_cgroup(line, (size_t)n, out, &cg, &cglen), 0);
	assert_string_equal(out, id);
	assert_int_equal(cglen, (size_t)n - 3);
	/* Lines without two colons, or whose path is not absolute, are skipped. */
	n = snprintf(line, sizeof(line), "garbage\n/docker/%s\n2:cpu:docker/%s\n"
	    "1:cpu:/docker/%s\n", id, id, id);
	assert_int_equal(procfs_parse_cgroup(line, (size_t)n, out, &cg, &cglen), 0);
	assert_int_equal(cglen, 8 + 64);
	assert_memory_equal(cg, "/docker/", 8);
	/* The id is the outermost container cgroup: below it, its root names things. */
	n = snprintf(line, sizeof(line), "0::/kubepods/besteffort/pod1/%s/docker-%.63s0.scope",
	    id, id);
	assert_int_equal(procfs_parse_cgroup(line, (size_t)n, out, NULL, NULL), 0);
	assert_string_equal(out, id);
	assert_int_equal(procfs_parse_cgroup("", 0, out, &cg, &cglen), -1);
	assert_int_equal(cglen, 0);
	assert_int_equal(procfs_parse_cgroup("0::", 3, out, &cg, &cglen), -1);
	assert_int_equal(cglen, 0);
	assert_int_equal(procfs_parse_cgroup("\n\n\n", 3, out, NULL, NULL), -1);
	/* A parent's name must be whole: /dockerX is not /docker. */
	n = snprintf(line, sizeof(line), "0::/dockerX/%s", id);
	assert_int_equal(procfs_parse_cgroup(line, (size_t)n, out, NULL, NULL), -1);
}

static void
test_count_args(void **state)
{
	assert_int_equal(procfs_count_args("", 0), 0);
	assert_int_equal(procfs_count_args("a", 1), 1);
	assert_int_equal(procfs_count_args("a\0", 2), 1);
	assert_int_equal(procfs_count_args("a\0b", 3), 2);
	assert_int_equal(procfs_count_args("a\0b\0", 4), 2);
	assert_int_equal(procfs_count_args("\0", 1), 1);		/* one empty arg */
	assert_int_equal(procfs_count_args("\0\0", 2), 2);
	assert_int_equal(procfs_count_args("a\0\0b\0", 5), 3);
}

/* The argv the child runs with; the long one is filled in at run time. */
static char long_arg[LONG_ARG + 1];
static char *child_argv[] = {
	"hids test child", CHILD_FLAG, "has space", "new\nline", "bad\xff\xfe",
	"", long_arg, "tail", NULL,
};
#define CHILD_ARGC 8

/* This binary's path: exec'ing it by name makes its comm "test_procfs". */
static char self_exe[4096];

/* Re-executes this binary with child_argv; returns its pid once it runs main. */
static pid_t
spawn_child(void)
{
	int fds[2];
	char c;
	pid_t pid;
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);

	assert_true(n > 0);
	self_exe[n] = '\0';
	memset(long_arg, 'x', LONG_ARG);
	long_arg[LONG_ARG] = '\0';
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(fds[1], CHILD_READY_FD) == -1)
			_exit(127);
		execv(self_exe, child_argv);
		_exit(127);
	}
	close(fds[1]);
	/* The byte comes from main, so the new argv is in place by then. */
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	int st;
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
}

/* The child's cmdline as the kernel shows it: every arg and its NUL. */
static char *
child_cmdline(size_t *len)
{
	size_t n = 0;
	char *buf;

	for (int i = 0; i < CHILD_ARGC; i++)
		n += strlen(child_argv[i]) + 1;
	buf = malloc(n);
	assert_non_null(buf);
	for (int i = 0, o = 0; i < CHILD_ARGC; i++) {
		size_t l = strlen(child_argv[i]) + 1;
		memcpy(buf + o, child_argv[i], l);
		o += (int)l;
	}
	*len = n;
	return buf;
}

static void
test_read_cmdline_child(void **state)
{
	int procfd = procfs_open_root();
	pid_t pid = spawn_child();
	size_t total;
	char *want = child_cmdline(&total);
	struct process p;

	/* Room for everything. */
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 1 << 20, &p), 0);
	assert_true(p.known & PF_ARGS);
	assert_int_equal(p.args_count, CHILD_ARGC);
	assert_false(p.args_truncated);
	assert_int_equal(p.args_len, total - 1);		/* without the last NUL */
	assert_memory_equal(p.args, want, total - 1);
	assert_int_equal(procfs_count_args(p.args, p.args_len), CHILD_ARGC);
	process_release(&p);

	/* Exactly enough room, last NUL included. */
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, total, &p), 0);
	assert_false(p.args_truncated);
	assert_int_equal(p.args_count, CHILD_ARGC);
	assert_int_equal(p.args_len, total - 1);
	assert_memory_equal(p.args, want, total - 1);
	process_release(&p);

	/* Cut inside the long argument: bytes capped, count still true. */
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 200, &p), 0);
	assert_true(p.args_truncated);
	assert_int_equal(p.args_count, CHILD_ARGC);
	assert_int_equal(p.args_len, 200);
	assert_memory_equal(p.args, want, 200);
	process_release(&p);

	/* Cut right after an argument's NUL. */
	size_t boundary = strlen(child_argv[0]) + strlen(child_argv[1]) + 2;
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, boundary, &p), 0);
	assert_true(p.args_truncated);
	assert_int_equal(p.args_count, CHILD_ARGC);
	assert_int_equal(p.args_len, boundary - 1);
	assert_memory_equal(p.args, want, boundary - 1);
	process_release(&p);

	/* Re-reading into a process that already has args replaces them. */
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 10, &p), 0);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 1 << 20, &p), 0);
	assert_int_equal(p.args_len, total - 1);
	assert_false(p.args_truncated);
	process_release(&p);

	reap(pid);
	free(want);
	close(procfd);
}

/*
 * Past the cmdline cap nothing more is read: the count is of the bytes
 * read (the argument cut through included), marked as a lower bound; at a
 * cap the cmdline just fits in, the count is whole.
 */
static void
test_read_cmdline_cap(void **state)
{
	int procfd = procfs_open_root();
	pid_t pid = spawn_child();
	size_t total, in_long;
	char *want = child_cmdline(&total);
	struct process p;

	(void)state;
	/* The cap ends inside long_arg, the 7th argument. */
	in_long = total - strlen("tail") - 1 - LONG_ARG / 2;
	procfs_set_cmdline_cap(in_long);
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 20, &p), 0);
	assert_true(p.args_count_partial);
	assert_true(p.args_truncated);
	assert_int_equal(p.args_count, CHILD_ARGC - 1);
	assert_int_equal(p.args_len, 20);
	process_release(&p);

	/* The cap below what is kept: the kept bytes are read, the rest probed. */
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, in_long + 100, &p), 0);
	assert_true(p.args_count_partial);
	assert_int_equal(p.args_count, CHILD_ARGC - 1);
	assert_int_equal(p.args_len, in_long + 100);
	process_release(&p);

	/* Everything but the final NUL fits: the count is whole. */
	procfs_set_cmdline_cap(total - 1);
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 20, &p), 0);
	assert_false(p.args_count_partial);
	assert_int_equal(p.args_count, CHILD_ARGC);
	process_release(&p);

	procfs_set_cmdline_cap(PROCFS_CMDLINE_CAP_DEFAULT);
	reap(pid);
	free(want);
	close(procfd);
}

static void
test_snapshot_child(void **state)
{
	int procfd = procfs_open_root();
	pid_t pid = spawn_child();
	struct process p;
	const char *exe = self_exe;
	char cwd[4096];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	process_init(&p);
	unsigned got = procfs_snapshot(procfd, pid, SNAP_EXEC, 4096, &p);
	assert_int_equal(got, SNAP_EXEC);
	assert_int_equal(p.pid, pid);
	assert_string_equal(p.executable, exe);
	assert_false(p.exe_deleted);
	assert_string_equal(p.cwd, cwd);
	assert_int_equal(p.exe_errno, 0);
	assert_int_equal(p.cwd_errno, 0);
	/* The executable's identity, from the exe link itself. */
	struct stat st;
	assert_int_equal(stat(exe, &st), 0);
	assert_true(p.known & PF_EXE_ID);
	assert_int_equal(p.exe_id.ino, st.st_ino);
	assert_int_equal(p.exe_id.dev, st.st_dev);
	assert_int_equal(p.ppid, getpid());
	assert_int_equal(p.ids.ruid, getuid());
	assert_int_equal(p.ids.egid, getegid());
	assert_int_equal(p.args_count, CHILD_ARGC);
	assert_true(p.args_truncated);			/* 4096 < the long arg */
	assert_int_equal(p.args_len, 4096);
	assert_true(p.known & PF_CONTAINER);
	/* comm is the executable's base name, at most 15 bytes. */
	const char *base = strrchr(exe, '/') + 1;
	assert_memory_equal(p.name, base, strlen(p.name));
	assert_true(strlen(p.name) == (strlen(base) < 15 ? strlen(base) : 15));
	process_release(&p);
	reap(pid);
	close(procfd);
}

/* Waits until /proc shows pid as a zombie. */
static void
wait_zombie(int procfd, pid_t pid)
{
	char buf[1024];
	for (int i = 0; i < 5000; i++) {
		int n = procfs_read_file(procfd, pid, "stat", buf, sizeof(buf));
		char *rp = n > 0 ? strrchr(buf, ')') : NULL;
		if (rp && rp[1] == ' ' && rp[2] == 'Z')
			return;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	fail_msg("child %d never became a zombie", (int)pid);
}

static void
test_gone_process(void **state)
{
	int procfd = procfs_open_root();
	struct process p;
	char *s = NULL;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	wait_zombie(procfd, pid);
	/* A zombie has no memory image: no cmdline, no exe; stat is still there. */
	process_init(&p);
	assert_int_equal(procfs_read_cmdline(procfd, pid, 4096, &p), -1);
	assert_int_equal(p.known & PF_ARGS, 0);
	assert_null(p.args);
	assert_int_equal(procfs_read_link(procfd, pid, "exe", &s), -1);
	assert_null(s);
	assert_int_equal(errno, ENOENT);
	unsigned got = procfs_snapshot(procfd, pid, SNAP_EXEC, 4096, &p);
	assert_int_equal(got & (SNAP_CMDLINE | SNAP_EXE | SNAP_CWD), 0);
	assert_true(got & SNAP_STAT);
	/* Why exe and cwd are missing is kept; a zombie has no exe to stat. */
	assert_int_equal(p.exe_errno, ENOENT);
	assert_int_equal(p.cwd_errno, ENOENT);
	assert_false(p.known & PF_EXE_ID);
	assert_int_equal(p.ppid, getpid());
	process_release(&p);

	assert_int_equal(waitpid(pid, NULL, 0), pid);
	process_init(&p);
	assert_int_equal(procfs_snapshot(procfd, pid, SNAP_EXEC, 4096, &p), 0);
	assert_int_equal(p.known, 0);
	process_release(&p);
	close(procfd);
}

/* Runs one fuzz input through all three parsers, as the harness does. */
static void
replay_one(const char *name, const char *buf, size_t len, void *arg)
{
	struct process p;
	char out[65];
	char *exact = malloc(len ? len : 1);	/* no slack after the bytes */

	print_message("replay %s (%zu bytes)\n", name, len);
	assert_non_null(exact);
	memcpy(exact, buf, len);
	process_init(&p);
	if (procfs_parse_stat(exact, len, &p) == 0)
		assert_true(strlen(p.name) <= 16);
	procfs_parse_status(exact, len, &p);
	memset(out, 0, sizeof(out));
	if (procfs_parse_cgroup(exact, len, out, NULL, NULL) == 0)
		assert_int_equal(strlen(out), 64);
	free(exact);
}

static void
test_replay_fuzz_inputs(void **state)
{
	assert_true(unit_for_each_file(HIDS_FUZZ_DIR "/corpus/procfs", replay_one, NULL) > 0);
	unit_for_each_file(HIDS_FUZZ_DIR "/regressions/procfs", replay_one, NULL);
}

/* The child side of spawn_child: signal readiness, then wait to be killed. */
static int
child_main(void)
{
	if (write(CHILD_READY_FD, "r", 1) != 1)
		return 1;
	close(CHILD_READY_FD);
	for (;;)
		pause();
}

/* Parses a spec from list or fails the test. */
static void
env_spec(const char *list, struct procfs_env_spec *spec, size_t value_max)
{
	char err[160];
	assert_int_equal(procfs_env_spec_parse(list, spec, err, sizeof(err)), 0);
	spec->value_max = value_max;
	spec->read_max = 1u << 20;
}

/* environ: the named entries in order, duplicates kept, prefixes, values cut. */
static void
test_environ_pick(void **state)
{
	static const char env[] = "HOME=/root\0LD_PRELOAD=/tmp/a.so\0PATH=/bin\0"
	    "LD_PRELOADX=no\0GLIBC_TUNABLES=glibc.malloc.check=3\0LD_PRELOAD=/tmp/b.so\0"
	    "SSH_CONNECTION=127.0.0.1 5 127.0.0.1 22\0";
	struct procfs_env_spec spec;
	struct process p;
	(void)state;

	process_init(&p);
	env_spec("LD_PRELOAD, GLIBC_TUNABLES SSH_*", &spec, 1024);
	assert_int_equal(procfs_parse_environ(env, sizeof(env) - 1, false, &spec, &p), 4);
	static const char want[] = "LD_PRELOAD=/tmp/a.so\0GLIBC_TUNABLES=glibc.malloc.check=3\0"
	    "LD_PRELOAD=/tmp/b.so\0SSH_CONNECTION=127.0.0.1 5 127.0.0.1 22";
	assert_int_equal(p.env_len, sizeof(want) - 1);
	assert_memory_equal(p.env, want, sizeof(want));
	assert_false(p.env_truncated);
	assert_false(p.env_partial);
	procfs_env_spec_release(&spec);

	/* A value over value_max is cut and marked; a cut read is partial. */
	env_spec("LD_PRELOAD", &spec, 4);
	assert_int_equal(procfs_parse_environ(env, sizeof(env) - 1, true, &spec, &p), 2);
	assert_string_equal(p.env, "LD_PRELOAD=/tmp");
	assert_true(p.env_truncated);
	assert_true(p.env_partial);
	procfs_env_spec_release(&spec);

	/* Nothing named: an empty list; no NUL at the end of the buffer is fine. */
	env_spec("SUDO_USER", &spec, 64);
	assert_int_equal(procfs_parse_environ("SUDO_USER=x", 11, false, &spec, &p), 1);
	assert_string_equal(p.env, "SUDO_USER=x");
	assert_int_equal(procfs_parse_environ("A=1\0\0\0B", 7, false, &spec, &p), 0);
	assert_int_equal(p.env_len, 0);
	procfs_env_spec_release(&spec);
	process_release(&p);
}

/* environ: a hostile environment cannot grow the result past its bounds. */
static void
test_environ_bounds(void **state)
{
	struct procfs_env_spec spec;
	struct process p;
	size_t len = 0;
	char *buf = malloc(1u << 20);
	(void)state;

	assert_non_null(buf);
	while (len + 40 < (1u << 20)) {
		memcpy(buf + len, "LD_PRELOAD=xxxxxxxxxxxxxxxxxxxxxxxxxxxx", 40);
		len += 40;
		buf[len++] = '\0';
	}
	process_init(&p);
	env_spec("LD_PRELOAD", &spec, 8);
	assert_int_equal(procfs_parse_environ(buf, len, false, &spec, &p), PROCFS_ENV_MAX_ENTRIES);
	assert_true(p.env_truncated);
	assert_int_equal(p.env_len, PROCFS_ENV_MAX_ENTRIES * (11 + 8 + 1) - 1);
	procfs_env_spec_release(&spec);
	process_release(&p);
	free(buf);
}

/* env_vars lists: bad names are refused, with a reason. */
static void
test_environ_spec(void **state)
{
	struct procfs_env_spec spec;
	char err[160];
	(void)state;

	assert_int_equal(procfs_env_spec_parse("", &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.nnames, 0);
	assert_int_equal(procfs_env_spec_parse("A=B", &spec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "A=B"));
	assert_int_equal(procfs_env_spec_parse("A*B", &spec, err, sizeof(err)), -1);
	assert_int_equal(procfs_env_spec_parse("LD_*,X", &spec, err, sizeof(err)), 0);
	assert_int_equal(spec.nnames, 2);
	assert_true(spec.prefix[0]);
	assert_string_equal(spec.names[0], "LD_");
	procfs_env_spec_release(&spec);
}

/* environ of a real child: what it was given, read through /proc. */
static void
test_read_environ_self(void **state)
{
	struct procfs_env_spec spec;
	struct process p;
	int procfd = procfs_open_root();
	(void)state;

	setenv("HIDS_UNIT_ENV", "va\xff" "lue", 1);
	process_init(&p);
	env_spec("HIDS_UNIT_*", &spec, 64);
	/* Our own environ is the one we started with: a child with the variable shows it. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = { "/bin/sleep", "2", NULL };
		execv(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 100; i++) {
		usleep(10000);
		if (procfs_read_environ(procfd, pid, &spec, &p) == 0 && p.env_len > 0)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_string_equal(p.env, "HIDS_UNIT_ENV=va\xff" "lue");
	assert_int_equal(procfs_read_environ(procfd, pid, &spec, &p), -1);
	procfs_env_spec_release(&spec);
	process_release(&p);
	close(procfd);
	procfs_release_scratch();
	unsetenv("HIDS_UNIT_ENV");
}

/* security.capability values of each revision parse; anything else is refused. */
static void
test_fcaps(void **state)
{
	/* Revision 2, effective: permitted CAP_NET_BIND_SERVICE (10) and CAP_NET_RAW (13), bit 40 high. */
	static const unsigned char v2[20] = { 0x01, 0, 0, 0x02, 0x00, 0x24, 0, 0, 0, 0, 0, 0,
		0x00, 0x01, 0, 0, 0, 0, 0, 0 };
	static const unsigned char v1[12] = { 0x00, 0, 0, 0x01, 0x01, 0, 0, 0, 0x02, 0, 0, 0 };
	static const unsigned char v3[24] = { 0x00, 0, 0, 0x03, 0, 0, 0, 0, 0x80, 0, 0, 0 };
	struct process p;
	(void)state;

	process_init(&p);
	assert_int_equal(procfs_parse_fcaps(v2, sizeof(v2), &p), 0);
	assert_true(p.exe_id.fcaps && p.exe_id.fcaps_effective);
	assert_int_equal(p.exe_id.fcaps_permitted, (1ull << 10) | (1ull << 13) | (1ull << 40));
	assert_int_equal(p.exe_id.fcaps_inheritable, 0);
	assert_int_equal(procfs_parse_fcaps(v1, sizeof(v1), &p), 0);
	assert_false(p.exe_id.fcaps_effective);
	assert_int_equal(p.exe_id.fcaps_permitted, 1);
	assert_int_equal(p.exe_id.fcaps_inheritable, 2);
	assert_int_equal(procfs_parse_fcaps(v3, sizeof(v3), &p), 0);
	assert_int_equal(p.exe_id.fcaps_inheritable, 0x80);
	assert_int_equal(procfs_parse_fcaps(v2, 12, &p), -1);
	assert_int_equal(procfs_parse_fcaps(v1, 3, &p), -1);
	assert_int_equal(procfs_parse_fcaps(v3, 20, &p), -1);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_runtime),
		cmocka_unit_test(test_stat_plain),
		cmocka_unit_test(test_stat_odd_comms),
		cmocka_unit_test(test_stat_minimal_fields),
		cmocka_unit_test(test_stat_rejects),
		cmocka_unit_test(test_stat_self),
		cmocka_unit_test(test_status_fields),
		cmocka_unit_test(test_status_variants),
		cmocka_unit_test(test_status_rejects),
		cmocka_unit_test(test_status_self),
		cmocka_unit_test(test_cgroup_fixtures),
		cmocka_unit_test(test_cgroup_bounds),
		cmocka_unit_test(test_count_args),
		cmocka_unit_test(test_read_cmdline_child),
		cmocka_unit_test(test_read_cmdline_cap),
		cmocka_unit_test(test_snapshot_child),
		cmocka_unit_test(test_gone_process),
		cmocka_unit_test(test_replay_fuzz_inputs),
		cmocka_unit_test(test_environ_pick),
		cmocka_unit_test(test_environ_bounds),
		cmocka_unit_test(test_environ_spec),
		cmocka_unit_test(test_read_environ_self),
		cmocka_unit_test(test_fcaps),
	};

	if (argc > 1 && strcmp(argv[1], CHILD_FLAG) == 0)
		return child_main();
	return unit_main(argc, argv, "procfs", tests, UNIT_COUNT(tests), NULL, 0);
}
