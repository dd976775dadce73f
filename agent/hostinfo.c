/*
 * hostinfo.c: fills struct host_os from the first readable os-release file
 * (/etc/os-release, else /usr/lib/os-release, as os-release(5) says) and
 * uname(2). Called at start and on SIGHUP, so a distribution upgrade
 * shows in host.os after a reload, without a restart. Not for parsing:
 * that is proto/osrelease.c.
 */
#include "hostinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common.h"

static const char *const default_paths[] = { "/etc/os-release", "/usr/lib/os-release", NULL };

/* Reads at most OSRELEASE_MAX_BYTES of path into buf; returns the length, or -1 with errno set. */
static ssize_t
read_capped(const char *path, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	size_t len = 0;

	if (fd == -1)
		return -1;
	while (len < OSRELEASE_MAX_BYTES) {
		ssize_t n = read(fd, buf + len, OSRELEASE_MAX_BYTES - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	return (ssize_t)len;
}

/*
 * Replaces os with what this host says now. paths (NULL-terminated, NULL
 * for the default pair) are tried in order; the first that opens is the
 * one read. Problems are logged and leave the fields unknown.
 */
void
hostinfo_read(struct host_os *os, const char *const *paths)
{
	char *buf = xmalloc(OSRELEASE_MAX_BYTES);
	struct utsname u;
	const char *used = NULL;
	ssize_t len = -1;
	int bad = 0;

	host_os_release(os);
	for (const char *const *p = paths ? paths : default_paths; *p; p++) {
		if ((len = read_capped(*p, buf)) != -1) {
			used = *p;
			break;
		}
		if (errno != ENOENT)
			log_warn("host.os: %s", *p);
	}
	if (used == NULL)
		log_warnx("host.os: no os-release file; host.os has only its type");
	else if (osrelease_parse(buf, (size_t)len, os, &bad) == 0)
		log_warnx("host.os: %s names no operating system", used);
	if (bad > 0)
		log_warnx("host.os: %s: %d malformed lines skipped", used, bad);
	free(buf);
	if (uname(&u) == -1) {
		log_warn("host.os: uname");
		return;
	}
	host_os_set_uname(os, u.release, u.version, u.machine);
}
