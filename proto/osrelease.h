/*
 * osrelease.h: the host's operating system as ECS host.os.* and
 * host.architecture describe it, parsed from the text of os-release(5)
 * and the fields of uname(2). Pure: the agent reads the file and calls
 * uname; nothing here does I/O.
 */
#ifndef HIDS_OSRELEASE_H
#define HIDS_OSRELEASE_H

#include <stddef.h>

#define OSRELEASE_MAX_BYTES 65536	/* bytes of an os-release file read */
#define OSRELEASE_VALUE_MAX 256		/* bytes kept of one value, cut on a character */

/* host.os.* and host.architecture; each string owned, NULL when unknown. */
struct host_os {
	char *family;		/* ID_LIKE's first word, else ID */
	char *name;		/* NAME */
	char *version;		/* VERSION_ID, else VERSION */
	char *platform;		/* ID */
	char *full;		/* PRETTY_NAME */
	char *kernel;		/* uname release and version */
	char *architecture;	/* uname machine */
};

/* osrelease.c */
void host_os_init(struct host_os *os);
void host_os_release(struct host_os *os);
int osrelease_parse(const char *buf, size_t len, struct host_os *os, int *bad_lines);
void host_os_set_uname(struct host_os *os, const char *release, const char *version,
    const char *machine);
void host_os_copy(struct host_os *dst, const struct host_os *src);

#endif
