/*
 * deny_syscalls.c: runs a program with some system calls failing with
 * EPERM, the way the unit's SystemCallFilter= with SystemCallErrorNumber=EPERM
 * makes them fail, so the live tests can run the agent under the part of
 * the unit's seccomp filter that changes its behaviour (capset) without
 * systemd. Sets no_new_privs first, as NoNewPrivileges=yes does and as an
 * unprivileged filter needs.
 *
 *   deny_syscalls NAME[,NAME...] PROGRAM [ARG...]
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define NATIVE_ARCH AUDIT_ARCH_I386
#else
#error "deny_syscalls: add this architecture's AUDIT_ARCH_ value"
#endif

static const struct {
	const char *name;
	long nr;
} known[] = {
	{ "capset", SYS_capset },
	{ "ptrace", SYS_ptrace },
	{ "process_vm_readv", SYS_process_vm_readv },
	{ "process_vm_writev", SYS_process_vm_writev },
};

#define MAX_DENY (sizeof(known) / sizeof(known[0]))

int
main(int argc, char **argv)
{
	struct sock_filter f[4 + 2 * MAX_DENY + 1];
	struct sock_fprog prog;
	size_t n = 0, ndeny = 0;
	long deny[MAX_DENY];
	char *list, *save = NULL;

	if (argc < 3) {
		fprintf(stderr, "usage: deny_syscalls NAME[,NAME...] PROGRAM [ARG...]\n");
		return 2;
	}
	list = strdup(argv[1]);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < MAX_DENY && strcmp(known[i].name, t) != 0; i++)
			;
		if (i == MAX_DENY || ndeny == MAX_DENY) {
			fprintf(stderr, "deny_syscalls: unknown or repeated system call '%s'\n", t);
			return 2;
		}
		deny[ndeny++] = known[i].nr;
	}
	free(list);

	/* Another architecture's calls pass: the agent makes none. */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < ndeny; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
		    (unsigned)deny[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog.len = (unsigned short)n;
	prog.filter = f;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		perror("deny_syscalls: PR_SET_NO_NEW_PRIVS");
		return 1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == -1) {
		perror("deny_syscalls: PR_SET_SECCOMP");
		return 1;
	}
	execv(argv[2], argv + 2);
	fprintf(stderr, "deny_syscalls: cannot run %s: %s\n", argv[2], strerror(errno));
	return 127;
}
