/*
 * privdrop.c: capability drop (raw capset and PR_CAPBSET_DROP: two
 * syscalls are not worth a library) and the systemd readiness datagram.
 *
 * Kept, and why:
 *  - CAP_SYS_PTRACE: /proc/PID/exe and cwd of processes of other users and
 *    of non-dumpable ones need ptrace read access.
 *  - CAP_SYS_NICE: the capture thread returns to SCHED_FIFO after its CPU
 *    guard demoted it.
 *  - CAP_NET_ADMIN: kernels before 6.6 check it when we unsubscribe; an
 *    unsubscribe that fails leaves the kernel building messages for nobody.
 *  - CAP_DAC_READ_SEARCH: re-reading certificates and the config on SIGHUP
 *    when an operator made them readable by a group only.
 * Must run before other threads start: capabilities are per thread.
 *
 * Started as root outside the unit, the agent also stops being uid 0: it
 * switches to [agent] user (hids-agent by default, when that user exists)
 * with setgroups/setresgid/setresuid, keeping its permitted set through
 * the switch with PR_SET_KEEPCAPS and restoring the kept capabilities to
 * the effective set with capset afterwards.
 *
 * Nothing here assumes uid 0. The packaged unit starts the agent as the
 * hids-agent user with the first three as ambient capabilities; systemd
 * must then put them in the inheritable set too, and its seccomp filter
 * denies capset. An inheritable set within the kept one is therefore left
 * as it is: with the ambient set cleared and no_new_privs set, it gives
 * nothing exec'd more than the agent holds, and the agent execs nothing.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define CAPS_KEPT ((1ull << CAP_SYS_PTRACE) | (1ull << CAP_SYS_NICE) | \
    (1ull << CAP_NET_ADMIN) | (1ull << CAP_DAC_READ_SEARCH))

/*
 * Makes the process not dumpable: no core file (it would hold the TLS
 * client key and the events in memory) and no ptrace or /proc/PID/mem
 * access by processes of the agent's own user. A change of uid resets it,
 * so this runs again after any user switch.
 */
int
privdrop_no_dump(void)
{
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * Picks the user to become when started as root: the configured one, which
 * must exist, else hids-agent if it exists. u->set stays false when there
 * is none, or the agent is not root, or the name is empty (stay root).
 */
int
privdrop_pick_user(const char *configured, struct privdrop_user *u, char *err, size_t errlen)
{
	const char *name = configured ? configured : PRIVDROP_DEFAULT_USER;
	struct passwd *pw;

	memset(u, 0, sizeof(*u));
	if (geteuid() != 0 || name[0] == '\0')
		return 0;
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		if (configured == NULL)
			return 0;
		snprintf(err, errlen, "[agent] user: no user '%s'%s%s (set it to an existing "
		    "user, or empty to stay root)", name, errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0 || strlen(name) >= sizeof(u->name))
		return 0;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	memcpy(u->name, name, strlen(name) + 1);
	u->set = true;
	return 0;
}

/* Becomes u (groups, then gids, then uids), keeping the permitted capabilities. */
static int
privdrop_switch(const struct privdrop_user *u, char *err, size_t errlen)
{
	const char *what = NULL;

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1)
		what = "prctl(PR_SET_KEEPCAPS, 1)";
	else if (initgroups(u->name, u->gid) == -1)
		what = "initgroups";
	else if (setresgid(u->gid, u->gid, u->gid) == -1)
		what = "setresgid";
	else if (setresuid(u->uid, u->uid, u->uid) == -1)
		what = "setresuid";
	else if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		what = "prctl(PR_SET_KEEPCAPS, 0)";
	if (what) {
		snprintf(err, errlen, "cannot switch to user %s (uid %u): %s: %s", u->name,
		    (unsigned)u->uid, what, strerror(errno));
		return -1;
	}
	return 0;
}

/* Returns the capability mask the agent keeps. */
uint64_t
privdrop_kept_mask(void)
{
	return CAPS_KEPT;
}

/*
 * Drops every other capability from all sets, becomes user u when u->set
 * (keeping the capabilities), and sets no_new_privs.
 */
int
privdrop_apply(const struct privdrop_user *u, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int last_cap = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	char line[16];

	if (f) {
		if (fgets(line, sizeof(line), f)) {
			char *end;
			long v = strtol(line, &end, 10);
			if (end != line && v > 0 && v < 64)
				last_cap = (int)v;
		}
		fclose(f);
	}
	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	for (int c = 0; c <= last_cap; c++) {
		if ((CAPS_KEPT >> c) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL) {
			if (errno == EPERM)
				break;	/* not ours to drop (no CAP_SETPCAP): the sets below still are */
			snprintf(err, errlen, "cannot drop capability %d from the bounding set: %s",
			    c, strerror(errno));
			return -1;
		}
	}
	bool switched = u && u->set;
	if (switched && privdrop_switch(u, err, errlen) == -1)
		return -1;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1) {
		snprintf(err, errlen, "capget: %s", strerror(errno));
		return -1;
	}
	/* After setresuid the effective set is empty; the permitted one was kept. */
	bool change = switched;
	for (int i = 0; i < 2; i++) {
		uint32_t keep = (uint32_t)(CAPS_KEPT >> (32 * i));
		change |= (data[i].effective & ~keep) || (data[i].permitted & ~keep) ||
		    (data[i].inheritable & ~keep);
	}
	/*
	 * Under the systemd unit the sets are already right (as root, or as the
	 * hids-agent user with ambient capabilities): no capset, which its
	 * filter denies. Otherwise (root outside systemd) the inheritable set
	 * is emptied along with the rest.
	 */
	for (int i = 0; change && i < 2; i++) {
		uint32_t keep = (uint32_t)(CAPS_KEPT >> (32 * i));
		data[i].effective = (switched ? data[i].permitted : data[i].effective) & keep;
		data[i].permitted &= keep;
		data[i].inheritable = 0;
	}
	if (change && syscall(SYS_capset, &hdr, data) == -1) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	/* A prctl, not capset: allowed under the unit's filter. Before Linux 4.3 there is no ambient set. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 && errno != EINVAL) {
		snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (privdrop_no_dump() == -1) {
		snprintf(err, errlen, "cannot make the process not dumpable: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Returns the calling thread's effective capabilities (0 if unknown). */
uint64_t
privdrop_effective(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return 0;
	return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
}

/* Sends a state string to systemd's notify socket, if there is one. */
int
sdnotify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	socklen_t salen;
	int fd, rc;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return 0;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0 ? -1 : 0;
	close(fd);
	return rc;
}
