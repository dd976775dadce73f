/*
 * procfs.h: reading and parsing /proc/PID files. The parse_* functions are
 * pure (bytes in, fields out) so they can be unit-tested and fuzzed; the
 * read_* functions do one open+read+close each, relative to a /proc fd.
 */
#ifndef HIDS_PROCFS_H
#define HIDS_PROCFS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* What procfs_snapshot reads. */
#define SNAP_CMDLINE (1u << 0)
#define SNAP_EXE (1u << 1)
#define SNAP_CWD (1u << 2)
#define SNAP_STAT (1u << 3)
#define SNAP_STATUS (1u << 4)
#define SNAP_CGROUP (1u << 5)
#define SNAP_EXEC (SNAP_CMDLINE | SNAP_EXE | SNAP_CWD | SNAP_STAT | SNAP_STATUS | SNAP_CGROUP)

#define PROCFS_CMDLINE_CAP_DEFAULT (256u << 10)	/* cmdline bytes read per exec, kept or counted */
#define PROCFS_COUNT_CHUNK (64u << 10)	/* one read while counting past max_args */

/* procfs.c */
int procfs_parse_stat(const char *buf, size_t len, struct process *p);
int procfs_parse_status(const char *buf, size_t len, struct process *p);
int procfs_parse_cgroup(const char *buf, size_t len, char out[65], const char **path,
    size_t *path_len);
uint32_t procfs_count_args(const char *buf, size_t len);
int procfs_open_root(void);
int procfs_read_file(int procfd, int pid, const char *name, char *buf, size_t bufsize);
void procfs_release_scratch(void);
void procfs_set_cmdline_cap(size_t bytes);
int procfs_read_cmdline(int procfd, int pid, size_t max_bytes, struct process *p);
int procfs_read_link(int procfd, int pid, const char *name, char **out);
unsigned procfs_snapshot(int procfd, int pid, unsigned what, size_t max_args,
    struct process *p);

#endif
