/*
 * hostinfo.h: reads what host.os.* and host.architecture say about this
 * host: os-release(5) and uname(2). The parsing is proto/osrelease.c.
 */
#ifndef HIDS_HOSTINFO_H
#define HIDS_HOSTINFO_H

#include "osrelease.h"

/* hostinfo.c */
void hostinfo_read(struct host_os *os, const char *const *paths);

#endif
